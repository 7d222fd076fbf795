/*
 * server.c — the HTTP server of src/net: creation with its limits (the
 * descriptor limit read at start), listening sockets, routing (exact and
 * prefix paths, 404/405, HEAD answered by GET routes), strict query
 * parsing, request accessors and JSON/bytes/error replies, including
 * replies deferred past the handler's return. Connections, message parsing
 * and load shedding are in conn.c and http1.c.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "net_internal.h"

#define DEFAULT_HEADER_MS 10000
#define DEFAULT_BODY_MS   30000
#define DEFAULT_IDLE_MS   60000
#define DEFAULT_BUFFERED  ((size_t)64 << 20)
#define FD_LIMIT_CEILING  (1u << 20)

/* Error messages may quote request data: keep them printable ASCII so they
 * are always valid JSON strings. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

char *ctng_net_error_json_(const char *reason)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s", reason ? reason : "error");
	sanitize(msg);
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
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
	/* labels from a fixed vocabulary: never a method a client made up */
	ctng_counter_inc(
	    srv->m_requests,
	    CTNG_LABELS(route ? route : "none", method_known(method) ? method : "other", code));
	ctng_histogram_observe(srv->m_duration, CTNG_LABELS(route ? route : "none"),
	                       ctng_metrics_since(t0));
}

void net_server_set_metrics(ctng_net_server *srv, ctng_metric *requests, ctng_metric *duration)
{
	srv->m_requests = requests;
	srv->m_duration = duration;
}

