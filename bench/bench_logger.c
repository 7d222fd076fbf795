/*
 * bench_logger.c — add-chain throughput of the logger daemon over loopback
 * HTTP: a real daemon (SQLite file in a temporary folder, durable group
 * commit, ECDSA SCTs) on its own thread, and one client loop keeping
 * `clients` add-pre-chain requests in flight with precertificates issued by
 * a generated root. Prints {"name":"logger.add_chain.http","per_second":…}.
 * Called from the merkle group of `ctng bench`.
 */
#include <jansson.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/cert.h"
#include "ctng/logger.h"
#include "ctng/net.h"


#define BENCH_N       10000
#define BENCH_CLIENTS 64

typedef struct srv_ctx {
	ctng_logger_daemon_opts opts;
	ctng_logger_daemon *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state; /* 0 starting, 1 running, -1 failed */
	ctng_err err;
} srv_ctx;

static void *srv_main(void *arg)
{
	srv_ctx *s = arg;
	int rc = ctng_logger_daemon_new(&s->opts, &s->d, &s->err);
	pthread_mutex_lock(&s->mu);
	s->state = rc ? -1 : 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (rc)
		return NULL;
	ctng_logger_daemon_run(s->d, NULL);
	ctng_logger_daemon_free(s->d);
	return NULL;
}

typedef struct cli_ctx {
	ctng_net_loop *loop;
	char url[128];
	char **bodies;
	size_t n, next, done, ok;
	int failed;
} cli_ctx;

static void send_next(cli_ctx *c);

static void on_resp(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	(void)body;
	(void)len;
	cli_ctx *c = arg;
	if (!err && status == 200)
		c->ok++;
	else if (!c->failed++)
		fprintf(stderr, "bench logger: add-pre-chain failed: %d %s\n", status,
		        err ? err->msg : (const char *)body);
	c->done++;
	if (c->done == c->n)
		ctng_net_loop_stop(c->loop);
	else
		send_next(c);
}

static void send_next(cli_ctx *c)
{
	if (c->next >= c->n)
		return;
	const char *b = c->bodies[c->next++];
	ctng_net_client_opts o = {.timeout_ms = 30000, .content_type = "application/json"};
	if (ctng_net_request(c->loop, "POST", c->url, b, strlen(b), &o, on_resp, c, NULL)) {
		c->failed++;
		if (++c->done == c->n)
			ctng_net_loop_stop(c->loop);
	}
}

static char *body_for(X509 *pre, X509 *root)
{
	uint8_t *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	char *out = NULL;
	if (!ctng_cert_to_der(pre, &d1, &l1, NULL) && !ctng_cert_to_der(root, &d2, &l2, NULL)) {
		char *b1 = ctng_b64_strdup(d1, l1), *b2 = ctng_b64_strdup(d2, l2);
		json_t *j = json_pack("{s:[s,s]}", "chain", b1, b2);
		out = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		free(b1);
		free(b2);
	}
	free(d1);
	free(d2);
	return out;
}

