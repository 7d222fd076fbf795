/*
 * test_client_cli.c — `ctng client sync|verify|tls` as separate processes.
 * Sync runs against an HTTP server in this process that serves real, signed
 * client updates of a synthetic network (tests/client/client_fixture.h),
 * including forged ones; tls runs against real `openssl s_server` children
 * serving certificates issued by the network's CA.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../client/client_fixture.h"
#include "ctng/net.h"
#include "testutil.h"

#define OK(x)                                                                                      \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

static ctng_err err;

/* ------------------------------------------------- run the ctng binary */

/* Runs the ctng binary with the arguments; stdout/stderr into out/errout. */
#define RUN(...)                                                                                   \
	ctng_test_run((const char *const[]){CTNG_BIN, __VA_ARGS__, NULL}, out, sizeof(out), NULL,  \
	              errout, sizeof(errout), 0)

static char out[8192], errout[8192];

/* --------------------------------------------------- the update server */

#define NPER 64

typedef struct server {
	pthread_mutex_t mu;
	char *text[NPER]; /* update of each period, NULL = 404 */
	size_t len[NPER];
	ctng_net_loop *loop;
	ctng_net_server *srv;
	uint16_t port;
	pthread_t th;
	unsigned hits;
	char *crv; /* GET /ctng/v1/crv answer (any query), NULL = 404 */
} server;

