/*
 * ctng/monitor.h — the CTng monitor (DESIGN §2, §7, §8): its state machine
 * (no I/O), the daemon that wraps it (`ctng monitor --config F`), the client
 * update it publishes (docs/client-update.md: strict parser, verifier,
 * encoder — reusable by relying parties), the proof of misbehaviour it builds
 * when a logger's tree heads are inconsistent across periods, and the strict
 * parser of RFC 6962 get-sth-consistency responses. Behaviour and file
 * formats are described in docs/monitor.md.
 *
 * Memory: functions that fill an `out` struct clear it first; release with the
 * matching *_clear / *_free. Pointers passed in are borrowed unless stated.
 * Errors: negative CTNG_E* codes with an optional `ctng_err *` message.
 * Thread model: a state machine belongs to one thread (the daemon's loop).
 */
#ifndef CTNG_MONITOR_H
#define CTNG_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"
#include "ctng/sig.h"

/* ------------------------------------------------------- client update */

#define CTNG_CLIENT_UPDATE_MAX         (64u << 20) /* bytes of the JSON text */
#define CTNG_CLIENT_UPDATE_MAX_OBJECTS 8192

/* A parsed client update (docs/client-update.md). Owns its objects. */
typedef struct ctng_client_update {
	uint64_t period;
	char monitor[CTNG_ID_MAX + 1];
	ctng_gossip_object *objects; /* n_objects entries, in update order */
	size_t n_objects;
} ctng_client_update;

/* Frees the objects and zeroes *u (NULL is a no-op). */
void ctng_client_update_clear(ctng_client_update *u);
/* Strict parse of json[0..len) (docs/client-update.md §4): envelope, each
 * object's structure, allowed types and periods, canonical order, no
 * duplicate ids, every INIT directly after the FULL that attests it. No
 * signature is checked. CTNG_EINVAL (message names the object index and the
 * rule) or CTNG_ERANGE (size limits). *out cleared on failure. */
int ctng_client_update_parse(const char *json, size_t len, ctng_client_update *out, ctng_err *err);
/* Checks every signature of a parsed update with the network's keys: FULLs
 * against the group key (ctng_monitor_verify_full), STH/REV INITs against the
 * entity key, CONs with ctng_con_verify. CTNG_EVERIFY naming the object. */
int ctng_client_update_verify(const ctng_client_update *u, const ctng_network *net, ctng_err *err);
/* Canonical text of an update whose objects are already in canonical order
 * (as the state machine builds it): {"period":"P","monitor":"ID","objects":[
 * ...]} compact. *json malloc'd (caller frees), *len (may be NULL) = strlen. */
int ctng_client_update_encode(const ctng_client_update *u, char **json, size_t *len, ctng_err *err);

/* Verifies a FULL (STH_FULL, REV_FULL, ACC_FULL, CON_FULL): structure, BLS
 * signature over ctng_gossip_attest_bytes against net->group_pk with
 * CTNG_BLS_DST_POP, at least net->threshold signers, each a gossiper of net,
 * entity a logger (STH), CA (REV), or logger/CA (ACC, CON) of net.
 * CTNG_EVERIFY / CTNG_EINVAL. */
int ctng_monitor_verify_full(const ctng_gossip_object *full, const ctng_network *net,
                             ctng_err *err);

/* --------------------------------------- RFC 6962 consistency responses */

/* Strict parse of a get-sth-consistency body {"consistency":["b64",...]}:
 * exactly that member, each entry base64 of exactly 32 bytes, at most
 * CTNG_MERKLE_MAX_PROOF (66) entries. proof must hold 66 entries. */
int ctng_monitor_parse_consistency(const char *json, size_t len, uint8_t (*proof)[32],
                                   size_t *proof_len, ctng_err *err);

/* ------------------------------------------- proof of STH inconsistency */

/* A logger's two STHs of different periods that are not append-only
 * consistent (docs/monitor.md §4). JSON:
 *   {"kind":K,"logger":ID,"first":STH,"second":STH,"proof":["b64",...]}
 * K = "sth-fork": provable from the two signed heads alone (second smaller
 *     than first, or same size with another root) — transferable evidence;
 * K = "bad-consistency-proof": the logger served a consistency proof that
 *     does not verify — kept as evidence, not transferable.
 * Verifies: strict structure, both STHs signed by the logger (network key,
 * clock), first.period < second.period, and for sth-fork the inconsistency,
 * for bad-consistency-proof that the recorded proof fails. *transferable
 * (may be NULL) says which kind was proved. 0 if the file proves what it
 * claims, CTNG_EVERIFY / CTNG_EINVAL otherwise. */
int ctng_sth_pom_verify(const char *json, size_t len, const ctng_network *net, bool *transferable,
                        ctng_err *err);

/* ------------------------------------------------------ state machine */

typedef struct ctng_monitor_sm ctng_monitor_sm;

