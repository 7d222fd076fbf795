/* test_base.c — hex, base64, buffers, errors, decimal parsing, RFC 3339 and
 * the period clock at its edges (before genesis, exact boundaries, huge
 * values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/base.h"

static void test_hex_roundtrip(void **s)
{
	(void)s;
	uint8_t in[256], out[256];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	char hex[513];
	ctng_hex_encode(hex, in, sizeof(in));
	assert_int_equal(strncmp(hex, "000102", 6), 0);
	assert_int_equal(ctng_hex_decode_exact(out, sizeof(out), hex, NULL), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* upper case accepted on input */
	uint8_t two[2];
	assert_int_equal(ctng_hex_decode_exact(two, 2, "ABcd", NULL), 0);
	assert_int_equal(two[0], 0xab);
	assert_int_equal(two[1], 0xcd);
}

static void test_hex_digit(void **s)
{
	(void)s;
	const char *digits = "0123456789abcdef", *upper = "ABCDEF";
	for (int i = 0; i < 16; i++)
		assert_int_equal(ctng_hex_digit(digits[i]), i);
	for (int i = 0; i < 6; i++)
		assert_int_equal(ctng_hex_digit(upper[i]), 10 + i);
	/* Every other byte, including the neighbours of each range, is not a digit. */
	for (int c = -128; c < 128; c++) {
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			continue;
		assert_int_equal(ctng_hex_digit((char)c), -1);
	}
}

static void test_hex_rejects(void **s)
{
	(void)s;
	uint8_t out[4];
	ctng_err e = {0};
	assert_int_equal(ctng_hex_decode_exact(out, 2, "abc", &e), CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "digits"));
	assert_int_equal(ctng_hex_decode_exact(out, 2, "abcg", &e), CTNG_EINVAL);
	assert_non_null(strstr(e.msg, "offset 3"));
	assert_int_equal(ctng_hex_decode_exact(out, 2, "0x12", &e), CTNG_EINVAL);
	assert_int_equal(ctng_hex_decode_exact(out, 2, "ab cd", &e), CTNG_EINVAL);
	assert_int_equal(ctng_hex_decode_exact(out, 2, NULL, &e), CTNG_EINVAL);
	uint8_t *p;
	size_t n;
	assert_int_equal(ctng_hex_decode_alloc("abc", &p, &n, &e), CTNG_EINVAL);
	assert_int_equal(ctng_hex_decode_alloc("", &p, &n, &e), 0);
	assert_int_equal(n, 0);
	free(p);
}

