/*
 * ctng/merkle.h — the RFC 6962 / RFC 9162 Merkle tree of the log (DESIGN §5):
 * hashing, roots, inclusion and consistency proofs and their verifiers, an
 * in-memory incremental tree, and the persistent tree stored as C2SP
 * tlog-tiles in the logger's SQLite database.
 *
 * Hashes are always 32 bytes (SHA-256):
 *   leaf hash = SHA-256(0x00 || data)
 *   node hash = SHA-256(0x01 || left || right)
 *   root of the empty tree = SHA-256("")
 *
 * Proofs are arrays of 32-byte hashes (`uint8_t (*)[32]`), in the order of
 * RFC 9162 §2.1.3.1 / §2.1.4.1 (leaf to root). Functions that produce a proof
 * write into a caller array that must hold CTNG_MERKLE_MAX_PROOF entries and
 * store the count in *proof_len.
 *
 * Error codes: CTNG_EINVAL for arguments that can never be valid (index >=
 * size, size1 > size2, a size beyond the tree, NULL pointers); CTNG_EVERIFY
 * when a well-formed proof does not verify; CTNG_EIO for SQLite failures;
 * CTNG_ENOMEM for allocation failures (including OpenSSL's).
 */
#ifndef CTNG_MERKLE_H
#define CTNG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

#define CTNG_MERKLE_HASH_LEN 32
/* Upper bound on the length of any inclusion or consistency proof for tree
 * sizes below 2^64 (inclusion <= 64, consistency <= 65). */
#define CTNG_MERKLE_MAX_PROOF 66
/* C2SP tlog-tiles: tile height 8, so a full tile holds 256 hashes. */
#define CTNG_MERKLE_TILE_HEIGHT 8
#define CTNG_MERKLE_TILE_WIDTH  256
/* Largest static-ct-api TileLeaf a log holds (TimestampedEntry, precertificate
 * and chain fingerprints): a data tile of 256 of them is at most 16 MiB, the
 * most a mirror fetches (CTNG_MIRROR_BUNDLE_MAX). A logger refuses larger
 * entries, so no submission can make a tile that mirrors cannot read. */
#define CTNG_TILE_LEAF_MAX (64u << 10)
/* Longest tile path ctng_merkle_tile_path can produce, including the NUL. */
#define CTNG_MERKLE_TILE_PATH_MAX 64

/* ------------------------------------------------------------- hashing */

/* out = SHA-256(0x00 || data[0..len)). data may be NULL when len is 0.
 * Returns 0, or CTNG_ENOMEM if OpenSSL fails to allocate. */
int ctng_merkle_leaf_hash(uint8_t out[32], const void *data, size_t len);
/* out = SHA-256(0x01 || l || r). out may alias l or r. Returns 0 or CTNG_ENOMEM. */
int ctng_merkle_node_hash(uint8_t out[32], const uint8_t l[32], const uint8_t r[32]);
/* out = SHA-256("") — the root of the empty tree. */
void ctng_merkle_empty_root(uint8_t out[32]);

/* ------------------------------------------- proofs from an array of leaves */

/* These take the complete list of n leaf hashes (borrowed, not modified) and
 * work in O(n) time and memory; they are meant for the CLI, tests and small
 * trees. Use ctng_merkle_mem or ctng_merkle_tiles for anything large. */

/* Root of the tree of the first `size` leaves (size <= n; size 0 gives the
 * empty root). */
int ctng_merkle_root(const uint8_t (*leaves)[32], uint64_t n, uint64_t size, uint8_t out[32],
                     ctng_err *err);
/* Inclusion proof of leaf `index` in the tree of the first `size` leaves
 * (index < size <= n). */
int ctng_merkle_inclusion_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t index,
                                uint64_t size, uint8_t (*proof)[32], size_t *proof_len,
                                ctng_err *err);
/* Consistency proof between the trees of the first size1 and size2 leaves
 * (size1 <= size2 <= n). Empty when size1 == 0 or size1 == size2. */
int ctng_merkle_consistency_proof(const uint8_t (*leaves)[32], uint64_t n, uint64_t size1,
                                  uint64_t size2, uint8_t (*proof)[32], size_t *proof_len,
                                  ctng_err *err);

/* Parses a leaves file as `ctng merkle` reads it (DESIGN §10): one leaf per
 * line, written as the hex of the leaf's DATA (either case; an empty line is
 * the empty leaf), lines ending in "\n" or "\r\n", the last newline optional
 * (it does not start another leaf; an empty text has no leaves). Each leaf is
 * hashed with the 0x00 prefix. On success *hashes is a malloc'd array of *n
 * leaf hashes (caller frees with free(); NULL when n is 0). CTNG_EINVAL with
 * the line number for bad hex or stray bytes; CTNG_ENOMEM. */
