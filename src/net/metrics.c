/*
 * metrics.c — GET /metrics on a ctng_net server and the per-request
 * counters (ctng_net_server_metrics in ctng/net.h; families in
 * docs/metrics.md).
 */
#include <string.h>

#include "ctng/metrics.h"
#include "net_internal.h"

static void h_metrics(ctng_net_req *req, void *arg)
{
	ctng_net_server *srv = arg;
	ctng_metrics *reg = srv->m_reg;
	ctng_net_server_stats st;
	ctng_net_server_get_stats(srv, &st);
	ctng_gauge_set(srv->m_open, NULL, (double)st.open);
	ctng_gauge_set(srv->m_buffered, NULL, (double)st.buffered);
	ctng_gauge_set(srv->m_limit, CTNG_LABELS("connections"), (double)st.max_connections);
	ctng_gauge_set(srv->m_limit, CTNG_LABELS("buffered_bytes"), (double)st.max_buffered);
	ctng_gauge_set(srv->m_limit, CTNG_LABELS("fds"), (double)st.fd_limit);
	uint64_t w[2];
	ctng_net_wire_bytes(srv->loop, &w[0], &w[1]);
	for (int i = 0; i < 2; i++) {
		if (w[i] > srv->wire_seen[i])
			ctng_counter_add(srv->m_wire, CTNG_LABELS(i ? "out" : "in"),
			                 (double)(w[i] - srv->wire_seen[i]));
		srv->wire_seen[i] = w[i] > srv->wire_seen[i] ? w[i] : srv->wire_seen[i];
	}
	ctng_buf b = {0};
	ctng_err err = {0};
	if (ctng_metrics_render(reg, &b, &err)) {
		ctng_buf_free(&b);
		ctng_net_reply_err(req, &err);
		return;
	}
	static const char *const headers[] = {"Cache-Control", "no-store", NULL};
	ctng_net_reply_bytes(req, 200, CTNG_METRICS_CONTENT_TYPE, b.data, b.len, headers);
	ctng_buf_free(&b);
}

int ctng_net_server_metrics(ctng_net_server *srv, ctng_metrics *reg, ctng_err *err)
{
	if (!srv || !reg)
		return ctng_err_set(err, CTNG_EINVAL, "net: metrics need a server and a registry");
	ctng_metric *req = ctng_metrics_counter(
	    reg, "ctng_http_requests_total",
	    "HTTP requests answered, by route pattern, method and status code.",
	    "route,method,code", err);
	ctng_metric *dur = ctng_metrics_histogram(
	    reg, "ctng_http_request_duration_seconds",
	    "Time from a request's arrival to its answer, by route pattern.", "route",
	    ctng_metrics_latency_buckets, ctng_metrics_latency_nbuckets, err);
	if (!req || !dur)
		return err ? err->code : CTNG_EINVAL;
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_COUNTER(&srv->m_shed, "ctng_http_shed_total",
	                         "Connections or requests answered 503 to shed load, by the limit "
	                         "reached (connections, buffered_bytes).",
	                         "limit"),
	    CTNG_METRICS_COUNTER(
	        &srv->m_timeouts, "ctng_http_timeouts_total",
	        "Requests answered 408 because their head or body came too slowly.", "part"),
	    CTNG_METRICS_COUNTER(
	        &srv->m_events, "ctng_http_connection_events_total",
	        "Connection-level events: idle_closed (an idle keep-alive connection "
	        "closed to make room), accept_error (accept() failed, accepting "
	        "paused).",
	        "event"),
	    CTNG_METRICS_COUNTER(&srv->m_tls, "ctng_http_tls_handshake_failures_total",
	                         "TLS handshakes with this server that failed (bad ClientHello, no "
	                         "common parameters, peer gone) or did not finish in time.",
	                         NULL),
	    CTNG_METRICS_COUNTER(&srv->m_wire, "ctng_net_wire_bytes_total",
	                         "Bytes on the wire of this process's TCP connections (TLS and "
	                         "HTTP framing included), received (in) and sent (out).",
	                         "direction"),
	    CTNG_METRICS_GAUGE(&srv->m_open, "ctng_http_connections_open",
	                       "Connections open now (shed ones included).", NULL),
	    CTNG_METRICS_GAUGE(&srv->m_buffered, "ctng_http_buffered_bytes",
	                       "Request bytes held now across all connections.", NULL),
	    CTNG_METRICS_GAUGE(&srv->m_limit, "ctng_http_limit",
	                       "The server's limits: connections, buffered_bytes, fds (the "
	                       "descriptor limit read at start).",
	                       "limit"),
	};
	int rc = ctng_metrics_register(reg, specs, sizeof specs / sizeof specs[0], err);
	if (rc || (rc = ctng_net_server_route(srv, "GET", "/metrics", h_metrics, srv, err)))
		return rc;
	srv->m_reg = reg;
	net_server_set_metrics(srv, req, dur);
	return 0;
}

