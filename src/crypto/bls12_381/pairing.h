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
/* A G2 point with its Miller-loop line coefficients precomputed (68 lines:
 * 63 doublings + 5 additions for |x|). */
#define BLS_G2_PREP_LINES 68
typedef struct {
	fp2 c[BLS_G2_PREP_LINES][3];
	bool inf;
} bls_g2_prepared;
void bls_g2_prepare(bls_g2_prepared *out, const g2_aff *q);
/* The prepared -G2 (negated generator), computed once per process. */
const bls_g2_prepared *bls_g2_neg_generator_prepared(void);
/* Like bls_miller_loop, plus np pairs (Pp[i], Qp[i]) with prepared G2 points. */
int bls_miller_loop_ex(fp12 *f, const g1_aff *P, const g2_aff *Q, size_t n, const g1_aff *Pp,
                       const bls_g2_prepared *const *Qp, size_t np);
/* true iff e(sig, -G2) * prod e(P_i, Q_i) == 1 (signature verification). */
bool bls_pairing_check_gen(const g1_aff *sig, const g1_aff *P, const g2_aff *Q, size_t n);

/* r = f^((p^12 - 1)/r) */
void bls_final_exp(fp12 *r, const fp12 *f);
void bls_pairing(fp12 *r, const g1 *P, const g2 *Q);
/* true iff prod e(P_i, Q_i) == 1 (false also on allocation failure). */
bool bls_pairing_check(const g1_aff *P, const g2_aff *Q, size_t n);
#endif
