/*
 * state.c — the relying party's state (include/ctng/client.h): opening the
 * SQLite file, its schema, the trusted network.json recorded in it, and the
 * in-memory caches (CA roots and trust store, CRV bitmaps, convicted
 * entities) that make offline validation cheap.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "ctng/cert.h"

static const char *const client_schema[] = {
    "CREATE TABLE client_period(period INTEGER PRIMARY KEY, monitor TEXT NOT NULL,"
    " applied_ms INTEGER NOT NULL);"
    "CREATE TABLE client_sth(logger TEXT NOT NULL, period INTEGER NOT NULL,"
    " digest BLOB NOT NULL, has_head INTEGER NOT NULL, tree_size INTEGER,"
    " timestamp_ms INTEGER, root BLOB, PRIMARY KEY(logger, period)) WITHOUT ROWID;"
    "CREATE TABLE client_crv(ca TEXT PRIMARY KEY, period INTEGER, known INTEGER NOT NULL,"
    " hash BLOB NOT NULL, bitmap BLOB NOT NULL);"
    "CREATE TABLE client_con(entity TEXT PRIMARY KEY, period INTEGER NOT NULL,"
    " full_json TEXT NOT NULL);"
    "CREATE TABLE client_acc(entity TEXT NOT NULL, period INTEGER NOT NULL,"
    " PRIMARY KEY(entity, period)) WITHOUT ROWID;",
    /* 2: the STH object's signature (RFC 5246 DigitallySigned bytes), verified
     * when the update was applied, so validation can skip re-verifying an
     * identical signature over the identical head. */
    "ALTER TABLE client_sth ADD COLUMN sig BLOB;",
};

int client_ca_index(const ctng_client *c, const char *id)
{
	for (size_t i = 0; i < c->n_cas; i++)
		if (strcmp(c->cas[i].ent->id, id) == 0)
			return (int)i;
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int client_add_convicted(ctng_client *c, const char *id)
{
	if (ctng_client_convicted(c, id))
		return 0;
	char **v = realloc(c->convicted, (c->n_convicted + 1) * sizeof(*v));
	if (!v)
		return CTNG_ENOMEM;
	c->convicted = v;
	if (!(v[c->n_convicted] = strdup(id)))
		return CTNG_ENOMEM;
	c->n_convicted++;
	qsort(c->convicted, c->n_convicted, sizeof(char *), cmp_str);
	return 0;
}

bool ctng_client_convicted(const ctng_client *c, const char *entity)
{
	if (!c || !entity || !c->n_convicted)
		return false;
	return bsearch(&entity, c->convicted, c->n_convicted, sizeof(char *), cmp_str) != NULL;
}

bool ctng_client_accused(ctng_client *c, const char *entity, uint64_t period)
{
	if (!c || !entity || period > INT64_MAX)
		return false;
	sqlite3_stmt *st = c->q_acc;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)period);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

bool ctng_client_revoked(const ctng_client *c, const char *ca, uint32_t rid, bool *known)
{
	int i = c && ca ? client_ca_index(c, ca) : -1;
	if (known)
		*known = i >= 0 && c->cas[i].known;
	return i >= 0 && roaring_bitmap_contains(c->cas[i].crv, rid);
}

const ctng_network *ctng_client_network(const ctng_client *c)
{
	return &c->net;
}

bool ctng_client_last_period(const ctng_client *c, uint64_t *p)
{
	if (c->have_last && p)
		*p = c->last;
	return c->have_last;
}

bool ctng_client_first_period(const ctng_client *c, uint64_t *p)
{
	if (c->have_first && p)
		*p = c->first;
	return c->have_first;
}

struct x509_store_st *ctng_client_trust_store(const ctng_client *c)
{
	return c->trust;
}

void ctng_client_close(ctng_client *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->q_sth);
	sqlite3_finalize(c->q_acc);
	sqlite3_finalize(c->q_period);
	for (size_t i = 0; i < c->n_cas; i++) {
		X509_free(c->cas[i].root);
		if (c->cas[i].crv)
			roaring_bitmap_free(c->cas[i].crv);
	}
	free(c->cas);
	for (size_t i = 0; i < c->n_convicted; i++)
		free(c->convicted[i]);
	free(c->convicted);
	X509_STORE_free(c->trust);
	ctng_network_free(&c->net);
	ctng_store_close(c->store);
	free(c);
}

static int sql_err(ctng_client *c, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "client state: %s: %s", what,
	                    sqlite3_errmsg(ctng_store_db(c->store)));
}

