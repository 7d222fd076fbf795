/*
 * network.c — parsing and validation of the public network.json
 * (docs/config.md §2) and the lookup helpers of ctng/config.h.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "ctng/bls.h"
#include "ctng/note.h"

const char *ctng_role_name(ctng_role r)
{
	switch (r) {
	case CTNG_ROLE_LOGGER:
		return "logger";
	case CTNG_ROLE_CA:
		return "ca";
	case CTNG_ROLE_MONITOR:
		return "monitor";
	case CTNG_ROLE_GOSSIPER:
		return "gossiper";
	default:
		return NULL;
	}
}

ctng_role ctng_role_from_name(const char *s)
{
	for (int r = CTNG_ROLE_LOGGER; r <= CTNG_ROLE_GOSSIPER; r++)
		if (s && strcmp(s, ctng_role_name((ctng_role)r)) == 0)
			return (ctng_role)r;
	return CTNG_ROLE_NONE;
}

/* ------------------------------------------------------ json helpers */

int cfg_check_keys(const json_t *obj, const char *where, const char *const *allowed, ctng_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok)
			return ctng_err_set(err, CTNG_EINVAL, "%s: unknown field \"%.40s\"", where,
			                    key);
	}
	return 0;
}

int cfg_get_u64(const json_t *obj, const char *where, const char *key, uint64_t max, uint64_t *out,
                ctng_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "%s: missing field \"%s\"", where, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"%s\" must be an integer in 0..%llu",
		                    where, key, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int cfg_get_str(const json_t *obj, const char *where, const char *key, size_t max, const char **out,
                ctng_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "%s: missing field \"%s\"", where, key);
	if (!json_is_string(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"%s\" must be a string", where, key);
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"%s\" too long or contains NUL", where,
		                    key);
	*out = json_string_value(v);
	return 0;
}

/* Array of entity ids -> owned char** (ids syntactically valid, no duplicates). */
static int get_id_list(const json_t *obj, const char *where, const char *key, char ***out,
                       size_t *n, ctng_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "%s: missing field \"%s\"", where, key);
	if (!json_is_array(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"%s\" must be an array of ids", where,
		                    key);
	size_t cnt = json_array_size(v);
	if (cnt > CTNG_CONFIG_MAX_ENTITIES)
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"%s\" too long", where, key);
	*out = cnt ? calloc(cnt, sizeof(char *)) : NULL;
	if (cnt && !*out)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	*n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		json_t *e = json_array_get(v, i);
		if (!json_is_string(e) || !ctng_id_valid(json_string_value(e)))
			return ctng_err_set(err, CTNG_EINVAL, "%s: %s[%zu] is not a valid id",
			                    where, key, i);
		for (size_t j = 0; j < i; j++)
			if (strcmp((*out)[j], json_string_value(e)) == 0)
				return ctng_err_set(err, CTNG_EINVAL, "%s: %s lists \"%s\" twice",
				                    where, key, (*out)[j]);
		if (!((*out)[i] = strdup(json_string_value(e))))
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	return 0;
}

/* ----------------------------------------------------------------- URLs */

int cfg_parse_hostport(const char *s, char host[CTNG_HOST_MAX], uint16_t *port, ctng_err *err)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return ctng_err_set(err, CTNG_EINVAL, "\"%.80s\" is not HOST:PORT", s);
	size_t hl = (size_t)(colon - s);
	if (hl >= CTNG_HOST_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "host name too long in \"%.80s\"", s);
	for (size_t i = 0; i < hl; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return ctng_err_set(err, CTNG_EINVAL, "bad host name in \"%.80s\"", s);
	}
	uint64_t p = 0;
	ctng_err e2 = {0};
	if (ctng_parse_u64(colon + 1, 65535, &p, &e2) || p == 0)
		return ctng_err_set(err, CTNG_EINVAL, "bad port in \"%.80s\"", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

size_t cfg_url_scheme(const char *url, bool *tls)
{
	*tls = false;
	if (!strncmp(url, "http://", 7))
		return 7;
	if (!strncmp(url, "https://", 8)) {
		*tls = true;
		return 8;
	}
	return 0;
}

static int parse_url(const char *url, ctng_entity *e, ctng_err *err)
{
	size_t skip = cfg_url_scheme(url, &e->tls);
	if (strlen(url) >= CTNG_URL_MAX || !skip)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "entity %s: url must be http://HOST:PORT or https://HOST:PORT",
		                    e->id);
	if (cfg_parse_hostport(url + skip, e->host, &e->port, err))
		return ctng_err_wrap(err, "entity %s: url", e->id);
	memcpy(e->url, url, strlen(url) + 1);
	return 0;
}

