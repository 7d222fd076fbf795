/* test_cli_sim.c — `ctng sim` through the binary: a shipped scenario run
 * twice prints the same bytes (the contract), --json prints one object per
 * period and gossiper then the result, a generated network passes its
 * derived checks, and bad usage exits 2 with a one-line error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define OUT_CAP (1u << 20)

static int sim(const char *const *args, char *out, char *err)
{
	const char *argv[32] = {CTNG_BIN, "sim"};
	size_t n = 2;
	for (; args[n - 2]; n++)
		argv[n] = args[n - 2];
	argv[n] = NULL;
	return ctng_test_run(argv, out, OUT_CAP, NULL, err, 4096, 120000);
}

static void test_same_bytes_twice(void **st)
{
	(void)st;
	char *a = malloc(OUT_CAP), *b = malloc(OUT_CAP), err[4096];
	const char *args[] = {"--scenario", "seed-sample", "--periods", "3", "--json", NULL};
	assert_int_equal(sim(args, a, err), 0);
	assert_int_equal(sim(args, b, err), 0);
	assert_string_equal(a, b);
	/* 3 periods x 2 gossipers, then the result */
	size_t lines = 0;
	for (char *p = a; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 7);
	assert_true(strncmp(a, "{\"period\": 0, \"gossiper\": \"gossiper1\", \"counts\": {\"STH\": ", 57) == 0);
	assert_non_null(strstr(a, "\n{\"result\": \"pass\", \"failures\": []"));
	assert_non_null(strstr(err, "simulated seconds in"));
	free(a);
	free(b);
}

static void test_generated(void **st)
{
	(void)st;
	char *out = malloc(OUT_CAP), err[4096];
	const char *args[] = {"--monitors", "6", "--loggers", "2", "--cas", "2", "--periods", "2",
	                      NULL};
	assert_int_equal(sim(args, out, err), 0);
	assert_non_null(strstr(out, "6 gossipers, threshold 4"));
	assert_non_null(strstr(out, "gossip traffic per gossiper per period (in+out): "));
	assert_non_null(strstr(out, "PASS: every count matched scenario generated"));
	free(out);
}

static void test_usage(void **st)
{
	(void)st;
	char *out = malloc(OUT_CAP), err[4096];
	const char *a1[] = {"--scenario", "nope", NULL};
	assert_int_equal(sim(a1, out, err), 2);
	assert_non_null(strstr(err, "no scenario \"nope\""));
	const char *a2[] = {"--monitors", "4", "--threshold", "5", NULL};
	assert_int_equal(sim(a2, out, err), 2);
	const char *a3[] = {"--frobnicate", NULL};
	assert_int_equal(sim(a3, out, err), 2);
	const char *a4[] = {"sweep", "--param", "zeta", "--values", "1", NULL};
	assert_int_equal(sim(a4, out, err), 2);
	assert_non_null(strstr(err, "zeta unknown"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_bytes_twice),
	    cmocka_unit_test(test_generated),
	    cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
