/*
 * mirror.c — the monitor daemon's mirror of the logs (docs/mirror.md): the
 * mirror state machine (src/mirror) on the monitor's loop and database. It
 * gets every STH the monitor accepts or receives, performs the fetches the
 * state machine asks for (HTTP GET with a deadline and a size limit),
 * stores verified runs, hands accusations and data CONs to the monitor's
 * gossiper, and serves the mirror to peers in the C2SP layout:
 *
 *   GET /mirror/<logger>/tile/<L>/<N>[.p/<W>]     hash tiles
 *   GET /mirror/<logger>/tile/data/<N>[.p/<W>]    entry bundles
 *   GET /mirror/<logger>/ctng/v1/tile-roots?...   tile roots (unsigned)
 *   GET /ctng/v1/mirror                           what is held, per logger
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"
#include "ctng/mirror.h"
#include "ctng/net.h"
#include "monitor/monitor_internal.h"

#define MAX_INFLIGHT 64

struct mon_mirror {
	const ctng_node_config *cfg;
	const ctng_network *net;
	ctng_store *st;
	ctng_net_loop *loop;
	ctng_mirror_sm *sm;
	ctng_mirror_db *db;
	ctng_net_timer *timer;
	mon_mirror_send_fn send;
	void *send_arg;
	size_t inflight;
	bool stopping;
	uint64_t entries_stored; /* since start (figures) */
};

struct fetch {
	mon_mirror *mm;
	uint64_t id;
};

static void run(mon_mirror *mm, ctng_mirror_actions *a);

static void arm(mon_mirror *mm, uint64_t at)
{
	if (!at || !mm->timer)
		return;
	uint64_t now = ctng_now_ms();
	ctng_net_timer_start(mm->timer, at > now ? at - now : 1, 0, NULL);
}

static void on_response(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct fetch *f = arg;
	mon_mirror *mm = f->mm;
	uint64_t id = f->id;
	free(f);
	mm->inflight--;
	if (mm->stopping)
		return;
	ctng_mirror_actions a = {0};
	ctng_err e = {0};
	char why[300] = "";
	if (err)
		snprintf(why, sizeof why, "%s: %s", ctng_err_name(err->code), err->msg);
	int rc = ctng_mirror_sm_on_response(mm->sm, id, err ? 0 : status, body, len,
	                                    err ? why : NULL, ctng_now_ms(), &a, &e);
	if (rc && rc != CTNG_ESTATE)
		CTNG_ERROR("mirror state machine failed", "err=\"%s\"", e.msg);
	run(mm, &a);
}

static void fetch(mon_mirror *mm, ctng_mirror_action *x, ctng_mirror_actions *now_acts)
{
	const ctng_entity *src = ctng_network_entity(mm->net, x->source);
	char url[CTNG_URL_MAX + 300];
	ctng_err e = {0};
	struct fetch *f = NULL;
	if (src && mm->inflight < MAX_INFLIGHT && (f = calloc(1, sizeof(*f)))) {
		f->mm = mm;
		f->id = x->id;
		snprintf(url, sizeof url, "%s%s", src->url, x->path);
		const char *headers[] = {"X-CTng-From", mm->cfg->id, NULL};
		ctng_net_client_opts o = {
		    .timeout_ms = x->timeout_ms, .max_response = x->max_bytes, .headers = headers};
		if (ctng_net_request(mm->loop, "GET", url, NULL, 0, &o, on_response, f, &e) == 0) {
			mm->inflight++;
			return;
		}
	}
	free(f);
	/* Not even started (a local limit: MAX_INFLIGHT, no descriptor): asked
	 * again later, and not a failure of the source — with many loggers it
	 * would otherwise read as "the logger failed" (an accusation if late). */
	if (src)
		CTNG_DEBUG("mirror: request not started", "source=%s err=\"%s\"", x->source,
		           e.msg[0] ? e.msg : "too many in flight");
	ctng_mirror_sm_on_not_sent(mm->sm, x->id, ctng_now_ms(), now_acts, NULL);
}

/* The STORE at a->v[i]. On failure nothing of it is kept, and the HELD
 * (and STOREs) of that logger after it in the batch are dropped: the DA
 * word is signed only for a tree on disk (persist before sign). */
static void store(mon_mirror *mm, ctng_mirror_actions *a, size_t i)
{
	ctng_mirror_action *x = &a->v[i];
	ctng_err e = {0};
	if (ctng_mirror_db_apply(mm->db, x->logger, &x->run, x->run.complete ? &x->obj : NULL,
	                         &e)) {
		CTNG_ERROR("mirror: cannot store entries", "logger=%s err=\"%s\"", x->logger,
		           e.msg);
		ctng_mirror_actions_store_failed(a, i);
		ctng_mirror_db_restore(mm->db, mm->sm, NULL);
		return;
	}
	mm->entries_stored += x->run.n;
	mm->send(mm->send_arg, MON_MIRROR_STORED, x->logger, x->period, NULL, NULL);
	CTNG_DEBUG("mirror: entries stored", "logger=%s first=%" PRIu64 " n=%zu complete=%d",
	           x->logger, x->run.first, x->run.n, x->run.complete);
}

