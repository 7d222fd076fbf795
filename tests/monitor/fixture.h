/*
 * fixture.h — a small in-memory CTng network for the monitor tests: real
 * keys (ECDSA P-256 loggers/CAs/monitor, BLS 2-of-3 gossipers), and helpers
 * that sign STH/REV objects and threshold-sign FULLs the way the gossipers do.
 * Header-only (static functions) so each test program includes it.
 */
#ifndef CTNG_TEST_MONITOR_FIXTURE_H
#define CTNG_TEST_MONITOR_FIXTURE_H

#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/bls.h"
#include "ctng/config.h"
#include "ctng/merkle.h"
#include "ctng/monitor.h"
#include "ctng/proto.h"
#include "ctng/sig.h"

#define FX_GENESIS 1700000000000ull
#define FX_PERIOD  1000ull
#define FX_N_ENT   9 /* logger1 logger2 ca1 ca2 monitor1 gossiper1..3 + monitor2 */

typedef struct fx {
	ctng_network net;
	ctng_entity ent[FX_N_ENT];
	ctng_sig_key *priv[FX_N_ENT]; /* private keys (NULL for gossipers) */
	ctng_bls_share shares[3];
	uint8_t commitments[2][96];
	char *mon_loggers[2], *mon_cas[2];
} fx;

static inline int fx_idx(const char *id)
{
	static const char *ids[FX_N_ENT] = {"logger1",   "logger2",   "ca1",
	                                    "ca2",       "monitor1",  "gossiper1",
	                                    "gossiper2", "gossiper3", "monitor2"};
	for (int i = 0; i < FX_N_ENT; i++)
		if (strcmp(ids[i], id) == 0)
			return i;
	return -1;
}

static inline uint64_t fx_time(uint64_t p, uint64_t off)
{
	return FX_GENESIS + p * FX_PERIOD + off;
}

/* Builds the network; returns 0 on success. */
static inline int fx_init(fx *f)
{
	memset(f, 0, sizeof(*f));
	static const char *ids[FX_N_ENT] = {"logger1",   "logger2",   "ca1",
	                                    "ca2",       "monitor1",  "gossiper1",
	                                    "gossiper2", "gossiper3", "monitor2"};
	static const ctng_role roles[FX_N_ENT] = {
	    CTNG_ROLE_LOGGER,   CTNG_ROLE_LOGGER,   CTNG_ROLE_CA,
	    CTNG_ROLE_CA,       CTNG_ROLE_MONITOR,  CTNG_ROLE_GOSSIPER,
	    CTNG_ROLE_GOSSIPER, CTNG_ROLE_GOSSIPER, CTNG_ROLE_MONITOR};
	f->net.clock = (ctng_clock){FX_GENESIS, FX_PERIOD, 100, 200, 800};
	f->net.threshold = 2;
	uint8_t seed[32] = {7};
	if (ctng_bls_deal(2, 3, seed, 32, f->net.group_pk, f->commitments, f->shares, NULL))
		return -1;
	f->net.has_bls = true;
	f->net.commitments = f->commitments;
	f->net.n_commitments = 2;
	for (int i = 0; i < FX_N_ENT; i++) {
		ctng_entity *e = &f->ent[i];
		snprintf(e->id, sizeof(e->id), "%s", ids[i]);
		e->role = roles[i];
		snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d", 9000 + i);
		snprintf(e->host, sizeof(e->host), "127.0.0.1");
		e->port = (uint16_t)(9000 + i);
		if (roles[i] == CTNG_ROLE_GOSSIPER) {
			int k = i - 5;
			e->bls_id = f->shares[k].id;
			e->has_bls_pk = true;
			memcpy(e->bls_pk, f->shares[k].pk, 96);
			continue;
		}
		if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &f->priv[i], NULL) ||
		    ctng_sig_key_public_copy(f->priv[i], &e->key, NULL))
			return -1;
	}
	/* monitor1 watches logger1, logger2, ca1, ca2; paired with gossiper1. */
	f->mon_loggers[0] = "logger1";
	f->mon_loggers[1] = "logger2";
	f->mon_cas[0] = "ca1";
	f->mon_cas[1] = "ca2";
	ctng_entity *m = &f->ent[4];
	m->loggers = f->mon_loggers;
	m->n_loggers = 2;
	m->cas = f->mon_cas;
	m->n_cas = 2;
	snprintf(m->gossiper, sizeof(m->gossiper), "gossiper1");
	f->net.entities = f->ent;
	f->net.n_entities = FX_N_ENT;
	return 0;
}

