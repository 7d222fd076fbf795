/*
 * test_dkg_network.c — a network brought up the way independent operators
 * do it, through the `ctng` binary only (issue 12): every entity's keys made
 * by its own `ctng keygen`, `ctng network assemble` from the descriptors,
 * the DKG among the gossiper daemons over loopback HTTP (bad DKG requests
 * get 4xx and change nothing), `ctng network finalize` from their
 * transcripts (a tampered one is refused), a `ctng testnet --dir` period on
 * the result whose FULLs verify under the DKG's group key, a check that no
 * file anywhere holds the group secret (reconstructed here from t shares),
 * and a resharing 4 -> 5 with `ctng dkg reshare` processes that keeps the
 * group key; and a gossiper killed in the middle of a DKG that resumes.
 */
#include <dirent.h>
#include <fcntl.h>
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto/bls12_381/field.h"
#include "ctng/bls.h"
#include "ctng/config.h"
#include "ctng/dkg.h"
#include "ctng/net.h"
#include "ctng/proto.h"
#include "ctng/store.h"
#include "testutil.h"

#define OUTCAP (1 << 16)

static char g_dir[128], g_net[256];
/* the seed network's port offsets plus the fifth monitor and gossiper */
static const uint16_t g_ports[] = {0,   1,   2,   100, 101, 102, 200, 201,
                                   202, 203, 204, 300, 301, 302, 303, 304};
static char out[OUTCAP], errout[OUTCAP];
static uint16_t g_base;

static int run(const char *a0, ...)
{
	const char *argv[64];
	size_t n = 0;
	argv[n++] = CTNG_BIN;
	va_list ap;
	va_start(ap, a0);
	for (const char *a = a0; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return ctng_test_run(argv, out, OUTCAP, NULL, errout, OUTCAP, 120000);
}

static char *slurp(const char *path, size_t *len)
{
	uint8_t *d = NULL;
	size_t n = 0;
	if (ctng_read_file(path, 64u << 20, &d, &n, NULL))
		return NULL;
	if (len)
		*len = n;
	return (char *)d;
}

static void keygen(const char *role, const char *id, unsigned port)
{
	char url[64], dir[300], p[16];
	snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
	snprintf(dir, sizeof dir, "%s/%s", g_net, id);
	snprintf(p, sizeof p, "%u", port);
	int st = run("keygen", "--role", role, "--id", id, "--url", url, "--out", dir, "--network",
	             "../network.json", NULL);
	if (st)
		fprintf(stderr, "keygen %s: %s\n", id, errout);
	assert_int_equal(st, 0);
}

static int dkg_phase(unsigned port, char *phase, size_t cap)
{
	char url[80];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/ctng/v1/dkg/status", port);
	int st = 0;
	uint8_t *b = NULL;
	size_t l = 0;
	phase[0] = 0;
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 1000, &st, &b, &l, NULL) || st != 200) {
		free(b);
		return -1;
	}
	json_t *j = json_loadb((const char *)b, l, 0, NULL);
	snprintf(phase, cap, "%s", json_string_value(json_object_get(j, "phase")) ?: "");
	json_decref(j);
	free(b);
	return 0;
}

static int post(unsigned port, const char *path, const char *body, char *resp, size_t cap)
{
	char url[120];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
	int st = 0;
	uint8_t *b = NULL;
	size_t l = 0;
	const char *hdr_body = body;
	assert_int_equal(ctng_net_fetch_sync(url, "POST", "application/json", hdr_body,
	                                     strlen(body), 3000, &st, &b, &l, NULL),
	                 0);
	snprintf(resp, cap, "%.*s", (int)l, b ? (const char *)b : "");
	free(b);
	return st;
}

/* Does any file under dir contain needle (n bytes)? Names it in *where. */
static bool tree_contains(const char *dir, const uint8_t *needle, size_t n, char *where, size_t cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = tree_contains(p, needle, n, where, cap);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		size_t len = 0;
		char *data = slurp(p, &len);
		for (size_t i = 0; data && i + n <= len && !found; i++)
			found = memcmp(data + i, needle, n) == 0;
		if (found)
			snprintf(where, cap, "%s", p);
		free(data);
	}
	closedir(d);
	return found;
}

