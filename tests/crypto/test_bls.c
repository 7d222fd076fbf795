/*
 * test_bls.c — the BLS signature API of ctng/bls.h: KeyGen, SkToPk, Sign,
 * Verify, Aggregate, FastAggregateVerify, PoP, batch verification, and the
 * rejection of malformed keys, signatures, scalars and DSTs.
 *
 * Known answers: KeyGen(IKM = 00..1f) was recomputed independently from the
 * draft's HKDF definition (Python hmac/hashlib); the public key, the POP-DST
 * signature of "hello" and the proof of possession for that key were
 * cross-checked with @noble/curves 2.4.0 (bls12_381.shortSignatures). The
 * SkToPk pair (DFINITY_SK, DFINITY_PK) is test vector 1 of dfinity/ic
 * rs/crypto/internal/test_vectors/src/multi_bls12_381.rs (its scalar reduced
 * mod r, as that library does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/bls.h"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	ctng_err err;
	assert_int_equal(ctng_hex_decode_exact(out, n, hex, &err), 0);
}

#define KAT_SK "23360db7e337b0a32b264e06bc11c1b474d16f55665373de1ce93cf15ddb3456"
#define KAT_PK                                                                                     \
	"acfd749941a5bea56796745d1fc91668d63f9522374cb6e9c033433e3216dcad48b4fc1ab7000a365f286156" \
	"5daa6b"                                                                                   \
	"0819fd041ac58eed8c441c8b3478df6ceeaf89cc02c8119f63891a1368d7ec1d0c7e2abaaae2ac8579b7eece" \
	"473478dac7"
#define KAT_SIG_HELLO                                                                              \
	"b58cf2b58d95e38353bc0ab6187c9cf9f7befe9ec8496f237280a3e3fd84bc3c6f03634b6bdef244e82fcc73" \
	"99c70520"
#define KAT_POP                                                                                    \
	"b99321d33a3c3b4e351b7d510b9b28b697b1727eb6d57b0982e5e95f7d2b4f91d40b676624eec9478b06b35a" \
	"e67e6d98"
#define DFINITY_SK "65d5b85a63831f4cec25d4d31a5dbe10326d42c38f4d2f36f90f319d411d638a"
#define DFINITY_PK                                                                                 \
	"abf62cf8f448af4fa2071cc31fcdbe56172d90b2a466ef0a66f3f72c063f4d29192f5f19b5ee7118ad2de65d" \
	"a489efac"                                                                                 \
	"0366758ddfd009fe07afb6d02c0d201b337d0276d68e04c6c56f531a428c27abb94baaf388d36ecce932843b" \
	"8ecd9042"

static void test_known_answers(void **state)
{
	(void)state;
	uint8_t ikm[32], sk[32], want_sk[32], pk[96], want_pk[96], sig[48], want_sig[48];
	ctng_err err;
	for (int i = 0; i < 32; i++)
		ikm[i] = (uint8_t)i;
	assert_int_equal(ctng_bls_keygen(sk, ikm, sizeof ikm, &err), 0);
	unhex(want_sk, 32, KAT_SK);
	assert_memory_equal(sk, want_sk, 32);
	assert_int_equal(ctng_bls_sk_to_pk(pk, sk, &err), 0);
	unhex(want_pk, 96, KAT_PK);
	assert_memory_equal(pk, want_pk, 96);
	assert_int_equal(ctng_bls_sign(sig, sk, (const uint8_t *)"hello", 5, NULL, &err), 0);
	unhex(want_sig, 48, KAT_SIG_HELLO);
	assert_memory_equal(sig, want_sig, 48);
	/* an explicit POP DST is the same as NULL */
	assert_int_equal(
	    ctng_bls_sign(sig, sk, (const uint8_t *)"hello", 5, CTNG_BLS_DST_POP, &err), 0);
	assert_memory_equal(sig, want_sig, 48);
	assert_int_equal(ctng_bls_pop_prove(sig, sk, &err), 0);
	unhex(want_sig, 48, KAT_POP);
	assert_memory_equal(sig, want_sig, 48);
	assert_int_equal(ctng_bls_pop_verify(pk, sig, &err), 0);

	unhex(sk, 32, DFINITY_SK);
	assert_int_equal(ctng_bls_sk_to_pk(pk, sk, &err), 0);
	unhex(want_pk, 96, DFINITY_PK);
	assert_memory_equal(pk, want_pk, 96);
}

