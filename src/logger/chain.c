/*
 * chain.c — submissions to the logger: the strict parser of RFC 6962
 * add-chain / add-pre-chain bodies, the accepted roots, and chain validation
 * (each certificate issued by the next, the last one a root the logger
 * accepts or issued by one), producing the RFC 6962 entry and extra_data.
 * Submitted certificates are read in place (ctng_cert_view): no OpenSSL
 * object is built for them, only signatures are checked with the issuer's
 * key (see src/cert/view.c for why).
 */
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"
#include "ctng/net.h"
#include "logger/logger_internal.h"

void ctng_logger_chain_clear(ctng_logger_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->der[i]);
	free(c->der);
	free(c->len);
	memset(c, 0, sizeof(*c));
}

static bool json_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* The common body, read without building a JSON tree:
 *   ws { ws "chain" ws : ws [ ws "B" (ws , ws "B")* ws ] ws } ws
 * where each B is only base64 characters (no escapes). 1: parsed into
 * *out; 0: not of that shape (the JSON parser decides, and words the
 * error); <0: an error a JSON parse would give the same way (a string that
 * is not strict base64 or too long; too many certificates). Whatever this
 * accepts is valid JSON that lg_chain_parse_json reads the same
 * (fuzz/fuzz_logger_chain.c checks). */
int lg_chain_parse_fast(const uint8_t *p, size_t len, ctng_logger_chain *out, ctng_err *err)
{
	const uint8_t *e = p + len;
	uint8_t *der[CTNG_LOGGER_MAX_CHAIN];
	size_t dlen[CTNG_LOGGER_MAX_CHAIN], n = 0;
	int rc = 0;
#define WS()                                                                                       \
	while (p < e && json_ws(*p))                                                               \
	p++
#define EXPECT(c)                                                                                  \
	do {                                                                                       \
		WS();                                                                              \
		if (p == e || *p != (c))                                                           \
			goto shape;                                                                \
		p++;                                                                               \
	} while (0)
	EXPECT('{');
	WS();
	if ((size_t)(e - p) < 7 || memcmp(p, "\"chain\"", 7))
		goto shape;
	p += 7;
	EXPECT(':');
	EXPECT('[');
	for (;;) {
		EXPECT('"');
		const uint8_t *s0 = p;
		while (p < e && b64_char(*p))
			p++;
		if (p == e || *p != '"')
			goto shape; /* an escape, a control or another character */
		size_t slen = (size_t)(p - s0);
		p++;
		if (n == CTNG_LOGGER_MAX_CHAIN) {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "\"chain\" must hold 1..%d certificates, not more",
			                  CTNG_LOGGER_MAX_CHAIN);
			goto fail;
		}
		if (slen == 0 || slen > ctng_b64_encoded_len(CTNG_CERT_DER_MAX)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "chain[%zu] has a bad length", n);
			goto fail;
		}
		if ((rc = ctng_b64_decode_alloc((const char *)s0, slen, &der[n], &dlen[n], err))) {
			ctng_err_wrap(err, "chain[%zu]", n);
			goto fail;
		}
		n++;
		if (dlen[n - 1] == 0 || dlen[n - 1] > CTNG_CERT_DER_MAX) {
			rc = ctng_err_set(err, CTNG_EINVAL, "chain[%zu] decodes to %zu bytes",
			                  n - 1, dlen[n - 1]);
			goto fail;
		}
		WS();
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	EXPECT(']');
	EXPECT('}');
	WS();
	if (p != e)
		goto shape;
#undef EXPECT
#undef WS
	out->der = calloc(n, sizeof(*out->der));
	out->len = calloc(n, sizeof(*out->len));
	if (!out->der || !out->len) {
		free(out->der);
		free(out->len);
		out->der = NULL;
		out->len = NULL;
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(out->der, der, n * sizeof(*der));
	memcpy(out->len, dlen, n * sizeof(*dlen));
	out->n = n;
	return 1;
shape:
	rc = 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(der[i]);
	return rc;
}

int ctng_logger_chain_parse(const void *body, size_t len, ctng_logger_chain *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > CTNG_LOGGER_MAX_BODY)
		return ctng_err_set(err, CTNG_ERANGE, "request body of %zu bytes exceeds %u", len,
		                    CTNG_LOGGER_MAX_BODY);
	int f = lg_chain_parse_fast(body, len, out, err);
	if (f)
		return f < 0 ? f : 0;
	return lg_chain_parse_json(body, len, out, err);
}

