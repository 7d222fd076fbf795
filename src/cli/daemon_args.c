/*
 * daemon_args.c — the front half every daemon subcommand shares
 * (`ctng logger|ca|monitor|gossiper --config FILE [--log-level L]`): parses
 * the two flags, loads the node configuration and checks its role. The
 * subcommand then only starts its own daemon (see cli.h).
 */
#include "cli/cli.h"
#include "ctng/base.h"
#include "ctng/config.h"

int ctng_cli_daemon_config(int argc, char **argv, ctng_role role, ctng_node_config *cfg)
{
	const char *cmd = argv[0], *config = NULL;
	*cfg = (ctng_node_config){0};
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
	ctng_err e = {0};
	if (ctng_node_config_load(config, cfg, &e)) {
		ctng_node_config_free(cfg);
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s", e.msg);
	}
	if (role != CTNG_ROLE_NONE && (!cfg->self || cfg->self->role != role)) {
		ctng_node_config_free(cfg);
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s is not a %s configuration", config,
		                     ctng_role_name(role));
	}
	ctng_log_set_node(cfg->id);
	return CTNG_EXIT_OK;
}
