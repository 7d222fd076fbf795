/*
 * ca.c — the CA's logic over its SQLite database (no network I/O):
 * issuance requests and precertificates, SCTs and inclusion proofs from the
 * loggers, final certificates, revocations with their authorisation, and
 * the per-period REV chain over the CRoaring CRV. See docs/ca.md.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/ca_internal.h"
#include "ctng/merkle.h"

static const char *const migrations[] = {
    "CREATE TABLE ca_cert(rid INTEGER PRIMARY KEY, handle TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, created_ms INTEGER NOT NULL, submit_period INTEGER NOT NULL,"
    " precert BLOB NOT NULL, cert BLOB, cert_sha256 BLOB, issued_period INTEGER);"
    "CREATE TABLE ca_sct(rid INTEGER NOT NULL, logger TEXT NOT NULL, ts INTEGER NOT NULL,"
    " period INTEGER NOT NULL, exts BLOB NOT NULL, PRIMARY KEY(rid, logger));"
    "CREATE TABLE ca_proof(rid INTEGER NOT NULL, logger TEXT NOT NULL,"
    " period INTEGER NOT NULL, der BLOB NOT NULL, PRIMARY KEY(rid, logger));"
    "CREATE TABLE ca_revocation(rid INTEGER PRIMARY KEY, revoked_ms INTEGER NOT NULL,"
    " by_operator INTEGER NOT NULL, rev_period INTEGER);"
    "CREATE TABLE ca_rev(period INTEGER NOT NULL, variant INTEGER NOT NULL,"
    " json TEXT NOT NULL, PRIMARY KEY(period, variant));"
    "CREATE TABLE ca_split(monitor TEXT PRIMARY KEY, alt INTEGER NOT NULL);"
    "CREATE TABLE ca_meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "CREATE INDEX ca_cert_pending ON ca_cert(rid) WHERE cert IS NULL;"
    "CREATE INDEX ca_rev_unpub ON ca_revocation(rev_period);",
};

/* ------------------------------------------------------------- helpers */

static int db_fail(ctng_ca *ca, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "database: %s: %s", what, sqlite3_errmsg(ca->db));
}