int ctng_merkle_leaves_parse(const char *text, size_t len, uint8_t (**hashes)[32], uint64_t *n,
                             ctng_err *err);

/* ------------------------------------------------------------ verifiers */

/* Computes the root implied by an inclusion proof, following RFC 9162
 * §2.1.3.2 step by step. Returns 0 and fills root_out; CTNG_EINVAL if
 * index >= size; CTNG_EVERIFY if proof_len is not the exact length a proof for
 * (index, size) has. `proof` may be NULL when proof_len is 0. */
int ctng_merkle_root_from_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
                                    const uint8_t (*proof)[32], size_t proof_len,
                                    uint8_t root_out[32], ctng_err *err);
/* RFC 9162 §2.1.3.2: 0 if `proof` proves leaf_hash is leaf `index` of the
 * tree of `size` leaves with root `root`; CTNG_EVERIFY if not; CTNG_EINVAL if
 * index >= size (which includes size 0). */
int ctng_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
                                 const uint8_t root[32], const uint8_t (*proof)[32],
                                 size_t proof_len, ctng_err *err);
/* RFC 9162 §2.1.4.2: 0 if `proof` proves the tree (size1, root1) is a prefix
 * of the tree (size2, root2). CTNG_EINVAL if size1 > size2. Edge cases
 * outside the RFC's 0 < size1 < size2: size1 == size2 is valid iff the proof is
 * empty and root1 == root2; size1 == 0 is valid iff the proof is empty and
 * root1 is the empty root. Everything else is CTNG_EVERIFY. */
int ctng_merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[32],
                                   const uint8_t root2[32], const uint8_t (*proof)[32],
                                   size_t proof_len, ctng_err *err);

/* ---------------------------------------------------- in-memory tree */

/* An append-only tree kept in memory: every complete subtree hash is stored
 * once (about 2 hashes per leaf), so roots and proofs for any historical
 * size cost O(log n) hashes. Not thread-safe; one owner at a time. */
typedef struct ctng_merkle_mem ctng_merkle_mem;

/* Creates an empty tree; free with ctng_merkle_mem_free. CTNG_ENOMEM. */
int ctng_merkle_mem_new(ctng_merkle_mem **out);
void ctng_merkle_mem_free(ctng_merkle_mem *m); /* NULL is fine */
uint64_t ctng_merkle_mem_size(const ctng_merkle_mem *m);
/* Appends n leaf hashes (borrowed). Each new complete node is hashed once. */
int ctng_merkle_mem_append(ctng_merkle_mem *m, const uint8_t (*leaf_hashes)[32], size_t n,
                           ctng_err *err);
/* Hashes `data` as a leaf and appends it; *leaf_hash_out (may be NULL) gets
 * the leaf hash. */
int ctng_merkle_mem_append_data(ctng_merkle_mem *m, const void *data, size_t len,
                                uint8_t leaf_hash_out[32], ctng_err *err);
/* Leaf hash at index (< size). */
int ctng_merkle_mem_leaf(const ctng_merkle_mem *m, uint64_t index, uint8_t out[32], ctng_err *err);
/* Root at any size <= current size. */
int ctng_merkle_mem_root(ctng_merkle_mem *m, uint64_t size, uint8_t out[32], ctng_err *err);
int ctng_merkle_mem_inclusion(ctng_merkle_mem *m, uint64_t index, uint64_t size,
                              uint8_t (*proof)[32], size_t *proof_len, ctng_err *err);
int ctng_merkle_mem_consistency(ctng_merkle_mem *m, uint64_t size1, uint64_t size2,
                                uint8_t (*proof)[32], size_t *proof_len, ctng_err *err);

/* ------------------------------------------------------ compact range */

/* A reusable hasher (one EVP_MD_CTX, so hashing does not allocate). Owned
 * by one thread. Functions below that take a hasher accept NULL (then each
 * hash allocates a context of its own). */
typedef struct ctng_merkle_hasher ctng_merkle_hasher;
int ctng_merkle_hasher_new(ctng_merkle_hasher **out);
void ctng_merkle_hasher_free(ctng_merkle_hasher *h); /* NULL is fine */
int ctng_merkle_hasher_leaf(ctng_merkle_hasher *h, uint8_t out[32], const void *data, size_t len);
int ctng_merkle_hasher_node(ctng_merkle_hasher *h, uint8_t out[32], const uint8_t l[32],
                            const uint8_t r[32]);
/* Leaf hash of the concatenation a || b (no copy). */
int ctng_merkle_hasher_leaf_parts(ctng_merkle_hasher *h, uint8_t out[32], const void *a,
                                  size_t alen, const void *b, size_t blen);

