/*
 * test_vectors.c — checks the test vectors of docs/protocol.md §8: recomputes
 * every canonical byte string from the vector inputs and compares hex, checks
 * the deterministic Ed25519 signatures byte for byte, verifies the fixed
 * ECDSA STH signature, and decodes/re-encodes the example JSON objects.
 * (The vectors were cross-checked with an independent Python implementation
 * of the spec using pyca/cryptography.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <roaring/roaring.h>

#include "ctng/proto.h"
#include "proto_vectors.h"

/* RFC 8032 §7.1 TEST 1 key, used as the CA's and the monitor's key. */
static const char *ED_SK_PEM = "-----BEGIN PRIVATE KEY-----\n"
                               "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                               "-----END PRIVATE KEY-----\n";
/* The fixed logger key (ECDSA P-256) of the vectors. */
static const char *EC_PK_DER =
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004e888f2b31ce4fe69bc445bfdf6c067e8d7e7"
    "c1a2180551e10a160007d05649c10b23069ddc3d7a2ad25d51b2b1281fbb2e6e3254295115acbbfd30ea2e99c4"
    "d3";
static const char *EC_KEY_ID = "8f8a4de9237b81f7ef15484f51616ed1f81dcb158a452a3e502651f67416a516";

static const ctng_clock CLOCK = {1700000000000ULL, 60000, 6000, 12000, 48000};

static const char *STH_TBS = "00010000018bcfe7504800000000000000070001020304050607"
                             "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *STH_DIGEST = "2a420611bd8739719a33243f593ab811b51c490044c8ed9fba15dc27953ad240";
static const char *STH_ATTEST = "43546e672f76312f6174746573740001000000076c6f676765723100000000"
                                "000000022a420611bd8739719a33243f593ab811b51c490044c8ed9fba15dc"
                                "27953ad240";
static const char *STH_JSON = CTNG_VEC_STH_JSON;

static const char *CRV_HASH = "6e42da1d8497f2f0c8114a0d19985d6a41267f276f91c9999877528f98805448";
static const char *DELTA = "3a300000020000000000000001000000180000001a00000009007011";
static const char *REV_TBS = "43546e672f76312f524556000000000363613100000000000000026e42da1d84"
                             "97f2f0c8114a0d19985d6a41267f276f91c9999877528f9880544834f8596577"
                             "067d2687abfde884d9bb4a563207d20db3aa83a3626acb90f099cb";
static const char *REV_SIG =
    "XaA2fpTuprHfpNNREu/wGbPtlxHYC0/WDHhs2FLQIAQitQW9olm+lRkXf5HGfUffSsuc6ZQt64Nb+Ukx3xbxAg==";
static const char *REV_ATTEST = "43546e672f76312f6174746573740002000000036361310000000000000002"
                                "c873d13e1a023f828e27060955f5498a89982dcc1240a6c3db54255ce2ad03"
                                "a0";
static const char *REV_JSON = CTNG_VEC_REV_JSON;

static const char *ACC_TBS = "43546e672f76312f41434300000000086d6f6e69746f7231000000076c6f6767"
                             "6572320000000000000002";
static const char *ACC_SIG =
    "MPfiqFcCqtCwtJ3XTZL8vzg99J+nR2srDyubHHmjEEbrukvnpS/y/D46CCcM/UW6y98RHPVnykLLuNUjd5XNCg==";
static const char *ACC_ATTEST = "43546e672f76312f6174746573740003000000076c6f67676572320000000000"
                                "000002";
static const char *CON_ATTEST = "43546e672f76312f6174746573740004000000076c6f67676572310000000000"
                                "000002";

/* docs/protocol.md §9 (cross-checked with pyca/cryptography's Ed25519). */
static const char *OBS_A_TBS =
    "43546e672f76312f4f425300000000086d6f6e69746f7231000000076c6f6767657231010000000000000002"
    "012a420611bd8739719a33243f593ab811b51c490044c8ed9fba15dc27953ad24000000001";
static const char *OBS_A_JSON = CTNG_VEC_OBS_A_JSON;
static const char *OBS_B_TBS =
    "43546e672f76312f4f425300000000086d6f6e69746f72310000000363613102000000000000000202"
    "000000000000000000000000000000000000000000000000000000000000000000000000";
static const char *OBS_B_SIG = "r2CPAQhHVM3+kY2ywfHqnwh5IUn6RHOos+PbUcl/ZLQyO8izzRx60P+UvZRqkDUcSO8"
                               "RkuLH0e8DRBBam4XhCA==";

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char *h = ctng_hex_strdup(p, n);
	assert_string_equal(h, want);
	free(h);
}

static ctng_sig_key *ed_key(void)
{
	ctng_sig_key *k = NULL;
	assert_int_equal(ctng_sig_load_private_pem(ED_SK_PEM, strlen(ED_SK_PEM), &k, NULL), 0);
	return k;
}

