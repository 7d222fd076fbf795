/*
 * crv.c — the monitor's verified copy of every CA's full CRV (issue 11
 * item 6, docs/monitor.md §9): every REV the monitor accepts or receives
 * (signature already checked) moves the CA's CRV on by its delta when the
 * monitor holds the CRV of the period before, and the result must hash to
 * the hash the CA signed; without that CRV (a monitor that started late, a
 * missed period) it fetches the full CRV of the REV's period from the CA
 * (GET <ca>/ctng/v1/crv?period=P) and keeps it only if it hashes to the
 * signed hash. The last CRV_KEEP periods are kept in monitor.db and served
 * at GET /ctng/v1/crv?ca=ID[&period=P], so a relying party that starts late
 * (or missed a REV) can leave STALE: it checks the CRV's hash against the
 * threshold-attested REV itself.
 */
#include <inttypes.h>
#include <jansson.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/net.h"
#include "ctng/store.h"
#include "monitor/monitor_internal.h"

#define CRV_KEEP     32 /* periods kept per CA */
#define CRV_BODY_MAX (64u << 20)

static const char *const migrations[] = {
    "CREATE TABLE monitor_crv (ca TEXT NOT NULL, period INTEGER NOT NULL, hash BLOB NOT NULL,"
    " crv BLOB NOT NULL, PRIMARY KEY (ca, period));",
};

struct mon_crv {
	const ctng_network *net;
	ctng_store *st;
	ctng_net_loop *loop;
	uint64_t timeout_ms;
	bool stopping;
	size_t inflight;
	mon_crv_hook hook; /* the index (docs/monitor.md §11), in save's transaction */
	void *hook_arg;
};

struct fetch {
	mon_crv *mc;
	ctng_gossip_object rev;
};

static int exec_sql(mon_crv *mc, const char *sql, sqlite3_stmt **out, ctng_err *err)
{
	if (sqlite3_prepare_v2(ctng_store_db(mc->st), sql, -1, out, NULL) != SQLITE_OK)
		return ctng_err_set(err, CTNG_EIO, "monitor crv: %s",
		                    sqlite3_errmsg(ctng_store_db(mc->st)));
	return 0;
}

/* The CRV of (ca, period) held: 0 and *out (caller frees), or CTNG_ENOTFOUND.
 * period UINT64_MAX: the latest (its period in *got). */
static int load(mon_crv *mc, const char *ca, uint64_t period, roaring_bitmap_t **out, uint64_t *got,
                uint8_t hash[32], ctng_err *err)
{
	*out = NULL;
	sqlite3_stmt *s = NULL;
	int rc = exec_sql(mc,
	                  period == UINT64_MAX
	                      ? "SELECT period, hash, crv FROM monitor_crv WHERE ca = ?1 ORDER BY"
	                        " period DESC LIMIT 1"
	                      : "SELECT period, hash, crv FROM monitor_crv WHERE ca = ?1 AND"
	                        " period = ?2",
	                  &s, err);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, ca, -1, SQLITE_STATIC);
	if (period != UINT64_MAX)
		sqlite3_bind_int64(s, 2, (sqlite3_int64)period);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return ctng_err_set(err, CTNG_ENOTFOUND, "no CRV of %s held for that period", ca);
	}
	if (got)
		*got = (uint64_t)sqlite3_column_int64(s, 0);
	if (hash && sqlite3_column_bytes(s, 1) == 32)
		memcpy(hash, sqlite3_column_blob(s, 1), 32);
	rc = ctng_crv_delta_decode(sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2),
	                           out, err);
	sqlite3_finalize(s);
	return rc;
}

static int save(mon_crv *mc, const char *ca, uint64_t period, const roaring_bitmap_t *crv,
                const uint8_t hash[32], ctng_err *err)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	sqlite3_stmt *s = NULL, *d = NULL;
	int rc = ctng_crv_delta_encode(crv, &bytes, &len, err);
	if (!rc)
		rc = exec_sql(mc,
		              "INSERT OR REPLACE INTO monitor_crv (ca, period, hash, crv) VALUES"
		              " (?1, ?2, ?3, ?4)",
		              &s, err);
	if (!rc)
		rc = exec_sql(mc, "DELETE FROM monitor_crv WHERE ca = ?1 AND period < ?2", &d, err);
	if (!rc && !(rc = ctng_store_begin(mc->st, err))) {
		sqlite3_bind_text(s, 1, ca, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)period);
		sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
		sqlite3_bind_blob(s, 4, bytes, (int)len, SQLITE_STATIC);
		sqlite3_bind_text(d, 1, ca, -1, SQLITE_STATIC);
		sqlite3_bind_int64(d, 2,
		                   (sqlite3_int64)(period > CRV_KEEP ? period - CRV_KEEP : 0));
		if (sqlite3_step(s) != SQLITE_DONE || sqlite3_step(d) != SQLITE_DONE) {
			rc = ctng_err_set(err, CTNG_EIO, "monitor crv: %s",
			                  sqlite3_errmsg(ctng_store_db(mc->st)));
		} else if (mc->hook) {
			rc = mc->hook(mc->hook_arg, ca, period, crv, err);
		}
		if (rc)
			ctng_store_rollback(mc->st, NULL);
		else
			rc = ctng_store_commit(mc->st, err);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(d);
	free(bytes);
	return rc;
}

