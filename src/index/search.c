/*
 * search.c — reading the index (docs/monitor.md §10, docs/endpoints.md):
 * the certificate object of the API, search pages by cursor, and the
 * events of one domain for `ctng monitor watch`. A page is one merge of two
 * index ranges (names.c) and one point read per result: O(log n + page),
 * however many certificates the monitor holds.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/index_internal.h"

int index_revoked(const ctng_index *ix, const char *ca, bool has_rid, uint32_t rid)
{
	const index_ca *c = index_ca_by_id(ix, ca);
	if (!c || !has_rid || !c->crv)
		return -1;
	return roaring_bitmap_contains(c->crv, rid) ? 1 : 0;
}

static json_t *time_json(uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (!gmtime_r(&s, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * 32 + 1];
	if (n > 32)
		n = 32;
	ctng_hex_encode(buf, p, n);
	return json_string(buf);
}

static json_t *load_entries(ctng_index *ix, uint64_t id)
{
	sqlite3_stmt *s = ix->q[Q_GET_ENTRIES];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
	json_t *a = json_array();
	while (a && sqlite3_step(s) == SQLITE_ROW)
		if (json_array_append_new(a, json_pack("{s:s,s:I}", "logger",
		                                       (const char *)sqlite3_column_text(s, 0),
		                                       "index", (json_int_t)sqlite3_column_int64(s, 1)))) {
			json_decref(a);
			a = NULL;
		}
	sqlite3_reset(s);
	return a;
}

json_t *index_cert_json(ctng_index *ix, const index_cert *c, json_t *entries)
{
	if (!entries)
		entries = load_entries(ix, c->id);
	json_error_t je;
	json_t *names = json_loads(c->names_json ? c->names_json : "[]", 0, &je);
	json_t *first = json_array_get(entries, 0);
	char id[24];
	snprintf(id, sizeof id, "%" PRIu64, c->id);
	int rv = index_revoked(ix, c->ca, c->has_rid, c->rid);
	json_t *o = entries && names
	                ? json_pack("{s:s,s:O,s:O,s:o,s:o,s:s?,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o}", "id",
	                            id, "logger", json_object_get(first, "logger"), "index",
	                            json_object_get(first, "index"), "entries", entries, "names",
	                            names, "issuer", c->ca, "issuer_key_sha256", hex_json(c->ikh, 32),
	                            "serial", hex_json(c->serial, c->serial_len), "not_before",
	                            time_json(c->not_before_ms), "not_after",
	                            time_json(c->not_after_ms), "rid",
	                            c->has_rid ? json_integer(c->rid) : json_null(), "revoked",
	                            rv < 0 ? json_null() : json_boolean(rv), "type",
	                            c->precert ? "precert" : "cert", "indexed",
	                            time_json(c->indexed_ms))
	                : NULL;
	if (!o) {
		json_decref(entries);
		json_decref(names);
	}
	return o;
}

json_t *index_cert_json_by_id(ctng_index *ix, uint64_t id, ctng_err *err)
{
	sqlite3_stmt *s = ix->q[Q_GET_CERT];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
	int r = sqlite3_step(s);
	if (r != SQLITE_ROW) {
		sqlite3_reset(s);
		if (r == SQLITE_DONE)
			ctng_err_set(err, CTNG_ENOTFOUND, "index: no certificate %" PRIu64, id);
		else
			index_db_fail(ix, err, "reading a cert");
		return NULL;
	}
	index_cert c = {.id = id};
	c.ca = (const char *)sqlite3_column_text(s, 1);
	const index_ca *ca = index_ca_by_id(ix, c.ca);
	if (sqlite3_column_bytes(s, 2) == 32)
		memcpy(c.ikh, sqlite3_column_blob(s, 2), 32);
	else if (ca)
		memcpy(c.ikh, ca->spki_hash, 32);
	c.has_rid = sqlite3_column_type(s, 3) != SQLITE_NULL;
	c.rid = (uint32_t)sqlite3_column_int64(s, 3);
	c.serial_len = (size_t)sqlite3_column_bytes(s, 4);
	if (c.serial_len > sizeof c.serial)
		c.serial_len = sizeof c.serial;
	memcpy(c.serial, sqlite3_column_blob(s, 4), c.serial_len);
	c.not_before_ms = (uint64_t)sqlite3_column_int64(s, 5);
	c.not_after_ms = (uint64_t)sqlite3_column_int64(s, 6);
	c.names_json = (const char *)sqlite3_column_text(s, 7);
	c.precert = sqlite3_column_int(s, 8) != 0;
	c.indexed_ms = (uint64_t)sqlite3_column_int64(s, 9);
	/* the entries come from another statement: read them first */
	json_t *entries = load_entries(ix, id);
	json_t *o = entries ? index_cert_json(ix, &c, entries) : NULL;
	sqlite3_reset(s);
	if (!o)
		ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return o;
}

