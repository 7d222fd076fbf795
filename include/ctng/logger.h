/*
 * ctng/logger.h — the CTng logger (DESIGN §5, §8; docs/logger.md): an RFC
 * 6962 certificate log whose Merkle tree is stored as C2SP tiles in the
 * node's SQLite database, publishing one signed tree head (STH) per period.
 *
 * Two layers:
 *  - ctng_logger: the log itself, without any network I/O. It validates
 *    submissions, signs SCTs, keeps pending entries durable, integrates them
 *    at each period start into the tiled tree, signs and stores the STH, and
 *    answers every read (RFC 6962 JSON, checkpoint, tiles, CTng objects) as
 *    plain values. Tests and benchmarks drive it directly.
 *  - ctng_logger_daemon: one libevent loop (ctng_net) serving the HTTP API of
 *    docs/endpoints.md on top of a ctng_logger, with a period timer and group
 *    commit of submissions (an SCT is sent only after its entry is committed).
 *
 * Thread model: a ctng_logger and a daemon are used from one thread (the
 * daemon's loop thread); only ctng_logger_prepare_offline,
 * ctng_logger_sub_sign (with a signer of its own), ctng_logger_writer_store
 * (with a writer of its own) and ctng_logger_daemon_stop may be called from
 * other threads.
 *
 * Errors: 0 or a negative CTNG_E* with an optional ctng_err: CTNG_EINVAL
 * (malformed request), CTNG_EVERIFY (a chain that does not verify or ends at
 * an unknown root), CTNG_ENOTFOUND (no such entry / STH / tile), CTNG_ERANGE
 * (index or size beyond the published tree, or too large), CTNG_EIO
 * (database), CTNG_ENOMEM. Pointers passed in are borrowed; results are owned
 * by the caller as documented per function.
 */
#ifndef CTNG_LOGGER_H
#define CTNG_LOGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"
#include "ctng/sig.h"
#include "ctng/store.h"

struct json_t;

#define CTNG_LOGGER_MAX_CHAIN       16         /* certificates per add-chain request */
#define CTNG_LOGGER_MAX_BODY        (1u << 20) /* add-chain request body bytes      */
#define CTNG_LOGGER_MAX_GET_ENTRIES 1000       /* entries per get-entries answer    */
#define CTNG_LOGGER_MAX_HELD        256        /* requests held by a silent logger  */

/* ------------------------------------------------------------------ the log */

typedef struct ctng_logger ctng_logger;

typedef struct ctng_logger_params {
	const char *id;               /* logger id, the signer of STH objects       */
	const char *origin;           /* checkpoint origin / note key name          */
	const ctng_sig_key *key;      /* ECDSA P-256 private key; must outlive lg   */
	ctng_clock clock;             /* the network clock                          */
	const char *const *root_pems; /* accepted roots, PEM "CERTIFICATE" each     */
	size_t n_roots;               /*   (copied at open)                         */
	const ctng_misbehaviour *mis; /* test-only faults; NULL = honest (copied)   */
	const ctng_sig_key *note_key; /* optional Ed25519 C2SP note key that also
	                                 signs the checkpoint (name = origin); must
	                                 outlive lg                              */
} ctng_logger_params;

/* Opens the log kept in `store` (applies the "logger" migrations and opens
 * the merkle tiles), loads the roots and the latest STH. The store must
 * outlive the logger. Fails with CTNG_EIO/CTNG_ESTATE if the stored tree and
 * the stored STHs disagree. Free with ctng_logger_free (before the store). */
int ctng_logger_open(ctng_store *store, const ctng_logger_params *p, ctng_logger **out,
                     ctng_err *err);
void ctng_logger_free(ctng_logger *lg); /* NULL is a no-op */

