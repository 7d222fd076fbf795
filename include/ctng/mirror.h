/*
 * ctng/mirror.h — a monitor's mirror of the logs (issue 11, docs/mirror.md):
 * every period, for every logger, the monitor fetches the entries the new
 * STH adds, checks them against the signed root and keeps them, so that an
 * STH_FULL means "at least t monitors hold this tree" and so that monitors
 * can serve the logs to each other (a read replica in the C2SP layout).
 *
 * Three parts:
 *  - the strict parser of C2SP / static-ct-api entry bundles
 *    (GET /tile/data/<N>[.p/<W>]), outside input from loggers and peers;
 *  - the mirror state machine (no I/O, DESIGN §8): it takes verified STHs
 *    and HTTP answers and asks for fetches, for runs of verified entries to
 *    be stored, and signals "tree held" (the data-availability signal),
 *    "data not served" (an accusation) and a data proof of misbehaviour;
 *  - the SQLite store of the mirror on the monitor's database (entries,
 *    hash tiles per logger, the verified state), with THE hook every
 *    verified entry goes through (for the search index), and the reads the
 *    monitor serves to its peers.
 *
 * Nothing a source sends is trusted: a logger's signed tile roots (or a
 * peer's unsigned ones) must fold, with the compact range the mirror holds,
 * into the root of the STH signed by the logger; every bundle must hash to
 * its tile's root; only then is anything stored.
 *
 * Memory: the state machine holds per logger the roots of the tiles of the
 * current job (32 bytes per 256 entries) and at most max_inflight bundles
 * of at most max_bundle bytes. Errors: negative CTNG_E* codes with an
 * optional ctng_err message. Thread model: one thread per instance.
 */
#ifndef CTNG_MIRROR_H
#define CTNG_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/merkle.h"
#include "ctng/proto.h"
#include "ctng/store.h"

/* ------------------------------------------------------- entry bundles */

/* Largest bundle body a mirror accepts: 256 TileLeafs of at most
 * CTNG_TILE_LEAF_MAX (64 KiB), the most a logger stores per entry. */
#define CTNG_MIRROR_BUNDLE_MAX (CTNG_MERKLE_TILE_WIDTH * CTNG_TILE_LEAF_MAX)
/* Most chain fingerprints an entry carries: a logger's issuers and root,
 * at most CTNG_LOGGER_MAX_CHAIN (a peer's bundles are held to it). */
#define CTNG_MIRROR_CHAIN_MAX 16
/* static-ct-api CtExtensions type of the leaf_index extension (uint40). */
#define CTNG_CT_EXT_LEAF_INDEX 0

/* One entry of a bundle. Pointers point into the parsed bundle (borrowed). */
typedef struct ctng_mirror_entry {
	const uint8_t *tile_leaf; /* the whole static-ct-api TileLeaf */
	size_t tile_leaf_len;
	const uint8_t *te; /* its TimestampedEntry (= MerkleTreeLeaf without 2 bytes) */
	size_t te_len;
	uint64_t timestamp_ms;
	uint16_t entry_type; /* 0 x509_entry, 1 precert_entry */
	const uint8_t *cert; /* x509: the certificate DER; precert: the TBSCertificate */
	size_t cert_len;
	const uint8_t *issuer_key_hash; /* precert: 32 bytes; x509: NULL */
	const uint8_t *precert;         /* precert: the submitted precertificate DER */
	size_t precert_len;
	const uint8_t *chain;      /* SHA-256 fingerprints of the chain, 32 bytes each */
	size_t chain_len;          /* number of fingerprints */
	const uint8_t *extensions; /* CtExtensions bytes */
	size_t extensions_len;
	bool has_leaf_index; /* static-ct-api leaf_index extension present */
	uint64_t leaf_index;
	uint8_t leaf_hash[32]; /* SHA-256(0x00 || 0x00 0x00 || te) */
} ctng_mirror_entry;

/* Parses the bundle data[0..len) of data tile `tile` that must hold exactly
 * `width` entries (1..256), strictly: every length in bounds, entry types
 * x509 (0) or precert (1), certificates non-empty, the chain a whole number
 * of 32-byte fingerprints, the extensions a well-formed list with at most
 * one leaf_index (5 bytes) which must equal the entry's index
 * (256 * tile + i), nothing after the last entry. Fills out[0..width)
 * (pointers into data) with each leaf hash. hs may be NULL. CTNG_EINVAL
 * naming the entry and the field; CTNG_ERANGE if len > CTNG_MIRROR_BUNDLE_MAX. */
int ctng_mirror_bundle_parse(const uint8_t *data, size_t len, uint64_t tile, unsigned width,
                             ctng_merkle_hasher *hs, ctng_mirror_entry *out, ctng_err *err);

/* -------------------------------------------------------- state machine */

typedef struct ctng_mirror_sm ctng_mirror_sm;

