/*
 * logger.c — the log without network I/O (DESIGN §5, §8): SQLite schema,
 * submissions (SCT signing, duplicates, group commit), per-period
 * integration into the merkle tiles with STH signing (and the test-only
 * split view), and every read answer: RFC 6962 JSON, the C2SP checkpoint,
 * hash and data tiles, issuers, and the CTng STH object and proof.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

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
    " idx INTEGER UNIQUE);"        /* leaf index once integrated */
    "CREATE INDEX logger_entry_hash ON logger_entry(leaf_hash);"
    "CREATE INDEX logger_entry_pending ON logger_entry(seq) WHERE idx IS NULL;"
    "CREATE TABLE logger_sth ("
    " period INTEGER NOT NULL, variant INTEGER NOT NULL,"
    " timestamp INTEGER NOT NULL, tree_size INTEGER NOT NULL, root BLOB NOT NULL,"
    " object TEXT NOT NULL, PRIMARY KEY (period, variant));"
    "CREATE TABLE logger_issuer (fp BLOB PRIMARY KEY, der BLOB NOT NULL);"
    "CREATE TABLE logger_split (monitor TEXT PRIMARY KEY, alt INTEGER NOT NULL);",
};

enum {
	Q_FIND_DEDUP,
	Q_INSERT,
	Q_ISSUER_INS,
	Q_PENDING,
	Q_SET_IDX,
	Q_STH_INS,
	Q_STH_GET,
	Q_STH_LATEST,
	Q_IDX_BY_HASH,
	Q_ENTRIES,
	Q_ISSUER_GET,
	Q_SPLIT_GET,
	Q_SPLIT_COUNT,
	Q_SPLIT_INS,
	Q_PENDING_COUNT,
	Q_TILE_ENTRIES,
	Q_COUNT
};

static const char *const sqls[Q_COUNT] = {
    [Q_FIND_DEDUP] = "SELECT timestamp, sct_sig FROM logger_entry WHERE dedup = ?1",
    [Q_INSERT] = "INSERT OR IGNORE INTO logger_entry (dedup, leaf_hash, leaf_input, extra_data,"
                 " tile_extra, timestamp, sct_sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_ISSUER_INS] = "INSERT OR IGNORE INTO logger_issuer (fp, der) VALUES (?1, ?2)",
    [Q_PENDING] = "SELECT seq, leaf_hash FROM logger_entry WHERE idx IS NULL AND timestamp < ?1"
                  " ORDER BY seq",
    [Q_SET_IDX] = "UPDATE logger_entry SET idx = ?1 WHERE seq = ?2",
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
    [Q_PENDING_COUNT] = "SELECT count(*) FROM logger_entry WHERE idx IS NULL",
    [Q_TILE_ENTRIES] = "SELECT leaf_input, tile_extra FROM logger_entry WHERE idx >= ?1"
                       " AND idx <= ?2 ORDER BY idx",
};

struct ctng_logger {
	ctng_store *store;
	sqlite3 *db;
	ctng_merkle_tiles *tiles;
	sqlite3_stmt *q[Q_COUNT];
	char id[CTNG_ID_MAX + 1];
	char *origin;
	const ctng_sig_key *key;
	uint8_t log_id[32];
	ctng_clock clock;
	lg_roots roots;
	/* misbehaviour (copied) */
	bool split_view;
	char **split_targets;
	size_t n_split;
	bool silent;
	uint32_t answer_mod;
	/* latest published STH (variant 0) */
	bool has_sth;
	uint64_t sth_period;
	ctng_sth sth;
	ctng_gossip_object sth_obj;
};

struct ctng_logger_sub {
	lg_entry e;
	uint64_t ts;
	uint8_t sig[4 + CTNG_SIG_MAX_LEN]; /* DigitallySigned */
	size_t sig_len;
	ctng_buf leaf;
	uint8_t leaf_hash[32];
	bool durable;
};

void lg_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;
	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32); /* only on allocation failure inside OpenSSL */
}

static int db_err(ctng_logger *lg, ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EIO, "logger: %s: %s", what, sqlite3_errmsg(lg->db));
}

/* The cached statement i, reset and unbound. NULL (err filled) on failure. */
static sqlite3_stmt *Q(ctng_logger *lg, int i, ctng_err *err)
{
	if (!lg->q[i]) {
		if (sqlite3_prepare_v3(lg->db, sqls[i], -1, SQLITE_PREPARE_PERSISTENT, &lg->q[i],
		                       NULL) != SQLITE_OK) {
			db_err(lg, err, "prepare");
			lg->q[i] = NULL;
			return NULL;
		}
	}
	sqlite3_reset(lg->q[i]);
	sqlite3_clear_bindings(lg->q[i]);
	return lg->q[i];
}

