/*
 * test_client.c — the relying-party library (include/ctng/client.h) against a
 * synthetic but real network (client_fixture.h): state open/reopen rules,
 * applying updates, every validation reason, tampered certificates, and
 * forged or incomplete updates that must be rejected with nothing kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "client/client_internal.h"
#include "client_fixture.h"

#define OK(x)                                                                                      \
	do {                                                                                       \
		ctng_err e_ = {0};                                                                 \
		int r_ = (x);                                                                      \
		(void)e_;                                                                          \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

static ctng_err err;

static ctng_client *open_mem(cfx *f)
{
	ctng_client *c = NULL;
	OK(ctng_client_open(":memory:", f->net_json, f->net_len, &c, &err));
	return c;
}

/* apply the fixture's update of period p; returns the code */
static int apply(cfx *f, ctng_client *c, uint64_t p, const cfx_upd_opts *uo)
{
	char *txt = NULL;
	size_t len = 0;
	OK(cfx_update(f, p, uo, &txt, &len, &err));
	memset(&err, 0, sizeof(err));
	int rc = ctng_client_apply_update(c, txt, len, NULL, &err);
	free(txt);
	return rc;
}

static ctng_client_reason check(ctng_client *c, X509 *x)
{
	ctng_client_result r;
	OK(ctng_client_validate_x509(c, x, NULL, ctng_now_ms(), &r, &err));
	assert_non_null(ctng_client_reason_name(r.reason));
	assert_true(r.message[0] != 0);
	return r.reason;
}

/* A certificate of CA `ca` logged at loggers[] in period p, with p's STHs
 * closed (all loggers). */
static X509 *issue(cfx *f, size_t ca, const char *dns, uint32_t rid, const size_t *lg, size_t n,
                   uint64_t p, cfx_pend *keep)
{
	cfx_pend pend;
	X509 *x = NULL;
	OK(cfx_precert(f, ca, dns, rid, lg, n, p, &pend, &err));
	OK(cfx_close_period(f, p, &err));
	OK(cfx_finalize(f, &pend, &x, &err));
	if (keep)
		*keep = pend;
	else
		cfx_pend_free(&pend);
	return x;
}

/* Several certificates of one period: all leaves first, then one STH per
 * logger, then the final certificates. */
typedef struct spec {
	size_t ca;
	const char *dns;
	uint32_t rid;
	const size_t *lg;
	size_t n;
} spec;

static void issue_many(cfx *f, const spec *s, size_t n, uint64_t p, X509 **out)
{
	cfx_pend pend[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		OK(cfx_precert(f, s[i].ca, s[i].dns, s[i].rid, s[i].lg, s[i].n, p, &pend[i], &err));
	OK(cfx_close_period(f, p, &err));
	for (size_t i = 0; i < n; i++) {
		OK(cfx_finalize(f, &pend[i], &out[i], &err));
		cfx_pend_free(&pend[i]);
	}
}

/* ------------------------------------------------------------ state */

static void test_open_rules(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 2, 2, 2, &err));
	char path[300];
	snprintf(path, sizeof(path), "%s/client.db", f.dir);
	ctng_client *c = NULL;
	assert_int_equal(ctng_client_open(path, NULL, 0, &c, &err), CTNG_ESTATE);
	assert_null(c);
	assert_int_equal(ctng_client_open(path, "{}", 2, &c, &err), CTNG_EINVAL);
	OK(ctng_client_open(path, f.net_json, f.net_len, &c, &err));
	assert_false(ctng_client_last_period(c, NULL));
	OK(cfx_close_period(&f, 3, &err));
	assert_int_equal(apply(&f, c, 3, NULL), 0);
	ctng_client_close(c);
	/* reopen without the network: recorded */
	OK(ctng_client_open(path, NULL, 0, &c, &err));
	uint64_t p = 0;
	assert_true(ctng_client_last_period(c, &p));
	assert_int_equal(p, 3);
	assert_true(ctng_client_first_period(c, &p));
	assert_int_equal(p, 3);
	ctng_client_close(c);
	/* another network text is a conflict */
	char *other = malloc(f.net_len + 1);
	memcpy(other, f.net_json, f.net_len);
	other[f.net_len] = ' ';
	assert_int_equal(ctng_client_open(path, other, f.net_len + 1, &c, &err), CTNG_ECONFLICT);
	free(other);
	/* the same one is fine */
	OK(ctng_client_open(path, f.net_json, f.net_len, &c, &err));
	ctng_client_close(c);
	cfx_free(&f);
}

/* ------------------------------------------------ validation reasons */

