/*
 * test_live_network.c — a running seed network (`ctng testnet`, separate
 * processes on loopback, certificates requested and revoked by its traffic
 * driver) looked at from outside, as an operator would:
 *   - GET /metrics of every logger, CA, monitor and gossiper passes
 *     Prometheus's parser and linter (`promtool check metrics`) and carries
 *     the numbers the run must have produced (STHs published, SCTs, FULLs
 *     made, updates published, peers up);
 *   - /metrics is read-only: only GET is routed, and scraping changes no
 *     protocol state;
 *   - the monitor dashboard (GET /) loads in headless Chromium, driven by
 *     chromedriver over its WebDriver HTTP API, and shows what the JSON API
 *     (GET /ctng/v1/dashboard) gives: the timeline of every published
 *     period, the latest STHs, the conviction and its proof; text typed
 *     into the search box is shown as text, never run as HTML, and a real
 *     search lists the certificates the network issued as table rows; a
 *     screenshot is kept in BUILD/test-artifacts/dashboard.png; the
 *     testnet prints the URL of every monitor's dashboard.
 * The network (scenario split-logger: logger1 shows monitor3 another STH
 * and is convicted) runs once for every case (group setup) and must still
 * pass its own checks at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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
#include <jansson.h>

#include "ctng/base.h"
#include "ctng/net.h"
#include "testutil.h"

#define PERIODS   "8"
#define PERIOD_MS 2000

static struct {
	char dir[64];
	char out[128];
	uint16_t base;
	pid_t pid;
	pid_t driver;
	uint16_t driver_port;
	char session[128];
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

/* Rows of the testnet's table printed so far (one per period and gossiper:
 * "PERIOD  gossiperN  counts..."). */
static int cells_printed(void)
{
	char *t = read_text(net.out);
	int n = 0;
	for (char *line = t; line && *line;) {
		char *nl = strchr(line, '\n');
		unsigned long p;
		char g[16];
		if (sscanf(line, "%lu %15s", &p, g) == 2 && !strncmp(g, "gossiper", 8))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	free(t);
	return n;
}

/* ------------------------------------------------ WebDriver (chromedriver) */

/* One WebDriver command; returns the reply's "value" (new reference) or
 * NULL. body may be NULL (GET/DELETE). */
static json_t *wd(const char *method, const char *path, json_t *body)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", net.driver_port, path);
	char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	int st = 0;
	uint8_t *out = NULL;
	size_t len = 0;
	ctng_err err = {0};
	int rc = ctng_net_fetch_sync(url, method, txt ? "application/json" : NULL, txt,
	                             txt ? strlen(txt) : 0, 60000, &st, &out, &len, &err);
	free(txt);
	json_t *j = rc == 0 ? json_loadb((const char *)out, len, 0, NULL) : NULL;
	if (rc || st != 200)
		fprintf(stderr, "webdriver %s %s: %d %s %.500s\n", method, path, st, err.msg,
		        out ? (const char *)out : "");
	free(out);
	json_t *v = j && st == 200 ? json_incref(json_object_get(j, "value")) : NULL;
	json_decref(j);
	return v;
}

/* Runs script in the page (WebDriver "execute/sync") with one string
 * argument; returns its result (new reference). */
static json_t *page_eval(const char *script, const char *arg)
{
	char path[256];
	snprintf(path, sizeof path, "/session/%s/execute/sync", net.session);
	return wd("POST", path,
	          json_pack("{s:s, s:[s]}", "script", script, "args", arg ? arg : ""));
}

static int start_browser(void)
{
	net.driver_port = (uint16_t)(net.base + 400); /* probed free with the network's */
	char port[32];
	snprintf(port, sizeof port, "--port=%u", net.driver_port);
	net.driver = fork();
	if (net.driver == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execlp("chromedriver", "chromedriver", port, (char *)NULL);
		_exit(127);
	}
	if (net.driver < 0 || ctng_test_wait_port(net.driver_port, net.driver, 20000) != 0)
		return -1;
	char profile[128];
	snprintf(profile, sizeof profile, "--user-data-dir=%s/chromium", net.dir);
	json_t *caps = json_pack(
	    "{s:{s:{s:s, s:{s:s, s:[s,s,s,s,s,s,s,s,s,s,s]}}}}", "capabilities", "alwaysMatch",
	    "browserName", "chrome", "goog:chromeOptions", "binary", "/usr/bin/chromium", "args",
	    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	    "--disable-background-networking", "--disable-component-update", "--disable-sync",
	    "--disable-dev-shm-usage", "--window-size=1200,1400", profile);
	json_t *v = wd("POST", "/session", caps);
	const char *id = json_string_value(json_object_get(v, "sessionId"));
	if (id)
		snprintf(net.session, sizeof net.session, "%s", id);
	json_decref(v);
	return id ? 0 : -1;
}