static void test_keygen_rules(void **state)
{
	(void)state;
	uint8_t ikm[40] = {0}, a[32], b[32];
	ctng_err err;
	assert_int_equal(ctng_bls_keygen(a, ikm, 31, &err), CTNG_EINVAL);
	assert_int_equal(ctng_bls_keygen(a, NULL, 32, &err), CTNG_EINVAL);
	assert_int_equal(ctng_bls_keygen(a, ikm, 32, &err), 0);
	assert_int_equal(ctng_bls_keygen(b, ikm, 32, &err), 0);
	assert_memory_equal(a, b, 32); /* deterministic */
	assert_int_equal(ctng_bls_keygen(b, ikm, 33, &err), 0);
	assert_memory_not_equal(a, b, 32); /* the whole IKM counts */
	assert_int_equal(ctng_bls_sk_check(a, &err), 0);
	assert_int_equal(ctng_bls_keygen_random(a, &err), 0);
	assert_int_equal(ctng_bls_keygen_random(b, &err), 0);
	assert_memory_not_equal(a, b, 32);
	/* scalars 0 and >= r are not keys */
	uint8_t zero[32] = {0}, big[32], pk[96], sig[48];
	memset(big, 0xff, 32);
	uint8_t r[32];
	unhex(r, 32, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
	const uint8_t *bad[] = {zero, big, r};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ctng_bls_sk_check(bad[i], &err), CTNG_EINVAL);
		assert_int_equal(ctng_bls_sk_to_pk(pk, bad[i], &err), CTNG_EINVAL);
		assert_int_equal(ctng_bls_sign(sig, bad[i], (const uint8_t *)"m", 1, NULL, &err),
		                 CTNG_EINVAL);
		assert_int_equal(ctng_bls_pop_prove(sig, bad[i], &err), CTNG_EINVAL);
	}
	r[31] = 0; /* r - 1 is the largest key */
	assert_int_equal(ctng_bls_sk_check(r, &err), 0);
}

typedef struct {
	uint8_t sk[32], pk[96];
} keypair;

static void make_key(keypair *k, uint8_t tag)
{
	uint8_t ikm[32];
	ctng_err err;
	memset(ikm, tag, sizeof ikm);
	assert_int_equal(ctng_bls_keygen(k->sk, ikm, sizeof ikm, &err), 0);
	assert_int_equal(ctng_bls_sk_to_pk(k->pk, k->sk, &err), 0);
}

static void test_sign_verify(void **state)
{
	(void)state;
	keypair a, b;
	make_key(&a, 1);
	make_key(&b, 2);
	ctng_err err;
	const uint8_t msg[] = "the period 7 STH";
	uint8_t sig[48], bad[48];
	assert_int_equal(ctng_bls_sign(sig, a.sk, msg, sizeof msg, NULL, &err), 0);
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg, sig, NULL, &err), 0);
	assert_int_equal(ctng_bls_sig_check(sig, &err), 0);
	assert_int_equal(ctng_bls_pk_check(a.pk, &err), 0);
	/* wrong message, wrong key, wrong DST */
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg - 1, sig, NULL, &err), CTNG_EVERIFY);
	assert_int_equal(ctng_bls_verify(b.pk, msg, sizeof msg, sig, NULL, &err), CTNG_EVERIFY);
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg, sig, "OTHER-DST", &err),
	                 CTNG_EVERIFY);
	/* custom DST round trip; empty and over-long DSTs are malformed */
	assert_int_equal(ctng_bls_sign(bad, a.sk, msg, sizeof msg, "OTHER-DST", &err), 0);
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg, bad, "OTHER-DST", &err), 0);
	assert_memory_not_equal(bad, sig, 48);
	char longdst[257];
	memset(longdst, 'D', 256);
	longdst[256] = 0;
	assert_int_equal(ctng_bls_sign(bad, a.sk, msg, sizeof msg, longdst, &err), CTNG_EINVAL);
	assert_int_equal(ctng_bls_sign(bad, a.sk, msg, sizeof msg, "", &err), CTNG_EINVAL);
	longdst[255] = 0;
	assert_int_equal(ctng_bls_sign(bad, a.sk, msg, sizeof msg, longdst, &err), 0);
	/* the empty message is a message */
	assert_int_equal(ctng_bls_sign(bad, a.sk, NULL, 0, NULL, &err), 0);
	assert_int_equal(ctng_bls_verify(a.pk, NULL, 0, bad, NULL, &err), 0);
	/* malformed signatures: flags, identity, not on curve */
	memcpy(bad, sig, 48);
	bad[0] &= 0x7f;
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg, bad, NULL, &err), CTNG_EINVAL);
	memset(bad, 0, 48);
	bad[0] = 0xc0;
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg, bad, NULL, &err), CTNG_EINVAL);
	assert_int_equal(ctng_bls_sig_check(bad, &err), CTNG_EINVAL);
	memcpy(bad, sig, 48);
	bad[0] ^= 0x20; /* the negated signature is well-formed but wrong */
	assert_int_equal(ctng_bls_verify(a.pk, msg, sizeof msg, bad, NULL, &err), CTNG_EVERIFY);
	/* malformed / identity public keys */
	uint8_t pk[96];
	memset(pk, 0, 96);
	pk[0] = 0xc0;
	assert_int_equal(ctng_bls_verify(pk, msg, sizeof msg, sig, NULL, &err), CTNG_EINVAL);
	assert_int_equal(ctng_bls_pk_check(pk, &err), CTNG_EINVAL);
	memcpy(pk, a.pk, 96);
	pk[95] ^= 1;
	int rc = ctng_bls_verify(pk, msg, sizeof msg, sig, NULL, &err);
	assert_int_equal(rc, CTNG_EINVAL); /* off the curve or outside G2: never EVERIFY/0 */
}

