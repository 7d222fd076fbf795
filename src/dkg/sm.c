/*
 * sm.c — one participant of a DKG as a state machine without I/O (DESIGN
 * §8, docs/dkg.md §4): events are start, a message, a timer tick (each with
 * the wall clock); the answer is a list of actions for the caller (save the
 * state, store a message, send one, announce one, finished). Phases: deal,
 * response, justification, each closed by its deadline or, once everything
 * it waits for is in, after a short grace for late evidence. The dealer's
 * polynomial is saved before its deal leaves, reused after a restart, never
 * redrawn, and wiped when the run is over; a share is revealed only to
 * answer a signed complaint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/bls.h"
#include "ctng/seal.h"
#include "dkg/dkg_internal.h"

#define REJECT_RING 64

enum { RECV_NONE = 0, RECV_OK = 1, RECV_BAD = 2 };

struct ctng_dkg_sm {
	ctng_dkg_ctx *ctx;
	char self[CTNG_ID_MAX + 1];
	int di; /* self as dealer, -1 if not one */
	int ri; /* self as recipient */
	const ctng_sig_key *key;
	uint8_t xsk[32];
	bool has_old;
	fr old;
	uint64_t phase_ms, grace_ms;
	uint8_t seed[128];
	size_t seed_len;
	uint32_t faults;
	dkg_view view;
	ctng_dkg_phase phase;
	uint64_t deadline, all_in_at, linger_until;
	bool dealt, responded, has_coef;
	fr *coef;
	fr *recv;         /* share received from each dealer */
	uint8_t *recv_st; /* RECV_* */
	bool has_outcome;
	ctng_dkg_outcome outcome;
	fr share;
	char failure[260];
	uint64_t bytes_signed;
	uint8_t rejected[REJECT_RING][32];
	size_t n_rejected;
};

const char *ctng_dkg_phase_name(ctng_dkg_phase p)
{
	static const char *const n[] = {"wait",       "dealing", "responding",
	                                "justifying", "done",    "failed"};
	return (unsigned)p < sizeof n / sizeof n[0] ? n[p] : "?";
}

/* ------------------------------------------------------------- actions */

void ctng_dkg_actions_reset(ctng_dkg_actions *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].json);
	a->n = 0;
}

void ctng_dkg_actions_free(ctng_dkg_actions *a)
{
	ctng_dkg_actions_reset(a);
	free(a->v);
	memset(a, 0, sizeof *a);
}

static ctng_dkg_action *push(ctng_dkg_actions *a, ctng_dkg_act_kind kind, const char *json,
                             size_t len)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 16;
		ctng_dkg_action *nv = realloc(a->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		a->v = nv;
		a->cap = nc;
	}
	ctng_dkg_action *x = &a->v[a->n];
	memset(x, 0, sizeof *x);
	if (json) {
		if (!(x->json = malloc(len + 1)))
			return NULL;
		memcpy(x->json, json, len);
		x->json[len] = '\0';
		x->len = len;
	}
	x->kind = kind;
	a->n++;
	return x;
}

/* --------------------------------------------------------------- state */

/* version 1: phase u8, deadline u64, flags u8 (dealt, responded, has_coef),
 * t u32, then t coefficients of 32 bytes when has_coef; as hex. */
