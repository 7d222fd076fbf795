/*
 * bls_internal.h — helpers shared by bls.c and threshold.c: loading secret
 * keys, decoding keys/signatures with every check, and DST handling.
 */
#ifndef CTNG_BLS_INTERNAL_H
#define CTNG_BLS_INTERNAL_H
#include "crypto/bls12_381/curve.h"
#include "ctng/base.h"

/* sk bytes -> scalar in [1, r-1]; CTNG_EINVAL otherwise. */
int bls_sk_load(fr *k, const uint8_t sk[32], ctng_err *err);
/* Full decode: canonical, on curve, in subgroup, not the identity. */
int bls_pk_decode(g2 *q, const uint8_t pk[96], ctng_err *err);
int bls_sig_decode(g1 *p, const uint8_t sig[48], ctng_err *err);
/* NULL -> POP ciphersuite DST; otherwise 1..255 bytes. */
int bls_dst(const char *dst, const uint8_t **d, size_t *len, ctng_err *err);
#endif
