/*
 * test_merkle_tiles.c — the SQLite tiled tree: persistence across close and
 * reopen of the database file, tile bytes equal to the tree's hashes (full
 * and partial tiles at levels 0 and 1), transactions owned by the caller
 * (commit, rollback + reload), corruption detection, and the C2SP tile path
 * encoder and its strict parser.
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
#include <sqlite3.h>

#include "ctng/merkle.h"

typedef uint8_t hash[32];

static hash *make_leaves(uint64_t n, uint64_t salt)
{
	hash *d = malloc((size_t)n * 32);
	assert_non_null(d);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v[2] = {i, salt};
		assert_int_equal(ctng_merkle_leaf_hash(d[i], v, sizeof(v)), 0);
	}
	return d;
}

static char db_path[256];

static int setup(void **state)
{
	(void)state;
	snprintf(db_path, sizeof(db_path), "/tmp/ctng_test_merkle_tiles_%d.db", (int)getpid());
	unlink(db_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[300];
	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", db_path);
	unlink(p);
	return 0;
}

static sqlite3 *open_db(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void test_persistence(void **state)
{
	(void)state;
	const uint64_t total = 70000;
	hash *d = make_leaves(total, 1);
	ctng_merkle_mem *m;
	assert_int_equal(ctng_merkle_mem_new(&m), 0);
	assert_int_equal(ctng_merkle_mem_append(m, (const hash *)d, total, NULL), 0);
	/* Append in chunks, closing and reopening the database between chunks at
	 * sizes inside and at the edge of tiles of levels 0 and 1. */
	static const uint64_t stops[] = {1, 255, 256, 300, 65535, 65536, 65537, 70000};
	uint64_t done = 0;
	ctng_err err = {0};
	for (size_t s = 0; s < sizeof(stops) / sizeof(stops[0]); s++) {
		sqlite3 *db = open_db();
		ctng_merkle_tiles *t;
		if (ctng_merkle_tiles_open(db, &t, &err))
			fail_msg("open: %s", err.msg);
		assert_int_equal(ctng_merkle_tiles_size(t), done);
		if (done) {
			uint8_t a[32], b[32];
			assert_int_equal(ctng_merkle_tiles_root(t, done, a, NULL), 0);
			assert_int_equal(ctng_merkle_mem_root(m, done, b, NULL), 0);
			assert_memory_equal(a, b, 32);
		}
		while (done < stops[s]) {
			uint64_t k = stops[s] - done > 4000 ? 4000 : stops[s] - done;
			assert_int_equal(
			    ctng_merkle_tiles_append(t, (const hash *)d + done, k, &err), 0);
			done += k;
		}
		ctng_merkle_tiles_close(t);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}
	/* Final reopen: every query agrees with the in-memory tree. */
	sqlite3 *db = open_db();
	ctng_merkle_tiles *t;
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_size(t), total);
	hash p1[CTNG_MERKLE_MAX_PROOF], p2[CTNG_MERKLE_MAX_PROOF];
	size_t l1, l2;
	for (uint64_t q = 0; q < 60; q++) {
		uint64_t n = 1 + (q * 7919 * 131) % total;
		uint64_t i = (q * 104729) % n;
		uint8_t a[32], b[32];
		assert_int_equal(ctng_merkle_tiles_root(t, n, a, NULL), 0);
		assert_int_equal(ctng_merkle_mem_root(m, n, b, NULL), 0);
		assert_memory_equal(a, b, 32);
		assert_int_equal(ctng_merkle_tiles_inclusion(t, i, n, p1, &l1, NULL), 0);
		assert_int_equal(ctng_merkle_mem_inclusion(m, i, n, p2, &l2, NULL), 0);
		assert_int_equal(l1, l2);
		assert_memory_equal(p1, p2, l1 * 32);
		assert_int_equal(ctng_merkle_tiles_consistency(t, i, n, p1, &l1, NULL), 0);
		assert_int_equal(ctng_merkle_mem_consistency(m, i, n, p2, &l2, NULL), 0);
		assert_int_equal(l1, l2);
		assert_memory_equal(p1, p2, l1 * 32);
	}
	ctng_merkle_tiles_close(t);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	ctng_merkle_mem_free(m);
	free(d);
}

