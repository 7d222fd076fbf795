/*
 * fuzz_sim_scenario.c — libFuzzer target for the scenario files of
 * `ctng sim` (ctng_sim_scenario_parse). Invariants: no crash or leak; a
 * rejection is CTNG_EINVAL (or CTNG_ENOMEM) with a message and no scenario;
 * an accepted scenario has sane bounds (periods, sizes, threshold).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ctng/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctng_sim_scenario *s = NULL;
	ctng_err e = {0};
	int rc = ctng_sim_scenario_parse((const char *)data, size, &s, &e);
	if (rc) {
		if (s || (rc != CTNG_EINVAL && rc != CTNG_ENOMEM) || !e.msg[0])
			abort();
		return 0;
	}
	if (!s || s->periods < 1 || s->periods > 100000 || s->monitors < 1 ||
	    s->threshold > s->monitors || s->loss < 0 || s->loss > 1)
		abort();
	ctng_sim_scenario_free(s);
	return 0;
}
