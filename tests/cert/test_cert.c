/* test_cert.c — the cert module: DNS name rules, strict PEM/DER, the RFC 6962
 * precert entry and leaf (cross-checked against OpenSSL's own SCT validator),
 * the CTng extension codec and its strictness, final certificates whose
 * embedded proofs verify against a real signed STH (ctng/cert.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctng/cert.h"
#include "ctng/merkle.h"

/* --------------------------------------------------------------- helpers */

typedef struct fixture {
	ctng_sig_key *ca_key;
	X509 *root;
	ctng_sig_key *subj_key;
	X509 *precert;
} fixture;

static void make_fixture(fixture *f, ctng_sig_alg alg, const char *name)
{
	ctng_err err = {0};
	memset(f, 0, sizeof(*f));
	uint64_t now = ctng_now_ms();
	assert_int_equal(ctng_sig_generate(alg, &f->ca_key, &err), 0);
	assert_int_equal(ctng_cert_make_root("Test CA", f->ca_key, now - 3600000,
	                                     now + 86400000ull * 365, &f->root, &err),
	                 0);
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &f->subj_key, &err), 0);
	ctng_cert_template t = {.dns_name = name,
	                        .subject_key = ctng_sig_key_evp(f->subj_key),
	                        .serial = {0x01, 0x02, 0x03},
	                        .serial_len = 3,
	                        .not_before_ms = now - 60000,
	                        .not_after_ms = now + 86400000ull * 90,
	                        .rid = 42};
	assert_int_equal(ctng_cert_make_precert(&t, f->root, f->ca_key, &f->precert, &err), 0);
}

static void free_fixture(fixture *f)
{
	X509_free(f->precert);
	X509_free(f->root);
	ctng_sig_key_free(f->ca_key);
	ctng_sig_key_free(f->subj_key);
}

static void fill_proof(ctng_logger_proof *p, const char *id, size_t path_len)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->logger_id, id);
	p->period = 7;
	p->tree_size = 1000;
	p->sth_timestamp_ms = 1700000000123ull;
	memset(p->root, 0xab, 32);
	p->sth_sig_len = 73;
	p->sth_sig = malloc(p->sth_sig_len);
	memset(p->sth_sig, 0x42, p->sth_sig_len);
	p->leaf_timestamp_ms = 1700000000001ull;
	p->leaf_index = 999;
	p->path_len = path_len;
	p->audit_path = path_len ? malloc(path_len * 32) : NULL;
	for (size_t i = 0; i < path_len; i++)
		memset(p->audit_path[i], (int)i, 32);
}

/* --------------------------------------------------------------- DNS */

static void test_dns_names(void **state)
{
	(void)state;
	const char *good[] = {
	    "example.com", "a.b", "xn--bcher-kva.example", "a-b.c-d.com", "EXAMPLE.COM", "1.2.3.a4",
	    /* 63-char label */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		ctng_err err = {0};
		assert_int_equal(ctng_dns_name_check(good[i], &err), 0);
	}
	const char *bad[] = {
	    "",
	    "com",
	    "example.com.",
	    ".example.com",
	    "a..b",
	    "-a.com",
	    "a-.com",
	    "*.example.com",
	    "ex ample.com",
	    "ex_ample.com",
	    "1.2.3.4",
	    "ab--cd.com",
	    "b\303\274cher.de",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ctng_err err = {0};
		assert_int_equal(ctng_dns_name_check(bad[i], &err), CTNG_EINVAL);
		assert_true(err.msg[0] != 0);
	}
	assert_int_equal(ctng_dns_name_check(NULL, NULL), CTNG_EINVAL);
	/* 253 is the limit */
	char longname[300];
	size_t o = 0;
	while (o + 64 <= 253) {
		memset(longname + o, 'a', 63);
		longname[o + 63] = '.';
		o += 64;
	}
	memset(longname + o, 'b', 253 - o);
	longname[253] = 0;
	assert_int_equal(ctng_dns_name_check(longname, NULL), 0);
	longname[253] = 'c';
	longname[254] = 0;
	assert_int_equal(ctng_dns_name_check(longname, NULL), CTNG_EINVAL);
	char norm[CTNG_DNS_NAME_MAX + 1];
	assert_int_equal(ctng_dns_name_normalize("WwW.Example.COM", norm, NULL), 0);
	assert_string_equal(norm, "www.example.com");
}

