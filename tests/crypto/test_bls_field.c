/*
 * test_bls_field.c — BLS12-381 field arithmetic against OpenSSL's BIGNUM on
 * random and edge-case inputs (Fp, Fr), and algebraic identities for the
 * tower Fp2/Fp6/Fp12 (inverses, Frobenius, sparse and cyclotomic products).
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
#include "crypto/bls12_381/pairing.h"

#define ITER 300

static const char *P_HEX = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f624"
                           "1eabfffeb153ffffb9feffffffffaaab";
static const char *R_HEX = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd64(void)
{
	/* xorshift64*: deterministic so failures reproduce */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}
static void rnd_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd64();
}

static BN_CTX *ctx;
static BIGNUM *P, *R;

static int setup(void **state)
{
	(void)state;
	ctx = BN_CTX_new();
	P = NULL;
	R = NULL;
	BN_hex2bn(&P, P_HEX);
	BN_hex2bn(&R, R_HEX);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	BN_free(P);
	BN_free(R);
	BN_CTX_free(ctx);
	return 0;
}

/* random value below m, as big-endian bytes of width w; some edge cases */
static BIGNUM *rnd_below(const BIGNUM *m, int i)
{
	BIGNUM *x = BN_new();
	if (i == 0)
		BN_zero(x);
	else if (i == 1)
		BN_one(x);
	else if (i == 2) {
		BN_copy(x, m);
		BN_sub_word(x, 1);
	} else {
		uint8_t b[64];
		rnd_bytes(b, sizeof b);
		BN_bin2bn(b, sizeof b, x);
		BN_mod(x, x, m, ctx);
	}
	return x;
}

static void bn_to_fp(fp *r, const BIGNUM *x)
{
	uint8_t b[48];
	assert_int_equal(BN_bn2binpad(x, b, 48), 48);
	assert_true(fp_from_bytes(r, b));
}

static void assert_fp_bn(const fp *a, const BIGNUM *x)
{
	uint8_t got[48], want[48];
	fp_to_bytes(got, a);
	assert_int_equal(BN_bn2binpad(x, want, 48), 48);
	assert_memory_equal(got, want, 48);
}

static void test_fp_vs_bn(void **state)
{
	(void)state;
	BIGNUM *t = BN_new(), *e = BN_new();
	for (int i = 0; i < ITER; i++) {
		BIGNUM *a = rnd_below(P, i % 7 == 3 ? 0 : i), *b = rnd_below(P, (i + 5) % ITER);
		fp fa, fb, fr_;
		bn_to_fp(&fa, a);
		bn_to_fp(&fb, b);
		fp_mul(&fr_, &fa, &fb);
		BN_mod_mul(t, a, b, P, ctx);
		assert_fp_bn(&fr_, t);
		fp_sqr(&fr_, &fa);
		BN_mod_sqr(t, a, P, ctx);
		assert_fp_bn(&fr_, t);
		fp_add(&fr_, &fa, &fb);
		BN_mod_add(t, a, b, P, ctx);
		assert_fp_bn(&fr_, t);
		fp_sub(&fr_, &fa, &fb);
		BN_mod_sub(t, a, b, P, ctx);
		assert_fp_bn(&fr_, t);
		fp_neg(&fr_, &fa);
		BN_mod_sub(t, P, a, P, ctx);
		assert_fp_bn(&fr_, t);
		if (!BN_is_zero(a) && i < 60) {
			fp_inv(&fr_, &fa);
			BN_mod_inverse(t, a, P, ctx);
			assert_fp_bn(&fr_, t);
			/* Euler's criterion against fp_is_square / fp_sqrt */
			BN_copy(e, P);
			BN_sub_word(e, 1);
			BN_rshift1(e, e);
			BN_mod_exp(t, a, e, P, ctx);
			bool sq = BN_is_one(t);
			assert_int_equal(fp_is_square(&fa), sq);
			fp s, s2;
			assert_int_equal(fp_sqrt(&s, &fa), sq);
			if (sq) {
				fp_sqr(&s2, &s);
				assert_true(fp_eq(&s2, &fa));
			}
		}
		/* sgn0 = parity of the integer */
		assert_int_equal(fp_sgn0(&fa), BN_is_odd(a));
		BN_free(a);
		BN_free(b);
	}
	BN_free(t);
	BN_free(e);
}

