/*
 * g2.c — the group G2 of BLS12-381 (public keys live here), on the M-type
 * sextic twist over Fp2: the shared group law from curve_impl.h, the
 * endomorphism psi, the subgroup check and the ZCash 96/192-byte encodings
 * (x = c1 || c0, each 48 bytes big-endian).
 */
#include <stdlib.h>

#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/curve.h"

#define G       g2
#define AFF     g2_aff
#define FE      fp2
#define F(op)   fp2_##op
#define GF(op)  g2_##op
#define CURVE_B BLS_G2_B
#define GEN_X   BLS_G2_GX
#define GEN_Y   BLS_G2_GY

/* r = 12 (u + 1) a by additions */
static inline void mul_b3(fp2 *r, const fp2 *a)
{
	fp2 t;
	fp2_mul_xi(&t, a);
	fp2 s;
	fp2_dbl(&s, &t);
	fp2_add(&s, &s, &t);
	fp2_dbl(&s, &s);
	fp2_dbl(r, &s);
}
#define MUL_B3(r, a) mul_b3(r, a)

/* GLS for msm_vartime: k = sum d_j |x|^j, [|x|] = -psi on G2 */
#define MSM_PARTS 4
#define MSM_BITS  64
static void msm_split(bls_u128 part[4], const uint64_t d[4])
{
	for (int j = 0; j < 4; j++)
		part[j] = d[j];
}
static void msm_endo(g2_aff *r, const g2_aff *a, int j)
{
	g2_aff t = *a; /* (-psi)^j, psi(x, y) = (cx conj(x), cy conj(y)) */
	for (int m = 0; m < j; m++) {
		fp2_conj(&t.x, &t.x);
		fp2_mul(&t.x, &t.x, &BLS_PSI_CX);
		fp2_conj(&t.y, &t.y);
		fp2_mul(&t.y, &t.y, &BLS_PSI_CY);
		fp2_neg(&t.y, &t.y);
	}
	*r = t;
}

#include "crypto/bls12_381/curve_impl.h"

void g2_psi(g2 *r, const g2 *a)
{
	fp2 t;
	fp2_conj(&t, &a->x);
	fp2_mul(&r->x, &t, &BLS_PSI_CX);
	fp2_conj(&t, &a->y);
	fp2_mul(&r->y, &t, &BLS_PSI_CY);
	fp2_conj(&r->z, &a->z);
}

void g2_psi2(g2 *r, const g2 *a)
{
	fp2_mul_fp(&r->x, &a->x, &BLS_PSI2_CX);
	fp2_neg(&r->y, &a->y);
	r->z = a->z;
}

/* GLS: k = d0 + d1 |x| + d2 |x|^2 + d3 |x|^3 (base-|x| split, di < 2^64) and
 * [|x|] Q = -psi(Q) on G2, so [k] Q = sum_i [di] (-psi)^i (Q). The four
 * 64-bit scalars share 60 doublings and one table Q..16Q; a digit of di
 * takes its entry through psi^i and a sign (-1)^i. 13 signed 5-bit digits
 * cover 65 bits. Constant time as g1_mul_ct: branch-free split and recoding,
 * whole-table reads, complete formulas, public loop structure. */
void g2_mul_ct(g2 *r, const g2 *a, const fr *k)
{
	enum { ND = 13 };
	uint64_t raw[4], d[4];
	int8_t dig[4][ND];
	g2 tab[16], acc, t, u;
	fr_to_raw(raw, k);
	bls_scalar_split_x(d, raw);
	for (int i = 0; i < 4; i++)
		bls_recode_w5(dig[i], ND, &d[i], 1);
	g2_table_w5(tab, a);
	g2_identity(&acc);
	for (int j = ND - 1; j >= 0; j--) {
		if (j != ND - 1)
			for (int n = 0; n < 5; n++)
				g2_dbl(&acc, &acc);
		g2_lookup_w5(&t, tab, dig[0][j], 0);
		g2_add(&acc, &acc, &t);
		g2_lookup_w5(&t, tab, dig[1][j], ~(uint64_t)0);
		g2_psi(&u, &t);
		g2_add(&acc, &acc, &u);
		g2_lookup_w5(&t, tab, dig[2][j], 0);
		g2_psi2(&u, &t);
		g2_add(&acc, &acc, &u);
		g2_lookup_w5(&t, tab, dig[3][j], ~(uint64_t)0);
		g2_psi2(&u, &t);
		g2_psi(&t, &u);
		g2_add(&acc, &acc, &t);
	}
	*r = acc;
	bls_wipe(raw, sizeof raw);
	bls_wipe(d, sizeof d);
	bls_wipe(dig, sizeof dig);
	bls_wipe(tab, sizeof tab);
	bls_wipe(&acc, sizeof acc);
	bls_wipe(&t, sizeof t);
	bls_wipe(&u, sizeof u);
}

