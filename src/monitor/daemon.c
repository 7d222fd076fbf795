/*
 * daemon.c — `ctng monitor`: the monitor state machine on one libevent loop
 * (DESIGN §8). Timers follow the network clock (query at period start +
 * query_offset, update at + update_offset); pulls are HTTP GETs with a
 * deadline; verified objects and ACCs are POSTed to the paired gossiper; the
 * gossiper POSTs FULLs/PoMs/INITs back; client updates are served at
 * GET /ctng/v1/update and written as files. SQLite (monitor.db) keeps what
 * a restart needs. See docs/monitor.md.
 */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctng/merkle.h"
#include "ctng/monitor.h"
#include "ctng/net.h"
#include "ctng/store.h"
#include "ctng/wire.h"
#include "monitor/monitor_internal.h"

#define FROM_HEADER     "X-CTng-From"
#define KV_LAST_STH     "monitor.last_sth"
#define KV_FORK         "monitor.fork"
#define KV_POM          "monitor.pom"
#define KV_UPDATE       "monitor.update"
#define KV_STATE        "monitor.state"
#define MAX_INFLIGHT    256
#define GOSSIP_BODY_MAX (CTNG_GOSSIP_JSON_MAX + 1024)

/* A pull the state machine asked to start later (a retry): kept here until
 * its time, so nothing is lost or leaked when the loop stops. */
#define MAX_DELAYED 256
struct delayed {
	enum ctng_monitor_action_kind kind;
	char entity[CTNG_ID_MAX + 1];
	uint64_t period, first, second, at_ms, deadline_ms;
};

struct md {
	const ctng_node_config *cfg;
	const ctng_network *net;
	ctng_monitor_sm *sm;
	ctng_store *st;
	ctng_net_loop *loop;
	ctng_net_server *srv;
	ctng_net_timer *timer;
	ctng_net_timer *retry_timer;
	struct delayed delayed[MAX_DELAYED];
	size_t n_delayed;
	ctng_monitor_actions acts;
	char gossip_url[CTNG_URL_MAX + 32];
	char obs_url[CTNG_URL_MAX + 32];
	uint64_t timeout_ms;      /* pulls from loggers and CAs */
	uint64_t send_timeout_ms; /* POSTs to the gossiper */
	bool has_queried, has_published;
	uint64_t last_queried, last_published;
	bool stopping;
	size_t inflight;
	/* Figure for the logs: latest arrival (ms after period start) of a new
	 * FULL of period p, kept for the last 4 periods (slot p % 4). */
	uint64_t full_period[4], full_last_ms[4], full_count[4];
	monitor_metrics mx; /* GET /metrics */
	monitor_dash dash;  /* GET / and /ctng/v1/dashboard */
	mon_mirror *mm;     /* the mirror of the logs (mirror.c) */
	mon_crv *mc;        /* verified CRVs (crv.c) */
	mon_index *mi;      /* the certificate index (index.c) */
};

enum fkind { F_INIT = 1, F_CONS = 2, F_SEND = 3 };

struct fctx {
	struct md *m;
	enum fkind kind;
	char entity[CTNG_ID_MAX + 1];
	uint64_t period;
	uint64_t t0;
};

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void write_data_file(struct md *m, const char *name, const char *text, size_t len)
{
	char *path = path_join(m->cfg->data_dir, name);
	ctng_err e = {0};
	if (!path || ctng_write_file_atomic(path, text, len, 0644, &e))
		CTNG_WARN("cannot write file", "file=%s err=\"%s\"", name, e.msg);
	free(path);
}

static void run_actions(struct md *m);

/* ------------------------------------------------------------ responses */

static void on_response(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct fctx *c = arg;
	struct md *m = c->m;
	m->inflight--;
	if (m->stopping) {
		free(c);
		return;
	}
	ctng_net_metrics_peer(&m->mx.net, c->kind == F_SEND ? m->cfg->self->gossiper : c->entity,
	                      status, err, c->t0);
	if (c->kind == F_INIT)
		ctng_net_metrics_phase(&m->mx.net, "pulled", c->period, ctng_now_ms());
	char reason[300];
	ctng_err e = {0};
	uint64_t now = ctng_now_ms();
	if (err)
		snprintf(reason, sizeof reason, "%s: %s", ctng_err_name(err->code), err->msg);
	else
		snprintf(reason, sizeof reason, "HTTP %d", status);
	if (c->kind == F_SEND) {
		if (err || status != 200)
			CTNG_WARN("gossiper refused or unreachable",
			          "period=%" PRIu64 " reason=\"%s\" "
			          "body=\"%.200s\"",
			          c->period, reason, (const char *)body);
		free(c);
		return;
	}
	int rc;
	if (c->kind == F_INIT) {
		ctng_gossip_object o = {0};
		bool have = false;
		if (!err && status == 200) {
			if (ctng_gossip_decode((const char *)body, len, &o, &e) == 0)
				have = true;
			else
				snprintf(reason, sizeof reason, "undecodable object: %s", e.msg);
		}
		rc = ctng_monitor_sm_on_fetch_result(m->sm, c->entity, c->period, have ? &o : NULL,
		                                     reason, now, &m->acts, &e);
		ctng_gossip_clear(&o);
	} else {
		uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
		size_t n = 0;
		bool ok = false;
		if (!err && status == 200) {
			if (ctng_monitor_parse_consistency((const char *)body, len, proof, &n,
			                                   &e) == 0)
				ok = true;
			else
				snprintf(reason, sizeof reason, "bad consistency response: %s",
				         e.msg);
		}
		rc = ctng_monitor_sm_on_consistency_result(m->sm, c->entity, c->period, ok,
		                                           (const uint8_t(*)[32])proof, n, reason,
		                                           now, &m->acts, &e);
	}
	if (rc == CTNG_ESTATE)
		CTNG_DEBUG("late answer ignored", "entity=%s period=%" PRIu64, c->entity,
		           c->period);
	else if (rc)
		CTNG_ERROR("monitor state machine failed", "err=\"%s\"", e.msg);
	free(c);
	run_actions(m);
}

