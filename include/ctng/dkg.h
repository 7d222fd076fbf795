/*
 * ctng/dkg.h — distributed key generation among the gossipers (issue 12,
 * docs/dkg.md): a joint-Feldman (Pedersen) DKG over BLS12-381 with signed
 * complaints answered by revealing the share, disqualification of dealers
 * that cheat, equivocate or stay silent, and resharing of an existing group
 * secret to a new set of gossipers with a new threshold (same group key).
 *
 * Layers, from the bottom:
 *   - messages: deal, response, justification; strict JSON parsing, the
 *     canonical signed bytes (docs/protocol.md §10), signing and verifying;
 *   - the participants of a network (ctng_dkg_ctx): who deals, who receives,
 *     the threshold, the session id derived from the network's fingerprint;
 *   - the state machine of one participant (ctng_dkg_sm): no I/O (DESIGN §8);
 *     it takes (event, now) and returns actions (send, announce, store, save
 *     state, done), so tests drive n participants in one process;
 *   - the transcript: every message a participant held plus the result;
 *     anyone verifies it from the public network alone
 *     (ctng_dkg_transcript_verify), which is what `ctng network finalize` does;
 *   - the daemon part (ctng_dkg_node): one participant on a ctng_net loop
 *     and server, persisting in SQLite (the gossiper daemon runs it before
 *     it starts gossiping).
 *
 * Errors: CTNG_EINVAL malformed (HTTP 400), CTNG_EVERIFY a signature or a
 * check failed (400), CTNG_ESTATE a message for another session or a phase
 * that is closed (409), CTNG_ENOMEM, CTNG_EIO. `err` may be NULL. Pointers
 * are borrowed unless written otherwise.
 */
#ifndef CTNG_DKG_H
#define CTNG_DKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"
#include "ctng/sig.h"

#define CTNG_DKG_MAX_PARTICIPANTS 256
#define CTNG_DKG_MSG_MAX          (256u << 10) /* longest message JSON accepted */
#define CTNG_DKG_SHARE_CT_LEN     48           /* 32-byte share + Poly1305 tag */

/* ------------------------------------------------------------- messages */

typedef enum ctng_dkg_type {
	CTNG_DKG_DEAL = 1,          /* a dealer's commitments and encrypted shares */
	CTNG_DKG_RESPONSE = 2,      /* a recipient's complaints (possibly none)    */
	CTNG_DKG_JUSTIFICATION = 3, /* a dealer reveals the share of one complainer */
} ctng_dkg_type;

const char *ctng_dkg_type_name(ctng_dkg_type t); /* "deal", ...; NULL if invalid */

/* One DKG message. Arrays are owned (ctng_dkg_msg_clear). */
typedef struct ctng_dkg_msg {
	ctng_dkg_type type;
	uint8_t session[32];
	char sender[CTNG_ID_MAX + 1];
	/* deal */
	uint32_t t;                               /* number of commitments */
	uint8_t (*commitments)[96];               /* a_k * G2, compressed */
	uint8_t pok_r[96];                        /* proof of knowledge of a_0: R */
	uint8_t pok_z[32];                        /* ... and z (ctng_dkg_pok_verify) */
	uint8_t ephemeral[32];                    /* X25519 key the shares are sealed with */
	uint32_t n;                               /* number of recipients */
	uint8_t (*shares)[CTNG_DKG_SHARE_CT_LEN]; /* sealed f(j), recipient order */
	/* response: dealer ids, in dealer order */
	char (*complaints)[CTNG_ID_MAX + 1];
	size_t n_complaints;
	/* justification */
	char to[CTNG_ID_MAX + 1]; /* the complainer */
	uint8_t share[32];        /* f(to), revealed */
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sig_len;
} ctng_dkg_msg;

void ctng_dkg_msg_clear(ctng_dkg_msg *m);
/* Strict parse of a message's JSON (docs/protocol.md §10): exact members for
 * its type, lower-case hex of exact sizes, ids valid, counts bounded,
 * complaints without duplicates. Checks form only, not signatures. */
