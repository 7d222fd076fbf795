/*
 * test_gossiper_sm.c — adversarial tests of the gossiper state machine with
 * no network: a small in-memory CTng network (2 loggers, 1 CA, 4 monitors,
 * 2-4 gossipers, dealt BLS shares) and several state machines whose actions
 * are delivered between them by hand. Honest flows must end in FULLs that
 * verify against the group key; conflicts in a CON_FULL and no STH_FULL;
 * forged, duplicated, replayed and junk objects must never produce a FULL or
 * a PoM, never count twice, and never grow memory without bound.
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

#include "ctng/bls.h"
#include "ctng/gossiper.h"
#include "ctng/meter.h"
#include "ctng/meter.h"

#define GENESIS   1700000000000ull
#define PERIOD_MS 10000ull
#define WAIT_MS   1000ull
#define MAXG      16

/* ------------------------------------------------------------- network */

struct tnet {
	ctng_network net;
	ctng_sig_key *keys[3 + 2 * MAXG]; /* private keys by entity index */
	ctng_bls_share shares[MAXG];
	uint32_t ng;
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static ctng_entity *add_entity(struct tnet *t, const char *id, ctng_role role, ctng_sig_alg alg)
{
	ctng_entity *e = &t->net.entities[t->net.n_entities];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof e->id, "%s", id);
	e->role = role;
	snprintf(e->url, sizeof e->url, "http://127.0.0.1:%zu", 9000 + t->net.n_entities);
	if (alg != CTNG_SIG_NONE) {
		assert_int_equal(ctng_sig_generate(alg, &t->keys[t->net.n_entities], NULL), 0);
		e->key = t->keys[t->net.n_entities];
	}
	t->net.n_entities++;
	return e;
}

/* ng gossipers in a full mesh, threshold thr. Monitor i pairs with gossiper i. */
static void tnet_make(struct tnet *t, uint32_t ng, uint32_t thr)
{
	memset(t, 0, sizeof(*t));
	t->ng = ng;
	t->net.clock.genesis_ms = GENESIS;
	t->net.clock.period_ms = PERIOD_MS;
	t->net.clock.query_offset_ms = 500;
	t->net.clock.gossip_wait_ms = WAIT_MS;
	t->net.clock.update_offset_ms = 8000;
	t->net.threshold = thr;
	t->net.entities = calloc(3 + 2 * MAXG, sizeof(ctng_entity));
	assert_non_null(t->net.entities);
	add_entity(t, "logger1", CTNG_ROLE_LOGGER, CTNG_SIG_ECDSA_P256);
	add_entity(t, "logger2", CTNG_ROLE_LOGGER, CTNG_SIG_ECDSA_P256);
	add_entity(t, "ca1", CTNG_ROLE_CA, CTNG_SIG_ED25519);
	uint8_t com[MAXG][CTNG_BLS_PK_LEN];
	uint8_t seed[32];
	memset(seed, 0x42, sizeof seed);
	assert_int_equal(
	    ctng_bls_deal(thr, ng, seed, sizeof seed, t->net.group_pk, com, t->shares, NULL), 0);
	t->net.has_bls = true;
	for (uint32_t i = 1; i <= ng; i++) {
		char id[32];
		snprintf(id, sizeof id, "monitor%u", i);
		ctng_entity *m = add_entity(t, id, CTNG_ROLE_MONITOR, CTNG_SIG_ED25519);
		snprintf(m->gossiper, sizeof m->gossiper, "gossiper%u", i);
		/* every monitor watches every logger and CA (so ranks depend on
		 * the rotation only) */
		static char *lg[] = {"logger1", "logger2"}, *cas[] = {"ca1"};
		m->loggers = lg;
		m->n_loggers = 2;
		m->cas = cas;
		m->n_cas = 1;
	}
	for (uint32_t i = 1; i <= ng; i++) {
		char id[32];
		snprintf(id, sizeof id, "gossiper%u", i);
		ctng_entity *g = add_entity(t, id, CTNG_ROLE_GOSSIPER, CTNG_SIG_NONE);
		snprintf(g->monitor, sizeof g->monitor, "monitor%u", i);
		g->bls_id = t->shares[i - 1].id;
		g->has_bls_pk = true;
		memcpy(g->bls_pk, t->shares[i - 1].pk, CTNG_BLS_PK_LEN);
		g->peers = calloc(ng, sizeof(char *));
		for (uint32_t j = 1; j <= ng; j++) {
			if (j == i)
				continue;
			char pid[32];
			snprintf(pid, sizeof pid, "gossiper%u", j);
			g->peers[g->n_peers++] = xstrdup(pid);
		}
	}
}

static void tnet_free(struct tnet *t)
{
	for (size_t i = 0; i < t->net.n_entities; i++) {
		ctng_entity *e = &t->net.entities[i];
		for (size_t j = 0; j < e->n_peers; j++)
			free(e->peers[j]);
		free(e->peers);
		ctng_sig_key_free(t->keys[i]);
	}
	free(t->net.entities);
	ctng_wipe(t->shares, sizeof t->shares);
}

static size_t eidx(struct tnet *t, const char *id)
{
	for (size_t i = 0; i < t->net.n_entities; i++)
		if (strcmp(t->net.entities[i].id, id) == 0)
			return i;
	fail_msg("no entity %s", id);
	return 0;
}

static uint64_t pstart(uint64_t p)
{
	return GENESIS + p * PERIOD_MS;
}

static void make_sth(struct tnet *t, ctng_gossip_object *o, const char *logger, uint64_t p,
                     uint64_t size, uint8_t rootbyte, const char *key_of)
{
	ctng_sth sth = {.timestamp_ms = pstart(p) + 100, .tree_size = size};
	memset(sth.root, rootbyte, sizeof sth.root);
	ctng_err err = {0};
	int rc = ctng_sth_sign(o, logger, t->keys[eidx(t, key_of ? key_of : logger)], &sth,
	                       &t->net.clock, &err);
	if (rc)
		fail_msg("sth_sign: %s", err.msg);
}

static void make_rev(struct tnet *t, ctng_gossip_object *o, const char *ca, uint64_t p,
                     uint32_t rid)
{
	roaring_bitmap_t *d = roaring_bitmap_create();
	roaring_bitmap_add(d, rid);
	uint8_t *delta = NULL;
	size_t dl = 0;
	uint8_t crv[32];
	assert_int_equal(ctng_crv_delta_encode(d, &delta, &dl, NULL), 0);
	assert_int_equal(ctng_crv_hash(d, crv, NULL), 0);
	ctng_err err = {0};
	int rc =
	    ctng_rev_sign(o, ca, t->keys[eidx(t, ca)], p, crv, delta, dl, pstart(p) + 100, &err);
	if (rc)
		fail_msg("rev_sign: %s", err.msg);
	free(delta);
	roaring_bitmap_free(d);
}

static void make_acc(struct tnet *t, ctng_gossip_object *o, const char *mon, const char *accused,
                     uint64_t p)
{
	assert_int_equal(
	    ctng_acc_sign(o, mon, t->keys[eidx(t, mon)], accused, p, pstart(p) + 600, NULL), 0);
}

/* Monitor `mon`'s signed word that it failed to get `entity`'s object of p. */
static void make_failed(struct tnet *t, ctng_observation *o, const char *mon, const char *entity,
                        uint64_t p)
{
	enum ctng_family f = strncmp(entity, "logger", 6) == 0 ? CTNG_FAM_STH : CTNG_FAM_REV;
	assert_int_equal(ctng_obs_sign(o, mon, t->keys[eidx(t, mon)], f, entity, p,
	                               CTNG_OBS_FAILED, NULL, 0, NULL),
	                 0);
}

/* ---------------------------------------------------------- simulation */

struct msg {
	ctng_gossip_object o;
	int to; /* gossiper index */
	char from[CTNG_ID_MAX + 1];
};

struct sim {
	struct tnet *t;
	ctng_gossiper_sm *sm[MAXG];
	ctng_gossiper_actions acts[MAXG];
	struct msg *q;
	size_t nq, capq;
	/* what each gossiper sent its monitor, and stored */
	ctng_gossip_object mon[MAXG][256];
	size_t n_mon[MAXG];
	size_t n_store[MAXG];
	size_t signed_acc[MAXG]; /* ACC_FRAGs gossiper i signed (stored with its name) */
	bool down[MAXG]; /* a down gossiper receives nothing */
	int64_t skew[MAXG]; /* gossiper i's clock reads now + skew[i] */
	bool tolerate;      /* pump: a gossiper may refuse what another sent */
	size_t pulls;       /* PULL requests answered */
	size_t refused;     /* how many it did */
	/* objects sent from one gossiper to another: by (from, to) and by kind */
	size_t pair[MAXG][MAXG];
	size_t kind[4];
	uint64_t now;
	/* Data availability (docs/gossiper.md §Data availability): unless a
	 * test sets no_data, every monitor's mirror holds the entries of every
	 * STH it has (from its logger, or handed by its gossiper) at once. */
	bool no_data;
	/* pushes of a FULL to gossiper i are lost (what a lie in X-CTng-From
	 * can do); pulls still work */
	bool lose_full[MAXG];
	bool no_data_at[MAXG]; /* gossiper i's monitor never confirms data */
};

static void sim_init(struct sim *s, struct tnet *t, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->now = now;
	for (uint32_t i = 0; i < t->ng; i++) {
		char id[32];
		snprintf(id, sizeof id, "gossiper%u", i + 1);
		ctng_err err = {0};
		int rc = ctng_gossiper_sm_new(&t->net, id, t->shares[i].sk, now, &s->sm[i], &err);
		if (rc)
			fail_msg("sm_new: %s", err.msg);
	}
}

static void sim_free(struct sim *s)
{
	for (uint32_t i = 0; i < s->t->ng; i++) {
		ctng_gossiper_sm_free(s->sm[i]);
		ctng_gossiper_actions_free(&s->acts[i]);
		for (size_t j = 0; j < s->n_mon[i]; j++)
			ctng_gossip_clear(&s->mon[i][j]);
	}
	for (size_t i = 0; i < s->nq; i++)
		ctng_gossip_clear(&s->q[i].o);
	free(s->q);
}

static void enqueue(struct sim *s, const ctng_gossip_object *o, int to, const char *from)
{
	if (s->nq == s->capq) {
		s->capq = s->capq ? s->capq * 2 : 64;
		s->q = realloc(s->q, s->capq * sizeof(*s->q));
		assert_non_null(s->q);
	}
	struct msg *m = &s->q[s->nq++];
	memset(m, 0, sizeof(*m));
	assert_int_equal(ctng_gossip_copy(&m->o, o, NULL), 0);
	m->to = to;
	snprintf(m->from, sizeof m->from, "%s", from);
}

/* Drops every queued message. */
static void drain(struct sim *s)
{
	for (size_t k = 0; k < s->nq; k++)
		ctng_gossip_clear(&s->q[k].o);
	s->nq = 0;
}

struct pull_collect {
	struct sim *s;
	const ctng_gossip_id *id;
	int to;
	char from[CTNG_ID_MAX + 1];
};

static void enqueue(struct sim *s, const ctng_gossip_object *o, int to, const char *from);

static void pull_one(const ctng_gossip_object *o, void *arg)
{
	struct pull_collect *c = arg;
	ctng_gossip_id id;
	if (ctng_gossip_id_of(o, &id, NULL) == 0 && ctng_gossip_id_equal(&id, c->id))
		enqueue(c->s, o, c->to, c->from);
}

static void data_held(struct sim *s, int i, const ctng_gossip_object *o);

/* Turns the actions of gossiper i into messages. */
static void route(struct sim *s, int i)
{
	ctng_gossiper_actions *a = &s->acts[i];
	ctng_gossip_object mirrored[8]; /* STHs handed to the monitor: it mirrors them */
	size_t n_mirrored = 0;
	char self[32];
	snprintf(self, sizeof self, "gossiper%d", i + 1);
	for (size_t k = 0; k < a->n; k++) {
		ctng_gossiper_action *x = &a->v[k];
		switch (x->kind) {
		case CTNG_GACT_SEND_PEERS: {
			const ctng_entity *me = &s->t->net.entities[eidx(s->t, self)];
			for (size_t k = 0; k < me->n_peers; k++) {
				unsigned j = 0;
				assert_int_equal(sscanf(me->peers[k], "gossiper%u", &j), 1);
				assert_int_not_equal((int)j - 1, i);
				if (ctng_gossiper_action_to(x, k) &&
				    !(s->lose_full[j - 1] && ctng_type_kind(x->obj.type) == CTNG_KIND_FULL)) {
					enqueue(s, &x->obj, (int)j - 1, self);
					s->pair[i][j - 1]++;
					s->kind[ctng_type_kind(x->obj.type)]++;
				}
			}
			break;
		}
		case CTNG_GACT_SEND_GOSSIPER: {
			unsigned j = 0;
			assert_int_equal(sscanf(x->dest, "gossiper%u", &j), 1);
			assert_int_not_equal((int)j - 1, i);
			enqueue(s, &x->obj, (int)j - 1, self);
			s->pair[i][j - 1]++;
			s->kind[ctng_type_kind(x->obj.type)]++;
			break;
		}
		case CTNG_GACT_SEND_MONITOR:
			assert_true(s->n_mon[i] < 256);
			assert_int_equal(ctng_gossip_copy(&s->mon[i][s->n_mon[i]++], &x->obj, NULL),
			                 0);
			if (x->obj.type == CTNG_STH && n_mirrored < 8) {
				memset(&mirrored[n_mirrored], 0, sizeof mirrored[0]);
				assert_int_equal(ctng_gossip_copy(&mirrored[n_mirrored++], &x->obj, NULL),
				                 0);
			}
			break;
		case CTNG_GACT_STORE:
			s->n_store[i]++;
			if (x->obj.type == CTNG_ACC_FRAG && !strcmp(x->obj.signer, self))
				s->signed_acc[i]++;
			break;
		case CTNG_GACT_PULL: {
			/* GET /ctng/v1/objects of the id from each peer asked */
			const ctng_entity *me = &s->t->net.entities[eidx(s->t, self)];
			for (size_t k = 0; k < me->n_peers; k++) {
				unsigned j = 0;
				if (!ctng_gossiper_action_to(x, k) ||
				    sscanf(me->peers[k], "gossiper%u", &j) != 1 || s->down[j - 1])
					continue;
				struct pull_collect c = {s, &x->id, i, ""};
				snprintf(c.from, sizeof c.from, "%s", me->peers[k]);
				ctng_gossiper_sm_each(s->sm[j - 1], x->id.period, pull_one, &c);
				s->pulls++;
			}
			break;
		}
		default:
			fail_msg("unknown action");
		}
	}
	ctng_gossiper_actions_reset(a);
	for (size_t k = 0; k < n_mirrored; k++) {
		data_held(s, i, &mirrored[k]); /* the monitor's mirror answers */
		ctng_gossip_clear(&mirrored[k]);
	}
}

