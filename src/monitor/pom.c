/*
 * pom.c — the monitor's proof of misbehaviour for a logger whose signed tree
 * heads of two periods are not append-only consistent (docs/monitor.md §4):
 * builder and strict verifier.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"
#include "ctng/monitor.h"
#include "monitor/monitor_internal.h"

#define POM_MAX (16u << 20)

int mon_pom_build(const char *logger, bool fork, const ctng_gossip_object *first,
                  const ctng_gossip_object *second, const uint8_t (*proof)[32], size_t proof_len,
                  char **text, size_t *len, ctng_err *err)
{
	json_t *j1 = NULL, *j2 = NULL;
	int rc = ctng_gossip_to_json(first, &j1, err);
	if (!rc)
		rc = ctng_gossip_to_json(second, &j2, err);
	json_t *arr = json_array();
	json_t *o = json_object();
	if (!rc && (!arr || !o))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < proof_len; i++) {
		char *b = ctng_b64_strdup(proof[i], 32);
		if (!b || json_array_append_new(arr, json_string(b)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		free(b);
	}
	if (!rc) {
		json_object_set_new(o, "kind",
		                    json_string(fork ? "sth-fork" : "bad-consistency-proof"));
		json_object_set_new(o, "logger", json_string(logger));
		json_object_set_new(o, "first", j1);
		json_object_set_new(o, "second", j2);
		json_object_set_new(o, "proof", arr);
		j1 = j2 = arr = NULL;
		char *s = json_dumps(o, JSON_COMPACT);
		if (!s)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else {
			*text = s;
			if (len)
				*len = strlen(s);
		}
	}
	json_decref(j1);
	json_decref(j2);
	json_decref(arr);
	json_decref(o);
	return rc;
}

int ctng_sth_pom_verify(const char *json, size_t len, const ctng_network *net, bool *transferable,
                        ctng_err *err)
{
	json_t *j = NULL;
	int rc = mon_load_json(json, len, POM_MAX, &j, err);
	if (rc)
		return rc;
	ctng_gossip_object a = {0}, b = {0};
	uint8_t(*proof)[32] = NULL;
	json_t *kind = json_object_get(j, "kind"), *lg = json_object_get(j, "logger");
	json_t *jf = json_object_get(j, "first"), *js = json_object_get(j, "second");
	json_t *jp = json_object_get(j, "proof");
	if (json_object_size(j) != 5 || !json_is_string(kind) || !json_is_string(lg) ||
	    !json_is_object(jf) || !json_is_object(js) || !json_is_array(jp)) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "pom: needs exactly kind, logger, first, second, proof");
		goto out;
	}
	bool fork;
	if (strcmp(json_string_value(kind), "sth-fork") == 0)
		fork = true;
	else if (strcmp(json_string_value(kind), "bad-consistency-proof") == 0)
		fork = false;
	else {
		rc = ctng_err_set(err, CTNG_EINVAL, "pom: unknown kind");
		goto out;
	}
	const char *logger = json_string_value(lg);
	const ctng_entity *e = ctng_network_entity(net, logger);
	if (!ctng_id_valid(logger) || !e || e->role != CTNG_ROLE_LOGGER || !e->key) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "pom: \"logger\" is not a logger of the network");
		goto out;
	}
	size_t n = json_array_size(jp);
	if (n > CTNG_MERKLE_MAX_PROOF || (fork && n != 0)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "pom: bad proof length %zu", n);
		goto out;
	}
	if (n && !(proof = calloc(n, 32))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(jp, i);
		if (!json_is_string(h) ||
		    ctng_b64_decode_exact(proof[i], 32, json_string_value(h), NULL)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "pom: proof entry %zu is not 32 bytes",
			                  i);
			goto out;
		}
	}
	if ((rc = ctng_gossip_from_json(jf, &a, err)) ||
	    (rc = ctng_gossip_from_json(js, &b, err))) {
		ctng_err_wrap(err, "pom");
		goto out;
	}
	if (a.type != CTNG_STH || b.type != CTNG_STH || strcmp(a.signer, logger) ||
	    strcmp(b.signer, logger)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "pom: first/second must be STHs of the logger");
		goto out;
	}
	if ((rc = ctng_gossip_verify_signed(&a, e->key, &net->clock, err)) ||
	    (rc = ctng_gossip_verify_signed(&b, e->key, &net->clock, err))) {
		ctng_err_wrap(err, "pom");
		rc = CTNG_EVERIFY;
		goto out;
	}
	if (a.period >= b.period) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "pom: first must be of an earlier period");
		goto out;
	}
	ctng_sth h1, h2;
	if ((rc = ctng_sth_from_object(&a, &h1, err)) || (rc = ctng_sth_from_object(&b, &h2, err)))
		goto out;
	bool heads_only = h2.tree_size <= h1.tree_size || h1.tree_size == 0;
	if (fork != heads_only) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "pom: kind does not match the tree sizes");
		goto out;
	}
	int v = h2.tree_size < h1.tree_size
	            ? CTNG_EVERIFY
	            : ctng_merkle_verify_consistency(h1.tree_size, h2.tree_size, h1.root, h2.root,
	                                             (const uint8_t(*)[32])proof, n, NULL);
	if (v == 0) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "pom: the two STHs are consistent");
		goto out;
	}
	if (transferable)
		*transferable = fork;
	rc = 0;
out:
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	free(proof);
	json_decref(j);
	return rc;
}
