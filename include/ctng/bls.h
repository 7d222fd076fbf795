/*
 * ctng/bls.h — BLS12-381 signatures and (t, n) threshold BLS, the face of the
 * BLS part of ctng_crypto (DESIGN §4).
 *
 * Variant: minimal signature size. Signatures are G1 points (48 bytes, ZCash
 * compressed), public keys are G2 points (96 bytes, ZCash compressed), secret
 * keys are 32-byte big-endian scalars in [1, r-1]. Ciphersuite
 * BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_ of draft-irtf-cfrg-bls-signature-05;
 * hashing per RFC 9380 (BLS12381G1_XMD:SHA-256_SSWU_RO_).
 *
 * Every decoded point is checked: canonical encoding, on the curve, in the
 * prime-order subgroup, and not the identity (the identity is never a valid
 * key or signature). Operations on secret keys run in constant time and wipe
 * their temporaries.
 *
 * Return values: 0 on success / valid; CTNG_EVERIFY when well-formed input
 * fails verification; CTNG_EINVAL for malformed input (bad encoding, point
 * not in the subgroup, identity, sk = 0 or >= r, bad sizes); CTNG_ENOMEM;
 * CTNG_ERANGE for out-of-range threshold parameters. `err` may be NULL.
 * All pointers are borrowed; nothing is retained after a call returns.
 * Functions are thread-safe (the only process-wide state is a table of
 * precomputed generator lines, built once under pthread_once).
 */
#ifndef CTNG_BLS_H
#define CTNG_BLS_H

#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

#define CTNG_BLS_SK_LEN              32 /* big-endian scalar in [1, r-1] */
#define CTNG_BLS_PK_LEN              96 /* compressed G2 */
#define CTNG_BLS_SIG_LEN             48 /* compressed G1 */
#define CTNG_BLS_G1_UNCOMPRESSED_LEN 96
#define CTNG_BLS_G2_UNCOMPRESSED_LEN 192

/* Domain separation tags (NUL-terminated ASCII). */
#define CTNG_BLS_DST_POP       "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_" /* messages */
#define CTNG_BLS_DST_POP_PROVE "BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_" /* proofs */
#define CTNG_BLS_MAX_DST_LEN   255

/* ------------------------------------------------------------- basic BLS */

/* KeyGen of draft-irtf-cfrg-bls-signature-05 §2.3 (HKDF-SHA256 with salt
 * "BLS-SIG-KEYGEN-SALT-" re-hashed until SK != 0, empty key_info).
 * ikm_len must be >= 32 (CTNG_EINVAL otherwise). */
int ctng_bls_keygen(uint8_t sk[CTNG_BLS_SK_LEN], const uint8_t *ikm, size_t ikm_len, ctng_err *err);

/* Generates a fresh secret key from the system CSPRNG. */
int ctng_bls_keygen_random(uint8_t sk[CTNG_BLS_SK_LEN], ctng_err *err);

/* Checks sk is a canonical scalar in [1, r-1]. 0 or CTNG_EINVAL. */
int ctng_bls_sk_check(const uint8_t sk[CTNG_BLS_SK_LEN], ctng_err *err);

/* SkToPk: pk = sk * G2 generator, compressed. */
int ctng_bls_sk_to_pk(uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t sk[CTNG_BLS_SK_LEN],
                      ctng_err *err);

/* Full KeyValidate of a public key: decodes, on curve, in subgroup, not identity.
 * 0 or CTNG_EINVAL. */
int ctng_bls_pk_check(const uint8_t pk[CTNG_BLS_PK_LEN], ctng_err *err);
/* Same checks for a signature. 0 or CTNG_EINVAL. */
int ctng_bls_sig_check(const uint8_t sig[CTNG_BLS_SIG_LEN], ctng_err *err);

/* Sign: sig = sk * hash_to_g1(msg, dst). dst NULL means CTNG_BLS_DST_POP;
 * otherwise a NUL-terminated tag of 1..255 bytes. */
int ctng_bls_sign(uint8_t sig[CTNG_BLS_SIG_LEN], const uint8_t sk[CTNG_BLS_SK_LEN],
                  const uint8_t *msg, size_t len, const char *dst, ctng_err *err);

/* Verify: 0 valid, CTNG_EVERIFY invalid, CTNG_EINVAL malformed pk/sig/dst. */
int ctng_bls_verify(const uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t *msg, size_t len,
                    const uint8_t sig[CTNG_BLS_SIG_LEN], const char *dst, ctng_err *err);

/* Aggregate: sum of `count` >= 1 signatures (each fully validated). */
int ctng_bls_aggregate(uint8_t out[CTNG_BLS_SIG_LEN], const uint8_t (*sigs)[CTNG_BLS_SIG_LEN],
                       size_t count, ctng_err *err);

/* FastAggregateVerify (POP scheme): all `count` >= 1 keys signed the same msg.
 * Keys must carry valid proofs of possession (checked by the caller, once). */
int ctng_bls_fast_aggregate_verify(const uint8_t (*pks)[CTNG_BLS_PK_LEN], size_t count,
                                   const uint8_t *msg, size_t len,
                                   const uint8_t sig[CTNG_BLS_SIG_LEN], const char *dst,
                                   ctng_err *err);

/* PopProve / PopVerify: proof = sk * hash_to_g1(pk, CTNG_BLS_DST_POP_PROVE). */
int ctng_bls_pop_prove(uint8_t proof[CTNG_BLS_SIG_LEN], const uint8_t sk[CTNG_BLS_SK_LEN],
                       ctng_err *err);
int ctng_bls_pop_verify(const uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t proof[CTNG_BLS_SIG_LEN],
                        ctng_err *err);

