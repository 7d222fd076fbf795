/*
 * test_index_e2e.c — issue 11 items 3-5 with real daemons: 2 loggers, 2
 * CAs, 2 monitors (monitor1 watches logger1 and ca1, monitor2 logger2 and
 * ca2: each mirrors a log it does not watch from its peer), 2 gossipers,
 * threshold 2, 2 s periods; ca2 has the reuse_rid misbehaviour. A tiny real
 * HTTP receiver (a child process of this test) takes the webhooks.
 *   - search: `ctng monitor search` finds a certificate for a domain
 *     through either monitor (table and --json), nothing found prints
 *     nothing, a malformed query is refused with a reason;
 *   - alerts: monitor1's config watch sends a webhook for a newly issued
 *     certificate (the receiver refuses the first try: it is retried);
 *   - restart: a watch made through the API on monitor2, the receiver
 *     refusing, the certificate indexed, monitor2 SIGKILLed with the
 *     notification in its outbox, restarted: the webhook arrives;
 *   - `ctng monitor watch` prints the certificate as it is indexed;
 *   - duplicated RID: ca2 gives two certificates one RID; the monitors
 *     prove it (RID CON), the gossipers convict ca2 (CON_FULL), and a
 *     relying party refuses ca2's certificate (ISSUER_CONVICTED).
 * Every wait is a bounded poll; no timing is asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/config.h"
#include "ctng/net.h"
#include "testutil.h"

#define PERIOD_MS 2000

enum { L1, L2, C1, C2, M1, M2, G1, G2, NPROC };
static const char *names[NPROC] = {"logger1",  "logger2",  "ca1",       "ca2",
                                   "monitor1", "monitor2", "gossiper1", "gossiper2"};
static char dir[64], hooks[128], gate[128], url[NPROC][64];
static pid_t pids[NPROC], receiver;
static uint16_t hook_port;
static ctng_network net;
static char out[65536], errout[16384];
static ctng_err err;

#define OK(x)                                                                                      \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

#define RUN(...)                                                                                   \
	ctng_test_run((const char *const[]){CTNG_BIN, __VA_ARGS__, NULL}, out, sizeof(out), NULL,  \
	              errout, sizeof(errout), 60000)

/* ------------------------------------------------- the webhook receiver */

/* Child: accepts one connection at a time, reads one request (head and
 * Content-Length body), and appends the body as one line to `hooks` —
 * answering 200 — unless it is refusing: the first request ever is refused
 * (503, to exercise the retry), and so is every request whose body holds
 * "late.example" while the file `gate` does not exist. */
static void receive(int ls)
{
	bool first = true;
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			continue;
		struct timeval tv = {5, 0};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		char buf[65536];
		size_t n = 0;
		long want = -1;
		char *body = NULL;
		while (n < sizeof buf - 1) {
			ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			buf[n] = 0;
			char *end = strstr(buf, "\r\n\r\n");
			if (end && want < 0) {
				char *cl = strcasestr(buf, "content-length:");
				want = cl ? strtol(cl + 15, NULL, 10) : 0;
				body = end + 4;
			}
			if (body && (long)(n - (size_t)(body - buf)) >= want)
				break;
		}
		bool refuse = first || (body && strstr(body, "late.example") && access(gate, F_OK));
		first = false;
		if (!refuse && body) {
			FILE *f = fopen(hooks, "a");
			if (f) {
				fprintf(f, "%s\n", body);
				fclose(f);
			}
		}
		const char *ans = refuse ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: "
		                           "close\r\n\r\n"
		                         : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: "
		                           "close\r\n\r\n";
		ssize_t w = write(c, ans, strlen(ans));
		(void)w;
		close(c);
	}
}

static pid_t start_receiver(uint16_t port)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 16))
		fail_msg("receiver cannot listen on %u", port);
	pid_t p = fork();
	if (p == 0) {
		receive(ls);
		_exit(0);
	}
	close(ls);
	return p;
}

