/*
 * test_logger_http.c — the logger daemon in-process (its loop on a second
 * thread, 2 worker threads validating and signing): submissions over
 * loopback HTTP, duplicates, a period crossed, a split-view logger whose two
 * monitors get two validly signed, conflicting STHs for the same period,
 * HTTP errors (404, 405, 400) while the daemon keeps serving, and group
 * commits that fail (500, nothing stored, no leaf index lost or reused), and
 * the daemon stopped while batches are in flight (every SCT it sent is stored).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ctng/logger.h"
#include "ctng/merkle.h"
#include "ctng/net.h"
#include "lg_certs.h"
#include "testutil.h"

typedef struct srv {
	ctng_logger_daemon_opts opts;
	ctng_logger_daemon *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;
	char url[64];
	char dir[64]; /* the database folder ("" = in memory) */
	char db[96];
} srv;

static ctng_sig_key *log_key, *ca_key;
static X509 *root;
static char *root_pem;
static ctng_clock clk;

static void *srv_main(void *arg)
{
	srv *s = arg;
	ctng_err e = {0};
	int rc = ctng_logger_daemon_new(&s->opts, &s->d, &e);
	if (rc)
		fprintf(stderr, "daemon: %s\n", e.msg);
	pthread_mutex_lock(&s->mu);
	s->state = rc ? -1 : 1;
	if (!rc)
		snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u",
		         (unsigned)ctng_logger_daemon_port(s->d));
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (!rc) {
		ctng_logger_daemon_run(s->d, NULL);
		ctng_logger_daemon_free(s->d);
	}
	return NULL;
}

/* A daemon on a database file in a new folder (file) or in memory. */
static void start(srv *s, pthread_t *th, const ctng_misbehaviour *mis, bool file)
{
	static const char *roots[1];
	roots[0] = root_pem;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	snprintf(s->db, sizeof s->db, ":memory:");
	if (file) {
		snprintf(s->dir, sizeof s->dir, "/tmp/ctng_test_lghttp_XXXXXX");
		assert_non_null(mkdtemp(s->dir));
		snprintf(s->db, sizeof s->db, "%s/logger.db", s->dir);
	}
	s->opts = (ctng_logger_daemon_opts){.db_path = s->db,
	                                    .host = "127.0.0.1",
	                                    .workers = 2,
	                                    .params = {.id = "logger1",
	                                               .key = log_key,
	                                               .clock = clk,
	                                               .root_pems = roots,
	                                               .n_roots = 1,
	                                               .mis = mis}};
	assert_int_equal(pthread_create(th, NULL, srv_main, s), 0);
	pthread_mutex_lock(&s->mu);
	while (s->state == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	assert_int_equal(s->state, 1);
}

static void stop(srv *s, pthread_t th)
{
	ctng_logger_daemon_stop(s->d);
	pthread_join(th, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	if (s->dir[0] && !getenv("CTNG_KEEP_TEST_DIR"))
		assert_int_equal(ctng_test_rm_rf(s->dir), 0);
}

static int req(srv *s, const char *method, const char *path, const char *body, json_t **out)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", s->url, path);
	int status = 0;
	uint8_t *b = NULL;
	size_t bl = 0;
	int rc = ctng_net_fetch_sync(url, method, body ? "application/json" : NULL, body,
	                             body ? strlen(body) : 0, 10000, &status, &b, &bl, NULL);
	assert_int_equal(rc, 0);
	if (out) {
		*out = NULL;
		assert_int_equal(ctng_net_parse_json(b, bl, 0, out, NULL), 0);
	}
	free(b);
	return status;
}

static int setup(void **state)
{
	(void)state;
	log_key = lg_key();
	ca_key = lg_key();
	root = lg_make_cert("HTTP Test Root", ca_key, NULL, ca_key, true, false);
	root_pem = lg_pem(root);
	clk = (ctng_clock){.genesis_ms = ctng_now_ms() - 10000,
	                   .period_ms = 1000,
	                   .query_offset_ms = 100,
	                   .gossip_wait_ms = 200,
	                   .update_offset_ms = 800};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(root);
	free(root_pem);
	ctng_sig_key_free(log_key);
	ctng_sig_key_free(ca_key);
	return 0;
}

static void test_http_submit(void **state)
{
	(void)state;
	srv s;
	pthread_t th;
	start(&s, &th, NULL, true);
	enum { N = 24 };
	uint64_t ts[N];
	char *bodies[N];
	for (int i = 0; i < N; i++) {
		ctng_sig_key *k = lg_key();
		char name[64];
		snprintf(name, sizeof name, "w%d.example.net", i);
		X509 *x = lg_make_cert(name, k, root, ca_key, false, i % 2);
		X509 *chain[2] = {x, root};
		bodies[i] = lg_chain_body(chain, 2);
		json_t *j = NULL;
		assert_int_equal(req(&s, "POST",
		                     i % 2 ? "/ct/v1/add-pre-chain" : "/ct/v1/add-chain", bodies[i],
		                     &j),
		                 200);
		ts[i] = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
		assert_true(ts[i] > 0);
		json_decref(j);
		X509_free(x);
		ctng_sig_key_free(k);
	}
	/* duplicates: same timestamp */
	json_t *j = NULL;
	assert_int_equal(req(&s, "POST", "/ct/v1/add-chain", bodies[4], &j), 200);
	assert_int_equal((uint64_t)json_integer_value(json_object_get(j, "timestamp")), ts[4]);
	json_decref(j);
	/* wrong endpoint for the kind, bad method, unknown path */
	assert_int_equal(req(&s, "POST", "/ct/v1/add-chain", bodies[1], &j), 400);
	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
	assert_int_equal(req(&s, "GET", "/ct/v1/add-chain", NULL, NULL), 405);
	assert_int_equal(req(&s, "GET", "/ct/v1/nothing", NULL, NULL), 404);
	/* wait (bounded) for the next period's STH to hold all of them */
	uint64_t size = 0;
	for (int i = 0; i < 100 && size < N; i++) {
		assert_int_equal(req(&s, "GET", "/ct/v1/get-sth", NULL, &j), 200);
		size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
		json_decref(j);
		if (size < N)
			ctng_test_sleep_ms(100);
	}
	assert_int_equal(size, N);
	assert_int_equal(req(&s, "GET", "/ct/v1/get-entries?start=0&end=30", NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "entries")), N);
	json_decref(j);
	for (int i = 0; i < N; i++)
		free(bodies[i]);
	stop(&s, th);
}