int ctng_dkg_msg_parse(const char *json, size_t len, ctng_dkg_msg *out, ctng_err *err);
/* The JSON text (malloc'd, NUL-terminated). */
int ctng_dkg_msg_encode(const ctng_dkg_msg *m, char **json, size_t *len, ctng_err *err);
/* The canonical bytes a signature covers (appended to out). */
int ctng_dkg_msg_signed_bytes(const ctng_dkg_msg *m, ctng_buf *out, ctng_err *err);
/* SHA-256 of the signed bytes: a message's identity (signatures excluded, so
 * a re-signed identical message is the same message). */
int ctng_dkg_msg_hash(const ctng_dkg_msg *m, uint8_t out[32], ctng_err *err);
int ctng_dkg_msg_sign(ctng_dkg_msg *m, const ctng_sig_key *key, ctng_err *err);
/* The body of POST /ctng/v1/dkg/notice: exactly {"session": 64 hex,
 * "hash": 64 hex} (lower case). */
int ctng_dkg_notice_parse(const char *json, size_t len, uint8_t session[32], uint8_t hash[32],
                          ctng_err *err);
int ctng_dkg_msg_verify(const ctng_dkg_msg *m, const ctng_sig_key *key, ctng_err *err);

/* A deal's proof of knowledge of its secret a_0 (docs/dkg.md §2): a Schnorr
 * proof in G2 for C_0 = a_0*G2, bound to the session and the dealer id,
 * deterministic in (a_0, session, dealer). prove: a_0 is 32 bytes
 * big-endian, non-zero and below r (CTNG_EINVAL otherwise). verify: C_0 and
 * R decode to subgroup points, z < r, and z*G2 == R + c*C_0 (CTNG_EVERIFY
 * otherwise). ctng_dkg_msg_check runs it on every deal. */
int ctng_dkg_pok_prove(uint8_t r[96], uint8_t z[32], const uint8_t a0[32],
                       const uint8_t session[32], const char *dealer, ctng_err *err);
int ctng_dkg_pok_verify(const uint8_t c0[96], const uint8_t r[96], const uint8_t z[32],
                        const uint8_t session[32], const char *dealer, ctng_err *err);

/* ---------------------------------------------------------- participants */

/* The DKG of one network: its gossipers (every one receives a share;
 * dealers are all of them, or in a network that reshares the gossipers that
 * held a share of the previous group), the threshold, the session id
 * SHA-256("CTNG-DKG-V1 session" || fingerprint). Keeps a pointer to net. */
typedef struct ctng_dkg_ctx ctng_dkg_ctx;

/* Fails with CTNG_EINVAL when the network cannot run a DKG: a gossiper
 * lacks public_key or dkg_key, more than
 * CTNG_DKG_MAX_PARTICIPANTS gossipers, fewer dealers than the number of
 * qualified dealers needed. */
int ctng_dkg_ctx_new(const ctng_network *net, ctng_dkg_ctx **out, ctng_err *err);
void ctng_dkg_ctx_free(ctng_dkg_ctx *c);
const uint8_t *ctng_dkg_ctx_session(const ctng_dkg_ctx *c);
size_t ctng_dkg_ctx_n_dealers(const ctng_dkg_ctx *c);
size_t ctng_dkg_ctx_n_recipients(const ctng_dkg_ctx *c);
bool ctng_dkg_ctx_is_dealer(const ctng_dkg_ctx *c, const char *id);

/* Checks a parsed message against the network: session, sender's role for
 * the type, signature, and the deal's shape (t commitments that decode, C_0
 * not the identity and, when resharing, equal to the dealer's previous share
 * key; n sealed shares). Errors name the problem. */
int ctng_dkg_msg_check(const ctng_dkg_ctx *c, const ctng_dkg_msg *m, ctng_err *err);

/* ------------------------------------------------------------- outcome */

typedef struct ctng_dkg_disq {
	char id[CTNG_ID_MAX + 1];
	char reason[128];
} ctng_dkg_disq;

/* The public result of a DKG. Arrays owned (ctng_dkg_outcome_free). */
typedef struct ctng_dkg_outcome {
	uint8_t session[32];
	uint32_t threshold;
	uint8_t group_pk[96];
	uint8_t (*commitments)[96]; /* threshold of them; [0] == group_pk */
	char (*qualified)[CTNG_ID_MAX + 1];
	size_t n_qualified;
	ctng_dkg_disq *disqualified;
	size_t n_disqualified;
	uint8_t (*share_pks)[96]; /* per recipient, bls_id order */
	size_t n_share_pks;
} ctng_dkg_outcome;

