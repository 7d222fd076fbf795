/*
 * g1.c — the group G1 of BLS12-381 (signatures live here): the shared group
 * law from curve_impl.h instantiated over Fp, the GLV endomorphism phi,
 * the subgroup check, cofactor clearing and the ZCash 48/96-byte encodings.
 */
#include <stdlib.h>

#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/curve.h"

#define G       g1
#define AFF     g1_aff
#define FE      fp
#define F(op)   fp_##op
#define GF(op)  g1_##op
#define CURVE_B BLS_G1_B
#define GEN_X   BLS_G1_GX
#define GEN_Y   BLS_G1_GY

/* r = 12 a by additions (3b = 12) */
static inline void mul_b3(fp *r, const fp *a)
{
	fp t;
	fp_dbl(&t, a);
	fp_add(&t, &t, a);
	fp_dbl(&t, &t);
	fp_dbl(r, &t);
}
#define MUL_B3(r, a) mul_b3(r, a)

/* GLV for msm_vartime: k = (d0 + d1 |x|) + (d2 + d3 |x|) x^2, [x^2] = -phi */
#define MSM_PARTS 2
#define MSM_BITS  128
static void msm_split(bls_u128 part[2], const uint64_t d[4])
{
	part[0] = (bls_u128)d[1] * BLS_X_ABS + d[0];
	part[1] = (bls_u128)d[3] * BLS_X_ABS + d[2];
}
static void msm_endo(g1_aff *r, const g1_aff *a, int j)
{
	(void)j; /* j = 1: -phi(x, y) = (beta x, -y) */
	r->inf = a->inf;
	fp_mul(&r->x, &a->x, &BLS_G1_BETA);
	fp_neg(&r->y, &a->y);
}

#include "crypto/bls12_381/curve_impl.h"

const char *bls_dec_str(int code)
{
	switch (code) {
	case BLS_DEC_OK:
		return "ok";
	case BLS_DEC_FLAGS:
		return "invalid encoding flags or padding";
	case BLS_DEC_RANGE:
		return "coordinate not below the field modulus";
	case BLS_DEC_NOT_ON_CURVE:
		return "point not on the curve";
	case BLS_DEC_NOT_IN_GROUP:
		return "point not in the prime-order subgroup";
	default:
		return "invalid point";
	}
}

void g1_phi(g1 *r, const g1 *a)
{
	fp_mul(&r->x, &a->x, &BLS_G1_BETA);
	r->y = a->y;
	r->z = a->z;
}

/* GLV: k = k1 + k2 x^2 with k1 = d0 + d1 |x|, k2 = d2 + d3 |x| (each < 2^128,
 * from the base-|x| split), and [x^2] P = -phi(P) on G1, so
 * [k] P = [k1] P + [k2] (beta X, -Y, Z). Both halves share 125 doublings and
 * one table P..16P; a k2 digit takes its table entry through -phi (one
 * multiplication by beta). 26 signed 5-bit digits cover 130 bits.
 * Constant time: the split and recoding are branch-free, the table is read
 * whole for every digit (lookup_w5), the complete formulas need no special
 * cases, and the loop structure depends only on public sizes. */
void g1_mul_ct(g1 *r, const g1 *a, const fr *k)
{
	enum { ND = 26 };
	uint64_t raw[4], d[4], k1[2], k2[2];
	int8_t dig1[ND], dig2[ND];
	g1 tab[16], acc, t;
	fr_to_raw(raw, k);
	bls_scalar_split_x(d, raw);
	bls_u128 v = (bls_u128)d[1] * BLS_X_ABS + d[0];
	k1[0] = (uint64_t)v;
	k1[1] = (uint64_t)(v >> 64);
	v = (bls_u128)d[3] * BLS_X_ABS + d[2];
	k2[0] = (uint64_t)v;
	k2[1] = (uint64_t)(v >> 64);
	bls_recode_w5(dig1, ND, k1, 2);
	bls_recode_w5(dig2, ND, k2, 2);
	g1_table_w5(tab, a);
	g1_identity(&acc);
	for (int i = ND - 1; i >= 0; i--) {
		if (i != ND - 1)
			for (int j = 0; j < 5; j++)
				g1_dbl(&acc, &acc);
		g1_lookup_w5(&t, tab, dig1[i], 0);
		g1_add(&acc, &acc, &t);
		g1_lookup_w5(&t, tab, dig2[i], ~(uint64_t)0); /* -phi: negate y ... */
		fp_mul(&t.x, &t.x, &BLS_G1_BETA);             /* ... and x -> beta x */
		g1_add(&acc, &acc, &t);
	}
	*r = acc;
	/* everything here reveals bits of k */
	bls_wipe(raw, sizeof raw);
	bls_wipe(d, sizeof d);
	bls_wipe(k1, sizeof k1);
	bls_wipe(k2, sizeof k2);
	bls_wipe(&v, sizeof v);
	bls_wipe(dig1, sizeof dig1);
	bls_wipe(dig2, sizeof dig2);
	bls_wipe(tab, sizeof tab);
	bls_wipe(&acc, sizeof acc);
	bls_wipe(&t, sizeof t);
}

