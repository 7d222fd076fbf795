/*
 * test_net_metrics.c — GET /metrics on a real loopback server
 * (ctng_net_server_metrics): requests are counted by route pattern, method
 * and status (404s and 405s under route "none", prefix routes under their
 * pattern, 400s from the strict query parser under the route they hit),
 * the reply has the exposition Content-Type, and /metrics itself is GET
 * only.
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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/metrics.h"
#include "ctng/net.h"

struct fixture {
	ctng_net_loop *loop;
	ctng_net_server *srv;
	ctng_metrics *reg;
	uint16_t port;
	pthread_t th;
};

static void *loop_thread(void *a)
{
	struct fixture *f = a;
	ctng_net_loop_run(f->loop, NULL);
	return NULL;
}

static void h_ok(ctng_net_req *req, void *arg)
{
	(void)arg;
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "ok", "yes"));
}

/* A loop, a server on an ephemeral loopback port and a registry; the
 * caller adds routes, then starts the loop thread. */
static void fixture_open(struct fixture *f)
{
	ctng_err err = {0};
	assert_non_null(f->loop = ctng_net_loop_new(&err));
	assert_non_null(f->srv = ctng_net_server_new(f->loop, 0, &err));
	assert_non_null(f->reg = ctng_metrics_new(&err));
	assert_int_equal(ctng_net_server_bind(f->srv, "127.0.0.1", 0, &f->port, &err), 0);
}

static void fixture_close(struct fixture *f)
{
	ctng_net_loop_stop(f->loop);
	pthread_join(f->th, NULL);
	ctng_net_server_free(f->srv);
	ctng_net_loop_free(f->loop);
	ctng_metrics_free(f->reg);
}

static int get(struct fixture *f, const char *method, const char *path, char **body)
{
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path);
	int st = 0;
	uint8_t *out = NULL;
	size_t n = 0;
	ctng_err err = {0};
	assert_int_equal(ctng_net_fetch_sync(url, method, NULL, NULL, 0, 5000, &st, &out, &n, &err),
	                 0);
	if (body)
		*body = (char *)out;
	else
		free(out);
	return st;
}

static void test_requests_counted(void **state)
{
	(void)state;
	struct fixture f = {0};
	ctng_err err = {0};
	fixture_open(&f);
	assert_int_equal(ctng_net_server_route(f.srv, "GET", "/ok", h_ok, NULL, &err), 0);
	assert_int_equal(ctng_net_server_route(f.srv, "GET", "/tile/*", h_ok, NULL, &err), 0);
	assert_int_equal(ctng_net_server_metrics(f.srv, f.reg, &err), 0);
	assert_int_equal(ctng_net_server_metrics(f.srv, f.reg, &err), CTNG_ECONFLICT);
	assert_int_equal(pthread_create(&f.th, NULL, loop_thread, &f), 0);

	assert_int_equal(get(&f, "GET", "/ok", NULL), 200);
	assert_int_equal(get(&f, "GET", "/ok", NULL), 200);
	assert_int_equal(get(&f, "GET", "/ok?a=1&a=2", NULL), 400);
	assert_int_equal(get(&f, "GET", "/tile/0/x001", NULL), 200);
	assert_int_equal(get(&f, "GET", "/nope", NULL), 404);
	assert_int_equal(get(&f, "POST", "/ok", NULL), 405);
	assert_int_equal(get(&f, "POST", "/metrics", NULL), 405);
	char *m = NULL;
	assert_int_equal(get(&f, "GET", "/metrics", &m), 200);
	assert_non_null(m);
	assert_non_null(strstr(m, "# TYPE ctng_http_requests_total counter\n"));
	assert_non_null(
	    strstr(m, "ctng_http_requests_total{route=\"/ok\",method=\"GET\",code=\"200\"} 2\n"));
	assert_non_null(
	    strstr(m, "ctng_http_requests_total{route=\"/ok\",method=\"GET\",code=\"400\"} 1\n"));
	assert_non_null(strstr(
	    m, "ctng_http_requests_total{route=\"/tile/*\",method=\"GET\",code=\"200\"} 1\n"));
	assert_non_null(
	    strstr(m, "ctng_http_requests_total{route=\"none\",method=\"GET\",code=\"404\"} 1\n"));
	assert_non_null(
	    strstr(m, "ctng_http_requests_total{route=\"none\",method=\"POST\",code=\"405\"} 2\n"));
	assert_non_null(strstr(m, "ctng_http_request_duration_seconds_count{route=\"/ok\"} 3\n"));
	/* The request for /metrics is counted once it is answered, not in its own text. */
	assert_null(strstr(m, "route=\"/metrics\",method=\"GET\""));
	free(m);
	assert_int_equal(get(&f, "GET", "/metrics", &m), 200);
	assert_non_null(strstr(
	    m, "ctng_http_requests_total{route=\"/metrics\",method=\"GET\",code=\"200\"} 1\n"));
	free(m);

	fixture_close(&f);
}

/* The raw reply: status line and Content-Type, over a plain socket. */
static void test_content_type(void **state)
{
	(void)state;
	struct fixture f = {0};
	ctng_err err = {0};
	fixture_open(&f);
	assert_int_equal(ctng_net_server_metrics(f.srv, f.reg, &err), 0);
	assert_int_equal(ctng_net_server_metrics(NULL, f.reg, &err), CTNG_EINVAL);
	assert_int_equal(pthread_create(&f.th, NULL, loop_thread, &f), 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f.port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	char buf[16384];
	size_t n = 0;
	ssize_t k;
	while (n < sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = 0;
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "Content-Type: " CTNG_METRICS_CONTENT_TYPE "\r\n"));
	assert_non_null(strstr(buf, "Cache-Control: no-store\r\n"));
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_counted),
	    cmocka_unit_test(test_content_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
