/*
 * sm.c — the monitor state machine (DESIGN §2, §7, §8; docs/monitor.md): no
 * I/O. Events: period start, fetch results, consistency-proof results,
 * objects from the paired gossiper, update time. Actions: fetches, sends to
 * the gossiper, things to persist, PoMs and the client update.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"
#include "ctng/monitor.h"
#include "monitor/monitor_internal.h"

#define MAX_INIT_PER_ID 8

enum wstate { W_IDLE = 0, W_FETCH, W_CONS };

typedef struct watch {
	char id[CTNG_ID_MAX + 1];
	bool is_logger;
	const ctng_sig_key *key;
	bool forked; /* this monitor holds a transferable STH-fork PoM */
	bool has_last;
	ctng_gossip_object last; /* last accepted STH (loggers) */
	ctng_sth last_head;
	enum wstate st;
	uint64_t pend_period;
	uint64_t deadline; /* query deadline of pend_period */
	ctng_gossip_object pend; /* STH waiting for its consistency proof */
	ctng_sth pend_head;
} watch;

struct ctng_monitor_sm {
	const ctng_network *net;
	char id[CTNG_ID_MAX + 1];
	const ctng_sig_key *key;
	watch *w;
	size_t nw;
	ctng_gossip_object *held; /* FULL, STH, REV, CON objects kept */
	size_t nheld, capheld;
	char (*conv)[CTNG_ID_MAX + 1]; /* entities with a verified CON_FULL */
	size_t nconv;
};

/* ------------------------------------------------------------- actions */

void ctng_monitor_actions_free(ctng_monitor_actions *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		ctng_gossip_clear(&a->v[i].obj);
		free(a->v[i].text);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static ctng_monitor_action *act_push(ctng_monitor_actions *a, enum ctng_monitor_action_kind k,
                                     const char *entity, uint64_t period, ctng_err *err)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 8;
		ctng_monitor_action *v = realloc(a->v, nc * sizeof(*v));
		if (!v) {
			ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			return NULL;
		}
		a->v = v;
		a->cap = nc;
	}
	ctng_monitor_action *x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	x->period = period;
	if (entity)
		snprintf(x->entity, sizeof(x->entity), "%s", entity);
	return x;
}

static int act_obj(ctng_monitor_actions *a, enum ctng_monitor_action_kind k, const char *entity,
                   const ctng_gossip_object *o, ctng_err *err)
{
	ctng_monitor_action *x = act_push(a, k, entity, o->period, err);
	if (!x)
		return CTNG_ENOMEM;
	int rc = ctng_gossip_copy(&x->obj, o, err);
	if (rc)
		a->n--;
	return rc;
}

/* ----------------------------------------------------------- lifecycle */

