/*
 * cmd_gossiper.c — `ctng gossiper --config DIR/<id>/config.json [--log-level L]`:
 * runs one gossiper daemon (src/gossiper, docs/gossiper.md) until SIGINT or
 * SIGTERM. Exit status 0 after a clean stop, 2 for bad usage or a
 * configuration that does not load, 1 for a runtime failure.
 */
#include <stdio.h>
#include <string.h>

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
	const char *cmd = argv[0], *config = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--config"))) {
			config = v;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--log-level"))) {
			int l = ctng_log_parse_level(v);
			if (l < 0)
				return ctng_cli_usage_error(cmd, "unknown log level '%s'", v);
			ctng_log_set_level((ctng_log_level)l);
		} else {
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
		}
	}
	if (!config)
		return ctng_cli_usage_error(cmd, "--config is required");
	ctng_node_config cfg = {0};
	ctng_err e = {0};
	if (ctng_node_config_load(config, &cfg, &e)) {
		ctng_node_config_free(&cfg);
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s", e.msg);
	}
	if (!cfg.self || cfg.self->role != CTNG_ROLE_GOSSIPER) {
		ctng_node_config_free(&cfg);
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s is not a gossiper configuration",
		                     config);
	}
	ctng_log_set_node(cfg.id);
	int rc = ctng_gossiper_run(&cfg, &e);
	ctng_node_config_free(&cfg);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", e.msg);
	return CTNG_EXIT_OK;
}

const ctng_cli_cmd ctng_cmd_gossiper = {"gossiper", "run a gossiper daemon (--config FILE)", usage,
                                        run};
