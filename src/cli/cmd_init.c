/* cmd_init.c — `ctng init`: writes a fresh network configuration (DESIGN §9-10,
 * docs/config.md) into a folder, then loads it back to prove it is valid. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/config.h"

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	const char *dir = NULL;
	bool dealer = false;
	static const struct {
		const char *flag;
		uint64_t min, max;
	} nums[] = {
	    {"--period-ms", 100, (uint64_t)1 << 40},
	    {"--loggers", 1, CTNG_INIT_MAX_ROLE},
	    {"--cas", 1, CTNG_INIT_MAX_ROLE},
	    {"--monitors", 1, CTNG_INIT_MAX_ROLE},
	    {"--threshold", 1, CTNG_INIT_MAX_ROLE},
	    {"--genesis-ms", 1, (uint64_t)1 << 53},
	    {"--port-base", 1, 65136},
	    {"--watch", 1, CTNG_INIT_MAX_ROLE},
	    {"--peers", 1, CTNG_INIT_MAX_ROLE},
	};
	static const char *hosts[CTNG_CONFIG_MAX_ENTITIES + 1];
	size_t n_hosts = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--dir"))) {
			dir = v;
			continue;
		}
		if ((v = ctng_cli_flag(argc, argv, &i, "--host"))) {
			o.host = v;
			continue;
		}
		if ((v = ctng_cli_flag(argc, argv, &i, "--entity-host"))) {
			if (n_hosts + 1 >= sizeof(hosts) / sizeof(hosts[0]))
				return ctng_cli_usage_error(cmd, "too many --entity-host");
			hosts[n_hosts++] = v;
			o.entity_hosts = hosts;
			continue;
		}
		if (strcmp(argv[i], "--dealer") == 0) {
			dealer = true;
			continue;
		}
		if (strcmp(argv[i], "--peers=all") == 0 ||
		    (strcmp(argv[i], "--peers") == 0 && i + 1 < argc && !strcmp(argv[i + 1], "all"))) {
			i += argv[i][7] == 0;
			o.peers = 0;
			continue;
		}
		if (strcmp(argv[i], "--tls") == 0) {
			o.tls = true;
			continue;
		}
		size_t k = 0;
		for (; k < sizeof(nums) / sizeof(nums[0]); k++) {
			size_t fl = strlen(nums[k].flag);
			if (strncmp(argv[i], nums[k].flag, fl) == 0 &&
			    (argv[i][fl] == '\0' || argv[i][fl] == '='))
				break;
		}
		if (k == sizeof(nums) / sizeof(nums[0]))
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
		uint64_t n;
		v = ctng_cli_flag(argc, argv, &i, nums[k].flag);
		if (ctng_cli_u64_flag(cmd, nums[k].flag, v, nums[k].min, nums[k].max, &n))
			return CTNG_EXIT_USAGE;
		switch (k) {
		case 0:
			o.period_ms = n;
			break;
		case 1:
			o.loggers = (uint32_t)n;
			break;
		case 2:
			o.cas = (uint32_t)n;
			break;
		case 3:
			o.monitors = (uint32_t)n;
			break;
		case 4:
			o.threshold = (uint32_t)n;
			break;
		case 5:
			o.genesis_ms = n;
			break;
		case 6:
			o.port_base = (uint16_t)n;
			break;
		case 7:
			o.watch = (uint32_t)n;
			break;
		default:
			o.peers = (uint32_t)n;
			break;
		}
	}
	if (!dir || !dir[0])
		return ctng_cli_usage_error(cmd, "--dir DIR is required");
	o.dkg = !dealer;
	ctng_err e = {0};
	if (ctng_init_network(dir, &o, &e))
		return ctng_cli_fail(ctng_cli_exit_for(e.code), cmd, "%s", e.msg);
	/* Prove the result loads: the network and every private file. */
	char path[4096];
	ctng_network net = {0};
	snprintf(path, sizeof(path), "%s/network.json", dir);
	if (ctng_network_load(path, &net, &e))
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s", e.msg);
	for (size_t i = 0; i < net.n_entities; i++) {
		ctng_node_config cfg;
		snprintf(path, sizeof(path), "%s/%s/config.json", dir, net.entities[i].id);
		if (ctng_node_config_load(path, &cfg, &e)) {
			ctng_network_free(&net);
			return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s", e.msg);
		}
		ctng_node_config_free(&cfg);
	}
	printf("wrote %s/network.json: %zu loggers, %zu CAs, %zu monitors, %zu gossipers, "
	       "threshold %u, period %llu ms, genesis %llu\n",
	       dir, ctng_network_count(&net, CTNG_ROLE_LOGGER),
	       ctng_network_count(&net, CTNG_ROLE_CA), ctng_network_count(&net, CTNG_ROLE_MONITOR),
	       ctng_network_count(&net, CTNG_ROLE_GOSSIPER), net.threshold,
	       (unsigned long long)net.clock.period_ms, (unsigned long long)net.clock.genesis_ms);
	if (dealer)
		printf("BLS shares dealt by this command (--dealer): whoever ran it could know the "
		       "group secret; use such a network for experiments only\n");
	else
		printf("no group key yet: the gossipers make it with a DKG. `ctng testnet --dir %s` "
		       "runs it and then the network; by hand, start every gossiper (ctng gossiper "
		       "--config %s/gossiperK/config.json), then `ctng network finalize` with their "
		       "dkg-transcript.json files (docs/dkg.md)\n",
		       dir, dir);
	ctng_network_free(&net);
	return CTNG_EXIT_OK;
}

