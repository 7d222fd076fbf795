/*
 * traffic.c — what `ctng testnet` sends to the network while it runs and
 * what it measures: certificate requests and revocations through the CAs'
 * HTTP API, the gossipers' per-period counts, and the size of the monitors'
 * client updates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ctng/net.h"
#include "testnet_internal.h"

#define HTTP_TIMEOUT_MS 5000

int testnet_pathf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void testnet_traffic_init(testnet_traffic *t, const ctng_network *net, const char *dir,
                          const char *exe, const ctng_testnet_scenario *s)
{
	memset(t, 0, sizeof(*t));
	t->exe = exe;
	t->net = net;
	t->dir = dir;
	t->s = s;
	for (size_t i = 0; i < net->n_entities && t->n_mon < 16; i++)
		if (net->entities[i].role == CTNG_ROLE_MONITOR && ctng_testnet_runs(s, net->entities[i].id))
			t->mon[t->n_mon++] = &net->entities[i];
	t->mirrored = json_object();
	t->indexed = json_object();
}

void testnet_traffic_free(testnet_traffic *t)
{
	ctng_buf_free(&t->failures);
	json_decref(t->mirrored);
	t->mirrored = NULL;
	json_decref(t->indexed);
	t->indexed = NULL;
	json_decref(t->search);
	t->search = NULL;
}

static bool ca_is_faulty(const ctng_testnet_scenario *s, const char *id)
{
	for (size_t f = 0; f < s->n_faults; f++)
		if (strcmp(s->faults[f].id, id) == 0)
			return true;
	return false;
}

/* Fetches url and parses the JSON answer; returns the HTTP status or -1. */
static int fetch_json(const char *url, const char *method, const char *body, json_t **out)
{
	int status = 0;
	uint8_t *resp = NULL;
	size_t len = 0;
	*out = NULL;
	if (ctng_net_fetch_sync(url, method, body ? "application/json" : NULL, body,
	                        body ? strlen(body) : 0, HTTP_TIMEOUT_MS, &status, &resp, &len,
	                        NULL) != 0)
		return -1;
	json_error_t je;
	*out = json_loadb((const char *)resp, len, 0, &je);
	free(resp);
	return status;
}

static char *new_key_pem(const char *key_path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	if (!k)
		return NULL;
	char *pem = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	FILE *f = fopen(key_path, "w");
	if (b && f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) &&
	    PEM_write_bio_PUBKEY(b, k)) {
		char *data;
		long n = BIO_get_mem_data(b, &data);
		pem = strndup(data, (size_t)n);
	}
	if (f)
		fclose(f);
	BIO_free(b);
	EVP_PKEY_free(k);
	return pem;
}

static void request_cert(testnet_traffic *t, const ctng_entity *ca, uint64_t p)
{
	if (t->n_certs >= TESTNET_MAX_CERTS)
		return;
	testnet_cert *c = &t->certs[t->n_certs];
	memset(c, 0, sizeof(*c));
	c->ca = ca;
	c->requested_in = p;
	char *name = c->name;
	snprintf(c->name, sizeof(c->name), "www%zu.%s.example", t->n_certs, ca->id);
	testnet_pathf(c->key_path, sizeof(c->key_path), "%s/certs", t->dir);
	ctng_mkdir_p(c->key_path, 0755, NULL);
	testnet_pathf(c->key_path, sizeof(c->key_path), "%s/certs/%s.key.pem", t->dir, name);
	testnet_pathf(c->path, sizeof(c->path), "%s/certs/%s.pem", t->dir, name);
	char *pub = new_key_pem(c->key_path);
	if (!pub) {
		t->requests_failed++;
		return;
	}
	json_t *req = json_pack("{s:s,s:s}", "name", name, "public_key", pub);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	free(pub);
	char url[CTNG_URL_MAX + 64];
	snprintf(url, sizeof(url), "%s/ctng/v1/certificates", ca->url);
	json_t *resp = NULL;
	int st = fetch_json(url, "POST", body, &resp);
	free(body);
	const char *h = resp ? json_string_value(json_object_get(resp, "handle")) : NULL;
	if (st >= 200 && st < 300 && h && strlen(h) < sizeof(c->handle)) {
		snprintf(c->handle, sizeof(c->handle), "%s", h);
		t->n_certs++;
	} else {
		t->requests_failed++;
	}
	json_decref(resp);
}

