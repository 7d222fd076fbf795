/*
 * view_check.h — the differential check of ctng_cert_view against OpenSSL,
 * shared by tests/cert/test_cert_view.c and fuzz/fuzz_cert_view.c
 * (header-only, static). view_differential returns 1 when the view accepts
 * the bytes and agrees with OpenSSL, 0 when the view refuses them, and -1
 * on a disagreement (a bug): accepted by the view but not by the strict
 * OpenSSL parse, a span that is not OpenSSL's encoding of that field, a
 * precert TBS that differs from ctng_ct_entry_precert_x509's, or a poison
 * count that differs. It also compares what a monitor's index reads from
 * the view (src/cert/fields.c) with OpenSSL: the RID extension, the
 * validity, the SAN dNSNames, the logged TBS of a final CTng certificate,
 * and that the logged TBS parses again as a bare TBS with the same names.
 */
#ifndef VIEW_CHECK_H
#define VIEW_CHECK_H

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"

static inline int view_same(ctng_der_span s, const unsigned char *p, int n)
{
	return n > 0 && (size_t)n == s.n && !memcmp(s.p, p, s.n);
}

static inline uint64_t view_time_ms(const ASN1_TIME *t)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return UINT64_MAX;
	time_t s = timegm(&tm);
	return s < 0 ? 0 : (uint64_t)s * 1000;
}

/* The index fields of the view against OpenSSL's reading of x. */
static inline int view_fields(const ctng_cert_view *v, X509 *x)
{
	int ok = 1;
	uint32_t r1 = 0, r2 = 0;
	int a = ctng_cert_view_rid(v, &r1, NULL), b = ctng_cert_get_rid(x, &r2, NULL);
	ok &= a == b && (a != 0 || r1 == r2);
	uint64_t nb = 0, na = 0;
	if (ctng_cert_view_validity(v, &nb, &na, NULL))
		return 0;
	ok &= nb == view_time_ms(X509_get0_notBefore(x)) &&
	      na == view_time_ms(X509_get0_notAfter(x));
	ctng_der_span names[64];
	size_t n = 0;
	int crit = 0, idx = -1;
	GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, &idx);
	int rc = ctng_cert_view_dns_names(v, names, 64, &n, NULL);
	if (gn) {
		size_t want = 0;
		for (int i = 0; i < sk_GENERAL_NAME_num(gn); i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
			if (g->type != GEN_DNS)
				continue;
			const ASN1_IA5STRING *s = g->d.dNSName;
			if (want < 64 && rc == 0)
				ok &= names[want].n == (size_t)ASN1_STRING_length(s) &&
				      !memcmp(names[want].p, ASN1_STRING_get0_data(s), names[want].n);
			want++;
		}
		/* view's count includes the CNs after the SAN's names */
		ok &= rc != 0 || n >= want;
		GENERAL_NAMES_free(gn);
	}
	uint8_t *tbs = NULL;
	size_t tl = 0;
	if (ctng_cert_view_logged_tbs(v, &tbs, &tl, NULL) == 0) {
		if (!ctng_cert_view_is_precert(v) && v->n_ctng == 1) {
			ctng_ct_entry e;
			if (ctng_ct_entry_from_ctng_cert(x, x, &e, NULL) == 0) {
				ok &= e.der_len == tl && !memcmp(e.der, tbs, tl);
				ctng_ct_entry_clear(&e);
			}
		}
		ctng_cert_view t;
		ctng_der_span tn[64];
		size_t tnn = 0;
		if (ctng_cert_view_parse_tbs(tbs, tl, &t, NULL) == 0 && rc == 0 &&
		    ctng_cert_view_dns_names(&t, tn, 64, &tnn, NULL) == 0)
			ok &= tnn == n;
		free(tbs);
	}
	return ok;
}

static inline int view_differential(const uint8_t *data, size_t size)
{
	ctng_cert_view v;
	if (ctng_cert_view_parse(data, size, &v, NULL))
		return 0;
	X509 *x = NULL;
	if (ctng_cert_from_der(data, size, &x, NULL))
		return -1; /* the view must never be laxer than OpenSSL */
	int ok = 1;
	unsigned char *p = NULL;
	int n = i2d_X509_NAME(X509_get_issuer_name(x), &p);
	ok &= view_same(v.issuer, p, n);
	OPENSSL_free(p);
	p = NULL;
	n = i2d_X509_NAME(X509_get_subject_name(x), &p);
	ok &= view_same(v.subject, p, n);
	OPENSSL_free(p);
	p = NULL;
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p);
	ok &= view_same(v.spki, p, n);
	OPENSSL_free(p);
	ok &= (size_t)X509_get_ext_count(x) == v.n_exts;
	const ASN1_BIT_STRING *sig = NULL;
	X509_get0_signature(&sig, NULL, x);
	ok &= sig && view_same(v.sig, ASN1_STRING_get0_data(sig), ASN1_STRING_length(sig));
	ok &= ctng_cert_is_precert(x) == ctng_cert_view_is_precert(&v);
	if (ctng_cert_view_is_precert(&v)) {
		/* The issuer only contributes its key hash: use the cert itself. */
		ctng_ct_entry e;
		uint8_t *tbs = NULL;
		size_t tl = 0;
		int a = ctng_ct_entry_precert_x509(x, x, &e, NULL);
		int b = ctng_cert_view_precert_tbs(&v, &tbs, &tl, NULL);
		if ((a == 0) != (b == 0))
			ok = 0;
		else if (a == 0)
			ok &= e.der_len == tl && !memcmp(e.der, tbs, tl);
		if (a == 0)
			ctng_ct_entry_clear(&e);
		free(tbs);
	}
	ok &= view_fields(&v, x);
	X509_free(x);
	ERR_clear_error();
	return ok ? 1 : -1;
}

#endif
