/*
 * gossiper_internal.h — helpers shared by the gossiper daemon and its fuzz
 * target (not part of the public API).
 */
#ifndef CTNG_GOSSIPER_INTERNAL_H
#define CTNG_GOSSIPER_INTERNAL_H

#include "ctng/gossiper.h"

/* Feeds the body of a GET /ctng/v1/objects answer ({"period", "gossiper",
 * "objects": [...]}) to the state machine: strict JSON, at most
 * CTNG_GOSSIP_JSON_MAX * 4 bytes, every element decoded strictly and passed
 * to on_object (from = the peer's id). Invalid elements are skipped. Returns
 * the number of objects accepted as new (>= 0), or CTNG_EINVAL when the body
 * is not such a JSON object. */
int gossiper_feed_objects(ctng_gossiper_sm *sm, const uint8_t *body, size_t len, const char *from,
                          uint64_t now_ms, ctng_gossiper_actions *acts, ctng_err *err);

#endif