int lg_chain_parse_json(const void *body, size_t len, ctng_logger_chain *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	json_t *j = NULL;
	int rc = ctng_net_parse_json(body, len, CTNG_LOGGER_MAX_BODY, &j, err);
	if (rc)
		return ctng_err_wrap(err, "request body");
	if (!json_is_object(j) || json_object_size(j) != 1) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "request body must be {\"chain\": [...]}");
	}
	json_t *arr = json_object_get(j, "chain");
	if (!json_is_array(arr)) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "\"chain\" must be an array");
	}
	size_t n = json_array_size(arr);
	if (n < 1 || n > CTNG_LOGGER_MAX_CHAIN) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL,
		                    "\"chain\" must hold 1..%d certificates, not %zu",
		                    CTNG_LOGGER_MAX_CHAIN, n);
	}
	out->der = calloc(n, sizeof(*out->der));
	out->len = calloc(n, sizeof(*out->len));
	if (!out->der || !out->len) {
		json_decref(j);
		ctng_logger_chain_clear(out);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i);
		if (!json_is_string(s)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "chain[%zu] is not a string", i);
			break;
		}
		size_t slen = json_string_length(s);
		if (slen == 0 || slen > ctng_b64_encoded_len(CTNG_CERT_DER_MAX)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "chain[%zu] has a bad length", i);
			break;
		}
		rc = ctng_b64_decode_alloc(json_string_value(s), slen, &out->der[i], &out->len[i],
		                           err);
		if (rc) {
			ctng_err_wrap(err, "chain[%zu]", i);
			break;
		}
		out->n = i + 1;
		if (out->len[i] == 0 || out->len[i] > CTNG_CERT_DER_MAX) {
			rc = ctng_err_set(err, CTNG_EINVAL, "chain[%zu] decodes to %zu bytes", i,
			                  out->len[i]);
			break;
		}
	}
	json_decref(j);
	if (rc)
		ctng_logger_chain_clear(out);
	return rc;
}

/* ------------------------------------------------------------------ roots */

