/*
 * store.c — the node's SQLite database: durable open (WAL, synchronous=FULL),
 * core and per-module migrations, nested transactions, the gossip object
 * table and the key-value table. See include/ctng/store.h for contracts.
 */
#include "ctng/store.h"

#include <inttypes.h>
#include <sys/stat.h>

#include "ctng/metrics.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctng_store {
	sqlite3 *db;
	int depth; /* transaction nesting depth */
	int schema_version;
	/* ctng_store_metrics; NULL: not counted */
	ctng_metric *m_commit_seconds, *m_commits;
	char metrics_db[64]; /* the db label: the file's base name */
};

/* Core schema: user_version counts how many of these steps were applied. */
static const char *const core_steps[] = {
    /* 1 */
    "CREATE TABLE migrations ("
    "  module TEXT PRIMARY KEY NOT NULL,"
    "  version INTEGER NOT NULL CHECK (version >= 0));"
    "CREATE TABLE gossip_objects ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  family TEXT NOT NULL,"
    "  entity TEXT NOT NULL,"
    "  period INTEGER NOT NULL CHECK (period >= 0),"
    "  type_uri TEXT NOT NULL,"
    "  signer TEXT NOT NULL,"
    "  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
    "  json TEXT NOT NULL,"
    "  stored_ms INTEGER NOT NULL);"
    "CREATE INDEX gossip_objects_id ON gossip_objects (family, entity, period);"
    "CREATE INDEX gossip_objects_period ON gossip_objects (period, type_uri);"
    "CREATE TABLE kv ("
    "  ns TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;",
};
#define CORE_VERSION ((int)(sizeof(core_steps) / sizeof(core_steps[0])))

static int db_fail(ctng_store *s, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec_sql(ctng_store *s, const char *sql, ctng_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = ctng_err_set(err, CTNG_EIO, "store: %s", msg ? msg : "exec failed");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int prepare(ctng_store *s, const char *sql, sqlite3_stmt **st, ctng_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(s, err, "prepare");
	return 0;
}

/* Runs a single-row integer query. */
static int query_int(ctng_store *s, const char *sql, int64_t *v, ctng_err *err)
{
	sqlite3_stmt *st;
	int rc = prepare(s, sql, &st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(s, err, sql);
	} else {
		*v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ------------------------------------------------------------ lifecycle */

static int core_migrate(ctng_store *s, ctng_err *err)
{
	int64_t v = 0;
	int rc = query_int(s, "PRAGMA user_version", &v, err);
	if (rc)
		return rc;
	if (v > CORE_VERSION)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "store: database schema version %" PRId64
		                    " is newer than this program (%d)",
		                    v, CORE_VERSION);
	for (int i = (int)v; i < CORE_VERSION; i++) {
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d", i + 1);
		if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err)))
			return rc;
		if ((rc = exec_sql(s, core_steps[i], err)) || (rc = exec_sql(s, bump, err))) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			ctng_err_wrap(err, "core migration %d", i + 1);
			return rc;
		}
		if ((rc = exec_sql(s, "COMMIT", err))) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	s->schema_version = CORE_VERSION;
	return 0;
}

