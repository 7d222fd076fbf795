/*
 * fuzz_config.c — libFuzzer target for the configuration loaders, from a
 * memory buffer. Byte 0 selects the parser: even = network.json
 * (ctng_network_parse), odd = a private config.json (ctng_node_config_parse)
 * checked against a small fixed network generated once with
 * ctng_init_network. Invariants: no crash or leak; every rejection is an
 * error code with a message; an accepted network has entities whose
 * references all resolve.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctng/config.h"

static char *g_net_text;
static size_t g_net_len;

static void setup_once(void)
{
	if (g_net_text)
		return;
	char dir[] = "/tmp/ctng_fuzz_cfg_XXXXXX";
	if (!mkdtemp(dir))
		abort();
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.loggers = o.cas = o.monitors = 1;
	o.threshold = 1;
	o.genesis_ms = 1700000000000ULL;
	ctng_err err = {0};
	if (ctng_init_network(dir, &o, &err))
		abort();
	char path[256];
	snprintf(path, sizeof(path), "%s/network.json", dir);
	uint8_t *d = NULL;
	if (ctng_read_file(path, 1 << 20, &d, &g_net_len, &err))
		abort();
	g_net_text = (char *)d;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	ctng_err err = {0};
	if ((data[0] & 1) == 0) {
		ctng_network net;
		int rc = ctng_network_parse((const char *)data + 1, size - 1, &net, &err);
		if (rc != 0) {
			if (!err.msg[0])
				abort();
			return 0;
		}
		for (size_t i = 0; i < net.n_entities; i++) {
			const ctng_entity *e = &net.entities[i];
			if (e->role == CTNG_ROLE_MONITOR && !ctng_network_gossiper_of(&net, e->id))
				abort();
			if (e->role == CTNG_ROLE_GOSSIPER && !ctng_network_monitor_of(&net, e->id))
				abort();
		}
		ctng_network_free(&net);
		return 0;
	}
	setup_once();
	ctng_network net;
	if (ctng_network_parse(g_net_text, g_net_len, &net, &err))
		abort();
	ctng_node_config cfg;
	int rc = ctng_node_config_parse((const char *)data + 1, size - 1, "/nonexistent", &net,
	                                &cfg, &err);
	if (rc == 0) {
		if (!cfg.self)
			abort();
		ctng_node_config_free(&cfg);
	} else if (!err.msg[0]) {
		abort();
	}
	return 0;
}
