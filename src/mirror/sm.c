/*
 * sm.c — the mirror state machine (no I/O; docs/mirror.md). Per logger it
 * holds the compact range of the entries stored and of the last STH whose
 * whole tree was verified (the base), and runs one job toward the largest
 * STH seen:
 *
 *   ROOTS  the signed (from the logger) or unsigned (from a peer mirror)
 *          roots of the data tiles from the base's last whole tile to the
 *          end of the STH's tree, until, appended to the base's subtrees,
 *          they give the STH's root. Logger-signed roots that do not are a
 *          data CON (POM action);
 *   DATA   the entry bundles from the stored size on, up to max_inflight at
 *          a time, each checked against its (now verified) tile root, and
 *          handed over in order as STORE runs; the last run makes the STH
 *          the new base and the tree HELD.
 *
 * Every fetch goes to a source: the logger or another monitor's mirror, in
 * an order that depends on whether this monitor watches the logger. A
 * source that answers "not yet" (404) or fails with a status is retried
 * later; a peer that serves data that does not verify, or gives no answer at
 * all (timeout, transport failure), is dropped for the job. A unit without
 * an answer after hedge_ms is asked of the next source as well (the first
 * answer that verifies wins), and a source with a request unanswered for
 * that long gets no new unit while another source can take it: so peers
 * that accept requests and never answer cost a unit hedge_ms each, not a
 * fetch timeout each (docs/mirror.md §Sources). If the logger itself failed
 * and the job is not done at the deadline, ACCUSE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"
#include "ctng/mirror.h"

enum uphase { U_QUEUED = 0, U_INFLIGHT, U_DONE };

typedef struct source {
	char id[CTNG_ID_MAX + 1];
	const char *url_prefix; /* "" for the logger, "/mirror/<logger>" for a peer */
	bool is_logger;
	bool bad;          /* served data that does not verify (this job) */
	bool silent;       /* a peer that gave no answer at all (this job) */
	uint64_t retry_at; /* not before */
	unsigned fails;
} source;

typedef struct unit {
	enum uphase ph;
	uint64_t first;    /* roots: first tile; data: the tile */
	uint32_t count;    /* roots: tiles */
	int src, next_src; /* src: the source of the answer being handled */
	unsigned nout;     /* requests outstanding for this unit (U_INFLIGHT) */
	uint64_t hedge_at; /* U_INFLIGHT: ask one more source then */
	uint64_t wait_until;
	bool from_logger;
	ctng_tile_roots signed_roots; /* roots from the logger (for a PoM) */
	uint8_t *bundle;              /* data, done: the bundle */
	ctng_mirror_entry *entries;   /* data, done: parsed */
	unsigned width;
} unit;

/* A request sent and not answered yet (of the current job). */
typedef struct request {
	uint64_t id, sent;
	int src;
	bool roots;     /* a roots batch (else a data tile) */
	uint64_t first; /* the unit's first tile */
	bool orphan;    /* its unit got its answer elsewhere (or was reset) */
} request;

typedef struct job {
	bool active;
	ctng_gossip_object sth;
	ctng_sth head;
	uint64_t start_ms, deadline_ms, logger_ok_ms;
	bool logger_failed, accused;
	char logger_reason[160];
	bool data;         /* phase: false ROOTS, true DATA */
	uint64_t n0, nend; /* tiles [n0, nend) */
	uint8_t (*roots)[32];
	unit *batches;
	size_t n_batches;
	unit *win; /* data window: tiles next_tile .. next_tile + max_inflight - 1 */
	uint64_t next_tile;
	request *rq; /* outstanding requests */
	size_t nrq, caprq;
} job;

typedef struct mlog {
	const ctng_entity *e;
	bool watched, convicted;
	source *src;
	size_t n_src;
	ctng_merkle_range range, base_range;
	bool has_base;
	ctng_gossip_object base;
	job j;
	uint64_t bytes_logger, bytes_peers;
} mlog;

struct ctng_mirror_sm {
	const ctng_network *net;
	char self[CTNG_ID_MAX + 1];
	ctng_mirror_opts o;
	mlog *l;
	size_t nl;
	uint64_t next_id;
	ctng_merkle_hasher *hs;
};

/* ------------------------------------------------------------ helpers */

void ctng_mirror_opts_default(ctng_mirror_opts *o, const ctng_clock *c)
{
	memset(o, 0, sizeof(*o));
	o->max_inflight = 4;
	uint64_t pm = c ? c->period_ms : 60000;
	o->fetch_timeout_ms = pm / 4 < 500 ? 500 : pm / 4 > 10000 ? 10000 : pm / 4;
	o->retry_ms = pm / 40 < 20 ? 20 : pm / 40 > 1000 ? 1000 : pm / 40;
	o->hedge_ms = 2 * o->retry_ms;
}

uint64_t ctng_mirror_deadline_offset_ms(const ctng_clock *c)
{
	uint64_t busy = c->query_offset_ms + c->gossip_wait_ms;
	uint64_t slack = c->update_offset_ms > busy ? c->update_offset_ms - busy : 0;
	uint64_t d = c->update_offset_ms > c->gossip_wait_ms + slack / 4
	                 ? c->update_offset_ms - c->gossip_wait_ms - slack / 4
	                 : 0;
	return d > c->query_offset_ms ? d : c->query_offset_ms + 1;
}

static void action_clear(ctng_mirror_action *x)
{
	ctng_gossip_clear(&x->obj);
	free(x->run.entries);
	for (size_t k = 0; k < x->run.n_bundles; k++)
		free(x->run.bundles[k]);
	free(x->run.bundles);
}

