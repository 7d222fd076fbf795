/*
 * init.c — the generator behind `ctng init`: writes a fresh network (DESIGN
 * §9 seed topology by default) in one folder — every entity's keys made as
 * `ctng keygen` makes them, network.json as `ctng network assemble` builds
 * it, and (dealer mode, test networks only) BLS shares dealt here
 * (docs/config.md §4).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "ctng/bls.h"

void ctng_init_opts_default(ctng_init_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->period_ms = 60000;
	o->loggers = 3;
	o->cas = 3;
	o->monitors = 4;
	o->threshold = 2;
	o->port_base = 9000;
	o->host = "127.0.0.1";
}

/* Ports per role: 100 (the seed's layout) unless some role has more. */
static uint32_t port_stride(const ctng_init_opts *o)
{
	return o->loggers > 99 || o->cas > 99 || o->monitors > 99 ? 1000 : 100;
}

/* The k loggers (or CAs) monitor m (1-based) watches out of `total`: m,
 * m+1, ... modulo total (each once), as ids with `prefix`. */
static size_t watch_list(uint32_t m, uint32_t total, uint32_t k, const char *prefix,
                         char (*ids)[CTNG_ID_MAX + 1], const char **out)
{
	size_t n = k < total ? k : total;
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], CTNG_ID_MAX + 1, "%s%u", prefix, (unsigned)((m - 1 + i) % total + 1));
		out[i] = ids[i];
	}
	return n;
}

/* Does gossiper a (1-based, of n) peer with gossiper b? The circulant graph
 * whose offsets are +-1, +-2, +-4, ... (the first `peers` of them):
 * symmetric, and any two gossipers are O(log n) hops apart. */
static bool peers_with(uint32_t a, uint32_t b, uint32_t n, uint32_t peers)
{
	if (a == b)
		return false;
	uint32_t d = (b + n - a) % n, got = 0;
	for (uint64_t off = 1; off < n && got < peers; off <<= 1) {
		if (d == off || d == n - off)
			return true;
		got += off == n - off ? 1 : 2;
	}
	return false;
}

/* Is id one of the entities ctng init makes with these counts? */
static bool init_id_exists(const ctng_init_opts *o, const char *id)
{
	static const char *const prefixes[] = {"logger", "ca", "monitor", "gossiper"};
	uint32_t counts[] = {o->loggers, o->cas, o->monitors, o->monitors};
	for (int g = 0; g < 4; g++) {
		size_t pl = strlen(prefixes[g]);
		if (strncmp(id, prefixes[g], pl) != 0 || !id[pl] || id[pl] == '0')
			continue;
		uint64_t n = 0;
		if (ctng_parse_u64(id + pl, counts[g], &n, NULL) == 0 && n >= 1)
			return true;
	}
	return false;
}

/* The host of entity id: its entity_hosts entry, else o->host. */
static const char *entity_host(const ctng_init_opts *o, const char *id)
{
	size_t n = strlen(id);
	for (const char *const *h = o->entity_hosts; h && *h; h++)
		if (strncmp(*h, id, n) == 0 && (*h)[n] == '=')
			return *h + n + 1;
	return o->host;
}

static int check_opts(ctng_init_opts *o, ctng_err *err)
{
	if (o->period_ms == 0)
		o->period_ms = 60000;
	if (o->period_ms < 100 || o->period_ms > (uint64_t)1 << 40)
		return ctng_err_set(err, CTNG_EINVAL, "period must be between 100 ms and 2^40 ms");
	if (!o->query_offset_ms)
		o->query_offset_ms = o->period_ms / 10;
	if (!o->gossip_wait_ms)
		o->gossip_wait_ms = o->period_ms / 5;
	if (!o->update_offset_ms)
		o->update_offset_ms = o->period_ms * 8 / 10;
	if (o->loggers < 1 || o->loggers > CTNG_INIT_MAX_ROLE || o->cas < 1 ||
	    o->cas > CTNG_INIT_MAX_ROLE || o->monitors < 1 || o->monitors > CTNG_INIT_MAX_ROLE)
		return ctng_err_set(err, CTNG_EINVAL, "loggers, CAs and monitors must each number 1..%u",
		                    CTNG_INIT_MAX_ROLE);
	if ((uint64_t)o->loggers + o->cas + 2ull * o->monitors > CTNG_CONFIG_MAX_ENTITIES)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "%u loggers, %u CAs, %u monitors and as many gossipers: more "
		                    "than %u entities",
		                    o->loggers, o->cas, o->monitors, CTNG_CONFIG_MAX_ENTITIES);
	if (o->peers >= o->monitors - 1)
		o->peers = 0; /* everyone: the full mesh */
	if (o->threshold < 1 || o->threshold > o->monitors)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "threshold %u out of range: need 1..%u (number of gossipers)",
		                    o->threshold, o->monitors);
	if (!o->host)
		o->host = "127.0.0.1";
	for (const char *const *h = o->entity_hosts; h && *h; h++) {
		const char *eq = strchr(*h, '=');
		char id[CTNG_ID_MAX + 1];
		size_t n = eq ? (size_t)(eq - *h) : 0;
		if (!eq || n == 0 || n > CTNG_ID_MAX || !eq[1] || strlen(eq + 1) >= CTNG_HOST_MAX)
			return ctng_err_set(err, CTNG_EINVAL, "entity host \"%s\": want ID=HOST", *h);
		memcpy(id, *h, n);
		id[n] = 0;
		if (!init_id_exists(o, id))
			return ctng_err_set(err, CTNG_EINVAL, "entity host \"%s\": no entity %s", *h, id);
		for (const char *c = eq + 1; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
				return ctng_err_set(err, CTNG_EINVAL, "entity host \"%s\": bad HOST", *h);
	}
	uint32_t stride = port_stride(o);
	if (o->port_base == 0 || (uint32_t)o->port_base + 4 * stride - 1 > 65535)
		return ctng_err_set(err, CTNG_EINVAL, "port base must be 1..%u",
		                    65536 - 4 * stride);
	ctng_clock c = {o->genesis_ms, o->period_ms, o->query_offset_ms, o->gossip_wait_ms,
	                o->update_offset_ms};
	return ctng_clock_check(&c, err);
}

