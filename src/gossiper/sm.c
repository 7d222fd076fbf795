/*
 * sm.c — the gossiper state machine (DESIGN §2-§3, §8; docs/gossiper.md):
 * verification of every incoming object, duplicate suppression, push
 * forwarding, the gossip_wait timer per object id, conflict detection (CON),
 * BLS partial signing (FRAG), threshold combination (FULL), the permanent
 * CON_FULL list, per-period caches and per-period counts. No I/O: every
 * effect is an action appended to a ctng_gossiper_actions list.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"
#include "ctng/bls.h"
#include "ctng/gossiper.h"
#include "gossiper/route.h"

#define S(x) ctng_gossip_str(x)

/* ------------------------------------------------------------ structures */

/* One object held for an id, by the SHA-256 of its canonical JSON: the peers
 * known to hold it and its pending push (docs/gossiper.md §Pushing). */
struct held {
	uint8_t h[32];
	uint64_t *holders; /* peer set (route.h): the peers known to hold it */
	uint64_t push_at;  /* when the delayed push is due; 0: none pending */
	bool stale;        /* forgotten (ctng_gossiper_sm_forget): not held */
};

struct frag_rec {
	size_t hi; /* index in the id's held[] */
	/* pending: taken by this id's aggregator without its own pairing check,
	 * waiting for the combined check (docs/gossiper.md §Aggregation): not
	 * counted, stored, forwarded or served. bad: found invalid (kept only
	 * so that the same bytes are not checked again). */
	bool pending, bad;
	long signer_g; /* the signer's gossiper ordinal (route.h) */
	uint32_t bls_id;
	char signer[CTNG_ID_MAX + 1];
	uint8_t partial[CTNG_BLS_SIG_LEN];
	ctng_gossip_object o;
};

/* One attested content of an id: STH/REV (id, digest); ACC/CON just the id. */
struct att {
	bool has_digest;
	uint8_t digest[32];
	struct frag_rec *frags;
	size_t n_frags;
	bool has_full;
	size_t full_hi;
	ctng_gossip_object full;
};

struct init_rec {
	size_t hi;
	ctng_gossip_object o;
	uint8_t digest[32]; /* STH/REV: SHA-256 of the signed bytes */
};

struct idrec {
	ctng_gossip_id id;
	struct init_rec *inits;
	size_t n_inits;
	struct att *atts;
	size_t n_atts;
	struct held *held; /* every object held for this id */
	size_t n_held;
	bool waiting; /* gossip_wait running */
	uint64_t deadline;
	size_t rank;         /* this gossiper's rank for the id (route.h) */
	size_t first;        /* ordinal of the gossiper ranked first */
	uint64_t fallback_at; /* own FRAG sent to the aggregator: flood it then if
	                       * no FULL came; 0 = none */
	bool flood;           /* FRAGs of this id go to every peer (fallback) */
	uint64_t full_pull_at; /* decided without signing: ask a peer for the
	                        * FULL then if none came (§Pulls); 0 = none */
	bool decided;        /* the wait ended: FRAG or CON decided */
	bool signed_self;    /* this gossiper's FRAG for this id exists */
	bool conflict_known; /* STH/REV: a verified CON proves a conflict */
	/* §Pulls: peers that proved (by a signature) they hold an INIT of this
	 * id this gossiper lacks, to ask at pull_at; those already asked (peer
	 * sets, allocated at the first want). */
	uint64_t *want, *pulled, pull_at;
};

struct count_slot {
	bool used;
	uint64_t period;
	uint64_t counts[CTNG_TYPE_COUNT];
};

struct convicted {
	char entity[CTNG_ID_MAX + 1];
	ctng_gossip_object con_full;
};

/* What this gossiper's own monitor said it saw of one entity in one period
 * (docs/gossiper.md §Observations): failed, and/or obtained these contents
 * (at most CTNG_GOSSIPER_MAX_INIT_PER_ID; the checks of each OR-ed). */
struct obs_rec {
	enum ctng_family family;
	char entity[CTNG_ID_MAX + 1];
	uint64_t period;
	bool failed;
	bool data_failed; /* STH: the logger did not serve the entries (OBS failed + data) */
	size_t n;
	uint8_t digest[CTNG_GOSSIPER_MAX_INIT_PER_ID][32];
	uint32_t checks[CTNG_GOSSIPER_MAX_INIT_PER_ID];
};

struct ctng_gossiper_sm {
	const ctng_network *net;
	const ctng_entity *me;
	gossip_route rt;    /* lookups and peer sets (route.c) */
	uint64_t *all_peers; /* the peer set of every peer */
	char self[CTNG_ID_MAX + 1];
	char monitor[CTNG_ID_MAX + 1];
	uint8_t sk[32];
	uint64_t cur;
	size_t max_atts; /* attested contents per id: the number of gossipers */
	/* share keys (by entity index, prepared at their first use; NULL until
	 * then and for non-gossipers) and the group key, decoded and precomputed
	 * once for the many verifications */
	ctng_bls_pk_prepared **share_prep;
	ctng_bls_pk_prepared *group_prep;
	struct idrec **recs;
	size_t n_recs, cap_recs;
	struct count_slot counts[CTNG_GOSSIPER_COUNT_HISTORY];
	struct convicted *conv;
	size_t n_conv;
	bool no_signing;        /* storage broken: persist before sign (docs §Storage) */
	const ctng_entity *mon; /* the paired monitor (NULL: none) */
	struct obs_rec *obs;
	size_t n_obs, cap_obs;
};

/* ------------------------------------------------------------- helpers */

static int nomem(ctng_err *err)
{
	return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

static const ctng_entity *entity(const ctng_gossiper_sm *sm, const char *id)
{
	long e = gr_entity(&sm->rt, id);
	return e >= 0 ? &sm->net->entities[e] : NULL;
}

/* ------------------------------------------------------------ peer sets */

/* Position of gossiper `id` among this gossiper's peers, -1 if not a peer. */
static long peer_pos(const gossip_route *rt, const char *id)
{
	long e = gr_entity(rt, id);
	long g = e < 0 ? -1 : rt->ent_g[e];
	return g < 0 ? -1 : rt->peer_of_g[g];
}

/* Marks in `holders` the peers known to hold o, which came from `from`: for
 * a FRAG only its (verified) signer (it sends its own FRAG to the aggregator
 * only, and floods only when that failed; X-CTng-From is not trusted for
 * anything but INITs); otherwise the sender and its peers (route.h,
 * gr_covered_by). */
static void mark_from(const gossip_route *rt, uint64_t *holders, const ctng_gossip_object *o,
                      const char *from)
{
	if (ctng_type_kind(o->type) != CTNG_KIND_FRAG) {
		const uint64_t *c = gr_covered_by(rt, from);
		for (size_t i = 0; c && i < rt->words; i++)
			holders[i] |= c[i];
		return;
	}
	long p = peer_pos(rt, o->signer);
	if (p >= 0)
		holders[p / 64] |= 1ull << (p % 64);
}

static size_t words(const ctng_gossiper_sm *sm)
{
	return sm->rt.words;
}

static void set_or(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; src && i < n; i++)
		dst[i] |= src[i];
}

static bool set_empty(const uint64_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i])
			return false;
	return true;
}

static int type_index(enum ctng_type t)
{
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		if (ctng_all_types[i] == t)
			return i;
	return -1;
}

static int content_hash(const ctng_gossip_object *o, uint8_t h[32], ctng_err *err)
{
	char *json = NULL;
	size_t len = 0;
	int rc = ctng_gossip_encode(o, &json, &len, err);
	if (rc)
		return rc;
	unsigned int hl = 32;
	int ok = EVP_Digest(json, len, h, &hl, EVP_sha256(), NULL);
	free(json);
	return ok == 1 ? 0 : ctng_err_set(err, CTNG_ENOMEM, "sha256 failed");
}

void ctng_gossiper_actions_reset(ctng_gossiper_actions *a)
{
	for (size_t i = 0; i < a->n; i++) {
		ctng_gossip_clear(&a->v[i].obj);
		free(a->v[i].to);
	}
	a->n = 0;
}

void ctng_gossiper_actions_free(ctng_gossiper_actions *a)
{
	if (!a)
		return;
	ctng_gossiper_actions_reset(a);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Appends an action; `to` (SEND_PEERS, n words) is copied. */
static int act(ctng_gossiper_actions *a, ctng_gossiper_action_kind k, const ctng_gossip_object *o,
               const uint64_t *to, size_t n, ctng_err *err)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 8;
		ctng_gossiper_action *v = realloc(a->v, nc * sizeof(*v));
		if (!v)
			return nomem(err);
		a->v = v;
		a->cap = nc;
	}
	ctng_gossiper_action *x = &a->v[a->n];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	if (to && !(x->to = malloc(n * sizeof(*to))))
		return nomem(err);
	if (to) {
		memcpy(x->to, to, n * sizeof(*to));
		x->to_words = n;
	}
	int rc = o ? ctng_gossip_copy(&x->obj, o, err) : 0;
	if (rc) {
		free(x->to);
		x->to = NULL;
		return rc;
	}
	a->n++;
	return 0;
}

static void count_inc(ctng_gossiper_sm *sm, uint64_t period, enum ctng_type t)
{
	int ti = type_index(t);
	if (ti < 0)
		return;
	struct count_slot *s = &sm->counts[period % CTNG_GOSSIPER_COUNT_HISTORY];
	if (!s->used || s->period != period) {
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->period = period;
	}
	s->counts[ti]++;
}

/* ------------------------------------------------------------- records */

static void att_clear(struct att *a)
{
	for (size_t i = 0; i < a->n_frags; i++)
		ctng_gossip_clear(&a->frags[i].o);
	free(a->frags);
	ctng_gossip_clear(&a->full);
}

