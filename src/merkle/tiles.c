/*
 * tiles.c — the persistent Merkle tree of the log, stored in SQLite as C2SP
 * tlog-tiles (DESIGN §5; layout in docs/merkle.md).
 *
 * Table merkle_tile holds one row per tile (id = level << 56 | index). A row's
 * blob holds the tile's complete nodes level by level: the W base hashes
 * (tree level 8L, what C2SP serves), then the W>>1 hashes one level up, ...,
 * down to the W>>7 hashes at tree level 8L+7; a full tile is 510 hashes. Only
 * complete subtrees are stored. The rightmost ("edge") tile of every level
 * stays in memory and is rewritten at the end of each append; full tiles are
 * written once, when they fill, and are cached in a direct-mapped cache.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "merkle/merkle_internal.h"

#define TILE_LEVELS 8   /* tile levels 0..7 cover tree levels 0..63 */
#define TILE_HASHES 510 /* 256 + 128 + ... + 2 */
#define CACHE_BITS  10
#define CACHE_SLOTS (1u << CACHE_BITS)

typedef struct edge_tile {
	uint64_t n; /* tile index */
	unsigned w; /* base hashes present (0..255) */
	bool dirty;
	uint8_t h[TILE_HASHES][32]; /* fixed layout: level r at off(r) */
} edge_tile;

typedef struct cache_slot {
	uint64_t key; /* row id + 1; 0 = empty */
	uint8_t (*h)[32];
} cache_slot;

struct ctng_merkle_tiles {
	sqlite3 *db;
	mk_hasher hs;
	uint64_t size;
	bool broken;
	sqlite3_stmt *get_tile, *put_tile, *get_size, *put_size;
	edge_tile edge[TILE_LEVELS];
	mk_ctx ctx; /* keeps the right-edge folds of the last size asked for */
	/* Level-0 tiles read for a proof are not copied into the cache: get_tile
	 * stays on their row (row_id) until the end of the public call. */
	int64_t row_id; /* -1: none */
	const uint8_t *row;
	cache_slot cache[CACHE_SLOTS];
	uint8_t pack[TILE_HASHES * 32];
};

/* Offset (in hashes) of tile-internal level r in the fixed (full) layout. */
static unsigned off(unsigned r)
{
	return 512u - (512u >> r);
}

/* Number of hashes a tile of base width w stores. */
static unsigned packed_count(unsigned w)
{
	unsigned c = 0;
	for (unsigned r = 0; r < CTNG_MERKLE_TILE_HEIGHT; r++)
		c += w >> r;
	return c;
}

static int64_t tile_id(unsigned level, uint64_t n)
{
	return (int64_t)(((uint64_t)level << 56) | n);
}

unsigned ctng_merkle_tile_width(unsigned level, uint64_t index, uint64_t size)
{
	if (level >= TILE_LEVELS)
		return 0;
	uint64_t cnt = size >> (CTNG_MERKLE_TILE_HEIGHT * level);
	if (index > (cnt >> 8))
		return 0;
	uint64_t rem = cnt - (index << 8);
	return rem >= 256 ? 256 : (unsigned)rem;
}

static int db_fail(ctng_merkle_tiles *t, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "merkle tiles: %s: %s", what, sqlite3_errmsg(t->db));
}