/* Reads dir/<id>/<id>.entity.json into texts[k]. */
static int read_descriptor(const char *dir, const char *id, char **text, size_t *len,
                           ctng_err *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s/%s.entity.json", dir, id, id);
	uint8_t *d = NULL;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &d, len, err);
	*text = (char *)d;
	return rc;
}

int cfg_config_set(const char *dir, const char *id, const char *key, json_t *value,
                   ctng_err *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s/config.json", dir, id);
	uint8_t *d = NULL;
	size_t n = 0;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &d, &n, err);
	if (rc) {
		json_decref(value);
		return rc;
	}
	json_t *j = NULL;
	rc = cfg_load_json((const char *)d, n, &j, err);
	ctng_wipe(d, n);
	free(d);
	if (rc) {
		json_decref(value);
		return rc;
	}
	if (!value || json_object_set_new(j, key, value))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	else
		rc = cfg_write_json(path, j, 0600, err);
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v)
	{
		if (json_is_string(v))
			ctng_wipe((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(j);
	return rc;
}

/* Adds "bls_sk" to dir/<id>/config.json (0600). */
static int add_share(const char *dir, const char *id, const uint8_t sk[CTNG_BLS_SK_LEN],
                     ctng_err *err)
{
	char *h = ctng_hex_strdup(sk, CTNG_BLS_SK_LEN);
	if (!h)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = cfg_config_set(dir, id, "bls_sk", json_string(h), err);
	ctng_wipe(h, strlen(h));
	free(h);
	return rc;
}

/* The dealer of a test network: a (t, n) sharing made here; network.json
 * gets the public keys and each gossiper's config.json its share. */
static int deal(const char *dir, const ctng_init_opts *o, char **net_json, size_t *net_len,
                ctng_err *err)
{
	ctng_bls_share *shares = calloc(o->monitors, sizeof(*shares));
	uint8_t(*com)[CTNG_BLS_PK_LEN] = calloc(o->threshold, CTNG_BLS_PK_LEN);
	uint8_t group_pk[CTNG_BLS_PK_LEN];
	char *keyed = NULL;
	size_t keyed_len = 0;
	int rc = shares && com ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc)
		rc = ctng_bls_deal(o->threshold, o->monitors, NULL, 0, group_pk, com, shares, err);
	if (!rc)
		rc = ctng_network_json_set_bls(*net_json, *net_len, group_pk,
		                               (const uint8_t(*)[CTNG_BLS_PK_LEN])com, o->threshold,
		                               &keyed, &keyed_len, err);
	for (uint32_t i = 0; !rc && i < o->monitors; i++) {
		char id[CTNG_ID_MAX + 1];
		snprintf(id, sizeof id, "gossiper%u", shares[i].id);
		rc = add_share(dir, id, shares[i].sk, err);
	}
	if (!rc) {
		free(*net_json);
		*net_json = keyed;
		*net_len = keyed_len;
		keyed = NULL;
	}
	free(keyed);
	if (shares)
		ctng_wipe(shares, o->monitors * sizeof(*shares));
	free(shares);
	free(com);
	return rc;
}

int ctng_init_network(const char *dir, const ctng_init_opts *opts_in, ctng_err *err)
{
	ctng_init_opts o = *opts_in;
	int rc = check_opts(&o, err);
	if (rc)
		return rc;
	uint64_t now = o.now_ms ? o.now_ms : ctng_now_ms();
	if (!o.genesis_ms)
		o.genesis_ms = now / 1000 * 1000;
	char path[4096];
	if ((rc = ctng_mkdir_p(dir, 0755, err)))
		return rc;
	if (strlen(dir) > 3000)
		return ctng_err_set(err, CTNG_EINVAL, "folder name too long");
	snprintf(path, sizeof(path), "%s/network.json", dir);
	if (access(path, F_OK) == 0)
		return ctng_err_set(err, CTNG_EINVAL, "%s already exists; refusing to overwrite",
		                    path);

	size_t n = o.loggers + o.cas + 2 * (size_t)o.monitors, k = 0;
	char *ca_pem = NULL, *ca_key = NULL;
	if (o.tls && (rc = cfg_init_tls_ca(dir, now, &ca_pem, &ca_key, err)))
		return rc;
	char **texts = calloc(n, sizeof *texts), *net = NULL;
	size_t *lens = calloc(n, sizeof *lens), net_len = 0;
	uint32_t most = o.loggers > o.cas ? o.loggers : o.cas;
	most = most > o.monitors ? most : o.monitors;
	char(*ids)[CTNG_ID_MAX + 1] = calloc(2 * (size_t)most, sizeof *ids); /* topology lists */
	const char **list = calloc(2 * (size_t)most, sizeof *list);
	if (!texts || !lens || !ids || !list) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	const struct {
		ctng_role role;
		const char *prefix;
		uint32_t count;
		uint16_t off;
	} groups[4] = {{CTNG_ROLE_LOGGER, "logger", o.loggers, 0},
	               {CTNG_ROLE_CA, "ca", o.cas, 1},
	               {CTNG_ROLE_MONITOR, "monitor", o.monitors, 2},
	               {CTNG_ROLE_GOSSIPER, "gossiper", o.monitors, 3}};
	uint32_t stride = port_stride(&o);
	for (int g = 0; g < 4; g++) {
		for (uint32_t i = 1; i <= groups[g].count; i++, k++) {
			char id[CTNG_ID_MAX + 1], url[CTNG_URL_MAX], listen[CTNG_URL_MAX], edir[4096];
			unsigned port = o.port_base + groups[g].off * stride + i - 1;
			snprintf(id, sizeof id, "%s%u", groups[g].prefix, i);
			const char *host = entity_host(&o, id);
			snprintf(url, sizeof url, "%s://%s:%u", o.tls ? "https" : "http", host, port);
			snprintf(listen, sizeof listen, "%s:%u", host, port);
			snprintf(edir, sizeof edir, "%s/%s", dir, id);
			ctng_keygen_opts ko = {.role = groups[g].role,
			                       .id = id,
			                       .url = url,
			                       .listen = listen,
			                       .network = "../network.json",
			                       .now_ms = now};
			/* topology other than the default of ctng network assemble */
			if (groups[g].role == CTNG_ROLE_MONITOR && o.watch && o.watch != 2) {
				ko.loggers = list;
				ko.n_loggers = watch_list(i, o.loggers, o.watch, "logger", ids, list);
				ko.cas = list + most;
				ko.n_cas = watch_list(i, o.cas, o.watch, "ca", ids + most, list + most);
			}
			if (groups[g].role == CTNG_ROLE_GOSSIPER && o.peers) {
				ko.peers = list;
				for (uint32_t q = 1; q <= o.monitors; q++)
					if (peers_with(i, q, o.monitors, o.peers)) {
						snprintf(ids[ko.n_peers], CTNG_ID_MAX + 1, "gossiper%u", q);
						list[ko.n_peers] = ids[ko.n_peers];
						ko.n_peers++;
					}
			}
			if ((rc = ctng_keygen(edir, &ko, err)) ||
			    (rc = read_descriptor(dir, id, &texts[k], &lens[k], err)) ||
			    (o.tls && (rc = cfg_init_tls_node(dir, id, o.host, ca_pem, ca_key, now, err))))
				goto out;
		}
	}
	ctng_assemble_opts ao = {.threshold = o.threshold,
	                         .period_ms = o.period_ms,
	                         .genesis_ms = o.genesis_ms,
	                         .query_offset_ms = o.query_offset_ms,
	                         .gossip_wait_ms = o.gossip_wait_ms,
	                         .update_offset_ms = o.update_offset_ms,
	                         .dkg_phase_ms = o.dkg_phase_ms};
	if ((rc = ctng_network_assemble((const char *const *)texts, lens, n, &ao, &net, &net_len,
	                                err)))
		goto out;
	if (!o.dkg && (rc = deal(dir, &o, &net, &net_len, err)))
		goto out;
	rc = ctng_write_file_atomic(path, net, net_len, 0644, err);
out:
	for (size_t i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	free(net);
	free(ids);
	free(list);
	free(ca_pem);
	if (ca_key) {
		ctng_wipe(ca_key, strlen(ca_key));
		free(ca_key);
	}
	return rc;
}
