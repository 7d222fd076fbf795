/*
 * bench.h — `ctng bench NAME`: each group lives in bench/bench_<group>.c and
 * prints one JSON object per line on stdout (DESIGN §10): at least "name"
 * (dotted, e.g. "bls.pairing") and "ns_per_op" or "per_second", plus the
 * parameters it ran with.
 */
#ifndef CTNG_BENCH_H
#define CTNG_BENCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns 0 on success, non-zero on failure (message on stderr). */
int ctng_bench_bls(void);
int ctng_bench_merkle(void);
int ctng_bench_ca(void);
int ctng_bench_client(void);
int ctng_bench_network(void);
/* add-chain / add-pre-chain throughput through a real logger daemon over
 * loopback HTTP (bench/bench_logger.c). */
int ctng_bench_logger(void);
/* DKG cost in process (n = 4, 16, 64) and over loopback (bench/bench_dkg.c). */
int ctng_bench_dkg(void);
/* Mirror ingest of one monitor over loopback HTTP (bench/bench_mirror.c). */
int ctng_bench_mirror(void);
/* the transport: TLS handshakes per second, requests with keep-alive on and
 * off over http and https (bench/bench_net.c). */
int ctng_bench_net(void);

/* The ctng_net load generator (bench_http.c): n requests to url — POST
 * bodies[i] as JSON, or GET when bodies is NULL — with `clients` in flight
 * on a private loop. Returns the number answered 200; wire (if not NULL)
 * gets the bytes on the wire the process's connections added meanwhile
 * (ctng_net_wire_bytes: in, out). */
typedef struct ctng_bench_http {
	const char *url;
	char **bodies;
	size_t n;
	int clients;
	const char *tls_ca; /* https: the CA bundle */
	bool keepalive;
	bool no_resumption; /* https: every handshake a full one */
} ctng_bench_http;
size_t ctng_bench_http_run(const ctng_bench_http *h, uint64_t wire[2]);
/* Writes dir/ca.pem, dir/cert.pem (a certificate named cn for 127.0.0.1,
 * then the CA) and dir/key.pem from the test PKI. Returns 0 or non-zero. */
int ctng_bench_tls_files(const char *dir, const char *cn);

/* The certificate index at scale: ingest, search in process and over HTTP
 * (bench/bench_index.c). */
int ctng_bench_index(void);

/* Real precert-entry TBSs for benchmarks (bench_index.c): a template made
 * by the cert module, varied in place per i (serial, SAN dNSName and CN
 * "h<i % 10^7>.d<i % 1000>.bench.example", RID 2^31 + i), all of one CA. */
struct ctng_sig_key;
typedef struct bench_tbs {
	uint8_t *tbs; /* the template */
	size_t len;
	size_t name_off[2], serial_off, rid_off;
	uint8_t ikh[32];       /* the CA's issuer key hash */
	char *root_pem;        /* the CA's root */
	struct ctng_sig_key *ca_key;
} bench_tbs;
int bench_tbs_make(bench_tbs *t);
void bench_tbs_fill(const bench_tbs *t, uint64_t i, uint8_t *out); /* len bytes */
void bench_tbs_name(uint64_t i, char out[32]);
void bench_tbs_free(bench_tbs *t);

/* Prints {"name":NAME,"ns_per_op":X,"ops":N<extra>} where extra is either
 * empty or starts with ',' and continues the JSON object ("\"n\":3"). */
void ctng_bench_line_ns(const char *name, double ns_per_op, uint64_t ops, const char *extra);
/* Prints {"name":NAME,"per_second":X<extra>}. */
void ctng_bench_line_rate(const char *name, double per_second, const char *extra);
/* Runs fn(arg) repeatedly for about target_ms (at least min_ops times) and
 * returns nanoseconds per call; *ops_out receives the count. */
double ctng_bench_time(void (*fn)(void *), void *arg, uint64_t target_ms, uint64_t min_ops,
                       uint64_t *ops_out);
#endif
