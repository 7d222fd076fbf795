/* test_ca_flow.c — the CA end to end with real processes: `ctng init`, two
 * `ctng logger` daemons and one `ctng ca`; certificates requested with `ctng
 * cert request` verify with the openssl binary and carry, per logger, an STH
 * equal to that logger's published STH and an inclusion proof our Merkle
 * verifier accepts; revocations (subject and operator keys) appear in the next
 * REV and the client-side CRV chain holds from the first REV on; the CA is
 * SIGKILLed at several moments (after accepting a request, after accepting a
 * revocation, at random) and loses nothing. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/x509.h>
#include <roaring/roaring.h>

#include "ctng/ca.h"
#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/net.h"
#include "testutil.h"

#define PERIOD_MS     1500
#define MIS_PERIOD_MS 3000 /* misbehaviour test: room for a slow answer */

static char dir[128];
static char ca_url[CTNG_URL_MAX];
static ctng_network net;
static pid_t pids[3]; /* logger1, logger2, ca1 */

static int stop(pid_t p, int sig)
{
	if (p <= 0)
		return -1;
	kill(p, sig);
	int st = 0;
	waitpid(p, &st, 0);
	return st;
}

/* SIGTERM: the CA must stop cleanly with exit 0 (under ASan also: no leak). */
static void stop_ca_clean(void)
{
	int st = stop(pids[2], SIGTERM);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int get_json_to(const char *url, uint64_t timeout_ms, json_t **out)
{
	int status = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	*out = NULL;
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, timeout_ms, &status, &body, &len, NULL))
		return -1;
	if (ctng_net_parse_json(body, len, 0, out, NULL))
		status = -2;
	free(body);
	return status;
}

static int get_json(const char *url, json_t **out)
{
	return get_json_to(url, 3000, out);
}

static void wait_up(const char *url)
{
	for (int i = 0; i < 200; i++) {
		json_t *j = NULL;
		int st = get_json(url, &j);
		json_decref(j);
		if (st == 200 || st == 404)
			return;
		ctng_test_sleep_ms(50);
	}
	fail_msg("%s never came up", url);
}

static void start_ca(void)
{
	pids[2] = ctng_test_spawn_node(dir, "ca1", NULL);
	char url[CTNG_URL_MAX + 128];
	snprintf(url, sizeof(url), "%s/ctng/v1/info", ca_url);
	wait_up(url);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static uint64_t now_period(void)
{
	uint64_t p = 0;
	ctng_clock_period_of(&net.clock, ctng_now_ms(), &p);
	return p;
}

static void make_key(const char *name, ctng_sig_alg alg)
{
	ctng_sig_key *k = NULL;
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(ctng_sig_generate(alg, &k, NULL), 0);
	assert_int_equal(ctng_sig_save_private_file(k, path, 0600, NULL), 0);
	ctng_sig_key_free(k);
}

static int request(const char *name, const char *key, const char *out)
{
	return sh("%s cert request --ca %s --name %s --key %s/%s --out %s/%s --timeout 30 "
	          "2>>%s/cli.log",
	          CTNG_BIN, ca_url, name, dir, key, dir, out, dir);
}

/* Checks one issued certificate thoroughly; returns its RID. */
static uint32_t check_cert(const char *file)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(sh("openssl verify -CAfile %s/ca1/root.pem %s >/dev/null", dir, path), 0);
	assert_int_equal(
	    sh("openssl x509 -in %s -noout -text | grep -q 1.3.6.1.4.1.55555.1.1", path), 0);
	/* the RID extension, non-critical, shown by openssl too */
	assert_int_equal(
	    sh("openssl x509 -in %s -noout -text | grep -q '1.3.6.1.4.1.55555.1.2: *$'", path), 0);
	ctng_err err = {0};
	X509 *x = NULL, *root = NULL;
	char rp[256];
	snprintf(rp, sizeof(rp), "%s/ca1/root.pem", dir);
	assert_int_equal(ctng_cert_load_file(path, &x, &err), 0);
	assert_int_equal(ctng_cert_load_file(rp, &root, &err), 0);
	ctng_cert_proofs ps;
	assert_int_equal(ctng_cert_get_proofs(x, &ps, &err), 0);
	assert_int_equal(ps.n, 2);
	for (size_t i = 0; i < ps.n; i++) {
		const ctng_logger_proof *p = &ps.proofs[i];
		const ctng_entity *lg = ctng_network_entity(&net, p->logger_id);
		assert_non_null(lg);
		assert_int_equal(lg->role, CTNG_ROLE_LOGGER);
		assert_int_equal(ctng_cert_proof_verify_inclusion(x, root, p, &err), 0);
		assert_int_equal(ctng_logger_proof_verify_sth(p, lg->key, &net.clock, &err), 0);
		/* the STH is the one the logger publishes for that period */
		char url[CTNG_URL_MAX + 128];
		snprintf(url, sizeof(url), "%s/ctng/v1/sth?period=%llu", lg->url,
		         (unsigned long long)p->period);
		json_t *j = NULL;
		assert_int_equal(get_json(url, &j), 200);
		ctng_gossip_object o = {0};
		ctng_sth sth;
		assert_int_equal(ctng_gossip_from_json(j, &o, &err), 0);
		assert_int_equal(ctng_gossip_verify_signed(&o, lg->key, &net.clock, &err), 0);
		assert_int_equal(ctng_sth_from_object(&o, &sth, &err), 0);
		assert_int_equal(sth.tree_size, p->tree_size);
		assert_int_equal(sth.timestamp_ms, p->sth_timestamp_ms);
		assert_memory_equal(sth.root, p->root, 32);
		ctng_gossip_clear(&o);
		json_decref(j);
	}
	assert_string_not_equal(ps.proofs[0].logger_id, ps.proofs[1].logger_id);
	uint32_t rid = ps.rid, logged = 0;
	/* the RID is in the logged TBS too (its own extension) */
	assert_int_equal(ctng_cert_get_rid(x, &logged, &err), 0);
	assert_int_equal(logged, rid);
	ctng_cert_proofs_clear(&ps);
	X509_free(x);
	X509_free(root);
	return rid;
}

