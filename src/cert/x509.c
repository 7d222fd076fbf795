/*
 * x509.c — strict certificate loading (DER and PEM), encoders, fingerprints,
 * issuer checks and SAN extraction: the X.509 plumbing of the cert module.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"

int ctng_cert_from_der(const uint8_t *der, size_t len, X509 **out, ctng_err *err)
{
	*out = NULL;
	if (!der || len == 0)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: empty");
	if (len > CTNG_CERT_DER_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: larger than %u bytes",
		                    CTNG_CERT_DER_MAX);
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: not a DER X.509 certificate");
	if ((size_t)(p - der) != len) {
		X509_free(x);
		return ctng_err_set(err, CTNG_EINVAL, "certificate: trailing bytes after the DER");
	}
	unsigned char *re = NULL;
	int rl = i2d_X509(x, &re);
	bool same = rl > 0 && (size_t)rl == len && memcmp(re, der, len) == 0;
	OPENSSL_free(re);
	if (!same) {
		X509_free(x);
		return ctng_err_set(err, CTNG_EINVAL, "certificate: not DER-encoded");
	}
	*out = x;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ctng_cert_from_pem(const char *pem, size_t len, X509 **out, ctng_err *err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	*out = NULL;
	if (!pem)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: empty");
	if (len > CTNG_CERT_PEM_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: PEM larger than %u bytes",
		                    CTNG_CERT_PEM_MAX);
	if (memchr(pem, 0, len))
		return ctng_err_set(err, CTNG_EINVAL, "certificate: NUL byte in PEM");
	size_t a = 0, b = len;
	while (a < b && is_space(pem[a]))
		a++;
	while (b > a && is_space(pem[b - 1]))
		b--;
	if (b - a < sizeof(begin) - 1 + sizeof(end) - 1 ||
	    memcmp(pem + a, begin, sizeof(begin) - 1) != 0 ||
	    memcmp(pem + b - (sizeof(end) - 1), end, sizeof(end) - 1) != 0)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "certificate: expected exactly one PEM CERTIFICATE block");
	BIO *bio = BIO_new_mem_buf(pem + a, (int)(b - a));
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	int rc = 0;
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
		rc = ctng_err_set(err, CTNG_EINVAL, "certificate: malformed PEM");
	} else if (strcmp(name, "CERTIFICATE") != 0 || header[0] != 0) {
		rc = ctng_err_set(err, CTNG_EINVAL, "certificate: PEM block is not a CERTIFICATE");
	} else if (BIO_pending(bio) != 0) {
		char tail;
		rc = 0;
		while (BIO_read(bio, &tail, 1) == 1)
			if (!is_space(tail)) {
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "certificate: more than one PEM block");
				break;
			}
	}
	if (!rc)
		rc = ctng_cert_from_der(data, (size_t)dlen, out, err);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

int ctng_cert_load_file(const char *path, X509 **out, ctng_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = ctng_read_file(path, CTNG_CERT_PEM_MAX, &buf, &len, err);
	if (rc)
		return rc;
	rc = ctng_cert_from_pem((const char *)buf, len, out, err);
	if (rc)
		ctng_err_wrap(err, "%s", path);
	free(buf);
	return rc;
}

int ctng_cert_to_der(const X509 *c, uint8_t **der, size_t *len, ctng_err *err)
{
	*der = NULL;
	*len = 0;
	unsigned char *p = NULL;
	int n = i2d_X509(c, &p);
	if (n <= 0)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: cannot encode");
	uint8_t *r = malloc((size_t)n);
	if (!r) {
		OPENSSL_free(p);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	memcpy(r, p, (size_t)n);
	OPENSSL_free(p);
	*der = r;
	*len = (size_t)n;
	return 0;
}

int ctng_cert_to_pem(const X509 *c, char **pem, size_t *len, ctng_err *err)
{
	*pem = NULL;
	if (len)
		*len = 0;
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = 0;
	if (PEM_write_bio_X509(bio, c) != 1) {
		rc = ctng_err_set(err, CTNG_EINVAL, "certificate: cannot encode PEM");
	} else {
		char *p = NULL;
		long n = BIO_get_mem_data(bio, &p);
		char *r = n > 0 ? malloc((size_t)n + 1) : NULL;
		if (!r) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		} else {
			memcpy(r, p, (size_t)n);
			r[n] = 0;
			*pem = r;
			if (len)
				*len = (size_t)n;
		}
	}
	BIO_free(bio);
	return rc;
}

int ctng_cert_save_file(const X509 *c, const char *path, int mode, ctng_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = ctng_cert_to_pem(c, &pem, &len, err);
	if (!rc)
		rc = ctng_write_file_atomic(path, pem, len, mode, err);
	free(pem);
	return rc;
}

int cert_sha256(const void *data, size_t len, uint8_t out[32], ctng_err *err)
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return ctng_err_set(err, CTNG_ENOMEM, "SHA-256 failed");
	return 0;
}

int ctng_cert_sha256(const X509 *c, uint8_t out[32], ctng_err *err)
{
	unsigned char *p = NULL;
	int n = i2d_X509(c, &p);
	if (n <= 0)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: cannot encode");
	int rc = cert_sha256(p, (size_t)n, out, err);
	OPENSSL_free(p);
	return rc;
}

int ctng_cert_spki_hash(const X509 *c, uint8_t out[32], ctng_err *err)
{
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(c);
	unsigned char *p = NULL;
	int n = pk ? i2d_X509_PUBKEY(pk, &p) : -1;
	if (n <= 0)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: cannot encode its public key");
	int rc = cert_sha256(p, (size_t)n, out, err);
	OPENSSL_free(p);
	return rc;
}

int ctng_cert_check_issued(const X509 *c, const X509 *issuer, ctng_err *err)
{
	if (X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(issuer)) != 0)
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "certificate: issuer name does not match the CA's subject");
	EVP_PKEY *pk = X509_get0_pubkey(issuer);
	if (!pk)
		return ctng_err_set(err, CTNG_EINVAL, "issuer: public key does not parse");
	if (X509_verify((X509 *)c, pk) != 1) {
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "certificate: signature does not verify with the CA key");
	}
	return 0;
}

int ctng_cert_dns_name(const X509 *c, char out[CTNG_DNS_NAME_MAX + 1], ctng_err *err)
{
	int crit = -1;
	GENERAL_NAMES *gns = X509_get_ext_d2i(c, NID_subject_alt_name, &crit, NULL);
	if (!gns) {
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL,
		                    crit == -2 ? "certificate: subjectAltName present twice"
		                               : "certificate: no valid subjectAltName");
	}
	int rc = 0;
	if (sk_GENERAL_NAME_num(gns) != 1) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "certificate: subjectAltName must hold exactly one name");
	} else {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, 0);
		if (gn->type != GEN_DNS) {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "certificate: subjectAltName is not a dNSName");
		} else {
			const unsigned char *d = ASN1_STRING_get0_data(gn->d.dNSName);
			int n = ASN1_STRING_length(gn->d.dNSName);
			if (n <= 0 || n > CTNG_DNS_NAME_MAX || memchr(d, 0, (size_t)n)) {
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "certificate: dNSName has a bad length");
			} else {
				memcpy(out, d, (size_t)n);
				out[n] = 0;
				rc = ctng_dns_name_check(out, err);
			}
		}
	}
	GENERAL_NAMES_free(gns);
	return rc;
}

int cert_find_ext(const X509 *c, const char *oid, int *loc, ctng_err *err)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	if (!obj)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int first = X509_get_ext_by_OBJ(c, obj, -1);
	int second = first >= 0 ? X509_get_ext_by_OBJ(c, obj, first) : -1;
	ASN1_OBJECT_free(obj);
	*loc = first;
	if (first < 0)
		return ctng_err_set(err, CTNG_ENOTFOUND, "certificate: no extension %s", oid);
	if (second >= 0)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: extension %s present twice",
		                    oid);
	return 0;
}

bool ctng_cert_is_precert(const X509 *c)
{
	int loc;
	int rc = cert_find_ext(c, CTNG_CT_POISON_OID, &loc, NULL);
	return rc == 0 || rc == CTNG_EINVAL;
}
