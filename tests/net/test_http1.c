/*
 * test_http1.c — the HTTP/1.1 syntax of src/net (src/net/http1.c) without
 * sockets: head boundaries fed a byte at a time, request and response
 * heads, every framing verdict with its exact status (400 bad numbers, 411,
 * 413 however many digits, 501, 505), and the chunked decoder with bad
 * sizes ("-1", "zz", too many digits), limits and trailers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http1.h"

static size_t end_of(const char *s, size_t *skip)
{
	size_t scan = 0;
	return http1_head_end(s, strlen(s), &scan, skip);
}

static void test_head_end(void **state)
{
	(void)state;
	size_t skip;
	assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY", &skip), 27);
	assert_int_equal(skip, 0);
	assert_int_equal(end_of("GET / HTTP/1.1\nHost: x\n\nBODY", &skip), 24);
	assert_int_equal(end_of("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &skip), 22);
	assert_int_equal(skip, 4);
	assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: x\r\n", &skip), 0);
	assert_int_equal(end_of("", &skip), 0);
	/* Fed one byte at a time, the answer is the same. */
	const char *msg = "POST /x HTTP/1.1\r\nA: b\r\nC: d\r\n\r\nxyz";
	size_t scan = 0, found = 0;
	for (size_t n = 1; n <= strlen(msg); n++) {
		found = http1_head_end(msg, n, &scan, &skip);
		if (found)
			break;
	}
	assert_int_equal(found, strlen(msg) - 3);
}

static int parse_req(const char *text, http1_head *h, http1_error *e, char **keep)
{
	char *buf = strdup(text);
	*keep = buf;
	return http1_parse_request(buf, strlen(buf), h, e);
}

static void expect_req_status(const char *text, int status)
{
	http1_head h;
	http1_error e = {0};
	char *buf;
	int rc = parse_req(text, &h, &e, &buf);
	free(buf);
	if (rc != -1 || e.status != status)
		fail_msg("request %.60s: rc %d status %d (%s), wanted %d", text, rc, e.status,
		         e.reason, status);
}

