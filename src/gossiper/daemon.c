/*
 * daemon.c — `ctng gossiper`: one libevent loop (ctng_net) owning the
 * gossiper state machine. Serves POST /ctng/v1/gossip, GET /ctng/v1/counts
 * and GET /ctng/v1/objects, pushes objects to peers and the paired monitor
 * with deadlines and a per-destination cap on requests in flight, drives the
 * state machine's timers and the period clock, persists what must survive a
 * restart in SQLite (gossiper.db), pulls the current periods from its peers
 * when it starts (catch-up), and writes GossipStorage.json and
 * CONFLICT_POM_<entity>.json into the node's data folder. A gossiper whose
 * network has no group key yet first runs the DKG (src/dkg, docs/dkg.md)
 * on the same server, then gossips with the key it made; its share lives in
 * gossiper.db (table dkg_shares).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctng/dkg.h"
#include "ctng/gossiper.h"
#include "ctng/net.h"
#include "ctng/store.h"
#include "ctng/wire.h"
#include "gossiper/gossiper_internal.h"

#include <openssl/evp.h>

/* Requests and body bytes in flight per destination; beyond either a send is
 * dropped (counted), so a slow or dead peer bounds the memory it can hold. */
#define MAX_INFLIGHT       256
#define MAX_INFLIGHT_BYTES (64u << 20)
#define FROM_HEADER        "X-CTng-From"
/* Observations of the paired monitor are kept in the gossip_objects table
 * under this pseudo type (never a gossip type URI), so they are restored and
 * deleted by period like everything else. */
#define OBS_TYPE_URI "ctng:observation"

struct dest {
	char id[CTNG_ID_MAX + 1];
	char base[CTNG_URL_MAX]; /* http://host:port */
	char url[CTNG_URL_MAX + 32];
	size_t inflight, inflight_bytes;
	uint64_t sent, failed, dropped;
};

/* Bytes received (POST bodies) and sent (push bodies) during one period. */
struct bytes_slot {
	bool used;
	uint64_t period, in, out;
};

struct gd {
	const ctng_node_config *cfg;
	const ctng_network *net;
	ctng_gossiper_sm *sm;
	ctng_net_loop *loop;
	ctng_net_server *srv;
	ctng_net_timer *sm_timer, *period_timer, *flush_timer;
	ctng_store *st;
	struct dest *peers;
	size_t n_peers;
	struct dest *others; /* every gossiper by entity index (SEND_GOSSIPER), set at first use */
	struct dest monitor;
	bool has_monitor;
	ctng_gossiper_actions acts;
	json_t *report; /* GossipStorage.json contents */
	bool dirty;
	char *report_path;
	uint64_t timeout_ms;
	uint64_t bytes_in, bytes_out; /* totals */
	/* the DKG, when the network has no group key yet */
	ctng_dkg_node *dkg;
	ctng_network keyed; /* the network with the DKG's keys */
	bool has_keyed, dkg_failed;
	uint8_t share[32];
	struct bytes_slot bytes[CTNG_GOSSIPER_COUNT_HISTORY];
	uint64_t store_log_ms; /* last "cannot persist" line (rate limit) */
	gossiper_metrics mx; /* GET /metrics */
	int in_type;         /* what run_actions' batch answers (gossiper_metrics_stored) */
};

struct send_ctx {
	struct gd *g;
	struct dest *d;
	size_t len;
	uint64_t t0;
};

static struct bytes_slot *bytes_at(struct gd *g, uint64_t p, bool create)
{
	struct bytes_slot *b = &g->bytes[p % CTNG_GOSSIPER_COUNT_HISTORY];
	if (!b->used || b->period != p) {
		if (!create)
			return NULL;
		memset(b, 0, sizeof(*b));
		b->used = true;
		b->period = p;
	}
	return b;
}

static void count_bytes(struct gd *g, size_t in, size_t out)
{
	uint64_t p = 0;
	if (!ctng_clock_period_of(&g->net->clock, ctng_now_ms(), &p))
		p = 0;
	struct bytes_slot *b = bytes_at(g, p, true);
	b->in += in;
	b->out += out;
	g->bytes_in += in;
	g->bytes_out += out;
	ctng_counter_add(g->mx.bytes, CTNG_LABELS("in"), (double)in);
	ctng_counter_add(g->mx.bytes, CTNG_LABELS("out"), (double)out);
}

static json_t *bytes_json(struct gd *g, uint64_t p)
{
	struct bytes_slot *b = bytes_at(g, p, false);
	return json_pack("{s:I, s:I}", "in", (json_int_t)(b ? b->in : 0), "out",
	                 (json_int_t)(b ? b->out : 0));
}

