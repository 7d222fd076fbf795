/*
 * objects.c — the canonical signed bytes of STH, REV and ACC objects, their
 * signing and verification, CON (proof of conflicting signed objects), the
 * attestation bytes that FRAG/FULL BLS signatures cover, and the CRV hash /
 * delta encoding of REV (docs/protocol.md §4-§6).
 */
#include <openssl/evp.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_internal.h"

#define S(x) ctng_gossip_str(x)

static const char TAG_REV[] = "CTng/v1/REV";      /* + NUL: 12 bytes */
static const char TAG_ACC[] = "CTng/v1/ACC";      /* + NUL: 12 bytes */
static const char TAG_CRV[] = "CTng/v1/CRV";      /* + NUL: 12 bytes */
static const char TAG_ATTEST[] = CTNG_ATTEST_TAG; /* + NUL: 15 bytes */

static void put_u64be(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The portable roaring format is little-endian. */
static uint32_t get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}


static int set_u64(char **slot, uint64_t v, ctng_err *err)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return ctng_gossip_set(slot, buf, err);
}

/* Fills the common envelope of a fresh object; all string slots become "". */
static int envelope(ctng_gossip_object *o, enum ctng_type t, uint64_t period, const char *signer,
                    uint64_t ts, enum ctng_scheme scheme, ctng_err *err)
{
	ctng_gossip_clear(o);
	o->type = t;
	o->period = period;
	if (signer) {
		if (!ctng_id_valid(signer))
			return ctng_err_set(err, CTNG_EINVAL, "signer: not a valid entity id");
		memcpy(o->signer, signer, strlen(signer) + 1);
	}
	o->timestamp_ms = ts;
	o->scheme = scheme;
	int rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		rc = ctng_gossip_set(&o->signature[i], "", err);
	for (int i = 0; i < 3 && !rc; i++)
		rc = ctng_gossip_set(&o->payload[i], "", err);
	return rc;
}

/* ------------------------------------------------------------------- STH */

void ctng_sth_tbs(const ctng_sth *sth, uint8_t out[CTNG_STH_TBS_LEN])
{
	out[0] = 0; /* version v1 */
	out[1] = 1; /* signature_type tree_hash */
	put_u64be(out + 2, sth->timestamp_ms);
	put_u64be(out + 10, sth->tree_size);
	memcpy(out + 18, sth->root, 32);
}

int ctng_sth_from_object(const ctng_gossip_object *o, ctng_sth *sth, ctng_err *err)
{
	memset(sth, 0, sizeof(*sth));
	if (o->type != CTNG_STH)
		return ctng_err_set(err, CTNG_EINVAL, "type: not an STH");
	int rc;
	if ((rc = ctng_parse_u64(S(o->payload[0]), UINT64_MAX, &sth->tree_size, err)))
		return ctng_err_wrap(err, "payload[0] (tree size)");
	if (!proto_is_lower_hex(S(o->payload[1]), 32))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "payload[1] (root hash): must be 64 lower-case hex characters");
	if ((rc = ctng_hex_decode_exact(sth->root, 32, o->payload[1], err)))
		return ctng_err_wrap(err, "payload[1] (root hash)");
	if ((rc = ctng_parse_u64(S(o->payload[2]), UINT64_MAX, &sth->timestamp_ms, err)))
		return ctng_err_wrap(err, "payload[2] (timestamp)");
	return 0;
}

int ctng_digitally_signed_encode(const uint8_t *sig, size_t sig_len, uint8_t **out, size_t *out_len,
                                 ctng_err *err)
{
	*out = NULL;
	*out_len = 0;
	if (sig_len == 0 || sig_len > 0xffff)
		return ctng_err_set(err, CTNG_EINVAL, "signature length out of range");
	uint8_t *p = malloc(sig_len + 4);
	if (!p)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	p[0] = 4; /* HashAlgorithm sha256 */
	p[1] = 3; /* SignatureAlgorithm ecdsa */
	p[2] = (uint8_t)(sig_len >> 8);
	p[3] = (uint8_t)sig_len;
	memcpy(p + 4, sig, sig_len);
	*out = p;
	*out_len = sig_len + 4;
	return 0;
}