/* The compact range (right edge) of the tree of `size` leaves: the hashes of
 * the perfect subtrees that [0, size) splits into, largest (leftmost) first,
 * one per set bit of size (heights = the set bits, descending). It is all a
 * verifier has to keep to extend a tree it checked and to compute its root:
 * at most 64 hashes. A plain value: copy it freely. */
typedef struct ctng_merkle_range {
	uint64_t size;
	unsigned n; /* popcount(size) */
	uint8_t h[64][32];
} ctng_merkle_range;

/* The empty range (size 0). */
void ctng_merkle_range_init(ctng_merkle_range *r);
/* Sets r from n hashes for a tree of `size` leaves; CTNG_EINVAL unless
 * n == popcount(size). */
int ctng_merkle_range_set(ctng_merkle_range *r, uint64_t size, const uint8_t (*hashes)[32],
                          unsigned n, ctng_err *err);
/* Height of the i-th hash (i < r->n). */
unsigned ctng_merkle_range_height(const ctng_merkle_range *r, unsigned i);
/* Appends one leaf hash. CTNG_ERANGE when the tree is full. */
int ctng_merkle_range_append(ctng_merkle_range *r, ctng_merkle_hasher *hs,
                             const uint8_t leaf_hash[32], ctng_err *err);
/* Appends the hash of a complete subtree of 2^height leaves; the size must
 * be a multiple of 2^height (CTNG_EINVAL otherwise), height < 64. */
int ctng_merkle_range_append_node(ctng_merkle_range *r, ctng_merkle_hasher *hs, unsigned height,
                                  const uint8_t hash[32], ctng_err *err);
/* Root of the tree of r->size leaves (the empty root for size 0). */
int ctng_merkle_range_root(const ctng_merkle_range *r, ctng_merkle_hasher *hs, uint8_t out[32],
                           ctng_err *err);
/* Root of the tree of r->size + tail_size leaves, given the hash of the last
 * tail_size leaves (MTH of [size, size + tail_size)), which must be fewer
 * than the leaves of r's smallest subtree (any count if r is empty; at least
 * 1). This is how a partial tile's hash closes a tree. CTNG_EINVAL otherwise. */
int ctng_merkle_range_root_with(const ctng_merkle_range *r, ctng_merkle_hasher *hs,
                                const uint8_t tail[32], uint64_t tail_size, uint8_t out[32],
                                ctng_err *err);
/* Drops the subtrees lower than `height`: r becomes the compact range of
 * size rounded down to a multiple of 2^height (its hashes are r's own). */
void ctng_merkle_range_truncate(ctng_merkle_range *r, unsigned height);

/* ------------------------------------------------ tiled tree in SQLite */

/* The persistent tree, laid out as C2SP tlog-tiles: a tile (L, N) covers the
 * nodes at tree levels 8L..8L+7 below level-(8L+8) node N; its served bytes
 * are the hashes at level 8L, indices 256N .. 256N+W-1 (W <= 256; W < 256 is
 * a partial tile). Only complete subtrees are stored; the right edge of any
 * size is folded from them on demand, so roots and proofs for any size <=
 * current cost O(log n) tile reads. See docs/merkle.md.
 *
 * Tables (created with CREATE TABLE IF NOT EXISTS): merkle_state, merkle_tile.
 *
 * Speed: full tiles read back are kept in a cache of 1024 tiles (<= 16 MiB).
 * On the connection, PRAGMA journal_mode=WAL and a large PRAGMA mmap_size are
 * recommended (proof benchmarks in docs/merkle.md use mmap_size = 4 GiB).
 *
 * The object borrows the caller's `sqlite3 *` (which must outlive it) and
 * keeps prepared statements on it, so close the tiles object before closing
 * the database. Not thread-safe: use from one thread, the one that uses db. */
typedef struct ctng_merkle_tiles ctng_merkle_tiles;
struct sqlite3;

/* Opens (creating the tables if needed) the tree stored in db. */
int ctng_merkle_tiles_open(struct sqlite3 *db, ctng_merkle_tiles **out, ctng_err *err);
/* The same for one of several trees in one database: tables <name>_state and
 * <name>_tile. name: 1..32 characters of [a-z0-9_] starting with a letter
 * (CTNG_EINVAL otherwise); "merkle" is ctng_merkle_tiles_open's tree. */
int ctng_merkle_tiles_open_named(struct sqlite3 *db, const char *name, ctng_merkle_tiles **out,
                                 ctng_err *err);
/* Finalizes statements and frees the cache; the database stays open. NULL ok. */
void ctng_merkle_tiles_close(ctng_merkle_tiles *t);
/* Current number of leaves. */
uint64_t ctng_merkle_tiles_size(const ctng_merkle_tiles *t);
/* Appends n leaf hashes (borrowed). Each leaf is written once and each new
 * complete node hashed once.
 * Transactions: if db has no open transaction (sqlite3_get_autocommit), the
 * append runs in its own BEGIN IMMEDIATE ... COMMIT and is durable on return.
 * If the caller has a transaction open, the append joins it and becomes
 * durable when the caller commits; if the caller instead rolls back, it must
 * call ctng_merkle_tiles_reload (or reopen) before using the object again.
 * On error the object reloads itself from the database. */
