/*
 * transcript.c — the public record of a DKG run (docs/dkg.md §5): every
 * message a participant held and the result it computed. Verifying one needs
 * only the network: each message is checked as a participant checks it, the
 * result is recomputed by the same evaluation, and must equal the one
 * written. `ctng network finalize` trusts nothing else.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dkg/dkg_internal.h"

#define TRANSCRIPT_MAX (64u << 20)

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = ctng_hex_strdup(p, n);
	json_t *s = h ? json_string(h) : NULL;
	free(h);
	return s;
}

static json_t *result_json(const ctng_dkg_ctx *c, const ctng_dkg_outcome *o)
{
	json_t *r = json_object(), *com = json_array(), *q = json_array(), *d = json_array(),
	       *pk = json_array();
	if (!r || !com || !q || !d || !pk) {
		json_decref(r);
		json_decref(com);
		json_decref(q);
		json_decref(d);
		json_decref(pk);
		return NULL;
	}
	for (uint32_t k = 0; k < o->threshold; k++)
		json_array_append_new(com, hex_json(o->commitments[k], 96));
	for (size_t i = 0; i < o->n_qualified; i++)
		json_array_append_new(q, json_string(o->qualified[i]));
	for (size_t i = 0; i < o->n_disqualified; i++)
		json_array_append_new(d, json_pack("{s:s, s:s}", "id", o->disqualified[i].id,
		                                   "reason", o->disqualified[i].reason));
	for (size_t i = 0; i < o->n_share_pks && i < c->nr; i++) {
		json_t *e = json_pack("{s:s, s:I}", "id", c->recips[i].id, "bls_id",
		                      (json_int_t)c->recips[i].index);
		if (e)
			json_object_set_new(e, "bls_pk", hex_json(o->share_pks[i], 96));
		json_array_append_new(pk, e);
	}
	json_object_set_new(r, "threshold", json_integer(o->threshold));
	json_object_set_new(r, "group_pk", hex_json(o->group_pk, 96));
	json_object_set_new(r, "commitments", com);
	json_object_set_new(r, "qualified", q);
	json_object_set_new(r, "disqualified", d);
	json_object_set_new(r, "share_pks", pk);
	return r;
}

int dkg_transcript_encode(const dkg_view *v, const ctng_dkg_outcome *o, const char *failure,
                          char **json, size_t *len, ctng_err *err)
{
	const ctng_dkg_ctx *c = v->ctx;
	*json = NULL;
	json_t *t = json_object(), *msgs = json_array();
	int rc = t && msgs ? 0 : CTNG_ENOMEM;
	for (size_t i = 0; !rc && i < v->n_all; i++) {
		json_t *m = json_loadb(v->all[i]->json, v->all[i]->len, 0, NULL);
		if (!m || json_array_append_new(msgs, m))
			rc = CTNG_ENOMEM;
	}
	if (!rc) {
		json_object_set_new(t, "ctng_dkg_transcript", json_integer(1));
		json_object_set_new(t, "session", hex_json(c->session, 32));
		json_object_set_new(t, "network_fingerprint", hex_json(c->net->fingerprint, 32));
		json_object_set_new(t, "messages", msgs);
		msgs = NULL;
		if (o)
			json_object_set_new(t, "result", result_json(c, o));
		else
			json_object_set_new(t, "failure", json_string(failure ? failure : ""));
		*json = json_dumps(t, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		if (!*json)
			rc = CTNG_ENOMEM;
		else if (len)
			*len = strlen(*json);
	}
	json_decref(t);
	json_decref(msgs);
	return rc ? ctng_err_set(err, rc, "out of memory") : 0;
}

static int verify_obj(const ctng_dkg_ctx *c, json_t *j, ctng_dkg_outcome *out, ctng_err *err)
{
	static const char *const keys[] = {"ctng_dkg_transcript",
	                                   "session",
	                                   "network_fingerprint",
	                                   "messages",
	                                   "result",
	                                   "failure",
	                                   NULL};
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "transcript: not a JSON object");
	const char *k;
	json_t *val;
	json_object_foreach(j, k, val)
	{
		bool ok = false;
		for (size_t i = 0; keys[i] && !ok; i++)
			ok = strcmp(keys[i], k) == 0;
		if (!ok)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "transcript: unknown member \"%.40s\"", k);
	}
	json_t *ver = json_object_get(j, "ctng_dkg_transcript");
	if (!json_is_integer(ver) || json_integer_value(ver) != 1)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "transcript: \"ctng_dkg_transcript\" must be 1");
	char sess[65];
	ctng_hex_encode(sess, c->session, 32);
	const char *s = json_string_value(json_object_get(j, "session"));
	if (!s || strcmp(s, sess) != 0)
		return ctng_err_set(
		    err, CTNG_EVERIFY,
		    "transcript: its session is not this network's (another network "
		    "file or another run)");
	json_t *msgs = json_object_get(j, "messages");
	size_t limit = c->nd * DKG_DEAL_VERSIONS + c->nr * DKG_RESP_VERSIONS +
	               c->nd * c->nr * DKG_JUST_VERSIONS;
	if (!json_is_array(msgs) || json_array_size(msgs) > limit)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "transcript: \"messages\" must be an array of "
		                    "at most %zu messages",
		                    limit);
	json_t *res = json_object_get(j, "result");
	if (!res) {
		const char *f = json_string_value(json_object_get(j, "failure"));
		return ctng_err_set(err, CTNG_EVERIFY, "transcript: the run failed: %.160s",
		                    f ? f : "(no reason)");
	}
	dkg_view v;
	int rc = dkg_view_init(&v, c, err);
	if (rc)
		return rc;
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m)
	{
		char *txt = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
		dkg_held *h = NULL;
		bool conflict;
		if (!txt)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else if ((rc = dkg_held_new(c, txt, strlen(txt), &h, err)))
			ctng_err_wrap(err, "transcript: message %zu", i);
		else if ((rc = dkg_view_add(&v, h, &conflict, err)) != CTNG_DKG_NEW) {
			dkg_held_free(h);
			if (rc == CTNG_DKG_DUPLICATE)
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "transcript: message %zu is listed twice", i);
		} else {
			rc = 0;
		}
		free(txt);
		if (rc)
			break;
	}
	bool *qual = rc ? NULL : calloc(c->nd ? c->nd : 1, sizeof *qual);
	if (!rc && !qual)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc && (rc = dkg_view_evaluate(&v, out, qual, err)))
		ctng_err_wrap(err, "transcript");
	if (!rc) {
		json_t *mine = result_json(c, out);
		if (!mine)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else if (!json_equal(mine, res))
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "transcript: its stated result is not what its messages "
			                  "give");
		json_decref(mine);
	}
	if (rc)
		ctng_dkg_outcome_free(out);
	free(qual);
	dkg_view_free(&v);
	return rc;
}

int ctng_dkg_transcript_verify_net(const ctng_network *net, const char *json, size_t len,
                                   ctng_dkg_outcome *out, ctng_err *err)
{
	memset(out, 0, sizeof *out);
	if (!json || len == 0 || len > TRANSCRIPT_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "transcript: empty or too large");
	ctng_dkg_ctx *c = NULL;
	int rc = ctng_dkg_ctx_new(net, &c, err);
	if (rc)
		return rc;
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		rc = ctng_err_set(err, CTNG_EINVAL, "transcript: malformed JSON at line %d: %s",
		                  je.line, je.text);
	else
		rc = verify_obj(c, j, out, err);
	json_decref(j);
	ctng_dkg_ctx_free(c);
	return rc;
}

int ctng_dkg_transcript_verify(const char *network_json, size_t network_len, const char *json,
                               size_t len, ctng_dkg_outcome *out, ctng_err *err)
{
	memset(out, 0, sizeof *out);
	ctng_network net;
	int rc = ctng_network_parse(network_json, network_len, &net, err);
	if (rc)
		return ctng_err_wrap(err, "network");
	rc = ctng_dkg_transcript_verify_net(&net, json, len, out, err);
	ctng_network_free(&net);
	return rc;
}
