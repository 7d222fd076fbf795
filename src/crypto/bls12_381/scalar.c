/*
 * scalar.c — constant-time scalar preparation for the endomorphism scalar
 * multiplications of g1.c and g2.c: the split of a scalar k < r into four
 * digits in base |x| (r = x^4 - x^2 + 1 < x^4, so four digits below |x|
 * suffice and no lattice rounding is needed), and the signed base-32
 * recoding of the resulting short scalars.
 *
 * Constant time: the divisions use a precomputed reciprocal of |x|
 * (Moller-Granlund, "Improved division by invariant integers", 2011) with
 * masked corrections instead of the variable-time div instruction; recoding
 * is a fixed loop over masks.
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/curve.h"

/* floor((2^128 - 1) / |x|) - 2^64; |x| has its top bit set (normalized) */
#define X_RECIP 0x381204ca56cd56b5ULL

/* (u1 2^64 + u0) / |x| for u1 < |x|: quotient, *rem = remainder */
static uint64_t div_2by1(uint64_t *rem, uint64_t u1, uint64_t u0)
{
	const uint64_t d = BLS_X_ABS;
	bls_u128 q = (bls_u128)X_RECIP * u1 + (((bls_u128)u1 << 64) | u0); /* < 2^128 */
	uint64_t q1 = (uint64_t)(q >> 64) + 1, q0 = (uint64_t)q;
	uint64_t r = u0 - q1 * d;
	/* r > q0: one too many (wrapped r); the first correction */
	uint64_t m = 0 - (uint64_t)(((bls_u128)q0 - r) >> 127);
	q1 += m;
	r += d & m;
	/* r >= d: one too few (rare) */
	m = ~(0 - (uint64_t)(((bls_u128)r - d) >> 127));
	q1 -= m;
	r -= d & m;
	*rem = r;
	return q1;
}

/* n (4 limbs) = n / |x|, returns n mod |x| */
static uint64_t divmod_x(uint64_t n[4])
{
	uint64_t r = 0;
	for (int i = 3; i >= 0; i--)
		n[i] = div_2by1(&r, r, n[i]);
	return r;
}

void bls_scalar_split_x(uint64_t d[4], const uint64_t k[4])
{
	uint64_t n[4] = {k[0], k[1], k[2], k[3]};
	d[0] = divmod_x(n);
	d[1] = divmod_x(n);
	d[2] = divmod_x(n);
	d[3] = n[0]; /* k < r < x^4: the quotient is below |x|, n[1..3] = 0 */
	bls_wipe(n, sizeof n);
}

void bls_recode_w5(int8_t *dig, int ndig, const uint64_t *n, int limbs)
{
	uint64_t carry = 0;
	for (int i = 0; i < ndig; i++) {
		int bit = 5 * i, w = bit / 64, sh = bit % 64; /* public positions */
		uint64_t b = w < limbs ? n[w] >> sh : 0;
		if (sh > 59 && w + 1 < limbs)
			b |= n[w + 1] << (64 - sh);
		b = (b & 31) + carry;  /* 0..32 */
		carry = (b + 15) >> 5; /* digits above 16 borrow from the next */
		dig[i] = (int8_t)((int64_t)b - (int64_t)(carry << 5));
	}
}