static void run(mon_mirror *mm, ctng_mirror_actions *a)
{
	uint64_t timer = 0;
	while (a->n) {
		ctng_mirror_actions next = {0};
		if (a->next_timer_ms && (!timer || a->next_timer_ms < timer))
			timer = a->next_timer_ms;
		for (size_t i = 0; i < a->n; i++) {
			ctng_mirror_action *x = &a->v[i];
			switch (x->kind) {
			case CTNG_MIR_FETCH:
				fetch(mm, x, &next);
				break;
			case CTNG_MIR_STORE:
				store(mm, a, i);
				break;
			case CTNG_MIR_HELD:
				CTNG_INFO("mirror: tree held",
				          "logger=%s period=%" PRIu64 " size=%" PRIu64, x->logger,
				          x->period, ctng_mirror_sm_size(mm->sm, x->logger));
				mm->send(mm->send_arg, MON_MIRROR_HELD, x->logger, x->period,
				         &x->obj, NULL);
				break;
			case CTNG_MIR_ACCUSE:
				mm->send(mm->send_arg, MON_MIRROR_ACCUSE, x->logger, x->period,
				         NULL, x->reason);
				break;
			case CTNG_MIR_POM:
				mm->send(mm->send_arg, MON_MIRROR_POM, x->logger, x->period,
				         &x->obj, NULL);
				break;
			}
		}
		ctng_mirror_actions_free(a);
		*a = next;
	}
	if (a->next_timer_ms && (!timer || a->next_timer_ms < timer))
		timer = a->next_timer_ms;
	ctng_mirror_actions_free(a);
	arm(mm, timer);
}

static void on_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	mon_mirror *mm = arg;
	ctng_mirror_actions a = {0};
	ctng_err e = {0};
	if (ctng_mirror_sm_on_timer(mm->sm, ctng_now_ms(), &a, &e))
		CTNG_ERROR("mirror timer failed", "err=\"%s\"", e.msg);
	run(mm, &a);
}

void mon_mirror_on_sth(mon_mirror *mm, const ctng_gossip_object *sth)
{
	if (!mm)
		return;
	bool held = false;
	ctng_err e = {0};
	if (ctng_mirror_db_holds(mm->db, sth, &held, &e) == 0 && held &&
	    !ctng_mirror_sm_busy(mm->sm, sth->signer)) {
		mm->send(mm->send_arg, MON_MIRROR_HELD, sth->signer, sth->period, sth, NULL);
		return;
	}
	ctng_mirror_actions a = {0};
	if (ctng_mirror_sm_on_sth(mm->sm, sth, ctng_now_ms(), &a, &e))
		CTNG_WARN("mirror: STH refused", "logger=%s err=\"%s\"", sth->signer, e.msg);
	run(mm, &a);
}

void mon_mirror_convicted(mon_mirror *mm, const char *logger)
{
	if (mm)
		ctng_mirror_sm_convicted(mm->sm, logger);
}

bool mon_mirror_holds(mon_mirror *mm, const ctng_gossip_object *sth)
{
	bool held = false;
	return mm && ctng_mirror_db_holds(mm->db, sth, &held, NULL) == 0 && held;
}

uint64_t mon_mirror_entries(mon_mirror *mm)
{
	uint64_t total = 0;
	for (size_t i = 0; mm && i < ctng_network_count(mm->net, CTNG_ROLE_LOGGER); i++)
		total +=
		    ctng_mirror_sm_size(mm->sm, ctng_network_nth(mm->net, CTNG_ROLE_LOGGER, i)->id);
	return total;
}

/* -------------------------------------------------------------- serving */

static void h_status(ctng_net_req *req, void *arg)
{
	mon_mirror *mm = arg;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < ctng_network_count(mm->net, CTNG_ROLE_LOGGER); i++) {
		const char *id = ctng_network_nth(mm->net, CTNG_ROLE_LOGGER, i)->id;
		uint64_t size = 0, fl = 0, fp = 0;
		uint8_t root[32];
		char hex[65];
		if (ctng_mirror_db_size(mm->db, id, &size, root, NULL))
			continue;
		ctng_hex_encode(hex, root, 32);
		ctng_mirror_sm_bytes(mm->sm, id, &fl, &fp);
		json_array_append_new(arr,
		                      json_pack("{s:s,s:I,s:s,s:b,s:I,s:I}", "logger", id, "size",
		                                (json_int_t)size, "root", hex, "watched",
		                                ctng_network_watches(mm->net, mm->cfg->id, id),
		                                "bytes_from_logger", (json_int_t)fl,
		                                "bytes_from_peers", (json_int_t)fp));
	}
	ctng_net_reply_json(req, 200, json_pack("{s:o}", "loggers", arr ? arr : json_array()));
}