/* ----------------------------------------------------------------- keys */

int cfg_load_public_key(const char *s, ctng_sig_key **out, ctng_err *err)
{
	if (strncmp(s, "-----BEGIN", 10) == 0)
		return ctng_sig_load_public_pem(s, strlen(s), out, err);
	return ctng_sig_load_public_hex(s, out, err);
}

static int check_root_cert(ctng_entity *e, const char *pem, ctng_err *err)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	if (!bio)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	int rc = 0;
	if (!x)
		rc = ctng_err_set(err, CTNG_EINVAL, "entity %s: root_cert does not parse", e->id);
	else if (EVP_PKEY_eq(X509_get0_pubkey(x), ctng_sig_key_evp(e->key)) != 1)
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "entity %s: root_cert does not hold the CA's public_key", e->id);
	else if (X509_check_ca(x) < 1)
		rc = ctng_err_set(err, CTNG_EINVAL, "entity %s: root_cert is not a CA certificate",
		                  e->id);
	X509_free(x);
	if (!rc && !(e->root_cert_pem = strdup(pem)))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return rc;
}

/* --------------------------------------------------------------- entity */

static int parse_entity(const json_t *j, size_t idx, ctng_entity *e, ctng_err *err)
{
	char where[96];
	snprintf(where, sizeof(where), "entities[%zu]", idx);
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be an object", where);
	const char *s;
	int rc;
	if ((rc = cfg_get_str(j, where, "id", CTNG_ID_MAX, &s, err)))
		return rc;
	if (!ctng_id_valid(s))
		return ctng_err_set(err, CTNG_EINVAL, "%s: invalid id \"%s\"", where, s);
	memcpy(e->id, s, strlen(s) + 1);
	snprintf(where, sizeof(where), "entity %s", e->id);
	if ((rc = cfg_get_str(j, where, "role", 16, &s, err)))
		return rc;
	if ((e->role = ctng_role_from_name(s)) == CTNG_ROLE_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "%s: unknown role \"%.16s\"", where, s);
	if ((rc = cfg_get_str(j, where, "url", CTNG_URL_MAX, &s, err)) ||
	    (rc = parse_url(s, e, err)))
		return rc;

	static const char *const k_logger[] = {"id", "role", "url", "public_key", "note_key", NULL};
	static const char *const k_ca[] = {"id", "role", "url", "public_key", "root_cert", NULL};
	static const char *const k_monitor[] = {"id",      "role", "url",      "public_key",
	                                        "loggers", "cas",  "gossiper", NULL};
	static const char *const k_gossiper[] = {"id",      "role",  "url",     "bls_id",
	                                         "bls_pk",  "peers", "monitor", "public_key",
	                                         "dkg_key", NULL};
	const char *const *keys = e->role == CTNG_ROLE_LOGGER    ? k_logger
	                          : e->role == CTNG_ROLE_CA      ? k_ca
	                          : e->role == CTNG_ROLE_MONITOR ? k_monitor
	                                                         : k_gossiper;
	if ((rc = cfg_check_keys(j, where, keys, err)))
		return rc;

	/* a gossiper's signing key is optional (older dealer-made networks) */
	if (e->role != CTNG_ROLE_GOSSIPER || json_object_get(j, "public_key")) {
		if ((rc = cfg_get_str(j, where, "public_key", CTNG_SIG_PEM_MAX, &s, err)))
			return rc;
		if ((rc = cfg_load_public_key(s, &e->key, err)))
			return ctng_err_wrap(err, "%s: public_key", where);
		if (e->role == CTNG_ROLE_LOGGER && ctng_sig_key_alg(e->key) != CTNG_SIG_ECDSA_P256)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: a logger's public_key must be ECDSA P-256", where);
	}
	if (e->role == CTNG_ROLE_LOGGER && json_object_get(j, "note_key")) {
		char name[CTNG_NOTE_NAME_MAX + 1];
		if ((rc = cfg_get_str(j, where, "note_key", 512, &s, err)))
			return rc;
		if ((rc = ctng_note_vkey_parse(s, name, e->note_key, err)))
			return ctng_err_wrap(err, "%s: note_key", where);
		/* its name must be the origin: checked with the whole network,
		 * after the duplicates */
		e->note_name_ok = strcmp(name, ctng_entity_origin(e)) == 0;
		e->has_note_key = true;
	}
	if (e->role == CTNG_ROLE_CA) {
		if ((rc = cfg_get_str(j, where, "root_cert", CTNG_SIG_PEM_MAX, &s, err)) ||
		    (rc = check_root_cert(e, s, err)))
			return rc;
	}
	if (e->role == CTNG_ROLE_MONITOR) {
		if ((rc = get_id_list(j, where, "loggers", &e->loggers, &e->n_loggers, err)) ||
		    (rc = get_id_list(j, where, "cas", &e->cas, &e->n_cas, err)) ||
		    (rc = cfg_get_str(j, where, "gossiper", CTNG_ID_MAX, &s, err)))
			return rc;
		if (!ctng_id_valid(s))
			return ctng_err_set(err, CTNG_EINVAL, "%s: monitor without a gossiper",
			                    where);
		memcpy(e->gossiper, s, strlen(s) + 1);
	}
	if (e->role == CTNG_ROLE_GOSSIPER) {
		uint64_t id;
		if ((rc = cfg_get_u64(j, where, "bls_id", CTNG_BLS_MAX_SHARES, &id, err)))
			return rc;
		if (id == 0)
			return ctng_err_set(err, CTNG_EINVAL, "%s: bls_id must be >= 1", where);
		e->bls_id = (uint32_t)id;
		if ((rc = cfg_get_str(j, where, "bls_pk", CTNG_BLS_PK_HEX_LEN, &s, err)))
			return rc;
		if (s[0]) {
			if (ctng_hex_decode_exact(e->bls_pk, sizeof(e->bls_pk), s, err))
				return ctng_err_wrap(err, "%s: bls_pk", where);
			e->has_bls_pk = true;
		}
		if (json_object_get(j, "dkg_key")) {
			if ((rc = cfg_get_str(j, where, "dkg_key", 64, &s, err)))
				return rc;
			if (ctng_hex_decode_exact(e->dkg_key, sizeof(e->dkg_key), s, err))
				return ctng_err_wrap(err, "%s: dkg_key", where);
			e->has_dkg_key = true;
		}
		if ((rc = get_id_list(j, where, "peers", &e->peers, &e->n_peers, err)) ||
		    (rc = cfg_get_str(j, where, "monitor", CTNG_ID_MAX, &s, err)))
			return rc;
		if (!ctng_id_valid(s))
			return ctng_err_set(err, CTNG_EINVAL, "%s: gossiper without a monitor",
			                    where);
		memcpy(e->monitor, s, strlen(s) + 1);
	}
	return 0;
}

