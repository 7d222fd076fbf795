/* monitor_internal.h — helpers shared by the files of the monitor module. */
#ifndef CTNG_MONITOR_INTERNAL_H
#define CTNG_MONITOR_INTERNAL_H

#include "ctng/index.h"
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

/* ------------------------------------------- the daemon's mirror (mirror.c) */

struct ctng_store;
struct ctng_net_loop;
struct ctng_net_server;
struct ctng_mirror_db;
typedef struct mon_mirror mon_mirror;

enum mon_mirror_event {
	MON_MIRROR_HELD = 1,   /* obj: an STH whose whole tree the mirror holds */
	MON_MIRROR_ACCUSE = 2, /* reason: the logger did not serve its entries */
	MON_MIRROR_POM = 3,    /* obj: a data CON against the logger          */
	MON_MIRROR_STORED = 4, /* a run of entries was committed (the index's work follows) */
};
/* How the mirror tells the monitor daemon (which signs and sends). */
typedef void (*mon_mirror_send_fn)(void *arg, enum mon_mirror_event ev, const char *logger,
                                   uint64_t period, const ctng_gossip_object *obj,
                                   const char *reason);

/* Opens the mirror on the monitor's store and loop and routes GET
 * /mirror/... and /ctng/v1/mirror on srv. */
int mon_mirror_open(const ctng_node_config *cfg, struct ctng_store *st,
                    struct ctng_net_loop *loop, struct ctng_net_server *srv,
                    mon_mirror_send_fn send, void *arg, mon_mirror **out, ctng_err *err);
/* An STH the monitor accepted or received: mirror toward it (HELD at once
 * when its tree is held). */
void mon_mirror_on_sth(mon_mirror *mm, const ctng_gossip_object *sth);
void mon_mirror_convicted(mon_mirror *mm, const char *logger);
bool mon_mirror_holds(mon_mirror *mm, const ctng_gossip_object *sth);
/* Entries held, all loggers together. */
uint64_t mon_mirror_entries(mon_mirror *mm);
struct ctng_mirror_db *mon_mirror_db(mon_mirror *mm);
/* Before freeing the loop (frees the timer; in-flight answers are then
 * ignored); mon_mirror_free after it. */
void mon_mirror_stop(mon_mirror *mm);
void mon_mirror_free(mon_mirror *mm);

/* ------------------------------------- verified CRVs of the CAs (crv.c) */

typedef struct mon_crv mon_crv;
/* Table monitor_crv on st; routes GET /ctng/v1/crv on srv. */
int mon_crv_open(const ctng_network *net, struct ctng_store *st, struct ctng_net_loop *loop,
                 struct ctng_net_server *srv, uint64_t timeout_ms, mon_crv **out,
                 ctng_err *err);
/* A REV the monitor accepted or received (signature checked): CRV(p) from
 * CRV(p-1) and the delta, or the CA's full CRV(p), kept if it hashes to the
 * signed hash. */
void mon_crv_on_rev(mon_crv *mc, const ctng_gossip_object *rev);
struct roaring_bitmap_s;
/* Called with every CRV kept, inside the transaction that keeps it (a
 * non-zero return rolls it back). */
typedef int (*mon_crv_hook)(void *arg, const char *ca, uint64_t period,
                            const struct roaring_bitmap_s *crv, ctng_err *err);
void mon_crv_set_hook(mon_crv *mc, mon_crv_hook hook, void *arg);
void mon_crv_stop(mon_crv *mc); /* before the loop is freed */
void mon_crv_free(mon_crv *mc);

/* ------------------------------ the certificate index (index.c, alerts.c) */

struct ctng_index;
typedef struct mon_index mon_index;
typedef struct mon_alerts mon_alerts;
/* A RID CON the index found (fresh) or sends again (each period, until
 * the CA is convicted): the daemon stores and gossips it. */
typedef void (*mon_index_send_fn)(void *arg, const ctng_gossip_object *con, bool fresh);
/* Opens the index on the monitor's store: the mirror's entry hook on mdb,
 * the CRV hook on mc, the watches of the config, the routes of
 * docs/endpoints.md (search, events, index, watches) on srv. */
