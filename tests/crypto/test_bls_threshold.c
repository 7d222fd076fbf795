/*
 * test_bls_threshold.c — threshold BLS (ctng/bls.h): dealing, Feldman share
 * keys, combination. Every t-subset of n shares gives the same group
 * signature, valid under the group key; no (t-1)-subset ever yields a valid
 * one; a corrupted partial is caught by partial verification and spoils the
 * combination; id 0, duplicate ids and too few partials are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/bls.h"

typedef struct {
	uint32_t t, n;
	uint8_t group_pk[96];
	uint8_t (*com)[96];
	ctng_bls_share *sh;
	uint8_t (*part)[48];
} dealt;

static const uint8_t MSG[] = "STH period 42 root 00ff";

static void deal(dealt *d, uint32_t t, uint32_t n, const uint8_t *seed)
{
	ctng_err err;
	d->t = t;
	d->n = n;
	d->com = calloc(t, sizeof *d->com);
	d->sh = calloc(n, sizeof *d->sh);
	d->part = calloc(n, sizeof *d->part);
	assert_non_null(d->com);
	assert_non_null(d->sh);
	assert_non_null(d->part);
	assert_int_equal(ctng_bls_deal(t, n, seed, seed ? 32 : 0, d->group_pk, d->com, d->sh, &err),
	                 0);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(d->sh[i].id, i + 1);
		assert_int_equal(
		    ctng_bls_sign(d->part[i], d->sh[i].sk, MSG, sizeof MSG, NULL, &err), 0);
	}
}

static void undeal(dealt *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		ctng_wipe(d->sh[i].sk, sizeof d->sh[i].sk);
	free(d->com);
	free(d->sh);
	free(d->part);
}

/* combine the partials of the given share indexes (0-based) */
static int combine(const dealt *d, const uint32_t *idx, size_t k, uint32_t t, uint8_t sig[48])
{
	uint32_t ids[32];
	uint8_t parts[32][48];
	ctng_err err;
	for (size_t i = 0; i < k; i++) {
		ids[i] = d->sh[idx[i]].id;
		memcpy(parts[i], d->part[idx[i]], 48);
	}
	return ctng_bls_combine(sig, ids, (const uint8_t(*)[48])parts, k, t, &err);
}

static void test_deal_and_share_keys(void **state)
{
	(void)state;
	uint8_t seed[32];
	memset(seed, 7, sizeof seed);
	dealt d, e;
	deal(&d, 3, 5, seed);
	deal(&e, 3, 5, seed);
	ctng_err err;
	/* deterministic from the seed; C_0 is the group key */
	assert_memory_equal(d.group_pk, e.group_pk, 96);
	assert_memory_equal(d.com[0], d.group_pk, 96);
	assert_memory_equal(d.sh[4].sk, e.sh[4].sk, 32);
	assert_int_equal(ctng_bls_pk_check(d.group_pk, &err), 0);
	for (uint32_t i = 0; i < d.n; i++) {
		uint8_t pk[96];
		assert_int_equal(ctng_bls_sk_to_pk(pk, d.sh[i].sk, &err), 0);
		assert_memory_equal(pk, d.sh[i].pk, 96);
		assert_int_equal(ctng_bls_share_pk_from_commitments(pk, (const uint8_t(*)[96])d.com,
		                                                    3, i + 1, &err),
		                 0);
		assert_memory_equal(pk, d.sh[i].pk, 96);
		assert_int_equal(
		    ctng_bls_partial_verify(pk, MSG, sizeof MSG, d.part[i], NULL, &err), 0);
	}
	/* a share key for an id outside 1..n still follows the polynomial; id 0 is refused */
	uint8_t pk[96];
	assert_int_equal(
	    ctng_bls_share_pk_from_commitments(pk, (const uint8_t(*)[96])d.com, 3, 0, &err),
	    CTNG_EINVAL);
	/* a tampered commitment yields different share keys */
	uint8_t bad[3][96];
	memcpy(bad, d.com, sizeof bad);
	memcpy(bad[2], d.com[1], 96);
	assert_int_equal(
	    ctng_bls_share_pk_from_commitments(pk, (const uint8_t(*)[96])bad, 3, 2, &err), 0);
	assert_memory_not_equal(pk, d.sh[1].pk, 96);
	bad[1][0] &= 0x7f;
	assert_int_equal(
	    ctng_bls_share_pk_from_commitments(pk, (const uint8_t(*)[96])bad, 3, 2, &err),
	    CTNG_EINVAL);
	/* random dealing differs */
	dealt r;
	deal(&r, 3, 5, NULL);
	assert_memory_not_equal(r.group_pk, d.group_pk, 96);
	undeal(&r);
	undeal(&d);
	undeal(&e);
}