const char *ctng_entity_origin(const ctng_entity *e)
{
	const char *p = strstr(e->url, "://");
	return p ? p + 3 : e->url;
}

static void entity_free(ctng_entity *e)
{
	ctng_sig_key_free(e->key);
	free(e->root_cert_pem);
	for (size_t i = 0; i < e->n_loggers; i++)
		free(e->loggers[i]);
	for (size_t i = 0; i < e->n_cas; i++)
		free(e->cas[i]);
	for (size_t i = 0; i < e->n_peers; i++)
		free(e->peers[i]);
	free(e->loggers);
	free(e->cas);
	free(e->peers);
	free(e->peer_idx);
	memset(e, 0, sizeof(*e));
}

void ctng_network_free(ctng_network *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->n_entities; i++)
		entity_free(&net->entities[i]);
	free(net->entities);
	free(net->commitments);
	free(net->reshare.holders);
	free(net->by_id);
	memset(net, 0, sizeof(*net));
}

/* ------------------------------------------------------ cross-checks */

static int need_ref(const ctng_network *net, const char *who, const char *field, const char *id,
                    ctng_role role, ctng_err *err)
{
	const ctng_entity *t = ctng_network_entity(net, id);
	if (!t)
		return ctng_err_set(err, CTNG_EINVAL, "entity %s: %s refers to unknown id \"%s\"",
		                    who, field, id);
	if (t->role != role)
		return ctng_err_set(err, CTNG_EINVAL, "entity %s: %s \"%s\" is not a %s", who,
		                    field, id, ctng_role_name(role));
	return 0;
}

