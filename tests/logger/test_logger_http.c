/*
 * test_logger_http.c — the logger daemon in-process (its loop on a second
 * thread, 2 worker threads validating and signing): submissions over
 * loopback HTTP, duplicates, a period crossed, a split-view logger whose two
 * monitors get two validly signed, conflicting STHs for the same period, and
 * HTTP errors (404, 405, 400) while the daemon keeps serving.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

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

static void start(srv *s, pthread_t *th, const ctng_misbehaviour *mis)
{
	static const char *roots[1];
	roots[0] = root_pem;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->opts = (ctng_logger_daemon_opts){.db_path = ":memory:",
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
	start(&s, &th, NULL);
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
	start(&s, &th, &mis);
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

int main(void)
{
	ctng_log_set_level(CTNG_LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_submit),
	    cmocka_unit_test(test_http_split_view),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