static void share_of(const char *id, const ctng_network *net, uint8_t sk[32])
{
	char p[400];
	snprintf(p, sizeof p, "%s/%s/gossiper.db", g_net, id);
	ctng_err e = {0};
	ctng_store *st = ctng_store_open(p, &e);
	assert_non_null(st);
	assert_int_equal(ctng_dkg_load_share(st, ctng_network_entity(net, id)->bls_pk, sk, &e), 0);
	ctng_store_close(st);
}

/* Counts the STH_FULL/REV_FULL objects gossiper1 stored, each verified
 * under the group key. */
static size_t verified_fulls(const ctng_network *net)
{
	char p[400];
	snprintf(p, sizeof p, "%s/gossiper1/gossiper.db", g_net);
	ctng_err e = {0};
	ctng_store *st = ctng_store_open(p, &e);
	assert_non_null(st);
	size_t ok = 0;
	enum ctng_type types[] = {CTNG_STH_FULL, CTNG_REV_FULL};
	for (int k = 0; k < 2; k++) {
		ctng_store_query q = {.type_uri = ctng_type_uri(types[k])};
		ctng_store_objs l = {0};
		assert_int_equal(ctng_store_obj_find(st, &q, &l, &e), 0);
		for (size_t i = 0; i < l.n; i++) {
			ctng_gossip_object o = {0};
			ctng_buf msg = {0};
			uint8_t sig[48];
			assert_int_equal(ctng_gossip_decode(l.v[i].json, l.v[i].json_len, &o, &e),
			                 0);
			assert_int_equal(ctng_gossip_attest_bytes(&o, &msg, &e), 0);
			assert_int_equal(ctng_gossip_bls_sig(&o, sig, &e), 0);
			assert_int_equal(
			    ctng_bls_verify(net->group_pk, msg.data, msg.len, sig, NULL, &e), 0);
			ok++;
			ctng_buf_free(&msg);
			ctng_gossip_clear(&o);
		}
		ctng_store_objs_free(&l);
	}
	ctng_store_close(st);
	return ok;
}

static void wait_dkg(const unsigned *ports, size_t n, const char *want)
{
	for (int tries = 0; tries < 600; tries++) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++) {
			char ph[32];
			if (dkg_phase(ports[i], ph, sizeof ph) == 0 && strcmp(ph, want) == 0)
				done++;
		}
		if (done == n)
			return;
		ctng_test_sleep_ms(50);
	}
	fail_msg("the DKG did not finish");
}