static void start_request(struct md *m, enum fkind k, const char *entity, uint64_t period,
                          const char *method, const char *url, const void *body, size_t len,
                          const char *ctype, uint64_t deadline_ms)
{
	if (m->inflight >= MAX_INFLIGHT) {
		CTNG_WARN("request dropped: too many in flight", "url=%s", url);
		return;
	}
	struct fctx *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->m = m;
	c->kind = k;
	c->period = period;
	c->t0 = ctng_mono_ns();
	snprintf(c->entity, sizeof c->entity, "%s", entity ? entity : "");
	const char *headers[] = {FROM_HEADER, m->cfg->id, NULL};
	uint64_t timeout = k == F_SEND ? m->send_timeout_ms : m->timeout_ms;
	if (deadline_ms) {
		/* a pull attempt ends at the query deadline at the latest */
		uint64_t now = ctng_now_ms();
		uint64_t left = deadline_ms > now ? deadline_ms - now : 0;
		timeout = left < timeout ? left : timeout;
		if (timeout < 20)
			timeout = 20;
	}
	ctng_net_client_opts opts = {.timeout_ms = timeout,
	                             .content_type = body ? ctype : NULL,
	                             .headers = headers};
	ctng_err e = {0};
	if (ctng_net_request(m->loop, method, url, body, len, &opts, on_response, c, &e)) {
		CTNG_WARN("request not started", "url=%s err=\"%s\"", url, e.msg);
		free(c);
		/* A pull that cannot even start is a failed pull. */
		if (k == F_INIT || k == F_CONS) {
			uint64_t now = ctng_now_ms();
			if (k == F_INIT)
				ctng_monitor_sm_on_fetch_result(m->sm, entity, period, NULL, e.msg,
				                                now, &m->acts, NULL);
			else
				ctng_monitor_sm_on_consistency_result(m->sm, entity, period, false,
				                                      NULL, 0, e.msg, now, &m->acts,
				                                      NULL);
		}
		return;
	}
	m->inflight++;
}

/* POSTs o to url in the binary form of the network (JSON when that cannot
 * say it, docs/protocol.md §11). */
static void post_object(struct md *m, const char *url, const ctng_gossip_object *o)
{
	uint8_t *body = NULL;
	size_t len = 0;
	const char *ctype = NULL;
	ctng_err e = {0};
	if (ctng_wire_body(m->net, o, &body, &len, &ctype, &e) == 0)
		start_request(m, F_SEND, ctng_gossip_entity(o), o->period, "POST", url, body, len,
		              ctype, 0);
	else
		CTNG_ERROR("cannot encode object", "err=\"%s\"", e.msg);
	free(body);
}

/* Tells the paired gossiper what this monitor saw (binary form). */
static void post_obs(struct md *m, const ctng_observation *obs)
{
	uint8_t *body = NULL;
	size_t len = 0;
	const char *ctype = NULL;
	ctng_err e = {0};
	if (ctng_wire_body_obs(m->net, obs, &body, &len, &ctype, &e) == 0)
		start_request(m, F_SEND, obs->entity, obs->period, "POST", m->obs_url, body, len,
		              ctype, 0);
	else
		CTNG_ERROR("cannot encode observation", "err=\"%s\"", e.msg);
	free(body);
}

/* -------------------------------------------------------------- actions */

