/*
 * datapom.c — the data CON (docs/protocol.md §5.1): the proof that a
 * logger's signed tile roots do not fold into the root of the STH it
 * signed, i.e. that the entries it serves are not the tree it signed.
 * Evidence codec (strict, canonical), structure, build and verification.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"
#include "proto/proto_internal.h"

#define S(x) ctng_gossip_str(x)

typedef struct evidence {
	bool has_base;
	ctng_gossip_object base;
	unsigned n_edge;
	uint8_t edge[64][32];
	ctng_tile_roots *batches;
	size_t n_batches;
} evidence;

static void evidence_clear(evidence *e)
{
	ctng_gossip_clear(&e->base);
	for (size_t i = 0; i < e->n_batches; i++)
		ctng_tile_roots_clear(&e->batches[i]);
	free(e->batches);
	memset(e, 0, sizeof(*e));
}

bool ctng_con_is_data(const ctng_gossip_object *con)
{
	static const char lead[] = "{\"kind\":\"" CTNG_DATA_CON_KIND "\"";
	return con && con->type == CTNG_CON &&
	       strncmp(S(con->payload[2]), lead, sizeof lead - 1) == 0;
}

static int encode_evidence(const evidence *e, char **out, ctng_err *err)
{
	*out = NULL;
	json_t *j = json_object(), *edge = json_array(), *tr = json_array(), *base = NULL;
	int rc = 0;
	if (!j || !edge || !tr)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc && e->has_base)
		rc = ctng_gossip_to_json(&e->base, &base, err);
	for (unsigned i = 0; !rc && i < e->n_edge; i++) {
		char b[64];
		ctng_b64_encode(b, e->edge[i], 32);
		if (json_array_append_new(edge, json_string(b)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < e->n_batches; i++) {
		json_t *b = NULL;
		if (!(rc = ctng_tile_roots_to_json(&e->batches[i], &b, err)) &&
		    json_array_append_new(tr, b))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (!rc &&
	    (json_object_set_new(j, "kind", json_string(CTNG_DATA_CON_KIND)) ||
	     json_object_set_new(j, "base", base ? base : json_null()) ||
	     json_object_set_new(j, "edge", edge) || json_object_set_new(j, "tile_roots", tr)))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc) {
		edge = tr = base = NULL; /* owned by j */
		if (!(*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (rc) {
		json_decref(edge);
		json_decref(tr);
		json_decref(base);
	}
	json_decref(j);
	return rc;
}

static int decode_evidence(const char *text, evidence *e, ctng_err *err)
{
	memset(e, 0, sizeof(*e));
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "payload[2]: bad JSON: %s", je.text);
	int rc = CTNG_EINVAL;
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_t *base = json_object_get(j, "base"), *edge = json_object_get(j, "edge"),
	       *tr = json_object_get(j, "tile_roots");
	if (!json_is_object(j) || json_object_size(j) != 4 || !kind || !base || !edge || !tr) {
		ctng_err_set(err, rc, "payload[2]: must have exactly kind, base, edge, tile_roots");
		goto out;
	}
	if (strcmp(kind, CTNG_DATA_CON_KIND) != 0) {
		ctng_err_set(err, rc, "payload[2]: unknown kind");
		goto out;
	}
	if (!json_is_null(base)) {
		if ((rc = ctng_gossip_from_json(base, &e->base, err))) {
			ctng_err_wrap(err, "payload[2] base");
			goto out;
		}
		e->has_base = true;
		rc = CTNG_EINVAL;
	}
	if (!json_is_array(edge) || json_array_size(edge) > 64) {
		ctng_err_set(err, rc, "payload[2] edge: an array of at most 64 hashes");
		goto out;
	}
	e->n_edge = (unsigned)json_array_size(edge);
	for (unsigned i = 0; i < e->n_edge; i++) {
		const char *s = json_string_value(json_array_get(edge, i));
		if (!s || ctng_b64_decode_exact(e->edge[i], 32, s, NULL)) {
			ctng_err_set(err, rc, "payload[2] edge[%u]: must be base64 of 32 bytes", i);
			goto out;
		}
	}
	if (!json_is_array(tr) || json_array_size(tr) == 0 ||
	    json_array_size(tr) > CTNG_DATA_CON_MAX_BATCHES) {
		ctng_err_set(err, rc, "payload[2] tile_roots: 1 to %d statements",
		             CTNG_DATA_CON_MAX_BATCHES);
		goto out;
	}
	size_t n = json_array_size(tr);
	if (!(e->batches = calloc(n, sizeof(*e->batches)))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = ctng_tile_roots_from_json(json_array_get(tr, i), &e->batches[i], err))) {
			ctng_err_wrap(err, "payload[2] tile_roots[%zu]", i);
			goto out;
		}
		e->n_batches++;
	}
	rc = 0;
