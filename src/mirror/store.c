/*
 * store.c — the mirror in the monitor's SQLite database: the entries of
 * every logger (the TileLeaf bytes as served), a hash-tile tree per logger
 * (ctng_merkle_tiles, tables mirror<k>_tile / mirror<k>_state) and per
 * logger the verified state (stored size and compact range, the base STH
 * and its range). A run of entries, its tiles, its state and whatever the
 * entry hook writes are one transaction: after a kill -9 the mirror is at
 * the end of some run, never inside one. Also the reads a monitor serves
 * to its peers (/mirror/<logger>/...).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/mirror.h"

#define IDX_BITS 40 /* entry row id = log id << 40 | index */

static const char *const migrations[] = {
    "CREATE TABLE mirror_log ("
    " id INTEGER PRIMARY KEY, logger TEXT NOT NULL UNIQUE,"
    " size INTEGER NOT NULL, range BLOB NOT NULL,"
    " base_sth TEXT, base_range BLOB NOT NULL);"
    "CREATE TABLE mirror_entry (id INTEGER PRIMARY KEY, leaf BLOB NOT NULL,"
    " te_len INTEGER NOT NULL);",
};

typedef struct dblog {
	char id[CTNG_ID_MAX + 1];
	int64_t key;
	ctng_merkle_tiles *tiles;
} dblog;

struct ctng_mirror_db {
	ctng_store *st;
	sqlite3 *db;
	dblog *l;
	size_t nl;
	ctng_mirror_entry_hook hook;
	void *hook_arg;
	sqlite3_stmt *ins, *upd, *upd_base, *get, *range_q;
	uint8_t (*hashes)[32];
	size_t cap_hashes;
};

static int db_err(ctng_mirror_db *m, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "mirror store: %s: %s", what, sqlite3_errmsg(m->db));
}

static dblog *find(ctng_mirror_db *m, const char *logger, ctng_err *err)
{
	for (size_t i = 0; logger && i < m->nl; i++)
		if (strcmp(m->l[i].id, logger) == 0)
			return &m->l[i];
	ctng_err_set(err, CTNG_ENOTFOUND, "mirror: no logger %s", logger ? logger : "");
	return NULL;
}

static int range_from_blob(ctng_merkle_range *r, uint64_t size, const void *p, int len,
                           ctng_err *err)
{
	if (len < 0 || len % 32 || len / 32 != __builtin_popcountll(size))
		return ctng_err_set(err, CTNG_EIO,
		                    "mirror store: stored range does not fit its size");
	return ctng_merkle_range_set(r, size, (const uint8_t(*)[32])p, (unsigned)(len / 32), err);
}

void ctng_mirror_db_close(ctng_mirror_db *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nl; i++)
		ctng_merkle_tiles_close(m->l[i].tiles);
	sqlite3_finalize(m->ins);
	sqlite3_finalize(m->upd);
	sqlite3_finalize(m->upd_base);
	sqlite3_finalize(m->get);
	sqlite3_finalize(m->range_q);
	free(m->l);
	free(m->hashes);
	free(m);
}

