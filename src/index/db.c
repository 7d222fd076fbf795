/*
 * db.c — the index's tables on the monitor's database (module "index"),
 * opening and closing, the statements the hot path reuses, and the CAs of
 * the network as the index knows them (root key hash and fingerprint, the
 * latest CRV).
 *
 *   index_cert       one row per distinct certificate (cursor = id, the
 *                    order of indexing); ikey = the first 8 bytes of
 *                    tbs_hash = SHA-256(issuer key hash || logged TBS); ikh
 *                    only when the issuer is not a CA of the network
 *   index_hash       (ikey, cert) of certificates without a DNS name (the
 *                    others are found again through their first name)
 *   index_entry      (cert, logger, idx): every log entry of it
 *   index_name       (key, cert): the keys of names.c
 *   index_rid        (ca, rid, cert)
 *   index_conflict   two certificates of a CA naming one RID, not yet checked
 *   index_pom        per CA, the two certificates of its RID CON
 *   index_crv        per CA, the latest CRV the index saw (for notifications)
 *   index_revocation revocation events (seq = the events cursor's second part)
 *   index_watch      watches; index_outbox notifications waiting
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "index/index_internal.h"

static const char *const migrations[] = {
    "CREATE TABLE index_cert (id INTEGER PRIMARY KEY, ikey INTEGER NOT NULL,"
    " tbs_hash BLOB NOT NULL, ca TEXT, ikh BLOB, rid INTEGER, serial BLOB NOT NULL,"
    " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, names TEXT NOT NULL,"
    " precert INTEGER NOT NULL, indexed_ms INTEGER NOT NULL);"
    "CREATE INDEX index_cert_ikey ON index_cert (ikey);"
    "CREATE TABLE index_entry (cert INTEGER NOT NULL, logger TEXT NOT NULL,"
    " idx INTEGER NOT NULL, PRIMARY KEY (cert, logger, idx)) WITHOUT ROWID;"
    "CREATE TABLE index_name (key TEXT NOT NULL, cert INTEGER NOT NULL,"
    " PRIMARY KEY (key, cert)) WITHOUT ROWID;"
    "CREATE TABLE index_rid (ca TEXT NOT NULL, rid INTEGER NOT NULL, cert INTEGER NOT NULL,"
    " PRIMARY KEY (ca, rid, cert)) WITHOUT ROWID;"
    "CREATE TABLE index_conflict (id INTEGER PRIMARY KEY, ca TEXT NOT NULL,"
    " rid INTEGER NOT NULL, a INTEGER NOT NULL, b INTEGER NOT NULL, UNIQUE (a, b));"
    "CREATE TABLE index_pom (ca TEXT PRIMARY KEY, rid INTEGER NOT NULL, a BLOB NOT NULL,"
    " b BLOB NOT NULL, found_ms INTEGER NOT NULL);"
    "CREATE TABLE index_crv (ca TEXT PRIMARY KEY, period INTEGER NOT NULL, crv BLOB NOT NULL);"
    "CREATE TABLE index_revocation (seq INTEGER PRIMARY KEY, cert INTEGER NOT NULL,"
    " period INTEGER NOT NULL);"
    "CREATE TABLE index_watch (id INTEGER PRIMARY KEY, domain TEXT NOT NULL,"
    " subdomains INTEGER NOT NULL, webhook TEXT NOT NULL, config INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, UNIQUE (domain, subdomains, webhook));"
    "CREATE TABLE index_outbox (id INTEGER PRIMARY KEY, watch INTEGER NOT NULL,"
    " body TEXT NOT NULL, attempts INTEGER NOT NULL, due_ms INTEGER NOT NULL);"
    "CREATE INDEX index_outbox_due ON index_outbox (due_ms);"
    "CREATE INDEX index_outbox_watch ON index_outbox (watch);",
    /* 2: duplicates are found through the first name's "=N" run (a page
     * the insert touches anyway) instead of a random index over hashes;
     * only certificates without a name are found by hash. */
    "DROP INDEX index_cert_ikey;"
    "CREATE TABLE index_hash (ikey INTEGER NOT NULL, cert INTEGER NOT NULL,"
    " PRIMARY KEY (ikey, cert)) WITHOUT ROWID;"
    "INSERT INTO index_hash SELECT ikey, id FROM index_cert WHERE names = '[]';",
};

