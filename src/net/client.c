/*
 * client.c — the asynchronous HTTP/1.1 client of src/net, on bufferevents:
 * http:// and https:// URLs (host an IP literal, "localhost" or a DNS name
 * resolved with evdns), TLS 1.2+ with the peer's certificate verified
 * against the loop's CA bundle and its name or address checked, persistent
 * connections kept in a per-loop pool and reused for the next request to
 * the same peer, a deadline on every request (whatever the peer does, the
 * callback fires by then, exactly once, never from inside the call that
 * started it), a response size limit, and the blocking ctng_net_fetch_sync
 * built on a temporary loop. Responses are parsed by http1.c.
 *
 * A request that fails on a pooled connection before any byte of its
 * response arrived (the peer closed the idle connection as we reused it)
 * is sent again once on a fresh connection; every CTng endpoint is
 * idempotent (gossip is deduplicated, a resubmitted certificate gets its
 * SCT again).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net_internal.h"

#define POOL_PER_PEER 8     /* idle connections kept per peer */
#define POOL_MAX      256   /* idle connections kept per loop */
#define POOL_IDLE_MS  15000 /* below the servers' 60 s idle timeout */
#define RESP_HEAD_MAX HTTP1_MAX_HEAD

struct client_conn {
	ctng_net_loop *loop;
	char key[CTNG_NET_PEER_KEY]; /* scheme://host:port */
	struct bufferevent *bev;
	bool tls;
	bool up;                /* connected (TLS: handshake done) */
	bool used;              /* a response was read on it before */
	bool public_only;       /* made for a public_only request (pooled apart) */
	SSL_CTX *ctx;           /* its TLS context (identity only; pooled per context) */
	struct client_req *req; /* the request it serves; NULL while pooled */
	struct event *idle_ev;
	/* the response being read */
	ctng_buf head;
	size_t scan;
	bool head_done;
	bool got_bytes;
	http1_head h;
	http1_framing fr;
	http1_chunked ch;
	ctng_buf body;
	struct client_conn *prev, *next; /* loop->pool */
};

struct client_req {
	ctng_net_loop *loop;
	ctng_net_response_fn cb;
	void *arg;
	bool is_head;
	char method[8];
	char host[256]; /* as in the URL (brackets removed) */
	char addr[64];  /* the IP literal to connect to, if known */
	uint16_t port;
	bool tls, ip_host;
	char key[CTNG_NET_PEER_KEY];
	char peer[300];
	ctng_buf out; /* the request bytes */
	size_t max_response;
	uint64_t timeout_ms;
	struct event *deadline;
	struct evdns_getaddrinfo_request *dns;
	struct evutil_addrinfo *addrs, *next_addr;
	struct client_conn *conn;
	int retries;
	bool public_only;
	ctng_net_prefix *except; /* public_except, parsed */
	size_t n_except;
	char *tls_ca;    /* a bundle's path (owned), or NULL */
	bool tls_system; /* tls_ca: the system roots */
	char refused[200]; /* why the last address was refused (public_only) */
	bool failing; /* `pending` is reported by the deadline event, at once */
	ctng_err pending;
	struct client_req *prev, *next;
};

static void start(struct client_req *cr);

/* The request's tls_ca as ctng_net_loop_tls_for_ takes it. */
static const char *req_tls_ca(const struct client_req *cr)
{
	return cr->tls_system ? CTNG_NET_TLS_SYSTEM_ROOTS : cr->tls_ca;
}

/* --------------------------------------------------------------- helpers */

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

static void complete(struct client_req *cr, int status, const uint8_t *body, size_t len,
                     const ctng_err *err)
{
	unlink_req(cr);
	event_free(cr->deadline);
	if (cr->dns)
		evdns_getaddrinfo_cancel(cr->dns); /* its callback sees the cancel and returns */
	if (cr->addrs)
		evutil_freeaddrinfo(cr->addrs);
	ctng_buf_free(&cr->out);
	free(cr->except);
	free(cr->tls_ca);
	ctng_net_response_fn cb = cr->cb;
	void *arg = cr->arg;
	free(cr);
	cb(status, body ? body : (const uint8_t *)"", len, err, arg);
}

