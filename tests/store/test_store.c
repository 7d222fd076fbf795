/*
 * test_store.c — unit tests of src/store: durable open settings, core and
 * module migrations (idempotent across reopen, refusing newer schemas),
 * nested transactions, the gossip object table and the kv table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/store.h"

static char tmpdir[256];
static char dbpath[300];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ctng-store-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(dbpath, sizeof dbpath, "%s/node.db", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[400];
	const char *sfx[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

static ctng_store *open_ok(void)
{
	ctng_err err = {0};
	ctng_store *s = ctng_store_open(dbpath, &err);
	if (!s)
		fail_msg("open: %s", err.msg);
	return s;
}

static int64_t pragma_int(ctng_store *s, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(ctng_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_open_settings(void **state)
{
	(void)state;
	ctng_store *s = open_ok();
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(ctng_store_db(s), "PRAGMA journal_mode", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(pragma_int(s, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(pragma_int(s, "PRAGMA foreign_keys"), 1);
	assert_true(ctng_store_schema_version(s) >= 1);
	assert_int_equal(pragma_int(s, "PRAGMA user_version"), ctng_store_schema_version(s));
	assert_int_equal(ctng_store_integrity_check(s, NULL), 0);
	ctng_store_close(s);
}

static void test_open_errors(void **state)
{
	(void)state;
	ctng_err err = {0};
	assert_null(ctng_store_open("", &err));
	assert_int_equal(err.code, CTNG_EINVAL);
	char p[400];
	snprintf(p, sizeof p, "%s/no/such/dir/x.db", tmpdir);
	assert_null(ctng_store_open(p, &err));
	assert_int_equal(err.code, CTNG_EIO);

	/* A database written by a newer program is refused. */
	ctng_store *s = open_ok();
	assert_int_equal(ctng_store_exec(s, "PRAGMA user_version = 999", NULL), 0);
	ctng_store_close(s);
	assert_null(ctng_store_open(dbpath, &err));
	assert_int_equal(err.code, CTNG_ESTATE);
	assert_non_null(strstr(err.msg, "newer"));

	/* A file that is not a database is refused. */
	teardown(NULL);
	setup(NULL);
	FILE *f = fopen(dbpath, "wb");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite database ", f);
	fclose(f);
	assert_null(ctng_store_open(dbpath, &err));
	assert_int_equal(err.code, CTNG_EIO);
}

static const char *const mod_v2[] = {
    "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    "ALTER TABLE widgets ADD COLUMN colour TEXT;"
    "INSERT INTO widgets (name, colour) VALUES ('first', 'red');",
};

