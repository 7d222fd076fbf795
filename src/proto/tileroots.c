/*
 * tileroots.c — the logger's signed statement of its data-tile roots
 * (docs/protocol.md §4.4): range rules, canonical signed bytes, ECDSA
 * signing and verification, and the strict JSON codec of the answer of
 * GET /ctng/v1/tile-roots (served by loggers signed, by monitors' mirrors
 * unsigned).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_internal.h"

static const char TAG[] = CTNG_TILE_ROOTS_TAG; /* + NUL: 19 bytes */

void ctng_tile_roots_clear(ctng_tile_roots *t)
{
	if (!t)
		return;
	free(t->roots);
	free(t->sig);
	memset(t, 0, sizeof(*t));
}

int ctng_tile_roots_copy(ctng_tile_roots *dst, const ctng_tile_roots *src, ctng_err *err)
{
	ctng_tile_roots_clear(dst);
	*dst = *src;
	dst->roots = NULL;
	dst->sig = NULL;
	if (src->count && !(dst->roots = malloc((size_t)src->count * 32)))
		goto nomem;
	if (src->count)
		memcpy(dst->roots, src->roots, (size_t)src->count * 32);
	if (src->sig_len) {
		if (!(dst->sig = malloc(src->sig_len)))
			goto nomem;
		memcpy(dst->sig, src->sig, src->sig_len);
	}
	return 0;
nomem:
	ctng_tile_roots_clear(dst);
	return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_tile_roots_check(const ctng_tile_roots *t, ctng_err *err)
{
	if (!ctng_id_valid(t->logger))
		return ctng_err_set(err, CTNG_EINVAL, "logger: not a valid entity id");
	if (t->count == 0 || t->count > CTNG_TILE_ROOTS_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "roots: between 1 and %d roots",
		                    CTNG_TILE_ROOTS_MAX);
	if (t->tree_size > (uint64_t)INT64_MAX || t->first > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "tree_size/first: out of range");
	uint64_t tiles = (t->tree_size + 255) / 256; /* tiles of the tree */
	if (t->first >= tiles || t->count > tiles - t->first)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "roots: tiles %llu..%llu are not all in a tree of %llu leaves",
		                    (unsigned long long)t->first,
		                    (unsigned long long)(t->first + t->count - 1),
		                    (unsigned long long)t->tree_size);
	return 0;
}

static int need_roots(const ctng_tile_roots *t, ctng_err *err)
{
	int rc = ctng_tile_roots_check(t, err);
	if (!rc && !t->roots)
		rc = ctng_err_set(err, CTNG_EINVAL, "roots: missing");
	return rc;
}

unsigned ctng_tile_roots_width(const ctng_tile_roots *t, uint32_t i)
{
	uint64_t start = (t->first + i) * 256;
	if (start >= t->tree_size)
		return 0;
	uint64_t left = t->tree_size - start;
	return left >= 256 ? 256 : (unsigned)left;
}

