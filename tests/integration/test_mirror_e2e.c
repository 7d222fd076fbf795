/*
 * test_mirror_e2e.c — no attestation without the data (issue 11 item 2),
 * end to end with real daemons: one logger, one CA, two monitors and two
 * gossipers (threshold 2, 2 s periods); the logger signs STHs over every
 * entry but refuses to serve entry 1 (the `hide_entry` misbehaviour).
 * Certificate A (entry 0) is in a tree both monitors could mirror: it is
 * attested and valid. Certificate B (entry 1) is only in trees whose
 * entries nobody could obtain: no STH_FULL, and the relying party refuses
 * it (NO_VALID_LOGGER), although its inclusion proof and the logger's
 * signature are perfect. Along the way: both monitors' mirrors stop at
 * entry 1 (GET /ctng/v1/mirror), the logger is accused ("data not served"),
 * and the monitors serve the CA's verified CRV (GET /ctng/v1/crv).
 */
#include <jansson.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/net.h"
#include "testutil.h"

#define PERIOD_MS 2000

enum { L1, C1, M1, M2, G1, G2, NPROC };
static const char *names[NPROC] = {"logger1",  "ca1",       "monitor1",
                                   "monitor2", "gossiper1", "gossiper2"};
static char dir[64], netp[128], state[128], keyp[128], url_ca[64], url_m1[64], url_m2[64];
static pid_t pids[NPROC];
static ctng_network net;
static char out[16384], errout[16384];
static ctng_err err;

#define RUN(...)                                                                                   \
	ctng_test_run((const char *const[]){CTNG_BIN, __VA_ARGS__, NULL}, out, sizeof(out), NULL,  \
	              errout, sizeof(errout), 0)

static void url_of(char *buf, size_t n, const char *id)
{
	const ctng_entity *e = ctng_network_entity(&net, id);
	assert_non_null(e);
	snprintf(buf, n, "http://127.0.0.1:%u", e->port);
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/ctng-mirror-e2e-XXXXXX");
	assert_non_null(mkdtemp(dir));
	static const uint16_t offsets[] = {0, 100, 200, 201, 300, 301};
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = PERIOD_MS;
	o.loggers = 1;
	o.cas = 1;
	o.monitors = 2;
	o.threshold = 2;
	o.port_base = ctng_test_free_port_base(offsets, 6);
	if (ctng_init_network(dir, &o, &err))
		fail_msg("init: %s", err.msg);
	snprintf(netp, sizeof netp, "%s/network.json", dir);
	snprintf(state, sizeof state, "%s/client.db", dir);
	snprintf(keyp, sizeof keyp, "%s/site.key", dir);
	if (ctng_network_load(netp, &net, &err))
		fail_msg("network: %s", err.msg);
	ctng_misbehaviour m = {.present = true, .hide_entry = true, .hidden_index = 1};
	char cp[128];
	snprintf(cp, sizeof cp, "%s/logger1/config.json", dir);
	if (ctng_node_config_set_misbehaviour(cp, &m, &err))
		fail_msg("misbehaviour: %s", err.msg);
	url_of(url_ca, sizeof url_ca, "ca1");
	url_of(url_m1, sizeof url_m1, "monitor1");
	url_of(url_m2, sizeof url_m2, "monitor2");
	ctng_sig_key *k = NULL;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &k, &err), 0);
	assert_int_equal(ctng_sig_save_private_file(k, keyp, 0600, &err), 0);
	ctng_sig_key_free(k);
	for (int i = 0; i < NPROC; i++)
		pids[i] = ctng_test_spawn_node(dir, names[i], "info");
	for (int i = 0; i < NPROC; i++) {
		const ctng_entity *e = ctng_network_entity(&net, names[i]);
		if (ctng_test_wait_port(e->port, -1, 20000) != 0)
			fail_msg("%s does not listen (see %s/%s.log)", names[i], dir, names[i]);
	}
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	for (int i = 0; i < NPROC; i++)
		ctng_test_stop(pids[i], 5000);
	ctng_network_free(&net);
	if (ctng_test_rm_rf(dir) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return 0;
}

static uint64_t now_period(void)
{
	uint64_t p = 0;
	ctng_clock_period_of(&net.clock, ctng_now_ms(), &p);
	return p;
}