static void test_every_subset(void **state)
{
	(void)state;
	dealt d;
	deal(&d, 3, 5, NULL);
	ctng_err err;
	uint8_t first[48], sig[48];
	int subsets = 0;
	for (uint32_t mask = 0; mask < 32; mask++) {
		if (__builtin_popcount(mask) != 3)
			continue;
		uint32_t idx[3];
		size_t k = 0;
		for (uint32_t i = 0; i < 5; i++)
			if (mask & (1u << i))
				idx[k++] = i;
		assert_int_equal(combine(&d, idx, 3, 3, sig), 0);
		assert_int_equal(ctng_bls_verify(d.group_pk, MSG, sizeof MSG, sig, NULL, &err), 0);
		if (subsets++ == 0)
			memcpy(first, sig, 48);
		else
			assert_memory_equal(sig, first, 48);
		/* order does not matter */
		uint32_t rev[3] = {idx[2], idx[0], idx[1]};
		assert_int_equal(combine(&d, rev, 3, 3, sig), 0);
		assert_memory_equal(sig, first, 48);
	}
	assert_int_equal(subsets, 10);
	/* more than t partials: the first t are used */
	uint32_t all[5] = {4, 3, 2, 1, 0};
	assert_int_equal(combine(&d, all, 5, 3, sig), 0);
	assert_memory_equal(sig, first, 48);
	/* any t-1 shares, interpolated as if t-1 were the threshold, never verify */
	for (uint32_t i = 0; i < 5; i++)
		for (uint32_t j = i + 1; j < 5; j++) {
			uint32_t idx[2] = {i, j};
			assert_int_equal(combine(&d, idx, 2, 3, sig), CTNG_EINVAL); /* too few */
			assert_int_equal(combine(&d, idx, 2, 2, sig), 0);
			assert_int_equal(
			    ctng_bls_verify(d.group_pk, MSG, sizeof MSG, sig, NULL, &err),
			    CTNG_EVERIFY);
		}
	undeal(&d);
}

static void test_corrupted_partial(void **state)
{
	(void)state;
	dealt d;
	deal(&d, 3, 4, NULL);
	ctng_err err;
	/* share 2 signs another message */
	assert_int_equal(
	    ctng_bls_sign(d.part[1], d.sh[1].sk, (const uint8_t *)"forged", 6, NULL, &err), 0);
	assert_int_equal(
	    ctng_bls_partial_verify(d.sh[1].pk, MSG, sizeof MSG, d.part[1], NULL, &err),
	    CTNG_EVERIFY);
	uint32_t idx[3] = {0, 1, 2};
	uint8_t sig[48];
	assert_int_equal(combine(&d, idx, 3, 3, sig), 0);
	assert_int_equal(ctng_bls_verify(d.group_pk, MSG, sizeof MSG, sig, NULL, &err),
	                 CTNG_EVERIFY);
	/* a partial claimed under another share's id is also caught */
	assert_int_equal(
	    ctng_bls_partial_verify(d.sh[3].pk, MSG, sizeof MSG, d.part[0], NULL, &err),
	    CTNG_EVERIFY);
	/* dropping the bad share recovers */
	uint32_t good[3] = {0, 2, 3};
	assert_int_equal(combine(&d, good, 3, 3, sig), 0);
	assert_int_equal(ctng_bls_verify(d.group_pk, MSG, sizeof MSG, sig, NULL, &err), 0);
	/* malformed partial */
	d.part[2][0] &= 0x7f;
	assert_int_equal(combine(&d, good, 3, 3, sig), CTNG_EINVAL);
	undeal(&d);
}