static void rec_free(struct idrec *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_inits; i++)
		ctng_gossip_clear(&r->inits[i].o);
	free(r->inits);
	for (size_t i = 0; i < r->n_atts; i++)
		att_clear(&r->atts[i]);
	free(r->atts);
	for (size_t i = 0; i < r->n_held; i++)
		free(r->held[i].holders);
	free(r->held);
	free(r->want);
	free(r->pulled);
	free(r);
}

static struct idrec *rec_find(ctng_gossiper_sm *sm, const ctng_gossip_id *id)
{
	for (size_t i = 0; i < sm->n_recs; i++)
		if (ctng_gossip_id_equal(&sm->recs[i]->id, id))
			return sm->recs[i];
	return NULL;
}

static struct idrec *rec_get(ctng_gossiper_sm *sm, const ctng_gossip_id *id)
{
	struct idrec *r = rec_find(sm, id);
	if (r)
		return r;
	if (sm->n_recs == sm->cap_recs) {
		size_t nc = sm->cap_recs ? sm->cap_recs * 2 : 16;
		struct idrec **v = realloc(sm->recs, nc * sizeof(*v));
		if (!v)
			return NULL;
		sm->recs = v;
		sm->cap_recs = nc;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->id = *id;
	gr_rank(&sm->rt, id, &r->rank, &r->first);
	sm->recs[sm->n_recs++] = r;
	return r;
}

static struct held *rec_held(struct idrec *r, const uint8_t h[32])
{
	for (size_t i = 0; r && i < r->n_held; i++)
		if (!r->held[i].stale && memcmp(r->held[i].h, h, 32) == 0)
			return &r->held[i];
	return NULL;
}

static int rec_add_hash(const ctng_gossiper_sm *sm, struct idrec *r, const uint8_t h[32],
                        size_t *hi, ctng_err *err)
{
	struct held *v = realloc(r->held, (r->n_held + 1) * sizeof(*v));
	if (!v)
		return nomem(err);
	r->held = v;
	memset(&v[r->n_held], 0, sizeof(*v));
	if (!(v[r->n_held].holders = calloc(words(sm), sizeof(uint64_t))))
		return nomem(err);
	memcpy(v[r->n_held].h, h, 32);
	*hi = r->n_held++;
	return 0;
}

static struct att *att_find(struct idrec *r, const uint8_t *digest)
{
	for (size_t i = 0; i < r->n_atts; i++) {
		struct att *a = &r->atts[i];
		if (a->has_digest != (digest != NULL))
			continue;
		if (!digest || memcmp(a->digest, digest, 32) == 0)
			return a;
	}
	return NULL;
}

static struct att *att_get(struct idrec *r, const uint8_t *digest)
{
	struct att *a = att_find(r, digest);
	if (a)
		return a;
	struct att *v = realloc(r->atts, (r->n_atts + 1) * sizeof(*v));
	if (!v)
		return NULL;
	r->atts = v;
	a = &r->atts[r->n_atts++];
	memset(a, 0, sizeof(*a));
	if (digest) {
		a->has_digest = true;
		memcpy(a->digest, digest, 32);
	}
	return a;
}

/* The FRAG of `signer` held for this id (not one found bad), and its att. */
static struct frag_rec *rec_frag_from(struct idrec *r, const char *signer, struct att **in)
{
	for (size_t i = 0; i < r->n_atts; i++)
		for (size_t j = 0; j < r->atts[i].n_frags; j++) {
			struct frag_rec *f = &r->atts[i].frags[j];
			if (!f->bad && strcmp(f->signer, signer) == 0) {
				*in = &r->atts[i];
				return f;
			}
		}
	return NULL;
}

/* This gossiper aggregates the id's FRAGs: it is ranked first for it
 * (docs/gossiper.md §Aggregation). */
static bool aggregates(const ctng_gossiper_sm *sm, const struct idrec *r)
{
	return r->first == sm->rt.self_g;
}

bool ctng_gossiper_sm_convicted(const ctng_gossiper_sm *sm, const char *ent)
{
	for (size_t i = 0; i < sm->n_conv; i++)
		if (strcmp(sm->conv[i].entity, ent) == 0)
			return true;
	return false;
}

static bool fam_digest(enum ctng_family f)
{
	return f == CTNG_FAM_STH || f == CTNG_FAM_REV;
}

/* The digest of a FRAG/FULL (payload[1]) or INIT (signed-bytes hash);
 * *has = false for ACC/CON. */
static int obj_digest(const ctng_gossip_object *o, uint8_t d[32], bool *has, ctng_err *err)
{
	enum ctng_family f = ctng_type_family(o->type);
	*has = fam_digest(f);
	if (!*has)
		return 0;
	if (ctng_type_kind(o->type) == CTNG_KIND_INIT)
		return ctng_gossip_content_digest(o, d, err);
	return ctng_hex_decode_exact(d, 32, S(o->payload[1]), err);
}

/* ------------------------------------------------------------ lifecycle */

int ctng_gossiper_sm_new(const ctng_network *net, const char *self_id, const uint8_t bls_sk[32],
                         uint64_t now_ms, ctng_gossiper_sm **out, ctng_err *err)
{
	*out = NULL;
	if (!net || !net->has_bls)
		return ctng_err_set(err, CTNG_ESTATE, "network has no BLS group key");
	if (net->threshold < 1)
		return ctng_err_set(err, CTNG_EINVAL, "threshold must be >= 1");
	const ctng_entity *me = ctng_network_entity(net, self_id);
	if (!me || me->role != CTNG_ROLE_GOSSIPER)
		return ctng_err_set(err, CTNG_EINVAL, "%s is not a gossiper of the network",
		                    self_id ? self_id : "(null)");
	if (!me->has_bls_pk)
		return ctng_err_set(err, CTNG_ESTATE, "%s has no BLS share key", self_id);
	uint8_t pk[CTNG_BLS_PK_LEN];
	int rc = ctng_bls_sk_to_pk(pk, bls_sk, err);
	if (rc)
		return rc;
	if (memcmp(pk, me->bls_pk, sizeof(pk)) != 0)
		return ctng_err_set(err, CTNG_EVERIFY, "BLS share key does not match %s's share pk",
		                    self_id);
	ctng_gossiper_sm *sm = calloc(1, sizeof(*sm));
	if (!sm)
		return nomem(err);
	sm->net = net;
	sm->me = me;
	if (gr_init(&sm->rt, net, me) ||
	    !(sm->all_peers = calloc(sm->rt.words, sizeof(uint64_t)))) {
		ctng_gossiper_sm_free(sm);
		return nomem(err);
	}
	for (size_t k = 0; k < me->n_peers; k++)
		sm->all_peers[k / 64] |= 1ull << (k % 64);
	strcpy(sm->self, me->id);
	strcpy(sm->monitor, me->monitor);
	sm->mon = entity(sm, me->monitor);
	if (sm->mon && (sm->mon->role != CTNG_ROLE_MONITOR || !sm->mon->key))
		sm->mon = NULL;
	memcpy(sm->sk, bls_sk, 32);
	for (size_t i = 0; i < net->n_entities; i++)
		sm->max_atts += net->entities[i].role == CTNG_ROLE_GOSSIPER;
	*out = sm; /* freed below on failure */
	sm->share_prep = calloc(net->n_entities ? net->n_entities : 1, sizeof(*sm->share_prep));
	if (!sm->share_prep)
		rc = nomem(err);
	if (!rc && (rc = ctng_bls_pk_prepare(&sm->group_prep, net->group_pk, err)))
		ctng_err_wrap(err, "group key");
	if (rc) {
		ctng_gossiper_sm_free(sm);
		*out = NULL;
		return rc;
	}
	uint64_t p = 0;
	if (ctng_clock_period_of(&net->clock, now_ms, &p))
		sm->cur = p;
	*out = sm;
	return 0;
}

void ctng_gossiper_sm_free(ctng_gossiper_sm *sm)
{
	if (!sm)
		return;
	for (size_t i = 0; i < sm->n_recs; i++)
		rec_free(sm->recs[i]);
	free(sm->recs);
	for (size_t i = 0; i < sm->n_conv; i++)
		ctng_gossip_clear(&sm->conv[i].con_full);
	free(sm->conv);
	free(sm->obs);
	for (size_t i = 0; sm->share_prep && i < sm->net->n_entities; i++)
		ctng_bls_pk_prepared_free(sm->share_prep[i]);
	free(sm->share_prep);
	ctng_bls_pk_prepared_free(sm->group_prep);
	gr_free(&sm->rt);
	free(sm->all_peers);
	ctng_wipe(sm->sk, sizeof(sm->sk));
	free(sm);
}

uint64_t ctng_gossiper_sm_period(const ctng_gossiper_sm *sm)
{
	return sm->cur;
}

bool ctng_gossiper_sm_counts(const ctng_gossiper_sm *sm, uint64_t p,
                             uint64_t counts[CTNG_TYPE_COUNT])
{
	const struct count_slot *s = &sm->counts[p % CTNG_GOSSIPER_COUNT_HISTORY];
	if (!s->used || s->period != p) {
		memset(counts, 0, CTNG_TYPE_COUNT * sizeof(uint64_t));
		return false;
	}
	memcpy(counts, s->counts, CTNG_TYPE_COUNT * sizeof(uint64_t));
	return true;
}

size_t ctng_gossiper_sm_n_con_full(const ctng_gossiper_sm *sm)
{
	return sm->n_conv;
}

const ctng_gossip_object *ctng_gossiper_sm_con_full(const ctng_gossiper_sm *sm, size_t i)
{
	return i < sm->n_conv ? &sm->conv[i].con_full : NULL;
}

const char *ctng_gossiper_sm_aggregator(const ctng_gossiper_sm *sm, const ctng_gossip_id *id)
{
	size_t rank = 0, first = 0;
	gr_rank(&sm->rt, id, &rank, &first);
	return gr_gossiper_id(&sm->rt, first);
}

size_t ctng_gossiper_sm_held(const ctng_gossiper_sm *sm)
{
	size_t n = sm->n_conv;
	for (size_t i = 0; i < sm->n_recs; i++) {
		const struct idrec *r = sm->recs[i];
		n += r->n_inits;
		for (size_t j = 0; j < r->n_atts; j++)
			n += r->atts[j].n_frags + (r->atts[j].has_full ? 1 : 0);
	}
	return n;
}

size_t ctng_gossiper_sm_each(const ctng_gossiper_sm *sm, uint64_t p,
                             void (*fn)(const ctng_gossip_object *o, void *arg), void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < sm->n_recs; i++) {
		const struct idrec *r = sm->recs[i];
		if (r->id.period != p)
			continue;
		for (size_t j = 0; j < r->n_inits; j++, n++)
			fn(&r->inits[j].o, arg);
		for (size_t j = 0; j < r->n_atts; j++) {
			const struct att *a = &r->atts[j];
			if (a->has_full) {
				fn(&a->full, arg);
				n++;
				continue;
			}
			for (size_t k = 0; k < a->n_frags; k++)
				if (!a->frags[k].pending && !a->frags[k].bad) {
					fn(&a->frags[k].o, arg);
					n++;
				}
		}
	}
	return n;
}

