/*
 * index.c — the monitor daemon's certificate index (docs/monitor.md §10,
 * §11; the index itself is src/index): it is the mirror's entry hook and
 * the CRV keeper's hook, so every entry and every CRV is indexed in the
 * transaction that stores it; after each stored run it sends the RID CONs
 * found to the gossiper, wakes the long polls and the webhook deliveries
 * (alerts.c). Routes:
 *
 *   GET    /ctng/v1/search?domain=D[&subdomains=1][&after=C][&limit=N]
 *   GET    /ctng/v1/events?domain=D[&subdomains=1][&after=C.R][&wait_ms=MS]
 *   GET    /ctng/v1/index                   counters
 *   POST   /ctng/v1/watches                 {domain, subdomains, webhook}
 *   GET    /ctng/v1/watches
 *   DELETE /ctng/v1/watches/<id>
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/index.h"
#include "ctng/net.h"
#include "monitor/monitor_internal.h"

#define MAX_POLLS      64
#define WATCH_BODY_MAX 8192
#define WAIT_DEFAULT   25000

struct poll {
	mon_index *mi;
	ctng_net_req *req;
	ctng_index_query q;
	char after[CTNG_INDEX_CURSOR_MAX];
	ctng_net_timer *timer;
	struct poll *next;
};

struct mon_index {
	const ctng_node_config *cfg;
	ctng_store *st;
	ctng_net_loop *loop;
	ctng_mirror_db *mdb;
	ctng_index *ix;
	bool api; /* POST/DELETE /ctng/v1/watches */
	char **allow;
	size_t n_allow;
	char *tls_ca; /* "tls_ca": the bundle https webhooks are verified against */
	mon_index_send_fn send;
	void *send_arg;
	struct poll *polls;
	size_t n_polls;
	ctng_net_timer *kick;
	mon_alerts *alerts;
	bool stopping;
};

/* -------------------------------------------------------- the webhooks */

/* config.json "webhooks": {"allow": [...], "allow_only": bool, "api": bool,
 * "tls_ca": PEM path (relative to the config's folder; default: the
 * system roots)} */
static int parse_webhooks(mon_index *mi, const char *text, ctng_index_opts *o, ctng_err *err)
{
	mi->api = true;
	if (!text)
		return 0;
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	int rc = 0;
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v)
	{
		if (strcmp(k, "allow") && strcmp(k, "allow_only") && strcmp(k, "api") &&
		    strcmp(k, "tls_ca"))
			rc = ctng_err_set(err, CTNG_EINVAL, "webhooks: unknown member \"%.64s\"", k);
	}
	json_t *a = json_object_get(j, "allow"), *ao = json_object_get(j, "allow_only"),
	       *api = json_object_get(j, "api"), *ca = json_object_get(j, "tls_ca");
	if (!rc && ca && (!json_is_string(ca) || !json_string_length(ca) ||
	                  json_string_length(ca) > 1024))
		rc = ctng_err_set(err, CTNG_EINVAL, "webhooks: tls_ca is the path of a PEM file");
	if (!rc && ca) {
		const char *p = json_string_value(ca);
		const char *dir = p[0] == '/' || !mi->cfg->dir ? "" : mi->cfg->dir;
		size_t n = strlen(dir) + strlen(p) + 2;
		if (!(mi->tls_ca = malloc(n)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else
			snprintf(mi->tls_ca, n, "%s%s%s", dir, *dir ? "/" : "", p);
	}
	if (!rc && ((a && !json_is_array(a)) || json_array_size(a) > 256 ||
	            (ao && !json_is_boolean(ao)) || (api && !json_is_boolean(api))))
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "webhooks: allow is an array (at most 256 hosts), allow_only and "
		                  "api are booleans");
	if (!rc && json_array_size(a) && !(mi->allow = calloc(json_array_size(a), sizeof(char *))))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || !*s || strlen(s) > 300)
			rc = ctng_err_set(err, CTNG_EINVAL, "webhooks: allow[%zu] must be a host", i);
		else if (!(mi->allow[mi->n_allow++] = strdup(s)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (!rc) {
		o->webhook_allow = (const char *const *)mi->allow;
		o->n_webhook_allow = mi->n_allow;
		o->webhook_allow_only = json_is_true(ao);
		mi->api = !api || json_is_true(api);
	}
	json_decref(j);
	return rc;
}

/* ---------------------------------------------------------- long polls */

static void poll_free(struct poll *p)
{
	ctng_net_timer_free(p->timer);
	free(p);
}

static void poll_unlink(mon_index *mi, struct poll *p)
{
	for (struct poll **pp = &mi->polls; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			mi->n_polls--;
			return;
		}
}

/* Answers with the events after p->after if there are any (or `force`). */
static bool poll_try(mon_index *mi, ctng_net_req *req, const ctng_index_query *q,
                     const char *after, bool force)
{
	json_t *ev = NULL;
	char next[CTNG_INDEX_CURSOR_MAX];
	ctng_err e = {0};
	if (ctng_index_events(mi->ix, q, after, &ev, next, &e)) {
		ctng_net_reply_err(req, &e);
		return true;
	}
	if (!force && json_array_size(ev) == 0) {
		json_decref(ev);
		return false;
	}
	ctng_net_reply_json(req, 200, json_pack("{s:o,s:s}", "events", ev, "next", next));
	return true;
}

static void on_poll_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	struct poll *p = arg;
	mon_index *mi = p->mi;
	poll_unlink(mi, p);
	poll_try(mi, p->req, &p->q, p->after, true);
	poll_free(p);
}

