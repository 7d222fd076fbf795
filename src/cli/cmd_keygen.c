/*
 * cmd_keygen.c — `ctng keygen`: an operator makes its own entity's keys
 * (issue 12 item 1): DIR/config.json (private, 0600) and DIR/<id>.entity.json
 * (the public descriptor to hand to whoever assembles the network).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/config.h"

#define MAX_LIST 1024

/* Splits "a,b,c" into list (pointers into buf, which it modifies). */
static int split(const char *cmd, const char *flag, char *buf, const char **list, size_t *n)
{
	*n = 0;
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST)
			return ctng_cli_usage_error(cmd, "%s: too many ids", flag);
		list[(*n)++] = t;
	}
	if (*n == 0)
		return ctng_cli_usage_error(cmd, "%s needs a comma-separated list of ids", flag);
	return 0;
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[0], *role = NULL, *out = NULL;
	ctng_keygen_opts o = {0};
	static const char *loggers[MAX_LIST], *cas[MAX_LIST], *peers[MAX_LIST];
	char *lbuf = NULL, *cbuf = NULL, *pbuf = NULL;
	int st = CTNG_EXIT_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--role")))
			role = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--id")))
			o.id = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--url")))
			o.url = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--out")))
			out = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--listen")))
			o.listen = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--network")))
			o.network = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--gossiper")))
			o.gossiper = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--monitor")))
			o.monitor = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--loggers")) && !lbuf) {
			if (!(lbuf = strdup(v)) ||
			    split(cmd, "--loggers", lbuf, loggers, &o.n_loggers))
				goto done;
			o.loggers = loggers;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--cas")) && !cbuf) {
			if (!(cbuf = strdup(v)) || split(cmd, "--cas", cbuf, cas, &o.n_cas))
				goto done;
			o.cas = cas;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--peers")) && !pbuf) {
			if (!(pbuf = strdup(v)) || split(cmd, "--peers", pbuf, peers, &o.n_peers))
				goto done;
			o.peers = peers;
		} else {
			ctng_cli_usage_error(cmd, "unknown or repeated argument '%s'", argv[i]);
			goto done;
		}
	}
	if (!role || !o.id || !o.url || !out) {
		ctng_cli_usage_error(cmd, "--role, --id, --url and --out are required");
		goto done;
	}
	if ((o.role = ctng_role_from_name(role)) == CTNG_ROLE_NONE) {
		ctng_cli_usage_error(cmd, "--role must be logger, ca, monitor or gossiper");
		goto done;
	}
	ctng_err e = {0};
	if (ctng_keygen(out, &o, &e)) {
		st = ctng_cli_fail(ctng_cli_exit_for(e.code), cmd, "%s", e.msg);
		goto done;
	}
	printf("wrote %s/config.json (private, keep it on this machine) and %s/%s.entity.json "
	       "(public: send it to whoever assembles the network)\n",
	       out, out, o.id);
	st = CTNG_EXIT_OK;
done:
	free(lbuf);
	free(cbuf);
	free(pbuf);
	return st;
}

const ctng_cli_cmd ctng_cmd_keygen = {
    "keygen", "make one entity's keys: private config.json and public ID.entity.json",
    "usage: ctng keygen --role logger|ca|monitor|gossiper --id ID --url http[s]://HOST:PORT\n"
    "                   --out DIR [--listen HOST:PORT] [--network PATH]\n"
    "                   [--loggers ID,... --cas ID,... --gossiper ID]   (monitor)\n"
    "                   [--monitor ID --peers ID,...]                   (gossiper)\n\n"
    "Makes the keys of one entity on the operator's own machine and writes\n"
    "  DIR/config.json      private (mode 0600): the entity's private keys and settings\n"
    "  DIR/ID.entity.json   public descriptor: id, role, url, public keys (a CA's root\n"
    "                       certificate, a gossiper's DKG transport key)\n"
    "  DIR/root.pem         CAs: the self-signed root certificate\n"
    "Keys: loggers ECDSA P-256; CAs ECDSA P-256 and a root; monitors Ed25519;\n"
    "gossipers Ed25519 (signing DKG messages) and X25519 (receiving DKG shares).\n"
    "Nothing secret is written anywhere but config.json. --listen defaults to the\n"
    "url's address when it is an IPv4 literal, else 0.0.0.0; --network (default\n"
    "network.json, relative to DIR) is where config.json expects the network file.\n"
    "The optional topology (whom a monitor watches, which gossiper it pairs with, a\n"
    "gossiper's peers) goes into the descriptor; `ctng network assemble` completes\n"
    "what is left open. Refuses to overwrite DIR/config.json. See docs/config.md.\n",
    run};
