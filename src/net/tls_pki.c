/*
 * tls_pki.c — a small PKI for TLS between nodes of a test network: a
 * self-signed CA and node certificates signed by it (ECDSA P-256,
 * SHA-256), with the host names and IP addresses a client checks in the
 * subjectAltName. `ctng init --tls` uses it, and so do the tests that need
 * a wrong host name or an expired certificate. Not for production PKIs:
 * operators bring certificates from their own CA (docs/operating.md).
 */
#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

static char *bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	return n > 0 ? strndup(p, (size_t)n) : NULL;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return 0;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* A certificate for key `pk` named `cn`, valid nb..na, issued by
 * (issuer, ik) or self-signed when issuer is NULL. */
static X509 *make(const char *cn, EVP_PKEY *pk, int64_t nb, int64_t na, X509 *issuer, EVP_PKEY *ik,
                  const char *san)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_new();
	unsigned char serial[16];
	ASN1_TIME *tb = ASN1_TIME_set(NULL, (time_t)nb), *ta = ASN1_TIME_set(NULL, (time_t)na);
	int ok = x && name && bn && tb && ta && RAND_bytes(serial, sizeof serial) == 1;
	if (ok) {
		serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
		ok = BN_bin2bn(serial, sizeof serial, bn) &&
		     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
		     X509_set_version(x, X509_VERSION_3) &&
		     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		                                (const unsigned char *)"CTng test network", -1, -1,
		                                0) &&
		     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		                                (const unsigned char *)cn, -1, -1, 0) &&
		     X509_set_subject_name(x, name) &&
		     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
		     X509_set1_notBefore(x, tb) && X509_set1_notAfter(x, ta) &&
		     X509_set_pubkey(x, pk);
	}
	X509 *iss = issuer ? issuer : x;
	if (ok && !issuer)
		ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
		     add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
		     add_ext(x, iss, NID_subject_key_identifier, "hash");
	if (ok && issuer)
		ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
		     add_ext(x, iss, NID_key_usage, "critical,digitalSignature") &&
		     add_ext(x, iss, NID_ext_key_usage, "serverAuth,clientAuth") &&
		     add_ext(x, iss, NID_subject_key_identifier, "hash") &&
		     add_ext(x, iss, NID_authority_key_identifier, "keyid") &&
		     (!san || add_ext(x, iss, NID_subject_alt_name, san));
	if (ok)
		ok = X509_sign(x, issuer ? ik : pk, EVP_sha256()) > 0;
	X509_NAME_free(name);
	BN_free(bn);
	ASN1_TIME_free(tb);
	ASN1_TIME_free(ta);
	if (!ok) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	return x;
}

static int write_pair(X509 *x, EVP_PKEY *k, char **cert_pem, char **key_pem, ctng_err *err)
{
	BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
	int rc = 0;
	if (!bc || !bk || PEM_write_bio_X509(bc, x) != 1 ||
	    PEM_write_bio_PrivateKey(bk, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    !(*cert_pem = bio_text(bc)) || !(*key_pem = bio_text(bk))) {
		free(*cert_pem);
		*cert_pem = NULL;
		rc = ctng_err_set(err, CTNG_ENOMEM, "net: cannot write the certificate");
	}
	BIO_free(bc);
	BIO_free(bk);
	return rc;
}

int ctng_net_tls_make_ca(const char *cn, int64_t not_before, int64_t not_after, char **cert_pem,
                         char **key_pem, ctng_err *err)
{
	*cert_pem = *key_pem = NULL;
	if (!cn || !*cn || strlen(cn) > 64)
		return ctng_err_set(err, CTNG_EINVAL, "net: CA name must be 1..64 bytes");
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = k ? make(cn, k, not_before, not_after, NULL, NULL, NULL) : NULL;
	int rc = x ? write_pair(x, k, cert_pem, key_pem, err)
	           : ctng_err_set(err, CTNG_EIO, "net: cannot make the TLS CA");
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

int ctng_net_tls_make_cert(const char *ca_cert_pem, const char *ca_key_pem,
                           const ctng_net_tls_cert_opts *o, char **cert_pem, char **key_pem,
                           ctng_err *err)
{
	*cert_pem = *key_pem = NULL;
	if (!o->cn || !*o->cn || strlen(o->cn) > 64)
		return ctng_err_set(err, CTNG_EINVAL, "net: certificate name must be 1..64 bytes");
	/* subjectAltName: IP literals as iPAddress, the rest as dNSName */
	ctng_buf san = {0};
	for (size_t i = 0; i < o->n_names; i++) {
		const char *n = o->names[i];
		unsigned char tmp[16];
		bool ip = inet_pton(AF_INET, n, tmp) == 1 || inet_pton(AF_INET6, n, tmp) == 1;
		if (!*n || (strpbrk(n, ",:= ") && !ip)) {
			ctng_buf_free(&san);
			return ctng_err_set(err, CTNG_EINVAL, "net: bad name \"%.64s\"", n);
		}
		if (ctng_buf_printf(&san, "%s%s:%s", i ? "," : "", ip ? "IP" : "DNS", n)) {
			ctng_buf_free(&san);
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		}
	}
	BIO *bc = BIO_new_mem_buf(ca_cert_pem, -1), *bk = BIO_new_mem_buf(ca_key_pem, -1);
	X509 *ca = bc ? PEM_read_bio_X509(bc, NULL, NULL, NULL) : NULL;
	EVP_PKEY *ck = bk ? PEM_read_bio_PrivateKey(bk, NULL, NULL, NULL) : NULL;
	BIO_free(bc);
	BIO_free(bk);
	int rc;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	if (!ca || !ck || X509_check_private_key(ca, ck) != 1) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "net: the TLS CA certificate or key is unusable");
	} else if (!(k = EVP_EC_gen("P-256")) ||
	           !(x = make(o->cn, k, o->not_before, o->not_after, ca, ck,
	                      san.len ? (const char *)san.data : NULL))) {
		rc = ctng_err_set(err, CTNG_EIO, "net: cannot make the certificate of %s", o->cn);
	} else {
		rc = write_pair(x, k, cert_pem, key_pem, err);
	}
	ERR_clear_error();
	ctng_buf_free(&san);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ck);
	return rc;
}
