/*
 * test_dkg_vectors.c — the DKG messages' canonical bytes, hashes, signatures
 * and sealed shares of docs/protocol.md §10, computed from the inputs the
 * document lists (RFC 8032 test key 1, RFC 7748 §6.1 keys) and compared
 * byte for byte, so the document and the code cannot drift apart (the
 * proof of knowledge was recomputed with Python's hashlib and `ctng bls
 * pubkey` from the text of §10). Run with
 * CTNG_PRINT_VECTORS=1 to print the values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/bls.h"
#include "ctng/dkg.h"
#include "ctng/seal.h"
#include "ctng/sig.h"

/* RFC 8032 §7.1 test 1 secret key, as PKCS#8 PEM. */
static const char ED_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                             "-----END PRIVATE KEY-----\n";
static const char *ALICE_SK = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char *BOB_PK = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

/* Expected values (docs/protocol.md §10). */
static const char *WANT_DEAL_HASH =
    "ec2092095b39d9eface23df4833e019d15b4d4ffba870790f3de5bef47cb908a";
static const char *WANT_POK_R =
    "8eda43039858e60f8257d06d97ce7404176490a0f056cf2da0d2e7602a7d8eea83453644983f26ee52712300610a5c"
    "3f15c07de1beb6fcbd5f94b2e13a45507ff65367d5a0c2d35527ff8c79206ebef5ac4299fc4dd9f114249e8ba79eba"
    "2527";
static const char *WANT_POK_Z = "427b4058867b607acb47fc621ef5a7e0ae92180000c5bf703f9c8fe4d894044f";
static const char *WANT_RESP_BYTES =
    "43544e472d444b472d5631021111111111111111111111111111111111111111111111111111111111111111000000"
    "09676f737369706572310000000100000009676f73736970657232";
static const char *WANT_RESP_SIG =
    "aed5fee175546f7191d7ff98d799d29c01c82a27e2463a7ba6e82a7209b45e241ecd9ff17e2f8b7868094c0e30c09a"
    "a61454b12f3d4537bb68de5a20cec18103";
static const char *WANT_JUST_BYTES =
    "43544e472d444b472d5631031111111111111111111111111111111111111111111111111111111111111111000000"
    "09676f7373697065723100000009676f73736970657232000000000000000000000000000000000000000000000000"
    "0000000000000005";
static const char *WANT_JUST_JSON =
    "{\"ctng_dkg\":1,\"type\":\"justification\",\"session\":"
    "\"1111111111111111111111111111111111111111111111111111111111111111\",\"sender\":\"gossiper1\","
    "\"to\":\"gossiper2\",\"share\":"
    "\"0000000000000000000000000000000000000000000000000000000000000005\",\"signature\":"
    "\"a0866174f2a277b0cb694fe34b3c400d0865e69a11ad0bea2e0b90ccc805781ae8ad6281744e5cb6b59a2e096319"
    "c7c8d2b959677cfcadfda3d6134b8d3dc506\"}";
static const char *WANT_SEALED = "3f3f3e6d0b54b6ded6d02600b5979c32919cdee010ee326f1af37e3a89fda84cb"
                                 "3bf91a3f0950912d4fa0bc8057f7943";

static bool printing(void)
{
	return getenv("CTNG_PRINT_VECTORS") != NULL;
}

static void check_hex(const char *label, const uint8_t *b, size_t n, const char *want)
{
	char *h = ctng_hex_strdup(b, n);
	if (printing())
		printf("%s = %s\n", label, h);
	else
		assert_string_equal(h, want);
	free(h);
}

static void scalar(uint8_t out[32], uint8_t v)
{
	memset(out, 0, 32);
	out[31] = v;
}

