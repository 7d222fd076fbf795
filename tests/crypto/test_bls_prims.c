/*
 * test_bls_prims.c — the BLS12-381 Fp/Fp2 primitives of field.h (Montgomery
 * product and square, the exact 768-bit products, the reduction, wide and
 * narrow add/sub, the unreduced Fp2 product and square) on both paths, the
 * portable C and the BMI2/ADX assembly: each result is checked against
 * OpenSSL's BIGNUM on the raw limbs, and the two paths against each other,
 * on random inputs and on the edges of each input range (0, 1, p - 1,
 * p 2^384 - 1), including outputs that alias inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>

#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

#define ITER 400

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static BN_CTX *ctx;
static BIGNUM *P, *PR, *RINV; /* p, p 2^384, 2^-384 mod p */

static BIGNUM *bn_limbs(const uint64_t *l, int n)
{
	uint8_t b[96];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < 8; j++)
			b[(n - 1 - i) * 8 + j] = (uint8_t)(l[i] >> (56 - 8 * j));
	return BN_bin2bn(b, 8 * n, NULL);
}

static void assert_limbs_bn(const uint64_t *l, int n, const BIGNUM *x)
{
	BIGNUM *y = bn_limbs(l, n);
	assert_int_equal(BN_cmp(x, y), 0);
	BN_free(y);
}

static void limbs_from_bn(uint64_t *l, int n, const BIGNUM *x)
{
	uint8_t b[96];
	assert_int_equal(BN_bn2binpad(x, b, 8 * n), 8 * n);
	for (int i = 0; i < n; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | b[(n - 1 - i) * 8 + j];
		l[i] = w;
	}
}

/* a value below m: edges for small i, random otherwise */
static void rnd_below(uint64_t *l, int n, const BIGNUM *m, int i)
{
	BIGNUM *x = BN_new();
	switch (i % 11) {
	case 0:
		BN_zero(x);
		break;
	case 1:
		BN_one(x);
		break;
	case 2:
		BN_copy(x, m);
		BN_sub_word(x, 1);
		break;
	case 3:
		BN_copy(x, m);
		BN_sub_word(x, 2);
		break;
	default: {
		uint64_t r[12];
		for (int k = 0; k < 12; k++)
			r[k] = rnd64();
		BIGNUM *t = bn_limbs(r, 12);
		BN_mod(x, t, m, ctx);
		BN_free(t);
	}
	}
	limbs_from_bn(l, n, x);
	BN_free(x);
}

static int setup(void **state)
{
	(void)state;
	ctx = BN_CTX_new();
	P = bn_limbs(BLS_P, 6);
	PR = BN_new();
	BN_lshift(PR, P, 384);
	RINV = BN_new();
	BIGNUM *R = BN_new();
	BN_one(R);
	BN_lshift(R, R, 384);
	BN_mod_inverse(RINV, R, P, ctx);
	BN_free(R);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	BN_free(P);
	BN_free(PR);
	BN_free(RINV);
	BN_CTX_free(ctx);
	return 0;
}

/* x * 2^-384 mod p */
static BIGNUM *bn_redc(const BIGNUM *x)
{
	BIGNUM *t = BN_new();
	BN_mod_mul(t, x, RINV, P, ctx);
	return t;
}

static void check_fp(int i)
{
	fp a, b, r;
	rnd_below(a.l, 6, P, i);
	rnd_below(b.l, 6, P, i / 11 + 3 * i);
	BIGNUM *A = bn_limbs(a.l, 6), *B = bn_limbs(b.l, 6), *t = BN_new(), *u;
	BN_mul(t, A, B, ctx);
	u = bn_redc(t);
	fp_mul(&r, &a, &b);
	assert_limbs_bn(r.l, 6, u);
	BN_free(u);
	BN_sqr(t, A, ctx);
	u = bn_redc(t);
	fp_sqr(&r, &a);
	assert_limbs_bn(r.l, 6, u);
	BN_free(u);
	BN_mod_add(t, A, B, P, ctx);
	fp_add(&r, &a, &b);
	assert_limbs_bn(r.l, 6, t);
	BN_mod_sub(t, A, B, P, ctx);
	fp_sub(&r, &a, &b);
	assert_limbs_bn(r.l, 6, t);
	/* aliasing outputs */
	r = a;
	fp_mul(&r, &r, &b);
	fp s;
	fp_mul(&s, &a, &b);
	assert_memory_equal(&r, &s, sizeof r);
	r = b;
	fp_sub(&r, &a, &r);
	fp_sub(&s, &a, &b);
	assert_memory_equal(&r, &s, sizeof r);
	/* exact products */
	fpw w;
	fpw_mul(&w, &a, &b);
	BN_mul(t, A, B, ctx);
	assert_limbs_bn(w.l, 12, t);
	fpw_sqr(&w, &a);
	BN_sqr(t, A, ctx);
	assert_limbs_bn(w.l, 12, t);
	BN_free(A);
	BN_free(B);
	BN_free(t);
}

