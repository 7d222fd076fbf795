/*
 * test_tls_daemons.c — HTTPS between real daemons (issue 14 item 1): a
 * network made with ctng_init_network(.tls = true) runs logger1, ca1,
 * monitor1 and gossiper1. logger1's certificate is swapped under it
 * (SIGHUP reloads it) for one from another CA, one for another host name
 * and an expired one: each time monitor1, which pulls logger1's STH every
 * period over HTTPS, refuses it with a log line naming the reason, and
 * keeps running (it still answers HTTPS). With the right certificate back,
 * logger1's STHs flow to gossiper1 again. logger1 itself gets garbage
 * instead of a ClientHello and a handshake that stalls: it logs and counts
 * them, closes the stalled one at its head deadline, and keeps serving.
 * Waits are bounded polls of log files and endpoints; no timing is
 * asserted.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/net.h"
#include "testutil.h"

static char netdir[] = "/tmp/ctng-it-tls-XXXXXX";
static char dir[200];
static ctng_network net;
static pid_t logger, ca, monitor, gossiper;
static char *ca_pem, *ca_key;

static char *slurp(const char *path)
{
	uint8_t *d = NULL;
	size_t n = 0;
	if (ctng_read_file(path, 1 << 24, &d, &n, NULL))
		return strdup("");
	return (char *)d;
}

/* Puts a certificate (signed by issuer, naming names, valid nb..na) in
 * place of logger1's and tells it to reload. */
static void swap_logger_cert(const char *issuer_pem, const char *issuer_key,
                             const char *const *names, size_t n, int64_t nb, int64_t na)
{
	ctng_net_tls_cert_opts o = {
	    .cn = "logger1", .names = names, .n_names = n, .not_before = nb, .not_after = na};
	char *c = NULL, *k = NULL;
	ctng_err err = {0};
	if (ctng_net_tls_make_cert(issuer_pem, issuer_key, &o, &c, &k, &err))
		fail_msg("make_cert: %s", err.msg);
	char path[300];
	snprintf(path, sizeof path, "%s/logger1/tls/cert.pem", dir);
	ctng_test_write_file(path, c, issuer_pem);
	snprintf(path, sizeof path, "%s/logger1/tls/key.pem", dir);
	ctng_test_write_file(path, k, NULL);
	free(c);
	free(k);
	if (logger > 0)
		assert_int_equal(kill(logger, SIGHUP), 0);
}

/* Waits (bounded) until the log of `id` holds a line with all of a, b. */
static void wait_log(const char *id, const char *a, const char *b)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s.log", dir, id);
	for (int i = 0; i < 300; i++) {
		char *t = slurp(path);
		for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"))
			if (strstr(line, a) && (!b || strstr(line, b))) {
				free(t);
				return;
			}
		free(t);
		ctng_test_sleep_ms(100);
	}
	fail_msg("no line with \"%s\" %s in %s", a, b ? b : "", path);
}

static int https_get(uint16_t port, const char *path, char **out)
{
	char url[256];
	snprintf(url, sizeof url, "https://127.0.0.1:%u%s", port, path);
	int st = 0;
	uint8_t *o = NULL;
	ctng_err err = {0};
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 5000, &st, &o, NULL, &err))
		return 0;
	if (out)
		*out = (char *)o;
	else
		free(o);
	return st;
}