/* Loads the CA roots into the trust store and the CRV rows into memory. */
static int load_cas(ctng_client *c, ctng_err *err)
{
	size_t n = ctng_network_count(&c->net, CTNG_ROLE_CA);
	if (!(c->trust = X509_STORE_new()))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (n && !(c->cas = calloc(n, sizeof(*c->cas))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	sqlite3 *db = ctng_store_db(c->store);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT period, known, hash, bitmap FROM client_crv WHERE ca = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return sql_err(c, err, "prepare");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		client_ca *ca = &c->cas[c->n_cas++];
		ca->ent = ctng_network_nth(&c->net, CTNG_ROLE_CA, i);
		if (!ca->ent->root_cert_pem) {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "network: CA %s has no root certificate", ca->ent->id);
			break;
		}
		if ((rc = ctng_cert_from_pem(ca->ent->root_cert_pem, strlen(ca->ent->root_cert_pem),
		                             &ca->root, err))) {
			ctng_err_wrap(err, "network: root of %s", ca->ent->id);
			break;
		}
		if ((rc = ctng_cert_spki_hash(ca->root, ca->spki_hash, err)))
			break;
		if (X509_STORE_add_cert(c->trust, ca->root) != 1) {
			rc = ctng_err_set(err, CTNG_EINVAL, "network: cannot trust root of %s",
			                  ca->ent->id);
			break;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, ca->ent->id, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW) {
			const void *blob = sqlite3_column_blob(st, 3);
			size_t blen = (size_t)sqlite3_column_bytes(st, 3);
			ca->crv = roaring_bitmap_portable_deserialize_safe(blob ? blob : "", blen);
			if (!ca->crv || sqlite3_column_bytes(st, 2) != 32) {
				rc =
				    ctng_err_set(err, CTNG_EIO,
				                 "client state: CRV of %s is corrupt", ca->ent->id);
				break;
			}
			ca->have_period = sqlite3_column_type(st, 0) != SQLITE_NULL;
			ca->period = (uint64_t)sqlite3_column_int64(st, 0);
			ca->known = sqlite3_column_int(st, 1) != 0;
			memcpy(ca->hash, sqlite3_column_blob(st, 2), 32);
		} else if (s == SQLITE_DONE) {
			if (!(ca->crv = roaring_bitmap_create())) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				break;
			}
			ca->known = c->have_first && c->first == 0;
			rc = ctng_crv_hash(ca->crv, ca->hash, err);
		} else {
			rc = sql_err(c, err, "read CRV");
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static int load_convicted(ctng_client *c, ctng_err *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ctng_store_db(c->store), "SELECT entity FROM client_con", -1, &st,
	                       NULL) != SQLITE_OK)
		return sql_err(c, err, "prepare");
	int s, rc = 0;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW)
		if (client_add_convicted(c, (const char *)sqlite3_column_text(st, 0)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc && s != SQLITE_DONE)
		rc = sql_err(c, err, "read convictions");
	sqlite3_finalize(st);
	return rc;
}

static int load_u64(ctng_client *c, const char *key, bool *have, uint64_t *v, ctng_err *err)
{
	int rc = ctng_store_kv_get_u64(c->store, CLIENT_KV_NS, key, v, err);
	*have = rc == 0;
	if (rc == CTNG_ENOTFOUND) {
		if (err)
			*err = (ctng_err){0};
		return 0;
	}
	return rc;
}

int ctng_client_open(const char *path, const char *network_json, size_t len, ctng_client **out,
                     ctng_err *err)
{
	*out = NULL;
	if (!path)
		return ctng_err_set(err, CTNG_EINVAL, "client state: no path");
	ctng_client *c = calloc(1, sizeof(*c));
	if (!c)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = 0;
	uint8_t *stored = NULL;
	size_t stored_len = 0;
	if (!(c->store = ctng_store_open(path, err))) {
		rc = err && err->code ? err->code : CTNG_EIO;
		goto fail;
	}
	if ((rc = ctng_store_migrate(c->store, "client", client_schema,
	                             sizeof(client_schema) / sizeof(client_schema[0]), err)))
		goto fail;
	rc = ctng_store_kv_get(c->store, CLIENT_KV_NS, "network", &stored, &stored_len, err);
	if (rc && rc != CTNG_ENOTFOUND)
		goto fail;
	if (rc == CTNG_ENOTFOUND) {
		if (!network_json) {
			rc = ctng_err_set(err, CTNG_ESTATE,
			                  "client state %s holds no network yet: give network.json",
			                  path);
			goto fail;
		}
		if ((rc = ctng_network_parse(network_json, len, &c->net, err))) {
			ctng_err_wrap(err, "network.json");
			goto fail;
		}
		if (!c->net.has_bls) {
			rc = ctng_err_set(err, CTNG_EINVAL, "network.json has no BLS group key");
			goto fail;
		}
		if ((rc = ctng_store_kv_put(c->store, CLIENT_KV_NS, "network", network_json, len,
		                            err)))
			goto fail;
	} else {
		if (network_json && (len != stored_len || memcmp(network_json, stored, len) != 0)) {
			rc = ctng_err_set(err, CTNG_ECONFLICT,
			                  "client state %s trusts another network.json", path);
			goto fail;
		}
		if ((rc = ctng_network_parse((const char *)stored, stored_len, &c->net, err))) {
			ctng_err_wrap(err, "client state: recorded network.json");
			goto fail;
		}
	}
	if ((rc = load_u64(c, "first", &c->have_first, &c->first, err)) ||
	    (rc = load_u64(c, "last", &c->have_last, &c->last, err)) || (rc = load_cas(c, err)) ||
	    (rc = load_convicted(c, err)))
		goto fail;
	sqlite3 *db = ctng_store_db(c->store);
	if (sqlite3_prepare_v3(db,
	                       "SELECT digest, sig FROM client_sth WHERE logger = ? AND period = ?",
	                       -1, SQLITE_PREPARE_PERSISTENT, &c->q_sth, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "SELECT 1 FROM client_acc WHERE entity = ? AND period = ?", -1,
	                       SQLITE_PREPARE_PERSISTENT, &c->q_acc, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, "SELECT 1 FROM client_period WHERE period = ?", -1,
	                       SQLITE_PREPARE_PERSISTENT, &c->q_period, NULL) != SQLITE_OK) {
		rc = sql_err(c, err, "prepare");
		goto fail;
	}
	free(stored);
	*out = c;
	return 0;
fail:
	free(stored);
	ctng_client_close(c);
	return rc ? rc : CTNG_EIO;
}
