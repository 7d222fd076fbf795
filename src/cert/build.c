/*
 * build.c — certificates the CA makes (self-signed root, RFC 6962
 * precertificate, final certificate carrying the CTng extension) and the
 * verifier-side helpers that read the extension back and check its proofs.
 */
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"
#include "ctng/merkle.h"

/* ----------------------------------------------------- reading proofs */

int ctng_cert_get_proofs(const X509 *c, ctng_cert_proofs *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	int loc, rc = cert_find_ext(c, CTNG_CERT_EXT_OID, &loc, err);
	if (rc)
		return rc;
	X509_EXTENSION *ext = X509_get_ext(c, loc);
	if (X509_EXTENSION_get_critical(ext))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "certificate: CTng extension must not be "
		                    "critical");
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
	return ctng_cert_proofs_decode(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out,
	                               err);
}

void ctng_logger_proof_sth(const ctng_logger_proof *p, ctng_sth *out)
{
	out->timestamp_ms = p->sth_timestamp_ms;
	out->tree_size = p->tree_size;
	memcpy(out->root, p->root, 32);
}

int ctng_cert_proof_leaf_hash(const X509 *cert, const X509 *issuer, const ctng_logger_proof *p,
                              uint8_t out[32], ctng_err *err)
{
	ctng_ct_entry e;
	int rc = ctng_ct_entry_from_ctng_cert(cert, issuer, &e, err);
	if (rc)
		return rc;
	rc = ctng_ct_leaf_hash(&e, p->leaf_timestamp_ms, p->leaf_exts, p->leaf_exts_len, out, err);
	ctng_ct_entry_clear(&e);
	return rc;
}

int ctng_cert_proof_verify_inclusion(const X509 *cert, const X509 *issuer,
                                     const ctng_logger_proof *p, ctng_err *err)
{
	uint8_t leaf[32];
	int rc = ctng_cert_proof_leaf_hash(cert, issuer, p, leaf, err);
	if (rc)
		return rc;
	rc = ctng_merkle_verify_inclusion(leaf, p->leaf_index, p->tree_size, p->root,
	                                  (const uint8_t(*)[32])p->audit_path, p->path_len, err);
	if (rc)
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "inclusion proof from %s does not verify against its STH",
		                    p->logger_id);
	return 0;
}

int ctng_logger_proof_verify_sth(const ctng_logger_proof *p, const ctng_sig_key *logger_key,
                                 const ctng_clock *clock, ctng_err *err)
{
	ctng_sth sth;
	uint8_t tbs[CTNG_STH_TBS_LEN];
	ctng_logger_proof_sth(p, &sth);
	ctng_sth_tbs(&sth, tbs);
	const uint8_t *sig;
	size_t sig_len;
	int rc = ctng_digitally_signed_decode(p->sth_sig, p->sth_sig_len, &sig, &sig_len, err);
	if (rc)
		return ctng_err_set(err, CTNG_EVERIFY, "STH of %s: malformed signature",
		                    p->logger_id);
	rc = ctng_sig_verify(logger_key, tbs, sizeof(tbs), sig, sig_len, err);
	if (rc)
		return ctng_err_set(err, rc == CTNG_EVERIFY ? CTNG_EVERIFY : rc,
		                    "STH of %s: signature does not verify", p->logger_id);
	if (clock) {
		uint64_t per;
		if (!ctng_clock_period_of(clock, p->sth_timestamp_ms, &per) || per != p->period)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "STH of %s: timestamp is not in period %llu",
			                    p->logger_id, (unsigned long long)p->period);
	}
	return 0;
}

/* --------------------------------------------------------- builders */