static void poll_cert(testnet_cert *c)
{
	char url[CTNG_URL_MAX + 200];
	snprintf(url, sizeof(url), "%s/ctng/v1/certificates/%s", c->ca->url, c->handle);
	json_t *resp = NULL;
	int st = fetch_json(url, "GET", NULL, &resp);
	const char *status = resp ? json_string_value(json_object_get(resp, "status")) : NULL;
	const char *pem = resp ? json_string_value(json_object_get(resp, "certificate")) : NULL;
	if (st == 200 && status && strcmp(status, "issued") == 0 && pem) {
		if (ctng_write_file_atomic(c->path, pem, strlen(pem), 0644, NULL) == 0)
			c->issued = true;
	}
	json_decref(resp);
}

static void revoke_cert(const testnet_traffic *t, testnet_cert *c, uint64_t p)
{
	/* `ctng cert revoke` does the signing; the run uses the same code path
	 * through the CLI binary so the documented flow is what is exercised. */
	char cmd[16384];
	snprintf(cmd, sizeof(cmd),
	         "'%s' cert revoke --ca '%s' --cert '%s' --key '%s'%s%s%s >/dev/null 2>&1", t->exe,
	         c->ca->url, c->path, c->key_path, t->tls_ca ? " --tls-ca '" : "",
	         t->tls_ca ? t->tls_ca : "", t->tls_ca ? "'" : "");
	c->revoke_sent = true;
	c->revoked_in = p;
	if (system(cmd) == 0)
		c->revoked = true;
}

void testnet_traffic_period(testnet_traffic *t, uint64_t p, uint64_t k)
{
	t->last_period = p;
	for (size_t i = 0; i < t->n_certs; i++)
		if (!t->certs[i].issued)
			poll_cert(&t->certs[i]);
	/* Revoke the first certificate of each CA once it is issued. */
	for (size_t i = 0; i < t->n_certs; i++) {
		testnet_cert *c = &t->certs[i];
		bool first_of_ca = true;
		for (size_t j = 0; j < i; j++)
			if (t->certs[j].ca == c->ca)
				first_of_ca = false;
		if (first_of_ca && c->issued && !c->revoke_sent)
			revoke_cert(t, c, p);
	}
	if (k < 2) {
		for (size_t i = 0; i < t->net->n_entities; i++) {
			const ctng_entity *e = &t->net->entities[i];
			if (e->role == CTNG_ROLE_CA && ctng_testnet_runs(t->s, e->id) &&
			    !ca_is_faulty(t->s, e->id))
				request_cert(t, e, p);
		}
	}
}

/* The slot of a running gossiper in t->wire_* (-1 if none). */
static int wire_slot(const testnet_traffic *t, const ctng_entity *g)
{
	int n = 0;
	for (size_t i = 0; i < t->net->n_entities && n < 16; i++) {
		const ctng_entity *e = &t->net->entities[i];
		if (e->role != CTNG_ROLE_GOSSIPER || !ctng_testnet_runs(t->s, e->id))
			continue;
		if (e == g)
			return n;
		n++;
	}
	return -1;
}

/* Bytes on the wire of this process's connections so far (closed ones:
 * every fetch_sync closes its own). */
static uint64_t own_wire(void)
{
	uint64_t in = 0, out = 0;
	ctng_net_wire_bytes(NULL, &in, &out);
	return in + out;
}

