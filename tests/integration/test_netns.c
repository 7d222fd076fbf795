/*
 * test_netns.c — faults between real processes (issue 10 item 7). Every
 * logger, every CA and every monitor-gossiper pair of the seed network runs
 * in its own Linux network namespace with its own address (198.18.0.1-10,
 * `ctng init --entity-host`); the namespaces are joined by ctng_netem
 * (tests/netns/netem.c), a user-space link emulator on TUN devices, because
 * this kernel has no sch_netem: it partitions, delays with jitter (which
 * reorders), loses and paces packets per link, and heals. The harness (this
 * process, in the root namespace at 198.18.0.254, on a clean link) drives
 * `ctng testnet` over it: certificate requests and revocations, the counts
 * of every gossiper per period, and at the end a relying party per monitor.
 *
 * Scenarios (docs/hacking.md §Faults):
 *   partition  pair 4 cut off from every other node for two periods, then
 *              healed: pairs 1-3 count as in an honest run throughout; pair
 *              4 counts its own monitor's four accusations, no FULL, and is
 *              honest again once healed;
 *   lossy      every node-node link loses 10% of packets, 100 ms +- 50 ms;
 *   slow-link  pair 4's links: 150 ms +- 20 ms and 1 Mbit/s.
 * Each must show no ACC_FULL and no CON_FULL (no false accusation, no PoM),
 * every certificate request the CAs acknowledged issued, every acknowledged
 * revocation seen by the relying parties and every other certificate valid.
 *
 * Needs root (ip netns, TUN), as CI has. Namespaces, devices and processes
 * are removed in the teardown, also after a failure, and stale ones of a
 * killed earlier run (its pid gone) at the start.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/config.h"
#include "ctng/testnet.h"
#include "testutil.h"

#define NODES 10 /* logger1-3, ca1-3, pairs 1-4 */

static char prefix[16]; /* ctng<pid>: namespaces <prefix>n<i>, devices <prefix>t<i> */
static char top[64], dir[128];
static pid_t netem = -1;
static FILE *netem_in, *netem_out;
static char ns_name[NODES + 1][32];
static const char *wrap_argv[NODES + 1][5];
static ctng_network net;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("command failed (%d): %s", st, cmd);
}

/* Node index (1..10) of an entity: loggers 1-3, CAs 4-6, pair m: 6+m. */
static int node_of(const char *id)
{
	int n = 0;
	if (sscanf(id, "logger%d", &n) == 1)
		return n;
	if (sscanf(id, "ca%d", &n) == 1)
		return 3 + n;
	if (sscanf(id, "monitor%d", &n) == 1 || sscanf(id, "gossiper%d", &n) == 1)
		return 6 + n;
	return 0;
}

static void netem_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void netem_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(netem_in, fmt, ap);
	va_end(ap);
	fputc('\n', netem_in);
	fflush(netem_in);
	char line[256];
	if (!fgets(line, sizeof line, netem_out) || strncmp(line, "ok", 2) != 0)
		fail_msg("ctng_netem: %s", line);
}

/* Kills what runs in a namespace and deletes it (no error if absent). */
static void drop_ns(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd,
	         "for p in $(ip netns pids %s 2>/dev/null); do kill -9 $p; done; "
	         "ip netns del %s 2>/dev/null",
	         name, name);
	if (system(cmd)) {
		/* absent: nothing to do */
	}
}

/* Namespaces of earlier runs whose process is gone (a run killed hard). */
static void drop_stale(void)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int pid = 0, k = 0;
		char rest[8];
		if (sscanf(e->d_name, "ctng%dn%d%1s", &pid, &k, rest) == 2 && pid > 0 &&
		    kill(pid, 0) != 0 && errno == ESRCH)
			drop_ns(e->d_name);
	}
	if (d)
		closedir(d);
}

