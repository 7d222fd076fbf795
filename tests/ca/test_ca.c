/* test_ca.c — the CA logic (ctng/ca.h) against a simulated logger built from
 * the real parts (RFC 6962 entries from cert, signed SCTs and STHs, the
 * in-memory Merkle tree): issuance to final certificates whose proofs verify,
 * bad input refused with nothing stored, revocation authorisation, the REV /
 * CRV chain over many periods (empty ones, gaps), reopen, split view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/x509.h>
#include <roaring/roaring.h>
#include <sqlite3.h>

#include "ctng/ca.h"
#include "ctng/merkle.h"

#define PERIOD_MS 1000ull

typedef struct env {
	ctng_network net;
	ctng_sig_key *ca_key, *log_key;
	char *root_pem;
	X509 *root;
	ctng_ca *ca;
	char db[128];
	/* simulated logger1: leaves in a memory tree */
	ctng_merkle_mem *tree;
	uint8_t (*leaves)[32];
	size_t n_leaves;
	uint64_t now; /* fake wall clock */
} env;

static uint64_t period_start(env *e, uint64_t p)
{
	return e->net.clock.genesis_ms + p * PERIOD_MS;
}

static void env_open(env *e, const ctng_misbehaviour *mis)
{
	ctng_err err = {0};
	ctng_ca_opts o = {.id = "ca1",
	                  .key = e->ca_key,
	                  .root_pem = e->root_pem,
	                  .net = &e->net,
	                  .db_path = e->db,
	                  .mis = mis};
	assert_int_equal(ctng_ca_open(&o, &e->ca, &err), 0);
}

static void env_init(env *e, const ctng_misbehaviour *mis)
{
	memset(e, 0, sizeof(*e));
	ctng_err err = {0};
	e->net.clock.genesis_ms = ctng_now_ms() / 1000 * 1000 - 300 * PERIOD_MS;
	e->net.clock.period_ms = PERIOD_MS;
	e->net.entities = calloc(2, sizeof(ctng_entity));
	e->net.n_entities = 2;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &e->ca_key, &err), 0);
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &e->log_key, &err), 0);
	ctng_entity *lg = &e->net.entities[0], *ca = &e->net.entities[1];
	strcpy(lg->id, "logger1");
	lg->role = CTNG_ROLE_LOGGER;
	assert_int_equal(ctng_sig_key_public_copy(e->log_key, &lg->key, &err), 0);
	strcpy(ca->id, "ca1");
	ca->role = CTNG_ROLE_CA;
	assert_int_equal(ctng_sig_key_public_copy(e->ca_key, &ca->key, &err), 0);
	uint64_t real = ctng_now_ms();
	assert_int_equal(ctng_cert_make_root("ca1 root", e->ca_key, real - 86400000ull,
	                                     real + 86400000ull * 3650, &e->root, &err),
	                 0);
	assert_int_equal(ctng_cert_to_pem(e->root, &e->root_pem, NULL, &err), 0);
	snprintf(e->db, sizeof(e->db), "/tmp/ctng_test_ca_%d.db", (int)getpid());
	unlink(e->db);
	assert_int_equal(ctng_merkle_mem_new(&e->tree), 0);
	e->now = period_start(e, 10) + 100;
	env_open(e, mis);
}

