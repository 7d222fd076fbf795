/*
 * metrics.h — what the logger daemon counts for GET /metrics (metrics.c;
 * docs/metrics.md, "Logger"). Internal to src/logger.
 */
#ifndef CTNG_LOGGER_METRICS_H
#define CTNG_LOGGER_METRICS_H

#include "ctng/logger.h"
#include "ctng/metrics.h"
#include "ctng/net.h"
#include "ctng/store.h"

typedef struct logger_metrics {
	ctng_net_metrics net; /* the registry and what every daemon counts */
	ctng_metric *subs, *batch, *commit, *published, *publish_secs, *tree_size, *pending;
	ctng_logger *lg;
} logger_metrics;

/* Registers the logger's families (and the store's) on a new registry
 * served at GET /metrics on srv. x stays at its address until
 * ctng_net_metrics_free(&x->net). */
int logger_metrics_init(logger_metrics *x, ctng_net_server *srv, ctng_store *st, ctng_logger *lg,
                        const char *id, const ctng_clock *clock, ctng_err *err);
/* One submission answered without joining a commit: "duplicate" (its
 * stored SCT) or "rejected" with the error code. */
void logger_metrics_sub(logger_metrics *x, const char *result, int code);
/* A group commit of n submissions that took since t0 (ctng_mono_ns) and
 * ended with rc. */
void logger_metrics_commit(logger_metrics *x, size_t n, int rc, uint64_t t0);
/* A period tick that published a new STH after taking since t0. */
void logger_metrics_published(logger_metrics *x, uint64_t t0);

#endif
