/*
 * node_mirror.c — a simulated monitor's mirror of the logs (docs/mirror.md,
 * docs/sim.md §Mirrors): the real mirror state machine (ctng_mirror_sm)
 * driven as the monitor daemon drives it (src/monitor/mirror.c), with its
 * fetches of tile roots and entry bundles sent over the simulated network
 * to the loggers and to peer monitors (real tile bytes, so transfers take
 * the time the links give them), and the answers the loggers and the peer
 * mirrors give to those fetches.
 *
 * Two modes (scenario "mirror"):
 *  - real: every monitor keeps its mirror in an in-memory SQLite store
 *    (ctng_mirror_db, kept across a crash like the daemon's file) and
 *    serves its peers from it;
 *  - charged: nothing is stored (large runs); a peer answers from the
 *    logger's own tiles what its state machine has verified (the same
 *    bytes, as verified entries are the logger's), and a restarted
 *    monitor mirrors from scratch.
 * In both, every answer is parsed and verified for real, and each stored
 * entry is charged `costs.entry` µs (ingest, hashing, SQLite), so the two
 * modes give the same virtual times.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"
#include "ctng/mirror.h"
#include "sim/sim_internal.h"

static bool charged(const sim *s)
{
	return s->sc->mirror_mode == CTNG_SIM_MIRROR_CHARGED;
}

int sim_mirror_start(sim *s, sim_node *n, ctng_err *err)
{
	int rc;
	if (!charged(s)) {
		if (!n->mstore && !(n->mstore = ctng_store_open(":memory:", err)))
			return ctng_err_wrap(err, "%s mirror", n->e->id);
		if ((rc = ctng_mirror_db_open(n->mstore, &s->net, &n->mdb, err)))
			return ctng_err_wrap(err, "%s mirror", n->e->id);
	}
	ctng_mirror_opts o;
	ctng_mirror_opts_default(&o, &s->net.clock);
	if ((rc = ctng_mirror_sm_new(&s->net, n->e->id, &o, &n->mir, err)) ||
	    (n->mdb && (rc = ctng_mirror_db_restore(n->mdb, n->mir, err))))
		return ctng_err_wrap(err, "%s mirror", n->e->id);
	n->mir_timer_at = 0;
	return 0;
}

void sim_mirror_stop(sim_node *n)
{
	ctng_mirror_sm_free(n->mir);
	n->mir = NULL;
	ctng_mirror_db_close(n->mdb);
	n->mdb = NULL;
	n->mir_timer_at = 0;
}

void sim_mirror_free(sim_node *n)
{
	sim_mirror_stop(n);
	ctng_store_close(n->mstore);
	n->mstore = NULL;
}

static void arm(sim *s, sim_node *n, uint64_t at_ms)
{
	uint64_t g = s->net.clock.genesis_ms;
	if (!at_ms)
		return;
	uint64_t at = at_ms > g ? (at_ms - g) * 1000 : 0;
	if (at <= s->now)
		at = s->now + 1;
	if (n->mir_timer_at && n->mir_timer_at <= at)
		return; /* an earlier wake-up is pending: the state machine says the next then */
	n->mir_timer_at = at;
	sim_queue_push(&s->q, at, EV_MIRROR_TIMER, n->index, 0, NULL);
}

static void fetch(sim *s, sim_node *n, const ctng_mirror_action *x, uint64_t depart,
                  ctng_mirror_actions *next)
{
	sim_node *t = sim_node_by_id(s, x->source);
	sim_fetch *f = t ? sim_monitor_new_fetch(s, n) : NULL;
	sim_msg *m = f ? calloc(1, sizeof(*m)) : NULL;
	if (!m || !(m->text = strdup(x->path))) {
		free(m);
		if (f)
			f->pending = false;
		ctng_mirror_sm_on_not_sent(n->mir, x->id, sim_net_ms(s, depart), next, NULL);
		return;
	}
	f->kind = SIM_FETCH_MIRROR;
	f->mid = x->id;
	f->max_bytes = x->max_bytes;
	f->target = t->index;
	m->text_len = strlen(m->text);
	m->kind = MSG_TILE;
	m->src = n->index;
	m->dst = t->index;
	m->id = f->id;
	m->epoch = n->epoch;
	sim_queue_push(&s->q, depart + x->timeout_ms * 1000, EV_FETCH_TIMEOUT, n->index, f->id,
	               NULL);
	sim_send(s, m, depart); /* a GET: no body bytes */
}

