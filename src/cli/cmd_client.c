/*
 * cmd_client.c — `ctng client`: the relying party on the command line
 * (DESIGN §10, include/ctng/client.h): sync a state from one monitor, verify
 * a certificate offline, and check a TLS server's certificate during a real
 * handshake. Exit status: 0 success / valid, 1 invalid (the reason on
 * stderr; also a monitor that served a bad update, or a failed connection),
 * 2 bad usage, unreadable files or a malformed certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/base.h"
#include "ctng/client.h"
#include "ctng/config.h"

static const char usage[] =
    "usage:\n"
    "  ctng client sync --monitor URL --state FILE [--network DIR/network.json]\n"
    "                   [--timeout-ms MS] [--tls-ca CA.pem]\n"
    "      fetch and apply the client update of every period since the last one\n"
    "      synced (the first sync needs --network; later ones use the state);\n"
    "      URL http:// or https:// (verified against the system roots, or --tls-ca)\n"
    "  ctng client verify --state FILE CERT.pem|CERT.der\n"
    "      validate offline: exit 0 valid, 1 invalid (reason on stderr)\n"
    "  ctng client tls HOST:PORT --state FILE [--connect ADDR[:PORT]] [--timeout-ms MS]\n"
    "      TLS handshake that is refused unless the server certificate is CTng-valid\n"
    "      (--connect: address, and optionally port, to dial instead of HOST:PORT;\n"
    "      HOST stays the name checked and sent as SNI; IPv6 as [ADDR]:PORT)\n";

#define CMD "client"

static int open_state(const char *state, const char *network, ctng_client **c)
{
	ctng_err err = {0};
	uint8_t *txt = NULL;
	size_t len = 0;
	if (network && ctng_read_file(network, CTNG_CONFIG_FILE_MAX, &txt, &len, &err))
		return ctng_cli_fail(CTNG_EXIT_USAGE, CMD, "%s: %s", network, err.msg);
	int rc = ctng_client_open(state, (const char *)txt, len, c, &err);
	free(txt);
	if (rc)
		return ctng_cli_fail(rc == CTNG_EIO || rc == CTNG_EINVAL || rc == CTNG_ESTATE ||
		                             rc == CTNG_ECONFLICT
		                         ? CTNG_EXIT_USAGE
		                         : CTNG_EXIT_INVALID,
		                     CMD, "state %s: %s", state, err.msg);
	return 0;
}

static int parse_timeout(const char *s, uint64_t *ms)
{
	ctng_err err = {0};
	if (s && ctng_parse_u64(s, 3600000, ms, &err))
		return ctng_cli_usage_error(CMD, "--timeout-ms: %s", err.msg);
	return 0;
}

static int cmd_sync(int argc, char **argv)
{
	const char *monitor = NULL, *state = NULL, *network = NULL, *tmo = NULL, *v;
	for (int i = 1; i < argc; i++) {
		if ((v = ctng_cli_flag(argc, argv, &i, "--monitor")))
			monitor = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--state")))
			state = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--network")))
			network = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--tls-ca"))) {
			if (ctng_cli_tls_ca(CMD, v))
				return CTNG_EXIT_USAGE;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--timeout-ms")))
			tmo = v;
		else
			return ctng_cli_usage_error(CMD, "sync: unexpected argument '%s'\n%s",
			                            argv[i], usage);
	}
	if (!monitor || !state)
		return ctng_cli_usage_error(CMD, "sync needs --monitor and --state\n%s", usage);
	uint64_t timeout = 0;
	if (parse_timeout(tmo, &timeout))
		return CTNG_EXIT_USAGE;
	ctng_client *c = NULL;
	int st = open_state(state, network, &c);
	if (st)
		return st;
	ctng_client_sync_stats s;
	ctng_err err = {0};
	int rc = ctng_client_sync(c, monitor, ctng_now_ms(), timeout, &s, &err);
	ctng_client_close(c);
	if (rc == CTNG_EINVAL && strstr(err.msg, "URL"))
		return ctng_cli_usage_error(CMD, "%s", err.msg);
	if (rc)
		return ctng_cli_fail(CTNG_EXIT_INVALID, CMD, "%s", err.msg);
	if (s.missing)
		fprintf(stderr,
		        "ctng client: warning: the monitor has no update for period %llu, which is "
		        "over; sync from another monitor\n",
		        (unsigned long long)s.missing_period);
	if (s.have_last)
		printf("{\"applied\":%zu,\"missing\":%zu,\"last_period\":%llu,\"crvs\":%zu}\n",
		       s.applied, s.missing, (unsigned long long)s.last, s.crvs);
	else
		printf("{\"applied\":0,\"missing\":%zu,\"last_period\":null}\n", s.missing);
	return CTNG_EXIT_OK;
}

static int cmd_verify(int argc, char **argv)
{
	const char *state = NULL, *file = NULL, *v;
	for (int i = 1; i < argc; i++) {
		if ((v = ctng_cli_flag(argc, argv, &i, "--state")))
			state = v;
		else if (argv[i][0] == '-' && argv[i][1])
			return ctng_cli_usage_error(CMD, "verify: unknown option '%s'\n%s", argv[i],
			                            usage);
		else if (!file)
			file = argv[i];
		else
			return ctng_cli_usage_error(CMD, "verify: one certificate only\n%s", usage);
	}
	if (!state || !file)
		return ctng_cli_usage_error(CMD, "verify needs --state and a certificate\n%s",
		                            usage);
	ctng_err err = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	if (ctng_read_file(file, 16 * (size_t)(96u << 10), &data, &len, &err))
		return ctng_cli_fail(CTNG_EXIT_USAGE, CMD, "%s: %s", file, err.msg);
	ctng_client *c = NULL;
	int st = open_state(state, NULL, &c);
	if (st) {
		free(data);
		return st;
	}
	size_t k = 0;
	while (k < len && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r' || data[k] == '\n'))
		k++;
	bool pem = len - k >= 5 && memcmp(data + k, "-----", 5) == 0;
	ctng_client_result r;
	int rc = pem ? ctng_client_validate_pem(c, (const char *)data, len, ctng_now_ms(), &r, &err)
	             : ctng_client_validate_der(c, data, len, ctng_now_ms(), &r, &err);
	free(data);
	ctng_client_close(c);
	if (rc)
		return ctng_cli_fail(CTNG_EXIT_INVALID, CMD, "%s", err.msg);
	if (r.reason == CTNG_CLIENT_OK) {
		printf("valid: %s\n", r.message);
		return CTNG_EXIT_OK;
	}
	return ctng_cli_fail(r.reason == CTNG_CLIENT_MALFORMED ? CTNG_EXIT_USAGE
	                                                       : CTNG_EXIT_INVALID,
	                     CMD, "%s: %s", ctng_client_reason_name(r.reason), r.message);
}

static int cmd_tls(int argc, char **argv)
{
	const char *state = NULL, *target = NULL, *connect = NULL, *tmo = NULL, *v;
	for (int i = 1; i < argc; i++) {
		if ((v = ctng_cli_flag(argc, argv, &i, "--state")))
			state = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--connect")))
			connect = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--tls-ca"))) {
			if (ctng_cli_tls_ca(CMD, v))
				return CTNG_EXIT_USAGE;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--timeout-ms")))
			tmo = v;
		else if (argv[i][0] == '-')
			return ctng_cli_usage_error(CMD, "tls: unknown option '%s'\n%s", argv[i],
			                            usage);
		else if (!target)
			target = argv[i];
		else
			return ctng_cli_usage_error(CMD, "tls: one HOST:PORT only\n%s", usage);
	}
	if (!state || !target)
		return ctng_cli_usage_error(CMD, "tls needs HOST:PORT and --state\n%s", usage);
	uint64_t timeout = 0;
	if (parse_timeout(tmo, &timeout))
		return CTNG_EXIT_USAGE;
	char host[256], dial[256];
	uint16_t port = 0, dial_port = 0;
	if (ctng_cli_host_port(target, true, host, sizeof host, &port))
		return ctng_cli_usage_error(CMD, "tls: '%s' is not HOST:PORT", target);
	if (connect && ctng_cli_host_port(connect, false, dial, sizeof dial, &dial_port))
		return ctng_cli_usage_error(CMD, "tls: --connect '%s' is not HOST or HOST:PORT",
		                            connect);
	ctng_client *c = NULL;
	int st = open_state(state, NULL, &c);
	if (st)
		return st;
	ctng_client_result r;
	ctng_err err = {0};
	int rc = ctng_client_tls_check(c, host, connect ? dial : NULL, dial_port ? dial_port : port,
	                               timeout, &r, &err);
	ctng_client_close(c);
	if (rc)
		return ctng_cli_fail(CTNG_EXIT_INVALID, CMD, "%s", err.msg);
	if (r.reason == CTNG_CLIENT_OK) {
		printf("valid: TLS handshake with %s:%llu completed; %s\n", host,
		       (unsigned long long)port, r.message);
		return CTNG_EXIT_OK;
	}
	return ctng_cli_fail(CTNG_EXIT_INVALID, CMD, "handshake refused: %s: %s",
	                     ctng_client_reason_name(r.reason), r.message);
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return ctng_cli_usage_error(CMD, "missing subcommand\n%s", usage);
	const char *sub = argv[1];
	if (strcmp(sub, "sync") == 0)
		return cmd_sync(argc - 1, argv + 1);
	if (strcmp(sub, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(sub, "tls") == 0)
		return cmd_tls(argc - 1, argv + 1);
	if (strcmp(sub, "help") == 0) {
		fputs(usage, stdout);
		return CTNG_EXIT_OK;
	}
	return ctng_cli_usage_error(CMD, "unknown subcommand '%s'\n%s", sub, usage);
}

const ctng_cli_cmd ctng_cmd_client = {"client", "relying party: sync, verify, tls", usage, run};