static void h_mirror(ctng_net_req *req, void *arg)
{
	mon_mirror *mm = arg;
	const char *path = ctng_net_req_path(req) + strlen("/mirror/");
	const char *slash = strchr(path, '/');
	char logger[CTNG_ID_MAX + 1];
	if (!slash || (size_t)(slash - path) > CTNG_ID_MAX) {
		ctng_net_reply_error(req, 404, "no such mirror path");
		return;
	}
	snprintf(logger, sizeof logger, "%.*s", (int)(slash - path), path);
	const ctng_entity *lg = ctng_network_entity(mm->net, logger);
	if (!lg || lg->role != CTNG_ROLE_LOGGER) {
		ctng_net_reply_error(req, 404, "no logger %s", logger);
		return;
	}
	const char *rest = slash + 1;
	ctng_err e = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	uint64_t n = 0;
	unsigned level = 0, width = 0;
	int rc;
	if (!strcmp(rest, "ctng/v1/tile-roots")) {
		uint64_t size = 0, first = 0, count = 0;
		ctng_tile_roots t = {0};
		json_t *j = NULL;
		if (!(rc = ctng_net_req_query_u64(req, "tree_size", INT64_MAX, &size, &e)) &&
		    !(rc = ctng_net_req_query_u64(req, "first", INT64_MAX, &first, &e)) &&
		    !(rc = ctng_net_req_query_u64(req, "count", CTNG_TILE_ROOTS_MAX, &count, &e)) &&
		    !(rc = ctng_mirror_db_tile_roots(mm->db, logger, size, first, (uint32_t)count,
		                                     &t, &e)))
			rc = ctng_tile_roots_to_json(&t, &j, &e);
		ctng_tile_roots_clear(&t);
		if (rc)
			ctng_net_reply_err(req, &e);
		else
			ctng_net_reply_json(req, 200, j);
		return;
	}
	if (!strncmp(rest, "tile/data/", 10)) {
		if (!(rc = ctng_merkle_tile_index_parse(rest + 10, &n, &width, &e)))
			rc = ctng_mirror_db_data_tile(mm->db, logger, n, width, &data, &len, &e);
	} else if (!strncmp(rest, "tile/", 5)) {
		if (!(rc = ctng_merkle_tile_path_parse(rest, &level, &n, &width, &e)))
			rc = ctng_mirror_db_hash_tile(mm->db, logger, level, n, width, &data, &len,
			                              &e);
	} else {
		rc = ctng_err_set(&e, CTNG_ENOTFOUND, "no such mirror path");
	}
	if (rc) {
		ctng_net_reply_err(req, &e);
		return;
	}
	ctng_net_reply_tile(req, data, len, width == CTNG_MERKLE_TILE_WIDTH);
	free(data);
}

/* ------------------------------------------------------------ lifecycle */

int mon_mirror_open(const ctng_node_config *cfg, ctng_store *st, ctng_net_loop *loop,
                    ctng_net_server *srv, mon_mirror_send_fn send, void *arg, mon_mirror **out,
                    ctng_err *err)
{
	*out = NULL;
	mon_mirror *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	mm->cfg = cfg;
	mm->net = &cfg->net;
	mm->st = st;
	mm->loop = loop;
	mm->send = send;
	mm->send_arg = arg;
	ctng_mirror_opts o;
	ctng_mirror_opts_default(&o, &mm->net->clock);
	int rc;
	if ((rc = ctng_mirror_db_open(st, mm->net, &mm->db, err)) ||
	    (rc = ctng_mirror_sm_new(mm->net, cfg->id, &o, &mm->sm, err)) ||
	    (rc = ctng_mirror_db_restore(mm->db, mm->sm, err)))
		goto fail;
	if (!(mm->timer = ctng_net_timer_new(loop, on_timer, mm, err))) {
		rc = err && err->code ? err->code : CTNG_EIO;
		goto fail;
	}
	if ((rc = ctng_net_server_route(srv, "GET", "/mirror/*", h_mirror, mm, err)) ||
	    (rc = ctng_net_server_route(srv, "GET", "/ctng/v1/mirror", h_status, mm, err)))
		goto fail;
	CTNG_INFO("mirror open", "entries=%" PRIu64, mon_mirror_entries(mm));
	*out = mm;
	return 0;
fail:
	mon_mirror_free(mm);
	return rc;
}

void mon_mirror_stop(mon_mirror *mm)
{
	if (!mm)
		return;
	mm->stopping = true;
	ctng_net_timer_free(mm->timer); /* timers go before their loop */
	mm->timer = NULL;
}

void mon_mirror_free(mon_mirror *mm)
{
	if (!mm)
		return;
	ctng_net_timer_free(mm->timer);
	ctng_mirror_sm_free(mm->sm);
	ctng_mirror_db_close(mm->db);
	free(mm);
}

ctng_mirror_db *mon_mirror_db(mon_mirror *mm)
{
	return mm ? mm->db : NULL;
}