static const char *status_name(int rc)
{
	return rc == CTNG_GOSSIPER_NEW         ? "new"
	       : rc == CTNG_GOSSIPER_DUPLICATE ? "duplicate"
	       : rc == CTNG_GOSSIPER_PENDING   ? "pending"
	                                       : "ignored";
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* --------------------------------------------------------------- report */

static json_t *counts_json(const uint64_t c[CTNG_TYPE_COUNT])
{
	json_t *o = json_object();
	for (int i = 0; o && i < CTNG_TYPE_COUNT; i++)
		json_object_set_new(o, ctng_type_name(ctng_all_types[i]),
		                    json_integer((json_int_t)c[i]));
	return o;
}

static void report_update(struct gd *g, uint64_t p)
{
	uint64_t c[CTNG_TYPE_COUNT];
	if (!ctng_gossiper_sm_counts(g->sm, p, c))
		return;
	char key[24];
	snprintf(key, sizeof key, "%llu", (unsigned long long)p);
	json_t *e = json_object();
	if (!e)
		return;
	json_object_set_new(e, "Gossiper", json_string(g->cfg->id));
	json_object_set_new(e, "Gossiper_URL", json_string(g->cfg->self->url));
	json_object_set_new(e, "Period", json_string(key));
	json_object_set_new(e, "counts", counts_json(c));
	json_object_set_new(e, "bytes", bytes_json(g, p));
	json_object_set_new(g->report, key, e);
}

static void report_flush(struct gd *g)
{
	uint64_t cur = ctng_gossiper_sm_period(g->sm);
	for (uint64_t p = cur > 2 ? cur - 2 : 0; p <= cur + 1; p++)
		report_update(g, p);
	char *txt = json_dumps(g->report, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!txt)
		return;
	ctng_err err = {0};
	if (ctng_write_file_atomic(g->report_path, txt, strlen(txt), 0644, &err) &&
	    ctng_gossiper_sm_signing(g->sm)) /* else already said (rate-limited) */
		CTNG_WARN("cannot write GossipStorage.json", "err=\"%s\"", err.msg);
	free(txt);
	g->dirty = false;
}

static void report_load(struct gd *g)
{
	uint8_t *data = NULL;
	size_t len = 0;
	g->report = NULL;
	if (ctng_read_file(g->report_path, 64u << 20, &data, &len, NULL) == 0) {
		json_t *j = NULL;
		ctng_err err = {0};
		if (ctng_net_parse_json(data, len, 0, &j, &err) == 0 && json_is_object(j))
			g->report = j;
		else {
			json_decref(j);
			CTNG_WARN("ignoring unreadable GossipStorage.json", "err=\"%s\"", err.msg);
		}
		free(data);
	}
	if (!g->report)
		g->report = json_object();
}

static void write_pom(struct gd *g, const ctng_gossip_object *o)
{
	char name[CTNG_ID_MAX + 32];
	snprintf(name, sizeof name, "CONFLICT_POM_%s.json", ctng_gossip_str(o->payload[0]));
	char *path = path_join(g->cfg->data_dir, name);
	json_t *j = NULL;
	struct stat sb;
	if (path && stat(path, &sb) != 0 && ctng_gossip_to_json(o, &j, NULL) == 0) {
		char *txt = json_dumps(j, JSON_INDENT(2));
		if (txt && ctng_write_file_atomic(path, txt, strlen(txt), 0644, NULL) == 0)
			CTNG_INFO("proof of misbehaviour written", "file=%s", name);
		free(txt);
	}
	json_decref(j);
	free(path);
}

/* ------------------------------------------------------------- sending */

static void on_sent(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct send_ctx *c = arg;
	(void)body;
	(void)len;
	c->d->inflight--;
	c->d->inflight_bytes -= c->len;
	ctng_net_metrics_peer(&c->g->mx.net, c->d->id, status, err, c->t0);
	if (err || status != 200) {
		c->d->failed++;
		CTNG_DEBUG("push failed", "to=%s status=%d err=\"%s\"", c->d->id, status,
		           err ? err->msg : (const char *)body);
	}
	free(c);
}

static void send_to(struct gd *g, struct dest *d, const uint8_t *body, size_t len,
                    const char *ctype)
{
	if (d->inflight >= MAX_INFLIGHT || d->inflight_bytes + len > MAX_INFLIGHT_BYTES) {
		d->dropped++;
		ctng_counter_inc(g->mx.dropped, CTNG_LABELS(d->id));
		CTNG_WARN("push dropped: too many requests in flight", "to=%s", d->id);
		return;
	}
	struct send_ctx *c = malloc(sizeof(*c));
	if (!c)
		return;
	c->g = g;
	c->d = d;
	c->len = len;
	c->t0 = ctng_mono_ns();
	const char *headers[] = {FROM_HEADER, g->cfg->id, NULL};
	ctng_net_client_opts opts = {
	    .timeout_ms = g->timeout_ms, .content_type = ctype, .headers = headers};
	ctng_err err = {0};
	if (ctng_net_request(g->loop, "POST", d->url, body, len, &opts, on_sent, c, &err)) {
		CTNG_WARN("push not started", "to=%s err=\"%s\"", d->id, err.msg);
		free(c);
		return;
	}
	d->inflight++;
	d->inflight_bytes += len;
	d->sent++;
	count_bytes(g, 0, len);
}

static void arm_sm_timer(struct gd *g)
{
	uint64_t next = g->acts.next_timer_ms;
	if (!next) {
		ctng_net_timer_stop(g->sm_timer);
		return;
	}
	uint64_t now = ctng_now_ms();
	ctng_net_timer_start(g->sm_timer, next > now ? next - now : 0, 0, NULL);
}

/* One row of gossip_objects keyed by the SHA-256 of its JSON. */
static int put_row(struct gd *g, const char *family, const char *entity, uint64_t period,
                   const char *type_uri, const char *signer, const char *json, size_t len)
{
	ctng_store_obj so = {.family = family,
	                     .entity = entity,
	                     .period = period,
	                     .type_uri = type_uri,
	                     .signer = signer,
	                     .json = json,
	                     .json_len = len};
	unsigned int hl = 32;
	ctng_err err = {0};
	if (EVP_Digest(json, len, so.hash, &hl, EVP_sha256(), NULL) != 1)
		return ctng_err_set(&err, CTNG_ENOMEM, "sha256 failed");
	int rc = ctng_store_obj_put(g->st, &so, NULL, &err);
	if (rc)
		CTNG_ERROR("store failed", "type=%s err=\"%s\"", type_uri, err.msg);
	return rc;
}

static int store_obj(struct gd *g, const ctng_gossip_object *o, const char *json, size_t len)
{
	ctng_gossip_id id;
	int rc = ctng_gossip_id_of(o, &id, NULL);
	return rc ? rc
	          : put_row(g, ctng_family_name(id.family), id.entity, o->period,
	                    ctng_type_uri(o->type), o->signer, json, len);
}

static void pull_from(struct gd *g, struct dest *d, uint64_t p, const char *family,
                      const char *entity);

/* Storage failed: stop signing until it works again (persist before sign,
 * docs/gossiper.md §Storage). Said once per 10 s at most. */
static void storage_failed(struct gd *g, const char *what)
{
	uint64_t now = ctng_now_ms();
	if (ctng_gossiper_sm_signing(g->sm) || now - g->store_log_ms >= 10000) {
		CTNG_ERROR("cannot persist: not signing until storage works again", "what=\"%s\"",
		           what);
		g->store_log_ms = now;
	}
	ctng_gossiper_sm_set_signing(g->sm, false);
	ctng_gauge_set(g->mx.signing, NULL, 0);
}

/* Periodically while signing is off: a write that succeeds turns it on. */
static void probe_storage(struct gd *g)
{
	if (ctng_gossiper_sm_signing(g->sm))
		return;
	ctng_err err = {0};
	uint64_t now = ctng_now_ms();
	if (ctng_store_begin(g->st, &err) == 0 &&
	    ctng_store_kv_put_u64(g->st, "gossiper.health", "probe", now, &err) == 0 &&
	    ctng_store_commit(g->st, &err) == 0) {
		ctng_gossiper_sm_set_signing(g->sm, true);
		ctng_gauge_set(g->mx.signing, NULL, 1);
		CTNG_INFO("storage works again: signing resumed", "%s", "");
		return;
	}
	if (ctng_store_tx_depth(g->st) > 0)
		ctng_store_rollback(g->st, NULL);
}

/* An object the state machine made whose record is part of the promise
 * "never two contents for one id": this gossiper's STH/REV FRAG or a FULL
 * built with it. */
static bool own_promise(const struct gd *g, const ctng_gossip_object *o)
{
	enum ctng_family f = ctng_type_family(o->type);
	if (f != CTNG_FAM_STH && f != CTNG_FAM_REV)
		return false;
	if (o->type == CTNG_STH_FRAG || o->type == CTNG_REV_FRAG)
		return strcmp(o->signer, g->cfg->id) == 0;
	for (size_t i = 0; ctng_type_kind(o->type) == CTNG_KIND_FULL && i < o->n_signers; i++)
		if (strcmp(o->signers[i], g->cfg->id) == 0)
			return true;
	return false;
}

static bool same_obj(const ctng_gossip_object *a, const ctng_gossip_object *b)
{
	return a->type == b->type && ctng_gossip_equal(a, b);
}

static int set_dest(struct dest *d, const ctng_entity *e)
{
	snprintf(d->id, sizeof d->id, "%s", e->id);
	snprintf(d->base, sizeof d->base, "%s", e->url);
	int n = snprintf(d->url, sizeof d->url, "%s/ctng/v1/gossip", e->url);
	return n > 0 && (size_t)n < sizeof d->url ? 0 : -1;
}

/* The destination of gossiper `id`: its peer entry, or one made at first use
 * (an aggregator need not be a peer). NULL if id is not a gossiper. */
static struct dest *dest_of(struct gd *g, const char *id)
{
	for (size_t k = 0; k < g->n_peers; k++)
		if (strcmp(g->peers[k].id, id) == 0)
			return &g->peers[k];
	const ctng_entity *e = ctng_network_entity(g->net, id);
	if (!e || e->role != CTNG_ROLE_GOSSIPER)
		return NULL;
	if (!g->others && !(g->others = calloc(g->net->n_entities, sizeof(*g->others))))
		return NULL;
	struct dest *d = &g->others[e - g->net->entities];
	if (!d->id[0] && set_dest(d, e))
		return NULL;
	return d;
}

/* Executes and clears the pending actions: first everything to persist, in
 * one transaction; only then what goes out. When the transaction fails, what
 * this gossiper signed in it is forgotten and never sent, and signing stops
 * until storage works again. */
static void run_actions(struct gd *g)
{
	ctng_gossiper_actions *a = &g->acts;
	bool stores = false, ok = true;
	ctng_err err = {0};
	for (size_t i = 0; i < a->n && !stores; i++)
		stores = a->v[i].kind == CTNG_GACT_STORE;
	if (stores) {
		ok = ctng_store_begin(g->st, &err) == 0;
		for (size_t i = 0; ok && i < a->n; i++) {
			ctng_gossiper_action *x = &a->v[i];
			char *json = NULL;
			size_t len = 0;
			if (x->kind != CTNG_GACT_STORE)
				continue;
			ok = ctng_gossip_encode(&x->obj, &json, &len, &err) == 0 &&
			     store_obj(g, &x->obj, json, len) == 0;
			free(json);
		}
		if (ok)
			ok = ctng_store_commit(g->st, &err) == 0;
		if (!ok) {
			if (ctng_store_tx_depth(g->st) > 0)
				ctng_store_rollback(g->st, NULL);
			storage_failed(g, err.msg[0] ? err.msg : "store");
			uint64_t now = ctng_now_ms();
			for (size_t i = 0; i < a->n; i++) {
				ctng_gossiper_action *x = &a->v[i];
				if (x->kind == CTNG_GACT_STORE && own_promise(g, &x->obj) &&
				    ctng_gossiper_sm_forget(g->sm, &x->obj, now, NULL) == 0)
					CTNG_WARN("unpersisted signature withdrawn", "type=%s entity=%s",
					          ctng_type_name(x->obj.type),
					          ctng_gossip_entity(&x->obj));
			}
			/* the withdrawn ids are decided again: their timer */
			a->next_timer_ms = ctng_gossiper_sm_next_timer(g->sm);
		}
	}
	for (size_t i = 0; i < a->n; i++) {
		ctng_gossiper_action *x = &a->v[i];
		uint8_t *body = NULL;
		size_t len = 0;
		const char *ctype = NULL;
		if (x->kind == CTNG_GACT_PULL) {
			for (size_t k = 0; k < g->n_peers; k++)
				if (ctng_gossiper_action_to(x, k)) {
					CTNG_INFO("pulling what a peer proved to hold", "peer=%s id=%s/%s/%llu",
					          g->peers[k].id, ctng_family_name(x->id.family),
					          x->id.entity, (unsigned long long)x->id.period);
					pull_from(g, &g->peers[k], x->id.period,
					          ctng_family_name(x->id.family), x->id.entity);
				}
			continue;
		}
		if (!ok && own_promise(g, &x->obj)) {
			bool withdrawn = false; /* it was stored in this failed batch */
			for (size_t k = 0; k < a->n && !withdrawn; k++)
				withdrawn = a->v[k].kind == CTNG_GACT_STORE && same_obj(&a->v[k].obj, &x->obj);
			if (withdrawn)
				continue;
		}
		/* the binary form between the nodes of the network (docs/protocol.md §11) */
		if (x->kind != CTNG_GACT_STORE &&
		    ctng_wire_body(g->net, &x->obj, &body, &len, &ctype, NULL))
			continue;
		switch (x->kind) {
		case CTNG_GACT_STORE:
			if (ok)
				gossiper_metrics_stored(&g->mx, &x->obj, g->in_type);
			if (ok && x->obj.type == CTNG_CON_FULL)
				write_pom(g, &x->obj);
			break;
		case CTNG_GACT_SEND_PEERS:
			/* g->peers is in the order of the network's peer list */
			for (size_t k = 0; k < g->n_peers; k++)
				if (ctng_gossiper_action_to(x, k))
					send_to(g, &g->peers[k], body, len, ctype);
			break;
		case CTNG_GACT_SEND_GOSSIPER: {
			struct dest *d = dest_of(g, x->dest);
			if (d)
				send_to(g, d, body, len, ctype);
			break;
		}
		case CTNG_GACT_SEND_MONITOR:
			if (g->has_monitor)
				send_to(g, &g->monitor, body, len, ctype);
			break;
		case CTNG_GACT_PULL:
			break;
		}
		free(body);
	}
	if (a->n)
		g->dirty = true;
	ctng_gossiper_actions_reset(a);
	arm_sm_timer(g);
}

/* ------------------------------------------------------------- handlers */

/* Before the DKG gave this gossiper its key there is nothing to gossip. */
static bool refuse_no_key(struct gd *g, ctng_net_req *req)
{
	if (g->sm)
		return false;
	ctng_net_reply_error(req, 503, "no group key yet: the DKG is running (GET /ctng/v1/dkg/status)");
	return true;
}

static void h_gossip(ctng_net_req *req, void *arg)
{
	struct gd *g = arg;
	if (refuse_no_key(g, req))
		return;
	size_t len = 0;
	const uint8_t *body = ctng_net_req_body(req, &len);
	count_bytes(g, len, 0);
	ctng_gossip_object o = {0};
	ctng_err err = {0};
	if (ctng_wire_read(g->net, ctng_net_req_header(req, "Content-Type"), body, len, &o, &err)) {
		ctng_net_metrics_object(&g->mx.net, NULL, "rejected", err.code);
		ctng_net_reply_error(req, 400, "%s", err.msg);
		return;
	}
	const char *from = ctng_net_req_header(req, FROM_HEADER);
	g->in_type = (int)o.type;
	if (from && !ctng_id_valid(from))
		from = NULL;
	int rc = ctng_gossiper_sm_on_object(g->sm, &o, from, ctng_now_ms(), &g->acts, &err);
	ctng_net_metrics_object(&g->mx.net, ctng_type_name(o.type),
	                        rc < 0 ? "rejected" : status_name(rc), rc < 0 ? rc : 0);
	if (rc < 0) {
		CTNG_DEBUG("object rejected", "type=%s from=%s err=\"%s\"",
		           ctng_type_name(o.type) ? ctng_type_name(o.type) : "?", from ? from : "-",
		           err.msg);
		ctng_gossip_clear(&o);
		run_actions(g);
		ctng_net_reply_error(req, 400, "%s", err.msg);
		return;
	}
	ctng_gossip_clear(&o);
	run_actions(g);
	json_t *r = json_pack("{s:s}", "status", status_name(rc));
	ctng_net_reply_json(req, 200, r);
}

static void store_observation(struct gd *g, const ctng_observation *o)
{
	char *json = NULL;
	size_t len = 0;
	ctng_err err = {0};
	if (ctng_obs_encode(o, &json, &len, &err))
		CTNG_ERROR("cannot encode observation", "err=\"%s\"", err.msg);
	else if (put_row(g, ctng_family_name(o->family), o->entity, o->period, OBS_TYPE_URI,
	                 o->monitor, json, len))
		storage_failed(g, "observation");
	free(json);
}

/* POST /ctng/v1/observation: the paired monitor's signed word about one
 * entity in one period (docs/gossiper.md §Observations). */
static void h_observation(ctng_net_req *req, void *arg)
{
	struct gd *g = arg;
	size_t len = 0;
	const uint8_t *body = ctng_net_req_body(req, &len);
	count_bytes(g, len, 0);
	ctng_observation o;
	ctng_err err = {0};
	if (ctng_wire_read_obs(g->net, ctng_net_req_header(req, "Content-Type"), body, len, &o,
	                       &err)) {
		ctng_net_reply_error(req, 400, "%s", err.msg);
		return;
	}
	int rc = ctng_gossiper_sm_on_observation(g->sm, &o, ctng_now_ms(), &g->acts, &err);
	if (rc == CTNG_GOSSIPER_NEW)
		store_observation(g, &o);
	run_actions(g);
	if (rc < 0) {
		CTNG_DEBUG("observation rejected", "err=\"%s\"", err.msg);
		ctng_net_reply_error(req, 400, "%s", err.msg);
		return;
	}
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "status", status_name(rc)));
}

