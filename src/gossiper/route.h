/*
 * route.h — the gossiper state machine's view of the network for routing
 * (route.c): lookups and bit sets precomputed from network.json. Internal to
 * the gossiper module.
 *
 * Gossipers are numbered 0..n_g-1 in network.json order ("ordinals"); this
 * gossiper's peers are numbered 0..n_peers-1 in the order of its `peers`
 * list ("positions"); a peer set is `words` 64-bit words, bit k = position k.
 */
#ifndef CTNG_GOSSIPER_ROUTE_H
#define CTNG_GOSSIPER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/config.h"
#include "ctng/proto.h"

typedef struct gr_name {
	const char *id;
	size_t ent;
} gr_name;

typedef struct gossip_route {
	const ctng_network *net;
	gr_name *by_id;     /* entities sorted by id, for gr_entity */
	size_t n_g;         /* gossipers */
	size_t *g_ent;      /* ordinal -> entity index */
	long *ent_g;        /* entity index -> ordinal, -1 if not a gossiper */
	size_t self_g;      /* this gossiper's ordinal */
	size_t n_peers;     /* this gossiper's peers */
	size_t words;       /* words of a peer set */
	size_t gwords;      /* words of a set of gossipers */
	long *peer_of_g;    /* ordinal -> position among this gossiper's peers, -1 */
	uint64_t *covers;   /* n_g peer sets: what a push by that gossiper covers */
	uint64_t *watchers; /* n_entities sets of gossipers whose monitor watches it */
} gossip_route;

/* 0 or CTNG_ENOMEM (r zeroed). net and me are borrowed. */
int gr_init(gossip_route *r, const ctng_network *net, const ctng_entity *me);
void gr_free(gossip_route *r);

/* Entity index of id, -1 when unknown (O(log n)). */
long gr_entity(const gossip_route *r, const char *id);
/* The peers (a peer set) that hold an object pushed by gossiper `from`:
 * the sender and its own peers, because every gossiper pushes what it
 * accepts to each of its peers not known to hold it. NULL when `from` is
 * not a gossiper. */
const uint64_t *gr_covered_by(const gossip_route *r, const char *from);
/* Does gossiper ordinal g's monitor watch the entity of id? */
bool gr_watches(const gossip_route *r, size_t g, const ctng_gossip_id *id);
/* This gossiper's rank for id (0 first: gossipers whose monitor watches the
 * entity first, each group rotated by a hash of the entity and period, the
 * same on every gossiper) and the ordinal of the gossiper ranked first (the
 * id's aggregator). */
void gr_rank(const gossip_route *r, const ctng_gossip_id *id, size_t *rank, size_t *first);
/* The id of gossiper ordinal g (borrowed), NULL if out of range. */
const char *gr_gossiper_id(const gossip_route *r, size_t g);

#endif
