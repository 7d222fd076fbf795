/*
 * ctng/index.h — a monitor's index of the certificates its mirror holds
 * (issue 11 items 3-5, docs/monitor.md §10-§11): what domain owners use a
 * CT monitor for. Every verified log entry (certificate or precertificate)
 * goes through ctng_index_entry_hook inside the mirror's transaction and is
 * indexed by its DNS names (SAN and CN, lower-cased; wildcard and subdomain
 * semantics), issuer CA, serial, validity, RID, and the logs and indexes it
 * appears at; one certificate logged by several loggers (or as
 * precertificate and final certificate) is one result.
 *
 *  - search: the certificates for a domain, paginated by a cursor in the
 *    order they were indexed, each with its current revocation state from
 *    the CRVs the monitor verified (ctng_index_on_crv);
 *  - RID: per CA, every RID and the certificates naming it; two different
 *    certificates with one RID become a RID CON (docs/protocol.md §5.2)
 *    once both are found signed by the CA in the mirror
 *    (ctng_index_take_poms);
 *  - watches: (domain, subdomains, webhook); a matching certificate that is
 *    indexed, or a watched certificate that is revoked, writes a
 *    notification into an outbox table in the same transaction, so none is
 *    lost across a restart; the daemon delivers them (ctng_index_outbox_*);
 *  - events: the same notifications for one domain, by cursor, for
 *    `ctng monitor watch` (long poll).
 *
 * Outside input (search queries, watch requests, webhook URLs, every log
 * entry) is parsed strictly; an entry that does not parse is counted and
 * skipped, never fails the mirror's run. Memory: watches in memory (at most
 * max_watches), the latest CRV per CA, one page of results. Errors:
 * negative CTNG_E* codes with an optional ctng_err message. Thread model:
 * one thread per index (the monitor's loop).
 */
#ifndef CTNG_INDEX_H
#define CTNG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/mirror.h"
#include "ctng/net.h"
#include "ctng/proto.h"
#include "ctng/store.h"

struct json_t;
struct roaring_bitmap_s;

#define CTNG_INDEX_PAGE_DEFAULT 100
#define CTNG_INDEX_PAGE_MAX     1000
#define CTNG_INDEX_MAX_NAMES    256  /* names indexed (and listed) per certificate */
#define CTNG_WEBHOOK_URL_MAX    2048
#define CTNG_INDEX_WAIT_MAX_MS  30000 /* longest long poll */

typedef struct ctng_index ctng_index;

typedef struct ctng_index_opts {
	uint32_t max_watches;      /* 0: 1000 */
	uint32_t max_pending;      /* notifications waiting per watch; 0: 10000 */
	/* Webhook targets allowed besides public addresses (docs/monitor.md
	 * §11): "HOST", "HOST:PORT" or an IPv4/IPv6 "ADDR/PREFIX". Borrowed. */
	const char *const *webhook_allow;
	size_t n_webhook_allow;
	bool webhook_allow_only; /* only the targets above (no public ones) */
} ctng_index_opts;

/* Opens the index tables on the monitor's store (migrations of module
 * "index") for the network (borrowed, outlives the index). o may be NULL. */
int ctng_index_open(ctng_store *st, const ctng_network *net, const char *monitor_id,
                    const ctng_index_opts *o, ctng_index **out, ctng_err *err);
void ctng_index_close(ctng_index *ix);

/* The mirror's entry hook (ctng_mirror_entry_hook; arg = the index):
 * indexes one verified entry with `st` inside the mirror's transaction.
 * Fails only when the database does (a malformed certificate is counted
 * and skipped). */
int ctng_index_entry_hook(void *ix, ctng_store *st, const char *logger, uint64_t index,
                          const ctng_mirror_entry *e, ctng_err *err);

/* A CRV of CA `ca` for `period` the monitor verified, inside the
 * transaction that keeps it (or at start, restore = true: no
 * notifications). RIDs revoked since the CRV the index saw last give each
 * of their indexed certificates a revocation event and "revoked"
 * notifications to the watches it matches. crv is borrowed. */
int ctng_index_on_crv(ctng_index *ix, const char *ca, uint64_t period,
                      const struct roaring_bitmap_s *crv, bool restore, ctng_err *err);

/* Counters (GET /ctng/v1/index). */
typedef struct ctng_index_stats {
	uint64_t certificates; /* distinct certificates indexed */
	uint64_t entries;      /* log entries indexed since start */
	uint64_t unparsed;     /* entries skipped since start (no parse) */
	uint64_t watches, pending, rid_conflicts, poms;
} ctng_index_stats;
int ctng_index_stats_get(ctng_index *ix, ctng_index_stats *out, ctng_err *err);