/* Scott 2021: P in G1 iff phi(P) = [-x^2] P, with beta chosen (gen_consts.py)
 * so that phi acts as -x^2 on G1. */
bool g1_in_subgroup(const g1 *a)
{
	g1 t, s;
	g1_mul_x_abs(&t, a);
	g1_mul_x_abs(&t, &t);
	g1_phi(&s, a);
	g1_add(&s, &s, &t);
	return g1_is_identity(&s);
}

/* h_eff = 1 - x = 1 + |x| (RFC 9380 8.8.1) */
void g1_clear_cofactor(g1 *r, const g1 *a)
{
	g1 t;
	g1_mul_x_abs(&t, a);
	g1_add(r, &t, a);
}

void g1_compress(uint8_t out[48], const g1 *a)
{
	if (g1_is_identity(a)) {
		memset(out, 0, 48);
		out[0] = 0xc0;
		return;
	}
	g1_aff af;
	g1_to_affine(&af, a);
	fp_to_bytes(out, &af.x);
	out[0] |= 0x80;
	if (fp_lexi_largest(&af.y))
		out[0] |= 0x20;
}

void g1_serialize(uint8_t out[96], const g1 *a)
{
	if (g1_is_identity(a)) {
		memset(out, 0, 96);
		out[0] = 0x40;
		return;
	}
	g1_aff af;
	g1_to_affine(&af, a);
	fp_to_bytes(out, &af.x);
	fp_to_bytes(out + 48, &af.y);
}

/* Infinity: flag set, sort bit clear and every other bit zero. */
static bool rest_zero(const uint8_t *in, size_t n)
{
	uint8_t acc = in[0] & 0x1f;
	for (size_t i = 1; i < n; i++)
		acc |= in[i];
	return acc == 0;
}

static int finish(g1 *r, const fp *x, const fp *y)
{
	g1 p;
	p.x = *x;
	p.y = *y;
	fp_one(&p.z);
	if (!g1_is_on_curve(&p))
		return BLS_DEC_NOT_ON_CURVE;
	if (!g1_in_subgroup(&p))
		return BLS_DEC_NOT_IN_GROUP;
	*r = p;
	return BLS_DEC_OK;
}

int g1_decompress(g1 *r, const uint8_t in[48])
{
	uint8_t f = in[0];
	if (!(f & 0x80))
		return BLS_DEC_FLAGS;
	if (f & 0x40) {
		if ((f & 0x20) || !rest_zero(in, 48))
			return BLS_DEC_FLAGS;
		g1_identity(r);
		return BLS_DEC_OK;
	}
	uint8_t buf[48];
	memcpy(buf, in, 48);
	buf[0] &= 0x1f;
	fp x, y, y2;
	if (!fp_from_bytes(&x, buf))
		return BLS_DEC_RANGE;
	fp_sqr(&y2, &x);
	fp_mul(&y2, &y2, &x);
	fp_add(&y2, &y2, &BLS_G1_B);
	if (!fp_sqrt(&y, &y2))
		return BLS_DEC_NOT_ON_CURVE;
	if (fp_lexi_largest(&y) != ((f & 0x20) != 0))
		fp_neg(&y, &y);
	return finish(r, &x, &y);
}

int g1_deserialize(g1 *r, const uint8_t in[96])
{
	uint8_t f = in[0];
	if (f & 0x80)
		return BLS_DEC_FLAGS;
	if (f & 0x40) {
		if ((f & 0x20) || !rest_zero(in, 96))
			return BLS_DEC_FLAGS;
		g1_identity(r);
		return BLS_DEC_OK;
	}
	if (f & 0x20)
		return BLS_DEC_FLAGS;
	fp x, y;
	if (!fp_from_bytes(&x, in) || !fp_from_bytes(&y, in + 48))
		return BLS_DEC_RANGE;
	return finish(r, &x, &y);
}
