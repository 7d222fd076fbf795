/*
 * bench_logger.c — `ctng bench logger`: submission throughput of the logger
 * daemon over loopback HTTP. A real daemon (SQLite file in a temporary
 * folder, durable group commit, ECDSA SCTs, 2 workers) runs on its own
 * thread; the load generator runs on this thread, in the same process, with
 * `clients` requests in flight. Two load generators:
 *  - "keepalive": `clients` persistent HTTP/1.1 connections, one request at
 *    a time on each (what a CT client library or a load tester does);
 *  - "conn": ctng_net_request with keep-alive off, a new connection per
 *    request;
 * and over HTTPS (the daemon serving a test-PKI certificate), the ctng_net
 * client with its keep-alive pool ("keepalive", what the CA's client does)
 * and without ("conn", a TLS handshake per submission).
 * For add-chain (leaf certificates) and add-pre-chain (precertificates),
 * both issued directly by a generated root and sent with it, it prints
 *   {"name":"logger.add_chain.http[s]","per_second":…,"client":"keepalive",
 *    "server_cpu_us_per_op":…,"client_cpu_us_per_op":…,"rounds":R,…}
 * with the best round's rate and the least CPU per submission over R rounds
 * of N submissions (fresh certificates each round). Server CPU = the
 * process's CPU time minus the load generator thread's, divided by N.
 * Environment: CTNG_BENCH_LOGGER_N (10000), CTNG_BENCH_LOGGER_ROUNDS (3),
 * CTNG_BENCH_LOGGER_CLIENTS (64), CTNG_BENCH_LOGGER_ONLY (run only the cases
 * whose "name/client" contains it, e.g. "add_chain.http/keepalive").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/cert.h"
#include "ctng/logger.h"
#include "ctng/net.h"

#define MAX_CLIENTS 1024

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
	pthread_setname_np(pthread_self(), "bench-lg-loop"); /* perf report --comm */
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

/* ------------------------------------------------ load: ctng_net client */

static size_t run_conn(uint16_t port, const char *path, char **bodies, size_t n, int clients,
                       const char *tls_ca, bool keepalive)
{
	char url[128];
	snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", tls_ca ? "https" : "http", (unsigned)port,
	         path);
	ctng_bench_http h = {.url = url,
	                     .bodies = bodies,
	                     .n = n,
	                     .clients = clients,
	                     .tls_ca = tls_ca,
	                     .keepalive = keepalive};
	return ctng_bench_http_run(&h, NULL);
}

/* ---------------------------------------- load: keep-alive connections */

typedef struct ka_conn {
	int fd;
	char *req; /* the request being sent */
	size_t req_len, sent;
	char buf[4096];
	size_t got;
	bool busy;
} ka_conn;

static int ka_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A complete response in c->buf: 1 (status in *status, consumed), 0 need
 * more, -1 malformed. */