uint64_t ctng_gossiper_sm_next_timer(const ctng_gossiper_sm *sm)
{
	uint64_t next = 0;
	for (size_t i = 0; i < sm->n_recs; i++) {
		const struct idrec *r = sm->recs[i];
		if (r->waiting && (next == 0 || r->deadline < next))
			next = r->deadline;
		if (r->pull_at && (next == 0 || r->pull_at < next))
			next = r->pull_at;
		if (r->fallback_at && (next == 0 || r->fallback_at < next))
			next = r->fallback_at;
		if (r->full_pull_at && (next == 0 || r->full_pull_at < next))
			next = r->full_pull_at;
		for (size_t j = 0; j < r->n_held; j++) {
			uint64_t t = r->held[j].push_at;
			if (t && (next == 0 || t < next))
				next = t;
		}
	}
	return next;
}

static void set_next_timer(ctng_gossiper_sm *sm, ctng_gossiper_actions *acts)
{
	acts->next_timer_ms = ctng_gossiper_sm_next_timer(sm);
}

static void drop_old(ctng_gossiper_sm *sm)
{
	size_t w = 0;
	for (size_t i = 0; i < sm->n_obs; i++)
		if (sm->obs[i].period + 1 >= sm->cur)
			sm->obs[w++] = sm->obs[i];
	sm->n_obs = w;
	w = 0;
	for (size_t i = 0; i < sm->n_recs; i++) {
		struct idrec *r = sm->recs[i];
		if (r->id.period + 1 < sm->cur)
			rec_free(r);
		else
			sm->recs[w++] = r;
	}
	sm->n_recs = w;
}

static void advance_clock(ctng_gossiper_sm *sm, uint64_t now_ms)
{
	uint64_t p;
	if (ctng_clock_period_of(&sm->net->clock, now_ms, &p) && p > sm->cur) {
		sm->cur = p;
		drop_old(sm);
	}
}

int ctng_gossiper_sm_on_period(ctng_gossiper_sm *sm, uint64_t p, uint64_t now_ms,
                               ctng_gossiper_actions *acts, ctng_err *err)
{
	(void)err;
	if (p > sm->cur)
		sm->cur = p;
	advance_clock(sm, now_ms);
	drop_old(sm);
	set_next_timer(sm, acts);
	return 0;
}

/* ---------------------------------------------------------- verification */

/* Role checks and signatures (docs/gossiper.md §Verification). */
static int verify(ctng_gossiper_sm *sm, const ctng_gossip_object *o, bool skip_bls, ctng_err *err)
{
	const ctng_network *net = sm->net;
	enum ctng_family f = ctng_type_family(o->type);
	enum ctng_kind k = ctng_type_kind(o->type);
	const char *ent_id = ctng_gossip_entity(o);
	const ctng_entity *ent = entity(sm, ent_id);
	/* The entity the id is about. */
	bool ok_role = false;
	if (ent) {
		switch (f) {
		case CTNG_FAM_STH:
			ok_role = ent->role == CTNG_ROLE_LOGGER;
			break;
		case CTNG_FAM_REV:
			ok_role = ent->role == CTNG_ROLE_CA;
			break;
		case CTNG_FAM_ACC:
		case CTNG_FAM_CON:
			ok_role = ent->role == CTNG_ROLE_LOGGER || ent->role == CTNG_ROLE_CA;
			break;
		default:
			break;
		}
	}
	if (!ok_role)
		return ctng_err_set(err, CTNG_EINVAL, "%s about unknown or wrong-role entity '%s'",
		                    ctng_type_name(o->type), ent_id);
	int rc;
	ctng_buf msg = {0};
	uint8_t sig[CTNG_BLS_SIG_LEN];
	switch (k) {
	case CTNG_KIND_INIT:
		if (f == CTNG_FAM_CON)
			return ctng_cert_con_verify(o, ent, &net->clock, err);
		if (f == CTNG_FAM_ACC) {
			const ctng_entity *mon = entity(sm, o->signer);
			if (!mon || mon->role != CTNG_ROLE_MONITOR)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "ACC signer '%s' is not a monitor", o->signer);
			return ctng_gossip_verify_signed(o, mon->key, &net->clock, err);
		}
		return ctng_gossip_verify_signed(o, ent->key, &net->clock, err);
	case CTNG_KIND_FRAG: {
		const ctng_entity *g = entity(sm, o->signer);
		if (!g || g->role != CTNG_ROLE_GOSSIPER || !g->has_bls_pk)
			return ctng_err_set(err, CTNG_EINVAL, "FRAG signer '%s' is not a gossiper",
			                    o->signer);
		if ((rc = ctng_gossip_bls_sig(o, sig, err)) || skip_bls ||
		    (rc = ctng_gossip_attest_bytes(o, &msg, err)))
			break;
		ctng_bls_pk_prepared **kp = &sm->share_prep[g - net->entities];
		if (!*kp && (rc = ctng_bls_pk_prepare(kp, g->bls_pk, err))) {
			ctng_err_wrap(err, "share key of %s", g->id);
			break;
		}
		rc = ctng_bls_verify_prepared(*kp, msg.data, msg.len, sig, CTNG_BLS_DST_POP, err);
		if (rc)
			ctng_err_wrap(err, "partial signature of %s", o->signer);
		break;
	}
	case CTNG_KIND_FULL:
		if (o->n_signers < net->threshold) {
			rc =
			    ctng_err_set(err, CTNG_EVERIFY, "FULL has %zu signers, threshold is %u",
			                 o->n_signers, net->threshold);
			break;
		}
		for (size_t i = 0; i < o->n_signers; i++) {
			const ctng_entity *g = entity(sm, o->signers[i]);
			if (!g || g->role != CTNG_ROLE_GOSSIPER)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "FULL signer '%s' is not a gossiper",
				                    o->signers[i]);
			for (size_t j = 0; j < i; j++)
				if (strcmp(o->signers[i], o->signers[j]) == 0)
					return ctng_err_set(err, CTNG_EINVAL,
					                    "FULL lists '%s' twice", o->signers[i]);
		}
		if ((rc = ctng_gossip_bls_sig(o, sig, err)) || skip_bls ||
		    (rc = ctng_gossip_attest_bytes(o, &msg, err)))
			break;
		rc = ctng_bls_verify_prepared(sm->group_prep, msg.data, msg.len, sig,
		                              CTNG_BLS_DST_POP, err);
		if (rc)
			ctng_err_wrap(err, "group signature");
		break;
	default:
		rc = ctng_err_set(err, CTNG_EINVAL, "type: unknown");
	}
	ctng_buf_free(&msg);
	return rc;
}

/* ------------------------------------------------------------ processing */

struct ctx {
	ctng_gossiper_sm *sm;
	ctng_gossiper_actions *acts;
	uint64_t now;
	ctng_err *err;
	bool pending; /* the FRAG being accepted was not checked on its own */
};

/* Removes from `to` the peers known to hold t FRAGs of att a: they combine
 * its FULL themselves. A peer holds a FRAG it signed, and those of its
 * held[] entry. */
static void drop_frag_cover(const ctng_gossiper_sm *sm, const struct idrec *r, const struct att *a,
                            uint64_t *to)
{
	if (a->n_frags < sm->net->threshold)
		return;
	for (size_t k = 0; k < sm->me->n_peers; k++) {
		uint32_t n = 0;
		if (!(to[k / 64] >> (k % 64) & 1))
			continue;
		for (size_t j = 0; j < a->n_frags; j++) {
			if (a->frags[j].pending || a->frags[j].bad)
				continue;
			long sp = a->frags[j].signer_g >= 0 ? sm->rt.peer_of_g[a->frags[j].signer_g] : -1;
			n += (r->held[a->frags[j].hi].holders[k / 64] >> (k % 64) & 1) || sp == (long)k;
		}
		if (n >= sm->net->threshold)
			to[k / 64] &= ~(1ull << (k % 64));
	}
}

