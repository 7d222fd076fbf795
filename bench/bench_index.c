/*
 * bench_index.c — `ctng bench index`: the monitor's certificate index
 * (docs/monitor.md §10) at scale.
 *
 * Certificates are real precert-entry TBSs: one made by the cert module
 * (a CA root, ctng_cert_make_precert, its precert entry) and then varied in
 * place — serial, SAN dNSName and CN ("h<7 digits>.d<3 digits>.bench.
 * example"), RID — so every one is distinct, parses, and has one name under
 * one of 1000 subdomains. (The TBSs are not re-signed: the index never
 * checks a signature on its hot path.)
 *
 *   index.ingest         N entries through ctng_index_entry_hook on a file
 *                        database (WAL, synchronous=FULL), 1024 per
 *                        transaction like mirror runs of 4 tiles, every 4th
 *                        certificate also logged by a second logger
 *   index.search.exact   p50/p99 of a search for one certificate's name, in
 *                        process (query, merge, rows, JSON)
 *   index.search.sub     p50/p99 of the first page (100) of a subdomain
 *                        search (N/1000 certificates under it)
 *   index.search.http    p50/p99 of the exact search through GET
 *                        /ctng/v1/search of the monitor's real routes
 *                        (src/monitor/index.c) over loopback, one
 *                        connection per request
 * Environment: CTNG_BENCH_INDEX_N (default 1,000,000; the closing note's
 * figure is 10,000,000), CTNG_BENCH_INDEX_QUERIES (2000).
 */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/cert.h"
#include "ctng/index.h"
#include "ctng/mirror.h"
#include "ctng/net.h"
#include "monitor/monitor_internal.h"

#define PLACEHOLDER "h0000000.d000.bench.example"
#define RUN         1024 /* entries per transaction: a mirror run of 4 tiles */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	uint64_t x;
	return v && ctng_parse_u64(v, UINT64_MAX, &x, NULL) == 0 ? x : dflt;
}

static size_t find(const uint8_t *h, size_t hn, const void *needle, size_t nn, size_t from)
{
	for (size_t i = from; i + nn <= hn; i++)
		if (!memcmp(h + i, needle, nn))
			return i;
	return SIZE_MAX;
}

int bench_tbs_make(bench_tbs *t)
{
	memset(t, 0, sizeof(*t));
	ctng_sig_key *subj = NULL;
	X509 *root = NULL, *pre = NULL;
	uint64_t now = ctng_now_ms();
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &t->ca_key, NULL) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, NULL) ||
	    ctng_cert_make_root("bench CA", t->ca_key, now - 3600000, now + 86400000ull * 365,
	                        &root, NULL) ||
	    ctng_cert_to_pem(root, &t->root_pem, NULL, NULL))
		return -1;
	ctng_cert_template tp = {.dns_name = PLACEHOLDER,
	                         .subject_key = ctng_sig_key_evp(subj),
	                         .serial = {0x40},
	                         .serial_len = 16,
	                         .not_before_ms = now - 60000,
	                         .not_after_ms = now + 86400000ull * 90,
	                         .rid = 0x80000000u};
	ctng_ct_entry e = {0};
	int rc = ctng_cert_make_precert(&tp, root, t->ca_key, &pre, NULL) ||
	         ctng_ct_entry_precert_x509(pre, root, &e, NULL);
	ctng_sig_key_free(subj);
	X509_free(root);
	X509_free(pre);
	if (rc)
		return -1;
	t->tbs = e.der;
	t->len = e.der_len;
	memcpy(t->ikh, e.issuer_key_hash, 32);
	static const uint8_t rid[] = {0x02, 0x05, 0x00, 0x80, 0x00, 0x00, 0x00};
	static const uint8_t serial[] = {0x02, 0x10, 0x40};
	size_t n = strlen(PLACEHOLDER);
	t->name_off[0] = find(t->tbs, t->len, PLACEHOLDER, n, 0);
	t->name_off[1] = t->name_off[0] == SIZE_MAX
	                     ? SIZE_MAX
	                     : find(t->tbs, t->len, PLACEHOLDER, n, t->name_off[0] + 1);
	t->rid_off = find(t->tbs, t->len, rid, sizeof rid, 0);
	t->serial_off = find(t->tbs, t->len, serial, sizeof serial, 0);
	if (t->name_off[0] == SIZE_MAX || t->name_off[1] == SIZE_MAX || t->rid_off == SIZE_MAX ||
	    t->serial_off == SIZE_MAX)
		return -1;
	t->rid_off += 3;    /* the four value bytes after 02 05 00 */
	t->serial_off += 3; /* the 15 bytes after the fixed 0x40 */
	return 0;
}

void bench_tbs_name(uint64_t i, char out[32])
{
	snprintf(out, 32, "h%07u.d%03u.bench.example", (unsigned)(i % 10000000),
	         (unsigned)(i % 1000));
}