static void env_free(env *e)
{
	char p[160];
	ctng_ca_close(e->ca);
	ctng_network_free(&e->net);
	ctng_sig_key_free(e->ca_key);
	ctng_sig_key_free(e->log_key);
	free(e->root_pem);
	X509_free(e->root);
	ctng_merkle_mem_free(e->tree);
	free(e->leaves);
	unlink(e->db);
	snprintf(p, sizeof(p), "%s-wal", e->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", e->db);
	unlink(p);
}

static char *pubkey_pem(ctng_sig_key **key_out, ctng_sig_alg alg)
{
	ctng_sig_key *k = NULL;
	char *pem = NULL;
	assert_int_equal(ctng_sig_generate(alg, &k, NULL), 0);
	assert_int_equal(ctng_sig_public_pem(k, &pem, NULL, NULL), 0);
	if (key_out)
		*key_out = k;
	else
		ctng_sig_key_free(k);
	return pem;
}

static uint32_t request(env *e, const char *name, ctng_sig_key **key_out)
{
	char *pem = pubkey_pem(key_out, CTNG_SIG_ECDSA_P256);
	char handle[CTNG_CA_HANDLE_LEN + 1];
	uint32_t rid;
	ctng_err err = {0};
	assert_int_equal(ctng_ca_request(e->ca, name, pem, e->now, handle, &rid, &err), 0);
	free(pem);
	return rid;
}

/* The logger side of add-pre-chain, done the way a logger does it: entry
 * from the submitted chain, leaf appended, SCT signed. Returns the SCT JSON. */
static json_t *sim_add_pre_chain(env *e, uint32_t rid, bool corrupt)
{
	ctng_err err = {0};
	json_t *body = NULL;
	assert_int_equal(ctng_ca_submission(e->ca, rid, &body, &err), 0);
	json_t *chain = json_object_get(body, "chain");
	assert_int_equal(json_array_size(chain), 2);
	uint8_t *pd, *id;
	size_t pl, il;
	const char *s0 = json_string_value(json_array_get(chain, 0));
	const char *s1 = json_string_value(json_array_get(chain, 1));
	assert_int_equal(ctng_b64_decode_alloc(s0, strlen(s0), &pd, &pl, &err), 0);
	assert_int_equal(ctng_b64_decode_alloc(s1, strlen(s1), &id, &il, &err), 0);
	ctng_ct_entry ent;
	assert_int_equal(ctng_ct_entry_precert(pd, pl, id, il, &ent, &err), 0);
	uint64_t ts = e->now;
	uint8_t h[32];
	assert_int_equal(ctng_ct_leaf_hash(&ent, ts, NULL, 0, h, &err), 0);
	assert_int_equal(ctng_merkle_mem_append(e->tree, (const uint8_t(*)[32])h, 1, &err), 0);
	ctng_buf tbs = {0};
	assert_int_equal(ctng_ct_sct_signed_bytes(&ent, ts, NULL, 0, &tbs, &err), 0);
	if (corrupt)
		tbs.data[tbs.len - 3] ^= 1;
	uint8_t sig[CTNG_SIG_MAX_LEN], lid[32];
	size_t sl;
	assert_int_equal(ctng_sig_sign(e->log_key, tbs.data, tbs.len, sig, &sl, &err), 0);
	uint8_t *ds;
	size_t dsl;
	assert_int_equal(ctng_digitally_signed_encode(sig, sl, &ds, &dsl, &err), 0);
	assert_int_equal(ctng_sig_key_id(e->log_key, lid, &err), 0);
	char *b_id = ctng_b64_strdup(lid, 32), *b_sig = ctng_b64_strdup(ds, dsl);
	json_t *sct = json_pack("{s:i,s:s,s:I,s:s,s:s}", "sct_version", 0, "id", b_id, "timestamp",
	                        (json_int_t)ts, "extensions", "", "signature", b_sig);
	free(b_id);
	free(b_sig);
	free(ds);
	ctng_buf_free(&tbs);
	ctng_ct_entry_clear(&ent);
	free(pd);
	free(id);
	json_decref(body);
	return sct;
}

/* GET /ctng/v1/proof of the simulated logger for period p (STH over the
 * whole tree, timestamped at p's start). */
static json_t *sim_proof(env *e, uint64_t p, const uint8_t leaf[32])
{
	ctng_err err = {0};
	uint64_t size = ctng_merkle_mem_size(e->tree), idx = UINT64_MAX;
	for (uint64_t i = 0; i < size; i++) {
		uint8_t h[32];
		ctng_merkle_mem_leaf(e->tree, i, h, NULL);
		if (!memcmp(h, leaf, 32))
			idx = i;
	}
	assert_true(idx != UINT64_MAX);
	ctng_sth sth = {.timestamp_ms = period_start(e, p) + 1, .tree_size = size};
	assert_int_equal(ctng_merkle_mem_root(e->tree, size, sth.root, &err), 0);
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_sth_sign(&o, "logger1", e->log_key, &sth, &e->net.clock, &err), 0);
	json_t *oj = NULL;
	assert_int_equal(ctng_gossip_to_json(&o, &oj, &err), 0);
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n;
	assert_int_equal(ctng_merkle_mem_inclusion(e->tree, idx, size, proof, &n, &err), 0);
	json_t *path = json_array();
	for (size_t i = 0; i < n; i++) {
		char *b = ctng_b64_strdup(proof[i], 32);
		json_array_append_new(path, json_string(b));
		free(b);
	}
	ctng_gossip_clear(&o);
	return json_pack("{s:o,s:I,s:o}", "sth", oj, "leaf_index", (json_int_t)idx, "audit_path",
	                 path);
}

