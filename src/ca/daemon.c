/*
 * daemon.c — `ctng ca`: the CA's HTTP API and period timer on one libevent
 * loop (DESIGN §8). Requests are handed to ca.c; at each period start the
 * daemon publishes REV(p), (re)submits precertificates that lack an SCT,
 * fetches inclusion proofs from every logger and issues what is ready.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca_internal.h"
#include "ca/metrics.h"
#include "ctng/net.h"

#define CA_MAX_BODY (64u << 10)

typedef struct ca_daemon {
	ctng_ca *ca;
	const ctng_node_config *cfg;
	ctng_net_loop *loop;
	ctng_net_server *srv;
	ctng_net_timer *timer;
	bool have_period;
	uint64_t period;       /* last period whose start was handled */
	size_t inflight;       /* proof requests in flight */
	uint64_t fetch_period; /* period of those requests */
	bool silent;
	uint32_t answer_mod;
	bool stopping;
	struct got_proof *got; /* proof replies of the round, recorded together */
	size_t n_got, cap_got;
	ca_metrics mx; /* GET /metrics */
} ca_daemon;

struct got_proof {
	uint32_t rid;
	char logger[CTNG_ID_MAX + 1];
	json_t *reply;
};

typedef struct ca_call {
	ca_daemon *d;
	uint32_t rid;
	uint64_t period;
	char logger[CTNG_ID_MAX + 1];
	uint64_t t0;
} ca_call;

static uint64_t cur_period(ca_daemon *d, bool *ok)
{
	uint64_t p = 0;
	*ok = ctng_clock_period_of(&d->cfg->net.clock, ctng_now_ms(), &p);
	return p;
}

/* ------------------------------------------------------- logger calls */

static void on_sct(int status, const uint8_t *body, size_t len, const ctng_err *terr, void *arg)
{
	ca_call *c = arg;
	ctng_err err = {0};
	json_t *j = NULL;
	const char *result = terr ? "failed" : status != 200 ? "refused" : "bad";
	ctng_net_metrics_peer(&c->d->mx.net, c->logger, status, terr, c->t0);
	if (terr) {
		CTNG_WARN("add-pre-chain failed", "logger=%s rid=%u error=\"%s\"", c->logger,
		          c->rid, terr->msg);
	} else if (status != 200) {
		CTNG_WARN("add-pre-chain refused", "logger=%s rid=%u status=%d body=\"%.200s\"",
		          c->logger, c->rid, status, (const char *)body);
	} else if (ctng_net_parse_json(body, len, 1u << 16, &j, &err) ||
	           ctng_ca_record_sct(c->d->ca, c->rid, c->logger, j, &err)) {
		CTNG_WARN("bad SCT", "logger=%s rid=%u error=\"%s\"", c->logger, c->rid, err.msg);
	} else {
		result = "ok";
	}
	ctng_counter_inc(c->d->mx.scts, CTNG_LABELS(c->logger, result));
	json_decref(j);
	free(c);
}

static void submit(ca_daemon *d, const ctng_entity *lg, uint32_t rid)
{
	ctng_err err = {0};
	json_t *body = NULL;
	char url[CTNG_URL_MAX + 32];
	ca_call *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->d = d;
	c->rid = rid;
	c->t0 = ctng_mono_ns();
	strcpy(c->logger, lg->id);
	snprintf(url, sizeof(url), "%s/ct/v1/add-pre-chain", lg->url);
	if (ctng_ca_submission(d->ca, rid, &body, &err) ||
	    ctng_net_post_json(d->loop, url, body, 0, on_sct, c, &err)) {
		CTNG_WARN("cannot submit", "logger=%s rid=%u error=\"%s\"", lg->id, rid, err.msg);
		free(c);
	}
	json_decref(body);
}

static void submit_all_loggers(ca_daemon *d, uint32_t rid)
{
	size_t n = ctng_network_count(&d->cfg->net, CTNG_ROLE_LOGGER);
	for (size_t i = 0; i < n; i++)
		submit(d, ctng_network_nth(&d->cfg->net, CTNG_ROLE_LOGGER, i), rid);
}

static void resubmit_missing(ca_daemon *d)
{
	size_t n = ctng_network_count(&d->cfg->net, CTNG_ROLE_LOGGER);
	for (size_t i = 0; i < n; i++) {
		const ctng_entity *lg = ctng_network_nth(&d->cfg->net, CTNG_ROLE_LOGGER, i);
		uint32_t *rids = NULL;
		size_t k = 0;
		ctng_err err = {0};
		if (ctng_ca_need_submit(d->ca, lg->id, &rids, &k, &err)) {
			CTNG_WARN("need_submit failed", "error=\"%s\"", err.msg);
			continue;
		}
		for (size_t j = 0; j < k; j++)
			submit(d, lg, rids[j]);
		free(rids);
	}
}