static const EVP_MD *md_for(EVP_PKEY *k)
{
	return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static int set_time(X509 *x, uint64_t nb_ms, uint64_t na_ms)
{
	ASN1_TIME *nb = ASN1_TIME_set(NULL, (time_t)(nb_ms / 1000));
	ASN1_TIME *na = ASN1_TIME_set(NULL, (time_t)(na_ms / 1000));
	int ok = nb && na && X509_set1_notBefore(x, nb) && X509_set1_notAfter(x, na);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return ok;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	if (!e)
		return 0;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static int set_serial(X509 *x, const uint8_t *s, size_t n)
{
	BIGNUM *bn = BN_bin2bn(s, (int)n, NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	int ok = ai && X509_set_serialNumber(x, ai);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

static int set_cn(X509_NAME *name, const char *cn)
{
	return X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                                  (const unsigned char *)cn, -1, -1, 0);
}

int ctng_cert_make_root(const char *cn, const ctng_sig_key *key, uint64_t not_before_ms,
                        uint64_t not_after_ms, X509 **out, ctng_err *err)
{
	*out = NULL;
	EVP_PKEY *pk = ctng_sig_key_evp(key);
	if (!pk || !ctng_sig_key_has_private(key))
		return ctng_err_set(err, CTNG_EINVAL, "root: needs the CA's private key");
	if (!cn || !*cn || strlen(cn) > 64)
		return ctng_err_set(err, CTNG_EINVAL, "root: common name must be 1..64 bytes");
	uint8_t serial[16];
	if (ctng_random(serial, sizeof(serial)))
		return ctng_err_set(err, CTNG_EIO, "random bytes unavailable");
	serial[0] &= 0x7f;
	serial[0] |= 0x40;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	int ok = x && name && X509_set_version(x, X509_VERSION_3) &&
	         set_serial(x, serial, sizeof(serial)) && set_cn(name, cn) &&
	         X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
	         set_time(x, not_before_ms, not_after_ms) && X509_set_pubkey(x, pk);
	if (ok) {
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
		     add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
		     add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
		     X509_sign(x, pk, md_for(pk)) > 0;
	}
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "root: OpenSSL could not build it");
	}
	*out = x;
	return 0;
}

static int make_rid_ext(uint32_t rid, X509_EXTENSION **out)
{
	uint8_t der[CTNG_RID_EXT_MAX];
	size_t n = ctng_rid_ext_encode(rid, der);
	ASN1_OBJECT *obj = OBJ_txt2obj(CTNG_RID_EXT_OID, 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	int ok = obj && v && ASN1_OCTET_STRING_set(v, der, (int)n);
	*out = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 0, v) : NULL;
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(v);
	return *out != NULL;
}

static int make_poison(X509_EXTENSION **out)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(CTNG_CT_POISON_OID, 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	int ok = obj && v && ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2);
	*out = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 1, v) : NULL;
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(v);
	return *out != NULL;
}

int ctng_cert_make_precert(const ctng_cert_template *t, const X509 *issuer,
                           const ctng_sig_key *issuer_key, X509 **out, ctng_err *err)
{
	*out = NULL;
	int rc = ctng_dns_name_check(t->dns_name, err);
	if (rc)
		return rc;
	if (t->serial_len == 0 || t->serial_len > 20 || (t->serial[0] & 0x80) ||
	    (t->serial_len > 1 && t->serial[0] == 0 && !(t->serial[1] & 0x80)) ||
	    (t->serial_len == 1 && t->serial[0] == 0))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "template: serial must be a positive "
		                    "minimal 1..20 byte integer");
	if (t->not_after_ms < t->not_before_ms)
		return ctng_err_set(err, CTNG_EINVAL, "template: notAfter before notBefore");
	EVP_PKEY *ik = ctng_sig_key_evp(issuer_key);
	if (!ik || !ctng_sig_key_has_private(issuer_key))
		return ctng_err_set(err, CTNG_EINVAL, "precert: needs the CA's private key");
	if (X509_check_private_key(issuer, ik) != 1) {
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "precert: CA key does not match the root");
	}
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_EXTENSION *poison = NULL, *ridx = NULL;
	char san[CTNG_DNS_NAME_MAX + 16];
	/* RFC 5280 §4.2.1.6: with an empty subject (name too long for a CN) the
	 * SAN must be critical */
	bool long_name = strlen(t->dns_name) > 64;
	snprintf(san, sizeof(san), "%sDNS:%s", long_name ? "critical," : "", t->dns_name);
	X509V3_CTX ctx;
	int ok = x && name && X509_set_version(x, X509_VERSION_3) &&
	         set_serial(x, t->serial, t->serial_len) &&
	         (long_name || set_cn(name, t->dns_name)) && X509_set_subject_name(x, name) &&
	         X509_set_issuer_name(x, X509_get_subject_name(issuer)) &&
	         set_time(x, t->not_before_ms, t->not_after_ms) &&
	         X509_set_pubkey(x, (EVP_PKEY *)t->subject_key);
	if (ok) {
		X509V3_set_ctx(&ctx, (X509 *)issuer, x, NULL, NULL, 0);
		ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
		     add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") &&
		     add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") &&
		     add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
		     add_ext(x, &ctx, NID_authority_key_identifier, "keyid") &&
		     add_ext(x, &ctx, NID_subject_alt_name, san) && make_rid_ext(t->rid, &ridx) &&
		     X509_add_ext(x, ridx, -1) && make_poison(&poison) &&
		     X509_add_ext(x, poison, -1) && X509_sign(x, ik, md_for(ik)) > 0;
	}
	X509_EXTENSION_free(poison);
	X509_EXTENSION_free(ridx);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "precert: OpenSSL could not build it");
	}
	*out = x;
	return 0;
}

