/*
 * node.c — one node's private DIR/<id>/config.json (docs/config.md §3): keys,
 * paths, listen address and the test-only misbehaviour switches, loaded
 * together with the network it belongs to and checked against it.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_internal.h"
#include "ctng/bls.h"
#include "ctng/note.h"
#include "ctng/seal.h"

static void misbehaviour_free(ctng_misbehaviour *m)
{
	for (size_t i = 0; i < m->n_split_targets; i++)
		free(m->split_targets[i]);
	free(m->split_targets);
	memset(m, 0, sizeof(*m));
}

void ctng_node_config_free(ctng_node_config *cfg)
{
	if (!cfg)
		return;
	ctng_sig_key_free(cfg->note_key);
	free(cfg->id);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->network_path);
	free(cfg->data_dir);
	free(cfg->listen);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_ca);
	ctng_sig_key_free(cfg->key);
	ctng_wipe(cfg->bls_sk, sizeof(cfg->bls_sk));
	ctng_wipe(cfg->dkg_sk, sizeof(cfg->dkg_sk));
	misbehaviour_free(&cfg->misbehaviour);
	free(cfg->watches_json);
	free(cfg->webhooks_json);
	ctng_network_free(&cfg->net);
	memset(cfg, 0, sizeof(*cfg));
}

/* dir + "/" + rel unless rel is absolute. */
static char *resolve(const char *dir, const char *rel)
{
	char *out = NULL;
	if (rel[0] == '/' || !dir || !dir[0])
		return strdup(rel);
	if (asprintf(&out, "%s/%s", dir, rel) < 0)
		return NULL;
	return out;
}

static int get_bool(const json_t *obj, const char *key, bool *out, ctng_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return ctng_err_set(err, CTNG_EINVAL, "misbehaviour: \"%s\" must be true or false",
		                    key);
	*out = json_is_true(v);
	return 0;
}

static int parse_misbehaviour(const json_t *j, const ctng_network *net, ctng_misbehaviour *m,
                              ctng_err *err)
{
	static const char *const keys[] = {
	    "split_view", "split_targets", "silent",       "answer_periods_mod",
	    "hide_entry", "wrong_data",    "false_accuse", "reuse_rid", NULL};
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "misbehaviour: must be an object");
	int rc;
	if ((rc = cfg_check_keys(j, "misbehaviour", keys, err)) ||
	    (rc = get_bool(j, "split_view", &m->split_view, err)) ||
	    (rc = get_bool(j, "silent", &m->silent, err)) ||
	    (rc = get_bool(j, "wrong_data", &m->wrong_data, err)) ||
	    (rc = get_bool(j, "false_accuse", &m->false_accuse, err)) ||
	    (rc = get_bool(j, "reuse_rid", &m->reuse_rid, err)))
		return rc;
	m->present = true;
	if (json_object_get(j, "hide_entry") && !json_is_null(json_object_get(j, "hide_entry"))) {
		if ((rc = cfg_get_u64(j, "misbehaviour", "hide_entry", (uint64_t)INT64_MAX,
		                      &m->hidden_index, err)))
			return rc;
		m->hide_entry = true;
	}
	if (json_object_get(j, "answer_periods_mod")) {
		uint64_t v;
		if ((rc = cfg_get_u64(j, "misbehaviour", "answer_periods_mod", 1000000, &v, err)))
			return rc;
		m->answer_periods_mod = (uint32_t)v;
	}
	json_t *t = json_object_get(j, "split_targets");
	if (t) {
		if (!json_is_array(t) || json_array_size(t) > CTNG_CONFIG_MAX_ENTITIES)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "misbehaviour: split_targets must be an array of ids");
		size_t n = json_array_size(t);
		m->split_targets = n ? calloc(n, sizeof(char *)) : NULL;
		if (n && !m->split_targets)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(t, i);
			if (!json_is_string(e) || !ctng_network_entity(net, json_string_value(e)))
				return ctng_err_set(err, CTNG_EINVAL,
				                    "misbehaviour: split_targets[%zu] is not an "
				                    "entity of the network",
				                    i);
			if (!(m->split_targets[i] = strdup(json_string_value(e))))
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			m->n_split_targets = i + 1;
		}
	}
	return 0;
}