enum ctng_monitor_action_kind {
	CTNG_MON_FETCH_STH = 1,         /* GET entity's STH of period          */
	CTNG_MON_FETCH_REV = 2,         /* GET entity's REV of period          */
	CTNG_MON_FETCH_CONSISTENCY = 3, /* get-sth-consistency first..second   */
	CTNG_MON_SEND_GOSSIPER = 4,     /* POST obj to the paired gossiper     */
	CTNG_MON_STORE_OBJECT = 5,      /* persist obj (FULL, CON, STH, REV)   */
	CTNG_MON_STORE_LAST_STH = 6,    /* persist obj as entity's baseline    */
	CTNG_MON_POM = 7,               /* text = PoM JSON about entity        */
	CTNG_MON_PUBLISH_UPDATE = 8,    /* text = client update of period      */
	CTNG_MON_SEND_OBSERVATION = 9,  /* POST obs to the paired gossiper     */
};

typedef struct ctng_monitor_action {
	enum ctng_monitor_action_kind kind;
	char entity[CTNG_ID_MAX + 1]; /* FETCH_*, STORE_LAST_STH, POM            */
	uint64_t period;              /* FETCH_*, POM, PUBLISH_UPDATE             */
	uint64_t first, second;       /* FETCH_CONSISTENCY: tree sizes           */
	bool transferable;            /* POM: "sth-fork" (true) or bad proof     */
	ctng_gossip_object obj;       /* SEND_GOSSIPER, STORE_OBJECT, STORE_LAST_STH (owned) */
	char *text;                   /* POM, PUBLISH_UPDATE (owned, NUL-terminated) */
	size_t text_len;
	/* FETCH_*: start no earlier than at_ms (0: at once; a retry) and give
	 * up by deadline_ms (the period's query deadline, ctng_clock_query_deadline):
	 * the result, success or failure, must reach the state machine by then. */
	uint64_t at_ms, deadline_ms;
	ctng_observation obs; /* SEND_OBSERVATION: signed by this monitor */
} ctng_monitor_action;

/* A growable list of actions, appended to by every event. Zero-initialise;
 * release with ctng_monitor_actions_free (frees owned objects and texts). */
typedef struct ctng_monitor_actions {
	ctng_monitor_action *v;
	size_t n, cap;
} ctng_monitor_actions;
void ctng_monitor_actions_free(ctng_monitor_actions *a);

/* Creates the state machine of monitor `monitor_id` of `net` (its watched
 * loggers/CAs are read from net). key: the monitor's private signing key
 * (for ACC). net and key are borrowed and must outlive the machine.
 * CTNG_EINVAL if the id is not a monitor of net or the key has no private half. */
int ctng_monitor_sm_new(const ctng_network *net, const char *monitor_id, const ctng_sig_key *key,
                        ctng_monitor_sm **out, ctng_err *err);
void ctng_monitor_sm_free(ctng_monitor_sm *sm);

/* Period p starts its query phase: one FETCH_STH per watched logger and one
 * FETCH_REV per watched CA (deadline_ms = the query deadline of p), except
 * entities with a verified CON_FULL (not queried), and loggers this monitor
 * convicted of an STH fork (accused at once). A fetch still pending from an
 * earlier period is abandoned (its late result gets CTNG_ESTATE).
 *
 * Every outcome is reported to the paired gossiper as a signed observation
 * (SEND_OBSERVATION, docs/gossiper.md §Observations) emitted before the
 * object it is about: OBTAINED with the object's digest and checks when an
 * STH/REV is accepted, FAILED together with every ACC. */
int ctng_monitor_sm_on_period(ctng_monitor_sm *sm, uint64_t p, uint64_t now_ms,
                              ctng_monitor_actions *acts, ctng_err *err);

/* Result of FETCH_STH/FETCH_REV(entity, p). obj NULL means the fetch failed
 * (error, timeout, non-200, undecodable body; `reason` for the log, may be
 * NULL): while now_ms + the retry delay is before the query deadline the
 * fetch is asked again (FETCH_* with at_ms = now + retry delay), and only a
 * failure at the deadline accuses (a logger whose clock is a little slow
 * answers 404 at first). A
 * valid object (right type, signer, period p, signature) is forwarded
 * (SEND_GOSSIPER + STORE_OBJECT), except that a logger's STH must first be
 * consistent with its last accepted STH: equal sizes need equal roots, a
 * smaller tree is a fork (POM transferable + ACC); a larger one needs a proof
 * (FETCH_CONSISTENCY). Anything else: ACC(entity, p) signed by this monitor
 * and SEND_GOSSIPER. CTNG_ESTATE if no fetch of (entity, p) is pending. */
int ctng_monitor_sm_on_fetch_result(ctng_monitor_sm *sm, const char *entity, uint64_t p,
                                    const ctng_gossip_object *obj, const char *reason,
                                    uint64_t now_ms, ctng_monitor_actions *acts, ctng_err *err);

