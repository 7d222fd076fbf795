/*
 * daemon.c — `ctng logger`: one libevent loop (ctng_net) serving the logger's
 * HTTP API (docs/logger.md) over a ctng_logger: the read endpoints, a timer
 * that publishes the STH at each period start, the test-only misbehaviours
 * (silent, answer only some periods), and the daemon's lifecycle. The
 * submission pipeline is daemon_submit.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logger/daemon_internal.h"

/* -------------------------------------------------------------- helpers */

void lgd_reply_json(ctng_net_req *req, int rc, json_t *j, const ctng_err *e)
{
	if (rc)
		ctng_net_reply_err(req, e);
	else
		ctng_net_reply_json(req, 200, j);
}

/* Base64 from a query string where a client may have left '+' unescaped
 * (it decodes to ' '): map spaces back to '+'. */
static int query_hash(ctng_net_req *req, const char *name, uint8_t out[32], ctng_err *err)
{
	const char *v;
	int rc = ctng_net_req_query_required(req, name, &v, err);
	if (rc)
		return rc;
	char buf[64];
	size_t n = strlen(v);
	if (n >= sizeof buf)
		return ctng_err_set(err, CTNG_EINVAL, "%s: not a base64 SHA-256 hash", name);
	for (size_t i = 0; i <= n; i++)
		buf[i] = v[i] == ' ' ? '+' : v[i];
	if (ctng_b64_decode_exact(out, 32, buf, err))
		return ctng_err_set(err, CTNG_EINVAL, "%s: not a base64 SHA-256 hash", name);
	return 0;
}

/* --------------------------------------------------------------- RFC 6962 */

static void h_get_sth(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc = ctng_logger_get_sth(d->lg, &j, &e);
	lgd_reply_json(req, rc, j, &e);
}

static void h_consistency(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	uint64_t a = 0, b = 0;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc;
	if (!(rc = ctng_net_req_query_u64(req, "first", INT64_MAX, &a, &e)) &&
	    !(rc = ctng_net_req_query_u64(req, "second", INT64_MAX, &b, &e)))
		rc = ctng_logger_get_sth_consistency(d->lg, a, b, &j, &e);
	if (rc == CTNG_ERANGE)
		e.code = CTNG_EINVAL; /* a 400, not a 413 */
	lgd_reply_json(req, rc, j, &e);
}

static void h_proof_by_hash(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	uint8_t h[32];
	uint64_t size = 0;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc;
	if (!(rc = query_hash(req, "hash", h, &e)) &&
	    !(rc = ctng_net_req_query_u64(req, "tree_size", INT64_MAX, &size, &e)))
		rc = ctng_logger_get_proof_by_hash(d->lg, h, size, &j, &e);
	if (rc == CTNG_ERANGE)
		e.code = CTNG_EINVAL;
	lgd_reply_json(req, rc, j, &e);
}

static void h_entries(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	uint64_t a = 0, b = 0;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc;
	if (!(rc = ctng_net_req_query_u64(req, "start", INT64_MAX, &a, &e)) &&
	    !(rc = ctng_net_req_query_u64(req, "end", INT64_MAX, &b, &e)))
		rc = ctng_logger_get_entries(d->lg, a, b, &j, &e);
	if (rc == CTNG_ERANGE)
		e.code = CTNG_EINVAL;
	lgd_reply_json(req, rc, j, &e);
}

static void h_entry_and_proof(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	uint64_t a = 0, b = 0;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc;
	if (!(rc = ctng_net_req_query_u64(req, "leaf_index", INT64_MAX, &a, &e)) &&
	    !(rc = ctng_net_req_query_u64(req, "tree_size", INT64_MAX, &b, &e)))
		rc = ctng_logger_get_entry_and_proof(d->lg, a, b, &j, &e);
	if (rc == CTNG_ERANGE)
		e.code = CTNG_EINVAL;
	lgd_reply_json(req, rc, j, &e);
}

static void h_roots(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc = ctng_logger_get_roots(d->lg, &j, &e);
	lgd_reply_json(req, rc, j, &e);
}

/* ------------------------------------------------------------------- C2SP */