static int save_state(ctng_dkg_sm *sm, ctng_dkg_actions *a, ctng_err *err)
{
	ctng_buf b = {0};
	uint32_t t = sm->ctx->t;
	uint8_t flags = (uint8_t)(sm->dealt | sm->responded << 1 | sm->has_coef << 2);
	int rc = ctng_buf_append_u8(&b, 1) | ctng_buf_append_u8(&b, (uint8_t)sm->phase) |
	         ctng_buf_append_u64be(&b, sm->deadline) | ctng_buf_append_u8(&b, flags) |
	         ctng_buf_append_u32be(&b, t);
	for (uint32_t k = 0; sm->has_coef && k < t; k++) {
		uint8_t c[32];
		fr_to_bytes(c, &sm->coef[k]);
		rc |= ctng_buf_append(&b, c, 32);
		ctng_wipe(c, 32);
	}
	char *hex = rc ? NULL : ctng_hex_strdup(b.data, b.len);
	if (b.data)
		ctng_wipe(b.data, b.len);
	ctng_buf_free(&b);
	ctng_dkg_action *x = hex ? push(a, CTNG_DKG_ACT_SAVE_STATE, hex, strlen(hex)) : NULL;
	if (hex) {
		ctng_wipe(hex, strlen(hex));
		free(hex);
	}
	return x ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_dkg_sm_restore_state(ctng_dkg_sm *sm, const char *blob, size_t len, ctng_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0;
	char *tmp = strndup(blob, len);
	int rc = tmp ? ctng_hex_decode_alloc(tmp, &b, &n, err)
	             : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (tmp) {
		ctng_wipe(tmp, len);
		free(tmp);
	}
	if (rc)
		return rc;
	uint32_t t = sm->ctx->t;
	if (n < 15 || b[0] != 1 || b[1] > CTNG_DKG_FAILED ||
	    ((uint32_t)b[11] << 24 | (uint32_t)b[12] << 16 | (uint32_t)b[13] << 8 | b[14]) != t) {
		rc = ctng_err_set(err, CTNG_EINVAL, "dkg: saved state is not for this DKG");
		goto out;
	}
	sm->phase = (ctng_dkg_phase)b[1];
	sm->deadline = 0;
	for (int i = 0; i < 8; i++)
		sm->deadline = sm->deadline << 8 | b[2 + i];
	sm->dealt = b[10] & 1;
	sm->responded = b[10] & 2;
	sm->has_coef = b[10] & 4;
	if (sm->has_coef) {
		if (n != 15 + (size_t)t * 32 || !sm->coef) {
			rc = ctng_err_set(err, CTNG_EINVAL, "dkg: saved state is truncated");
			goto out;
		}
		for (uint32_t k = 0; k < t; k++)
			if (!fr_from_bytes(&sm->coef[k], b + 15 + 32 * k)) {
				rc = ctng_err_set(err, CTNG_EINVAL, "dkg: saved state is corrupt");
				goto out;
			}
	}
out:
	ctng_wipe(b, n);
	free(b);
	return rc;
}

/* ----------------------------------------------------------- lifecycle */

int ctng_dkg_sm_new(const ctng_dkg_config *cfg, ctng_dkg_sm **out, ctng_err *err)
{
	*out = NULL;
	if (!cfg->net || !cfg->self_id || !cfg->sign_key || !cfg->dkg_sk)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "dkg: a participant needs the network, its id, its signing key "
		                    "and its DKG transport key");
	if (cfg->net->has_bls)
		return ctng_err_set(err, CTNG_EINVAL, "dkg: the network already has a group key");
	ctng_dkg_sm *sm = calloc(1, sizeof *sm);
	if (!sm)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = ctng_dkg_ctx_new(cfg->net, &sm->ctx, err);
	if (rc)
		goto fail;
	const ctng_dkg_ctx *c = sm->ctx;
	snprintf(sm->self, sizeof sm->self, "%s", cfg->self_id);
	sm->di = dkg_dealer_index(c, sm->self);
	sm->ri = dkg_recip_index(c, sm->self);
	if (sm->ri < 0) {
		rc = ctng_err_set(err, CTNG_EINVAL, "dkg: %s is not a gossiper of the network",
		                  sm->self);
		goto fail;
	}
	uint8_t pub[32];
	if ((rc = ctng_seal_public(pub, cfg->dkg_sk, err)))
		goto fail;
	if (memcmp(pub, c->recips[sm->ri].dkg_key, 32) != 0 ||
	    !ctng_sig_key_public_equal(cfg->sign_key, c->recips[sm->ri].key)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "dkg: the keys given are not %s's", sm->self);
		goto fail;
	}
	sm->key = cfg->sign_key;
	memcpy(sm->xsk, cfg->dkg_sk, 32);
	if (cfg->old_share && sm->di >= 0 && c->reshare) {
		uint8_t pk[96];
		if (!fr_from_bytes(&sm->old, cfg->old_share) ||
		    (rc = ctng_bls_sk_to_pk(pk, cfg->old_share, err)) ||
		    memcmp(pk, c->dealers[sm->di].c0, 96) != 0) {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "dkg: the previous share given is not %s's", sm->self);
			goto fail;
		}
		sm->has_old = true;
	}
	uint64_t p = cfg->phase_ms            ? cfg->phase_ms
	             : cfg->net->dkg_phase_ms ? cfg->net->dkg_phase_ms
	                                      : CTNG_DKG_DEFAULT_PHASE_MS;
	sm->phase_ms = p;
	sm->grace_ms = cfg->grace_ms ? cfg->grace_ms : p / 20;
	if (cfg->test_seed) {
		if (cfg->test_seed_len < 32 || cfg->test_seed_len > sizeof sm->seed) {
			rc = ctng_err_set(err, CTNG_EINVAL, "dkg: test seed must be 32..128 bytes");
			goto fail;
		}
		memcpy(sm->seed, cfg->test_seed, cfg->test_seed_len);
		sm->seed_len = cfg->test_seed_len;
	}
	sm->faults = cfg->test_faults;
	sm->coef = calloc(c->t, sizeof *sm->coef);
	sm->recv = calloc(c->nd, sizeof *sm->recv);
	sm->recv_st = calloc(c->nd, 1);
	if (!sm->coef || !sm->recv || !sm->recv_st) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = dkg_view_init(&sm->view, c, err)))
		goto fail;
	*out = sm;
	return 0;
fail:
	ctng_dkg_sm_free(sm);
	return rc;
}

static void wipe_coef(ctng_dkg_sm *sm)
{
	if (sm->coef)
		ctng_wipe(sm->coef, sm->ctx->t * sizeof *sm->coef);
	sm->has_coef = false;
}