/* ------------------------------------------------------------- names */

/* Normalises a DNS name found in a certificate (bytes as encoded): one
 * trailing dot dropped, lower-cased, 1..253 octets of labels 1..63 octets
 * of [a-z0-9_-] (not starting or ending with '-'), at least two labels, the
 * last not all digits; a wildcard only as the whole first label ("*.")
 * followed by at least two labels. CTNG_EINVAL otherwise. */
int ctng_index_name_normalize(const uint8_t *name, size_t len, char out[CTNG_DNS_NAME_MAX + 1],
                              ctng_err *err);
/* Does a certificate naming `name` (normalised) match (domain, subdomains)?
 * domain matches itself and, when it is not a wildcard, a wildcard for its
 * parent ("*.example.com" matches "www.example.com"); with subdomains also
 * every name under domain. */
bool ctng_index_name_matches(const char *name, const char *domain, bool subdomains);

/* ------------------------------------------------------------ search */

typedef struct ctng_index_query {
	char domain[CTNG_DNS_NAME_MAX + 1]; /* normalised; may start with "*." */
	bool subdomains;
	uint64_t after; /* cursor: results after this one (0 = from the start) */
	uint32_t limit; /* 1..CTNG_INDEX_PAGE_MAX */
} ctng_index_query;

/* The parameters of GET /ctng/v1/search (each NULL when absent): domain
 * (required; a host name, or "*.name" for wildcard certificates only),
 * subdomains ("1"/"true"/"0"/"false"; not with a wildcard domain), after (a
 * cursor a previous page returned: decimal, < 2^63), limit (1..1000,
 * default 100). CTNG_EINVAL naming the parameter. */
int ctng_index_query_parse(const char *domain, const char *subdomains, const char *after,
                           const char *limit, ctng_index_query *q, ctng_err *err);
/* One page: *results a new JSON array of certificate objects (docs/
 * endpoints.md: logger, index, entries, names, issuer, serial, not_before,
 * not_after, rid, revoked, ...) in cursor order; *next the cursor of the
 * next page, 0 when this is the last. */
int ctng_index_search(ctng_index *ix, const ctng_index_query *q, struct json_t **results,
                      uint64_t *next, ctng_err *err);

/* ------------------------------------------------------------ events */

/* Events (issued: a matching certificate indexed; revoked: a matching
 * certificate's RID revoked) for q's domain after cursor `after` ("" or
 * NULL: none, only the current end is returned), at most q->limit: *events
 * a new JSON array of {"event","certificate",...}, *next the cursor to ask
 * with next time (never empty). A cursor is "C.R" (decimal certificate and
 * revocation positions); a malformed one is CTNG_EINVAL. */
#define CTNG_INDEX_CURSOR_MAX 48
int ctng_index_events(ctng_index *ix, const ctng_index_query *q, const char *after,
                      struct json_t **events, char next[CTNG_INDEX_CURSOR_MAX], ctng_err *err);

/* --------------------------------------------------------------- RID */

/* RID CONs found since the last call (both certificates read back from
 * the mirror `db` and checked with ctng_rid_con_verify), each built for
 * `period`; at most max. Conflicts that do not hold (a logger served a
 * precertificate that is not the CA's) are dropped. *n gets the number
 * filled; each out[i] is owned by the caller (ctng_gossip_clear). */
int ctng_index_take_poms(ctng_index *ix, ctng_mirror_db *db, uint64_t period, uint64_t now_ms,
                         ctng_gossip_object *out, size_t max, size_t *n, ctng_err *err);
/* Every RID CON found (one per CA), rebuilt for `period` (for a monitor
 * that sends them again until the CA is convicted). */
int ctng_index_poms(ctng_index *ix, uint64_t period, uint64_t now_ms, ctng_gossip_object *out,
                    size_t max, size_t *n, ctng_err *err);

/* ----------------------------------------------------------- watches */

typedef struct ctng_watch {
	uint64_t id; /* assigned by ctng_index_watch_add */
	char domain[CTNG_DNS_NAME_MAX + 1];
	bool subdomains;
	char webhook[CTNG_WEBHOOK_URL_MAX + 1];
	bool from_config;
} ctng_watch;

/* Strict parse of a watch: exactly {"domain": D, "subdomains": bool
 * (optional, default false), "webhook": URL}, the domain as for search,
 * the URL checked with ctng_index_webhook_check. */