ctng_store *ctng_store_open(const char *path, ctng_err *err)
{
	if (!path || !*path) {
		ctng_err_set(err, CTNG_EINVAL, "store: empty database path");
		return NULL;
	}
	ctng_store *s = calloc(1, sizeof *s);
	if (!s) {
		ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
		return NULL;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		ctng_err_set(err, CTNG_EIO, "store: open %s: %s", path,
		             s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK) {
		db_fail(s, err, "busy_timeout");
		goto fail;
	}
	bool mem = strcmp(path, ":memory:") == 0;
	if (!mem) {
		sqlite3_stmt *st;
		if (prepare(s, "PRAGMA journal_mode=WAL", &st, err))
			goto fail;
		int step = sqlite3_step(st);
		const char *mode =
		    step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		bool wal = mode && strcmp(mode, "wal") == 0;
		sqlite3_finalize(st);
		if (!wal) {
			ctng_err_set(err, CTNG_EIO, "store: %s: cannot enable WAL mode: %s", path,
			             sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	if (exec_sql(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err))
		goto fail;
	if (core_migrate(s, err))
		goto fail;
	return s;
fail:
	sqlite3_close_v2(s->db);
	free(s);
	return NULL;
}

void ctng_store_close(ctng_store *s)
{
	if (!s)
		return;
	if (s->depth > 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(s->db);
	free(s);
}

sqlite3 *ctng_store_db(ctng_store *s)
{
	return s->db;
}

int ctng_store_schema_version(ctng_store *s)
{
	return s->schema_version;
}

int ctng_store_exec(ctng_store *s, const char *sql, ctng_err *err)
{
	return exec_sql(s, sql, err);
}

int ctng_store_integrity_check(ctng_store *s, ctng_err *err)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "PRAGMA integrity_check", &st, err);
	if (rc)
		return rc;
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		rc = db_fail(s, err, "integrity_check");
	} else {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		if (!r || strcmp(r, "ok") != 0)
			rc = ctng_err_set(err, CTNG_EIO, "store: integrity check failed: %s",
			                  r ? r : "(null)");
	}
	sqlite3_finalize(st);
	return rc;
}

/* --------------------------------------------------------- transactions */

int ctng_store_begin(ctng_store *s, ctng_err *err)
{
	int rc;
	if (s->depth == 0) {
		rc = exec_sql(s, "BEGIN IMMEDIATE", err);
	} else {
		char sql[48];
		snprintf(sql, sizeof sql, "SAVEPOINT ctng_sp%d", s->depth);
		rc = exec_sql(s, sql, err);
	}
	if (rc == 0)
		s->depth++;
	return rc;
}

int ctng_store_commit(ctng_store *s, ctng_err *err)
{
	if (s->depth == 0)
		return ctng_err_set(err, CTNG_ESTATE, "store: commit without a transaction");
	int rc;
	if (s->depth == 1) {
		uint64_t t0 = ctng_mono_ns();
		rc = exec_sql(s, "COMMIT", err);
		ctng_counter_inc(s->m_commits, CTNG_LABELS(s->metrics_db, rc ? "error" : "ok"));
		ctng_histogram_observe(s->m_commit_seconds, CTNG_LABELS(s->metrics_db),
		                       ctng_metrics_since(t0));
		if (rc) {
			/* A failed COMMIT may leave the transaction open: end it. */
			if (!sqlite3_get_autocommit(s->db))
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			s->depth = 0;
			return rc;
		}
	} else {
		char sql[48];
		snprintf(sql, sizeof sql, "RELEASE ctng_sp%d", s->depth - 1);
		if ((rc = exec_sql(s, sql, err)))
			return rc;
	}
	s->depth--;
	return 0;
}

int ctng_store_rollback(ctng_store *s, ctng_err *err)
{
	if (s->depth == 0)
		return ctng_err_set(err, CTNG_ESTATE, "store: rollback without a transaction");
	int rc;
	if (s->depth == 1) {
		rc = sqlite3_get_autocommit(s->db) ? 0 : exec_sql(s, "ROLLBACK", err);
	} else {
		char sql[96];
		snprintf(sql, sizeof sql, "ROLLBACK TO ctng_sp%d; RELEASE ctng_sp%d", s->depth - 1,
		         s->depth - 1);
		rc = exec_sql(s, sql, err);
	}
	s->depth--;
	return rc;
}

int ctng_store_tx_depth(const ctng_store *s)
{
	return s->depth;
}

/* ----------------------------------------------------------- migrations */

int ctng_store_module_version(ctng_store *s, const char *module, int *version, ctng_err *err)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT version FROM migrations WHERE module = ?1", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else if (step == SQLITE_DONE)
		*version = 0;
	else
		rc = db_fail(s, err, "read migrations");
	sqlite3_finalize(st);
	return rc;
}

int ctng_store_migrate(ctng_store *s, const char *module, const char *const *steps, size_t n,
                       ctng_err *err)
{
	if (!module || !*module || (n > 0 && !steps))
		return ctng_err_set(err, CTNG_EINVAL, "store: migrate: bad arguments");
	if (n > 1000000)
		return ctng_err_set(err, CTNG_ERANGE, "store: migrate %s: too many steps", module);
	if (s->depth != 0)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "store: migrate %s inside an open transaction", module);
	int have = 0;
	int rc = ctng_store_module_version(s, module, &have, err);
	if (rc)
		return rc;
	if ((size_t)have > n)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "store: module %s schema version %d is newer than this program "
		                    "(%zu)",
		                    module, have, n);
	for (size_t i = (size_t)have; i < n; i++) {
		if ((rc = ctng_store_begin(s, err)))
			return rc;
		/* Re-read inside the write lock: another process may have migrated. */
		int cur = 0;
		if ((rc = ctng_store_module_version(s, module, &cur, err)))
			goto fail;
		if ((size_t)cur > i) {
			ctng_store_rollback(s, NULL);
			i = (size_t)cur - 1;
			continue;
		}
		if ((rc = exec_sql(s, steps[i], err))) {
			ctng_err_wrap(err, "migration %s step %zu", module, i + 1);
			goto fail;
		}
		sqlite3_stmt *st;
		if ((rc = prepare(s,
		                  "INSERT INTO migrations (module, version) VALUES (?1, ?2) "
		                  "ON CONFLICT (module) DO UPDATE SET version = excluded.version",
		                  &st, err)))
			goto fail;
		sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(i + 1));
		int step = sqlite3_step(st);
		sqlite3_finalize(st);
		if (step != SQLITE_DONE) {
			rc = db_fail(s, err, "record migration");
			goto fail;
		}
		if ((rc = ctng_store_commit(s, err)))
			return rc;
	}
	return 0;