/* Reports a failure from the deadline event (never from the current call). */
static void fail_soon(struct client_req *cr, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_soon(struct client_req *cr, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[sizeof cr->pending.msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctng_err_set(&cr->pending, code, "%s", msg);
	cr->failing = true;
	struct timeval tv = {0, 0};
	evtimer_add(cr->deadline, &tv);
}

static void conn_reset_response(struct client_conn *c)
{
	ctng_buf_reset(&c->head);
	ctng_buf_free(&c->body);
	c->scan = 0;
	c->head_done = false;
	c->got_bytes = false;
	memset(&c->fr, 0, sizeof c->fr);
	memset(&c->ch, 0, sizeof c->ch);
}

static void pool_unlink(struct client_conn *c)
{
	ctng_net_loop *loop = c->loop;
	if (c->prev)
		c->prev->next = c->next;
	else
		loop->pool = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	loop->n_pool--;
}

static void conn_free(struct client_conn *c)
{
	if (!c->req && c->idle_ev && evtimer_pending(c->idle_ev, NULL))
		pool_unlink(c);
	if (c->idle_ev)
		event_free(c->idle_ev);
	if (c->bev) {
		ctng_net_wire_closing_(bufferevent_getfd(c->bev));
		bufferevent_free(c->bev);
	}
	ctng_buf_free(&c->head);
	ctng_buf_free(&c->body);
	free(c);
}

static void idle_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct client_conn *c = arg;
	pool_unlink(c);
	evtimer_del(c->idle_ev);
	conn_free(c);
}

/* Keeps an idle connection for the next request to its peer, or closes it. */
static void pool_put(struct client_conn *c)
{
	ctng_net_loop *loop = c->loop;
	size_t same = 0;
	for (struct client_conn *o = loop->pool; o; o = o->next)
		same += !strcmp(o->key, c->key);
	if (same >= POOL_PER_PEER || loop->n_pool >= POOL_MAX) {
		conn_free(c);
		return;
	}
	c->req = NULL;
	c->next = loop->pool;
	if (c->next)
		c->next->prev = c;
	c->prev = NULL;
	loop->pool = c;
	loop->n_pool++;
	struct timeval tv = {POOL_IDLE_MS / 1000, (POOL_IDLE_MS % 1000) * 1000};
	evtimer_add(c->idle_ev, &tv);
}

static struct client_conn *pool_take(ctng_net_loop *loop, const char *key, const SSL_CTX *ctx,
                                     bool public_only)
{
	for (struct client_conn *c = loop->pool; c; c = c->next)
		if (!strcmp(c->key, key) && c->ctx == ctx && c->public_only == public_only) {
			pool_unlink(c);
			evtimer_del(c->idle_ev);
			return c;
		}
	return NULL;
}

/* ------------------------------------------------------------- responses */

/* The response is complete: hands the connection back to the pool (if
 * the peer allows and `reusable`) and calls the request's callback. */
static void deliver(struct client_conn *c, bool reusable)
{
	struct client_req *cr = c->req;
	ctng_buf body = c->body;
	c->body = (ctng_buf){0};
	int status = c->h.status;
	bool keep = reusable && !c->loop->no_keepalive && c->fr.kind != HTTP1_BODY_EOF &&
	            http1_keep_alive(&c->h) &&
	            evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
	c->used = true;
	conn_reset_response(c);
	c->req = NULL;
	cr->conn = NULL;
	if (keep)
		pool_put(c);
	else
		conn_free(c);
	if (ctng_buf_reserve(&body, 1) == 0)
		body.data[body.len] = 0;
	complete(cr, status, body.data, body.len, NULL);
	ctng_buf_free(&body);
}

static void fail_now(struct client_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_now(struct client_conn *c, int code, const char *fmt, ...)
{
	struct client_req *cr = c->req;
	ctng_err e = {0};
	char msg[sizeof e.msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctng_err_set(&e, code, "%s", msg);
	cr->conn = NULL;
	c->req = NULL;
	conn_free(c);
	complete(cr, 0, NULL, 0, &e);
}

static int emit_body(void *arg, const uint8_t *p, size_t n)
{
	struct client_conn *c = arg;
	return ctng_buf_append(&c->body, p, n) ? -1 : 0;
}

/* Reads what has arrived; returns -1 if c was handed on or freed. */
static int read_response(struct client_conn *c)
{
	struct client_req *cr = c->req;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->head_done) {
		size_t avail = evbuffer_get_length(in);
		if (!avail)
			return 0;
		c->got_bytes = true;
		size_t room = RESP_HEAD_MAX + 1 - c->head.len;
		size_t take = avail < room ? avail : room;
		if (ctng_buf_reserve(&c->head, take + 1)) {
			fail_now(c, CTNG_ENOMEM, "net: out of memory reading from %s", cr->peer);
			return -1;
		}
		evbuffer_remove(in, c->head.data + c->head.len, take);
		c->head.len += take;
		size_t skip = 0;
		size_t end =
		    http1_head_end((const char *)c->head.data, c->head.len, &c->scan, &skip);
		if (!end) {
			if (c->head.len > RESP_HEAD_MAX) {
				fail_now(c, CTNG_EIO,
				         "net: malformed response from %s (head too large)",
				         cr->peer);
				return -1;
			}
			return 0;
		}
		if (c->head.len > end)
			evbuffer_prepend(in, c->head.data + end, c->head.len - end);
		c->head.len = end;
		c->head.data[end] = 0;
		http1_error e = {0};
		if (http1_parse_response((char *)c->head.data + skip, end - skip, &c->h, &e)) {
			fail_now(c, CTNG_EIO, "net: malformed response from %s: %s", cr->peer,
			         e.reason);
			return -1;
		}
		if (c->h.status >= 100 && c->h.status < 200) { /* 100 Continue and friends */
			ctng_buf_reset(&c->head);
			c->scan = 0;
			continue;
		}
		if (http1_response_framing(&c->h, cr->is_head ? "HEAD" : cr->method,
		                           cr->max_response, &c->fr, &e)) {
			if (e.status == 413)
				fail_now(c, CTNG_ERANGE,
				         "net: response from %s larger than the limit of %zu bytes",
				         cr->peer, cr->max_response);
			else
				fail_now(c, CTNG_EIO, "net: malformed response from %s: %s",
				         cr->peer, e.reason);
			return -1;
		}
		c->ch.max_body = cr->max_response;
		c->head_done = true;
	}
	if (c->fr.kind == HTTP1_BODY_NONE) {
		deliver(c, true);
		return -1;
	}
	while (evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		size_t n = v.iov_len;
		if (c->fr.kind == HTTP1_BODY_CHUNKED) {
			http1_error e = {0};
			long used = http1_chunked_feed(&c->ch, v.iov_base, n, emit_body, c, &e);
			if (used < 0) {
				if (used == -1 && e.status == 413)
					fail_now(c, CTNG_ERANGE,
					         "net: response from %s larger than the limit of "
					         "%zu bytes",
					         cr->peer, cr->max_response);
				else
					fail_now(c, CTNG_EIO, "net: malformed response from %s: %s",
					         cr->peer, used == -2 ? "out of memory" : e.reason);
				return -1;
			}
			evbuffer_drain(in, (size_t)used);
			if (c->ch.done) {
				deliver(c, true);
				return -1;
			}
			continue;
		}
		if (c->fr.kind == HTTP1_BODY_LENGTH && n > c->fr.length - c->body.len)
			n = (size_t)(c->fr.length - c->body.len);
		if (c->fr.kind == HTTP1_BODY_EOF && c->body.len + n > cr->max_response) {
			fail_now(c, CTNG_ERANGE,
			         "net: response from %s larger than the limit of %zu bytes",
			         cr->peer, cr->max_response);
			return -1;
		}
		if (ctng_buf_append(&c->body, v.iov_base, n)) {
			fail_now(c, CTNG_ENOMEM, "net: out of memory reading from %s", cr->peer);
			return -1;
		}
		evbuffer_drain(in, n);
		if (c->fr.kind == HTTP1_BODY_LENGTH && c->body.len == c->fr.length) {
			deliver(c, true);
			return -1;
		}
	}
	return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client_conn *c = arg;
	if (!c->req) { /* bytes on an idle connection: not ours to read */
		(void)bev;
		conn_free(c);
		return;
	}
	read_response(c);
}

/* A refused peer: logged at once when the peer or the reason is new, else
 * at most once per 10 s. */
static void note_tls_failure(ctng_net_loop *loop, const char *peer, const char *why)
{
	uint64_t skipped;
	char what[sizeof loop->tls_last];
	snprintf(what, sizeof what, "%.60s %.190s", peer, why);
	if (strcmp(what, loop->tls_last) != 0) {
		memcpy(loop->tls_last, what, sizeof what);
		loop->log_tls.last_ms = 0;
	}
	if (ctng_net_ratelog_(&loop->log_tls, ctng_mono_ms(), &skipped))
		CTNG_WARN("net: TLS connection refused", "peer=%s reason=\"%s\" not_logged=%llu",
		          peer, why, (unsigned long long)skipped);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client_conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		c->up = true;
		SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(bev) : NULL;
		if (ssl && SSL_session_reused(ssl))
			c->loop->tls_resumed++;
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	int sock_err = EVUTIL_SOCKET_ERROR();
	struct client_req *cr = c->req;
	if (!cr) { /* an idle connection the peer closed */
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->head_done && c->fr.kind == HTTP1_BODY_EOF) {
		deliver(c, false); /* the body is what came before the close */
		return;
	}
	/* A pooled connection the peer closed as we reused it: try afresh. */
	if (c->used && !c->got_bytes && cr->retries-- > 0) {
		c->req = NULL;
		cr->conn = NULL;
		conn_free(c);
		start(cr);
		return;
	}
	char why[200];
	if (c->tls && !c->up) {
		if (ctng_net_tls_failure_(bev, sock_err, why, sizeof why))
			note_tls_failure(c->loop, cr->peer, why);
		else if (sock_err == ECONNREFUSED)
			snprintf(why, sizeof why, "refused"); /* a closed port, not TLS */
	} else if (!c->up) {
		snprintf(why, sizeof why, "%s",
		         sock_err == ECONNREFUSED ? "refused" : strerror(sock_err));
	} else {
		why[0] = 0;
	}
	/* Connection failed: the next address of the name, if any. */
	if (!c->up && cr->next_addr) {
		c->req = NULL;
		cr->conn = NULL;
		conn_free(c);
		start(cr);
		return;
	}
	if (!c->up && !strcmp(why, "refused"))
		fail_now(c, CTNG_EIO, "net: connection to %s refused", cr->peer);
	else if (!c->up)
		fail_now(c, CTNG_EIO, "net: connection to %s failed: %s", cr->peer, why);
	else if (what & BEV_EVENT_EOF)
		fail_now(c, CTNG_EIO, "net: %s closed the connection before a complete response",
		         cr->peer);
	else
		fail_now(c, CTNG_EIO, "net: connection to %s failed: %s", cr->peer,
		         strerror(sock_err));
}

/* --------------------------------------------------------------- sending */

static void send_request(struct client_req *cr, struct client_conn *c)
{
	cr->conn = c;
	c->req = cr;
	conn_reset_response(c);
	evbuffer_add(bufferevent_get_output(c->bev), cr->out.data, cr->out.len);
}

static struct client_conn *conn_new(struct client_req *cr, ctng_err *err)
{
	ctng_net_loop *loop = cr->loop;
	struct client_conn *c = calloc(1, sizeof *c);
	if (!c) {
		ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		return NULL;
	}
	c->loop = loop;
	c->tls = cr->tls;
	c->public_only = cr->public_only;
	memcpy(c->key, cr->key, sizeof c->key);
	c->idle_ev = evtimer_new(loop->base, idle_timeout, c);
	if (!c->idle_ev)
		goto oom;
	if (cr->tls) {
		SSL_CTX *ctx = ctng_net_loop_tls_for_(loop, req_tls_ca(cr), err);
		if (!ctx)
			goto fail;
		c->ctx = ctx;
		SSL *ssl = SSL_new(ctx);
		if (!ssl)
			goto oom;
		const char *name = cr->host;
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (cr->ip_host ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
		                : (SSL_set1_host(ssl, name) != 1 ||
		                   SSL_set_tlsext_host_name(ssl, name) != 1)) {
			SSL_free(ssl);
			ctng_err_set(err, CTNG_EINVAL, "net: cannot check the name %s", name);
			goto fail;
		}
		c->bev = bufferevent_openssl_socket_new(
		    loop->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (!c->bev) {
			SSL_free(ssl);
			goto oom;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(loop->base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (!c->bev)
			goto oom;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
oom:
	ctng_err_set(err, CTNG_ENOMEM, "net: cannot create a connection to %s", cr->peer);
fail:
	conn_free(c);
	return NULL;
}

/* public_only: may the request connect to sa? If not, cr->refused says why. */
static bool address_allowed(struct client_req *cr, const struct sockaddr *sa)
{
	if (!cr->public_only)
		return true;
	const char *what = ctng_net_sockaddr_special(sa);
	if (!what)
		return true;
	int af = sa->sa_family;
	const void *a = af == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
	                              : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	for (size_t i = 0; i < cr->n_except; i++)
		if (ctng_net_prefix_contains(&cr->except[i], af, a))
			return true;
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(af, a, ip, sizeof ip);
	if (cr->ip_host)
		snprintf(cr->refused, sizeof cr->refused, "%s is a %s address", ip, what);
	else
		snprintf(cr->refused, sizeof cr->refused, "%.80s resolves to %s, a %s address",
		         cr->host, ip, what);
	return false;
}

static void connect_to(struct client_req *cr, const struct sockaddr *sa, int salen)
{
	if (!address_allowed(cr, sa)) {
		if (cr->next_addr) { /* another address of the name may be public */
			start(cr);
			return;
		}
		fail_soon(cr, CTNG_EINVAL, "net: %s: refused (public addresses only)", cr->refused);
		return;
	}
	ctng_err e = {0};
	struct client_conn *c = conn_new(cr, &e);
	if (!c) {
		fail_soon(cr, e.code, "%s", e.msg);
		return;
	}
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)sa, salen) != 0) {
		int se = EVUTIL_SOCKET_ERROR();
		conn_free(c);
		fail_soon(cr, CTNG_EIO, "net: cannot connect to %s: %s", cr->peer, strerror(se));
		return;
	}
	/* after the connect: libevent's SSL_clear() at connect would forget it */
	if (c->tls)
		ctng_net_tls_session_prepare_(cr->loop, bufferevent_openssl_get_ssl(c->bev), cr->key);
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	send_request(cr, c);
}

static void connect_literal(struct client_req *cr, const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	int len;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cr->port);
		len = sizeof *s4;
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cr->port);
		len = sizeof *s6;
	} else {
		fail_soon(cr, CTNG_EINVAL, "net: %s is not an address", ip);
		return;
	}
	connect_to(cr, (struct sockaddr *)&ss, len);
}

