/* test_cert_view.c — the in-place certificate reader (ctng_cert_view,
 * src/cert/view.c): its spans and cut-out precert TBS agree with OpenSSL
 * for roots, precertificates (poison first, in the middle, last, alone) and
 * final certificates; it refuses non-DER encodings OpenSSL's parser lets
 * through; random mutations never make it laxer than OpenSSL or disagree
 * with it; and its "issued by" check accepts exactly the right issuer, for
 * ECDSA, Ed25519, RSA PKCS #1 v1.5 and (through OpenSSL) RSA-PSS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctng/cert.h"
#include "view_check.h"

#ifndef CERT_VIEW_MUTATIONS
#define CERT_VIEW_MUTATIONS 4000 /* per certificate; the fuzz target goes further */
#endif

static uint8_t *der_of(X509 *x, size_t *len)
{
	uint8_t *d = NULL;
	assert_int_equal(ctng_cert_to_der(x, &d, len, NULL), 0);
	return d;
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static void add_poison(X509 *x)
{
	ASN1_OBJECT *o = OBJ_txt2obj(CTNG_CT_POISON_OID, 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2);
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 1, v);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(o);
}

/* A certificate named cn signed by key (self-issued unless issuer), with
 * the poison placed at `poison` among three other extensions (-1: none,
 * 9: the poison alone); pss: RSA-PSS signature. */
static X509 *make(const char *cn, const char *issuer_cn, EVP_PKEY *subj, EVP_PKEY *key, int poison,
                  bool pss)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"ctng", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME *in = X509_NAME_new();
	X509_NAME_add_entry_by_txt(in, "O", MBSTRING_ASC, (const unsigned char *)"ctng", -1, -1, 0);
	X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1,
	                           0);
	X509_set_issuer_name(x, in);
	X509_NAME_free(in);
	X509_set_pubkey(x, subj);
	if (poison == 9) {
		add_poison(x);
	} else {
		static const struct {
			int nid;
			const char *v;
		} exts[3] = {{NID_basic_constraints, "critical,CA:FALSE"},
		             {NID_key_usage, "critical,digitalSignature"},
		             {NID_subject_alt_name, "DNS:a.example"}};
		for (int i = 0; i <= 3; i++) {
			if (i == poison)
				add_poison(x);
			if (i < 3)
				add_ext(x, exts[i].nid, exts[i].v);
		}
	}
	if (pss) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pc = NULL;
		assert_int_equal(EVP_DigestSignInit(m, &pc, EVP_sha256(), NULL, key), 1);
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
		assert_true(X509_sign_ctx(x, m) > 0);
		EVP_MD_CTX_free(m);
	} else {
		const EVP_MD *md =
		    EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
		assert_true(X509_sign(x, key, md) > 0);
	}
	return x;
}

static uint8_t *subject_der(X509 *x, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509_NAME(X509_get_subject_name(x), &p);
	assert_true(n > 0);
	*len = (size_t)n;
	return p;
}

static void test_agrees_with_openssl(void **state)
{
	(void)state;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	for (int poison = -1; poison <= 9; poison = poison == 3 ? 9 : poison + 1) {
		X509 *x = make("leaf", "root", k, k, poison, false);
		size_t len = 0;
		uint8_t *d = der_of(x, &len);
		assert_int_equal(view_differential(d, len), 1);
		ctng_cert_view v;
		assert_int_equal(ctng_cert_view_parse(d, len, &v, NULL), 0);
		assert_int_equal(v.n_poison, poison >= 0 ? 1 : 0);
		assert_int_equal(v.n_exts, poison == 9 ? 1 : poison >= 0 ? 4 : 3);
		if (poison >= 0) {
			/* the same bytes as OpenSSL's re-encoding without the poison */
			ctng_ct_entry e;
			uint8_t *tbs = NULL;
			size_t tl = 0;
			assert_int_equal(ctng_ct_entry_precert_x509(x, x, &e, NULL), 0);
			assert_int_equal(ctng_cert_view_precert_tbs(&v, &tbs, &tl, NULL), 0);
			assert_int_equal(tl, e.der_len);
			assert_memory_equal(tbs, e.der, tl);
			free(tbs);
			ctng_ct_entry_clear(&e);
		}
		free(d);
		X509_free(x);
	}
	/* the project's own builders: root, precertificate */
	ctng_sig_key *ca = NULL, *subj = NULL;
	X509 *root = NULL, *pre = NULL;
	uint64_t now = ctng_now_ms();
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ED25519, &ca, NULL), 0);
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, NULL), 0);
	assert_int_equal(
	    ctng_cert_make_root("View CA", ca, now - 1000, now + 86400000, &root, NULL), 0);
	ctng_cert_template t = {.dns_name = "v.example",
	                        .subject_key = ctng_sig_key_evp(subj),
	                        .serial = {0x01},
	                        .serial_len = 1,
	                        .not_before_ms = now - 1000,
	                        .not_after_ms = now + 86400000};
	assert_int_equal(ctng_cert_make_precert(&t, root, ca, &pre, NULL), 0);
	X509 *both[2] = {root, pre};
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		uint8_t *d = der_of(both[i], &len);
		assert_int_equal(view_differential(d, len), 1);
		free(d);
	}
	/* the Ed25519 root issued the precertificate */
	size_t len = 0, sl = 0;
	uint8_t *d = der_of(pre, &len), *sub = subject_der(root, &sl);
	ctng_cert_view v;
	assert_int_equal(ctng_cert_view_parse(d, len, &v, NULL), 0);
	assert_int_equal(ctng_cert_view_check_issued(&v, sub, sl, X509_get0_pubkey(root), NULL), 0);
	OPENSSL_free(sub);
	free(d);
	X509_free(pre);
	X509_free(root);
	ctng_sig_key_free(ca);
	ctng_sig_key_free(subj);
	EVP_PKEY_free(k);
}

