/*
 * logger_internal.h — shared between the files of src/logger: the accepted
 * roots, a validated entry (RFC 6962 entry, extra_data, issuers), and the
 * logger's private state.
 */
#ifndef CTNG_LOGGER_INTERNAL_H
#define CTNG_LOGGER_INTERNAL_H

#include <sqlite3.h>

#include "ctng/cert.h"
#include "ctng/logger.h"
#include "ctng/merkle.h"

typedef struct lg_root {
	struct x509_st *x;
	uint8_t *der;
	size_t der_len;
	uint8_t spki_hash[32]; /* RFC 6962 issuer_key_hash when it issues */
} lg_root;

typedef struct lg_roots {
	lg_root *v;
	size_t n;
} lg_roots;

int lg_roots_load(lg_roots *r, const char *const *pems, size_t n, ctng_err *err);
void lg_roots_free(lg_roots *r);

typedef struct lg_issuer {
	uint8_t *der;
	size_t len;
	uint8_t fp[32]; /* SHA-256 of der */
} lg_issuer;

/* A validated submission before it gets a timestamp. */
typedef struct lg_entry {
	ctng_ct_entry ct;    /* signed_entry */
	ctng_buf extra;      /* RFC 6962 extra_data */
	ctng_buf tile_extra; /* static-ct-api TileLeaf after the TimestampedEntry */
	lg_issuer *issuers;  /* chain[1..] plus the root when not submitted */
	size_t n_issuers;
	uint8_t dedup[32]; /* SHA-256(u16 type || signed_entry) */
} lg_entry;

int lg_entry_build(const lg_roots *roots, const ctng_logger_chain *c, bool precert, lg_entry *e,
                   ctng_err *err);
void lg_entry_clear(lg_entry *e);

void lg_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