/* Reads the required ?period=P into *p and its decimal text into key;
 * answers 400 and returns -1 when it is missing or malformed. */
static int req_period(ctng_net_req *req, uint64_t *p, char key[24])
{
	ctng_err err = {0};
	if (ctng_net_req_query_u64(req, "period", INT64_MAX, p, &err)) {
		ctng_net_reply_error(req, 400, "%s", err.msg);
		return -1;
	}
	snprintf(key, 24, "%llu", (unsigned long long)*p);
	return 0;
}

static void h_counts(ctng_net_req *req, void *arg)
{
	struct gd *g = arg;
	if (refuse_no_key(g, req))
		return;
	uint64_t p = 0;
	char key[24];
	if (req_period(req, &p, key))
		return;
	uint64_t c[CTNG_TYPE_COUNT];
	json_t *counts = NULL;
	if (ctng_gossiper_sm_counts(g->sm, p, c)) {
		counts = counts_json(c);
	} else {
		json_t *e = json_object_get(g->report, key);
		json_t *old = e ? json_object_get(e, "counts") : NULL;
		if (old)
			counts = json_deep_copy(old);
		else
			counts = counts_json(c); /* zeros */
	}
	json_t *bytes = bytes_at(g, p, false) ? bytes_json(g, p) : NULL;
	if (!bytes) {
		json_t *e = json_object_get(g->report, key);
		json_t *old = e ? json_object_get(e, "bytes") : NULL;
		bytes = old ? json_deep_copy(old) : bytes_json(g, p);
	}
	json_t *r = json_pack("{s:s, s:s, s:o, s:I, s:o}", "period", key, "gossiper", g->cfg->id,
	                      "counts", counts, "con_full_total",
	                      (json_int_t)ctng_gossiper_sm_n_con_full(g->sm), "bytes", bytes);
	if (!r) {
		ctng_net_reply_error(req, 500, "out of memory");
		return;
	}
	ctng_net_reply_json(req, 200, r);
}