static void test_b64_rfc4648_vectors(void **s)
{
	(void)s;
	/* RFC 4648 §10 test vectors */
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (int i = 0; i < 7; i++) {
		char *e = ctng_b64_strdup((const uint8_t *)plain[i], strlen(plain[i]));
		assert_string_equal(e, enc[i]);
		free(e);
		uint8_t *d;
		size_t n;
		assert_int_equal(ctng_b64_decode_alloc(enc[i], strlen(enc[i]), &d, &n, NULL), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
}

static void test_b64_rejects(void **s)
{
	(void)s;
	static const char *bad[] = {
	    "Zg=",      /* length not multiple of 4 */
	    "Zg===",    /* too much padding */
	    "Z===",     /* three pad chars */
	    "Zh==",     /* non-zero trailing bits */
	    "Zm9=",     /* non-zero trailing bits (one pad) */
	    "Zm 9v",    /* whitespace */
	    "Zm9v\n",   /* newline */
	    "Zg==Zg==", /* padding in the middle */
	    "Zm-v",     /* url alphabet */
	    "====",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *d = NULL;
		size_t n;
		ctng_err e = {0};
		int rc = ctng_b64_decode_alloc(bad[i], strlen(bad[i]), &d, &n, &e);
		assert_int_equal(rc, CTNG_EINVAL);
		assert_true(e.msg[0] != 0);
		assert_null(d);
	}
	uint8_t out[2];
	assert_int_equal(ctng_b64_decode_exact(out, 2, "Zg==", NULL), CTNG_EINVAL);
	assert_int_equal(ctng_b64_decode_exact(out, 2, "Zm8=", NULL), 0);
	char *u = ctng_b64url_strdup((const uint8_t *)"\xfb\xff", 2);
	assert_string_equal(u, "-_8");
	free(u);
}

static void test_buf(void **s)
{
	(void)s;
	ctng_buf b = {0};
	assert_int_equal(ctng_buf_append_u8(&b, 1), 0);
	assert_int_equal(ctng_buf_append_u16be(&b, 0x0203), 0);
	assert_int_equal(ctng_buf_append_u24be(&b, 0x040506), 0);
	assert_int_equal(ctng_buf_append_u32be(&b, 0x0708090a), 0);
	assert_int_equal(ctng_buf_append_u64be(&b, 0x0b0c0d0e0f101112ull), 0);
	assert_int_equal(ctng_buf_append_lp32(&b, "xy", 2), 0);
	static const uint8_t want[] = {1,  2,  3,  4,  5,  6,  7, 8, 9, 10, 11,  12,
	                               13, 14, 15, 16, 17, 18, 0, 0, 0, 2,  'x', 'y'};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	ctng_buf_reset(&b);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(ctng_buf_printf(&b, "%d,", i), 0);
	assert_int_equal(strncmp((char *)b.data, "0,1,2,", 6), 0);
	assert_int_equal(strlen((char *)b.data), b.len);
	size_t n;
	uint8_t *p = ctng_buf_detach(&b, &n);
	assert_non_null(p);
	assert_null(b.data);
	free(p);
	ctng_buf_free(&b);
}

static void test_err(void **s)
{
	(void)s;
	ctng_err e = {0};
	assert_int_equal(ctng_err_set(&e, CTNG_EVERIFY, "bad %s", "thing"), CTNG_EVERIFY);
	assert_string_equal(e.msg, "bad thing");
	assert_int_equal(ctng_err_wrap(&e, "field %s", "period"), CTNG_EVERIFY);
	assert_string_equal(e.msg, "field period: bad thing");
	assert_int_equal(ctng_err_set(NULL, CTNG_EIO, "x"), CTNG_EIO);
	assert_string_equal(ctng_err_name(CTNG_ETIMEOUT), "ETIMEOUT");
}

static void test_parse_u64(void **s)
{
	(void)s;
	uint64_t v;
	assert_int_equal(ctng_parse_u64("0", UINT64_MAX, &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ctng_parse_u64("18446744073709551615", UINT64_MAX, &v, NULL), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ctng_parse_u64("18446744073709551616", UINT64_MAX, &v, NULL), CTNG_ERANGE);
	assert_int_equal(ctng_parse_u64("01", UINT64_MAX, &v, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_parse_u64("-1", UINT64_MAX, &v, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_parse_u64("+1", UINT64_MAX, &v, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_parse_u64("1 ", UINT64_MAX, &v, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_parse_u64("", UINT64_MAX, &v, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_parse_u64("11", 10, &v, NULL), CTNG_ERANGE);
	assert_int_equal(ctng_parse_period("9999999999999999999", &v, NULL), 0);
	assert_int_equal(ctng_parse_period("10000000000000000000", &v, NULL), CTNG_ERANGE);
}

static void test_rfc3339(void **s)
{
	(void)s;
	char ts[CTNG_RFC3339_LEN];
	ctng_rfc3339(ts, 1669088042000ull);
	assert_string_equal(ts, "2022-11-22T03:34:02Z");
	uint64_t ms;
	assert_int_equal(ctng_rfc3339_parse("2022-11-22T03:34:02Z", &ms, NULL), 0);
	assert_true(ms == 1669088042000ull);
	assert_int_equal(ctng_rfc3339_parse("2022-11-22T03:34:02.5Z", &ms, NULL), 0);
	assert_true(ms == 1669088042500ull);
	assert_int_equal(ctng_rfc3339_parse("2024-02-29T00:00:00Z", &ms, NULL), 0);
	assert_int_equal(ctng_rfc3339_parse("2023-02-29T00:00:00Z", &ms, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_rfc3339_parse("2022-11-22T03:34:02+01:00", &ms, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_rfc3339_parse("2022-13-22T03:34:02Z", &ms, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_rfc3339_parse("2022-11-22 03:34:02Z", &ms, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_rfc3339_parse("2022-11-22T03:34:02Zjunk", &ms, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_rfc3339_parse("", &ms, NULL), CTNG_EINVAL);
	for (uint64_t t = 0; t < 4000000000000ull; t += 987654321987ull) {
		ctng_rfc3339(ts, t);
		assert_int_equal(ctng_rfc3339_parse(ts, &ms, NULL), 0);
		assert_true(ms == t / 1000 * 1000);
	}
}

static void test_clock_edges(void **s)
{
	(void)s;
	ctng_clock c = {.genesis_ms = 1000000,
	                .period_ms = 60000,
	                .query_offset_ms = 1000,
	                .gossip_wait_ms = 5000,
	                .update_offset_ms = 30000};
	assert_int_equal(ctng_clock_check(&c, NULL), 0);
	uint64_t p = 77;
	assert_false(ctng_clock_period_of(&c, 999999, &p)); /* before genesis */
	assert_int_equal(p, 77);
	assert_true(ctng_clock_period_of(&c, 1000000, &p));
	assert_int_equal(p, 0);
	assert_true(ctng_clock_period_of(&c, 1059999, &p));
	assert_int_equal(p, 0);
	assert_true(ctng_clock_period_of(&c, 1060000, &p)); /* exact boundary */
	assert_int_equal(p, 1);
	/* past minute 59 of an hour: no wrap (the seed's bug) */
	assert_true(ctng_clock_period_of(&c, 1000000 + 60000ull * 61, &p));
	assert_int_equal(p, 61);
	assert_true(ctng_clock_period_start(&c, 61) == 1000000 + 60000ull * 61);
	assert_true(ctng_clock_ms_until_next(&c, 1000000 + 60000ull * 61 + 1) == 59999);
	assert_true(ctng_clock_ms_until_next(&c, 0) == 1000000);
	/* large values */
	assert_true(ctng_clock_period_of(&c, UINT64_MAX, &p));
	assert_true(p == (UINT64_MAX - 1000000) / 60000);
	assert_true(ctng_clock_period_start(&c, UINT64_MAX) == UINT64_MAX);
	assert_true(ctng_clock_period_start(&c, p) >= UINT64_MAX - 2 * 60000);
	ctng_clock one = {.genesis_ms = 0, .period_ms = 1};
	assert_true(ctng_clock_period_of(&one, UINT64_MAX, &p));
	assert_true(p == UINT64_MAX);
	/* acceptable window p-1..p+1 */
	assert_true(ctng_clock_period_acceptable(5, 4));
	assert_true(ctng_clock_period_acceptable(5, 5));
	assert_true(ctng_clock_period_acceptable(5, 6));
	assert_false(ctng_clock_period_acceptable(5, 3));
	assert_false(ctng_clock_period_acceptable(5, 7));
	assert_false(ctng_clock_period_acceptable(0, UINT64_MAX));
	assert_true(ctng_clock_period_acceptable(0, 1));
	assert_false(ctng_clock_period_acceptable(UINT64_MAX, 0));
	/* bad clocks */
	ctng_clock bad = c;
	bad.period_ms = 0;
	assert_int_equal(ctng_clock_check(&bad, NULL), CTNG_EINVAL);
	bad = c;
	bad.update_offset_ms = 60000;
	assert_int_equal(ctng_clock_check(&bad, NULL), CTNG_EINVAL);
	bad = c;
	bad.gossip_wait_ms = 29500;
	assert_int_equal(ctng_clock_check(&bad, NULL), CTNG_EINVAL);
}

static void test_files(void **s)
{
	(void)s;
	char dir[] = "/tmp/ctng-base-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[256], path[300];
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(ctng_mkdir_p(sub, 0700, NULL), 0);
	assert_int_equal(ctng_mkdir_p(sub, 0700, NULL), 0);
	snprintf(path, sizeof(path), "%s/f.txt", sub);
	assert_int_equal(ctng_write_file_atomic(path, "hello", 5, 0600, NULL), 0);
	uint8_t *d;
	size_t n;
	assert_int_equal(ctng_read_file(path, 100, &d, &n, NULL), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(d, "hello", 5);
	free(d);
	ctng_err e = {0};
	assert_int_equal(ctng_read_file(path, 4, &d, &n, &e), CTNG_ERANGE);
	assert_int_equal(ctng_read_file("/nonexistent/x", 4, &d, &n, &e), CTNG_EIO);
	unlink(path);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_misc(void **s)
{
	(void)s;
	uint8_t a[32], b[32];
	assert_int_equal(ctng_random(a, sizeof(a)), 0);
	memcpy(b, a, sizeof(a));
	assert_int_equal(ctng_ct_memcmp(a, b, 32), 0);
	b[31] ^= 1;
	assert_int_not_equal(ctng_ct_memcmp(a, b, 32), 0);
	ctng_wipe(a, sizeof(a));
	for (int i = 0; i < 32; i++)
		assert_int_equal(a[i], 0);
	assert_int_equal(ctng_log_parse_level("warn"), CTNG_LOG_WARN);
	assert_int_equal(ctng_log_parse_level("loud"), -1);
	ctng_log_set_node("test");
	ctng_log_set_level(CTNG_LOG_DEBUG);
	CTNG_DEBUG("log line", "k=%d s=%s", 1, "x");
	ctng_log_set_level(CTNG_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_roundtrip),
	    cmocka_unit_test(test_hex_rejects),
	    cmocka_unit_test(test_b64_rfc4648_vectors),
	    cmocka_unit_test(test_b64_rejects),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_err),
	    cmocka_unit_test(test_parse_u64),
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_clock_edges),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_misc),
	    cmocka_unit_test(test_hex_digit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
