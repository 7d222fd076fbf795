/*
 * fuzz_assemble.c — libFuzzer target for `ctng network assemble`'s
 * descriptor parser (ctng_network_assemble): the input is up to 16
 * descriptors separated by NUL bytes; byte 0 is the threshold. Invariants:
 * no crash or leak; every rejection is an error with a message; an accepted
 * network parses (ctng_network_parse) and has no group key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *texts[16];
	size_t lens[16], n = 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	while (p < end && n < 16) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		size_t l = z ? (size_t)(z - p) : (size_t)(end - p);
		if (l) {
			texts[n] = p;
			lens[n++] = l;
		}
		p += l + 1;
	}
	if (!n)
		return 0;
	ctng_assemble_opts o = {
	    .threshold = data[0] % 8 + 1, .period_ms = 2000, .genesis_ms = 1700000000000ull};
	char *out = NULL;
	size_t len = 0;
	ctng_err e = {0};
	int rc = ctng_network_assemble(texts, lens, n, &o, &out, &len, &e);
	if (rc) {
		if (!e.msg[0] || out)
			abort();
		return 0;
	}
	ctng_network net;
	if (ctng_network_parse(out, len, &net, &e) || net.has_bls)
		abort();
	ctng_network_free(&net);
	free(out);
	return 0;
}
