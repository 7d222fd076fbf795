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

/* Double-width ("wide") values for lazy reduction: a 768-bit integer below
 * p 2^384, whose Montgomery reduction is an Fp element. Products of reduced
 * elements (and of sums of two of them) are kept wide, added and subtracted
 * mod p 2^384, and reduced once. */
typedef struct {
	uint64_t l[12];
} fpw;
typedef struct {
	fpw c0, c1;
} fp2w;

/* The Fp/Fp2 primitives exist twice with the same results: portable C
 * (fp_portable.c) and, on x86-64 ELF, assembly using BMI2+ADX
 * (fp_x86_64.S), chosen at run time: fp.c sets bls_use_adx from CPUID. */
#define BLS_DECLARE_PRIMS(sfx)                                                                     \
	void bls_fp_mul_##sfx(fp *r, const fp *a, const fp *b);                                    \
	void bls_fp_sqr_##sfx(fp *r, const fp *a);                                                 \
	void bls_fp_add_##sfx(fp *r, const fp *a, const fp *b);                                    \
	void bls_fp_sub_##sfx(fp *r, const fp *a, const fp *b);                                    \
	void bls_fpw_mul_##sfx(fpw *r, const fp *a, const fp *b);                                  \
	void bls_fpw_sqr_##sfx(fpw *r, const fp *a);                                               \
	void bls_fpw_redc_##sfx(fp *r, const fpw *a);                                              \
	void bls_fpw_add_##sfx(fpw *r, const fpw *a, const fpw *b);                                \
	void bls_fpw_sub_##sfx(fpw *r, const fpw *a, const fpw *b);                                \
	void bls_fp2_add_##sfx(fp2 *r, const fp2 *a, const fp2 *b);                                \
	void bls_fp2_sub_##sfx(fp2 *r, const fp2 *a, const fp2 *b);                                \
	void bls_fp2_mul_##sfx(fp2 *r, const fp2 *a, const fp2 *b);                                \
	void bls_fp2_sqr_##sfx(fp2 *r, const fp2 *a);                                              \
	void bls_fp2w_add_##sfx(fp2w *r, const fp2w *a, const fp2w *b);                            \
	void bls_fp2w_sub_##sfx(fp2w *r, const fp2w *a, const fp2w *b);                            \
	void bls_fp2w_mul_##sfx(fp2w *r, const fp2 *a, const fp2 *b);                              \
	void bls_fp2w_sqr_##sfx(fp2w *r, const fp2 *a);

BLS_DECLARE_PRIMS(portable)
#if defined(__x86_64__) && defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define BLS_HAVE_ADX_ASM 1
BLS_DECLARE_PRIMS(adx)
extern int bls_use_adx;
#define BLS_PRIM(name, args) (bls_use_adx ? bls_##name##_adx args : bls_##name##_portable args)
#else
#define BLS_HAVE_ADX_ASM     0
#define BLS_PRIM(name, args) bls_##name##_portable args
#endif
/* Selects the portable (0) or the assembly (1, if the CPU has it) path; for
 * tests and benchmarks (not thread-safe: call it before starting threads). */
void bls_set_adx(int on);

/* Contracts (both paths). Fp inputs are reduced (< p) and outputs are
 * reduced; Fp/Fp2 outputs may alias inputs. Wide inputs are < p 2^384 and
 * wide outputs are too; a wide output must not overlap an input of another
 * type.
 *   fp_mul, fp_sqr: Montgomery product a b / 2^384 mod p
 *   fpw_mul, fpw_sqr: the exact 768-bit product
 *   fpw_redc: a / 2^384 mod p
 *   fpw_add, fpw_sub: a +- b mod p 2^384
 *   fp2w_mul: (a0 b0 - a1 b1 mod p 2^384, a0 b1 + a1 b0 exactly)
 *   fp2w_sqr: ((a0 + a1)(a0 + p - a1), 2 a0 a1), congruent to the square */
