/* fuzz_index_query.c — libFuzzer target for what a search or events
 * request brings (src/index/names.c, search.c): the input split at NUL
 * bytes into domain, subdomains, after and limit goes through
 * ctng_index_query_parse; whatever it accepts is a normalised domain that
 * normalises to itself and matches itself; names from certificates go
 * through ctng_index_name_normalize (idempotent on what it accepts); and a
 * query that parses runs against an empty index on an in-memory store, as
 * a search and as events after a cursor made of the bytes. Never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/index.h"

static ctng_index *ix;
static ctng_store *st;
static ctng_network net;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ix) {
		if (!(st = ctng_store_open(":memory:", NULL)) ||
		    ctng_index_open(st, &net, "monitor1", NULL, &ix, NULL))
			__builtin_trap();
	}
	char name[CTNG_DNS_NAME_MAX + 1], again[CTNG_DNS_NAME_MAX + 1];
	if (ctng_index_name_normalize(data, size, name, NULL) == 0) {
		if (ctng_index_name_normalize((const uint8_t *)name, strlen(name), again, NULL) ||
		    strcmp(name, again) || !ctng_index_name_matches(name, name, false))
			__builtin_trap();
	}
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	const char *part[4] = {NULL, NULL, NULL, NULL};
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= size && k < 4; i++)
		if (i == size || buf[i] == 0) {
			part[k++] = buf + start;
			start = i + 1;
		}
	ctng_index_query q;
	if (ctng_index_query_parse(part[0], part[1], part[2], part[3], &q, NULL) == 0) {
		if (ctng_index_name_normalize((const uint8_t *)q.domain, strlen(q.domain), again,
		                              NULL) ||
		    strcmp(q.domain, again) || q.limit < 1 || q.limit > CTNG_INDEX_PAGE_MAX)
			__builtin_trap();
		struct json_t *res = NULL;
		uint64_t next = 0;
		if (ctng_index_search(ix, &q, &res, &next, NULL) == 0)
			json_decref(res);
		char cur[CTNG_INDEX_CURSOR_MAX];
		if (ctng_index_events(ix, &q, part[2], &res, cur, NULL) == 0)
			json_decref(res);
	}
	free(buf);
	return 0;
}
