/*
 * metrics.h — what the CA daemon counts for GET /metrics (metrics.c;
 * docs/metrics.md, "CA"). Internal to src/ca.
 */
#ifndef CTNG_CA_METRICS_H
#define CTNG_CA_METRICS_H

#include "ctng/ca.h"
#include "ctng/metrics.h"
#include "ctng/net.h"

typedef struct ca_metrics {
	ctng_net_metrics net; /* the registry and what every daemon counts */
	ctng_metric *issued, *revs, *scts, *proofs, *crv_size;
	struct ctng_ca *ca;
} ca_metrics;

/* Registers the CA's families (and its store's) on a new registry served
 * at GET /metrics on srv. x stays at its address until
 * ctng_net_metrics_free(&x->net). */
int ca_metrics_init(ca_metrics *x, ctng_net_server *srv, struct ctng_ca *ca,
                    const ctng_node_config *cfg, ctng_err *err);
/* REV(p) was published. */
void ca_metrics_rev(ca_metrics *x, uint64_t p);
/* n certificates were issued in period p. */
void ca_metrics_issued(ca_metrics *x, uint64_t p, size_t n);

#endif
