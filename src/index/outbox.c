/*
 * outbox.c — notifications (docs/monitor.md §11): a row of index_outbox per
 * (watch, event), written in the transaction that indexes the certificate
 * (or keeps the CRV that revokes it), so a notification exists exactly when
 * its cause does, and is removed only once its webhook answered 2xx. The
 * daemon (src/monitor/alerts.c) reads what is due and retries with
 * backoff. Also the CRVs: each new CRV of a CA against the one the index
 * saw before gives the RIDs revoked in between, their certificates a
 * revocation event, and their watches a "revoked" notification.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index_internal.h"

int index_notify(ctng_index *ix, size_t w, const char *event, json_t *cert, json_t *more,
                 uint64_t now_ms, ctng_err *err)
{
	const ctng_watch *wt = &ix->watches[w];
	if (ix->pending[w] >= ix->max_pending) {
		/* bounded: a webhook that never answers cannot fill the disk */
		if (ix->notes_dropped++ % 1000 == 0)
			CTNG_WARN("index: notification dropped, the watch's outbox is full",
			          "watch=%" PRIu64 " pending=%u", wt->id, ix->pending[w]);
		json_decref(cert);
		json_decref(more);
		return 0;
	}
	char id[24];
	snprintf(id, sizeof id, "%" PRIu64, wt->id);
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:b},s:o}", "event", event, "monitor",
	                      ix->monitor, "watch", "id", id, "domain", wt->domain, "subdomains",
	                      wt->subdomains, "certificate", cert);
	if (o && more)
		json_object_update(o, more);
	json_decref(more);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	sqlite3_stmt *s = ix->q[Q_INS_OUTBOX];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)wt->id);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now_ms);
	free(text);
	int rc = index_step_done(ix, s, "queueing a notification", err);
	if (!rc)
		ix->pending[w]++;
	return rc;
}

/* --------------------------------------------------------------- CRVs */

static int revoked_cert(ctng_index *ix, uint64_t cert, uint64_t period, uint64_t now_ms,
                        sqlite3_stmt *ins, ctng_err *err)
{
	sqlite3_bind_int64(ins, 1, (sqlite3_int64)cert);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64)period);
	int rc = index_step_done(ix, ins, "storing a revocation", err);
	if (rc || !ix->n_watches)
		return rc;
	json_t *cj = index_cert_json_by_id(ix, cert, err);
	if (!cj)
		return err && err->code ? err->code : CTNG_ENOMEM;
	/* the watches its names match (the same rule as at issuance) */
	json_t *names = json_object_get(cj, "names");
	size_t i;
	json_t *v;
	for (size_t w = 0; !rc && w < ix->n_watches; w++) {
		bool hit = false;
		json_array_foreach(names, i, v)
		{
			const char *s = json_string_value(v);
			hit = hit || (s && ctng_index_name_matches(s, ix->watches[w].domain,
			                                           ix->watches[w].subdomains));
		}
		if (hit)
			rc = index_notify(ix, w, "revoked", json_incref(cj),
			                  json_pack("{s:I}", "period", (json_int_t)period), now_ms, err);
	}
	json_decref(cj);
	return rc;
}

int ctng_index_on_crv(ctng_index *ix, const char *ca_id, uint64_t period,
                      const roaring_bitmap_t *crv, bool restore, ctng_err *err)
{
	index_ca *ca = (index_ca *)index_ca_by_id(ix, ca_id);
	if (!ca)
		return 0;
	if (ca->crv && period <= ca->crv_period)
		return 0; /* seen (a restart replays the latest) */
	roaring_bitmap_t *copy = roaring_bitmap_copy(crv);
	if (!copy)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = 0;
	if (!restore) {
		/* RIDs revoked since the CRV seen last (all of them the first time:
		 * nothing was told before) */
		roaring_bitmap_t *fresh = ca->crv ? roaring_bitmap_andnot(crv, ca->crv)
		                                  : roaring_bitmap_copy(crv);
		sqlite3_stmt *f = NULL, *ins = NULL;
		if (!fresh)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		if (!rc)
			rc = index_prepare(ix, "SELECT cert FROM index_rid WHERE ca = ?1 AND rid = ?2",
			                   &f, err);
		if (!rc)
			rc = index_prepare(ix,
			                   "INSERT INTO index_revocation (cert, period) VALUES (?1, ?2)",
			                   &ins, err);
		uint64_t now = ctng_now_ms();
		roaring_uint32_iterator_t it = {0};
		if (!rc)
			roaring_init_iterator(fresh, &it);
		for (; !rc && it.has_value; roaring_advance_uint32_iterator(&it)) {
			sqlite3_bind_text(f, 1, ca_id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(f, 2, it.current_value);
			uint64_t certs[8];
			size_t n = 0;
			while (n < 8 && sqlite3_step(f) == SQLITE_ROW)
				certs[n++] = (uint64_t)sqlite3_column_int64(f, 0);
			sqlite3_reset(f);
			for (size_t i = 0; !rc && i < n; i++)
				rc = revoked_cert(ix, certs[i], period, now, ins, err);
		}
		sqlite3_finalize(f);
		sqlite3_finalize(ins);
		if (fresh)
			roaring_bitmap_free(fresh);
		/* remember it, with the notifications, in the caller's transaction */
		uint8_t *bytes = NULL;
		size_t len = 0;
		sqlite3_stmt *s = NULL;
		if (!rc && !(rc = ctng_crv_delta_encode(crv, &bytes, &len, err)) &&
		    !(rc = index_prepare(ix,
		                         "INSERT OR REPLACE INTO index_crv (ca, period, crv) VALUES"
		                         " (?1, ?2, ?3)",
		                         &s, err))) {
			sqlite3_bind_text(s, 1, ca_id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 2, (sqlite3_int64)period);
			sqlite3_bind_blob(s, 3, bytes, (int)len, SQLITE_STATIC);
			if (sqlite3_step(s) != SQLITE_DONE)
				rc = index_db_fail(ix, err, "storing a CRV");
		}
		sqlite3_finalize(s);
		free(bytes);
	}
	if (rc) {
		roaring_bitmap_free(copy);
		return rc;
	}
	if (ca->crv)
		roaring_bitmap_free(ca->crv);
	ca->crv = copy;
	ca->crv_period = period;
	return 0;
}

/* ------------------------------------------------------------- outbox */

void ctng_index_notes_free(ctng_index_note *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].body);
		v[i].body = NULL;
	}
}

