/*
 * ctng/meter.h — counting the expensive cryptographic operations of the
 * calling thread, and, for simulations, remembering their results.
 *
 * A thread that installs a meter (ctng_meter_use) gets every BLS sign,
 * verification and combination and every ECDSA / Ed25519 signature and
 * verification done by libctng on that thread counted in it. `ctng sim`
 * charges each node's virtual clock from these counts (docs/sim.md §Costs).
 * Daemons never install a meter: then the only cost is one thread-local
 * pointer test per operation.
 *
 * Memo (simulations only): with a memo attached, a verification whose exact
 * inputs (key bytes, domain tag, message, signature) were verified before on
 * this thread returns the remembered result instead of running the pairing
 * again. The first occurrence always runs the real
 * computation, entries are keyed by SHA-256 of the inputs, and only the
 * outcomes "valid" and "does not verify" are remembered (a malformed input
 * fails before the memo is consulted), so every result is exactly what the
 * computation gives. Hundreds of simulated gossipers that check the same
 * FRAG then cost one pairing of real time while each is still charged its
 * own. Counts include memo hits.
 *
 * Thread model: a meter and its memo belong to the thread that installed
 * them.
 */
#ifndef CTNG_METER_H
#define CTNG_METER_H

#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

typedef enum ctng_meter_op {
	CTNG_METER_BLS_SIGN = 0,      /* hash-to-curve + one G1 multiplication     */
	CTNG_METER_BLS_VERIFY,        /* one two-pairing check (plain or prepared) */
	CTNG_METER_BLS_COMBINE,       /* one Lagrange combination ...              */
	CTNG_METER_BLS_COMBINE_SHARE, /* ... and its number of partials            */
	CTNG_METER_BLS_BATCH_ITEM,    /* a triple inside a batch verification      */
	CTNG_METER_ECDSA_SIGN,
	CTNG_METER_ECDSA_VERIFY,
	CTNG_METER_ED25519_SIGN,
	CTNG_METER_ED25519_VERIFY,
	CTNG_METER_OPS
} ctng_meter_op;

/* "bls_sign", "bls_verify", ... (the names used in scenario cost tables). */
const char *ctng_meter_op_name(ctng_meter_op op);

typedef struct ctng_meter_memo ctng_meter_memo;

typedef struct ctng_meter {
	uint64_t ops[CTNG_METER_OPS];
	uint64_t memo_hits;    /* operations answered from the memo */
	ctng_meter_memo *memo; /* NULL: every operation runs         */
} ctng_meter;

/* Installs m (may be NULL) as the calling thread's meter; returns the
 * previous one. m must stay valid while installed. */
ctng_meter *ctng_meter_use(ctng_meter *m);

/* A memo of at most max_entries results (older ones are forgotten when it
 * is full). NULL on ENOMEM. */
ctng_meter_memo *ctng_meter_memo_new(size_t max_entries);
void ctng_meter_memo_free(ctng_meter_memo *memo); /* NULL is fine */

/* ------------------------------------------------- for libctng's crypto */

/* Counts n operations on the thread's meter (no-op without one). */
void ctng_meter_count(ctng_meter_op op, uint64_t n);
/* True when the thread's meter has a memo (callers skip building memo keys
 * otherwise). */
int ctng_meter_memo_active(void);
/* Memo of a yes/no computation identified by the concatenation of `parts`
 * (n parts of lens[i] bytes, each length-prefixed into the digest; a
 * one-byte kind tag first is the caller's convention). lookup returns 1 and
 * sets *rc when the result is known (counted in memo_hits), else 0. store
 * remembers rc (only 0 and CTNG_EVERIFY; others are ignored). `key`
 * carries the digest from lookup to store. */
typedef struct ctng_meter_key {
	uint8_t h[32];
	int active; /* 0: no memo on this thread, nothing to store */
} ctng_meter_key;
int ctng_meter_memo_lookup(ctng_meter_key *key, const void *const *parts, const size_t *lens,
                           size_t n, int *rc);
void ctng_meter_memo_store(const ctng_meter_key *key, int rc);

#endif