static void h_checkpoint(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	char *text = NULL;
	size_t len = 0;
	ctng_err e = {0};
	if (ctng_logger_checkpoint(d->lg, &text, &len, &e)) {
		ctng_net_reply_err(req, &e);
		return;
	}
	static const char *const hdr[] = {"Cache-Control", "no-cache", NULL};
	ctng_net_reply_bytes(req, 200, "text/plain; charset=utf-8", text, len, hdr);
	free(text);
}

static void h_tile(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	const char *path = ctng_net_req_path(req);
	uint8_t *data = NULL;
	size_t len = 0;
	ctng_err e = {0};
	uint64_t n = 0;
	unsigned level = 0, width = 0;
	int rc;
	if (!strncmp(path, "/tile/data/", 11)) {
		if (!(rc = ctng_merkle_tile_index_parse(path + 11, &n, &width, &e)))
			rc = ctng_logger_data_tile(d->lg, n, width, &data, &len, &e);
	} else {
		if (!(rc = ctng_merkle_tile_path_parse(path + 1, &level, &n, &width, &e)))
			rc = ctng_logger_tile(d->lg, level, n, width, &data, &len, &e);
	}
	if (rc) {
		ctng_net_reply_err(req, &e);
		return;
	}
	ctng_net_reply_tile(req, data, len, width == CTNG_MERKLE_TILE_WIDTH);
	free(data);
}

static void h_issuer(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	const char *hex = ctng_net_req_path(req) + strlen("/issuer/");
	uint8_t fp[32], *der = NULL;
	size_t len = 0;
	ctng_err e = {0};
	int rc = 0;
	for (const char *c = hex; *c && !rc; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			rc = ctng_err_set(&e, CTNG_EINVAL,
			                  "issuer fingerprint must be lower-case hex");
	if (!rc && ctng_hex_decode_exact(fp, 32, hex, &e))
		rc = ctng_err_set(&e, CTNG_EINVAL, "issuer fingerprint must be 64 hex digits");
	if (!rc)
		rc = ctng_logger_issuer(d->lg, fp, &der, &len, &e);
	if (rc) {
		ctng_net_reply_err(req, &e);
		return;
	}
	static const char *const hdr[] = {"Cache-Control", "public, max-age=31536000, immutable",
	                                  NULL};
	ctng_net_reply_bytes(req, 200, "application/pkix-cert", der, len, hdr);
	free(der);
}

/* ------------------------------------------------------------------- CTng */

/* Test-only silence: keep the request unanswered (the peer times out). At
 * most CTNG_LOGGER_MAX_HELD are kept; beyond that the oldest gets a 503. */
static void hold(ctng_logger_daemon *d, ctng_net_req *req)
{
	if (d->n_held == CTNG_LOGGER_MAX_HELD) {
		ctng_net_reply_error(d->held[0], 503, "dropped");
		memmove(d->held, d->held + 1, (CTNG_LOGGER_MAX_HELD - 1) * sizeof(d->held[0]));
		d->n_held--;
	}
	d->held[d->n_held++] = req;
}

/* Parses period; returns false if the request was answered or held. */
static bool ctng_gate(ctng_logger_daemon *d, ctng_net_req *req, uint64_t *period)
{
	ctng_err e = {0};
	if (!ctng_logger_answers(d->lg, 0) && !ctng_logger_answers(d->lg, 1)) {
		hold(d, req); /* silent: whatever the request */
		return false;
	}
	if (ctng_net_req_query_u64(req, "period", INT64_MAX, period, &e)) {
		ctng_net_reply_err(req, &e);
		return false;
	}
	if (!ctng_logger_answers(d->lg, *period)) {
		hold(d, req);
		return false;
	}
	return true;
}

static void h_ctng_sth(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	uint64_t p = 0;
	if (!ctng_gate(d, req, &p))
		return;
	const char *monitor = ctng_net_req_query(req, "monitor");
	ctng_gossip_object o = {0};
	json_t *j = NULL;
	ctng_err e = {0};
	int rc = ctng_logger_sth_object(d->lg, p, monitor, &o, &e);
	if (!rc)
		rc = ctng_gossip_to_json(&o, &j, &e);
	ctng_gossip_clear(&o);
	lgd_reply_json(req, rc, j, &e);
}

static void h_ctng_proof(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	uint64_t p = 0;
	if (!ctng_gate(d, req, &p))
		return;
	uint8_t h[32];
	json_t *j = NULL;
	ctng_err e = {0};
	int rc = query_hash(req, "hash", h, &e);
	if (!rc)
		rc = ctng_logger_period_proof(d->lg, p, h, &j, &e);
	lgd_reply_json(req, rc, j, &e);
}

static void h_tile_roots(ctng_net_req *req, void *arg)
{
	ctng_logger_daemon *d = arg;
	if (!ctng_logger_answers(d->lg, 0) && !ctng_logger_answers(d->lg, 1)) {
		hold(d, req); /* silent */
		return;
	}
	uint64_t size = 0, first = 0, count = 0;
	json_t *j = NULL;
	ctng_err e = {0};
	int rc;
	if (!(rc = ctng_net_req_query_u64(req, "tree_size", INT64_MAX, &size, &e)) &&
	    !(rc = ctng_net_req_query_u64(req, "first", INT64_MAX, &first, &e)) &&
	    !(rc = ctng_net_req_query_u64(req, "count", CTNG_TILE_ROOTS_MAX, &count, &e)))
		rc = ctng_logger_tile_roots(d->lg, size, first, (uint32_t)count, &j, &e);
	lgd_reply_json(req, rc, j, &e);
}

/* ------------------------------------------------------------------ timer */

void lgd_publish(ctng_logger_daemon *d)
{
	ctng_err e = {0};
	uint64_t now = ctng_now_ms();
	uint64_t delay, t0 = ctng_mono_ns();
	bool published = false;
	d->tick_due = false;
	if (ctng_logger_tick(d->lg, now, &published, &e)) {
		CTNG_ERROR("cannot publish the STH", "err=\"%s\"", e.msg);
		delay = 200; /* retry soon */
	} else {
		if (published)
			logger_metrics_published(&d->mx, t0);
		delay = ctng_logger_next_tick_ms(d->lg, ctng_now_ms()) + 1;
	}
	if (ctng_net_timer_start(d->timer, delay, 0, &e))
		CTNG_ERROR("cannot arm the period timer", "err=\"%s\"", e.msg);
}

static void on_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	ctng_logger_daemon *d = arg;
	/* Not between sequencing and storing a batch: entries stamped before
	 * the period start would miss its STH. The batch's end publishes. */
	if (d->in_flight)
		d->tick_due = true;
	else
		lgd_publish(d);
}