static void test_combine_rejects(void **state)
{
	(void)state;
	dealt d;
	deal(&d, 2, 3, NULL);
	ctng_err err;
	uint8_t sig[48];
	uint32_t ids[3] = {1, 1, 2};
	assert_int_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])d.part, 2, 2, &err),
	                 CTNG_EINVAL); /* duplicate */
	ids[0] = 0;
	assert_int_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])d.part, 2, 2, &err),
	                 CTNG_EINVAL); /* id 0 */
	ids[0] = 1;
	ids[1] = 2;
	assert_int_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])d.part, 1, 2, &err),
	                 CTNG_EINVAL); /* count < t */
	assert_int_not_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])d.part, 2, 0, &err),
	                     0); /* t = 0 */
	assert_int_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])d.part, 2, 2, &err), 0);
	assert_int_equal(ctng_bls_verify(d.group_pk, MSG, sizeof MSG, sig, NULL, &err), 0);
	/* dealing parameter checks */
	uint8_t gpk[96], com[4][96];
	ctng_bls_share sh[4];
	assert_int_equal(ctng_bls_deal(0, 3, NULL, 0, gpk, com, sh, &err), CTNG_ERANGE);
	assert_int_equal(ctng_bls_deal(4, 3, NULL, 0, gpk, com, sh, &err), CTNG_ERANGE);
	assert_int_equal(ctng_bls_deal(2, CTNG_BLS_MAX_SHARES + 1, NULL, 0, gpk, com, sh, &err),
	                 CTNG_ERANGE);
	uint8_t seed[31] = {0};
	assert_int_equal(ctng_bls_deal(2, 3, seed, sizeof seed, gpk, com, sh, &err), CTNG_EINVAL);
	undeal(&d);
}

static void test_t1_and_11_of_16(void **state)
{
	(void)state;
	ctng_err err;
	/* t = 1: every share is the group secret */
	dealt a;
	deal(&a, 1, 3, NULL);
	for (uint32_t i = 0; i < 3; i++) {
		assert_memory_equal(a.sh[i].pk, a.group_pk, 96);
		uint32_t idx[1] = {i};
		uint8_t sig[48];
		assert_int_equal(combine(&a, idx, 1, 1, sig), 0);
		assert_memory_equal(sig, a.part[0], 48);
	}
	undeal(&a);
	/* 11 of 16: two disjoint-ish subsets agree */
	dealt d;
	deal(&d, 11, 16, NULL);
	uint32_t s1[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint32_t s2[11] = {15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5};
	uint8_t x[48], y[48];
	assert_int_equal(combine(&d, s1, 11, 11, x), 0);
	assert_int_equal(combine(&d, s2, 11, 11, y), 0);
	assert_memory_equal(x, y, 48);
	assert_int_equal(ctng_bls_verify(d.group_pk, MSG, sizeof MSG, x, NULL, &err), 0);
	assert_int_equal(combine(&d, s1, 10, 10, x), 0);
	assert_int_equal(ctng_bls_verify(d.group_pk, MSG, sizeof MSG, x, NULL, &err), CTNG_EVERIFY);
	undeal(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deal_and_share_keys), cmocka_unit_test(test_every_subset),
	    cmocka_unit_test(test_corrupted_partial),   cmocka_unit_test(test_combine_rejects),
	    cmocka_unit_test(test_t1_and_11_of_16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