int ctng_digitally_signed_decode(const uint8_t *in, size_t in_len, const uint8_t **sig,
                                 size_t *sig_len, ctng_err *err)
{
	*sig = NULL;
	*sig_len = 0;
	if (in_len < 4)
		return ctng_err_set(err, CTNG_EINVAL, "DigitallySigned too short");
	if (in[0] != 4 || in[1] != 3)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "DigitallySigned must be sha256 (4) / ecdsa (3), got %u/%u",
		                    in[0], in[1]);
	size_t n = ((size_t)in[2] << 8) | in[3];
	if (n != in_len - 4)
		return ctng_err_set(err, CTNG_EINVAL, "DigitallySigned length mismatch");
	if (n < 8 || n > 72)
		return ctng_err_set(err, CTNG_EINVAL, "ECDSA signature length %zu out of range", n);
	*sig = in + 4;
	*sig_len = n;
	return 0;
}

int ctng_sth_sign(ctng_gossip_object *out, const char *logger_id, const ctng_sig_key *key,
                  const ctng_sth *sth, const ctng_clock *clock, ctng_err *err)
{
	ctng_gossip_clear(out);
	if (ctng_sig_key_alg(key) != CTNG_SIG_ECDSA_P256)
		return ctng_err_set(err, CTNG_EINVAL, "an STH must be signed with ECDSA P-256");
	uint64_t period;
	if (!clock || !ctng_clock_period_of(clock, sth->timestamp_ms, &period))
		return ctng_err_set(err, CTNG_ERANGE, "STH timestamp is before genesis");
	uint8_t tbs[CTNG_STH_TBS_LEN], sig[CTNG_SIG_MAX_LEN];
	size_t sig_len = 0, ds_len = 0;
	uint8_t *ds = NULL;
	ctng_sth_tbs(sth, tbs);
	int rc;
	if ((rc = envelope(out, CTNG_STH, period, logger_id, sth->timestamp_ms,
	                   CTNG_SCHEME_ECDSA_P256, err)) ||
	    (rc = ctng_sig_sign(key, tbs, sizeof(tbs), sig, &sig_len, err)) ||
	    (rc = ctng_digitally_signed_encode(sig, sig_len, &ds, &ds_len, err)) ||
	    (rc = ctng_gossip_set_b64(&out->signature[0], ds, ds_len, err)) ||
	    (rc = set_u64(&out->payload[0], sth->tree_size, err)) ||
	    (rc = ctng_gossip_set_hex(&out->payload[1], sth->root, 32, err)) ||
	    (rc = set_u64(&out->payload[2], sth->timestamp_ms, err)) ||
	    (rc = ctng_gossip_check(out, err)))
		ctng_gossip_clear(out);
	free(ds);
	return rc;
}

/* ------------------------------------------------------------------- REV */

void ctng_rev_clear(ctng_rev *r)
{
	if (!r)
		return;
	free(r->delta);
	memset(r, 0, sizeof(*r));
}

int ctng_rev_from_object(const ctng_gossip_object *o, ctng_rev *r, ctng_err *err)
{
	memset(r, 0, sizeof(*r));
	if (o->type != CTNG_REV)
		return ctng_err_set(err, CTNG_EINVAL, "type: not a REV");
	int rc;
	if (!proto_is_lower_hex(S(o->payload[0]), 32) || !proto_is_lower_hex(S(o->payload[1]), 32))
		return ctng_err_set(err, CTNG_EINVAL, "payload[0..1]: must be SHA-256 hex");
	if ((rc = ctng_hex_decode_exact(r->crv_hash, 32, o->payload[0], err)) ||
	    (rc = ctng_hex_decode_exact(r->delta_hash, 32, o->payload[1], err)))
		return rc;
	const char *d = S(o->payload[2]);
	if (strlen(d) > CTNG_REV_DELTA_B64_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "payload[2]: delta too large");
	if ((rc = ctng_b64_decode_alloc(d, strlen(d), &r->delta, &r->delta_len, err))) {
		ctng_rev_clear(r);
		return ctng_err_wrap(err, "payload[2] (delta)");
	}
	return 0;
}

