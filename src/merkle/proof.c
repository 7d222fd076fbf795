/*
 * proof.c — RFC 9162 §2.1 proof generation over any store of complete-subtree
 * hashes, and the verifiers of §2.1.3.2 (inclusion) and §2.1.4.2
 * (consistency), written step by step after the RFC's text.
 *
 * Generation never recomputes from leaves: every subtree hash a proof needs is
 * either a stored complete node or a fold of the O(log n) complete nodes that
 * make up a right edge of the tree.
 */
#include <string.h>

#include "merkle/merkle_internal.h"

static unsigned floor_log2(uint64_t v) /* v > 0 */
{
	return 63u - (unsigned)__builtin_clzll(v);
}

/* Largest power of two strictly less than n (n >= 2), RFC 9162's k. */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << floor_log2(n - 1);
}

void mk_ctx_init(mk_ctx *c, mk_get_fn get, void *store, mk_hasher *hs)
{
	memset(c, 0, sizeof(*c));
	c->get = get;
	c->store = store;
	c->hs = hs;
	c->edge_size = UINT64_MAX;
}

/* Splits [a, b) into the aligned perfect subtrees, largest first, reading their
 * hashes, then folds them right to left. If `starts`/`folds` are given, every
 * suffix fold is recorded too. */
static int decompose_fold(mk_ctx *c, uint64_t a, uint64_t b, uint8_t out[32], uint64_t *starts,
                          uint8_t (*folds)[32], unsigned *count, ctng_err *err)
{
	uint8_t sub[65][32];
	uint64_t st[65];
	unsigned n = 0;
	uint64_t pos = a;
	while (pos < b) {
		unsigned h = floor_log2(b - pos);
		if (pos != 0) {
			unsigned tz = (unsigned)__builtin_ctzll(pos);
			if (tz < h)
				h = tz;
		}
		int rc = c->get(c->store, h, pos >> h, sub[n], err);
		if (rc)
			return rc;
		st[n++] = pos;
		pos += (uint64_t)1 << h;
	}
	if (n == 0)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: empty range");
	uint8_t acc[32];
	memcpy(acc, sub[n - 1], 32);
	if (folds) {
		memcpy(folds[n - 1], acc, 32);
		starts[n - 1] = st[n - 1];
	}
	for (unsigned i = n - 1; i-- > 0;) {
		if (mk_hash_node(c->hs, acc, sub[i], acc))
			return ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
		if (folds) {
			memcpy(folds[i], acc, 32);
			starts[i] = st[i];
		}
	}
	if (count)
		*count = n;
	memcpy(out, acc, 32);
	return 0;
}

static int edge_prepare(mk_ctx *c, uint64_t size, ctng_err *err)
{
	if (c->edge_size == size && c->edge_n > 0)
		return 0;
	uint8_t root[32];
	c->edge_n = 0;
	int rc = decompose_fold(c, 0, size, root, c->edge_start, c->edge_fold, &c->edge_n, err);
	if (rc) {
		c->edge_n = 0;
		return rc;
	}
	c->edge_size = size;
	return 0;
}

/* Makes `size` the right edge that mk_range_hash shortcuts. Folds already
 * computed for it stay valid: complete subtrees never change. */
static void edge_target(mk_ctx *c, uint64_t size)
{
	if (c->edge_size != size) {
		c->edge_size = size;
		c->edge_n = 0;
	}
}

void mk_ctx_forget(mk_ctx *c)
{
	c->edge_size = UINT64_MAX;
	c->edge_n = 0;
}

int mk_range_hash(mk_ctx *c, uint64_t a, uint64_t b, uint8_t out[32], ctng_err *err)
{
	if (b == c->edge_size) {
		int rc = edge_prepare(c, b, err);
		if (rc)
			return rc;
		for (unsigned j = 0; j < c->edge_n; j++) {
			if (c->edge_start[j] == a) {
				memcpy(out, c->edge_fold[j], 32);
				return 0;
			}
		}
	}
	return decompose_fold(c, a, b, out, NULL, NULL, NULL, err);
}

int mk_root(mk_ctx *c, uint64_t size, uint8_t out[32], ctng_err *err)
{
	if (size == 0) {
		ctng_merkle_empty_root(out);
		return 0;
	}
	edge_target(c, size);
	return mk_range_hash(c, 0, size, out, err);
}

