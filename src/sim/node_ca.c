/*
 * node_ca.c — a simulated CA: the real CA (ctng_ca over an in-memory
 * database) with the period work of its daemon (src/ca/daemon.c): REV(p) at
 * each period start, precertificates resubmitted to loggers that have not
 * answered, inclusion proofs fetched from every logger (again every tenth of
 * a period until all are in) and recorded in one batch, issuance; the REV
 * pull of the monitors (unanswered when the misbehaviour says so); and the
 * certificate traffic `ctng testnet` drives: requests through the CA's API
 * and the revocation of the first certificate of each CA, signed with the
 * certificate's own key as `ctng cert revoke` does.
 */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <roaring/roaring.h>

#include "ctng/cert.h"
#include "sim/sim_internal.h"

/* The scenario's CRV (docs/sim.md §10): the CA joins having issued RIDs
 * 0 .. crv_bits-1, crv_revoked of them revoked, drawn from the run's seed
 * (one stream per CA); its first REV carries them, new certificates are
 * numbered from crv_bits on. A restarted CA (in-memory database) draws the
 * same set again. */
static int import_crv(sim *s, sim_node *n, ctng_err *err)
{
	const ctng_sim_scenario *sc = s->sc;
	if (!sc->crv_bits)
		return 0;
	sim_rng r;
	sim_rng_seed(&r, sc->seed, 0x435256000000ull + n->index); /* "CRV" */
	roaring_bitmap_t *b = roaring_bitmap_create();
	if (!b)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < sc->crv_revoked;)
		k += roaring_bitmap_add_checked(b, (uint32_t)(sim_rng_u64(&r) % sc->crv_bits));
	roaring_bitmap_run_optimize(b);
	int rc = ctng_ca_import_revocations(n->ca, b, sc->crv_bits, s->net.clock.genesis_ms, err);
	roaring_bitmap_free(b);
	return rc;
}

int sim_ca_start(sim *s, sim_node *n, ctng_err *err)
{
	ctng_ca_opts o = {.id = n->e->id,
	                  .key = n->cfg.key,
	                  .root_pem = n->e->root_cert_pem,
	                  .net = &s->net,
	                  .db_path = ":memory:",
	                  .mis = &n->cfg.misbehaviour};
	int rc = ctng_ca_open(&o, &n->ca, err);
	if (!rc)
		rc = import_crv(s, n, err);
	return rc ? ctng_err_wrap(err, "%s", n->e->id) : 0;
}

void sim_ca_stop(sim_node *n)
{
	ctng_ca_close(n->ca);
	n->ca = NULL;
}

static sim_ca_call *new_call(sim *s, sim_node *n)
{
	if (n->n_calls == n->cap_calls) {
		size_t nc = n->cap_calls ? 2 * n->cap_calls : 16;
		sim_ca_call *v = realloc(n->calls, nc * sizeof(*v));
		if (!v)
			return NULL;
		n->calls = v;
		n->cap_calls = nc;
	}
	sim_ca_call *c = &n->calls[n->n_calls++];
	memset(c, 0, sizeof(*c));
	c->id = ++s->next_id;
	c->pending = true;
	return c;
}

static size_t pending_calls(const sim_node *n, sim_msg_kind k)
{
	size_t c = 0;
	for (size_t i = 0; i < n->n_calls; i++)
		c += n->calls[i].pending && (k == MSG_PROOF ? n->calls[i].period != UINT64_MAX
		                                            : n->calls[i].period == UINT64_MAX);
	return c;
}

static void send_text(sim *s, sim_node *n, size_t dst, sim_msg_kind k, uint64_t id, char *text,
                      uint64_t depart)
{
	sim_msg *m = calloc(1, sizeof(*m));
	if (!m) {
		free(text);
		return;
	}
	m->kind = k;
	m->src = n->index;
	m->dst = dst;
	m->id = id;
	m->epoch = n->epoch;
	m->text = text;
	m->text_len = m->bytes = text ? strlen(text) : 0;
	sim_send(s, m, depart);
}

