/*
 * conn.c — the connections of the HTTP server of src/net, on libevent
 * bufferevents: accepting under the connection cap (an idle keep-alive
 * connection is displaced first, then newcomers get 503 from a few shed
 * slots, then accepting pauses), backing off when accept() fails, reading
 * request heads and bodies under deadlines (slowloris) and the server-wide
 * budget of buffered bytes (the largest request still arriving is shed
 * with 503), exact statuses for malformed messages (http1.c), keep-alive
 * with pipelined requests served one at a time, writing replies, and
 * lingering close so a client sees an early error before the connection
 * goes.
 *
 * A connection is freed only from its own callbacks or from a deadline,
 * never while a function up the stack still uses it: the functions that
 * may free one return -1 and their callers stop touching it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_internal.h"

#define READ_HIGH      (16u << 10) /* bufferevent input held per connection at most */
#define LINGER_MS      2000        /* draining after an early answer */
#define RESUME_MS      250         /* accept() back-off */
#define SHED_LINGER_MS 1000

struct srv_conn {
	ctng_net_server *srv;
	struct bufferevent *bev;
	evutil_socket_t fd;
	enum conn_state st;
	struct event *deadline;
	bool shed;        /* only answers 503, then closes */
	bool close_after; /* close once the current reply is sent */
	bool linger;      /* ... after draining what the peer still sends */
	bool peer_eof;
	bool tls;          /* a TLS connection ... */
	bool tls_up;       /* ... whose handshake is done */
	bool served_any;   /* a reply was sent: later heads may be preceded by idle time */
	bool have_bytes;   /* a byte of the current request has arrived */
	uint64_t t0;       /* ctng_mono_ns() at that byte (metrics) */
	uint64_t idle_seq; /* when it became idle, in server order (older = smaller) */
	ctng_buf hbuf;     /* head bytes so far */
	size_t scan;
	http1_framing fr;
	http1_chunked ch;
	uint8_t *body; /* body bytes so far; body_cap is counted in srv->buffered */
	size_t body_len, body_cap;
	ctng_net_req *req; /* being received (CS_BODY) or with its handler (CS_HANDLER) */
	size_t accounted;  /* bytes of srv->buffered held by hbuf/body (not yet req) */
	int minor;         /* HTTP/1.<minor> of the current request */
	char peer[64];
	struct srv_conn *prev, *next;
};

static void conn_read(struct srv_conn *c);

/* The body of requests without one (NUL-terminated, never written). */
static uint8_t empty_body[1];

/* ------------------------------------------------------------ helpers */

static void arm(struct srv_conn *c, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(c->deadline, &tv);
}

static void pause_listeners(ctng_net_server *srv, bool pause)
{
	for (struct srv_listener *l = srv->listeners; l; l = l->next) {
		if (pause)
			evconnlistener_disable(l->l);
		else
			evconnlistener_enable(l->l);
	}
}

static void maybe_resume(ctng_net_server *srv)
{
	if (srv->paused_full && srv->n_conns < srv->max_conns + srv->max_shed) {
		srv->paused_full = false;
		if (!srv->paused_error)
			pause_listeners(srv, false);
	}
}

static void unaccount(ctng_net_server *srv, size_t n)
{
	srv->buffered = n > srv->buffered ? 0 : srv->buffered - n;
}

static void drop_request(struct srv_conn *c)
{
	if (c->req && c->st != CS_HANDLER) {
		ctng_net_req *r = c->req;
		free(r->head);
		free(r);
	}
	if (c->req && c->st == CS_HANDLER)
		c->req->conn = NULL; /* the handler still holds it; its reply goes nowhere */
	c->req = NULL;
	ctng_buf_free(&c->hbuf);
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	unaccount(c->srv, c->accounted);
	c->accounted = 0;
}

static void conn_free(struct srv_conn *c)
{
	ctng_net_server *srv = c->srv;
	drop_request(c);
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev) {
		ctng_net_wire_closing_(bufferevent_getfd(c->bev));
		bufferevent_free(c->bev); /* closes the socket */
	} else if (c->fd >= 0)
		close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	if (c->shed)
		srv->n_shed--;
	free(c);
	maybe_resume(srv);
}