static void start_netem(void)
{
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	netem = fork();
	assert_true(netem >= 0);
	if (netem == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		char n[8];
		snprintf(n, sizeof n, "%d", NODES);
		execl(CTNG_NETEM_BIN, CTNG_NETEM_BIN, prefix, n, "7", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	netem_in = fdopen(in[1], "w");
	netem_out = fdopen(out[0], "r");
	char line[128];
	if (!fgets(line, sizeof line, netem_out) || strncmp(line, "ready", 5) != 0)
		fail_msg("ctng_netem did not start (TUN devices need root)");
}

static const char *const *wrap(const ctng_entity *e, void *arg)
{
	(void)arg;
	int n = node_of(e->id);
	return n ? wrap_argv[n] : NULL;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		fail_msg("the namespace tests run as root (CI does)");
	snprintf(prefix, sizeof prefix, "ctng%d", (int)getpid() % 1000000);
	drop_stale();
	snprintf(top, sizeof top, "/tmp/ctng-netns-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof dir, "%s/net", top);
	start_netem();
	sh("ip addr add 198.18.0.254/24 dev %st0 && ip link set %st0 up", prefix, prefix);
	for (int i = 1; i <= NODES; i++) {
		snprintf(ns_name[i], sizeof ns_name[i], "%sn%d", prefix, i);
		sh("ip netns add %s && ip link set %st%d netns %s && "
		   "ip -n %s addr add 198.18.0.%d/24 dev %st%d && ip -n %s link set %st%d up && "
		   "ip -n %s link set lo up",
		   ns_name[i], prefix, i, ns_name[i], ns_name[i], i, prefix, i, ns_name[i], prefix, i,
		   ns_name[i]);
		wrap_argv[i][0] = "ip";
		wrap_argv[i][1] = "netns";
		wrap_argv[i][2] = "exec";
		wrap_argv[i][3] = ns_name[i];
		wrap_argv[i][4] = NULL;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 1; i <= NODES; i++)
		if (ns_name[i][0])
			drop_ns(ns_name[i]);
	if (netem_in)
		fclose(netem_in); /* end of input: it exits, its devices vanish */
	if (netem_out)
		fclose(netem_out);
	netem_in = netem_out = NULL;
	if (netem > 0) {
		ctng_test_stop(netem, 3000);
		netem = -1;
	}
	ctng_network_free(&net);
	memset(ns_name, 0, sizeof ns_name);
	return top[0] && ctng_test_rm_rf(top) != 0 ? -1 : 0;
}

/* The network: the seed's, each entity at its namespace's address. */
static void make_network(uint64_t period_ms)
{
	static char hosts[20][48];
	static const char *list[21];
	static const char *ids[] = {"logger1",  "logger2",  "logger3",   "ca1",       "ca2",
	                            "ca3",      "monitor1", "monitor2",  "monitor3",  "monitor4",
	                            "gossiper1", "gossiper2", "gossiper3", "gossiper4"};
	size_t n = 0;
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		snprintf(hosts[n], sizeof hosts[n], "%s=198.18.0.%d", ids[i], node_of(ids[i]));
		list[n] = hosts[n];
		n++;
	}
	list[n] = NULL;
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.period_ms = period_ms;
	o.entity_hosts = list;
	o.genesis_ms = ctng_now_ms() / 1000 * 1000;
	ctng_err e = {0};
	if (ctng_init_network(dir, &o, &e)) /* dealt shares: no DKG phase here */
		fail_msg("init: %s", e.msg);
	char path[256];
	snprintf(path, sizeof path, "%s/network.json", dir);
	assert_int_equal(ctng_network_load(path, &net, &e), 0);
}

static void run(const ctng_testnet_scenario *s, uint64_t period_ms, uint64_t periods,
                void (*hook)(uint64_t k, uint64_t p, void *arg))
{
	make_network(period_ms);
	char outp[256];
	snprintf(outp, sizeof outp, "%s/out.txt", top);
	FILE *out = fopen(outp, "w+");
	assert_non_null(out);
	ctng_testnet_opts o;
	ctng_testnet_opts_default(&o);
	o.network = dir;
	o.scenario_def = s;
	o.periods = periods;
	o.self_exe = CTNG_BIN;
	o.out = out;
	o.wrap = wrap;
	o.on_period = hook;
	ctng_err e = {0};
	uint64_t t0 = ctng_mono_ms();
	int rc = ctng_testnet_run(&o, &e);
	fflush(out);
	rewind(out);
	char text[1 << 16];
	size_t len = fread(text, 1, sizeof text - 1, out);
	text[len] = 0;
	fclose(out);
	print_message("%s: %s, %.1f s (emulator: ", s->name, rc == 0 ? "pass" : "FAIL",
	              (double)(ctng_mono_ms() - t0) / 1000.0);
	fprintf(netem_in, "stats\n");
	fflush(netem_in);
	char st[256] = "";
	if (fgets(st, sizeof st, netem_out))
		st[strcspn(st, "\n")] = 0;
	print_message("%s)\n", st);
	if (rc != 0) {
		fprintf(stderr, "%s\n", text); /* the table and the failures */
		fail_msg("scenario %s: rc %d (%s); logs in %s (CTNG_KEEP_TEST_DIR=1 keeps them)",
		         s->name, rc, e.msg, dir);
	}
}

/* ------------------------------------------------------------ scenarios */

static void expect_honest(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = 0};
}

/* Pair 4 is cut off in the run's periods 1 and 2. */
static void expect_partition(uint64_t p, size_t k, const char *g, ctng_testnet_expect *e)
{
	expect_honest(p, k, e);
	if (strcmp(g, "gossiper4") == 0 && (k == 1 || k == 2))
		/* only its own monitor's word reaches it: four ACCs, nothing attested */
		*e = (ctng_testnet_expect){.sth_full = 0, .rev_full = 0, .acc_full = 0, .acc = 4};
}

static void partition_hook(uint64_t k, uint64_t p, void *arg)
{
	(void)p, (void)arg;
	if (k == 1)
		netem_cmd("cut %d", node_of("monitor4"));
	if (k == 3)
		netem_cmd("heal");
}

/* Loss may make one monitor miss an entity in a window (its ACC is
 * counted, not checked); no accusation may become an ACC_FULL. */
static void expect_lossy(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = -1};
}