static inline void fp_mul(fp *r, const fp *a, const fp *b)
{
	BLS_PRIM(fp_mul, (r, a, b));
}
static inline void fp_sqr(fp *r, const fp *a)
{
	BLS_PRIM(fp_sqr, (r, a));
}
static inline void fp_add(fp *r, const fp *a, const fp *b)
{
	BLS_PRIM(fp_add, (r, a, b));
}
static inline void fp_sub(fp *r, const fp *a, const fp *b)
{
	BLS_PRIM(fp_sub, (r, a, b));
}
static inline void fpw_mul(fpw *r, const fp *a, const fp *b)
{
	BLS_PRIM(fpw_mul, (r, a, b));
}
static inline void fpw_sqr(fpw *r, const fp *a)
{
	BLS_PRIM(fpw_sqr, (r, a));
}
static inline void fpw_redc(fp *r, const fpw *a)
{
	BLS_PRIM(fpw_redc, (r, a));
}
static inline void fpw_add(fpw *r, const fpw *a, const fpw *b)
{
	BLS_PRIM(fpw_add, (r, a, b));
}
static inline void fpw_sub(fpw *r, const fpw *a, const fpw *b)
{
	BLS_PRIM(fpw_sub, (r, a, b));
}
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
void fp_pow_p34(fp *r, const fp *a); /* a^((p-3)/4), fixed addition chain */
void fp_inv(fp *r, const fp *a);     /* constant time (inv.c); 0 -> 0 */
bool fp_sqrt(fp *r, const fp *a);    /* false if non-square */
bool fp_is_square(const fp *a);      /* 0 counts as square */
int fp_sgn0(const fp *a);            /* RFC 9380 sgn0 */
bool fp_lexi_largest(const fp *a);   /* a > (p-1)/2 as integers */

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
void fr_inv(fr *r, const fr *a);                               /* constant time, 0 -> 0 */

/* ----------------------------------------------------------------- Fp2 */

static inline void fp2_add(fp2 *r, const fp2 *a, const fp2 *b)
{
	BLS_PRIM(fp2_add, (r, a, b));
}
static inline void fp2_sub(fp2 *r, const fp2 *a, const fp2 *b)
{
	BLS_PRIM(fp2_sub, (r, a, b));
}
static inline void fp2_dbl(fp2 *r, const fp2 *a)
{
	fp2_add(r, a, a);
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
	BLS_PRIM(fp2_mul, (r, a, b));
}
static inline void fp2_sqr(fp2 *r, const fp2 *a)
{
	BLS_PRIM(fp2_sqr, (r, a));
}
static inline void fp2w_mul(fp2w *r, const fp2 *a, const fp2 *b)
{
	BLS_PRIM(fp2w_mul, (r, a, b));
}
static inline void fp2w_sqr(fp2w *r, const fp2 *a)
{
	BLS_PRIM(fp2w_sqr, (r, a));
}
static inline void fp2w_add(fp2w *r, const fp2w *a, const fp2w *b)
{
	BLS_PRIM(fp2w_add, (r, a, b));
}
static inline void fp2w_sub(fp2w *r, const fp2w *a, const fp2w *b)
{
	BLS_PRIM(fp2w_sub, (r, a, b));
}
/* r = a (u + 1) in wide form; r must not alias a */
static inline void fp2w_mul_xi(fp2w *r, const fp2w *a)
{
	fpw_sub(&r->c0, &a->c0, &a->c1);
	fpw_add(&r->c1, &a->c0, &a->c1);
}
static inline void fp2w_redc(fp2 *r, const fp2w *a)
{
	fpw_redc(&r->c0, &a->c0);
	fpw_redc(&r->c1, &a->c1);
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
static inline void fp2_half(fp2 *r, const fp2 *a)
{
	fp_half(&r->c0, &a->c0);
	fp_half(&r->c1, &a->c1);
}
void fp2_inv(fp2 *r, const fp2 *a);
bool fp2_sqrt_vartime(fp2 *r, const fp2 *a); /* public inputs only (decoding) */
bool fp2_lexi_largest(const fp2 *a);         /* ZCash sort rule: compare c1, then c0 */
void fp2_frob(fp2 *r, const fp2 *a);         /* a^p = conjugate */

/* ----------------------------------------------------------- Fp6, Fp12 */

/* Wide Fp6 (three fp2w), for products reduced once (fp6.c). */
typedef struct {
	fp2w c0, c1, c2;
} fp6w;
void fp6w_mul(fp6w *r, const fp6 *a, const fp6 *b);
void fp6w_mul_01(fp6w *r, const fp6 *a, const fp2 *b0, const fp2 *b1); /* a (b0 + b1 v) */
void fp6w_mul_1(fp6w *r, const fp6 *a, const fp2 *b1);                 /* a (b1 v) */
void fp6w_sub(fp6w *r, const fp6w *a, const fp6w *b);
void fp6w_redc(fp6 *r, const fp6w *a);

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
/* Compressed form of a cyclotomic-subgroup element (Karabina): four of its
 * six Fp2 coefficients, enough to square repeatedly; fp12.c. */
typedef struct {
	fp2 g2, g3, g4, g5; /* c1.c0, c0.c2, c0.c1, c1.c2 */
} fp12c;
void fp12_compress(fp12c *r, const fp12 *f);
void fp12c_sqr(fp12c *r, const fp12c *a);
/* n elements back with one inversion; false if one has g2 = 0 (r is then
 * undefined; recompute without compression). Variable time in that test only:
 * for public values (the pairing's). */
bool fp12c_decompress(fp12 *r, const fp12c *a, size_t n);
#endif
