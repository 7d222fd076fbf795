/*
 * fp6.c — Fp6 = Fp2[v]/(v^3 - (u + 1)), the middle of the tower. Products
 * use lazy reduction (field.h): the Fp2 products stay 768-bit wide, are
 * added and subtracted wide and reduced once per output coefficient.
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

void fp6w_sub(fp6w *r, const fp6w *a, const fp6w *b)
{
	fp2w_sub(&r->c0, &a->c0, &b->c0);
	fp2w_sub(&r->c1, &a->c1, &b->c1);
	fp2w_sub(&r->c2, &a->c2, &b->c2);
}

void fp6w_redc(fp6 *r, const fp6w *a)
{
	fp2w_redc(&r->c0, &a->c0);
	fp2w_redc(&r->c1, &a->c1);
	fp2w_redc(&r->c2, &a->c2);
}

/* Karatsuba over Fp2 with the six products kept wide and combined wide:
 *   c0 = a0 b0 + xi ((a1 + a2)(b1 + b2) - a1 b1 - a2 b2)
 *   c1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1 + xi a2 b2
 *   c2 = (a0 + a2)(b0 + b2) - a0 b0 - a2 b2 + a1 b1 */
void fp6w_mul(fp6w *r, const fp6 *a, const fp6 *b)
{
	fp2w t0, t1, t2, s;
	fp2 aa, bb;
	fp2w_mul(&t0, &a->c0, &b->c0);
	fp2w_mul(&t1, &a->c1, &b->c1);
	fp2w_mul(&t2, &a->c2, &b->c2);
	fp2_add(&aa, &a->c1, &a->c2);
	fp2_add(&bb, &b->c1, &b->c2);
	fp2w_mul(&s, &aa, &bb);
	fp2w_sub(&s, &s, &t1);
	fp2w_sub(&s, &s, &t2);
	fp2w_mul_xi(&r->c0, &s);
	fp2w_add(&r->c0, &r->c0, &t0);
	fp2_add(&aa, &a->c0, &a->c1);
	fp2_add(&bb, &b->c0, &b->c1);
	fp2w_mul(&r->c1, &aa, &bb);
	fp2w_sub(&r->c1, &r->c1, &t0);
	fp2w_sub(&r->c1, &r->c1, &t1);
	fp2w_mul_xi(&s, &t2);
	fp2w_add(&r->c1, &r->c1, &s);
	fp2_add(&aa, &a->c0, &a->c2);
	fp2_add(&bb, &b->c0, &b->c2);
	fp2w_mul(&r->c2, &aa, &bb);
	fp2w_sub(&r->c2, &r->c2, &t0);
	fp2w_sub(&r->c2, &r->c2, &t2);
	fp2w_add(&r->c2, &r->c2, &t1);
}

void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b)
{
	fp6w w;
	fp6w_mul(&w, a, b);
	fp6w_redc(r, &w);
}

/* Chung-Hasan SQR2 with wide intermediates:
 *   c0 = a0^2 + xi 2 a1 a2,  c1 = 2 a0 a1 + xi a2^2,
 *   c2 = (a0 - a1 + a2)^2 + 2 a0 a1 + 2 a1 a2 - a0^2 - a2^2 */
void fp6_sqr(fp6 *r, const fp6 *a)
{
	fp2w s0, s1, s2, s3, s4, t;
	fp2 u;
	fp2w_sqr(&s0, &a->c0);
	fp2w_mul(&s1, &a->c0, &a->c1);
	fp2w_add(&s1, &s1, &s1);
	fp2_sub(&u, &a->c0, &a->c1);
	fp2_add(&u, &u, &a->c2);
	fp2w_sqr(&s2, &u);
	fp2w_mul(&s3, &a->c1, &a->c2);
	fp2w_add(&s3, &s3, &s3);
	fp2w_sqr(&s4, &a->c2);
	fp2w_add(&s2, &s2, &s1);
	fp2w_add(&s2, &s2, &s3);
	fp2w_sub(&s2, &s2, &s0);
	fp2w_sub(&s2, &s2, &s4);
	fp2w_redc(&r->c2, &s2);
	fp2w_mul_xi(&t, &s3);
	fp2w_add(&t, &t, &s0);
	fp2w_redc(&r->c0, &t);
	fp2w_mul_xi(&t, &s4);
	fp2w_add(&t, &t, &s1);
	fp2w_redc(&r->c1, &t);
}

void fp6_mul_v(fp6 *r, const fp6 *a)
{
	fp2 t;
	fp2_mul_xi(&t, &a->c2);
	r->c2 = a->c1;
	r->c1 = a->c0;
	r->c0 = t;
}

/* a (b0 + b1 v), wide: c0 = a0 b0 + xi a2 b1,
 * c1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1, c2 = a2 b0 + a1 b1 */
void fp6w_mul_01(fp6w *r, const fp6 *a, const fp2 *b0, const fp2 *b1)
{
	fp2w aa, bb, t;
	fp2 s, u;
	fp2w_mul(&aa, &a->c0, b0);
	fp2w_mul(&bb, &a->c1, b1);
	fp2w_mul(&t, &a->c2, b1);
	fp2w_mul_xi(&r->c0, &t);
	fp2w_add(&r->c0, &r->c0, &aa);
	fp2_add(&s, b0, b1);
	fp2_add(&u, &a->c0, &a->c1);
	fp2w_mul(&r->c1, &u, &s);
	fp2w_sub(&r->c1, &r->c1, &aa);
	fp2w_sub(&r->c1, &r->c1, &bb);
	fp2w_mul(&r->c2, &a->c2, b0);
	fp2w_add(&r->c2, &r->c2, &bb);
}

/* a (b1 v), wide: (xi a2 b1, a0 b1, a1 b1) */
void fp6w_mul_1(fp6w *r, const fp6 *a, const fp2 *b1)
{
	fp2w t;
	fp2w_mul(&t, &a->c2, b1);
	fp2w_mul_xi(&r->c0, &t);
	fp2w_mul(&r->c1, &a->c0, b1);
	fp2w_mul(&r->c2, &a->c1, b1);
}

void fp6_mul_01(fp6 *r, const fp6 *a, const fp2 *b0, const fp2 *b1)
{
	fp6w w;
	fp6w_mul_01(&w, a, b0, b1);
	fp6w_redc(r, &w);
}

void fp6_mul_1(fp6 *r, const fp6 *a, const fp2 *b1)
{
	fp6w w;
	fp6w_mul_1(&w, a, b1);
	fp6w_redc(r, &w);
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
