/*
 * node.c — one DKG participant on a daemon's event loop (docs/dkg.md §7):
 * the HTTP routes of the DKG on the daemon's server, the state machine's
 * actions carried out (state and messages committed to SQLite before any
 * message leaves, sends and announcements with retries, fetches of
 * announced messages this node lacks), the clock, the start once the other
 * participants answer, resuming a run after a restart, and at the end the
 * transcript file and the share in the store.
 *
 * Lifetime: ctng_dkg_node_stop before the server and loop are freed (it
 * frees the timers; routes then answer 503), ctng_dkg_node_free after the
 * loop is freed (callbacks of requests still in flight run during the
 * loop's free and use the node).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/net.h"
#include "ctng/store.h"
#include "dkg/dkg_internal.h"

#define FROM_HEADER    "X-CTng-From"
#define PROBE_MS       50
#define RETRY_TICK_MS  100
#define MAX_ATTEMPTS   200
#define SEND_TIMEOUTMS 5000

struct peer {
	char id[CTNG_ID_MAX + 1];
	char base[CTNG_URL_MAX];
	bool reachable;
};

struct send {
	ctng_dkg_node *n;
	size_t peer;
	char *body;
	size_t len;
	bool notice;
	unsigned attempts;
	uint64_t due_ms;
};

struct ctng_dkg_node {
	const ctng_node_config *cfg;
	ctng_net_loop *loop;
	ctng_store *st;
	ctng_dkg_sm *sm;
	ctng_dkg_actions acts;
	struct peer *peers;
	size_t n_peers;
	ctng_net_timer *sm_timer, *probe_timer, *retry_timer;
	uint64_t began_ms, phase_ms, finished_ms;
	bool finished, stopped;
	ctng_dkg_done_fn done;
	void *arg;
	struct send **retry;
	size_t n_retry, cap_retry;
	char *transcript_path;
	/* hashes being fetched, and from whom: one fetch per (message,
	 * announcer), not one per notice — never one per message, or an
	 * announcer that answers 404 (or nothing) would silence the genuine
	 * announcements of the same hash (tests/integration/test_dkg_split_deal.c) */
	uint8_t fetching[64][32];
	uint64_t fetching_ms[64];
	size_t fetching_peer[64];
	size_t n_fetching;
	uint64_t bytes_out, bytes_in;
};

