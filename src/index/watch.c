/*
 * watch.c — watch lists (docs/monitor.md §11): the strict parse of a watch
 * (POST /ctng/v1/watches and the config's "watches"), the webhook URL
 * policy (http/https only; public addresses, or the operator's allow list),
 * storing, listing and deleting watches, and matching a new certificate's
 * index keys against all watches at once (a sorted key table, so the cost
 * per certificate does not grow with the number of watches).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/net.h"
#include "index/index_internal.h"

/* ------------------------------------------------------------ webhooks */

typedef struct url_parts {
	bool https;
	char host[256]; /* without brackets */
	bool v6;
	unsigned port; /* 0: default */
} url_parts;

static int url_split(const char *url, url_parts *u, ctng_err *err)
{
	memset(u, 0, sizeof(*u));
	size_t n = strlen(url);
	if (n == 0 || n > CTNG_WEBHOOK_URL_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "webhook: 1..%d bytes", CTNG_WEBHOOK_URL_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "webhook: only printable ASCII, no spaces");
	const char *p;
	if (!strncmp(url, "http://", 7))
		p = url + 7;
	else if (!strncmp(url, "https://", 8)) {
		p = url + 8;
		u->https = true;
	} else
		return ctng_err_set(err, CTNG_EINVAL, "webhook: must be an http:// or https:// URL");
	if (strchr(url, '#'))
		return ctng_err_set(err, CTNG_EINVAL, "webhook: no fragment");
	size_t alen = strcspn(p, "/?");
	const char *a = p, *end = p + alen;
	if (memchr(a, '@', alen))
		return ctng_err_set(err, CTNG_EINVAL, "webhook: no user information");
	const char *port = NULL;
	if (*a == '[') {
		const char *rb = memchr(a, ']', alen);
		if (!rb || (size_t)(rb - a - 1) >= sizeof u->host)
			return ctng_err_set(err, CTNG_EINVAL, "webhook: bad IPv6 address");
		memcpy(u->host, a + 1, (size_t)(rb - a - 1));
		u->v6 = true;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return ctng_err_set(err, CTNG_EINVAL, "webhook: bad host");
			port = rb + 2;
		}
		struct in6_addr x;
		if (inet_pton(AF_INET6, u->host, &x) != 1)
			return ctng_err_set(err, CTNG_EINVAL, "webhook: bad IPv6 address");
	} else {
		const char *c = memchr(a, ':', alen);
		size_t hl = c ? (size_t)(c - a) : alen;
		if (hl == 0 || hl >= sizeof u->host)
			return ctng_err_set(err, CTNG_EINVAL, "webhook: no host");
		memcpy(u->host, a, hl);
		for (size_t i = 0; i < hl; i++) {
			char ch = u->host[i];
			if (ch >= 'A' && ch <= 'Z')
				u->host[i] = (char)(ch + 32);
			else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			           ch == '.' || ch == '_'))
				return ctng_err_set(err, CTNG_EINVAL, "webhook: bad host");
		}
		if (c)
			port = c + 1;
	}
	if (port) {
		char pb[8];
		size_t pl = (size_t)(end - port);
		uint64_t v = 0;
		if (pl == 0 || pl >= sizeof pb)
			return ctng_err_set(err, CTNG_EINVAL, "webhook: bad port");
		memcpy(pb, port, pl);
		pb[pl] = 0;
		if (ctng_parse_u64(pb, 65535, &v, NULL) || v == 0)
			return ctng_err_set(err, CTNG_EINVAL, "webhook: port 1..65535");
		u->port = (unsigned)v;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* Hosts that are internal by their address or their name. */
static bool host_internal(const url_parts *u)
{
	uint8_t b[16];
	if (u->v6)
		return inet_pton(AF_INET6, u->host, b) != 1 || ctng_net_ip_special(AF_INET6, b);
	if (inet_pton(AF_INET, u->host, b) == 1)
		return ctng_net_ip_special(AF_INET, b);
	const char *h = u->host;
	return !strchr(h, '.') || !strcmp(h, "localhost") || ends_with(h, ".localhost") ||
	       ends_with(h, ".local") || ends_with(h, ".internal") || ends_with(h, ".home.arpa") ||
	       ends_with(h, ".lan") || ends_with(h, ".");
}

/* Does allow-list entry `a` ("HOST", "HOST:PORT", "[V6]:PORT", "ADDR/BITS")
 * admit u? */
static bool allowed_by(const char *a, const url_parts *u)
{
	if (strchr(a, '/')) {
		ctng_net_prefix p;
		uint8_t hb[16];
		return !ctng_net_prefix_parse(a, &p) && inet_pton(p.af, u->host, hb) == 1 &&
		       (p.af == AF_INET6) == u->v6 && ctng_net_prefix_contains(&p, p.af, hb);
	}
	char host[300];
	unsigned port = 0;
	if (a[0] == '[') {
		const char *rb = strchr(a, ']');
		if (!rb || (size_t)(rb - a) >= sizeof host)
			return false;
		snprintf(host, sizeof host, "%.*s", (int)(rb - a - 1), a + 1);
		if (rb[1] == ':')
			port = (unsigned)strtoul(rb + 2, NULL, 10);
	} else {
		const char *c = strrchr(a, ':');
		snprintf(host, sizeof host, "%.*s", c ? (int)(c - a) : (int)strlen(a), a);
		if (c)
			port = (unsigned)strtoul(c + 1, NULL, 10);
	}
	for (char *p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	unsigned up = u->port ? u->port : u->https ? 443 : 80;
	return !strcmp(host, u->host) && (!port || port == up);
}

bool ctng_index_webhook_listed(const ctng_index *ix, const char *url)
{
	url_parts u;
	if (url_split(url, &u, NULL))
		return false;
	for (size_t i = 0; i < ix->n_allow; i++)
		if (allowed_by(ix->allow[i], &u))
			return true;
	return false;
}

const char *const *ctng_index_webhook_prefixes(const ctng_index *ix)
{
	return (const char *const *)ix->allow_nets;
}

void ctng_index_webhook_opts(const ctng_index *ix, const char *url, const char *tls_ca,
                             ctng_net_client_opts *o)
{
	o->public_only = !ctng_index_webhook_listed(ix, url);
	o->public_except = ctng_index_webhook_prefixes(ix);
	o->tls_ca = tls_ca ? tls_ca : CTNG_NET_TLS_SYSTEM_ROOTS;
}

int ctng_index_webhook_check(const ctng_index *ix, const char *url, ctng_err *err)
{
	url_parts u;
	int rc = url_split(url, &u, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < ix->n_allow; i++)
		if (allowed_by(ix->allow[i], &u))
			return 0;
	if (ix->allow_only)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "webhook: %s is not one of this monitor's allowed targets", u.host);
	if (host_internal(&u))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "webhook: %s is an internal address or name (not allowed unless "
		                    "the monitor's operator lists it in webhooks.allow)",
		                    u.host);
	return 0;
}