static void test_verify_prepared(void **state)
{
	(void)state;
	keypair a, b;
	make_key(&a, 5);
	make_key(&b, 6);
	ctng_err err;
	ctng_bls_pk_prepared *pa = NULL;
	assert_int_equal(ctng_bls_pk_prepare(&pa, a.pk, &err), 0);
	const uint8_t msg[] = "many signatures, one key";
	uint8_t sig[48], other[48], bad[48];
	assert_int_equal(ctng_bls_sign(sig, a.sk, msg, sizeof msg, NULL, &err), 0);
	assert_int_equal(ctng_bls_sign(other, b.sk, msg, sizeof msg, NULL, &err), 0);
	assert_int_equal(ctng_bls_verify_prepared(pa, msg, sizeof msg, sig, NULL, &err), 0);
	assert_int_equal(ctng_bls_verify_prepared(pa, msg, sizeof msg, sig, NULL, &err), 0);
	assert_int_equal(ctng_bls_verify_prepared(pa, msg, sizeof msg, other, NULL, &err),
	                 CTNG_EVERIFY);
	assert_int_equal(ctng_bls_verify_prepared(pa, msg, sizeof msg - 1, sig, NULL, &err),
	                 CTNG_EVERIFY);
	assert_int_equal(ctng_bls_verify_prepared(pa, msg, sizeof msg, sig, "D2", &err),
	                 CTNG_EVERIFY);
	memcpy(bad, sig, 48);
	bad[0] &= 0x7f;
	assert_int_equal(ctng_bls_verify_prepared(pa, msg, sizeof msg, bad, NULL, &err),
	                 CTNG_EINVAL);
	assert_int_equal(ctng_bls_verify_prepared(NULL, msg, sizeof msg, sig, NULL, &err),
	                 CTNG_EINVAL);
	ctng_bls_pk_prepared_free(pa);
	uint8_t idpk[96] = {0xc0};
	pa = NULL;
	assert_int_equal(ctng_bls_pk_prepare(&pa, idpk, &err), CTNG_EINVAL);
	assert_null(pa);
	ctng_bls_pk_prepared_free(NULL);
}

static void test_aggregate(void **state)
{
	(void)state;
	keypair k[3];
	uint8_t pks[3][96], sigs[3][48], agg[48];
	ctng_err err;
	const uint8_t msg[] = "same message";
	for (int i = 0; i < 3; i++) {
		make_key(&k[i], (uint8_t)(10 + i));
		memcpy(pks[i], k[i].pk, 96);
		assert_int_equal(ctng_bls_sign(sigs[i], k[i].sk, msg, sizeof msg, NULL, &err), 0);
		uint8_t pop[48];
		assert_int_equal(ctng_bls_pop_prove(pop, k[i].sk, &err), 0);
		assert_int_equal(ctng_bls_pop_verify(k[i].pk, pop, &err), 0);
		if (i > 0) /* a proof does not transfer to another key */
			assert_int_equal(ctng_bls_pop_verify(k[i - 1].pk, pop, &err), CTNG_EVERIFY);
	}
	assert_int_equal(ctng_bls_aggregate(agg, (const uint8_t(*)[48])sigs, 3, &err), 0);
	assert_int_equal(ctng_bls_fast_aggregate_verify((const uint8_t(*)[96])pks, 3, msg,
	                                                sizeof msg, agg, NULL, &err),
	                 0);
	assert_int_equal(ctng_bls_fast_aggregate_verify((const uint8_t(*)[96])pks, 2, msg,
	                                                sizeof msg, agg, NULL, &err),
	                 CTNG_EVERIFY);
	assert_int_equal(ctng_bls_fast_aggregate_verify((const uint8_t(*)[96])pks, 3, msg,
	                                                sizeof msg - 1, agg, NULL, &err),
	                 CTNG_EVERIFY);
	assert_int_equal(ctng_bls_aggregate(agg, (const uint8_t(*)[48])sigs, 0, &err), CTNG_EINVAL);
	assert_int_equal(ctng_bls_fast_aggregate_verify((const uint8_t(*)[96])pks, 0, msg,
	                                                sizeof msg, agg, NULL, &err),
	                 CTNG_EINVAL);
	/* aggregating one signature is the identity map */
	assert_int_equal(ctng_bls_aggregate(agg, (const uint8_t(*)[48])sigs, 1, &err), 0);
	assert_memory_equal(agg, sigs[0], 48);
	sigs[1][0] &= 0x7f;
	assert_int_equal(ctng_bls_aggregate(agg, (const uint8_t(*)[48])sigs, 3, &err), CTNG_EINVAL);
}