static sqlite3_stmt *prep(ctng_ca *ca, const char *sql, ctng_err *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ca->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(ca, err, "prepare");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Runs a statement that returns no rows. */
static int run(ctng_ca *ca, sqlite3_stmt *st, ctng_err *err)
{
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_fail(ca, err, "write");
}

static int rollback(ctng_ca *ca, int rc)
{
	ctng_store_rollback(ca->store, NULL);
	return rc;
}

static int meta_get(ctng_ca *ca, const char *k, uint64_t *v, bool *found, ctng_err *err)
{
	sqlite3_stmt *st = prep(ca, "SELECT v FROM ca_meta WHERE k=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*found = r == SQLITE_ROW;
	if (*found)
		*v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (r == SQLITE_ROW || r == SQLITE_DONE) ? 0 : db_fail(ca, err, "meta");
}

static int meta_put(ctng_ca *ca, const char *k, uint64_t v, ctng_err *err)
{
	sqlite3_stmt *st = prep(ca, "INSERT OR REPLACE INTO ca_meta(k, v) VALUES(?, ?)", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
	return run(ca, st, err);
}

static int sha256(const void *d, size_t n, uint8_t out[32])
{
	unsigned int l = 0;
	return EVP_Digest(d, n, out, &l, EVP_sha256(), NULL) == 1 && l == 32 ? 0 : CTNG_ENOMEM;
}

static const ctng_sig_key *logger_key(ctng_ca *ca, const char *logger_id, ctng_err *err)
{
	const ctng_entity *e = ctng_network_entity(ca->net, logger_id);
	if (!e || e->role != CTNG_ROLE_LOGGER || !e->key) {
		ctng_err_set(err, CTNG_EINVAL, "%s is not a logger of this network", logger_id);
		return NULL;
	}
	return e->key;
}

/* Loads RID's precertificate (and whether it is issued). */
static int load_precert(ctng_ca *ca, uint32_t rid, X509 **pre, ctng_err *err)
{
	*pre = NULL;
	sqlite3_stmt *st = prep(ca, "SELECT precert FROM ca_cert WHERE rid=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, rid);
	int r = sqlite3_step(st), rc;
	if (r == SQLITE_ROW)
		rc = ctng_cert_from_der(sqlite3_column_blob(st, 0),
		                        (size_t)sqlite3_column_bytes(st, 0), pre, err);
	else if (r == SQLITE_DONE)
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no certificate with RID %u", rid);
	else
		rc = db_fail(ca, err, "precert");
	sqlite3_finalize(st);
	return rc;
}

static int rid_list(ctng_ca *ca, sqlite3_stmt *st, uint32_t **rids, size_t *n, ctng_err *err)
{
	*rids = NULL;
	*n = 0;
	size_t cap = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			uint32_t *v = realloc(*rids, cap * sizeof(*v));
			if (!v) {
				sqlite3_finalize(st);
				free(*rids);
				*rids = NULL;
				*n = 0;
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			}
			*rids = v;
		}
		(*rids)[(*n)++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(*rids);
		*rids = NULL;
		*n = 0;
		return db_fail(ca, err, "list");
	}
	return 0;
}

/* ------------------------------------------------------------ open/close */

static int load_crv(ctng_ca *ca, int64_t upto, roaring_bitmap_t **out, ctng_err *err)
{
	*out = roaring_bitmap_create();
	if (!*out)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	sqlite3_stmt *st = prep(ca,
	                        "SELECT rid FROM ca_revocation WHERE rev_period IS NOT NULL AND "
	                        "rev_period <= ?",
	                        err);
	if (!st) {
		roaring_bitmap_free(*out);
		*out = NULL;
		return CTNG_EIO;
	}
	sqlite3_bind_int64(st, 1, upto);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		roaring_bitmap_add(*out, (uint32_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		roaring_bitmap_free(*out);
		*out = NULL;
		return db_fail(ca, err, "load CRV");
	}
	return 0;
}

int ctng_ca_open(const ctng_ca_opts *o, ctng_ca **out, ctng_err *err)
{
	*out = NULL;
	if (!o->id || !ctng_id_valid(o->id) || !o->key || !o->root_pem || !o->net || !o->db_path)
		return ctng_err_set(err, CTNG_EINVAL, "CA options incomplete");
	if (!ctng_sig_key_has_private(o->key))
		return ctng_err_set(err, CTNG_EINVAL, "CA key has no private part");
	ctng_ca *ca = calloc(1, sizeof(*ca));
	if (!ca)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	strcpy(ca->id, o->id);
	ca->key = o->key;
	ca->net = o->net;
	ca->validity_ms = o->validity_ms ? o->validity_ms : 90ull * 86400000ull;
	int rc = ctng_cert_from_pem(o->root_pem, strlen(o->root_pem), &ca->root, err);
	if (rc) {
		ctng_err_wrap(err, "CA root");
		goto fail;
	}
	if (X509_check_private_key(ca->root, ctng_sig_key_evp(o->key)) != 1) {
		ERR_clear_error();
		rc = ctng_err_set(err, CTNG_EINVAL, "CA key does not match its root certificate");
		goto fail;
	}
	if ((rc = ctng_cert_to_der(ca->root, &ca->root_der, &ca->root_der_len, err)))
		goto fail;
	if (o->mis && o->mis->present && o->mis->split_view) {
		ca->split_view = true;
		ca->n_split = o->mis->n_split_targets;
		if (ca->n_split) {
			ca->split_targets = calloc(ca->n_split, sizeof(char *));
			if (!ca->split_targets) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				goto fail;
			}
			for (size_t i = 0; i < ca->n_split; i++)
				if (!(ca->split_targets[i] = strdup(o->mis->split_targets[i]))) {
					rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
					goto fail;
				}
		}
	}
	if (!(ca->store = ctng_store_open(o->db_path, err))) {
		rc = err ? err->code : CTNG_EIO;
		goto fail;
	}
	ca->db = ctng_store_db(ca->store);
	if ((rc = ctng_store_migrate(ca->store, "ca", migrations,
	                             sizeof(migrations) / sizeof(*migrations), err)))
		goto fail;
	bool found;
	uint64_t last = 0;
	if ((rc = meta_get(ca, "last_rev", &last, &found, err)))
		goto fail;
	ca->has_rev = found;
	ca->last_rev = last;
	if ((rc = load_crv(ca, found ? (int64_t)last : -1, &ca->crv, err)))
		goto fail;
	*out = ca;
	return 0;
fail:
	ctng_ca_close(ca);
	return rc ? rc : CTNG_EIO;
}

void ctng_ca_close(ctng_ca *ca)
{
	if (!ca)
		return;
	ctng_store_close(ca->store);
	X509_free(ca->root);
	free(ca->root_der);
	for (size_t i = 0; i < ca->n_split && ca->split_targets; i++)
		free(ca->split_targets[i]);
	free(ca->split_targets);
	if (ca->crv)
		roaring_bitmap_free(ca->crv);
	free(ca);
}

/* ------------------------------------------------------------ issuance */

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
	if ((rc = meta_get(ca, "next_rid", &rid, &found, err)))
		goto fail;
	if (rid >= CTNG_CA_BOGUS_RID) {
		rc = ctng_err_set(err, CTNG_ERANGE, "RID space exhausted");
		goto fail;
	}
	ctng_cert_template t = {.dns_name = norm, .subject_key = ctng_sig_key_evp(subj)};
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
	sqlite3_stmt *st = prep(ca,
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
	if ((rc = run(ca, st, err)) || (rc = meta_put(ca, "next_rid", rid + 1, err)) ||
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
	return rollback(ca, rc);
}

/* Checks that obj has exactly the given keys. */
static int exact_keys(const json_t *obj, const char *const *keys, size_t n, ctng_err *err)
{
	if (!json_is_object(obj))
		return ctng_err_set(err, CTNG_EINVAL, "body: expected a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		bool known = false;
		for (size_t i = 0; i < n; i++)
			known = known || !strcmp(k, keys[i]);
		if (!known)
			return ctng_err_set(err, CTNG_EINVAL, "body: unknown field \"%s\"", k);
	}
	for (size_t i = 0; i < n; i++)
		if (!json_object_get(obj, keys[i]))
			return ctng_err_set(err, CTNG_EINVAL, "body: missing field \"%s\"",
			                    keys[i]);
	return 0;
}

int ctng_ca_request_json(ctng_ca *ca, const json_t *body, uint64_t now_ms, json_t **reply,
                         ctng_err *err)
{
	*reply = NULL;
	static const char *const keys[] = {"name", "public_key"};
	int rc = exact_keys(body, keys, 2, err);
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
	sqlite3_stmt *st = prep(ca, "SELECT rid, cert FROM ca_cert WHERE handle=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no request with handle %s", handle);
	} else if (r != SQLITE_ROW) {
		rc = db_fail(ca, err, "status");
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

/* ------------------------------------------------------- loggers' side */

int ctng_ca_batch_begin(ctng_ca *ca, ctng_err *err)
{
	return ctng_store_begin(ca->store, err);
}

int ctng_ca_batch_commit(ctng_ca *ca, ctng_err *err)
{
	return ctng_store_commit(ca->store, err);
}

void ctng_ca_batch_rollback(ctng_ca *ca)
{
	ctng_store_rollback(ca->store, NULL);
}

int ctng_ca_need_submit(ctng_ca *ca, const char *logger_id, uint32_t **rids, size_t *n,
                        ctng_err *err)
{
	*rids = NULL;
	*n = 0;
	sqlite3_stmt *st = prep(ca,
	                        "SELECT rid FROM ca_cert c WHERE cert IS NULL AND NOT EXISTS"
	                        " (SELECT 1 FROM ca_sct s WHERE s.rid=c.rid AND s.logger=?)"
	                        " ORDER BY rid",
	                        err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, logger_id, -1, SQLITE_TRANSIENT);
	return rid_list(ca, st, rids, n, err);
}

int ctng_ca_submission(ctng_ca *ca, uint32_t rid, json_t **body, ctng_err *err)
{
	*body = NULL;
	X509 *pre = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = load_precert(ca, rid, &pre, err);
	if (rc || (rc = ctng_cert_to_der(pre, &der, &len, err))) {
		X509_free(pre);
		return rc;
	}
	X509_free(pre);
	char *a = ctng_b64_strdup(der, len), *b = ctng_b64_strdup(ca->root_der, ca->root_der_len);
	free(der);
	if (a && b)
		*body = json_pack("{s:[s,s]}", "chain", a, b);
	free(a);
	free(b);
	return *body ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

static int precert_entry(ctng_ca *ca, uint32_t rid, ctng_ct_entry *e, ctng_err *err)
{
	X509 *pre = NULL;
	int rc = load_precert(ca, rid, &pre, err);
	if (!rc)
		rc = ctng_ct_entry_precert_x509(pre, ca->root, e, err);
	X509_free(pre);
	return rc;
}

static int b64_field(const json_t *o, const char *k, uint8_t **out, size_t *len, bool allow_empty,
                     ctng_err *err)
{
	*out = NULL;
	*len = 0;
	const json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: expected a base64 string", k);
	if (json_string_length(v) == 0) {
		if (allow_empty)
			return 0;
		return ctng_err_set(err, CTNG_EINVAL, "%s: empty", k);
	}
	return ctng_b64_decode_alloc(json_string_value(v), json_string_length(v), out, len, err);
}

int ctng_ca_record_sct(ctng_ca *ca, uint32_t rid, const char *logger_id, const json_t *sct,
                       ctng_err *err)
{
	const ctng_sig_key *lk = logger_key(ca, logger_id, err);
	if (!lk)
		return CTNG_EINVAL;
	if (!json_is_object(sct))
		return ctng_err_set(err, CTNG_EINVAL, "SCT: expected a JSON object");
	const json_t *ver = json_object_get(sct, "sct_version"),
	             *ts = json_object_get(sct, "timestamp");
	if (!json_is_integer(ver) || json_integer_value(ver) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "SCT: sct_version must be 0");
	if (!json_is_integer(ts) || json_integer_value(ts) < 0)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "SCT: timestamp must be a non-negative integer");
	uint64_t t = (uint64_t)json_integer_value(ts);
	uint8_t *id = NULL, *exts = NULL, *sig = NULL;
	size_t id_len, exts_len, sig_len;
	ctng_ct_entry e = {0};
	ctng_buf tbs = {0};
	int rc;
	uint8_t want_id[32];
	const uint8_t *raw;
	size_t raw_len;
	uint64_t per = 0;
	if ((rc = b64_field(sct, "id", &id, &id_len, false, err)) ||
	    (rc = b64_field(sct, "extensions", &exts, &exts_len, true, err)) ||
	    (rc = b64_field(sct, "signature", &sig, &sig_len, false, err)))
		goto out;
	if ((rc = ctng_sig_key_id(lk, want_id, err)))
		goto out;
	if (id_len != 32 || memcmp(id, want_id, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "SCT: log id is not %s's", logger_id);
		goto out;
	}
	if (exts_len > 0xffff) {
		rc = ctng_err_set(err, CTNG_EINVAL, "SCT: extensions too long");
		goto out;
	}
	if ((rc = ctng_digitally_signed_decode(sig, sig_len, &raw, &raw_len, err)) ||
	    (rc = precert_entry(ca, rid, &e, err)) ||
	    (rc = ctng_ct_sct_signed_bytes(&e, t, exts, exts_len, &tbs, err)))
		goto out;
	if ((rc = ctng_sig_verify(lk, tbs.data, tbs.len, raw, raw_len, err))) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "SCT from %s: signature does not verify",
		                  logger_id);
		goto out;
	}
	if (!ctng_clock_period_of(&ca->net->clock, t, &per)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "SCT: timestamp before genesis");
		goto out;
	}
	sqlite3_stmt *st = prep(ca,
	                        "INSERT OR IGNORE INTO ca_sct(rid, logger, ts, period, exts)"
	                        " VALUES(?,?,?,?,?)",
	                        err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, logger_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)t);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)per);
	sqlite3_bind_blob(st, 5, exts ? (const void *)exts : "", (int)exts_len, SQLITE_STATIC);
	rc = run(ca, st, err);
