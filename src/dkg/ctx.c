/*
 * ctx.c — the participants of a network's DKG (docs/dkg.md §3): recipients
 * (every gossiper, by bls_id), dealers (the same, or when resharing the
 * previous holders still in the network, at their previous share ids), the
 * threshold and the session id; and the check of a message against them.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "dkg/dkg_internal.h"

int dkg_dealer_index(const ctng_dkg_ctx *c, const char *id)
{
	for (size_t i = 0; i < c->nd; i++)
		if (strcmp(c->dealers[i].id, id) == 0)
			return (int)i;
	return -1;
}

int dkg_recip_index(const ctng_dkg_ctx *c, const char *id)
{
	for (size_t i = 0; i < c->nr; i++)
		if (strcmp(c->recips[i].id, id) == 0)
			return (int)i;
	return -1;
}

const uint8_t *ctng_dkg_ctx_session(const ctng_dkg_ctx *c)
{
	return c->session;
}
size_t ctng_dkg_ctx_n_dealers(const ctng_dkg_ctx *c)
{
	return c->nd;
}
size_t ctng_dkg_ctx_n_recipients(const ctng_dkg_ctx *c)
{
	return c->nr;
}
bool ctng_dkg_ctx_is_dealer(const ctng_dkg_ctx *c, const char *id)
{
	return dkg_dealer_index(c, id) >= 0;
}

void ctng_dkg_ctx_free(ctng_dkg_ctx *c)
{
	if (!c)
		return;
	free(c->dealers);
	free(c->recips);
	free(c);
}

int ctng_dkg_ctx_new(const ctng_network *net, ctng_dkg_ctx **out, ctng_err *err)
{
	*out = NULL;
	size_t n = ctng_network_count(net, CTNG_ROLE_GOSSIPER);
	if (n == 0 || n > CTNG_DKG_MAX_PARTICIPANTS)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "dkg: need 1..%d gossipers, the network has %zu",
		                    CTNG_DKG_MAX_PARTICIPANTS, n);
	ctng_dkg_ctx *c = calloc(1, sizeof *c);
	if (!c || !(c->recips = calloc(n, sizeof *c->recips)) ||
	    !(c->dealers = calloc(n, sizeof *c->dealers))) {
		ctng_dkg_ctx_free(c);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	c->net = net;
	c->t = net->threshold;
	int rc = 0;
	for (uint32_t id = 1; id <= n && !rc; id++) {
		const ctng_entity *e = ctng_network_by_bls_id(net, id);
		dkg_party *p = &c->recips[c->nr];
		if (!e)
			rc = ctng_err_set(err, CTNG_EINVAL, "dkg: no gossiper has bls_id %u", id);
		else if (!e->key || !e->has_dkg_key)
			rc = ctng_err_set(
			    err, CTNG_EINVAL,
			    "dkg: gossiper %s has no public_key or dkg_key (make its keys "
			    "with ctng keygen)",
			    e->id);
		if (rc)
			break;
		memcpy(p->id, e->id, sizeof p->id);
		p->index = id;
		p->key = e->key;
		memcpy(p->dkg_key, e->dkg_key, 32);
		c->nr++;
	}
	if (!rc && !net->reshare.present) {
		memcpy(c->dealers, c->recips, n * sizeof *c->dealers);
		c->nd = n;
		c->min_qual = c->t;
	} else if (!rc) {
		c->reshare = true;
		c->min_qual = net->reshare.threshold;
		for (size_t i = 0; i < net->reshare.n_holders; i++) {
			const ctng_reshare_holder *h = &net->reshare.holders[i];
			int r = dkg_recip_index(c, h->id);
			if (r < 0)
				continue; /* a holder that left takes no part (docs/dkg.md §6) */
			dkg_party *p = &c->dealers[c->nd++];
			*p = c->recips[r];
			p->index = h->bls_id;
			p->has_c0 = true;
			memcpy(p->c0, h->bls_pk, 96);
		}
		if (c->nd < c->min_qual)
			rc = ctng_err_set(
			    err, CTNG_EINVAL,
			    "dkg: only %zu holders of the previous key are in the network, "
			    "resharing needs %u",
			    c->nd, c->min_qual);
	}
	if (!rc && c->min_qual == 0)
		rc = ctng_err_set(err, CTNG_EINVAL, "dkg: threshold 0");
	if (!rc) {
		EVP_MD_CTX *h = EVP_MD_CTX_new();
		unsigned int hl = 32;
		if (!h || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestUpdate(h, DKG_SESSION_LABEL, sizeof DKG_SESSION_LABEL - 1) != 1 ||
		    EVP_DigestUpdate(h, net->fingerprint, 32) != 1 ||
		    EVP_DigestFinal_ex(h, c->session, &hl) != 1)
			rc = ctng_err_set(err, CTNG_EIO, "SHA-256 failed");
		EVP_MD_CTX_free(h);
	}
	if (rc) {
		ctng_dkg_ctx_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int dkg_share_info(const ctng_dkg_ctx *c, size_t d, size_t r, ctng_buf *out)
{
	const char *a = c->dealers[d].id, *b = c->recips[r].id;
	return ctng_buf_append(out, DKG_SHARE_LABEL, sizeof DKG_SHARE_LABEL - 1) |
	       ctng_buf_append(out, c->session, 32) | ctng_buf_append_lp32(out, a, strlen(a)) |
	       ctng_buf_append_lp32(out, b, strlen(b));
}

/* ------------------------------------------------------------- checks */

/* Every check of ctng_dkg_msg_check; decoded commitments into com (t
 * entries) when com != NULL; indexes of the sender (and `to`). */
static int check(const ctng_dkg_ctx *c, const ctng_dkg_msg *m, g2 *com, int *di, int *ri,
                 ctng_err *err)
{
	*di = *ri = -1;
	if (memcmp(m->session, c->session, 32) != 0)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "dkg: message of another session (replayed, or another network "
		                    "file)");
	const ctng_sig_key *key = NULL;
	switch (m->type) {
	case CTNG_DKG_DEAL:
	case CTNG_DKG_JUSTIFICATION:
		if ((*di = dkg_dealer_index(c, m->sender)) < 0)
			return ctng_err_set(err, CTNG_EINVAL, "dkg: %s is not a dealer of this DKG",
			                    m->sender);
		key = c->dealers[*di].key;
		if (m->type == CTNG_DKG_DEAL && (m->t != c->t || m->n != c->nr))
			return ctng_err_set(
			    err, CTNG_EINVAL,
			    "dkg: deal of %s has %u commitments and %u shares, want "
			    "%u and %zu",
			    m->sender, m->t, m->n, c->t, c->nr);
		if (m->type == CTNG_DKG_JUSTIFICATION) {
			fr s;
			if ((*ri = dkg_recip_index(c, m->to)) < 0 || strcmp(m->to, m->sender) == 0)
				return ctng_err_set(
				    err, CTNG_EINVAL,
				    "dkg: justification for %s, not another recipient", m->to);
			if (!fr_from_bytes(&s, m->share))
				return ctng_err_set(err, CTNG_EINVAL,
				                    "dkg: revealed share is not a scalar below r");
			ctng_wipe(&s, sizeof s);
		}
		break;
	case CTNG_DKG_RESPONSE:
		if ((*ri = dkg_recip_index(c, m->sender)) < 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "dkg: %s is not a recipient of this DKG", m->sender);
		key = c->recips[*ri].key;
		for (size_t i = 0, prev = 0; i < m->n_complaints; i++) {
			int d = dkg_dealer_index(c, m->complaints[i]);
			if (d < 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "dkg: complaint about %s, not a dealer",
				                    m->complaints[i]);
			if (strcmp(m->complaints[i], m->sender) == 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "dkg: %s complains about itself", m->sender);
			if (i > 0 && (size_t)d <= prev)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "dkg: complaints must be in dealer order");
			prev = (size_t)d;
		}
		break;
	default:
		return ctng_err_set(err, CTNG_EINVAL, "dkg: bad message type");
	}
	int rc = ctng_dkg_msg_verify(m, key, err);
	if (rc)
		return ctng_err_wrap(err, "dkg: %s from %s", ctng_dkg_type_name(m->type),
		                     m->sender);
	if (m->type != CTNG_DKG_DEAL)
		return 0;
	const dkg_party *p = &c->dealers[*di];
	if (p->has_c0 && memcmp(m->commitments[0], p->c0, 96) != 0)
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "dkg: deal of %s does not commit to its previous share",
		                    m->sender);
	for (uint32_t k = 0; k < m->t; k++) {
		g2 q;
		int d = g2_decompress(com ? &com[k] : &q, m->commitments[k]);
		if (d != BLS_DEC_OK)
			return ctng_err_set(err, CTNG_EVERIFY, "dkg: deal of %s: commitment %u: %s",
			                    m->sender, k, bls_dec_str(d));
		if (k == 0 && g2_is_identity(com ? &com[0] : &q))
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "dkg: deal of %s: commitment 0 is the identity",
			                    m->sender);
		/* the dealer knows a_0: no rogue key (pok.c) */
		if (k == 0 && !dkg_pok_ok(com ? &com[0] : &q, m->commitments[0], m->pok_r, m->pok_z,
		                          c->session, m->sender))
			return ctng_err_set(err, CTNG_EVERIFY,
			                    "dkg: deal of %s: its proof of knowledge of a_0 does "
			                    "not verify",
			                    m->sender);
	}
	return 0;
}