static int cross_check(ctng_network *net, ctng_err *err)
{
	int rc;
	size_t n_goss = ctng_network_count(net, CTNG_ROLE_GOSSIPER);
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		for (size_t j = 0; j < i; j++) {
			const ctng_entity *f = &net->entities[j];
			if (strcmp(e->id, f->id) == 0)
				return ctng_err_set(err, CTNG_EINVAL, "duplicate entity id \"%s\"",
				                    e->id);
			if (e->port == f->port && strcmp(e->host, f->host) == 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "duplicate port: %s and %s both use %s:%u",
				                    f->id, e->id, e->host, e->port);
			if (e->role == CTNG_ROLE_GOSSIPER && f->role == CTNG_ROLE_GOSSIPER &&
			    e->bls_id == f->bls_id)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "gossipers %s and %s share bls_id %u", f->id,
				                    e->id, e->bls_id);
		}
	}
	for (size_t i = 0; i < net->n_entities; i++)
		if (net->entities[i].has_note_key && !net->entities[i].note_name_ok)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "entity %s: note_key must be named %s (the url without "
			                    "scheme)",
			                    net->entities[i].id,
			                    ctng_entity_origin(&net->entities[i]));
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		if (e->role == CTNG_ROLE_MONITOR) {
			for (size_t k = 0; k < e->n_loggers; k++)
				if ((rc = need_ref(net, e->id, "loggers", e->loggers[k],
				                   CTNG_ROLE_LOGGER, err)))
					return rc;
			for (size_t k = 0; k < e->n_cas; k++)
				if ((rc =
				         need_ref(net, e->id, "cas", e->cas[k], CTNG_ROLE_CA, err)))
					return rc;
			if ((rc = need_ref(net, e->id, "gossiper", e->gossiper, CTNG_ROLE_GOSSIPER,
			                   err)))
				return rc;
			const ctng_entity *g = ctng_network_entity(net, e->gossiper);
			if (strcmp(g->monitor, e->id) != 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "entity %s: its gossiper %s is paired with %s",
				                    e->id, g->id, g->monitor);
		}
		if (e->role == CTNG_ROLE_GOSSIPER) {
			if (e->bls_id > n_goss)
				return ctng_err_set(
				    err, CTNG_EINVAL,
				    "entity %s: bls_id %u exceeds the %zu gossipers", e->id,
				    e->bls_id, n_goss);
			ctng_entity *ge = &net->entities[i];
			free(ge->peer_idx);
			if (!(ge->peer_idx = calloc(e->n_peers ? e->n_peers : 1, sizeof(size_t))))
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			for (size_t k = 0; k < e->n_peers; k++) {
				if (strcmp(e->peers[k], e->id) == 0)
					return ctng_err_set(err, CTNG_EINVAL,
					                    "entity %s: lists itself as a peer",
					                    e->id);
				if ((rc = need_ref(net, e->id, "peers", e->peers[k],
				                   CTNG_ROLE_GOSSIPER, err)))
					return rc;
				ge->peer_idx[k] =
				    (size_t)(ctng_network_entity(net, e->peers[k]) - net->entities);
			}
			if ((rc = need_ref(net, e->id, "monitor", e->monitor, CTNG_ROLE_MONITOR,
			                   err)))
				return rc;
			const ctng_entity *m = ctng_network_entity(net, e->monitor);
			if (strcmp(m->gossiper, e->id) != 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "entity %s: its monitor %s is paired with %s",
				                    e->id, m->id, m->gossiper);
		}
	}
	if (n_goss == 0)
		return ctng_err_set(err, CTNG_EINVAL, "the network has no gossiper");
	if (net->threshold == 0 || net->threshold > n_goss)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "threshold %u out of range: need 1..%zu (number of gossipers)",
		                    net->threshold, n_goss);
	if (net->has_bls && net->reshare.present &&
	    memcmp(net->group_pk, net->reshare.group_pk, CTNG_BLS_PK_LEN) != 0)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "network.json: group_pk differs from the reshared group key");
	/* BLS keys: all or nothing, consistent with the commitments. */
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		if (e->role == CTNG_ROLE_GOSSIPER && e->has_bls_pk != net->has_bls)
			return ctng_err_set(
			    err, CTNG_EINVAL, "entity %s: bls_pk %s but group_pk %s", e->id,
			    e->has_bls_pk ? "set" : "empty", net->has_bls ? "set" : "empty");
	}
	if (!net->has_bls)
		return 0;
	uint8_t(*pks)[CTNG_BLS_PK_LEN] = calloc(net->n_entities, CTNG_BLS_PK_LEN);
	if (!pks)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if ((rc = cfg_share_pks(net, net->group_pk, (const uint8_t(*)[CTNG_BLS_PK_LEN])net->commitments,
	                        net->n_commitments, pks, err))) {
		free(pks);
		return ctng_err_wrap(err, "commitments");
	}
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		if (e->role == CTNG_ROLE_GOSSIPER && memcmp(pks[i], e->bls_pk, CTNG_BLS_PK_LEN)) {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "entity %s: bls_pk does not match the commitments", e->id);
			break;
		}
	}
	free(pks);
	return rc;
}

/* ---------------------------------------------------------------- parse */