/* -------------------------------------------------------------- lifecycle */

static const struct {
	const char *method, *path;
	ctng_net_handler fn;
} routes[] = {
    {"POST", "/ct/v1/add-chain", lgd_h_add_chain},
    {"POST", "/ct/v1/add-pre-chain", lgd_h_add_pre_chain},
    {"GET", "/ct/v1/get-sth", h_get_sth},
    {"GET", "/ct/v1/get-sth-consistency", h_consistency},
    {"GET", "/ct/v1/get-proof-by-hash", h_proof_by_hash},
    {"GET", "/ct/v1/get-entries", h_entries},
    {"GET", "/ct/v1/get-entry-and-proof", h_entry_and_proof},
    {"GET", "/ct/v1/get-roots", h_roots},
    {"GET", "/checkpoint", h_checkpoint},
    {"GET", "/tile/*", h_tile},
    {"GET", "/issuer/*", h_issuer},
    {"GET", "/ctng/v1/sth", h_ctng_sth},
    {"GET", "/ctng/v1/proof", h_ctng_proof},
    {"GET", "/ctng/v1/tile-roots", h_tile_roots},
};

int ctng_logger_daemon_new(const ctng_logger_daemon_opts *opts, ctng_logger_daemon **out,
                           ctng_err *err)
{
	*out = NULL;
	if (opts->workers > MAX_WORKERS)
		return ctng_err_set(err, CTNG_EINVAL, "at most %d workers", MAX_WORKERS);
	ctng_logger_daemon *d = calloc(1, sizeof(*d));
	if (!d)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	int rc = 0;
	ctng_net_server_opts so = opts->server ? *opts->server : (ctng_net_server_opts){0};
	so.max_body = CTNG_LOGGER_MAX_BODY;
	if (!(d->store = ctng_store_open(opts->db_path, err)) ||
	    (rc = ctng_logger_open(d->store, &opts->params, &d->lg, err)) ||
	    (rc = ctng_logger_tick(d->lg, ctng_now_ms(), NULL, err)) ||
	    !(d->loop = ctng_net_loop_new(err)) ||
	    !(d->srv = ctng_net_server_new_opts(d->loop, &so, err)) ||
	    !(d->timer = ctng_net_timer_new(d->loop, on_timer, d, err)))
		goto fail;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if ((rc = ctng_net_server_route(d->srv, routes[i].method, routes[i].path,
		                                routes[i].fn, d, err)))
			goto fail;
	if ((rc = logger_metrics_init(&d->mx, d->srv, d->store, d->lg, opts->params.id,
	                              &opts->params.clock, err)))
		goto fail;
	if ((rc = ctng_net_server_bind(d->srv, opts->host ? opts->host : "127.0.0.1", opts->port,
	                               &d->port, err)) ||
	    (opts->catch_signals && (rc = ctng_net_loop_catch_signals(d->loop, NULL, NULL, err))) ||
	    (rc = ctng_net_timer_start(d->timer, ctng_logger_next_tick_ms(d->lg, ctng_now_ms()) + 1,
	                               0, err)))
		goto fail;
	if ((rc = lgd_pipeline_start(d, opts->db_path, opts->workers, err)))
		goto fail;
	*out = d;
	return 0;
fail:
	if (!rc)
		rc = err && err->code ? err->code : CTNG_EIO;
	ctng_logger_daemon_free(d);
	return rc;
}

