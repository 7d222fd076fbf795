/*
 * view.c — the messages a participant (or a transcript) holds, indexed by
 * what they are about, and the deterministic evaluation of such a set into
 * the DKG's result (docs/dkg.md §5): which dealers qualify, the group key,
 * the commitments of the joint polynomial and every recipient's share key.
 * The state machine and the transcript verifier call the same function, so
 * a transcript verifies exactly when it holds what its writer used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkg/dkg_internal.h"

int dkg_view_init(dkg_view *v, const ctng_dkg_ctx *c, ctng_err *err)
{
	memset(v, 0, sizeof *v);
	v->ctx = c;
	v->deal = calloc(c->nd * DKG_DEAL_VERSIONS, sizeof *v->deal);
	v->resp = calloc(c->nr * DKG_RESP_VERSIONS, sizeof *v->resp);
	v->just = calloc(c->nd * c->nr * DKG_JUST_VERSIONS, sizeof *v->just);
	if (!v->deal || !v->resp || !v->just) {
		dkg_view_free(v);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	return 0;
}

void dkg_view_free(dkg_view *v)
{
	for (size_t i = 0; i < v->n_all; i++)
		dkg_held_free(v->all[i]);
	free(v->all);
	free(v->deal);
	free(v->resp);
	free(v->just);
	memset(v, 0, sizeof *v);
}

const dkg_held *dkg_view_find(const dkg_view *v, const uint8_t hash[32])
{
	for (size_t i = 0; i < v->n_all; i++)
		if (memcmp(v->all[i]->hash, hash, 32) == 0)
			return v->all[i];
	return NULL;
}

/* The version slots a message goes into. */
static dkg_held **slots(const dkg_view *v, const dkg_held *h, size_t *cap)
{
	size_t nr = v->ctx->nr;
	switch (h->m.type) {
	case CTNG_DKG_DEAL:
		*cap = DKG_DEAL_VERSIONS;
		return &v->deal[(size_t)h->di * DKG_DEAL_VERSIONS];
	case CTNG_DKG_RESPONSE:
		*cap = DKG_RESP_VERSIONS;
		return &v->resp[(size_t)h->ri * DKG_RESP_VERSIONS];
	default:
		*cap = DKG_JUST_VERSIONS;
		return &v->just[((size_t)h->di * nr + (size_t)h->ri) * DKG_JUST_VERSIONS];
	}
}

int dkg_view_add(dkg_view *v, dkg_held *h, bool *conflict, ctng_err *err)
{
	*conflict = false;
	if (dkg_view_find(v, h->hash))
		return CTNG_DKG_DUPLICATE;
	size_t cap;
	dkg_held **s = slots(v, h, &cap);
	size_t k = 0;
	while (k < cap && s[k])
		k++;
	if (k == cap)
		return ctng_err_set(
		    err, CTNG_ERANGE,
		    "dkg: %s already signed %zu different %ss here; more are ignored", h->m.sender,
		    cap, ctng_dkg_type_name(h->m.type));
	if (v->n_all == v->cap_all) {
		size_t nc = v->cap_all ? 2 * v->cap_all : 64;
		dkg_held **na = realloc(v->all, nc * sizeof *na);
		if (!na)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		v->all = na;
		v->cap_all = nc;
	}
	v->all[v->n_all++] = h;
	s[k] = h;
	*conflict = k > 0;
	return CTNG_DKG_NEW;
}

size_t dkg_view_n_deals(const dkg_view *v, size_t d)
{
	size_t k = 0;
	while (k < DKG_DEAL_VERSIONS && v->deal[d * DKG_DEAL_VERSIONS + k])
		k++;
	return k;
}

const dkg_held *dkg_view_deal(const dkg_view *v, size_t d, size_t k)
{
	return v->deal[d * DKG_DEAL_VERSIONS + k];
}

size_t dkg_view_n_resps(const dkg_view *v, size_t r)
{
	size_t k = 0;
	while (k < DKG_RESP_VERSIONS && v->resp[r * DKG_RESP_VERSIONS + k])
		k++;
	return k;
}

size_t dkg_view_n_justs(const dkg_view *v, size_t d, size_t r)
{
	size_t k = 0, base = (d * v->ctx->nr + r) * DKG_JUST_VERSIONS;
	while (k < DKG_JUST_VERSIONS && v->just[base + k])
		k++;
	return k;
}

const dkg_held *dkg_view_just(const dkg_view *v, size_t d, size_t r, size_t k)
{
	return v->just[(d * v->ctx->nr + r) * DKG_JUST_VERSIONS + k];
}

bool dkg_view_complains(const dkg_view *v, size_t d, size_t r)
{
	const char *id = v->ctx->dealers[d].id;
	for (size_t k = 0; k < dkg_view_n_resps(v, r); k++) {
		const ctng_dkg_msg *m = &v->resp[r * DKG_RESP_VERSIONS + k]->m;
		for (size_t i = 0; i < m->n_complaints; i++)
			if (strcmp(m->complaints[i], id) == 0)
				return true;
	}
	return false;
}

/* ------------------------------------------------------------ evaluate */