static int ka_response(ka_conn *c, int *status)
{
	c->buf[c->got < sizeof c->buf ? c->got : sizeof c->buf - 1] = 0;
	char *end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return c->got >= sizeof c->buf - 1 ? -1 : 0;
	if (strncmp(c->buf, "HTTP/1.1 ", 9))
		return -1;
	*status = atoi(c->buf + 9);
	size_t clen = 0;
	for (char *l = strstr(c->buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
		if (!strncasecmp(l + 2, "Content-Length:", 15))
			clen = (size_t)strtoul(l + 17, NULL, 10);
	size_t total = (size_t)(end + 4 - c->buf) + clen;
	if (total >= sizeof c->buf)
		return -1;
	if (c->got < total)
		return 0;
	memmove(c->buf, c->buf + total, c->got - total);
	c->got -= total;
	return 1;
}

static size_t run_keepalive(uint16_t port, const char *path, char **bodies, size_t n, int clients)
{
	ka_conn *cs = calloc((size_t)clients, sizeof(*cs));
	struct pollfd *pf = calloc((size_t)clients, sizeof(*pf));
	size_t next = 0, done = 0, ok = 0;
	int failed = 0;
	if (!cs || !pf)
		goto out;
	for (int i = 0; i < clients; i++)
		if ((cs[i].fd = ka_connect(port)) < 0) {
			fprintf(stderr, "bench logger: cannot connect: %s\n", strerror(errno));
			for (int k = 0; k < i; k++)
				close(cs[k].fd);
			goto out;
		}
	while (done < n) {
		for (int i = 0; i < clients; i++) {
			ka_conn *c = &cs[i];
			if (!c->busy && next < n) {
				const char *b = bodies[next++];
				free(c->req);
				size_t bl = strlen(b);
				c->req = malloc(bl + 200);
				if (!c->req) {
					failed++;
					done++;
					continue;
				}
				c->req_len = (size_t)snprintf(
				    c->req, 200,
				    "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
				    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
				    path, (unsigned)port, bl);
				memcpy(c->req + c->req_len, b, bl);
				c->req_len += bl;
				c->sent = 0;
				c->busy = true;
			}
			pf[i].fd = c->busy ? c->fd : -1;
			pf[i].events = c->busy ? (c->sent < c->req_len ? POLLOUT : POLLIN) : 0;
			pf[i].revents = 0;
		}
		if (poll(pf, (nfds_t)clients, 30000) <= 0) {
			fprintf(stderr, "bench logger: the logger stopped answering\n");
			break;
		}
		for (int i = 0; i < clients; i++) {
			ka_conn *c = &cs[i];
			if (!pf[i].revents)
				continue;
			ssize_t r;
			if (c->sent < c->req_len) {
				r = send(c->fd, c->req + c->sent, c->req_len - c->sent,
				         MSG_NOSIGNAL);
				if (r > 0)
					c->sent += (size_t)r;
			} else {
				r = recv(c->fd, c->buf + c->got, sizeof c->buf - 1 - c->got, 0);
				if (r > 0)
					c->got += (size_t)r;
			}
			int status = 0,
			    k = r > 0 ? (c->sent < c->req_len ? 0 : ka_response(c, &status)) : -1;
			if (k == 0)
				continue;
			done++;
			c->busy = false;
			if (k == 1 && status == 200) {
				ok++;
				continue;
			}
			if (!failed++)
				fprintf(stderr, "bench logger: submission failed: status %d\n",
				        status);
			close(c->fd); /* start over on a new connection */
			c->got = 0;
			if ((c->fd = ka_connect(port)) < 0)
				goto close_all;
		}
	}
close_all:
	for (int i = 0; i < clients; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
out:
	for (int i = 0; cs && i < clients; i++)
		free(cs[i].req);
	free(cs);
	free(pf);
	return ok;
}

/* ------------------------------------------------------------ workload */

static char *body_for(X509 *leaf, X509 *root)
{
	uint8_t *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	char *out = NULL;
	if (!ctng_cert_to_der(leaf, &d1, &l1, NULL) && !ctng_cert_to_der(root, &d2, &l2, NULL)) {
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

/* The precertificate without its poison, re-signed: a leaf certificate. */
static X509 *unpoison(const X509 *pre, const ctng_sig_key *ca_key)
{
	X509 *x = X509_dup(pre);
	ASN1_OBJECT *poison = OBJ_txt2obj(CTNG_CT_POISON_OID, 1);
	int loc = x && poison ? X509_get_ext_by_OBJ(x, poison, -1) : -1;
	ASN1_OBJECT_free(poison);
	if (loc < 0) {
		X509_free(x);
		return NULL;
	}
	X509_EXTENSION_free(X509_delete_ext(x, loc));
	if (!X509_sign(x, (EVP_PKEY *)ctng_sig_key_evp(ca_key), EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

typedef struct workload {
	X509 *root;
	ctng_sig_key *ca_key, *subj;
	uint64_t now;
	uint64_t serial; /* next serial, across rounds */
} workload;

/* n request bodies of fresh (pre)certificates. */
static char **make_bodies(workload *w, size_t n, bool precert)
{
	char **bodies = calloc(n, sizeof(char *));
	for (size_t i = 0; bodies && i < n; i++) {
		char name[64];
		uint64_t s = w->serial++;
		snprintf(name, sizeof name, "h%llu.bench.example", (unsigned long long)s);
		ctng_cert_template t = {.dns_name = name,
		                        .subject_key = ctng_sig_key_evp(w->subj),
		                        .serial_len = 8,
		                        .not_before_ms = w->now - 3600000,
		                        .not_after_ms = w->now + 86400000};
		t.serial[0] = 0x10;
		for (int k = 1; k < 8; k++)
			t.serial[k] = (uint8_t)(s >> (8 * (7 - k)));
		X509 *pre = NULL, *leaf = NULL;
		if (!ctng_cert_make_precert(&t, w->root, w->ca_key, &pre, NULL)) {
			leaf = precert ? pre : unpoison(pre, w->ca_key);
			if (leaf)
				bodies[i] = body_for(leaf, w->root);
		}
		if (leaf != pre)
			X509_free(leaf);
		X509_free(pre);
		if (!bodies[i]) {
			for (size_t k = 0; k < i; k++)
				free(bodies[k]);
			free(bodies);
			return NULL;
		}
	}
	return bodies;
}

/* The sum of the samples of a metric (a histogram's NAME_sum line, with any
 * labels) in the daemon's /metrics text; -1 if absent. */
static double metric_value(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, name, n) || (l[n] != ' ' && l[n] != '{'))
			continue;
		const char *v = strchr(l, ' ');
		return v ? strtod(v + 1, NULL) : -1;
	}
	return -1;
}

typedef struct commit_stats {
	double batches, entries, secs, fsyncs, fsync_secs;
} commit_stats;

/* Group commits so far, from the daemon's own metrics (docs/metrics.md). */
static void commit_stats_get(uint16_t port, const char *tls_ca, commit_stats *c)
{
	char url[128];
	snprintf(url, sizeof url, "%s://127.0.0.1:%u/metrics", tls_ca ? "https" : "http",
	         (unsigned)port);
	int status = 0;
	uint8_t *b = NULL;
	size_t len = 0;
	*c = (commit_stats){0};
	/* the sync fetch trusts the default bundle: the bench's CA for https */
	if (tls_ca && ctng_net_set_default_tls_ca(tls_ca, NULL))
		return;
	int rc = ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 10000, &status, &b, &len, NULL);
	if (tls_ca)
		ctng_net_set_default_tls_ca(NULL, NULL);
	if (rc || status != 200) {
		free(b);
		return;
	}
	char *t = malloc(len + 1);
	if (t) {
		memcpy(t, b, len);
		t[len] = 0;
		c->batches = metric_value(t, "ctng_logger_group_commit_entries_count");
		c->entries = metric_value(t, "ctng_logger_group_commit_entries_sum");
		c->secs = metric_value(t, "ctng_logger_group_commit_duration_seconds_sum");
		c->fsyncs = metric_value(t, "ctng_db_commit_duration_seconds_count");
		c->fsync_secs = metric_value(t, "ctng_db_commit_duration_seconds_sum");
	}
	free(t);
	free(b);
}

static double cpu_us(const struct rusage *a, const struct rusage *b)
{
	return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec + b->ru_stime.tv_sec -
	                a->ru_stime.tv_sec) *
	           1e6 +
	       (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec + b->ru_stime.tv_usec -
	                a->ru_stime.tv_usec);
}

static uint64_t env_u64(const char *name, uint64_t def, uint64_t max)
{
	const char *v = getenv(name);
	uint64_t x = def;
	if (v && (ctng_parse_u64(v, max, &x, NULL) || x == 0)) {
		fprintf(stderr, "bench logger: bad %s, using %llu\n", name,
		        (unsigned long long)def);
		x = def;
	}
	return x;
}

/* R rounds of one endpoint and one load generator against a fresh daemon.
 * tls: the daemon serves HTTPS and the ctng_net client (keep-alive pool
 * or not) submits; else keepalive picks the raw generator or ctng_net
 * without keep-alive. */
static int bench_one(workload *w, const char *root_pem, bool precert, bool keepalive, bool tls)
{
	size_t n = (size_t)env_u64("CTNG_BENCH_LOGGER_N", 10000, 10000000);
	unsigned rounds = (unsigned)env_u64("CTNG_BENCH_LOGGER_ROUNDS", 3, 1000);
	int clients = (int)env_u64("CTNG_BENCH_LOGGER_CLIENTS", 64, MAX_CLIENTS);
	const char *path = precert ? "/ct/v1/add-pre-chain" : "/ct/v1/add-chain";
	int rc = 1;
	char dir[] = "/tmp/ctng_bench_logger_XXXXXX", db[64];
	ctng_sig_key *log_key = NULL;
	srv_ctx s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	pthread_t th;
	bool started = false;
	if (!mkdtemp(dir))
		return 1;
	snprintf(db, sizeof db, "%s/logger.db", dir);
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &log_key, NULL))
		goto out;
	char ca_path[128], cert_path[128], key_path[128];
	snprintf(ca_path, sizeof ca_path, "%s/ca.pem", dir);
	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
	ctng_net_server_opts so = {0};
	if (tls) {
		if (ctng_bench_tls_files(dir, "logger1"))
			goto out;
		so.tls_cert_file = cert_path;
		so.tls_key_file = key_path;
	}
	const char *roots[1] = {root_pem};
	s.opts = (ctng_logger_daemon_opts){
	    .db_path = db,
	    .host = "127.0.0.1",
	    .port = 0,
	    .params = {.id = "logger1",
	               .key = log_key,
	               .clock = {.genesis_ms = w->now - 1000, .period_ms = 3600000},
	               .root_pems = roots,
	               .n_roots = 1},
	    .workers = 2,
	    .server = &so,
	};
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
	uint16_t port = ctng_logger_daemon_port(s.d);
	double best_rate = 0, best_srv = 1e30, best_cli = 1e30;
	commit_stats c0, c1;
	commit_stats_get(port, tls ? ca_path : NULL, &c0);
	for (unsigned r = 0; r < rounds; r++) {
		char **bodies = make_bodies(w, n, precert);
		if (!bodies)
			goto out;
		struct rusage ru0, ru1, rc0, rc1;
		getrusage(RUSAGE_SELF, &ru0);
		getrusage(RUSAGE_THREAD, &rc0); /* this thread is the load generator */
		uint64_t t0 = ctng_mono_ns();
		size_t ok = tls ? run_conn(port, path, bodies, n, clients, ca_path, keepalive)
		            : keepalive ? run_keepalive(port, path, bodies, n, clients)
		                        : run_conn(port, path, bodies, n, clients, NULL, false);
		uint64_t dt = ctng_mono_ns() - t0;
		getrusage(RUSAGE_SELF, &ru1);
		getrusage(RUSAGE_THREAD, &rc1);
		for (size_t i = 0; i < n; i++)
			free(bodies[i]);
		free(bodies);
		if (ok != n) {
			fprintf(stderr, "bench logger: %zu of %zu submissions failed\n", n - ok, n);
			goto out;
		}
		double cli = cpu_us(&rc0, &rc1), all = cpu_us(&ru0, &ru1);
		double rate = (double)n * 1e9 / (double)dt;
		if (rate > best_rate)
			best_rate = rate;
		if ((all - cli) / (double)n < best_srv)
			best_srv = (all - cli) / (double)n;
		if (cli / (double)n < best_cli)
			best_cli = cli / (double)n;
	}
	commit_stats_get(port, tls ? ca_path : NULL, &c1);
	double batches = c1.batches - c0.batches, fsyncs = c1.fsyncs - c0.fsyncs;
	char extra[400];
	snprintf(extra, sizeof extra,
	         ",\"client\":\"%s\",\"clients\":%d,\"n\":%zu,\"rounds\":%u,\"durable\":true,"
	         "\"workers\":2,\"server_cpu_us_per_op\":%.1f,\"client_cpu_us_per_op\":%.1f,"
	         "\"batch_avg\":%.1f,\"group_commit_ms_avg\":%.2f,\"db_commit_ms_avg\":%.2f",
	         keepalive ? "keepalive" : "conn", clients, n, rounds, best_srv, best_cli,
	         batches > 0 ? (c1.entries - c0.entries) / batches : 0,
	         batches > 0 ? 1e3 * (c1.secs - c0.secs) / batches : 0,
	         fsyncs > 0 ? 1e3 * (c1.fsync_secs - c0.fsync_secs) / fsyncs : 0);
	char name[64];
	snprintf(name, sizeof name, "logger.%s.%s", precert ? "add_pre_chain" : "add_chain",
	         tls ? "https" : "http");
	ctng_bench_line_rate(name, best_rate, extra);
	rc = 0;
out:
	if (started) {
		if (s.state > 0)
			ctng_logger_daemon_stop(s.d);
		pthread_join(th, NULL);
	}
	ctng_sig_key_free(log_key);
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "bench logger: cannot remove %s\n", dir);
	return rc;
}

