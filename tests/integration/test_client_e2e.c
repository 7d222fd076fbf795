/*
 * test_client_e2e.c — the relying party against a real network of daemons
 * (issue 7 item 5): ctng_init_network (2 loggers, 2 CAs, 2 monitors, 2
 * gossipers, threshold 2, 3 s periods), every entity its own `ctng <role>`
 * process, logger2 and ca2 showing a split view to monitor2 (the split-logger
 * and split-ca misbehaviours). Certificates come from the CA daemons through
 * `ctng cert request`; the client syncs from monitor1 with `ctng client
 * sync` and decides with `ctng client verify` / `ctng client tls` (against a
 * real `openssl s_server`):
 *   - a certificate of ca1 validates (through logger1);
 *   - after `ctng cert revoke` and the next periods it is REVOKED, and the
 *     TLS handshake is refused;
 *   - a certificate of ca2 is ISSUER_CONVICTED once ca2's CON_FULL arrives;
 *   - the ca1 certificate reduced to its logger2 proof (re-signed by ca1:
 *     what ca1 would issue if logger1 had been down) is NO_VALID_LOGGER;
 *   - tampered proofs/STHs are NO_VALID_LOGGER, a tampered signature CHAIN;
 *   - a CTng extension naming another RID than the logged one is RID_MISMATCH.
 * Waits are bounded polls over periods; no timing is asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/cert.h"
#include "ctng/client.h"
#include "ctng/config.h"
#include "testutil.h"

#define PERIOD_MS 3000

enum { L1, L2, C1, C2, M1, M2, G1, G2, NPROC };
static const char *names[NPROC] = {"logger1",  "logger2",  "ca1",       "ca2",
                                   "monitor1", "monitor2", "gossiper1", "gossiper2"};
static char dir[64];
static pid_t pids[NPROC];
static ctng_network net;
static char out[16384], errout[16384];
static ctng_err err;

#define OK(x)                                                                                      \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

/* Runs the ctng binary with the arguments; stdout/stderr into out/errout. */
#define RUN(...)                                                                                   \
	ctng_test_run((const char *const[]){CTNG_BIN, __VA_ARGS__, NULL}, out, sizeof(out), NULL,  \
	              errout, sizeof(errout), 0)

static char url_ca1[64], url_ca2[64], url_m1[64], netp[128], state[128], keyp[128];

static void url_of(char *buf, size_t n, const char *id)
{
	const ctng_entity *e = ctng_network_entity(&net, id);
	assert_non_null(e);
	snprintf(buf, n, "http://127.0.0.1:%u", e->port);
}

/* A port base (loggers +0.., CAs +100.., monitors +200.., gossipers +300..)
 * whose eight ports are free right now (other tests run in parallel). */
static uint16_t pick_port_base(void)
{
	static const uint16_t offsets[] = {0, 1, 100, 101, 200, 201, 300, 301};
	return ctng_test_free_port_base(offsets, sizeof(offsets) / sizeof(offsets[0]));
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/ctng-e2e-XXXXXX");
	assert_non_null(mkdtemp(dir));
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = PERIOD_MS;
	o.loggers = 2;
	o.cas = 2;
	o.monitors = 2;
	o.threshold = 2;
	o.port_base = pick_port_base();
	if (ctng_init_network(dir, &o, &err))
		fail_msg("init: %s", err.msg);
	snprintf(netp, sizeof netp, "%s/network.json", dir);
	snprintf(state, sizeof state, "%s/client.db", dir);
	snprintf(keyp, sizeof keyp, "%s/site.key", dir);
	OK(ctng_network_load(netp, &net, &err));
	/* split views to monitor2 */
	char *targets[] = {"monitor2"};
	ctng_misbehaviour m = {
	    .present = true, .split_view = true, .split_targets = targets, .n_split_targets = 1};
	char cp[128];
	snprintf(cp, sizeof cp, "%s/logger2/config.json", dir);
	OK(ctng_node_config_set_misbehaviour(cp, &m, &err));
	snprintf(cp, sizeof cp, "%s/ca2/config.json", dir);
	OK(ctng_node_config_set_misbehaviour(cp, &m, &err));
	url_of(url_ca1, sizeof url_ca1, "ca1");
	url_of(url_ca2, sizeof url_ca2, "ca2");
	url_of(url_m1, sizeof url_m1, "monitor1");
	ctng_sig_key *k = NULL;
	OK(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &k, &err));
	OK(ctng_sig_save_private_file(k, keyp, 0600, &err));
	ctng_sig_key_free(k);
	for (int i = 0; i < NPROC; i++)
		pids[i] = ctng_test_spawn_node(dir, names[i], "info");
	/* wait until every daemon listens */
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

/* Syncs (must succeed: monitor1 is honest) and verifies `cert` until the
 * verdict contains `want` (stdout for valid, stderr otherwise) or `periods`
 * periods passed. Returns the last exit status of verify. */