void ctng_dkg_outcome_free(ctng_dkg_outcome *o);
/* Same session, key, commitments, qualified set and share keys. */
bool ctng_dkg_outcome_equal(const ctng_dkg_outcome *a, const ctng_dkg_outcome *b);

/* ------------------------------------------------------ state machine */

typedef enum ctng_dkg_phase {
	CTNG_DKG_WAIT = 0,    /* not started (messages are kept)          */
	CTNG_DKG_DEALING = 1, /* own deal sent; collecting deals          */
	CTNG_DKG_RESPONDING,  /* own response sent; collecting responses  */
	CTNG_DKG_JUSTIFYING,  /* collecting the answers to complaints     */
	CTNG_DKG_DONE,        /* finished with a key                      */
	CTNG_DKG_FAILED,      /* finished without one (too few qualified) */
} ctng_dkg_phase;

const char *ctng_dkg_phase_name(ctng_dkg_phase p);

typedef enum ctng_dkg_act_kind {
	/* persist before anything is sent: the participant's state (its secret
	 * polynomial while it may still be needed); blob replaces the last one */
	CTNG_DKG_ACT_SAVE_STATE = 1,
	/* persist a message (json) the participant now holds */
	CTNG_DKG_ACT_STORE,
	/* send json to `to`, or when to is "" to every other participant (own
	 * messages) */
	CTNG_DKG_ACT_SEND,
	/* tell every participant but `from` that a message with `hash` is held
	 * (they fetch it if they lack it: ctng_dkg_sm_wants / ctng_dkg_sm_get) */
	CTNG_DKG_ACT_ANNOUNCE,
	/* the run finished (phase DONE or FAILED; see ctng_dkg_sm_outcome) */
	CTNG_DKG_ACT_FINISHED,
} ctng_dkg_act_kind;

typedef struct ctng_dkg_action {
	ctng_dkg_act_kind kind;
	char *json; /* SAVE_STATE: hex state blob; STORE/SEND: message (owned) */
	size_t len;
	uint8_t hash[32];             /* STORE, ANNOUNCE: message hash */
	ctng_dkg_type type;           /* STORE */
	char sender[CTNG_ID_MAX + 1]; /* STORE */
	char from[CTNG_ID_MAX + 1];   /* ANNOUNCE: who it came from ("" = unknown) */
	char to[CTNG_ID_MAX + 1];     /* SEND: the one destination, "" = everyone */
} ctng_dkg_action;

typedef struct ctng_dkg_actions {
	ctng_dkg_action *v;
	size_t n, cap;
} ctng_dkg_actions;

void ctng_dkg_actions_reset(ctng_dkg_actions *a); /* frees the jsons, n = 0 */
void ctng_dkg_actions_free(ctng_dkg_actions *a);

typedef struct ctng_dkg_config {
	const ctng_network *net;      /* the network whose DKG this is (outlives the sm) */
	const char *self_id;          /* a gossiper of net */
	const ctng_sig_key *sign_key; /* self's private signing key (borrowed) */
	const uint8_t *dkg_sk;        /* self's X25519 private key (32, copied) */
	const uint8_t *old_share;     /* resharing dealer: its previous share (32,
	                               * copied); NULL: does not deal */
	uint64_t phase_ms;            /* phase timeout; 0: net->dkg_phase_ms or the default */
	uint64_t grace_ms;            /* once a phase's messages are all in, wait this long for
	                               * late evidence (conflicts) before moving on; 0: phase/20 */
	/* tests only: the dealer's coefficients come from this seed (>= 32
	 * bytes) instead of the CSPRNG, and misbehaviour to inject */
	const uint8_t *test_seed;
	size_t test_seed_len;
	uint32_t test_faults; /* CTNG_DKG_FAULT_* bits */
} ctng_dkg_config;

