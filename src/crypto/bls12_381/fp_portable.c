/*
 * fp_portable.c — the Fp and Fp2 primitives in portable C (unsigned __int128):
 * the code on CPUs without BMI2/ADX, and the reference the assembly in
 * fp_x86_64.S is tested against (both compute exactly the same functions;
 * contracts in field.h).
 *
 * Constant time: fixed loops, carries and selections are masks; nothing
 * branches on or indexes by operand values.
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

void bls_fp_mul_portable(fp *r, const fp *a, const fp *b)
{
	bls_mont_mul(r->l, a->l, b->l, BLS_P, BLS_P_INV, 6);
}

void bls_fp_add_portable(fp *r, const fp *a, const fp *b)
{
	bls_mod_add(r->l, a->l, b->l, BLS_P, 6);
}

void bls_fp_sub_portable(fp *r, const fp *a, const fp *b)
{
	bls_mod_sub(r->l, a->l, b->l, BLS_P, 6);
}

void bls_fpw_mul_portable(fpw *r, const fp *a, const fp *b)
{
	uint64_t t[12] = {0};
	for (int i = 0; i < 6; i++) {
		uint64_t c = 0;
		for (int j = 0; j < 6; j++) {
			bls_u128 v = (bls_u128)a->l[j] * b->l[i] + t[i + j] + c;
			t[i + j] = (uint64_t)v;
			c = (uint64_t)(v >> 64);
		}
		t[i + 6] = c;
	}
	memcpy(r->l, t, sizeof t);
}

/* the products a_i a_j (i < j) once, doubled, plus the squares a_i^2 */
void bls_fpw_sqr_portable(fpw *r, const fp *a)
{
	uint64_t t[12] = {0};
	for (int i = 0; i < 5; i++) {
		uint64_t c = 0;
		for (int j = i + 1; j < 6; j++) {
			bls_u128 v = (bls_u128)a->l[i] * a->l[j] + t[i + j] + c;
			t[i + j] = (uint64_t)v;
			c = (uint64_t)(v >> 64);
		}
		t[i + 6] = c;
	}
	uint64_t c = 0;
	for (int k = 0; k < 12; k++) { /* t = 2 t */
		uint64_t top = t[k] >> 63;
		t[k] = (t[k] << 1) | c;
		c = top;
	}
	c = 0;
	for (int i = 0; i < 6; i++) {
		bls_u128 sq = (bls_u128)a->l[i] * a->l[i];
		bls_u128 v = (bls_u128)t[2 * i] + (uint64_t)sq + c;
		t[2 * i] = (uint64_t)v;
		v = (bls_u128)t[2 * i + 1] + (uint64_t)(sq >> 64) + (uint64_t)(v >> 64);
		t[2 * i + 1] = (uint64_t)v;
		c = (uint64_t)(v >> 64);
	}
	memcpy(r->l, t, sizeof t);
}

/* Montgomery reduction of the low half ((lo + m p) / 2^384 <= p), plus the
 * high half (< p), then one masked subtraction: the sum is below 2p. */