void ctng_mirror_actions_free(ctng_mirror_actions *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		action_clear(&a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static ctng_mirror_action *act(ctng_mirror_actions *a, enum ctng_mirror_action_kind k,
                               const mlog *l, ctng_err *err)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 8;
		ctng_mirror_action *v = realloc(a->v, nc * sizeof(*v));
		if (!v) {
			ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			return NULL;
		}
		a->v = v;
		a->cap = nc;
	}
	ctng_mirror_action *x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	snprintf(x->logger, sizeof x->logger, "%s", l->e->id);
	return x;
}

static void timer_at(ctng_mirror_actions *a, uint64_t t)
{
	if (t && t != UINT64_MAX && (a->next_timer_ms == 0 || t < a->next_timer_ms))
		a->next_timer_ms = t;
}

static mlog *find_log(ctng_mirror_sm *sm, const char *id)
{
	for (size_t i = 0; id && i < sm->nl; i++)
		if (strcmp(sm->l[i].e->id, id) == 0)
			return &sm->l[i];
	return NULL;
}

static void unit_clear(unit *u)
{
	ctng_tile_roots_clear(&u->signed_roots);
	free(u->bundle);
	free(u->entries);
	memset(u, 0, sizeof(*u));
}

static void job_clear(job *j, unsigned win)
{
	for (size_t i = 0; i < j->n_batches; i++)
		unit_clear(&j->batches[i]);
	free(j->batches);
	if (j->win)
		for (unsigned i = 0; i < win; i++)
			unit_clear(&j->win[i]);
	free(j->win);
	free(j->roots);
	free(j->rq);
	ctng_gossip_clear(&j->sth);
	memset(j, 0, sizeof(*j));
}

/* ---------------------------------------------------------- lifecycle */