fail:
	ctng_store_rollback(s, NULL);
	return rc;
}

/* --------------------------------------------------------- gossip objects */

static char *dup_text(sqlite3_stmt *st, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	if (n)
		memcpy(r, t, n);
	r[n] = 0;
	if (len)
		*len = n;
	return r;
}

#define OBJ_COLS "seq, family, entity, period, type_uri, signer, hash, json, stored_ms"

/* Fills o from a row selected with OBJ_COLS. */
static int row_to_obj(sqlite3_stmt *st, ctng_store_obj *o, ctng_err *err)
{
	memset(o, 0, sizeof *o);
	o->seq = sqlite3_column_int64(st, 0);
	o->family = dup_text(st, 1, NULL);
	o->entity = dup_text(st, 2, NULL);
	o->period = (uint64_t)sqlite3_column_int64(st, 3);
	o->type_uri = dup_text(st, 4, NULL);
	o->signer = dup_text(st, 5, NULL);
	const void *h = sqlite3_column_blob(st, 6);
	if (sqlite3_column_bytes(st, 6) == 32 && h)
		memcpy(o->hash, h, 32);
	o->json = dup_text(st, 7, &o->json_len);
	o->stored_ms = (uint64_t)sqlite3_column_int64(st, 8);
	if (!o->family || !o->entity || !o->type_uri || !o->signer || !o->json) {
		ctng_store_obj_clear(o);
		return ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
	}
	return 0;
}

void ctng_store_obj_clear(ctng_store_obj *o)
{
	if (!o)
		return;
	free((char *)o->family);
	free((char *)o->entity);
	free((char *)o->type_uri);
	free((char *)o->signer);
	free((char *)o->json);
	memset(o, 0, sizeof *o);
}

void ctng_store_objs_free(ctng_store_objs *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		ctng_store_obj_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int check_period(uint64_t p, ctng_err *err)
{
	if (p > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "store: period %" PRIu64 " too large", p);
	return 0;
}

int ctng_store_obj_put(ctng_store *s, const ctng_store_obj *o, bool *inserted, ctng_err *err)
{
	if (!o || !o->family || !*o->family || !o->entity || !o->type_uri || !*o->type_uri ||
	    !o->signer || !o->json || o->json_len == 0)
		return ctng_err_set(err, CTNG_EINVAL, "store: object with a missing field");
	if (o->json_len > (size_t)INT32_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "store: object JSON too large");
	int rc = check_period(o->period, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s,
	                  "INSERT INTO gossip_objects (family, entity, period, type_uri, signer, "
	                  "hash, json, stored_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	                  "ON CONFLICT (hash) DO NOTHING",
	                  &st, err)))
		return rc;
	sqlite3_bind_text(st, 1, o->family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)o->period);
	sqlite3_bind_text(st, 4, o->type_uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->signer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, o->hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, o->json, (int)o->json_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)ctng_now_ms());
	int step = sqlite3_step(st);
	if (step != SQLITE_DONE)
		rc = db_fail(s, err, "store object");
	else if (inserted)
		*inserted = sqlite3_changes(s->db) > 0;
	sqlite3_finalize(st);
	return rc;
}