out:
	json_decref(j);
	if (rc)
		evidence_clear(e);
	return rc;
}

/* Rules that need no key: STHs of the logger, sizes, edge count, batches
 * contiguous over the STH's tree from the base's tile, all signed. */
static int check_parts(const ctng_gossip_object *con, const ctng_gossip_object *sth,
                       const ctng_sth *head, const evidence *e, ctng_sth *bhead, ctng_err *err)
{
	const char *lg = S(con->payload[0]);
	if (sth->type != CTNG_STH || strcmp(sth->signer, lg) || sth->period != con->period ||
	    sth->scheme != con->scheme)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "payload[1]: must be an STH of payload[0] of the CON's period");
	memset(bhead, 0, sizeof(*bhead));
	int rc;
	if (e->has_base) {
		if (e->base.type != CTNG_STH || strcmp(e->base.signer, lg))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "payload[2] base: must be an STH of payload[0]");
		if ((rc = ctng_sth_from_object(&e->base, bhead, err)))
			return rc;
		if (bhead->tree_size > head->tree_size)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "payload[2] base: a larger tree than the STH's");
	}
	if (e->n_edge != (unsigned)__builtin_popcountll(bhead->tree_size))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "payload[2] edge: %u hashes for a base of %llu leaves",
		                    e->n_edge, (unsigned long long)bhead->tree_size);
	uint64_t next = bhead->tree_size / 256, tiles = (head->tree_size + 255) / 256;
	for (size_t i = 0; i < e->n_batches; i++) {
		const ctng_tile_roots *b = &e->batches[i];
		if (strcmp(b->logger, lg) || b->tree_size != head->tree_size || b->first != next ||
		    !b->sig_len)
			return ctng_err_set(
			    err, CTNG_EINVAL,
			    "payload[2] tile_roots[%zu]: must be signed roots of the "
			    "STH's tree continuing at tile %llu",
			    i, (unsigned long long)next);
		next += b->count;
	}
	if (next != tiles)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "payload[2] tile_roots: end at tile %llu, the tree has %llu",
		                    (unsigned long long)next, (unsigned long long)tiles);
	return 0;
}

int ctng_data_con_check(const ctng_gossip_object *con, ctng_err *err)
{
	if (!ctng_con_is_data(con))
		return ctng_err_set(err, CTNG_EINVAL, "payload[2]: not data-CON evidence");
	ctng_gossip_object sth = {0};
	evidence e;
	ctng_sth head, bhead;
	char *canon = NULL, *canon_sth = NULL;
	const char *p1 = S(con->payload[1]);
	int rc = ctng_gossip_decode(p1, strlen(p1), &sth, err);
	if (rc)
		return ctng_err_wrap(err, "payload[1]");
	if ((rc = decode_evidence(S(con->payload[2]), &e, err))) {
		ctng_gossip_clear(&sth);
		return rc;
	}
	if (!(rc = ctng_sth_from_object(&sth, &head, err)) &&
	    !(rc = check_parts(con, &sth, &head, &e, &bhead, err)) &&
	    !(rc = encode_evidence(&e, &canon, err)) &&
	    !(rc = ctng_gossip_encode(&sth, &canon_sth, NULL, err)) &&
	    (strcmp(canon, S(con->payload[2])) || strcmp(canon_sth, p1)))
		rc = ctng_err_set(err, CTNG_EINVAL, "payload: data CON not canonical JSON");
	free(canon);
	free(canon_sth);
	evidence_clear(&e);
	ctng_gossip_clear(&sth);
	return rc;
}