static void done(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

/* ------------------------------------------------------------------ open */

static int load_latest(ctng_logger *lg, ctng_err *err)
{
	sqlite3_stmt *st = Q(lg, Q_STH_LATEST, err);
	if (!st)
		return CTNG_EIO;
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		done(st);
		lg->has_sth = false;
		return 0;
	}
	if (s != SQLITE_ROW) {
		done(st);
		return db_err(lg, err, "load latest STH");
	}
	uint64_t period = (uint64_t)sqlite3_column_int64(st, 0);
	const char *json = (const char *)sqlite3_column_text(st, 1);
	size_t jlen = (size_t)sqlite3_column_bytes(st, 1);
	ctng_gossip_object o = {0};
	int rc = ctng_gossip_decode(json ? json : "", jlen, &o, err);
	done(st);
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
	ctng_logger *lg = calloc(1, sizeof(*lg));
	if (!lg)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	lg->store = store;
	lg->db = ctng_store_db(store);
	lg->key = p->key;
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
	    (rc = ctng_merkle_tiles_open(lg->db, &lg->tiles, err)) || (rc = load_latest(lg, err))) {
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
	sqlite3_stmt *st = Q(lg, Q_PENDING_COUNT, err);
	if (!st)
		return CTNG_EIO;
	if (sqlite3_step(st) != SQLITE_ROW) {
		done(st);
		return db_err(lg, err, "count pending");
	}
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	done(st);
	return 0;
}

/* ------------------------------------------------------------- submission */

static int sub_set_sct(ctng_logger_sub *s, uint64_t ts, const void *sig, size_t sig_len,
                       ctng_err *err)
{
	if (sig_len > sizeof(s->sig))
		return ctng_err_set(err, CTNG_EIO, "logger: stored SCT signature too long");
	s->ts = ts;
	memcpy(s->sig, sig, sig_len);
	s->sig_len = sig_len;
	ctng_buf_reset(&s->leaf);
	int rc = ctng_ct_leaf_encode(&s->e.ct, ts, NULL, 0, &s->leaf, err);
	if (!rc)
		rc = ctng_merkle_leaf_hash(s->leaf_hash, s->leaf.data, s->leaf.len);
	return rc;
}