/* The object of r->held[hi]. */
static const ctng_gossip_object *obj_at(const struct idrec *r, size_t hi, const struct att **of)
{
	*of = NULL;
	for (size_t i = 0; i < r->n_inits; i++)
		if (r->inits[i].hi == hi)
			return &r->inits[i].o;
	for (size_t i = 0; i < r->n_atts; i++) {
		const struct att *a = &r->atts[i];
		*of = a;
		if (a->has_full && a->full_hi == hi)
			return &a->full;
		for (size_t j = 0; j < a->n_frags; j++)
			if (a->frags[j].hi == hi)
				return &a->frags[j].o;
	}
	return NULL;
}

/* Pushes r->held[hi] to every peer not known to hold it (for a FULL: nor to
 * hold t of its FRAGs); those peers then hold it. */
static int push(struct ctx *c, struct idrec *r, size_t hi)
{
	ctng_gossiper_sm *sm = c->sm;
	const struct att *a;
	const ctng_gossip_object *o = obj_at(r, hi, &a);
	struct held *h = &r->held[hi];
	h->push_at = 0;
	if (!o)
		return 0;
	size_t n = words(sm);
	uint64_t *to = malloc(n * sizeof(*to));
	if (!to)
		return nomem(c->err);
	for (size_t i = 0; i < n; i++)
		to[i] = sm->all_peers[i] & ~h->holders[i];
	if (ctng_type_kind(o->type) == CTNG_KIND_FULL)
		drop_frag_cover(sm, r, a, to);
	int rc = 0;
	if (!set_empty(to, n)) {
		set_or(h->holders, to, n);
		rc = act(c->acts, CTNG_GACT_SEND_PEERS, o, to, n, c->err);
	}
	free(to);
	return rc;
}

/* Actions for an object accepted into the state as r->held[hi] (quiet:
 * restored from the store). STH, REV and ACC are pushed after a delay that
 * grows with this gossiper's rank for the id, so that most peers are known
 * to hold them by then; everything else at once. */
static int emit(struct ctx *c, struct idrec *r, size_t hi, const ctng_gossip_object *o,
                const char *from, bool quiet)
{
	ctng_gossiper_sm *sm = c->sm;
	count_inc(sm, o->period, o->type);
	if (quiet)
		return 0;
	enum ctng_kind k = ctng_type_kind(o->type);
	mark_from(&sm->rt, r->held[hi].holders, o, from);
	int rc = act(c->acts, CTNG_GACT_STORE, o, NULL, 0, c->err);
	if (rc)
		return rc;
	if (k == CTNG_KIND_INIT && o->type != CTNG_CON) {
		/* the first-ranked at once, the second after an eighth of the wait,
		 * the rest after a quarter: by then they know who holds it */
		uint64_t w = sm->net->clock.gossip_wait_ms;
		r->held[hi].push_at = c->now + (r->rank < 2 ? r->rank : 2) * (w / 8);
		if (r->held[hi].push_at <= c->now)
			rc = push(c, r, hi);
	} else if (k == CTNG_KIND_FRAG && !r->flood && !aggregates(sm, r)) {
		/* own FRAG: to the aggregator only, flooded if no FULL comes; others
		 * reach a non-aggregator only while flooding: relayed */
		if (strcmp(o->signer, sm->self) == 0) {
			const char *agg = gr_gossiper_id(&sm->rt, r->first);
			rc = act(c->acts, CTNG_GACT_SEND_GOSSIPER, o, NULL, 0, c->err);
			if (!rc)
				snprintf(c->acts->v[c->acts->n - 1].dest, CTNG_ID_MAX + 1, "%s", agg);
			r->fallback_at = c->now + sm->net->clock.gossip_wait_ms / 4;
			if (r->fallback_at == 0)
				r->fallback_at = 1;
		} else {
			rc = push(c, r, hi);
		}
	} else if (k != CTNG_KIND_FRAG || r->flood) {
		rc = push(c, r, hi); /* an aggregator forwards no FRAG */
	}
	bool to_mon = k == CTNG_KIND_FULL || o->type == CTNG_STH || o->type == CTNG_REV ||
	              o->type == CTNG_CON;
	if (to_mon && (o->type == CTNG_STH || o->type == CTNG_REV)) {
		/* not back to the monitor that said, signed, it has it (the
		 * header could be a lie that keeps the object from it) */
		uint8_t d[32];
		to_mon = ctng_gossip_content_digest(o, d, NULL) != 0 ||
		         !ctng_gossiper_sm_observed(sm, r->id.family, r->id.entity, r->id.period, d,
		                                    NULL);
	}
	if (!rc && to_mon && sm->monitor[0])
		rc = act(c->acts, CTNG_GACT_SEND_MONITOR, o, NULL, 0, c->err);
	return rc;
}

static int accept_obj(struct ctx *c, const ctng_gossip_object *o, const char *from, bool quiet);

/* The wait of an id: gossip_wait, and a quarter more for the gossipers ranked
 * after the first t, which by then mostly hold the FULL and need not sign. */
static void start_wait(struct ctx *c, struct idrec *r)
{
	if (!r->waiting && !r->decided) {
		uint64_t w = c->sm->net->clock.gossip_wait_ms;
		r->waiting = true;
		r->deadline =
		    c->now + w + (r->rank < c->sm->net->threshold ? 0 : w / 4);
		if (r->deadline == 0)
			r->deadline = 1;
	}
}

/* Checks a pending FRAG on its own: true if its partial verifies. */
static bool check_alone(ctng_gossiper_sm *sm, const struct frag_rec *f)
{
	return verify(sm, &f->o, false, NULL) == 0;
}

static int want_pulls(struct ctx *c, struct idrec *r, const ctng_gossip_object *o);

/* A pending FRAG found valid: an accepted FRAG from now on (and a proof that
 * its signer holds the INIT). */
static int promote(struct ctx *c, struct idrec *r, struct frag_rec *f)
{
	f->pending = false;
	if (strcmp(f->signer, c->sm->self) == 0)
		r->signed_self = true;
	int rc = emit(c, r, f->hi, &f->o, NULL, false);
	return rc ? rc : want_pulls(c, r, &f->o);
}

/* Picks up to t FRAGs of distinct signers, checked ones first (indexes into
 * a->frags); returns how many. */
static uint32_t pick(const struct att *a, uint32_t t, size_t *idx)
{
	uint32_t n = 0;
	for (int pass = 0; pass < 2 && n < t; pass++)
		for (size_t j = 0; j < a->n_frags && n < t; j++) {
			const struct frag_rec *f = &a->frags[j];
			if (!f->bad && f->pending == (pass == 1))
				idx[n++] = j;
		}
	return n;
}

/* Combines the att's partials once it holds threshold of them. Pending ones
 * (the aggregator's, docs/gossiper.md §Aggregation) are checked together: a
 * combination that verifies against the group key is the FULL, whatever the
 * single partials; one that does not is followed by a check of each pending
 * partial, the bad ones dropped, and another try with the rest. */
static int maybe_combine(struct ctx *c, struct idrec *r, struct att *a)
{
	ctng_gossiper_sm *sm = c->sm;
	uint32_t t = sm->net->threshold;
	if (a->has_full)
		return 0;
	size_t *idx = calloc(t, sizeof(*idx));
	uint32_t *ids = calloc(t, sizeof(*ids));
	uint8_t(*parts)[CTNG_BLS_SIG_LEN] = calloc(t, sizeof(*parts));
	const char **names = calloc(t, sizeof(*names));
	ctng_buf msg = {0};
	ctng_gossip_object full = {0};
	int rc = 0;
	if (!idx || !ids || !parts || !names) {
		rc = nomem(c->err);
		goto out;
	}
	for (;;) {
		if (pick(a, t, idx) < t)
			goto out;
		bool any_pending = false;
		for (uint32_t i = 0; i < t; i++) {
			const struct frag_rec *f = &a->frags[idx[i]];
			ids[i] = f->bls_id;
			memcpy(parts[i], f->partial, CTNG_BLS_SIG_LEN);
			names[i] = f->signer;
			any_pending |= f->pending;
		}
		uint8_t sig[CTNG_BLS_SIG_LEN];
		ctng_buf_reset(&msg);
		if ((rc = ctng_gossip_attest_bytes(&a->frags[idx[0]].o, &msg, c->err)))
			goto out;
		bool ok = ctng_bls_combine(sig, ids, (const uint8_t(*)[CTNG_BLS_SIG_LEN])parts, t,
		                           t, NULL) == 0 &&
		          ctng_bls_verify_prepared(sm->group_prep, msg.data, msg.len, sig,
		                                   CTNG_BLS_DST_POP, NULL) == 0;
		if (ok) {
			for (uint32_t i = 0; i < t; i++) {
				struct frag_rec *f = &a->frags[idx[i]];
				if (f->pending) { /* went into the FULL: counted, not kept */
					f->pending = false;
					count_inc(sm, f->o.period, f->o.type);
				}
			}
			if ((rc = ctng_full_build(&full, &a->frags[idx[0]].o, names, t, sig, c->now,
			                          c->err)))
				goto out;
			rc = accept_obj(c, &full, NULL, false);
			if (rc > 0)
				rc = 0;
			goto out;
		}
		if (!any_pending) {
			char idstr[CTNG_GOSSIP_ID_STR_MAX];
			ctng_gossip_id_str(&r->id, idstr);
			CTNG_ERROR("combined signature does not verify", "id=%s", idstr);
			goto out; /* a bad share key in the network: no FULL, nothing to do */
		}
		/* someone lied: check the pending ones alone, keep the good ones */
		for (uint32_t i = 0; i < t && !rc; i++) {
			struct frag_rec *f = &a->frags[idx[i]];
			if (!f->pending)
				continue;
			if (check_alone(sm, f))
				rc = promote(c, r, f);
			else
				f->bad = true;
		}
		if (rc)
			goto out;
	}
out:
	ctng_gossip_clear(&full);
	ctng_buf_free(&msg);
	free(idx);
	free(ids);
	free(parts);
	free(names);
	return rc;
}