/* The period of the (only) logger proof in a certificate file. */
static uint64_t proof_period(const char *path)
{
	struct x509_st *x = NULL;
	ctng_cert_proofs ps = {0};
	assert_int_equal(ctng_cert_load_file(path, &x, &err), 0);
	assert_int_equal(ctng_cert_get_proofs(x, &ps, &err), 0);
	assert_int_equal(ps.n, 1);
	ctng_sth h;
	ctng_logger_proof_sth(&ps.proofs[0], &h);
	uint64_t p = 0;
	assert_true(ctng_clock_period_of(&net.clock, h.timestamp_ms, &p));
	ctng_cert_proofs_clear(&ps);
	X509_free(x);
	return p;
}

/* Entries monitor `url` holds of logger1. */
static uint64_t mirrored(const char *url)
{
	char u[128];
	snprintf(u, sizeof u, "%s/ctng/v1/mirror", url);
	int status = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	if (ctng_net_fetch_sync(u, "GET", NULL, NULL, 0, 3000, &status, &body, &len, NULL) ||
	    status != 200) {
		free(body);
		return UINT64_MAX;
	}
	json_t *j = json_loadb((const char *)body, len, 0, NULL);
	free(body);
	uint64_t n = (uint64_t)json_integer_value(
	    json_object_get(json_array_get(json_object_get(j, "loggers"), 0), "size"));
	json_decref(j);
	return n;
}

/* GET url, parse JSON (NULL unless 200). */
static json_t *get_json(const char *url)
{
	int status = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	json_t *j = NULL;
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 3000, &status, &body, &len, NULL) == 0 &&
	    status == 200)
		j = json_loadb((const char *)body, len, 0, NULL);
	free(body);
	return j;
}

static void request(const char *name, const char *path)
{
	int rc = RUN("cert", "request", "--ca", url_ca, "--name", name, "--key", keyp, "--out",
	             path, "--timeout", "60");
	if (rc != 0)
		fail_msg("cert request %s: %d %s", name, rc, errout);
}

static void test_hidden_entry_not_accepted(void **st)
{
	(void)st;
	char a[128], b[128];
	snprintf(a, sizeof a, "%s/a.pem", dir);
	snprintf(b, sizeof b, "%s/b.pem", dir);
	request("a.example.com", a); /* entry 0, served */
	request("b.example.com", b); /* entry 1, hidden */
	uint64_t pa = proof_period(a), pb = proof_period(b);
	assert_true(pb > pa);
	/* Wait for the update of pb (its update_offset) and one more period. */
	while (now_period() <= pb + 1)
		ctng_test_sleep_ms(200);
	assert_int_equal(
	    RUN("client", "sync", "--monitor", url_m1, "--state", state, "--network", netp), 0);
	assert_int_equal(RUN("client", "verify", "--state", state, a), 0);
	assert_non_null(strstr(out, "valid"));
	/* B's proof and the logger's signature are fine, but no monitor could
	 * obtain entry 1: its STH was never attested. */
	assert_int_equal(RUN("client", "verify", "--state", state, b), 1);
	assert_non_null(strstr(errout, "NO_VALID_LOGGER"));
	/* The mirrors hold entry 0 and nothing after it, and the logger was
	 * accused for withholding it. */
	assert_int_equal(mirrored(url_m1), 1);
	assert_int_equal(mirrored(url_m2), 1);
	/* Item 6: the monitors' verified CRV of ca1 is the CA's own, for the
	 * same period (ctng client sync uses it to leave STALE). */
	char u[256];
	snprintf(u, sizeof u, "%s/ctng/v1/crv?ca=ca1", url_m2);
	json_t *mc = get_json(u);
	assert_non_null(mc);
	snprintf(u, sizeof u, "%s/ctng/v1/crv?period=%s", url_ca,
	         json_string_value(json_object_get(mc, "period")));
	json_t *cc = get_json(u);
	assert_non_null(cc);
	assert_string_equal(json_string_value(json_object_get(mc, "crv")),
	                    json_string_value(json_object_get(cc, "crv")));
	assert_int_equal(strlen(json_string_value(json_object_get(mc, "hash"))), 64);
	json_decref(mc);
	json_decref(cc);
	snprintf(u, sizeof u, "%s/ctng/v1/crv?ca=nobody", url_m1);
	assert_null(get_json(u));
	char log[160], cmd[400];
	snprintf(log, sizeof log, "%s/monitor1.log", dir);
	snprintf(cmd, sizeof cmd, "grep -q 'data not served' '%s'", log);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hidden_entry_not_accepted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
