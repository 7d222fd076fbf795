/*
 * gossiper_internal.h — helpers shared by the gossiper daemon and its fuzz
 * target (not part of the public API).
 */
#ifndef CTNG_GOSSIPER_INTERNAL_H
#define CTNG_GOSSIPER_INTERNAL_H

#include "ctng/gossiper.h"
#include "ctng/metrics.h"
#include "ctng/net.h"
#include "ctng/store.h"

/* Feeds the body of a GET /ctng/v1/objects answer ({"period", "gossiper",
 * "objects": [...]}) to the state machine: strict JSON, at most
 * CTNG_GOSSIP_JSON_MAX * 4 bytes, every element decoded strictly and passed
 * to on_object (from = the peer's id). Invalid elements are skipped. Returns
 * the number of objects accepted as new (>= 0), or CTNG_EINVAL when the body
 * is not such a JSON object. */
int gossiper_feed_objects(ctng_gossiper_sm *sm, const uint8_t *body, size_t len, const char *from,
                          uint64_t now_ms, ctng_gossiper_actions *acts, ctng_err *err);

/* ------------------------------------------------------------ metrics.c */

typedef struct gossiper_metrics {
	ctng_net_metrics net; /* the registry and what every daemon counts */
	ctng_metric *made, *accused, *convicted, *dropped, *bytes, *held, *con_full, *signing;
	const ctng_gossiper_sm *sm;
	char self[CTNG_ID_MAX + 1];
} gossiper_metrics;

/* in_type of gossiper_metrics_stored for objects pulled from peers or
 * restored from the database: nothing in that batch was made here. */
#define GOSSIPER_IN_PULLED (-1)

/* Registers the gossiper's families (and the store's) on a new registry
 * served at GET /metrics on srv. x stays at its address until
 * ctng_net_metrics_free(&x->net). */
int gossiper_metrics_init(gossiper_metrics *x, ctng_net_server *srv, ctng_store *st,
                          const ctng_node_config *cfg, const ctng_gossiper_sm *sm, ctng_err *err);
/* A STORE action for a new object o, run while handling an object of type
 * in_type (0 for a timer, GOSSIPER_IN_PULLED for a catch-up or restore). */
void gossiper_metrics_stored(gossiper_metrics *x, const ctng_gossip_object *o, int in_type);

#endif
