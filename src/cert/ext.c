/*
 * ext.c — the CTng certificate extension (docs/cert-extension.md): DER
 * encoder and a hand-written strict DER decoder of CTngProofs, plus the
 * ownership helpers of ctng_cert_proofs.
 */
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"

enum { T_INT = 0x02, T_OCT = 0x04, T_UTF8 = 0x0c, T_SEQ = 0x30 };

/* ------------------------------------------------------------- ownership */

void ctng_logger_proof_clear(ctng_logger_proof *p)
{
	if (!p)
		return;
	free(p->sth_sig);
	free(p->leaf_exts);
	free(p->audit_path);
	memset(p, 0, sizeof(*p));
}

void ctng_cert_proofs_clear(ctng_cert_proofs *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		ctng_logger_proof_clear(&ps->proofs[i]);
	free(ps->proofs);
	memset(ps, 0, sizeof(*ps));
}

static void *dup_bytes(const void *p, size_t n, bool *fail)
{
	if (!n)
		return NULL;
	void *r = malloc(n);
	if (!r)
		*fail = true;
	else
		memcpy(r, p, n);
	return r;
}

int ctng_cert_proofs_add(ctng_cert_proofs *ps, const ctng_logger_proof *p, ctng_err *err)
{
	ctng_logger_proof *v = realloc(ps->proofs, (ps->n + 1) * sizeof(*v));
	if (!v)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	ps->proofs = v;
	ctng_logger_proof c = *p;
	bool fail = false;
	c.sth_sig = dup_bytes(p->sth_sig, p->sth_sig_len, &fail);
	c.leaf_exts = dup_bytes(p->leaf_exts, p->leaf_exts_len, &fail);
	c.audit_path = dup_bytes(p->audit_path, p->path_len * 32, &fail);
	if (fail) {
		ctng_logger_proof_clear(&c);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	ps->proofs[ps->n++] = c;
	return 0;
}

/* --------------------------------------------------------------- encoder */

static int put_hdr(ctng_buf *b, uint8_t tag, size_t len)
{
	int r = ctng_buf_append_u8(b, tag);
	if (len < 0x80)
		return r ? r : ctng_buf_append_u8(b, (uint8_t)len);
	uint8_t tmp[8];
	int n = 0;
	for (size_t v = len; v; v >>= 8)
		tmp[n++] = (uint8_t)v;
	r = r ? r : ctng_buf_append_u8(b, (uint8_t)(0x80 | n));
	while (n-- > 0 && !r)
		r = ctng_buf_append_u8(b, tmp[n]);
	return r;
}

static int put_tlv(ctng_buf *b, uint8_t tag, const void *p, size_t len)
{
	int r = put_hdr(b, tag, len);
	return r ? r : (len ? ctng_buf_append(b, p, len) : 0);
}

static int put_uint(ctng_buf *b, uint64_t v)
{
	uint8_t tmp[9];
	int n = 0;
	do {
		tmp[8 - n++] = (uint8_t)v;
		v >>= 8;
	} while (v);
	if (tmp[9 - n] & 0x80)
		tmp[8 - n++] = 0;
	return put_tlv(b, T_INT, tmp + 9 - n, (size_t)n);
}

static int check_proof(const ctng_logger_proof *p, size_t i, ctng_err *err)
{
	if (!ctng_id_valid(p->logger_id))
		return ctng_err_set(err, CTNG_EINVAL, "proof %zu: logger id invalid", i);
	if (p->sth_sig_len == 0 || p->sth_sig_len > CTNG_EXT_MAX_SIG || !p->sth_sig)
		return ctng_err_set(err, CTNG_EINVAL, "proof %zu: STH signature size out of range",
		                    i);
	if (p->leaf_exts_len > CTNG_EXT_MAX_CT_EXTS || (p->leaf_exts_len && !p->leaf_exts))
		return ctng_err_set(err, CTNG_EINVAL, "proof %zu: leaf extensions too long", i);
	if (p->path_len > CTNG_EXT_MAX_PATH || (p->path_len && !p->audit_path))
		return ctng_err_set(err, CTNG_EINVAL, "proof %zu: audit path too long", i);
	if (p->leaf_index >= p->tree_size)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "proof %zu: leaf index %llu not below tree "
		                    "size %llu",
		                    i, (unsigned long long)p->leaf_index,
		                    (unsigned long long)p->tree_size);
	return 0;
}