/* crv (the CA's full CRV of rev's period, or CRV(p-1) when `delta`) checked
 * against the REV's signed hash and kept. */
static int adopt(mon_crv *mc, const ctng_gossip_object *rev, roaring_bitmap_t *crv, bool delta,
                 ctng_err *err)
{
	ctng_rev r = {0};
	roaring_bitmap_t *d = NULL;
	uint8_t h[32];
	int rc = ctng_rev_from_object(rev, &r, err);
	if (!rc && delta && !(rc = ctng_crv_delta_decode(r.delta, r.delta_len, &d, err)))
		roaring_bitmap_or_inplace(crv, d);
	if (!rc)
		rc = ctng_crv_hash(crv, h, err);
	if (!rc && memcmp(h, r.crv_hash, 32) != 0)
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "CRV of %s for period %" PRIu64 " does not hash to the REV's",
		                  rev->signer, rev->period);
	if (!rc)
		rc = save(mc, rev->signer, rev->period, crv, h, err);
	if (d)
		roaring_bitmap_free(d);
	ctng_rev_clear(&r);
	return rc;
}

static void on_full_crv(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct fetch *f = arg;
	mon_crv *mc = f->mc;
	mc->inflight--;
	ctng_err e = {0};
	roaring_bitmap_t *crv = NULL;
	if (mc->stopping)
		goto out;
	json_t *j = NULL;
	int rc = err ? err->code : status != 200 ? CTNG_EIO : 0;
	if (!rc)
		rc = ctng_net_parse_json(body, len, CRV_BODY_MAX, &j, &e);
	const char *b64 = json_string_value(json_object_get(j, "crv"));
	const char *ca = json_string_value(json_object_get(j, "ca"));
	uint8_t *bytes = NULL;
	size_t blen = 0;
	if (!rc && (!b64 || !ca || strcmp(ca, f->rev.signer)))
		rc = ctng_err_set(&e, CTNG_EINVAL, "not the CRV of %s", f->rev.signer);
	if (!rc)
		rc = ctng_b64_decode_alloc(b64, strlen(b64), &bytes, &blen, &e);
	if (!rc)
		rc = ctng_crv_delta_decode(bytes, blen, &crv, &e);
	if (!rc)
		rc = adopt(mc, &f->rev, crv, false, &e);
	free(bytes);
	json_decref(j);
	if (rc)
		CTNG_WARN("monitor crv: no verified CRV", "ca=%s period=%" PRIu64 " err=\"%s\"",
		          f->rev.signer, f->rev.period,
		          err        ? err->msg
		          : e.msg[0] ? e.msg
		                     : "HTTP error");
out:
	if (crv)
		roaring_bitmap_free(crv);
	ctng_gossip_clear(&f->rev);
	free(f);
}

