/*
 * sig.c — ECDSA P-256 / Ed25519 keys, signing and verification through the
 * OpenSSL 3 EVP API (see ctng/sig.h for the contracts).
 */
#include "ctng/sig.h"
#include "ctng/meter.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

struct ctng_sig_key {
	EVP_PKEY *pkey;
	ctng_sig_alg alg;
	bool priv;
};

static int ossl_fail(ctng_err *err, int code, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[160] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	if (buf[0])
		return ctng_err_set(err, code, "%s (%s)", what, buf);
	return ctng_err_set(err, code, "%s", what);
}

const char *ctng_sig_alg_name(ctng_sig_alg alg)
{
	switch (alg) {
	case CTNG_SIG_ECDSA_P256:
		return "ecdsa-p256";
	case CTNG_SIG_ED25519:
		return "ed25519";
	default:
		return "";
	}
}

int ctng_sig_alg_parse(const char *name, ctng_sig_alg *alg, ctng_err *err)
{
	if (name && strcmp(name, "ecdsa-p256") == 0)
		*alg = CTNG_SIG_ECDSA_P256;
	else if (name && strcmp(name, "ed25519") == 0)
		*alg = CTNG_SIG_ED25519;
	else
		return ctng_err_set(err, CTNG_EINVAL, "unknown signature algorithm \"%s\"",
		                    name ? name : "");
	return 0;
}

/* Classifies an EVP_PKEY: only P-256 EC and Ed25519 are accepted. */
static ctng_sig_alg classify(EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return CTNG_SIG_ED25519;
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64];
		size_t glen = 0;
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof(group), &glen) != 1)
			return CTNG_SIG_NONE;
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			return CTNG_SIG_ECDSA_P256;
	}
	return CTNG_SIG_NONE;
}

static bool has_private(EVP_PKEY *pkey, ctng_sig_alg alg)
{
	if (alg == CTNG_SIG_ECDSA_P256) {
		BIGNUM *d = NULL;
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1) {
			BN_clear_free(d);
			return true;
		}
		ERR_clear_error();
		return false;
	}
	uint8_t buf[64];
	size_t n = 0;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, buf, sizeof(buf), &n) ==
	    1) {
		ctng_wipe(buf, sizeof(buf));
		return n > 0;
	}
	ERR_clear_error();
	return false;
}

/* Wraps pkey (takes ownership of this reference) after checking its type. */
static int wrap(EVP_PKEY *pkey, bool want_priv, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	ctng_sig_alg alg = classify(pkey);
	if (alg == CTNG_SIG_NONE) {
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL,
		                    "unsupported key type (need ECDSA P-256 or Ed25519)");
	}
	bool priv = has_private(pkey, alg);
	if (want_priv && !priv) {
		EVP_PKEY_free(pkey);
		return ctng_err_set(err, CTNG_EINVAL, "key has no private part");
	}
	ctng_sig_key *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	k->pkey = pkey;
	k->alg = alg;
	k->priv = priv;
	*out = k;
	return 0;
}

int ctng_sig_generate(ctng_sig_alg alg, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	EVP_PKEY *pkey = NULL;
	if (alg == CTNG_SIG_ECDSA_P256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == CTNG_SIG_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		return ctng_err_set(err, CTNG_EINVAL, "unknown signature algorithm");
	if (!pkey)
		return ossl_fail(err, CTNG_ENOMEM, "key generation failed");
	return wrap(pkey, true, out, err);
}

/* Encrypted PEM is not supported: refuse to supply any passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int ctng_sig_load_private_pem(const char *pem, size_t len, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	if (!pem || len == 0 || len > CTNG_SIG_PEM_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "private key PEM empty or too large");
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return ossl_fail(err, CTNG_EINVAL, "cannot parse private key PEM");
	return wrap(pkey, true, out, err);
}

int ctng_sig_load_public_pem(const char *pem, size_t len, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	if (!pem || len == 0 || len > CTNG_SIG_PEM_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "public key PEM empty or too large");
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return ossl_fail(err, CTNG_EINVAL, "cannot parse public key PEM");
	return wrap(pkey, false, out, err);
}

int ctng_sig_load_public_der(const uint8_t *der, size_t len, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	if (!der || len == 0 || len > CTNG_SIG_PEM_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "public key DER empty or too large");
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PUBKEY_ex(NULL, &p, (long)len, NULL, NULL);
	if (!pkey)
		return ossl_fail(err, CTNG_EINVAL, "cannot parse public key DER");
	if ((size_t)(p - der) != len) {
		EVP_PKEY_free(pkey);
		return ctng_err_set(err, CTNG_EINVAL, "trailing bytes after public key DER");
	}
	return wrap(pkey, false, out, err);
}

int ctng_sig_load_public_hex(const char *hex, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	if (!hex || strlen(hex) > 2 * CTNG_SIG_PEM_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "public key hex missing or too long");
	uint8_t *der = NULL;
	size_t n = 0;
	int rc = ctng_hex_decode_alloc(hex, &der, &n, err);
	if (rc)
		return rc;
	rc = ctng_sig_load_public_der(der, n, out, err);
	free(der);
	return rc;
}

static int load_file(const char *path, bool priv, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = ctng_read_file(path, CTNG_SIG_PEM_MAX, &data, &n, err);
	if (rc)
		return rc;
	rc = priv ? ctng_sig_load_private_pem((const char *)data, n, out, err)
	          : ctng_sig_load_public_pem((const char *)data, n, out, err);
	ctng_wipe(data, n);
	free(data);
	if (rc)
		ctng_err_wrap(err, "%s", path);
	return rc;
}

int ctng_sig_load_private_file(const char *path, ctng_sig_key **out, ctng_err *err)
{
	return load_file(path, true, out, err);
}

int ctng_sig_load_public_file(const char *path, ctng_sig_key **out, ctng_err *err)
{
	return load_file(path, false, out, err);
}

/* Copies a memory BIO's contents into a malloc'd NUL-terminated string. */
static int bio_to_str(BIO *bio, char **out, size_t *len, ctng_err *err)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0)
		return ctng_err_set(err, CTNG_ENOMEM, "PEM encoding failed");
	char *s = malloc((size_t)n + 1);
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	*out = s;
	if (len)
		*len = (size_t)n;
	return 0;
}

