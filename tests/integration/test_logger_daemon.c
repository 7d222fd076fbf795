/*
 * test_logger_daemon.c — the real `ctng logger` binary end to end: a network
 * made by `ctng init` (1 s periods, ports from 20000 + pid), certificates
 * issued with the CA's key from its config.json and submitted over HTTP
 * (add-chain and add-pre-chain), bad requests answered 4xx while the logger
 * keeps serving, periods crossed, and every STH, SCT, proof, entry, tile,
 * checkpoint and CTng object fetched over HTTP and verified with our
 * verifiers. Then SIGKILL in the middle of a burst of submissions and a
 * restart: every acknowledged submission and every published STH is intact
 * and the next STH is consistent with the last one.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../logger/lg_certs.h"
#include "ctng/config.h"
#include "ctng/logger.h"
#include "ctng/merkle.h"
#include "ctng/net.h"
#include "testutil.h"

extern char **environ;

typedef struct sct_rec {
	uint64_t ts;
	uint64_t idx; /* from the SCT's leaf_index extension */
	uint8_t leaf_hash[32];
} sct_rec;

static char dir[600];
static char base_url[CTNG_URL_MAX];
static ctng_node_config ca_cfg, lg_cfg;
static X509 *root;
static uint8_t log_id[32];

static int run_wait(char *const argv[])
{
	pid_t pid;
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	int st = 0;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* HTTP GET/POST; returns the status (0 on a transport failure); *body malloc'd. */
static int http(const char *method, const char *path, const void *data, size_t len, char **body,
                size_t *blen)
{
	char url[1024];
	snprintf(url, sizeof url, "%s%s", base_url, path);
	int status = 0;
	uint8_t *out = NULL;
	size_t ol = 0;
	ctng_err e = {0};
	if (ctng_net_fetch_sync(url, method, data ? "application/json" : NULL, data, len, 10000,
	                        &status, &out, &ol, &e))
		return 0;
	if (body)
		*body = (char *)out;
	else
		free(out);
	if (blen)
		*blen = ol;
	return status;
}

static json_t *get_json(const char *path, int want_status)
{
	char *b = NULL;
	size_t bl = 0;
	int st = http("GET", path, NULL, 0, &b, &bl);
	if (st != want_status)
		fprintf(stderr, "GET %s: %d %s\n", path, st, b ? b : "");
	assert_int_equal(st, want_status);
	json_t *j = NULL;
	assert_int_equal(ctng_net_parse_json(b, bl, 0, &j, NULL), 0);
	free(b);
	return j;
}

/* Waits (bounded) until the logger answers get-sth. */
static void wait_ready(void)
{
	for (int i = 0; i < 300; i++) {
		if (http("GET", "/ct/v1/get-sth", NULL, 0, NULL, NULL) == 200)
			return;
		ctng_test_sleep_ms(100);
	}
	fail_msg("logger did not come up");
}

static void decode_hash(json_t *s, uint8_t out[32])
{
	assert_true(json_is_string(s));
	assert_int_equal(ctng_b64_decode_exact(out, 32, json_string_value(s), NULL), 0);
}

/* Verifies get-sth and returns it. */
static ctng_sth fetch_sth(void)
{
	json_t *j = get_json("/ct/v1/get-sth", 200);
	ctng_sth s;
	s.tree_size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
	s.timestamp_ms = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
	decode_hash(json_object_get(j, "sha256_root_hash"), s.root);
	const char *sig = json_string_value(json_object_get(j, "tree_head_signature"));
	uint8_t *ds = NULL;
	size_t dl = 0;
	assert_int_equal(ctng_b64_decode_alloc(sig, strlen(sig), &ds, &dl, NULL), 0);
	const uint8_t *raw;
	size_t rl;
	assert_int_equal(ctng_digitally_signed_decode(ds, dl, &raw, &rl, NULL), 0);
	uint8_t tbs[CTNG_STH_TBS_LEN];
	ctng_sth_tbs(&s, tbs);
	assert_int_equal(ctng_sig_verify(lg_cfg.self->key, tbs, sizeof tbs, raw, rl, NULL), 0);
	free(ds);
	json_decref(j);
	return s;
}

static ctng_sth wait_tree(uint64_t size)
{
	for (int i = 0; i < 200; i++) {
		ctng_sth s = fetch_sth();
		if (s.tree_size >= size)
			return s;
		ctng_test_sleep_ms(100);
	}
	fail_msg("tree never reached %llu", (unsigned long long)size);
	return (ctng_sth){0};
}

static void path_from_json(json_t *a, uint8_t (*p)[32], size_t *n)
{
	*n = json_array_size(a);
	assert_true(*n <= CTNG_MERKLE_MAX_PROOF);
	for (size_t i = 0; i < *n; i++)
		decode_hash(json_array_get(a, i), p[i]);
}

static char *url_b64(const uint8_t h[32])
{
	char b[64], *o = malloc(200), *q = o;
	ctng_b64_encode(b, h, 32);
	for (char *c = b; *c; c++) {
		if (*c == '+')
			q += sprintf(q, "%%2B");
		else if (*c == '/')
			q += sprintf(q, "%%2F");
		else if (*c == '=')
			q += sprintf(q, "%%3D");
		else
			*q++ = *c;
	}
	*q = 0;
	return o;
}

/* Issues a certificate (or precertificate) for name from the CA's root. */
static X509 *issue(const char *name, bool precert)
{
	ctng_sig_key *k = lg_key();
	X509 *x = lg_make_cert(name, k, root, ca_cfg.key, false, precert);
	ctng_sig_key_free(k);
	return x;
}

/* Checks an SCT answer for x and returns what the log will hold. */
static sct_rec check_sct(const char *body, size_t len, X509 *x, bool precert)
{
	json_t *j = NULL;
	assert_int_equal(ctng_net_parse_json(body, len, 0, &j, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "sct_version")), 0);
	uint8_t id[32];
	decode_hash(json_object_get(j, "id"), id);
	assert_memory_equal(id, log_id, 32);
	/* static-ct-api: exactly one leaf_index extension (type 0, length 5) */
	const char *x64 = json_string_value(json_object_get(j, "extensions"));
	assert_non_null(x64);
	uint8_t ext[8];
	assert_int_equal(ctng_b64_decode_exact(ext, sizeof ext, x64, NULL), 0);
	assert_memory_equal(ext, "\x00\x00\x05", 3);
	sct_rec r;
	r.idx = 0;
	for (int i = 3; i < 8; i++)
		r.idx = r.idx << 8 | ext[i];
	r.ts = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
	ctng_ct_entry ent = {0};
	uint8_t *der = NULL, *rd = NULL;
	size_t dl = 0, rl = 0;
	assert_int_equal(ctng_cert_to_der(x, &der, &dl, NULL), 0);
	if (precert) {
		assert_int_equal(ctng_cert_to_der(root, &rd, &rl, NULL), 0);
		assert_int_equal(ctng_ct_entry_precert(der, dl, rd, rl, &ent, NULL), 0);
	} else {
		assert_int_equal(ctng_ct_entry_x509(der, dl, &ent, NULL), 0);
	}
	ctng_buf tbs = {0};
	assert_int_equal(ctng_ct_sct_signed_bytes(&ent, r.ts, ext, sizeof ext, &tbs, NULL), 0);
	const char *sig = json_string_value(json_object_get(j, "signature"));
	uint8_t *ds = NULL;
	size_t sl = 0;
	assert_int_equal(ctng_b64_decode_alloc(sig, strlen(sig), &ds, &sl, NULL), 0);
	const uint8_t *raw;
	size_t rawl;
	assert_int_equal(ctng_digitally_signed_decode(ds, sl, &raw, &rawl, NULL), 0);
	assert_int_equal(ctng_sig_verify(lg_cfg.self->key, tbs.data, tbs.len, raw, rawl, NULL), 0);
	assert_int_equal(ctng_ct_leaf_hash(&ent, r.ts, ext, sizeof ext, r.leaf_hash, NULL), 0);
	ctng_buf_free(&tbs);
	ctng_ct_entry_clear(&ent);
	free(ds);
	free(der);
	free(rd);
	json_decref(j);
	return r;
}

