/*
 * bls.c — BLS signatures on BLS12-381, minimal-signature-size variant with
 * proof of possession (draft-irtf-cfrg-bls-signature-05, ciphersuite
 * BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_): KeyGen, SkToPk, Sign, Verify,
 * Aggregate, FastAggregateVerify, PopProve/PopVerify and batch verification.
 *
 * Secret keys are only ever used through constant-time scalar multiplication
 * (g1_mul_ct / g2_mul_ct) and are wiped from the stack before returning.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bls12_381/bls_internal.h"
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/hash_to_curve.h"
#include "crypto/bls12_381/pairing.h"
#include "ctng/bls.h"
#include "ctng/meter.h"

int bls_sk_load(fr *k, const uint8_t sk[32], ctng_err *err)
{
	/* Range check is a comparison on the secret, but only its validity (which
	 * is public: invalid keys are rejected) leaks. */
	if (!fr_from_bytes(k, sk) || fr_is_zero(k)) {
		ctng_wipe(k, sizeof *k);
		return ctng_err_set(err, CTNG_EINVAL, "bls: secret key not in [1, r-1]");
	}
	return 0;
}

int bls_pk_decode(g2 *q, const uint8_t pk[96], ctng_err *err)
{
	int rc = g2_decompress(q, pk);
	if (rc != BLS_DEC_OK)
		return ctng_err_set(err, CTNG_EINVAL, "bls: public key: %s", bls_dec_str(rc));
	if (g2_is_identity(q))
		return ctng_err_set(err, CTNG_EINVAL, "bls: public key is the identity");
	return 0;
}

int bls_sig_decode(g1 *p, const uint8_t sig[48], ctng_err *err)
{
	int rc = g1_decompress(p, sig);
	if (rc != BLS_DEC_OK)
		return ctng_err_set(err, CTNG_EINVAL, "bls: signature: %s", bls_dec_str(rc));
	if (g1_is_identity(p))
		return ctng_err_set(err, CTNG_EINVAL, "bls: signature is the identity");
	return 0;
}

int bls_dst(const char *dst, const uint8_t **d, size_t *len, ctng_err *err)
{
	if (!dst)
		dst = CTNG_BLS_DST_POP;
	size_t n = strlen(dst);
	if (n == 0 || n > CTNG_BLS_MAX_DST_LEN)
		return ctng_err_set(err, CTNG_EINVAL, "bls: DST must be 1..255 bytes");
	*d = (const uint8_t *)dst;
	*len = n;
	return 0;
}

/* pk = k * G2 (constant time), compressed. */
static void sk_to_pk_point(uint8_t pk[96], const fr *k)
{
	g2 g, q;
	g2_generator(&g);
	g2_mul_ct(&q, &g, k);
	g2_compress(pk, &q);
	ctng_wipe(&q, sizeof q);
}

int ctng_bls_keygen(uint8_t sk[CTNG_BLS_SK_LEN], const uint8_t *ikm, size_t ikm_len, ctng_err *err)
{
	if (!ikm || ikm_len < 32)
		return ctng_err_set(err, CTNG_EINVAL, "bls keygen: IKM must be at least 32 bytes");
	uint8_t salt[32], *ikm0 = malloc(ikm_len + 1);
	static const char salt0[] = "BLS-SIG-KEYGEN-SALT-";
	uint8_t okm[48], info[2] = {0, 48};
	int rc = 0;
	if (!ikm0)
		return ctng_err_set(err, CTNG_ENOMEM, "bls keygen: out of memory");
	memcpy(ikm0, ikm, ikm_len);
	ikm0[ikm_len] = 0; /* IKM || I2OSP(0, 1) */
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	const uint8_t *sp = (const uint8_t *)salt0;
	size_t slen = sizeof salt0 - 1;
	fr k;
	memset(&k, 0, sizeof k);
	for (int iter = 0; fr_is_zero(&k); iter++) {
		unsigned int hl = 0;
		/* salt = H(salt) */
		if (iter > 64 || !kdf || EVP_Digest(sp, slen, salt, &hl, EVP_sha256(), NULL) != 1) {
			rc = ctng_err_set(err, CTNG_EIO, "bls keygen: HKDF failure");
			break;
		}
		sp = salt;
		slen = 32;
		EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm0, ikm_len + 1),
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, 32),
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 2),
		    OSSL_PARAM_construct_end(),
		};
		int ok = ctx && EVP_KDF_derive(ctx, okm, sizeof okm, params) == 1;
		EVP_KDF_CTX_free(ctx);
		if (!ok) {
			rc = ctng_err_set(err, CTNG_EIO, "bls keygen: HKDF failure");
			break;
		}
		fr_from_bytes_wide(&k, okm, sizeof okm); /* OS2IP(OKM) mod r */
	}
	EVP_KDF_free(kdf);
	if (rc == 0)
		fr_to_bytes(sk, &k);
	ctng_wipe(&k, sizeof k);
	ctng_wipe(okm, sizeof okm);
	ctng_wipe(ikm0, ikm_len + 1);
	free(ikm0);
	return rc;
}