int ctng_monitor_sm_new(const ctng_network *net, const char *monitor_id, const ctng_sig_key *key,
                        ctng_monitor_sm **out, ctng_err *err)
{
	*out = NULL;
	const ctng_entity *me = net ? ctng_network_entity(net, monitor_id) : NULL;
	if (!me || me->role != CTNG_ROLE_MONITOR)
		return ctng_err_set(err, CTNG_EINVAL, "\"%s\" is not a monitor of the network",
		                    monitor_id ? monitor_id : "");
	if (!key || !ctng_sig_key_has_private(key))
		return ctng_err_set(err, CTNG_EINVAL, "monitor needs its private signing key");
	ctng_monitor_sm *sm = calloc(1, sizeof(*sm));
	size_t nw = me->n_loggers + me->n_cas;
	if (!sm || (nw && !(sm->w = calloc(nw, sizeof(*sm->w))))) {
		free(sm);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	sm->net = net;
	sm->key = key;
	snprintf(sm->id, sizeof(sm->id), "%s", monitor_id);
	for (size_t i = 0; i < nw; i++) {
		bool lg = i < me->n_loggers;
		const char *eid = lg ? me->loggers[i] : me->cas[i - me->n_loggers];
		const ctng_entity *e = ctng_network_entity(net, eid);
		if (!e || !e->key) {
			ctng_monitor_sm_free(sm);
			return ctng_err_set(err, CTNG_EINVAL, "watched entity \"%s\" has no key",
			                    eid);
		}
		snprintf(sm->w[i].id, sizeof(sm->w[i].id), "%s", eid);
		sm->w[i].is_logger = lg;
		sm->w[i].key = e->key;
	}
	sm->nw = nw;
	*out = sm;
	return 0;
}

void ctng_monitor_sm_free(ctng_monitor_sm *sm)
{
	if (!sm)
		return;
	for (size_t i = 0; i < sm->nw; i++) {
		ctng_gossip_clear(&sm->w[i].last);
		ctng_gossip_clear(&sm->w[i].pend);
	}
	free(sm->w);
	for (size_t i = 0; i < sm->nheld; i++)
		ctng_gossip_clear(&sm->held[i]);
	free(sm->held);
	free(sm->conv);
	free(sm);
}

static watch *find_watch(ctng_monitor_sm *sm, const char *id)
{
	for (size_t i = 0; id && i < sm->nw; i++)
		if (strcmp(sm->w[i].id, id) == 0)
			return &sm->w[i];
	return NULL;
}

bool ctng_monitor_sm_convicted(const ctng_monitor_sm *sm, const char *entity)
{
	for (size_t i = 0; entity && i < sm->nconv; i++)
		if (strcmp(sm->conv[i], entity) == 0)
			return true;
	return false;
}

bool ctng_monitor_sm_forked(const ctng_monitor_sm *sm, const char *logger)
{
	const watch *w = find_watch((ctng_monitor_sm *)sm, logger);
	return w && w->forked;
}

size_t ctng_monitor_sm_held(const ctng_monitor_sm *sm)
{
	return sm->nheld;
}

const ctng_gossip_object *ctng_monitor_sm_last_sth(const ctng_monitor_sm *sm, const char *logger)
{
	const watch *w = find_watch((ctng_monitor_sm *)sm, logger);
	return w && w->has_last ? &w->last : NULL;
}

/* --------------------------------------------------------- held objects */

static bool same_id(const ctng_gossip_object *a, const ctng_gossip_object *b)
{
	return ctng_type_family(a->type) == ctng_type_family(b->type) && a->period == b->period &&
	       strcmp(ctng_gossip_entity(a), ctng_gossip_entity(b)) == 0;
}

/* 0 added, 1 duplicate, 2 over the per-id limit. */
static int hold(ctng_monitor_sm *sm, const ctng_gossip_object *o, ctng_err *err)
{
	size_t same = 0;
	for (size_t i = 0; i < sm->nheld; i++) {
		const ctng_gossip_object *h = &sm->held[i];
		if (h->type != o->type || !same_id(h, o))
			continue;
		if (ctng_type_kind(o->type) == CTNG_KIND_FULL || ctng_gossip_equal(h, o))
			return 1;
		same++;
	}
	if (same >= MAX_INIT_PER_ID)
		return 2;
	if (sm->nheld == sm->capheld) {
		size_t nc = sm->capheld ? sm->capheld * 2 : 16;
		ctng_gossip_object *v = realloc(sm->held, nc * sizeof(*v));
		if (!v)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		sm->held = v;
		sm->capheld = nc;
	}
	memset(&sm->held[sm->nheld], 0, sizeof(sm->held[0]));
	int rc = ctng_gossip_copy(&sm->held[sm->nheld], o, err);
	if (rc)
		return rc;
	sm->nheld++;
	if (o->type == CTNG_CON_FULL && !ctng_monitor_sm_convicted(sm, ctng_gossip_entity(o))) {
		void *v = realloc(sm->conv, (sm->nconv + 1) * sizeof(*sm->conv));
		if (!v)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		sm->conv = v;
		snprintf(sm->conv[sm->nconv++], CTNG_ID_MAX + 1, "%s", ctng_gossip_entity(o));
		CTNG_WARN("entity convicted (CON_FULL)", "entity=%s period=%" PRIu64,
		          ctng_gossip_entity(o), o->period);
	}
	return 0;
}

void ctng_monitor_sm_prune(ctng_monitor_sm *sm, uint64_t keep_from)
{
	size_t j = 0;
	for (size_t i = 0; i < sm->nheld; i++) {
		ctng_gossip_object *h = &sm->held[i];
		if (h->period < keep_from && ctng_type_family(h->type) != CTNG_FAM_CON) {
			ctng_gossip_clear(h);
			continue;
		}
		if (i != j)
			sm->held[j] = *h;
		j++;
	}
	sm->nheld = j;
}

/* Verification of anything the gossiper (or the store) hands us. */
static int verify_incoming(ctng_monitor_sm *sm, const ctng_gossip_object *o, ctng_err *err)
{
	if (ctng_type_kind(o->type) == CTNG_KIND_FULL)
		return ctng_monitor_verify_full(o, sm->net, err);
	return mon_verify_init(o, sm->net, err);
}

static bool keepable(const ctng_gossip_object *o)
{
	enum ctng_kind k = ctng_type_kind(o->type);
	return k == CTNG_KIND_FULL || (k == CTNG_KIND_INIT && o->type != CTNG_ACC);
}

int ctng_monitor_sm_on_gossip(ctng_monitor_sm *sm, const ctng_gossip_object *o, uint64_t now_ms,
                              ctng_monitor_gossip_status *status, ctng_monitor_actions *acts,
                              ctng_err *err)
{
	*status = CTNG_MON_GOSSIP_IGNORED;
	if (!ctng_type_valid(o->type))
		return ctng_err_set(err, CTNG_EINVAL, "invalid type");
	if (!keepable(o))
		return 0;
	uint64_t cur = 0;
	if (!ctng_clock_period_of(&sm->net->clock, now_ms, &cur))
		cur = 0; /* a clock a little behind at genesis: period 0 */
	bool ok = ctng_type_family(o->type) == CTNG_FAM_CON
	              ? o->period <= cur + 1
	              : ctng_clock_period_acceptable(cur, o->period);
	if (!ok)
		return ctng_err_set(err, CTNG_ERANGE,
		                    "%s of period %" PRIu64 " outside the window "
		                    "of period %" PRIu64,
		                    ctng_type_name(o->type), o->period, cur);
	int rc = verify_incoming(sm, o, err);
	if (rc)
		return rc;
	rc = hold(sm, o, err);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		*status = rc == 1 ? CTNG_MON_GOSSIP_DUPLICATE : CTNG_MON_GOSSIP_IGNORED;
		return 0;
	}
	*status = CTNG_MON_GOSSIP_NEW;
	return act_obj(acts, CTNG_MON_STORE_OBJECT, ctng_gossip_entity(o), o, err);
}

