/*
 * test_merkle_random.c — roots, inclusion and consistency proofs from the
 * array helpers, the in-memory tree and the SQLite tiled tree, checked against
 * a naive recursive MTH / PATH / SUBPROOF written straight from RFC 6962 §2.1:
 * every (index, size) and (size1, size2) for small trees, random samples up to
 * 100,000 leaves. Every generated proof must verify and every mutated one must
 * be rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ctng/merkle.h"

typedef uint8_t hash[32];

/* ------------------------------------------------- naive RFC 6962 §2.1 */

static uint64_t split(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void mth(const hash *d, uint64_t n, uint8_t out[32])
{
	if (n == 0) {
		ctng_merkle_empty_root(out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], 32);
		return;
	}
	uint64_t k = split(n);
	uint8_t l[32], r[32];
	mth(d, k, l);
	mth(d + k, n - k, r);
	assert_int_equal(ctng_merkle_node_hash(out, l, r), 0);
}

static void naive_path(uint64_t m, const hash *d, uint64_t n, hash *proof, size_t *len)
{
	if (n == 1)
		return;
	uint64_t k = split(n);
	if (m < k) {
		naive_path(m, d, k, proof, len);
		mth(d + k, n - k, proof[(*len)++]);
	} else {
		naive_path(m - k, d + k, n - k, proof, len);
		mth(d, k, proof[(*len)++]);
	}
}

static void naive_subproof(uint64_t m, const hash *d, uint64_t n, int b, hash *proof, size_t *len)
{
	if (m == n) {
		if (!b)
			mth(d, n, proof[(*len)++]);
		return;
	}
	uint64_t k = split(n);
	if (m <= k) {
		naive_subproof(m, d, k, b, proof, len);
		mth(d + k, n - k, proof[(*len)++]);
	} else {
		naive_subproof(m - k, d + k, n - k, 0, proof, len);
		mth(d, k, proof[(*len)++]);
	}
}

static void naive_consistency(uint64_t m, const hash *d, uint64_t n, hash *proof, size_t *len)
{
	*len = 0;
	if (m == 0 || m == n)
		return;
	naive_subproof(m, d, n, 1, proof, len);
}

/* --------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Uniform-ish in [lo, hi]. */
static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static hash *make_leaves(uint64_t n)
{
	hash *d = malloc((size_t)(n ? n : 1) * 32);
	assert_non_null(d);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t data[8];
		for (int j = 0; j < 8; j++)
			data[j] = (uint8_t)(i >> (56 - 8 * j));
		assert_int_equal(ctng_merkle_leaf_hash(d[i], data, sizeof(data)), 0);
	}
	return d;
}

/* Checks an inclusion proof: it verifies, and each single mutation fails. */
static void check_inclusion_verifies(const uint8_t leaf[32], uint64_t idx, uint64_t size,
                                     const uint8_t root[32], hash *proof, size_t len)
{
	ctng_err err = {0};
	int rc =
	    ctng_merkle_verify_inclusion(leaf, idx, size, root, (const hash *)proof, len, &err);
	if (rc)
		fail_msg("inclusion %llu/%llu: %s", (unsigned long long)idx,
		         (unsigned long long)size, err.msg);
	if (len) {
		size_t i = (size_t)rnd_in(0, len - 1);
		unsigned bit = (unsigned)rnd_in(0, 255);
		proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(ctng_merkle_verify_inclusion(leaf, idx, size, root,
		                                              (const hash *)proof, len, NULL),
		                 CTNG_EVERIFY);
		proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(ctng_merkle_verify_inclusion(
		                         leaf, idx, size, root, (const hash *)proof, len - 1, NULL),
		                     0);
	}
	/* A different leaf or root fails. (A different size may legitimately
	 * verify: RFC 9162's algorithm uses the size only for the path shape.) */
	uint8_t other[32];
	memcpy(other, leaf, 32);
	other[31] ^= 1;
	assert_int_equal(
	    ctng_merkle_verify_inclusion(other, idx, size, root, (const hash *)proof, len, NULL),
	    CTNG_EVERIFY);
	assert_int_equal(
	    ctng_merkle_verify_inclusion(leaf, idx, size, other, (const hash *)proof, len, NULL),
	    CTNG_EVERIFY);
	if (size > 1)
		assert_int_not_equal(ctng_merkle_verify_inclusion(leaf, idx ^ 1, size, root,
		                                                  (const hash *)proof, len, NULL),
		                     0);
}