int ctng_index_outbox_due(ctng_index *ix, uint64_t now_ms, const uint64_t *busy, size_t n_busy,
                          ctng_index_note *out, size_t max, size_t *n, uint64_t *next_ms,
                          ctng_err *err)
{
	*n = 0;
	*next_ms = 0;
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix,
	                       "SELECT o.id, o.watch, o.attempts, o.body, o.due_ms, w.webhook FROM"
	                       " index_outbox o JOIN index_watch w ON w.id = o.watch ORDER BY"
	                       " o.due_ms, o.id LIMIT ?1",
	                       &s, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(max + n_busy + 1));
	while (sqlite3_step(s) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(s, 0),
		         due = (uint64_t)sqlite3_column_int64(s, 4);
		bool skip = false;
		for (size_t i = 0; i < n_busy && !skip; i++)
			skip = busy[i] == id;
		if (skip)
			continue;
		if (due > now_ms || *n == max) {
			if (!*next_ms || due < *next_ms)
				*next_ms = due > now_ms ? due : now_ms;
			if (*n == max)
				break;
			continue;
		}
		ctng_index_note *x = &out[(*n)];
		memset(x, 0, sizeof(*x));
		x->id = id;
		x->watch = (uint64_t)sqlite3_column_int64(s, 1);
		x->attempts = (uint32_t)sqlite3_column_int64(s, 2);
		x->body_len = (size_t)sqlite3_column_bytes(s, 3);
		snprintf(x->url, sizeof x->url, "%s", (const char *)sqlite3_column_text(s, 5));
		if (!(x->body = malloc(x->body_len + 1))) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		memcpy(x->body, sqlite3_column_text(s, 3), x->body_len + 1);
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc) {
		ctng_index_notes_free(out, *n);
		*n = 0;
	}
	return rc;
}

static int outbox_exec(ctng_index *ix, const char *text, uint64_t a, uint64_t b, bool two,
                       ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix, text, &s, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)a);
	if (two)
		sqlite3_bind_int64(s, 2, (sqlite3_int64)b);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : index_db_fail(ix, err, "outbox");
	sqlite3_finalize(s);
	return rc;
}

int ctng_index_outbox_done(ctng_index *ix, uint64_t id, ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	uint64_t watch = 0;
	if (!index_prepare(ix, "SELECT watch FROM index_outbox WHERE id = ?1", &s, NULL)) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
		if (sqlite3_step(s) == SQLITE_ROW)
			watch = (uint64_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	int rc = outbox_exec(ix, "DELETE FROM index_outbox WHERE id = ?1", id, 0, false, err);
	for (size_t i = 0; !rc && i < ix->n_watches; i++)
		if (ix->watches[i].id == watch && ix->pending[i])
			ix->pending[i]--;
	return rc;
}

int ctng_index_outbox_retry(ctng_index *ix, uint64_t id, uint64_t retry_at_ms, ctng_err *err)
{
	return outbox_exec(ix, "UPDATE index_outbox SET attempts = attempts + 1, due_ms = ?2 WHERE"
	                       " id = ?1",
	                   id, retry_at_ms, true, err);
}

uint64_t ctng_index_backoff_ms(uint32_t attempts, uint64_t salt)
{
	uint64_t d = 1000;
	for (uint32_t i = 1; i < attempts && d < 600000; i++)
		d *= 2;
	if (d > 600000)
		d = 600000;
	return d + (d / 8 ? salt % (d / 8) : 0);
}
