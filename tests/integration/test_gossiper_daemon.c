/*
 * test_gossiper_daemon.c — three real `ctng gossiper` processes on loopback
 * with a network from ctng_init_network (3 s periods, threshold 2). The
 * test plays the monitors: it POSTs STH objects signed with the loggers'
 * keys (and the monitors' signed word that their mirrors hold those trees;
 * logger1's with lying X-CTng-From headers, which must not keep it
 * from the third gossiper), checks invalid and duplicate objects are
 * answered 400 / duplicate,
 * and polls GET /ctng/v1/counts until every gossiper holds the STH_FULL of
 * an honest logger and the CON_FULL of a logger that split its view (and no
 * STH_FULL for that one). Then it stops one gossiper with SIGTERM (clean
 * exit, GossipStorage.json and CONFLICT_POM_<logger>.json written), has the
 * two others make a FULL while it is down, restarts it and checks it catches
 * up from its peers and still knows the conviction from its database.
 * Waits are bounded polls; no timing is asserted.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctng/config.h"
#include "ctng/net.h"
#include "ctng/proto.h"
#include "ctng/wire.h"
#include "testutil.h"

#define NG 3

static char dir[160];
static pid_t pids[NG];
static ctng_network net;
static uint16_t gport[NG];

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static pid_t start_gossiper(int i)
{
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s/gossiper%d/config.json", dir, i + 1);
	char log[256];
	snprintf(log, sizeof log, "%s/gossiper%d.log", dir, i + 1);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = freopen(log, "a", stderr);
		(void)f;
		execl(CTNG_BIN, CTNG_BIN, "gossiper", "--config", cfg, "--log-level", "info",
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* GET/POST; returns the HTTP status (0 on transport failure); *out malloc'd. */
static int http(const char *method, uint16_t port, const char *path, const char *body, char **out)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
	int status = 0;
	uint8_t *o = NULL;
	size_t ol = 0;
	int rc = ctng_net_fetch_sync(url, method, body ? "application/json" : NULL, body,
	                             body ? strlen(body) : 0, 5000, &status, &o, &ol, NULL);
	if (rc) {
		if (out)
			*out = NULL;
		return 0;
	}
	if (out)
		*out = (char *)o;
	else
		free(o);
	return status;
}

static json_t *counts(int i, uint64_t p)
{
	char path[64], *out = NULL;
	snprintf(path, sizeof path, "/ctng/v1/counts?period=%llu", (unsigned long long)p);
	int st = http("GET", gport[i], path, NULL, &out);
	if (st != 200) {
		free(out);
		return NULL;
	}
	json_t *j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

static json_int_t count_of(json_t *j, const char *type)
{
	return json_integer_value(json_object_get(json_object_get(j, "counts"), type));
}

static void wait_up(int i)
{
	for (int k = 0; k < 400; k++) {
		json_t *j = counts(i, 0);
		if (j) {
			json_decref(j);
			return;
		}
		sleep_ms(50);
	}
	fail_msg("gossiper%d did not come up (see %s/gossiper%d.log)", i + 1, dir, i + 1);
}

static char *sth_json(ctng_sig_key *key, const char *logger, uint64_t ts, uint64_t size,
                      uint8_t rootbyte)
{
	ctng_sth sth = {.timestamp_ms = ts, .tree_size = size};
	memset(sth.root, rootbyte, 32);
	ctng_gossip_object o = {0};
	ctng_err err = {0};
	if (ctng_sth_sign(&o, logger, key, &sth, &net.clock, &err))
		fail_msg("sth_sign: %s", err.msg);
	char *js = NULL;
	assert_int_equal(ctng_gossip_encode(&o, &js, NULL, NULL), 0);
	ctng_gossip_clear(&o);
	return js;
}

static ctng_sig_key *logger_key(const char *id)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s/config.json", dir, id);
	ctng_node_config cfg = {0};
	ctng_err err = {0};
	if (ctng_node_config_load(path, &cfg, &err))
		fail_msg("load %s: %s", path, err.msg);
	ctng_sig_key *k = NULL;
	assert_int_equal(ctng_sig_key_from_evp(ctng_sig_key_evp(cfg.key), &k, NULL), 0);
	ctng_node_config_free(&cfg);
	return k;
}

static int post(int i, const char *body, char **out)
{
	return http("POST", gport[i], "/ctng/v1/gossip", body, out);
}

struct one_req {
	ctng_net_loop *loop;
	int status;
	char body[512];
};

static void on_one(int status, const uint8_t *b, size_t l, const ctng_err *e, void *arg)
{
	(void)e;
	struct one_req *r = arg;
	r->status = status;
	snprintf(r->body, sizeof r->body, "%.*s", (int)(l < 511 ? l : 511), b ? (const char *)b : "");
	ctng_net_loop_stop(r->loop);
}

