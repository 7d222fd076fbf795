/*
 * curve.h — internal: the groups G1 (E: y^2 = x^3 + 4 over Fp) and G2
 * (E': y^2 = x^3 + 4(u+1) over Fp2), in homogeneous projective coordinates
 * (x = X/Z, y = Y/Z; the identity is (0:1:0)), with the complete formulas of
 * Renes-Costello-Batina 2015 (a = 0), so addition has no special cases and
 * runs in constant time. Also subgroup checks, cofactor clearing and the
 * ZCash encodings.
 */
#ifndef CTNG_BLS12_381_CURVE_H
#define CTNG_BLS12_381_CURVE_H

#include "crypto/bls12_381/field.h"

typedef struct {
	fp x, y, z;
} g1;
typedef struct {
	fp x, y;
	bool inf;
} g1_aff;
typedef struct {
	fp2 x, y, z;
} g2;
typedef struct {
	fp2 x, y;
	bool inf;
} g2_aff;

/* Decoding results (0 = success). */
enum {
	BLS_DEC_OK = 0,
	BLS_DEC_FLAGS = 1, /* compression/infinity/sort bits inconsistent */
	BLS_DEC_RANGE = 2, /* a coordinate >= p */
	BLS_DEC_NOT_ON_CURVE = 3,
	BLS_DEC_NOT_IN_GROUP = 4,
};
const char *bls_dec_str(int code);

#define BLS_DECLARE_CURVE(G, AFF, FE)                                                              \
	void G##_identity(G *r);                                                                   \
	bool G##_is_identity(const G *a);                                                          \
	void G##_generator(G *r);                                                                  \
	void G##_add(G *r, const G *a, const G *b);                                                \
	void G##_dbl(G *r, const G *a);                                                            \
	void G##_neg(G *r, const G *a);                                                            \
	bool G##_eq(const G *a, const G *b);                                                       \
	bool G##_is_on_curve(const G *a);                                                          \
	void G##_cmov(G *r, const G *a, uint64_t mask);                                            \
	void G##_from_affine(G *r, const AFF *a);                                                  \
	void G##_to_affine(AFF *r, const G *a);                                                    \
	/* n points with one inversion; out must not overlap in */                                 \
	void G##_batch_to_affine(AFF *out, const G *in, size_t n);                                 \
	/* constant time in k (secret scalars); a must be in the subgroup (G1/G2),                 \
	 * where the endomorphism used (phi, psi) acts as a known scalar */                        \
	void G##_mul_ct(G *r, const G *a, const fr *k);                                            \
	/* variable time: public scalar, little-endian limbs, `bits` significant */                \
	void G##_mul_vartime(G *r, const G *a, const uint64_t *k, int bits);                       \
	void G##_mul_x_abs(G *r, const G *a); /* [|x|] a */                                        \
	/* sum k_i P_i for public scalars (Straus, 4-bit windows); n >= 0 */                       \
	int G##_msm_vartime(G *r, const G *pts, const fr *k, size_t n);                            \
	bool G##_in_subgroup(const G *a);                                                          \
	bool G##_in_subgroup_naive(const G *a); /* [r]a == O, for tests */

BLS_DECLARE_CURVE(g1, g1_aff, fp)
BLS_DECLARE_CURVE(g2, g2_aff, fp2)

void g1_clear_cofactor(g1 *r, const g1 *a); /* [h_eff] = [1 - x] */
void g1_phi(g1 *r, const g1 *a);            /* (beta x, y) */
void g2_psi(g2 *r, const g2 *a);            /* untwist-Frobenius-twist */
void g2_psi2(g2 *r, const g2 *a);           /* psi^2, cheaper than twice psi */

/* Scalars for the endomorphism multiplications (scalar.c), constant time:
 * k = d0 + d1 |x| + d2 |x|^2 + d3 |x|^3 with 0 <= di < |x| (k < r, raw limbs);
 * the signed base-32 digits dig[i] in [-15, 16] of the limbs-word value n,
 * n = sum dig[i] 32^i (ndig must cover the bit length plus one). */
void bls_scalar_split_x(uint64_t d[4], const uint64_t k[4]);
void bls_recode_w5(int8_t *dig, int ndig, const uint64_t *n, int limbs);

/* ZCash encodings. Decoders run every check (flags, range, curve, subgroup). */
void g1_compress(uint8_t out[48], const g1 *a);
void g1_serialize(uint8_t out[96], const g1 *a);
int g1_decompress(g1 *r, const uint8_t in[48]);
int g1_deserialize(g1 *r, const uint8_t in[96]);
void g2_compress(uint8_t out[96], const g2 *a);
void g2_serialize(uint8_t out[192], const g2 *a);
int g2_decompress(g2 *r, const uint8_t in[96]);
int g2_deserialize(g2 *r, const uint8_t in[192]);

#endif
