/*
 * pairing.h — internal: the optimal ate pairing e: G1 x G2 -> GT of
 * BLS12-381, as a multi-Miller loop followed by one final exponentiation.
 */
#ifndef CTNG_BLS12_381_PAIRING_H
#define CTNG_BLS12_381_PAIRING_H
#include "crypto/bls12_381/curve.h"

/* f = prod_i MillerLoop(P_i, Q_i); pairs with an identity point contribute 1.
 * Returns 0, or -1 on allocation failure. */
int bls_miller_loop(fp12 *f, const g1_aff *P, const g2_aff *Q, size_t n);
/* r = f^((p^12 - 1)/r) */
void bls_final_exp(fp12 *r, const fp12 *f);
void bls_pairing(fp12 *r, const g1 *P, const g2 *Q);
/* true iff prod e(P_i, Q_i) == 1 (false also on allocation failure). */
bool bls_pairing_check(const g1_aff *P, const g2_aff *Q, size_t n);
#endif
