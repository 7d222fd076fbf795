/*
 * test_net.c — tests of src/net against real loopback servers: routing,
 * 404/405, JSON round trips, strict query parsing, the body size limit (413,
 * and the server keeps serving), deferred replies, response size limit, a
 * peer that never answers (the deadline fires), connection refused, timers,
 * posting from worker threads, and shutdown by SIGTERM/SIGINT and stop().
 *
 * A watchdog timer guards every loop run so that a bug makes a test fail
 * instead of hanging; no test asserts on elapsed time.
 */
#include <arpa/inet.h>
#include <errno.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/net.h"
#include "testutil.h"

/* ------------------------------------------------------------- helpers */

static bool watchdog_fired;
static void watchdog_cb(ctng_net_timer *t, void *arg)
{
	(void)t;
	watchdog_fired = true;
	ctng_net_loop_stop(arg);
}

/* Runs loop until stopped; fails the test if the 20 s watchdog stops it. */
static void run_guarded(ctng_net_loop *loop)
{
	watchdog_fired = false;
	ctng_net_timer *wd = ctng_net_timer_new(loop, watchdog_cb, loop, NULL);
	assert_non_null(wd);
	assert_int_equal(ctng_net_timer_start(wd, 20000, 0, NULL), 0);
	assert_int_equal(ctng_net_loop_run(loop, NULL), 0);
	ctng_net_timer_free(wd);
	if (watchdog_fired)
		fail_msg("loop did not finish (watchdog)");
}

/* Raw HTTP exchange over a plain socket, for checking exact bytes on the
 * wire (headers, status line). Returns the malloc'd response (NUL-ended). */
static char *raw_http(uint16_t port, const char *req, size_t req_len)
{
	return ctng_test_raw_http(port, req, req_len, false, 20000);
}

/* A server running on its own thread, for tests that use fetch_sync. */
struct fixture {
	ctng_net_loop *loop;
	ctng_net_server *srv;
	uint16_t port;
	pthread_t th;
	char base[64];
};

static void *loop_thread(void *a)
{
	struct fixture *f = a;
	ctng_net_loop_run(f->loop, NULL);
	return NULL;
}

/* ------------------------------------------------------------ handlers */

static void h_hello(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "hello", "world"));
}

static void h_echo(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_err err = {0};
	json_t *j;
	if (ctng_net_req_json(req, &j, &err) != 0) {
		ctng_net_reply_err(req, &err);
		return;
	}
	ctng_net_reply_json(req, 201, j);
}

static void h_tile(ctng_net_req *req, void *arg)
{
	(void)arg;
	const char *p = ctng_net_req_path(req);
	static const char *const hdrs[] = {"Cache-Control", "max-age=31536000, immutable", NULL};
	ctng_net_reply_bytes(req, 200, "text/plain", p, strlen(p), hdrs);
}

static void h_special(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_bytes(req, 200, NULL, "special", 7, NULL);
}

static void h_query(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_err err = {0};
	uint64_t p;
	if (ctng_net_req_query_u64(req, "period", 1000000, &p, &err) != 0) {
		ctng_net_reply_err(req, &err);
		return;
	}
	const char *name = ctng_net_req_query(req, "name");
	ctng_net_reply_json(req, 200,
	                    json_pack("{s:I,s:s?}", "period", (json_int_t)p, "name", name));
}

static void h_info(ctng_net_req *req, void *arg)
{
	(void)arg;
	size_t len;
	const uint8_t *b = ctng_net_req_body(req, &len);
	if (b[len] != 0) { /* runs on the server thread: no cmocka asserts here */
		ctng_net_reply_error(req, 500, "body not NUL-terminated");
		return;
	}
	const char *ua = ctng_net_req_header(req, "X-Test");
	ctng_net_reply_json(req, 200,
	                    json_pack("{s:s,s:s,s:I,s:s?}", "peer", ctng_net_req_peer(req),
	                              "method", ctng_net_req_method(req), "len", (json_int_t)len,
	                              "x", ua));
}

static void h_big(ctng_net_req *req, void *arg)
{
	(void)arg;
	static char big[10000];
	memset(big, 'x', sizeof big);
	ctng_net_reply_bytes(req, 200, "text/plain", big, sizeof big, NULL);
}

