/*
 * bench_ca.c — `ctng bench ca`: issuance throughput through the whole flow
 * (CA + two in-process loggers on durable SQLite files: request, precert,
 * add-pre-chain, SCT check, STH, proof fetch and check, final certificate),
 * precertificate / final certificate signing, and REV size, build and
 * client-side apply time for 1,000,000 certificates with 700 revoked and
 * 100,000,000 with 0.2 % revoked (random RIDs).
 */
#include <openssl/x509.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "ctng/ca.h"
#include "ctng/logger.h"
#include "ctng/store.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "ctng bench ca: " __VA_ARGS__);                                    \
		fputc('\n', stderr);                                                               \
		goto out;                                                                          \
	} while (0)

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ------------------------------------------------------- whole issuance flow */

static int bench_flow(size_t n)
{
	int rc = 1;
	ctng_err err = {0};
	char dir[64], path[160];
	snprintf(dir, sizeof(dir), "/tmp/ctng_bench_ca_%d", (int)getpid());
	ctng_mkdir_p(dir, 0700, NULL);
	ctng_network net = {0};
	ctng_sig_key *ca_key = NULL, *lk[2] = {NULL, NULL};
	X509 *root = NULL;
	char *root_pem = NULL;
	ctng_store *ls[2] = {NULL, NULL};
	ctng_logger *lg[2] = {NULL, NULL};
	ctng_ca *ca = NULL;
	uint32_t *rids = calloc(n, sizeof(uint32_t));
	char *pub = NULL;
	ctng_logger_sub **subs = NULL;
	const char *ids[2] = {"logger1", "logger2"};
	uint64_t period_ms = 3600000;
	net.clock.genesis_ms = ctng_now_ms() / 1000 * 1000 - 10 * period_ms;
	net.clock.period_ms = period_ms;
	net.entities = calloc(3, sizeof(ctng_entity));
	if (!rids || !net.entities)
		FAIL("out of memory");
	net.n_entities = 3;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &ca_key, &err) ||
	    ctng_cert_make_root("bench CA", ca_key, ctng_now_ms() - 86400000,
	                        ctng_now_ms() + 86400000ull * 365, &root, &err) ||
	    ctng_cert_to_pem(root, &root_pem, NULL, &err))
		FAIL("%s", err.msg);
	for (int i = 0; i < 2; i++) {
		ctng_entity *e = &net.entities[i];
		strcpy(e->id, ids[i]);
		e->role = CTNG_ROLE_LOGGER;
		snprintf(path, sizeof(path), "%s/%s.db", dir, ids[i]);
		unlink(path);
		const char *roots[1] = {root_pem};
		ctng_logger_params p = {.id = ids[i],
		                        .origin = ids[i],
		                        .clock = net.clock,
		                        .root_pems = roots,
		                        .n_roots = 1};
		if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &lk[i], &err) ||
		    ctng_sig_key_public_copy(lk[i], &e->key, &err))
			FAIL("%s", err.msg);
		p.key = lk[i];
		if (!(ls[i] = ctng_store_open(path, &err)) ||
		    ctng_logger_open(ls[i], &p, &lg[i], &err))
			FAIL("logger: %s", err.msg);
	}
	strcpy(net.entities[2].id, "ca1");
	net.entities[2].role = CTNG_ROLE_CA;
	snprintf(path, sizeof(path), "%s/ca.db", dir);
	unlink(path);
	ctng_ca_opts o = {
	    .id = "ca1", .key = ca_key, .root_pem = root_pem, .net = &net, .db_path = path};
	if (ctng_ca_open(&o, &ca, &err))
		FAIL("%s", err.msg);
	ctng_sig_key *subj = NULL;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, &err) ||
	    ctng_sig_public_pem(subj, &pub, NULL, &err))
		FAIL("%s", err.msg);
	ctng_sig_key_free(subj);
	uint64_t t_req = net.clock.genesis_ms + 10 * period_ms + 1000;
	uint64_t t_next = net.clock.genesis_ms + 11 * period_ms + 1;
	uint64_t t0 = ctng_mono_ns();
	/* period p: requests, submissions (each logger commits the batch at once) */
	subs = calloc(n, sizeof(*subs));
	if (!subs)
		FAIL("out of memory");
	for (size_t i = 0; i < n; i++) {
		char name[64], h[CTNG_CA_HANDLE_LEN + 1];
		snprintf(name, sizeof(name), "host%zu.bench.example", i);
		if (ctng_ca_request(ca, name, pub, t_req, h, &rids[i], &err))
			FAIL("request: %s", err.msg);
	}
	uint64_t t_reqs = ctng_mono_ns(); /* each request is its own durable commit */
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < n; i++) {
			json_t *body = NULL;
			if (ctng_ca_submission(ca, rids[i], &body, &err))
				FAIL("%s", err.msg);
			char *s = json_dumps(body, JSON_COMPACT);
			json_decref(body);
			int r = ctng_logger_prepare(lg[l], s, strlen(s), true, t_req + 1, &subs[i],
			                            &err);
			free(s);
			if (r)
				FAIL("prepare: %s", err.msg);
		}
		if (ctng_logger_commit(lg[l], subs, n, &err))
			FAIL("commit: %s", err.msg);
		/* SCTs arrive together for the batch: one transaction */
		if (ctng_ca_batch_begin(ca, &err))
			FAIL("%s", err.msg);
		for (size_t i = 0; i < n; i++) {
			json_t *sct = NULL;
			if (ctng_logger_sub_sct_json(subs[i], lg[l], &sct, &err) ||
			    ctng_ca_record_sct(ca, rids[i], ids[l], sct, &err))
				FAIL("SCT: %s", err.msg);
			json_decref(sct);
			ctng_logger_sub_free(subs[i]);
			subs[i] = NULL;
		}
		if (ctng_ca_batch_commit(ca, &err))
			FAIL("%s", err.msg);
	}
	/* period p+1: STHs, proofs, issuance */
	size_t issued = 0;
	for (int l = 0; l < 2; l++) {
		if (ctng_logger_tick(lg[l], t_next, NULL, &err) || ctng_ca_batch_begin(ca, &err))
			FAIL("tick: %s", err.msg);
		for (size_t i = 0; i < n; i++) {
			uint8_t h[32];
			json_t *pr = NULL;
			if (ctng_ca_leaf_hash(ca, rids[i], ids[l], h, &err) ||
			    ctng_logger_period_proof(lg[l], 11, h, &pr, &err) ||
			    ctng_ca_record_proof(ca, rids[i], ids[l], 11, pr, &err))
				FAIL("proof: %s", err.msg);
			json_decref(pr);
		}
		if (ctng_ca_batch_commit(ca, &err))
			FAIL("%s", err.msg);
	}
	if (ctng_ca_issue_ready(ca, 11, &issued, &err) || issued != n)
		FAIL("issue: %s (%zu of %zu)", err.msg, issued, n);
	double secs = (double)(ctng_mono_ns() - t0) / 1e9;
	char extra[200];
	snprintf(extra, sizeof(extra),
	         ",\"n\":%zu,\"loggers\":2,\"storage\":\"sqlite-wal-full\",\"requests_ms\":%.0f,"
	         "\"total_ms\":%.0f",
	         n, (double)(t_reqs - t0) / 1e6, secs * 1e3);
	ctng_bench_line_rate("ca.issue.flow", (double)n / secs, extra);
	rc = 0;
