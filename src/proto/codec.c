/*
 * codec.c — the gossip object in memory and on the wire: ownership helpers,
 * the strict JSON decoder, the canonical encoder, and the structural rules
 * per type (docs/protocol.md §3).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_internal.h"

/* ------------------------------------------------------------- ownership */

void ctng_gossip_clear(ctng_gossip_object *o)
{
	if (!o)
		return;
	for (int i = 0; i < 2; i++)
		free(o->signature[i]);
	for (int i = 0; i < 3; i++)
		free(o->payload[i]);
	for (size_t i = 0; i < o->n_signers; i++)
		free(o->signers[i]);
	free(o->signers);
	memset(o, 0, sizeof(*o));
}

int ctng_gossip_set(char **slot, const char *s, ctng_err *err)
{
	char *c = strdup(s ? s : "");
	if (!c)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	free(*slot);
	*slot = c;
	return 0;
}

/* Takes a freshly allocated string (NULL: out of memory) into the slot. */
static int take_str(char **slot, char *s, ctng_err *err)
{
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	free(*slot);
	*slot = s;
	return 0;
}

int ctng_gossip_set_b64(char **slot, const uint8_t *p, size_t n, ctng_err *err)
{
	return take_str(slot, ctng_b64_strdup(p, n), err);
}

int ctng_gossip_set_hex(char **slot, const uint8_t *p, size_t n, ctng_err *err)
{
	return take_str(slot, ctng_hex_strdup(p, n), err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctng_gossip_set_signers(ctng_gossip_object *o, const char *const *ids, size_t n, ctng_err *err)
{
	if (n > CTNG_GOSSIP_MAX_SIGNERS)
		return ctng_err_set(err, CTNG_EINVAL, "signers: more than %d entries",
		                    CTNG_GOSSIP_MAX_SIGNERS);
	char **v = n ? calloc(n, sizeof(char *)) : NULL;
	if (n && !v)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!ctng_id_valid(ids[i]))
			rc = ctng_err_set(err, CTNG_EINVAL, "signers: invalid id");
		else if (!(v[i] = strdup(ids[i])))
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (!rc && n > 1) {
		qsort(v, n, sizeof(char *), cmp_str);
		for (size_t i = 1; i < n && !rc; i++)
			if (strcmp(v[i - 1], v[i]) == 0)
				rc = ctng_err_set(err, CTNG_EINVAL, "signers: duplicate id \"%s\"",
				                  v[i]);
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	for (size_t i = 0; i < o->n_signers; i++)
		free(o->signers[i]);
	free(o->signers);
	o->signers = v;
	o->n_signers = n;
	return 0;
}

int ctng_gossip_copy(ctng_gossip_object *dst, const ctng_gossip_object *src, ctng_err *err)
{
	ctng_gossip_clear(dst);
	dst->type = src->type;
	dst->period = src->period;
	memcpy(dst->signer, src->signer, sizeof(dst->signer));
	dst->signer[CTNG_ID_MAX] = '\0';
	dst->timestamp_ms = src->timestamp_ms;
	dst->scheme = src->scheme;
	int rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		rc = ctng_gossip_set(&dst->signature[i], src->signature[i], err);
	for (int i = 0; i < 3 && !rc; i++)
		rc = ctng_gossip_set(&dst->payload[i], src->payload[i], err);
	if (!rc && src->n_signers)
		rc = ctng_gossip_set_signers(dst, (const char *const *)src->signers, src->n_signers,
		                             err);
	if (rc)
		ctng_gossip_clear(dst);
	return rc;
}

/* ------------------------------------------------------ structural rules */

#define S(x) ctng_gossip_str(x)

static bool empty(const char *slot)
{
	return !slot || !slot[0];
}

static int need_empty(const char *slot, const char *field, ctng_err *err)
{
	if (!empty(slot))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be empty for this type", field);
	return 0;
}

static int need_id(const char *slot, const char *field, ctng_err *err)
{
	if (!ctng_id_valid(S(slot)))
		return ctng_err_set(err, CTNG_EINVAL, "%s: not a valid entity id", field);
	return 0;
}

static int need_hex(const char *slot, size_t n, const char *field, ctng_err *err)
{
	if (!proto_is_lower_hex(S(slot), n))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be %zu lower-case hex characters",
		                    field, 2 * n);
	return 0;
}

/* Decodes a base64 field (strict) and checks its decoded length range. */
static int need_b64(const char *slot, size_t min, size_t max, const char *field, ctng_err *err)
{
	const char *s = S(slot);
	uint8_t *buf = NULL;
	size_t n = 0;
	ctng_err e2 = {0};
	if (ctng_b64_decode_alloc(s, strlen(s), &buf, &n, &e2) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "%s: bad base64 (%s)", field, e2.msg);
	free(buf);
	if (n < min || n > max)
		return ctng_err_set(err, CTNG_EINVAL, "%s: decoded length %zu out of range", field,
		                    n);
	return 0;
}

static int check_sth(const ctng_gossip_object *o, ctng_err *err)
{
	int rc;
	if (o->scheme != CTNG_SCHEME_ECDSA_P256)
		return ctng_err_set(err, CTNG_EINVAL, "crypto_scheme: STH must be ecdsa-p256");
	if ((rc = need_id(o->signer, "signer", err)))
		return rc;
	ctng_sth sth;
	if ((rc = ctng_sth_from_object(o, &sth, err)))
		return rc;
	if (o->timestamp_ms / 1000 != sth.timestamp_ms / 1000)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "timestamp: differs from the STH timestamp in payload[2]");
	const char *s = S(o->signature[0]);
	uint8_t *ds = NULL;
	size_t n = 0;
	ctng_err e2 = {0};
	if (ctng_b64_decode_alloc(s, strlen(s), &ds, &n, &e2) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "signature[0]: bad base64 (%s)", e2.msg);
	const uint8_t *sig;
	size_t sig_len;
	rc = ctng_digitally_signed_decode(ds, n, &sig, &sig_len, err);
	free(ds);
	if (rc)
		return ctng_err_wrap(err, "signature[0]");
	return 0;
}