/* ---------------------------------------------------------- extension */

static void test_ext_roundtrip(void **state)
{
	(void)state;
	ctng_err err = {0};
	ctng_cert_proofs ps = {.rid = 0xfffffffe};
	ctng_logger_proof p;
	fill_proof(&p, "logger1", 10);
	assert_int_equal(ctng_cert_proofs_add(&ps, &p, &err), 0);
	ctng_logger_proof_clear(&p);
	fill_proof(&p, "logger2", 0);
	p.leaf_exts_len = 3;
	p.leaf_exts = malloc(3);
	memcpy(p.leaf_exts, "xyz", 3);
	p.tree_size = UINT64_MAX;
	p.leaf_index = 0;
	p.period = 0;
	assert_int_equal(ctng_cert_proofs_add(&ps, &p, &err), 0);
	ctng_logger_proof_clear(&p);

	uint8_t *der = NULL;
	size_t len = 0;
	assert_int_equal(ctng_cert_proofs_encode(&ps, &der, &len, &err), 0);
	ctng_cert_proofs back;
	assert_int_equal(ctng_cert_proofs_decode(der, len, &back, &err), 0);
	assert_int_equal(back.rid, 0xfffffffe);
	assert_int_equal(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const ctng_logger_proof *a = &ps.proofs[i], *b = &back.proofs[i];
		assert_string_equal(a->logger_id, b->logger_id);
		assert_true(a->period == b->period && a->tree_size == b->tree_size &&
		            a->sth_timestamp_ms == b->sth_timestamp_ms &&
		            a->leaf_timestamp_ms == b->leaf_timestamp_ms &&
		            a->leaf_index == b->leaf_index);
		assert_memory_equal(a->root, b->root, 32);
		assert_int_equal(a->sth_sig_len, b->sth_sig_len);
		assert_memory_equal(a->sth_sig, b->sth_sig, a->sth_sig_len);
		assert_int_equal(a->leaf_exts_len, b->leaf_exts_len);
		if (a->leaf_exts_len)
			assert_memory_equal(a->leaf_exts, b->leaf_exts, a->leaf_exts_len);
		assert_int_equal(a->path_len, b->path_len);
		if (a->path_len)
			assert_memory_equal(a->audit_path, b->audit_path, a->path_len * 32);
	}
	/* re-encoding is byte-identical (canonical) */
	uint8_t *der2 = NULL;
	size_t len2 = 0;
	assert_int_equal(ctng_cert_proofs_encode(&back, &der2, &len2, &err), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(der, der2, len);
	free(der2);

	/* every truncation fails; trailing byte fails */
	for (size_t cut = 0; cut < len; cut++) {
		ctng_cert_proofs tmp;
		assert_int_not_equal(ctng_cert_proofs_decode(der, cut, &tmp, NULL), 0);
		assert_int_equal(tmp.n, 0);
	}
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	ctng_cert_proofs tmp2;
	assert_int_equal(ctng_cert_proofs_decode(longer, len + 1, &tmp2, &err), CTNG_EINVAL);
	free(longer);
	/* single-bit flips never crash and never yield a different valid value that
	 * re-encodes differently from its input */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			der[i] ^= (uint8_t)(1 << bit);
			ctng_cert_proofs tmp;
			if (ctng_cert_proofs_decode(der, len, &tmp, NULL) == 0) {
				uint8_t *re = NULL;
				size_t rl = 0;
				assert_int_equal(ctng_cert_proofs_encode(&tmp, &re, &rl, NULL), 0);
				assert_int_equal(rl, len);
				assert_memory_equal(re, der, len);
				free(re);
				ctng_cert_proofs_clear(&tmp);
			}
			der[i] ^= (uint8_t)(1 << bit);
		}
	}
	free(der);
	ctng_cert_proofs_clear(&back);
	ctng_cert_proofs_clear(&ps);
}