/* 0, or -1 when the object could not be stored (logged). */
static int store_object(struct md *m, const ctng_gossip_object *o)
{
	char *json = NULL;
	size_t len = 0;
	ctng_err e = {0};
	int rc = 0;
	if (ctng_gossip_encode(o, &json, &len, &e)) {
		CTNG_ERROR("cannot encode object", "err=\"%s\"", e.msg);
		return -1;
	}
	ctng_store_obj so = {
	    .family = ctng_family_name(ctng_type_family(o->type)),
	    .entity = ctng_gossip_entity(o),
	    .period = o->period,
	    .type_uri = ctng_type_uri(o->type),
	    .signer = o->signer,
	    .json = json,
	    .json_len = len,
	};
	unsigned int hl = 0;
	if (!EVP_Digest(json, len, so.hash, &hl, EVP_sha256(), NULL) ||
	    ctng_store_obj_put(m->st, &so, NULL, &e)) {
		CTNG_ERROR("cannot store object", "err=\"%s\"", e.msg);
		rc = -1;
	}
	if (o->type == CTNG_CON_FULL) {
		/* The seed's per-conviction PoM file (the first one is kept). */
		char name[CTNG_ID_MAX + 32];
		snprintf(name, sizeof name, "CONFLICT_POM_%s.json", ctng_gossip_entity(o));
		char *path = path_join(m->cfg->data_dir, name);
		struct stat sb;
		if (path && stat(path, &sb) != 0)
			write_data_file(m, name, json, len);
		free(path);
	}
	free(json);
	return rc;
}

/* Stores the update of p in the current transaction; 0 or the error. */
static int publish_store(struct md *m, uint64_t p, const char *text, size_t len, ctng_err *e)
{
	char key[24];
	snprintf(key, sizeof key, "%" PRIu64, p);
	int rc = ctng_store_kv_put(m->st, KV_UPDATE, key, text, len, e);
	return rc ? rc : ctng_store_kv_put_u64(m->st, KV_STATE, "published", p, e);
}

/* After the transaction holding it committed (persist before publish: an
 * update is served and written out only once it is on disk, so a restart
 * never publishes another one for that period). */
static void publish_done(struct md *m, uint64_t p, const char *text, size_t len)
{
	char name[64];
	snprintf(name, sizeof name, "ClientUpdate_%" PRIu64 ".json", p);
	write_data_file(m, name, text, len);
	write_data_file(m, "ClientUpdate.json", text, len);
	m->has_published = true;
	m->last_published = p;
	monitor_metrics_published(&m->mx, p, len);
	int k = (int)(p % 4);
	bool have = m->full_period[k] == p && m->full_count[k] > 0;
	CTNG_INFO("client update published",
	          "period=%" PRIu64 " bytes=%zu fulls_received=%" PRIu64
	          " last_full_after_ms=%" PRIu64,
	          p, len, have ? m->full_count[k] : 0, have ? m->full_last_ms[k] : 0);
}

static void start_fetch(struct md *m, enum ctng_monitor_action_kind kind, const char *entity,
                        uint64_t period, uint64_t first, uint64_t second, uint64_t deadline_ms)
{
	const ctng_entity *ent = ctng_network_entity(m->net, entity);
	if (!ent)
		return;
	char url[CTNG_URL_MAX + 160];
	if (kind == CTNG_MON_FETCH_CONSISTENCY) {
		snprintf(url, sizeof url,
		         "%s/ct/v1/get-sth-consistency?first=%" PRIu64 "&second=%" PRIu64, ent->url,
		         first, second);
		start_request(m, F_CONS, entity, period, "GET", url, NULL, 0, NULL, deadline_ms);
		return;
	}
	snprintf(url, sizeof url, "%s/ctng/v1/%s?period=%" PRIu64 "&monitor=%s", ent->url,
	         kind == CTNG_MON_FETCH_STH ? "sth" : "rev", period, m->cfg->id);
	start_request(m, F_INIT, entity, period, "GET", url, NULL, 0, NULL, deadline_ms);
}

static void arm_retry_timer(struct md *m)
{
	uint64_t next = UINT64_MAX, now = ctng_now_ms();
	for (size_t i = 0; i < m->n_delayed; i++)
		if (m->delayed[i].at_ms < next)
			next = m->delayed[i].at_ms;
	if (next == UINT64_MAX)
		ctng_net_timer_stop(m->retry_timer);
	else
		ctng_net_timer_start(m->retry_timer, next > now ? next - now : 0, 0, NULL);
}

static void on_retry_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	struct md *m = arg;
	uint64_t now = ctng_now_ms();
	for (size_t i = 0; i < m->n_delayed;) {
		if (m->delayed[i].at_ms > now) {
			i++;
			continue;
		}
		struct delayed d = m->delayed[i];
		m->delayed[i] = m->delayed[--m->n_delayed];
		start_fetch(m, d.kind, d.entity, d.period, d.first, d.second, d.deadline_ms);
	}
	run_actions(m); /* a fetch that could not start accused */
	arm_retry_timer(m);
}

static void delay_fetch(struct md *m, const ctng_monitor_action *x)
{
	if (m->n_delayed == MAX_DELAYED) {
		/* cannot happen with a sane network (one per watched entity) */
		CTNG_WARN("retry dropped: too many delayed pulls", "entity=%s", x->entity);
		start_fetch(m, x->kind, x->entity, x->period, x->first, x->second, x->deadline_ms);
		return;
	}
	struct delayed *d = &m->delayed[m->n_delayed++];
	d->kind = x->kind;
	snprintf(d->entity, sizeof d->entity, "%s", x->entity);
	d->period = x->period;
	d->first = x->first;
	d->second = x->second;
	d->at_ms = x->at_ms;
	d->deadline_ms = x->deadline_ms;
	arm_retry_timer(m);
}

