/*
 * log.c — the log's state (DESIGN §5, §8): the SQLite schema and its
 * migrations, the cached statements, opening a log (with the check that the
 * stored tree matches the latest STH) and its small accessors. Submissions
 * are in submit.c, STH publication in sequencer.c, reads in read.c and the
 * CTng endpoints in ctng.c.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/note.h"
#include "logger/logger_internal.h"

/* ------------------------------------------------------------------ schema */

static const char *const migrations[] = {
    "CREATE TABLE logger_entry ("
    " seq INTEGER PRIMARY KEY,"
    " dedup BLOB NOT NULL UNIQUE," /* SHA-256(type || signed_entry) */
    " leaf_hash BLOB NOT NULL,"
    " leaf_input BLOB NOT NULL,"   /* MerkleTreeLeaf */
    " extra_data BLOB NOT NULL,"   /* RFC 6962 extra_data */
    " tile_extra BLOB NOT NULL,"   /* static-ct-api TileLeaf tail */
    " timestamp INTEGER NOT NULL," /* SCT timestamp, ms */
    " sct_sig BLOB NOT NULL,"      /* DigitallySigned */
    " idx INTEGER UNIQUE);"        /* leaf index (migration 2: always set) */
    "CREATE INDEX logger_entry_hash ON logger_entry(leaf_hash);"
    "CREATE INDEX logger_entry_pending ON logger_entry(seq) WHERE idx IS NULL;"
    "CREATE TABLE logger_sth ("
    " period INTEGER NOT NULL, variant INTEGER NOT NULL,"
    " timestamp INTEGER NOT NULL, tree_size INTEGER NOT NULL, root BLOB NOT NULL,"
    " object TEXT NOT NULL, PRIMARY KEY (period, variant));"
    "CREATE TABLE logger_issuer (fp BLOB PRIMARY KEY, der BLOB NOT NULL);"
    "CREATE TABLE logger_split (monitor TEXT PRIMARY KEY, alt INTEGER NOT NULL);",
    /* 2: leaf indexes are assigned at submission (the static-ct-api
     * leaf_index SCT extension); entries still pending from before get the
     * next indexes in submission order. */
    "CREATE TEMP TABLE logger_m2 AS SELECT seq,"
    " (SELECT count(*) FROM logger_entry WHERE idx IS NOT NULL)"
    " + row_number() OVER (ORDER BY seq) - 1 AS i FROM logger_entry WHERE idx IS NULL;"
    "UPDATE logger_entry SET idx = (SELECT i FROM logger_m2 WHERE logger_m2.seq ="
    " logger_entry.seq) WHERE idx IS NULL;"
    "DROP TABLE logger_m2;"
    "DROP INDEX logger_entry_pending;",
};

static const char *const sqls[Q_COUNT] = {
    [Q_FIND_DEDUP] = "SELECT timestamp, sct_sig, idx FROM logger_entry WHERE dedup = ?1",
    [Q_PENDING] = "SELECT idx, leaf_hash, timestamp FROM logger_entry WHERE idx >= ?1"
                  " ORDER BY idx",
    [Q_LAST] = "SELECT idx, timestamp FROM logger_entry ORDER BY idx DESC LIMIT 1",
    [Q_STH_INS] = "INSERT INTO logger_sth (period, variant, timestamp, tree_size, root, object)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_STH_GET] = "SELECT object FROM logger_sth WHERE period = ?1 AND variant = ?2",
    [Q_STH_LATEST] = "SELECT period, object FROM logger_sth WHERE variant = 0"
                     " ORDER BY period DESC LIMIT 1",
    [Q_IDX_BY_HASH] = "SELECT idx FROM logger_entry WHERE leaf_hash = ?1 AND idx IS NOT NULL"
                      " AND idx < ?2 ORDER BY idx LIMIT 1",
    [Q_ENTRIES] = "SELECT leaf_input, extra_data FROM logger_entry WHERE idx >= ?1 AND idx <= ?2"
                  " ORDER BY idx",
    [Q_ISSUER_GET] = "SELECT der FROM logger_issuer WHERE fp = ?1",
    [Q_SPLIT_GET] = "SELECT alt FROM logger_split WHERE monitor = ?1",
    [Q_SPLIT_COUNT] = "SELECT count(*) FROM logger_split",
    [Q_SPLIT_INS] = "INSERT INTO logger_split (monitor, alt) VALUES (?1, ?2)",
    [Q_PENDING_COUNT] = "SELECT count(*) FROM logger_entry WHERE idx >= ?1",
    [Q_TILE_ENTRIES] = "SELECT leaf_input, tile_extra FROM logger_entry WHERE idx >= ?1"
                       " AND idx <= ?2 ORDER BY idx",
};

