/* cmd_sim.c — `ctng sim`: the network simulator (docs/sim.md) on a shipped
 * scenario, a scenario file or a generated network, and `ctng sim sweep`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/sim.h"

int ctng_cli_sim_sweep(int argc, char **argv); /* cmd_sim_sweep.c */

/* Flags shared by `ctng sim` and `ctng sim sweep` that change the scenario:
 * returns 1 when argv[*i] was one (consumed), 0 when not, or an exit
 * status + 2 on a bad value. */
int ctng_cli_sim_flag(const char *cmd, int argc, char **argv, int *i, ctng_sim_scenario *s,
                      bool *threshold_set);

int ctng_cli_sim_flag(const char *cmd, int argc, char **argv, int *i, ctng_sim_scenario *s,
                      bool *threshold_set)
{
	static const struct {
		const char *flag;
		uint64_t min, max;
	} nums[] = {
	    {"--monitors", 1, 999}, {"--loggers", 1, 999}, {"--cas", 1, 999},
	    {"--threshold", 1, 999}, {"--seed", 0, (uint64_t)1 << 62}, {"--periods", 1, 100000},
	    {"--period-ms", 100, (uint64_t)1 << 40}, {"--peers", 1, 999}, {"--watch", 1, 999},
	};
	const char *a = argv[*i];
	for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
		size_t fl = strlen(nums[k].flag);
		if (strncmp(a, nums[k].flag, fl) != 0 || (a[fl] != 0 && a[fl] != '='))
			continue;
		const char *v = ctng_cli_flag(argc, argv, i, nums[k].flag);
		uint64_t n;
		if (ctng_cli_u64_flag(cmd, nums[k].flag, v, nums[k].min, nums[k].max, &n))
			return CTNG_EXIT_USAGE + 2;
		switch (k) {
		case 0:
			s->monitors = (uint32_t)n;
			break;
		case 1:
			s->loggers = (uint32_t)n;
			break;
		case 2:
			s->cas = (uint32_t)n;
			break;
		case 3:
			s->threshold = (uint32_t)n;
			*threshold_set = true;
			break;
		case 4:
			s->seed = n;
			break;
		case 5:
			s->periods = n;
			break;
		case 6:
			s->period_ms = n;
			s->query_offset_ms = s->gossip_wait_ms = s->update_offset_ms = 0;
			break;
		case 7:
			s->peers = (uint32_t)n;
			break;
		default:
			s->watch = (uint32_t)n;
			break;
		}
		return 1;
	}
	const char *v;
	if ((v = ctng_cli_flag(argc, argv, i, "--latency-ms"))) {
		char *end = NULL;
		double x = strtod(v, &end);
		if (!end || *end || !(x >= 0 && x <= 3.6e6))
			return ctng_cli_usage_error(cmd, "--latency-ms: a number of ms") + 2;
		s->latency = (ctng_sim_dist){CTNG_SIM_FIXED, x, 0};
		return 1;
	}
	if ((v = ctng_cli_flag(argc, argv, i, "--loss"))) {
		char *end = NULL;
		double x = strtod(v, &end);
		if (!end || *end || !(x >= 0 && x <= 1))
			return ctng_cli_usage_error(cmd, "--loss: a probability 0..1") + 2;
		s->loss = x;
		return 1;
	}
	return 0;
}