int ctng_bls_keygen_random(uint8_t sk[CTNG_BLS_SK_LEN], ctng_err *err)
{
	uint8_t ikm[32];
	if (RAND_bytes(ikm, sizeof ikm) != 1)
		return ctng_err_set(err, CTNG_EIO, "bls keygen: no randomness");
	int rc = ctng_bls_keygen(sk, ikm, sizeof ikm, err);
	ctng_wipe(ikm, sizeof ikm);
	return rc;
}

int ctng_bls_sk_check(const uint8_t sk[CTNG_BLS_SK_LEN], ctng_err *err)
{
	fr k;
	int rc = bls_sk_load(&k, sk, err);
	ctng_wipe(&k, sizeof k);
	return rc;
}

int ctng_bls_sk_to_pk(uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t sk[CTNG_BLS_SK_LEN], ctng_err *err)
{
	fr k;
	int rc = bls_sk_load(&k, sk, err);
	if (rc)
		return rc;
	sk_to_pk_point(pk, &k);
	ctng_wipe(&k, sizeof k);
	return 0;
}

int ctng_bls_pk_check(const uint8_t pk[CTNG_BLS_PK_LEN], ctng_err *err)
{
	g2 q;
	return bls_pk_decode(&q, pk, err);
}

int ctng_bls_sig_check(const uint8_t sig[CTNG_BLS_SIG_LEN], ctng_err *err)
{
	g1 p;
	return bls_sig_decode(&p, sig, err);
}

int ctng_bls_hash_to_g1(uint8_t out[CTNG_BLS_SIG_LEN], const uint8_t *msg, size_t len,
                        const char *dst, ctng_err *err)
{
	const uint8_t *d = NULL;
	size_t dl = 0;
	g1 h;
	int rc = bls_dst(dst, &d, &dl, err);
	if (rc)
		return rc;
	if (bls_hash_to_g1(&h, msg, len, d, dl) != 0)
		return ctng_err_set(err, CTNG_EIO, "bls: hash_to_curve failed");
	g1_compress(out, &h);
	return 0;
}

int ctng_bls_sign(uint8_t sig[CTNG_BLS_SIG_LEN], const uint8_t sk[CTNG_BLS_SK_LEN],
                  const uint8_t *msg, size_t len, const char *dst, ctng_err *err)
{
	const uint8_t *d = NULL;
	size_t dl = 0;
	fr k;
	g1 h, s;
	int rc = bls_dst(dst, &d, &dl, err);
	if (rc)
		return rc;
	if ((rc = bls_sk_load(&k, sk, err)) != 0)
		return rc;
	ctng_meter_count(CTNG_METER_BLS_SIGN, 1);
	if (bls_hash_to_g1(&h, msg, len, d, dl) != 0) {
		ctng_wipe(&k, sizeof k);
		return ctng_err_set(err, CTNG_EIO, "bls: hash_to_curve failed");
	}
	g1_mul_ct(&s, &h, &k);
	g1_compress(sig, &s);
	ctng_wipe(&k, sizeof k);
	ctng_wipe(&s, sizeof s);
	return 0;
}