void lg_roots_free(lg_roots *r)
{
	for (size_t i = 0; i < r->n; i++) {
		X509_free(r->v[i].x);
		free(r->v[i].der);
		OPENSSL_free(r->v[i].subject);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int lg_roots_load(lg_roots *r, const char *const *pems, size_t n, ctng_err *err)
{
	memset(r, 0, sizeof(*r));
	if (n == 0)
		return 0;
	r->v = calloc(n, sizeof(*r->v));
	if (!r->v)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = ctng_cert_from_pem(pems[i], strlen(pems[i]), &r->v[i].x, err);
		if (!rc)
			rc = ctng_cert_to_der(r->v[i].x, &r->v[i].der, &r->v[i].der_len, err);
		if (!rc)
			rc = ctng_cert_spki_hash(r->v[i].x, r->v[i].spki_hash, err);
		if (!rc) {
			unsigned char *sub = NULL;
			int n_sub = i2d_X509_NAME(X509_get_subject_name(r->v[i].x), &sub);
			r->v[i].key = X509_get0_pubkey(r->v[i].x);
			if (n_sub <= 0 || !r->v[i].key) {
				OPENSSL_free(sub);
				ERR_clear_error();
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "cannot encode its subject or decode its key");
			} else {
				r->v[i].subject = sub;
				r->v[i].subject_len = (size_t)n_sub;
			}
		}
		r->n = i + 1;
		if (rc) {
			lg_roots_free(r);
			return ctng_err_wrap(err, "root certificate %zu", i);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ validation */

static int put_u24_blob(ctng_buf *b, const uint8_t *p, size_t n)
{
	int rc = ctng_buf_append_u24be(b, (uint32_t)n);
	return rc ? rc : ctng_buf_append(b, p, n);
}

void lg_entry_clear(lg_entry *e)
{
	ctng_ct_entry_clear(&e->ct);
	ctng_buf_free(&e->extra);
	ctng_buf_free(&e->tile_extra);
	for (size_t i = 0; i < e->n_issuers; i++)
		free(e->issuers[i].der);
	free(e->issuers);
	memset(e, 0, sizeof(*e));
}

static int add_issuer(lg_entry *e, const uint8_t *der, size_t len, ctng_err *err)
{
	uint8_t *copy = malloc(len);
	if (!copy)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	memcpy(copy, der, len);
	lg_issuer *v = realloc(e->issuers, (e->n_issuers + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	e->issuers = v;
	v[e->n_issuers].der = copy;
	v[e->n_issuers].len = len;
	lg_sha256(der, len, v[e->n_issuers].fp);
	e->n_issuers++;
	return 0;
}

/* The issuer key of chain[i] when chain[i+1] is parsed (an intermediate):
 * decoded from its SubjectPublicKeyInfo. */
static int intermediate_key(const ctng_cert_view *v, EVP_PKEY **key, ctng_err *err)
{
	const unsigned char *p = v->spki.p;
	*key = d2i_PUBKEY(NULL, &p, (long)v->spki.n);
	ERR_clear_error();
	return *key ? 0 : ctng_err_set(err, CTNG_EINVAL, "issuer: public key does not parse");
}

int lg_entry_build(const lg_roots *roots, const ctng_logger_chain *c, bool precert, lg_entry *e,
                   ctng_err *err)
{
	memset(e, 0, sizeof(*e));
	ctng_cert_view x[CTNG_LOGGER_MAX_CHAIN];
	EVP_PKEY *ikey = NULL;
	int rc = 0;
	if (c->n < 1 || c->n > CTNG_LOGGER_MAX_CHAIN)
		return ctng_err_set(err, CTNG_EINVAL, "chain length %zu out of range", c->n);
	/* A last certificate byte-equal to an accepted root is not parsed again. */
	const lg_root *root = NULL;
	bool root_in_chain = false;
	size_t last = c->n - 1;
	for (size_t r = 0; r < roots->n && !root; r++)
		if (roots->v[r].der_len == c->len[last] &&
		    !memcmp(roots->v[r].der, c->der[last], c->len[last])) {
			root = &roots->v[r];
			root_in_chain = true;
		}
	if (root_in_chain && c->n == 1)
		return ctng_err_set(err, CTNG_EINVAL, "the chain is only a root certificate");
	size_t n_parse = root_in_chain ? last : c->n; /* >= 1 */
	/* Read in place (no OpenSSL object: see src/cert/view.c). */
	for (size_t i = 0; i < n_parse && !rc; i++)
		if ((rc = ctng_cert_view_parse(c->der[i], c->len[i], &x[i], err)))
			ctng_err_wrap(err, "chain[%zu]", i);
	if (rc)
		goto out;
	bool is_pre = ctng_cert_view_is_precert(&x[0]);
	if (precert && !is_pre) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "add-pre-chain: chain[0] has no CT poison extension");
		goto out;
	}
	if (!precert && is_pre) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "add-chain: chain[0] is a precertificate (use add-pre-chain)");
		goto out;
	}
	for (size_t i = 1; i < n_parse; i++) {
		if (ctng_cert_view_is_precert(&x[i])) {
			rc = ctng_err_set(err, CTNG_EINVAL, "chain[%zu] is a precertificate", i);
			goto out;
		}
		EVP_PKEY_free(ikey);
		if ((rc = intermediate_key(&x[i], &ikey, err)) ||
		    ctng_cert_view_check_issued(&x[i - 1], x[i].subject.p, x[i].subject.n, ikey,
		                                NULL)) {
			if (!rc)
				rc = ctng_err_set(err, CTNG_EVERIFY,
				                  "chain[%zu] is not issued by chain[%zu]", i - 1,
				                  i);
			else
				ctng_err_wrap(err, "chain[%zu]", i);
			goto out;
		}
	}
	/* The last parsed certificate is issued by the root that ends the chain,
	 * or by one of the accepted roots. */
	size_t lp = n_parse - 1;
	if (root_in_chain && ctng_cert_view_check_issued(&x[lp], root->subject, root->subject_len,
	                                                 root->key, NULL)) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "chain[%zu] is not issued by chain[%zu]", lp,
		                  lp + 1);
		goto out;
	}
	for (size_t r = 0; r < roots->n && !root; r++)
		if (ctng_cert_view_check_issued(&x[lp], roots->v[r].subject,
		                                roots->v[r].subject_len, roots->v[r].key,
		                                NULL) == 0)
			root = &roots->v[r];
	if (!root) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "chain does not end at a root this log accepts");
		goto out;
	}
	/* The issuers, as RFC 6962 extra_data wants them: chain[1..] then the root. */
	for (size_t i = 1; i < c->n && !rc; i++)
		rc = add_issuer(e, c->der[i], c->len[i], err);
	if (!rc && !root_in_chain)
		rc = add_issuer(e, root->der, root->der_len, err);
	if (rc)
		goto out;
	if (precert) {
		/* precert_entry: the TBS without the poison, and the issuer's key hash */
		e->ct.type = CTNG_CT_PRECERT_ENTRY;
		if (n_parse > 1)
			lg_sha256(x[1].spki.p, x[1].spki.n, e->ct.issuer_key_hash);
		else
			memcpy(e->ct.issuer_key_hash, root->spki_hash, 32);
		if ((rc = ctng_cert_view_precert_tbs(&x[0], &e->ct.der, &e->ct.der_len, err)))
			ctng_err_wrap(err, "precertificate");
	} else {
		/* x509_entry: the certificate DER, already strictly parsed above */
		e->ct.type = CTNG_CT_X509_ENTRY;
		e->ct.der_len = c->len[0];
		if (!(e->ct.der = malloc(c->len[0])))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else
			memcpy(e->ct.der, c->der[0], c->len[0]);
	}
	if (rc)
		goto out;
	/* extra_data (RFC 6962 §4.6) and the static-ct-api TileLeaf tail. */
	ctng_buf chain = {0};
	for (size_t i = 0; i < e->n_issuers && !rc; i++)
		rc = put_u24_blob(&chain, e->issuers[i].der, e->issuers[i].len);
	if (!rc && precert)
		rc = put_u24_blob(&e->extra, c->der[0], c->len[0]);
	if (!rc)
		rc = put_u24_blob(&e->extra, chain.data, chain.len);
	ctng_buf_free(&chain);
	if (!rc && precert)
		rc = put_u24_blob(&e->tile_extra, c->der[0], c->len[0]);
	if (!rc)
		rc = ctng_buf_append_u16be(&e->tile_extra, (uint16_t)(32 * e->n_issuers));
	for (size_t i = 0; i < e->n_issuers && !rc; i++)
		rc = ctng_buf_append(&e->tile_extra, e->issuers[i].fp, 32);
	if (rc) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	{
		/* The entry's static-ct-api TileLeaf: TimestampedEntry (timestamp,
		 * type, [issuer key hash], cert/TBS<2^24>, extensions<2^16> with
		 * the leaf_index) and the tail. Mirrors read 256 of them in one
		 * bundle of at most 16 MiB: a larger entry would make a data tile
		 * that no monitor can fetch, so no STH_FULL and a "data not
		 * served" accusation for this log (docs/logger.md). */
		size_t tl = 8 + 2 + (precert ? 32 : 0) + 3 + e->ct.der_len + 2 + LG_SCT_EXT_LEN +
		            e->tile_extra.len;
		if (tl > CTNG_TILE_LEAF_MAX) {
			rc = ctng_err_set(
			    err, CTNG_EINVAL,
			    "entry too large: its tile leaf would be %zu bytes, at most "
			    "%u (certificate and precertificate together)",
			    tl, CTNG_TILE_LEAF_MAX);
			goto out;
		}
	}
	{
		/* Duplicate key: the entry without its timestamp. */
		ctng_buf k = {0};
		rc = ctng_buf_append_u16be(&k, (uint16_t)e->ct.type);
		if (!rc && e->ct.type == CTNG_CT_PRECERT_ENTRY)
			rc = ctng_buf_append(&k, e->ct.issuer_key_hash, 32);
		if (!rc)
			rc = put_u24_blob(&k, e->ct.der, e->ct.der_len);
		if (!rc)
			lg_sha256(k.data, k.len, e->dedup);
		ctng_buf_free(&k);
		if (rc)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
out:
	EVP_PKEY_free(ikey);
	if (rc)
		lg_entry_clear(e);
	return rc;
}