static void expect_bad(const uint8_t *d, size_t n, const char *needle)
{
	ctng_err err = {0};
	ctng_cert_proofs out;
	assert_int_equal(ctng_cert_proofs_decode(d, n, &out, &err), CTNG_EINVAL);
	if (needle && !strstr(err.msg, needle)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
		fail();
	}
}

static void test_ext_strict(void **state)
{
	(void)state;
	/* version 2 */
	expect_bad((const uint8_t *)"\x30\x08\x02\x01\x02\x02\x01\x00\x30\x00", 10, "version");
	/* empty proofs */
	expect_bad((const uint8_t *)"\x30\x08\x02\x01\x01\x02\x01\x00\x30\x00", 10, "no logger");
	/* non-minimal INTEGER (leading zero) */
	expect_bad((const uint8_t *)"\x30\x09\x02\x02\x00\x01\x02\x01\x00\x30\x00", 11,
	           "non-minimal");
	/* negative rid */
	expect_bad((const uint8_t *)"\x30\x08\x02\x01\x01\x02\x01\xff\x30\x00", 10, "negative");
	/* rid >= 2^32 */
	expect_bad((const uint8_t *)"\x30\x0c\x02\x01\x01\x02\x05\x01\x00\x00\x00\x00\x30\x00", 14,
	           "range");
	/* indefinite length */
	expect_bad((const uint8_t *)"\x30\x80\x02\x01\x01\x00\x00", 7, "indefinite");
	/* long-form length for a short value */
	expect_bad((const uint8_t *)"\x30\x81\x08\x02\x01\x01\x02\x01\x00\x30\x00", 11,
	           "non-minimal length");
	/* wrong outer tag */
	expect_bad((const uint8_t *)"\x31\x08\x02\x01\x01\x02\x01\x00\x30\x00", 10, "tag");
	expect_bad(NULL, 0, NULL);

	/* a valid proof with its audit path element shortened to 31 bytes */
	ctng_cert_proofs ps = {.rid = 5};
	ctng_logger_proof p;
	fill_proof(&p, "l1", 1);
	ctng_cert_proofs_add(&ps, &p, NULL);
	ctng_logger_proof_clear(&p);
	uint8_t *der;
	size_t len;
	assert_int_equal(ctng_cert_proofs_encode(&ps, &der, &len, NULL), 0);
	/* last 34 bytes are 04 20 <32>; rewrite the element length to 0x1f */
	assert_int_equal(der[len - 34], 0x04);
	der[len - 33] = 0x1f;
	expect_bad(der, len, NULL);
	free(der);
	/* leaf_index >= tree_size refused by the encoder */
	ps.proofs[0].leaf_index = ps.proofs[0].tree_size;
	assert_int_equal(ctng_cert_proofs_encode(&ps, &der, &len, NULL), CTNG_EINVAL);
	ps.proofs[0].leaf_index = 0;
	strcpy(ps.proofs[0].logger_id, "bad id");
	assert_int_equal(ctng_cert_proofs_encode(&ps, &der, &len, NULL), CTNG_EINVAL);
	ctng_cert_proofs_clear(&ps);
}

/* --------------------------------------------------- PEM / DER strictness */

