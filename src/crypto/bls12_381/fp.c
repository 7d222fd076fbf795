/*
 * fp.c — BLS12-381 base field Fp: the choice of the primitives' implementation,
 * conversions, exponentiation and square roots (inversion is in inv.c).
 *
 * Square roots are exponentiations by a public constant along a fixed
 * addition chain, so they run in constant time for secret inputs.
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

#if BLS_HAVE_ADX_ASM
#include <cpuid.h>

int bls_use_adx;

/* CPUID leaf 7: EBX bit 8 = BMI2 (mulx), bit 19 = ADX (adcx/adox). */
static int cpu_has_adx(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b >> 8 & 1) && (b >> 19 & 1);
}

__attribute__((constructor)) static void detect_adx(void)
{
	bls_use_adx = cpu_has_adx();
}
#endif

void bls_set_adx(int on)
{
#if BLS_HAVE_ADX_ASM
	bls_use_adx = on && cpu_has_adx();
#else
	(void)on;
#endif
}

void fp_half(fp *r, const fp *a)
{
	/* (a + (a odd ? p : 0)) / 2, masked; a + p < 2^383 fits in 6 limbs */
	uint64_t mask = 0 - (a->l[0] & 1), t[6], carry = 0;
	for (int i = 0; i < 6; i++) {
		bls_u128 v = (bls_u128)a->l[i] + (BLS_P[i] & mask) + carry;
		t[i] = (uint64_t)v;
		carry = (uint64_t)(v >> 64);
	}
	for (int i = 0; i < 5; i++)
		r->l[i] = (t[i] >> 1) | (t[i + 1] << 63);
	r->l[5] = t[5] >> 1;
}

void fp_from_raw(fp *r, const uint64_t raw[6])
{
	fp t;
	memcpy(t.l, raw, sizeof t.l);
	fp_mul(r, &t, &BLS_FP_R2);
}

void fp_to_raw(uint64_t raw[6], const fp *a)
{
	fp one = {{1, 0, 0, 0, 0, 0}}, t;
	fp_mul(&t, a, &one);
	memcpy(raw, t.l, sizeof t.l);
}

void fp_from_u64(fp *r, uint64_t v)
{
	uint64_t raw[6] = {v, 0, 0, 0, 0, 0};
	fp_from_raw(r, raw);
}

static void be_to_limbs(uint64_t *l, const uint8_t *in, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | in[(n - 1 - i) * 8 + j];
		l[i] = w;
	}
}

static void limbs_to_be(uint8_t *out, const uint64_t *l, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < 8; j++)
			out[(n - 1 - i) * 8 + j] = (uint8_t)(l[i] >> (56 - 8 * j));
}

