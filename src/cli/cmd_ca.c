/* cmd_ca.c — `ctng ca`. Placeholder until its issue lands: says so and exits 2. */
#include "cli/cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	return ctng_cli_usage_error(argv[0], "not built yet in this version");
}

const ctng_cli_cmd ctng_cmd_ca = {"ca", "(not built yet)", "", run};
