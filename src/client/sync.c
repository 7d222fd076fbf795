/*
 * sync.c — `ctng client sync` as a library call: fetch the client update of
 * every period since the last one applied from one monitor and apply them in
 * order (include/ctng/client.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "ctng/net.h"

int ctng_client_sync(ctng_client *c, const char *monitor_url, uint64_t now_ms, uint64_t timeout_ms,
                     ctng_client_sync_stats *stats, ctng_err *err)
{
	ctng_client_sync_stats st = {0};
	if (!c || !monitor_url)
		return ctng_err_set(err, CTNG_EINVAL, "sync: no state or monitor URL");
	size_t ul = strlen(monitor_url);
	while (ul && monitor_url[ul - 1] == '/')
		ul--;
	if (ul == 0 || ul > CTNG_URL_MAX || strncmp(monitor_url, "http://", 7) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "sync: monitor URL must be http://HOST:PORT");
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
	st.have_last = c->have_last;
	st.last = c->last;
	if (stats)
		*stats = st;
	return rc;
}