/* The RFC 6962 LogID: SHA-256 of the logger's public key DER. */
void ctng_logger_log_id(const ctng_logger *lg, uint8_t out[32]);
/* Current number of integrated (published) leaves. */
uint64_t ctng_logger_tree_size(const ctng_logger *lg);
/* Number of accepted submissions not yet integrated. */
int ctng_logger_pending_count(ctng_logger *lg, uint64_t *n, ctng_err *err);

/* ------------------------------------------------------------- submission */

/* A parsed add-chain / add-pre-chain body: {"chain": [base64 DER, ...]}
 * (exactly that one key, 1..CTNG_LOGGER_MAX_CHAIN strict base64 strings,
 * each decoding to 1..CTNG_CERT_DER_MAX bytes). */
typedef struct ctng_logger_chain {
	uint8_t **der; /* owned */
	size_t *len;
	size_t n;
} ctng_logger_chain;

/* Strict parse of a request body (at most CTNG_LOGGER_MAX_BODY bytes).
 * *out is cleared first; the caller frees it with ctng_logger_chain_clear. */
int ctng_logger_chain_parse(const void *body, size_t len, ctng_logger_chain *out, ctng_err *err);
void ctng_logger_chain_clear(ctng_logger_chain *c);

/* One accepted submission (opaque). */
typedef struct ctng_logger_sub ctng_logger_sub;

/* Validates a submission: the body parses; every certificate is strict DER;
 * each one is issued by the next; the last one is an accepted root or is
 * issued by one (CTNG_EVERIFY otherwise); add-chain (precert=false) refuses a
 * precertificate and add-pre-chain (precert=true) requires one (CT poison
 * extension). Builds the RFC 6962 entry, and either finds the same entry
 * already stored (a duplicate: the stored SCT, durable) or stamps it with
 * its arrival time now_ms (not yet durable: pass it to ctng_logger_commit,
 * which assigns the index and signs the SCT). *out is owned by the caller
 * (ctng_logger_sub_free). */
int ctng_logger_prepare(ctng_logger *lg, const void *body, size_t len, bool precert,
                        uint64_t now_ms, ctng_logger_sub **out, ctng_err *err);
/* The two halves of ctng_logger_prepare, so the costly part (parsing,
 * signature checks) can run on worker threads:
 *  - ctng_logger_prepare_offline is thread-safe: it reads only what never
 *    changes after ctng_logger_open (roots, key) and touches no database, so
 *    it may run on any thread while the owner thread uses lg. timestamp_ms
 *    is the arrival stamp (take it from ctng_logger_sct_time on the owner
 *    thread); the SCT timestamp is never before it.
 *  - ctng_logger_prepare_finish (owner thread) looks the entry up: a
 *    duplicate takes the stored SCT and becomes durable. */
uint64_t ctng_logger_sct_time(const ctng_logger *lg, uint64_t now_ms);
int ctng_logger_prepare_offline(const ctng_logger *lg, const void *body, size_t len, bool precert,
                                uint64_t timestamp_ms, ctng_logger_sub **out, ctng_err *err);
int ctng_logger_prepare_finish(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err);
/* True once the submission is committed (or was a duplicate). */
bool ctng_logger_sub_durable(const ctng_logger_sub *s);
/* Makes n prepared submissions durable in ONE transaction (group commit):
 * ctng_logger_sequence, ctng_logger_sub_sign of each with the log's own
 * signer, ctng_logger_writer_store on the log's store and
 * ctng_logger_sequence_end, on the owner thread. Each new entry gets the
 * next leaf index and a timestamp never before the latest STH's (an STH
 * published between prepare and commit moves it to that STH's timestamp, so
 * it is always in the next period's STH) nor the previous entry's. A
 * submission whose entry is stored (or an earlier one of the same batch)
 * takes that SCT and no index. On failure nothing is stored, no index is
 * used, and none of the new ones is durable (they may be committed again). */
int ctng_logger_commit(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, ctng_err *err);