static void wake_polls(mon_index *mi)
{
	for (struct poll *p = mi->polls, *next; p; p = next) {
		next = p->next;
		if (poll_try(mi, p->req, &p->q, p->after, false)) {
			poll_unlink(mi, p);
			poll_free(p);
		}
	}
}

/* --------------------------------------------------------------- kicks */

static void send_poms(mon_index *mi, bool fresh)
{
	uint64_t p = 0;
	if (!ctng_clock_period_of(&mi->cfg->net.clock, ctng_now_ms(), &p))
		return;
	ctng_gossip_object cons[8];
	size_t n = 0;
	ctng_err e = {0};
	int rc = fresh ? ctng_index_take_poms(mi->ix, mi->mdb, p, ctng_now_ms(), cons, 8, &n, &e)
	               : ctng_index_poms(mi->ix, p, ctng_now_ms(), cons, 8, &n, &e);
	if (rc)
		CTNG_WARN("index: RID CONs", "err=\"%s\"", e.msg);
	for (size_t i = 0; i < n; i++) {
		if (mi->send)
			mi->send(mi->send_arg, &cons[i], fresh);
		ctng_gossip_clear(&cons[i]);
	}
}

static void on_kick(ctng_net_timer *t, void *arg)
{
	(void)t;
	mon_index *mi = arg;
	send_poms(mi, true);
	wake_polls(mi);
	mon_alerts_kick(mi->alerts);
}

void mon_index_kick(mon_index *mi)
{
	if (mi && !mi->stopping && !ctng_net_timer_pending(mi->kick))
		ctng_net_timer_start(mi->kick, 1, 0, NULL);
}

void mon_index_period(mon_index *mi, uint64_t p)
{
	(void)p;
	if (mi && !mi->stopping)
		send_poms(mi, false);
}

static int crv_hook(void *arg, const char *ca, uint64_t period, const struct roaring_bitmap_s *crv,
                    ctng_err *err)
{
	mon_index *mi = arg;
	int rc = ctng_index_on_crv(mi->ix, ca, period, crv, false, err);
	if (!rc)
		mon_index_kick(mi); /* runs after the commit */
	return rc;
}

/* ------------------------------------------------------------ handlers */

static int query_of(ctng_net_req *req, ctng_index_query *q, ctng_err *e)
{
	return ctng_index_query_parse(ctng_net_req_query(req, "domain"),
	                              ctng_net_req_query(req, "subdomains"),
	                              ctng_net_req_query(req, "after"),
	                              ctng_net_req_query(req, "limit"), q, e);
}

static void h_search(ctng_net_req *req, void *arg)
{
	mon_index *mi = arg;
	ctng_index_query q;
	ctng_err e = {0};
	json_t *res = NULL;
	uint64_t next = 0;
	if (query_of(req, &q, &e) || ctng_index_search(mi->ix, &q, &res, &next, &e)) {
		ctng_net_reply_err(req, &e);
		return;
	}
	char c[24];
	snprintf(c, sizeof c, "%" PRIu64, next);
	ctng_net_reply_json(req, 200,
	                    json_pack("{s:o,s:o}", "results", res, "next",
	                              next ? json_string(c) : json_null()));
}

