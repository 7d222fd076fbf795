/*
 * msg.c — the three DKG messages (docs/protocol.md §10): strict JSON parsing,
 * the JSON encoding, the canonical signed bytes, hashing, signing and
 * verifying. Checks against a network are in ctx.c.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "dkg/dkg_internal.h"

const char *ctng_dkg_type_name(ctng_dkg_type t)
{
	switch (t) {
	case CTNG_DKG_DEAL:
		return "deal";
	case CTNG_DKG_RESPONSE:
		return "response";
	case CTNG_DKG_JUSTIFICATION:
		return "justification";
	default:
		return NULL;
	}
}

void ctng_dkg_msg_clear(ctng_dkg_msg *m)
{
	if (!m)
		return;
	free(m->commitments);
	free(m->shares);
	free(m->complaints);
	ctng_wipe(m, sizeof *m);
}

/* ------------------------------------------------------------- parsing */

static int bad(ctng_err *err, const char *fmt, const char *what)
{
	return ctng_err_set(err, CTNG_EINVAL, fmt, what);
}

/* Exactly n bytes of lower-case hex. */
static int get_hex(json_t *v, const char *what, uint8_t *out, size_t n, ctng_err *err)
{
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) != 2 * n)
		return ctng_err_set(err, CTNG_EINVAL, "dkg message: %s must be %zu hex digits",
		                    what, 2 * n);
	for (size_t i = 0; i < 2 * n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return bad(err, "dkg message: %s must be lower-case hex", what);
	return ctng_hex_decode_exact(out, n, s, err);
}

static int get_id(json_t *v, const char *what, char out[CTNG_ID_MAX + 1], ctng_err *err)
{
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) > CTNG_ID_MAX || !ctng_id_valid(s))
		return bad(err, "dkg message: %s must be an entity id", what);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int check_members(json_t *j, const char *const *allowed, ctng_err *err)
{
	const char *k;
	json_t *v;
	size_t want = 0;
	while (allowed[want])
		want++;
	json_object_foreach(j, k, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(k, allowed[i]) == 0;
		if (!ok)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "dkg message: unknown member \"%.40s\"", k);
	}
	for (size_t i = 0; i < want; i++)
		if (!json_object_get(j, allowed[i]))
			return bad(err, "dkg message: missing member \"%s\"", allowed[i]);
	return 0;
}

static int parse_deal(json_t *j, ctng_dkg_msg *m, ctng_err *err)
{
	json_t *c = json_object_get(j, "commitments"), *s = json_object_get(j, "shares");
	if (!json_is_array(c) || json_array_size(c) == 0 ||
	    json_array_size(c) > CTNG_DKG_MAX_PARTICIPANTS)
		return bad(err, "dkg message: %s must be an array of 1..256 keys", "commitments");
	if (!json_is_array(s) || json_array_size(s) == 0 ||
	    json_array_size(s) > CTNG_DKG_MAX_PARTICIPANTS)
		return bad(err, "dkg message: %s must be an array of 1..256 sealed shares",
		           "shares");
	m->t = (uint32_t)json_array_size(c);
	m->n = (uint32_t)json_array_size(s);
	m->commitments = calloc(m->t, 96);
	m->shares = calloc(m->n, CTNG_DKG_SHARE_CT_LEN);
	if (!m->commitments || !m->shares)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc;
	for (uint32_t i = 0; i < m->t; i++)
		if ((rc =
		         get_hex(json_array_get(c, i), "a commitment", m->commitments[i], 96, err)))
			return rc;
	for (uint32_t i = 0; i < m->n; i++)
		if ((rc = get_hex(json_array_get(s, i), "a sealed share", m->shares[i],
		                  CTNG_DKG_SHARE_CT_LEN, err)))
			return rc;
	if ((rc = get_hex(json_object_get(j, "pok_r"), "pok_r", m->pok_r, 96, err)) ||
	    (rc = get_hex(json_object_get(j, "pok_z"), "pok_z", m->pok_z, 32, err)))
		return rc;
	return get_hex(json_object_get(j, "ephemeral"), "ephemeral", m->ephemeral, 32, err);
}

