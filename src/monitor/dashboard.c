/*
 * dashboard.c — the monitor's web page (GET /, its CSS and JavaScript,
 * compiled into the binary from src/monitor/dashboard/ by
 * cmake/embed.cmake) and the one JSON snapshot it shows
 * (GET /ctng/v1/dashboard): per published period which loggers and CAs
 * were attested, accused or convicted, the latest accepted STH of every
 * watched logger, and the proofs of misbehaviour with their evidence.
 * Everything is read-only; the page builds its DOM with textContent only
 * and is served under a Content-Security-Policy that allows no inline
 * script. docs/monitor.md §7, docs/endpoints.md.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor_internal.h"

#define KV_UPDATE "monitor.update"
#define KV_POM    "monitor.pom"
#define MAX_POMS  100

static const char *const page_headers[] = {
    "Content-Security-Policy",
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options",
    "nosniff",
    "Referrer-Policy",
    "no-referrer",
    "Cache-Control",
    "no-cache",
    NULL};

static void h_asset(ctng_net_req *req, void *arg)
{
	const monitor_asset *a = arg;
	ctng_net_reply_bytes(req, 200, a->content_type, a->data, a->len, page_headers);
}

/* ------------------------------------------------------------ snapshot */

static json_t *sth_json(const ctng_gossip_object *o)
{
	ctng_sth sth;
	if (!o || ctng_sth_from_object(o, &sth, NULL))
		return json_null();
	char root[65];
	ctng_hex_encode(root, sth.root, 32);
	return json_pack("{s:I, s:I, s:s, s:I}", "period", (json_int_t)o->period, "tree_size",
	                 (json_int_t)sth.tree_size, "root", root, "timestamp_ms",
	                 (json_int_t)sth.timestamp_ms);
}

static bool watches(const ctng_entity *self, const char *id)
{
	for (size_t i = 0; i < self->n_loggers; i++)
		if (!strcmp(self->loggers[i], id))
			return true;
	for (size_t i = 0; i < self->n_cas; i++)
		if (!strcmp(self->cas[i], id))
			return true;
	return false;
}

static json_t *entities_json(const monitor_dash *d)
{
	const ctng_network *net = &d->cfg->net;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		if (e->role != CTNG_ROLE_LOGGER && e->role != CTNG_ROLE_CA)
			continue;
		bool logger = e->role == CTNG_ROLE_LOGGER;
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id", e->id, "role",
		                      logger ? "logger" : "ca", "url", e->url, "watched",
		                      watches(d->cfg->self, e->id), "convicted",
		                      ctng_monitor_sm_convicted(d->sm, e->id), "forked",
		                      logger && ctng_monitor_sm_forked(d->sm, e->id));
		if (o && logger)
			json_object_set_new(o, "sth",
			                    sth_json(ctng_monitor_sm_last_sth(d->sm, e->id)));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* One published period: the entities its update attests, accuses, convicts. */
static json_t *period_json(const monitor_dash *d, uint64_t p, json_t *poms)
{
	char key[24];
	snprintf(key, sizeof key, "%" PRIu64, p);
	uint8_t *txt = NULL;
	size_t len = 0;
	if (ctng_store_kv_get(d->st, KV_UPDATE, key, &txt, &len, NULL))
		return json_pack("{s:I, s:b}", "period", (json_int_t)p, "published", 0);
	ctng_client_update u = {0};
	json_t *att = json_array(), *acc = json_array(), *con = json_array();
	int rc = ctng_client_update_parse((const char *)txt, len, &u, NULL);
	for (size_t i = 0; rc == 0 && i < u.n_objects; i++) {
		const ctng_gossip_object *o = &u.objects[i];
		json_t *list = o->type == CTNG_STH_FULL || o->type == CTNG_REV_FULL ? att
		               : o->type == CTNG_ACC_FULL                           ? acc
		               : o->type == CTNG_CON_FULL                           ? con
		                                                                    : NULL;
		if (list)
			json_array_append_new(list, json_string(ctng_gossip_entity(o)));
		/* The conflicts of the latest update, with what proves them. */
		if (poms && o->type == CTNG_CON_FULL) {
			json_t *full = NULL, *init = NULL;
			ctng_gossip_to_json(o, &full, NULL);
			if (i + 1 < u.n_objects && u.objects[i + 1].type == CTNG_CON)
				ctng_gossip_to_json(&u.objects[i + 1], &init, NULL);
			json_array_append_new(poms,
			                      json_pack("{s:s, s:s, s:I, s:{s:o, s:o}}", "kind",
			                                "conflict", "entity", ctng_gossip_entity(o),
			                                "period", (json_int_t)o->period, "evidence",
			                                "con_full", full ? full : json_null(),
			                                "con", init ? init : json_null()));
		}
	}
	ctng_client_update_clear(&u);
	free(txt);
	return json_pack("{s:I, s:b, s:I, s:o, s:o, s:o}", "period", (json_int_t)p, "published",
	                 rc == 0, "bytes", (json_int_t)len, "attested", att, "accused", acc,
	                 "convicted", con);
}