/* Why dealer d is disqualified ("" if it is not). */
static void judge(const dkg_view *v, size_t d, char *why, size_t cap)
{
	const ctng_dkg_ctx *c = v->ctx;
	why[0] = '\0';
	size_t nd = dkg_view_n_deals(v, d);
	if (nd == 0) {
		snprintf(why, cap, "no deal");
		return;
	}
	if (nd > 1) {
		snprintf(why, cap, "equivocation: signed two different deals");
		return;
	}
	const dkg_held *deal = dkg_view_deal(v, d, 0);
	for (size_t r = 0; r < c->nr; r++) {
		size_t nj = dkg_view_n_justs(v, d, r);
		if (nj > 1) {
			snprintf(why, cap, "equivocation: revealed two shares for %s",
			         c->recips[r].id);
			return;
		}
		if (!dkg_view_complains(v, d, r))
			continue;
		if (nj == 0) {
			snprintf(why, cap, "did not answer the complaint of %s", c->recips[r].id);
			return;
		}
		fr s;
		bool ok = fr_from_bytes(&s, dkg_view_just(v, d, r, 0)->m.share) &&
		          dkg_share_ok(deal->com, c->t, c->recips[r].index, &s);
		ctng_wipe(&s, sizeof s);
		if (!ok) {
			snprintf(why, cap, "revealed a wrong share for %s", c->recips[r].id);
			return;
		}
	}
}

void ctng_dkg_outcome_free(ctng_dkg_outcome *o)
{
	if (!o)
		return;
	free(o->commitments);
	free(o->qualified);
	free(o->disqualified);
	free(o->share_pks);
	memset(o, 0, sizeof *o);
}

bool ctng_dkg_outcome_equal(const ctng_dkg_outcome *a, const ctng_dkg_outcome *b)
{
	if (memcmp(a->session, b->session, 32) != 0 || a->threshold != b->threshold ||
	    memcmp(a->group_pk, b->group_pk, 96) != 0 || a->n_qualified != b->n_qualified ||
	    a->n_share_pks != b->n_share_pks)
		return false;
	if (memcmp(a->commitments, b->commitments, (size_t)a->threshold * 96) != 0 ||
	    memcmp(a->share_pks, b->share_pks, a->n_share_pks * 96) != 0)
		return false;
	for (size_t i = 0; i < a->n_qualified; i++)
		if (strcmp(a->qualified[i], b->qualified[i]) != 0)
			return false;
	return true;
}

int dkg_view_evaluate(const dkg_view *v, ctng_dkg_outcome *out, bool *qual, ctng_err *err)
{
	const ctng_dkg_ctx *c = v->ctx;
	memset(out, 0, sizeof *out);
	memcpy(out->session, c->session, 32);
	out->threshold = c->t;
	out->qualified = calloc(c->nd, sizeof *out->qualified);
	out->disqualified = calloc(c->nd, sizeof *out->disqualified);
	out->commitments = calloc(c->t, 96);
	out->share_pks = calloc(c->nr, 96);
	uint32_t *xs = calloc(c->nd, sizeof *xs);
	size_t *idx = calloc(c->nd, sizeof *idx);
	fr *lam = calloc(c->nd, sizeof *lam);
	g2 *acc = calloc(c->t, sizeof *acc), *pks = calloc(c->nr, sizeof *pks),
	   *pts = calloc(c->nd, sizeof *pts);
	int rc = 0;
	if (!out->qualified || !out->disqualified || !out->commitments || !out->share_pks || !xs ||
	    !idx || !lam || !acc || !pks || !pts) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	size_t nq = 0;
	for (size_t d = 0; d < c->nd; d++) {
		char why[128];
		judge(v, d, why, sizeof why);
		qual[d] = why[0] == '\0';
		if (qual[d]) {
			memcpy(out->qualified[out->n_qualified++], c->dealers[d].id,
			       CTNG_ID_MAX + 1);
			xs[nq] = c->dealers[d].index;
			idx[nq++] = d;
		} else {
			ctng_dkg_disq *q = &out->disqualified[out->n_disqualified++];
			memcpy(q->id, c->dealers[d].id, sizeof q->id);
			snprintf(q->reason, sizeof q->reason, "%s", why);
		}
	}
	if (nq < c->min_qual) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "dkg: only %zu qualified dealers, need %u", nq,
		                  c->min_qual);
		goto out;
	}
	/* A_k = sum_i C_ik (fresh) or sum_i lambda_i C_ik (resharing). */
	if (c->reshare)
		dkg_lagrange0(lam, xs, nq);
	for (uint32_t k = 0; k < c->t; k++) {
		if (c->reshare) {
			for (size_t q = 0; q < nq; q++)
				pts[q] = dkg_view_deal(v, idx[q], 0)->com[k];
			if (g2_msm_vartime(&acc[k], pts, lam, nq) != 0) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				goto out;
			}
		} else {
			g2_identity(&acc[k]);
			for (size_t q = 0; q < nq; q++)
				g2_add(&acc[k], &acc[k], &dkg_view_deal(v, idx[q], 0)->com[k]);
		}
	}
	if (g2_is_identity(&acc[0])) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "dkg: the group key is the identity");
		goto out;
	}
	for (size_t r = 0; r < c->nr; r++)
		dkg_commit_eval(&pks[r], acc, c->t, c->recips[r].index);
	if (dkg_compress_many(out->commitments, acc, c->t) ||
	    dkg_compress_many(out->share_pks, pks, c->nr)) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	out->n_share_pks = c->nr;
	memcpy(out->group_pk, out->commitments[0], 96);
	if (c->reshare && memcmp(out->group_pk, c->net->reshare.group_pk, 96) != 0)
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "dkg: the reshared key is not the old group key");
out:
	free(xs);
	free(idx);
	free(lam);
	free(acc);
	free(pks);
	free(pts);
	return rc;
}