static void test_fp_wide_and_bytes(void **state)
{
	(void)state;
	BIGNUM *x = BN_new(), *t = BN_new();
	for (int i = 0; i < ITER; i++) {
		uint8_t b[64];
		rnd_bytes(b, 64);
		if (i == 0)
			memset(b, 0xff, 64);
		fp f;
		fp_from_bytes_wide(&f, b);
		BN_bin2bn(b, 64, x);
		BN_mod(t, x, P, ctx);
		assert_fp_bn(&f, t);
	}
	/* canonical decoding: p, p + 1 and 2^384 - 1 are rejected, p - 1 accepted */
	uint8_t b[48];
	fp f;
	BN_bn2binpad(P, b, 48);
	assert_false(fp_from_bytes(&f, b));
	BN_add_word(x, 0);
	BN_copy(x, P);
	BN_add_word(x, 1);
	BN_bn2binpad(x, b, 48);
	assert_false(fp_from_bytes(&f, b));
	memset(b, 0xff, 48);
	assert_false(fp_from_bytes(&f, b));
	BN_copy(x, P);
	BN_sub_word(x, 1);
	BN_bn2binpad(x, b, 48);
	assert_true(fp_from_bytes(&f, b));
	assert_fp_bn(&f, x);
	assert_true(fp_lexi_largest(&f));
	BN_free(x);
	BN_free(t);
}

static void assert_fr_bn(const fr *a, const BIGNUM *x)
{
	uint8_t got[32], want[32];
	fr_to_bytes(got, a);
	assert_int_equal(BN_bn2binpad(x, want, 32), 32);
	assert_memory_equal(got, want, 32);
}

static void test_fr_vs_bn(void **state)
{
	(void)state;
	BIGNUM *t = BN_new(), *x = BN_new();
	for (int i = 0; i < ITER; i++) {
		BIGNUM *a = rnd_below(R, i), *b = rnd_below(R, ITER - 1 - i);
		uint8_t ab[32], bb[32];
		BN_bn2binpad(a, ab, 32);
		BN_bn2binpad(b, bb, 32);
		fr fa, fb, fc;
		assert_true(fr_from_bytes(&fa, ab));
		assert_true(fr_from_bytes(&fb, bb));
		fr_mul(&fc, &fa, &fb);
		BN_mod_mul(t, a, b, R, ctx);
		assert_fr_bn(&fc, t);
		fr_add(&fc, &fa, &fb);
		BN_mod_add(t, a, b, R, ctx);
		assert_fr_bn(&fc, t);
		fr_sub(&fc, &fa, &fb);
		BN_mod_sub(t, a, b, R, ctx);
		assert_fr_bn(&fc, t);
		if (!BN_is_zero(a) && i < 60) {
			fr_inv(&fc, &fa);
			BN_mod_inverse(t, a, R, ctx);
			assert_fr_bn(&fc, t);
		}
		/* wide reduction for every length 0..64 */
		uint8_t w[64];
		size_t len = (size_t)(i % 65);
		rnd_bytes(w, sizeof w);
		if (i == 64)
			memset(w, 0xff, sizeof w);
		fr_from_bytes_wide(&fc, w, len);
		BN_bin2bn(w, (int)len, x);
		BN_mod(t, x, R, ctx);
		assert_fr_bn(&fc, t);
		BN_free(a);
		BN_free(b);
	}
	uint8_t b[32];
	fr f;
	BN_bn2binpad(R, b, 32);
	assert_false(fr_from_bytes(&f, b));
	memset(b, 0xff, 32);
	assert_false(fr_from_bytes(&f, b));
	BN_free(t);
	BN_free(x);
}