/* --------------------------------------------------------------- parse */

int ctng_index_watch_parse(const ctng_index *ix, const json_t *body, ctng_watch *out,
                           ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(body))
		return ctng_err_set(err, CTNG_EINVAL, "watch: expected a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)body, k, v)
	{
		if (strcmp(k, "domain") && strcmp(k, "subdomains") && strcmp(k, "webhook"))
			return ctng_err_set(err, CTNG_EINVAL, "watch: unknown member \"%.64s\"", k);
	}
	json_t *d = json_object_get(body, "domain"), *s = json_object_get(body, "subdomains"),
	       *w = json_object_get(body, "webhook");
	if (!json_is_string(d))
		return ctng_err_set(err, CTNG_EINVAL, "watch: \"domain\" must be a string");
	if (s && !json_is_boolean(s))
		return ctng_err_set(err, CTNG_EINVAL, "watch: \"subdomains\" must be true or false");
	if (!json_is_string(w))
		return ctng_err_set(err, CTNG_EINVAL, "watch: \"webhook\" must be a URL string");
	if (strlen(json_string_value(d)) != json_string_length(d) ||
	    strlen(json_string_value(w)) != json_string_length(w))
		return ctng_err_set(err, CTNG_EINVAL, "watch: NUL byte in a member");
	int rc = index_domain_parse(json_string_value(d), out->domain, err);
	if (rc)
		return rc;
	out->subdomains = json_is_true(s);
	if (out->subdomains && out->domain[0] == '*')
		return ctng_err_set(err, CTNG_EINVAL, "watch: subdomains not with a wildcard domain");
	if ((rc = ctng_index_webhook_check(ix, json_string_value(w), err)))
		return rc;
	snprintf(out->webhook, sizeof out->webhook, "%s", json_string_value(w));
	return 0;
}