/* Runs the whole issuance for the given RIDs: SCTs now, proofs at the next
 * period, issuance. */
static void issue_all(env *e, const uint32_t *rids, size_t n)
{
	ctng_err err = {0};
	for (size_t i = 0; i < n; i++) {
		json_t *sct = sim_add_pre_chain(e, rids[i], false);
		assert_int_equal(ctng_ca_record_sct(e->ca, rids[i], "logger1", sct, &err), 0);
		json_decref(sct);
	}
	uint64_t p;
	ctng_clock_period_of(&e->net.clock, e->now, &p);
	p++;
	e->now = period_start(e, p) + 50;
	uint32_t *need = NULL;
	size_t nn = 0;
	assert_int_equal(ctng_ca_need_proof(e->ca, "logger1", p, &need, &nn, &err), 0);
	assert_int_equal(nn, n);
	for (size_t i = 0; i < nn; i++) {
		uint8_t h[32];
		assert_int_equal(ctng_ca_leaf_hash(e->ca, need[i], "logger1", h, &err), 0);
		json_t *pr = sim_proof(e, p, h);
		assert_int_equal(ctng_ca_record_proof(e->ca, need[i], "logger1", p, pr, &err), 0);
		json_decref(pr);
	}
	free(need);
	size_t issued = 0;
	assert_int_equal(ctng_ca_issue_ready(e->ca, p, &issued, &err), 0);
	assert_int_equal(issued, n);
}

static X509 *issued_cert(env *e, uint32_t rid)
{
	/* find the handle via a status lookup is not possible by RID; read the DB */
	(void)e;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(e->db, &db), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT handle FROM ca_cert WHERE rid=?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, rid);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char handle[64];
	snprintf(handle, sizeof(handle), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	json_t *j = NULL;
	ctng_err err = {0};
	assert_int_equal(ctng_ca_status_json(e->ca, handle, &j, &err), 0);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "issued");
	const char *pem = json_string_value(json_object_get(j, "certificate"));
	X509 *x = NULL;
	assert_int_equal(ctng_cert_from_pem(pem, strlen(pem), &x, &err), 0);
	json_decref(j);
	return x;
}

/* ------------------------------------------------------------------ tests */

