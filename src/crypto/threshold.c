/*
 * threshold.c — (t, n) threshold BLS (DESIGN §4): a dealer Shamir-shares a
 * random group secret over Fr with Feldman commitments in G2; partial
 * signatures are plain BLS signatures under share keys; t of them combine
 * by Lagrange interpolation at 0 (one batch inversion) into the group
 * signature.
 */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bls12_381/bls_internal.h"
#include "crypto/bls12_381/hash_to_curve.h"
#include "ctng/bls.h"
#include "ctng/meter.h"

#define DEAL_DST "CTNG-BLS-DEAL-V1"

/* Coefficient i of the polynomial: 48 uniform bytes reduced mod r, from the
 * seed (expand_message_xmd) or from the CSPRNG. */
static int coeff(fr *a, const uint8_t *seed, size_t seed_len, uint32_t i)
{
	uint8_t buf[48];
	int rc = 0;
	if (seed) {
		uint8_t *m = malloc(seed_len + 4);
		if (!m)
			return CTNG_ENOMEM;
		memcpy(m, seed, seed_len);
		m[seed_len] = (uint8_t)(i >> 24);
		m[seed_len + 1] = (uint8_t)(i >> 16);
		m[seed_len + 2] = (uint8_t)(i >> 8);
		m[seed_len + 3] = (uint8_t)i;
		if (bls_expand_message_xmd(buf, sizeof buf, m, seed_len + 4,
		                           (const uint8_t *)DEAL_DST, sizeof DEAL_DST - 1) != 0)
			rc = CTNG_EIO;
		ctng_wipe(m, seed_len + 4);
		free(m);
	} else if (RAND_bytes(buf, sizeof buf) != 1) {
		rc = CTNG_EIO;
	}
	if (rc == 0)
		fr_from_bytes_wide(a, buf, sizeof buf);
	ctng_wipe(buf, sizeof buf);
	return rc;
}

int ctng_bls_deal(uint32_t t, uint32_t n, const uint8_t *seed, size_t seed_len,
                  uint8_t group_pk[CTNG_BLS_PK_LEN], uint8_t (*commitments)[CTNG_BLS_PK_LEN],
                  ctng_bls_share *shares, ctng_err *err)
{
	if (t < 1 || t > n || n > CTNG_BLS_MAX_SHARES)
		return ctng_err_set(err, CTNG_ERANGE,
		                    "bls deal: need 1 <= t <= n <= %d (t=%u n=%u)",
		                    CTNG_BLS_MAX_SHARES, t, n);
	if (seed && seed_len < 32)
		return ctng_err_set(err, CTNG_EINVAL, "bls deal: seed must be at least 32 bytes");
	fr *a = calloc(t, sizeof *a);
	g2 *pts = NULL;
	g2_aff *aff = NULL;
	if (!a)
		return ctng_err_set(err, CTNG_ENOMEM, "bls deal: out of memory");
	int rc = 0;
	/* a_0 must be non-zero (the group key is never the identity); a re-draw
	 * happens with probability ~2^-255 and uses the next index. */
	uint32_t ctr = 0;
	do {
		rc = coeff(&a[0], seed, seed_len, ctr++);
	} while (rc == 0 && fr_is_zero(&a[0]) && ctr < 8);
	for (uint32_t i = 1; rc == 0 && i < t; i++)
		rc = coeff(&a[i], seed, seed_len, 0x10000u + i);
	if (rc != 0 || fr_is_zero(&a[0])) {
		rc = ctng_err_set(err, rc ? rc : CTNG_EIO, "bls deal: could not draw coefficients");
		goto out;
	}
	/* the t commitments a_i G2, then the n share keys f(j) G2, made affine
	 * together (one inversion) before they are encoded */
	pts = malloc((t + n) * sizeof *pts);
	aff = malloc((t + n) * sizeof *aff);
	if (!pts || !aff) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "bls deal: out of memory");
		goto out;
	}
	g2 g;
	g2_generator(&g);
	for (uint32_t i = 0; i < t; i++)
		g2_mul_ct(&pts[i], &g, &a[i]);
	for (uint32_t j = 0; j < n; j++) {
		fr x, y;
		fr_from_u64(&x, j + 1);
		y = a[t - 1]; /* Horner: f(x) */
		for (int64_t i = (int64_t)t - 2; i >= 0; i--) {
			fr_mul(&y, &y, &x);
			fr_add(&y, &y, &a[i]);
		}
		shares[j].id = j + 1;
		fr_to_bytes(shares[j].sk, &y);
		g2_mul_ct(&pts[t + j], &g, &y);
		ctng_wipe(&y, sizeof y);
	}
	g2_batch_to_affine(aff, pts, t + n);
	for (uint32_t i = 0; i < t + n; i++) {
		g2 q;
		g2_from_affine(&q, &aff[i]); /* Z = 1: compressing needs no inversion */
		g2_compress(i < t ? commitments[i] : shares[i - t].pk, &q);
	}
	memcpy(group_pk, commitments[0], CTNG_BLS_PK_LEN);