int ctng_store_obj_get(ctng_store *s, const uint8_t hash[32], ctng_store_obj *out, ctng_err *err)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT " OBJ_COLS " FROM gossip_objects WHERE hash = ?1", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = row_to_obj(st, out, err);
	else if (step == SQLITE_DONE)
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "store: no object with that hash");
	else
		rc = db_fail(s, err, "get object");
	sqlite3_finalize(st);
	return rc;
}

/* Builds "<prefix> WHERE ..." for q into buf and binds nothing yet. */
static int build_where(const ctng_store_query *q, const char *prefix, const char *suffix, char *buf,
                       size_t cap, ctng_err *err)
{
	int n = snprintf(buf, cap, "%s WHERE 1", prefix);
	if (q && q->family)
		n += snprintf(buf + n, cap - (size_t)n, " AND family = ?1");
	if (q && q->entity)
		n += snprintf(buf + n, cap - (size_t)n, " AND entity = ?2");
	if (q && q->type_uri)
		n += snprintf(buf + n, cap - (size_t)n, " AND type_uri = ?3");
	if (q && q->signer)
		n += snprintf(buf + n, cap - (size_t)n, " AND signer = ?4");
	if (q && q->has_period) {
		int rc = check_period(q->period, err);
		if (rc)
			return rc;
		n += snprintf(buf + n, cap - (size_t)n, " AND period = ?5");
	}
	snprintf(buf + n, cap - (size_t)n, "%s", suffix);
	return 0;
}

static void bind_query(sqlite3_stmt *st, const ctng_store_query *q)
{
	if (!q)
		return;
	if (q->family)
		sqlite3_bind_text(st, 1, q->family, -1, SQLITE_STATIC);
	if (q->entity)
		sqlite3_bind_text(st, 2, q->entity, -1, SQLITE_STATIC);
	if (q->type_uri)
		sqlite3_bind_text(st, 3, q->type_uri, -1, SQLITE_STATIC);
	if (q->signer)
		sqlite3_bind_text(st, 4, q->signer, -1, SQLITE_STATIC);
	if (q->has_period)
		sqlite3_bind_int64(st, 5, (sqlite3_int64)q->period);
}

int ctng_store_obj_find(ctng_store *s, const ctng_store_query *q, ctng_store_objs *out,
                        ctng_err *err)
{
	out->v = NULL;
	out->n = 0;
	char sql[512], suffix[64];
	if (q && q->limit)
		snprintf(suffix, sizeof suffix, " ORDER BY seq LIMIT %zu", q->limit);
	else
		snprintf(suffix, sizeof suffix, " ORDER BY seq");
	int rc =
	    build_where(q, "SELECT " OBJ_COLS " FROM gossip_objects", suffix, sql, sizeof sql, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s, sql, &st, err)))
		return rc;
	bind_query(st, q);
	size_t cap = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			ctng_store_obj *nv = realloc(out->v, nc * sizeof *nv);
			if (!nv) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
				break;
			}
			out->v = nv;
			cap = nc;
		}
		if ((rc = row_to_obj(st, &out->v[out->n], err)))
			break;
		out->n++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_fail(s, err, "find objects");
	sqlite3_finalize(st);
	if (rc)
		ctng_store_objs_free(out);
	return rc;
}

int ctng_store_obj_find_id(ctng_store *s, const char *family, const char *entity, uint64_t period,
                           ctng_store_objs *out, ctng_err *err)
{
	if (!family || !entity)
		return ctng_err_set(err, CTNG_EINVAL, "store: find by id needs family and entity");
	ctng_store_query q = {
	    .family = family, .entity = entity, .has_period = true, .period = period};
	return ctng_store_obj_find(s, &q, out, err);
}

