/*
 * hash_to_curve.c — RFC 9380 hash_to_curve for BLS12-381 G1:
 * hash_to_field (over expand_message_xmd, xmd.c), the
 * straight-line simplified SWU map on the 11-isogenous curve E' (Z = 11,
 * sqrt_ratio for q = 3 mod 4, App. F.2), the 11-isogeny E' -> E (App. E.2)
 * evaluated in projective form (no inversion), and cofactor clearing by
 * h_eff = 1 - x.
 */
#include "crypto/bls12_381/hash_to_curve.h"
#include "crypto/bls12_381/consts.h"

int bls_hash_to_fp(fp *u, size_t count, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len)
{
	uint8_t buf[128];
	if (count < 1 || count > 2)
		return -1;
	if (bls_expand_message_xmd(buf, 64 * count, msg, msg_len, dst, dst_len) != 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		fp_from_bytes_wide(&u[i], buf + 64 * i);
	return 0;
}

/* sqrt_ratio for q = 3 mod 4 (RFC 9380 F.2.1.2): y = sqrt(u/v) or
 * sqrt(Z u/v); returns whether u/v is square. Straight-line. */
static bool sqrt_ratio(fp *y, const fp *u, const fp *v)
{
	fp tv1, tv2, y1, y2, tv3;
	fp_sqr(&tv1, v);
	fp_mul(&tv2, u, v);
	fp_mul(&tv1, &tv1, &tv2);
	fp_pow_p34(&y1, &tv1);
	fp_mul(&y1, &y1, &tv2);
	fp_mul(&y2, &y1, &BLS_SSWU_SQRT_MINUS_Z);
	fp_sqr(&tv3, &y1);
	fp_mul(&tv3, &tv3, v);
	bool is_qr = fp_eq(&tv3, u);
	*y = y2;
	fp_cmov(y, &y1, 0 - (uint64_t)is_qr);
	return is_qr;
}

/* Simplified SWU on E': y^2 = x^3 + A' x + B' (RFC 9380 F.2), returning
 * x as the fraction xn/xd (the final division is left to the caller). */
static void sswu(fp *xn, fp *xd, fp *yo, const fp *u)
{
	const fp *A = &BLS_ISO_A, *B = &BLS_ISO_B, *Z = &BLS_SSWU_Z;
	fp tv1, tv2, tv3, tv4, tv5, tv6, x, y, y1, ntv2;
	fp_sqr(&tv1, u);
	fp_mul(&tv1, Z, &tv1);
	fp_sqr(&tv2, &tv1);
	fp_add(&tv2, &tv2, &tv1);
	fp_add(&tv3, &tv2, &BLS_FP_ONE);
	fp_mul(&tv3, B, &tv3);
	tv4 = *Z;
	fp_neg(&ntv2, &tv2);
	fp_cmov(&tv4, &ntv2, ~fp_is_zero_mask(&tv2));
	fp_mul(&tv4, A, &tv4);
	fp_sqr(&tv2, &tv3);
	fp_sqr(&tv6, &tv4);
	fp_mul(&tv5, A, &tv6);
	fp_add(&tv2, &tv2, &tv5);
	fp_mul(&tv2, &tv2, &tv3);
	fp_mul(&tv6, &tv6, &tv4);
	fp_mul(&tv5, B, &tv6);
	fp_add(&tv2, &tv2, &tv5);
	fp_mul(&x, &tv1, &tv3);
	bool is_gx1_square = sqrt_ratio(&y1, &tv2, &tv6);
	fp_mul(&y, &tv1, u);
	fp_mul(&y, &y, &y1);
	uint64_t m = 0 - (uint64_t)is_gx1_square;
	fp_cmov(&x, &tv3, m);
	fp_cmov(&y, &y1, m);
	fp ny;
	fp_neg(&ny, &y);
	uint64_t e1 = (uint64_t)(fp_sgn0(u) == fp_sgn0(&y));
	fp_cmov(&ny, &y, 0 - e1);
	*xn = x;
	*xd = tv4; /* A' * (Z or -tv2): never zero */
	*yo = ny;
}

/* Homogeneous Horner: sum k_i xn^i xd^(n-1-i), with pw[j] = xd^j. */
static void horner(fp *r, const fp *k, int n, const fp *xn, const fp *pw)
{
	fp acc = k[n - 1], t;
	for (int i = n - 2; i >= 0; i--) {
		fp_mul(&acc, &acc, xn);
		fp_mul(&t, &k[i], &pw[n - 1 - i]);
		fp_add(&acc, &acc, &t);
	}
	*r = acc;
}

void bls_map_to_curve_g1(g1 *r, const fp *u)
{
	fp xn, xd, y, pw[16], XN, XD, YN, YD, t;
	sswu(&xn, &xd, &y, u);
	pw[0] = BLS_FP_ONE;
	for (int i = 1; i < 16; i++)
		fp_mul(&pw[i], &pw[i - 1], &xd);
	/* x = xn/xd: x_num(x) = XN/xd^11, x_den(x) = XD/xd^10 (monic, degree 10),
	 * y_num(x)/y_den(x) = YN/YD (both degree 15). In projective form
	 * Z = XD xd YD, X = XN YD, Y = y YN XD xd. */
	horner(&XN, BLS_ISO_XNUM, 12, &xn, pw);
	horner(&XD, BLS_ISO_XDEN, 11, &xn, pw);
	horner(&YN, BLS_ISO_YNUM, 16, &xn, pw);
	horner(&YD, BLS_ISO_YDEN, 16, &xn, pw);
	fp_mul(&t, &XD, &xd);
	fp_mul(&r->z, &t, &YD);
	fp_mul(&r->x, &XN, &YD);
	fp_mul(&r->y, &y, &YN);
	fp_mul(&r->y, &r->y, &t);
	/* an exceptional input (denominator 0) maps to the identity (0:1:0) */
	fp one = BLS_FP_ONE;
	fp_cmov(&r->y, &one, fp_is_zero_mask(&r->z));
	fp_cmov(&r->x, &r->z, fp_is_zero_mask(&r->z));
}

int bls_hash_to_g1(g1 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len)
{
	fp u[2];
	g1 q0, q1;
	if (bls_hash_to_fp(u, 2, msg, msg_len, dst, dst_len) != 0)
		return -1;
	bls_map_to_curve_g1(&q0, &u[0]);
	bls_map_to_curve_g1(&q1, &u[1]);
	g1_add(&q0, &q0, &q1);
	g1_clear_cofactor(r, &q0);
	return 0;
}

int bls_encode_to_g1(g1 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst, size_t dst_len)
{
	fp u;
	g1 q;
	if (bls_hash_to_fp(&u, 1, msg, msg_len, dst, dst_len) != 0)
		return -1;
	bls_map_to_curve_g1(&q, &u);
	g1_clear_cofactor(r, &q);
	return 0;
}
