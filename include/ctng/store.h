/*
 * ctng/store.h — the node's SQLite database (WAL): opening with durable
 * settings, schema migrations (core and per module), nested transactions, a
 * typed table of gossip objects and a small key-value table for node state.
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so every
 * transaction that ctng_store_commit reported as committed survives the
 * process being killed at any moment (and a power loss, within what the disk
 * honours). tests/store/test_store_kill.c checks this with SIGKILL.
 *
 * Thread model: a ctng_store handle is used by ONE thread at a time (the
 * daemon's loop thread). Different threads or processes may open their own
 * handles on the same file; SQLite serialises writers (busy_timeout 5 s).
 *
 * Ownership: strings and byte buffers passed in are borrowed and copied.
 * Results are owned by the caller and released with the matching
 * ctng_store_*_free / clear function, as written on each function.
 *
 * This module depends only on base and SQLite; gossip objects are passed as
 * plain fields so it does not depend on proto.
 */
#ifndef CTNG_STORE_H
#define CTNG_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

typedef struct ctng_store ctng_store;

/* ------------------------------------------------------------ lifecycle */

/* Opens (creating if needed) the database at path, sets journal_mode=WAL,
 * synchronous=FULL, foreign_keys=ON, busy_timeout=5000 and applies the core
 * migrations (gossip objects, kv, migrations table). ":memory:" gives a
 * private in-memory database (no WAL; for tests). Returns NULL and fills err
 * on failure (CTNG_EIO, or CTNG_ESTATE if the file's schema is newer than
 * this program knows). Close with ctng_store_close. */
ctng_store *ctng_store_open(const char *path, ctng_err *err);

/* Closes the handle (rolls back an open transaction). NULL is a no-op. */
void ctng_store_close(ctng_store *s);

/* The underlying connection (borrowed; valid until close), for modules that
 * keep their own tables. Do not close it, and do not run BEGIN/COMMIT on it
 * directly: use ctng_store_begin/commit/rollback. */
sqlite3 *ctng_store_db(ctng_store *s);

/* Counts every outermost COMMIT into reg (ctng_db_commits_total{db,result},
 * ctng_db_commit_duration_seconds{db}) and reports the size of the database
 * files (ctng_db_size_bytes{db,file="main"|"wal"}) at each render; db is the
 * file's base name. reg is borrowed and must outlive the store; the size
 * hook keeps its own copy of the path. docs/metrics.md. */
typedef struct ctng_metrics ctng_metrics;
int ctng_store_metrics(ctng_store *s, ctng_metrics *reg, ctng_err *err);

/* Core schema version (PRAGMA user_version) after open. */
int ctng_store_schema_version(ctng_store *s);

/* Applies a module's migrations. steps[i] is the SQL (one or more
 * statements) taking the module's schema from version i to i+1. The version
 * reached is kept in table migrations(module, version); steps already applied
 * are skipped, so calling it at every start is correct (idempotent). Each step
 * runs in its own transaction together with the version bump. A database
 * whose recorded version exceeds n is CTNG_ESTATE (newer program wrote it).
 * Must not be called inside an open transaction (CTNG_ESTATE). */
int ctng_store_migrate(ctng_store *s, const char *module, const char *const *steps, size_t n,
                       ctng_err *err);

/* Version recorded for module (0 if it never migrated). */
int ctng_store_module_version(ctng_store *s, const char *module, int *version, ctng_err *err);

/* Runs one or more SQL statements with no results (convenience). */
int ctng_store_exec(ctng_store *s, const char *sql, ctng_err *err);

/* PRAGMA integrity_check: 0 if "ok", CTNG_EIO with the first problem otherwise. */
int ctng_store_integrity_check(ctng_store *s, ctng_err *err);

/* --------------------------------------------------------- transactions */

/* Transactions nest: the outermost begin is BEGIN IMMEDIATE, inner ones are
 * savepoints. commit of the outermost level makes everything durable; an
 * inner commit only releases its savepoint. rollback undoes the innermost
 * level. commit/rollback with no open transaction is CTNG_ESTATE. */
int ctng_store_begin(ctng_store *s, ctng_err *err);
int ctng_store_commit(ctng_store *s, ctng_err *err);
int ctng_store_rollback(ctng_store *s, ctng_err *err);
/* Current nesting depth (0 = no transaction). */
int ctng_store_tx_depth(const ctng_store *s);

/* --------------------------------------------------------- gossip objects */

/* One stored gossip object. The object id of DESIGN §3 is (family, entity,
 * period); several objects may share an id (FRAGs from different signers,
 * conflicting objects), so a stored object is identified by its content
 * hash. Periods must be < 2^63 (SQLite integers are signed).
 *
 * As input (ctng_store_obj_put) every pointer is borrowed; seq and stored_ms
 * are ignored. As output every string is owned by the struct and released
 * with ctng_store_obj_clear. */
