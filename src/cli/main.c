/*
 * main.c — entry point of the `ctng` binary: finds the subcommand in the
 * table and runs it; `ctng --help` / `ctng help CMD [SUB]` describe them,
 * and `--help` (or `-h`) anywhere after a command prints its usage and
 * exits 0, whatever the command, so every subcommand and nested
 * subcommand (`ctng client verify --help`) answers it. `ctng help
 * --commands` lists every command and nested subcommand, one a line, as
 * found in the table (the nested ones from the `ctng CMD SUB` forms of each
 * command's usage text); tests/integration/test_cli_help.c walks that list.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ctng/base.h"
#include "ctng/net.h"

static const ctng_cli_cmd *const commands[] = {
    &ctng_cmd_keygen,  &ctng_cmd_network,  &ctng_cmd_dkg,    &ctng_cmd_init,   &ctng_cmd_testnet,
    &ctng_cmd_logger,  &ctng_cmd_ca,
    &ctng_cmd_monitor, &ctng_cmd_gossiper, &ctng_cmd_cert,   &ctng_cmd_client,
    &ctng_cmd_bls,     &ctng_cmd_merkle,   &ctng_cmd_bench,  &ctng_cmd_sim,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const ctng_cli_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* The nested subcommands of c: every word SUB ([a-z][a-z0-9-]*) that follows
 * "ctng NAME " in its usage text, in order, without repeats. Calls fn for each. */
static void each_sub(const ctng_cli_cmd *c, void (*fn)(const ctng_cli_cmd *, const char *, void *),
                     void *arg)
{
	char key[64], seen[2048] = " ";
	snprintf(key, sizeof key, "ctng %s ", c->name);
	for (const char *p = c->usage; (p = strstr(p, key));) {
		p += strlen(key);
		size_t n = 0;
		if (p[0] < 'a' || p[0] > 'z')
			continue;
		while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '-')
			n++;
		char word[64];
		if (n >= sizeof word - 2)
			continue;
		snprintf(word, sizeof word, " %.*s ", (int)n, p);
		if (strstr(seen, word) || strlen(seen) + n + 2 >= sizeof seen)
			continue;
		strcat(seen, word + 1);
		word[n + 1] = 0;
		fn(c, word + 1, arg);
	}
}

static void print_sub_line(const ctng_cli_cmd *c, const char *sub, void *arg)
{
	fprintf(arg, "%s %s\n", c->name, sub);
}

static void find_sub(const ctng_cli_cmd *c, const char *sub, void *arg)
{
	(void)c;
	const char **want = arg;
	if (*want && strcmp(*want, sub) == 0)
		*want = NULL; /* found */
}

static bool has_sub(const ctng_cli_cmd *c, const char *sub)
{
	const char *want = sub;
	each_sub(c, find_sub, &want);
	return want == NULL;
}

static void print_usage(const ctng_cli_cmd *c, const char *sub)
{
	if (sub)
		printf("ctng %s %s — part of: ctng %s — %s\n\n%s", c->name, sub, c->name,
		       c->summary, c->usage);
	else
		printf("ctng %s — %s\n\n%s", c->name, c->summary, c->usage);
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static void print_help(FILE *f)
{
	fprintf(f, "usage: ctng COMMAND [ARGS...]\n\n"
	           "CTng: certificate and revocation transparency with no trusted third party.\n\n"
	           "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nRun 'ctng help COMMAND' or 'ctng COMMAND [SUBCOMMAND] --help' for the\n"
	           "arguments of one command; 'ctng --version' for the version and git commit.\n");
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

int ctng_cli_tls_ca(const char *cmd, const char *file)
{
	ctng_err e = {0};
	if (!file || !*file || access(file, R_OK) != 0)
		return ctng_cli_usage_error(cmd, "--tls-ca: cannot read %s", file ? file : "");
	if (ctng_net_set_default_tls_ca(file, &e))
		return ctng_cli_usage_error(cmd, "--tls-ca: %s", e.msg);
	return CTNG_EXIT_OK;
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

int ctng_cli_host_port(const char *s, bool port_required, char *host, size_t host_cap,
                       uint16_t *port)
{
	const char *h = s, *end, *ps = NULL;
	*port = 0;
	if (!s || !*s)
		return -1;
	if (s[0] == '[') {
		h = s + 1;
		end = strchr(h, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		if (end[1] == ':')
			ps = end + 2;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) { /* a bare IPv6 literal */
			end = s + strlen(s);
		} else {
			end = colon ? colon : s + strlen(s);
			ps = colon ? colon + 1 : NULL;
		}
	}
	size_t hl = (size_t)(end - h);
	if (hl == 0 || hl >= host_cap)
		return -1;
	if (ps) {
		uint64_t v = 0;
		if (ctng_parse_u64(ps, 65535, &v, NULL) || v == 0)
			return -1;
		*port = (uint16_t)v;
	} else if (port_required) {
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
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
		if (argc < 3 || is_help(argv[2])) {
			print_help(stdout);
			return CTNG_EXIT_OK;
		}
		if (strcmp(argv[2], "--commands") == 0) {
			for (size_t i = 0; i < NCOMMANDS; i++) {
				printf("%s\n", commands[i]->name);
				each_sub(commands[i], print_sub_line, stdout);
			}
			return CTNG_EXIT_OK;
		}
		const ctng_cli_cmd *c = find_command(argv[2]);
		if (!c)
			return ctng_cli_usage_error("help", "unknown command '%s'", argv[2]);
		if (argc >= 4 && !has_sub(c, argv[3]))
			return ctng_cli_usage_error("help", "'%s' has no subcommand '%s'", c->name,
			                            argv[3]);
		print_usage(c, argc >= 4 ? argv[3] : NULL);
		return CTNG_EXIT_OK;
	}
	const ctng_cli_cmd *c = find_command(name);
	if (!c) {
		fprintf(stderr, "ctng: unknown command '%s' (see 'ctng --help')\n", name);
		return CTNG_EXIT_USAGE;
	}
	/* --help anywhere after the command: its usage, whatever else is there. */
	for (int i = 2; i < argc; i++)
		if (is_help(argv[i])) {
			print_usage(c, i > 2 && has_sub(c, argv[2]) ? argv[2] : NULL);
			return CTNG_EXIT_OK;
		}
	return c->run(argc - 1, argv + 1);
}
