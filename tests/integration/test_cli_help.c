/*
 * test_cli_help.c — every command and nested subcommand of the `ctng`
 * binary answers `--help` and `-h` with its usage on stdout and exit 0,
 * and `ctng help ...` likewise. The list comes from the binary itself
 * (`ctng help --commands`, built from the CLI's command table and each
 * command's usage forms), so commands added later are covered without
 * touching this test; each nested subcommand listed must also be one its
 * command dispatches (run without arguments it is a usage error, never
 * "unknown subcommand"). Also `ctng --version`.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static char out[1 << 16], err[1 << 16];

/* Runs CTNG_BIN with the words of `line` followed by the extra arguments. */
static int run_words(const char *line, const char *a1, const char *a2)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", line);
	const char *argv[16] = {CTNG_BIN};
	int n = 1;
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < 12;
	     w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	if (a1)
		argv[n++] = a1;
	if (a2)
		argv[n++] = a2;
	argv[n] = NULL;
	return ctng_test_run(argv, out, sizeof out, NULL, err, sizeof err, 10000);
}

static void test_every_command_answers_help(void **state)
{
	(void)state;
	static char list[1 << 16];
	const char *argv[] = {CTNG_BIN, "help", "--commands", NULL};
	assert_int_equal(ctng_test_run(argv, list, sizeof list, NULL, NULL, 0, 20000), 0);
	int commands = 0, nested = 0;
	for (char *save = NULL, *line = strtok_r(list, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *forms[][2] = {{"--help", NULL}, {"-h", NULL}, {"--bogus", "--help"}};
		/* -h, --help after another argument and `ctng help CMD`: once per
		 * top-level command is enough (main.c handles them the same way
		 * for every depth). */
		bool sub = strchr(line, ' ') != NULL;
		size_t nforms = sub ? 1 : 3;
		for (size_t k = 0; k < nforms; k++) {
			int st = run_words(line, forms[k][0], forms[k][1]);
			if (st != 0 || !strstr(out, "usage"))
				fail_msg("'ctng %s %s' exited %d; stdout: %.300s stderr: %.300s",
				         line, forms[k][0], st, out, err);
		}
		char helpline[300];
		snprintf(helpline, sizeof helpline, "help %s", line);
		if (!sub && (run_words(helpline, NULL, NULL) != 0 || !strstr(out, "usage")))
			fail_msg("'ctng %s' failed: %.300s", helpline, err);
		if (sub) {
			/* Listed means dispatched: without arguments it is at most a
			 * usage error, never an unknown subcommand. */
			nested++;
			int st = run_words(line, NULL, NULL);
			if (strstr(err, "unknown subcommand"))
				fail_msg("'ctng %s' (listed) is not dispatched: %d %.300s", line,
				         st, err);
		} else {
			commands++;
		}
	}
	/* The seed's commands and the nested ones of DESIGN 10 at least. */
	assert_true(commands >= 11);
	assert_true(nested >= 20);
	assert_int_equal(run_words("client verify", "--help", NULL), 0);
	assert_non_null(strstr(out, "ctng client verify"));
	assert_int_equal(run_words("client tls", "--help", NULL), 0);
	assert_non_null(strstr(out, "--connect ADDR[:PORT]"));
	assert_int_equal(run_words("help client tls", NULL, NULL), 0);
	assert_non_null(strstr(out, "ctng client tls"));
	assert_int_equal(run_words("client verify -h", NULL, NULL), 0);
}

static void test_help_errors(void **state)
{
	(void)state;
	assert_int_equal(run_words("nosuch", "--help", NULL), 2);
	assert_int_equal(run_words("help nosuch", NULL, NULL), 2);
	assert_int_equal(run_words("help client nosuch", NULL, NULL), 2);
	assert_int_equal(run_words("client nosuch", NULL, NULL), 2);
	assert_non_null(strstr(err, "unknown subcommand"));
	assert_int_equal(run_words("--help", NULL, NULL), 0);
	assert_non_null(strstr(out, "commands:"));
	assert_int_equal(run_words("help", NULL, NULL), 0);
}

static void test_version(void **state)
{
	(void)state;
	assert_int_equal(run_words("--version", NULL, NULL), 0);
	/* "ctng 0.1.0 (git 0123456789ab)" — the commit may carry -dirty. */
	unsigned a, b, c;
	char commit[64] = {0};
	assert_int_equal(sscanf(out, "ctng %u.%u.%u (git %63[^)])", &a, &b, &c, commit), 4);
	bool hex = strlen(commit) >= 12;
	for (size_t i = 0; i < 12 && hex; i++)
		hex = isxdigit((unsigned char)commit[i]) && !isupper((unsigned char)commit[i]);
	assert_true(hex || strcmp(commit, "unknown") == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_command_answers_help),
	    cmocka_unit_test(test_help_errors),
	    cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