static int sign_frag(struct ctx *c, struct idrec *r, const ctng_gossip_object *init)
{
	ctng_gossiper_sm *sm = c->sm;
	ctng_buf msg = {0};
	ctng_gossip_object frag = {0};
	uint8_t sig[CTNG_BLS_SIG_LEN];
	int rc = ctng_gossip_attest_bytes(init, &msg, c->err);
	if (!rc)
		rc = ctng_bls_sign(sig, sm->sk, msg.data, msg.len, CTNG_BLS_DST_POP, c->err);
	if (!rc)
		rc = ctng_frag_build(&frag, init, sm->self, sig, c->now, c->err);
	if (!rc) {
		r->signed_self = true;
		rc = accept_obj(c, &frag, NULL, false);
		if (rc > 0)
			rc = 0;
	}
	ctng_gossip_clear(&frag);
	ctng_buf_free(&msg);
	return rc;
}

static int emit_con(struct ctx *c, struct idrec *r)
{
	ctng_gossip_id cid = r->id;
	cid.family = CTNG_FAM_CON;
	struct idrec *cr = rec_find(c->sm, &cid);
	if (cr && cr->n_inits > 0)
		return 0; /* a CON for this entity and period is already held */
	ctng_gossip_object con = {0};
	int rc = ctng_con_build(&con, &r->inits[0].o, &r->inits[1].o, c->now, c->err);
	if (!rc) {
		rc = accept_obj(c, &con, NULL, false);
		if (rc > 0)
			rc = 0;
	}
	ctng_gossip_clear(&con);
	return rc;
}

/* The end of an id's wait: CON if a conflict is known, else FRAG. */
/* True if this gossiper holds a validly signed STH or REV of `id`'s entity
 * for `id`'s period: the entity answered some monitor, so an accusation of
 * silence against it is not attested (one monitor alone must not be able to
 * get an answering logger or CA accused). */
static bool entity_answered(ctng_gossiper_sm *sm, const ctng_gossip_id *id)
{
	static const enum ctng_family fams[] = {CTNG_FAM_STH, CTNG_FAM_REV};
	for (size_t i = 0; i < 2; i++) {
		ctng_gossip_id x = *id;
		x.family = fams[i];
		struct idrec *r = rec_find(sm, &x);
		if (r && r->n_inits > 0)
			return true;
	}
	return false;
}

static struct obs_rec *obs_find(const ctng_gossiper_sm *sm, enum ctng_family f, const char *entity,
                                 uint64_t period)
{
	for (size_t i = 0; i < sm->n_obs; i++) {
		struct obs_rec *o = &sm->obs[i];
		if (o->family == f && o->period == period && strcmp(o->entity, entity) == 0)
			return o;
	}
	return NULL;
}

/* The ACC rule (docs/gossiper.md §Accusations): this gossiper's own monitor
 * said, signed, that it failed to get the entity's object of that period. */
static bool own_monitor_failed(const ctng_gossiper_sm *sm, const ctng_gossip_id *id)
{
	const ctng_entity *e = entity(sm, id->entity);
	if (!e)
		return false;
	enum ctng_family f = e->role == CTNG_ROLE_LOGGER ? CTNG_FAM_STH : CTNG_FAM_REV;
	const struct obs_rec *o = obs_find(sm, f, id->entity, id->period);
	return o && o->failed;
}

/* The DA rule (docs/gossiper.md §Data availability): the own monitor said,
 * signed, that it holds and verified every entry of this STH. */
static bool own_monitor_holds(const ctng_gossiper_sm *sm, const ctng_gossip_id *id,
                              const uint8_t digest[32])
{
	uint32_t checks = 0;
	return ctng_gossiper_sm_observed(sm, CTNG_FAM_STH, id->entity, id->period, digest,
	                                 &checks) &&
	       (checks & CTNG_OBS_CHECK_DATA);
}

/* ... or that the logger did not serve them (the ACC of withheld data). */
static bool own_monitor_data_failed(const ctng_gossiper_sm *sm, const ctng_gossip_id *id)
{
	const struct obs_rec *o = obs_find(sm, CTNG_FAM_STH, id->entity, id->period);
	return o && o->data_failed;
}

/* Decided not to sign (yet): the FULL is others' to make. X-CTng-From may
 * have lied this gossiper out of it (a FULL is not pushed to peers that the
 * sender's claimed peers cover, §Pushing), and no FRAG of its own will be
 * answered with it (§Aggregation), so half a wait later it asks one peer. */
static int arm_full_pull(struct ctx *c, struct idrec *r)
{
	uint64_t w = c->sm->net->clock.gossip_wait_ms / 2;
	if (!r->full_pull_at)
		r->full_pull_at = c->now + (w ? w : 1);
	return 0;
}

static int decide(struct ctx *c, struct idrec *r)
{
	r->waiting = false;
	r->decided = true;
	if (ctng_gossiper_sm_convicted(c->sm, r->id.entity) || r->n_inits == 0)
		return 0;
	if (fam_digest(r->id.family)) {
		if (r->n_inits >= 2)
			return emit_con(c, r);
		if (r->conflict_known)
			return 0;
	}
	if (r->signed_self)
		return 0;
	if (r->id.family == CTNG_FAM_STH && !own_monitor_holds(c->sm, &r->id, r->inits[0].digest))
		return arm_full_pull(c, r); /* no FRAG without the data: an
		                             * OBS(obtained, data) decides again */
	if (r->id.family == CTNG_FAM_ACC) {
		/* Silence: only if nobody got the object. Withheld data: the
		 * logger answered with an STH, but not with its entries. */
		bool silent = !entity_answered(c->sm, &r->id) && own_monitor_failed(c->sm, &r->id);
		if (!silent && !own_monitor_data_failed(c->sm, &r->id))
			return arm_full_pull(c, r); /* an OBS(failed) arriving later
			                             * decides again */
		uint64_t dl = ctng_clock_query_deadline(&c->sm->net->clock, r->id.period);
		if (c->now < dl) {
			/* never before the period's query window closed on this clock */
			r->decided = false;
			r->waiting = true;
			r->deadline = dl;
			return 0;
		}
	}
	struct att *a = att_find(r, fam_digest(r->id.family) ? r->inits[0].digest : NULL);
	if (a && a->has_full)
		return 0; /* the FULL exists already: a FRAG adds nothing */
	if (c->sm->no_signing) {
		/* cannot persist what it would sign: decide again a little later */
		uint64_t w = c->sm->net->clock.gossip_wait_ms / 4;
		r->decided = false;
		r->waiting = true;
		r->deadline = c->now + (w ? w : 1);
		return 0;
	}
	return sign_frag(c, r, &r->inits[0].o);
}

static int add_convicted(ctng_gossiper_sm *sm, const ctng_gossip_object *o, ctng_err *err)
{
	const char *e = S(o->payload[0]);
	if (ctng_gossiper_sm_convicted(sm, e))
		return 0;
	struct convicted *v = realloc(sm->conv, (sm->n_conv + 1) * sizeof(*v));
	if (!v)
		return nomem(err);
	sm->conv = v;
	struct convicted *x = &sm->conv[sm->n_conv];
	memset(x, 0, sizeof(*x));
	strcpy(x->entity, e);
	int rc = ctng_gossip_copy(&x->con_full, o, err);
	if (rc)
		return rc;
	sm->n_conv++;
	CTNG_WARN("entity convicted (CON_FULL)", "entity=%s period=%llu", e,
	          (unsigned long long)o->period);
	return 0;
}

/* An object held as *h came again from `from`: the peers it covers hold it. */
static int dup_from(const ctng_gossiper_sm *sm, struct held *h, const ctng_gossip_object *o,
                    const char *from, bool quiet)
{
	if (!quiet)
		mark_from(&sm->rt, h->holders, o, from);
	return CTNG_GOSSIPER_DUPLICATE;
}

/* ----------------------------------------------------------------- pulls */

/* Does this gossiper lack an INIT that peer `k` proved (by its FRAG, or by
 * signing a FULL) to hold for r? STH/REV: one with the digest of each
 * attestation k signed; CON: any CON. ACCs are not pulled: an ACC_FULL and
 * the client update need no ACC (docs/gossiper.md §Pulls). */
static bool lacks_from(const ctng_gossiper_sm *sm, const struct idrec *r, size_t k)
{
	const char *peer = sm->me->peers[k];
	if (r->id.family == CTNG_FAM_CON)
		return r->n_inits == 0;
	if (r->id.family == CTNG_FAM_ACC)
		return false;
	for (size_t j = 0; j < r->n_atts; j++) {
		const struct att *a = &r->atts[j];
		bool signed_by = false;
		for (size_t f = 0; f < a->n_frags && !signed_by; f++)
			signed_by = strcmp(a->frags[f].signer, peer) == 0;
		for (size_t f = 0; a->has_full && f < a->full.n_signers && !signed_by; f++)
			signed_by = strcmp(a->full.signers[f], peer) == 0;
		if (!signed_by)
			continue;
		bool held = false;
		for (size_t i = 0; i < r->n_inits && !held; i++)
			held = memcmp(r->inits[i].digest, a->digest, 32) == 0;
		if (!held)
			return true;
	}
	return false;
}

/* A FRAG or FULL (verified) that shows its signers hold an INIT this
 * gossiper may lack: ask them a little later if it is still missing then. */
