/*
 * pok.c — every deal's proof of knowledge of its dealer's secret a_0
 * (docs/dkg.md §2 and §9, docs/protocol.md §10): a Schnorr proof in G2 for
 * C_0 = a_0*G2, made non-interactive by Fiat-Shamir over the session, the
 * dealer's id, C_0 and the commitment R, as in FROST's key generation.
 *
 * Why: without it joint-Feldman falls to a rogue key whenever the honest
 * recipients are at most t - 1 (n <= 2t - 2 with t - 1 corrupted): the last
 * corrupted dealer commits to C_0 = x*G2 - (the other dealers' C_0), solves
 * its other t - 1 commitments in the exponent so that the shares it sends
 * every honest recipient verify, qualifies, and the group key is x*G2 — a
 * group secret known to fewer than t gossipers. With the proof a dealer must
 * know the discrete log of its C_0, so the honest dealers' parts stay in the
 * group secret (tests/dkg/test_dkg_attacks.c).
 *
 * The nonce is derived from a_0, the session and the dealer (a deal is
 * always made from the same a_0 within a session, so the same inputs give
 * the same proof and a nonce never meets two challenges). Secret values go
 * through constant-time field operations and g2_mul_ct only; verification
 * handles public values and may take variable time.
 */
#include <openssl/evp.h>
#include <string.h>

#include "dkg/dkg_internal.h"

#define POK_LABEL "CTNG-DKG-V1 pok"
#define POK_NONCE "CTNG-DKG-V1 pok nonce"

/* fr from SHA-512(label || a || session || lp32(dealer) || b || c), 64 bytes
 * reduced mod r (bias 2^-256). */
static int hash_fr(fr *out, const char *label, const uint8_t *a, size_t alen,
                   const uint8_t session[32], const char *dealer, const uint8_t *b, size_t blen,
                   const uint8_t *c, size_t clen)
{
	uint8_t d[64], lp[4];
	size_t dl = strlen(dealer);
	for (int i = 0; i < 4; i++)
		lp[i] = (uint8_t)(dl >> (24 - 8 * i));
	unsigned int hl = sizeof d;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, EVP_sha512(), NULL) == 1 &&
	         EVP_DigestUpdate(h, label, strlen(label)) == 1 &&
	         EVP_DigestUpdate(h, a, alen) == 1 && EVP_DigestUpdate(h, session, 32) == 1 &&
	         EVP_DigestUpdate(h, lp, 4) == 1 && EVP_DigestUpdate(h, dealer, dl) == 1 &&
	         EVP_DigestUpdate(h, b, blen) == 1 && EVP_DigestUpdate(h, c, clen) == 1 &&
	         EVP_DigestFinal_ex(h, d, &hl) == 1;
	EVP_MD_CTX_free(h);
	if (ok)
		fr_from_bytes_wide(out, d, sizeof d);
	ctng_wipe(d, sizeof d);
	return ok ? 0 : CTNG_EIO;
}

int dkg_pok_prove(uint8_t r_out[96], uint8_t z_out[32], const fr *a0, const uint8_t c0[96],
                  const uint8_t session[32], const char *dealer, ctng_err *err)
{
	uint8_t ab[32];
	fr k, c, z;
	g2 gen, r;
	fr_to_bytes(ab, a0);
	int rc = hash_fr(&k, POK_NONCE, ab, 32, session, dealer, (const uint8_t *)"", 0,
	                 (const uint8_t *)"", 0);
	ctng_wipe(ab, sizeof ab);
	if (!rc && fr_is_zero(&k))
		rc = CTNG_EIO; /* probability 2^-255 */
	if (!rc) {
		g2_generator(&gen);
		g2_mul_ct(&r, &gen, &k);
		g2_compress(r_out, &r);
		rc = hash_fr(&c, POK_LABEL, (const uint8_t *)"", 0, session, dealer, c0, 96, r_out,
		             96);
	}
	if (!rc) {
		fr_mul(&z, &c, a0);
		fr_add(&z, &z, &k);
		fr_to_bytes(z_out, &z);
	}
	ctng_wipe(&k, sizeof k);
	ctng_wipe(&z, sizeof z);
	return rc ? ctng_err_set(err, rc, "dkg: cannot make the proof of knowledge") : 0;
}

bool dkg_pok_ok(const g2 *c0, const uint8_t c0c[96], const uint8_t rc_[96], const uint8_t zb[32],
                const uint8_t session[32], const char *dealer)
{
	g2 r, p, pts[2];
	fr z, c, k[2], zero;
	if (g2_decompress(&r, rc_) != BLS_DEC_OK || !fr_from_bytes(&z, zb) ||
	    hash_fr(&c, POK_LABEL, (const uint8_t *)"", 0, session, dealer, c0c, 96, rc_, 96))
		return false;
	/* z*G2 - c*C_0 == R */
	fr_from_u64(&zero, 0);
	g2_generator(&pts[0]);
	pts[1] = *c0;
	k[0] = z;
	fr_sub(&k[1], &zero, &c);
	if (g2_msm_vartime(&p, pts, k, 2) != 0)
		return false;
	return g2_eq(&p, &r);
}

int ctng_dkg_pok_prove(uint8_t r[96], uint8_t z[32], const uint8_t a0[32],
                       const uint8_t session[32], const char *dealer, ctng_err *err)
{
	fr a;
	if (!fr_from_bytes(&a, a0) || fr_is_zero(&a))
		return ctng_err_set(err, CTNG_EINVAL, "dkg: a_0 must be a non-zero scalar below r");
	g2 gen, c0;
	uint8_t c0c[96];
	g2_generator(&gen);
	g2_mul_ct(&c0, &gen, &a);
	g2_compress(c0c, &c0);
	int rc = dkg_pok_prove(r, z, &a, c0c, session, dealer, err);
	ctng_wipe(&a, sizeof a);
	return rc;
}

int ctng_dkg_pok_verify(const uint8_t c0[96], const uint8_t r[96], const uint8_t z[32],
                        const uint8_t session[32], const char *dealer, ctng_err *err)
{
	g2 p;
	if (g2_decompress(&p, c0) != BLS_DEC_OK || !dkg_pok_ok(&p, c0, r, z, session, dealer))
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "dkg: proof of knowledge of a_0 does not verify");
	return 0;
}
