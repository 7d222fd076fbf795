/*
 * test_logger.c — unit tests of the logger module without network: chain
 * validation and the add-chain parser (every kind of bad input), SCTs checked
 * with ECDSA over independently built RFC 6962 bytes, duplicates (also inside
 * one group commit), integration at period start with STHs verified and
 * proofs checked by the merkle verifiers, read-API ranges, checkpoint and
 * tiles, the CTng STH object and proof, split view and silence, reopening
 * a file database (no STH is re-signed), and the group commit in its steps
 * (sequencing, signing, storing through a second handle, ending; batches
 * not stored and commits that fail give their indexes again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/objects.h>

#include "ctng/logger.h"
#include "ctng/merkle.h"
#include "lg_certs.h"

#define PERIOD 1000

typedef struct fx {
	ctng_sig_key *log_key, *ca_key, *other_key, *int_key;
	X509 *root, *other_root, *inter;
	char *root_pem;
	ctng_store *store;
	ctng_logger *lg;
	ctng_clock clock;
	uint64_t t0; /* a time inside period 5 */
	char dbpath[256];
} fx;

static int open_logger(fx *f, const ctng_misbehaviour *mis)
{
	const char *roots[1] = {f->root_pem};
	ctng_logger_params p = {.id = "logger1",
	                        .origin = "127.0.0.1:9000",
	                        .key = f->log_key,
	                        .clock = f->clock,
	                        .root_pems = roots,
	                        .n_roots = 1,
	                        .mis = mis};
	ctng_err e = {0};
	int rc = ctng_logger_open(f->store, &p, &f->lg, &e);
	if (rc)
		fprintf(stderr, "open: %s\n", e.msg);
	return rc;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	f->log_key = lg_key();
	f->ca_key = lg_key();
	f->other_key = lg_key();
	f->int_key = lg_key();
	f->root = lg_make_cert("Test Root CA", f->ca_key, NULL, f->ca_key, true, false);
	f->other_root = lg_make_cert("Other Root", f->other_key, NULL, f->other_key, true, false);
	f->inter = lg_make_cert("Test Intermediate", f->int_key, f->root, f->ca_key, true, false);
	f->root_pem = lg_pem(f->root);
	assert_non_null(f->root_pem);
	f->clock = (ctng_clock){.genesis_ms = 1700000000000ull,
	                        .period_ms = PERIOD,
	                        .query_offset_ms = 100,
	                        .gossip_wait_ms = 200,
	                        .update_offset_ms = 800};
	f->t0 = f->clock.genesis_ms + 5 * PERIOD + 10;
	snprintf(f->dbpath, sizeof f->dbpath, "/tmp/ctng_test_logger_%d.db", (int)getpid());
	unlink(f->dbpath);
	f->store = ctng_store_open(":memory:", NULL);
	assert_non_null(f->store);
	assert_int_equal(open_logger(f, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ctng_logger_free(f->lg);
	ctng_store_close(f->store);
	X509_free(f->root);
	X509_free(f->other_root);
	X509_free(f->inter);
	free(f->root_pem);
	ctng_sig_key_free(f->log_key);
	ctng_sig_key_free(f->ca_key);
	ctng_sig_key_free(f->other_key);
	ctng_sig_key_free(f->int_key);
	char buf[300];
	unlink(f->dbpath);
	snprintf(buf, sizeof buf, "%s-wal", f->dbpath);
	unlink(buf);
	snprintf(buf, sizeof buf, "%s-shm", f->dbpath);
	unlink(buf);
	free(f);
	return 0;
}

/* A leaf issued by the root (chain [leaf] or [leaf, root]). */
static char *leaf_body(fx *f, const char *name, bool with_root, bool precert, X509 **leaf_out)
{
	ctng_sig_key *k = lg_key();
	X509 *leaf = lg_make_cert(name, k, f->root, f->ca_key, false, precert);
	ctng_sig_key_free(k);
	X509 *chain[2] = {leaf, f->root};
	char *body = lg_chain_body(chain, with_root ? 2 : 1);
	if (leaf_out)
		*leaf_out = leaf;
	else
		X509_free(leaf);
	return body;
}

static ctng_logger_sub *submit(fx *f, const char *body, bool precert, uint64_t now)
{
	ctng_logger_sub *s = NULL;
	ctng_err e = {0};
	int rc = ctng_logger_add_chain(f->lg, body, strlen(body), precert, now, &s, &e);
	if (rc)
		fprintf(stderr, "add-chain: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_true(ctng_logger_sub_durable(s));
	return s;
}

/* Checks an SCT against independently built RFC 6962 §3.2 bytes. */
static void check_sct(fx *f, ctng_logger_sub *s, X509 *leaf, X509 *issuer, bool precert)
{
	ctng_ct_entry ent = {0};
	uint8_t *der = NULL, *ider = NULL;
	size_t len = 0, ilen = 0;
	assert_int_equal(ctng_cert_to_der(leaf, &der, &len, NULL), 0);
	if (precert) {
		assert_int_equal(ctng_cert_to_der(issuer, &ider, &ilen, NULL), 0);
		assert_int_equal(ctng_ct_entry_precert(der, len, ider, ilen, &ent, NULL), 0);
	} else {
		assert_int_equal(ctng_ct_entry_x509(der, len, &ent, NULL), 0);
	}
	ctng_buf tbs = {0};
	uint64_t ts = ctng_logger_sub_timestamp(s);
	/* the static-ct-api leaf_index extension, built independently */
	uint64_t idx = ctng_logger_sub_index(s);
	uint8_t ext[8] = {0, 0, 5};
	for (int i = 0; i < 5; i++)
		ext[3 + i] = (uint8_t)(idx >> (8 * (4 - i)));
	size_t el = 0;
	const uint8_t *got = ctng_logger_sub_extensions(s, &el);
	assert_int_equal(el, sizeof ext);
	assert_memory_equal(got, ext, sizeof ext);
	assert_int_equal(ctng_ct_sct_signed_bytes(&ent, ts, ext, sizeof ext, &tbs, NULL), 0);
	size_t sl = 0;
	const uint8_t *ds = ctng_logger_sub_signature(s, &sl);
	const uint8_t *raw = NULL;
	size_t raw_len = 0;
	assert_int_equal(ctng_digitally_signed_decode(ds, sl, &raw, &raw_len, NULL), 0);
	assert_int_equal(ctng_sig_verify(f->log_key, tbs.data, tbs.len, raw, raw_len, NULL), 0);
	/* a different timestamp must not verify */
	ctng_buf bad = {0};
	assert_int_equal(ctng_ct_sct_signed_bytes(&ent, ts + 1, ext, sizeof ext, &bad, NULL), 0);
	assert_int_equal(ctng_sig_verify(f->log_key, bad.data, bad.len, raw, raw_len, NULL),
	                 CTNG_EVERIFY);
	/* the leaf hash the log will use */
	uint8_t lh[32];
	assert_int_equal(ctng_ct_leaf_hash(&ent, ts, ext, sizeof ext, lh, NULL), 0);
	assert_memory_equal(lh, ctng_logger_sub_leaf_hash(s), 32);
	ctng_buf_free(&tbs);
	ctng_buf_free(&bad);
	ctng_ct_entry_clear(&ent);
	free(der);
	free(ider);
}

/* Verifies the latest STH (get-sth JSON) and returns it. */
static ctng_sth check_get_sth(fx *f)
{
	json_t *j = NULL;
	assert_int_equal(ctng_logger_get_sth(f->lg, &j, NULL), 0);
	ctng_sth sth;
	sth.tree_size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
	sth.timestamp_ms = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
	assert_int_equal(
	    ctng_b64_decode_exact(sth.root, 32,
	                          json_string_value(json_object_get(j, "sha256_root_hash")), NULL),
	    0);
	const char *sig64 = json_string_value(json_object_get(j, "tree_head_signature"));
	uint8_t *ds = NULL;
	size_t dl = 0;
	assert_int_equal(ctng_b64_decode_alloc(sig64, strlen(sig64), &ds, &dl, NULL), 0);
	const uint8_t *raw;
	size_t rl;
	assert_int_equal(ctng_digitally_signed_decode(ds, dl, &raw, &rl, NULL), 0);
	uint8_t tbs[CTNG_STH_TBS_LEN];
	ctng_sth_tbs(&sth, tbs);
	assert_int_equal(ctng_sig_verify(f->log_key, tbs, sizeof tbs, raw, rl, NULL), 0);
	free(ds);
	json_decref(j);
	return sth;
}

static void check_inclusion(fx *f, const uint8_t leaf_hash[32], const ctng_sth *sth)
{
	json_t *j = NULL;
	ctng_err e = {0};
	int rc = ctng_logger_get_proof_by_hash(f->lg, leaf_hash, sth->tree_size, &j, &e);
	if (rc)
		fprintf(stderr, "proof: %s\n", e.msg);
	assert_int_equal(rc, 0);
	uint64_t idx = (uint64_t)json_integer_value(json_object_get(j, "leaf_index"));
	json_t *path = json_object_get(j, "audit_path");
	size_t n = json_array_size(path);
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	assert_true(n <= CTNG_MERKLE_MAX_PROOF);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ctng_b64_decode_exact(proof[i], 32,
		                                       json_string_value(json_array_get(path, i)),
		                                       NULL),
		                 0);
	assert_int_equal(ctng_merkle_verify_inclusion(leaf_hash, idx, sth->tree_size, sth->root,
	                                              (const uint8_t(*)[32])proof, n, NULL),
	                 0);
	json_decref(j);
}

static void test_submit_integrate(void **state)
{
	fx *f = *state;
	/* Before the first tick there is no STH. */
	json_t *j = NULL;
	assert_int_equal(ctng_logger_get_sth(f->lg, &j, NULL), CTNG_ENOTFOUND);
	bool pub = false;
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, &pub, NULL), 0);
	assert_true(pub);
	ctng_sth s0 = check_get_sth(f);
	assert_int_equal(s0.tree_size, 0);
	assert_int_equal(s0.timestamp_ms, ctng_clock_period_start(&f->clock, 5));
	/* A second tick in the same period publishes nothing new. */
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + 500, &pub, NULL), 0);
	assert_false(pub);

	ctng_logger_sub *subs[5];
	X509 *leaves[5];
	for (int i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof name, "host%d.example.com", i);
		char *body = leaf_body(f, name, i % 2, false, &leaves[i]);
		subs[i] = submit(f, body, false, f->t0 + 100 + (uint64_t)i);
		check_sct(f, subs[i], leaves[i], f->root, false);
		free(body);
	}
	/* Intermediate chain: leaf <- inter <- root (root not sent). */
	ctng_sig_key *k = lg_key();
	X509 *leaf = lg_make_cert("deep.example.com", k, f->inter, f->int_key, false, false);
	X509 *chain[2] = {leaf, f->inter};
	char *body = lg_chain_body(chain, 2);
	ctng_logger_sub *deep = submit(f, body, false, f->t0 + 200);
	check_sct(f, deep, leaf, f->inter, false);
	free(body);
	X509_free(leaf);
	ctng_sig_key_free(k);

	uint64_t pending = 0;
	assert_int_equal(ctng_logger_pending_count(f->lg, &pending, NULL), 0);
	assert_int_equal(pending, 6);
	assert_int_equal(ctng_logger_tree_size(f->lg), 0);
	/* Not yet integrated: no proof. */
	assert_int_equal(
	    ctng_logger_get_proof_by_hash(f->lg, ctng_logger_sub_leaf_hash(subs[0]), 1, &j, NULL),
	    CTNG_ERANGE);

	/* Period 6 starts: everything submitted in 5 is integrated. */
	uint64_t t6 = ctng_clock_period_start(&f->clock, 6);
	assert_int_equal(ctng_logger_tick(f->lg, t6 + 3, &pub, NULL), 0);
	assert_true(pub);
	ctng_sth s1 = check_get_sth(f);
	assert_int_equal(s1.tree_size, 6);
	assert_int_equal(s1.timestamp_ms, t6);
	assert_int_equal(ctng_logger_pending_count(f->lg, &pending, NULL), 0);
	assert_int_equal(pending, 0);
	for (int i = 0; i < 5; i++)
		check_inclusion(f, ctng_logger_sub_leaf_hash(subs[i]), &s1);
	check_inclusion(f, ctng_logger_sub_leaf_hash(deep), &s1);
	/* Each SCT's leaf_index is where the entry landed (in submission order). */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ctng_logger_sub_index(subs[i]), (uint64_t)i);
		assert_int_equal(ctng_logger_get_proof_by_hash(
		                     f->lg, ctng_logger_sub_leaf_hash(subs[i]), 6, &j, NULL),
		                 0);
		assert_int_equal(json_integer_value(json_object_get(j, "leaf_index")), i);
		json_decref(j);
	}
	assert_int_equal(ctng_logger_sub_index(deep), 5);

	/* get-entries gives the leaves back, in order, and extra_data. */
	assert_int_equal(ctng_logger_get_entries(f->lg, 0, 100, &j, NULL), 0);
	json_t *ents = json_object_get(j, "entries");
	assert_int_equal(json_array_size(ents), 6);
	for (size_t i = 0; i < 5; i++) {
		uint8_t *li = NULL;
		size_t ll = 0, sl = 0;
		const char *s =
		    json_string_value(json_object_get(json_array_get(ents, i), "leaf_input"));
		assert_int_equal(ctng_b64_decode_alloc(s, strlen(s), &li, &ll, NULL), 0);
		const uint8_t *want = ctng_logger_sub_leaf(subs[i], &sl);
		assert_int_equal(ll, sl);
		assert_memory_equal(li, want, sl);
		free(li);
		/* extra_data: one certificate (the root), whether sent or not */
		s = json_string_value(json_object_get(json_array_get(ents, i), "extra_data"));
		assert_int_equal(ctng_b64_decode_alloc(s, strlen(s), &li, &ll, NULL), 0);
		uint8_t *rd = NULL;
		size_t rl = 0;
		assert_int_equal(ctng_cert_to_der(f->root, &rd, &rl, NULL), 0);
		assert_int_equal(ll, 6 + rl);
		assert_memory_equal(li + 6, rd, rl);
		free(rd);
		free(li);
	}
	json_decref(j);

	/* More entries in period 6, then period 9 (periods 7, 8 missed). */
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "late%d.example.com", i);
		char *b = leaf_body(f, name, true, false, NULL);
		ctng_logger_sub *s = submit(f, b, false, t6 + 50);
		ctng_logger_sub_free(s);
		free(b);
	}
	uint64_t t9 = ctng_clock_period_start(&f->clock, 9);
	assert_int_equal(ctng_logger_tick(f->lg, t9 + 400, &pub, NULL), 0);
	ctng_sth s2 = check_get_sth(f);
	assert_int_equal(s2.tree_size, 9);
	assert_int_equal(s2.timestamp_ms, t9);
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_logger_sth_object(f->lg, 7, "monitor1", &o, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_logger_sth_object(f->lg, 9, "monitor1", &o, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&o, f->log_key, &f->clock, NULL), 0);
	assert_int_equal(o.period, 9);
	ctng_gossip_clear(&o);

	/* Consistency 6 -> 9 verifies with the merkle verifier. */
	assert_int_equal(ctng_logger_get_sth_consistency(f->lg, 6, 9, &j, NULL), 0);
	json_t *c = json_object_get(j, "consistency");
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = json_array_size(c);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ctng_b64_decode_exact(
		                     proof[i], 32, json_string_value(json_array_get(c, i)), NULL),
		                 0);
	assert_int_equal(ctng_merkle_verify_consistency(6, 9, s1.root, s2.root,
	                                                (const uint8_t(*)[32])proof, n, NULL),
	                 0);
	json_decref(j);

	/* The CTng proof endpoint: STH of period 6, proof of subs[2]. */
	assert_int_equal(
	    ctng_logger_period_proof(f->lg, 6, ctng_logger_sub_leaf_hash(subs[2]), &j, NULL), 0);
	assert_int_equal(ctng_gossip_from_json(json_object_get(j, "sth"), &o, NULL), 0);
	ctng_sth ps;
	assert_int_equal(ctng_sth_from_object(&o, &ps, NULL), 0);
	assert_int_equal(ps.tree_size, 6);
	assert_memory_equal(ps.root, s1.root, 32);
	uint64_t idx = (uint64_t)json_integer_value(json_object_get(j, "leaf_index"));
	json_t *path = json_object_get(j, "audit_path");
	n = json_array_size(path);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ctng_b64_decode_exact(proof[i], 32,
		                                       json_string_value(json_array_get(path, i)),
		                                       NULL),
		                 0);
	assert_int_equal(ctng_merkle_verify_inclusion(ctng_logger_sub_leaf_hash(subs[2]), idx, 6,
	                                              ps.root, (const uint8_t(*)[32])proof, n,
	                                              NULL),
	                 0);
	ctng_gossip_clear(&o);
	json_decref(j);
	/* Not in the tree of period 5 (empty). */
	assert_int_equal(
	    ctng_logger_period_proof(f->lg, 5, ctng_logger_sub_leaf_hash(subs[2]), &j, NULL),
	    CTNG_ENOTFOUND);

	for (int i = 0; i < 5; i++) {
		ctng_logger_sub_free(subs[i]);
		X509_free(leaves[i]);
	}
	ctng_logger_sub_free(deep);
}

