/*
 * cmd_gossiper.c — `ctng gossiper --config DIR/<id>/config.json [--log-level L]`:
 * runs one gossiper daemon (src/gossiper, docs/gossiper.md) until SIGINT or
 * SIGTERM. Exit status 0 after a clean stop, 2 for bad usage or a
 * configuration that does not load, 1 for a runtime failure.
 */
#include "cli/cli.h"
#include "ctng/config.h"
#include "ctng/gossiper.h"

static const char usage[] =
    "usage: ctng gossiper --config DIR/<id>/config.json [--log-level debug|info|warn|error]\n"
    "Runs the gossiper <id>: receives gossip objects (POST /ctng/v1/gossip) from its\n"
    "monitor and peers, verifies them, pushes them on, adds its BLS partial signature\n"
    "after gossip_wait (or builds a CON on a conflict), combines threshold partials\n"
    "into FULL objects, and serves GET /ctng/v1/counts?period=P. Data lives in the\n"
    "node's data folder (gossiper.db, GossipStorage.json, CONFLICT_POM_<entity>.json).\n"
    "Stops cleanly on SIGINT or SIGTERM.\n";

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	ctng_node_config cfg;
	int st = ctng_cli_daemon_config(argc, argv, CTNG_ROLE_GOSSIPER, &cfg);
	if (st != CTNG_EXIT_OK)
		return st;
	ctng_err e = {0};
	int rc = ctng_gossiper_run(&cfg, &e);
	ctng_node_config_free(&cfg);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", e.msg);
	return CTNG_EXIT_OK;
}

const ctng_cli_cmd ctng_cmd_gossiper = {"gossiper", "run a gossiper daemon (--config FILE)", usage,
                                        run};