static void test_parse_request(void **state)
{
	(void)state;
	http1_head h;
	http1_error e = {0};
	char *buf;
	assert_int_equal(parse_req("GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Y:  spaced value \t\r\n"
	                           "Empty:\r\n\r\n",
	                           &h, &e, &buf),
	                 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.target, "/a?b=c");
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.n_fields, 3);
	assert_string_equal(http1_get(&h, "x-y"), "spaced value");
	assert_string_equal(http1_get(&h, "EMPTY"), "");
	assert_null(http1_get(&h, "Missing"));
	assert_true(http1_keep_alive(&h));
	free(buf);
	assert_int_equal(
	    parse_req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h, &e, &buf), 0);
	assert_int_equal(h.minor, 0);
	assert_true(http1_keep_alive(&h));
	free(buf);
	assert_int_equal(
	    parse_req("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &h, &e, &buf), 0);
	assert_false(http1_keep_alive(&h));
	free(buf);

	expect_req_status("GET / HTTP/2.0\r\n\r\n", 505);
	expect_req_status("GET / HTTP/1.2\r\n\r\n", 505);
	expect_req_status("GET / HTTX/1.1\r\n\r\n", 400);
	expect_req_status("GET /\r\n\r\n", 400);
	expect_req_status("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_req_status("G(T / HTTP/1.1\r\n\r\n", 400);
	expect_req_status("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
	expect_req_status("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	expect_req_status("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400);
	expect_req_status("GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", 400);
	expect_req_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect_req_status("GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400);
	expect_req_status("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400);

	/* A target over 8 KiB is 414; more than 100 fields 431. */
	char *big = malloc(9000 + 64);
	int n = snprintf(big, 64, "GET /");
	memset(big + n, 'a', 9000);
	strcpy(big + n + 9000, " HTTP/1.1\r\n\r\n");
	expect_req_status(big, 414);
	free(big);
	char *many = malloc(101 * 16 + 64);
	size_t off = (size_t)sprintf(many, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 101; i++)
		off += (size_t)sprintf(many + off, "F%d: v\r\n", i);
	strcpy(many + off, "\r\n");
	expect_req_status(many, 431);
	free(many);
}

static int framing_of(const char *text, uint64_t max, http1_framing *f, http1_error *e)
{
	http1_head h;
	char *buf = strdup(text);
	int rc = http1_parse_request(buf, strlen(buf), &h, e);
	if (rc == 0)
		rc = http1_request_framing(&h, max, f, e);
	free(buf);
	return rc;
}

static void expect_framing_status(const char *text, uint64_t max, int status, const char *needle)
{
	http1_framing f;
	http1_error e = {0};
	int rc = framing_of(text, max, &f, &e);
	if (rc != -1 || e.status != status)
		fail_msg("%.80s: rc %d status %d (%s), wanted %d", text, rc, e.status, e.reason,
		         status);
	if (needle && !strstr(e.reason, needle))
		fail_msg("reason \"%s\" does not mention \"%s\"", e.reason, needle);
}

static void test_framing(void **state)
{
	(void)state;
	http1_framing f;
	http1_error e = {0};
	assert_int_equal(framing_of("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 10, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_LENGTH);
	assert_int_equal(f.length, 5);
	assert_int_equal(framing_of("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 10, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_NONE);
	assert_int_equal(framing_of("POST / HTTP/1.1\r\nContent-Length: 7, 7\r\n"
	                            "Content-Length: 007\r\n\r\n",
	                            10, &f, &e),
	                 0);
	assert_int_equal(f.length, 7);
	assert_int_equal(
	    framing_of("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", 10, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_CHUNKED);
	assert_int_equal(framing_of("GET / HTTP/1.1\r\n\r\n", 10, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_NONE);
	assert_int_equal(framing_of("DELETE / HTTP/1.1\r\n\r\n", 10, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_NONE);
	/* Exactly at the limit is fine. */
	assert_int_equal(framing_of("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", 10, &f, &e),
	                 0);

	/* Bad numbers are 400; huge ones 413 at once, however many digits. */
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 10, 400, "-1");
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: zz\r\n\r\n", 10, 400, "zz");
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 10, 400, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 10, 400, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 10, 400, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 10,
	                      413, "limit of 10");
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: "
	                      "99999999999999999999999999999999999999\r\n\r\n",
	                      1u << 20, 413, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 10, 413, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999x\r\n\r\n",
	                      10, 400, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	                      10, 400, "conflicting");
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 10, 400, NULL);
	/* Length required; smuggling shapes refused. */
	expect_framing_status("POST / HTTP/1.1\r\n\r\n", 10, 411, NULL);
	expect_framing_status("PUT / HTTP/1.1\r\n\r\n", 10, 411, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	                      "Transfer-Encoding: chunked\r\n\r\n",
	                      10, 400, "both");
	expect_framing_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 10, 501,
	                      "gzip");
	expect_framing_status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 10,
	                      501, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 10,
	                      400, NULL);
	expect_framing_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	                      "Transfer-Encoding: chunked\r\n\r\n",
	                      10, 400, NULL);
	expect_framing_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 10, 400,
	                      NULL);
}

static void test_response(void **state)
{
	(void)state;
	http1_head h;
	http1_error e = {0};
	http1_framing f;
	char buf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n";
	assert_int_equal(http1_parse_response(buf, strlen(buf), &h, &e), 0);
	assert_int_equal(h.status, 404);
	assert_string_equal(h.reason, "Not Found");
	assert_int_equal(http1_response_framing(&h, "GET", 100, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_LENGTH);
	assert_int_equal(f.length, 12);
	assert_int_equal(http1_response_framing(&h, "HEAD", 100, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_NONE);
	assert_int_equal(http1_response_framing(&h, "GET", 5, &f, &e), -1);
	assert_int_equal(e.status, 413);
	char b2[] = "HTTP/1.0 200\r\n\r\n";
	assert_int_equal(http1_parse_response(b2, strlen(b2), &h, &e), 0);
	assert_int_equal(h.status, 200);
	assert_int_equal(http1_response_framing(&h, "GET", 5, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_EOF);
	assert_false(http1_keep_alive(&h));
	char b3[] = "HTTP/1.1 204 No Content\r\n\r\n";
	assert_int_equal(http1_parse_response(b3, strlen(b3), &h, &e), 0);
	assert_int_equal(http1_response_framing(&h, "GET", 5, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_NONE);
	char b4[] = "HTTP/1.1 20 OK\r\n\r\n";
	assert_int_equal(http1_parse_response(b4, strlen(b4), &h, &e), -1);
	char b5[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_int_equal(http1_parse_response(b5, strlen(b5), &h, &e), 0);
	assert_int_equal(http1_response_framing(&h, "GET", 5, &f, &e), 0);
	assert_int_equal(f.kind, HTTP1_BODY_CHUNKED);
}

struct sink {
	char data[256];
	size_t len;
};

static int sink_emit(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;
	assert_true(s->len + n < sizeof s->data);
	memcpy(s->data + s->len, p, n);
	s->len += n;
	return 0;
}

/* Decodes text whole, then one byte at a time; both must agree. Returns
 * the status of the failure (0 on success) and the bytes consumed. */
static int decode(const char *text, uint64_t max, struct sink *out, size_t *used)
{
	http1_chunked c = {.max_body = max};
	http1_error e = {0};
	memset(out, 0, sizeof *out);
	long r = http1_chunked_feed(&c, (const uint8_t *)text, strlen(text), sink_emit, out, &e);
	int st1 = r < 0 ? e.status : 0;
	*used = r < 0 ? 0 : (size_t)r;
	if (st1 == 0 && !c.done)
		st1 = -1; /* incomplete */
	struct sink s2 = {0};
	http1_chunked c2 = {.max_body = max};
	int st2 = -1;
	for (size_t i = 0; i < strlen(text); i++) {
		long r2 = http1_chunked_feed(&c2, (const uint8_t *)text + i, 1, sink_emit, &s2, &e);
		if (r2 < 0) {
			st2 = e.status;
			break;
		}
		if (c2.done) {
			st2 = 0;
			break;
		}
	}
	assert_int_equal(st1, st2);
	if (st1 == 0) {
		assert_int_equal(out->len, s2.len);
		assert_memory_equal(out->data, s2.data, s2.len);
	}
	return st1;
}

static void test_chunked(void **state)
{
	(void)state;
	struct sink s;
	size_t used;
	assert_int_equal(decode("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", 100, &s, &used), 0);
	assert_int_equal(s.len, 11);
	assert_memory_equal(s.data, "hello world", 11);
	assert_int_equal(used, strlen("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
	assert_int_equal(
	    decode("A;name=val\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", 100, &s, &used), 0);
	assert_int_equal(s.len, 10);
	assert_int_equal(decode("5 ;ext\n12345\n0\n\n", 100, &s, &used), 0);
	assert_int_equal(decode("000000000000000000005\r\nhello\r\n0\r\n\r\n", 100, &s, &used), 0);
	assert_int_equal(decode("0\r\n\r\n", 100, &s, &used), 0);
	assert_int_equal(s.len, 0);

	/* Bad chunk sizes are 400, not 413. */
	assert_int_equal(decode("-1\r\n", 100, &s, &used), 400);
	assert_int_equal(decode("zz\r\n", 100, &s, &used), 400);
	assert_int_equal(decode("\r\n", 100, &s, &used), 400);
	assert_int_equal(decode("5 5\r\n", 100, &s, &used), 400);
	assert_int_equal(decode("0x5\r\n", 100, &s, &used), 400);
	assert_int_equal(decode("10000000000000000\r\n", 100, &s, &used), 400); /* 17 digits */
	assert_int_equal(decode("5\r\nhelloX\r\n", 100, &s, &used), 400);
	assert_int_equal(decode("5\rhello", 100, &s, &used), 400);
	/* Over the limit is 413 (as soon as the size line says so). */
	assert_int_equal(decode("FFFFFFFFFFFFFFFF\r\n", 100, &s, &used), 413);
	assert_int_equal(decode("65\r\n", 100, &s, &used), 413); /* 101 */
	assert_int_equal(decode("32\r\n", 100, &s, &used), -1);  /* 50: fine, incomplete */
	/* Endless trailers are cut off. */
	char *tr = malloc(HTTP1_MAX_TRAILERS + 64);
	strcpy(tr, "0\r\n");
	memset(tr + 3, 'a', HTTP1_MAX_TRAILERS + 10);
	tr[HTTP1_MAX_TRAILERS + 13] = 0;
	assert_int_equal(decode(tr, 100, &s, &used), 431);
	free(tr);
	/* A chunk-size line may not go on forever either. */
	char *ext = malloc(HTTP1_MAX_CHUNK_LINE + 64);
	strcpy(ext, "5;");
	memset(ext + 2, 'e', HTTP1_MAX_CHUNK_LINE + 10);
	ext[HTTP1_MAX_CHUNK_LINE + 12] = 0;
	assert_int_equal(decode(ext, 100, &s, &used), 400);
	free(ext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head_end), cmocka_unit_test(test_parse_request),
	    cmocka_unit_test(test_framing),  cmocka_unit_test(test_response),
	    cmocka_unit_test(test_chunked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
