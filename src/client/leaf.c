/*
 * leaf.c — the RFC 6962 precert_entry a CTng certificate was logged under
 * (docs/cert-extension.md: the TBSCertificate without the CTng extension,
 * plus the issuer key hash), computed by editing the certificate's DER in
 * place instead of decoding and re-encoding the whole certificate. This is
 * what makes offline validation cheap; anything unusual falls back to the
 * cert module's ctng_ct_entry_from_ctng_cert, and the unit tests check that
 * both give the same bytes.
 */
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "ctng/cert.h"

/* One DER TLV header at p (n bytes available): single-byte tag, definite
 * length (up to 3 length bytes). 0 and *hl (header bytes) / *cl (content
 * bytes), or -1. */
static int tlv(const uint8_t *p, size_t n, uint8_t *tag, size_t *hl, size_t *cl)
{
	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = p[0];
	size_t len, h;
	if (p[1] < 0x80) {
		len = p[1];
		h = 2;
	} else {
		size_t k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		h = 2 + k;
	}
	if (len > n - h)
		return -1;
	*hl = h;
	*cl = len;
	return 0;
}

/* Appends a DER header (tag, length) to b. */
static int put_hdr(ctng_buf *b, uint8_t tag, size_t len)
{
	int rc = ctng_buf_append_u8(b, tag);
	if (len < 0x80)
		return rc ? rc : ctng_buf_append_u8(b, (uint8_t)len);
	if (len < 0x100)
		return rc ? rc
		          : (ctng_buf_append_u8(b, 0x81) || ctng_buf_append_u8(b, (uint8_t)len));
	if (len < 0x10000)
		return rc ? rc
		          : (ctng_buf_append_u8(b, 0x82) ||
		             ctng_buf_append_u16be(b, (uint16_t)len));
	return rc ? rc : (ctng_buf_append_u8(b, 0x83) || ctng_buf_append_u24be(b, (uint32_t)len));
}

static size_t hdr_len(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
}

/* The DER content bytes of the CTng extension OID. */
static const uint8_t *ext_oid(size_t *len)
{
	static uint8_t buf[32];
	static size_t n;
	if (!n) {
		ASN1_OBJECT *o = OBJ_txt2obj(CTNG_CERT_EXT_OID, 1);
		int l = o ? OBJ_length(o) : 0;
		if (l > 0 && (size_t)l <= sizeof(buf)) {
			memcpy(buf, OBJ_get0_data(o), (size_t)l);
			n = (size_t)l;
		}
		ASN1_OBJECT_free(o);
	}
	*len = n;
	return n ? buf : NULL;
}

/* Fast path: 0 and the TBS without the CTng extension in out, or -1 when the
 * certificate is not in the expected shape (then the caller falls back). */
static int fast_tbs(const uint8_t *der, size_t len, ctng_buf *out)
{
	size_t oid_len;
	const uint8_t *oid = ext_oid(&oid_len);
	uint8_t tag;
	size_t hl, cl;
	if (!oid || tlv(der, len, &tag, &hl, &cl) || tag != 0x30 || hl + cl != len)
		return -1;
	const uint8_t *tbs = der + hl;
	size_t tbs_avail = cl, thl, tcl;
	if (tlv(tbs, tbs_avail, &tag, &thl, &tcl) || tag != 0x30)
		return -1;
	const uint8_t *p = tbs + thl, *end = p + tcl;
	const uint8_t *exts = NULL;
	size_t ehl = 0, ecl = 0;
	while (p < end) {
		size_t h, c;
		if (tlv(p, (size_t)(end - p), &tag, &h, &c))
			return -1;
		if (tag == 0xa3) {
			if (p + h + c != end)
				return -1; /* extensions must be last */
			exts = p;
			ehl = h;
			ecl = c;
			break;
		}
		p += h + c;
	}
	if (!exts)
		return -1;
	/* [3] { SEQUENCE OF Extension } */
	const uint8_t *seq = exts + ehl;
	size_t shl, scl;
	if (tlv(seq, ecl, &tag, &shl, &scl) || tag != 0x30 || shl + scl != ecl)
		return -1;
	const uint8_t *q = seq + shl, *qend = q + scl, *hit = NULL;
	size_t hit_len = 0;
	while (q < qend) {
		size_t h, c, oh, oc;
		if (tlv(q, (size_t)(qend - q), &tag, &h, &c) || tag != 0x30)
			return -1;
		if (tlv(q + h, c, &tag, &oh, &oc) || tag != 0x06)
			return -1;
		if (oc == oid_len && memcmp(q + h + oh, oid, oid_len) == 0) {
			if (hit)
				return -1; /* twice */
			hit = q;
			hit_len = h + c;
		}
		q += h + c;
	}
	if (!hit || hit_len == scl)
		return -1; /* absent, or the only extension: let the slow path decide */
	size_t new_scl = scl - hit_len;
	size_t new_ecl = hdr_len(new_scl) + new_scl;
	size_t before = (size_t)(exts - (tbs + thl));
	size_t new_tcl = before + hdr_len(new_ecl) + new_ecl;
	if (new_tcl >= (1u << 24))
		return -1;
	if (put_hdr(out, 0x30, new_tcl) || ctng_buf_append(out, tbs + thl, before) ||
	    put_hdr(out, 0xa3, new_ecl) || put_hdr(out, 0x30, new_scl) ||
	    ctng_buf_append(out, seq + shl, (size_t)(hit - (seq + shl))) ||
	    ctng_buf_append(out, hit + hit_len, (size_t)(qend - (hit + hit_len))))
		return -1;
	return 0;
}

int client_leaf_entry(X509 *cert, X509 *issuer, const uint8_t *issuer_key_hash, ctng_ct_entry *out,
                      ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	ctng_buf b = {0};
	if (n > 0 && fast_tbs(der, (size_t)n, &b) == 0 && b.len > 0) {
		OPENSSL_free(der);
		int rc = 0;
		if (issuer_key_hash)
			memcpy(out->issuer_key_hash, issuer_key_hash, 32);
		else
			rc = ctng_cert_spki_hash(issuer, out->issuer_key_hash, err);
		if (rc) {
			ctng_buf_free(&b);
			return rc;
		}
		out->type = CTNG_CT_PRECERT_ENTRY;
		out->der = ctng_buf_detach(&b, &out->der_len);
		return 0;
	}
	OPENSSL_free(der);
	ctng_buf_free(&b);
	return ctng_ct_entry_from_ctng_cert(cert, issuer, out, err);
}
