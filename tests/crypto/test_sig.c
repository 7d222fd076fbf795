/* test_sig.c — ECDSA P-256 / Ed25519 keys, PEM/DER round trips, sign/verify,
 * key ids, and rejection of malformed keys and signatures (ctng/sig.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ctng/sig.h"

/* RFC 8032 §7.1 TEST 1: secret key, public key, empty message, signature. */
static const char *rfc8032_sk_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char *rfc8032_sig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                 "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
static const char *rfc8032_pk = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static void roundtrip(ctng_sig_alg alg)
{
	ctng_err err = {0};
	ctng_sig_key *k = NULL, *k2 = NULL, *pub = NULL, *pub2 = NULL;
	assert_int_equal(ctng_sig_generate(alg, &k, &err), 0);
	assert_int_equal(ctng_sig_key_alg(k), alg);
	assert_true(ctng_sig_key_has_private(k));

	char *pem = NULL;
	size_t pem_len = 0;
	assert_int_equal(ctng_sig_private_pem(k, &pem, &pem_len, &err), 0);
	assert_int_equal(strlen(pem), pem_len);
	assert_int_equal(ctng_sig_load_private_pem(pem, pem_len, &k2, &err), 0);
	assert_true(ctng_sig_key_public_equal(k, k2));
	free(pem);

	char *ppem = NULL;
	assert_int_equal(ctng_sig_public_pem(k, &ppem, NULL, &err), 0);
	assert_non_null(strstr(ppem, "BEGIN PUBLIC KEY"));
	assert_int_equal(ctng_sig_load_public_pem(ppem, strlen(ppem), &pub, &err), 0);
	assert_false(ctng_sig_key_has_private(pub));
	/* a public PEM is not a private key */
	ctng_sig_key *bad = NULL;
	assert_int_equal(ctng_sig_load_private_pem(ppem, strlen(ppem), &bad, &err), CTNG_EINVAL);
	assert_null(bad);
	free(ppem);

	char *hex = NULL;
	assert_int_equal(ctng_sig_public_hex(k, &hex, &err), 0);
	assert_int_equal(ctng_sig_load_public_hex(hex, &pub2, &err), 0);
	assert_true(ctng_sig_key_public_equal(pub, pub2));
	free(hex);

	uint8_t id1[32], id2[32];
	assert_int_equal(ctng_sig_key_id(k, id1, &err), 0);
	assert_int_equal(ctng_sig_key_id(pub2, id2, &err), 0);
	assert_memory_equal(id1, id2, 32);

	const uint8_t msg[] = "CTng test message";
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sig_len = 0;
	assert_int_equal(ctng_sig_sign(k2, msg, sizeof(msg), sig, &sig_len, &err), 0);
	if (alg == CTNG_SIG_ED25519)
		assert_int_equal(sig_len, 64);
	else
		assert_true(sig[0] == 0x30 && sig_len >= 8 && sig_len <= 72);
	assert_int_equal(ctng_sig_verify(pub, msg, sizeof(msg), sig, sig_len, &err), 0);
	/* wrong message, flipped bit, truncated signature */
	assert_int_equal(ctng_sig_verify(pub, msg, sizeof(msg) - 1, sig, sig_len, &err),
	                 CTNG_EVERIFY);
	sig[sig_len / 2] ^= 0x01;
	assert_int_equal(ctng_sig_verify(pub, msg, sizeof(msg), sig, sig_len, &err), CTNG_EVERIFY);
	sig[sig_len / 2] ^= 0x01;
	assert_int_equal(ctng_sig_verify(pub, msg, sizeof(msg), sig, sig_len - 1, &err),
	                 CTNG_EVERIFY);
	assert_int_equal(ctng_sig_verify(pub, msg, sizeof(msg), sig, 0, &err), CTNG_EVERIFY);
	/* a public-only key cannot sign */
	assert_int_equal(ctng_sig_sign(pub, msg, sizeof(msg), sig, &sig_len, &err), CTNG_EINVAL);
	/* another key does not verify */
	ctng_sig_key *other = NULL;
	assert_int_equal(ctng_sig_generate(alg, &other, &err), 0);
	assert_false(ctng_sig_key_public_equal(k, other));
	assert_int_equal(ctng_sig_sign(k, msg, sizeof(msg), sig, &sig_len, &err), 0);
	assert_int_equal(ctng_sig_verify(other, msg, sizeof(msg), sig, sig_len, &err),
	                 CTNG_EVERIFY);

	ctng_sig_key *copy = NULL;
	assert_int_equal(ctng_sig_key_public_copy(k, &copy, &err), 0);
	assert_true(ctng_sig_key_public_equal(copy, k));
	assert_false(ctng_sig_key_has_private(copy));
	ctng_sig_key *wrapped = NULL;
	assert_int_equal(ctng_sig_key_from_evp(ctng_sig_key_evp(k), &wrapped, &err), 0);
	assert_true(ctng_sig_key_has_private(wrapped));
	ctng_sig_key_free(wrapped);
	ctng_sig_key_free(copy);
	ctng_sig_key_free(other);
	ctng_sig_key_free(k);
	ctng_sig_key_free(k2);
	ctng_sig_key_free(pub);
	ctng_sig_key_free(pub2);
}

static void test_ecdsa_roundtrip(void **state)
{
	(void)state;
	roundtrip(CTNG_SIG_ECDSA_P256);
}