/* Scott 2021: Q in G2 iff psi(Q) = [x] Q = -[|x|] Q. */
bool g2_in_subgroup(const g2 *a)
{
	g2 t, s;
	g2_mul_x_abs(&t, a);
	g2_psi(&s, a);
	g2_add(&s, &s, &t);
	return g2_is_identity(&s);
}

static void fp2_to_bytes(uint8_t out[96], const fp2 *a)
{
	fp_to_bytes(out, &a->c1);
	fp_to_bytes(out + 48, &a->c0);
}

static bool fp2_from_bytes(fp2 *r, const uint8_t in[96])
{
	return fp_from_bytes(&r->c1, in) && fp_from_bytes(&r->c0, in + 48);
}

void g2_compress(uint8_t out[96], const g2 *a)
{
	if (g2_is_identity(a)) {
		memset(out, 0, 96);
		out[0] = 0xc0;
		return;
	}
	g2_aff af;
	g2_to_affine(&af, a);
	fp2_to_bytes(out, &af.x);
	out[0] |= 0x80;
	if (fp2_lexi_largest(&af.y))
		out[0] |= 0x20;
}

void g2_serialize(uint8_t out[192], const g2 *a)
{
	if (g2_is_identity(a)) {
		memset(out, 0, 192);
		out[0] = 0x40;
		return;
	}
	g2_aff af;
	g2_to_affine(&af, a);
	fp2_to_bytes(out, &af.x);
	fp2_to_bytes(out + 96, &af.y);
}

static bool rest_zero(const uint8_t *in, size_t n)
{
	uint8_t acc = in[0] & 0x1f;
	for (size_t i = 1; i < n; i++)
		acc |= in[i];
	return acc == 0;
}

static int finish(g2 *r, const fp2 *x, const fp2 *y)
{
	g2 p;
	p.x = *x;
	p.y = *y;
	fp2_one(&p.z);
	if (!g2_is_on_curve(&p))
		return BLS_DEC_NOT_ON_CURVE;
	if (!g2_in_subgroup(&p))
		return BLS_DEC_NOT_IN_GROUP;
	*r = p;
	return BLS_DEC_OK;
}

int g2_decompress(g2 *r, const uint8_t in[96])
{
	uint8_t f = in[0];
	if (!(f & 0x80))
		return BLS_DEC_FLAGS;
	if (f & 0x40) {
		if ((f & 0x20) || !rest_zero(in, 96))
			return BLS_DEC_FLAGS;
		g2_identity(r);
		return BLS_DEC_OK;
	}
	uint8_t buf[96];
	memcpy(buf, in, 96);
	buf[0] &= 0x1f;
	fp2 x, y, y2;
	if (!fp2_from_bytes(&x, buf))
		return BLS_DEC_RANGE;
	fp2_sqr(&y2, &x);
	fp2_mul(&y2, &y2, &x);
	fp2_add(&y2, &y2, &BLS_G2_B);
	if (!fp2_sqrt_vartime(&y, &y2))
		return BLS_DEC_NOT_ON_CURVE;
	if (fp2_lexi_largest(&y) != ((f & 0x20) != 0))
		fp2_neg(&y, &y);
	return finish(r, &x, &y);
}

int g2_deserialize(g2 *r, const uint8_t in[192])
{
	uint8_t f = in[0];
	if (f & 0x80)
		return BLS_DEC_FLAGS;
	if (f & 0x40) {
		if ((f & 0x20) || !rest_zero(in, 192))
			return BLS_DEC_FLAGS;
		g2_identity(r);
		return BLS_DEC_OK;
	}
	if (f & 0x20)
		return BLS_DEC_FLAGS;
	fp2 x, y;
	if (!fp2_from_bytes(&x, in) || !fp2_from_bytes(&y, in + 96))
		return BLS_DEC_RANGE;
	return finish(r, &x, &y);
}