/* Constant time: 1 when a < m. */
static uint64_t limbs_lt(const uint64_t *a, const uint64_t *m, int n)
{
	uint64_t borrow = 0;
	for (int j = 0; j < n; j++) {
		bls_u128 d = (bls_u128)a[j] - m[j] - borrow;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	return borrow;
}

bool fp_from_bytes(fp *r, const uint8_t in[48])
{
	uint64_t raw[6];
	be_to_limbs(raw, in, 6);
	if (!limbs_lt(raw, BLS_P, 6))
		return false;
	fp_from_raw(r, raw);
	return true;
}

void fp_to_bytes(uint8_t out[48], const fp *a)
{
	uint64_t raw[6];
	fp_to_raw(raw, a);
	limbs_to_be(out, raw, 6);
}

void fp_from_bytes_wide(fp *r, const uint8_t in[64])
{
	/* in = hi * 2^256 + lo with hi, lo < 2^256 < p */
	uint64_t hi[6] = {0}, lo[6] = {0};
	be_to_limbs(hi, in, 4);
	be_to_limbs(lo, in + 32, 4);
	fp h, l;
	fp_from_raw(&h, hi);
	fp_from_raw(&l, lo);
	fp_mul(&h, &h, &BLS_FP_2POW256);
	fp_add(r, &h, &l);
}

void fp_pow_p34(fp *r, const fp *a)
{
	/* the addition chain of gen_consts.py: the odd powers a^1..a^31, then
	 * BLS_P34_CHAIN's (squarings, power) steps. The chain is public: the
	 * steps and table indices never depend on a. */
	fp tab[16], a2, acc;
	tab[0] = *a;
	fp_sqr(&a2, a);
	for (int i = 1; i < 16; i++)
		fp_mul(&tab[i], &tab[i - 1], &a2);
	acc = tab[BLS_P34_CHAIN[0][1]];
	for (int s = 1; s < BLS_P34_CHAIN_LEN; s++) {
		for (int k = 0; k < BLS_P34_CHAIN[s][0]; k++)
			fp_sqr(&acc, &acc);
		if (BLS_P34_CHAIN[s][1] != 255)
			fp_mul(&acc, &acc, &tab[BLS_P34_CHAIN[s][1]]);
	}
	*r = acc;
	bls_wipe(tab, sizeof tab);
}

bool fp_sqrt(fp *r, const fp *a)
{
	/* p = 3 mod 4: s = a^((p+1)/4) = a^((p-3)/4) a */
	fp s, c;
	fp_pow_p34(&s, a);
	fp_mul(&s, &s, a);
	fp_sqr(&c, &s);
	if (!fp_eq(&c, a))
		return false;
	*r = s;
	return true;
}

bool fp_is_square(const fp *a)
{
	/* Euler: a^((p-1)/2) = (a^((p-3)/4))^2 a is 0 or 1 for squares */
	fp t;
	fp_pow_p34(&t, a);
	fp_sqr(&t, &t);
	fp_mul(&t, &t, a);
	return fp_is_zero(&t) || fp_eq(&t, &BLS_FP_ONE);
}

int fp_sgn0(const fp *a)
{
	uint64_t raw[6];
	fp_to_raw(raw, a);
	return (int)(raw[0] & 1);
}

bool fp_lexi_largest(const fp *a)
{
	uint64_t raw[6];
	fp_to_raw(raw, a);
	/* a > (p-1)/2  <=>  (p-1)/2 < a */
	return limbs_lt(BLS_P_MINUS1_DIV2, raw, 6) != 0;
}

/* ------------------------------------------------------------------ Fr */

void fr_from_u64(fr *r, uint64_t v)
{
	fr t = {{v, 0, 0, 0}};
	fr_mul(r, &t, &BLS_FR_R2);
}

bool fr_from_bytes(fr *r, const uint8_t in[32])
{
	fr t;
	be_to_limbs(t.l, in, 4);
	uint64_t ok = limbs_lt(t.l, BLS_R, 4);
	fr_mul(&t, &t, &BLS_FR_R2);
	if (ok) /* validity is public: an invalid key is an error */
		*r = t;
	bls_wipe(&t, sizeof t);
	return ok != 0;
}

void fr_to_raw(uint64_t raw[4], const fr *a)
{
	fr one = {{1, 0, 0, 0}}, t;
	fr_mul(&t, a, &one);
	memcpy(raw, t.l, sizeof t.l);
	bls_wipe(&t, sizeof t);
}

void fr_to_bytes(uint8_t out[32], const fr *a)
{
	uint64_t raw[4];
	fr_to_raw(raw, a);
	limbs_to_be(out, raw, 4);
}

void fr_from_bytes_wide(fr *r, const uint8_t *in, size_t len)
{
	/* big-endian, len <= 64: value = hi * 2^256 + lo. hi and lo (< 2^256 < 3r)
	 * are first reduced below r by two masked subtractions; then
	 * lo*R2/R = lo*R and hi*R3/R = hi*2^256*R (Montgomery forms). */
	uint8_t buf[64] = {0};
	if (len > 64)
		len = 64;
	memcpy(buf + 64 - len, in, len);
	fr hi, lo;
	be_to_limbs(hi.l, buf, 4);
	be_to_limbs(lo.l, buf + 32, 4);
	const uint64_t zero[4] = {0, 0, 0, 0};
	for (int i = 0; i < 2; i++) {
		bls_mod_add(hi.l, hi.l, zero, BLS_R, 4);
		bls_mod_add(lo.l, lo.l, zero, BLS_R, 4);
	}
	fr_mul(&lo, &lo, &BLS_FR_R2);
	fr_mul(&hi, &hi, &BLS_FR_R3);
	fr_add(r, &hi, &lo);
	bls_wipe(buf, sizeof buf);
	bls_wipe(&hi, sizeof hi);
	bls_wipe(&lo, sizeof lo);
}
