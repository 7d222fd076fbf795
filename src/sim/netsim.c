/*
 * netsim.c — the simulated network: a latency per directed link (drawn once
 * from the scenario's distribution, plus a per-message jitter), the
 * bandwidth of every node's uplink and downlink (a message occupies the
 * sender's uplink and the receiver's downlink for bytes*8/bandwidth, in
 * order), request loss, partitions that start and heal, and nodes that are
 * down (their connections are refused). Messages carry gossip objects as
 * shared, refcounted blobs; every other body as text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/wire.h"
#include "sim/sim_internal.h"

sim_blob *sim_blob_new(const ctng_network *net, const ctng_gossip_object *o, ctng_err *err)
{
	sim_blob *b = calloc(1, sizeof(*b));
	uint8_t *body = NULL;
	const char *ctype;
	if (!b || ctng_gossip_copy(&b->obj, o, err) ||
	    ctng_wire_body(net, o, &body, &b->len, &ctype, err)) {
		if (b)
			ctng_gossip_clear(&b->obj);
		free(b);
		return NULL;
	}
	free(body);
	b->refs = 1;
	return b;
}

sim_blob *sim_blob_ref(sim_blob *b)
{
	b->refs++;
	return b;
}

void sim_blob_unref(sim_blob *b)
{
	if (b && --b->refs == 0) {
		ctng_gossip_clear(&b->obj);
		free(b);
	}
}

void sim_msg_free(sim_msg *m)
{
	if (!m)
		return;
	sim_blob_unref(m->blob);
	free(m->text);
	free(m);
}

sim_msg *sim_reply_new(const sim_msg *req, int status, char *text)
{
	sim_msg *r = calloc(1, sizeof(*r));
	if (!r) {
		free(text);
		return NULL;
	}
	r->kind = (sim_msg_kind)(req->kind + 1);
	r->src = req->dst;
	r->dst = req->src;
	r->id = req->id;
	r->epoch = req->epoch;
	r->status = status;
	r->text = text;
	r->text_len = r->bytes = text ? strlen(text) : 0;
	return r;
}

static bool is_request(sim_msg_kind k)
{
	return k == MSG_FETCH || k == MSG_OBJECTS || k == MSG_SUBMIT || k == MSG_PROOF ||
	       k == MSG_TILE;
}

int sim_net_init(sim *s, ctng_err *err)
{
	size_t n = s->n_nodes;
	s->link_ms = malloc(n * n * sizeof(*s->link_ms));
	if (!s->link_ms)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++) {
			const ctng_sim_dist *d = s->nodes[a].partner == b ? &s->sc->pair_latency
			                                                  : &s->sc->latency;
			s->link_ms[a * n + b] = a == b ? 0 : sim_dist_draw(d, &s->link_rng);
		}
	double bps = s->sc->bandwidth_mbps; /* Mbit/s = bits per µs */
	for (size_t i = 0; i < n; i++)
		s->nodes[i].bps = bps > 0 ? bps : 0;
	return 0;
}

bool sim_link_open(const sim *s, size_t a, size_t b, uint64_t t)
{
	const ctng_sim_scenario *sc = s->sc;
	for (size_t i = 0; i < sc->n_partitions; i++) {
		const ctng_sim_partition *p = &sc->partitions[i];
		uint64_t from = sim_period_start_us(s, p->from.period) + p->from.offset_ms * 1000;
		uint64_t until = p->heals ? sim_period_start_us(s, p->until.period) +
		                                p->until.offset_ms * 1000
		                          : UINT64_MAX;
		if (t < from || t >= until)
			continue;
		long ga = -1, gb = -1;
		for (size_t g = 0; g < p->n_groups; g++)
			for (size_t m = 0; m < p->n_members[g]; m++) {
				if (strcmp(p->groups[g][m], s->nodes[a].e->id) == 0)
					ga = (long)g;
				if (strcmp(p->groups[g][m], s->nodes[b].e->id) == 0)
					gb = (long)g;
			}
		if (ga >= 0 && gb >= 0 && ga != gb)
			return false;
	}
	return true;
}

static uint64_t tx_us(const sim_node *n, size_t bytes)
{
	return n->bps > 0 ? (uint64_t)((double)bytes * 8.0 / n->bps + 0.5) : 0;
}

void sim_send(sim *s, sim_msg *m, uint64_t depart)
{
	sim_node *a = &s->nodes[m->src], *b = &s->nodes[m->dst];
	if (s->opts->trace)
		fprintf(s->opts->trace, "%.3f %s -> %s %s %zu\n", (double)depart / 1000.0, a->e->id,
		        b->e->id,
		        m->blob                        ? ctng_type_name(m->blob->obj.type)
		        : m->kind == MSG_TILE_REPLY ? "tile"
		        : m->text                   ? m->text
		                                    : "-",
		        m->bytes);
	double lat_ms = s->link_ms[m->src * s->n_nodes + m->dst];
	if (s->sc->jitter.a > 0 || s->sc->jitter.b > 0)
		lat_ms += sim_dist_draw(&s->sc->jitter, &s->link_rng);
	uint64_t lat = (uint64_t)(lat_ms * 1000.0 + 0.5);
	if (!b->running || !b->up) {
		/* connection refused: a request learns it after a round trip */
		sim_msg *r = is_request(m->kind) ? sim_reply_new(m, 0, NULL) : NULL;
		if (r && sim_queue_push(&s->q, depart + 2 * lat, EV_DELIVER, r->dst, 0, r))
			sim_msg_free(r);
		if (m->kind == MSG_GOSSIP)
			sim_queue_push(&s->q, depart + 2 * lat, EV_REQ_DONE, m->src, m->dst, NULL);
		sim_msg_free(m);
		return;
	}
	bool lost = !sim_link_open(s, m->src, m->dst, depart);
	if (!lost && s->sc->loss > 0 &&
	    (is_request(m->kind) || m->kind == MSG_GOSSIP || m->kind == MSG_OBSERVATION))
		lost = sim_rng_unit(&s->loss_rng) < s->sc->loss;
	size_t wire = m->bytes + s->sc->overhead_bytes;
	uint64_t start = depart > a->up_free ? depart : a->up_free;
	a->up_free = start + tx_us(a, wire);
	if (lost) {
		if (m->kind == MSG_GOSSIP) /* the push times out */
			sim_queue_push(&s->q, depart + s->net.clock.period_ms * 1000 / 3, EV_REQ_DONE,
			               m->src, m->dst, NULL);
		sim_msg_free(m);
		return;
	}
	uint64_t rx = start + lat > b->down_free ? start + lat : b->down_free;
	b->down_free = rx + tx_us(b, wire);
	uint64_t at = b->down_free > a->up_free + lat ? b->down_free : a->up_free + lat;
	if (m->kind == MSG_GOSSIP) /* the reply comes back one latency later */
		sim_queue_push(&s->q, at + lat, EV_REQ_DONE, m->src, m->dst, NULL);
	if (sim_queue_push(&s->q, at, EV_DELIVER, m->dst, 0, m))
		sim_msg_free(m);
}