static uint64_t mix(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *s = a; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	h ^= 0xff;
	for (const char *s = b; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* Source order: the logger first if watched (or preferred), peers watching
 * the logger, then the other peers (each group rotated by a hash of this
 * monitor and the logger, so peers share the load), else the logger last. */
static int build_sources(ctng_mirror_sm *sm, mlog *l, ctng_err *err)
{
	const ctng_network *net = sm->net;
	size_t nm = ctng_network_count(net, CTNG_ROLE_MONITOR);
	l->src = calloc(nm + 1, sizeof(*l->src));
	if (!l->src)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	char *prefix = malloc(CTNG_ID_MAX + 16);
	if (!prefix)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	snprintf(prefix, CTNG_ID_MAX + 16, "/mirror/%s", l->e->id);
	const ctng_entity *grp[2][CTNG_CONFIG_MAX_ENTITIES];
	size_t ng[2] = {0, 0};
	for (size_t i = 0; i < nm; i++) {
		const ctng_entity *m = ctng_network_nth(net, CTNG_ROLE_MONITOR, i);
		if (strcmp(m->id, sm->self) == 0)
			continue;
		int g = ctng_network_watches(net, m->id, l->e->id) ? 0 : 1;
		grp[g][ng[g]++] = m;
	}
	bool logger_first = l->watched || sm->o.prefer_logger;
	size_t k = 0;
	if (logger_first) {
		snprintf(l->src[k].id, sizeof l->src[k].id, "%s", l->e->id);
		l->src[k].is_logger = true;
		l->src[k++].url_prefix = "";
	}
	uint64_t rot = mix(sm->self, l->e->id);
	for (int g = 0; g < 2; g++) {
		for (size_t i = 0; i < ng[g]; i++) {
			const ctng_entity *m = grp[g][(i + rot) % ng[g]];
			snprintf(l->src[k].id, sizeof l->src[k].id, "%s", m->id);
			l->src[k++].url_prefix = prefix;
		}
	}
	if (!logger_first) {
		snprintf(l->src[k].id, sizeof l->src[k].id, "%s", l->e->id);
		l->src[k].is_logger = true;
		l->src[k++].url_prefix = "";
	}
	l->n_src = k;
	/* The prefix string is shared by the peer sources; the first peer owns it. */
	bool used = false;
	for (size_t i = 0; i < k; i++)
		used = used || l->src[i].url_prefix == prefix;
	if (!used)
		free(prefix);
	return 0;
}

static void free_sources(mlog *l)
{
	for (size_t i = 0; i < l->n_src; i++)
		if (!l->src[i].is_logger) {
			free((char *)l->src[i].url_prefix);
			break;
		}
	free(l->src);
}

int ctng_mirror_sm_new(const ctng_network *net, const char *monitor_id,
                       const ctng_mirror_opts *opts, ctng_mirror_sm **out, ctng_err *err)
{
	*out = NULL;
	const ctng_entity *me = ctng_network_entity(net, monitor_id);
	if (!me || me->role != CTNG_ROLE_MONITOR)
		return ctng_err_set(err, CTNG_EINVAL, "mirror: %s is not a monitor of the network",
		                    monitor_id ? monitor_id : "");
	ctng_mirror_sm *sm = calloc(1, sizeof(*sm));
	if (!sm)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	sm->net = net;
	snprintf(sm->self, sizeof sm->self, "%s", monitor_id);
	if (opts)
		sm->o = *opts;
	else
		ctng_mirror_opts_default(&sm->o, &net->clock);
	if (sm->o.max_inflight == 0)
		sm->o.max_inflight = 1;
	if (sm->o.max_inflight > 64)
		sm->o.max_inflight = 64;
	if (sm->o.retry_ms == 0)
		sm->o.retry_ms = 20;
	if (sm->o.hedge_ms == 0) /* options made before hedge_ms existed */
		sm->o.hedge_ms = 2 * sm->o.retry_ms;
	int rc = 0;
	sm->nl = ctng_network_count(net, CTNG_ROLE_LOGGER);
	if (!(sm->l = calloc(sm->nl ? sm->nl : 1, sizeof(*sm->l))) ||
	    ctng_merkle_hasher_new(&sm->hs))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < sm->nl; i++) {
		mlog *l = &sm->l[i];
		l->e = ctng_network_nth(net, CTNG_ROLE_LOGGER, i);
		l->watched = ctng_network_watches(net, monitor_id, l->e->id);
		ctng_merkle_range_init(&l->range);
		ctng_merkle_range_init(&l->base_range);
		rc = build_sources(sm, l, err);
	}
	if (rc) {
		ctng_mirror_sm_free(sm);
		return rc;
	}
	*out = sm;
	return 0;
}

void ctng_mirror_sm_free(ctng_mirror_sm *sm)
{
	if (!sm)
		return;
	for (size_t i = 0; sm->l && i < sm->nl; i++) {
		job_clear(&sm->l[i].j, sm->o.max_inflight);
		ctng_gossip_clear(&sm->l[i].base);
		free_sources(&sm->l[i]);
	}
	free(sm->l);
	ctng_merkle_hasher_free(sm->hs);
	free(sm);
}

int ctng_mirror_sm_restore(ctng_mirror_sm *sm, const char *logger, const ctng_mirror_state *st,
                           ctng_err *err)
{
	mlog *l = find_log(sm, logger);
	if (!l)
		return ctng_err_set(err, CTNG_EINVAL, "mirror: %s is not a logger", logger);
	if (st->range.size < st->base_range.size)
		return ctng_err_set(err, CTNG_EINVAL, "mirror: base beyond the stored entries");
	job_clear(&l->j, sm->o.max_inflight);
	l->range = st->range;
	l->base_range = st->base_range;
	ctng_gossip_clear(&l->base);
	l->has_base = st->has_base;
	if (st->has_base)
		return ctng_gossip_copy(&l->base, &st->base, err);
	return 0;
}

void ctng_mirror_sm_convicted(ctng_mirror_sm *sm, const char *logger)
{
	mlog *l = find_log(sm, logger);
	if (l) {
		l->convicted = true;
		job_clear(&l->j, sm->o.max_inflight);
	}
}

uint64_t ctng_mirror_sm_size(const ctng_mirror_sm *sm, const char *logger)
{
	mlog *l = find_log((ctng_mirror_sm *)sm, logger);
	return l ? l->range.size : 0;
}

bool ctng_mirror_sm_busy(const ctng_mirror_sm *sm, const char *logger)
{
	mlog *l = find_log((ctng_mirror_sm *)sm, logger);
	return l && l->j.active;
}

void ctng_mirror_sm_bytes(const ctng_mirror_sm *sm, const char *logger, uint64_t *from_logger,
                          uint64_t *from_peers)
{
	mlog *l = find_log((ctng_mirror_sm *)sm, logger);
	*from_logger = l ? l->bytes_logger : 0;
	*from_peers = l ? l->bytes_peers : 0;
}

/* ------------------------------------------------------------- fetching */

/* Has source si a request of this job unanswered since before `before`
 * (any unit), or one for the unit (roots, first)? */
static bool src_waiting(const job *j, int si, uint64_t before)
{
	for (size_t i = 0; i < j->nrq; i++)
		if (j->rq[i].src == si && j->rq[i].sent < before)
			return true;
	return false;
}

static bool src_asked(const job *j, int si, bool roots, uint64_t first)
{
	for (size_t i = 0; i < j->nrq; i++)
		if (j->rq[i].src == si && !j->rq[i].orphan && j->rq[i].roots == roots &&
		    j->rq[i].first == first)
			return true;
	return false;
}

/* Its unit got an answer (or was reset): later answers only tell of their
 * source. */
static void orphan_unit(job *j, bool roots, uint64_t first)
{
	for (size_t i = 0; i < j->nrq; i++)
		if (j->rq[i].roots == roots && j->rq[i].first == first)
			j->rq[i].orphan = true;
}

/* Picks a source for u (starting at u->next_src) and emits the FETCH. Not
 * the sources dropped, backing off, already asked for u, nor (unless
 * any_waiting) one with a request unanswered for hedge_ms. Returns 0 and
 * *sent; else *soonest = when one may become available. */
static int dispatch(ctng_mirror_sm *sm, mlog *l, unit *u, bool roots, bool any_waiting,
                    uint64_t now, bool *sent, uint64_t *soonest, ctng_mirror_actions *acts,
                    ctng_err *err)
{
	job *j = &l->j;
	*sent = false;
	*soonest = UINT64_MAX;
	uint64_t waited = now > sm->o.hedge_ms ? now - sm->o.hedge_ms + 1 : 0;
	for (size_t k = 0; k < l->n_src; k++) {
		size_t si = (u->next_src + k) % l->n_src;
		source *s = &l->src[si];
		if (s->bad || s->silent || (u->nout && src_asked(j, (int)si, roots, u->first)))
			continue;
		uint64_t at = s->retry_at;
		if (s->is_logger && j->logger_ok_ms > at)
			at = j->logger_ok_ms;
		if (at > now) {
			if (at < *soonest)
				*soonest = at;
			continue;
		}
		if (!any_waiting && src_waiting(j, (int)si, waited))
			continue; /* an answer from it frees it: pump runs then */
		if (j->nrq == j->caprq) {
			size_t nc = j->caprq ? 2 * j->caprq : 16;
			request *v = realloc(j->rq, nc * sizeof(*v));
			if (!v)
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			j->rq = v;
			j->caprq = nc;
		}
		ctng_mirror_action *x = act(acts, CTNG_MIR_FETCH, l, err);
		if (!x)
			return CTNG_ENOMEM;
		x->id = ++sm->next_id;
		x->period = j->sth.period;
		x->timeout_ms = sm->o.fetch_timeout_ms;
		x->is_roots = roots;
		snprintf(x->source, sizeof x->source, "%s", s->id);
		if (roots) {
			x->max_bytes = CTNG_TILE_ROOTS_JSON_MAX;
			snprintf(x->path, sizeof x->path,
			         "%s/ctng/v1/tile-roots?tree_size=%" PRIu64 "&first=%" PRIu64
			         "&count=%" PRIu32,
			         s->url_prefix, j->head.tree_size, u->first, u->count);
		} else {
			char idx[CTNG_MERKLE_TILE_PATH_MAX];
			u->width = ctng_merkle_tile_width(0, u->first, j->head.tree_size);
			if (ctng_merkle_tile_index_format(idx, sizeof idx, u->first, u->width)) {
				acts->n--;
				return ctng_err_set(err, CTNG_EINVAL, "mirror: bad tile %" PRIu64,
				                    u->first);
			}
			x->max_bytes = CTNG_MIRROR_BUNDLE_MAX;
			snprintf(x->path, sizeof x->path, "%s/tile/data/%s", s->url_prefix, idx);
		}
		j->rq[j->nrq++] = (request){
		    .id = x->id, .sent = now, .src = (int)si, .roots = roots, .first = u->first};
		u->ph = U_INFLIGHT;
		u->nout++;
		u->hedge_at = now + sm->o.hedge_ms;
		u->next_src = (int)((si + 1) % l->n_src);
		*sent = true;
		return 0;
	}
	return 0;
}

static int pump(ctng_mirror_sm *sm, mlog *l, uint64_t now, ctng_mirror_actions *acts, ctng_err *err)
{
	job *j = &l->j;
	if (!j->active)
		return 0;
	unsigned inflight = 0, cap = sm->o.max_inflight;
	unit *v = j->data ? j->win : j->batches;
	size_t n = j->data ? cap : j->n_batches;
	bool roots = !j->data;
	for (size_t i = 0; i < n; i++)
		inflight += v[i].ph == U_INFLIGHT;
	uint64_t soonest;
	bool sent;
	/* Hedges: units in flight without an answer for hedge_ms. */
	for (size_t i = 0; i < n; i++) {
		unit *u = &v[i];
		if (u->ph != U_INFLIGHT || u->hedge_at > now)
			continue;
		int rc = dispatch(sm, l, u, roots, false, now, &sent, &soonest, acts, err);
		if (rc)
			return rc;
		if (!sent)
			u->hedge_at = soonest; /* UINT64_MAX: until an answer comes */
	}
	for (size_t i = 0; i < n && inflight < cap; i++) {
		unit *u = &v[i];
		if (u->ph != U_QUEUED || (j->data && j->next_tile + i >= j->nend))
			continue;
		if (u->wait_until > now)
			continue;
		int rc = dispatch(sm, l, u, roots, false, now, &sent, &soonest, acts, err);
		if (!rc && !sent) /* every usable source is slow: ask one anyway */
			rc = dispatch(sm, l, u, roots, true, now, &sent, &soonest, acts, err);
		if (rc)
			return rc;
		if (!sent)
			u->wait_until = soonest;
		inflight += u->ph == U_INFLIGHT;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].ph == U_QUEUED && (!j->data || j->next_tile + i < j->nend))
			timer_at(acts, v[i].wait_until);
		if (v[i].ph == U_INFLIGHT)
			timer_at(acts, v[i].hedge_at);
	}
	if (!j->accused)
		timer_at(acts, j->deadline_ms > now ? j->deadline_ms : now + 1);
	return 0;
}