out:
	ctng_wipe(a, t * sizeof *a);
	free(a);
	if (pts)
		ctng_wipe(pts, (t + n) * sizeof *pts);
	free(pts);
	free(aff);
	return rc;
}

int ctng_bls_share_pk_from_commitments(uint8_t pk[CTNG_BLS_PK_LEN],
                                       const uint8_t (*commitments)[CTNG_BLS_PK_LEN], uint32_t t,
                                       uint32_t id, ctng_err *err)
{
	if (t < 1 || t > CTNG_BLS_MAX_SHARES)
		return ctng_err_set(err, CTNG_ERANGE, "bls: threshold out of range");
	if (id == 0)
		return ctng_err_set(err, CTNG_EINVAL, "bls: share id 0 is not allowed");
	g2 acc, c;
	uint64_t x = id;
	g2_identity(&acc);
	for (int64_t i = (int64_t)t - 1; i >= 0; i--) {
		/* commitments other than C_0 may legitimately be the identity */
		int rc = g2_decompress(&c, commitments[i]);
		if (rc != BLS_DEC_OK)
			return ctng_err_set(err, CTNG_EINVAL, "bls: commitment %lld: %s",
			                    (long long)i, bls_dec_str(rc));
		if (i == 0 && g2_is_identity(&c))
			return ctng_err_set(err, CTNG_EINVAL, "bls: commitment 0 is the identity");
		g2_mul_vartime(&acc, &acc, &x, 32);
		g2_add(&acc, &acc, &c);
	}
	if (g2_is_identity(&acc))
		return ctng_err_set(err, CTNG_EINVAL, "bls: share key is the identity");
	g2_compress(pk, &acc);
	return 0;
}

int ctng_bls_share_pks_from_commitments(uint8_t (*pks)[CTNG_BLS_PK_LEN],
                                        const uint8_t (*commitments)[CTNG_BLS_PK_LEN],
                                        uint32_t t, const uint32_t *ids, size_t n,
                                        ctng_err *err)
{
	if (t < 1 || t > CTNG_BLS_MAX_SHARES)
		return ctng_err_set(err, CTNG_ERANGE, "bls: threshold out of range");
	if (n == 0)
		return 0;
	g2 *c = malloc(t * sizeof *c), *acc = malloc(n * sizeof *acc);
	g2_aff *aff = malloc(n * sizeof *aff);
	int rc = c && acc && aff ? 0 : ctng_err_set(err, CTNG_ENOMEM, "bls: out of memory");
	/* the commitments decoded (and checked) once for all the shares */
	for (uint32_t i = 0; !rc && i < t; i++) {
		int d = g2_decompress(&c[i], commitments[i]);
		if (d != BLS_DEC_OK)
			rc = ctng_err_set(err, CTNG_EINVAL, "bls: commitment %u: %s", i, bls_dec_str(d));
		else if (i == 0 && g2_is_identity(&c[i]))
			rc = ctng_err_set(err, CTNG_EINVAL, "bls: commitment 0 is the identity");
	}
	for (size_t j = 0; !rc && j < n; j++) {
		if (ids[j] == 0) {
			rc = ctng_err_set(err, CTNG_EINVAL, "bls: share id 0 is not allowed");
			break;
		}
		/* Horner: sum id^i C_i, multiplying by the small public id */
		uint64_t x = ids[j];
		int bits = 0;
		while (bits < 64 && (x >> bits))
			bits++;
		acc[j] = c[t - 1];
		for (int64_t i = (int64_t)t - 2; i >= 0; i--) {
			g2_mul_vartime(&acc[j], &acc[j], &x, bits);
			g2_add(&acc[j], &acc[j], &c[i]);
		}
		if (g2_is_identity(&acc[j]))
			rc = ctng_err_set(err, CTNG_EINVAL, "bls: share key %u is the identity", ids[j]);
	}
	if (!rc) {
		g2_batch_to_affine(aff, acc, n);
		for (size_t j = 0; j < n; j++) {
			g2 q;
			g2_from_affine(&q, &aff[j]); /* Z = 1: compressing needs no inversion */
			g2_compress(pks[j], &q);
		}
	}
	free(c);
	free(acc);
	free(aff);
	return rc;
}