static int check_rev(const ctng_gossip_object *o, ctng_err *err)
{
	int rc;
	if ((rc = need_id(o->signer, "signer", err)) ||
	    (rc = need_hex(o->payload[0], 32, "payload[0]", err)) ||
	    (rc = need_hex(o->payload[1], 32, "payload[1]", err)))
		return rc;
	if (strlen(S(o->payload[2])) > CTNG_REV_DELTA_B64_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "payload[2]: delta too large");
	return need_b64(o->payload[2], 1, CTNG_REV_DELTA_B64_MAX, "payload[2]", err);
}

static int check_acc(const ctng_gossip_object *o, ctng_err *err)
{
	int rc;
	if ((rc = need_id(o->signer, "signer", err)) ||
	    (rc = need_id(o->payload[0], "payload[0]", err)) ||
	    (rc = need_empty(o->payload[1], "payload[1]", err)) ||
	    (rc = need_empty(o->payload[2], "payload[2]", err)))
		return rc;
	if (strcmp(o->signer, S(o->payload[0])) == 0)
		return ctng_err_set(err, CTNG_EINVAL, "payload[0]: a monitor cannot accuse itself");
	return 0;
}

static int check_signed_sig(const ctng_gossip_object *o, ctng_err *err)
{
	if (o->type == CTNG_STH)
		return 0; /* checked with the DigitallySigned layout */
	if (o->scheme != CTNG_SCHEME_ECDSA_P256 && o->scheme != CTNG_SCHEME_ED25519)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "crypto_scheme: must be ecdsa-p256 or ed25519 for this type");
	size_t min = o->scheme == CTNG_SCHEME_ED25519 ? 64 : 8;
	size_t max = o->scheme == CTNG_SCHEME_ED25519 ? 64 : 72;
	return need_b64(o->signature[0], min, max, "signature[0]", err);
}