/* "reshare": {"fingerprint", "threshold", "group_pk", "holders": [{id, bls_id, bls_pk}]} */
static int parse_reshare(const json_t *r, ctng_reshare *rs, ctng_err *err)
{
	static const char *const keys[] = {"fingerprint", "threshold", "group_pk", "holders", NULL};
	static const char *const hkeys[] = {"id", "bls_id", "bls_pk", NULL};
	const char *w = "network.json: reshare", *s;
	uint64_t v;
	int rc;
	if (!json_is_object(r))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be an object", w);
	if ((rc = cfg_check_keys(r, w, keys, err)) ||
	    (rc = cfg_get_str(r, w, "fingerprint", 64, &s, err)))
		return rc;
	if (ctng_hex_decode_exact(rs->fingerprint, 32, s, err))
		return ctng_err_wrap(err, "%s: fingerprint", w);
	if ((rc = cfg_get_u64(r, w, "threshold", CTNG_BLS_MAX_SHARES, &v, err)))
		return rc;
	rs->threshold = (uint32_t)v;
	if ((rc = cfg_get_str(r, w, "group_pk", CTNG_BLS_PK_HEX_LEN, &s, err)))
		return rc;
	if (ctng_hex_decode_exact(rs->group_pk, CTNG_BLS_PK_LEN, s, err) ||
	    ctng_bls_pk_check(rs->group_pk, err))
		return ctng_err_wrap(err, "%s: group_pk", w);
	json_t *h = json_object_get(r, "holders");
	size_t n = json_is_array(h) ? json_array_size(h) : 0;
	if (n == 0 || n > CTNG_BLS_MAX_SHARES)
		return ctng_err_set(err, CTNG_EINVAL, "%s: holders must be a non-empty array", w);
	if (rs->threshold == 0 || rs->threshold > n)
		return ctng_err_set(err, CTNG_EINVAL, "%s: threshold %u out of range: need 1..%zu",
		                    w, rs->threshold, n);
	if (!(rs->holders = calloc(n, sizeof(*rs->holders))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(h, i);
		ctng_reshare_holder *x = &rs->holders[i];
		char where[64];
		snprintf(where, sizeof where, "%s: holders[%zu]", w, i);
		rs->n_holders = i + 1;
		if (!json_is_object(e))
			return ctng_err_set(err, CTNG_EINVAL, "%s: must be an object", where);
		if ((rc = cfg_check_keys(e, where, hkeys, err)) ||
		    (rc = cfg_get_str(e, where, "id", CTNG_ID_MAX, &s, err)))
			return rc;
		if (!ctng_id_valid(s))
			return ctng_err_set(err, CTNG_EINVAL, "%s: invalid id", where);
		memcpy(x->id, s, strlen(s) + 1);
		if ((rc = cfg_get_u64(e, where, "bls_id", CTNG_BLS_MAX_SHARES, &v, err)))
			return rc;
		if (v == 0)
			return ctng_err_set(err, CTNG_EINVAL, "%s: bls_id must be >= 1", where);
		x->bls_id = (uint32_t)v;
		if ((rc = cfg_get_str(e, where, "bls_pk", CTNG_BLS_PK_HEX_LEN, &s, err)))
			return rc;
		if (ctng_hex_decode_exact(x->bls_pk, CTNG_BLS_PK_LEN, s, err) ||
		    ctng_bls_pk_check(x->bls_pk, err))
			return ctng_err_wrap(err, "%s: bls_pk", where);
		for (size_t k = 0; k < i; k++)
			if (strcmp(rs->holders[k].id, x->id) == 0 ||
			    rs->holders[k].bls_id == x->bls_id)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "%s: holders %s and %s share an id or bls_id",
				                    w, rs->holders[k].id, x->id);
	}
	rs->present = true;
	return 0;
}

struct id_at {
	const char *id;
	size_t at;
};

static int id_at_cmp(const void *a, const void *b)
{
	return strcmp(((const struct id_at *)a)->id, ((const struct id_at *)b)->id);
}