out:
	free(id);
	free(exts);
	free(sig);
	ctng_ct_entry_clear(&e);
	ctng_buf_free(&tbs);
	return rc;
}

int ctng_ca_need_proof(ctng_ca *ca, const char *logger_id, uint64_t period, uint32_t **rids,
                       size_t *n, ctng_err *err)
{
	*rids = NULL;
	*n = 0;
	sqlite3_stmt *st = prep(ca,
	                        "SELECT s.rid FROM ca_sct s JOIN ca_cert c ON c.rid=s.rid"
	                        " WHERE s.logger=? AND c.cert IS NULL AND s.period < ? AND NOT"
	                        " EXISTS (SELECT 1 FROM ca_proof p WHERE p.rid=s.rid AND"
	                        " p.logger=s.logger) ORDER BY s.rid",
	                        err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, logger_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)period);
	return rid_list(ca, st, rids, n, err);
}

static int load_sct(ctng_ca *ca, uint32_t rid, const char *logger_id, uint64_t *ts, uint8_t **exts,
                    size_t *exts_len, ctng_err *err)
{
	*exts = NULL;
	*exts_len = 0;
	sqlite3_stmt *st = prep(ca, "SELECT ts, exts FROM ca_sct WHERE rid=? AND logger=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, logger_id, -1, SQLITE_TRANSIENT);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_ROW) {
		*ts = (uint64_t)sqlite3_column_int64(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (n) {
			*exts = malloc(n);
			if (!*exts)
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			else
				memcpy(*exts, sqlite3_column_blob(st, 1), n);
			*exts_len = n;
		}
	} else if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no SCT from %s for RID %u", logger_id, rid);
	} else {
		rc = db_fail(ca, err, "SCT");
	}
	sqlite3_finalize(st);
	return rc;
}

