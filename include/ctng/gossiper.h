/*
 * ctng/gossiper.h — the CTng gossiper (DESIGN §2, §3, §7, §8): a state
 * machine without I/O that verifies, deduplicates and forwards gossip
 * objects, detects conflicts (CON), adds its BLS partial signature (FRAG)
 * after `gossip_wait_ms`, and combines `threshold` verified partials from
 * distinct gossipers into a FULL; plus the daemon that wraps it with
 * ctng_net and ctng_store (`ctng gossiper --config F`). The rules, caps and
 * counts are written out in docs/gossiper.md.
 *
 * State machine model: events are on_object (an object received from a peer
 * gossiper, the paired monitor or the local store), on_timer and on_period.
 * Each event appends actions to a caller-owned ctng_gossiper_actions list
 * and sets its next_timer_ms. Signing with the BLS share key happens inside
 * the state machine (it is computation, not I/O), so there is no SIGN action.
 * The state machine is single-threaded: one thread at a time per instance.
 *
 * Memory bounds: every accepted object must be signed by (or be about) an
 * entity of the network, so the number of object ids per period is at most
 * 4 x entities; per id at most CTNG_GOSSIPER_MAX_INIT_PER_ID distinct
 * STH/REV contents, one ACC per monitor, one CON, one FRAG per gossiper and
 * one FULL per attested content, at most as many attested contents as there
 * are gossipers; only periods cur-1..cur+1 are kept, plus
 * one permanent CON_FULL per convicted entity and counts for the last
 * CTNG_GOSSIPER_COUNT_HISTORY periods.
 *
 * Errors: CTNG_EINVAL (malformed, unknown signer/entity, wrong role),
 * CTNG_EVERIFY (a signature or proof fails), CTNG_ERANGE (period outside
 * cur-1..cur+1), CTNG_ESTATE (network without BLS keys / no share key),
 * CTNG_ENOMEM. `err` may be NULL.
 */
#ifndef CTNG_GOSSIPER_H
#define CTNG_GOSSIPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"

/* Distinct signed contents kept per STH/REV id: two are a proof of conflict;
 * more are valid but add nothing and are ignored. */
#define CTNG_GOSSIPER_MAX_INIT_PER_ID 2
/* Periods whose counts are kept (for GET /ctng/v1/counts). */
#define CTNG_GOSSIPER_COUNT_HISTORY 64

/* --------------------------------------------------------------- actions */

typedef enum ctng_gossiper_action_kind {
	CTNG_GACT_SEND_PEERS = 1,    /* POST obj to the peers in `to`           */
	CTNG_GACT_SEND_MONITOR = 2,  /* POST obj to the paired monitor          */
	CTNG_GACT_STORE = 3,         /* persist obj (current-period cache/PoM)  */
	CTNG_GACT_PULL = 4,          /* ask the peers in `to` for the objects of `id`
	                                (GET /ctng/v1/objects?period=&family=&entity=)
	                                and feed them back with from = that peer */
	CTNG_GACT_SEND_GOSSIPER = 5, /* POST obj to gossiper `dest` (an id's
	                              * aggregator; not necessarily a peer)     */
} ctng_gossiper_action_kind;

typedef struct ctng_gossiper_action {
	ctng_gossiper_action_kind kind;
	ctng_gossip_object obj; /* owned by the list; empty for PULL */
	/* SEND_PEERS, PULL: the peers to send to / ask, a bit set over this
	 * gossiper's `peers` list in network.json: peer k is bit k % 64 of
	 * to[k / 64] (ctng_gossiper_action_to); to_words words, owned by the list. */
	uint64_t *to;
	size_t to_words;
	ctng_gossip_id id;          /* PULL: the id whose objects are wanted */
	char dest[CTNG_ID_MAX + 1]; /* SEND_GOSSIPER */
} ctng_gossiper_action;

/* Does SEND_PEERS action a include the k-th peer? */
static inline bool ctng_gossiper_action_to(const ctng_gossiper_action *a, size_t k)
{
	return k / 64 < a->to_words && (a->to[k / 64] >> (k % 64) & 1);
}

/* Zero-initialise ({0}); the state machine appends. Free with
 * ctng_gossiper_actions_free (or reuse after ctng_gossiper_actions_reset).
 * next_timer_ms: after every event, the absolute wall-clock time (Unix ms)
 * at which on_timer must next be called, 0 when no timer is pending. */
typedef struct ctng_gossiper_actions {
	ctng_gossiper_action *v;
	size_t n, cap;
	uint64_t next_timer_ms;
} ctng_gossiper_actions;

/* Clears every action (freeing the objects) and keeps the memory. */
void ctng_gossiper_actions_reset(ctng_gossiper_actions *a);
void ctng_gossiper_actions_free(ctng_gossiper_actions *a);

