/* ca_internal.h — state of the CA and the database helpers shared by its
 * files: ca.c (schema, open/close), request.c and issue.c (issuance),
 * revoke.c (revocation and REVs), daemon.c (HTTP and timers). Not public. */
#ifndef CTNG_CA_INTERNAL_H
#define CTNG_CA_INTERNAL_H

#include <openssl/x509.h>
#include <roaring/roaring.h>

#include "ctng/ca.h"
#include "ctng/store.h"

struct ctng_ca {
	char id[CTNG_ID_MAX + 1];
	const ctng_sig_key *key;
	X509 *root;
	uint8_t *root_der;
	size_t root_der_len;
	const ctng_network *net;
	uint64_t validity_ms;
	/* misbehaviour */
	bool split_view;
	char **split_targets;
	size_t n_split;
	bool reuse_rid; /* test-only: each odd RID's certificate names the RID before it */
	ctng_store *store;
	sqlite3 *db;
	/* honest CRV of the last published REV (has_rev) */
	bool has_rev;
	uint64_t last_rev;
	roaring_bitmap_t *crv;
};

struct json_t;

/* SQL helpers (ca.c). Errors are CTNG_EIO with SQLite's message. */
int ca_db_fail(ctng_ca *ca, ctng_err *err, const char *what);
sqlite3_stmt *ca_prep(ctng_ca *ca, const char *sql, ctng_err *err);
/* Steps a statement that returns no rows, and finalizes it. */
int ca_run(ctng_ca *ca, sqlite3_stmt *st, ctng_err *err);
/* Rolls the innermost transaction back and returns rc. */
int ca_rollback(ctng_ca *ca, int rc);
int ca_meta_get(ctng_ca *ca, const char *k, uint64_t *v, bool *found, ctng_err *err);
int ca_meta_put(ctng_ca *ca, const char *k, uint64_t v, ctng_err *err);
int ca_sha256(const void *d, size_t n, uint8_t out[32]);
/* The key of a logger of the network (NULL and CTNG_EINVAL otherwise). */
const ctng_sig_key *ca_logger_key(ctng_ca *ca, const char *logger_id, ctng_err *err);
/* The precertificate stored under `rid` (CTNG_ENOTFOUND if none). */
int ca_load_precert(ctng_ca *ca, uint32_t rid, X509 **pre, ctng_err *err);
/* The first column of every row of st (finalized) as RIDs (*rids malloc'd). */
int ca_rid_list(ctng_ca *ca, sqlite3_stmt *st, uint32_t **rids, size_t *n, ctng_err *err);
/* obj is a JSON object with exactly these keys. */
int ca_exact_keys(const struct json_t *obj, const char *const *keys, size_t n, ctng_err *err);
/* The CRV of the REVs published up to period `upto` (-1: none). */
int ca_load_crv(ctng_ca *ca, int64_t upto, roaring_bitmap_t **out, ctng_err *err);
/* The RID a certificate names: its ca_cert key, or the one before it under
 * the reuse_rid misbehaviour (docs/ca.md). */
uint32_t ca_cert_rid(const ctng_ca *ca, uint32_t rid);

#endif
