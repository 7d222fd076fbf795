/*
 * test_metrics.c — the metrics registry of src/metrics: exact exposition
 * text, label escaping and sanitising, bounded cardinality (the _other
 * series and ctng_metrics_overflow_total), histogram buckets, registration
 * rules, NULL tolerance, counts from many threads, collect hooks, and the
 * rendered text of a full registry (process metrics included) accepted by
 * Prometheus's own parser and linter, `promtool check metrics`.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/metrics.h"
#include "testutil.h"

static char *render(ctng_metrics *r)
{
	ctng_buf b = {0};
	assert_int_equal(ctng_metrics_render(r, &b, NULL), 0);
	assert_int_equal(ctng_buf_append_u8(&b, 0), 0);
	return (char *)b.data;
}

static void test_exposition_text(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_metrics *r = ctng_metrics_new(&err);
	assert_non_null(r);
	ctng_metric *c =
	    ctng_metrics_counter(r, "t_requests_total", "Requests.", "route,code", &err);
	ctng_metric *g = ctng_metrics_gauge(r, "t_tree_size", "Leaves in the tree.", NULL, &err);
	static const double b[] = {0.5, 1, 2.5};
	ctng_metric *h =
	    ctng_metrics_histogram(r, "t_latency_seconds", "Latency.", "op", b, 3, &err);
	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(h);
	ctng_counter_inc(c, CTNG_LABELS("/a", "200"));
	ctng_counter_add(c, CTNG_LABELS("/a", "200"), 2);
	ctng_counter_inc(c, CTNG_LABELS("/b", "404"));
	ctng_gauge_set(g, NULL, 42);
	ctng_gauge_add(g, NULL, -0.5);
	ctng_histogram_observe(h, CTNG_LABELS("x"), 0.25);
	ctng_histogram_observe(h, CTNG_LABELS("x"), 1);  /* le is inclusive */
	ctng_histogram_observe(h, CTNG_LABELS("x"), 99); /* only +Inf */
	char *t = render(r);
	const char *want = "# HELP t_requests_total Requests.\n"
	                   "# TYPE t_requests_total counter\n"
	                   "t_requests_total{route=\"/a\",code=\"200\"} 3\n"
	                   "t_requests_total{route=\"/b\",code=\"404\"} 1\n"
	                   "# HELP t_tree_size Leaves in the tree.\n"
	                   "# TYPE t_tree_size gauge\n"
	                   "t_tree_size 41.5\n"
	                   "# HELP t_latency_seconds Latency.\n"
	                   "# TYPE t_latency_seconds histogram\n"
	                   "t_latency_seconds_bucket{op=\"x\",le=\"0.5\"} 1\n"
	                   "t_latency_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
	                   "t_latency_seconds_bucket{op=\"x\",le=\"2.5\"} 2\n"
	                   "t_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 3\n"
	                   "t_latency_seconds_sum{op=\"x\"} 100.25\n"
	                   "t_latency_seconds_count{op=\"x\"} 3\n";
	assert_string_equal(t, want);
	/* Rendering changes nothing. */
	char *t2 = render(r);
	assert_string_equal(t, t2);
	free(t);
	free(t2);
	double v = 0, sum = 0;
	assert_int_equal(ctng_metric_get(c, CTNG_LABELS("/a", "200"), &v, NULL), 0);
	assert_true(v == 3);
	assert_int_equal(ctng_metric_get(h, CTNG_LABELS("x"), &v, &sum), 0);
	assert_true(v == 3 && sum == 100.25);
	assert_int_equal(ctng_metric_get(c, CTNG_LABELS("/c", "200"), &v, NULL), CTNG_ENOTFOUND);
	ctng_metrics_free(r);
}