int ctng_ca_leaf_hash(ctng_ca *ca, uint32_t rid, const char *logger_id, uint8_t out[32],
                      ctng_err *err)
{
	uint64_t ts = 0;
	uint8_t *exts = NULL;
	size_t el = 0;
	ctng_ct_entry e = {0};
	int rc = load_sct(ca, rid, logger_id, &ts, &exts, &el, err);
	if (!rc && !(rc = precert_entry(ca, rid, &e, err)))
		rc = ctng_ct_leaf_hash(&e, ts, exts, el, out, err);
	ctng_ct_entry_clear(&e);
	free(exts);
	return rc;
}

int ctng_ca_record_proof(ctng_ca *ca, uint32_t rid, const char *logger_id, uint64_t period,
                         const json_t *reply, ctng_err *err)
{
	const ctng_sig_key *lk = logger_key(ca, logger_id, err);
	if (!lk)
		return CTNG_EINVAL;
	static const char *const keys[] = {"sth", "leaf_index", "audit_path"};
	int rc = exact_keys(reply, keys, 3, err);
	if (rc)
		return rc;
	const json_t *li = json_object_get(reply, "leaf_index"),
	             *ap = json_object_get(reply, "audit_path");
	if (!json_is_integer(li) || json_integer_value(li) < 0)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "leaf_index: expected a non-negative integer");
	if (!json_is_array(ap) || json_array_size(ap) > CTNG_EXT_MAX_PATH)
		return ctng_err_set(err, CTNG_EINVAL, "audit_path: expected an array of hashes");
	ctng_gossip_object o = {0};
	ctng_logger_proof p = {0};
	ctng_cert_proofs ps = {.rid = rid};
	uint8_t *der = NULL;
	size_t der_len = 0;
	ctng_sth sth;
	uint8_t leaf[32];
	if ((rc = ctng_gossip_from_json(json_object_get(reply, "sth"), &o, err)))
		goto out;
	if (o.type != CTNG_STH || strcmp(o.signer, logger_id) || o.period != period) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "proof: not %s's STH of period %llu",
		                  logger_id, (unsigned long long)period);
		goto out;
	}
	if ((rc = ctng_gossip_verify_signed(&o, lk, &ca->net->clock, err)) ||
	    (rc = ctng_sth_from_object(&o, &sth, err)))
		goto out;
	strcpy(p.logger_id, logger_id);
	p.period = period;
	p.tree_size = sth.tree_size;
	p.sth_timestamp_ms = sth.timestamp_ms;
	memcpy(p.root, sth.root, 32);
	p.leaf_index = (uint64_t)json_integer_value(li);
	p.path_len = json_array_size(ap);
	if (p.path_len && !(p.audit_path = malloc(p.path_len * 32))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p.path_len; i++) {
		const json_t *h = json_array_get(ap, i);
		if (!json_is_string(h) ||
		    (rc = ctng_b64_decode_exact(p.audit_path[i], 32, json_string_value(h), err))) {
			rc =
			    ctng_err_set(err, CTNG_EINVAL, "audit_path[%zu]: not a base64 hash", i);
			goto out;
		}
	}
	if ((rc = ctng_b64_decode_alloc(ctng_gossip_str(o.signature[0]),
	                                strlen(ctng_gossip_str(o.signature[0])), &p.sth_sig,
	                                &p.sth_sig_len, err)) ||
	    (rc = load_sct(ca, rid, logger_id, &p.leaf_timestamp_ms, &p.leaf_exts, &p.leaf_exts_len,
	                   err)) ||
	    (rc = ctng_ca_leaf_hash(ca, rid, logger_id, leaf, err)))
		goto out;
	if (p.leaf_index >= p.tree_size ||
	    ctng_merkle_verify_inclusion(leaf, p.leaf_index, p.tree_size, p.root,
	                                 (const uint8_t(*)[32])p.audit_path, p.path_len, NULL)) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "proof from %s: audit path does not prove RID %u's leaf",
		                  logger_id, rid);
		goto out;
	}
	if ((rc = ctng_cert_proofs_add(&ps, &p, err)) ||
	    (rc = ctng_cert_proofs_encode(&ps, &der, &der_len, err)))
		goto out;
	sqlite3_stmt *st = prep(ca,
	                        "INSERT OR REPLACE INTO ca_proof(rid, logger, period, der)"
	                        " VALUES(?,?,?,?)",
	                        err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, logger_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)period);
	sqlite3_bind_blob(st, 4, der, (int)der_len, SQLITE_STATIC);
	rc = run(ca, st, err);
