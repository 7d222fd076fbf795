/*
 * ctng/metrics.h — the metrics of one process: counters, gauges and
 * histograms, each a family with a fixed list of label names, kept in a
 * registry and rendered in the Prometheus text exposition format (0.0.4),
 * which every daemon serves at GET /metrics (ctng_net_server_metrics in
 * ctng/net.h). Every metric is described in docs/metrics.md.
 *
 * Use (a daemon, at start):
 *
 *     ctng_metrics *reg = ctng_metrics_new(&err);
 *     ctng_metric *pushes = ctng_metrics_counter(reg, "ctng_gossiper_pushes_total",
 *         "Pushes to peers by peer and result.", "peer,result", &err);
 *     ...
 *     ctng_counter_inc(pushes, CTNG_LABELS("gossiper2", "ok"));
 *
 * Names follow Prometheus: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, counters
 * end in `_total`, units in the name (`_seconds`, `_bytes`); label names
 * [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (and not "le" on a
 * histogram). Help text is required (promtool lints it).
 *
 * Label values: every update passes exactly as many values as the family
 * has label names, as an array (CTNG_LABELS builds one), or NULL for a
 * family without labels. Values are copied; bytes outside printable ASCII
 * become '?', and values longer than CTNG_METRICS_LABEL_MAX bytes are cut,
 * so whatever a caller passes renders as valid exposition text. Cardinality
 * is bounded: a family holds at most its limit of series (default
 * CTNG_METRICS_DEFAULT_SERIES, ctng_metric_set_limit); an update for a new
 * label set beyond it goes to one overflow series whose every label value
 * is "_other", and ctng_metrics_overflow_total{metric="NAME"} counts it.
 * Pass values from a fixed vocabulary (route patterns, entity ids from
 * network.json, error-code names), never raw request text.
 *
 * NULL tolerance: every update function accepts metric == NULL and does
 * nothing, so code paths that run without a registry (unit tests, tools)
 * need no checks.
 *
 * Thread safety: every function may be called from any thread (one mutex
 * per registry guards its families and series); a daemon's loop thread and
 * its worker threads may count into the same registry. Collect hooks run
 * on the thread that renders, without the lock held.
 */
#ifndef CTNG_METRICS_H
#define CTNG_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

typedef struct ctng_metrics ctng_metrics; /* a registry */
typedef struct ctng_metric ctng_metric;   /* one family, owned by its registry */

#define CTNG_METRICS_LABEL_MAX      128  /* bytes kept of one label value */
#define CTNG_METRICS_MAX_LABELS     8    /* label names per family */
#define CTNG_METRICS_MAX_BUCKETS    32   /* finite histogram buckets */
#define CTNG_METRICS_DEFAULT_SERIES 256  /* series per family before overflow */
#define CTNG_METRICS_MAX_SERIES     8192 /* hard ceiling of ctng_metric_set_limit */
#define CTNG_METRICS_MAX_FAMILIES   512

/* Builds the label-value array of one update: CTNG_LABELS("GET", "200"). */
#define CTNG_LABELS(...) ((const char *const[]){__VA_ARGS__})

/* The Content-Type of the exposition text. */
#define CTNG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Latency buckets in seconds, 1 ms .. 60 s (15 bounds). */
extern const double ctng_metrics_latency_buckets[];
extern const size_t ctng_metrics_latency_nbuckets;
/* Offsets into a period in seconds, 10 ms .. 1 h (17 bounds): test networks
 * run 1-4 s periods, production ones minutes to hours. */
extern const double ctng_metrics_period_buckets[];
extern const size_t ctng_metrics_period_nbuckets;

/* A new, empty registry; NULL (err filled) when out of memory. */
ctng_metrics *ctng_metrics_new(ctng_err *err);
/* Frees the registry and every family in it; NULL is a no-op. */
void ctng_metrics_free(ctng_metrics *reg);

/* Registers (or finds) a family. `labels` is a comma-separated list of
 * label names ("route,method,code"), NULL or "" for none. Registering a
 * name again with the same type, labels (and buckets) returns the existing
 * family; with anything different it is CTNG_ECONFLICT. Returns NULL with
 * err filled on an invalid name, label list or help (CTNG_EINVAL), more than
 * CTNG_METRICS_MAX_FAMILIES families (CTNG_ERANGE) or out of memory. */
ctng_metric *ctng_metrics_counter(ctng_metrics *reg, const char *name, const char *help,
                                  const char *labels, ctng_err *err);
ctng_metric *ctng_metrics_gauge(ctng_metrics *reg, const char *name, const char *help,
                                const char *labels, ctng_err *err);
/* buckets: nbuckets (1..CTNG_METRICS_MAX_BUCKETS) finite upper bounds,
 * strictly increasing; the +Inf bucket is implicit. */
ctng_metric *ctng_metrics_histogram(ctng_metrics *reg, const char *name, const char *help,
                                    const char *labels, const double *buckets, size_t nbuckets,
                                    ctng_err *err);