/* The monitor daemon's on_mirror(MON_MIRROR_ACCUSE): the signed word that
 * this monitor failed, then the ACC. */
static void accuse(sim *s, sim_node *n, const ctng_mirror_action *x, uint64_t depart)
{
	ctng_observation obs;
	ctng_gossip_object acc = {0};
	if (ctng_obs_sign(&obs, n->e->id, n->cfg.key, CTNG_FAM_STH, x->logger, x->period,
	                  CTNG_OBS_FAILED, NULL, CTNG_OBS_CHECK_DATA, NULL) == 0)
		sim_monitor_send_obs(s, n, &obs, depart);
	if (ctng_acc_sign(&acc, n->e->id, n->cfg.key, x->logger, x->period, sim_net_ms(s, depart),
	                  NULL) == 0)
		sim_monitor_send_object(s, n, &acc, depart);
	ctng_gossip_clear(&acc);
}

/* The mirror's word that it holds and verified the tree of `sth`. */
void sim_mirror_held(sim *s, sim_node *n, const ctng_gossip_object *sth, uint64_t depart)
{
	uint8_t d[32];
	ctng_observation obs;
	if (sth->period < s->periods) {
		sim_stats *ps = &n->stats[sth->period];
		uint64_t start = sim_period_start_us(s, sth->period);
		uint64_t after = depart > start ? depart - start : 0;
		ps->helds++;
		if (after > ps->last_held_us)
			ps->last_held_us = after;
	}
	if (ctng_gossip_content_digest(sth, d, NULL) == 0 &&
	    ctng_obs_sign(&obs, n->e->id, n->cfg.key, CTNG_FAM_STH, sth->signer, sth->period,
	                  CTNG_OBS_OBTAINED, d, CTNG_OBS_CHECK_DATA, NULL) == 0)
		sim_monitor_send_obs(s, n, &obs, depart);
}

/* Performs the actions (and those they lead to), as src/monitor/mirror.c
 * run() does; what is sent leaves at `depart` or after the stores. */
static void run(sim *s, sim_node *n, ctng_mirror_actions *a, uint64_t depart)
{
	uint64_t timer = 0;
	while (a->n) {
		ctng_mirror_actions next = {0};
		if (a->next_timer_ms && (!timer || a->next_timer_ms < timer))
			timer = a->next_timer_ms;
		for (size_t i = 0; i < a->n; i++) {
			ctng_mirror_action *x = &a->v[i];
			switch (x->kind) {
			case CTNG_MIR_FETCH:
				fetch(s, n, x, depart, &next);
				break;
			case CTNG_MIR_STORE: {
				bool ok = true;
				if (n->mdb &&
				    ctng_mirror_db_apply(n->mdb, x->logger, &x->run,
				                         x->run.complete ? &x->obj : NULL, NULL)) {
					/* persist before sign: no HELD for what is not kept */
					ctng_mirror_actions_store_failed(a, i);
					ctng_mirror_db_restore(n->mdb, n->mir, NULL);
					ok = false;
				}
				/* ingest and commit: charged per entry, then one transaction */
				uint64_t c = (uint64_t)((double)x->run.n * s->costs.entry_us + 0.5);
				sim_stats_at(s, n, depart)->cpu_us += c;
				depart += c;
				n->busy_until = depart;
				depart = sim_store_commit(s, n, depart);
				if (ok)
					sim_stats_at(s, n, depart)->mirror_entries += x->run.n;
				break;
			}
			case CTNG_MIR_HELD:
				sim_mirror_held(s, n, &x->obj, depart);
				break;
			case CTNG_MIR_ACCUSE:
				accuse(s, n, x, depart);
				break;
			case CTNG_MIR_POM:
				sim_monitor_send_object(s, n, &x->obj, depart);
				break;
			}
		}
		ctng_mirror_actions_free(a);
		*a = next;
	}
	if (a->next_timer_ms && (!timer || a->next_timer_ms < timer))
		timer = a->next_timer_ms;
	ctng_mirror_actions_free(a);
	arm(s, n, timer);
}

