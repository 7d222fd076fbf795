/*
 * test_wire.c — the binary form of gossip objects and observations
 * (ctng/wire.h, docs/protocol.md §11): every type round-trips to the same
 * canonical JSON and is smaller than it; the published vector; strictness
 * (truncation at every length, trailing bytes, non-minimal varints, unknown
 * codes, entity indexes out of range or of the wrong role, a signer bit with
 * no gossiper); the adversarial property that no byte changed in a valid
 * encoding yields a second encoding of the same object; the JSON fallback of
 * ctng_wire_body and the choice by Content-Type of ctng_wire_read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <roaring/roaring.h>

#include "ctng/wire.h"
#include "proto_vectors.h"

#define GENESIS 1700000000000ull
#define PERIOD  10000ull
#define P       5ull
#define NOW     (GENESIS + P * PERIOD + 100)

static ctng_network net;
static ctng_sig_key *keys[16];

static void add(const char *id, ctng_role role, ctng_sig_alg alg, uint32_t bls_id)
{
	ctng_entity *e = &net.entities[net.n_entities];
	memset(e, 0, sizeof(*e));
	strcpy(e->id, id);
	e->role = role;
	e->bls_id = bls_id;
	if (alg != CTNG_SIG_NONE) {
		assert_int_equal(ctng_sig_generate(alg, &keys[net.n_entities], NULL), 0);
		e->key = keys[net.n_entities];
	}
	net.n_entities++;
}

/* logger1 logger2 ca1(Ed25519) ca2(ECDSA) monitor1(Ed25519) monitor2(ECDSA)
 * gossiper1..3 (shares 1..3): entity indexes 0..8. */
static int setup(void **state)
{
	(void)state;
	net.clock = (ctng_clock){GENESIS, PERIOD, 500, 1000, 8000};
	net.threshold = 2;
	net.entities = calloc(16, sizeof(ctng_entity));
	add("logger1", CTNG_ROLE_LOGGER, CTNG_SIG_ECDSA_P256, 0);
	add("logger2", CTNG_ROLE_LOGGER, CTNG_SIG_ECDSA_P256, 0);
	add("ca1", CTNG_ROLE_CA, CTNG_SIG_ED25519, 0);
	add("ca2", CTNG_ROLE_CA, CTNG_SIG_ECDSA_P256, 0);
	add("monitor1", CTNG_ROLE_MONITOR, CTNG_SIG_ED25519, 0);
	add("monitor2", CTNG_ROLE_MONITOR, CTNG_SIG_ECDSA_P256, 0);
	add("gossiper1", CTNG_ROLE_GOSSIPER, CTNG_SIG_NONE, 1);
	add("gossiper2", CTNG_ROLE_GOSSIPER, CTNG_SIG_NONE, 2);
	add("gossiper3", CTNG_ROLE_GOSSIPER, CTNG_SIG_NONE, 3);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < 16; i++)
		ctng_sig_key_free(keys[i]);
	free(net.entities);
	return 0;
}

enum { O_STH, O_REV_ED, O_REV_EC, O_ACC, O_CON, O_FRAG0 };
#define N_OBJ (O_FRAG0 + 8)

/* One object of every type: STH, REV (both schemes), ACC, CON, and a FRAG
 * and a FULL of each family. */