static void stop_browser(void)
{
	if (net.session[0]) {
		char path[200];
		snprintf(path, sizeof path, "/session/%s", net.session);
		json_decref(wd("DELETE", path, NULL));
	}
	if (net.driver > 0)
		ctng_test_stop(net.driver, 10000);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(net.dir, sizeof net.dir, "/tmp/ctng-it-live-XXXXXX");
	if (!mkdtemp(net.dir))
		return -1;
	snprintf(net.out, sizeof net.out, "%s/out.jsonl", net.dir);
	uint16_t offsets[CTNG_TEST_NET_PORTS + 1];
	memcpy(offsets, ctng_test_net_ports, sizeof(uint16_t) * CTNG_TEST_NET_PORTS);
	offsets[CTNG_TEST_NET_PORTS] = 400; /* chromedriver */
	net.base = ctng_test_free_port_base(offsets, CTNG_TEST_NET_PORTS + 1);
	char base[16], netdir[96];
	snprintf(base, sizeof base, "%u", net.base);
	snprintf(netdir, sizeof netdir, "%s/net", net.dir);
	net.pid = fork();
	if (net.pid == 0) {
		int fd = open(net.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(CTNG_BIN, CTNG_BIN, "testnet", "--scenario", "split-logger", "--periods",
		      PERIODS, "--period-ms", "2000", "--port-base", base, "--dir", netdir,
		      (char *)NULL);
		_exit(127);
	}
	if (net.pid < 0)
		return -1;
	/* The browser starts while the network warms up. */
	if (start_browser() != 0)
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
	stop_browser();
	int st = -1;
	if (net.pid > 0)
		waitpid(net.pid, &st, 0);
	char *t = read_text(net.out);
	bool pass = WIFEXITED(st) && WEXITSTATUS(st) == 0 && t &&
	            strstr(t, "\nPASS: every count matched") != NULL;
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
	double fulls_made = 0, frags_made = 0;
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
			frags_made += sum_samples(m, "ctng_gossiper_made_total", "_FRAG\"");
			fulls_made += sum_samples(m, "ctng_gossiper_made_total", "_FULL\"");
			assert_true(sum_samples(m, "ctng_period_phase_seconds_count",
			                        "phase=\"held_STH_FULL\"") >= 1);
			assert_true(sample(m, "ctng_peer_up", "peer=\"gossiper1\"") == 1 ||
			            !strcmp(n->id, "gossiper1"));
			assert_true(sample(m, "ctng_gossip_bytes_total", "direction=\"out\"") > 0);
		}
		free(m);
	}
	/* Every partial was signed and every FULL combined by some gossiper
	 * (which ones depends on their ranks and who was first). */
	assert_true(frags_made >= 2);
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

/* The status of entity id in one period of the JSON (as the page decides it). */
static const char *status_in(json_t *p, const char *id)
{
	if (!json_is_true(json_object_get(p, "published")))
		return "none";
	const char *lists[] = {"convicted", "accused", "attested"};
	for (int k = 0; k < 3; k++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(p, lists[k]), i,
		                   v) if (!strcmp(json_string_value(v), id)) return lists[k];
	}
	return "none";
}