static void test_precert(void **state)
{
	fx *f = *state;
	X509 *leaf = NULL;
	char *body = leaf_body(f, "pre.example.com", true, true, &leaf);
	/* add-chain refuses a precertificate, add-pre-chain takes it */
	ctng_logger_sub *s = NULL;
	ctng_err e = {0};
	assert_int_equal(ctng_logger_add_chain(f->lg, body, strlen(body), false, f->t0, &s, &e),
	                 CTNG_EINVAL);
	s = submit(f, body, true, f->t0);
	check_sct(f, s, leaf, f->root, true);
	ctng_logger_sub_free(s);
	free(body);
	X509_free(leaf);
	/* a precertificate issued by an intermediate: issuer_key_hash is the
	 * intermediate's */
	ctng_sig_key *k = lg_key();
	leaf = lg_make_cert("deep-pre.example.com", k, f->inter, f->int_key, false, true);
	X509 *chain[2] = {leaf, f->inter};
	body = lg_chain_body(chain, 2);
	s = submit(f, body, true, f->t0);
	check_sct(f, s, leaf, f->inter, true);
	ctng_logger_sub_free(s);
	free(body);
	X509_free(leaf);
	ctng_sig_key_free(k);
	/* add-pre-chain refuses a plain certificate */
	body = leaf_body(f, "plain.example.com", false, false, NULL);
	assert_int_equal(ctng_logger_add_chain(f->lg, body, strlen(body), true, f->t0, &s, &e),
	                 CTNG_EINVAL);
	free(body);
}

