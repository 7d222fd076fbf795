/*
 * mem.c — the in-memory incremental Merkle tree (every complete subtree hash
 * kept per level, about two hashes per leaf) and the array-based helpers of
 * ctng/merkle.h, which build such a tree over the caller's leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "merkle/merkle_internal.h"

struct ctng_merkle_mem {
	uint64_t size;
	mk_hasher hs;
	/* level h holds size >> h hashes */
	uint8_t (*lv[64])[32];
	uint64_t cap[64];
	mk_ctx ctx; /* keeps the right-edge folds of the last size asked for */
};

static int mem_get(void *store, unsigned level, uint64_t k, uint8_t out[32], ctng_err *err);

int ctng_merkle_mem_new(ctng_merkle_mem **out)
{
	*out = NULL;
	ctng_merkle_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return CTNG_ENOMEM;
	if (mk_hasher_init(&m->hs)) {
		free(m);
		return CTNG_ENOMEM;
	}
	mk_ctx_init(&m->ctx, mem_get, m, &m->hs);
	*out = m;
	return 0;
}

void ctng_merkle_mem_free(ctng_merkle_mem *m)
{
	if (!m)
		return;
	for (unsigned h = 0; h < 64; h++)
		free(m->lv[h]);
	mk_hasher_free(&m->hs);
	free(m);
}

uint64_t ctng_merkle_mem_size(const ctng_merkle_mem *m)
{
	return m->size;
}

static int level_push(ctng_merkle_mem *m, unsigned h, uint64_t count, const uint8_t hash[32])
{
	if (count == m->cap[h]) {
		uint64_t nc = m->cap[h] ? m->cap[h] * 2 : 64;
		void *p = realloc(m->lv[h], nc * 32);
		if (!p)
			return CTNG_ENOMEM;
		m->lv[h] = p;
		m->cap[h] = nc;
	}
	memcpy(m->lv[h][count], hash, 32);
	return 0;
}

/* Adds one leaf hash and every node it completes. */
static int push_leaf(ctng_merkle_mem *m, const uint8_t leaf[32], ctng_err *err)
{
	uint64_t idx = m->size;
	if (idx == UINT64_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "merkle: tree full");
	if (level_push(m, 0, idx, leaf))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: out of memory");
	unsigned h = 0;
	uint64_t k = idx;
	while (k & 1) {
		uint8_t parent[32];
		if (mk_hash_node(&m->hs, parent, m->lv[h][k - 1], m->lv[h][k]))
			return ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
		k >>= 1;
		h++;
		if (level_push(m, h, k, parent))
			return ctng_err_set(err, CTNG_ENOMEM, "merkle: out of memory");
	}
	m->size = idx + 1;
	return 0;
}

int ctng_merkle_mem_append(ctng_merkle_mem *m, const uint8_t (*leaf_hashes)[32], size_t n,
                           ctng_err *err)
{
	if (!m || (n && !leaf_hashes))
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	for (size_t i = 0; i < n; i++) {
		int rc = push_leaf(m, leaf_hashes[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

int ctng_merkle_mem_append_data(ctng_merkle_mem *m, const void *data, size_t len,
                                uint8_t leaf_hash_out[32], ctng_err *err)
{
	if (!m || (len && !data))
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	uint8_t lh[32];
	if (mk_hash_leaf(&m->hs, lh, data, len))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
	int rc = push_leaf(m, lh, err);
	if (rc == 0 && leaf_hash_out)
		memcpy(leaf_hash_out, lh, 32);
	return rc;
}

static int mem_get(void *store, unsigned level, uint64_t k, uint8_t out[32], ctng_err *err)
{
	ctng_merkle_mem *m = store;
	if (level >= 64 || k >= (m->size >> level))
		return ctng_err_set(err, CTNG_EINVAL, "merkle: node %u/%llu is not complete", level,
		                    (unsigned long long)k);
	memcpy(out, m->lv[level][k], 32);
	return 0;
}

int ctng_merkle_mem_leaf(const ctng_merkle_mem *m, uint64_t index, uint8_t out[32], ctng_err *err)
{
	if (!m || !out)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	if (index >= m->size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: leaf index %llu not below size %llu",
		                    (unsigned long long)index, (unsigned long long)m->size);
	memcpy(out, m->lv[0][index], 32);
	return 0;
}

int ctng_merkle_mem_root(ctng_merkle_mem *m, uint64_t size, uint8_t out[32], ctng_err *err)
{
	if (!m || !out)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	if (size > m->size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: size %llu beyond current size %llu",
		                    (unsigned long long)size, (unsigned long long)m->size);
	return mk_root(&m->ctx, size, out, err);
}

int ctng_merkle_mem_inclusion(ctng_merkle_mem *m, uint64_t index, uint64_t size,
                              uint8_t (*proof)[32], size_t *proof_len, ctng_err *err)
{
	if (!m)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	return mk_inclusion(&m->ctx, m->size, index, size, proof, proof_len, err);
}

int ctng_merkle_mem_consistency(ctng_merkle_mem *m, uint64_t size1, uint64_t size2,
                                uint8_t (*proof)[32], size_t *proof_len, ctng_err *err)
{
	if (!m)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL argument");
	return mk_consistency(&m->ctx, m->size, size1, size2, proof, proof_len, err);
}

/* ------------------------------------------------------- array helpers */

static int build(const uint8_t (*leaves)[32], uint64_t n, uint64_t size, ctng_merkle_mem **out,
                 ctng_err *err)
{
	if (size > n)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: size %llu beyond %llu leaves",
		                    (unsigned long long)size, (unsigned long long)n);
	if (size && !leaves)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: NULL leaves");
	if (ctng_merkle_mem_new(out))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: out of memory");
	int rc = ctng_merkle_mem_append(*out, leaves, size, err);
	if (rc) {
		ctng_merkle_mem_free(*out);
		*out = NULL;
	}
	return rc;
}

int ctng_merkle_root(const uint8_t (*leaves)[32], uint64_t n, uint64_t size, uint8_t out[32],
                     ctng_err *err)
{
	ctng_merkle_mem *m;
	int rc = build(leaves, n, size, &m, err);
	if (rc)
		return rc;
	rc = ctng_merkle_mem_root(m, size, out, err);
	ctng_merkle_mem_free(m);
	return rc;
}

int ctng_merkle_inclusion_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t index,
                                uint64_t size, uint8_t (*proof)[32], size_t *proof_len,
                                ctng_err *err)
{
	ctng_merkle_mem *m;
	int rc = build(leaves, n, size, &m, err);
	if (rc)
		return rc;
	rc = ctng_merkle_mem_inclusion(m, index, size, proof, proof_len, err);
	ctng_merkle_mem_free(m);
	return rc;
}

int ctng_merkle_consistency_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t size1,
                                  uint64_t size2, uint8_t (*proof)[32], size_t *proof_len,
                                  ctng_err *err)
{
	ctng_merkle_mem *m;
	int rc = build(leaves, n, size2, &m, err);
	if (rc)
		return rc;
	rc = ctng_merkle_mem_consistency(m, size1, size2, proof, proof_len, err);
	ctng_merkle_mem_free(m);
	return rc;
}
