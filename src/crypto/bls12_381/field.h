/*
 * field.h — internal: the BLS12-381 fields. Fp (6x64-bit limbs, Montgomery
 * form, R = 2^384), Fr (4 limbs, R = 2^256) and the tower Fp2 = Fp[u]/(u^2+1),
 * Fp6 = Fp2[v]/(v^3 - (u+1)), Fp12 = Fp6[w]/(w^2 - v).
 *
 * Every routine here is constant time in the values of its operands (no
 * branch or memory index depends on them): carries are folded with masks and
 * selections use cmov. Routines that are variable time say so (*_vartime);
 * they are only used on public data. Exponents passed to the pow helpers are
 * public constants.
 */
#ifndef CTNG_BLS12_381_FIELD_H
#define CTNG_BLS12_381_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

__extension__ typedef unsigned __int128 bls_u128;

typedef struct {
	uint64_t l[6];
} fp;
typedef struct {
	uint64_t l[4];
} fr;
typedef struct {
	fp c0, c1;
} fp2;
typedef struct {
	fp2 c0, c1, c2;
} fp6;
typedef struct {
	fp6 c0, c1;
} fp12;

extern const uint64_t BLS_P[6];
extern const uint64_t BLS_P_INV;
extern const uint64_t BLS_R[4];
extern const uint64_t BLS_R_INV;
extern const fp BLS_FP_ONE;
extern const fr BLS_FR_ONE;

/* Zeroes memory that held secrets; volatile so the stores are not elided. */
static inline void bls_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	for (size_t i = 0; i < n; i++)
		v[i] = 0;
}

/* ---- generic Montgomery helpers (n = 4 or 6, inlined with a constant n) */

/* r = a*b/2^(64n) mod m for a, b < m, with m's top limb < 2^62 (so the
 * "no-carry" CIOS variant applies). r may alias a or b. */