/* ------------------------------------------------------- state machine */

typedef struct ctng_gossiper_sm ctng_gossiper_sm;

/* Results of on_object (>= 0); errors are negative. */
enum {
	CTNG_GOSSIPER_NEW = 0,       /* verified, new: stored and forwarded      */
	CTNG_GOSSIPER_DUPLICATE = 1, /* already held (same content / same id and
	                                signer / FULL already made): dropped      */
	CTNG_GOSSIPER_IGNORED = 2,   /* valid but dropped by a cap (see top)      */
	CTNG_GOSSIPER_PENDING = 3,   /* a FRAG this id's aggregator holds unchecked
	                                until it can check t of them together
	                                (docs/gossiper.md §Aggregation)            */
};

/* Creates a gossiper. net: the loaded network (borrowed; must outlive the
 * state machine; needs BLS keys: has_bls). self_id: a gossiper of net.
 * bls_sk: its share secret key (copied; wiped at free); checked against the
 * share public key in net (CTNG_EVERIFY on mismatch). now_ms sets the
 * current period (periods before genesis count as period 0). */
int ctng_gossiper_sm_new(const ctng_network *net, const char *self_id, const uint8_t bls_sk[32],
                         uint64_t now_ms, ctng_gossiper_sm **out, ctng_err *err);
void ctng_gossiper_sm_free(ctng_gossiper_sm *sm); /* NULL is a no-op */

/* An object arrived. from: the sender's entity id as the sender claims it
 * (X-CTng-From, not authenticated), "" or NULL when unknown; for STH, REV,
 * ACC and CON only, a hint of which peers hold it (docs/gossiper.md
 * §Pushing) so it is not pushed back to them; FRAGs count as held by their
 * verified signer's peers and FULLs by nobody. A lie can only cost
 * bandwidth: a FRAG or FULL whose signer proves to hold an INIT this
 * gossiper lacks makes it PULL that INIT (§Pulls). Verifies (§Verification) before
 * anything else; an invalid object changes nothing and returns a negative
 * code with the reason in err. Returns CTNG_GOSSIPER_NEW / _DUPLICATE /
 * _IGNORED. Actions (and next_timer_ms) are appended to acts. */
int ctng_gossiper_sm_on_object(ctng_gossiper_sm *sm, const ctng_gossip_object *obj,
                               const char *from, uint64_t now_ms, ctng_gossiper_actions *acts,
                               ctng_err *err);

/* Re-inserts an object the daemon persisted before a restart: verified and
 * deduplicated like on_object, but produces no SEND/STORE actions for it
 * (a FULL it completes is sent as usual). A FRAG signed by this gossiper
 * marks its id as already signed, so a restarted gossiper never signs a
 * second content for the same id. A CON_FULL of any past period is accepted
 * (permanent PoM). Returns like on_object. */
int ctng_gossiper_sm_restore(ctng_gossiper_sm *sm, const ctng_gossip_object *obj, uint64_t now_ms,
                             ctng_gossiper_actions *acts, ctng_err *err);

/* A signed observation (docs/gossiper.md §Observations) from this
 * gossiper's paired monitor: "I obtained and accepted E's STH/REV of p, with
 * this digest and these checks" or "I failed to obtain it before p's query
 * deadline". Verified with the monitor's key from the network (any other
 * signer, an entity that monitor does not watch, a period outside cur-1..
 * cur+1, or a failure in a future period: rejected, negative code), then
 * remembered for cur-1..cur+1 whoever delivered it. The ACC rule reads it:
 * this gossiper signs ACC(E, p) only if its own monitor failed (and the
 * query deadline of p passed on this clock); an OBS(failed) for an ACC
 * whose wait already ended signs then. Returns NEW (something learnt),
 * DUPLICATE, or IGNORED (a third content for one id). The daemon persists
 * NEW ones and hands them back after a restart through this same call. */
int ctng_gossiper_sm_on_observation(ctng_gossiper_sm *sm, const ctng_observation *obs,
                                    uint64_t now_ms, ctng_gossiper_actions *acts, ctng_err *err);
/* What the own monitor observed of (family, entity, period): with digest
 * NULL, whether it reported a failure; otherwise whether it reported
 * obtaining that content, *checks (may be NULL) = the union of the
 * CTNG_OBS_CHECK_* bits it reported for it. */
bool ctng_gossiper_sm_observed(const ctng_gossiper_sm *sm, enum ctng_family family,
                               const char *entity, uint64_t period, const uint8_t digest[32],
                               uint32_t *checks);

