/*
 * ctleaf.c — RFC 6962 log entries: the x509_entry / precert_entry of a
 * (pre)certificate (TBS re-encoded without the poison or CTng extension),
 * the MerkleTreeLeaf and SCT signed bytes, and a strict leaf decoder.
 */
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"
#include "ctng/merkle.h"

#define U24_MAX 0xffffffu

void ctng_ct_entry_clear(ctng_ct_entry *e)
{
	if (!e)
		return;
	free(e->der);
	memset(e, 0, sizeof(*e));
}

int ctng_ct_entry_x509(const uint8_t *cert_der, size_t len, ctng_ct_entry *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	X509 *x = NULL;
	int rc = ctng_cert_from_der(cert_der, len, &x, err);
	if (rc)
		return rc;
	bool pre = ctng_cert_is_precert(x);
	X509_free(x);
	if (pre)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "certificate: a precertificate cannot be an x509_entry");
	out->der = malloc(len);
	if (!out->der)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	memcpy(out->der, cert_der, len);
	out->der_len = len;
	out->type = CTNG_CT_X509_ENTRY;
	return 0;
}

/* The TBS of c re-encoded without the one extension `oid` (which must be
 * present once with the given criticality; `absent_oid` must not be present).
 * If `null_value`, the extension's value must be ASN.1 NULL (the poison). */
static int tbs_without(const X509 *c, const char *oid, int critical, bool null_value,
                       const char *absent_oid, uint8_t **der, size_t *len, ctng_err *err)
{
	*der = NULL;
	*len = 0;
	int loc, rc;
	if ((rc = cert_find_ext(c, oid, &loc, err)))
		return rc;
	int other;
	rc = cert_find_ext(c, absent_oid, &other, NULL);
	if (rc != CTNG_ENOTFOUND)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: has both %s and %s", oid,
		                    absent_oid);
	X509_EXTENSION *ext = X509_get_ext(c, loc);
	if (X509_EXTENSION_get_critical(ext) != critical)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: extension %s must be %s", oid,
		                    critical ? "critical" : "non-critical");
	if (null_value) {
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
		if (ASN1_STRING_length(v) != 2 || memcmp(ASN1_STRING_get0_data(v), "\x05\x00", 2))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "certificate: poison extension value must be NULL");
	}
	X509 *d = X509_dup(c);
	if (!d)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	X509_EXTENSION_free(X509_delete_ext(d, loc));
	unsigned char *p = NULL;
	int n = i2d_re_X509_tbs(d, &p);
	X509_free(d);
	if (n <= 0 || (size_t)n > U24_MAX) {
		OPENSSL_free(p);
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "certificate: cannot re-encode the TBS");
	}
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(p);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

int ctng_ct_entry_precert_x509(const X509 *precert, const X509 *issuer, ctng_ct_entry *out,
                               ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	int rc = ctng_cert_spki_hash(issuer, out->issuer_key_hash, err);
	if (!rc)
		rc = tbs_without(precert, CTNG_CT_POISON_OID, 1, true, CTNG_CERT_EXT_OID, &out->der,
		                 &out->der_len, err);
	if (rc) {
		if (rc == CTNG_ENOTFOUND)
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "precertificate: no CT poison extension");
		ctng_ct_entry_clear(out);
		return rc;
	}
	out->type = CTNG_CT_PRECERT_ENTRY;
	return 0;
}

int ctng_ct_entry_precert(const uint8_t *precert_der, size_t len, const uint8_t *issuer_der,
                          size_t issuer_len, ctng_ct_entry *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	X509 *pre = NULL, *iss = NULL;
	int rc = ctng_cert_from_der(precert_der, len, &pre, err);
	if (rc)
		return ctng_err_wrap(err, "precertificate");
	rc = ctng_cert_from_der(issuer_der, issuer_len, &iss, err);
	if (rc)
		ctng_err_wrap(err, "issuer");
	else
		rc = ctng_ct_entry_precert_x509(pre, iss, out, err);
	X509_free(pre);
	X509_free(iss);
	return rc;
}

int ctng_ct_entry_from_ctng_cert(const X509 *cert, const X509 *issuer, ctng_ct_entry *out,
                                 ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	int rc = ctng_cert_spki_hash(issuer, out->issuer_key_hash, err);
	if (!rc)
		rc = tbs_without(cert, CTNG_CERT_EXT_OID, 0, false, CTNG_CT_POISON_OID, &out->der,
		                 &out->der_len, err);
	if (rc) {
		ctng_ct_entry_clear(out);
		return rc;
	}
	out->type = CTNG_CT_PRECERT_ENTRY;
	return 0;
}

