/*
 * seal.c — X25519 + HKDF-SHA256 + ChaCha20-Poly1305 sealing of short secrets
 * through OpenSSL 3 EVP (contract and construction in ctng/seal.h).
 */
#include "ctng/seal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

static int ossl_fail(ctng_err *err, int code, const char *what)
{
	ERR_clear_error();
	return ctng_err_set(err, code, "seal: %s", what);
}

static EVP_PKEY *x25519_priv(const uint8_t sk[CTNG_SEAL_KEY_LEN])
{
	return EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, sk, CTNG_SEAL_KEY_LEN);
}

int ctng_seal_keygen(uint8_t sk[CTNG_SEAL_KEY_LEN], uint8_t pk[CTNG_SEAL_KEY_LEN], ctng_err *err)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t sl = CTNG_SEAL_KEY_LEN, pl = CTNG_SEAL_KEY_LEN;
	int rc = 0;
	if (!k || EVP_PKEY_get_raw_private_key(k, sk, &sl) != 1 ||
	    EVP_PKEY_get_raw_public_key(k, pk, &pl) != 1 || sl != CTNG_SEAL_KEY_LEN ||
	    pl != CTNG_SEAL_KEY_LEN) {
		ctng_wipe(sk, CTNG_SEAL_KEY_LEN);
		rc = ossl_fail(err, CTNG_EIO, "X25519 key generation failed");
	}
	EVP_PKEY_free(k);
	return rc;
}

int ctng_seal_public(uint8_t pk[CTNG_SEAL_KEY_LEN], const uint8_t sk[CTNG_SEAL_KEY_LEN],
                     ctng_err *err)
{
	EVP_PKEY *k = x25519_priv(sk);
	size_t pl = CTNG_SEAL_KEY_LEN;
	int rc = 0;
	if (!k || EVP_PKEY_get_raw_public_key(k, pk, &pl) != 1 || pl != CTNG_SEAL_KEY_LEN)
		rc = ossl_fail(err, CTNG_EINVAL, "not an X25519 private key");
	EVP_PKEY_free(k);
	return rc;
}

/* X25519(sk, peer) into ikm; OpenSSL refuses an all-zero result (a
 * low-order peer point), which we report as a malformed key. */
static int derive(uint8_t ikm[32], const uint8_t sk[32], const uint8_t peer[32], ctng_err *err)
{
	EVP_PKEY *me = x25519_priv(sk);
	EVP_PKEY *pe = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, 32);
	EVP_PKEY_CTX *ctx = me ? EVP_PKEY_CTX_new_from_pkey(NULL, me, NULL) : NULL;
	size_t n = 32;
	int rc = 0;
	if (!me || !pe || !ctx)
		rc = ossl_fail(err, CTNG_EINVAL, "bad X25519 key");
	else if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pe) != 1 ||
	         EVP_PKEY_derive(ctx, ikm, &n) != 1 || n != 32)
		rc = ossl_fail(err, CTNG_EINVAL, "X25519 key agreement failed (low-order key?)");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(me);
	EVP_PKEY_free(pe);
	return rc;
}

/* key = HKDF-SHA256(salt, ikm, ctx) where ctx = info || epk || rpk. */
static int hkdf(uint8_t key[32], const uint8_t ikm[32], const uint8_t *salt, size_t salt_len,
                const uint8_t *ctx, size_t ctx_len, ctng_err *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kc)
		return ossl_fail(err, CTNG_EIO, "HKDF unavailable");
	uint8_t empty = 0;
	OSSL_PARAM p[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, 32),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_len ? (void *)salt : &empty,
	                                      salt_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)ctx, ctx_len),
	    OSSL_PARAM_construct_end()};
	int rc = EVP_KDF_derive(kc, key, 32, p) == 1 ? 0 : ossl_fail(err, CTNG_EIO, "HKDF failed");
	EVP_KDF_CTX_free(kc);
	return rc;
}