static void test_operators_network(void **state)
{
	(void)state;
	static const char *roles[] = {"logger", "ca", "monitor", "gossiper"};
	static const unsigned counts[] = {3, 3, 4, 4}, offs[] = {0, 100, 200, 300};
	for (int r = 0; r < 4; r++)
		for (unsigned i = 1; i <= counts[r]; i++) {
			char id[32];
			snprintf(id, sizeof id, "%s%u", roles[r], i);
			keygen(roles[r], id, g_base + offs[r] + i - 1);
		}
	/* the descriptors, in a shuffled order: assemble sorts them */
	char netp[300];
	snprintf(netp, sizeof netp, "%s/network.json", g_net);
	const char *argv[64] = {CTNG_BIN, "network",     "assemble", "--threshold",
	                        "2",      "--period-ms", "2000",     "--dkg-phase-ms",
	                        "1000",   "--out",       netp};
	size_t n = 11;
	char descs[14][300];
	for (int r = 3; r >= 0; r--)
		for (unsigned i = 1; i <= counts[r]; i++) {
			snprintf(descs[n - 11], sizeof descs[0], "%s/%s%u/%s%u.entity.json", g_net,
			         roles[r], i, roles[r], i);
			argv[n] = descs[n - 11];
			n++;
		}
	argv[n] = NULL;
	assert_int_equal(ctng_test_run(argv, out, OUTCAP, NULL, errout, OUTCAP, 60000), 0);
	assert_non_null(strstr(out, "no group key yet"));
	assert_int_equal(run("network", "show", netp, NULL), 0);
	assert_non_null(strstr(out, "fingerprint "));
	assert_non_null(strstr(out, "group key: none yet"));

	/* the gossiper daemons make the key */
	pid_t pids[4];
	unsigned ports[4];
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof id, "gossiper%d", i + 1);
		ports[i] = g_base + 300 + (unsigned)i;
		pids[i] = ctng_test_spawn_node(g_net, id, NULL);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(ctng_test_wait_port((uint16_t)ports[i], pids[i], 20000), 0);
	wait_dkg(ports, 4, "done");

	/* bad DKG requests: 4xx with a reason, nothing changes */
	char resp[4096], tp[400];
	assert_int_equal(
	    post(ports[0], "/ctng/v1/dkg/message", "{\"ctng_dkg\":1}", resp, sizeof resp), 400);
	assert_non_null(strstr(resp, "error"));
	snprintf(tp, sizeof tp, "%s/gossiper2/dkg-transcript.json", g_net);
	char *tr = slurp(tp, NULL);
	assert_non_null(tr);
	json_t *tj = json_loads(tr, 0, NULL);
	json_t *m0 = json_array_get(json_object_get(tj, "messages"), 0);
	json_t *copy = json_deep_copy(m0);
	json_object_set_new(copy, "session",
	                    json_string("00000000000000000000000000000000000000"
	                                "00000000000000000000000000"));
	char *replay = json_dumps(copy, JSON_COMPACT);
	assert_int_equal(post(ports[0], "/ctng/v1/dkg/message", replay, resp, sizeof resp), 409);
	assert_non_null(strstr(resp, "another session"));
	free(replay);
	json_object_del(copy, "signature");
	replay = json_dumps(copy, JSON_COMPACT);
	assert_int_equal(post(ports[0], "/ctng/v1/dkg/message", replay, resp, sizeof resp), 400);
	free(replay);
	json_decref(copy);
	char *again = json_dumps(m0, JSON_COMPACT); /* a real one, already held */
	assert_int_equal(post(ports[2], "/ctng/v1/dkg/message", again, resp, sizeof resp), 200);
	assert_non_null(strstr(resp, "duplicate"));
	free(again);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ctng_test_stop(pids[i], 10000), 0);

	/* finalize: a tampered transcript is refused, the real ones agree */
	json_t *res = json_object_get(tj, "result");
	json_object_set_new(res, "share_pks", json_array());
	char *bad = json_dumps(tj, 0), badp[400];
	snprintf(badp, sizeof badp, "%s/tampered.json", g_dir);
	assert_int_equal(ctng_write_file_atomic(badp, bad, strlen(bad), 0644, NULL), 0);
	free(bad);
	json_decref(tj);
	free(tr);
	assert_int_equal(run("network", "finalize", "--transcript", badp, netp, NULL), 1);
	assert_non_null(strstr(errout, "not what its messages give"));
	char t[4][400];
	for (int i = 0; i < 4; i++)
		snprintf(t[i], sizeof t[i], "%s/gossiper%d/dkg-transcript.json", g_net, i + 1);
	assert_int_equal(run("network", "finalize", "--transcript", t[0], "--transcript", t[1],
	                     "--transcript", t[2], "--transcript", t[3], netp, NULL),
	                 0);
	ctng_network net;
	ctng_err e = {0};
	assert_int_equal(ctng_network_load(netp, &net, &e), 0);
	assert_true(net.has_bls);

	/* the seed network runs on it: a testnet period, FULLs under the key */
	int st = run("testnet", "--dir", g_net, "--periods", "2", "--no-traffic", NULL);
	if (st)
		fprintf(stderr, "testnet: %s\n%s\n", out, errout);
	assert_int_equal(st, 0);
	assert_null(strstr(out, "DKG:")); /* the key was there already */
	assert_true(verified_fulls(&net) >= 3);

	/* the group secret is nowhere: rebuilt here from shares 1 and 2
	 * (Lagrange at 0: 2*s1 - s2), it matches the key, and no file under the
	 * network folder holds it, raw or as hex */
	uint8_t s1[32], s2[32], secret[32], pk[96];
	share_of("gossiper1", &net, s1);
	share_of("gossiper2", &net, s2);
	fr a, b, x;
	assert_true(fr_from_bytes(&a, s1));
	assert_true(fr_from_bytes(&b, s2));
	fr_add(&x, &a, &a);
	fr_sub(&x, &x, &b);
	fr_to_bytes(secret, &x);
	assert_int_equal(ctng_bls_sk_to_pk(pk, secret, &e), 0);
	assert_memory_equal(pk, net.group_pk, 96);
	char hex[65], HEX[65], where[1024];
	ctng_hex_encode(hex, secret, 32);
	for (int i = 0; i < 64; i++)
		HEX[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	HEX[64] = 0;
	bool found = tree_contains(g_dir, secret, 32, where, sizeof where) ||
	             tree_contains(g_dir, (const uint8_t *)hex, 64, where, sizeof where) ||
	             tree_contains(g_dir, (const uint8_t *)HEX, 64, where, sizeof where);
	if (found)
		fprintf(stderr, "the group secret is in %s\n", where);
	assert_false(found);
	ctng_wipe(secret, sizeof secret);

	/* resharing 4 -> 5 with threshold 3: same group key */
	keygen("gossiper", "gossiper5", g_base + 304);
	keygen("monitor", "monitor5", g_base + 204);
	char newp[300], oldp[300];
	snprintf(newp, sizeof newp, "%s/next.json", g_net);
	snprintf(oldp, sizeof oldp, "%s/previous.json", g_net);
	const char *av[64] = {
	    CTNG_BIN,         "network", "assemble",  "--threshold", "3",     "--period-ms", "2000",
	    "--dkg-phase-ms", "1000",    "--reshare", netp,          "--out", newp};
	size_t k = 13;
	char d2[16][300];
	for (int r = 0; r < 4; r++)
		for (unsigned i = 1; i <= counts[r] + (r >= 2); i++) {
			snprintf(d2[k - 13], sizeof d2[0], "%s/%s%u/%s%u.entity.json", g_net,
			         roles[r], i, roles[r], i);
			av[k] = d2[k - 13];
			k++;
		}
	av[k] = NULL;
	assert_int_equal(ctng_test_run(av, out, OUTCAP, NULL, errout, OUTCAP, 60000), 0);
	assert_int_equal(rename(netp, oldp), 0);
	assert_int_equal(rename(newp, netp), 0);
	pid_t rp[5];
	for (int i = 0; i < 5; i++) {
		char cfg[400];
		snprintf(cfg, sizeof cfg, "%s/gossiper%d/config.json", g_net, i + 1);
		rp[i] = fork();
		assert_true(rp[i] >= 0);
		if (rp[i] == 0) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execl(CTNG_BIN, CTNG_BIN, "dkg", "reshare", "--config", cfg, (char *)NULL);
			_exit(127);
		}
	}
	for (int i = 0; i < 5; i++) {
		int ws;
		assert_int_equal(waitpid(rp[i], &ws, 0), rp[i]);
		assert_true(WIFEXITED(ws));
		assert_int_equal(WEXITSTATUS(ws), 0);
	}
	char t5[5][400];
	for (int i = 0; i < 5; i++)
		snprintf(t5[i], sizeof t5[i], "%s/gossiper%d/dkg-transcript.json", g_net, i + 1);
	assert_int_equal(
	    run("dkg", "verify", "--network", netp, t5[0], t5[1], t5[2], t5[3], t5[4], NULL), 0);
	assert_int_equal(
	    run("network", "finalize", "--transcript", t5[0], "--transcript", t5[4], netp, NULL),
	    0);
	ctng_network net2;
	assert_int_equal(ctng_network_load(netp, &net2, &e), 0);
	assert_memory_equal(net2.group_pk, net.group_pk, 96);
	assert_int_equal(net2.threshold, 3);
	/* gossiper5's new share is in its store and matches its share key */
	uint8_t s5[32], pk5[96];
	share_of("gossiper5", &net2, s5);
	assert_int_equal(ctng_bls_sk_to_pk(pk5, s5, &e), 0);
	assert_memory_equal(pk5, ctng_network_entity(&net2, "gossiper5")->bls_pk, 96);
	ctng_network_free(&net2);
	ctng_network_free(&net);
}

