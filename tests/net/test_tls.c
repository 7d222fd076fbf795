/*
 * test_tls.c — HTTPS in src/net over real loopback sockets, with
 * certificates from the test PKI (ctng_net_tls_make_ca/_cert): a request
 * verified against the CA by IP address and by name; keep-alive reuse (one
 * connection for several requests) and keep-alive off; a pooled connection
 * the server closed is retried transparently; refusals with their reasons
 * (another CA, a wrong name, an expired certificate, plain HTTP to an HTTPS
 * port); a garbage ClientHello and a handshake that stalls neither block
 * the loop nor stop the server, and are counted; SIGHUP reloads the
 * server's certificate from its files; a request's own CA bundle
 * (ctng_net_client_opts.tls_ca: a file, or the system roots, here made
 * the other CA through SSL_CERT_FILE) instead of the loop's, with
 * connections pooled per bundle.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
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

#include "ctng/net.h"
#include "srv_fixture.h"
#include "testutil.h"

static char dir[] = "/tmp/ctng-test-tls-XXXXXX";
static char ca_file[256], other_ca_file[256];
static char good_cert[256], good_key[256], wrong_cert[256], wrong_key[256], old_cert[256],
    old_key[256], live_cert[256], live_key[256], foreign_cert[256], foreign_key[256];

static void copy_file(const char *from, const char *to)
{
	FILE *f = fopen(from, "r"), *g = fopen(to, "w");
	assert_true(f && g);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, g);
	fclose(f);
	fclose(g);
}

/* A certificate (chain: leaf + CA) and key signed by the CA. */
static void make_leaf(const char *ca_pem, const char *ca_key, const char *const *names, size_t n,
                      int64_t nb, int64_t na, const char *cert_path, const char *key_path)
{
	ctng_net_tls_cert_opts o = {
	    .cn = "node", .names = names, .n_names = n, .not_before = nb, .not_after = na};
	char *c = NULL, *k = NULL;
	ctng_err err = {0};
	if (ctng_net_tls_make_cert(ca_pem, ca_key, &o, &c, &k, &err))
		fail_msg("make_cert: %s", err.msg);
	ctng_test_write_file(cert_path, c, ca_pem);
	ctng_test_write_file(key_path, k, NULL);
	free(c);
	free(k);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	int64_t now = (int64_t)time(NULL);
	char *ca = NULL, *cak = NULL, *oca = NULL, *ocak = NULL;
	ctng_err err = {0};
	if (ctng_net_tls_make_ca("test CA", now - 3600, now + 86400, &ca, &cak, &err) ||
	    ctng_net_tls_make_ca("other CA", now - 3600, now + 86400, &oca, &ocak, &err))
		fail_msg("make_ca: %s", err.msg);
	snprintf(ca_file, sizeof ca_file, "%s/ca.pem", dir);
	snprintf(other_ca_file, sizeof other_ca_file, "%s/other-ca.pem", dir);
	ctng_test_write_file(ca_file, ca, NULL);
	ctng_test_write_file(other_ca_file, oca, NULL);
#define P(v, name) snprintf(v, sizeof v, "%s/" name, dir)
	P(good_cert, "good.pem");
	P(good_key, "good.key");
	P(wrong_cert, "wrong.pem");
	P(wrong_key, "wrong.key");
	P(old_cert, "old.pem");
	P(old_key, "old.key");
	P(live_cert, "live.pem");
	P(live_key, "live.key");
	P(foreign_cert, "foreign.pem");
	P(foreign_key, "foreign.key");
#undef P
	const char *good[] = {"127.0.0.1", "localhost"};
	const char *wrong[] = {"other.example", "10.9.8.7"};
	make_leaf(ca, cak, good, 2, now - 3600, now + 86400, good_cert, good_key);
	make_leaf(ca, cak, wrong, 2, now - 3600, now + 86400, wrong_cert, wrong_key);
	make_leaf(ca, cak, good, 2, now - 7200, now - 3600, old_cert, old_key);
	make_leaf(oca, ocak, good, 2, now - 3600, now + 86400, foreign_cert, foreign_key);
	free(ca);
	free(cak);
	free(oca);
	free(ocak);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ctng_test_rm_rf(dir);
	return 0;
}

/* ------------------------------------------------------------- server */

static void h_hello(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "hello", "tls"));
}