int ctng_index_watches_from_config(const ctng_index *ix, const char *text, ctng_watch **ws,
                                   size_t *n, ctng_err *err)
{
	*ws = NULL;
	*n = 0;
	if (!text)
		return 0;
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_array(j)) {
		json_decref(j);
		return ctng_err_set(err, CTNG_EINVAL, "watches: expected an array of watches");
	}
	size_t cnt = json_array_size(j);
	int rc = 0;
	if (cnt > ix->max_watches)
		rc = ctng_err_set(err, CTNG_EINVAL, "watches: more than %u", ix->max_watches);
	else if (cnt && !(*ws = calloc(cnt, sizeof(**ws))))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < cnt; i++) {
		if ((rc = ctng_index_watch_parse(ix, json_array_get(j, i), &(*ws)[i], err)))
			ctng_err_wrap(err, "watches[%zu]", i);
		(*ws)[i].from_config = true;
	}
	json_decref(j);
	if (rc) {
		free(*ws);
		*ws = NULL;
		return rc;
	}
	*n = cnt;
	return 0;
}

/* --------------------------------------------------------------- store */

static int wkey_cmp(const void *a, const void *b)
{
	return strcmp(((const index_wkey *)a)->key, ((const index_wkey *)b)->key);
}

int index_watch_keys_rebuild(ctng_index *ix, ctng_err *err)
{
	free(ix->wkeys);
	ix->wkeys = NULL;
	ix->n_wkeys = 0;
	if (!ix->n_watches)
		return 0;
	if (!(ix->wkeys = calloc(3 * ix->n_watches, sizeof(*ix->wkeys))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < ix->n_watches; i++) {
		const ctng_watch *w = &ix->watches[i];
		/* the keys a search for the watch reads (names.c) */
		index_wkey *k = &ix->wkeys[ix->n_wkeys++];
		k->watch = i;
		snprintf(k->key, sizeof k->key, "=%s", w->domain);
		if (w->subdomains) {
			k = &ix->wkeys[ix->n_wkeys++];
			k->watch = i;
			snprintf(k->key, sizeof k->key, "~%s", w->domain);
		}
		const char *p = strchr(w->domain, '.');
		/* a certificate for "*.parent" covers a watched name under parent */
		if (w->domain[0] != '*' && p && strchr(p + 1, '.')) {
			k = &ix->wkeys[ix->n_wkeys++];
			k->watch = i;
			snprintf(k->key, sizeof k->key, "P:%s", p + 1);
		}
	}
	qsort(ix->wkeys, ix->n_wkeys, sizeof(*ix->wkeys), wkey_cmp);
	return 0;
}

static void match_key(const ctng_index *ix, const char *key, size_t *out, size_t max, size_t *n)
{
	/* the first entry with this key, then every equal one */
	size_t lo = 0, hi = ix->n_wkeys;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(ix->wkeys[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n_wkeys && !strcmp(ix->wkeys[lo].key, key); lo++) {
		bool seen = false;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = out[i] == ix->wkeys[lo].watch;
		if (!seen && *n < max)
			out[(*n)++] = ix->wkeys[lo].watch;
	}
}

size_t index_watch_match(const ctng_index *ix, char (*keys)[INDEX_KEY_MAX], size_t n_keys,
                         size_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < n_keys && ix->n_wkeys; i++) {
		match_key(ix, keys[i], out, max, &n);
		if (!strncmp(keys[i], "=*.", 3)) {
			char p[INDEX_KEY_MAX];
			snprintf(p, sizeof p, "P:%s", keys[i] + 3);
			match_key(ix, p, out, max, &n);
		}
	}
	return n;
}

int index_watch_load(ctng_index *ix, ctng_err *err)
{
	free(ix->watches);
	free(ix->pending);
	ix->watches = NULL;
	ix->pending = NULL;
	ix->n_watches = 0;
	sqlite3_stmt *s = NULL, *c = NULL;
	int rc = index_prepare(ix,
	                       "SELECT id, domain, subdomains, webhook, config FROM index_watch"
	                       " ORDER BY id",
	                       &s, err);
	size_t cap = 0;
	while (!rc && sqlite3_step(s) == SQLITE_ROW) {
		if (ix->n_watches == cap) {
			cap = cap ? 2 * cap : 16;
			ctng_watch *v = realloc(ix->watches, cap * sizeof(*v));
			uint32_t *p = realloc(ix->pending, cap * sizeof(*p));
			if (v)
				ix->watches = v;
			if (p)
				ix->pending = p;
			if (!v || !p) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				break;
			}
		}
		ctng_watch *w = &ix->watches[ix->n_watches];
		memset(w, 0, sizeof(*w));
		w->id = (uint64_t)sqlite3_column_int64(s, 0);
		snprintf(w->domain, sizeof w->domain, "%s", (const char *)sqlite3_column_text(s, 1));
		w->subdomains = sqlite3_column_int(s, 2) != 0;
		snprintf(w->webhook, sizeof w->webhook, "%s", (const char *)sqlite3_column_text(s, 3));
		w->from_config = sqlite3_column_int(s, 4) != 0;
		ix->pending[ix->n_watches++] = 0;
	}
	sqlite3_finalize(s);
	if (!rc)
		rc = index_prepare(ix, "SELECT watch, count(*) FROM index_outbox GROUP BY watch", &c,
		                   err);
	while (!rc && sqlite3_step(c) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(c, 0);
		for (size_t i = 0; i < ix->n_watches; i++)
			if (ix->watches[i].id == id)
				ix->pending[i] = (uint32_t)sqlite3_column_int64(c, 1);
	}
	sqlite3_finalize(c);
	return rc ? rc : index_watch_keys_rebuild(ix, err);
}