/* The SEND actions of the first n, after the batch's STOREs were committed
 * (persist before sign: an OBS(obtained) says the monitor holds what it
 * stored; if a store of the batch or its commit failed it is not sent, the
 * rest still is). Sends append no actions. */
static void send_actions(struct md *m, size_t n, bool not_kept)
{
	for (size_t i = 0; i < n && i < m->acts.n; i++) {
		ctng_monitor_action *x = &m->acts.v[i];
		if (x->kind == CTNG_MON_SEND_GOSSIPER) {
			if (x->obj.type == CTNG_ACC)
				ctng_counter_inc(m->mx.accused, CTNG_LABELS(x->entity));
			post_object(m, m->gossip_url, &x->obj);
		} else if (x->kind == CTNG_MON_SEND_OBSERVATION) {
			if (not_kept && x->obs.result == CTNG_OBS_OBTAINED)
				CTNG_ERROR("observation not sent: its STOREs did not commit",
				           "entity=%s period=%" PRIu64, x->entity, x->period);
			else
				post_obs(m, &x->obs);
		}
	}
}

static void run_actions(struct md *m)
{
	ctng_err e = {0};
	/* Actions may append more actions (a fetch that cannot start accuses at
	 * once), so walk by index until the list is drained. */
	size_t done = 0, pub = SIZE_MAX; /* the update to publish once committed */
	bool tx = false, store_failed = false, not_kept = false;
	ctng_gossip_object inits[16] = {{0}};
	size_t ninit = 0;
	while (done < m->acts.n) {
		ctng_monitor_action *x = &m->acts.v[done];
		switch (x->kind) {
		case CTNG_MON_FETCH_STH:
		case CTNG_MON_FETCH_REV:
		case CTNG_MON_FETCH_CONSISTENCY:
			if (x->at_ms > ctng_now_ms())
				delay_fetch(m, x);
			else
				start_fetch(m, x->kind, x->entity, x->period, x->first, x->second,
				            x->deadline_ms);
			break;
		case CTNG_MON_SEND_GOSSIPER:
		case CTNG_MON_SEND_OBSERVATION:
			/* sent once the batch's STOREs are committed (below) */
			break;
		case CTNG_MON_STORE_OBJECT:
		case CTNG_MON_STORE_LAST_STH:
		case CTNG_MON_POM:
		case CTNG_MON_PUBLISH_UPDATE:
			if (!tx && !(tx = ctng_store_begin(m->st, &e) == 0))
				not_kept = true;
			if (x->kind == CTNG_MON_STORE_OBJECT) {
				if (store_object(m, &x->obj))
					not_kept = true;
				if ((x->obj.type == CTNG_STH || x->obj.type == CTNG_REV) &&
				    ninit < 16)
					ctng_gossip_copy(&inits[ninit++], &x->obj, NULL);
				if (x->obj.type == CTNG_CON_FULL)
					mon_mirror_convicted(m->mm, ctng_gossip_entity(&x->obj));
			} else if (x->kind == CTNG_MON_STORE_LAST_STH) {
				char *json = NULL;
				size_t len = 0;
				if (ctng_gossip_encode(&x->obj, &json, &len, &e) ||
				    ctng_store_kv_put(m->st, KV_LAST_STH, x->entity, json, len,
				                      &e)) {
					CTNG_ERROR("cannot store last STH", "err=\"%s\"", e.msg);
					not_kept = true;
				}
				free(json);
			} else if (x->kind == CTNG_MON_POM) {
				char key[CTNG_ID_MAX + 64], name[CTNG_ID_MAX + 64];
				const char *kind =
				    x->transferable ? "sth-fork" : "bad-consistency-proof";
				ctng_counter_inc(m->mx.poms, CTNG_LABELS(x->entity, kind));
				snprintf(key, sizeof key, "%s/%" PRIu64 "/%s", x->entity, x->period,
				         kind);
				snprintf(name, sizeof name, "POM_%s_%" PRIu64 "_%s.json", x->entity,
				         x->period, kind);
				if (ctng_store_kv_put(m->st, KV_POM, key, x->text, x->text_len,
				                      &e) ||
				    (x->transferable && ctng_store_kv_put(m->st, KV_FORK, x->entity,
				                                          key, strlen(key), &e)))
					CTNG_ERROR("cannot store PoM", "err=\"%s\"", e.msg);
				write_data_file(m, name, x->text, x->text_len);
			} else if (publish_store(m, x->period, x->text, x->text_len, &e)) {
				CTNG_ERROR("cannot store client update: not published",
				           "period=%" PRIu64 " err=\"%s\"", x->period, e.msg);
				store_failed = true;
			} else {
				pub = done;
			}
			break;
		}
		done++;
	}
	if (tx && ctng_store_commit(m->st, &e)) {
		CTNG_ERROR("store commit failed", "err=\"%s\"", e.msg);
		ctng_store_rollback(m->st, NULL);
		store_failed = not_kept = true;
	}
	send_actions(m, done, not_kept);
	if (pub != SIZE_MAX && !store_failed)
		publish_done(m, m->acts.v[pub].period, m->acts.v[pub].text,
		             m->acts.v[pub].text_len);
	ctng_monitor_actions_free(&m->acts);
	/* Every STH accepted or received: the mirror fetches its entries; every
	 * REV moves the CA's verified CRV on. */
	for (size_t i = 0; i < ninit; i++) {
		if (inits[i].type == CTNG_STH)
			mon_mirror_on_sth(m->mm, &inits[i]);
		else
			mon_crv_on_rev(m->mc, &inits[i]);
		ctng_gossip_clear(&inits[i]);
	}
}