static void submit(sim *s, sim_node *n, sim_node *lg, uint32_t rid, uint64_t depart)
{
	json_t *body = NULL;
	sim_ca_call *c = NULL;
	if (ctng_ca_submission(n->ca, rid, &body, NULL) == 0 && (c = new_call(s, n))) {
		c->rid = rid;
		c->logger = lg->index;
		c->period = UINT64_MAX; /* a submission, not a proof */
		send_text(s, n, lg->index, MSG_SUBMIT, c->id, json_dumps(body, JSON_COMPACT),
		          depart);
	}
	json_decref(body);
}

static void resubmit_missing(sim *s, sim_node *n, uint64_t depart)
{
	for (size_t i = 0; i < s->n_nodes; i++) {
		sim_node *lg = &s->nodes[i];
		uint32_t *rids = NULL;
		size_t k = 0;
		if (lg->e->role != CTNG_ROLE_LOGGER ||
		    ctng_ca_need_submit(n->ca, lg->e->id, &rids, &k, NULL))
			continue;
		for (size_t j = 0; j < k; j++)
			submit(s, n, lg, rids[j], depart);
		free(rids);
	}
}

static void issue(sim_node *n, uint64_t p)
{
	ctng_ca_issue_ready(n->ca, p, NULL, NULL);
}

void sim_ca_period(sim *s, sim_node *n, uint64_t p)
{
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_ca_publish_rev(n->ca, p, sim_net_ms(s, mk.start), NULL);
	n->ca_have_period = true;
	n->ca_period = p;
	uint64_t done = sim_end(s, n, &mk, 0, 0);
	resubmit_missing(s, n, done);
	sim_ca_round(s, n, p);
}

/* One step of the daemon's timer: fetch proofs when none are in flight. */
void sim_ca_round(sim *s, sim_node *n, uint64_t p)
{
	if (!n->ca_have_period || n->ca_period != p)
		return; /* a new period took over */
	uint64_t step = s->net.clock.period_ms / 10 ? s->net.clock.period_ms / 10 : 1;
	uint64_t next = s->now + step * 1000;
	if (next < sim_period_start_us(s, p + 1))
		sim_queue_push(&s->q, next, EV_CA_ROUND, n->index, p, NULL);
	if (pending_calls(n, MSG_PROOF))
		return;
	sim_mark mk;
	sim_begin(s, n, &mk);
	size_t asked = 0;
	for (size_t i = 0; i < s->n_nodes; i++) {
		sim_node *lg = &s->nodes[i];
		uint32_t *rids = NULL;
		size_t k = 0;
		if (lg->e->role != CTNG_ROLE_LOGGER ||
		    ctng_ca_need_proof(n->ca, lg->e->id, p, &rids, &k, NULL))
			continue;
		for (size_t j = 0; j < k; j++) {
			uint8_t h[32];
			char hex[65], *q = NULL;
			sim_ca_call *c;
			if (ctng_ca_leaf_hash(n->ca, rids[j], lg->e->id, h, NULL) || !(c = new_call(s, n)))
				continue;
			ctng_hex_encode(hex, h, 32);
			if (asprintf(&q, "%" PRIu64 " %s", p, hex) < 0) {
				c->pending = false;
				continue;
			}
			c->rid = rids[j];
			c->logger = lg->index;
			c->period = p;
			send_text(s, n, lg->index, MSG_PROOF, c->id, q, mk.start);
			asked++;
		}
		free(rids);
	}
	if (!asked)
		issue(n, p);
	sim_end(s, n, &mk, 0, 0);
}

static sim_ca_call *find_call(sim_node *n, uint64_t id)
{
	for (size_t i = 0; i < n->n_calls; i++)
		if (n->calls[i].id == id && n->calls[i].pending)
			return &n->calls[i];
	return NULL;
}

