/*
 * fuzz_wire.c — libFuzzer target for the binary form of gossip objects and
 * observations (ctng_wire_decode, ctng_wire_decode_obs), which every
 * gossiper and monitor runs on a POST body of Content-Type
 * application/vnd.ctng.wire. A small network is built once. Input byte 0
 * picks the decoder (odd: observation). Invariants: no crash or leak; a
 * rejection is CTNG_EINVAL with a message starting "wire: "; an accepted
 * input re-encodes to exactly itself (one encoding per object) and its
 * canonical JSON decodes to the same object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/wire.h"

static ctng_network net;

static void add(const char *id, ctng_role role, uint32_t bls_id)
{
	ctng_entity *e = &net.entities[net.n_entities++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof e->id, "%s", id);
	e->role = role;
	e->bls_id = bls_id;
}

static void setup(void)
{
	net.clock = (ctng_clock){1700000000000ull, 10000, 500, 1000, 8000};
	net.threshold = 2;
	net.entities = calloc(12, sizeof(ctng_entity));
	add("logger1", CTNG_ROLE_LOGGER, 0);
	add("logger2", CTNG_ROLE_LOGGER, 0);
	add("ca1", CTNG_ROLE_CA, 0);
	add("monitor1", CTNG_ROLE_MONITOR, 0);
	add("monitor2", CTNG_ROLE_MONITOR, 0);
	for (uint32_t i = 1; i <= 7; i++) {
		char id[16];
		snprintf(id, sizeof id, "gossiper%u", i);
		add(id, CTNG_ROLE_GOSSIPER, i);
	}
}

static void check_reject(int rc, const ctng_err *err)
{
	if (rc != CTNG_EINVAL || strncmp(err->msg, "wire: ", 6) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!net.entities)
		setup();
	if (size < 1)
		return 0;
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	ctng_err err = {0};
	ctng_buf again = {0};
	if (data[0] & 1) {
		ctng_observation o;
		int rc = ctng_wire_decode_obs(&net, in, n, &o, &err);
		if (rc) {
			check_reject(rc, &err);
			return 0;
		}
		if (ctng_wire_encode_obs(&net, &o, &again, &err) || again.len != n ||
		    memcmp(again.data, in, n) != 0)
			abort();
		ctng_buf_free(&again);
		return 0;
	}
	ctng_gossip_object o = {0}, j = {0};
	int rc = ctng_wire_decode(&net, in, n, &o, &err);
	if (rc) {
		check_reject(rc, &err);
		return 0;
	}
	char *json = NULL;
	size_t jl = 0;
	if (ctng_wire_encode(&net, &o, &again, &err) || again.len != n ||
	    memcmp(again.data, in, n) != 0 || ctng_gossip_encode(&o, &json, &jl, &err) ||
	    ctng_gossip_decode(json, jl, &j, &err) || !ctng_gossip_equal(&o, &j))
		abort();
	free(json);
	ctng_gossip_clear(&o);
	ctng_gossip_clear(&j);
	ctng_buf_free(&again);
	return 0;
}
