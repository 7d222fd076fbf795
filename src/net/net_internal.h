/*
 * net_internal.h — structures shared by the files of src/net (loop, client,
 * server). Not part of the public API.
 */
#ifndef CTNG_NET_INTERNAL_H
#define CTNG_NET_INTERNAL_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdatomic.h>

#include "ctng/metrics.h"
#include "ctng/net.h"
#include "net/http1.h"

struct post_item {
	ctng_net_post_fn fn;
	void *arg;
	struct post_item *next;
};

struct later {
	struct event *ev;
	void (*fn)(void *arg);
	void *arg;
	struct later *prev, *next;
	struct ctng_net_loop *loop;
};

typedef struct ssl_ctx_st SSL_CTX;
struct ssl_st;

#define CTNG_NET_PEER_KEY 300 /* "https://host:port" of a pooled connection */

struct tls_bundle {
	char *path; /* NULL: the system roots */
	SSL_CTX *ctx;
	struct tls_bundle *next;
};

struct tls_session {
	char key[CTNG_NET_PEER_KEY]; /* scheme://host:port */
	SSL_CTX *ctx;                /* the context that verified it (a reference) */
	struct ssl_session_st *sess;
	struct tls_session *next;
};

struct client_req;
struct client_conn;
struct ctng_net_server;
struct evdns_base;


/* ------------------------------------------------------------ ratelog */

/* At most one log line per interval for one kind of event; the next line
 * says how many were not logged (ratelog.c). */
struct ratelog {
	uint64_t last_ms;    /* monotonic time of the last line, 0 = never */
	uint64_t suppressed; /* events since then that were not logged */
};
#define CTNG_NET_RATELOG_MS 10000
/* Returns true if this event should be logged now; *suppressed then holds
 * the number of events skipped since the previous line. */
bool ctng_net_ratelog_(struct ratelog *r, uint64_t now_ms, uint64_t *suppressed);

struct ctng_net_loop {
	struct event_base *base;
	/* Cross-thread wake-up: a pipe whose read end is watched by the loop. */
	int wake_rd, wake_wr;
	struct event *wake_ev;
	pthread_mutex_t mu; /* protects post_head/post_tail */
	struct post_item *post_head, *post_tail;
	atomic_bool stop_requested;
	/* Signals (SIGHUP reloads TLS files). */
	struct event *sigint_ev, *sigterm_ev, *sighup_ev;
	ctng_net_signal_fn sig_hook;
	void *sig_arg;
	/* Fire-and-forget timers. */
	struct later *laters;
	/* Outgoing requests in flight; idle connections kept for reuse. */
	struct client_req *inflight;
	size_t n_inflight;
	struct client_conn *pool;
	size_t n_pool;
	bool no_keepalive;
	struct evdns_base *dns; /* made at the first name to resolve */
	/* Client TLS: the context verifying peers (made at the first https
	 * request from tls_ca, or the process default, when not set). */
	SSL_CTX *tls_client;
	char *tls_ca;
	bool tls_ca_set;
	/* Client TLS contexts of requests that name their own bundle
	 * (ctng_net_client_opts.tls_ca): path NULL = the system roots. */
	struct tls_bundle *bundles;
	size_t n_bundles;
	char *nameserver; /* ctng_net_loop_set_nameserver; NULL = resolv.conf */
	/* TLS sessions (tickets) the peers gave, to resume the next handshake
	 * with the same peer and context (tls.c). */
	struct tls_session *sessions;
	size_t n_sessions;
	bool no_resumption;
	uint64_t tls_resumed; /* handshakes that resumed a session */
	struct ratelog log_tls;
	char tls_last[256]; /* peer and reason of the last refusal logged */
	/* Servers on this loop (TLS reload on SIGHUP). */
	struct ctng_net_server *servers;
};

/* ------------------------------------------------------------- server */

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

struct srv_listener {
	struct evconnlistener *l;
	struct srv_listener *next;
};

struct srv_conn;

struct ctng_net_server {
	ctng_net_loop *loop;
	struct srv_listener *listeners;
	bool paused_full;      /* listeners off: every connection slot is taken */
	bool paused_error;     /* listeners off: backing off after accept() failed */
	struct event *resume_ev; /* ends an accept() back-off */
	/* limits */
	size_t max_body;
	size_t max_conns; /* served connections */
	size_t max_shed;  /* extra connections that only get a 503 */
	size_t max_buffered;
	uint64_t header_ms, body_ms, idle_ms;
	uint64_t fd_limit;
	/* state */
	struct srv_conn *conns;
	size_t n_conns; /* every open connection, shed ones included */
	size_t n_shed;
	size_t buffered; /* request bytes held, all connections */
	uint64_t idle_seq; /* orders connections by when they went idle */
	struct route *routes;
	struct ctng_net_req *pending; /* dispatched, not yet replied */
	size_t n_pending;
	ctng_net_server_stats stats;
	/* TLS: the context new connections get (NULL: plain HTTP) and its files */
	SSL_CTX *tls;
	char *tls_cert, *tls_key;
	struct ctng_net_server *next_on_loop;
	/* ctng_net_server_metrics; NULL: not counted */
	ctng_metrics *m_reg;
	ctng_metric *m_requests, *m_duration, *m_shed, *m_timeouts, *m_events, *m_tls;
	ctng_metric *m_open, *m_buffered, *m_limit, *m_wire;
	uint64_t wire_seen[2]; /* what m_wire was given so far (in, out) */
	struct ratelog log_full, log_idle, log_mem, log_accept, log_timeout, log_bad, log_tls;
};

