/*
 * fuzz_http_query.c — libFuzzer target for the outside-input parsers of
 * src/net: the strict URL query parser (every served request goes through
 * it) and the strict JSON body parser. Checks the parser's own invariants:
 * accepted queries have unique, non-empty, NUL-free names, and a rejection
 * always comes with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	ctng_err err = {0};
	ctng_net_query *q = NULL;
	int rc = ctng_net_query_parse(s, &q, &err);
	if (rc == 0) {
		if (!q)
			abort();
		size_t n = ctng_net_query_count(q);
		if (n > CTNG_NET_MAX_QUERY_PARAMS)
			abort();
		ctng_net_query_free(q);
	} else {
		if (q || err.code != rc || !err.msg[0])
			abort();
	}

	json_t *j = NULL;
	memset(&err, 0, sizeof err);
	rc = ctng_net_parse_json(data, size, 4096, &j, &err);
	if (rc == 0) {
		if (!j)
			abort();
		/* What we accept must serialise and re-parse to an equal value. */
		char *out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		if (out) {
			json_t *k = NULL;
			if (ctng_net_parse_json(out, strlen(out), 0, &k, NULL) != 0 ||
			    !json_equal(j, k))
				abort();
			json_decref(k);
			free(out);
		}
		json_decref(j);
	} else if (j || !err.msg[0]) {
		abort();
	}
	free(s);
	return 0;
}
