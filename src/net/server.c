/*
 * server.c — the HTTP server of src/net on libevent's evhttp: routing
 * (exact and prefix paths, 404/405), strict query parsing, the body size
 * limit, request accessors and JSON/bytes/error replies, including replies
 * deferred past the handler's return.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net_internal.h"

struct route {
	char *method;
	char *pattern; /* as registered (with the '*'): the metrics label */
	char *path;    /* without the trailing '*' for prefixes */
	size_t path_len;
	bool prefix;
	ctng_net_handler fn;
	void *arg;
	struct route *next;
};

struct ctng_net_server {
	ctng_net_loop *loop;
	struct evhttp *http;
	size_t max_body;
	struct route *routes;
	struct ctng_net_req *pending; /* dispatched, not yet replied */
	size_t n_pending;
	/* ctng_net_server_metrics; NULL: not counted */
	ctng_metric *m_requests, *m_duration;
	/* the request dispatch() is answering, for raw_error's count */
	const char *cur_route, *cur_method;
	uint64_t cur_t0;
};

struct ctng_net_req {
	ctng_net_server *srv;
	struct evhttp_request *ev;
	const char *method;
	char *path;
	ctng_net_query *query;
	uint8_t *body;
	size_t body_len;
	const char *route; /* the route's pattern, for the metrics */
	uint64_t t0;       /* ctng_mono_ns() at dispatch */
	char peer[64];
	struct ctng_net_req *prev, *next;
};

/* Error messages may quote request data: keep them printable ASCII so they
 * are always valid JSON strings. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	default:
		return NULL;
	}
}

static bool method_known(const char *m)
{
	return m && (!strcmp(m, "GET") || !strcmp(m, "POST") || !strcmp(m, "PUT") ||
	             !strcmp(m, "DELETE") || !strcmp(m, "HEAD"));
}

void net_server_count(ctng_net_server *srv, const char *route, const char *method, int status,
                      uint64_t t0)
{
	if (!srv->m_requests)
		return;
	char code[8];
	snprintf(code, sizeof code, "%d", status);
	ctng_counter_inc(srv->m_requests, CTNG_LABELS(route, method ? method : "other", code));
	ctng_histogram_observe(srv->m_duration, CTNG_LABELS(route), ctng_metrics_since(t0));
}

/* Sends a JSON error straight on a libevent request (no ctng_net_req yet),
 * counted under the route dispatch() is on. */