static void check_consistency_verifies(uint64_t s1, uint64_t s2, const uint8_t r1[32],
                                       const uint8_t r2[32], hash *proof, size_t len)
{
	ctng_err err = {0};
	int rc = ctng_merkle_verify_consistency(s1, s2, r1, r2, (const hash *)proof, len, &err);
	if (rc)
		fail_msg("consistency %llu->%llu: %s", (unsigned long long)s1,
		         (unsigned long long)s2, err.msg);
	if (len) {
		size_t i = (size_t)rnd_in(0, len - 1);
		size_t byte = (size_t)rnd_in(0, 31);
		proof[i][byte] ^= 0x80;
		assert_int_equal(
		    ctng_merkle_verify_consistency(s1, s2, r1, r2, (const hash *)proof, len, NULL),
		    CTNG_EVERIFY);
		proof[i][byte] ^= 0x80;
		assert_int_equal(ctng_merkle_verify_consistency(s1, s2, r1, r2, (const hash *)proof,
		                                                len - 1, NULL),
		                 CTNG_EVERIFY);
		if (memcmp(r1, r2, 32) != 0)
			assert_int_equal(ctng_merkle_verify_consistency(
			                     s1, s2, r2, r1, (const hash *)proof, len, NULL),
			                 CTNG_EVERIFY);
	}
}

/* ------------------------------------------------------------------ tests */

#define SMALL      300
#define EXHAUSTIVE 64