static void test_tile_bytes(void **state)
{
	(void)state;
	const uint64_t total = 256 * 256 + 256 * 3 + 17; /* level 1 has a partial tile too */
	hash *d = make_leaves(total, 2);
	sqlite3 *db = open_db();
	ctng_merkle_tiles *t;
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d, total, NULL), 0);
	static uint8_t tile[256 * 32];
	/* Level 0: the leaf hashes themselves. */
	for (uint64_t n = 0; n <= total / 256; n++) {
		unsigned w = ctng_merkle_tile_width(0, n, total);
		assert_int_equal(w, n < total / 256 ? 256 : 17);
		assert_int_equal(ctng_merkle_tiles_read_tile(t, 0, n, w, tile, NULL), 0);
		assert_memory_equal(tile, d[n * 256], (size_t)w * 32);
		/* Any narrower width is the prefix; one wider is not there. */
		assert_int_equal(ctng_merkle_tiles_read_tile(t, 0, n, 1, tile, NULL), 0);
		assert_memory_equal(tile, d[n * 256], 32);
		if (w < 256)
			assert_int_equal(ctng_merkle_tiles_read_tile(t, 0, n, w + 1, tile, NULL),
			                 CTNG_ENOTFOUND);
	}
	/* Level 1: roots of the 256-leaf subtrees (257 complete: one full tile, one of width 3). */
	assert_int_equal(ctng_merkle_tile_width(1, 0, total), 256);
	assert_int_equal(ctng_merkle_tile_width(1, 1, total), 3);
	assert_int_equal(ctng_merkle_tile_width(1, 2, total), 0);
	assert_int_equal(ctng_merkle_tile_width(2, 0, total), 1);
	assert_int_equal(ctng_merkle_tile_width(3, 0, total), 0);
	for (uint64_t n = 0; n < 2; n++) {
		unsigned w = n ? 3 : 256;
		assert_int_equal(ctng_merkle_tiles_read_tile(t, 1, n, w, tile, NULL), 0);
		for (unsigned j = 0; j < w; j++) {
			uint8_t want[32];
			uint64_t first = (n * 256 + j) * 256;
			assert_int_equal(
			    ctng_merkle_root((const hash *)d + first, 256, 256, want, NULL), 0);
			assert_memory_equal(tile + j * 32, want, 32);
		}
	}
	/* Level 2: one hash, the root of the first 65536 leaves. */
	uint8_t want[32];
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 2, 0, 1, tile, NULL), 0);
	assert_int_equal(ctng_merkle_root((const hash *)d, total, 65536, want, NULL), 0);
	assert_memory_equal(tile, want, 32);
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 2, 0, 2, tile, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 3, 0, 1, tile, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 9, 0, 1, tile, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 0, 0, 0, tile, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 0, 0, 257, tile, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tiles_read_tile(t, 0, UINT64_MAX, 1, tile, NULL),
	                 CTNG_ENOTFOUND);
	/* The stored rows are exactly the tiles: full level-0 tiles hold 510 hashes. */
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT length(data) FROM merkle_tile WHERE id = 5",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 510 * 32);
	sqlite3_finalize(s);
	ctng_merkle_tiles_close(t);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	free(d);
}

static void test_transactions(void **state)
{
	(void)state;
	hash *d = make_leaves(1000, 3);
	sqlite3 *db = open_db();
	ctng_merkle_tiles *t;
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d, 300, NULL), 0);
	uint8_t r300[32], r[32];
	assert_int_equal(ctng_merkle_tiles_root(t, 300, r300, NULL), 0);
	/* Inside a caller transaction that is rolled back: reload restores 300. */
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d + 300, 400, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_size(t), 700);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ctng_merkle_tiles_reload(t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_size(t), 300);
	assert_int_equal(ctng_merkle_tiles_root(t, 300, r, NULL), 0);
	assert_memory_equal(r, r300, 32);
	/* Inside a caller transaction that commits, together with the caller's row. */
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE other (x); BEGIN", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d + 300, 700, NULL), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO other VALUES (1); COMMIT", NULL, NULL, NULL),
	                 SQLITE_OK);
	ctng_merkle_tiles_close(t);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = open_db();
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_size(t), 1000);
	uint8_t want[32];
	assert_int_equal(ctng_merkle_root((const hash *)d, 1000, 1000, want, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_root(t, 1000, r, NULL), 0);
	assert_memory_equal(r, want, 32);
	ctng_merkle_tiles_close(t);
	/* A corrupted edge tile is detected on open. */
	assert_int_equal(
	    sqlite3_exec(db, "UPDATE merkle_tile SET data = x'00' WHERE id = 3", NULL, NULL, NULL),
	    SQLITE_OK);
	ctng_err err = {0};
	assert_int_equal(ctng_merkle_tiles_open(db, &t, &err), CTNG_EIO);
	assert_non_null(strstr(err.msg, "tile"));
	assert_null(t);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	free(d);
}

