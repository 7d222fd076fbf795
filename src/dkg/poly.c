/*
 * poly.c — the arithmetic of the DKG over BLS12-381 (docs/dkg.md §2): random
 * polynomials over Fr, Feldman commitments in G2, the Feldman check of a
 * share, Lagrange coefficients at 0 for resharing, and batch compression.
 * Uses the curve library of src/crypto/bls12_381 (its internal API, read
 * only). Secret coefficients and shares only go through constant-time field
 * operations and g2_mul_ct; commitments and indices are public, so their
 * arithmetic may take variable time.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/bls12_381/hash_to_curve.h"
#include "dkg/dkg_internal.h"

/* 48 uniform bytes reduced mod r: from the seed (tests) or the CSPRNG. */
static int draw(fr *a, const uint8_t *seed, size_t seed_len, uint32_t ctr, uint32_t i)
{
	uint8_t buf[48];
	int rc = 0;
	if (seed) {
		uint8_t m[128 + 8];
		if (seed_len > 128)
			return CTNG_EINVAL;
		memcpy(m, seed, seed_len);
		for (int k = 0; k < 4; k++) {
			m[seed_len + k] = (uint8_t)(ctr >> (24 - 8 * k));
			m[seed_len + 4 + k] = (uint8_t)(i >> (24 - 8 * k));
		}
		if (bls_expand_message_xmd(buf, sizeof buf, m, seed_len + 8,
		                           (const uint8_t *)DKG_SEED_DST,
		                           sizeof DKG_SEED_DST - 1) != 0)
			rc = CTNG_EIO;
		ctng_wipe(m, sizeof m);
	} else if (ctng_random(buf, sizeof buf) != 0) {
		rc = CTNG_EIO;
	}
	if (rc == 0)
		fr_from_bytes_wide(a, buf, sizeof buf);
	ctng_wipe(buf, sizeof buf);
	return rc;
}

int dkg_coeffs(fr *a, uint32_t t, const fr *a0, const uint8_t *seed, size_t seed_len,
               uint32_t seed_ctr, ctng_err *err)
{
	int rc = 0;
	if (a0) {
		a[0] = *a0;
	} else {
		/* a_0 = 0 would make this dealer's part of the key the identity;
		 * a redraw happens with probability 2^-255 */
		uint32_t k = 0;
		do
			rc = draw(&a[0], seed, seed_len, seed_ctr, 0x10000u + k++);
		while (rc == 0 && fr_is_zero(&a[0]) && k < 8);
		if (rc == 0 && fr_is_zero(&a[0]))
			rc = CTNG_EIO;
	}
	for (uint32_t i = 1; rc == 0 && i < t; i++)
		rc = draw(&a[i], seed, seed_len, seed_ctr, i);
	if (rc) {
		ctng_wipe(a, t * sizeof *a);
		return ctng_err_set(err, rc, "dkg: cannot draw polynomial coefficients");
	}
	return 0;
}

void dkg_poly_eval(fr *out, const fr *a, uint32_t t, uint32_t x)
{
	fr xf, y = a[t - 1];
	fr_from_u64(&xf, x);
	for (int64_t i = (int64_t)t - 2; i >= 0; i--) {
		fr_mul(&y, &y, &xf);
		fr_add(&y, &y, &a[i]);
	}
	*out = y;
	ctng_wipe(&y, sizeof y);
}

void dkg_commit_eval(g2 *out, const g2 *c, uint32_t t, uint32_t x)
{
	uint64_t k = x;
	int bits = 0;
	while (bits < 32 && (k >> bits))
		bits++;
	g2 acc = c[t - 1];
	for (int64_t i = (int64_t)t - 2; i >= 0; i--) {
		g2_mul_vartime(&acc, &acc, &k, bits);
		g2_add(&acc, &acc, &c[i]);
	}
	*out = acc;
}

bool dkg_share_ok(const g2 *c, uint32_t t, uint32_t x, const fr *s)
{
	g2 want, got, gen;
	dkg_commit_eval(&want, c, t, x);
	g2_generator(&gen);
	g2_mul_ct(&got, &gen, s);
	return g2_eq(&got, &want);
}

void dkg_lagrange0(fr *lam, const uint32_t *xs, size_t n)
{
	/* lambda_i = prod_{j != i} x_j / (x_j - x_i); denominators inverted one
	 * by one (n is at most a few hundred and this runs once per DKG) */
	for (size_t i = 0; i < n; i++) {
		fr num = BLS_FR_ONE, den = BLS_FR_ONE, xi, xj, d;
		fr_from_u64(&xi, xs[i]);
		for (size_t j = 0; j < n; j++) {
			if (j == i)
				continue;
			fr_from_u64(&xj, xs[j]);
			fr_mul(&num, &num, &xj);
			fr_sub(&d, &xj, &xi);
			fr_mul(&den, &den, &d);
		}
		fr_inv(&den, &den);
		fr_mul(&lam[i], &num, &den);
	}
}

int dkg_compress_many(uint8_t (*out)[96], const g2 *pts, size_t n)
{
	g2_aff *aff = malloc((n ? n : 1) * sizeof *aff);
	if (!aff)
		return CTNG_ENOMEM;
	g2_batch_to_affine(aff, pts, n);
	for (size_t i = 0; i < n; i++) {
		g2 q;
		g2_from_affine(&q, &aff[i]);
		g2_compress(out[i], &q);
	}
	free(aff);
	return 0;
}