/* Looks the entry up by its duplicate key: 1 found (SCT set), 0 not, <0 error. */
static int find_stored(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err)
{
	sqlite3_stmt *st = Q(lg, Q_FIND_DEDUP, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, s->e.dedup, 32, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (r != SQLITE_ROW) {
		done(st);
		return db_err(lg, err, "find duplicate");
	}
	uint64_t ts = (uint64_t)sqlite3_column_int64(st, 0);
	int rc = sub_set_sct(s, ts, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
	                     err);
	done(st);
	return rc ? rc : 1;
}

/* Signs the SCT of s for timestamp ts (thread-safe: key and entry only). */
static int sign_sct(const ctng_logger *lg, ctng_logger_sub *s, uint64_t ts, ctng_err *err)
{
	ctng_buf tbs = {0};
	uint8_t raw[CTNG_SIG_MAX_LEN];
	size_t raw_len = 0, ds_len = 0;
	uint8_t *ds = NULL;
	int rc;
	if (!(rc = ctng_ct_sct_signed_bytes(&s->e.ct, ts, NULL, 0, &tbs, err)) &&
	    !(rc = ctng_sig_sign(lg->key, tbs.data, tbs.len, raw, &raw_len, err)) &&
	    !(rc = ctng_digitally_signed_encode(raw, raw_len, &ds, &ds_len, err)))
		rc = sub_set_sct(s, ts, ds, ds_len, err);
	free(ds);
	ctng_buf_free(&tbs);
	return rc;
}

uint64_t ctng_logger_sct_time(const ctng_logger *lg, uint64_t now_ms)
{
	/* Never timestamp an entry before the latest STH. */
	if (lg->has_sth && now_ms < lg->sth.timestamp_ms)
		return lg->sth.timestamp_ms;
	return now_ms;
}

int ctng_logger_prepare_offline(const ctng_logger *lg, const void *body, size_t len, bool precert,
                                uint64_t timestamp_ms, ctng_logger_sub **out, ctng_err *err)
{
	*out = NULL;
	ctng_logger_chain chain;
	int rc = ctng_logger_chain_parse(body, len, &chain, err);
	if (rc)
		return rc;
	ctng_logger_sub *s = calloc(1, sizeof(*s));
	if (!s) {
		ctng_logger_chain_clear(&chain);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	rc = lg_entry_build(&lg->roots, &chain, precert, &s->e, err);
	ctng_logger_chain_clear(&chain);
	if (rc) {
		free(s);
		return rc;
	}
	if ((rc = sign_sct(lg, s, timestamp_ms, err))) {
		ctng_logger_sub_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int ctng_logger_prepare_finish(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err)
{
	if (s->durable)
		return 0;
	int rc = find_stored(lg, s, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		s->durable = true; /* a duplicate: it now carries the stored SCT */
	return 0;
}

int ctng_logger_prepare(ctng_logger *lg, const void *body, size_t len, bool precert,
                        uint64_t now_ms, ctng_logger_sub **out, ctng_err *err)
{
	int rc = ctng_logger_prepare_offline(lg, body, len, precert,
	                                     ctng_logger_sct_time(lg, now_ms), out, err);
	if (!rc && (rc = ctng_logger_prepare_finish(lg, *out, err))) {
		ctng_logger_sub_free(*out);
		*out = NULL;
	}
	return rc;
}

bool ctng_logger_sub_durable(const ctng_logger_sub *s)
{
	return s->durable;
}

static int insert_sub(ctng_logger *lg, ctng_logger_sub *s, bool *inserted, ctng_err *err)
{
	sqlite3_stmt *st = Q(lg, Q_INSERT, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, s->e.dedup, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->leaf_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, s->leaf.data, (int)s->leaf.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, s->e.extra.data, (int)s->e.extra.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, s->e.tile_extra.data, (int)s->e.tile_extra.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->ts);
	sqlite3_bind_blob(st, 7, s->sig, (int)s->sig_len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		done(st);
		return db_err(lg, err, "insert entry");
	}
	*inserted = sqlite3_changes(lg->db) > 0;
	done(st);
	for (size_t i = 0; i < s->e.n_issuers; i++) {
		if (!(st = Q(lg, Q_ISSUER_INS, err)))
			return CTNG_EIO;
		sqlite3_bind_blob(st, 1, s->e.issuers[i].fp, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, s->e.issuers[i].der, (int)s->e.issuers[i].len,
		                  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			done(st);
			return db_err(lg, err, "insert issuer");
		}
		done(st);
	}
	return 0;
}

int ctng_logger_commit(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, ctng_err *err)
{
	size_t todo = 0;
	for (size_t i = 0; i < n; i++)
		todo += !subs[i]->durable;
	if (!todo)
		return 0;
	/* An STH published since a submission was stamped would not hold it:
	 * re-stamp it into the current period so the promise of the SCT (the
	 * next period's STH) holds. Only happens around period starts. */
	for (size_t i = 0; i < n; i++) {
		if (subs[i]->durable || !lg->has_sth || subs[i]->ts >= lg->sth.timestamp_ms)
			continue;
		int r = sign_sct(lg, subs[i], lg->sth.timestamp_ms, err);
		if (r)
			return r;
	}
	bool *refetch = calloc(n, sizeof(bool));
	if (!refetch)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = ctng_store_begin(lg->store, err);
	for (size_t i = 0; i < n && !rc; i++) {
		if (subs[i]->durable)
			continue;
		bool inserted = false;
		rc = insert_sub(lg, subs[i], &inserted, err);
		refetch[i] = !inserted;
	}
	if (rc) {
		if (ctng_store_tx_depth(lg->store) > 0)
			ctng_store_rollback(lg->store, NULL);
		free(refetch);
		return rc;
	}
	if ((rc = ctng_store_commit(lg->store, err))) {
		if (ctng_store_tx_depth(lg->store) > 0)
			ctng_store_rollback(lg->store, NULL);
		free(refetch);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (subs[i]->durable)
			continue;
		if (refetch[i]) {
			int f = find_stored(lg, subs[i], err);
			if (f < 0) {
				rc = f;
				continue;
			}
		}
		subs[i]->durable = true;
	}
	free(refetch);
	return rc;
}

int ctng_logger_add_chain(ctng_logger *lg, const void *body, size_t len, bool precert,
                          uint64_t now_ms, ctng_logger_sub **out, ctng_err *err)
{
	int rc = ctng_logger_prepare(lg, body, len, precert, now_ms, out, err);
	if (rc)
		return rc;
	if ((rc = ctng_logger_commit(lg, out, 1, err))) {
		ctng_logger_sub_free(*out);
		*out = NULL;
	}
	return rc;
}

static json_t *b64_json(const uint8_t *p, size_t n)
{
	char *s = ctng_b64_strdup(p, n);
	if (!s)
		return NULL;
	json_t *j = json_string(s);
	free(s);
	return j;
}

int ctng_logger_sub_sct_json(const ctng_logger_sub *s, const ctng_logger *lg, json_t **out,
                             ctng_err *err)
{
	*out = json_pack("{s:i,s:o*,s:I,s:s,s:o*}", "sct_version", 0, "id",
	                 b64_json(lg->log_id, 32), "timestamp", (json_int_t)s->ts, "extensions", "",
	                 "signature", b64_json(s->sig, s->sig_len));
	if (!*out)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

uint64_t ctng_logger_sub_timestamp(const ctng_logger_sub *s)
{
	return s->ts;
}

const uint8_t *ctng_logger_sub_signature(const ctng_logger_sub *s, size_t *len)
{
	*len = s->sig_len;
	return s->sig;
}

const uint8_t *ctng_logger_sub_leaf(const ctng_logger_sub *s, size_t *len)
{
	*len = s->leaf.len;
	return s->leaf.data;
}

const uint8_t *ctng_logger_sub_leaf_hash(const ctng_logger_sub *s)
{
	return s->leaf_hash;
}

void ctng_logger_sub_free(ctng_logger_sub *s)
{
	if (!s)
		return;
	lg_entry_clear(&s->e);
	ctng_buf_free(&s->leaf);
	free(s);
}

/* ------------------------------------------------------------------ periods */

uint64_t ctng_logger_next_tick_ms(const ctng_logger *lg, uint64_t now_ms)
{
	if (now_ms < lg->clock.genesis_ms)
		return lg->clock.genesis_ms - now_ms;
	return ctng_clock_ms_until_next(&lg->clock, now_ms);
}

int ctng_logger_latest_sth(const ctng_logger *lg, ctng_sth *sth, uint64_t *period, ctng_err *err)
{
	if (!lg->has_sth)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no STH published yet");
	if (sth)
		*sth = lg->sth;
	if (period)
		*period = lg->sth_period;
	return 0;
}

static int store_sth(ctng_logger *lg, uint64_t period, int variant, const ctng_sth *sth,
                     ctng_gossip_object *obj, ctng_err *err)
{
	char *json = NULL;
	size_t jlen = 0;
	int rc = ctng_sth_sign(obj, lg->id, lg->key, sth, &lg->clock, err);
	if (!rc)
		rc = ctng_gossip_encode(obj, &json, &jlen, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = Q(lg, Q_STH_INS, err);
	if (!st) {
		free(json);
		return CTNG_EIO;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)sth->timestamp_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)sth->tree_size);
	sqlite3_bind_blob(st, 5, sth->root, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, json, (int)jlen, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(lg, err, "store STH");
	done(st);
	free(json);
	return rc;
}

static int integrate(ctng_logger *lg, uint64_t period, uint64_t start, ctng_gossip_object *obj,
                     ctng_sth *sth, ctng_err *err)
{
	sqlite3_stmt *st = Q(lg, Q_PENDING, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)start);
	size_t n = 0, cap = 0;
	int64_t *seqs = NULL;
	uint8_t(*hashes)[32] = NULL;
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			int64_t *ns = realloc(seqs, cap * sizeof(*ns));
			if (ns)
				seqs = ns;
			uint8_t(*nh)[32] = realloc(hashes, cap * sizeof(*nh));
			if (nh)
				hashes = nh;
			if (!ns || !nh) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				break;
			}
		}
		if (sqlite3_column_bytes(st, 1) != 32) {
			rc =
			    ctng_err_set(err, CTNG_EIO, "logger: stored leaf hash is not 32 bytes");
			break;
		}
		seqs[n] = sqlite3_column_int64(st, 0);
		memcpy(hashes[n], sqlite3_column_blob(st, 1), 32);
		n++;
	}
	if (!rc && r != SQLITE_DONE)
		rc = db_err(lg, err, "read pending entries");
	done(st);
	uint64_t base = ctng_merkle_tiles_size(lg->tiles);
	if (!rc && n)
		rc = ctng_merkle_tiles_append(lg->tiles, (const uint8_t(*)[32])hashes, n, err);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!(st = Q(lg, Q_SET_IDX, err))) {
			rc = CTNG_EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(base + i));
		sqlite3_bind_int64(st, 2, seqs[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_err(lg, err, "assign leaf index");
		done(st);
	}
	free(seqs);
	free(hashes);
	if (rc)
		return rc;
	sth->timestamp_ms = start;
	sth->tree_size = base + n;
	if ((rc = ctng_merkle_tiles_root(lg->tiles, sth->tree_size, sth->root, err)) ||
	    (rc = store_sth(lg, period, 0, sth, obj, err)))
		return rc;
	if (lg->split_view && lg->clock.period_ms > 1) {
		/* Test-only: a second, validly signed STH for the same period. */
		ctng_sth alt = *sth;
		alt.timestamp_ms = start + 1;
		ctng_gossip_object o2 = {0};
		rc = store_sth(lg, period, 1, &alt, &o2, err);
		ctng_gossip_clear(&o2);
	}
	return rc;
}

int ctng_logger_tick(ctng_logger *lg, uint64_t now_ms, bool *published, ctng_err *err)
{
	if (published)
		*published = false;
	uint64_t p;
	if (!ctng_clock_period_of(&lg->clock, now_ms, &p))
		return 0;
	if (lg->has_sth && lg->sth_period >= p)
		return 0;
	uint64_t start = ctng_clock_period_start(&lg->clock, p);
	if (start > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "logger: period start out of range");
	int rc = ctng_store_begin(lg->store, err);
	if (rc)
		return rc;
	ctng_gossip_object obj = {0};
	ctng_sth sth;
	rc = integrate(lg, p, start, &obj, &sth, err);
	if (!rc)
		rc = ctng_store_commit(lg->store, err);
	if (rc) {
		if (ctng_store_tx_depth(lg->store) > 0)
			ctng_store_rollback(lg->store, NULL);
		ctng_merkle_tiles_reload(lg->tiles, NULL);
		ctng_gossip_clear(&obj);
		return rc;
	}
	ctng_gossip_clear(&lg->sth_obj);
	lg->sth_obj = obj;
	lg->sth = sth;
	lg->sth_period = p;
	lg->has_sth = true;
	if (published)
		*published = true;
	CTNG_INFO("published STH", "period=%llu tree_size=%llu", (unsigned long long)p,
	          (unsigned long long)sth.tree_size);
	return 0;
}

/* --------------------------------------------------------------- read API */

static json_t *path_json(const uint8_t (*proof)[32], size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, b64_json(proof[i], 32))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int need_sth(const ctng_logger *lg, ctng_err *err)
{
	return lg->has_sth ? 0 : ctng_err_set(err, CTNG_ENOTFOUND, "no STH published yet");
}

int ctng_logger_get_sth(ctng_logger *lg, json_t **out, ctng_err *err)
{
	*out = NULL;
	int rc = need_sth(lg, err);
	if (rc)
		return rc;
	*out = json_pack("{s:I,s:I,s:o*,s:s}", "tree_size", (json_int_t)lg->sth.tree_size,
	                 "timestamp", (json_int_t)lg->sth.timestamp_ms, "sha256_root_hash",
	                 b64_json(lg->sth.root, 32), "tree_head_signature",
	                 ctng_gossip_str(lg->sth_obj.signature[0]));
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_logger_get_sth_consistency(ctng_logger *lg, uint64_t first, uint64_t second, json_t **out,
                                    ctng_err *err)
{
	*out = NULL;
	uint64_t size = ctng_logger_tree_size(lg);
	if (first > second)
		return ctng_err_set(err, CTNG_EINVAL, "first (%llu) > second (%llu)",
		                    (unsigned long long)first, (unsigned long long)second);
	if (second > size)
		return ctng_err_set(err, CTNG_ERANGE, "second (%llu) exceeds the tree size %llu",
		                    (unsigned long long)second, (unsigned long long)size);
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	int rc = ctng_merkle_tiles_consistency(lg->tiles, first, second, proof, &n, err);
	if (rc)
		return rc;
	*out = json_pack("{s:o*}", "consistency", path_json((const uint8_t(*)[32])proof, n));
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

/* Index of a leaf hash in the tree of tree_size leaves. */
static int find_leaf(ctng_logger *lg, const uint8_t hash[32], uint64_t tree_size, uint64_t *idx,
                     ctng_err *err)
{
	sqlite3_stmt *st = Q(lg, Q_IDX_BY_HASH, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)tree_size);
	int r = sqlite3_step(st);
	int rc = 0;
	if (r == SQLITE_ROW)
		*idx = (uint64_t)sqlite3_column_int64(st, 0);
	else if (r == SQLITE_DONE)
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no leaf with that hash in the tree of %llu",
		                  (unsigned long long)tree_size);
	else
		rc = db_err(lg, err, "find leaf");
	done(st);
	return rc;
}

static int check_tree_size(const ctng_logger *lg, uint64_t tree_size, ctng_err *err)
{
	uint64_t size = ctng_logger_tree_size(lg);
	if (tree_size == 0)
		return ctng_err_set(err, CTNG_EINVAL, "tree_size must be at least 1");
	if (tree_size > size)
		return ctng_err_set(err, CTNG_ERANGE, "tree_size %llu exceeds the tree size %llu",
		                    (unsigned long long)tree_size, (unsigned long long)size);
	return 0;
}

int ctng_logger_get_proof_by_hash(ctng_logger *lg, const uint8_t hash[32], uint64_t tree_size,
                                  json_t **out, ctng_err *err)
{
	*out = NULL;
	uint64_t idx = 0;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	int rc;
	if ((rc = check_tree_size(lg, tree_size, err)) ||
	    (rc = find_leaf(lg, hash, tree_size, &idx, err)) ||
	    (rc = ctng_merkle_tiles_inclusion(lg->tiles, idx, tree_size, proof, &n, err)))
		return rc;
	*out = json_pack("{s:I,s:o*}", "leaf_index", (json_int_t)idx, "audit_path",
	                 path_json((const uint8_t(*)[32])proof, n));
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

/* Calls fn for each stored (integrated) entry start..end, in order. */
static int each_entry(ctng_logger *lg, int q, uint64_t start, uint64_t end,
                      int (*fn)(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                                void *arg),
                      void *arg, ctng_err *err)
{
	sqlite3_stmt *st = Q(lg, q, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)end);
	int r, rc = 0;
	uint64_t count = 0;
	while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = fn(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
		        sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), arg);
		if (rc)
			rc = ctng_err_set(err, rc, "logger: cannot encode entries");
		count++;
	}
	if (!rc && r != SQLITE_DONE)
		rc = db_err(lg, err, "read entries");
	done(st);
	if (!rc && count != end - start + 1)
		rc = ctng_err_set(err, CTNG_EIO,
		                  "logger: entries %llu..%llu missing from the database",
		                  (unsigned long long)start, (unsigned long long)end);
	return rc;
}