out:
	if (subs)
		for (size_t i = 0; i < n; i++)
			ctng_logger_sub_free(subs[i]);
	free(subs);
	free(pub);
	ctng_ca_close(ca);
	for (int i = 0; i < 2; i++) {
		ctng_logger_free(lg[i]);
		ctng_store_close(ls[i]);
		ctng_sig_key_free(lk[i]);
	}
	ctng_network_free(&net);
	X509_free(root);
	free(root_pem);
	ctng_sig_key_free(ca_key);
	free(rids);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "ctng bench ca: could not remove %s\n", dir);
	return rc;
}

/* ------------------------------------------------------------ signing */

typedef struct sign_ctx {
	ctng_sig_key *ca_key;
	X509 *root, *pre;
	ctng_cert_template t;
	ctng_cert_proofs ps;
	int failed;
} sign_ctx;

static void do_precert(void *arg)
{
	sign_ctx *c = arg;
	X509 *x = NULL;
	if (ctng_cert_make_precert(&c->t, c->root, c->ca_key, &x, NULL))
		c->failed = 1;
	X509_free(x);
}

static void do_final(void *arg)
{
	sign_ctx *c = arg;
	X509 *x = NULL;
	if (ctng_cert_make_final(c->pre, &c->ps, c->root, c->ca_key, &x, NULL))
		c->failed = 1;
	X509_free(x);
}

static int bench_sign(void)
{
	sign_ctx c = {0};
	ctng_sig_key *subj = NULL;
	int rc = 1;
	uint64_t now = ctng_now_ms(), ops;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &c.ca_key, NULL) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, NULL) ||
	    ctng_cert_make_root("bench", c.ca_key, now - 1000, now + 86400000, &c.root, NULL))
		FAIL("setup");
	c.t = (ctng_cert_template){.dns_name = "www.bench.example",
	                           .subject_key = ctng_sig_key_evp(subj),
	                           .serial = {0x42, 1, 2, 3, 4, 5, 6, 7},
	                           .serial_len = 8,
	                           .not_before_ms = now,
	                           .not_after_ms = now + 86400000,
	                           .rid = 123456};
	if (ctng_cert_make_precert(&c.t, c.root, c.ca_key, &c.pre, NULL))
		FAIL("precert");
	c.ps.rid = 123456;
	for (int i = 0; i < 2; i++) {
		ctng_logger_proof p = {0};
		uint8_t sig[72], path[20][32];
		memset(sig, 1, sizeof(sig));
		memset(path, 2, sizeof(path));
		snprintf(p.logger_id, sizeof(p.logger_id), "logger%d", i + 1);
		p.tree_size = 1000000;
		p.leaf_index = 999;
		p.sth_sig = sig;
		p.sth_sig_len = sizeof(sig);
		p.audit_path = path;
		p.path_len = 20;
		ctng_cert_proofs_add(&c.ps, &p, NULL);
	}
	double ns = ctng_bench_time(do_precert, &c, 1000, 20, &ops);
	ctng_bench_line_ns("ca.precert.sign", ns, ops, ",\"alg\":\"ecdsa-p256\"");
	ns = ctng_bench_time(do_final, &c, 1000, 20, &ops);
	ctng_bench_line_ns("ca.final.sign", ns, ops, ",\"alg\":\"ecdsa-p256\",\"loggers\":2");
	if (!c.failed)
		rc = 0;