/* The sorted index of ctng_network_entity. */
static int build_index(ctng_network *net, ctng_err *err)
{
	size_t n = net->n_entities;
	struct id_at *v = calloc(n ? n : 1, sizeof(*v));
	free(net->by_id);
	net->by_id = calloc(n ? n : 1, sizeof(*net->by_id));
	if (!v || !net->by_id) {
		free(v);
		free(net->by_id);
		net->by_id = NULL;
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (struct id_at){net->entities[i].id, i};
	qsort(v, n, sizeof(*v), id_at_cmp);
	for (size_t i = 0; i < n; i++)
		net->by_id[i] = v[i].at;
	free(v);
	return 0;
}

static int parse_network(const json_t *j, ctng_network *net, ctng_err *err)
{
	static const char *const keys[] = {
	    "version",          "genesis_ms", "period_ms", "query_offset_ms", "gossip_wait_ms",
	    "update_offset_ms", "threshold",  "group_pk",  "commitments",     "entities",
	    "dkg_phase_ms",     "reshare",    NULL};
	const char *w = "network.json";
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a JSON object", w);
	int rc;
	uint64_t v;
	const uint64_t MAXMS = (uint64_t)1 << 53;
	if ((rc = cfg_check_keys(j, w, keys, err)) ||
	    (rc = cfg_get_u64(j, w, "version", 1, &v, err)))
		return rc;
	if (v != 1)
		return ctng_err_set(err, CTNG_EINVAL, "%s: unsupported version %llu", w,
		                    (unsigned long long)v);
	if ((rc = cfg_get_u64(j, w, "genesis_ms", MAXMS, &net->clock.genesis_ms, err)) ||
	    (rc = cfg_get_u64(j, w, "period_ms", MAXMS, &net->clock.period_ms, err)) ||
	    (rc = cfg_get_u64(j, w, "query_offset_ms", MAXMS, &net->clock.query_offset_ms, err)) ||
	    (rc = cfg_get_u64(j, w, "gossip_wait_ms", MAXMS, &net->clock.gossip_wait_ms, err)) ||
	    (rc =
	         cfg_get_u64(j, w, "update_offset_ms", MAXMS, &net->clock.update_offset_ms, err)) ||
	    (rc = cfg_get_u64(j, w, "threshold", CTNG_BLS_MAX_SHARES, &v, err)))
		return rc;
	net->threshold = (uint32_t)v;
	if ((rc = ctng_clock_check(&net->clock, err)))
		return ctng_err_wrap(err, "%s: offsets out of range", w);
	if (json_object_get(j, "dkg_phase_ms")) {
		if ((rc = cfg_get_u64(j, w, "dkg_phase_ms", (uint64_t)1 << 32, &net->dkg_phase_ms,
		                      err)))
			return rc;
		if (net->dkg_phase_ms < 10)
			return ctng_err_set(err, CTNG_EINVAL, "%s: dkg_phase_ms must be >= 10", w);
	}
	json_t *rs = json_object_get(j, "reshare");
	if (rs && (rc = parse_reshare(rs, &net->reshare, err)))
		return rc;

	json_t *ents = json_object_get(j, "entities");
	if (!ents || !json_is_array(ents))
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"entities\" must be an array", w);
	size_t n = json_array_size(ents);
	if (n == 0 || n > CTNG_CONFIG_MAX_ENTITIES)
		return ctng_err_set(err, CTNG_EINVAL, "%s: entities must hold 1..%d entries", w,
		                    CTNG_CONFIG_MAX_ENTITIES);
	net->entities = calloc(n, sizeof(ctng_entity));
	if (!net->entities)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		net->n_entities = i + 1;
		if ((rc = parse_entity(json_array_get(ents, i), i, &net->entities[i], err)))
			return rc;
	}
	size_t n_goss = ctng_network_count(net, CTNG_ROLE_GOSSIPER);
	if (net->threshold == 0 || net->threshold > n_goss)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "threshold %u out of range: need 1..%zu (number of gossipers)",
		                    net->threshold, n_goss);
	const char *gpk;
	if ((rc = cfg_get_str(j, w, "group_pk", CTNG_BLS_PK_HEX_LEN, &gpk, err)))
		return rc;
	json_t *com = json_object_get(j, "commitments");
	if (!com || !json_is_array(com))
		return ctng_err_set(err, CTNG_EINVAL, "%s: \"commitments\" must be an array", w);
	if (gpk[0]) {
		if (ctng_hex_decode_exact(net->group_pk, CTNG_BLS_PK_LEN, gpk, err))
			return ctng_err_wrap(err, "%s: group_pk", w);
		if ((rc = ctng_bls_pk_check(net->group_pk, err)))
			return ctng_err_wrap(err, "%s: group_pk", w);
		net->has_bls = true;
		size_t nc = json_array_size(com);
		if (nc != net->threshold)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: %zu commitments but threshold %u", w, nc,
			                    net->threshold);
		net->commitments = calloc(nc, CTNG_BLS_PK_LEN);
		if (!net->commitments)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		net->n_commitments = nc;
		for (size_t i = 0; i < nc; i++) {
			json_t *c = json_array_get(com, i);
			if (!json_is_string(c) ||
			    ctng_hex_decode_exact(net->commitments[i], CTNG_BLS_PK_LEN,
			                          json_string_value(c), NULL))
				return ctng_err_set(err, CTNG_EINVAL,
				                    "%s: commitments[%zu] is not a 96-byte hex key",
				                    w, i);
		}
		if (memcmp(net->commitments[0], net->group_pk, CTNG_BLS_PK_LEN) != 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: commitments[0] must equal group_pk", w);
	} else if (json_array_size(com) != 0) {
		return ctng_err_set(err, CTNG_EINVAL, "%s: commitments without group_pk", w);
	}

	if ((rc = build_index(net, err)))
		return rc;
	return cross_check(net, err);
}