static inline void fx_free(fx *f)
{
	for (int i = 0; i < FX_N_ENT; i++) {
		ctng_sig_key_free(f->priv[i]);
		ctng_sig_key_free(f->ent[i].key);
	}
	ctng_wipe(f->shares, sizeof(f->shares));
}

static inline const ctng_sig_key *fx_key(fx *f, const char *id)
{
	return f->priv[fx_idx(id)];
}

/* STH of logger `id` for period p over the first `size` leaves of `tree`
 * (or with an explicit root when root != NULL). */
static inline int fx_sth(fx *f, const char *id, uint64_t p, ctng_merkle_mem *tree, uint64_t size,
                         const uint8_t *root, const ctng_sig_key *key, ctng_gossip_object *out)
{
	ctng_sth h = {.timestamp_ms = fx_time(p, 5), .tree_size = size};
	if (root)
		memcpy(h.root, root, 32);
	else if (ctng_merkle_mem_root(tree, size, h.root, NULL))
		return -1;
	return ctng_sth_sign(out, id, key ? key : fx_key(f, id), &h, &f->net.clock, NULL);
}

/* REV of CA `id` for period p revoking the given RIDs. */
static inline int fx_rev(fx *f, const char *id, uint64_t p, const uint32_t *rids, size_t n,
                         ctng_gossip_object *out)
{
	roaring_bitmap_t *d = roaring_bitmap_create();
	for (size_t i = 0; i < n; i++)
		roaring_bitmap_add(d, rids[i]);
	uint8_t hash[32], *bytes = NULL;
	size_t len = 0;
	int rc = ctng_crv_hash(d, hash, NULL);
	if (!rc)
		rc = ctng_crv_delta_encode(d, &bytes, &len, NULL);
	if (!rc)
		rc =
		    ctng_rev_sign(out, id, fx_key(f, id), p, hash, bytes, len, fx_time(p, 5), NULL);
	free(bytes);
	roaring_bitmap_free(d);
	return rc;
}

/* FULL attesting `init` (any INIT object), threshold-signed by gossipers
 * a and b (1-based share indices). */
static inline int fx_full(fx *f, const ctng_gossip_object *init, int a, int b,
                          ctng_gossip_object *out)
{
	ctng_buf msg = {0};
	uint8_t parts[2][48], sig[48];
	uint32_t ids[2] = {f->shares[a - 1].id, f->shares[b - 1].id};
	ctng_gossip_object frag = {0};
	int rc = ctng_gossip_attest_bytes(init, &msg, NULL);
	if (!rc)
		rc = ctng_bls_sign(parts[0], f->shares[a - 1].sk, msg.data, msg.len, NULL, NULL);
	if (!rc)
		rc = ctng_bls_sign(parts[1], f->shares[b - 1].sk, msg.data, msg.len, NULL, NULL);
	if (!rc)
		rc = ctng_bls_combine(sig, ids, (const uint8_t(*)[48])parts, 2, 2, NULL);
	char ga[16], gb[16];
	snprintf(ga, sizeof(ga), "gossiper%d", a);
	snprintf(gb, sizeof(gb), "gossiper%d", b);
	const char *signers[2] = {ga, gb};
	if (!rc)
		rc = ctng_frag_build(&frag, init, ga, parts[0], init->timestamp_ms + 300, NULL);
	if (!rc)
		rc = ctng_full_build(out, &frag, signers, 2, sig, init->timestamp_ms + 400, NULL);
	ctng_gossip_clear(&frag);
	ctng_buf_free(&msg);
	return rc;
}

/* Index of the first action of a kind (optionally of a given object type), -1 if none. */
static inline int fx_find(const ctng_monitor_actions *a, enum ctng_monitor_action_kind k,
                          enum ctng_type t)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind == k && (t == CTNG_TYPE_NONE || a->v[i].obj.type == t))
			return (int)i;
	return -1;
}

static inline size_t fx_count(const ctng_monitor_actions *a, enum ctng_monitor_action_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].kind == k;
	return n;
}

#endif
