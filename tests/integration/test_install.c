/*
 * test_install.c — `cmake --install BUILD --prefix P` into a temporary
 * prefix, then used as an outside user would: P/bin/ctng runs and prints
 * its version; libctng.a, the public headers and ctng.pc let a program
 * outside the project (tests/install/rp_verify.c), compiled with nothing
 * but `pkg-config --cflags --libs ctng`, validate certificates with the
 * relying-party API against a client state (a valid and a revoked
 * certificate of the client fixtures' network); every man page formats
 * without a groff warning; every systemd unit passes `systemd-analyze
 * verify` and `systemd-analyze security` with an exposure of at most 2.0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../client/client_fixture.h"
#include "testutil.h"

#define OK(x) assert_int_equal((x), 0)

static char out[1 << 16], errout[1 << 16];
static char prefix[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	int st = ctng_test_run(argv, out, sizeof out, NULL, errout, sizeof errout, 120000);
	if (st != 0)
		fprintf(stderr, "$ %s\n-> %d\n%s%s\n", cmd, st, out, errout);
	return st;
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat sb;
	snprintf(p, sizeof p, "%s/%s", prefix, rel);
	return stat(p, &sb) == 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(prefix, sizeof prefix, "/tmp/ctng-it-install-XXXXXX");
	if (!mkdtemp(prefix))
		return -1;
	return sh("cmake --install '%s' --prefix '%s/p' >/dev/null", CTNG_BUILD_DIR, prefix) == 0
	           ? 0
	           : -1;
}

static int teardown(void **state)
{
	(void)state;
	return ctng_test_rm_rf(prefix);
}

static void test_files(void **state)
{
	(void)state;
	const char *files[] = {
	    "p/bin/ctng",
	    "p/include/ctng/client.h",
	    "p/include/ctng/base.h",
	    "p/include/ctng/metrics.h",
	    "p/share/man/man1/ctng.1",
	    "p/share/man/man1/ctng-client.1",
	    "p/share/man/man1/ctng-logger.1",
	    "p/lib/systemd/system/ctng-logger@.service",
	    "p/lib/systemd/system/ctng-ca@.service",
	    "p/lib/systemd/system/ctng-monitor@.service",
	    "p/lib/systemd/system/ctng-gossiper@.service",
	    "p/lib/sysusers.d/ctng.conf",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (!exists(files[i]))
			fail_msg("not installed: %s", files[i]);
	/* lib or lib/<multiarch>, as GNUInstallDirs decides */
	assert_int_equal(sh("find %s/p -path '*/lib*/libctng.a' -o -path '*/pkgconfig/ctng.pc' | "
	                    "wc -l",
	                    prefix),
	                 0);
	assert_int_equal(atoi(out), 2);
	/* The installed binary is the one built, with its version and commit. */
	assert_int_equal(sh("%s/p/bin/ctng --version", prefix), 0);
	char installed[256] = {0};
	memcpy(installed, out, strnlen(out, sizeof installed - 1));
	assert_int_equal(sh("'%s' --version", CTNG_BIN), 0);
	assert_string_equal(installed, out);
	assert_non_null(strstr(out, "(git "));
}

static void test_man_pages(void **state)
{
	(void)state;
	/* groff -ww: every warning; -z: no output. Any stderr is a defect. */
	assert_int_equal(sh("cd %s/p/share/man/man1 && n=0 && for f in *.1; do "
	                    "w=$(groff -man -Tutf8 -ww -z \"$f\" 2>&1) || exit 1; "
	                    "[ -z \"$w\" ] || { echo \"$f: $w\"; exit 1; }; n=$((n+1)); done; "
	                    "echo $n",
	                    prefix),
	                 0);
	assert_true(atoi(out) >= 12); /* ctng.1 and one page per command */
	assert_int_equal(sh("MANPATH=%s/p/share/man man -P cat ctng-client 2>/dev/null", prefix),
	                 0);
	assert_non_null(strstr(out, "ctng client verify"));
}

static void test_systemd_units(void **state)
{
	(void)state;
	const char *roles[] = {"logger", "ca", "monitor", "gossiper"};
	for (size_t i = 0; i < 4; i++) {
		/* A template is verified through an instance of it. */
		assert_int_equal(sh("mkdir -p %s/u && cp %s/p/lib/systemd/system/ctng-%s@.service "
		                    "%s/u/ctng-%s@%s1.service",
		                    prefix, prefix, roles[i], prefix, roles[i], roles[i]),
		                 0);
		assert_int_equal(sh("cd %s/u && MANPATH=%s/p/share/man systemd-analyze verify "
		                    "./ctng-%s@%s1.service",
		                    prefix, prefix, roles[i], roles[i]),
		                 0);
		assert_int_equal(sh("cd %s/u && systemd-analyze security --offline=true "
		                    "--threshold=20 ./ctng-%s@%s1.service",
		                    prefix, roles[i], roles[i]),
		                 0);
		assert_int_equal(sh("grep -c 'ExecStart=%s/p/bin/ctng %s --config "
		                    "/etc/ctng/%%i/config.json' %s/u/ctng-%s@%s1.service",
		                    prefix, roles[i], prefix, roles[i], roles[i]),
		                 0);
	}
}

static void test_pkg_config_program(void **state)
{
	(void)state;
	/* A program outside the tree, built from the installed files only. */
	assert_int_equal(sh("cd %s && PKG_CONFIG_PATH=$PWD/$(dirname $(find p -name ctng.pc)) && "
	                    "export PKG_CONFIG_PATH && pkg-config --modversion ctng && cc -std=c17 "
	                    "-Wall -Wextra -Werror "
	                    "%s -o rp_verify '%s/tests/install/rp_verify.c' "
	                    "$(pkg-config --cflags --libs ctng)",
	                    prefix, CTNG_TEST_SANITIZE_FLAGS, CTNG_SOURCE_DIR),
	                 0);
	/* A state and two certificates of the fixtures' network. */
	ctng_err err = {0};
	cfx f;
	OK(cfx_setup(&f, 2, 1, 2, 2, &err));
	char st[300], good[300], rev[300];
	snprintf(st, sizeof st, "%s/client.db", f.dir);
	snprintf(good, sizeof good, "%s/good.pem", f.dir);
	snprintf(rev, sizeof rev, "%s/revoked.pem", f.dir);
	OK(cfx_client_with_certs(&f, "www.example.com", st, good, rev, NULL, &err));

	assert_int_equal(sh("%s/rp_verify %s %s", prefix, st, good), 0);
	assert_non_null(strstr(out, "valid: "));
	assert_int_equal(sh("%s/rp_verify %s %s; echo \" status=$?\"", prefix, st, rev), 0);
	assert_non_null(strstr(out, "REVOKED"));
	assert_non_null(strstr(out, "status=1"));
	/* The installed ctng says the same. */
	assert_int_equal(sh("%s/p/bin/ctng client verify --state %s %s", prefix, st, good), 0);

	cfx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_man_pages),
	    cmocka_unit_test(test_systemd_units),
	    cmocka_unit_test(test_pkg_config_program),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