/* ---------------------------------------------------------------- mirror */

static void send_to_gossiper(struct md *m, const ctng_gossip_object *o)
{
	post_object(m, m->gossip_url, o);
}

/* A CON this monitor built (a data CON, a RID CON): kept under monitor.pom
 * as ENTITY/PERIOD/KIND and as the file POM_<entity>_<period>_<kind>.json. */
static void keep_con(struct md *m, const ctng_gossip_object *con, const char *entity,
                     uint64_t period, const char *kind)
{
	char *json = NULL;
	size_t len = 0;
	char key[CTNG_ID_MAX + 64], name[CTNG_ID_MAX + 64];
	ctng_err e = {0};
	snprintf(key, sizeof key, "%s/%" PRIu64 "/%s", entity, period, kind);
	snprintf(name, sizeof name, "POM_%s_%" PRIu64 "_%s.json", entity, period, kind);
	if (ctng_gossip_encode(con, &json, &len, &e) ||
	    ctng_store_kv_put(m->st, KV_POM, key, json, len, &e))
		CTNG_ERROR("cannot store PoM", "err=\"%s\"", e.msg);
	else
		write_data_file(m, name, json, len);
	free(json);
}

static void on_mirror(void *arg, enum mon_mirror_event ev, const char *logger, uint64_t period,
                      const ctng_gossip_object *obj, const char *reason)
{
	struct md *m = arg;
	ctng_err e = {0};
	if (ev == MON_MIRROR_ACCUSE) {
		ctng_gossip_object acc = {0};
		CTNG_WARN("accusing entity", "entity=%s period=%" PRIu64 " reason=\"%s\"", logger,
		          period, reason ? reason : "");
		/* every ACC goes with the signed word that this monitor failed
		 * (docs/gossiper.md §Observations) */
		ctng_observation obs;
		if (ctng_obs_sign(&obs, m->cfg->id, m->cfg->key, CTNG_FAM_STH, logger, period,
		                  CTNG_OBS_FAILED, NULL, CTNG_OBS_CHECK_DATA, &e) == 0)
			post_obs(m, &obs);
		if (ctng_acc_sign(&acc, m->cfg->id, m->cfg->key, logger, period, ctng_now_ms(), &e))
			CTNG_ERROR("cannot sign ACC", "err=\"%s\"", e.msg);
		else
			send_to_gossiper(m, &acc);
		ctng_gossip_clear(&acc);
	} else if (ev == MON_MIRROR_POM) {
		keep_con(m, obj, logger, period, "data");
		send_to_gossiper(m, obj);
	} else if (ev == MON_MIRROR_HELD) {
		/* The DA signal: my gossiper may FRAG this STH (docs/mirror.md). */
		uint8_t d[32];
		ctng_observation obs;
		if (ctng_gossip_content_digest(obj, d, &e) == 0 &&
		    ctng_obs_sign(&obs, m->cfg->id, m->cfg->key, CTNG_FAM_STH, logger, period,
		                  CTNG_OBS_OBTAINED, d, CTNG_OBS_CHECK_DATA, &e) == 0)
			post_obs(m, &obs);
		else
			CTNG_ERROR("cannot send the data observation", "err=\"%s\"", e.msg);
	} else if (ev == MON_MIRROR_STORED) {
		mon_index_kick(m->mi);
	}
}

/* A RID CON from the index (docs/protocol.md §5.2): kept like the other
 * PoMs when new, and gossiped until the CA is convicted. */
static void on_rid_con(void *arg, const ctng_gossip_object *con, bool fresh)
{
	struct md *m = arg;
	const char *ca = ctng_gossip_entity(con);
	if (!fresh && ctng_monitor_sm_convicted(m->sm, ca))
		return;
	if (fresh) {
		ctng_counter_inc(m->mx.poms, CTNG_LABELS(ca, "rid"));
		keep_con(m, con, ca, con->period, "rid");
	}
	send_to_gossiper(m, con);
}