int ctng_monitor_sm_restore_object(ctng_monitor_sm *sm, const ctng_gossip_object *o, ctng_err *err)
{
	if (!ctng_type_valid(o->type) || !keepable(o))
		return ctng_err_set(err, CTNG_EINVAL, "not an object a monitor keeps");
	int rc = verify_incoming(sm, o, err);
	if (rc)
		return rc;
	rc = hold(sm, o, err);
	return rc < 0 ? rc : 0;
}

int ctng_monitor_sm_restore_last_sth(ctng_monitor_sm *sm, const ctng_gossip_object *sth,
                                     ctng_err *err)
{
	watch *w = find_watch(sm, sth->signer);
	if (!w || !w->is_logger || sth->type != CTNG_STH)
		return ctng_err_set(err, CTNG_EINVAL, "not an STH of a watched logger");
	int rc = ctng_gossip_verify_signed(sth, w->key, &sm->net->clock, err);
	if (!rc)
		rc = ctng_sth_from_object(sth, &w->last_head, err);
	if (!rc)
		rc = ctng_gossip_copy(&w->last, sth, err);
	w->has_last = rc == 0;
	return rc;
}

int ctng_monitor_sm_restore_fork(ctng_monitor_sm *sm, const char *logger, ctng_err *err)
{
	watch *w = find_watch(sm, logger);
	if (!w || !w->is_logger)
		return ctng_err_set(err, CTNG_EINVAL, "not a watched logger");
	w->forked = true;
	return 0;
}