void lg_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;
	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32); /* only on allocation failure inside OpenSSL */
}

int lg_db_err(ctng_logger *lg, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "logger: %s: %s", what, sqlite3_errmsg(lg->db));
}

/* The cached statement i, reset and unbound. NULL (err filled) on failure. */
sqlite3_stmt *lg_q(ctng_logger *lg, int i, ctng_err *err)
{
	if (!lg->q[i]) {
		if (sqlite3_prepare_v3(lg->db, sqls[i], -1, SQLITE_PREPARE_PERSISTENT, &lg->q[i],
		                       NULL) != SQLITE_OK) {
			lg_db_err(lg, err, "prepare");
			lg->q[i] = NULL;
			return NULL;
		}
	}
	sqlite3_reset(lg->q[i]);
	sqlite3_clear_bindings(lg->q[i]);
	return lg->q[i];
}

void lg_done(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

/* ------------------------------------------------------------------ open */

static int load_latest(ctng_logger *lg, ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, Q_STH_LATEST, err);
	if (!st)
		return CTNG_EIO;
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		lg_done(st);
		lg->has_sth = false;
		return 0;
	}
	if (s != SQLITE_ROW) {
		lg_done(st);
		return lg_db_err(lg, err, "load latest STH");
	}
	uint64_t period = (uint64_t)sqlite3_column_int64(st, 0);
	const char *json = (const char *)sqlite3_column_text(st, 1);
	size_t jlen = (size_t)sqlite3_column_bytes(st, 1);
	ctng_gossip_object o = {0};
	int rc = ctng_gossip_decode(json ? json : "", jlen, &o, err);
	lg_done(st);
	if (!rc)
		rc = ctng_sth_from_object(&o, &lg->sth, err);
	if (rc) {
		ctng_gossip_clear(&o);
		return ctng_err_wrap(err, "logger: stored STH of period %llu",
		                     (unsigned long long)period);
	}
	ctng_gossip_clear(&lg->sth_obj);
	lg->sth_obj = o;
	lg->sth_period = period;
	lg->has_sth = true;
	return 0;
}

/* The next leaf index and the latest SCT timestamp (sequencing state). */
int lg_load_next(ctng_logger *lg, ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, Q_LAST, err);
	if (!st)
		return CTNG_EIO;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		lg->next_index = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		lg->last_ts = (uint64_t)sqlite3_column_int64(st, 1);
	} else if (r != SQLITE_DONE) {
		lg_done(st);
		return lg_db_err(lg, err, "load the next leaf index");
	}
	lg_done(st);
	return 0;
}