static inline void bls_mont_mul(uint64_t *r, const uint64_t *a, const uint64_t *b,
                                const uint64_t *m, uint64_t inv, int n)
{
	uint64_t t[6] = {0};
	for (int i = 0; i < n; i++) {
		bls_u128 v = (bls_u128)a[0] * b[i] + t[0];
		uint64_t A = (uint64_t)(v >> 64);
		uint64_t t0 = (uint64_t)v;
		uint64_t k = t0 * inv;
		v = (bls_u128)k * m[0] + t0;
		uint64_t C = (uint64_t)(v >> 64);
		for (int j = 1; j < n; j++) {
			v = (bls_u128)a[j] * b[i] + t[j] + A;
			A = (uint64_t)(v >> 64);
			v = (bls_u128)k * m[j] + (uint64_t)v + C;
			C = (uint64_t)(v >> 64);
			t[j - 1] = (uint64_t)v;
		}
		t[n - 1] = C + A;
	}
	/* t < 2m: subtract m unless that borrows (mask select, no branch). */
	uint64_t s[6], borrow = 0;
	for (int j = 0; j < n; j++) {
		bls_u128 d = (bls_u128)t[j] - m[j] - borrow;
		s[j] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t mask = 0 - borrow;
	for (int j = 0; j < n; j++)
		r[j] = (t[j] & mask) | (s[j] & ~mask);
}

static inline void bls_mod_add(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m,
                               int n)
{
	uint64_t t[6], s[6], carry = 0, borrow = 0;
	_Pragma("GCC unroll 6") for (int j = 0; j < n; j++)
	{
		bls_u128 v = (bls_u128)a[j] + b[j] + carry;
		t[j] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
	_Pragma("GCC unroll 6") for (int j = 0; j < n; j++)
	{
		bls_u128 d = (bls_u128)t[j] - m[j] - borrow;
		s[j] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	/* moduli leave headroom, so carry is 0; keep t only if t < m */
	uint64_t mask = 0 - (borrow & (carry ^ 1));
	_Pragma("GCC unroll 6") for (int j = 0; j < n; j++) r[j] = (t[j] & mask) | (s[j] & ~mask);
}

static inline void bls_mod_sub(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m,
                               int n)
{
	uint64_t t[6], borrow = 0, carry = 0;
	_Pragma("GCC unroll 6") for (int j = 0; j < n; j++)
	{
		bls_u128 d = (bls_u128)a[j] - b[j] - borrow;
		t[j] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t mask = 0 - borrow; /* add m back when a < b */
	_Pragma("GCC unroll 6") for (int j = 0; j < n; j++)
	{
		bls_u128 v = (bls_u128)t[j] + (m[j] & mask) + carry;
		r[j] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
}

/* ------------------------------------------------------------------ Fp */

/* x86-64 with BMI2+ADX: an assembly multiplication (fp_adx.c), chosen at
 * run time (bls_use_adx is set by a constructor in fp.c from CPUID). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BLS_HAVE_ADX_ASM 1
void bls_fp_mul_adx(fp *r, const fp *a, const fp *b);
extern int bls_use_adx;
#else
#define BLS_HAVE_ADX_ASM 0
#endif
/* Selects the portable (0) or the assembly (1, if the CPU has it) path; for tests. */
void bls_set_adx(int on);

static inline void fp_mul_portable(fp *r, const fp *a, const fp *b)
{
	bls_mont_mul(r->l, a->l, b->l, BLS_P, BLS_P_INV, 6);
}
static inline void fp_mul(fp *r, const fp *a, const fp *b)
{
#if BLS_HAVE_ADX_ASM
	if (bls_use_adx) {
		bls_fp_mul_adx(r, a, b);
		return;
	}
#endif
	fp_mul_portable(r, a, b);
}
static inline void fp_sqr(fp *r, const fp *a)
{
	fp_mul(r, a, a);
}
#if BLS_HAVE_ADX_ASM
/* add/sub with explicit carry chains (plain adc/sbb; any x86-64): the same
 * masked selection as bls_mod_add/sub, but compiled to straight adc code. */
#include <x86intrin.h>
static inline void fp_add(fp *r, const fp *a, const fp *b)
{
	unsigned long long t[6], s[6];
	unsigned char c = 0, br = 0;
	c = _addcarry_u64(c, a->l[0], b->l[0], &t[0]);
	c = _addcarry_u64(c, a->l[1], b->l[1], &t[1]);
	c = _addcarry_u64(c, a->l[2], b->l[2], &t[2]);
	c = _addcarry_u64(c, a->l[3], b->l[3], &t[3]);
	c = _addcarry_u64(c, a->l[4], b->l[4], &t[4]);
	(void)_addcarry_u64(c, a->l[5], b->l[5], &t[5]); /* a + b < 2p < 2^383 */
	br = _subborrow_u64(br, t[0], BLS_P[0], &s[0]);
	br = _subborrow_u64(br, t[1], BLS_P[1], &s[1]);
	br = _subborrow_u64(br, t[2], BLS_P[2], &s[2]);
	br = _subborrow_u64(br, t[3], BLS_P[3], &s[3]);
	br = _subborrow_u64(br, t[4], BLS_P[4], &s[4]);
	br = _subborrow_u64(br, t[5], BLS_P[5], &s[5]);
	uint64_t mask = 0 - (uint64_t)br; /* keep t when t < p */
	for (int i = 0; i < 6; i++)
		r->l[i] = (t[i] & mask) | (s[i] & ~mask);
}
static inline void fp_sub(fp *r, const fp *a, const fp *b)
{
	unsigned long long t[6];
	unsigned char c = 0, br = 0;
	br = _subborrow_u64(br, a->l[0], b->l[0], &t[0]);
	br = _subborrow_u64(br, a->l[1], b->l[1], &t[1]);
	br = _subborrow_u64(br, a->l[2], b->l[2], &t[2]);
	br = _subborrow_u64(br, a->l[3], b->l[3], &t[3]);
	br = _subborrow_u64(br, a->l[4], b->l[4], &t[4]);
	br = _subborrow_u64(br, a->l[5], b->l[5], &t[5]);
	uint64_t mask = 0 - (uint64_t)br; /* add p back when a < b */
	unsigned long long o[6];
	c = _addcarry_u64(c, t[0], BLS_P[0] & mask, &o[0]);
	c = _addcarry_u64(c, t[1], BLS_P[1] & mask, &o[1]);
	c = _addcarry_u64(c, t[2], BLS_P[2] & mask, &o[2]);
	c = _addcarry_u64(c, t[3], BLS_P[3] & mask, &o[3]);
	c = _addcarry_u64(c, t[4], BLS_P[4] & mask, &o[4]);
	(void)_addcarry_u64(c, t[5], BLS_P[5] & mask, &o[5]);
	for (int i = 0; i < 6; i++)
		r->l[i] = o[i];
}
#else
static inline void fp_add(fp *r, const fp *a, const fp *b)
{
	bls_mod_add(r->l, a->l, b->l, BLS_P, 6);
}
static inline void fp_sub(fp *r, const fp *a, const fp *b)
{
	bls_mod_sub(r->l, a->l, b->l, BLS_P, 6);
}
#endif
static inline void fp_dbl(fp *r, const fp *a)
{
	fp_add(r, a, a);
}
static inline void fp_zero(fp *r)
{
	memset(r, 0, sizeof *r);
}
static inline void fp_one(fp *r)
{
	*r = BLS_FP_ONE;
}
static inline void fp_neg(fp *r, const fp *a)
{
	fp z;
	fp_zero(&z);
	fp_sub(r, &z, a);
}
/* All-ones mask when a == 0, else 0 (constant time). */
static inline uint64_t fp_is_zero_mask(const fp *a)
{
	uint64_t acc = 0;
	for (int i = 0; i < 6; i++)
		acc |= a->l[i];
	return ((acc | (0 - acc)) >> 63) - 1;
}
static inline bool fp_is_zero(const fp *a)
{
	return fp_is_zero_mask(a) != 0;
}
static inline bool fp_eq(const fp *a, const fp *b)
{
	uint64_t acc = 0;
	for (int i = 0; i < 6; i++)
		acc |= a->l[i] ^ b->l[i];
	return acc == 0;
}
/* r = mask ? a : r, for mask all-ones or zero. */
static inline void fp_cmov(fp *r, const fp *a, uint64_t mask)
{
	for (int i = 0; i < 6; i++)
		r->l[i] = (r->l[i] & ~mask) | (a->l[i] & mask);
}

void fp_half(fp *r, const fp *a);               /* a / 2 */
void fp_from_raw(fp *r, const uint64_t raw[6]); /* raw < p, to Montgomery */
void fp_to_raw(uint64_t raw[6], const fp *a);
void fp_from_u64(fp *r, uint64_t v);
/* Big-endian 48 bytes; false (r untouched) when the integer is >= p. */
bool fp_from_bytes(fp *r, const uint8_t in[48]);
void fp_to_bytes(uint8_t out[48], const fp *a);
/* 64 big-endian bytes reduced mod p (hash_to_field). */
void fp_from_bytes_wide(fp *r, const uint8_t in[64]);
void fp_pow(fp *r, const fp *a, const uint64_t *e, int limbs); /* public exponent */
void fp_inv(fp *r, const fp *a);                               /* 0 -> 0 */
bool fp_sqrt(fp *r, const fp *a);                              /* false if non-square */
bool fp_is_square(const fp *a);                                /* 0 counts as square */
int fp_sgn0(const fp *a);                                      /* RFC 9380 sgn0 */
bool fp_lexi_largest(const fp *a);                             /* a > (p-1)/2 as integers */

/* ------------------------------------------------------------------ Fr */

static inline void fr_mul(fr *r, const fr *a, const fr *b)
{
	bls_mont_mul(r->l, a->l, b->l, BLS_R, BLS_R_INV, 4);
}
static inline void fr_add(fr *r, const fr *a, const fr *b)
{
	bls_mod_add(r->l, a->l, b->l, BLS_R, 4);
}
static inline void fr_sub(fr *r, const fr *a, const fr *b)
{
	bls_mod_sub(r->l, a->l, b->l, BLS_R, 4);
}
static inline bool fr_is_zero(const fr *a)
{
	return (a->l[0] | a->l[1] | a->l[2] | a->l[3]) == 0;
}
void fr_from_u64(fr *r, uint64_t v);
bool fr_from_bytes(fr *r, const uint8_t in[32]); /* big-endian, false if >= r */
void fr_to_bytes(uint8_t out[32], const fr *a);
void fr_from_bytes_wide(fr *r, const uint8_t *in, size_t len); /* len <= 64, mod r */
void fr_to_raw(uint64_t raw[4], const fr *a);                  /* plain integer limbs */
void fr_inv(fr *r, const fr *a);                               /* Fermat, 0 -> 0 */

/* ----------------------------------------------------------------- Fp2 */

static inline void fp2_add(fp2 *r, const fp2 *a, const fp2 *b)
{
	fp_add(&r->c0, &a->c0, &b->c0);
	fp_add(&r->c1, &a->c1, &b->c1);
}
static inline void fp2_sub(fp2 *r, const fp2 *a, const fp2 *b)
{
	fp_sub(&r->c0, &a->c0, &b->c0);
	fp_sub(&r->c1, &a->c1, &b->c1);
}
static inline void fp2_dbl(fp2 *r, const fp2 *a)
{
	fp_dbl(&r->c0, &a->c0);
	fp_dbl(&r->c1, &a->c1);
}
static inline void fp2_neg(fp2 *r, const fp2 *a)
{
	fp_neg(&r->c0, &a->c0);
	fp_neg(&r->c1, &a->c1);
}
static inline void fp2_conj(fp2 *r, const fp2 *a)
{
	r->c0 = a->c0;
	fp_neg(&r->c1, &a->c1);
}
static inline void fp2_mul(fp2 *r, const fp2 *a, const fp2 *b)
{
	fp t0, t1, s0, s1;
	fp_mul(&t0, &a->c0, &b->c0);
	fp_mul(&t1, &a->c1, &b->c1);
	fp_add(&s0, &a->c0, &a->c1);
	fp_add(&s1, &b->c0, &b->c1);
	fp_mul(&s0, &s0, &s1);
	fp_sub(&r->c0, &t0, &t1);
	fp_sub(&s0, &s0, &t0);
	fp_sub(&r->c1, &s0, &t1);
}
static inline void fp2_sqr(fp2 *r, const fp2 *a)
{
	fp s, d, m;
	fp_add(&s, &a->c0, &a->c1);
	fp_sub(&d, &a->c0, &a->c1);
	fp_mul(&m, &a->c0, &a->c1);
	fp_mul(&r->c0, &s, &d);
	fp_dbl(&r->c1, &m);
}
static inline void fp2_mul_fp(fp2 *r, const fp2 *a, const fp *b)
{
	fp_mul(&r->c0, &a->c0, b);
	fp_mul(&r->c1, &a->c1, b);
}
/* r = a * (u + 1) */
static inline void fp2_mul_xi(fp2 *r, const fp2 *a)
{
	fp t;
	fp_sub(&t, &a->c0, &a->c1);
	fp_add(&r->c1, &a->c0, &a->c1);
	r->c0 = t;
}
static inline void fp2_zero(fp2 *r)
{
	memset(r, 0, sizeof *r);
}
static inline void fp2_one(fp2 *r)
{
	fp_one(&r->c0);
	fp_zero(&r->c1);
}
static inline uint64_t fp2_is_zero_mask(const fp2 *a)
{
	return fp_is_zero_mask(&a->c0) & fp_is_zero_mask(&a->c1);
}
static inline bool fp2_is_zero(const fp2 *a)
{
	return fp2_is_zero_mask(a) != 0;
}
static inline bool fp2_eq(const fp2 *a, const fp2 *b)
{
	return fp_eq(&a->c0, &b->c0) && fp_eq(&a->c1, &b->c1);
}
static inline void fp2_cmov(fp2 *r, const fp2 *a, uint64_t mask)
{
	fp_cmov(&r->c0, &a->c0, mask);
	fp_cmov(&r->c1, &a->c1, mask);
}
void fp2_inv(fp2 *r, const fp2 *a);
bool fp2_sqrt_vartime(fp2 *r, const fp2 *a); /* public inputs only (decoding) */
bool fp2_lexi_largest(const fp2 *a);         /* ZCash sort rule: compare c1, then c0 */
void fp2_frob(fp2 *r, const fp2 *a);         /* a^p = conjugate */

/* ----------------------------------------------------------- Fp6, Fp12 */

void fp6_add(fp6 *r, const fp6 *a, const fp6 *b);
void fp6_sub(fp6 *r, const fp6 *a, const fp6 *b);
void fp6_neg(fp6 *r, const fp6 *a);
void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b);
void fp6_sqr(fp6 *r, const fp6 *a);
void fp6_mul_v(fp6 *r, const fp6 *a); /* r = a * v */
void fp6_mul_01(fp6 *r, const fp6 *a, const fp2 *b0, const fp2 *b1);
void fp6_mul_1(fp6 *r, const fp6 *a, const fp2 *b1);
void fp6_inv(fp6 *r, const fp6 *a);
void fp6_frob(fp6 *r, const fp6 *a);

void fp12_one(fp12 *r);
bool fp12_is_one(const fp12 *a);
bool fp12_eq(const fp12 *a, const fp12 *b);
void fp12_mul(fp12 *r, const fp12 *a, const fp12 *b);
void fp12_sqr(fp12 *r, const fp12 *a);
void fp12_conj(fp12 *r, const fp12 *a);
void fp12_inv(fp12 *r, const fp12 *a);
void fp12_frob(fp12 *r, const fp12 *a);
/* f *= (c0 + c1 v + c4 v w) — the sparse line of the Miller loop:
 * coefficients at positions 0 (c0.c0), 1 (c0.c1) and 4 (c1.c1). */
void fp12_mul_014(fp12 *f, const fp2 *c0, const fp2 *c1, const fp2 *c4);
void fp12_cyclotomic_sqr(fp12 *r, const fp12 *a);
#endif