void bls_fpw_redc_portable(fp *r, const fpw *a)
{
	uint64_t t[6];
	memcpy(t, a->l, sizeof t);
	for (int i = 0; i < 6; i++) {
		uint64_t k = t[0] * BLS_P_INV;
		bls_u128 v = (bls_u128)k * BLS_P[0] + t[0];
		uint64_t c = (uint64_t)(v >> 64);
		for (int j = 1; j < 6; j++) {
			v = (bls_u128)k * BLS_P[j] + t[j] + c;
			t[j - 1] = (uint64_t)v;
			c = (uint64_t)(v >> 64);
		}
		t[5] = c;
	}
	uint64_t c = 0, s[6], borrow = 0;
	for (int j = 0; j < 6; j++) {
		bls_u128 v = (bls_u128)t[j] + a->l[6 + j] + c;
		t[j] = (uint64_t)v;
		c = (uint64_t)(v >> 64);
	}
	for (int j = 0; j < 6; j++) {
		bls_u128 d = (bls_u128)t[j] - BLS_P[j] - borrow;
		s[j] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t mask = 0 - borrow; /* keep t when t < p */
	for (int j = 0; j < 6; j++)
		r->l[j] = (t[j] & mask) | (s[j] & ~mask);
}

void bls_fp_sqr_portable(fp *r, const fp *a)
{
	fpw w;
	bls_fpw_sqr_portable(&w, a);
	bls_fpw_redc_portable(r, &w);
}

/* 768-bit a + b, then p 2^384 subtracted (only the top half is non-zero)
 * unless that borrows */
void bls_fpw_add_portable(fpw *r, const fpw *a, const fpw *b)
{
	uint64_t t[12], carry = 0;
	for (int j = 0; j < 12; j++) {
		bls_u128 v = (bls_u128)a->l[j] + b->l[j] + carry;
		t[j] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
	memcpy(r->l, t, 6 * sizeof t[0]);
	bls_mod_add(r->l + 6, t + 6, (const uint64_t[6]){0}, BLS_P, 6);
}

void bls_fpw_sub_portable(fpw *r, const fpw *a, const fpw *b)
{
	uint64_t t[12], borrow = 0;
	for (int j = 0; j < 12; j++) {
		bls_u128 d = (bls_u128)a->l[j] - b->l[j] - borrow;
		t[j] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	/* add p 2^384 back when a < b: the top half gets p, masked */
	uint64_t mask = 0 - borrow, carry = 0;
	for (int j = 0; j < 6; j++) {
		bls_u128 v = (bls_u128)t[6 + j] + (BLS_P[j] & mask) + carry;
		t[6 + j] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
	memcpy(r->l, t, sizeof t);
}

void bls_fp2_add_portable(fp2 *r, const fp2 *a, const fp2 *b)
{
	bls_fp_add_portable(&r->c0, &a->c0, &b->c0);
	bls_fp_add_portable(&r->c1, &a->c1, &b->c1);
}

void bls_fp2_sub_portable(fp2 *r, const fp2 *a, const fp2 *b)
{
	bls_fp_sub_portable(&r->c0, &a->c0, &b->c0);
	bls_fp_sub_portable(&r->c1, &a->c1, &b->c1);
}

void bls_fp2w_add_portable(fp2w *r, const fp2w *a, const fp2w *b)
{
	bls_fpw_add_portable(&r->c0, &a->c0, &b->c0);
	bls_fpw_add_portable(&r->c1, &a->c1, &b->c1);
}

void bls_fp2w_sub_portable(fp2w *r, const fp2w *a, const fp2w *b)
{
	bls_fpw_sub_portable(&r->c0, &a->c0, &b->c0);
	bls_fpw_sub_portable(&r->c1, &a->c1, &b->c1);
}

/* a + b without reduction: inputs < p, so the sum is < 2p < 2^382 */
static void add_plain(fp *r, const fp *a, const fp *b)
{
	uint64_t c = 0;
	for (int j = 0; j < 6; j++) {
		bls_u128 v = (bls_u128)a->l[j] + b->l[j] + c;
		r->l[j] = (uint64_t)v;
		c = (uint64_t)(v >> 64);
	}
}

/* Karatsuba with unreduced sums: (a0 + a1)(b0 + b1) < 4p^2 < p 2^384. */
void bls_fp2w_mul_portable(fp2w *r, const fp2 *a, const fp2 *b)
{
	fp s, t;
	fpw t1;
	add_plain(&s, &a->c0, &a->c1);
	add_plain(&t, &b->c0, &b->c1);
	bls_fpw_mul_portable(&r->c0, &a->c0, &b->c0);
	bls_fpw_mul_portable(&t1, &a->c1, &b->c1);
	bls_fpw_mul_portable(&r->c1, &s, &t);
	/* r1 -= a0 b0 + a1 b1: exact, the difference is a0 b1 + a1 b0 >= 0 */
	uint64_t borrow = 0;
	for (int j = 0; j < 12; j++) {
		bls_u128 d = (bls_u128)r->c1.l[j] - r->c0.l[j] - t1.l[j] - borrow;
		r->c1.l[j] = (uint64_t)d;
		borrow = (uint64_t)(0 - (uint64_t)(d >> 64)); /* 0, 1 or 2 */
	}
	bls_fpw_sub_portable(&r->c0, &r->c0, &t1);
}

void bls_fp2w_sqr_portable(fp2w *r, const fp2 *a)
{
	fp s, d, a1x2;
	add_plain(&s, &a->c0, &a->c1);
	/* a0 + p - a1 in (0, 2p), computed mod 2^384 */
	uint64_t borrow = 0, c = 0;
	for (int j = 0; j < 6; j++) {
		bls_u128 v = (bls_u128)a->c0.l[j] - a->c1.l[j] - borrow;
		d.l[j] = (uint64_t)v;
		borrow = (uint64_t)(v >> 64) & 1;
	}
	for (int j = 0; j < 6; j++) {
		bls_u128 v = (bls_u128)d.l[j] + BLS_P[j] + c;
		d.l[j] = (uint64_t)v;
		c = (uint64_t)(v >> 64);
	}
	add_plain(&a1x2, &a->c1, &a->c1);
	bls_fpw_mul_portable(&r->c0, &s, &d);
	bls_fpw_mul_portable(&r->c1, &a->c0, &a1x2);
}

void bls_fp2_mul_portable(fp2 *r, const fp2 *a, const fp2 *b)
{
	fp2w w;
	bls_fp2w_mul_portable(&w, a, b);
	bls_fpw_redc_portable(&r->c0, &w.c0);
	bls_fpw_redc_portable(&r->c1, &w.c1);
}

void bls_fp2_sqr_portable(fp2 *r, const fp2 *a)
{
	fp2w w;
	bls_fp2w_sqr_portable(&w, a);
	bls_fpw_redc_portable(&r->c0, &w.c0);
	bls_fpw_redc_portable(&r->c1, &w.c1);
}
