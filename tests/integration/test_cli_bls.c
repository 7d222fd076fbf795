/*
 * test_cli_bls.c — `ctng bls …` through the real binary (DESIGN §10): known
 * answers for keygen/pubkey/sign/pop-prove/hash-to-g1, verification exit
 * statuses (0 valid, 1 invalid, 2 malformed), and a full threshold round:
 * deal (JSON), partial signatures, combine, verify under the group key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "testutil.h"

#define MAXARGS 16
#define OUTCAP  65536

static char out[OUTCAP];

/* Runs CTNG_BIN bls ARGS..., captures stdout (trailing newline removed) and
 * returns the exit status; stderr goes to /dev/null. */
static int bls(const char *a0, ...)
{
	const char *argv[MAXARGS + 3];
	size_t n = 0;
	argv[n++] = CTNG_BIN;
	argv[n++] = "bls";
	va_list ap;
	va_start(ap, a0);
	for (const char *a = a0; a && n < MAXARGS + 2; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	size_t len;
	int status = ctng_test_run(argv, out, OUTCAP, &len, NULL, 0, 0);
	assert_true(len < OUTCAP - 1);
	while (len && out[len - 1] == '\n')
		len--;
	out[len] = 0;
	assert_true(status < 256); /* exited, not killed by a signal */
	return status;
}

/* dst = prefix + src, checked to fit */
static void join(char *dst, size_t cap, const char *prefix, const char *src)
{
	size_t a = strlen(prefix), b = strlen(src);
	assert_true(a + b < cap);
	memcpy(dst, prefix, a);
	memcpy(dst + a, src, b + 1);
}

#define IKM "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SK  "23360db7e337b0a32b264e06bc11c1b474d16f55665373de1ce93cf15ddb3456"
#define PK                                                                                         \
	"acfd749941a5bea56796745d1fc91668d63f9522374cb6e9c033433e3216dcad48b4fc1ab7000a365f286156" \
	"5daa6b"                                                                                   \
	"0819fd041ac58eed8c441c8b3478df6ceeaf89cc02c8119f63891a1368d7ec1d0c7e2abaaae2ac8579b7eece" \
	"473478dac7"
#define SIG_HELLO                                                                                  \
	"b58cf2b58d95e38353bc0ab6187c9cf9f7befe9ec8496f237280a3e3fd84bc3c6f03634b6bdef244e82fcc73" \
	"99c70520"
#define POP                                                                                        \
	"b99321d33a3c3b4e351b7d510b9b28b697b1727eb6d57b0982e5e95f7d2b4f91d40b676624eec9478b06b35a" \
	"e67e6d98"
#define HELLO "68656c6c6f"

static void test_known_answers(void **state)
{
	(void)state;
	assert_int_equal(bls("keygen", IKM, NULL), 0);
	assert_string_equal(out, SK);
	assert_int_equal(bls("pubkey", SK, NULL), 0);
	assert_string_equal(out, PK);
	assert_int_equal(bls("sign", SK, HELLO, NULL), 0);
	assert_string_equal(out, SIG_HELLO);
	assert_int_equal(
	    bls("sign", "--dst", "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_", SK, HELLO, NULL),
	    0);
	assert_string_equal(out, SIG_HELLO);
	assert_int_equal(bls("pop-prove", SK, NULL), 0);
	assert_string_equal(out, POP);
	/* RFC 9380 G1 RO vector 1 (msg ""), compressed */
	assert_int_equal(
	    bls("hash-to-g1", "--dst=QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_", "", NULL),
	    0);
	assert_string_equal(out,
	                    "852926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf"
	                    "62d9c09db0fac349612b759e79a1");
}

static void test_verify_statuses(void **state)
{
	(void)state;
	assert_int_equal(bls("verify", PK, HELLO, SIG_HELLO, NULL), 0);
	assert_int_equal(bls("verify", PK, "68656c6c6e", SIG_HELLO, NULL), 1);
	assert_int_equal(bls("verify", "--dst", "X", PK, HELLO, SIG_HELLO, NULL), 1);
	assert_int_equal(bls("pop-verify", PK, POP, NULL), 0);
	assert_int_equal(bls("pop-verify", PK, SIG_HELLO, NULL), 1);
	/* malformed: short hex, bad hex, identity, flags, missing args, unknown option */
	assert_int_equal(bls("verify", PK, HELLO, "b58c", NULL), 2);
	assert_int_equal(bls("verify", PK, "6g", SIG_HELLO, NULL), 2);
	assert_int_equal(
	    bls("verify", PK, HELLO,
	        "c0000000000000000000000000000000000000000000000000000000000000000000000000"
	        "0000000000000000000000",
	        NULL),
	    2);
	assert_int_equal(
	    bls("verify", PK, HELLO,
	        "358cf2b58d95e38353bc0ab6187c9cf9f7befe9ec8496f237280a3e3fd84bc3c6f03634b6b"
	        "def244e82fcc7399c70520",
	        NULL),
	    2);
	assert_int_equal(bls("verify", PK, HELLO, NULL), 2);
	assert_int_equal(bls("verify", "--bogus", "1", PK, HELLO, SIG_HELLO, NULL), 2);
	assert_int_equal(bls("keygen", "00", NULL), 2);
	assert_int_equal(bls("pubkey", "00", NULL), 2);
	assert_int_equal(
	    bls("pubkey", "0000000000000000000000000000000000000000000000000000000000000000", NULL),
	    2);
	assert_int_equal(bls("sign", "--dst", "", SK, HELLO, NULL), 2);
	assert_int_equal(bls("frobnicate", NULL), 2);
	assert_int_equal(bls(NULL), 2);
	/* aggregate of one is itself; malformed input is refused */
	assert_int_equal(bls("aggregate", SIG_HELLO, NULL), 0);
	assert_string_equal(out, SIG_HELLO);
	assert_int_equal(bls("aggregate", SIG_HELLO, POP, NULL), 0);
	assert_int_equal(strlen(out), 96);
	assert_int_equal(bls("aggregate", NULL), 2);
}

static void test_threshold_round(void **state)
{
	(void)state;
	assert_int_equal(bls("deal", "--threshold", "2", "--shares", "3", "--seed", SK SK, NULL),
	                 0);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	const char *gpk = json_string_value(json_object_get(j, "group_pk"));
	json_t *com = json_object_get(j, "commitments");
	json_t *sh = json_object_get(j, "shares");
	assert_non_null(gpk);
	assert_int_equal(strlen(gpk), 192);
	assert_int_equal(json_array_size(com), 2);
	assert_string_equal(json_string_value(json_array_get(com, 0)), gpk);
	assert_int_equal(json_array_size(sh), 3);
	char part[3][128], gsig[100];
	for (size_t i = 0; i < 3; i++) {
		json_t *s = json_array_get(sh, i);
		assert_int_equal(json_integer_value(json_object_get(s, "id")), (json_int_t)i + 1);
		const char *sk = json_string_value(json_object_get(s, "sk"));
		const char *pk = json_string_value(json_object_get(s, "pk"));
		assert_int_equal(bls("pubkey", sk, NULL), 0);
		assert_string_equal(out, pk);
		assert_int_equal(bls("sign", sk, HELLO, NULL), 0);
		char id[8] = {(char)('1' + i), ':', 0};
		join(part[i], sizeof part[i], id, out);
		assert_int_equal(bls("verify", pk, HELLO, out, NULL), 0);
	}
	/* any two shares give the same group signature, valid under group_pk */
	assert_int_equal(bls("combine", part[0], part[2], NULL), 0);
	join(gsig, sizeof gsig, "", out);
	assert_int_equal(bls("combine", part[2], part[1], NULL), 0);
	assert_string_equal(out, gsig);
	assert_int_equal(bls("verify", gpk, HELLO, gsig, NULL), 0);
	/* one share alone is not the group signature */
	assert_int_equal(bls("combine", part[1], NULL), 0);
	assert_int_equal(bls("verify", gpk, HELLO, out, NULL), 1);
	/* the same seed deals the same keys */
	char again[OUTCAP];
	char *first = json_dumps(j, JSON_COMPACT);
	assert_int_equal(bls("deal", "--threshold", "2", "--shares", "3", "--seed", SK SK, NULL),
	                 0);
	join(again, sizeof again, "", out);
	json_t *j2 = json_loads(again, 0, &jerr);
	char *second = json_dumps(j2, JSON_COMPACT);
	assert_string_equal(first, second);
	free(first);
	free(second);
	json_decref(j2);
	/* malformed combine inputs and dealing parameters */
	char dup[128];
	join(dup, sizeof dup, "1:", part[1] + 2);
	assert_int_equal(bls("combine", part[0], dup, NULL), 2); /* duplicate id 1 */
	join(dup, sizeof dup, "0:", part[1] + 2);
	assert_int_equal(bls("combine", dup, part[0], NULL), 2); /* id 0 */
	assert_int_equal(bls("combine", "1-abcd", NULL), 2);
	assert_int_equal(bls("combine", "x:00", NULL), 2);
	assert_int_equal(bls("deal", "--threshold", "4", "--shares", "3", NULL), 2);
	assert_int_equal(bls("deal", "--threshold", "0", "--shares", "3", NULL), 2);
	assert_int_equal(bls("deal", "--shares", "3", NULL), 2);
	assert_int_equal(bls("deal", "--threshold", "2", "--shares", "3", "--seed", "00", NULL), 2);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_answers),
	    cmocka_unit_test(test_verify_statuses),
	    cmocka_unit_test(test_threshold_round),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
