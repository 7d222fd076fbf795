/*
 * metrics.c — what the monitor daemon counts for GET /metrics
 * (docs/metrics.md, "Monitor"): accusations it made, PoMs it built,
 * convictions (CON_FULL) it learnt of, client updates published, and the
 * gauges read at each scrape.
 */
#include "monitor/monitor_internal.h"

static void collect(ctng_metrics *reg, void *arg)
{
	(void)reg;
	monitor_metrics *x = arg;
	ctng_gauge_set(x->held, NULL, (double)ctng_monitor_sm_held(x->sm));
}

int monitor_metrics_init(monitor_metrics *x, ctng_net_server *srv, ctng_store *st,
                         const ctng_node_config *cfg, const ctng_monitor_sm *sm, ctng_err *err)
{
	int rc = ctng_net_metrics_init(&x->net, srv, "monitor", cfg->id, &cfg->net.clock, err);
	if (rc)
		return rc;
	ctng_metrics *r = x->net.reg;
	x->sm = sm;
	x->accused = ctng_metrics_counter(r, "ctng_monitor_accusations_total",
	                                  "ACCs this monitor signed (an entity that did not answer "
	                                  "in time or answered wrongly), by entity.",
	                                  "entity", err);
	x->poms = ctng_metrics_counter(r, "ctng_monitor_poms_total",
	                               "Proofs of STH inconsistency this monitor built, by logger "
	                               "and kind (sth-fork, bad-consistency-proof).",
	                               "entity,kind", err);
	x->convicted = ctng_metrics_counter(r, "ctng_monitor_convictions_total",
	                                    "New CON_FULLs received from the gossiper, by entity.",
	                                    "entity", err);
	x->published = ctng_metrics_counter(r, "ctng_monitor_updates_published_total",
	                                    "Client updates published.", NULL, err);
	x->update_bytes = ctng_metrics_gauge(
	    r, "ctng_monitor_update_bytes", "Size of the last published client update.", NULL, err);
	x->last_period =
	    ctng_metrics_gauge(r, "ctng_monitor_last_published_period",
	                       "Period of the last published client update.", NULL, err);
	x->held =
	    ctng_metrics_gauge(r, "ctng_monitor_held_objects",
	                       "Objects the state machine keeps (FULLs, INITs, PoMs).", NULL, err);
	if (!x->accused || !x->poms || !x->convicted || !x->published || !x->update_bytes ||
	    !x->last_period || !x->held)
		rc = err && err->code ? err->code : CTNG_ENOMEM;
	if (!rc && st)
		rc = ctng_store_metrics(st, r, err);
	if (!rc)
		rc = ctng_metrics_on_collect(r, collect, x, NULL, err);
	if (rc)
		ctng_net_metrics_free(&x->net);
	return rc;
}

void monitor_metrics_published(monitor_metrics *x, uint64_t p, size_t len)
{
	if (!x->net.reg)
		return;
	ctng_counter_inc(x->published, NULL);
	ctng_gauge_set(x->update_bytes, NULL, (double)len);
	ctng_gauge_set(x->last_period, NULL, (double)p);
	ctng_net_metrics_phase(&x->net, "published", p, ctng_now_ms());
}