static void test_ed25519_roundtrip(void **state)
{
	(void)state;
	roundtrip(CTNG_SIG_ED25519);
}

/* RFC 8032 test 1: the deterministic signature of the empty message. */
static void test_ed25519_rfc8032(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_sig_key *k = NULL;
	assert_int_equal(
	    ctng_sig_load_private_pem(rfc8032_sk_pem, strlen(rfc8032_sk_pem), &k, &err), 0);
	assert_int_equal(ctng_sig_key_alg(k), CTNG_SIG_ED25519);
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t n = 0;
	assert_int_equal(ctng_sig_sign(k, (const uint8_t *)"", 0, sig, &n, &err), 0);
	char *hex = ctng_hex_strdup(sig, n);
	assert_string_equal(hex, rfc8032_sig);
	free(hex);
	/* the DER SPKI ends with the 32-byte public key */
	uint8_t *der = NULL;
	size_t dl = 0;
	assert_int_equal(ctng_sig_public_der(k, &der, &dl, &err), 0);
	assert_int_equal(dl, 44);
	hex = ctng_hex_strdup(der + 12, 32);
	assert_string_equal(hex, rfc8032_pk);
	free(hex);
	free(der);
	ctng_sig_key_free(k);
}

static void test_malformed_keys(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_sig_key *k = NULL;
	assert_int_equal(ctng_sig_load_private_pem("garbage", 7, &k, &err), CTNG_EINVAL);
	assert_null(k);
	assert_int_equal(ctng_sig_load_public_pem("", 0, &k, &err), CTNG_EINVAL);
	assert_int_equal(ctng_sig_load_public_hex("3059", &k, &err), CTNG_EINVAL);
	assert_int_equal(ctng_sig_load_public_hex("zz", &k, &err), CTNG_EINVAL);
	const uint8_t junk[4] = {0x30, 0x02, 0x05, 0x00};
	assert_int_equal(ctng_sig_load_public_der(junk, sizeof(junk), &k, &err), CTNG_EINVAL);
	/* trailing bytes after a valid DER key are rejected */
	ctng_sig_key *good = NULL;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ED25519, &good, &err), 0);
	uint8_t *der = NULL;
	size_t dl = 0;
	assert_int_equal(ctng_sig_public_der(good, &der, &dl, &err), 0);
	uint8_t *longer = malloc(dl + 1);
	memcpy(longer, der, dl);
	longer[dl] = 0;
	assert_int_equal(ctng_sig_load_public_der(longer, dl + 1, &k, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "trailing"));
	free(longer);
	free(der);
	ctng_sig_key_free(good);
	/* encrypted PEM (even with an empty passphrase) is refused */
	ctng_sig_key *gk = NULL;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ED25519, &gk, &err), 0);
	BIO *bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, ctng_sig_key_evp(gk), EVP_aes_128_cbc(),
	                                               "", 0, NULL, NULL),
	                 1);
	char *ep = NULL;
	long el = BIO_get_mem_data(bio, &ep);
	assert_non_null(strstr(ep, "ENCRYPTED"));
	assert_int_equal(ctng_sig_load_private_pem(ep, (size_t)el, &k, &err), CTNG_EINVAL);
	assert_null(k);
	BIO_free(bio);
	ctng_sig_key_free(gk);
	/* P-384 keys are not accepted */
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(p384);
	assert_int_equal(ctng_sig_key_from_evp(p384, &k, &err), CTNG_EINVAL);
	assert_null(k);
	EVP_PKEY_free(p384);
	ctng_sig_alg alg;
	assert_int_equal(ctng_sig_alg_parse("rsa", &alg, &err), CTNG_EINVAL);
	assert_int_equal(ctng_sig_alg_parse("ed25519", &alg, &err), 0);
	assert_int_equal(alg, CTNG_SIG_ED25519);
	assert_string_equal(ctng_sig_alg_name(CTNG_SIG_ECDSA_P256), "ecdsa-p256");
}

static void test_files(void **state)
{
	(void)state;
	ctng_err err = {0};
	char dir[] = "/tmp/ctng_sig_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], ppath[256];
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	snprintf(ppath, sizeof(ppath), "%s/p.pem", dir);
	ctng_sig_key *k = NULL, *k2 = NULL, *p = NULL;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &k, &err), 0);
	assert_int_equal(ctng_sig_save_private_file(k, path, 0600, &err), 0);
	assert_int_equal(ctng_sig_save_public_file(k, ppath, 0644, &err), 0);
	assert_int_equal(ctng_sig_load_private_file(path, &k2, &err), 0);
	assert_int_equal(ctng_sig_load_public_file(ppath, &p, &err), 0);
	assert_true(ctng_sig_key_public_equal(k2, p));
	ctng_sig_key *none = NULL;
	assert_int_equal(ctng_sig_load_private_file("/nonexistent/k.pem", &none, &err), CTNG_EIO);
	assert_null(none);
	ctng_sig_key_free(k);
	ctng_sig_key_free(k2);
	ctng_sig_key_free(p);
	unlink(path);
	unlink(ppath);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ecdsa_roundtrip), cmocka_unit_test(test_ed25519_roundtrip),
	    cmocka_unit_test(test_ed25519_rfc8032), cmocka_unit_test(test_malformed_keys),
	    cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