static void test_valid_revoked_persisted(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 2, 2, 2, &err));
	char path[300];
	snprintf(path, sizeof(path), "%s/client.db", f.dir);
	ctng_client *c = NULL;
	OK(ctng_client_open(path, f.net_json, f.net_len, &c, &err));
	OK(cfx_close_period(&f, 0, &err));
	assert_int_equal(apply(&f, c, 0, NULL), 0);
	size_t lg[] = {0};
	X509 *x = issue(&f, 0, "shop.example.com", 7, lg, 1, 1, NULL);
	/* not synced to period 1 yet */
	assert_int_equal(check(c, x), CTNG_CLIENT_STALE);
	ctng_client_apply_stats st;
	char *txt = NULL;
	size_t len = 0;
	OK(cfx_update(&f, 1, NULL, &txt, &len, &err));
	OK(ctng_client_apply_update(c, txt, len, &st, &err));
	free(txt);
	assert_int_equal(st.period, 1);
	assert_int_equal(st.sth_full, 2);
	assert_int_equal(st.rev_full, 2);
	assert_int_equal(st.revoked, 0);
	ctng_client_result r;
	OK(ctng_client_validate_x509(c, x, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_OK);
	assert_string_equal(r.ca, "ca1");
	assert_string_equal(r.logger, "logger1");
	assert_int_equal(r.rid, 7);
	/* DER and PEM entry points */
	uint8_t *der = NULL;
	size_t dl = 0;
	char *pem = NULL;
	size_t pl = 0;
	OK(ctng_cert_to_der(x, &der, &dl, &err));
	OK(ctng_cert_to_pem(x, &pem, &pl, &err));
	OK(ctng_client_validate_der(c, der, dl, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_OK);
	OK(ctng_client_validate_pem(c, pem, pl, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_OK);
	/* PEM with the root appended as (redundant) chain */
	char *root_pem = NULL;
	OK(ctng_cert_to_pem(f.ca_root[0], &root_pem, NULL, &err));
	char *both = malloc(pl + strlen(root_pem) + 16);
	strcpy(both, pem);
	strcat(both, root_pem);
	OK(ctng_client_validate_pem(c, both, strlen(both), ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_OK);
	/* garbage between blocks */
	strcpy(both, pem);
	strcat(both, "junk\n");
	strcat(both, root_pem);
	OK(ctng_client_validate_pem(c, both, strlen(both), ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_MALFORMED);
	free(both);
	free(root_pem);
	der[dl / 2] ^= 1;
	OK(ctng_client_validate_der(c, der, dl, ctng_now_ms(), &r, &err));
	assert_true(r.reason == CTNG_CLIENT_MALFORMED || r.reason == CTNG_CLIENT_CHAIN);
	OK(ctng_client_validate_der(c, der, 10, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_MALFORMED);
	free(der);
	free(pem);

	/* revoke: REV of period 2 carries it */
	cfx_revoke(&f, 0, 7);
	OK(cfx_close_period(&f, 2, &err));
	OK(cfx_update(&f, 2, NULL, &txt, &len, &err));
	OK(ctng_client_apply_update(c, txt, len, &st, &err));
	free(txt);
	assert_int_equal(st.revoked, 1);
	assert_int_equal(check(c, x), CTNG_CLIENT_REVOKED);
	bool known = false;
	assert_true(ctng_client_revoked(c, "ca1", 7, &known));
	assert_true(known);
	assert_false(ctng_client_revoked(c, "ca2", 7, NULL));
	ctng_client_close(c);
	/* persisted */
	OK(ctng_client_open(path, NULL, 0, &c, &err));
	assert_int_equal(check(c, x), CTNG_CLIENT_REVOKED);
	/* another certificate of the same CA is still fine, state after reopen */
	X509 *y = issue(&f, 0, "other.example.com", 8, lg, 1, 3, NULL);
	assert_int_equal(apply(&f, c, 3, NULL), 0);
	assert_int_equal(check(c, y), CTNG_CLIENT_OK);
	X509_free(y);
	X509_free(x);
	ctng_client_close(c);
	cfx_free(&f);
}

static void test_convictions_and_accusations(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 2, 2, 2, &err));
	ctng_client *c = open_mem(&f);
	size_t only0[] = {0}, both[] = {0, 1};
	X509 *x3[3];
	const spec s3[] = {{0, "a.example.com", 1, only0, 1},
	                   {0, "b.example.com", 2, both, 2},
	                   {1, "d.example.com", 3, only0, 1}};
	issue_many(&f, s3, 3, 0, x3);
	X509 *a = x3[0], *b = x3[1], *d = x3[2];
	/* without the accusation all three would be valid */
	ctng_client *c0 = open_mem(&f);
	assert_int_equal(apply(&f, c0, 0, NULL), 0);
	assert_int_equal(check(c0, a), CTNG_CLIENT_OK);
	assert_int_equal(check(c0, d), CTNG_CLIENT_OK);
	ctng_client_close(c0);
	/* period 0: logger1 accused */
	cfx_upd_opts uo = {.acc_logger_mask = 1};
	assert_int_equal(apply(&f, c, 0, &uo), 0);
	assert_true(ctng_client_accused(c, "logger1", 0));
	assert_int_equal(check(c, a), CTNG_CLIENT_NO_VALID_LOGGER);
	assert_int_equal(check(c, b), CTNG_CLIENT_OK); /* logger2 carries it */
	assert_int_equal(check(c, d), CTNG_CLIENT_NO_VALID_LOGGER);

	/* period 1: CON_FULL against logger1 and against ca2 */
	const spec s2[] = {{0, "a1.example.com", 4, only0, 1}, {0, "b1.example.com", 5, both, 2}};
	issue_many(&f, s2, 2, 1, x3);
	X509 *a1 = x3[0], *b1 = x3[1];
	uo = (cfx_upd_opts){.con_logger_mask = 1, .con_ca_mask = 2};
	ctng_client_apply_stats st;
	char *txt = NULL;
	size_t len = 0;
	OK(cfx_update(&f, 1, &uo, &txt, &len, &err));
	OK(ctng_client_apply_update(c, txt, len, &st, &err));
	free(txt);
	assert_int_equal(st.con_full, 2);
	assert_int_equal(st.con, 2);
	assert_int_equal(st.new_convictions, 2);
	assert_true(ctng_client_convicted(c, "logger1"));
	assert_true(ctng_client_convicted(c, "ca2"));
	assert_false(ctng_client_convicted(c, "ca1"));
	assert_int_equal(check(c, a1), CTNG_CLIENT_NO_VALID_LOGGER);
	assert_int_equal(check(c, b1), CTNG_CLIENT_OK);
	assert_int_equal(check(c, d), CTNG_CLIENT_ISSUER_CONVICTED);
	ctng_client_result r;
	OK(ctng_client_validate_x509(c, a1, NULL, ctng_now_ms(), &r, &err));
	assert_non_null(strstr(r.message, "convicted"));
	/* the CON_FULL is carried again next period (permanent): no new conviction */
	OK(cfx_close_period(&f, 2, &err));
	OK(cfx_update(&f, 2, &uo, &txt, &len, &err));
	OK(ctng_client_apply_update(c, txt, len, &st, &err));
	free(txt);
	assert_int_equal(st.new_convictions, 0);
	X509_free(a);
	X509_free(b);
	X509_free(d);
	X509_free(a1);
	X509_free(b1);
	ctng_client_close(c);
	cfx_free(&f);
}

static void test_sth_full_rules(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 1, 2, 2, &err));
	ctng_client *c = open_mem(&f);
	size_t only0[] = {0}, only1[] = {1};
	X509 *x2[2];
	const spec s2[] = {{0, "a.example.com", 1, only0, 1}, {0, "b.example.com", 2, only1, 1}};
	issue_many(&f, s2, 2, 4, x2);
	X509 *a = x2[0], *b = x2[1];
	/* logger1: STH_FULL without its STH (still attested by digest);
	 * logger2: no STH_FULL at all */
	cfx_upd_opts uo = {.sth_alone_mask = 1, .no_sth_mask = 2};
	assert_int_equal(apply(&f, c, 4, &uo), 0);
	assert_int_equal(check(c, a), CTNG_CLIENT_OK);
	assert_int_equal(check(c, b), CTNG_CLIENT_NO_VALID_LOGGER);
	X509_free(a);
	X509_free(b);
	ctng_client_close(c);
	cfx_free(&f);
}

/* ------------------------------------------------------ tampered certs */

static X509 *refinalize(cfx *f, const cfx_pend *p, const ctng_cert_proofs *ps)
{
	X509 *x = NULL;
	OK(ctng_cert_make_final(p->precert, ps, f->ca_root[p->ca], f->ca_key[p->ca], &x, &err));
	return x;
}

/* x with its extension `oid` replaced by value der[0..len) (or deleted when
 * der is NULL), re-signed by key: what a misbehaving CA could sign. */
static X509 *resign_ext(X509 *x, const char *oid, const uint8_t *der, size_t len,
                        const ctng_sig_key *key)
{
	X509 *y = X509_dup(x);
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int idx = X509_get_ext_by_OBJ(y, o, -1);
	ASN1_OBJECT_free(o);
	assert_true(idx >= 0);
	if (der) {
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
		assert_int_equal(X509_EXTENSION_set_data(X509_get_ext(y, idx), os), 1);
		ASN1_OCTET_STRING_free(os);
	} else {
		X509_EXTENSION_free(X509_delete_ext(y, idx));
	}
	EVP_PKEY *k = ctng_sig_key_evp(key);
	assert_true(X509_sign(y, k, EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) >
	            0);
	return y;
}

static void test_tampered_certificates(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 1, 2, 2, &err));
	ctng_client *c = open_mem(&f);
	size_t only0[] = {0};
	cfx_pend pend;
	/* a few more leaves so the audit path is not empty */
	X509 *x = issue(&f, 0, "t.example.com", 9, only0, 1, 5, &pend);
	assert_int_equal(apply(&f, c, 5, NULL), 0);
	assert_int_equal(check(c, x), CTNG_CLIENT_OK);
	ctng_cert_proofs ps;
	OK(ctng_cert_get_proofs(x, &ps, &err));
	assert_true(ps.proofs[0].path_len > 0);

	/* 1. audit path byte flipped */
	ps.proofs[0].audit_path[0][3] ^= 0x40;
	X509 *t = refinalize(&f, &pend, &ps);
	ctng_client_result r;
	OK(ctng_client_validate_x509(c, t, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_NO_VALID_LOGGER);
	assert_non_null(strstr(r.message, "inclusion"));
	X509_free(t);
	ps.proofs[0].audit_path[0][3] ^= 0x40;

	/* 2. wrong leaf index */
	ps.proofs[0].leaf_index ^= 1;
	t = refinalize(&f, &pend, &ps);
	assert_int_equal(check(c, t), CTNG_CLIENT_NO_VALID_LOGGER);
	X509_free(t);
	ps.proofs[0].leaf_index ^= 1;

	/* 3. STH root changed (signature no longer matches, not attested) */
	ps.proofs[0].root[0] ^= 1;
	t = refinalize(&f, &pend, &ps);
	OK(ctng_client_validate_x509(c, t, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_NO_VALID_LOGGER);
	assert_non_null(strstr(r.message, "STH_FULL"));
	X509_free(t);
	ps.proofs[0].root[0] ^= 1;

	/* 4. a validly signed STH of the same period that no STH_FULL attests
	 * (a split view): the logger signs a bigger tree */
	uint8_t junk[1] = {1};
	OK(ctng_merkle_mem_append_data(f.tree[0], junk, 1, NULL, &err));
	OK(cfx_close_sth(&f, 0, 5, &err));
	X509 *split = NULL;
	OK(cfx_finalize(&f, &pend, &split, &err));
	OK(ctng_client_validate_x509(c, split, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_NO_VALID_LOGGER);
	assert_non_null(strstr(r.message, "STH_FULL attests"));
	X509_free(split);

	/* 5. STH signature replaced by garbage, head unchanged: attested but
	 * not signed by the logger */
	ps.proofs[0].sth_sig[ps.proofs[0].sth_sig_len - 1] ^= 1;
	t = refinalize(&f, &pend, &ps);
	OK(ctng_client_validate_x509(c, t, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_NO_VALID_LOGGER);
	assert_non_null(strstr(r.message, "signed"));
	X509_free(t);
	ps.proofs[0].sth_sig[ps.proofs[0].sth_sig_len - 1] ^= 1;

	/* 6. unknown logger id */
	strcpy(ps.proofs[0].logger_id, "logger9");
	t = refinalize(&f, &pend, &ps);
	assert_int_equal(check(c, t), CTNG_CLIENT_NO_VALID_LOGGER);
	X509_free(t);
	strcpy(ps.proofs[0].logger_id, "logger1");

	/* 7. untouched proofs re-signed: still valid (the test is sound) */
	t = refinalize(&f, &pend, &ps);
	assert_int_equal(check(c, t), CTNG_CLIENT_OK);
	X509_free(t);

	/* 8. the CTng extension names another RID than the logged RID
	 * extension (re-signed by the CA: the leaf still verifies, since the
	 * CTng extension is cut out of it) */
	ps.rid = 10;
	uint8_t *der = NULL;
	size_t der_len = 0;
	OK(ctng_cert_proofs_encode(&ps, &der, &der_len, &err));
	t = resign_ext(x, CTNG_CERT_EXT_OID, der, der_len, f.ca_key[0]);
	free(der);
	OK(ctng_client_validate_x509(c, t, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_RID_MISMATCH);
	assert_non_null(strstr(r.message, "RID 10"));
	assert_non_null(strstr(r.message, "RID 9"));
	assert_string_equal(ctng_client_reason_name(r.reason), "RID_MISMATCH");
	X509_free(t);
	ps.rid = 9;

	/* 9. a logged RID extension that says 10 instead: not the logged TBS */
	uint8_t rx[CTNG_RID_EXT_MAX];
	size_t rn = ctng_rid_ext_encode(10, rx);
	t = resign_ext(x, CTNG_RID_EXT_OID, rx, rn, f.ca_key[0]);
	assert_int_equal(check(c, t), CTNG_CLIENT_NO_VALID_LOGGER);
	X509_free(t);

	/* 10. no RID extension at all: the RID is not logged */
	t = resign_ext(x, CTNG_RID_EXT_OID, NULL, 0, f.ca_key[0]);
	OK(ctng_client_validate_x509(c, t, NULL, ctng_now_ms(), &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_NO_EXTENSION);
	assert_non_null(strstr(r.message, "RID"));
	X509_free(t);

	ctng_cert_proofs_clear(&ps);
	cfx_pend_free(&pend);
	X509_free(x);
	ctng_client_close(c);
	cfx_free(&f);
}

static void test_chain_and_extension(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 1, 1, 2, 2, &err));
	ctng_client *c = open_mem(&f);
	size_t only0[] = {0};
	cfx_pend pend;
	X509 *x = issue(&f, 0, "c.example.com", 1, only0, 1, 2, &pend);
	assert_int_equal(apply(&f, c, 2, NULL), 0);
	assert_int_equal(check(c, x), CTNG_CLIENT_OK);

	/* no CTng extension: the precert without its poison, re-signed */
	X509 *plain = X509_dup(pend.precert);
	int idx = X509_get_ext_by_OBJ(plain, OBJ_txt2obj(CTNG_CT_POISON_OID, 1), -1);
	assert_true(idx >= 0);
	ASN1_OBJECT *poison = OBJ_txt2obj(CTNG_CT_POISON_OID, 1);
	idx = X509_get_ext_by_OBJ(plain, poison, -1);
	ASN1_OBJECT_free(poison);
	X509_EXTENSION_free(X509_delete_ext(plain, idx));
	assert_true(X509_sign(plain, ctng_sig_key_evp(f.ca_key[0]), EVP_sha256()) > 0);
	assert_int_equal(check(c, plain), CTNG_CLIENT_NO_EXTENSION);
	X509_free(plain);

	/* the precertificate itself: critical poison extension -> chain fails */
	assert_int_equal(check(c, pend.precert), CTNG_CLIENT_CHAIN);

	/* a CA outside the network issuing an otherwise identical cert */
	ctng_sig_key *k = NULL;
	X509 *root = NULL, *pre = NULL, *fin = NULL;
	uint64_t now = ctng_now_ms();
	OK(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &k, &err));
	OK(ctng_cert_make_root("rogue", k, now - 3600000, now + 86400000, &root, &err));
	ctng_cert_template t = {.dns_name = "c.example.com",
	                        .subject_key = ctng_sig_key_evp(f.subject_key),
	                        .serial = {1},
	                        .serial_len = 1,
	                        .not_before_ms = now - 60000,
	                        .not_after_ms = now + 86400000};
	ctng_cert_proofs ps;
	OK(ctng_cert_get_proofs(x, &ps, &err));
	t.rid = ps.rid;
	OK(ctng_cert_make_precert(&t, root, k, &pre, &err));
	OK(ctng_cert_make_final(pre, &ps, root, k, &fin, &err));
	assert_int_equal(check(c, fin), CTNG_CLIENT_CHAIN);
	/* a CA root itself */
	assert_int_equal(check(c, f.ca_root[0]), CTNG_CLIENT_CHAIN);
	/* expired at validation time */
	ctng_client_result r;
	OK(ctng_client_validate_x509(c, x, NULL, now + 86400000ull * 400, &r, &err));
	assert_int_equal(r.reason, CTNG_CLIENT_CHAIN);
	ctng_cert_proofs_clear(&ps);
	X509_free(root);
	X509_free(pre);
	X509_free(fin);
	ctng_sig_key_free(k);
	cfx_pend_free(&pend);
	X509_free(x);
	ctng_client_close(c);
	cfx_free(&f);
}

/* ------------------------------------------- forged / incomplete updates */

static int apply_objs(cfx *f, ctng_client *c, uint64_t p, cfx_objs *o)
{
	char *txt = NULL;
	size_t len = 0;
	OK(cfx_encode(f, p, o, &txt, &len, &err));
	memset(&err, 0, sizeof(err));
	int rc = ctng_client_apply_update(c, txt, len, NULL, &err);
	free(txt);
	return rc;
}

static void expect_unchanged(ctng_client *c, uint64_t last)
{
	uint64_t p = 99999;
	assert_true(ctng_client_last_period(c, &p));
	assert_int_equal(p, last);
}

static void test_forged_updates(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 2, 2, 2, &err));
	ctng_client *c = open_mem(&f);
	OK(cfx_close_period(&f, 0, &err));
	assert_int_equal(apply(&f, c, 0, NULL), 0);
	cfx_objs *o = calloc(1, sizeof(*o));
	size_t lg[] = {0};
	X509 *x = issue(&f, 0, "f.example.com", 3, lg, 1, 1, NULL);

	/* a. a FULL whose signature is another FULL's (valid point, wrong message) */
	OK(cfx_update_objs(&f, 1, NULL, o, &err));
	assert_int_equal(o->v[0].type, CTNG_STH_FULL);
	assert_int_equal(o->v[2].type, CTNG_STH_FULL);
	OK(ctng_gossip_set(&o->v[0].signature[0], o->v[2].signature[0], &err));
	assert_int_equal(apply_objs(&f, c, 1, o), CTNG_EVERIFY);
	assert_non_null(strstr(err.msg, "threshold signature"));
	expect_unchanged(c, 0);
	assert_int_equal(check(c, x), CTNG_CLIENT_STALE);
	cfx_objs_clear(o);

	/* the fixture's CA CRVs advanced while building: rebuild the network
	 * view per attempt by not revoking anything (empty deltas keep hashes) */

	/* b. REV_FULL without its REV */
	OK(cfx_update_objs(&f, 1, NULL, o, &err));
	assert_int_equal(o->v[5].type, CTNG_REV);
	ctng_gossip_clear(&o->v[5]);
	memmove(&o->v[5], &o->v[6], (o->n - 6) * sizeof(o->v[0]));
	o->n--;
	memset(&o->v[o->n], 0, sizeof(o->v[0]));
	assert_int_equal(apply_objs(&f, c, 1, o), CTNG_EVERIFY);
	assert_non_null(strstr(err.msg, "without its REV"));
	expect_unchanged(c, 0);
	cfx_objs_clear(o);

	/* c. REV delta swapped (CA signature covers the delta hash) */
	OK(cfx_update_objs(&f, 1, NULL, o, &err));
	{
		roaring_bitmap_t *bm = roaring_bitmap_of(1, 3);
		uint8_t *d = NULL;
		size_t dl = 0;
		OK(ctng_crv_delta_encode(bm, &d, &dl, &err));
		char *b64 = ctng_b64_strdup(d, dl);
		OK(ctng_gossip_set(&o->v[5].payload[2], b64, &err));
		free(b64);
		free(d);
		roaring_bitmap_free(bm);
	}
	assert_int_equal(apply_objs(&f, c, 1, o), CTNG_EVERIFY);
	expect_unchanged(c, 0);
	cfx_objs_clear(o);

	/* d. below threshold: one signer only */
	OK(cfx_update_objs(&f, 1, NULL, o, &err));
	free(o->v[0].signers[1]);
	o->v[0].n_signers = 1;
	assert_int_not_equal(apply_objs(&f, c, 1, o), 0);
	o->v[0].n_signers = 2;
	o->v[0].signers[1] = strdup("gossiper2");
	expect_unchanged(c, 0);
	cfx_objs_clear(o);

	/* e. out of canonical order (REV group before STH group) */
	OK(cfx_update_objs(&f, 1, NULL, o, &err));
	{
		ctng_gossip_object tmp[2];
		memcpy(tmp, &o->v[0], sizeof(tmp));
		memcpy(&o->v[0], &o->v[4], sizeof(tmp));
		memcpy(&o->v[4], tmp, sizeof(tmp));
	}
	assert_int_equal(apply_objs(&f, c, 1, o), CTNG_EINVAL);
	expect_unchanged(c, 0);
	cfx_objs_clear(o);

	/* f. an STH that its FULL does not attest (orphan INIT) */
	OK(cfx_update_objs(&f, 1, NULL, o, &err));
	{
		ctng_gossip_object tmp = o->v[1];
		o->v[1] = o->v[3];
		o->v[3] = tmp;
	}
	assert_int_equal(apply_objs(&f, c, 1, o), CTNG_EINVAL);
	expect_unchanged(c, 0);
	cfx_objs_clear(o);

	/* g. garbage and envelope violations */
	const char *bad[] = {
	    "",
	    "[]",
	    "{\"period\":\"1\",\"monitor\":\"m\",\"objects\":[]} x",
	    "{\"period\":\"01\",\"monitor\":\"m\",\"objects\":[]}",
	    "{\"period\":\"1\",\"monitor\":\"m\",\"objects\":[],\"extra\":1}",
	    "{\"period\":\"1\",\"period\":\"1\",\"monitor\":\"m\",\"objects\":[]}",
	    "{\"period\":\"1\",\"monitor\":\"bad id\",\"objects\":[]}",
	    "{\"period\":\"1\",\"monitor\":\"m\",\"objects\":[{}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctng_client_apply_update(c, bad[i], strlen(bad[i]), NULL, &err),
		                 CTNG_EINVAL);
		assert_true(err.msg[0] != 0);
	}
	assert_int_equal(ctng_client_apply_update(c, "{\"period\":\"1\"\0}", 15, NULL, &err),
	                 CTNG_EINVAL);
	expect_unchanged(c, 0);

	/* the honest update still applies after all that */
	assert_int_equal(apply(&f, c, 1, NULL), 0);
	assert_int_equal(check(c, x), CTNG_CLIENT_OK);
	/* replay */
	OK(cfx_close_period(&f, 1, &err));
	assert_int_equal(apply(&f, c, 1, NULL), CTNG_ESTATE);
	expect_unchanged(c, 1);

	/* h. an omitted REV_FULL hides a revocation (x's RID 3): from that update
	 * on, ca1's certificates are STALE, never valid; the next update still
	 * applies (sync is not blocked), but its REV's CRV hash does not match the
	 * CRV we hold, so ca1 stays STALE. (Review finding F1: the client used to
	 * say OK for x here and then refuse every later update.) */
	cfx_revoke(&f, 0, 3);
	OK(cfx_close_period(&f, 2, &err));
	OK(cfx_update_objs(&f, 2, NULL, o, &err));
	assert_int_equal(o->v[4].type, CTNG_REV_FULL);
	assert_string_equal(o->v[5].signer, "ca1");
	ctng_gossip_clear(&o->v[4]);
	ctng_gossip_clear(&o->v[5]);
	memmove(&o->v[4], &o->v[6], (o->n - 6) * sizeof(o->v[0]));
	o->n -= 2;
	memset(&o->v[o->n], 0, 2 * sizeof(o->v[0]));
	assert_int_equal(apply_objs(&f, c, 2, o), 0); /* monitor dropped ca1's REV_FULL */
	cfx_objs_clear(o);
	assert_int_equal(check(c, x), CTNG_CLIENT_STALE);
	OK(cfx_close_period(&f, 3, &err));
	assert_int_equal(apply(&f, c, 3, NULL), 0);
	uint64_t last = 0;
	assert_true(ctng_client_last_period(c, &last));
	assert_int_equal(last, 3);
	assert_int_equal(check(c, x), CTNG_CLIENT_STALE);
	free(o);
	X509_free(x);
	ctng_client_close(c);
	cfx_free(&f);
}

