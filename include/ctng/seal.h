/*
 * ctng/seal.h — public-key encryption of short secrets (ctng_crypto): X25519
 * key agreement, HKDF-SHA256 key derivation and the ChaCha20-Poly1305 AEAD,
 * all through the OpenSSL 3 EVP API (no hand-written symmetric crypto). The
 * DKG (include/ctng/dkg.h) uses it to send every participant its share
 * encrypted to that participant's transport key.
 *
 * Construction (docs/dkg.md §4): with an ephemeral X25519 key pair (esk, epk)
 * of the sender and the recipient's key rpk,
 *   ikm  = X25519(esk, rpk)                 (all-zero results are refused)
 *   key  = HKDF-SHA256(salt, ikm, info || epk || rpk), 32 bytes
 *   ct   = ChaCha20-Poly1305(key, nonce = 12 zero bytes, aad = info || epk || rpk, pt)
 * The key is used for exactly one message, so the fixed nonce never repeats
 * under one key: a caller must never seal two different plaintexts with the
 * same (esk, rpk, salt, info).
 *
 * Keys are raw 32-byte X25519 strings (RFC 7748). Return values: 0; CTNG_EINVAL
 * for a malformed key or sizes; CTNG_EVERIFY when a ciphertext does not open
 * (wrong key, tampered bytes, wrong info); CTNG_EIO when OpenSSL fails.
 * Secret temporaries are wiped. Thread-safe.
 */
#ifndef CTNG_SEAL_H
#define CTNG_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

#define CTNG_SEAL_KEY_LEN 32   /* X25519 private or public key */
#define CTNG_SEAL_TAG_LEN 16   /* Poly1305 tag appended to the ciphertext */
#define CTNG_SEAL_MAX_PT  4096 /* longest plaintext accepted */
#define CTNG_SEAL_MAX_AD  1024 /* longest salt or info accepted */

/* Fresh X25519 key pair from the system CSPRNG. */
int ctng_seal_keygen(uint8_t sk[CTNG_SEAL_KEY_LEN], uint8_t pk[CTNG_SEAL_KEY_LEN], ctng_err *err);
/* The public key of a private key. */
int ctng_seal_public(uint8_t pk[CTNG_SEAL_KEY_LEN], const uint8_t sk[CTNG_SEAL_KEY_LEN],
                     ctng_err *err);

/* Encrypts pt (pt_len <= CTNG_SEAL_MAX_PT bytes) to rpk with the sender's
 * ephemeral private key esk. ct receives pt_len + CTNG_SEAL_TAG_LEN bytes.
 * salt/info: up to CTNG_SEAL_MAX_AD bytes each (info also authenticated). */
int ctng_seal(uint8_t *ct, const uint8_t esk[CTNG_SEAL_KEY_LEN],
              const uint8_t rpk[CTNG_SEAL_KEY_LEN], const uint8_t *salt, size_t salt_len,
              const uint8_t *info, size_t info_len, const uint8_t *pt, size_t pt_len,
              ctng_err *err);
/* Decrypts ct (ct_len >= CTNG_SEAL_TAG_LEN) sealed to the recipient's key
 * pair (rsk) by the sender's ephemeral public key epk; pt receives
 * ct_len - CTNG_SEAL_TAG_LEN bytes (wiped on failure). */
int ctng_seal_open(uint8_t *pt, const uint8_t rsk[CTNG_SEAL_KEY_LEN],
                   const uint8_t epk[CTNG_SEAL_KEY_LEN], const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, const uint8_t *ct, size_t ct_len,
                   ctng_err *err);

#endif