static void on_update(ctng_net_req *req, void *arg)
{
	server *s = arg;
	uint64_t p = 0;
	ctng_err e = {0};
	if (ctng_net_req_query_u64(req, "period", UINT64_MAX, &p, &e)) {
		ctng_net_reply_err(req, &e);
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->hits++;
	if (p >= NPER || !s->text[p]) {
		pthread_mutex_unlock(&s->mu);
		ctng_net_reply_error(req, 404, "no update of period %llu", (unsigned long long)p);
		return;
	}
	ctng_net_reply_bytes(req, 200, "application/json", s->text[p], s->len[p], NULL);
	pthread_mutex_unlock(&s->mu);
}

static void on_crv(ctng_net_req *req, void *arg)
{
	server *s = arg;
	pthread_mutex_lock(&s->mu);
	if (!s->crv)
		ctng_net_reply_error(req, 404, "no CRV");
	else
		ctng_net_reply_bytes(req, 200, "application/json", s->crv, strlen(s->crv), NULL);
	pthread_mutex_unlock(&s->mu);
}

static void server_crv(server *s, const char *ca, uint64_t p, const roaring_bitmap_t *crv)
{
	uint8_t *b = NULL;
	size_t n = 0;
	OK(ctng_crv_delta_encode(crv, &b, &n, &err));
	char *b64 = ctng_b64_strdup(b, n);
	char *j = malloc(strlen(b64) + 128);
	sprintf(j, "{\"period\":\"%llu\",\"ca\":\"%s\",\"crv\":\"%s\"}", (unsigned long long)p, ca, b64);
	pthread_mutex_lock(&s->mu);
	free(s->crv);
	s->crv = j;
	pthread_mutex_unlock(&s->mu);
	free(b64);
	free(b);
}

static void *server_main(void *arg)
{
	server *s = arg;
	ctng_net_loop_run(s->loop, NULL);
	return NULL;
}

static void server_start(server *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	assert_non_null(s->loop = ctng_net_loop_new(&err));
	assert_non_null(s->srv = ctng_net_server_new(s->loop, 0, &err));
	OK(ctng_net_server_bind(s->srv, "127.0.0.1", 0, &s->port, &err));
	OK(ctng_net_server_route(s->srv, "GET", "/ctng/v1/update", on_update, s, &err));
	OK(ctng_net_server_route(s->srv, "GET", "/ctng/v1/crv", on_crv, s, &err));
	assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_set(server *s, uint64_t p, char *text, size_t len)
{
	pthread_mutex_lock(&s->mu);
	free(s->text[p]);
	s->text[p] = text;
	s->len[p] = len;
	pthread_mutex_unlock(&s->mu);
}

static void server_stop(server *s)
{
	ctng_net_loop_stop(s->loop);
	pthread_join(s->th, NULL);
	ctng_net_server_free(s->srv);
	ctng_net_loop_free(s->loop);
	for (int i = 0; i < NPER; i++)
		free(s->text[i]);
	free(s->crv);
	pthread_mutex_destroy(&s->mu);
}

static void write_pem(const char *path, X509 *x)
{
	OK(ctng_cert_save_file(x, path, 0644, &err));
}

/* ------------------------------------------------------------ sync */

static void test_sync_verify(void **state)
{
	(void)state;
	cfx f;
	/* 60 s periods; now is in the middle of period 40 */
	uint64_t period = 60000, now = ctng_now_ms();
	uint64_t genesis = now - 40 * period - period / 2;
	OK(cfx_setup_clock(&f, 2, 2, 2, 2, genesis, period, &err));
	server s;
	server_start(&s);
	char url[64], netp[300], st[300], st2[300], cert3[300], cert20[300], cert25[300],
	    cert36[300];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", s.port);
	snprintf(netp, sizeof(netp), "%s/network.json", f.dir);
	snprintf(st, sizeof(st), "%s/client.db", f.dir);
	snprintf(st2, sizeof(st2), "%s/client2.db", f.dir);
	snprintf(cert3, sizeof(cert3), "%s/c3.pem", f.dir);
	snprintf(cert20, sizeof(cert20), "%s/c20.pem", f.dir);
	snprintf(cert25, sizeof(cert25), "%s/c25.pem", f.dir);
	snprintf(cert36, sizeof(cert36), "%s/c36.pem", f.dir);
	/* the network's history: periods 0..39, a certificate in 3, 20 and 25;
	 * the one of 20 is revoked in REV(30) */
	char *good5 = NULL, *forged5 = NULL;
	size_t good5_len = 0, forged5_len = 0;
	for (uint64_t p = 0; p < 40; p++) {
		size_t lg[] = {p % 2};
		if (p == 3 || p == 20 || p == 25 || p == 36) {
			cfx_pend pend;
			X509 *x = NULL;
			char dns[64];
			snprintf(dns, sizeof(dns), "p%llu.example.org", (unsigned long long)p);
			OK(cfx_precert(&f, p % 2, dns, (uint32_t)p, lg, 1, p, &pend, &err));
			OK(cfx_close_period(&f, p, &err));
			OK(cfx_finalize(&f, &pend, &x, &err));
			write_pem(p == 3 ? cert3 : p == 20 ? cert20 : p == 25 ? cert25 : cert36, x);
			X509_free(x);
			cfx_pend_free(&pend);
		} else {
			OK(cfx_close_period(&f, p, &err));
		}
		if (p == 30)
			cfx_revoke(&f, 0, 20);
		char *txt = NULL;
		size_t len = 0;
		cfx_objs *o = calloc(1, sizeof(*o));
		OK(cfx_update_objs(&f, p, NULL, o, &err));
		OK(cfx_encode(&f, p, o, &txt, &len, &err));
		if (p == 5) {
			good5 = txt;
			good5_len = len;
			/* forged: logger1's STH_FULL carries logger2's signature */
			OK(ctng_gossip_set(&o->v[0].signature[0], o->v[2].signature[0], &err));
			OK(cfx_encode(&f, p, o, &forged5, &forged5_len, &err));
		}
		cfx_objs_clear(o);
		free(o);
		if (p != 5)
			server_set(&s, p, txt, len);
	}
	/* phase 0: usage errors */
	assert_int_equal(RUN("client", "sync", "--monitor", url), 2);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st),
	                 2); /* no network */
	assert_non_null(strstr(errout, "network"));
	assert_int_equal(RUN("client", "verify", "--state", st, "/nonexistent.pem"), 2);
	assert_int_equal(RUN("client", "bogus"), 2);

	/* phase 1: the monitor has 0..4 (5 is missing so far): sync stops at 5 */
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st, "--network", netp),
	                 0);
	assert_non_null(strstr(out, "\"last_period\":4"));
	assert_non_null(strstr(errout, "period 5"));
	assert_int_equal(RUN("client", "verify", "--state", st, cert3), 0);
	assert_non_null(strstr(out, "valid"));
	assert_int_equal(RUN("client", "verify", "--state", st, cert20), 1);
	assert_non_null(strstr(errout, "STALE"));

	/* phase 2: a forged update of 5 is detected; nothing after it is kept */
	server_set(&s, 5, forged5, forged5_len);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st), 1);
	assert_non_null(strstr(errout, "period 5"));
	assert_non_null(strstr(errout, "threshold signature"));
	assert_int_equal(RUN("client", "verify", "--state", st, cert20), 1);
	assert_non_null(strstr(errout, "STALE"));

	/* phase 3: the honest update: catch up 35 periods in one sync */
	server_set(&s, 5, good5, good5_len);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st), 0);
	assert_non_null(strstr(out, "\"applied\":35"));
	assert_non_null(strstr(out, "\"last_period\":39"));
	assert_int_equal(RUN("client", "verify", "--state", st, cert3), 0);
	assert_int_equal(RUN("client", "verify", "--state", st, cert25), 0);
	assert_int_equal(RUN("client", "verify", "--state", st, cert20), 1);
	assert_non_null(strstr(errout, "REVOKED"));
	/* nothing new: the current period (40) is not published */
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st), 0);
	assert_non_null(strstr(out, "\"applied\":0"));
	/* a different network file for an existing state is refused */
	char other[300];
	snprintf(other, sizeof(other), "%s/ca1/config.json", f.dir);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st, "--network", other),
	                 2);

	/* a fresh client whose monitor lost 0..9: starts at 10 */
	for (uint64_t p = 0; p < 10; p++)
		server_set(&s, p, NULL, 0);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st2, "--network", netp),
	                 0);
	assert_non_null(strstr(out, "\"applied\":30"));
	assert_int_equal(RUN("client", "verify", "--state", st2, cert25), 0);
	assert_int_equal(RUN("client", "verify", "--state", st2, cert3), 1);
	assert_non_null(strstr(errout, "STALE"));

	/* a fresh client whose monitor lost 0..34: ca1 revoked RID 20 in REV(31),
	 * so its CRV is not known from the deltas alone (STALE); the monitor's
	 * full CRV of period 39 makes it known, but only the one that hashes to
	 * the attested REV (issue 11 item 6). */
	char st3[300];
	snprintf(st3, sizeof(st3), "%s/client3.db", f.dir);
	for (uint64_t p = 10; p < 35; p++)
		server_set(&s, p, NULL, 0);
	roaring_bitmap_t *lie = roaring_bitmap_create(); /* hides RID 20 */
	server_crv(&s, "ca1", 39, lie);
	roaring_bitmap_free(lie);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st3, "--network", netp),
	                 0);
	assert_non_null(strstr(out, "\"crvs\":0"));
	assert_non_null(strstr(errout, "no verified CRV"));
	assert_int_equal(RUN("client", "verify", "--state", st3, cert36), 1);
	assert_non_null(strstr(errout, "STALE"));
	server_crv(&s, "ca1", 39, f.crv[0]);
	assert_int_equal(RUN("client", "sync", "--monitor", url, "--state", st3), 0);
	assert_non_null(strstr(out, "\"crvs\":1"));
	assert_int_equal(RUN("client", "verify", "--state", st3, cert36), 0);
	assert_non_null(strstr(out, "valid"));

	/* a monitor that is down */
	assert_int_equal(RUN("client", "sync", "--monitor", "http://127.0.0.1:1", "--state", st),
	                 1);
	server_stop(&s);
	cfx_free(&f);
}