int ctng_node_config_listen(const ctng_node_config *cfg, char host[CTNG_HOST_MAX], uint16_t *port,
                            ctng_err *err)
{
	if (!cfg || !cfg->listen || !host || !port)
		return ctng_err_set(err, CTNG_EINVAL, "listen address missing");
	if (cfg_parse_hostport(cfg->listen, host, port, err))
		return ctng_err_wrap(err, "listen");
	return 0;
}

/* The share key a gossiper's bls_sk must match: its share key when the
 * network has BLS keys, else (a network that reshares) its share key in the
 * previous network; NULL when it must have none. */
static const uint8_t *expected_share_pk(const ctng_network *net, const ctng_node_config *c)
{
	if (net->has_bls)
		return c->self->bls_pk;
	for (size_t i = 0; net->reshare.present && i < net->reshare.n_holders; i++)
		if (strcmp(net->reshare.holders[i].id, c->self->id) == 0)
			return net->reshare.holders[i].bls_pk;
	return NULL;
}

/* A gossiper's bls_sk (optional: a DKG keeps the share in the node's DKG
 * store instead) and dkg_private_key (its X25519 transport key). */
static int gossiper_keys(const json_t *j, const ctng_network *net, ctng_node_config *c,
                         ctng_err *err)
{
	const char *w = "config.json", *s;
	int rc;
	if (json_object_get(j, "bls_sk")) {
		if ((rc = cfg_get_str(j, w, "bls_sk", 2 * CTNG_BLS_SK_LEN, &s, err)))
			return rc;
		if (s[0]) {
			if (ctng_hex_decode_exact(c->bls_sk, CTNG_BLS_SK_LEN, s, err))
				return ctng_err_wrap(err, "%s: bls_sk", w);
			c->has_bls_sk = true;
		}
	}
	if (c->has_bls_sk) {
		const uint8_t *want = expected_share_pk(net, c);
		uint8_t mine[CTNG_BLS_PK_LEN];
		if (!want)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: bls_sk set but the network has no BLS keys", w);
		if ((rc = ctng_bls_sk_to_pk(mine, c->bls_sk, err)))
			return ctng_err_wrap(err, "%s: bls_sk", w);
		if (memcmp(mine, want, CTNG_BLS_PK_LEN) != 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: bls_sk does not match bls_pk of %s", w,
			                    c->self->id);
	}
	if (json_object_get(j, "dkg_private_key")) {
		uint8_t pub[CTNG_SEAL_KEY_LEN];
		if ((rc = cfg_get_str(j, w, "dkg_private_key", 64, &s, err)))
			return rc;
		if (ctng_hex_decode_exact(c->dkg_sk, sizeof c->dkg_sk, s, err) ||
		    ctng_seal_public(pub, c->dkg_sk, err))
			return ctng_err_wrap(err, "%s: dkg_private_key", w);
		if (!c->self->has_dkg_key || memcmp(pub, c->self->dkg_key, sizeof pub) != 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: dkg_private_key does not match the dkg_key of %s",
			                    w, c->self->id);
		c->has_dkg_sk = true;
	}
	return 0;
}

/* Optional "limits": the server's resource caps (docs/config.md §3). */
static int parse_limits(const json_t *j, ctng_net_server_opts *o, ctng_err *err)
{
	static const char *const keys[] = {"max_connections",   "max_buffered_bytes",
	                                   "header_timeout_ms", "body_timeout_ms",
	                                   "idle_timeout_ms",   NULL};
	const char *w = "limits";
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "limits: must be an object");
	int rc = cfg_check_keys(j, w, keys, err);
	uint64_t v;
	struct {
		const char *key;
		uint64_t max;
	} f[] = {{"max_connections", 1u << 20},
	         {"max_buffered_bytes", (uint64_t)1 << 40},
	         {"header_timeout_ms", 86400000},
	         {"body_timeout_ms", 86400000},
	         {"idle_timeout_ms", 86400000}};
	for (size_t i = 0; !rc && i < sizeof f / sizeof f[0]; i++) {
		if (!json_object_get(j, f[i].key))
			continue;
		if ((rc = cfg_get_u64(j, w, f[i].key, f[i].max, &v, err)))
			break;
		switch (i) {
		case 0:
			o->max_connections = (size_t)v;
			break;
		case 1:
			o->max_buffered = (size_t)v;
			break;
		case 2:
			o->header_timeout_ms = v;
			break;
		case 3:
			o->body_timeout_ms = v;
			break;
		default:
			o->idle_timeout_ms = v;
			break;
		}
	}
	return rc;
}

