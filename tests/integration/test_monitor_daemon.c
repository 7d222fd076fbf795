/*
 * test_monitor_daemon.c — a real `ctng monitor` process against real
 * `ctng logger` and `ctng gossiper` processes on loopback (network from
 * ctng_init_network, 2 s periods, threshold 2). monitor1 watches logger1,
 * logger2, ca1, ca3 (as does monitor3, also running); the CAs are not
 * started, so both monitors accuse them and the ACC_FULLs form. The
 * test polls GET /ctng/v1/update until an update holds the STH_FULLs of both
 * loggers (each followed by its STH) and the ACC_FULLs of both CAs; every
 * update it reads must parse strictly and verify against network.json. It
 * checks the HTTP errors (404 before publication, 400 for bad input and
 * forged objects), then stops the monitor with SIGTERM, restarts it, and
 * checks it serves the same bytes for the old update and publishes new ones.
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

#include "ctng/config.h"
#include "ctng/monitor.h"
#include "ctng/net.h"
#include "ctng/proto.h"
#include "ctng/wire.h"
#include "testutil.h"

/* monitor3 watches the same entities: an ACC_FULL needs threshold (2)
 * monitors that themselves failed to reach the CAs (docs/gossiper.md
 * §Accusations). */
enum { L1, L2, G1, G2, G3, G4, M1, M3, NPROC };
static const char *names[NPROC] = {"logger1",   "logger2",   "gossiper1", "gossiper2",
                                   "gossiper3", "gossiper4", "monitor1",  "monitor3"};
static char dir[64];
static pid_t pids[NPROC];
static ctng_network net;
static uint16_t mport;

/* Returns the HTTP status (0 on transport failure); *out malloc'd. */
static int http(const char *method, const char *path, const char *body, char **out, size_t *len)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)mport, path);
	int status = 0;
	uint8_t *o = NULL;
	size_t ol = 0;
	int rc = ctng_net_fetch_sync(url, method, body ? "application/json" : NULL, body,
	                             body ? strlen(body) : 0, 5000, &status, &o, &ol, NULL);
	if (out)
		*out = rc ? NULL : (char *)o;
	else
		free(o);
	if (len)
		*len = rc ? 0 : ol;
	return rc ? 0 : status;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ctng-mon-XXXXXX");
	assert_non_null(mkdtemp(dir));
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = 2000;
	o.port_base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	ctng_err e = {0};
	if (ctng_init_network(dir, &o, &e))
		fail_msg("init: %s", e.msg);
	char path[128];
	snprintf(path, sizeof path, "%s/network.json", dir);
	if (ctng_network_load(path, &net, &e))
		fail_msg("network: %s", e.msg);
	const ctng_entity *m = ctng_network_entity(&net, "monitor1");
	assert_non_null(m);
	mport = m->port;
	for (int i = 0; i < NPROC; i++)
		pids[i] = ctng_test_spawn_node(dir, names[i], "info");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NPROC; i++)
		ctng_test_stop(pids[i], 10000);
	ctng_network_free(&net);
	if (ctng_test_rm_rf(dir) != 0)
		return -1;
	return 0;
}

/* Parses and verifies an update text; returns bit flags of what it holds. */
enum { HAS_L1 = 1, HAS_L2 = 2, HAS_C1 = 4, HAS_C3 = 8 };
static int check_update(const char *txt, size_t len, uint64_t *period)
{
	ctng_client_update u = {0};
	ctng_err e = {0};
	if (ctng_client_update_parse(txt, len, &u, &e))
		fail_msg("update does not parse: %s", e.msg);
	if (ctng_client_update_verify(&u, &net, &e))
		fail_msg("update does not verify: %s", e.msg);
	assert_string_equal(u.monitor, "monitor1");
	int flags = 0;
	for (size_t i = 0; i < u.n_objects; i++) {
		const ctng_gossip_object *o = &u.objects[i];
		const char *ent = ctng_gossip_entity(o);
		bool with_init = i + 1 < u.n_objects && u.objects[i + 1].type == CTNG_STH;
		if (o->type == CTNG_STH_FULL && with_init && strcmp(ent, "logger1") == 0)
			flags |= HAS_L1;
		if (o->type == CTNG_STH_FULL && with_init && strcmp(ent, "logger2") == 0)
			flags |= HAS_L2;
		if (o->type == CTNG_ACC_FULL && strcmp(ent, "ca1") == 0)
			flags |= HAS_C1;
		if (o->type == CTNG_ACC_FULL && strcmp(ent, "ca3") == 0)
			flags |= HAS_C3;
		/* the convicted-entity logic has nothing to act on in this network */
		assert_int_not_equal(o->type, CTNG_CON_FULL);
	}
	if (period)
		*period = u.period;
	ctng_client_update_clear(&u);
	return flags;
}