static void test_issuance(void **state)
{
	(void)state;
	env e;
	env_init(&e, NULL);
	ctng_err err = {0};
	char *pem = pubkey_pem(NULL, CTNG_SIG_ED25519);
	json_t *body = json_pack("{s:s,s:s}", "name", "Shop.Example.COM", "public_key", pem), *r;
	assert_int_equal(ctng_ca_request_json(e.ca, body, e.now, &r, &err), 0);
	json_decref(body);
	free(pem);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "pending");
	assert_int_equal(json_integer_value(json_object_get(r, "rid")), 0);
	char handle[64];
	snprintf(handle, sizeof(handle), "%s", json_string_value(json_object_get(r, "handle")));
	json_decref(r);
	assert_int_equal(ctng_ca_status_json(e.ca, handle, &r, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "pending");
	json_decref(r);
	uint32_t rids[4] = {0, request(&e, "a.example", NULL), request(&e, "b.example", NULL),
	                    request(&e, "c.example", NULL)};
	assert_int_equal(rids[3], 3);
	/* needs submission to logger1, none to a non-logger */
	uint32_t *need;
	size_t nn;
	assert_int_equal(ctng_ca_need_submit(e.ca, "logger1", &need, &nn, &err), 0);
	assert_int_equal(nn, 4);
	free(need);
	/* a proof is not asked for in the submission period */
	issue_all(&e, rids, 4);
	assert_int_equal(ctng_ca_need_submit(e.ca, "logger1", &need, &nn, &err), 0);
	assert_int_equal(nn, 0);
	free(need);

	for (int i = 0; i < 4; i++) {
		X509 *x = issued_cert(&e, rids[i]);
		assert_int_equal(ctng_cert_check_issued(x, e.root, &err), 0);
		ctng_cert_proofs ps;
		assert_int_equal(ctng_cert_get_proofs(x, &ps, &err), 0);
		assert_int_equal(ps.rid, rids[i]);
		assert_int_equal(ps.n, 1);
		assert_string_equal(ps.proofs[0].logger_id, "logger1");
		assert_int_equal(ctng_cert_proof_verify_inclusion(x, e.root, &ps.proofs[0], &err),
		                 0);
		assert_int_equal(
		    ctng_logger_proof_verify_sth(&ps.proofs[0], e.log_key, &e.net.clock, &err), 0);
		if (i == 0) {
			char dn[CTNG_DNS_NAME_MAX + 1];
			assert_int_equal(ctng_cert_dns_name(x, dn, &err), 0);
			assert_string_equal(dn, "shop.example.com");
			/* openssl verify accepts it */
			char rp[64], cp[64], cmd[256];
			snprintf(rp, sizeof(rp), "/tmp/ctng_test_ca_root_%d.pem", (int)getpid());
			snprintf(cp, sizeof(cp), "/tmp/ctng_test_ca_cert_%d.pem", (int)getpid());
			assert_int_equal(ctng_cert_save_file(e.root, rp, 0644, &err), 0);
			assert_int_equal(ctng_cert_save_file(x, cp, 0644, &err), 0);
			snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s >/dev/null", rp,
			         cp);
			assert_int_equal(system(cmd), 0);
			unlink(rp);
			unlink(cp);
		}
		ctng_cert_proofs_clear(&ps);
		X509_free(x);
	}
	env_free(&e);
}