static void test_http_split_view(void **state)
{
	(void)state;
	char *targets[1] = {"monitor2"};
	ctng_misbehaviour mis = {
	    .present = true, .split_view = true, .split_targets = targets, .n_split_targets = 1};
	srv s;
	pthread_t th;
	start(&s, &th, &mis, false);
	uint64_t p = 0;
	assert_true(ctng_clock_period_of(&clk, ctng_now_ms(), &p));
	/* the daemon published the current period's STH at start; p may have
	 * moved on by one meanwhile, so ask for the period it published */
	json_t *a = NULL, *b = NULL;
	char path[128];
	int st = 0;
	for (int tries = 0; tries < 3; tries++) {
		snprintf(path, sizeof path, "/ctng/v1/sth?period=%llu&monitor=monitor1",
		         (unsigned long long)p);
		st = req(&s, "GET", path, NULL, &a);
		if (st == 200)
			break;
		json_decref(a);
		a = NULL;
		ctng_test_sleep_ms(300);
		assert_true(ctng_clock_period_of(&clk, ctng_now_ms(), &p));
	}
	assert_int_equal(st, 200);
	snprintf(path, sizeof path, "/ctng/v1/sth?period=%llu&monitor=monitor2",
	         (unsigned long long)p);
	assert_int_equal(req(&s, "GET", path, NULL, &b), 200);
	ctng_gossip_object oa = {0}, ob = {0};
	assert_int_equal(ctng_gossip_from_json(a, &oa, NULL), 0);
	assert_int_equal(ctng_gossip_from_json(b, &ob, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&oa, log_key, &clk, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&ob, log_key, &clk, NULL), 0);
	assert_true(ctng_gossip_conflicting(&oa, &ob));
	ctng_gossip_clear(&oa);
	ctng_gossip_clear(&ob);
	json_decref(a);
	json_decref(b);
	/* unknown / future periods */
	snprintf(path, sizeof path, "/ctng/v1/sth?period=%llu", (unsigned long long)p + 100);
	assert_int_equal(req(&s, "GET", path, NULL, &a), 404);
	json_decref(a);
	assert_int_equal(req(&s, "GET", "/ctng/v1/sth?period=01", NULL, &a), 400);
	json_decref(a);
	stop(&s, th);
}

