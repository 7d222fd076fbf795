/*
 * submit.c — submissions to the log without network I/O: validation (on any
 * thread), duplicate lookup, and the group commit that sequences them:
 * within one transaction each new entry gets the next leaf index and a
 * timestamp, its SCT (with the static-ct-api leaf_index extension) is
 * signed and stored with it; plus the RFC 6962 add-chain answer.
 */
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "logger/logger_internal.h"

void lg_leaf_index_ext(uint64_t index, uint8_t out[LG_SCT_EXT_LEN])
{
	out[0] = 0; /* leaf_index */
	out[1] = 0;
	out[2] = 5;
	for (int i = 0; i < 5; i++)
		out[3 + i] = (uint8_t)(index >> (8 * (4 - i)));
}

/* Sets the SCT of s: timestamp, leaf index (its extension), signature, and
 * the MerkleTreeLeaf (which covers the extension) and leaf hash. */
static int sub_set_sct(ctng_logger_sub *s, uint64_t ts, uint64_t idx, const void *sig,
                       size_t sig_len, ctng_err *err)
{
	if (sig_len > sizeof(s->sig))
		return ctng_err_set(err, CTNG_EIO, "logger: stored SCT signature too long");
	s->ts = ts;
	s->idx = idx;
	lg_leaf_index_ext(idx, s->ext);
	memcpy(s->sig, sig, sig_len);
	s->sig_len = sig_len;
	ctng_buf_reset(&s->leaf);
	int rc = ctng_ct_leaf_encode(&s->e.ct, ts, s->ext, LG_SCT_EXT_LEN, &s->leaf, err);
	if (!rc)
		rc = ctng_merkle_leaf_hash(s->leaf_hash, s->leaf.data, s->leaf.len);
	return rc;
}

/* Looks the entry up by its duplicate key: 1 found (SCT set), 0 not, <0 error. */
static int find_stored(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, Q_FIND_DEDUP, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, s->e.dedup, 32, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		lg_done(st);
		return 0;
	}
	if (r != SQLITE_ROW) {
		lg_done(st);
		return lg_db_err(lg, err, "find duplicate");
	}
	uint64_t ts = (uint64_t)sqlite3_column_int64(st, 0);
	uint64_t idx = (uint64_t)sqlite3_column_int64(st, 2);
	int rc = sub_set_sct(s, ts, idx, sqlite3_column_blob(st, 1),
	                     (size_t)sqlite3_column_bytes(st, 1), err);
	lg_done(st);
	return rc ? rc : 1;
}

int lg_signer_init(ctng_logger *lg, ctng_err *err)
{
	lg->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	lg->sct_md = EVP_MD_CTX_new();
	lg->sct_pk = EVP_PKEY_CTX_new_from_pkey(NULL, ctng_sig_key_evp(lg->key), NULL);
	if (!lg->sha256 || !lg->sct_md || !lg->sct_pk || EVP_PKEY_sign_init(lg->sct_pk) != 1) {
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "logger: cannot set up SCT signing");
	}
	return 0;
}

void lg_signer_free(ctng_logger *lg)
{
	EVP_PKEY_CTX_free(lg->sct_pk);
	EVP_MD_CTX_free(lg->sct_md);
	EVP_MD_free(lg->sha256);
}

/* ECDSA P-256 / SHA-256 of msg with the contexts made once at open (what
 * ctng_sig_sign does, without a new context and algorithm fetch per call:
 * the SCTs of every submission are signed here, on the loop thread). */
