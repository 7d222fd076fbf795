/*
 * metrics.c — what the CA daemon counts for GET /metrics (docs/metrics.md,
 * "CA"): certificates issued, REVs published, SCTs and inclusion proofs
 * obtained from loggers, and the revoked-bit count of the CRV.
 */
#include "ca/metrics.h"
#include "ca/ca_internal.h"

static void collect(ctng_metrics *reg, void *arg)
{
	(void)reg;
	ca_metrics *x = arg;
	if (x->ca->crv)
		ctng_gauge_set(x->crv_size, NULL,
		               (double)roaring_bitmap_get_cardinality(x->ca->crv));
}

int ca_metrics_init(ca_metrics *x, ctng_net_server *srv, struct ctng_ca *ca,
                    const ctng_node_config *cfg, ctng_err *err)
{
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_COUNTER(&x->issued, "ctng_ca_certificates_issued_total",
	                         "Certificates issued (with their CTng inclusion proofs).", NULL),
	    CTNG_METRICS_COUNTER(&x->revs, "ctng_ca_revs_published_total",
	                         "Signed revocation updates (REV) published.", NULL),
	    CTNG_METRICS_COUNTER(
	        &x->scts, "ctng_ca_scts_total",
	        "Precertificate submissions answered by loggers, by logger and result (ok, "
	        "refused, bad, failed).",
	        "logger,result"),
	    CTNG_METRICS_COUNTER(
	        &x->proofs, "ctng_ca_proofs_total",
	        "Inclusion-proof fetches from loggers, by logger and result (ok, unavailable, bad, "
	        "failed).",
	        "logger,result"),
	    CTNG_METRICS_GAUGE(&x->crv_size, "ctng_ca_revoked_certificates",
	                       "Bits set in the CRV of the last published REV.", NULL),
	};
	x->ca = ca;
	int rc = ctng_net_metrics_init(&x->net, srv, "ca", cfg->id, &cfg->net.clock, err);
	if (!rc && (rc = ctng_store_metrics(ca->store, x->net.reg, err)))
		ctng_net_metrics_free(&x->net);
	return rc ? rc
	          : ctng_net_metrics_add(&x->net, specs, sizeof specs / sizeof *specs, collect, x,
	                                 err);
}

void ca_metrics_rev(ca_metrics *x, uint64_t p)
{
	if (!x->net.reg)
		return;
	ctng_counter_inc(x->revs, NULL);
	ctng_net_metrics_phase(&x->net, "rev_published", p, ctng_now_ms());
}

void ca_metrics_issued(ca_metrics *x, uint64_t p, size_t n)
{
	if (!x->net.reg || n == 0)
		return;
	ctng_counter_add(x->issued, NULL, (double)n);
	ctng_net_metrics_phase(&x->net, "issued", p, ctng_now_ms());
}
