/*
 * node_monitor.c — a simulated monitor: the real state machine
 * (ctng_monitor_sm) with the glue of its daemon (src/monitor/daemon.c): the
 * query and update times of each period (and, after a restart, the query
 * and update that are due at once), pulls with the daemon's deadline
 * (ctng_monitor_fetch_timeout_ms), objects sent to and received from the
 * paired gossiper, and what it persists (kept objects, last STHs, forks,
 * the last published period) for a restart. Every STH it keeps goes to its
 * mirror (node_mirror.c), whose OBS(obtained, data) tells the gossiper the
 * tree is held, as the daemon's does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"
#include "ctng/wire.h"
#include "sim/sim_internal.h"

/* kept_kv entries: "L<logger>\t<json of the last STH>" and "F<logger>". */
static void kv_put(sim_node *n, char tag, const char *entity, const char *json)
{
	size_t el = strlen(entity);
	for (size_t i = 0; i < n->n_kept_kv; i++) {
		char *x = n->kept_kv[i];
		if (x[0] == tag && strncmp(x + 1, entity, el) == 0 &&
		    (x[1 + el] == '\t' || x[1 + el] == 0)) {
			if (tag == 'F')
				return;
			free(x);
			n->kept_kv[i] = n->kept_kv[--n->n_kept_kv];
			break;
		}
	}
	char *v = NULL;
	if (asprintf(&v, "%c%s%s%s", tag, entity, json ? "\t" : "", json ? json : "") < 0)
		return;
	if (n->n_kept_kv == n->cap_kept_kv) {
		size_t nc = n->cap_kept_kv ? 2 * n->cap_kept_kv : 8;
		char **w = realloc(n->kept_kv, nc * sizeof(*w));
		if (!w) {
			free(v);
			return;
		}
		n->kept_kv = w;
		n->cap_kept_kv = nc;
	}
	n->kept_kv[n->n_kept_kv++] = v;
}

sim_fetch *sim_monitor_new_fetch(sim *s, sim_node *n)
{
	if (n->n_fetches == n->cap_fetches) {
		size_t nc = n->cap_fetches ? 2 * n->cap_fetches : 16;
		sim_fetch *v = realloc(n->fetches, nc * sizeof(*v));
		if (!v)
			return NULL;
		n->fetches = v;
		n->cap_fetches = nc;
	}
	sim_fetch *f = &n->fetches[n->n_fetches++];
	memset(f, 0, sizeof(*f));
	f->id = ++s->next_id;
	f->pending = true;
	return f;
}

static sim_fetch *find_fetch(sim_node *n, uint64_t id)
{
	for (size_t i = 0; i < n->n_fetches; i++)
		if (n->fetches[i].id == id)
			return &n->fetches[i];
	return NULL;
}

static void drop_done_fetches(sim_node *n)
{
	size_t w = 0;
	for (size_t i = 0; i < n->n_fetches; i++)
		if (n->fetches[i].pending)
			n->fetches[w++] = n->fetches[i];
	n->n_fetches = w;
}

static void start_fetch(sim *s, sim_node *n, const ctng_monitor_action *x, uint64_t depart)
{
	sim_node *t = sim_node_by_id(s, x->entity);
	sim_fetch *f = t ? sim_monitor_new_fetch(s, n) : NULL;
	sim_msg *m = f ? calloc(1, sizeof(*m)) : NULL;
	if (!m)
		return;
	f->kind = x->kind == CTNG_MON_FETCH_CONSISTENCY;
	f->target = t->index;
	f->period = x->period;
	snprintf(f->entity, sizeof f->entity, "%s", x->entity);
	m->kind = MSG_FETCH;
	m->src = n->index;
	m->dst = t->index;
	m->id = f->id;
	m->epoch = n->epoch;
	if (f->kind)
		m->text_len = (size_t)asprintf(&m->text, "cons %" PRIu64 " %" PRIu64 " %" PRIu64,
		                               x->period, x->first, x->second);
	else
		m->text_len =
		    (size_t)asprintf(&m->text, "%s %" PRIu64,
		                     x->kind == CTNG_MON_FETCH_STH ? "sth" : "rev", x->period);
	/* a retry waits for its at_ms; an attempt ends by the query deadline */
	uint64_t g = s->net.clock.genesis_ms;
	if (x->at_ms > g && (x->at_ms - g) * 1000 > depart)
		depart = (x->at_ms - g) * 1000;
	uint64_t timeout = ctng_monitor_fetch_timeout_ms(&s->net.clock) * 1000;
	if (x->deadline_ms > g) {
		uint64_t dl = (x->deadline_ms - g) * 1000;
		uint64_t left = dl > depart ? dl - depart : 0;
		timeout = left < timeout ? (left < 20000 ? 20000 : left) : timeout;
	}
	sim_queue_push(&s->q, depart + timeout, EV_FETCH_TIMEOUT, n->index, f->id, NULL);
	sim_send(s, m, depart); /* a GET: no body bytes */
}