int ctng_mirror_db_open(ctng_store *st, const ctng_network *net, ctng_mirror_db **out,
                        ctng_err *err)
{
	*out = NULL;
	int rc = ctng_store_migrate(st, "mirror", migrations,
	                            sizeof migrations / sizeof migrations[0], err);
	if (rc)
		return rc;
	ctng_mirror_db *m = calloc(1, sizeof(*m));
	if (!m)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	m->st = st;
	m->db = ctng_store_db(st);
	m->nl = ctng_network_count(net, CTNG_ROLE_LOGGER);
	if (!(m->l = calloc(m->nl ? m->nl : 1, sizeof(*m->l)))) {
		free(m);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (sqlite3_prepare_v2(m->db,
	                       "INSERT INTO mirror_entry (id, leaf, te_len) VALUES (?1,?2,?3)", -1,
	                       &m->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db, "UPDATE mirror_log SET size = ?2, range = ?3 WHERE id = ?1",
	                       -1, &m->upd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db,
	                       "UPDATE mirror_log SET base_sth = ?2, base_range = ?3 WHERE id = ?1",
	                       -1, &m->upd_base, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db,
	                       "SELECT id, size, range, base_sth, base_range FROM mirror_log"
	                       " WHERE logger = ?1",
	                       -1, &m->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
	        m->db, "SELECT leaf FROM mirror_entry WHERE id >= ?1 AND id < ?2 ORDER BY id", -1,
	        &m->range_q, NULL) != SQLITE_OK) {
		rc = db_err(m, err, "preparing statements");
		goto fail;
	}
	for (size_t i = 0; i < m->nl && !rc; i++) {
		dblog *l = &m->l[i];
		snprintf(l->id, sizeof l->id, "%s", ctng_network_nth(net, CTNG_ROLE_LOGGER, i)->id);
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(
		        m->db,
		        "INSERT OR IGNORE INTO mirror_log (logger, size, range, base_range)"
		        " VALUES (?1, 0, x'', x'')",
		        -1, &s, NULL) != SQLITE_OK) {
			rc = db_err(m, err, "preparing");
			break;
		}
		sqlite3_bind_text(s, 1, l->id, -1, SQLITE_STATIC);
		int r = sqlite3_step(s);
		sqlite3_finalize(s);
		if (r != SQLITE_DONE) {
			rc = db_err(m, err, "adding a logger");
			break;
		}
		sqlite3_reset(m->get);
		sqlite3_bind_text(m->get, 1, l->id, -1, SQLITE_STATIC);
		if (sqlite3_step(m->get) != SQLITE_ROW) {
			rc = db_err(m, err, "reading a logger");
			break;
		}
		l->key = sqlite3_column_int64(m->get, 0);
		uint64_t size = (uint64_t)sqlite3_column_int64(m->get, 1);
		sqlite3_reset(m->get);
		if (l->key <= 0 || l->key >= (1 << 22)) {
			rc = ctng_err_set(err, CTNG_EIO, "mirror store: logger key out of range");
			break;
		}
		char name[32];
		snprintf(name, sizeof name, "mirror%" PRId64, l->key);
		if ((rc = ctng_merkle_tiles_open_named(m->db, name, &l->tiles, err)))
			break;
		if (ctng_merkle_tiles_size(l->tiles) != size)
			rc = ctng_err_set(err, CTNG_EIO,
			                  "mirror store: %s has %" PRIu64 " entries but %" PRIu64
			                  " in its tiles",
			                  l->id, size, ctng_merkle_tiles_size(l->tiles));
	}
	if (rc)
		goto fail;
	*out = m;
	return 0;
fail:
	ctng_mirror_db_close(m);
	return rc;
}

void ctng_mirror_db_set_hook(ctng_mirror_db *m, ctng_mirror_entry_hook hook, void *arg)
{
	m->hook = hook;
	m->hook_arg = arg;
}

/* Reads a logger's state row. */
static int read_state(ctng_mirror_db *m, dblog *l, ctng_mirror_state *st, ctng_err *err)
{
	memset(st, 0, sizeof(*st));
	sqlite3_reset(m->get);
	sqlite3_bind_text(m->get, 1, l->id, -1, SQLITE_STATIC);
	if (sqlite3_step(m->get) != SQLITE_ROW) {
		sqlite3_reset(m->get);
		return db_err(m, err, "reading a logger");
	}
	uint64_t size = (uint64_t)sqlite3_column_int64(m->get, 1);
	int rc = range_from_blob(&st->range, size, sqlite3_column_blob(m->get, 2),
	                         sqlite3_column_bytes(m->get, 2), err);
	const char *base = (const char *)sqlite3_column_text(m->get, 3);
	if (!rc && base) {
		ctng_sth h;
		rc = ctng_gossip_decode(base, (size_t)sqlite3_column_bytes(m->get, 3), &st->base,
		                        err);
		if (!rc)
			rc = ctng_sth_from_object(&st->base, &h, err);
		if (!rc)
			rc = range_from_blob(&st->base_range, h.tree_size,
			                     sqlite3_column_blob(m->get, 4),
			                     sqlite3_column_bytes(m->get, 4), err);
		st->has_base = rc == 0;
	}
	sqlite3_reset(m->get);
	if (rc)
		ctng_gossip_clear(&st->base);
	return rc;
}

int ctng_mirror_db_restore(ctng_mirror_db *m, ctng_mirror_sm *sm, ctng_err *err)
{
	for (size_t i = 0; i < m->nl; i++) {
		ctng_mirror_state st;
		int rc = read_state(m, &m->l[i], &st, err);
		if (!rc)
			rc = ctng_mirror_sm_restore(sm, m->l[i].id, &st, err);
		ctng_gossip_clear(&st.base);
		if (rc)
			return rc;
	}
	return 0;
}

