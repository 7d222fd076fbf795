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
	uint8_t *subject;      /* subject Name DER */
	size_t subject_len;
	const struct evp_pkey_st *key; /* x's public key (owned by x) */
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

/* chain.c: the two halves of ctng_logger_chain_parse (for the fuzz target's
 * differential check): the fast reader of the usual body shape (1 parsed, 0
 * not that shape, <0 error) and the JSON parser for everything. */
int lg_chain_parse_fast(const uint8_t *p, size_t len, ctng_logger_chain *out, ctng_err *err);
int lg_chain_parse_json(const void *body, size_t len, ctng_logger_chain *out, ctng_err *err);

/* submit.c: looks the entry of s up by its duplicate key: 1 found (s then
 * carries the stored SCT), 0 not, <0 error. */
int lg_find_stored(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err);
/* log.c: reads the next leaf index and the latest SCT timestamp from the
 * database (on open, and after a batch that was reported not stored). */
int lg_load_next(ctng_logger *lg, ctng_err *err);

int lg_entry_build(const lg_roots *roots, const ctng_logger_chain *c, bool precert, lg_entry *e,
                   ctng_err *err);
void lg_entry_clear(lg_entry *e);

void lg_sha256(const void *data, size_t len, uint8_t out[32]);

/* ------------------------------------------------- the log's private state */

enum {
	Q_FIND_DEDUP,
	Q_PENDING,
	Q_LAST,
	Q_STH_INS,
	Q_STH_GET,
	Q_STH_LATEST,
	Q_IDX_BY_HASH,
	Q_ENTRIES,
	Q_ISSUER_GET,
	Q_SPLIT_GET,
	Q_SPLIT_COUNT,
	Q_SPLIT_INS,
	Q_PENDING_COUNT,
	Q_TILE_ENTRIES,
	Q_COUNT
};

struct ctng_logger {
	ctng_store *store;
	sqlite3 *db;
	ctng_merkle_tiles *tiles;
	sqlite3_stmt *q[Q_COUNT];
	char id[CTNG_ID_MAX + 1];
	char *origin;
	const ctng_sig_key *key;
	const ctng_sig_key *note_key; /* optional Ed25519 checkpoint key */
	/* the owner thread's SCT signer and batch writer on lg->store, for
	 * ctng_logger_commit (batch.c) */
	ctng_logger_signer *signer;
	ctng_logger_writer *writer;
	uint8_t log_id[32];
	ctng_clock clock;
	lg_roots roots;
	/* misbehaviour (copied) */
	bool split_view;
	char **split_targets;
	size_t n_split;
	bool silent;
	uint32_t answer_mod;
	bool hide_entry; /* refuse data tiles and entries holding hidden_index */
	uint64_t hidden_index;
	bool wrong_data; /* serve altered entries (and sign their tile roots) */
	/* latest published STH (variant 0) */
	bool has_sth;
	uint64_t sth_period;
	ctng_sth sth;
	ctng_gossip_object sth_obj;
	/* sequencing (batch.c): the next leaf index and the latest SCT
	 * timestamp of the stored and sequenced entries; the open batch (at
	 * most one) and where to rewind them if it is not stored; store_gen
	 * counts the batches stored, so a duplicate lookup made since the
	 * last one need not be repeated. */
	uint64_t next_index;
	uint64_t last_ts;
	bool batch_open;
	uint64_t batch_next0, batch_last0;
	uint64_t store_gen;
};

/* The static-ct-api CtExtensions of an SCT: one leaf_index extension
 * (type 0, uint16 length 5, uint40 index). */
#define LG_SCT_EXT_LEN 8
void lg_leaf_index_ext(uint64_t index, uint8_t out[LG_SCT_EXT_LEN]);

/* Where a submission is on its way to durable (batch.c). */
enum lg_sub_state {
	LG_SUB_NEW,       /* validated, not in a batch                          */
	LG_SUB_SEQUENCED, /* index and timestamp assigned, SCT not yet signed   */
	LG_SUB_SIGNED,    /* SCT signed, leaf built, waiting for the store      */
	LG_SUB_FOLLOWER,  /* a duplicate of `leader` in the same batch          */
	LG_SUB_DURABLE    /* committed (or found stored): the SCT may be sent   */
};

struct ctng_logger_sub {
	lg_entry e;
	uint64_t arrival; /* the arrival stamp (ctng_logger_sct_time)           */
	uint64_t ts;      /* the SCT timestamp, once sequenced                  */
	uint64_t idx;     /* leaf index, once sequenced                         */
	uint8_t ext[LG_SCT_EXT_LEN];
	uint8_t sig[4 + CTNG_SIG_MAX_LEN]; /* DigitallySigned */
	size_t sig_len;
	ctng_buf leaf;
	uint8_t leaf_hash[32];
	enum lg_sub_state state;
	const struct ctng_logger_sub *leader; /* LG_SUB_FOLLOWER: the first one */
	uint64_t looked_up; /* lg->store_gen + 1 when no duplicate was stored
	                       at the last lookup; 0 = never looked up    */
};

/* submit.c: sets the SCT fields of s (timestamp, index and its extension,
 * signature) and builds its MerkleTreeLeaf and leaf hash. */
int lg_sub_set_sct(ctng_logger_sub *s, uint64_t ts, uint64_t idx, const void *sig,
                   size_t sig_len, ctng_err *err);

/* log.c: the cached statement i, reset and unbound (NULL, err filled, on
 * failure); lg_done resets a statement (NULL ok); lg_db_err fills err with
 * SQLite's message and returns CTNG_EIO. */
sqlite3_stmt *lg_q(ctng_logger *lg, int i, ctng_err *err);
void lg_done(sqlite3_stmt *st);
int lg_db_err(ctng_logger *lg, ctng_err *err, const char *what);

/* submit.c: a JSON string of the base64 of p (NULL on allocation failure). */
struct json_t *lg_b64_json(const uint8_t *p, size_t n);

/* read.c: a JSON array of base64 hashes; CTNG_ENOTFOUND before the first
 * STH; the index of a leaf hash in the tree of tree_size leaves. */
struct json_t *lg_path_json(const uint8_t (*proof)[32], size_t n);
/* read.c: the leaf hashes of tile `index` (width entries) as served, i.e.
 * altered under the test-only wrong_data misbehaviour. */
int lg_served_leaf_hashes(ctng_logger *lg, uint64_t index, unsigned width, uint8_t (*out)[32],
                          ctng_err *err);
int lg_need_sth(const ctng_logger *lg, ctng_err *err);
int lg_find_leaf(ctng_logger *lg, const uint8_t hash[32], uint64_t tree_size, uint64_t *idx,
                 ctng_err *err);

#endif