static void test_pem_der(void **state)
{
	(void)state;
	fixture f;
	make_fixture(&f, CTNG_SIG_ECDSA_P256, "www.example.com");
	ctng_err err = {0};
	char *pem = NULL;
	size_t pl = 0;
	assert_int_equal(ctng_cert_to_pem(f.root, &pem, &pl, &err), 0);
	X509 *x = NULL;
	assert_int_equal(ctng_cert_from_pem(pem, pl, &x, &err), 0);
	assert_int_equal(X509_cmp(x, f.root), 0);
	X509_free(x);
	/* two blocks */
	size_t dl = 2 * pl + 1;
	char *two = malloc(dl);
	snprintf(two, dl, "%s%s", pem, pem);
	assert_int_equal(ctng_cert_from_pem(two, strlen(two), &x, &err), CTNG_EINVAL);
	assert_null(x);
	/* leading garbage */
	snprintf(two, dl, "hello\n%s", pem);
	assert_int_equal(ctng_cert_from_pem(two, strlen(two), &x, &err), CTNG_EINVAL);
	/* a key block */
	assert_int_equal(ctng_cert_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC "
	                                    "KEY-----\n",
	                                    52, &x, &err),
	                 CTNG_EINVAL);
	/* corrupted base64 */
	memcpy(two, pem, pl + 1);
	two[40] = '!';
	assert_int_equal(ctng_cert_from_pem(two, pl, &x, &err), CTNG_EINVAL);
	free(two);
	free(pem);

	uint8_t *der = NULL;
	size_t len = 0;
	assert_int_equal(ctng_cert_to_der(f.precert, &der, &len, &err), 0);
	assert_int_equal(ctng_cert_from_der(der, len, &x, &err), 0);
	X509_free(x);
	assert_int_equal(ctng_cert_from_der(der, len - 1, &x, &err), CTNG_EINVAL);
	uint8_t *more = malloc(len + 1);
	memcpy(more, der, len);
	more[len] = 0;
	assert_int_equal(ctng_cert_from_der(more, len + 1, &x, &err), CTNG_EINVAL);
	free(more);
	/* BER, not DER: the outer length re-written in a non-minimal long form */
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[1], 0x82);
	uint8_t *ber = malloc(len + 1);
	ber[0] = 0x30;
	ber[1] = 0x83;
	ber[2] = 0;
	memcpy(ber + 3, der + 2, len - 2);
	assert_int_equal(ctng_cert_from_der(ber, len + 1, &x, &err), CTNG_EINVAL);
	assert_null(x);
	free(ber);
	free(der);

	char name[CTNG_DNS_NAME_MAX + 1];
	assert_int_equal(ctng_cert_dns_name(f.precert, name, &err), 0);
	assert_string_equal(name, "www.example.com");
	assert_int_equal(ctng_cert_dns_name(f.root, name, &err), CTNG_EINVAL);
	assert_true(ctng_cert_is_precert(f.precert));
	assert_false(ctng_cert_is_precert(f.root));
	assert_int_equal(ctng_cert_check_issued(f.precert, f.root, &err), 0);
	assert_int_equal(ctng_cert_check_issued(f.root, f.root, &err), 0);

	/* a precert checked against another CA fails */
	fixture g;
	make_fixture(&g, CTNG_SIG_ED25519, "a.example");
	assert_int_equal(ctng_cert_check_issued(f.precert, g.root, &err), CTNG_EVERIFY);
	free_fixture(&g);
	free_fixture(&f);
}

/* ------------------------------------------- entries, cross-check with OpenSSL */

static char *write_log_list(const ctng_sig_key *log_key)
{
	char *hex = NULL;
	uint8_t *der = NULL;
	size_t dl = 0;
	assert_int_equal(ctng_sig_public_der(log_key, &der, &dl, NULL), 0);
	char *b64 = ctng_b64_strdup(der, dl);
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/ctng_test_cert_%d.cnf", (int)getpid());
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "enabled_logs = testlog\n[testlog]\ndescription = test\nkey = %s\n", b64);
	fclose(fp);
	free(b64);
	free(der);
	free(hex);
	return path;
}

/* Signs an SCT over our precert_entry bytes and lets OpenSSL's SCT_validate
 * (which builds the precert TBS itself) judge it: the two implementations must
 * agree on the TBS-without-poison and the issuer key hash. */