static int want_pulls(struct ctx *c, struct idrec *r, const ctng_gossip_object *o)
{
	ctng_gossiper_sm *sm = c->sm;
	size_t nw = words(sm);
	bool any = false;
	size_t n = ctng_type_kind(o->type) == CTNG_KIND_FRAG ? 1
	           : r->id.family != CTNG_FAM_ACC         ? o->n_signers /* an ACC_FULL needs no INIT */
	                                                  : 0;
	for (size_t i = 0; i < n; i++) {
		bool frag = ctng_type_kind(o->type) == CTNG_KIND_FRAG;
		long k = peer_pos(&sm->rt, frag ? o->signer : o->signers[i]);
		if (k < 0 || (r->pulled && (r->pulled[k / 64] >> (k % 64) & 1)) ||
		    !lacks_from(sm, r, (size_t)k))
			continue;
		if (!r->want && !(r->want = calloc(nw, sizeof(uint64_t))))
			return nomem(c->err);
		r->want[k / 64] |= 1ull << (k % 64);
		any = true;
	}
	if (any && !r->pull_at) {
		uint64_t w = sm->net->clock.gossip_wait_ms / 4;
		r->pull_at = c->now + (w ? w : 1);
	}
	return 0;
}

static int run_pulls(struct ctx *c, struct idrec *r)
{
	ctng_gossiper_sm *sm = c->sm;
	size_t nw = words(sm);
	r->pull_at = 0;
	if (!r->want)
		return 0;
	bool any = false;
	for (size_t k = 0; k < sm->rt.n_peers; k++)
		if ((r->want[k / 64] >> (k % 64) & 1) && !lacks_from(sm, r, k))
			r->want[k / 64] &= ~(1ull << (k % 64));
		else if (r->want[k / 64] >> (k % 64) & 1)
			any = true;
	if (!any)
		return 0;
	if (!r->pulled && !(r->pulled = calloc(nw, sizeof(uint64_t))))
		return nomem(c->err);
	set_or(r->pulled, r->want, nw);
	ctng_gossiper_actions *a = c->acts;
	int rc = act(a, CTNG_GACT_PULL, NULL, r->want, nw, c->err);
	if (rc)
		return rc;
	a->v[a->n - 1].id = r->id;
	memset(r->want, 0, nw * sizeof(uint64_t));
	return 0;
}

/* A FRAG of an attestation whose FULL this gossiper holds, signed by a peer:
 * that peer is flooding its FRAG because no FULL reached it (its aggregator
 * failed it, docs/gossiper.md §Aggregation), so the FULL goes to it. */
static int help_straggler(struct ctx *c, struct idrec *r, const struct att *a,
                          const char *signer)
{
	ctng_gossiper_sm *sm = c->sm;
	long k = peer_pos(&sm->rt, signer);
	if (k < 0 || !a->has_full)
		return 0;
	/* whatever we believed it holds: a gossiper with the FULL floods no FRAG
	 * (and only a signer's first FRAG gets here: one answer each) */
	r->held[a->full_hi].holders[k / 64] |= 1ull << (k % 64);
	size_t n = words(sm);
	uint64_t *to = calloc(n, sizeof(*to));
	if (!to)
		return nomem(c->err);
	to[k / 64] = 1ull << (k % 64);
	int rc = act(c->acts, CTNG_GACT_SEND_PEERS, &a->full, to, n, c->err);
	free(to);
	return rc;
}

/* Puts a verified (or self-made) object into the state. Returns NEW /
 * DUPLICATE / IGNORED or a negative error. */
static int accept_obj(struct ctx *c, const ctng_gossip_object *o, const char *from, bool quiet)
{
	ctng_gossiper_sm *sm = c->sm;
	ctng_gossip_id id;
	uint8_t h[32], d[32];
	bool has_d = false;
	int rc;
	if ((rc = ctng_gossip_id_of(o, &id, c->err)) || (rc = content_hash(o, h, c->err)) ||
	    (rc = obj_digest(o, d, &has_d, c->err)))
		return rc;
	struct idrec *r = rec_get(sm, &id);
	if (!r)
		return nomem(c->err);
	struct held *dup = rec_held(r, h);
	if (dup)
		return dup_from(sm, dup, o, from, quiet);
	enum ctng_kind k = ctng_type_kind(o->type);
	size_t hi = 0;
	if (k == CTNG_KIND_INIT) {
		for (size_t i = 0; i < r->n_inits; i++) {
			const ctng_gossip_object *x = &r->inits[i].o;
			if (id.family == CTNG_FAM_CON || /* one CON per id */
			    (id.family == CTNG_FAM_ACC && strcmp(x->signer, o->signer) == 0) ||
			    (has_d && memcmp(r->inits[i].digest, d, 32) == 0))
				/* one ACC per monitor; same signed content */
				return dup_from(sm, &r->held[r->inits[i].hi], o, from, quiet);
		}
		if (has_d && r->n_inits >= CTNG_GOSSIPER_MAX_INIT_PER_ID)
			return CTNG_GOSSIPER_IGNORED;
		struct init_rec *v = realloc(r->inits, (r->n_inits + 1) * sizeof(*v));
		if (!v)
			return nomem(c->err);
		r->inits = v;
		struct init_rec *ir = &r->inits[r->n_inits];
		memset(ir, 0, sizeof(*ir));
		if (has_d)
			memcpy(ir->digest, d, 32);
		if ((rc = ctng_gossip_copy(&ir->o, o, c->err)) ||
		    (rc = rec_add_hash(sm, r, h, &hi, c->err)))
			return rc;
		ir->hi = hi;
		r->n_inits++;
		if ((rc = emit(c, r, hi, o, from, quiet)))
			return rc;
		if (id.family == CTNG_FAM_CON) {
			/* Mark the conflicting family's id: no FRAG for it. */
			ctng_gossip_object pa = {0}, pb = {0};
			/* (a RID CON embeds no STH/REV: nothing to mark) */
			if (ctng_con_parts(o, &pa, &pb, NULL) == 0 && pa.type != CTNG_TYPE_NONE) {
				ctng_gossip_id sid = id;
				sid.family = ctng_type_family(pa.type);
				struct idrec *sr = rec_get(sm, &sid);
				if (sr)
					sr->conflict_known = true;
			}
			ctng_gossip_clear(&pa);
			ctng_gossip_clear(&pb);
		}
		start_wait(c, r);
		/* A conflict that shows up after the decision still gets its CON. */
		if (has_d && r->n_inits >= 2 && r->decided &&
		    !ctng_gossiper_sm_convicted(sm, id.entity))
			rc = emit_con(c, r);
		return rc ? rc : CTNG_GOSSIPER_NEW;
	}
	struct att *a = att_find(r, has_d ? d : NULL);
	if (k == CTNG_KIND_FRAG) {
		struct att *fa = NULL;
		struct frag_rec *old = rec_frag_from(r, o->signer, &fa);
		if (old && old->pending) {
			/* Two contents claim one signer: the pending one is checked
			 * now, so a forged FRAG cannot keep the real one out. */
			if (check_alone(sm, old)) {
				if ((rc = promote(c, r, old)))
					return rc;
			} else {
				old->bad = true;
				old = NULL;
			}
		}
		if (old) {
			/* One FRAG per (id, signer): the same content again is a
			 * duplicate, a second content from that signer is ignored. */
			for (size_t i = 0; a && i < a->n_frags; i++)
				if (&a->frags[i] == old)
					return dup_from(sm, &r->held[a->frags[i].hi], o, from, quiet);
			return CTNG_GOSSIPER_IGNORED;
		}
		if (a && a->has_full) {
			/* late FRAG: the FULL supersedes it; a peer still signing
			 * lacks the FULL (its aggregator failed it): send it */
			if (!quiet)
				rc = help_straggler(c, r, a, o->signer);
			return rc ? rc : CTNG_GOSSIPER_DUPLICATE;
		}
		if (!a && r->n_atts >= sm->max_atts)
			return CTNG_GOSSIPER_IGNORED;
		const ctng_entity *g = entity(sm, o->signer);
		if (!g)
			return ctng_err_set(c->err, CTNG_EINVAL, "unknown FRAG signer");
		if (!(a = att_get(r, has_d ? d : NULL)))
			return nomem(c->err);
		struct frag_rec *v = realloc(a->frags, (a->n_frags + 1) * sizeof(*v));
		if (!v)
			return nomem(c->err);
		a->frags = v;
		struct frag_rec *fr = &a->frags[a->n_frags];
		memset(fr, 0, sizeof(*fr));
		fr->bls_id = g->bls_id;
		fr->signer_g = sm->rt.ent_g[g - sm->net->entities];
		strcpy(fr->signer, o->signer);
		if ((rc = ctng_gossip_bls_sig(o, fr->partial, c->err)) ||
		    (rc = ctng_gossip_copy(&fr->o, o, c->err)) ||
		    (rc = rec_add_hash(sm, r, h, &hi, c->err)))
			return rc;
		fr->hi = hi;
		fr->pending = c->pending && strcmp(o->signer, sm->self) != 0;
		a->n_frags++;
		if (!fr->pending) {
			if (strcmp(o->signer, sm->self) == 0)
				r->signed_self = true;
			if ((rc = emit(c, r, hi, o, from, quiet)))
				return rc;
			if (!quiet && (rc = want_pulls(c, r, o)))
				return rc;
		} else if (!quiet) {
			mark_from(&sm->rt, r->held[hi].holders, o, from);
		}
		bool pending = fr->pending;
		rc = maybe_combine(c, r, a);
		return rc ? rc : pending ? CTNG_GOSSIPER_PENDING : CTNG_GOSSIPER_NEW;
	}
	/* FULL */
	if (a && a->has_full)
		return dup_from(sm, &r->held[a->full_hi], o, from, quiet);
	if (!a && r->n_atts >= sm->max_atts)
		return CTNG_GOSSIPER_IGNORED; /* more contents than gossipers: a cap */
	if (!(a = att_get(r, has_d ? d : NULL)))
		return nomem(c->err);
	if ((rc = ctng_gossip_copy(&a->full, o, c->err)) || (rc = rec_add_hash(sm, r, h, &hi, c->err)))
		return rc;
	a->has_full = true;
	a->full_hi = hi;
	if (o->type == CTNG_CON_FULL && (rc = add_convicted(sm, o, c->err)))
		return rc;
	if ((rc = emit(c, r, hi, o, from, quiet)))
		return rc;
	if (!quiet && (rc = want_pulls(c, r, o)))
		return rc;
	return CTNG_GOSSIPER_NEW;
}