static char *status_field(unsigned port, const char *key)
{
	char url[80];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/ctng/v1/dkg/status", port);
	int st = 0;
	uint8_t *b = NULL;
	size_t l = 0;
	char *v = NULL;
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 1000, &st, &b, &l, NULL) == 0 &&
	    st == 200) {
		json_t *j = json_loadb((const char *)b, l, 0, NULL);
		const char *s = json_string_value(json_object_get(j, key));
		v = s ? strdup(s) : NULL;
		json_decref(j);
	}
	free(b);
	return v;
}

/* A gossiper killed (SIGKILL) in the middle of a DKG — gossiper4 never
 * shows up, so the phases run to their timeouts — comes back from its
 * gossiper.db, resumes without dealing again, and all finish with one key
 * in which the absent dealer is disqualified. */
static void test_restart_mid_dkg(void **state)
{
	(void)state;
	char dir[300], netp[400], base[16];
	snprintf(dir, sizeof dir, "%s/restart", g_dir);
	uint16_t b = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	snprintf(base, sizeof base, "%u", b);
	assert_int_equal(
	    run("init", "--dir", dir, "--period-ms", "2000", "--port-base", base, NULL), 0);
	/* short phases for the test */
	snprintf(netp, sizeof netp, "%s/network.json", dir);
	json_t *j = json_load_file(netp, 0, NULL);
	assert_non_null(j);
	json_object_set_new(j, "dkg_phase_ms", json_integer(1000));
	assert_int_equal(json_dump_file(j, netp, JSON_INDENT(2)), 0);
	json_decref(j);
	pid_t pids[3];
	unsigned ports[3];
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof id, "gossiper%d", i + 1);
		ports[i] = (unsigned)b + 300 + (unsigned)i;
		pids[i] = ctng_test_spawn_node(dir, id, NULL);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctng_test_wait_port((uint16_t)ports[i], pids[i], 20000), 0);
	/* wait until gossiper1 has dealt, then kill it without warning */
	bool dealing = false;
	for (int k = 0; k < 200 && !dealing; k++) {
		char *ph = status_field(ports[0], "phase");
		dealing = ph && strcmp(ph, "dealing") == 0;
		free(ph);
		if (!dealing)
			ctng_test_sleep_ms(20);
	}
	assert_true(dealing);
	kill(pids[0], SIGKILL);
	int ws;
	waitpid(pids[0], &ws, 0);
	pids[0] = ctng_test_spawn_node(dir, "gossiper1", NULL);
	assert_int_equal(ctng_test_wait_port((uint16_t)ports[0], pids[0], 20000), 0);
	wait_dkg(ports, 3, "done");
	char *g[3];
	for (int i = 0; i < 3; i++)
		g[i] = status_field(ports[i], "group_pk");
	assert_non_null(g[0]);
	assert_string_equal(g[0], g[1]);
	assert_string_equal(g[0], g[2]);
	for (int i = 0; i < 3; i++) {
		free(g[i]);
		assert_int_equal(ctng_test_stop(pids[i], 10000), 0);
	}
	char logp[400];
	snprintf(logp, sizeof logp, "%s/gossiper1.log", dir);
	char *log = slurp(logp, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "DKG resumed"));
	free(log);
	/* gossiper2 holds exactly one deal of gossiper1, and gossiper4 is out */
	char tp[400];
	snprintf(tp, sizeof tp, "%s/gossiper2/dkg-transcript.json", dir);
	json_t *t = json_load_file(tp, 0, NULL);
	assert_non_null(t);
	size_t i, deals = 0;
	json_t *m;
	json_array_foreach(json_object_get(t, "messages"), i, m)
	{
		deals += !strcmp(json_string_value(json_object_get(m, "type")), "deal") &&
		         !strcmp(json_string_value(json_object_get(m, "sender")), "gossiper1");
	}
	assert_int_equal(deals, 1);
	json_t *dq =
	    json_array_get(json_object_get(json_object_get(t, "result"), "disqualified"), 0);
	assert_string_equal(json_string_value(json_object_get(dq, "id")), "gossiper4");
	json_decref(t);
	char t1[400], t3[400];
	snprintf(t1, sizeof t1, "%s/gossiper1/dkg-transcript.json", dir);
	snprintf(t3, sizeof t3, "%s/gossiper3/dkg-transcript.json", dir);
	assert_int_equal(run("network", "finalize", "--transcript", t1, "--transcript", tp,
	                     "--transcript", t3, netp, NULL),
	                 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "/tmp/ctng-it-dkg-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(g_net, sizeof g_net, "%s/net", g_dir);
	g_base = ctng_test_free_port_base(g_ports, sizeof g_ports / sizeof g_ports[0]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (getenv("CTNG_KEEP_TEST_DIR"))
		return 0;
	return ctng_test_rm_rf(g_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_operators_network),
	                                   cmocka_unit_test(test_restart_mid_dkg)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
