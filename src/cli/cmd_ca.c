/*
 * cmd_ca.c — `ctng ca --config DIR/<id>/config.json [--log-level L]`: runs
 * one CA daemon (src/ca) until SIGINT/SIGTERM. Exit status 0 after a clean
 * stop, 2 for bad usage or a configuration that does not load, 1 for a
 * runtime failure.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/ca.h"
#include "ctng/config.h"

static const char usage[] =
    "usage: ctng ca --config DIR/<id>/config.json [--log-level debug|info|warn|error]\n"
    "Runs the CA <id>: issuance (POST /ctng/v1/certificates), revocation\n"
    "(POST /ctng/v1/revocations) and the per-period REV (GET /ctng/v1/rev); see\n"
    "docs/ca.md. Data lives in the node's data folder (ca.db). Stops cleanly on\n"
    "SIGINT or SIGTERM.\n";

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	ctng_node_config cfg;
	int st = ctng_cli_daemon_config(argc, argv, CTNG_ROLE_NONE, &cfg);
	if (st != CTNG_EXIT_OK)
		return st;
	ctng_err e = {0};
	int rc = ctng_ca_daemon_run(&cfg, &e);
	ctng_node_config_free(&cfg);
	if (rc)
		return ctng_cli_fail(rc == CTNG_EINVAL ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID, cmd,
		                     "%s", e.msg);
	return CTNG_EXIT_OK;
}

const ctng_cli_cmd ctng_cmd_ca = {"ca", "run a CA daemon (--config FILE)", usage, run};