/* True for a FRAG whose attestation already has its FULL, and for a FULL with
 * the very signature of the FULL held (a threshold signature is unique per
 * message): both can only be answered "duplicate" and change nothing, so
 * their pairing checks are skipped (every other check still runs). */
static bool superseded(ctng_gossiper_sm *sm, const ctng_gossip_object *o, const ctng_gossip_id *id)
{
	enum ctng_kind k = ctng_type_kind(o->type);
	if (k != CTNG_KIND_FRAG && k != CTNG_KIND_FULL)
		return false;
	struct idrec *r = rec_find(sm, id);
	uint8_t d[32];
	bool has_d = false;
	if (!r || obj_digest(o, d, &has_d, NULL))
		return false;
	struct att *a = att_find(r, has_d ? d : NULL);
	if (!a || !a->has_full)
		return false;
	return k == CTNG_KIND_FRAG || strcmp(S(o->signature[0]), S(a->full.signature[0])) == 0;
}

/* An accusation of period p this clock cannot believe yet: an ACC before p
 * began (an honest monitor accuses at its query deadline, and its clock is
 * at most 2B = the window ahead of this one, so its ACC comes after
 * start(p) + query_offset here); an ACC_FRAG or ACC_FULL before start(p) +
 * query_offset (an honest gossiper signs after its own query deadline). */
static bool premature_acc(const ctng_gossiper_sm *sm, const ctng_gossip_object *o, uint64_t now)
{
	const ctng_clock *c = &sm->net->clock;
	uint64_t s = ctng_clock_period_start(c, o->period);
	if (ctng_type_kind(o->type) != CTNG_KIND_INIT)
		s = s > UINT64_MAX - c->query_offset_ms ? UINT64_MAX : s + c->query_offset_ms;
	return now < s;
}

static int on_object(ctng_gossiper_sm *sm, const ctng_gossip_object *o, const char *from,
                     uint64_t now, bool quiet, ctng_gossiper_actions *acts, ctng_err *err)
{
	struct ctx c = {sm, acts, now, err, false};
	advance_clock(sm, now);
	int rc;
	if (!o)
		return ctng_err_set(err, CTNG_EINVAL, "no object");
	if ((rc = ctng_gossip_check(o, err)))
		goto out;
	if (quiet && o->type == CTNG_CON_FULL && o->period < sm->cur &&
	    !ctng_clock_period_acceptable(sm->cur, o->period)) {
		/* A restored CON_FULL of an old period: permanent, not in any cache. */
		if ((rc = verify(sm, o, false, err)) == 0 && (rc = add_convicted(sm, o, err)) == 0)
			rc = CTNG_GOSSIPER_NEW;
		goto out;
	}
	if (!ctng_clock_period_acceptable(sm->cur, o->period)) {
		rc = ctng_err_set(err, CTNG_ERANGE, "period %llu outside %llu +- 1",
		                  (unsigned long long)o->period, (unsigned long long)sm->cur);
		goto out;
	}
	if (ctng_type_family(o->type) == CTNG_FAM_ACC && !quiet && premature_acc(sm, o, now)) {
		/* Nobody can have found an entity silent in a period that has not
		 * begun, and no honest gossiper signs before the query deadline
		 * (docs/gossiper.md §Accusations). */
		rc = ctng_err_set(err, CTNG_ERANGE, "%s of period %llu before %s (now period %llu)",
		                  ctng_type_name(o->type), (unsigned long long)o->period,
		                  ctng_type_kind(o->type) == CTNG_KIND_INIT ? "the period began"
		                                                            : "its query time",
		                  (unsigned long long)sm->cur);
		goto out;
	}
	/* X-CTng-From is not authenticated (docs/gossiper.md §Pushing): it is a
	 * hint for INITs and FULLs only, whose loss it could cause is repaired by
	 * pulls and the FRAG fallback (§Pulls, §Aggregation); FRAGs are
	 * attributed to their (verified) signer. */
	if (ctng_type_kind(o->type) == CTNG_KIND_FRAG)
		from = NULL;
	/* Exact duplicates of held (verified) objects need no new verification. */
	ctng_gossip_id id;
	uint8_t h[32];
	if ((rc = ctng_gossip_id_of(o, &id, err)) || (rc = content_hash(o, h, err)))
		goto out;
	struct held *dup = rec_held(rec_find(sm, &id), h);
	if (dup) {
		rc = dup_from(sm, dup, o, from, quiet);
		goto out;
	}
	/* The aggregator of an id checks its FRAGs together (§Aggregation). */
	if (ctng_type_kind(o->type) == CTNG_KIND_FRAG && strcmp(o->signer, sm->self) != 0) {
		struct idrec *r = rec_find(sm, &id);
		size_t rank = 0, first = 0;
		if (r)
			first = r->first;
		else
			gr_rank(&sm->rt, &id, &rank, &first);
		c.pending = first == sm->rt.self_g && !(r && r->flood);
	}
	if ((rc = verify(sm, o, superseded(sm, o, &id) || c.pending, err)))
		goto out;
	rc = accept_obj(&c, o, from, quiet);
out:
	set_next_timer(sm, acts);
	return rc;
}

int ctng_gossiper_sm_on_object(ctng_gossiper_sm *sm, const ctng_gossip_object *obj,
                               const char *from, uint64_t now_ms, ctng_gossiper_actions *acts,
                               ctng_err *err)
{
	return on_object(sm, obj, from, now_ms, false, acts, err);
}

int ctng_gossiper_sm_restore(ctng_gossiper_sm *sm, const ctng_gossip_object *obj, uint64_t now_ms,
                             ctng_gossiper_actions *acts, ctng_err *err)
{
	return on_object(sm, obj, NULL, now_ms, true, acts, err);
}

/* The aggregator of r did not bring the FULL of this gossiper's FRAG in
 * time (down, slow or lying): this gossiper floods its FRAG to its peers,
 * who relay it and combine for themselves, as without aggregation. */
static int fall_back(struct ctx *c, struct idrec *r)
{
	r->fallback_at = 0;
	struct att *a = NULL;
	struct frag_rec *own = rec_frag_from(r, c->sm->self, &a);
	if (!own || a->has_full)
		return 0;
	r->flood = true;
	char idstr[CTNG_GOSSIP_ID_STR_MAX];
	ctng_gossip_id_str(&r->id, idstr);
	CTNG_INFO("no FULL from the aggregator: flooding the FRAG", "id=%s aggregator=%s", idstr,
	          gr_gossiper_id(&c->sm->rt, r->first));
	return push(c, r, own->hi);
}

/* The FULL pull armed by arm_full_pull: one peer (the id's aggregator when
 * it is a peer, else one chosen by the id's rotation), once, unless a FULL or
 * a conflict came meanwhile. */
static int pull_full(struct ctx *c, struct idrec *r)
{
	ctng_gossiper_sm *sm = c->sm;
	r->full_pull_at = 0;
	if (!sm->rt.n_peers || r->conflict_known || ctng_gossiper_sm_convicted(sm, r->id.entity))
		return 0;
	for (size_t j = 0; j < r->n_atts; j++)
		if (r->atts[j].has_full)
			return 0;
	long k = sm->rt.peer_of_g[r->first];
	if (k < 0)
		k = (long)((r->first + r->rank) % sm->rt.n_peers);
	size_t nw = words(sm);
	if (!r->pulled && !(r->pulled = calloc(nw, sizeof(uint64_t))))
		return nomem(c->err);
	if (r->pulled[k / 64] >> (k % 64) & 1)
		return 0;
	r->pulled[k / 64] |= 1ull << (k % 64);
	uint64_t *to = calloc(nw, sizeof(*to));
	if (!to)
		return nomem(c->err);
	to[k / 64] = 1ull << (k % 64);
	int rc = act(c->acts, CTNG_GACT_PULL, NULL, to, nw, c->err);
	free(to);
	if (!rc)
		c->acts->v[c->acts->n - 1].id = r->id;
	return rc;
}

int ctng_gossiper_sm_on_timer(ctng_gossiper_sm *sm, uint64_t now_ms, ctng_gossiper_actions *acts,
                              ctng_err *err)
{
	struct ctx c = {sm, acts, now_ms, err, false};
	advance_clock(sm, now_ms);
	int rc = 0;
	/* The delayed pushes and the pulls that are due, and own FRAGs whose
	 * aggregator brought no FULL in time: flooded (§Aggregation). */
	for (size_t i = 0; i < sm->n_recs && !rc; i++) {
		struct idrec *r = sm->recs[i];
		for (size_t j = 0; j < r->n_held && !rc; j++)
			if (r->held[j].push_at && r->held[j].push_at <= now_ms)
				rc = push(&c, r, j);
		if (!rc && r->pull_at && r->pull_at <= now_ms)
			rc = run_pulls(&c, r);
		if (!rc && r->fallback_at && r->fallback_at <= now_ms)
			rc = fall_back(&c, r);
		if (!rc && r->full_pull_at && r->full_pull_at <= now_ms)
			rc = pull_full(&c, r);
	}
	/* decide() may add records (CON ids): restart the scan after each one. */
	for (bool again = true; again && !rc;) {
		again = false;
		for (size_t i = 0; i < sm->n_recs; i++) {
			struct idrec *r = sm->recs[i];
			if (r->waiting && r->deadline <= now_ms) {
				rc = decide(&c, r);
				again = true;
				break;
			}
		}
	}
	set_next_timer(sm, acts);
	return rc;
}