/* Replaces the first occurrence of `from` in d by `to` (same length). */
static void patch(uint8_t *d, size_t len, const uint8_t *from, const uint8_t *to, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(d + i, from, n)) {
			memcpy(d + i, to, n);
			return;
		}
	fail_msg("pattern not found");
}

static void test_refuses_non_der(void **state)
{
	(void)state;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = make("leaf", "root", k, k, 1, false);
	size_t len = 0;
	uint8_t *d = der_of(x, &len);
	ctng_cert_view v;
	ctng_err err = {0};
	uint8_t *m = malloc(len + 2);
	/* trailing byte, truncation */
	memcpy(m, d, len);
	m[len] = 0;
	assert_int_equal(ctng_cert_view_parse(m, len + 1, &v, &err), CTNG_EINVAL);
	assert_int_equal(ctng_cert_view_parse(d, len - 1, &v, &err), CTNG_EINVAL);
	/* a non-minimal outer length: 30 82 HH LL -> 30 83 00 HH LL */
	assert_int_equal(d[1], 0x82);
	m[0] = 0x30;
	m[1] = 0x83;
	m[2] = 0;
	memcpy(m + 3, d + 2, len - 2);
	assert_int_equal(ctng_cert_view_parse(m, len + 1, &v, &err), CTNG_EINVAL);
	assert_non_null(strstr(err.msg, "non-minimal"));
	/* poison "critical" as BOOLEAN 0x01 (BER) and as an encoded FALSE */
	static const uint8_t crit[] = {0xd6, 0x79, 0x02, 0x04, 0x03, 0x01, 0x01, 0xff};
	uint8_t bad[sizeof crit];
	memcpy(bad, crit, sizeof crit);
	for (int i = 0; i < 2; i++) {
		memcpy(m, d, len);
		bad[7] = i ? 0x00 : 0x01;
		patch(m, len, crit, bad, sizeof crit);
		assert_int_equal(ctng_cert_view_parse(m, len, &v, &err), CTNG_EINVAL);
	}
	/* signature BIT STRING with 8 unused bits */
	ctng_cert_view ok;
	assert_int_equal(ctng_cert_view_parse(d, len, &ok, NULL), 0);
	memcpy(m, d, len);
	m[ok.sig.p - d - 1] = 8;
	assert_int_equal(ctng_cert_view_parse(m, len, &v, &err), CTNG_EINVAL);
	/* Found by fuzz_cert_view: a day the month does not have (OpenSSL's d2i
	 * takes it, its time functions do not) was read as a later date. */
	static const struct {
		const char *yymmdd;
		int ok;
	} days[] = {{"260231", 0}, {"260431", 0}, {"250229", 0}, {"240229", 1},
	            {"000229", 1}, {"260131", 1}, {"261232", 0}, {"261301", 0}};
	assert_int_equal(ok.not_before.p[0], 0x17); /* UTCTime YYMMDDHHMMSSZ */
	for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
		memcpy(m, d, len);
		memcpy(m + (ok.not_before.p - d) + 2, days[i].yymmdd, 6);
		int rc = ctng_cert_view_parse(m, len, &v, &err);
		if (rc != (days[i].ok ? 0 : CTNG_EINVAL))
			print_error("notBefore %s: rc %d\n", days[i].yymmdd, rc);
		assert_int_equal(rc, days[i].ok ? 0 : CTNG_EINVAL);
		if (days[i].ok)
			assert_int_equal(view_differential(m, len), 1);
	}
	/* precert TBS refusals: the poison not critical (rebuilt) */
	free(m);
	free(d);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* Random byte changes: the view is never laxer than OpenSSL's strict parse
 * and never disagrees with it. */