/* Gossiper i's clock. */
static uint64_t lnow(const struct sim *s, int i)
{
	return (uint64_t)((int64_t)s->now + s->skew[i]);
}

/* Monitor i+1's signed word that it holds the tree of the STH `sth`. */
static void make_held(struct tnet *t, ctng_observation *o, int i, const ctng_gossip_object *sth)
{
	char mon[32];
	snprintf(mon, sizeof mon, "monitor%d", i + 1);
	uint8_t d[32];
	assert_int_equal(ctng_gossip_content_digest(sth, d, NULL), 0);
	assert_int_equal(ctng_obs_sign(o, mon, t->keys[eidx(t, mon)], CTNG_FAM_STH, sth->signer,
	                               sth->period, CTNG_OBS_OBTAINED, d, CTNG_OBS_CHECK_DATA, NULL),
	                 0);
}

/* The mirror of gossiper i's monitor holds this STH's tree (default): the
 * monitor had it from its logger (deliver from "monitorN") or from its
 * gossiper (SEND_MONITOR), and its mirror holds the data at once. */
static void data_held(struct sim *s, int i, const ctng_gossip_object *o)
{
	if (s->no_data || s->no_data_at[i] || o->type != CTNG_STH)
		return;
	ctng_observation obs;
	make_held(s->t, &obs, i, o);
	ctng_err err = {0};
	ctng_gossiper_sm_on_observation(s->sm[i], &obs, (uint64_t)((int64_t)s->now + s->skew[i]),
	                                &s->acts[i], &err);
	route(s, i);
}

/* Delivers one object to gossiper i as if POSTed; returns the SM result. */
static int deliver(struct sim *s, int i, const ctng_gossip_object *o, const char *from)
{
	ctng_err err = {0};
	if (from && strncmp(from, "monitor", 7) == 0)
		data_held(s, i, o);
	int rc = ctng_gossiper_sm_on_object(s->sm[i], o, from, lnow(s, i), &s->acts[i], &err);
	route(s, i);
	return rc;
}

/* Delivers an observation from gossiper i's monitor; returns the SM result. */
static int observe(struct sim *s, int i, const ctng_observation *o)
{
	ctng_err err = {0};
	int rc = ctng_gossiper_sm_on_observation(s->sm[i], o, lnow(s, i), &s->acts[i], &err);
	route(s, i);
	return rc;
}

/* Delivers every queued message (FIFO) until the queue is empty. Every
 * gossiped object must be accepted (>= 0): honest gossipers never send
 * anything invalid. */
static void pump(struct sim *s)
{
	for (size_t k = 0; k < s->nq; k++) {
		/* move the message out: delivering may grow (realloc) the queue */
		struct msg m = s->q[k];
		memset(&s->q[k].o, 0, sizeof(s->q[k].o));
		if (!s->down[m.to]) {
			ctng_err err = {0};
			int rc = ctng_gossiper_sm_on_object(s->sm[m.to], &m.o, m.from, lnow(s, m.to),
			                                    &s->acts[m.to], &err);
			if (rc < 0 && s->tolerate)
				s->refused++;
			else if (rc < 0)
				fail_msg("gossiper%d rejected %s from %s: %s", m.to + 1,
				         ctng_type_name(m.o.type), m.from, err.msg);
			route(s, m.to);
		}
		ctng_gossip_clear(&m.o);
	}
	s->nq = 0;
}

/* Advances the clock by ms, firing timers, pumping after each. */
static void advance(struct sim *s, uint64_t ms)
{
	uint64_t end = s->now + ms;
	for (;;) {
		uint64_t next = 0;
		for (uint32_t i = 0; i < s->t->ng; i++) {
			uint64_t d = s->acts[i].next_timer_ms; /* on gossiper i's clock */
			if (d)
				d = (uint64_t)((int64_t)d - s->skew[i]);
			if (d && (!next || d < next))
				next = d;
		}
		if (!next || next > end)
			break;
		s->now = next > s->now ? next : s->now;
		for (uint32_t i = 0; i < s->t->ng; i++) {
			if (s->acts[i].next_timer_ms && s->acts[i].next_timer_ms <= lnow(s, (int)i)) {
				assert_int_equal(ctng_gossiper_sm_on_timer(s->sm[i], lnow(s, (int)i),
				                                           &s->acts[i], NULL),
				                 0);
				route(s, (int)i);
			}
		}
		pump(s);
	}
	s->now = end;
}

static uint64_t count(struct sim *s, int i, uint64_t p, enum ctng_type t)
{
	uint64_t c[CTNG_TYPE_COUNT];
	ctng_gossiper_sm_counts(s->sm[i], p, c);
	for (int k = 0; k < CTNG_TYPE_COUNT; k++)
		if (ctng_all_types[k] == t)
			return c[k];
	return 0;
}

static size_t mon_count(struct sim *s, int i, enum ctng_type t)
{
	size_t n = 0;
	for (size_t k = 0; k < s->n_mon[i]; k++)
		n += s->mon[i][k].type == t;
	return n;
}

/* Every FULL a monitor got must verify against the group key. */
static void check_fulls_verify(struct sim *s)
{
	for (uint32_t i = 0; i < s->t->ng; i++)
		for (size_t k = 0; k < s->n_mon[i]; k++) {
			ctng_gossip_object *o = &s->mon[i][k];
			if (ctng_type_kind(o->type) != CTNG_KIND_FULL)
				continue;
			ctng_buf msg = {0};
			uint8_t sig[48];
			assert_int_equal(ctng_gossip_bls_sig(o, sig, NULL), 0);
			assert_int_equal(ctng_gossip_attest_bytes(o, &msg, NULL), 0);
			assert_int_equal(
			    ctng_bls_verify(s->t->net.group_pk, msg.data, msg.len, sig, NULL, NULL),
			    0);
			assert_true(o->n_signers >= s->t->net.threshold);
			ctng_buf_free(&msg);
		}
}

/* Index of the gossiper that aggregates the FRAGs of o's id. */
static int agg_of(struct sim *s, const ctng_gossip_object *o)
{
	ctng_gossip_id id;
	assert_int_equal(ctng_gossip_id_of(o, &id, NULL), 0);
	unsigned j = 0;
	assert_int_equal(sscanf(ctng_gossiper_sm_aggregator(s->sm[0], &id), "gossiper%u", &j), 1);
	for (uint32_t i = 1; i < s->t->ng; i++) /* the same on every gossiper */
		assert_string_equal(ctng_gossiper_sm_aggregator(s->sm[i], &id),
		                    ctng_gossiper_sm_aggregator(s->sm[0], &id));
	return (int)j - 1;
}

/* --------------------------------------------------------------- tests */

static void test_honest_sth_rev_acc(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, rev = {0}, acc1 = {0}, acc3 = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	make_rev(&t, &rev, "ca1", p, 7);
	make_acc(&t, &acc1, "monitor1", "logger2", p);
	make_acc(&t, &acc3, "monitor3", "logger2", p);
	/* monitors 1 and 3 pull the same STH and REV; both accuse logger2 when
	 * the query window closes (here: all at the query deadline) */
	s.now = ctng_clock_query_deadline(&t.net.clock, p);
	/* each monitor says, signed, what it got (before the objects) */
	for (int m = 1; m <= 3; m += 2) {
		char mon[16];
		snprintf(mon, sizeof mon, "monitor%d", m);
		uint8_t d[32];
		ctng_observation ob;
		const ctng_gossip_object *objs[2] = {&sth, &rev};
		for (int k = 0; k < 2; k++) {
			assert_int_equal(ctng_gossip_content_digest(objs[k], d, NULL), 0);
			assert_int_equal(ctng_obs_sign(&ob, mon, t.keys[eidx(&t, mon)],
			                               ctng_type_family(objs[k]->type), objs[k]->signer,
			                               p, CTNG_OBS_OBTAINED, d, 0, NULL),
			                 0);
			assert_int_equal(observe(&s, m - 1, &ob), CTNG_GOSSIPER_NEW);
		}
	}
	assert_int_equal(deliver(&s, 0, &sth, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &sth, "monitor3"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 0, &rev, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &rev, "monitor3"), CTNG_GOSSIPER_NEW);
	ctng_observation f1, f3;
	make_failed(&t, &f1, "monitor1", "logger2", p);
	make_failed(&t, &f3, "monitor3", "logger2", p);
	/* the accusers' monitors tell their own gossipers */
	assert_int_equal(observe(&s, 0, &f1), CTNG_GOSSIPER_NEW);
	assert_int_equal(observe(&s, 2, &f3), CTNG_GOSSIPER_NEW);
	assert_int_equal(observe(&s, 2, &f3), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(deliver(&s, 0, &acc1, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &acc3, "monitor3"), CTNG_GOSSIPER_NEW);
	/* INITs are pushed within gossip_wait/4; nothing is signed before gossip_wait */
	advance(&s, WAIT_MS / 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH), 1);
		assert_int_equal(count(&s, i, p, CTNG_ACC), 2);
		assert_int_equal(count(&s, i, p, CTNG_STH_FRAG), 0);
		assert_int_not_equal(s.acts[i].next_timer_ms, 0);
	}
	advance(&s, 2 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
		assert_int_equal(count(&s, i, p, CTNG_REV_FULL), 1);
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 1);
		/* only the gossipers whose own monitors failed signed the ACC */
		assert_true(count(&s, i, p, CTNG_ACC_FRAG) <= 2);
		assert_int_equal(count(&s, i, p, CTNG_CON), 0);
		assert_int_equal(count(&s, i, p, CTNG_CON_FULL), 0);
		/* a gossiper counts its own FRAG; the aggregator those it combined */
		assert_true(count(&s, i, p, CTNG_STH_FRAG) <= 4);
		/* the monitor gets the STH/REV it did not send, and every FULL */
		assert_int_equal(mon_count(&s, i, CTNG_STH_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_REV_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_ACC_FULL), 1);
		/* not back to the monitors that said they have it */
		assert_int_equal(mon_count(&s, i, CTNG_STH), (i == 0 || i == 2) ? 0 : 1);
		assert_int_equal(mon_count(&s, i, CTNG_REV), (i == 0 || i == 2) ? 0 : 1);
		assert_false(ctng_gossiper_sm_convicted(s.sm[i], "logger1"));
		assert_int_equal(s.acts[i].next_timer_ms, 0);
	}
	check_fulls_verify(&s);
	uint64_t frags = 0;
	for (int i = 0; i < 4; i++)
		frags += count(&s, i, p, CTNG_STH_FRAG);
	assert_true(frags >= 2 * t.net.threshold - 1); /* t at the aggregator, own elsewhere */
	/* the STH_FULL attests exactly this STH */
	for (size_t k = 0; k < s.n_mon[1]; k++)
		if (s.mon[1][k].type == CTNG_STH_FULL)
			assert_true(ctng_gossip_attests(&s.mon[1][k], &sth));
	/* a redelivered STH is a duplicate and changes nothing */
	size_t held = ctng_gossiper_sm_held(s.sm[1]);
	assert_int_equal(deliver(&s, 1, &sth, "gossiper3"), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(ctng_gossiper_sm_held(s.sm[1]), held);
	assert_int_equal(s.nq, 0);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&rev);
	ctng_gossip_clear(&acc1);
	ctng_gossip_clear(&acc3);
	sim_free(&s);
	tnet_free(&t);
}

/* One monitor accuses logger1 while the gossipers hold logger1's signed STH
 * of that period (another monitor got it): no gossiper signs the ACC, so
 * no ACC_FULL, while the STH still gets its FULL. (Review finding F3.) */
static void test_acc_against_answering_entity(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, acc = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	make_acc(&t, &acc, "monitor3", "logger1", p);
	assert_int_equal(deliver(&s, 0, &sth, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &acc, "monitor3"), CTNG_GOSSIPER_NEW);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_ACC), 1);
		assert_int_equal(count(&s, i, p, CTNG_ACC_FRAG), 0);
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 0);
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
	}
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&acc);
	sim_free(&s);
	tnet_free(&t);
}

