/*
 * merkle_internal.h — shared internals of the merkle module: a reusable
 * SHA-256 hasher and the proof algorithms written once over an abstract store
 * of complete-subtree hashes (used by the in-memory and the tiled tree).
 */
#ifndef CTNG_MERKLE_INTERNAL_H
#define CTNG_MERKLE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ctng/merkle.h"

/* A hasher reusing one EVP_MD_CTX (no allocation per hash). */
typedef struct mk_hasher {
	EVP_MD_CTX *ctx;
} mk_hasher;

int mk_hasher_init(mk_hasher *h);
void mk_hasher_free(mk_hasher *h);
int mk_hash_leaf(mk_hasher *h, uint8_t out[32], const void *data, size_t len);
int mk_hash_node(mk_hasher *h, uint8_t out[32], const uint8_t l[32], const uint8_t r[32]);
/* The fetched SHA-256 implementation (process-wide, fetched once). */
const EVP_MD *mk_sha256(void);

/* Reads the hash of the complete node at `level`, index k, covering leaves
 * [k << level, (k + 1) << level). Callers only ask for nodes complete in the
 * current tree. */
typedef int (*mk_get_fn)(void *store, unsigned level, uint64_t k, uint8_t out[32], ctng_err *err);

/* Proof context over one store: caches the right-edge folds of one tree size. */
typedef struct mk_ctx {
	mk_get_fn get;
	void *store;
	mk_hasher *hs;
	uint64_t edge_size; /* size whose edge folds are cached; valid if edge_n > 0 */
	unsigned edge_n;    /* number of perfect subtrees of edge_size */
	uint64_t edge_start[65];
	uint8_t edge_fold[65][32]; /* edge_fold[j] = MTH(D[edge_start[j]:edge_size]) */
} mk_ctx;

void mk_ctx_init(mk_ctx *c, mk_get_fn get, void *store, mk_hasher *hs);
/* Drops the cached edge folds (the store's contents were replaced). The
 * cache may otherwise be kept across calls: an append-only tree never changes
 * the hashes of a size it already had. */
void mk_ctx_forget(mk_ctx *c);
/* MTH(D[a:b]) for a range that occurs in RFC 9162's recursion (a aligned). */
int mk_range_hash(mk_ctx *c, uint64_t a, uint64_t b, uint8_t out[32], ctng_err *err);
int mk_root(mk_ctx *c, uint64_t size, uint8_t out[32], ctng_err *err);
/* Argument checks against `cur` (the store's size) are done here too. */
int mk_inclusion(mk_ctx *c, uint64_t cur, uint64_t index, uint64_t size, uint8_t (*proof)[32],
                 size_t *proof_len, ctng_err *err);
int mk_consistency(mk_ctx *c, uint64_t cur, uint64_t size1, uint64_t size2, uint8_t (*proof)[32],
                   size_t *proof_len, ctng_err *err);

#endif