static int step_done(ctng_mirror_db *m, sqlite3_stmt *s, ctng_err *err, const char *what)
{
	int r = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r == SQLITE_DONE ? 0 : db_err(m, err, what);
}

static int apply(ctng_mirror_db *m, dblog *l, const ctng_mirror_run *run,
                 const ctng_gossip_object *sth, ctng_err *err)
{
	uint64_t have = ctng_merkle_tiles_size(l->tiles);
	if (run->first != have || run->range.size != run->first + run->n)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "mirror store: run %" PRIu64
		                    "+%zu does not continue %s at %" PRIu64,
		                    run->first, run->n, l->id, have);
	if (run->first + run->n >= ((uint64_t)1 << IDX_BITS))
		return ctng_err_set(err, CTNG_ERANGE, "mirror store: log too large");
	if (run->n > m->cap_hashes) {
		void *v = realloc(m->hashes, run->n * 32);
		if (!v)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		m->hashes = v;
		m->cap_hashes = run->n;
	}
	int rc = 0;
	for (size_t i = 0; i < run->n && !rc; i++) {
		const ctng_mirror_entry *e = &run->entries[i];
		uint64_t idx = run->first + i;
		sqlite3_bind_int64(m->ins, 1,
		                   (sqlite3_int64)(((uint64_t)l->key << IDX_BITS) | idx));
		sqlite3_bind_blob(m->ins, 2, e->tile_leaf, (int)e->tile_leaf_len, SQLITE_STATIC);
		sqlite3_bind_int64(m->ins, 3, (sqlite3_int64)e->te_len);
		if ((rc = step_done(m, m->ins, err, "storing an entry")))
			break;
		memcpy(m->hashes[i], e->leaf_hash, 32);
		if (m->hook)
			rc = m->hook(m->hook_arg, m->st, l->id, idx, e, err);
	}
	if (!rc && run->n)
		rc = ctng_merkle_tiles_append(l->tiles, (const uint8_t(*)[32])m->hashes, run->n,
		                              err);
	uint8_t root[32];
	if (!rc && (rc = ctng_merkle_tiles_root(l->tiles, run->range.size, root, err)) == 0 &&
	    memcmp(root, run->root, 32) != 0)
		rc = ctng_err_set(err, CTNG_ESTATE, "mirror store: stored tree has another root");
	if (!rc) {
		sqlite3_bind_int64(m->upd, 1, l->key);
		sqlite3_bind_int64(m->upd, 2, (sqlite3_int64)run->range.size);
		sqlite3_bind_blob(m->upd, 3, run->range.h, (int)run->range.n * 32, SQLITE_STATIC);
		rc = step_done(m, m->upd, err, "storing the state");
	}
	if (!rc && run->complete && sth) {
		char *json = NULL;
		size_t len = 0;
		if (!(rc = ctng_gossip_encode(sth, &json, &len, err))) {
			sqlite3_bind_int64(m->upd_base, 1, l->key);
			sqlite3_bind_text(m->upd_base, 2, json, (int)len, SQLITE_STATIC);
			sqlite3_bind_blob(m->upd_base, 3, run->base_range.h,
			                  (int)run->base_range.n * 32, SQLITE_STATIC);
			rc = step_done(m, m->upd_base, err, "storing the base");
		}
		free(json);
	}
	return rc;
}

int ctng_mirror_db_apply(ctng_mirror_db *m, const char *logger, const ctng_mirror_run *run,
                         const ctng_gossip_object *sth, ctng_err *err)
{
	dblog *l = find(m, logger, err);
	if (!l)
		return CTNG_ENOTFOUND;
	int rc = ctng_store_begin(m->st, err);
	if (rc)
		return rc;
	rc = apply(m, l, run, sth, err);
	if (!rc)
		rc = ctng_store_commit(m->st, err);
	if (rc) {
		ctng_store_rollback(m->st, NULL);
		ctng_merkle_tiles_reload(l->tiles, NULL);
	}
	return rc;
}

int ctng_mirror_db_size(ctng_mirror_db *m, const char *logger, uint64_t *size, uint8_t root[32],
                        ctng_err *err)
{
	dblog *l = find(m, logger, err);
	if (!l)
		return CTNG_ENOTFOUND;
	*size = ctng_merkle_tiles_size(l->tiles);
	return root ? ctng_merkle_tiles_root(l->tiles, *size, root, err) : 0;
}

