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
	ctng_index_stats s;
	if (x->mi && mon_index_stats(x->mi, &s) == 0) {
		ctng_gauge_set(x->indexed, NULL, (double)s.certificates);
		ctng_gauge_set(x->pending, NULL, (double)s.pending);
	}
}

int monitor_metrics_init(monitor_metrics *x, ctng_net_server *srv, ctng_store *st,
                         const ctng_node_config *cfg, const ctng_monitor_sm *sm, ctng_err *err)
{
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_COUNTER(
	        &x->accused, "ctng_monitor_accusations_total",
	        "ACCs this monitor signed (an entity that did not answer in time or answered "
	        "wrongly), by entity.",
	        "entity"),
	    CTNG_METRICS_COUNTER(
	        &x->poms, "ctng_monitor_poms_total",
	        "Proofs of misbehaviour this monitor built, by entity and kind (sth-fork, "
	        "bad-consistency-proof, rid).",
	        "entity,kind"),
	    CTNG_METRICS_COUNTER(&x->convicted, "ctng_monitor_convictions_total",
	                         "New CON_FULLs received from the gossiper, by entity.", "entity"),
	    CTNG_METRICS_COUNTER(&x->published, "ctng_monitor_updates_published_total",
	                         "Client updates published.", NULL),
	    CTNG_METRICS_GAUGE(&x->update_bytes, "ctng_monitor_update_bytes",
	                       "Size of the last published client update.", NULL),
	    CTNG_METRICS_GAUGE(&x->last_period, "ctng_monitor_last_published_period",
	                       "Period of the last published client update.", NULL),
	    CTNG_METRICS_GAUGE(&x->held, "ctng_monitor_held_objects",
	                       "Objects the state machine keeps (FULLs, INITs, PoMs).", NULL),
	    CTNG_METRICS_GAUGE(&x->indexed, "ctng_monitor_indexed_certificates",
	                       "Distinct certificates the index holds.", NULL),
	    CTNG_METRICS_GAUGE(&x->pending, "ctng_monitor_notifications_pending",
	                       "Webhook notifications waiting in the outbox.", NULL),
	    CTNG_METRICS_COUNTER(&x->webhooks, "ctng_monitor_webhook_deliveries_total",
	                         "Webhook POSTs, by result (delivered, failed).", "result"),
	};
	x->sm = sm;
	int rc = ctng_net_metrics_init(&x->net, srv, "monitor", cfg->id, &cfg->net.clock, err);
	if (!rc && (rc = ctng_store_metrics(st, x->net.reg, err)))
		ctng_net_metrics_free(&x->net);
	return rc ? rc
	          : ctng_net_metrics_add(&x->net, specs, sizeof specs / sizeof *specs, collect, x,
	                                 err);
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
