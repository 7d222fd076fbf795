/*
 * test_merkle_range.c — the compact range (right edge) against the array
 * root for every size up to 600 and random larger ones: leaf appends, node
 * appends of whole tiles, closing a tree with a partial tile's hash,
 * truncation to tile boundaries, rejection of misaligned appends and tails;
 * and the tiled tree's named trees, range hashes and stored compact ranges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ctng/merkle.h"

typedef uint8_t hash[32];

static hash *leaves(uint64_t n, uint64_t salt)
{
	hash *d = malloc((size_t)(n ? n : 1) * 32);
	assert_non_null(d);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v[2] = {i, salt};
		assert_int_equal(ctng_merkle_leaf_hash(d[i], v, sizeof(v)), 0);
	}
	return d;
}

static void root_of(const hash *d, uint64_t a, uint64_t b, hash out)
{
	assert_int_equal(ctng_merkle_root(d + a, b - a, b - a, out, NULL), 0);
}

static void test_append_leaves(void **state)
{
	(void)state;
	const uint64_t n = 600;
	hash *d = leaves(n, 1);
	ctng_merkle_hasher *hs;
	assert_int_equal(ctng_merkle_hasher_new(&hs), 0);
	ctng_merkle_range r;
	ctng_merkle_range_init(&r);
	hash got, want;
	assert_int_equal(ctng_merkle_range_root(&r, hs, got, NULL), 0);
	ctng_merkle_empty_root(want);
	assert_memory_equal(got, want, 32);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(ctng_merkle_range_append(&r, i % 2 ? hs : NULL, d[i], NULL), 0);
		assert_int_equal(r.size, i + 1);
		assert_int_equal(r.n, (unsigned)__builtin_popcountll(i + 1));
		assert_int_equal(ctng_merkle_range_root(&r, hs, got, NULL), 0);
		root_of(d, 0, i + 1, want);
		assert_memory_equal(got, want, 32);
		/* Each stored hash is the subtree its height says. */
		uint64_t pos = 0;
		for (unsigned k = 0; k < r.n; k++) {
			unsigned h = ctng_merkle_range_height(&r, k);
			root_of(d, pos, pos + ((uint64_t)1 << h), want);
			assert_memory_equal(r.h[k], want, 32);
			pos += (uint64_t)1 << h;
		}
		assert_int_equal(pos, i + 1);
	}
	ctng_merkle_hasher_free(hs);
	free(d);
}