static const struct srv_route routes[] = {{"GET", "/hello", h_hello}, {NULL, NULL, NULL}};

static void start(struct srv *s, const char *cert, const char *key, uint64_t idle_ms, bool signals)
{
	ctng_net_server_opts o = {.tls_cert_file = cert,
	                          .tls_key_file = key,
	                          .header_timeout_ms = 300,
	                          .idle_timeout_ms = idle_ms};
	srv_start(s, &o, routes, signals);
}

static void stop(struct srv *s)
{
	srv_stop(s);
}

/* ------------------------------------------------------------- client */

struct result {
	ctng_net_loop *loop;
	bool done;
	int status;
	char body[256];
	ctng_err err;
};

static void on_response(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct result *r = arg;
	r->done = true;
	r->status = status;
	snprintf(r->body, sizeof r->body, "%.*s", (int)(len < 255 ? len : 255), (const char *)body);
	if (err)
		r->err = *err;
	ctng_net_loop_stop(r->loop);
}

/* One GET on the client loop; returns the status (0 on failure, err set). */
static int get(ctng_net_loop *loop, const char *url, struct result *r)
{
	memset(r, 0, sizeof *r);
	r->loop = loop;
	ctng_err err = {0};
	if (ctng_net_get(loop, url, 5000, on_response, r, &err))
		fail_msg("get %s: %s", url, err.msg);
	while (!r->done)
		assert_int_equal(ctng_net_loop_run(loop, NULL), 0);
	return r->status;
}

static ctng_net_loop *client(const char *ca)
{
	ctng_err err = {0};
	ctng_net_loop *loop = ctng_net_loop_new(&err);
	assert_non_null(loop);
	if (ctng_net_loop_set_tls_ca(loop, ca, &err))
		fail_msg("set_tls_ca: %s", err.msg);
	return loop;
}

static void expect_refused(ctng_net_loop *loop, const char *url, const char *needle)
{
	struct result r;
	assert_int_equal(get(loop, url, &r), 0);
	assert_int_equal(r.err.code, CTNG_EIO);
	if (!strstr(r.err.msg, needle))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", url, r.err.msg, needle);
}

static void test_https_and_keepalive(void **state)
{
	(void)state;
	struct srv s;
	start(&s, good_cert, good_key, 0, false);
	ctng_net_loop *c = client(ca_file);
	char url[128];
	struct result r;
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", s.port);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(c, url, &r), 200);
		assert_string_equal(r.body, "{\"hello\":\"tls\"}");
		assert_int_equal(ctng_net_loop_idle_connections(c), 1); /* kept for the next */
	}
	/* by name: the certificate names localhost */
	snprintf(url, sizeof url, "https://localhost:%u/hello", s.port);
	assert_int_equal(get(c, url, &r), 200);
	/* keep-alive off: a connection per request */
	ctng_net_loop_set_keepalive(c, false);
	assert_int_equal(ctng_net_loop_idle_connections(c), 0);
	assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(ctng_net_loop_idle_connections(c), 0);
	ctng_net_loop_free(c);
	stop(&s);
	assert_int_equal(s.stats.requests, 6);
	assert_int_equal(s.stats.accepted, 4); /* 1 (IP, reused 3x) + 1 (name) + 2 */
	assert_int_equal(s.stats.tls_failures, 0);
}

static void test_stale_pooled_connection(void **state)
{
	(void)state;
	struct srv s;
	start(&s, good_cert, good_key, 100, false); /* the server drops idle ones fast */
	ctng_net_loop *c = client(ca_file);
	char url[128];
	struct result r;
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", s.port);
	assert_int_equal(get(c, url, &r), 200);
	ctng_test_sleep_ms(400); /* the pooled connection is closed by now */
	assert_int_equal(get(c, url, &r), 200);
	ctng_net_loop_free(c);
	stop(&s);
	assert_int_equal(s.stats.requests, 2);
}

