/*
 * fp12.c — Fp12 = Fp6[w]/(w^2 - v), the pairing target field: products,
 * the sparse line product of the Miller loop, inversion, Frobenius and
 * the Granger-Scott cyclotomic squaring used by the final exponentiation.
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

void fp12_one(fp12 *r)
{
	memset(r, 0, sizeof *r);
	fp2_one(&r->c0.c0);
}

bool fp12_eq(const fp12 *a, const fp12 *b)
{
	const fp *x = (const fp *)a, *y = (const fp *)b;
	bool eq = true;
	for (int i = 0; i < 12; i++)
		eq &= fp_eq(&x[i], &y[i]);
	return eq;
}

bool fp12_is_one(const fp12 *a)
{
	fp12 one;
	fp12_one(&one);
	return fp12_eq(a, &one);
}

/* r0 = t0 + v t1 with v (x0 + x1 v + x2 v^2) = xi x2 + x0 v + x1 v^2, wide */
static void add_times_v(fp6w *r, const fp6w *t0, const fp6w *t1)
{
	fp2w x;
	fp2w_mul_xi(&x, &t1->c2);
	fp2w_add(&r->c0, &t0->c0, &x);
	fp2w_add(&r->c1, &t0->c1, &t1->c0);
	fp2w_add(&r->c2, &t0->c2, &t1->c1);
}

/* Karatsuba over Fp6, every Fp6 product wide, each output reduced once */
void fp12_mul(fp12 *r, const fp12 *a, const fp12 *b)
{
	fp6w t0, t1, s;
	fp6 aa, bb;
	fp6w_mul(&t0, &a->c0, &b->c0);
	fp6w_mul(&t1, &a->c1, &b->c1);
	fp6_add(&aa, &a->c0, &a->c1);
	fp6_add(&bb, &b->c0, &b->c1);
	fp6w_mul(&s, &aa, &bb);
	fp6w_sub(&s, &s, &t0);
	fp6w_sub(&s, &s, &t1);
	fp6w_redc(&r->c1, &s);
	add_times_v(&s, &t0, &t1);
	fp6w_redc(&r->c0, &s);
}

void fp12_sqr(fp12 *r, const fp12 *a)
{
	/* complex squaring: c0 = (a0 + a1)(a0 + v a1) - t - v t, c1 = 2t, t = a0 a1 */
	fp6w t, s, vt;
	fp6 x, y;
	fp6w_mul(&t, &a->c0, &a->c1);
	fp6_add(&x, &a->c0, &a->c1);
	fp6_mul_v(&y, &a->c1);
	fp6_add(&y, &y, &a->c0);
	fp6w_mul(&s, &x, &y);
	fp6w_sub(&s, &s, &t);
	fp2w_mul_xi(&vt.c0, &t.c2);
	vt.c1 = t.c0;
	vt.c2 = t.c1;
	fp6w_sub(&s, &s, &vt);
	fp6w_redc(&r->c0, &s);
	fp2w_add(&t.c0, &t.c0, &t.c0);
	fp2w_add(&t.c1, &t.c1, &t.c1);
	fp2w_add(&t.c2, &t.c2, &t.c2);
	fp6w_redc(&r->c1, &t);
}

void fp12_conj(fp12 *r, const fp12 *a)
{
	r->c0 = a->c0;
	fp6_neg(&r->c1, &a->c1);
}

void fp12_inv(fp12 *r, const fp12 *a)
{
	fp6 t0, t1;
	fp6_sqr(&t0, &a->c0);
	fp6_sqr(&t1, &a->c1);
	fp6_mul_v(&t1, &t1);
	fp6_sub(&t0, &t0, &t1);
	fp6_inv(&t0, &t0);
	fp6_mul(&r->c0, &a->c0, &t0);
	fp6_mul(&t1, &a->c1, &t0);
	fp6_neg(&r->c1, &t1);
}

void fp12_frob(fp12 *r, const fp12 *a)
{
	fp6 t;
	fp6_frob(&r->c0, &a->c0);
	fp6_frob(&t, &a->c1);
	fp2_mul(&r->c1.c0, &t.c0, &BLS_FROB12_C1);
	fp2_mul(&r->c1.c1, &t.c1, &BLS_FROB12_C1);
	fp2_mul(&r->c1.c2, &t.c2, &BLS_FROB12_C1);
}

/* f (L0 + L1 w) with L0 = c0 + c1 v and L1 = c4 v, Karatsuba over Fp6:
 * 13 wide Fp2 products, 12 reductions */