/* Answers a request the router refused (not in the pending list). */
static void refuse(ctng_net_req *r, int status, const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(ctng_net_req *r, int status, const char *allow, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char *j = ctng_net_error_json_(msg);
	const char *hdr[] = {"Allow", allow, NULL};
	ctng_net_conn_reply_(r, status, "application/json", j ? j : "{}", j ? strlen(j) : 2,
	                     allow ? hdr : NULL);
	free(j);
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
	allow[0] = 0;
	for (const struct route *r = srv->routes; r; r = r->next) {
		if (!route_matches_path(r, path))
			continue;
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
	return exact ? exact : best;
}

void ctng_net_server_dispatch_(ctng_net_server *srv, ctng_net_req *r)
{
	const char *method = r->h.method;
	const char *uri = r->h.target;
	if (uri[0] != '/') {
		refuse(r, 400, NULL, "request target must be an absolute path");
		return;
	}
	if (strchr(uri, '#')) {
		refuse(r, 400, NULL, "fragment in request target");
		return;
	}
	const char *qm = strchr(uri, '?');
	size_t plen = qm ? (size_t)(qm - uri) : strlen(uri);
	if (!(r->path = strndup(uri, plen))) {
		refuse(r, 503, NULL, "server out of memory");
		return;
	}
	char allow[128];
	const struct route *rt = NULL;
	if (method_known(method)) {
		rt = find_route(srv, method, r->path, allow, sizeof allow);
		if (!rt && !strcmp(method, "HEAD"))
			rt = find_route(srv, "GET", r->path, allow, sizeof allow);
	} else {
		find_route(srv, "", r->path, allow, sizeof allow);
	}
	if (!rt) {
		if (allow[0])
			refuse(r, 405, allow, "method %.20s not allowed on %.200s", method,
			       r->path);
		else
			refuse(r, 404, NULL, "no such path: %.200s", r->path);
		return;
	}
	r->route = rt->pattern;
	ctng_err err = {0};
	if (ctng_net_query_parse(qm ? qm + 1 : NULL, &r->query, &err) != 0) {
		refuse(r, 400, NULL, "%s", err.msg);
		return;
	}
	r->next = srv->pending;
	if (r->next)
		r->next->prev = r;
	srv->pending = r;
	srv->n_pending++;
	rt->fn(r, rt->arg);
}

ctng_net_server *ctng_net_server_new_opts(ctng_net_loop *loop, const ctng_net_server_opts *opts,
                                          ctng_err *err)
{
	ctng_net_server_opts o = opts ? *opts : (ctng_net_server_opts){0};
	ctng_net_server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		return NULL;
	}
	srv->loop = loop;
	srv->max_body = o.max_body ? o.max_body : CTNG_NET_DEFAULT_MAX_BODY;
	srv->header_ms = o.header_timeout_ms ? o.header_timeout_ms : DEFAULT_HEADER_MS;
	srv->body_ms = o.body_timeout_ms ? o.body_timeout_ms : DEFAULT_BODY_MS;
	srv->idle_ms = o.idle_timeout_ms ? o.idle_timeout_ms : DEFAULT_IDLE_MS;
	srv->max_buffered =
	    o.max_buffered
	        ? o.max_buffered
	        : (2 * srv->max_body > DEFAULT_BUFFERED ? 2 * srv->max_body : DEFAULT_BUFFERED);
	/* Descriptors: use what the hard limit allows, keep a reserve for the
	 * database, outgoing requests and the shed slots. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_LIMIT_CEILING
		                  ? FD_LIMIT_CEILING
		                  : rl.rlim_max;
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
			struct rlimit up = {.rlim_cur = want, .rlim_max = rl.rlim_max};
			if (setrlimit(RLIMIT_NOFILE, &up) == 0)
				rl.rlim_cur = want;
		}
		srv->fd_limit = rl.rlim_cur == RLIM_INFINITY ? FD_LIMIT_CEILING : rl.rlim_cur;
	} else {
		srv->fd_limit = 1024;
	}
	uint64_t reserve = srv->fd_limit / 8 + 32;
	uint64_t usable = srv->fd_limit > reserve + 2 ? srv->fd_limit - reserve : 2;
	srv->max_shed = usable / 16 < 32 ? (usable / 16 ? usable / 16 : 1) : 32;
	srv->max_conns = usable - srv->max_shed;
	if (o.max_connections && o.max_connections < srv->max_conns)
		srv->max_conns = o.max_connections;
	if (!o.tls_cert_file != !o.tls_key_file) {
		free(srv);
		ctng_err_set(err, CTNG_EINVAL, "net: TLS needs both a certificate chain and a key");
		return NULL;
	}
	if (o.tls_ca_file && ctng_net_loop_set_tls_ca(loop, o.tls_ca_file, err)) {
		free(srv);
		return NULL;
	}
	if (o.tls_cert_file) {
		if (!(srv->tls = ctng_net_tls_server_ctx_(o.tls_cert_file, o.tls_key_file, err))) {
			free(srv);
			return NULL;
		}
		if (!(srv->tls_cert = strdup(o.tls_cert_file)) ||
		    !(srv->tls_key = strdup(o.tls_key_file))) {
			ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
			goto fail;
		}
	}
	srv->resume_ev = evtimer_new(loop->base, ctng_net_conn_resume_, srv);
	if (!srv->resume_ev) {
		ctng_err_set(err, CTNG_EIO, "net: cannot create server events");
		goto fail;
	}
	srv->next_on_loop = loop->servers;
	loop->servers = srv;
	return srv;
fail:
	SSL_CTX_free(srv->tls);
	free(srv->tls_cert);
	free(srv->tls_key);
	free(srv);
	return NULL;
}

ctng_net_server *ctng_net_server_new(ctng_net_loop *loop, size_t max_body, ctng_err *err)
{
	ctng_net_server_opts o = {.max_body = max_body};
	return ctng_net_server_new_opts(loop, &o, err);
}

void ctng_net_server_get_stats(const ctng_net_server *srv, ctng_net_server_stats *out)
{
	*out = srv->stats;
	out->open = srv->n_conns;
	out->buffered = srv->buffered;
	out->max_connections = srv->max_conns;
	out->max_buffered = srv->max_buffered;
	out->fd_limit = srv->fd_limit;
}

int ctng_net_server_bind(ctng_net_server *srv, const char *host, uint16_t port,
                         uint16_t *bound_port, ctng_err *err)
{
	if (!host || !*host)
		return ctng_err_set(err, CTNG_EINVAL, "net: bind needs a host");
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char ps[8];
	snprintf(ps, sizeof ps, "%u", port);
	if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
		return ctng_err_set(err, CTNG_EINVAL, "net: cannot resolve listen address %s",
		                    host);
	struct srv_listener *sl = calloc(1, sizeof *sl);
	if (!sl) {
		freeaddrinfo(ai);
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	}
	sl->l = evconnlistener_new_bind(srv->loop->base, ctng_net_conn_accept_, srv,
	                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                    LEV_OPT_CLOSE_ON_EXEC,
	                                1024, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (!sl->l) {
		free(sl);
		return ctng_err_set(err, CTNG_EIO, "net: cannot listen on %s:%u", host, port);
	}
	evconnlistener_set_error_cb(sl->l, ctng_net_conn_accept_error_);
	if (srv->paused_full || srv->paused_error)
		evconnlistener_disable(sl->l);
	sl->next = srv->listeners;
	srv->listeners = sl;
	if (bound_port) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		evutil_socket_t fd = evconnlistener_get_fd(sl->l);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
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
	if (req->prev)
		req->prev->next = req->next;
	else
		srv->pending = req->next;
	if (req->next)
		req->next->prev = req->prev;
	srv->n_pending--;
	ctng_net_conn_reply_(req, status, ctype, data, len, headers);
}

void ctng_net_server_free(ctng_net_server *srv)
{
	if (!srv)
		return;
	while (srv->pending)
		ctng_net_reply_error(srv->pending, 503, "server shutting down");
	struct srv_listener *l = srv->listeners;
	while (l) {
		struct srv_listener *next = l->next;
		evconnlistener_free(l->l);
		free(l);
		l = next;
	}
	ctng_net_conn_close_all_(srv);
	event_free(srv->resume_ev);
	for (ctng_net_server **p = &srv->loop->servers; *p; p = &(*p)->next_on_loop)
		if (*p == srv) {
			*p = srv->next_on_loop;
			break;
		}
	SSL_CTX_free(srv->tls);
	free(srv->tls_cert);
	free(srv->tls_key);
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
		/* A number out of range in a query is a bad request (400), not a
		 * body too large (413, which CTNG_ERANGE maps to). */
		if (err)
			err->code = CTNG_EINVAL;
		ctng_err_wrap(err, "query parameter %s", name);
		return CTNG_EINVAL;
	}
	return 0;
}

const char *ctng_net_req_header(const ctng_net_req *req, const char *name)
{
	return http1_get(&req->h, name);
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

void ctng_net_reply_tile(ctng_net_req *req, const void *data, size_t len, bool full)
{
	static const char *const imm[] = {"Cache-Control", "public, max-age=31536000, immutable",
	                                  NULL};
	static const char *const part[] = {"Cache-Control", "public, max-age=5", NULL};
	finish(req, 200, "application/octet-stream", data, len, full ? imm : part);
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