void bench_tbs_fill(const bench_tbs *t, uint64_t i, uint8_t *out)
{
	memcpy(out, t->tbs, t->len);
	char name[32];
	bench_tbs_name(i, name);
	size_t n = strlen(PLACEHOLDER);
	memcpy(out + t->name_off[0], name, n);
	memcpy(out + t->name_off[1], name, n);
	uint32_t r = 0x80000000u | (uint32_t)(i & 0x7fffffff);
	for (int k = 0; k < 4; k++)
		out[t->rid_off + k] = (uint8_t)(r >> (24 - 8 * k));
	for (int k = 0; k < 8; k++)
		out[t->serial_off + 7 + k] = (uint8_t)(i >> (56 - 8 * k));
}

void bench_tbs_free(bench_tbs *t)
{
	free(t->tbs);
	free(t->root_pem);
	ctng_sig_key_free(t->ca_key);
	memset(t, 0, sizeof(*t));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void line(const char *name, uint64_t *us, size_t n, uint64_t certs, const char *extra)
{
	qsort(us, n, sizeof(*us), cmp_u64);
	uint64_t p50 = us[n / 2], p99 = us[(n * 99) / 100];
	printf("{\"name\":\"%s\",\"ns_per_op\":%" PRIu64 ",\"p50_us\":%" PRIu64
	       ",\"p99_us\":%" PRIu64 ",\"queries\":%zu,\"certificates\":%" PRIu64 "%s}\n",
	       name, p50 * 1000, p50, p99, n, certs, extra ? extra : "");
	fflush(stdout);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double cpu_s(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
	       u.ru_stime.tv_usec / 1e6;
}

static void *serve(void *arg)
{
	ctng_net_loop_run(arg, NULL);
	return NULL;
}

int ctng_bench_index(void)
{
	uint64_t n = env_u64("CTNG_BENCH_INDEX_N", 1000000);
	uint64_t queries = env_u64("CTNG_BENCH_INDEX_QUERIES", 2000);
	if (n == 0 || queries == 0)
		return 0;
	bench_tbs t;
	if (bench_tbs_make(&t)) {
		fprintf(stderr, "bench index: cannot make the certificate template\n");
		return 1;
	}
	/* the network: one CA (the template's), two loggers, one monitor */
	ctng_entity ent[4];
	memset(ent, 0, sizeof ent);
	snprintf(ent[0].id, sizeof ent[0].id, "ca1");
	ent[0].role = CTNG_ROLE_CA;
	ent[0].root_cert_pem = t.root_pem;
	ctng_sig_key_public_copy(t.ca_key, &ent[0].key, NULL);
	for (int i = 1; i <= 2; i++) {
		snprintf(ent[i].id, sizeof ent[i].id, "logger%d", i);
		ent[i].role = CTNG_ROLE_LOGGER;
		ctng_sig_key_public_copy(t.ca_key, &ent[i].key, NULL);
	}
	snprintf(ent[3].id, sizeof ent[3].id, "monitor1");
	ent[3].role = CTNG_ROLE_MONITOR;
	uint64_t now = ctng_now_ms();
	ctng_node_config cfg = {0};
	cfg.id = "monitor1";
	cfg.net.clock = (ctng_clock){now - 60000, 600000, 6000, 12000, 480000};
	cfg.net.entities = ent;
	cfg.net.n_entities = 4;
	cfg.self = &ent[3];
	char dir[] = "/tmp/ctng-bench-index-XXXXXX", path[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/monitor.db", dir);
	ctng_err e = {0};
	ctng_store *st = ctng_store_open(path, &e);
	ctng_index *ix = NULL;
	int rc = !st || ctng_index_open(st, &cfg.net, "monitor1", NULL, &ix, &e);
	uint8_t *buf = malloc(t.len);
	/* ingest */
	double c0 = cpu_s();
	uint64_t t0 = ctng_mono_ms(), entries = 0, idx[2] = {0, 0};
	for (uint64_t i = 0; !rc && i < n; i += RUN) {
		rc = ctng_store_begin(st, &e);
		for (uint64_t k = i; !rc && k < i + RUN && k < n; k++) {
			bench_tbs_fill(&t, k, buf);
			ctng_mirror_entry me = {.entry_type = CTNG_CT_PRECERT_ENTRY,
			                        .cert = buf,
			                        .cert_len = t.len,
			                        .issuer_key_hash = t.ikh};
			rc = ctng_index_entry_hook(ix, st, "logger1", idx[0]++, &me, &e);
			entries++;
			if (!rc && k % 4 == 0) {
				rc = ctng_index_entry_hook(ix, st, "logger2", idx[1]++, &me, &e);
				entries++;
			}
		}
		if (!rc)
			rc = ctng_store_commit(st, &e);
		if (!rc && (i / RUN) % 1024 == 1023)
			fprintf(stderr, "bench index: %" PRIu64 " certificates...\n", i + RUN);
	}
	uint64_t ms = ctng_mono_ms() - t0;
	double cpu = cpu_s() - c0;
	free(buf);
	ctng_index_stats s = {0};
	if (!rc)
		rc = ctng_index_stats_get(ix, &s, &e);
	if (!rc && (s.certificates != n || s.unparsed)) {
		fprintf(stderr, "bench index: %" PRIu64 " certificates indexed of %" PRIu64 "\n",
		        s.certificates, n);
		rc = 1;
	}
	if (!rc) {
		struct stat sb;
		char extra[200];
		snprintf(extra, sizeof extra,
		         ",\"entries\":%" PRIu64 ",\"certificates\":%" PRIu64
		         ",\"cpu_us_per_entry\":%.2f,\"db_bytes\":%lld",
		         entries, n, cpu * 1e6 / (double)entries,
		         stat(path, &sb) == 0 ? (long long)sb.st_size : -1LL);
		ctng_bench_line_rate("index.ingest", ms ? (double)entries * 1000.0 / (double)ms : 0,
		                     extra);
	}
	/* searches in process */
	uint64_t *us = calloc(queries, sizeof(*us)), seed = 0x9e3779b97f4a7c15ull;
	for (int kind = 0; !rc && kind < 2; kind++) {
		for (uint64_t q = 0; !rc && q < queries; q++) {
			char name[32];
			uint64_t i = rnd(&seed) % n;
			bench_tbs_name(i, name);
			ctng_index_query qq;
			rc = ctng_index_query_parse(kind ? strchr(name, '.') + 1 : name,
			                            kind ? "1" : NULL, NULL, NULL, &qq, &e);
			json_t *res = NULL;
			uint64_t next = 0, a = ctng_mono_ns();
			if (!rc)
				rc = ctng_index_search(ix, &qq, &res, &next, &e);
			us[q] = (ctng_mono_ns() - a) / 1000;
			size_t got = json_array_size(res);
			json_decref(res);
			if (!rc && (kind ? got == 0 : got != 1)) {
				fprintf(stderr, "bench index: %s found %zu\n", name, got);
				rc = 1;
			}
		}
		if (!rc)
			line(kind ? "index.search.sub" : "index.search.exact", us, queries, n,
			     kind ? ",\"page\":100" : NULL);
	}
	/* through the monitor's routes over loopback */
	ctng_net_loop *loop = NULL;
	ctng_net_server *srv = NULL;
	ctng_mirror_db *mdb = NULL;
	mon_crv *mc = NULL;
	mon_index *mi = NULL;
	uint16_t port = 0;
	pthread_t th;
	bool running = false;
	if (!rc && (!(loop = ctng_net_loop_new(&e)) || !(srv = ctng_net_server_new(loop, 0, &e)) ||
	            ctng_net_server_bind(srv, "127.0.0.1", 0, &port, &e) ||
	            ctng_mirror_db_open(st, &cfg.net, &mdb, &e) ||
	            mon_crv_open(&cfg.net, st, loop, srv, 1000, &mc, &e) ||
	            mon_index_open(&cfg, st, loop, srv, mdb, mc, NULL, NULL, &mi, &e)))
		rc = 1;
	if (!rc) {
		running = pthread_create(&th, NULL, serve, loop) == 0;
		uint64_t nq = queries / 2 ? queries / 2 : 1;
		for (uint64_t q = 0; !rc && q < nq; q++) {
			char name[32], url[128];
			bench_tbs_name(rnd(&seed) % n, name);
			snprintf(url, sizeof url, "http://127.0.0.1:%u/ctng/v1/search?domain=%s",
			         port, name);
			int status = 0;
			uint8_t *body = NULL;
			size_t len = 0;
			uint64_t a = ctng_mono_ns();
			rc = ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 10000, &status, &body,
			                         &len, &e);
			us[q] = (ctng_mono_ns() - a) / 1000;
			if (!rc && (status != 200 || !strstr((const char *)body, name)))
				rc = 1;
			free(body);
		}
		if (!rc)
			line("index.search.http", us, nq, n, ",\"connection\":\"per request\"");
	}
	if (rc)
		fprintf(stderr, "bench index: %s\n", e.msg[0] ? e.msg : "failed");
	if (running) {
		ctng_net_loop_stop(loop);
		pthread_join(th, NULL);
	}
	mon_index_stop(mi);
	mon_crv_stop(mc);
	ctng_net_server_free(srv);
	ctng_net_loop_free(loop);
	mon_index_free(mi);
	mon_crv_free(mc);
	ctng_mirror_db_close(mdb);
	free(us);
	ctng_index_close(ix);
	ctng_store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench index: cannot remove %s\n", dir);
	for (int i = 0; i < 3; i++)
		ctng_sig_key_free(ent[i].key);
	bench_tbs_free(&t);
	return rc;
}
