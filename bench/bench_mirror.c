/*
 * bench_mirror.c — `ctng bench mirror`: mirror ingest on one monitor (issue
 * 11): how many entries per second the monitor's mirror (src/monitor/
 * mirror.c on its libevent loop, the mirror state machine and its SQLite
 * store on a file database, WAL, synchronous=FULL) fetches over loopback
 * HTTP, verifies against the signed root, parses and stores durably.
 *
 * The log is synthetic but in the real format: N static-ct-api TileLeafs
 * of precertificate entries of about 1.3 KiB (a real TBS of about 800
 * bytes from bench_tbs — each one distinct, parseable, of the bench CA —,
 * 200-byte precertificate, two chain fingerprints; every third entry with
 * the leaf_index extension), served by a C2SP/CTng HTTP server on another
 * thread of this process (signed tile roots, entry bundles) — so the load
 * generator does not measure a logger's SQLite reads, and both share the
 * machine's 2 cores. One job takes the empty mirror to the STH of the whole
 * log; timing is from the STH to "tree held".
 *   {"name":"mirror.ingest.http","per_second":…,"n":N,"entry_bytes":…,
 *    "cpu_us_per_entry":…,"rounds":R}
 * best round of R (fresh database each); then the same with the
 * monitor's certificate index on the entry hook (src/index, in the same
 * transactions), as mirror.ingest.http.indexed: the cost indexing adds.
 * Environment: CTNG_BENCH_MIRROR_N
 * (200000), CTNG_BENCH_MIRROR_ROUNDS (3).
 */
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/config.h"
#include "ctng/index.h"
#include "ctng/merkle.h"
#include "ctng/mirror.h"
#include "ctng/net.h"
#include "ctng/store.h"
#include "monitor/monitor_internal.h"

typedef struct synth {
	const bench_tbs *tbs;
	uint64_t n;
	uint8_t *data; /* every TileLeaf, concatenated */
	size_t *off;   /* n + 1 offsets */
	uint8_t (*leaf)[32];
	uint8_t (*tile_root)[32];
	const ctng_sig_key *key;
	ctng_net_loop *loop;
	ctng_net_server *srv;
	uint16_t port;
} synth;

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	uint64_t x;
	return v && ctng_parse_u64(v, UINT64_MAX, &x, NULL) == 0 ? x : dflt;
}

static uint8_t *put(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static int synth_make(synth *s, uint64_t n)
{
	s->n = n;
	size_t per = 8 + 2 + 32 + 3 + s->tbs->len + 2 + 8 + 3 + 200 + 2 + 64;
	s->data = malloc(n * per);
	s->off = malloc((n + 1) * sizeof(size_t));
	s->leaf = malloc(n * 32);
	s->tile_root = malloc(((n + 255) / 256) * 32);
	if (!s->data || !s->off || !s->leaf || !s->tile_root)
		return -1;
	uint8_t *p = s->data;
	static const uint8_t pre[2] = {0, 0};
	ctng_merkle_hasher *hs = NULL;
	if (ctng_merkle_hasher_new(&hs))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		s->off[i] = (size_t)(p - s->data);
		uint8_t *te = p;
		p = put(p, 1700000000000ull + i, 8);
		p = put(p, 1, 2);
		memcpy(p, s->tbs->ikh, 32);
		p += 32;
		p = put(p, s->tbs->len, 3);
		bench_tbs_fill(s->tbs, i, p);
		p += s->tbs->len;
		if (i % 3 == 0) {
			p = put(p, 8, 2);
			p = put(p, 0, 1);
			p = put(p, 5, 2);
			p = put(p, i, 5);
		} else {
			p = put(p, 0, 2);
		}
		ctng_merkle_hasher_leaf_parts(hs, s->leaf[i], pre, 2, te, (size_t)(p - te));
		p = put(p, 200, 3);
		memset(p, 0x30, 200);
		p += 200;
		p = put(p, 64, 2);
		memset(p, 0xab, 64);
		p += 64;
	}
	s->off[n] = (size_t)(p - s->data);
	for (uint64_t t = 0; t * 256 < n; t++) {
		uint64_t w = n - t * 256 < 256 ? n - t * 256 : 256;
		ctng_merkle_range r;
		ctng_merkle_range_init(&r);
		for (uint64_t k = 0; k < w; k++)
			ctng_merkle_range_append(&r, hs, s->leaf[t * 256 + k], NULL);
		ctng_merkle_range_root(&r, hs, s->tile_root[t], NULL);
	}
	ctng_merkle_hasher_free(hs);
	return 0;
}