static void test_duplicates(void **state)
{
	fx *f = *state;
	char *body = leaf_body(f, "dup.example.com", true, false, NULL);
	ctng_logger_sub *a = submit(f, body, false, f->t0);
	ctng_logger_sub *b = submit(f, body, false, f->t0 + 700);
	assert_int_equal(ctng_logger_sub_timestamp(a), ctng_logger_sub_timestamp(b));
	size_t la, lb;
	const uint8_t *sa = ctng_logger_sub_signature(a, &la),
	              *sb = ctng_logger_sub_signature(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);
	/* The same body with JSON escapes ("\/", whitespace) is the same entry:
	 * the JSON parser reads what the fast body reader does not. */
	char *esc = malloc(2 * strlen(body) + 8), *o = esc;
	*o++ = ' ';
	for (const char *c = body; *c; c++) {
		if (*c == '/')
			*o++ = '\\';
		*o++ = *c;
	}
	strcpy(o, "\n");
	assert_non_null(strstr(esc, "\\/"));
	ctng_logger_sub *c = submit(f, esc, false, f->t0 + 800);
	assert_int_equal(ctng_logger_sub_timestamp(c), ctng_logger_sub_timestamp(a));
	assert_int_equal(ctng_logger_sub_index(c), ctng_logger_sub_index(a));
	ctng_logger_sub_free(c);
	free(esc);
	ctng_logger_sub_free(a);
	ctng_logger_sub_free(b);
	free(body);

	/* Two identical submissions in one group commit: one entry, one SCT. */
	body = leaf_body(f, "batch.example.com", false, false, NULL);
	ctng_logger_sub *p[3] = {0};
	for (int i = 0; i < 2; i++)
		assert_int_equal(ctng_logger_prepare(f->lg, body, strlen(body), false,
		                                     f->t0 + 10 + (uint64_t)i, &p[i], NULL),
		                 0);
	char *other = leaf_body(f, "batch2.example.com", false, false, NULL);
	assert_int_equal(
	    ctng_logger_prepare(f->lg, other, strlen(other), false, f->t0, &p[2], NULL), 0);
	assert_false(ctng_logger_sub_durable(p[0]));
	assert_int_equal(ctng_logger_commit(f->lg, p, 3, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_true(ctng_logger_sub_durable(p[i]));
	assert_int_equal(ctng_logger_sub_timestamp(p[0]), ctng_logger_sub_timestamp(p[1]));
	/* the duplicate took no index: no gap before the next entry */
	assert_int_equal(ctng_logger_sub_index(p[0]), ctng_logger_sub_index(p[1]));
	assert_int_equal(ctng_logger_sub_index(p[2]), ctng_logger_sub_index(p[0]) + 1);
	sa = ctng_logger_sub_signature(p[0], &la);
	sb = ctng_logger_sub_signature(p[1], &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);
	uint64_t pending = 0;
	assert_int_equal(ctng_logger_pending_count(f->lg, &pending, NULL), 0);
	assert_int_equal(pending, 3);
	for (int i = 0; i < 3; i++)
		ctng_logger_sub_free(p[i]);
	free(body);
	free(other);
}

static void test_restamp(void **state)
{
	fx *f = *state;
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	X509 *leaf = NULL;
	char *body = leaf_body(f, "edge.example.com", false, false, &leaf);
	ctng_logger_sub *s = NULL;
	assert_int_equal(
	    ctng_logger_prepare(f->lg, body, strlen(body), false, f->t0 + 980, &s, NULL), 0);
	assert_int_equal(ctng_logger_sub_timestamp(s), f->t0 + 980);
	/* period 6 starts before the commit */
	uint64_t t6 = ctng_clock_period_start(&f->clock, 6);
	assert_int_equal(ctng_logger_tick(f->lg, t6 + 1, NULL, NULL), 0);
	assert_int_equal(ctng_logger_tree_size(f->lg), 0);
	assert_int_equal(ctng_logger_commit(f->lg, &s, 1, NULL), 0);
	assert_int_equal(ctng_logger_sub_timestamp(s), t6);
	check_sct(f, s, leaf, f->root, false);
	assert_int_equal(ctng_logger_tick(f->lg, t6 + PERIOD, NULL, NULL), 0);
	ctng_sth sth = check_get_sth(f);
	assert_int_equal(sth.tree_size, 1);
	check_inclusion(f, ctng_logger_sub_leaf_hash(s), &sth);
	ctng_logger_sub_free(s);
	X509_free(leaf);
	free(body);
}

static void expect_reject(fx *f, const char *body, bool precert, int code)
{
	ctng_logger_sub *s = NULL;
	ctng_err e = {0};
	int rc = ctng_logger_add_chain(f->lg, body, strlen(body), precert, f->t0, &s, &e);
	if (rc != code)
		fprintf(stderr, "body %.60s: got %d (%s), want %d\n", body, rc, e.msg, code);
	assert_int_equal(rc, code);
	assert_null(s);
	assert_true(strlen(e.msg) > 0);
}

static void test_bad_input(void **state)
{
	fx *f = *state;
	expect_reject(f, "", false, CTNG_EINVAL);
	expect_reject(f, "{", false, CTNG_EINVAL);
	expect_reject(f, "[]", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":[]}", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":\"abc\"}", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":[1]}", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":[\"@@@@\"]}", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":[\"AAAA\"]}", false, CTNG_EINVAL); /* not DER */
	expect_reject(f, "{\"chain\":[\"\"]}", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":[\"AAAA\"],\"x\":1}", false, CTNG_EINVAL);
	expect_reject(f, "{\"chain\":[\"AAAA\"],\"chain\":[\"AAAA\"]}", false, CTNG_EINVAL);
	/* too many certificates */
	char big[4096] = "{\"chain\":[";
	for (int i = 0; i < CTNG_LOGGER_MAX_CHAIN + 1; i++)
		strcat(big, i ? ",\"AAAA\"" : "\"AAAA\"");
	strcat(big, "]}");
	expect_reject(f, big, false, CTNG_EINVAL);
	/* chains to an unknown root */
	ctng_sig_key *k = lg_key();
	X509 *leaf = lg_make_cert("x.example.com", k, f->other_root, f->other_key, false, false);
	X509 *c1[2] = {leaf, f->other_root};
	char *body = lg_chain_body(c1, 2);
	expect_reject(f, body, false, CTNG_EVERIFY);
	free(body);
	body = lg_chain_body(c1, 1);
	expect_reject(f, body, false, CTNG_EVERIFY);
	free(body);
	/* a forged chain: leaf claims our root but is signed by another key */
	X509 *forged = lg_make_cert("f.example.com", k, f->root, f->other_key, false, false);
	body = lg_chain_body(&forged, 1);
	expect_reject(f, body, false, CTNG_EVERIFY);
	free(body);
	/* wrong order */
	X509 *good = lg_make_cert("g.example.com", k, f->root, f->ca_key, false, false);
	X509 *c2[2] = {f->root, good};
	body = lg_chain_body(c2, 2);
	expect_reject(f, body, false, CTNG_EVERIFY);
	free(body);
	/* only a root */
	body = lg_chain_body(&f->root, 1);
	expect_reject(f, body, false, CTNG_EINVAL);
	free(body);
	/* trailing garbage after the DER */
	uint8_t *der = NULL;
	size_t len = 0;
	assert_int_equal(ctng_cert_to_der(good, &der, &len, NULL), 0);
	uint8_t *d2 = malloc(len + 1);
	memcpy(d2, der, len);
	d2[len] = 0;
	char *b64 = ctng_b64_strdup(d2, len + 1);
	char *tb = malloc(strlen(b64) + 32);
	sprintf(tb, "{\"chain\":[\"%s\"]}", b64);
	expect_reject(f, tb, false, CTNG_EINVAL);
	free(tb);
	free(b64);
	free(d2);
	free(der);
	X509_free(leaf);
	X509_free(forged);
	X509_free(good);
	ctng_sig_key_free(k);
	/* nothing stored */
	uint64_t pending = 1;
	assert_int_equal(ctng_logger_pending_count(f->lg, &pending, NULL), 0);
	assert_int_equal(pending, 0);
}

static void test_ranges(void **state)
{
	fx *f = *state;
	json_t *j = NULL;
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof name, "r%d.example.com", i);
		char *b = leaf_body(f, name, false, false, NULL);
		ctng_logger_sub_free(submit(f, b, false, f->t0));
		free(b);
	}
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD, NULL, NULL), 0);
	assert_int_equal(ctng_logger_tree_size(f->lg), 3);
	assert_int_equal(ctng_logger_get_entries(f->lg, 3, 5, &j, NULL), CTNG_ERANGE);
	assert_int_equal(ctng_logger_get_entries(f->lg, 2, 1, &j, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_logger_get_entries(f->lg, 1, 99, &j, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(j, "entries")), 2);
	json_decref(j);
	assert_int_equal(ctng_logger_get_entry_and_proof(f->lg, 3, 3, &j, NULL), CTNG_ERANGE);
	assert_int_equal(ctng_logger_get_entry_and_proof(f->lg, 0, 4, &j, NULL), CTNG_ERANGE);
	assert_int_equal(ctng_logger_get_entry_and_proof(f->lg, 0, 0, &j, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_logger_get_entry_and_proof(f->lg, 2, 3, &j, NULL), 0);
	assert_non_null(json_object_get(j, "leaf_input"));
	assert_int_equal(json_array_size(json_object_get(j, "audit_path")), 1);
	json_decref(j);
	assert_int_equal(ctng_logger_get_sth_consistency(f->lg, 2, 4, &j, NULL), CTNG_ERANGE);
	assert_int_equal(ctng_logger_get_sth_consistency(f->lg, 3, 2, &j, NULL), CTNG_EINVAL);
	uint8_t h[32] = {1};
	assert_int_equal(ctng_logger_get_proof_by_hash(f->lg, h, 3, &j, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_logger_get_proof_by_hash(f->lg, h, 9, &j, NULL), CTNG_ERANGE);
	uint8_t *d = NULL;
	size_t len = 0;
	assert_int_equal(ctng_logger_tile(f->lg, 0, 0, 4, &d, &len, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_logger_tile(f->lg, 0, 1, 1, &d, &len, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_logger_tile(f->lg, 1, 0, 1, &d, &len, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_logger_tile(f->lg, 0, 0, 0, &d, &len, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_logger_data_tile(f->lg, 0, 4, &d, &len, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_logger_tile(f->lg, 0, 0, 3, &d, &len, NULL), 0);
	assert_int_equal(len, 96);
	free(d);
}

/* Parses a TLS u16/u24 length-prefixed field at *p. */
static size_t rd_len(const uint8_t **p, int w)
{
	size_t v = 0;
	for (int i = 0; i < w; i++)
		v = (v << 8) | *(*p)++;
	return v;
}

static void test_tiles_checkpoint(void **state)
{
	fx *f = *state;
	enum { N = 300 };
	uint8_t(*hashes)[32] = calloc(N, 32);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	/* group commit of N submissions */
	ctng_logger_sub **p = calloc(N, sizeof(*p));
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof name, "t%d.example.com", i);
		char *b = leaf_body(f, name, i == 7, i % 3 == 0, NULL);
		assert_int_equal(
		    ctng_logger_prepare(f->lg, b, strlen(b), i % 3 == 0, f->t0, &p[i], NULL), 0);
		free(b);
	}
	assert_int_equal(ctng_logger_commit(f->lg, p, N, NULL), 0);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD, NULL, NULL), 0);
	ctng_sth sth = check_get_sth(f);
	assert_int_equal(sth.tree_size, N);
	/* Level-0 tiles hold the leaf hashes in submission order. */
	uint8_t *d = NULL;
	size_t len = 0;
	assert_int_equal(ctng_logger_tile(f->lg, 0, 0, 256, &d, &len, NULL), 0);
	assert_int_equal(len, 256 * 32);
	memcpy(hashes, d, len);
	free(d);
	assert_int_equal(ctng_logger_tile(f->lg, 0, 1, N - 256, &d, &len, NULL), 0);
	memcpy(hashes + 256, d, len);
	free(d);
	for (int i = 0; i < N; i++)
		assert_memory_equal(hashes[i], ctng_logger_sub_leaf_hash(p[i]), 32);
	uint8_t root[32];
	assert_int_equal(ctng_merkle_root((const uint8_t(*)[32])hashes, N, N, root, NULL), 0);
	assert_memory_equal(root, sth.root, 32);
	/* Data tile 0: 256 TileLeafs whose TimestampedEntry matches each leaf. */
	assert_int_equal(ctng_logger_data_tile(f->lg, 0, 256, &d, &len, NULL), 0);
	const uint8_t *q = d, *end = d + len;
	for (int i = 0; i < 256; i++) {
		size_t ll = 0;
		const uint8_t *leaf = ctng_logger_sub_leaf(p[i], &ll);
		assert_true((size_t)(end - q) >= ll - 2);
		assert_memory_equal(q, leaf + 2, ll - 2);
		q += ll - 2;
		if (i % 3 == 0) { /* pre_certificate */
			size_t n = rd_len(&q, 3);
			q += n;
		}
		size_t fps = rd_len(&q, 2);
		assert_int_equal(fps, 32); /* one issuer: the root */
		uint8_t *iss = NULL;
		size_t il = 0;
		assert_int_equal(ctng_logger_issuer(f->lg, q, &iss, &il, NULL), 0);
		uint8_t fp[32];
		unsigned int fl = 32;
		EVP_Digest(iss, il, fp, &fl, EVP_sha256(), NULL);
		assert_memory_equal(fp, q, 32);
		free(iss);
		q += fps;
	}
	assert_ptr_equal(q, end);
	free(d);

	/* Checkpoint: origin, size, root, blank, signature line. */
	char *text = NULL;
	assert_int_equal(ctng_logger_checkpoint(f->lg, &text, &len, NULL), 0);
	char want[256], root64[64];
	ctng_b64_encode(root64, sth.root, 32);
	snprintf(want, sizeof want, "127.0.0.1:9000\n%d\n%s\n\n\xe2\x80\x94 127.0.0.1:9000 ", N,
	         root64);
	assert_int_equal(strncmp(text, want, strlen(want)), 0);
	char *sigb64 = text + strlen(want);
	char *nl = strchr(sigb64, '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], 0);
	*nl = 0;
	uint8_t *sig = NULL;
	size_t sl = 0;
	assert_int_equal(ctng_b64_decode_alloc(sigb64, strlen(sigb64), &sig, &sl, NULL), 0);
	/* key id */
	uint8_t logid[32], kh[32];
	ctng_logger_log_id(f->lg, logid);
	ctng_buf kb = {0};
	ctng_buf_append(&kb, "127.0.0.1:9000\n\x05", 16);
	ctng_buf_append(&kb, logid, 32);
	unsigned int khl = 32;
	EVP_Digest(kb.data, kb.len, kh, &khl, EVP_sha256(), NULL);
	assert_memory_equal(sig, kh, 4);
	uint64_t ts = 0;
	for (int i = 0; i < 8; i++)
		ts = (ts << 8) | sig[4 + i];
	assert_int_equal(ts, sth.timestamp_ms);
	const uint8_t *raw;
	size_t rl;
	assert_int_equal(ctng_digitally_signed_decode(sig + 12, sl - 12, &raw, &rl, NULL), 0);
	uint8_t tbs[CTNG_STH_TBS_LEN];
	ctng_sth_tbs(&sth, tbs);
	assert_int_equal(ctng_sig_verify(f->log_key, tbs, sizeof tbs, raw, rl, NULL), 0);
	free(sig);
	free(text);
	ctng_buf_free(&kb);
	for (int i = 0; i < N; i++)
		ctng_logger_sub_free(p[i]);
	free(p);
	free(hashes);
}

static void test_split_view(void **state)
{
	fx *f = *state;
	ctng_logger_free(f->lg);
	char *targets[1] = {"monitor3"};
	ctng_misbehaviour mis = {
	    .present = true, .split_view = true, .split_targets = targets, .n_split_targets = 1};
	assert_int_equal(open_logger(f, &mis), 0);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	ctng_gossip_object a = {0}, b = {0}, c = {0};
	assert_int_equal(ctng_logger_sth_object(f->lg, 5, "monitor1", &a, NULL), 0);
	assert_int_equal(ctng_logger_sth_object(f->lg, 5, "monitor3", &b, NULL), 0);
	assert_int_equal(ctng_logger_sth_object(f->lg, 5, NULL, &c, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&a, f->log_key, &f->clock, NULL), 0);
	assert_int_equal(ctng_gossip_verify_signed(&b, f->log_key, &f->clock, NULL), 0);
	assert_true(ctng_gossip_conflicting(&a, &b));
	assert_true(ctng_gossip_equal(&a, &c));
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&c);
	assert_true(ctng_logger_answers(f->lg, 5));

	/* No targets: alternate between requesting monitors, stably. */
	ctng_logger_free(f->lg);
	mis.split_targets = NULL;
	mis.n_split_targets = 0;
	assert_int_equal(open_logger(f, &mis), 0);
	assert_int_equal(ctng_logger_sth_object(f->lg, 5, "monitor1", &a, NULL), 0);
	assert_int_equal(ctng_logger_sth_object(f->lg, 5, "monitor3", &b, NULL), 0);
	assert_int_equal(ctng_logger_sth_object(f->lg, 5, "monitor1", &c, NULL), 0);
	assert_true(ctng_gossip_conflicting(&a, &b));
	assert_true(ctng_gossip_equal(&a, &c));
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&c);

	/* Silence and answer_periods_mod. */
	ctng_logger_free(f->lg);
	ctng_misbehaviour quiet = {.present = true, .silent = true};
	assert_int_equal(open_logger(f, &quiet), 0);
	assert_false(ctng_logger_answers(f->lg, 4));
	ctng_logger_free(f->lg);
	ctng_misbehaviour mod = {.present = true, .answer_periods_mod = 3};
	assert_int_equal(open_logger(f, &mod), 0);
	assert_true(ctng_logger_answers(f->lg, 6));
	assert_false(ctng_logger_answers(f->lg, 7));
	ctng_logger_free(f->lg);
	assert_int_equal(open_logger(f, NULL), 0);
	assert_true(ctng_logger_answers(f->lg, 7));
}

static void test_reopen(void **state)
{
	fx *f = *state;
	ctng_logger_free(f->lg);
	ctng_store_close(f->store);
	f->store = ctng_store_open(f->dbpath, NULL);
	assert_non_null(f->store);
	assert_int_equal(open_logger(f, NULL), 0);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	char *b = leaf_body(f, "keep.example.com", false, false, NULL);
	ctng_logger_sub *s = submit(f, b, false, f->t0 + 1);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD, NULL, NULL), 0);
	ctng_gossip_object before = {0}, after = {0};
	assert_int_equal(ctng_logger_sth_object(f->lg, 6, NULL, &before, NULL), 0);
	/* an acknowledged but not yet integrated submission */
	char *b2 = leaf_body(f, "pending.example.com", false, false, NULL);
	ctng_logger_sub *s2 = submit(f, b2, false, f->t0 + PERIOD + 5);
	ctng_logger_free(f->lg);
	ctng_store_close(f->store);

	f->store = ctng_store_open(f->dbpath, NULL);
	assert_non_null(f->store);
	assert_int_equal(open_logger(f, NULL), 0);
	assert_int_equal(ctng_logger_tree_size(f->lg), 1);
	bool pub = true;
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD + 10, &pub, NULL), 0);
	assert_false(pub); /* the stored STH of period 6 is reused */
	assert_int_equal(ctng_logger_sth_object(f->lg, 6, NULL, &after, NULL), 0);
	assert_true(ctng_gossip_equal(&before, &after));
	/* the duplicate after restart gets the same SCT */
	ctng_logger_sub *s3 = submit(f, b2, false, f->t0 + 3 * PERIOD);
	assert_int_equal(ctng_logger_sub_timestamp(s3), ctng_logger_sub_timestamp(s2));
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + 2 * PERIOD, &pub, NULL), 0);
	assert_true(pub);
	ctng_sth s7 = check_get_sth(f);
	assert_int_equal(s7.tree_size, 2);
	check_inclusion(f, ctng_logger_sub_leaf_hash(s2), &s7);
	check_inclusion(f, ctng_logger_sub_leaf_hash(s), &s7);
	ctng_gossip_clear(&before);
	ctng_gossip_clear(&after);
	ctng_logger_sub_free(s);
	ctng_logger_sub_free(s2);
	ctng_logger_sub_free(s3);
	free(b);
	free(b2);
}