static void raw_error(ctng_net_server *srv, struct evhttp_request *ev, int status,
                      const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void raw_error(ctng_net_server *srv, struct evhttp_request *ev, int status,
                      const char *allow, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sanitize(msg);
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	struct evbuffer *b = evbuffer_new();
	if (b && s)
		evbuffer_add(b, s, strlen(s));
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
	evhttp_add_header(h, "Content-Type", "application/json");
	if (allow)
		evhttp_add_header(h, "Allow", allow);
	evhttp_send_reply(ev, status, NULL, b);
	if (b)
		evbuffer_free(b);
	free(s);
	net_server_count(srv, srv->cur_route, srv->cur_method, status, srv->cur_t0);
}

static bool route_matches_path(const struct route *r, const char *path)
{
	if (r->prefix)
		return strncmp(path, r->path, r->path_len) == 0;
	return strcmp(path, r->path) == 0;
}

static const struct route *find_route(const ctng_net_server *srv, const char *method,
                                      const char *path, char *allow, size_t allow_cap)
{
	const struct route *exact = NULL, *best = NULL;
	bool any_path = false;
	allow[0] = 0;
	for (const struct route *r = srv->routes; r; r = r->next) {
		if (!route_matches_path(r, path))
			continue;
		any_path = true;
		if (!strstr(allow, r->method)) {
			size_t l = strlen(allow);
			snprintf(allow + l, allow_cap - l, "%s%s", l ? ", " : "", r->method);
		}
		if (strcmp(r->method, method) != 0)
			continue;
		if (!r->prefix)
			exact = r;
		else if (!best || r->path_len > best->path_len)
			best = r;
	}
	(void)any_path;
	return exact ? exact : best;
}

static void req_free(struct ctng_net_req *r)
{
	free(r->path);
	ctng_net_query_free(r->query);
	free(r->body);
	free(r);
}

static void dispatch(struct evhttp_request *ev, void *arg)
{
	ctng_net_server *srv = arg;
	const char *method = method_name(evhttp_request_get_command(ev));
	const char *uri = evhttp_request_get_uri(ev);
	srv->cur_route = "none";
	srv->cur_method = method;
	srv->cur_t0 = ctng_mono_ns();
	if (!method) {
		raw_error(srv, ev, 405, "GET, POST, PUT, DELETE, HEAD", "method not allowed");
		return;
	}
	if (!uri || uri[0] != '/') {
		raw_error(srv, ev, 400, NULL, "request target must be an absolute path");
		return;
	}
	if (strchr(uri, '#')) {
		raw_error(srv, ev, 400, NULL, "fragment in request target");
		return;
	}
	const char *qm = strchr(uri, '?');
	size_t plen = qm ? (size_t)(qm - uri) : strlen(uri);
	char *path = strndup(uri, plen);
	if (!path) {
		raw_error(srv, ev, 500, NULL, "out of memory");
		return;
	}
	char allow[128];
	const struct route *rt = find_route(srv, method, path, allow, sizeof allow);
	if (!rt) {
		if (allow[0])
			raw_error(srv, ev, 405, allow, "method %s not allowed on %s", method, path);
		else
			raw_error(srv, ev, 404, NULL, "no such path: %.200s", path);
		free(path);
		return;
	}
	srv->cur_route = rt->pattern;
	ctng_err err = {0};
	ctng_net_query *q = NULL;
	if (ctng_net_query_parse(qm ? qm + 1 : NULL, &q, &err) != 0) {
		raw_error(srv, ev, 400, NULL, "%s", err.msg);
		free(path);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	size_t blen = in ? evbuffer_get_length(in) : 0;
	if (blen > srv->max_body) {
		raw_error(srv, ev, 413, NULL, "request body of %zu bytes exceeds the limit of %zu",
		          blen, srv->max_body);
		ctng_net_query_free(q);
		free(path);
		return;
	}
	struct ctng_net_req *r = calloc(1, sizeof *r);
	uint8_t *body = malloc(blen + 1);
	if (!r || !body) {
		free(r);
		free(body);
		ctng_net_query_free(q);
		free(path);
		raw_error(srv, ev, 500, NULL, "out of memory");
		return;
	}
	if (blen)
		evbuffer_copyout(in, body, blen);
	body[blen] = 0;
	r->srv = srv;
	r->ev = ev;
	r->method = method;
	r->path = path;
	r->query = q;
	r->body = body;
	r->body_len = blen;
	r->route = rt->pattern;
	r->t0 = srv->cur_t0;
	struct evhttp_connection *con = evhttp_request_get_connection(ev);
	char *addr = NULL;
	uint16_t port = 0;
	if (con)
		evhttp_connection_get_peer(con, &addr, &port);
	if (addr && strchr(addr, ':'))
		snprintf(r->peer, sizeof r->peer, "[%s]:%u", addr, port);
	else
		snprintf(r->peer, sizeof r->peer, "%s:%u", addr ? addr : "?", port);
	r->next = srv->pending;
	if (r->next)
		r->next->prev = r;
	srv->pending = r;
	srv->n_pending++;
	rt->fn(r, rt->arg);
}

ctng_net_server *ctng_net_server_new(ctng_net_loop *loop, size_t max_body, ctng_err *err)
{
	ctng_net_server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		return NULL;
	}
	srv->loop = loop;
	srv->max_body = max_body ? max_body : CTNG_NET_DEFAULT_MAX_BODY;
	srv->http = evhttp_new(loop->base);
	if (!srv->http) {
		free(srv);
		ctng_err_set(err, CTNG_EIO, "net: evhttp_new failed");
		return NULL;
	}
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->max_body);
	evhttp_set_max_headers_size(srv->http, 64 * 1024);
	evhttp_set_timeout(srv->http, 30);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                          EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	/* Read an oversized body to its end before answering 413, so the client
	 * sees the answer instead of a reset connection. */
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_default_content_type(srv->http, NULL);
	evhttp_set_gencb(srv->http, dispatch, srv);
	return srv;
}

int ctng_net_server_bind(ctng_net_server *srv, const char *host, uint16_t port,
                         uint16_t *bound_port, ctng_err *err)
{
	if (!host || !*host)
		return ctng_err_set(err, CTNG_EINVAL, "net: bind needs a host");
	struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(srv->http, host, port);
	if (!h)
		return ctng_err_set(err, CTNG_EIO, "net: cannot listen on %s:%u", host, port);
	if (bound_port) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		evutil_socket_t fd = evhttp_bound_socket_get_fd(h);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
			return ctng_err_set(err, CTNG_EIO, "net: getsockname failed");
		if (ss.ss_family == AF_INET)
			*bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			*bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			return ctng_err_set(err, CTNG_EIO, "net: unexpected socket family");
	}
	return 0;
}

int ctng_net_server_route(ctng_net_server *srv, const char *method, const char *path,
                          ctng_net_handler fn, void *arg, ctng_err *err)
{
	if (!method_known(method))
		return ctng_err_set(err, CTNG_EINVAL, "net: unsupported method %s",
		                    method ? method : "(null)");
	if (!path || path[0] != '/' || !fn)
		return ctng_err_set(err, CTNG_EINVAL, "net: route path must start with '/'");
	size_t len = strlen(path);
	bool prefix = path[len - 1] == '*';
	if (prefix)
		len--;
	for (struct route *r = srv->routes; r; r = r->next)
		if (r->prefix == prefix && r->path_len == len && !strncmp(r->path, path, len) &&
		    !strcmp(r->method, method))
			return ctng_err_set(err, CTNG_ECONFLICT, "net: route %s %s already exists",
			                    method, path);
	struct route *r = calloc(1, sizeof *r);
	if (!r || !(r->method = strdup(method)) || !(r->path = strndup(path, len)) ||
	    !(r->pattern = strdup(path))) {
		if (r) {
			free(r->method);
			free(r->path);
			free(r);
		}
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	}
	r->path_len = len;
	r->prefix = prefix;
	r->fn = fn;
	r->arg = arg;
	r->next = srv->routes;
	srv->routes = r;
	return 0;
}