int ctng_bls_partial_verify(const uint8_t share_pk[CTNG_BLS_PK_LEN], const uint8_t *msg, size_t len,
                            const uint8_t partial[CTNG_BLS_SIG_LEN], const char *dst, ctng_err *err)
{
	return ctng_bls_verify(share_pk, msg, len, partial, dst, err);
}

int ctng_bls_combine(uint8_t sig[CTNG_BLS_SIG_LEN], const uint32_t *ids,
                     const uint8_t (*partials)[CTNG_BLS_SIG_LEN], size_t count, uint32_t t,
                     ctng_err *err)
{
	if (t < 1 || t > CTNG_BLS_MAX_SHARES)
		return ctng_err_set(err, CTNG_ERANGE, "bls combine: threshold out of range");
	if (count < t)
		return ctng_err_set(err, CTNG_EINVAL, "bls combine: %zu partials, need %u", count,
		                    t);
	for (size_t i = 0; i < t; i++) {
		if (ids[i] == 0)
			return ctng_err_set(err, CTNG_EINVAL, "bls combine: share id 0");
		for (size_t j = 0; j < i; j++)
			if (ids[i] == ids[j])
				return ctng_err_set(err, CTNG_EINVAL,
				                    "bls combine: duplicate share id %u", ids[i]);
	}
	ctng_meter_count(CTNG_METER_BLS_COMBINE, 1);
	ctng_meter_count(CTNG_METER_BLS_COMBINE_SHARE, t);
	g1 *pts = malloc(t * sizeof *pts);
	fr *lam = malloc(t * sizeof *lam), *x = malloc(t * sizeof *x),
	   *pre = malloc(t * sizeof *pre);
	int rc = 0;
	if (!pts || !lam || !x || !pre) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "bls combine: out of memory");
		goto out;
	}
	for (size_t i = 0; i < t; i++) {
		if ((rc = bls_sig_decode(&pts[i], partials[i], err)) != 0) {
			ctng_err_wrap(err, "partial from share %u", ids[i]);
			goto out;
		}
		fr_from_u64(&x[i], ids[i]);
	}
	/* lambda_i = prod_{j != i} x_j / (x_j - x_i) = N / (x_i * d_i) with
	 * N = prod x_j and d_i = prod_{j != i} (x_j - x_i). */
	fr N = BLS_FR_ONE;
	for (size_t i = 0; i < t; i++)
		fr_mul(&N, &N, &x[i]);
	for (size_t i = 0; i < t; i++) {
		fr d = x[i], diff;
		for (size_t j = 0; j < t; j++) {
			if (j == i)
				continue;
			fr_sub(&diff, &x[j], &x[i]);
			fr_mul(&d, &d, &diff);
		}
		lam[i] = d; /* x_i * d_i, non-zero since ids are distinct and < r */
	}
	/* batch inversion (Montgomery's trick) */
	fr acc = BLS_FR_ONE, inv;
	for (size_t i = 0; i < t; i++) {
		pre[i] = acc;
		fr_mul(&acc, &acc, &lam[i]);
	}
	fr_inv(&inv, &acc);
	for (size_t i = t; i-- > 0;) {
		fr li;
		fr_mul(&li, &inv, &pre[i]);
		fr_mul(&inv, &inv, &lam[i]);
		fr_mul(&lam[i], &li, &N);
	}
	g1 s;
	if (g1_msm_vartime(&s, pts, lam, t) != 0) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "bls combine: out of memory");
		goto out;
	}
	if (g1_is_identity(&s)) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "bls combine: result is the identity");
		goto out;
	}
	g1_compress(sig, &s);
out:
	free(pts);
	free(lam);
	free(x);
	free(pre);
	return rc;
}