/* Waits (bounded, no timing assertion) until the CA serves REV(target). */
static void wait_rev(uint64_t target)
{
	char url[CTNG_URL_MAX + 128];
	snprintf(url, sizeof(url), "%s/ctng/v1/rev?period=%llu", ca_url,
	         (unsigned long long)target);
	for (int i = 0; i < 600; i++) {
		json_t *j = NULL;
		int st = get_json(url, &j);
		json_decref(j);
		if (st == 200)
			return;
		ctng_test_sleep_ms(50);
	}
	fail_msg("REV of period %llu never published", (unsigned long long)target);
}

/* Follows the REV chain from the CA's first REV to REV(target) (waiting for
 * it to be published); returns CRV(target). */
static roaring_bitmap_t *follow_chain(uint64_t target)
{
	const ctng_entity *ca = ctng_network_entity(&net, "ca1");
	char url[CTNG_URL_MAX + 128];
	json_t *j = NULL;
	wait_rev(target);
	uint64_t first = target;
	while (first > 0) {
		snprintf(url, sizeof(url), "%s/ctng/v1/rev?period=%llu", ca_url,
		         (unsigned long long)(first - 1));
		int st = get_json(url, &j);
		json_decref(j);
		if (st != 200)
			break;
		first--;
	}
	roaring_bitmap_t *crv = roaring_bitmap_create();
	for (uint64_t q = first; q <= target; q++) {
		snprintf(url, sizeof(url), "%s/ctng/v1/rev?period=%llu&monitor=monitor1", ca_url,
		         (unsigned long long)q);
		assert_int_equal(get_json(url, &j), 200);
		ctng_gossip_object o = {0};
		ctng_err err = {0};
		assert_int_equal(ctng_gossip_from_json(j, &o, &err), 0);
		assert_int_equal(o.period, q);
		assert_int_equal(ctng_gossip_verify_signed(&o, ca->key, &net.clock, &err), 0);
		if (ctng_crv_apply_rev(crv, &o, &err))
			fail_msg("chain breaks at period %llu: %s", (unsigned long long)q, err.msg);
		ctng_gossip_clear(&o);
		json_decref(j);
	}
	return crv;
}

static void wait_period_after(uint64_t p)
{
	while (now_period() <= p)
		ctng_test_sleep_ms(100);
	ctng_test_sleep_ms(300); /* REV is published right at the start */
}