static sct_rec submit(X509 *x, bool precert)
{
	X509 *chain[2] = {x, root};
	char *body = lg_chain_body(chain, precert ? 2 : 1);
	char *out = NULL;
	size_t ol = 0;
	int st = http("POST", precert ? "/ct/v1/add-pre-chain" : "/ct/v1/add-chain", body,
	              strlen(body), &out, &ol);
	if (st != 200)
		fprintf(stderr, "add-chain: %d %s\n", st, out ? out : "");
	assert_int_equal(st, 200);
	sct_rec r = check_sct(out, ol, x, precert);
	free(out);
	free(body);
	return r;
}

static void check_inclusion(const sct_rec *r, const ctng_sth *s)
{
	char *h = url_b64(r->leaf_hash), path[512];
	snprintf(path, sizeof path, "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%llu", h,
	         (unsigned long long)s->tree_size);
	json_t *j = get_json(path, 200);
	uint8_t p[CTNG_MERKLE_MAX_PROOF][32];
	size_t n;
	path_from_json(json_object_get(j, "audit_path"), p, &n);
	uint64_t idx = (uint64_t)json_integer_value(json_object_get(j, "leaf_index"));
	/* the index promised in the SCT (also after a SIGKILL and restart) */
	assert_int_equal(idx, r->idx);
	assert_int_equal(ctng_merkle_verify_inclusion(r->leaf_hash, idx, s->tree_size, s->root,
	                                              (const uint8_t(*)[32])p, n, NULL),
	                 0);
	json_decref(j);
	free(h);
}