/* Lines of the hooks file containing `needle`. */
static int hooks_with(const char *needle)
{
	FILE *f = fopen(hooks, "r");
	int n = 0;
	char line[65536];
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* ------------------------------------------------------------- helpers */

static json_t *http_json(const char *u, const char *method, const char *body, int *status)
{
	uint8_t *resp = NULL;
	size_t len = 0;
	*status = 0;
	if (ctng_net_fetch_sync(u, method, body ? "application/json" : NULL, body,
	                        body ? strlen(body) : 0, 10000, status, &resp, &len, NULL))
		return NULL;
	json_t *j = json_loadb((const char *)resp, len, 0, NULL);
	free(resp);
	return j;
}

/* Asks CA `ca` (C1/C2) for a certificate for `name`: the request's handle. */
static void request(int ca, const char *name, char handle[64])
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	BIO *b = BIO_new(BIO_s_mem());
	assert_true(k && b && PEM_write_bio_PUBKEY(b, k));
	char *pem = NULL;
	long pl = BIO_get_mem_data(b, &pem);
	char *p = strndup(pem, (size_t)pl);
	BIO_free(b);
	EVP_PKEY_free(k);
	json_t *req = json_pack("{s:s,s:s}", "name", name, "public_key", p);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	free(p);
	char u[128];
	snprintf(u, sizeof u, "%s/ctng/v1/certificates", url[ca]);
	int st = 0;
	json_t *j = http_json(u, "POST", body, &st);
	free(body);
	const char *h = json_string_value(json_object_get(j, "handle"));
	if (st != 200 || !h)
		fail_msg("request %s: %d", name, st);
	snprintf(handle, 64, "%s", h);
	json_decref(j);
}

/* Polls until `ctng monitor search` through monitor m finds `domain` (with
 * subdomains) in --json output containing `needle`, or fails after
 * `periods` periods. */
static void search_until(int m, const char *domain, const char *needle, int periods)
{
	uint64_t dl = ctng_mono_ms() + (uint64_t)periods * PERIOD_MS;
	for (;;) {
		int s = RUN("monitor", "search", "--monitor", url[m], "--domain", domain,
		            "--subdomains", "--json");
		if (s != 0)
			fail_msg("search exit %d: %s", s, errout);
		if (strstr(out, needle))
			return;
		if (ctng_mono_ms() > dl)
			fail_msg("%s never found %s (%s): %s", names[m], domain, needle, out);
		ctng_test_sleep_ms(PERIOD_MS / 4);
	}
}

static void wait_hooks(const char *needle, int count, int periods)
{
	uint64_t dl = ctng_mono_ms() + (uint64_t)periods * PERIOD_MS;
	while (hooks_with(needle) < count) {
		if (ctng_mono_ms() > dl)
			fail_msg("no webhook with %s (see %s)", needle, hooks);
		ctng_test_sleep_ms(200);
	}
}

