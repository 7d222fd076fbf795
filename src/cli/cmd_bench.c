/* cmd_bench.c — `ctng bench [NAME]`: runs one benchmark group or all of them. */
#include <stdio.h>
#include <string.h>

#include "../../bench/bench.h"
#include "cli/cli.h"

static const struct {
	const char *name;
	int (*run)(void);
} groups[] = {
    {"bls", ctng_bench_bls},       {"merkle", ctng_bench_merkle},   {"ca", ctng_bench_ca},
    {"client", ctng_bench_client}, {"network", ctng_bench_network}, {"logger", ctng_bench_logger},
    {"dkg", ctng_bench_dkg},
    {"mirror", ctng_bench_mirror}, {"net", ctng_bench_net},       {"index", ctng_bench_index},
};

static int run(int argc, char **argv)
{
	if (argc > 2)
		return ctng_cli_usage_error(argv[0], "expected at most one benchmark group name");
	int status = 0, found = 0;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (argc == 2 && strcmp(argv[1], groups[i].name) != 0)
			continue;
		found = 1;
		if (groups[i].run() != 0)
			status = 1;
	}
	if (!found)
		return ctng_cli_usage_error(argv[0], "unknown benchmark group '%s'", argv[1]);
	return status;
}

const ctng_cli_cmd ctng_cmd_bench = {
    "bench", "run benchmarks, one JSON object per line",
    "usage: ctng bench [bls|merkle|ca|client|network|logger|dkg|mirror|net|index]\n"
    "Prints one JSON object per line with \"name\" and \"ns_per_op\" or \"per_second\".\n",
    run};