int ctng_rev_sign(ctng_gossip_object *out, const char *ca_id, const ctng_sig_key *key,
                  uint64_t period, const uint8_t crv_hash[32], const uint8_t *delta,
                  size_t delta_len, uint64_t now_ms, ctng_err *err)
{
	ctng_gossip_clear(out);
	ctng_sig_alg alg = ctng_sig_key_alg(key);
	if (alg != CTNG_SIG_ECDSA_P256 && alg != CTNG_SIG_ED25519)
		return ctng_err_set(err, CTNG_EINVAL, "REV key must be ECDSA P-256 or Ed25519");
	if (delta_len == 0 || ctng_b64_encoded_len(delta_len) > CTNG_REV_DELTA_B64_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "REV delta empty or too large");
	uint8_t dh[32], sig[CTNG_SIG_MAX_LEN];
	size_t sig_len = 0;
	ctng_buf tbs = {0};
	int rc;
	if ((rc = envelope(out, CTNG_REV, period, ca_id, now_ms, (enum ctng_scheme)alg, err)) ||
	    (rc = proto_sha256(delta, delta_len, dh, err)) ||
	    (rc = ctng_gossip_set_hex(&out->payload[0], crv_hash, 32, err)) ||
	    (rc = ctng_gossip_set_hex(&out->payload[1], dh, 32, err)) ||
	    (rc = ctng_gossip_set_b64(&out->payload[2], delta, delta_len, err)) ||
	    (rc = ctng_gossip_signed_bytes(out, &tbs, err)) ||
	    (rc = ctng_sig_sign(key, tbs.data, tbs.len, sig, &sig_len, err)) ||
	    (rc = ctng_gossip_set_b64(&out->signature[0], sig, sig_len, err)) ||
	    (rc = ctng_gossip_check(out, err)))
		ctng_gossip_clear(out);
	ctng_buf_free(&tbs);
	return rc;
}

struct crv_hash_ctx {
	EVP_MD_CTX *md;
	bool ok;
};

static bool crv_hash_each(uint32_t v, void *param)
{
	struct crv_hash_ctx *c = param;
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	if (EVP_DigestUpdate(c->md, b, 4) != 1)
		c->ok = false;
	return c->ok;
}

int ctng_crv_hash(const struct roaring_bitmap_s *crv, uint8_t out[32], ctng_err *err)
{
	struct crv_hash_ctx c = {EVP_MD_CTX_new(), true};
	if (!c.md)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	uint8_t card[8];
	put_u64be(card, roaring_bitmap_get_cardinality(crv));
	unsigned int n = 0;
	c.ok = EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) == 1 &&
	       EVP_DigestUpdate(c.md, TAG_CRV, sizeof(TAG_CRV)) == 1 &&
	       EVP_DigestUpdate(c.md, card, 8) == 1;
	if (c.ok)
		roaring_iterate(crv, crv_hash_each, &c);
	c.ok = c.ok && EVP_DigestFinal_ex(c.md, out, &n) == 1 && n == 32;
	EVP_MD_CTX_free(c.md);
	return c.ok ? 0 : ctng_err_set(err, CTNG_ENOMEM, "SHA-256 failed");
}

int ctng_crv_delta_encode(const struct roaring_bitmap_s *delta, uint8_t **out, size_t *len,
                          ctng_err *err)
{
	*out = NULL;
	*len = 0;
	roaring_bitmap_t *c = roaring_bitmap_copy(delta);
	if (!c)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	roaring_bitmap_run_optimize(c);
	size_t n = roaring_bitmap_portable_size_in_bytes(c);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		roaring_bitmap_free(c);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	size_t w = roaring_bitmap_portable_serialize(c, (char *)buf);
	roaring_bitmap_free(c);
	if (w != n) {
		free(buf);
		return ctng_err_set(err, CTNG_EINVAL, "bitmap serialization failed");
	}
	*out = buf;
	*len = n;
	return 0;
}

struct ascending {
	const roaring_bitmap_t *b;
	uint64_t count;
	uint64_t blocks; /* 65536-value blocks holding values */
	int64_t last;
	bool ok;
};