int ctng_index_watch_parse(const ctng_index *ix, const struct json_t *body, ctng_watch *out,
                           ctng_err *err);
/* A webhook URL: http:// or https://, a host (DNS name, IPv4, [IPv6]), an
 * optional port, a path; no user info, no fragment, at most
 * CTNG_WEBHOOK_URL_MAX bytes of printable ASCII. The host must be public
 * (not loopback, private, link-local, multicast, "localhost" ...) unless
 * it is in the index's allow list; with webhook_allow_only only listed
 * targets are accepted. CTNG_EINVAL with the reason. */
int ctng_index_webhook_check(const ctng_index *ix, const char *url, ctng_err *err);
/* Does an entry of the allow list name the URL's target (HOST, HOST:PORT,
 * or a prefix holding its IP literal)? Such a target is the operator's
 * choice: delivery does not check the address it resolves to. Otherwise
 * delivery connects only to public addresses (ctng_net_client_opts
 * .public_only), the allow list's prefixes excepted. */
bool ctng_index_webhook_listed(const ctng_index *ix, const char *url);
/* The "ADDR/BITS" entries of the allow list, NULL-terminated (borrowed,
 * lives as long as the index): the public_except of deliveries. */
const char *const *ctng_index_webhook_prefixes(const ctng_index *ix);
/* The transport policy of one delivery to url, set in *o (its other
 * members untouched): public_only unless ctng_index_webhook_listed,
 * public_except = the allow list's prefixes, and https verified against
 * tls_ca (a PEM path, borrowed) or, when NULL, the system roots — never
 * the network's own CA. */
void ctng_index_webhook_opts(const ctng_index *ix, const char *url, const char *tls_ca,
                             ctng_net_client_opts *o);
/* Adds a watch (an identical one — domain, subdomains, webhook — is
 * returned instead: *existed). CTNG_ERANGE beyond max_watches. */
int ctng_index_watch_add(ctng_index *ix, const ctng_watch *w, uint64_t now_ms, uint64_t *id,
                         bool *existed, ctng_err *err);
/* Deletes a watch and its pending notifications. CTNG_ENOTFOUND; a watch
 * of the config is CTNG_ECONFLICT (edit the config instead). */
int ctng_index_watch_delete(ctng_index *ix, uint64_t id, ctng_err *err);
/* {"watches":[{"id","domain","subdomains","webhook","source","pending"}...]} */
int ctng_index_watch_list(ctng_index *ix, struct json_t **out, ctng_err *err);
/* Makes the config's watches exactly ws[0..n) (added, kept, or removed
 * with their pending notifications). */
int ctng_index_watch_sync_config(ctng_index *ix, const ctng_watch *ws, size_t n, uint64_t now_ms,
                                 ctng_err *err);
/* Parses the "watches" array of a monitor's config.json (as text) into
 * *ws (malloc'd, *n entries; each from_config). */
int ctng_index_watches_from_config(const ctng_index *ix, const char *json, ctng_watch **ws,
                                   size_t *n, ctng_err *err);

/* ------------------------------------------------------------ outbox */

/* One notification waiting to be delivered. */
typedef struct ctng_index_note {
	uint64_t id;
	uint64_t watch;
	uint32_t attempts;
	char url[CTNG_WEBHOOK_URL_MAX + 1];
	char *body; /* JSON, malloc'd */
	size_t body_len;
} ctng_index_note;
void ctng_index_notes_free(ctng_index_note *v, size_t n);

/* Notifications due at now_ms, oldest first, at most max, skipping the
 * ids in busy[0..n_busy) (in flight): out[0..*n). *next_ms: when the next
 * not-due one is (0 = none). */
int ctng_index_outbox_due(ctng_index *ix, uint64_t now_ms, const uint64_t *busy, size_t n_busy,
                          ctng_index_note *out, size_t max, size_t *n, uint64_t *next_ms,
                          ctng_err *err);
/* Delivered: removed. */
int ctng_index_outbox_done(ctng_index *ix, uint64_t id, ctng_err *err);
/* Not delivered: attempts + 1, tried again at retry_at_ms. */
int ctng_index_outbox_retry(ctng_index *ix, uint64_t id, uint64_t retry_at_ms, ctng_err *err);
/* The delay before attempt n + 1 (n >= 1 failed attempts): 1 s, 2 s, 4 s,
 * ... at most 10 min, with up to 1/8 jitter from `salt`. */
uint64_t ctng_index_backoff_ms(uint32_t attempts, uint64_t salt);

#endif