static void resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct client_req *cr = arg;
	if (result == EVUTIL_EAI_CANCEL)
		return; /* the request is gone (deadline, loop freed) */
	cr->dns = NULL;
	if (result != 0 || !res) {
		if (res)
			evutil_freeaddrinfo(res);
		fail_soon(cr, CTNG_EIO, "net: cannot resolve %s: %s", cr->host,
		          evutil_gai_strerror(result));
		return;
	}
	cr->addrs = cr->next_addr = res;
	start(cr);
}

static struct evdns_base *dns_base(ctng_net_loop *loop)
{
	if (!loop->dns && loop->nameserver) {
		loop->dns = evdns_base_new(loop->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (loop->dns && evdns_base_nameserver_ip_add(loop->dns, loop->nameserver) != 0) {
			evdns_base_free(loop->dns, 0);
			loop->dns = NULL;
		}
		return loop->dns;
	}
	if (!loop->dns) {
		loop->dns = evdns_base_new(loop->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
		                                           EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!loop->dns)
			loop->dns = evdns_base_new(loop->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (loop->dns)
			evdns_base_load_hosts(loop->dns, NULL);
	}
	return loop->dns;
}

static void start(struct client_req *cr)
{
	SSL_CTX *ctx = NULL;
	if (cr->tls) {
		ctng_err e = {0};
		if (!(ctx = ctng_net_loop_tls_for_(cr->loop, req_tls_ca(cr), &e))) {
			fail_soon(cr, e.code, "%s", e.msg);
			return;
		}
	}
	struct client_conn *c = pool_take(cr->loop, cr->key, ctx, cr->public_only);
	if (c) {
		send_request(cr, c);
		return;
	}
	if (cr->addr[0]) {
		connect_literal(cr, cr->addr);
		return;
	}
	if (cr->next_addr) {
		struct evutil_addrinfo *a = cr->next_addr;
		cr->next_addr = a->ai_next;
		connect_to(cr, a->ai_addr, (int)a->ai_addrlen);
		return;
	}
	if (cr->addrs) { /* every address failed: on_event reported it */
		fail_soon(cr, CTNG_EIO, "net: no address of %s accepts connections", cr->host);
		return;
	}
	struct evdns_base *dns = dns_base(cr->loop);
	if (!dns) {
		fail_soon(cr, CTNG_EIO, "net: cannot resolve %s: no resolver", cr->host);
		return;
	}
	struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
	                                .ai_socktype = SOCK_STREAM,
	                                .ai_protocol = IPPROTO_TCP,
	                                .ai_flags = EVUTIL_AI_ADDRCONFIG};
	char port[8];
	snprintf(port, sizeof port, "%u", cr->port);
	/* The callback may run inside this call (hosts file): it only connects
	 * or fails_soon, never completes the request itself. */
	struct evdns_getaddrinfo_request *q =
	    evdns_getaddrinfo(dns, cr->host, port, &hints, resolved, cr);
	if (!cr->addrs && !cr->failing)
		cr->dns = q;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct client_req *cr = arg;
	if (cr->conn) {
		cr->conn->req = NULL;
		conn_free(cr->conn); /* not pooled: it may be half-way through a response */
		cr->conn = NULL;
	}
	if (cr->failing) {
		ctng_err e = cr->pending;
		complete(cr, 0, NULL, 0, &e);
		return;
	}
	ctng_err err = {0};
	ctng_err_set(&err, CTNG_ETIMEOUT, "net: %s did not answer within %llu ms", cr->peer,
	             (unsigned long long)cr->timeout_ms);
	complete(cr, 0, NULL, 0, &err);
}

void ctng_net_client_shutdown_(ctng_net_loop *loop)
{
	while (loop->inflight) {
		struct client_req *cr = loop->inflight;
		if (cr->conn) {
			cr->conn->req = NULL;
			conn_free(cr->conn);
			cr->conn = NULL;
		}
		ctng_err err = {0};
		ctng_err_set(&err, CTNG_ESTATE, "net: loop freed with a request to %s in flight",
		             cr->peer);
		complete(cr, 0, NULL, 0, &err);
	}
	while (loop->pool) {
		struct client_conn *c = loop->pool;
		pool_unlink(c);
		evtimer_del(c->idle_ev);
		conn_free(c);
	}
	if (loop->dns) {
		evdns_base_free(loop->dns, 1);
		loop->dns = NULL;
	}
}

static int method_ok(const char *m)
{
	return m && (!strcmp(m, "GET") || !strcmp(m, "POST") || !strcmp(m, "PUT") ||
	             !strcmp(m, "DELETE") || !strcmp(m, "HEAD"));
}

/* Parses "http[s]://host[:port]/path?query" into cr (host, port, key) and
 * *path_query (malloc'd). */
static int parse_url(const char *url, struct client_req *cr, char **path_query, ctng_err *err)
{
	*path_query = NULL;
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
	if (!scheme || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "net: URL %.200s: only http:// and https://",
		                  url);
		goto out;
	}
	cr->tls = strcasecmp(scheme, "https") == 0;
	if (evhttp_uri_get_userinfo(u) || evhttp_uri_get_fragment(u)) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "net: URL %.200s: userinfo/fragment not allowed", url);
		goto out;
	}
	size_t hl = host ? strlen(host) : 0;
	if (!hl || hl >= sizeof cr->host) {
		rc = ctng_err_set(err, CTNG_EINVAL, "net: URL %.200s has no valid host", url);
		goto out;
	}
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memcpy(cr->host, host + 1, hl - 2);
		cr->host[hl - 2] = 0;
	} else {
		memcpy(cr->host, host, hl + 1);
	}
	unsigned char tmp[16];
	if (inet_pton(AF_INET, cr->host, tmp) == 1 || inet_pton(AF_INET6, cr->host, tmp) == 1) {
		cr->ip_host = true;
		snprintf(cr->addr, sizeof cr->addr, "%.63s", cr->host); /* a literal is short */
	} else if (!strcasecmp(cr->host, "localhost")) {
		snprintf(cr->addr, sizeof cr->addr, "127.0.0.1"); /* RFC 6761: always loopback */
	} else {
		for (const char *p = cr->host; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "net: URL host %.100s is not a name", cr->host);
				goto out;
			}
	}
	if (port == 0 || port > 65535) {
		rc = ctng_err_set(err, CTNG_EINVAL, "net: URL %.200s has a bad port", url);
		goto out;
	}
	cr->port = port < 0 ? (cr->tls ? 443 : 80) : (uint16_t)port;
	snprintf(cr->key, sizeof cr->key, "%s://%s:%u", cr->tls ? "https" : "http", cr->host,
	         cr->port);
	if (strchr(cr->host, ':'))
		snprintf(cr->peer, sizeof cr->peer, "[%s]:%u", cr->host, cr->port);
	else
		snprintf(cr->peer, sizeof cr->peer, "%s:%u", cr->host, cr->port);
	if (!path || !*path)
		path = "/";
	size_t n = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
	if (!(*path_query = malloc(n))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		goto out;
	}
	snprintf(*path_query, n, "%s%s%s", path, query ? "?" : "", query ? query : "");
