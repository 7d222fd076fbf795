/*
 * test_server.c — the HTTP server of src/net under bad and greedy peers,
 * over real loopback sockets: exact statuses for bad lengths and chunk
 * sizes answered at once with a JSON body (413 included), keep-alive with
 * pipelined requests, HEAD, chunked bodies, deadlines for slow heads and
 * bodies (408) and idle connections, the connection cap (idle connections
 * displaced first, then 503 with a reason), and the budget of buffered
 * bytes (the largest request still arriving is shed with 503).
 *
 * Each test runs its own server on a thread and talks to it with raw
 * sockets; counters are read after the thread stopped. No timing is
 * asserted: waits are bounded reads.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/net.h"
#include "srv_fixture.h"
#include "testutil.h"

static void h_hello(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "hello", "world"));
}

static void h_len(ctng_net_req *req, void *arg)
{
	(void)arg;
	size_t len;
	const uint8_t *b = ctng_net_req_body(req, &len);
	ctng_net_reply_json(req, 200,
	                    json_pack("{s:I,s:s#}", "len", (json_int_t)len, "head", (const char *)b,
	                              (int)(len < 16 ? len : 16)));
}

static const struct srv_route routes[] = {
    {"GET", "/hello", h_hello}, {"POST", "/len", h_len}, {NULL, NULL, NULL}};

static void start(struct srv *s, const ctng_net_server_opts *o)
{
	srv_start(s, o, routes, false);
}

static void stop(struct srv *s)
{
	srv_stop(s);
}

static char *exchange(struct srv *s, const char *req)
{
	return ctng_test_raw_http(s->port, req, strlen(req), true, 10000);
}

/* resp starts with "HTTP/1.1 <status> ", closes the connection and carries
 * a JSON {"error": ...} body mentioning needle. */