/* Values must come strictly ascending, and each must be found by
 * roaring_bitmap_contains (what revocation checks use). The deserializer
 * accepts a run container whose run goes past its 65536-value block
 * (start 65535, length 1): iteration then yields 65536, which contains()
 * does not find, so a CRV could hash (ctng_crv_hash iterates) like one that
 * revokes RID 65536 while not revoking it. Such a value is always the first
 * of a new block after a value of the container's own block, so testing the
 * first value of each block is enough: a genuine container of that block
 * would repeat it and break the ascending order. */
static bool ascending_each(uint32_t v, void *param)
{
	struct ascending *a = param;
	if ((int64_t)v <= a->last) {
		a->ok = false;
	} else if (a->last < 0 || v >> 16 != (uint64_t)a->last >> 16) {
		a->blocks++;
		if (!roaring_bitmap_contains(a->b, v))
			a->ok = false;
	}
	a->last = v;
	a->count++;
	return a->ok;
}

int ctng_crv_delta_decode(const uint8_t *in, size_t len, struct roaring_bitmap_s **out,
                          ctng_err *err)
{
	*out = NULL;
	if (!in || len < 8 || len > CTNG_REV_DELTA_B64_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "delta: bad size %zu", len);
	roaring_bitmap_t *b = roaring_bitmap_portable_deserialize_safe((const char *)in, len);
	if (!b)
		return ctng_err_set(err, CTNG_EINVAL, "delta: not a portable roaring bitmap");
	if (roaring_bitmap_portable_size_in_bytes(b) != len) {
		roaring_bitmap_free(b);
		return ctng_err_set(err, CTNG_EINVAL, "delta: trailing bytes after the bitmap");
	}
	/* The deserializer trusts container contents; check the invariants:
	 * values ascending and found, cardinalities right, and no empty
	 * container (a run container with no runs is accepted, and CRoaring's
	 * operations on it read a NULL array): as many containers (from the
	 * portable header: cookie 12347 | (n - 1) << 16, or 12346 then n) as
	 * blocks with values. */
	uint32_t cookie = get_u32le(in);
	uint64_t containers = (cookie & 0xffff) == 12347 ? (cookie >> 16) + 1
	                      : cookie == 12346          ? get_u32le(in + 4)
	                                                 : 0;
	struct ascending a = {b, 0, 0, -1, true};
	roaring_iterate(b, ascending_each, &a);
	if (!a.ok || a.count != roaring_bitmap_get_cardinality(b) || a.blocks != containers) {
		roaring_bitmap_free(b);
		return ctng_err_set(err, CTNG_EINVAL, "delta: malformed bitmap containers");
	}
	*out = b;
	return 0;
}

/* ------------------------------------------------------------------- ACC */

int ctng_acc_sign(ctng_gossip_object *out, const char *monitor_id, const ctng_sig_key *key,
                  const char *accused_id, uint64_t period, uint64_t now_ms, ctng_err *err)
{
	ctng_gossip_clear(out);
	ctng_sig_alg alg = ctng_sig_key_alg(key);
	if (alg != CTNG_SIG_ECDSA_P256 && alg != CTNG_SIG_ED25519)
		return ctng_err_set(err, CTNG_EINVAL, "ACC key must be ECDSA P-256 or Ed25519");
	if (!ctng_id_valid(accused_id))
		return ctng_err_set(err, CTNG_EINVAL, "accused: not a valid entity id");
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sig_len = 0;
	ctng_buf tbs = {0};
	int rc;
	if ((rc =
	         envelope(out, CTNG_ACC, period, monitor_id, now_ms, (enum ctng_scheme)alg, err)) ||
	    (rc = ctng_gossip_set(&out->payload[0], accused_id, err)) ||
	    (rc = ctng_gossip_signed_bytes(out, &tbs, err)) ||
	    (rc = ctng_sig_sign(key, tbs.data, tbs.len, sig, &sig_len, err)) ||
	    (rc = ctng_gossip_set_b64(&out->signature[0], sig, sig_len, err)) ||
	    (rc = ctng_gossip_check(out, err)))
		ctng_gossip_clear(out);
	ctng_buf_free(&tbs);
	return rc;
}

/* ------------------------------------------------- signed bytes / verify */