static int sync_until(const char *cert, int want_status, const char *want, int periods)
{
	int vs = -1;
	uint64_t deadline = ctng_mono_ms() + (uint64_t)periods * PERIOD_MS;
	for (;;) {
		int ss =
		    RUN("client", "sync", "--monitor", url_m1, "--state", state, "--network", netp);
		if (ss != 0)
			fail_msg("sync failed (%d): %s", ss, errout);
		vs = RUN("client", "verify", "--state", state, cert);
		const char *text = vs == 0 ? out : errout;
		if (vs == want_status && strstr(text, want))
			return vs;
		if (ctng_mono_ms() > deadline)
			fail_msg("%s: wanted %d/%s, last %d: %s", cert, want_status, want, vs,
			         text);
		ctng_test_sleep_ms(PERIOD_MS / 3);
	}
}

/* A copy of x whose CTng extension holds ps, re-signed with key. */
static X509 *resign(X509 *x, const ctng_cert_proofs *ps, EVP_PKEY *key)
{
	X509 *y = X509_dup(x);
	ASN1_OBJECT *oid = OBJ_txt2obj(CTNG_CERT_EXT_OID, 1);
	int idx = X509_get_ext_by_OBJ(y, oid, -1);
	ASN1_OBJECT_free(oid);
	assert_true(idx >= 0);
	uint8_t *der = NULL;
	size_t len = 0;
	OK(ctng_cert_proofs_encode(ps, &der, &len, &err));
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
	assert_int_equal(X509_EXTENSION_set_data(X509_get_ext(y, idx), os), 1);
	ASN1_OCTET_STRING_free(os);
	free(der);
	const EVP_MD *md = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	assert_true(X509_sign(y, key, md) > 0);
	return y;
}

static void save(X509 *x, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	OK(ctng_cert_save_file(x, path, 0644, &err));
}

