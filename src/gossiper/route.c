/*
 * route.c — who a gossiper's objects go to (docs/gossiper.md §Pushing,
 * §Aggregation), computed once from network.json so that every decision is
 * an index or a bit test, also with hundreds of gossipers: entity lookup by
 * id, this gossiper's peers as positions and bit sets over them, what a
 * sender's push covers, which gossipers watch an entity, and the rank order
 * of the gossipers for an object id (the same on every gossiper), whose
 * first place is the id's aggregator.
 */
#include <stdlib.h>
#include <string.h>

#include "gossiper/route.h"

static int by_id_cmp(const void *a, const void *b)
{
	const gr_name *x = a, *y = b;
	return strcmp(x->id, y->id);
}

long gr_entity(const gossip_route *r, const char *id)
{
	if (!id || !id[0])
		return -1;
	gr_name key = {id, 0};
	const gr_name *f = bsearch(&key, r->by_id, r->net->n_entities, sizeof(*f), by_id_cmp);
	return f ? (long)f->ent : -1;
}

void gr_free(gossip_route *r)
{
	if (!r)
		return;
	free(r->by_id);
	free(r->g_ent);
	free(r->ent_g);
	free(r->peer_of_g);
	free(r->covers);
	free(r->watchers);
	memset(r, 0, sizeof(*r));
}

static void bset(uint64_t *s, size_t k)
{
	s[k / 64] |= 1ull << (k % 64);
}

/* Entity index of g's k-th peer: resolved by the network parser, else looked
 * up (networks built by hand, in tests). */
static long peer_entity(const gossip_route *r, const ctng_entity *g, size_t k)
{
	if (g->peer_idx)
		return (long)g->peer_idx[k];
	return gr_entity(r, g->peers[k]);
}

int gr_init(gossip_route *r, const ctng_network *net, const ctng_entity *me)
{
	memset(r, 0, sizeof(*r));
	r->net = net;
	size_t ne = net->n_entities;
	r->by_id = calloc(ne ? ne : 1, sizeof(*r->by_id));
	r->ent_g = calloc(ne ? ne : 1, sizeof(*r->ent_g));
	r->g_ent = calloc(ne ? ne : 1, sizeof(*r->g_ent));
	if (!r->by_id || !r->ent_g || !r->g_ent)
		goto nomem;
	for (size_t i = 0; i < ne; i++) {
		const ctng_entity *e = &net->entities[i];
		r->by_id[i] = (gr_name){e->id, i};
		r->ent_g[i] = -1;
		if (e->role == CTNG_ROLE_GOSSIPER) {
			r->ent_g[i] = (long)r->n_g;
			r->g_ent[r->n_g++] = i;
		}
	}
	qsort(r->by_id, ne, sizeof(*r->by_id), by_id_cmp);
	r->self_g = (size_t)r->ent_g[me - net->entities];
	r->n_peers = me->n_peers;
	r->words = (me->n_peers + 63) / 64 ? (me->n_peers + 63) / 64 : 1;
	r->gwords = (r->n_g + 63) / 64 ? (r->n_g + 63) / 64 : 1;
	r->peer_of_g = malloc((r->n_g ? r->n_g : 1) * sizeof(*r->peer_of_g));
	r->covers = calloc((r->n_g ? r->n_g : 1) * r->words, sizeof(uint64_t));
	r->watchers = calloc((ne ? ne : 1) * r->gwords, sizeof(uint64_t));
	if (!r->peer_of_g || !r->covers || !r->watchers)
		goto nomem;
	for (size_t g = 0; g < r->n_g; g++)
		r->peer_of_g[g] = -1;
	for (size_t k = 0; k < me->n_peers; k++) {
		long e = peer_entity(r, me, k);
		if (e >= 0 && r->ent_g[e] >= 0)
			r->peer_of_g[r->ent_g[e]] = (long)k;
	}
	/* covers[g]: the peers that hold what gossiper g pushed: g, and g's peers */
	for (size_t g = 0; g < r->n_g; g++) {
		const ctng_entity *ge = &net->entities[r->g_ent[g]];
		uint64_t *c = &r->covers[g * r->words];
		if (r->peer_of_g[g] >= 0)
			bset(c, (size_t)r->peer_of_g[g]);
		for (size_t k = 0; k < ge->n_peers; k++) {
			long e = peer_entity(r, ge, k);
			long q = e >= 0 ? r->ent_g[e] : -1;
			if (q >= 0 && r->peer_of_g[q] >= 0)
				bset(c, (size_t)r->peer_of_g[q]);
		}
	}
	/* watchers[entity]: the gossipers whose monitor watches the entity */
	for (size_t g = 0; g < r->n_g; g++) {
		long m = gr_entity(r, net->entities[r->g_ent[g]].monitor);
		const ctng_entity *mon = m >= 0 ? &net->entities[m] : NULL;
		for (size_t i = 0; mon && i < mon->n_loggers + mon->n_cas; i++) {
			const char *id = i < mon->n_loggers ? mon->loggers[i]
			                                     : mon->cas[i - mon->n_loggers];
			long e = gr_entity(r, id);
			if (e >= 0)
				bset(&r->watchers[(size_t)e * r->gwords], g);
		}
	}
	return 0;
nomem:
	gr_free(r);
	return CTNG_ENOMEM;
}

const uint64_t *gr_covered_by(const gossip_route *r, const char *from)
{
	long e = gr_entity(r, from);
	long g = e >= 0 ? r->ent_g[e] : -1;
	return g >= 0 ? &r->covers[(size_t)g * r->words] : NULL;
}

bool gr_watches(const gossip_route *r, size_t g, const ctng_gossip_id *id)
{
	long e = gr_entity(r, id->entity);
	if (e < 0)
		return false;
	const ctng_entity *ent = &r->net->entities[e];
	/* STH ids are about loggers, REV about CAs; ACC and CON about either */
	if ((id->family == CTNG_FAM_STH && ent->role != CTNG_ROLE_LOGGER) ||
	    (id->family == CTNG_FAM_REV && ent->role != CTNG_ROLE_CA))
		return false;
	return r->watchers[(size_t)e * r->gwords + g / 64] >> (g % 64) & 1;
}

/* The sort key of gossiper g for id: watchers first, each group rotated by
 * an offset that the id determines. */
static size_t key_of(const gossip_route *r, const ctng_gossip_id *id, size_t off, size_t g)
{
	size_t ng = r->n_g;
	return (gr_watches(r, g, id) ? 0 : ng) + (g + ng - off) % ng;
}

static size_t offset_of(const gossip_route *r, const ctng_gossip_id *id)
{
	size_t ng = r->n_g, off = (size_t)(id->period % ng);
	for (const char *e = id->entity; *e; e++)
		off = (off * 31 + (unsigned char)*e) % ng;
	return off;
}

void gr_rank(const gossip_route *r, const ctng_gossip_id *id, size_t *rank, size_t *first)
{
	size_t off = offset_of(r, id), mykey = key_of(r, id, off, r->self_g), n = 0;
	size_t best = SIZE_MAX, best_g = 0;
	for (size_t g = 0; g < r->n_g; g++) {
		size_t k = key_of(r, id, off, g);
		n += k < mykey;
		if (k < best) {
			best = k;
			best_g = g;
		}
	}
	*rank = n;
	*first = best_g;
}

const char *gr_gossiper_id(const gossip_route *r, size_t g)
{
	return g < r->n_g ? r->net->entities[r->g_ent[g]].id : NULL;
}
