/*
 * query.c — strict parser for URL query strings (outside input: every
 * request a node serves passes through it) and a strict JSON parse helper.
 * Fuzzed by fuzz/fuzz_http_query.c.
 */
#include <stdlib.h>
#include <string.h>

#include "ctng/base.h"
#include "ctng/net.h"

struct ctng_net_query {
	size_t n;
	char **names;
	char **values;
};

/* Percent-decodes s[0..n) into a fresh string. */
static int decode(const char *s, size_t n, char **out, const char *what, ctng_err *err)
{
	char *r = malloc(n + 1);
	if (!r)
		return ctng_err_set(err, CTNG_ENOMEM, "query: out of memory");
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || ctng_hex_digit(s[i + 1]) < 0 ||
			    ctng_hex_digit(s[i + 2]) < 0) {
				free(r);
				return ctng_err_set(err, CTNG_EINVAL,
				                    "query: bad percent-encoding in %s", what);
			}
			int v = ctng_hex_digit(s[i + 1]) * 16 + ctng_hex_digit(s[i + 2]);
			if (v == 0) {
				free(r);
				return ctng_err_set(err, CTNG_EINVAL, "query: NUL byte in %s",
				                    what);
			}
			r[j++] = (char)v;
			i += 2;
		} else if (c == '+') {
			r[j++] = ' ';
		} else if ((unsigned char)c < 0x21 || (unsigned char)c == 0x7f || c == '#') {
			free(r);
			return ctng_err_set(err, CTNG_EINVAL, "query: invalid character in %s",
			                    what);
		} else {
			r[j++] = c;
		}
	}
	r[j] = 0;
	*out = r;
	return 0;
}

void ctng_net_query_free(ctng_net_query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++) {
		free(q->names[i]);
		free(q->values[i]);
	}
	free(q->names);
	free(q->values);
	free(q);
}

int ctng_net_query_parse(const char *qs, ctng_net_query **out, ctng_err *err)
{
	*out = NULL;
	ctng_net_query *q = calloc(1, sizeof *q);
	if (!q)
		return ctng_err_set(err, CTNG_ENOMEM, "query: out of memory");
	if (!qs || !*qs) {
		*out = q;
		return 0;
	}
	size_t len = strlen(qs);
	if (len > CTNG_NET_MAX_QUERY_LEN) {
		ctng_net_query_free(q);
		return ctng_err_set(err, CTNG_EINVAL, "query: longer than %d bytes",
		                    CTNG_NET_MAX_QUERY_LEN);
	}
	q->names = calloc(CTNG_NET_MAX_QUERY_PARAMS, sizeof *q->names);
	q->values = calloc(CTNG_NET_MAX_QUERY_PARAMS, sizeof *q->values);
	if (!q->names || !q->values) {
		ctng_net_query_free(q);
		return ctng_err_set(err, CTNG_ENOMEM, "query: out of memory");
	}
	const char *p = qs, *end = qs + len;
	int rc = 0;
	for (;;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		if (pe == p) {
			rc = ctng_err_set(err, CTNG_EINVAL, "query: empty parameter");
			break;
		}
		if (!eq) {
			rc = ctng_err_set(err, CTNG_EINVAL, "query: parameter without '='");
			break;
		}
		if (eq == p) {
			rc = ctng_err_set(err, CTNG_EINVAL, "query: parameter with an empty name");
			break;
		}
		if (q->n == CTNG_NET_MAX_QUERY_PARAMS) {
			rc = ctng_err_set(err, CTNG_EINVAL, "query: more than %d parameters",
			                  CTNG_NET_MAX_QUERY_PARAMS);
			break;
		}
		char *name = NULL, *value = NULL;
		if ((rc = decode(p, (size_t)(eq - p), &name, "a parameter name", err)))
			break;
		if ((rc = decode(eq + 1, (size_t)(pe - eq - 1), &value, name, err))) {
			free(name);
			break;
		}
		if (memchr(eq + 1, '=', (size_t)(pe - eq - 1))) {
			rc = ctng_err_set(err, CTNG_EINVAL, "query: unescaped '=' in %s", name);
			free(name);
			free(value);
			break;
		}
		for (size_t i = 0; i < q->n; i++) {
			if (strcmp(q->names[i], name) == 0) {
				rc = ctng_err_set(err, CTNG_EINVAL, "query: duplicate parameter %s",
				                  name);
				break;
			}
		}
		if (rc) {
			free(name);
			free(value);
			break;
		}
		q->names[q->n] = name;
		q->values[q->n] = value;
		q->n++;
		if (!amp)
			break;
		p = amp + 1;
		if (p == end) {
			rc = ctng_err_set(err, CTNG_EINVAL, "query: trailing '&'");
			break;
		}
	}
	if (rc) {
		ctng_net_query_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

const char *ctng_net_query_get(const ctng_net_query *q, const char *name)
{
	if (!q || !name)
		return NULL;
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->names[i], name) == 0)
			return q->values[i];
	return NULL;
}

size_t ctng_net_query_count(const ctng_net_query *q)
{
	return q ? q->n : 0;
}

int ctng_net_parse_json(const void *data, size_t len, size_t max_len, json_t **out, ctng_err *err)
{
	*out = NULL;
	if (max_len && len > max_len)
		return ctng_err_set(err, CTNG_ERANGE, "json: %zu bytes, more than the limit %zu",
		                    len, max_len);
	if (len && memchr(data, 0, len))
		return ctng_err_set(err, CTNG_EINVAL, "json: NUL byte in input");
	json_error_t je;
	json_t *j =
	    json_loadb(data ? data : "", len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "json: %s at line %d column %d", je.text,
		                    je.line, je.column);
	*out = j;
	return 0;
}
