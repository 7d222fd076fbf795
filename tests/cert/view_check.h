/*
 * view_check.h — the differential check of ctng_cert_view against OpenSSL,
 * shared by tests/cert/test_cert_view.c and fuzz/fuzz_cert_view.c
 * (header-only, static). view_differential returns 1 when the view accepts
 * the bytes and agrees with OpenSSL, 0 when the view refuses them, and -1
 * on a disagreement (a bug): accepted by the view but not by the strict
 * OpenSSL parse, a span that is not OpenSSL's encoding of that field, a
 * precert TBS that differs from ctng_ct_entry_precert_x509's, or a poison
 * count that differs.
 */
#ifndef VIEW_CHECK_H
#define VIEW_CHECK_H

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"

static inline int view_same(ctng_der_span s, const unsigned char *p, int n)
{
	return n > 0 && (size_t)n == s.n && !memcmp(s.p, p, s.n);
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
	X509_free(x);
	ERR_clear_error();
	return ok ? 1 : -1;
}

#endif
