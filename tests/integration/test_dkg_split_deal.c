/*
 * test_dkg_split_deal.c — red team: a malicious dealer against the DKG's
 * dissemination (docs/dkg.md §3 "an honest participant that holds a
 * message makes sure every other one can get it"). Three honest gossiper
 * daemons (real processes, loopback HTTP); gossiper4 is played by this test
 * with its real keys: it sends its (valid) deal to gossiper1 only, and just
 * before, announces that deal's hash to gossipers 2 and 3 itself, answering
 * their fetch with 404. Their fetch of that hash is then "in progress" when
 * gossiper1's genuine announcement comes, and was ignored: they never got
 * the deal, gossiper1 qualified gossiper4 and they did not, and the honest
 * gossipers ended with different group keys. They must agree.
 */
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
#include <jansson.h>

#include "ctng/config.h"
#include "ctng/dkg.h"
#include "ctng/net.h"
#include "testutil.h"

static char g_top[64], g_dir[128];
static ctng_network g_net;
static ctng_node_config g_cfg4;
static char g_session[65];
static pid_t g_pids[3];

/* ------------------------------------------------- gossiper4's server */

static void h_status(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200,
	                    json_pack("{s:s, s:s, s:s}", "id", "gossiper4", "session", g_session,
	                              "phase", "deal"));
}

static void h_get_message(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_error(req, 404, "no such message"); /* the poisoned fetch */
}

static void h_post(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "status", "new"));
}

static void *loop_main(void *arg)
{
	ctng_net_loop_run(arg, NULL);
	return NULL;
}

/* POST body to gossiper i+1 (path), as gossiper4; the HTTP status. */
static int post_as_4(int i, const char *path, const char *body)
{
	char id[32], req[1 << 17];
	snprintf(id, sizeof id, "gossiper%d", i + 1);
	const ctng_entity *g = ctng_network_entity(&g_net, id);
	int n = snprintf(req, sizeof req,
	                 "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-CTng-From: "
	                 "gossiper4\r\nContent-Type: application/json\r\nContent-Length: "
	                 "%zu\r\n\r\n%s",
	                 path, strlen(body), body);
	assert_true(n > 0 && (size_t)n < sizeof req);
	char *r = ctng_test_raw_http(g->port, req, (size_t)n, false, 5000);
	assert_non_null(r);
	int st = 0;
	sscanf(r, "HTTP/1.1 %d", &st);
	free(r);
	return st;
}

/* gossiper i+1's transcript result (group key hex, qualified count) once
 * it is written; false if not within the time. */
static bool result_of(int i, char gk[200], size_t *nq)
{
	char path[256];
	snprintf(path, sizeof path, "%s/gossiper%d/dkg-transcript.json", g_dir, i + 1);
	for (int k = 0; k < 400; k++) {
		json_t *j = json_load_file(path, 0, NULL);
		json_t *res = j ? json_object_get(j, "result") : NULL;
		if (j && !res) { /* failed */
			snprintf(gk, 200, "failed");
			*nq = 0;
			json_decref(j);
			return true;
		}
		if (res) {
			snprintf(gk, 200, "%s", json_string_value(json_object_get(res, "group_pk")));
			*nq = json_array_size(json_object_get(res, "qualified"));
			json_decref(j);
			return true;
		}
		json_decref(j);
		ctng_test_sleep_ms(50);
	}
	return false;
}

