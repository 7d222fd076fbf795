/*
 * wire.c — the binary form of gossip objects and observations
 * (docs/protocol.md §11): the varint reader and writer, the entity-index and
 * signature conversions, and one encoder and one decoder per object layout.
 * The decoder fills a ctng_gossip_object exactly as the JSON decoder would,
 * runs the same structural rules, and then insists the object encodes back
 * to its input, so that every object has one binary form.
 */
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/wire.h"

#define S(x) ctng_gossip_str(x)

/* Largest period the JSON form can carry (ctng_parse_period: 19 digits). */
#define PERIOD_MAX 9999999999999999999ull
/* Largest time RFC 3339 can carry: 9999-12-31T23:59:59Z, in seconds. */
#define TIME_S_MAX 253402300799ll

/* ---------------------------------------------------------------- writer */

static int put_uv(ctng_buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		t[n++] = c | (v ? 0x80 : 0);
	} while (v);
	return ctng_buf_append(b, t, n);
}

static int put_zv(ctng_buf *b, int64_t v)
{
	return put_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static int put_lb(ctng_buf *b, const void *p, size_t n)
{
	return put_uv(b, n) || ctng_buf_append(b, p, n);
}

/* ---------------------------------------------------------------- reader */

typedef struct rd {
	const uint8_t *p;
	size_t n, off;
} rd;

static int get_bytes(rd *r, size_t n, const uint8_t **out, const char *what, ctng_err *err)
{
	if (r->n - r->off < n) {
		ctng_err_set(err, CTNG_EINVAL, "wire: truncated at %s", what);
		return CTNG_EINVAL; /* (a constant, so the compiler sees *out is set on 0) */
	}
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

static int get_u8(rd *r, uint8_t *v, const char *what, ctng_err *err)
{
	const uint8_t *p;
	int rc = get_bytes(r, 1, &p, what, err);
	if (!rc)
		*v = p[0];
	return rc;
}

/* Minimal unsigned LEB128 of at most 64 bits. */
static int get_uv(rd *r, uint64_t *v, const char *what, ctng_err *err)
{
	uint64_t x = 0;
	for (unsigned i = 0;; i++) {
		uint8_t c;
		if (get_u8(r, &c, what, err))
			return CTNG_EINVAL;
		if (i == 9 && c > 1)
			return ctng_err_set(err, CTNG_EINVAL, "wire: %s: varint over 64 bits",
			                    what);
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			if (c == 0 && i > 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "wire: %s: non-minimal varint", what);
			*v = x;
			return 0;
		}
	}
}

static int get_zv(rd *r, int64_t *v, const char *what, ctng_err *err)
{
	uint64_t u;
	if (get_uv(r, &u, what, err))
		return CTNG_EINVAL;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

/* ------------------------------------------------------------- entities */

static int ent_put(ctng_buf *b, const ctng_network *net, const char *id, ctng_role role,
                   const char *what, ctng_err *err)
{
	const ctng_entity *e = ctng_network_entity(net, id);
	if (!e || (role != CTNG_ROLE_NONE && e->role != role))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "wire: %s: \"%s\" is not a%s %s of the network", what, id,
		                    role == CTNG_ROLE_NONE ? "n" : "",
		                    role == CTNG_ROLE_NONE ? "entity" : ctng_role_name(role));
	return put_uv(b, (uint64_t)(e - net->entities));
}

static int ent_get(rd *r, const ctng_network *net, ctng_role role, char out[CTNG_ID_MAX + 1],
                   const char *what, ctng_err *err)
{
	uint64_t i;
	if (get_uv(r, &i, what, err))
		return CTNG_EINVAL;
	if (i >= net->n_entities)
		return ctng_err_set(err, CTNG_EINVAL, "wire: %s: entity %llu out of range", what,
		                    (unsigned long long)i);
	const ctng_entity *e = &net->entities[i];
	if (role != CTNG_ROLE_NONE && e->role != role)
		return ctng_err_set(err, CTNG_EINVAL, "wire: %s: entity %llu is not a %s", what,
		                    (unsigned long long)i, ctng_role_name(role));
	snprintf(out, CTNG_ID_MAX + 1, "%s", e->id);
	return 0;
}

/* The role of the entity a FRAG/FULL of this family attests. */
static ctng_role attested_role(enum ctng_family f)
{
	return f == CTNG_FAM_STH   ? CTNG_ROLE_LOGGER
	       : f == CTNG_FAM_REV ? CTNG_ROLE_CA
	                           : CTNG_ROLE_NONE;
}

static uint32_t max_bls_id(const ctng_network *net)
{
	uint32_t m = 0;
	for (size_t i = 0; i < net->n_entities; i++)
		if (net->entities[i].role == CTNG_ROLE_GOSSIPER && net->entities[i].bls_id > m)
			m = net->entities[i].bls_id;
	return m;
}

/* ----------------------------------------------------------- signatures */

/* DER ECDSA-Sig-Value -> r||s, only when the DER is the canonical encoding
 * of a pair that fits 32 bytes each (anything else stays in JSON). */
static int der_to_rs(const uint8_t *der, size_t n, uint8_t rs[64])
{
	const uint8_t *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
	int rc = -1;
	if (!sig)
		return -1;
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	uint8_t *again = NULL;
	int m;
	if (p == der + n && BN_num_bytes(r) <= 32 && BN_num_bytes(s) <= 32 &&
	    BN_bn2binpad(r, rs, 32) == 32 && BN_bn2binpad(s, rs + 32, 32) == 32 &&
	    (m = i2d_ECDSA_SIG(sig, &again)) > 0 && (size_t)m == n && memcmp(again, der, n) == 0)
		rc = 0;
	OPENSSL_free(again);
	ECDSA_SIG_free(sig);
	return rc;
}

/* r||s -> DER (at most 72 bytes) in out. */
static int rs_to_der(const uint8_t rs[64], uint8_t out[80], size_t *n, ctng_err *err)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		ECDSA_SIG_free(sig);
		BN_free(r);
		BN_free(s);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	uint8_t *der = NULL;
	int m = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (m <= 0 || m > 80) {
		OPENSSL_free(der);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	memcpy(out, der, (size_t)m);
	*n = (size_t)m;
	OPENSSL_free(der);
	return 0;
}

/* Strict base64 whose canonical re-encoding is the input itself. */
static int b64_exact(const char *s, uint8_t **out, size_t *n, const char *what, ctng_err *err)
{
	*out = NULL;
	if (ctng_b64_decode_alloc(s, strlen(s), out, n, NULL))
		return ctng_err_set(err, CTNG_EINVAL, "wire: %s: not base64", what);
	char *again = ctng_b64_strdup(*out, *n);
	int rc = 0;
	if (!again)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	else if (strcmp(again, s) != 0)
		rc = ctng_err_set(err, CTNG_EINVAL, "wire: %s: base64 not canonical", what);
	free(again);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* A raw signature (ECDSA DER or Ed25519) as u8(scheme) || 64 bytes. */
static int sig_put_raw(ctng_buf *b, enum ctng_scheme scheme, const uint8_t *sig, size_t n,
                       const char *what, ctng_err *err)
{
	uint8_t rs[64];
	if (scheme == CTNG_SCHEME_ECDSA_P256) {
		if (der_to_rs(sig, n, rs))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "wire: %s: not a canonical DER signature", what);
	} else if (scheme == CTNG_SCHEME_ED25519 && n == 64) {
		memcpy(rs, sig, 64);
	} else {
		return ctng_err_set(err, CTNG_EINVAL, "wire: %s: no binary form for this scheme",
		                    what);
	}
	return ctng_buf_append_u8(b, (uint8_t)scheme) || ctng_buf_append(b, rs, 64);
}

static int sig_get_raw(rd *r, enum ctng_scheme *scheme, uint8_t out[80], size_t *n,
                       const char *what, ctng_err *err)
{
	uint8_t c;
	const uint8_t *p;
	if (get_u8(r, &c, what, err) || get_bytes(r, 64, &p, what, err))
		return CTNG_EINVAL;
	if (c == CTNG_SCHEME_ECDSA_P256) {
		*scheme = CTNG_SCHEME_ECDSA_P256;
		return rs_to_der(p, out, n, err);
	}
	if (c == CTNG_SCHEME_ED25519) {
		*scheme = CTNG_SCHEME_ED25519;
		memcpy(out, p, 64);
		*n = 64;
		return 0;
	}
	return ctng_err_set(err, CTNG_EINVAL, "wire: %s: unknown scheme %u", what, c);
}

/* ---------------------------------------------------------------- times */

static uint64_t start_s(const ctng_network *net, uint64_t period)
{
	return ctng_clock_period_start(&net->clock, period) / 1000;
}

/* The envelope time in seconds, as an offset from its period's start. */
static int time_put(ctng_buf *b, const ctng_network *net, const ctng_gossip_object *o,
                    ctng_err *err)
{
	uint64_t ts = o->timestamp_ms / 1000, ps = start_s(net, o->period);
	if (ts > (uint64_t)TIME_S_MAX || ps > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: timestamp out of range");
	return put_zv(b, (int64_t)ts - (int64_t)ps);
}

static int time_get(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	int64_t d;
	uint64_t ps = start_s(net, o->period);
	if (get_zv(r, &d, "timestamp", err))
		return CTNG_EINVAL;
	if (ps > (uint64_t)INT64_MAX || d < -(int64_t)ps || d > TIME_S_MAX - (int64_t)ps)
		return ctng_err_set(err, CTNG_EINVAL, "wire: timestamp out of range");
	o->timestamp_ms = (uint64_t)((int64_t)ps + d) * 1000;
	return 0;
}

/* --------------------------------------------------------------- encoder */

static uint8_t type_code(enum ctng_type t)
{
	return (uint8_t)(16 * ctng_type_kind(t) + ctng_type_family(t));
}

static int hex32(const char *slot, uint8_t out[32], const char *what, ctng_err *err)
{
	if (ctng_hex_decode_exact(out, 32, S(slot), NULL))
		return ctng_err_set(err, CTNG_EINVAL, "wire: %s: not 32 bytes of hex", what);
	return 0;
}

static int enc_sth(ctng_buf *b, const ctng_network *net, const ctng_gossip_object *o, ctng_err *err)
{
	ctng_sth sth;
	uint8_t *ds = NULL, rs[64];
	size_t n = 0;
	const uint8_t *der;
	size_t der_len;
	int rc;
	if ((rc = ctng_sth_from_object(o, &sth, err)))
		return rc;
	uint64_t ps = ctng_clock_period_start(&net->clock, o->period);
	if (sth.timestamp_ms > (uint64_t)INT64_MAX || ps > (uint64_t)INT64_MAX ||
	    sth.timestamp_ms / 1000 > (uint64_t)TIME_S_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: STH timestamp out of range");
	if ((rc = b64_exact(S(o->signature[0]), &ds, &n, "signature[0]", err)))
		return rc;
	if (ctng_digitally_signed_decode(ds, n, &der, &der_len, NULL) ||
	    der_to_rs(der, der_len, rs))
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "wire: signature[0]: not a canonical DER signature");
	free(ds);
	if (rc)
		return rc;
	if ((rc = ent_put(b, net, o->signer, CTNG_ROLE_LOGGER, "signer", err)))
		return rc;
	if (ctng_buf_append(b, rs, 64) || put_uv(b, sth.tree_size) ||
	    ctng_buf_append(b, sth.root, 32) || put_zv(b, (int64_t)sth.timestamp_ms - (int64_t)ps))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

static int enc_signed_sig(ctng_buf *b, const ctng_gossip_object *o, ctng_err *err)
{
	uint8_t *raw = NULL;
	size_t n = 0;
	int rc = b64_exact(S(o->signature[0]), &raw, &n, "signature[0]", err);
	if (!rc)
		rc = sig_put_raw(b, o->scheme, raw, n, "signature[0]", err);
	free(raw);
	return rc;
}

static int enc_rev(ctng_buf *b, const ctng_network *net, const ctng_gossip_object *o, ctng_err *err)
{
	uint8_t crv[32], dh[32], h[32], *delta = NULL;
	size_t n = 0;
	int rc;
	if ((rc = hex32(o->payload[0], crv, "payload[0]", err)) ||
	    (rc = hex32(o->payload[1], dh, "payload[1]", err)) ||
	    (rc = b64_exact(S(o->payload[2]), &delta, &n, "payload[2]", err)))
		return rc;
	SHA256(delta, n, h);
	if (memcmp(h, dh, 32) != 0)
		rc = ctng_err_set(err, CTNG_EINVAL, "wire: payload[1]: not the delta's hash");
	else if (!(rc = ent_put(b, net, o->signer, CTNG_ROLE_CA, "signer", err)) &&
	         !(rc = time_put(b, net, o, err)) && !(rc = enc_signed_sig(b, o, err)) &&
	         (ctng_buf_append(b, crv, 32) || put_lb(b, delta, n)))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	free(delta);
	return rc;
}

static int enc_acc(ctng_buf *b, const ctng_network *net, const ctng_gossip_object *o, ctng_err *err)
{
	int rc;
	if ((rc = ent_put(b, net, o->signer, CTNG_ROLE_MONITOR, "signer", err)) ||
	    (rc = time_put(b, net, o, err)) || (rc = enc_signed_sig(b, o, err)))
		return rc;
	return ent_put(b, net, S(o->payload[0]), CTNG_ROLE_NONE, "payload[0]", err);
}

static int enc_con(ctng_buf *b, const ctng_network *net, const ctng_gossip_object *o, ctng_err *err)
{
	int rc;
	if ((rc = time_put(b, net, o, err)))
		return rc;
	if (ctng_buf_append_u8(b, (uint8_t)o->scheme))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if ((rc = ent_put(b, net, S(o->payload[0]), CTNG_ROLE_NONE, "payload[0]", err)))
		return rc;
	if (put_lb(b, S(o->payload[1]), strlen(S(o->payload[1]))) ||
	    put_lb(b, S(o->payload[2]), strlen(S(o->payload[2]))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

/* FRAG and FULL: [signer] time sig48 [bitmap] entity [digest]. */
static int enc_attest(ctng_buf *b, const ctng_network *net, const ctng_gossip_object *o,
                      ctng_err *err)
{
	enum ctng_family f = ctng_type_family(o->type);
	bool full = ctng_type_kind(o->type) == CTNG_KIND_FULL;
	uint8_t sig[48], digest[32];
	int rc;
	if (ctng_hex_decode_exact(sig, 48, S(o->signature[0]), NULL))
		return ctng_err_set(err, CTNG_EINVAL, "wire: signature[0]: not 48 bytes of hex");
	if ((f == CTNG_FAM_STH || f == CTNG_FAM_REV) &&
	    (rc = hex32(o->payload[1], digest, "payload[1]", err)))
		return rc;
	if (!full && (rc = ent_put(b, net, o->signer, CTNG_ROLE_GOSSIPER, "signer", err)))
		return rc;
	if ((rc = time_put(b, net, o, err)))
		return rc;
	if (ctng_buf_append(b, sig, 48))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (full) {
		uint32_t nbits = max_bls_id(net);
		size_t nbytes = (nbits + 7) / 8;
		uint8_t *map = calloc(nbytes ? nbytes : 1, 1);
		if (!map)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		for (size_t i = 0; i < o->n_signers && !rc; i++) {
			const ctng_entity *e = ctng_network_entity(net, o->signers[i]);
			if (!e || e->role != CTNG_ROLE_GOSSIPER || e->bls_id == 0)
				rc = ctng_err_set(
				    err, CTNG_EINVAL,
				    "wire: signers: \"%s\" is not a gossiper of the network",
				    o->signers[i]);
			else
				map[(e->bls_id - 1) / 8] |= (uint8_t)(1u << ((e->bls_id - 1) % 8));
		}
		if (!rc && ctng_buf_append(b, map, nbytes))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		free(map);
		if (rc)
			return rc;
	}
	if ((rc = ent_put(b, net, S(o->payload[0]), attested_role(f), "payload[0]", err)))
		return rc;
	if ((f == CTNG_FAM_STH || f == CTNG_FAM_REV) && ctng_buf_append(b, digest, 32))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

/* The encoding of an object that passed ctng_gossip_check. */
static int encode_checked(const ctng_network *net, const ctng_gossip_object *o, ctng_buf *out,
                          ctng_err *err)
{
	int rc;
	if (o->period > PERIOD_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: period out of range");
	size_t mark = out->len;
	if (ctng_buf_append_u8(out, type_code(o->type)) || put_uv(out, o->period))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (ctng_type_kind(o->type) != CTNG_KIND_INIT)
		rc = enc_attest(out, net, o, err);
	else if (o->type == CTNG_STH)
		rc = enc_sth(out, net, o, err);
	else if (o->type == CTNG_REV)
		rc = enc_rev(out, net, o, err);
	else if (o->type == CTNG_ACC)
		rc = enc_acc(out, net, o, err);
	else
		rc = enc_con(out, net, o, err);
	if (!rc && out->len - mark > CTNG_WIRE_MAX)
		rc = ctng_err_set(err, CTNG_EINVAL, "wire: object larger than %u bytes",
		                  CTNG_WIRE_MAX);
	if (rc)
		out->len = mark;
	return rc;
}

int ctng_wire_encode(const ctng_network *net, const ctng_gossip_object *o, ctng_buf *out,
                     ctng_err *err)
{
	int rc;
	if (!net)
		return ctng_err_set(err, CTNG_EINVAL, "wire: no network");
	if ((rc = ctng_gossip_check(o, err)))
		return rc;
	return encode_checked(net, o, out, err);
}

/* --------------------------------------------------------------- decoder */

static int dec_sth(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	const uint8_t *rs, *root;
	uint8_t der[80], *ds = NULL;
	size_t der_len, ds_len;
	uint64_t size;
	int64_t d;
	int rc;
	if ((rc = ent_get(r, net, CTNG_ROLE_LOGGER, o->signer, "signer", err)) ||
	    (rc = get_bytes(r, 64, &rs, "signature", err)) ||
	    (rc = get_uv(r, &size, "tree size", err)) ||
	    (rc = get_bytes(r, 32, &root, "root hash", err)) ||
	    (rc = get_zv(r, &d, "STH timestamp", err)))
		return rc;
	uint64_t ps = ctng_clock_period_start(&net->clock, o->period);
	if (ps > (uint64_t)INT64_MAX || d < -(int64_t)ps || d > INT64_MAX - (int64_t)ps)
		return ctng_err_set(err, CTNG_EINVAL, "wire: STH timestamp out of range");
	uint64_t ts = (uint64_t)((int64_t)ps + d);
	char num[24];
	o->scheme = CTNG_SCHEME_ECDSA_P256;
	o->timestamp_ms = ts / 1000 * 1000;
	if ((rc = rs_to_der(rs, der, &der_len, err)) ||
	    (rc = ctng_digitally_signed_encode(der, der_len, &ds, &ds_len, err)))
		return rc;
	rc = ctng_gossip_set_b64(&o->signature[0], ds, ds_len, err);
	free(ds);
	if (rc)
		return rc;
	snprintf(num, sizeof num, "%llu", (unsigned long long)size);
	if ((rc = ctng_gossip_set(&o->payload[0], num, err)) ||
	    (rc = ctng_gossip_set_hex(&o->payload[1], root, 32, err)))
		return rc;
	snprintf(num, sizeof num, "%llu", (unsigned long long)ts);
	return ctng_gossip_set(&o->payload[2], num, err);
}

static int dec_signed_sig(rd *r, ctng_gossip_object *o, ctng_err *err)
{
	uint8_t sig[80];
	size_t n;
	int rc = sig_get_raw(r, &o->scheme, sig, &n, "signature", err);
	return rc ? rc : ctng_gossip_set_b64(&o->signature[0], sig, n, err);
}

static int dec_rev(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	const uint8_t *crv, *delta;
	uint64_t n;
	uint8_t h[32];
	int rc;
	if ((rc = ent_get(r, net, CTNG_ROLE_CA, o->signer, "signer", err)) ||
	    (rc = time_get(r, net, o, err)) || (rc = dec_signed_sig(r, o, err)) ||
	    (rc = get_bytes(r, 32, &crv, "CRV hash", err)) ||
	    (rc = get_uv(r, &n, "delta length", err)))
		return rc;
	if (n > r->n - r->off)
		return ctng_err_set(err, CTNG_EINVAL, "wire: truncated at delta");
	if ((rc = get_bytes(r, (size_t)n, &delta, "delta", err)))
		return rc;
	SHA256(delta, (size_t)n, h);
	if ((rc = ctng_gossip_set_hex(&o->payload[0], crv, 32, err)) ||
	    (rc = ctng_gossip_set_hex(&o->payload[1], h, 32, err)))
		return rc;
	return ctng_gossip_set_b64(&o->payload[2], delta, (size_t)n, err);
}

static int dec_acc(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	char accused[CTNG_ID_MAX + 1];
	int rc;
	if ((rc = ent_get(r, net, CTNG_ROLE_MONITOR, o->signer, "signer", err)) ||
	    (rc = time_get(r, net, o, err)) || (rc = dec_signed_sig(r, o, err)) ||
	    (rc = ent_get(r, net, CTNG_ROLE_NONE, accused, "payload[0]", err)))
		return rc;
	return ctng_gossip_set(&o->payload[0], accused, err);
}

/* A length-prefixed string with no NUL into *slot. */
static int get_str(rd *r, char **slot, const char *what, ctng_err *err)
{
	uint64_t n;
	const uint8_t *p;
	if (get_uv(r, &n, what, err))
		return CTNG_EINVAL;
	if (n > r->n - r->off || n > CTNG_GOSSIP_PAYLOAD_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: truncated at %s", what);
	if (get_bytes(r, (size_t)n, &p, what, err))
		return CTNG_EINVAL;
	if (memchr(p, 0, (size_t)n))
		return ctng_err_set(err, CTNG_EINVAL, "wire: %s: contains NUL", what);
	char *s = malloc((size_t)n + 1);
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	free(*slot);
	*slot = s;
	return 0;
}

static int dec_con(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	uint8_t scheme;
	char convicted[CTNG_ID_MAX + 1];
	int rc;
	if ((rc = time_get(r, net, o, err)) || (rc = get_u8(r, &scheme, "scheme", err)) ||
	    (rc = ent_get(r, net, CTNG_ROLE_NONE, convicted, "payload[0]", err)) ||
	    (rc = get_str(r, &o->payload[1], "payload[1]", err)) ||
	    (rc = get_str(r, &o->payload[2], "payload[2]", err)))
		return rc;
	o->scheme = (enum ctng_scheme)scheme;
	return ctng_gossip_set(&o->payload[0], convicted, err);
}

static int dec_signers(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	uint32_t nbits = max_bls_id(net);
	const uint8_t *map;
	if (get_bytes(r, (nbits + 7) / 8, &map, "signers", err))
		return CTNG_EINVAL;
	/* the gossiper of each share id, found in one pass (a FULL with every
	 * bit set costs O(n), not O(n^2)) */
	const char **by_share = calloc((size_t)nbits + 1, sizeof(char *));
	const char **ids = calloc((size_t)nbits + 1, sizeof(char *));
	int rc = 0;
	if (!by_share || !ids)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < net->n_entities; i++)
		if (net->entities[i].role == CTNG_ROLE_GOSSIPER && net->entities[i].bls_id)
			by_share[net->entities[i].bls_id] = net->entities[i].id;
	size_t n = 0;
	for (uint32_t i = 0; i < (nbits + 7) / 8 * 8 && !rc; i++) {
		if (!(map[i / 8] >> (i % 8) & 1))
			continue;
		const char *id = i < nbits ? by_share[i + 1] : NULL;
		if (!id)
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "wire: signers: no gossiper has share %u", i + 1);
		else
			ids[n++] = id;
	}
	if (!rc)
		rc = ctng_gossip_set_signers(o, ids, n, err);
	free(by_share);
	free(ids);
	return rc;
}

static int dec_attest(rd *r, const ctng_network *net, ctng_gossip_object *o, ctng_err *err)
{
	enum ctng_family f = ctng_type_family(o->type);
	bool full = ctng_type_kind(o->type) == CTNG_KIND_FULL;
	const uint8_t *sig, *digest;
	char entity[CTNG_ID_MAX + 1];
	int rc;
	o->scheme = CTNG_SCHEME_BLS;
	if ((!full && (rc = ent_get(r, net, CTNG_ROLE_GOSSIPER, o->signer, "signer", err))) ||
	    (rc = time_get(r, net, o, err)) || (rc = get_bytes(r, 48, &sig, "signature", err)) ||
	    (full && (rc = dec_signers(r, net, o, err))) ||
	    (rc = ent_get(r, net, attested_role(f), entity, "payload[0]", err)) ||
	    (rc = ctng_gossip_set_hex(&o->signature[0], sig, 48, err)) ||
	    (rc = ctng_gossip_set(&o->payload[0], entity, err)))
		return rc;
	if (f != CTNG_FAM_STH && f != CTNG_FAM_REV)
		return 0;
	if ((rc = get_bytes(r, 32, &digest, "digest", err)))
		return rc;
	return ctng_gossip_set_hex(&o->payload[1], digest, 32, err);
}

/* The decoded object must say its input back: one binary form per object. */
static int same_again(const ctng_network *net, const ctng_gossip_object *o, const uint8_t *in,
                      size_t len, ctng_err *err)
{
	ctng_buf again = {0};
	int rc = encode_checked(net, o, &again, err); /* (the caller checked o) */
	if (!rc && (again.len != len || memcmp(again.data, in, len) != 0))
		rc = ctng_err_set(err, CTNG_EINVAL, "wire: not canonical");
	ctng_buf_free(&again);
	if (rc == CTNG_EINVAL && err && strncmp(err->msg, "wire: ", 6) != 0)
		ctng_err_wrap(err, "wire");
	return rc;
}

static int decode(const ctng_network *net, const uint8_t *in, size_t len, ctng_gossip_object *o,
                  ctng_err *err)
{
	rd r = {in, len, 0};
	uint8_t code;
	int rc;
	if (!net)
		return ctng_err_set(err, CTNG_EINVAL, "wire: no network");
	if (len > CTNG_WIRE_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: object larger than %u bytes",
		                    CTNG_WIRE_MAX);
	if ((rc = get_u8(&r, &code, "type", err)))
		return rc;
	o->type = ctng_type_make((enum ctng_family)(code & 15), (enum ctng_kind)(code >> 4));
	if (o->type == CTNG_TYPE_NONE || type_code(o->type) != code)
		return ctng_err_set(err, CTNG_EINVAL, "wire: unknown type code 0x%02x", code);
	if ((rc = get_uv(&r, &o->period, "period", err)))
		return rc;
	if (ctng_type_kind(o->type) != CTNG_KIND_INIT)
		rc = dec_attest(&r, net, o, err);
	else if (o->type == CTNG_STH)
		rc = dec_sth(&r, net, o, err);
	else if (o->type == CTNG_REV)
		rc = dec_rev(&r, net, o, err);
	else if (o->type == CTNG_ACC)
		rc = dec_acc(&r, net, o, err);
	else
		rc = dec_con(&r, net, o, err);
	if (rc)
		return rc;
	if (r.off != len)
		return ctng_err_set(err, CTNG_EINVAL, "wire: %zu trailing bytes", len - r.off);
	if ((rc = ctng_gossip_check(o, err)))
		return rc == CTNG_EINVAL ? ctng_err_wrap(err, "wire") : rc;
	return same_again(net, o, in, len, err);
}

int ctng_wire_decode(const ctng_network *net, const uint8_t *in, size_t len,
                     ctng_gossip_object *out, ctng_err *err)
{
	ctng_gossip_clear(out);
	int rc = decode(net, in, len, out, err);
	if (rc)
		ctng_gossip_clear(out);
	return rc;
}

/* ---------------------------------------------------------- observations */

int ctng_wire_encode_obs(const ctng_network *net, const ctng_observation *o, ctng_buf *out,
                         ctng_err *err)
{
	int rc;
	if (!net)
		return ctng_err_set(err, CTNG_EINVAL, "wire: no network");
	if ((rc = ctng_obs_check(o, err)))
		return rc;
	if (o->period > PERIOD_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: period out of range");
	size_t mark = out->len;
	ctng_role role = o->family == CTNG_FAM_STH ? CTNG_ROLE_LOGGER : CTNG_ROLE_CA;
	if (ctng_buf_append_u8(out, CTNG_WIRE_OBS_CODE))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc)
		rc = ent_put(out, net, o->monitor, CTNG_ROLE_MONITOR, "monitor", err);
	if (!rc)
		rc = ent_put(out, net, o->entity, role, "entity", err);
	if (!rc && (put_uv(out, o->period) ||
	            put_uv(out, (uint64_t)o->result | (uint64_t)o->checks << 2) ||
	            (o->result == CTNG_OBS_OBTAINED && ctng_buf_append(out, o->digest, 32))))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc)
		rc = sig_put_raw(out, o->scheme, o->sig, o->sig_len, "signature", err);
	if (rc)
		out->len = mark;
	return rc;
}

static int decode_obs(const ctng_network *net, const uint8_t *in, size_t len, ctng_observation *o,
                      ctng_err *err)
{
	rd r = {in, len, 0};
	uint8_t code;
	uint64_t rc_bits, i;
	const uint8_t *digest;
	int rc;
	if (!net)
		return ctng_err_set(err, CTNG_EINVAL, "wire: no network");
	if (len > CTNG_WIRE_OBS_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: observation larger than %d bytes",
		                    CTNG_WIRE_OBS_MAX);
	if ((rc = get_u8(&r, &code, "type", err)))
		return rc;
	if (code != CTNG_WIRE_OBS_CODE)
		return ctng_err_set(err, CTNG_EINVAL, "wire: not an observation (code 0x%02x)",
		                    code);
	if ((rc = ent_get(&r, net, CTNG_ROLE_MONITOR, o->monitor, "monitor", err)) ||
	    (rc = get_uv(&r, &i, "entity", err)))
		return rc;
	if (i >= net->n_entities)
		return ctng_err_set(err, CTNG_EINVAL, "wire: entity: entity %llu out of range",
		                    (unsigned long long)i);
	const ctng_entity *e = &net->entities[i];
	if (e->role != CTNG_ROLE_LOGGER && e->role != CTNG_ROLE_CA)
		return ctng_err_set(err, CTNG_EINVAL, "wire: entity: neither a logger nor a CA");
	snprintf(o->entity, sizeof o->entity, "%s", e->id);
	o->family = e->role == CTNG_ROLE_LOGGER ? CTNG_FAM_STH : CTNG_FAM_REV;
	if ((rc = get_uv(&r, &o->period, "period", err)) ||
	    (rc = get_uv(&r, &rc_bits, "result", err)))
		return rc;
	if (rc_bits >> 2 > UINT32_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "wire: result: unknown checks");
	o->result = (enum ctng_obs_result)(rc_bits & 3);
	o->checks = (uint32_t)(rc_bits >> 2);
	if (o->result == CTNG_OBS_OBTAINED) {
		if ((rc = get_bytes(&r, 32, &digest, "digest", err)))
			return rc;
		memcpy(o->digest, digest, 32);
	}
	uint8_t sig[80];
	size_t n;
	if ((rc = sig_get_raw(&r, &o->scheme, sig, &n, "signature", err)))
		return rc;
	if (n > sizeof o->sig)
		return ctng_err_set(err, CTNG_EINVAL, "wire: signature too long");
	memcpy(o->sig, sig, n);
	o->sig_len = n;
	if (r.off != len)
		return ctng_err_set(err, CTNG_EINVAL, "wire: %zu trailing bytes", len - r.off);
	if ((rc = ctng_obs_check(o, err)))
		return rc == CTNG_EINVAL ? ctng_err_wrap(err, "wire") : rc;
	ctng_buf again = {0};
	rc = ctng_wire_encode_obs(net, o, &again, err);
	if (!rc && (again.len != len || memcmp(again.data, in, len) != 0))
		rc = ctng_err_set(err, CTNG_EINVAL, "wire: not canonical");
	ctng_buf_free(&again);
	return rc;
}

int ctng_wire_decode_obs(const ctng_network *net, const uint8_t *in, size_t len,
                         ctng_observation *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	int rc = decode_obs(net, in, len, out, err);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