/* ------------------------------------- data availability (issue 11) */

/* No FRAG on an STH until the gossiper's own monitor says, signed, that it
 * holds and verified every entry of that tree: without it the STH is
 * gossiped and counted but nobody signs; the word of another monitor, or
 * about another tree, does not count; once the own monitors' words come
 * (after the wait), they sign then and the STH_FULL forms. A logger that
 * withholds its entries: ACC_FRAGs although its STH is held, because the
 * own monitors say "data failed"; a plain "failed" with the STH held still
 * signs nothing (issue 10's rule). */
static void test_no_frag_without_data(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 3, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 500);
	s.no_data = true;
	ctng_gossip_object sth = {0}, other = {0}, acc1 = {0}, acc2 = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	make_sth(&t, &other, "logger1", p, 11, 0xbb, NULL);
	assert_int_equal(deliver(&s, 0, &sth, "monitor1"), CTNG_GOSSIPER_NEW);
	ctng_observation o;
	make_held(&t, &o, 0, &other); /* another tree */
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_NEW);
	make_held(&t, &o, 1, &sth); /* monitor2's word, to gossiper1 */
	assert_int_equal(observe(&s, 0, &o) < 0, 1);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH), 1);
		assert_int_equal(count(&s, i, p, CTNG_STH_FRAG), 0);
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 0);
	}
	/* the mirrors finish: their gossipers sign at once */
	make_held(&t, &o, 0, &sth);
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_NEW);
	pump(&s);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FRAG), 1);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 0);
	make_held(&t, &o, 1, &sth);
	assert_int_equal(observe(&s, 1, &o), CTNG_GOSSIPER_NEW);
	pump(&s);
	advance(&s, WAIT_MS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
	check_fulls_verify(&s);

	/* logger2 answers with an STH but withholds its entries. */
	ctng_gossip_object sth2 = {0};
	make_sth(&t, &sth2, "logger2", p, 20, 0xcc, NULL);
	s.now = ctng_clock_query_deadline(&t.net.clock, p) + 100;
	assert_int_equal(deliver(&s, 0, &sth2, "monitor1"), CTNG_GOSSIPER_NEW);
	pump(&s);
	make_acc(&t, &acc1, "monitor1", "logger2", p);
	make_acc(&t, &acc2, "monitor2", "logger2", p);
	/* gossiper 1's monitor: "data failed"; gossiper 2's: a plain "failed" */
	assert_int_equal(ctng_obs_sign(&o, "monitor1", t.keys[eidx(&t, "monitor1")], CTNG_FAM_STH,
	                               "logger2", p, CTNG_OBS_FAILED, NULL, CTNG_OBS_CHECK_DATA,
	                               NULL),
	                 0);
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_NEW);
	ctng_observation f2;
	make_failed(&t, &f2, "monitor2", "logger2", p);
	assert_int_equal(observe(&s, 1, &f2), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 0, &acc1, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 1, &acc2, "monitor2"), CTNG_GOSSIPER_NEW);
	advance(&s, 3 * WAIT_MS);
	assert_int_equal(count(&s, 0, p, CTNG_ACC_FRAG), 1); /* gossiper 1 signed */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 0); /* one is not t */
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1); /* logger1's only */
	}
	/* gossiper 2's monitor then reports the withheld data too: ACC_FULL */
	assert_int_equal(ctng_obs_sign(&o, "monitor2", t.keys[eidx(&t, "monitor2")], CTNG_FAM_STH,
	                               "logger2", p, CTNG_OBS_FAILED, NULL, CTNG_OBS_CHECK_DATA,
	                               NULL),
	                 0);
	assert_int_equal(observe(&s, 1, &o), CTNG_GOSSIPER_NEW);
	pump(&s);
	advance(&s, WAIT_MS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 1);
	/* "data" is about STHs only */
	uint8_t d[32] = {0};
	assert_int_not_equal(ctng_obs_sign(&o, "monitor1", t.keys[eidx(&t, "monitor1")],
	                                   CTNG_FAM_REV, "ca1", p, CTNG_OBS_OBTAINED, d,
	                                   CTNG_OBS_CHECK_DATA, NULL),
	                     0);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&sth2);
	ctng_gossip_clear(&other);
	ctng_gossip_clear(&acc1);
	ctng_gossip_clear(&acc2);
	sim_free(&s);
	tnet_free(&t);
}

/* ------------------------------------------------ accusations (issue 10) */

/* Issue 10, defect 1: during period p one monitor signs ACC(logger1, p+1)
 * and posts it to one gossiper. Nobody can have found logger1 silent in a
 * period that has not begun: the ACC is refused, and when p+1 comes and
 * every wait has ended there is no ACC_FULL against logger1. */
static void test_acc_for_future_period(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 2000);
	ctng_gossip_object acc = {0};
	make_acc(&t, &acc, "monitor1", "logger1", p + 1);
	s.tolerate = true;
	int rc = deliver(&s, 0, &acc, "monitor1");
	assert_int_equal(rc, CTNG_ERANGE);
	for (int i = 1; i < 4; i++)
		assert_int_equal(deliver(&s, i, &acc, "gossiper1"), CTNG_ERANGE);
	advance(&s, PERIOD_MS + 6 * WAIT_MS); /* well into p+1 */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p + 1, CTNG_ACC), 0);
		assert_int_equal(count(&s, i, p + 1, CTNG_ACC_FRAG), 0);
		assert_int_equal(count(&s, i, p + 1, CTNG_ACC_FULL), 0);
	}
	ctng_gossip_clear(&acc);
	sim_free(&s);
	tnet_free(&t);
}

/* Issue 10, defect 1 for the current period: monitor1 accuses logger1 (whose
 * STH nobody holds yet, e.g. the attacker is faster than every monitor) and
 * posts the ACC to every gossiper, with its own signed "I failed" to its own
 * gossiper. Only gossiper1 has a monitor that failed: one FRAG, no FULL. */
static void test_one_monitor_cannot_accuse(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 600);
	ctng_gossip_object acc = {0};
	ctng_observation f1;
	make_acc(&t, &acc, "monitor1", "logger1", p);
	make_failed(&t, &f1, "monitor1", "logger1", p);
	assert_int_equal(observe(&s, 0, &f1), CTNG_GOSSIPER_NEW);
	for (int i = 0; i < 4; i++)
		assert_int_equal(deliver(&s, i, &acc, i ? "gossiper1" : "monitor1"),
		                 i == 0 ? CTNG_GOSSIPER_NEW : CTNG_GOSSIPER_NEW);
	advance(&s, PERIOD_MS - 1000); /* to the end of the period */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_ACC), 1);
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 0);
		assert_true(count(&s, i, p, CTNG_ACC_FRAG) <= 1);
	}
	/* gossiper1 believed its monitor, after the query deadline */
	assert_int_equal(count(&s, 0, p, CTNG_ACC_FRAG), 1);
	/* the monitor's word to another gossiper does not count there */
	assert_int_equal(observe(&s, 1, &f1), CTNG_EINVAL);
	assert_false(ctng_gossiper_sm_observed(s.sm[1], CTNG_FAM_STH, "logger1", p, NULL, NULL));
	assert_true(ctng_gossiper_sm_observed(s.sm[0], CTNG_FAM_STH, "logger1", p, NULL, NULL));
	ctng_gossip_clear(&acc);
	sim_free(&s);
	tnet_free(&t);
}

/* t monitors really failed: their gossipers sign, but not before the query
 * deadline of the period on their own clocks, even when the ACC and the
 * observation come early (a monitor that is a little fast). An OBS that
 * comes after the wait ended still gets its FRAG. */
static void test_acc_frag_timing(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	uint64_t dl = ctng_clock_query_deadline(&t.net.clock, p);
	sim_init(&s, &t, dl - 1500);
	ctng_gossip_object a2 = {0}, a3 = {0};
	ctng_observation f2, f3;
	make_acc(&t, &a2, "monitor2", "ca1", p);
	make_acc(&t, &a3, "monitor3", "ca1", p);
	make_failed(&t, &f2, "monitor2", "ca1", p);
	make_failed(&t, &f3, "monitor3", "ca1", p);
	assert_int_equal(observe(&s, 1, &f2), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 1, &a2, "monitor2"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &a3, "monitor3"), CTNG_GOSSIPER_NEW);
	/* the wait (1000 ms) ends 500 ms before the deadline: nothing yet */
	advance(&s, 1499);
	for (int i = 0; i < 4; i++)
		assert_int_equal(count(&s, i, p, CTNG_ACC_FRAG), 0);
	advance(&s, 1);
	assert_int_equal(count(&s, 1, p, CTNG_ACC_FRAG), 1); /* gossiper2 at the deadline */
	assert_int_equal(count(&s, 2, p, CTNG_ACC_FULL), 0);
	/* gossiper3's monitor's word arrives late: it signs at once, FULL */
	advance(&s, 2000);
	assert_int_equal(observe(&s, 2, &f3), CTNG_GOSSIPER_NEW);
	pump(&s);
	advance(&s, 10);
	for (int i = 0; i < 4; i++)
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 1);
	check_fulls_verify(&s);
	ctng_gossip_clear(&a2);
	ctng_gossip_clear(&a3);
	sim_free(&s);
	tnet_free(&t);
}

/* Observations are believed only from the own monitor, with its signature,
 * about an entity it watches, in the period window, and a failure never for
 * a period that has not begun. */
static void test_observation_checks(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 4000);
	ctng_observation o;
	make_failed(&t, &o, "monitor2", "ca1", p);
	assert_int_equal(observe(&s, 0, &o), CTNG_EINVAL); /* not gossiper1's monitor */
	make_failed(&t, &o, "monitor1", "ca1", p);
	o.sig[3] ^= 1;
	assert_int_equal(observe(&s, 0, &o), CTNG_EVERIFY);
	/* signed by monitor2's key but naming monitor1 */
	assert_int_equal(ctng_obs_sign(&o, "monitor1", t.keys[eidx(&t, "monitor2")], CTNG_FAM_REV,
	                               "ca1", p, CTNG_OBS_FAILED, NULL, 0, NULL),
	                 0);
	assert_int_equal(observe(&s, 0, &o), CTNG_EVERIFY);
	make_failed(&t, &o, "monitor1", "ca1", p + 1);
	assert_int_equal(observe(&s, 0, &o), CTNG_ERANGE); /* failure in the future */
	make_failed(&t, &o, "monitor1", "ca1", p - 2);
	assert_int_equal(observe(&s, 0, &o), CTNG_ERANGE); /* outside cur-1..cur+1 */
	/* a monitor that does not watch the entity cannot have observed it */
	t.net.entities[eidx(&t, "monitor1")].n_cas = 0;
	make_failed(&t, &o, "monitor1", "ca1", p);
	assert_int_equal(observe(&s, 0, &o), CTNG_EINVAL);
	t.net.entities[eidx(&t, "monitor1")].n_cas = 1;
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_NEW);
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_DUPLICATE);
	/* obtained: the digest and the union of the checks are remembered */
	uint8_t d[32];
	memset(d, 0x5a, sizeof d);
	uint32_t ck = 99;
	assert_int_equal(ctng_obs_sign(&o, "monitor1", t.keys[eidx(&t, "monitor1")], CTNG_FAM_STH,
	                               "logger1", p, CTNG_OBS_OBTAINED, d, 0, NULL),
	                 0);
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_NEW);
	assert_true(ctng_gossiper_sm_observed(s.sm[0], CTNG_FAM_STH, "logger1", p, d, &ck));
	assert_int_equal(ck, 0);
	assert_int_equal(ctng_obs_sign(&o, "monitor1", t.keys[eidx(&t, "monitor1")], CTNG_FAM_STH,
	                               "logger1", p, CTNG_OBS_OBTAINED, d,
	                               CTNG_OBS_CHECK_CONSISTENT, NULL),
	                 0);
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_NEW);
	assert_int_equal(observe(&s, 0, &o), CTNG_GOSSIPER_DUPLICATE);
	assert_true(ctng_gossiper_sm_observed(s.sm[0], CTNG_FAM_STH, "logger1", p, d, &ck));
	assert_int_equal(ck, CTNG_OBS_CHECK_CONSISTENT);
	assert_false(ctng_gossiper_sm_observed(s.sm[0], CTNG_FAM_STH, "logger1", p, NULL, NULL));
	/* dropped with their period */
	assert_int_equal(
	    ctng_gossiper_sm_on_period(s.sm[0], p + 2, pstart(p + 2), &s.acts[0], NULL), 0);
	assert_false(ctng_gossiper_sm_observed(s.sm[0], CTNG_FAM_STH, "logger1", p, d, NULL));
	sim_free(&s);
	tnet_free(&t);
}

/* Issue 10, item 2 with injected clocks: every gossiper (and its monitor)
 * off by up to the tolerated skew B = window/2 changes nothing: logger2 is
 * silent, all four monitors fail at the query deadline of their own clocks
 * and the ACC_FULL forms everywhere before the update time; logger1's STH
 * gets its FULL. A pair off by far more only harms itself: its ACC of a
 * period the others have not begun is refused, and it cannot get the honest
 * logger1, which it failed to reach, accused. */