static void make_objects(ctng_gossip_object o[N_OBJ])
{
	memset(o, 0, N_OBJ * sizeof(*o));
	ctng_sth sth = {.timestamp_ms = NOW + 7, .tree_size = 1234567};
	memset(sth.root, 0x5a, 32);
	assert_int_equal(ctng_sth_sign(&o[O_STH], "logger1", keys[0], &sth, &net.clock, NULL), 0);
	roaring_bitmap_t *delta = roaring_bitmap_of(4, 2u, 17u, 900u, 1000000u);
	uint8_t *d = NULL, crv[32];
	size_t dl = 0;
	memset(crv, 0x3c, 32);
	assert_int_equal(ctng_crv_delta_encode(delta, &d, &dl, NULL), 0);
	roaring_bitmap_free(delta);
	assert_int_equal(ctng_rev_sign(&o[O_REV_ED], "ca1", keys[2], P, crv, d, dl, NOW, NULL), 0);
	assert_int_equal(
	    ctng_rev_sign(&o[O_REV_EC], "ca2", keys[3], P, crv, d, dl, NOW - 9000, NULL), 0);
	free(d);
	assert_int_equal(
	    ctng_acc_sign(&o[O_ACC], "monitor2", keys[5], "logger2", P, NOW + 3000, NULL), 0);
	ctng_gossip_object b = {0};
	sth.tree_size++;
	assert_int_equal(ctng_sth_sign(&b, "logger1", keys[0], &sth, &net.clock, NULL), 0);
	assert_int_equal(ctng_con_build(&o[O_CON], &o[O_STH], &b, NOW, NULL), 0);
	ctng_gossip_clear(&b);
	const ctng_gossip_object *inits[4] = {&o[O_STH], &o[O_REV_ED], &o[O_ACC], &o[O_CON]};
	uint8_t sig[48];
	const char *signers[2] = {"gossiper3", "gossiper1"};
	for (int i = 0; i < 4; i++) {
		memset(sig, 0x11 * (i + 1), 48);
		assert_int_equal(ctng_frag_build(&o[O_FRAG0 + 2 * i], inits[i], "gossiper2", sig,
		                                 NOW + 1500, NULL),
		                 0);
		assert_int_equal(ctng_full_build(&o[O_FRAG0 + 2 * i + 1], &o[O_FRAG0 + 2 * i],
		                                 signers, 2, sig, NOW + 2500, NULL),
		                 0);
	}
}

static void clear_objects(ctng_gossip_object o[N_OBJ])
{
	for (int i = 0; i < N_OBJ; i++)
		ctng_gossip_clear(&o[i]);
}

static void encode(const ctng_gossip_object *o, ctng_buf *b)
{
	ctng_err err = {0};
	ctng_buf_reset(b);
	int rc = ctng_wire_encode(&net, o, b, &err);
	if (rc)
		fail_msg("%s: %s", ctng_type_name(o->type), err.msg);
}

static void test_round_trip(void **state)
{
	(void)state;
	ctng_gossip_object o[N_OBJ], back = {0};
	make_objects(o);
	ctng_buf b = {0}, again = {0};
	for (int i = 0; i < N_OBJ; i++) {
		encode(&o[i], &b);
		ctng_err err = {0};
		if (ctng_wire_decode(&net, b.data, b.len, &back, &err))
			fail_msg("%s: %s", ctng_type_name(o[i].type), err.msg);
		assert_true(ctng_gossip_equal(&o[i], &back));
		encode(&back, &again);
		assert_int_equal(again.len, b.len);
		assert_memory_equal(again.data, b.data, b.len);
		char *json = NULL;
		size_t jl = 0;
		assert_int_equal(ctng_gossip_encode(&o[i], &json, &jl, NULL), 0);
		assert_true(b.len < jl);
		if (o[i].type != CTNG_REV && o[i].type != CTNG_CON) /* these carry their payload */
			assert_true(b.len * 3 < jl);
		free(json);
	}
	/* what a signature verifies over survives: the decoded STH still verifies */
	encode(&o[O_STH], &b);
	assert_int_equal(ctng_wire_decode(&net, b.data, b.len, &back, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&back, keys[0], &net.clock, NULL), 0);
	encode(&o[O_REV_EC], &b);
	assert_int_equal(ctng_wire_decode(&net, b.data, b.len, &back, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&back, keys[3], NULL, NULL), 0);
	ctng_gossip_clear(&back);
	ctng_buf_free(&b);
	ctng_buf_free(&again);
	clear_objects(o);
}

