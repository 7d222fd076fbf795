/*
 * test_mirror_bundle.c — the strict entry-bundle parser: x509 and precert
 * entries with and without the static-ct-api leaf_index extension parse
 * with the right fields and leaf hashes (the RFC 6962 leaf hash of the
 * MerkleTreeLeaf); every truncation, a wrong entry count, trailing bytes,
 * a bad entry type, a chain that is not whole fingerprints, a leaf_index of
 * another entry or given twice, and oversized input are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mfx.h"

static uint8_t *tile(mfx *f, uint64_t t, unsigned w, size_t *len)
{
	mfx_grow(f, 0, t * 256 + w);
	return mfx_bundle(f, 0, t, w, -1, len);
}

static void test_valid(void **state)
{
	(void)state;
	mfx f;
	assert_int_equal(mfx_init(&f), 0);
	size_t len;
	uint8_t *b = tile(&f, 1, 256, &len);
	ctng_mirror_entry e[256];
	ctng_err err = {0};
	ctng_merkle_hasher *hs;
	assert_int_equal(ctng_merkle_hasher_new(&hs), 0);
	assert_int_equal(ctng_mirror_bundle_parse(b, len, 1, 256, hs, e, &err), 0);
	for (unsigned i = 0; i < 256; i++) {
		uint64_t idx = 256 + i;
		assert_memory_equal(e[i].leaf_hash, f.log[0].leaf[idx], 32);
		assert_int_equal(e[i].entry_type, idx % 2);
		assert_int_equal(e[i].timestamp_ms, MFX_GENESIS + idx);
		assert_int_equal(e[i].has_leaf_index, idx % 3 == 0);
		if (e[i].has_leaf_index)
			assert_int_equal(e[i].leaf_index, idx);
		assert_int_equal(e[i].chain_len, 2);
		assert_int_equal(e[i].tile_leaf_len, f.log[0].tl_len[idx]);
		assert_int_equal(e[i].te_len, f.log[0].te_len[idx]);
		assert_int_equal(e[i].precert != NULL, idx % 2 == 1);
		/* The leaf hash is SHA-256(0 || 0 0 || TimestampedEntry). */
		uint8_t leaf[1024] = {0, 0};
		memcpy(leaf + 2, e[i].te, e[i].te_len);
		uint8_t h[32];
		assert_int_equal(ctng_merkle_leaf_hash(h, leaf, e[i].te_len + 2), 0);
		assert_memory_equal(h, e[i].leaf_hash, 32);
	}
	/* The leaf_index says which entry it is: the same bytes as another tile fail. */
	assert_int_equal(ctng_mirror_bundle_parse(b, len, 2, 256, NULL, e, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "leaf_index"));
	/* Wrong entry counts, trailing bytes. */
	assert_int_equal(ctng_mirror_bundle_parse(b, len, 1, 255, NULL, e, &err), CTNG_EINVAL);
	assert_int_equal(ctng_mirror_bundle_parse(b, len, 1, 0, NULL, e, &err), CTNG_EINVAL);
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, b, len);
	longer[len] = 0;
	assert_int_equal(ctng_mirror_bundle_parse(longer, len + 1, 1, 256, NULL, e, &err),
	                 CTNG_EINVAL);
	free(longer);
	free(b);
	/* A partial tile of the tree's edge. */
	b = tile(&f, 3, 17, &len);
	assert_int_equal(ctng_mirror_bundle_parse(b, len, 3, 17, NULL, e, &err), 0);
	assert_int_equal(ctng_mirror_bundle_parse(b, len, 3, 18, NULL, e, &err), CTNG_EINVAL);
	free(b);
	assert_int_equal(ctng_mirror_bundle_parse((const uint8_t *)"", CTNG_MIRROR_BUNDLE_MAX + 1,
	                                          0, 1, NULL, e, &err),
	                 CTNG_ERANGE);
	ctng_merkle_hasher_free(hs);
	mfx_free(&f);
}

