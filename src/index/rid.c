/*
 * rid.c — RIDs per CA and the RID CON (docs/monitor.md §10, protocol.md
 * §5.2). Every new certificate naming RID r of CA c is filed under (c, r);
 * another certificate already there is a conflict, recorded in the same
 * transaction. A conflict is only a suspicion: the logged TBS is not signed
 * by anybody, so a logger could log a made-up TBS with any RID. After the
 * run is stored, ctng_index_take_poms reads both certificates back from
 * the mirror — the CA-signed precertificate a precert entry carries, or the
 * certificate of an x509 entry — and keeps the conflict as evidence only if
 * ctng_rid_con_verify holds (both signed by the CA, one RID, different
 * logged TBSs). That check is the one every gossiper and client makes, so
 * a RID CON this monitor sends is one nobody can refuse, and one nobody
 * could have made against an honest CA.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "index/index_internal.h"

int index_rid_add(ctng_index *ix, const char *ca, uint32_t rid, uint64_t cert, ctng_err *err)
{
	sqlite3_stmt *f = ix->q[Q_FIND_RID];
	sqlite3_bind_text(f, 1, ca, -1, SQLITE_STATIC);
	sqlite3_bind_int64(f, 2, rid);
	sqlite3_bind_int64(f, 3, (sqlite3_int64)cert);
	uint64_t other[4];
	size_t n = 0;
	int r;
	while ((r = sqlite3_step(f)) == SQLITE_ROW && n < 4)
		other[n++] = (uint64_t)sqlite3_column_int64(f, 0);
	sqlite3_reset(f);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return index_db_fail(ix, err, "finding a RID");
	sqlite3_stmt *s = ix->q[Q_INS_RID];
	sqlite3_bind_text(s, 1, ca, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, rid);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)cert);
	int rc = index_step_done(ix, s, "storing a RID", err);
	for (size_t i = 0; i < n && !rc; i++) {
		if (ix->conflicts_pending >= INDEX_MAX_CONFLICTS) {
			ix->conflicts_dropped++; /* bounded: a flood of made-up entries */
			break;
		}
		CTNG_WARN("index: two certificates name one RID", "ca=%s rid=%u certs=%" PRIu64
		          ",%" PRIu64, ca, rid, other[i], cert);
		sqlite3_stmt *c = ix->q[Q_INS_CONFLICT];
		sqlite3_bind_text(c, 1, ca, -1, SQLITE_STATIC);
		sqlite3_bind_int64(c, 2, rid);
		sqlite3_bind_int64(c, 3, (sqlite3_int64)other[i]);
		sqlite3_bind_int64(c, 4, (sqlite3_int64)cert);
		if (!(rc = index_step_done(ix, c, "storing a RID conflict", err)))
			ix->conflicts_pending++;
	}
	return rc;
}

/* The signed certificate of log entry (logger, idx) in the mirror: the
 * precertificate of a precert entry, the certificate of an x509 entry
 * (*der malloc'd). Its logged TBS must be the entry's. */
static int read_signed(ctng_mirror_db *db, const char *logger, uint64_t idx, uint8_t **der,
                       size_t *len, ctng_err *err)
{
	*der = NULL;
	uint64_t size = 0, tile = idx / 256;
	uint8_t root[32];
	int rc = ctng_mirror_db_size(db, logger, &size, root, err);
	if (rc)
		return rc;
	if (idx >= size)
		return ctng_err_set(err, CTNG_ENOTFOUND, "entry %" PRIu64 " not held", idx);
	uint64_t w = size - tile * 256 > 256 ? 256 : size - tile * 256;
	uint8_t *data = NULL;
	size_t dl = 0;
	ctng_mirror_entry *es = calloc(256, sizeof(*es));
	if (!es)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!(rc = ctng_mirror_db_data_tile(db, logger, tile, (unsigned)w, &data, &dl, err)) &&
	    !(rc = ctng_mirror_bundle_parse(data, dl, tile, (unsigned)w, NULL, es, err))) {
		const ctng_mirror_entry *e = &es[idx % 256];
		const uint8_t *p = e->entry_type == CTNG_CT_PRECERT_ENTRY ? e->precert : e->cert;
		size_t pn = e->entry_type == CTNG_CT_PRECERT_ENTRY ? e->precert_len : e->cert_len;
		ctng_cert_view v;
		uint8_t *tbs = NULL;
		size_t tl = 0;
		if ((rc = ctng_cert_view_parse(p, pn, &v, err)) ||
		    (rc = ctng_cert_view_logged_tbs(&v, &tbs, &tl, err)))
			;
		else if (e->entry_type == CTNG_CT_PRECERT_ENTRY &&
		         (tl != e->cert_len || memcmp(tbs, e->cert, tl)))
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "the precertificate served is not the logged TBS's");
		else if (!(*der = malloc(pn)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else {
			memcpy(*der, p, pn);
			*len = pn;
		}
		free(tbs);
	}
	free(data);
	free(es);
	return rc;
}

/* Some signed copy of certificate `cert` from its entries. */
static int signed_copy(ctng_index *ix, ctng_mirror_db *db, uint64_t cert, uint8_t **der,
                       size_t *len, ctng_err *err)
{
	sqlite3_stmt *s = ix->q[Q_GET_ENTRIES];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)cert);
	char logger[16][CTNG_ID_MAX + 1];
	uint64_t idx[16];
	size_t n = 0;
	while (n < 16 && sqlite3_step(s) == SQLITE_ROW) {
		snprintf(logger[n], sizeof logger[n], "%s", (const char *)sqlite3_column_text(s, 0));
		idx[n++] = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	int rc = ctng_err_set(err, CTNG_ENOTFOUND, "no entry of certificate %" PRIu64, cert);
	for (size_t i = 0; i < n && rc; i++)
		rc = read_signed(db, logger[i], idx[i], der, len, err);
	return rc;
}