/* Certificate ids of one page of q after `after` (at most limit + 1). */
static int page_ids(ctng_index *ix, const ctng_index_query *q, uint64_t after, uint64_t *ids,
                    size_t max, size_t *n, ctng_err *err)
{
	char keys[3][INDEX_KEY_MAX];
	size_t nk = index_query_keys(q, keys);
	sqlite3_stmt *s = ix->q[Q_SEARCH];
	for (int i = 0; i < 3; i++) /* fewer keys: the last one again (UNION drops repeats) */
		sqlite3_bind_text(s, i + 1, keys[(size_t)i < nk ? (size_t)i : nk - 1], -1,
		                  SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)after);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)max);
	int r;
	*n = 0;
	while ((r = sqlite3_step(s)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : index_db_fail(ix, err, "search");
}

int ctng_index_search(ctng_index *ix, const ctng_index_query *q, json_t **results, uint64_t *next,
                      ctng_err *err)
{
	*results = NULL;
	*next = 0;
	uint32_t limit = q->limit ? q->limit : CTNG_INDEX_PAGE_DEFAULT;
	if (limit > CTNG_INDEX_PAGE_MAX)
		limit = CTNG_INDEX_PAGE_MAX;
	uint64_t *ids = malloc((limit + 1) * sizeof(*ids));
	json_t *a = json_array();
	size_t n = 0;
	int rc = ids && a ? page_ids(ix, q, q->after, ids, limit + 1, &n, err)
	                  : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n && i < limit; i++) {
		json_t *o = index_cert_json_by_id(ix, ids[i], err);
		if (!o || json_array_append_new(a, o))
			rc = err && err->code ? err->code : CTNG_ENOMEM;
	}
	if (!rc && n > limit)
		*next = ids[limit - 1];
	free(ids);
	if (rc) {
		json_decref(a);
		return rc;
	}
	*results = a;
	return 0;
}

/* ------------------------------------------------------------- events */

static int max_of(ctng_index *ix, const char *text, uint64_t *out, ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix, text, &s, err);
	if (!rc && sqlite3_step(s) == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(s, 0);
	else if (!rc)
		rc = index_db_fail(ix, err, "events");
	sqlite3_finalize(s);
	return rc;
}

static bool names_match(const json_t *names, const ctng_index_query *q)
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
	{
		const char *s = json_string_value(v);
		if (s && ctng_index_name_matches(s, q->domain, q->subdomains))
			return true;
	}
	return false;
}

static int parse_cursor(const char *s, uint64_t *c, uint64_t *r)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	char a[24];
	if (!dot || (size_t)(dot - s) >= sizeof a)
		return -1;
	memcpy(a, s, (size_t)(dot - s));
	a[dot - s] = 0;
	return ctng_parse_u64(a, INT64_MAX, c, NULL) || ctng_parse_u64(dot + 1, INT64_MAX, r, NULL)
	           ? -1
	           : 0;
}

int ctng_index_events(ctng_index *ix, const ctng_index_query *q, const char *after,
                      json_t **events, char next[CTNG_INDEX_CURSOR_MAX], ctng_err *err)
{
	*events = NULL;
	uint64_t c = 0, r = 0;
	int rc;
	if (!after || !*after) {
		/* the current end: only what comes from now on */
		if ((rc = max_of(ix, "SELECT coalesce(max(id), 0) FROM index_cert", &c, err)) ||
		    (rc = max_of(ix, "SELECT coalesce(max(seq), 0) FROM index_revocation", &r, err)))
			return rc;
		snprintf(next, CTNG_INDEX_CURSOR_MAX, "%" PRIu64 ".%" PRIu64, c, r);
		*events = json_array();
		return *events ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (parse_cursor(after, &c, &r))
		return ctng_err_set(err, CTNG_EINVAL, "after: not an events cursor (\"C.R\")");
	ctng_index_query p = *q;
	p.after = c;
	json_t *issued = NULL, *a = json_array();
	uint64_t more = 0;
	if (!a)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if ((rc = ctng_index_search(ix, &p, &issued, &more, err))) {
		json_decref(a);
		return rc;
	}
	size_t i;
	json_t *v;
	json_array_foreach(issued, i, v)
	{
		uint64_t id = 0;
		ctng_parse_u64(json_string_value(json_object_get(v, "id")), INT64_MAX, &id, NULL);
		if (id > c)
			c = id;
		json_array_append_new(a, json_pack("{s:s,s:O}", "event", "issued", "certificate", v));
	}
	json_decref(issued);
	/* revocations after r (scanned in order; the cursor moves past those of
	 * other domains too) */
	sqlite3_stmt *s = NULL;
	if (!(rc = index_prepare(ix,
	                         "SELECT seq, cert, period FROM index_revocation WHERE seq > ?1"
	                         " ORDER BY seq LIMIT 1000",
	                         &s, err))) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)r);
		while (json_array_size(a) < p.limit && sqlite3_step(s) == SQLITE_ROW) {
			r = (uint64_t)sqlite3_column_int64(s, 0);
			json_t *cj = index_cert_json_by_id(ix, (uint64_t)sqlite3_column_int64(s, 1), NULL);
			if (cj && names_match(json_object_get(cj, "names"), q))
				json_array_append_new(a, json_pack("{s:s,s:o,s:I}", "event", "revoked",
				                                   "certificate", cj, "period",
				                                   (json_int_t)sqlite3_column_int64(s, 2)));
			else
				json_decref(cj);
		}
		sqlite3_finalize(s);
	}
	if (rc) {
		json_decref(a);
		return rc;
	}
	snprintf(next, CTNG_INDEX_CURSOR_MAX, "%" PRIu64 ".%" PRIu64, c, r);
	*events = a;
	return 0;
}
