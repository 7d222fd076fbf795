/*
 * test_merkle_leaves.c — the leaves-file parser of `ctng merkle`: line
 * splitting (LF, CRLF, missing final newline, empty lines as empty leaves),
 * leaf hashing with the 0x00 prefix, and strict rejection of bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/merkle.h"

static void parse_ok(const char *text, uint64_t want_n, const char *want_root_hex)
{
	uint8_t(*h)[32] = NULL;
	uint64_t n = 99;
	ctng_err err = {0};
	if (ctng_merkle_leaves_parse(text, strlen(text), &h, &n, &err))
		fail_msg("rejected \"%s\": %s", text, err.msg);
	assert_true(n == want_n);
	if (want_root_hex) {
		uint8_t root[32], want[32];
		assert_int_equal(ctng_merkle_root((const uint8_t(*)[32])h, n, n, root, NULL), 0);
		assert_int_equal(ctng_hex_decode_exact(want, 32, want_root_hex, NULL), 0);
		assert_memory_equal(root, want, 32);
	}
	free(h);
}

static void test_accepts(void **state)
{
	(void)state;
	static const char *ref8 =
	    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
	parse_ok("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* One empty leaf: SHA-256(0x00). */
	parse_ok("\n", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
	parse_ok("\r\n", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
	parse_ok(
	    "\n00\n10\n2021\n3031\n40414243\n5051525354555657\n606162636465666768696a6b6c6d6e6f\n",
	    8, ref8);
	parse_ok(
	    "\n00\n10\n2021\n3031\n40414243\n5051525354555657\n606162636465666768696A6B6C6D6E6F", 8,
	    ref8);
	parse_ok("\r\n00\r\n10\r\n2021\r\n3031\r\n40414243\r\n5051525354555657\r\n"
	         "606162636465666768696a6b6c6d6e6f\r\n",
	         8, ref8);
	parse_ok("00\n\n\n", 3, NULL);
}

static void test_rejects(void **state)
{
	(void)state;
	static const char *bad[] = {"0",      "0\n",      "zz\n",   "00 \n",  " 00\n", "00\r\r\n",
	                            "0x00\n", "00\n0g\n", "\r00\n", "00\t\n", "-1\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t(*h)[32] = (void *)1;
		uint64_t n = 7;
		ctng_err err = {0};
		if (ctng_merkle_leaves_parse(bad[i], strlen(bad[i]), &h, &n, &err) != CTNG_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(h);
		assert_true(n == 0);
		assert_non_null(strstr(err.msg, "line"));
	}
	/* An embedded NUL is not hex. */
	uint8_t(*h)[32];
	uint64_t n;
	assert_int_equal(ctng_merkle_leaves_parse("00\n\0000\n", 7, &h, &n, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_merkle_leaves_parse(NULL, 0, &h, &n, NULL), 0);
	assert_true(n == 0);
	assert_int_equal(ctng_merkle_leaves_parse(NULL, 3, &h, &n, NULL), CTNG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