static void rnd_fp(fp *a)
{
	uint8_t b[64];
	rnd_bytes(b, sizeof b);
	fp_from_bytes_wide(a, b);
}
static void rnd_fp2(fp2 *a)
{
	rnd_fp(&a->c0);
	rnd_fp(&a->c1);
}
static void rnd_fp6(fp6 *a)
{
	rnd_fp2(&a->c0);
	rnd_fp2(&a->c1);
	rnd_fp2(&a->c2);
}
static void rnd_fp12(fp12 *a)
{
	rnd_fp6(&a->c0);
	rnd_fp6(&a->c1);
}

static void test_fp2(void **state)
{
	(void)state;
	int nonsq = 0;
	for (int i = 0; i < 40; i++) {
		fp2 a, b, c, d, one;
		rnd_fp2(&a);
		rnd_fp2(&b);
		fp2_one(&one);
		/* (a b)^-1 a b = 1, sqr = mul */
		fp2_inv(&c, &a);
		fp2_mul(&c, &c, &a);
		assert_true(fp2_eq(&c, &one));
		fp2_sqr(&c, &a);
		fp2_mul(&d, &a, &a);
		assert_true(fp2_eq(&c, &d));
		/* u^2 = -1 */
		fp2 u = {{{0}}, BLS_FP_ONE}, mone;
		fp2_sqr(&c, &u);
		fp2_neg(&mone, &one);
		assert_true(fp2_eq(&c, &mone));
		/* sqrt of a square squares back; frob is a ring map */
		fp2_sqr(&c, &a);
		assert_true(fp2_sqrt_vartime(&d, &c));
		fp2_sqr(&d, &d);
		assert_true(fp2_eq(&d, &c));
		if (!fp2_sqrt_vartime(&d, &b))
			nonsq++;
		else {
			fp2_sqr(&c, &d);
			assert_true(fp2_eq(&c, &b));
		}
	}
	assert_true(nonsq > 5 && nonsq < 35); /* about half are non-squares */
}

static void test_fp6_fp12(void **state)
{
	(void)state;
	for (int i = 0; i < 20; i++) {
		fp6 a, b, c, d;
		rnd_fp6(&a);
		rnd_fp6(&b);
		fp6_sqr(&c, &a);
		fp6_mul(&d, &a, &a);
		assert_memory_equal(&c, &d, sizeof c);
		fp6_inv(&c, &a);
		fp6_mul(&c, &c, &a);
		fp6 one6 = {0};
		fp2_one(&one6.c0);
		assert_memory_equal(&c, &one6, sizeof c);
		/* sparse products equal the general product */
		fp6 s = {0};
		s.c0 = b.c0;
		s.c1 = b.c1;
		fp6_mul(&c, &a, &s);
		fp6_mul_01(&d, &a, &b.c0, &b.c1);
		assert_memory_equal(&c, &d, sizeof c);
		memset(&s, 0, sizeof s);
		s.c1 = b.c1;
		fp6_mul(&c, &a, &s);
		fp6_mul_1(&d, &a, &b.c1);
		assert_memory_equal(&c, &d, sizeof c);

		fp12 x, y, z, w, one;
		rnd_fp12(&x);
		rnd_fp12(&y);
		fp12_one(&one);
		fp12_sqr(&z, &x);
		fp12_mul(&w, &x, &x);
		assert_true(fp12_eq(&z, &w));
		fp12_inv(&z, &x);
		fp12_mul(&z, &z, &x);
		assert_true(fp12_is_one(&z));
		/* Frobenius: multiplicative, order 12, and p^6 = conjugation */
		fp12_mul(&z, &x, &y);
		fp12_frob(&z, &z);
		fp12 fx, fy;
		fp12_frob(&fx, &x);
		fp12_frob(&fy, &y);
		fp12_mul(&w, &fx, &fy);
		assert_true(fp12_eq(&z, &w));
		z = x;
		for (int k = 0; k < 6; k++)
			fp12_frob(&z, &z);
		fp12_conj(&w, &x);
		assert_true(fp12_eq(&z, &w));
		for (int k = 0; k < 6; k++)
			fp12_frob(&z, &z);
		assert_true(fp12_eq(&z, &x));
		/* sparse line product */
		fp2 c0, c1, c4;
		rnd_fp2(&c0);
		rnd_fp2(&c1);
		rnd_fp2(&c4);
		fp12 l;
		memset(&l, 0, sizeof l);
		l.c0.c0 = c0;
		l.c0.c1 = c1;
		l.c1.c1 = c4;
		fp12_mul(&z, &x, &l);
		w = x;
		fp12_mul_014(&w, &c0, &c1, &c4);
		assert_true(fp12_eq(&z, &w));
		/* cyclotomic squaring on g = x^((p^6 - 1)(p^2 + 1)) */
		fp12 g, t;
		fp12_conj(&g, &x);
		fp12_inv(&t, &x);
		fp12_mul(&g, &g, &t);
		t = g;
		fp12_frob(&g, &g);
		fp12_frob(&g, &g);
		fp12_mul(&g, &g, &t);
		fp12_sqr(&z, &g);
		fp12_cyclotomic_sqr(&w, &g);
		assert_true(fp12_eq(&z, &w));
		(void)one;
	}
}