static void openssl_sct_check(X509 *cert, X509 *issuer, const ctng_ct_entry *e, bool precert)
{
	ctng_err err = {0};
	ctng_sig_key *log_key = NULL;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &log_key, &err), 0);
	uint64_t ts = ctng_now_ms() - 1000;
	ctng_buf tbs = {0};
	assert_int_equal(ctng_ct_sct_signed_bytes(e, ts, NULL, 0, &tbs, &err), 0);
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sl;
	assert_int_equal(ctng_sig_sign(log_key, tbs.data, tbs.len, sig, &sl, &err), 0);
	ctng_buf_free(&tbs);
	uint8_t log_id[32];
	assert_int_equal(ctng_sig_key_id(log_key, log_id, &err), 0);

	SCT *sct = SCT_new();
	assert_non_null(sct);
	assert_int_equal(SCT_set_version(sct, SCT_VERSION_V1), 1);
	assert_int_equal(SCT_set_log_entry_type(sct, precert ? CT_LOG_ENTRY_TYPE_PRECERT
	                                                     : CT_LOG_ENTRY_TYPE_X509),
	                 1);
	assert_int_equal(SCT_set1_log_id(sct, log_id, 32), 1);
	SCT_set_timestamp(sct, ts);
	assert_int_equal(SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256), 1);
	assert_int_equal(SCT_set1_signature(sct, sig, sl), 1);

	char *path = write_log_list(log_key);
	CTLOG_STORE *store = CTLOG_STORE_new();
	assert_int_equal(CTLOG_STORE_load_file(store, path), 1);
	unlink(path);
	CT_POLICY_EVAL_CTX *ctx = CT_POLICY_EVAL_CTX_new();
	assert_int_equal(CT_POLICY_EVAL_CTX_set1_cert(ctx, cert), 1);
	assert_int_equal(CT_POLICY_EVAL_CTX_set1_issuer(ctx, issuer), 1);
	CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx, store);
	CT_POLICY_EVAL_CTX_set_time(ctx, ctng_now_ms());
	assert_int_equal(SCT_validate(sct, ctx), 1);
	assert_int_equal(SCT_get_validation_status(sct), SCT_VALIDATION_STATUS_VALID);
	/* a changed timestamp is refused, so the check above is not vacuous */
	SCT_set_timestamp(sct, ts + 1);
	assert_int_not_equal(SCT_validate(sct, ctx), 1);
	CT_POLICY_EVAL_CTX_free(ctx);
	CTLOG_STORE_free(store);
	SCT_free(sct);
	ctng_sig_key_free(log_key);
}