/* Faults a test participant can inject (ctng_dkg_config.test_faults). */
#define CTNG_DKG_FAULT_BAD_SHARE   1u  /* seal a wrong share for the next recipient */
#define CTNG_DKG_FAULT_NO_JUSTIFY  2u  /* never answer complaints */
#define CTNG_DKG_FAULT_BAD_JUSTIFY 4u  /* answer complaints with a wrong share */
#define CTNG_DKG_FAULT_EQUIVOCATE  8u  /* sign a second, different deal */
#define CTNG_DKG_FAULT_FALSE_CLAIM 16u /* complain about the first other dealer */
#define CTNG_DKG_FAULT_SILENT      32u /* send nothing at all */

typedef struct ctng_dkg_sm ctng_dkg_sm;

int ctng_dkg_sm_new(const ctng_dkg_config *cfg, ctng_dkg_sm **out, ctng_err *err);
void ctng_dkg_sm_free(ctng_dkg_sm *sm); /* wipes every secret */

/* Deals (a dealer draws a fresh polynomial, saves it, then sends its deal)
 * and starts the deal phase's clock. No-op once started. A participant also
 * starts on its own when the first valid deal of another arrives. */
int ctng_dkg_sm_start(ctng_dkg_sm *sm, uint64_t now_ms, ctng_dkg_actions *acts, ctng_err *err);

#define CTNG_DKG_NEW       1 /* the message was new and is held */
#define CTNG_DKG_DUPLICATE 0 /* already held: nothing changed */

/* A message (JSON) from peer `from` (NULL if unknown). Returns CTNG_DKG_NEW
 * or CTNG_DKG_DUPLICATE, or an error that changed nothing: CTNG_EINVAL
 * malformed, CTNG_EVERIFY bad signature or bad deal, CTNG_ESTATE other
 * session or closed phase. */
int ctng_dkg_sm_on_message(ctng_dkg_sm *sm, const char *json, size_t len, const char *from,
                           uint64_t now_ms, ctng_dkg_actions *acts, ctng_err *err);
/* When on_timer should next be called (wall clock ms; 0 = never). */
uint64_t ctng_dkg_sm_next_timer(const ctng_dkg_sm *sm);
/* Moves phases whose deadline passed (or whose messages are all in). */
int ctng_dkg_sm_on_timer(ctng_dkg_sm *sm, uint64_t now_ms, ctng_dkg_actions *acts, ctng_err *err);

/* Is a message with this hash wanted (not held, run not finished)? */
bool ctng_dkg_sm_wants(const ctng_dkg_sm *sm, const uint8_t hash[32]);
/* The JSON of a held message (borrowed until the next call on sm), or NULL. */
const char *ctng_dkg_sm_get(const ctng_dkg_sm *sm, const uint8_t hash[32], size_t *len);
/* Every held message, in arrival order: fn(json, len, arg). */
void ctng_dkg_sm_each(const ctng_dkg_sm *sm, void (*fn)(const char *, size_t, void *), void *arg);

ctng_dkg_phase ctng_dkg_sm_phase(const ctng_dkg_sm *sm);
const ctng_dkg_ctx *ctng_dkg_sm_ctx(const ctng_dkg_sm *sm);
/* Why the run failed (phase FAILED), "" otherwise. */
const char *ctng_dkg_sm_failure(const ctng_dkg_sm *sm);
/* After DONE: the outcome (borrowed) and this participant's share. */
const ctng_dkg_outcome *ctng_dkg_sm_outcome(const ctng_dkg_sm *sm);
int ctng_dkg_sm_share(const ctng_dkg_sm *sm, uint32_t *bls_id, uint8_t sk[32], ctng_err *err);
/* After DONE or FAILED: the transcript JSON (malloc'd). */
int ctng_dkg_sm_transcript(const ctng_dkg_sm *sm, char **json, size_t *len, ctng_err *err);
/* Bytes of the messages this participant signed (for the figures). */
uint64_t ctng_dkg_sm_bytes_signed(const ctng_dkg_sm *sm);

/* Restart: a fresh sm fed with the saved state (SAVE_STATE blob) and every
 * stored message, then resumed. Resuming re-sends the participant's own
 * messages and re-arms the clock (a phase whose deadline passed while the
 * node was down moves on at the next timer). A participant that had dealt
 * keeps its polynomial (never a new one); one that lost its state after
 * dealing must not take part again (ctng_dkg_node aborts it). */