static void issue(ca_daemon *d, uint64_t period)
{
	ctng_err err = {0};
	size_t n = 0;
	if (ctng_ca_issue_ready(d->ca, period, &n, &err))
		CTNG_ERROR("issuance failed", "period=%llu error=\"%s\"",
		           (unsigned long long)period, err.msg);
	ca_metrics_issued(&d->mx, period, n);
}

/* Records every proof of the round in one transaction, then issues. Proofs
 * can be fetched again, so a crash before the commit loses nothing. */
static void end_round(ca_daemon *d, uint64_t period)
{
	ctng_err err = {0};
	bool tx = d->n_got && ctng_ca_batch_begin(d->ca, &err) == 0;
	for (size_t i = 0; i < d->n_got; i++) {
		struct got_proof *g = &d->got[i];
		if (ctng_ca_record_proof(d->ca, g->rid, g->logger, period, g->reply, &err))
			CTNG_WARN("bad proof", "logger=%s rid=%u error=\"%s\"", g->logger, g->rid,
			          err.msg);
		json_decref(g->reply);
	}
	d->n_got = 0;
	if (tx && ctng_ca_batch_commit(d->ca, &err)) {
		CTNG_ERROR("storing proofs failed", "error=\"%s\"", err.msg);
		ctng_ca_batch_rollback(d->ca);
	}
	issue(d, period);
}

static void on_proof(int status, const uint8_t *body, size_t len, const ctng_err *terr, void *arg)
{
	ca_call *c = arg;
	ca_daemon *d = c->d;
	ctng_err err = {0};
	json_t *j = NULL;
	ctng_net_metrics_peer(&d->mx.net, c->logger, status, terr, c->t0);
	if (terr)
		CTNG_DEBUG("proof fetch failed", "logger=%s rid=%u error=\"%s\"", c->logger, c->rid,
		           terr->msg);
	else if (status != 200)
		CTNG_DEBUG("proof not available", "logger=%s rid=%u status=%d", c->logger, c->rid,
		           status);
	else if (ctng_net_parse_json(body, len, 1u << 20, &j, &err))
		CTNG_WARN("bad proof reply", "logger=%s rid=%u error=\"%s\"", c->logger, c->rid,
		          err.msg);
	ctng_counter_inc(d->mx.proofs, CTNG_LABELS(c->logger, terr            ? "failed"
	                                                      : status != 200 ? "unavailable"
	                                                      : j             ? "ok"
	                                                                      : "bad"));
	if (j) {
		if (d->n_got == d->cap_got) {
			size_t cap = d->cap_got ? 2 * d->cap_got : 64;
			struct got_proof *g = realloc(d->got, cap * sizeof(*g));
			if (g) {
				d->got = g;
				d->cap_got = cap;
			}
		}
		if (d->n_got < d->cap_got) {
			struct got_proof *g = &d->got[d->n_got++];
			g->rid = c->rid;
			strcpy(g->logger, c->logger);
			g->reply = j;
			j = NULL;
		}
		json_decref(j);
	}
	uint64_t p = c->period;
	free(c);
	if (d->inflight > 0 && --d->inflight == 0 && !d->stopping)
		end_round(d, p);
}

/* Percent-encodes base64 for a query string. */
static void b64_query(char *out, const uint8_t h[32])
{
	char b[64];
	ctng_b64_encode(b, h, 32);
	size_t o = 0;
	for (const char *p = b; *p; p++) {
		if (*p == '+' || *p == '/' || *p == '=')
			o += (size_t)sprintf(out + o, "%%%02X", (unsigned char)*p);
		else
			out[o++] = *p;
	}
	out[o] = 0;
}

static void fetch_proofs(ca_daemon *d, uint64_t period)
{
	size_t n = ctng_network_count(&d->cfg->net, CTNG_ROLE_LOGGER);
	d->fetch_period = period;
	for (size_t i = 0; i < n; i++) {
		const ctng_entity *lg = ctng_network_nth(&d->cfg->net, CTNG_ROLE_LOGGER, i);
		uint32_t *rids = NULL;
		size_t k = 0;
		ctng_err err = {0};
		if (ctng_ca_need_proof(d->ca, lg->id, period, &rids, &k, &err)) {
			CTNG_WARN("need_proof failed", "error=\"%s\"", err.msg);
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			uint8_t h[32];
			char q[128], url[CTNG_URL_MAX + 200];
			if (ctng_ca_leaf_hash(d->ca, rids[j], lg->id, h, &err))
				continue;
			b64_query(q, h);
			snprintf(url, sizeof(url), "%s/ctng/v1/proof?period=%llu&hash=%s", lg->url,
			         (unsigned long long)period, q);
			ca_call *c = calloc(1, sizeof(*c));
			if (!c)
				break;
			c->d = d;
			c->rid = rids[j];
			c->period = period;
			c->t0 = ctng_mono_ns();
			strcpy(c->logger, lg->id);
			if (ctng_net_get(d->loop, url, 0, on_proof, c, &err)) {
				free(c);
				continue;
			}
			d->inflight++;
		}
		free(rids);
	}
	if (d->inflight == 0)
		issue(d, period);
}

