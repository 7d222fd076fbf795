/*
 * bench_network.c — `ctng bench network`: the figures of the CTng network
 * itself (issue 6), measured by running the honest seed network for real
 * (separate processes on loopback, as `ctng testnet` does):
 *   network.convergence  ms from the end of gossip_wait until the last FULL
 *                        reached a monitor (worst period and monitor)
 *   network.gossip_bytes bytes in+out per gossiper per period
 *   network.client_update bytes of one monitor's client update
 * each over http:// and over https:// (ctng testnet --tls; "scheme"), the
 * gossip bytes also as bytes on the wire per gossiper process and period
 * (TLS and HTTP framing included: "wire_bytes_avg");
 * Environment: CTNG_BENCH_NETWORK_PERIODS (default 4), _PERIOD_MS (2000),
 * _PORT_BASE (26000).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "ctng/testnet.h"

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	uint64_t x;
	return v && ctng_parse_u64(v, UINT64_MAX, &x, NULL) == 0 ? x : dflt;
}

static uint64_t fig(json_t *f, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(f, key));
	return v > 0 ? (uint64_t)v : 0;
}

/* One honest run; *figures owned by the caller. */
static int run_once(ctng_testnet_opts *o, json_t **figures)
{
	*figures = NULL;
	o->figures = figures;
	FILE *devnull = fopen("/dev/null", "w");
	o->out = devnull;
	ctng_err e = {0};
	int rc = ctng_testnet_run(o, &e);
	if (devnull)
		fclose(devnull);
	if (rc != 0 || !*figures) {
		fprintf(stderr, "bench network: the honest network run failed: %s\n",
		        rc < 0 ? e.msg : "counts did not match");
		json_decref(*figures);
		*figures = NULL;
		return 1;
	}
	return 0;
}

/* The three lines of an honest run over `scheme`. */
static void print_base(const ctng_testnet_opts *o, json_t *figures, const char *scheme)
{
	char extra[400];
	uint64_t wait = fig(figures, "gossip_wait_ms"), last = fig(figures, "last_full_ms_max");
	/* The query happens at query_offset = period/10 (ctng init's default). */
	uint64_t after = last > wait + o->period_ms / 10 ? last - wait - o->period_ms / 10 : 0;
	snprintf(extra, sizeof(extra),
	         ",\"scheme\":\"%s\",\"ms_after_wait\":%llu,\"last_full_ms\":%llu,"
	         "\"gossip_wait_ms\":%llu,\"period_ms\":%llu",
	         scheme, (unsigned long long)after, (unsigned long long)last,
	         (unsigned long long)wait, (unsigned long long)o->period_ms);
	ctng_bench_line_ns("network.convergence", (double)after * 1e6, o->periods, extra);
	snprintf(extra, sizeof(extra),
	         ",\"scheme\":\"%s\",\"bytes_avg\":%llu,\"bytes_max\":%llu,\"gossipers\":4,"
	         "\"wire_bytes_avg\":%llu",
	         scheme, (unsigned long long)fig(figures, "gossip_bytes_avg"),
	         (unsigned long long)fig(figures, "gossip_bytes_max"),
	         (unsigned long long)fig(figures, "gossiper_wire_bytes_avg"));
	ctng_bench_line_rate("network.gossip_bytes_per_period",
	                     (double)fig(figures, "gossip_bytes_avg"), extra);
	snprintf(extra, sizeof(extra), ",\"scheme\":\"%s\",\"bytes_avg\":%llu,\"bytes_max\":%llu",
	         scheme, (unsigned long long)fig(figures, "update_bytes_avg"),
	         (unsigned long long)fig(figures, "update_bytes_max"));
	ctng_bench_line_rate("network.client_update_bytes",
	                     (double)fig(figures, "update_bytes_avg"), extra);
}

int ctng_bench_network(void)
{
	ctng_testnet_opts o;
	ctng_testnet_opts_default(&o);
	o.periods = env_u64("CTNG_BENCH_NETWORK_PERIODS", 4);
	o.period_ms = env_u64("CTNG_BENCH_NETWORK_PERIOD_MS", 2000);
	o.port_base = (uint16_t)env_u64("CTNG_BENCH_NETWORK_PORT_BASE", 26000);
	uint64_t load = env_u64("CTNG_BENCH_NETWORK_LOAD", 1000);
	json_t *figures = NULL;
	char extra[400];
	uint64_t last;
	for (int tls = 0; tls < 2; tls++) {
		o.tls = tls;
		if (run_once(&o, &figures))
			return 1;
		print_base(&o, figures, tls ? "https" : "http");
		json_decref(figures);
	}
	o.tls = false;
	if (!load)
		return 0;
	/* Issue 11: the same network with `load` precertificates per period in
	 * every log, which every monitor mirrors before its gossiper signs. */
	o.load = (size_t)load;
	o.port_base = (uint16_t)(o.port_base + 400);
	if (run_once(&o, &figures))
		return 1;
	last = fig(figures, "last_full_ms_max");
	snprintf(extra, sizeof(extra),
	         ",\"load\":%llu,\"submitted\":%llu,\"failed\":%llu,\"last_full_ms_avg\":%llu,"
	         "\"period_ms\":%llu,\"periods\":%llu",
	         (unsigned long long)load, (unsigned long long)fig(figures, "load_submitted"),
	         (unsigned long long)fig(figures, "load_failed"),
	         (unsigned long long)fig(figures, "last_full_ms_avg"),
	         (unsigned long long)o.period_ms, (unsigned long long)o.periods);
	ctng_bench_line_ns("network.loaded.last_full_after_period_start", (double)last * 1e6,
	                   o.periods, extra);
	snprintf(extra, sizeof(extra),
	         ",\"load\":%llu,\"from_loggers\":%llu,\"from_peers\":%llu,\"unit\":\"bytes per "
	         "monitor per period, logs it does not watch\"",
	         (unsigned long long)load, (unsigned long long)fig(figures, "mirror_unwatched_from_loggers"),
	         (unsigned long long)fig(figures, "mirror_unwatched_from_peers"));
	ctng_bench_line_rate("network.loaded.mirror_unwatched_bytes",
	                     (double)(fig(figures, "mirror_unwatched_from_loggers") +
	                              fig(figures, "mirror_unwatched_from_peers")),
	                     extra);
	json_decref(figures);
	return 0;
}