/* Optional "tls": the node's certificate chain and key (required exactly
 * when its url is https://) and the CA bundle it verifies peers against. */
static int parse_tls(const json_t *j, const char *dir, ctng_node_config *c, ctng_err *err)
{
	static const char *const keys[] = {"cert", "key", "ca", NULL};
	const char *w = "tls";
	const char *p[3] = {NULL, NULL, NULL};
	char **dst[3] = {&c->tls_cert, &c->tls_key, &c->tls_ca};
	int rc;
	if (j) {
		if (!json_is_object(j))
			return ctng_err_set(err, CTNG_EINVAL, "tls: must be an object");
		if ((rc = cfg_check_keys(j, w, keys, err)))
			return rc;
		for (int i = 0; i < 3; i++) {
			if (!json_object_get(j, keys[i]))
				continue;
			if ((rc = cfg_get_str(j, w, keys[i], PATH_MAX - 1, &p[i], err)))
				return rc;
			if (!p[i][0])
				return ctng_err_set(err, CTNG_EINVAL, "tls: \"%s\" must not be empty",
				                    keys[i]);
		}
	}
	if (c->self->tls && (!p[0] || !p[1]))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "tls: %s has an https:// url, so tls.cert and tls.key are "
		                    "required",
		                    c->self->id);
	if (!c->self->tls && (p[0] || p[1]))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "tls: %s has an http:// url; tls.cert and tls.key serve https:// "
		                    "only",
		                    c->self->id);
	for (int i = 0; i < 3; i++)
		if (p[i] && !(*dst[i] = resolve(dir, p[i])))
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	c->server.tls_cert_file = c->tls_cert;
	c->server.tls_key_file = c->tls_key;
	c->server.tls_ca_file = c->tls_ca;
	return 0;
}

/* net: moved into c (NULL: loaded from the file the config names); shared:
 * borrowed instead (c->net stays empty, c->self points into *shared). */