/* ------------------------------------------------------------- handlers */

static void h_gossip(ctng_net_req *req, void *arg)
{
	struct md *m = arg;
	size_t len = 0;
	const uint8_t *body = ctng_net_req_body(req, &len);
	ctng_gossip_object o = {0};
	ctng_err e = {0};
	if (ctng_wire_read(m->net, ctng_net_req_header(req, "Content-Type"), body, len, &o, &e)) {
		ctng_net_metrics_object(&m->mx.net, NULL, "rejected", e.code);
		ctng_net_reply_error(req, 400, "%s", e.msg);
		return;
	}
	ctng_monitor_gossip_status st = CTNG_MON_GOSSIP_IGNORED;
	int rc = ctng_monitor_sm_on_gossip(m->sm, &o, ctng_now_ms(), &st, &m->acts, &e);
	static const char *names[] = {"new", "duplicate", "ignored"};
	ctng_net_metrics_object(&m->mx.net, ctng_type_name(o.type), rc ? "rejected" : names[st],
	                        rc);
	if (rc == 0 && st == CTNG_MON_GOSSIP_NEW && o.type == CTNG_CON_FULL)
		ctng_counter_inc(m->mx.convicted, CTNG_LABELS(ctng_gossip_entity(&o)));
	if (rc == 0 && st == CTNG_MON_GOSSIP_NEW) {
		uint64_t now = ctng_now_ms(),
		         start = ctng_clock_period_start(&m->net->clock, o.period);
		uint64_t off = now > start ? now - start : 0;
		CTNG_DEBUG("gossip object kept",
		           "type=%s entity=%s period=%" PRIu64 " after_ms=%" PRIu64,
		           ctng_type_name(o.type), ctng_gossip_entity(&o), o.period, off);
		if (ctng_type_kind(o.type) == CTNG_KIND_FULL) {
			ctng_net_metrics_phase(&m->mx.net, "full_received", o.period, now);
			int k = (int)(o.period % 4);
			if (m->full_period[k] != o.period) {
				m->full_period[k] = o.period;
				m->full_last_ms[k] = 0;
				m->full_count[k] = 0;
			}
			m->full_count[k]++;
			if (off > m->full_last_ms[k])
				m->full_last_ms[k] = off;
		}
	}
	ctng_gossip_clear(&o);
	run_actions(m);
	if (rc) {
		CTNG_DEBUG("gossip object rejected", "err=\"%s\"", e.msg);
		ctng_net_reply_error(req, rc == CTNG_ENOMEM ? 500 : 400, "%s", e.msg);
		return;
	}
	ctng_net_reply_json(req, 200, json_pack("{s:s}", "status", names[st]));
}

static void h_update(ctng_net_req *req, void *arg)
{
	struct md *m = arg;
	ctng_err e = {0};
	uint64_t p;
	if (ctng_net_req_query(req, "period")) {
		if (ctng_net_req_query_u64(req, "period", INT64_MAX, &p, &e)) {
			ctng_net_reply_error(req, 400, "%s", e.msg);
			return;
		}
	} else if (m->has_published) {
		p = m->last_published;
	} else {
		ctng_net_reply_error(req, 404, "no client update published yet");
		return;
	}
	char key[24];
	snprintf(key, sizeof key, "%" PRIu64, p);
	uint8_t *val = NULL;
	size_t len = 0;
	int rc = ctng_store_kv_get(m->st, KV_UPDATE, key, &val, &len, &e);
	if (rc == CTNG_ENOTFOUND) {
		ctng_net_reply_error(req, 404, "no client update for period %" PRIu64 " (yet)", p);
		return;
	}
	if (rc) {
		ctng_net_reply_error(req, 500, "%s", e.msg);
		return;
	}
	ctng_net_reply_bytes(req, 200, "application/json", val, len, NULL);
	free(val);
}

/* ------------------------------------------------- fault injection (tests) */

/* misbehaviour.false_accuse (docs/config.md): the attack of issue 10 — a
 * monitor accuses every entity it watches in this period and the next,
 * whatever it obtained, posts the ACCs to every gossiper and tells its own
 * gossiper, signed, that it failed. The gossipers must not turn that into an
 * ACC_FULL (scenario malicious-monitor). */