out:
	free(der);
	ctng_cert_proofs_clear(&ps);
	ctng_logger_proof_clear(&p);
	ctng_gossip_clear(&o);
	return rc;
}

/* Issues one certificate from its stored proofs (inside the caller's tx). */
static int issue_one(ctng_ca *ca, uint32_t rid, uint64_t period, ctng_err *err)
{
	ctng_cert_proofs ps = {.rid = rid};
	X509 *pre = NULL, *fin = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc = 0, r;
	sqlite3_stmt *st = prep(ca, "SELECT der FROM ca_proof WHERE rid=? ORDER BY logger", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, rid);
	while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
		ctng_cert_proofs one;
		if (!(rc = ctng_cert_proofs_decode(sqlite3_column_blob(st, 0),
		                                   (size_t)sqlite3_column_bytes(st, 0), &one,
		                                   err))) {
			rc = ctng_cert_proofs_add(&ps, &one.proofs[0], err);
			ctng_cert_proofs_clear(&one);
		}
	}
	sqlite3_finalize(st);
	uint8_t fp[32];
	if (rc || (rc = load_precert(ca, rid, &pre, err)) ||
	    (rc = ctng_cert_make_final(pre, &ps, ca->root, ca->key, &fin, err)) ||
	    (rc = ctng_cert_to_der(fin, &der, &der_len, err)))
		goto out;
	if (sha256(der, der_len, fp)) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "SHA-256 failed");
		goto out;
	}
	if (!(st = prep(ca,
	                "UPDATE ca_cert SET cert=?, cert_sha256=?, issued_period=? WHERE rid=? AND"
	                " cert IS NULL",
	                err))) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_blob(st, 1, der, (int)der_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, fp, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)period);
	sqlite3_bind_int64(st, 4, rid);
	rc = run(ca, st, err);
out:
	free(der);
	X509_free(pre);
	X509_free(fin);
	ctng_cert_proofs_clear(&ps);
	return rc;
}