int ctng_dkg_msg_check(const ctng_dkg_ctx *c, const ctng_dkg_msg *m, ctng_err *err)
{
	int di, ri;
	return check(c, m, NULL, &di, &ri, err);
}

/* -------------------------------------------------------- held messages */

void dkg_held_free(dkg_held *h)
{
	if (!h)
		return;
	ctng_dkg_msg_clear(&h->m);
	free(h->json);
	free(h->com);
	free(h);
}

static int finish_held(const ctng_dkg_ctx *c, dkg_held *h, bool checked, ctng_err *err)
{
	int rc = 0;
	if (h->m.type == CTNG_DKG_DEAL && !(h->com = calloc(h->m.t, sizeof *h->com)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (checked) {
		h->di = dkg_dealer_index(c, h->m.sender);
		h->ri = h->m.type == CTNG_DKG_RESPONSE        ? dkg_recip_index(c, h->m.sender)
		        : h->m.type == CTNG_DKG_JUSTIFICATION ? dkg_recip_index(c, h->m.to)
		                                              : -1;
		if (h->m.type == CTNG_DKG_RESPONSE)
			h->di = -1;
		for (uint32_t k = 0; h->com && k < h->m.t; k++)
			if (g2_decompress(&h->com[k], h->m.commitments[k]) != BLS_DEC_OK)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "dkg: own deal does not decode");
	} else if ((rc = check(c, &h->m, h->com, &h->di, &h->ri, err))) {
		return rc;
	}
	if ((rc = ctng_dkg_msg_hash(&h->m, h->hash, err)))
		return rc;
	if (!h->json)
		rc = ctng_dkg_msg_encode(&h->m, &h->json, &h->len, err);
	return rc;
}

int dkg_held_new(const ctng_dkg_ctx *c, const char *json, size_t len, dkg_held **out, ctng_err *err)
{
	*out = NULL;
	dkg_held *h = calloc(1, sizeof *h);
	if (!h)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = ctng_dkg_msg_parse(json, len, &h->m, err);
	if (!rc)
		rc = finish_held(c, h, false, err);
	if (rc) {
		dkg_held_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int dkg_held_from_msg(const ctng_dkg_ctx *c, ctng_dkg_msg *m, dkg_held **out, ctng_err *err)
{
	*out = NULL;
	dkg_held *h = calloc(1, sizeof *h);
	if (!h) {
		ctng_dkg_msg_clear(m);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	h->m = *m;
	memset(m, 0, sizeof *m);
	int rc = finish_held(c, h, true, err);
	if (rc) {
		dkg_held_free(h);
		return rc;
	}
	*out = h;
	return 0;
}