/* ------------------------------------------------------------- TLS */

static void test_tls(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 1, 2, 2, &err));
	char st[300], keyp[300], good[300], bad[300], rev[300];
	snprintf(st, sizeof(st), "%s/client.db", f.dir);
	snprintf(keyp, sizeof(keyp), "%s/tls.key", f.dir);
	snprintf(good, sizeof(good), "%s/good.pem", f.dir);
	snprintf(bad, sizeof(bad), "%s/unlogged.pem", f.dir);
	snprintf(rev, sizeof(rev), "%s/revoked.pem", f.dir);
	OK(ctng_sig_save_private_file(f.subject_key, keyp, 0600, &err));
	X509 *x1 = NULL, *x3 = NULL;
	OK(cfx_client_with_certs(&f, "tls.example.com", st, good, rev, &x1, &err));
	/* unlogged: a precert whose leaf the logger never appended, with the
	 * proof of another leaf */
	{
		uint64_t now = ctng_now_ms();
		ctng_cert_template t = {.dns_name = "tls.example.com",
		                        .subject_key = ctng_sig_key_evp(f.subject_key),
		                        .serial = {0x33},
		                        .serial_len = 1,
		                        .not_before_ms = now - 3600000,
		                        .not_after_ms = now + 86400000};
		X509 *pre = NULL;
		ctng_cert_proofs ps;
		OK(ctng_cert_get_proofs(x1, &ps, &err));
		t.rid = ps.rid;
		OK(ctng_cert_make_precert(&t, f.ca_root[0], f.ca_key[0], &pre, &err));
		OK(ctng_cert_make_final(pre, &ps, f.ca_root[0], f.ca_key[0], &x3, &err));
		ctng_cert_proofs_clear(&ps);
		X509_free(pre);
		write_pem(bad, x3);
	}
	ctng_client *c = NULL;

	uint16_t port = ctng_test_free_port();
	char target[64], ip_target[64];
	snprintf(target, sizeof(target), "tls.example.com:%u", port);
	snprintf(ip_target, sizeof(ip_target), "127.0.0.1:%u", port);

	pid_t srv = ctng_test_start_s_server(good, keyp, port);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1", "--state", st), 0);
	assert_non_null(strstr(out, "valid"));
	/* --connect also takes HOST:PORT (its port is dialled), [V6]:PORT too */
	char other_port[64];
	snprintf(other_port, sizeof(other_port), "tls.example.com:%u", port == 1 ? 2 : port - 1);
	assert_int_equal(RUN("client", "tls", other_port, "--connect", ip_target, "--state", st),
	                 0);
	assert_int_equal(RUN("client", "tls", target, "--connect=localhost", "--state", st), 0);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1:0", "--state", st),
	                 2);
	assert_int_equal(RUN("client", "tls", target, "--connect", "[::1", "--state", st), 2);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1:x", "--state", st),
	                 2);
	/* the name must match */
	char wrong[64];
	snprintf(wrong, sizeof(wrong), "other.example.com:%u", port);
	assert_int_equal(RUN("client", "tls", wrong, "--connect", "127.0.0.1", "--state", st), 1);
	assert_non_null(strstr(errout, "CHAIN"));
	assert_int_equal(RUN("client", "tls", ip_target, "--state", st), 1);
	/* the library call gives the same decision */
	OK(ctng_client_open(st, NULL, 0, &c, &err));
	ctng_client_result r;
	OK(ctng_client_tls_check(c, "tls.example.com", "127.0.0.1", port, 5000, &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_OK);
	ctng_client_close(c);
	ctng_test_stop(srv, 10000);

	srv = ctng_test_start_s_server(rev, keyp, port);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1", "--state", st), 1);
	assert_non_null(strstr(errout, "REVOKED"));
	ctng_test_stop(srv, 10000);

	srv = ctng_test_start_s_server(bad, keyp, port);
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1", "--state", st), 1);
	assert_non_null(strstr(errout, "NO_VALID_LOGGER"));
	ctng_test_stop(srv, 10000);

	/* nobody listening */
	assert_int_equal(RUN("client", "tls", target, "--connect", "127.0.0.1", "--state", st), 1);
	assert_int_equal(RUN("client", "tls", "nonsense", "--state", st), 2);

	/* verify of the same files, offline */
	assert_int_equal(RUN("client", "verify", "--state", st, good), 0);
	assert_int_equal(RUN("client", "verify", "--state", st, rev), 1);
	assert_int_equal(RUN("client", "verify", "--state", st, bad), 1);
	assert_int_equal(RUN("client", "verify", "--state", st, keyp), 2); /* not a certificate */

	X509_free(x1);
	X509_free(x3);
	cfx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sync_verify),
	    cmocka_unit_test(test_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