static void on_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	ca_daemon *d = arg;
	bool ok;
	uint64_t p = cur_period(d, &ok);
	if (ok && (!d->have_period || p != d->period)) {
		ctng_err err = {0};
		if (ctng_ca_publish_rev(d->ca, p, ctng_now_ms(), &err))
			CTNG_ERROR("REV failed", "period=%llu error=\"%s\"", (unsigned long long)p,
			           err.msg);
		else
			ca_metrics_rev(&d->mx, p);
		d->have_period = true;
		d->period = p;
		resubmit_missing(d);
	}
	/* Loggers publish STH(p) at p's start; retry until every proof is in. */
	if (ok && d->inflight == 0)
		fetch_proofs(d, p);
	const ctng_clock *c = &d->cfg->net.clock;
	uint64_t step = c->period_ms / 10 ? c->period_ms / 10 : 1;
	uint64_t until = ctng_clock_ms_until_next(c, ctng_now_ms());
	ctng_net_timer_start(d->timer, until < step ? until + 5 : step, 0, NULL);
}

/* ------------------------------------------------------------ handlers */

static void h_request(ctng_net_req *req, void *arg)
{
	ca_daemon *d = arg;
	ctng_err err = {0};
	json_t *body = NULL, *reply = NULL;
	if (ctng_net_req_json(req, &body, &err) ||
	    ctng_ca_request_json(d->ca, body, ctng_now_ms(), &reply, &err)) {
		json_decref(body);
		ctng_net_reply_err(req, &err);
		return;
	}
	json_decref(body);
	uint32_t rid = (uint32_t)json_integer_value(json_object_get(reply, "rid"));
	ctng_net_reply_json(req, 200, reply);
	submit_all_loggers(d, rid);
}

static void h_status(ctng_net_req *req, void *arg)
{
	ca_daemon *d = arg;
	ctng_err err = {0};
	json_t *reply = NULL;
	const char *h = ctng_net_req_path(req) + strlen("/ctng/v1/certificates/");
	if (ctng_ca_status_json(d->ca, h, &reply, &err))
		ctng_net_reply_err(req, &err);
	else
		ctng_net_reply_json(req, 200, reply);
}

static void h_revoke(ctng_net_req *req, void *arg)
{
	ca_daemon *d = arg;
	ctng_err err = {0};
	json_t *body = NULL, *reply = NULL;
	if (ctng_net_req_json(req, &body, &err) ||
	    ctng_ca_revoke_json(d->ca, body, ctng_now_ms(), &reply, &err))
		ctng_net_reply_err(req, &err);
	else
		ctng_net_reply_json(req, 200, reply);
	json_decref(body);
}

static void h_rev(ctng_net_req *req, void *arg)
{
	ca_daemon *d = arg;
	ctng_err err = {0};
	uint64_t p;
	bool ok;
	uint64_t now_p = cur_period(d, &ok);
	if (d->silent || (d->answer_mod && ok && now_p % d->answer_mod != 0))
		return; /* test-only misbehaviour: never answer (503 at shutdown) */
	if (ctng_net_req_query_u64(req, "period", (1ull << 62) - 1, &p, &err)) {
		ctng_net_reply_err(req, &err);
		return;
	}
	const char *mon = ctng_net_req_query(req, "monitor");
	if (mon && !ctng_id_valid(mon)) {
		ctng_net_reply_error(req, 400, "monitor: not a valid entity id");
		return;
	}
	ctng_gossip_object o = {0};
	json_t *j = NULL;
	if (ctng_ca_get_rev(d->ca, p, mon, &o, &err) || ctng_gossip_to_json(&o, &j, &err))
		ctng_net_reply_err(req, &err);
	else
		ctng_net_reply_json(req, 200, j);
	ctng_gossip_clear(&o);
}

