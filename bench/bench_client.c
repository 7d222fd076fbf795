/*
 * bench_client.c — `ctng bench client` (issue 7): the relying party's costs
 * on the seed network shape (3 loggers, 3 CAs, 4 gossipers, t = 2) with real
 * signatures (tests/client/client_fixture.h synthesizes the updates: dealt
 * BLS shares, logger/CA keys of a network made by ctng_init_network).
 * Lines:
 *   client.sync.apply        parse + verify (one batched multi-pairing) +
 *                            apply in one durable SQLite transaction, per period
 *   client.update.size       "bytes": one period's update (3 STH_FULL+STH,
 *                            3 REV_FULL+REV with 10 revocations each)
 *   client.state.size        "bytes": state file size after N periods
 *   (the size lines repeat the apply time as ns_per_op)
 *   client.validate          offline validation of one certificate (X.509
 *                            chain, STH signature, attested head, inclusion
 *                            proof, CRV lookup) after the sync
 *   client.validate.der      the same from DER bytes (includes parsing)
 * CTNG_BENCH_CLIENT_PERIODS overrides N (default 1000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "../tests/client/client_fixture.h"
#include "bench.h"

typedef struct vctx {
	ctng_client *c;
	X509 *x;
	uint8_t *der;
	size_t der_len;
	uint64_t now;
	int bad;
} vctx;

static void do_validate(void *arg)
{
	vctx *v = arg;
	ctng_client_result r;
	if (ctng_client_validate_x509(v->c, v->x, NULL, v->now, &r, NULL) ||
	    r.reason != CTNG_CLIENT_OK)
		v->bad++;
}

static void do_validate_der(void *arg)
{
	vctx *v = arg;
	ctng_client_result r;
	if (ctng_client_validate_der(v->c, v->der, v->der_len, v->now, &r, NULL) ||
	    r.reason != CTNG_CLIENT_OK)
		v->bad++;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

int ctng_bench_client(void)
{
	uint64_t periods = 1000;
	const char *env = getenv("CTNG_BENCH_CLIENT_PERIODS");
	if (env && (ctng_parse_u64(env, 1000000, &periods, NULL) || periods < 2)) {
		fprintf(stderr, "ctng bench client: bad CTNG_BENCH_CLIENT_PERIODS\n");
		return 1;
	}
	ctng_err err = {0};
	cfx f;
	uint64_t genesis = (ctng_now_ms() / 1000 - 86400) * 1000;
	int rc = cfx_setup_clock(&f, 3, 3, 4, 2, genesis, 1000, &err);
	char path[300];
	snprintf(path, sizeof(path), "%s/client.db", f.dir);
	ctng_client *c = NULL;
	rc = rc ? rc : ctng_client_open(path, f.net_json, f.net_len, &c, &err);
	uint64_t apply_ns = 0, apply_cpu = 0, bytes = 0, rid = 1000;
	X509 *cert = NULL;
	for (uint64_t p = 0; p < periods && !rc; p++) {
		if (p == 1) {
			size_t lg[] = {0, 1};
			cfx_pend pend;
			rc = cfx_precert(&f, 0, "bench.example.com", 1, lg, 2, p, &pend, &err);
			rc = rc ? rc : cfx_close_period(&f, p, &err);
			rc = rc ? rc : cfx_finalize(&f, &pend, &cert, &err);
			cfx_pend_free(&pend);
		} else {
			/* ten other certificates logged per logger and period */
			for (size_t i = 0; i < f.n_loggers && !rc; i++)
				for (int k = 0; k < 10 && !rc; k++) {
					uint8_t junk[16];
					ctng_random(junk, sizeof(junk));
					rc = ctng_merkle_mem_append_data(f.tree[i], junk,
					                                 sizeof(junk), NULL, &err);
				}
			rc = rc ? rc : cfx_close_period(&f, p, &err);
		}
		for (size_t i = 0; i < f.n_cas; i++)
			for (int k = 0; k < 10; k++)
				cfx_revoke(&f, i, (uint32_t)(rid += 7));
		char *txt = NULL;
		size_t len = 0;
		rc = rc ? rc : cfx_update(&f, p, NULL, &txt, &len, &err);
		if (rc)
			break;
		uint64_t t0 = ctng_mono_ns(), c0 = cpu_ns();
		rc = ctng_client_apply_update(c, txt, len, NULL, &err);
		apply_ns += ctng_mono_ns() - t0;
		apply_cpu += cpu_ns() - c0;
		bytes += len;
		free(txt);
	}
	if (rc) {
		fprintf(stderr, "ctng bench client: %s\n", err.msg);
		ctng_client_close(c);
		X509_free(cert);
		cfx_free(&f);
		return 1;
	}
	ctng_client_close(c);
	c = NULL;
	char wal[320], extra[300];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	long long state_bytes = file_size(path) + file_size(wal);
	double per = (double)apply_ns / (double)periods;
	snprintf(extra, sizeof(extra),
	         ",\"cpu_ns_per_op\":%.1f,\"periods\":%llu,\"loggers\":3,\"cas\":3,\"revocations_"
	         "per_ca_per_period\":10,"
	         "\"update_bytes\":%llu,\"state_bytes\":%lld",
	         (double)apply_cpu / (double)periods, (unsigned long long)periods,
	         (unsigned long long)(bytes / periods), state_bytes);
	ctng_bench_line_ns("client.sync.apply", per, periods, extra);
	/* the sizes again as their own lines (ns_per_op: the apply they come from) */
	snprintf(extra, sizeof(extra), ",\"bytes\":%llu,\"periods\":%llu",
	         (unsigned long long)(bytes / periods), (unsigned long long)periods);
	ctng_bench_line_ns("client.update.size", per, periods, extra);
	snprintf(extra, sizeof(extra), ",\"bytes\":%lld,\"periods\":%llu", state_bytes,
	         (unsigned long long)periods);
	ctng_bench_line_ns("client.state.size", per, periods, extra);

	rc = ctng_client_open(path, NULL, 0, &c, &err);
	vctx v = {.c = c, .x = cert, .now = ctng_now_ms()};
	rc = rc ? rc : ctng_cert_to_der(cert, &v.der, &v.der_len, &err);
	if (!rc) {
		uint64_t ops = 0;
		char more[96];
		do_validate(&v);
		uint64_t c0 = cpu_ns();
		double ns = ctng_bench_time(do_validate, &v, 1000, 100, &ops);
		snprintf(more, sizeof(more), ",\"cpu_ns_per_op\":%.1f,\"loggers_in_cert\":2",
		         (double)(cpu_ns() - c0) / (double)ops);
		ctng_bench_line_ns("client.validate", ns, ops, more);
		c0 = cpu_ns();
		ns = ctng_bench_time(do_validate_der, &v, 1000, 100, &ops);
		snprintf(more, sizeof(more), ",\"cpu_ns_per_op\":%.1f,\"loggers_in_cert\":2",
		         (double)(cpu_ns() - c0) / (double)ops);
		ctng_bench_line_ns("client.validate.der", ns, ops, more);
		if (v.bad) {
			fprintf(stderr, "ctng bench client: validation failed %d times\n", v.bad);
			rc = 1;
		}
	} else {
		fprintf(stderr, "ctng bench client: %s\n", err.msg);
	}
	free(v.der);
	ctng_client_close(c);
	X509_free(cert);
	cfx_free(&f);
	return rc ? 1 : 0;
}
