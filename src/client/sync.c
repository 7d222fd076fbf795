/*
 * sync.c — `ctng client sync` as a library call: fetch the client update of
 * every period since the last one applied from one monitor and apply them in
 * order (include/ctng/client.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "ctng/net.h"

/* Full CRVs for the CAs whose CRV is not known; returns how many became known. */
static size_t fetch_crvs(ctng_client *c, const char *monitor_url, size_t ul, uint64_t timeout_ms)
{
	size_t got = 0;
	for (size_t i = 0; i < c->n_cas; i++) {
		client_ca *ca = &c->cas[i];
		if (ca->known || !ca->have_period)
			continue;
		char url[CTNG_URL_MAX + CTNG_ID_MAX + 64];
		snprintf(url, sizeof(url), "%.*s/ctng/v1/crv?ca=%s&period=%llu", (int)ul, monitor_url,
		         ca->ent->id, (unsigned long long)ca->period);
		int status = 0;
		uint8_t *body = NULL, *crv = NULL;
		size_t blen = 0, clen = 0;
		ctng_err e = {0};
		json_t *j = NULL;
		int rc = ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, timeout_ms ? timeout_ms : 10000,
		                             &status, &body, &blen, &e);
		if (!rc && status != 200)
			rc = ctng_err_set(&e, CTNG_ENOTFOUND, "HTTP status %d", status);
		if (!rc)
			rc = ctng_net_parse_json(body, blen, CLIENT_UPDATE_TEXT_MAX, &j, &e);
		const char *b64 = json_string_value(json_object_get(j, "crv"));
		const char *ca_id = json_string_value(json_object_get(j, "ca"));
		if (!rc && (!b64 || !ca_id || strcmp(ca_id, ca->ent->id) != 0))
			rc = ctng_err_set(&e, CTNG_EINVAL, "not a CRV of %s", ca->ent->id);
		if (!rc)
			rc = ctng_b64_decode_alloc(b64, strlen(b64), &crv, &clen, &e);
		if (!rc)
			rc = ctng_client_set_crv(c, ca->ent->id, ca->period, crv, clen, &e);
		if (rc)
			CTNG_WARN("no verified CRV from the monitor; the CA's certificates stay STALE",
			          "ca=%s period=%llu monitor=%.*s err=\"%s\"", ca->ent->id,
			          (unsigned long long)ca->period, (int)ul, monitor_url, e.msg);
		else
			got++;
		json_decref(j);
		free(body);
		free(crv);
	}
	return got;
}

int ctng_client_sync(ctng_client *c, const char *monitor_url, uint64_t now_ms, uint64_t timeout_ms,
                     ctng_client_sync_stats *stats, ctng_err *err)
{
	ctng_client_sync_stats st = {0};
	if (!c || !monitor_url)
		return ctng_err_set(err, CTNG_EINVAL, "sync: no state or monitor URL");
	size_t ul = strlen(monitor_url);
	while (ul && monitor_url[ul - 1] == '/')
		ul--;
	if (ul == 0 || ul > CTNG_URL_MAX ||
	    (strncmp(monitor_url, "http://", 7) != 0 && strncmp(monitor_url, "https://", 8) != 0))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "sync: monitor URL must be http://HOST:PORT or https://HOST:PORT");
	uint64_t cur = 0;
	if (!ctng_clock_period_of(&c->net.clock, now_ms, &cur)) {
		if (stats)
			*stats = st;
		return 0; /* before genesis: nothing to fetch */
	}
	uint64_t from = c->have_last ? c->last + 1 : (cur > 1024 ? cur - 1024 : 0);
	st.from = from;
	st.to = cur;
	int rc = 0;
	for (uint64_t p = from; p <= cur && !rc; p++) {
		char url[CTNG_URL_MAX + 64];
		snprintf(url, sizeof(url), "%.*s/ctng/v1/update?period=%llu", (int)ul, monitor_url,
		         (unsigned long long)p);
		int status = 0;
		uint8_t *body = NULL;
		size_t blen = 0;
		rc = ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, timeout_ms ? timeout_ms : 10000,
		                         &status, &body, &blen, err);
		if (rc) {
			ctng_err_wrap(err, "sync: GET %s", url);
			break;
		}
		if (status == 404) {
			free(body);
			if (!c->have_last && p < cur)
				continue; /* first sync: the monitor started after p */
			if (p < cur) {
				st.missing = 1;
				st.missing_period = p;
			}
			break;
		}
		if (status != 200) {
			free(body);
			rc = ctng_err_set(err, CTNG_EIO, "sync: GET %s: HTTP status %d", url,
			                  status);
			break;
		}
		rc = client_apply_update(c, (const char *)body, blen, &p, NULL, err);
		free(body);
		if (rc) {
			ctng_err_wrap(err, "sync: monitor %.*s served a bad update of period %llu",
			              (int)ul, monitor_url, (unsigned long long)p);
			break;
		}
		st.applied++;
	}
	if (!rc)
		st.crvs = fetch_crvs(c, monitor_url, ul, timeout_ms);
	st.have_last = c->have_last;
	st.last = c->last;
	if (stats)
		*stats = st;
	return rc;
}