int testnet_fetch_counts(testnet_traffic *t, const ctng_entity *g, uint64_t p,
                         uint64_t counts[CTNG_TYPE_COUNT], uint64_t *con_full_held)
{
	char url[CTNG_URL_MAX + 64];
	snprintf(url, sizeof(url), "%s/ctng/v1/counts?period=%llu", g->url, (unsigned long long)p);
	json_t *resp = NULL;
	uint64_t w0 = own_wire();
	int st = fetch_json(url, "GET", NULL, &resp);
	int slot = wire_slot(t, g);
	if (slot >= 0) /* the run's own polls are not gossip */
		t->wire_pending[slot] += own_wire() - w0;
	json_t *cs = resp ? json_object_get(resp, "counts") : NULL;
	if (st != 200 || !json_is_object(cs)) {
		json_decref(resp);
		return -1;
	}
	for (int i = 0; i < CTNG_TYPE_COUNT; i++) {
		json_t *v = json_object_get(cs, ctng_type_name(ctng_all_types[i]));
		counts[i] = json_is_integer(v) && json_integer_value(v) > 0
		                ? (uint64_t)json_integer_value(v)
		                : 0;
	}
	json_t *bytes = json_object_get(resp, "bytes");
	json_int_t in = json_integer_value(json_object_get(bytes, "in"));
	json_int_t out = json_integer_value(json_object_get(bytes, "out"));
	if (in > 0 || out > 0) {
		uint64_t b = (uint64_t)(in > 0 ? in : 0) + (uint64_t)(out > 0 ? out : 0);
		t->gossip_bytes_sum += b;
		t->gossip_samples++;
		if (b > t->gossip_bytes_max)
			t->gossip_bytes_max = b;
	}
	json_int_t held = json_integer_value(json_object_get(resp, "con_full_total"));
	if (con_full_held)
		*con_full_held = held > 0 ? (uint64_t)held : 0;
	json_decref(resp);
	return 0;
}

/* One monitor's cell of a per-period row (mirrored, indexed): n kept under
 * its id in series (null when it did not answer), printed with the growth
 * since *prev in table mode, *prev moved on. */
static void row_cell(json_t *series, const char *id, bool ok, uint64_t n, uint64_t *prev,
                     FILE *out, bool json)
{
	json_t *arr = json_object_get(series, id);
	if (!arr) {
		arr = json_array();
		json_object_set_new(series, id, arr);
	}
	json_array_append_new(arr, ok ? json_integer((json_int_t)n) : json_null());
	if (!json) {
		if (ok)
			fprintf(out, "  %s %llu (+%llu)", id, (unsigned long long)n,
			        (unsigned long long)(n > *prev ? n - *prev : 0));
		else
			fprintf(out, "  %s -", id);
	}
	if (ok)
		*prev = n;
}

void testnet_mirror_period(testnet_traffic *t, uint64_t p, FILE *out, bool json)
{
	if (!json)
		fprintf(out, "%-7llu %-10s", (unsigned long long)p, "mirrored");
	for (size_t i = 0; i < t->n_mon; i++) {
		char url[CTNG_URL_MAX + 32];
		snprintf(url, sizeof(url), "%s/ctng/v1/mirror", t->mon[i]->url);
		json_t *resp = NULL;
		int st = fetch_json(url, "GET", NULL, &resp);
		json_t *ls = json_object_get(resp, "loggers");
		uint64_t n = 0, fl = 0, fp = 0;
		size_t k;
		json_t *v;
		json_array_foreach(ls, k, v)
		{
			n += (uint64_t)json_integer_value(json_object_get(v, "size"));
			if (json_is_true(json_object_get(v, "watched")))
				continue; /* the figure: logs it does not watch */
			fl += (uint64_t)json_integer_value(json_object_get(v, "bytes_from_logger"));
			fp += (uint64_t)json_integer_value(json_object_get(v, "bytes_from_peers"));
		}
		bool ok = st == 200 && json_is_array(ls);
		json_decref(resp);
		row_cell(t->mirrored, t->mon[i]->id, ok, n, &t->mirrored_prev[i], out, json);
		if (ok) {
			t->mirror_from_loggers[i] = fl;
			t->mirror_from_peers[i] = fp;
		}
	}
	if (!json)
		fprintf(out, "\n");
	fflush(out);
}

void testnet_index_period(testnet_traffic *t, uint64_t p, FILE *out, bool json)
{
	if (!json)
		fprintf(out, "%-7llu %-10s", (unsigned long long)p, "indexed");
	for (size_t i = 0; i < t->n_mon; i++) {
		char url[CTNG_URL_MAX + 32];
		snprintf(url, sizeof(url), "%s/ctng/v1/index", t->mon[i]->url);
		json_t *resp = NULL;
		int st = fetch_json(url, "GET", NULL, &resp);
		json_t *c = json_object_get(resp, "certificates");
		bool ok = st == 200 && json_is_integer(c);
		uint64_t n = ok ? (uint64_t)json_integer_value(c) : 0;
		json_decref(resp);
		row_cell(t->indexed, t->mon[i]->id, ok, n, &t->indexed_prev[i], out, json);
	}
	if (!json)
		fprintf(out, "\n");
	fflush(out);
}

