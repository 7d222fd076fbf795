/*
 * bench_http.c — the ctng_net load generator the benchmarks share
 * (bench_logger.c, bench_net.c): n requests to one URL on a private loop
 * with `clients` in flight, each answer starting the next; and the test-PKI
 * files of a server the benchmarks run over HTTPS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ctng/net.h"

typedef struct load {
	ctng_net_loop *loop;
	const ctng_bench_http *h;
	size_t next, done, ok;
	int failed;
} load;

static void send_next(load *l);

static void on_resp(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	(void)len;
	load *l = arg;
	if (!err && status == 200)
		l->ok++;
	else if (!l->failed++)
		fprintf(stderr, "bench: request to %s failed: %d %s\n", l->h->url, status,
		        err ? err->msg : (const char *)body);
	if (++l->done == l->h->n)
		ctng_net_loop_stop(l->loop);
	else
		send_next(l);
}

static void send_next(load *l)
{
	const ctng_bench_http *h = l->h;
	if (l->next >= h->n)
		return;
	const char *b = h->bodies ? h->bodies[l->next] : NULL;
	l->next++;
	ctng_net_client_opts o = {.timeout_ms = 30000,
	                          .content_type = b ? "application/json" : NULL};
	if (ctng_net_request(l->loop, b ? "POST" : "GET", h->url, b, b ? strlen(b) : 0, &o, on_resp,
	                     l, NULL)) {
		l->failed++;
		if (++l->done == h->n)
			ctng_net_loop_stop(l->loop);
	}
}

size_t ctng_bench_http_run(const ctng_bench_http *h, uint64_t wire[2])
{
	load l = {.h = h};
	ctng_err e = {0};
	if (!(l.loop = ctng_net_loop_new(&e)) ||
	    (h->tls_ca && ctng_net_loop_set_tls_ca(l.loop, h->tls_ca, &e))) {
		fprintf(stderr, "bench: %s\n", e.msg);
		ctng_net_loop_free(l.loop);
		return 0;
	}
	ctng_net_loop_set_keepalive(l.loop, h->keepalive);
	ctng_net_loop_set_tls_resumption(l.loop, !h->no_resumption);
	uint64_t w0[2] = {0, 0};
	if (wire)
		ctng_net_wire_bytes(l.loop, &w0[0], &w0[1]);
	for (int i = 0; i < h->clients; i++)
		send_next(&l);
	ctng_net_loop_run(l.loop, NULL);
	ctng_net_loop_free(l.loop); /* closes the pool: its bytes are counted */
	if (wire) {
		ctng_net_wire_bytes(NULL, &wire[0], &wire[1]);
		wire[0] -= w0[0];
		wire[1] -= w0[1];
	}
	return l.ok;
}

/* A test-PKI certificate for 127.0.0.1 in dir: ca.pem, cert.pem, key.pem. */
int ctng_bench_tls_files(const char *dir, const char *cn)
{
	int64_t now = (int64_t)time(NULL);
	char *ca = NULL, *cak = NULL, *cert = NULL, *key = NULL, path[128];
	const char *names[] = {"127.0.0.1"};
	ctng_net_tls_cert_opts co = {.cn = cn,
	                             .names = names,
	                             .n_names = 1,
	                             .not_before = now - 3600,
	                             .not_after = now + 86400};
	int rc = ctng_net_tls_make_ca("bench CA", now - 3600, now + 86400, &ca, &cak, NULL) ||
	         ctng_net_tls_make_cert(ca, cak, &co, &cert, &key, NULL);
	const char *files[3][3] = {
	    {"ca.pem", ca, NULL}, {"cert.pem", cert, ca}, {"key.pem", key, NULL}};
	for (int i = 0; !rc && i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
		FILE *f = fopen(path, "w");
		rc = !f || fputs(files[i][1], f) < 0 || (files[i][2] && fputs(files[i][2], f) < 0);
		if (f)
			fclose(f);
	}
	free(ca);
	free(cak);
	free(cert);
	free(key);
	return rc;
}