static int exec(ctng_merkle_tiles *t, const char *sql, ctng_err *err)
{
	if (sqlite3_exec(t->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(t, err, sql);
	return 0;
}

/* Writes tile (level, n) of width w from the fixed layout h. */
static int put_tile(ctng_merkle_tiles *t, unsigned level, uint64_t n, unsigned w,
                    const uint8_t (*h)[32], ctng_err *err)
{
	size_t pos = 0;
	for (unsigned r = 0; r < CTNG_MERKLE_TILE_HEIGHT; r++) {
		size_t cnt = w >> r;
		memcpy(t->pack + pos * 32, h[off(r)], cnt * 32);
		pos += cnt;
	}
	sqlite3_stmt *s = t->put_tile;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, tile_id(level, n));
	sqlite3_bind_blob(s, 2, t->pack, (int)(pos * 32), SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_fail(t, err, "writing tile");
	return 0;
}

/* Lets go of the row get_tile points at (ends SQLite's read of it). */
static void row_release(ctng_merkle_tiles *t)
{
	if (t->row_id >= 0) {
		sqlite3_reset(t->get_tile);
		t->row_id = -1;
		t->row = NULL;
	}
}

/* Points t->row at the stored bytes of full tile `id`, without copying. */
static int row_get(ctng_merkle_tiles *t, int64_t id, ctng_err *err)
{
	if (t->row_id == id)
		return 0;
	row_release(t);
	sqlite3_stmt *s = t->get_tile;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return ctng_err_set(err, CTNG_EIO, "merkle tiles: tile id %lld missing",
			                    (long long)id);
		return db_fail(t, err, "reading tile");
	}
	const uint8_t *p = sqlite3_column_blob(s, 0);
	int len = sqlite3_column_bytes(s, 0);
	if (!p || len != TILE_HASHES * 32) {
		sqlite3_reset(s);
		return ctng_err_set(err, CTNG_EIO,
		                    "merkle tiles: tile id %lld has %d bytes, want %d",
		                    (long long)id, len, TILE_HASHES * 32);
	}
	t->row = p;
	t->row_id = id;
	return 0;
}

/* Reads tile (level, n) of width w into the fixed layout h. */
static int get_tile(ctng_merkle_tiles *t, unsigned level, uint64_t n, unsigned w, uint8_t (*h)[32],
                    ctng_err *err)
{
	row_release(t);
	sqlite3_stmt *s = t->get_tile;
	sqlite3_bind_int64(s, 1, tile_id(level, n));
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return ctng_err_set(err, CTNG_EIO, "merkle tiles: tile %u/%llu missing",
			                    level, (unsigned long long)n);
		return db_fail(t, err, "reading tile");
	}
	const uint8_t *p = sqlite3_column_blob(s, 0);
	size_t len = (size_t)sqlite3_column_bytes(s, 0);
	if (len != (size_t)packed_count(w) * 32 || !p) {
		sqlite3_reset(s);
		return ctng_err_set(err, CTNG_EIO,
		                    "merkle tiles: tile %u/%llu has %zu bytes, want %u", level,
		                    (unsigned long long)n, len, packed_count(w) * 32);
	}
	size_t pos = 0;
	for (unsigned r = 0; r < CTNG_MERKLE_TILE_HEIGHT; r++) {
		size_t cnt = w >> r;
		memcpy(h[off(r)], p + pos * 32, cnt * 32);
		pos += cnt;
	}
	sqlite3_reset(s);
	return 0;
}

static cache_slot *cache_slot_for(ctng_merkle_tiles *t, int64_t id)
{
	uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
	return &t->cache[x >> (64 - CACHE_BITS)];
}

static void cache_flush(ctng_merkle_tiles *t)
{
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		t->cache[i].key = 0;
}

/* Stores a full tile in the cache (best effort: no memory, no caching). */
static void cache_put(ctng_merkle_tiles *t, unsigned level, uint64_t n, const uint8_t (*h)[32])
{
	int64_t id = tile_id(level, n);
	cache_slot *c = cache_slot_for(t, id);
	if (!c->h && !(c->h = malloc(TILE_HASHES * 32)))
		return;
	memcpy(c->h, h, TILE_HASHES * 32);
	c->key = (uint64_t)id + 1;
}

/* Returns the full tile (level, n) from cache or database. */
static int full_tile(ctng_merkle_tiles *t, unsigned level, uint64_t n, const uint8_t (**out)[32],
                     ctng_err *err)
{
	int64_t id = tile_id(level, n);
	cache_slot *c = cache_slot_for(t, id);
	if (c->key == (uint64_t)id + 1) {
		*out = (const uint8_t(*)[32])c->h;
		return 0;
	}
	if (!c->h && !(c->h = malloc(TILE_HASHES * 32)))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle tiles: out of memory");
	c->key = 0;
	int rc = get_tile(t, level, n, CTNG_MERKLE_TILE_WIDTH, c->h, err);
	if (rc)
		return rc;
	c->key = (uint64_t)id + 1;
	*out = (const uint8_t(*)[32])c->h;
	return 0;
}