static void check_consistency(const ctng_sth *a, const ctng_sth *b)
{
	char path[256];
	snprintf(path, sizeof path, "/ct/v1/get-sth-consistency?first=%llu&second=%llu",
	         (unsigned long long)a->tree_size, (unsigned long long)b->tree_size);
	json_t *j = get_json(path, 200);
	uint8_t p[CTNG_MERKLE_MAX_PROOF][32];
	size_t n;
	path_from_json(json_object_get(j, "consistency"), p, &n);
	assert_int_equal(ctng_merkle_verify_consistency(a->tree_size, b->tree_size, a->root,
	                                                b->root, (const uint8_t(*)[32])p, n, NULL),
	                 0);
	json_decref(j);
}

/* /ctng/v1/sth of period p, verified; returns the canonical JSON (malloc'd). */
static char *ctng_sth_of(uint64_t p, ctng_sth *out)
{
	char path[128];
	snprintf(path, sizeof path, "/ctng/v1/sth?period=%llu&monitor=monitor1",
	         (unsigned long long)p);
	json_t *j = get_json(path, 200);
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_gossip_from_json(j, &o, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&o, lg_cfg.self->key, &lg_cfg.net.clock, NULL),
	                 0);
	assert_int_equal(o.period, p);
	assert_string_equal(o.signer, "logger1");
	if (out)
		assert_int_equal(ctng_sth_from_object(&o, out, NULL), 0);
	char *s = NULL;
	assert_int_equal(ctng_gossip_encode(&o, &s, NULL, NULL), 0);
	ctng_gossip_clear(&o);
	json_decref(j);
	return s;
}

static char tmp_root[sizeof dir]; /* the mkdtemp folder holding net/ */

/* ------------------------------------- formats other CT tools read */

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* A strict static-ct-api reader (written here, independently of the
 * logger; Debian packages no static-ct-api client): every TileLeaf of the
 * first data tile parses exactly, carries the leaf_index extension of its
 * position, ends its issuer fingerprints with the root's, and hashes to
 * the level-0 hash tile's entry. */