static void test_migrations_idempotent(void **state)
{
	(void)state;
	ctng_err err = {0};
	int v = -1;
	ctng_store *s = open_ok();
	int core = ctng_store_schema_version(s);
	assert_int_equal(ctng_store_module_version(s, "widget", &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ctng_store_migrate(s, "widget", mod_v2, 1, &err), 0);
	assert_int_equal(ctng_store_module_version(s, "widget", &v, &err), 0);
	assert_int_equal(v, 1);
	/* Again with the same steps: nothing happens. */
	assert_int_equal(ctng_store_migrate(s, "widget", mod_v2, 1, &err), 0);
	ctng_store_close(s);

	/* Reopen, apply both steps: only step 2 runs (one row inserted). */
	s = open_ok();
	assert_int_equal(ctng_store_schema_version(s), core);
	assert_int_equal(ctng_store_migrate(s, "widget", mod_v2, 2, &err), 0);
	assert_int_equal(ctng_store_migrate(s, "widget", mod_v2, 2, &err), 0);
	ctng_store_close(s);
	s = open_ok();
	assert_int_equal(ctng_store_migrate(s, "widget", mod_v2, 2, &err), 0);
	assert_int_equal(pragma_int(s, "SELECT count(*) FROM widgets"), 1);
	assert_int_equal(ctng_store_module_version(s, "widget", &v, &err), 0);
	assert_int_equal(v, 2);

	/* Program knows fewer steps than the database has: refused. */
	assert_int_equal(ctng_store_migrate(s, "widget", mod_v2, 1, &err), CTNG_ESTATE);

	/* A failing step is rolled back entirely and the version is unchanged. */
	const char *const bad[] = {"CREATE TABLE t1 (x);", "CREATE TABLE t2 (y); NOT SQL;"};
	assert_int_equal(ctng_store_migrate(s, "bad", bad, 2, &err), CTNG_EIO);
	assert_non_null(strstr(err.msg, "bad step 2"));
	assert_int_equal(ctng_store_module_version(s, "bad", &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pragma_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 't2'"), 0);
	assert_int_equal(ctng_store_tx_depth(s), 0);

	/* Not allowed inside a transaction. */
	assert_int_equal(ctng_store_begin(s, &err), 0);
	assert_int_equal(ctng_store_migrate(s, "other", mod_v2, 1, &err), CTNG_ESTATE);
	assert_int_equal(ctng_store_rollback(s, &err), 0);
	assert_int_equal(ctng_store_migrate(s, "", mod_v2, 1, &err), CTNG_EINVAL);
	ctng_store_close(s);
}

static void put_kv(ctng_store *s, const char *key, const char *val)
{
	ctng_err err = {0};
	assert_int_equal(ctng_store_kv_put(s, "t", key, val, strlen(val), &err), 0);
}

static int has_kv(ctng_store *s, const char *key)
{
	uint8_t *v;
	size_t n;
	int rc = ctng_store_kv_get(s, "t", key, &v, &n, NULL);
	if (rc == 0)
		free(v);
	return rc == 0;
}

static void test_transactions(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_store *s = open_ok();
	assert_int_equal(ctng_store_commit(s, &err), CTNG_ESTATE);
	assert_int_equal(ctng_store_rollback(s, &err), CTNG_ESTATE);

	assert_int_equal(ctng_store_begin(s, &err), 0);
	put_kv(s, "a", "1");
	assert_int_equal(ctng_store_begin(s, &err), 0);
	assert_int_equal(ctng_store_tx_depth(s), 2);
	put_kv(s, "b", "2");
	assert_int_equal(ctng_store_rollback(s, &err), 0); /* undo b only */
	assert_int_equal(ctng_store_begin(s, &err), 0);
	put_kv(s, "c", "3");
	assert_int_equal(ctng_store_commit(s, &err), 0); /* release c into outer */
	assert_int_equal(ctng_store_tx_depth(s), 1);
	assert_int_equal(ctng_store_commit(s, &err), 0);
	assert_int_equal(ctng_store_tx_depth(s), 0);

	assert_int_equal(ctng_store_begin(s, &err), 0);
	put_kv(s, "d", "4");
	assert_int_equal(ctng_store_rollback(s, &err), 0);
	ctng_store_close(s);

	s = open_ok();
	assert_true(has_kv(s, "a"));
	assert_false(has_kv(s, "b"));
	assert_true(has_kv(s, "c"));
	assert_false(has_kv(s, "d"));

	/* Closing with an open transaction rolls it back. */
	assert_int_equal(ctng_store_begin(s, &err), 0);
	put_kv(s, "e", "5");
	ctng_store_close(s);
	s = open_ok();
	assert_false(has_kv(s, "e"));
	ctng_store_close(s);
}

static ctng_store_obj mkobj(const char *family, const char *entity, uint64_t period,
                            const char *uri, const char *signer, const char *json, uint8_t tag)
{
	ctng_store_obj o = {.family = family,
	                    .entity = entity,
	                    .period = period,
	                    .type_uri = uri,
	                    .signer = signer,
	                    .json = json,
	                    .json_len = strlen(json)};
	memset(o.hash, tag, 32);
	o.hash[0] = (uint8_t)period;
	return o;
}

#define STH      "http://ctng.uconn.edu/101"
#define STH_FRAG "http://ctng.uconn.edu/201"
#define REV      "http://ctng.uconn.edu/102"

static void test_objects(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_store *s = open_ok();
	bool ins = false;
	ctng_store_obj a = mkobj("STH", "logger1", 7, STH, "logger1", "{\"a\":1}", 1);
	ctng_store_obj f1 = mkobj("STH", "logger1", 7, STH_FRAG, "monitor1", "{\"f\":1}", 2);
	ctng_store_obj f2 = mkobj("STH", "logger1", 7, STH_FRAG, "monitor2", "{\"f\":2}", 3);
	ctng_store_obj r = mkobj("REV", "ca1", 7, REV, "ca1", "{\"r\":1}", 4);
	ctng_store_obj old = mkobj("STH", "logger1", 6, STH, "logger1", "{\"old\":1}", 5);
	assert_int_equal(ctng_store_obj_put(s, &a, &ins, &err), 0);
	assert_true(ins);
	assert_int_equal(ctng_store_obj_put(s, &a, &ins, &err), 0); /* duplicate hash */
	assert_false(ins);
	assert_int_equal(ctng_store_obj_put(s, &f1, &ins, &err), 0);
	assert_int_equal(ctng_store_obj_put(s, &f2, &ins, &err), 0);
	assert_int_equal(ctng_store_obj_put(s, &r, &ins, &err), 0);
	assert_int_equal(ctng_store_obj_put(s, &old, &ins, &err), 0);
	ctng_store_close(s);

	s = open_ok();
	ctng_store_obj got;
	assert_int_equal(ctng_store_obj_get(s, f1.hash, &got, &err), 0);
	assert_string_equal(got.family, "STH");
	assert_string_equal(got.entity, "logger1");
	assert_string_equal(got.type_uri, STH_FRAG);
	assert_string_equal(got.signer, "monitor1");
	assert_int_equal(got.period, 7);
	assert_int_equal(got.json_len, strlen("{\"f\":1}"));
	assert_string_equal(got.json, "{\"f\":1}");
	assert_memory_equal(got.hash, f1.hash, 32);
	assert_true(got.seq > 0);
	assert_true(got.stored_ms > 0);
	ctng_store_obj_clear(&got);
	assert_null(got.json);

	uint8_t nohash[32] = {0xee};
	assert_int_equal(ctng_store_obj_get(s, nohash, &got, &err), CTNG_ENOTFOUND);

	ctng_store_objs l;
	assert_int_equal(ctng_store_obj_find_id(s, "STH", "logger1", 7, &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].json, "{\"a\":1}"); /* arrival order */
	assert_string_equal(l.v[1].signer, "monitor1");
	assert_string_equal(l.v[2].signer, "monitor2");
	assert_true(l.v[0].seq < l.v[1].seq && l.v[1].seq < l.v[2].seq);
	ctng_store_objs_free(&l);

	ctng_store_query q = {.type_uri = STH_FRAG, .has_period = true, .period = 7};
	assert_int_equal(ctng_store_obj_find(s, &q, &l, &err), 0);
	assert_int_equal(l.n, 2);
	ctng_store_objs_free(&l);
	q.limit = 1;
	assert_int_equal(ctng_store_obj_find(s, &q, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].signer, "monitor1");
	ctng_store_objs_free(&l);

	ctng_store_query qp = {.has_period = true, .period = 7};
	uint64_t n = 0;
	assert_int_equal(ctng_store_obj_count(s, &qp, &n, &err), 0);
	assert_int_equal(n, 4);
	ctng_store_query qs = {.signer = "monitor2"};
	assert_int_equal(ctng_store_obj_count(s, &qs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ctng_store_obj_count(s, NULL, &n, &err), 0);
	assert_int_equal(n, 5);
	ctng_store_query none = {.entity = "nobody"};
	assert_int_equal(ctng_store_obj_find(s, &none, &l, &err), 0);
	assert_int_equal(l.n, 0);
	ctng_store_objs_free(&l);

	char **types;
	uint64_t *counts;
	size_t nt;
	assert_int_equal(ctng_store_obj_count_by_type(s, 7, &types, &counts, &nt, &err), 0);
	assert_int_equal(nt, 3);
	assert_string_equal(types[0], STH);
	assert_int_equal(counts[0], 1);
	assert_string_equal(types[1], REV);
	assert_int_equal(counts[1], 1);
	assert_string_equal(types[2], STH_FRAG);
	assert_int_equal(counts[2], 2);
	ctng_store_type_counts_free(types, counts, nt);
	assert_int_equal(ctng_store_obj_count_by_type(s, 99, &types, &counts, &nt, &err), 0);
	assert_int_equal(nt, 0);
	ctng_store_type_counts_free(types, counts, nt);

	uint64_t del = 0;
	ctng_store_query q6 = {.has_period = true, .period = 6};
	assert_int_equal(ctng_store_obj_delete(s, &q6, &del, &err), 0);
	assert_int_equal(del, 1);
	assert_int_equal(ctng_store_obj_count(s, NULL, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(ctng_store_obj_get(s, old.hash, &got, &err), CTNG_ENOTFOUND);

	/* Invalid input. */
	ctng_store_obj bad = a;
	bad.family = NULL;
	assert_int_equal(ctng_store_obj_put(s, &bad, &ins, &err), CTNG_EINVAL);
	bad = a;
	bad.json_len = 0;
	assert_int_equal(ctng_store_obj_put(s, &bad, &ins, &err), CTNG_EINVAL);
	bad = a;
	bad.period = (uint64_t)INT64_MAX + 1;
	assert_int_equal(ctng_store_obj_put(s, &bad, &ins, &err), CTNG_ERANGE);
	ctng_store_query qbig = {.has_period = true, .period = UINT64_MAX};
	assert_int_equal(ctng_store_obj_count(s, &qbig, &n, &err), CTNG_ERANGE);
	bad.period = (uint64_t)INT64_MAX;
	bad.hash[5] = 0x77;
	assert_int_equal(ctng_store_obj_put(s, &bad, &ins, &err), 0);
	assert_int_equal(ctng_store_obj_get(s, bad.hash, &got, &err), 0);
	assert_int_equal(got.period, (uint64_t)INT64_MAX);
	ctng_store_obj_clear(&got);
	ctng_store_close(s);
}

static void test_kv(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_store *s = open_ok();
	const uint8_t bin[5] = {0, 1, 0, 0xff, 0};
	assert_int_equal(ctng_store_kv_put(s, "node", "blob", bin, sizeof bin, &err), 0);
	assert_int_equal(ctng_store_kv_put(s, "node", "empty", NULL, 0, &err), 0);
	assert_int_equal(ctng_store_kv_put_u64(s, "node", "period", UINT64_MAX - 3, &err), 0);
	assert_int_equal(ctng_store_kv_put_u64(s, "other", "period", 5, &err), 0);
	ctng_store_close(s);

	s = open_ok();
	uint8_t *v;
	size_t n;
	assert_int_equal(ctng_store_kv_get(s, "node", "blob", &v, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(v, bin, 5);
	free(v);
	assert_int_equal(ctng_store_kv_get(s, "node", "empty", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
	uint64_t u;
	assert_int_equal(ctng_store_kv_get_u64(s, "node", "period", &u, &err), 0);
	assert_true(u == UINT64_MAX - 3);
	assert_int_equal(ctng_store_kv_get_u64(s, "other", "period", &u, &err), 0);
	assert_int_equal(u, 5);
	assert_int_equal(ctng_store_kv_get_u64(s, "node", "blob", &u, &err), CTNG_EINVAL);
	assert_int_equal(ctng_store_kv_get(s, "node", "missing", &v, &n, &err), CTNG_ENOTFOUND);
	/* Overwrite. */
	assert_int_equal(ctng_store_kv_put_u64(s, "node", "period", 9, &err), 0);
	assert_int_equal(ctng_store_kv_get_u64(s, "node", "period", &u, &err), 0);
	assert_int_equal(u, 9);
	bool existed = false;
	assert_int_equal(ctng_store_kv_del(s, "node", "period", &existed, &err), 0);
	assert_true(existed);
	assert_int_equal(ctng_store_kv_del(s, "node", "period", &existed, &err), 0);
	assert_false(existed);
	assert_int_equal(ctng_store_kv_get_u64(s, "node", "period", &u, &err), CTNG_ENOTFOUND);
	assert_int_equal(ctng_store_kv_put(s, "", "k", "x", 1, &err), CTNG_EINVAL);
	assert_int_equal(ctng_store_kv_put(s, "n", NULL, "x", 1, &err), CTNG_EINVAL);
	ctng_store_close(s);
}

static void test_memory_db(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_store *s = ctng_store_open(":memory:", &err);
	assert_non_null(s);
	assert_int_equal(ctng_store_kv_put_u64(s, "a", "b", 1, &err), 0);
	assert_int_equal(ctng_store_integrity_check(s, &err), 0);
	ctng_store_close(s);
	ctng_store_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_settings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
	    cmocka_unit_test(test_memory_db),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