/* A precertificate issued by the root with a non-critical extension of
 * `pad` bytes (what a misbehaving or careless CA can sign). */
static char *big_precert_body(fx *f, int i, size_t pad)
{
	ctng_sig_key *k = lg_key();
	char name[64];
	snprintf(name, sizeof name, "big%d.example.com", i);
	X509 *leaf = lg_make_cert(name, k, f->root, f->ca_key, false, true);
	ctng_sig_key_free(k);
	assert_non_null(leaf);
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.55555.99", 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	uint8_t *junk = malloc(pad);
	memset(junk, 'x', pad);
	ASN1_OCTET_STRING_set(v, junk, (int)pad);
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, v);
	X509_add_ext(leaf, e, -1);
	assert_true(X509_sign(leaf, ctng_sig_key_evp(f->ca_key), EVP_sha256()) > 0);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(obj);
	free(junk);
	X509 *chain[1] = {leaf};
	char *body = lg_chain_body(chain, 1);
	X509_free(leaf);
	return body;
}

/* Red team (data availability): every data tile a logger serves must be one
 * that mirrors accept (CTNG_MIRROR_BUNDLE_MAX, 256 TileLeafs of at most
 * CTNG_TILE_LEAF_MAX). Otherwise one CA that submits ~140 large (but legal,
 * < CTNG_CERT_DER_MAX) precertificates makes a tile no mirror can fetch:
 * no STH_FULL for that logger ever again, and every honest monitor accuses
 * the honest logger of "data not served". The logger refuses such entries. */