static void h_crv(ctng_net_req *req, void *arg)
{
	ca_daemon *d = arg;
	ctng_err err = {0};
	uint64_t p;
	roaring_bitmap_t *crv = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;
	if (ctng_net_req_query_u64(req, "period", (1ull << 62) - 1, &p, &err) ||
	    ctng_ca_crv(d->ca, p, &crv, &err) || ctng_crv_delta_encode(crv, &bytes, &len, &err)) {
		ctng_net_reply_err(req, &err);
	} else {
		char *b64 = ctng_b64_strdup(bytes, len);
		char ps[24];
		snprintf(ps, sizeof(ps), "%llu", (unsigned long long)p);
		json_t *j =
		    b64 ? json_pack("{s:s,s:s,s:s}", "period", ps, "ca", d->ca->id, "crv", b64)
		        : NULL;
		free(b64);
		if (j)
			ctng_net_reply_json(req, 200, j);
		else
			ctng_net_reply_error(req, 500, "out of memory");
	}
	free(bytes);
	if (crv)
		roaring_bitmap_free(crv);
}

static void h_info(ctng_net_req *req, void *arg)
{
	ca_daemon *d = arg;
	json_t *j = json_pack("{s:s,s:s}", "ca", d->ca->id, "root", d->cfg->self->root_cert_pem);
	if (j)
		ctng_net_reply_json(req, 200, j);
	else
		ctng_net_reply_error(req, 500, "out of memory");
}

static const struct {
	const char *method, *path;
	ctng_net_handler fn;
} routes[] = {
    {"POST", "/ctng/v1/certificates", h_request},
    {"GET", "/ctng/v1/certificates/*", h_status},
    {"POST", "/ctng/v1/revocations", h_revoke},
    {"GET", "/ctng/v1/rev", h_rev},
    {"GET", "/ctng/v1/crv", h_crv},
    {"GET", "/ctng/v1/info", h_info},
};

/* -------------------------------------------------------------- running */

int ctng_ca_daemon_run(const ctng_node_config *cfg, ctng_err *err)
{
	if (!cfg->self || cfg->self->role != CTNG_ROLE_CA || !cfg->key || !cfg->self->root_cert_pem)
		return ctng_err_set(err, CTNG_EINVAL, "this configuration is not a CA's");
	char host[CTNG_HOST_MAX];
	uint16_t port = 0;
	int rc = ctng_node_config_listen(cfg, host, &port, err);
	if (rc || (rc = ctng_mkdir_p(cfg->data_dir, 0700, err)))
		return rc;
	char *db = NULL;
	if (asprintf(&db, "%s/ca.db", cfg->data_dir) < 0)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	ca_daemon d = {.cfg = cfg};
	const ctng_misbehaviour *m = &cfg->misbehaviour;
	if (m->present) {
		d.silent = m->silent;
		d.answer_mod = m->answer_periods_mod;
	}
	ctng_ca_opts o = {.id = cfg->id,
	                  .key = cfg->key,
	                  .root_pem = cfg->self->root_cert_pem,
	                  .net = &cfg->net,
	                  .db_path = db,
	                  .mis = m};
	if ((rc = ctng_ca_open(&o, &d.ca, err)))
		goto out;
	ctng_net_server_opts so = cfg->server;
	so.max_body = CA_MAX_BODY;
	if (!(d.loop = ctng_net_loop_new(err)) ||
	    !(d.srv = ctng_net_server_new_opts(d.loop, &so, err)) ||
	    !(d.timer = ctng_net_timer_new(d.loop, on_timer, &d, err))) {
		rc = err && err->code ? err->code : CTNG_EIO;
		goto out;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rc; i++)
		rc = ctng_net_server_route(d.srv, routes[i].method, routes[i].path, routes[i].fn,
		                           &d, err);
	if (rc || (rc = ca_metrics_init(&d.mx, d.srv, d.ca, cfg, err)) ||
	    (rc = ctng_net_server_bind(d.srv, host, port, NULL, err)) ||
	    (rc = ctng_net_loop_catch_signals(d.loop, NULL, NULL, err)) ||
	    (rc = ctng_net_timer_start(d.timer, 0, 0, err)))
		goto out;
	CTNG_INFO("CA listening", "addr=%s:%u loggers=%zu", host, (unsigned)port,
	          ctng_network_count(&cfg->net, CTNG_ROLE_LOGGER));
	rc = ctng_net_loop_run(d.loop, err);
out:
	d.stopping = true; /* callbacks run by loop_free do no more work */
	ctng_net_timer_free(d.timer);
	if (d.srv)
		ctng_net_server_free(d.srv);
	if (d.loop)
		ctng_net_loop_free(d.loop);
	ctng_net_metrics_free(&d.mx.net);
	for (size_t i = 0; i < d.n_got; i++)
		json_decref(d.got[i].reply);
	free(d.got);
	ctng_ca_close(d.ca);
	free(db);
	return rc;
}