static int entry_json_cb(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *arg)
{
	json_t *o = json_pack("{s:o*,s:o*}", "leaf_input", b64_json(a, alen), "extra_data",
	                      b64_json(b, blen));
	if (!o || json_array_append_new((json_t *)arg, o))
		return CTNG_ENOMEM;
	return 0;
}

int ctng_logger_get_entries(ctng_logger *lg, uint64_t start, uint64_t end, json_t **out,
                            ctng_err *err)
{
	*out = NULL;
	uint64_t size = ctng_logger_tree_size(lg);
	if (start > end)
		return ctng_err_set(err, CTNG_EINVAL, "start (%llu) > end (%llu)",
		                    (unsigned long long)start, (unsigned long long)end);
	if (start >= size)
		return ctng_err_set(err, CTNG_ERANGE, "start %llu is beyond the tree size %llu",
		                    (unsigned long long)start, (unsigned long long)size);
	if (end >= size)
		end = size - 1;
	if (end - start >= CTNG_LOGGER_MAX_GET_ENTRIES)
		end = start + CTNG_LOGGER_MAX_GET_ENTRIES - 1;
	json_t *arr = json_array();
	if (!arr)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = each_entry(lg, Q_ENTRIES, start, end, entry_json_cb, arr, err);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = json_pack("{s:o}", "entries", arr);
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_logger_get_entry_and_proof(ctng_logger *lg, uint64_t index, uint64_t tree_size,
                                    json_t **out, ctng_err *err)
{
	*out = NULL;
	int rc = check_tree_size(lg, tree_size, err);
	if (rc)
		return rc;
	if (index >= tree_size)
		return ctng_err_set(err, CTNG_ERANGE, "leaf_index %llu is not below tree_size %llu",
		                    (unsigned long long)index, (unsigned long long)tree_size);
	json_t *arr = json_array();
	if (!arr)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	if ((rc = each_entry(lg, Q_ENTRIES, index, index, entry_json_cb, arr, err)) ||
	    (rc = ctng_merkle_tiles_inclusion(lg->tiles, index, tree_size, proof, &n, err))) {
		json_decref(arr);
		return rc;
	}
	json_t *e = json_array_get(arr, 0);
	json_object_set_new(e, "audit_path", path_json((const uint8_t(*)[32])proof, n));
	*out = json_incref(e);
	json_decref(arr);
	return 0;
}

int ctng_logger_get_roots(ctng_logger *lg, json_t **out, ctng_err *err)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < lg->roots.n; i++)
		if (json_array_append_new(a,
		                          b64_json(lg->roots.v[i].der, lg->roots.v[i].der_len))) {
			json_decref(a);
			a = NULL;
		}
	*out = a ? json_pack("{s:o}", "certificates", a) : NULL;
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_logger_checkpoint(ctng_logger *lg, char **text, size_t *len, ctng_err *err)
{
	*text = NULL;
	int rc = need_sth(lg, err);
	if (rc)
		return rc;
	/* key id = SHA-256(name || 0x0A || 0x05 || LogID)[:4] (static-ct-api) */
	ctng_buf k = {0}, sig = {0}, note = {0};
	uint8_t h[32], *ds = NULL;
	size_t ds_len = 0;
	const char *b64 = ctng_gossip_str(lg->sth_obj.signature[0]);
	char root64[64], *sig64 = NULL;
	ctng_b64_encode(root64, lg->sth.root, 32);
	if ((rc = ctng_b64_decode_alloc(b64, strlen(b64), &ds, &ds_len, err)))
		return rc;
	if (ctng_buf_append(&k, lg->origin, strlen(lg->origin)) || ctng_buf_append_u8(&k, 0x0a) ||
	    ctng_buf_append_u8(&k, 0x05) || ctng_buf_append(&k, lg->log_id, 32))
		rc = CTNG_ENOMEM;
	if (!rc) {
		lg_sha256(k.data, k.len, h);
		if (ctng_buf_append(&sig, h, 4) ||
		    ctng_buf_append_u64be(&sig, lg->sth.timestamp_ms) ||
		    ctng_buf_append(&sig, ds, ds_len))
			rc = CTNG_ENOMEM;
	}
	if (!rc && !(sig64 = ctng_b64_strdup(sig.data, sig.len)))
		rc = CTNG_ENOMEM;
	if (!rc &&
	    ctng_buf_printf(&note, "%s\n%llu\n%s\n\n\xe2\x80\x94 %s %s\n", lg->origin,
	                    (unsigned long long)lg->sth.tree_size, root64, lg->origin, sig64))
		rc = CTNG_ENOMEM;
	free(ds);
	free(sig64);
	ctng_buf_free(&k);
	ctng_buf_free(&sig);
	if (rc) {
		ctng_buf_free(&note);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	*len = note.len;
	*text = (char *)ctng_buf_detach(&note, NULL);
	return 0;
}

static int check_width(const ctng_logger *lg, unsigned level, uint64_t index, unsigned width,
                       ctng_err *err)
{
	if (width == 0 || width > CTNG_MERKLE_TILE_WIDTH)
		return ctng_err_set(err, CTNG_EINVAL, "tile width %u out of range", width);
	unsigned have = ctng_merkle_tile_width(level, index, ctng_logger_tree_size(lg));
	if (width > have)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no such tile in the published tree");
	return 0;
}

int ctng_logger_tile(ctng_logger *lg, unsigned level, uint64_t index, unsigned width,
                     uint8_t **data, size_t *len, ctng_err *err)
{
	*data = NULL;
	int rc = check_width(lg, level, index, width, err);
	if (rc)
		return rc;
	uint8_t *buf = malloc((size_t)width * 32);
	if (!buf)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if ((rc = ctng_merkle_tiles_read_tile(lg->tiles, level, index, width, buf, err))) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = (size_t)width * 32;
	return 0;
}

static int tile_leaf_cb(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *arg)
{
	/* TileLeaf = TimestampedEntry (the MerkleTreeLeaf without version and
	 * leaf_type) || stored tail. */
	if (alen < 2)
		return CTNG_EIO;
	ctng_buf *out = arg;
	if (ctng_buf_append(out, a + 2, alen - 2) || ctng_buf_append(out, b, blen))
		return CTNG_ENOMEM;
	return 0;
}

int ctng_logger_data_tile(ctng_logger *lg, uint64_t index, unsigned width, uint8_t **data,
                          size_t *len, ctng_err *err)
{
	*data = NULL;
	int rc = check_width(lg, 0, index, width, err);
	if (rc)
		return rc;
	ctng_buf b = {0};
	uint64_t first = index * CTNG_MERKLE_TILE_WIDTH;
	if ((rc =
	         each_entry(lg, Q_TILE_ENTRIES, first, first + width - 1, tile_leaf_cb, &b, err))) {
		ctng_buf_free(&b);
		return rc;
	}
	*data = ctng_buf_detach(&b, len);
	return 0;
}

int ctng_logger_issuer(ctng_logger *lg, const uint8_t fp[32], uint8_t **der, size_t *len,
                       ctng_err *err)
{
	*der = NULL;
	sqlite3_stmt *st = Q(lg, Q_ISSUER_GET, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, fp, 32, SQLITE_STATIC);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		*der = malloc(n ? n : 1);
		if (!*der)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else {
			memcpy(*der, sqlite3_column_blob(st, 0), n);
			*len = n;
		}
	} else if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no such issuer");
	} else {
		rc = db_err(lg, err, "read issuer");
	}
	done(st);
	return rc;
}