static void test_tile_leaf_limit(void **state)
{
	fx *f = *state;
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	size_t accepted = 0;
	for (int i = 0; i < 150; i++) {
		char *b = big_precert_body(f, i, 60000);
		ctng_logger_sub *s = NULL;
		ctng_err e = {0};
		int rc = ctng_logger_add_chain(f->lg, b, strlen(b), true, f->t0, &s, &e);
		if (rc == 0) {
			accepted++;
		} else {
			assert_int_equal(rc, CTNG_EINVAL);
			assert_non_null(strstr(e.msg, "too large"));
		}
		ctng_logger_sub_free(s);
		free(b);
	}
	/* an ordinary precertificate with a few KiB of extensions still fits */
	char *b = big_precert_body(f, 1000, 4000);
	ctng_logger_sub_free(submit(f, b, true, f->t0));
	free(b);
	accepted++;
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD, NULL, NULL), 0);
	assert_int_equal(ctng_logger_tree_size(f->lg), accepted);
	uint8_t *d = NULL;
	size_t len = 0;
	assert_int_equal(ctng_logger_data_tile(f->lg, 0, (unsigned)accepted, &d, &len, NULL), 0);
	assert_true(len <= (size_t)accepted * CTNG_TILE_LEAF_MAX);
	assert_true(len <= CTNG_MERKLE_TILE_WIDTH * CTNG_TILE_LEAF_MAX);
	free(d);
}

