/*
 * http1.c — HTTP/1.1 message syntax (RFC 9112) for the server and the
 * client of src/net: head boundaries, in-place head parsing, body framing
 * and the chunked decoder. See http1.h for the contracts.
 *
 * Strict where leniency has been used for request smuggling: a field name
 * followed by whitespace, obs-fold, a bare CR, both Content-Length and
 * Transfer-Encoding, disagreeing Content-Lengths and any transfer coding
 * but "chunked" are all refused.
 */
#include "http1.h"

#include "ctng/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_TARGET 8192

static int fail(http1_error *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(http1_error *e, int status, const char *fmt, ...)
{
	if (e) {
		e->status = status;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->reason, sizeof e->reason, fmt, ap);
		va_end(ap);
	}
	return -1;
}

size_t http1_head_end(const char *buf, size_t len, size_t *scan, size_t *skip)
{
	size_t s = 0;
	while (s < len && (buf[s] == '\n' || buf[s] == '\r')) {
		if (buf[s] == '\n') {
			s++;
		} else if (s + 1 < len) {
			if (buf[s + 1] != '\n')
				break; /* a bare CR: the parser will refuse it */
			s += 2;
		} else {
			*skip = s;
			return 0; /* CR at the end: wait for its LF */
		}
	}
	*skip = s;
	size_t i = *scan > s ? *scan : s;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl) {
			*scan = len;
			return 0;
		}
		i = (size_t)(nl - buf);
		if (i + 1 >= len) {
			*scan = i;
			return 0;
		}
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r') {
			if (i + 2 >= len) {
				*scan = i;
				return 0;
			}
			if (buf[i + 2] == '\n')
				return i + 3;
		}
		i++;
	}
	*scan = len;
	return 0;
}

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Next line of [*p, end): returns its start, NUL-terminates it (replacing
 * CR or LF), advances *p past the LF. NULL at the end or on a bare CR. */
static char *next_line(char **p, char *end, size_t *line_len, bool *bad_cr)
{
	*bad_cr = false;
	if (*p >= end)
		return NULL;
	char *start = *p;
	char *nl = memchr(start, '\n', (size_t)(end - start));
	if (!nl)
		return NULL;
	char *stop = nl;
	if (stop > start && stop[-1] == '\r')
		stop--;
	if (memchr(start, '\r', (size_t)(stop - start))) {
		*bad_cr = true;
		return NULL;
	}
	*stop = 0;
	*nl = 0;
	*line_len = (size_t)(stop - start);
	*p = nl + 1;
	return start;
}

static int parse_version(const char *v, int *minor, http1_error *e)
{
	if (strncmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9' || v[8] != 0)
		return fail(e, 400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return fail(e, 505, "HTTP version %.8s not supported (HTTP/1.0 and 1.1 are)", v);
	*minor = v[7] - '0';
	return 0;
}

static int parse_fields(char **p, char *end, http1_head *h, http1_error *e)
{
	for (;;) {
		size_t ll;
		bool bad_cr;
		char *line = next_line(p, end, &ll, &bad_cr);
		if (!line)
			return fail(e, 400,
			            bad_cr ? "bare CR in a header field" : "unterminated head");
		if (ll == 0)
			return 0; /* the empty line ending the head */
		if (line[0] == ' ' || line[0] == '\t')
			return fail(e, 400, "obsolete line folding in a header field");
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return fail(e, 400, "malformed header field (no name)");
		for (char *c = line; c < colon; c++)
			if (!is_tchar((unsigned char)*c))
				return fail(e, 400, "invalid character in a header field name");
		*colon = 0;
		char *v = colon + 1, *ve = line + ll;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (char *c = v; c < ve; c++) {
			unsigned char u = (unsigned char)*c;
			if ((u < 0x20 && u != '\t') || u == 0x7f)
				return fail(e, 400, "control character in header field %.40s",
				            line);
		}
		*ve = 0;
		if (h->n_fields >= HTTP1_MAX_HEADERS)
			return fail(e, 431, "more than %d header fields", HTTP1_MAX_HEADERS);
		h->fields[h->n_fields].name = line;
		h->fields[h->n_fields].value = v;
		h->n_fields++;
	}
}

int http1_parse_request(char *buf, size_t len, http1_head *h, http1_error *e)
{
	memset(h, 0, sizeof *h);
	char *p = buf, *end = buf + len;
	size_t ll;
	bool bad_cr;
	char *line = next_line(&p, end, &ll, &bad_cr);
	if (!line)
		return fail(e, 400, bad_cr ? "bare CR in the request line" : "no request line");
	char *sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line)
		return fail(e, 400, "malformed request line");
	*sp1 = 0;
	for (char *c = line; *c; c++)
		if (!is_tchar((unsigned char)*c))
			return fail(e, 400, "malformed method");
	char *target = sp1 + 1;
	char *sp2 = strrchr(target, ' ');
	if (!sp2 || sp2 == target)
		return fail(e, 400, "malformed request line");
	*sp2 = 0;
	if (sp2 - target > MAX_TARGET)
		return fail(e, 414, "request target longer than %d bytes", MAX_TARGET);
	for (char *c = target; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u <= 0x20 || u >= 0x7f)
			return fail(e, 400, "invalid character in the request target");
	}
	if (parse_version(sp2 + 1, &h->minor, e))
		return -1;
	h->method = line;
	h->target = target;
	return parse_fields(&p, end, h, e);
}