out:
	ctng_cert_proofs_clear(&c.ps);
	X509_free(c.pre);
	X509_free(c.root);
	ctng_sig_key_free(c.ca_key);
	ctng_sig_key_free(subj);
	return rc;
}

/* ------------------------------------------------------------------ REV */

static int bench_rev(uint64_t n_certs, uint64_t n_revoked, const char *label)
{
	int rc = 1;
	ctng_sig_key *key = NULL;
	roaring_bitmap_t *delta = roaring_bitmap_create(), *crv = NULL;
	ctng_gossip_object o = {0};
	char *json = NULL;
	uint8_t *bytes = NULL;
	size_t blen = 0, jlen = 0;
	ctng_err err = {0};
	uint32_t *list = NULL;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &key, &err))
		FAIL("%s", err.msg);
	while (roaring_bitmap_get_cardinality(delta) < n_revoked)
		roaring_bitmap_add(delta, (uint32_t)(next_rand() % n_certs));
	list = malloc(n_revoked * sizeof(uint32_t));
	if (!list)
		FAIL("out of memory");
	roaring_bitmap_to_uint32_array(delta, list);
	/* build: from the period's revoked RIDs to the signed, encoded REV */
	const int reps = 5;
	uint64_t t0 = ctng_mono_ns();
	for (int r = 0; r < reps; r++) {
		roaring_bitmap_t *d = roaring_bitmap_of_ptr(n_revoked, list);
		uint8_t h[32];
		free(bytes);
		free(json);
		json = NULL;
		ctng_gossip_clear(&o);
		if (!d || ctng_crv_hash(d, h, &err) ||
		    ctng_crv_delta_encode(d, &bytes, &blen, &err) ||
		    ctng_rev_sign(&o, "ca1", key, 7, h, bytes, blen, ctng_now_ms(), &err) ||
		    ctng_gossip_encode(&o, &json, &jlen, &err))
			FAIL("build: %s", err.msg);
		roaring_bitmap_free(d);
	}
	double build_ns = (double)(ctng_mono_ns() - t0) / reps;
	/* the same bitmap without run optimisation, and as a plain bitset */
	size_t plain = roaring_bitmap_portable_size_in_bytes(delta);
	char extra[400];
	snprintf(extra, sizeof(extra),
	         ",\"certs\":%llu,\"revoked\":%llu,\"delta_bytes\":%zu,\"delta_bytes_no_run\":%zu,"
	         "\"rev_json_bytes\":%zu,\"bitset_bytes\":%llu",
	         (unsigned long long)n_certs, (unsigned long long)n_revoked, blen, plain, jlen,
	         (unsigned long long)(n_certs + 7) / 8);
	char name[64];
	snprintf(name, sizeof(name), "ca.rev.build.%s", label);
	ctng_bench_line_ns(name, build_ns, reps, extra);
	/* client: CRV(p-1) (empty) + delta -> CRV(p), hash checked */
	t0 = ctng_mono_ns();
	for (int r = 0; r < reps; r++) {
		crv = roaring_bitmap_create();
		if (ctng_crv_apply_rev(crv, &o, &err))
			FAIL("apply: %s", err.msg);
		roaring_bitmap_free(crv);
		crv = NULL;
	}
	snprintf(name, sizeof(name), "ca.rev.apply.%s", label);
	ctng_bench_line_ns(name, (double)(ctng_mono_ns() - t0) / reps, reps, extra);
	rc = 0;
out:
	free(list);
	free(bytes);
	free(json);
	ctng_gossip_clear(&o);
	if (delta)
		roaring_bitmap_free(delta);
	if (crv)
		roaring_bitmap_free(crv);
	ctng_sig_key_free(key);
	return rc;
}

int ctng_bench_ca(void)
{
	ctng_log_level lvl = ctng_log_get_level();
	ctng_log_set_level(CTNG_LOG_WARN);
	int rc = bench_sign();
	rc |= bench_rev(1000000, 700, "1m_700");
	rc |= bench_rev(100000000, 200000, "100m_0.2pct");
	rc |= bench_flow(500);
	ctng_log_set_level(lvl);
	return rc;
}
