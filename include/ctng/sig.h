/*
 * ctng/sig.h — ordinary digital signatures of ctng_crypto: ECDSA P-256 (with
 * SHA-256) and Ed25519 through the OpenSSL 3 EVP API (DESIGN §4). Loggers sign
 * RFC 6962 tree heads with ECDSA P-256; CAs and monitors sign REV/ACC objects
 * with ECDSA P-256 or Ed25519.
 *
 * A `ctng_sig_key` is an opaque handle holding either a key pair (private
 * key loaded or generated) or a public key only. Handles are immutable after
 * creation and may be shared between threads for signing and verifying.
 *
 * Signature formats:
 *  - ECDSA P-256: DER-encoded ECDSA-Sig-Value (as in RFC 6962 / TLS), over
 *    SHA-256 of the message, at most CTNG_SIG_MAX_LEN bytes (normally 70-72).
 *  - Ed25519: 64 raw bytes (PureEdDSA, RFC 8032), deterministic.
 *
 * Key id: SHA-256 of the DER SubjectPublicKeyInfo of the public key (the RFC
 * 6962 LogID when the key is a logger's).
 *
 * Return values: 0 on success / valid; CTNG_EVERIFY when a well-formed
 * signature does not verify; CTNG_EINVAL for malformed input (unparsable key,
 * wrong algorithm, bad sizes); CTNG_EIO for file errors; CTNG_ENOMEM. `err` may
 * be NULL. Pointer arguments are borrowed unless stated otherwise.
 */
#ifndef CTNG_SIG_H
#define CTNG_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

typedef enum ctng_sig_alg {
	CTNG_SIG_NONE = 0,
	CTNG_SIG_ECDSA_P256 = 1, /* crypto_scheme "ecdsa-p256" */
	CTNG_SIG_ED25519 = 2,    /* crypto_scheme "ed25519"    */
} ctng_sig_alg;

#define CTNG_SIG_MAX_LEN    80    /* upper bound of any signature produced here */
#define CTNG_SIG_KEY_ID_LEN 32    /* SHA-256 of the DER SubjectPublicKeyInfo */
#define CTNG_SIG_PEM_MAX    16384 /* largest PEM text accepted by the loaders */

typedef struct ctng_sig_key ctng_sig_key;

/* "ecdsa-p256" / "ed25519" ("" for CTNG_SIG_NONE). Constant string. */
const char *ctng_sig_alg_name(ctng_sig_alg alg);
/* Inverse of ctng_sig_alg_name; CTNG_EINVAL for anything else. */
int ctng_sig_alg_parse(const char *name, ctng_sig_alg *alg, ctng_err *err);

/* Generates a fresh key pair. *out is owned by the caller (ctng_sig_key_free). */
int ctng_sig_generate(ctng_sig_alg alg, ctng_sig_key **out, ctng_err *err);

/* Loads a private key from PEM text ("PRIVATE KEY" PKCS#8, or "EC PRIVATE
 * KEY" for P-256). `len` bytes of `pem` are read (no NUL needed). Only P-256
 * EC keys and Ed25519 keys are accepted; encrypted PEM is rejected. */
int ctng_sig_load_private_pem(const char *pem, size_t len, ctng_sig_key **out, ctng_err *err);
/* Loads a public key from PEM "PUBLIC KEY" (SubjectPublicKeyInfo). */
int ctng_sig_load_public_pem(const char *pem, size_t len, ctng_sig_key **out, ctng_err *err);
/* Loads a public key from DER SubjectPublicKeyInfo bytes (whole input must be used). */
int ctng_sig_load_public_der(const uint8_t *der, size_t len, ctng_sig_key **out, ctng_err *err);
/* Same from a lower-case or upper-case hex string of the DER bytes. */
int ctng_sig_load_public_hex(const char *hex, ctng_sig_key **out, ctng_err *err);
/* File variants (file at most CTNG_SIG_PEM_MAX bytes). */
int ctng_sig_load_private_file(const char *path, ctng_sig_key **out, ctng_err *err);
int ctng_sig_load_public_file(const char *path, ctng_sig_key **out, ctng_err *err);

/* Exports. Strings/bytes are malloc'd and owned by the caller (free()).
 * Private export fails with CTNG_EINVAL on a public-only key.
 * PEM text is NUL-terminated; *len (may be NULL) receives strlen. */
int ctng_sig_private_pem(const ctng_sig_key *k, char **pem, size_t *len, ctng_err *err);
int ctng_sig_public_pem(const ctng_sig_key *k, char **pem, size_t *len, ctng_err *err);
int ctng_sig_public_der(const ctng_sig_key *k, uint8_t **der, size_t *len, ctng_err *err);
/* Lower-case hex of the DER SubjectPublicKeyInfo, malloc'd. */
int ctng_sig_public_hex(const ctng_sig_key *k, char **hex, ctng_err *err);
/* Writes the private key PEM atomically with the given mode (e.g. 0600). */
int ctng_sig_save_private_file(const ctng_sig_key *k, const char *path, int mode, ctng_err *err);
int ctng_sig_save_public_file(const ctng_sig_key *k, const char *path, int mode, ctng_err *err);

/* SHA-256 of the DER SubjectPublicKeyInfo. */
int ctng_sig_key_id(const ctng_sig_key *k, uint8_t id[CTNG_SIG_KEY_ID_LEN], ctng_err *err);
ctng_sig_alg ctng_sig_key_alg(const ctng_sig_key *k);
bool ctng_sig_key_has_private(const ctng_sig_key *k);
/* True if both handles hold the same public key. */
bool ctng_sig_key_public_equal(const ctng_sig_key *a, const ctng_sig_key *b);
/* A new public-only handle for the public half of k (caller frees). */
int ctng_sig_key_public_copy(const ctng_sig_key *k, ctng_sig_key **out, ctng_err *err);

/* The underlying EVP_PKEY, borrowed (valid while k lives; do not free). For
 * code that needs OpenSSL directly, e.g. X.509 signing by the CA. */
struct evp_pkey_st *ctng_sig_key_evp(const ctng_sig_key *k);
/* Wraps an EVP_PKEY (P-256 EC or Ed25519); takes a new reference on success
 * (the caller keeps its own). */
int ctng_sig_key_from_evp(struct evp_pkey_st *pkey, ctng_sig_key **out, ctng_err *err);

void ctng_sig_key_free(ctng_sig_key *k); /* NULL is a no-op */

/* Signs msg with a private key. sig must hold CTNG_SIG_MAX_LEN bytes;
 * *sig_len receives the length. */
int ctng_sig_sign(const ctng_sig_key *k, const uint8_t *msg, size_t len,
                  uint8_t sig[CTNG_SIG_MAX_LEN], size_t *sig_len, ctng_err *err);
/* Verifies: 0 valid, CTNG_EVERIFY invalid (including a malformed signature
 * blob), CTNG_EINVAL if the key is unusable. */
int ctng_sig_verify(const ctng_sig_key *k, const uint8_t *msg, size_t len, const uint8_t *sig,
                    size_t sig_len, ctng_err *err);

#endif