static void false_accusations(struct md *m, uint64_t p)
{
	const ctng_entity *self = m->cfg->self;
	uint64_t now = ctng_now_ms();
	for (size_t i = 0; i < self->n_loggers + self->n_cas; i++) {
		bool lg = i < self->n_loggers;
		const char *e = lg ? self->loggers[i] : self->cas[i - self->n_loggers];
		ctng_observation obs;
		if (ctng_obs_sign(&obs, m->cfg->id, m->cfg->key, lg ? CTNG_FAM_STH : CTNG_FAM_REV,
		                  e, p, CTNG_OBS_FAILED, NULL, 0, NULL) == 0)
			post_obs(m, &obs);
		for (uint64_t q = p; q <= p + 1; q++) {
			ctng_gossip_object acc = {0};
			if (ctng_acc_sign(&acc, m->cfg->id, m->cfg->key, e, q, now, NULL)) {
				ctng_gossip_clear(&acc);
				continue;
			}
			for (size_t k = 0; k < m->net->n_entities; k++) {
				const ctng_entity *g = &m->net->entities[k];
				char url[CTNG_URL_MAX + 32];
				if (g->role != CTNG_ROLE_GOSSIPER)
					continue;
				snprintf(url, sizeof url, "%s/ctng/v1/gossip", g->url);
				post_object(m, url, &acc);
			}
			ctng_gossip_clear(&acc);
		}
	}
	CTNG_WARN("misbehaviour: false accusations sent", "period=%" PRIu64, p);
}

/* --------------------------------------------------------------- timers */

static void schedule(struct md *m)
{
	const ctng_clock *c = &m->net->clock;
	uint64_t now = ctng_now_ms(), p;
	if (!ctng_clock_period_of(c, now, &p)) {
		ctng_net_timer_start(m->timer, c->genesis_ms - now + 1, 0, NULL);
		return;
	}
	uint64_t start = ctng_clock_period_start(c, p);
	ctng_err e = {0};
	if ((!m->has_queried || m->last_queried < p) && now >= start + c->query_offset_ms) {
		m->has_queried = true;
		m->last_queried = p;
		ctng_monitor_sm_prune(m->sm, p ? p - 1 : 0);
		if (ctng_monitor_sm_on_period(m->sm, p, now, &m->acts, &e))
			CTNG_ERROR("period start failed", "err=\"%s\"", e.msg);
		run_actions(m);
		mon_index_period(m->mi, p);
		if (m->cfg->misbehaviour.false_accuse)
			false_accusations(m, p);
	}
	if ((!m->has_published || m->last_published < p) && now >= start + c->update_offset_ms) {
		if (ctng_monitor_sm_on_update_time(m->sm, p, now, &m->acts, &e))
			CTNG_ERROR("client update failed", "err=\"%s\"", e.msg);
		run_actions(m);
	}
	uint64_t cand[3] = {start + c->query_offset_ms, start + c->update_offset_ms,
	                    ctng_clock_period_start(c, p + 1) + c->query_offset_ms};
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < 3; i++)
		if (cand[i] > now && cand[i] < next)
			next = cand[i];
	ctng_net_timer_start(m->timer, next - now, 0, NULL);
}

static void on_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	schedule(arg);
}

/* -------------------------------------------------------------- restore */

static void restore_query(struct md *m, const ctng_store_query *q)
{
	ctng_store_objs l = {0};
	ctng_err e = {0};
	if (ctng_store_obj_find(m->st, q, &l, &e)) {
		CTNG_WARN("restore failed", "err=\"%s\"", e.msg);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		ctng_gossip_object o = {0};
		if (ctng_gossip_decode(l.v[i].json, l.v[i].json_len, &o, &e) ||
		    ctng_monitor_sm_restore_object(m->sm, &o, &e))
			CTNG_WARN("stored object skipped", "err=\"%s\"", e.msg);
		ctng_gossip_clear(&o);
	}
	ctng_store_objs_free(&l);
}

static void restore(struct md *m)
{
	const ctng_entity *self = m->cfg->self;
	ctng_err e = {0};
	for (size_t i = 0; i < self->n_loggers; i++) {
		uint8_t *v = NULL;
		size_t len = 0;
		if (ctng_store_kv_get(m->st, KV_LAST_STH, self->loggers[i], &v, &len, NULL) == 0) {
			ctng_gossip_object o = {0};
			if (ctng_gossip_decode((const char *)v, len, &o, &e) ||
			    ctng_monitor_sm_restore_last_sth(m->sm, &o, &e))
				CTNG_WARN("stored STH skipped", "err=\"%s\"", e.msg);
			ctng_gossip_clear(&o);
		}
		free(v);
		v = NULL;
		if (ctng_store_kv_get(m->st, KV_FORK, self->loggers[i], &v, &len, NULL) == 0)
			ctng_monitor_sm_restore_fork(m->sm, self->loggers[i], NULL);
		free(v);
	}
	ctng_store_query q = {.family = "CON"};
	restore_query(m, &q);
	uint64_t p;
	if (ctng_clock_period_of(&m->net->clock, ctng_now_ms(), &p)) {
		for (uint64_t k = p ? p - 1 : 0; k <= p + 1; k++) {
			ctng_store_query qp = {.has_period = true, .period = k};
			restore_query(m, &qp);
		}
	}
	uint64_t pub;
	if (ctng_store_kv_get_u64(m->st, KV_STATE, "published", &pub, NULL) == 0) {
		m->has_published = true;
		m->last_published = pub;
	}
	CTNG_INFO("state restored", "objects=%zu published=%s", ctng_monitor_sm_held(m->sm),
	          m->has_published ? "yes" : "no");
}