int http1_parse_response(char *buf, size_t len, http1_head *h, http1_error *e)
{
	memset(h, 0, sizeof *h);
	char *p = buf, *end = buf + len;
	size_t ll;
	bool bad_cr;
	char *line = next_line(&p, end, &ll, &bad_cr);
	if (!line || ll < 12 || line[8] != ' ')
		return fail(e, 400, "malformed status line");
	line[8] = 0;
	if (parse_version(line, &h->minor, e))
		return -1;
	char *s = line + 9;
	if (s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    (s[3] != ' ' && s[3] != 0))
		return fail(e, 400, "malformed status code");
	h->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	h->reason = s[3] ? s + 4 : s + 3;
	return parse_fields(&p, end, h, e);
}

const char *http1_get(const http1_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_fields; i++)
		if (!strcasecmp(h->fields[i].name, name))
			return h->fields[i].value;
	return NULL;
}

/* Calls fn on each comma-separated, whitespace-trimmed element of every
 * field named `name`; stops when fn returns non-zero and returns that. */
static int each_element(const http1_head *h, const char *name,
                        int (*fn)(void *arg, const char *el, size_t n), void *arg)
{
	for (size_t i = 0; i < h->n_fields; i++) {
		if (strcasecmp(h->fields[i].name, name) != 0)
			continue;
		const char *v = h->fields[i].value;
		for (;;) {
			while (*v == ' ' || *v == '\t')
				v++;
			const char *c = strchr(v, ',');
			const char *stop = c ? c : v + strlen(v);
			const char *t = stop;
			while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
				t--;
			int r = fn(arg, v, (size_t)(t - v));
			if (r)
				return r;
			if (!c)
				break;
			v = c + 1;
		}
	}
	return 0;
}

struct token_match {
	const char *token;
};

static int match_token(void *arg, const char *el, size_t n)
{
	const struct token_match *m = arg;
	return strlen(m->token) == n && !strncasecmp(el, m->token, n);
}

bool http1_has_token(const http1_head *h, const char *name, const char *token)
{
	struct token_match m = {token};
	return each_element(h, name, match_token, &m) != 0;
}

bool http1_keep_alive(const http1_head *h)
{
	if (http1_has_token(h, "Connection", "close"))
		return false;
	if (h->minor == 0)
		return http1_has_token(h, "Connection", "keep-alive");
	return true;
}

/* ----------------------------------------------------------- framing */

struct cl_state {
	int n;          /* elements seen */
	bool bad, huge; /* not a number; more than max */
	uint64_t value; /* of the first element */
	bool differ;
	uint64_t max;
	char shown[24]; /* the first element, for the message */
	bool cut;       /* ... shortened */
};