/* ------------------------------------------------ what every daemon counts */

static void collect_period(ctng_metrics *reg, void *arg)
{
	(void)reg;
	ctng_net_metrics *m = arg;
	uint64_t p = 0;
	if (ctng_clock_period_of(&m->clock, ctng_now_ms(), &p))
		ctng_gauge_set(m->period, NULL, (double)p);
}

int ctng_net_metrics_init(ctng_net_metrics *m, ctng_net_server *srv, const char *role,
                          const char *node, const ctng_clock *clock, ctng_err *err)
{
	memset(m, 0, sizeof *m);
	m->clock = *clock;
	int rc;
	if (!(m->reg = ctng_metrics_new(err)))
		return CTNG_ENOMEM;
	if ((rc = ctng_metrics_process(m->reg, role, node, err)) ||
	    (rc = ctng_net_server_metrics(srv, m->reg, err)))
		goto fail;
	const ctng_metrics_spec specs[] = {
	    CTNG_METRICS_HISTOGRAM(
	        &m->phase, "ctng_period_phase_seconds",
	        "When, in seconds after the start of its period, each step of the period happened.",
	        "phase", ctng_metrics_period_buckets, ctng_metrics_period_nbuckets),
	    CTNG_METRICS_COUNTER(&m->peer_requests, "ctng_peer_requests_total",
	                         "Requests this node sent to other nodes, by peer id and result.",
	                         "peer,result"),
	    CTNG_METRICS_HISTOGRAM(
	        &m->peer_duration, "ctng_peer_request_duration_seconds",
	        "Time from sending a request to another node to its answer or failure, by peer.",
	        "peer", ctng_metrics_latency_buckets, ctng_metrics_latency_nbuckets),
	    CTNG_METRICS_GAUGE(&m->peer_up, "ctng_peer_up",
	                       "1 if the last request to the peer got an HTTP answer, else 0.",
	                       "peer"),
	    CTNG_METRICS_COUNTER(
	        &m->objects, "ctng_objects_total",
	        "Gossip objects received, by type, result and (when rejected) reason.",
	        "type,result,reason"),
	    CTNG_METRICS_GAUGE(&m->period, "ctng_period_current",
	                       "The current period on this node's clock.", NULL),
	};
	if ((rc = ctng_metrics_register(m->reg, specs, sizeof specs / sizeof *specs, err)))
		goto fail;
	if ((rc = ctng_metrics_on_collect(m->reg, collect_period, m, NULL, err)))
		goto fail;
	return 0;
fail:
	ctng_metrics_free(m->reg);
	memset(m, 0, sizeof *m);
	return rc;
}

int ctng_net_metrics_add(ctng_net_metrics *m, const ctng_metrics_spec *specs, size_t n,
                         ctng_net_collect_fn fn, void *arg, ctng_err *err)
{
	int rc = ctng_metrics_register(m->reg, specs, n, err);
	if (!rc && fn)
		rc = ctng_metrics_on_collect(m->reg, fn, arg, NULL, err);
	if (rc)
		ctng_net_metrics_free(m);
	return rc;
}

void ctng_net_metrics_free(ctng_net_metrics *m)
{
	if (!m)
		return;
	ctng_metrics_free(m->reg);
	memset(m, 0, sizeof *m);
}

void ctng_net_metrics_peer(ctng_net_metrics *m, const char *peer, int status, const ctng_err *err,
                           uint64_t t0)
{
	if (!m || !m->reg)
		return;
	const char *result = err ? (err->code == CTNG_ETIMEOUT ? "timeout" : "error")
	                     : status >= 200 && status < 300 ? "ok"
	                                                     : "refused";
	ctng_counter_inc(m->peer_requests, CTNG_LABELS(peer, result));
	ctng_histogram_observe(m->peer_duration, CTNG_LABELS(peer), ctng_metrics_since(t0));
	ctng_gauge_set(m->peer_up, CTNG_LABELS(peer), err ? 0 : 1);
}

void ctng_net_metrics_phase(ctng_net_metrics *m, const char *phase, uint64_t period,
                            uint64_t now_ms)
{
	if (!m || !m->reg)
		return;
	uint64_t start = ctng_clock_period_start(&m->clock, period);
	ctng_histogram_observe(m->phase, CTNG_LABELS(phase),
	                       now_ms > start ? (double)(now_ms - start) / 1000.0 : 0.0);
}

void ctng_net_metrics_object(ctng_net_metrics *m, const char *type, const char *result, int code)
{
	if (!m || !m->reg)
		return;
	ctng_counter_inc(m->objects, CTNG_LABELS(type ? type : "unknown", result,
	                                         code ? ctng_metrics_reason(code) : ""));
}
