/*
 * client_internal.h — what the files of the client module share: the
 * ctng_client structure (SQLite state plus in-memory caches) and helpers.
 */
#ifndef CTNG_CLIENT_INTERNAL_H
#define CTNG_CLIENT_INTERNAL_H

#include <openssl/x509.h>
#include <roaring/roaring.h>
#include <sqlite3.h>

#include "ctng/client.h"
#include "ctng/store.h"

/* Per-CA revocation state, cached in memory (mirrors table client_crv). */
typedef struct client_ca {
	const ctng_entity *ent; /* borrowed from net */
	X509 *root;             /* owned */
	roaring_bitmap_t *crv;  /* owned, never NULL */
	bool known;             /* crv is complete */
	bool have_period;
	uint64_t period;       /* period of the last REV applied */
	uint8_t hash[32];      /* ctng_crv_hash(crv) */
	uint8_t spki_hash[32]; /* SHA-256 of the root's SPKI (RFC 6962 issuer_key_hash) */
} client_ca;

struct ctng_client {
	ctng_store *store;
	ctng_network net;
	X509_STORE *trust;
	client_ca *cas;
	size_t n_cas;
	char **convicted; /* sorted ids with a CON_FULL */
	size_t n_convicted;
	bool have_last, have_first;
	uint64_t last, first;
	sqlite3_stmt *q_sth, *q_acc, *q_period;
};

/* Index of the CA entity `id` in c->cas, or -1. */
int client_ca_index(const ctng_client *c, const char *id);
/* Adds id to the sorted convicted list (no duplicate). */
int client_add_convicted(ctng_client *c, const char *id);

/* ctng_client_apply_update, requiring the update's period to be *expect
 * when expect is non-NULL. */
int client_apply_update(ctng_client *c, const char *json, size_t len, const uint64_t *expect,
                        ctng_client_apply_stats *stats, ctng_err *err);

/* The precert_entry cert was logged under (docs/cert-extension.md): a fast
 * DER edit with the cert module's ctng_ct_entry_from_ctng_cert as fallback.
 * issuer_key_hash may be NULL (computed from issuer). *out: caller clears. */
struct ctng_ct_entry;
int client_leaf_entry(X509 *cert, X509 *issuer, const uint8_t *issuer_key_hash,
                      struct ctng_ct_entry *out, ctng_err *err);

#define CLIENT_KV_NS "client"
/* docs/client-update.md §1 limits. */
#define CLIENT_UPDATE_TEXT_MAX    (64u << 20)
#define CLIENT_UPDATE_OBJECTS_MAX 8192

#endif