/* The vector of docs/protocol.md §11. */
static void test_vector(void **state)
{
	(void)state;
	uint8_t sig[48], digest[32];
	memset(sig, 0xaa, 48);
	memset(digest, 0xbb, 32);
	ctng_gossip_object f = {0};
	f.type = CTNG_STH_FRAG;
	f.period = P;
	strcpy(f.signer, "gossiper1");
	f.timestamp_ms = GENESIS + P * PERIOD + 2000;
	f.scheme = CTNG_SCHEME_BLS;
	f.signature[0] = ctng_hex_strdup(sig, 48);
	assert_int_equal(ctng_gossip_set(&f.payload[0], "logger1", NULL), 0);
	f.payload[1] = ctng_hex_strdup(digest, 32);
	ctng_buf b = {0};
	encode(&f, &b);
	char hex[2 * 85 + 1];
	assert_int_equal(b.len, 85);
	ctng_hex_encode(hex, b.data, b.len);
	assert_string_equal(hex,
	                    "21050604"
	                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                    "00"
	                    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	ctng_gossip_clear(&f);
	ctng_buf_free(&b);
}

/* docs/protocol.md §11.4: the §8 vectors (tests/proto/test_vectors.c) in
 * the binary form, in the network of §11.4 (cross-checked with an
 * independent Python encoder of §11). */
static const char *V_STH_JSON = CTNG_VEC_STH_JSON;
static const char *V_STH_WIRE =
    "1102003036f86c6aefff945dde65983defab5f33e673e697f8791775371a6f0cdbf0455c9707784fea92637f"
    "e7d15495314d9f94ab92861ee9d6f6afd0b419de41b23f07000102030405060708090a0b0c0d0e0f10111213"
    "1415161718191a1b1c1d1e1f904e";
static const char *V_REV_JSON = CTNG_VEC_REV_JSON;
static const char *V_REV_WIRE =
    "12020102025da0367e94eea6b1dfa4d35112eff019b3ed9711d80b4fd60c786cd852d0200422b505bda259be"
    "9519177f91c67d47df4acb9ce9942deb835bf94931df16f1026e42da1d8497f2f0c8114a0d19985d6a41267f"
    "276f91c9999877528f988054481c3a300000020000000000000001000000180000001a00000009007011";
static const char *V_OBS_JSON = CTNG_VEC_OBS_A_JSON;
static const char *V_OBS_WIRE =
    "50020002052a420611bd8739719a33243f593ab811b51c490044c8ed9fba15dc27953ad2400264d9310520e8"
    "eedda54b7393b76e249e4ed41f7a6bd16948915cc619cc22100a972566ad8a8c4dafc0dbf9568e792f1e0d6a"
    "0d970dccad537890b5297d412e04";

static void vector_net(ctng_network *v, ctng_entity e[6])
{
	static const char *ids[6] = {"logger1", "ca1",       "monitor1",
	                             "logger2", "gossiper1", "gossiper2"};
	static const ctng_role roles[6] = {CTNG_ROLE_LOGGER,   CTNG_ROLE_CA,
	                                   CTNG_ROLE_MONITOR,  CTNG_ROLE_LOGGER,
	                                   CTNG_ROLE_GOSSIPER, CTNG_ROLE_GOSSIPER};
	memset(v, 0, sizeof(*v));
	memset(e, 0, 6 * sizeof(*e));
	v->clock = (ctng_clock){1700000000000ULL, 60000, 6000, 12000, 48000};
	v->threshold = 2;
	v->entities = e;
	v->n_entities = 6;
	for (int i = 0; i < 6; i++) {
		strcpy(e[i].id, ids[i]);
		e[i].role = roles[i];
		e[i].bls_id = roles[i] == CTNG_ROLE_GOSSIPER ? (uint32_t)i - 3 : 0;
	}
}

static void vector_object(const ctng_network *v, const char *json, const char *wire_hex)
{
	ctng_gossip_object o = {0}, back = {0};
	ctng_buf b = {0};
	ctng_err err = {0};
	assert_int_equal(ctng_gossip_decode(json, strlen(json), &o, &err), 0);
	assert_int_equal(ctng_wire_encode(v, &o, &b, &err), 0);
	char *hex = ctng_hex_strdup(b.data, b.len);
	assert_string_equal(hex, wire_hex);
	free(hex);
	assert_int_equal(ctng_wire_decode(v, b.data, b.len, &back, &err), 0);
	char *again = NULL;
	assert_int_equal(ctng_gossip_encode(&back, &again, NULL, NULL), 0);
	assert_string_equal(again, json);
	free(again);
	ctng_gossip_clear(&o);
	ctng_gossip_clear(&back);
	ctng_buf_free(&b);
}

static void test_section8_vectors(void **state)
{
	(void)state;
	ctng_network v;
	ctng_entity e[6];
	vector_net(&v, e);
	vector_object(&v, V_STH_JSON, V_STH_WIRE);
	vector_object(&v, V_REV_JSON, V_REV_WIRE);
	uint8_t w[128];
	size_t n = strlen(V_OBS_WIRE) / 2;
	assert_int_equal(ctng_hex_decode_exact(w, n, V_OBS_WIRE, NULL), 0);
	ctng_observation obs;
	ctng_err err = {0};
	assert_int_equal(ctng_wire_decode_obs(&v, w, n, &obs, &err), 0);
	char *json = NULL;
	assert_int_equal(ctng_obs_encode(&obs, &json, NULL, NULL), 0);
	assert_string_equal(json, V_OBS_JSON);
	free(json);
}

static void expect_reject(const uint8_t *p, size_t n, const char *needle)
{
	ctng_gossip_object o = {0};
	ctng_err err = {0};
	int rc = ctng_wire_decode(&net, p, n, &o, &err);
	if (rc != CTNG_EINVAL)
		fail_msg("accepted (rc %d), wanted \"%s\"", rc, needle);
	assert_int_equal(strncmp(err.msg, "wire: ", 6), 0);
	if (needle && !strstr(err.msg, needle))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, needle);
	assert_int_equal(o.type, CTNG_TYPE_NONE);
}