static int parse_response(json_t *j, ctng_dkg_msg *m, ctng_err *err)
{
	json_t *c = json_object_get(j, "complaints");
	if (!json_is_array(c) || json_array_size(c) > CTNG_DKG_MAX_PARTICIPANTS)
		return bad(err, "dkg message: %s must be an array of at most 256 ids",
		           "complaints");
	m->n_complaints = json_array_size(c);
	if (m->n_complaints && !(m->complaints = calloc(m->n_complaints, sizeof *m->complaints)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_complaints; i++) {
		int rc = get_id(json_array_get(c, i), "a complaint", m->complaints[i], err);
		if (rc)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (strcmp(m->complaints[k], m->complaints[i]) == 0)
				return bad(err, "dkg message: complaint about %s listed twice",
				           m->complaints[i]);
	}
	return 0;
}

static int parse_obj(json_t *j, ctng_dkg_msg *m, ctng_err *err)
{
	static const char *const k_deal[] = {"ctng_dkg",    "type",      "session", "sender",
	                                     "commitments", "pok_r",     "pok_z",   "ephemeral",
	                                     "shares",      "signature", NULL};
	static const char *const k_resp[] = {"ctng_dkg",   "type",      "session", "sender",
	                                     "complaints", "signature", NULL};
	static const char *const k_just[] = {"ctng_dkg", "type",  "session",   "sender",
	                                     "to",       "share", "signature", NULL};
	if (!json_is_object(j))
		return bad(err, "dkg message: %s", "must be a JSON object");
	json_t *ver = json_object_get(j, "ctng_dkg");
	if (!json_is_integer(ver) || json_integer_value(ver) != 1)
		return bad(err, "dkg message: %s", "\"ctng_dkg\" must be 1");
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *const *keys = NULL;
	if (type && strcmp(type, "deal") == 0) {
		m->type = CTNG_DKG_DEAL;
		keys = k_deal;
	} else if (type && strcmp(type, "response") == 0) {
		m->type = CTNG_DKG_RESPONSE;
		keys = k_resp;
	} else if (type && strcmp(type, "justification") == 0) {
		m->type = CTNG_DKG_JUSTIFICATION;
		keys = k_just;
	} else {
		return bad(err, "dkg message: %s", "type must be deal, response or justification");
	}
	int rc;
	if ((rc = check_members(j, keys, err)) ||
	    (rc = get_hex(json_object_get(j, "session"), "session", m->session, 32, err)) ||
	    (rc = get_id(json_object_get(j, "sender"), "sender", m->sender, err)))
		return rc;
	json_t *sig = json_object_get(j, "signature");
	const char *ss = json_string_value(sig);
	size_t sl = ss ? json_string_length(sig) : 0;
	if (!ss || sl == 0 || sl % 2 || sl / 2 > CTNG_SIG_MAX_LEN)
		return bad(err, "dkg message: %s", "signature must be 1..80 bytes of hex");
	m->sig_len = sl / 2;
	if ((rc = get_hex(sig, "signature", m->sig, m->sig_len, err)))
		return rc;
	switch (m->type) {
	case CTNG_DKG_DEAL:
		return parse_deal(j, m, err);
	case CTNG_DKG_RESPONSE:
		return parse_response(j, m, err);
	default:
		if ((rc = get_id(json_object_get(j, "to"), "to", m->to, err)))
			return rc;
		return get_hex(json_object_get(j, "share"), "share", m->share, 32, err);
	}
}

int ctng_dkg_msg_parse(const char *json, size_t len, ctng_dkg_msg *out, ctng_err *err)
{
	memset(out, 0, sizeof *out);
	if (!json || len == 0 || len > CTNG_DKG_MSG_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "dkg message: empty or larger than %u bytes",
		                    CTNG_DKG_MSG_MAX);
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "dkg message: malformed JSON at column %d: %s", je.column,
		                    je.text);
	int rc = parse_obj(j, out, err);
	json_decref(j);
	if (rc)
		ctng_dkg_msg_clear(out);
	return rc;
}

/* ------------------------------------------------------------ encoding */

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = ctng_hex_strdup(p, n);
	json_t *s = h ? json_string(h) : NULL;
	free(h);
	return s;
}

int ctng_dkg_msg_encode(const ctng_dkg_msg *m, char **json, size_t *len, ctng_err *err)
{
	*json = NULL;
	const char *type = ctng_dkg_type_name(m->type);
	if (!type)
		return ctng_err_set(err, CTNG_EINVAL, "dkg message: bad type");
	json_t *j = json_object();
	if (!j)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	json_object_set_new(j, "ctng_dkg", json_integer(1));
	json_object_set_new(j, "type", json_string(type));
	json_object_set_new(j, "session", hex_json(m->session, 32));
	json_object_set_new(j, "sender", json_string(m->sender));
	if (m->type == CTNG_DKG_DEAL) {
		json_t *c = json_array(), *s = json_array();
		for (uint32_t i = 0; c && i < m->t; i++)
			json_array_append_new(c, hex_json(m->commitments[i], 96));
		json_object_set_new(j, "commitments", c);
		json_object_set_new(j, "pok_r", hex_json(m->pok_r, 96));
		json_object_set_new(j, "pok_z", hex_json(m->pok_z, 32));
		json_object_set_new(j, "ephemeral", hex_json(m->ephemeral, 32));
		for (uint32_t i = 0; s && i < m->n; i++)
			json_array_append_new(s, hex_json(m->shares[i], CTNG_DKG_SHARE_CT_LEN));
		json_object_set_new(j, "shares", s);
	} else if (m->type == CTNG_DKG_RESPONSE) {
		json_t *c = json_array();
		for (size_t i = 0; c && i < m->n_complaints; i++)
			json_array_append_new(c, json_string(m->complaints[i]));
		json_object_set_new(j, "complaints", c);
	} else {
		json_object_set_new(j, "to", json_string(m->to));
		json_object_set_new(j, "share", hex_json(m->share, 32));
	}
	json_object_set_new(j, "signature", hex_json(m->sig, m->sig_len));
	*json = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!*json)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (len)
		*len = strlen(*json);
	return 0;
}