static int cl_element(void *arg, const char *el, size_t n)
{
	struct cl_state *s = arg;
	if (s->n == 0) {
		snprintf(s->shown, sizeof s->shown, "%.*s", (int)(n < 20 ? n : 20), el);
		s->cut = n > 20;
	}
	bool huge = false;
	uint64_t v = 0;
	if (n == 0)
		s->bad = true;
	for (size_t i = 0; i < n; i++) {
		if (el[i] < '0' || el[i] > '9') {
			s->bad = true;
			break;
		}
		if (v > (UINT64_MAX - 9) / 10)
			huge = true; /* keep scanning for non-digits */
		else
			v = v * 10 + (uint64_t)(el[i] - '0');
	}
	if (!huge && v > s->max)
		huge = true;
	if (s->n == 0) {
		s->value = v;
		s->huge = huge;
	} else if (v != s->value || huge != s->huge) {
		s->differ = true;
	}
	s->n++;
	return 0;
}

struct te_state {
	int n;
	bool chunked_last;
	bool chunked_seen_early;
	char other[32];
};

static int te_element(void *arg, const char *el, size_t n)
{
	struct te_state *s = arg;
	if (s->chunked_last)
		s->chunked_seen_early = true; /* something after "chunked" */
	s->chunked_last = false;
	if (n == 7 && !strncasecmp(el, "chunked", 7))
		s->chunked_last = true;
	else if (!s->other[0])
		snprintf(s->other, sizeof s->other, "%.*s", (int)(n < 24 ? n : 24), n ? el : "");
	s->n++;
	return 0;
}

/* The Content-Length and Transfer-Encoding rules common to both sides.
 * Returns 1 when neither field is present. */
static int common_framing(const http1_head *h, uint64_t max_body, bool request, http1_framing *f,
                          http1_error *e)
{
	struct te_state te = {0};
	struct cl_state cl = {.max = max_body};
	each_element(h, "Transfer-Encoding", te_element, &te);
	each_element(h, "Content-Length", cl_element, &cl);
	if (te.n && cl.n)
		return fail(e, 400, "both Content-Length and Transfer-Encoding");
	if (te.n) {
		if (request && h->minor == 0)
			return fail(e, 400, "Transfer-Encoding in an HTTP/1.0 request");
		if (te.chunked_seen_early)
			return fail(e, 400, "chunked must be the final transfer coding");
		if (te.n != 1 || !te.chunked_last)
			return fail(e, 501, "transfer coding \"%s\" not supported (only chunked)",
			            te.other);
		f->kind = HTTP1_BODY_CHUNKED;
		return 0;
	}
	if (cl.n) {
		if (cl.bad)
			return fail(e, 400, "invalid Content-Length \"%s\"", cl.shown);
		if (cl.differ)
			return fail(e, 400, "conflicting Content-Length values");
		if (cl.huge)
			return fail(e, 413, "Content-Length %s%s exceeds the limit of %llu bytes",
			            cl.shown, cl.cut ? "..." : "", (unsigned long long)max_body);
		f->kind = cl.value ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
		f->length = cl.value;
		return 0;
	}
	return 1;
}

int http1_request_framing(const http1_head *h, uint64_t max_body, http1_framing *f, http1_error *e)
{
	memset(f, 0, sizeof *f);
	int r = common_framing(h, max_body, true, f, e);
	if (r <= 0)
		return r;
	if (!strcmp(h->method, "POST") || !strcmp(h->method, "PUT"))
		return fail(e, 411, "%s needs a Content-Length or chunked body", h->method);
	f->kind = HTTP1_BODY_NONE;
	return 0;
}

int http1_response_framing(const http1_head *h, const char *method, uint64_t max_body,
                           http1_framing *f, http1_error *e)
{
	memset(f, 0, sizeof *f);
	if ((method && !strcmp(method, "HEAD")) || h->status / 100 == 1 || h->status == 204 ||
	    h->status == 304) {
		f->kind = HTTP1_BODY_NONE;
		return 0;
	}
	int r = common_framing(h, max_body, false, f, e);
	if (r <= 0)
		return r;
	f->kind = HTTP1_BODY_EOF;
	return 0;
}