/* ----------------------------------------------------------------- run */

int ctng_monitor_run(const ctng_node_config *cfg, ctng_err *err)
{
	struct md m = {0};
	int rc;
	if (!cfg || !cfg->self || cfg->self->role != CTNG_ROLE_MONITOR || !cfg->key)
		return ctng_err_set(err, CTNG_EINVAL, "not a monitor configuration");
	m.cfg = cfg;
	m.net = &cfg->net;
	m.timeout_ms = ctng_monitor_fetch_timeout_ms(&m.net->clock);
	uint64_t pm = m.net->clock.period_ms;
	m.send_timeout_ms = pm / 4 < 500 ? 500 : pm / 4 > 5000 ? 5000 : pm / 4;
	const ctng_entity *g = ctng_network_entity(m.net, cfg->self->gossiper);
	if (!g)
		return ctng_err_set(err, CTNG_EINVAL, "monitor has no gossiper");
	snprintf(m.gossip_url, sizeof m.gossip_url, "%s/ctng/v1/gossip", g->url);
	snprintf(m.obs_url, sizeof m.obs_url, "%s/ctng/v1/observation", g->url);
	char host[CTNG_HOST_MAX];
	uint16_t port = 0;
	if ((rc = ctng_node_config_listen(cfg, host, &port, err)))
		return rc;
	if ((rc = ctng_mkdir_p(cfg->data_dir, 0700, err)))
		return rc;
	char *dbpath = path_join(cfg->data_dir, "monitor.db");
	if (!dbpath)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	m.st = ctng_store_open(dbpath, err);
	free(dbpath);
	if (!m.st)
		return err && err->code ? err->code : CTNG_EIO;
	if ((rc = ctng_monitor_sm_new(m.net, cfg->id, cfg->key, &m.sm, err)))
		goto out;
	restore(&m);
	if (!(m.loop = ctng_net_loop_new(err))) {
		rc = err && err->code ? err->code : CTNG_EIO;
		goto out;
	}
	if ((rc = ctng_net_loop_catch_signals(m.loop, NULL, NULL, err)))
		goto out;
	ctng_net_server_opts so = cfg->server;
	so.max_body = GOSSIP_BODY_MAX;
	if (!(m.srv = ctng_net_server_new_opts(m.loop, &so, err))) {
		rc = err && err->code ? err->code : CTNG_EIO;
		goto out;
	}
	if ((rc = mon_mirror_open(cfg, m.st, m.loop, m.srv, on_mirror, &m, &m.mm, err)) ||
	    (rc = mon_crv_open(m.net, m.st, m.loop, m.srv, m.timeout_ms, &m.mc, err)) ||
	    (rc = mon_index_open(cfg, m.st, m.loop, m.srv, mon_mirror_db(m.mm), m.mc, on_rid_con,
	                         &m, &m.mi, err)))
		goto out;
	if ((rc = ctng_net_server_bind(m.srv, host, port, NULL, err)) ||
	    (rc = ctng_net_server_route(m.srv, "POST", "/ctng/v1/gossip", h_gossip, &m, err)) ||
	    (rc = ctng_net_server_route(m.srv, "GET", "/ctng/v1/update", h_update, &m, err)) ||
	    (rc = monitor_metrics_init(&m.mx, m.srv, m.st, cfg, m.sm, err)))
		goto out;
	m.mx.mi = m.mi;
	mon_index_set_metrics(m.mi, &m.mx);
	m.dash = (monitor_dash){cfg, m.sm, m.st, &m.has_published, &m.last_published};
	if ((rc = monitor_dashboard_routes(m.srv, &m.dash, err)))
		goto out;
	if (!(m.timer = ctng_net_timer_new(m.loop, on_timer, &m, err)) ||
	    !(m.retry_timer = ctng_net_timer_new(m.loop, on_retry_timer, &m, err))) {
		rc = err && err->code ? err->code : CTNG_EIO;
		goto out;
	}
	CTNG_INFO("monitor listening", "listen=%s gossiper=%s fetch_timeout_ms=%" PRIu64,
	          cfg->listen, g->id, m.timeout_ms);
	schedule(&m);
	rc = ctng_net_loop_run(m.loop, err);
	CTNG_INFO("monitor stopping", "%s", "");
out:
	m.stopping = true;
	mon_mirror_stop(m.mm);
	mon_crv_stop(m.mc);
	mon_index_stop(m.mi);
	ctng_net_timer_free(m.timer);
	ctng_net_timer_free(m.retry_timer);
	ctng_net_server_free(m.srv);
	ctng_net_loop_free(m.loop);
	ctng_net_metrics_free(&m.mx.net);
	mon_index_free(m.mi);
	mon_mirror_free(m.mm);
	mon_crv_free(m.mc);
	ctng_monitor_actions_free(&m.acts);
	ctng_monitor_sm_free(m.sm);
	ctng_store_close(m.st);
	return rc;
}
