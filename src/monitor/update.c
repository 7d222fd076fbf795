/*
 * update.c — the client update of docs/client-update.md: strict parser,
 * signature verifier and canonical encoder; the FULL verifier shared with the
 * state machine; and the strict parser of RFC 6962 get-sth-consistency
 * responses.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ctng/cert.h"
#include "ctng/bls.h"
#include "ctng/merkle.h"
#include "ctng/monitor.h"
#include "monitor/monitor_internal.h"

void ctng_client_update_clear(ctng_client_update *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_objects; i++)
		ctng_gossip_clear(&u->objects[i]);
	free(u->objects);
	memset(u, 0, sizeof(*u));
}

int mon_full_group(enum ctng_type t)
{
	switch (t) {
	case CTNG_STH_FULL:
		return 0;
	case CTNG_REV_FULL:
		return 1;
	case CTNG_ACC_FULL:
		return 2;
	case CTNG_CON_FULL:
		return 3;
	default:
		return -1;
	}
}

int mon_full_cmp(const ctng_gossip_object *a, const ctng_gossip_object *b)
{
	int ga = mon_full_group(a->type), gb = mon_full_group(b->type);
	if (ga != gb)
		return ga < gb ? -1 : 1;
	int c = strcmp(ctng_gossip_entity(a), ctng_gossip_entity(b));
	if (c)
		return c < 0 ? -1 : 1;
	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	return 0;
}

int mon_load_json(const char *json, size_t len, size_t max, json_t **out, ctng_err *err)
{
	if (!json && len)
		return ctng_err_set(err, CTNG_EINVAL, "no input");
	if (len > max)
		return ctng_err_set(err, CTNG_ERANGE, "input larger than %zu bytes", max);
	json_error_t jerr;
	json_t *j = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "invalid JSON: %s (line %d)", jerr.text,
		                    jerr.line);
	if (!json_is_object(j)) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "not a JSON object");
	}
	*out = j;
	return 0;
}

int ctng_client_update_parse(const char *json, size_t len, ctng_client_update *out, ctng_err *err)
{
	ctng_client_update_clear(out);
	json_t *j = NULL;
	int rc = mon_load_json(json, len, CTNG_CLIENT_UPDATE_MAX, &j, err);
	if (rc)
		return rc;
	const char *key;
	json_t *val;
	json_t *jp = NULL, *jm = NULL, *jo = NULL;
	json_object_foreach(j, key, val)
	{
		if (strcmp(key, "period") == 0)
			jp = val;
		else if (strcmp(key, "monitor") == 0)
			jm = val;
		else if (strcmp(key, "objects") == 0)
			jo = val;
		else {
			rc =
			    ctng_err_set(err, CTNG_EINVAL, "update: unknown member \"%.40s\"", key);
			goto out;
		}
	}
	if (!json_is_string(jp) || !json_is_string(jm) || !json_is_array(jo)) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "update: needs string period, string monitor, array objects");
		goto out;
	}
	if ((rc = ctng_parse_period(json_string_value(jp), &out->period, err))) {
		ctng_err_wrap(err, "update: period");
		goto out;
	}
	if (!ctng_id_valid(json_string_value(jm))) {
		rc = ctng_err_set(err, CTNG_EINVAL, "update: invalid monitor id");
		goto out;
	}
	snprintf(out->monitor, sizeof(out->monitor), "%s", json_string_value(jm));
	size_t n = json_array_size(jo);
	if (n > CTNG_CLIENT_UPDATE_MAX_OBJECTS) {
		rc = ctng_err_set(err, CTNG_ERANGE, "update: more than %d objects",
		                  CTNG_CLIENT_UPDATE_MAX_OBJECTS);
		goto out;
	}
	if (n && !(out->objects = calloc(n, sizeof(*out->objects)))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	ssize_t last_full = -1;
	bool init_taken = false;
	for (size_t i = 0; i < n; i++) {
		ctng_gossip_object *o = &out->objects[i];
		if ((rc = ctng_gossip_from_json(json_array_get(jo, i), o, err))) {
			ctng_err_wrap(err, "update: object %zu", i);
			goto out;
		}
		out->n_objects = i + 1;
		enum ctng_kind k = ctng_type_kind(o->type);
		if (k == CTNG_KIND_FULL) {
			if (mon_full_group(o->type) < 0) {
				rc = ctng_err_set(err, CTNG_EINVAL, "update: object %zu: bad type",
				                  i);
				goto out;
			}
			bool okp = o->type == CTNG_CON_FULL ? o->period <= out->period
			                                    : o->period == out->period;
			if (!okp) {
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "update: object %zu: %s of period %" PRIu64
				                  " in the update of %" PRIu64,
				                  i, ctng_type_name(o->type), o->period,
				                  out->period);
				goto out;
			}
			if (last_full >= 0 && mon_full_cmp(&out->objects[last_full], o) >= 0) {
				rc = ctng_err_set(
				    err, CTNG_EINVAL,
				    "update: object %zu: out of order or duplicate id", i);
				goto out;
			}
			last_full = (ssize_t)i;
			init_taken = false;
		} else if (k == CTNG_KIND_INIT && o->type != CTNG_ACC) {
			const ctng_gossip_object *f =
			    last_full >= 0 ? &out->objects[last_full] : NULL;
			if (!f || init_taken || f->type == CTNG_ACC_FULL ||
			    ctng_type_family(f->type) != ctng_type_family(o->type) ||
			    !ctng_gossip_attests(f, o)) {
				rc = ctng_err_set(
				    err, CTNG_EINVAL,
				    "update: object %zu: %s not directly after the FULL "
				    "attesting it",
				    i, ctng_type_name(o->type));
				goto out;
			}
			init_taken = true;
		} else {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "update: object %zu: type %s not allowed", i,
			                  ctng_type_name(o->type));
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	if (rc)
		ctng_client_update_clear(out);
	return rc;
}

int ctng_monitor_verify_full(const ctng_gossip_object *o, const ctng_network *net, ctng_err *err)
{
	int rc = ctng_gossip_check(o, err);
	if (rc)
		return rc;
	if (ctng_type_kind(o->type) != CTNG_KIND_FULL)
		return ctng_err_set(err, CTNG_EINVAL, "not a FULL object");
	const char *entity = ctng_gossip_entity(o);
	const ctng_entity *e = ctng_network_entity(net, entity);
	enum ctng_family fam = ctng_type_family(o->type);
	bool role_ok = e && ((fam == CTNG_FAM_STH && e->role == CTNG_ROLE_LOGGER) ||
	                     (fam == CTNG_FAM_REV && e->role == CTNG_ROLE_CA) ||
	                     ((fam == CTNG_FAM_ACC || fam == CTNG_FAM_CON) &&
	                      (e->role == CTNG_ROLE_LOGGER || e->role == CTNG_ROLE_CA)));
	if (!role_ok)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "%s about unknown or wrong-role entity \"%s\"",
		                    ctng_type_name(o->type), entity);
	if (o->n_signers < net->threshold || o->n_signers == 0)
		return ctng_err_set(err, CTNG_EVERIFY, "%s has %zu signers, threshold is %u",
		                    ctng_type_name(o->type), o->n_signers, net->threshold);
	for (size_t i = 0; i < o->n_signers; i++) {
		const ctng_entity *g = ctng_network_entity(net, o->signers[i]);
		if (!g || g->role != CTNG_ROLE_GOSSIPER)
			return ctng_err_set(err, CTNG_EVERIFY, "%s signer \"%s\" is not a gossiper",
			                    ctng_type_name(o->type), o->signers[i]);
	}
	if (!net->has_bls)
		return ctng_err_set(err, CTNG_EVERIFY, "network has no BLS group key");
	uint8_t sig[CTNG_BLS_SIG_LEN];
	if ((rc = ctng_gossip_bls_sig(o, sig, err)))
		return rc;
	ctng_buf msg = {0};
	if ((rc = ctng_gossip_attest_bytes(o, &msg, err)))
		return rc;
	rc = ctng_bls_verify(net->group_pk, msg.data, msg.len, sig, CTNG_BLS_DST_POP, err);
	ctng_buf_free(&msg);
	if (rc) {
		ctng_err_wrap(err, "%s/%s/%" PRIu64 ": group signature", ctng_type_name(o->type),
		              entity, o->period);
		return rc == CTNG_EINVAL ? CTNG_EVERIFY : rc;
	}
	return 0;
}

int mon_verify_init(const ctng_gossip_object *o, const ctng_network *net, ctng_err *err)
{
	int rc = ctng_gossip_check(o, err);
	if (rc)
		return rc;
	const char *entity = ctng_gossip_entity(o);
	const ctng_entity *e = ctng_network_entity(net, entity);
	ctng_role want = CTNG_ROLE_NONE;
	if (o->type == CTNG_STH)
		want = CTNG_ROLE_LOGGER;
	else if (o->type == CTNG_REV)
		want = CTNG_ROLE_CA;
	else if (o->type == CTNG_CON)
		want = e ? e->role : CTNG_ROLE_NONE;
	else
		return ctng_err_set(err, CTNG_EINVAL, "not an STH, REV or CON");
	if (!e || e->role != want || (want != CTNG_ROLE_LOGGER && want != CTNG_ROLE_CA) || !e->key)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "%s about unknown or wrong-role entity \"%s\"",
		                    ctng_type_name(o->type), entity);
	if (o->type == CTNG_CON)
		rc = ctng_cert_con_verify(o, e, &net->clock, err);
	else
		rc = ctng_gossip_verify_signed(o, e->key, &net->clock, err);
	return rc;
}

int ctng_client_update_verify(const ctng_client_update *u, const ctng_network *net, ctng_err *err)
{
	if (!u || !net)
		return ctng_err_set(err, CTNG_EINVAL, "no update or network");
	for (size_t i = 0; i < u->n_objects; i++) {
		const ctng_gossip_object *o = &u->objects[i];
		int rc = ctng_type_kind(o->type) == CTNG_KIND_FULL
		             ? ctng_monitor_verify_full(o, net, err)
		             : mon_verify_init(o, net, err);
		if (rc) {
			ctng_err_wrap(err, "update object %zu", i);
			return rc == CTNG_EINVAL ? CTNG_EVERIFY : rc;
		}
	}
	return 0;
}

int ctng_client_update_encode(const ctng_client_update *u, char **json, size_t *len, ctng_err *err)
{
	if (!u || !json || !ctng_id_valid(u->monitor))
		return ctng_err_set(err, CTNG_EINVAL, "update: bad arguments or monitor id");
	ctng_buf b = {0};
	int rc = ctng_buf_printf(&b, "{\"period\":\"%" PRIu64 "\",\"monitor\":\"%s\",\"objects\":[",
	                         u->period, u->monitor);
	for (size_t i = 0; !rc && i < u->n_objects; i++) {
		char *s = NULL;
		size_t sl = 0;
		if ((rc = ctng_gossip_encode(&u->objects[i], &s, &sl, err)))
			break;
		if (i)
			rc = ctng_buf_append_u8(&b, ',');
		if (!rc)
			rc = ctng_buf_append(&b, s, sl);
		free(s);
	}
	if (!rc)
		rc = ctng_buf_append(&b, "]}", 3); /* with the NUL */
	if (rc) {
		ctng_buf_free(&b);
		return rc == CTNG_ENOMEM ? ctng_err_set(err, rc, "out of memory") : rc;
	}
	size_t l;
	*json = (char *)ctng_buf_detach(&b, &l);
	if (len)
		*len = l - 1;
	return 0;
}

int ctng_monitor_parse_consistency(const char *json, size_t len, uint8_t (*proof)[32],
                                   size_t *proof_len, ctng_err *err)
{
	*proof_len = 0;
	json_t *j = NULL;
	int rc = mon_load_json(json, len, 64 * 1024, &j, err);
	if (rc)
		return rc;
	json_t *arr = json_object_get(j, "consistency");
	if (json_object_size(j) != 1 || !json_is_array(arr)) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL,
		                    "consistency: expected exactly {\"consistency\":[...]}");
	}
	size_t n = json_array_size(arr);
	if (n > CTNG_MERKLE_MAX_PROOF) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "consistency: %zu hashes (max %d)", n,
		                    CTNG_MERKLE_MAX_PROOF);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(arr, i);
		if (!json_is_string(h) ||
		    ctng_b64_decode_exact(proof[i], 32, json_string_value(h), NULL)) {
			json_decref(j);
			return ctng_err_set(err, CTNG_EINVAL,
			                    "consistency: entry %zu is not base64 of 32 bytes", i);
		}
	}
	json_decref(j);
	*proof_len = n;
	return 0;
}