/* The monitor's own proofs of STH inconsistency (docs/monitor.md §4). */
static void local_poms(const monitor_dash *d, json_t *poms)
{
	sqlite3_stmt *st = NULL;
	const char *sql = "SELECT key, value FROM kv WHERE ns = ? ORDER BY key LIMIT ?";
	if (sqlite3_prepare_v2(ctng_store_db(d->st), sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, KV_POM, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, MAX_POMS);
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* key: LOGGER/PERIOD/KIND */
		char key[CTNG_ID_MAX + 64];
		snprintf(key, sizeof key, "%s", (const char *)sqlite3_column_text(st, 0));
		char *s1 = strchr(key, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		if (!s2)
			continue;
		*s1 = *s2 = 0;
		json_t *ev = NULL;
		if (ctng_net_parse_json(sqlite3_column_blob(st, 1),
		                        (size_t)sqlite3_column_bytes(st, 1), 0, &ev, NULL))
			continue;
		json_array_append_new(
		    poms, json_pack("{s:s, s:s, s:I, s:o}", "kind", s2 + 1, "entity", key, "period",
		                    (json_int_t)strtoull(s1 + 1, NULL, 10), "evidence", ev));
	}
	sqlite3_finalize(st);
}

int monitor_dashboard_json(const monitor_dash *d, unsigned n_periods, json_t **out, ctng_err *err)
{
	const ctng_clock *c = &d->cfg->net.clock;
	uint64_t now = ctng_now_ms(), p = 0;
	bool started = ctng_clock_period_of(c, now, &p);
	json_t *periods = json_array(), *poms = json_array();
	if (*d->has_published)
		for (uint64_t k = 0; k < n_periods && k <= *d->last_published; k++) {
			uint64_t q = *d->last_published - k;
			json_array_append_new(periods, period_json(d, q, k == 0 ? poms : NULL));
		}
	local_poms(d, poms);
	*out = json_pack(
	    "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "monitor", d->cfg->id,
	    "gossiper", d->cfg->self->gossiper, "threshold", (json_int_t)d->cfg->net.threshold,
	    "genesis_ms", (json_int_t)c->genesis_ms, "period_ms", (json_int_t)c->period_ms,
	    "now_ms", (json_int_t)now, "update_offset_ms", (json_int_t)c->update_offset_ms,
	    "period", started ? json_integer((json_int_t)p) : json_null(), "last_published",
	    *d->has_published ? json_integer((json_int_t)*d->last_published) : json_null(),
	    "entities", entities_json(d), "periods", periods);
	if (*out)
		json_object_set_new(*out, "poms", poms);
	else
		json_decref(poms);
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

static void h_dashboard(ctng_net_req *req, void *arg)
{
	const monitor_dash *d = arg;
	ctng_err err = {0};
	uint64_t n = 16;
	if (ctng_net_req_query(req, "periods") &&
	    ctng_net_req_query_u64(req, "periods", 64, &n, &err)) {
		ctng_net_reply_error(req, 400, "%s", err.msg);
		return;
	}
	if (n == 0) {
		ctng_net_reply_error(req, 400, "periods: 1..64");
		return;
	}
	json_t *j = NULL;
	if (monitor_dashboard_json(d, (unsigned)n, &j, &err)) {
		ctng_net_reply_err(req, &err);
		return;
	}
	ctng_net_reply_json(req, 200, j);
}

int monitor_dashboard_routes(ctng_net_server *srv, monitor_dash *d, ctng_err *err)
{
	int rc = ctng_net_server_route(srv, "GET", "/ctng/v1/dashboard", h_dashboard, d, err);
	for (size_t i = 0; !rc && i < monitor_n_assets; i++)
		rc = ctng_net_server_route(srv, "GET", monitor_assets[i].path, h_asset,
		                           (void *)&monitor_assets[i], err);
	return rc;
}