static int parse_node(const json_t *j, const char *dir, ctng_network *net,
                      const ctng_network *shared, ctng_node_config *c, ctng_err *err)
{
	static const char *const keys[] = {
	    "id",     "network", "data_dir",     "listen",          "private_key",
	    "bls_sk", "limits",  "misbehaviour", "dkg_private_key", "note_private_key", "tls",
	    "watches", "webhooks", NULL};
	const char *w = "config.json";
	if (!json_is_object(j))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a JSON object", w);
	int rc;
	const char *id, *netp, *data, *listen;
	if ((rc = cfg_check_keys(j, w, keys, err)) ||
	    (rc = cfg_get_str(j, w, "id", CTNG_ID_MAX, &id, err)) ||
	    (rc = cfg_get_str(j, w, "network", PATH_MAX - 1, &netp, err)) ||
	    (rc = cfg_get_str(j, w, "data_dir", PATH_MAX - 1, &data, err)) ||
	    (rc = cfg_get_str(j, w, "listen", CTNG_URL_MAX, &listen, err)))
		return rc;
	if (!ctng_id_valid(id))
		return ctng_err_set(err, CTNG_EINVAL, "%s: invalid id", w);
	if (!netp[0] || !data[0])
		return ctng_err_set(err, CTNG_EINVAL, "%s: network and data_dir must not be empty",
		                    w);
	char host[CTNG_HOST_MAX];
	uint16_t port;
	if ((rc = cfg_parse_hostport(listen, host, &port, err)))
		return ctng_err_wrap(err, "%s: listen", w);
	if (!(c->id = strdup(id)) || !(c->dir = strdup(dir ? dir : ".")) ||
	    !(c->network_path = resolve(dir, netp)) || !(c->data_dir = resolve(dir, data)) ||
	    !(c->listen = strdup(listen)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");

	if (shared) {
		/* borrowed: nothing to load */
	} else if (net) {
		c->net = *net;
		memset(net, 0, sizeof(*net));
	} else if ((rc = ctng_network_load(c->network_path, &c->net, err))) {
		return rc;
	}
	const ctng_network *N = shared ? shared : &c->net;
	c->self = ctng_network_entity(N, id);
	if (!c->self)
		return ctng_err_set(err, CTNG_EINVAL, "%s: id \"%s\" is not in the network", w, id);
	if (c->self->port != port)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "%s: listen port %u differs from the network url %s", w, port,
		                    c->self->url);

	json_t *pk = json_object_get(j, "private_key"), *bs = json_object_get(j, "bls_sk");
	const char *s;
	if (c->self->role == CTNG_ROLE_GOSSIPER) {
		if ((rc = gossiper_keys(j, N, c, err)))
			return rc;
	} else if (bs || json_object_get(j, "dkg_private_key")) {
		return ctng_err_set(err, CTNG_EINVAL,
		                    "%s: only gossipers have a bls_sk or dkg_private_key", w);
	}
	if (pk || c->self->role != CTNG_ROLE_GOSSIPER) {
		if ((rc = cfg_get_str(j, w, "private_key", CTNG_SIG_PEM_MAX, &s, err)))
			return rc;
		if ((rc = ctng_sig_load_private_pem(s, strlen(s), &c->key, err)))
			return ctng_err_wrap(err, "%s: private_key", w);
		if (!c->self->key || !ctng_sig_key_public_equal(c->key, c->self->key))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "%s: private_key does not match the public_key of %s",
			                    w, id);
	}
	json_t *lim = json_object_get(j, "limits");
	if (lim && (rc = parse_limits(lim, &c->server, err)))
		return rc;
	/* A logger's Ed25519 note key: required exactly when network.json
	 * publishes its note_key, and it must be that key. */
	if (json_object_get(j, "note_private_key") || c->self->has_note_key) {
		uint8_t pub[32];
		if (c->self->role != CTNG_ROLE_LOGGER)
			return ctng_err_set(err, CTNG_EINVAL, "%s: only loggers have a note key",
			                    w);
		if ((rc = cfg_get_str(j, w, "note_private_key", CTNG_SIG_PEM_MAX, &s, err)))
			return rc;
		if ((rc = ctng_sig_load_private_pem(s, strlen(s), &c->note_key, err)) ||
		    (rc = ctng_note_ed25519_public(c->note_key, pub, err)))
			return ctng_err_wrap(err, "%s: note_private_key", w);
		if (!c->self->has_note_key || memcmp(pub, c->self->note_key, 32))
			return ctng_err_set(
			    err, CTNG_EINVAL,
			    "%s: note_private_key does not match the note_key of %s", w, id);
	}
	if ((rc = parse_tls(json_object_get(j, "tls"), c->dir, c, err)))
		return rc;
	json_t *m = json_object_get(j, "misbehaviour");
	if (m && (rc = parse_misbehaviour(m, N, &c->misbehaviour, err)))
		return rc;
	/* A monitor's watch lists and webhook policy (docs/monitor.md §11),
	 * kept as JSON text for the index, which checks them at start. */
	json_t *wl = json_object_get(j, "watches"), *wh = json_object_get(j, "webhooks");
	if ((wl || wh) && c->self->role != CTNG_ROLE_MONITOR)
		return ctng_err_set(err, CTNG_EINVAL, "%s: only monitors have watches and webhooks",
		                    w);
	if (wl && !json_is_array(wl))
		return ctng_err_set(err, CTNG_EINVAL, "%s: watches must be an array", w);
	if (wh && !json_is_object(wh))
		return ctng_err_set(err, CTNG_EINVAL, "%s: webhooks must be an object", w);
	if ((wl && !(c->watches_json = json_dumps(wl, JSON_COMPACT | JSON_PRESERVE_ORDER))) ||
	    (wh && !(c->webhooks_json = json_dumps(wh, JSON_COMPACT | JSON_PRESERVE_ORDER))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}

int ctng_node_config_parse(const char *json, size_t len, const char *dir, ctng_network *net,
                           ctng_node_config *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	json_t *j = NULL;
	int rc = cfg_load_json(json, len, &j, err);
	if (!rc)
		rc = parse_node(j, dir, net, NULL, out, err);
	json_decref(j);
	if (rc == CTNG_ERANGE) {
		rc = CTNG_EINVAL;
		if (err)
			err->code = rc;
	}
	if (net)
		ctng_network_free(net); /* moved or not, the caller no longer owns it */
	if (rc)
		ctng_node_config_free(out);
	return rc;
}

static int load_node(const char *path, const ctng_network *shared, ctng_node_config *out,
                     ctng_err *err);

int ctng_node_config_load(const char *path, ctng_node_config *out, ctng_err *err)
{
	return load_node(path, NULL, out, err);
}

int ctng_node_config_load_shared(const char *path, const ctng_network *net, ctng_node_config *out,
                                 ctng_err *err)
{
	if (!net) {
		memset(out, 0, sizeof(*out));
		return ctng_err_set(err, CTNG_EINVAL, "no network");
	}
	return load_node(path, net, out, err);
}

static int load_node(const char *path, const ctng_network *shared, ctng_node_config *out,
                     ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &data, &n, err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		CTNG_WARN("private configuration is readable by others", "path=%s mode=%o", path,
		          (unsigned)(st.st_mode & 0777));
	char *tmp = strdup(path);
	if (!tmp) {
		free(data);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	if (shared) {
		json_t *j = NULL;
		rc = cfg_load_json((const char *)data, n, &j, err);
		if (!rc)
			rc = parse_node(j, dirname(tmp), NULL, shared, out, err);
		json_decref(j);
		if (rc == CTNG_ERANGE && err)
			err->code = rc = CTNG_EINVAL;
		if (rc)
			ctng_node_config_free(out);
	} else {
		rc = ctng_node_config_parse((const char *)data, n, dirname(tmp), NULL, out, err);
	}
	free(tmp);
	ctng_wipe(data, n);
	free(data);
	if (rc)
		return ctng_err_wrap(err, "%s", path);
	if (!(out->path = strdup(path))) {
		ctng_node_config_free(out);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	return 0;
}

int ctng_node_config_set_misbehaviour(const char *path, const ctng_misbehaviour *m, ctng_err *err)
{
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &data, &n, err);
	if (rc)
		return rc;
	json_t *j = NULL;
	rc = cfg_load_json((const char *)data, n, &j, err);
	ctng_wipe(data, n);
	free(data);
	if (rc)
		return ctng_err_wrap(err, "%s", path);
	if (!json_is_object(j)) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "%s: not a JSON object", path);
	}
	json_object_del(j, "misbehaviour");
	if (m && m->present) {
		json_t *o = json_object(), *t = json_array();
		for (size_t i = 0; o && t && i < m->n_split_targets; i++)
			json_array_append_new(t, json_string(m->split_targets[i]));
		if (!o || !t || json_object_set_new(o, "split_view", json_boolean(m->split_view)) ||
		    json_object_set_new(o, "split_targets", t) ||
		    json_object_set_new(o, "silent", json_boolean(m->silent)) ||
		    json_object_set_new(o, "false_accuse", json_boolean(m->false_accuse)) ||
		    json_object_set_new(o, "answer_periods_mod",
		                        json_integer((json_int_t)m->answer_periods_mod)) ||
		    json_object_set_new(o, "hide_entry",
		                        m->hide_entry ? json_integer((json_int_t)m->hidden_index)
		                                      : json_null()) ||
		    json_object_set_new(o, "wrong_data", json_boolean(m->wrong_data)) ||
		    json_object_set_new(o, "reuse_rid", json_boolean(m->reuse_rid)) ||
		    json_object_set_new(j, "misbehaviour", o)) {
			json_decref(j);
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		}
	}
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	rc = ctng_write_file_atomic(path, s, strlen(s), 0600, err);
	ctng_wipe(s, strlen(s));
	free(s);
	return rc;
}