static void test_clock_skew(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	const ctng_clock *c = &t.net.clock;
	int64_t B = (int64_t)ctng_clock_skew_ms(c);
	assert_int_equal(B, 1625);
	uint64_t p = 5;
	for (int beyond = 0; beyond < 2; beyond++) {
		struct sim s;
		sim_init(&s, &t, pstart(p) - 6000);
		int64_t sk[4] = {B, -B, B / 2, beyond ? 6000 : 0};
		memcpy(s.skew, sk, sizeof sk);
		s.tolerate = true;
		ctng_gossip_object sth = {0}, acc[4] = {{0}};
		ctng_observation f[4];
		make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
		/* events in real-time order: (real time, what) */
		struct ev {
			int64_t at;
			int who, what; /* 0: ACC + OBS(failed) of logger2; 1: STH of logger1;
			                  2: ACC + OBS(failed) of logger1 (only the far-off pair) */
		} ev[9];
		int nev = 0;
		for (int i = 0; i < 4; i++) {
			int64_t dl = (int64_t)ctng_clock_query_deadline(c, p) - sk[i];
			/* the logger publishes at real period start: a monitor pulling
			 * before that retries until then */
			int64_t q = (int64_t)(pstart(p) + c->query_offset_ms) - sk[i];
			bool gets_sth = dl > (int64_t)pstart(p);
			ev[nev++] = (struct ev){dl, i, 0};
			if (gets_sth)
				ev[nev++] = (struct ev){q > (int64_t)pstart(p) ? q : (int64_t)pstart(p) + 10,
				                        i, 1};
			else
				ev[nev++] = (struct ev){dl, i, 2};
		}
		for (int a = 0; a < nev; a++) /* sort by time */
			for (int b = a + 1; b < nev; b++)
				if (ev[b].at < ev[a].at) {
					struct ev x = ev[a];
					ev[a] = ev[b];
					ev[b] = x;
				}
		for (int k = 0; k < nev; k++) {
			advance(&s, (uint64_t)(ev[k].at - (int64_t)s.now));
			int i = ev[k].who;
			char mon[32];
			snprintf(mon, sizeof mon, "monitor%d", i + 1);
			const char *who = ev[k].what == 2 ? "logger1" : "logger2";
			if (ev[k].what == 1) {
				deliver(&s, i, &sth, mon);
				pump(&s);
				continue;
			}
			ctng_gossip_clear(&acc[i]);
			assert_int_equal(ctng_acc_sign(&acc[i], mon, t.keys[eidx(&t, mon)], who, p,
			                               lnow(&s, i), NULL),
			                 0);
			make_failed(&t, &f[i], mon, who, p);
			assert_true(observe(&s, i, &f[i]) >= 0);
			assert_true(deliver(&s, i, &acc[i], mon) >= 0);
			pump(&s);
		}
		/* the update time of p on an honest clock, minus the skew */
		advance(&s, pstart(p) + c->update_offset_ms - (uint64_t)B - s.now);
		for (int i = 0; i < 4; i++) {
			/* one ACC_FULL: logger2's; none against logger1 */
			assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 1);
			if (beyond && i == 3)
				continue; /* the far-off pair's own counts are its problem */
			assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
			assert_int_equal(count(&s, i, p, CTNG_STH), 1);
			assert_int_equal(count(&s, i, p, CTNG_ACC), beyond ? 3 : 4);
		}
		assert_int_equal(s.refused > 0, beyond);
		check_fulls_verify(&s);
		for (int i = 0; i < 4; i++)
			ctng_gossip_clear(&acc[i]);
		ctng_gossip_clear(&sth);
		drain(&s);
		sim_free(&s);
	}
	tnet_free(&t);
}

/* Issue 10, defect 3: an outsider posts logger1's public STH to gossiper1
 * "from gossiper3" and to gossiper3 "from gossiper1", before any monitor:
 * each presumes the other (and its peers) holds it and pushes it to nobody.
 * The lie costs a pull, not the object: gossipers 2 and 4 see the FRAGs of
 * 1 and 3, which prove those hold an STH they lack, pull it, count it, and
 * hand it to their monitors. */
static void test_sender_header_lie(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 300);
	ctng_gossip_object sth = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	assert_int_equal(deliver(&s, 0, &sth, "gossiper3"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &sth, "gossiper1"), CTNG_GOSSIPER_NEW);
	pump(&s);
	advance(&s, 4 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH), 1);
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
		/* every monitor gets it: none said it had it */
		assert_int_equal(mon_count(&s, i, CTNG_STH), 1);
	}
	assert_true(s.pulls >= 2);
	check_fulls_verify(&s);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

/* A FULL that never reaches a gossiper by push (a lie in X-CTng-From made
 * its peers presume it has it) while that gossiper does not sign (its
 * monitor has not confirmed the data): half a wait after its decision it
 * pulls the id from one peer and gets the FULL. A signer gets it by its
 * fallback instead (test_aggregator_down_falls_back, stragglers). */
static void test_full_header_lie(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 300);
	/* a period whose aggregator for logger1 is not gossiper4 */
	ctng_gossip_id id = {.family = CTNG_FAM_STH, .period = p};
	strcpy(id.entity, "logger1");
	while (strcmp(ctng_gossiper_sm_aggregator(s.sm[0], &id), "gossiper4") == 0)
		id.period = ++p;
	sim_free(&s);
	sim_init(&s, &t, pstart(p) + 300);
	ctng_gossip_object sth = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	s.lose_full[3] = true;
	s.no_data_at[3] = true;
	for (int i = 0; i < 3; i++) {
		char mon[32];
		snprintf(mon, sizeof mon, "monitor%d", i + 1);
		assert_int_equal(deliver(&s, i, &sth, mon), CTNG_GOSSIPER_NEW);
	}
	pump(&s);
	advance(&s, WAIT_MS + WAIT_MS / 4);
	/* the others hold the FULL; gossiper4 decided (no data: no FRAG) */
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 1);
	assert_int_equal(count(&s, 3, p, CTNG_STH), 1);
	assert_int_equal(count(&s, 3, p, CTNG_STH_FRAG), 0);
	assert_int_equal(count(&s, 3, p, CTNG_STH_FULL), 0);
	assert_int_equal(s.pulls, 0);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 4; i++)
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
	assert_int_equal(mon_count(&s, 3, CTNG_STH_FULL), 1);
	assert_int_equal(s.pulls, 1); /* one peer asked, once */
	advance(&s, 4 * WAIT_MS);
	assert_int_equal(s.pulls, 1);
	check_fulls_verify(&s);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

/* Issue 10, defect 7 (state machine side): a gossiper that cannot persist
 * signs nothing; an STH FRAG it signed but could not store is withdrawn
 * (uncounted, not served) and signed again — the same content — once
 * storage works. */
static void test_persist_before_sign(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 600);
	ctng_gossip_object sth = {0}, sth2 = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	make_sth(&t, &sth2, "logger2", p, 11, 0xbb, NULL);
	/* storage broken on gossiper1: it does not sign */
	ctng_gossiper_sm_set_signing(s.sm[0], false);
	assert_false(ctng_gossiper_sm_signing(s.sm[0]));
	assert_int_equal(deliver(&s, 0, &sth, "monitor1"), CTNG_GOSSIPER_NEW);
	advance(&s, 3 * WAIT_MS);
	/* gossiper2's FRAG only (pending at gossiper1 if it aggregates) */
	assert_int_equal(count(&s, 1, p, CTNG_STH_FRAG), 1);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 0);
	/* back: the postponed decision signs, the FULL forms */
	ctng_gossiper_sm_set_signing(s.sm[0], true);
	advance(&s, WAIT_MS);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 1);
	assert_int_equal(count(&s, 1, p, CTNG_STH_FULL), 1);
	/* gossiper1 signs logger2's STH, then the write of that FRAG fails */
	assert_int_equal(deliver(&s, 0, &sth2, "monitor1"), CTNG_GOSSIPER_NEW);
	drain(&s); /* gossiper2 never gets it from gossiper1 here */
	s.now += 2 * WAIT_MS;
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[0], s.now, &s.acts[0], NULL), 0);
	ctng_gossip_object mine = {0};
	for (size_t k = 0; k < s.acts[0].n; k++)
		if (s.acts[0].v[k].kind == CTNG_GACT_STORE &&
		    s.acts[0].v[k].obj.type == CTNG_STH_FRAG)
			assert_int_equal(ctng_gossip_copy(&mine, &s.acts[0].v[k].obj, NULL), 0);
	ctng_gossiper_actions_reset(&s.acts[0]);
	assert_int_equal(mine.type, CTNG_STH_FRAG);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FRAG), 3);
	ctng_gossiper_sm_set_signing(s.sm[0], false);
	assert_int_equal(ctng_gossiper_sm_forget(s.sm[0], &mine, s.now, NULL), 0);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FRAG), 2);
	assert_int_equal(ctng_gossiper_sm_forget(s.sm[0], &mine, s.now, NULL), CTNG_ENOTFOUND);
	/* the daemon re-arms its timer: the withdrawn id is decided again */
	s.acts[0].next_timer_ms = ctng_gossiper_sm_next_timer(s.sm[0]);
	assert_true(s.acts[0].next_timer_ms > s.now);
	/* nothing signed by gossiper1 for logger2 is served */
	ctng_gossip_id id = {.family = CTNG_FAM_STH, .period = p};
	strcpy(id.entity, "logger2");
	struct pull_collect c = {&s, &id, 1, "gossiper1"};
	ctng_gossiper_sm_each(s.sm[0], p, pull_one, &c);
	for (size_t k = 0; k < s.nq; k++)
		assert_false(s.q[k].o.type == CTNG_STH_FRAG);
	drain(&s);
	/* storage back: the same content is signed again and the FULL forms */
	ctng_gossiper_sm_set_signing(s.sm[0], true);
	assert_int_equal(deliver(&s, 1, &sth2, "monitor2"), CTNG_GOSSIPER_NEW);
	advance(&s, 3 * WAIT_MS);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 2);
	assert_int_equal(count(&s, 1, p, CTNG_STH_FULL), 2);
	check_fulls_verify(&s);
	ctng_gossip_clear(&mine);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&sth2);
	sim_free(&s);
	tnet_free(&t);
}

static void test_conflict_con_full(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 8;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object a = {0}, b = {0};
	make_sth(&t, &a, "logger1", p, 10, 0x01, NULL);
	make_sth(&t, &b, "logger1", p, 10, 0x02, NULL); /* split view */
	assert_int_equal(deliver(&s, 0, &a, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &b, "monitor3"), CTNG_GOSSIPER_NEW);
	pump(&s);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH), 2);
		assert_int_equal(count(&s, i, p, CTNG_STH_FRAG), 0);
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 0);
		assert_int_equal(count(&s, i, p, CTNG_CON), 1);
		assert_int_equal(count(&s, i, p, CTNG_CON_FULL), 1);
		assert_true(ctng_gossiper_sm_convicted(s.sm[i], "logger1"));
		assert_int_equal(ctng_gossiper_sm_n_con_full(s.sm[i]), 1);
		assert_int_equal(mon_count(&s, i, CTNG_CON_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_STH_FULL), 0);
	}
	check_fulls_verify(&s);
	/* the CON_FULL persists across periods; the convicted logger gets no FRAG */
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    ctng_gossiper_sm_on_period(s.sm[i], p + 3, pstart(p + 3), &s.acts[i], NULL), 0);
	s.now = pstart(p + 3) + 500;
	ctng_gossip_object c = {0};
	make_sth(&t, &c, "logger1", p + 3, 11, 0x03, NULL);
	assert_int_equal(deliver(&s, 0, &c, "monitor1"), CTNG_GOSSIPER_NEW);
	pump(&s);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		assert_true(ctng_gossiper_sm_convicted(s.sm[i], "logger1"));
		assert_int_equal(ctng_gossiper_sm_n_con_full(s.sm[i]), 1);
		assert_int_equal(count(&s, i, p + 3, CTNG_STH_FRAG), 0);
		assert_int_equal(count(&s, i, p + 3, CTNG_STH_FULL), 0);
	}
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&c);
	sim_free(&s);
	tnet_free(&t);
}

