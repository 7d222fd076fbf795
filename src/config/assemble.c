/*
 * assemble.c — writing network.json from parts: `ctng network assemble`
 * (public descriptors made by `ctng keygen`, checked strictly, ordered,
 * topology completed, no group key yet) and filling in BLS keys once a DKG
 * (or a dealer) produced them (docs/config.md §5-6).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "ctng/bls.h"

/* ------------------------------------------------------------- ordering */

static int role_rank(const char *role)
{
	ctng_role r = ctng_role_from_name(role);
	return r == CTNG_ROLE_NONE ? 99 : (int)r;
}

/* "logger2" < "logger10": digit runs compare as numbers. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			size_t la = 0, lb = 0;
			while (isdigit((unsigned char)a[la]))
				la++;
			while (isdigit((unsigned char)b[lb]))
				lb++;
			if (la != lb)
				return la < lb ? -1 : 1;
			int c = strncmp(a, b, la);
			if (c)
				return c;
			a += la;
			b += lb;
		} else {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++;
			b++;
		}
	}
	return *a ? 1 : *b ? -1 : 0;
}

static int entity_cmp(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	int ra = role_rank(json_string_value(json_object_get(a, "role")));
	int rb = role_rank(json_string_value(json_object_get(b, "role")));
	if (ra != rb)
		return ra < rb ? -1 : 1;
	return natural_cmp(json_string_value(json_object_get(a, "id")),
	                   json_string_value(json_object_get(b, "id")));
}

/* ----------------------------------------------------------- descriptors */

/* Checks one descriptor's shape (values are checked when the assembled
 * network is parsed). */
static int check_descriptor(const json_t *d, size_t idx, ctng_err *err)
{
	static const char *const k_logger[] = {"id", "role", "url", "public_key", "note_key", NULL};
	static const char *const k_ca[] = {"id", "role", "url", "public_key", "root_cert", NULL};
	static const char *const k_monitor[] = {"id",      "role", "url",      "public_key",
	                                        "loggers", "cas",  "gossiper", NULL};
	static const char *const k_gossiper[] = {"id",      "role",    "url",   "public_key",
	                                         "dkg_key", "monitor", "peers", NULL};
	char where[96];
	snprintf(where, sizeof where, "descriptor %zu", idx + 1);
	if (!json_is_object(d))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a JSON object", where);
	const char *id, *role;
	int rc;
	if ((rc = cfg_get_str(d, where, "id", CTNG_ID_MAX, &id, err)))
		return rc;
	if (!ctng_id_valid(id))
		return ctng_err_set(err, CTNG_EINVAL, "%s: invalid id \"%s\"", where, id);
	snprintf(where, sizeof where, "descriptor %s", id);
	if ((rc = cfg_get_str(d, where, "role", 16, &role, err)))
		return rc;
	if (json_object_get(d, "bls_id") || json_object_get(d, "bls_pk"))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "%s: carries share keys (bls_id/bls_pk); descriptors come from "
		                    "ctng keygen and shares from the DKG",
		                    where);
	ctng_role r = ctng_role_from_name(role);
	const char *const *keys = r == CTNG_ROLE_LOGGER     ? k_logger
	                          : r == CTNG_ROLE_CA       ? k_ca
	                          : r == CTNG_ROLE_MONITOR  ? k_monitor
	                          : r == CTNG_ROLE_GOSSIPER ? k_gossiper
	                                                    : NULL;
	if (!keys)
		return ctng_err_set(err, CTNG_EINVAL, "%s: unknown role \"%.16s\"", where, role);
	if ((rc = cfg_check_keys(d, where, keys, err)))
		return rc;
	const char *s;
	/* url is compared across descriptors before the network is parsed */
	if ((rc = cfg_get_str(d, where, "url", CTNG_URL_MAX, &s, err)) ||
	    (rc = cfg_get_str(d, where, "public_key", CTNG_SIG_PEM_MAX, &s, err)))
		return rc;
	if (r == CTNG_ROLE_GOSSIPER && (rc = cfg_get_str(d, where, "dkg_key", 64, &s, err)))
		return ctng_err_wrap(err, "(a gossiper needs its DKG transport key)");
	return 0;
}

/* ------------------------------------------------------------- topology */