static void add_json(const ctng_gossip_object *o, void *arg)
{
	json_t *j = NULL;
	if (ctng_gossip_to_json(o, &j, NULL) == 0)
		json_array_append_new(arg, j);
}

/* GET /ctng/v1/objects?period=P: what a restarted peer pulls to catch up. */
struct objects_filter {
	json_t *arr;
	enum ctng_family family; /* NONE: every object */
	const char *entity;
};

static void add_json_if(const ctng_gossip_object *o, void *arg)
{
	struct objects_filter *f = arg;
	ctng_gossip_id id;
	if (f->family != CTNG_FAM_NONE &&
	    (ctng_gossip_id_of(o, &id, NULL) || id.family != f->family ||
	     strcmp(id.entity, f->entity) != 0))
		return;
	add_json(o, f->arr);
}

/* GET /ctng/v1/objects?period=P[&family=F&entity=E]: what a restarted peer
 * pulls to catch up, or (one id) what a peer lacks (docs/gossiper.md §Pulls). */
static void h_objects(ctng_net_req *req, void *arg)
{
	struct gd *g = arg;
	if (refuse_no_key(g, req))
		return;
	uint64_t p = 0;
	char key[24];
	if (req_period(req, &p, key))
		return;
	struct objects_filter f = {.family = CTNG_FAM_NONE};
	const char *fam = ctng_net_req_query(req, "family");
	f.entity = ctng_net_req_query(req, "entity");
	if (fam || f.entity) {
		for (int k = CTNG_FAM_STH; fam && k <= CTNG_FAM_CON; k++)
			if (strcmp(fam, ctng_family_name((enum ctng_family)k)) == 0)
				f.family = (enum ctng_family)k;
		if (f.family == CTNG_FAM_NONE || !f.entity || !ctng_id_valid(f.entity)) {
			ctng_net_reply_error(req, 400,
			                     "family (STH, REV, ACC, CON) and entity go together");
			return;
		}
	}
	json_t *arr = f.arr = json_array();
	if (arr)
		ctng_gossiper_sm_each(g->sm, p, add_json_if, &f);
	json_t *r = arr ? json_pack("{s:s, s:s, s:o}", "period", key, "gossiper", g->cfg->id,
	                            "objects", arr)
	                : NULL;
	if (!r) {
		ctng_net_reply_error(req, 500, "out of memory");
		return;
	}
	ctng_net_reply_json(req, 200, r);
}