static void test_ca_flow(void **state)
{
	(void)state;
	ctng_err err = {0};
	int base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	if (base > 65000)
		base = 30000;
	snprintf(dir, sizeof(dir), "/tmp/ctng_test_ca_flow_%d", (int)getpid());
	sh("rm -rf %s", dir);
	assert_int_equal(sh("%s init --dealer --dir %s --period-ms %d --loggers 2 --cas 1 --monitors 1 "
	                    "--threshold 1 --port-base %d >/dev/null",
	                    CTNG_BIN, dir, PERIOD_MS, base),
	                 0);
	char np[256];
	snprintf(np, sizeof(np), "%s/network.json", dir);
	assert_int_equal(ctng_network_load(np, &net, &err), 0);
	snprintf(ca_url, sizeof(ca_url), "%s", ctng_network_entity(&net, "ca1")->url);
	pids[0] = ctng_test_spawn_node(dir, "logger1", NULL);
	pids[1] = ctng_test_spawn_node(dir, "logger2", NULL);
	for (int i = 0; i < 2; i++) {
		char url[CTNG_URL_MAX + 128];
		snprintf(url, sizeof(url), "%s/ct/v1/get-roots",
		         ctng_network_nth(&net, CTNG_ROLE_LOGGER, (size_t)i)->url);
		wait_up(url);
	}
	start_ca();

	/* issuance */
	make_key("k1.pem", CTNG_SIG_ECDSA_P256);
	make_key("k2.pem", CTNG_SIG_ED25519);
	make_key("k3.pem", CTNG_SIG_ECDSA_P256);
	make_key("k4.pem", CTNG_SIG_ECDSA_P256);
	assert_int_equal(request("one.example.com", "k1.pem", "c1.pem"), 0);
	assert_int_equal(request("two.example.com", "k2.pem", "c2.pem"), 0);
	assert_int_equal(request("three.example.org", "k3.pem", "c3.pem"), 0);
	uint32_t r1 = check_cert("c1.pem"), r2 = check_cert("c2.pem"), r3 = check_cert("c3.pem");
	assert_true(r1 != r2 && r2 != r3 && r1 != r3);
	/* bad requests are refused with exit 2 */
	assert_int_equal(request("bad_name.example", "k1.pem", "bad.pem"), 2);

	/* revocation: subject key, operator key, a wrong key */
	ctng_node_config cacfg = {0};
	char cp[256];
	snprintf(cp, sizeof(cp), "%s/ca1/config.json", dir);
	assert_int_equal(ctng_node_config_load(cp, &cacfg, &err), 0);
	snprintf(cp, sizeof(cp), "%s/operator.pem", dir);
	assert_int_equal(ctng_sig_save_private_file(cacfg.key, cp, 0600, &err), 0);
	ctng_node_config_free(&cacfg);
	assert_int_equal(sh("%s cert revoke --ca %s --cert %s/c1.pem --key %s/k2.pem "
	                    ">/dev/null 2>>%s/cli.log",
	                    CTNG_BIN, ca_url, dir, dir, dir),
	                 2);
	assert_int_equal(sh("%s cert revoke --ca %s --cert %s/c1.pem --key %s/k1.pem >/dev/null",
	                    CTNG_BIN, ca_url, dir, dir),
	                 0);
	assert_int_equal(sh("%s cert revoke --ca %s --cert %s/c2.pem --key %s/operator.pem "
	                    ">/dev/null",
	                    CTNG_BIN, ca_url, dir, dir),
	                 0);
	/* accepted in this period at the latest: the next REV carries them */
	roaring_bitmap_t *crv = follow_chain(now_period() + 1);
	assert_true(roaring_bitmap_contains(crv, r1));
	assert_true(roaring_bitmap_contains(crv, r2));
	assert_false(roaring_bitmap_contains(crv, r3));
	roaring_bitmap_free(crv);

	/* SIGKILL right after a request was accepted: the pending issuance survives */
	char cmd[1024], handle[64] = "";
	snprintf(cmd, sizeof(cmd),
	         "%s cert request --ca %s --name four.example.net --key %s/k4.pem --out "
	         "%s/c4.pem --timeout 0 2>/dev/null",
	         CTNG_BIN, ca_url, dir, dir);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(handle, sizeof(handle), f));
	pclose(f);
	handle[strcspn(handle, "\n")] = 0;
	assert_int_equal(strlen(handle), CTNG_CA_HANDLE_LEN);
	stop(pids[2], SIGKILL);
	start_ca();
	assert_int_equal(sh("%s cert fetch --ca %s --handle %s --out %s/c4.pem --timeout 30 "
	                    "2>>%s/cli.log",
	                    CTNG_BIN, ca_url, handle, dir, dir),
	                 0);
	uint32_t r4 = check_cert("c4.pem");

	/* SIGKILL right after a revocation was accepted: it shows in the next REV */
	assert_int_equal(sh("%s cert revoke --ca %s --cert %s/c3.pem --key %s/k3.pem >/dev/null",
	                    CTNG_BIN, ca_url, dir, dir),
	                 0);
	stop(pids[2], SIGKILL);
	start_ca();
	/* and a few kills at arbitrary moments */
	srand((unsigned)getpid());
	for (int i = 0; i < 3; i++) {
		ctng_test_sleep_ms((unsigned)(rand() % PERIOD_MS));
		stop(pids[2], SIGKILL);
		start_ca();
	}
	crv = follow_chain(now_period() + 1);
	assert_true(roaring_bitmap_contains(crv, r1) && roaring_bitmap_contains(crv, r2) &&
	            roaring_bitmap_contains(crv, r3));
	assert_false(roaring_bitmap_contains(crv, r4));
	assert_int_equal(roaring_bitmap_get_cardinality(crv), 3);
	roaring_bitmap_free(crv);
	/* the issued certificates are still served */
	snprintf(cmd, sizeof(cmd), "%s/ctng/v1/certificates/%s", ca_url, handle);
	json_t *j = NULL;
	assert_int_equal(get_json(cmd, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "issued");
	json_decref(j);

	stop_ca_clean();
	for (int i = 1; i >= 0; i--)
		stop(pids[i], SIGTERM);
	ctng_network_free(&net);
	sh("rm -rf %s", dir);
}