static void h_events(ctng_net_req *req, void *arg)
{
	mon_index *mi = arg;
	ctng_index_query q;
	ctng_err e = {0};
	const char *after = ctng_net_req_query(req, "after");
	uint64_t wait = WAIT_DEFAULT;
	/* the cursor here is "C.R", not a search cursor: parse it separately */
	if (ctng_index_query_parse(ctng_net_req_query(req, "domain"),
	                           ctng_net_req_query(req, "subdomains"), NULL,
	                           ctng_net_req_query(req, "limit"), &q, &e) ||
	    (ctng_net_req_query(req, "wait_ms") &&
	     ctng_net_req_query_u64(req, "wait_ms", CTNG_INDEX_WAIT_MAX_MS, &wait, &e)) ||
	    (after && strlen(after) >= CTNG_INDEX_CURSOR_MAX &&
	     ctng_err_set(&e, CTNG_EINVAL, "after: not an events cursor"))) {
		ctng_net_reply_err(req, &e);
		return;
	}
	if (poll_try(mi, req, &q, after, !after || !*after || wait == 0))
		return;
	if (mi->n_polls >= MAX_POLLS) {
		ctng_net_reply_error(req, 503, "too many waiting requests (%d); retry later",
		                     MAX_POLLS);
		return;
	}
	struct poll *p = calloc(1, sizeof(*p));
	if (!p || !(p->timer = ctng_net_timer_new(mi->loop, on_poll_timer, p, NULL))) {
		free(p);
		ctng_net_reply_error(req, 500, "out of memory");
		return;
	}
	p->mi = mi;
	p->req = req;
	p->q = q;
	snprintf(p->after, sizeof p->after, "%s", after);
	ctng_net_timer_start(p->timer, wait, 0, NULL);
	p->next = mi->polls;
	mi->polls = p;
	mi->n_polls++;
}

static void h_stats(ctng_net_req *req, void *arg)
{
	mon_index *mi = arg;
	ctng_index_stats s;
	ctng_err e = {0};
	if (ctng_index_stats_get(mi->ix, &s, &e)) {
		ctng_net_reply_err(req, &e);
		return;
	}
	ctng_net_reply_json(
	    req, 200,
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "certificates", (json_int_t)s.certificates,
	              "entries", (json_int_t)s.entries, "unparsed", (json_int_t)s.unparsed,
	              "watches", (json_int_t)s.watches, "notifications_pending",
	              (json_int_t)s.pending, "rid_conflicts", (json_int_t)s.rid_conflicts,
	              "rid_cons", (json_int_t)s.poms));
}

static void h_watch_add(ctng_net_req *req, void *arg)
{
	mon_index *mi = arg;
	if (!mi->api) {
		ctng_net_reply_error(req, 403, "this monitor's watches are set in its config only");
		return;
	}
	size_t len = 0;
	ctng_net_req_body(req, &len);
	if (len > WATCH_BODY_MAX) {
		ctng_net_reply_error(req, 413, "watch: larger than %d bytes", WATCH_BODY_MAX);
		return;
	}
	json_t *body = NULL;
	ctng_watch w;
	ctng_err e = {0};
	uint64_t id = 0;
	bool existed = false;
	int rc = ctng_net_req_json(req, &body, &e);
	if (!rc)
		rc = ctng_index_watch_parse(mi->ix, body, &w, &e);
	json_decref(body);
	if (!rc)
		rc = ctng_index_watch_add(mi->ix, &w, ctng_now_ms(), &id, &existed, &e);
	if (rc) {
		if (rc == CTNG_ERANGE)
			ctng_net_reply_error(req, 409, "%s", e.msg);
		else
			ctng_net_reply_err(req, &e);
		return;
	}
	char ids[24];
	snprintf(ids, sizeof ids, "%" PRIu64, id);
	CTNG_INFO("watch added", "id=%s domain=%s subdomains=%d", ids, w.domain, w.subdomains);
	ctng_net_reply_json(req, existed ? 200 : 201,
	                    json_pack("{s:s,s:s,s:b,s:s,s:s}", "id", ids, "domain", w.domain,
	                              "subdomains", w.subdomains, "webhook", w.webhook, "status",
	                              existed ? "exists" : "created"));
}

static void h_watch_list(ctng_net_req *req, void *arg)
{
	mon_index *mi = arg;
	json_t *j = NULL;
	ctng_err e = {0};
	if (ctng_index_watch_list(mi->ix, &j, &e))
		ctng_net_reply_err(req, &e);
	else
		ctng_net_reply_json(req, 200, j);
}