void testnet_search_check(testnet_traffic *t)
{
	const testnet_cert *c = NULL;
	for (size_t i = 0; i < t->n_certs && !c; i++)
		if (t->certs[i].issued)
			c = &t->certs[i];
	if (!c || !t->n_mon)
		return;
	/* a running monitor and a (running) logger it does not watch */
	const ctng_entity *mon = NULL, *lg = NULL;
	for (size_t i = 0; i < t->n_mon && !lg; i++)
		for (size_t k = 0; k < ctng_network_count(t->net, CTNG_ROLE_LOGGER) && !lg; k++) {
			const ctng_entity *l = ctng_network_nth(t->net, CTNG_ROLE_LOGGER, k);
			if (ctng_testnet_runs(t->s, l->id) &&
			    !ctng_network_watches(t->net, t->mon[i]->id, l->id)) {
				mon = t->mon[i];
				lg = l;
			}
		}
	size_t mi = 0;
	if (!mon)
		mon = t->mon[0]; /* every monitor watches every logger */
	while (t->mon[mi] != mon)
		mi++;
	char url[CTNG_URL_MAX + 200];
	snprintf(url, sizeof(url), "%s/ctng/v1/search?domain=%s", mon->url, c->name);
	json_t *resp = NULL;
	int st = fetch_json(url, "GET", NULL, &resp);
	json_t *res = json_object_get(resp, "results");
	/* Nothing found is a failure only if the monitor indexed something: in a
	 * run whose every logger is convicted (seed-sample), nothing is mirrored. */
	if (st != 200 || !json_is_array(res) ||
	    (json_array_size(res) == 0 && t->indexed_prev[mi] > 0)) {
		ctng_buf_printf(&t->failures, "search of %s through %s: %s\n", c->name, mon->id,
		                st != 200 ? "no answer" : "no certificate found");
		t->n_failures++;
	}
	t->search = json_pack("{s:s,s:s,s:s?,s:O}", "domain", c->name, "monitor", mon->id,
	                      "unwatched_logger", lg ? lg->id : NULL, "certificates",
	                      json_is_array(res) ? res : json_array());
	json_decref(resp);
}

static void print_search(const testnet_traffic *t, FILE *out)
{
	if (!t->search)
		return;
	const char *lg = json_string_value(json_object_get(t->search, "unwatched_logger"));
	json_t *res = json_object_get(t->search, "certificates");
	fprintf(out, "search %s through %s%s%s%s: %zu certificate%s\n",
	        json_string_value(json_object_get(t->search, "domain")),
	        json_string_value(json_object_get(t->search, "monitor")),
	        lg ? " (it does not watch " : "", lg ? lg : "", lg ? ")" : "", json_array_size(res),
	        json_array_size(res) == 1 ? "" : "s");
	size_t i, k;
	json_t *r, *e;
	json_array_foreach(res, i, r)
	{
		json_t *rid = json_object_get(r, "rid"), *rev = json_object_get(r, "revoked");
		fprintf(out, "  %s  issuer %s  RID %lld  revoked %s  logged",
		        json_string_value(json_array_get(json_object_get(r, "names"), 0)),
		        json_string_value(json_object_get(r, "issuer")),
		        json_is_integer(rid) ? (long long)json_integer_value(rid) : -1LL,
		        json_is_true(rev) ? "yes" : json_is_false(rev) ? "no" : "unknown");
		json_array_foreach(json_object_get(r, "entries"), k, e)
		fprintf(out, " %s#%lld", json_string_value(json_object_get(e, "logger")),
		        (long long)json_integer_value(json_object_get(e, "index")));
		fprintf(out, "\n");
	}
}

