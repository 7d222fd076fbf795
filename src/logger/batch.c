/*
 * batch.c — the group commit in steps (include/ctng/logger.h, docs/logger.md
 * "Sequencing"), so that only the cheap one runs on the owner thread:
 *  - sequencing (owner thread): duplicates, then the next leaf index and a
 *    timestamp for each new entry, in memory; one batch open at a time;
 *  - SCT signing (any thread, a ctng_logger_signer each): the MerkleTreeLeaf
 *    with the leaf_index extension, its hash, the ECDSA signature;
 *  - storing (a ctng_logger_writer, on its own connection and thread if the
 *    caller wants): one transaction, COMMIT;
 *  - ending (owner thread): durable, or the indexes rewound.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "logger/logger_internal.h"

/* ------------------------------------------------------------ signer */

struct ctng_logger_signer {
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pk; /* ECDSA sign context for the log's key, made once */
};

int ctng_logger_signer_new(const ctng_logger *lg, ctng_logger_signer **out, ctng_err *err)
{
	*out = NULL;
	ctng_logger_signer *sg = calloc(1, sizeof(*sg));
	if (!sg)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	sg->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	sg->md = EVP_MD_CTX_new();
	/* The EVP_PKEY is shared read-only between the signers (OpenSSL 3
	 * allows that); each has its own operation context. */
	sg->pk = EVP_PKEY_CTX_new_from_pkey(NULL, ctng_sig_key_evp(lg->key), NULL);
	if (!sg->sha256 || !sg->md || !sg->pk || EVP_PKEY_sign_init(sg->pk) != 1) {
		ERR_clear_error();
		ctng_logger_signer_free(sg);
		return ctng_err_set(err, CTNG_EINVAL, "logger: cannot set up SCT signing");
	}
	*out = sg;
	return 0;
}

void ctng_logger_signer_free(ctng_logger_signer *sg)
{
	if (!sg)
		return;
	EVP_PKEY_CTX_free(sg->pk);
	EVP_MD_CTX_free(sg->md);
	EVP_MD_free(sg->sha256);
	free(sg);
}

/* ECDSA P-256 / SHA-256 of msg (what ctng_sig_sign does, without a new
 * context and algorithm fetch per call). The nonce comes from OpenSSL's
 * per-thread DRBG; the scalar multiplication is OpenSSL's constant-time one. */
static int sign_raw(ctng_logger_signer *sg, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t *sig_len, ctng_err *err)
{
	uint8_t h[32];
	unsigned int hl = 0;
	size_t n = *sig_len;
	if (EVP_DigestInit_ex(sg->md, sg->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(sg->md, msg, len) != 1 || EVP_DigestFinal_ex(sg->md, h, &hl) != 1 ||
	    EVP_PKEY_sign(sg->pk, sig, &n, h, hl) != 1) {
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "logger: SCT signing failed");
	}
	*sig_len = n;
	return 0;
}

int ctng_logger_sub_sign(ctng_logger_signer *sg, ctng_logger_sub *s, ctng_err *err)
{
	if (s->state != LG_SUB_SEQUENCED)
		return 0;
	uint8_t raw[CTNG_SIG_MAX_LEN], *ds = NULL;
	size_t raw_len = sizeof raw, ds_len = 0;
	lg_leaf_index_ext(s->idx, s->ext);
	ctng_buf_reset(&s->leaf);
	/* The RFC 6962 §3.2 bytes an SCT signs are the MerkleTreeLeaf byte for
	 * byte (sct_version v1 and certificate_timestamp are both 0, like the
	 * leaf's version v1 and timestamped_entry; the fields after them are
	 * the same), so the leaf is built once and signed. */
	int rc = ctng_ct_leaf_encode(&s->e.ct, s->ts, s->ext, LG_SCT_EXT_LEN, &s->leaf, err);
	if (!rc)
		rc = sign_raw(sg, s->leaf.data, s->leaf.len, raw, &raw_len, err);
	if (!rc)
		rc = ctng_digitally_signed_encode(raw, raw_len, &ds, &ds_len, err);
	if (!rc && ds_len > sizeof s->sig)
		rc = ctng_err_set(err, CTNG_EINVAL, "logger: SCT signature too long");
	if (!rc && (rc = ctng_merkle_leaf_hash(s->leaf_hash, s->leaf.data, s->leaf.len)))
		ctng_err_set(err, rc, "SHA-256 failed");
	if (!rc) {
		memcpy(s->sig, ds, ds_len);
		s->sig_len = ds_len;
		s->state = LG_SUB_SIGNED;
	}
	free(ds);
	return rc;
}

/* --------------------------------------------------------- sequencing */

/* The SCT timestamp never goes back (so leaf indexes and timestamps grow
 * together, and each period's STH takes a prefix of the pending entries) and
 * is never before the latest STH's (so the next STH holds it). */
