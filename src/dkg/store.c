/*
 * store.c — the DKG's tables in the node's SQLite database (docs/dkg.md §7):
 * every message a participant holds (per session, in arrival order), its
 * saved state (the polynomial while it may be needed), and the shares it
 * ended with, looked up by share public key. The share table is what a
 * restarted gossiper reads its key from.
 */
#include <string.h>

#include "ctng/config.h"
#include "ctng/store.h"
#include "dkg/dkg_internal.h"

static const char *const steps[] = {
    "CREATE TABLE dkg_messages ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " session BLOB NOT NULL, hash BLOB NOT NULL, type INTEGER NOT NULL,"
    " sender TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (session, hash));"
    "CREATE TABLE dkg_state (session BLOB PRIMARY KEY, blob TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE dkg_shares (pk BLOB PRIMARY KEY, sk BLOB NOT NULL,"
    " bls_id INTEGER NOT NULL, stored_ms INTEGER NOT NULL);",
};

int ctng_dkg_store_migrate(ctng_store *st, ctng_err *err)
{
	return ctng_store_migrate(st, "dkg", steps, sizeof steps / sizeof steps[0], err);
}

static int db_fail(ctng_store *st, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "dkg store: %s: %s", what,
	                    sqlite3_errmsg(ctng_store_db(st)));
}

static int exec_blobs(ctng_store *st, const char *sql, const void *b1, size_t l1, const void *b2,
                      size_t l2, const char *text, int64_t i3, int64_t i4, ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(ctng_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "prepare");
	sqlite3_bind_blob(s, 1, b1, (int)l1, SQLITE_STATIC);
	if (b2)
		sqlite3_bind_blob(s, 2, b2, (int)l2, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, i3);
	sqlite3_bind_int64(s, 5, i4);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "write");
	sqlite3_finalize(s);
	return rc;
}

int dkg_store_message(ctng_store *st, const uint8_t session[32], const uint8_t hash[32],
                      ctng_dkg_type type, const char *sender, const char *json, ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	const char *sql = "INSERT OR IGNORE INTO dkg_messages (session, hash, type, sender, json)"
	                  " VALUES (?, ?, ?, ?, ?)";
	if (sqlite3_prepare_v2(ctng_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "prepare");
	sqlite3_bind_blob(s, 1, session, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, (int)type);
	sqlite3_bind_text(s, 4, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, json, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "write message");
	sqlite3_finalize(s);
	return rc;
}

int dkg_store_state(ctng_store *st, const uint8_t session[32], const char *blob, ctng_err *err)
{
	return exec_blobs(st,
	                  "INSERT INTO dkg_state (session, blob, updated_ms) VALUES (?1, ?3, ?4)"
	                  " ON CONFLICT (session) DO UPDATE SET blob = ?3, updated_ms = ?4",
	                  session, 32, NULL, 0, blob, (int64_t)ctng_now_ms(), 0, err);
}

int dkg_load(ctng_store *st, const uint8_t session[32], char **state,
             int (*each)(const char *json, size_t len, void *arg), void *arg, ctng_err *err)
{
	*state = NULL;
	sqlite3 *db = ctng_store_db(st);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT blob FROM dkg_state WHERE session = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return db_fail(st, err, "prepare");
	sqlite3_bind_blob(s, 1, session, 32, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *b = (const char *)sqlite3_column_text(s, 0);
		if (b && !(*state = strdup(b)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	sqlite3_finalize(s);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT json FROM dkg_messages WHERE session = ? ORDER BY seq",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "prepare");
	sqlite3_bind_blob(s, 1, session, 32, SQLITE_STATIC);
	int r;
	while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW)
		rc = each((const char *)sqlite3_column_text(s, 0),
		          (size_t)sqlite3_column_bytes(s, 0), arg);
	sqlite3_finalize(s);
	return rc;
}

int ctng_dkg_store_share(ctng_store *st, const uint8_t pk[96], const uint8_t sk[32],
                         uint32_t bls_id, ctng_err *err)
{
	return exec_blobs(
	    st,
	    "INSERT INTO dkg_shares (pk, sk, bls_id, stored_ms) VALUES (?1, ?2, ?4, ?5)"
	    " ON CONFLICT (pk) DO UPDATE SET sk = ?2, bls_id = ?4",
	    pk, 96, sk, 32, NULL, bls_id, (int64_t)ctng_now_ms(), err);
}

int ctng_dkg_load_share(ctng_store *st, const uint8_t pk[96], uint8_t sk[32], ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(ctng_store_db(st), "SELECT sk FROM dkg_shares WHERE pk = ?", -1, &s,
	                       NULL) != SQLITE_OK)
		return db_fail(st, err, "prepare");
	sqlite3_bind_blob(s, 1, pk, 96, SQLITE_STATIC);
	int rc = ctng_err_set(err, CTNG_ENOTFOUND, "dkg store: no share for this key");
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
		memcpy(sk, sqlite3_column_blob(s, 0), 32);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int ctng_dkg_find_share(const ctng_node_config *cfg, ctng_store *st, uint8_t sk[32], ctng_err *err)
{
	if (!cfg->net.has_bls)
		return ctng_err_set(err, CTNG_ESTATE, "the network has no group key yet");
	if (cfg->has_bls_sk) {
		memcpy(sk, cfg->bls_sk, 32);
		return 0;
	}
	if (ctng_dkg_load_share(st, cfg->self->bls_pk, sk, NULL) == 0)
		return 0;
	return ctng_err_set(err, CTNG_ENOTFOUND,
	                    "no BLS share: neither bls_sk in the config nor a DKG share for this "
	                    "bls_pk in the node's store");
}

int ctng_dkg_find_old_share(const ctng_node_config *cfg, ctng_store *st, uint8_t sk[32],
                            ctng_err *err)
{
	const ctng_reshare *r = &cfg->net.reshare;
	for (size_t i = 0; r->present && i < r->n_holders; i++) {
		if (strcmp(r->holders[i].id, cfg->id) != 0)
			continue;
		if (cfg->has_bls_sk) { /* checked against the holder's key on load */
			memcpy(sk, cfg->bls_sk, 32);
			return 0;
		}
		if (ctng_dkg_load_share(st, r->holders[i].bls_pk, sk, NULL) == 0)
			return 0;
		return ctng_err_set(err, CTNG_ENOTFOUND,
		                    "%s held a share of the previous key but it is not here",
		                    cfg->id);
	}
	return ctng_err_set(err, CTNG_ENOTFOUND, "%s held no share of the previous key", cfg->id);
}
