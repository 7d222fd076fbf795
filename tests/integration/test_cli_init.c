/*
 * test_cli_init.c — `ctng init` through the real binary (DESIGN §10): the
 * default run writes the seed network and the library loads it back; bad
 * usage exits 2 with a one-line error; a second init refuses to overwrite;
 * and corrupted copies of the written files are rejected by `ctng` itself
 * (a daemon started on them exits 2 naming the problem).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctng/config.h"
#include "testutil.h"

#define MAXARGS 20
#define OUTCAP  8192

static char out[OUTCAP], errout[OUTCAP];
static char g_dir[64];

/* Runs CTNG_BIN ARGS... with stdout/stderr captured into out/errout and
 * returns the exit status. A child still running after 60 s (a daemon that
 * wrongly accepted a corrupted config) is killed and reported as -1. */
static int run(const char *a0, ...)
{
	const char *argv[MAXARGS + 2];
	size_t n = 0;
	argv[n++] = CTNG_BIN;
	va_list ap;
	va_start(ap, a0);
	for (const char *a = a0; a && n < MAXARGS + 1; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int rc = ctng_test_run(argv, out, OUTCAP, NULL, errout, OUTCAP, 60000);
	return rc > 255 ? -1 : rc;
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/ctng_init_XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return ctng_test_rm_rf(g_dir);
}

static void test_init_and_load(void **state)
{
	(void)state;
	char net[128], path[192];
	snprintf(net, sizeof(net), "%s/net", g_dir);
	assert_int_equal(run("init", "--dir", net, "--period-ms", "2000", NULL), 0);
	assert_non_null(strstr(out, "3 loggers, 3 CAs, 4 monitors, 4 gossipers"));
	snprintf(path, sizeof(path), "%s/network.json", net);
	ctng_network n;
	ctng_err err = {0};
	assert_int_equal(ctng_network_load(path, &n, &err), 0);
	assert_int_equal(n.n_entities, 14);
	assert_int_equal(n.clock.period_ms, 2000);
	assert_int_equal(n.threshold, 2);
	ctng_network_free(&n);
	struct stat st;
	snprintf(path, sizeof(path), "%s/monitor4/config.json", net);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/ca3/root.pem", net);
	assert_int_equal(stat(path, &st), 0);

	/* refuses to overwrite */
	assert_int_equal(run("init", "--dir", net, NULL), 2);
	assert_non_null(strstr(errout, "already exists"));
}

static void test_usage_errors(void **state)
{
	(void)state;
	char net[128];
	snprintf(net, sizeof(net), "%s/u", g_dir);
	assert_int_equal(run("init", NULL), 2);
	assert_non_null(strstr(errout, "--dir"));
	assert_int_equal(run("init", "--dir", net, "--threshold", "9", NULL), 2);
	assert_non_null(strstr(errout, "threshold"));
	assert_int_equal(run("init", "--dir", net, "--loggers", "abc", NULL), 2);
	assert_non_null(strstr(errout, "--loggers"));
	assert_int_equal(run("init", "--dir", net, "--bogus", NULL), 2);
	assert_non_null(strstr(errout, "unknown argument"));
	assert_int_equal(run("init", "--dir", net, "--period-ms", NULL), 2);
	/* none of these wrote anything */
	char path[192];
	snprintf(path, sizeof(path), "%s/network.json", net);
	assert_int_not_equal(access(path, F_OK), 0);
}

/* Writes a corrupted copy of the network written by test_init_and_load into
 * DIR/c<k>/ and returns the path of logger1's config in it. */
static void corrupt_copy(int k, void (*mutate)(json_t *net), char *cfg_path, size_t cap)
{
	char cdir[128], cmd[400], path[192];
	snprintf(cdir, sizeof(cdir), "%s/c%d", g_dir, k);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/net' '%s'", g_dir, cdir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/network.json", cdir);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	assert_non_null(j);
	mutate(j);
	assert_int_equal(json_dump_file(j, path, JSON_INDENT(2)), 0);
	json_decref(j);
	snprintf(cfg_path, cap, "%s/logger1/config.json", cdir);
}

static json_t *ent(json_t *net, size_t i)
{
	return json_array_get(json_object_get(net, "entities"), i);
}

static void dup_port(json_t *j)
{
	json_object_set_new(ent(j, 1), "url", json_string("http://127.0.0.1:9000"));
}

static void unknown_ref(json_t *j)
{
	/* entities: 3 loggers, 3 CAs, then monitor1 */
	json_object_set_new(ent(j, 6), "loggers", json_pack("[s]", "logger42"));
}

static void big_threshold(json_t *j)
{
	json_object_set_new(j, "threshold", json_integer(5));
}

static void bad_key(json_t *j)
{
	json_object_set_new(ent(j, 0), "public_key", json_string("30590102"));
}

static void test_corrupted_rejected(void **state)
{
	(void)state;
	struct {
		void (*mutate)(json_t *);
		const char *want;
	} cases[] = {
	    {dup_port, "duplicate port"},
	    {unknown_ref, "unknown id \"logger42\""},
	    {big_threshold, "threshold 5 out of range"},
	    {bad_key, "public_key"},
	};
	char cfg[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		corrupt_copy((int)i, cases[i].mutate, cfg, sizeof(cfg));
		int rc = run("logger", "--config", cfg, NULL);
		if (rc != 2 || !strstr(errout, cases[i].want))
			fail_msg("case %zu: exit %d, stderr \"%s\"", i, rc, errout);
	}
	/* malformed JSON in a private file */
	corrupt_copy(9, big_threshold, cfg, sizeof(cfg));
	char net[192];
	snprintf(net, sizeof(net), "%s/c9/ca1/config.json", g_dir);
	FILE *f = fopen(net, "w");
	assert_non_null(f);
	fputs("{\"id\": \"ca1\",", f);
	fclose(f);
	assert_int_equal(run("ca", "--config", net, NULL), 2);
	assert_non_null(strstr(errout, "malformed JSON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_and_load),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_corrupted_rejected),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