static int tiles_get(void *store, unsigned level, uint64_t k, uint8_t out[32], ctng_err *err)
{
	ctng_merkle_tiles *t = store;
	unsigned L = level / CTNG_MERKLE_TILE_HEIGHT, r = level % CTNG_MERKLE_TILE_HEIGHT;
	if (L >= TILE_LEVELS || level >= 64 || k >= (t->size >> level))
		return ctng_err_set(err, CTNG_EINVAL, "merkle: node %u/%llu is not complete", level,
		                    (unsigned long long)k);
	uint64_t n = k >> (CTNG_MERKLE_TILE_HEIGHT - r);
	unsigned j = (unsigned)(k & ((1u << (CTNG_MERKLE_TILE_HEIGHT - r)) - 1));
	if (n == t->edge[L].n) {
		memcpy(out, t->edge[L].h[off(r) + j], 32);
		return 0;
	}
	if (L == 0) {
		/* Old leaf tiles are many and seldom reused: read in place. */
		int64_t id = tile_id(0, n);
		if (cache_slot_for(t, id)->key != (uint64_t)id + 1) {
			int rc = row_get(t, id, err);
			if (rc)
				return rc;
			memcpy(out, t->row + (size_t)(off(r) + j) * 32, 32);
			return 0;
		}
	}
	const uint8_t(*h)[32];
	int rc = full_tile(t, L, n, &h, err);
	if (rc)
		return rc;
	memcpy(out, h[off(r) + j], 32);
	return 0;
}

/* Loads size and edge tiles from the database. */
static int load_state(ctng_merkle_tiles *t, ctng_err *err)
{
	cache_flush(t);
	mk_ctx_init(&t->ctx, tiles_get, t, &t->hs);
	t->broken = true;
	sqlite3_stmt *s = t->get_size;
	sqlite3_reset(s);
	int rc = sqlite3_step(s);
	uint64_t size = 0;
	if (rc == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(s, 0);
		if (v < 0) {
			sqlite3_reset(s);
			return ctng_err_set(err, CTNG_EIO, "merkle tiles: negative stored size");
		}
		size = (uint64_t)v;
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		return db_fail(t, err, "reading size");
	}
	sqlite3_reset(s);
	t->size = size;
	for (unsigned L = 0; L < TILE_LEVELS; L++) {
		edge_tile *e = &t->edge[L];
		uint64_t cnt = size >> (CTNG_MERKLE_TILE_HEIGHT * L);
		e->n = cnt >> 8;
		e->w = (unsigned)(cnt & 255);
		e->dirty = false;
		if (e->w) {
			rc = get_tile(t, L, e->n, e->w, e->h, err);
			if (rc)
				return rc;
		}
	}
	t->broken = false;
	return 0;
}