static void test_sth_vector(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_sth sth = {1700000125000ULL, 7, {0}};
	for (int i = 0; i < 32; i++)
		sth.root[i] = (uint8_t)i;
	uint8_t tbs[CTNG_STH_TBS_LEN];
	ctng_sth_tbs(&sth, tbs);
	assert_hex(tbs, sizeof(tbs), STH_TBS);

	ctng_gossip_object o = {0};
	assert_int_equal(ctng_gossip_decode(STH_JSON, strlen(STH_JSON), &o, &err), 0);
	ctng_sth got;
	assert_int_equal(ctng_sth_from_object(&o, &got, &err), 0);
	assert_memory_equal(&got, &sth, sizeof(sth));
	ctng_buf b = {0};
	assert_int_equal(ctng_gossip_signed_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, STH_TBS);
	uint8_t d[32];
	assert_int_equal(ctng_gossip_content_digest(&o, d, &err), 0);
	assert_hex(d, 32, STH_DIGEST);
	ctng_buf_reset(&b);
	assert_int_equal(ctng_gossip_attest_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, STH_ATTEST);

	ctng_sig_key *pk = NULL;
	assert_int_equal(ctng_sig_load_public_hex(EC_PK_DER, &pk, &err), 0);
	uint8_t id[32];
	assert_int_equal(ctng_sig_key_id(pk, id, &err), 0);
	assert_hex(id, 32, EC_KEY_ID);
	assert_int_equal(ctng_gossip_verify_signed(&o, pk, &CLOCK, &err), 0);
	/* canonical re-encoding is byte-identical */
	char *enc = NULL;
	assert_int_equal(ctng_gossip_encode(&o, &enc, NULL, &err), 0);
	assert_string_equal(enc, STH_JSON);
	free(enc);
	/* a different clock puts the timestamp in another period: rejected */
	ctng_clock other = CLOCK;
	other.period_ms = 30000;
	assert_int_equal(ctng_gossip_verify_signed(&o, pk, &other, &err), CTNG_EVERIFY);
	ctng_buf_free(&b);
	ctng_gossip_clear(&o);
	ctng_sig_key_free(pk);
}

static void test_rev_vector(void **state)
{
	(void)state;
	ctng_err err = {0};
	roaring_bitmap_t *crv = roaring_bitmap_of(4, 1, 5, 9, 70000);
	roaring_bitmap_t *delta = roaring_bitmap_of(2, 9, 70000);
	uint8_t ch[32];
	assert_int_equal(ctng_crv_hash(crv, ch, &err), 0);
	assert_hex(ch, 32, CRV_HASH);
	uint8_t *dbytes = NULL;
	size_t dlen = 0;
	assert_int_equal(ctng_crv_delta_encode(delta, &dbytes, &dlen, &err), 0);
	assert_hex(dbytes, dlen, DELTA);
	roaring_bitmap_t *back = NULL;
	assert_int_equal(ctng_crv_delta_decode(dbytes, dlen, &back, &err), 0);
	assert_true(roaring_bitmap_equals(back, delta));
	roaring_bitmap_free(back);

	ctng_sig_key *k = ed_key();
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_rev_sign(&o, "ca1", k, 2, ch, dbytes, dlen, 1700000121000ULL, &err),
	                 0);
	ctng_buf b = {0};
	assert_int_equal(ctng_gossip_signed_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, REV_TBS);
	assert_string_equal(o.signature[0], REV_SIG); /* Ed25519 is deterministic */
	char *enc = NULL;
	assert_int_equal(ctng_gossip_encode(&o, &enc, NULL, &err), 0);
	assert_string_equal(enc, REV_JSON);
	free(enc);
	ctng_buf_reset(&b);
	assert_int_equal(ctng_gossip_attest_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, REV_ATTEST);
	assert_int_equal(ctng_gossip_verify_signed(&o, k, NULL, &err), 0);

	ctng_gossip_object dec = {0};
	assert_int_equal(ctng_gossip_decode(REV_JSON, strlen(REV_JSON), &dec, &err), 0);
	assert_true(ctng_gossip_equal(&dec, &o));
	ctng_rev rev;
	assert_int_equal(ctng_rev_from_object(&dec, &rev, &err), 0);
	assert_int_equal(rev.delta_len, dlen);
	assert_memory_equal(rev.delta, dbytes, dlen);
	ctng_rev_clear(&rev);

	ctng_buf_free(&b);
	ctng_gossip_clear(&o);
	ctng_gossip_clear(&dec);
	free(dbytes);
	ctng_sig_key_free(k);
	roaring_bitmap_free(crv);
	roaring_bitmap_free(delta);
}