/* The same group commit in four steps, so that the costly parts leave the
 * owner thread (the daemon: docs/logger.md "Sequencing"):
 *  1. ctng_logger_sequence (owner thread) opens the batch. Per submission not
 *     yet durable: a stored duplicate takes its stored SCT (durable); a
 *     duplicate of an earlier submission of the batch will share that one's
 *     SCT; every other one gets the next leaf index and its timestamp (as in
 *     ctng_logger_commit). *n_sign (may be NULL) = how many need a signature.
 *     CTNG_ESTATE when a batch is already open; on any failure no batch is
 *     open and no index is used.
 *  2. ctng_logger_sub_sign (any thread; one signer per thread at a time)
 *     signs the SCT of one sequenced submission over its timestamp and leaf
 *     index and builds its MerkleTreeLeaf; a no-op for the others.
 *  3. ctng_logger_writer_store (the writer's thread) stores every signed
 *     entry of the batch in one transaction and commits it (durable), or
 *     stores nothing. CTNG_ESTATE if one is sequenced but not signed.
 *  4. ctng_logger_sequence_end (owner thread) closes the batch. stored =
 *     whether step 3 succeeded: then the submissions are durable (in-batch
 *     duplicates copy their first one's SCT); else the next index and
 *     timestamp are rewound (never below what the database holds: a COMMIT
 *     reported failed may have stored the batch, which sequencing then finds
 *     as stored duplicates), none of the new ones is durable and they may be
 *     sequenced again. Returns CTNG_ENOMEM if a duplicate could not copy its
 *     SCT (that one stays not durable; its entry is stored).
 * Between 1 and 4 the owner thread must not touch the batch's submissions,
 * and ctng_logger_tick refuses with CTNG_ESTATE (an STH made between
 * sequencing and storing would miss entries stamped before it). */
typedef struct ctng_logger_signer ctng_logger_signer;
typedef struct ctng_logger_writer ctng_logger_writer;
int ctng_logger_sequence(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, size_t *n_sign,
                         ctng_err *err);
int ctng_logger_sub_sign(ctng_logger_signer *sg, ctng_logger_sub *s, ctng_err *err);
int ctng_logger_writer_store(ctng_logger_writer *w, ctng_logger_sub *const *subs, size_t n,
                             ctng_err *err);
int ctng_logger_sequence_end(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, bool stored,
                             ctng_err *err);
/* An SCT signer (ECDSA P-256 with the log's key, contexts made once): any
 * thread, one at a time. Free it before the log. */
int ctng_logger_signer_new(const ctng_logger *lg, ctng_logger_signer **out, ctng_err *err);
void ctng_logger_signer_free(ctng_logger_signer *sg); /* NULL is a no-op */
/* A batch writer on `store`: the log's own store, or a second handle on the
 * same database file (ctng_store_open after ctng_logger_open applied the
 * schema) used by another thread. One thread at a time; free it before the
 * store. */
int ctng_logger_writer_new(ctng_store *store, ctng_logger_writer **out, ctng_err *err);
void ctng_logger_writer_free(ctng_logger_writer *w); /* NULL is a no-op */
/* prepare + commit of one submission. */
int ctng_logger_add_chain(ctng_logger *lg, const void *body, size_t len, bool precert,
                          uint64_t now_ms, ctng_logger_sub **out, ctng_err *err);
/* The RFC 6962 add-chain answer {"sct_version":0,"id","timestamp",
 * "extensions":"","signature"}; *out is a new reference. */
int ctng_logger_sub_sct_json(const ctng_logger_sub *s, const ctng_logger *lg, struct json_t **out,
                             ctng_err *err);
/* SCT fields (borrowed, valid while s lives): timestamp, DigitallySigned
 * signature bytes, and the MerkleTreeLeaf (which is also exactly the data the
 * SCT signature covers, RFC 6962 §3.2/§3.4) and its leaf hash. */