static void test_split_deal(void **state)
{
	(void)state;
	/* gossiper4's server: status, fetches (404), posts */
	ctng_err e = {0};
	ctng_net_loop *loop = ctng_net_loop_new(&e);
	assert_non_null(loop);
	ctng_net_server *srv = ctng_net_server_new(loop, 1 << 20, &e);
	assert_non_null(srv);
	const ctng_entity *me = ctng_network_entity(&g_net, "gossiper4");
	assert_int_equal(ctng_net_server_route(srv, "GET", "/ctng/v1/dkg/status", h_status, NULL, &e),
	                 0);
	assert_int_equal(
	    ctng_net_server_route(srv, "GET", "/ctng/v1/dkg/message", h_get_message, NULL, &e), 0);
	assert_int_equal(ctng_net_server_route(srv, "POST", "/ctng/v1/dkg/*", h_post, NULL, &e), 0);
	assert_int_equal(ctng_net_server_bind(srv, "127.0.0.1", me->port, NULL, &e), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, loop_main, loop), 0);
	/* its genuine deal, from its own state machine */
	ctng_dkg_config c = {.net = &g_net,
	                     .self_id = "gossiper4",
	                     .sign_key = g_cfg4.key,
	                     .dkg_sk = g_cfg4.dkg_sk};
	ctng_dkg_sm *sm = NULL;
	assert_int_equal(ctng_dkg_sm_new(&c, &sm, &e), 0);
	ctng_dkg_actions a = {0};
	assert_int_equal(ctng_dkg_sm_start(sm, ctng_now_ms(), &a, &e), 0);
	char *deal = NULL;
	for (size_t k = 0; k < a.n && !deal; k++)
		if (a.v[k].kind == CTNG_DKG_ACT_SEND && !a.v[k].to[0])
			deal = strdup(a.v[k].json);
	assert_non_null(deal);
	ctng_dkg_msg m;
	uint8_t h[32];
	char hx[65];
	assert_int_equal(ctng_dkg_msg_parse(deal, strlen(deal), &m, &e), 0);
	assert_int_equal(ctng_dkg_msg_hash(&m, h, &e), 0);
	assert_int_equal(m.type, CTNG_DKG_DEAL);
	ctng_dkg_msg_clear(&m);
	ctng_hex_encode(hx, h, 32);
	/* the honest gossipers run */
	for (int i = 0; i < 3; i++) {
		char id[32];
		snprintf(id, sizeof id, "gossiper%d", i + 1);
		g_pids[i] = ctng_test_spawn_node(g_dir, id, "info");
		assert_int_equal(
		    ctng_test_wait_port(ctng_network_entity(&g_net, id)->port, g_pids[i], 15000), 0);
	}
	/* the poison, then the deal to gossiper1 only */
	char notice[256];
	snprintf(notice, sizeof notice, "{\"session\":\"%s\",\"hash\":\"%s\"}", g_session, hx);
	for (int i = 1; i < 3; i++)
		assert_int_equal(post_as_4(i, "/ctng/v1/dkg/notice", notice), 200);
	ctng_test_sleep_ms(50);
	assert_int_equal(post_as_4(0, "/ctng/v1/dkg/message", deal), 200);
	/* gossiper4 sends nothing else. The honest three must agree. */
	char gk[3][200];
	size_t nq[3];
	for (int i = 0; i < 3; i++) {
		assert_true(result_of(i, gk[i], &nq[i]));
		fprintf(stderr, "gossiper%d: %zu qualified, group key %.16s...\n", i + 1, nq[i],
		        gk[i]);
	}
	for (int i = 1; i < 3; i++) {
		assert_string_equal(gk[i], gk[0]);
		assert_int_equal(nq[i], nq[0]);
	}
	assert_int_equal(nq[0], 4); /* the deal was valid: gossiper4 qualifies */
	for (int i = 0; i < 3; i++)
		ctng_test_stop(g_pids[i], 10000);
	ctng_net_loop_stop(loop);
	pthread_join(th, NULL);
	ctng_net_server_free(srv);
	ctng_net_loop_free(loop);
	ctng_dkg_actions_free(&a);
	ctng_dkg_sm_free(sm);
	free(deal);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_top, sizeof g_top, "/tmp/ctng-splitdeal-XXXXXX");
	assert_non_null(mkdtemp(g_top));
	snprintf(g_dir, sizeof g_dir, "%s/net", g_top);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.dkg = true;
	o.dkg_phase_ms = 2500;
	o.port_base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	ctng_err e = {0};
	if (ctng_init_network(g_dir, &o, &e))
		fail_msg("init: %s", e.msg);
	char path[256];
	snprintf(path, sizeof path, "%s/gossiper4/config.json", g_dir);
	if (ctng_node_config_load(path, &g_cfg4, &e))
		fail_msg("load: %s", e.msg);
	snprintf(path, sizeof path, "%s/network.json", g_dir);
	assert_int_equal(ctng_network_load(path, &g_net, &e), 0);
	ctng_dkg_ctx *ctx = NULL;
	assert_int_equal(ctng_dkg_ctx_new(&g_net, &ctx, &e), 0);
	ctng_hex_encode(g_session, ctng_dkg_ctx_session(ctx), 32);
	ctng_dkg_ctx_free(ctx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctng_node_config_free(&g_cfg4);
	ctng_network_free(&g_net);
	return ctng_test_rm_rf(g_top) == 0 ? 0 : -1;
}

int main(void)
{
	ctng_log_set_level(CTNG_LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_split_deal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