/* The loggers (or CAs) that monitor m (1-based) watches, out of `total`:
 * the DESIGN §9 table for 3 loggers/CAs, else m and m+1 modulo total. */
static size_t watched(size_t m, size_t total, bool ca, size_t out[2])
{
	if (total == 3) {
		bool odd = m % 2 == 1;
		out[0] = odd ? 1 : 2;
		out[1] = ca ? 3 : odd ? 2 : 3;
		return 2;
	}
	out[0] = (m - 1) % total + 1;
	out[1] = m % total + 1;
	return out[0] == out[1] ? 1 : 2;
}

static const char *id_of(json_t *e)
{
	return json_string_value(json_object_get(e, "id"));
}

/* Ids of ents[] with role r (borrowed), in order. */
static size_t by_role(json_t **ents, size_t n, ctng_role r, json_t **out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (ctng_role_from_name(json_string_value(json_object_get(ents[i], "role"))) == r)
			out[k++] = ents[i];
	return k;
}

static json_t *pick(json_t **list, const size_t *idx, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(id_of(list[idx[i] - 1])));
	return a;
}

/* Pairs monitors and gossipers (explicit choices first, then in order),
 * fills default watch lists and peers. */
static int complete_topology(json_t **ents, size_t n, ctng_err *err)
{
	json_t **lg = calloc(n, sizeof *lg), **ca = calloc(n, sizeof *ca),
	       **mo = calloc(n, sizeof *mo), **go = calloc(n, sizeof *go);
	int rc = 0;
	if (!lg || !ca || !mo || !go) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	size_t nl = by_role(ents, n, CTNG_ROLE_LOGGER, lg), nc = by_role(ents, n, CTNG_ROLE_CA, ca);
	size_t nm = by_role(ents, n, CTNG_ROLE_MONITOR, mo),
	       ng = by_role(ents, n, CTNG_ROLE_GOSSIPER, go);
	if (nm != ng) {
		rc = ctng_err_set(
		    err, CTNG_EINVAL,
		    "%zu monitors but %zu gossipers: every monitor needs one gossiper", nm, ng);
		goto out;
	}
	/* explicit pairings, from either side; they must agree */
	for (size_t i = 0; i < nm; i++) {
		const char *g = json_string_value(json_object_get(mo[i], "gossiper"));
		for (size_t k = 0; g && k < ng; k++) {
			if (strcmp(id_of(go[k]), g) != 0)
				continue;
			const char *back = json_string_value(json_object_get(go[k], "monitor"));
			if (back && strcmp(back, id_of(mo[i])) != 0) {
				rc = ctng_err_set(
				    err, CTNG_EINVAL,
				    "monitor %s names gossiper %s, which names monitor %s",
				    id_of(mo[i]), g, back);
				goto out;
			}
			json_object_set_new(go[k], "monitor", json_string(id_of(mo[i])));
		}
	}
	for (size_t k = 0; k < ng; k++) {
		const char *m = json_string_value(json_object_get(go[k], "monitor"));
		for (size_t i = 0; m && i < nm; i++) {
			if (strcmp(id_of(mo[i]), m) != 0)
				continue;
			const char *back = json_string_value(json_object_get(mo[i], "gossiper"));
			if (back && strcmp(back, id_of(go[k])) != 0) {
				rc = ctng_err_set(
				    err, CTNG_EINVAL,
				    "gossiper %s names monitor %s, which names gossiper %s",
				    id_of(go[k]), m, back);
				goto out;
			}
			json_object_set_new(mo[i], "gossiper", json_string(id_of(go[k])));
		}
	}
	/* the rest in order */
	size_t gk = 0;
	for (size_t i = 0; i < nm; i++) {
		if (json_object_get(mo[i], "gossiper"))
			continue;
		while (gk < ng && json_object_get(go[gk], "monitor"))
			gk++;
		if (gk == ng)
			break;
		json_object_set_new(mo[i], "gossiper", json_string(id_of(go[gk])));
		json_object_set_new(go[gk], "monitor", json_string(id_of(mo[i])));
	}
	for (size_t i = 0; i < nm; i++) {
		size_t w[2], c;
		if (!json_object_get(mo[i], "loggers") && nl) {
			c = watched(i + 1, nl, false, w);
			json_object_set_new(mo[i], "loggers", pick(lg, w, c));
		} else if (!json_object_get(mo[i], "loggers")) {
			json_object_set_new(mo[i], "loggers", json_array());
		}
		if (!json_object_get(mo[i], "cas") && nc) {
			c = watched(i + 1, nc, true, w);
			json_object_set_new(mo[i], "cas", pick(ca, w, c));
		} else if (!json_object_get(mo[i], "cas")) {
			json_object_set_new(mo[i], "cas", json_array());
		}
	}
	for (size_t k = 0; k < ng; k++) {
		json_object_set_new(go[k], "bls_id", json_integer((json_int_t)(k + 1)));
		json_object_set_new(go[k], "bls_pk", json_string(""));
		if (json_object_get(go[k], "peers"))
			continue;
		json_t *p = json_array();
		for (size_t q = 0; p && q < ng; q++)
			if (q != k)
				json_array_append_new(p, json_string(id_of(go[q])));
		json_object_set_new(go[k], "peers", p);
	}
out:
	free(lg);
	free(ca);
	free(mo);
	free(go);
	return rc;
}