/* The signed roots of tiles [first, first+count) of the tree of `size`. */
static void honest_roots(fx *f, uint64_t size, uint64_t first, uint32_t count, ctng_tile_roots *out)
{
	json_t *j = NULL;
	assert_int_equal(ctng_logger_tile_roots(f->lg, size, first, count, &j, NULL), 0);
	assert_int_equal(ctng_tile_roots_from_json(j, out, NULL), 0);
	json_decref(j);
}

/* Builds the data CON (sth, base, edge of base, batches) and verifies it. */
static int try_data_con(fx *f, const ctng_gossip_object *sth, const ctng_gossip_object *base,
                        const ctng_merkle_range *edge, const ctng_tile_roots *b, size_t nb)
{
	ctng_gossip_object con = {0};
	ctng_err e = {0};
	int rc = ctng_data_con_build(&con, sth, base, (const uint8_t(*)[32])edge->h, edge->n, b, nb,
	                             f->t0, &e);
	if (rc == 0)
		rc = ctng_data_con_verify(&con, f->log_key, &f->clock, &e);
	ctng_gossip_clear(&con);
	return rc;
}

/* Red team (PoM against an honest logger): nobody can make a data CON
 * (protocol.md §5.1) out of an honest logger's signed STHs and tile roots,
 * whatever base, edge and split of the statements they pick; the same
 * construction with one root the logger did not honestly sign does verify
 * (the check is not vacuous). Trees of 260, 512 and 530 entries. */