int ctng_logger_daemon_from_config(const ctng_node_config *cfg, bool catch_signals,
                                   ctng_logger_daemon **out, ctng_err *err)
{
	*out = NULL;
	if (!cfg->self || cfg->self->role != CTNG_ROLE_LOGGER)
		return ctng_err_set(err, CTNG_EINVAL, "this configuration is not a logger's");
	char host[CTNG_HOST_MAX];
	uint16_t port = 0;
	int rc = ctng_node_config_listen(cfg, host, &port, err);
	if (rc || (rc = ctng_mkdir_p(cfg->data_dir, 0700, err)))
		return rc;
	size_t n = ctng_network_count(&cfg->net, CTNG_ROLE_CA);
	const char **pems = calloc(n ? n : 1, sizeof(*pems));
	char *db = NULL;
	if (!pems || asprintf(&db, "%s/logger.db", cfg->data_dir) < 0) {
		free(pems);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const ctng_entity *ca = ctng_network_nth(&cfg->net, CTNG_ROLE_CA, i);
		if (ca && ca->root_cert_pem)
			pems[k++] = ca->root_cert_pem;
	}
	const char *origin = ctng_entity_origin(cfg->self);
	ctng_logger_daemon_opts o = {
	    .db_path = db,
	    .host = host,
	    .port = port,
	    .params = {.id = cfg->id,
	               .origin = origin,
	               .key = cfg->key,
	               .clock = cfg->net.clock,
	               .root_pems = pems,
	               .n_roots = k,
	               .mis = &cfg->misbehaviour,
	               .note_key = cfg->note_key},
	    .catch_signals = catch_signals,
	    .workers = 2,
	    .server = &cfg->server,
	};
	rc = ctng_logger_daemon_new(&o, out, err);
	free(pems);
	free(db);
	return rc;
}

uint16_t ctng_logger_daemon_port(const ctng_logger_daemon *d)
{
	return d->port;
}

ctng_logger *ctng_logger_daemon_logger(ctng_logger_daemon *d)
{
	return d->lg;
}

int ctng_logger_daemon_run(ctng_logger_daemon *d, ctng_err *err)
{
	return ctng_net_loop_run(d->loop, err);
}

void ctng_logger_daemon_stop(ctng_logger_daemon *d)
{
	ctng_net_loop_stop(d->loop);
}

void ctng_logger_daemon_free(ctng_logger_daemon *d)
{
	if (!d)
		return;
	lgd_pipeline_stop(d);
	ctng_net_timer_free(d->timer);
	/* Answers 503 to every request still pending (batch and held ones). */
	if (d->srv)
		ctng_net_server_free(d->srv);
	lgd_pipeline_free(d);
	if (d->loop)
		ctng_net_loop_free(d->loop);
	ctng_net_metrics_free(&d->mx.net);
	ctng_logger_free(d->lg);
	ctng_store_close(d->store);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d);
}
