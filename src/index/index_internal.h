/* index_internal.h — state of the index and helpers shared by its files:
 * db.c (schema, open/close, statements), names.c (names, keys, queries),
 * ingest.c (the mirror's entry hook), search.c (search and events, the
 * certificate object), rid.c (RID conflicts and RID CONs), watch.c
 * (watches and webhook URLs), outbox.c (notifications, CRVs). Not public. */
#ifndef CTNG_INDEX_INTERNAL_H
#define CTNG_INDEX_INTERNAL_H

#include <roaring/roaring.h>
#include <sqlite3.h>

#include "ctng/index.h"

/* "=" or "~" or "P:" and a name */
#define INDEX_KEY_MAX (CTNG_DNS_NAME_MAX + 4)
#define INDEX_MAX_CONFLICTS 10000 /* pending RID conflicts kept */

typedef struct index_ca {
	const ctng_entity *ent;
	uint8_t spki_hash[32]; /* SHA-256 of the root's SubjectPublicKeyInfo */
	uint8_t root_fp[32];   /* SHA-256 of the root certificate */
	roaring_bitmap_t *crv; /* latest CRV seen (NULL: none) */
	uint64_t crv_period;
} index_ca;

typedef struct index_wkey {
	char key[INDEX_KEY_MAX];
	size_t watch; /* position in ix->watches */
} index_wkey;

enum {
	Q_FIND_CERT,
	Q_FIND_BY_NAME,
	Q_INS_HASH,
	Q_INS_CERT,
	Q_INS_ENTRY,
	Q_INS_NAME,
	Q_FIND_RID,
	Q_INS_RID,
	Q_INS_CONFLICT,
	Q_INS_OUTBOX,
	Q_GET_CERT,
	Q_GET_ENTRIES,
	Q_SEARCH,
	Q_COUNT
};

struct ctng_index {
	ctng_store *st;
	sqlite3 *db;
	const ctng_network *net;
	char monitor[CTNG_ID_MAX + 1];
	uint32_t max_watches, max_pending;
	char **allow; /* webhook targets allowed besides public ones */
	size_t n_allow;
	char **allow_nets; /* the "ADDR/BITS" ones of allow, NULL-terminated */
	bool allow_only;
	index_ca *cas;
	size_t n_cas;
	ctng_watch *watches; /* all watches, by id */
	uint32_t *pending;   /* notifications waiting, per watch */
	size_t n_watches;
	index_wkey *wkeys; /* sorted by key */
	size_t n_wkeys;
	sqlite3_stmt *q[Q_COUNT];
	uint64_t entries, unparsed, conflicts_dropped, notes_dropped;
	uint64_t conflicts_pending; /* rows of index_conflict */
	bool conflicts_unknown;     /* take_poms stopped at its batch size */
	struct evp_md_ctx_st *md;   /* SHA-256 context reused by the hot path */
	char (*keys)[INDEX_KEY_MAX]; /* keys of the certificate being indexed */
};
#define INDEX_MAX_KEYS 1024

/* ----- db.c */
int index_db_fail(ctng_index *ix, ctng_err *err, const char *what);
/* Steps a statement expected to return no row, and resets it. */
int index_step_done(ctng_index *ix, sqlite3_stmt *s, const char *what, ctng_err *err);
int index_prepare(ctng_index *ix, const char *sql, sqlite3_stmt **out, ctng_err *err);
const index_ca *index_ca_by_id(const ctng_index *ix, const char *id);

/* ----- names.c */
/* The index keys of a normalised name (at most max; returns how many). */
size_t index_name_keys(const char *name, char (*keys)[INDEX_KEY_MAX], size_t max);
/* The one to three keys a search reads. */
size_t index_query_keys(const ctng_index_query *q, char keys[3][INDEX_KEY_MAX]);
/* A search or watch domain: normalised into out, or CTNG_EINVAL "domain: ...". */
int index_domain_parse(const char *domain, char out[CTNG_DNS_NAME_MAX + 1], ctng_err *err);

/* ----- search.c */
/* What the index keeps of one certificate. */
typedef struct index_cert {
	uint64_t id;
	const char *ca; /* NULL: not a CA of the network */
	uint8_t ikh[32];
	bool has_rid;
	uint32_t rid;
	uint8_t serial[20];
	size_t serial_len;
	uint64_t not_before_ms, not_after_ms;
	const char *names_json; /* JSON array text */
	bool precert;
	uint64_t indexed_ms;
} index_cert;
/* The certificate object of the API (docs/endpoints.md) for c, with the
 * entries of `entries` (a JSON array of {"logger","index"}, taken) or, when
 * NULL, those stored. NULL on allocation failure. */
struct json_t *index_cert_json(ctng_index *ix, const index_cert *c, struct json_t *entries);
/* Loads certificate `id` into *c (strings valid until the statement is
 * reset: call index_cert_done) and its object. */
struct json_t *index_cert_json_by_id(ctng_index *ix, uint64_t id, ctng_err *err);
/* Revocation state of (ca, rid) from the latest CRV: 1 revoked, 0 not,
 * -1 unknown (no CRV of that CA yet, or no RID). */
int index_revoked(const ctng_index *ix, const char *ca, bool has_rid, uint32_t rid);

/* ----- watch.c */
/* Rebuilds the sorted watch keys from ix->watches. */
int index_watch_keys_rebuild(ctng_index *ix, ctng_err *err);
/* Loads every watch from the database (open). */
int index_watch_load(ctng_index *ix, ctng_err *err);
/* Positions (in ix->watches) of the watches matching a certificate with
 * these index keys: out[0..*n), each once, at most max. */
size_t index_watch_match(const ctng_index *ix, char (*keys)[INDEX_KEY_MAX], size_t n_keys,
                         size_t *out, size_t max);

/* ----- outbox.c */
/* Queues a notification for watch position w: {"event", "monitor",
 * "watch", "certificate", extra members of `more` (taken; may be NULL)}. */
int index_notify(ctng_index *ix, size_t w, const char *event, struct json_t *cert,
                 struct json_t *more, uint64_t now_ms, ctng_err *err);

/* ----- rid.c */
/* A new certificate `cert` of `ca` names `rid`: records it, and a conflict
 * with each other certificate of the CA naming it. */
int index_rid_add(ctng_index *ix, const char *ca, uint32_t rid, uint64_t cert, ctng_err *err);

#endif