/* A conflict seen after the FRAG decision still yields a CON. */
static void test_late_conflict(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 3;
	sim_init(&s, &t, pstart(p) + 500);
	s.down[1] = true;
	ctng_gossip_object a = {0}, b = {0};
	make_sth(&t, &a, "logger2", p, 4, 0x11, NULL);
	make_sth(&t, &b, "logger2", p, 5, 0x12, NULL);
	assert_int_equal(deliver(&s, 0, &a, "monitor1"), CTNG_GOSSIPER_NEW);
	advance(&s, 2 * WAIT_MS);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FRAG), 1);
	assert_int_equal(deliver(&s, 0, &b, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(count(&s, 0, p, CTNG_CON), 1);
	assert_int_equal(mon_count(&s, 0, CTNG_CON), 1);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	sim_free(&s);
	tnet_free(&t);
}

/* Runs gossiper 1 alone on an STH and returns its FRAG (caller clears). */
static void frag_of(struct sim *s, int i, const ctng_gossip_object *init, ctng_gossip_object *out)
{
	ctng_gossiper_actions *a = &s->acts[i];
	char mon[32];
	snprintf(mon, sizeof mon, "monitor%d", i + 1);
	ctng_err err = {0};
	data_held(s, i, init);
	int rc = ctng_gossiper_sm_on_object(s->sm[i], init, mon, s->now, a, &err);
	assert_true(rc >= 0);
	ctng_gossiper_actions_reset(a);
	/* gossipers ranked after the first t sign a quarter wait later */
	assert_int_equal(
	    ctng_gossiper_sm_on_timer(s->sm[i], s->now + WAIT_MS + WAIT_MS / 4, a, NULL), 0);
	bool found = false;
	for (size_t k = 0; k < a->n; k++)
		if (ctng_type_kind(a->v[k].obj.type) == CTNG_KIND_FRAG && !found) {
			assert_int_equal(ctng_gossip_copy(out, &a->v[k].obj, NULL), 0);
			found = true;
		}
	assert_true(found);
	ctng_gossiper_actions_reset(a);
}

static void test_frag_before_object_and_duplicates(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 3, 2);
	struct sim s;
	uint64_t p = 2;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, f1 = {0}, f1b = {0};
	make_sth(&t, &sth, "logger1", p, 3, 0x33, NULL);
	frag_of(&s, 0, &sth, &f1);
	/* rx (not the aggregator: it checks each FRAG as it comes) gets
	 * gossiper1's FRAG before any STH: accepted, counted once */
	int rx = agg_of(&s, &sth) == 1 ? 2 : 1, other = 3 - rx;
	char rxmon[32], othg[32];
	snprintf(rxmon, sizeof rxmon, "monitor%d", rx + 1);
	snprintf(othg, sizeof othg, "gossiper%d", other + 1);
	assert_int_equal(deliver(&s, rx, &f1, "gossiper1"), CTNG_GOSSIPER_NEW);
	drain(&s);
	for (int k = 0; k < 5; k++)
		assert_int_equal(deliver(&s, rx, &f1, othg), CTNG_GOSSIPER_DUPLICATE);
	/* the same partial in a new envelope (other timestamp) does not count twice */
	assert_int_equal(ctng_gossip_copy(&f1b, &f1, NULL), 0);
	f1b.timestamp_ms += 5000;
	assert_int_equal(deliver(&s, rx, &f1b, othg), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FRAG), 1);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FULL), 0);
	assert_int_equal(s.nq, 0);
	/* now the STH: after the wait gossiper2 signs and reaches t = 2 */
	drain(&s);
	assert_int_equal(deliver(&s, rx, &sth, rxmon), CTNG_GOSSIPER_NEW);
	drain(&s);
	s.now += 2 * WAIT_MS;
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[rx], s.now, &s.acts[rx], NULL), 0);
	route(&s, rx);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FRAG), 2);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FULL), 1);
	assert_int_equal(mon_count(&s, rx, CTNG_STH_FULL), 1);
	check_fulls_verify(&s);
	/* late FRAGs after the FULL are duplicates */
	ctng_gossip_object f3 = {0};
	frag_of(&s, other, &sth, &f3);
	assert_int_equal(deliver(&s, rx, &f3, othg), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FRAG), 2);
	/* once the FULL is held a late FRAG is not even pair-checked: a bad one is a
	 * duplicate too and changes nothing */
	size_t held = ctng_gossiper_sm_held(s.sm[rx]);
	uint8_t junk[48];
	char hex[97];
	assert_int_equal(ctng_bls_hash_to_g1(junk, (const uint8_t *)"late", 4, NULL, NULL), 0);
	ctng_hex_encode(hex, junk, 48);
	assert_int_equal(ctng_gossip_set(&f3.signature[0], hex, NULL), 0);
	assert_int_equal(deliver(&s, rx, &f3, othg), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(ctng_gossiper_sm_held(s.sm[rx]), held);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FRAG), 2);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FULL), 1);
	drain(&s);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&f1);
	ctng_gossip_clear(&f1b);
	ctng_gossip_clear(&f3);
	sim_free(&s);
	tnet_free(&t);
}

static void expect_reject(struct sim *s, int i, const ctng_gossip_object *o, int code)
{
	ctng_err err = {0};
	size_t held = ctng_gossiper_sm_held(s->sm[i]);
	int rc = ctng_gossiper_sm_on_object(s->sm[i], o, "gossiper9", s->now, &s->acts[i], &err);
	if (rc != code)
		fail_msg("expected %d got %d (%s)", code, rc, err.msg);
	assert_true(err.msg[0] != '\0');
	assert_int_equal(s->acts[i].n, 0);
	assert_int_equal(ctng_gossiper_sm_held(s->sm[i]), held);
}

static void test_bad_frags(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 3, 2);
	struct sim s;
	uint64_t p = 4;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, f = {0}, x = {0};
	make_sth(&t, &sth, "logger1", p, 3, 0x44, NULL);
	frag_of(&s, 0, &sth, &f);
	/* a gossiper that is not the id's aggregator checks every FRAG as it
	 * comes (the aggregator's way is test_aggregator_pending) */
	int rx = agg_of(&s, &sth) == 1 ? 2 : 1;
	/* unknown signer */
	assert_int_equal(ctng_gossip_copy(&x, &f, NULL), 0);
	strcpy(x.signer, "gossiper9");
	expect_reject(&s, rx, &x, CTNG_EINVAL);
	/* a signer that is not a gossiper */
	strcpy(x.signer, "monitor1");
	expect_reject(&s, rx, &x, CTNG_EINVAL);
	/* gossiper1's partial claimed by gossiper3 */
	strcpy(x.signer, "gossiper3");
	expect_reject(&s, rx, &x, CTNG_EVERIFY);
	/* a valid-looking point that is not the partial: the hash of another message */
	uint8_t other[48];
	assert_int_equal(ctng_bls_hash_to_g1(other, (const uint8_t *)"x", 1, NULL, NULL), 0);
	char hex[97];
	ctng_hex_encode(hex, other, 48);
	strcpy(x.signer, "gossiper1");
	assert_int_equal(ctng_gossip_set(&x.signature[0], hex, NULL), 0);
	expect_reject(&s, rx, &x, CTNG_EVERIFY);
	/* not a point at all */
	memset(hex, 'f', 96);
	hex[96] = 0;
	assert_int_equal(ctng_gossip_set(&x.signature[0], hex, NULL), 0);
	expect_reject(&s, rx, &x, CTNG_EINVAL);
	/* the right partial for another digest (attests different content) */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_gossip_copy(&x, &f, NULL), 0);
	x.payload[1][0] = x.payload[1][0] == 'a' ? 'b' : 'a';
	expect_reject(&s, rx, &x, CTNG_EVERIFY);
	/* about an unknown entity */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_gossip_copy(&x, &f, NULL), 0);
	assert_int_equal(ctng_gossip_set(&x.payload[0], "logger7", NULL), 0);
	expect_reject(&s, rx, &x, CTNG_EINVAL);
	/* of another period (still in the window): signature no longer matches */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_gossip_copy(&x, &f, NULL), 0);
	x.period = p + 1;
	expect_reject(&s, agg_of(&s, &x) == 1 ? 2 : 1, &x, CTNG_EVERIFY);
	assert_int_equal(count(&s, rx, p, CTNG_STH_FRAG), 0);
	assert_int_equal(ctng_gossiper_sm_held(s.sm[rx]), 0);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&f);
	ctng_gossip_clear(&x);
	sim_free(&s);
	tnet_free(&t);
}

static void test_bad_fulls(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 3, 2);
	struct sim s;
	uint64_t p = 6;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, f1 = {0}, f2 = {0}, full = {0}, x = {0};
	make_sth(&t, &sth, "logger1", p, 3, 0x55, NULL);
	frag_of(&s, 0, &sth, &f1);
	frag_of(&s, 1, &sth, &f2);
	/* a genuine FULL, made by hand from the two partials */
	uint8_t p1[48], p2[48], parts[2][48], sig[48];
	assert_int_equal(ctng_gossip_bls_sig(&f1, p1, NULL), 0);
	assert_int_equal(ctng_gossip_bls_sig(&f2, p2, NULL), 0);
	memcpy(parts[0], p1, 48);
	memcpy(parts[1], p2, 48);
	uint32_t ids[2] = {t.shares[0].id, t.shares[1].id};
	assert_int_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])parts, 2, 2, NULL), 0);
	const char *names[2] = {"gossiper1", "gossiper2"};
	assert_int_equal(ctng_full_build(&full, &f1, names, 2, sig, s.now, NULL), 0);
	/* repeated ids: the same signer twice */
	assert_int_equal(ctng_gossip_copy(&x, &full, NULL), 0);
	assert_int_equal(ctng_gossip_set(&x.signers[1], "gossiper1", NULL), 0);
	expect_reject(&s, 2, &x, CTNG_EINVAL);
	/* fewer than t signers */
	ctng_gossip_clear(&x);
	const char *one[1] = {"gossiper1"};
	assert_int_equal(ctng_full_build(&x, &f1, one, 1, sig, s.now, NULL), 0);
	expect_reject(&s, 2, &x, CTNG_EVERIFY);
	/* an unknown signer listed */
	ctng_gossip_clear(&x);
	const char *unk[2] = {"gossiper1", "gossiper8"};
	assert_int_equal(ctng_full_build(&x, &f1, unk, 2, sig, s.now, NULL), 0);
	expect_reject(&s, 2, &x, CTNG_EINVAL);
	/* bad signature: one partial passed off as the group signature */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_full_build(&x, &f1, names, 2, p1, s.now, NULL), 0);
	expect_reject(&s, 2, &x, CTNG_EVERIFY);
	/* bad signature: the sum of partials instead of the interpolation */
	uint8_t agg[48];
	assert_int_equal(ctng_bls_aggregate(agg, (const uint8_t(*)[48])parts, 2, NULL), 0);
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_full_build(&x, &f1, names, 2, agg, s.now, NULL), 0);
	expect_reject(&s, 2, &x, CTNG_EVERIFY);
	/* the genuine one is accepted once, then a duplicate; a different signer
	 * list with the same signature is still the same FULL */
	assert_int_equal(deliver(&s, 2, &full, "gossiper1"), CTNG_GOSSIPER_NEW);
	ctng_gossip_clear(&x);
	const char *other[2] = {"gossiper1", "gossiper3"};
	assert_int_equal(ctng_full_build(&x, &f1, other, 2, sig, s.now, NULL), 0);
	assert_int_equal(deliver(&s, 2, &x, "gossiper1"), CTNG_GOSSIPER_DUPLICATE);
	/* after the genuine one, a FULL with another signature is still checked */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_full_build(&x, &f1, names, 2, agg, s.now, NULL), 0);
	expect_reject(&s, 2, &x, CTNG_EVERIFY);
	assert_int_equal(count(&s, 2, p, CTNG_STH_FULL), 1);
	assert_int_equal(mon_count(&s, 2, CTNG_STH_FULL), 1);
	drain(&s);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&f1);
	ctng_gossip_clear(&f2);
	ctng_gossip_clear(&full);
	ctng_gossip_clear(&x);
	sim_free(&s);
	tnet_free(&t);
}

static void test_forged_cons(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 7;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object a = {0}, forged = {0}, other = {0}, con = {0}, x = {0};
	make_sth(&t, &a, "logger1", p, 3, 0x66, NULL);
	/* "logger1"'s second STH is really signed by logger2 */
	make_sth(&t, &forged, "logger1", p, 3, 0x67, "logger2");
	assert_int_equal(ctng_con_build(&con, &a, &forged, s.now, NULL), 0);
	expect_reject(&s, 0, &con, CTNG_EVERIFY);
	/* the forged STH alone is rejected too */
	expect_reject(&s, 0, &forged, CTNG_EVERIFY);
	/* unrelated objects (two loggers) do not make a CON */
	make_sth(&t, &other, "logger2", p, 3, 0x68, NULL);
	assert_int_not_equal(ctng_con_build(&x, &a, &other, s.now, NULL), 0);
	/* a CON whose convicted entity is swapped */
	ctng_gossip_clear(&con);
	ctng_gossip_object b = {0};
	make_sth(&t, &b, "logger1", p, 4, 0x69, NULL);
	assert_int_equal(ctng_con_build(&con, &a, &b, s.now, NULL), 0);
	assert_int_equal(ctng_gossip_copy(&x, &con, NULL), 0);
	assert_int_equal(ctng_gossip_set(&x.payload[0], "logger2", NULL), 0);
	expect_reject(&s, 0, &x, CTNG_EINVAL);
	/* the same object twice is no conflict */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_gossip_copy(&x, &con, NULL), 0);
	assert_int_equal(ctng_gossip_set(&x.payload[2], x.payload[1], NULL), 0);
	expect_reject(&s, 0, &x, CTNG_EINVAL);
	/* a CON of another period than its objects */
	ctng_gossip_clear(&x);
	assert_int_equal(ctng_gossip_copy(&x, &con, NULL), 0);
	x.period = p + 1;
	expect_reject(&s, 0, &x, CTNG_EINVAL);
	/* a CON_FULL signed by only one gossiper's share */
	ctng_gossip_clear(&x);
	assert_int_equal(deliver(&s, 0, &con, "gossiper2"), CTNG_GOSSIPER_NEW);
	drain(&s);
	ctng_gossip_object cf = {0};
	frag_of(&s, 1, &con, &cf);
	uint8_t p1[48];
	assert_int_equal(ctng_gossip_bls_sig(&cf, p1, NULL), 0);
	const char *names[2] = {"gossiper1", "gossiper2"};
	assert_int_equal(ctng_full_build(&x, &cf, names, 2, p1, s.now, NULL), 0);
	expect_reject(&s, 0, &x, CTNG_EVERIFY);
	/* the genuine CON was accepted, but no PoM (CON_FULL) exists */
	assert_false(ctng_gossiper_sm_convicted(s.sm[0], "logger1"));
	assert_int_equal(count(&s, 0, p, CTNG_CON_FULL), 0);
	assert_int_equal(count(&s, 0, p, CTNG_CON), 1);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&forged);
	ctng_gossip_clear(&other);
	ctng_gossip_clear(&con);
	ctng_gossip_clear(&cf);
	ctng_gossip_clear(&x);
	sim_free(&s);
	tnet_free(&t);
}