int ctng_ca_issue_ready(ctng_ca *ca, uint64_t period, size_t *issued, ctng_err *err)
{
	if (issued)
		*issued = 0;
	sqlite3_stmt *st =
	    prep(ca,
	         "SELECT c.rid FROM ca_cert c WHERE c.cert IS NULL AND"
	         " (SELECT count(*) FROM ca_proof p WHERE p.rid=c.rid) > 0 AND"
	         " ((SELECT count(*) FROM ca_proof p WHERE p.rid=c.rid) ="
	         "  (SELECT count(*) FROM ca_sct s WHERE s.rid=c.rid) OR c.submit_period + ? <= ?)"
	         " ORDER BY c.rid",
	         err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, CTNG_CA_MAX_WAIT_PERIODS);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)period);
	uint32_t *rids = NULL;
	size_t n = 0;
	int rc = rid_list(ca, st, &rids, &n, err);
	if (rc || n == 0) {
		free(rids);
		return rc;
	}
	if ((rc = ctng_store_begin(ca->store, err))) {
		free(rids);
		return rc;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = issue_one(ca, rids[i], period, err);
	if (!rc)
		rc = ctng_store_commit(ca->store, err);
	if (rc) {
		free(rids);
		return rollback(ca, rc);
	}
	for (size_t i = 0; i < n; i++)
		CTNG_INFO("certificate issued", "rid=%u period=%llu", rids[i],
		          (unsigned long long)period);
	free(rids);
	if (issued)
		*issued = n;
	return 0;
}

/* ---------------------------------------------------------- revocation */

int ctng_ca_revoke_message(const char *ca_id, uint32_t rid, const uint8_t cert_sha256[32],
                           ctng_buf *out, ctng_err *err)
{
	if (!ctng_id_valid(ca_id))
		return ctng_err_set(err, CTNG_EINVAL, "CA id invalid");
	int r = ctng_buf_append(out, CTNG_CA_REVOKE_TAG, sizeof(CTNG_CA_REVOKE_TAG));
	r = r ? r : ctng_buf_append_lp32(out, ca_id, strlen(ca_id));
	r = r ? r : ctng_buf_append_u64be(out, rid);
	r = r ? r : ctng_buf_append(out, cert_sha256, 32);
	return r ? ctng_err_set(err, CTNG_ENOMEM, "out of memory") : 0;
}

int ctng_ca_revoke_json(ctng_ca *ca, const json_t *body, uint64_t now_ms, json_t **reply,
                        ctng_err *err)
{
	*reply = NULL;
	static const char *const keys[] = {"rid", "cert_sha256", "signature"};
	int rc = exact_keys(body, keys, 3, err);
	if (rc)
		return rc;
	const json_t *jr = json_object_get(body, "rid"), *jh = json_object_get(body, "cert_sha256"),
	             *js = json_object_get(body, "signature");
	if (!json_is_integer(jr) || json_integer_value(jr) < 0 ||
	    json_integer_value(jr) >= (json_int_t)CTNG_CA_BOGUS_RID)
		return ctng_err_set(err, CTNG_EINVAL, "rid: expected an integer 0..%u",
		                    CTNG_CA_BOGUS_RID - 1);
	uint32_t rid = (uint32_t)json_integer_value(jr);
	uint8_t want[32];
	if (!json_is_string(jh) || ctng_hex_decode_exact(want, 32, json_string_value(jh), NULL))
		return ctng_err_set(err, CTNG_EINVAL, "cert_sha256: expected 64 hex digits");
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	if (!json_is_string(js) || json_string_length(js) == 0 ||
	    ctng_b64_decode_alloc(json_string_value(js), json_string_length(js), &sig, &sig_len,
	                          NULL) ||
	    sig_len > CTNG_SIG_MAX_LEN) {
		free(sig);
		return ctng_err_set(err, CTNG_EINVAL,
		                    "signature: expected base64 (at most %d bytes)",
		                    CTNG_SIG_MAX_LEN);
	}
	sqlite3_stmt *st = prep(ca, "SELECT cert, cert_sha256 FROM ca_cert WHERE rid=?", err);
	X509 *x = NULL;
	ctng_sig_key *ck = NULL;
	ctng_buf msg = {0};
	if (!st) {
		free(sig);
		return CTNG_EIO;
	}
	sqlite3_bind_int64(st, 1, rid);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no certificate with RID %u", rid);
	} else if (r != SQLITE_ROW) {
		rc = db_fail(ca, err, "revoke lookup");
	} else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		rc = ctng_err_set(err, CTNG_ESTATE, "RID %u is not issued yet", rid);
	} else if (sqlite3_column_bytes(st, 1) != 32 ||
	           memcmp(sqlite3_column_blob(st, 1), want, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "cert_sha256 is not the hash of RID %u's "
		                  "certificate",
		                  rid);
	} else {
		rc = ctng_cert_from_der(sqlite3_column_blob(st, 0),
		                        (size_t)sqlite3_column_bytes(st, 0), &x, err);
	}
	sqlite3_finalize(st);
	bool by_operator = false;
	if (!rc)
		rc = ctng_ca_revoke_message(ca->id, rid, want, &msg, err);
	if (!rc) {
		bool ok = false;
		if (ctng_sig_key_from_evp(X509_get0_pubkey(x), &ck, NULL) == 0)
			ok = ctng_sig_verify(ck, msg.data, msg.len, sig, sig_len, NULL) == 0;
		if (!ok && ctng_sig_verify(ca->key, msg.data, msg.len, sig, sig_len, NULL) == 0)
			ok = by_operator = true;
		if (!ok)
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "bad authorization: signature is neither the certificate "
			                  "key's nor the CA operator's");
	}
	bool inserted = false;
	if (!rc && (st = prep(ca,
	                      "INSERT OR IGNORE INTO ca_revocation(rid, revoked_ms, by_operator)"
	                      " VALUES(?,?,?)",
	                      err))) {
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ms);
		sqlite3_bind_int(st, 3, by_operator);
		rc = run(ca, st, err);
		inserted = sqlite3_changes(ca->db) > 0;
	} else if (!rc) {
		rc = CTNG_EIO;
	}
	if (!rc) {
		*reply = json_pack("{s:s,s:I}", "status", inserted ? "revoked" : "already revoked",
		                   "rid", (json_int_t)rid);
		if (!*reply)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else if (inserted)
			CTNG_INFO("certificate revoked", "rid=%u by=%s", rid,
			          by_operator ? "operator" : "subject");
	}
	free(sig);
	ctng_buf_free(&msg);
	ctng_sig_key_free(ck);
	X509_free(x);
	return rc;
}