int ctng_logger_open(ctng_store *store, const ctng_logger_params *p, ctng_logger **out,
                     ctng_err *err)
{
	*out = NULL;
	if (!store || !p || !p->id || !p->key || !ctng_id_valid(p->id))
		return ctng_err_set(err, CTNG_EINVAL, "logger: missing or invalid parameters");
	if (ctng_sig_key_alg(p->key) != CTNG_SIG_ECDSA_P256 || !ctng_sig_key_has_private(p->key))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "logger: the key must be an ECDSA P-256 "
		                    "private key");
	int rc = ctng_clock_check(&p->clock, err);
	if (rc)
		return rc;
	uint8_t note_pub[32];
	if (p->note_key && (!ctng_sig_key_has_private(p->note_key) ||
	                    (rc = ctng_note_ed25519_public(p->note_key, note_pub, err))))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "logger: the note key must be an Ed25519 "
		                    "private key");
	ctng_logger *lg = calloc(1, sizeof(*lg));
	if (!lg)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	lg->store = store;
	lg->db = ctng_store_db(store);
	lg->key = p->key;
	lg->note_key = p->note_key;
	lg->clock = p->clock;
	snprintf(lg->id, sizeof lg->id, "%s", p->id);
	lg->origin = strdup(p->origin && *p->origin ? p->origin : p->id);
	if (!lg->origin) {
		free(lg);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (p->mis && p->mis->present) {
		lg->split_view = p->mis->split_view;
		lg->silent = p->mis->silent;
		lg->answer_mod = p->mis->answer_periods_mod;
		lg->hide_entry = p->mis->hide_entry;
		lg->hidden_index = p->mis->hidden_index;
		lg->wrong_data = p->mis->wrong_data;
		if (p->mis->n_split_targets) {
			lg->split_targets = calloc(p->mis->n_split_targets, sizeof(char *));
			if (!lg->split_targets) {
				ctng_logger_free(lg);
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			}
			for (size_t i = 0; i < p->mis->n_split_targets; i++) {
				lg->split_targets[i] = strdup(p->mis->split_targets[i]);
				lg->n_split = i + 1;
				if (!lg->split_targets[i]) {
					ctng_logger_free(lg);
					return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				}
			}
		}
	}
	if ((rc = ctng_sig_key_id(p->key, lg->log_id, err)) ||
	    (rc = lg_roots_load(&lg->roots, p->root_pems, p->n_roots, err)) ||
	    (rc = ctng_store_migrate(store, "logger", migrations,
	                             sizeof(migrations) / sizeof(migrations[0]), err)) ||
	    (rc = ctng_merkle_tiles_open(lg->db, &lg->tiles, err)) || (rc = load_latest(lg, err)) ||
	    (rc = lg_load_next(lg, err)) || (rc = ctng_logger_signer_new(lg, &lg->signer, err)) ||
	    (rc = ctng_logger_writer_new(store, &lg->writer, err))) {
		ctng_logger_free(lg);
		return rc;
	}
	uint64_t size = ctng_merkle_tiles_size(lg->tiles);
	uint64_t want = lg->has_sth ? lg->sth.tree_size : 0;
	if (size != want) {
		ctng_logger_free(lg);
		return ctng_err_set(err, CTNG_ESTATE,
		                    "logger: stored tree has %llu leaves but the latest STH %llu",
		                    (unsigned long long)size, (unsigned long long)want);
	}
	if (lg->has_sth) {
		uint8_t root[32];
		if ((rc = ctng_merkle_tiles_root(lg->tiles, size, root, err))) {
			ctng_logger_free(lg);
			return rc;
		}
		if (memcmp(root, lg->sth.root, 32)) {
			ctng_logger_free(lg);
			return ctng_err_set(err, CTNG_ESTATE,
			                    "logger: stored tree root differs from the latest STH");
		}
	}
	*out = lg;
	return 0;
}

void ctng_logger_free(ctng_logger *lg)
{
	if (!lg)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(lg->q[i]);
	ctng_merkle_tiles_close(lg->tiles);
	ctng_logger_writer_free(lg->writer);
	ctng_logger_signer_free(lg->signer);
	lg_roots_free(&lg->roots);
	for (size_t i = 0; i < lg->n_split; i++)
		free(lg->split_targets[i]);
	free(lg->split_targets);
	free(lg->origin);
	ctng_gossip_clear(&lg->sth_obj);
	free(lg);
}

void ctng_logger_log_id(const ctng_logger *lg, uint8_t out[32])
{
	memcpy(out, lg->log_id, 32);
}

uint64_t ctng_logger_tree_size(const ctng_logger *lg)
{
	return lg->has_sth ? lg->sth.tree_size : 0;
}

int ctng_logger_pending_count(ctng_logger *lg, uint64_t *n, ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, Q_PENDING_COUNT, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)ctng_logger_tree_size(lg));
	if (sqlite3_step(st) != SQLITE_ROW) {
		lg_done(st);
		return lg_db_err(lg, err, "count pending");
	}
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	lg_done(st);
	return 0;
}