static void test_e2e(void **st)
{
	(void)st;
	char a_pem[128], b_pem[128];
	snprintf(a_pem, sizeof a_pem, "%s/a.pem", dir);
	snprintf(b_pem, sizeof b_pem, "%s/b.pem", dir);
	/* issuance through the CA daemons */
	if (RUN("cert", "request", "--ca", url_ca1, "--name", "a.example.com", "--key", keyp,
	        "--out", a_pem, "--timeout", "90") != 0)
		fail_msg("cert request ca1: %s %s", out, errout);
	if (RUN("cert", "request", "--ca", url_ca2, "--name", "b.example.com", "--key", keyp,
	        "--out", b_pem, "--timeout", "90") != 0)
		fail_msg("cert request ca2: %s %s", out, errout);

	/* valid once the update of its STH period is synced */
	sync_until(a_pem, 0, "valid", 12);

	/* split-ca: ca2 convicted */
	sync_until(b_pem, 1, "ISSUER_CONVICTED", 12);

	/* split-logger: logger2 convicted; the certificate with only its proof */
	X509 *a = NULL;
	OK(ctng_cert_load_file(a_pem, &a, &err));
	ctng_cert_proofs ps;
	OK(ctng_cert_get_proofs(a, &ps, &err));
	assert_int_equal(ps.n, 2);
	size_t i1 = strcmp(ps.proofs[0].logger_id, "logger1") == 0 ? 0 : 1, i2 = 1 - i1;
	assert_string_equal(ps.proofs[i2].logger_id, "logger2");
	char cfgp[128];
	snprintf(cfgp, sizeof cfgp, "%s/ca1/config.json", dir);
	ctng_node_config ca1 = {0};
	OK(ctng_node_config_load(cfgp, &ca1, &err));
	EVP_PKEY *cakey = ctng_sig_key_evp(ca1.key);
	char c_pem[128], d_pem[128], e_pem[128], f_pem[128], g_pem[128];
	{
		ctng_cert_proofs only2 = {.rid = ps.rid};
		OK(ctng_cert_proofs_add(&only2, &ps.proofs[i2], &err));
		X509 *c = resign(a, &only2, cakey);
		save(c, "c.pem", c_pem, sizeof c_pem);
		X509_free(c);
		ctng_cert_proofs_clear(&only2);
	}
	/* wait for logger2's conviction in the state, then the verdict */
	for (uint64_t dl = ctng_mono_ms() + 12 * PERIOD_MS;;) {
		assert_int_equal(RUN("client", "sync", "--monitor", url_m1, "--state", state), 0);
		ctng_client *c = NULL;
		OK(ctng_client_open(state, NULL, 0, &c, &err));
		bool conv = ctng_client_convicted(c, "logger2");
		ctng_client_close(c);
		if (conv)
			break;
		if (ctng_mono_ms() > dl)
			fail_msg("logger2 never convicted in the client state");
		ctng_test_sleep_ms(PERIOD_MS / 3);
	}
	assert_int_equal(RUN("client", "verify", "--state", state, c_pem), 1);
	assert_non_null(strstr(errout, "NO_VALID_LOGGER"));
	assert_non_null(strstr(errout, "convicted"));
	/* the two-logger certificate is still valid through logger1 */
	assert_int_equal(RUN("client", "verify", "--state", state, a_pem), 0);

	/* tampered proof: logger1's audit path (logger2's proof kept) */
	{
		ctng_cert_proofs t = {0};
		OK(ctng_cert_get_proofs(a, &t, &err));
		if (t.proofs[i1].path_len)
			t.proofs[i1].audit_path[0][0] ^= 1;
		else
			t.proofs[i1].leaf_index ^= 1, t.proofs[i1].tree_size += 2;
		X509 *d = resign(a, &t, cakey);
		save(d, "d.pem", d_pem, sizeof d_pem);
		X509_free(d);
		ctng_cert_proofs_clear(&t);
		assert_int_equal(RUN("client", "verify", "--state", state, d_pem), 1);
		assert_non_null(strstr(errout, "NO_VALID_LOGGER"));
	}
	/* tampered STH: logger1's root hash */
	{
		ctng_cert_proofs t = {0};
		OK(ctng_cert_get_proofs(a, &t, &err));
		t.proofs[i1].root[5] ^= 0x80;
		X509 *e = resign(a, &t, cakey);
		save(e, "e.pem", e_pem, sizeof e_pem);
		X509_free(e);
		ctng_cert_proofs_clear(&t);
		assert_int_equal(RUN("client", "verify", "--state", state, e_pem), 1);
		assert_non_null(strstr(errout, "NO_VALID_LOGGER"));
		assert_non_null(strstr(errout, "STH_FULL"));
	}
	/* tampered without the CA key: CHAIN */
	{
		uint8_t *der = NULL;
		size_t len = 0;
		OK(ctng_cert_to_der(a, &der, &len, &err));
		der[len - 10] ^= 1; /* inside the signature */
		snprintf(f_pem, sizeof f_pem, "%s/f.der", dir);
		FILE *fp = fopen(f_pem, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(der, 1, len, fp), len);
		fclose(fp);
		free(der);
		int s = RUN("client", "verify", "--state", state, f_pem);
		assert_true(s == 1 || s == 2);
		assert_true(strstr(errout, "CHAIN") || strstr(errout, "MALFORMED"));
	}
	/* the CTng extension names a RID other than the logged one (what ca1
	 * would sign to point a client at another certificate's CRV bit): the
	 * leaf still verifies, the RID does not match */
	{
		ctng_cert_proofs t = {0};
		OK(ctng_cert_get_proofs(a, &t, &err));
		t.rid += 1;
		char h_pem[128];
		X509 *h = resign(a, &t, cakey);
		save(h, "h.pem", h_pem, sizeof h_pem);
		X509_free(h);
		ctng_cert_proofs_clear(&t);
		assert_int_equal(RUN("client", "verify", "--state", state, h_pem), 1);
		assert_non_null(strstr(errout, "RID_MISMATCH"));
	}
	/* an untouched re-sign still validates: the tamper tests are sound */
	{
		X509 *g = resign(a, &ps, cakey);
		save(g, "g.pem", g_pem, sizeof g_pem);
		X509_free(g);
		assert_int_equal(RUN("client", "verify", "--state", state, g_pem), 0);
	}

	/* TLS with the CA-issued certificate, before and after revocation */
	uint16_t port = ctng_test_free_port();
	char target[64];
	snprintf(target, sizeof target, "a.example.com:%u", port);
	pid_t srv = ctng_test_start_s_server(a_pem, keyp, port);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1", "--state", state),
	                 0);

	/* revocation through the CA daemon */
	if (RUN("cert", "revoke", "--ca", url_ca1, "--cert", a_pem, "--key", keyp) != 0)
		fail_msg("cert revoke: %s %s", out, errout);
	sync_until(a_pem, 1, "REVOKED", 12);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1", "--state", state),
	                 1);
	assert_non_null(strstr(errout, "REVOKED"));
	ctng_test_stop(srv, 10000);

	/* the state the CLI wrote, through the library */
	ctng_client *c = NULL;
	OK(ctng_client_open(state, NULL, 0, &c, &err));
	assert_true(ctng_client_convicted(c, "ca2"));
	assert_true(ctng_client_convicted(c, "logger2"));
	assert_false(ctng_client_convicted(c, "ca1"));
	assert_false(ctng_client_convicted(c, "logger1"));
	bool known = false;
	assert_true(ctng_client_revoked(c, "ca1", ps.rid, &known));
	assert_true(known);
	ctng_client_close(c);

	ctng_cert_proofs_clear(&ps);
	ctng_node_config_free(&ca1);
	X509_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_e2e)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
