/*
 * hash_to_curve.h — internal: RFC 9380 hashing to G1 of BLS12-381, suites
 * BLS12381G1_XMD:SHA-256_SSWU_RO_ (hash_to_curve) and _NU_ (encode_to_curve),
 * with the building blocks exposed for the test vectors.
 */
#ifndef CTNG_BLS12_381_HASH_TO_CURVE_H
#define CTNG_BLS12_381_HASH_TO_CURVE_H
#include "crypto/bls12_381/curve.h"

/* expand_message_xmd with SHA-256 (RFC 9380 5.3.1). dst of any length (a
 * DST over 255 bytes is hashed per 5.3.3). out_len <= 8160.
 * Returns 0, or -1 on bad lengths / hash failure. */
int bls_expand_message_xmd(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len);
/* hash_to_field for Fp with L = 64: count elements (count <= 2). */
int bls_hash_to_fp(fp *u, size_t count, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len);
/* Simplified SWU on the 11-isogenous curve followed by the isogeny map:
 * a point of E (not yet in G1). */
void bls_map_to_curve_g1(g1 *r, const fp *u);
/* hash_to_curve (random oracle) and encode_to_curve (non-uniform). */
int bls_hash_to_g1(g1 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
int bls_encode_to_g1(g1 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len);
#endif
