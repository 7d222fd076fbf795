/*
 * test_seal.c — X25519 + HKDF + ChaCha20-Poly1305 sealing (ctng/seal.h):
 * RFC 7748 §6.1 key pairs, round trips, and every way a ciphertext must fail
 * to open (other key, other salt or info, a flipped bit, a truncated tag, a
 * low-order public key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/seal.h"

/* RFC 7748 §6.1 (Alice and Bob). */
static const char *ALICE_SK = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char *ALICE_PK = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char *BOB_SK = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char *BOB_PK = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

static void hex(uint8_t *out, size_t n, const char *h)
{
	assert_int_equal(ctng_hex_decode_exact(out, n, h, NULL), 0);
}

static void test_rfc7748_public(void **state)
{
	(void)state;
	uint8_t sk[32], pk[32], want[32];
	hex(sk, 32, ALICE_SK);
	hex(want, 32, ALICE_PK);
	assert_int_equal(ctng_seal_public(pk, sk, NULL), 0);
	assert_memory_equal(pk, want, 32);
	hex(sk, 32, BOB_SK);
	hex(want, 32, BOB_PK);
	assert_int_equal(ctng_seal_public(pk, sk, NULL), 0);
	assert_memory_equal(pk, want, 32);
}

static void test_round_trip(void **state)
{
	(void)state;
	uint8_t esk[32], epk[32], rsk[32], rpk[32], osk[32], opk[32];
	assert_int_equal(ctng_seal_keygen(esk, epk, NULL), 0);
	assert_int_equal(ctng_seal_keygen(rsk, rpk, NULL), 0);
	assert_int_equal(ctng_seal_keygen(osk, opk, NULL), 0);
	const uint8_t salt[] = "session", info[] = "dealer|recipient";
	uint8_t pt[32], ct[48], back[32];
	for (int i = 0; i < 32; i++)
		pt[i] = (uint8_t)(i * 7);
	assert_int_equal(
	    ctng_seal(ct, esk, rpk, salt, sizeof salt, info, sizeof info, pt, 32, NULL), 0);
	assert_memory_not_equal(ct, pt, 32);
	ctng_err e = {0};
	assert_int_equal(
	    ctng_seal_open(back, rsk, epk, salt, sizeof salt, info, sizeof info, ct, 48, &e), 0);
	assert_memory_equal(back, pt, 32);
	/* deterministic for the same ephemeral key (callers never reuse one) */
	uint8_t ct2[48];
	assert_int_equal(
	    ctng_seal(ct2, esk, rpk, salt, sizeof salt, info, sizeof info, pt, 32, NULL), 0);
	assert_memory_equal(ct, ct2, 48);
	/* failures */
	assert_int_equal(
	    ctng_seal_open(back, osk, epk, salt, sizeof salt, info, sizeof info, ct, 48, &e),
	    CTNG_EVERIFY);
	assert_int_equal(ctng_seal_open(back, rsk, epk, salt, 3, info, sizeof info, ct, 48, &e),
	                 CTNG_EVERIFY);
	assert_int_equal(ctng_seal_open(back, rsk, epk, salt, sizeof salt, info, 4, ct, 48, &e),
	                 CTNG_EVERIFY);
	assert_int_equal(
	    ctng_seal_open(back, rsk, opk, salt, sizeof salt, info, sizeof info, ct, 48, &e),
	    CTNG_EVERIFY);
	for (int bit = 0; bit < 48 * 8; bit += 37) {
		memcpy(ct2, ct, 48);
		ct2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(ctng_seal_open(back, rsk, epk, salt, sizeof salt, info,
		                                sizeof info, ct2, 48, &e),
		                 CTNG_EVERIFY);
		uint8_t zero[32] = {0};
		assert_memory_equal(back, zero, 32); /* wiped on failure */
	}
	assert_int_equal(
	    ctng_seal_open(back, rsk, epk, salt, sizeof salt, info, sizeof info, ct, 47, &e),
	    CTNG_EVERIFY);
	assert_int_equal(ctng_seal_open(back, rsk, epk, NULL, 0, NULL, 0, ct, 15, &e), CTNG_EINVAL);
	/* empty salt and info work too */
	assert_int_equal(ctng_seal(ct, esk, rpk, NULL, 0, NULL, 0, pt, 32, NULL), 0);
	assert_int_equal(ctng_seal_open(back, rsk, epk, NULL, 0, NULL, 0, ct, 48, &e), 0);
	assert_memory_equal(back, pt, 32);
}

static void test_low_order_key(void **state)
{
	(void)state;
	uint8_t esk[32], epk[32], ct[48], pt[32] = {1};
	assert_int_equal(ctng_seal_keygen(esk, epk, NULL), 0);
	uint8_t zero[32] = {0}, one[32] = {1};
	ctng_err e = {0};
	assert_int_equal(ctng_seal(ct, esk, zero, NULL, 0, NULL, 0, pt, 32, &e), CTNG_EINVAL);
	assert_int_equal(ctng_seal(ct, esk, one, NULL, 0, NULL, 0, pt, 32, &e), CTNG_EINVAL);
	uint8_t big[CTNG_SEAL_MAX_AD + 1] = {0};
	assert_int_equal(ctng_seal(ct, esk, epk, big, sizeof big, NULL, 0, pt, 32, &e),
	                 CTNG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7748_public),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_low_order_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