static void test_replay_and_window(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 10;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object old = {0}, future = {0}, cur = {0}, acc = {0};
	make_sth(&t, &old, "logger1", p - 2, 3, 0x70, NULL);
	make_sth(&t, &future, "logger1", p + 2, 3, 0x71, NULL);
	expect_reject(&s, 0, &old, CTNG_ERANGE);
	expect_reject(&s, 0, &future, CTNG_ERANGE);
	make_sth(&t, &cur, "logger1", p, 3, 0x72, NULL);
	make_acc(&t, &acc, "monitor2", "ca1", p);
	assert_int_equal(deliver(&s, 0, &cur, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 0, &acc, "gossiper2"), CTNG_GOSSIPER_NEW);
	s.now += 2 * WAIT_MS;
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[0], s.now, &s.acts[0], NULL), 0);
	route(&s, 0);
	assert_true(ctng_gossiper_sm_held(s.sm[0]) >= 3); /* STH, its FRAG, the ACC */
	/* two periods later everything of p is gone, and p's objects are replays */
	assert_int_equal(
	    ctng_gossiper_sm_on_period(s.sm[0], p + 2, pstart(p + 2), &s.acts[0], NULL), 0);
	s.now = pstart(p + 2) + 10;
	assert_int_equal(ctng_gossiper_sm_held(s.sm[0]), 0);
	assert_int_equal(s.acts[0].next_timer_ms, 0);
	expect_reject(&s, 0, &cur, CTNG_ERANGE);
	expect_reject(&s, 0, &acc, CTNG_ERANGE);
	/* counts of p remain readable */
	assert_int_equal(count(&s, 0, p, CTNG_STH), 1);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FRAG), 1);
	drain(&s);
	ctng_gossip_clear(&old);
	ctng_gossip_clear(&future);
	ctng_gossip_clear(&cur);
	ctng_gossip_clear(&acc);
	sim_free(&s);
	tnet_free(&t);
}

static void test_junk_flood_bounded(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 12;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, f = {0}, x = {0};
	make_sth(&t, &sth, "logger1", p, 3, 0x80, NULL);
	/* the junk goes to the gossiper that checks FRAGs as they come (not the
	 * id's aggregator), the other one's FRAG its template */
	int rx = agg_of(&s, &sth) == 1 ? 0 : 1;
	frag_of(&s, 1 - rx, &sth, &f);
	const char *from = rx == 1 ? "gossiper1" : "gossiper2";
	uint32_t rnd = 12345;
	for (int k = 0; k < 300; k++) {
		ctng_gossip_clear(&x);
		assert_int_equal(ctng_gossip_copy(&x, &f, NULL), 0);
		rnd = rnd * 1103515245u + 12345u;
		char hex[97];
		uint8_t junk[48];
		for (int j = 0; j < 48; j++)
			junk[j] = (uint8_t)(rnd >> (j % 24));
		switch (k % 4) {
		case 0: /* random signature bytes */
			ctng_hex_encode(hex, junk, 48);
			assert_int_equal(ctng_gossip_set(&x.signature[0], hex, NULL), 0);
			break;
		case 1: /* random digests */
			ctng_hex_encode(hex, junk, 32);
			assert_int_equal(ctng_gossip_set(&x.payload[1], hex, NULL), 0);
			break;
		case 2: /* periods all over the place */
			x.period = p + 2 + rnd % 1000; /* outside the window */
			break;
		case 3: /* STHs with a broken signature */
			ctng_gossip_clear(&x);
			assert_int_equal(ctng_gossip_copy(&x, &sth, NULL), 0);
			ctng_hex_encode(hex, junk, 32);
			assert_int_equal(ctng_gossip_set(&x.payload[1], hex, NULL), 0);
			break;
		}
		ctng_err err = {0};
		int rc =
		    ctng_gossiper_sm_on_object(s.sm[rx], &x, from, s.now, &s.acts[rx], &err);
		if (rc >= 0)
			fail_msg("junk %d (case %d) accepted: %d", k, k % 4, rc);
		assert_true(rc < 0);
		assert_int_equal(s.acts[rx].n, 0);
		ctng_gossiper_actions_reset(&s.acts[rx]);
	}
	assert_int_equal(ctng_gossiper_sm_held(s.sm[rx]), 0);
	/* a misbehaving logger signing many valid STHs for one period: only two
	 * are kept (a proof of conflict needs two) */
	for (int k = 0; k < 20; k++) {
		ctng_gossip_clear(&x);
		make_sth(&t, &x, "logger2", p, 100 + (uint64_t)k, 0x90, NULL);
		ctng_err err = {0};
		int rc =
		    ctng_gossiper_sm_on_object(s.sm[rx], &x, rx == 1 ? "monitor2" : "monitor1", s.now,
		                                      &s.acts[rx], &err);
		assert_int_equal(rc, k < 2 ? CTNG_GOSSIPER_NEW : CTNG_GOSSIPER_IGNORED);
		ctng_gossiper_actions_reset(&s.acts[rx]);
	}
	assert_int_equal(ctng_gossiper_sm_held(s.sm[rx]), 2);
	/* many ACCs from the same monitor count once */
	for (int k = 0; k < 10; k++) {
		ctng_gossip_clear(&x);
		make_acc(&t, &x, "monitor1", "ca1", p);
		x.timestamp_ms += (uint64_t)k * 1000;
		int rc =
		    ctng_gossiper_sm_on_object(s.sm[rx], &x, from, s.now, &s.acts[rx], NULL);
		assert_int_equal(rc, k == 0 ? CTNG_GOSSIPER_NEW : CTNG_GOSSIPER_DUPLICATE);
		ctng_gossiper_actions_reset(&s.acts[rx]);
	}
	assert_int_equal(ctng_gossiper_sm_held(s.sm[rx]), 3);
	assert_int_equal(count(&s, rx, p, CTNG_ACC), 1);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&f);
	ctng_gossip_clear(&x);
	sim_free(&s);
	tnet_free(&t);
}

/* A restarted gossiper that restores its store never signs a second content. */
static void test_restore_no_resign(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 9;
	sim_init(&s, &t, pstart(p) + 500);
	s.down[1] = true;
	ctng_gossip_object a = {0}, b = {0};
	make_sth(&t, &a, "logger1", p, 3, 0xa1, NULL);
	make_sth(&t, &b, "logger1", p, 3, 0xa2, NULL);
	ctng_gossiper_actions *acts = &s.acts[0];
	data_held(&s, 0, &a);
	ctng_gossiper_actions_reset(acts);
	assert_int_equal(ctng_gossiper_sm_on_object(s.sm[0], &a, "monitor1", s.now, acts, NULL), 0);
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[0], s.now + WAIT_MS, acts, NULL), 0);
	/* keep what the daemon would have stored */
	ctng_gossip_object stored[8];
	memset(stored, 0, sizeof stored); /* ctng_gossip_copy clears its destination */
	size_t ns = 0;
	for (size_t k = 0; k < acts->n; k++)
		if (acts->v[k].kind == CTNG_GACT_STORE)
			assert_int_equal(ctng_gossip_copy(&stored[ns++], &acts->v[k].obj, NULL), 0);
	assert_int_equal(ns, 2); /* the STH and our FRAG */
	ctng_gossiper_actions_reset(acts);
	/* restart */
	ctng_gossiper_sm_free(s.sm[0]);
	s.now += WAIT_MS + 10;
	assert_int_equal(
	    ctng_gossiper_sm_new(&t.net, "gossiper1", t.shares[0].sk, s.now, &s.sm[0], NULL), 0);
	for (size_t k = 0; k < ns; k++)
		assert_int_equal(ctng_gossiper_sm_restore(s.sm[0], &stored[k], s.now, acts, NULL),
		                 CTNG_GOSSIPER_NEW);
	for (size_t k = 0; k < acts->n; k++)
		assert_int_not_equal(acts->v[k].kind, CTNG_GACT_SEND_PEERS);
	ctng_gossiper_actions_reset(acts);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FRAG), 1);
	/* after the restart the wait runs again, but no second FRAG appears */
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[0], s.now + 2 * WAIT_MS, acts, NULL), 0);
	for (size_t k = 0; k < acts->n; k++)
		assert_int_not_equal(ctng_type_kind(acts->v[k].obj.type), CTNG_KIND_FRAG);
	ctng_gossiper_actions_reset(acts);
	/* the conflicting STH now arrives: a CON, not a FRAG */
	assert_int_equal(
	    ctng_gossiper_sm_on_object(s.sm[0], &b, "monitor1", s.now + 3 * WAIT_MS, acts, NULL),
	    0);
	bool con = false;
	for (size_t k = 0; k < acts->n; k++) {
		assert_int_not_equal(acts->v[k].obj.type, CTNG_STH_FRAG);
		con = con || acts->v[k].obj.type == CTNG_CON;
	}
	assert_true(con);
	ctng_gossiper_actions_reset(acts);
	for (size_t k = 0; k < ns; k++)
		ctng_gossip_clear(&stored[k]);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	sim_free(&s);
	tnet_free(&t);
}

/* Threshold 3 of 4 with one gossiper down: still FULLs; with two down, none. */
static void test_threshold_with_failures(void **state)
{
	(void)state;
	for (int down = 1; down <= 2; down++) {
		struct tnet t;
		tnet_make(&t, 4, 3);
		struct sim s;
		uint64_t p = 20;
		sim_init(&s, &t, pstart(p) + 500);
		for (int d = 0; d < down; d++)
			s.down[3 - d] = true;
		ctng_gossip_object rev = {0};
		make_rev(&t, &rev, "ca1", p, 99);
		assert_int_equal(deliver(&s, 0, &rev, "monitor1"), CTNG_GOSSIPER_NEW);
		pump(&s);
		advance(&s, 2 * WAIT_MS);
		for (int i = 0; i < 4 - down; i++)
			assert_int_equal(count(&s, i, p, CTNG_REV_FULL), down == 1 ? 1 : 0);
		check_fulls_verify(&s);
		ctng_gossip_clear(&rev);
		sim_free(&s);
		tnet_free(&t);
	}
}

/* t colluding gossipers can sign anything, but a gossiper keeps at most as
 * many attested contents per id as there are gossipers. */
static void test_colluding_fulls_capped(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 3, 2);
	struct sim s;
	uint64_t p = 14;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, f = {0}, tmpl = {0}, full = {0};
	make_sth(&t, &sth, "logger1", p, 3, 0xc1, NULL);
	frag_of(&s, 0, &sth, &f);
	const char *names[2] = {"gossiper1", "gossiper2"};
	uint32_t ids[2] = {t.shares[0].id, t.shares[1].id};
	for (int k = 0; k < 8; k++) {
		uint8_t digest[32], parts[2][48], sig[48];
		char hex[65];
		memset(digest, 0x30 + k, sizeof digest);
		ctng_hex_encode(hex, digest, 32);
		ctng_gossip_clear(&tmpl);
		assert_int_equal(ctng_gossip_copy(&tmpl, &f, NULL), 0);
		assert_int_equal(ctng_gossip_set(&tmpl.payload[1], hex, NULL), 0);
		ctng_buf msg = {0};
		assert_int_equal(ctng_gossip_attest_bytes(&tmpl, &msg, NULL), 0);
		for (int i = 0; i < 2; i++)
			assert_int_equal(
			    ctng_bls_sign(parts[i], t.shares[i].sk, msg.data, msg.len, NULL, NULL),
			    0);
		ctng_buf_free(&msg);
		assert_int_equal(
		    ctng_bls_combine(sig, ids, (const uint8_t(*)[48])parts, 2, 2, NULL), 0);
		assert_int_equal(ctng_full_build(&full, &tmpl, names, 2, sig, s.now, NULL), 0);
		int rc = deliver(&s, 2, &full, "gossiper1");
		assert_int_equal(rc, k < 3 ? CTNG_GOSSIPER_NEW : CTNG_GOSSIPER_IGNORED);
		ctng_gossip_clear(&full);
	}
	assert_int_equal(ctng_gossiper_sm_held(s.sm[2]), 3);
	assert_int_equal(count(&s, 2, p, CTNG_STH_FULL), 3);
	drain(&s);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&f);
	ctng_gossip_clear(&tmpl);
	sim_free(&s);
	tnet_free(&t);
}

/* Gives gossiper i (1-based) the peers listed (1-based, 0-terminated). */
static void set_peers(struct tnet *t, unsigned i, const unsigned *peers)
{
	char id[32];
	snprintf(id, sizeof id, "gossiper%u", i);
	ctng_entity *g = &t->net.entities[eidx(t, id)];
	for (size_t j = 0; j < g->n_peers; j++)
		free(g->peers[j]);
	g->n_peers = 0;
	for (; *peers; peers++) {
		snprintf(id, sizeof id, "gossiper%u", *peers);
		g->peers[g->n_peers++] = xstrdup(id);
	}
}