static uint16_t port_of(const char *id)
{
	const ctng_entity *e = ctng_network_entity(&net, id);
	assert_non_null(e);
	assert_true(e->tls);
	return e->port;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(netdir))
		return -1;
	snprintf(dir, sizeof dir, "%s/net", netdir);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = 2000;
	o.loggers = 1;
	o.cas = 1;
	o.monitors = 1;
	o.threshold = 1;
	o.tls = true;
	o.genesis_ms = ctng_now_ms() / 1000 * 1000;
	o.port_base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	ctng_err err = {0};
	if (ctng_init_network(dir, &o, &err))
		fail_msg("init: %s", err.msg);
	char path[300];
	snprintf(path, sizeof path, "%s/network.json", dir);
	assert_int_equal(ctng_network_load(path, &net, NULL), 0);
	snprintf(path, sizeof path, "%s/tls/ca.pem", dir);
	ca_pem = slurp(path);
	assert_int_equal(ctng_net_set_default_tls_ca(path, NULL), 0);
	snprintf(path, sizeof path, "%s/tls/ca-key.pem", dir);
	ca_key = slurp(path);
	/* logger1 cuts unfinished heads (and handshakes) after 1 s */
	snprintf(path, sizeof path, "%s/logger1/config.json", dir);
	json_t *j = json_load_file(path, 0, NULL);
	json_object_set_new(j, "limits", json_pack("{s:i}", "header_timeout_ms", 1000));
	assert_int_equal(json_dump_file(j, path, JSON_INDENT(2)), 0);
	json_decref(j);
	/* logger1 starts with a certificate from another CA */
	int64_t now = (int64_t)time(NULL);
	char *oca = NULL, *ocak = NULL;
	assert_int_equal(
	    ctng_net_tls_make_ca("another CA", now - 3600, now + 86400, &oca, &ocak, NULL), 0);
	const char *good[] = {"127.0.0.1", "localhost"};
	swap_logger_cert(oca, ocak, good, 2, now - 3600, now + 86400);
	free(oca);
	free(ocak);
	logger = ctng_test_spawn_node(dir, "logger1", "info");
	ca = ctng_test_spawn_node(dir, "ca1", "info");
	gossiper = ctng_test_spawn_node(dir, "gossiper1", "info");
	monitor = ctng_test_spawn_node(dir, "monitor1", "info");
	assert_int_equal(ctng_test_wait_port(port_of("logger1"), logger, 20000), 0);
	assert_int_equal(ctng_test_wait_port(port_of("monitor1"), monitor, 20000), 0);
	assert_int_equal(ctng_test_wait_port(port_of("gossiper1"), gossiper, 20000), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ctng_test_stop(monitor, 5000);
	ctng_test_stop(gossiper, 5000);
	ctng_test_stop(ca, 5000);
	ctng_test_stop(logger, 5000);
	ctng_network_free(&net);
	free(ca_pem);
	free(ca_key);
	ctng_test_rm_rf(netdir);
	return 0;
}

/* The monitor is alive and answers HTTPS. */
static void monitor_alive(void)
{
	int st = https_get(port_of("monitor1"), "/metrics", NULL);
	assert_int_equal(st, 200);
	assert_true(kill(monitor, 0) == 0);
}

static void test_refused_certificates(void **state)
{
	(void)state;
	char lp[32];
	snprintf(lp, sizeof lp, "peer=127.0.0.1:%u", port_of("logger1"));
	/* a certificate from another CA */
	wait_log(
	    "monitor1", lp,
	    "reason=\"certificate verify failed: self-signed certificate in certificate chain\"");
	monitor_alive();
	/* right CA, wrong name */
	int64_t now = (int64_t)time(NULL);
	const char *wrong[] = {"logger1.other.example"};
	swap_logger_cert(ca_pem, ca_key, wrong, 1, now - 3600, now + 86400);
	wait_log("logger1", "TLS certificate reloaded", NULL);
	wait_log("monitor1", lp, "reason=\"certificate verify failed: IP address mismatch\"");
	monitor_alive();
	/* right CA and name, expired */
	const char *good[] = {"127.0.0.1", "localhost"};
	swap_logger_cert(ca_pem, ca_key, good, 2, now - 7200, now - 3600);
	wait_log("monitor1", lp, "reason=\"certificate verify failed: certificate has expired\"");
	monitor_alive();
	/* the right certificate: STHs of logger1 reach gossiper1 again */
	swap_logger_cert(ca_pem, ca_key, good, 2, now - 3600, now + 86400);
	uint64_t p0 = 0;
	assert_true(ctng_clock_period_of(&net.clock, ctng_now_ms(), &p0));
	bool flowing = false;
	for (int i = 0; i < 100 && !flowing; i++) {
		ctng_test_sleep_ms(100);
		uint64_t p = 0;
		ctng_clock_period_of(&net.clock, ctng_now_ms(), &p);
		char path[64], *out = NULL;
		snprintf(path, sizeof path, "/ctng/v1/counts?period=%llu", (unsigned long long)p);
		if (p > p0 && https_get(port_of("gossiper1"), path, &out) == 200) {
			json_t *j = json_loads(out, 0, NULL);
			json_int_t sth = json_integer_value(
			    json_object_get(json_object_get(j, "counts"), "STH"));
			flowing = sth >= 1;
			json_decref(j);
		}
		free(out);
	}
	assert_true(flowing);
	assert_true(kill(logger, 0) == 0 && kill(monitor, 0) == 0);
}