static void check_data_tile(uint64_t size)
{
	assert_true(size > 0 && size < 256);
	char path[128];
	snprintf(path, sizeof path, "/tile/data/000.p/%llu", (unsigned long long)size);
	char *d = NULL, *h = NULL;
	size_t dl = 0, hl = 0;
	assert_int_equal(http("GET", path, NULL, 0, &d, &dl), 200);
	snprintf(path, sizeof path, "/tile/0/000.p/%llu", (unsigned long long)size);
	assert_int_equal(http("GET", path, NULL, 0, &h, &hl), 200);
	assert_int_equal(hl, 32 * size);
	uint8_t root_fp[32];
	assert_int_equal(ctng_cert_sha256(root, root_fp, NULL), 0);
	const uint8_t *p = (const uint8_t *)d, *end = p + dl;
	for (uint64_t i = 0; i < size; i++) {
		const uint8_t *te = p; /* TimestampedEntry */
		assert_true(end - p >= 10);
		uint64_t type = be(p + 8, 2);
		p += 10;
		assert_true(type == 0 || type == 1);
		if (type == 1) {
			assert_true(end - p >= 32);
			p += 32; /* issuer_key_hash */
		}
		assert_true(end - p >= 3);
		size_t n = (size_t)be(p, 3);
		assert_true((size_t)(end - p) >= 3 + n + 2);
		p += 3 + n;
		assert_int_equal(be(p, 2), 8); /* CtExtensions: one leaf_index */
		assert_true(end - p >= 10);
		assert_int_equal(p[2], 0); /* extension_type leaf_index */
		assert_int_equal(be(p + 3, 2), 5);
		assert_int_equal(be(p + 5, 5), i);
		p += 10;
		/* MerkleTreeLeaf = 00 00 || TimestampedEntry */
		size_t tl = (size_t)(p - te);
		uint8_t *leaf = malloc(tl + 2), lh[32];
		leaf[0] = leaf[1] = 0;
		memcpy(leaf + 2, te, tl);
		assert_int_equal(ctng_merkle_leaf_hash(lh, leaf, tl + 2), 0);
		assert_memory_equal(lh, h + 32 * i, 32);
		free(leaf);
		if (type == 1) { /* pre_certificate */
			assert_true(end - p >= 3);
			n = (size_t)be(p, 3);
			assert_true((size_t)(end - p) >= 3 + n);
			p += 3 + n;
		}
		assert_true(end - p >= 2);
		n = (size_t)be(p, 2);
		p += 2;
		assert_true(n >= 32 && n % 32 == 0 && (size_t)(end - p) >= n);
		assert_memory_equal(p + n - 32, root_fp, 32);
		p += n;
	}
	assert_true(p == end);
	free(d);
	free(h);
}

/* The checkpoint verifies with Go's golang.org/x/mod/sumdb/note (what
 * witnesses use) under the note_key network.json publishes; the Go program
 * is built offline from Debian's packages. */