/* e(sig, -G2) * e(H, pk) == 1; the -G2 lines are precomputed once. */
static int core_verify(const g2 *pk, const g1 *h, const g1 *sig, ctng_err *err)
{
	g1_aff S, H;
	g2_aff Q;
	g1_to_affine(&S, sig);
	g1_to_affine(&H, h);
	g2_to_affine(&Q, pk);
	if (!bls_pairing_check_gen(&S, &H, &Q, 1))
		return ctng_err_set(err, CTNG_EVERIFY, "bls: signature does not verify");
	return 0;
}

static int verify_dst(const g2 *pk, const uint8_t *msg, size_t len, const g1 *sig, const uint8_t *d,
                      size_t dl, ctng_err *err)
{
	g1 h;
	if (bls_hash_to_g1(&h, msg, len, d, dl) != 0)
		return ctng_err_set(err, CTNG_EIO, "bls: hash_to_curve failed");
	return core_verify(pk, &h, sig, err);
}

/* Counts a verification of well-formed inputs and consults the meter's memo
 * (ctng/meter.h): 1 with *rc when the outcome of these exact inputs is known. */
static int verify_memo(ctng_meter_key *key, const uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t *d,
                       size_t dl, const uint8_t *msg, size_t len,
                       const uint8_t sig[CTNG_BLS_SIG_LEN], int *rc, ctng_err *err)
{
	ctng_meter_count(CTNG_METER_BLS_VERIFY, 1);
	key->active = 0;
	if (!ctng_meter_memo_active())
		return 0;
	const void *parts[] = {"B", pk, d, msg, sig};
	const size_t lens[] = {1, CTNG_BLS_PK_LEN, dl, len, CTNG_BLS_SIG_LEN};
	if (!ctng_meter_memo_lookup(key, parts, lens, 5, rc))
		return 0;
	if (*rc)
		ctng_err_set(err, CTNG_EVERIFY, "bls: signature does not verify");
	return 1;
}

int ctng_bls_verify(const uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t *msg, size_t len,
                    const uint8_t sig[CTNG_BLS_SIG_LEN], const char *dst, ctng_err *err)
{
	const uint8_t *d = NULL;
	size_t dl = 0;
	g2 q;
	g1 s;
	int rc;
	if ((rc = bls_dst(dst, &d, &dl, err)) || (rc = bls_pk_decode(&q, pk, err)) ||
	    (rc = bls_sig_decode(&s, sig, err)))
		return rc;
	ctng_meter_key key;
	if (verify_memo(&key, pk, d, dl, msg, len, sig, &rc, err))
		return rc;
	rc = verify_dst(&q, msg, len, &s, d, dl, err);
	ctng_meter_memo_store(&key, rc);
	return rc;
}

int ctng_bls_aggregate(uint8_t out[CTNG_BLS_SIG_LEN], const uint8_t (*sigs)[CTNG_BLS_SIG_LEN],
                       size_t count, ctng_err *err)
{
	if (count == 0)
		return ctng_err_set(err, CTNG_EINVAL, "bls aggregate: no signatures");
	g1 acc, p;
	g1_identity(&acc);
	for (size_t i = 0; i < count; i++) {
		int rc = bls_sig_decode(&p, sigs[i], err);
		if (rc)
			return ctng_err_wrap(err, "signature %zu", i);
		g1_add(&acc, &acc, &p);
	}
	g1_compress(out, &acc);
	return 0;
}