static void check_fpw(int i)
{
	fpw x, y, z;
	rnd_below(x.l, 12, PR, i);
	rnd_below(y.l, 12, PR, 7 * i + 5);
	if (i % 13 == 4) { /* the largest product of two reduced elements */
		fp m;
		memcpy(m.l, BLS_P, sizeof m.l);
		m.l[0]--;
		fpw_mul(&y, &m, &m);
	}
	BIGNUM *X = bn_limbs(x.l, 12), *Y = bn_limbs(y.l, 12), *t = BN_new(), *u;
	fp r;
	fpw_redc(&r, &x);
	u = bn_redc(X);
	assert_limbs_bn(r.l, 6, u);
	BN_free(u);
	fpw_add(&z, &x, &y);
	BN_mod_add(t, X, Y, PR, ctx);
	assert_limbs_bn(z.l, 12, t);
	fpw_sub(&z, &x, &y);
	BN_mod_sub(t, X, Y, PR, ctx);
	assert_limbs_bn(z.l, 12, t);
	z = x;
	fpw_add(&z, &z, &z); /* aliasing */
	BN_mod_add(t, X, X, PR, ctx);
	assert_limbs_bn(z.l, 12, t);
	fp2w a = {x, y}, b = {y, x}, c;
	fp2w_add(&c, &a, &b);
	BN_mod_add(t, X, Y, PR, ctx);
	assert_limbs_bn(c.c0.l, 12, t);
	assert_limbs_bn(c.c1.l, 12, t);
	fp2w_sub(&c, &a, &b);
	BN_mod_sub(t, X, Y, PR, ctx);
	assert_limbs_bn(c.c0.l, 12, t);
	BN_mod_sub(t, Y, X, PR, ctx);
	assert_limbs_bn(c.c1.l, 12, t);
	BN_free(X);
	BN_free(Y);
	BN_free(t);
}

static void check_fp2(int i)
{
	fp2 a, b, r, s;
	rnd_below(a.c0.l, 6, P, i);
	rnd_below(a.c1.l, 6, P, i + 2);
	rnd_below(b.c0.l, 6, P, 3 * i + 1);
	rnd_below(b.c1.l, 6, P, 5 * i + 2);
	BIGNUM *A0 = bn_limbs(a.c0.l, 6), *A1 = bn_limbs(a.c1.l, 6);
	BIGNUM *B0 = bn_limbs(b.c0.l, 6), *B1 = bn_limbs(b.c1.l, 6);
	BIGNUM *t = BN_new(), *v = BN_new(), *w0 = BN_new(), *w1 = BN_new(), *u;
	/* product: a0 b0 - a1 b1 mod p 2^384, a0 b1 + a1 b0 */
	BN_mul(t, A0, B0, ctx);
	BN_mul(v, A1, B1, ctx);
	BN_mod_sub(w0, t, v, PR, ctx);
	BN_mul(t, A0, B1, ctx);
	BN_mul(v, A1, B0, ctx);
	BN_add(w1, t, v);
	fp2w w;
	fp2w_mul(&w, &a, &b);
	assert_limbs_bn(w.c0.l, 12, w0);
	assert_limbs_bn(w.c1.l, 12, w1);
	fp2_mul(&r, &a, &b);
	assert_limbs_bn(r.c0.l, 6, u = bn_redc(w0));
	BN_free(u);
	assert_limbs_bn(r.c1.l, 6, u = bn_redc(w1));
	BN_free(u);
	s = a;
	fp2_mul(&s, &s, &b);
	assert_memory_equal(&r, &s, sizeof r);
	s = b;
	fp2_mul(&s, &a, &s);
	assert_memory_equal(&r, &s, sizeof r);
	/* square: (a0 + a1)(a0 + p - a1), 2 a0 a1 */
	BN_add(t, A0, A1);
	BN_add(v, A0, P);
	BN_sub(v, v, A1);
	BN_mul(w0, t, v, ctx);
	BN_mul(w1, A0, A1, ctx);
	BN_lshift1(w1, w1);
	fp2w_sqr(&w, &a);
	assert_limbs_bn(w.c0.l, 12, w0);
	assert_limbs_bn(w.c1.l, 12, w1);
	fp2_sqr(&r, &a);
	assert_limbs_bn(r.c0.l, 6, u = bn_redc(w0));
	BN_free(u);
	assert_limbs_bn(r.c1.l, 6, u = bn_redc(w1));
	BN_free(u);
	s = a;
	fp2_sqr(&s, &s);
	assert_memory_equal(&r, &s, sizeof r);
	fp2_add(&r, &a, &b);
	BN_mod_add(t, A0, B0, P, ctx);
	assert_limbs_bn(r.c0.l, 6, t);
	BN_mod_add(t, A1, B1, P, ctx);
	assert_limbs_bn(r.c1.l, 6, t);
	fp2_sub(&r, &a, &b);
	BN_mod_sub(t, A0, B0, P, ctx);
	assert_limbs_bn(r.c0.l, 6, t);
	BN_mod_sub(t, A1, B1, P, ctx);
	assert_limbs_bn(r.c1.l, 6, t);
	BN_free(A0);
	BN_free(A1);
	BN_free(B0);
	BN_free(B1);
	BN_free(t);
	BN_free(v);
	BN_free(w0);
	BN_free(w1);
}