static void test_strict(void **state)
{
	(void)state;
	ctng_gossip_object o[N_OBJ];
	make_objects(o);
	ctng_buf b = {0};
	for (int i = 0; i < N_OBJ; i++) {
		encode(&o[i], &b);
		for (size_t n = 0; n < b.len; n++)
			expect_reject(b.data, n, NULL); /* every truncation */
		uint8_t *t = malloc(b.len + 1);
		memcpy(t, b.data, b.len);
		t[b.len] = 0;
		expect_reject(t, b.len + 1, "trailing");
		free(t);
	}
	/* FRAG of STH: 21 | period 05 | signer 07 (gossiper2) | ... */
	encode(&o[O_FRAG0], &b);
	assert_int_equal(b.data[0], 0x21);
	assert_int_equal(b.data[1], 0x05);
	assert_int_equal(b.data[2], 0x07);
	uint8_t *t = malloc(b.len + 1);
	/* period 5 written in two bytes */
	t[0] = 0x21;
	t[1] = 0x85;
	t[2] = 0x00;
	memcpy(t + 3, b.data + 2, b.len - 2);
	expect_reject(t, b.len + 1, "non-minimal");
	memcpy(t, b.data, b.len);
	t[2] = 200;
	expect_reject(t, b.len, "out of range");
	t[2] = 0; /* logger1 */
	expect_reject(t, b.len, "is not a gossiper");
	for (unsigned c = 0; c < 256; c++) {
		if (c >= 0x11 && c <= 0x34 && (c & 15) >= 1 && (c & 15) <= 4)
			continue;
		t[0] = (uint8_t)c;
		expect_reject(t, b.len, c == CTNG_WIRE_OBS_CODE ? NULL : "unknown type code");
	}
	free(t);
	/* FULL of STH: 31 | 05 | time | sig 48 | bitmap (1 byte: shares 1..3) | ... */
	encode(&o[O_FRAG0 + 1], &b);
	size_t at = 3 + 48;
	assert_int_equal(b.data[at], 0x05); /* gossiper1 and gossiper3 */
	b.data[at] |= 0x08;                 /* share 4: no such gossiper */
	expect_reject(b.data, b.len, "no gossiper has share 4");
	b.data[at] = 0;
	expect_reject(b.data, b.len, "at least one signer");
	ctng_buf_free(&b);
	clear_objects(o);
}

/* Think as the attacker: a changed byte either breaks the encoding or is a
 * different object; never a second encoding of the same one (which would
 * let a replayed object dodge the dedup of raw bytes or a cache). */
static void test_mutations(void **state)
{
	(void)state;
	ctng_gossip_object o[N_OBJ], back = {0};
	make_objects(o);
	ctng_buf b = {0}, again = {0};
	size_t accepted = 0;
	for (int i = 0; i < N_OBJ; i++) {
		encode(&o[i], &b);
		for (size_t k = 0; k < b.len && k < 160; k++)
			for (unsigned bit = 0; bit < 8; bit++) {
				b.data[k] ^= (uint8_t)(1u << bit);
				ctng_err err = {0};
				int rc = ctng_wire_decode(&net, b.data, b.len, &back, &err);
				if (rc == 0) {
					accepted++;
					assert_false(ctng_gossip_equal(&back, &o[i]));
					encode(&back, &again);
					assert_int_equal(again.len, b.len);
					assert_memory_equal(again.data, b.data, b.len);
				} else {
					assert_int_equal(rc, CTNG_EINVAL);
					assert_int_equal(strncmp(err.msg, "wire: ", 6), 0);
				}
				b.data[k] ^= (uint8_t)(1u << bit);
			}
	}
	assert_true(accepted > 0); /* signatures and hashes are opaque bytes here */
	ctng_gossip_clear(&back);
	ctng_buf_free(&b);
	ctng_buf_free(&again);
	clear_objects(o);
}

