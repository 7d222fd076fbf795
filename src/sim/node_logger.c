/*
 * node_logger.c — a simulated logger: the real log (ctng_logger over an
 * in-memory SQLite store that survives a crash, as the daemon's file does)
 * answering what the daemon (src/logger/daemon.c) answers to the other
 * nodes: the CTng STH pull (held unanswered when the misbehaviour says
 * silent), RFC 6962 get-sth-consistency, add-pre-chain from the CAs and the
 * CTng inclusion proof; its tiles go to the mirrors (node_mirror.c).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

int sim_logger_start(sim *s, sim_node *n, ctng_err *err)
{
	if (!n->store && !(n->store = ctng_store_open(":memory:", err)))
		return ctng_err_wrap(err, "%s", n->e->id);
	size_t nca = ctng_network_count(&s->net, CTNG_ROLE_CA), k = 0;
	const char **pems = calloc(nca ? nca : 1, sizeof(*pems));
	if (!pems)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < nca; i++) {
		const ctng_entity *ca = ctng_network_nth(&s->net, CTNG_ROLE_CA, i);
		if (ca && ca->root_cert_pem)
			pems[k++] = ca->root_cert_pem;
	}
	const char *origin = n->e->url;
	if (!strncmp(origin, "http://", 7))
		origin += 7;
	ctng_logger_params p = {.id = n->e->id,
	                        .origin = origin,
	                        .key = n->cfg.key,
	                        .clock = s->net.clock,
	                        .root_pems = pems,
	                        .n_roots = k,
	                        .mis = &n->cfg.misbehaviour};
	int rc = ctng_logger_open(n->store, &p, &n->lg, err);
	free(pems);
	return rc ? ctng_err_wrap(err, "%s", n->e->id) : 0;
}

void sim_logger_stop(sim_node *n)
{
	ctng_logger_free(n->lg);
	n->lg = NULL;
	ctng_store_close(n->store);
	n->store = NULL;
}

void sim_logger_period(sim *s, sim_node *n, uint64_t p)
{
	(void)p;
	sim_mark mk;
	sim_begin(s, n, &mk);
	ctng_logger_tick(n->lg, sim_net_ms(s, mk.start), NULL, NULL);
	sim_end(s, n, &mk, 0, 0);
}

static char *json_text(json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return t;
}

void sim_logger_deliver(sim *s, sim_node *n, sim_msg *m)
{
	if (m->kind == MSG_TILE) {
		sim_mirror_serve(s, n, m); /* node_mirror.c */
		return;
	}
	sim_mark mk;
	sim_begin(s, n, &mk);
	const char *monitor = s->nodes[m->src].e->id;
	char *text = NULL;
	int status = 200;
	json_t *j = NULL;
	uint64_t p = 0, first = 0, second = 0;
	bool held = false;
	if (m->kind == MSG_FETCH && m->text && sscanf(m->text, "sth %" SCNu64, &p) == 1) {
		ctng_gossip_object o = {0};
		size_t len = 0;
		if (!ctng_logger_answers(n->lg, p))
			held = true; /* test-only silence: the monitor times out */
		else if (ctng_logger_sth_object(n->lg, p, monitor, &o, NULL) ||
		         ctng_gossip_encode(&o, &text, &len, NULL))
			status = 404;
		ctng_gossip_clear(&o);
	} else if (m->kind == MSG_FETCH && m->text &&
	           sscanf(m->text, "cons %" SCNu64 " %" SCNu64 " %" SCNu64, &p, &first, &second) ==
	               3) {
		if (ctng_logger_get_sth_consistency(n->lg, first, second, &j, NULL))
			status = 400;
		else
			text = json_text(j);
	} else if (m->kind == MSG_SUBMIT && m->text) {
		ctng_logger_sub *sub = NULL;
		uint64_t now = sim_net_ms(s, mk.start);
		if (ctng_logger_add_chain(n->lg, m->text, m->text_len, true, now, &sub, NULL) ||
		    ctng_logger_sub_sct_json(sub, n->lg, &j, NULL))
			status = 400;
		else
			text = json_text(j);
		ctng_logger_sub_free(sub);
	} else if (m->kind == MSG_PROOF && m->text) {
		char hex[65];
		uint8_t h[32];
		if (sscanf(m->text, "%" SCNu64 " %64s", &p, hex) != 2 ||
		    ctng_hex_decode_exact(h, 32, hex, NULL)) {
			status = 400;
		} else if (!ctng_logger_answers(n->lg, p)) {
			held = true;
		} else if (ctng_logger_period_proof(n->lg, p, h, &j, NULL)) {
			status = 404;
		} else {
			text = json_text(j);
		}
	} else {
		status = 400;
	}
	uint64_t done = sim_end(s, n, &mk, 1, m->text_len + (text ? strlen(text) : 0));
	sim_msg *r = held ? NULL : sim_reply_new(m, status, text);
	if (held)
		free(text);
	else if (r)
		sim_send(s, r, done);
}
