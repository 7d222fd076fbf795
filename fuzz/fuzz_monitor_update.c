/*
 * fuzz_monitor_update.c — libFuzzer target for ctng_client_update_parse, the
 * strict parser of the client update a relying party downloads from a
 * monitor (docs/client-update.md). Invariants: no crash or leak; whatever
 * parses re-encodes canonically, and the canonical text parses back to the
 * same objects.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctng_client_update u = {0}, v = {0};
	if (ctng_client_update_parse((const char *)data, size, &u, NULL) != 0)
		return 0;
	char *txt = NULL;
	size_t len = 0;
	if (ctng_client_update_encode(&u, &txt, &len, NULL) != 0)
		abort();
	if (ctng_client_update_parse(txt, len, &v, NULL) != 0 || v.n_objects != u.n_objects ||
	    v.period != u.period || strcmp(v.monitor, u.monitor) != 0)
		abort();
	for (size_t i = 0; i < u.n_objects; i++)
		if (!ctng_gossip_equal(&u.objects[i], &v.objects[i]))
			abort();
	free(txt);
	ctng_client_update_clear(&u);
	ctng_client_update_clear(&v);
	return 0;
}