/* Writes a complete response. keep: the connection may serve another. */
static void write_response(struct srv_conn *c, int status, const char *ctype, const void *data,
                           size_t len, const char *const *headers, bool is_head)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bool keep = !c->close_after && !c->peer_eof;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
	                    status, http1_reason(status),
	                    ctype ? ctype : "application/octet-stream", len);
	if (!keep)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (c->minor == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	if (headers)
		for (size_t i = 0; headers[i] && headers[i + 1]; i += 2) {
			/* Handlers are ours, but never let a CR or LF split the head. */
			if (strpbrk(headers[i], "\r\n:") || strpbrk(headers[i + 1], "\r\n"))
				continue;
			evbuffer_add_printf(out, "%s: %s\r\n", headers[i], headers[i + 1]);
		}
	evbuffer_add(out, "\r\n", 2);
	if (len && !is_head)
		evbuffer_add(out, data, len);
	c->close_after = !keep;
	c->st = CS_WRITE;
	c->served_any = true;
	arm(c, c->srv->body_ms);
}

/* Answers before any handler ran (malformed, too large, too slow, busy)
 * and closes after lingering. */
static void reply_early(struct srv_conn *c, int status, const char *allow, const char *reason)
{
	const char *method = c->req ? c->req->method : NULL;
	net_server_count(c->srv, "none", method, status, c->have_bytes ? c->t0 : ctng_mono_ns());
	drop_request(c);
	c->close_after = true;
	c->linger = true;
	char *j = ctng_net_error_json_(reason);
	const char *hdr[] = {"Allow", allow, NULL};
	write_response(c, status, "application/json", j ? j : "{}", j ? strlen(j) : 2,
	               allow ? hdr : NULL, false);
	free(j);
}

static void note_bad(struct srv_conn *c, int status, const char *reason)
{
	ctng_net_server *srv = c->srv;
	srv->stats.bad_requests++;
	uint64_t skipped;
	if (ctng_net_ratelog_(&srv->log_bad, ctng_mono_ms(), &skipped))
		CTNG_INFO("net: bad request", "peer=%s status=%d reason=\"%s\" not_logged=%llu",
		          c->peer, status, reason, (unsigned long long)skipped);
}

/* Sheds a connection still receiving its request: 503, then close. */
static void shed_memory(struct srv_conn *c)
{
	ctng_net_server *srv = c->srv;
	srv->stats.shed_memory++;
	ctng_counter_inc(srv->m_shed, CTNG_LABELS("buffered_bytes"));
	char reason[160];
	snprintf(reason, sizeof reason,
	         "server busy: requests in progress hold %zu bytes (limit %zu); retry later",
	         srv->buffered, srv->max_buffered);
	uint64_t skipped;
	if (ctng_net_ratelog_(&srv->log_mem, ctng_mono_ms(), &skipped))
		CTNG_WARN(
		    "net: shedding load (memory)",
		    "peer=%s held=%zu limit=%zu request_bytes=%zu shed_total=%llu not_logged=%llu",
		    c->peer, srv->buffered, srv->max_buffered, c->accounted,
		    (unsigned long long)srv->stats.shed_memory, (unsigned long long)skipped);
	reply_early(c, 503, NULL, reason);
}

/* Makes room for n more bytes for c: sheds the largest requests still being
 * received until they fit. Returns 0 if c may take them, -1 if c itself was
 * shed (it is now writing its 503; stop reading). */
static int account(struct srv_conn *c, size_t n)
{
	ctng_net_server *srv = c->srv;
	while (srv->buffered + n > srv->max_buffered) {
		struct srv_conn *big = NULL;
		for (struct srv_conn *o = srv->conns; o; o = o->next)
			if ((o->st == CS_HEAD || o->st == CS_BODY) && o->accounted &&
			    (!big || o->accounted > big->accounted))
				big = o;
		if (!big || big == c || big->accounted < c->accounted + n) {
			shed_memory(c);
			return -1;
		}
		shed_memory(big);
	}
	srv->buffered += n;
	c->accounted += n;
	return 0;
}