/* ------------------------------------------------------------------- CTng */

bool ctng_logger_answers(const ctng_logger *lg, uint64_t period)
{
	if (lg->silent)
		return false;
	return lg->answer_mod == 0 || period % lg->answer_mod == 0;
}

/* Which STH variant `monitor` sees (split view is test-only). */
static int variant_for(ctng_logger *lg, const char *monitor, int *variant, ctng_err *err)
{
	*variant = 0;
	if (!lg->split_view || !monitor || !*monitor)
		return 0;
	if (lg->n_split) {
		for (size_t i = 0; i < lg->n_split; i++)
			if (!strcmp(lg->split_targets[i], monitor))
				*variant = 1;
		return 0;
	}
	/* No targets: every second distinct requesting monitor, in the order of
	 * their first request, gets the alternative (remembered in the db). */
	if (!ctng_id_valid(monitor))
		return 0;
	sqlite3_stmt *st = Q(lg, Q_SPLIT_GET, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*variant = sqlite3_column_int(st, 0) ? 1 : 0;
		done(st);
		return 0;
	}
	done(st);
	if (r != SQLITE_DONE)
		return db_err(lg, err, "split view lookup");
	if (!(st = Q(lg, Q_SPLIT_COUNT, err)))
		return CTNG_EIO;
	if (sqlite3_step(st) != SQLITE_ROW) {
		done(st);
		return db_err(lg, err, "split view count");
	}
	int alt = (int)(sqlite3_column_int64(st, 0) % 2);
	done(st);
	if (!(st = Q(lg, Q_SPLIT_INS, err)))
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, alt);
	r = sqlite3_step(st);
	done(st);
	if (r != SQLITE_DONE)
		return db_err(lg, err, "split view insert");
	*variant = alt;
	return 0;
}