static void test_entries_vs_openssl(void **state)
{
	(void)state;
	ctng_sig_alg algs[2] = {CTNG_SIG_ECDSA_P256, CTNG_SIG_ED25519};
	for (int a = 0; a < 2; a++) {
		fixture f;
		make_fixture(&f, algs[a], "shop.example.org");
		ctng_err err = {0};
		ctng_ct_entry e;
		assert_int_equal(ctng_ct_entry_precert_x509(f.precert, f.root, &e, &err), 0);
		assert_int_equal(e.type, CTNG_CT_PRECERT_ENTRY);
		uint8_t ikh[32];
		assert_int_equal(ctng_cert_spki_hash(f.root, ikh, &err), 0);
		assert_memory_equal(e.issuer_key_hash, ikh, 32);
		openssl_sct_check(f.precert, f.root, &e, true);

		/* the DER variant gives the same entry */
		uint8_t *pd, *id;
		size_t pl, il;
		ctng_cert_to_der(f.precert, &pd, &pl, NULL);
		ctng_cert_to_der(f.root, &id, &il, NULL);
		ctng_ct_entry e2;
		assert_int_equal(ctng_ct_entry_precert(pd, pl, id, il, &e2, &err), 0);
		assert_int_equal(e2.der_len, e.der_len);
		assert_memory_equal(e2.der, e.der, e.der_len);
		ctng_ct_entry_clear(&e2);
		/* a precert is not an x509 entry; the root has no poison */
		assert_int_equal(ctng_ct_entry_x509(pd, pl, &e2, &err), CTNG_EINVAL);
		assert_int_equal(ctng_ct_entry_precert(id, il, id, il, &e2, &err), CTNG_EINVAL);
		/* x509 entry of the root, checked by OpenSSL as well */
		assert_int_equal(ctng_ct_entry_x509(id, il, &e2, &err), 0);
		openssl_sct_check(f.root, f.root, &e2, false);
		ctng_ct_entry_clear(&e2);
		free(pd);
		free(id);

		/* leaf encode / decode round trip, and the leaf hash */
		ctng_buf leaf = {0};
		assert_int_equal(
		    ctng_ct_leaf_encode(&e, 1234567, (const uint8_t *)"ab", 2, &leaf, &err), 0);
		assert_int_equal(leaf.len, 2 + 8 + 2 + 32 + 3 + e.der_len + 2 + 2);
		ctng_ct_entry d;
		uint64_t ts;
		uint8_t *ex;
		size_t exl;
		assert_int_equal(ctng_ct_leaf_decode(leaf.data, leaf.len, &d, &ts, &ex, &exl, &err),
		                 0);
		assert_int_equal(ts, 1234567);
		assert_int_equal(exl, 2);
		assert_memory_equal(ex, "ab", 2);
		assert_int_equal(d.type, CTNG_CT_PRECERT_ENTRY);
		assert_memory_equal(d.issuer_key_hash, e.issuer_key_hash, 32);
		assert_int_equal(d.der_len, e.der_len);
		assert_memory_equal(d.der, e.der, e.der_len);
		free(ex);
		ctng_ct_entry_clear(&d);
		for (size_t cut = 0; cut < leaf.len; cut++)
			assert_int_equal(
			    ctng_ct_leaf_decode(leaf.data, cut, &d, NULL, NULL, NULL, NULL),
			    CTNG_EINVAL);
		uint8_t h1[32], h2[32];
		assert_int_equal(ctng_ct_leaf_hash(&e, 1234567, (const uint8_t *)"ab", 2, h1, &err),
		                 0);
		ctng_merkle_leaf_hash(h2, leaf.data, leaf.len);
		assert_memory_equal(h1, h2, 32);
		ctng_buf_free(&leaf);
		ctng_ct_entry_clear(&e);
		free_fixture(&f);
	}
}

/* ---------------------------------------- final certificate with real proofs */

