/*
 * metrics.c — what the logger daemon counts for GET /metrics
 * (docs/metrics.md, "Logger"): submissions by result, group commits (size
 * and latency), STHs published and how long integrating and signing took,
 * the tree size and the entries waiting for the next STH.
 */
#include "logger/metrics.h"

static const double batch_buckets[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

static void collect(ctng_metrics *reg, void *arg)
{
	(void)reg;
	logger_metrics *x = arg;
	uint64_t n = 0;
	ctng_gauge_set(x->tree_size, NULL, (double)ctng_logger_tree_size(x->lg));
	if (ctng_logger_pending_count(x->lg, &n, NULL) == 0)
		ctng_gauge_set(x->pending, NULL, (double)n);
}

int logger_metrics_init(logger_metrics *x, ctng_net_server *srv, ctng_store *st, ctng_logger *lg,
                        const char *id, const ctng_clock *clock, ctng_err *err)
{
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_COUNTER(
	        &x->subs, "ctng_logger_submissions_total",
	        "add-chain / add-pre-chain submissions answered, by result (logged, duplicate, "
	        "rejected, failed) and reason.",
	        "result,reason"),
	    CTNG_METRICS_HISTOGRAM(&x->batch, "ctng_logger_group_commit_entries",
	                           "Submissions written by one group commit.", NULL, batch_buckets,
	                           sizeof batch_buckets / sizeof *batch_buckets),
	    CTNG_METRICS_HISTOGRAM(
	        &x->commit, "ctng_logger_group_commit_duration_seconds",
	        "Time one group commit took (entries written and durable, SCTs not yet sent).",
	        NULL, ctng_metrics_latency_buckets, ctng_metrics_latency_nbuckets),
	    CTNG_METRICS_COUNTER(&x->published, "ctng_logger_sths_published_total",
	                         "Signed tree heads published (one per period).", NULL),
	    CTNG_METRICS_HISTOGRAM(
	        &x->publish_secs, "ctng_logger_publish_duration_seconds",
	        "Time the period tick took to integrate the pending entries and sign the STH.",
	        NULL, ctng_metrics_latency_buckets, ctng_metrics_latency_nbuckets),
	    CTNG_METRICS_GAUGE(&x->tree_size, "ctng_logger_tree_size",
	                       "Entries in the tree of the latest STH.", NULL),
	    CTNG_METRICS_GAUGE(&x->pending, "ctng_logger_pending_entries",
	                       "Entries logged (SCT given) that the next STH will cover.", NULL),
	};
	x->lg = lg;
	int rc = ctng_net_metrics_init(&x->net, srv, "logger", id, clock, err);
	if (!rc && (rc = ctng_store_metrics(st, x->net.reg, err)))
		ctng_net_metrics_free(&x->net);
	return rc ? rc
	          : ctng_net_metrics_add(&x->net, specs, sizeof specs / sizeof *specs, collect, x,
	                                 err);
}

void logger_metrics_sub(logger_metrics *x, const char *result, int code)
{
	ctng_counter_inc(x->subs, CTNG_LABELS(result, code ? ctng_metrics_reason(code) : ""));
}

void logger_metrics_commit(logger_metrics *x, size_t n, int rc, uint64_t t0)
{
	if (!x->net.reg)
		return;
	ctng_histogram_observe(x->commit, NULL, ctng_metrics_since(t0));
	ctng_histogram_observe(x->batch, NULL, (double)n);
	ctng_counter_add(x->subs,
	                 CTNG_LABELS(rc ? "failed" : "logged", rc ? ctng_metrics_reason(rc) : ""),
	                 (double)n);
}

void logger_metrics_published(logger_metrics *x, uint64_t t0)
{
	if (!x->net.reg)
		return;
	ctng_counter_inc(x->published, NULL);
	ctng_histogram_observe(x->publish_secs, NULL, ctng_metrics_since(t0));
	uint64_t p = 0, now = ctng_now_ms();
	if (ctng_clock_period_of(&x->net.clock, now, &p))
		ctng_net_metrics_phase(&x->net, "sth_published", p, now);
}