/* ------------------------------------------------------------- reading */

static void begin_request(struct srv_conn *c)
{
	c->st = CS_HEAD;
	c->have_bytes = false;
	c->scan = 0;
	ctng_buf_reset(&c->hbuf);
	c->idle_seq = ++c->srv->idle_seq;
	arm(c, c->served_any ? c->srv->idle_ms : c->srv->header_ms);
}

/* The whole request is in: hand it to the router. */
static int complete(struct srv_conn *c)
{
	ctng_net_server *srv = c->srv;
	ctng_net_req *r = c->req;
	if (!c->body) {
		r->body = empty_body; /* never freed */
	} else {
		c->body[c->body_len] = 0; /* room was kept */
		r->body = c->body;
	}
	r->body_len = c->body_len;
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	r->accounted = c->accounted;
	c->accounted = 0;
	c->st = CS_HANDLER;
	evtimer_del(c->deadline);
	srv->stats.requests++;
	ctng_net_server_dispatch_(srv, r); /* may reply at once: state CS_WRITE */
	return -1;
}

static int read_head(struct srv_conn *c)
{
	ctng_net_server *srv = c->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail = evbuffer_get_length(in);
	if (!avail)
		return 0;
	if (!c->have_bytes) {
		c->have_bytes = true;
		c->t0 = ctng_mono_ns();
		if (c->served_any)
			arm(c, srv->header_ms); /* idle time is over: the head must come now */
	}
	size_t room = HTTP1_MAX_HEAD + 1 - c->hbuf.len;
	size_t take = avail < room ? avail : room;
	if (account(c, take))
		return -1;
	if (ctng_buf_reserve(&c->hbuf, take + 1)) {
		reply_early(c, 503, NULL, "server out of memory");
		return -1;
	}
	evbuffer_remove(in, c->hbuf.data + c->hbuf.len, take);
	c->hbuf.len += take;
	size_t skip = 0;
	size_t end = http1_head_end((const char *)c->hbuf.data, c->hbuf.len, &c->scan, &skip);
	if (!end) {
		if (c->hbuf.len > HTTP1_MAX_HEAD) {
			note_bad(c, 431, "request head too large");
			reply_early(c, 431, NULL, "request head larger than 65536 bytes");
			return -1;
		}
		return 0;
	}
	if (c->hbuf.len > end) { /* body or the next request: back to the input */
		evbuffer_prepend(in, c->hbuf.data + end, c->hbuf.len - end);
		unaccount(srv, c->hbuf.len - end);
		c->accounted -= c->hbuf.len - end;
		c->hbuf.len = end;
	}
	ctng_net_req *r = calloc(1, sizeof *r);
	if (!r) {
		reply_early(c, 503, NULL, "server out of memory");
		return -1;
	}
	r->srv = srv;
	r->conn = c;
	r->route = "none";
	r->t0 = c->t0;
	memcpy(r->peer, c->peer, sizeof r->peer);
	size_t hl = end - skip;
	r->head = malloc(hl + 1);
	if (!r->head) {
		free(r);
		reply_early(c, 503, NULL, "server out of memory");
		return -1;
	}
	memcpy(r->head, c->hbuf.data + skip, hl);
	r->head[hl] = 0;
	c->req = r;
	http1_error e = {0};
	if (http1_parse_request(r->head, hl, &r->h, &e) ||
	    http1_request_framing(&r->h, srv->max_body, &c->fr, &e)) {
		note_bad(c, e.status, e.reason);
		reply_early(c, e.status, NULL, e.reason);
		return -1;
	}
	c->minor = r->h.minor;
	r->method = r->h.method;
	r->is_head = !strcmp(r->h.method, "HEAD");
	if (!http1_keep_alive(&r->h))
		c->close_after = true;
	/* the head bytes now live in r->head; keep them counted until the reply */
	if (c->hbuf.cap > 8192)
		ctng_buf_free(&c->hbuf); /* do not keep a large head's room for good */
	else
		ctng_buf_reset(&c->hbuf);
	memset(&c->ch, 0, sizeof c->ch);
	c->ch.max_body = srv->max_body;
	c->st = CS_BODY;
	if (c->fr.kind == HTTP1_BODY_NONE)
		return complete(c);
	arm(c, srv->body_ms);
	if (c->minor == 1 && http1_has_token(&r->h, "Expect", "100-continue") &&
	    evbuffer_get_length(in) == 0)
		evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 1;
}