int ctng_tile_roots_tbs(const ctng_tile_roots *t, ctng_buf *out, ctng_err *err)
{
	int rc = need_roots(t, err);
	if (rc)
		return rc;
	if (ctng_buf_append(out, TAG, sizeof TAG) ||
	    ctng_buf_append_lp32(out, t->logger, strlen(t->logger)) ||
	    ctng_buf_append_u64be(out, t->tree_size) || ctng_buf_append_u64be(out, t->first) ||
	    ctng_buf_append_u32be(out, t->count) ||
	    ctng_buf_append(out, t->roots, (size_t)t->count * 32))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

int ctng_tile_roots_sign(ctng_tile_roots *t, const ctng_sig_key *key, ctng_err *err)
{
	if (ctng_sig_key_alg(key) != CTNG_SIG_ECDSA_P256)
		return ctng_err_set(err, CTNG_EINVAL, "tile roots must be signed with ECDSA P-256");
	ctng_buf tbs = {0};
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sig_len = 0, ds_len = 0;
	uint8_t *ds = NULL;
	int rc;
	if (!(rc = ctng_tile_roots_tbs(t, &tbs, err)) &&
	    !(rc = ctng_sig_sign(key, tbs.data, tbs.len, sig, &sig_len, err)) &&
	    !(rc = ctng_digitally_signed_encode(sig, sig_len, &ds, &ds_len, err))) {
		free(t->sig);
		t->sig = ds;
		t->sig_len = ds_len;
	}
	ctng_buf_free(&tbs);
	return rc;
}

int ctng_tile_roots_verify(const ctng_tile_roots *t, const ctng_sig_key *key, ctng_err *err)
{
	int rc = ctng_tile_roots_check(t, err);
	if (rc)
		return rc;
	if (!t->sig_len)
		return ctng_err_set(err, CTNG_EVERIFY, "tile roots of %s are not signed",
		                    t->logger);
	if (!key || ctng_sig_key_alg(key) != CTNG_SIG_ECDSA_P256)
		return ctng_err_set(err, CTNG_EINVAL, "no ECDSA P-256 key for logger %s",
		                    t->logger);
	const uint8_t *sig;
	size_t sig_len;
	if ((rc = ctng_digitally_signed_decode(t->sig, t->sig_len, &sig, &sig_len, err)))
		return rc;
	ctng_buf tbs = {0};
	if (!(rc = ctng_tile_roots_tbs(t, &tbs, err))) {
		rc = ctng_sig_verify(key, tbs.data, tbs.len, sig, sig_len, err);
		if (rc == CTNG_EVERIFY)
			ctng_err_set(err, rc, "tile roots signature of %s does not verify",
			             t->logger);
	}
	ctng_buf_free(&tbs);
	return rc;
}

/* ---------------------------------------------------------------- JSON */

static int get_u63(const json_t *o, const char *name, uint64_t *v, ctng_err *err)
{
	json_t *x = json_object_get(o, name);
	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a non-negative integer", name);
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

int ctng_tile_roots_from_json(const json_t *j, ctng_tile_roots *out, ctng_err *err)
{
	ctng_tile_roots_clear(out);
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "tile roots: not a JSON object");
	static const char *const members[] = {"logger", "tree_size", "first", "roots", "signature"};
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)j, key, val)
	{
		bool known = false;
		for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
			known = known || strcmp(key, members[i]) == 0;
		if (!known)
			return ctng_err_set(err, CTNG_EINVAL, "unknown field \"%.64s\"", key);
	}
	const char *lg = json_string_value(json_object_get(j, "logger"));
	const json_t *roots = json_object_get(j, "roots");
	const char *sig = json_string_value(json_object_get(j, "signature"));
	int rc;
	if (!lg || strlen(lg) > CTNG_ID_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "logger: must be an entity id");
	snprintf(out->logger, sizeof out->logger, "%s", lg);
	if ((rc = get_u63(j, "tree_size", &out->tree_size, err)) ||
	    (rc = get_u63(j, "first", &out->first, err)))
		goto fail;
	if (!json_is_array(roots) || json_array_size(roots) == 0 ||
	    json_array_size(roots) > CTNG_TILE_ROOTS_MAX) {
		rc = ctng_err_set(err, CTNG_EINVAL, "roots: an array of 1 to %d hashes",
		                  CTNG_TILE_ROOTS_MAX);
		goto fail;
	}
	if (!sig) {
		rc = ctng_err_set(err, CTNG_EINVAL, "signature: must be a string");
		goto fail;
	}
	out->count = (uint32_t)json_array_size(roots);
	if (!(out->roots = malloc((size_t)out->count * 32))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < out->count; i++) {
		const char *s = json_string_value(json_array_get(roots, i));
		if (!s || ctng_b64_decode_exact(out->roots[i], 32, s, NULL)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "roots[%u]: must be base64 of 32 bytes",
			                  i);
			goto fail;
		}
	}
	if (sig[0]) {
		const uint8_t *raw;
		size_t raw_len;
		if ((rc = ctng_b64_decode_alloc(sig, strlen(sig), &out->sig, &out->sig_len, err)) ||
		    (rc = ctng_digitally_signed_decode(out->sig, out->sig_len, &raw, &raw_len,
		                                       err))) {
			ctng_err_wrap(err, "signature");
			goto fail;
		}
	}
	if ((rc = ctng_tile_roots_check(out, err)))
		goto fail;
	return 0;
fail:
	ctng_tile_roots_clear(out);
	return rc;
}

int ctng_tile_roots_parse(const char *json, size_t len, ctng_tile_roots *out, ctng_err *err)
{
	ctng_tile_roots_clear(out);
	if (len > CTNG_TILE_ROOTS_JSON_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "tile roots: more than %u bytes",
		                    CTNG_TILE_ROOTS_JSON_MAX);
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "tile roots: bad JSON: %s", je.text);
	int rc = ctng_tile_roots_from_json(j, out, err);
	json_decref(j);
	return rc;
}

int ctng_tile_roots_to_json(const ctng_tile_roots *t, json_t **out, ctng_err *err)
{
	*out = NULL;
	int rc = need_roots(t, err);
	if (rc)
		return rc;
	json_t *roots = json_array();
	for (uint32_t i = 0; roots && i < t->count; i++) {
		char b[64];
		ctng_b64_encode(b, t->roots[i], 32);
		if (json_array_append_new(roots, json_string(b))) {
			json_decref(roots);
			roots = NULL;
		}
	}
	char *sig = t->sig_len ? ctng_b64_strdup(t->sig, t->sig_len) : NULL;
	json_t *o = NULL;
	if (roots && (sig || !t->sig_len)) /* json_pack takes roots, also on failure */
		o = json_pack("{s:s,s:I,s:I,s:o,s:s}", "logger", t->logger, "tree_size",
		              (json_int_t)t->tree_size, "first", (json_int_t)t->first, "roots",
		              roots, "signature", sig ? sig : "");
	else
		json_decref(roots);
	free(sig);
	if (!o)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	*out = o;
	return 0;
}
