/*
 * request.c — issuance requests from certificate subscribers (docs/ca.md
 * "Issuance" step 1): a DNS name and a public key become a durably stored
 * precertificate with the next RID; the request's status (pending or the
 * final certificate) by handle.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/ca_internal.h"
#include "ctng/merkle.h"

static uint64_t asn1_time_ms(const ASN1_TIME *t)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	time_t s = timegm(&tm);
	return s < 0 ? 0 : (uint64_t)s * 1000;
}

int ctng_ca_request(ctng_ca *ca, const char *name, const char *pubkey_pem, uint64_t now_ms,
                    char handle[CTNG_CA_HANDLE_LEN + 1], uint32_t *rid_out, ctng_err *err)
{
	char norm[CTNG_DNS_NAME_MAX + 1];
	int rc = ctng_dns_name_normalize(name, norm, err);
	if (rc)
		return rc;
	if (!pubkey_pem)
		return ctng_err_set(err, CTNG_EINVAL, "public_key: missing");
	ctng_sig_key *subj = NULL;
	if ((rc = ctng_sig_load_public_pem(pubkey_pem, strlen(pubkey_pem), &subj, err))) {
		ctng_err_wrap(err, "public_key");
		return CTNG_EINVAL;
	}
	uint64_t period = 0;
	if (!ctng_clock_period_of(&ca->net->clock, now_ms, &period)) {
		ctng_sig_key_free(subj);
		return ctng_err_set(err, CTNG_ESTATE, "the network's genesis has not come yet");
	}
	uint8_t rnd[16];
	if (ctng_random(rnd, sizeof(rnd))) {
		ctng_sig_key_free(subj);
		return ctng_err_set(err, CTNG_EIO, "random bytes unavailable");
	}
	char h[CTNG_CA_HANDLE_LEN + 1];
	ctng_hex_encode(h, rnd, 16);

	if ((rc = ctng_store_begin(ca->store, err))) {
		ctng_sig_key_free(subj);
		return rc;
	}
	bool found;
	uint64_t rid = 0;
	X509 *pre = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	if ((rc = ca_meta_get(ca, "next_rid", &rid, &found, err)))
		goto fail;
	if (rid >= CTNG_CA_BOGUS_RID) {
		rc = ctng_err_set(err, CTNG_ERANGE, "RID space exhausted");
		goto fail;
	}
	ctng_cert_template t = {.dns_name = norm,
	                        .subject_key = ctng_sig_key_evp(subj),
	                        .rid = ca_cert_rid(ca, (uint32_t)rid)};
	uint8_t srnd[12];
	if (ctng_random(srnd, sizeof(srnd))) {
		rc = ctng_err_set(err, CTNG_EIO, "random bytes unavailable");
		goto fail;
	}
	memcpy(t.serial, srnd, 12);
	t.serial[0] = (uint8_t)((t.serial[0] & 0x3f) | 0x40);
	for (int i = 0; i < 4; i++)
		t.serial[12 + i] = (uint8_t)(rid >> (24 - 8 * i));
	t.serial_len = 16;
	t.not_before_ms = now_ms / 1000 * 1000 - 60000;
	t.not_after_ms = now_ms / 1000 * 1000 + ca->validity_ms;
	uint64_t root_na = asn1_time_ms(X509_get0_notAfter(ca->root));
	if (root_na && t.not_after_ms > root_na)
		t.not_after_ms = root_na;
	if (t.not_after_ms <= now_ms) {
		rc = ctng_err_set(err, CTNG_ESTATE, "the CA root has expired");
		goto fail;
	}
	if ((rc = ctng_cert_make_precert(&t, ca->root, ca->key, &pre, err)) ||
	    (rc = ctng_cert_to_der(pre, &der, &der_len, err)))
		goto fail;
	sqlite3_stmt *st = ca_prep(ca,
	                        "INSERT INTO ca_cert(rid, handle, name, created_ms, submit_period,"
	                        " precert) VALUES(?,?,?,?,?,?)",
	                        err);
	if (!st) {
		rc = CTNG_EIO;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)rid);
	sqlite3_bind_text(st, 2, h, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, norm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now_ms);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)period);
	sqlite3_bind_blob(st, 6, der, (int)der_len, SQLITE_STATIC);
	if ((rc = ca_run(ca, st, err)) || (rc = ca_meta_put(ca, "next_rid", rid + 1, err)) ||
	    (rc = ctng_store_commit(ca->store, err)))
		goto fail;
	X509_free(pre);
	free(der);
	ctng_sig_key_free(subj);
	memcpy(handle, h, sizeof(h));
	*rid_out = (uint32_t)rid;
	CTNG_INFO("certificate requested", "rid=%u name=%s handle=%s", (unsigned)rid, norm, h);
	return 0;
fail:
	X509_free(pre);
	free(der);
	ctng_sig_key_free(subj);
	return ca_rollback(ca, rc);
}


int ctng_ca_request_json(ctng_ca *ca, const json_t *body, uint64_t now_ms, json_t **reply,
                         ctng_err *err)
{
	*reply = NULL;
	static const char *const keys[] = {"name", "public_key"};
	int rc = ca_exact_keys(body, keys, 2, err);
	if (rc)
		return rc;
	const json_t *n = json_object_get(body, "name"), *k = json_object_get(body, "public_key");
	if (!json_is_string(n) || !json_is_string(k))
		return ctng_err_set(err, CTNG_EINVAL, "name and public_key must be strings");
	if (strlen(json_string_value(n)) != json_string_length(n) ||
	    strlen(json_string_value(k)) != json_string_length(k))
		return ctng_err_set(err, CTNG_EINVAL, "NUL byte in a field");
	char handle[CTNG_CA_HANDLE_LEN + 1];
	uint32_t rid;
	if ((rc = ctng_ca_request(ca, json_string_value(n), json_string_value(k), now_ms, handle,
	                          &rid, err)))
		return rc;
	*reply = json_pack("{s:s,s:I,s:s}", "handle", handle, "rid", (json_int_t)rid, "status",
	                   "pending");
	return *reply ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

static bool handle_valid(const char *h)
{
	if (!h || strlen(h) != CTNG_CA_HANDLE_LEN)
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int ctng_ca_status_json(ctng_ca *ca, const char *handle, json_t **reply, ctng_err *err)
{
	*reply = NULL;
	if (!handle_valid(handle))
		return ctng_err_set(err, CTNG_EINVAL, "handle: expected %d lower-case hex digits",
		                    CTNG_CA_HANDLE_LEN);
	sqlite3_stmt *st = ca_prep(ca, "SELECT rid, cert FROM ca_cert WHERE handle=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no request with handle %s", handle);
	} else if (r != SQLITE_ROW) {
		rc = ca_db_fail(ca, err, "status");
	} else {
		json_int_t rid = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
			*reply = json_pack("{s:s,s:I}", "status", "pending", "rid", rid);
		} else {
			X509 *x = NULL;
			char *pem = NULL;
			if (!(rc = ctng_cert_from_der(sqlite3_column_blob(st, 1),
			                              (size_t)sqlite3_column_bytes(st, 1), &x,
			                              err)) &&
			    !(rc = ctng_cert_to_pem(x, &pem, NULL, err)))
				*reply = json_pack("{s:s,s:s,s:I}", "status", "issued",
				                   "certificate", pem, "rid", rid);
			free(pem);
			X509_free(x);
		}
		if (!rc && !*reply)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	sqlite3_finalize(st);
	return rc;
}