static uint64_t sequence_time(const ctng_logger *lg, uint64_t arrival)
{
	uint64_t ts = ctng_logger_sct_time(lg, arrival);
	return ts < lg->last_ts ? lg->last_ts : ts;
}

/* The leaf_index extension holds a u40. */
#define MAX_LEAF_INDEX ((1ull << 40) - 1)

/* Back to before the batch: no index used, the submissions NEW again. */
static void unsequence(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n)
{
	lg->next_index = lg->batch_next0;
	lg->last_ts = lg->batch_last0;
	for (size_t i = 0; i < n; i++) {
		ctng_logger_sub *s = subs[i];
		if (s->state == LG_SUB_SEQUENCED || s->state == LG_SUB_SIGNED ||
		    s->state == LG_SUB_FOLLOWER) {
			s->state = LG_SUB_NEW;
			s->ts = s->arrival;
			s->leader = NULL;
		}
	}
}

int ctng_logger_sequence(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, size_t *n_sign,
                         ctng_err *err)
{
	if (n_sign)
		*n_sign = 0;
	if (lg->batch_open)
		return ctng_err_set(err, CTNG_ESTATE, "logger: a batch is already being committed");
	/* Open addressing on the duplicate key, to find duplicates inside the
	 * batch before they take an index. */
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	const ctng_logger_sub **tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	lg->batch_next0 = lg->next_index;
	lg->batch_last0 = lg->last_ts;
	size_t k = 0;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		ctng_logger_sub *s = subs[i];
		if (s->state == LG_SUB_DURABLE)
			continue;
		if (s->state != LG_SUB_NEW) {
			rc = ctng_err_set(err, CTNG_ESTATE, "logger: a submission is in two batches");
			break;
		}
		/* A lookup made since the last stored batch still holds. */
		if (s->looked_up != lg->store_gen + 1) {
			int f = lg_find_stored(lg, s, err);
			if (f < 0) {
				rc = f;
				break;
			}
			if (f == 1) {
				s->state = LG_SUB_DURABLE;
				continue;
			}
		}
		uint64_t h = 0;
		memcpy(&h, s->e.dedup, sizeof h);
		size_t at = (size_t)h & (cap - 1);
		while (tab[at] && memcmp(tab[at]->e.dedup, s->e.dedup, 32))
			at = (at + 1) & (cap - 1);
		if (tab[at]) {
			s->state = LG_SUB_FOLLOWER;
			s->leader = tab[at];
			continue;
		}
		if (lg->next_index > MAX_LEAF_INDEX) {
			rc = ctng_err_set(err, CTNG_ERANGE, "logger: the log is full (2^40 entries)");
			break;
		}
		tab[at] = s;
		s->ts = sequence_time(lg, s->arrival);
		s->idx = lg->next_index++;
		lg->last_ts = s->ts;
		s->state = LG_SUB_SEQUENCED;
		k++;
	}
	free(tab);
	if (rc) {
		unsequence(lg, subs, n);
		return rc;
	}
	lg->batch_open = true;
	if (n_sign)
		*n_sign = k;
	return 0;
}