/* The leaf index an SCT answer names (its static-ct-api extension). */
static uint64_t sct_index(json_t *sct)
{
	uint8_t ext[8];
	const char *b64 = json_string_value(json_object_get(sct, "extensions"));
	assert_non_null(b64);
	assert_int_equal(ctng_b64_decode_exact(ext, sizeof ext, b64, NULL), 0);
	assert_int_equal(ext[0], 0); /* leaf_index */
	assert_int_equal(ext[1] << 8 | ext[2], 5);
	uint64_t v = 0;
	for (int i = 3; i < 8; i++)
		v = v << 8 | ext[i];
	return v;
}

/* The answer to one add-chain of a fresh leaf (its DER in *der). */
static int submit_new(srv *s, const char *name, json_t **out, uint8_t **der, size_t *der_len)
{
	ctng_sig_key *k = lg_key();
	X509 *x = lg_make_cert(name, k, root, ca_key, false, false);
	X509 *chain[2] = {x, root};
	char *body = lg_chain_body(chain, 2);
	assert_int_equal(ctng_cert_to_der(x, der, der_len, NULL), 0);
	int st = req(s, "POST", "/ct/v1/add-chain", body, out);
	free(body);
	X509_free(x);
	ctng_sig_key_free(k);
	return st;
}

static void db_exec(const char *db, const char *sql)
{
	ctng_store *st = ctng_store_open(db, NULL);
	assert_non_null(st);
	ctng_err e = {0};
	if (ctng_store_exec(st, sql, &e))
		fail_msg("%s: %s", sql, e.msg);
	ctng_store_close(st);
}

/* A group commit that fails (here: a trigger on another handle refuses
 * every insert) answers 500 and stores nothing; the next ones take the very
 * indexes the failed ones were given, so the tree has no gap and every SCT
 * names its entry's position. */
static void test_http_commit_failure(void **state)
{
	(void)state;
	srv s;
	pthread_t th;
	start(&s, &th, NULL, true);
	json_t *j = NULL;
	uint8_t *der[3] = {0};
	size_t der_len[3] = {0};
	assert_int_equal(submit_new(&s, "ok0.example.net", &j, &der[0], &der_len[0]), 200);
	uint64_t first = sct_index(j);
	json_decref(j);
	db_exec(s.db, "CREATE TRIGGER ctng_test_fail BEFORE INSERT ON logger_entry"
	              " BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
	for (int i = 1; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "fail%d.example.net", i);
		assert_int_equal(submit_new(&s, name, &j, &der[i], &der_len[i]), 500);
		const char *msg = json_string_value(json_object_get(j, "error"));
		assert_non_null(msg);
		assert_non_null(strstr(msg, "not stored"));
		json_decref(j);
		free(der[i]);
	}
	db_exec(s.db, "DROP TRIGGER ctng_test_fail;");
	for (int i = 1; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "ok%d.example.net", i);
		assert_int_equal(submit_new(&s, name, &j, &der[i], &der_len[i]), 200);
		assert_int_equal(sct_index(j), first + (uint64_t)i);
		json_decref(j);
	}
	/* the next STH holds exactly these three, in index order */
	uint64_t size = 0;
	for (int i = 0; i < 100 && size < first + 3; i++) {
		assert_int_equal(req(&s, "GET", "/ct/v1/get-sth", NULL, &j), 200);
		size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
		json_decref(j);
		if (size < first + 3)
			ctng_test_sleep_ms(100);
	}
	assert_int_equal(size, first + 3);
	char path[96];
	snprintf(path, sizeof path, "/ct/v1/get-entries?start=%llu&end=%llu",
	         (unsigned long long)first, (unsigned long long)first + 2);
	assert_int_equal(req(&s, "GET", path, NULL, &j), 200);
	json_t *es = json_object_get(j, "entries");
	assert_int_equal(json_array_size(es), 3);
	for (size_t i = 0; i < 3; i++) {
		const char *b64 = json_string_value(json_object_get(json_array_get(es, i), "leaf_input"));
		uint8_t *leaf = NULL;
		size_t ll = 0;
		assert_int_equal(ctng_b64_decode_alloc(b64, strlen(b64), &leaf, &ll, NULL), 0);
		assert_non_null(memmem(leaf, ll, der[i], der_len[i]));
		uint64_t idx = 0; /* the leaf ends with its leaf_index extension */
		for (size_t k = ll - 5; k < ll; k++)
			idx = idx << 8 | leaf[k];
		assert_int_equal(idx, first + i);
		free(leaf);
		free(der[i]);
	}
	json_decref(j);
	stop(&s, th);
}

/* ------------------------------------------ stop with batches in flight */

enum { STOP_CLIENTS = 6, STOP_MAX = 200 };