/* Makes room for n more body bytes (and a NUL). The memory is counted
 * against the budget: doubling, but never past a declared length. Returns
 * -1 if c was shed or is out of memory (it is answering; stop reading). */
static int grow_body(struct srv_conn *c, size_t n)
{
	size_t want = c->body_len + n + 1;
	if (want <= c->body_cap)
		return 0;
	size_t cap = c->body_cap ? c->body_cap : 4096;
	while (cap < want)
		cap *= 2;
	if (c->fr.kind == HTTP1_BODY_LENGTH && cap > c->fr.length + 1)
		cap = (size_t)c->fr.length + 1;
	if (account(c, cap - c->body_cap))
		return -1;
	uint8_t *p = realloc(c->body, cap);
	if (!p) {
		reply_early(c, 503, NULL, "server out of memory");
		return -1;
	}
	c->body = p;
	c->body_cap = cap;
	return 0;
}

static int emit_chunk(void *arg, const uint8_t *p, size_t n)
{
	struct srv_conn *c = arg;
	if (grow_body(c, n))
		return -1;
	memcpy(c->body + c->body_len, p, n);
	c->body_len += n;
	return 0;
}

static int read_body(struct srv_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail = evbuffer_get_length(in);
	if (c->fr.kind == HTTP1_BODY_LENGTH) {
		if (!avail)
			return 0;
		uint64_t need = c->fr.length - c->body_len;
		size_t n = avail < need ? avail : (size_t)need;
		if (grow_body(c, n))
			return -1;
		evbuffer_remove(in, c->body + c->body_len, n);
		c->body_len += n;
		return c->body_len == c->fr.length ? complete(c) : 0;
	}
	/* chunked */
	while (evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		http1_error e = {0};
		long used = http1_chunked_feed(&c->ch, v.iov_base, v.iov_len, emit_chunk, c, &e);
		if (used == -2)
			return -1; /* shed while appending */
		if (used < 0) {
			note_bad(c, e.status, e.reason);
			reply_early(c, e.status, NULL, e.reason);
			return -1;
		}
		evbuffer_drain(in, (size_t)used);
		if (c->ch.done)
			return complete(c);
	}
	return 0;
}

static void conn_read(struct srv_conn *c)
{
	for (;;) {
		int r;
		if (c->st == CS_HEAD) {
			r = read_head(c);
		} else if (c->st == CS_BODY) {
			r = read_body(c);
		} else if (c->st == CS_LINGER) {
			struct evbuffer *in = bufferevent_get_input(c->bev);
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		} else {
			return; /* a request is being handled or answered: later ones wait */
		}
		if (r <= 0)
			return;
	}
}

/* ----------------------------------------------------------- callbacks */

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_read(arg);
}

static void start_linger(struct srv_conn *c)
{
	c->st = CS_LINGER;
	if (!c->tls)
		shutdown(c->fd, SHUT_WR); /* TLS: keep the record layer intact, just drain */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	arm(c, c->shed ? SHED_LINGER_MS : LINGER_MS);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct srv_conn *c = arg;
	if (c->st != CS_WRITE || evbuffer_get_length(bufferevent_get_output(bev)))
		return;
	if (!c->close_after) {
		begin_request(c);
		conn_read(c); /* a pipelined request may be waiting */
		return;
	}
	if (c->linger && !c->peer_eof) {
		start_linger(c);
		return;
	}
	conn_free(c);
}