/* --------------------------------------------------------------- output */

static json_t *reshare_json(const ctng_network *old)
{
	char fp[65], *gpk = ctng_hex_strdup(old->group_pk, CTNG_BLS_PK_LEN);
	ctng_hex_encode(fp, old->fingerprint, 32);
	json_t *h = json_array();
	for (size_t i = 0; h && i < old->n_entities; i++) {
		const ctng_entity *e = &old->entities[i];
		if (e->role != CTNG_ROLE_GOSSIPER)
			continue;
		char *pk = ctng_hex_strdup(e->bls_pk, CTNG_BLS_PK_LEN);
		json_array_append_new(h, json_pack("{s:s, s:I, s:s}", "id", e->id, "bls_id",
		                                   (json_int_t)e->bls_id, "bls_pk", pk ? pk : ""));
		free(pk);
	}
	json_t *r = json_pack("{s:s, s:I, s:s, s:o}", "fingerprint", fp, "threshold",
	                      (json_int_t)old->threshold, "group_pk", gpk ? gpk : "", "holders",
	                      h ? h : json_array());
	free(gpk);
	return r;
}

static int dump(const json_t *j, char **out, size_t *out_len, ctng_err *err)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*out = t;
	if (out_len)
		*out_len = n + 1;
	return 0;
}

/* Parses the text as a network (all of ctng_network_parse's checks). */
static int validate(const char *txt, size_t len, ctng_err *err)
{
	ctng_network net;
	int rc = ctng_network_parse(txt, len, &net, err);
	if (rc == 0)
		ctng_network_free(&net);
	return rc;
}

