/*
 * fuzz_crv_delta.c — libFuzzer target for the CRV bitmap decoder
 * (ctng_crv_delta_decode): the portable roaring bitmaps of a REV's delta
 * (signed by a CA) and of the full CRVs a monitor serves on /ctng/v1/crv to
 * clients and peer monitors (not signed: they are checked only by their
 * hash). Invariants: no crash or leak; a rejection is CTNG_EINVAL with a
 * message; an accepted bitmap is exactly the set it iterates — the bitmap
 * built from its values is equal to it (so roaring_bitmap_contains, which
 * revocation checks use, agrees with ctng_crv_hash, which the CA signs),
 * its hash is that set's hash, it re-encodes to bytes that decode to it,
 * a union with it (how a REV is applied) keeps both sides, and the other
 * set operations work on it.
 */
#include <roaring/roaring.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/proto.h"

#define FULL_CHECK_MAX (1u << 20) /* iterate at most this many values */

static void check(int ok)
{
	if (!ok)
		abort();
}

struct collect {
	uint32_t *v;
	size_t n;
};

static bool collect_each(uint32_t v, void *arg)
{
	struct collect *c = arg;
	c->v[c->n++] = v;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	roaring_bitmap_t *b = NULL, *again = NULL;
	ctng_err err = {0};
	if (ctng_crv_delta_decode(data, size, &b, &err) != 0) {
		check(!b && err.code == CTNG_EINVAL && err.msg[0]);
		return 0;
	}
	uint64_t card = roaring_bitmap_get_cardinality(b);
	uint8_t h1[32], h2[32];
	check(ctng_crv_hash(b, h1, &err) == 0);
	if (card <= FULL_CHECK_MAX) {
		struct collect c = {malloc((card ? card : 1) * sizeof(uint32_t)), 0};
		check(c.v != NULL);
		roaring_iterate(b, collect_each, &c);
		check(c.n == card);
		roaring_bitmap_t *canon = roaring_bitmap_of_ptr(c.n, c.v);
		check(canon && roaring_bitmap_equals(canon, b));
		for (size_t i = 0; i < c.n; i++)
			check(roaring_bitmap_contains(b, c.v[i]));
		check(ctng_crv_hash(canon, h2, &err) == 0 && memcmp(h1, h2, 32) == 0);
		roaring_bitmap_free(canon);
		free(c.v);
	}
	uint8_t *enc = NULL;
	size_t len = 0;
	check(ctng_crv_delta_encode(b, &enc, &len, &err) == 0);
	check(ctng_crv_delta_decode(enc, len, &again, &err) == 0 && roaring_bitmap_equals(b, again));
	check(ctng_crv_hash(again, h2, &err) == 0 && memcmp(h1, h2, 32) == 0);
	/* applying it as a delta to a small CRV, as a client or monitor does */
	roaring_bitmap_t *crv = roaring_bitmap_of(4, 1, 70000, 65535, 1u << 31);
	roaring_bitmap_t *next = roaring_bitmap_or(crv, b);
	check(next && roaring_bitmap_is_subset(crv, next) && roaring_bitmap_is_subset(b, next));
	check(roaring_bitmap_get_cardinality(next) <= card + 4);
	roaring_bitmap_free(next);
	/* and the other set operations, which must not trip over its containers */
	roaring_bitmap_t *x = roaring_bitmap_and(crv, b), *y = roaring_bitmap_andnot(b, crv),
	                 *z = roaring_bitmap_xor(b, crv), *w = roaring_bitmap_copy(b);
	check(x && y && z && w && roaring_bitmap_is_subset(x, crv) && roaring_bitmap_is_subset(y, b));
	check(roaring_bitmap_get_cardinality(x) + roaring_bitmap_get_cardinality(y) == card);
	roaring_bitmap_add(w, 65536);
	roaring_bitmap_run_optimize(w);
	check(roaring_bitmap_contains(w, 65536) && roaring_bitmap_is_subset(b, w));
	roaring_bitmap_free(x);
	roaring_bitmap_free(y);
	roaring_bitmap_free(z);
	roaring_bitmap_free(w);
	roaring_bitmap_free(crv);
	roaring_bitmap_free(again);
	roaring_bitmap_free(b);
	free(enc);
	return 0;
}