static const char *const sql[Q_COUNT] = {
    [Q_FIND_CERT] = "SELECT h.cert, c.tbs_hash FROM index_hash h JOIN index_cert c ON c.id ="
                    " h.cert WHERE h.ikey = ?1",
    /* the last 64 certificates of a name: a flood of one name cannot make
     * this scan long (an older duplicate is then a second result) */
    [Q_FIND_BY_NAME] = "SELECT n.cert, c.tbs_hash FROM index_name n JOIN index_cert c ON c.id ="
                       " n.cert WHERE n.key = ?1 ORDER BY n.cert DESC LIMIT 64",
    [Q_INS_HASH] = "INSERT OR IGNORE INTO index_hash (ikey, cert) VALUES (?1, ?2)",
    [Q_INS_CERT] = "INSERT INTO index_cert (ikey, tbs_hash, ca, ikh, rid, serial, not_before,"
                   " not_after, names, precert, indexed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                   " ?8, ?9, ?10, ?11)",
    [Q_INS_ENTRY] = "INSERT OR IGNORE INTO index_entry (cert, logger, idx) VALUES (?1, ?2, ?3)",
    [Q_INS_NAME] = "INSERT OR IGNORE INTO index_name (key, cert) VALUES (?1, ?2)",
    [Q_FIND_RID] = "SELECT cert FROM index_rid WHERE ca = ?1 AND rid = ?2 AND cert <> ?3 LIMIT 4",
    [Q_INS_RID] = "INSERT OR IGNORE INTO index_rid (ca, rid, cert) VALUES (?1, ?2, ?3)",
    [Q_INS_CONFLICT] = "INSERT OR IGNORE INTO index_conflict (ca, rid, a, b) VALUES (?1, ?2, ?3,"
                       " ?4)",
    [Q_INS_OUTBOX] = "INSERT INTO index_outbox (watch, body, attempts, due_ms) VALUES (?1, ?2, 0,"
                     " ?3)",
    [Q_GET_CERT] = "SELECT id, ca, ikh, rid, serial, not_before, not_after, names, precert,"
                   " indexed_ms FROM index_cert WHERE id = ?1",
    [Q_GET_ENTRIES] = "SELECT logger, idx FROM index_entry WHERE cert = ?1 ORDER BY logger, idx"
                      " LIMIT 64",
    /* Up to three runs of one B-tree merged in certificate order (the compound
     * SELECT's ORDER BY is a merge, not a sort: see docs/monitor.md §10). */
    [Q_SEARCH] = "SELECT cert FROM index_name WHERE key = ?1 AND cert > ?4 UNION"
                 " SELECT cert FROM index_name WHERE key = ?2 AND cert > ?4 UNION"
                 " SELECT cert FROM index_name WHERE key = ?3 AND cert > ?4 ORDER BY 1 LIMIT ?5",
};

int index_db_fail(ctng_index *ix, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "index: %s: %s", what, sqlite3_errmsg(ix->db));
}

int index_step_done(ctng_index *ix, sqlite3_stmt *s, const char *what, ctng_err *err)
{
	int r = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r == SQLITE_DONE ? 0 : index_db_fail(ix, err, what);
}

int index_prepare(ctng_index *ix, const char *text, sqlite3_stmt **out, ctng_err *err)
{
	if (sqlite3_prepare_v2(ix->db, text, -1, out, NULL) != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return index_db_fail(ix, err, "prepare");
	}
	return 0;
}

const index_ca *index_ca_by_id(const ctng_index *ix, const char *id)
{
	for (size_t i = 0; id && i < ix->n_cas; i++)
		if (!strcmp(ix->cas[i].ent->id, id))
			return &ix->cas[i];
	return NULL;
}

static int load_cas(ctng_index *ix, ctng_err *err)
{
	size_t n = ctng_network_count(ix->net, CTNG_ROLE_CA);
	if (!n)
		return 0;
	if (!(ix->cas = calloc(n, sizeof(*ix->cas))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const ctng_entity *e = ctng_network_nth(ix->net, CTNG_ROLE_CA, i);
		index_ca *c = &ix->cas[ix->n_cas];
		X509 *root = NULL;
		uint8_t *der = NULL;
		size_t len = 0;
		if (!e->root_cert_pem ||
		    ctng_cert_from_pem(e->root_cert_pem, strlen(e->root_cert_pem), &root, NULL) ||
		    ctng_cert_spki_hash(root, c->spki_hash, NULL) ||
		    ctng_cert_to_der(root, &der, &len, NULL)) {
			X509_free(root);
			continue; /* a CA without a usable root: its certificates show no CA */
		}
		unsigned int l = 0;
		EVP_Digest(der, len, c->root_fp, &l, EVP_sha256(), NULL);
		free(der);
		X509_free(root);
		c->ent = e;
		ix->n_cas++;
	}
	/* the latest CRV each CA had when the index last saw one */
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix, "SELECT ca, period, crv FROM index_crv", &s, err);
	while (!rc && sqlite3_step(s) == SQLITE_ROW) {
		index_ca *c = (index_ca *)index_ca_by_id(ix, (const char *)sqlite3_column_text(s, 0));
		roaring_bitmap_t *b = NULL;
		if (c && ctng_crv_delta_decode(sqlite3_column_blob(s, 2),
		                               (size_t)sqlite3_column_bytes(s, 2), &b, NULL) == 0) {
			if (c->crv)
				roaring_bitmap_free(c->crv);
			c->crv = b;
			c->crv_period = (uint64_t)sqlite3_column_int64(s, 1);
		}
	}
	sqlite3_finalize(s);
	return rc;
}

