/*
 * fuzz_monitor_pom.c — libFuzzer target for the monitor's other parsers of
 * outside input: the RFC 6962 get-sth-consistency response a logger returns
 * (ctng_monitor_parse_consistency) and the STH-inconsistency PoM file
 * (ctng_sth_pom_verify, against a small fixed network). The first byte picks
 * the parser. Invariants: no crash or leak; a parsed proof has at most 66
 * hashes; random input never verifies as a PoM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/monitor/fixture.h"

static fx net;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		if (fx_init(&net))
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	if (data[0] & 1) {
		uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
		size_t len = 0;
		if (ctng_monitor_parse_consistency(s, n, proof, &len, NULL) == 0 &&
		    len > CTNG_MERKLE_MAX_PROOF)
			abort();
	} else {
		/* The fixture's keys are fresh per process: nothing the fuzzer
		 * writes can carry a valid logger signature. */
		if (ctng_sth_pom_verify(s, n, &net.net, NULL, NULL) == 0)
			abort();
	}
	return 0;
}