typedef struct stop_client {
	srv *s;
	int id;
	_Atomic int *acks; /* all clients' */
	size_t n;          /* answered 200 */
	char *body[STOP_MAX];
	uint8_t *der[STOP_MAX];
	size_t der_len[STOP_MAX];
} stop_client;

/* Submits fresh leaves one after the other until the daemon goes away
 * (no cmocka asserts off the main thread: the answers are checked there). */
static void *stop_client_main(void *arg)
{
	stop_client *c = arg;
	ctng_sig_key *k = lg_key();
	for (int i = 0; c->n < STOP_MAX && i < 10 * STOP_MAX; i++) {
		char name[64], url[128];
		snprintf(name, sizeof name, "stop%d-%d.example.net", c->id, i);
		X509 *x = lg_make_cert(name, k, root, ca_key, false, false);
		X509 *chain[2] = {x, root};
		char *body = lg_chain_body(chain, 2);
		uint8_t *der = NULL;
		size_t der_len = 0;
		ctng_cert_to_der(x, &der, &der_len, NULL);
		X509_free(x);
		snprintf(url, sizeof url, "%s/ct/v1/add-chain", c->s->url);
		int status = 0;
		uint8_t *b = NULL;
		size_t bl = 0;
		int rc = ctng_net_fetch_sync(url, "POST", "application/json", body, strlen(body),
		                             10000, &status, &b, &bl, NULL);
		free(body);
		if (!rc && status == 200) {
			c->body[c->n] = calloc(1, bl + 1);
			memcpy(c->body[c->n], b, bl);
			c->der[c->n] = der;
			c->der_len[c->n++] = der_len;
			atomic_fetch_add(c->acks, 1);
			der = NULL;
		}
		free(der);
		free(b);
		if (rc) /* the daemon is gone */
			break;
	}
	ctng_sig_key_free(k);
	return NULL;
}

/* The daemon stopped while clients keep submitting (batches sequenced,
 * being signed or committed): no crash, leak or race (the sanitizer builds),
 * and every SCT it sent names a stored entry at the index it promised. */
static void test_http_stop_in_flight(void **state)
{
	(void)state;
	srv s;
	pthread_t th, ct[STOP_CLIENTS];
	start(&s, &th, NULL, true);
	_Atomic int acks = 0;
	stop_client *c = calloc(STOP_CLIENTS, sizeof(*c));
	for (int i = 0; i < STOP_CLIENTS; i++) {
		c[i] = (stop_client){.s = &s, .id = i, .acks = &acks};
		assert_int_equal(pthread_create(&ct[i], NULL, stop_client_main, &c[i]), 0);
	}
	for (int i = 0; i < 2000 && atomic_load(&acks) < 30; i++)
		ctng_test_sleep_ms(5);
	ctng_logger_daemon_stop(s.d); /* the clients are still sending */
	pthread_join(th, NULL);
	for (int i = 0; i < STOP_CLIENTS; i++)
		pthread_join(ct[i], NULL);
	assert_true(atomic_load(&acks) >= 30);
	fprintf(stderr, "stop: %d acknowledged before and around the stop\n", atomic_load(&acks));
	ctng_store *st = ctng_store_open(s.db, NULL);
	assert_non_null(st);
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(ctng_store_db(st),
	                                    "SELECT leaf_input FROM logger_entry WHERE idx = ?1",
	                                    -1, &q, NULL),
	                 SQLITE_OK);
	for (int i = 0; i < STOP_CLIENTS; i++)
		for (size_t k = 0; k < c[i].n; k++) {
			json_t *j = json_loads(c[i].body[k], 0, NULL);
			assert_non_null(j);
			sqlite3_bind_int64(q, 1, (sqlite3_int64)sct_index(j));
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			assert_non_null(memmem(sqlite3_column_blob(q, 0),
			                       (size_t)sqlite3_column_bytes(q, 0), c[i].der[k],
			                       c[i].der_len[k]));
			sqlite3_reset(q);
			json_decref(j);
			free(c[i].body[k]);
			free(c[i].der[k]);
		}
	sqlite3_finalize(q);
	ctng_store_close(st);
	free(c);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	if (!getenv("CTNG_KEEP_TEST_DIR"))
		assert_int_equal(ctng_test_rm_rf(s.dir), 0);
}

int main(void)
{
	ctng_log_set_level(CTNG_LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_submit),
	    cmocka_unit_test(test_http_split_view),
	    cmocka_unit_test(test_http_commit_failure),
	    cmocka_unit_test(test_http_stop_in_flight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