/* --------------------------------------------------------------- jobs */

static int start_job(ctng_mirror_sm *sm, mlog *l, const ctng_gossip_object *sth,
                     const ctng_sth *head, uint64_t now, ctng_mirror_actions *acts, ctng_err *err)
{
	job *j = &l->j;
	job_clear(j, sm->o.max_inflight);
	for (size_t i = 0; i < l->n_src; i++) {
		l->src[i].bad = false;
		l->src[i].silent = false;
		l->src[i].retry_at = 0;
		l->src[i].fails = 0;
	}
	int rc = ctng_gossip_copy(&j->sth, sth, err);
	if (rc)
		return rc;
	j->head = *head;
	j->start_ms = now;
	const ctng_clock *c = &sm->net->clock;
	j->deadline_ms =
	    ctng_clock_period_start(c, sth->period) + ctng_mirror_deadline_offset_ms(c);
	uint64_t half = j->deadline_ms > now ? (j->deadline_ms - now) / 2 : sm->o.retry_ms;
	j->logger_ok_ms = l->watched || sm->o.prefer_logger ? 0 : now + half;
	j->n0 = l->base_range.size / 256;
	j->nend = (head->tree_size + 255) / 256;
	uint64_t tiles = j->nend - j->n0;
	j->n_batches = (size_t)((tiles + CTNG_TILE_ROOTS_MAX - 1) / CTNG_TILE_ROOTS_MAX);
	j->roots = malloc((size_t)(tiles ? tiles : 1) * 32);
	j->batches = calloc(j->n_batches ? j->n_batches : 1, sizeof(*j->batches));
	j->win = calloc(sm->o.max_inflight, sizeof(*j->win));
	if (!j->roots || !j->batches || !j->win) {
		job_clear(j, sm->o.max_inflight);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	for (size_t b = 0; b < j->n_batches; b++) {
		unit *u = &j->batches[b];
		u->first = j->n0 + b * CTNG_TILE_ROOTS_MAX;
		uint64_t left = j->nend - u->first;
		u->count = (uint32_t)(left < CTNG_TILE_ROOTS_MAX ? left : CTNG_TILE_ROOTS_MAX);
	}
	j->active = true;
	CTNG_DEBUG("mirror job", "logger=%s period=%" PRIu64 " from=%" PRIu64 " to=%" PRIu64,
	           l->e->id, sth->period, l->range.size, head->tree_size);
	return pump(sm, l, now, acts, err);
}

static void logger_failed(job *j, const char *why)
{
	if (!j->logger_failed)
		snprintf(j->logger_reason, sizeof j->logger_reason, "%s", why);
	j->logger_failed = true;
}

/* Source si failed a request: bad (data that does not verify: dropped for
 * the job), silent (no answer at all: a peer is dropped for the job, the
 * logger backs off), not_yet (404: retried soon) or another failure (backs
 * off, doubling). */
static void source_failed(ctng_mirror_sm *sm, mlog *l, int si, bool bad, bool silent, bool not_yet,
                          uint64_t now, const char *why)
{
	source *s = &l->src[si];
	if (bad) {
		s->bad = true;
	} else if (silent && !s->is_logger) {
		s->silent = true;
	} else {
		unsigned f = s->fails < 5 ? s->fails : 5;
		s->retry_at = now + (not_yet ? sm->o.retry_ms : sm->o.retry_ms << f);
		s->fails++;
	}
	if (s->is_logger)
		logger_failed(&l->j, why);
	CTNG_DEBUG("mirror fetch failed", "logger=%s source=%s reason=\"%s\"", l->e->id, s->id,
	           why);
}

static void unit_retry(mlog *l, unit *u, uint64_t now);

/* A request of unit u failed at u->src: the unit asks the next source (at
 * once, or when its last request is answered). */
static void unit_failed(ctng_mirror_sm *sm, mlog *l, unit *u, bool bad, bool silent, bool not_yet,
                        uint64_t now, const char *why)
{
	source_failed(sm, l, u->src, bad, silent, not_yet, now, why);
	unit_retry(l, u, now);
}

/* u's answer from u->src is of no use: it asks another source. */
static void unit_retry(mlog *l, unit *u, uint64_t now)
{
	if (u->nout) {
		u->hedge_at = now; /* still waiting on another source: ask one more */
		return;
	}
	u->next_src = (u->src + 1) % (int)l->n_src;
	u->ph = U_QUEUED;
	u->wait_until = 0;
}

static int emit_held(mlog *l, ctng_mirror_actions *acts, ctng_err *err)
{
	ctng_mirror_action *x = act(acts, CTNG_MIR_HELD, l, err);
	if (!x)
		return CTNG_ENOMEM;
	x->period = l->j.sth.period;
	return ctng_gossip_copy(&x->obj, &l->j.sth, err);
}

static int flush(ctng_mirror_sm *sm, mlog *l, uint64_t now, ctng_mirror_actions *acts,
                 ctng_err *err);

/* Roots of every batch are in: do they give the STH's root? */
static int roots_complete(ctng_mirror_sm *sm, mlog *l, uint64_t now, ctng_mirror_actions *acts,
                          ctng_err *err)
{
	job *j = &l->j;
	ctng_merkle_range r = l->base_range;
	ctng_merkle_range_truncate(&r, 8);
	uint8_t root[32];
	int rc = 0;
	for (uint64_t t = j->n0; t < j->nend && !rc; t++) {
		unsigned w = ctng_merkle_tile_width(0, t, j->head.tree_size);
		if (w == 256)
			rc =
			    ctng_merkle_range_append_node(&r, sm->hs, 8, j->roots[t - j->n0], NULL);
		else
			rc = ctng_merkle_range_root_with(&r, sm->hs, j->roots[t - j->n0], w, root,
			                                 NULL);
	}
	if (!rc && j->head.tree_size % 256 == 0)
		rc = ctng_merkle_range_root(&r, sm->hs, root, NULL);
	bool ok = rc == 0 && memcmp(root, j->head.root, 32) == 0;
	if (ok) {
		j->data = true;
		j->next_tile = l->range.size / 256;
		for (unsigned i = 0; i < sm->o.max_inflight; i++)
			j->win[i].first = j->next_tile + i;
		return flush(sm, l, now, acts, err);
	}
	bool all_logger = true;
	for (size_t b = 0; b < j->n_batches; b++)
		all_logger = all_logger && j->batches[b].from_logger;
	if (all_logger) {
		/* The logger's own signed roots contradict its STH: a data CON. */
		j->active = false;
		logger_failed(j, "signed tile roots do not fold into its STH");
		if (j->n_batches > CTNG_DATA_CON_MAX_BATCHES) {
			CTNG_WARN("mirror: logger's tile roots contradict its STH (too many for a "
			          "PoM)",
			          "logger=%s", l->e->id);
			return 0;
		}
		ctng_tile_roots *bs = calloc(j->n_batches, sizeof(*bs));
		if (!bs)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		for (size_t b = 0; b < j->n_batches; b++)
			bs[b] = j->batches[b].signed_roots; /* borrowed */
		ctng_mirror_action *x = act(acts, CTNG_MIR_POM, l, err);
		rc = x ? ctng_data_con_build(&x->obj, &j->sth, l->has_base ? &l->base : NULL,
		                             (const uint8_t(*)[32])l->base_range.h, l->base_range.n,
		                             bs, j->n_batches, now, err)
		       : CTNG_ENOMEM;
		if (x) {
			x->period = j->sth.period;
			if (rc)
				acts->n--;
		}
		free(bs);
		CTNG_ERROR("logger serves data that is not its signed tree (data CON)",
		           "logger=%s period=%" PRIu64, l->e->id, j->sth.period);
		return rc;
	}
	/* Someone lied; the logger's signed roots stay, peers' are refetched. */
	for (size_t b = 0; b < j->n_batches; b++) {
		unit *u = &j->batches[b];
		if (u->from_logger)
			continue;
		l->src[u->src].bad = true;
		unit_clear(u);
		u->first = j->n0 + b * CTNG_TILE_ROOTS_MAX;
		uint64_t left = j->nend - u->first;
		u->count = (uint32_t)(left < CTNG_TILE_ROOTS_MAX ? left : CTNG_TILE_ROOTS_MAX);
	}
	return pump(sm, l, now, acts, err);
}

static int on_roots(ctng_mirror_sm *sm, mlog *l, unit *u, const uint8_t *body, size_t len,
                    uint64_t now, ctng_mirror_actions *acts, ctng_err *err)
{
	job *j = &l->j;
	source *s = &l->src[u->src];
	ctng_tile_roots t = {0};
	ctng_err pe = {0};
	int rc = ctng_tile_roots_parse((const char *)body, len, &t, &pe);
	if (!rc && (strcmp(t.logger, l->e->id) || t.tree_size != j->head.tree_size ||
	            t.first != u->first || t.count != u->count))
		rc = ctng_err_set(&pe, CTNG_EINVAL, "tile roots for another range");
	if (!rc && s->is_logger)
		rc = ctng_tile_roots_verify(&t, l->e->key, &pe);
	if (rc) {
		char why[200];
		snprintf(why, sizeof why, "bad tile roots: %.150s", pe.msg);
		ctng_tile_roots_clear(&t);
		unit_failed(sm, l, u, true, false, false, now, why);
		return pump(sm, l, now, acts, err);
	}
	s->fails = 0;
	memcpy(j->roots[u->first - j->n0], t.roots, (size_t)t.count * 32);
	u->from_logger = s->is_logger;
	if (s->is_logger)
		u->signed_roots = t;
	else
		ctng_tile_roots_clear(&t);
	u->ph = U_DONE;
	orphan_unit(j, true, u->first);
	for (size_t b = 0; b < j->n_batches; b++)
		if (j->batches[b].ph != U_DONE)
			return pump(sm, l, now, acts, err);
	return roots_complete(sm, l, now, acts, err);
}

/* Hands over the ready tiles at the front of the window as one STORE. */
static int flush(ctng_mirror_sm *sm, mlog *l, uint64_t now, ctng_mirror_actions *acts,
                 ctng_err *err)
{
	job *j = &l->j;
	unsigned cap = sm->o.max_inflight, k = 0;
	while (k < cap && j->next_tile + k < j->nend && j->win[k].ph == U_DONE)
		k++;
	if (k == 0 && j->next_tile < j->nend)
		return pump(sm, l, now, acts, err);
	ctng_mirror_action *x = act(acts, CTNG_MIR_STORE, l, err);
	if (!x)
		return CTNG_ENOMEM;
	ctng_mirror_run *run = &x->run;
	x->period = j->sth.period;
	size_t total = 0;
	for (unsigned i = 0; i < k; i++)
		total += j->win[i].width;
	run->entries = calloc(total ? total : 1, sizeof(*run->entries));
	run->bundles = calloc(k ? k : 1, sizeof(*run->bundles));
	if (!run->entries || !run->bundles) {
		acts->n--;
		free(run->entries);
		free(run->bundles);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	run->first = l->range.size;
	int rc = 0;
	for (unsigned i = 0; i < k && !rc; i++) {
		unit *u = &j->win[i];
		uint64_t base = u->first * 256;
		for (unsigned e = 0; e < u->width && !rc; e++) {
			if (base + e < l->range.size)
				continue; /* held already */
			run->entries[run->n++] = u->entries[e];
			rc = ctng_merkle_range_append(&l->range, sm->hs, u->entries[e].leaf_hash,
			                              err);
		}
		run->bundles[run->n_bundles++] = u->bundle;
		u->bundle = NULL;
		free(u->entries);
		u->entries = NULL;
	}
	if (!rc)
		rc = ctng_merkle_range_root(&l->range, sm->hs, run->root, err);
	run->range = l->range;
	/* Slide the window. */
	memmove(j->win, j->win + k, (cap - k) * sizeof(*j->win));
	memset(j->win + (cap - k), 0, k * sizeof(*j->win));
	j->next_tile += k;
	for (unsigned i = cap - k; i < cap; i++)
		j->win[i].first = j->next_tile + i;
	if (rc)
		return rc;
	if (j->next_tile < j->nend)
		return pump(sm, l, now, acts, err);
	/* Done: the whole tree of the STH is held. */
	if (l->range.size != j->head.tree_size || memcmp(run->root, j->head.root, 32) != 0)
		return ctng_err_set(err, CTNG_ESTATE, "mirror: verified run ends at a wrong root");
	run->complete = true;
	run->base_range = l->range;
	if ((rc = ctng_gossip_copy(&x->obj, &j->sth, err)))
		return rc;
	l->base_range = l->range;
	ctng_gossip_clear(&l->base);
	if ((rc = ctng_gossip_copy(&l->base, &j->sth, err)))
		return rc;
	l->has_base = true;
	j->active = false;
	rc = emit_held(l, acts, err);
	CTNG_DEBUG("mirror job done", "logger=%s period=%" PRIu64 " size=%" PRIu64, l->e->id,
	           j->sth.period, l->range.size);
	return rc;
}

/* What the leaf hash does not cover — the precertificate and the chain's
 * fingerprints — is stored and served on as the logger's bytes, so a peer's
 * must be consistent (red-team finding: a peer planted a precertificate
 * that honest mirrors then served as the logger's): the precertificate's
 * TBS without its poison is the logged TBS (ctng_cert_view_precert_tbs),
 * and the chain is 1..CTNG_MIRROR_CHAIN_MAX distinct fingerprints (a
 * logger's issuers then its root). The logger's own bytes are its own. */
static int check_unhashed(const ctng_mirror_entry *es, unsigned w, uint64_t tile, ctng_err *err)
{
	for (unsigned i = 0; i < w; i++) {
		const ctng_mirror_entry *e = &es[i];
		uint64_t idx = tile * 256 + i;
		if (e->chain_len < 1 || e->chain_len > CTNG_MIRROR_CHAIN_MAX)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "entry %" PRIu64 ": %zu chain fingerprints", idx,
			                    e->chain_len);
		for (size_t a = 0; a < e->chain_len; a++)
			for (size_t b = a + 1; b < e->chain_len; b++)
				if (!memcmp(e->chain + 32 * a, e->chain + 32 * b, 32))
					return ctng_err_set(
					    err, CTNG_EINVAL,
					    "entry %" PRIu64 ": a chain fingerprint twice", idx);
		if (e->entry_type != 1)
			continue;
		ctng_cert_view v;
		uint8_t *tbs = NULL;
		size_t tl = 0;
		int rc = ctng_cert_view_parse(e->precert, e->precert_len, &v, err);
		if (!rc)
			rc = ctng_cert_view_precert_tbs(&v, &tbs, &tl, err);
		if (rc) {
			ctng_err_wrap(err, "entry %" PRIu64 " precertificate", idx);
			return rc;
		}
		bool same = tl == e->cert_len && memcmp(tbs, e->cert, tl) == 0;
		free(tbs);
		if (!same)
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "entry %" PRIu64
			                    ": the precertificate is not the one of the logged TBS",
			                    idx);
	}
	return 0;
}