static int count_of(ctng_index *ix, const char *text, uint64_t *out, ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix, text, &s, err);
	if (!rc) {
		if (sqlite3_step(s) == SQLITE_ROW)
			*out = (uint64_t)sqlite3_column_int64(s, 0);
		else
			rc = index_db_fail(ix, err, "count");
	}
	sqlite3_finalize(s);
	return rc;
}

int ctng_index_open(ctng_store *st, const ctng_network *net, const char *monitor_id,
                    const ctng_index_opts *o, ctng_index **out, ctng_err *err)
{
	*out = NULL;
	int rc = ctng_store_migrate(st, "index", migrations, sizeof migrations / sizeof *migrations,
	                            err);
	if (rc)
		return rc;
	ctng_index *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	ix->st = st;
	ix->db = ctng_store_db(st);
	ix->net = net;
	snprintf(ix->monitor, sizeof ix->monitor, "%s", monitor_id ? monitor_id : "");
	ix->max_watches = o && o->max_watches ? o->max_watches : 1000;
	ix->max_pending = o && o->max_pending ? o->max_pending : 10000;
	ix->allow_only = o && o->webhook_allow_only;
	if (o && o->n_webhook_allow) {
		if (!(ix->allow = calloc(o->n_webhook_allow, sizeof(char *)))) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			goto fail;
		}
		for (; ix->n_allow < o->n_webhook_allow; ix->n_allow++)
			if (!(ix->allow[ix->n_allow] = strdup(o->webhook_allow[ix->n_allow]))) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				goto fail;
			}
	}
	if (!(ix->allow_nets = calloc(ix->n_allow + 1, sizeof(char *)))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0, k = 0; i < ix->n_allow; i++)
		if (strchr(ix->allow[i], '/'))
			ix->allow_nets[k++] = ix->allow[i];
	if (!(ix->md = EVP_MD_CTX_new()) || !(ix->keys = malloc(INDEX_MAX_KEYS * INDEX_KEY_MAX))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto fail;
	}
	/* The index's B-trees take random inserts (names, hashes): a page cache
	 * of 64 MiB for the monitor's connection instead of SQLite's 2 MiB
	 * keeps their inner pages in memory (docs/monitor.md §10). */
	if ((rc = ctng_store_exec(st, "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 8192", err)))
		goto fail;
	for (int i = 0; i < Q_COUNT; i++)
		if ((rc = index_prepare(ix, sql[i], &ix->q[i], err)))
			goto fail;
	if ((rc = load_cas(ix, err)) || (rc = index_watch_load(ix, err)) ||
	    (rc = count_of(ix, "SELECT count(*) FROM index_conflict", &ix->conflicts_pending, err)))
		goto fail;
	*out = ix;
	return 0;
fail:
	ctng_index_close(ix);
	return rc;
}

void ctng_index_close(ctng_index *ix)
{
	if (!ix)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(ix->q[i]);
	for (size_t i = 0; i < ix->n_cas; i++)
		if (ix->cas[i].crv)
			roaring_bitmap_free(ix->cas[i].crv);
	free(ix->cas);
	for (size_t i = 0; i < ix->n_allow; i++)
		free(ix->allow[i]);
	free(ix->allow);
	free(ix->allow_nets);
	free(ix->watches);
	free(ix->pending);
	free(ix->wkeys);
	EVP_MD_CTX_free(ix->md);
	free(ix->keys);
	free(ix);
}

int ctng_index_stats_get(ctng_index *ix, ctng_index_stats *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	out->entries = ix->entries;
	out->unparsed = ix->unparsed;
	out->watches = ix->n_watches;
	for (size_t i = 0; i < ix->n_watches; i++)
		out->pending += ix->pending[i];
	int rc;
	/* ids are dense (rows are never deleted): max(id) is the count, O(log n) */
	if ((rc = count_of(ix, "SELECT coalesce(max(id), 0) FROM index_cert", &out->certificates,
	                   err)) ||
	    (rc = count_of(ix, "SELECT count(*) FROM index_conflict", &out->rid_conflicts, err)) ||
	    (rc = count_of(ix, "SELECT count(*) FROM index_pom", &out->poms, err)))
		return rc;
	return 0;
}
