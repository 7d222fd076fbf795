/* monitor_internal.h — helpers shared by the files of the monitor module. */
#ifndef CTNG_MONITOR_INTERNAL_H
#define CTNG_MONITOR_INTERNAL_H

#include "ctng/monitor.h"

/* Group of a FULL type in the update order (STH_FULL 0 .. CON_FULL 3), -1 otherwise. */
int mon_full_group(enum ctng_type t);
/* Canonical order of FULLs in an update: group, entity (strcmp), period. */
int mon_full_cmp(const ctng_gossip_object *a, const ctng_gossip_object *b);
/* Verifies an STH/REV (entity key) or CON (ctng_con_verify) against net. */
int mon_verify_init(const ctng_gossip_object *o, const ctng_network *net, ctng_err *err);
/* Builds the PoM JSON text of docs/monitor.md §4 (malloc'd). */
int mon_pom_build(const char *logger, bool fork, const ctng_gossip_object *first,
                  const ctng_gossip_object *second, const uint8_t (*proof)[32], size_t proof_len,
                  char **text, size_t *len, ctng_err *err);

struct json_t;
/* Strict JSON object parse (duplicate keys and NUL rejected, at most max bytes). */
int mon_load_json(const char *json, size_t len, size_t max, struct json_t **out, ctng_err *err);

#endif
