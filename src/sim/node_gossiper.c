/*
 * node_gossiper.c — a simulated gossiper: the real state machine
 * (ctng_gossiper_sm) with the glue the daemon (src/gossiper/daemon.c) puts
 * around it: pushes to the peers of a SEND_PEERS mask and to the paired
 * monitor with the same cap on requests in flight per destination, the
 * state machine's timer, the period clock, what STORE persists (restored
 * after a crash, then the catch-up pull from every peer), and the bytes of
 * gossip bodies in and out per period.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/wire.h"
#include "gossiper/gossiper_internal.h"
#include "sim/sim_internal.h"

#define MAX_INFLIGHT 256 /* as the daemon: a push beyond it is dropped */

static void arm_timer(sim *s, sim_node *n, uint64_t next_ms)
{
	if (!next_ms)
		return;
	uint64_t base = s->net.clock.genesis_ms;
	uint64_t t = next_ms > base ? (next_ms - base) * 1000 : 0;
	if (t < s->now)
		t = s->now;
	if (n->timer_at && n->timer_at <= t && n->timer_at >= s->now)
		return; /* an earlier (or the same) wake-up is already pending */
	n->timer_at = t;
	sim_queue_push(&s->q, t, EV_NODE_TIMER, n->index, 0, NULL);
}

static void push_to(sim *s, sim_node *n, size_t dst, sim_blob *b, uint64_t depart)
{
	if (n->inflight[dst] >= MAX_INFLIGHT)
		return; /* dropped, like the daemon's per-destination cap */
	sim_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return;
	m->kind = MSG_GOSSIP;
	m->src = n->index;
	m->dst = dst;
	m->bytes = b->len;
	m->blob = sim_blob_ref(b);
	m->epoch = n->epoch;
	n->inflight[dst]++;
	sim_stats_at(s, n, depart)->bytes_out += b->len;
	sim_send(s, m, depart);
}

/* A FULL this node holds from now on: its time after the period start. */
static void note_full(sim *s, sim_node *n, const ctng_gossip_object *o, uint64_t t)
{
	if (o->period >= s->periods)
		return;
	sim_stats *st = &n->stats[o->period];
	uint64_t start = sim_period_start_us(s, o->period);
	uint64_t after = t > start ? t - start : 0;
	st->fulls++;
	if (after > st->last_full_us)
		st->last_full_us = after;
}

/* Performs the actions of one event (the daemon's run_actions). */
static void run_actions(sim *s, sim_node *n, ctng_gossiper_actions *a, uint64_t depart)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind == CTNG_GACT_STORE) { /* one transaction per event */
			depart = sim_store_commit(s, n, depart);
			break;
		}
	for (size_t i = 0; i < a->n; i++) {
		ctng_gossiper_action *x = &a->v[i];
		if (x->kind == CTNG_GACT_STORE) {
			sim_keep(n, &x->obj);
			if (ctng_type_kind(x->obj.type) == CTNG_KIND_FULL)
				note_full(s, n, &x->obj, depart);
			continue;
		}
		if (x->kind == CTNG_GACT_PULL) {
			/* what a peer proved to hold and this one lacks: here the
			 * whole period of that peer (the daemon asks for the one id) */
			for (size_t k = 0; k < n->e->n_peers; k++) {
				sim_node *p = ctng_gossiper_action_to(x, k) ? sim_node_by_id(s, n->e->peers[k]) : NULL;
				sim_msg *m = p ? calloc(1, sizeof(*m)) : NULL;
				if (!m)
					continue;
				m->kind = MSG_OBJECTS;
				m->src = n->index;
				m->dst = p->index;
				m->id = x->id.period;
				m->epoch = n->epoch;
				sim_send(s, m, depart);
			}
			continue;
		}
		sim_blob *b = sim_blob_new(&s->net, &x->obj, NULL);
		if (!b)
			continue;
		if (x->kind == CTNG_GACT_SEND_PEERS) {
			for (size_t k = 0; k < n->e->n_peers; k++)
				if (ctng_gossiper_action_to(x, k) && n->peer_node[k] != SIZE_MAX)
					push_to(s, n, n->peer_node[k], b, depart);
		} else if (x->kind == CTNG_GACT_SEND_MONITOR && n->partner != SIZE_MAX) {
			push_to(s, n, n->partner, b, depart);
		} else if (x->kind == CTNG_GACT_SEND_GOSSIPER) {
			sim_node *d = sim_node_by_id(s, x->dest);
			if (d && d->e->role == CTNG_ROLE_GOSSIPER)
				push_to(s, n, d->index, b, depart);
		}
		sim_blob_unref(b);
	}
	uint64_t next = a->next_timer_ms;
	ctng_gossiper_actions_reset(a);
	arm_timer(s, n, next);
}

static void pull_from_peers(sim *s, sim_node *n, uint64_t depart)
{
	uint64_t cur = ctng_gossiper_sm_period(n->gos);
	for (size_t k = 0; k < n->e->n_peers; k++) {
		sim_node *p = sim_node_by_id(s, n->e->peers[k]);
		for (uint64_t q = cur ? cur - 1 : 0; p && q <= cur; q++) {
			sim_msg *m = calloc(1, sizeof(*m));
			if (!m)
				return;
			m->kind = MSG_OBJECTS;
			m->src = n->index;
			m->dst = p->index;
			m->id = q; /* the period asked for */
			m->epoch = n->epoch;
			sim_send(s, m, depart);
		}
	}
}

