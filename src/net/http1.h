/*
 * http1.h — HTTP/1.1 message syntax (RFC 9112) for src/net, shared by the
 * server and the client: finding the end of a message head, parsing a
 * request or response head in place, deciding how the body is framed
 * (Content-Length, chunked, or until close), and decoding chunked bodies.
 *
 * Pure functions over bytes: no I/O, no allocation. Every verdict on a
 * malformed message carries the HTTP status a server answers with (400 bad
 * syntax or number, 411 length required, 413 too large, 431 header fields
 * too large, 501 unknown transfer coding, 505 version) and a one-line
 * reason. Fuzzed by fuzz/fuzz_http1.c.
 *
 * Not part of the public API (internal to src/net; the fuzz target and the
 * tests of src/net include it).
 */
#ifndef CTNG_NET_HTTP1_H
#define CTNG_NET_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEAD       (64u << 10) /* request line or status line + fields */
#define HTTP1_MAX_HEADERS    100
#define HTTP1_MAX_CHUNK_LINE 1024 /* chunk-size line incl. extensions        */
#define HTTP1_MAX_TRAILERS   (8u << 10)

/* A verdict on a malformed message: the status to answer and why. */
typedef struct http1_error {
	int status;
	char reason[160];
} http1_error;

typedef struct http1_field {
	const char *name;  /* NUL-terminated, as sent (case kept) */
	const char *value; /* NUL-terminated, surrounding whitespace removed */
} http1_field;

typedef struct http1_head {
	/* request: method and target; response: NULL */
	const char *method;
	const char *target;
	/* response: status code (100..999) and reason; request: 0 / NULL */
	int status;
	const char *reason;
	int minor; /* HTTP/1.<minor>: 0 or 1 */
	http1_field fields[HTTP1_MAX_HEADERS];
	size_t n_fields;
} http1_head;

/* Looks for the empty line ending a message head in buf[0..len). `*scan` is
 * where the previous call stopped (start with 0; it is updated), so feeding
 * a head one byte at a time costs linear time. Lines end in CRLF or a bare
 * LF. Empty lines before the start line are skipped (RFC 9112 §2.2): on
 * return *skip is the number of such leading bytes. Returns the length of
 * the head including its final empty line, or 0 if it is not complete yet. */
size_t http1_head_end(const char *buf, size_t len, size_t *scan, size_t *skip);

/* Parses a request head of exactly len bytes (as found by http1_head_end,
 * leading empty lines removed), in place: buf is modified (NUL bytes are
 * written after every token) and h points into it. Returns 0, or -1 with e
 * filled (400 malformed line/field or obs-fold or too many fields, 414
 * target over 8 KiB, 505 version other than HTTP/1.0 or 1.1, 501 method
 * token of unknown syntax is still 400). */
int http1_parse_request(char *buf, size_t len, http1_head *h, http1_error *e);

/* Parses a response head the same way (status line "HTTP/1.x NNN reason"). */
int http1_parse_response(char *buf, size_t len, http1_head *h, http1_error *e);

/* Value of the first field named `name` (ASCII case-insensitive), or NULL. */
const char *http1_get(const http1_head *h, const char *name);

/* True if a comma-separated field (e.g. Connection) lists `token`
 * (case-insensitive), in any of its occurrences. */
bool http1_has_token(const http1_head *h, const char *name, const char *token);

typedef enum http1_framing_kind {
	HTTP1_BODY_NONE,    /* no body */
	HTTP1_BODY_LENGTH,  /* exactly `length` bytes */
	HTTP1_BODY_CHUNKED, /* chunked transfer coding */
	HTTP1_BODY_EOF,     /* response only: until the connection closes */
} http1_framing_kind;

typedef struct http1_framing {
	http1_framing_kind kind;
	uint64_t length;
} http1_framing;

/* How the body of a request is framed (RFC 9112 §6.3), checked against
 * max_body: Transfer-Encoding other than exactly "chunked" is 501 (400 for
 * HTTP/1.0), both Transfer-Encoding and Content-Length 400, a
 * Content-Length that is not a decimal number or whose copies disagree
 * 400, one larger than max_body 413 (however many digits), POST or PUT
 * with neither 411. Returns 0 or -1 with e filled. */
int http1_request_framing(const http1_head *h, uint64_t max_body, http1_framing *f, http1_error *e);

/* How the body of a response to `method` is framed; its length is checked
 * against max_body (413 means "response too large" here). */
int http1_response_framing(const http1_head *h, const char *method, uint64_t max_body,
                           http1_framing *f, http1_error *e);

/* Whether the connection may carry another message after this one
 * (HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive). */
bool http1_keep_alive(const http1_head *h);

/* Incremental chunked-body decoder. Zero-initialise, set max_body. */
typedef struct http1_chunked {
	uint64_t max_body; /* decoded bytes allowed in total */
	uint64_t total;    /* decoded so far */
	uint64_t left;     /* bytes left in the current chunk */
	int state;
	size_t line;     /* bytes of the current size/trailer line */
	size_t trailers; /* bytes of trailer section so far */
	bool any_digit;
	bool in_ext;
	bool after_ws;
	bool done;
} http1_chunked;

/* Feeds len bytes. Data bytes of the body are reported through emit (in
 * order, possibly in several pieces; emit returns 0, or non-zero to stop:
 * then this returns -2). Returns the number of input bytes consumed (less
 * than len only once the body is complete: c->done, and the rest belongs to
 * the next message), or -1 with e filled: 400 for a bad chunk size ("-1",
 * "zz", more than 16 hex digits, a missing CRLF), 413 when the decoded body
 * would exceed max_body, 431 for trailers over HTTP1_MAX_TRAILERS. */
long http1_chunked_feed(http1_chunked *c, const uint8_t *in, size_t len,
                        int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg,
                        http1_error *e);

/* Reason phrase of a status code ("Not Found"; "Unknown" if none). */
const char *http1_reason(int status);

#endif