static int peer_of(const ctng_dkg_node *n, const char *id)
{
	for (size_t i = 0; id && i < n->n_peers; i++)
		if (strcmp(n->peers[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------- sending */

static void post(struct send *s);

static void free_send(struct send *s)
{
	free(s->body);
	free(s);
}

static void requeue(struct send *s)
{
	ctng_dkg_node *n = s->n;
	/* others may still need our messages for a phase after we finished */
	bool over = n->finished && ctng_mono_ms() > n->finished_ms + n->phase_ms;
	if (n->stopped || over || ++s->attempts >= MAX_ATTEMPTS) {
		free_send(s);
		return;
	}
	if (n->n_retry == n->cap_retry) {
		size_t nc = n->cap_retry ? 2 * n->cap_retry : 32;
		struct send **nr = realloc(n->retry, nc * sizeof *nr);
		if (!nr) {
			free_send(s);
			return;
		}
		n->retry = nr;
		n->cap_retry = nc;
	}
	uint64_t backoff = (uint64_t)RETRY_TICK_MS << (s->attempts < 4 ? s->attempts : 4);
	s->due_ms = ctng_mono_ms() + (backoff > 1000 ? 1000 : backoff);
	n->retry[n->n_retry++] = s;
}

static void on_posted(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct send *s = arg;
	(void)len;
	if (s->n->stopped) {
		free_send(s);
		return;
	}
	if (err || status >= 500 || status == 0) {
		CTNG_DEBUG("dkg send failed, will retry", "to=%s status=%d err=\"%s\"",
		           s->n->peers[s->peer].id, status, err ? err->msg : (const char *)body);
		requeue(s);
		return;
	}
	if (status >= 400)
		CTNG_DEBUG("dkg message refused", "to=%s status=%d body=%.200s",
		           s->n->peers[s->peer].id, status, (const char *)body);
	free_send(s);
}

static void post(struct send *s)
{
	ctng_dkg_node *n = s->n;
	char url[CTNG_URL_MAX + 32];
	snprintf(url, sizeof url, "%s/ctng/v1/dkg/%s", n->peers[s->peer].base,
	         s->notice ? "notice" : "message");
	const char *headers[] = {FROM_HEADER, n->cfg->id, NULL};
	ctng_net_client_opts o = {
	    .timeout_ms = SEND_TIMEOUTMS, .content_type = "application/json", .headers = headers};
	n->bytes_out += s->len;
	if (ctng_net_request(n->loop, "POST", url, s->body, s->len, &o, on_posted, s, NULL))
		requeue(s);
}

static void send_to(ctng_dkg_node *n, size_t peer, const char *body, size_t len, bool notice)
{
	struct send *s = calloc(1, sizeof *s);
	if (!s || !(s->body = malloc(len + 1))) {
		free(s);
		CTNG_ERROR("dkg: out of memory", "%s", "");
		return;
	}
	memcpy(s->body, body, len);
	s->body[len] = 0;
	s->len = len;
	s->n = n;
	s->peer = peer;
	s->notice = notice;
	post(s);
}

static void on_retry_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	ctng_dkg_node *n = arg;
	uint64_t now = ctng_mono_ms();
	size_t k = 0;
	struct send **due = malloc((n->n_retry ? n->n_retry : 1) * sizeof *due);
	size_t nd = 0;
	for (size_t i = 0; i < n->n_retry; i++) {
		if (due && n->retry[i]->due_ms <= now)
			due[nd++] = n->retry[i];
		else
			n->retry[k++] = n->retry[i];
	}
	n->n_retry = k;
	for (size_t i = 0; i < nd; i++)
		post(due[i]);
	free(due);
}

/* ------------------------------------------------------------- actions */

static void arm_sm_timer(ctng_dkg_node *n)
{
	uint64_t next = ctng_dkg_sm_next_timer(n->sm), now = ctng_now_ms();
	if (!next)
		ctng_net_timer_stop(n->sm_timer);
	else
		ctng_net_timer_start(n->sm_timer, next > now ? next - now : 0, 0, NULL);
}

static void finished(ctng_dkg_node *n)
{
	if (n->finished)
		return;
	n->finished = true;
	n->finished_ms = ctng_mono_ms();
	ctng_net_timer_stop(n->probe_timer);
	char *tr = NULL;
	size_t tl = 0;
	ctng_err e = {0};
	if (ctng_dkg_sm_transcript(n->sm, &tr, &tl, &e) == 0) {
		if (ctng_write_file_atomic(n->transcript_path, tr, tl, 0644, &e))
			CTNG_WARN("cannot write the DKG transcript", "err=\"%s\"", e.msg);
		free(tr);
	}
	const ctng_dkg_outcome *o = ctng_dkg_sm_outcome(n->sm);
	uint8_t sk[32];
	uint32_t id = 0;
	if (o && ctng_dkg_sm_share(n->sm, &id, sk, &e) == 0) {
		const uint8_t *pk = o->share_pks[id - 1];
		if (ctng_dkg_store_share(n->st, pk, sk, id, &e))
			CTNG_ERROR("cannot store the DKG share", "err=\"%s\"", e.msg);
		char g[17];
		ctng_hex_encode(g, o->group_pk, 8);
		CTNG_INFO("DKG done",
		          "group_pk=%s... qualified=%zu disqualified=%zu ms=%llu bytes_out=%llu", g,
		          o->n_qualified, o->n_disqualified,
		          (unsigned long long)(ctng_mono_ms() - n->began_ms),
		          (unsigned long long)n->bytes_out);
		for (size_t i = 0; i < o->n_disqualified; i++)
			CTNG_WARN("DKG disqualified a dealer", "id=%s reason=\"%s\"",
			          o->disqualified[i].id, o->disqualified[i].reason);
		if (n->done)
			n->done(n->arg, o, id, sk, NULL);
		ctng_wipe(sk, sizeof sk);
	} else {
		CTNG_ERROR("DKG failed", "reason=\"%s\"", ctng_dkg_sm_failure(n->sm));
		if (n->done)
			n->done(n->arg, NULL, 0, NULL, ctng_dkg_sm_failure(n->sm));
	}
}

/* Persist, then send: nothing leaves before the state that produced it is
 * durable (a restart must resend the same deal, never a new one). */
static void run_actions(ctng_dkg_node *n)
{
	ctng_dkg_actions *a = &n->acts;
	const uint8_t *session = ctng_dkg_ctx_session(ctng_dkg_sm_ctx(n->sm));
	ctng_err e = {0};
	bool durable = true, fin = false;
	if (a->n && ctng_store_begin(n->st, &e) == 0) {
		for (size_t i = 0; i < a->n && durable; i++) {
			ctng_dkg_action *x = &a->v[i];
			if (x->kind == CTNG_DKG_ACT_SAVE_STATE)
				durable = dkg_store_state(n->st, session, x->json, &e) == 0;
			else if (x->kind == CTNG_DKG_ACT_STORE)
				durable = dkg_store_message(n->st, session, x->hash, x->type,
				                            x->sender, x->json, &e) == 0;
		}
		if (!durable || ctng_store_commit(n->st, &e)) {
			ctng_store_rollback(n->st, NULL);
			durable = false;
		}
	} else if (a->n) {
		durable = false;
	}
	if (!durable)
		CTNG_ERROR("dkg: cannot persist; nothing sent", "err=\"%s\"", e.msg);
	for (size_t i = 0; durable && i < a->n; i++) {
		ctng_dkg_action *x = &a->v[i];
		if (x->kind == CTNG_DKG_ACT_SEND) {
			for (size_t p = 0; p < n->n_peers; p++)
				if (!x->to[0] || strcmp(x->to, n->peers[p].id) == 0)
					send_to(n, p, x->json, x->len, false);
		} else if (x->kind == CTNG_DKG_ACT_ANNOUNCE) {
			char h[65], s[65], body[200];
			ctng_hex_encode(h, x->hash, 32);
			ctng_hex_encode(s, session, 32);
			int len = snprintf(body, sizeof body,
			                   "{\"session\":\"%s\",\"hash\":\"%s\"}", s, h);
			for (size_t p = 0; p < n->n_peers; p++)
				if (strcmp(n->peers[p].id, x->from) != 0 &&
				    strcmp(n->peers[p].id, x->sender) != 0)
					send_to(n, p, body, (size_t)len, true);
		} else if (x->kind == CTNG_DKG_ACT_FINISHED) {
			fin = true;
		}
	}
	ctng_dkg_actions_reset(a);
	if (!n->stopped)
		arm_sm_timer(n);
	if (fin)
		finished(n);
}

/* ------------------------------------------------------------ handlers */

static bool refuse_stopped(ctng_dkg_node *n, ctng_net_req *req)
{
	if (!n->stopped)
		return false;
	ctng_net_reply_error(req, 503, "dkg: this node is shutting down");
	return true;
}

static void reply_status(ctng_net_req *req, int rc)
{
	json_t *r = json_pack("{s:s}", "status", rc == CTNG_DKG_NEW ? "new" : "duplicate");
	ctng_net_reply_json(req, 200, r);
}

static void h_message(ctng_net_req *req, void *arg)
{
	ctng_dkg_node *n = arg;
	if (refuse_stopped(n, req))
		return;
	size_t len = 0;
	const uint8_t *body = ctng_net_req_body(req, &len);
	n->bytes_in += len;
	const char *from = ctng_net_req_header(req, FROM_HEADER);
	ctng_err e = {0};
	int rc = ctng_dkg_sm_on_message(n->sm, (const char *)body, len, from, ctng_now_ms(),
	                                &n->acts, &e);
	run_actions(n);
	if (rc < 0) {
		CTNG_DEBUG("dkg message rejected", "from=%s err=\"%s\"", from ? from : "-", e.msg);
		ctng_net_reply_err(req, &e);
		return;
	}
	reply_status(req, rc);
}

struct fetch {
	ctng_dkg_node *n;
	char from[CTNG_ID_MAX + 1];
};

static void on_fetched(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct fetch *f = arg;
	ctng_dkg_node *n = f->n;
	if (!n->stopped && !err && status == 200) {
		ctng_err e = {0};
		n->bytes_in += len;
		int rc = ctng_dkg_sm_on_message(n->sm, (const char *)body, len, f->from,
		                                ctng_now_ms(), &n->acts, &e);
		if (rc < 0)
			CTNG_DEBUG("fetched dkg message rejected", "from=%s err=\"%s\"", f->from,
			           e.msg);
		run_actions(n);
	}
	free(f);
}

/* {"session": hex, "hash": hex}: fetch the message if we lack it. */
static void h_notice(ctng_net_req *req, void *arg)
{
	ctng_dkg_node *n = arg;
	if (refuse_stopped(n, req))
		return;
	ctng_err e = {0};
	size_t len = 0;
	const uint8_t *body = ctng_net_req_body(req, &len);
	const char *from = ctng_net_req_header(req, FROM_HEADER);
	uint8_t s[32], h[32];
	char hash[65];
	int p = peer_of(n, from);
	if (ctng_dkg_notice_parse((const char *)body, len, s, h, &e)) {
		ctng_net_reply_err(req, &e);
		return;
	}
	if (p < 0) {
		ctng_net_reply_error(
		    req, 400, "dkg notice: the " FROM_HEADER " header must name a participant");
		return;
	}
	ctng_hex_encode(hash, h, 32);
	if (memcmp(s, ctng_dkg_ctx_session(ctng_dkg_sm_ctx(n->sm)), 32) != 0) {
		ctng_net_reply_error(req, 409, "dkg notice: another session");
		return;
	}
	bool want = ctng_dkg_sm_wants(n->sm, h);
	uint64_t now = ctng_mono_ms();
	for (size_t i = 0; want && i < 64 && i < n->n_fetching; i++)
		if (now - n->fetching_ms[i] < SEND_TIMEOUTMS && n->fetching_peer[i] == (size_t)p &&
		    !memcmp(n->fetching[i], h, 32))
			want = false; /* already asking this announcer */
	if (want) {
		size_t slot = n->n_fetching++ % 64;
		memcpy(n->fetching[slot], h, 32);
		n->fetching_ms[slot] = now;
		n->fetching_peer[slot] = (size_t)p;
		struct fetch *f = calloc(1, sizeof *f);
		char url[CTNG_URL_MAX + 120];
		snprintf(url, sizeof url, "%s/ctng/v1/dkg/message?hash=%s", n->peers[p].base, hash);
		if (f) {
			f->n = n;
			snprintf(f->from, sizeof f->from, "%s", n->peers[p].id);
			if (ctng_net_get(n->loop, url, SEND_TIMEOUTMS, on_fetched, f, NULL))
				free(f);
		}
	}
	json_t *r = json_pack("{s:s}", "status", want ? "fetching" : "have or fetching");
	ctng_net_reply_json(req, 200, r);
}

static void h_get_message(ctng_net_req *req, void *arg)
{
	ctng_dkg_node *n = arg;
	if (refuse_stopped(n, req))
		return;
	const char *hash = NULL;
	uint8_t h[32];
	ctng_err e = {0};
	if (ctng_net_req_query_required(req, "hash", &hash, &e) ||
	    ctng_hex_decode_exact(h, 32, hash, &e)) {
		ctng_net_reply_error(req, 400, "%s", e.msg);
		return;
	}
	size_t len = 0;
	const char *js = ctng_dkg_sm_get(n->sm, h, &len);
	if (!js) {
		ctng_net_reply_error(req, 404, "dkg: no message with that hash here");
		return;
	}
	n->bytes_out += len;
	ctng_net_reply_bytes(req, 200, "application/json", js, len, NULL);
}

static void add_msg(const char *json, size_t len, void *arg)
{
	json_t *m = json_loadb(json, len, 0, NULL);
	if (m)
		json_array_append_new(arg, m);
}

static void h_messages(ctng_net_req *req, void *arg)
{
	ctng_dkg_node *n = arg;
	if (refuse_stopped(n, req))
		return;
	json_t *a = json_array();
	if (a)
		ctng_dkg_sm_each(n->sm, add_msg, a);
	char s[65];
	ctng_hex_encode(s, ctng_dkg_ctx_session(ctng_dkg_sm_ctx(n->sm)), 32);
	ctng_net_reply_json(
	    req, 200, json_pack("{s:s, s:o}", "session", s, "messages", a ? a : json_array()));
}

static void h_status(ctng_net_req *req, void *arg)
{
	ctng_dkg_node *n = arg;
	if (refuse_stopped(n, req))
		return;
	char s[65];
	ctng_hex_encode(s, ctng_dkg_ctx_session(ctng_dkg_sm_ctx(n->sm)), 32);
	json_t *r = json_pack("{s:s, s:s, s:s}", "id", n->cfg->id, "session", s, "phase",
	                      ctng_dkg_phase_name(ctng_dkg_sm_phase(n->sm)));
	const ctng_dkg_outcome *o = ctng_dkg_sm_outcome(n->sm);
	if (r && o) {
		char *g = ctng_hex_strdup(o->group_pk, 96);
		json_t *q = json_array();
		for (size_t i = 0; q && i < o->n_qualified; i++)
			json_array_append_new(q, json_string(o->qualified[i]));
		json_object_set_new(r, "group_pk", json_string(g ? g : ""));
		json_object_set_new(r, "qualified", q ? q : json_array());
		free(g);
	}
	if (r && ctng_dkg_sm_phase(n->sm) == CTNG_DKG_FAILED)
		json_object_set_new(r, "failure", json_string(ctng_dkg_sm_failure(n->sm)));
	if (r) {
		json_object_set_new(r, "bytes_out", json_integer((json_int_t)n->bytes_out));
		json_object_set_new(r, "bytes_in", json_integer((json_int_t)n->bytes_in));
	}
	ctng_net_reply_json(req, 200, r);
}

static void h_transcript(ctng_net_req *req, void *arg)
{
	ctng_dkg_node *n = arg;
	if (refuse_stopped(n, req))
		return;
	char *tr = NULL;
	size_t tl = 0;
	ctng_err e = {0};
	if (ctng_dkg_sm_transcript(n->sm, &tr, &tl, &e)) {
		ctng_net_reply_error(req, 404, "%s", e.msg);
		return;
	}
	ctng_net_reply_bytes(req, 200, "application/json", tr, tl, NULL);
	free(tr);
}

/* ------------------------------------------------------- timers, start */

static void on_sm_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	ctng_dkg_node *n = arg;
	ctng_err e = {0};
	if (ctng_dkg_sm_on_timer(n->sm, ctng_now_ms(), &n->acts, &e))
		CTNG_ERROR("dkg timer step failed", "err=\"%s\"", e.msg);
	run_actions(n);
}

static void start(ctng_dkg_node *n, const char *why)
{
	if (ctng_dkg_sm_phase(n->sm) != CTNG_DKG_WAIT)
		return;
	ctng_err e = {0};
	CTNG_INFO("DKG starting", "why=\"%s\" participants=%zu", why, n->n_peers + 1);
	if (ctng_dkg_sm_start(n->sm, ctng_now_ms(), &n->acts, &e))
		CTNG_ERROR("DKG start failed", "err=\"%s\"", e.msg);
	run_actions(n);
}

struct probe {
	ctng_dkg_node *n;
	size_t peer;
};

static void on_probed(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct probe *p = arg;
	ctng_dkg_node *n = p->n;
	if (!n->stopped && !err && status == 200) {
		json_t *j = json_loadb((const char *)body, len, 0, NULL);
		const char *s = json_string_value(json_object_get(j, "session"));
		char mine[65];
		ctng_hex_encode(mine, ctng_dkg_ctx_session(ctng_dkg_sm_ctx(n->sm)), 32);
		n->peers[p->peer].reachable = s && strcmp(s, mine) == 0;
		if (s && !n->peers[p->peer].reachable)
			CTNG_WARN("a DKG peer runs another session (another network file?)",
			          "peer=%s", n->peers[p->peer].id);
		json_decref(j);
	}
	free(p);
}

/* Starts once every participant answers with our session, or after one
 * phase of waiting when enough of them do. */
static void on_probe_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	ctng_dkg_node *n = arg;
	if (ctng_dkg_sm_phase(n->sm) != CTNG_DKG_WAIT) {
		ctng_net_timer_stop(n->probe_timer);
		return;
	}
	size_t up = 0;
	for (size_t i = 0; i < n->n_peers; i++)
		up += n->peers[i].reachable;
	const ctng_dkg_ctx *c = ctng_dkg_sm_ctx(n->sm);
	if (up == n->n_peers) {
		start(n, "every participant is up");
		return;
	}
	if (ctng_mono_ms() - n->began_ms >= n->phase_ms && up + 1 >= c->min_qual) {
		start(n, "waited a phase; enough participants are up");
		return;
	}
	for (size_t i = 0; i < n->n_peers; i++) {
		if (n->peers[i].reachable)
			continue;
		struct probe *p = malloc(sizeof *p);
		char url[CTNG_URL_MAX + 32];
		snprintf(url, sizeof url, "%s/ctng/v1/dkg/status", n->peers[i].base);
		if (p) {
			p->n = n;
			p->peer = i;
			if (ctng_net_get(n->loop, url, PROBE_MS * 2, on_probed, p, NULL))
				free(p);
		}
	}
}

/* ------------------------------------------------------------ lifecycle */

struct restore_ctx {
	ctng_dkg_sm *sm;
	size_t n;
};

static int restore_one(const char *json, size_t len, void *arg)
{
	struct restore_ctx *r = arg;
	ctng_err e = {0};
	if (ctng_dkg_sm_restore_message(r->sm, json, len, &e))
		CTNG_WARN("dkg: a stored message does not restore", "err=\"%s\"", e.msg);
	else
		r->n++;
	return 0;
}

int ctng_dkg_node_start(const ctng_node_config *cfg, ctng_net_loop *loop, ctng_net_server *srv,
                        ctng_store *st, const uint8_t *old_share, ctng_dkg_done_fn done, void *arg,
                        ctng_dkg_node **out, ctng_err *err)
{
	*out = NULL;
	if (!cfg->key || !cfg->has_dkg_sk)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "dkg: %s has no private_key or dkg_private_key in its config "
		                    "(make its keys with ctng keygen)",
		                    cfg->id);
	int rc = ctng_dkg_store_migrate(st, err);
	if (rc)
		return rc;
	ctng_dkg_node *n = calloc(1, sizeof *n);
	if (!n)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	n->cfg = cfg;
	n->loop = loop;
	n->st = st;
	n->done = done;
	n->arg = arg;
	n->began_ms = ctng_mono_ms();
	ctng_dkg_config c = {.net = &cfg->net,
	                     .self_id = cfg->id,
	                     .sign_key = cfg->key,
	                     .dkg_sk = cfg->dkg_sk,
	                     .old_share = old_share};
	char *state = NULL;
	if ((rc = ctng_dkg_sm_new(&c, &n->sm, err)))
		goto fail;
	const ctng_dkg_ctx *ctx = ctng_dkg_sm_ctx(n->sm);
	n->phase_ms = cfg->net.dkg_phase_ms ? cfg->net.dkg_phase_ms : CTNG_DKG_DEFAULT_PHASE_MS;
	n->peers = calloc(ctx->nr, sizeof *n->peers);
	n->transcript_path = malloc(strlen(cfg->data_dir) + 32);
	if (!n->peers || !n->transcript_path) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto fail;
	}
	sprintf(n->transcript_path, "%s/dkg-transcript.json", cfg->data_dir);
	for (size_t i = 0; i < ctx->nr; i++) {
		if (strcmp(ctx->recips[i].id, cfg->id) == 0)
			continue;
		const ctng_entity *e = ctng_network_entity(&cfg->net, ctx->recips[i].id);
		struct peer *p = &n->peers[n->n_peers++];
		snprintf(p->id, sizeof p->id, "%s", e->id);
		snprintf(p->base, sizeof p->base, "%s", e->url);
	}
	/* a run interrupted by a restart resumes from what was committed */
	struct restore_ctx r = {n->sm, 0};
	if ((rc = dkg_load(st, ctx->session, &state, restore_one, &r, err)))
		goto fail;
	bool resumed = state || r.n;
	if (state && (rc = ctng_dkg_sm_restore_state(n->sm, state, strlen(state), err)))
		goto fail;
	if (resumed && (rc = ctng_dkg_sm_resume(n->sm, ctng_now_ms(), &n->acts, err)))
		goto fail;
	if (resumed)
		CTNG_INFO("DKG resumed", "phase=%s messages=%zu",
		          ctng_dkg_phase_name(ctng_dkg_sm_phase(n->sm)), r.n);
	if ((rc = ctng_net_server_route(srv, "POST", "/ctng/v1/dkg/message", h_message, n, err)) ||
	    (rc = ctng_net_server_route(srv, "POST", "/ctng/v1/dkg/notice", h_notice, n, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/dkg/message", h_get_message, n,
	                                err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/dkg/messages", h_messages, n, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/dkg/status", h_status, n, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/dkg/transcript", h_transcript, n,
	                                err)))
		goto fail;
	if (!(n->sm_timer = ctng_net_timer_new(loop, on_sm_timer, n, err)) ||
	    !(n->probe_timer = ctng_net_timer_new(loop, on_probe_timer, n, err)) ||
	    !(n->retry_timer = ctng_net_timer_new(loop, on_retry_timer, n, err))) {
		rc = err ? err->code : CTNG_ENOMEM;
		goto fail;
	}
	free(state);
	*out = n;
	ctng_net_timer_start(n->retry_timer, RETRY_TICK_MS, RETRY_TICK_MS, NULL);
	if (ctng_dkg_sm_phase(n->sm) == CTNG_DKG_WAIT)
		ctng_net_timer_start(n->probe_timer, 0, PROBE_MS, NULL);
	run_actions(n);
	return 0;
fail:
	if (state) {
		ctng_wipe(state, strlen(state));
		free(state);
	}
	n->stopped = true;
	ctng_dkg_node_stop(n);
	ctng_dkg_node_free(n);
	return rc;
}

void ctng_dkg_node_stop(ctng_dkg_node *n)
{
	if (!n)
		return;
	n->stopped = true;
	ctng_net_timer_free(n->sm_timer);
	ctng_net_timer_free(n->probe_timer);
	ctng_net_timer_free(n->retry_timer);
	n->sm_timer = n->probe_timer = n->retry_timer = NULL;
}

void ctng_dkg_node_free(ctng_dkg_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_retry; i++)
		free_send(n->retry[i]);
	free(n->retry);
	ctng_dkg_actions_free(&n->acts);
	ctng_dkg_sm_free(n->sm);
	free(n->peers);
	free(n->transcript_path);
	free(n);
}

ctng_dkg_phase ctng_dkg_node_phase(const ctng_dkg_node *n)
{
	return ctng_dkg_sm_phase(n->sm);
}