void mon_crv_on_rev(mon_crv *mc, const ctng_gossip_object *rev)
{
	if (!mc || rev->type != CTNG_REV)
		return;
	roaring_bitmap_t *crv = NULL;
	uint64_t have = 0;
	ctng_err e = {0};
	int rc = load(mc, rev->signer, UINT64_MAX, &crv, &have, NULL, &e);
	if (rc == 0 && have >= rev->period) {
		roaring_bitmap_free(crv);
		return; /* held (the first REV of a period wins; a conflicting one is a CON) */
	}
	if (rc == 0 && have + 1 == rev->period) {
		if ((rc = adopt(mc, rev, crv, true, &e)))
			CTNG_WARN("monitor crv: REV does not continue the CRV",
			          "ca=%s period=%" PRIu64 " err=\"%s\"", rev->signer, rev->period,
			          e.msg);
		roaring_bitmap_free(crv);
		if (rc == 0)
			return;
		crv = NULL;
	}
	if (crv)
		roaring_bitmap_free(crv);
	if (rev->period == 0) { /* genesis: CRV(-1) is empty */
		roaring_bitmap_t *empty = roaring_bitmap_create();
		if (empty && adopt(mc, rev, empty, true, &e))
			CTNG_WARN("monitor crv: first REV does not start from the empty CRV",
			          "ca=%s err=\"%s\"", rev->signer, e.msg);
		if (empty)
			roaring_bitmap_free(empty);
		return;
	}
	/* No CRV of the period before: the CA's full CRV, checked against the REV. */
	const ctng_entity *ca = ctng_network_entity(mc->net, rev->signer);
	struct fetch *f = ca && mc->inflight < 64 ? calloc(1, sizeof(*f)) : NULL;
	if (!f)
		return;
	f->mc = mc;
	if (ctng_gossip_copy(&f->rev, rev, NULL)) {
		free(f);
		return;
	}
	char url[CTNG_URL_MAX + 64];
	snprintf(url, sizeof url, "%s/ctng/v1/crv?period=%" PRIu64, ca->url, rev->period);
	ctng_net_client_opts o = {.timeout_ms = mc->timeout_ms, .max_response = CRV_BODY_MAX};
	if (ctng_net_request(mc->loop, "GET", url, NULL, 0, &o, on_full_crv, f, &e)) {
		ctng_gossip_clear(&f->rev);
		free(f);
		return;
	}
	mc->inflight++;
}

static void h_crv(ctng_net_req *req, void *arg)
{
	mon_crv *mc = arg;
	ctng_err e = {0};
	const char *ca = NULL;
	uint64_t p = UINT64_MAX, got = 0;
	if (ctng_net_req_query_required(req, "ca", &ca, &e) ||
	    (ctng_net_req_query(req, "period") &&
	     ctng_net_req_query_u64(req, "period", INT64_MAX, &p, &e))) {
		ctng_net_reply_error(req, 400, "%s", e.msg);
		return;
	}
	const ctng_entity *ent = ctng_network_entity(mc->net, ca);
	if (!ent || ent->role != CTNG_ROLE_CA) {
		ctng_net_reply_error(req, 404, "no CA %.64s in the network", ca);
		return;
	}
	roaring_bitmap_t *crv = NULL;
	uint8_t hash[32], *bytes = NULL;
	size_t len = 0;
	int rc = load(mc, ca, p, &crv, &got, hash, &e);
	if (!rc)
		rc = ctng_crv_delta_encode(crv, &bytes, &len, &e);
	if (crv)
		roaring_bitmap_free(crv);
	if (rc) {
		ctng_net_reply_err(req, &e);
		return;
	}
	char ps[24], hex[65];
	snprintf(ps, sizeof ps, "%" PRIu64, got);
	ctng_hex_encode(hex, hash, 32);
	char *b64 = ctng_b64_strdup(bytes, len);
	free(bytes);
	json_t *j =
	    b64 ? json_pack("{s:s,s:s,s:s,s:s}", "period", ps, "ca", ca, "crv", b64, "hash", hex)
	        : NULL;
	free(b64);
	if (!j)
		ctng_net_reply_error(req, 500, "out of memory");
	else
		ctng_net_reply_json(req, 200, j);
}

int mon_crv_open(const ctng_network *net, ctng_store *st, ctng_net_loop *loop, ctng_net_server *srv,
                 uint64_t timeout_ms, mon_crv **out, ctng_err *err)
{
	*out = NULL;
	int rc = ctng_store_migrate(st, "monitor_crv", migrations, 1, err);
	if (rc)
		return rc;
	mon_crv *mc = calloc(1, sizeof(*mc));
	if (!mc)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	mc->net = net;
	mc->st = st;
	mc->loop = loop;
	mc->timeout_ms = timeout_ms;
	if ((rc = ctng_net_server_route(srv, "GET", "/ctng/v1/crv", h_crv, mc, err))) {
		free(mc);
		return rc;
	}
	*out = mc;
	return 0;
}

void mon_crv_set_hook(mon_crv *mc, mon_crv_hook hook, void *arg)
{
	mc->hook = hook;
	mc->hook_arg = arg;
}

void mon_crv_stop(mon_crv *mc)
{
	if (mc)
		mc->stopping = true;
}

void mon_crv_free(mon_crv *mc)
{
	free(mc);
}