/* ------------------------------------------------------------- catch-up */

struct pull_ctx {
	struct gd *g;
	struct dest *d;
	uint64_t t0;
};

int gossiper_feed_objects(ctng_gossiper_sm *sm, const uint8_t *body, size_t len, const char *from,
                          uint64_t now_ms, ctng_gossiper_actions *acts, ctng_err *err)
{
	json_t *j = NULL;
	int rc = ctng_net_parse_json(body, len, (size_t)CTNG_GOSSIP_JSON_MAX * 4, &j, err);
	if (rc)
		return rc;
	json_t *arr = json_object_get(j, "objects");
	if (!json_is_object(j) || !json_is_array(arr)) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "objects: expected an array");
	}
	size_t i, n_new = 0;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		ctng_gossip_object o = {0};
		if (ctng_gossip_from_json(v, &o, NULL) == 0 &&
		    ctng_gossiper_sm_on_object(sm, &o, from, now_ms, acts, NULL) ==
		        CTNG_GOSSIPER_NEW)
			n_new++;
		ctng_gossip_clear(&o);
	}
	json_decref(j);
	return (int)(n_new > INT32_MAX ? INT32_MAX : n_new);
}

/* Objects pulled from a peer go through on_object like pushed ones. */
static void on_pulled(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct pull_ctx *c = arg;
	struct gd *g = c->g;
	ctng_err e2 = {0};
	ctng_net_metrics_peer(&g->mx.net, c->d->id, status, err, c->t0);
	g->in_type = GOSSIPER_IN_PULLED;
	if (!err && status == 200) {
		int n =
		    gossiper_feed_objects(g->sm, body, len, c->d->id, ctng_now_ms(), &g->acts, &e2);
		run_actions(g);
		if (n >= 0)
			CTNG_INFO("caught up from peer", "peer=%s new=%d", c->d->id, n);
		else
			CTNG_WARN("bad catch-up answer", "peer=%s err=\"%s\"", c->d->id, e2.msg);
	} else if (err) {
		CTNG_DEBUG("catch-up pull failed", "peer=%s err=\"%s\"", c->d->id, err->msg);
	}
	free(c);
}