static int mutate_all(const uint8_t *d, size_t len, int rounds, uint64_t s)
{
	uint8_t *m = malloc(len);
	int accepted = 0;
	for (int round = 0; round < rounds; round++) {
		memcpy(m, d, len);
		int changes = 1 + (int)(round % 3);
		for (int c = 0; c < changes; c++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			m[s % len] = (uint8_t)(s >> 32);
		}
		int r = view_differential(m, len);
		if (r < 0)
			print_error("disagreement on mutation %d\n", round);
		assert_int_not_equal(r, -1);
		accepted += r;
	}
	free(m);
	return accepted;
}

static void test_random_mutations(void **state)
{
	(void)state;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = make("leaf", "root", k, k, 2, false);
	ctng_sig_key *ca = NULL;
	X509 *root = NULL;
	uint64_t now = ctng_now_ms();
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ED25519, &ca, NULL), 0);
	assert_int_equal(ctng_cert_make_root("Mutated CA", ca, now, now + 86400000, &root, NULL),
	                 0);
	X509 *certs[2] = {x, root};
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		uint8_t *d = der_of(certs[i], &len);
		/* many mutations stay valid DER */
		assert_true(mutate_all(d, len, CERT_VIEW_MUTATIONS,
		                       0x9e3779b97f4a7c15ull + (uint64_t)i) > 0);
		free(d);
	}
	X509_free(root);
	ctng_sig_key_free(ca);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void test_check_issued(void **state)
{
	(void)state;
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *ec2 = EVP_EC_gen("P-256");
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	EVP_PKEY *subj = EVP_EC_gen("P-256");
	X509 *root = make("root", "root", ec, ec, -1, false);
	X509 *rroot = make("rsa root", "rsa root", rsa, rsa, -1, false);
	size_t sl = 0, rsl = 0;
	uint8_t *sub = subject_der(root, &sl), *rsub = subject_der(rroot, &rsl);
	struct {
		X509 *leaf;
		const uint8_t *sub;
		size_t sl;
		EVP_PKEY *key;
		int want;
	} cases[] = {
	    {make("leaf", "root", subj, ec, 1, false), sub, sl, ec, 0},
	    {make("leaf", "root", subj, ec2, 1, false), sub, sl, ec, CTNG_EVERIFY}, /* other key */
	    {make("leaf", "other", subj, ec, 1, false), sub, sl, ec, CTNG_EVERIFY}, /* other name */
	    {make("leaf", "ROOT", subj, ec, 1, false), sub, sl, ec, 0},             /* RFC 5280 */
	    {make("leaf", "rsa root", subj, rsa, 1, false), rsub, rsl, rsa, 0},     /* PKCS #1 */
	    {make("leaf", "rsa root", subj, rsa, 1, true), rsub, rsl, rsa, 0},      /* PSS */
	    {make("leaf", "rsa root", subj, rsa, 1, true), rsub, rsl, ec, CTNG_EVERIFY},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = 0;
		uint8_t *d = der_of(cases[i].leaf, &len);
		ctng_cert_view v;
		assert_int_equal(ctng_cert_view_parse(d, len, &v, NULL), 0);
		assert_int_equal(view_differential(d, len), 1);
		assert_int_equal(
		    ctng_cert_view_check_issued(&v, cases[i].sub, cases[i].sl, cases[i].key, NULL),
		    cases[i].want);
		/* the same verdict as the X509-based check */
		X509 *iss = cases[i].key == rsa ? rroot : root;
		if (cases[i].key == ec || cases[i].key == rsa)
			assert_int_equal(ctng_cert_check_issued(cases[i].leaf, iss, NULL) == 0,
			                 cases[i].want == 0);
		free(d);
		X509_free(cases[i].leaf);
	}
	OPENSSL_free(sub);
	OPENSSL_free(rsub);
	X509_free(root);
	X509_free(rroot);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(subj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agrees_with_openssl),
	    cmocka_unit_test(test_refuses_non_der),
	    cmocka_unit_test(test_random_mutations),
	    cmocka_unit_test(test_check_issued),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