struct monitor_metrics;
int mon_index_open(const ctng_node_config *cfg, struct ctng_store *st,
                   struct ctng_net_loop *loop, struct ctng_net_server *srv,
                   struct ctng_mirror_db *mdb, mon_crv *mc, mon_index_send_fn send, void *arg,
                   mon_index **out, ctng_err *err);
/* The index's counters (GET /ctng/v1/index, /metrics). */
int mon_index_stats(mon_index *mi, ctng_index_stats *out);
/* Where deliveries are counted (ctng_monitor_webhook_deliveries_total);
 * x stays valid while the index runs, its families may still be NULL. */
void mon_index_set_metrics(mon_index *mi, const struct monitor_metrics *x);
/* After a mirror run or a CRV was committed: RID CONs, long polls, webhooks. */
void mon_index_kick(mon_index *mi);
/* At each period's query time: the RID CONs found, again. */
void mon_index_period(mon_index *mi, uint64_t period);
void mon_index_stop(mon_index *mi); /* before the loop is freed */
void mon_index_free(mon_index *mi); /* after */

int mon_alerts_open(const ctng_node_config *cfg, struct ctng_net_loop *loop,
                    struct ctng_index *ix, const char *tls_ca, mon_alerts **out,
                    ctng_err *err); /* tls_ca: of https webhooks, NULL = system roots */
void mon_alerts_set_metrics(mon_alerts *ma, const struct monitor_metrics *x);
void mon_alerts_kick(mon_alerts *ma); /* deliver what is due */
void mon_alerts_stop(mon_alerts *ma);
void mon_alerts_free(mon_alerts *ma);

struct json_t;
/* Strict JSON object parse (duplicate keys and NUL rejected, at most max bytes). */
int mon_load_json(const char *json, size_t len, size_t max, struct json_t **out, ctng_err *err);

/* ----------------------------------------------------------- metrics.c */

typedef struct mon_index mon_index;
typedef struct monitor_metrics {
	ctng_net_metrics net; /* the registry and what every daemon counts */
	ctng_metric *accused, *poms, *convicted, *published, *update_bytes, *last_period, *held;
	ctng_metric *indexed, *pending, *webhooks;
	const ctng_monitor_sm *sm;
	mon_index *mi; /* set by the daemon once open */
} monitor_metrics;

/* Registers the monitor's families (and the store's) on a new registry
 * served at GET /metrics on srv. x stays at its address until
 * ctng_net_metrics_free(&x->net). */
int monitor_metrics_init(monitor_metrics *x, ctng_net_server *srv, ctng_store *st,
                         const ctng_node_config *cfg, const ctng_monitor_sm *sm, ctng_err *err);
/* The client update of period p (len bytes) was published. */
void monitor_metrics_published(monitor_metrics *x, uint64_t p, size_t len);

/* --------------------------------------------------------- dashboard.c */

/* A file of the web page, compiled in (cmake/embed.cmake writes
 * monitor_assets.c from src/monitor/dashboard/ at build time). */
typedef struct monitor_asset {
	const char *path; /* "/", "/dashboard.js", ... */
	const char *content_type;
	const unsigned char *data;
	size_t len;
} monitor_asset;
extern const monitor_asset monitor_assets[];
extern const size_t monitor_n_assets;

/* What the dashboard reads (borrowed from the daemon, which outlives it). */
typedef struct monitor_dash {
	const ctng_node_config *cfg;
	const ctng_monitor_sm *sm;
	ctng_store *st;
	const bool *has_published;
	const uint64_t *last_published;
} monitor_dash;

/* The snapshot of GET /ctng/v1/dashboard (docs/endpoints.md) for the last
 * n_periods published periods. */
int monitor_dashboard_json(const monitor_dash *d, unsigned n_periods, struct json_t **out,
                           ctng_err *err);
/* Routes GET /, the page's assets and GET /ctng/v1/dashboard on srv. */
int monitor_dashboard_routes(ctng_net_server *srv, monitor_dash *d, ctng_err *err);

#endif
