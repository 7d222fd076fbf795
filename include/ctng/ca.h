/*
 * ctng/ca.h — the CTng certificate authority (DESIGN §6, issue 5): issuance of
 * X.509 certificates that carry per-logger inclusion proofs (the CTng
 * extension of ctng/cert.h), revocation by RID with a CRoaring CRV, and the
 * per-period signed REV object. docs/ca.md describes the protocol and the
 * HTTP API; docs/endpoints.md is the contract with the other nodes.
 *
 * ctng_ca is the CA's state and logic over its SQLite database, with no
 * network I/O: the daemon (ctng_ca_daemon_run) drives it from one libevent
 * loop, tests drive it directly. Every state change is one SQLite
 * transaction, committed before the function returns, so a CA killed at any
 * moment restarts with every accepted request, SCT, proof, certificate and
 * revocation it reported.
 *
 * Threading: a ctng_ca is used by one thread. Ownership: arguments are
 * borrowed; outputs are owned by the caller (free(), json_decref,
 * ctng_gossip_clear, roaring_bitmap_free). Errors: CTNG_EINVAL (malformed
 * request; message is the reason shown to the client), CTNG_EVERIFY (bad
 * signature / proof), CTNG_ENOTFOUND (unknown handle, RID or period),
 * CTNG_ESTATE (request not valid in the current state, e.g. revoking a
 * certificate that is not issued yet), CTNG_EIO (database), CTNG_ENOMEM.
 */
#ifndef CTNG_CA_H
#define CTNG_CA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/proto.h"
#include "ctng/sig.h"

struct roaring_bitmap_s;

#define CTNG_CA_HANDLE_LEN 32 /* lower-case hex of 16 random bytes */
/* A pending certificate is issued with the proofs it has (at least one)
 * once this many periods have passed since submission, even if some logger
 * never answered. */
#define CTNG_CA_MAX_WAIT_PERIODS 3
#define CTNG_CA_REVOKE_TAG       "CTng/v1/revoke" /* followed by one NUL byte */
/* Most periods ctng_ca_publish_rev fills in after an outage. */
#define CTNG_CA_MAX_BACKFILL 10000
/* RID the split-view CA adds to the alternative view (never assigned). */
#define CTNG_CA_BOGUS_RID 0xffffffffu

typedef struct ctng_ca ctng_ca;

typedef struct ctng_ca_opts {
	const char *id;               /* the CA's entity id */
	const ctng_sig_key *key;      /* the CA's private key (also the operator key) */
	const char *root_pem;         /* the CA's root certificate (PEM) */
	const ctng_network *net;      /* the network: clock and loggers (borrowed, must outlive) */
	const char *db_path;          /* SQLite file, or ":memory:" */
	uint64_t validity_ms;         /* certificate lifetime; 0 = 90 days */
	const ctng_misbehaviour *mis; /* test-only; NULL = honest */
} ctng_ca_opts;

/* Opens (creating if needed) the CA database and loads its state. */
int ctng_ca_open(const ctng_ca_opts *opts, ctng_ca **out, ctng_err *err);
void ctng_ca_close(ctng_ca *ca); /* NULL ok */

/* ------------------------------------------------------------ issuance */

/* POST /ctng/v1/certificates: body {"name": DNS, "public_key": PEM} (no other
 * fields; public_key a P-256 or Ed25519 SubjectPublicKeyInfo PEM). Validates,
 * assigns the next RID, builds and signs the precertificate, stores it as
 * pending. *reply = {"handle": H, "rid": n, "status": "pending"}. On any
 * error nothing is stored. */
int ctng_ca_request_json(ctng_ca *ca, const json_t *body, uint64_t now_ms, json_t **reply,
                         ctng_err *err);
/* The same with plain arguments; handle gets the new handle (NUL-terminated). */
int ctng_ca_request(ctng_ca *ca, const char *name, const char *pubkey_pem, uint64_t now_ms,
                    char handle[CTNG_CA_HANDLE_LEN + 1], uint32_t *rid, ctng_err *err);
/* GET /ctng/v1/certificates/<handle>: *reply = {"status":"pending","rid":n} or
 * {"status":"issued","certificate":PEM,"rid":n}. CTNG_ENOTFOUND if unknown,
 * CTNG_EINVAL if the handle is not 32 lower-case hex digits. */
int ctng_ca_status_json(ctng_ca *ca, const char *handle, json_t **reply, ctng_err *err);

/* ------------------------------------------- work for the daemon (loggers) */

/* Groups the record/issue calls between begin and commit into one database
 * transaction (one fsync instead of one per call). Nothing in the group is
 * durable until commit; rollback drops it all. Do not call
 * ctng_ca_publish_rev or accept client requests inside a group. */
int ctng_ca_batch_begin(ctng_ca *ca, ctng_err *err);
int ctng_ca_batch_commit(ctng_ca *ca, ctng_err *err);
void ctng_ca_batch_rollback(ctng_ca *ca);

/* RIDs still pending that have no SCT from `logger_id` (need add-pre-chain). */
int ctng_ca_need_submit(ctng_ca *ca, const char *logger_id, uint32_t **rids, size_t *n,
                        ctng_err *err);
