/*
 * test_live_network.c — a running seed network (`ctng testnet`, separate
 * processes on loopback, certificates requested and revoked by its traffic
 * driver) looked at from outside, as an operator would:
 *   - GET /metrics of every logger, CA, monitor and gossiper passes
 *     Prometheus's parser and linter (`promtool check metrics`) and carries
 *     the numbers the run must have produced (STHs published, SCTs, FULLs
 *     made, updates published, peers up);
 *   - /metrics is read-only: only GET is routed, and scraping changes no
 *     protocol state.
 * The network runs once for every case (group setup) and must still pass
 * its own checks at the end.
 */
#include <errno.h>
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

#include "ctng/base.h"
#include "ctng/net.h"
#include "testutil.h"

#define PERIODS   "6"
#define PERIOD_MS 2000

static struct {
	char dir[64];
	char out[128];
	uint16_t base;
	pid_t pid;
} net;

static const struct node {
	const char *id, *role;
	uint16_t off;
} nodes[] = {
    {"logger1", "logger", 0},
    {"logger2", "logger", 1},
    {"logger3", "logger", 2},
    {"ca1", "ca", 100},
    {"ca2", "ca", 101},
    {"ca3", "ca", 102},
    {"monitor1", "monitor", 200},
    {"monitor2", "monitor", 201},
    {"monitor3", "monitor", 202},
    {"monitor4", "monitor", 203},
    {"gossiper1", "gossiper", 300},
    {"gossiper2", "gossiper", 301},
    {"gossiper3", "gossiper", 302},
    {"gossiper4", "gossiper", 303},
};
#define NNODES (sizeof nodes / sizeof nodes[0])

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *t = calloc(1, 1 << 20);
	size_t n = fread(t, 1, (1 << 20) - 1, f);
	t[n] = 0;
	fclose(f);
	return t;
}

/* Lines of testnet --json output that are per-period cells. */
static int cells_printed(void)
{
	char *t = read_text(net.out);
	int n = 0;
	for (char *p = t; p && (p = strstr(p, "{\"period\"")); p++)
		n++;
	free(t);
	return n;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(net.dir, sizeof net.dir, "/tmp/ctng-it-live-XXXXXX");
	if (!mkdtemp(net.dir))
		return -1;
	snprintf(net.out, sizeof net.out, "%s/out.jsonl", net.dir);
	net.base = ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS);
	char base[16], netdir[96];
	snprintf(base, sizeof base, "%u", net.base);
	snprintf(netdir, sizeof netdir, "%s/net", net.dir);
	net.pid = fork();
	if (net.pid == 0) {
		int fd = open(net.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(CTNG_BIN, CTNG_BIN, "testnet", "--periods", PERIODS, "--period-ms", "2000",
		      "--json", "--port-base", base, "--dir", netdir, (char *)NULL);
		_exit(127);
	}
	if (net.pid < 0)
		return -1;
	for (size_t i = 0; i < NNODES; i++)
		if (ctng_test_wait_port((uint16_t)(net.base + nodes[i].off), net.pid, 20000) != 0)
			return -1;
	/* Two whole periods of gossip, updates and issuance before looking. */
	for (int i = 0; i < 200 && cells_printed() < 8; i++)
		ctng_test_sleep_ms(100);
	return cells_printed() >= 8 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	int st = -1;
	if (net.pid > 0)
		waitpid(net.pid, &st, 0);
	char *t = read_text(net.out);
	bool pass =
	    WIFEXITED(st) && WEXITSTATUS(st) == 0 && t && strstr(t, "\"result\":\"pass\"") != NULL;
	if (!pass)
		fprintf(stderr, "testnet failed (status %d):\n%s\nlogs kept in %s\n", st,
		        t ? t : "(no output)", net.dir);
	free(t);
	if (pass)
		ctng_test_rm_rf(net.dir);
	return pass ? 0 : -1;
}

/* GET (or another method) on a node; returns the status, body in *out. */
static int call(const struct node *n, const char *method, const char *path, char **out)
{
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", net.base + n->off, path);
	int st = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	ctng_err err = {0};
	if (ctng_net_fetch_sync(url, method, NULL, NULL, 0, 5000, &st, &body, &len, &err) != 0)
		fail_msg("%s %s: %s", method, url, err.msg);
	if (out)
		*out = (char *)body;
	else
		free(body);
	return st;
}

/* The value of the sample line "NAME{LABELS} V" (LABELS may be ""), or -1. */
static double sample(const char *text, const char *name, const char *labels)
{
	char key[512];
	snprintf(key, sizeof key, "\n%s%s%s%s ", name, *labels ? "{" : "", labels,
	         *labels ? "}" : "");
	const char *p = strstr(text, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* Sum of every sample of NAME whose labels contain PART. */
static double sum_samples(const char *text, const char *name, const char *part)
{
	double s = 0;
	size_t nl = strlen(name);
	for (const char *p = text; (p = strstr(p, name)); p += nl) {
		if ((p != text && p[-1] != '\n') || (p[nl] != '{' && p[nl] != ' '))
			continue;
		const char *eol = strchr(p, '\n');
		const char *sp = eol ? eol : p + strlen(p);
		while (sp > p && *sp != ' ')
			sp--;
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)(sp - p), p);
		if (!part || strstr(line, part))
			s += strtod(sp + 1, NULL);
	}
	return s;
}