int ctng_bench_logger(void)
{
	int rc = 1;
	workload w = {.now = ctng_now_ms(), .serial = 1};
	char *root_pem = NULL;
	ctng_log_level lvl = ctng_log_get_level();
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &w.ca_key, NULL) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &w.subj, NULL) ||
	    ctng_cert_make_root("Bench Root", w.ca_key, w.now - 3600000, w.now + 86400000, &w.root,
	                        NULL) ||
	    ctng_cert_to_pem(w.root, &root_pem, NULL, NULL))
		goto out;
	ctng_log_set_level(CTNG_LOG_WARN); /* before any server thread starts */
	rc = 0;
	const char *only = getenv("CTNG_BENCH_LOGGER_ONLY");
	for (int precert = 0; precert < 2; precert++)
		for (int tls = 0; tls < 2; tls++)
			for (int ka = 1; ka >= 0; ka--) {
				char id[64];
				snprintf(id, sizeof id, "logger.%s.%s/%s",
				         precert ? "add_pre_chain" : "add_chain",
				         tls ? "https" : "http", ka ? "keepalive" : "conn");
				if ((!only || strstr(id, only)) &&
				    bench_one(&w, root_pem, precert, ka, tls))
					rc = 1;
			}
	ctng_log_set_level(lvl);
out:
	X509_free(w.root);
	free(root_pem);
	ctng_sig_key_free(w.ca_key);
	ctng_sig_key_free(w.subj);
	return rc;
}
