/*
 * cmd_logger.c — `ctng logger --config DIR/<id>/config.json [--log-level L]`:
 * runs one logger daemon (src/logger) until SIGINT/SIGTERM. Exit status 0
 * after a clean stop, 2 for bad usage or a configuration that does not load,
 * 1 for a runtime failure.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/config.h"
#include "ctng/logger.h"

static const char usage[] =
    "usage: ctng logger --config DIR/<id>/config.json [--log-level debug|info|warn|error]\n"
    "Runs the logger <id>: RFC 6962 submission and read API, C2SP checkpoint and\n"
    "tiles, and the CTng endpoints (docs/logger.md). Data lives in the node's data\n"
    "folder (logger.db). Stops cleanly on SIGINT or SIGTERM.\n";

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
	ctng_log_set_node(cfg.id);
	ctng_logger_daemon *d = NULL;
	if (ctng_logger_daemon_from_config(&cfg, true, &d, &e)) {
		ctng_node_config_free(&cfg);
		return ctng_cli_fail(ctng_cli_exit_for(e.code), cmd, "%s", e.msg);
	}
	CTNG_INFO("logger listening", "port=%u", (unsigned)ctng_logger_daemon_port(d));
	int rc = ctng_logger_daemon_run(d, &e);
	ctng_logger_daemon_free(d);
	ctng_node_config_free(&cfg);
	if (rc)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s", e.msg);
	return CTNG_EXIT_OK;
}

const ctng_cli_cmd ctng_cmd_logger = {"logger", "run a logger daemon (--config FILE)", usage, run};