/* One ChaCha20-Poly1305 pass. enc: pt -> ct||tag; !enc: ct||tag -> pt. */
static int aead(bool enc, const uint8_t key[32], const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t in_len, uint8_t *out, uint8_t tag[16], ctng_err *err)
{
	static const uint8_t nonce[12] = {0};
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int rc = 0, n = 0;
	if (!c || !x) {
		rc = ossl_fail(err, CTNG_EIO, "ChaCha20-Poly1305 unavailable");
		goto out;
	}
	if (EVP_CipherInit_ex2(x, c, key, nonce, enc ? 1 : 0, NULL) != 1 ||
	    (aad_len && EVP_CipherUpdate(x, NULL, &n, aad, (int)aad_len) != 1) ||
	    (in_len && EVP_CipherUpdate(x, out, &n, in, (int)in_len) != 1)) {
		rc = ossl_fail(err, CTNG_EIO, "AEAD failed");
		goto out;
	}
	if (!enc && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1) {
		rc = ossl_fail(err, CTNG_EIO, "AEAD tag");
		goto out;
	}
	if (EVP_CipherFinal_ex(x, out + in_len, &n) != 1) {
		rc = enc ? ossl_fail(err, CTNG_EIO, "AEAD failed")
		         : ossl_fail(err, CTNG_EVERIFY, "ciphertext does not authenticate");
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
		rc = ossl_fail(err, CTNG_EIO, "AEAD tag");
out:
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	return rc;
}

/* Derives the one-message key for (ikm, salt, info, epk, rpk); ctx gets
 * info || epk || rpk (the AEAD's associated data too). */
static int message_key(uint8_t key[32], uint8_t *ctx, size_t *ctx_len, const uint8_t ikm[32],
                       const uint8_t *salt, size_t salt_len, const uint8_t *info, size_t info_len,
                       const uint8_t epk[32], const uint8_t rpk[32], ctng_err *err)
{
	if (info_len)
		memcpy(ctx, info, info_len);
	memcpy(ctx + info_len, epk, 32);
	memcpy(ctx + info_len + 32, rpk, 32);
	*ctx_len = info_len + 64;
	return hkdf(key, ikm, salt, salt_len, ctx, *ctx_len, err);
}

static int check_sizes(size_t salt_len, size_t info_len, size_t pt_len, ctng_err *err)
{
	if (salt_len > CTNG_SEAL_MAX_AD || info_len > CTNG_SEAL_MAX_AD || pt_len > CTNG_SEAL_MAX_PT)
		return ctng_err_set(err, CTNG_EINVAL, "seal: input too long");
	return 0;
}

int ctng_seal(uint8_t *ct, const uint8_t esk[CTNG_SEAL_KEY_LEN],
              const uint8_t rpk[CTNG_SEAL_KEY_LEN], const uint8_t *salt, size_t salt_len,
              const uint8_t *info, size_t info_len, const uint8_t *pt, size_t pt_len, ctng_err *err)
{
	int rc = check_sizes(salt_len, info_len, pt_len, err);
	if (rc)
		return rc;
	uint8_t ikm[32], key[32], epk[32], ctx[CTNG_SEAL_MAX_AD + 64];
	size_t ctx_len = 0;
	if ((rc = ctng_seal_public(epk, esk, err)) == 0 && (rc = derive(ikm, esk, rpk, err)) == 0 &&
	    (rc = message_key(key, ctx, &ctx_len, ikm, salt, salt_len, info, info_len, epk, rpk,
	                      err)) == 0)
		rc = aead(true, key, ctx, ctx_len, pt, pt_len, ct, ct + pt_len, err);
	ctng_wipe(ikm, sizeof ikm);
	ctng_wipe(key, sizeof key);
	return rc;
}

int ctng_seal_open(uint8_t *pt, const uint8_t rsk[CTNG_SEAL_KEY_LEN],
                   const uint8_t epk[CTNG_SEAL_KEY_LEN], const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, const uint8_t *ct, size_t ct_len,
                   ctng_err *err)
{
	if (ct_len < CTNG_SEAL_TAG_LEN)
		return ctng_err_set(err, CTNG_EINVAL, "seal: ciphertext too short");
	size_t pt_len = ct_len - CTNG_SEAL_TAG_LEN;
	int rc = check_sizes(salt_len, info_len, pt_len, err);
	if (rc)
		return rc;
	uint8_t ikm[32], key[32], rpk[32], tag[16], ctx[CTNG_SEAL_MAX_AD + 64];
	size_t ctx_len = 0;
	memcpy(tag, ct + pt_len, 16);
	if ((rc = ctng_seal_public(rpk, rsk, err)) == 0 && (rc = derive(ikm, rsk, epk, err)) == 0 &&
	    (rc = message_key(key, ctx, &ctx_len, ikm, salt, salt_len, info, info_len, epk, rpk,
	                      err)) == 0)
		rc = aead(false, key, ctx, ctx_len, ct, pt_len, pt, tag, err);
	if (rc)
		ctng_wipe(pt, pt_len);
	ctng_wipe(ikm, sizeof ikm);
	ctng_wipe(key, sizeof key);
	return rc;
}