static void check_note(void)
{
	char *cp = NULL;
	size_t cl = 0;
	assert_int_equal(http("GET", "/checkpoint", NULL, 0, &cp, &cl), 200);
	char p[900];
	snprintf(p, sizeof p, "%s/network.json", dir);
	json_t *net = json_load_file(p, 0, NULL);
	assert_non_null(net);
	const char *vkey = NULL;
	json_t *ents = json_object_get(net, "entities");
	for (size_t i = 0; i < json_array_size(ents); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(ents, i), "id")),
		            "logger1"))
			vkey =
			    json_string_value(json_object_get(json_array_get(ents, i), "note_key"));
	assert_non_null(vkey);
	for (const char *c = vkey; *c; c++) /* it goes on a shell command line */
		assert_non_null(strchr(
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=.:", *c));
	snprintf(p, sizeof p, "%s/checkpoint.txt", tmp_root);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(cp, 1, cl, f), cl);
	fclose(f);
	char cmd[4096], out[512], errb[2048];
	snprintf(cmd, sizeof cmd,
	         "cd '%s/tests/go/notecheck' && GO111MODULE=off GOPATH=/usr/share/gocode GOENV=off GOPROXY=off "
	         "GOCACHE='%s/gocache' GOFLAGS= go build -o '%s/notecheck' . && "
	         "'%s/notecheck' '%s' < '%s'",
	         CTNG_SOURCE_DIR, tmp_root, tmp_root, tmp_root, vkey, p);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	size_t ol = 0;
	int st = ctng_test_run(argv, out, sizeof out, &ol, errb, sizeof errb, 120000);
	if (st != 0)
		fprintf(stderr, "notecheck: %s\n%s\n", errb, cp);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, ctng_entity_origin(lg_cfg.self)));
	json_decref(net);
	free(cp);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ctng_it_logger_%d_XXXXXX", (int)getpid());
	assert_non_null(mkdtemp(dir));
	snprintf(tmp_root, sizeof tmp_root, "%s", dir);
	char net[700], port[16];
	snprintf(net, sizeof net, "%s/net", dir);
	snprintf(port, sizeof port, "%u",
	         (unsigned)ctng_test_free_port_base(ctng_test_net_ports, CTNG_TEST_NET_PORTS));
	char *argv[] = {CTNG_BIN, "init",        "--dealer", "--dir",       net,  "--period-ms",
	                "1000",   "--loggers",   "1",        "--cas",       "1",  "--monitors",
	                "1",      "--threshold", "1",        "--port-base", port, NULL};
	assert_int_equal(run_wait(argv), 0);
	if (strlen(net) >= sizeof dir)
		return -1;
	memcpy(dir, net, strlen(net) + 1);
	char p[800];
	ctng_err e = {0};
	snprintf(p, sizeof p, "%s/ca1/config.json", dir);
	assert_int_equal(ctng_node_config_load(p, &ca_cfg, &e), 0);
	snprintf(p, sizeof p, "%s/logger1/config.json", dir);
	assert_int_equal(ctng_node_config_load(p, &lg_cfg, &e), 0);
	assert_int_equal(ctng_cert_from_pem(ca_cfg.self->root_cert_pem,
	                                    strlen(ca_cfg.self->root_cert_pem), &root, NULL),
	                 0);
	assert_int_equal(ctng_sig_key_id(lg_cfg.self->key, log_id, NULL), 0);
	snprintf(base_url, sizeof base_url, "%s", lg_cfg.self->url);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(root);
	ctng_node_config_free(&ca_cfg);
	ctng_node_config_free(&lg_cfg);
	/* Only ever the folder mkdtemp made (empty if setup failed before it):
	 * never a parent derived from another path. */
	if (tmp_root[0] && ctng_test_rm_rf(tmp_root) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp_root);
	tmp_root[0] = 0;
	return 0;
}

/* ------------------------------------------------ burst with a SIGKILL */

typedef struct burst {
	ctng_net_loop *loop;
	X509 **certs;
	sct_rec *recs;
	bool *acked;
	char **bodies;
	char url[CTNG_URL_MAX + 64];
	size_t n, next, answered, acks, kill_after;
	pid_t pid;
	bool killed;
} burst;

static void burst_send(burst *b);

typedef struct breq {
	burst *b;
	size_t i;
} breq;

static void burst_cb(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	breq *r = arg;
	burst *b = r->b;
	if (!err && status == 200) {
		b->recs[r->i] = check_sct((const char *)body, len, b->certs[r->i], false);
		b->acked[r->i] = true;
		b->acks++;
	}
	if (!b->killed && b->acks >= b->kill_after) {
		kill(b->pid, SIGKILL);
		b->killed = true;
	}
	free(r);
	if (++b->answered == b->n)
		ctng_net_loop_stop(b->loop);
	else
		burst_send(b);
}

/* Sends the next submission of the burst (a window of a few in flight). */
static void burst_send(burst *b)
{
	if (b->next >= b->n)
		return;
	breq *r = malloc(sizeof(*r));
	*r = (breq){b, b->next};
	const char *body = b->bodies[b->next++];
	ctng_net_client_opts co = {.timeout_ms = 10000, .content_type = "application/json"};
	assert_int_equal(
	    ctng_net_request(b->loop, "POST", b->url, body, strlen(body), &co, burst_cb, r, NULL),
	    0);
}