uint64_t ctng_logger_sub_timestamp(const ctng_logger_sub *s);
/* The leaf index the log assigned (static-ct-api leaf_index), and the SCT's
 * CtExtensions bytes (that one extension: 0x00, u16 5, u40 index), which
 * the signature and the MerkleTreeLeaf cover. Valid once durable. */
uint64_t ctng_logger_sub_index(const ctng_logger_sub *s);
const uint8_t *ctng_logger_sub_extensions(const ctng_logger_sub *s, size_t *len);
const uint8_t *ctng_logger_sub_signature(const ctng_logger_sub *s, size_t *len);
const uint8_t *ctng_logger_sub_leaf(const ctng_logger_sub *s, size_t *len);
const uint8_t *ctng_logger_sub_leaf_hash(const ctng_logger_sub *s);
void ctng_logger_sub_free(ctng_logger_sub *s); /* NULL is a no-op */

/* ------------------------------------------------------------------ periods */

/* Publishes the STH of the period containing now_ms if it is not stored yet:
 * in one transaction, integrates every pending entry whose SCT timestamp is
 * before that period's start, signs the STH (timestamp = period start) and
 * stores it (plus the alternative STH when split_view is on). Periods missed
 * while the logger was down get no STH; a stored STH is never re-signed.
 * *published (may be NULL) says whether a new STH was made. Before genesis
 * this does nothing. */
int ctng_logger_tick(ctng_logger *lg, uint64_t now_ms, bool *published, ctng_err *err);
/* Milliseconds from now_ms until the next period starts (until genesis if
 * now is before it). */
uint64_t ctng_logger_next_tick_ms(const ctng_logger *lg, uint64_t now_ms);
/* Latest published STH and its period; CTNG_ENOTFOUND before the first. */
int ctng_logger_latest_sth(const ctng_logger *lg, ctng_sth *sth, uint64_t *period, ctng_err *err);

/* --------------------------------------------------------------- read API */

/* Each returns a new JSON reference in *out, in RFC 6962 §4 shapes. */
int ctng_logger_get_sth(ctng_logger *lg, struct json_t **out, ctng_err *err);
int ctng_logger_get_sth_consistency(ctng_logger *lg, uint64_t first, uint64_t second,
                                    struct json_t **out, ctng_err *err);
int ctng_logger_get_proof_by_hash(ctng_logger *lg, const uint8_t hash[32], uint64_t tree_size,
                                  struct json_t **out, ctng_err *err);
/* start..end inclusive; end is clipped to the tree and to
 * start + CTNG_LOGGER_MAX_GET_ENTRIES - 1. */
int ctng_logger_get_entries(ctng_logger *lg, uint64_t start, uint64_t end, struct json_t **out,
                            ctng_err *err);
int ctng_logger_get_entry_and_proof(ctng_logger *lg, uint64_t index, uint64_t tree_size,
                                    struct json_t **out, ctng_err *err);
int ctng_logger_get_roots(ctng_logger *lg, struct json_t **out, ctng_err *err);

/* C2SP checkpoint (signed note) of the latest STH: the static-ct-api
 * RFC6962NoteSignature, then, with a note key, the Ed25519 note signature
 * (c2sp.org/signed-note), both named by the origin. *text malloc'd,
 * NUL-terminated. */
int ctng_logger_checkpoint(ctng_logger *lg, char **text, size_t *len, ctng_err *err);
/* Hash tile (level, index, width) of the published tree (width 1..256);
 * *data malloc'd (width*32 bytes). */
int ctng_logger_tile(ctng_logger *lg, unsigned level, uint64_t index, unsigned width,
                     uint8_t **data, size_t *len, ctng_err *err);
/* static-ct-api data tile: `width` TileLeaf structures of entries
 * 256*index .. 256*index+width-1. *data malloc'd. */
int ctng_logger_data_tile(ctng_logger *lg, uint64_t index, unsigned width, uint8_t **data,
                          size_t *len, ctng_err *err);
