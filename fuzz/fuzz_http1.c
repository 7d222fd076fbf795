/*
 * fuzz_http1.c — libFuzzer target for the HTTP/1.1 message parser of
 * src/net (src/net/http1.c), which reads every byte a peer sends: head
 * boundaries, request and response heads, body framing and the chunked
 * decoder. The first byte picks request (even) or response (odd) parsing,
 * and for a response whether it answers a GET or a HEAD (bit 1);
 * after the head, the rest is decoded as a chunked body whenever the
 * framing says so (and always, for coverage, with a small limit).
 * Invariants checked: a verdict always carries a 4xx/5xx status and a
 * reason; an accepted head has at most HTTP1_MAX_HEADERS fields; a
 * Content-Length is within the limit; the chunked decoder never reports
 * more data than its limit, and feeding it one byte at a time gives the
 * same verdict and data as feeding it whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http1.h"

struct sink {
	uint8_t *data;
	size_t len;
};

static int emit(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;
	memcpy(s->data + s->len, p, n);
	s->len += n;
	return 0;
}

static void check_error(int rc, const http1_error *e)
{
	if (rc == -1 && (e->status < 400 || e->status > 599 || !e->reason[0]))
		abort();
}

static void chunked(const uint8_t *p, size_t n, uint64_t max)
{
	struct sink a = {malloc(n + 1), 0}, b = {malloc(n + 1), 0};
	if (!a.data || !b.data)
		goto out;
	http1_chunked c1 = {.max_body = max}, c2 = {.max_body = max};
	http1_error e1 = {0}, e2 = {0};
	long r1 = http1_chunked_feed(&c1, p, n, emit, &a, &e1);
	check_error(r1 < 0 ? -1 : 0, &e1);
	if (r1 >= 0 && (size_t)r1 > n)
		abort();
	long r2 = 0;
	for (size_t i = 0; i < n && !c2.done; i++) {
		r2 = http1_chunked_feed(&c2, p + i, 1, emit, &b, &e2);
		if (r2 < 0)
			break;
	}
	if ((r1 < 0) != (r2 < 0) || (r1 < 0 && e1.status != e2.status) || c1.done != c2.done)
		abort();
	if (r1 >= 0 && (a.len != b.len || memcmp(a.data, b.data, a.len) || a.len > max))
		abort();
out:
	free(a.data);
	free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool response = data[0] & 1;
	const char *msg = (const char *)data + 1;
	size_t len = size - 1;
	size_t scan = 0, skip = 0;
	size_t end = http1_head_end(msg, len, &scan, &skip);
	chunked(data + 1, len, 64);
	if (!end)
		return 0;
	if (end > len || skip > end)
		abort();
	char *head = malloc(end - skip + 1);
	if (!head)
		return 0;
	memcpy(head, msg + skip, end - skip);
	head[end - skip] = 0;
	http1_head h;
	http1_error e = {0};
	http1_framing f;
	int rc = response ? http1_parse_response(head, end - skip, &h, &e)
	                  : http1_parse_request(head, end - skip, &h, &e);
	check_error(rc, &e);
	if (rc == 0) {
		if (h.n_fields > HTTP1_MAX_HEADERS)
			abort();
		(void)http1_keep_alive(&h);
		(void)http1_get(&h, "Host");
		rc = response ? http1_response_framing(&h, data[0] & 2 ? "HEAD" : "GET", 1000, &f, &e)
		              : http1_request_framing(&h, 1000, &f, &e);
		check_error(rc, &e);
		if (rc == 0 && f.kind == HTTP1_BODY_LENGTH && (f.length == 0 || f.length > 1000))
			abort();
		if (rc == 0 && f.kind == HTTP1_BODY_CHUNKED)
			chunked(data + 1 + end, len - end, 1000);
	}
	free(head);
	return 0;
}