int ctng_bls_fast_aggregate_verify(const uint8_t (*pks)[CTNG_BLS_PK_LEN], size_t count,
                                   const uint8_t *msg, size_t len,
                                   const uint8_t sig[CTNG_BLS_SIG_LEN], const char *dst,
                                   ctng_err *err)
{
	const uint8_t *d = NULL;
	size_t dl = 0;
	g2 acc, q;
	g1 s;
	int rc;
	if (count == 0)
		return ctng_err_set(err, CTNG_EINVAL, "bls: no public keys");
	if ((rc = bls_dst(dst, &d, &dl, err)) || (rc = bls_sig_decode(&s, sig, err)))
		return rc;
	g2_identity(&acc);
	for (size_t i = 0; i < count; i++) {
		if ((rc = bls_pk_decode(&q, pks[i], err)) != 0)
			return ctng_err_wrap(err, "public key %zu", i);
		g2_add(&acc, &acc, &q);
	}
	if (g2_is_identity(&acc))
		return ctng_err_set(err, CTNG_EVERIFY, "bls: aggregate key is the identity");
	return verify_dst(&acc, msg, len, &s, d, dl, err);
}

int ctng_bls_pop_prove(uint8_t proof[CTNG_BLS_SIG_LEN], const uint8_t sk[CTNG_BLS_SK_LEN],
                       ctng_err *err)
{
	uint8_t pk[CTNG_BLS_PK_LEN];
	int rc = ctng_bls_sk_to_pk(pk, sk, err);
	if (rc)
		return rc;
	return ctng_bls_sign(proof, sk, pk, sizeof pk, CTNG_BLS_DST_POP_PROVE, err);
}

int ctng_bls_pop_verify(const uint8_t pk[CTNG_BLS_PK_LEN], const uint8_t proof[CTNG_BLS_SIG_LEN],
                        ctng_err *err)
{
	return ctng_bls_verify(pk, pk, CTNG_BLS_PK_LEN, proof, CTNG_BLS_DST_POP_PROVE, err);
}

int ctng_bls_batch_verify(const ctng_bls_batch_item *items, size_t count, const char *dst,
                          ctng_err *err)
{
	const uint8_t *d = NULL;
	size_t dl = 0;
	int rc;
	if (count == 0)
		return 0;
	if ((rc = bls_dst(dst, &d, &dl, err)) != 0)
		return rc;
	if (count == 1)
		return ctng_bls_verify(items[0].pk, items[0].msg, items[0].msg_len, items[0].sig,
		                       dst, err);
	ctng_meter_count(CTNG_METER_BLS_BATCH_ITEM, count);
	if (count > ((size_t)1 << 24))
		return ctng_err_set(err, CTNG_ERANGE, "bls batch verify: too many items (%zu)",
		                    count);
	/* Items are grouped by public key: for each distinct key k,
	 * e(sum_{i: pk_i = k} r_i H_i, k), so a batch under one group key costs two
	 * Miller loops whatever its size, and each key is decoded once. */
	g1_aff *P = malloc((count + 1) * sizeof *P);
	g2_aff *Q = malloc(count * sizeof *Q);
	g1 *acc = malloc((count + 1) * sizeof *acc); /* one per key, then the sum */
	size_t *key_of = malloc(count * sizeof *key_of);
	uint64_t *rnd = malloc(count * sizeof *rnd);
	size_t nkeys = 0;
	if (!P || !Q || !acc || !key_of || !rnd) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "bls batch verify: out of memory");
		goto out;
	}
	if (RAND_bytes((unsigned char *)rnd, (int)(count * sizeof *rnd)) != 1) {
		rc = ctng_err_set(err, CTNG_EIO, "bls batch verify: no randomness");
		goto out;
	}
	/* sum_i e(r_i H_i, pk_i) == e(sum_i r_i sig_i, G2) */
	g1 sum, s, h;
	g2 q;
	g1_identity(&sum);
	for (size_t i = 0; i < count; i++) {
		size_t k;
		for (k = 0; k < nkeys; k++)
			if (memcmp(items[key_of[k]].pk, items[i].pk, CTNG_BLS_PK_LEN) == 0)
				break;
		if (k == nkeys) { /* first item under this key */
			if ((rc = bls_pk_decode(&q, items[i].pk, err)) != 0) {
				ctng_err_wrap(err, "batch item %zu", i);
				goto out;
			}
			g2_to_affine(&Q[k], &q);
			g1_identity(&acc[k]);
			key_of[k] = i;
			nkeys++;
		}
		rnd[i] |= 1; /* never zero */
		if ((rc = bls_sig_decode(&s, items[i].sig, err)) != 0) {
			ctng_err_wrap(err, "batch item %zu", i);
			goto out;
		}
		if (bls_hash_to_g1(&h, items[i].msg, items[i].msg_len, d, dl) != 0) {
			rc = ctng_err_set(err, CTNG_EIO, "bls: hash_to_curve failed");
			goto out;
		}
		g1_mul_vartime(&s, &s, &rnd[i], 64);
		g1_add(&sum, &sum, &s);
		g1_mul_vartime(&h, &h, &rnd[i], 64);
		g1_add(&acc[k], &acc[k], &h);
	}
	acc[nkeys] = sum;
	g1_batch_to_affine(P, acc, nkeys + 1); /* one inversion for all */
	if (!bls_pairing_check_gen(&P[nkeys], P, Q, nkeys))
		rc = ctng_err_set(err, CTNG_EVERIFY, "bls: batch does not verify");
	else
		rc = 0;