static void test_observation(void **state)
{
	(void)state;
	uint8_t d[32];
	memset(d, 0x42, 32);
	ctng_observation obs[3], back;
	assert_int_equal(ctng_obs_sign(&obs[0], "monitor2", keys[5], CTNG_FAM_STH, "logger2", P,
	                               CTNG_OBS_OBTAINED, d,
	                               CTNG_OBS_CHECK_CONSISTENT | CTNG_OBS_CHECK_DATA, NULL),
	                 0);
	assert_int_equal(ctng_obs_sign(&obs[1], "monitor1", keys[4], CTNG_FAM_REV, "ca2", P,
	                               CTNG_OBS_FAILED, NULL, 0, NULL),
	                 0);
	assert_int_equal(ctng_obs_sign(&obs[2], "monitor1", keys[4], CTNG_FAM_STH, "logger1", P,
	                               CTNG_OBS_FAILED, NULL, CTNG_OBS_CHECK_DATA, NULL),
	                 0);
	ctng_buf b = {0};
	for (int i = 0; i < 3; i++) {
		ctng_err err = {0};
		ctng_buf_reset(&b);
		assert_int_equal(ctng_wire_encode_obs(&net, &obs[i], &b, &err), 0);
		assert_true(b.len <= CTNG_WIRE_OBS_MAX);
		assert_int_equal(b.data[0], CTNG_WIRE_OBS_CODE);
		if (ctng_wire_decode_obs(&net, b.data, b.len, &back, &err))
			fail_msg("%s", err.msg);
		assert_string_equal(back.monitor, obs[i].monitor);
		assert_string_equal(back.entity, obs[i].entity);
		assert_int_equal(back.family, obs[i].family);
		assert_int_equal(back.result, obs[i].result);
		assert_int_equal(back.checks, obs[i].checks);
		assert_memory_equal(back.digest, obs[i].digest, 32);
		assert_int_equal(ctng_obs_verify(&back, keys[i == 0 ? 5 : 4], &err), 0);
		char *json = NULL;
		size_t jl = 0;
		assert_int_equal(ctng_obs_encode(&obs[i], &json, &jl, NULL), 0);
		assert_true(b.len * 2 < jl);
		free(json);
		for (size_t n = 0; n < b.len; n++)
			assert_int_equal(ctng_wire_decode_obs(&net, b.data, n, &back, NULL),
			                 CTNG_EINVAL);
	}
	/* the entity decides the family: a CA index where a logger was */
	ctng_buf_reset(&b);
	assert_int_equal(ctng_wire_encode_obs(&net, &obs[0], &b, NULL), 0);
	assert_int_equal(b.data[1], 5); /* monitor2 */
	assert_int_equal(b.data[2], 1); /* logger2 */
	b.data[1] = 6;
	ctng_err err = {0};
	assert_int_equal(ctng_wire_decode_obs(&net, b.data, b.len, &back, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "not a monitor"));
	b.data[1] = 5;
	b.data[2] = 4; /* monitor1 */
	assert_int_equal(ctng_wire_decode_obs(&net, b.data, b.len, &back, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "neither a logger nor a CA"));
	b.data[2] = 0; /* logger1: the same monitor's word, but it no longer verifies */
	assert_int_equal(ctng_wire_decode_obs(&net, b.data, b.len, &back, &err), 0);
	assert_string_equal(back.entity, "logger1");
	assert_int_equal(ctng_obs_verify(&back, keys[5], NULL), CTNG_EVERIFY);
	b.data[2] = 1;
	b.data[4] |= 0x40; /* an unknown check bit */
	assert_int_equal(ctng_wire_decode_obs(&net, b.data, b.len, &back, &err), CTNG_EINVAL);
	ctng_buf_free(&b);
}