static void note_tls_failure(struct srv_conn *c, const char *why)
{
	ctng_net_server *srv = c->srv;
	srv->stats.tls_failures++;
	ctng_counter_inc(srv->m_tls, NULL);
	uint64_t skipped;
	if (ctng_net_ratelog_(&srv->log_tls, ctng_mono_ms(), &skipped))
		CTNG_INFO("net: TLS handshake failed",
		          "peer=%s reason=\"%s\" failures=%llu not_logged=%llu", c->peer, why,
		          (unsigned long long)srv->stats.tls_failures, (unsigned long long)skipped);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct srv_conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		c->tls_up = true;
		return;
	}
	if (c->tls && !c->tls_up && (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))) {
		char why[200];
		ctng_net_tls_failure_(bev, EVUTIL_SOCKET_ERROR(), why, sizeof why);
		note_tls_failure(c, why);
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->peer_eof = true;
		if (c->st == CS_HANDLER || c->st == CS_WRITE)
			return; /* half-closed: the answer still goes out */
		conn_free(c);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct srv_conn *c = arg;
	ctng_net_server *srv = c->srv;
	if ((c->st == CS_HEAD && c->have_bytes) || c->st == CS_BODY) {
		bool head = c->st == CS_HEAD;
		uint64_t ms = head ? srv->header_ms : srv->body_ms;
		srv->stats.timeouts++;
		ctng_counter_inc(srv->m_timeouts, CTNG_LABELS(head ? "head" : "body"));
		uint64_t skipped;
		if (ctng_net_ratelog_(&srv->log_timeout, ctng_mono_ms(), &skipped))
			CTNG_INFO("net: request too slow",
			          "peer=%s part=%s limit_ms=%llu timeouts=%llu not_logged=%llu",
			          c->peer, head ? "head" : "body", (unsigned long long)ms,
			          (unsigned long long)srv->stats.timeouts,
			          (unsigned long long)skipped);
		char reason[128];
		snprintf(reason, sizeof reason, "request %s not received within %llu ms",
		         head ? "head" : "body", (unsigned long long)ms);
		reply_early(c, 408, NULL, reason);
		return;
	}
	/* idle, a stalled handshake, a reply the peer does not read, or the end of lingering */
	if (c->tls && !c->tls_up) {
		char why[96];
		snprintf(why, sizeof why, "handshake not finished within %llu ms",
		         (unsigned long long)srv->header_ms);
		note_tls_failure(c, why);
	}
	conn_free(c);
}

/* ----------------------------------------------------------- accepting */

static void format_peer(char *out, size_t cap, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		port = ntohs(s4->sin_port);
		snprintf(out, cap, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		port = ntohs(s6->sin6_port);
		snprintf(out, cap, "[%s]:%u", ip, port);
	} else {
		snprintf(out, cap, "?:0");
	}
}

/* The longest-idle connection between requests (nothing of a request
 * received), or NULL. */
static struct srv_conn *oldest_idle(ctng_net_server *srv)
{
	struct srv_conn *best = NULL;
	for (struct srv_conn *o = srv->conns; o; o = o->next)
		if (!o->shed && o->st == CS_HEAD && !o->have_bytes &&
		    (!best || o->idle_seq < best->idle_seq))
			best = o;
	return best;
}