typedef struct ctng_store_obj {
	const char *family;   /* type family, e.g. "STH", "REV", "ACC", "CON"      */
	const char *entity;   /* id of the entity the object is about             */
	uint64_t period;      /* period number                                     */
	const char *type_uri; /* full type URI, "http://ctng.uconn.edu/201"        */
	const char *signer;   /* signer id ("" for FULL objects)                   */
	const char *json;     /* canonical JSON text (NUL-terminated on output)    */
	size_t json_len;      /* bytes of json                                     */
	uint8_t hash[32];     /* content hash (unique key)                         */
	int64_t seq;          /* output: arrival order (increasing)                */
	uint64_t stored_ms;   /* output: wall clock when first stored              */
} ctng_store_obj;

/* A list of objects; free with ctng_store_objs_free. */
typedef struct ctng_store_objs {
	ctng_store_obj *v;
	size_t n;
} ctng_store_objs;

/* Filter for find/count/delete: NULL string fields and has_period=false mean
 * "any". limit 0 = no limit (find only). Results are in arrival order. */
typedef struct ctng_store_query {
	const char *family;
	const char *entity;
	const char *type_uri;
	const char *signer;
	bool has_period;
	uint64_t period;
	size_t limit;
} ctng_store_query;

/* Stores the object unless one with the same hash is already stored.
 * *inserted (if non-NULL) says which happened. All strings required (signer
 * may be ""); json must be non-empty; period < 2^63 else CTNG_ERANGE. */
int ctng_store_obj_put(ctng_store *s, const ctng_store_obj *o, bool *inserted, ctng_err *err);

/* Looks an object up by content hash: 0 and *out filled (caller clears it),
 * or CTNG_ENOTFOUND. */
int ctng_store_obj_get(ctng_store *s, const uint8_t hash[32], ctng_store_obj *out, ctng_err *err);

/* All objects matching q (out->n may be 0). Caller frees with ctng_store_objs_free. */
int ctng_store_obj_find(ctng_store *s, const ctng_store_query *q, ctng_store_objs *out,
                        ctng_err *err);

/* By id: objects with this (family, entity, period). */
int ctng_store_obj_find_id(ctng_store *s, const char *family, const char *entity, uint64_t period,
                           ctng_store_objs *out, ctng_err *err);

/* Number of objects matching q (limit ignored). */
int ctng_store_obj_count(ctng_store *s, const ctng_store_query *q, uint64_t *n, ctng_err *err);

/* Per-type counts of one period: fills *types (array of type URIs, each
 * malloc'd) and *counts, *n entries sorted by type URI. Free with
 * ctng_store_type_counts_free. */
int ctng_store_obj_count_by_type(ctng_store *s, uint64_t period, char ***types, uint64_t **counts,
                                 size_t *n, ctng_err *err);
void ctng_store_type_counts_free(char **types, uint64_t *counts, size_t n);

/* Deletes every object matching q (limit ignored; an all-NULL query deletes
 * everything). *deleted (if non-NULL) gets the number removed. */
int ctng_store_obj_delete(ctng_store *s, const ctng_store_query *q, uint64_t *deleted,
                          ctng_err *err);

/* Releases the strings of an output object and zeroes it. */
void ctng_store_obj_clear(ctng_store_obj *o);
/* Releases a list and zeroes it. */
void ctng_store_objs_free(ctng_store_objs *l);

/* -------------------------------------------------------- key-value state */

/* kv(ns, key) → value BLOB. ns and key are non-empty strings. */
int ctng_store_kv_put(ctng_store *s, const char *ns, const char *key, const void *val, size_t len,
                      ctng_err *err);
/* 0 and *val (malloc'd, NUL-terminated past *len, caller frees) or
 * CTNG_ENOTFOUND. */
int ctng_store_kv_get(ctng_store *s, const char *ns, const char *key, uint8_t **val, size_t *len,
                      ctng_err *err);
/* Deleting a missing key is not an error; *existed says whether it was there. */
int ctng_store_kv_del(ctng_store *s, const char *ns, const char *key, bool *existed, ctng_err *err);
/* uint64 stored as 8 big-endian bytes; get fails with CTNG_EINVAL if the
 * stored value is not 8 bytes, CTNG_ENOTFOUND if absent. */
int ctng_store_kv_put_u64(ctng_store *s, const char *ns, const char *key, uint64_t v,
                          ctng_err *err);
int ctng_store_kv_get_u64(ctng_store *s, const char *ns, const char *key, uint64_t *v,
                          ctng_err *err);

#endif
