/*
 * ridcon.c — the RID CON (docs/protocol.md §5.2): the proof that a CA gave
 * two different certificates one revocation id. A CON (family CON, so it
 * travels, is CON_FRAG-signed and becomes a permanent CON_FULL) whose
 * payload[2] is the evidence, canonical compact JSON:
 *   {"kind":"rid-reuse","rid":N,"certs":["b64 DER","b64 DER"]}
 * with two CA-signed (pre)certificates in ascending byte order. This file
 * holds what needs no X.509: the codec, the structure rules and the
 * builder; the certificates themselves are checked by the cert module
 * (ctng_rid_con_verify), which proto does not link.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_internal.h"

#define S(x) ctng_gossip_str(x)

bool ctng_con_is_rid(const ctng_gossip_object *con)
{
	static const char lead[] = "{\"kind\":\"" CTNG_RID_CON_KIND "\"";
	return con && con->type == CTNG_CON &&
	       strncmp(S(con->payload[2]), lead, sizeof lead - 1) == 0;
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static int encode_evidence(uint32_t rid, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                           char **out, ctng_err *err)
{
	*out = NULL;
	char *sa = ctng_b64_strdup(a, an), *sb = ctng_b64_strdup(b, bn);
	json_t *j = sa && sb ? json_pack("{s:s,s:I,s:[s,s]}", "kind", CTNG_RID_CON_KIND, "rid",
	                                 (json_int_t)rid, "certs", sa, sb)
	                     : NULL;
	free(sa);
	free(sb);
	if (j)
		*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_rid_con_parts(const ctng_gossip_object *con, uint32_t *rid, uint8_t **a, size_t *an,
                       uint8_t **b, size_t *bn, ctng_err *err)
{
	*a = *b = NULL;
	*an = *bn = 0;
	const char *text = S(con->payload[2]);
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "payload[2]: bad JSON: %s", je.text);
	int rc = CTNG_EINVAL;
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_t *jr = json_object_get(j, "rid"), *certs = json_object_get(j, "certs");
	uint8_t *d[2] = {NULL, NULL};
	size_t dn[2] = {0, 0};
	char *canon = NULL;
	if (!json_is_object(j) || json_object_size(j) != 3 || !kind || !jr || !certs) {
		ctng_err_set(err, rc, "payload[2]: must have exactly kind, rid, certs");
		goto out;
	}
	if (strcmp(kind, CTNG_RID_CON_KIND) != 0) {
		ctng_err_set(err, rc, "payload[2]: unknown kind");
		goto out;
	}
	if (!json_is_integer(jr) || json_integer_value(jr) < 0 ||
	    json_integer_value(jr) > (json_int_t)UINT32_MAX) {
		ctng_err_set(err, rc, "payload[2] rid: an integer 0..4294967295");
		goto out;
	}
	if (!json_is_array(certs) || json_array_size(certs) != 2) {
		ctng_err_set(err, rc, "payload[2] certs: exactly two certificates");
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		json_t *c = json_array_get(certs, (size_t)i);
		const char *s = json_string_value(c);
		if (!s || json_string_length(c) == 0 ||
		    json_string_length(c) > ctng_b64_encoded_len(CTNG_RID_CON_CERT_MAX) ||
		    ctng_b64_decode_alloc(s, json_string_length(c), &d[i], &dn[i], NULL) ||
		    dn[i] == 0 || dn[i] > CTNG_RID_CON_CERT_MAX) {
			ctng_err_set(err, rc, "payload[2] certs[%d]: base64 of 1..%u bytes", i,
			             CTNG_RID_CON_CERT_MAX);
			goto out;
		}
	}
	if (cmp_bytes(d[0], dn[0], d[1], dn[1]) >= 0) {
		ctng_err_set(err, rc, "payload[2] certs: two distinct certificates in ascending order");
		goto out;
	}
	*rid = (uint32_t)json_integer_value(jr);
	if ((rc = encode_evidence(*rid, d[0], dn[0], d[1], dn[1], &canon, err)))
		goto out;
	if (strcmp(canon, text) != 0) {
		rc = ctng_err_set(err, CTNG_EINVAL, "payload[2]: RID CON evidence not canonical JSON");
		goto out;
	}
	*a = d[0];
	*an = dn[0];
	*b = d[1];
	*bn = dn[1];
	d[0] = d[1] = NULL;
	rc = 0;
out:
	free(canon);
	free(d[0]);
	free(d[1]);
	json_decref(j);
	return rc;
}

int ctng_rid_con_check(const ctng_gossip_object *con, ctng_err *err)
{
	if (!ctng_con_is_rid(con))
		return ctng_err_set(err, CTNG_EINVAL, "payload[2]: not RID-CON evidence");
	if (S(con->payload[1])[0])
		return ctng_err_set(err, CTNG_EINVAL, "payload[1]: must be empty in a RID CON");
	uint32_t rid;
	uint8_t *a, *b;
	size_t an, bn;
	int rc = ctng_rid_con_parts(con, &rid, &a, &an, &b, &bn, err);
	free(a);
	free(b);
	return rc;
}

int ctng_rid_con_build(ctng_gossip_object *out, const char *ca_id, enum ctng_scheme scheme,
                       uint64_t period, uint32_t rid, const uint8_t *a, size_t an,
                       const uint8_t *b, size_t bn, uint64_t now_ms, ctng_err *err)
{
	ctng_gossip_clear(out);
	if (!a || !b || !an || !bn || an > CTNG_RID_CON_CERT_MAX || bn > CTNG_RID_CON_CERT_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "RID CON: two certificates of 1..%u bytes",
		                    CTNG_RID_CON_CERT_MAX);
	int c = cmp_bytes(a, an, b, bn);
	if (c == 0)
		return ctng_err_set(err, CTNG_EINVAL, "RID CON: the two certificates are the same");
	if (c > 0) { /* canonical order: every builder makes the same payload */
		const uint8_t *t = a;
		size_t tn = an;
		a = b;
		an = bn;
		b = t;
		bn = tn;
	}
	char *p2 = NULL;
	int rc = encode_evidence(rid, a, an, b, bn, &p2, err);
	if (rc)
		return rc;
	out->type = CTNG_CON;
	out->period = period;
	out->timestamp_ms = now_ms / 1000 * 1000;
	out->scheme = scheme;
	out->payload[2] = p2;
	if (!(rc = ctng_gossip_set(&out->payload[0], ca_id, err)))
		rc = ctng_gossip_check(out, err);
	if (rc)
		ctng_gossip_clear(out);
	return rc;
}