void fp12_mul_014(fp12 *f, const fp2 *c0, const fp2 *c1, const fp2 *c4)
{
	fp6w aa, bb, s;
	fp6 t;
	fp2 o;
	fp6w_mul_01(&aa, &f->c0, c0, c1);
	fp6w_mul_1(&bb, &f->c1, c4);
	fp2_add(&o, c1, c4);
	fp6_add(&t, &f->c1, &f->c0);
	fp6w_mul_01(&s, &t, c0, &o);
	fp6w_sub(&s, &s, &aa);
	fp6w_sub(&s, &s, &bb);
	fp6w_redc(&f->c1, &s);
	add_times_v(&s, &aa, &bb);
	fp6w_redc(&f->c0, &s);
}

/* (a + b w')^2 in Fp4 = Fp2[w']/(w'^2 - xi): r0 = a^2 + xi b^2,
 * r1 = (a + b)^2 - a^2 - b^2, wide and reduced once each */
static void fp4_sqr(fp2 *r0, fp2 *r1, const fp2 *a, const fp2 *b)
{
	fp2w t0, t1, t2;
	fp2 s;
	fp2w_sqr(&t0, a);
	fp2w_sqr(&t1, b);
	fp2_add(&s, a, b);
	fp2w_mul_xi(&t2, &t1);
	fp2w_add(&t2, &t2, &t0);
	fp2w_redc(r0, &t2);
	fp2w_sqr(&t2, &s);
	fp2w_sub(&t2, &t2, &t0);
	fp2w_sub(&t2, &t2, &t1);
	fp2w_redc(r1, &t2);
}

/* Granger-Scott squaring, valid for elements of the cyclotomic subgroup. */
void fp12_cyclotomic_sqr(fp12 *r, const fp12 *f)
{
	fp2 z0 = f->c0.c0, z4 = f->c0.c1, z3 = f->c0.c2;
	fp2 z2 = f->c1.c0, z1 = f->c1.c1, z5 = f->c1.c2;
	fp2 t0, t1, t2, t3;

	fp4_sqr(&t0, &t1, &z0, &z1);
	fp2_sub(&z0, &t0, &z0);
	fp2_dbl(&z0, &z0);
	fp2_add(&z0, &z0, &t0);
	fp2_add(&z1, &t1, &z1);
	fp2_dbl(&z1, &z1);
	fp2_add(&z1, &z1, &t1);

	fp4_sqr(&t0, &t1, &z2, &z3);
	fp4_sqr(&t2, &t3, &z4, &z5);
	fp2_sub(&z4, &t0, &z4);
	fp2_dbl(&z4, &z4);
	fp2_add(&z4, &z4, &t0);
	fp2_add(&z5, &t1, &z5);
	fp2_dbl(&z5, &z5);
	fp2_add(&z5, &z5, &t1);

	fp2_mul_xi(&t0, &t3);
	fp2_add(&z2, &t0, &z2);
	fp2_dbl(&z2, &z2);
	fp2_add(&z2, &z2, &t0);
	fp2_sub(&z3, &t2, &z3);
	fp2_dbl(&z3, &z3);
	fp2_add(&z3, &z3, &t2);

	r->c0.c0 = z0;
	r->c0.c1 = z4;
	r->c0.c2 = z3;
	r->c1.c0 = z2;
	r->c1.c1 = z1;
	r->c1.c2 = z5;
}

/* Karabina's compressed squaring (Karabina 2012; the formulas of
 * Aranha-Karabina-Longa-Gebotys-Lopez 2011, 5.2, mapped to this tower and
 * checked numerically): in the cyclotomic subgroup an element is determined
 * by g2 = c1.c0, g3 = c0.c2, g4 = c0.c1, g5 = c1.c2, and squaring needs only
 * those four:
 *   h2 = 2 (g2 + 3 xi g4 g5)      h3 = 3 ((g4 + g5)(g4 + xi g5) - (xi + 1) g4 g5) - 2 g3
 *   h5 = 2 (g5 + 3 g2 g3)         h4 = 3 ((g2 + g3)(g2 + xi g3) - (xi + 1) g2 g3) - 2 g4
 * (4 Fp2 products instead of the 6 Fp2 squarings of Granger-Scott). */
void fp12_compress(fp12c *r, const fp12 *f)
{
	r->g2 = f->c1.c0;
	r->g3 = f->c0.c2;
	r->g4 = f->c0.c1;
	r->g5 = f->c1.c2;
}