void ctng_dkg_sm_free(ctng_dkg_sm *sm)
{
	if (!sm)
		return;
	if (sm->ctx) {
		wipe_coef(sm);
		if (sm->recv)
			ctng_wipe(sm->recv, sm->ctx->nd * sizeof *sm->recv);
	}
	free(sm->coef);
	free(sm->recv);
	free(sm->recv_st);
	dkg_view_free(&sm->view);
	ctng_dkg_outcome_free(&sm->outcome);
	ctng_dkg_ctx_free(sm->ctx);
	ctng_wipe(sm, sizeof *sm);
	free(sm);
}

ctng_dkg_phase ctng_dkg_sm_phase(const ctng_dkg_sm *sm)
{
	return sm->phase;
}
const ctng_dkg_ctx *ctng_dkg_sm_ctx(const ctng_dkg_sm *sm)
{
	return sm->ctx;
}
const char *ctng_dkg_sm_failure(const ctng_dkg_sm *sm)
{
	return sm->phase == CTNG_DKG_FAILED ? sm->failure : "";
}
const ctng_dkg_outcome *ctng_dkg_sm_outcome(const ctng_dkg_sm *sm)
{
	return sm->has_outcome ? &sm->outcome : NULL;
}
uint64_t ctng_dkg_sm_bytes_signed(const ctng_dkg_sm *sm)
{
	return sm->bytes_signed;
}

int ctng_dkg_sm_share(const ctng_dkg_sm *sm, uint32_t *bls_id, uint8_t sk[32], ctng_err *err)
{
	if (sm->phase != CTNG_DKG_DONE)
		return ctng_err_set(err, CTNG_ESTATE, "dkg: no share before the run is done");
	*bls_id = sm->ctx->recips[sm->ri].index;
	fr_to_bytes(sk, &sm->share);
	return 0;
}

/* ------------------------------------------------------- own messages */

/* Signs m (taken); when hold, holds it and emits STORE; when send, emits
 * SEND to `to` (NULL: everyone). */