/* The raw answer (status line, headers, body) to GET path on a node. */
static char *raw_get(const struct node *n, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(net.base + n->off)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	char req[256];
	int len = snprintf(req, sizeof req,
	                   "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	assert_int_equal(write(fd, req, (size_t)len), len);
	size_t cap = 1 << 16, got = 0;
	char *buf = calloc(1, cap);
	ssize_t k;
	while (got < cap - 1 && (k = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)k;
	close(fd);
	return buf;
}

static void test_dashboard_headers(void **state)
{
	(void)state;
	/* The testnet names the dashboard of every monitor it started. */
	char *t = read_text(net.out), want[160];
	assert_non_null(t);
	snprintf(want, sizeof want,
	         "\ndashboards: http://127.0.0.1:%u/ http://127.0.0.1:%u/ "
	         "http://127.0.0.1:%u/ http://127.0.0.1:%u/\n",
	         net.base + 200, net.base + 201, net.base + 202, net.base + 203);
	assert_non_null(strstr(t, want));
	free(t);
	char *r = raw_get(&nodes[6], "/");
	assert_non_null(strstr(r, " 200 "));
	assert_non_null(strstr(r, "Content-Type: text/html; charset=utf-8\r\n"));
	assert_non_null(
	    strstr(r, "Content-Security-Policy: default-src 'none'; script-src 'self';"));
	assert_non_null(strstr(r, "X-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(r, "<script src=\"/dashboard.js\"></script>"));
	assert_null(strstr(r, "<script>")); /* no inline script */
	free(r);
	r = raw_get(&nodes[6], "/dashboard.js");
	assert_non_null(strstr(r, "Content-Type: text/javascript; charset=utf-8\r\n"));
	assert_null(strstr(r, "innerHTML")); /* text goes in with textContent only */
	free(r);
}

static json_t *dashboard_json(void)
{
	char *body = NULL;
	assert_int_equal(call(&nodes[6], "GET", "/ctng/v1/dashboard?periods=16", &body), 200);
	json_t *j = json_loads(body, 0, NULL);
	free(body);
	assert_non_null(j);
	return j;
}

static void save_screenshot(void)
{
	char path[256];
	snprintf(path, sizeof path, "/session/%s/screenshot", net.session);
	json_t *v = wd("GET", path, NULL);
	const char *b64 = json_string_value(v);
	assert_non_null(b64);
	uint8_t *png = NULL;
	size_t len = 0;
	ctng_err err = {0};
	assert_int_equal(ctng_b64_decode_alloc(b64, strlen(b64), &png, &len, &err), 0);
	assert_true(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
	char dir[512], file[600];
	snprintf(dir, sizeof dir, "%s/test-artifacts", CTNG_BUILD_DIR);
	assert_int_equal(ctng_mkdir_p(dir, 0755, &err), 0);
	snprintf(file, sizeof file, "%s/dashboard.png", dir);
	assert_int_equal(ctng_write_file_atomic(file, png, len, 0644, &err), 0);
	fprintf(stderr, "dashboard screenshot: %s (%zu bytes)\n", file, len);
	free(png);
	json_decref(v);
}

static void test_dashboard_in_chromium(void **state)
{
	(void)state;
	char url[128], path[200];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/", net.base + nodes[6].off);
	snprintf(path, sizeof path, "/session/%s/url", net.session);
	json_decref(wd("POST", path, json_pack("{s:s}", "url", url)));
	/* The page fetched the JSON and rendered it. */
	json_t *ready = NULL;
	for (int i = 0; i < 100; i++) {
		ready = page_eval("return document.body.dataset.ready === '1' ? "
		                  "document.body.dataset.lastPublished : null;",
		                  NULL);
		if (json_is_string(ready))
			break;
		json_decref(ready);
		ready = NULL;
		ctng_test_sleep_ms(100);
	}
	assert_non_null(ready);
	json_decref(ready);
	/* Every value the page shows, keyed by its data-k. */
	json_t *shown_txt =
	    page_eval("const o = {}; document.querySelectorAll('[data-k]').forEach("
	              "e => { o[e.dataset.k] = e.dataset.status || e.textContent; });"
	              "return JSON.stringify(o);",
	              NULL);
	assert_true(json_is_string(shown_txt));
	json_t *shown = json_loads(json_string_value(shown_txt), 0, NULL);
	json_decref(shown_txt);
	assert_non_null(shown);
	json_t *api = dashboard_json();

	/* The timeline: every published period both hold, every entity. */
	size_t i, k, cells = 0, attested = 0, convicted = 0;
	json_t *p, *e;
	json_array_foreach(json_object_get(api, "periods"), i, p)
	{
		json_array_foreach(json_object_get(api, "entities"), k, e)
		{
			const char *id = json_string_value(json_object_get(e, "id"));
			char key[128];
			snprintf(key, sizeof key, "tl.%s.%lld", id,
			         (long long)json_integer_value(json_object_get(p, "period")));
			const char *dom = json_string_value(json_object_get(shown, key));
			if (!dom)
				continue; /* published after the page loaded */
			const char *want = status_in(p, id);
			if (strcmp(dom, want) != 0)
				fail_msg("%s: page shows %s, JSON says %s", key, dom, want);
			cells++;
			attested += !strcmp(want, "attested");
			convicted += !strcmp(want, "convicted") && !strcmp(id, "logger1");
		}
	}
	assert_true(cells >= 6);
	assert_true(attested >= 4);
	assert_true(convicted >= 1); /* split-logger: logger1 convicted */
	/* The latest STHs: the same tree size whenever both show one period. */
	size_t sths = 0;
	json_array_foreach(json_object_get(api, "entities"), k, e)
	{
		const char *id = json_string_value(json_object_get(e, "id"));
		json_t *sth = json_object_get(e, "sth");
		if (!json_is_object(sth))
			continue;
		char kp[128], ks[128], num[32];
		snprintf(kp, sizeof kp, "sth.%s.sth_period", id);
		snprintf(ks, sizeof ks, "sth.%s.tree_size", id);
		snprintf(num, sizeof num, "%lld",
		         (long long)json_integer_value(json_object_get(sth, "period")));
		const char *dp = json_string_value(json_object_get(shown, kp));
		if (!dp || strcmp(dp, num) != 0)
			continue;
		snprintf(num, sizeof num, "%lld",
		         (long long)json_integer_value(json_object_get(sth, "tree_size")));
		assert_string_equal(json_string_value(json_object_get(shown, ks)), num);
		sths++;
	}
	assert_true(sths >= 1);
	/* The conviction and its proof, with the evidence. */
	assert_string_equal(json_string_value(json_object_get(shown, "status.logger1")),
	                    "convicted");
	assert_non_null(json_object_get(shown, "pom.logger1.conflict"));
	assert_true(json_array_size(json_object_get(api, "poms")) >= 1);
	json_decref(api);
	json_decref(shown);

	/* The JSON API refuses what it does not serve. */
	assert_int_equal(call(&nodes[6], "GET", "/ctng/v1/dashboard?periods=0", NULL), 400);
	assert_int_equal(call(&nodes[6], "GET", "/ctng/v1/dashboard?periods=65", NULL), 400);
	assert_int_equal(call(&nodes[6], "POST", "/ctng/v1/dashboard", NULL), 405);
	assert_int_equal(call(&nodes[6], "POST", "/", NULL), 405);

	/* Outside text is shown, never run: a "domain" that is HTML. */
	const char *evil = "<img src=x id=xss onerror=\"document.body.dataset.pwned=1\">";
	json_decref(page_eval("document.getElementById('domain').value = arguments[0];"
	                      "document.getElementById('search').requestSubmit(); return 1;",
	                      evil));
	json_t *msg = NULL;
	for (int t = 0; t < 50; t++) {
		msg = page_eval(
		    "const s = document.getElementById('search-status').textContent;"
		    "return s.indexOf(arguments[0]) >= 0 && s.indexOf('…') < 0 ? s : null;",
		    evil);
		if (json_is_string(msg))
			break;
		json_decref(msg);
		msg = NULL;
		ctng_test_sleep_ms(100);
	}
	assert_non_null(msg);
	json_decref(msg);
	json_t *safe = page_eval("return document.getElementById('xss') === null && "
	                         "!document.body.dataset.pwned;",
	                         NULL);
	assert_true(json_is_true(safe));
	json_decref(safe);

	/* A real search (issue 11 item 4): the certificates the traffic driver
	 * had ca1 issue, one table row each, with their names and issuer. */
	json_decref(page_eval("document.getElementById('domain').value = 'ca1.example';"
	                      "document.getElementById('subdomains').checked = true;"
	                      "document.getElementById('search').requestSubmit(); return 1;",
	                      NULL));
	json_t *row = NULL;
	for (int t = 0; t < 100 && !json_is_string(row); t++) {
		json_decref(row);
		if (t)
			ctng_test_sleep_ms(200);
		row = page_eval("const t = document.getElementById('results');"
		                "return !t.hidden && t.tBodies[0].rows.length > 0 ?"
		                " t.tBodies[0].rows[0].textContent : null;",
		                NULL);
		if (!json_is_string(row) && t % 10 == 9) /* indexed since: ask again */
			json_decref(page_eval("document.getElementById('search').requestSubmit();"
			                      " return 1;",
			                      NULL));
	}
	if (!json_is_string(row))
		fail_msg("the dashboard's search shows no certificate of ca1");
	assert_non_null(strstr(json_string_value(row), ".ca1.example"));
	assert_non_null(strstr(json_string_value(row), "ca1"));
	json_decref(row);
	save_screenshot();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_every_daemon),
	    cmocka_unit_test(test_metrics_read_only),
	    cmocka_unit_test(test_dashboard_headers),
	    cmocka_unit_test(test_dashboard_in_chromium),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
