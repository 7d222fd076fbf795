/*
 * fuzz_tile_roots.c — libFuzzer target for the tile-roots answers of
 * loggers and peer mirrors (ctng_tile_roots_parse) and for data CONs
 * (ctng_gossip_decode + ctng_data_con_verify against a fixed fresh key).
 * The first byte picks the parser. Invariants: no crash or leak; parsed
 * tile roots pass the range rules and re-encode to JSON that parses to the
 * same statement; nothing the fuzzer writes verifies as a data CON (it
 * cannot carry a signature of a key made in this process).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/proto.h"
#include "ctng/sig.h"

static ctng_sig_key *key;
static const ctng_clock clock = {1700000000000ULL, 60000, 6000, 12000, 48000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!key && ctng_sig_generate(CTNG_SIG_ECDSA_P256, &key, NULL))
		abort();
	if (size < 1)
		return 0;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	if (data[0] & 1) {
		ctng_tile_roots t = {0}, u = {0};
		if (ctng_tile_roots_parse(s, n, &t, NULL) == 0) {
			json_t *j = NULL;
			if (ctng_tile_roots_check(&t, NULL) ||
			    ctng_tile_roots_to_json(&t, &j, NULL))
				abort();
			char *txt = json_dumps(j, JSON_COMPACT);
			if (!txt || ctng_tile_roots_parse(txt, strlen(txt), &u, NULL) ||
			    u.count != t.count || memcmp(u.roots, t.roots, (size_t)t.count * 32))
				abort();
			free(txt);
			json_decref(j);
			ctng_tile_roots_verify(&t, key, NULL);
		}
		ctng_tile_roots_clear(&t);
		ctng_tile_roots_clear(&u);
	} else {
		ctng_gossip_object o = {0};
		if (ctng_gossip_decode(s, n, &o, NULL) == 0 && ctng_con_is_data(&o) &&
		    ctng_data_con_verify(&o, key, &clock, NULL) == 0)
			abort();
		ctng_gossip_clear(&o);
	}
	return 0;
}