int ctng_logger_sequence_end(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, bool stored,
                             ctng_err *err)
{
	if (!lg->batch_open)
		return ctng_err_set(err, CTNG_ESTATE, "logger: no batch is open");
	if (!stored) {
		unsequence(lg, subs, n);
		lg->batch_open = false;
		/* A COMMIT reported failed may still have stored the batch (an
		 * I/O error after the WAL frames were written): the database
		 * says where the log is, so no index is given twice, and the
		 * lookups made before are made again (store_gen). */
		lg->store_gen++;
		uint64_t next = lg->next_index, last = lg->last_ts;
		int rc = lg_load_next(lg, err);
		if (lg->next_index < next)
			lg->next_index = next;
		if (lg->last_ts < last)
			lg->last_ts = last;
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (subs[i]->state == LG_SUB_SEQUENCED) /* never stored: the batch stays open */
			return ctng_err_set(err, CTNG_ESTATE, "logger: an SCT of the batch is not signed");
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (subs[i]->state == LG_SUB_SIGNED)
			subs[i]->state = LG_SUB_DURABLE;
	for (size_t i = 0; i < n; i++) {
		ctng_logger_sub *s = subs[i];
		if (s->state != LG_SUB_FOLLOWER)
			continue;
		const ctng_logger_sub *l = s->leader;
		s->leader = NULL;
		s->state = LG_SUB_NEW;
		int r = l->state == LG_SUB_DURABLE
		            ? lg_sub_set_sct(s, l->ts, l->idx, l->sig, l->sig_len, err)
		            : ctng_err_set(err, CTNG_ESTATE, "logger: a duplicate's first is not stored");
		if (r)
			rc = rc ? rc : r;
		else
			s->state = LG_SUB_DURABLE;
	}
	lg->batch_open = false;
	lg->store_gen++;
	return rc;
}

/* ------------------------------------------------------------ writer */

#define KNOWN_ISSUERS 64 /* issuers known to be stored, remembered per writer */
#define BATCH_ISSUERS 16 /* new ones remembered within one batch */

struct ctng_logger_writer {
	ctng_store *store;
	sqlite3 *db;
	sqlite3_stmt *ins, *iss;
	uint8_t known[KNOWN_ISSUERS][32]; /* committed: need no INSERT again */
	size_t n_known, next_known;
};

/* A plain INSERT: every entry of a batch is new (sequencing found the
 * duplicates), so a conflict is an error that fails the batch rather than
 * an index left unused. */
static const char SQL_INSERT[] =
    "INSERT INTO logger_entry (dedup, leaf_hash, leaf_input, extra_data, tile_extra,"
    " timestamp, sct_sig, idx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_ISSUER[] = "INSERT OR IGNORE INTO logger_issuer (fp, der) VALUES (?1, ?2)";

int ctng_logger_writer_new(ctng_store *store, ctng_logger_writer **out, ctng_err *err)
{
	*out = NULL;
	ctng_logger_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	w->store = store;
	w->db = ctng_store_db(store);
	if (sqlite3_prepare_v3(w->db, SQL_INSERT, -1, SQLITE_PREPARE_PERSISTENT, &w->ins, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v3(w->db, SQL_ISSUER, -1, SQLITE_PREPARE_PERSISTENT, &w->iss, NULL) !=
	        SQLITE_OK) {
		int rc = ctng_err_set(err, CTNG_EIO, "logger: prepare the batch writer: %s",
		                      sqlite3_errmsg(w->db));
		ctng_logger_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void ctng_logger_writer_free(ctng_logger_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->iss);
	free(w);
}

static bool fp_in(const uint8_t (*v)[32], size_t n, const uint8_t fp[32])
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(v[i], fp, 32))
			return true;
	return false;
}

static int step_done(ctng_logger_writer *w, sqlite3_stmt *st, const char *what, ctng_err *err)
{
	int r = sqlite3_step(st);
	int rc = r == SQLITE_DONE ? 0
	                          : ctng_err_set(err, CTNG_EIO, "logger: %s: %s", what,
	                                         sqlite3_errmsg(w->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int insert_entry(ctng_logger_writer *w, const ctng_logger_sub *s, uint8_t (*added)[32],
                        size_t *n_added, ctng_err *err)
{
	sqlite3_stmt *st = w->ins;
	sqlite3_bind_blob(st, 1, s->e.dedup, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->leaf_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, s->leaf.data, (int)s->leaf.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, s->e.extra.data, (int)s->e.extra.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, s->e.tile_extra.data, (int)s->e.tile_extra.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->ts);
	sqlite3_bind_blob(st, 7, s->sig, (int)s->sig_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)s->idx);
	int rc = step_done(w, st, "insert entry", err);
	for (size_t i = 0; i < s->e.n_issuers && !rc; i++) {
		const lg_issuer *is = &s->e.issuers[i];
		/* The chain's issuers repeat (one root, a few intermediates):
		 * skip those stored before or earlier in this batch. */
		if (fp_in((const uint8_t(*)[32])w->known, w->n_known, is->fp) ||
		    fp_in((const uint8_t(*)[32])added, *n_added, is->fp))
			continue;
		sqlite3_bind_blob(w->iss, 1, is->fp, 32, SQLITE_STATIC);
		sqlite3_bind_blob(w->iss, 2, is->der, (int)is->len, SQLITE_STATIC);
		rc = step_done(w, w->iss, "insert issuer", err);
		if (!rc && *n_added < BATCH_ISSUERS)
			memcpy(added[(*n_added)++], is->fp, 32);
	}
	return rc;
}

int ctng_logger_writer_store(ctng_logger_writer *w, ctng_logger_sub *const *subs, size_t n,
                             ctng_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (subs[i]->state == LG_SUB_SEQUENCED)
			return ctng_err_set(err, CTNG_ESTATE, "logger: an SCT of the batch is not signed");
	uint8_t added[BATCH_ISSUERS][32];
	size_t n_added = 0;
	int rc = ctng_store_begin(w->store, err);
	for (size_t i = 0; i < n && !rc; i++)
		if (subs[i]->state == LG_SUB_SIGNED)
			rc = insert_entry(w, subs[i], added, &n_added, err);
	if (!rc)
		rc = ctng_store_commit(w->store, err);
	if (rc) {
		if (ctng_store_tx_depth(w->store) > 0)
			ctng_store_rollback(w->store, NULL);
		return rc;
	}
	if (ctng_store_tx_depth(w->store) == 0) /* durable, not a savepoint */
		for (size_t i = 0; i < n_added; i++) {
			memcpy(w->known[w->next_known], added[i], 32);
			w->next_known = (w->next_known + 1) % KNOWN_ISSUERS;
			if (w->n_known < KNOWN_ISSUERS)
				w->n_known++;
		}
	return 0;
}
