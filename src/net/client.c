/*
 * client.c — the asynchronous HTTP client of src/net: one evhttp_connection
 * per request, a deadline timer on every request (whatever the peer does,
 * the callback fires by then, exactly once), a response size limit, and the
 * blocking ctng_net_fetch_sync built on a temporary loop.
 *
 * Connections are never freed from inside libevent's own callbacks (libevent
 * still touches them after the callback returns): finished connections go
 * to a "dead" list that a zero-delay reaper event frees.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net_internal.h"

struct client_req {
	ctng_net_loop *loop;
	struct evhttp_connection *evcon;
	struct event *deadline;
	ctng_net_response_fn cb;
	void *arg;
	bool have_lib_err;
	enum evhttp_request_error lib_err;
	char peer[300];
	uint64_t timeout_ms;
	struct client_req *prev, *next;
};

void ctng_net_reap_(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ctng_net_loop *loop = arg;
	struct dead_conn *d = loop->dead;
	loop->dead = NULL;
	while (d) {
		struct dead_conn *next = d->next;
		evhttp_connection_free(d->evcon);
		free(d);
		d = next;
	}
}

static void unlink_req(struct client_req *cr)
{
	ctng_net_loop *loop = cr->loop;
	if (cr->prev)
		cr->prev->next = cr->next;
	else
		loop->inflight = cr->next;
	if (cr->next)
		cr->next->prev = cr->prev;
	loop->n_inflight--;
}

/* Hands the connection to the reaper (we may be inside its callback). */
static void retire_conn(ctng_net_loop *loop, struct evhttp_connection *evcon)
{
	struct dead_conn *d = malloc(sizeof *d);
	if (!d) {
		/* Cannot defer: leaking one connection beats a use-after-free. */
		return;
	}
	d->evcon = evcon;
	d->next = loop->dead;
	loop->dead = d;
	event_active(loop->reaper_ev, EV_TIMEOUT, 0);
}

static void complete(struct client_req *cr, int status, const uint8_t *body, size_t len,
                     const ctng_err *err)
{
	unlink_req(cr);
	event_free(cr->deadline);
	ctng_net_response_fn cb = cr->cb;
	void *arg = cr->arg;
	free(cr);
	cb(status, body ? body : (const uint8_t *)"", len, err, arg);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct client_req *cr = arg;
	/* Not inside a connection callback: free it now. This frees the pending
	 * request without calling its callback. */
	evhttp_connection_free(cr->evcon);
	cr->evcon = NULL;
	ctng_err err = {0};
	ctng_err_set(&err, CTNG_ETIMEOUT, "net: %s did not answer within %llu ms", cr->peer,
	             (unsigned long long)cr->timeout_ms);
	complete(cr, 0, NULL, 0, &err);
}

static void error_cb(enum evhttp_request_error e, void *arg)
{
	struct client_req *cr = arg;
	cr->have_lib_err = true;
	cr->lib_err = e;
}

static void done_cb(struct evhttp_request *req, void *arg)
{
	struct client_req *cr = arg;
	int saved_errno = errno;
	retire_conn(cr->loop, cr->evcon);
	cr->evcon = NULL;
	int status = req ? evhttp_request_get_response_code(req) : 0;
	if (status > 0 && !cr->have_lib_err) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		uint8_t *body = malloc(len + 1);
		if (!body) {
			ctng_err err = {0};
			ctng_err_set(&err, CTNG_ENOMEM, "net: out of memory reading response");
			complete(cr, 0, NULL, 0, &err);
			return;
		}
		if (len)
			evbuffer_copyout(in, body, len);
		body[len] = 0;
		complete(cr, status, body, len, NULL);
		free(body);
		return;
	}
	ctng_err err = {0};
	if (cr->have_lib_err) {
		switch (cr->lib_err) {
		case EVREQ_HTTP_TIMEOUT:
			ctng_err_set(&err, CTNG_ETIMEOUT, "net: %s timed out", cr->peer);
			break;
		case EVREQ_HTTP_EOF:
			ctng_err_set(&err, CTNG_EIO,
			             "net: %s closed the connection before a complete response",
			             cr->peer);
			break;
		case EVREQ_HTTP_INVALID_HEADER:
			ctng_err_set(&err, CTNG_EIO, "net: malformed response from %s", cr->peer);
			break;
		case EVREQ_HTTP_DATA_TOO_LONG:
			ctng_err_set(&err, CTNG_ERANGE,
			             "net: response from %s larger than the limit (or malformed)",
			             cr->peer);
			break;
		default:
			ctng_err_set(&err, CTNG_EIO, "net: connection to %s failed", cr->peer);
		}
	} else if (saved_errno == ECONNREFUSED) {
		ctng_err_set(&err, CTNG_EIO, "net: connection to %s refused", cr->peer);
	} else {
		ctng_err_set(&err, CTNG_EIO, "net: no response from %s (connection failed)",
		             cr->peer);
	}
	complete(cr, 0, NULL, 0, &err);
}