out:
	free(P);
	free(Q);
	free(acc);
	free(key_of);
	free(rnd);
	return rc;
}

struct ctng_bls_pk_prepared {
	bls_g2_prepared lines;
	uint8_t pk[CTNG_BLS_PK_LEN]; /* the compressed key (for the meter's memo) */
};

int ctng_bls_pk_prepare(ctng_bls_pk_prepared **out, const uint8_t pk[CTNG_BLS_PK_LEN],
                        ctng_err *err)
{
	g2 q;
	g2_aff qa;
	int rc = bls_pk_decode(&q, pk, err);
	if (rc)
		return rc;
	ctng_bls_pk_prepared *p = malloc(sizeof *p);
	if (!p)
		return ctng_err_set(err, CTNG_ENOMEM, "bls: out of memory");
	g2_to_affine(&qa, &q);
	bls_g2_prepare(&p->lines, &qa);
	memcpy(p->pk, pk, CTNG_BLS_PK_LEN);
	*out = p;
	return 0;
}

void ctng_bls_pk_prepared_free(ctng_bls_pk_prepared *p)
{
	free(p);
}

int ctng_bls_verify_prepared(const ctng_bls_pk_prepared *pk, const uint8_t *msg, size_t len,
                             const uint8_t sig[CTNG_BLS_SIG_LEN], const char *dst, ctng_err *err)
{
	const uint8_t *d = NULL;
	size_t dl = 0;
	g1 s, h;
	int rc;
	if (!pk)
		return ctng_err_set(err, CTNG_EINVAL, "bls: no prepared key");
	if ((rc = bls_dst(dst, &d, &dl, err)) || (rc = bls_sig_decode(&s, sig, err)))
		return rc;
	ctng_meter_key key;
	if (verify_memo(&key, pk->pk, d, dl, msg, len, sig, &rc, err))
		return rc;
	if (bls_hash_to_g1(&h, msg, len, d, dl) != 0)
		return ctng_err_set(err, CTNG_EIO, "bls: hash_to_curve failed");
	g1_aff P[2];
	const bls_g2_prepared *Q[2] = {bls_g2_neg_generator_prepared(), &pk->lines};
	g1_to_affine(&P[0], &s);
	g1_to_affine(&P[1], &h);
	fp12 f, r;
	if (bls_miller_loop_ex(&f, NULL, NULL, 0, P, Q, 2) != 0)
		return ctng_err_set(err, CTNG_ENOMEM, "bls: out of memory");
	bls_final_exp(&r, &f);
	rc = fp12_is_one(&r) ? 0 : ctng_err_set(err, CTNG_EVERIFY, "bls: signature does not verify");
	ctng_meter_memo_store(&key, rc);
	return rc;
}