void sim_monitor_send_obs(sim *s, sim_node *n, const ctng_observation *obs, uint64_t depart)
{
	sim_msg *m = n->partner != SIZE_MAX ? calloc(1, sizeof(*m)) : NULL;
	/* the binary form, as the daemon sends it (docs/protocol.md §11) */
	ctng_buf b = {0};
	if (m && ctng_wire_encode_obs(&s->net, obs, &b, NULL) == 0) {
		m->text = (char *)ctng_buf_detach(&b, &m->text_len);
		m->kind = MSG_OBSERVATION;
		m->src = n->index;
		m->dst = n->partner;
		m->bytes = m->text_len;
		m->epoch = n->epoch;
		sim_stats_at(s, n, depart)->bytes_out += m->text_len;
		sim_send(s, m, depart);
	} else {
		ctng_buf_free(&b);
		free(m);
	}
}

void sim_monitor_send_object(sim *s, sim_node *n, const ctng_gossip_object *o, uint64_t depart)
{
	sim_blob *b = n->partner != SIZE_MAX ? sim_blob_new(&s->net, o, NULL) : NULL;
	sim_msg *m = b ? calloc(1, sizeof(*m)) : NULL;
	if (m) {
		m->kind = MSG_GOSSIP;
		m->src = n->index;
		m->dst = n->partner;
		m->bytes = b->len;
		m->blob = sim_blob_ref(b);
		m->epoch = n->epoch;
		sim_stats_at(s, n, depart)->bytes_out += b->len;
		sim_send(s, m, depart);
	}
	sim_blob_unref(b);
}

static void run_actions(sim *s, sim_node *n, ctng_monitor_actions *a, uint64_t depart)
{
	bool mirror = false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].kind >= CTNG_MON_STORE_OBJECT) { /* one transaction per event */
			depart = sim_store_commit(s, n, depart);
			break;
		}
	for (size_t i = 0; i < a->n; i++) {
		ctng_monitor_action *x = &a->v[i];
		switch (x->kind) {
		case CTNG_MON_FETCH_STH:
		case CTNG_MON_FETCH_REV:
		case CTNG_MON_FETCH_CONSISTENCY:
			start_fetch(s, n, x, depart);
			break;
		case CTNG_MON_SEND_GOSSIPER:
			sim_monitor_send_object(s, n, &x->obj, depart);
			break;
		case CTNG_MON_SEND_OBSERVATION:
			sim_monitor_send_obs(s, n, &x->obs, depart);
			break;
		case CTNG_MON_STORE_OBJECT:
			sim_keep(n, &x->obj);
			if (x->obj.type == CTNG_STH)
				mirror = true;
			if (x->obj.type == CTNG_CON_FULL)
				sim_mirror_convicted(n, ctng_gossip_entity(&x->obj));
			break;
		case CTNG_MON_STORE_LAST_STH: {
			char *json = NULL;
			size_t len = 0;
			if (ctng_gossip_encode(&x->obj, &json, &len, NULL) == 0)
				kv_put(n, 'L', x->entity, json);
			free(json);
			break;
		}
		case CTNG_MON_POM:
			if (x->transferable)
				kv_put(n, 'F', x->entity, NULL);
			break;
		case CTNG_MON_PUBLISH_UPDATE:
			if (x->period < s->periods) {
				n->stats[x->period].update_bytes = x->text_len;
				n->stats[x->period].had_update = true;
			}
			n->has_published = true;
			n->last_published = x->period;
			break;
		}
	}
	/* after the commit, as the daemon does: every STH accepted or received
	 * goes to the mirror */
	for (size_t i = 0; mirror && i < a->n; i++)
		if (a->v[i].kind == CTNG_MON_STORE_OBJECT && a->v[i].obj.type == CTNG_STH)
			sim_mirror_on_sth(s, n, &a->v[i].obj, depart);
	ctng_monitor_actions_free(a);
}