static bool tree_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 32 || name[0] < 'a' || name[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static int prepare(ctng_merkle_tiles *t, sqlite3_stmt **st, const char *fmt, const char *name,
                   ctng_err *err)
{
	char sql[256];
	snprintf(sql, sizeof sql, fmt, name);
	if (sqlite3_prepare_v2(t->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(t, err, "preparing statements");
	return 0;
}

int ctng_merkle_tiles_open_named(struct sqlite3 *db, const char *name, ctng_merkle_tiles **out,
                                 ctng_err *err)
{
	if (!out)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	*out = NULL;
	if (!db)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL database");
	if (!tree_name_ok(name))
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: bad tree name");
	ctng_merkle_tiles *t = calloc(1, sizeof(*t));
	if (!t)
		return ctng_err_set(err, CTNG_ENOMEM, "merkle tiles: out of memory");
	t->db = db;
	t->row_id = -1;
	int rc;
	if (mk_hasher_init(&t->hs)) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "merkle tiles: out of memory");
		goto fail;
	}
	char sql[512];
	snprintf(sql, sizeof sql,
	         "CREATE TABLE IF NOT EXISTS %s_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
	         " size INTEGER NOT NULL);"
	         "CREATE TABLE IF NOT EXISTS %s_tile (id INTEGER PRIMARY KEY, data BLOB NOT NULL);",
	         name, name);
	if ((rc = exec(t, sql, err)) ||
	    (rc = prepare(t, &t->get_tile, "SELECT data FROM %s_tile WHERE id = ?1", name, err)) ||
	    (rc = prepare(t, &t->put_tile,
	                  "INSERT OR REPLACE INTO %s_tile (id, data) VALUES (?1, ?2)", name, err)) ||
	    (rc = prepare(t, &t->get_size, "SELECT size FROM %s_state WHERE id = 1", name, err)) ||
	    (rc = prepare(t, &t->put_size,
	                  "INSERT OR REPLACE INTO %s_state (id, size) VALUES (1, ?1)", name, err)))
		goto fail;
	rc = load_state(t, err);
	if (rc)
		goto fail;
	*out = t;
	return 0;
fail:
	ctng_merkle_tiles_close(t);
	return rc;
}

int ctng_merkle_tiles_open(struct sqlite3 *db, ctng_merkle_tiles **out, ctng_err *err)
{
	return ctng_merkle_tiles_open_named(db, "merkle", out, err);
}

void ctng_merkle_tiles_close(ctng_merkle_tiles *t)
{
	if (!t)
		return;
	row_release(t);
	sqlite3_finalize(t->get_tile);
	sqlite3_finalize(t->put_tile);
	sqlite3_finalize(t->get_size);
	sqlite3_finalize(t->put_size);
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		free(t->cache[i].h);
	mk_hasher_free(&t->hs);
	free(t);
}

uint64_t ctng_merkle_tiles_size(const ctng_merkle_tiles *t)
{
	return t ? t->size : 0;
}

int ctng_merkle_tiles_reload(ctng_merkle_tiles *t, ctng_err *err)
{
	if (!t)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	return load_state(t, err);
}

/* Adds one hash at the base of the edge tile of `level` and every node it
 * completes; a filled tile is written and the next one started. */
static int push_base(ctng_merkle_tiles *t, unsigned level, const uint8_t hash[32], ctng_err *err)
{
	if (level >= TILE_LEVELS)
		return ctng_err_set(err, CTNG_ERANGE, "merkle tiles: tree full");
	edge_tile *e = &t->edge[level];
	unsigned j = e->w;
	memcpy(e->h[j], hash, 32);
	e->w = j + 1;
	e->dirty = true;
	unsigned r = 0, idx = j;
	while ((idx & 1) && r + 1 < CTNG_MERKLE_TILE_HEIGHT) {
		if (mk_hash_node(&t->hs, e->h[off(r + 1) + (idx >> 1)], e->h[off(r) + idx - 1],
		                 e->h[off(r) + idx]))
			return ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
		r++;
		idx >>= 1;
	}
	if (e->w < CTNG_MERKLE_TILE_WIDTH)
		return 0;
	/* The tile is full: its root is the next base hash one tile level up. */
	uint8_t root[32];
	if (mk_hash_node(&t->hs, root, e->h[off(7)], e->h[off(7) + 1]))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
	int rc = put_tile(t, level, e->n, CTNG_MERKLE_TILE_WIDTH, e->h, err);
	if (rc)
		return rc;
	cache_put(t, level, e->n, e->h);
	e->n++;
	e->w = 0;
	e->dirty = false;
	return push_base(t, level + 1, root, err);
}

int ctng_merkle_tiles_append(ctng_merkle_tiles *t, const uint8_t (*leaf_hashes)[32], size_t n,
                             ctng_err *err)
{
	if (!t || (n && !leaf_hashes))
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	if (t->broken)
		return ctng_err_set(err, CTNG_ESTATE, "merkle tiles: needs reload after an error");
	if (n == 0)
		return 0;
	if (t->size > UINT64_MAX - n)
		return ctng_err_set(err, CTNG_ERANGE, "merkle tiles: tree full");
	bool own = sqlite3_get_autocommit(t->db) != 0;
	int rc = exec(t, own ? "BEGIN IMMEDIATE" : "SAVEPOINT ctng_merkle_append", err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = push_base(t, 0, leaf_hashes[i], err);
	uint64_t new_size = t->size + n;
	for (unsigned L = 0; L < TILE_LEVELS && rc == 0; L++) {
		edge_tile *e = &t->edge[L];
		if (e->dirty && e->w) {
			rc = put_tile(t, L, e->n, e->w, e->h, err);
			e->dirty = false;
		}
	}
	if (rc == 0) {
		sqlite3_stmt *s = t->put_size;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, (sqlite3_int64)new_size);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = db_fail(t, err, "writing size");
		sqlite3_reset(s);
	}
	if (rc == 0)
		rc = exec(t, own ? "COMMIT" : "RELEASE ctng_merkle_append", err);
	if (rc == 0) {
		t->size = new_size;
		return 0;
	}
	if (own)
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	else
		sqlite3_exec(t->db, "ROLLBACK TO ctng_merkle_append; RELEASE ctng_merkle_append",
		             NULL, NULL, NULL);
	load_state(t, NULL);
	return rc;
}

static int check_usable(const ctng_merkle_tiles *t, ctng_err *err)
{
	if (!t)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	if (t->broken)
		return ctng_err_set(err, CTNG_ESTATE, "merkle tiles: needs reload after an error");
	return 0;
}

int ctng_merkle_tiles_leaf(ctng_merkle_tiles *t, uint64_t index, uint8_t out[32], ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	if (!out)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	if (index >= t->size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: leaf index %llu not below size %llu",
		                    (unsigned long long)index, (unsigned long long)t->size);
	rc = tiles_get(t, 0, index, out, err);
	row_release(t);
	return rc;
}

int ctng_merkle_tiles_root(ctng_merkle_tiles *t, uint64_t size, uint8_t out[32], ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	if (!out)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	if (size > t->size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle: size %llu beyond current size %llu",
		                    (unsigned long long)size, (unsigned long long)t->size);
	rc = mk_root(&t->ctx, size, out, err);
	row_release(t);
	return rc;
}

int ctng_merkle_tiles_inclusion(ctng_merkle_tiles *t, uint64_t index, uint64_t size,
                                uint8_t (*proof)[32], size_t *proof_len, ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	rc = mk_inclusion(&t->ctx, t->size, index, size, proof, proof_len, err);
	row_release(t);
	return rc;
}

int ctng_merkle_tiles_consistency(ctng_merkle_tiles *t, uint64_t size1, uint64_t size2,
                                  uint8_t (*proof)[32], size_t *proof_len, ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	rc = mk_consistency(&t->ctx, t->size, size1, size2, proof, proof_len, err);
	row_release(t);
	return rc;
}

int ctng_merkle_tiles_read_tile(ctng_merkle_tiles *t, unsigned level, uint64_t index,
                                unsigned width, uint8_t *out, ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	if (!out)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: NULL argument");
	if (width == 0 || width > CTNG_MERKLE_TILE_WIDTH)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: tile width %u not in 1..256",
		                    width);
	unsigned avail = ctng_merkle_tile_width(level, index, t->size);
	if (width > avail)
		return ctng_err_set(err, CTNG_ENOTFOUND,
		                    "merkle tiles: tile %u/%llu has %u hashes, %u requested", level,
		                    (unsigned long long)index, avail, width);
	if (index == t->edge[level].n) {
		memcpy(out, t->edge[level].h[0], (size_t)width * 32);
		return 0;
	}
	const uint8_t(*h)[32];
	rc = full_tile(t, level, index, &h, err);
	if (rc)
		return rc;
	memcpy(out, h[0], (size_t)width * 32);
	return 0;
}

