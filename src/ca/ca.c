/*
 * ca.c — the CA's database (docs/ca.md): the schema, the SQL helpers the
 * other files share (ca_internal.h), opening and closing, and the batches
 * the daemon groups its writes in. The CA's two jobs live in their own
 * files: issuance (request.c: requests and their status; issue.c: the
 * loggers' side and the final certificates) and revocation (revoke.c).
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

int ca_db_fail(ctng_ca *ca, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "database: %s: %s", what, sqlite3_errmsg(ca->db));
}

sqlite3_stmt *ca_prep(ctng_ca *ca, const char *sql, ctng_err *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ca->db, sql, -1, &st, NULL) != SQLITE_OK) {
		ca_db_fail(ca, err, "prepare");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Runs a statement that returns no rows. */
int ca_run(ctng_ca *ca, sqlite3_stmt *st, ctng_err *err)
{
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : ca_db_fail(ca, err, "write");
}

int ca_rollback(ctng_ca *ca, int rc)
{
	ctng_store_rollback(ca->store, NULL);
	return rc;
}

int ca_meta_get(ctng_ca *ca, const char *k, uint64_t *v, bool *found, ctng_err *err)
{
	sqlite3_stmt *st = ca_prep(ca, "SELECT v FROM ca_meta WHERE k=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*found = r == SQLITE_ROW;
	if (*found)
		*v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (r == SQLITE_ROW || r == SQLITE_DONE) ? 0 : ca_db_fail(ca, err, "meta");
}

int ca_meta_put(ctng_ca *ca, const char *k, uint64_t v, ctng_err *err)
{
	sqlite3_stmt *st = ca_prep(ca, "INSERT OR REPLACE INTO ca_meta(k, v) VALUES(?, ?)", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
	return ca_run(ca, st, err);
}

int ca_sha256(const void *d, size_t n, uint8_t out[32])
{
	unsigned int l = 0;
	return EVP_Digest(d, n, out, &l, EVP_sha256(), NULL) == 1 && l == 32 ? 0 : CTNG_ENOMEM;
}

const ctng_sig_key *ca_logger_key(ctng_ca *ca, const char *logger_id, ctng_err *err)
{
	const ctng_entity *e = ctng_network_entity(ca->net, logger_id);
	if (!e || e->role != CTNG_ROLE_LOGGER || !e->key) {
		ctng_err_set(err, CTNG_EINVAL, "%s is not a logger of this network", logger_id);
		return NULL;
	}
	return e->key;
}

/* Loads RID's precertificate (and whether it is issued). */
int ca_load_precert(ctng_ca *ca, uint32_t rid, X509 **pre, ctng_err *err)
{
	*pre = NULL;
	sqlite3_stmt *st = ca_prep(ca, "SELECT precert FROM ca_cert WHERE rid=?", err);
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
		rc = ca_db_fail(ca, err, "precert");
	sqlite3_finalize(st);
	return rc;
}

int ca_rid_list(ctng_ca *ca, sqlite3_stmt *st, uint32_t **rids, size_t *n, ctng_err *err)
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
		return ca_db_fail(ca, err, "list");
	}
	return 0;
}

/* Checks that obj has exactly the given keys. */
int ca_exact_keys(const json_t *obj, const char *const *keys, size_t n, ctng_err *err)
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

uint32_t ca_cert_rid(const ctng_ca *ca, uint32_t rid)
{
	return ca->reuse_rid && (rid & 1) ? rid - 1 : rid;
}

/* ------------------------------------------------------------ open/close */

int ca_load_crv(ctng_ca *ca, int64_t upto, roaring_bitmap_t **out, ctng_err *err)
{
	*out = roaring_bitmap_create();
	if (!*out)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	sqlite3_stmt *st = ca_prep(ca,
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
		return ca_db_fail(ca, err, "load CRV");
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
	ca->reuse_rid = o->mis && o->mis->present && o->mis->reuse_rid;
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
	if ((rc = ca_meta_get(ca, "last_rev", &last, &found, err)))
		goto fail;
	ca->has_rev = found;
	ca->last_rev = last;
	if ((rc = ca_load_crv(ca, found ? (int64_t)last : -1, &ca->crv, err)))
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

/* ------------------------------------------------------------- batches */

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