static int watch_insert(ctng_index *ix, const ctng_watch *w, uint64_t now_ms, uint64_t *id,
                        bool *existed, ctng_err *err)
{
	*existed = false;
	for (size_t i = 0; i < ix->n_watches; i++) {
		const ctng_watch *o = &ix->watches[i];
		if (!strcmp(o->domain, w->domain) && o->subdomains == w->subdomains &&
		    !strcmp(o->webhook, w->webhook)) {
			*id = o->id;
			*existed = true;
			return 0;
		}
	}
	if (ix->n_watches >= ix->max_watches)
		return ctng_err_set(err, CTNG_ERANGE, "watches: this monitor keeps at most %u",
		                    ix->max_watches);
	sqlite3_stmt *s = NULL;
	int rc = index_prepare(ix,
	                       "INSERT INTO index_watch (domain, subdomains, webhook, config,"
	                       " created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
	                       &s, err);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, w->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, w->subdomains);
	sqlite3_bind_text(s, 3, w->webhook, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, w->from_config);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)now_ms);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : index_db_fail(ix, err, "storing a watch");
	sqlite3_finalize(s);
	if (!rc)
		*id = (uint64_t)sqlite3_last_insert_rowid(ix->db);
	return rc;
}

int ctng_index_watch_add(ctng_index *ix, const ctng_watch *w, uint64_t now_ms, uint64_t *id,
                         bool *existed, ctng_err *err)
{
	int rc = watch_insert(ix, w, now_ms, id, existed, err);
	if (!rc && !*existed)
		rc = index_watch_load(ix, err);
	return rc;
}