/* Nesting guard: a CON may embed only STH/REV objects, so a CON met while
 * already checking a CON is rejected before it can recurse further. */
static _Thread_local int con_depth;

static int check_con_inner(const ctng_gossip_object *o, ctng_err *err);

static int check_con(const ctng_gossip_object *o, ctng_err *err)
{
	if (con_depth > 0)
		return ctng_err_set(err, CTNG_EINVAL, "payload: a CON cannot embed a CON");
	con_depth++;
	int rc = check_con_inner(o, err);
	con_depth--;
	return rc;
}

static int check_con_inner(const ctng_gossip_object *o, ctng_err *err)
{
	int rc;
	if ((rc = need_empty(o->signer, "signer", err)) ||
	    (rc = need_empty(o->signature[0], "signature[0]", err)) ||
	    (rc = need_id(o->payload[0], "payload[0]", err)))
		return rc;
	if (o->scheme != CTNG_SCHEME_ECDSA_P256 && o->scheme != CTNG_SCHEME_ED25519)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "crypto_scheme: CON must carry the scheme of its objects");
	if (ctng_con_is_data(o))
		return ctng_data_con_check(o, err);
	if (ctng_con_is_rid(o))
		return ctng_rid_con_check(o, err);
	ctng_gossip_object a = {0}, b = {0};
	ctng_buf ba = {0}, bb = {0};
	char *ea = NULL, *eb = NULL;
	if ((rc = ctng_con_parts(o, &a, &b, err)))
		goto out;
	rc = CTNG_EINVAL;
	if (a.type != b.type || (a.type != CTNG_STH && a.type != CTNG_REV)) {
		ctng_err_set(err, rc, "payload: CON must embed two STHs or two REVs");
		goto out;
	}
	if (strcmp(a.signer, S(o->payload[0])) || strcmp(b.signer, S(o->payload[0]))) {
		ctng_err_set(err, rc, "payload: embedded objects not signed by payload[0]");
		goto out;
	}
	if (a.period != o->period || b.period != o->period) {
		ctng_err_set(err, rc, "payload: embedded objects not of the CON's period");
		goto out;
	}
	if (a.scheme != o->scheme || b.scheme != o->scheme) {
		ctng_err_set(err, rc, "crypto_scheme: differs from the embedded objects");
		goto out;
	}
	if ((rc = ctng_gossip_signed_bytes(&a, &ba, err)) ||
	    (rc = ctng_gossip_signed_bytes(&b, &bb, err)))
		goto out;
	rc = CTNG_EINVAL;
	size_t m = ba.len < bb.len ? ba.len : bb.len;
	int c = memcmp(ba.data, bb.data, m);
	if (c == 0 && ba.len == bb.len) {
		ctng_err_set(err, rc, "payload: embedded objects sign the same content");
		goto out;
	}
	if (c > 0 || (c == 0 && ba.len > bb.len)) {
		ctng_err_set(err, rc, "payload: embedded objects not in canonical order");
		goto out;
	}
	if ((rc = ctng_gossip_encode(&a, &ea, NULL, err)) ||
	    (rc = ctng_gossip_encode(&b, &eb, NULL, err)))
		goto out;
	if (strcmp(ea, S(o->payload[1])) || strcmp(eb, S(o->payload[2])))
		rc = ctng_err_set(err, CTNG_EINVAL, "payload: embedded objects not canonical JSON");
out:
	free(ea);
	free(eb);
	ctng_buf_free(&ba);
	ctng_buf_free(&bb);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	return rc;
}