static void test_truncations(void **state)
{
	(void)state;
	mfx f;
	assert_int_equal(mfx_init(&f), 0);
	size_t len;
	uint8_t *b = tile(&f, 0, 4, &len);
	ctng_mirror_entry e[4];
	for (size_t n = 0; n < len; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, b, n);
		assert_int_equal(ctng_mirror_bundle_parse(c, n, 0, 4, NULL, e, NULL), CTNG_EINVAL);
		free(c);
	}
	free(b);
	mfx_free(&f);
}

/* One hand-made entry: x509, then variations. */
static size_t entry(uint8_t *p, unsigned type, size_t chain, const uint8_t *ext, size_t ext_len)
{
	uint8_t *s = p;
	put(&p, 1, 8);
	put(&p, type, 2);
	put(&p, 3, 3);
	memcpy(p, "abc", 3);
	p += 3;
	put(&p, ext_len, 2);
	if (ext_len)
		memcpy(p, ext, ext_len);
	p += ext_len;
	put(&p, chain, 2);
	memset(p, 1, chain);
	p += chain;
	return (size_t)(p - s);
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t b[512];
	ctng_mirror_entry e[1];
	ctng_err err = {0};
	assert_int_equal(ctng_mirror_bundle_parse(b, entry(b, 0, 32, NULL, 0), 0, 1, NULL, e, &err),
	                 0);
	assert_int_equal(ctng_mirror_bundle_parse(b, entry(b, 2, 32, NULL, 0), 0, 1, NULL, e, &err),
	                 CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "entry_type"));
	assert_int_equal(ctng_mirror_bundle_parse(b, entry(b, 0, 31, NULL, 0), 0, 1, NULL, e, &err),
	                 CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "fingerprints"));
	/* Extensions: an unknown one is fine, a truncated one is not, leaf_index
	 * must be 5 bytes, once, and the entry's own index. */
	static const uint8_t unknown[] = {7, 0, 2, 9, 9};
	assert_int_equal(
	    ctng_mirror_bundle_parse(b, entry(b, 0, 0, unknown, 5), 0, 1, NULL, e, &err), 0);
	assert_false(e[0].has_leaf_index);
	static const uint8_t trunc[] = {7, 0, 3, 9};
	assert_int_equal(ctng_mirror_bundle_parse(b, entry(b, 0, 0, trunc, 4), 0, 1, NULL, e, &err),
	                 CTNG_EINVAL);
	static const uint8_t short_idx[] = {0, 0, 4, 0, 0, 0, 0};
	assert_int_equal(
	    ctng_mirror_bundle_parse(b, entry(b, 0, 0, short_idx, 7), 0, 1, NULL, e, &err),
	    CTNG_EINVAL);
	static const uint8_t idx5[] = {0, 0, 5, 0, 0, 0, 0, 5};
	assert_int_equal(ctng_mirror_bundle_parse(b, entry(b, 0, 0, idx5, 8), 0, 1, NULL, e, &err),
	                 CTNG_EINVAL);
	static const uint8_t idx0[] = {0, 0, 5, 0, 0, 0, 0, 0};
	assert_int_equal(ctng_mirror_bundle_parse(b, entry(b, 0, 0, idx0, 8), 0, 1, NULL, e, &err),
	                 0);
	assert_true(e[0].has_leaf_index);
	static const uint8_t twice[] = {0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0};
	assert_int_equal(
	    ctng_mirror_bundle_parse(b, entry(b, 0, 0, twice, 16), 0, 1, NULL, e, &err),
	    CTNG_EINVAL);
	/* An empty certificate. */
	uint8_t *p = b;
	put(&p, 1, 8);
	put(&p, 0, 2);
	put(&p, 0, 3);
	put(&p, 0, 2);
	put(&p, 0, 2);
	assert_int_equal(ctng_mirror_bundle_parse(b, (size_t)(p - b), 0, 1, NULL, e, &err),
	                 CTNG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_truncations),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