static int watch_remove(ctng_index *ix, uint64_t id, ctng_err *err)
{
	sqlite3_stmt *a = NULL, *b = NULL;
	int rc = index_prepare(ix, "DELETE FROM index_outbox WHERE watch = ?1", &a, err);
	if (!rc)
		rc = index_prepare(ix, "DELETE FROM index_watch WHERE id = ?1", &b, err);
	if (!rc) {
		sqlite3_bind_int64(a, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(b, 1, (sqlite3_int64)id);
		if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(b) != SQLITE_DONE)
			rc = index_db_fail(ix, err, "deleting a watch");
	}
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return rc;
}

int ctng_index_watch_delete(ctng_index *ix, uint64_t id, ctng_err *err)
{
	const ctng_watch *w = NULL;
	for (size_t i = 0; i < ix->n_watches && !w; i++)
		if (ix->watches[i].id == id)
			w = &ix->watches[i];
	if (!w)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no watch %" PRIu64, id);
	if (w->from_config)
		return ctng_err_set(err, CTNG_ECONFLICT,
		                    "watch %" PRIu64 " comes from the monitor's config; edit it there",
		                    id);
	int rc = ctng_store_begin(ix->st, err);
	if (!rc && !(rc = watch_remove(ix, id, err)))
		rc = ctng_store_commit(ix->st, err);
	if (rc)
		ctng_store_rollback(ix->st, NULL);
	int lrc = index_watch_load(ix, rc ? NULL : err);
	return rc ? rc : lrc;
}

int ctng_index_watch_sync_config(ctng_index *ix, const ctng_watch *ws, size_t n, uint64_t now_ms,
                                 ctng_err *err)
{
	int rc = ctng_store_begin(ix->st, err);
	/* config watches no longer in the config go, with their notifications */
	for (size_t i = 0; !rc && i < ix->n_watches; i++) {
		const ctng_watch *o = &ix->watches[i];
		bool keep = !o->from_config;
		for (size_t k = 0; k < n && !keep; k++)
			keep = !strcmp(ws[k].domain, o->domain) && ws[k].subdomains == o->subdomains &&
			       !strcmp(ws[k].webhook, o->webhook);
		if (!keep)
			rc = watch_remove(ix, o->id, err);
	}
	if (!rc)
		rc = index_watch_load(ix, err);
	for (size_t k = 0; !rc && k < n; k++) {
		ctng_watch w = ws[k];
		w.from_config = true;
		uint64_t id;
		bool existed;
		if (!(rc = watch_insert(ix, &w, now_ms, &id, &existed, err)) && existed) {
			/* the same watch made through the API now belongs to the config */
			sqlite3_stmt *s = NULL;
			if (!(rc = index_prepare(ix, "UPDATE index_watch SET config = 1 WHERE id = ?1",
			                         &s, err))) {
				sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
				rc = sqlite3_step(s) == SQLITE_DONE ? 0
				                                   : index_db_fail(ix, err, "a watch");
			}
			sqlite3_finalize(s);
		}
		if (!rc)
			rc = index_watch_load(ix, err);
	}
	if (!rc)
		rc = ctng_store_commit(ix->st, err);
	if (rc)
		ctng_store_rollback(ix->st, NULL);
	int lrc = index_watch_load(ix, rc ? NULL : err);
	return rc ? rc : lrc;
}

int ctng_index_watch_list(ctng_index *ix, json_t **out, ctng_err *err)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ix->n_watches; i++) {
		const ctng_watch *w = &ix->watches[i];
		char id[24];
		snprintf(id, sizeof id, "%" PRIu64, w->id);
		if (json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:s,s:s,s:I}", "id", id, "domain",
		                                       w->domain, "subdomains", w->subdomains,
		                                       "webhook", w->webhook, "source",
		                                       w->from_config ? "config" : "api", "pending",
		                                       (json_int_t)ix->pending[i]))) {
			json_decref(a);
			a = NULL;
		}
	}
	*out = a ? json_pack("{s:o}", "watches", a) : NULL;
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}