static void run_all(void)
{
	for (int i = 0; i < ITER; i++) {
		check_fp(i);
		check_fpw(i);
		check_fp2(i);
	}
}

static void test_portable_vs_bn(void **state)
{
	(void)state;
	bls_set_adx(0);
	run_all();
	bls_set_adx(1);
}

static void test_asm_vs_bn(void **state)
{
	(void)state;
	bls_set_adx(1);
	run_all();
}

/* both paths, the same random inputs, byte-identical results */
static void test_paths_agree(void **state)
{
	(void)state;
	for (int i = 0; i < 10 * ITER; i++) {
		fp a, b, r[2];
		fp2 x, y, z[2];
		fpw u, v, w[2];
		fp2w ww[2], ws[2];
		rnd_below(a.l, 6, P, i);
		rnd_below(b.l, 6, P, i + 4);
		rnd_below(x.c0.l, 6, P, i + 1);
		rnd_below(x.c1.l, 6, P, i + 7);
		rnd_below(y.c0.l, 6, P, 3 * i);
		rnd_below(y.c1.l, 6, P, 5 * i);
		rnd_below(u.l, 12, PR, i + 2);
		rnd_below(v.l, 12, PR, i + 9);
		for (int path = 0; path < 2; path++) {
			bls_set_adx(path);
			fp t;
			fp_mul(&r[path], &a, &b);
			fp_sqr(&t, &r[path]);
			fp_add(&t, &t, &a);
			fp_sub(&r[path], &t, &b);
			fp2_mul(&z[path], &x, &y);
			fp2_sqr(&z[path], &z[path]);
			fp2_add(&z[path], &z[path], &x);
			fp2_sub(&z[path], &z[path], &y);
			fpw_add(&w[path], &u, &v);
			fpw_sub(&w[path], &w[path], &u);
			fpw_sub(&w[path], &w[path], &v);
			fpw_redc(&t, &w[path]);
			fpw_mul(&w[path], &t, &a);
			fp2w_mul(&ww[path], &x, &y);
			fp2w_sqr(&ws[path], &x);
		}
		assert_memory_equal(&r[0], &r[1], sizeof r[0]);
		assert_memory_equal(&z[0], &z[1], sizeof z[0]);
		assert_memory_equal(&w[0], &w[1], sizeof w[0]);
		assert_memory_equal(&ww[0], &ww[1], sizeof ww[0]);
		assert_memory_equal(&ws[0], &ws[1], sizeof ws[0]);
	}
	bls_set_adx(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_portable_vs_bn),
	    cmocka_unit_test(test_asm_vs_bn),
	    cmocka_unit_test(test_paths_agree),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