static void test_label_values_escaped(void **state)
{
	(void)state;
	ctng_metrics *r = ctng_metrics_new(NULL);
	ctng_metric *c =
	    ctng_metrics_counter(r, "t_x_total", "Help with \\ back\\slash.", "v", NULL);
	assert_non_null(c);
	ctng_counter_inc(c, CTNG_LABELS("q\"uo\\te\nnl"));
	ctng_counter_inc(c, CTNG_LABELS("caf\xc3\xa9\x01"));
	char longv[400];
	memset(longv, 'a', sizeof longv - 1);
	longv[sizeof longv - 1] = 0;
	ctng_counter_inc(c, CTNG_LABELS(longv));
	ctng_counter_inc(c, CTNG_LABELS(NULL)); /* NULL value: "" */
	char *t = render(r);
	assert_non_null(strstr(t, "# HELP t_x_total Help with \\\\ back\\\\slash.\n"));
	/* \n is a control byte: sanitised to '?' before escaping. */
	assert_non_null(strstr(t, "t_x_total{v=\"q\\\"uo\\\\te?nl\"} 1\n"));
	assert_non_null(strstr(t, "t_x_total{v=\"caf???\"} 1\n"));
	char want[300];
	snprintf(want, sizeof want, "t_x_total{v=\"%.*s\"} 1\n", CTNG_METRICS_LABEL_MAX, longv);
	assert_non_null(strstr(t, want));
	assert_non_null(strstr(t, "t_x_total{v=\"\"} 1\n"));
	free(t);
	ctng_metrics_free(r);
}

static void test_cardinality_bounded(void **state)
{
	(void)state;
	ctng_metrics *r = ctng_metrics_new(NULL);
	ctng_metric *c = ctng_metrics_counter(r, "t_peer_total", "Per peer.", "peer,result", NULL);
	assert_int_equal(ctng_metric_set_limit(c, 3), 0);
	assert_int_equal(ctng_metric_set_limit(c, 0), CTNG_EINVAL);
	assert_int_equal(ctng_metric_set_limit(c, CTNG_METRICS_MAX_SERIES + 1), CTNG_EINVAL);
	char name[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "peer%d", i);
		ctng_counter_inc(c, CTNG_LABELS(name, "ok"));
	}
	ctng_counter_inc(c, CTNG_LABELS("peer1", "ok")); /* an existing series still counts */
	char *t = render(r);
	assert_non_null(strstr(t, "t_peer_total{peer=\"peer0\",result=\"ok\"} 1\n"));
	assert_non_null(strstr(t, "t_peer_total{peer=\"peer1\",result=\"ok\"} 2\n"));
	assert_non_null(strstr(t, "t_peer_total{peer=\"peer2\",result=\"ok\"} 1\n"));
	assert_null(strstr(t, "peer3\""));
	assert_non_null(strstr(t, "t_peer_total{peer=\"_other\",result=\"_other\"} 997\n"));
	assert_non_null(strstr(t, "ctng_metrics_overflow_total{metric=\"t_peer_total\"} 997\n"));
	free(t);
	ctng_metric_clear(c);
	t = render(r);
	assert_null(strstr(t, "t_peer_total{"));
	free(t);
	ctng_metrics_free(r);
}