int ctng_bench_logger_http(void)
{
	int rc = 1;
	char dir[] = "/tmp/ctng_bench_logger_XXXXXX", db[64];
	ctng_sig_key *log_key = NULL, *ca_key = NULL, *subj = NULL;
	X509 *root = NULL;
	char *root_pem = NULL;
	cli_ctx c = {0};
	srv_ctx s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	pthread_t th;
	bool started = false;
	ctng_log_level lvl = ctng_log_get_level();
	uint64_t now = ctng_now_ms();
	if (!mkdtemp(dir))
		return 1;
	snprintf(db, sizeof db, "%s/logger.db", dir);
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &log_key, NULL) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &ca_key, NULL) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, NULL) ||
	    ctng_cert_make_root("Bench Root", ca_key, now - 3600000, now + 86400000, &root, NULL) ||
	    ctng_cert_to_pem(root, &root_pem, NULL, NULL))
		goto out;
	/* Precertificates, prepared before timing. */
	c.n = BENCH_N;
	c.bodies = calloc(c.n, sizeof(char *));
	if (!c.bodies)
		goto out;
	for (size_t i = 0; i < c.n; i++) {
		char name[64];
		snprintf(name, sizeof name, "h%zu.bench.example", i);
		ctng_cert_template t = {.dns_name = name,
		                        .subject_key = ctng_sig_key_evp(subj),
		                        .serial_len = 8,
		                        .not_before_ms = now - 3600000,
		                        .not_after_ms = now + 86400000};
		t.serial[0] = 0x10;
		for (int k = 1; k < 8; k++)
			t.serial[k] = (uint8_t)(i >> (8 * (7 - k)));
		X509 *pre = NULL;
		if (ctng_cert_make_precert(&t, root, ca_key, &pre, NULL))
			goto out;
		c.bodies[i] = body_for(pre, root);
		X509_free(pre);
		if (!c.bodies[i])
			goto out;
	}
	const char *roots[1] = {root_pem};
	s.opts = (ctng_logger_daemon_opts){
	    .db_path = db,
	    .host = "127.0.0.1",
	    .port = 0,
	    .params = {.id = "logger1",
	               .key = log_key,
	               .clock = {.genesis_ms = now - 1000, .period_ms = 3600000},
	               .root_pems = roots,
	               .n_roots = 1},
	    .workers = 2,
	};
	lvl = ctng_log_get_level();
	ctng_log_set_level(CTNG_LOG_WARN); /* before the server thread starts */
	if (pthread_create(&th, NULL, srv_main, &s))
		goto out;
	started = true;
	pthread_mutex_lock(&s.mu);
	while (s.state == 0)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	if (s.state < 0) {
		fprintf(stderr, "bench logger: %s\n", s.err.msg);
		goto out;
	}
	snprintf(c.url, sizeof c.url, "http://127.0.0.1:%u/ct/v1/add-pre-chain",
	         (unsigned)ctng_logger_daemon_port(s.d));
	if (!(c.loop = ctng_net_loop_new(NULL)))
		goto out;
	struct rusage ru0, ru1, rc0, rc1;
	getrusage(RUSAGE_SELF, &ru0);
	getrusage(RUSAGE_THREAD, &rc0); /* this thread is the client */
	uint64_t t0 = ctng_mono_ns();
	for (int i = 0; i < BENCH_CLIENTS; i++)
		send_next(&c);
	ctng_net_loop_run(c.loop, NULL);
	uint64_t dt = ctng_mono_ns() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	getrusage(RUSAGE_THREAD, &rc1);
	double cli_us = (double)(rc1.ru_utime.tv_sec - rc0.ru_utime.tv_sec + rc1.ru_stime.tv_sec -
	                         rc0.ru_stime.tv_sec) *
	                    1e6 +
	                (double)(rc1.ru_utime.tv_usec - rc0.ru_utime.tv_usec +
	                         rc1.ru_stime.tv_usec - rc0.ru_stime.tv_usec);
	double cpu_us = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
	                         ru0.ru_stime.tv_sec) *
	                    1e6 +
	                (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
	                         ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	if (c.ok != c.n) {
		fprintf(stderr, "bench logger: %zu of %zu submissions failed\n", c.n - c.ok, c.n);
		goto out;
	}
	/* CPU time per submission of the server side (loop and workers) and of
	 * the client: load-independent cost figures. */
	char extra[200];
	snprintf(extra, sizeof extra,
	         ",\"clients\":%d,\"n\":%d,\"durable\":true,\"workers\":2,"
	         "\"server_cpu_us_per_op\":%.1f,\"client_cpu_us_per_op\":%.1f",
	         BENCH_CLIENTS, BENCH_N, (cpu_us - cli_us) / (double)c.n, cli_us / (double)c.n);
	ctng_bench_line_rate("logger.add_chain.http", (double)c.n * 1e9 / (double)dt, extra);
	rc = 0;
out:
	if (started) {
		if (s.state > 0)
			ctng_logger_daemon_stop(s.d);
		pthread_join(th, NULL);
	}
	ctng_log_set_level(lvl);
	if (c.loop)
		ctng_net_loop_free(c.loop);
	for (size_t i = 0; c.bodies && i < c.n; i++)
		free(c.bodies[i]);
	free(c.bodies);
	X509_free(root);
	free(root_pem);
	ctng_sig_key_free(log_key);
	ctng_sig_key_free(ca_key);
	ctng_sig_key_free(subj);
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "bench logger: cannot remove %s\n", dir);
	return rc;
}