const ctng_cli_cmd ctng_cmd_init = {
    "init", "write a test network in one folder (keys, network.json, per-node configs)",
    "usage: ctng init --dir DIR [--dealer] [--period-ms MS] [--loggers N] [--cas N]\n"
    "                 [--monitors N] [--threshold T] [--genesis-ms MS] [--port-base PORT]\n"
    "                 [--host HOST] [--entity-host ID=HOST]... [--watch N] [--peers all|N]\n"
    "                 [--tls]\n\n"
    "Writes DIR/network.json (public) and DIR/<id>/config.json (private, mode 0600)\n"
    "for every entity, with fresh keys made as `ctng keygen` makes them: loggers\n"
    "ECDSA P-256, CAs ECDSA P-256 plus a self-signed root DIR/<id>/root.pem,\n"
    "monitors Ed25519, gossipers Ed25519 and an X25519 DKG transport key. The\n"
    "network has no group key: its gossipers make it with a distributed key\n"
    "generation (ctng testnet --dir DIR does that; see docs/dkg.md).\n\n"
    "--dealer  WARNING: deals the gossipers' (T, N) BLS shares here instead, as a\n"
    "          trusted dealer. Whoever runs it could know the group secret and forge\n"
    "          every FULL the network makes: quick experiments only, never a real\n"
    "          network.\n"
    "--tls     HTTPS between every node: https:// URLs, a test CA in DIR/tls/ (ca.pem;\n"
    "          ca-key.pem 0600) and per node DIR/<id>/tls/cert.pem + key.pem naming\n"
    "          HOST (and localhost); every config.json gets \"tls\" (docs/config.md).\n\n"
    "Default: the seed network of DESIGN 9 - 3 loggers\n"
    "(ports 9000-), 3 CAs (9100-), 4 monitors (9200-), 4 gossipers (9300-), one\n"
    "gossiper per monitor, threshold 2, period 60000 ms, genesis now (whole second).\n"
    "Up to 999 of each role (1024 entities in all); past 99 the port strides are 1000.\n"
    "Topology: --watch N makes each monitor watch N loggers and N CAs, its own index\n"
    "and the next ones (default 2: the DESIGN 9 table for 3 and 3); --peers N gives\n"
    "each gossiper N peers (offsets +-1, +-2, +-4, ...) instead of all (full mesh).\n"
    "--host sets every entity's address (default 127.0.0.1); --entity-host ID=HOST\n"
    "(repeatable) one entity's, e.g. nodes in their own network namespaces.\n"
    "Refuses to overwrite an existing DIR/network.json. See docs/config.md.\n",
    run};