static void test_vectors(void **state)
{
	(void)state;
	ctng_sig_key *k = NULL;
	ctng_err e = {0};
	assert_int_equal(ctng_sig_load_private_pem(ED_PEM, strlen(ED_PEM), &k, &e), 0);
	uint8_t session[32];
	memset(session, 0x11, 32);

	/* deal of gossiper1: f(x) = 1 + 2x, t = 2, n = 2 */
	ctng_dkg_msg d = {0};
	d.type = CTNG_DKG_DEAL;
	memcpy(d.session, session, 32);
	strcpy(d.sender, "gossiper1");
	d.t = 2;
	d.n = 2;
	d.commitments = calloc(2, 96);
	d.shares = calloc(2, CTNG_DKG_SHARE_CT_LEN);
	uint8_t a0[32], a1[32], esk[32], rpk[2][32], f[2][32], rsk1[32];
	scalar(a0, 1);
	scalar(a1, 2);
	scalar(f[0], 3);
	scalar(f[1], 5);
	assert_int_equal(ctng_bls_sk_to_pk(d.commitments[0], a0, &e), 0);
	assert_int_equal(ctng_bls_sk_to_pk(d.commitments[1], a1, &e), 0);
	/* its proof of knowledge of a_0 = 1 (deterministic) */
	assert_int_equal(ctng_dkg_pok_prove(d.pok_r, d.pok_z, a0, session, "gossiper1", &e), 0);
	check_hex("deal pok_r", d.pok_r, 96, WANT_POK_R);
	check_hex("deal pok_z", d.pok_z, 32, WANT_POK_Z);
	assert_int_equal(
	    ctng_dkg_pok_verify(d.commitments[0], d.pok_r, d.pok_z, session, "gossiper1", &e), 0);
	assert_int_equal(
	    ctng_dkg_pok_verify(d.commitments[0], d.pok_r, d.pok_z, session, "gossiper2", NULL),
	    CTNG_EVERIFY);
	assert_int_equal(
	    ctng_dkg_pok_verify(d.commitments[1], d.pok_r, d.pok_z, session, "gossiper1", NULL),
	    CTNG_EVERIFY);
	assert_int_equal(ctng_hex_decode_exact(esk, 32, ALICE_SK, NULL), 0);
	assert_int_equal(ctng_seal_public(d.ephemeral, esk, &e), 0);
	assert_int_equal(ctng_hex_decode_exact(rpk[0], 32, BOB_PK, NULL), 0);
	memset(rsk1, 0x42, 32);
	assert_int_equal(ctng_seal_public(rpk[1], rsk1, &e), 0);
	const char *to[2] = {"gossiper1", "gossiper2"};
	for (int r = 0; r < 2; r++) {
		ctng_buf info = {0};
		ctng_buf_append(&info, "CTNG-DKG-V1 share", 17);
		ctng_buf_append(&info, session, 32);
		ctng_buf_append_lp32(&info, "gossiper1", 9);
		ctng_buf_append_lp32(&info, to[r], strlen(to[r]));
		assert_int_equal(ctng_seal(d.shares[r], esk, rpk[r], session, 32, info.data,
		                           info.len, f[r], 32, &e),
		                 0);
		ctng_buf_free(&info);
	}
	check_hex("sealed share for gossiper2", d.shares[1], CTNG_DKG_SHARE_CT_LEN, WANT_SEALED);
	/* gossiper2 (X25519 key 0x42...) opens it */
	uint8_t back[32];
	{
		ctng_buf info = {0};
		ctng_buf_append(&info, "CTNG-DKG-V1 share", 17);
		ctng_buf_append(&info, session, 32);
		ctng_buf_append_lp32(&info, "gossiper1", 9);
		ctng_buf_append_lp32(&info, "gossiper2", 9);
		assert_int_equal(ctng_seal_open(back, rsk1, d.ephemeral, session, 32, info.data,
		                                info.len, d.shares[1], CTNG_DKG_SHARE_CT_LEN, &e),
		                 0);
		assert_memory_equal(back, f[1], 32);
		ctng_buf_free(&info);
	}
	uint8_t h[32];
	assert_int_equal(ctng_dkg_msg_hash(&d, h, &e), 0);
	check_hex("deal hash", h, 32, WANT_DEAL_HASH);
	ctng_buf b = {0};
	assert_int_equal(ctng_dkg_msg_signed_bytes(&d, &b, &e), 0);
	assert_int_equal(b.len, 11 + 1 + 32 + 4 + 9 + 4 + 2 * 96 + 96 + 32 + 32 + 4 + 2 * 48);
	ctng_buf_free(&b);

	/* response of gossiper1 complaining about gossiper2 */
	ctng_dkg_msg r = {0};
	r.type = CTNG_DKG_RESPONSE;
	memcpy(r.session, session, 32);
	strcpy(r.sender, "gossiper1");
	r.n_complaints = 1;
	r.complaints = calloc(1, sizeof *r.complaints);
	strcpy(r.complaints[0], "gossiper2");
	assert_int_equal(ctng_dkg_msg_signed_bytes(&r, &b, &e), 0);
	check_hex("response signed bytes", b.data, b.len, WANT_RESP_BYTES);
	ctng_buf_free(&b);
	assert_int_equal(ctng_dkg_msg_sign(&r, k, &e), 0);
	assert_int_equal(r.sig_len, 64);
	check_hex("response signature", r.sig, r.sig_len, WANT_RESP_SIG);
	assert_int_equal(ctng_dkg_msg_verify(&r, k, &e), 0);

	/* justification of gossiper1 revealing f(2) = 5 to gossiper2 */
	ctng_dkg_msg j = {0};
	j.type = CTNG_DKG_JUSTIFICATION;
	memcpy(j.session, session, 32);
	strcpy(j.sender, "gossiper1");
	strcpy(j.to, "gossiper2");
	memcpy(j.share, f[1], 32);
	assert_int_equal(ctng_dkg_msg_signed_bytes(&j, &b, &e), 0);
	check_hex("justification signed bytes", b.data, b.len, WANT_JUST_BYTES);
	ctng_buf_free(&b);
	assert_int_equal(ctng_dkg_msg_sign(&j, k, &e), 0);
	char *json = NULL;
	size_t len = 0;
	assert_int_equal(ctng_dkg_msg_encode(&j, &json, &len, &e), 0);
	if (printing())
		printf("justification json = %s\n", json);
	else
		assert_string_equal(json, WANT_JUST_JSON);
	/* and it parses back to the same message */
	ctng_dkg_msg p;
	assert_int_equal(ctng_dkg_msg_parse(json, len, &p, &e), 0);
	uint8_t h1[32], h2[32];
	ctng_dkg_msg_hash(&j, h1, NULL);
	ctng_dkg_msg_hash(&p, h2, NULL);
	assert_memory_equal(h1, h2, 32);
	assert_int_equal(ctng_dkg_msg_verify(&p, k, &e), 0);
	ctng_dkg_msg_clear(&p);
	free(json);
	ctng_dkg_msg_clear(&d);
	ctng_dkg_msg_clear(&r);
	ctng_dkg_msg_clear(&j);
	ctng_sig_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
