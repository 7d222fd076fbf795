/*
 * alerts.c — delivering the index's notifications to their webhooks
 * (docs/monitor.md §11): what is due in the outbox is POSTed (JSON, at
 * most MAX_INFLIGHT at once, a deadline each); a 2xx answer removes it,
 * anything else (an error status, no answer, a target the policy no longer
 * allows) reschedules it with exponential backoff (1 s doubling to 10 min,
 * jittered). The outbox is in monitor.db, written with the entry or CRV
 * that caused it, so a restart, even kill -9, loses nothing: delivery is at
 * least once (a crash between the answer and the removal sends it again;
 * receivers can deduplicate on the certificate's id and the event).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/index.h"
#include "ctng/net.h"
#include "monitor/monitor_internal.h"

#define MAX_INFLIGHT 8
#define TIMEOUT_MS   10000

struct send {
	mon_alerts *ma;
	uint64_t id;
	uint32_t attempts;
	uint64_t watch;
};

struct mon_alerts {
	const ctng_node_config *cfg;
	ctng_net_loop *loop;
	ctng_index *ix;
	ctng_net_timer *timer;
	uint64_t busy[MAX_INFLIGHT];
	size_t n_busy;
	bool stopping;
	uint64_t delivered, failed;
	const monitor_metrics *mx; /* may be NULL */
	const char *tls_ca;        /* webhooks.tls_ca (borrowed); NULL: the system roots */
};

void mon_alerts_set_metrics(mon_alerts *ma, const monitor_metrics *x)
{
	if (ma)
		ma->mx = x;
}

static void count(mon_alerts *ma, const char *result)
{
	if (ma->mx)
		ctng_counter_inc(ma->mx->webhooks, CTNG_LABELS(result));
}

static void unbusy(mon_alerts *ma, uint64_t id)
{
	for (size_t i = 0; i < ma->n_busy; i++)
		if (ma->busy[i] == id) {
			ma->busy[i] = ma->busy[--ma->n_busy];
			return;
		}
}

static void retry(mon_alerts *ma, uint64_t id, uint32_t attempts, const char *why)
{
	uint64_t d = ctng_index_backoff_ms(attempts + 1, id * 2654435761u + ctng_now_ms());
	ctng_err e = {0};
	ma->failed++;
	count(ma, "failed");
	CTNG_WARN("webhook not delivered", "notification=%" PRIu64 " attempt=%u retry_in_ms=%" PRIu64
	          " reason=\"%s\"", id, attempts + 1, d, why);
	if (ctng_index_outbox_retry(ma->ix, id, ctng_now_ms() + d, &e))
		CTNG_ERROR("outbox", "err=\"%s\"", e.msg);
}

static void on_answer(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	(void)body;
	(void)len;
	struct send *s = arg;
	mon_alerts *ma = s->ma;
	if (!ma->stopping) {
		unbusy(ma, s->id);
		ctng_err e = {0};
		if (!err && status >= 200 && status < 300) {
			ma->delivered++;
			count(ma, "delivered");
			CTNG_INFO("webhook delivered", "notification=%" PRIu64 " watch=%" PRIu64
			          " status=%d", s->id, s->watch, status);
			if (ctng_index_outbox_done(ma->ix, s->id, &e))
				CTNG_ERROR("outbox", "err=\"%s\"", e.msg);
		} else {
			char why[300];
			if (err)
				snprintf(why, sizeof why, "%s: %s", ctng_err_name(err->code), err->msg);
			else
				snprintf(why, sizeof why, "HTTP %d", status);
			retry(ma, s->id, s->attempts, why);
		}
		mon_alerts_kick(ma);
	}
	free(s);
}

static void deliver(mon_alerts *ma)
{
	if (ma->stopping || ma->n_busy >= MAX_INFLIGHT)
		return;
	ctng_index_note notes[MAX_INFLIGHT];
	size_t n = 0;
	uint64_t next = 0;
	ctng_err e = {0};
	uint64_t now = ctng_now_ms();
	if (ctng_index_outbox_due(ma->ix, now, ma->busy, ma->n_busy, notes,
	                          MAX_INFLIGHT - ma->n_busy, &n, &next, &e)) {
		CTNG_ERROR("outbox", "err=\"%s\"", e.msg);
		ctng_net_timer_start(ma->timer, 1000, 0, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ctng_index_note *x = &notes[i];
		ctng_err ce = {0};
		/* the policy of now, not of when the watch was made */
		if (ctng_index_webhook_check(ma->ix, x->url, &ce)) {
			retry(ma, x->id, x->attempts, ce.msg);
			continue;
		}
		struct send *s = calloc(1, sizeof(*s));
		const char *headers[] = {"X-CTng-Monitor", ma->cfg->id, NULL};
		ctng_net_client_opts o = {.timeout_ms = TIMEOUT_MS,
		                          .max_response = 64 << 10,
		                          .content_type = "application/json",
		                          .headers = headers};
		/* an unlisted target must resolve to a public address (a public
		 * name can point anywhere); https verified against the system
		 * roots or webhooks.tls_ca, not the network's CA (monitor.md §11) */
		ctng_index_webhook_opts(ma->ix, x->url, ma->tls_ca, &o);
		if (s) {
			s->ma = ma;
			s->id = x->id;
			s->attempts = x->attempts;
			s->watch = x->watch;
		}
		if (!s || ctng_net_request(ma->loop, "POST", x->url, x->body, x->body_len, &o,
		                           on_answer, s, &ce)) {
			free(s);
			retry(ma, x->id, x->attempts, ce.msg[0] ? ce.msg : "request not started");
			continue;
		}
		ma->busy[ma->n_busy++] = x->id;
	}
	ctng_index_notes_free(notes, n);
	if (next && ma->n_busy < MAX_INFLIGHT)
		ctng_net_timer_start(ma->timer, next > now ? next - now : 1, 0, NULL);
}

static void on_timer(ctng_net_timer *t, void *arg)
{
	(void)t;
	deliver(arg);
}

void mon_alerts_kick(mon_alerts *ma)
{
	if (ma && !ma->stopping && ma->timer)
		ctng_net_timer_start(ma->timer, 1, 0, NULL);
}

int mon_alerts_open(const ctng_node_config *cfg, ctng_net_loop *loop, ctng_index *ix,
                    const char *tls_ca, mon_alerts **out, ctng_err *err)
{
	*out = NULL;
	mon_alerts *ma = calloc(1, sizeof(*ma));
	if (!ma)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	ma->cfg = cfg;
	ma->loop = loop;
	ma->ix = ix;
	ma->tls_ca = tls_ca;
	if (!(ma->timer = ctng_net_timer_new(loop, on_timer, ma, err))) {
		free(ma);
		return err && err->code ? err->code : CTNG_EIO;
	}
	*out = ma;
	return 0;
}

void mon_alerts_stop(mon_alerts *ma)
{
	if (!ma)
		return;
	ma->stopping = true; /* answers still in flight are ignored (sent again next start) */
	ctng_net_timer_free(ma->timer);
	ma->timer = NULL;
}

void mon_alerts_free(mon_alerts *ma)
{
	if (!ma)
		return;
	mon_alerts_stop(ma);
	free(ma);
}
