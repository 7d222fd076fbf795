/*
 * cli.h — the face of the `ctng` command line: the table of subcommands and
 * the helpers every subcommand shares (exit codes, usage errors).
 *
 * Exit status (DESIGN §10): 0 success/valid, 1 invalid (a verification
 * failed), 2 bad usage or malformed input, with a one-line error on stderr.
 */
#ifndef CTNG_CLI_H
#define CTNG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/config.h"

enum { CTNG_EXIT_OK = 0, CTNG_EXIT_INVALID = 1, CTNG_EXIT_USAGE = 2 };

typedef struct ctng_cli_cmd {
	const char *name;
	const char *summary; /* one line for `ctng --help` */
	const char *usage;   /* full text for `ctng help NAME` */
	/* argv[0] is the subcommand's name; returns an exit status. */
	int (*run)(int argc, char **argv);
} ctng_cli_cmd;

/* One per file src/cli/cmd_<name>.c. */
extern const ctng_cli_cmd ctng_cmd_bls, ctng_cmd_merkle, ctng_cmd_init, ctng_cmd_logger,
    ctng_cmd_ca, ctng_cmd_monitor, ctng_cmd_gossiper, ctng_cmd_cert, ctng_cmd_testnet,
    ctng_cmd_client, ctng_cmd_bench, ctng_cmd_keygen, ctng_cmd_network, ctng_cmd_sim,
    ctng_cmd_dkg;

/* Prints "ctng NAME: <msg>" on stderr and returns CTNG_EXIT_USAGE. */
int ctng_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "ctng NAME: <msg>" on stderr and returns `status`. */
int ctng_cli_fail(int status, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a CTNG_E* code to an exit status (EVERIFY -> 1, EINVAL/ERANGE -> 2, others 1). */
int ctng_cli_exit_for(int code);

/* Tiny flag parser shared by subcommands: recognises "--name VALUE" and
 * "--name=VALUE". Returns the value or NULL; *i is advanced past a consumed
 * separate VALUE. */
const char *ctng_cli_flag(int argc, char **argv, int *i, const char *name);

/* Checks v, the value given to `flag` (NULL when the flag had none), as a
 * decimal number in min..max (ctng_parse_u64) and stores it in *out. Returns
 * 0, or prints "ctng CMD: FLAG ..." on stderr and returns CTNG_EXIT_USAGE. */
int ctng_cli_u64_flag(const char *cmd, const char *flag, const char *v, uint64_t min, uint64_t max,
                      uint64_t *out);

/* Splits "HOST:PORT", "[V6]:PORT", "HOST" or "V6" (an IPv6 literal with
 * no brackets has no port) into host (NUL-terminated, brackets removed,
 * at most host_cap - 1 bytes) and *port (0 when none was given). PORT is
 * 1..65535. With port_required, a missing port is an error. Returns 0 or
 * -1 (malformed; nothing printed). */
int ctng_cli_host_port(const char *s, bool port_required, char *host, size_t host_cap,
                       uint16_t *port);

/* `--tls-ca FILE` of the commands that talk to nodes (client sync, cert):
 * the CA bundle https:// peers are verified against instead of the system
 * roots (ctng_net_set_default_tls_ca). Returns CTNG_EXIT_OK, or prints why
 * and returns CTNG_EXIT_USAGE. */
int ctng_cli_tls_ca(const char *cmd, const char *file);

/* The shared front half of a daemon subcommand (`ctng NAME --config FILE
 * [--log-level debug|info|warn|error]`, argv[0] = NAME): parses those flags
 * (the log level takes effect at once), loads FILE into *cfg, checks that
 * the node's role is `role` (CTNG_ROLE_NONE accepts any role) and tags log
 * lines with the node id. Returns CTNG_EXIT_OK with *cfg loaded (the caller
 * owns it and releases it with ctng_node_config_free), or prints a one-line
 * error and returns CTNG_EXIT_USAGE with *cfg empty (nothing to free).
 * Used by the four daemon commands (cmd_ca/logger/monitor/gossiper.c).
 * Defined in daemon_args.c. */
int ctng_cli_daemon_config(int argc, char **argv, ctng_role role, ctng_node_config *cfg);

#endif