static void test_no_data_con_against_honest(void **state)
{
	fx *f = *state;
	static const uint64_t sizes[3] = {260, 512, 530};
	ctng_gossip_object sth[3] = {{0}};
	uint64_t now = f->t0, have = 0;
	assert_int_equal(ctng_logger_tick(f->lg, now, NULL, NULL), 0);
	for (int k = 0; k < 3; k++) {
		for (; have < sizes[k]; have++) {
			char name[64];
			snprintf(name, sizeof name, "d%llu.example.com", (unsigned long long)have);
			char *b = leaf_body(f, name, false, have % 2 == 0, NULL);
			ctng_logger_sub *s = NULL;
			assert_int_equal(ctng_logger_add_chain(f->lg, b, strlen(b), have % 2 == 0,
			                                       now, &s, NULL),
			                 0);
			ctng_logger_sub_free(s);
			free(b);
		}
		now += PERIOD;
		assert_int_equal(ctng_logger_tick(f->lg, now, NULL, NULL), 0);
		uint64_t p = 0;
		assert_true(ctng_clock_period_of(&f->clock, now, &p));
		assert_int_equal(ctng_logger_sth_object(f->lg, p, NULL, &sth[k], NULL), 0);
	}
	/* the leaf hashes, for the compact ranges of the bases */
	uint8_t(*leaf)[32] = calloc(have, 32);
	for (uint64_t t = 0; t * 256 < have; t++) {
		unsigned w = ctng_merkle_tile_width(0, t, have);
		uint8_t *d = NULL;
		size_t len = 0;
		assert_int_equal(ctng_logger_tile(f->lg, 0, t, w, &d, &len, NULL), 0);
		memcpy(leaf[t * 256], d, len);
		free(d);
	}
	size_t tried = 0;
	for (int k = 0; k < 3; k++) {
		uint64_t size = sizes[k], tiles = (size + 255) / 256;
		for (int bi = -1; bi < 3; bi++) {
			if (bi >= 0 && sizes[bi] > size)
				continue;
			uint64_t bsize = bi >= 0 ? sizes[bi] : 0;
			ctng_merkle_range edge;
			ctng_merkle_range_init(&edge);
			for (uint64_t i = 0; i < bsize; i++)
				assert_int_equal(
				    ctng_merkle_range_append(&edge, NULL, leaf[i], NULL), 0);
			uint64_t n0 = bsize / 256;
			if (n0 >= tiles)
				continue; /* nothing to state */
			const ctng_gossip_object *base = bi >= 0 ? &sth[bi] : NULL;
			/* one statement, then one per tile */
			ctng_tile_roots one = {0}, per[4];
			memset(per, 0, sizeof per);
			honest_roots(f, size, n0, (uint32_t)(tiles - n0), &one);
			assert_int_not_equal(try_data_con(f, &sth[k], base, &edge, &one, 1), 0);
			for (uint64_t t = n0; t < tiles; t++)
				honest_roots(f, size, t, 1, &per[t - n0]);
			assert_int_not_equal(
			    try_data_con(f, &sth[k], base, &edge, per, (size_t)(tiles - n0)), 0);
			tried += 2;
			/* control: a root the logger did not honestly sign convicts */
			one.roots[0][0] ^= 1;
			assert_int_equal(ctng_tile_roots_sign(&one, f->log_key, NULL), 0);
			assert_int_equal(try_data_con(f, &sth[k], base, &edge, &one, 1), 0);
			ctng_tile_roots_clear(&one);
			for (int i = 0; i < 4; i++)
				ctng_tile_roots_clear(&per[i]);
		}
	}
	assert_true(tried >= 14);
	free(leaf);
	for (int k = 0; k < 3; k++)
		ctng_gossip_clear(&sth[k]);
}

/* The leaf index the tree gives a leaf hash (get-proof-by-hash). */
static uint64_t tree_index(fx *f, const ctng_logger_sub *s, const ctng_sth *sth)
{
	check_inclusion(f, ctng_logger_sub_leaf_hash(s), sth);
	json_t *j = NULL;
	assert_int_equal(
	    ctng_logger_get_proof_by_hash(f->lg, ctng_logger_sub_leaf_hash(s), sth->tree_size, &j, NULL),
	    0);
	uint64_t idx = (uint64_t)json_integer_value(json_object_get(j, "leaf_index"));
	json_decref(j);
	return idx;
}

/* The group commit in its four steps (what the daemon does across its
 * threads), with the batch stored through a second handle on the file:
 * in-batch duplicates, the tick refused while a batch is open, a batch
 * that is not stored (its indexes are given again), a commit that fails in
 * the middle (nothing stored, nothing lost), and every SCT's index is the
 * entry's position in the next STH's tree. */