static size_t total_pushes(struct sim *s)
{
	return s->kind[CTNG_KIND_INIT] + s->kind[CTNG_KIND_FRAG] + s->kind[CTNG_KIND_FULL];
}

/* Every monitor hands its gossiper the same STH at once: after the rank
 * delay only the first gossiper pushes it (to its 3 peers); the others heard
 * it from that one, whose peers all hold it, and skip them. The first t
 * gossipers sign; the others hold the FULL before their longer wait ends and
 * do not. No FULL is pushed: each peer is known to hold t FRAGs and combines
 * the FULL itself. */
static void test_push_suppression_full_mesh(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 6;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0};
	make_sth(&t, &sth, "logger1", p, 4, 0x5a, NULL);
	for (int i = 0; i < 4; i++) {
		char mon[32];
		snprintf(mon, sizeof mon, "monitor%d", i + 1);
		assert_int_equal(deliver(&s, i, &sth, mon), CTNG_GOSSIPER_NEW);
	}
	pump(&s);
	advance(&s, WAIT_MS / 4);
	assert_int_equal(s.kind[CTNG_KIND_INIT], 3);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH_FRAG), 0);
		for (int j = 0; j < 4; j++) /* nothing went both ways */
			assert_false(s.pair[i][j] && s.pair[j][i]);
	}
	advance(&s, 2 * WAIT_MS);
	assert_int_equal(s.kind[CTNG_KIND_INIT], 3);
	/* the first t sign; the other signer's FRAG goes to the aggregator (the
	 * first-ranked, a signer), which sends the FULL to the three others */
	assert_int_equal(s.kind[CTNG_KIND_FRAG], t.net.threshold - 1);
	assert_int_equal(s.kind[CTNG_KIND_FULL], 3);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_STH_FULL), 1);
		assert_int_equal(s.acts[i].next_timer_ms, 0);
	}
	check_fulls_verify(&s);
	/* a redelivery from a peer is a duplicate and sends nothing */
	size_t before = total_pushes(&s);
	assert_int_equal(deliver(&s, 3, &sth, "gossiper1"), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(total_pushes(&s), before);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

/* A line g1 - g2 - g3: what g2 hears from g1 goes on to g3 and never back to
 * g1, and the other way round; everybody still ends with the FULL. */
static void test_no_push_back_line(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 3, 2);
	set_peers(&t, 1, (const unsigned[]){2, 0});
	set_peers(&t, 2, (const unsigned[]){1, 3, 0});
	set_peers(&t, 3, (const unsigned[]){2, 0});
	struct sim s;
	uint64_t p = 8;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object rev = {0};
	make_rev(&t, &rev, "ca1", p, 11);
	assert_int_equal(deliver(&s, 0, &rev, "monitor1"), CTNG_GOSSIPER_NEW);
	advance(&s, WAIT_MS / 4);
	assert_int_equal(s.pair[0][1], 1); /* g1 -> g2 */
	assert_int_equal(s.pair[1][2], 1); /* g2 -> g3 */
	assert_int_equal(s.pair[1][0], 0); /* never back */
	assert_int_equal(s.pair[2][1], 0);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(count(&s, i, p, CTNG_REV_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_REV_FULL), 1);
		assert_int_equal(s.acts[i].next_timer_ms, 0);
	}
	/* each object crossed each link at most once in each direction, and
	 * nobody got back an object it had sent */
	assert_true(total_pushes(&s) <= 2 * 2 * 4);
	check_fulls_verify(&s);
	ctng_gossip_clear(&rev);
	sim_free(&s);
	tnet_free(&t);
}

/* A peer that is down gets its pushes (they fail) but stalls nobody: the
 * others make the FULL and no timer is left pending. Its own FRAG never came,
 * so it is not known to hold t FRAGs ... it is presumed to hold those its
 * peers pushed to it, and catches up by pulling when it comes back. */
static void test_down_peer_no_stall(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 9;
	sim_init(&s, &t, pstart(p) + 500);
	s.down[1] = true;
	ctng_gossip_object sth = {0};
	make_sth(&t, &sth, "logger2", p, 9, 0x33, NULL);
	assert_int_equal(deliver(&s, 0, &sth, "monitor1"), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 2, &sth, "monitor3"), CTNG_GOSSIPER_NEW);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_STH_FULL), 1);
		assert_int_equal(s.acts[i].next_timer_ms, 0);
	}
	assert_int_equal(count(&s, 1, p, CTNG_STH), 0);
	check_fulls_verify(&s);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

/* Red team: persist before sign, then storage comes back within the same
 * second. The FRAG signed again is byte for byte the one withdrawn (BLS is
 * deterministic and the envelope timestamp has whole seconds), so it must
 * still be stored and sent, not taken for a duplicate of the withdrawn copy;
 * likewise the FULL combined again with it. */
static void test_resign_same_second(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 2, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p));
	ctng_gossip_object sth = {0}, mine = {0}, full = {0};
	/* an STH whose aggregator is gossiper1 */
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	if (agg_of(&s, &sth) != 0) {
		ctng_gossip_clear(&sth);
		make_sth(&t, &sth, "logger2", p, 10, 0xaa, NULL);
	}
	assert_int_equal(agg_of(&s, &sth), 0);
	/* gossiper2 signed first: gossiper1 combines the FULL with its own FRAG */
	assert_int_equal(deliver(&s, 1, &sth, "monitor2"), CTNG_GOSSIPER_NEW);
	drain(&s);
	s.now = pstart(p) + 600;
	assert_int_equal(deliver(&s, 0, &sth, "monitor1"), CTNG_GOSSIPER_NEW);
	drain(&s);
	s.now = pstart(p) + WAIT_MS;
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[1], s.now, &s.acts[1], NULL), 0);
	route(&s, 1);
	pump(&s); /* gossiper2's FRAG reaches gossiper1 (pending: t = 2) */
	assert_int_equal(s.kind[CTNG_KIND_FRAG], 1);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 0);
	s.now = pstart(p) + 600 + WAIT_MS; /* x.600: gossiper1's wait is over */
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[0], s.now, &s.acts[0], NULL), 0);
	for (size_t k = 0; k < s.acts[0].n; k++) {
		ctng_gossiper_action *x = &s.acts[0].v[k];
		if (x->kind == CTNG_GACT_STORE && x->obj.type == CTNG_STH_FRAG)
			assert_int_equal(ctng_gossip_copy(&mine, &x->obj, NULL), 0);
		if (x->kind == CTNG_GACT_STORE && x->obj.type == CTNG_STH_FULL)
			assert_int_equal(ctng_gossip_copy(&full, &x->obj, NULL), 0);
	}
	ctng_gossiper_actions_reset(&s.acts[0]);
	drain(&s);
	assert_int_equal(mine.type, CTNG_STH_FRAG);
	assert_int_equal(full.type, CTNG_STH_FULL);
	/* the transaction failed: both withdrawn, signing off */
	ctng_gossiper_sm_set_signing(s.sm[0], false);
	assert_int_equal(ctng_gossiper_sm_forget(s.sm[0], &mine, s.now, NULL), 0);
	assert_int_equal(ctng_gossiper_sm_forget(s.sm[0], &full, s.now, NULL), 0);
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 0);
	/* storage works again 250 ms later, in the same second */
	ctng_gossiper_sm_set_signing(s.sm[0], true);
	uint64_t sec = s.now / 1000;
	s.now += WAIT_MS / 4; /* the withdrawn decision is due again */
	assert_int_equal(s.now / 1000, sec);
	assert_int_equal(ctng_gossiper_sm_on_timer(s.sm[0], s.now, &s.acts[0], NULL), 0);
	bool sent_frag = false, sent_full = false, stored_frag = false;
	for (size_t k = 0; k < s.acts[0].n; k++) {
		ctng_gossiper_action *x = &s.acts[0].v[k];
		stored_frag |= x->kind == CTNG_GACT_STORE && x->obj.type == CTNG_STH_FRAG;
		/* the aggregator sends the FULL made with it to its peers */
		sent_frag |= (x->kind == CTNG_GACT_SEND_PEERS || x->kind == CTNG_GACT_SEND_GOSSIPER) &&
		             (x->obj.type == CTNG_STH_FRAG || x->obj.type == CTNG_STH_FULL);
		sent_full |= x->kind == CTNG_GACT_SEND_MONITOR && x->obj.type == CTNG_STH_FULL;
	}
	assert_true(stored_frag);
	assert_true(sent_frag);
	assert_true(sent_full); /* its monitor gets the FULL */
	assert_int_equal(count(&s, 0, p, CTNG_STH_FULL), 1);
	ctng_gossiper_actions_reset(&s.acts[0]);
	ctng_gossip_clear(&mine);
	ctng_gossip_clear(&full);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

/* gossiper g's (index) FRAG over init, made directly with its share (what a
 * corrupted gossiper signs, whatever its state machine would decide). */
static void make_frag(struct tnet *t, ctng_gossip_object *out, int g,
                      const ctng_gossip_object *init, uint64_t now)
{
	ctng_buf msg = {0};
	uint8_t sig[48];
	char id[32];
	snprintf(id, sizeof id, "gossiper%d", g + 1);
	assert_int_equal(ctng_gossip_attest_bytes(init, &msg, NULL), 0);
	assert_int_equal(ctng_bls_sign(sig, t->shares[g].sk, msg.data, msg.len, NULL, NULL), 0);
	assert_int_equal(ctng_frag_build(out, init, id, sig, now, NULL), 0);
	ctng_buf_free(&msg);
}

/* Red team (accusation rule, coalition of t - 1): t = 3 of 4; pairs 1 and 2
 * are corrupted. Their monitors accuse logger1 and ca1 (silence, and for
 * logger1 also "data not served") to every gossiper, now and for the next
 * period, and tell their own gossipers, signed, that they failed; their
 * gossipers sign ACC_FRAGs for everything and push them everywhere. Pairs 3
 * and 4 obtained everything. No ACC_FULL may form anywhere, in either
 * period; honest gossipers hold the coalition's two FRAGs and sign none. */
static void test_coalition_cannot_accuse(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 3);
	struct sim s;
	uint64_t p = 5;
	uint64_t dl = ctng_clock_query_deadline(&t.net.clock, p);
	sim_init(&s, &t, pstart(p) + 300);
	s.tolerate = true;            /* the next period's accusations are refused */
	s.down[0] = s.down[1] = true; /* the coalition is played by hand */
	ctng_gossip_object sth = {0}, rev = {0};
	make_sth(&t, &sth, "logger1", p, 10, 0xaa, NULL);
	make_rev(&t, &rev, "ca1", p, 7);
	for (int i = 2; i < 4; i++) {
		char mon[16];
		snprintf(mon, sizeof mon, "monitor%d", i + 1);
		assert_int_equal(deliver(&s, i, &sth, mon), CTNG_GOSSIPER_NEW);
		assert_int_equal(deliver(&s, i, &rev, mon), CTNG_GOSSIPER_NEW);
	}
	s.now = dl;
	/* monitor3 really failed to reach logger1 in the previous period; its
	 * signed word for p - 1 (replayed now) says nothing about p */
	ctng_observation old;
	make_failed(&t, &old, "monitor3", "logger1", p - 1);
	assert_int_equal(observe(&s, 2, &old), CTNG_GOSSIPER_NEW);
	assert_int_equal(observe(&s, 2, &old), CTNG_GOSSIPER_DUPLICATE);
	static const char *ents[2] = {"logger1", "ca1"};
	for (int m = 0; m < 2; m++) {
		char mon[16];
		snprintf(mon, sizeof mon, "monitor%d", m + 1);
		for (int e = 0; e < 2; e++) {
			ctng_observation f;
			make_failed(&t, &f, mon, ents[e], p);
			/* to every gossiper: only the own one may believe it */
			for (int i = 2; i < 4; i++)
				assert_true(observe(&s, i, &f) < 0);
			if (e == 0) {
				assert_int_equal(ctng_obs_sign(&f, mon, t.keys[eidx(&t, mon)],
				                               CTNG_FAM_STH, "logger1", p,
				                               CTNG_OBS_FAILED, NULL,
				                               CTNG_OBS_CHECK_DATA, NULL),
				                 0);
				for (int i = 2; i < 4; i++)
					assert_true(observe(&s, i, &f) < 0);
			}
			for (uint64_t q = p; q <= p + 1; q++) {
				ctng_gossip_object acc = {0}, frag = {0};
				make_acc(&t, &acc, mon, ents[e], q);
				make_frag(&t, &frag, m, &acc, s.now);
				for (int i = 2; i < 4; i++) {
					int want = q == p ? CTNG_GOSSIPER_NEW : CTNG_ERANGE;
					assert_int_equal(deliver(&s, i, &acc, mon), want);
					char g[16];
					snprintf(g, sizeof g, "gossiper%d", m + 1);
					int r = deliver(&s, i, &frag, g);
					/* the id's aggregator holds it unchecked */
					if (!(q == p && r == CTNG_GOSSIPER_PENDING))
						assert_int_equal(r, want);
				}
				ctng_gossip_clear(&acc);
				ctng_gossip_clear(&frag);
			}
		}
	}
	advance(&s, PERIOD_MS); /* into the next period too */
	for (int i = 2; i < 4; i++)
		for (uint64_t q = p; q <= p + 1; q++) {
			assert_int_equal(count(&s, i, q, CTNG_ACC_FULL), 0);
			/* the coalition's FRAGs (an aggregator holds fewer than t of an
			 * id unchecked, uncounted), none of their own */
			assert_true(count(&s, i, q, CTNG_ACC_FRAG) <= (q == p ? 4 : 0));
		}
	for (int i = 2; i < 4; i++) /* no honest gossiper signed */
		assert_int_equal(s.signed_acc[i], 0);
	for (int i = 2; i < 4; i++)
		assert_int_equal(mon_count(&s, i, CTNG_ACC_FULL), 0);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&rev);
	sim_free(&s);
	tnet_free(&t);
}