/* ----------------------------------------------------------------- REV */

static int store_rev(ctng_ca *ca, uint64_t period, int variant, const roaring_bitmap_t *crv,
                     const roaring_bitmap_t *delta, uint64_t now_ms, ctng_err *err)
{
	uint8_t h[32];
	uint8_t *d = NULL;
	size_t dl = 0;
	ctng_gossip_object o = {0};
	char *json = NULL;
	size_t jl = 0;
	int rc;
	if ((rc = ctng_crv_hash(crv, h, err)) ||
	    (rc = ctng_crv_delta_encode(delta, &d, &dl, err)) ||
	    (rc = ctng_rev_sign(&o, ca->id, ca->key, period, h, d, dl, now_ms, err)) ||
	    (rc = ctng_gossip_encode(&o, &json, &jl, err)))
		goto out;
	sqlite3_stmt *st = prep(ca, "INSERT INTO ca_rev(period, variant, json) VALUES(?,?,?)", err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	sqlite3_bind_text(st, 3, json, (int)jl, SQLITE_STATIC);
	rc = run(ca, st, err);
out:
	free(d);
	free(json);
	ctng_gossip_clear(&o);
	return rc;
}

int ctng_ca_last_rev_period(ctng_ca *ca, uint64_t *period, ctng_err *err)
{
	if (!ca->has_rev)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no REV published yet");
	*period = ca->last_rev;
	return 0;
}

int ctng_ca_publish_rev(ctng_ca *ca, uint64_t period, uint64_t now_ms, ctng_err *err)
{
	if (period >= (1ull << 62))
		return ctng_err_set(err, CTNG_ERANGE, "period out of range");
	if (ca->has_rev && period <= ca->last_rev) {
		if (period == ca->last_rev)
			return 0;
		sqlite3_stmt *st =
		    prep(ca, "SELECT 1 FROM ca_rev WHERE period=? AND variant=0", err);
		if (!st)
			return CTNG_EIO;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
		int r = sqlite3_step(st);
		sqlite3_finalize(st);
		return r == SQLITE_ROW ? 0
		                       : ctng_err_set(err, CTNG_ESTATE,
		                                      "REV of period %llu can no longer be made",
		                                      (unsigned long long)period);
	}
	uint64_t first = ca->has_rev ? ca->last_rev + 1 : period;
	/* a very long outage: fill at most CTNG_CA_MAX_BACKFILL periods (clients
	 * that fall off the chain resync with GET /ctng/v1/crv) */
	if (period - first > CTNG_CA_MAX_BACKFILL)
		first = period - CTNG_CA_MAX_BACKFILL;
	roaring_bitmap_t *crv = roaring_bitmap_copy(ca->crv), *empty = roaring_bitmap_create(),
	                 *delta = roaring_bitmap_create(), *alt = NULL, *alt_delta = NULL;
	int rc = 0;
	if (!crv || !empty || !delta) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	sqlite3_stmt *st = prep(ca, "SELECT rid FROM ca_revocation WHERE rev_period IS NULL", err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		roaring_bitmap_add(delta, (uint32_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		rc = db_fail(ca, err, "unpublished revocations");
		goto out;
	}
	if ((rc = ctng_store_begin(ca->store, err)))
		goto out;
	for (uint64_t q = first; q <= period && !rc; q++) {
		const roaring_bitmap_t *dq = q == period ? delta : empty;
		if (q == period)
			roaring_bitmap_or_inplace(crv, delta);
		rc = store_rev(ca, q, 0, crv, dq, now_ms, err);
		if (!rc && ca->split_view) {
			/* the alternative view: the same chain plus a RID never assigned */
			alt = roaring_bitmap_copy(crv);
			alt_delta = roaring_bitmap_copy(dq);
			if (!alt || !alt_delta) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			} else {
				roaring_bitmap_add(alt, CTNG_CA_BOGUS_RID);
				roaring_bitmap_add(alt_delta, CTNG_CA_BOGUS_RID);
				rc = store_rev(ca, q, 1, alt, alt_delta, now_ms, err);
			}
			if (alt)
				roaring_bitmap_free(alt);
			if (alt_delta)
				roaring_bitmap_free(alt_delta);
			alt = alt_delta = NULL;
		}
	}
	if (!rc && (st = prep(ca, "UPDATE ca_revocation SET rev_period=? WHERE rev_period IS NULL",
	                      err))) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
		rc = run(ca, st, err);
	} else if (!rc) {
		rc = CTNG_EIO;
	}
	if (!rc)
		rc = meta_put(ca, "last_rev", period, err);
	if (!rc)
		rc = ctng_store_commit(ca->store, err);
	if (rc) {
		rollback(ca, rc);
		goto out;
	}
	roaring_bitmap_free(ca->crv);
	ca->crv = crv;
	crv = NULL;
	ca->has_rev = true;
	ca->last_rev = period;
	CTNG_INFO("REV published", "period=%llu revoked=%llu total=%llu",
	          (unsigned long long)period,
	          (unsigned long long)roaring_bitmap_get_cardinality(delta),
	          (unsigned long long)roaring_bitmap_get_cardinality(ca->crv));
out:
	if (crv)
		roaring_bitmap_free(crv);
	if (empty)
		roaring_bitmap_free(empty);
	if (delta)
		roaring_bitmap_free(delta);
	return rc;
}

static int variant_for(ctng_ca *ca, const char *monitor, int *variant, ctng_err *err)
{
	*variant = 0;
	if (!ca->split_view || !monitor || !*monitor || !ctng_id_valid(monitor))
		return 0;
	if (ca->n_split) {
		for (size_t i = 0; i < ca->n_split; i++)
			if (!strcmp(ca->split_targets[i], monitor))
				*variant = 1;
		return 0;
	}
	/* every second distinct requesting monitor, in order of first request */
	sqlite3_stmt *st = prep(ca, "SELECT alt FROM ca_split WHERE monitor=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_TRANSIENT);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*variant = sqlite3_column_int(st, 0) ? 1 : 0;
	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r != SQLITE_DONE)
		return db_fail(ca, err, "split lookup");
	st = prep(ca,
	          "INSERT INTO ca_split(monitor, alt) VALUES(?, (SELECT count(*) % 2 FROM "
	          "ca_split))",
	          err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_TRANSIENT);
	int rc = run(ca, st, err);
	return rc ? rc : variant_for(ca, monitor, variant, err);
}

int ctng_ca_get_rev(ctng_ca *ca, uint64_t period, const char *monitor, ctng_gossip_object *out,
                    ctng_err *err)
{
	ctng_gossip_clear(out);
	int variant;
	int rc = variant_for(ca, monitor, &variant, err);
	if (rc)
		return rc;
	if (period >= (1ull << 62))
		return ctng_err_set(err, CTNG_ENOTFOUND, "no REV of period %llu",
		                    (unsigned long long)period);
	sqlite3_stmt *st = prep(ca,
	                        "SELECT json FROM ca_rev WHERE period=? AND variant<=? ORDER BY"
	                        " variant DESC LIMIT 1",
	                        err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = ctng_gossip_decode((const char *)sqlite3_column_text(st, 0),
		                        (size_t)sqlite3_column_bytes(st, 0), out, err);
	else if (r == SQLITE_DONE)
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no REV of period %llu",
		                  (unsigned long long)period);
	else
		rc = db_fail(ca, err, "REV");
	sqlite3_finalize(st);
	return rc;
}

int ctng_ca_crv(ctng_ca *ca, uint64_t period, roaring_bitmap_t **out, ctng_err *err)
{
	*out = NULL;
	if (!ca->has_rev || period > ca->last_rev)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no REV of period %llu",
		                    (unsigned long long)period);
	return load_crv(ca, (int64_t)period, out, err);
}

