/*
 * lg_certs.h — test helpers for the logger tests (unit and integration):
 * real X.509 certificates made with OpenSSL (roots, intermediates, plain
 * leaves, precertificates with the CT poison), add-chain request bodies, and
 * SCT / STH checks with the project's verifiers. Header-only (static).
 */
#ifndef LG_CERTS_H
#define LG_CERTS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/base.h"
#include "ctng/cert.h"
#include "ctng/sig.h"

static _Atomic uint64_t lg_serial_ctr = 1; /* test threads issue too */

/* A P-256 key as a ctng_sig_key (caller frees). */
static inline ctng_sig_key *lg_key(void)
{
	ctng_sig_key *k = NULL;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &k, NULL))
		return NULL;
	return k;
}

static inline int lg_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A certificate for subj_key named cn, issued by issuer (NULL: self-signed)
 * with issuer_key. ca: basicConstraints CA:TRUE. poison: adds the critical
 * CT poison extension (a precertificate). */
static inline X509 *lg_make_cert(const char *cn, const ctng_sig_key *subj_key, X509 *issuer,
                                 const ctng_sig_key *issuer_key, bool ca, bool poison)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), lg_serial_ctr++ + 1000);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, ctng_sig_key_evp(subj_key));
	lg_add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (!ca) {
		char san[300];
		snprintf(san, sizeof san, "DNS:%s", cn);
		lg_add_ext(x, issuer, NID_subject_alt_name, san);
	}
	if (poison) {
		ASN1_OBJECT *obj = OBJ_txt2obj(CTNG_CT_POISON_OID, 1);
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
		static const unsigned char null_der[2] = {0x05, 0x00};
		ASN1_OCTET_STRING_set(v, null_der, 2);
		X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, v);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(v);
		ASN1_OBJECT_free(obj);
	}
	if (!X509_sign(x, ctng_sig_key_evp(issuer_key), EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static inline char *lg_pem(X509 *x)
{
	char *pem = NULL;
	if (ctng_cert_to_pem(x, &pem, NULL, NULL))
		return NULL;
	return pem;
}

/* {"chain":[b64(der(c[0])), ...]} as a malloc'd string. */
static inline char *lg_chain_body(X509 *const *c, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		uint8_t *der = NULL;
		size_t len = 0;
		if (ctng_cert_to_der(c[i], &der, &len, NULL))
			return NULL;
		char *b = ctng_b64_strdup(der, len);
		json_array_append_new(arr, json_string(b));
		free(b);
		free(der);
	}
	json_t *o = json_pack("{s:o}", "chain", arr);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

#endif
