/*
 * fp6.c — Fp6 = Fp2[v]/(v^3 - (u + 1)), the middle of the tower.
 * All routines are constant time (straight-line field arithmetic).
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

void fp6_add(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp2_add(&r->c0, &a->c0, &b->c0);
	fp2_add(&r->c1, &a->c1, &b->c1);
	fp2_add(&r->c2, &a->c2, &b->c2);
}

void fp6_sub(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp2_sub(&r->c0, &a->c0, &b->c0);
	fp2_sub(&r->c1, &a->c1, &b->c1);
	fp2_sub(&r->c2, &a->c2, &b->c2);
}

void fp6_neg(fp6 *r, const fp6 *a)
{
	fp2_neg(&r->c0, &a->c0);
	fp2_neg(&r->c1, &a->c1);
	fp2_neg(&r->c2, &a->c2);
}

void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp2 t0, t1, t2, s, u, c0, c1, c2;
	fp2_mul(&t0, &a->c0, &b->c0);
	fp2_mul(&t1, &a->c1, &b->c1);
	fp2_mul(&t2, &a->c2, &b->c2);
	/* c0 = ((a1 + a2)(b1 + b2) - t1 - t2) xi + t0 */
	fp2_add(&s, &a->c1, &a->c2);
	fp2_add(&u, &b->c1, &b->c2);
	fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t1);
	fp2_sub(&s, &s, &t2);
	fp2_mul_xi(&s, &s);
	fp2_add(&c0, &s, &t0);
	/* c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2 */
	fp2_add(&s, &a->c0, &a->c1);
	fp2_add(&u, &b->c0, &b->c1);
	fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t0);
	fp2_sub(&s, &s, &t1);
	fp2_mul_xi(&u, &t2);
	fp2_add(&c1, &s, &u);
	/* c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1 */
	fp2_add(&s, &a->c0, &a->c2);
	fp2_add(&u, &b->c0, &b->c2);
	fp2_mul(&s, &s, &u);
	fp2_sub(&s, &s, &t0);
	fp2_sub(&s, &s, &t2);
	fp2_add(&c2, &s, &t1);
	r->c0 = c0;
	r->c1 = c1;
	r->c2 = c2;
}

void fp6_sqr(fp6 *r, const fp6 *a)
{
	/* Chung-Hasan SQR2 */
	fp2 s0, s1, s2, s3, s4, t;
	fp2_sqr(&s0, &a->c0);
	fp2_mul(&s1, &a->c0, &a->c1);
	fp2_dbl(&s1, &s1);
	fp2_sub(&t, &a->c0, &a->c1);
	fp2_add(&t, &t, &a->c2);
	fp2_sqr(&s2, &t);
	fp2_mul(&s3, &a->c1, &a->c2);
	fp2_dbl(&s3, &s3);
	fp2_sqr(&s4, &a->c2);
	fp2_mul_xi(&t, &s3);
	fp2_add(&r->c0, &s0, &t);
	fp2_mul_xi(&t, &s4);
	fp2 c1;
	fp2_add(&c1, &s1, &t);
	fp2_add(&t, &s1, &s2);
	fp2_add(&t, &t, &s3);
	fp2_sub(&t, &t, &s0);
	fp2_sub(&r->c2, &t, &s4);
	r->c1 = c1;
}

void fp6_mul_v(fp6 *r, const fp6 *a)
{
	fp2 t;
	fp2_mul_xi(&t, &a->c2);
	r->c2 = a->c1;
	r->c1 = a->c0;
	r->c0 = t;
}

void fp6_mul_01(fp6 *r, const fp6 *a, const fp2 *b0, const fp2 *b1)
{
	fp2 aa, bb, t1, t2, t3, s, u;
	fp2_mul(&aa, &a->c0, b0);
	fp2_mul(&bb, &a->c1, b1);
	fp2_mul(&t1, &a->c2, b1);
	fp2_mul_xi(&t1, &t1);
	fp2_add(&t1, &t1, &aa);
	fp2_add(&s, b0, b1);
	fp2_add(&u, &a->c0, &a->c1);
	fp2_mul(&t2, &s, &u);
	fp2_sub(&t2, &t2, &aa);
	fp2_sub(&t2, &t2, &bb);
	fp2_mul(&t3, &a->c2, b0);
	fp2_add(&t3, &t3, &bb);
	r->c0 = t1;
	r->c1 = t2;
	r->c2 = t3;
}

void fp6_mul_1(fp6 *r, const fp6 *a, const fp2 *b1)
{
	fp2 c0, c1, c2;
	fp2_mul(&c0, &a->c2, b1);
	fp2_mul_xi(&c0, &c0);
	fp2_mul(&c1, &a->c0, b1);
	fp2_mul(&c2, &a->c1, b1);
	r->c0 = c0;
	r->c1 = c1;
	r->c2 = c2;
}

void fp6_inv(fp6 *r, const fp6 *a)
{
	fp2 c0, c1, c2, t, s;
	fp2_sqr(&c0, &a->c0);
	fp2_mul(&t, &a->c1, &a->c2);
	fp2_mul_xi(&t, &t);
	fp2_sub(&c0, &c0, &t);
	fp2_sqr(&c1, &a->c2);
	fp2_mul_xi(&c1, &c1);
	fp2_mul(&t, &a->c0, &a->c1);
	fp2_sub(&c1, &c1, &t);
	fp2_sqr(&c2, &a->c1);
	fp2_mul(&t, &a->c0, &a->c2);
	fp2_sub(&c2, &c2, &t);
	fp2_mul(&t, &a->c2, &c1);
	fp2_mul(&s, &a->c1, &c2);
	fp2_add(&t, &t, &s);
	fp2_mul_xi(&t, &t);
	fp2_mul(&s, &a->c0, &c0);
	fp2_add(&t, &t, &s);
	fp2_inv(&t, &t);
	fp2_mul(&r->c0, &c0, &t);
	fp2_mul(&r->c1, &c1, &t);
	fp2_mul(&r->c2, &c2, &t);
}

void fp6_frob(fp6 *r, const fp6 *a)
{
	fp2 t;
	fp2_conj(&r->c0, &a->c0);
	fp2_conj(&t, &a->c1);
	fp2_mul(&r->c1, &t, &BLS_FROB6_C1);
	fp2_conj(&t, &a->c2);
	fp2_mul(&r->c2, &t, &BLS_FROB6_C2);
}