static void test_registration_rules(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_metrics *r = ctng_metrics_new(NULL);
	ctng_metric *a = ctng_metrics_counter(r, "t_a_total", "A.", "x,y", &err);
	assert_non_null(a);
	/* Same shape: the same family. Other shape: conflict. */
	assert_ptr_equal(ctng_metrics_counter(r, "t_a_total", "A again.", "x,y", &err), a);
	assert_null(ctng_metrics_gauge(r, "t_a_total", "A.", "x,y", &err));
	assert_int_equal(err.code, CTNG_ECONFLICT);
	assert_null(ctng_metrics_counter(r, "t_a_total", "A.", "x", &err));
	assert_int_equal(err.code, CTNG_ECONFLICT);
	/* Bad names, labels, help, buckets. */
	const char *bad_names[] = {"", "1abc", "a-b", "a b", "é", NULL};
	for (int i = 0; i < 6; i++) {
		assert_null(ctng_metrics_gauge(r, bad_names[i], "h", NULL, &err));
		assert_int_equal(err.code, CTNG_EINVAL);
	}
	assert_non_null(ctng_metrics_gauge(r, "ns:sub_ok", "Colons are allowed.", NULL, &err));
	const char *bad_labels[] = {"a,", ",a", "a,a", "__x", "a:b", "1a", "a,b,c,d,e,f,g,h,i"};
	for (int i = 0; i < 7; i++) {
		assert_null(ctng_metrics_gauge(r, "t_l", "h", bad_labels[i], &err));
		assert_int_equal(err.code, CTNG_EINVAL);
	}
	assert_null(ctng_metrics_gauge(r, "t_h", "", NULL, &err));
	assert_null(ctng_metrics_gauge(r, "t_h", NULL, NULL, &err));
	assert_null(ctng_metrics_gauge(r, "t_h", "two\nlines", NULL, &err));
	static const double b_bad[] = {1, 1};
	static const double b_inf[] = {1, INFINITY};
	static const double b_ok[] = {1, 2};
	assert_null(ctng_metrics_histogram(r, "t_hist", "h", NULL, b_bad, 2, &err));
	assert_null(ctng_metrics_histogram(r, "t_hist", "h", NULL, b_inf, 2, &err));
	assert_null(ctng_metrics_histogram(r, "t_hist", "h", NULL, b_ok, 0, &err));
	assert_null(ctng_metrics_histogram(r, "t_hist", "h", "le", b_ok, 2, &err));
	assert_non_null(ctng_metrics_histogram(r, "t_hist", "h", NULL, b_ok, 2, &err));
	assert_null(ctng_metrics_histogram(r, "t_hist", "h", NULL, b_ok, 1, &err));
	assert_int_equal(err.code, CTNG_ECONFLICT);
	/* A spec table registers all or stops at the first bad entry. */
	ctng_metric *s1 = NULL, *s2 = NULL, *s3 = NULL;
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_COUNTER(&s1, "t_s1_total", "S1.", "a"),
	    CTNG_METRICS_HISTOGRAM(&s2, "t_s2_seconds", "S2.", NULL, b_ok, 2),
	    CTNG_METRICS_GAUGE(&s3, "t s3", "bad name", NULL),
	};
	assert_int_equal(ctng_metrics_register(r, specs, 2, &err), 0);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_int_equal(ctng_metrics_register(r, specs, 3, &err), CTNG_EINVAL);
	assert_null(s3);
	/* The family limit. */
	char name[32];
	int made = 0;
	for (int i = 0; i < CTNG_METRICS_MAX_FAMILIES + 5; i++) {
		snprintf(name, sizeof name, "t_many_%d", i);
		if (ctng_metrics_gauge(r, name, "h", NULL, &err))
			made++;
	}
	assert_int_equal(err.code, CTNG_ERANGE);
	assert_true(made < CTNG_METRICS_MAX_FAMILIES);
	ctng_metrics_free(r);
}

static void test_null_and_bad_values(void **state)
{
	(void)state;
	/* A NULL family is a no-op everywhere. */
	ctng_counter_inc(NULL, NULL);
	ctng_counter_add(NULL, CTNG_LABELS("a"), 1);
	ctng_gauge_set(NULL, NULL, 1);
	ctng_gauge_add(NULL, NULL, 1);
	ctng_histogram_observe(NULL, NULL, 1);
	ctng_metric_clear(NULL);
	assert_int_equal(ctng_metric_get(NULL, NULL, NULL, NULL), CTNG_EINVAL);
	ctng_metrics_free(NULL);
	ctng_metrics *r = ctng_metrics_new(NULL);
	ctng_metric *c = ctng_metrics_counter(r, "t_c_total", "C.", NULL, NULL);
	ctng_metric *g = ctng_metrics_gauge(r, "t_g", "G.", NULL, NULL);
	ctng_counter_add(c, NULL, 5);
	ctng_counter_add(c, NULL, -3); /* counters never go down */
	ctng_counter_add(c, NULL, NAN);
	ctng_counter_add(c, NULL, INFINITY);
	ctng_gauge_set(g, NULL, 7);
	ctng_gauge_set(g, NULL, NAN);
	/* Type mismatch: a gauge update on a counter does nothing. */
	ctng_gauge_set(c, NULL, 100);
	double v = 0;
	assert_int_equal(ctng_metric_get(c, NULL, &v, NULL), 0);
	assert_true(v == 5);
	assert_int_equal(ctng_metric_get(g, NULL, &v, NULL), 0);
	assert_true(v == 7);
	/* Large and fractional values render so that they read back exactly. */
	ctng_gauge_set(g, NULL, 0.1);
	char *t = render(r);
	assert_non_null(strstr(t, "t_g 0.1\n"));
	free(t);
	ctng_gauge_set(g, NULL, 1e300);
	t = render(r);
	assert_non_null(strstr(t, "t_g 1e+300\n"));
	free(t);
	ctng_metrics_free(r);
}

struct counter_thread {
	ctng_metric *c, *h;
	const char *label;
};