typedef struct ctng_mirror_opts {
	unsigned max_inflight;     /* bundles in flight per logger (default 4) */
	uint64_t fetch_timeout_ms; /* per request (default: period/4, 500 ms .. 10 s) */
	uint64_t retry_ms;  /* first retry delay, doubled per round (period/40, 20 .. 1000) */
	bool prefer_logger; /* a logger it does not watch: ask the logger first */
	uint64_t hedge_ms;  /* a unit unanswered this long is asked of the next source too
	                       (default 2 * retry_ms; 0 = that default) */
} ctng_mirror_opts;
void ctng_mirror_opts_default(ctng_mirror_opts *o, const ctng_clock *clock);

/* Offset from the start of period p by which the entries of the STH of p
 * must have been served (docs/mirror.md §Deadline): update_offset -
 * gossip_wait - (update_offset - query_offset - gossip_wait) / 4, but at
 * least query_offset + 1. An accusation made then still gets its FULL
 * before the update is published. */
uint64_t ctng_mirror_deadline_offset_ms(const ctng_clock *clock);

enum ctng_mirror_action_kind {
	CTNG_MIR_FETCH = 1,  /* GET <source url><path>; answer to on_response(id) */
	CTNG_MIR_STORE = 2,  /* persist a verified run (ctng_mirror_db_apply)      */
	CTNG_MIR_HELD = 3,   /* the tree of `sth` is held and verified             */
	CTNG_MIR_ACCUSE = 4, /* logger did not serve the data of `period` in time  */
	CTNG_MIR_POM = 5,    /* obj: a data CON (docs/protocol.md §5.1)            */
};

/* A run of consecutive verified entries and the state after it. */
typedef struct ctng_mirror_run {
	uint64_t first;             /* index of entries[0] */
	size_t n;                   /* entries */
	ctng_mirror_entry *entries; /* pointers into the bundles below */
	uint8_t **bundles;          /* owned bundle buffers */
	size_t n_bundles;
	ctng_merkle_range range;      /* compact range after the run (size first + n) */
	uint8_t root[32];             /* root of the tree of that size */
	bool complete;                /* the run reached `sth`: it becomes the base */
	ctng_merkle_range base_range; /* complete: equal to range */
} ctng_mirror_run;

typedef struct ctng_mirror_action {
	enum ctng_mirror_action_kind kind;
	char logger[CTNG_ID_MAX + 1];
	uint64_t period;              /* HELD, ACCUSE, POM: the STH's period */
	uint64_t id;                  /* FETCH: request id                    */
	char source[CTNG_ID_MAX + 1]; /* FETCH: entity whose url to prefix    */
	char path[256];               /* FETCH: path and query                */
	uint64_t timeout_ms;          /* FETCH                                */
	size_t max_bytes;             /* FETCH: response limit                */
	bool is_roots;                /* FETCH: tile roots (else a bundle)    */
	ctng_mirror_run run;          /* STORE (owned)                        */
	ctng_gossip_object obj;       /* STORE complete, HELD: the STH; POM: the CON (owned) */
	char reason[200];             /* ACCUSE                               */
} ctng_mirror_action;

typedef struct ctng_mirror_actions {
	ctng_mirror_action *v;
	size_t n, cap;
	uint64_t next_timer_ms; /* absolute; 0 = none */
} ctng_mirror_actions;
void ctng_mirror_actions_free(ctng_mirror_actions *a);

/* net: borrowed, outlives sm. monitor_id: this monitor. opts NULL: defaults. */
int ctng_mirror_sm_new(const ctng_network *net, const char *monitor_id,
                       const ctng_mirror_opts *opts, ctng_mirror_sm **out, ctng_err *err);
void ctng_mirror_sm_free(ctng_mirror_sm *sm);

/* What the store holds of one logger (ctng_mirror_db_restore fills it). */
typedef struct ctng_mirror_state {
	ctng_merkle_range range; /* of the entries held */
	bool has_base;
	ctng_gossip_object base;      /* the last STH whose whole tree was verified */
	ctng_merkle_range base_range; /* its compact range */
} ctng_mirror_state;

/* Sets a logger's state (at start, or after a failed store). Abandons its
 * job. base is copied. */
int ctng_mirror_sm_restore(ctng_mirror_sm *sm, const char *logger, const ctng_mirror_state *st,
                           ctng_err *err);

/* A logger's STH (any source; verified here with the logger's key and the
 * clock). The mirror works toward the largest one it has seen: if it holds
 * exactly that tree already → HELD; if the tree is larger than what it
 * holds → a job (FETCH actions); smaller → nothing (ask the store:
 * ctng_mirror_db_holds). CTNG_EVERIFY / CTNG_EINVAL for a bad STH. */
int ctng_mirror_sm_on_sth(ctng_mirror_sm *sm, const ctng_gossip_object *sth, uint64_t now_ms,
                          ctng_mirror_actions *acts, ctng_err *err);

/* The answer to FETCH `id`: status (0 with `fail` set on a transport
 * failure or a timeout: a peer that gives no answer is dropped for the job)
 * and body. Unknown ids: CTNG_ESTATE, nothing changes. An answer to a
 * request whose unit was served by another source meanwhile (a hedged
 * request): CTNG_ESTATE, only the source's standing is updated. */
