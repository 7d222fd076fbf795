/* fuzz_index_watch.c — libFuzzer target for watch requests and webhook
 * URLs (src/index/watch.c): the bytes as the JSON body of POST
 * /ctng/v1/watches (strict parse, then the watch is added to an index on
 * an in-memory store and deleted again), as the "watches" section of a
 * monitor's config, and as a webhook URL under the default policy and
 * under an allow list. A watch that parses has a normalised domain and a
 * URL that passes the check on its own. Never crashes. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/index.h"

static ctng_index *ix, *ix_allow;
static ctng_store *st;
static ctng_network net;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ix) {
		const char *allow[] = {"10.0.0.0/8", "hooks.lan:8443", "[fd00::1]:443"};
		ctng_index_opts o = {.webhook_allow = allow, .n_webhook_allow = 3, .max_watches = 4};
		if (!(st = ctng_store_open(":memory:", NULL)) ||
		    ctng_index_open(st, &net, "monitor1", &o, &ix, NULL) ||
		    ctng_index_open(st, &net, "monitor1", &o, &ix_allow, NULL))
			__builtin_trap();
		ctng_index_close(ix);
		if (ctng_index_open(st, &net, "monitor1", NULL, &ix, NULL))
			__builtin_trap();
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	ctng_index_webhook_check(ix, text, NULL);
	ctng_index_webhook_check(ix_allow, text, NULL);
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	ctng_watch w;
	if (j && ctng_index_watch_parse(ix, j, &w, NULL) == 0) {
		if (ctng_index_webhook_check(ix, w.webhook, NULL))
			__builtin_trap();
		uint64_t id = 0;
		bool existed = false;
		if (ctng_index_watch_add(ix, &w, 1, &id, &existed, NULL) == 0 && !existed &&
		    ctng_index_watch_delete(ix, id, NULL))
			__builtin_trap();
	}
	json_decref(j);
	ctng_watch *ws = NULL;
	size_t n = 0;
	if (ctng_index_watches_from_config(ix, text, &ws, &n, NULL) == 0)
		free(ws);
	free(text);
	return 0;
}