/* A state that starts late learns a CA's CRV only when a hash matches. */
static void test_late_start(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 1, 2, 2, 2, &err));
	size_t lg[] = {0};
	/* before the client exists: ca1 revokes RID 50 in period 2's REV */
	cfx_revoke(&f, 0, 50);
	OK(cfx_close_period(&f, 2, &err));
	char *txt = NULL;
	size_t len = 0;
	OK(cfx_update(&f, 2, NULL, &txt, &len, &err));
	free(txt);
	ctng_client *c = open_mem(&f);
	X509 *x2[2];
	const spec s2[] = {{0, "a.example.com", 1, lg, 1}, {1, "b.example.com", 2, lg, 1}};
	issue_many(&f, s2, 2, 3, x2);
	X509 *a = x2[0], *b = x2[1];
	assert_int_equal(apply(&f, c, 3, NULL), 0);
	bool known = true;
	ctng_client_revoked(c, "ca1", 1, &known);
	assert_false(known);
	ctng_client_revoked(c, "ca2", 1, &known);
	assert_true(known); /* empty delta matched the empty CRV */
	assert_int_equal(check(c, a), CTNG_CLIENT_STALE);
	assert_int_equal(check(c, b), CTNG_CLIENT_OK);
	/* A full CRV (as a monitor serves it, issue 11 item 6) makes ca1 known
	 * again, but only the one that hashes to the attested REV's CRV hash. */
	uint8_t *bytes = NULL;
	size_t blen = 0;
	roaring_bitmap_t *lie = roaring_bitmap_copy(f.crv[0]);
	roaring_bitmap_remove(lie, 50); /* a monitor hiding the revocation */
	OK(ctng_crv_delta_encode(lie, &bytes, &blen, &err));
	assert_int_equal(ctng_client_set_crv(c, "ca1", 3, bytes, blen, &err), CTNG_EVERIFY);
	free(bytes);
	roaring_bitmap_free(lie);
	assert_int_equal(check(c, a), CTNG_CLIENT_STALE);
	OK(ctng_crv_delta_encode(f.crv[0], &bytes, &blen, &err));
	assert_int_equal(ctng_client_set_crv(c, "ca1", 2, bytes, blen, &err), CTNG_ESTATE);
	assert_int_equal(ctng_client_set_crv(c, "ca9", 3, bytes, blen, &err), CTNG_EINVAL);
	assert_int_equal(ctng_client_set_crv(c, "ca1", 3, bytes, blen - 1, &err), CTNG_EINVAL);
	OK(ctng_client_set_crv(c, "ca1", 3, bytes, blen, &err));
	free(bytes);
	ctng_client_revoked(c, "ca1", 1, &known);
	assert_true(known);
	assert_true(ctng_client_revoked(c, "ca1", 50, NULL));
	assert_int_equal(check(c, a), CTNG_CLIENT_OK);
	/* ... and stays known across the next update. */
	cfx_revoke(&f, 0, 51);
	OK(cfx_close_period(&f, 4, &err));
	assert_int_equal(apply(&f, c, 4, NULL), 0);
	ctng_client_revoked(c, "ca1", 1, &known);
	assert_true(known);
	assert_true(ctng_client_revoked(c, "ca1", 51, NULL));
	/* earlier periods are unknown */
	X509 *old = NULL;
	cfx_pend p;
	OK(cfx_precert(&f, 1, "old.example.com", 3, lg, 1, 1, &p, &err));
	OK(cfx_close_sth(&f, 0, 1, &err));
	OK(cfx_finalize(&f, &p, &old, &err));
	assert_int_equal(check(c, old), CTNG_CLIENT_STALE);
	cfx_pend_free(&p);
	X509_free(old);
	X509_free(a);
	X509_free(b);
	ctng_client_close(c);
	cfx_free(&f);
}