static int emit(ctng_dkg_sm *sm, ctng_dkg_msg *m, const char *to, bool hold, bool send,
                ctng_dkg_actions *a, ctng_err *err)
{
	int rc = ctng_dkg_msg_sign(m, sm->key, err);
	dkg_held *h = NULL;
	if (rc || (rc = dkg_held_from_msg(sm->ctx, m, &h, err))) {
		ctng_dkg_msg_clear(m);
		return rc;
	}
	bool conflict;
	int added = hold ? dkg_view_add(&sm->view, h, &conflict, err) : CTNG_DKG_DUPLICATE;
	if (added < 0) {
		dkg_held_free(h);
		return added;
	}
	bool ok = true;
	if (added == CTNG_DKG_NEW) {
		ctng_dkg_action *x = push(a, CTNG_DKG_ACT_STORE, h->json, h->len);
		if ((ok = x != NULL)) {
			memcpy(x->hash, h->hash, 32);
			x->type = h->m.type;
			memcpy(x->sender, sm->self, sizeof x->sender);
		}
	}
	if (ok && send && !(sm->faults & CTNG_DKG_FAULT_SILENT)) {
		ctng_dkg_action *x = push(a, CTNG_DKG_ACT_SEND, h->json, h->len);
		if ((ok = x != NULL) && to)
			snprintf(x->to, sizeof x->to, "%s", to);
		sm->bytes_signed += h->len;
	}
	if (added != CTNG_DKG_NEW)
		dkg_held_free(h);
	return ok ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

static void fr_bump(uint8_t out[32], const fr *s)
{
	fr one = BLS_FR_ONE, t;
	fr_add(&t, s, &one);
	fr_to_bytes(out, &t);
	ctng_wipe(&t, sizeof t);
}

/* The deal of polynomial sm->coef, sealed with a fresh ephemeral key. */
static int build_deal(ctng_dkg_sm *sm, const fr *coef, ctng_dkg_msg *m, bool bad_share,
                      ctng_err *err)
{
	const ctng_dkg_ctx *c = sm->ctx;
	memset(m, 0, sizeof *m);
	m->type = CTNG_DKG_DEAL;
	memcpy(m->session, c->session, 32);
	snprintf(m->sender, sizeof m->sender, "%s", sm->self);
	m->t = c->t;
	m->n = (uint32_t)c->nr;
	m->commitments = calloc(c->t, 96);
	m->shares = calloc(c->nr, CTNG_DKG_SHARE_CT_LEN);
	g2 *pts = calloc(c->t, sizeof *pts);
	uint8_t esk[32];
	ctng_buf info = {0};
	int rc = m->commitments && m->shares && pts
	             ? 0
	             : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc) {
		g2 gen;
		g2_generator(&gen);
		for (uint32_t k = 0; k < c->t; k++)
			g2_mul_ct(&pts[k], &gen, &coef[k]);
		if (dkg_compress_many(m->commitments, pts, c->t))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = dkg_pok_prove(m->pok_r, m->pok_z, &coef[0], m->commitments[0], c->session,
		                   sm->self, err);
	if (!rc)
		rc = ctng_seal_keygen(esk, m->ephemeral, err);
	bool bumped = false;
	for (size_t r = 0; !rc && r < c->nr; r++) {
		fr s;
		uint8_t pt[32];
		dkg_poly_eval(&s, coef, c->t, c->recips[r].index);
		if (bad_share && !bumped && (int)r != sm->ri) {
			fr_bump(pt, &s);
			bumped = true;
		} else {
			fr_to_bytes(pt, &s);
		}
		ctng_buf_reset(&info);
		if (dkg_share_info(c, (size_t)sm->di, r, &info))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else
			rc = ctng_seal(m->shares[r], esk, c->recips[r].dkg_key, c->session, 32,
			               info.data, info.len, pt, 32, err);
		ctng_wipe(pt, 32);
		ctng_wipe(&s, sizeof s);
	}
	ctng_wipe(esk, 32);
	ctng_buf_free(&info);
	free(pts);
	if (rc)
		ctng_dkg_msg_clear(m);
	return rc;
}

static int deal(ctng_dkg_sm *sm, ctng_dkg_actions *a, ctng_err *err)
{
	const ctng_dkg_ctx *c = sm->ctx;
	int rc = 0;
	if (!sm->has_coef) {
		rc = dkg_coeffs(sm->coef, c->t, sm->has_old ? &sm->old : NULL,
		                sm->seed_len ? sm->seed : NULL, sm->seed_len, 0, err);
		if (rc)
			return rc;
		sm->has_coef = true;
	}
	sm->dealt = true;
	/* the polynomial is durable before any share of it leaves */
	if ((rc = save_state(sm, a, err)))
		return rc;
	ctng_dkg_msg m;
	if ((rc = build_deal(sm, sm->coef, &m, sm->faults & CTNG_DKG_FAULT_BAD_SHARE, err)))
		return rc;
	if (!(sm->faults & CTNG_DKG_FAULT_EQUIVOCATE))
		return emit(sm, &m, NULL, true, true, a, err);
	/* test fault: a second polynomial, deal A to even recipients, B to odd */
	fr *other = calloc(c->t, sizeof *other);
	ctng_dkg_msg m2;
	if (!other)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc)
		rc = dkg_coeffs(other, c->t, sm->has_old ? &sm->old : NULL,
		                sm->seed_len ? sm->seed : NULL, sm->seed_len, 1, err);
	if (!rc)
		rc = build_deal(sm, other, &m2, false, err);
	if (other)
		ctng_wipe(other, c->t * sizeof *other);
	free(other);
	if (rc) {
		ctng_dkg_msg_clear(&m);
		return rc;
	}
	ctng_dkg_msg copy = m, copy2 = m2;
	for (size_t r = 0; r < c->nr && !rc; r++) {
		if ((int)r == sm->ri)
			continue;
		ctng_dkg_msg x = r % 2 ? copy2 : copy;
		/* emit takes ownership: give it private copies */
		x.commitments = malloc((size_t)x.t * 96);
		x.shares = malloc((size_t)x.n * CTNG_DKG_SHARE_CT_LEN);
		if (!x.commitments || !x.shares) {
			ctng_dkg_msg_clear(&x);
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		memcpy(x.commitments, (r % 2 ? copy2 : copy).commitments, (size_t)x.t * 96);
		memcpy(x.shares, (r % 2 ? copy2 : copy).shares,
		       (size_t)x.n * CTNG_DKG_SHARE_CT_LEN);
		rc = emit(sm, &x, c->recips[r].id, r % 2 == 0, true, a, err);
	}
	ctng_dkg_msg_clear(&m2);
	if (!rc)
		rc = emit(sm, &m, NULL, true, false, a, err); /* held, not sent again */
	else
		ctng_dkg_msg_clear(&m);
	return rc;
}

/* Opens and checks the share dealer d sent to self. */
static void receive(ctng_dkg_sm *sm, size_t d)
{
	const ctng_dkg_ctx *c = sm->ctx;
	if (sm->recv_st[d] != RECV_NONE || dkg_view_n_deals(&sm->view, d) == 0)
		return;
	const dkg_held *h = dkg_view_deal(&sm->view, d, 0);
	ctng_buf info = {0};
	uint8_t pt[32];
	bool ok = dkg_share_info(c, d, (size_t)sm->ri, &info) == 0 &&
	          ctng_seal_open(pt, sm->xsk, h->m.ephemeral, c->session, 32, info.data, info.len,
	                         h->m.shares[sm->ri], CTNG_DKG_SHARE_CT_LEN, NULL) == 0 &&
	          fr_from_bytes(&sm->recv[d], pt) &&
	          dkg_share_ok(h->com, c->t, c->recips[sm->ri].index, &sm->recv[d]);
	ctng_wipe(pt, sizeof pt);
	ctng_buf_free(&info);
	sm->recv_st[d] = ok ? RECV_OK : RECV_BAD;
}

static int respond(ctng_dkg_sm *sm, ctng_dkg_actions *a, ctng_err *err)
{
	const ctng_dkg_ctx *c = sm->ctx;
	ctng_dkg_msg m = {0};
	m.type = CTNG_DKG_RESPONSE;
	memcpy(m.session, c->session, 32);
	snprintf(m.sender, sizeof m.sender, "%s", sm->self);
	if (!(m.complaints = calloc(c->nd ? c->nd : 1, sizeof *m.complaints)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	bool lied = false;
	for (size_t d = 0; d < c->nd; d++) {
		if ((int)d == sm->di || dkg_view_n_deals(&sm->view, d) != 1)
			continue; /* no deal, or two: disqualified anyway */
		receive(sm, d);
		bool complain = sm->recv_st[d] == RECV_BAD;
		if (!complain && !lied && (sm->faults & CTNG_DKG_FAULT_FALSE_CLAIM))
			complain = lied = true;
		if (complain)
			memcpy(m.complaints[m.n_complaints++], c->dealers[d].id, CTNG_ID_MAX + 1);
	}
	sm->responded = true;
	return emit(sm, &m, NULL, true, true, a, err);
}

/* Reveals f(x_r) to answer recipient r's complaint. */
static int justify(ctng_dkg_sm *sm, size_t r, bool hold, ctng_dkg_actions *a, ctng_err *err)
{
	const ctng_dkg_ctx *c = sm->ctx;
	ctng_dkg_msg m = {0};
	m.type = CTNG_DKG_JUSTIFICATION;
	memcpy(m.session, c->session, 32);
	snprintf(m.sender, sizeof m.sender, "%s", sm->self);
	snprintf(m.to, sizeof m.to, "%s", c->recips[r].id);
	fr s;
	dkg_poly_eval(&s, sm->coef, c->t, c->recips[r].index);
	if (sm->faults & CTNG_DKG_FAULT_BAD_JUSTIFY)
		fr_bump(m.share, &s);
	else
		fr_to_bytes(m.share, &s);
	ctng_wipe(&s, sizeof s);
	return emit(sm, &m, NULL, hold, true, a, err);
}

/* Answers every signed complaint against self not answered yet. */
static int answer(ctng_dkg_sm *sm, ctng_dkg_actions *a, ctng_err *err)
{
	const ctng_dkg_ctx *c = sm->ctx;
	if (sm->di < 0 || !sm->has_coef || sm->phase < CTNG_DKG_RESPONDING ||
	    (sm->faults & CTNG_DKG_FAULT_NO_JUSTIFY))
		return 0;
	for (size_t r = 0; r < c->nr; r++) {
		if (!dkg_view_complains(&sm->view, (size_t)sm->di, r) ||
		    dkg_view_n_justs(&sm->view, (size_t)sm->di, r) > 0)
			continue;
		int rc = justify(sm, r, true, a, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* --------------------------------------------------------------- phases */

static bool deals_in(const ctng_dkg_sm *sm)
{
	for (size_t d = 0; d < sm->ctx->nd; d++)
		if (dkg_view_n_deals(&sm->view, d) == 0)
			return false;
	return true;
}

static bool resps_in(const ctng_dkg_sm *sm)
{
	for (size_t r = 0; r < sm->ctx->nr; r++)
		if (dkg_view_n_resps(&sm->view, r) == 0)
			return false;
	return true;
}

/* Every complaint against a dealer with one deal has an answer; *any says
 * whether there was any complaint to answer. */
static bool justs_in(const ctng_dkg_sm *sm, bool *any)
{
	const ctng_dkg_ctx *c = sm->ctx;
	bool all = true;
	*any = false;
	for (size_t d = 0; d < c->nd; d++) {
		if (dkg_view_n_deals(&sm->view, d) != 1)
			continue;
		for (size_t r = 0; r < c->nr; r++) {
			if (!dkg_view_complains(&sm->view, d, r))
				continue;
			*any = true;
			if (dkg_view_n_justs(&sm->view, d, r) == 0)
				all = false;
		}
	}
	return all;
}

/* This participant's share of the result: the sum (or Lagrange combination,
 * when resharing) of what each qualified dealer gave it. */
static int own_share(ctng_dkg_sm *sm, const bool *qual, ctng_err *err)
{
	const ctng_dkg_ctx *c = sm->ctx;
	uint32_t *xs = calloc(c->nd, sizeof *xs);
	size_t *idx = calloc(c->nd, sizeof *idx);
	fr *lam = calloc(c->nd, sizeof *lam);
	int rc = xs && idx && lam ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	size_t nq = 0;
	for (size_t d = 0; !rc && d < c->nd; d++)
		if (qual[d]) {
			xs[nq] = c->dealers[d].index;
			idx[nq++] = d;
		}
	if (!rc && c->reshare)
		dkg_lagrange0(lam, xs, nq);
	fr x;
	memset(&x, 0, sizeof x);
	for (size_t q = 0; !rc && q < nq; q++) {
		size_t d = idx[q];
		fr s;
		if (dkg_view_complains(&sm->view, d, (size_t)sm->ri)) {
			/* the public answer to our complaint (checked by the evaluation) */
			if (!fr_from_bytes(&s,
			                   dkg_view_just(&sm->view, d, (size_t)sm->ri, 0)->m.share))
				rc = ctng_err_set(err, CTNG_EIO, "dkg: bad revealed share");
		} else {
			receive(sm, d);
			if (sm->recv_st[d] != RECV_OK)
				rc = ctng_err_set(
				    err, CTNG_EVERIFY,
				    "dkg: no valid share from %s and no complaint about it",
				    c->dealers[d].id);
			s = sm->recv[d];
		}
		if (c->reshare)
			fr_mul(&s, &s, &lam[q]);
		fr_add(&x, &x, &s);
		ctng_wipe(&s, sizeof s);
	}
	if (!rc) {
		uint8_t sk[32], pk[96];
		fr_to_bytes(sk, &x);
		if (ctng_bls_sk_to_pk(pk, sk, NULL) != 0 ||
		    memcmp(pk, sm->outcome.share_pks[sm->ri], 96) != 0)
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "dkg: own share does not match its share key");
		ctng_wipe(sk, 32);
		sm->share = x;
	}
	ctng_wipe(&x, sizeof x);
	free(xs);
	free(idx);
	free(lam);
	return rc;
}

static int finish(ctng_dkg_sm *sm, uint64_t now, ctng_dkg_actions *a, ctng_err *err)
{
	bool *qual = calloc(sm->ctx->nd, sizeof *qual);
	if (!qual)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	ctng_err e = {0};
	ctng_dkg_outcome_free(&sm->outcome);
	int rc = dkg_view_evaluate(&sm->view, &sm->outcome, qual, &e);
	if (rc == 0)
		rc = own_share(sm, qual, &e);
	free(qual);
	if (rc == CTNG_ENOMEM)
		return ctng_err_set(err, rc, "%s", e.msg);
	if (rc) {
		sm->phase = CTNG_DKG_FAILED;
		snprintf(sm->failure, sizeof sm->failure, "%s", e.msg);
		sm->has_outcome = false;
		ctng_dkg_outcome_free(&sm->outcome);
	} else {
		sm->phase = CTNG_DKG_DONE;
		sm->has_outcome = true;
	}
	sm->linger_until = now + sm->phase_ms;
	sm->all_in_at = 0;
	/* the saved state no longer carries the polynomial; memory keeps it for
	 * one more phase to answer late complaints, then wipes it */
	bool had = sm->has_coef;
	sm->has_coef = false;
	rc = save_state(sm, a, err);
	sm->has_coef = had && sm->phase == CTNG_DKG_DONE;
	if (!sm->has_coef)
		wipe_coef(sm);
	if (!rc && !push(a, CTNG_DKG_ACT_FINISHED, NULL, 0))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return rc;
}

/* Closes phase when its deadline passed, or its messages are all in and
 * the grace ran out. */
static bool ready(ctng_dkg_sm *sm, bool all_in, uint64_t now)
{
	if (all_in) {
		if (!sm->all_in_at)
			sm->all_in_at = now;
		if (now >= sm->all_in_at + sm->grace_ms)
			return true;
	} else {
		sm->all_in_at = 0;
	}
	return now >= sm->deadline;
}

static int step(ctng_dkg_sm *sm, uint64_t now, ctng_dkg_actions *a, ctng_err *err)
{
	int rc = answer(sm, a, err);
	for (bool moved = true; !rc && moved;) {
		moved = false;
		bool any;
		switch (sm->phase) {
		case CTNG_DKG_DEALING:
			if (ready(sm, deals_in(sm), now)) {
				sm->phase = CTNG_DKG_RESPONDING;
				sm->deadline = now + sm->phase_ms;
				sm->all_in_at = 0;
				if (!(rc = respond(sm, a, err)) && !(rc = save_state(sm, a, err)))
					rc = answer(sm, a, err);
				moved = true;
			}
			break;
		case CTNG_DKG_RESPONDING:
			if (ready(sm, resps_in(sm), now)) {
				sm->phase = CTNG_DKG_JUSTIFYING;
				sm->deadline = now + sm->phase_ms;
				sm->all_in_at = 0;
				if (!(rc = save_state(sm, a, err)))
					rc = answer(sm, a, err);
				bool all = justs_in(sm, &any);
				if (!rc && all && !any)
					rc = finish(sm, now, a, err); /* nothing to answer */
				moved = true;
			}
			break;
		case CTNG_DKG_JUSTIFYING:
			if (ready(sm, justs_in(sm, &any), now)) {
				rc = finish(sm, now, a, err);
				moved = true;
			}
			break;
		case CTNG_DKG_DONE:
			if (sm->has_coef && now >= sm->linger_until)
				wipe_coef(sm);
			break;
		default:
			break;
		}
	}
	return rc;
}

uint64_t ctng_dkg_sm_next_timer(const ctng_dkg_sm *sm)
{
	if (sm->phase >= CTNG_DKG_DEALING && sm->phase <= CTNG_DKG_JUSTIFYING) {
		uint64_t next = sm->deadline;
		if (sm->all_in_at && sm->all_in_at + sm->grace_ms < next)
			next = sm->all_in_at + sm->grace_ms;
		return next;
	}
	return sm->phase == CTNG_DKG_DONE && sm->has_coef ? sm->linger_until : 0;
}

/* --------------------------------------------------------------- events */

int ctng_dkg_sm_start(ctng_dkg_sm *sm, uint64_t now, ctng_dkg_actions *a, ctng_err *err)
{
	if (sm->phase != CTNG_DKG_WAIT)
		return 0;
	sm->phase = CTNG_DKG_DEALING;
	sm->deadline = now + sm->phase_ms;
	int rc = 0;
	bool can_deal = sm->di >= 0 && (!sm->ctx->reshare || sm->has_old);
	if (can_deal && !(sm->faults & CTNG_DKG_FAULT_SILENT))
		rc = deal(sm, a, err);
	else
		rc = save_state(sm, a, err);
	return rc ? rc : step(sm, now, a, err);
}

static bool was_rejected(const ctng_dkg_sm *sm, const uint8_t hash[32])
{
	size_t n = sm->n_rejected < REJECT_RING ? sm->n_rejected : REJECT_RING;
	for (size_t i = 0; i < n; i++)
		if (memcmp(sm->rejected[i], hash, 32) == 0)
			return true;
	return false;
}

static void remember_rejected(ctng_dkg_sm *sm, const dkg_held *h)
{
	memcpy(sm->rejected[sm->n_rejected++ % REJECT_RING], h->hash, 32);
}

/* A phase that is over takes only further versions (evidence of
 * equivocation) of what it collected. */
static int phase_check(const ctng_dkg_sm *sm, const dkg_held *h, ctng_err *err)
{
	const dkg_view *v = &sm->view;
	if (h->m.type == CTNG_DKG_DEAL && sm->phase > CTNG_DKG_DEALING &&
	    dkg_view_n_deals(v, (size_t)h->di) == 0)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "dkg: the deal phase is closed (%s dealt late)", h->m.sender);
	if (h->m.type == CTNG_DKG_RESPONSE && sm->phase > CTNG_DKG_RESPONDING &&
	    dkg_view_n_resps(v, (size_t)h->ri) == 0)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "dkg: the response phase is closed (%s responded late)",
		                    h->m.sender);
	return 0;
}

/* After the run: a late complaint against self is still answered while the
 * polynomial is kept (so a participant that saw it in time can finish). */
static int late(ctng_dkg_sm *sm, dkg_held *h, ctng_dkg_actions *a, ctng_err *err)
{
	int rc = ctng_err_set(err, CTNG_ESTATE, "dkg: this run is over (%s)",
	                      ctng_dkg_phase_name(sm->phase));
	if (h->m.type == CTNG_DKG_RESPONSE && sm->has_coef && sm->di >= 0 &&
	    !(sm->faults & CTNG_DKG_FAULT_NO_JUSTIFY)) {
		for (size_t i = 0; i < h->m.n_complaints; i++) {
			if (strcmp(h->m.complaints[i], sm->self) != 0 ||
			    dkg_view_n_justs(&sm->view, (size_t)sm->di, (size_t)h->ri) > 0)
				continue;
			/* not held: the result is fixed; sent so the others can finish */
			rc = justify(sm, (size_t)h->ri, false, a, err);
			if (rc == 0)
				rc = CTNG_DKG_NEW;
		}
	}
	dkg_held_free(h);
	return rc;
}

int ctng_dkg_sm_on_message(ctng_dkg_sm *sm, const char *json, size_t len, const char *from,
                           uint64_t now, ctng_dkg_actions *a, ctng_err *err)
{
	dkg_held *h = NULL;
	int rc = dkg_held_new(sm->ctx, json, len, &h, err);
	if (rc)
		return rc;
	if (dkg_view_find(&sm->view, h->hash)) {
		dkg_held_free(h);
		return CTNG_DKG_DUPLICATE;
	}
	if (strcmp(h->m.sender, sm->self) == 0) {
		dkg_held_free(h);
		return ctng_err_set(err, CTNG_EINVAL,
		                    "dkg: a message in my name that I do not hold");
	}
	if (sm->phase >= CTNG_DKG_DONE)
		return late(sm, h, a, err);
	if ((rc = phase_check(sm, h, err))) {
		remember_rejected(sm, h);
		dkg_held_free(h);
		return rc;
	}
	bool conflict;
	rc = dkg_view_add(&sm->view, h, &conflict, err);
	if (rc != CTNG_DKG_NEW) {
		if (rc < 0)
			remember_rejected(sm, h);
		dkg_held_free(h);
		return rc;
	}
	for (int k = 0; k < 2; k++) {
		if (k == 1 && (sm->faults & CTNG_DKG_FAULT_SILENT))
			break;
		ctng_dkg_action *x = k == 0 ? push(a, CTNG_DKG_ACT_STORE, h->json, h->len)
		                            : push(a, CTNG_DKG_ACT_ANNOUNCE, NULL, 0);
		if (!x)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		memcpy(x->hash, h->hash, 32);
		x->type = h->m.type;
		memcpy(x->sender, h->m.sender, sizeof x->sender);
		if (k == 1)
			snprintf(x->from, sizeof x->from, "%s",
			         from && ctng_id_valid(from) ? from : "");
	}
	if (sm->phase == CTNG_DKG_WAIT && h->m.type == CTNG_DKG_DEAL)
		rc = ctng_dkg_sm_start(sm, now, a, err);
	else
		rc = step(sm, now, a, err);
	return rc ? rc : CTNG_DKG_NEW;
}

int ctng_dkg_sm_on_timer(ctng_dkg_sm *sm, uint64_t now, ctng_dkg_actions *a, ctng_err *err)
{
	return sm->phase == CTNG_DKG_WAIT || sm->phase == CTNG_DKG_FAILED ? 0
	                                                                  : step(sm, now, a, err);
}

bool ctng_dkg_sm_wants(const ctng_dkg_sm *sm, const uint8_t hash[32])
{
	return sm->phase < CTNG_DKG_DONE && !dkg_view_find(&sm->view, hash) &&
	       !was_rejected(sm, hash);
}

const char *ctng_dkg_sm_get(const ctng_dkg_sm *sm, const uint8_t hash[32], size_t *len)
{
	const dkg_held *h = dkg_view_find(&sm->view, hash);
	if (!h)
		return NULL;
	if (len)
		*len = h->len;
	return h->json;
}

void ctng_dkg_sm_each(const ctng_dkg_sm *sm, void (*fn)(const char *, size_t, void *), void *arg)
{
	for (size_t i = 0; i < sm->view.n_all; i++)
		fn(sm->view.all[i]->json, sm->view.all[i]->len, arg);
}

int ctng_dkg_sm_transcript(const ctng_dkg_sm *sm, char **json, size_t *len, ctng_err *err)
{
	if (sm->phase < CTNG_DKG_DONE)
		return ctng_err_set(err, CTNG_ESTATE, "dkg: the run is not over");
	return dkg_transcript_encode(&sm->view, sm->has_outcome ? &sm->outcome : NULL, sm->failure,
	                             json, len, err);
}

/* -------------------------------------------------------------- restart */

int ctng_dkg_sm_restore_message(ctng_dkg_sm *sm, const char *json, size_t len, ctng_err *err)
{
	dkg_held *h = NULL;
	int rc = dkg_held_new(sm->ctx, json, len, &h, err);
	if (rc)
		return rc;
	bool conflict;
	rc = dkg_view_add(&sm->view, h, &conflict, err);
	if (rc != CTNG_DKG_NEW)
		dkg_held_free(h);
	return rc < 0 ? rc : 0;
}

int ctng_dkg_sm_resume(ctng_dkg_sm *sm, uint64_t now, ctng_dkg_actions *a, ctng_err *err)
{
	bool own_deal = sm->di >= 0 && dkg_view_n_deals(&sm->view, (size_t)sm->di) > 0;
	if (own_deal && !sm->dealt) {
		/* our deal is out but the polynomial is lost: never deal again */
		sm->phase = CTNG_DKG_FAILED;
		snprintf(sm->failure, sizeof sm->failure,
		         "dkg: restarted without the state of its own deal; this run is aborted");
		int rc = save_state(sm, a, err);
		return rc ? rc
		       : push(a, CTNG_DKG_ACT_FINISHED, NULL, 0)
		           ? 0
		           : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (sm->dealt && !own_deal && sm->phase < CTNG_DKG_DONE) {
		/* saved but never stored: the daemon commits both together */
		sm->phase = CTNG_DKG_FAILED;
		snprintf(sm->failure, sizeof sm->failure,
		         "dkg: own deal lost; this run is aborted");
		wipe_coef(sm);
		int rc = save_state(sm, a, err);
		return rc ? rc
		       : push(a, CTNG_DKG_ACT_FINISHED, NULL, 0)
		           ? 0
		           : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (sm->phase == CTNG_DKG_DONE || sm->phase == CTNG_DKG_FAILED) {
		/* recompute the result from the stored messages (the share too) */
		sm->has_coef = false;
		ctng_dkg_phase was = sm->phase;
		if (was == CTNG_DKG_DONE)
			return finish(sm, now, a, err);
		snprintf(sm->failure, sizeof sm->failure,
		         "dkg: the run had failed before a restart");
		return push(a, CTNG_DKG_ACT_FINISHED, NULL, 0)
		           ? 0
		           : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sm->view.n_all; i++) {
		const dkg_held *h = sm->view.all[i];
		if (strcmp(h->m.sender, sm->self) == 0 && !(sm->faults & CTNG_DKG_FAULT_SILENT) &&
		    !push(a, CTNG_DKG_ACT_SEND, h->json, h->len))
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (sm->phase >= CTNG_DKG_RESPONDING && !sm->responded) {
		int rc = respond(sm, a, err);
		if (rc)
			return rc;
	}
	return sm->phase == CTNG_DKG_WAIT ? 0 : step(sm, now, a, err);
}