static void test_bad_requests(void **state)
{
	(void)state;
	env e;
	env_init(&e, NULL);
	ctng_err err = {0};
	char *pem = pubkey_pem(NULL, CTNG_SIG_ECDSA_P256);
	const char *bad_names[] = {"",        "localhost", "a..b",   "-x.com",
	                           "x_y.com", "*.a.com",   "a.com.", "1.2.3.4"};
	char handle[CTNG_CA_HANDLE_LEN + 1];
	uint32_t rid;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
		assert_int_equal(
		    ctng_ca_request(e.ca, bad_names[i], pem, e.now, handle, &rid, &err),
		    CTNG_EINVAL);
		assert_non_null(strstr(err.msg, "name"));
	}
	assert_int_equal(ctng_ca_request(e.ca, "ok.example",
	                                 "-----BEGIN PUBLIC KEY-----\nAAAA\n"
	                                 "-----END PUBLIC KEY-----\n",
	                                 e.now, handle, &rid, &err),
	                 CTNG_EINVAL);
	assert_int_equal(ctng_ca_request(e.ca, "ok.example", "garbage", e.now, handle, &rid, &err),
	                 CTNG_EINVAL);
	const char *bodies[] = {"[]", "{}", "{\"name\":\"a.example\"}",
	                        "{\"name\":1,\"public_key\":\"x\"}",
	                        "{\"name\":\"a.example\",\"public_key\":\"x\",\"extra\":1}"};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		json_t *b = json_loads(bodies[i], 0, NULL), *r = NULL;
		assert_non_null(b);
		assert_int_equal(ctng_ca_request_json(e.ca, b, e.now, &r, &err), CTNG_EINVAL);
		assert_null(r);
		json_decref(b);
	}
	/* nothing stored: the first good request gets RID 0 */
	assert_int_equal(ctng_ca_request(e.ca, "ok.example", pem, e.now, handle, &rid, &err), 0);
	assert_int_equal(rid, 0);
	json_t *r = NULL;
	assert_int_equal(ctng_ca_status_json(e.ca, "zz", &r, &err), CTNG_EINVAL);
	assert_int_equal(ctng_ca_status_json(e.ca, "0123456789abcdef0123456789abcdef", &r, &err),
	                 CTNG_ENOTFOUND);
	/* an SCT with a bad signature, or from a non-logger, is refused and not stored */
	json_t *sct = sim_add_pre_chain(&e, 0, true);
	assert_int_equal(ctng_ca_record_sct(e.ca, 0, "logger1", sct, &err), CTNG_EVERIFY);
	assert_int_equal(ctng_ca_record_sct(e.ca, 0, "ca1", sct, &err), CTNG_EINVAL);
	json_decref(sct);
	uint32_t *need;
	size_t nn;
	assert_int_equal(ctng_ca_need_submit(e.ca, "logger1", &need, &nn, &err), 0);
	assert_int_equal(nn, 1);
	free(need);
	/* a good SCT, then a proof for the wrong period / tampered path */
	sct = sim_add_pre_chain(&e, 0, false);
	assert_int_equal(ctng_ca_record_sct(e.ca, 0, "logger1", sct, &err), 0);
	json_decref(sct);
	uint8_t h[32];
	assert_int_equal(ctng_ca_leaf_hash(e.ca, 0, "logger1", h, &err), 0);
	sct = sim_add_pre_chain(&e, 0, false); /* a second leaf so the path is non-empty */
	json_decref(sct);
	json_t *pr = sim_proof(&e, 11, h);
	assert_int_equal(ctng_ca_record_proof(e.ca, 0, "logger1", 12, pr, &err), CTNG_EVERIFY);
	json_t *path = json_object_get(pr, "audit_path");
	json_array_set_new(path, 0, json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	assert_int_equal(ctng_ca_record_proof(e.ca, 0, "logger1", 11, pr, &err), CTNG_EVERIFY);
	json_object_set_new(pr, "leaf_index", json_integer(-1));
	assert_int_equal(ctng_ca_record_proof(e.ca, 0, "logger1", 11, pr, &err), CTNG_EINVAL);
	json_decref(pr);
	size_t issued = 9;
	assert_int_equal(ctng_ca_issue_ready(e.ca, 11, &issued, &err), 0);
	assert_int_equal(issued, 0);
	free(pem);
	env_free(&e);
}

static void sign_revoke(env *e, const ctng_sig_key *k, uint32_t rid, const uint8_t fp[32],
                        json_t **body)
{
	ctng_buf m = {0};
	assert_int_equal(ctng_ca_revoke_message("ca1", rid, fp, &m, NULL), 0);
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sl;
	assert_int_equal(ctng_sig_sign(k, m.data, m.len, sig, &sl, NULL), 0);
	char hex[65], *b = ctng_b64_strdup(sig, sl);
	ctng_hex_encode(hex, fp, 32);
	*body =
	    json_pack("{s:I,s:s,s:s}", "rid", (json_int_t)rid, "cert_sha256", hex, "signature", b);
	free(b);
	ctng_buf_free(&m);
	(void)e;
}