int ctng_gossip_signed_bytes(const ctng_gossip_object *o, ctng_buf *out, ctng_err *err)
{
	int rc = 0;
	uint8_t h[32];
	switch (o->type) {
	case CTNG_STH: {
		ctng_sth sth;
		uint8_t tbs[CTNG_STH_TBS_LEN];
		if ((rc = ctng_sth_from_object(o, &sth, err)))
			return rc;
		ctng_sth_tbs(&sth, tbs);
		rc = ctng_buf_append(out, tbs, sizeof(tbs));
		break;
	}
	case CTNG_REV:
		if (!ctng_id_valid(o->signer))
			return ctng_err_set(err, CTNG_EINVAL, "signer: not a valid entity id");
		if (!proto_is_lower_hex(S(o->payload[0]), 32) ||
		    !proto_is_lower_hex(S(o->payload[1]), 32))
			return ctng_err_set(err, CTNG_EINVAL, "payload[0..1]: must be SHA-256 hex");
		rc = ctng_buf_append(out, TAG_REV, sizeof(TAG_REV));
		rc = rc ? rc : ctng_buf_append_lp32(out, o->signer, strlen(o->signer));
		rc = rc ? rc : ctng_buf_append_u64be(out, o->period);
		for (int i = 0; i < 2 && !rc; i++) {
			ctng_hex_decode_exact(h, 32, o->payload[i], NULL);
			rc = ctng_buf_append(out, h, 32);
		}
		break;
	case CTNG_ACC:
		if (!ctng_id_valid(o->signer) || !ctng_id_valid(S(o->payload[0])))
			return ctng_err_set(err, CTNG_EINVAL, "ACC: signer or accused id invalid");
		rc = ctng_buf_append(out, TAG_ACC, sizeof(TAG_ACC));
		rc = rc ? rc : ctng_buf_append_lp32(out, o->signer, strlen(o->signer));
		rc = rc ? rc : ctng_buf_append_lp32(out, o->payload[0], strlen(o->payload[0]));
		rc = rc ? rc : ctng_buf_append_u64be(out, o->period);
		break;
	default:
		return ctng_err_set(err, CTNG_EINVAL, "type: %s objects carry no entity signature",
		                    ctng_type_name(o->type) ? ctng_type_name(o->type) : "unknown");
	}
	return rc ? ctng_err_set(err, CTNG_ENOMEM, "out of memory") : 0;
}

int ctng_gossip_verify_signed(const ctng_gossip_object *o, const ctng_sig_key *signer_key,
                              const ctng_clock *clock, ctng_err *err)
{
	if (o->type != CTNG_STH && o->type != CTNG_REV && o->type != CTNG_ACC)
		return ctng_err_set(err, CTNG_EINVAL, "type: not an STH, REV or ACC");
	int rc = ctng_gossip_check(o, err);
	if (rc)
		return rc;
	if (!signer_key)
		return ctng_err_set(err, CTNG_EINVAL, "no key for signer %s", o->signer);
	if ((int)ctng_sig_key_alg(signer_key) != (int)o->scheme)
		return ctng_err_set(err, CTNG_EVERIFY, "crypto_scheme %s does not match %s's key",
		                    ctng_scheme_name(o->scheme), o->signer);
	if (o->type == CTNG_STH) {
		ctng_sth sth;
		uint64_t p;
		if (!clock)
			return ctng_err_set(err, CTNG_EINVAL, "STH verification needs the clock");
		if ((rc = ctng_sth_from_object(o, &sth, err)))
			return rc;
		if (!ctng_clock_period_of(clock, sth.timestamp_ms, &p) || p != o->period)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "STH period %llu does not match its timestamp",
			                    (unsigned long long)o->period);
	}
	if (o->type == CTNG_REV) {
		ctng_rev r;
		uint8_t h[32];
		if ((rc = ctng_rev_from_object(o, &r, err)))
			return rc;
		rc = proto_sha256(r.delta, r.delta_len, h, err);
		bool same = rc == 0 && memcmp(h, r.delta_hash, 32) == 0;
		ctng_rev_clear(&r);
		if (rc)
			return rc;
		if (!same)
			return ctng_err_set(err, CTNG_EVERIFY, "REV delta does not match its hash");
	}
	const char *s = S(o->signature[0]);
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	if ((rc = ctng_b64_decode_alloc(s, strlen(s), &raw, &raw_len, err)))
		return ctng_err_wrap(err, "signature[0]");
	const uint8_t *sig = raw;
	size_t sig_len = raw_len;
	if (o->type == CTNG_STH &&
	    (rc = ctng_digitally_signed_decode(raw, raw_len, &sig, &sig_len, err))) {
		free(raw);
		return rc;
	}
	ctng_buf tbs = {0};
	rc = ctng_gossip_signed_bytes(o, &tbs, err);
	if (!rc) {
		rc = ctng_sig_verify(signer_key, tbs.data, tbs.len, sig, sig_len, err);
		if (rc == CTNG_EVERIFY)
			ctng_err_set(err, rc, "%s signature of %s does not verify",
			             ctng_type_name(o->type), o->signer);
	}
	ctng_buf_free(&tbs);
	free(raw);
	return rc;
}