/* The round is over (every proof answered or failed): issuance, as the
 * daemon's end_round (it records the proofs of a round in one batch; here
 * each is recorded as it comes, in its own, which stores the same). */
static void end_round(sim_node *n, uint64_t p)
{
	issue(n, p);
	size_t w = 0;
	for (size_t i = 0; i < n->n_calls; i++)
		if (n->calls[i].pending)
			n->calls[w++] = n->calls[i];
	n->n_calls = w;
}

static void serve_rev(sim *s, sim_node *n, sim_msg *m, uint64_t now_ms, uint64_t depart)
{
	const ctng_misbehaviour *mb = &n->cfg.misbehaviour;
	uint64_t p = 0, cur = 0;
	bool ok = ctng_clock_period_of(&s->net.clock, now_ms, &cur);
	if (mb->silent || (mb->answer_periods_mod && ok && cur % mb->answer_periods_mod != 0))
		return; /* test-only misbehaviour: never answer */
	char *text = NULL;
	size_t len = 0;
	int status = 200;
	ctng_gossip_object o = {0};
	if (!m->text || sscanf(m->text, "rev %" SCNu64, &p) != 1)
		status = 400;
	else if (ctng_ca_get_rev(n->ca, p, s->nodes[m->src].e->id, &o, NULL) ||
	         ctng_gossip_encode(&o, &text, &len, NULL))
		status = 404;
	ctng_gossip_clear(&o);
	sim_msg *r = sim_reply_new(m, status, text);
	if (r)
		sim_send(s, r, depart);
}

void sim_ca_deliver(sim *s, sim_node *n, sim_msg *m)
{
	sim_mark mk;
	sim_begin(s, n, &mk);
	uint64_t now = sim_net_ms(s, mk.start);
	if (m->kind == MSG_FETCH) {
		uint64_t done = sim_end(s, n, &mk, 1, 0);
		serve_rev(s, n, m, now, done);
		return;
	}
	sim_ca_call *c = find_call(n, m->id);
	json_t *j = NULL;
	if (c && m->status == 200 && m->text)
		j = json_loadb(m->text, m->text_len, JSON_REJECT_DUPLICATES, NULL);
	if (c && m->kind == MSG_SUBMIT_REPLY) {
		c->pending = false;
		if (j)
			ctng_ca_record_sct(n->ca, c->rid, s->nodes[c->logger].e->id, j, NULL);
	} else if (c && m->kind == MSG_PROOF_REPLY) {
		c->pending = false;
		uint64_t p = c->period;
		bool tx = j && ctng_ca_batch_begin(n->ca, NULL) == 0;
		if (j)
			ctng_ca_record_proof(n->ca, c->rid, s->nodes[c->logger].e->id, p, j, NULL);
		if (tx && ctng_ca_batch_commit(n->ca, NULL))
			ctng_ca_batch_rollback(n->ca);
		if (!pending_calls(n, MSG_PROOF))
			end_round(n, p);
	}
	json_decref(j);
	sim_end(s, n, &mk, 1, m->text_len);
}

/* ------------------------------------------------------------- traffic */

static char *public_pem(const ctng_sig_key *k)
{
	char *pem = NULL;
	size_t len = 0;
	return ctng_sig_public_pem(k, &pem, &len, NULL) == 0 ? pem : NULL;
}