static void test_final_cert_proofs(void **state)
{
	(void)state;
	fixture f;
	make_fixture(&f, CTNG_SIG_ECDSA_P256, "pay.example.net");
	ctng_err err = {0};
	ctng_sig_key *log_key = NULL;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &log_key, &err), 0);

	/* a log with 37 other leaves and ours at index 21 */
	ctng_ct_entry e;
	assert_int_equal(ctng_ct_entry_precert_x509(f.precert, f.root, &e, &err), 0);
	uint64_t leaf_ts = 1700000000777ull;
	uint8_t leaves[38][32];
	for (int i = 0; i < 38; i++) {
		uint8_t junk[4] = {(uint8_t)i, 1, 2, 3};
		ctng_merkle_leaf_hash(leaves[i], junk, 4);
	}
	assert_int_equal(ctng_ct_leaf_hash(&e, leaf_ts, NULL, 0, leaves[21], &err), 0);
	ctng_ct_entry_clear(&e);

	ctng_clock clock = {.genesis_ms = 1600000000000ull, .period_ms = 60000};
	ctng_sth sth = {.timestamp_ms = 1700000060000ull, .tree_size = 38};
	assert_int_equal(ctng_merkle_root((const uint8_t(*)[32])leaves, 38, 38, sth.root, &err), 0);
	ctng_gossip_object sto = {0};
	assert_int_equal(ctng_sth_sign(&sto, "logger1", log_key, &sth, &clock, &err), 0);

	ctng_logger_proof p = {0};
	strcpy(p.logger_id, "logger1");
	p.period = sto.period;
	p.tree_size = 38;
	p.sth_timestamp_ms = sth.timestamp_ms;
	memcpy(p.root, sth.root, 32);
	assert_int_equal(ctng_b64_decode_alloc(sto.signature[0], strlen(sto.signature[0]),
	                                       &p.sth_sig, &p.sth_sig_len, &err),
	                 0);
	p.leaf_timestamp_ms = leaf_ts;
	p.leaf_index = 21;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	assert_int_equal(ctng_merkle_inclusion_proof((const uint8_t(*)[32])leaves, 38, 21, 38,
	                                             proof, &p.path_len, &err),
	                 0);
	p.audit_path = malloc(p.path_len * 32);
	memcpy(p.audit_path, proof, p.path_len * 32);
	ctng_cert_proofs ps = {.rid = 42};
	assert_int_equal(ctng_cert_proofs_add(&ps, &p, &err), 0);

	X509 *cert = NULL;
	assert_int_equal(ctng_cert_make_final(f.precert, &ps, f.root, f.ca_key, &cert, &err), 0);
	assert_false(ctng_cert_is_precert(cert));
	assert_int_equal(ctng_cert_check_issued(cert, f.root, &err), 0);
	/* same serial, names, key and validity as the precert */
	assert_int_equal(
	    ASN1_INTEGER_cmp(X509_get0_serialNumber(cert), X509_get0_serialNumber(f.precert)), 0);
	assert_int_equal(
	    X509_NAME_cmp(X509_get_subject_name(cert), X509_get_subject_name(f.precert)), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), X509_get0_pubkey(f.precert)), 1);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(f.precert)),
	                 0);

	ctng_cert_proofs got;
	assert_int_equal(ctng_cert_get_proofs(cert, &got, &err), 0);
	assert_int_equal(got.rid, 42);
	assert_int_equal(got.n, 1);
	assert_int_equal(ctng_cert_proof_verify_inclusion(cert, f.root, &got.proofs[0], &err), 0);
	assert_int_equal(ctng_logger_proof_verify_sth(&got.proofs[0], log_key, &clock, &err), 0);
	/* the STH as embedded has the digest of the signed STH object */
	uint8_t d1[32], d2[32], tbs[CTNG_STH_TBS_LEN];
	ctng_sth s2;
	ctng_logger_proof_sth(&got.proofs[0], &s2);
	ctng_sth_tbs(&s2, tbs);
	EVP_Digest(tbs, sizeof(tbs), d1, NULL, EVP_sha256(), NULL);
	assert_int_equal(ctng_gossip_content_digest(&sto, d2, &err), 0);
	assert_memory_equal(d1, d2, 32);

	/* tampering is caught */
	got.proofs[0].leaf_index = 20;
	assert_int_equal(ctng_cert_proof_verify_inclusion(cert, f.root, &got.proofs[0], &err),
	                 CTNG_EVERIFY);
	got.proofs[0].leaf_index = 21;
	got.proofs[0].leaf_timestamp_ms++;
	assert_int_equal(ctng_cert_proof_verify_inclusion(cert, f.root, &got.proofs[0], &err),
	                 CTNG_EVERIFY);
	got.proofs[0].leaf_timestamp_ms--;
	got.proofs[0].tree_size++;
	assert_int_equal(ctng_logger_proof_verify_sth(&got.proofs[0], log_key, &clock, &err),
	                 CTNG_EVERIFY);
	got.proofs[0].tree_size--;
	got.proofs[0].period++;
	assert_int_equal(ctng_logger_proof_verify_sth(&got.proofs[0], log_key, &clock, &err),
	                 CTNG_EVERIFY);
	ctng_cert_proofs_clear(&got);
	/* a proof for another certificate (the precert entry of another name) fails */
	fixture g;
	make_fixture(&g, CTNG_SIG_ECDSA_P256, "other.example.net");
	X509 *other = NULL;
	assert_int_equal(ctng_cert_make_final(g.precert, &ps, g.root, g.ca_key, &other, &err), 0);
	ctng_cert_proofs og;
	assert_int_equal(ctng_cert_get_proofs(other, &og, &err), 0);
	assert_int_equal(ctng_cert_proof_verify_inclusion(other, g.root, &og.proofs[0], &err),
	                 CTNG_EVERIFY);
	ctng_cert_proofs_clear(&og);
	X509_free(other);
	free_fixture(&g);
	/* precert has no CTng extension */
	assert_int_equal(ctng_cert_get_proofs(f.precert, &got, &err), CTNG_ENOTFOUND);

	/* openssl binary accepts the chain and prints the certificate */
	char dir[64], cmd[512];
	snprintf(dir, sizeof(dir), "/tmp/ctng_test_cert_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	assert_int_equal(system(cmd), 0);
	char rp[128], cp[128];
	snprintf(rp, sizeof(rp), "%s/root.pem", dir);
	snprintf(cp, sizeof(cp), "%s/cert.pem", dir);
	assert_int_equal(ctng_cert_save_file(f.root, rp, 0644, &err), 0);
	assert_int_equal(ctng_cert_save_file(cert, cp, 0644, &err), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s >/dev/null 2>&1", rp, cp);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
	         "openssl x509 -in %s -noout -text | grep -q '1.3.6.1.4.1.55555.1.1'", cp);
	assert_int_equal(system(cmd), 0);
	/* the precert is refused by openssl verify (critical poison) — or at least
	 * the final cert must not carry it; and a cert under another root fails */
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s >/dev/null 2>&1", cp, rp);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);

	X509_free(cert);
	ctng_cert_proofs_clear(&ps);
	ctng_logger_proof_clear(&p);
	ctng_gossip_clear(&sto);
	ctng_sig_key_free(log_key);
	free_fixture(&f);
}