void testnet_read_monitor_logs(testnet_traffic *t, uint64_t first, uint64_t last)
{
	for (size_t i = 0; i < t->net->n_entities; i++) {
		const ctng_entity *e = &t->net->entities[i];
		if (e->role != CTNG_ROLE_MONITOR || !ctng_testnet_runs(t->s, e->id))
			continue;
		char path[4096], line[2048];
		testnet_pathf(path, sizeof(path), "%s/%s/daemon.log", t->dir, e->id);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			static const char tag[] = "msg=\"client update published\" period=";
			const char *pp = strstr(line, tag);
			const char *lf = strstr(line, "last_full_after_ms=");
			if (!pp || !lf)
				continue;
			unsigned long long p = strtoull(pp + sizeof(tag) - 1, NULL, 10);
			unsigned long long ms = strtoull(lf + 19, NULL, 10);
			if (p < first || p > last || ms == 0)
				continue;
			t->last_full_ms_sum += ms;
			t->last_full_samples++;
			if (ms > t->last_full_ms_max)
				t->last_full_ms_max = ms;
		}
		if (f)
			fclose(f);
	}
}

/* A gossiper's ctng_net_wire_bytes_total (in + out) from its /metrics. */
static bool wire_bytes(const ctng_entity *e, uint64_t *total)
{
	char url[CTNG_URL_MAX + 16];
	snprintf(url, sizeof(url), "%s/metrics", e->url);
	int status = 0;
	uint8_t *body = NULL;
	bool ok = false;
	*total = 0;
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, HTTP_TIMEOUT_MS, &status, &body, NULL,
	                        NULL) == 0 &&
	    status == 200) {
		static const char *const keys[] = {"ctng_net_wire_bytes_total{direction=\"in\"} ",
		                                   "ctng_net_wire_bytes_total{direction=\"out\"} "};
		for (int i = 0; i < 2; i++) {
			const char *at = strstr((const char *)body, keys[i]);
			if (at) {
				*total += (uint64_t)strtod(at + strlen(keys[i]), NULL);
				ok = true;
			}
		}
	}
	free(body);
	return ok;
}

void testnet_collect_figures(testnet_traffic *t, uint64_t p, uint64_t k)
{
	size_t g = 0;
	for (size_t i = 0; i < t->net->n_entities && g < 16; i++) {
		const ctng_entity *e = &t->net->entities[i];
		if (e->role != CTNG_ROLE_GOSSIPER || !ctng_testnet_runs(t->s, e->id))
			continue;
		uint64_t b;
		uint64_t w0 = own_wire();
		if (!ctng_testnet_killed(t->s, e->id) && wire_bytes(e, &b)) {
			/* polls made since the last reading are in b: not gossip */
			if (!t->wire_seen[g]) {
				t->wire_first[g] = b;
				t->wire_k_first[g] = k;
				t->wire_seen[g] = true;
			} else {
				t->wire_own[g] += t->wire_pending[g];
			}
			/* this scrape itself shows in the next reading */
			t->wire_pending[g] = own_wire() - w0;
			t->wire_last[g] = b;
			t->wire_k_last[g] = k;
		}
		g++;
	}
	for (size_t i = 0; i < t->net->n_entities; i++) {
		const ctng_entity *e = &t->net->entities[i];
		if (e->role != CTNG_ROLE_MONITOR || !ctng_testnet_runs(t->s, e->id) ||
		    ctng_testnet_unchecked(t->s, t->net, e->id))
			continue;
		char url[CTNG_URL_MAX + 64];
		snprintf(url, sizeof(url), "%s/ctng/v1/update?period=%llu", e->url,
		         (unsigned long long)p);
		int status = 0;
		uint8_t *body = NULL;
		size_t len = 0;
		if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, HTTP_TIMEOUT_MS, &status, &body,
		                        &len, NULL) == 0 &&
		    status == 200) {
			t->update_bytes_sum += len;
			t->update_samples++;
			if (len > t->update_bytes_max)
				t->update_bytes_max = len;
		} else if (!(k == t->s->kill_k && ctng_testnet_killed(t->s, e->id))) {
			ctng_buf_printf(&t->failures, "period %llu %s: no client update served\n",
			                (unsigned long long)p, e->id);
			t->n_failures++;
		}
		free(body);
	}
}

/* Runs cmd with stderr into errpath; returns its exit status (-1: no
 * status) and the first line of its stderr in why. */
