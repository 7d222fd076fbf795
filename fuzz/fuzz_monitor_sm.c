/*
 * fuzz_monitor_sm.c — libFuzzer target for the monitor state machine's input
 * from its gossiper: each input is one or more gossip objects (JSON, split at
 * NUL bytes) handed to ctng_monitor_sm_on_gossip of a monitor of a small
 * fixed network, followed by building the update of the objects' period.
 * Invariants: no crash or leak; nothing the fuzzer writes is ever kept (it
 * cannot forge the group's BLS signature or the entities' keys, which are
 * fresh per process), so the machine holds no object and every update built
 * is empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/monitor/fixture.h"

static fx net;
static ctng_monitor_sm *sm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sm) {
		if (fx_init(&net) ||
		    ctng_monitor_sm_new(&net.net, "monitor1", fx_key(&net, "monitor1"), &sm, NULL))
			abort();
	}
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
		ctng_gossip_object o = {0};
		if (ctng_gossip_decode(p, len, &o, NULL) == 0) {
			ctng_monitor_actions a = {0};
			ctng_monitor_gossip_status st;
			uint64_t now = fx_time(o.period < 1000000 ? o.period : 0, 500);
			int rc = ctng_monitor_sm_on_gossip(sm, &o, now, &st, &a, NULL);
			if (rc == 0 && st == CTNG_MON_GOSSIP_NEW)
				abort();
			if (a.n != 0)
				abort();
			ctng_client_update u = {0};
			if (ctng_monitor_sm_build_update(sm, o.period, &u, NULL) != 0 ||
			    u.n_objects)
				abort();
			ctng_client_update_clear(&u);
			ctng_monitor_actions_free(&a);
			ctng_gossip_clear(&o);
		}
		p += len + 1;
	}
	if (ctng_monitor_sm_held(sm) != 0)
		abort();
	return 0;
}