/* PATH(m, D[a:b]) of RFC 9162 §2.1.3.1 with absolute indices. */
static int path(mk_ctx *c, uint64_t m, uint64_t a, uint64_t b, uint8_t (*proof)[32], size_t *n,
                ctng_err *err)
{
	if (b - a == 1)
		return 0;
	uint64_t k = split_point(b - a);
	int rc;
	if (m < a + k) {
		if ((rc = path(c, m, a, a + k, proof, n, err)))
			return rc;
		rc = mk_range_hash(c, a + k, b, proof[*n], err);
	} else {
		if ((rc = path(c, m, a + k, b, proof, n, err)))
			return rc;
		rc = mk_range_hash(c, a, a + k, proof[*n], err);
	}
	if (rc)
		return rc;
	(*n)++;
	return 0;
}

int mk_inclusion(mk_ctx *c, uint64_t cur, uint64_t index, uint64_t size, uint8_t (*proof)[32],
                 size_t *proof_len, ctng_err *err)
{
	if (!proof || !proof_len)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL proof buffer");
	*proof_len = 0;
	if (size > cur)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "merkle: tree size %llu beyond current size %llu",
		                    (unsigned long long)size, (unsigned long long)cur);
	if (index >= size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: index %llu not below tree size %llu",
		                    (unsigned long long)index, (unsigned long long)size);
	edge_target(c, size);
	size_t n = 0;
	int rc = path(c, index, 0, size, proof, &n, err);
	if (rc)
		return rc;
	*proof_len = n;
	return 0;
}

/* SUBPROOF(m, D[a:b], flag) of RFC 9162 §2.1.4.1, m absolute. */
static int subproof(mk_ctx *c, uint64_t m, uint64_t a, uint64_t b, int flag, uint8_t (*proof)[32],
                    size_t *n, ctng_err *err)
{
	int rc;
	if (m == b) {
		if (flag)
			return 0;
		if ((rc = mk_range_hash(c, a, b, proof[*n], err)))
			return rc;
		(*n)++;
		return 0;
	}
	uint64_t k = split_point(b - a);
	if (m <= a + k) {
		if ((rc = subproof(c, m, a, a + k, flag, proof, n, err)))
			return rc;
		rc = mk_range_hash(c, a + k, b, proof[*n], err);
	} else {
		if ((rc = subproof(c, m, a + k, b, 0, proof, n, err)))
			return rc;
		rc = mk_range_hash(c, a, a + k, proof[*n], err);
	}
	if (rc)
		return rc;
	(*n)++;
	return 0;
}

int mk_consistency(mk_ctx *c, uint64_t cur, uint64_t size1, uint64_t size2, uint8_t (*proof)[32],
                   size_t *proof_len, ctng_err *err)
{
	if (!proof || !proof_len)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL proof buffer");
	*proof_len = 0;
	if (size2 > cur)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "merkle: tree size %llu beyond current size %llu",
		                    (unsigned long long)size2, (unsigned long long)cur);
	if (size1 > size2)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: size1 %llu above size2 %llu",
		                    (unsigned long long)size1, (unsigned long long)size2);
	if (size1 == 0 || size1 == size2)
		return 0;
	edge_target(c, size2);
	size_t n = 0;
	int rc = subproof(c, size1, 0, size2, 1, proof, &n, err);
	if (rc)
		return rc;
	*proof_len = n;
	return 0;
}

/* ------------------------------------------------------------- verifiers */

