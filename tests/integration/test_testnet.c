/* test_testnet.c — every scenario of `ctng testnet` run for real: separate
 * logger, CA, monitor and gossiper processes on loopback, 3 short periods,
 * through the `ctng` binary, which must report "pass" and exit 0, on a
 * network whose group key the gossipers made with the DKG; and one
 * scenario again over HTTPS (`--tls`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* This shard's share of the test ports: shards run at the same time, and a
 * port probed free by one could be taken by the other's network a moment
 * later, so each shard probes only its own half of 22000-26999, in steps of
 * one network (400 ports: the roles' offsets stay below 400). */
static unsigned shard_k, shard_n = 1;

static int port_base(void)
{
	unsigned span = 5000 / shard_n / 400, lo = 22000 + shard_k * (5000 / shard_n);
	for (unsigned i = 0; i < span; i++) {
		unsigned base = lo + 400 * (((unsigned)getpid() + i) % span);
		bool ok = true;
		for (size_t k = 0; k < CTNG_TEST_NET_PORTS && ok; k++)
			ok = ctng_test_port_free((uint16_t)(base + ctng_test_net_ports[k]));
		if (ok)
			return (int)base;
	}
	return (int)lo;
}

static void run_scenario(const char *scenario)
{
	char dir[] = "/tmp/ctng-it-testnet-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[8192], out[512];
	snprintf(out, sizeof(out), "%s/out.jsonl", dir);
	snprintf(cmd, sizeof(cmd),
	         "'%s' testnet --scenario %s --periods 3 --period-ms 4000 --json --port-base %d "
	         "--dir %s/net > %s 2>&1",
	         CTNG_BIN, scenario,
	         port_base(), dir, out);
	int st = system(cmd);
	char *text = NULL;
	FILE *f = fopen(out, "r");
	if (f) {
		text = calloc(1, 1 << 20);
		size_t n = fread(text, 1, (1 << 20) - 1, f);
		text[n] = 0;
		fclose(f);
	}
	bool exited_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	bool passed = text && strstr(text, "\"result\":\"pass\"") != NULL;
	/* Every period line names every type, CON_FULL last. */
	bool has_counts = text && strstr(text, "\"CON_FULL\"") != NULL;
	/* The group key came from the gossipers' DKG, not from a dealer. */
	bool dkg = text && strstr(text, "\"dkg\":{\"ms\":") != NULL;
	if (!exited_ok || !passed || !has_counts || !dkg)
		fprintf(stderr,
		        "scenario %s failed (status %d); output:\n%s\nlogs kept in %s/net\n",
		        scenario, st, text ? text : "(none)", dir);
	free(text);
	assert_true(exited_ok);
	assert_true(passed);
	assert_true(has_counts);
	assert_true(dkg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* `ctng testnet --network`: a folder ctng init wrote with another size and
 * topology — 2 loggers, 2 CAs, 6 monitors each watching one logger and one
 * CA, gossipers in a ring of 2 peers, threshold 4 — checked with the
 * expectations derived from that topology: logger1 splitting towards
 * monitor3 is seen by its other watchers (monitors 1 and 5): one CON_FULL,
 * then one STH_FULL per period (logger2) and two REV_FULLs. */
static void test_network_folder(void **state)
{
	(void)state;
	char dir[] = "/tmp/ctng-it-testnet-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[8192], out[512];
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(cmd, sizeof(cmd),
	         "'%s' init --dir %s/net --dealer --loggers 2 --cas 2 --monitors 6 --threshold 4 "
	         "--watch 1 --peers 2 --period-ms 4000 --port-base %d > %s 2>&1 && "
	         "'%s' testnet --network %s/net --scenario split-logger --periods 3 >> %s 2>&1",
	         CTNG_BIN, dir, port_base(),
	         out, CTNG_BIN, dir, out);
	int st = system(cmd);
	char *text = calloc(1, 1 << 20);
	FILE *f = fopen(out, "r");
	if (f) {
		text[fread(text, 1, (1 << 20) - 1, f)] = 0;
		fclose(f);
	}
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	          strstr(text, "PASS: every count matched scenario split-logger") &&
	          strstr(text, "gossiper6") && strstr(text, "gossip traffic per gossiper per period");
	if (!ok)
		fprintf(stderr, "--network failed (status %d):\n%s\nkept in %s\n", st, text, dir);
	free(text);
	assert_true(ok);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* One cmocka case per scenario; the prestate carries the scenario name. */
static void test_scenario(void **state)
{
	run_scenario((const char *)*state);
}

#define SCENARIO(scn)                                                                              \
	{                                                                                          \
		.name = scn, .test_func = test_scenario, .initial_state = (void *)(scn)            \
	}

/* `test_testnet K/N` runs only the cases whose position is K modulo N: ctest
 * runs the shards side by side (tests/CMakeLists.txt), each network on its
 * own ports, so the suite waits for the slowest shard, not for the sum. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    SCENARIO("honest"),
	    SCENARIO("split-logger"),
	    SCENARIO("split-ca"),
	    SCENARIO("silent"),
	    SCENARIO("flaky"),
	    SCENARIO("seed-sample"),
	    /* A gossiper-monitor pair is killed mid-period: the other three still
	     * reach t of n, and the restarted pair catches up next period. */
	    SCENARIO("restart"),
	    /* Issue 10: one monitor accuses everyone, now and for the next period,
	     * to every gossiper; pairs with clocks off by the tolerated skew and
	     * one far beyond it. No ACC_FULL, every other count honest, and a
	     * relying party of every checked monitor accepts every unrevoked
	     * certificate. */
	    SCENARIO("malicious-monitor"),
	    SCENARIO("skewed-monitor"),
	    /* Issue 11: logger1 withholds an entry (no STH_FULL for it, every
	     * mirror accuses it: ACC_FULL), or serves entries that are not its
	     * signed tree (a data CON, then CON_FULL); the relying parties still
	     * accept every certificate through the other loggers. */
	    SCENARIO("hidden-entry"),
	    SCENARIO("wrong-data"),
	    cmocka_unit_test(test_network_folder),
	    /* The lean HTTPS subset (every scenario passes with --tls when run by
	     * hand): every link over TLS, a conviction included. */
	    SCENARIO("split-logger --tls"),
	};
	size_t n = sizeof(tests) / sizeof(tests[0]);
	if (argc > 1 &&
	    (sscanf(argv[1], "%u/%u", &shard_k, &shard_n) != 2 || shard_n == 0 || shard_n > 12 ||
	     shard_k >= shard_n)) {
		fprintf(stderr, "usage: %s [K/N]  (the cases at positions K mod N)\n", argv[0]);
		return 2;
	}
	struct CMUnitTest mine[sizeof(tests) / sizeof(tests[0])];
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (i % shard_n == shard_k)
			mine[m++] = tests[i];
	return _cmocka_run_group_tests("testnet", mine, m, NULL, NULL);
}