/* r = 3 ((a + b)(a + xi b) - (xi + 1) a b) - 2 c = 3 (a^2 + xi b^2) - 2 c, and
 * *ab = a b; the difference is taken wide and reduced once */
static void compressed_part(fp2 *r, fp2 *ab, const fp2 *a, const fp2 *b, const fp2 *c)
{
	fp2w m, s, t;
	fp2 u, v;
	fp2w_mul(&m, a, b);
	fp2_mul_xi(&u, b);
	fp2_add(&u, &u, a);
	fp2_add(&v, a, b);
	fp2w_mul(&s, &v, &u);
	fp2w_mul_xi(&t, &m);
	fp2w_add(&t, &t, &m);
	fp2w_sub(&s, &s, &t);
	fp2w_redc(&u, &s);
	fp2w_redc(ab, &m);
	fp2_dbl(&v, &u);
	fp2_add(&u, &v, &u);
	fp2_dbl(&v, c);
	fp2_sub(r, &u, &v);
}

void fp12c_sqr(fp12c *r, const fp12c *a)
{
	fp2 h2, h3, h4, h5, b45, b23, t;
	compressed_part(&h3, &b45, &a->g4, &a->g5, &a->g3);
	compressed_part(&h4, &b23, &a->g2, &a->g3, &a->g4);
	fp2_mul_xi(&t, &b45); /* h2 = 2 (g2 + 3 xi g4 g5) */
	fp2_dbl(&h2, &t);
	fp2_add(&t, &h2, &t);
	fp2_add(&t, &t, &a->g2);
	fp2_dbl(&h2, &t);
	fp2_dbl(&t, &b23); /* h5 = 2 (g5 + 3 g2 g3) */
	fp2_add(&t, &t, &b23);
	fp2_add(&t, &t, &a->g5);
	fp2_dbl(&h5, &t);
	r->g2 = h2;
	r->g3 = h3;
	r->g4 = h4;
	r->g5 = h5;
}

/* g1 = (xi g5^2 + 3 g4^2 - 2 g3) / (4 g2), g0 = (2 g1^2 + g2 g5 - 3 g3 g4) xi + 1,
 * for n elements with one Fp2 inversion (Montgomery's trick; the prefix
 * products are kept in r[i].c1.c1). Returns false, leaving r undefined, if
 * some g2 is 0 (then g1 needs another formula; the caller recomputes without
 * compression): this only happens for the identity and, otherwise, with
 * negligible probability on the public values of a pairing. */
bool fp12c_decompress(fp12 *r, const fp12c *a, size_t n)
{
	fp2 acc, inv, t, num;
	fp2_one(&acc);
	for (size_t i = 0; i < n; i++) {
		if (fp2_is_zero(&a[i].g2)) /* public data */
			return false;
		r[i].c1.c1 = acc;
		fp2_mul(&acc, &acc, &a[i].g2);
	}
	fp2_inv(&inv, &acc);
	for (size_t i = n; i-- > 0;) {
		fp2 g1, d;
		fp2_mul(&d, &r[i].c1.c1, &inv); /* 1 / g2 */
		fp2_mul(&inv, &inv, &a[i].g2);
		fp2_sqr(&num, &a[i].g5); /* xi g5^2 + 3 g4^2 - 2 g3 */
		fp2_mul_xi(&num, &num);
		fp2_sqr(&t, &a[i].g4);
		fp2_add(&num, &num, &t);
		fp2_dbl(&t, &t);
		fp2_add(&num, &num, &t);
		fp2_dbl(&t, &a[i].g3);
		fp2_sub(&num, &num, &t);
		fp2_mul(&g1, &num, &d);
		fp2_half(&g1, &g1);
		fp2_half(&g1, &g1);
		fp2_sqr(&t, &g1); /* g0 = (2 g1^2 + g2 g5 - 3 g3 g4) xi + 1 */
		fp2_dbl(&num, &t);
		fp2_mul(&t, &a[i].g2, &a[i].g5);
		fp2_add(&num, &num, &t);
		fp2_mul(&t, &a[i].g3, &a[i].g4);
		fp2_sub(&num, &num, &t);
		fp2_dbl(&t, &t);
		fp2_sub(&num, &num, &t);
		fp2_mul_xi(&num, &num);
		fp2_one(&t);
		fp2_add(&r[i].c0.c0, &num, &t);
		r[i].c1.c1 = g1;
		r[i].c1.c0 = a[i].g2;
		r[i].c0.c2 = a[i].g3;
		r[i].c0.c1 = a[i].g4;
		r[i].c1.c2 = a[i].g5;
	}
	return true;
}