int ctng_merkle_tiles_append(ctng_merkle_tiles *t, const uint8_t (*leaf_hashes)[32], size_t n,
                             ctng_err *err);
/* Rereads size and cached tiles from the database (after a caller rollback). */
int ctng_merkle_tiles_reload(ctng_merkle_tiles *t, ctng_err *err);
/* Leaf hash at index (< size). */
int ctng_merkle_tiles_leaf(ctng_merkle_tiles *t, uint64_t index, uint8_t out[32], ctng_err *err);
/* Root of the tree at any size <= current size (0 gives the empty root). */
int ctng_merkle_tiles_root(ctng_merkle_tiles *t, uint64_t size, uint8_t out[32], ctng_err *err);
/* MTH of leaves [a, b) for b <= current size, when [a, b) lies in one
 * aligned block: a is a multiple of the smallest power of two >= b - a (a
 * tile's leaves [256N, 256N + W) are such a range). CTNG_EINVAL otherwise. */
int ctng_merkle_tiles_range_hash(ctng_merkle_tiles *t, uint64_t a, uint64_t b, uint8_t out[32],
                                 ctng_err *err);
/* The compact range of the tree at any size <= current (read from stored
 * complete nodes). */
int ctng_merkle_tiles_range(ctng_merkle_tiles *t, uint64_t size, ctng_merkle_range *out,
                            ctng_err *err);
/* Proofs for index < size <= current, and size1 <= size2 <= current. */
int ctng_merkle_tiles_inclusion(ctng_merkle_tiles *t, uint64_t index, uint64_t size,
                                uint8_t (*proof)[32], size_t *proof_len, ctng_err *err);
int ctng_merkle_tiles_consistency(ctng_merkle_tiles *t, uint64_t size1, uint64_t size2,
                                  uint8_t (*proof)[32], size_t *proof_len, ctng_err *err);
/* The bytes of tile (level, index) of width `width` (1..256) exactly as C2SP
 * serves them at GET /tile/<level>/<index>[.p/<width>]: width*32 bytes, the
 * hashes at tree level 8*level, indices 256*index .. 256*index+width-1.
 * out must hold width*32 bytes. CTNG_ENOTFOUND if the current tree does not
 * yet have that many complete hashes there (any level above the tree);
 * CTNG_EINVAL for width 0 or > 256. */
int ctng_merkle_tiles_read_tile(ctng_merkle_tiles *t, unsigned level, uint64_t index,
                                unsigned width, uint8_t *out, ctng_err *err);
/* Width of tile (level, index) in the tree of `size` leaves: 256 for a full
 * tile, 1..255 for the partial one, 0 if that tile has no hash yet. */
unsigned ctng_merkle_tile_width(unsigned level, uint64_t index, uint64_t size);

/* ------------------------------------------------- C2SP tile paths */

/* Encodes N in C2SP form: groups of 3 decimal digits, all but the last
 * prefixed with 'x' ("x001/x234/067" for 1234067, "000" for 0), followed by
 * ".p/<W>" when width < 256. Writes a NUL-terminated string into out (cap
 * bytes; CTNG_MERKLE_TILE_PATH_MAX is always enough). CTNG_EINVAL if width is
 * 0 or > 256, CTNG_ERANGE if cap is too small. */
int ctng_merkle_tile_index_format(char *out, size_t cap, uint64_t n, unsigned width);
/* Strict inverse of the above for the part of a URL after "tile/<L>/" (or
 * "tile/entries/"): rejects missing or extra 'x' prefixes, non-3-digit groups,
 * leading zero groups ("x000/001"), ".p/0", ".p/256", ".p/007" and anything
 * trailing. *width is 256 for a full tile. CTNG_EINVAL with a reason. */
int ctng_merkle_tile_index_parse(const char *s, uint64_t *n, unsigned *width, ctng_err *err);
/* "tile/<level>/<N>[.p/<W>]" (no leading slash). */
int ctng_merkle_tile_path(char *out, size_t cap, unsigned level, uint64_t n, unsigned width);
/* Parses "tile/<level>/<N>[.p/<W>]" with level a decimal 0..63 without leading
 * zeros; "tile/entries/..." is rejected (the logger handles entry bundles with
 * ctng_merkle_tile_index_parse). */
int ctng_merkle_tile_path_parse(const char *path, unsigned *level, uint64_t *n, unsigned *width,
                                ctng_err *err);

#endif