static void test_tiles_and_tails(void **state)
{
	(void)state;
	const uint64_t n = 256 * 9 + 77;
	hash *d = leaves(n, 2);
	/* Random prefixes, then whole tiles as nodes, then a partial tail. */
	srand(7);
	for (int round = 0; round < 60; round++) {
		uint64_t base = (uint64_t)(rand() % 1200);
		ctng_merkle_range r;
		ctng_merkle_range_init(&r);
		for (uint64_t i = 0; i < base; i++)
			assert_int_equal(ctng_merkle_range_append(&r, NULL, d[i], NULL), 0);
		ctng_merkle_range t = r;
		ctng_merkle_range_truncate(&t, 8);
		assert_int_equal(t.size, base & ~(uint64_t)255);
		hash want, got;
		root_of(d, 0, t.size ? t.size : 0, want);
		if (t.size) {
			assert_int_equal(ctng_merkle_range_root(&t, NULL, got, NULL), 0);
			assert_memory_equal(got, want, 32);
		}
		/* A tile node on a misaligned size is refused. */
		if (r.size % 256)
			assert_int_equal(ctng_merkle_range_append_node(&r, NULL, 8, d[0], NULL),
			                 CTNG_EINVAL);
		uint64_t tiles = (uint64_t)(rand() % 4);
		while (t.size / 256 + tiles > n / 256)
			tiles--;
		for (uint64_t k = 0; k < tiles; k++) {
			hash node;
			root_of(d, t.size, t.size + 256, node);
			assert_int_equal(ctng_merkle_range_append_node(&t, NULL, 8, node, NULL), 0);
		}
		uint64_t tail = 1 + (uint64_t)(rand() % 255);
		if (t.size + tail > n)
			tail = n - t.size;
		if (tail == 0)
			continue;
		hash th;
		root_of(d, t.size, t.size + tail, th);
		assert_int_equal(ctng_merkle_range_root_with(&t, NULL, th, tail, got, NULL), 0);
		root_of(d, 0, t.size + tail, want);
		assert_memory_equal(got, want, 32);
		/* A tail as large as the smallest subtree is not a tail. */
		if (t.n)
			assert_int_equal(ctng_merkle_range_root_with(
			                     &t, NULL, th, t.size & (~t.size + 1), got, NULL),
			                 CTNG_EINVAL);
	}
	ctng_merkle_range r;
	ctng_merkle_range_init(&r);
	assert_int_equal(ctng_merkle_range_root_with(&r, NULL, d[0], 0, d[1], NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_range_append_node(&r, NULL, 64, d[0], NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_range_set(&r, 5, (const hash *)d, 1, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_range_set(&r, 5, (const hash *)d, 2, NULL), 0);
	free(d);
}

static void test_named_tiles(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof path, "/tmp/ctng_test_merkle_range_%d.db", (int)getpid());
	unlink(path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	ctng_merkle_tiles *a, *b, *bad;
	ctng_err err = {0};
	assert_int_equal(ctng_merkle_tiles_open_named(db, "Bad", &bad, &err), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_open_named(db, "x;drop", &bad, &err), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_open_named(db, "mirror_1", &a, &err), 0);
	assert_int_equal(ctng_merkle_tiles_open_named(db, "mirror_2", &b, &err), 0);
	const uint64_t n = 256 * 3 + 10;
	hash *d = leaves(n, 3), *e = leaves(100, 4);
	assert_int_equal(ctng_merkle_tiles_append(a, (const hash *)d, n, &err), 0);
	assert_int_equal(ctng_merkle_tiles_append(b, (const hash *)e, 100, &err), 0);
	ctng_merkle_tiles_close(a);
	ctng_merkle_tiles_close(b);
	assert_int_equal(ctng_merkle_tiles_open_named(db, "mirror_1", &a, &err), 0);
	assert_int_equal(ctng_merkle_tiles_size(a), n);
	assert_int_equal(ctng_merkle_tiles_open_named(db, "mirror_2", &b, &err), 0);
	assert_int_equal(ctng_merkle_tiles_size(b), 100);
	hash got, want;
	/* Range hashes of tiles, full and partial, and refusals. */
	for (uint64_t t = 0; t <= n / 256; t++) {
		uint64_t lo = 256 * t, hi = lo + 256 > n ? n : lo + 256;
		for (uint64_t w = 1; lo + w <= hi; w += 37) {
			assert_int_equal(ctng_merkle_tiles_range_hash(a, lo, lo + w, got, &err), 0);
			root_of(d, lo, lo + w, want);
			assert_memory_equal(got, want, 32);
		}
	}
	assert_int_equal(ctng_merkle_tiles_range_hash(a, 3, 7, got, &err), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_range_hash(a, 0, n + 1, got, &err), CTNG_EINVAL);
	/* Stored compact ranges equal ranges built from the leaves. */
	for (uint64_t s = 0; s <= n; s += 13) {
		ctng_merkle_range r, q;
		assert_int_equal(ctng_merkle_tiles_range(a, s, &r, &err), 0);
		ctng_merkle_range_init(&q);
		for (uint64_t i = 0; i < s; i++)
			assert_int_equal(ctng_merkle_range_append(&q, NULL, d[i], NULL), 0);
		assert_int_equal(r.size, q.size);
		assert_int_equal(r.n, q.n);
		assert_memory_equal(r.h, q.h, (size_t)q.n * 32);
	}
	ctng_merkle_range r;
	assert_int_equal(ctng_merkle_tiles_range(a, n + 1, &r, &err), CTNG_EINVAL);
	ctng_merkle_tiles_close(a);
	ctng_merkle_tiles_close(b);
	sqlite3_close(db);
	unlink(path);
	free(d);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_leaves),
	    cmocka_unit_test(test_tiles_and_tails),
	    cmocka_unit_test(test_named_tiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
