/*
 * submit.c — submissions to the log without network I/O: validation (on any
 * thread), duplicate lookup, the group commit in one call (the steps are in
 * batch.c: sequencing, SCT signing, storing), and the RFC 6962 add-chain
 * answer.
 */
#include <jansson.h>
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

int lg_sub_set_sct(ctng_logger_sub *s, uint64_t ts, uint64_t idx, const void *sig,
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

int lg_find_stored(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, Q_FIND_DEDUP, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, s->e.dedup, 32, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		lg_done(st);
		s->looked_up = lg->store_gen + 1;
		return 0;
	}
	if (r != SQLITE_ROW) {
		lg_done(st);
		return lg_db_err(lg, err, "find duplicate");
	}
	uint64_t ts = (uint64_t)sqlite3_column_int64(st, 0);
	uint64_t idx = (uint64_t)sqlite3_column_int64(st, 2);
	int rc = lg_sub_set_sct(s, ts, idx, sqlite3_column_blob(st, 1),
	                        (size_t)sqlite3_column_bytes(st, 1), err);
	lg_done(st);
	return rc ? rc : 1;
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
	s->arrival = s->ts = timestamp_ms; /* the SCT is made when sequenced */
	s->state = LG_SUB_NEW;
	*out = s;
	return 0;
}

int ctng_logger_prepare_finish(ctng_logger *lg, ctng_logger_sub *s, ctng_err *err)
{
	if (s->state != LG_SUB_NEW)
		return 0;
	int rc = lg_find_stored(lg, s, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		s->state = LG_SUB_DURABLE; /* a duplicate: it now carries the stored SCT */
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
	return s->state == LG_SUB_DURABLE;
}

int ctng_logger_commit(ctng_logger *lg, ctng_logger_sub *const *subs, size_t n, ctng_err *err)
{
	size_t n_sign = 0;
	int rc = ctng_logger_sequence(lg, subs, n, &n_sign, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		rc = ctng_logger_sub_sign(lg->signer, subs[i], err);
	if (!rc && n_sign)
		rc = ctng_logger_writer_store(lg->writer, subs, n, err);
	int rc2 = ctng_logger_sequence_end(lg, subs, n, rc == 0, rc ? NULL : err);
	return rc ? rc : rc2;
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