static void test_body_and_read(void **state)
{
	(void)state;
	ctng_gossip_object o[N_OBJ], back = {0};
	make_objects(o);
	uint8_t *body = NULL;
	size_t len = 0;
	const char *ct = NULL;
	/* binary when the network can say it */
	assert_int_equal(ctng_wire_body(&net, &o[O_ACC], &body, &len, &ct, NULL), 0);
	assert_string_equal(ct, CTNG_WIRE_CONTENT_TYPE);
	assert_int_equal(ctng_wire_read(&net, ct, body, len, &back, NULL), 0);
	assert_true(ctng_gossip_equal(&back, &o[O_ACC]));
	free(body);
	/* JSON without a network, for an entity it does not know, for a REV
	 * whose delta hash is wrong */
	assert_int_equal(ctng_wire_body(NULL, &o[O_ACC], &body, &len, &ct, NULL), 0);
	assert_string_equal(ct, "application/json");
	assert_int_equal(body[0], '{');
	assert_int_equal(ctng_wire_read(&net, ct, body, len, &back, NULL), 0);
	assert_true(ctng_gossip_equal(&back, &o[O_ACC]));
	assert_int_equal(ctng_wire_read(&net, NULL, body, len, &back, NULL), 0);
	ctng_err err = {0};
	assert_int_equal(ctng_wire_read(&net, CTNG_WIRE_CONTENT_TYPE, body, len, &back, &err),
	                 CTNG_EINVAL);
	assert_int_equal(strncmp(err.msg, "wire: ", 6), 0);
	free(body);
	assert_int_equal(ctng_gossip_set(&o[O_ACC].payload[0], "logger9", NULL), 0);
	assert_int_equal(ctng_wire_body(&net, &o[O_ACC], &body, &len, &ct, NULL), 0);
	assert_string_equal(ct, "application/json");
	free(body);
	char bad[65];
	memset(bad, '0', 64);
	bad[64] = 0;
	assert_int_equal(ctng_gossip_set(&o[O_REV_ED].payload[1], bad, NULL), 0);
	ctng_buf b = {0};
	assert_int_equal(ctng_wire_encode(&net, &o[O_REV_ED], &b, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "delta's hash"));
	assert_int_equal(b.len, 0);
	assert_int_equal(ctng_wire_body(&net, &o[O_REV_ED], &body, &len, &ct, NULL), 0);
	assert_string_equal(ct, "application/json");
	free(body);
	/* observations */
	ctng_observation obs, ob2;
	assert_int_equal(ctng_obs_sign(&obs, "monitor1", keys[4], CTNG_FAM_REV, "ca1", P,
	                               CTNG_OBS_FAILED, NULL, 0, NULL),
	                 0);
	assert_int_equal(ctng_wire_body_obs(&net, &obs, &body, &len, &ct, NULL), 0);
	assert_string_equal(ct, CTNG_WIRE_CONTENT_TYPE);
	assert_int_equal(ctng_wire_read_obs(&net, ct, body, len, &ob2, NULL), 0);
	assert_int_equal(ctng_wire_read_obs(&net, "application/json", body, len, &ob2, NULL),
	                 CTNG_EINVAL);
	free(body);
	assert_int_equal(ctng_wire_body_obs(NULL, &obs, &body, &len, &ct, NULL), 0);
	assert_string_equal(ct, "application/json");
	assert_int_equal(ctng_wire_read_obs(&net, ct, body, len, &ob2, NULL), 0);
	free(body);
	ctng_buf_free(&b);
	ctng_gossip_clear(&back);
	clear_objects(o);
}

static void test_content_type(void **state)
{
	(void)state;
	assert_true(ctng_wire_content_type_is("application/vnd.ctng.wire"));
	assert_true(ctng_wire_content_type_is(" Application/VND.ctng.Wire ; v=1"));
	assert_false(ctng_wire_content_type_is("application/vnd.ctng.wirex"));
	assert_false(ctng_wire_content_type_is("application/json"));
	assert_false(ctng_wire_content_type_is(""));
	assert_false(ctng_wire_content_type_is(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_vector),
	    cmocka_unit_test(test_strict),       cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_observation),  cmocka_unit_test(test_body_and_read),
	    cmocka_unit_test(test_content_type), cmocka_unit_test(test_section8_vectors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
