/*
 * dkg_fixture.h — networks of n gossipers made the way operators make them
 * (ctng_keygen-style keys, descriptors, ctng_network_assemble, optionally
 * resharing an earlier one) and a harness that runs n DKG state machines
 * in one process: every action is carried out (sends and targeted sends go
 * through one FIFO queue, announcements become fetches of the messages a
 * peer lacks), time is virtual and jumps to the next timer when the queue
 * is empty. Used by tests/dkg, `ctng bench dkg` and the fuzz targets.
 * No cmocka dependency: functions return 0 / a CTNG_E* code.
 */
#ifndef CTNG_DKG_FIXTURE_H
#define CTNG_DKG_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctng/config.h"
#include "ctng/dkg.h"
#include "ctng/seal.h"
#include "ctng/sig.h"

#define DFX     static __attribute__((unused))
#define DFX_MAX 64

typedef struct dfx_party {
	char id[CTNG_ID_MAX + 1];
	ctng_sig_key *sig, *mon;
	uint8_t xsk[32], xpk[32];
} dfx_party;

typedef struct dfx {
	size_t n;
	uint32_t t;
	dfx_party p[DFX_MAX];
	char *json; /* assembled network.json (no group key) */
	size_t len;
	ctng_network net;
	char *keyed; /* after dfx_finalize */
	size_t keyed_len;
	ctng_network knet;
	bool has_keyed;
	uint8_t share[DFX_MAX][32]; /* what each participant ended with */
	bool has_share[DFX_MAX];
} dfx;

DFX void dfx_free(dfx *f)
{
	for (size_t i = 0; i < f->n; i++) {
		ctng_sig_key_free(f->p[i].sig);
		ctng_sig_key_free(f->p[i].mon);
	}
	free(f->json);
	free(f->keyed);
	ctng_network_free(&f->net);
	ctng_network_free(&f->knet);
	memset(f, 0, sizeof *f);
}

DFX char *dfx_pub(const ctng_sig_key *k)
{
	char *h = NULL;
	return ctng_sig_public_hex(k, &h, NULL) == 0 ? h : NULL;
}

/* gossiper1..n (and monitor1..n paired with them), threshold t; keys reused
 * from prev for the ids prev has; resharing prev's group when prev has keys. */
DFX int dfx_make(dfx *f, size_t n, uint32_t t, const dfx *prev, ctng_err *err)
{
	memset(f, 0, sizeof *f);
	if (n == 0 || n > DFX_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "fixture: 1..%d gossipers", DFX_MAX);
	f->n = n;
	f->t = t;
	char *texts[2 * DFX_MAX] = {0};
	size_t lens[2 * DFX_MAX];
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		dfx_party *p = &f->p[i];
		snprintf(p->id, sizeof p->id, "gossiper%zu", i + 1);
		if (prev && i < prev->n) {
			if ((rc = ctng_sig_key_from_evp(ctng_sig_key_evp(prev->p[i].sig), &p->sig,
			                                err)) ||
			    (rc = ctng_sig_key_from_evp(ctng_sig_key_evp(prev->p[i].mon), &p->mon,
			                                err)))
				break;
			memcpy(p->xsk, prev->p[i].xsk, 32);
			memcpy(p->xpk, prev->p[i].xpk, 32);
		} else if ((rc = ctng_sig_generate(CTNG_SIG_ED25519, &p->sig, err)) ||
		           (rc = ctng_sig_generate(CTNG_SIG_ED25519, &p->mon, err)) ||
		           (rc = ctng_seal_keygen(p->xsk, p->xpk, err))) {
			break;
		}
		char *gk = dfx_pub(p->sig), *mk = dfx_pub(p->mon),
		     *xk = ctng_hex_strdup(p->xpk, 32);
		char url[64], mid[32];
		snprintf(mid, sizeof mid, "monitor%zu", i + 1);
		snprintf(url, sizeof url, "http://127.0.0.1:%zu", 20000 + i);
		json_t *g = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", p->id, "role",
		                      "gossiper", "url", url, "public_key", gk ? gk : "", "dkg_key",
		                      xk ? xk : "", "monitor", mid);
		snprintf(url, sizeof url, "http://127.0.0.1:%zu", 21000 + i);
		json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:[], s:[], s:s}", "id", mid, "role",
		                      "monitor", "url", url, "public_key", mk ? mk : "", "loggers",
		                      "cas", "gossiper", p->id);
		texts[2 * i] = g ? json_dumps(g, 0) : NULL;
		texts[2 * i + 1] = m ? json_dumps(m, 0) : NULL;
		json_decref(g);
		json_decref(m);
		free(gk);
		free(mk);
		free(xk);
		if (!texts[2 * i] || !texts[2 * i + 1])
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else {
			lens[2 * i] = strlen(texts[2 * i]);
			lens[2 * i + 1] = strlen(texts[2 * i + 1]);
		}
	}
	ctng_assemble_opts o = {.threshold = t,
	                        .period_ms = 2000,
	                        .genesis_ms = 1700000000000ULL,
	                        .dkg_phase_ms = 1000,
	                        .reshare_from = prev && prev->has_keyed ? &prev->knet : NULL};
	if (!rc)
		rc = ctng_network_assemble((const char *const *)texts, lens, 2 * n, &o, &f->json,
		                           &f->len, err);
	if (!rc)
		rc = ctng_network_parse(f->json, f->len, &f->net, err);
	for (size_t i = 0; i < 2 * n; i++)
		free(texts[i]);
	if (rc)
		dfx_free(f);
	return rc;
}