int ctng_dkg_sm_restore_state(ctng_dkg_sm *sm, const char *blob, size_t len, ctng_err *err);
int ctng_dkg_sm_restore_message(ctng_dkg_sm *sm, const char *json, size_t len, ctng_err *err);
int ctng_dkg_sm_resume(ctng_dkg_sm *sm, uint64_t now_ms, ctng_dkg_actions *acts, ctng_err *err);

/* ---------------------------------------------------------- transcript */

/* Verifies a transcript against the network.json text it belongs to (no
 * group key yet): the session matches the network, every message is well
 * formed, from the right participant and correctly signed, and the result
 * recomputed from the messages alone (disqualifications, complaints and
 * their answers, the group key, the commitments, every share key) is the
 * one the transcript states. 0 and *out filled, CTNG_EVERIFY (the message
 * says what), CTNG_EINVAL (malformed). */
int ctng_dkg_transcript_verify(const char *network_json, size_t network_len, const char *json,
                               size_t len, ctng_dkg_outcome *out, ctng_err *err);
/* Same with a parsed network. */
int ctng_dkg_transcript_verify_net(const ctng_network *net, const char *json, size_t len,
                                   ctng_dkg_outcome *out, ctng_err *err);

/* ------------------------------------------------------------- daemon */

struct ctng_net_loop;
struct ctng_net_server;
struct ctng_store;

/* One participant on a loop and server (docs/dkg.md §7): routes
 * POST /ctng/v1/dkg/message, POST /ctng/v1/dkg/notice,
 * GET /ctng/v1/dkg/message?hash=H, GET /ctng/v1/dkg/messages,
 * GET /ctng/v1/dkg/status, GET /ctng/v1/dkg/transcript; sends with retries;
 * starts when every participant answers its status (or, after a phase of
 * waiting, when enough do); persists in `st` (tables dkg_*); writes
 * data_dir/dkg-transcript.json when the run ends; keeps the share in the
 * store (ctng_dkg_store_share). `done` is called once on the loop thread
 * when the run ends (outcome NULL on failure, with a reason). */
typedef void (*ctng_dkg_done_fn)(void *arg, const ctng_dkg_outcome *outcome, uint32_t bls_id,
                                 const uint8_t sk[32], const char *failure);

typedef struct ctng_dkg_node ctng_dkg_node;

int ctng_dkg_node_start(const ctng_node_config *cfg, struct ctng_net_loop *loop,
                        struct ctng_net_server *srv, struct ctng_store *st,
                        const uint8_t *old_share, ctng_dkg_done_fn done, void *arg,
                        ctng_dkg_node **out, ctng_err *err);
/* Stops sending and frees the node's timers; the routes then answer 503.
 * Call before the server and the loop are freed. */
void ctng_dkg_node_stop(ctng_dkg_node *n);
/* Frees the node; call after the loop was freed (callbacks of requests
 * still in flight run while the loop is freed, and use the node). */
void ctng_dkg_node_free(ctng_dkg_node *n);
ctng_dkg_phase ctng_dkg_node_phase(const ctng_dkg_node *n);

/* Shares kept by a node, by share public key (any DKG or resharing it took
 * part in). 0, CTNG_ENOTFOUND. */
int ctng_dkg_store_share(struct ctng_store *st, const uint8_t pk[96], const uint8_t sk[32],
                         uint32_t bls_id, ctng_err *err);
int ctng_dkg_load_share(struct ctng_store *st, const uint8_t pk[96], uint8_t sk[32], ctng_err *err);
/* The share a gossiper signs with in a network with keys: bls_sk of its
 * config, else the DKG share stored for its bls_pk. CTNG_ENOTFOUND. */
int ctng_dkg_find_share(const ctng_node_config *cfg, struct ctng_store *st, uint8_t sk[32],
                        ctng_err *err);
/* In a network that reshares: the gossiper's share of the previous group
 * (bls_sk of its config or the store). CTNG_ENOTFOUND if it held none. */
int ctng_dkg_find_old_share(const ctng_node_config *cfg, struct ctng_store *st, uint8_t sk[32],
                            ctng_err *err);
/* Migrations of the DKG tables (called by ctng_dkg_node_start). */
int ctng_dkg_store_migrate(struct ctng_store *st, ctng_err *err);

#endif
