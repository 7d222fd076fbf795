/*
 * fuzz_gossiper_sm.c — libFuzzer target for the gossiper's input path: the
 * body of POST /ctng/v1/gossip goes through the strict decoder and into the
 * state machine (verification, dedup, caps, timers). A small network (two
 * loggers, a CA, two monitors, two gossipers, threshold 2) is built once.
 * Input byte 0 picks the mode: odd = the rest is XORed over a valid object
 * (STH, CON, FRAG or FULL) made at start-up, so mutations reach the
 * signature checks; 0 mod 4 = the rest is a JSON body as POSTed by a peer;
 * 2 mod 4 = the rest is a GET /ctng/v1/objects answer pulled from a peer
 * at start-up (gossiper_feed_objects). The
 * state machine must never crash, never accept a mutated object that no
 * longer verifies as a FULL, and stay bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/bls.h"
#include "ctng/gossiper.h"
#include "gossiper/gossiper_internal.h"

#define GENESIS 1700000000000ull
#define PERIOD  10000ull
#define P       5ull

static ctng_network net;
static ctng_bls_share shares[2];
static ctng_sig_key *keys[8];
static char *valid[4]; /* encoded STH, CON, FRAG, FULL */
static size_t valid_len[4];
static ctng_gossiper_sm *sm;

static void add(const char *id, ctng_role role, ctng_sig_alg alg)
{
	ctng_entity *e = &net.entities[net.n_entities];
	memset(e, 0, sizeof(*e));
	strcpy(e->id, id);
	e->role = role;
	if (alg != CTNG_SIG_NONE) {
		if (ctng_sig_generate(alg, &keys[net.n_entities], NULL))
			abort();
		e->key = keys[net.n_entities];
	}
	net.n_entities++;
}

static void encode_to(int slot, const ctng_gossip_object *o)
{
	if (ctng_gossip_encode(o, &valid[slot], &valid_len[slot], NULL))
		abort();
}