int ctng_merkle_tiles_range_hash(ctng_merkle_tiles *t, uint64_t a, uint64_t b, uint8_t out[32],
                                 ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	if (!out || a >= b || b > t->size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: range %llu..%llu not in the tree",
		                    (unsigned long long)a, (unsigned long long)b);
	uint64_t w = b - a, block = 1;
	while (block < w)
		block <<= 1;
	if (a % block)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: range %llu..%llu not aligned",
		                    (unsigned long long)a, (unsigned long long)b);
	rc = mk_range_hash(&t->ctx, a, b, out, err);
	row_release(t);
	return rc;
}

int ctng_merkle_tiles_range(ctng_merkle_tiles *t, uint64_t size, ctng_merkle_range *out,
                            ctng_err *err)
{
	int rc = check_usable(t, err);
	if (rc)
		return rc;
	if (!out || size > t->size)
		return ctng_err_set(err, CTNG_EINVAL, "merkle tiles: size %llu beyond the tree",
		                    (unsigned long long)size);
	ctng_merkle_range_init(out);
	uint64_t pos = 0;
	for (int h = 63; h >= 0 && rc == 0; h--) {
		if (!((size >> h) & 1))
			continue;
		rc = tiles_get(t, (unsigned)h, pos >> h, out->h[out->n], err);
		out->n++;
		pos += (uint64_t)1 << h;
	}
	out->size = size;
	row_release(t);
	if (rc)
		ctng_merkle_range_init(out);
	return rc;
}