static int encode_proof(ctng_buf *out, const ctng_logger_proof *p)
{
	ctng_buf b = {0}, path = {0};
	int r = put_tlv(&b, T_UTF8, p->logger_id, strlen(p->logger_id));
	r = r ? r : put_uint(&b, p->period);
	r = r ? r : put_uint(&b, p->tree_size);
	r = r ? r : put_uint(&b, p->sth_timestamp_ms);
	r = r ? r : put_tlv(&b, T_OCT, p->root, 32);
	r = r ? r : put_tlv(&b, T_OCT, p->sth_sig, p->sth_sig_len);
	r = r ? r : put_uint(&b, p->leaf_timestamp_ms);
	r = r ? r : put_tlv(&b, T_OCT, p->leaf_exts, p->leaf_exts_len);
	r = r ? r : put_uint(&b, p->leaf_index);
	for (size_t i = 0; i < p->path_len && !r; i++)
		r = put_tlv(&path, T_OCT, p->audit_path[i], 32);
	r = r ? r : put_tlv(&b, T_SEQ, path.data, path.len);
	r = r ? r : put_tlv(out, T_SEQ, b.data, b.len);
	ctng_buf_free(&b);
	ctng_buf_free(&path);
	return r;
}

int ctng_cert_proofs_encode(const ctng_cert_proofs *ps, uint8_t **der, size_t *len, ctng_err *err)
{
	*der = NULL;
	*len = 0;
	if (ps->n == 0 || ps->n > CTNG_EXT_MAX_PROOFS)
		return ctng_err_set(err, CTNG_EINVAL, "proofs: need 1..%d logger proofs",
		                    CTNG_EXT_MAX_PROOFS);
	int rc;
	for (size_t i = 0; i < ps->n; i++)
		if ((rc = check_proof(&ps->proofs[i], i, err)))
			return rc;
	ctng_buf list = {0}, body = {0}, all = {0};
	int r = 0;
	for (size_t i = 0; i < ps->n && !r; i++)
		r = encode_proof(&list, &ps->proofs[i]);
	r = r ? r : put_uint(&body, CTNG_EXT_VERSION);
	r = r ? r : put_uint(&body, ps->rid);
	r = r ? r : put_tlv(&body, T_SEQ, list.data, list.len);
	r = r ? r : put_tlv(&all, T_SEQ, body.data, body.len);
	ctng_buf_free(&list);
	ctng_buf_free(&body);
	if (r) {
		ctng_buf_free(&all);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	*der = ctng_buf_detach(&all, len);
	return 0;
}

/* --------------------------------------------------------------- decoder */

typedef struct der {
	const uint8_t *p;
	size_t n;
} der;

/* Reads one TLV with the expected tag from in; *content is its value. */
static int get_tlv(der *in, uint8_t tag, der *content, const char *what, ctng_err *err)
{
	if (in->n < 2)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: truncated", what);
	if (in->p[0] != tag)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "CTng extension: %s: tag 0x%02x, expected 0x%02x", what,
		                    in->p[0], tag);
	size_t o = 2, len = in->p[1];
	if (len == 0x80)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: indefinite length",
		                    what);
	if (len > 0x80) {
		size_t nb = len & 0x7f;
		if (nb > 4 || in->n < 2 + nb)
			return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: bad length",
			                    what);
		if (in->p[2] == 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "CTng extension: %s: non-minimal length", what);
		len = 0;
		for (size_t i = 0; i < nb; i++)
			len = len << 8 | in->p[2 + i];
		if (len < 0x80)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "CTng extension: %s: non-minimal length", what);
		o += nb;
	}
	if (in->n - o < len)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: length beyond input",
		                    what);
	content->p = in->p + o;
	content->n = len;
	in->p += o + len;
	in->n -= o + len;
	return 0;
}

static int get_uint(der *in, uint64_t max, uint64_t *v, const char *what, ctng_err *err)
{
	der c;
	int rc = get_tlv(in, T_INT, &c, what, err);
	if (rc)
		return rc;
	if (c.n == 0)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: empty INTEGER", what);
	if (c.p[0] & 0x80)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: negative", what);
	if (c.n > 1 && c.p[0] == 0 && !(c.p[1] & 0x80))
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: non-minimal INTEGER",
		                    what);
	if (c.n > 9 || (c.n == 9 && c.p[0] != 0))
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: too large", what);
	uint64_t x = 0;
	for (size_t i = 0; i < c.n; i++)
		x = x << 8 | c.p[i];
	if (x > max)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: %s: out of range", what);
	*v = x;
	return 0;
}

static int get_octets(der *in, size_t min, size_t max, der *c, const char *what, ctng_err *err)
{
	int rc = get_tlv(in, T_OCT, c, what, err);
	if (rc)
		return rc;
	if (c->n < min || c->n > max)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "CTng extension: %s: %zu bytes, expected "
		                    "%zu..%zu",
		                    what, c->n, min, max);
	return 0;
}

