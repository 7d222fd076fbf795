/*
 * main.c — entry point of the `ctng` binary: finds the subcommand in the
 * table and runs it; `ctng --help` / `ctng help CMD` describe them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/base.h"

static const ctng_cli_cmd *const commands[] = {
    &ctng_cmd_keygen,  &ctng_cmd_network,  &ctng_cmd_init,   &ctng_cmd_testnet,
    &ctng_cmd_logger,  &ctng_cmd_ca,
    &ctng_cmd_monitor, &ctng_cmd_gossiper, &ctng_cmd_cert,   &ctng_cmd_client,
    &ctng_cmd_bls,     &ctng_cmd_merkle,   &ctng_cmd_bench,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const ctng_cli_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void print_help(FILE *f)
{
	fprintf(f, "usage: ctng COMMAND [ARGS...]\n\n"
	           "CTng: certificate and revocation transparency with no trusted third party.\n\n"
	           "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nRun 'ctng help COMMAND' for the arguments of one command.\n");
}

int ctng_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ctng %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return CTNG_EXIT_USAGE;
}

int ctng_cli_fail(int status, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ctng %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return status;
}

int ctng_cli_exit_for(int code)
{
	switch (code) {
	case CTNG_OK:
		return CTNG_EXIT_OK;
	case CTNG_EINVAL:
	case CTNG_ERANGE:
		return CTNG_EXIT_USAGE;
	default:
		return CTNG_EXIT_INVALID;
	}
}

const char *ctng_cli_flag(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0' || *i + 1 >= argc)
		return NULL;
	*i += 1;
	return argv[*i];
}

int ctng_cli_u64_flag(const char *cmd, const char *flag, const char *v, uint64_t min, uint64_t max,
                      uint64_t *out)
{
	ctng_err e = {0};
	if (!v)
		return ctng_cli_usage_error(cmd, "%s needs a value", flag);
	if (ctng_parse_u64(v, max, out, &e) != 0 || *out < min)
		return ctng_cli_usage_error(cmd, "%s: expected a number in %llu..%llu", flag,
		                            (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return CTNG_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_help(stdout);
		return CTNG_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("ctng %s (git %s)\n", ctng_version(), ctng_build_commit());
		return CTNG_EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		if (argc < 3) {
			print_help(stdout);
			return CTNG_EXIT_OK;
		}
		const ctng_cli_cmd *c = find_command(argv[2]);
		if (!c)
			return ctng_cli_usage_error("help", "unknown command '%s'", argv[2]);
		printf("ctng %s — %s\n\n%s", c->name, c->summary, c->usage);
		return CTNG_EXIT_OK;
	}
	const ctng_cli_cmd *c = find_command(name);
	if (!c) {
		fprintf(stderr, "ctng: unknown command '%s' (see 'ctng --help')\n", name);
		return CTNG_EXIT_USAGE;
	}
	if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		printf("ctng %s — %s\n\n%s", c->name, c->summary, c->usage);
		return CTNG_EXIT_OK;
	}
	return c->run(argc - 1, argv + 1);
}