static void test_logger_daemon(void **state)
{
	(void)state;
	pid_t pid = ctng_test_spawn_node(dir, "logger1", NULL);
	assert_true(pid > 0);
	wait_ready();

	/* Roots */
	json_t *j = get_json("/ct/v1/get-roots", 200);
	assert_int_equal(json_array_size(json_object_get(j, "certificates")), 1);
	json_decref(j);

	/* Submissions: plain and pre-certificates. */
	enum { K = 12 };
	sct_rec recs[K];
	X509 *certs[K];
	for (int i = 0; i < K; i++) {
		char name[64];
		snprintf(name, sizeof name, "site%d.example.org", i);
		certs[i] = issue(name, i % 3 == 2);
		recs[i] = submit(certs[i], i % 3 == 2);
	}
	/* A duplicate returns the same SCT. */
	sct_rec again = submit(certs[0], false);
	assert_int_equal(again.ts, recs[0].ts);

	/* Bad input: 4xx with a reason, nothing stored, logger keeps serving. */
	char *out = NULL;
	assert_int_equal(http("POST", "/ct/v1/add-chain", "{\"chain\":", 9, &out, NULL), 400);
	assert_non_null(strstr(out, "error"));
	free(out);
	assert_int_equal(http("POST", "/ct/v1/add-chain", "{\"chain\":[\"!!\"]}", 16, NULL, NULL),
	                 400);
	ctng_sig_key *ok = lg_key(), *bk = lg_key();
	X509 *stranger = lg_make_cert("Stranger CA", bk, NULL, bk, true, false);
	X509 *alien = lg_make_cert("alien.example.org", ok, stranger, bk, false, false);
	char *ab = lg_chain_body(&alien, 1);
	assert_int_equal(http("POST", "/ct/v1/add-chain", ab, strlen(ab), NULL, NULL), 400);
	free(ab);
	X509_free(alien);
	X509_free(stranger);
	ctng_sig_key_free(ok);
	ctng_sig_key_free(bk);
	size_t big_len = CTNG_LOGGER_MAX_BODY + 100;
	char *big = malloc(big_len);
	memset(big, 'A', big_len);
	assert_int_equal(http("POST", "/ct/v1/add-chain", big, big_len, NULL, NULL), 413);
	free(big);
	json_decref(get_json("/ct/v1/get-entries?start=5&end=1", 400));
	json_decref(get_json("/ct/v1/get-entries?start=x&end=1", 400));
	json_decref(get_json("/ct/v1/get-proof-by-hash?hash=abc&tree_size=1", 400));
	json_decref(get_json("/ctng/v1/sth?period=999999999", 404));
	json_decref(get_json("/ctng/v1/sth?period=-1", 400));
	assert_int_equal(http("GET", "/tile/0/x001", NULL, 0, NULL, NULL), 400);
	assert_int_equal(http("GET", "/issuer/zz", NULL, 0, NULL, NULL), 400);

	/* Cross into the period after the last SCT and verify everything. */
	ctng_sth s1 = wait_tree(K);
	assert_int_equal(s1.tree_size, K);
	uint64_t p1;
	assert_true(ctng_clock_period_of(&lg_cfg.net.clock, s1.timestamp_ms, &p1));
	for (int i = 0; i < K; i++) {
		assert_true(recs[i].ts < s1.timestamp_ms);
		check_inclusion(&recs[i], &s1);
	}
	/* CTng STH object of that period equals get-sth. */
	ctng_sth cs;
	char *obj1 = ctng_sth_of(p1, &cs);
	assert_int_equal(cs.tree_size, s1.tree_size);
	assert_memory_equal(cs.root, s1.root, 32);
	/* CTng proof for the CA */
	{
		char *h = url_b64(recs[4].leaf_hash), path[512];
		snprintf(path, sizeof path, "/ctng/v1/proof?period=%llu&hash=%s",
		         (unsigned long long)p1, h);
		free(h);
		j = get_json(path, 200);
		ctng_gossip_object o = {0};
		assert_int_equal(ctng_gossip_from_json(json_object_get(j, "sth"), &o, NULL), 0);
		assert_int_equal(
		    ctng_gossip_verify_signed(&o, lg_cfg.self->key, &lg_cfg.net.clock, NULL), 0);
		ctng_sth ps;
		assert_int_equal(ctng_sth_from_object(&o, &ps, NULL), 0);
		uint8_t p[CTNG_MERKLE_MAX_PROOF][32];
		size_t n;
		path_from_json(json_object_get(j, "audit_path"), p, &n);
		assert_int_equal(ctng_merkle_verify_inclusion(
		                     recs[4].leaf_hash,
		                     (uint64_t)json_integer_value(json_object_get(j, "leaf_index")),
		                     ps.tree_size, ps.root, (const uint8_t(*)[32])p, n, NULL),
		                 0);
		ctng_gossip_clear(&o);
		json_decref(j);
	}
	/* get-entries: every leaf hashes to what the SCT promised */
	j = get_json("/ct/v1/get-entries?start=0&end=99", 200);
	json_t *ents = json_object_get(j, "entries");
	assert_int_equal(json_array_size(ents), K);
	uint8_t hashes[K][32];
	for (int i = 0; i < K; i++) {
		const char *li =
		    json_string_value(json_object_get(json_array_get(ents, i), "leaf_input"));
		uint8_t *leaf = NULL;
		size_t ll = 0;
		assert_int_equal(ctng_b64_decode_alloc(li, strlen(li), &leaf, &ll, NULL), 0);
		assert_int_equal(ctng_merkle_leaf_hash(hashes[i], leaf, ll), 0);
		free(leaf);
		bool found = false;
		for (int k = 0; k < K; k++)
			found |= !memcmp(hashes[i], recs[k].leaf_hash, 32);
		assert_true(found);
	}
	json_decref(j);
	/* Tile: the partial level-0 tile is exactly those hashes; its root is the STH's. */
	{
		char path[64], *tile = NULL;
		size_t tl = 0;
		snprintf(path, sizeof path, "/tile/0/000.p/%d", K);
		assert_int_equal(http("GET", path, NULL, 0, &tile, &tl), 200);
		assert_int_equal(tl, K * 32);
		assert_memory_equal(tile, hashes, tl);
		uint8_t r[32];
		assert_int_equal(ctng_merkle_root((const uint8_t(*)[32])tile, K, K, r, NULL), 0);
		assert_memory_equal(r, s1.root, 32);
		free(tile);
		snprintf(path, sizeof path, "/tile/data/000.p/%d", K);
		assert_int_equal(http("GET", path, NULL, 0, &tile, &tl), 200);
		assert_true(tl > K * 40);
		free(tile);
		assert_int_equal(http("GET", "/tile/0/000", NULL, 0, NULL, NULL), 404);
	}
	/* Checkpoint agrees with get-sth. */
	{
		char *cp = NULL, want[200], r64[64];
		assert_int_equal(http("GET", "/checkpoint", NULL, 0, &cp, NULL), 200);
		ctng_b64_encode(r64, s1.root, 32);
		const char *origin = lg_cfg.self->url + strlen("http://");
		snprintf(want, sizeof want, "%s\n%d\n%s\n\n\xe2\x80\x94 %s ", origin, K, r64,
		         origin);
		assert_int_equal(strncmp(cp, want, strlen(want)), 0);
		free(cp);
	}

	/* Pending submissions acknowledged, then SIGKILL before the next period
	 * and during a burst of concurrent submissions. */
	sct_rec extra[3];
	X509 *ecerts[3];
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "after%d.example.org", i);
		ecerts[i] = issue(name, false);
		extra[i] = submit(ecerts[i], false);
	}
	enum { B = 60 };
	burst b = {.n = B, .kill_after = 20, .pid = pid};
	b.certs = calloc(B, sizeof(X509 *));
	b.recs = calloc(B, sizeof(sct_rec));
	b.acked = calloc(B, sizeof(bool));
	ctng_err e = {0};
	b.loop = ctng_net_loop_new(&e);
	assert_non_null(b.loop);
	snprintf(b.url, sizeof b.url, "%s/ct/v1/add-chain", base_url);
	b.bodies = calloc(B, sizeof(char *));
	for (size_t i = 0; i < B; i++) {
		char name[64];
		snprintf(name, sizeof name, "burst%zu.example.org", i);
		b.certs[i] = issue(name, false);
		b.bodies[i] = lg_chain_body(&b.certs[i], 1);
	}
	for (int i = 0; i < 4; i++)
		burst_send(&b);
	assert_int_equal(ctng_net_loop_run(b.loop, &e), 0);
	ctng_net_loop_free(b.loop);
	if (!b.killed)
		kill(pid, SIGKILL);
	fprintf(stderr, "burst: %zu of %d acknowledged before and around SIGKILL\n", b.acks, B);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));

	/* Restart: published STHs unchanged, acknowledged entries all there. */
	pid = ctng_test_spawn_node(dir, "logger1", NULL);
	assert_true(pid > 0);
	wait_ready();
	char *obj1b = ctng_sth_of(p1, NULL);
	assert_string_equal(obj1, obj1b);
	free(obj1b);
	size_t want = K + 3 + b.acks;
	ctng_sth s2 = wait_tree(want);
	check_consistency(&s1, &s2);
	for (int i = 0; i < K; i++)
		check_inclusion(&recs[i], &s2);
	for (int i = 0; i < 3; i++)
		check_inclusion(&extra[i], &s2);
	for (size_t i = 0; i < B; i++)
		if (b.acked[i])
			check_inclusion(&b.recs[i], &s2);
	/* And the next STH after that is consistent too. */
	X509 *last = issue("last.example.org", false);
	sct_rec lr = submit(last, false);
	ctng_sth s3 = wait_tree(s2.tree_size + 1);
	check_consistency(&s2, &s3);
	check_inclusion(&lr, &s3);
	X509_free(last);
	check_data_tile(s3.tree_size);
	check_note();

	/* Clean stop on SIGTERM. */
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	free(obj1);
	for (int i = 0; i < K; i++)
		X509_free(certs[i]);
	for (int i = 0; i < 3; i++)
		X509_free(ecerts[i]);
	for (size_t i = 0; i < B; i++) {
		X509_free(b.certs[i]);
		free(b.bodies[i]);
	}
	free(b.bodies);
	free(b.certs);
	free(b.recs);
	free(b.acked);
}

/* A silent logger never answers /ctng/v1 (the client times out) but still
 * serves the RFC 6962 API. */
static void test_logger_silent(void **state)
{
	(void)state;
	char p[800];
	snprintf(p, sizeof p, "%s/logger1/config.json", dir);
	ctng_misbehaviour m = {.present = true, .silent = true};
	ctng_err e = {0};
	assert_int_equal(ctng_node_config_set_misbehaviour(p, &m, &e), 0);
	pid_t pid = ctng_test_spawn_node(dir, "logger1", NULL);
	assert_true(pid > 0);
	wait_ready();
	char url[CTNG_URL_MAX + 64];
	snprintf(url, sizeof url, "%s/ctng/v1/sth?period=1&monitor=monitor1", base_url);
	int status = 0;
	int rc = ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 700, &status, NULL, NULL, &e);
	assert_int_equal(rc, CTNG_ETIMEOUT);
	assert_int_equal(http("GET", "/ct/v1/get-sth", NULL, 0, NULL, NULL), 200);
	kill(pid, SIGTERM);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(ctng_node_config_set_misbehaviour(p, NULL, &e), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ctng_log_set_level(CTNG_LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_logger_daemon),
	    cmocka_unit_test(test_logger_silent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