static void request_cert(sim *s, sim_node *ca)
{
	if (s->n_certs == s->cap_certs) {
		size_t nc = s->cap_certs ? 2 * s->cap_certs : 16;
		sim_cert *v = realloc(s->certs, nc * sizeof(*v));
		if (!v)
			return;
		s->certs = v;
		s->cap_certs = nc;
	}
	sim_cert *c = &s->certs[s->n_certs];
	memset(c, 0, sizeof(*c));
	c->ca = ca->index;
	char name[128];
	snprintf(name, sizeof(name), "www%zu.%s.example", s->n_certs, ca->e->id);
	sim_mark mk;
	sim_begin(s, ca, &mk);
	char *pub = NULL;
	uint32_t rid = 0;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &c->key, NULL) == 0 &&
	    (pub = public_pem(c->key)) &&
	    ctng_ca_request(ca->ca, name, pub, sim_net_ms(s, mk.start), c->handle, &rid, NULL) ==
	        0) {
		s->n_certs++;
		uint64_t done = sim_end(s, ca, &mk, 1, strlen(pub));
		for (size_t i = 0; i < s->n_nodes; i++) /* the daemon's submit_all_loggers */
			if (s->nodes[i].e->role == CTNG_ROLE_LOGGER)
				submit(s, ca, &s->nodes[i], rid, done);
	} else {
		ctng_sig_key_free(c->key);
		s->requests_failed++;
		sim_end(s, ca, &mk, 1, 0);
	}
	free(pub);
}

/* Polls a certificate (issued?) and revokes it when asked to. */
static void poll_and_revoke(sim *s, sim_cert *c, bool revoke)
{
	sim_node *ca = &s->nodes[c->ca];
	if (!ca->up || !ca->running)
		return;
	sim_mark mk;
	sim_begin(s, ca, &mk);
	json_t *r = NULL, *body = NULL, *rep = NULL;
	X509 *x = NULL;
	ctng_buf msg = {0};
	if (ctng_ca_status_json(ca->ca, c->handle, &r, NULL) == 0) {
		const char *st = json_string_value(json_object_get(r, "status"));
		const char *pem = json_string_value(json_object_get(r, "certificate"));
		c->issued = st && strcmp(st, "issued") == 0 && pem;
		uint8_t fp[32], sig[CTNG_SIG_MAX_LEN];
		size_t sl = 0;
		uint32_t rid = (uint32_t)json_integer_value(json_object_get(r, "rid"));
		if (c->issued && revoke && !c->revoked &&
		    ctng_cert_from_pem(pem, strlen(pem), &x, NULL) == 0 &&
		    ctng_cert_sha256(x, fp, NULL) == 0 &&
		    ctng_ca_revoke_message(ca->e->id, rid, fp, &msg, NULL) == 0 &&
		    ctng_sig_sign(c->key, msg.data, msg.len, sig, &sl, NULL) == 0) {
			char hex[65], *b64 = ctng_b64_strdup(sig, sl);
			ctng_hex_encode(hex, fp, 32);
			body = json_pack("{s:I,s:s,s:s}", "rid", (json_int_t)rid, "cert_sha256", hex,
			                 "signature", b64 ? b64 : "");
			free(b64);
			if (body && ctng_ca_revoke_json(ca->ca, body, sim_net_ms(s, mk.start), &rep,
			                                NULL) == 0) {
				c->revoked = true;
				s->certs_revoked++;
			}
		}
	}
	json_decref(r);
	json_decref(body);
	json_decref(rep);
	X509_free(x);
	ctng_buf_free(&msg);
	sim_end(s, ca, &mk, 1, 0);
}

void sim_traffic(sim *s, uint64_t k)
{
	const ctng_sim_scenario *sc = s->sc;
	for (size_t i = 0; i < s->n_certs; i++) {
		sim_cert *c = &s->certs[i];
		bool first_of_ca = true;
		for (size_t j = 0; j < i; j++)
			if (s->certs[j].ca == c->ca)
				first_of_ca = false;
		bool was = c->issued;
		if (!c->issued || (sc->revoke_first && first_of_ca && !c->revoked))
			poll_and_revoke(s, c, sc->revoke_first && first_of_ca);
		if (!was && c->issued)
			s->certs_issued++;
	}
	if (k >= sc->traffic_periods)
		return;
	for (size_t i = 0; i < s->n_nodes; i++) {
		sim_node *n = &s->nodes[i];
		if (n->e->role != CTNG_ROLE_CA || !n->running || !n->up || n->cfg.misbehaviour.present)
			continue;
		for (uint32_t j = 0; j < sc->certs_per_ca; j++)
			request_cert(s, n);
	}
}