int cfg_load_json(const char *text, size_t len, json_t **out, ctng_err *err)
{
	*out = NULL;
	if (!text || len == 0)
		return ctng_err_set(err, CTNG_EINVAL, "empty configuration");
	if (len > CTNG_CONFIG_FILE_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "configuration larger than %u bytes",
		                    CTNG_CONFIG_FILE_MAX);
	json_error_t jerr;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return ctng_err_set(err, CTNG_EINVAL, "malformed JSON at line %d column %d: %s",
		                    jerr.line, jerr.column, jerr.text);
	return 0;
}

int ctng_network_parse(const char *json, size_t len, ctng_network *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	json_t *j = NULL;
	int rc = cfg_load_json(json, len, &j, err);
	if (rc)
		return rc;
	rc = parse_network(j, out, err);
	if (rc == 0)
		rc = cfg_fingerprint(j, out->fingerprint, err);
	json_decref(j);
	if (rc == CTNG_ERANGE) { /* from a number parser: still malformed input */
		rc = CTNG_EINVAL;
		if (err)
			err->code = rc;
	}
	if (rc)
		ctng_network_free(out);
	return rc;
}

int ctng_network_load(const char *path, ctng_network *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &data, &n, err);
	if (rc)
		return rc;
	rc = ctng_network_parse((const char *)data, n, out, err);
	free(data);
	if (rc)
		ctng_err_wrap(err, "%s", path);
	return rc;
}

/* ---------------------------------------------------------------- lookups */

const ctng_entity *ctng_network_entity(const ctng_network *net, const char *id)
{
	if (!id)
		return NULL;
	if (net->by_id) { /* binary search over the sorted index */
		size_t lo = 0, hi = net->n_entities;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const ctng_entity *e = &net->entities[net->by_id[mid]];
			int c = strcmp(e->id, id);
			if (c == 0)
				return e;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < net->n_entities; i++)
		if (strcmp(net->entities[i].id, id) == 0)
			return &net->entities[i];
	return NULL;
}

size_t ctng_network_count(const ctng_network *net, ctng_role role)
{
	size_t c = 0;
	for (size_t i = 0; i < net->n_entities; i++)
		c += net->entities[i].role == role;
	return c;
}

const ctng_entity *ctng_network_nth(const ctng_network *net, ctng_role role, size_t idx)
{
	for (size_t i = 0; i < net->n_entities; i++)
		if (net->entities[i].role == role && idx-- == 0)
			return &net->entities[i];
	return NULL;
}

const ctng_entity *ctng_network_gossiper_of(const ctng_network *net, const char *monitor_id)
{
	const ctng_entity *m = ctng_network_entity(net, monitor_id);
	if (!m || m->role != CTNG_ROLE_MONITOR)
		return NULL;
	return ctng_network_entity(net, m->gossiper);
}

const ctng_entity *ctng_network_monitor_of(const ctng_network *net, const char *gossiper_id)
{
	const ctng_entity *g = ctng_network_entity(net, gossiper_id);
	if (!g || g->role != CTNG_ROLE_GOSSIPER)
		return NULL;
	return ctng_network_entity(net, g->monitor);
}

bool ctng_network_watches(const ctng_network *net, const char *monitor_id, const char *entity_id)
{
	const ctng_entity *m = ctng_network_entity(net, monitor_id);
	if (!m || m->role != CTNG_ROLE_MONITOR || !entity_id)
		return false;
	for (size_t i = 0; i < m->n_loggers; i++)
		if (strcmp(m->loggers[i], entity_id) == 0)
			return true;
	for (size_t i = 0; i < m->n_cas; i++)
		if (strcmp(m->cas[i], entity_id) == 0)
			return true;
	return false;
}

const ctng_entity *ctng_network_by_bls_id(const ctng_network *net, uint32_t bls_id)
{
	for (size_t i = 0; i < net->n_entities; i++)
		if (net->entities[i].role == CTNG_ROLE_GOSSIPER &&
		    net->entities[i].bls_id == bls_id)
			return &net->entities[i];
	return NULL;
}