/* Result of FETCH_CONSISTENCY for (logger, p). ok false: the logger did not
 * serve a proof (retried like a failed fetch until the deadline, then ACC). A proof that verifies (ctng_merkle_verify_consistency)
 * accepts the pending STH (SEND_GOSSIPER, STORE_OBJECT, STORE_LAST_STH); one
 * that does not gives POM (not transferable) + ACC. CTNG_ESTATE if nothing is
 * pending. */
int ctng_monitor_sm_on_consistency_result(ctng_monitor_sm *sm, const char *logger, uint64_t p,
                                          bool ok, const uint8_t (*proof)[32], size_t proof_len,
                                          const char *reason, uint64_t now_ms,
                                          ctng_monitor_actions *acts, ctng_err *err);

typedef enum ctng_monitor_gossip_status {
	CTNG_MON_GOSSIP_NEW = 0,       /* verified and kept (STORE_OBJECT emitted) */
	CTNG_MON_GOSSIP_DUPLICATE = 1, /* already held                             */
	CTNG_MON_GOSSIP_IGNORED = 2,   /* FRAG or ACC: not kept by a monitor       */
} ctng_monitor_gossip_status;

/* An object from the paired gossiper. FULLs are verified with
 * ctng_monitor_verify_full, STH/REV with the entity key, CON with
 * ctng_con_verify; periods must be acceptable for now_ms (cur-1..cur+1;
 * CON/CON_FULL any period <= cur+1). Kept: the first FULL per id, up to 8
 * distinct INIT objects per id. A CON_FULL marks its entity convicted.
 * Errors: CTNG_EVERIFY (bad signature), CTNG_EINVAL (structure, unknown
 * entity), CTNG_ERANGE (period outside the window). */
int ctng_monitor_sm_on_gossip(ctng_monitor_sm *sm, const ctng_gossip_object *obj, uint64_t now_ms,
                              ctng_monitor_gossip_status *status, ctng_monitor_actions *acts,
                              ctng_err *err);

/* Builds the client update of p (docs/client-update.md) and emits
 * PUBLISH_UPDATE(p, text). */
int ctng_monitor_sm_on_update_time(ctng_monitor_sm *sm, uint64_t p, uint64_t now_ms,
                                   ctng_monitor_actions *acts, ctng_err *err);
/* The same update as a parsed structure (objects copied; caller clears). */
int ctng_monitor_sm_build_update(ctng_monitor_sm *sm, uint64_t p, ctng_client_update *out,
                                 ctng_err *err);

/* Drops every kept object of a period < keep_from except CON_FULL and CON
 * (permanent). Bounds memory; the daemon calls it each period. */
void ctng_monitor_sm_prune(ctng_monitor_sm *sm, uint64_t keep_from);

/* Restart: re-load state persisted from STORE_OBJECT (restore_object: the
 * object is re-verified, with no period window), STORE_LAST_STH and POM
 * (transferable ones: restore_fork marks the logger convicted). No actions. */
int ctng_monitor_sm_restore_object(ctng_monitor_sm *sm, const ctng_gossip_object *obj,
                                   ctng_err *err);
int ctng_monitor_sm_restore_last_sth(ctng_monitor_sm *sm, const ctng_gossip_object *sth,
                                     ctng_err *err);
int ctng_monitor_sm_restore_fork(ctng_monitor_sm *sm, const char *logger, ctng_err *err);

/* Queries (for the daemon and tests). */
bool ctng_monitor_sm_convicted(const ctng_monitor_sm *sm, const char *entity); /* CON_FULL */
bool ctng_monitor_sm_forked(const ctng_monitor_sm *sm, const char *logger);    /* local PoM */
size_t ctng_monitor_sm_held(const ctng_monitor_sm *sm);                        /* objects kept */
/* The last accepted STH of a watched logger (borrowed), NULL if none. */
const ctng_gossip_object *ctng_monitor_sm_last_sth(const ctng_monitor_sm *sm, const char *logger);

/* ------------------------------------------------------------- daemon */

/* Longest single pull attempt of the daemon (docs/monitor.md §5): the query
 * window (ctng_clock_query_window_ms) capped at 2000 ms; an attempt also
 * ends at the query deadline. */
uint64_t ctng_monitor_fetch_timeout_ms(const ctng_clock *clock);
/* Delay between pull attempts: window / 10, 20 ms .. 1000 ms. */
uint64_t ctng_monitor_retry_ms(const ctng_clock *clock);

/* Runs `ctng monitor` for a loaded node configuration (role monitor) until
 * SIGINT/SIGTERM: one libevent loop, SQLite store monitor.db in the data dir,
 * HTTP server on cfg->listen (POST /ctng/v1/gossip, GET /ctng/v1/update).
 * Returns 0 after a clean stop. */
int ctng_monitor_run(const ctng_node_config *cfg, ctng_err *err);

#endif