/* Catching up over many periods, with gaps in revocations. */
static void test_many_periods(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 2, 2, 3, 2, &err));
	char path[300];
	snprintf(path, sizeof(path), "%s/c.db", f.dir);
	ctng_client *c = NULL;
	OK(ctng_client_open(path, f.net_json, f.net_len, &c, &err));
	size_t lg[] = {1};
	X509 *certs[40] = {0};
	for (uint64_t p = 0; p < 40; p++) {
		char name[64];
		snprintf(name, sizeof(name), "h%llu.example.com", (unsigned long long)p);
		certs[p] = issue(&f, p % 2, name, (uint32_t)p, lg, 1, p, NULL);
		if (p % 3 == 1)
			cfx_revoke(&f, p % 2, (uint32_t)p);
		assert_int_equal(apply(&f, c, p, NULL), 0);
	}
	ctng_client_close(c);
	OK(ctng_client_open(path, NULL, 0, &c, &err));
	for (uint64_t p = 0; p < 40; p++)
		assert_int_equal(check(c, certs[p]),
		                 p % 3 == 1 ? CTNG_CLIENT_REVOKED : CTNG_CLIENT_OK);
	for (uint64_t p = 0; p < 40; p++)
		X509_free(certs[p]);
	ctng_client_close(c);
	cfx_free(&f);
}