static void test_batch_verify(void **state)
{
	(void)state;
	enum { N = 5 };
	keypair k[N];
	uint8_t sigs[N][48];
	char msgs[N][16];
	ctng_bls_batch_item items[N];
	ctng_err err;
	for (int i = 0; i < N; i++) {
		make_key(&k[i], (uint8_t)(20 + i));
		int n = snprintf(msgs[i], sizeof msgs[i], "msg %d", i);
		assert_int_equal(ctng_bls_sign(sigs[i], k[i].sk, (const uint8_t *)msgs[i],
		                               (size_t)n, NULL, &err),
		                 0);
		items[i] =
		    (ctng_bls_batch_item){k[i].pk, (const uint8_t *)msgs[i], (size_t)n, sigs[i]};
	}
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), 0);
	assert_int_equal(ctng_bls_batch_verify(items, 0, NULL, &err), 0);
	assert_int_equal(ctng_bls_batch_verify(items, 1, NULL, &err), 0);
	/* two signatures swapped: each is valid somewhere, the batch is not */
	items[1].sig = sigs[2];
	items[2].sig = sigs[1];
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), CTNG_EVERIFY);
	items[1].sig = sigs[1];
	items[2].sig = sigs[2];
	items[3].msg_len--;
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), CTNG_EVERIFY);
	items[3].msg_len++;
	uint8_t bad[48];
	memcpy(bad, sigs[4], 48);
	bad[0] &= 0x7f;
	items[4].sig = bad;
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), CTNG_EINVAL);
}

/* many messages under one key (the client's case), plus a second key */
static void test_batch_same_key(void **state)
{
	(void)state;
	enum { N = 6 };
	keypair k, o;
	make_key(&k, 40);
	make_key(&o, 41);
	uint8_t sigs[N][48];
	uint8_t msgs[N][8];
	ctng_bls_batch_item items[N];
	ctng_err err;
	for (int i = 0; i < N; i++) {
		memset(msgs[i], 'a' + i, sizeof msgs[i]);
		const keypair *kp = i == 3 ? &o : &k;
		assert_int_equal(
		    ctng_bls_sign(sigs[i], kp->sk, msgs[i], sizeof msgs[i], NULL, &err), 0);
		items[i] = (ctng_bls_batch_item){kp->pk, msgs[i], sizeof msgs[i], sigs[i]};
	}
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), 0);
	/* the same signature under the other key fails */
	items[3].pk = k.pk;
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), CTNG_EVERIFY);
	items[3].pk = o.pk;
	/* two items exchanging signatures under the same key fail */
	items[0].sig = sigs[1];
	items[1].sig = sigs[0];
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), CTNG_EVERIFY);
	items[0].sig = sigs[0];
	items[1].sig = sigs[1];
	/* a malformed key in a later item is reported */
	uint8_t badpk[96];
	memcpy(badpk, k.pk, 96);
	badpk[0] &= 0x7f;
	items[5].pk = badpk;
	assert_int_equal(ctng_bls_batch_verify(items, N, NULL, &err), CTNG_EINVAL);
}

static void test_hash_to_g1_api(void **state)
{
	(void)state;
	uint8_t a[48], b[48];
	ctng_err err;
	assert_int_equal(ctng_bls_hash_to_g1(a, (const uint8_t *)"x", 1, NULL, &err), 0);
	assert_int_equal(ctng_bls_hash_to_g1(b, (const uint8_t *)"x", 1, CTNG_BLS_DST_POP, &err),
	                 0);
	assert_memory_equal(a, b, 48);
	assert_int_equal(ctng_bls_sig_check(a, &err), 0);
	assert_int_equal(ctng_bls_hash_to_g1(b, (const uint8_t *)"x", 1, "D", &err), 0);
	assert_memory_not_equal(a, b, 48);
	assert_int_equal(ctng_bls_hash_to_g1(b, (const uint8_t *)"x", 1, "", &err), CTNG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_answers),  cmocka_unit_test(test_keygen_rules),
	    cmocka_unit_test(test_sign_verify),    cmocka_unit_test(test_verify_prepared),
	    cmocka_unit_test(test_aggregate),      cmocka_unit_test(test_batch_verify),
	    cmocka_unit_test(test_batch_same_key), cmocka_unit_test(test_hash_to_g1_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
