/*
 * metrics.c — GET /metrics on a ctng_net server and the per-request
 * counters (ctng_net_server_metrics in ctng/net.h; families in
 * docs/metrics.md).
 */
#include "ctng/metrics.h"
#include "net_internal.h"

static void h_metrics(ctng_net_req *req, void *arg)
{
	ctng_metrics *reg = arg;
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
	int rc = ctng_net_server_route(srv, "GET", "/metrics", h_metrics, reg, err);
	if (rc)
		return rc;
	net_server_set_metrics(srv, req, dur);
	return 0;
}