static void h_roots(ctng_net_req *req, void *arg)
{
	synth *s = arg;
	uint64_t size = 0, first = 0, count = 0;
	ctng_err e = {0};
	ctng_tile_roots t = {0};
	json_t *j = NULL;
	snprintf(t.logger, sizeof t.logger, "logger1");
	if (ctng_net_req_query_u64(req, "tree_size", INT64_MAX, &size, &e) ||
	    ctng_net_req_query_u64(req, "first", INT64_MAX, &first, &e) ||
	    ctng_net_req_query_u64(req, "count", CTNG_TILE_ROOTS_MAX, &count, &e) || size != s->n) {
		ctng_net_reply_error(req, 400, "bad query");
		return;
	}
	t.tree_size = size;
	t.first = first;
	t.count = (uint32_t)count;
	if (ctng_tile_roots_check(&t, &e) || !(t.roots = malloc(count * 32))) {
		ctng_net_reply_error(req, 400, "%s", e.msg);
		return;
	}
	memcpy(t.roots, s->tile_root[first], count * 32);
	if (ctng_tile_roots_sign(&t, s->key, &e) || ctng_tile_roots_to_json(&t, &j, &e))
		ctng_net_reply_error(req, 500, "%s", e.msg);
	else
		ctng_net_reply_json(req, 200, j);
	ctng_tile_roots_clear(&t);
}

static void h_data(ctng_net_req *req, void *arg)
{
	synth *s = arg;
	uint64_t t = 0;
	unsigned w = 0;
	ctng_err e = {0};
	if (ctng_merkle_tile_index_parse(ctng_net_req_path(req) + 11, &t, &w, &e) ||
	    t * 256 + w > s->n) {
		ctng_net_reply_error(req, 404, "no such tile");
		return;
	}
	size_t a = s->off[t * 256], b = s->off[t * 256 + w];
	ctng_net_reply_tile(req, s->data + a, b - a, w == 256);
}

static void *serve(void *arg)
{
	synth *s = arg;
	ctng_net_loop_run(s->loop, NULL);
	return NULL;
}

/* -------------------------------------------------------------- mirror */

typedef struct run_ctx {
	ctng_net_loop *loop;
	bool held;
} run_ctx;

static void on_event(void *arg, enum mon_mirror_event ev, const char *logger, uint64_t period,
                     const ctng_gossip_object *obj, const char *reason)
{
	(void)logger, (void)period, (void)obj, (void)reason;
	run_ctx *r = arg;
	if (ev == MON_MIRROR_STORED)
		return; /* a run committed: what the index's follow-up work hangs on */
	if (ev == MON_MIRROR_HELD) {
		r->held = true;
		ctng_net_loop_stop(r->loop);
	} else {
		fprintf(stderr, "bench mirror: unexpected event %d (%s)\n", ev,
		        reason ? reason : "");
		ctng_net_loop_stop(r->loop);
	}
}

static double cpu_s(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
	       u.ru_stime.tv_usec / 1e6;
}