static void test_acc_con_vectors(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_sig_key *k = ed_key();
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_acc_sign(&o, "monitor1", k, "logger2", 2, 1700000127000ULL, &err), 0);
	ctng_buf b = {0};
	assert_int_equal(ctng_gossip_signed_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, ACC_TBS);
	assert_string_equal(o.signature[0], ACC_SIG);
	ctng_buf_reset(&b);
	assert_int_equal(ctng_gossip_attest_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, ACC_ATTEST);
	ctng_buf_reset(&b);
	assert_int_equal(ctng_attest_bytes(CTNG_FAM_CON, "logger1", 2, NULL, &b, &err), 0);
	assert_hex(b.data, b.len, CON_ATTEST);
	ctng_gossip_id id;
	char s[CTNG_GOSSIP_ID_STR_MAX];
	assert_int_equal(ctng_gossip_id_of(&o, &id, &err), 0);
	ctng_gossip_id_str(&id, s);
	assert_string_equal(s, "ACC/logger2/2");
	ctng_buf_free(&b);
	ctng_gossip_clear(&o);
	ctng_sig_key_free(k);
}

static void test_obs_vectors(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_sig_key *k = ed_key();
	uint8_t d[32];
	assert_int_equal(ctng_hex_decode_exact(d, 32, STH_DIGEST, NULL), 0);
	ctng_observation o;
	assert_int_equal(ctng_obs_sign(&o, "monitor1", k, CTNG_FAM_STH, "logger1", 2,
	                               CTNG_OBS_OBTAINED, d, CTNG_OBS_CHECK_CONSISTENT, &err),
	                 0);
	ctng_buf b = {0};
	assert_int_equal(ctng_obs_signed_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, OBS_A_TBS);
	char *json = NULL;
	assert_int_equal(ctng_obs_encode(&o, &json, NULL, &err), 0);
	assert_string_equal(json, OBS_A_JSON);
	free(json);
	ctng_observation back;
	assert_int_equal(ctng_obs_decode(OBS_A_JSON, strlen(OBS_A_JSON), &back, &err), 0);
	assert_int_equal(ctng_obs_verify(&back, k, &err), 0);
	ctng_buf_reset(&b);
	assert_int_equal(ctng_obs_sign(&o, "monitor1", k, CTNG_FAM_REV, "ca1", 2, CTNG_OBS_FAILED,
	                               NULL, 0, &err),
	                 0);
	assert_int_equal(ctng_obs_signed_bytes(&o, &b, &err), 0);
	assert_hex(b.data, b.len, OBS_B_TBS);
	char *sig = ctng_b64_strdup(o.sig, o.sig_len);
	assert_string_equal(sig, OBS_B_SIG);
	free(sig);
	ctng_buf_free(&b);
	ctng_sig_key_free(k);
}

/* Strict decoding: every rule of docs/protocol.md §9 has its rejection. */
static void test_obs_strict(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to;
	} bad[] = {
	    {"\"family\":\"STH\"", "\"family\":\"ACC\""},
	    {"\"result\":\"obtained\"", "\"result\":\"seen\""},
	    {"\"period\":\"2\"", "\"period\":\"02\""},
	    {"\"period\":\"2\"", "\"period\":2"},
	    {"\"checks\":[\"consistent\"]", "\"checks\":[\"consistent\",\"consistent\"]"},
	    {"\"checks\":[\"consistent\"]", "\"checks\":[\"mirrored\"]"},
	    {"\"checks\":[\"consistent\"]", "\"checks\":\"consistent\""},
	    {"\"entity\":\"logger1\"", "\"entity\":\"monitor1\""},
	    {"\"entity\":\"logger1\"", "\"entity\":\"bad id\""},
	    {"\"digest\":\"2a", "\"digest\":\"2A"},
	    {"\"crypto_scheme\":\"ed25519\"", "\"crypto_scheme\":\"bls12-381\""},
	    {"\"monitor\":\"monitor1\",", "\"monitor\":\"monitor1\",\"monitor\":\"monitor1\","},
	    {"\"monitor\":\"monitor1\",", "\"x\":1,\"monitor\":\"monitor1\","},
	    {"\"monitor\":\"monitor1\",", ""},
	    {"==\"}", "==\"} x"},
	    {"ZNkx", "ZNk"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at = strstr(OBS_A_JSON, bad[i].from);
		assert_non_null(at);
		char buf[2048];
		snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - OBS_A_JSON), OBS_A_JSON, bad[i].to,
		         at + strlen(bad[i].from));
		ctng_observation o;
		ctng_err err = {0};
		if (ctng_obs_decode(buf, strlen(buf), &o, &err) != CTNG_EINVAL)
			fail_msg("accepted bad observation %zu: %s", i, buf);
		assert_true(err.msg[0] != 0);
	}
	/* a failed observation carries no digest */
	char buf[2048];
	snprintf(buf, sizeof buf, "%s", OBS_A_JSON);
	char *r = strstr(buf, "obtained");
	memcpy(r, "failed\"  ", 8); /* keeps the length: "failed"  ,"digest":"2a.. */
	ctng_observation o;
	assert_int_equal(ctng_obs_decode(buf, strlen(buf), &o, NULL), CTNG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sth_vector),
	    cmocka_unit_test(test_rev_vector),
	    cmocka_unit_test(test_acc_con_vectors),
	    cmocka_unit_test(test_obs_vectors),
	    cmocka_unit_test(test_obs_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