static void *count_thread(void *a)
{
	struct counter_thread *ct = a;
	for (int i = 0; i < 20000; i++) {
		ctng_counter_inc(ct->c, CTNG_LABELS(ct->label));
		ctng_histogram_observe(ct->h, NULL, 0.001 * (i % 7));
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	ctng_metrics *r = ctng_metrics_new(NULL);
	ctng_metric *c = ctng_metrics_counter(r, "t_c_total", "C.", "who", NULL);
	ctng_metric *h =
	    ctng_metrics_histogram(r, "t_h_seconds", "H.", NULL, ctng_metrics_latency_buckets,
	                           ctng_metrics_latency_nbuckets, NULL);
	pthread_t th[4];
	struct counter_thread ct[4];
	const char *who[4] = {"a", "b", "a", "b"};
	for (int i = 0; i < 4; i++) {
		ct[i] = (struct counter_thread){c, h, who[i]};
		assert_int_equal(pthread_create(&th[i], NULL, count_thread, &ct[i]), 0);
	}
	for (int k = 0; k < 20; k++)
		free(render(r)); /* renders while others count */
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	double v = 0;
	assert_int_equal(ctng_metric_get(c, CTNG_LABELS("a"), &v, NULL), 0);
	assert_true(v == 40000);
	assert_int_equal(ctng_metric_get(h, NULL, &v, NULL), 0);
	assert_true(v == 80000);
	ctng_metrics_free(r);
}

static int freed;
static void count_free(void *a)
{
	(void)a;
	freed++;
}
static void hook(ctng_metrics *r, void *arg)
{
	(void)r;
	int *calls = arg;
	++*calls;
}

static void test_collect_hooks(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_metrics *r = ctng_metrics_new(NULL);
	int calls = 0;
	freed = 0;
	assert_int_equal(ctng_metrics_on_collect(r, hook, &calls, count_free, &err), 0);
	for (int i = 1; i < 16; i++)
		assert_int_equal(ctng_metrics_on_collect(r, hook, &calls, NULL, &err), 0);
	assert_int_equal(ctng_metrics_on_collect(r, hook, &calls, NULL, &err), CTNG_ERANGE);
	free(render(r));
	assert_int_equal(calls, 16);
	ctng_metrics_free(r);
	assert_int_equal(freed, 1);
}

/* A registry with every kind of family, the process metrics and awkward
 * label values, fed to promtool: it must parse and lint clean. */
static void test_promtool_accepts(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_metrics *r = ctng_metrics_new(NULL);
	assert_int_equal(ctng_metrics_process(r, "gossiper", "gossiper1", &err), 0);
	ctng_metric *c = ctng_metrics_counter(r, "ctng_t_objects_total", "Objects by type.",
	                                      "type,result", NULL);
	ctng_metric *h = ctng_metrics_histogram(r, "ctng_t_phase_seconds", "Phase durations.",
	                                        "phase", ctng_metrics_latency_buckets,
	                                        ctng_metrics_latency_nbuckets, NULL);
	ctng_metric *g =
	    ctng_metrics_gauge(r, "ctng_t_empty", "A family with no series.", "x", NULL);
	assert_non_null(g);
	ctng_metric_set_limit(c, 2);
	ctng_counter_inc(c, CTNG_LABELS("STH", "new"));
	ctng_counter_inc(c, CTNG_LABELS("q\"\\\n\xff", "x"));
	ctng_counter_inc(c, CTNG_LABELS("REV", "new")); /* overflow */
	ctng_histogram_observe(h, CTNG_LABELS("query"), 0.2);
	char *t = render(r);
	assert_non_null(strstr(t, "process_open_fds "));
	assert_non_null(strstr(t, "process_resident_memory_bytes "));
	assert_non_null(strstr(t, "ctng_build_info{version=\""));
	assert_non_null(strstr(t, "role=\"gossiper\",node=\"gossiper1\"} 1\n"));
	char msg[4096];
	int st = ctng_test_promtool(t, msg, sizeof msg);
	if (st != 0)
		fprintf(stderr, "promtool (%d): %s\ntext:\n%s", st, msg, t);
	assert_int_equal(st, 0);
	free(t);
	ctng_metrics_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposition_text),     cmocka_unit_test(test_label_values_escaped),
	    cmocka_unit_test(test_cardinality_bounded), cmocka_unit_test(test_registration_rules),
	    cmocka_unit_test(test_null_and_bad_values), cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_collect_hooks),       cmocka_unit_test(test_promtool_accepts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