/* ---------------------------------------------------------- pull cycle */

/* SEND_OBSERVATION: this monitor's signed word to its gossiper about w in
 * period p (docs/gossiper.md §Observations). */
static int observe(ctng_monitor_sm *sm, watch *w, uint64_t p, enum ctng_obs_result res,
                   const uint8_t digest[32], uint32_t checks, ctng_monitor_actions *acts,
                   ctng_err *err)
{
	ctng_monitor_action *x = act_push(acts, CTNG_MON_SEND_OBSERVATION, w->id, p, err);
	if (!x)
		return CTNG_ENOMEM;
	int rc = ctng_obs_sign(&x->obs, sm->id, sm->key, w->is_logger ? CTNG_FAM_STH : CTNG_FAM_REV,
	                       w->id, p, res, digest, checks, err);
	if (rc)
		acts->n--;
	return rc;
}

static int accuse(ctng_monitor_sm *sm, watch *w, uint64_t p, uint64_t now, const char *why,
                  ctng_monitor_actions *acts, ctng_err *err)
{
	CTNG_WARN("accusing entity", "entity=%s period=%" PRIu64 " reason=\"%s\"", w->id, p,
	          why ? why : "no answer");
	int rc = observe(sm, w, p, CTNG_OBS_FAILED, NULL, 0, acts, err);
	if (rc)
		return rc;
	ctng_monitor_action *x = act_push(acts, CTNG_MON_SEND_GOSSIPER, w->id, p, err);
	if (!x)
		return CTNG_ENOMEM;
	rc = ctng_acc_sign(&x->obj, sm->id, sm->key, w->id, p, now, err);
	if (rc)
		acts->n--;
	return rc;
}

/* A failed attempt before the query deadline: ask again after the retry
 * delay (kind FETCH_STH/REV or FETCH_CONSISTENCY, sizes kept). Returns 1 if
 * a retry was emitted, 0 if the deadline is too close (accuse instead). */
static int retry(ctng_monitor_sm *sm, watch *w, enum ctng_monitor_action_kind k, uint64_t now,
                 uint64_t first, uint64_t second, ctng_monitor_actions *acts, ctng_err *err)
{
	uint64_t at = now + ctng_monitor_retry_ms(&sm->net->clock);
	if (at >= w->deadline)
		return 0;
	ctng_monitor_action *x = act_push(acts, k, w->id, w->pend_period, err);
	if (!x)
		return CTNG_ENOMEM;
	x->at_ms = at;
	x->deadline_ms = w->deadline;
	x->first = first;
	x->second = second;
	return 1;
}

static int accept(ctng_monitor_sm *sm, watch *w, const ctng_gossip_object *o, uint32_t checks,
                  ctng_monitor_actions *acts, ctng_err *err)
{
	uint8_t d[32];
	int rc = ctng_gossip_content_digest(o, d, err);
	if (!rc)
		rc = observe(sm, w, o->period, CTNG_OBS_OBTAINED, d, checks, acts, err);
	if (!rc)
		rc = act_obj(acts, CTNG_MON_SEND_GOSSIPER, w->id, o, err);
	if (!rc)
		rc = act_obj(acts, CTNG_MON_STORE_OBJECT, w->id, o, err);
	if (!rc && w->is_logger) {
		rc = act_obj(acts, CTNG_MON_STORE_LAST_STH, w->id, o, err);
		if (!rc)
			rc = ctng_sth_from_object(o, &w->last_head, err);
		if (!rc)
			rc = ctng_gossip_copy(&w->last, o, err);
		w->has_last = rc == 0;
	}
	if (!rc) {
		int h = hold(sm, o, err);
		rc = h < 0 ? h : 0;
	}
	return rc;
}