int sim_monitor_start(sim *s, sim_node *n, bool restart, ctng_err *err)
{
	int rc = ctng_monitor_sm_new(&s->net, n->e->id, n->cfg.key, &n->mon, err);
	if (rc || (rc = sim_mirror_start(s, n, err)))
		return ctng_err_wrap(err, "%s", n->e->id);
	n->has_queried = false;
	n->n_fetches = 0;
	if (!restart)
		return 0;
	sim_mark mk;
	sim_begin(s, n, &mk);
	for (size_t i = 0; i < n->n_kept; i++) {
		ctng_gossip_object o = {0};
		if (ctng_gossip_decode(n->kept[i], strlen(n->kept[i]), &o, NULL) == 0)
			ctng_monitor_sm_restore_object(n->mon, &o, NULL);
		ctng_gossip_clear(&o);
	}
	for (size_t i = 0; i < n->n_kept_kv; i++) {
		char *x = n->kept_kv[i], *tab = strchr(x, '\t');
		if (x[0] == 'F') {
			ctng_monitor_sm_restore_fork(n->mon, x + 1, NULL);
		} else if (x[0] == 'L' && tab) {
			ctng_gossip_object o = {0};
			if (ctng_gossip_decode(tab + 1, strlen(tab + 1), &o, NULL) == 0)
				ctng_monitor_sm_restore_last_sth(n->mon, &o, NULL);
			ctng_gossip_clear(&o);
		}
	}
	sim_end(s, n, &mk, n->n_kept, 0);
	/* A monitor started late in a period queries and publishes at once. */
	uint64_t p = 0, ms = sim_net_ms(s, s->now);
	const ctng_clock *c = &s->net.clock;
	if (ctng_clock_period_of(c, ms, &p)) {
		uint64_t start = ctng_clock_period_start(c, p);
		if (ms >= start + c->query_offset_ms)
			sim_monitor_query(s, n, p);
		if (ms >= start + c->update_offset_ms)
			sim_monitor_update(s, n, p);
	}
	return 0;
}

void sim_monitor_stop(sim_node *n)
{
	ctng_monitor_sm_free(n->mon);
	n->mon = NULL;
	sim_mirror_stop(n);
	n->n_fetches = 0; /* their answers and timeouts find nothing pending */
}

void sim_monitor_query(sim *s, sim_node *n, uint64_t p)
{
	if (!n->mon || (n->has_queried && n->last_queried >= p))
		return;
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_monitor_actions acts = {0};
	ctng_monitor_sm_prune(n->mon, p ? p - 1 : 0);
	drop_done_fetches(n); /* the rest stay pending: their answers get ESTATE */
	ctng_monitor_sm_on_period(n->mon, p, sim_net_ms(s, mk.start), &acts, NULL);
	n->has_queried = true;
	n->last_queried = p;
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	run_actions(s, n, &acts, done);
}

void sim_monitor_update(sim *s, sim_node *n, uint64_t p)
{
	if (!n->mon || (n->has_published && n->last_published >= p))
		return;
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_monitor_actions acts = {0};
	ctng_monitor_sm_on_update_time(n->mon, p, sim_net_ms(s, mk.start), &acts, NULL);
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	run_actions(s, n, &acts, done);
}