static void test_builder_rejects(void **state)
{
	(void)state;
	fixture f;
	make_fixture(&f, CTNG_SIG_ECDSA_P256, "x.example");
	ctng_err err = {0};
	X509 *x = NULL;
	ctng_cert_template t = {.dns_name = "bad_name.example",
	                        .subject_key = ctng_sig_key_evp(f.subj_key),
	                        .serial = {1},
	                        .serial_len = 1,
	                        .not_before_ms = 0,
	                        .not_after_ms = 1000};
	assert_int_equal(ctng_cert_make_precert(&t, f.root, f.ca_key, &x, &err), CTNG_EINVAL);
	t.dns_name = "ok.example";
	t.serial[0] = 0x80;
	assert_int_equal(ctng_cert_make_precert(&t, f.root, f.ca_key, &x, &err), CTNG_EINVAL);
	t.serial[0] = 1;
	/* the wrong CA key for this root */
	assert_int_equal(ctng_cert_make_precert(&t, f.root, f.subj_key, &x, &err), CTNG_EINVAL);
	assert_null(x);
	/* a name longer than a CN can hold: empty subject, critical SAN */
	t.dns_name = "a-very-long-host-name-that-does-not-fit-in-a-common-name.example.com";
	assert_int_equal(ctng_cert_make_precert(&t, f.root, f.ca_key, &x, &err), 0);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	int crit = 0;
	GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gn);
	assert_int_equal(crit, 1);
	GENERAL_NAMES_free(gn);
	char dn[CTNG_DNS_NAME_MAX + 1];
	assert_int_equal(ctng_cert_dns_name(x, dn, &err), 0);
	assert_string_equal(dn, t.dns_name);
	X509_free(x);
	x = NULL;
	/* empty proofs */
	ctng_cert_proofs ps = {0};
	assert_int_equal(ctng_cert_make_final(f.precert, &ps, f.root, f.ca_key, &x, &err),
	                 CTNG_EINVAL);
	free_fixture(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dns_names),          cmocka_unit_test(test_ext_roundtrip),
	    cmocka_unit_test(test_ext_strict),         cmocka_unit_test(test_pem_der),
	    cmocka_unit_test(test_entries_vs_openssl), cmocka_unit_test(test_final_cert_proofs),
	    cmocka_unit_test(test_builder_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