/* --------------------------------------------------------- observations */

int ctng_gossiper_sm_on_observation(ctng_gossiper_sm *sm, const ctng_observation *obs,
                                    uint64_t now_ms, ctng_gossiper_actions *acts, ctng_err *err)
{
	struct ctx c = {sm, acts, now_ms, err, false};
	advance_clock(sm, now_ms);
	int rc;
	if (!obs)
		rc = ctng_err_set(err, CTNG_EINVAL, "no observation");
	else if (!sm->mon || strcmp(obs->monitor, sm->mon->id) != 0)
		rc = ctng_err_set(err, CTNG_EINVAL, "observation from %s, not from my monitor %s",
		                  obs->monitor, sm->mon ? sm->mon->id : "(none)");
	else
		rc = ctng_obs_verify(obs, sm->mon->key, err);
	const ctng_entity *e = rc ? NULL : entity(sm, obs->entity);
	/* A monitor mirrors every log, also those it does not watch: what it
	 * says about their data counts (docs/mirror.md). */
	bool data = !rc && (obs->checks & CTNG_OBS_CHECK_DATA);
	if (!rc && (!e || e->role != (obs->family == CTNG_FAM_STH ? CTNG_ROLE_LOGGER : CTNG_ROLE_CA) ||
	            (!data && !ctng_network_watches(sm->net, sm->mon->id, e->id))))
		rc = ctng_err_set(err, CTNG_EINVAL, "observation about %s, which %s does not watch",
		                  obs->entity, sm->mon->id);
	if (!rc && !ctng_clock_period_acceptable(sm->cur, obs->period))
		rc = ctng_err_set(err, CTNG_ERANGE, "observation of period %llu outside %llu +- 1",
		                  (unsigned long long)obs->period, (unsigned long long)sm->cur);
	if (!rc && obs->result == CTNG_OBS_FAILED && obs->period > sm->cur)
		rc = ctng_err_set(err, CTNG_ERANGE, "failure observed in a future period %llu",
		                  (unsigned long long)obs->period);
	if (rc)
		goto out;
	struct obs_rec *o = obs_find(sm, obs->family, obs->entity, obs->period);
	if (!o) {
		if (sm->n_obs == sm->cap_obs) {
			size_t nc = sm->cap_obs ? 2 * sm->cap_obs : 16;
			struct obs_rec *v = realloc(sm->obs, nc * sizeof(*v));
			if (!v) {
				rc = nomem(err);
				goto out;
			}
			sm->obs = v;
			sm->cap_obs = nc;
		}
		o = &sm->obs[sm->n_obs++];
		memset(o, 0, sizeof(*o));
		o->family = obs->family;
		strcpy(o->entity, obs->entity);
		o->period = obs->period;
	}
	rc = CTNG_GOSSIPER_DUPLICATE;
	if (obs->result == CTNG_OBS_FAILED && data) {
		if (!o->data_failed)
			rc = CTNG_GOSSIPER_NEW;
		o->data_failed = true;
	} else if (obs->result == CTNG_OBS_FAILED) {
		if (!o->failed)
			rc = CTNG_GOSSIPER_NEW;
		o->failed = true;
	} else {
		size_t k = 0;
		while (k < o->n && memcmp(o->digest[k], obs->digest, 32) != 0)
			k++;
		if (k == o->n) {
			if (o->n == CTNG_GOSSIPER_MAX_INIT_PER_ID) {
				rc = CTNG_GOSSIPER_IGNORED;
				goto out;
			}
			memcpy(o->digest[o->n], obs->digest, 32);
			o->checks[o->n++] = 0;
			rc = CTNG_GOSSIPER_NEW;
		}
		if ((o->checks[k] | obs->checks) != o->checks[k])
			rc = CTNG_GOSSIPER_NEW;
		o->checks[k] |= obs->checks;
	}
	if (rc == CTNG_GOSSIPER_NEW && obs->result == CTNG_OBS_FAILED) {
		/* An ACC whose wait ended before this word from the monitor came. */
		ctng_gossip_id id = {.family = CTNG_FAM_ACC, .period = obs->period};
		strcpy(id.entity, obs->entity);
		struct idrec *r = rec_find(sm, &id);
		if (r && r->decided && !r->signed_self) {
			int d = decide(&c, r);
			if (d < 0)
				rc = d;
		}
	}
	if (rc == CTNG_GOSSIPER_NEW && obs->result == CTNG_OBS_OBTAINED && data) {
		/* An STH whose wait ended before its monitor held the data. */
		ctng_gossip_id id = {.family = CTNG_FAM_STH, .period = obs->period};
		strcpy(id.entity, obs->entity);
		struct idrec *r = rec_find(sm, &id);
		if (r && r->decided && !r->signed_self && r->n_inits == 1 && !r->conflict_known &&
		    memcmp(r->inits[0].digest, obs->digest, 32) == 0) {
			int d = decide(&c, r);
			if (d < 0)
				rc = d;
		}
	}
out:
	set_next_timer(sm, acts);
	return rc;
}

bool ctng_gossiper_sm_observed(const ctng_gossiper_sm *sm, enum ctng_family family,
                               const char *entity, uint64_t period, const uint8_t digest[32],
                               uint32_t *checks)
{
	const struct obs_rec *o = entity ? obs_find(sm, family, entity, period) : NULL;
	if (checks)
		*checks = 0;
	if (!o)
		return false;
	if (!digest)
		return o->failed;
	for (size_t k = 0; k < o->n; k++)
		if (memcmp(o->digest[k], digest, 32) == 0) {
			if (checks)
				*checks = o->checks[k];
			return true;
		}
	return false;
}

/* ------------------------------------------------- persist before sign */

void ctng_gossiper_sm_set_signing(ctng_gossiper_sm *sm, bool on)
{
	sm->no_signing = !on;
}

bool ctng_gossiper_sm_signing(const ctng_gossiper_sm *sm)
{
	return !sm->no_signing;
}

static void count_dec(ctng_gossiper_sm *sm, uint64_t period, enum ctng_type t)
{
	int ti = type_index(t);
	struct count_slot *sl = &sm->counts[period % CTNG_GOSSIPER_COUNT_HISTORY];
	if (ti >= 0 && sl->used && sl->period == period && sl->counts[ti] > 0)
		sl->counts[ti]--;
}

int ctng_gossiper_sm_forget(ctng_gossiper_sm *sm, const ctng_gossip_object *o, uint64_t now_ms,
                            ctng_err *err)
{
	enum ctng_family f = ctng_type_family(o->type);
	enum ctng_kind k = ctng_type_kind(o->type);
	if (!fam_digest(f) || (k != CTNG_KIND_FRAG && k != CTNG_KIND_FULL))
		return ctng_err_set(err, CTNG_EINVAL, "only STH/REV FRAGs and FULLs are forgotten");
	ctng_gossip_id id;
	uint8_t d[32];
	bool has_d = false;
	int rc;
	if ((rc = ctng_gossip_id_of(o, &id, err)) || (rc = obj_digest(o, d, &has_d, err)))
		return rc;
	struct idrec *r = rec_find(sm, &id);
	struct att *a = r ? att_find(r, d) : NULL;
	if (!a)
		return ctng_err_set(err, CTNG_ENOTFOUND, "not held");
	size_t hi = SIZE_MAX;
	if (k == CTNG_KIND_FRAG) {
		if (strcmp(o->signer, sm->self) != 0)
			return ctng_err_set(err, CTNG_EINVAL, "not this gossiper's FRAG");
		for (size_t j = 0; j < a->n_frags && hi == SIZE_MAX; j++)
			if (strcmp(a->frags[j].signer, sm->self) == 0) {
				hi = a->frags[j].hi;
				ctng_gossip_clear(&a->frags[j].o);
				memmove(&a->frags[j], &a->frags[j + 1],
				        (a->n_frags - j - 1) * sizeof(a->frags[0]));
				a->n_frags--;
			}
		if (hi == SIZE_MAX)
			return ctng_err_set(err, CTNG_ENOTFOUND, "no FRAG of this gossiper held");
		/* never signed: decide again (the same first content) later */
		uint64_t w = sm->net->clock.gossip_wait_ms / 4;
		r->signed_self = false;
		r->decided = false;
		r->waiting = true;
		r->deadline = now_ms + (w ? w : 1);
	} else {
		if (!a->has_full)
			return ctng_err_set(err, CTNG_ENOTFOUND, "no FULL held");
		hi = a->full_hi;
		ctng_gossip_clear(&a->full);
		a->has_full = false;
	}
	/* The slot stays (held indices are positions) but its hash is wiped and
	 * it is marked stale: the same object signed again later (BLS is
	 * deterministic, the envelope has whole seconds, so within a second it is
	 * the same bytes) must be taken as new, not as a duplicate of what was
	 * withdrawn. Never pushed. */
	memset(r->held[hi].h, 0, sizeof r->held[hi].h);
	r->held[hi].stale = true;
	r->held[hi].push_at = 0;
	memset(r->held[hi].holders, 0xff, words(sm) * sizeof(uint64_t));
	count_dec(sm, o->period, o->type);
	return 0;
}