static void h_watch_delete(ctng_net_req *req, void *arg)
{
	mon_index *mi = arg;
	if (!mi->api) {
		ctng_net_reply_error(req, 403, "this monitor's watches are set in its config only");
		return;
	}
	const char *s = ctng_net_req_path(req) + strlen("/ctng/v1/watches/");
	uint64_t id = 0;
	ctng_err e = {0};
	if (ctng_parse_u64(s, INT64_MAX, &id, NULL)) {
		ctng_net_reply_error(req, 400, "watch id: a decimal number");
		return;
	}
	if (ctng_index_watch_delete(mi->ix, id, &e)) {
		ctng_net_reply_err(req, &e);
		return;
	}
	ctng_net_reply_json(req, 200, json_pack("{s:s,s:s}", "id", s, "status", "deleted"));
}

/* ----------------------------------------------------------- lifecycle */

int mon_index_open(const ctng_node_config *cfg, ctng_store *st, ctng_net_loop *loop,
                   ctng_net_server *srv, ctng_mirror_db *mdb, mon_crv *mc,
                   mon_index_send_fn send, void *arg, mon_index **out, ctng_err *err)
{
	*out = NULL;
	mon_index *mi = calloc(1, sizeof(*mi));
	if (!mi)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	mi->cfg = cfg;
	mi->st = st;
	mi->loop = loop;
	mi->mdb = mdb;
	mi->send = send;
	mi->send_arg = arg;
	ctng_index_opts o = {0};
	ctng_watch *ws = NULL;
	size_t n = 0;
	int rc;
	if ((rc = parse_webhooks(mi, cfg->webhooks_json, &o, err)) ||
	    (rc = ctng_index_open(st, &cfg->net, cfg->id, &o, &mi->ix, err)) ||
	    (rc = ctng_index_watches_from_config(mi->ix, cfg->watches_json, &ws, &n, err)) ||
	    (rc = ctng_index_watch_sync_config(mi->ix, ws, n, ctng_now_ms(), err)))
		goto fail;
	if (!(mi->kick = ctng_net_timer_new(loop, on_kick, mi, err)) ||
	    (rc = mon_alerts_open(cfg, loop, mi->ix, mi->tls_ca, &mi->alerts, err))) {
		rc = rc ? rc : err && err->code ? err->code : CTNG_EIO;
		goto fail;
	}
	if ((rc = ctng_net_server_route(srv, "GET", "/ctng/v1/search", h_search, mi, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/events", h_events, mi, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/index", h_stats, mi, err)) ||
	    (rc = ctng_net_server_route(srv, "POST", "/ctng/v1/watches", h_watch_add, mi, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/watches", h_watch_list, mi, err)) ||
	    (rc = ctng_net_server_route(srv, "DELETE", "/ctng/v1/watches/*", h_watch_delete, mi,
	                                err)))
		goto fail;
	ctng_mirror_db_set_hook(mdb, ctng_index_entry_hook, mi->ix);
	mon_crv_set_hook(mc, crv_hook, mi);
	free(ws);
	CTNG_INFO("index open", "watches=%zu", n);
	mon_index_kick(mi); /* conflicts and notifications left from before */
	*out = mi;
	return 0;
fail:
	free(ws);
	mon_index_free(mi);
	return rc;
}

int mon_index_stats(mon_index *mi, ctng_index_stats *out)
{
	return ctng_index_stats_get(mi->ix, out, NULL);
}

void mon_index_set_metrics(mon_index *mi, const struct monitor_metrics *x)
{
	if (mi)
		mon_alerts_set_metrics(mi->alerts, x);
}

void mon_index_stop(mon_index *mi)
{
	if (!mi)
		return;
	mi->stopping = true;
	/* the server answers the waiting requests when it is freed */
	for (struct poll *p = mi->polls, *next; p; p = next) {
		next = p->next;
		poll_free(p);
	}
	mi->polls = NULL;
	mi->n_polls = 0;
	ctng_net_timer_free(mi->kick);
	mi->kick = NULL;
	mon_alerts_stop(mi->alerts);
}

void mon_index_free(mon_index *mi)
{
	if (!mi)
		return;
	mon_index_stop(mi);
	mon_alerts_free(mi->alerts);
	ctng_index_close(mi->ix);
	for (size_t i = 0; i < mi->n_allow; i++)
		free(mi->allow[i]);
	free(mi->allow);
	free(mi->tls_ca);
	free(mi);
}