/* safegcd inversion: edges 0 -> 0, 1, 2, p - 1, p - 2, powers of two and
 * 2^k - 1, then random values; Fp and Fr against BN_mod_inverse */
static void inv_edge(BIGNUM *x, const BIGNUM *m, int i)
{
	if (i < 5) {
		static const int64_t small[5] = {0, 1, 2, -1, -2};
		BN_set_word(x, (BN_ULONG)(small[i] < 0 ? -small[i] : small[i]));
		if (small[i] < 0)
			BN_sub(x, m, x);
	} else if (i < 5 + 2 * 380) {
		int k = (i - 5) / 2;
		BN_one(x);
		BN_lshift(x, x, k);
		if ((i - 5) % 2)
			BN_sub_word(x, 1);
		BN_mod(x, x, m, ctx);
	} else {
		uint8_t b[64];
		rnd_bytes(b, sizeof b);
		BN_bin2bn(b, sizeof b, x);
		BN_mod(x, x, m, ctx);
	}
}

static void test_inversion(void **state)
{
	(void)state;
	BIGNUM *x = BN_new(), *t = BN_new();
	for (int i = 0; i < 5 + 2 * 380 + 150; i++) {
		inv_edge(x, P, i);
		fp a, r;
		bn_to_fp(&a, x);
		fp_inv(&r, &a);
		if (BN_is_zero(x))
			BN_zero(t);
		else
			assert_non_null(BN_mod_inverse(t, x, P, ctx));
		assert_fp_bn(&r, t);
		fp_inv(&a, &a); /* in place */
		assert_memory_equal(&a, &r, sizeof a);
		if (i >= 5 + 2 * 256 && i < 5 + 2 * 380)
			continue; /* above r */
		inv_edge(x, R, i);
		uint8_t b[32];
		fr k, kr;
		BN_bn2binpad(x, b, 32);
		assert_true(fr_from_bytes(&k, b));
		fr_inv(&kr, &k);
		if (BN_is_zero(x))
			BN_zero(t);
		else
			assert_non_null(BN_mod_inverse(t, x, R, ctx));
		assert_fr_bn(&kr, t);
	}
	BN_free(x);
	BN_free(t);
}

/* the addition chain for a^((p-3)/4) against BN_mod_exp: 0, 1, 2, p - 1,
 * p - 2 and random values */
static void test_pow_chain(void **state)
{
	(void)state;
	BIGNUM *x = BN_new(), *e = BN_new(), *t = BN_new();
	BN_copy(e, P);
	BN_sub_word(e, 3);
	BN_rshift(e, e, 2);
	for (int i = 0; i < 40; i++) {
		inv_edge(x, P, i < 5 ? i : 5 + 2 * 380 + i);
		fp a, r;
		bn_to_fp(&a, x);
		fp_pow_p34(&r, &a);
		BN_mod_exp(t, x, e, P, ctx);
		assert_fp_bn(&r, t);
	}
	BN_free(x);
	BN_free(e);
	BN_free(t);
}

/* fp2_sqrt_vartime on 600 squares (both cases of its single exponentiation
 * occur about half the time each) and on random elements, whose verdict
 * must match the norm's: a is a square in Fp2 iff a0^2 + a1^2 is one in Fp */
