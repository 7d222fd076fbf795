/* cmd_testnet.c — `ctng testnet`: the seed's local CTng network on loopback,
 * as separate processes, checked against a scenario (DESIGN §9). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/testnet.h"

static int run(int argc, char **argv)
{
	ctng_testnet_opts o;
	ctng_testnet_opts_default(&o);
	const char *cmd = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *v;
		uint64_t n;
		if ((v = ctng_cli_flag(argc, argv, &i, "--scenario"))) {
			if (!ctng_testnet_scenario_find(v))
				return ctng_cli_usage_error(
				    cmd, "unknown scenario '%s' (see ctng help testnet)", v);
			o.scenario = v;
		} else if (strncmp(argv[i], "--periods", 9) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--periods");
			if (ctng_cli_u64_flag(cmd, "--periods", v, 1, 100000, &n))
				return CTNG_EXIT_USAGE;
			o.periods = n;
		} else if (strncmp(argv[i], "--period-ms", 11) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--period-ms");
			if (ctng_cli_u64_flag(cmd, "--period-ms", v, 500, 86400000, &n))
				return CTNG_EXIT_USAGE;
			o.period_ms = n;
		} else if (strncmp(argv[i], "--port-base", 11) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--port-base");
			if (ctng_cli_u64_flag(cmd, "--port-base", v, 1024, 65000, &n))
				return CTNG_EXIT_USAGE;
			o.port_base = (uint16_t)n;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--dir"))) {
			o.dir = v;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--network"))) {
			o.network = v;
		} else if (strcmp(argv[i], "--json") == 0) {
			o.json = true;
		} else if (strcmp(argv[i], "--no-traffic") == 0) {
			o.drive_traffic = false;
		} else if (strcmp(argv[i], "--dealer") == 0) {
			o.dealer = true;
		} else if (strcmp(argv[i], "--tls") == 0) {
			o.tls = true;
		} else {
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
		}
	}
	ctng_err e = {0};
	int rc = ctng_testnet_run(&o, &e);
	if (rc < 0)
		return ctng_cli_fail(rc == CTNG_EINVAL ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID, cmd,
		                     "%s", e.msg);
	return rc == 0 ? CTNG_EXIT_OK : CTNG_EXIT_INVALID;
}

const ctng_cli_cmd ctng_cmd_testnet = {
    "testnet", "run the local CTng network on loopback and check a scenario",
    "usage: ctng testnet [--scenario NAME] [--periods N] [--period-ms MS] [--dir DIR]\n"
    "                    [--port-base PORT] [--json] [--no-traffic] [--dealer] [--tls]\n"
    "       ctng testnet --network DIR [--periods N] [--scenario NAME] [--json]\n\n"
    "Starts 3 loggers (ports 9000-9002), 3 CAs (9100-9102), 4 monitors (9200-) and\n"
    "4 gossipers (9300-), threshold 2, each as its own process, runs N periods\n"
    "(default 4 of 2000 ms), requests and revokes certificates through the CAs,\n"
    "prints what every gossiper counted per period and checks it against the\n"
    "scenario. Exit 0 when every check held, 1 otherwise, 2 on bad usage.\n\n"
    "Before the first period the gossipers make the group key with a DKG among\n"
    "their processes (no dealer): the run prints a \"DKG:\" line with how long it\n"
    "took, verifies every gossiper's transcript and finalizes network.json. A\n"
    "network that already has a group key (--dir) skips it. --dealer makes a fresh\n"
    "network with shares dealt by ctng init instead (quick experiments only).\n\n"
    "Scenarios:\n"
    "  honest        every entity honest\n"
    "  split-logger  logger1 shows monitor3 a different STH (convicted: CON_FULL)\n"
    "  split-ca      ca1 shows monitor3 a different REV (convicted: CON_FULL)\n"
    "  silent        logger3 and ca2 never answer (accused: ACC_FULL)\n"
    "  flaky         logger2 and ca3 answer only in even periods\n"
    "  seed-sample   the seed's sample run: logger1, ca1, monitors and gossipers 1 and 3\n"
    "  restart       honest, but monitor2 and gossiper2 are killed mid-period and restarted\n"
    "  malicious-monitor  monitor1 accuses everyone, now and next period, to every\n"
    "                gossiper: no ACC_FULL, relying parties accept every certificate\n"
    "  skewed-monitor  pairs 3/4 off by +-the tolerated skew (period/8), monitor2 by\n"
    "                3/4 period (faketime): no count changes\n\n"
    "--dir reuses a network folder made earlier (its period length is kept);\n"
    "without it a fresh folder is made under /tmp and kept for inspection.\n"
    "--network DIR runs a network `ctng init --dealer` wrote, of any size and\n"
    "topology (--loggers --cas --monitors --threshold --watch --peers), with its\n"
    "ports and period, and checks the scenario with the counts its topology\n"
    "implies (docs/testnet.md), e.g. 16 monitors:\n"
    "  ctng init --dir net16 --dealer --monitors 16 --loggers 8 --cas 8 \\\n"
    "      --threshold 9 --period-ms 10000 --port-base 15000\n"
    "  ctng testnet --network net16 --periods 3\n"
    "--json prints one JSON object per period and gossiper, then the result.\n"
    "--tls runs the network over HTTPS (ctng init --tls: https:// URLs, a test CA in\n"
    "DIR/tls/, a certificate per node).\n",
    run};