void ctng_net_client_shutdown_(ctng_net_loop *loop)
{
	while (loop->inflight) {
		struct client_req *cr = loop->inflight;
		evhttp_connection_free(cr->evcon);
		cr->evcon = NULL;
		ctng_err err = {0};
		ctng_err_set(&err, CTNG_ESTATE, "net: loop freed with a request to %s in flight",
		             cr->peer);
		complete(cr, 0, NULL, 0, &err);
	}
	ctng_net_reap_(-1, 0, loop);
}

static int method_type(const char *m, enum evhttp_cmd_type *t)
{
	if (!m)
		return -1;
	if (!strcmp(m, "GET"))
		*t = EVHTTP_REQ_GET;
	else if (!strcmp(m, "POST"))
		*t = EVHTTP_REQ_POST;
	else if (!strcmp(m, "PUT"))
		*t = EVHTTP_REQ_PUT;
	else if (!strcmp(m, "DELETE"))
		*t = EVHTTP_REQ_DELETE;
	else if (!strcmp(m, "HEAD"))
		*t = EVHTTP_REQ_HEAD;
	else
		return -1;
	return 0;
}

/* Parsed "http://host:port/path?query". */
struct target {
	char host[256];
	uint16_t port;
	char *path_query; /* malloc'd */
};

static int parse_url(const char *url, struct target *t, ctng_err *err)
{
	memset(t, 0, sizeof *t);
	if (!url)
		return ctng_err_set(err, CTNG_EINVAL, "net: no URL");
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
	if (!u)
		return ctng_err_set(err, CTNG_EINVAL, "net: malformed URL %.200s", url);
	int rc = 0;
	const char *scheme = evhttp_uri_get_scheme(u);
	const char *host = evhttp_uri_get_host(u);
	int port = evhttp_uri_get_port(u);
	const char *path = evhttp_uri_get_path(u);
	const char *query = evhttp_uri_get_query(u);
	if (!scheme || strcasecmp(scheme, "http") != 0) {
		rc = ctng_err_set(err, CTNG_EINVAL, "net: URL %.200s: only http:// is supported",
		                  url);
		goto out;
	}
	if (evhttp_uri_get_userinfo(u) || evhttp_uri_get_fragment(u)) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "net: URL %.200s: userinfo/fragment not allowed", url);
		goto out;
	}
	if (!host || !*host || strlen(host) >= sizeof t->host) {
		rc = ctng_err_set(err, CTNG_EINVAL, "net: URL %.200s has no valid host", url);
		goto out;
	}
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memcpy(t->host, host + 1, hl - 2);
		t->host[hl - 2] = 0;
	} else {
		memcpy(t->host, host, hl + 1);
	}
	unsigned char tmp[16];
	if (strcmp(t->host, "localhost") != 0 && inet_pton(AF_INET, t->host, tmp) != 1 &&
	    inet_pton(AF_INET6, t->host, tmp) != 1) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "net: URL host %.100s must be an IP address or localhost",
		                  t->host);
		goto out;
	}
	if (port == 0 || port > 65535) {
		rc = ctng_err_set(err, CTNG_EINVAL, "net: URL %.200s has a bad port", url);
		goto out;
	}
	t->port = port < 0 ? 80 : (uint16_t)port;
	if (!path || !*path)
		path = "/";
	size_t n = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
	t->path_query = malloc(n);
	if (!t->path_query) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		goto out;
	}
	snprintf(t->path_query, n, "%s%s%s", path, query ? "?" : "", query ? query : "");