/* A write that fails half-way through an append (a trigger aborts the write of
 * tile 5) leaves the stored tree at its old size, in its own transaction and
 * inside a caller's; the object reloads itself and later appends succeed. */
static void test_failed_append(void **state)
{
	(void)state;
	hash *d = make_leaves(3000, 4);
	sqlite3 *db = open_db();
	ctng_merkle_tiles *t;
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d, 1000, NULL), 0);
	uint8_t r1000[32], r[32];
	assert_int_equal(ctng_merkle_tiles_root(t, 1000, r1000, NULL), 0);
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TRIGGER merkle_fail BEFORE INSERT ON merkle_tile "
	                              "WHEN NEW.id = 5 BEGIN SELECT RAISE(ABORT, 'boom'); END;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	ctng_err err = {0};
	/* Own transaction. */
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d + 1000, 2000, &err), CTNG_EIO);
	assert_non_null(strstr(err.msg, "boom"));
	assert_int_equal(ctng_merkle_tiles_size(t), 1000);
	assert_int_equal(ctng_merkle_tiles_root(t, 1000, r, NULL), 0);
	assert_memory_equal(r, r1000, 32);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	/* Caller's transaction: only the append is undone, the caller's row stays. */
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TABLE other (x); BEGIN; INSERT INTO other VALUES (7)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d + 1000, 2000, NULL), CTNG_EIO);
	assert_int_equal(sqlite3_get_autocommit(db), 0);
	assert_int_equal(ctng_merkle_tiles_size(t), 1000);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM other", -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	/* Without the trigger the same append works and gives the right root. */
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER merkle_fail", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d + 1000, 2000, NULL), 0);
	uint8_t want[32];
	assert_int_equal(ctng_merkle_root((const hash *)d, 3000, 3000, want, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_root(t, 3000, r, NULL), 0);
	assert_memory_equal(r, want, 32);
	ctng_merkle_tiles_close(t);
	/* And so does a fresh open of the file. */
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_root(t, 3000, r, NULL), 0);
	assert_memory_equal(r, want, 32);
	ctng_merkle_tiles_close(t);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	free(d);
}

static int stmt_count;

static int count_stmt(unsigned type, void *ctx, void *p, void *x)
{
	(void)ctx;
	(void)p;
	(void)x;
	if (type == SQLITE_TRACE_STMT)
		stmt_count++;
	return 0;
}

/* Proofs and roots of any size cost O(log n) tile reads: with a cold cache,
 * each query runs at most one SELECT per tile level (3 here), whatever the
 * index or sizes, and never reads leaves beyond those tiles. */
static void test_reads_per_query(void **state)
{
	(void)state;
	const uint64_t total = 70000;
	hash *d = make_leaves(total, 5);
	sqlite3 *db = open_db();
	ctng_merkle_tiles *t;
	assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
	assert_int_equal(ctng_merkle_tiles_append(t, (const hash *)d, total, NULL), 0);
	ctng_merkle_tiles_close(t);
	assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_stmt, NULL), SQLITE_OK);
	hash p[CTNG_MERKLE_MAX_PROOF];
	size_t len;
	uint8_t r[32];
	int worst = 0;
	for (uint64_t q = 0; q < 200; q++) {
		/* Reopen now and then so that reads start from a cold cache. */
		if (q % 20 == 0) {
			assert_int_equal(ctng_merkle_tiles_open(db, &t, NULL), 0);
		}
		uint64_t n = 1 + (q * 2654435761u) % total, i = (q * 40503u) % n;
		stmt_count = 0;
		assert_int_equal(ctng_merkle_tiles_inclusion(t, i, n, p, &len, NULL), 0);
		worst = stmt_count > worst ? stmt_count : worst;
		stmt_count = 0;
		assert_int_equal(ctng_merkle_tiles_consistency(t, i, n, p, &len, NULL), 0);
		worst = stmt_count > worst ? stmt_count : worst;
		stmt_count = 0;
		assert_int_equal(ctng_merkle_tiles_root(t, n, r, NULL), 0);
		worst = stmt_count > worst ? stmt_count : worst;
		if (q % 20 == 19)
			ctng_merkle_tiles_close(t);
	}
	assert_true(worst >= 1); /* the counter works: cold reads do happen */
	if (worst > 3)
		fail_msg("a query ran %d SELECTs", worst);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	free(d);
}