static void promtool_check(const char *id, const char *text)
{
	char msg[8192];
	int st = ctng_test_promtool(text, msg, sizeof msg);
	if (st != 0)
		fail_msg("promtool rejects the metrics of %s (%d): %s", id, st, msg);
}

static void test_metrics_every_daemon(void **state)
{
	(void)state;
	double fulls_made = 0;
	for (size_t i = 0; i < NNODES; i++) {
		const struct node *n = &nodes[i];
		char *m = NULL;
		assert_int_equal(call(n, "GET", "/metrics", &m), 200);
		assert_non_null(m);
		promtool_check(n->id, m);
		char want[128];
		snprintf(want, sizeof want, "role=\"%s\",node=\"%s\"} 1\n", n->role, n->id);
		assert_non_null(strstr(m, want));
		assert_true(sample(m, "ctng_period_current", "") >= 1);
		assert_true(sum_samples(m, "ctng_http_requests_total", NULL) >= 1);
		assert_true(sample(m, "process_open_fds", "") > 0);
		if (!strcmp(n->role, "logger")) {
			assert_true(sample(m, "ctng_logger_sths_published_total", "") >= 1);
			assert_true(sum_samples(m, "ctng_logger_submissions_total",
			                        "result=\"logged\"") >= 1);
			assert_true(sample(m, "ctng_logger_tree_size", "") >= 1);
			assert_true(sum_samples(m, "ctng_db_commits_total", "result=\"ok\"") >= 1);
		} else if (!strcmp(n->role, "ca")) {
			assert_true(sample(m, "ctng_ca_revs_published_total", "") >= 1);
			assert_true(sum_samples(m, "ctng_ca_scts_total", "result=\"ok\"") >= 1);
			assert_true(sample(m, "ctng_peer_up", "peer=\"logger1\"") == 1);
		} else if (!strcmp(n->role, "monitor")) {
			assert_true(sample(m, "ctng_monitor_updates_published_total", "") >= 1);
			assert_true(sum_samples(m, "ctng_objects_total",
			                        "type=\"STH_FULL\",result=\"new\"") >= 1);
			assert_true(sum_samples(m, "ctng_peer_up", NULL) >= 4);
			assert_true(sample(m, "ctng_monitor_held_objects", "") >= 1);
		} else {
			assert_true(sample(m, "ctng_gossiper_made_total", "type=\"STH_FRAG\"") >=
			            1);
			fulls_made += sum_samples(m, "ctng_gossiper_made_total", "_FULL\"");
			assert_true(sum_samples(m, "ctng_period_phase_seconds_count",
			                        "phase=\"held_STH_FULL\"") >= 1);
			assert_true(sample(m, "ctng_peer_up", "peer=\"gossiper1\"") == 1 ||
			            !strcmp(n->id, "gossiper1"));
			assert_true(sample(m, "ctng_gossip_bytes_total", "direction=\"out\"") > 0);
		}
		free(m);
	}
	/* Every FULL of the run was combined by some gossiper. */
	assert_true(fulls_made >= 1);
}

static void test_metrics_read_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < NNODES; i++) {
		assert_int_equal(call(&nodes[i], "POST", "/metrics", NULL), 405);
		assert_int_equal(call(&nodes[i], "PUT", "/metrics", NULL), 405);
	}
	/* Fifty scrapes of a logger within one period leave its tree, its
	 * pending entries and its database commits where they were. */
	const struct node *lg = &nodes[0];
	for (int attempt = 0; attempt < 5; attempt++) {
		char *a = NULL, *b = NULL;
		assert_int_equal(call(lg, "GET", "/metrics", &a), 200);
		for (int k = 0; k < 50; k++)
			assert_int_equal(call(lg, "GET", "/metrics", NULL), 200);
		assert_int_equal(call(lg, "GET", "/metrics", &b), 200);
		bool same_period =
		    sample(a, "ctng_period_current", "") == sample(b, "ctng_period_current", "");
		bool same = sample(a, "ctng_logger_tree_size", "") ==
		                sample(b, "ctng_logger_tree_size", "") &&
		            sample(a, "ctng_logger_sths_published_total", "") ==
		                sample(b, "ctng_logger_sths_published_total", "") &&
		            sum_samples(a, "ctng_db_commits_total", NULL) ==
		                sum_samples(b, "ctng_db_commits_total", NULL);
		double scrapes = sample(b, "ctng_http_requests_total",
		                        "route=\"/metrics\",method=\"GET\",code=\"200\"") -
		                 sample(a, "ctng_http_requests_total",
		                        "route=\"/metrics\",method=\"GET\",code=\"200\"");
		free(a);
		free(b);
		if (!same_period)
			continue; /* a period boundary (new STH) fell in between: again */
		assert_true(same);
		assert_true(scrapes == 51);
		return;
	}
	fail_msg("no five scrapes of logger1 fell within one period");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_every_daemon),
	    cmocka_unit_test(test_metrics_read_only),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