/* ---------------------------------------------------------- signatures */

int ctng_dkg_msg_signed_bytes(const ctng_dkg_msg *m, ctng_buf *b, ctng_err *err)
{
	int rc = ctng_buf_append(b, DKG_DOMAIN, sizeof DKG_DOMAIN - 1) |
	         ctng_buf_append_u8(b, (uint8_t)m->type) | ctng_buf_append(b, m->session, 32) |
	         ctng_buf_append_lp32(b, m->sender, strlen(m->sender));
	switch (m->type) {
	case CTNG_DKG_DEAL:
		rc |= ctng_buf_append_u32be(b, m->t);
		for (uint32_t i = 0; i < m->t; i++)
			rc |= ctng_buf_append(b, m->commitments[i], 96);
		rc |= ctng_buf_append(b, m->pok_r, 96) | ctng_buf_append(b, m->pok_z, 32);
		rc |= ctng_buf_append(b, m->ephemeral, 32) | ctng_buf_append_u32be(b, m->n);
		for (uint32_t i = 0; i < m->n; i++)
			rc |= ctng_buf_append(b, m->shares[i], CTNG_DKG_SHARE_CT_LEN);
		break;
	case CTNG_DKG_RESPONSE:
		rc |= ctng_buf_append_u32be(b, (uint32_t)m->n_complaints);
		for (size_t i = 0; i < m->n_complaints; i++)
			rc |= ctng_buf_append_lp32(b, m->complaints[i], strlen(m->complaints[i]));
		break;
	case CTNG_DKG_JUSTIFICATION:
		rc |= ctng_buf_append_lp32(b, m->to, strlen(m->to)) |
		      ctng_buf_append(b, m->share, 32);
		break;
	default:
		return ctng_err_set(err, CTNG_EINVAL, "dkg message: bad type");
	}
	return rc ? ctng_err_set(err, CTNG_ENOMEM, "out of memory") : 0;
}

int ctng_dkg_msg_hash(const ctng_dkg_msg *m, uint8_t out[32], ctng_err *err)
{
	ctng_buf b = {0};
	int rc = ctng_dkg_msg_signed_bytes(m, &b, err);
	unsigned int n = 32;
	if (!rc && EVP_Digest(b.data, b.len, out, &n, EVP_sha256(), NULL) != 1)
		rc = ctng_err_set(err, CTNG_EIO, "SHA-256 failed");
	ctng_buf_free(&b);
	return rc;
}

int ctng_dkg_msg_sign(ctng_dkg_msg *m, const ctng_sig_key *key, ctng_err *err)
{
	ctng_buf b = {0};
	int rc = ctng_dkg_msg_signed_bytes(m, &b, err);
	if (!rc)
		rc = ctng_sig_sign(key, b.data, b.len, m->sig, &m->sig_len, err);
	ctng_buf_free(&b);
	return rc;
}

int ctng_dkg_msg_verify(const ctng_dkg_msg *m, const ctng_sig_key *key, ctng_err *err)
{
	ctng_buf b = {0};
	int rc = ctng_dkg_msg_signed_bytes(m, &b, err);
	if (!rc)
		rc = ctng_sig_verify(key, b.data, b.len, m->sig, m->sig_len, err);
	ctng_buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------- notices */

int ctng_dkg_notice_parse(const char *json, size_t len, uint8_t session[32], uint8_t hash[32],
                          ctng_err *err)
{
	if (!json || len == 0 || len > 1024)
		return ctng_err_set(err, CTNG_EINVAL, "dkg notice: empty or too long");
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	int rc = 0;
	if (!j || !json_is_object(j) || json_object_size(j) != 2)
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "dkg notice: want {\"session\": 64 hex, \"hash\": 64 hex}");
	else if ((rc = get_hex(json_object_get(j, "session"), "session", session, 32, err)) == 0)
		rc = get_hex(json_object_get(j, "hash"), "hash", hash, 32, err);
	json_decref(j);
	return rc;
}