/* A public key decoded and fully checked once, with its Miller-loop lines
 * precomputed, for verifying many signatures under the same key (the
 * gossipers' group key). Opaque, about 14 KiB; immutable once built, so one
 * object may be shared by threads. */
typedef struct ctng_bls_pk_prepared ctng_bls_pk_prepared;

/* KeyValidate(pk) then precomputation. On success *out is owned by the caller
 * (release with ctng_bls_pk_prepared_free). CTNG_EINVAL, CTNG_ENOMEM. */
int ctng_bls_pk_prepare(ctng_bls_pk_prepared **out, const uint8_t pk[CTNG_BLS_PK_LEN],
                        ctng_err *err);
void ctng_bls_pk_prepared_free(ctng_bls_pk_prepared *p); /* NULL is fine */
/* Same result as ctng_bls_verify with the key given to ctng_bls_pk_prepare. */
int ctng_bls_verify_prepared(const ctng_bls_pk_prepared *pk, const uint8_t *msg, size_t len,
                             const uint8_t sig[CTNG_BLS_SIG_LEN], const char *dst, ctng_err *err);

/* One (pk, msg, sig) triple for batch verification. Pointers borrowed. */
typedef struct ctng_bls_batch_item {
	const uint8_t *pk; /* CTNG_BLS_PK_LEN bytes */
	const uint8_t *msg;
	size_t msg_len;
	const uint8_t *sig; /* CTNG_BLS_SIG_LEN bytes */
} ctng_bls_batch_item;

/* Verifies `count` independent triples (same dst) with one multi-pairing,
 * using random odd 64-bit linear-combination coefficients. Returns 0 if all are
 * valid, CTNG_EVERIFY if at least one is invalid (probability of a false
 * accept <= 2^-63; then verify one by one to find the culprit), CTNG_EINVAL if
 * one is malformed, CTNG_ERANGE above 2^24 items. count == 0 returns 0. */
int ctng_bls_batch_verify(const ctng_bls_batch_item *items, size_t count, const char *dst,
                          ctng_err *err);

/* hash_to_curve (RFC 9380, BLS12381G1_XMD:SHA-256_SSWU_RO_) of msg with the
 * given dst (NULL = CTNG_BLS_DST_POP), compressed. */
int ctng_bls_hash_to_g1(uint8_t out[CTNG_BLS_SIG_LEN], const uint8_t *msg, size_t len,
                        const char *dst, ctng_err *err);

/* ------------------------------------------------------------- threshold */

#define CTNG_BLS_MAX_SHARES 1024

typedef struct ctng_bls_share {
	uint32_t id;                 /* 1..n */
	uint8_t sk[CTNG_BLS_SK_LEN]; /* secret share f(id) — wipe with ctng_wipe */
	uint8_t pk[CTNG_BLS_PK_LEN]; /* share public key f(id) * G2 */
} ctng_bls_share;

/* Dealer: picks a random polynomial f of degree t-1 over Fr (or derives it
 * deterministically from `seed` when seed != NULL; seed_len >= 32), writes the
 * group key f(0)*G2, the t Feldman commitments a_i*G2 (commitments[0] equals
 * group_pk) and shares for ids 1..n. 1 <= t <= n <= CTNG_BLS_MAX_SHARES
 * (CTNG_ERANGE otherwise). `commitments` has room for t entries, `shares` for n. */
int ctng_bls_deal(uint32_t t, uint32_t n, const uint8_t *seed, size_t seed_len,
                  uint8_t group_pk[CTNG_BLS_PK_LEN], uint8_t (*commitments)[CTNG_BLS_PK_LEN],
                  ctng_bls_share *shares, ctng_err *err);

/* Share public key of `id` (>= 1) from the t commitments: sum id^i * C_i.
 * Each commitment is fully decoded (C_0 must not be the identity); CTNG_EINVAL
 * for id 0, a malformed commitment or an identity result; CTNG_ERANGE for t
 * outside 1..CTNG_BLS_MAX_SHARES. */
int ctng_bls_share_pk_from_commitments(uint8_t pk[CTNG_BLS_PK_LEN],
                                       const uint8_t (*commitments)[CTNG_BLS_PK_LEN], uint32_t t,
                                       uint32_t id, ctng_err *err);

/* The same for n ids at once: the commitments are decoded once, so checking
 * the share keys of a network of hundreds of gossipers costs one Horner
 * evaluation per share with small multipliers. pks[j] for ids[j]. */
int ctng_bls_share_pks_from_commitments(uint8_t (*pks)[CTNG_BLS_PK_LEN],
                                        const uint8_t (*commitments)[CTNG_BLS_PK_LEN],
                                        uint32_t t, const uint32_t *ids, size_t n,
                                        ctng_err *err);

/* Partial-signature check: same as ctng_bls_verify with the share key. */
int ctng_bls_partial_verify(const uint8_t share_pk[CTNG_BLS_PK_LEN], const uint8_t *msg, size_t len,
                            const uint8_t partial[CTNG_BLS_SIG_LEN], const char *dst,
                            ctng_err *err);

/* Combines partial signatures by Lagrange interpolation at 0 over the ids.
 * Uses the first t entries if count > t. Rejects with CTNG_EINVAL: id 0,
 * duplicate ids among those used, count < t, malformed or identity partials;
 * with CTNG_ERANGE: t == 0 or t > CTNG_BLS_MAX_SHARES; with CTNG_EVERIFY: a
 * result equal to the identity. Partials are NOT verified here: verify them
 * first (ctng_bls_partial_verify), or verify the result against the group
 * key (a wrong partial yields a signature that fails that check). */
int ctng_bls_combine(uint8_t sig[CTNG_BLS_SIG_LEN], const uint32_t *ids,
                     const uint8_t (*partials)[CTNG_BLS_SIG_LEN], size_t count, uint32_t t,
                     ctng_err *err);

#endif