int ctng_merkle_root_from_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
                                    const uint8_t (*proof)[32], size_t proof_len,
                                    uint8_t root_out[32], ctng_err *err)
{
	if (!leaf_hash || !root_out || (proof_len && !proof))
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	/* Step 1. */
	if (index >= size)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "inclusion: leaf index %llu not below tree size %llu",
		                    (unsigned long long)index, (unsigned long long)size);
	mk_hasher hs;
	if (mk_hasher_init(&hs))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: out of memory");
	/* Steps 2 and 3. */
	uint64_t fn = index, sn = size - 1;
	uint8_t r[32];
	memcpy(r, leaf_hash, 32);
	int rc = 0;
	/* Step 4. */
	for (size_t i = 0; i < proof_len; i++) {
		if (sn == 0) {
			rc = ctng_err_set(err, CTNG_EVERIFY, "inclusion: proof too long");
			goto out;
		}
		if ((fn & 1) || fn == sn) {
			if (mk_hash_node(&hs, r, proof[i], r)) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
				goto out;
			}
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			if (mk_hash_node(&hs, r, r, proof[i])) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
				goto out;
			}
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5, first half. */
	if (sn != 0) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "inclusion: proof too short");
		goto out;
	}
	memcpy(root_out, r, 32);
out:
	mk_hasher_free(&hs);
	return rc;
}

int ctng_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
                                 const uint8_t root[32], const uint8_t (*proof)[32],
                                 size_t proof_len, ctng_err *err)
{
	if (!root)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	uint8_t r[32];
	int rc = ctng_merkle_root_from_inclusion(leaf_hash, index, size, proof, proof_len, r, err);
	if (rc)
		return rc;
	/* Step 5, second half. */
	if (memcmp(r, root, 32) != 0)
		return ctng_err_set(err, CTNG_EVERIFY, "inclusion: computed root does not match");
	return 0;
}

int ctng_merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[32],
                                   const uint8_t root2[32], const uint8_t (*proof)[32],
                                   size_t proof_len, ctng_err *err)
{
	if (!root1 || !root2 || (proof_len && !proof))
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	if (size1 > size2)
		return ctng_err_set(err, CTNG_EINVAL, "consistency: size1 %llu above size2 %llu",
		                    (unsigned long long)size1, (unsigned long long)size2);
	if (size1 == size2) {
		uint8_t empty[32];
		ctng_merkle_empty_root(empty);
		if (size1 == 0 && memcmp(root1, empty, 32) != 0)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "consistency: root of size 0 is not the empty root");
		if (proof_len != 0)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "consistency: equal sizes need an empty proof");
		if (memcmp(root1, root2, 32) != 0)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "consistency: equal sizes but different roots");
		return 0;
	}
	if (size1 == 0) {
		uint8_t empty[32];
		ctng_merkle_empty_root(empty);
		if (proof_len != 0)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "consistency: size1 0 needs an empty proof");
		if (memcmp(root1, empty, 32) != 0)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "consistency: root1 of size 0 is not the empty root");
		return 0;
	}
	/* Step 1. */
	if (proof_len == 0)
		return ctng_err_set(err, CTNG_EVERIFY, "consistency: empty proof");
	/* Step 2: with first a power of two, first_hash is the implicit first element. */
	const uint8_t *path0 = proof[0];
	size_t i = 1;
	if ((size1 & (size1 - 1)) == 0) {
		path0 = root1;
		i = 0;
	}
	mk_hasher hs;
	if (mk_hasher_init(&hs))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: out of memory");
	int rc = 0;
	/* Step 3. */
	uint64_t fn = size1 - 1, sn = size2 - 1;
	/* Step 4. */
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5. */
	uint8_t fr[32], sr[32];
	memcpy(fr, path0, 32);
	memcpy(sr, path0, 32);
	/* Step 6. */
	for (; i < proof_len; i++) {
		const uint8_t *c = proof[i];
		if (sn == 0) {
			rc = ctng_err_set(err, CTNG_EVERIFY, "consistency: proof too long");
			goto out;
		}
		if ((fn & 1) || fn == sn) {
			if (mk_hash_node(&hs, fr, c, fr) || mk_hash_node(&hs, sr, c, sr)) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
				goto out;
			}
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			if (mk_hash_node(&hs, sr, sr, c)) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
				goto out;
			}
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 7. */
	if (sn != 0)
		rc = ctng_err_set(err, CTNG_EVERIFY, "consistency: proof too short");
	else if (memcmp(fr, root1, 32) != 0)
		rc = ctng_err_set(err, CTNG_EVERIFY, "consistency: first root does not match");
	else if (memcmp(sr, root2, 32) != 0)
		rc = ctng_err_set(err, CTNG_EVERIFY, "consistency: second root does not match");
out:
	mk_hasher_free(&hs);
	return rc;
}