int ctng_data_con_build(ctng_gossip_object *out, const ctng_gossip_object *sth,
                        const ctng_gossip_object *base, const uint8_t (*edge)[32], unsigned n_edge,
                        const ctng_tile_roots *batches, size_t n_batches, uint64_t now_ms,
                        ctng_err *err)
{
	ctng_gossip_clear(out);
	if (n_edge > 64 || n_batches == 0 || n_batches > CTNG_DATA_CON_MAX_BATCHES ||
	    sth->type != CTNG_STH)
		return ctng_err_set(err, CTNG_EINVAL, "data CON: bad arguments");
	evidence e = {0};
	int rc = 0;
	char *p1 = NULL, *p2 = NULL;
	if (base) {
		e.has_base = true;
		rc = ctng_gossip_copy(&e.base, base, err);
	}
	e.n_edge = n_edge;
	if (n_edge)
		memcpy(e.edge, edge, (size_t)n_edge * 32);
	if (!rc && !(e.batches = calloc(n_batches, sizeof(*e.batches))))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n_batches; i++) {
		rc = ctng_tile_roots_copy(&e.batches[i], &batches[i], err);
		e.n_batches += rc == 0;
	}
	if (!rc && !(rc = encode_evidence(&e, &p2, err)) &&
	    !(rc = ctng_gossip_encode(sth, &p1, NULL, err))) {
		out->type = CTNG_CON;
		out->period = sth->period;
		out->timestamp_ms = now_ms / 1000 * 1000;
		out->scheme = sth->scheme;
		if (!(rc = ctng_gossip_set(&out->payload[0], sth->signer, err))) {
			out->payload[1] = p1;
			out->payload[2] = p2;
			p1 = p2 = NULL;
			rc = ctng_gossip_check(out, err);
		}
	}
	free(p1);
	free(p2);
	evidence_clear(&e);
	if (rc)
		ctng_gossip_clear(out);
	return rc;
}

int ctng_data_con_verify(const ctng_gossip_object *con, const ctng_sig_key *logger_key,
                         const ctng_clock *clock, ctng_err *err)
{
	int rc = ctng_gossip_check(con, err);
	if (rc)
		return rc;
	if (!ctng_con_is_data(con))
		return ctng_err_set(err, CTNG_EINVAL, "not a data CON");
	ctng_gossip_object sth = {0};
	evidence e;
	ctng_sth head, bhead;
	const char *p1 = S(con->payload[1]);
	if ((rc = ctng_gossip_decode(p1, strlen(p1), &sth, err)))
		return rc;
	if ((rc = decode_evidence(S(con->payload[2]), &e, err))) {
		ctng_gossip_clear(&sth);
		return rc;
	}
	ctng_merkle_range r;
	uint8_t root[32];
	if ((rc = ctng_sth_from_object(&sth, &head, err)) ||
	    (rc = check_parts(con, &sth, &head, &e, &bhead, err)) ||
	    (rc = ctng_gossip_verify_signed(&sth, logger_key, clock, err)) ||
	    (e.has_base && (rc = ctng_gossip_verify_signed(&e.base, logger_key, clock, err))))
		goto out;
	for (size_t i = 0; i < e.n_batches; i++)
		if ((rc = ctng_tile_roots_verify(&e.batches[i], logger_key, err)))
			goto out;
	/* The edge is the base tree's: it folds into the signed base root. */
	if ((rc = ctng_merkle_range_set(&r, bhead.tree_size, (const uint8_t(*)[32])e.edge, e.n_edge,
	                                err)) ||
	    (rc = ctng_merkle_range_root(&r, NULL, root, err)))
		goto out;
	if (memcmp(root, bhead.root, 32) != 0 && e.has_base) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "data CON: edge does not fold into base's root");
		goto out;
	}
	/* Tiles below the base's last whole tile are the edge's; then the roots. */
	ctng_merkle_range_truncate(&r, 8);
	for (size_t i = 0; i < e.n_batches && !rc; i++) {
		const ctng_tile_roots *b = &e.batches[i];
		for (uint32_t k = 0; k < b->count && !rc; k++) {
			unsigned w = ctng_tile_roots_width(b, k);
			if (w == 256)
				rc = ctng_merkle_range_append_node(&r, NULL, 8, b->roots[k], err);
			else /* the tree's last, partial tile closes it */
				rc = ctng_merkle_range_root_with(&r, NULL, b->roots[k], w, root,
				                                 err);
		}
	}
	if (!rc && head.tree_size % 256 == 0)
		rc = ctng_merkle_range_root(&r, NULL, root, err);
	if (!rc && memcmp(root, head.root, 32) == 0)
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "data CON: the tile roots fold into the STH: no misbehaviour");
out:
	if (rc && rc != CTNG_ENOMEM)
		ctng_err_wrap(err, "data CON against %s", S(con->payload[0]));
	evidence_clear(&e);
	ctng_gossip_clear(&sth);
	return rc;
}