/* Every STH the monitor accepted or received (src/monitor/mirror.c
 * mon_mirror_on_sth). */
void sim_mirror_on_sth(sim *s, sim_node *n, const ctng_gossip_object *sth, uint64_t depart)
{
	if (!n->mir)
		return;
	bool held = false;
	if (n->mdb) {
		held = ctng_mirror_db_holds(n->mdb, sth, &held, NULL) == 0 && held;
	} else {
		/* charged: no store to ask; a smaller tree of a logger whose larger
		 * one was verified is held (the monitor checks consistency) */
		ctng_sth h;
		held = ctng_sth_from_object(sth, &h, NULL) == 0 &&
		       h.tree_size < ctng_mirror_sm_size(n->mir, sth->signer);
	}
	if (held && !ctng_mirror_sm_busy(n->mir, sth->signer)) {
		sim_mirror_held(s, n, sth, depart);
		return;
	}
	ctng_mirror_actions a = {0};
	ctng_mirror_sm_on_sth(n->mir, sth, sim_net_ms(s, depart), &a, NULL);
	run(s, n, &a, depart);
}

void sim_mirror_convicted(sim_node *n, const char *logger)
{
	if (n->mir)
		ctng_mirror_sm_convicted(n->mir, logger);
}

void sim_mirror_timer(sim *s, sim_node *n)
{
	n->mir_timer_at = 0;
	if (!n->mir)
		return;
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_mirror_actions a = {0};
	ctng_mirror_sm_on_timer(n->mir, sim_net_ms(s, mk.start), &a, NULL);
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	run(s, n, &a, done);
}

/* The answer to a mirror fetch (m NULL: its deadline passed). */
void sim_mirror_answer(sim *s, sim_node *n, const sim_fetch *f, const sim_msg *m)
{
	if (!n->mir)
		return;
	sim_mark mk;
	sim_begin(s, n, &mk);
	uint64_t now = sim_net_ms(s, mk.start);
	ctng_mirror_actions a = {0};
	int status = m ? m->status : 0;
	const char *fail = !m ? "timeout" : !status ? "connection refused" : NULL;
	size_t len = m && m->text ? m->text_len : 0;
	if (m && status && len > f->max_bytes) {
		status = 0;
		fail = "response too large";
	}
	if (m)
		sim_stats_at(s, n, mk.start)->mirror_bytes_in += m->bytes;
	ctng_mirror_sm_on_response(n->mir, f->mid, status,
	                           (const uint8_t *)(m && m->text && !fail ? m->text : ""),
	                           fail ? 0 : len, fail, now, &a, NULL);
	uint64_t done = sim_end(s, n, &mk, 1, len);
	run(s, n, &a, done);
}

/* ------------------------------------------------------------- serving */

static int status_of(int code)
{
	return code == CTNG_ENOTFOUND                       ? 404
	       : code == CTNG_EINVAL || code == CTNG_ERANGE ? 400
	                                                    : 500;
}

static char *json_text(json_t *j, size_t *len)
{
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	*len = t ? strlen(t) : 0;
	return t;
}

/* The signed tile roots of the logger, unsigned (what a peer serves). */
static int unsigned_roots(ctng_logger *lg, uint64_t size, uint64_t first, uint32_t count,
                          json_t **out)
{
	json_t *j = NULL;
	ctng_tile_roots t = {0};
	int rc = ctng_logger_tile_roots(lg, size, first, count, &j, NULL);
	if (!rc)
		rc = ctng_tile_roots_from_json(j, &t, NULL);
	json_decref(j);
	if (!rc) {
		free(t.sig);
		t.sig = NULL;
		t.sig_len = 0;
		rc = ctng_tile_roots_to_json(&t, out, NULL);
	}
	ctng_tile_roots_clear(&t);
	return rc;
}

/* GET <path> at a logger (lg) or at a monitor's mirror (n->mir): the
 * routes of the logger daemon and of src/monitor/mirror.c h_mirror. */