static void list_scenarios(void)
{
	for (size_t i = 0; i < ctng_sim_shipped_count(); i++) {
		ctng_sim_scenario *s = NULL;
		if (ctng_sim_scenario_load(ctng_sim_shipped_name(i), &s, NULL) == 0)
			printf("  %-14s %s\n", s->name, s->summary);
		ctng_sim_scenario_free(s);
	}
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	if (argc >= 2 && !strcmp(argv[1], "sweep"))
		return ctng_cli_sim_sweep(argc - 1, argv + 1);
	ctng_sim_opts o;
	ctng_sim_opts_default(&o);
	const char *scenario = NULL;
	for (int i = 1; i < argc; i++) /* the scenario first: the other flags change it */
		if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
			scenario = argv[i + 1];
		else if (!strncmp(argv[i], "--scenario=", 11))
			scenario = argv[i] + 11;
	ctng_err e = {0};
	ctng_sim_scenario *s = NULL;
	int rc = scenario ? ctng_sim_scenario_load(scenario, &s, &e) : ctng_sim_scenario_new(&s, &e);
	if (rc)
		return ctng_cli_usage_error(cmd, "%s", e.msg);
	if (!scenario) {
		free(s->name);
		s->name = strdup("generated");
	}
	bool threshold_set = false;
	int status = CTNG_EXIT_OK;
	for (int i = 1; i < argc && status == CTNG_EXIT_OK; i++) {
		const char *v;
		int f;
		if ((v = ctng_cli_flag(argc, argv, &i, "--scenario"))) {
			continue;
		} else if (!strcmp(argv[i], "--json")) {
			o.json = true;
		} else if (!strcmp(argv[i], "--quiet")) {
			o.quiet = true;
		} else if (!strcmp(argv[i], "--no-memo")) {
			o.memo = false;
		} else if (!strcmp(argv[i], "--trace")) {
			o.trace = stderr;
		} else if (!strcmp(argv[i], "--cpu-wall")) {
			o.cpu_wall = true;
		} else if (!strcmp(argv[i], "--list")) {
			list_scenarios();
			ctng_sim_scenario_free(s);
			return CTNG_EXIT_OK;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--network"))) {
			o.network_dir = v;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--log-level"))) {
			int l = ctng_log_parse_level(v);
			if (l < 0)
				status = ctng_cli_usage_error(cmd, "--log-level: debug|info|warn|error|off");
			else
				ctng_log_set_level((ctng_log_level)l);
		} else if ((f = ctng_cli_sim_flag(cmd, argc, argv, &i, s, &threshold_set)) > 1) {
			status = f - 2;
		} else if (f == 0) {
			status = ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
		}
	}
	if (status) {
		ctng_sim_scenario_free(s);
		return status;
	}
	if (!scenario && !threshold_set)
		s->threshold = s->monitors / 2 + 1; /* a generated network: a majority */
	if (s->threshold > s->monitors) {
		status = ctng_cli_usage_error(cmd, "--threshold %u above %u monitors", s->threshold,
		                              s->monitors);
		ctng_sim_scenario_free(s);
		return status;
	}
	if (ctng_log_get_level() < CTNG_LOG_ERROR && !getenv("CTNG_SIM_LOG"))
		ctng_log_set_level(CTNG_LOG_OFF); /* the nodes' logs are not the output */
	rc = ctng_sim_run(s, &o, NULL, &e);
	ctng_sim_scenario_free(s);
	if (rc < 0)
		return ctng_cli_fail(rc == CTNG_EINVAL ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID, cmd, "%s",
		                     e.msg);
	return rc == 0 ? CTNG_EXIT_OK : CTNG_EXIT_INVALID;
}

const ctng_cli_cmd ctng_cmd_sim = {
    "sim", "simulate a CTng network of any size on a virtual clock (docs/sim.md)",
    "usage: ctng sim --scenario NAME|FILE [--seed N] [--periods N] [--json]\n"
    "       ctng sim --monitors N [--loggers N] [--cas N] [--threshold T] [--seed N]\n"
    "                [--periods N] [--json]\n"
    "       ctng sim sweep --param n|t|loggers|load|latency|loss --values V1,V2,...\n"
    "                [--scenario NAME|FILE] [--out DIR] [scenario flags]\n\n"
    "Runs the real logger, CA, monitor and gossiper logic for every node of a\n"
    "network in one process, with a virtual clock and a simulated network\n"
    "(latency, bandwidth, loss, partitions, crashes), and checks what every\n"
    "gossiper counted against the scenario (derived from the topology and the\n"
    "faults). The same scenario and seed print the same bytes every time.\n\n"
    "Shipped scenarios (--list prints them): honest, split-logger, split-ca, silent,\n"
    "flaky, seed-sample, restart (the testnet's, on the seed network) and others;\n"
    "FILE is a scenario in the format of docs/sim.md. --monitors N without\n"
    "--scenario simulates a generated network (threshold floor(N/2)+1 unless given).\n\n"
    "More flags: --period-ms MS, --latency-ms MS, --loss P, --peers N, --watch N\n"
    "(change the scenario), --network DIR (simulate a folder `ctng init` wrote),\n"
    "--quiet (summary only), --no-memo (every verification really computed),\n"
    "--cpu-wall (charge measured CPU time: not reproducible), --log-level L.\n"
    "The wall-clock speed of the run goes to stderr. Exit 0 when every check held,\n"
    "1 otherwise, 2 on bad usage.\n",
    run};