enum conn_state {
	CS_HEAD,    /* reading a request head (or idle between requests) */
	CS_BODY,    /* reading its body */
	CS_HANDLER, /* dispatched; waiting for the handler's reply */
	CS_WRITE,   /* sending the reply */
	CS_LINGER,  /* reply sent, connection closing: draining what the peer still sends */
};

struct ctng_net_req {
	ctng_net_server *srv;
	struct srv_conn *conn; /* NULL once the connection is gone */
	const char *method;
	char *path;
	ctng_net_query *query;
	char *head; /* owns the strings of h */
	http1_head h;
	uint8_t *body;
	size_t body_len;
	size_t accounted; /* bytes of srv->buffered this request holds */
	bool is_head;     /* HEAD: no body in the reply */
	const char *route; /* the route's pattern, for the metrics ("none" before routing) */
	uint64_t t0;       /* ctng_mono_ns() when its first byte arrived */
	char peer[64];
	struct ctng_net_req *prev, *next;
};

/* conn.c: accepting and serving connections. */
void ctng_net_conn_accept_(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg);
void ctng_net_conn_accept_error_(struct evconnlistener *l, void *arg);
void ctng_net_conn_resume_(evutil_socket_t fd, short what, void *arg);
/* Sends the reply of a dispatched request (status line, headers, body) and
 * frees the request. */
void ctng_net_conn_reply_(ctng_net_req *req, int status, const char *ctype, const void *data,
                          size_t len, const char *const *headers);
/* Closes every connection of the server (server being freed). */
void ctng_net_conn_close_all_(ctng_net_server *srv);
/* server.c: routes a complete request (takes ownership of req). */
void ctng_net_server_dispatch_(ctng_net_server *srv, ctng_net_req *req);
/* server.c: {"error": "..."} JSON text for a reason (malloc'd, or NULL). */
char *ctng_net_error_json_(const char *reason);

/* client.c: fails every in-flight request (loop being freed), closes the
 * pooled connections and frees the resolver. */
void ctng_net_client_shutdown_(ctng_net_loop *loop);

/* wire.c: adds fd's TCP_INFO totals (received, sent and acked) to *in,
 * *out; false if fd is not a TCP socket. */
bool ctng_net_wire_read_(evutil_socket_t fd, uint64_t *in, uint64_t *out);
/* wire.c: a connection closes: its totals join the process's. */
void ctng_net_wire_closing_(evutil_socket_t fd);
/* conn.c / client.c: add the totals of the open connections. */
void ctng_net_conn_wire_open_(const struct ctng_net_server *srv, uint64_t *in, uint64_t *out);
void ctng_net_client_wire_open_(const ctng_net_loop *loop, uint64_t *in, uint64_t *out);

/* tls.c */
SSL_CTX *ctng_net_tls_server_ctx_(const char *cert_file, const char *key_file, ctng_err *err);
SSL_CTX *ctng_net_tls_client_ctx_(const char *ca_file, ctng_err *err);
/* The loop's client context (made on first use); NULL with err on failure. */
SSL_CTX *ctng_net_loop_tls_client_(ctng_net_loop *loop, ctng_err *err);
/* tls.c: the client context for a request's tls_ca (NULL: the loop's,
 * CTNG_NET_TLS_SYSTEM_ROOTS, or a path), made at first use and kept. */
SSL_CTX *ctng_net_loop_tls_for_(ctng_net_loop *loop, const char *tls_ca, ctng_err *err);
/* tls.c: frees the loop's per-request bundles (loop being freed). */
void ctng_net_tls_bundles_free_(ctng_net_loop *loop);
/* tls.c: session resumption of the client. Before the handshake of a new
 * connection to `key`: marks ssl as this loop's (new tickets are kept) and
 * sets the session kept for (key, its context), if any. */
void ctng_net_tls_session_prepare_(ctng_net_loop *loop, struct ssl_st *ssl, const char *key);
/* Drops every kept session (loop freed, trust reloaded). */
void ctng_net_tls_sessions_free_(ctng_net_loop *loop);
/* SIGHUP: reloads every TLS server of the loop and its client CA bundle. */
void ctng_net_tls_reload_(ctng_net_loop *loop);
/* One line saying why a TLS connection on bev failed; true if TLS itself
 * failed (certificate, protocol), false if the connection did (sock_err:
 * refused, reset...). */
bool ctng_net_tls_failure_(struct bufferevent *bev, int sock_err, char *out, size_t cap);

/* server.c: counts one answered request (route pattern or "none", method
 * or NULL, status, ctng_mono_ns() when it arrived) into the families set by
 * net_server_set_metrics; no-op before. */
void net_server_count(ctng_net_server *srv, const char *route, const char *method, int status,
                      uint64_t t0);
void net_server_set_metrics(ctng_net_server *srv, ctng_metric *requests, ctng_metric *duration);

#endif