static void test_monitor_end_to_end(void **state)
{
	(void)state;
	/* Wait until the monitor answers at all. */
	int st = 0;
	for (int k = 0; k < 400 && st == 0; k++) {
		st = http("GET", "/ctng/v1/update?period=999999", NULL, NULL, NULL);
		if (!st)
			ctng_test_sleep_ms(50);
	}
	if (st != 404)
		fail_msg("monitor1 not up or wrong status %d (see %s/monitor1.log)", st, dir);
	assert_int_equal(http("GET", "/ctng/v1/update?period=abc", NULL, NULL, NULL), 400);
	assert_int_equal(http("POST", "/ctng/v1/gossip", "{\"junk\":1}", NULL, NULL), 400);

	/* Poll the latest update until one holds everything (bounded: 20 periods). */
	int want = HAS_L1 | HAS_L2 | HAS_C1 | HAS_C3, got = 0, checked = 0;
	uint64_t last_p = UINT64_MAX, p = 0;
	char *good = NULL;
	size_t good_len = 0;
	for (int k = 0; k < 200 && got != want; k++) {
		char *txt = NULL;
		size_t len = 0;
		if (http("GET", "/ctng/v1/update", NULL, &txt, &len) == 200) {
			int f = check_update(txt, len, &p);
			if (p != last_p) {
				checked++;
				last_p = p;
			}
			if (f == want) {
				got = f;
				good = txt;
				good_len = len;
				continue;
			}
		}
		free(txt);
		ctng_test_sleep_ms(200);
	}
	if (got != want)
		fail_msg("no complete update after %d updates (flags %d; logs in %s)", checked, got,
		         dir);
	const uint64_t P = p;

	/* The file copy is byte-identical. */
	char path[160];
	snprintf(path, sizeof path, "%s/monitor1/ClientUpdate_%llu.json", dir,
	         (unsigned long long)P);
	uint8_t *file = NULL;
	size_t flen = 0;
	assert_int_equal(ctng_read_file(path, 64u << 20, &file, &flen, NULL), 0);
	assert_int_equal(flen, good_len);
	assert_memory_equal(file, good, flen);
	free(file);

	/* A genuine FULL from the update is a duplicate; a forged one is refused. */
	ctng_client_update u = {0};
	assert_int_equal(ctng_client_update_parse(good, good_len, &u, NULL), 0);
	char *obj = NULL;
	assert_int_equal(ctng_gossip_encode(&u.objects[0], &obj, NULL, NULL), 0);
	char *resp = NULL;
	int s1 = http("POST", "/ctng/v1/gossip", obj, &resp, NULL);
	/* the FULL may be older than the monitor's window by now: then 400 */
	assert_true(s1 == 200 || s1 == 400);
	if (s1 == 200)
		assert_non_null(strstr(resp, "duplicate"));
	free(resp);
	free(obj);
	/* the same FULL in the binary form (docs/protocol.md §11): the same
	 * answer; a binary body that is not one is 400 naming the form */
	ctng_buf wb = {0};
	assert_int_equal(ctng_wire_encode(&net, &u.objects[0], &wb, NULL), 0);
	int status = 0;
	uint8_t *ans = NULL;
	size_t al = 0;
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/ctng/v1/gossip", (unsigned)mport);
	assert_int_equal(ctng_net_fetch_sync(url, "POST", CTNG_WIRE_CONTENT_TYPE, wb.data, wb.len,
	                                     5000, &status, &ans, &al, NULL),
	                 0);
	assert_true(status == 200 || status == 400); /* (the window, as above) */
	if (status == 200)
		assert_non_null(memmem(ans, al, "duplicate", 9));
	free(ans);
	assert_int_equal(ctng_net_fetch_sync(url, "POST", CTNG_WIRE_CONTENT_TYPE, wb.data,
	                                     wb.len - 1, 5000, &status, &ans, &al, NULL),
	                 0);
	assert_int_equal(status, 400);
	assert_non_null(memmem(ans, al, "wire: ", 6));
	free(ans);
	ctng_buf_free(&wb);
	/* forged: another FULL's signature */
	size_t acc = 0;
	while (acc < u.n_objects && u.objects[acc].type != CTNG_ACC_FULL)
		acc++;
	assert_true(acc < u.n_objects);
	assert_int_equal(
	    ctng_gossip_set(&u.objects[0].signature[0], u.objects[acc].signature[0], NULL), 0);
	assert_int_equal(ctng_gossip_encode(&u.objects[0], &obj, NULL, NULL), 0);
	assert_int_equal(http("POST", "/ctng/v1/gossip", obj, NULL, NULL), 400);
	free(obj);
	ctng_client_update_clear(&u);

	/* Restart: clean exit, same bytes for P, and new updates afterwards. */
	assert_int_equal(ctng_test_stop(pids[M1], 10000), 0);
	pids[M1] = ctng_test_spawn_node(dir, names[M1], "info");
	char *again = NULL;
	size_t alen = 0;
	char q[64];
	snprintf(q, sizeof q, "/ctng/v1/update?period=%llu", (unsigned long long)P);
	st = 0;
	for (int k = 0; k < 400 && st != 200; k++) {
		free(again);
		again = NULL;
		st = http("GET", q, NULL, &again, &alen);
		if (st != 200)
			ctng_test_sleep_ms(50);
	}
	assert_int_equal(st, 200);
	assert_int_equal(alen, good_len);
	assert_memory_equal(again, good, alen);
	free(again);
	free(good);
	uint64_t np = P;
	for (int k = 0; k < 100 && np <= P; k++) {
		char *txt = NULL;
		size_t len = 0;
		if (http("GET", "/ctng/v1/update", NULL, &txt, &len) == 200)
			check_update(txt, len, &np);
		free(txt);
		if (np <= P)
			ctng_test_sleep_ms(200);
	}
	if (np <= P)
		fail_msg("restarted monitor published nothing after period %llu",
		         (unsigned long long)P);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_monitor_end_to_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