static void set_monitor1_config(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/monitor1/config.json", dir);
	json_t *j = json_load_file(p, 0, NULL);
	assert_non_null(j);
	char hook[96];
	snprintf(hook, sizeof hook, "http://127.0.0.1:%u/hook", hook_port);
	json_object_set_new(j, "watches",
	                    json_pack("[{s:s,s:b,s:s}]", "domain", "hook.example", "subdomains", 1,
	                              "webhook", hook));
	json_object_set_new(j, "webhooks", json_pack("{s:[s]}", "allow", "127.0.0.1"));
	assert_int_equal(json_dump_file(j, p, JSON_INDENT(1)), 0);
	json_decref(j);
	snprintf(p, sizeof p, "%s/monitor2/config.json", dir);
	j = json_load_file(p, 0, NULL);
	json_object_set_new(j, "webhooks", json_pack("{s:[s]}", "allow", "127.0.0.1"));
	assert_int_equal(json_dump_file(j, p, JSON_INDENT(1)), 0);
	json_decref(j);
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/ctng-index-e2e-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(hooks, sizeof hooks, "%s/hooks.jsonl", dir);
	snprintf(gate, sizeof gate, "%s/gate", dir);
	static const uint16_t offsets[] = {0, 1, 100, 101, 200, 201, 300, 301, 400};
	uint16_t base = ctng_test_free_port_base(offsets, sizeof offsets / sizeof offsets[0]);
	hook_port = (uint16_t)(base + 400);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = PERIOD_MS;
	o.loggers = 2;
	o.cas = 2;
	o.monitors = 2;
	o.threshold = 2;
	o.watch = 1;
	o.port_base = base;
	OK(ctng_init_network(dir, &o, &err));
	char p[128];
	snprintf(p, sizeof p, "%s/network.json", dir);
	OK(ctng_network_load(p, &net, &err));
	ctng_misbehaviour m = {.present = true, .reuse_rid = true};
	snprintf(p, sizeof p, "%s/ca2/config.json", dir);
	OK(ctng_node_config_set_misbehaviour(p, &m, &err));
	set_monitor1_config();
	receiver = start_receiver(hook_port);
	for (int i = 0; i < NPROC; i++) {
		const ctng_entity *e = ctng_network_entity(&net, names[i]);
		snprintf(url[i], sizeof url[i], "http://127.0.0.1:%u", e->port);
		pids[i] = ctng_test_spawn_node(dir, names[i], "info");
	}
	for (int i = 0; i < NPROC; i++)
		if (ctng_test_wait_port(ctng_network_entity(&net, names[i])->port, -1, 20000))
			fail_msg("%s does not listen (see %s/%s.log)", names[i], dir, names[i]);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	for (int i = 0; i < NPROC; i++)
		ctng_test_stop(pids[i], 5000);
	if (receiver > 0) {
		kill(receiver, SIGKILL);
		waitpid(receiver, NULL, 0);
	}
	ctng_network_free(&net);
	if (ctng_test_rm_rf(dir) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return 0;
}

static void test_index_e2e(void **st)
{
	(void)st;
	char h[6][64];
	/* a watch through monitor2's API, for the restart case */
	char body[256], u[128];
	snprintf(body, sizeof body,
	         "{\"domain\":\"late.example\",\"subdomains\":true,\"webhook\":"
	         "\"http://127.0.0.1:%u/late\"}",
	         hook_port);
	snprintf(u, sizeof u, "%s/ctng/v1/watches", url[M2]);
	int s = 0;
	json_t *j = http_json(u, "POST", body, &s);
	assert_int_equal(s, 201);
	json_decref(j);
	/* a malformed one and an internal webhook are refused with a reason */
	j = http_json(u, "POST", "{\"domain\":\"com\",\"webhook\":\"http://8.8.8.8/\"}", &s);
	assert_int_equal(s, 400);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "domain"));
	json_decref(j);
	j = http_json(u, "POST", "{\"domain\":\"a.example\",\"webhook\":\"http://10.0.0.1/\"}", &s);
	assert_int_equal(s, 400);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "internal"));
	json_decref(j);

	/* `ctng monitor watch` on monitor2, waiting for the first event */
	char wout[128];
	snprintf(wout, sizeof wout, "%s/watch.out", dir);
	pid_t w = fork();
	if (w == 0) {
		int fd = open(wout, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		execl(CTNG_BIN, CTNG_BIN, "monitor", "watch", "--monitor", url[M2], "--domain",
		      "stream.example", "--subdomains", "--json", "--count", "1", "--timeout-ms",
		      "60000", (char *)NULL);
		_exit(127);
	}
	ctng_test_sleep_ms(500); /* it asked for the current end */

	request(C1, "www.hook.example", h[0]);
	request(C1, "a.late.example", h[1]);
	request(C1, "x.stream.example", h[2]);
	request(C2, "one.dup.example", h[3]); /* RID 0 */
	request(C2, "two.dup.example", h[4]); /* names RID 0 too (reuse_rid) */

	/* search through either monitor (monitor1 does not watch logger2,
	 * monitor2 not logger1: both hold both logs) */
	search_until(M2, "hook.example", "\"logger1\"", 15);
	search_until(M1, "hook.example", "www.hook.example", 15);
	json_t *r = json_loads(out, 0, NULL); /* one line: one certificate */
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "issuer")), "ca1");
	assert_true(json_is_integer(json_object_get(r, "rid")));
	assert_non_null(json_object_get(r, "revoked"));
	assert_true(json_is_integer(json_object_get(r, "index")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "names"), 0)),
	                    "www.hook.example");
	json_decref(r);
	/* the table; nothing found prints nothing; bad input */
	assert_int_equal(RUN("monitor", "search", "--monitor", url[M1], "--domain",
	                     "www.hook.example"),
	                 0);
	assert_non_null(strstr(out, "NAMES"));
	assert_non_null(strstr(out, "www.hook.example"));
	assert_int_equal(RUN("monitor", "search", "--monitor", url[M1], "--domain",
	                     "nothing.example", "--json"),
	                 0);
	assert_string_equal(out, "");
	assert_int_equal(RUN("monitor", "search", "--monitor", url[M1], "--domain", "com"), 2);
	assert_non_null(strstr(errout, "domain"));
	snprintf(u, sizeof u, "%s/ctng/v1/search?domain=a.example&limit=5000", url[M1]);
	j = http_json(u, "GET", NULL, &s);
	assert_int_equal(s, 400);
	json_decref(j);

	/* the config watch's webhook (after one refused try) */
	wait_hooks("www.hook.example", 1, 15);
	/* the streamed event */
	for (uint64_t dl = ctng_mono_ms() + 15 * PERIOD_MS;;) {
		int status = 0;
		pid_t got = waitpid(w, &status, WNOHANG);
		if (got == w) {
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			break;
		}
		if (ctng_mono_ms() > dl)
			fail_msg("ctng monitor watch printed nothing");
		ctng_test_sleep_ms(200);
	}
	FILE *f = fopen(wout, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = 0;
	fclose(f);
	assert_non_null(strstr(out, "\"event\":\"issued\""));
	assert_non_null(strstr(out, "x.stream.example"));

	/* restart: a.late.example is indexed by monitor2 and waits in its
	 * outbox (the receiver refuses it); SIGKILL, let the receiver accept,
	 * start monitor2 again: the webhook arrives */
	search_until(M2, "late.example", "a.late.example", 15);
	snprintf(u, sizeof u, "%s/ctng/v1/watches", url[M2]);
	for (uint64_t dl = ctng_mono_ms() + 10 * PERIOD_MS;;) {
		j = http_json(u, "GET", NULL, &s);
		json_int_t pend = json_integer_value(
		    json_object_get(json_array_get(json_object_get(j, "watches"), 0), "pending"));
		json_decref(j);
		if (pend >= 1)
			break;
		if (ctng_mono_ms() > dl)
			fail_msg("monitor2 has no pending notification");
		ctng_test_sleep_ms(200);
	}
	assert_int_equal(hooks_with("a.late.example"), 0);
	kill(pids[M2], SIGKILL);
	waitpid(pids[M2], NULL, 0);
	FILE *g = fopen(gate, "w");
	assert_non_null(g);
	fclose(g);
	pids[M2] = ctng_test_spawn_node(dir, "monitor2", "info");
	assert_int_equal(ctng_test_wait_port(ctng_network_entity(&net, "monitor2")->port, pids[M2],
	                                     20000),
	                 0);
	wait_hooks("a.late.example", 1, 20); /* the backoff may be some seconds */

	/* the duplicated RID: a RID CON, ca2 convicted, its certificate refused */
	char pom[256];
	bool found = false;
	for (uint64_t dl = ctng_mono_ms() + 15 * PERIOD_MS; !found;) {
		for (int m = M1; m <= M2 && !found; m++) {
			char cmd[512];
			snprintf(cmd, sizeof cmd, "ls %s/%s/ | grep -q 'POM_ca2_.*_rid.json'", dir,
			         names[m]);
			found = system(cmd) == 0;
		}
		if (!found && ctng_mono_ms() > dl)
			fail_msg("no RID CON against ca2");
		ctng_test_sleep_ms(300);
	}
	(void)pom;
	char cert[128], state[128], netp[128];
	snprintf(cert, sizeof cert, "%s/two.pem", dir);
	snprintf(state, sizeof state, "%s/client.db", dir);
	snprintf(netp, sizeof netp, "%s/network.json", dir);
	assert_int_equal(RUN("cert", "fetch", "--ca", url[C2], "--handle", h[4], "--out", cert,
	                     "--timeout", "30"),
	                 0);
	for (uint64_t dl = ctng_mono_ms() + 15 * PERIOD_MS;;) {
		assert_int_equal(RUN("client", "sync", "--monitor", url[M1], "--state", state,
		                     "--network", netp),
		                 0);
		int v = RUN("client", "verify", "--state", state, cert);
		if (v == 1 && strstr(errout, "ISSUER_CONVICTED"))
			break;
		if (ctng_mono_ms() > dl)
			fail_msg("ca2's certificate not refused: %d %s %s", v, out, errout);
		ctng_test_sleep_ms(PERIOD_MS / 2);
	}
	/* the counters */
	snprintf(u, sizeof u, "%s/ctng/v1/index", url[M1]);
	j = http_json(u, "GET", NULL, &s);
	assert_int_equal(s, 200);
	assert_true(json_integer_value(json_object_get(j, "certificates")) >= 5);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_index_e2e)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
