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
	const char *cmd = argv[0];
	ctng_node_config cfg;
	int st = ctng_cli_daemon_config(argc, argv, CTNG_ROLE_NONE, &cfg);
	if (st != CTNG_EXIT_OK)
		return st;
	ctng_err e = {0};
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