static int store_pom(ctng_index *ix, const char *ca, uint32_t rid, const uint8_t *a, size_t an,
                     const uint8_t *b, size_t bn, ctng_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix,
	                       "INSERT OR IGNORE INTO index_pom (ca, rid, a, b, found_ms) VALUES"
	                       " (?1, ?2, ?3, ?4, ?5)",
	                       &s, err);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, ca, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, rid);
	sqlite3_bind_blob(s, 3, a, (int)an, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, b, (int)bn, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)ctng_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = index_db_fail(ix, err, "storing a RID CON");
	else if (sqlite3_changes(ix->db) == 0)
		rc = CTNG_ECONFLICT; /* the CA has one already */
	sqlite3_finalize(s);
	return rc;
}

static int build(const index_ca *c, uint32_t rid, const uint8_t *a, size_t an, const uint8_t *b,
                 size_t bn, uint64_t period, uint64_t now_ms, ctng_gossip_object *out,
                 ctng_err *err)
{
	int rc = ctng_rid_con_build(out, c->ent->id, (enum ctng_scheme)ctng_sig_key_alg(c->ent->key),
	                            period, rid, a, an, b, bn, now_ms, err);
	if (!rc && (rc = ctng_rid_con_verify(out, c->ent, err)))
		ctng_gossip_clear(out);
	return rc;
}

int ctng_index_take_poms(ctng_index *ix, ctng_mirror_db *db, uint64_t period, uint64_t now_ms,
                         ctng_gossip_object *out, size_t max, size_t *n, ctng_err *err)
{
	*n = 0;
	if (!ix->conflicts_pending && !ix->conflicts_unknown)
		return 0;
	sqlite3_stmt *s = NULL, *d = NULL;
	int rc = index_prepare(ix, "SELECT id, ca, rid, a, b FROM index_conflict ORDER BY id LIMIT 16",
	                       &s, err);
	if (!rc)
		rc = index_prepare(ix, "DELETE FROM index_conflict WHERE id = ?1", &d, err);
	struct row {
		uint64_t id, a, b;
		uint32_t rid;
		char ca[CTNG_ID_MAX + 1];
	} rows[16];
	size_t nr = 0;
	while (!rc && nr < 16 && sqlite3_step(s) == SQLITE_ROW) {
		rows[nr].id = (uint64_t)sqlite3_column_int64(s, 0);
		snprintf(rows[nr].ca, sizeof rows[nr].ca, "%s", (const char *)sqlite3_column_text(s, 1));
		rows[nr].rid = (uint32_t)sqlite3_column_int64(s, 2);
		rows[nr].a = (uint64_t)sqlite3_column_int64(s, 3);
		rows[nr].b = (uint64_t)sqlite3_column_int64(s, 4);
		nr++;
	}
	sqlite3_finalize(s);
	ix->conflicts_unknown = nr == 16; /* more may wait */
	for (size_t i = 0; !rc && i < nr; i++) {
		const index_ca *c = index_ca_by_id(ix, rows[i].ca);
		uint8_t *a = NULL, *b = NULL;
		size_t an = 0, bn = 0;
		ctng_err e2 = {0};
		ctng_gossip_object con = {0};
		int r = !c ? CTNG_ENOTFOUND : signed_copy(ix, db, rows[i].a, &a, &an, &e2);
		if (!r)
			r = signed_copy(ix, db, rows[i].b, &b, &bn, &e2);
		if (!r)
			r = build(c, rows[i].rid, a, an, b, bn, period, now_ms, &con, &e2);
		if (!r && (r = store_pom(ix, rows[i].ca, rows[i].rid, a, an, b, bn, &e2)) == 0) {
			CTNG_WARN("index: RID CON", "ca=%s rid=%u period=%" PRIu64, rows[i].ca,
			          rows[i].rid, period);
			if (*n < max)
				out[(*n)++] = con;
			else
				ctng_gossip_clear(&con);
		} else {
			if (r && r != CTNG_ECONFLICT)
				CTNG_WARN("index: RID conflict not provable", "ca=%s rid=%u err=\"%s\"",
				          rows[i].ca, rows[i].rid, e2.msg);
			ctng_gossip_clear(&con);
		}
		free(a);
		free(b);
		if (r == CTNG_EIO || r == CTNG_ENOMEM) {
			rc = r; /* keep the conflict for the next call */
			ctng_err_set(err, r, "%s", e2.msg);
			break;
		}
		sqlite3_bind_int64(d, 1, (sqlite3_int64)rows[i].id);
		rc = index_step_done(ix, d, "dropping a RID conflict", err);
		if (!rc && ix->conflicts_pending)
			ix->conflicts_pending--;
	}
	sqlite3_finalize(d);
	return rc;
}

int ctng_index_poms(ctng_index *ix, uint64_t period, uint64_t now_ms, ctng_gossip_object *out,
                    size_t max, size_t *n, ctng_err *err)
{
	*n = 0;
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix, "SELECT ca, rid, a, b FROM index_pom ORDER BY ca", &s, err);
	while (!rc && *n < max && sqlite3_step(s) == SQLITE_ROW) {
		const index_ca *c = index_ca_by_id(ix, (const char *)sqlite3_column_text(s, 0));
		if (c && build(c, (uint32_t)sqlite3_column_int64(s, 1), sqlite3_column_blob(s, 2),
		               (size_t)sqlite3_column_bytes(s, 2), sqlite3_column_blob(s, 3),
		               (size_t)sqlite3_column_bytes(s, 3), period, now_ms, &out[*n], NULL) == 0)
			(*n)++;
	}
	sqlite3_finalize(s);
	return rc;
}