int ctng_store_obj_count(ctng_store *s, const ctng_store_query *q, uint64_t *n, ctng_err *err)
{
	char sql[512];
	int rc = build_where(q, "SELECT count(*) FROM gossip_objects", "", sql, sizeof sql, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s, sql, &st, err)))
		return rc;
	bind_query(st, q);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = db_fail(s, err, "count objects");
	sqlite3_finalize(st);
	return rc;
}

void ctng_store_type_counts_free(char **types, uint64_t *counts, size_t n)
{
	if (types)
		for (size_t i = 0; i < n; i++)
			free(types[i]);
	free(types);
	free(counts);
}

int ctng_store_obj_count_by_type(ctng_store *s, uint64_t period, char ***types, uint64_t **counts,
                                 size_t *n, ctng_err *err)
{
	*types = NULL;
	*counts = NULL;
	*n = 0;
	int rc = check_period(period, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s,
	                  "SELECT type_uri, count(*) FROM gossip_objects WHERE period = ?1 "
	                  "GROUP BY type_uri ORDER BY type_uri",
	                  &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	size_t cap = 0, cnt = 0;
	char **t = NULL;
	uint64_t *c = NULL;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nt = realloc(t, nc * sizeof *nt);
			if (nt)
				t = nt;
			uint64_t *ncs = nt ? realloc(c, nc * sizeof *ncs) : NULL;
			if (!nt || !ncs) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
				break;
			}
			c = ncs;
			cap = nc;
		}
		t[cnt] = dup_text(st, 0, NULL);
		if (!t[cnt]) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
			break;
		}
		c[cnt] = (uint64_t)sqlite3_column_int64(st, 1);
		cnt++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_fail(s, err, "count by type");
	sqlite3_finalize(st);
	if (rc) {
		ctng_store_type_counts_free(t, c, cnt);
		return rc;
	}
	*types = t;
	*counts = c;
	*n = cnt;
	return 0;
}

int ctng_store_obj_delete(ctng_store *s, const ctng_store_query *q, uint64_t *deleted,
                          ctng_err *err)
{
	char sql[512];
	int rc = build_where(q, "DELETE FROM gossip_objects", "", sql, sizeof sql, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s, sql, &st, err)))
		return rc;
	bind_query(st, q);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "delete objects");
	else if (deleted)
		*deleted = (uint64_t)sqlite3_changes64(s->db);
	sqlite3_finalize(st);
	return rc;
}

/* -------------------------------------------------------- key-value state */

static int kv_args(const char *ns, const char *key, ctng_err *err)
{
	if (!ns || !*ns || !key || !*key)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "store: kv namespace and key must be non-empty");
	return 0;
}

int ctng_store_kv_put(ctng_store *s, const char *ns, const char *key, const void *val, size_t len,
                      ctng_err *err)
{
	int rc = kv_args(ns, key, err);
	if (rc)
		return rc;
	if (len > (size_t)INT32_MAX || (len && !val))
		return ctng_err_set(err, CTNG_EINVAL, "store: bad kv value");
	sqlite3_stmt *st;
	if ((rc = prepare(s,
	                  "INSERT INTO kv (ns, key, value) VALUES (?1, ?2, ?3) "
	                  "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
	                  &st, err)))
		return rc;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	/* A zero-length blob must still be a blob, not NULL (column is NOT NULL). */
	if (len)
		sqlite3_bind_blob(st, 3, val, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 3, 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "kv put");
	sqlite3_finalize(st);
	return rc;
}

int ctng_store_kv_get(ctng_store *s, const char *ns, const char *key, uint8_t **val, size_t *len,
                      ctng_err *err)
{
	int rc = kv_args(ns, key, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2", &st, err)))
		return rc;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		uint8_t *r = malloc(n + 1);
		if (!r) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
		} else {
			if (n)
				memcpy(r, b, n);
			r[n] = 0;
			*val = r;
			*len = n;
		}
	} else if (step == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "store: no kv entry %s/%s", ns, key);
	} else {
		rc = db_fail(s, err, "kv get");
	}
	sqlite3_finalize(st);
	return rc;
}