/* A relying party syncs from the https monitor with the network's CA
 * (--tls-ca), and is refused without it (the test CA is no system root). */
static void test_client_sync_https(void **state)
{
	(void)state;
	char url[64], state_db[300], netjson[300], ca[300], out[4096], err[4096];
	snprintf(url, sizeof url, "https://127.0.0.1:%u", port_of("monitor1"));
	snprintf(state_db, sizeof state_db, "%s/rp.db", netdir);
	snprintf(netjson, sizeof netjson, "%s/network.json", dir);
	snprintf(ca, sizeof ca, "%s/tls/ca.pem", dir);
	const char *bad[] = {CTNG_BIN,  "client", "sync",      "--monitor", url,
	                     "--state", state_db, "--network", netjson,     NULL};
	int st = ctng_test_run(bad, out, sizeof out, NULL, err, sizeof err, 30000);
	if (st == 0 || !strstr(err, "certificate verify failed"))
		fail_msg("sync without the CA: status %d, stderr %s", st, err);
	const char *good[] = {CTNG_BIN, "client",    "sync",  "--monitor", url, "--state",
	                      state_db, "--network", netjson, "--tls-ca",  ca,  NULL};
	st = ctng_test_run(good, out, sizeof out, NULL, err, sizeof err, 30000);
	if (st != 0)
		fail_msg("sync with --tls-ca: status %d, stderr %s", st, err);
}

static void test_garbage_and_stalls(void **state)
{
	(void)state;
	uint16_t lport = port_of("logger1");
	char junk[1024];
	memset(junk, 0x16, sizeof junk); /* looks like a handshake record, is not */
	free(ctng_test_raw_http(lport, junk, sizeof junk, true, 5000));
	free(ctng_test_raw_http(lport, "GET / HTTP/1.1\r\n\r\n", 18, true, 5000));
	int stall = ctng_test_connect(lport, 10000);
	assert_true(stall >= 0);
	assert_int_equal(send(stall, "\x16\x03\x01\x01\x00", 5, 0), 5);
	/* the loop is not blocked meanwhile */
	assert_int_equal(https_get(lport, "/ct/v1/get-sth", NULL), 200);
	size_t n = 1;
	free(ctng_test_recv_all(stall, &n)); /* closed at the 1 s head deadline */
	assert_int_equal(n, 0);
	close(stall);
	wait_log("logger1", "net: TLS handshake failed", NULL);
	char *m = NULL;
	assert_int_equal(https_get(lport, "/metrics", &m), 200);
	const char *c = strstr(m, "\nctng_http_tls_handshake_failures_total ");
	assert_non_null(c);
	assert_true(strtod(c + 40, NULL) >= 3);
	free(m);
	assert_true(kill(logger, 0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_certificates),
	    cmocka_unit_test(test_client_sync_https),
	    cmocka_unit_test(test_garbage_and_stalls),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