void ctng_net_conn_accept_(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg)
{
	(void)l;
	(void)salen;
	ctng_net_server *srv = arg;
	srv->stats.accepted++;
	if (srv->n_conns - srv->n_shed >= srv->max_conns) {
		struct srv_conn *idle = oldest_idle(srv);
		if (idle) {
			srv->stats.idle_closed++;
			ctng_counter_inc(srv->m_events, CTNG_LABELS("idle_closed"));
			uint64_t skipped;
			if (ctng_net_ratelog_(&srv->log_idle, ctng_mono_ms(), &skipped))
				CTNG_INFO(
				    "net: connection limit reached, closing idle connections",
				    "limit=%zu fd_limit=%llu closed_total=%llu not_logged=%llu",
				    srv->max_conns, (unsigned long long)srv->fd_limit,
				    (unsigned long long)srv->stats.idle_closed,
				    (unsigned long long)skipped);
			conn_free(idle);
		}
	}
	bool shed = srv->n_conns - srv->n_shed >= srv->max_conns;
	if (shed && srv->n_shed >= srv->max_shed) {
		close(fd); /* cannot happen while accepting pauses when full */
		return;
	}
	struct srv_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->shed = shed;
	format_peer(c->peer, sizeof c->peer, sa);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct event_base *base = srv->loop->base;
	if (srv->tls) {
		SSL *ssl = SSL_new(srv->tls);
		c->tls = true;
		c->bev = ssl ? bufferevent_openssl_socket_new(
		                   base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
		             : NULL;
		if (ssl && !c->bev)
			SSL_free(ssl);
		if (c->bev) {
			c->fd = -1; /* owned by the bufferevent now */
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		}
	} else {
		c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	c->deadline = evtimer_new(base, on_deadline, c);
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (shed)
		srv->n_shed++;
	if (!c->bev || !c->deadline) {
		conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (shed) {
		srv->stats.shed_connections++;
		ctng_counter_inc(srv->m_shed, CTNG_LABELS("connections"));
		uint64_t skipped;
		if (ctng_net_ratelog_(&srv->log_full, ctng_mono_ms(), &skipped))
			CTNG_WARN(
			    "net: shedding load (connections)",
			    "open=%zu limit=%zu fd_limit=%llu shed_total=%llu not_logged=%llu",
			    srv->n_conns - srv->n_shed, srv->max_conns,
			    (unsigned long long)srv->fd_limit,
			    (unsigned long long)srv->stats.shed_connections,
			    (unsigned long long)skipped);
		char reason[128];
		snprintf(reason, sizeof reason,
		         "server busy: %zu connections open (limit %zu); retry later",
		         srv->n_conns - srv->n_shed, srv->max_conns);
		c->minor = 1;
		reply_early(c, 503, NULL, reason);
	} else {
		begin_request(c);
	}
	if (srv->n_conns >= srv->max_conns + srv->max_shed && !srv->paused_full) {
		srv->paused_full = true;
		pause_listeners(srv, true);
	}
}

void ctng_net_conn_accept_error_(struct evconnlistener *l, void *arg)
{
	(void)l;
	int e = EVUTIL_SOCKET_ERROR();
	ctng_net_server *srv = arg;
	srv->stats.accept_errors++;
	ctng_counter_inc(srv->m_events, CTNG_LABELS("accept_error"));
	uint64_t skipped;
	if (ctng_net_ratelog_(&srv->log_accept, ctng_mono_ms(), &skipped))
		CTNG_WARN(
		    "net: accept failed, pausing",
		    "error=\"%s\" pause_ms=%d open=%zu fd_limit=%llu failures=%llu not_logged=%llu",
		    strerror(e), RESUME_MS, srv->n_conns, (unsigned long long)srv->fd_limit,
		    (unsigned long long)srv->stats.accept_errors, (unsigned long long)skipped);
	srv->paused_error = true;
	pause_listeners(srv, true);
	struct timeval tv = {.tv_sec = 0, .tv_usec = RESUME_MS * 1000};
	event_add(srv->resume_ev, &tv);
}

void ctng_net_conn_resume_(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ctng_net_server *srv = arg;
	srv->paused_error = false;
	if (!srv->paused_full)
		pause_listeners(srv, false);
}

/* -------------------------------------------------------------- replies */

void ctng_net_conn_reply_(ctng_net_req *req, int status, const char *ctype, const void *data,
                          size_t len, const char *const *headers)
{
	struct srv_conn *c = req->conn;
	net_server_count(req->srv, req->route, req->method, status, req->t0);
	unaccount(req->srv, req->accounted);
	if (c) {
		c->req = NULL;
		write_response(c, status, ctype, data, len, headers, req->is_head);
	}
	ctng_net_query_free(req->query);
	free(req->path);
	free(req->head);
	if (req->body != empty_body)
		free(req->body);
	free(req);
}

void ctng_net_conn_wire_open_(const ctng_net_server *srv, uint64_t *in, uint64_t *out)
{
	for (const struct srv_conn *c = srv->conns; c; c = c->next)
		if (c->bev)
			ctng_net_wire_read_(bufferevent_getfd(c->bev), in, out);
}

void ctng_net_conn_close_all_(ctng_net_server *srv)
{
	while (srv->conns)
		conn_free(srv->conns);
}
