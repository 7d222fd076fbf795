/*
 * observation.c — OBS, the signed statement a monitor hands its paired
 * gossiper about one entity in one period ("I obtained and accepted this
 * STH/REV, digest D, having run these checks" or "I failed to obtain an
 * acceptable one before the query deadline"): canonical signed bytes,
 * signing, verification, and the strict JSON codec (docs/protocol.md §9).
 * The gossiper builds its ACC_FRAG rule on it (docs/gossiper.md
 * §Observations) and later rules (data availability) add check bits.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_internal.h"

static const char TAG_OBS[] = "CTng/v1/OBS"; /* + NUL: 12 bytes */

static const char *const check_names[] = {"consistent", "data"};
#define N_CHECKS (sizeof(check_names) / sizeof(check_names[0]))

const char *ctng_obs_result_name(enum ctng_obs_result r)
{
	return r == CTNG_OBS_OBTAINED ? "obtained" : r == CTNG_OBS_FAILED ? "failed" : NULL;
}

const char *ctng_obs_check_name(uint32_t bit)
{
	for (size_t i = 0; i < N_CHECKS; i++)
		if (bit == 1u << i)
			return check_names[i];
	return NULL;
}

static bool zero32(const uint8_t d[32])
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= d[i];
	return acc == 0;
}