int ctng_crv_apply_rev(roaring_bitmap_t *crv, const ctng_gossip_object *rev, ctng_err *err)
{
	if (rev->type != CTNG_REV)
		return ctng_err_set(err, CTNG_EINVAL, "not a REV object");
	ctng_rev r = {0};
	roaring_bitmap_t *delta = NULL, *next = NULL;
	uint8_t h[32];
	int rc = ctng_rev_from_object(rev, &r, err);
	if (rc)
		return rc;
	if (sha256(r.delta, r.delta_len, h) || memcmp(h, r.delta_hash, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "REV: delta hash mismatch");
		goto out;
	}
	if ((rc = ctng_crv_delta_decode(r.delta, r.delta_len, &delta, err)))
		goto out;
	if (!(next = roaring_bitmap_or(crv, delta))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ctng_crv_hash(next, h, err)))
		goto out;
	if (memcmp(h, r.crv_hash, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "REV of period %llu: CRV(p-1) + delta does not hash to CRV(p)",
		                  (unsigned long long)rev->period);
		goto out;
	}
	if (!roaring_bitmap_overwrite(crv, next))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
out:
	if (delta)
		roaring_bitmap_free(delta);
	if (next)
		roaring_bitmap_free(next);
	ctng_rev_clear(&r);
	return rc;
}