/* The fast DER edit computing the logged entry equals the cert module's. */
static void test_leaf_entry_matches_cert_module(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 3, 1, 2, 2, &err));
	const char *names[] = {"a.example.com", "a-much-longer-name.subdomain.example.co.uk",
	                       "x.y.z.example.net"};
	for (size_t k = 0; k < 3; k++) {
		size_t lg[] = {0, 1, 2};
		/* grow the trees so audit paths (and the extension) get long */
		for (int j = 0; j < 200 * (int)k; j++)
			for (size_t i = 0; i < 3; i++)
				OK(ctng_merkle_mem_append_data(f.tree[i], &j, sizeof(j), NULL,
				                               &err));
		cfx_pend pend;
		X509 *x = NULL;
		OK(cfx_precert(&f, 0, names[k], (uint32_t)k, lg, k + 1, k, &pend, &err));
		OK(cfx_close_period(&f, k, &err));
		OK(cfx_finalize(&f, &pend, &x, &err));
		ctng_ct_entry a = {0}, b = {0}, p = {0};
		OK(client_leaf_entry(x, f.ca_root[0], NULL, &a, &err));
		OK(ctng_ct_entry_from_ctng_cert(x, f.ca_root[0], &b, &err));
		OK(ctng_ct_entry_precert_x509(pend.precert, f.ca_root[0], &p, &err));
		assert_int_equal(a.type, CTNG_CT_PRECERT_ENTRY);
		assert_int_equal(a.der_len, b.der_len);
		assert_memory_equal(a.der, b.der, a.der_len);
		assert_memory_equal(a.issuer_key_hash, b.issuer_key_hash, 32);
		assert_int_equal(a.der_len, p.der_len);
		assert_memory_equal(a.der, p.der, a.der_len);
		ctng_ct_entry_clear(&a);
		ctng_ct_entry_clear(&b);
		ctng_ct_entry_clear(&p);
		/* a certificate without the extension: both refuse */
		assert_int_not_equal(client_leaf_entry(pend.precert, f.ca_root[0], NULL, &a, &err),
		                     0);
		cfx_pend_free(&pend);
		X509_free(x);
	}
	cfx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_rules),
	    cmocka_unit_test(test_valid_revoked_persisted),
	    cmocka_unit_test(test_convictions_and_accusations),
	    cmocka_unit_test(test_sth_full_rules),
	    cmocka_unit_test(test_tampered_certificates),
	    cmocka_unit_test(test_chain_and_extension),
	    cmocka_unit_test(test_forged_updates),
	    cmocka_unit_test(test_late_start),
	    cmocka_unit_test(test_many_periods),
	    cmocka_unit_test(test_leaf_entry_matches_cert_module),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