/* Issuer certificate DER by SHA-256 fingerprint; *der malloc'd. */
int ctng_logger_issuer(ctng_logger *lg, const uint8_t fp[32], uint8_t **der, size_t *len,
                       ctng_err *err);

/* ------------------------------------------------------------------- CTng */

/* The STH gossip object of `period` as shown to `monitor` (may be NULL or
 * ""): the alternative one when split_view targets that monitor.
 * CTNG_ENOTFOUND if that period has no STH. *out filled (caller clears). */
int ctng_logger_sth_object(ctng_logger *lg, uint64_t period, const char *monitor,
                           ctng_gossip_object *out, ctng_err *err);
/* The signed roots of data tiles first..first+count-1 of the tree of
 * tree_size (<= the published size) leaves (ctng_tile_roots,
 * docs/protocol.md §4.4) as JSON: GET /ctng/v1/tile-roots. CTNG_EINVAL for
 * a range outside that tree, CTNG_ENOTFOUND for a tree_size beyond it. */
int ctng_logger_tile_roots(ctng_logger *lg, uint64_t tree_size, uint64_t first, uint32_t count,
                           struct json_t **out, ctng_err *err);
/* {"sth": <STH object of period>, "leaf_index": n, "audit_path": [b64...]}
 * for the leaf hash; CTNG_ENOTFOUND if the STH or the leaf (in that tree)
 * does not exist. */
int ctng_logger_period_proof(ctng_logger *lg, uint64_t period, const uint8_t leaf_hash[32],
                             struct json_t **out, ctng_err *err);
/* Whether the logger answers CTng requests for `period` (false when the
 * misbehaviour says silent, or answer_periods_mod does not divide it). */
bool ctng_logger_answers(const ctng_logger *lg, uint64_t period);

/* ----------------------------------------------------------------- daemon */

typedef struct ctng_logger_daemon ctng_logger_daemon;

typedef struct ctng_logger_daemon_opts {
	const char *db_path;       /* SQLite file (created if needed)           */
	const char *host;          /* listen address (IP literal)               */
	uint16_t port;             /* 0 = ephemeral                             */
	ctng_logger_params params; /* borrowed during ctng_logger_daemon_new    */
	bool catch_signals;        /* stop cleanly on SIGINT/SIGTERM            */
	unsigned workers;          /* threads validating submissions and signing
	                              SCTs (at most 16); 0 = on the loop thread */
	const ctng_net_server_opts *server; /* limits; NULL = defaults (max_body
	                              is always CTNG_LOGGER_MAX_BODY)          */
} ctng_logger_daemon_opts;

/* Opens the store and the log, binds the HTTP server and publishes the STH
 * of the current period if missing. Run it with ctng_logger_daemon_run on
 * the thread that created it. Free with ctng_logger_daemon_free. */
int ctng_logger_daemon_new(const ctng_logger_daemon_opts *opts, ctng_logger_daemon **out,
                           ctng_err *err);
/* The same from a node configuration (2 workers; data in cfg->data_dir/logger.db,
 * listening on cfg->listen, roots = every CA of the network, origin = the
 * logger's URL without its scheme, note key = cfg->note_key). cfg must outlive the daemon. */
int ctng_logger_daemon_from_config(const ctng_node_config *cfg, bool catch_signals,
                                   ctng_logger_daemon **out, ctng_err *err);
/* The port actually bound. */
uint16_t ctng_logger_daemon_port(const ctng_logger_daemon *d);
/* Runs the loop until ctng_logger_daemon_stop or a caught signal. */
int ctng_logger_daemon_run(ctng_logger_daemon *d, ctng_err *err);
/* Thread-safe: makes ctng_logger_daemon_run return. */
void ctng_logger_daemon_stop(ctng_logger_daemon *d);
/* The log inside (borrowed; loop thread only). */
ctng_logger *ctng_logger_daemon_logger(ctng_logger_daemon *d);
void ctng_logger_daemon_free(ctng_logger_daemon *d); /* NULL is a no-op */

#endif