/* ------------------------------------------------------------ fingerprint */

int cfg_fingerprint(const json_t *j, uint8_t out[32], ctng_err *err)
{
	json_t *c = json_deep_copy(j);
	if (!c)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (json_is_object(c)) {
		json_object_del(c, "group_pk");
		json_object_del(c, "commitments");
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(c, "entities"), i, e)
		{
			if (json_is_object(e))
				json_object_del(e, "bls_pk");
		}
	}
	char *txt =
	    json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	json_decref(c);
	if (!txt)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	unsigned int n = 32;
	int ok = EVP_Digest(txt, strlen(txt), out, &n, EVP_sha256(), NULL);
	free(txt);
	return ok == 1 ? 0 : ctng_err_set(err, CTNG_EIO, "SHA-256 failed");
}

int ctng_network_fingerprint(const char *json, size_t len, uint8_t out[32], ctng_err *err)
{
	json_t *j = NULL;
	int rc = cfg_load_json(json, len, &j, err);
	if (rc == 0)
		rc = cfg_fingerprint(j, out, err);
	json_decref(j);
	return rc;
}

void ctng_fingerprint_text(const uint8_t fp[32], char out[CTNG_FINGERPRINT_TEXT_LEN])
{
	char *p = out;
	for (int g = 0; g < 6; g++) {
		ctng_hex_encode(p, fp + 2 * g, 2);
		p += 4;
		*p++ = g < 5 ? '-' : '\0';
	}
}

/* ------------------------------------------------------------- set keys */

int cfg_share_pks(const ctng_network *net, const uint8_t group_pk[96],
                  const uint8_t (*commitments)[96], size_t n_commitments, uint8_t (*pks)[96],
                  ctng_err *err)
{
	if (n_commitments != net->threshold || n_commitments == 0)
		return ctng_err_set(err, CTNG_EINVAL, "%zu commitments but threshold %u",
		                    n_commitments, net->threshold);
	if (memcmp(commitments[0], group_pk, CTNG_BLS_PK_LEN) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "commitments[0] must equal group_pk");
	int rc = ctng_bls_pk_check(group_pk, err);
	if (rc)
		return ctng_err_wrap(err, "group_pk");
	if (net->reshare.present && memcmp(group_pk, net->reshare.group_pk, CTNG_BLS_PK_LEN) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "group_pk differs from the reshared group key");
	/* every gossiper's share key from the commitments, decoded once */
	uint32_t *ids = calloc(net->n_entities ? net->n_entities : 1, sizeof(*ids));
	uint8_t(*out)[96] = calloc(net->n_entities ? net->n_entities : 1, 96);
	size_t *at = calloc(net->n_entities ? net->n_entities : 1, sizeof(*at));
	size_t n = 0;
	rc = ids && out && at ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < net->n_entities; i++)
		if (net->entities[i].role == CTNG_ROLE_GOSSIPER) {
			at[n] = i;
			ids[n++] = net->entities[i].bls_id;
		}
	if (!rc && (rc = ctng_bls_share_pks_from_commitments(out, commitments,
	                                                     (uint32_t)n_commitments, ids, n, err)))
		ctng_err_wrap(err, "share keys");
	for (size_t j = 0; !rc && j < n; j++)
		memcpy(pks[at[j]], out[j], 96);
	free(ids);
	free(out);
	free(at);
	return rc;
}

int ctng_network_set_bls(ctng_network *net, const uint8_t group_pk[96],
                         const uint8_t (*commitments)[96], size_t n_commitments, ctng_err *err)
{
	if (net->has_bls)
		return ctng_err_set(err, CTNG_ESTATE, "the network already has BLS keys");
	uint8_t(*pks)[96] = calloc(net->n_entities ? net->n_entities : 1, 96);
	uint8_t(*com)[96] = calloc(n_commitments ? n_commitments : 1, 96);
	int rc = pks && com ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc)
		rc = cfg_share_pks(net, group_pk, commitments, n_commitments, pks, err);
	if (rc) {
		free(pks);
		free(com);
		return rc;
	}
	memcpy(com, commitments, n_commitments * 96);
	free(net->commitments);
	net->commitments = com;
	net->n_commitments = n_commitments;
	memcpy(net->group_pk, group_pk, 96);
	for (size_t i = 0; i < net->n_entities; i++) {
		ctng_entity *e = &net->entities[i];
		if (e->role != CTNG_ROLE_GOSSIPER)
			continue;
		memcpy(e->bls_pk, pks[i], 96);
		e->has_bls_pk = true;
	}
	net->has_bls = true;
	free(pks);
	return 0;
}