int ctng_obs_check(const ctng_observation *o, ctng_err *err)
{
	if (!ctng_id_valid(o->monitor))
		return ctng_err_set(err, CTNG_EINVAL, "monitor: not a valid entity id");
	if (!ctng_id_valid(o->entity))
		return ctng_err_set(err, CTNG_EINVAL, "entity: not a valid entity id");
	if (strcmp(o->monitor, o->entity) == 0)
		return ctng_err_set(err, CTNG_EINVAL, "entity: a monitor does not observe itself");
	if (o->family != CTNG_FAM_STH && o->family != CTNG_FAM_REV)
		return ctng_err_set(err, CTNG_EINVAL, "family: must be STH or REV");
	if (o->period > 9999999999999999999ull)
		return ctng_err_set(err, CTNG_EINVAL, "period: more than 19 digits");
	if (!ctng_obs_result_name(o->result))
		return ctng_err_set(err, CTNG_EINVAL, "result: must be obtained or failed");
	if (o->checks & ~CTNG_OBS_CHECKS_KNOWN)
		return ctng_err_set(err, CTNG_EINVAL, "checks: unknown check");
	if (o->result == CTNG_OBS_FAILED && !zero32(o->digest))
		return ctng_err_set(err, CTNG_EINVAL, "digest: a failed observation has none");
	if (o->result == CTNG_OBS_FAILED && (o->checks & ~CTNG_OBS_CHECK_DATA))
		return ctng_err_set(err, CTNG_EINVAL, "checks: a failed observation names only data");
	if ((o->checks & CTNG_OBS_CHECK_DATA) && o->family != CTNG_FAM_STH)
		return ctng_err_set(err, CTNG_EINVAL, "checks: data is about an STH");
	if (o->scheme != CTNG_SCHEME_ECDSA_P256 && o->scheme != CTNG_SCHEME_ED25519)
		return ctng_err_set(err, CTNG_EINVAL, "crypto_scheme: must be ecdsa-p256 or ed25519");
	size_t min = o->scheme == CTNG_SCHEME_ED25519 ? 64 : 8;
	size_t max = o->scheme == CTNG_SCHEME_ED25519 ? 64 : 72;
	if (o->sig_len < min || o->sig_len > max)
		return ctng_err_set(err, CTNG_EINVAL, "signature: length %zu out of range",
		                    o->sig_len);
	return 0;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int put_lp32(ctng_buf *b, const char *s)
{
	uint8_t l[4];
	size_t n = strlen(s);
	put_be(l, n, 4);
	return ctng_buf_append(b, l, 4) || ctng_buf_append(b, s, n) ? -1 : 0;
}

int ctng_obs_signed_bytes(const ctng_observation *o, ctng_buf *out, ctng_err *err)
{
	uint8_t fam = (uint8_t)o->family, res = (uint8_t)o->result, per[8], chk[4];
	put_be(per, o->period, 8);
	put_be(chk, o->checks, 4);
	if (ctng_buf_append(out, TAG_OBS, sizeof(TAG_OBS)) || put_lp32(out, o->monitor) ||
	    put_lp32(out, o->entity) || ctng_buf_append(out, &fam, 1) ||
	    ctng_buf_append(out, per, 8) || ctng_buf_append(out, &res, 1) ||
	    ctng_buf_append(out, o->digest, 32) || ctng_buf_append(out, chk, 4))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

int ctng_obs_sign(ctng_observation *out, const char *monitor_id, const ctng_sig_key *key,
                  enum ctng_family family, const char *entity, uint64_t period,
                  enum ctng_obs_result result, const uint8_t digest[32], uint32_t checks,
                  ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	ctng_sig_alg alg = key ? ctng_sig_key_alg(key) : CTNG_SIG_NONE;
	if (alg != CTNG_SIG_ECDSA_P256 && alg != CTNG_SIG_ED25519)
		return ctng_err_set(err, CTNG_EINVAL, "OBS key must be ECDSA P-256 or Ed25519");
	if (!monitor_id || !entity || strlen(monitor_id) > CTNG_ID_MAX ||
	    strlen(entity) > CTNG_ID_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "OBS: bad monitor or entity id");
	if (result == CTNG_OBS_OBTAINED && !digest)
		return ctng_err_set(err, CTNG_EINVAL, "OBS: an obtained object needs its digest");
	strcpy(out->monitor, monitor_id);
	strcpy(out->entity, entity);
	out->family = family;
	out->period = period;
	out->result = result;
	if (result == CTNG_OBS_OBTAINED)
		memcpy(out->digest, digest, 32);
	out->checks = checks; /* FAILED: 0, or the data bit (ctng_obs_check) */
	out->scheme = (enum ctng_scheme)alg;
	out->sig_len = 64; /* plausible length for the structural check below */
	ctng_buf tbs = {0};
	int rc = ctng_obs_check(out, err);
	if (!rc)
		rc = ctng_obs_signed_bytes(out, &tbs, err);
	if (!rc)
		rc = ctng_sig_sign(key, tbs.data, tbs.len, out->sig, &out->sig_len, err);
	if (!rc)
		rc = ctng_obs_check(out, err);
	ctng_buf_free(&tbs);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int ctng_obs_verify(const ctng_observation *o, const ctng_sig_key *monitor_key, ctng_err *err)
{
	int rc = ctng_obs_check(o, err);
	if (rc)
		return rc;
	if (!monitor_key)
		return ctng_err_set(err, CTNG_EINVAL, "no key for monitor %s", o->monitor);
	if ((int)ctng_sig_key_alg(monitor_key) != (int)o->scheme)
		return ctng_err_set(err, CTNG_EVERIFY, "crypto_scheme %s does not match %s's key",
		                    ctng_scheme_name(o->scheme), o->monitor);
	ctng_buf tbs = {0};
	rc = ctng_obs_signed_bytes(o, &tbs, err);
	if (!rc) {
		rc = ctng_sig_verify(monitor_key, tbs.data, tbs.len, o->sig, o->sig_len, err);
		if (rc == CTNG_EVERIFY)
			ctng_err_set(err, rc, "observation signature of %s does not verify",
			             o->monitor);
	}
	ctng_buf_free(&tbs);
	return rc;
}

/* ------------------------------------------------------------------ JSON */

int ctng_obs_encode(const ctng_observation *o, char **json, size_t *len, ctng_err *err)
{
	*json = NULL;
	int rc = ctng_obs_check(o, err);
	if (rc)
		return rc;
	char per[24], dig[65] = "";
	snprintf(per, sizeof per, "%llu", (unsigned long long)o->period);
	if (o->result == CTNG_OBS_OBTAINED)
		ctng_hex_encode(dig, o->digest, 32);
	char *sig = ctng_b64_strdup(o->sig, o->sig_len);
	json_t *checks = json_array();
	for (uint32_t i = 0; checks && i < N_CHECKS; i++)
		if (o->checks & (1u << i))
			json_array_append_new(checks, json_string(check_names[i]));
	json_t *j = sig && checks ? json_object() : NULL;
	if (j) {
		/* jansson keeps insertion order: this is the canonical order */
		json_object_set_new(j, "monitor", json_string(o->monitor));
		json_object_set_new(j, "entity", json_string(o->entity));
		json_object_set_new(j, "family", json_string(ctng_family_name(o->family)));
		json_object_set_new(j, "period", json_string(per));
		json_object_set_new(j, "result", json_string(ctng_obs_result_name(o->result)));
		json_object_set_new(j, "digest", json_string(dig));
		json_object_set(j, "checks", checks);
		json_object_set_new(j, "crypto_scheme", json_string(ctng_scheme_name(o->scheme)));
		json_object_set_new(j, "signature", json_string(sig));
		*json = json_dumps(j, JSON_COMPACT);
	}
	json_decref(checks);
	json_decref(j);
	free(sig);
	if (!*json)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (len)
		*len = strlen(*json);
	return 0;
}

static const char *const members[] = {"monitor", "result",  "entity",        "family",   "period",
                                      "digest",  "checks", "crypto_scheme", "signature"};

static int str_member(json_t *j, const char *k, size_t max, const char **out, ctng_err *err)
{
	json_t *v = json_object_get(j, k);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "%s: missing", k);
	if (!json_is_string(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a string", k);
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: too long or contains NUL", k);
	*out = json_string_value(v);
	return 0;
}

static int from_json(json_t *j, ctng_observation *o, ctng_err *err)
{
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "observation: expected a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		bool known = false;
		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
			known |= strcmp(key, members[i]) == 0;
		if (!known)
			return ctng_err_set(err, CTNG_EINVAL, "unknown field \"%.64s\"", key);
	}
	const char *mon, *ent, *fam, *per, *res, *dig, *sch, *sig;
	int rc;
	if ((rc = str_member(j, "monitor", CTNG_ID_MAX, &mon, err)) ||
	    (rc = str_member(j, "entity", CTNG_ID_MAX, &ent, err)) ||
	    (rc = str_member(j, "family", 8, &fam, err)) ||
	    (rc = str_member(j, "period", 24, &per, err)) ||
	    (rc = str_member(j, "result", 16, &res, err)) ||
	    (rc = str_member(j, "digest", 64, &dig, err)) ||
	    (rc = str_member(j, "crypto_scheme", 16, &sch, err)) ||
	    (rc = str_member(j, "signature", 128, &sig, err)))
		return rc;
	strcpy(o->monitor, mon);
	strcpy(o->entity, ent);
	o->family = strcmp(fam, "STH") == 0   ? CTNG_FAM_STH
	            : strcmp(fam, "REV") == 0 ? CTNG_FAM_REV
	                                      : CTNG_FAM_NONE;
	if (o->family == CTNG_FAM_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "family: must be STH or REV");
	ctng_err e2 = {0};
	if (ctng_parse_period(per, &o->period, &e2))
		return ctng_err_set(err, CTNG_EINVAL, "period: %s", e2.msg);
	o->result = strcmp(res, "obtained") == 0 ? CTNG_OBS_OBTAINED
	            : strcmp(res, "failed") == 0 ? CTNG_OBS_FAILED
	                                         : CTNG_OBS_NONE;
	if (o->result == CTNG_OBS_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "result: must be obtained or failed");
	if (o->result == CTNG_OBS_OBTAINED) {
		if (!proto_is_lower_hex(dig, 32) || ctng_hex_decode_exact(o->digest, 32, dig, NULL))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "digest: must be 64 lower-case hex characters");
	} else if (dig[0]) {
		return ctng_err_set(err, CTNG_EINVAL, "digest: must be empty when failed");
	}
	json_t *checks = json_object_get(j, "checks");
	if (!json_is_array(checks))
		return ctng_err_set(err, CTNG_EINVAL, "checks: must be an array");
	size_t i;
	int last = -1;
	json_array_foreach(checks, i, v)
	{
		int bit = -1;
		for (size_t k = 0; json_is_string(v) && k < N_CHECKS; k++)
			if (strcmp(json_string_value(v), check_names[k]) == 0)
				bit = (int)k;
		if (bit < 0)
			return ctng_err_set(err, CTNG_EINVAL, "checks[%zu]: unknown check", i);
		if (bit <= last)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "checks[%zu]: not in canonical order", i);
		last = bit;
		o->checks |= 1u << bit;
	}
	o->scheme = ctng_scheme_from_name(sch);
	uint8_t *raw = NULL;
	size_t n = 0;
	if (ctng_b64_decode_alloc(sig, strlen(sig), &raw, &n, &e2))
		return ctng_err_set(err, CTNG_EINVAL, "signature: bad base64 (%s)", e2.msg);
	if (n > sizeof(o->sig)) {
		free(raw);
		return ctng_err_set(err, CTNG_EINVAL, "signature: too long");
	}
	memcpy(o->sig, raw, n);
	o->sig_len = n;
	free(raw);
	return ctng_obs_check(o, err);
}

int ctng_obs_decode(const char *json, size_t len, ctng_observation *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > CTNG_OBS_JSON_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "observation: larger than %u bytes",
		                    CTNG_OBS_JSON_MAX);
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "observation: bad JSON: %s", je.text);
	int rc = from_json(j, out, err);
	json_decref(j);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