int ctng_mirror_db_holds(ctng_mirror_db *m, const ctng_gossip_object *sth, bool *held,
                         ctng_err *err)
{
	*held = false;
	ctng_sth h;
	int rc = ctng_sth_from_object(sth, &h, err);
	if (rc)
		return rc;
	dblog *l = find(m, sth->signer, err);
	if (!l)
		return CTNG_ENOTFOUND;
	if (h.tree_size > ctng_merkle_tiles_size(l->tiles))
		return 0;
	uint8_t root[32];
	if ((rc = ctng_merkle_tiles_root(l->tiles, h.tree_size, root, err)))
		return rc;
	*held = memcmp(root, h.root, 32) == 0;
	return 0;
}

static int have_width(dblog *l, unsigned level, uint64_t index, unsigned width, ctng_err *err)
{
	if (width == 0 || width > 256)
		return ctng_err_set(err, CTNG_EINVAL, "tile width %u out of range", width);
	if (width > ctng_merkle_tile_width(level, index, ctng_merkle_tiles_size(l->tiles)))
		return ctng_err_set(err, CTNG_ENOTFOUND,
		                    "the mirror does not hold that tile (yet)");
	return 0;
}

int ctng_mirror_db_data_tile(ctng_mirror_db *m, const char *logger, uint64_t tile, unsigned width,
                             uint8_t **data, size_t *len, ctng_err *err)
{
	*data = NULL;
	*len = 0;
	dblog *l = find(m, logger, err);
	if (!l)
		return CTNG_ENOTFOUND;
	int rc = have_width(l, 0, tile, width, err);
	if (rc)
		return rc;
	uint64_t a = ((uint64_t)l->key << IDX_BITS) | (tile * 256);
	sqlite3_stmt *s = m->range_q;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)a);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)(a + width));
	ctng_buf b = {0};
	unsigned got = 0;
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (ctng_buf_append(&b, sqlite3_column_blob(s, 0),
		                    (size_t)sqlite3_column_bytes(s, 0))) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		got++;
	}
	if (!rc && r != SQLITE_DONE)
		rc = db_err(m, err, "reading entries");
	sqlite3_reset(s);
	if (!rc && got != width)
		rc = ctng_err_set(err, CTNG_EIO,
		                  "mirror store: %u entries of tile %" PRIu64 ", want %u", got,
		                  tile, width);
	if (rc) {
		ctng_buf_free(&b);
		return rc;
	}
	*data = ctng_buf_detach(&b, len);
	return 0;
}

int ctng_mirror_db_hash_tile(ctng_mirror_db *m, const char *logger, unsigned level, uint64_t index,
                             unsigned width, uint8_t **data, size_t *len, ctng_err *err)
{
	*data = NULL;
	dblog *l = find(m, logger, err);
	if (!l)
		return CTNG_ENOTFOUND;
	int rc = have_width(l, level, index, width, err);
	if (rc)
		return rc;
	uint8_t *buf = malloc((size_t)width * 32);
	if (!buf)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if ((rc = ctng_merkle_tiles_read_tile(l->tiles, level, index, width, buf, err))) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = (size_t)width * 32;
	return 0;
}

int ctng_mirror_db_tile_roots(ctng_mirror_db *m, const char *logger, uint64_t tree_size,
                              uint64_t first, uint32_t count, ctng_tile_roots *out, ctng_err *err)
{
	ctng_tile_roots_clear(out);
	dblog *l = find(m, logger, err);
	if (!l)
		return CTNG_ENOTFOUND;
	snprintf(out->logger, sizeof out->logger, "%s", l->id);
	out->tree_size = tree_size;
	out->first = first;
	out->count = count;
	int rc = ctng_tile_roots_check(out, err);
	if (rc)
		return rc;
	if (tree_size > ctng_merkle_tiles_size(l->tiles))
		return ctng_err_set(err, CTNG_ENOTFOUND,
		                    "the mirror does not hold that tree (yet)");
	if (!(out->roots = malloc((size_t)count * 32)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < count && !rc; i++) {
		uint64_t a = (first + i) * 256;
		rc = ctng_merkle_tiles_range_hash(l->tiles, a, a + ctng_tile_roots_width(out, i),
		                                  out->roots[i], err);
	}
	if (rc)
		ctng_tile_roots_clear(out);
	return rc;
}