/* GET the objects of period p (of one id when family is set) from a peer;
 * the answer goes through on_object like a push (on_pulled). */
static void pull_from(struct gd *g, struct dest *d, uint64_t p, const char *family,
                      const char *entity)
{
	char url[CTNG_URL_MAX + 64 + CTNG_ID_MAX];
	int n = snprintf(url, sizeof url, "%s/ctng/v1/objects?period=%llu", d->base,
	                 (unsigned long long)p);
	if (family && n > 0 && (size_t)n < sizeof url)
		snprintf(url + n, sizeof url - (size_t)n, "&family=%s&entity=%s", family, entity);
	struct pull_ctx *c = malloc(sizeof(*c));
	if (!c)
		return;
	c->g = g;
	c->d = d;
	c->t0 = ctng_mono_ns();
	if (ctng_net_get(g->loop, url, g->timeout_ms * 3, on_pulled, c, NULL))
		free(c);
}

static void pull_from_peers(struct gd *g)
{
	uint64_t cur = ctng_gossiper_sm_period(g->sm);
	for (size_t i = 0; i < g->n_peers; i++)
		for (uint64_t p = cur ? cur - 1 : 0; p <= cur; p++)
			pull_from(g, &g->peers[i], p, NULL, NULL);
}

/* --------------------------------------------------------------- timers */

static void on_sm_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	struct gd *g = arg;
	ctng_err err = {0};
	g->in_type = 0;
	if (ctng_gossiper_sm_on_timer(g->sm, ctng_now_ms(), &g->acts, &err))
		CTNG_ERROR("timer step failed", "err=\"%s\"", err.msg);
	run_actions(g);
}

static void delete_old(struct gd *g, uint64_t cur)
{
	if (cur < 2)
		return;
	sqlite3_stmt *st = NULL;
	const char *sql = "DELETE FROM gossip_objects WHERE period < ? AND type_uri != ?";
	if (sqlite3_prepare_v2(ctng_store_db(g->st), sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(cur - 1));
	sqlite3_bind_text(st, 2, ctng_type_uri(CTNG_CON_FULL), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		CTNG_WARN("cannot delete old objects", "err=\"%s\"",
		          sqlite3_errmsg(ctng_store_db(g->st)));
	sqlite3_finalize(st);
}

static void arm_period_timer(struct gd *g)
{
	uint64_t now = ctng_now_ms();
	uint64_t d = ctng_clock_ms_until_next(&g->net->clock, now);
	ctng_net_timer_start(g->period_timer, d + 1, 0, NULL);
}

static void on_period_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	struct gd *g = arg;
	uint64_t now = ctng_now_ms(), p = 0;
	if (ctng_clock_period_of(&g->net->clock, now, &p)) {
		uint64_t prev = ctng_gossiper_sm_period(g->sm);
		g->in_type = 0;
		ctng_gossiper_sm_on_period(g->sm, p, now, &g->acts, NULL);
		run_actions(g);
		delete_old(g, p);
		report_flush(g);
		if (p != prev)
			CTNG_INFO("period", "p=%llu held=%zu bytes_in=%llu bytes_out=%llu",
			          (unsigned long long)p, ctng_gossiper_sm_held(g->sm),
			          (unsigned long long)g->bytes_in,
			          (unsigned long long)g->bytes_out);
	}
	arm_period_timer(g);
}

static void on_flush_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	struct gd *g = arg;
	probe_storage(g);
	if (g->dirty)
		report_flush(g);
}