static void test_refusals(void **state)
{
	(void)state;
	struct srv good, wrong, old;
	start(&good, good_cert, good_key, 0, false);
	start(&wrong, wrong_cert, wrong_key, 0, false);
	start(&old, old_cert, old_key, 0, false);
	char url[128];
	ctng_net_loop *other = client(other_ca_file);
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", good.port);
	expect_refused(other, url,
	               "certificate verify failed: self-signed certificate in certificate chain");
	ctng_net_loop_free(other);
	ctng_net_loop *c = client(ca_file);
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", wrong.port);
	expect_refused(c, url, "IP address mismatch");
	snprintf(url, sizeof url, "https://localhost:%u/hello", wrong.port);
	expect_refused(c, url, "hostname mismatch");
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", old.port);
	expect_refused(c, url, "certificate has expired");
	/* plain HTTP to an HTTPS port: no answer, no crash */
	snprintf(url, sizeof url, "http://127.0.0.1:%u/hello", good.port);
	struct result r;
	assert_int_equal(get(c, url, &r), 0);
	/* a closed port is a refused connection, not a TLS failure */
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", ctng_test_free_port());
	expect_refused(c, url, "refused");
	/* and the good one still serves */
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", good.port);
	assert_int_equal(get(c, url, &r), 200);
	ctng_net_loop_free(c);
	stop(&good);
	stop(&wrong);
	stop(&old);
	assert_int_equal(good.stats.requests, 1);
	assert_true(good.stats.tls_failures >= 2); /* other CA (client gave up), plain HTTP */
	assert_int_equal(wrong.stats.requests, 0);
	assert_int_equal(old.stats.requests, 0);
}

static void test_garbage_and_stalls(void **state)
{
	(void)state;
	struct srv s;
	start(&s, good_cert, good_key, 0, false);
	/* garbage instead of a ClientHello: the connection goes */
	char junk[600];
	memset(junk, 'G', sizeof junk);
	char *out = ctng_test_raw_http(s.port, junk, sizeof junk, false, 5000);
	free(out);
	/* a handshake that stops after a few bytes of a TLS record header */
	int fd = ctng_test_connect(s.port, 5000);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, "\x16\x03\x01\x02\x00\x01", 6, 0), 6);
	/* meanwhile the loop serves others */
	ctng_net_loop *c = client(ca_file);
	char url[128];
	struct result r;
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", s.port);
	assert_int_equal(get(c, url, &r), 200);
	/* and the staller is closed at the head deadline */
	size_t n = 1;
	char *rest = ctng_test_recv_all(fd, &n);
	assert_int_equal(n, 0);
	free(rest);
	close(fd);
	ctng_net_loop_free(c);
	stop(&s);
	assert_int_equal(s.stats.requests, 1);
	assert_true(s.stats.tls_failures >= 2);
	assert_int_equal(s.stats.open, 0);
}

static void test_sighup_reload(void **state)
{
	(void)state;
	copy_file(good_cert, live_cert);
	copy_file(good_key, live_key);
	struct srv s;
	start(&s, live_cert, live_key, 0, true);
	ctng_net_loop *c = client(ca_file);
	ctng_net_loop_set_keepalive(c, false);
	char url[128];
	struct result r;
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", s.port);
	assert_int_equal(get(c, url, &r), 200);
	/* the operator puts an (expired) certificate in place and sends SIGHUP */
	copy_file(old_cert, live_cert);
	copy_file(old_key, live_key);
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	bool reloaded = false;
	for (int i = 0; i < 100 && !reloaded; i++) {
		ctng_test_sleep_ms(20);
		get(c, url, &r);
		reloaded = r.status == 0 && strstr(r.err.msg, "certificate has expired");
	}
	assert_true(reloaded);
	/* a file that does not load keeps the certificate in use */
	ctng_test_write_file(live_cert, "not a certificate\n", NULL);
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	ctng_test_sleep_ms(200);
	get(c, url, &r);
	assert_non_null(strstr(r.err.msg, "certificate has expired"));
	ctng_net_loop_free(c);
	stop(&s);
}

/* One GET with a per-request CA bundle. */
static int get_with_ca(ctng_net_loop *loop, const char *url, const char *tls_ca, struct result *r)
{
	memset(r, 0, sizeof *r);
	r->loop = loop;
	ctng_err err = {0};
	ctng_net_client_opts o = {.timeout_ms = 5000, .tls_ca = tls_ca};
	if (ctng_net_request(loop, "GET", url, NULL, 0, &o, on_response, r, &err))
		fail_msg("get %s: %s", url, err.msg);
	while (!r->done)
		assert_int_equal(ctng_net_loop_run(loop, NULL), 0);
	return r->status;
}