/* ------------------------------------------------------------------- CON */

/* Signed bytes of both; returns <0 error, else sets *cmp (memcmp order). */
static int compare_signed(const ctng_gossip_object *a, const ctng_gossip_object *b, int *cmp,
                          ctng_err *err)
{
	ctng_buf ba = {0}, bb = {0};
	int rc = ctng_gossip_signed_bytes(a, &ba, err);
	rc = rc ? rc : ctng_gossip_signed_bytes(b, &bb, err);
	if (!rc) {
		size_t m = ba.len < bb.len ? ba.len : bb.len;
		int c = memcmp(ba.data, bb.data, m);
		if (c == 0)
			c = ba.len < bb.len ? -1 : ba.len > bb.len ? 1 : 0;
		*cmp = c;
	}
	ctng_buf_free(&ba);
	ctng_buf_free(&bb);
	return rc;
}

bool ctng_gossip_conflicting(const ctng_gossip_object *a, const ctng_gossip_object *b)
{
	if (a->type != b->type || (a->type != CTNG_STH && a->type != CTNG_REV))
		return false;
	if (!a->signer[0] || strcmp(a->signer, b->signer) != 0 || a->period != b->period)
		return false;
	int c = 0;
	return compare_signed(a, b, &c, NULL) == 0 && c != 0;
}

int ctng_con_build(ctng_gossip_object *out, const ctng_gossip_object *a,
                   const ctng_gossip_object *b, uint64_t now_ms, ctng_err *err)
{
	ctng_gossip_clear(out);
	if (!ctng_gossip_conflicting(a, b))
		return ctng_err_set(err, CTNG_EINVAL, "objects do not conflict");
	if (a->scheme != b->scheme)
		return ctng_err_set(err, CTNG_EINVAL, "conflicting objects use different schemes");
	int c = 0, rc;
	if ((rc = compare_signed(a, b, &c, err)))
		return rc;
	const ctng_gossip_object *first = c < 0 ? a : b, *second = c < 0 ? b : a;
	char *e1 = NULL, *e2 = NULL;
	if ((rc = ctng_gossip_encode(first, &e1, NULL, err)) ||
	    (rc = ctng_gossip_encode(second, &e2, NULL, err)) ||
	    (rc = envelope(out, CTNG_CON, a->period, NULL, now_ms, a->scheme, err)) ||
	    (rc = ctng_gossip_set(&out->payload[0], a->signer, err)))
		goto done;
	free(out->payload[1]);
	free(out->payload[2]);
	out->payload[1] = e1;
	out->payload[2] = e2;
	e1 = e2 = NULL;
	rc = ctng_gossip_check(out, err);
done:
	free(e1);
	free(e2);
	if (rc)
		ctng_gossip_clear(out);
	return rc;
}

int ctng_con_parts(const ctng_gossip_object *con, ctng_gossip_object *a, ctng_gossip_object *b,
                   ctng_err *err)
{
	ctng_gossip_clear(a);
	ctng_gossip_clear(b);
	if (con->type != CTNG_CON)
		return ctng_err_set(err, CTNG_EINVAL, "type: not a CON");
	if (ctng_con_is_rid(con))
		return 0; /* no gossip objects: two certificates */
	const char *p1 = S(con->payload[1]), *p2 = S(con->payload[2]);
	int rc = ctng_gossip_decode(p1, strlen(p1), a, err);
	if (rc)
		return ctng_err_wrap(err, "payload[1]");
	if (ctng_con_is_data(con))
		return 0; /* b: the evidence is not a gossip object */
	rc = ctng_gossip_decode(p2, strlen(p2), b, err);
	if (rc) {
		ctng_gossip_clear(a);
		return ctng_err_wrap(err, "payload[2]");
	}
	return 0;
}