/* ------------------------------------------------------------ chunked */

enum { CH_SIZE, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LF };

/* End of a chunk-size line: the size is complete. */
static int size_line_done(http1_chunked *c, http1_error *e)
{
	if (!c->any_digit)
		return fail(e, 400, "invalid chunk size (no hex digits)");
	if (c->left > c->max_body - c->total)
		return fail(e, 413, "chunked body exceeds the limit of %llu bytes",
		            (unsigned long long)c->max_body);
	c->line = 0;
	c->any_digit = false;
	c->in_ext = false;
	c->after_ws = false;
	c->state = c->left ? CH_DATA : CH_TRAILER;
	return 0;
}

long http1_chunked_feed(http1_chunked *c, const uint8_t *in, size_t len,
                        int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg,
                        http1_error *e)
{
	size_t i = 0;
	while (i < len && !c->done) {
		uint8_t b = in[i];
		switch (c->state) {
		case CH_SIZE:
			if (++c->line > HTTP1_MAX_CHUNK_LINE)
				return fail(e, 400, "chunk-size line too long");
			if (b == '\r') {
				c->state = CH_SIZE_LF;
			} else if (b == '\n') {
				if (size_line_done(c, e))
					return -1;
			} else if (c->in_ext) {
				if ((b < 0x20 && b != '\t') || b == 0x7f)
					return fail(e, 400,
					            "control character in a chunk extension");
			} else if (b == ';') {
				c->in_ext = true;
			} else if (b == ' ' || b == '\t') {
				if (!c->any_digit)
					return fail(e, 400, "invalid chunk size");
				c->after_ws = true; /* BWS, then only ';' or the line end */
			} else {
				int v = ctng_hex_digit((char)b);
				if (v < 0 || c->after_ws)
					return fail(e, 400, "invalid chunk size (byte 0x%02x)", b);
				if (c->any_digit && c->left >> 60)
					return fail(e, 400, "chunk size longer than 16 hex digits");
				c->left = (c->left << 4) | (uint64_t)v;
				c->any_digit = true;
			}
			i++;
			break;
		case CH_SIZE_LF:
			if (b != '\n')
				return fail(e, 400, "bare CR in a chunk-size line");
			if (size_line_done(c, e))
				return -1;
			i++;
			break;
		case CH_DATA: {
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			if (emit && emit(arg, in + i, n))
				return -2;
			c->left -= n;
			c->total += n;
			i += n;
			if (!c->left)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (b == '\r')
				c->state = CH_DATA_LF;
			else if (b == '\n')
				c->state = CH_SIZE;
			else
				return fail(e, 400, "missing CRLF after chunk data");
			i++;
			break;
		case CH_DATA_LF:
			if (b != '\n')
				return fail(e, 400, "missing CRLF after chunk data");
			c->state = CH_SIZE;
			i++;
			break;
		case CH_TRAILER:
			if (++c->trailers > HTTP1_MAX_TRAILERS)
				return fail(e, 431, "trailer section over %u bytes",
				            HTTP1_MAX_TRAILERS);
			if (b == '\r') {
				c->state = CH_TRAILER_LF;
			} else if (b == '\n') {
				if (c->line == 0)
					c->done = true;
				c->line = 0;
			} else {
				if ((b < 0x20 && b != '\t') || b == 0x7f)
					return fail(e, 400, "control character in a trailer field");
				c->line++;
			}
			i++;
			break;
		case CH_TRAILER_LF:
			if (b != '\n')
				return fail(e, 400, "bare CR in a trailer field");
			if (c->line == 0)
				c->done = true;
			c->line = 0;
			c->state = CH_TRAILER;
			i++;
			break;
		}
	}
	return (long)i;
}

const char *http1_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 425:
		return "Too Early";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}