out:
	evhttp_uri_free(u);
	return rc;
}

/* public_only, public_except and tls_ca of opts into cr. */
static int copy_policy(struct client_req *cr, const ctng_net_client_opts *opts, ctng_err *err)
{
	if (!opts)
		return 0;
	cr->public_only = opts->public_only;
	size_t n = 0;
	while (opts->public_only && opts->public_except && opts->public_except[n])
		n++;
	if (n && !(cr->except = calloc(n, sizeof *cr->except)))
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	for (size_t i = 0; i < n; i++)
		if (ctng_net_prefix_parse(opts->public_except[i], &cr->except[i]))
			return ctng_err_set(err, CTNG_EINVAL, "net: %.100s is not an ADDR/BITS prefix",
			                    opts->public_except[i]);
	cr->n_except = n;
	if (opts->tls_ca == CTNG_NET_TLS_SYSTEM_ROOTS)
		cr->tls_system = true;
	else if (opts->tls_ca && !(cr->tls_ca = strdup(opts->tls_ca)))
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	return 0;
}

static bool header_ok(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

int ctng_net_request(ctng_net_loop *loop, const char *method, const char *url, const void *body,
                     size_t len, const ctng_net_client_opts *opts, ctng_net_response_fn cb,
                     void *arg, ctng_err *err)
{
	if (!loop || !cb)
		return ctng_err_set(err, CTNG_EINVAL, "net: request needs a loop and a callback");
	if (!method_ok(method))
		return ctng_err_set(err, CTNG_EINVAL, "net: unsupported method %s",
		                    method ? method : "(null)");
	if (len && !body)
		return ctng_err_set(err, CTNG_EINVAL, "net: body length without a body");
	struct client_req *cr = calloc(1, sizeof *cr);
	if (!cr)
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	char *pq = NULL;
	int rc = parse_url(url, cr, &pq, err);
	if (rc) {
		free(cr);
		return rc;
	}
	uint64_t timeout =
	    opts && opts->timeout_ms ? opts->timeout_ms : CTNG_NET_DEFAULT_TIMEOUT_MS;
	if (timeout > 24ull * 3600 * 1000)
		timeout = 24ull * 3600 * 1000;
	cr->loop = loop;
	cr->cb = cb;
	cr->arg = arg;
	cr->timeout_ms = timeout;
	cr->max_response =
	    opts && opts->max_response ? opts->max_response : CTNG_NET_DEFAULT_MAX_RESPONSE;
	snprintf(cr->method, sizeof cr->method, "%s", method);
	cr->is_head = !strcmp(method, "HEAD");
	cr->retries = 2;
	if ((rc = copy_policy(cr, opts, err))) {
		free(cr->except);
		free(cr->tls_ca);
		free(cr);
		free(pq);
		return rc;
	}
	ctng_buf *o = &cr->out;
	bool has_body = len || !strcmp(method, "POST") || !strcmp(method, "PUT");
	rc = ctng_buf_printf(o, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, pq, cr->peer);
	if (!rc && has_body)
		rc = ctng_buf_printf(o, "Content-Length: %zu\r\n", len);
	if (!rc && loop->no_keepalive)
		rc = ctng_buf_printf(o, "Connection: close\r\n");
	if (!rc && opts && opts->content_type) {
		if (!header_ok(opts->content_type))
			rc = CTNG_EINVAL;
		else
			rc = ctng_buf_printf(o, "Content-Type: %s\r\n", opts->content_type);
	}
	if (!rc && opts && opts->headers)
		for (size_t i = 0; !rc && opts->headers[i] && opts->headers[i + 1]; i += 2) {
			const char *hn = opts->headers[i], *hv = opts->headers[i + 1];
			if (!*hn || !header_ok(hn) || strchr(hn, ':') || strchr(hn, ' ') ||
			    !header_ok(hv))
				rc = CTNG_EINVAL;
			else
				rc = ctng_buf_printf(o, "%s: %s\r\n", hn, hv);
		}
	if (!rc)
		rc = ctng_buf_append(o, "\r\n", 2);
	if (!rc && len)
		rc = ctng_buf_append(o, body, len);
	free(pq);
	if (!rc && !(cr->deadline = evtimer_new(loop->base, deadline_cb, cr)))
		rc = CTNG_ENOMEM;
	if (rc) {
		ctng_buf_free(o);
		free(cr);
		return rc == CTNG_EINVAL ? ctng_err_set(err, rc, "net: invalid header")
		                         : ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	}
	struct timeval tv = {.tv_sec = (time_t)(timeout / 1000),
	                     .tv_usec = (suseconds_t)(timeout % 1000) * 1000};
	evtimer_add(cr->deadline, &tv);
	cr->next = loop->inflight;
	if (cr->next)
		cr->next->prev = cr;
	loop->inflight = cr;
	loop->n_inflight++;
	start(cr);
	return 0;
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

void ctng_net_loop_set_keepalive(ctng_net_loop *loop, bool on)
{
	loop->no_keepalive = !on;
	if (!on)
		while (loop->pool) {
			struct client_conn *c = loop->pool;
			pool_unlink(c);
			evtimer_del(c->idle_ev);
			conn_free(c);
		}
}

void ctng_net_client_wire_open_(const ctng_net_loop *loop, uint64_t *in, uint64_t *out)
{
	for (const struct client_conn *c = loop->pool; c; c = c->next)
		ctng_net_wire_read_(bufferevent_getfd(c->bev), in, out);
	for (const struct client_req *r = loop->inflight; r; r = r->next)
		if (r->conn)
			ctng_net_wire_read_(bufferevent_getfd(r->conn->bev), in, out);
}

int ctng_net_loop_set_nameserver(ctng_net_loop *loop, const char *ip_port, ctng_err *err)
{
	char *copy = ip_port ? strdup(ip_port) : NULL;
	if (ip_port && !copy)
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (copy && evutil_parse_sockaddr_port(copy, (struct sockaddr *)&ss, &len) != 0) {
		free(copy);
		return ctng_err_set(err, CTNG_EINVAL, "net: name server %.100s is not IP[:PORT]",
		                    ip_port);
	}
	free(loop->nameserver);
	loop->nameserver = copy;
	if (loop->dns && !loop->inflight) { /* the next name uses the new one */
		evdns_base_free(loop->dns, 1);
		loop->dns = NULL;
	}
	return 0;
}

size_t ctng_net_loop_idle_connections(const ctng_net_loop *loop)
{
	return loop->n_pool;
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