static void test_request_ca(void **state)
{
	(void)state;
	/* a webhook receiver whose certificate the network's CA did not sign */
	struct srv s;
	start(&s, foreign_cert, foreign_key, 0, false);
	ctng_net_loop *c = client(ca_file); /* the loop verifies against the network CA */
	char url[128];
	struct result r;
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", s.port);
	expect_refused(c, url, "certificate verify failed");
	/* the request names the receiver's CA: verified, served, pooled */
	assert_int_equal(get_with_ca(c, url, other_ca_file, &r), 200);
	assert_string_equal(r.body, "{\"hello\":\"tls\"}");
	assert_int_equal(get_with_ca(c, url, other_ca_file, &r), 200);
	assert_int_equal(ctng_net_loop_idle_connections(c), 1);
	/* that connection is not reused for a request verified another way */
	assert_int_equal(get_with_ca(c, url, NULL, &r), 0);
	assert_non_null(strstr(r.err.msg, "certificate verify failed"));
	assert_int_equal(get_with_ca(c, url, ca_file, &r), 0);
	assert_non_null(strstr(r.err.msg, "certificate verify failed"));
	/* the system roots do not know the test CA */
	assert_int_equal(get_with_ca(c, url, CTNG_NET_TLS_SYSTEM_ROOTS, &r), 0);
	assert_non_null(strstr(r.err.msg, "certificate verify failed"));
	/* an unreadable bundle is a clear error */
	assert_int_equal(get_with_ca(c, url, "/nonexistent/ca.pem", &r), 0);
	assert_int_equal(r.err.code, CTNG_EINVAL);
	assert_non_null(strstr(r.err.msg, "TLS CA bundle /nonexistent/ca.pem"));
	ctng_net_loop_free(c);
	/* "the system roots" are OpenSSL's default paths: SSL_CERT_FILE names them */
	setenv("SSL_CERT_FILE", other_ca_file, 1);
	c = client(ca_file);
	assert_int_equal(get_with_ca(c, url, CTNG_NET_TLS_SYSTEM_ROOTS, &r), 200);
	expect_refused(c, url, "certificate verify failed"); /* the loop's bundle still */
	ctng_net_loop_free(c);
	unsetenv("SSL_CERT_FILE");
	stop(&s);
	assert_int_equal(s.stats.requests, 3);
}

static void test_resumption(void **state)
{
	(void)state;
	struct srv s, other;
	start(&s, good_cert, good_key, 0, false);
	start(&other, foreign_cert, foreign_key, 0, false);
	ctng_net_loop *c = client(ca_file);
	ctng_net_loop_set_keepalive(c, false); /* a handshake per request */
	char url[128], ourl[128];
	struct result r;
	snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", s.port);
	snprintf(ourl, sizeof ourl, "https://127.0.0.1:%u/hello", other.port);
	for (int i = 0; i < 4; i++)
		assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(ctng_net_loop_tls_resumed(c), 3); /* all but the first */
	/* a session is for its peer and its CA bundle only: the other server,
	 * and this one verified under another bundle, get full handshakes */
	assert_int_equal(get_with_ca(c, ourl, other_ca_file, &r), 200);
	assert_int_equal(ctng_net_loop_tls_resumed(c), 3);
	assert_int_equal(get_with_ca(c, url, CTNG_NET_TLS_SYSTEM_ROOTS, &r), 0);
	assert_non_null(strstr(r.err.msg, "certificate verify failed"));
	assert_int_equal(get_with_ca(c, ourl, other_ca_file, &r), 200);
	assert_int_equal(ctng_net_loop_tls_resumed(c), 4);
	/* a new bundle for the loop drops the sessions */
	ctng_err err = {0};
	assert_int_equal(ctng_net_loop_set_tls_ca(c, ca_file, &err), 0);
	assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(ctng_net_loop_tls_resumed(c), 4);
	assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(ctng_net_loop_tls_resumed(c), 5);
	/* off: every handshake is full */
	ctng_net_loop_set_tls_resumption(c, false);
	assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(get(c, url, &r), 200);
	assert_int_equal(ctng_net_loop_tls_resumed(c), 5);
	ctng_net_loop_free(c);
	stop(&s);
	stop(&other);
	assert_int_equal(s.stats.requests, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_https_and_keepalive),
	    cmocka_unit_test(test_stale_pooled_connection),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_garbage_and_stalls),
	    cmocka_unit_test(test_sighup_reload),
	    cmocka_unit_test(test_request_ca),
	    cmocka_unit_test(test_resumption),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