static int on_bundle(ctng_mirror_sm *sm, mlog *l, unit *u, const uint8_t *body, size_t len,
                     uint64_t now, ctng_mirror_actions *acts, ctng_err *err)
{
	job *j = &l->j;
	source *s = &l->src[u->src];
	ctng_err pe = {0};
	ctng_mirror_entry *es = calloc(u->width, sizeof(*es));
	uint8_t *copy = malloc(len ? len : 1);
	if (!es || !copy) {
		free(es);
		free(copy);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	memcpy(copy, body, len);
	int rc = ctng_mirror_bundle_parse(copy, len, u->first, u->width, sm->hs, es, &pe);
	uint8_t root[32];
	if (!rc) {
		ctng_merkle_range r;
		ctng_merkle_range_init(&r);
		for (unsigned i = 0; i < u->width && !rc; i++)
			rc = ctng_merkle_range_append(&r, sm->hs, es[i].leaf_hash, &pe);
		if (!rc)
			rc = ctng_merkle_range_root(&r, sm->hs, root, &pe);
		if (!rc && memcmp(root, j->roots[u->first - j->n0], 32) != 0)
			rc = ctng_err_set(&pe, CTNG_EVERIFY,
			                  "entries of tile %" PRIu64 " do not hash to its root",
			                  u->first);
		if (!rc && !s->is_logger)
			rc = check_unhashed(es, u->width, u->first, &pe);
	}
	if (rc) {
		free(es);
		free(copy);
		char why[240];
		snprintf(why, sizeof why, "bad entry bundle: %.150s", pe.msg);
		unit_failed(sm, l, u, true, false, false, now, why);
		return pump(sm, l, now, acts, err);
	}
	s->fails = 0;
	u->bundle = copy;
	u->entries = es;
	u->ph = U_DONE;
	orphan_unit(j, false, u->first);
	return flush(sm, l, now, acts, err);
}

/* -------------------------------------------------------------- events */

int ctng_mirror_sm_on_sth(ctng_mirror_sm *sm, const ctng_gossip_object *sth, uint64_t now_ms,
                          ctng_mirror_actions *acts, ctng_err *err)
{
	if (sth->type != CTNG_STH)
		return ctng_err_set(err, CTNG_EINVAL, "mirror: not an STH");
	mlog *l = find_log(sm, sth->signer);
	if (!l)
		return ctng_err_set(err, CTNG_EINVAL, "mirror: %s is not a logger", sth->signer);
	int rc = ctng_gossip_verify_signed(sth, l->e->key, &sm->net->clock, err);
	if (rc)
		return rc;
	ctng_sth h;
	if ((rc = ctng_sth_from_object(sth, &h, err)))
		return rc;
	if (l->convicted)
		return 0;
	job *j = &l->j;
	if (j->active && h.tree_size == j->head.tree_size && !memcmp(h.root, j->head.root, 32) &&
	    sth->period > j->sth.period) {
		/* The same tree signed again in a later period (nothing was added):
		 * the job goes on toward it, with this period's deadline, and the
		 * logger is judged afresh (asked again at once). */
		if ((rc = ctng_gossip_copy(&j->sth, sth, err)))
			return rc;
		const ctng_clock *c = &sm->net->clock;
		j->deadline_ms =
		    ctng_clock_period_start(c, sth->period) + ctng_mirror_deadline_offset_ms(c);
		j->accused = false;
		j->logger_failed = false;
		for (size_t i = 0; i < l->n_src; i++)
			if (l->src[i].is_logger) {
				l->src[i].bad = false;
				l->src[i].retry_at = 0;
			}
		uint64_t half = j->deadline_ms > now_ms ? (j->deadline_ms - now_ms) / 2 : 0;
		j->logger_ok_ms = l->watched || sm->o.prefer_logger ? 0 : now_ms + half;
		unit *v = j->data ? j->win : j->batches;
		size_t n = j->data ? sm->o.max_inflight : j->n_batches;
		for (size_t i = 0; i < n; i++)
			if (v[i].ph == U_QUEUED)
				v[i].wait_until = 0;
		return pump(sm, l, now_ms, acts, err);
	}
	if (j->active && h.tree_size <= j->head.tree_size)
		return 0; /* the job in progress covers it (the store answers for it) */
	if (h.tree_size < l->range.size)
		return 0;
	if (h.tree_size == l->base_range.size && l->range.size == h.tree_size) {
		uint8_t root[32];
		if ((rc = ctng_merkle_range_root(&l->base_range, sm->hs, root, err)))
			return rc;
		if (memcmp(root, h.root, 32) != 0)
			return 0; /* another tree of that size: not held (a fork) */
		ctng_mirror_action *x = act(acts, CTNG_MIR_HELD, l, err);
		if (!x)
			return CTNG_ENOMEM;
		x->period = sth->period;
		return ctng_gossip_copy(&x->obj, sth, err);
	}
	return start_job(sm, l, sth, &h, now_ms, acts, err);
}

/* The outstanding request `id` (removed from its job's table into *r),
 * its log and, unless orphaned, its unit (in flight); CTNG_ESTATE if none. */
static int take_request(ctng_mirror_sm *sm, uint64_t id, mlog **lo, request *r, unit **uo,
                        ctng_err *err)
{
	for (size_t i = 0; i < sm->nl; i++) {
		job *j = &sm->l[i].j;
		if (!j->active)
			continue;
		for (size_t q = 0; q < j->nrq; q++) {
			if (j->rq[q].id != id)
				continue;
			*r = j->rq[q];
			j->rq[q] = j->rq[--j->nrq];
			*lo = &sm->l[i];
			*uo = NULL;
			if (r->orphan || r->roots == j->data)
				return 0;
			unit *v = j->data ? j->win : j->batches;
			size_t n = j->data ? sm->o.max_inflight : j->n_batches;
			for (size_t k = 0; k < n; k++)
				if (v[k].ph == U_INFLIGHT && v[k].first == r->first && v[k].nout) {
					v[k].nout--;
					*uo = &v[k];
				}
			return 0;
		}
	}
	return ctng_err_set(err, CTNG_ESTATE, "mirror: no request %" PRIu64 " pending", id);
}

int ctng_mirror_sm_on_response(ctng_mirror_sm *sm, uint64_t id, int status, const uint8_t *body,
                               size_t len, const char *fail, uint64_t now_ms,
                               ctng_mirror_actions *acts, ctng_err *err)
{
	mlog *l = NULL;
	unit *u = NULL;
	request r;
	int rc = take_request(sm, id, &l, &r, &u, err);
	if (rc)
		return rc;
	source *s = &l->src[r.src];
	if (status == 200) {
		if (s->is_logger)
			l->bytes_logger += len;
		else
			l->bytes_peers += len;
	}
	char why[200] = "";
	if (status != 200) {
		if (status == 0)
			snprintf(why, sizeof why, "%s", fail ? fail : "no answer");
		else
			snprintf(why, sizeof why, "HTTP %d for %s", status,
			         r.roots ? "tile roots" : "an entry bundle");
	}
	if (!u) {
		/* Its unit was served meanwhile: the answer only tells how the
		 * source is doing. */
		if (status == 200)
			s->fails = 0;
		else if (!s->bad && !s->silent)
			source_failed(sm, l, r.src, false, status == 0, status == 404, now_ms, why);
		rc = pump(sm, l, now_ms, acts, err);
		return rc ? rc
		          : ctng_err_set(err, CTNG_ESTATE, "mirror: request %" PRIu64 " abandoned",
		                         id);
	}
	u->src = r.src;
	if (s->bad || (s->silent && status != 200)) {
		/* dropped meanwhile (another request of the same batch) */
		unit_retry(l, u, now_ms);
		return pump(sm, l, now_ms, acts, err);
	}
	if (status != 200) {
		unit_failed(sm, l, u, false, status == 0, status == 404, now_ms, why);
		return pump(sm, l, now_ms, acts, err);
	}
	return l->j.data ? on_bundle(sm, l, u, body, len, now_ms, acts, err)
	                 : on_roots(sm, l, u, body, len, now_ms, acts, err);
}

int ctng_mirror_sm_on_not_sent(ctng_mirror_sm *sm, uint64_t id, uint64_t now_ms,
                               ctng_mirror_actions *acts, ctng_err *err)
{
	mlog *l = NULL;
	unit *u = NULL;
	request r;
	int rc = take_request(sm, id, &l, &r, &u, err);
	if (rc)
		return rc;
	if (u && u->nout == 0) {
		u->ph = U_QUEUED;
		u->next_src = r.src; /* the same source again, later */
		u->wait_until = now_ms + sm->o.retry_ms;
	} else if (u) {
		u->hedge_at = now_ms + sm->o.retry_ms;
	}
	return pump(sm, l, now_ms, acts, err);
}

size_t ctng_mirror_actions_store_failed(ctng_mirror_actions *a, size_t store)
{
	if (!a || store >= a->n)
		return 0;
	char logger[CTNG_ID_MAX + 1];
	snprintf(logger, sizeof logger, "%s", a->v[store].logger);
	size_t k = store + 1, dropped = 0;
	for (size_t i = store + 1; i < a->n; i++) {
		ctng_mirror_action *x = &a->v[i];
		if ((x->kind == CTNG_MIR_STORE || x->kind == CTNG_MIR_HELD) &&
		    strcmp(x->logger, logger) == 0) {
			action_clear(x);
			dropped++;
			continue;
		}
		a->v[k++] = *x;
	}
	a->n = k;
	return dropped;
}

int ctng_mirror_sm_on_timer(ctng_mirror_sm *sm, uint64_t now_ms, ctng_mirror_actions *acts,
                            ctng_err *err)
{
	for (size_t i = 0; i < sm->nl; i++) {
		mlog *l = &sm->l[i];
		job *j = &l->j;
		if (!j->active)
			continue;
		if (!j->accused && now_ms >= j->deadline_ms) {
			j->accused = true;
			if (j->logger_failed) {
				ctng_mirror_action *x = act(acts, CTNG_MIR_ACCUSE, l, err);
				if (!x)
					return CTNG_ENOMEM;
				x->period = j->sth.period;
				snprintf(x->reason, sizeof x->reason, "data not served: %s",
				         j->logger_reason);
				CTNG_WARN("logger did not serve its entries in time",
				          "logger=%s period=%" PRIu64 " reason=\"%s\"", l->e->id,
				          j->sth.period, j->logger_reason);
			}
		}
		int rc = pump(sm, l, now_ms, acts, err);
		if (rc)
			return rc;
	}
	return 0;
}