/* network.json with the outcome's keys (what `ctng network finalize` writes). */
DFX int dfx_finalize(dfx *f, const ctng_dkg_outcome *o, ctng_err *err)
{
	int rc = ctng_network_json_set_bls(f->json, f->len, o->group_pk,
	                                   (const uint8_t(*)[96])o->commitments, o->threshold,
	                                   &f->keyed, &f->keyed_len, err);
	if (!rc)
		rc = ctng_network_parse(f->keyed, f->keyed_len, &f->knet, err);
	f->has_keyed = rc == 0;
	return rc;
}

/* ----------------------------------------------------------- harness */

typedef struct dh_item {
	int from, to;
	bool notice; /* a hash announcement (json holds the 32 raw bytes) */
	char *json;
	size_t len;
} dh_item;

typedef struct dh {
	dfx *f;
	ctng_dkg_sm *sm[DFX_MAX];
	ctng_dkg_actions a[DFX_MAX];
	bool absent[DFX_MAX]; /* not running at all */
	bool finished[DFX_MAX];
	uint64_t now, start;
	dh_item *q;
	size_t qh, qt, qcap;
	uint64_t cpu_ns[DFX_MAX];
	uint64_t bytes_out[DFX_MAX]; /* message and announcement bytes sent */
	uint64_t delivered, rejected;
	/* what each participant persisted: the last state and every stored
	 * message (for restart tests) */
	char *state[DFX_MAX];
	size_t state_len[DFX_MAX];
	char **stored[DFX_MAX];
	size_t n_stored[DFX_MAX];
	char last_error[256];
} dh;

DFX uint64_t dh_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

DFX int dh_push(dh *h, int from, int to, bool notice, const char *json, size_t len)
{
	if (h->qt == h->qcap) {
		if (h->qh > 0) {
			memmove(h->q, h->q + h->qh, (h->qt - h->qh) * sizeof *h->q);
			h->qt -= h->qh;
			h->qh = 0;
		} else {
			size_t nc = h->qcap ? 2 * h->qcap : 1024;
			dh_item *nq = realloc(h->q, nc * sizeof *nq);
			if (!nq)
				return CTNG_ENOMEM;
			h->q = nq;
			h->qcap = nc;
		}
	}
	dh_item *it = &h->q[h->qt++];
	it->from = from;
	it->to = to;
	it->notice = notice;
	it->len = len;
	it->json = malloc(len + 1);
	if (!it->json)
		return CTNG_ENOMEM;
	memcpy(it->json, json, len);
	it->json[len] = 0;
	h->bytes_out[from] += notice ? 64 + 40 : len; /* a notice: hex hash + envelope */
	return 0;
}