/* Test-only misbehaviour switched on in the CA's config: silent, answering
 * only in some periods, split view between monitors. */
static int rev_status(uint64_t p, const char *monitor, ctng_gossip_object *o)
{
	char url[CTNG_URL_MAX + 128];
	snprintf(url, sizeof(url), "%s/ctng/v1/rev?period=%llu&monitor=%s", ca_url,
	         (unsigned long long)p, monitor);
	json_t *j = NULL;
	int st = get_json_to(url, MIS_PERIOD_MS * 2 / 3, &j);
	if (st == 200 && o)
		assert_int_equal(ctng_gossip_from_json(j, o, NULL), 0);
	json_decref(j);
	return st;
}

static void test_ca_misbehaviour(void **state)
{
	(void)state;
	ctng_err err = {0};
	int base = 30400 + (int)(getpid() % 10000);
	if (base > 65000)
		base = 30400;
	snprintf(dir, sizeof(dir), "/tmp/ctng_test_ca_mis_%d", (int)getpid());
	sh("rm -rf %s", dir);
	assert_int_equal(sh("%s init --dealer --dir %s --period-ms %d --loggers 1 --cas 1 --monitors 2 "
	                    "--threshold 1 --port-base %d >/dev/null",
	                    CTNG_BIN, dir, MIS_PERIOD_MS, base),
	                 0);
	char np[256], cp[256];
	snprintf(np, sizeof(np), "%s/network.json", dir);
	snprintf(cp, sizeof(cp), "%s/ca1/config.json", dir);
	assert_int_equal(ctng_network_load(np, &net, &err), 0);
	snprintf(ca_url, sizeof(ca_url), "%s", ctng_network_entity(&net, "ca1")->url);
	const ctng_sig_key *cak = ctng_network_entity(&net, "ca1")->key;

	/* silent: never answers the REV query */
	ctng_misbehaviour m = {.present = true, .silent = true};
	assert_int_equal(ctng_node_config_set_misbehaviour(cp, &m, &err), 0);
	start_ca();
	ctng_test_sleep_ms(200);
	assert_int_equal(rev_status(now_period(), "monitor1", NULL), -1);
	stop(pids[2], SIGKILL);

	/* answers only in even periods */
	m = (ctng_misbehaviour){.present = true, .answer_periods_mod = 2};
	assert_int_equal(ctng_node_config_set_misbehaviour(cp, &m, &err), 0);
	start_ca();
	int answered = 0, refused = 0;
	for (int i = 0; i < 4; i++) {
		wait_period_after(now_period());
		uint64_t p = now_period();
		int st = rev_status(p, "monitor1", NULL);
		while (st == 404 && now_period() == p) { /* REV(p) not out yet */
			ctng_test_sleep_ms(100);
			st = rev_status(p, "monitor1", NULL);
		}
		if (now_period() != p)
			continue; /* crossed a boundary while asking */
		if (p % 2 == 0) {
			assert_int_equal(st, 200);
			answered++;
		} else {
			assert_int_equal(st, -1);
			refused++;
		}
	}
	assert_true(answered > 0 && refused > 0);
	stop(pids[2], SIGKILL);

	/* split view: monitors see two validly signed, conflicting REVs */
	m = (ctng_misbehaviour){.present = true, .split_view = true};
	assert_int_equal(ctng_node_config_set_misbehaviour(cp, &m, &err), 0);
	start_ca();
	uint64_t p = now_period() + 1;
	wait_rev(p);
	ctng_gossip_object a = {0}, b = {0};
	assert_int_equal(rev_status(p, "monitor1", &a), 200);
	assert_int_equal(rev_status(p, "monitor2", &b), 200);
	assert_int_equal(ctng_gossip_verify_signed(&a, cak, &net.clock, &err), 0);
	assert_int_equal(ctng_gossip_verify_signed(&b, cak, &net.clock, &err), 0);
	assert_true(ctng_gossip_conflicting(&a, &b));
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	stop_ca_clean();
	ctng_network_free(&net);
	sh("rm -rf %s", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_ca_flow),
	                                   cmocka_unit_test(test_ca_misbehaviour)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