static int sct_sign(ctng_logger *lg, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t *sig_len, ctng_err *err)
{
	uint8_t h[32];
	unsigned int hl = 0;
	size_t n = *sig_len;
	if (EVP_DigestInit_ex(lg->sct_md, lg->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(lg->sct_md, msg, len) != 1 ||
	    EVP_DigestFinal_ex(lg->sct_md, h, &hl) != 1 ||
	    EVP_PKEY_sign(lg->sct_pk, sig, &n, h, hl) != 1) {
		ERR_clear_error();
		return ctng_err_set(err, CTNG_EINVAL, "logger: SCT signing failed");
	}
	*sig_len = n;
	return 0;
}

/* Signs the SCT of s for (ts, idx): RFC 6962 §3.2 over the entry with the
 * leaf_index extension. */
static int sign_sct(ctng_logger *lg, ctng_logger_sub *s, uint64_t ts, uint64_t idx,
                    ctng_err *err)
{
	ctng_buf tbs = {0};
	uint8_t raw[CTNG_SIG_MAX_LEN], ext[LG_SCT_EXT_LEN];
	size_t raw_len = sizeof raw, ds_len = 0;
	uint8_t *ds = NULL;
	int rc;
	lg_leaf_index_ext(idx, ext);
	if (!(rc = ctng_ct_sct_signed_bytes(&s->e.ct, ts, ext, sizeof ext, &tbs, err)) &&
	    !(rc = sct_sign(lg, tbs.data, tbs.len, raw, &raw_len, err)) &&
	    !(rc = ctng_digitally_signed_encode(raw, raw_len, &ds, &ds_len, err)))
		rc = sub_set_sct(s, ts, idx, ds, ds_len, err);
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
	s->ts = timestamp_ms; /* the arrival stamp; the SCT is made at commit */
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
	sqlite3_stmt *st = lg_q(lg, Q_INSERT, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, s->e.dedup, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->leaf_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, s->leaf.data, (int)s->leaf.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, s->e.extra.data, (int)s->e.extra.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, s->e.tile_extra.data, (int)s->e.tile_extra.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->ts);
	sqlite3_bind_blob(st, 7, s->sig, (int)s->sig_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)s->idx);
	if (sqlite3_step(st) != SQLITE_DONE) {
		lg_done(st);
		return lg_db_err(lg, err, "insert entry");
	}
	*inserted = sqlite3_changes(lg->db) > 0;
	lg_done(st);
	for (size_t i = 0; i < s->e.n_issuers; i++) {
		if (!(st = lg_q(lg, Q_ISSUER_INS, err)))
			return CTNG_EIO;
		sqlite3_bind_blob(st, 1, s->e.issuers[i].fp, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, s->e.issuers[i].der, (int)s->e.issuers[i].len,
		                  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			lg_done(st);
			return lg_db_err(lg, err, "insert issuer");
		}
		lg_done(st);
	}
	return 0;
}

/* Sequencing: the SCT timestamp never goes back (so leaf indexes and
 * timestamps grow together, and each period's STH takes a prefix of the
 * pending entries) and is never before the latest STH's (so the next STH
 * holds it). */
static uint64_t sequence_time(const ctng_logger *lg, uint64_t arrival)
{
	uint64_t ts = ctng_logger_sct_time(lg, arrival);
	return ts < lg->last_ts ? lg->last_ts : ts;
}

int ctng_logger_commit(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, ctng_err *err)
{
	size_t todo = 0;
	for (size_t i = 0; i < n; i++)
		todo += !subs[i]->durable;
	if (!todo)
		return 0;
	bool *refetch = calloc(n, sizeof(bool));
	if (!refetch)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	uint64_t next0 = lg->next_index, last0 = lg->last_ts;
	int rc = ctng_store_begin(lg->store, err);
	for (size_t i = 0; i < n && !rc; i++) {
		ctng_logger_sub *s = subs[i];
		if (s->durable)
			continue;
		/* The index and timestamp are assigned here, inside the transaction
		 * that stores the entry, and the SCT is signed over them. */
		uint64_t ts = sequence_time(lg, s->ts);
		bool inserted = false;
		if ((rc = sign_sct(lg, s, ts, lg->next_index, err)) ||
		    (rc = insert_sub(lg, s, &inserted, err)))
			break;
		refetch[i] = !inserted; /* stored meanwhile (same batch): its SCT */
		if (inserted) {
			lg->next_index++;
			lg->last_ts = ts;
		}
	}
	if (!rc)
		rc = ctng_store_commit(lg->store, err);
	if (rc) {
		if (ctng_store_tx_depth(lg->store) > 0)
			ctng_store_rollback(lg->store, NULL);
		lg->next_index = next0;
		lg->last_ts = last0;
		free(refetch);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (subs[i]->durable)
			continue;
		if (refetch[i]) {
			int f = find_stored(lg, subs[i], err);
			if (f <= 0) {
				rc = f < 0 ? f
				           : ctng_err_set(
				                 err, CTNG_EIO,
				                 "logger: an entry was neither stored nor found");
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

json_t *lg_b64_json(const uint8_t *p, size_t n)
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
	*out = json_pack("{s:i,s:o*,s:I,s:o*,s:o*}", "sct_version", 0, "id",
	                 lg_b64_json(lg->log_id, 32), "timestamp", (json_int_t)s->ts, "extensions",
	                 lg_b64_json(s->ext, LG_SCT_EXT_LEN), "signature",
	                 lg_b64_json(s->sig, s->sig_len));
	if (!*out)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

uint64_t ctng_logger_sub_timestamp(const ctng_logger_sub *s)
{
	return s->ts;
}

uint64_t ctng_logger_sub_index(const ctng_logger_sub *s)
{
	return s->idx;
}

const uint8_t *ctng_logger_sub_extensions(const ctng_logger_sub *s, size_t *len)
{
	*len = LG_SCT_EXT_LEN;
	return s->ext;
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