static void test_revocation_auth(void **state)
{
	(void)state;
	env e;
	env_init(&e, NULL);
	ctng_err err = {0};
	ctng_sig_key *k0 = NULL, *k1 = NULL, *k2 = NULL;
	uint32_t rids[2] = {request(&e, "r0.example", &k0), request(&e, "r1.example", &k1)};
	issue_all(&e, rids, 2);
	uint32_t pend = request(&e, "r2.example", &k2);
	X509 *x0 = issued_cert(&e, 0), *x1 = issued_cert(&e, 1);
	uint8_t fp0[32], fp1[32];
	ctng_cert_sha256(x0, fp0, NULL);
	ctng_cert_sha256(x1, fp1, NULL);
	json_t *b, *r = NULL;
	/* wrong key (another subject's) */
	sign_revoke(&e, k1, 0, fp0, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), CTNG_EVERIFY);
	assert_non_null(strstr(err.msg, "authorization"));
	json_decref(b);
	/* wrong certificate hash */
	sign_revoke(&e, k0, 0, fp1, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), CTNG_EVERIFY);
	json_decref(b);
	/* unknown RID, pending RID, malformed bodies */
	sign_revoke(&e, k0, 77, fp0, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), CTNG_ENOTFOUND);
	json_decref(b);
	sign_revoke(&e, k2, pend, fp0, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), CTNG_ESTATE);
	json_decref(b);
	const char *bad[] = {"{}", "{\"rid\":0,\"cert_sha256\":\"00\",\"signature\":\"AA==\"}",
	                     "{\"rid\":-1,\"cert_sha256\":\"x\",\"signature\":\"AA==\"}",
	                     "{\"rid\":0,\"cert_sha256\":\"x\",\"signature\":\"AA==\",\"z\":1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		b = json_loads(bad[i], 0, NULL);
		assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), CTNG_EINVAL);
		json_decref(b);
	}
	/* nothing revoked so far: REV of this period has an empty delta */
	uint64_t p;
	ctng_clock_period_of(&e.net.clock, e.now, &p);
	assert_int_equal(ctng_ca_publish_rev(e.ca, p, e.now, &err), 0);
	roaring_bitmap_t *crv = NULL;
	assert_int_equal(ctng_ca_crv(e.ca, p, &crv, &err), 0);
	assert_int_equal(roaring_bitmap_get_cardinality(crv), 0);
	roaring_bitmap_free(crv);
	/* subject revokes 0, operator revokes 1; repeat is idempotent */
	sign_revoke(&e, k0, 0, fp0, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "revoked");
	json_decref(r);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "already revoked");
	json_decref(r);
	json_decref(b);
	sign_revoke(&e, e.ca_key, 1, fp1, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), 0);
	json_decref(r);
	json_decref(b);
	assert_int_equal(ctng_ca_publish_rev(e.ca, p + 1, e.now + PERIOD_MS, &err), 0);
	assert_int_equal(ctng_ca_crv(e.ca, p + 1, &crv, &err), 0);
	assert_int_equal(roaring_bitmap_get_cardinality(crv), 2);
	assert_true(roaring_bitmap_contains(crv, 0) && roaring_bitmap_contains(crv, 1));
	roaring_bitmap_free(crv);
	X509_free(x0);
	X509_free(x1);
	ctng_sig_key_free(k0);
	ctng_sig_key_free(k1);
	ctng_sig_key_free(k2);
	env_free(&e);
}

/* A client follows REV(p) for many periods: verifies each signature and
 * applies each delta; the hash chain must hold and match the CA's CRV. */
static void follow_chain(env *e, roaring_bitmap_t *client, uint64_t from, uint64_t to,
                         const char *monitor)
{
	ctng_err err = {0};
	for (uint64_t q = from; q <= to; q++) {
		ctng_gossip_object o = {0};
		assert_int_equal(ctng_ca_get_rev(e->ca, q, monitor, &o, &err), 0);
		assert_int_equal(o.period, q);
		assert_int_equal(
		    ctng_gossip_verify_signed(&o, e->net.entities[1].key, &e->net.clock, &err), 0);
		assert_int_equal(ctng_crv_apply_rev(client, &o, &err), 0);
		if (!monitor) {
			roaring_bitmap_t *ca_crv = NULL;
			assert_int_equal(ctng_ca_crv(e->ca, q, &ca_crv, &err), 0);
			assert_true(roaring_bitmap_equals(ca_crv, client));
			roaring_bitmap_free(ca_crv);
		}
		ctng_gossip_clear(&o);
	}
}