static void setup(void)
{
	ctng_log_set_level(CTNG_LOG_OFF);
	net.clock = (ctng_clock){GENESIS, PERIOD, 500, 1000, 8000};
	net.threshold = 2;
	net.entities = calloc(8, sizeof(ctng_entity));
	add("logger1", CTNG_ROLE_LOGGER, CTNG_SIG_ECDSA_P256);
	add("logger2", CTNG_ROLE_LOGGER, CTNG_SIG_ECDSA_P256);
	add("ca1", CTNG_ROLE_CA, CTNG_SIG_ED25519);
	add("monitor1", CTNG_ROLE_MONITOR, CTNG_SIG_ED25519);
	add("monitor2", CTNG_ROLE_MONITOR, CTNG_SIG_ED25519);
	uint8_t com[2][96], seed[32] = {7};
	if (ctng_bls_deal(2, 2, seed, 32, net.group_pk, com, shares, NULL))
		abort();
	net.has_bls = true;
	static char *peers1[] = {"gossiper2"}, *peers2[] = {"gossiper1"};
	for (int i = 0; i < 2; i++) {
		char id[16];
		snprintf(id, sizeof id, "gossiper%d", i + 1);
		add(id, CTNG_ROLE_GOSSIPER, CTNG_SIG_NONE);
		ctng_entity *g = &net.entities[net.n_entities - 1];
		snprintf(g->monitor, sizeof g->monitor, "monitor%d", i + 1);
		g->bls_id = shares[i].id;
		g->has_bls_pk = true;
		memcpy(g->bls_pk, shares[i].pk, 96);
		g->peers = i == 0 ? peers1 : peers2;
		g->n_peers = 1;
	}
	/* valid objects: two conflicting STHs, their CON, a FRAG and a FULL */
	uint64_t now = GENESIS + P * PERIOD + 100;
	ctng_sth sth = {.timestamp_ms = now, .tree_size = 3};
	ctng_gossip_object a = {0}, b = {0}, con = {0}, f1 = {0}, f2 = {0}, full = {0};
	if (ctng_sth_sign(&a, "logger1", keys[0], &sth, &net.clock, NULL))
		abort();
	sth.tree_size = 4;
	if (ctng_sth_sign(&b, "logger1", keys[0], &sth, &net.clock, NULL) ||
	    ctng_con_build(&con, &a, &b, now, NULL))
		abort();
	ctng_buf msg = {0};
	uint8_t s1[48], s2[48], parts[2][48], gs[48];
	if (ctng_gossip_attest_bytes(&a, &msg, NULL) ||
	    ctng_bls_sign(s1, shares[0].sk, msg.data, msg.len, NULL, NULL) ||
	    ctng_bls_sign(s2, shares[1].sk, msg.data, msg.len, NULL, NULL) ||
	    ctng_frag_build(&f1, &a, "gossiper1", s1, now, NULL) ||
	    ctng_frag_build(&f2, &a, "gossiper2", s2, now, NULL))
		abort();
	memcpy(parts[0], s1, 48);
	memcpy(parts[1], s2, 48);
	uint32_t ids[2] = {shares[0].id, shares[1].id};
	const char *names[2] = {"gossiper1", "gossiper2"};
	if (ctng_bls_combine(gs, ids, (const uint8_t(*)[48])parts, 2, 2, NULL) ||
	    ctng_full_build(&full, &f1, names, 2, gs, now, NULL))
		abort();
	encode_to(0, &a);
	encode_to(1, &con);
	encode_to(2, &f1);
	encode_to(3, &full);
	ctng_buf_free(&msg);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&con);
	ctng_gossip_clear(&f1);
	ctng_gossip_clear(&f2);
	ctng_gossip_clear(&full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	uint64_t now = GENESIS + P * PERIOD + 200;
	/* a fresh state machine per input keeps runs independent */
	if (ctng_gossiper_sm_new(&net, "gossiper2", shares[1].sk, now, &sm, NULL))
		abort();
	char *body = NULL;
	size_t len = 0;
	if (data[0] & 1) {
		int slot = (data[0] >> 1) & 3;
		len = valid_len[slot];
		body = malloc(len + 1);
		memcpy(body, valid[slot], len);
		for (size_t i = 1; i < size && i - 1 < len; i++)
			body[i - 1] ^= (char)data[i];
	} else {
		len = size - 1;
		body = malloc(len + 1);
		memcpy(body, data + 1, len);
	}
	body[len] = 0;
	ctng_gossip_object o = {0};
	ctng_gossiper_actions acts = {0};
	if ((data[0] & 3) == 2) {
		gossiper_feed_objects(sm, (const uint8_t *)body, len, "gossiper1", now, &acts,
		                      NULL);
		if (ctng_gossiper_sm_held(sm) > 64)
			abort();
	} else if (ctng_gossip_decode(body, len, &o, NULL) == 0) {
		int rc = ctng_gossiper_sm_on_object(sm, &o, "gossiper1", now, &acts, NULL);
		/* an unmutated valid object is accepted */
		if (size == 1 && (data[0] & 1) && rc != CTNG_GOSSIPER_NEW)
			abort();
		/* a FULL is only accepted if it verifies under the group key */
		if (rc == CTNG_GOSSIPER_NEW && ctng_type_kind(o.type) == CTNG_KIND_FULL) {
			ctng_buf m = {0};
			uint8_t sig[48];
			if (ctng_gossip_bls_sig(&o, sig, NULL) ||
			    ctng_gossip_attest_bytes(&o, &m, NULL) ||
			    ctng_bls_verify(net.group_pk, m.data, m.len, sig, NULL, NULL))
				abort();
			ctng_buf_free(&m);
		}
		ctng_gossiper_sm_on_timer(sm, now + 5000, &acts, NULL);
		if (ctng_gossiper_sm_held(sm) > 16)
			abort();
	}
	ctng_gossip_clear(&o);
	ctng_gossiper_actions_free(&acts);
	ctng_gossiper_sm_free(sm);
	sm = NULL;
	free(body);
	return 0;
}