static void test_fp2_sqrt(void **state)
{
	(void)state;
	for (int i = 0; i < 600; i++) {
		fp2 x, a, r, sq;
		rnd_fp2(&x);
		if (i == 0)
			fp_zero(&x.c1);
		if (i == 1)
			fp_zero(&x.c0);
		fp2_sqr(&a, &x);
		assert_true(fp2_sqrt_vartime(&r, &a));
		fp2_sqr(&sq, &r);
		assert_true(fp2_eq(&sq, &a));
		fp2 b;
		fp n, t;
		rnd_fp2(&b);
		fp_sqr(&n, &b.c0);
		fp_sqr(&t, &b.c1);
		fp_add(&n, &n, &t);
		assert_int_equal(fp2_sqrt_vartime(&r, &b), fp_is_square(&n));
	}
}

/* Karabina's compressed squaring: k compressed squarings then a batch
 * decompression equal k Granger-Scott squarings on cyclotomic elements; the
 * identity (g2 = 0) is refused, so the caller falls back */
static void test_compressed_sqr(void **state)
{
	(void)state;
	fp12 g[4], want[4], got[4], t;
	fp12c c[4];
	for (int i = 0; i < 4; i++) { /* g = x^((p^6 - 1)(p^2 + 1)) */
		fp12 x;
		rnd_fp12(&x);
		fp12_conj(&g[i], &x);
		fp12_inv(&t, &x);
		fp12_mul(&g[i], &g[i], &t);
		t = g[i];
		fp12_frob(&g[i], &g[i]);
		fp12_frob(&g[i], &g[i]);
		fp12_mul(&g[i], &g[i], &t);
		want[i] = g[i];
		fp12_compress(&c[i], &g[i]);
		for (int k = 0; k < 1 + 7 * i; k++) {
			fp12_cyclotomic_sqr(&want[i], &want[i]);
			fp12c_sqr(&c[i], &c[i]);
		}
	}
	assert_true(fp12c_decompress(got, c, 4));
	for (int i = 0; i < 4; i++)
		assert_true(fp12_eq(&got[i], &want[i]));
	fp12_one(&t);
	fp12_compress(&c[1], &t);
	assert_false(fp12c_decompress(got, c, 2));
	/* the final exponentiation of 1 takes that fallback and gives 1 */
	bls_final_exp(&t, &t);
	assert_true(fp12_is_one(&t));
}

/* the same checks on the portable C path */
static void test_fp_vs_bn_portable(void **state)
{
	bls_set_adx(0);
	test_fp_vs_bn(state);
	test_fp6_fp12(state);
	bls_set_adx(1);
}

/* the assembly multiplication (when the CPU has BMI2+ADX) equals the portable one */
static void test_fp_mul_paths(void **state)
{
	(void)state;
	for (int i = 0; i < 20000; i++) {
		fp a, b, r1, r2;
		rnd_fp(&a);
		rnd_fp(&b);
		if (i % 5 == 0) { /* p - 1 and small values */
			memcpy(a.l, BLS_P, sizeof a.l);
			a.l[0] -= 1 + (uint64_t)(i % 3);
		}
		if (i % 7 == 0) {
			memset(&b, 0, sizeof b);
			b.l[i % 6] = (uint64_t)i;
		}
		bls_set_adx(0);
		fp_mul(&r1, &a, &b);
		bls_set_adx(1);
		fp_mul(&r2, &a, &b);
		assert_memory_equal(&r1, &r2, sizeof r1);
	}
	bls_set_adx(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fp_vs_bn),          cmocka_unit_test(test_fp_wide_and_bytes),
	    cmocka_unit_test(test_fr_vs_bn),          cmocka_unit_test(test_fp2),
	    cmocka_unit_test(test_fp6_fp12),          cmocka_unit_test(test_fp_mul_paths),
	    cmocka_unit_test(test_fp_vs_bn_portable), cmocka_unit_test(test_inversion),
	    cmocka_unit_test(test_pow_chain),         cmocka_unit_test(test_compressed_sqr),
	    cmocka_unit_test(test_fp2_sqrt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
