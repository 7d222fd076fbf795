/*
 * metrics.c — what the gossiper daemon counts for GET /metrics
 * (docs/metrics.md, "Gossiper"): objects it made (partials signed, FULLs
 * combined, conflicts found) told apart from objects it received, the
 * entities accused (ACC_FULL) and convicted (CON_FULL), pushes dropped,
 * gossip bytes, and how far into each period every type was first held.
 */
#include <string.h>

#include "gossiper/gossiper_internal.h"

static void collect(ctng_metrics *reg, void *arg)
{
	(void)reg;
	gossiper_metrics *x = arg;
	if (!x->sm) /* no state machine before the DKG gave the gossiper its key */
		return;
	ctng_gauge_set(x->held, NULL, (double)ctng_gossiper_sm_held(x->sm));
	ctng_gauge_set(x->con_full, NULL, (double)ctng_gossiper_sm_n_con_full(x->sm));
	ctng_gauge_set(x->signing, NULL, ctng_gossiper_sm_signing(x->sm) ? 1 : 0);
}

int gossiper_metrics_init(gossiper_metrics *x, ctng_net_server *srv, ctng_store *st,
                          const ctng_node_config *cfg, const ctng_gossiper_sm *sm, ctng_err *err)
{
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_COUNTER(
	        &x->made, "ctng_gossiper_made_total",
	        "Objects this gossiper made, by type: partials it signed (*_FRAG), FULLs it "
	        "combined (*_FULL), conflicts it found (CON).",
	        "type"),
	    CTNG_METRICS_COUNTER(&x->accused, "ctng_gossiper_accusations_total",
	                         "ACC_FULLs held (an entity accused for a period), by entity.",
	                         "entity"),
	    CTNG_METRICS_COUNTER(&x->convicted, "ctng_gossiper_convictions_total",
	                         "CON_FULLs held (proofs of misbehaviour), by entity.", "entity"),
	    CTNG_METRICS_COUNTER(
	        &x->dropped, "ctng_gossiper_pushes_dropped_total",
	        "Pushes not sent because too many were in flight to that destination, by peer.",
	        "peer"),
	    CTNG_METRICS_COUNTER(
	        &x->bytes, "ctng_gossip_bytes_total",
	        "Gossip body bytes, by direction (in: POSTs received, out: pushes sent).",
	        "direction"),
	    CTNG_METRICS_GAUGE(&x->held, "ctng_gossiper_held_objects",
	                       "Objects the state machine holds (current periods).", NULL),
	    CTNG_METRICS_GAUGE(&x->con_full, "ctng_gossiper_con_full_objects",
	                       "CON_FULLs held (they never expire).", NULL),
	    CTNG_METRICS_GAUGE(&x->signing, "ctng_gossiper_signing",
	                       "1 while this gossiper signs; 0 while it cannot persist what it "
	                       "would sign (persist before sign).",
	                       NULL),
	};
	x->sm = sm;
	snprintf(x->self, sizeof x->self, "%s", cfg->id);
	int rc = ctng_net_metrics_init(&x->net, srv, "gossiper", cfg->id, &cfg->net.clock, err);
	if (!rc && (rc = ctng_store_metrics(st, x->net.reg, err)))
		ctng_net_metrics_free(&x->net);
	return rc ? rc
	          : ctng_net_metrics_add(&x->net, specs, sizeof specs / sizeof *specs, collect, x,
	                                 err);
}

void gossiper_metrics_stored(gossiper_metrics *x, const ctng_gossip_object *o, int in_type)
{
	if (!x->net.reg)
		return;
	const char *type = ctng_type_name(o->type);
	if (!type)
		return;
	char phase[32];
	snprintf(phase, sizeof phase, "held_%s", type);
	ctng_net_metrics_phase(&x->net, phase, o->period, ctng_now_ms());
	/* Made here: anything stored as the result of a timer, or of an object
	 * of another type (a FRAG that completes t partials makes a FULL); never
	 * what was pulled or restored. A FRAG is ours only if we signed it. */
	bool ours = in_type != GOSSIPER_IN_PULLED && (int)o->type != in_type;
	if (ours && ctng_type_kind(o->type) == CTNG_KIND_FRAG && strcmp(o->signer, x->self) != 0)
		ours = false;
	if (ours)
		ctng_counter_inc(x->made, CTNG_LABELS(type));
	if (o->type == CTNG_ACC_FULL)
		ctng_counter_inc(x->accused, CTNG_LABELS(ctng_gossip_entity(o)));
	else if (o->type == CTNG_CON_FULL)
		ctng_counter_inc(x->convicted, CTNG_LABELS(ctng_gossip_entity(o)));
}
