/* monitor_internal.h — helpers shared by the files of the monitor module. */
#ifndef CTNG_MONITOR_INTERNAL_H
#define CTNG_MONITOR_INTERNAL_H

#include "ctng/metrics.h"
#include "ctng/monitor.h"
#include "ctng/net.h"
#include "ctng/store.h"

/* Group of a FULL type in the update order (STH_FULL 0 .. CON_FULL 3), -1 otherwise. */
int mon_full_group(enum ctng_type t);
/* Canonical order of FULLs in an update: group, entity (strcmp), period. */
int mon_full_cmp(const ctng_gossip_object *a, const ctng_gossip_object *b);
/* Verifies an STH/REV (entity key) or CON (ctng_con_verify) against net. */
int mon_verify_init(const ctng_gossip_object *o, const ctng_network *net, ctng_err *err);
/* Builds the PoM JSON text of docs/monitor.md §4 (malloc'd). */
int mon_pom_build(const char *logger, bool fork, const ctng_gossip_object *first,
                  const ctng_gossip_object *second, const uint8_t (*proof)[32], size_t proof_len,
                  char **text, size_t *len, ctng_err *err);

struct json_t;
/* Strict JSON object parse (duplicate keys and NUL rejected, at most max bytes). */
int mon_load_json(const char *json, size_t len, size_t max, struct json_t **out, ctng_err *err);

/* ----------------------------------------------------------- metrics.c */

typedef struct monitor_metrics {
	ctng_net_metrics net; /* the registry and what every daemon counts */
	ctng_metric *accused, *poms, *convicted, *published, *update_bytes, *last_period, *held;
	const ctng_monitor_sm *sm;
} monitor_metrics;

/* Registers the monitor's families (and the store's) on a new registry
 * served at GET /metrics on srv. x stays at its address until
 * ctng_net_metrics_free(&x->net). */
int monitor_metrics_init(monitor_metrics *x, ctng_net_server *srv, ctng_store *st,
                         const ctng_node_config *cfg, const ctng_monitor_sm *sm, ctng_err *err);
/* The client update of period p (len bytes) was published. */
void monitor_metrics_published(monitor_metrics *x, uint64_t p, size_t len);

#endif
