/*
 * cmd_monitor.c — `ctng monitor --config DIR/<id>/config.json [--log-level L]`:
 * runs one monitor daemon (src/monitor, docs/monitor.md) until SIGINT or
 * SIGTERM. Exit status 0 after a clean stop, 2 for bad usage or a
 * configuration that does not load, 1 for a runtime failure.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/config.h"
#include "ctng/monitor.h"

static const char usage[] =
    "usage: ctng monitor --config DIR/<id>/config.json [--log-level debug|info|warn|error]\n"
    "Runs the monitor <id>: each period it pulls STH(p) from its loggers and REV(p) from\n"
    "its CAs (skipping convicted entities), verifies them (signature, period, append-only\n"
    "consistency with the last STH), sends them to its gossiper or accuses (ACC) the\n"
    "entities that fail, keeps the FULL objects and PoMs its gossiper sends back\n"
    "(POST /ctng/v1/gossip), and publishes the client update of the period at\n"
    "GET /ctng/v1/update?period=P and as ClientUpdate_<P>.json / ClientUpdate.json in its\n"
    "data folder (monitor.db keeps its state across restarts).\n";

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	ctng_node_config cfg;
	int st = ctng_cli_daemon_config(argc, argv, CTNG_ROLE_MONITOR, &cfg);
	if (st != CTNG_EXIT_OK)
		return st;
	ctng_err e = {0};
	int rc = ctng_monitor_run(&cfg, &e);
	ctng_node_config_free(&cfg);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", e.msg);
	return CTNG_EXIT_OK;
}

const ctng_cli_cmd ctng_cmd_monitor = {"monitor", "run a monitor daemon (--config FILE)", usage,
                                       run};