/* -------------------------------------------------------------- restore */

static void restore_list(struct gd *g, const ctng_store_query *q)
{
	ctng_store_objs l = {0};
	ctng_err err = {0};
	if (ctng_store_obj_find(g->st, q, &l, &err)) {
		CTNG_WARN("restore: query failed", "err=\"%s\"", err.msg);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.v[i].type_uri, OBS_TYPE_URI) == 0) {
			ctng_observation ob;
			if (ctng_obs_decode(l.v[i].json, l.v[i].json_len, &ob, &err) ||
			    ctng_gossiper_sm_on_observation(g->sm, &ob, ctng_now_ms(), &g->acts,
			                                    &err) < 0)
				CTNG_DEBUG("restore: observation skipped", "err=\"%s\"", err.msg);
			continue;
		}
		ctng_gossip_object o = {0};
		if (ctng_gossip_decode(l.v[i].json, l.v[i].json_len, &o, &err) == 0) {
			int rc = ctng_gossiper_sm_restore(g->sm, &o, ctng_now_ms(), &g->acts, &err);
			if (rc < 0)
				CTNG_DEBUG("restore: object skipped", "err=\"%s\"", err.msg);
		}
		ctng_gossip_clear(&o);
	}
	ctng_store_objs_free(&l);
}

static void restore(struct gd *g)
{
	ctng_store_query q = {.type_uri = ctng_type_uri(CTNG_CON_FULL)};
	restore_list(g, &q);
	uint64_t cur = ctng_gossiper_sm_period(g->sm);
	for (uint64_t p = cur ? cur - 1 : 0; p <= cur + 1; p++) {
		ctng_store_query qp = {.has_period = true, .period = p};
		restore_list(g, &qp);
	}
	CTNG_INFO("restored state", "held=%zu con_full=%zu", ctng_gossiper_sm_held(g->sm),
	          ctng_gossiper_sm_n_con_full(g->sm));
}


static void gd_free(struct gd *g)
{
	ctng_dkg_node_stop(g->dkg);
	ctng_net_timer_free(g->sm_timer);
	ctng_net_timer_free(g->period_timer);
	ctng_net_timer_free(g->flush_timer);
	ctng_net_server_free(g->srv);
	ctng_net_loop_free(g->loop); /* fails in-flight pushes: their callbacks run */
	ctng_dkg_node_free(g->dkg);
	ctng_wipe(g->share, sizeof g->share);
	ctng_net_metrics_free(&g->mx.net);
	ctng_gossiper_actions_free(&g->acts);
	ctng_gossiper_sm_free(g->sm); /* before the network it points into */
	ctng_network_free(&g->keyed);
	ctng_store_close(g->st);
	json_decref(g->report);
	free(g->report_path);
	free(g->peers);
	free(g->others);
}

/* Starts gossiping with the share (from the config, the store or the DKG
 * just finished): the state machine, what was stored, the clocks. */
static int begin_gossip(struct gd *g, ctng_err *err)
{
	int rc = ctng_gossiper_sm_new(g->net, g->cfg->id, g->share, ctng_now_ms(), &g->sm, err);
	if (rc)
		return rc;
	g->mx.sm = g->sm;
	g->in_type = GOSSIPER_IN_PULLED;
	restore(g);
	run_actions(g);
	pull_from_peers(g);
	arm_period_timer(g);
	uint64_t pm = g->net->clock.period_ms;
	uint64_t fl = pm / 4 < 250 ? 250 : pm / 4 > 5000 ? 5000 : pm / 4;
	ctng_net_timer_start(g->flush_timer, fl, fl, NULL);
	CTNG_INFO("gossiping", "peers=%zu monitor=%s period=%llu", g->n_peers,
	          g->has_monitor ? g->monitor.id : "-",
	          (unsigned long long)ctng_gossiper_sm_period(g->sm));
	return 0;
}

static void on_dkg_done(void *arg, const ctng_dkg_outcome *o, uint32_t bls_id,
                        const uint8_t sk[32], const char *failure)
{
	struct gd *g = arg;
	(void)bls_id;
	ctng_err e = {0};
	if (!o) {
		CTNG_ERROR("no group key: the DKG failed; stopping", "reason=\"%s\"", failure);
		g->dkg_failed = true;
		ctng_net_loop_stop(g->loop);
		return;
	}
	/* the network with the keys the DKG made, as `ctng network finalize`
	 * will write it */
	int rc = ctng_network_load(g->cfg->network_path, &g->keyed, &e);
	if (!rc && !g->keyed.has_bls)
		rc = ctng_network_set_bls(&g->keyed, o->group_pk,
		                          (const uint8_t(*)[96])o->commitments, o->threshold, &e);
	if (!rc && memcmp(g->keyed.group_pk, o->group_pk, 96) != 0)
		rc = ctng_err_set(&e, CTNG_EINVAL, "network.json holds another group key");
	if (!rc) {
		g->has_keyed = true;
		g->net = &g->keyed;
		memcpy(g->share, sk, 32);
		rc = begin_gossip(g, &e);
	}
	if (rc) {
		CTNG_ERROR("cannot gossip with the DKG's key; stopping", "err=\"%s\"", e.msg);
		g->dkg_failed = true;
		ctng_net_loop_stop(g->loop);
	}
}