out:
	evhttp_uri_free(u);
	return rc;
}

int ctng_net_request(ctng_net_loop *loop, const char *method, const char *url, const void *body,
                     size_t len, const ctng_net_client_opts *opts, ctng_net_response_fn cb,
                     void *arg, ctng_err *err)
{
	enum evhttp_cmd_type type;
	if (!loop || !cb)
		return ctng_err_set(err, CTNG_EINVAL, "net: request needs a loop and a callback");
	if (method_type(method, &type) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "net: unsupported method %s",
		                    method ? method : "(null)");
	if (len && !body)
		return ctng_err_set(err, CTNG_EINVAL, "net: body length without a body");
	struct target t;
	int rc = parse_url(url, &t, err);
	if (rc)
		return rc;
	uint64_t timeout =
	    opts && opts->timeout_ms ? opts->timeout_ms : CTNG_NET_DEFAULT_TIMEOUT_MS;
	if (timeout > 24ull * 3600 * 1000)
		timeout = 24ull * 3600 * 1000;
	size_t maxr =
	    opts && opts->max_response ? opts->max_response : CTNG_NET_DEFAULT_MAX_RESPONSE;

	struct client_req *cr = calloc(1, sizeof *cr);
	if (!cr) {
		free(t.path_query);
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	}
	cr->loop = loop;
	cr->cb = cb;
	cr->arg = arg;
	cr->timeout_ms = timeout;
	snprintf(cr->peer, sizeof cr->peer, "%s:%u", t.host, t.port);
	cr->evcon = evhttp_connection_base_new(loop->base, NULL, t.host, t.port);
	cr->deadline = evtimer_new(loop->base, deadline_cb, cr);
	struct evhttp_request *req = evhttp_request_new(done_cb, cr);
	if (!cr->evcon || !cr->deadline || !req) {
		rc =
		    ctng_err_set(err, CTNG_ENOMEM, "net: cannot create connection to %s", cr->peer);
		goto fail;
	}
	/* libevent's own inactivity timeout is a backstop behind our deadline. */
	struct timeval ltv = {.tv_sec = (time_t)(timeout / 1000 + 2), .tv_usec = 0};
	evhttp_connection_set_timeout_tv(cr->evcon, &ltv);
	evhttp_connection_set_retries(cr->evcon, 0);
	evhttp_connection_set_max_body_size(cr->evcon, (ev_ssize_t)maxr);
	evhttp_connection_set_max_headers_size(cr->evcon, 64 * 1024);
	evhttp_connection_set_flags(cr->evcon, EVHTTP_CON_READ_ON_WRITE_ERROR);
	evhttp_request_set_error_cb(req, error_cb);

	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char hosthdr[320];
	if (strchr(t.host, ':'))
		snprintf(hosthdr, sizeof hosthdr, "[%s]:%u", t.host, t.port);
	else
		snprintf(hosthdr, sizeof hosthdr, "%s:%u", t.host, t.port);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "Connection", "close");
	if (opts && opts->content_type)
		evhttp_add_header(h, "Content-Type", opts->content_type);
	if (opts && opts->headers)
		for (size_t i = 0; opts->headers[i] && opts->headers[i + 1]; i += 2)
			if (evhttp_add_header(h, opts->headers[i], opts->headers[i + 1]) != 0) {
				rc = ctng_err_set(err, CTNG_EINVAL, "net: invalid header %.100s",
				                  opts->headers[i]);
				goto fail;
			}
	if (len && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		goto fail;
	}
	if (type == EVHTTP_REQ_POST || type == EVHTTP_REQ_PUT) {
		char cl[32];
		snprintf(cl, sizeof cl, "%zu", len);
		evhttp_add_header(h, "Content-Length", cl);
	}
	struct evhttp_request *sent = req;
	req = NULL; /* owned by the connection from here, even on failure */
	if (evhttp_make_request(cr->evcon, sent, type, t.path_query) != 0) {
		rc = ctng_err_set(err, CTNG_EIO, "net: cannot start request to %s", cr->peer);
		goto fail;
	}
	struct timeval tv = {.tv_sec = (time_t)(timeout / 1000),
	                     .tv_usec = (suseconds_t)(timeout % 1000) * 1000};
	evtimer_add(cr->deadline, &tv);
	free(t.path_query);
	cr->next = loop->inflight;
	if (cr->next)
		cr->next->prev = cr;
	loop->inflight = cr;
	loop->n_inflight++;
	return 0;