void sim_monitor_timeout(sim *s, sim_node *n, uint64_t id)
{
	sim_fetch *f = n->mon ? find_fetch(n, id) : NULL;
	if (!f || !f->pending)
		return;
	f->pending = false;
	if (f->kind == SIM_FETCH_MIRROR) {
		sim_mirror_answer(s, n, f, NULL);
		return;
	}
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_monitor_actions acts = {0};
	uint64_t now = sim_net_ms(s, mk.start);
	if (f->kind)
		ctng_monitor_sm_on_consistency_result(n->mon, f->entity, f->period, false, NULL, 0,
		                                      "timeout", now, &acts, NULL);
	else
		ctng_monitor_sm_on_fetch_result(n->mon, f->entity, f->period, NULL, "timeout", now,
		                                &acts, NULL);
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	run_actions(s, n, &acts, done);
}

static void on_reply(sim_node *n, sim_msg *m, uint64_t now, ctng_monitor_actions *acts)
{
	sim_fetch *f = find_fetch(n, m->id);
	if (!f || !f->pending)
		return; /* late: the deadline already failed it */
	f->pending = false;
	char reason[64];
	snprintf(reason, sizeof reason, m->status ? "HTTP %d" : "connection refused", m->status);
	if (f->kind) {
		uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
		size_t np = 0;
		bool ok =
		    m->status == 200 && m->text &&
		    ctng_monitor_parse_consistency(m->text, m->text_len, proof, &np, NULL) == 0;
		ctng_monitor_sm_on_consistency_result(n->mon, f->entity, f->period, ok,
		                                      (const uint8_t(*)[32])proof, np, reason, now,
		                                      acts, NULL);
		return;
	}
	ctng_gossip_object o = {0};
	bool have =
	    m->status == 200 && m->text && ctng_gossip_decode(m->text, m->text_len, &o, NULL) == 0;
	ctng_monitor_sm_on_fetch_result(n->mon, f->entity, f->period, have ? &o : NULL, reason, now,
	                                acts, NULL);
	ctng_gossip_clear(&o);
}

void sim_monitor_deliver(sim *s, sim_node *n, sim_msg *m)
{
	if (m->kind == MSG_TILE) {
		sim_mirror_serve(s, n, m);
		return;
	}
	if (m->kind == MSG_TILE_REPLY) {
		sim_fetch *f = find_fetch(n, m->id);
		if (f && f->pending && f->kind == SIM_FETCH_MIRROR) {
			f->pending = false;
			sim_mirror_answer(s, n, f, m);
		}
		return;
	}
	sim_mark mk;
	sim_begin(s, n, &mk);
	uint64_t now = sim_net_ms(s, mk.start);
	ctng_monitor_actions acts = {0};
	size_t objects = 0, bytes = m->bytes;
	if (m->kind == MSG_FETCH_REPLY) {
		on_reply(n, m, now, &acts);
		objects = 1;
	} else if (m->kind == MSG_GOSSIP) {
		sim_stats_at(s, n, mk.start)->bytes_in += m->bytes;
		ctng_monitor_gossip_status st = CTNG_MON_GOSSIP_IGNORED;
		const ctng_gossip_object *o = &m->blob->obj;
		if (ctng_monitor_sm_on_gossip(n->mon, o, now, &st, &acts, NULL) == 0 &&
		    st == CTNG_MON_GOSSIP_NEW && ctng_type_kind(o->type) == CTNG_KIND_FULL &&
		    o->period < s->periods) {
			sim_stats *ps = &n->stats[o->period];
			uint64_t start = sim_period_start_us(s, o->period);
			uint64_t after = mk.start > start ? mk.start - start : 0;
			ps->fulls++;
			if (after > ps->last_full_us)
				ps->last_full_us = after;
			if (o->type == CTNG_STH_FULL) {
				ps->sth_fulls++;
				if (after > ps->last_sth_full_us)
					ps->last_sth_full_us = after;
			}
		}
		objects = 1;
	}
	uint64_t done = sim_end(s, n, &mk, objects, bytes);
	run_actions(s, n, &acts, done);
}