int ctng_gossiper_run(const ctng_node_config *cfg, ctng_err *err)
{
	struct gd g = {0};
	int rc;
	if (!cfg || !cfg->self || cfg->self->role != CTNG_ROLE_GOSSIPER)
		return ctng_err_set(err, CTNG_EINVAL, "not a gossiper configuration");
	g.cfg = cfg;
	g.net = &cfg->net;
	uint64_t pm = g.net->clock.period_ms;
	g.timeout_ms = pm / 3 < 200 ? 200 : pm / 3 > 5000 ? 5000 : pm / 3;
	char host[CTNG_HOST_MAX];
	uint16_t port = 0;
	if ((rc = ctng_node_config_listen(cfg, host, &port, err)))
		return rc;
	if ((rc = ctng_mkdir_p(cfg->data_dir, 0700, err)))
		return rc;
	char *dbpath = path_join(cfg->data_dir, "gossiper.db");
	g.report_path = path_join(cfg->data_dir, "GossipStorage.json");
	if (!dbpath || !g.report_path) {
		free(dbpath);
		free(g.report_path);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	g.st = ctng_store_open(dbpath, err);
	/* it holds the gossiper's share: owner only, like config.json */
	for (int k = 0; g.st && k < 3; k++) {
		char side[4200];
		snprintf(side, sizeof side, "%s%s", dbpath, k == 0 ? "" : k == 1 ? "-wal" : "-shm");
		chmod(side, 0600);
	}
	free(dbpath);
	if (!g.st) {
		rc = err ? err->code : CTNG_EIO;
		goto out;
	}
	bool have_old = false;
	if ((rc = ctng_dkg_store_migrate(g.st, err)))
		goto out;
	if (cfg->net.has_bls && (rc = ctng_dkg_find_share(cfg, g.st, g.share, err)))
		goto out;
	if (!cfg->net.has_bls && cfg->net.reshare.present)
		have_old = ctng_dkg_find_old_share(cfg, g.st, g.share, NULL) == 0;
	/* destinations */
	const ctng_entity *self = cfg->self;
	g.peers = calloc(self->n_peers ? self->n_peers : 1, sizeof(*g.peers));
	if (!g.peers) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < self->n_peers; i++) {
		const ctng_entity *pe = ctng_network_entity(g.net, self->peers[i]);
		if (!pe || set_dest(&g.peers[g.n_peers], pe)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "bad peer %s", self->peers[i]);
			goto out;
		}
		g.n_peers++;
	}
	const ctng_entity *mon =
	    self->monitor[0] ? ctng_network_entity(g.net, self->monitor) : NULL;
	if (mon && set_dest(&g.monitor, mon) == 0)
		g.has_monitor = true;
	report_load(&g);
	/* loop, server, timers */
	if (!(g.loop = ctng_net_loop_new(err))) {
		rc = err ? err->code : CTNG_EIO;
		goto out;
	}
	if ((rc = ctng_net_loop_catch_signals(g.loop, NULL, NULL, err)))
		goto out;
	ctng_net_server_opts so = cfg->server;
	so.max_body = CTNG_GOSSIP_JSON_MAX;
	if (!(g.srv = ctng_net_server_new_opts(g.loop, &so, err))) {
		rc = err ? err->code : CTNG_EIO;
		goto out;
	}
	if ((rc = ctng_net_server_bind(g.srv, host, port, NULL, err)) ||
	    (rc = ctng_net_server_route(g.srv, "POST", "/ctng/v1/gossip", h_gossip, &g, err)) ||
	    (rc = ctng_net_server_route(g.srv, "POST", "/ctng/v1/observation", h_observation, &g,
	                                err)) ||
	    (rc = ctng_net_server_route(g.srv, "GET", "/ctng/v1/counts", h_counts, &g, err)) ||
	    (rc = ctng_net_server_route(g.srv, "GET", "/ctng/v1/objects", h_objects, &g, err)) ||
	    (rc = gossiper_metrics_init(&g.mx, g.srv, g.st, cfg, g.sm, err)))
		goto out;
	if (!(g.sm_timer = ctng_net_timer_new(g.loop, on_sm_timer, &g, err)) ||
	    !(g.period_timer = ctng_net_timer_new(g.loop, on_period_timer, &g, err)) ||
	    !(g.flush_timer = ctng_net_timer_new(g.loop, on_flush_timer, &g, err))) {
		rc = err ? err->code : CTNG_ENOMEM;
		goto out;
	}
	CTNG_INFO("gossiper listening", "addr=%s:%u", host, (unsigned)port);
	if (cfg->net.has_bls)
		rc = begin_gossip(&g, err);
	else
		rc = ctng_dkg_node_start(cfg, g.loop, g.srv, g.st, have_old ? g.share : NULL,
		                         on_dkg_done, &g, &g.dkg, err);
	if (rc)
		goto out;
	rc = ctng_net_loop_run(g.loop, err);
	if (!rc && g.dkg_failed)
		rc = ctng_err_set(err, CTNG_ESTATE, "the DKG did not give this gossiper a key (see "
		                                    "its log and dkg-transcript.json)");
	if (g.sm)
		report_flush(&g);
	CTNG_INFO("gossiper stopped", "bytes_in=%llu bytes_out=%llu",
	          (unsigned long long)g.bytes_in, (unsigned long long)g.bytes_out);
out:
	gd_free(&g);
	return rc;
}