static void test_small_trees(void **state)
{
	(void)state;
	hash *d = make_leaves(SMALL);
	ctng_merkle_mem *m;
	assert_int_equal(ctng_merkle_mem_new(&m), 0);
	assert_int_equal(ctng_merkle_mem_append(m, (const hash *)d, SMALL, NULL), 0);
	static hash roots[SMALL + 1];
	for (uint64_t n = 0; n <= SMALL; n++) {
		uint8_t got[32];
		mth(d, n, roots[n]);
		assert_int_equal(ctng_merkle_root((const hash *)d, SMALL, n, got, NULL), 0);
		assert_memory_equal(got, roots[n], 32);
		assert_int_equal(ctng_merkle_mem_root(m, n, got, NULL), 0);
		assert_memory_equal(got, roots[n], 32);
	}
	hash want[CTNG_MERKLE_MAX_PROOF], got[CTNG_MERKLE_MAX_PROOF];
	size_t wl, gl;
	uint64_t checked = 0;
	for (uint64_t n = 1; n <= SMALL; n++) {
		uint64_t count = n <= EXHAUSTIVE ? n : 4;
		for (uint64_t c = 0; c < count; c++) {
			uint64_t i = n <= EXHAUSTIVE ? c : rnd_in(0, n - 1);
			wl = 0;
			naive_path(i, d, n, want, &wl);
			assert_int_equal(ctng_merkle_mem_inclusion(m, i, n, got, &gl, NULL), 0);
			assert_int_equal(gl, wl);
			assert_memory_equal(got, want, wl * 32);
			check_inclusion_verifies(d[i], i, n, roots[n], got, gl);
			checked++;
		}
		for (uint64_t c = 0; c < (n <= EXHAUSTIVE ? n + 1 : 4); c++) {
			uint64_t s1 = n <= EXHAUSTIVE ? c : rnd_in(0, n);
			naive_consistency(s1, d, n, want, &wl);
			assert_int_equal(ctng_merkle_mem_consistency(m, s1, n, got, &gl, NULL), 0);
			assert_int_equal(gl, wl);
			assert_memory_equal(got, want, wl * 32);
			check_consistency_verifies(s1, n, roots[s1], roots[n], got, gl);
			checked++;
		}
	}
	/* Array helpers agree with the in-memory tree on a sample. */
	assert_int_equal(
	    ctng_merkle_inclusion_proof((const hash *)d, SMALL, 77, 200, got, &gl, NULL), 0);
	assert_int_equal(ctng_merkle_mem_inclusion(m, 77, 200, want, &wl, NULL), 0);
	assert_int_equal(gl, wl);
	assert_memory_equal(got, want, gl * 32);
	assert_int_equal(
	    ctng_merkle_consistency_proof((const hash *)d, SMALL, 13, 299, got, &gl, NULL), 0);
	assert_int_equal(ctng_merkle_mem_consistency(m, 13, 299, want, &wl, NULL), 0);
	assert_int_equal(gl, wl);
	assert_memory_equal(got, want, gl * 32);
	assert_true(checked > 4000);
	ctng_merkle_mem_free(m);
	free(d);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	hash *d = make_leaves(10);
	ctng_merkle_mem *m;
	hash p[CTNG_MERKLE_MAX_PROOF];
	size_t pl;
	uint8_t r[32];
	assert_int_equal(ctng_merkle_mem_new(&m), 0);
	assert_int_equal(ctng_merkle_mem_append(m, (const hash *)d, 10, NULL), 0);
	ctng_err err = {0};
	assert_int_equal(ctng_merkle_mem_inclusion(m, 10, 10, p, &pl, &err), CTNG_EINVAL);
	assert_int_equal(err.code, CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_inclusion(m, 0, 11, p, &pl, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_inclusion(m, 0, 0, p, &pl, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_consistency(m, 5, 4, p, &pl, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_consistency(m, 5, 11, p, &pl, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_root(m, 11, r, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_root((const hash *)d, 10, 11, r, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_leaf(m, 10, r, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_mem_leaf(m, 9, r, NULL), 0);
	assert_memory_equal(r, d[9], 32);
	/* Verifier argument errors. */
	assert_int_equal(ctng_merkle_verify_inclusion(d[0], 3, 3, r, NULL, 0, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_verify_inclusion(d[0], 0, 0, r, NULL, 0, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_verify_consistency(4, 3, r, r, NULL, 0, NULL), CTNG_EINVAL);
	uint8_t empty[32];
	ctng_merkle_empty_root(empty);
	assert_int_equal(ctng_merkle_verify_consistency(0, 3, empty, r, NULL, 0, NULL), 0);
	assert_int_equal(ctng_merkle_verify_consistency(0, 3, r, r, NULL, 0, NULL), CTNG_EVERIFY);
	assert_int_equal(ctng_merkle_verify_consistency(0, 0, empty, empty, NULL, 0, NULL), 0);
	/* append_data hashes with the 0x00 prefix. */
	uint8_t lh[32], want[32];
	assert_int_equal(ctng_merkle_mem_append_data(m, "abc", 3, lh, NULL), 0);
	assert_int_equal(ctng_merkle_leaf_hash(want, "abc", 3), 0);
	assert_memory_equal(lh, want, 32);
	assert_int_equal(ctng_merkle_mem_size(m), 11);
	ctng_merkle_mem_free(m);
	free(d);
}

#define BIG 100000

static hash *big;
static hash *big_roots; /* only for sampled sizes, filled lazily */

static void sample_root(uint64_t n, uint8_t out[32])
{
	mth(big, n, out);
}

static void test_big_mem(void **state)
{
	(void)state;
	big = make_leaves(BIG);
	ctng_merkle_mem *m;
	assert_int_equal(ctng_merkle_mem_new(&m), 0);
	/* Append in random batch sizes. */
	uint64_t done = 0;
	while (done < BIG) {
		uint64_t k = rnd_in(1, 5000);
		if (k > BIG - done)
			k = BIG - done;
		assert_int_equal(ctng_merkle_mem_append(m, (const hash *)big + done, k, NULL), 0);
		done += k;
	}
	hash want[CTNG_MERKLE_MAX_PROOF], got[CTNG_MERKLE_MAX_PROOF];
	size_t wl, gl;
	for (int t = 0; t < 16; t++) {
		uint64_t n = t == 0 ? BIG : rnd_in(BIG / 2, BIG);
		uint8_t root[32], r2[32];
		sample_root(n, root);
		assert_int_equal(ctng_merkle_mem_root(m, n, r2, NULL), 0);
		assert_memory_equal(root, r2, 32);
		uint64_t i = rnd_in(0, n - 1);
		wl = 0;
		naive_path(i, big, n, want, &wl);
		assert_int_equal(ctng_merkle_mem_inclusion(m, i, n, got, &gl, NULL), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl * 32);
		check_inclusion_verifies(big[i], i, n, root, got, gl);
		uint64_t s1 = rnd_in(1, n);
		uint8_t root1[32];
		sample_root(s1, root1);
		naive_consistency(s1, big, n, want, &wl);
		assert_int_equal(ctng_merkle_mem_consistency(m, s1, n, got, &gl, NULL), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl * 32);
		check_consistency_verifies(s1, n, root1, root, got, gl);
	}
	ctng_merkle_mem_free(m);
}

/* The tiled tree (in an in-memory SQLite database) agrees with the in-memory
 * tree for every kind of query, at many historical sizes. */
static void test_big_tiles(void **state)
{
	(void)state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	ctng_merkle_tiles *t;
	ctng_err err = {0};
	assert_int_equal(ctng_merkle_tiles_open(db, &t, &err), 0);
	ctng_merkle_mem *m;
	assert_int_equal(ctng_merkle_mem_new(&m), 0);
	assert_int_equal(ctng_merkle_mem_append(m, (const hash *)big, BIG, NULL), 0);
	/* Batches crossing tile boundaries at every level, including single leaves. */
	uint64_t done = 0;
	int batches = 0;
	while (done < BIG) {
		uint64_t k = batches % 3 == 0 ? 1 : rnd_in(1, batches % 2 ? 300 : 9000);
		if (k > BIG - done)
			k = BIG - done;
		if (ctng_merkle_tiles_append(t, (const hash *)big + done, k, &err))
			fail_msg("append: %s", err.msg);
		done += k;
		batches++;
		assert_int_equal(ctng_merkle_tiles_size(t), done);
		if (batches % 7 == 0) {
			uint8_t a[32], b[32];
			assert_int_equal(ctng_merkle_tiles_root(t, done, a, NULL), 0);
			assert_int_equal(ctng_merkle_mem_root(m, done, b, NULL), 0);
			assert_memory_equal(a, b, 32);
		}
	}
	hash want[CTNG_MERKLE_MAX_PROOF], got[CTNG_MERKLE_MAX_PROOF];
	size_t wl, gl;
	static const uint64_t edges[] = {1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, BIG};
	for (int q = 0; q < 400; q++) {
		uint64_t n = q < 11 ? edges[q] : rnd_in(1, BIG);
		uint8_t a[32], b[32];
		assert_int_equal(ctng_merkle_tiles_root(t, n, a, NULL), 0);
		assert_int_equal(ctng_merkle_mem_root(m, n, b, NULL), 0);
		assert_memory_equal(a, b, 32);
		uint64_t i = q % 5 == 0 ? n - 1 : rnd_in(0, n - 1);
		assert_int_equal(ctng_merkle_tiles_inclusion(t, i, n, got, &gl, NULL), 0);
		assert_int_equal(ctng_merkle_mem_inclusion(m, i, n, want, &wl, NULL), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl * 32);
		assert_int_equal(
		    ctng_merkle_verify_inclusion(big[i], i, n, a, (const hash *)got, gl, NULL), 0);
		uint64_t s1 =
		    q < 11 ? rnd_in(0, n) : (q % 2 ? edges[q % 11] % (n + 1) : rnd_in(0, n));
		assert_int_equal(ctng_merkle_tiles_consistency(t, s1, n, got, &gl, NULL), 0);
		assert_int_equal(ctng_merkle_mem_consistency(m, s1, n, want, &wl, NULL), 0);
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl * 32);
		uint8_t r1[32];
		assert_int_equal(ctng_merkle_mem_root(m, s1, r1, NULL), 0);
		assert_int_equal(
		    ctng_merkle_verify_consistency(s1, n, r1, a, (const hash *)got, gl, NULL), 0);
		uint8_t leaf[32];
		assert_int_equal(ctng_merkle_tiles_leaf(t, i, leaf, NULL), 0);
		assert_memory_equal(leaf, big[i], 32);
	}
	assert_int_equal(ctng_merkle_tiles_inclusion(t, BIG, BIG, got, &gl, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_inclusion(t, 0, BIG + 1, got, &gl, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_consistency(t, 2, 1, got, &gl, NULL), CTNG_EINVAL);
	ctng_merkle_tiles_close(t);
	ctng_merkle_mem_free(m);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int teardown(void **state)
{
	(void)state;
	free(big);
	free(big_roots);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_trees),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_big_mem),
	    cmocka_unit_test(test_big_tiles),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