/* POSTs body to path of gossiper i in the binary form (docs/protocol.md
 * §11); returns the status, the answer's text in answer (if non-NULL). */
static int post_wire(int i, const char *path, const void *body, size_t len, char answer[512])
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)gport[i], path);
	struct one_req r = {ctng_net_loop_new(NULL), 0, ""};
	assert_non_null(r.loop);
	ctng_net_client_opts opts = {.timeout_ms = 5000, .content_type = CTNG_WIRE_CONTENT_TYPE};
	assert_int_equal(ctng_net_request(r.loop, "POST", url, body, len, &opts, on_one, &r, NULL),
	                 0);
	assert_int_equal(ctng_net_loop_run(r.loop, NULL), 0);
	ctng_net_loop_free(r.loop);
	if (answer)
		memcpy(answer, r.body, sizeof r.body);
	return r.status;
}

/* The binary form of an object given as JSON text. */
static void to_wire(const char *json, ctng_buf *out)
{
	ctng_gossip_object o = {0};
	ctng_err err = {0};
	assert_int_equal(ctng_gossip_decode(json, strlen(json), &o, NULL), 0);
	ctng_buf_reset(out);
	if (ctng_wire_encode(&net, &o, out, &err))
		fail_msg("wire: %s", err.msg);
	ctng_gossip_clear(&o);
}

/* POST with a (lying) X-CTng-From header; returns the HTTP status. */
static int post_from(int i, const char *body, const char *from)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/ctng/v1/gossip", (unsigned)gport[i]);
	struct one_req r = {ctng_net_loop_new(NULL), 0, ""};
	assert_non_null(r.loop);
	const char *headers[] = {"X-CTng-From", from, NULL};
	ctng_net_client_opts opts = {
	    .timeout_ms = 5000, .content_type = "application/json", .headers = headers};
	assert_int_equal(
	    ctng_net_request(r.loop, "POST", url, body, strlen(body), &opts, on_one, &r, NULL), 0);
	assert_int_equal(ctng_net_loop_run(r.loop, NULL), 0);
	ctng_net_loop_free(r.loop);
	return r.status;
}

/* Monitor i+1 tells gossiper i, signed, that its mirror holds the tree of
 * the STH `sth_text` (the data-availability word, docs/mirror.md): without
 * it no gossiper signs an STH. */
static void post_held(int i, const char *sth_text)
{
	char mon[32];
	snprintf(mon, sizeof mon, "monitor%d", i + 1);
	ctng_sig_key *k = logger_key(mon);
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_gossip_decode(sth_text, strlen(sth_text), &o, NULL), 0);
	uint8_t d[32];
	ctng_observation obs;
	char *js = NULL;
	assert_int_equal(ctng_gossip_content_digest(&o, d, NULL), 0);
	assert_int_equal(ctng_obs_sign(&obs, mon, k, CTNG_FAM_STH, o.signer, o.period,
	                               CTNG_OBS_OBTAINED, d, CTNG_OBS_CHECK_DATA, NULL),
	                 0);
	if (i % 2) { /* both forms a monitor may send */
		assert_int_equal(ctng_obs_encode(&obs, &js, NULL, NULL), 0);
		assert_int_equal(http("POST", gport[i], "/ctng/v1/observation", js, NULL), 200);
	} else {
		ctng_buf b = {0};
		assert_int_equal(ctng_wire_encode_obs(&net, &obs, &b, NULL), 0);
		assert_int_equal(post_wire(i, "/ctng/v1/observation", b.data, b.len, NULL), 200);
		ctng_buf_free(&b);
	}
	free(js);
	ctng_gossip_clear(&o);
	ctng_sig_key_free(k);
}

/* Polls until pred holds for every running gossiper (at most ~30 s). */
static bool all_counts(uint64_t p, const char *type, json_int_t want, int n)
{
	for (int k = 0; k < 600; k++) {
		bool ok = true;
		for (int i = 0; i < n && ok; i++) {
			json_t *j = counts(i, p);
			ok = j && count_of(j, type) == want;
			json_decref(j);
		}
		if (ok)
			return true;
		sleep_ms(50);
	}
	return false;
}

static void stop(int i, int *status)
{
	kill(pids[i], SIGTERM);
	assert_int_equal(waitpid(pids[i], status, 0), pids[i]);
	pids[i] = 0;
}