static void test_tile_paths(void **state)
{
	(void)state;
	static const struct {
		uint64_t n;
		unsigned w;
		const char *s;
	} ok[] = {
	    {0, 256, "000"},
	    {5, 256, "005"},
	    {999, 256, "999"},
	    {1000, 256, "x001/000"},
	    {1234067, 256, "x001/x234/067"},
	    {1234067, 5, "x001/x234/067.p/5"},
	    {7, 255, "007.p/255"},
	    {UINT64_MAX, 1, "x018/x446/x744/x073/x709/x551/615.p/1"},
	};
	char buf[CTNG_MERKLE_TILE_PATH_MAX];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(ctng_merkle_tile_index_format(buf, sizeof(buf), ok[i].n, ok[i].w),
		                 0);
		assert_string_equal(buf, ok[i].s);
		uint64_t n;
		unsigned w;
		assert_int_equal(ctng_merkle_tile_index_parse(ok[i].s, &n, &w, NULL), 0);
		assert_true(n == ok[i].n);
		assert_int_equal(w, ok[i].w);
	}
	assert_int_equal(ctng_merkle_tile_path(buf, sizeof(buf), 2, 1234067, 256), 0);
	assert_string_equal(buf, "tile/2/x001/x234/067");
	unsigned level, w;
	uint64_t n;
	assert_int_equal(
	    ctng_merkle_tile_path_parse("tile/0/x001/x234/067.p/8", &level, &n, &w, NULL), 0);
	assert_int_equal(level, 0);
	assert_true(n == 1234067);
	assert_int_equal(w, 8);
	static const char *bad_idx[] = {
	    "",
	    "0",
	    "00",
	    "0000",
	    "x001",
	    "001/002",
	    "x000/001",
	    "x01/002",
	    "x001/x002",
	    "001.p/0",
	    "001.p/256",
	    "001.p/007",
	    "001.p/",
	    "001.p/1/",
	    "001.x/1",
	    "001/",
	    "/001",
	    "a01",
	    "001.p/1000",
	    "x018/x446/x744/x073/x709/x551/616",
	    "x001/x002/x003/x004/x005/x006/x007/008",
	    "001 ",
	    "-01",
	    "x-01/001",
	};
	for (size_t i = 0; i < sizeof(bad_idx) / sizeof(bad_idx[0]); i++) {
		ctng_err err = {0};
		if (ctng_merkle_tile_index_parse(bad_idx[i], &n, &w, &err) != CTNG_EINVAL)
			fail_msg("accepted \"%s\"", bad_idx[i]);
		assert_int_equal(err.code, CTNG_EINVAL);
	}
	static const char *bad_path[] = {"tile/entries/000", "tile//000",   "tile/00/000",
	                                 "tile/64/000",      "tile/1",      "tile/1000/000",
	                                 "tiles/0/000",      "/tile/0/000", "tile/0/000/"};
	for (size_t i = 0; i < sizeof(bad_path) / sizeof(bad_path[0]); i++)
		if (ctng_merkle_tile_path_parse(bad_path[i], &level, &n, &w, NULL) != CTNG_EINVAL)
			fail_msg("accepted \"%s\"", bad_path[i]);
	assert_int_equal(ctng_merkle_tile_index_format(buf, sizeof(buf), 1, 0), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tile_index_format(buf, sizeof(buf), 1, 257), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_tile_index_format(buf, 4, 1234, 256), CTNG_ERANGE);
	assert_int_equal(ctng_merkle_tile_index_format(buf, 4, 123, 256), 0);
	assert_string_equal(buf, "123");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tile_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads_per_query, setup, teardown),
	    cmocka_unit_test(test_tile_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