/* Runs every wait that has expired at now_ms (FRAG or CON decisions). */
int ctng_gossiper_sm_on_timer(ctng_gossiper_sm *sm, uint64_t now_ms, ctng_gossiper_actions *acts,
                              ctng_err *err);

/* Period p started (or the clock moved to p): drops every per-period cache
 * of periods < p-1 (ACC_FULLs included; CON_FULLs are kept permanently). */
int ctng_gossiper_sm_on_period(ctng_gossiper_sm *sm, uint64_t p, uint64_t now_ms,
                               ctng_gossiper_actions *acts, ctng_err *err);

/* Persist before sign (docs/gossiper.md §Storage). The daemon turns signing
 * off when a write fails and on again when storage works: while off, every
 * decision to sign a FRAG waits (it is retried every gossip_wait/4); FULLs
 * are still combined from others' partials. */
void ctng_gossiper_sm_set_signing(ctng_gossiper_sm *sm, bool on);
bool ctng_gossiper_sm_signing(const ctng_gossiper_sm *sm);
/* An object this state machine made could not be persisted: this
 * gossiper's own STH/REV FRAG, or an STH/REV FULL built with it. It is
 * removed as if never made (uncounted, never pushed or served; the daemon
 * must not send it either) and the id is decided again later, so a restart
 * can never find two contents signed for one id. ACC and CON partials sign
 * only the id and need no forgetting. It takes no action list: the caller
 * re-arms its timer from ctng_gossiper_sm_next_timer (the new decision is
 * due then). CTNG_ENOTFOUND / CTNG_EINVAL. */
int ctng_gossiper_sm_forget(ctng_gossiper_sm *sm, const ctng_gossip_object *o, uint64_t now_ms,
                            ctng_err *err);
/* When the state machine next wants on_timer (absolute ms, 0 = never): what
 * every event sets in next_timer_ms, for callers that changed the state
 * without one (ctng_gossiper_sm_forget). */
uint64_t ctng_gossiper_sm_next_timer(const ctng_gossiper_sm *sm);

/* Current period. */
uint64_t ctng_gossiper_sm_period(const ctng_gossiper_sm *sm);

/* Counts of period p: counts[i] is the number of distinct objects of type
 * ctng_all_types[i] and period p that this gossiper accepted or produced.
 * False (counts zeroed) when p is not in the history. */
bool ctng_gossiper_sm_counts(const ctng_gossiper_sm *sm, uint64_t p,
                             uint64_t counts[CTNG_TYPE_COUNT]);

/* Is `entity` convicted (a CON_FULL against it is held)? */
bool ctng_gossiper_sm_convicted(const ctng_gossiper_sm *sm, const char *entity);
/* Number of permanent CON_FULLs and the i-th one (borrowed; valid until the
 * next event). */
size_t ctng_gossiper_sm_n_con_full(const ctng_gossiper_sm *sm);
const ctng_gossip_object *ctng_gossiper_sm_con_full(const ctng_gossiper_sm *sm, size_t i);

/* Calls fn (borrowed object, valid during the call; fn must not call into
 * the state machine) for every object of period p held: INITs, FULLs, and
 * the FRAGs of attestations that have no FULL yet. Returns how many. This is
 * what a restarted peer pulls (GET /ctng/v1/objects). */
size_t ctng_gossiper_sm_each(const ctng_gossiper_sm *sm, uint64_t p,
                             void (*fn)(const ctng_gossip_object *o, void *arg), void *arg);

/* The gossiper that aggregates the FRAGs of `id` (docs/gossiper.md
 * §Aggregation): ranked first for it, the same on every gossiper. Borrowed
 * from the network. */
const char *ctng_gossiper_sm_aggregator(const ctng_gossiper_sm *sm, const ctng_gossip_id *id);

/* Number of gossip objects the state machine holds in memory (for the
 * memory-bound tests and the daemon's logs). */
size_t ctng_gossiper_sm_held(const ctng_gossiper_sm *sm);

/* ---------------------------------------------------------------- daemon */

/* Runs `ctng gossiper` from a loaded node configuration (role gossiper, BLS
 * share key present; cfg is borrowed for the whole run) in the calling
 * thread until SIGINT or SIGTERM: binds cfg->listen, serves POST
 * /ctng/v1/gossip, GET /ctng/v1/counts and GET /ctng/v1/objects (see
 * docs/endpoints.md), pushes to peers and its monitor, persists to
 * cfg->data_dir/gossiper.db, pulls the current periods from its peers at
 * start (GET /ctng/v1/objects), and writes GossipStorage.json and
 * CONFLICT_POM_<entity>.json there. Returns 0 after a clean stop. */
int ctng_gossiper_run(const ctng_node_config *cfg, ctng_err *err);

#endif