static int check_attest(const ctng_gossip_object *o, enum ctng_family f, enum ctng_kind k,
                        ctng_err *err)
{
	int rc;
	if (o->scheme != CTNG_SCHEME_BLS)
		return ctng_err_set(err, CTNG_EINVAL, "crypto_scheme: must be bls12-381");
	if ((rc = need_hex(o->signature[0], 48, "signature[0]", err)) ||
	    (rc = need_id(o->payload[0], "payload[0]", err)) ||
	    (rc = need_empty(o->payload[2], "payload[2]", err)))
		return rc;
	if (f == CTNG_FAM_STH || f == CTNG_FAM_REV)
		rc = need_hex(o->payload[1], 32, "payload[1]", err);
	else
		rc = need_empty(o->payload[1], "payload[1]", err);
	if (rc)
		return rc;
	if (k == CTNG_KIND_FRAG)
		return need_id(o->signer, "signer", err);
	if ((rc = need_empty(o->signer, "signer", err)))
		return rc;
	if (o->n_signers == 0)
		return ctng_err_set(err, CTNG_EINVAL, "signers: a FULL needs at least one signer");
	for (size_t i = 0; i < o->n_signers; i++) {
		if (!ctng_id_valid(o->signers[i]))
			return ctng_err_set(err, CTNG_EINVAL, "signers[%zu]: not a valid id", i);
		if (i && strcmp(o->signers[i - 1], o->signers[i]) >= 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "signers: must be distinct and in ascending order");
	}
	return 0;
}

int ctng_gossip_check(const ctng_gossip_object *o, ctng_err *err)
{
	enum ctng_family f = ctng_type_family(o->type);
	enum ctng_kind k = ctng_type_kind(o->type);
	if (f == CTNG_FAM_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "type: unknown");
	if (!ctng_scheme_name(o->scheme))
		return ctng_err_set(err, CTNG_EINVAL, "crypto_scheme: unknown");
	if (o->signer[0] && !ctng_id_valid(o->signer))
		return ctng_err_set(err, CTNG_EINVAL, "signer: not a valid entity id");
	for (int i = 0; i < 2; i++)
		if (strlen(S(o->signature[i])) > CTNG_GOSSIP_SIG_MAX)
			return ctng_err_set(err, CTNG_EINVAL, "signature[%d]: too long", i);
	for (int i = 0; i < 3; i++)
		if (strlen(S(o->payload[i])) > CTNG_GOSSIP_PAYLOAD_MAX)
			return ctng_err_set(err, CTNG_EINVAL, "payload[%d]: too long", i);
	int rc;
	if ((rc = need_empty(o->signature[1], "signature[1]", err)))
		return rc;
	if (k != CTNG_KIND_FULL && o->n_signers)
		return ctng_err_set(err, CTNG_EINVAL, "signers: must be empty for this type");
	if (k != CTNG_KIND_INIT)
		return check_attest(o, f, k, err);
	switch (f) {
	case CTNG_FAM_STH:
		return check_sth(o, err);
	case CTNG_FAM_REV:
		if ((rc = check_signed_sig(o, err)))
			return rc;
		return check_rev(o, err);
	case CTNG_FAM_ACC:
		if ((rc = check_signed_sig(o, err)))
			return rc;
		return check_acc(o, err);
	case CTNG_FAM_CON:
		return check_con(o, err);
	default:
		return ctng_err_set(err, CTNG_EINVAL, "type: unknown");
	}
}

/* ------------------------------------------------------------------ JSON */

static const char *const field_names[] = {
    "application", "type",      "period",        "signer",  "signers",
    "timestamp",   "signature", "crypto_scheme", "payload",
};
#define N_FIELDS (sizeof(field_names) / sizeof(field_names[0]))