int ctng_mirror_sm_on_response(ctng_mirror_sm *sm, uint64_t id, int status, const uint8_t *body,
                               size_t len, const char *fail, uint64_t now_ms,
                               ctng_mirror_actions *acts, ctng_err *err);

/* FETCH `id` was never sent (a local limit: too many requests in flight,
 * no descriptor): it is asked again after retry_ms, and the source is not
 * blamed (no back-off, never "the logger failed"). Unknown ids: CTNG_ESTATE. */
int ctng_mirror_sm_on_not_sent(ctng_mirror_sm *sm, uint64_t id, uint64_t now_ms,
                               ctng_mirror_actions *acts, ctng_err *err);

/* A STORE action at index `store` of a failed (nothing of it kept): drops
 * the STORE and HELD actions of that logger that follow it in acts, so a
 * tree is never said to be held when it is not on disk (persist before
 * sign). Then call ctng_mirror_db_restore. Returns how many were dropped. */
size_t ctng_mirror_actions_store_failed(ctng_mirror_actions *acts, size_t store);

/* Retries and deadlines due at now_ms. */
int ctng_mirror_sm_on_timer(ctng_mirror_sm *sm, uint64_t now_ms, ctng_mirror_actions *acts,
                            ctng_err *err);

/* A logger convicted (CON_FULL): its job is dropped, its STHs ignored. */
void ctng_mirror_sm_convicted(ctng_mirror_sm *sm, const char *logger);

/* Queries. */
uint64_t ctng_mirror_sm_size(const ctng_mirror_sm *sm, const char *logger);
bool ctng_mirror_sm_busy(const ctng_mirror_sm *sm, const char *logger); /* a job runs */
/* Bytes of answers received per logger, split by source kind (figures). */
void ctng_mirror_sm_bytes(const ctng_mirror_sm *sm, const char *logger, uint64_t *from_logger,
                          uint64_t *from_peers);

/* ---------------------------------------------------------------- store */

typedef struct ctng_mirror_db ctng_mirror_db;

/* THE hook: called once for every verified entry, in index order, inside
 * the transaction that stores it (so whatever it writes with `st` commits
 * or rolls back with the entry). A non-zero return aborts the whole run
 * (nothing of it is kept; the mirror refetches it). */
typedef int (*ctng_mirror_entry_hook)(void *arg, ctng_store *st, const char *logger, uint64_t index,
                                      const ctng_mirror_entry *e, ctng_err *err);

/* Opens the mirror tables of every logger of net on the node's store
 * (migrations of module "mirror"; a hash-tile tree per logger) and checks
 * each logger's stored state against its tiles. */
int ctng_mirror_db_open(ctng_store *st, const ctng_network *net, ctng_mirror_db **out,
                        ctng_err *err);
void ctng_mirror_db_close(ctng_mirror_db *db);
void ctng_mirror_db_set_hook(ctng_mirror_db *db, ctng_mirror_entry_hook hook, void *arg);
/* Gives every logger's stored state to the state machine. */
int ctng_mirror_db_restore(ctng_mirror_db *db, ctng_mirror_sm *sm, ctng_err *err);
/* Stores a STORE action's run (entries, tiles, state; hook per entry) in
 * one transaction (a savepoint inside the caller's). On failure nothing is
 * kept and the logger's tiles are reloaded; call ctng_mirror_db_restore. */
int ctng_mirror_db_apply(ctng_mirror_db *db, const char *logger, const ctng_mirror_run *run,
                         const ctng_gossip_object *sth, ctng_err *err);
/* Entries held of a logger and the root of that tree. */
int ctng_mirror_db_size(ctng_mirror_db *db, const char *logger, uint64_t *size, uint8_t root[32],
                        ctng_err *err);
/* Does the mirror hold the tree of this STH (size <= held, same root)? */
int ctng_mirror_db_holds(ctng_mirror_db *db, const ctng_gossip_object *sth, bool *held,
                         ctng_err *err);
/* Serving (docs/endpoints.md, /mirror/<logger>/...): a data tile (the
 * TileLeafs as stored), a hash tile (C2SP bytes), unsigned tile roots of the
 * tree of tree_size <= held size. CTNG_ENOTFOUND beyond what is held. */
int ctng_mirror_db_data_tile(ctng_mirror_db *db, const char *logger, uint64_t tile, unsigned width,
                             uint8_t **data, size_t *len, ctng_err *err);
int ctng_mirror_db_hash_tile(ctng_mirror_db *db, const char *logger, unsigned level, uint64_t index,
                             unsigned width, uint8_t **data, size_t *len, ctng_err *err);
int ctng_mirror_db_tile_roots(ctng_mirror_db *db, const char *logger, uint64_t tree_size,
                              uint64_t first, uint32_t count, ctng_tile_roots *out, ctng_err *err);

#endif