int sim_gossiper_start(sim *s, sim_node *n, bool restart, ctng_err *err)
{
	if (!n->inflight && !(n->inflight = calloc(s->n_nodes, sizeof(*n->inflight))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!n->peer_node) {
		if (!(n->peer_node = calloc(n->e->n_peers + 1, sizeof(*n->peer_node))))
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		for (size_t k = 0; k < n->e->n_peers; k++) {
			sim_node *p = sim_node_by_id(s, n->e->peers[k]);
			n->peer_node[k] = p ? p->index : SIZE_MAX;
		}
	}
	sim_mark mk;
	sim_begin(s, n, &mk);
	uint64_t now = sim_net_ms(s, mk.start);
	int rc = ctng_gossiper_sm_new(&s->net, n->e->id, n->cfg.bls_sk, now, &n->gos, err);
	if (rc)
		return ctng_err_wrap(err, "%s", n->e->id);
	n->timer_at = 0;
	ctng_gossiper_actions acts = {0};
	for (size_t i = 0; restart && i < n->n_kept; i++) {
		ctng_gossip_object o = {0};
		if (ctng_gossip_decode(n->kept[i], strlen(n->kept[i]), &o, NULL) == 0)
			ctng_gossiper_sm_restore(n->gos, &o, now, &acts, NULL);
		ctng_gossip_clear(&o);
	}
	uint64_t done = sim_end(s, n, &mk, n->n_kept, 0);
	run_actions(s, n, &acts, done);
	ctng_gossiper_actions_free(&acts);
	if (restart)
		pull_from_peers(s, n, done);
	return 0;
}

void sim_gossiper_stop(sim_node *n)
{
	ctng_gossiper_sm_free(n->gos);
	n->gos = NULL;
	n->timer_at = 0;
	/* pushes in flight still end (EV_REQ_DONE) and are counted down */
}

void sim_gossiper_period(sim *s, sim_node *n, uint64_t p)
{
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_gossiper_actions acts = {0};
	ctng_gossiper_sm_on_period(n->gos, p, sim_net_ms(s, mk.start), &acts, NULL);
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	run_actions(s, n, &acts, done);
	ctng_gossiper_actions_free(&acts);
	/* the daemon deletes rows of periods < p-1 (CON_FULLs stay) */
	size_t w = 0;
	for (size_t i = 0; i < n->n_kept; i++) {
		ctng_gossip_object o = {0};
		bool keep = true;
		if (ctng_gossip_decode(n->kept[i], strlen(n->kept[i]), &o, NULL) == 0)
			keep = o.type == CTNG_CON_FULL || o.period + 1 >= p;
		ctng_gossip_clear(&o);
		if (keep)
			n->kept[w++] = n->kept[i];
		else
			free(n->kept[i]);
	}
	n->n_kept = w;
}

void sim_gossiper_timer(sim *s, sim_node *n)
{
	n->timer_at = 0;
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_gossiper_actions acts = {0};
	ctng_gossiper_sm_on_timer(n->gos, sim_net_ms(s, mk.start), &acts, NULL);
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	run_actions(s, n, &acts, done);
	ctng_gossiper_actions_free(&acts);
}

static void add_json(const ctng_gossip_object *o, void *arg)
{
	json_t *j = NULL;
	if (ctng_gossip_to_json(o, &j, NULL) == 0)
		json_array_append_new(arg, j);
}

/* GET /ctng/v1/objects?period=P from a peer that restarted. */
static void serve_objects(sim *s, sim_node *n, sim_msg *m)
{
	sim_mark mk;
	sim_begin(s, n, &mk);
	json_t *arr = json_array();
	size_t k = arr ? ctng_gossiper_sm_each(n->gos, m->id, add_json, arr) : 0;
	char key[24];
	snprintf(key, sizeof key, "%llu", (unsigned long long)m->id);
	json_t *r = arr ? json_pack("{s:s, s:s, s:o}", "period", key, "gossiper", n->e->id,
	                            "objects", arr)
	                : NULL;
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
	json_decref(r);
	sim_msg *rep = sim_reply_new(m, text ? 200 : 500, text);
	uint64_t done = sim_end(s, n, &mk, k, rep ? rep->bytes : 0);
	if (rep)
		sim_send(s, rep, done);
}

void sim_gossiper_deliver(sim *s, sim_node *n, sim_msg *m)
{
	const char *from = s->nodes[m->src].e->id;
	if (m->kind == MSG_OBJECTS) {
		serve_objects(s, n, m);
		return;
	}
	sim_mark mk;
	sim_begin(s, n, &mk);
	uint64_t now = sim_net_ms(s, mk.start);
	ctng_gossiper_actions acts = {0};
	size_t objects = 0, bytes = 0;
	if (m->kind == MSG_GOSSIP) {
		sim_stats_at(s, n, mk.start)->bytes_in += m->bytes;
		ctng_gossiper_sm_on_object(n->gos, &m->blob->obj, from, now, &acts, NULL);
		objects = 1;
		bytes = m->bytes;
	} else if (m->kind == MSG_OBSERVATION && m->text) {
		/* the monitor's signed word (docs/gossiper.md §Observations) */
		ctng_observation obs;
		sim_stats_at(s, n, mk.start)->bytes_in += m->text_len;
		if (ctng_wire_decode_obs(&s->net, (const uint8_t *)m->text, m->text_len, &obs,
		                         NULL) == 0)
			ctng_gossiper_sm_on_observation(n->gos, &obs, now, &acts, NULL);
		bytes = m->text_len;
	} else if (m->kind == MSG_OBJECTS_REPLY && m->status == 200 && m->text) {
		int k = gossiper_feed_objects(n->gos, (const uint8_t *)m->text, m->text_len, from,
		                              now, &acts, NULL);
		objects = k > 0 ? (size_t)k : 0;
		bytes = m->text_len;
	}
	uint64_t done = sim_end(s, n, &mk, objects, bytes);
	run_actions(s, n, &acts, done);
	ctng_gossiper_actions_free(&acts);
}