static void finish(ctng_net_req *req, int status, const char *ctype, const void *data, size_t len,
                   const char *const *headers)
{
	ctng_net_server *srv = req->srv;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
	evhttp_add_header(h, "Content-Type", ctype ? ctype : "application/octet-stream");
	if (headers)
		for (size_t i = 0; headers[i] && headers[i + 1]; i += 2)
			evhttp_add_header(h, headers[i], headers[i + 1]);
	struct evbuffer *b = evbuffer_new();
	if (b && len)
		evbuffer_add(b, data, len);
	evhttp_send_reply(req->ev, status, NULL, b);
	if (b)
		evbuffer_free(b);
	net_server_count(srv, req->route, req->method, status, req->t0);
	if (req->prev)
		req->prev->next = req->next;
	else
		srv->pending = req->next;
	if (req->next)
		req->next->prev = req->prev;
	srv->n_pending--;
	req_free(req);
}

void ctng_net_server_free(ctng_net_server *srv)
{
	if (!srv)
		return;
	while (srv->pending)
		ctng_net_reply_error(srv->pending, 503, "server shutting down");
	evhttp_free(srv->http);
	struct route *r = srv->routes;
	while (r) {
		struct route *next = r->next;
		free(r->method);
		free(r->path);
		free(r->pattern);
		free(r);
		r = next;
	}
	free(srv);
}

size_t ctng_net_server_pending(const ctng_net_server *srv)
{
	return srv->n_pending;
}

void net_server_set_metrics(ctng_net_server *srv, ctng_metric *requests, ctng_metric *duration)
{
	srv->m_requests = requests;
	srv->m_duration = duration;
}

/* ------------------------------------------------------------- accessors */

const char *ctng_net_req_method(const ctng_net_req *req)
{
	return req->method;
}

const char *ctng_net_req_path(const ctng_net_req *req)
{
	return req->path;
}

const char *ctng_net_req_query(const ctng_net_req *req, const char *name)
{
	return ctng_net_query_get(req->query, name);
}

int ctng_net_req_query_required(const ctng_net_req *req, const char *name, const char **val,
                                ctng_err *err)
{
	const char *v = ctng_net_query_get(req->query, name);
	if (!v)
		return ctng_err_set(err, CTNG_EINVAL, "missing query parameter %s", name);
	*val = v;
	return 0;
}

int ctng_net_req_query_u64(const ctng_net_req *req, const char *name, uint64_t max, uint64_t *val,
                           ctng_err *err)
{
	const char *v = NULL;
	int rc = ctng_net_req_query_required(req, name, &v, err);
	if (rc)
		return rc;
	if ((rc = ctng_parse_u64(v, max, val, err))) {
		ctng_err_wrap(err, "query parameter %s", name);
		return rc;
	}
	return 0;
}

const char *ctng_net_req_header(const ctng_net_req *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

const uint8_t *ctng_net_req_body(const ctng_net_req *req, size_t *len)
{
	if (len)
		*len = req->body_len;
	return req->body;
}

int ctng_net_req_json(const ctng_net_req *req, json_t **out, ctng_err *err)
{
	return ctng_net_parse_json(req->body, req->body_len, 0, out, err);
}

const char *ctng_net_req_peer(const ctng_net_req *req)
{
	return req->peer;
}

/* --------------------------------------------------------------- replies */

void ctng_net_reply_json(ctng_net_req *req, int status, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(body);
	if (body && !s) {
		static const char oom[] = "{\"error\":\"cannot serialise response\"}";
		finish(req, 500, "application/json", oom, sizeof oom - 1, NULL);
		return;
	}
	const char *txt = s ? s : "null";
	finish(req, status, "application/json", txt, strlen(txt), NULL);
	free(s);
}

void ctng_net_reply_bytes(ctng_net_req *req, int status, const char *content_type, const void *data,
                          size_t len, const char *const *headers)
{
	finish(req, status, content_type, data, len, headers);
}

void ctng_net_reply_error(ctng_net_req *req, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sanitize(msg);
	ctng_net_reply_json(req, status, json_pack("{s:s}", "error", msg));
}

int ctng_net_status_for(int code)
{
	switch (code) {
	case CTNG_OK:
		return 200;
	case CTNG_EINVAL:
	case CTNG_EVERIFY:
		return 400;
	case CTNG_ENOTFOUND:
		return 404;
	case CTNG_ECONFLICT:
	case CTNG_ESTATE:
		return 409;
	case CTNG_ERANGE:
		return 413;
	case CTNG_ETIMEOUT:
		return 504;
	default:
		return 500;
	}
}

void ctng_net_reply_err(ctng_net_req *req, const ctng_err *err)
{
	int code = err ? err->code : CTNG_EIO;
	const char *msg = err && err->msg[0] ? err->msg : ctng_err_name(code);
	ctng_net_reply_error(req, ctng_net_status_for(code), "%s", msg);
}