int ctng_bench_mirror(void)
{
	uint64_t n = env_u64("CTNG_BENCH_MIRROR_N", 200000);
	uint64_t rounds = env_u64("CTNG_BENCH_MIRROR_ROUNDS", 3);
	if (n == 0 || rounds == 0)
		return 0;
	ctng_err e = {0};
	/* A network of one logger and two monitors, in memory. */
	ctng_sig_key *lk = NULL, *mk = NULL;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &lk, &e) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &mk, &e)) {
		fprintf(stderr, "bench mirror: %s\n", e.msg);
		return 1;
	}
	bench_tbs tbs;
	if (bench_tbs_make(&tbs)) {
		fprintf(stderr, "bench mirror: cannot make the certificate template\n");
		return 1;
	}
	synth s = {0};
	s.key = lk;
	s.tbs = &tbs;
	if (synth_make(&s, n) || !(s.loop = ctng_net_loop_new(&e)) ||
	    !(s.srv = ctng_net_server_new(s.loop, 0, &e)) ||
	    ctng_net_server_bind(s.srv, "127.0.0.1", 0, &s.port, &e) ||
	    ctng_net_server_route(s.srv, "GET", "/ctng/v1/tile-roots", h_roots, &s, &e) ||
	    ctng_net_server_route(s.srv, "GET", "/tile/data/*", h_data, &s, &e)) {
		fprintf(stderr, "bench mirror: setup: %s\n", e.msg);
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, serve, &s);
	ctng_entity ent[4];
	memset(ent, 0, sizeof ent);
	snprintf(ent[3].id, sizeof ent[3].id, "ca1");
	ent[3].role = CTNG_ROLE_CA;
	ent[3].root_cert_pem = tbs.root_pem;
	ctng_sig_key_public_copy(tbs.ca_key, &ent[3].key, NULL);
	char *watched[1] = {"logger1"};
	snprintf(ent[0].id, sizeof ent[0].id, "logger1");
	ent[0].role = CTNG_ROLE_LOGGER;
	snprintf(ent[0].url, sizeof ent[0].url, "http://127.0.0.1:%u", s.port);
	ctng_sig_key_public_copy(lk, &ent[0].key, NULL);
	snprintf(ent[1].id, sizeof ent[1].id, "monitor1");
	ent[1].role = CTNG_ROLE_MONITOR;
	snprintf(ent[1].url, sizeof ent[1].url, "http://127.0.0.1:1");
	ent[1].loggers = watched;
	ent[1].n_loggers = 1;
	ctng_sig_key_public_copy(mk, &ent[1].key, NULL);
	snprintf(ent[2].id, sizeof ent[2].id, "monitor2");
	ent[2].role = CTNG_ROLE_MONITOR;
	snprintf(ent[2].url, sizeof ent[2].url, "http://127.0.0.1:2");
	uint64_t now = ctng_now_ms();
	ctng_node_config cfg = {0};
	cfg.id = "monitor1";
	cfg.net.clock = (ctng_clock){now - 60000, 600000, 6000, 12000, 480000};
	cfg.net.entities = ent;
	cfg.net.n_entities = 4;
	cfg.self = &ent[1];
	ctng_sth h = {.timestamp_ms = now - 60000, .tree_size = n};
	ctng_merkle_root((const uint8_t(*)[32])s.leaf, n, n, h.root, NULL);
	ctng_gossip_object sth = {0};
	if (ctng_sth_sign(&sth, "logger1", lk, &h, &cfg.net.clock, &e)) {
		fprintf(stderr, "bench mirror: STH: %s\n", e.msg);
		return 1;
	}
	int rc = 0;
	for (int indexed = 0; indexed < 2 && !rc; indexed++) {
		double best = 0, best_cpu = 1e18;
		for (uint64_t r = 0; r < rounds && !rc; r++) {
			char dir[] = "/tmp/ctng-bench-mirror-XXXXXX", path[64];
			if (!mkdtemp(dir))
				return 1;
			snprintf(path, sizeof path, "%s/monitor.db", dir);
			ctng_store *st = ctng_store_open(path, &e);
			run_ctx rx = {0};
			ctng_net_server *msrv = NULL;
			mon_mirror *mm = NULL;
			ctng_index *ix = NULL;
			if (!st || !(rx.loop = ctng_net_loop_new(&e)) ||
			    !(msrv = ctng_net_server_new(rx.loop, 0, &e)) ||
			    mon_mirror_open(&cfg, st, rx.loop, msrv, on_event, &rx, &mm, &e) ||
			    (indexed && ctng_index_open(st, &cfg.net, "monitor1", NULL, &ix, &e))) {
				fprintf(stderr, "bench mirror: %s\n", e.msg);
				rc = 1;
			} else {
				if (ix)
					ctng_mirror_db_set_hook(mon_mirror_db(mm),
					                        ctng_index_entry_hook, ix);
				double c0 = cpu_s();
				uint64_t t0 = ctng_mono_ms();
				mon_mirror_on_sth(mm, &sth);
				ctng_net_loop_run(rx.loop, NULL);
				uint64_t ms = ctng_mono_ms() - t0;
				double cpu = cpu_s() - c0;
				uint8_t root[32];
				uint64_t held = 0;
				ctng_index_stats is = {0};
				if (!rx.held ||
				    ctng_mirror_db_size(mon_mirror_db(mm), "logger1", &held, root,
				                        NULL) ||
				    held != n || memcmp(root, h.root, 32) ||
				    (ix && (ctng_index_stats_get(ix, &is, NULL) ||
				            is.certificates != n))) {
					fprintf(stderr, "bench mirror: the mirror does not hold "
					                "(index) the log\n");
					rc = 1;
				}
				double rate = ms ? (double)n * 1000.0 / (double)ms : 0;
				if (rate > best)
					best = rate;
				if (cpu < best_cpu)
					best_cpu = cpu;
			}
			mon_mirror_stop(mm);
			ctng_net_server_free(msrv);
			ctng_net_loop_free(rx.loop);
			mon_mirror_free(mm);
			ctng_index_close(ix);
			ctng_store_close(st);
			char cmd[128];
			snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
			if (system(cmd) != 0)
				fprintf(stderr, "bench mirror: cannot remove %s\n", dir);
		}
		if (!rc) {
			char extra[200];
			snprintf(extra, sizeof extra,
			         ",\"n\":%" PRIu64 ",\"entry_bytes\":%zu,\"cpu_us_per_entry\":%.2f,"
			         "\"rounds\":%" PRIu64,
			         n, s.off[n] / n, best_cpu * 1e6 / (double)n, rounds);
			ctng_bench_line_rate(indexed ? "mirror.ingest.http.indexed"
			                             : "mirror.ingest.http",
			                     best, extra);
		}
	}
	ctng_net_loop_stop(s.loop);
	pthread_join(th, NULL);
	ctng_net_server_free(s.srv);
	ctng_net_loop_free(s.loop);
	ctng_gossip_clear(&sth);
	ctng_sig_key_free(ent[3].key);
	bench_tbs_free(&tbs);
	ctng_sig_key_free(ent[0].key);
	ctng_sig_key_free(ent[1].key);
	ctng_sig_key_free(lk);
	ctng_sig_key_free(mk);
	free(s.data);
	free(s.off);
	free(s.leaf);
	free(s.tile_root);
	return rc;
}