static int get_string(const json_t *j, const char *field, size_t max, const char **out,
                      ctng_err *err)
{
	json_t *v = json_object_get(j, field);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "%s: missing field", field);
	if (!json_is_string(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a string", field);
	if (json_string_length(v) > max)
		return ctng_err_set(err, CTNG_EINVAL, "%s: longer than %zu bytes", field, max);
	*out = json_string_value(v);
	return 0;
}

/* A JSON array of exactly n strings (n == 0: any count up to max_count). */
static int get_str_array(const json_t *j, const char *field, size_t n, size_t max_count,
                         size_t max_len, json_t **out, ctng_err *err)
{
	json_t *v = json_object_get(j, field);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "%s: missing field", field);
	if (!json_is_array(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be an array of strings", field);
	size_t cnt = json_array_size(v);
	if (n && cnt != n)
		return ctng_err_set(err, CTNG_EINVAL, "%s: must have exactly %zu entries", field,
		                    n);
	if (!n && cnt > max_count)
		return ctng_err_set(err, CTNG_EINVAL, "%s: more than %zu entries", field,
		                    max_count);
	for (size_t i = 0; i < cnt; i++) {
		json_t *e = json_array_get(v, i);
		if (!json_is_string(e))
			return ctng_err_set(err, CTNG_EINVAL, "%s[%zu]: must be a string", field,
			                    i);
		if (json_string_length(e) > max_len)
			return ctng_err_set(err, CTNG_EINVAL, "%s[%zu]: longer than %zu bytes",
			                    field, i, max_len);
		if (strlen(json_string_value(e)) != json_string_length(e))
			return ctng_err_set(err, CTNG_EINVAL, "%s[%zu]: contains NUL", field, i);
	}
	*out = v;
	return 0;
}

static int from_json(const json_t *j, ctng_gossip_object *o, ctng_err *err)
{
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "gossip object must be a JSON object");
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)j, key, val)
	{
		bool known = false;
		for (size_t i = 0; i < N_FIELDS; i++)
			known = known || strcmp(key, field_names[i]) == 0;
		if (!known)
			return ctng_err_set(err, CTNG_EINVAL, "unknown field \"%.40s\"", key);
	}
	const char *s;
	int rc;
	if ((rc = get_string(j, "application", 16, &s, err)))
		return rc;
	if (strcmp(s, CTNG_APPLICATION) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "application: must be \"CTng\"");
	if ((rc = get_string(j, "type", 64, &s, err)))
		return rc;
	if ((o->type = ctng_type_from_uri(s)) == CTNG_TYPE_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "type: unknown type URI \"%.64s\"", s);
	if ((rc = get_string(j, "period", 20, &s, err)))
		return rc;
	if ((rc = ctng_parse_period(s, &o->period, err)))
		return ctng_err_wrap(err, "period");
	if ((rc = get_string(j, "signer", CTNG_ID_MAX, &s, err)))
		return rc;
	if (s[0] && !ctng_id_valid(s))
		return ctng_err_set(err, CTNG_EINVAL, "signer: not a valid entity id");
	memcpy(o->signer, s, strlen(s) + 1);
	json_t *arr;
	if ((rc = get_str_array(j, "signers", 0, CTNG_GOSSIP_MAX_SIGNERS, CTNG_ID_MAX, &arr, err)))
		return rc;
	size_t n = json_array_size(arr);
	if (n) {
		o->signers = calloc(n, sizeof(char *));
		if (!o->signers)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		o->n_signers = n;
		for (size_t i = 0; i < n; i++)
			if (!(o->signers[i] = strdup(json_string_value(json_array_get(arr, i)))))
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if ((rc = get_string(j, "timestamp", 40, &s, err)))
		return rc;
	if ((rc = ctng_rfc3339_parse(s, &o->timestamp_ms, err)))
		return ctng_err_wrap(err, "timestamp");
	if ((rc = get_str_array(j, "signature", 2, 2, CTNG_GOSSIP_SIG_MAX, &arr, err)))
		return rc;
	for (int i = 0; i < 2; i++)
		if ((rc = ctng_gossip_set(&o->signature[i],
		                          json_string_value(json_array_get(arr, (size_t)i)), err)))
			return rc;
	if ((rc = get_string(j, "crypto_scheme", 16, &s, err)))
		return rc;
	if ((o->scheme = ctng_scheme_from_name(s)) == CTNG_SCHEME_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "crypto_scheme: unknown \"%.16s\"", s);
	if ((rc = get_str_array(j, "payload", 3, 3, CTNG_GOSSIP_PAYLOAD_MAX, &arr, err)))
		return rc;
	for (int i = 0; i < 3; i++)
		if ((rc = ctng_gossip_set(&o->payload[i],
		                          json_string_value(json_array_get(arr, (size_t)i)), err)))
			return rc;
	return ctng_gossip_check(o, err);
}