static int run_cmd(const char *cmd, const char *errpath, char *why, size_t why_len)
{
	char full[20000];
	snprintf(full, sizeof full, "%s 2>'%s' >/dev/null", cmd, errpath);
	int st = system(full);
	why[0] = 0;
	FILE *f = fopen(errpath, "r");
	if (f) {
		if (fgets(why, (int)why_len, f))
			why[strcspn(why, "\n")] = 0;
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

size_t testnet_check_clients(testnet_traffic *t, ctng_buf *failures)
{
	size_t fails = 0, checked = 0;
	char errpath[4096], cmd[16384], why[512];
	testnet_pathf(errpath, sizeof errpath, "%s/client.err", t->dir);
	/* nothing acknowledged is lost: every request a CA answered with a
	 * handle is issued (a last poll for those issued at the last period) */
	for (size_t k = 0; k < t->n_certs; k++) {
		if (!t->certs[k].issued)
			poll_cert(&t->certs[k]);
		if (!t->certs[k].issued) {
			ctng_buf_printf(failures, "%s acknowledged request %s but never issued it\n",
			                t->certs[k].ca->id, t->certs[k].handle);
			fails++;
		}
	}
	for (size_t i = 0; i < t->net->n_entities; i++) {
		const ctng_entity *m = &t->net->entities[i];
		bool skip = false;
		for (const char *const *c = t->s->client_skip; c && *c; c++)
			skip |= strcmp(*c, m->id) == 0;
		if (m->role != CTNG_ROLE_MONITOR || !ctng_testnet_runs(t->s, m->id) ||
		    ctng_testnet_unchecked(t->s, t->net, m->id) || skip)
			continue;
		char state[4096];
		testnet_pathf(state, sizeof state, "%s/rp-%s.db", t->dir, m->id);
		snprintf(cmd, sizeof cmd,
		         "'%s' client sync --monitor '%s' --state '%s' --network '%s/network.json'",
		         t->exe, m->url, state, t->dir);
		if (run_cmd(cmd, errpath, why, sizeof why) != 0) {
			ctng_buf_printf(failures, "client sync from %s failed: %s\n", m->id, why);
			fails++;
			continue;
		}
		for (size_t k = 0; k < t->n_certs; k++) {
			const testnet_cert *c = &t->certs[k];
			if (c->revoked && c->revoked_in + 1 <= t->last_period) {
				/* acknowledged revocation: in REV(r+1), attested by now */
				snprintf(cmd, sizeof cmd, "'%s' client verify --state '%s' '%s'", t->exe,
				         state, c->path);
				int rv = run_cmd(cmd, errpath, why, sizeof why);
				if (rv != 1 || !strstr(why, "REVOKED")) {
					ctng_buf_printf(failures,
					                "relying party of %s does not see %s revoked: %s\n",
					                m->id, c->path, why);
					fails++;
				}
				continue;
			}
			if (!c->issued || c->revoke_sent)
				continue;
			snprintf(cmd, sizeof cmd, "'%s' client verify --state '%s' '%s'", t->exe, state,
			         c->path);
			checked++;
			if (run_cmd(cmd, errpath, why, sizeof why) != 0) {
				ctng_buf_printf(failures, "relying party of %s rejects %s: %s\n",
				                m->id, c->path, why);
				fails++;
			}
		}
	}
	if (checked == 0) {
		ctng_buf_printf(failures, "no issued certificate to check with a relying party\n");
		fails++;
	}
	return fails;
}

size_t testnet_traffic_check(const testnet_traffic *t, ctng_buf *failures)
{
	if (t->failures.len)
		ctng_buf_append(failures, t->failures.data, t->failures.len);
	return t->n_failures;
}

void testnet_print_figures(const testnet_traffic *t, FILE *out)
{
	size_t issued = 0, revoked = 0;
	for (size_t i = 0; i < t->n_certs; i++) {
		issued += t->certs[i].issued;
		revoked += t->certs[i].revoked;
	}
	fprintf(out, "\ncertificates: %zu requested, %zu issued, %zu revoked (in %s/certs)\n",
	        t->n_certs, issued, revoked, t->dir);
	if (t->update_samples)
		fprintf(out, "client update: %llu bytes on average, %llu at most\n",
		        (unsigned long long)(t->update_bytes_sum / t->update_samples),
		        (unsigned long long)t->update_bytes_max);
	if (t->gossip_samples)
		fprintf(out,
		        "gossip traffic per gossiper per period (in+out): %llu bytes on average, "
		        "%llu at most\n",
		        (unsigned long long)(t->gossip_bytes_sum / t->gossip_samples),
		        (unsigned long long)t->gossip_bytes_max);
	for (size_t i = 0; i < t->n_mon; i++)
		fprintf(out,
		        "mirror %s: %llu entries held; for logs it does not watch it downloaded %llu "
		        "bytes from loggers, %llu from peer mirrors\n",
		        t->mon[i]->id, (unsigned long long)t->mirrored_prev[i],
		        (unsigned long long)t->mirror_from_loggers[i],
		        (unsigned long long)t->mirror_from_peers[i]);
	print_search(t, out);
	if (t->last_full_samples)
		fprintf(out,
		        "last FULL at a monitor after period start: %llu ms on average, %llu at "
		        "most (gossip_wait %llu ms)\n",
		        (unsigned long long)(t->last_full_ms_sum / t->last_full_samples),
		        (unsigned long long)t->last_full_ms_max,
		        (unsigned long long)t->net->clock.gossip_wait_ms);
}

json_t *testnet_figures_json(const testnet_traffic *t)
{
	size_t issued = 0, revoked = 0;
	for (size_t i = 0; i < t->n_certs; i++) {
		issued += t->certs[i].issued;
		revoked += t->certs[i].revoked;
	}
	json_t *f = json_object();
	json_object_set_new(f, "certs_requested", json_integer((json_int_t)t->n_certs));
	json_object_set_new(f, "certs_issued", json_integer((json_int_t)issued));
	json_object_set_new(f, "certs_revoked", json_integer((json_int_t)revoked));
	json_object_set_new(f, "update_bytes_max", json_integer((json_int_t)t->update_bytes_max));
	json_object_set_new(
	    f, "update_bytes_avg",
	    json_integer(
	        (json_int_t)(t->update_samples ? t->update_bytes_sum / t->update_samples : 0)));
	json_object_set_new(f, "gossip_bytes_max", json_integer((json_int_t)t->gossip_bytes_max));
	json_object_set_new(
	    f, "gossip_bytes_avg",
	    json_integer(
	        (json_int_t)(t->gossip_samples ? t->gossip_bytes_sum / t->gossip_samples : 0)));
	json_object_set_new(f, "last_full_ms_max", json_integer((json_int_t)t->last_full_ms_max));
	uint64_t wire = 0, wire_periods = 0;
	for (size_t g = 0; g < 16; g++)
		if (t->wire_seen[g] && t->wire_k_last[g] > t->wire_k_first[g]) {
			uint64_t d = t->wire_last[g] - t->wire_first[g];
			wire += d > t->wire_own[g] ? d - t->wire_own[g] : 0;
			wire_periods += t->wire_k_last[g] - t->wire_k_first[g];
		}
	json_object_set_new(f, "gossiper_wire_bytes_avg",
	                    json_integer((json_int_t)(wire_periods ? wire / wire_periods : 0)));
	json_object_set_new(f, "mirrored", json_deep_copy(t->mirrored));
	json_object_set_new(f, "indexed", json_deep_copy(t->indexed));
	if (t->search)
		json_object_set_new(f, "search", json_deep_copy(t->search));
	/* Per monitor per period, averaged over the monitors and the run. */
	uint64_t fl = 0, fp = 0, np = 0;
	for (size_t i = 0; i < t->n_mon; i++) {
		fl += t->mirror_from_loggers[i];
		fp += t->mirror_from_peers[i];
	}
	json_t *arr = t->n_mon ? json_object_get(t->mirrored, t->mon[0]->id) : NULL;
	np = arr ? json_array_size(arr) : 0;
	uint64_t div = t->n_mon && np ? t->n_mon * np : 1;
	json_object_set_new(f, "mirror_unwatched_from_loggers", json_integer((json_int_t)(fl / div)));
	json_object_set_new(f, "mirror_unwatched_from_peers", json_integer((json_int_t)(fp / div)));
	json_object_set_new(f, "last_full_ms_avg",
	                    json_integer((json_int_t)(t->last_full_samples
	                                                  ? t->last_full_ms_sum / t->last_full_samples
	                                                  : 0)));
	json_object_set_new(f, "gossip_wait_ms",
	                    json_integer((json_int_t)t->net->clock.gossip_wait_ms));
	return f;
}