/* Red team (push suppression): a malicious signer that gives its FRAG to one
 * gossiper only must not keep the FULL made with it from the others:
 * gossiper1 (its monitor failed) combines gossiper4's FRAG with its own and
 * must not withhold the ACC_FULL from gossipers 2 and 3, whose monitors did
 * not fail (they cannot sign it themselves) and who never got gossiper4's
 * FRAG. A FRAG marks only the peer it came from as a holder; every honest
 * gossiper and its monitor end up with the ACC_FULL. */
static void test_frag_to_one_peer_only(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, ctng_clock_query_deadline(&t.net.clock, p));
	s.down[3] = true; /* gossiper4 plays the attacker by hand */
	s.tolerate = true;
	ctng_gossip_object acc = {0}, frag4 = {0};
	ctng_observation f1;
	make_acc(&t, &acc, "monitor1", "logger1", p);
	make_failed(&t, &f1, "monitor1", "logger1", p);
	assert_int_equal(observe(&s, 0, &f1), CTNG_GOSSIPER_NEW);
	assert_int_equal(deliver(&s, 0, &acc, "monitor1"), CTNG_GOSSIPER_NEW);
	make_frag(&t, &frag4, 3, &acc, s.now);
	int r = deliver(&s, 0, &frag4, "gossiper4");
	assert_true(r == CTNG_GOSSIPER_NEW || r == CTNG_GOSSIPER_PENDING);
	advance(&s, 3 * WAIT_MS);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(count(&s, i, p, CTNG_ACC_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_ACC_FULL), 1);
	}
	check_fulls_verify(&s);
	ctng_gossip_clear(&acc);
	ctng_gossip_clear(&frag4);
	sim_free(&s);
	tnet_free(&t);
}

/* ------------------------------------------------------------ aggregation */

/* The aggregator takes FRAGs without checking each one (PENDING: not
 * counted, stored, forwarded or served) and checks t of them at once. A
 * forged FRAG cannot keep the real one of its claimed signer out, t that
 * do not combine are checked one by one and the bad ones dropped, and the
 * FULL comes as soon as t good ones are in. */
static void test_aggregator_pending(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 5;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, fa = {0}, fb = {0}, forged_a = {0}, forged_b = {0};
	make_sth(&t, &sth, "logger1", p, 8, 0x71, NULL);
	int ag = agg_of(&s, &sth), a = (ag + 1) % 4, b = (ag + 2) % 4;
	char ga[32], gb[32];
	snprintf(ga, sizeof ga, "gossiper%d", a + 1);
	snprintf(gb, sizeof gb, "gossiper%d", b + 1);
	frag_of(&s, a, &sth, &fa);
	frag_of(&s, b, &sth, &fb);
	/* b's partial claimed by a; a point that is nobody's partial claimed by b */
	assert_int_equal(ctng_gossip_copy(&forged_a, &fb, NULL), 0);
	strcpy(forged_a.signer, ga);
	assert_int_equal(ctng_gossip_copy(&forged_b, &fb, NULL), 0);
	uint8_t junk[48];
	char hex[97];
	assert_int_equal(ctng_bls_hash_to_g1(junk, (const uint8_t *)"nobody", 6, NULL, NULL), 0);
	ctng_hex_encode(hex, junk, 48);
	assert_int_equal(ctng_gossip_set(&forged_b.signature[0], hex, NULL), 0);
	size_t stores = s.n_store[ag];

	assert_int_equal(deliver(&s, ag, &forged_a, ga), CTNG_GOSSIPER_PENDING);
	assert_int_equal(s.nq, 0);
	assert_int_equal(count(&s, ag, p, CTNG_STH_FRAG), 0);
	assert_int_equal(s.n_store[ag], stores);
	/* the real FRAG of a: the pending forgery is checked now and dropped */
	assert_int_equal(deliver(&s, ag, &fa, ga), CTNG_GOSSIPER_PENDING);
	assert_int_equal(deliver(&s, ag, &forged_a, ga), CTNG_GOSSIPER_DUPLICATE);
	/* t = 2 pending that do not combine: checked one by one, a's kept */
	assert_int_equal(deliver(&s, ag, &forged_b, gb), CTNG_GOSSIPER_PENDING);
	assert_int_equal(count(&s, ag, p, CTNG_STH_FRAG), 1);
	assert_int_equal(count(&s, ag, p, CTNG_STH_FULL), 0);
	assert_int_equal(s.nq, 0); /* the aggregator forwards no FRAG */
	/* the real FRAG of b completes t: the FULL, pushed to the three others */
	assert_int_equal(deliver(&s, ag, &fb, gb), CTNG_GOSSIPER_PENDING);
	assert_int_equal(count(&s, ag, p, CTNG_STH_FRAG), 2);
	assert_int_equal(count(&s, ag, p, CTNG_STH_FULL), 1);
	assert_int_equal(mon_count(&s, ag, CTNG_STH_FULL), 1);
	assert_int_equal(s.kind[CTNG_KIND_FULL], 3);
	assert_int_equal(s.kind[CTNG_KIND_FRAG], 0);
	check_fulls_verify(&s);
	/* the forgeries were never stored nor served to a restarted peer */
	assert_int_equal(deliver(&s, ag, &forged_b, gb), CTNG_GOSSIPER_DUPLICATE);
	pump(&s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&fa);
	ctng_gossip_clear(&fb);
	ctng_gossip_clear(&forged_a);
	ctng_gossip_clear(&forged_b);
	sim_free(&s);
	tnet_free(&t);
}

/* The aggregator of an id is down (or swallows every FRAG): the signers
 * flood their FRAGs a quarter wait after signing and every other gossiper
 * still gets the FULL. */
static void test_aggregator_down_falls_back(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 3);
	struct sim s;
	uint64_t p = 7;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0};
	make_sth(&t, &sth, "logger2", p, 12, 0x19, NULL);
	int ag = agg_of(&s, &sth);
	s.down[ag] = true;
	for (int i = 0; i < 4; i++) {
		char mon[32];
		snprintf(mon, sizeof mon, "monitor%d", i + 1);
		if (i != ag)
			assert_int_equal(deliver(&s, i, &sth, mon), CTNG_GOSSIPER_NEW);
	}
	advance(&s, WAIT_MS + WAIT_MS / 8);
	for (int i = 0; i < 4; i++) /* nothing yet: the FRAGs went to the aggregator */
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 0);
	advance(&s, 2 * WAIT_MS);
	for (int i = 0; i < 4; i++) {
		if (i == ag)
			continue;
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
		assert_int_equal(mon_count(&s, i, CTNG_STH_FULL), 1);
		assert_int_equal(s.acts[i].next_timer_ms, 0);
	}
	check_fulls_verify(&s);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

/* A gossiper that holds a FULL and gets a FRAG of it signed by a peer (that
 * peer floods: its aggregator failed it) sends that peer the FULL. */
static void test_straggler_gets_the_full(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 4, 2);
	struct sim s;
	uint64_t p = 3;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0}, full = {0}, f = {0};
	make_sth(&t, &sth, "logger1", p, 5, 0x2c, NULL);
	for (int i = 0; i < 4; i++) {
		char mon[32];
		snprintf(mon, sizeof mon, "monitor%d", i + 1);
		assert_int_equal(deliver(&s, i, &sth, mon), CTNG_GOSSIPER_NEW);
	}
	advance(&s, 3 * WAIT_MS);
	for (size_t k = 0; k < s.n_mon[0]; k++)
		if (s.mon[0][k].type == CTNG_STH_FULL)
			assert_int_equal(ctng_gossip_copy(&full, &s.mon[0][k], NULL), 0);
	assert_int_equal(full.type, CTNG_STH_FULL);
	sim_free(&s);
	/* a fresh network where only gossiper1 holds the FULL */
	sim_init(&s, &t, pstart(p) + 500);
	assert_int_equal(deliver(&s, 0, &full, "monitor1"), CTNG_GOSSIPER_NEW);
	drain(&s);
	size_t fulls = s.kind[CTNG_KIND_FULL];
	frag_of(&s, 2, &sth, &f);
	assert_int_equal(deliver(&s, 0, &f, "gossiper3"), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(s.kind[CTNG_KIND_FULL], fulls + 1);
	assert_int_equal(s.nq, 1);
	assert_int_equal(s.q[0].to, 2);
	pump(&s);
	assert_int_equal(count(&s, 2, p, CTNG_STH_FULL), 1);
	/* each late FRAG is answered (no state kept for it: a FULL for a FRAG) */
	assert_int_equal(deliver(&s, 0, &f, "gossiper3"), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(s.nq, 1);
	drain(&s);
	/* whoever delivers it (X-CTng-From plays no part): the FULL goes to
	 * the FRAG's signer */
	assert_int_equal(deliver(&s, 0, &f, "monitor3"), CTNG_GOSSIPER_DUPLICATE);
	assert_int_equal(s.nq, 1);
	assert_int_equal(s.q[0].to, 2);
	drain(&s);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&full);
	ctng_gossip_clear(&f);
	sim_free(&s);
	tnet_free(&t);
}

/* 16 gossipers, threshold 9, every monitor watching: per id the first
 * watcher's INIT to the 15 others, the 8 other signers' FRAGs to the
 * aggregator (a signer), its FULL to the 15 others — no FRAG crosses
 * otherwise, and BLS work is one FULL check per gossiper, one combination
 * and check at the aggregator, and the 9 signatures. */
static void test_aggregation_is_linear(void **state)
{
	(void)state;
	struct tnet t;
	tnet_make(&t, 16, 9);
	struct sim s;
	uint64_t p = 4;
	sim_init(&s, &t, pstart(p) + 500);
	ctng_gossip_object sth = {0};
	make_sth(&t, &sth, "logger1", p, 21, 0x3d, NULL);
	ctng_meter m = {0};
	ctng_meter *old = ctng_meter_use(&m);
	for (int i = 0; i < 16; i++) {
		char mon[32];
		snprintf(mon, sizeof mon, "monitor%d", i + 1);
		assert_int_equal(deliver(&s, i, &sth, mon), CTNG_GOSSIPER_NEW);
	}
	pump(&s);
	advance(&s, 3 * WAIT_MS);
	ctng_meter_use(old);
	for (int i = 0; i < 16; i++)
		assert_int_equal(count(&s, i, p, CTNG_STH_FULL), 1);
	assert_int_equal(s.kind[CTNG_KIND_INIT], 15);
	assert_int_equal(s.kind[CTNG_KIND_FRAG], 8);
	assert_int_equal(s.kind[CTNG_KIND_FULL], 15);
	assert_int_equal(m.ops[CTNG_METER_BLS_SIGN], 9);
	assert_int_equal(m.ops[CTNG_METER_BLS_COMBINE], 1);
	assert_true(m.ops[CTNG_METER_BLS_VERIFY] <= 16);
	check_fulls_verify(&s);
	ctng_gossip_clear(&sth);
	sim_free(&s);
	tnet_free(&t);
}

int main(void)
{
	ctng_log_set_level(CTNG_LOG_OFF);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_honest_sth_rev_acc),
	    cmocka_unit_test(test_acc_against_answering_entity),
	    cmocka_unit_test(test_no_frag_without_data),
	    cmocka_unit_test(test_acc_for_future_period),
	    cmocka_unit_test(test_one_monitor_cannot_accuse),
	    cmocka_unit_test(test_acc_frag_timing),
	    cmocka_unit_test(test_observation_checks),
	    cmocka_unit_test(test_clock_skew),
	    cmocka_unit_test(test_sender_header_lie),
	    cmocka_unit_test(test_full_header_lie),
	    cmocka_unit_test(test_persist_before_sign),
	    cmocka_unit_test(test_conflict_con_full),
	    cmocka_unit_test(test_late_conflict),
	    cmocka_unit_test(test_frag_before_object_and_duplicates),
	    cmocka_unit_test(test_bad_frags),
	    cmocka_unit_test(test_bad_fulls),
	    cmocka_unit_test(test_forged_cons),
	    cmocka_unit_test(test_replay_and_window),
	    cmocka_unit_test(test_junk_flood_bounded),
	    cmocka_unit_test(test_restore_no_resign),
	    cmocka_unit_test(test_threshold_with_failures),
	    cmocka_unit_test(test_colluding_fulls_capped),
	    cmocka_unit_test(test_push_suppression_full_mesh),
	    cmocka_unit_test(test_no_push_back_line),
	    cmocka_unit_test(test_down_peer_no_stall),
	    cmocka_unit_test(test_resign_same_second),
	    cmocka_unit_test(test_coalition_cannot_accuse),
	    cmocka_unit_test(test_frag_to_one_peer_only),
	    cmocka_unit_test(test_aggregator_pending),
	    cmocka_unit_test(test_aggregator_down_falls_back),
	    cmocka_unit_test(test_straggler_gets_the_full),
	    cmocka_unit_test(test_aggregation_is_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