static int emit_pom(ctng_monitor_sm *sm, watch *w, uint64_t p, bool fork,
                    const ctng_gossip_object *second, const uint8_t (*proof)[32], size_t n,
                    ctng_monitor_actions *acts, ctng_err *err)
{
	ctng_monitor_action *x = act_push(acts, CTNG_MON_POM, w->id, p, err);
	if (!x)
		return CTNG_ENOMEM;
	x->transferable = fork;
	int rc =
	    mon_pom_build(w->id, fork, &w->last, second, proof, n, &x->text, &x->text_len, err);
	if (rc)
		acts->n--;
	(void)sm;
	CTNG_ERROR("logger STHs inconsistent", "logger=%s period=%" PRIu64 " kind=%s", w->id, p,
	           fork ? "sth-fork" : "bad-consistency-proof");
	return rc;
}

int ctng_monitor_sm_on_period(ctng_monitor_sm *sm, uint64_t p, uint64_t now_ms,
                              ctng_monitor_actions *acts, ctng_err *err)
{
	for (size_t i = 0; i < sm->nw; i++) {
		watch *w = &sm->w[i];
		w->st = W_IDLE;
		ctng_gossip_clear(&w->pend);
		if (ctng_monitor_sm_convicted(sm, w->id))
			continue;
		int rc;
		if (w->forked) {
			rc = accuse(sm, w, p, now_ms, "holds an STH-fork PoM", acts, err);
		} else {
			ctng_monitor_action *x =
			    act_push(acts, w->is_logger ? CTNG_MON_FETCH_STH : CTNG_MON_FETCH_REV,
			             w->id, p, err);
			rc = x ? 0 : CTNG_ENOMEM;
			w->st = W_FETCH;
			w->pend_period = p;
			w->deadline = ctng_clock_query_deadline(&sm->net->clock, p);
			if (x)
				x->deadline_ms = w->deadline;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int ctng_monitor_sm_on_fetch_result(ctng_monitor_sm *sm, const char *entity, uint64_t p,
                                    const ctng_gossip_object *obj, const char *reason,
                                    uint64_t now_ms, ctng_monitor_actions *acts, ctng_err *err)
{
	watch *w = find_watch(sm, entity);
	if (!w || w->st != W_FETCH || w->pend_period != p)
		return ctng_err_set(err, CTNG_ESTATE, "no fetch pending for %s period %" PRIu64,
		                    entity ? entity : "", p);
	if (!obj) {
		enum ctng_monitor_action_kind k = w->is_logger ? CTNG_MON_FETCH_STH : CTNG_MON_FETCH_REV;
		int r = retry(sm, w, k, now_ms, 0, 0, acts, err);
		if (r)
			return r < 0 ? r : 0;
		w->st = W_IDLE;
		return accuse(sm, w, p, now_ms, reason ? reason : "fetch failed", acts, err);
	}
	w->st = W_IDLE;
	enum ctng_type want = w->is_logger ? CTNG_STH : CTNG_REV;
	ctng_err verr = {0};
	if (obj->type != want || strcmp(obj->signer, w->id) != 0 || obj->period != p)
		return accuse(sm, w, p, now_ms, "wrong type, signer or period", acts, err);
	if (ctng_gossip_verify_signed(obj, w->key, &sm->net->clock, &verr))
		return accuse(sm, w, p, now_ms, verr.msg, acts, err);
	if (!w->is_logger)
		return accept(sm, w, obj, 0, acts, err);

	ctng_sth h;
	if (ctng_sth_from_object(obj, &h, &verr))
		return accuse(sm, w, p, now_ms, verr.msg, acts, err);
	uint8_t empty[32];
	ctng_merkle_empty_root(empty);
	if (h.tree_size == 0 && memcmp(h.root, empty, 32) != 0)
		return accuse(sm, w, p, now_ms, "size-0 STH with a non-empty root", acts, err);
	if (!w->has_last)
		return accept(sm, w, obj, 0, acts, err);
	if (w->last.period >= p) {
		/* Re-fetched after a restart: it must be the STH we accepted. */
		if (w->last.period == p && ctng_gossip_equal(&w->last, obj))
			return accept(sm, w, obj, CTNG_OBS_CHECK_CONSISTENT, acts, err);
		if (w->last.period == p && ctng_gossip_conflicting(&w->last, obj)) {
			ctng_monitor_action *x =
			    act_push(acts, CTNG_MON_SEND_GOSSIPER, w->id, p, err);
			if (!x)
				return CTNG_ENOMEM;
			int rc = ctng_con_build(&x->obj, &w->last, obj, now_ms, err);
			if (rc)
				return rc;
		}
		return accuse(sm, w, p, now_ms, "STH differs from the one accepted for this period",
		              acts, err);
	}
	const ctng_sth *l = &w->last_head;
	if (h.tree_size <= l->tree_size || l->tree_size == 0) {
		/* Decidable from the two signed heads alone. */
		bool ok = h.tree_size >= l->tree_size &&
		          ctng_merkle_verify_consistency(l->tree_size, h.tree_size, l->root, h.root,
		                                         NULL, 0, NULL) == 0;
		if (ok)
			return accept(sm, w, obj, CTNG_OBS_CHECK_CONSISTENT, acts, err);
		int rc = emit_pom(sm, w, p, true, obj, NULL, 0, acts, err);
		if (rc)
			return rc;
		w->forked = true;
		return accuse(sm, w, p, now_ms, "STH fork (inconsistent with the last STH)", acts,
		              err);
	}
	int rc = ctng_gossip_copy(&w->pend, obj, err);
	if (rc)
		return rc;
	w->pend_head = h;
	w->st = W_CONS;
	ctng_monitor_action *x = act_push(acts, CTNG_MON_FETCH_CONSISTENCY, w->id, p, err);
	if (!x)
		return CTNG_ENOMEM;
	x->first = l->tree_size;
	x->second = h.tree_size;
	x->deadline_ms = w->deadline;
	return 0;
}

int ctng_monitor_sm_on_consistency_result(ctng_monitor_sm *sm, const char *logger, uint64_t p,
                                          bool ok, const uint8_t (*proof)[32], size_t proof_len,
                                          const char *reason, uint64_t now_ms,
                                          ctng_monitor_actions *acts, ctng_err *err)
{
	watch *w = find_watch(sm, logger);
	if (!w || w->st != W_CONS || w->pend_period != p)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "no consistency proof pending for %s period %" PRIu64,
		                    logger ? logger : "", p);
	int rc;
	if (!ok) {
		rc = retry(sm, w, CTNG_MON_FETCH_CONSISTENCY, now_ms, w->last_head.tree_size,
		           w->pend_head.tree_size, acts, err);
		if (rc)
			return rc < 0 ? rc : 0; /* still W_CONS, pend kept */
	}
	w->st = W_IDLE;
	if (!ok) {
		rc = accuse(sm, w, p, now_ms, reason ? reason : "no consistency proof", acts, err);
	} else if (ctng_merkle_verify_consistency(w->last_head.tree_size, w->pend_head.tree_size,
	                                          w->last_head.root, w->pend_head.root, proof,
	                                          proof_len, NULL) == 0) {
		rc = accept(sm, w, &w->pend, CTNG_OBS_CHECK_CONSISTENT, acts, err);
	} else {
		rc = emit_pom(sm, w, p, false, &w->pend, proof, proof_len, acts, err);
		if (!rc)
			rc = accuse(sm, w, p, now_ms, "consistency proof does not verify", acts,
			            err);
	}
	ctng_gossip_clear(&w->pend);
	return rc;
}

/* ------------------------------------------------------------- update */

static int cmp_full_ptr(const void *a, const void *b)
{
	return mon_full_cmp(*(const ctng_gossip_object *const *)a,
	                    *(const ctng_gossip_object *const *)b);
}

int ctng_monitor_sm_build_update(ctng_monitor_sm *sm, uint64_t p, ctng_client_update *out,
                                 ctng_err *err)
{
	ctng_client_update_clear(out);
	const ctng_gossip_object **fulls = calloc(sm->nheld + 1, sizeof(*fulls));
	if (!fulls)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	size_t nf = 0;
	for (size_t i = 0; i < sm->nheld; i++) {
		const ctng_gossip_object *h = &sm->held[i];
		if (ctng_type_kind(h->type) != CTNG_KIND_FULL)
			continue;
		if (h->type != CTNG_CON_FULL) {
			if (h->period == p)
				fulls[nf++] = h;
			continue;
		}
		if (h->period > p)
			continue;
		/* one CON_FULL per entity: the smallest period */
		bool better_exists = false;
		for (size_t k = 0; k < sm->nheld && !better_exists; k++) {
			const ctng_gossip_object *g = &sm->held[k];
			better_exists =
			    g->type == CTNG_CON_FULL && g != h && g->period <= p &&
			    strcmp(ctng_gossip_entity(g), ctng_gossip_entity(h)) == 0 &&
			    (g->period < h->period || (g->period == h->period && k < i));
		}
		if (!better_exists)
			fulls[nf++] = h;
	}
	qsort(fulls, nf, sizeof(*fulls), cmp_full_ptr);
	int rc = 0;
	if (2 * nf > CTNG_CLIENT_UPDATE_MAX_OBJECTS)
		rc = ctng_err_set(err, CTNG_ERANGE, "update too large");
	if (!rc && nf && !(out->objects = calloc(2 * nf, sizeof(*out->objects))))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < nf; i++) {
		rc = ctng_gossip_copy(&out->objects[out->n_objects], fulls[i], err);
		if (rc)
			break;
		out->n_objects++;
		if (fulls[i]->type == CTNG_ACC_FULL)
			continue;
		enum ctng_type it =
		    ctng_type_make(ctng_type_family(fulls[i]->type), CTNG_KIND_INIT);
		bool found = false;
		for (size_t k = 0; k < sm->nheld && !found; k++) {
			const ctng_gossip_object *h = &sm->held[k];
			if (h->type == it && ctng_gossip_attests(fulls[i], h)) {
				rc = ctng_gossip_copy(&out->objects[out->n_objects], h, err);
				if (!rc)
					out->n_objects++;
				found = true;
			}
		}
		if (!found && fulls[i]->type == CTNG_REV_FULL) {
			/* Clients need the delta: a REV_FULL without its REV would
			 * make them refuse the whole update. Leave it out. */
			CTNG_WARN("REV_FULL without its REV left out of the update",
			          "ca=%s period=%" PRIu64, ctng_gossip_entity(fulls[i]), p);
			ctng_gossip_clear(&out->objects[--out->n_objects]);
		}
	}
	free(fulls);
	out->period = p;
	snprintf(out->monitor, sizeof(out->monitor), "%s", sm->id);
	if (rc)
		ctng_client_update_clear(out);
	return rc;
}

int ctng_monitor_sm_on_update_time(ctng_monitor_sm *sm, uint64_t p, uint64_t now_ms,
                                   ctng_monitor_actions *acts, ctng_err *err)
{
	(void)now_ms;
	ctng_client_update u = {0};
	int rc = ctng_monitor_sm_build_update(sm, p, &u, err);
	if (rc)
		return rc;
	ctng_monitor_action *x = act_push(acts, CTNG_MON_PUBLISH_UPDATE, NULL, p, err);
	if (!x)
		rc = CTNG_ENOMEM;
	else if ((rc = ctng_client_update_encode(&u, &x->text, &x->text_len, err)))
		acts->n--;
	ctng_client_update_clear(&u);
	return rc;
}

uint64_t ctng_monitor_fetch_timeout_ms(const ctng_clock *c)
{
	uint64_t t = ctng_clock_query_window_ms(c);
	return t > 2000 ? 2000 : t;
}

uint64_t ctng_monitor_retry_ms(const ctng_clock *c)
{
	uint64_t t = ctng_clock_query_window_ms(c) / 10;
	return t < 20 ? 20 : t > 1000 ? 1000 : t;
}