int ctng_network_assemble(const char *const *descriptors, const size_t *lens, size_t n,
                          const ctng_assemble_opts *o, char **out, size_t *out_len, ctng_err *err)
{
	*out = NULL;
	if (n == 0 || n > CTNG_CONFIG_MAX_ENTITIES)
		return ctng_err_set(err, CTNG_EINVAL, "assemble: need 1..%d descriptors",
		                    CTNG_CONFIG_MAX_ENTITIES);
	if (o->period_ms < 100 || o->period_ms > (uint64_t)1 << 40)
		return ctng_err_set(err, CTNG_EINVAL, "period must be between 100 ms and 2^40 ms");
	if (o->reshare_from && !o->reshare_from->has_bls)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "assemble: the network to reshare from has no group key");
	json_t **ents = calloc(n, sizeof *ents);
	json_t *net = NULL;
	int rc = ents ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		if ((rc = cfg_load_json(descriptors[i], lens[i], &ents[i], err)))
			ctng_err_wrap(err, "descriptor %zu", i + 1);
		else
			rc = check_descriptor(ents[i], i, err);
	}
	if (rc)
		goto out;
	qsort(ents, n, sizeof *ents, entity_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(id_of(ents[i]), id_of(ents[i - 1])) == 0) {
			rc = ctng_err_set(err, CTNG_EINVAL, "two descriptors for id \"%s\"",
			                  id_of(ents[i]));
			goto out;
		}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(json_string_value(json_object_get(ents[i], "url")),
			           json_string_value(json_object_get(ents[k], "url"))) == 0) {
				rc = ctng_err_set(
				    err, CTNG_EINVAL, "%s and %s both use url %s", id_of(ents[k]),
				    id_of(ents[i]),
				    json_string_value(json_object_get(ents[i], "url")));
				goto out;
			}
	if ((rc = complete_topology(ents, n, err)))
		goto out;
	uint64_t p = o->period_ms;
	uint64_t g = o->genesis_ms ? o->genesis_ms : ctng_now_ms() / 1000 * 1000;
	net = json_object();
	json_t *arr = json_array();
	if (!net || !arr) {
		json_decref(arr);
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(net, "version", json_integer(1));
	json_object_set_new(net, "genesis_ms", json_integer((json_int_t)g));
	json_object_set_new(net, "period_ms", json_integer((json_int_t)p));
	json_object_set_new(
	    net, "query_offset_ms",
	    json_integer((json_int_t)(o->query_offset_ms ? o->query_offset_ms : p / 10)));
	json_object_set_new(
	    net, "gossip_wait_ms",
	    json_integer((json_int_t)(o->gossip_wait_ms ? o->gossip_wait_ms : p / 5)));
	json_object_set_new(
	    net, "update_offset_ms",
	    json_integer((json_int_t)(o->update_offset_ms ? o->update_offset_ms : p * 8 / 10)));
	json_object_set_new(net, "threshold", json_integer(o->threshold));
	json_object_set_new(
	    net, "dkg_phase_ms",
	    json_integer(
	        (json_int_t)(o->dkg_phase_ms ? o->dkg_phase_ms : CTNG_DKG_DEFAULT_PHASE_MS)));
	json_object_set_new(net, "group_pk", json_string(""));
	json_object_set_new(net, "commitments", json_array());
	if (o->reshare_from)
		json_object_set_new(net, "reshare", reshare_json(o->reshare_from));
	for (size_t i = 0; i < n; i++) {
		json_array_append(arr, ents[i]);
	}
	json_object_set_new(net, "entities", arr);
	size_t len = 0;
	if ((rc = dump(net, out, &len, err)))
		goto out;
	if ((rc = validate(*out, len, err))) {
		free(*out);
		*out = NULL;
		goto out;
	}
	if (out_len)
		*out_len = len;
out:
	for (size_t i = 0; ents && i < n; i++)
		json_decref(ents[i]);
	free(ents);
	json_decref(net);
	return rc;
}

/* ------------------------------------------------------------- BLS keys */

int ctng_network_json_set_bls(const char *json, size_t len, const uint8_t group_pk[96],
                              const uint8_t (*commitments)[96], size_t n_commitments, char **out,
                              size_t *out_len, ctng_err *err)
{
	*out = NULL;
	ctng_network net;
	int rc = ctng_network_parse(json, len, &net, err);
	if (rc)
		return rc;
	json_t *j = NULL;
	uint8_t(*pks)[96] = calloc(net.n_entities, 96);
	if (!pks) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto done;
	}
	if (net.has_bls) {
		rc = ctng_err_set(err, CTNG_ESTATE, "network.json already has a group key");
		goto done;
	}
	if ((rc = cfg_share_pks(&net, group_pk, commitments, n_commitments, pks, err)) ||
	    (rc = cfg_load_json(json, len, &j, err)))
		goto done;
	char *h = ctng_hex_strdup(group_pk, 96);
	json_t *com = json_array();
	for (size_t i = 0; com && i < n_commitments; i++) {
		char *c = ctng_hex_strdup(commitments[i], 96);
		json_array_append_new(com, json_string(c ? c : ""));
		free(c);
	}
	json_object_set_new(j, "group_pk", json_string(h ? h : ""));
	json_object_set_new(j, "commitments", com ? com : json_array());
	free(h);
	json_t *ents = json_object_get(j, "entities");
	for (size_t i = 0; i < net.n_entities; i++) {
		if (net.entities[i].role != CTNG_ROLE_GOSSIPER)
			continue;
		char *pk = ctng_hex_strdup(pks[i], 96);
		json_object_set_new(json_array_get(ents, i), "bls_pk", json_string(pk ? pk : ""));
		free(pk);
	}
	size_t n = 0;
	if ((rc = dump(j, out, &n, err)))
		goto done;
	if ((rc = validate(*out, n, err))) {
		free(*out);
		*out = NULL;
		goto done;
	}
	if (out_len)
		*out_len = n;
done:
	free(pks);
	json_decref(j);
	ctng_network_free(&net);
	return rc;
}