static int decode_proof(der *in, ctng_logger_proof *p, ctng_err *err)
{
	der seq, c;
	int rc;
	if ((rc = get_tlv(in, T_SEQ, &seq, "LoggerProof", err)))
		return rc;
	if ((rc = get_tlv(&seq, T_UTF8, &c, "loggerId", err)))
		return rc;
	if (c.n == 0 || c.n > CTNG_ID_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: loggerId: bad length");
	memcpy(p->logger_id, c.p, c.n);
	p->logger_id[c.n] = 0;
	if (strlen(p->logger_id) != c.n || !ctng_id_valid(p->logger_id))
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: loggerId: not a valid id");
	if ((rc = get_uint(&seq, UINT64_MAX, &p->period, "period", err)) ||
	    (rc = get_uint(&seq, UINT64_MAX, &p->tree_size, "treeSize", err)) ||
	    (rc = get_uint(&seq, UINT64_MAX, &p->sth_timestamp_ms, "sthTimestamp", err)) ||
	    (rc = get_octets(&seq, 32, 32, &c, "rootHash", err)))
		return rc;
	memcpy(p->root, c.p, 32);
	if ((rc = get_octets(&seq, 1, CTNG_EXT_MAX_SIG, &c, "sthSignature", err)))
		return rc;
	bool fail = false;
	p->sth_sig = dup_bytes(c.p, c.n, &fail);
	p->sth_sig_len = c.n;
	if ((rc = get_uint(&seq, UINT64_MAX, &p->leaf_timestamp_ms, "leafTimestamp", err)) ||
	    (rc = get_octets(&seq, 0, CTNG_EXT_MAX_CT_EXTS, &c, "leafExtensions", err)))
		return rc;
	p->leaf_exts = dup_bytes(c.p, c.n, &fail);
	p->leaf_exts_len = c.n;
	if ((rc = get_uint(&seq, UINT64_MAX, &p->leaf_index, "leafIndex", err)))
		return rc;
	if (p->leaf_index >= p->tree_size)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "CTng extension: leafIndex not below treeSize");
	der path;
	if ((rc = get_tlv(&seq, T_SEQ, &path, "auditPath", err)))
		return rc;
	if (seq.n)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "CTng extension: LoggerProof: trailing fields");
	/* each element is exactly 04 20 <32 bytes> */
	if (path.n % 34 || path.n / 34 > CTNG_EXT_MAX_PATH)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: auditPath: bad size");
	size_t np = path.n / 34;
	if (np) {
		p->audit_path = malloc(np * 32);
		if (!p->audit_path)
			fail = true;
	}
	for (size_t i = 0; i < np && !fail; i++) {
		if ((rc = get_octets(&path, 32, 32, &c, "auditPath entry", err)))
			return rc;
		memcpy(p->audit_path[i], c.p, 32);
	}
	p->path_len = np;
	if (fail)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

int ctng_cert_proofs_decode(const uint8_t *data, size_t len, ctng_cert_proofs *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	der in = {data, len}, top, list;
	uint64_t v;
	int rc;
	if (!data)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: empty");
	if ((rc = get_tlv(&in, T_SEQ, &top, "CTngProofs", err)))
		return rc;
	if (in.n)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: trailing bytes");
	if ((rc = get_uint(&top, UINT64_MAX, &v, "version", err)))
		return rc;
	if (v != CTNG_EXT_VERSION)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: version %llu unsupported",
		                    (unsigned long long)v);
	if ((rc = get_uint(&top, UINT32_MAX, &v, "rid", err)))
		return rc;
	out->rid = (uint32_t)v;
	if ((rc = get_tlv(&top, T_SEQ, &list, "proofs", err)))
		return rc;
	if (top.n)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: trailing fields");
	if (list.n == 0)
		return ctng_err_set(err, CTNG_EINVAL, "CTng extension: no logger proofs");
	while (list.n) {
		if (out->n == CTNG_EXT_MAX_PROOFS) {
			rc = ctng_err_set(err, CTNG_EINVAL, "CTng extension: more than %d proofs",
			                  CTNG_EXT_MAX_PROOFS);
			break;
		}
		ctng_logger_proof *np = realloc(out->proofs, (out->n + 1) * sizeof(*np));
		if (!np) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		out->proofs = np;
		memset(&np[out->n], 0, sizeof(*np));
		out->n++;
		if ((rc = decode_proof(&list, &np[out->n - 1], err)))
			break;
	}
	if (rc)
		ctng_cert_proofs_clear(out);
	return rc;
}
