/*
 * bench_net.c — `ctng bench net`: the transport every daemon uses
 * (src/net), on loopback. A ctng_net server (what a gossiper serves:
 * TLS 1.3, an ECDSA P-256 certificate from the test PKI) runs on its own
 * thread; the load generator, the ctng_net client, on this one with
 * `clients` requests in flight.
 *   net.tls.handshakes   full handshakes per second: https with keep-alive
 *                        and session resumption off, so every request is a
 *                        new connection and a full handshake; also the
 *                        server's CPU per handshake and the rate one server
 *                        core sustains (1e6 / that)
 *   net.tls.resumed      the same with resumption on (TLS 1.3 tickets: no
 *                        certificate signed or verified)
 *   net.request          GET requests per second and CPU per request, for
 *                        http and https, keep-alive on and off: the cost of
 *                        keep-alive off is the difference
 * Best round of R (rate) and least CPU; server CPU = process CPU minus the
 * load generator thread's. Environment: CTNG_BENCH_NET_N (3000),
 * CTNG_BENCH_NET_ROUNDS (3), CTNG_BENCH_NET_CLIENTS (16).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/net.h"

typedef struct srv_ctx {
	ctng_net_loop *loop;
	ctng_net_server *srv;
	uint16_t port;
	pthread_t th;
} srv_ctx;

static void h_ping(ctng_net_req *req, void *arg)
{
	(void)arg;
	static const char body[] = "{\"status\":\"ok\"}";
	ctng_net_reply_bytes(req, 200, "application/json", body, sizeof body - 1, NULL);
}

static void *srv_main(void *arg)
{
	srv_ctx *s = arg;
	ctng_net_loop_run(s->loop, NULL);
	return NULL;
}

static int srv_start(srv_ctx *s, const char *cert, const char *key)
{
	ctng_err e = {0};
	ctng_net_server_opts o = {
	    .tls_cert_file = cert, .tls_key_file = key, .max_connections = 4096};
	if (!(s->loop = ctng_net_loop_new(&e)) ||
	    !(s->srv = ctng_net_server_new_opts(s->loop, &o, &e)) ||
	    ctng_net_server_bind(s->srv, "127.0.0.1", 0, &s->port, &e) ||
	    ctng_net_server_route(s->srv, "GET", "/ping", h_ping, NULL, &e) ||
	    pthread_create(&s->th, NULL, srv_main, s)) {
		fprintf(stderr, "bench net: server: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static void srv_stop(srv_ctx *s)
{
	ctng_net_loop_stop(s->loop);
	pthread_join(s->th, NULL);
	ctng_net_server_free(s->srv);
	ctng_net_loop_free(s->loop);
}

static double cpu_us(const struct rusage *a, const struct rusage *b)
{
	return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) * 1e6 +
	       (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec) +
	       (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec) * 1e6 +
	       (double)(b->ru_stime.tv_usec - a->ru_stime.tv_usec);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	uint64_t x;
	return v && ctng_parse_u64(v, 100000000, &x, NULL) == 0 && x ? x : def;
}

/* R rounds of n GETs; prints one line. */
static int bench_case(const char *name, uint16_t port, bool tls, bool keepalive, bool resume,
                      const char *ca)
{
	size_t n = env_u64("CTNG_BENCH_NET_N", 3000);
	unsigned rounds = (unsigned)env_u64("CTNG_BENCH_NET_ROUNDS", 3);
	int clients = (int)env_u64("CTNG_BENCH_NET_CLIENTS", 16);
	double best = 0, best_srv = 1e30, best_cli = 1e30;
	uint64_t wire_per_req = 0;
	for (unsigned r = 0; r < rounds; r++) {
		char url[128];
		snprintf(url, sizeof url, "%s://127.0.0.1:%u/ping", tls ? "https" : "http", port);
		ctng_bench_http h = {
		    .url = url, .n = n, .clients = clients, .tls_ca = ca, .keepalive = keepalive,
		    .no_resumption = !resume};
		uint64_t w0[2], w1[2];
		ctng_net_wire_bytes(NULL, &w0[0], &w0[1]);
		struct rusage ru0, ru1, rc0, rc1;
		getrusage(RUSAGE_SELF, &ru0);
		getrusage(RUSAGE_THREAD, &rc0);
		uint64_t t0 = ctng_mono_ns();
		size_t ok = ctng_bench_http_run(&h, NULL);
		uint64_t dt = ctng_mono_ns() - t0;
		getrusage(RUSAGE_SELF, &ru1);
		getrusage(RUSAGE_THREAD, &rc1);
		usleep(200000); /* the server closes its ends: their bytes join the count */
		ctng_net_wire_bytes(NULL, &w1[0], &w1[1]);
		if (ok != n) {
			fprintf(stderr, "bench net: %s: %zu of %zu requests failed\n", name, n - ok,
			        n);
			return 1;
		}
		/* both ends are in this process: what both sent is what crossed
		 * the wire in both directions */
		wire_per_req = (w1[1] - w0[1]) / n;
		double cli = cpu_us(&rc0, &rc1) / (double)n, all = cpu_us(&ru0, &ru1) / (double)n;
		double rate = (double)n * 1e9 / (double)dt;
		best = rate > best ? rate : best;
		best_cli = cli < best_cli ? cli : best_cli;
		best_srv = all - cli < best_srv ? all - cli : best_srv;
	}
	char extra[400];
	snprintf(extra, sizeof extra,
	         ",\"scheme\":\"%s\",\"keepalive\":%s,\"resumption\":%s,\"clients\":%d,\"n\":%zu,\"rounds\":%u,"
	         "\"server_cpu_us_per_op\":%.1f,\"client_cpu_us_per_op\":%.1f,"
	         "\"server_core_per_second\":%.0f,\"wire_bytes_per_op\":%llu",
	         tls ? "https" : "http", keepalive ? "true" : "false",
	         tls && resume ? "true" : "false", clients, n, rounds, best_srv,
	         best_cli, best_srv > 0 ? 1e6 / best_srv : 0, (unsigned long long)wire_per_req);
	ctng_bench_line_rate(name, best, extra);
	return 0;
}

int ctng_bench_net(void)
{
	char dir[] = "/tmp/ctng_bench_net_XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char ca_path[64], cert_path[64], key_path[64];
	snprintf(ca_path, sizeof ca_path, "%s/ca.pem", dir);
	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
	int rc = 1;
	if (ctng_bench_tls_files(dir, "gossiper1"))
		goto out;
	ctng_log_level lvl = ctng_log_get_level();
	ctng_log_set_level(CTNG_LOG_WARN);
	srv_ctx plain = {0}, tls = {0};
	if (srv_start(&plain, NULL, NULL) || srv_start(&tls, cert_path, key_path))
		goto out;
	rc = bench_case("net.tls.handshakes", tls.port, true, false, false, ca_path);
	rc |= bench_case("net.tls.resumed", tls.port, true, false, true, ca_path);
	rc |= bench_case("net.request", plain.port, false, true, false, NULL);
	rc |= bench_case("net.request", plain.port, false, false, false, NULL);
	rc |= bench_case("net.request", tls.port, true, true, true, ca_path);
	rc |= bench_case("net.request", tls.port, true, false, false, ca_path);
	srv_stop(&plain);
	srv_stop(&tls);
	ctng_log_set_level(lvl);
out:
	unlink(ca_path);
	unlink(cert_path);
	unlink(key_path);
	rmdir(dir);
	return rc;
}