static void setup_routes(ctng_net_server *srv)
{
	ctng_err err = {0};
	assert_int_equal(ctng_net_server_route(srv, "GET", "/hello", h_hello, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(srv, "POST", "/echo", h_echo, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(srv, "GET", "/tile/*", h_tile, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(srv, "GET", "/tile/special", h_special, NULL, &err),
	                 0);
	assert_int_equal(ctng_net_server_route(srv, "GET", "/q", h_query, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(srv, "POST", "/info", h_info, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(srv, "PUT", "/info", h_info, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(srv, "GET", "/big", h_big, NULL, &err), 0);
	/* Duplicates and bad routes are refused. */
	assert_int_equal(ctng_net_server_route(srv, "GET", "/hello", h_hello, NULL, &err),
	                 CTNG_ECONFLICT);
	assert_int_equal(ctng_net_server_route(srv, "PATCH", "/x", h_hello, NULL, &err),
	                 CTNG_EINVAL);
	assert_int_equal(ctng_net_server_route(srv, "GET", "x", h_hello, NULL, &err), CTNG_EINVAL);
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	ctng_err err = {0};
	f->loop = ctng_net_loop_new(&err);
	if (!f->loop)
		return -1;
	f->srv = ctng_net_server_new(f->loop, 1024, &err);
	if (!f->srv)
		return -1;
	if (ctng_net_server_bind(f->srv, "127.0.0.1", 0, &f->port, &err) != 0)
		return -1;
	setup_routes(f->srv);
	snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", f->port);
	if (pthread_create(&f->th, NULL, loop_thread, f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	ctng_net_loop_stop(f->loop); /* thread-safe */
	pthread_join(f->th, NULL);
	ctng_net_server_free(f->srv);
	ctng_net_loop_free(f->loop);
	free(f);
	return 0;
}

static int fetch(struct fixture *f, const char *method, const char *path, const char *body,
                 int *status, char **out)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", f->base, path);
	ctng_err err = {0};
	uint8_t *o = NULL;
	size_t olen = 0;
	int rc = ctng_net_fetch_sync(url, method, body ? "application/json" : NULL, body,
	                             body ? strlen(body) : 0, 5000, status, &o, &olen, &err);
	if (rc == 0) {
		assert_int_equal(strlen((char *)o), olen);
		*out = (char *)o;
	}
	return rc;
}

static json_t *parse(const char *s)
{
	json_t *j;
	ctng_err err = {0};
	if (ctng_net_parse_json(s, strlen(s), 0, &j, &err) != 0)
		fail_msg("bad JSON %s: %s", s, err.msg);
	return j;
}

static void assert_error_json(const char *body, const char *needle)
{
	json_t *j = parse(body);
	const char *e = json_string_value(json_object_get(j, "error"));
	assert_non_null(e);
	if (needle && !strstr(e, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", e, needle);
	json_decref(j);
}

/* --------------------------------------------------------------- tests */

static void test_routing(void **state)
{
	struct fixture *f = *state;
	int st;
	char *b;
	assert_int_equal(fetch(f, "GET", "/hello", NULL, &st, &b), 0);
	assert_int_equal(st, 200);
	assert_string_equal(b, "{\"hello\":\"world\"}");
	free(b);

	assert_int_equal(fetch(f, "GET", "/nope", NULL, &st, &b), 0);
	assert_int_equal(st, 404);
	assert_error_json(b, "/nope");
	free(b);

	assert_int_equal(fetch(f, "POST", "/hello", "{}", &st, &b), 0);
	assert_int_equal(st, 405);
	assert_error_json(b, "POST");
	free(b);

	/* Prefix route, and an exact route beating it. */
	assert_int_equal(fetch(f, "GET", "/tile/8/0/x001/234.p/5", NULL, &st, &b), 0);
	assert_int_equal(st, 200);
	assert_string_equal(b, "/tile/8/0/x001/234.p/5");
	free(b);
	assert_int_equal(fetch(f, "GET", "/tile/special", NULL, &st, &b), 0);
	assert_string_equal(b, "special");
	free(b);
	assert_int_equal(fetch(f, "GET", "/tile", NULL, &st, &b), 0);
	assert_int_equal(st, 404);
	free(b);
	assert_int_equal(fetch(f, "GET", "/hello/", NULL, &st, &b), 0);
	assert_int_equal(st, 404);
	free(b);
}

static void test_json_roundtrip(void **state)
{
	struct fixture *f = *state;
	int st;
	char *b;
	const char *doc = "{\"a\":[1,2,{\"b\":\"\\u00e9\"}],\"period\":\"42\",\"n\":null}";
	assert_int_equal(fetch(f, "POST", "/echo", doc, &st, &b), 0);
	assert_int_equal(st, 201);
	json_t *in = parse(doc), *out = parse(b);
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);
	free(b);

	/* Malformed JSON, duplicate keys and trailing data are 400 with a reason. */
	const char *bad[] = {"{\"a\":", "{\"a\":1,\"a\":2}", "{} x", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(fetch(f, "POST", "/echo", bad[i], &st, &b), 0);
		assert_int_equal(st, 400);
		assert_error_json(b, "json");
		free(b);
	}
}

static void test_query(void **state)
{
	struct fixture *f = *state;
	int st;
	char *b;
	assert_int_equal(fetch(f, "GET", "/q?period=5&name=a%20b+c", NULL, &st, &b), 0);
	assert_int_equal(st, 200);
	json_t *j = parse(b);
	assert_int_equal(json_integer_value(json_object_get(j, "period")), 5);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "a b c");
	json_decref(j);
	free(b);

	assert_int_equal(fetch(f, "GET", "/q?name=x", NULL, &st, &b), 0);
	assert_int_equal(st, 400);
	assert_error_json(b, "period");
	free(b);
	assert_int_equal(fetch(f, "GET", "/q?period=05", NULL, &st, &b), 0);
	assert_int_equal(st, 400);
	free(b);
	assert_int_equal(fetch(f, "GET", "/q?period=1&period=2", NULL, &st, &b), 0);
	assert_int_equal(st, 400);
	assert_error_json(b, "duplicate");
	free(b);
	/* Our own client refuses to send a malformed URL, so use a raw socket. */
	const char *req = "GET /q?period=1&x=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	b = raw_http(f->port, req, strlen(req));
	assert_non_null(strstr(b, "HTTP/1.1 400"));
	assert_non_null(strstr(b, "percent-encoding"));
	free(b);
	char url[128];
	snprintf(url, sizeof url, "%s/q?x=%%zz", f->base);
	ctng_err err = {0};
	assert_int_equal(
	    ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 1000, &st, NULL, NULL, &err),
	    CTNG_EINVAL);
}

static void test_request_info(void **state)
{
	struct fixture *f = *state;
	char url[128];
	snprintf(url, sizeof url, "%s/info", f->base);
	/* Custom header through the raw request API on the fixture's loop is not
	 * possible from this thread; use the blocking helper and a raw socket. */
	int st;
	uint8_t *o;
	size_t n;
	ctng_err err = {0};
	assert_int_equal(
	    ctng_net_fetch_sync(url, "PUT", "text/plain", "abc", 3, 5000, &st, &o, &n, &err), 0);
	assert_int_equal(st, 200);
	json_t *j = parse((char *)o);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "PUT");
	assert_int_equal(json_integer_value(json_object_get(j, "len")), 3);
	assert_true(strncmp(json_string_value(json_object_get(j, "peer")), "127.0.0.1:", 10) == 0);
	json_decref(j);
	free(o);

	char req[256];
	int rl = snprintf(req, sizeof req,
	                  "POST /info HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 2\r\n"
	                  "Connection: close\r\n\r\nhi");
	char *resp = raw_http(f->port, req, (size_t)rl);
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	assert_non_null(strstr(resp, "Content-Type: application/json"));
	assert_non_null(strstr(resp, "\"x\":\"yes\""));
	assert_non_null(strstr(resp, "\"len\":2"));
	free(resp);

	/* Extra headers are sent; 405 carries Allow. */
	rl = snprintf(req, sizeof req,
	              "GET /tile/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	resp = raw_http(f->port, req, (size_t)rl);
	assert_non_null(strstr(resp, "Cache-Control: max-age=31536000, immutable"));
	assert_non_null(strstr(resp, "Content-Type: text/plain"));
	free(resp);
	rl = snprintf(req, sizeof req,
	              "DELETE /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	resp = raw_http(f->port, req, (size_t)rl);
	assert_non_null(strstr(resp, "HTTP/1.1 405"));
	assert_non_null(strstr(resp, "Allow: "));
	assert_non_null(strstr(resp, "POST"));
	assert_non_null(strstr(resp, "PUT"));
	free(resp);
}

static void test_oversized_body(void **state)
{
	struct fixture *f = *state; /* max body 1024 */
	char *big = malloc(5001);
	memset(big, ' ', 5000);
	big[0] = '{';
	big[4999] = '}';
	big[5000] = 0;
	int st;
	char *b;
	assert_int_equal(fetch(f, "POST", "/echo", big, &st, &b), 0);
	assert_int_equal(st, 413);
	free(b);
	free(big);

	/* Exactly at the limit is accepted. */
	char *edge = malloc(1025);
	memset(edge, ' ', 1024);
	edge[0] = '{';
	edge[1023] = '}';
	edge[1024] = 0;
	assert_int_equal(fetch(f, "POST", "/echo", edge, &st, &b), 0);
	assert_int_equal(st, 201);
	assert_string_equal(b, "{}");
	free(b);
	free(edge);

	/* Over the wire: a 200 kB body gets a 413 status line with a reason. */
	size_t n = 200000;
	char *req = malloc(n + 200);
	int hl =
	    snprintf(req, 200, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
	memset(req + hl, 'a', n);
	char *resp = raw_http(f->port, req, (size_t)hl + n);
	assert_non_null(strstr(resp, "HTTP/1.1 413 "));
	free(resp);
	/* A declared length over the limit, then the client gives up: no crash. */
	resp = ctng_test_raw_http(f->port, req, (size_t)hl + 10, true, 20000);
	free(resp);
	free(req);

	/* And the server keeps serving. */
	assert_int_equal(fetch(f, "GET", "/hello", NULL, &st, &b), 0);
	assert_int_equal(st, 200);
	free(b);
}

static void test_response_limit(void **state)
{
	struct fixture *f = *state;
	char url[128];
	snprintf(url, sizeof url, "%s/big", f->base);
	/* Default limit: fine. */
	int st;
	uint8_t *o;
	size_t n;
	ctng_err err = {0};
	assert_int_equal(ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 5000, &st, &o, &n, &err),
	                 0);
	assert_int_equal(n, 10000);
	free(o);
	/* The async API with a 1 KiB limit gets CTNG_ERANGE (tested in test_async). */
}

/* ---- async tests: server and client on the same loop ---- */

struct async_ctx {
	ctng_net_loop *loop;
	int outstanding;
	int calls;
	int status[8];
	int errcode[8];
	char body[8][256];
};

static void async_cb(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct async_ctx *c = arg;
	int i = c->calls++;
	assert_true(i < 8);
	assert_non_null(body);
	c->status[i] = status;
	c->errcode[i] = err ? err->code : 0;
	snprintf(c->body[i], sizeof c->body[i], "%.*s", (int)(len < 255 ? len : 255),
	         (const char *)body);
	if (err)
		assert_int_equal(status, 0);
	if (--c->outstanding == 0)
		ctng_net_loop_stop(c->loop);
}

static ctng_net_req *deferred_req;
static void deferred_reply(void *arg)
{
	(void)arg;
	assert_non_null(deferred_req);
	ctng_net_reply_json(deferred_req, 202, json_pack("{s:b}", "later", 1));
	deferred_req = NULL;
}

static void h_deferred(ctng_net_req *req, void *arg)
{
	deferred_req = req;
	assert_int_equal(ctng_net_call_later(arg, 30, deferred_reply, NULL, NULL), 0);
}

static void test_async(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_net_loop *loop = ctng_net_loop_new(&err);
	assert_non_null(loop);
	ctng_net_server *srv = ctng_net_server_new(loop, 0, &err);
	assert_non_null(srv);
	uint16_t port;
	assert_int_equal(ctng_net_server_bind(srv, "127.0.0.1", 0, &port, &err), 0);
	setup_routes(srv);
	assert_int_equal(ctng_net_server_route(srv, "GET", "/deferred", h_deferred, loop, &err), 0);

	struct async_ctx c = {.loop = loop};
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/deferred", port);
	assert_int_equal(ctng_net_get(loop, url, 5000, async_cb, &c, &err), 0);
	c.outstanding++;
	json_t *doc = json_pack("{s:s}", "k", "v");
	snprintf(url, sizeof url, "http://localhost:%u/echo", port);
	assert_int_equal(ctng_net_post_json(loop, url, doc, 5000, async_cb, &c, &err), 0);
	c.outstanding++;
	json_decref(doc);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/big", port);
	ctng_net_client_opts small = {.max_response = 1024};
	assert_int_equal(ctng_net_request(loop, "GET", url, NULL, 0, &small, async_cb, &c, &err),
	                 0);
	c.outstanding++;
	assert_int_equal(c.calls, 0); /* never called from inside the request call */
	assert_int_equal(ctng_net_inflight(loop), 3);
	run_guarded(loop);
	assert_int_equal(c.calls, 3);
	assert_int_equal(ctng_net_inflight(loop), 0);
	assert_int_equal(ctng_net_server_pending(srv), 0);
	bool saw_deferred = false, saw_echo = false, saw_big = false;
	for (int i = 0; i < 3; i++) {
		if (c.status[i] == 202) {
			assert_string_equal(c.body[i], "{\"later\":true}");
			saw_deferred = true;
		} else if (c.status[i] == 201) {
			assert_string_equal(c.body[i], "{\"k\":\"v\"}");
			saw_echo = true;
		} else {
			assert_int_equal(c.status[i], 0);
			assert_int_equal(c.errcode[i], CTNG_ERANGE);
			saw_big = true;
		}
	}
	assert_true(saw_deferred && saw_echo && saw_big);
	ctng_net_server_free(srv);
	ctng_net_loop_free(loop);
}

/* A listening socket whose connections are never answered. */
static int silent_listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 16), 0);
	socklen_t sl = sizeof sa;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_never_answering_peer(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = silent_listener(&port);
	ctng_err err = {0};
	ctng_net_loop *loop = ctng_net_loop_new(&err);
	assert_non_null(loop);
	struct async_ctx c = {.loop = loop};
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/ctng/v1/sth", port);
	assert_int_equal(ctng_net_get(loop, url, 300, async_cb, &c, &err), 0);
	c.outstanding++;
	json_t *doc = json_pack("{s:s}", "k", "v");
	assert_int_equal(ctng_net_post_json(loop, url, doc, 200, async_cb, &c, &err), 0);
	c.outstanding++;
	json_decref(doc);
	run_guarded(loop);
	assert_int_equal(c.calls, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(c.status[i], 0);
		assert_int_equal(c.errcode[i], CTNG_ETIMEOUT);
	}
	/* The blocking helper times out too. */
	int st = -1;
	uint8_t *o = NULL;
	assert_int_equal(ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 200, &st, &o, NULL, &err),
	                 CTNG_ETIMEOUT);
	assert_int_equal(err.code, CTNG_ETIMEOUT);
	assert_non_null(strstr(err.msg, "did not answer"));
	assert_null(o);

	/* Freeing the loop with a request in flight fails it with ESTATE. */
	struct async_ctx c2 = {.loop = loop};
	assert_int_equal(ctng_net_get(loop, url, 10000, async_cb, &c2, &err), 0);
	c2.outstanding = 2; /* do not stop anything */
	ctng_net_loop_free(loop);
	assert_int_equal(c2.calls, 1);
	assert_int_equal(c2.errcode[0], CTNG_ESTATE);
	close(lfd);
}

static void test_connection_refused(void **state)
{
	(void)state;
	uint16_t port;
	int lfd = silent_listener(&port);
	close(lfd); /* nothing listens there now */
	ctng_err err = {0};
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/x", port);
	int st;
	uint8_t *o = NULL;
	assert_int_equal(ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 5000, &st, &o, NULL, &err),
	                 CTNG_EIO);
	assert_non_null(strstr(err.msg, "127.0.0.1"));
	assert_null(o);
}

static void never_cb(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	(void)status;
	(void)body;
	(void)len;
	(void)err;
	(void)arg;
	fail_msg("callback of a refused request was called");
}

static void test_bad_urls(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_net_loop *loop = ctng_net_loop_new(&err);
	const char *bad[] = {
	    "gopher://127.0.0.1:1/",   "ftp://127.0.0.1/",
	    "127.0.0.1:80/x",          "http:///x",
	    "http://user@127.0.0.1/",  "http://127.0.0.1:0/",
	    "http://127.0.0.1:99999/", "http://exa_mple.com/",
	    "http://127.0.0.1/#frag",  "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.code = 0;
		int rc = ctng_net_get(loop, bad[i], 100, never_cb, NULL, &err);
		if (rc != CTNG_EINVAL)
			fail_msg("URL %s accepted (rc %d)", bad[i], rc);
	}
	assert_int_equal(ctng_net_request(loop, "PATCH", "http://127.0.0.1:1/", NULL, 0, NULL,
	                                  never_cb, NULL, &err),
	                 CTNG_EINVAL);
	assert_int_equal(ctng_net_get(loop, NULL, 100, never_cb, NULL, &err), CTNG_EINVAL);
	assert_int_equal(ctng_net_inflight(loop), 0);
	ctng_net_loop_free(loop);
}

static void test_query_parser(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_net_query *q;
	assert_int_equal(ctng_net_query_parse("a=1&b=&c=x%2By+z&d=%7e", &q, &err), 0);
	assert_int_equal(ctng_net_query_count(q), 4);
	assert_string_equal(ctng_net_query_get(q, "a"), "1");
	assert_string_equal(ctng_net_query_get(q, "b"), "");
	assert_string_equal(ctng_net_query_get(q, "c"), "x+y z");
	assert_string_equal(ctng_net_query_get(q, "d"), "~");
	assert_null(ctng_net_query_get(q, "e"));
	ctng_net_query_free(q);
	assert_int_equal(ctng_net_query_parse(NULL, &q, &err), 0);
	assert_int_equal(ctng_net_query_count(q), 0);
	ctng_net_query_free(q);
	assert_int_equal(ctng_net_query_parse("", &q, &err), 0);
	ctng_net_query_free(q);

	const char *bad[] = {"a",     "=1",    "a=1&",    "&a=1",  "a=1&&b=2", "a=%",   "a=%4",
	                     "a=%zz", "a=%00", "a=1&a=2", "a=b=c", "a=\x01",   "a b=1", "%=1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		q = (ctng_net_query *)1;
		if (ctng_net_query_parse(bad[i], &q, &err) != CTNG_EINVAL)
			fail_msg("query \"%s\" accepted", bad[i]);
		assert_null(q);
	}
	/* Limits. */
	char *many = malloc(64 * 8 + 16);
	size_t off = 0;
	for (int i = 0; i <= CTNG_NET_MAX_QUERY_PARAMS; i++)
		off += (size_t)sprintf(many + off, "%sp%d=1", i ? "&" : "", i);
	assert_int_equal(ctng_net_query_parse(many, &q, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "more than"));
	free(many);
	char *longq = malloc(CTNG_NET_MAX_QUERY_LEN + 10);
	memset(longq, 'a', CTNG_NET_MAX_QUERY_LEN + 8);
	longq[0] = 'k';
	longq[1] = '=';
	longq[CTNG_NET_MAX_QUERY_LEN + 8] = 0;
	assert_int_equal(ctng_net_query_parse(longq, &q, &err), CTNG_EINVAL);
	free(longq);

	json_t *j;
	assert_int_equal(ctng_net_parse_json("[1]", 3, 0, &j, &err), 0);
	json_decref(j);
	assert_int_equal(ctng_net_parse_json("\"a\"", 3, 0, &j, &err), 0);
	json_decref(j);
	assert_int_equal(ctng_net_parse_json("[1]", 3, 2, &j, &err), CTNG_ERANGE);
	assert_int_equal(ctng_net_parse_json("[1]\0", 4, 0, &j, &err), CTNG_EINVAL);
	assert_int_equal(ctng_net_parse_json("[\"\\u0000\"]", 10, 0, &j, &err), CTNG_EINVAL);
	assert_int_equal(ctng_net_status_for(CTNG_ENOTFOUND), 404);
	assert_int_equal(ctng_net_status_for(CTNG_EINVAL), 400);
	assert_int_equal(ctng_net_status_for(CTNG_EIO), 500);
}

/* ---- timers ---- */

struct tctx {
	ctng_net_loop *loop;
	int periodic, oneshot, later;
	ctng_net_timer *self_free;
};

static void periodic_cb(ctng_net_timer *t, void *arg)
{
	struct tctx *c = arg;
	assert_true(ctng_net_timer_pending(t)); /* re-armed before the callback */
	if (++c->periodic == 3) {
		ctng_net_timer_stop(t);
		assert_false(ctng_net_timer_pending(t));
		ctng_net_loop_stop(c->loop);
	}
}

static void oneshot_cb(ctng_net_timer *t, void *arg)
{
	struct tctx *c = arg;
	assert_false(ctng_net_timer_pending(t));
	c->oneshot++;
	if (t == c->self_free) {
		ctng_net_timer_free(t); /* freeing from its own callback is allowed */
		c->self_free = NULL;
	}
}

static void later_cb(void *arg)
{
	((struct tctx *)arg)->later++;
}

static void never_later(void *arg)
{
	(void)arg;
	fail_msg("dropped call_later ran");
}

static void test_timers(void **state)
{
	(void)state;
	ctng_err err = {0};
	struct tctx c = {0};
	c.loop = ctng_net_loop_new(&err);
	ctng_net_timer *p = ctng_net_timer_new(c.loop, periodic_cb, &c, &err);
	ctng_net_timer *o = ctng_net_timer_new(c.loop, oneshot_cb, &c, &err);
	c.self_free = ctng_net_timer_new(c.loop, oneshot_cb, &c, &err);
	ctng_net_timer *never = ctng_net_timer_new(c.loop, oneshot_cb, &c, &err);
	assert_non_null(p);
	assert_non_null(o);
	assert_non_null(c.self_free);
	assert_false(ctng_net_timer_pending(p));
	assert_int_equal(ctng_net_timer_start(p, 5, 10, &err), 0);
	assert_int_equal(ctng_net_timer_start(o, 1, 0, &err), 0);
	assert_int_equal(ctng_net_timer_start(c.self_free, 2, 0, &err), 0);
	assert_int_equal(ctng_net_timer_start(never, 1, 0, &err), 0);
	ctng_net_timer_stop(never);
	assert_int_equal(ctng_net_call_later(c.loop, 1, later_cb, &c, &err), 0);
	assert_int_equal(ctng_net_call_later(c.loop, 3600 * 1000, never_later, &c, &err), 0);
	/* The periodic timer stops the loop at its 3rd fire, long after the others. */
	assert_int_equal(ctng_net_timer_start(p, 50, 10, &err), 0);
	run_guarded(c.loop);
	assert_int_equal(c.periodic, 3);
	assert_int_equal(c.oneshot, 2);
	assert_int_equal(c.later, 1);
	assert_null(c.self_free);
	ctng_net_timer_free(p);
	ctng_net_timer_free(o);
	ctng_net_timer_free(never);
	ctng_net_loop_free(c.loop); /* drops the pending call_later */
}

/* ---- posting from threads ---- */

#define POSTERS 4
#define POSTS   250

struct pctx {
	ctng_net_loop *loop;
	int received;
	int cancelled;
	int last[POSTERS];
	bool order_ok;
};

struct pitem {
	struct pctx *c;
	int thread, seq;
};

static void post_fn(void *arg, bool cancelled)
{
	struct pitem *it = arg;
	struct pctx *c = it->c;
	if (cancelled) {
		c->cancelled++;
	} else {
		/* FIFO per producer thread. */
		if (it->seq != c->last[it->thread] + 1)
			c->order_ok = false;
		c->last[it->thread] = it->seq;
		if (++c->received == POSTERS * POSTS)
			ctng_net_loop_stop(c->loop);
	}
	free(it);
}

struct poster {
	struct pctx *c;
	int id;
};

static void *poster_thread(void *a)
{
	struct poster *p = a;
	for (int i = 0; i < POSTS; i++) {
		struct pitem *it = malloc(sizeof *it);
		it->c = p->c;
		it->thread = p->id;
		it->seq = i;
		if (ctng_net_loop_post(p->c->loop, post_fn, it) != 0)
			abort();
	}
	return NULL;
}

static void test_post_from_threads(void **state)
{
	(void)state;
	ctng_err err = {0};
	struct pctx c = {.order_ok = true};
	for (int i = 0; i < POSTERS; i++)
		c.last[i] = -1;
	c.loop = ctng_net_loop_new(&err);
	pthread_t th[POSTERS];
	struct poster ps[POSTERS];
	for (int i = 0; i < POSTERS; i++) {
		ps[i] = (struct poster){&c, i};
		assert_int_equal(pthread_create(&th[i], NULL, poster_thread, &ps[i]), 0);
	}
	run_guarded(c.loop);
	for (int i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(c.received, POSTERS * POSTS);
	assert_true(c.order_ok);
	/* Posted but never run: called with cancelled = true on free. */
	struct pitem *it = malloc(sizeof *it);
	*it = (struct pitem){&c, 0, 0};
	assert_int_equal(ctng_net_loop_post(c.loop, post_fn, it), 0);
	ctng_net_loop_free(c.loop);
	assert_int_equal(c.cancelled, 1);
}

/* ---- shutdown ---- */

static int hook_signo;
static void sig_hook(ctng_net_loop *loop, int signo, void *arg)
{
	(void)loop;
	*(int *)arg += 1;
	hook_signo = signo;
}

static void raise_term(void *arg)
{
	raise((int)(intptr_t)arg);
}

static ctng_net_req *held_req;
static void h_hold(ctng_net_req *req, void *arg)
{
	held_req = req;
	ctng_net_loop_stop(arg);
}

static void *stopper_thread(void *a)
{
	ctng_net_loop_stop(a);
	return NULL;
}

static void test_shutdown(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_net_loop *loop = ctng_net_loop_new(&err);
	ctng_net_server *srv = ctng_net_server_new(loop, 0, &err);
	uint16_t port;
	assert_int_equal(ctng_net_server_bind(srv, "127.0.0.1", 0, &port, &err), 0);
	setup_routes(srv);
	int hooks = 0;
	assert_int_equal(ctng_net_loop_catch_signals(loop, sig_hook, &hooks, &err), 0);

	assert_int_equal(ctng_net_call_later(loop, 10, raise_term, (void *)(intptr_t)SIGTERM, &err),
	                 0);
	run_guarded(loop);
	assert_int_equal(hooks, 1);
	assert_int_equal(hook_signo, SIGTERM);

	assert_int_equal(ctng_net_call_later(loop, 10, raise_term, (void *)(intptr_t)SIGINT, &err),
	                 0);
	run_guarded(loop);
	assert_int_equal(hooks, 2);
	assert_int_equal(hook_signo, SIGINT);

	/* stop() before run makes the next run return at once. */
	ctng_net_loop_stop(loop);
	assert_int_equal(ctng_net_loop_run(loop, &err), 0);

	/* stop() from another thread. */
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, stopper_thread, loop), 0);
	run_guarded(loop);
	pthread_join(th, NULL);

	/* A deferred request still pending at server free is answered (503)
	 * and the client's callback fires exactly once. */
	assert_int_equal(ctng_net_server_route(srv, "GET", "/hold", h_hold, loop, &err), 0);
	struct async_ctx c = {.loop = loop, .outstanding = 1};
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/hold", port);
	assert_int_equal(ctng_net_get(loop, url, 5000, async_cb, &c, &err), 0);
	run_guarded(loop); /* h_hold stops the loop */
	assert_non_null(held_req);
	assert_int_equal(ctng_net_server_pending(srv), 1);
	ctng_net_server_free(srv);
	held_req = NULL;
	run_guarded(loop); /* async_cb stops the loop */
	assert_int_equal(c.calls, 1);
	assert_true(c.status[0] == 503 || c.errcode[0] == CTNG_EIO);
	ctng_net_loop_free(loop);
}

/* A daemon-like child process: SIGTERM from another process runs the hook,
 * stops the loop, and the child frees everything and exits 0. */
static int child_hooked;
static void child_hook(ctng_net_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)arg;
	child_hooked = signo;
}

static void child_daemon(int wfd)
{
	ctng_net_loop *loop = ctng_net_loop_new(NULL);
	ctng_net_server *srv = loop ? ctng_net_server_new(loop, 0, NULL) : NULL;
	uint16_t port = 0;
	if (!srv || ctng_net_server_bind(srv, "127.0.0.1", 0, &port, NULL) != 0 ||
	    ctng_net_server_route(srv, "GET", "/hello", h_hello, NULL, NULL) != 0 ||
	    ctng_net_loop_catch_signals(loop, child_hook, NULL, NULL) != 0)
		_exit(10);
	if (write(wfd, &port, sizeof port) != (ssize_t)sizeof port)
		_exit(11);
	close(wfd);
	if (ctng_net_loop_run(loop, NULL) != 0)
		_exit(12);
	ctng_net_server_free(srv);
	ctng_net_loop_free(loop);
	_exit(child_hooked == SIGTERM ? 0 : 13);
}

static void test_sigterm_other_process(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_daemon(fds[1]);
	}
	close(fds[1]);
	uint16_t port = 0;
	assert_int_equal(read(fds[0], &port, sizeof port), (ssize_t)sizeof port);
	close(fds[0]);
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%u/hello", port);
	int st = 0;
	uint8_t *o = NULL;
	ctng_err err = {0};
	assert_int_equal(ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 5000, &st, &o, NULL, &err),
	                 0);
	assert_int_equal(st, 200);
	free(o);
	assert_int_equal(kill(pid, SIGTERM), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_routing, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_json_roundtrip, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_query, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_request_info, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_body, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_response_limit, fixture_setup, fixture_teardown),
	    cmocka_unit_test(test_async),
	    cmocka_unit_test(test_never_answering_peer),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_bad_urls),
	    cmocka_unit_test(test_query_parser),
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_post_from_threads),
	    cmocka_unit_test(test_shutdown),
	    cmocka_unit_test(test_sigterm_other_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