static void test_batch_steps(void **state)
{
	fx *f = *state;
	ctng_logger_free(f->lg);
	ctng_store_close(f->store);
	f->store = ctng_store_open(f->dbpath, NULL);
	assert_non_null(f->store);
	assert_int_equal(open_logger(f, NULL), 0);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0, NULL, NULL), 0);
	ctng_store *w2 = ctng_store_open(f->dbpath, NULL);
	assert_non_null(w2);
	ctng_logger_writer *w = NULL;
	ctng_logger_signer *sg = NULL;
	assert_int_equal(ctng_logger_writer_new(w2, &w, NULL), 0);
	assert_int_equal(ctng_logger_signer_new(f->lg, &sg, NULL), 0);

	enum { N = 9 };
	char *b[N];
	X509 *x[N];
	ctng_logger_sub *p[N] = {0};
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof name, "b%d.example.com", i);
		b[i] = leaf_body(f, name, true, false, &x[i]);
	}
	/* batch 1: b0, b1, b0 again, b2 */
	ctng_logger_sub *s1[4];
	int bi[4] = {0, 1, 0, 2};
	for (int i = 0; i < 4; i++)
		assert_int_equal(ctng_logger_prepare(f->lg, b[bi[i]], strlen(b[bi[i]]), false,
		                                     f->t0 + 1 + (uint64_t)i, &s1[i], NULL),
		                 0);
	size_t n_sign = 0;
	assert_int_equal(ctng_logger_sequence(f->lg, s1, 4, &n_sign, NULL), 0);
	assert_int_equal(n_sign, 3);
	assert_int_equal(ctng_logger_sequence(f->lg, s1, 4, NULL, NULL), CTNG_ESTATE);
	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD, NULL, NULL), CTNG_ESTATE);
	assert_int_equal(ctng_logger_writer_store(w, s1, 4, NULL), CTNG_ESTATE); /* unsigned */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ctng_logger_sub_sign(sg, s1[i], NULL), 0);
	assert_int_equal(ctng_logger_writer_store(w, s1, 4, NULL), 0);
	assert_int_equal(ctng_logger_sequence_end(f->lg, s1, 4, true, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_true(ctng_logger_sub_durable(s1[i]));
		check_sct(f, s1[i], x[bi[i]], f->root, false);
	}
	assert_int_equal(ctng_logger_sub_index(s1[0]), 0);
	assert_int_equal(ctng_logger_sub_index(s1[1]), 1);
	assert_int_equal(ctng_logger_sub_index(s1[2]), 0); /* the duplicate took no index */
	assert_int_equal(ctng_logger_sub_index(s1[3]), 2);
	size_t la, lb;
	const uint8_t *sa = ctng_logger_sub_signature(s1[0], &la),
	              *sb = ctng_logger_sub_signature(s1[2], &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);
	/* the log's own handle sees what the second one committed */
	ctng_logger_sub *dup = NULL;
	assert_int_equal(
	    ctng_logger_prepare(f->lg, b[1], strlen(b[1]), false, f->t0 + 50, &dup, NULL), 0);
	assert_true(ctng_logger_sub_durable(dup));
	assert_int_equal(ctng_logger_sub_index(dup), 1);
	assert_int_equal(ctng_logger_sub_timestamp(dup), ctng_logger_sub_timestamp(s1[1]));
	ctng_logger_sub_free(dup);

	/* batch 2 is sequenced and signed, but not stored: its indexes are
	 * given again to the same submissions */
	for (int i = 3; i < 5; i++)
		assert_int_equal(ctng_logger_prepare(f->lg, b[i], strlen(b[i]), false, f->t0 + 60,
		                                     &p[i], NULL),
		                 0);
	assert_int_equal(ctng_logger_sequence(f->lg, p + 3, 2, &n_sign, NULL), 0);
	assert_int_equal(n_sign, 2);
	assert_int_equal(ctng_logger_sub_sign(sg, p[3], NULL), 0);
	assert_int_equal(ctng_logger_sequence_end(f->lg, p + 3, 2, false, NULL), 0);
	assert_false(ctng_logger_sub_durable(p[3]));
	assert_false(ctng_logger_sub_durable(p[4]));
	/* a commit that fails on its second entry stores neither */
	assert_int_equal(ctng_store_exec(f->store,
	                                 "CREATE TEMP TRIGGER ctng_test_fail BEFORE INSERT ON"
	                                 " main.logger_entry WHEN NEW.idx = 4 BEGIN"
	                                 " SELECT RAISE(ABORT, 'injected failure'); END;",
	                                 NULL),
	                 0);
	ctng_err e = {0};
	assert_int_equal(ctng_logger_commit(f->lg, p + 3, 2, &e), CTNG_EIO);
	assert_non_null(strstr(e.msg, "injected failure"));
	assert_false(ctng_logger_sub_durable(p[3]));
	uint64_t pending = 0;
	assert_int_equal(ctng_logger_pending_count(f->lg, &pending, NULL), 0);
	assert_int_equal(pending, 3);
	assert_int_equal(ctng_store_exec(f->store, "DROP TRIGGER ctng_test_fail;", NULL), 0);
	assert_int_equal(ctng_logger_commit(f->lg, p + 3, 2, NULL), 0);
	assert_int_equal(ctng_logger_sub_index(p[3]), 3);
	assert_int_equal(ctng_logger_sub_index(p[4]), 4);
	/* and the four steps again after the failure */
	for (int i = 5; i < 7; i++)
		assert_int_equal(ctng_logger_prepare(f->lg, b[i], strlen(b[i]), false, f->t0 + 70,
		                                     &p[i], NULL),
		                 0);
	assert_int_equal(ctng_logger_sequence(f->lg, p + 5, 2, NULL, NULL), 0);
	for (int i = 5; i < 7; i++)
		assert_int_equal(ctng_logger_sub_sign(sg, p[i], NULL), 0);
	assert_int_equal(ctng_logger_writer_store(w, p + 5, 2, NULL), 0);
	assert_int_equal(ctng_logger_sequence_end(f->lg, p + 5, 2, true, NULL), 0);
	assert_int_equal(ctng_logger_sub_index(p[6]), 6);
	/* a batch reported not stored that was (a COMMIT failing after its WAL
	 * frames reached the file): no index is given twice, and sequenced
	 * again its submission is found stored */
	assert_int_equal(
	    ctng_logger_prepare(f->lg, b[7], strlen(b[7]), false, f->t0 + 80, &p[7], NULL), 0);
	assert_int_equal(ctng_logger_sequence(f->lg, p + 7, 1, NULL, NULL), 0);
	assert_int_equal(ctng_logger_sub_sign(sg, p[7], NULL), 0);
	assert_int_equal(ctng_logger_writer_store(w, p + 7, 1, NULL), 0);
	assert_int_equal(ctng_logger_sequence_end(f->lg, p + 7, 1, false, NULL), 0);
	assert_false(ctng_logger_sub_durable(p[7]));
	assert_int_equal(
	    ctng_logger_prepare(f->lg, b[8], strlen(b[8]), false, f->t0 + 90, &p[8], NULL), 0);
	assert_int_equal(ctng_logger_sequence(f->lg, p + 7, 2, &n_sign, NULL), 0);
	assert_int_equal(n_sign, 1);
	assert_true(ctng_logger_sub_durable(p[7]));
	assert_int_equal(ctng_logger_sub_index(p[7]), 7);
	assert_int_equal(ctng_logger_sub_sign(sg, p[8], NULL), 0);
	assert_int_equal(ctng_logger_writer_store(w, p + 7, 2, NULL), 0);
	assert_int_equal(ctng_logger_sequence_end(f->lg, p + 7, 2, true, NULL), 0);
	assert_int_equal(ctng_logger_sub_index(p[8]), 8);

	assert_int_equal(ctng_logger_tick(f->lg, f->t0 + PERIOD, NULL, NULL), 0);
	ctng_sth sth = check_get_sth(f);
	assert_int_equal(sth.tree_size, N);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tree_index(f, s1[i], &sth), ctng_logger_sub_index(s1[i]));
	for (int i = 3; i < N; i++) {
		check_sct(f, p[i], x[i], f->root, false);
		assert_int_equal(tree_index(f, p[i], &sth), (uint64_t)i);
	}
	for (int i = 0; i < 4; i++)
		ctng_logger_sub_free(s1[i]);
	for (int i = 0; i < N; i++) {
		ctng_logger_sub_free(p[i]);
		X509_free(x[i]);
		free(b[i]);
	}
	ctng_logger_signer_free(sg);
	ctng_logger_writer_free(w);
	ctng_store_close(w2);
}

int main(void)
{
	ctng_log_set_level(CTNG_LOG_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_submit_integrate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restamp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tiles_checkpoint, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tile_leaf_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_data_con_against_honest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_steps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