int ctng_store_kv_del(ctng_store *s, const char *ns, const char *key, bool *existed, ctng_err *err)
{
	int rc = kv_args(ns, key, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(s, "DELETE FROM kv WHERE ns = ?1 AND key = ?2", &st, err)))
		return rc;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(s, err, "kv delete");
	else if (existed)
		*existed = sqlite3_changes(s->db) > 0;
	sqlite3_finalize(st);
	return rc;
}

int ctng_store_kv_put_u64(ctng_store *s, const char *ns, const char *key, uint64_t v, ctng_err *err)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	return ctng_store_kv_put(s, ns, key, b, sizeof b, err);
}

int ctng_store_kv_get_u64(ctng_store *s, const char *ns, const char *key, uint64_t *v,
                          ctng_err *err)
{
	uint8_t *b;
	size_t n;
	int rc = ctng_store_kv_get(s, ns, key, &b, &n, err);
	if (rc)
		return rc;
	if (n != 8) {
		free(b);
		return ctng_err_set(err, CTNG_EINVAL, "store: kv %s/%s is %zu bytes, not a u64", ns,
		                    key, n);
	}
	uint64_t r = 0;
	for (int i = 0; i < 8; i++)
		r = (r << 8) | b[i];
	free(b);
	*v = r;
	return 0;
}

/* --------------------------------------------------------------- metrics */

struct size_hook {
	ctng_metric *size;
	char db[64];
	char path[]; /* the main file; "-wal" is appended for the log */
};

static void collect_size(ctng_metrics *reg, void *arg)
{
	(void)reg;
	struct size_hook *h = arg;
	char wal[4096];
	struct stat sb;
	if (snprintf(wal, sizeof wal, "%s-wal", h->path) >= (int)sizeof wal)
		return;
	if (stat(h->path, &sb) == 0)
		ctng_gauge_set(h->size, CTNG_LABELS(h->db, "main"), (double)sb.st_size);
	ctng_gauge_set(h->size, CTNG_LABELS(h->db, "wal"),
	               stat(wal, &sb) == 0 ? (double)sb.st_size : 0);
}

int ctng_store_metrics(ctng_store *s, ctng_metrics *reg, ctng_err *err)
{
	if (!s || !reg)
		return ctng_err_set(err, CTNG_EINVAL, "store: metrics need a store and a registry");
	const char *path = sqlite3_db_filename(s->db, "main");
	if (!path)
		path = "";
	const char *base = strrchr(path, '/');
	snprintf(s->metrics_db, sizeof s->metrics_db, "%s", base ? base + 1 : path);
	ctng_metric *commits = ctng_metrics_counter(
	    reg, "ctng_db_commits_total", "SQLite transactions committed, by database and result.",
	    "db,result", err);
	ctng_metric *secs = ctng_metrics_histogram(
	    reg, "ctng_db_commit_duration_seconds",
	    "Time one COMMIT took (the fsyncs of WAL with synchronous=FULL), by database.", "db",
	    ctng_metrics_latency_buckets, ctng_metrics_latency_nbuckets, err);
	ctng_metric *size = ctng_metrics_gauge(
	    reg, "ctng_db_size_bytes", "Size of the database files (main and wal), in bytes.",
	    "db,file", err);
	if (!commits || !secs || !size)
		return err ? err->code : CTNG_EINVAL;
	if (*path) {
		size_t n = strlen(path);
		struct size_hook *h = malloc(sizeof *h + n + 1);
		if (!h)
			return ctng_err_set(err, CTNG_ENOMEM, "store: out of memory");
		h->size = size;
		snprintf(h->db, sizeof h->db, "%s", s->metrics_db);
		memcpy(h->path, path, n + 1);
		int rc = ctng_metrics_on_collect(reg, collect_size, h, free, err);
		if (rc) {
			free(h);
			return rc;
		}
	}
	s->m_commits = commits;
	s->m_commit_seconds = secs;
	return 0;
}