int ctng_con_verify(const ctng_gossip_object *con, const ctng_sig_key *entity_key,
                    const ctng_clock *clock, ctng_err *err)
{
	if (con->type != CTNG_CON)
		return ctng_err_set(err, CTNG_EINVAL, "type: not a CON");
	if (ctng_con_is_data(con))
		return ctng_data_con_verify(con, entity_key, clock, err);
	if (ctng_con_is_rid(con))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "a RID CON is verified against the CA's certificate "
		                    "(ctng_cert_con_verify)");
	int rc = ctng_gossip_check(con, err);
	if (rc)
		return rc;
	ctng_gossip_object a = {0}, b = {0};
	if ((rc = ctng_con_parts(con, &a, &b, err)))
		return rc;
	if ((rc = ctng_gossip_verify_signed(&a, entity_key, clock, err)) == 0)
		rc = ctng_gossip_verify_signed(&b, entity_key, clock, err);
	if (rc)
		ctng_err_wrap(err, "CON against %s", S(con->payload[0]));
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	return rc;
}

/* --------------------------------------------------------- attestations */

int ctng_attest_bytes(enum ctng_family fam, const char *entity, uint64_t period,
                      const uint8_t digest[32], ctng_buf *out, ctng_err *err)
{
	if (fam < CTNG_FAM_STH || fam > CTNG_FAM_CON)
		return ctng_err_set(err, CTNG_EINVAL, "attest: unknown family");
	if (!ctng_id_valid(entity))
		return ctng_err_set(err, CTNG_EINVAL, "attest: invalid entity id");
	bool want = fam == CTNG_FAM_STH || fam == CTNG_FAM_REV;
	if (want != (digest != NULL))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "attest: a digest is required for STH/REV and only for them");
	int rc = ctng_buf_append(out, TAG_ATTEST, sizeof(TAG_ATTEST));
	rc = rc ? rc : ctng_buf_append_u8(out, (uint8_t)fam);
	rc = rc ? rc : ctng_buf_append_lp32(out, entity, strlen(entity));
	rc = rc ? rc : ctng_buf_append_u64be(out, period);
	if (!rc && digest)
		rc = ctng_buf_append(out, digest, 32);
	return rc ? ctng_err_set(err, CTNG_ENOMEM, "out of memory") : 0;
}

int ctng_gossip_content_digest(const ctng_gossip_object *o, uint8_t digest[32], ctng_err *err)
{
	if (o->type != CTNG_STH && o->type != CTNG_REV)
		return ctng_err_set(err, CTNG_EINVAL, "content digest: only for STH and REV");
	ctng_buf b = {0};
	int rc = ctng_gossip_signed_bytes(o, &b, err);
	if (!rc)
		rc = proto_sha256(b.data, b.len, digest, err);
	ctng_buf_free(&b);
	return rc;
}

int ctng_gossip_attest_bytes(const ctng_gossip_object *o, ctng_buf *out, ctng_err *err)
{
	enum ctng_family f = ctng_type_family(o->type);
	enum ctng_kind k = ctng_type_kind(o->type);
	if (f == CTNG_FAM_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "type: unknown");
	uint8_t d[32];
	const uint8_t *dp = NULL;
	int rc;
	if (f == CTNG_FAM_STH || f == CTNG_FAM_REV) {
		if (k == CTNG_KIND_INIT)
			rc = ctng_gossip_content_digest(o, d, err);
		else if (!proto_is_lower_hex(S(o->payload[1]), 32))
			rc = ctng_err_set(err, CTNG_EINVAL, "payload[1]: digest must be 64 hex");
		else
			rc = ctng_hex_decode_exact(d, 32, o->payload[1], err);
		if (rc)
			return rc;
		dp = d;
	}
	return ctng_attest_bytes(f, ctng_gossip_entity(o), o->period, dp, out, err);
}