int ctng_gossip_from_json(const struct json_t *j, ctng_gossip_object *out, ctng_err *err)
{
	ctng_gossip_clear(out);
	int rc = from_json(j, out, err);
	if (rc)
		ctng_gossip_clear(out);
	if (rc && rc != CTNG_ENOMEM) { /* e.g. ERANGE from a number parser */
		rc = CTNG_EINVAL;
		if (err)
			err->code = rc;
	}
	return rc;
}

int ctng_gossip_decode(const char *json, size_t len, ctng_gossip_object *out, ctng_err *err)
{
	ctng_gossip_clear(out);
	if (!json || len == 0)
		return ctng_err_set(err, CTNG_EINVAL, "empty gossip object");
	if (len > CTNG_GOSSIP_JSON_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "gossip object larger than %u bytes",
		                    CTNG_GOSSIP_JSON_MAX);
	json_error_t jerr;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "invalid JSON at line %d column %d: %s",
		                    jerr.line, jerr.column, jerr.text);
	int rc = ctng_gossip_from_json(j, out, err);
	json_decref(j);
	return rc;
}

static int add(json_t *obj, const char *k, json_t *v)
{
	if (!v)
		return -1;
	return json_object_set_new(obj, k, v);
}

int ctng_gossip_to_json(const ctng_gossip_object *o, struct json_t **out, ctng_err *err)
{
	*out = NULL;
	int rc = ctng_gossip_check(o, err);
	if (rc)
		return rc;
	char period[24], ts[CTNG_RFC3339_LEN];
	snprintf(period, sizeof(period), "%llu", (unsigned long long)o->period);
	ctng_rfc3339(ts, o->timestamp_ms);
	json_t *j = json_object();
	json_t *signers = json_array(), *sig = json_array(), *pay = json_array();
	int bad = !j || !signers || !sig || !pay;
	for (size_t i = 0; !bad && i < o->n_signers; i++)
		bad = json_array_append_new(signers, json_string(o->signers[i]));
	for (int i = 0; !bad && i < 2; i++)
		bad = json_array_append_new(sig, json_string(S(o->signature[i])));
	for (int i = 0; !bad && i < 3; i++)
		bad = json_array_append_new(pay, json_string(S(o->payload[i])));
	if (bad) {
		json_decref(j);
		json_decref(signers);
		json_decref(sig);
		json_decref(pay);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	bad = add(j, "application", json_string(CTNG_APPLICATION)) ||
	      add(j, "type", json_string(ctng_type_uri(o->type))) ||
	      add(j, "period", json_string(period)) || add(j, "signer", json_string(o->signer)) ||
	      add(j, "signers", signers) || add(j, "timestamp", json_string(ts)) ||
	      add(j, "signature", sig) ||
	      add(j, "crypto_scheme", json_string(ctng_scheme_name(o->scheme))) ||
	      add(j, "payload", pay);
	if (bad) {
		json_decref(j);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	*out = j;
	return 0;
}

int ctng_gossip_encode(const ctng_gossip_object *o, char **json, size_t *len, ctng_err *err)
{
	*json = NULL;
	json_t *j = NULL;
	int rc = ctng_gossip_to_json(o, &j, err);
	if (rc)
		return rc;
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	*json = s;
	if (len)
		*len = strlen(s);
	return 0;
}

bool ctng_gossip_equal(const ctng_gossip_object *a, const ctng_gossip_object *b)
{
	char *ea = NULL, *eb = NULL;
	bool eq = ctng_gossip_encode(a, &ea, NULL, NULL) == 0 &&
	          ctng_gossip_encode(b, &eb, NULL, NULL) == 0 && strcmp(ea, eb) == 0;
	free(ea);
	free(eb);
	return eq;
}