static int load_sth_object(ctng_logger *lg, uint64_t period, int variant, ctng_gossip_object *out,
                           ctng_err *err)
{
	if (period > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no STH for period %llu",
		                    (unsigned long long)period);
	sqlite3_stmt *st = Q(lg, Q_STH_GET, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	int r = sqlite3_step(st), rc;
	if (r == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(st, 0);
		rc = ctng_gossip_decode(json ? json : "", (size_t)sqlite3_column_bytes(st, 0), out,
		                        err);
	} else if (r == SQLITE_DONE) {
		uint64_t cur = 0;
		bool started = ctng_clock_period_of(&lg->clock, ctng_now_ms(), &cur);
		if (!started || period >= cur)
			rc = ctng_err_set(err, CTNG_ENOTFOUND,
			                  "STH of period %llu not yet published",
			                  (unsigned long long)period);
		else
			rc = ctng_err_set(err, CTNG_ENOTFOUND,
			                  "no STH was published for period %llu",
			                  (unsigned long long)period);
	} else {
		rc = db_err(lg, err, "read STH");
	}
	done(st);
	return rc;
}

int ctng_logger_sth_object(ctng_logger *lg, uint64_t period, const char *monitor,
                           ctng_gossip_object *out, ctng_err *err)
{
	ctng_gossip_clear(out);
	int variant = 0;
	int rc = variant_for(lg, monitor, &variant, err);
	if (rc)
		return rc;
	rc = load_sth_object(lg, period, variant, out, err);
	if (rc == CTNG_ENOTFOUND && variant == 1)
		rc = load_sth_object(lg, period, 0, out, err);
	return rc;
}

int ctng_logger_period_proof(ctng_logger *lg, uint64_t period, const uint8_t leaf_hash[32],
                             json_t **out, ctng_err *err)
{
	*out = NULL;
	ctng_gossip_object o = {0};
	ctng_sth sth;
	uint64_t idx = 0;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	json_t *oj = NULL;
	int rc;
	if ((rc = load_sth_object(lg, period, 0, &o, err)) ||
	    (rc = ctng_sth_from_object(&o, &sth, err)))
		goto out;
	if (sth.tree_size == 0) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "the STH of period %llu has an empty tree",
		                  (unsigned long long)period);
		goto out;
	}
	if ((rc = find_leaf(lg, leaf_hash, sth.tree_size, &idx, err)) ||
	    (rc = ctng_merkle_tiles_inclusion(lg->tiles, idx, sth.tree_size, proof, &n, err)) ||
	    (rc = ctng_gossip_to_json(&o, &oj, err)))
		goto out;
	*out = json_pack("{s:o,s:I,s:o*}", "sth", oj, "leaf_index", (json_int_t)idx, "audit_path",
	                 path_json((const uint8_t(*)[32])proof, n));
	if (!*out)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
out:
	ctng_gossip_clear(&o);
	return rc;
}