static void test_rev_chain(void **state)
{
	(void)state;
	env e;
	env_init(&e, NULL);
	ctng_err err = {0};
	enum { N = 40 };
	ctng_sig_key *keys[N];
	uint32_t rids[N];
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		rids[i] = request(&e, name, &keys[i]);
	}
	issue_all(&e, rids, N);
	X509 *certs[N];
	for (int i = 0; i < N; i++)
		certs[i] = issued_cert(&e, rids[i]);
	uint64_t p0;
	ctng_clock_period_of(&e.net.clock, e.now, &p0);
	roaring_bitmap_t *client = roaring_bitmap_create();
	/* first REV: empty CRV; a client starts from the empty bitmap */
	assert_int_equal(ctng_ca_publish_rev(e.ca, p0, e.now, &err), 0);
	follow_chain(&e, client, p0, p0, NULL);
	srand(12345);
	int next = 0;
	uint64_t p = p0;
	for (int round = 0; round < 120; round++) {
		/* 0..2 revocations per period, many periods with none */
		int k = rand() % 5 - 2;
		for (int j = 0; j < k && next < N; j++, next++) {
			uint8_t fp[32];
			json_t *b, *r;
			ctng_cert_sha256(certs[next], fp, NULL);
			sign_revoke(&e, keys[next], rids[next], fp, &b);
			assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), 0);
			json_decref(b);
			json_decref(r);
		}
		/* publishing twice is idempotent */
		p++;
		assert_int_equal(ctng_ca_publish_rev(e.ca, p, e.now, &err), 0);
		assert_int_equal(ctng_ca_publish_rev(e.ca, p, e.now, &err), 0);
		follow_chain(&e, client, p, p, NULL);
		if (round == 60) {
			/* reopen mid-chain: the state comes back from the database */
			ctng_ca_close(e.ca);
			env_open(&e, NULL);
		}
	}
	assert_int_equal(roaring_bitmap_get_cardinality(client), (uint64_t)next);
	/* a gap (CA down for 5 periods): the skipped periods are filled in */
	uint8_t fp[32];
	json_t *b, *r;
	ctng_cert_sha256(certs[N - 1], fp, NULL);
	sign_revoke(&e, keys[N - 1], rids[N - 1], fp, &b);
	assert_int_equal(ctng_ca_revoke_json(e.ca, b, e.now, &r, &err), 0);
	json_decref(b);
	json_decref(r);
	assert_int_equal(ctng_ca_publish_rev(e.ca, p + 6, e.now, &err), 0);
	follow_chain(&e, client, p + 1, p + 6, NULL);
	assert_true(roaring_bitmap_contains(client, rids[N - 1]));
	/* the past cannot be rewritten */
	assert_int_equal(ctng_ca_publish_rev(e.ca, p0 - 1, e.now, &err), CTNG_ESTATE);
	/* a tampered delta is caught by the client */
	ctng_gossip_object o = {0};
	assert_int_equal(ctng_ca_get_rev(e.ca, p + 6, NULL, &o, &err), 0);
	roaring_bitmap_t *wrong = roaring_bitmap_create();
	assert_int_equal(ctng_crv_apply_rev(wrong, &o, &err), CTNG_EVERIFY);
	assert_int_equal(roaring_bitmap_get_cardinality(wrong), 0);
	roaring_bitmap_free(wrong);
	ctng_gossip_clear(&o);
	assert_int_equal(ctng_ca_get_rev(e.ca, p + 7, NULL, &o, &err), CTNG_ENOTFOUND);
	roaring_bitmap_free(client);
	for (int i = 0; i < N; i++) {
		X509_free(certs[i]);
		ctng_sig_key_free(keys[i]);
	}
	env_free(&e);
}

/* A CA joining with the revocations of certificates it issued before: they
 * are in its next REV (a client following the chain gets them), its new
 * certificates are numbered after them, and nothing lets it reuse a RID. */