DFX int dh_index(const dh *h, const char *id)
{
	for (size_t i = 0; i < h->f->n; i++)
		if (strcmp(h->f->p[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Carries out participant i's pending actions. */
DFX int dh_actions(dh *h, int i)
{
	ctng_dkg_actions *a = &h->a[i];
	int rc = 0;
	for (size_t k = 0; k < a->n && !rc; k++) {
		ctng_dkg_action *x = &a->v[k];
		switch (x->kind) {
		case CTNG_DKG_ACT_SAVE_STATE:
			free(h->state[i]);
			h->state[i] = strdup(x->json);
			h->state_len[i] = x->len;
			break;
		case CTNG_DKG_ACT_STORE: {
			char **ns = realloc(h->stored[i], (h->n_stored[i] + 1) * sizeof *ns);
			if (!ns)
				return CTNG_ENOMEM;
			h->stored[i] = ns;
			ns[h->n_stored[i]++] = strdup(x->json);
			break;
		}
		case CTNG_DKG_ACT_SEND:
			for (size_t j = 0; j < h->f->n && !rc; j++) {
				if ((int)j == i || (x->to[0] && strcmp(x->to, h->f->p[j].id) != 0))
					continue;
				rc = dh_push(h, i, (int)j, false, x->json, x->len);
			}
			break;
		case CTNG_DKG_ACT_ANNOUNCE: {
			int from = x->from[0] ? dh_index(h, x->from) : -1;
			int snd = dh_index(h, x->sender);
			for (size_t j = 0; j < h->f->n && !rc; j++)
				if ((int)j != i && (int)j != from && (int)j != snd)
					rc = dh_push(h, i, (int)j, true, (const char *)x->hash, 32);
			break;
		}
		case CTNG_DKG_ACT_FINISHED:
			h->finished[i] = true;
			break;
		}
	}
	ctng_dkg_actions_reset(a);
	return rc;
}

/* `faults` and `old` (previous shares, NULL rows = none) may be NULL. */
DFX int dh_init(dh *h, dfx *f, const uint32_t *faults, const bool *absent, const uint8_t (*old)[32],
                const bool *has_old, ctng_err *err)
{
	memset(h, 0, sizeof *h);
	h->f = f;
	h->now = h->start = 1700000000000ULL;
	for (size_t i = 0; i < f->n; i++) {
		h->absent[i] = absent && absent[i];
		if (h->absent[i])
			continue;
		uint8_t seed[32] = {(uint8_t)i, 0xd6};
		ctng_dkg_config c = {.net = &f->net,
		                     .self_id = f->p[i].id,
		                     .sign_key = f->p[i].sig,
		                     .dkg_sk = f->p[i].xsk,
		                     .old_share = old && has_old && has_old[i] ? old[i] : NULL,
		                     .test_seed = seed,
		                     .test_seed_len = sizeof seed,
		                     .test_faults = faults ? faults[i] : 0};
		int rc = ctng_dkg_sm_new(&c, &h->sm[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

DFX void dh_free(dh *h)
{
	for (size_t i = 0; i < DFX_MAX; i++) {
		ctng_dkg_sm_free(h->sm[i]);
		ctng_dkg_actions_free(&h->a[i]);
		free(h->state[i]);
		for (size_t k = 0; k < h->n_stored[i]; k++)
			free(h->stored[i][k]);
		free(h->stored[i]);
	}
	for (size_t k = h->qh; k < h->qt; k++)
		free(h->q[k].json);
	free(h->q);
	memset(h, 0, sizeof *h);
}

DFX int dh_deliver(dh *h, dh_item *it)
{
	int j = it->to;
	if (h->absent[j] || !h->sm[j])
		return 0;
	ctng_err e = {0};
	uint64_t t0 = dh_cpu_ns();
	int rc = 0;
	if (it->notice) {
		if (ctng_dkg_sm_wants(h->sm[j], (const uint8_t *)it->json)) {
			size_t len = 0;
			const char *js =
			    h->sm[it->from]
			        ? ctng_dkg_sm_get(h->sm[it->from], (const uint8_t *)it->json, &len)
			        : NULL;
			h->cpu_ns[j] += dh_cpu_ns() - t0;
			/* the fetch: j asks, `from` answers */
			return js ? dh_push(h, it->from, j, false, js, len) : 0;
		}
	} else {
		rc = ctng_dkg_sm_on_message(h->sm[j], it->json, it->len, h->f->p[it->from].id,
		                            h->now, &h->a[j], &e);
		h->delivered++;
		if (rc < 0) {
			h->rejected++;
			snprintf(h->last_error, sizeof h->last_error, "%s", e.msg);
		}
	}
	h->cpu_ns[j] += dh_cpu_ns() - t0;
	if (rc == CTNG_ENOMEM || rc == CTNG_EIO)
		return rc;
	return dh_actions(h, j);
}

DFX bool dh_all_finished(const dh *h)
{
	for (size_t i = 0; i < h->f->n; i++)
		if (!h->absent[i] && !h->finished[i])
			return false;
	return true;
}

/* Starts every present participant (its first actions are queued). */
DFX int dh_start(dh *h)
{
	ctng_err e = {0};
	int rc = 0;
	for (size_t i = 0; i < h->f->n && !rc; i++) {
		if (h->absent[i])
			continue;
		uint64_t t0 = dh_cpu_ns();
		rc = ctng_dkg_sm_start(h->sm[i], h->now, &h->a[i], &e);
		h->cpu_ns[i] += dh_cpu_ns() - t0;
		if (!rc)
			rc = dh_actions(h, (int)i);
	}
	return rc;
}

/* Delivers what is queued, firing timers, until all finished or limit_ms of
 * virtual time passed since the start. */
DFX int dh_loop(dh *h, uint64_t limit_ms)
{
	ctng_err e = {0};
	int rc = 0;
	while (!rc && !dh_all_finished(h) && h->now < h->start + limit_ms) {
		while (!rc && h->qh < h->qt) {
			dh_item it = h->q[h->qh++];
			rc = dh_deliver(h, &it);
			free(it.json);
		}
		if (rc || dh_all_finished(h))
			break;
		/* jump to the earliest timer */
		uint64_t next = 0;
		for (size_t i = 0; i < h->f->n; i++)
			if (h->sm[i] && !h->absent[i]) {
				uint64_t t = ctng_dkg_sm_next_timer(h->sm[i]);
				if (t && (!next || t < next))
					next = t;
			}
		if (!next)
			break;
		h->now = next > h->now ? next : h->now;
		for (size_t i = 0; i < h->f->n && !rc; i++) {
			uint64_t t =
			    h->sm[i] && !h->absent[i] ? ctng_dkg_sm_next_timer(h->sm[i]) : 0;
			if (!t || t > h->now)
				continue;
			uint64_t t0 = dh_cpu_ns();
			rc = ctng_dkg_sm_on_timer(h->sm[i], h->now, &h->a[i], &e);
			h->cpu_ns[i] += dh_cpu_ns() - t0;
			if (!rc)
				rc = dh_actions(h, (int)i);
		}
	}
	return rc;
}

/* Starts every participant and runs until all finished or limit_ms of
 * virtual time passed. */
DFX int dh_run(dh *h, uint64_t limit_ms)
{
	int rc = dh_start(h);
	return rc ? rc : dh_loop(h, limit_ms);
}

/* Copies each finished participant's share into f->share. */
DFX void dh_collect(dh *h)
{
	for (size_t i = 0; i < h->f->n; i++) {
		uint32_t id;
		h->f->has_share[i] = h->sm[i] && !h->absent[i] &&
		                     ctng_dkg_sm_share(h->sm[i], &id, h->f->share[i], NULL) == 0;
	}
}

#endif