static int append_entry(const ctng_ct_entry *e, uint64_t ts, const uint8_t *ct_exts,
                        size_t ct_exts_len, ctng_buf *out, ctng_err *err)
{
	if (e->type != CTNG_CT_X509_ENTRY && e->type != CTNG_CT_PRECERT_ENTRY)
		return ctng_err_set(err, CTNG_EINVAL, "entry: unknown type");
	if (!e->der || e->der_len == 0 || e->der_len > U24_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "entry: DER length out of range");
	if (ct_exts_len > 0xffff || (ct_exts_len && !ct_exts))
		return ctng_err_set(err, CTNG_EINVAL, "entry: extensions longer than 65535 bytes");
	int r = ctng_buf_append_u64be(out, ts);
	r = r ? r : ctng_buf_append_u16be(out, (uint16_t)e->type);
	if (e->type == CTNG_CT_PRECERT_ENTRY)
		r = r ? r : ctng_buf_append(out, e->issuer_key_hash, 32);
	r = r ? r : ctng_buf_append_u24be(out, (uint32_t)e->der_len);
	r = r ? r : ctng_buf_append(out, e->der, e->der_len);
	r = r ? r : ctng_buf_append_u16be(out, (uint16_t)ct_exts_len);
	if (ct_exts_len)
		r = r ? r : ctng_buf_append(out, ct_exts, ct_exts_len);
	return r ? ctng_err_set(err, CTNG_ENOMEM, "out of memory") : 0;
}

int ctng_ct_leaf_encode(const ctng_ct_entry *e, uint64_t timestamp_ms, const uint8_t *ct_exts,
                        size_t ct_exts_len, ctng_buf *out, ctng_err *err)
{
	/* version v1 (0), leaf_type timestamped_entry (0) */
	if (ctng_buf_append_u8(out, 0) || ctng_buf_append_u8(out, 0))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return append_entry(e, timestamp_ms, ct_exts, ct_exts_len, out, err);
}

int ctng_ct_leaf_hash(const ctng_ct_entry *e, uint64_t timestamp_ms, const uint8_t *ct_exts,
                      size_t ct_exts_len, uint8_t out[32], ctng_err *err)
{
	ctng_buf b = {0};
	int rc = ctng_ct_leaf_encode(e, timestamp_ms, ct_exts, ct_exts_len, &b, err);
	if (!rc && (rc = ctng_merkle_leaf_hash(out, b.data, b.len)))
		ctng_err_set(err, rc, "SHA-256 failed");
	ctng_buf_free(&b);
	return rc;
}

int ctng_ct_sct_signed_bytes(const ctng_ct_entry *e, uint64_t timestamp_ms, const uint8_t *ct_exts,
                             size_t ct_exts_len, ctng_buf *out, ctng_err *err)
{
	/* sct_version v1 (0), signature_type certificate_timestamp (0) */
	if (ctng_buf_append_u8(out, 0) || ctng_buf_append_u8(out, 0))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return append_entry(e, timestamp_ms, ct_exts, ct_exts_len, out, err);
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int ctng_ct_leaf_decode(const uint8_t *leaf, size_t len, ctng_ct_entry *out, uint64_t *timestamp_ms,
                        uint8_t **ct_exts, size_t *ct_exts_len, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	if (ct_exts)
		*ct_exts = NULL;
	if (ct_exts_len)
		*ct_exts_len = 0;
	size_t o = 0;
#define NEED(n, what)                                                                              \
	do {                                                                                       \
		if (len - o < (size_t)(n))                                                         \
			return ctng_err_set(err, CTNG_EINVAL, "leaf: truncated %s", what);         \
	} while (0)
	NEED(2 + 8 + 2, "header");
	if (leaf[0] != 0)
		return ctng_err_set(err, CTNG_EINVAL, "leaf: version %u is not v1", leaf[0]);
	if (leaf[1] != 0)
		return ctng_err_set(err, CTNG_EINVAL, "leaf: leaf_type %u is not timestamped_entry",
		                    leaf[1]);
	uint64_t ts = get_be(leaf + 2, 8);
	uint64_t type = get_be(leaf + 10, 2);
	o = 12;
	if (type != CTNG_CT_X509_ENTRY && type != CTNG_CT_PRECERT_ENTRY)
		return ctng_err_set(err, CTNG_EINVAL, "leaf: entry_type %u unknown",
		                    (unsigned)type);
	uint8_t ikh[32] = {0};
	if (type == CTNG_CT_PRECERT_ENTRY) {
		NEED(32, "issuer_key_hash");
		memcpy(ikh, leaf + o, 32);
		o += 32;
	}
	NEED(3, "entry length");
	size_t dl = (size_t)get_be(leaf + o, 3);
	o += 3;
	if (dl == 0)
		return ctng_err_set(err, CTNG_EINVAL, "leaf: empty entry");
	NEED(dl, "entry");
	const uint8_t *d = leaf + o;
	o += dl;
	NEED(2, "extensions length");
	size_t el = (size_t)get_be(leaf + o, 2);
	o += 2;
	NEED(el, "extensions");
	const uint8_t *ex = leaf + o;
	o += el;
	if (o != len)
		return ctng_err_set(err, CTNG_EINVAL, "leaf: %zu trailing bytes", len - o);
#undef NEED
	uint8_t *dcopy = malloc(dl);
	uint8_t *ecopy = (el && ct_exts) ? malloc(el) : NULL;
	if (!dcopy || (el && ct_exts && !ecopy)) {
		free(dcopy);
		free(ecopy);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	memcpy(dcopy, d, dl);
	if (ecopy)
		memcpy(ecopy, ex, el);
	out->type = (ctng_ct_entry_type)type;
	memcpy(out->issuer_key_hash, ikh, 32);
	out->der = dcopy;
	out->der_len = dl;
	if (timestamp_ms)
		*timestamp_ms = ts;
	if (ct_exts)
		*ct_exts = ecopy;
	if (ct_exts_len)
		*ct_exts_len = el;
	return 0;
}