/* A table of families to register at once (ctng_metrics_register). */
typedef enum ctng_metric_type {
	CTNG_METRIC_COUNTER,
	CTNG_METRIC_GAUGE,
	CTNG_METRIC_HISTOGRAM
} ctng_metric_type;
typedef struct ctng_metrics_spec {
	ctng_metric **out; /* receives the family */
	ctng_metric_type type;
	const char *name, *help, *labels;
	const double *buckets; /* histograms only */
	size_t nbuckets;
} ctng_metrics_spec;

/* Entries of a spec table. */
#define CTNG_METRICS_COUNTER(out, name, help, labels)                                              \
	{                                                                                          \
		(out), CTNG_METRIC_COUNTER, (name), (help), (labels), NULL, 0                      \
	}
#define CTNG_METRICS_GAUGE(out, name, help, labels)                                                \
	{                                                                                          \
		(out), CTNG_METRIC_GAUGE, (name), (help), (labels), NULL, 0                        \
	}
#define CTNG_METRICS_HISTOGRAM(out, name, help, labels, buckets, n)                                \
	{                                                                                          \
		(out), CTNG_METRIC_HISTOGRAM, (name), (help), (labels), (buckets), (n)             \
	}

/* Registers every family of specs[0..n) into *specs[i].out. Returns 0, or
 * the first failure (err filled; families already registered stay in the
 * registry). */
int ctng_metrics_register(ctng_metrics *reg, const ctng_metrics_spec *specs, size_t n,
                          ctng_err *err);

/* Sets the family's series limit (1..CTNG_METRICS_MAX_SERIES; the overflow
 * series comes on top). Series already held stay. Returns 0 or CTNG_EINVAL. */
int ctng_metric_set_limit(ctng_metric *m, size_t max_series);

/* --- updates (metric may be NULL: no-op) --- */

/* Counter += v. A negative, NaN or infinite v is ignored (counters only grow). */
void ctng_counter_add(ctng_metric *m, const char *const *labels, double v);
void ctng_counter_inc(ctng_metric *m, const char *const *labels);
/* Gauge = v / gauge += v (v may be negative). Non-finite values are ignored. */
void ctng_gauge_set(ctng_metric *m, const char *const *labels, double v);
void ctng_gauge_add(ctng_metric *m, const char *const *labels, double v);
/* One observation into a histogram (NaN ignored). */
void ctng_histogram_observe(ctng_metric *m, const char *const *labels, double v);
/* Drops every series of the family (e.g. a gauge per peer rebuilt each scrape). */
void ctng_metric_clear(ctng_metric *m);

/* Seconds elapsed since a ctng_mono_ns() reading (for latency histograms). */
double ctng_metrics_since(uint64_t mono_ns_start);

/* The `reason` label of a rejection: a fixed word per CTNG_E* code
 * ("malformed" EINVAL, "invalid" EVERIFY, "not_found", "conflict", "io",
 * "no_memory", "out_of_range", "timeout", "wrong_state"; "error" else). */
const char *ctng_metrics_reason(int code);

/* --- reading --- */

/* The value of one series: a counter's or gauge's value, a histogram's
 * observation count (and its sum in *sum if not NULL). CTNG_ENOTFOUND if
 * the series was never updated, CTNG_EINVAL on a NULL metric. */
int ctng_metric_get(ctng_metric *m, const char *const *labels, double *value, double *sum);

/* A hook run at the start of every ctng_metrics_render, before the text is
 * made: it sets the gauges that are read rather than counted (database
 * size, tree size, peers up). free_arg (may be NULL) is called on arg when
 * the registry is freed, so a hook may own a copy of what it reads instead
 * of pointing into an object that can go away first. At most 16 hooks;
 * CTNG_ERANGE beyond (free_arg is then not called). */
typedef void (*ctng_metrics_collect_fn)(ctng_metrics *reg, void *arg);
int ctng_metrics_on_collect(ctng_metrics *reg, ctng_metrics_collect_fn fn, void *arg,
                            void (*free_arg)(void *), ctng_err *err);

/* Appends the exposition text of every family (registration order; series
 * in the order they first appeared) to out: "# HELP", "# TYPE", then one
 * line per sample. Runs the collect hooks first. Rendering changes nothing
 * but what the hooks set. Returns 0 or CTNG_ENOMEM. */
int ctng_metrics_render(ctng_metrics *reg, ctng_buf *out, ctng_err *err);

/* Registers the standard process metrics (process_start_time_seconds,
 * process_cpu_seconds_total, process_resident_memory_bytes,
 * process_open_fds, process_max_fds; read from /proc at each render) and
 * ctng_build_info{version,commit,role,node} 1. role/node may be NULL (""). */
int ctng_metrics_process(ctng_metrics *reg, const char *role, const char *node, ctng_err *err);

#endif