int ctng_frag_build(ctng_gossip_object *out, const ctng_gossip_object *init,
                    const char *gossiper_id, const uint8_t sig[48], uint64_t now_ms, ctng_err *err)
{
	ctng_gossip_clear(out);
	enum ctng_family f = ctng_type_family(init->type);
	if (ctng_type_kind(init->type) != CTNG_KIND_INIT)
		return ctng_err_set(err, CTNG_EINVAL, "FRAG: needs an STH, REV, ACC or CON");
	uint8_t d[32];
	int rc = 0;
	if (f == CTNG_FAM_STH || f == CTNG_FAM_REV)
		rc = ctng_gossip_content_digest(init, d, err);
	if (rc)
		return rc;
	if ((rc = envelope(out, ctng_type_make(f, CTNG_KIND_FRAG), init->period, gossiper_id,
	                   now_ms, CTNG_SCHEME_BLS, err)) ||
	    (rc = ctng_gossip_set(&out->payload[0], ctng_gossip_entity(init), err)) ||
	    ((f == CTNG_FAM_STH || f == CTNG_FAM_REV) &&
	     (rc = ctng_gossip_set_hex(&out->payload[1], d, 32, err))) ||
	    (rc = ctng_gossip_set_hex(&out->signature[0], sig, 48, err)) || (rc = ctng_gossip_check(out, err)))
		ctng_gossip_clear(out);
	return rc;
}

int ctng_full_build(ctng_gossip_object *out, const ctng_gossip_object *frag,
                    const char *const *signers, size_t n, const uint8_t sig[48], uint64_t now_ms,
                    ctng_err *err)
{
	ctng_gossip_clear(out);
	enum ctng_kind k = ctng_type_kind(frag->type);
	if (k != CTNG_KIND_FRAG && k != CTNG_KIND_FULL)
		return ctng_err_set(err, CTNG_EINVAL, "FULL: template must be a FRAG or FULL");
	enum ctng_family f = ctng_type_family(frag->type);
	int rc;
	if ((rc = envelope(out, ctng_type_make(f, CTNG_KIND_FULL), frag->period, NULL, now_ms,
	                   CTNG_SCHEME_BLS, err)) ||
	    (rc = ctng_gossip_set(&out->payload[0], frag->payload[0], err)) ||
	    (rc = ctng_gossip_set(&out->payload[1], frag->payload[1], err)) ||
	    (rc = ctng_gossip_set_signers(out, signers, n, err)) ||
	    (rc = ctng_gossip_set_hex(&out->signature[0], sig, 48, err)) || (rc = ctng_gossip_check(out, err)))
		ctng_gossip_clear(out);
	return rc;
}

int ctng_gossip_bls_sig(const ctng_gossip_object *o, uint8_t sig[48], ctng_err *err)
{
	enum ctng_kind k = ctng_type_kind(o->type);
	if (k != CTNG_KIND_FRAG && k != CTNG_KIND_FULL)
		return ctng_err_set(err, CTNG_EINVAL, "not a FRAG or FULL");
	if (!proto_is_lower_hex(S(o->signature[0]), 48))
		return ctng_err_set(err, CTNG_EINVAL, "signature[0]: must be 96 hex characters");
	return ctng_hex_decode_exact(sig, 48, o->signature[0], err);
}

bool ctng_gossip_attests(const ctng_gossip_object *att, const ctng_gossip_object *init)
{
	enum ctng_kind k = ctng_type_kind(att->type);
	if ((k != CTNG_KIND_FRAG && k != CTNG_KIND_FULL) ||
	    ctng_type_kind(init->type) != CTNG_KIND_INIT)
		return false;
	ctng_gossip_id a, b;
	if (ctng_gossip_id_of(att, &a, NULL) || ctng_gossip_id_of(init, &b, NULL) ||
	    !ctng_gossip_id_equal(&a, &b))
		return false;
	if (a.family != CTNG_FAM_STH && a.family != CTNG_FAM_REV)
		return true;
	uint8_t d[32];
	char hex[65];
	if (ctng_gossip_content_digest(init, d, NULL))
		return false;
	ctng_hex_encode(hex, d, 32);
	return strcmp(hex, S(att->payload[1])) == 0;
}