static void test_import_revocations(void **state)
{
	(void)state;
	env e;
	env_init(&e, NULL);
	ctng_err err = {0};
	uint32_t before = request(&e, "before.example", NULL); /* RID 0 */
	assert_int_equal(before, 0);
	roaring_bitmap_t *old = roaring_bitmap_create();
	for (uint32_t r = 3; r < 100000; r += 97)
		roaring_bitmap_add(old, r);
	/* RIDs must be below the next RID, which must not go back */
	roaring_bitmap_add(old, 100000);
	assert_int_equal(ctng_ca_import_revocations(e.ca, old, 100000, e.now, &err), CTNG_EINVAL);
	roaring_bitmap_remove(old, 100000);
	assert_int_equal(ctng_ca_import_revocations(e.ca, old, CTNG_CA_BOGUS_RID, e.now, &err),
	                 CTNG_ERANGE);
	assert_int_equal(ctng_ca_import_revocations(e.ca, old, 100000, e.now, &err), 0);
	assert_int_equal(request(&e, "after.example", NULL), 100000);
	assert_int_equal(ctng_ca_import_revocations(e.ca, old, 100000, e.now, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "reuse"));
	uint64_t p;
	ctng_clock_period_of(&e.net.clock, e.now, &p);
	assert_int_equal(ctng_ca_publish_rev(e.ca, p, e.now, &err), 0);
	roaring_bitmap_t *client = roaring_bitmap_create();
	follow_chain(&e, client, p, p, NULL);
	assert_true(roaring_bitmap_equals(client, old));
	/* the next REV is back to an empty delta */
	assert_int_equal(ctng_ca_publish_rev(e.ca, p + 1, e.now + PERIOD_MS, &err), 0);
	follow_chain(&e, client, p + 1, p + 1, NULL);
	assert_true(roaring_bitmap_equals(client, old));
	roaring_bitmap_free(client);
	roaring_bitmap_free(old);
	env_free(&e);
}

static void test_reopen_keeps_state(void **state)
{
	(void)state;
	env e;
	env_init(&e, NULL);
	ctng_err err = {0};
	uint32_t a = request(&e, "p.example", NULL);
	json_t *sct = sim_add_pre_chain(&e, a, false);
	assert_int_equal(ctng_ca_record_sct(e.ca, a, "logger1", sct, &err), 0);
	json_decref(sct);
	ctng_ca_close(e.ca);
	env_open(&e, NULL);
	uint32_t *need;
	size_t nn;
	assert_int_equal(ctng_ca_need_proof(e.ca, "logger1", 11, &need, &nn, &err), 0);
	assert_int_equal(nn, 1);
	assert_int_equal(need[0], a);
	free(need);
	/* next RID continues */
	assert_int_equal(request(&e, "q.example", NULL), a + 1);
	env_free(&e);
}

static void test_split_view(void **state)
{
	(void)state;
	ctng_misbehaviour m = {.present = true, .split_view = true};
	env e;
	env_init(&e, &m);
	ctng_err err = {0};
	for (uint64_t p = 10; p < 14; p++)
		assert_int_equal(ctng_ca_publish_rev(e.ca, p, period_start(&e, p), &err), 0);
	ctng_gossip_object a = {0}, b = {0}, a2 = {0};
	assert_int_equal(ctng_ca_get_rev(e.ca, 12, "monitor1", &a, &err), 0);
	assert_int_equal(ctng_ca_get_rev(e.ca, 12, "monitor3", &b, &err), 0);
	assert_int_equal(ctng_ca_get_rev(e.ca, 12, "monitor1", &a2, &err), 0);
	assert_true(ctng_gossip_equal(&a, &a2)); /* stable per monitor */
	assert_true(ctng_gossip_conflicting(&a, &b));
	assert_int_equal(ctng_gossip_verify_signed(&a, e.net.entities[1].key, NULL, &err), 0);
	assert_int_equal(ctng_gossip_verify_signed(&b, e.net.entities[1].key, NULL, &err), 0);
	/* each view is a consistent chain on its own */
	roaring_bitmap_t *c1 = roaring_bitmap_create(), *c3 = roaring_bitmap_create();
	follow_chain(&e, c1, 10, 13, "monitor1");
	follow_chain(&e, c3, 10, 13, "monitor3");
	assert_false(roaring_bitmap_equals(c1, c3));
	roaring_bitmap_free(c1);
	roaring_bitmap_free(c3);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&a2);
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_issuance),           cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_revocation_auth),    cmocka_unit_test(test_rev_chain),
	    cmocka_unit_test(test_reopen_keeps_state), cmocka_unit_test(test_split_view),
	    cmocka_unit_test(test_import_revocations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