void sim_mirror_serve(sim *s, sim_node *n, sim_msg *m)
{
	sim_mark mk;
	sim_begin(s, n, &mk);
	const char *path = m->text ? m->text : "";
	char logger[CTNG_ID_MAX + 1] = "";
	sim_node *lgn = n->lg ? n : NULL;
	if (!n->lg) {
		const char *slash = strncmp(path, "/mirror/", 8) ? NULL : strchr(path + 8, '/');
		if (slash && (size_t)(slash - path - 8) <= CTNG_ID_MAX) {
			snprintf(logger, sizeof logger, "%.*s", (int)(slash - path - 8), path + 8);
			path = slash;
			lgn = sim_node_by_id(s, logger);
			if (lgn && !lgn->lg)
				lgn = NULL;
		}
	} else {
		snprintf(logger, sizeof logger, "%s", n->e->id);
	}
	int status = 200, rc = 0;
	uint8_t *body = NULL;
	size_t len = 0, wire = 0;
	uint64_t size = 0, first = 0, count = 0, idx = 0;
	unsigned width = 0;
	bool silent = n->lg && !ctng_logger_answers(n->lg, 0) && !ctng_logger_answers(n->lg, 1);
	if (silent) {
		sim_end(s, n, &mk, 1, 0);
		return; /* test-only silence: held unanswered */
	}
	if (!lgn || (!n->lg && !n->mir)) {
		status = 404;
	} else if (sscanf(path,
	                  "/ctng/v1/tile-roots?tree_size=%" SCNu64 "&first=%" SCNu64
	                  "&count=%" SCNu64,
	                  &size, &first, &count) == 3) {
		json_t *j = NULL;
		if (count > CTNG_TILE_ROOTS_MAX) {
			rc = CTNG_EINVAL;
		} else if (n->lg) {
			rc = ctng_logger_tile_roots(n->lg, size, first, (uint32_t)count, &j, NULL);
		} else if (n->mdb) {
			ctng_tile_roots t = {0};
			rc = ctng_mirror_db_tile_roots(n->mdb, logger, size, first, (uint32_t)count,
			                               &t, NULL);
			if (!rc)
				rc = ctng_tile_roots_to_json(&t, &j, NULL);
			ctng_tile_roots_clear(&t);
		} else if (size > ctng_mirror_sm_size(n->mir, logger)) {
			rc = CTNG_ENOTFOUND; /* charged: only what was verified */
		} else {
			rc = unsigned_roots(lgn->lg, size, first, (uint32_t)count, &j);
		}
		body = rc ? NULL : (uint8_t *)json_text(j, &len);
		wire = len;
	} else if (!strncmp(path, "/tile/data/", 11) &&
	           !(rc = ctng_merkle_tile_index_parse(path + 11, &idx, &width, NULL))) {
		if (n->lg)
			rc = ctng_logger_data_tile(n->lg, idx, width, &body, &len, NULL);
		else if (n->mdb)
			rc =
			    ctng_mirror_db_data_tile(n->mdb, logger, idx, width, &body, &len, NULL);
		else if (idx * CTNG_MERKLE_TILE_WIDTH + width > ctng_mirror_sm_size(n->mir, logger))
			rc = CTNG_ENOTFOUND;
		else
			rc = ctng_logger_data_tile(lgn->lg, idx, width, &body, &len, NULL);
		wire = len;
		if (!rc && s->sc->entry_bytes && wire < (size_t)width * s->sc->entry_bytes)
			wire = (size_t)width * s->sc->entry_bytes; /* the scenario's entry size */
	} else {
		rc = rc ? rc : CTNG_ENOTFOUND;
	}
	if (rc) {
		status = status_of(rc);
		free(body);
		body = NULL;
		len = wire = 0;
	}
	uint64_t done = sim_end(s, n, &mk, 1, len);
	sim_msg *r = sim_reply_new(m, status, NULL);
	if (!r) {
		free(body);
		return;
	}
	r->text = (char *)body;
	r->text_len = len;
	r->bytes = wire;
	sim_stats_at(s, n, done)->mirror_bytes_out += wire;
	sim_send(s, r, done);
}