static const char *const pair4_monitor[] = {"monitor4", NULL};

static void test_partition(void **state)
{
	(void)state;
	ctng_testnet_scenario s = {
	    .name = "partition",
	    .summary = "pair 4 cut off from every other node for two periods, then healed",
	    .expect = expect_honest,
	    .expect_gossiper = expect_partition,
	    .con_full_total = 0,
	    .check_clients = true,
	    .client_skip = pair4_monitor, /* its updates of the cut periods are empty */
	};
	run(&s, 4000, 5, partition_hook);
}

static void lossy_hook(uint64_t k, uint64_t p, void *arg)
{
	(void)p, (void)arg;
	if (k == 0)
		netem_cmd("link * * 100 50 100 0");
}

static void test_lossy(void **state)
{
	(void)state;
	ctng_testnet_scenario s = {
	    .name = "lossy",
	    .summary = "every node-node link: 10% loss, 100 ms +- 50 ms",
	    .expect = expect_lossy,
	    .con_full_total = 0,
	    .check_clients = true,
	};
	run(&s, 12000, 3, lossy_hook);
}

static void slow_hook(uint64_t k, uint64_t p, void *arg)
{
	(void)p, (void)arg;
	if (k == 0)
		netem_cmd("link %d * 150 20 0 1000", node_of("monitor4"));
}

static void test_slow_link(void **state)
{
	(void)state;
	ctng_testnet_scenario s = {
	    .name = "slow-link",
	    .summary = "pair 4's links: 150 ms +- 20 ms, 1 Mbit/s",
	    .expect = expect_honest,
	    .con_full_total = 0,
	    .check_clients = true,
	};
	run(&s, 8000, 3, slow_hook);
}

int main(void)
{
	const struct CMUnitTest all[] = {
	    cmocka_unit_test_setup_teardown(test_partition, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lossy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_link, setup, teardown),
	};
	struct CMUnitTest tests[3];
	size_t n = 0;
	const char *only = getenv("CTNG_NETNS_ONLY"); /* one scenario, for debugging */
	for (size_t i = 0; i < 3; i++)
		if (!only || strstr(all[i].name, only))
			tests[n++] = all[i];
	return _cmocka_run_group_tests("netns", tests, n, NULL, NULL);
}