/* The add-pre-chain body {"chain": [precert b64, root b64]} for a RID. */
int ctng_ca_submission(ctng_ca *ca, uint32_t rid, json_t **body, ctng_err *err);
/* Checks an add-pre-chain response (RFC 6962 SCT JSON) from logger_id against
 * its key (log id and signature over the precert entry) and stores it. */
int ctng_ca_record_sct(ctng_ca *ca, uint32_t rid, const char *logger_id, const json_t *sct,
                       ctng_err *err);
/* Pending RIDs with an SCT but no proof from logger_id, submitted before
 * `period` started (so the STH of `period` must include them). */
int ctng_ca_need_proof(ctng_ca *ca, const char *logger_id, uint64_t period, uint32_t **rids,
                       size_t *n, ctng_err *err);
/* Leaf hash of RID's precert entry as logged by logger_id (needs its SCT). */
int ctng_ca_leaf_hash(ctng_ca *ca, uint32_t rid, const char *logger_id, uint8_t out[32],
                      ctng_err *err);
/* Checks a GET /ctng/v1/proof reply from logger_id for `period` ({"sth",
 * "leaf_index", "audit_path"}): the STH object verifies under the logger's
 * key, is of that period, and the audit path proves RID's leaf. Stores it. */
int ctng_ca_record_proof(ctng_ca *ca, uint32_t rid, const char *logger_id, uint64_t period,
                         const json_t *reply, ctng_err *err);
/* Issues every pending certificate that is ready in `period` (a proof from
 * every logger that returned an SCT, or at least one proof and
 * CTNG_CA_MAX_WAIT_PERIODS elapsed). *issued (may be NULL) gets the count. */
int ctng_ca_issue_ready(ctng_ca *ca, uint64_t period, size_t *issued, ctng_err *err);

/* ---------------------------------------------------------- revocation */

/* The bytes a revocation signature covers:
 * "CTng/v1/revoke\0" || lp32(ca_id) || u64be(rid) || SHA-256(cert DER). */
int ctng_ca_revoke_message(const char *ca_id, uint32_t rid, const uint8_t cert_sha256[32],
                           ctng_buf *out, ctng_err *err);
/* POST /ctng/v1/revocations: body {"rid": n, "cert_sha256": hex,
 * "signature": b64} — signature by the certificate's own key or by the CA
 * (operator) key over ctng_ca_revoke_message. Unknown RID → CTNG_ENOTFOUND,
 * not issued yet → CTNG_ESTATE, hash mismatch or bad signature →
 * CTNG_EVERIFY. *reply = {"status": "revoked"|"already revoked", "rid": n}.
 * The revocation appears in the next REV the CA publishes. */
int ctng_ca_revoke_json(ctng_ca *ca, const json_t *body, uint64_t now_ms, json_t **reply,
                        ctng_err *err);

/* A CA joining CTng with the revocations of certificates it issued before
 * (a migration): every RID in `rids` becomes an operator revocation,
 * published in the next REV, and the CA numbers its new certificates from
 * next_rid on (every RID in rids must be below it, and it must not be below
 * a RID the CA already assigned: CTNG_EINVAL). One transaction. */
int ctng_ca_import_revocations(ctng_ca *ca, const struct roaring_bitmap_s *rids,
                               uint32_t next_rid, uint64_t now_ms, ctng_err *err);

/* ----------------------------------------------------------------- REV */

/* Publishes REV(period) if not yet published (idempotent): delta = every
 * revocation not in an earlier REV; periods skipped since the last REV (CA
 * down) are published first with empty deltas so the chain has no gap (at
 * most CTNG_CA_MAX_BACKFILL of them; older ones stay missing). A
 * period before the last published one is CTNG_ESTATE. */
int ctng_ca_publish_rev(ctng_ca *ca, uint64_t period, uint64_t now_ms, ctng_err *err);
/* The REV object of `period` as shown to `monitor` (NULL or "" = honest
 * view). CTNG_ENOTFOUND if not published. */
int ctng_ca_get_rev(ctng_ca *ca, uint64_t period, const char *monitor, ctng_gossip_object *out,
                    ctng_err *err);
/* CRV(period) (honest view): every RID whose revocation was published in a
 * REV of period <= `period`. *out is a new bitmap. */
int ctng_ca_crv(ctng_ca *ca, uint64_t period, struct roaring_bitmap_s **out, ctng_err *err);
/* Last published REV period; CTNG_ENOTFOUND if none. */
int ctng_ca_last_rev_period(ctng_ca *ca, uint64_t *period, ctng_err *err);

/* Client side of the chain: applies REV(p)'s delta to CRV(p-1) (crv is
 * modified in place) and checks the result's hash against the REV's
 * crv_hash (and the delta hash). 0 or CTNG_EVERIFY / CTNG_EINVAL. Does not
 * check the REV's signature (ctng_gossip_verify_signed does). */
int ctng_crv_apply_rev(struct roaring_bitmap_s *crv, const ctng_gossip_object *rev, ctng_err *err);

/* -------------------------------------------------------------- daemon */

/* Runs `ctng ca` for a loaded node config until SIGINT/SIGTERM: HTTP API on
 * cfg->listen, database DATA_DIR/ca.db, REV and issuance at every period
 * start. Returns 0 after a clean stop. */
int ctng_ca_daemon_run(const ctng_node_config *cfg, ctng_err *err);

#endif