fail:
	if (req)
		evhttp_request_free(req);
	if (cr->evcon)
		evhttp_connection_free(cr->evcon);
	if (cr->deadline)
		event_free(cr->deadline);
	free(cr);
	free(t.path_query);
	return rc;
}

int ctng_net_get(ctng_net_loop *loop, const char *url, uint64_t timeout_ms, ctng_net_response_fn cb,
                 void *arg, ctng_err *err)
{
	ctng_net_client_opts o = {.timeout_ms = timeout_ms};
	return ctng_net_request(loop, "GET", url, NULL, 0, &o, cb, arg, err);
}

int ctng_net_post_json(ctng_net_loop *loop, const char *url, const json_t *body,
                       uint64_t timeout_ms, ctng_net_response_fn cb, void *arg, ctng_err *err)
{
	if (!body)
		return ctng_err_set(err, CTNG_EINVAL, "net: no JSON body");
	char *s = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return ctng_err_set(err, CTNG_EINVAL, "net: cannot serialise JSON body");
	ctng_net_client_opts o = {.timeout_ms = timeout_ms, .content_type = "application/json"};
	int rc = ctng_net_request(loop, "POST", url, s, strlen(s), &o, cb, arg, err);
	free(s);
	return rc;
}

size_t ctng_net_inflight(const ctng_net_loop *loop)
{
	return loop->n_inflight;
}

/* ------------------------------------------------------------ blocking */

struct sync_result {
	ctng_net_loop *loop;
	bool done;
	int status;
	uint8_t *body;
	size_t len;
	ctng_err err;
};

static void sync_cb(int status, const uint8_t *body, size_t len, const ctng_err *err, void *arg)
{
	struct sync_result *r = arg;
	r->done = true;
	r->status = status;
	if (err) {
		r->err = *err;
	} else {
		r->body = malloc(len + 1);
		if (r->body) {
			memcpy(r->body, body, len);
			r->body[len] = 0;
			r->len = len;
		} else {
			ctng_err_set(&r->err, CTNG_ENOMEM, "net: out of memory");
		}
	}
	ctng_net_loop_stop(r->loop);
}

int ctng_net_fetch_sync(const char *url, const char *method, const char *content_type,
                        const void *body, size_t len, uint64_t timeout_ms, int *status,
                        uint8_t **out, size_t *out_len, ctng_err *err)
{
	struct sync_result r = {0};
	r.loop = ctng_net_loop_new(err);
	if (!r.loop)
		return err ? err->code : CTNG_EIO;
	ctng_net_client_opts o = {.timeout_ms = timeout_ms, .content_type = content_type};
	int rc = ctng_net_request(r.loop, method, url, body, len, &o, sync_cb, &r, err);
	if (rc == 0) {
		while (!r.done && rc == 0)
			rc = ctng_net_loop_run(r.loop, err);
	}
	ctng_net_loop_free(r.loop);
	if (rc)
		return rc;
	if (r.err.code) {
		free(r.body);
		if (err)
			*err = r.err;
		return r.err.code;
	}
	if (status)
		*status = r.status;
	if (out)
		*out = r.body;
	else
		free(r.body);
	if (out_len)
		*out_len = r.len;
	return 0;
}
