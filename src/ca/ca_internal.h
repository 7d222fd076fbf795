/* ca_internal.h — state of the CA shared by ca.c (logic over SQLite) and
 * daemon.c (HTTP and timers). Not public. */
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
	ctng_store *store;
	sqlite3 *db;
	/* honest CRV of the last published REV (has_rev) */
	bool has_rev;
	uint64_t last_rev;
	roaring_bitmap_t *crv;
};

#endif