static void test_gossipers(void **state)
{
	(void)state;
	char netdir[] = "/tmp/ctng-it-gossiper-XXXXXX"; /* removed at the end */
	assert_non_null(mkdtemp(netdir));
	snprintf(dir, sizeof dir, "%s/net", netdir);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = 3000;
	o.gossip_wait_ms = 800;
	o.loggers = 2;
	o.cas = 1;
	o.monitors = NG;
	o.threshold = 2;
	/* above the usual ephemeral range; distinct per test process */
	o.port_base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	ctng_err err = {0};
	if (ctng_init_network(dir, &o, &err))
		fail_msg("init: %s", err.msg);
	char np[256];
	snprintf(np, sizeof np, "%s/network.json", dir);
	assert_int_equal(ctng_network_load(np, &net, NULL), 0);
	for (int i = 0; i < NG; i++) {
		char id[32];
		snprintf(id, sizeof id, "gossiper%d", i + 1);
		const ctng_entity *g = ctng_network_entity(&net, id);
		assert_non_null(g);
		gport[i] = g->port;
		pids[i] = start_gossiper(i);
	}
	for (int i = 0; i < NG; i++)
		wait_up(i);
	ctng_sig_key *k1 = logger_key("logger1"), *k2 = logger_key("logger2");
	uint64_t now = ctng_now_ms(), p = 0;
	assert_true(ctng_clock_period_of(&net.clock, now, &p));
	char *honest = sth_json(k1, "logger1", now, 5, 0x11);
	char *split_a = sth_json(k2, "logger2", now, 7, 0x21);
	char *split_b = sth_json(k2, "logger2", now, 7, 0x22);
	char *out = NULL;
	/* the monitors of gossipers 1 and 2 pulled logger1's STH and mirrored it */
	post_held(0, honest);
	post_held(1, honest);
	/* logger1's STH reaches gossipers 1 and 2 with lying sender headers (issue
	 * 10, defect 3): each then presumes the other and its peers — gossiper3
	 * too — hold it, and pushes it to nobody. Gossiper3 must still get it
	 * (it pulls it when the others' FRAGs show they hold it). */
	assert_int_equal(post_from(0, honest, "gossiper2"), 200);
	assert_int_equal(post_from(1, honest, "gossiper1"), 200);
	/* logger2 shows gossiper1's and gossiper3's monitors different STHs */
	ctng_buf wb = {0};
	char answer[512];
	assert_int_equal(post(0, split_a, NULL), 200);
	to_wire(split_b, &wb);
	assert_int_equal(post_wire(2, "/ctng/v1/gossip", wb.data, wb.len, answer), 200);
	assert_non_null(strstr(answer, "\"new\""));
	/* the same object in the other form is the same object */
	assert_int_equal(post(2, split_b, &out), 200);
	assert_non_null(strstr(out, "\"duplicate\""));
	free(out);
	/* a binary body that is not one: 400 naming the binary form, and a
	 * binary body under the JSON type is not JSON */
	wb.data[wb.len - 1] ^= 0x01; /* (its time: still decodes, no longer verifies) */
	assert_int_equal(post_wire(2, "/ctng/v1/gossip", wb.data, wb.len, answer), 400);
	wb.data[wb.len - 1] ^= 0x01;
	assert_int_equal(post_wire(2, "/ctng/v1/gossip", wb.data, wb.len - 1, answer), 400);
	assert_non_null(strstr(answer, "wire: "));
	assert_int_equal(post_wire(2, "/ctng/v1/gossip", "\x21\x85", 2, answer), 400);
	assert_non_null(strstr(answer, "wire: "));
	assert_int_equal(post_wire(2, "/ctng/v1/observation", "\x50\x00", 2, answer), 400);
	assert_non_null(strstr(answer, "wire: "));
	ctng_buf_free(&wb);
	/* a replayed POST is a duplicate */
	assert_int_equal(post(0, honest, &out), 200);
	assert_non_null(strstr(out, "\"duplicate\""));
	free(out);
	assert_int_equal(post(1, honest, &out), 200);
	assert_non_null(strstr(out, "\"duplicate\""));
	free(out);
	/* invalid: logger1's STH signed by logger2's key; garbage; unknown field */
	char *forged = sth_json(k2, "logger1", now, 5, 0x12);
	assert_int_equal(post(1, forged, &out), 400);
	assert_non_null(strstr(out, "error"));
	free(out);
	assert_int_equal(post(1, "{\"application\":\"CTng\"}", NULL), 400);
	assert_int_equal(post(1, "not json", NULL), 400);
	free(forged);

	assert_true(all_counts(p, "STH_FULL", 1, NG));
	assert_true(all_counts(p, "CON_FULL", 1, NG));
	for (int i = 0; i < NG; i++) {
		json_t *j = counts(i, p);
		assert_non_null(j);
		assert_int_equal(count_of(j, "STH"), 3);
		assert_int_equal(count_of(j, "CON"), 1);
		assert_int_equal(count_of(j, "STH_FULL"), 1); /* logger2 never gets one */
		assert_int_equal(json_integer_value(json_object_get(j, "con_full_total")), 1);
		char pk[24];
		snprintf(pk, sizeof pk, "%llu", (unsigned long long)p);
		assert_string_equal(json_string_value(json_object_get(j, "period")), pk);
		json_decref(j);
	}
	/* malformed queries are 400; the catch-up endpoint lists what is held */
	assert_int_equal(http("GET", gport[0], "/ctng/v1/counts?period=x", NULL, NULL), 400);
	assert_int_equal(http("GET", gport[0], "/ctng/v1/counts", NULL, NULL), 400);
	char opath[64];
	snprintf(opath, sizeof opath, "/ctng/v1/objects?period=%llu", (unsigned long long)p);
	assert_int_equal(http("GET", gport[0], opath, NULL, &out), 200);
	json_t *oj = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(oj);
	assert_true(json_is_array(json_object_get(oj, "objects")));
	/* 3 STHs, 1 CON, the STH_FULL and the CON_FULL at least, while p is held
	 * (periods cur-1..cur+1) */
	uint64_t cur_now = 0;
	assert_true(ctng_clock_period_of(&net.clock, ctng_now_ms(), &cur_now));
	if (cur_now <= p + 1)
		assert_true(json_array_size(json_object_get(oj, "objects")) >= 6);
	json_decref(oj);
	/* bytes moved are reported per period (those of p and p+1 hold our POSTs) */
	json_int_t in = 0, out_b = 0;
	for (uint64_t q = p; q <= p + 1; q++) {
		json_t *j = counts(0, q);
		assert_non_null(j);
		json_t *b = json_object_get(j, "bytes");
		assert_true(json_is_object(b));
		in += json_integer_value(json_object_get(b, "in"));
		out_b += json_integer_value(json_object_get(b, "out"));
		json_decref(j);
	}
	assert_true(in >= (json_int_t)(2 * strlen(honest)));
	assert_true(out_b > 0);
	/* clean stop on SIGTERM, reports written */
	int st = 0;
	stop(2, &st);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char path[256];
	struct stat sb;
	snprintf(path, sizeof path, "%s/gossiper3/GossipStorage.json", dir);
	json_t *rep = json_load_file(path, 0, NULL);
	assert_non_null(rep);
	char key[24];
	snprintf(key, sizeof key, "%llu", (unsigned long long)p);
	json_t *e = json_object_get(rep, key);
	assert_non_null(e);
	assert_int_equal(count_of(e, "CON_FULL"), 1);
	json_decref(rep);
	snprintf(path, sizeof path, "%s/gossiper3/CONFLICT_POM_logger2.json", dir);
	assert_int_equal(stat(path, &sb), 0);
	/* while gossiper3 is down, logger1 publishes a new STH; gossipers 1 and 2
	 * make its FULL */
	uint64_t q = p;
	while (q == p) { /* a second STH of logger1 in period p would be a conflict */
		sleep_ms(50);
		now = ctng_now_ms();
		assert_true(ctng_clock_period_of(&net.clock, now, &q));
	}
	json_t *c0 = counts(0, q);
	assert_non_null(c0);
	json_int_t before = count_of(c0, "STH_FULL");
	json_decref(c0);
	char *next = sth_json(k1, "logger1", now, 6, 0x13);
	post_held(0, next);
	post_held(1, next);
	assert_int_equal(post(0, next, NULL), 200);
	assert_int_equal(post(1, next, NULL), 200);
	free(next);
	assert_true(all_counts(q, "STH_FULL", before + 1, 2));
	/* restarted, it catches up from its peers (GET /ctng/v1/objects) and still
	 * knows logger2 is convicted (its database) */
	pids[2] = start_gossiper(2);
	wait_up(2);
	bool caught_up = false;
	for (int k = 0; k < 600 && !caught_up; k++) {
		json_t *c3 = counts(2, q);
		caught_up = c3 && count_of(c3, "STH_FULL") == before + 1;
		json_decref(c3);
		if (!caught_up)
			sleep_ms(50);
	}
	assert_true(caught_up);
	json_t *j = counts(2, p);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "con_full_total")), 1);
	json_decref(j);
	for (int i = 0; i < NG; i++) {
		stop(i, &st);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	free(honest);
	free(split_a);
	free(split_b);
	ctng_sig_key_free(k1);
	ctng_sig_key_free(k2);
	ctng_network_free(&net);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", netdir);
	assert_int_equal(system(cmd), 0);
}

/* Whatever happened, no gossiper outlives the test. */
static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NG; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_gossipers, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
