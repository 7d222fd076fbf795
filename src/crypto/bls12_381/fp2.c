/*
 * fp2.c — Fp2 = Fp[u]/(u^2 + 1): inversion, square roots, the ZCash sort
 * rule and Frobenius (the arithmetic itself is inline in field.h).
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

void fp2_inv(fp2 *r, const fp2 *a)
{
	/* 1/(a0 + a1 u) = (a0 - a1 u)/(a0^2 + a1^2); constant time (Fermat) */
	fp t0, t1;
	fp_sqr(&t0, &a->c0);
	fp_sqr(&t1, &a->c1);
	fp_add(&t0, &t0, &t1);
	fp_inv(&t0, &t0);
	fp_mul(&r->c0, &a->c0, &t0);
	fp_mul(&t1, &a->c1, &t0);
	fp_neg(&r->c1, &t1);
}

void fp2_frob(fp2 *r, const fp2 *a)
{
	fp2_conj(r, a);
}

bool fp2_lexi_largest(const fp2 *a)
{
	if (!fp_is_zero(&a->c1))
		return fp_lexi_largest(&a->c1);
	return fp_lexi_largest(&a->c0);
}

/* Variable time (only used on public points while decoding). Uses the norm:
 * if x = x0 + x1 u with x^2 = a, then x0^2 - x1^2 = a0, 2 x0 x1 = a1 and
 * x0^2 + x1^2 = s := sqrt(a0^2 + a1^2), so x0^2 = t1 := (a0 + s)/2 or
 * t2 := (a0 - s)/2. One exponentiation c = t1^((p-3)/4) serves both cases:
 * if t1 is a square, x0 = c t1 and 1/x0 = c (c^2 t1 = 1), so x1 = a1 c / 2;
 * otherwise c^2 t1 = -1 and t1 t2 = -a1^2/4 give x0 = a1 c / 2 (a root of
 * t2) and x1 = a1 / (2 x0) = 1/c = -c t1. The result is checked at the end. */
bool fp2_sqrt_vartime(fp2 *r, const fp2 *a)
{
	fp2 x;
	if (fp_is_zero(&a->c1)) {
		fp s;
		if (fp_sqrt(&s, &a->c0)) {
			x.c0 = s;
			fp_zero(&x.c1);
		} else {
			fp n;
			fp_neg(&n, &a->c0);
			if (!fp_sqrt(&s, &n))
				return false;
			fp_zero(&x.c0);
			x.c1 = s;
		}
		*r = x;
		return true;
	}
	fp n, t, s, c, chk;
	fp_sqr(&n, &a->c0);
	fp_sqr(&t, &a->c1);
	fp_add(&n, &n, &t);
	if (!fp_sqrt(&s, &n))
		return false;
	fp_add(&t, &a->c0, &s);
	fp_half(&t, &t);
	fp_pow_p34(&c, &t);
	fp_mul(&x.c0, &c, &t);
	fp_sqr(&chk, &x.c0);
	if (fp_eq(&chk, &t)) {
		fp_mul(&x.c1, &a->c1, &c);
		fp_half(&x.c1, &x.c1);
	} else {
		fp_mul(&x.c0, &a->c1, &c);
		fp_half(&x.c0, &x.c0);
		fp_mul(&x.c1, &c, &t);
		fp_neg(&x.c1, &x.c1);
	}
	fp2 sq;
	fp2_sqr(&sq, &x);
	if (!fp2_eq(&sq, a))
		return false;
	*r = x;
	return true;
}