static void expect_error(const char *resp, int status, const char *needle)
{
	char want[32];
	snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
	if (strncmp(resp, want, strlen(want)) != 0)
		fail_msg("wanted %d, got: %.200s", status, resp);
	assert_non_null(strstr(resp, "Content-Type: application/json\r\n"));
	const char *body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	json_t *j = json_loads(body + 4, 0, NULL);
	if (!j)
		fail_msg("body is not JSON: %s", body + 4);
	const char *e = json_string_value(json_object_get(j, "error"));
	assert_non_null(e);
	if (needle && !strstr(e, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", e, needle);
	json_decref(j);
}

static void test_exact_statuses(void **state)
{
	(void)state;
	struct srv s;
	ctng_net_server_opts o = {.max_body = 1024};
	start(&s, &o);
	struct {
		const char *req;
		int status;
		const char *needle;
	} cases[] = {
	    /* A length no server could hold: 413 at once, not a hang. */
	    {"POST /len HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 413, "limit"},
	    {"POST /len HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413, "1024"},
	    {"POST /len HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
	    {"POST /len HTTP/1.1\r\nContent-Length: zz\r\n\r\n", 400, "Content-Length"},
	    {"POST /len HTTP/1.1\r\n\r\n", 411, NULL},
	    {"POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400, "chunk size"},
	    {"POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"},
	    {"POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", 413, "1024"},
	    {"POST /len HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"},
	    {"POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
	     "both"},
	    {"GET /hello HTTP/2.0\r\n\r\n", 505, NULL},
	    {"GET /hello HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, NULL},
	    {"GET /nothing HTTP/1.1\r\n\r\n", 404, "/nothing"},
	    {"PATCH /hello HTTP/1.1\r\n\r\n", 405, NULL},
	    {"GET http://x/hello HTTP/1.1\r\n\r\n", 400, "absolute path"},
	    {"GET /hello?a=%zz HTTP/1.1\r\n\r\n", 400, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *r = exchange(&s, cases[i].req);
		expect_error(r, cases[i].status, cases[i].needle);
		free(r);
	}
	/* A head over 64 KiB is 431. */
	size_t n = 70000;
	char *big = malloc(n + 64);
	int hl = snprintf(big, 64, "GET /hello HTTP/1.1\r\nX: ");
	memset(big + hl, 'a', n);
	strcpy(big + hl + n, "\r\n\r\n");
	char *r = exchange(&s, big);
	expect_error(r, 431, NULL);
	free(r);
	free(big);
	/* The server keeps serving. */
	r = exchange(&s, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	free(r);
	stop(&s);
	assert_true(s.stats.bad_requests >= 11);
	assert_int_equal(s.stats.buffered, 0);
}

static void test_keepalive_pipelining(void **state)
{
	(void)state;
	struct srv s;
	start(&s, NULL);
	/* Three requests in one write: three answers in order, the connection
	 * stays open until the last asks to close. */
	const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
	                  "POST /len HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde"
	                  "POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                  "3\r\nxyz\r\n2;e=1\r\n12\r\n0\r\nT: v\r\n\r\n"
	                  "HEAD /hello HTTP/1.1\r\nConnection: close\r\n\r\n";
	char *r = ctng_test_raw_http(s.port, req, strlen(req), false, 10000);
	const char *a = strstr(r, "{\"hello\":\"world\"}");
	const char *b = strstr(r, "{\"len\":5,\"head\":\"abcde\"}");
	const char *c = strstr(r, "{\"len\":5,\"head\":\"xyz12\"}");
	const char *d = b ? strstr(c ? c : b, "HTTP/1.1 200 OK") : NULL;
	if (!a || !b || !c || !d || !(a < b && b < c && c < d))
		fail_msg("pipelined answers missing or out of order: %s", r);
	/* The HEAD answer has the length of the GET body but no body. */
	assert_non_null(strstr(d, "Content-Length: 17\r\n"));
	assert_non_null(strstr(d, "Connection: close\r\n"));
	assert_null(strstr(d, "{\"hello\""));
	free(r);
	/* HTTP/1.0 closes unless asked to keep alive. */
	r = exchange(&s, "GET /hello HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "Connection: close\r\n"));
	free(r);
	stop(&s);
	assert_int_equal(s.stats.requests, 5);
	assert_int_equal(s.stats.accepted, 2);
}

static void test_slow_peers(void **state)
{
	(void)state;
	struct srv s;
	ctng_net_server_opts o = {
	    .header_timeout_ms = 300, .body_timeout_ms = 300, .idle_timeout_ms = 300};
	start(&s, &o);
	/* A head that trickles in: 408, then the connection goes. */
	int fd = ctng_test_connect(s.port, 10000);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, "GET /hello HTTP/1.1\r\nX-Slow: ", 29, 0), 29);
	char *r = ctng_test_recv_all(fd, NULL);
	expect_error(r, 408, "head");
	free(r);
	close(fd);
	/* A body that never completes: 408 too. */
	const char *part = "POST /len HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly this";
	fd = ctng_test_connect(s.port, 10000);
	assert_int_equal(send(fd, part, strlen(part), 0), (ssize_t)strlen(part));
	r = ctng_test_recv_all(fd, NULL);
	expect_error(r, 408, "body");
	free(r);
	close(fd);
	/* A connection that sends nothing is closed without a word; so is a
	 * kept-alive one that goes idle. */
	fd = ctng_test_connect(s.port, 10000);
	size_t n = 99;
	r = ctng_test_recv_all(fd, &n);
	assert_int_equal(n, 0);
	free(r);
	close(fd);
	fd = ctng_test_connect(s.port, 10000);
	const char *one = "GET /hello HTTP/1.1\r\n\r\n";
	assert_int_equal(send(fd, one, strlen(one), 0), (ssize_t)strlen(one));
	r = ctng_test_recv_all(fd, NULL);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
	assert_null(strstr(r, "Connection: close"));
	free(r);
	close(fd);
	stop(&s);
	assert_int_equal(s.stats.timeouts, 2);
	assert_int_equal(s.stats.open, 0);
}

static void test_connection_cap(void **state)
{
	(void)state;
	struct srv s;
	ctng_net_server_opts o = {.max_connections = 3};
	start(&s, &o);
	/* Three connections in the middle of a head hold every slot. */
	int held[3];
	for (int i = 0; i < 3; i++) {
		held[i] = ctng_test_connect(s.port, 10000);
		assert_true(held[i] >= 0);
		assert_int_equal(send(held[i], "GET /hello HTTP/1.1\r\n", 21, 0), 21);
	}
	ctng_test_sleep_ms(100); /* let the server see the bytes (not needed for correctness) */
	char *r = exchange(&s, "GET /hello HTTP/1.1\r\n\r\n");
	expect_error(r, 503, "connections open (limit 3)");
	free(r);
	/* Once they finish, new requests are served again. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(send(held[i], "Connection: close\r\n\r\n", 21, 0), 21);
		r = ctng_test_recv_all(held[i], NULL);
		assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
		free(r);
		close(held[i]);
	}
	r = exchange(&s, "GET /hello HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
	free(r);
	/* Idle connections (nothing of a request sent) make room for new ones. */
	int idle[3];
	for (int i = 0; i < 3; i++)
		assert_true((idle[i] = ctng_test_connect(s.port, 10000)) >= 0);
	ctng_test_sleep_ms(100);
	r = exchange(&s, "GET /hello HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
	free(r);
	size_t n = 1;
	r = ctng_test_recv_all(idle[0], &n); /* the oldest was closed */
	assert_int_equal(n, 0);
	free(r);
	for (int i = 0; i < 3; i++)
		close(idle[i]);
	stop(&s);
	assert_int_equal(s.stats.shed_connections, 1);
	assert_true(s.stats.idle_closed >= 1);
	assert_int_equal(s.stats.max_connections, 3);
	assert_true(s.stats.fd_limit > 0);
}

static void test_buffer_budget(void **state)
{
	(void)state;
	struct srv s;
	ctng_net_server_opts o = {.max_body = 1 << 20, .max_buffered = 1536 << 10};
	start(&s, &o);
	/* Two bodies of 1 MiB do not fit in 1.5 MiB: the larger one, still
	 * arriving, is shed with 503; the other completes. */
	size_t total = 1 << 20, part = 800 << 10;
	char *body = malloc(total);
	memset(body, 'a', total);
	char head[128];
	int hl = snprintf(head, sizeof head,
	                  "POST /len HTTP/1.1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
	                  total);
	int a = ctng_test_connect(s.port, 10000), b = ctng_test_connect(s.port, 10000);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(send(a, head, (size_t)hl, 0), hl);
	size_t off = 0;
	while (off < part) {
		ssize_t w = send(a, body + off, part - off, MSG_NOSIGNAL);
		assert_true(w > 0);
		off += (size_t)w;
	}
	ctng_test_sleep_ms(200); /* a is now the largest request held */
	assert_int_equal(send(b, head, (size_t)hl, 0), hl);
	off = 0;
	while (off < total) {
		ssize_t w = send(b, body + off, total - off, MSG_NOSIGNAL);
		assert_true(w > 0);
		off += (size_t)w;
	}
	char *rb = ctng_test_recv_all(b, NULL);
	assert_non_null(strstr(rb, "\"len\":1048576"));
	free(rb);
	shutdown(a, SHUT_WR);
	char *ra = ctng_test_recv_all(a, NULL);
	expect_error(ra, 503, "server busy");
	free(ra);
	close(a);
	close(b);
	free(body);
	stop(&s);
	assert_int_equal(s.stats.shed_memory, 1);
	assert_int_equal(s.stats.buffered, 0);
	assert_int_equal(s.stats.requests, 1);
}

/* accept() failing (no descriptor left in the process) pauses accepting
 * instead of spinning, and the waiting client is served once descriptors
 * are back. Lowers this process's descriptor limit for good: run last. */
static void test_accept_backoff(void **state)
{
	(void)state;
	struct rlimit rl = {.rlim_cur = 256, .rlim_max = 256};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	struct srv s;
	start(&s, NULL);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c >= 0);
	/* take every free descriptor */
	int fds[256], n = 0;
	while (n < 256 && (fds[n] = dup(0)) >= 0)
		n++;
	assert_true(n > 0 && n < 256);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s.port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof sa), 0); /* in the backlog */
	const char *q = "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n";
	assert_int_equal(send(c, q, strlen(q), 0), (ssize_t)strlen(q));
	ctng_test_sleep_ms(1000); /* the server cannot accept it meanwhile */
	for (int i = 0; i < n; i++)
		close(fds[i]);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char *r = ctng_test_recv_all(c, NULL);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
	free(r);
	close(c);
	stop(&s);
	/* a few tries per second, not a busy loop (which made millions) */
	if (s.stats.accept_errors < 1 || s.stats.accept_errors > 20)
		fail_msg("%llu accept() failures in about a second",
		         (unsigned long long)s.stats.accept_errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_statuses), cmocka_unit_test(test_keepalive_pipelining),
	    cmocka_unit_test(test_slow_peers),     cmocka_unit_test(test_connection_cap),
	    cmocka_unit_test(test_buffer_budget),  cmocka_unit_test(test_accept_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