int ctng_sig_private_pem(const ctng_sig_key *k, char **pem, size_t *len, ctng_err *err)
{
	*pem = NULL;
	if (!k || !k->priv)
		return ctng_err_set(err, CTNG_EINVAL, "key has no private part");
	BIO *bio = BIO_new(BIO_s_secmem());
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc;
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		rc = ossl_fail(err, CTNG_ENOMEM, "private key PEM encoding failed");
	else
		rc = bio_to_str(bio, pem, len, err);
	BIO_free(bio);
	return rc;
}

int ctng_sig_public_pem(const ctng_sig_key *k, char **pem, size_t *len, ctng_err *err)
{
	*pem = NULL;
	if (!k)
		return ctng_err_set(err, CTNG_EINVAL, "no key");
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
		rc = ossl_fail(err, CTNG_ENOMEM, "public key PEM encoding failed");
	else
		rc = bio_to_str(bio, pem, len, err);
	BIO_free(bio);
	return rc;
}

int ctng_sig_public_der(const ctng_sig_key *k, uint8_t **der, size_t *len, ctng_err *err)
{
	*der = NULL;
	*len = 0;
	if (!k)
		return ctng_err_set(err, CTNG_EINVAL, "no key");
	unsigned char *buf = NULL;
	int n = i2d_PUBKEY(k->pkey, &buf);
	if (n <= 0)
		return ossl_fail(err, CTNG_ENOMEM, "public key DER encoding failed");
	uint8_t *copy = malloc((size_t)n);
	if (!copy) {
		OPENSSL_free(buf);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	memcpy(copy, buf, (size_t)n);
	OPENSSL_free(buf);
	*der = copy;
	*len = (size_t)n;
	return 0;
}

int ctng_sig_public_hex(const ctng_sig_key *k, char **hex, ctng_err *err)
{
	*hex = NULL;
	uint8_t *der = NULL;
	size_t n = 0;
	int rc = ctng_sig_public_der(k, &der, &n, err);
	if (rc)
		return rc;
	*hex = ctng_hex_strdup(der, n);
	free(der);
	return *hex ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_sig_save_private_file(const ctng_sig_key *k, const char *path, int mode, ctng_err *err)
{
	char *pem = NULL;
	size_t n = 0;
	int rc = ctng_sig_private_pem(k, &pem, &n, err);
	if (rc)
		return rc;
	rc = ctng_write_file_atomic(path, pem, n, mode, err);
	ctng_wipe(pem, n);
	free(pem);
	return rc;
}

int ctng_sig_save_public_file(const ctng_sig_key *k, const char *path, int mode, ctng_err *err)
{
	char *pem = NULL;
	size_t n = 0;
	int rc = ctng_sig_public_pem(k, &pem, &n, err);
	if (rc)
		return rc;
	rc = ctng_write_file_atomic(path, pem, n, mode, err);
	free(pem);
	return rc;
}

int ctng_sig_key_id(const ctng_sig_key *k, uint8_t id[CTNG_SIG_KEY_ID_LEN], ctng_err *err)
{
	uint8_t *der = NULL;
	size_t n = 0;
	int rc = ctng_sig_public_der(k, &der, &n, err);
	if (rc)
		return rc;
	unsigned int olen = 0;
	if (EVP_Digest(der, n, id, &olen, EVP_sha256(), NULL) != 1 || olen != 32)
		rc = ossl_fail(err, CTNG_ENOMEM, "SHA-256 failed");
	free(der);
	return rc;
}

ctng_sig_alg ctng_sig_key_alg(const ctng_sig_key *k)
{
	return k ? k->alg : CTNG_SIG_NONE;
}

bool ctng_sig_key_has_private(const ctng_sig_key *k)
{
	return k && k->priv;
}

bool ctng_sig_key_public_equal(const ctng_sig_key *a, const ctng_sig_key *b)
{
	if (!a || !b)
		return false;
	int r = EVP_PKEY_eq(a->pkey, b->pkey);
	ERR_clear_error();
	return r == 1;
}

int ctng_sig_key_public_copy(const ctng_sig_key *k, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	uint8_t *der = NULL;
	size_t n = 0;
	int rc = ctng_sig_public_der(k, &der, &n, err);
	if (rc)
		return rc;
	rc = ctng_sig_load_public_der(der, n, out, err);
	free(der);
	return rc;
}

struct evp_pkey_st *ctng_sig_key_evp(const ctng_sig_key *k)
{
	return k ? k->pkey : NULL;
}

int ctng_sig_key_from_evp(struct evp_pkey_st *pkey, ctng_sig_key **out, ctng_err *err)
{
	*out = NULL;
	if (!pkey)
		return ctng_err_set(err, CTNG_EINVAL, "no key");
	if (EVP_PKEY_up_ref(pkey) != 1)
		return ossl_fail(err, CTNG_ENOMEM, "EVP_PKEY_up_ref failed");
	return wrap(pkey, false, out, err);
}

void ctng_sig_key_free(ctng_sig_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int ctng_sig_sign(const ctng_sig_key *k, const uint8_t *msg, size_t len,
                  uint8_t sig[CTNG_SIG_MAX_LEN], size_t *sig_len, ctng_err *err)
{
	*sig_len = 0;
	if (!k || !k->priv)
		return ctng_err_set(err, CTNG_EINVAL, "signing needs a private key");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	ctng_meter_count(k->alg == CTNG_SIG_ECDSA_P256 ? CTNG_METER_ECDSA_SIGN
	                                               : CTNG_METER_ED25519_SIGN,
	                 1);
	const char *md = k->alg == CTNG_SIG_ECDSA_P256 ? "SHA256" : NULL;
	int rc = 0;
	size_t n = CTNG_SIG_MAX_LEN;
	if (EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, k->pkey, NULL) != 1)
		rc = ossl_fail(err, CTNG_EINVAL, "signature initialisation failed");
	else if (EVP_DigestSign(ctx, NULL, &n, msg, len) != 1 || n > CTNG_SIG_MAX_LEN)
		rc = ossl_fail(err, CTNG_EINVAL, "signature size query failed");
	else if (EVP_DigestSign(ctx, sig, &n, msg, len) != 1)
		rc = ossl_fail(err, CTNG_EINVAL, "signing failed");
	else
		*sig_len = n;
	EVP_MD_CTX_free(ctx);
	return rc;
}

int ctng_sig_verify(const ctng_sig_key *k, const uint8_t *msg, size_t len, const uint8_t *sig,
                    size_t sig_len, ctng_err *err)
{
	if (!k)
		return ctng_err_set(err, CTNG_EINVAL, "no key");
	if (!sig || sig_len == 0 || sig_len > CTNG_SIG_MAX_LEN)
		return ctng_err_set(err, CTNG_EVERIFY, "signature has a bad length (%zu)", sig_len);
	if (k->alg == CTNG_SIG_ED25519 && sig_len != 64)
		return ctng_err_set(err, CTNG_EVERIFY, "Ed25519 signature must be 64 bytes");
	ctng_meter_count(k->alg == CTNG_SIG_ECDSA_P256 ? CTNG_METER_ECDSA_VERIFY
	                                               : CTNG_METER_ED25519_VERIFY,
	                 1);
	ctng_meter_key key = {0};
	int rc = 0;
	if (ctng_meter_memo_active()) {
		uint8_t *der = NULL;
		int dl = i2d_PUBKEY(k->pkey, &der);
		const void *parts[] = {"S", der, msg, sig};
		const size_t lens[] = {1, dl > 0 ? (size_t)dl : 0, len, sig_len};
		bool hit = dl > 0 && ctng_meter_memo_lookup(&key, parts, lens, 4, &rc);
		OPENSSL_free(der);
		if (hit)
			return rc ? ctng_err_set(err, CTNG_EVERIFY, "%s signature does not verify",
			                         ctng_sig_alg_name(k->alg))
			          : 0;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	const char *md = k->alg == CTNG_SIG_ECDSA_P256 ? "SHA256" : NULL;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, k->pkey, NULL) != 1) {
		rc = ossl_fail(err, CTNG_EINVAL, "verification initialisation failed");
	} else {
		int r = EVP_DigestVerify(ctx, sig, sig_len, msg, len);
		ERR_clear_error();
		if (r != 1)
			rc = ctng_err_set(err, CTNG_EVERIFY, "%s signature does not verify",
			                  ctng_sig_alg_name(k->alg));
	}
	EVP_MD_CTX_free(ctx);
	ctng_meter_memo_store(&key, rc);
	return rc;
}