int ctng_cert_make_final(const X509 *precert, const ctng_cert_proofs *proofs, const X509 *issuer,
                         const ctng_sig_key *issuer_key, X509 **out, ctng_err *err)
{
	*out = NULL;
	EVP_PKEY *ik = ctng_sig_key_evp(issuer_key);
	if (!ik || !ctng_sig_key_has_private(issuer_key))
		return ctng_err_set(err, CTNG_EINVAL, "final: needs the CA's private key");
	uint32_t rid = 0;
	int rc = ctng_cert_get_rid(precert, &rid, err);
	if (rc) {
		ctng_err_wrap(err, "final: precertificate");
		return rc;
	}
	if (rid != proofs->rid)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "final: the proofs name RID %u, the precertificate's RID "
		                    "extension %u",
		                    proofs->rid, rid);
	ctng_ct_entry want = {0}, got = {0};
	if ((rc = ctng_ct_entry_precert_x509(precert, issuer, &want, err)))
		return rc;
	uint8_t *der = NULL;
	size_t der_len = 0;
	if ((rc = ctng_cert_proofs_encode(proofs, &der, &der_len, err))) {
		ctng_ct_entry_clear(&want);
		return rc;
	}
	int loc;
	cert_find_ext(precert, CTNG_CT_POISON_OID, &loc, NULL);
	X509 *x = X509_dup(precert);
	ASN1_OBJECT *obj = OBJ_txt2obj(CTNG_CERT_EXT_OID, 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = x && obj && v && ASN1_OCTET_STRING_set(v, der, (int)der_len) &&
	         (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, v)) != NULL;
	if (ok) {
		X509_EXTENSION_free(X509_delete_ext(x, loc));
		ok = X509_add_ext(x, ext, loc) && X509_sign(x, ik, md_for(ik)) > 0;
	}
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(obj);
	free(der);
	if (!ok) {
		ERR_clear_error();
		rc = ctng_err_set(err, CTNG_EINVAL, "final: OpenSSL could not build it");
	} else if (!(rc = ctng_ct_entry_from_ctng_cert(x, issuer, &got, err))) {
		if (got.der_len != want.der_len || memcmp(got.der, want.der, got.der_len) ||
		    memcmp(got.issuer_key_hash, want.issuer_key_hash, 32))
			rc = ctng_err_set(err, CTNG_ESTATE,
			                  "final: TBS differs from the precertificate's");
	}
	ctng_ct_entry_clear(&want);
	ctng_ct_entry_clear(&got);
	if (rc) {
		X509_free(x);
		return rc;
	}
	*out = x;
	return 0;
}
