/*
 * ctng/net.h — HTTP server and client on one libevent event loop: routing,
 * JSON request/response helpers, request-body size limit, a deadline on
 * every outgoing request, timers, clean shutdown on SIGINT/SIGTERM, and a
 * way for worker threads to hand results back to the loop thread.
 *
 * Thread model (DESIGN §8): a ctng_net_loop and everything created on it
 * (servers, requests, timers, outgoing requests) belong to ONE thread — the
 * thread that calls ctng_net_loop_run. Every function in this header must be
 * called from that thread, except the ones marked "thread-safe":
 * ctng_net_loop_post and ctng_net_loop_stop. Before the loop runs, the thread
 * that created it counts as the owner.
 *
 * Callbacks are never invoked re-entrantly from inside the call that set them
 * up; they run from ctng_net_loop_run.
 *
 * Ownership: pointers passed in are borrowed unless "takes ownership" is
 * written; strings returned by request accessors are borrowed from the
 * request and valid until it is replied to.
 */
#ifndef CTNG_NET_H
#define CTNG_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"

/* ------------------------------------------------------------------ loop */

typedef struct ctng_net_loop ctng_net_loop;

/* Creates a loop (its own event_base). Also sets SIGPIPE to ignored if it is
 * at its default disposition (a peer closing a socket must not kill the
 * process). Returns NULL and fills err on failure. Free with ctng_net_loop_free. */
ctng_net_loop *ctng_net_loop_new(ctng_err *err);

/* Frees the loop. Servers and timers created on it must be freed first.
 * Outgoing requests still in flight are failed: their callbacks run (from
 * inside this call) with CTNG_ESTATE "loop freed". Functions posted with
 * ctng_net_loop_post and not yet run are called with cancelled = true.
 * Pending ctng_net_call_later callbacks are dropped without being called. */
void ctng_net_loop_free(ctng_net_loop *loop);

/* Runs the loop in the calling thread until ctng_net_loop_stop (or a caught
 * signal) stops it. Returns 0 after a stop, CTNG_EIO on an internal libevent
 * failure. May be called again after it returns. */
int ctng_net_loop_run(ctng_net_loop *loop, ctng_err *err);

/* Thread-safe. Makes ctng_net_loop_run return after the callback currently
 * running (if any) finishes. Calling it before run makes the next run return
 * at once. */
void ctng_net_loop_stop(ctng_net_loop *loop);

/* Hook called (on the loop thread) when SIGINT or SIGTERM arrives; after it
 * returns the loop stops. */
typedef void (*ctng_net_signal_fn)(ctng_net_loop *loop, int signo, void *arg);

/* Catches SIGINT and SIGTERM on this loop: on either, `hook` (may be NULL) is
 * called, then the loop stops. Also catches SIGHUP: every TLS server on the
 * loop reloads its certificate chain and key from their files, and the
 * loop's clients their CA bundle (a file that fails to load is logged and
 * the old one kept); the loop goes on. libevent delivers signals to one
 * event_base per process: call this on at most one loop at a time. The
 * handlers are removed by ctng_net_loop_free. */
int ctng_net_loop_catch_signals(ctng_net_loop *loop, ctng_net_signal_fn hook, void *arg,
                                ctng_err *err);

/* Function handed to the loop thread by ctng_net_loop_post. `cancelled` is
 * true when it is called from ctng_net_loop_free instead of from the running
 * loop (so it can release `arg`). */
typedef void (*ctng_net_post_fn)(void *arg, bool cancelled);

/* Thread-safe. Queues fn(arg) to run on the loop thread, in FIFO order. This
 * is how worker threads (e.g. signature verification) hand back results.
 * Returns 0, or CTNG_ENOMEM / CTNG_EIO (then fn will never be called). */
int ctng_net_loop_post(ctng_net_loop *loop, ctng_net_post_fn fn, void *arg);

/* Borrowed libevent base, for callers that need raw libevent (rare). */
struct event_base *ctng_net_loop_base(ctng_net_loop *loop);

/* ---------------------------------------------------------------- timers */

typedef struct ctng_net_timer ctng_net_timer;
typedef void (*ctng_net_timer_fn)(ctng_net_timer *t, void *arg);

/* Creates a stopped timer. Free with ctng_net_timer_free (before the loop). */
ctng_net_timer *ctng_net_timer_new(ctng_net_loop *loop, ctng_net_timer_fn fn, void *arg,
                                   ctng_err *err);
/* Arms the timer: first fire after delay_ms, then every interval_ms if
 * interval_ms > 0 (periodic), else once. Re-arming a pending timer replaces
 * its schedule. May be called from the timer's own callback. */
int ctng_net_timer_start(ctng_net_timer *t, uint64_t delay_ms, uint64_t interval_ms, ctng_err *err);
/* Disarms (no-op if not pending). Safe from the timer's own callback. */
void ctng_net_timer_stop(ctng_net_timer *t);
/* True while the timer is armed. */
bool ctng_net_timer_pending(const ctng_net_timer *t);
/* Disarms and frees; NULL is a no-op. Safe from the timer's own callback. */
void ctng_net_timer_free(ctng_net_timer *t);

/* One-shot fire-and-forget: fn(arg) runs once after delay_ms. Dropped without
 * being called if the loop is freed first. */
int ctng_net_call_later(ctng_net_loop *loop, uint64_t delay_ms, void (*fn)(void *arg), void *arg,
                        ctng_err *err);

/* ---------------------------------------------------------------- server */

typedef struct ctng_net_server ctng_net_server;
typedef struct ctng_net_req ctng_net_req;

/* A request handler. It must eventually answer the request exactly once with
 * one of the ctng_net_reply_* functions — either before returning or later
 * (deferred: keep the pointer and reply from another callback on the loop
 * thread). The request handle stays valid until it is replied to. */
typedef void (*ctng_net_handler)(ctng_net_req *req, void *arg);

#define CTNG_NET_DEFAULT_MAX_BODY (1u << 20) /* 1 MiB */

/* Limits of a server (docs/net.md "Bounded resources"). Zero fields take
 * the defaults named. */
typedef struct ctng_net_server_opts {
	size_t max_body;            /* one request body; CTNG_NET_DEFAULT_MAX_BODY */
	size_t max_connections;     /* served at once; default and ceiling: the
	                               descriptor limit read at creation minus a
	                               reserve (limit/8 + 32) and the shed slots */
	size_t max_buffered;        /* request bytes held across all connections;
	                               max(64 MiB, 2 * max_body) */
	uint64_t header_timeout_ms; /* a request head must arrive within; 10000 */
	uint64_t body_timeout_ms;   /* its body within (after the head); also the
	                               limit for a reply to drain; 30000 */
	uint64_t idle_timeout_ms;   /* keep-alive connection idle between
	                               requests; 60000 */
	/* HTTPS: both set = serve TLS 1.2+ with this PEM certificate chain
	 * (leaf first) and PEM private key; both NULL = plain HTTP. Reloaded
	 * from the same files on SIGHUP (ctng_net_loop_catch_signals). */
	const char *tls_cert_file;
	const char *tls_key_file;
	/* If set: the CA bundle (PEM) this loop's clients verify https:// peers
	 * against, as ctng_net_loop_set_tls_ca (a daemon's one configuration of
	 * both sides). NULL: leave the loop's client setting alone. */
	const char *tls_ca_file;
} ctng_net_server_opts;

/* What a server has done about load and bad peers (counters since
 * creation, and current levels). For logs and /metrics. */
typedef struct ctng_net_server_stats {
	uint64_t accepted;          /* connections accepted                      */
	uint64_t open;              /* connections open now (shed ones included)  */
	uint64_t requests;          /* requests dispatched to handlers           */
	uint64_t shed_connections;  /* answered 503: every connection slot taken */
	uint64_t shed_memory;       /* answered 503: max_buffered reached        */
	uint64_t idle_closed;       /* idle keep-alive connections closed to make
	                               room for a new one                        */
	uint64_t timeouts;          /* answered 408 (head or body too slow)      */
	uint64_t bad_requests;      /* malformed heads/bodies answered 4xx/5xx
	                               before any handler ran                    */
	uint64_t accept_errors;     /* accept() failures (e.g. EMFILE)          */
	uint64_t tls_failures;      /* TLS handshakes that failed or stalled    */
	uint64_t buffered;          /* request bytes held now                    */
	uint64_t max_connections;   /* the limits in force                       */
	uint64_t max_buffered;
	uint64_t fd_limit;          /* RLIMIT_NOFILE (soft) read at creation     */
} ctng_net_server_stats;

/* Creates a server on the loop with the given limits and TLS (opts may be NULL:
 * all defaults). Raises the process's soft descriptor limit to its hard
 * limit (at most 1 << 20) and reads it. Over a limit the server sheds load:
 * a new connection when every slot is taken first displaces the longest
 * idle keep-alive connection, else gets 503 with a JSON reason; a request
 * whose bytes would push the total held over max_buffered sheds the
 * largest request still being received (503); a head or body that does
 * not arrive in time gets 408. Each kind is logged at most once per 10 s
 * with a count. accept() failures (EMFILE...) pause accepting for 250 ms
 * instead of spinning. Free with ctng_net_server_free. */
ctng_net_server *ctng_net_server_new_opts(ctng_net_loop *loop, const ctng_net_server_opts *opts,
                                          ctng_err *err);

/* ctng_net_server_new_opts with only max_body set (0 = default). */
ctng_net_server *ctng_net_server_new(ctng_net_loop *loop, size_t max_body, ctng_err *err);

/* Fills *out with the server's counters and limits. */
void ctng_net_server_get_stats(const ctng_net_server *srv, ctng_net_server_stats *out);

/* Listens on host:port (host an IP literal, e.g. "127.0.0.1"; port 0 picks
 * an ephemeral port). The actual port is stored in *bound_port if non-NULL.
 * May be called several times to listen on several addresses. */
int ctng_net_server_bind(ctng_net_server *srv, const char *host, uint16_t port,
                         uint16_t *bound_port, ctng_err *err);

/* Adds a route. method: "GET", "POST", "PUT", "DELETE" or "HEAD". path:
 * either exact ("/ct/v1/get-sth") or a prefix written with a trailing '*'
 * ("/tile/" followed by a star matches "/tile/" and everything under it). Dispatch picks an
 * exact route first, then the longest matching prefix. A path that matches
 * a route for another method only gets 405 (with an Allow header); a path
 * matching nothing gets 404. Both error bodies are {"error": "..."} JSON.
 * Registering the same (method, path) twice is CTNG_ECONFLICT. */
int ctng_net_server_route(ctng_net_server *srv, const char *method, const char *path,
                          ctng_net_handler fn, void *arg, ctng_err *err);

/* Stops listening and frees the server. Requests whose deferred reply is
 * still pending are answered 503 and their handles become invalid: free the
 * server only when the module holds no request handles any more. */
void ctng_net_server_free(ctng_net_server *srv);

/* Number of requests dispatched to handlers and not yet replied to. */
size_t ctng_net_server_pending(const ctng_net_server *srv);

/* Serves GET /metrics on srv: the exposition text of `reg`
 * (ctng_metrics_render, Content-Type CTNG_METRICS_CONTENT_TYPE, read only:
 * it changes no state but the request counters). From then on every request
 * srv answers is counted in ctng_http_requests_total{route,method,code} and
 * ctng_http_request_duration_seconds{route} (route: the registered pattern,
 * e.g. "/tile/" with its star, or "none" when no route matched; bodies over the limit
 * that libevent refuses itself are not seen). reg is borrowed and must
 * outlive srv. See docs/metrics.md. */
typedef struct ctng_metrics ctng_metrics;
int ctng_net_server_metrics(ctng_net_server *srv, ctng_metrics *reg, ctng_err *err);

/* What every daemon counts (docs/metrics.md, "Every daemon"): one registry
 * with the process metrics and ctng_build_info, GET /metrics on the
 * daemon's server with the request counters, ctng_period_current (the
 * node's clock, read at each scrape), and the families below. Zero-init,
 * then ctng_net_metrics_init; every record function accepts a
 * never-initialised (zeroed) struct and then does nothing. */
typedef struct ctng_metric ctng_metric;
typedef struct ctng_net_metrics {
	ctng_metrics *reg;          /* owned; add daemon-specific families to it */
	ctng_metric *phase;         /* ctng_period_phase_seconds{phase} */
	ctng_metric *peer_requests; /* ctng_peer_requests_total{peer,result} */
	ctng_metric *peer_duration; /* ctng_peer_request_duration_seconds{peer} */
	ctng_metric *peer_up;       /* ctng_peer_up{peer} */
	ctng_metric *objects;       /* ctng_objects_total{type,result,reason} */
	ctng_metric *period;        /* ctng_period_current */
	ctng_clock clock;
} ctng_net_metrics;

/* role: "logger", "ca", "monitor", "gossiper"; node: the entity id; clock:
 * the network's (copied). On failure everything made is released. */
int ctng_net_metrics_init(ctng_net_metrics *m, ctng_net_server *srv, const char *role,
                          const char *node, const ctng_clock *clock, ctng_err *err);
/* The rest of a daemon's setup: registers its own families (specs) and its
 * collect hook (fn may be NULL) on m->reg. On failure frees m
 * (ctng_net_metrics_free) and returns the error. */
typedef struct ctng_metrics_spec ctng_metrics_spec;
typedef void (*ctng_net_collect_fn)(ctng_metrics *reg, void *arg);
int ctng_net_metrics_add(ctng_net_metrics *m, const ctng_metrics_spec *specs, size_t n,
                         ctng_net_collect_fn fn, void *arg, ctng_err *err);
/* Frees the registry (after the server and the loop are freed: their last
 * callbacks may still record). NULL or zeroed is a no-op. */
void ctng_net_metrics_free(ctng_net_metrics *m);
/* One finished outgoing request to peer (an entity id of network.json),
 * with the status and err its ctng_net_response_fn got, started at t0
 * (ctng_mono_ns()). result: "ok" (2xx), "refused" (any other HTTP status),
 * "timeout", "error" (no HTTP answer); peer_up is 1 after any HTTP answer,
 * 0 after none. */
void ctng_net_metrics_peer(ctng_net_metrics *m, const char *peer, int status, const ctng_err *err,
                           uint64_t t0);
/* Observes, in ctng_period_phase_seconds{phase}, how far into `period`
 * (seconds after its start on the node's clock) now_ms is. */
void ctng_net_metrics_phase(ctng_net_metrics *m, const char *phase, uint64_t period,
                            uint64_t now_ms);
/* One gossip object received: type name ("STH_FULL"), result ("new",
 * "duplicate", "ignored", "rejected") and, when rejected, the error code
 * that said why (reason ctng_metrics_reason(code); "" otherwise). */
void ctng_net_metrics_object(ctng_net_metrics *m, const char *type, const char *result, int code);

/* --- request accessors (borrowed results, valid until the reply) --- */

/* "GET", "POST", ... */
const char *ctng_net_req_method(const ctng_net_req *req);
/* The path without the query string, as sent (not percent-decoded). */
const char *ctng_net_req_path(const ctng_net_req *req);
/* Query parameter value (percent-decoded), NULL if absent. The query string
 * is parsed strictly before dispatch (see ctng_net_query_parse); a malformed
 * one is answered 400 without calling the handler. */
const char *ctng_net_req_query(const ctng_net_req *req, const char *name);
/* Like ctng_net_req_query but a missing parameter is CTNG_EINVAL with a
 * message naming it. *val is borrowed. */
int ctng_net_req_query_required(const ctng_net_req *req, const char *name, const char **val,
                                ctng_err *err);
/* Required decimal parameter, strict (ctng_parse_u64 rules), at most max.
 * Every failure, out of range included, is CTNG_EINVAL (HTTP 400). */
int ctng_net_req_query_u64(const ctng_net_req *req, const char *name, uint64_t max, uint64_t *val,
                           ctng_err *err);
/* Request header (case-insensitive name), NULL if absent. */
const char *ctng_net_req_header(const ctng_net_req *req, const char *name);
/* Body bytes; always NUL-terminated past len (so text can be used directly).
 * Never NULL (an empty body gives "" and len 0). */
const uint8_t *ctng_net_req_body(const ctng_net_req *req, size_t *len);
/* Parses the body as one JSON value (strict: duplicate keys, trailing data
 * and NUL bytes rejected). *out is owned by the caller (json_decref). */
int ctng_net_req_json(const ctng_net_req *req, json_t **out, ctng_err *err);
/* Peer address as "ip:port". */
const char *ctng_net_req_peer(const ctng_net_req *req);

/* --- replies: each ends the request (the handle is invalid afterwards) --- */

/* Replies `status` with body json_dumps(body, JSON_COMPACT) and
 * Content-Type application/json. Takes ownership of `body` (may be NULL →
 * "null"). */
void ctng_net_reply_json(ctng_net_req *req, int status, json_t *body);
/* Replies with raw bytes. content_type may be NULL (application/octet-stream).
 * headers: NULL or a NULL-terminated list of name, value, name, value, ...
 * (e.g. {"Cache-Control", "max-age=60", NULL}). Data is copied. */
void ctng_net_reply_bytes(ctng_net_req *req, int status, const char *content_type, const void *data,
                          size_t len, const char *const *headers);
/* 200 with a C2SP tile or entry bundle: application/octet-stream, and
 * Cache-Control immutable for a full tile, max-age=5 for a partial one. */
void ctng_net_reply_tile(ctng_net_req *req, const void *data, size_t len, bool full);
/* Replies `status` with {"error": "<formatted reason>"}. */
void ctng_net_reply_error(ctng_net_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replies with the HTTP status matching err->code (EINVAL/EVERIFY 400,
 * ENOTFOUND 404, ECONFLICT 409, ERANGE 413, ESTATE 409, ETIMEOUT 504,
 * other 500) and {"error": err->msg}. */
void ctng_net_reply_err(ctng_net_req *req, const ctng_err *err);
/* The status ctng_net_reply_err would use for a CTNG_E* code. */
int ctng_net_status_for(int code);

/* ----------------------------------------------------------- query string */

typedef struct ctng_net_query ctng_net_query;

#define CTNG_NET_MAX_QUERY_LEN    8192
#define CTNG_NET_MAX_QUERY_PARAMS 64

/* Strict parse of an application/x-www-form-urlencoded query string (without
 * the '?'; NULL or "" → empty). Rules: pairs separated by '&'; every pair is
 * name=value with a non-empty name; '%' must be followed by two hex digits;
 * '+' means space; a decoded NUL, a duplicate name, more than
 * CTNG_NET_MAX_QUERY_PARAMS pairs or more than CTNG_NET_MAX_QUERY_LEN bytes
 * are rejected with CTNG_EINVAL. *out owned by the caller. */
int ctng_net_query_parse(const char *qs, ctng_net_query **out, ctng_err *err);
/* Value for name (borrowed from q), NULL if absent. */
const char *ctng_net_query_get(const ctng_net_query *q, const char *name);
size_t ctng_net_query_count(const ctng_net_query *q);
void ctng_net_query_free(ctng_net_query *q);

/* Strict JSON parse of a byte string (duplicate keys, trailing data, embedded
 * NUL rejected; at most max_len bytes, 0 = no limit). *out owned by caller. */
int ctng_net_parse_json(const void *data, size_t len, size_t max_len, json_t **out, ctng_err *err);

/* ---------------------------------------------------------------- client */

/* Called exactly once per accepted outgoing request, on the loop thread.
 * On an HTTP response (any status, including 4xx/5xx): status is the code,
 * body/len the response body (borrowed for the duration of the call,
 * NUL-terminated past len, never NULL) and err is NULL. On a transport
 * failure: status 0, body "" len 0, and err describes it — CTNG_ETIMEOUT
 * (deadline passed), CTNG_ERANGE (response larger than max_response),
 * CTNG_EIO (refused, reset, closed, malformed response), CTNG_ESTATE (loop
 * freed while in flight). */
typedef void (*ctng_net_response_fn)(int status, const uint8_t *body, size_t len,
                                     const ctng_err *err, void *arg);

#define CTNG_NET_DEFAULT_TIMEOUT_MS   5000
#define CTNG_NET_DEFAULT_MAX_RESPONSE (16u << 20) /* 16 MiB */

/* The value of ctng_net_client_opts.tls_ca that means "the system roots"
 * (OpenSSL's default paths, which honour SSL_CERT_FILE / SSL_CERT_DIR). */
extern const char ctng_net_tls_system_roots[];
#define CTNG_NET_TLS_SYSTEM_ROOTS ctng_net_tls_system_roots

typedef struct ctng_net_client_opts {
	uint64_t timeout_ms;        /* whole-request deadline; 0 = default */
	size_t max_response;        /* body limit; 0 = default              */
	const char *content_type;   /* of the request body; NULL = none     */
	const char *const *headers; /* NULL-terminated name,value list      */
	/* Connect only to public addresses: every address the host resolves
	 * to (or the IP literal) is checked with ctng_net_sockaddr_special
	 * right before its connect, and a special one is refused (the next
	 * address of the name is tried; with none left the request fails with
	 * CTNG_EINVAL "net: hooks.example.com resolves to 127.0.0.1, a loopback
	 * address: refused (public addresses only)"). For targets given by
	 * outsiders (webhooks): a name that passes a check by its form may
	 * still resolve to an internal address. The client never follows
	 * redirects, so there is no second target to check. Connections made
	 * with it are pooled apart from the others. */
	bool public_only;
	/* With public_only: "ADDR/BITS" prefixes (NULL-terminated) whose
	 * addresses are accepted although special (an operator's allow list).
	 * A malformed entry is CTNG_EINVAL. Copied. */
	const char *const *public_except;
	/* https: the CA bundle the peer is verified against: NULL = the
	 * loop's (ctng_net_loop_set_tls_ca), CTNG_NET_TLS_SYSTEM_ROOTS, or a
	 * PEM file's path (loaded at the first request that names it, kept on
	 * the loop, reloaded on SIGHUP; an unreadable file fails the request
	 * with CTNG_EINVAL). Connections are pooled per bundle. */
	const char *tls_ca;
} ctng_net_client_opts;

/* Sends `method` ("GET", "POST", "PUT", "DELETE", "HEAD") to url, which must
 * be "http://host:port/path?query" or "https://..." (host an IP literal,
 * "localhost" (always 127.0.0.1) or a DNS name, resolved asynchronously;
 * port optional, default 80 / 443). https: TLS 1.2+, the peer's certificate
 * verified against the loop's CA bundle (ctng_net_loop_set_tls_ca, else the
 * process default, else the system roots) and checked to name the URL's
 * host (a DNS name, or the IP address for literals); a refused certificate
 * is CTNG_EIO with the reason ("certificate verify failed: certificate has
 * expired") and a rate-limited warning in the log. Connections are kept
 * alive and reused for later requests to the same scheme, host and port
 * (ctng_net_loop_set_keepalive). body may be NULL (len 0); it is copied.
 * opts may be NULL. Every request has a deadline (opts->timeout_ms or the
 * default): whatever the peer does, cb fires by then. Returns 0 when the
 * request is under way (cb will be called exactly once, never from inside
 * this call) or a negative code for invalid arguments (cb will never be
 * called). */
int ctng_net_request(ctng_net_loop *loop, const char *method, const char *url, const void *body,
                     size_t len, const ctng_net_client_opts *opts, ctng_net_response_fn cb,
                     void *arg, ctng_err *err);

/* GET url with the given deadline (0 = default). */
int ctng_net_get(ctng_net_loop *loop, const char *url, uint64_t timeout_ms, ctng_net_response_fn cb,
                 void *arg, ctng_err *err);

/* POST json_dumps(body, JSON_COMPACT) with Content-Type application/json.
 * body is borrowed (serialised before returning). */
int ctng_net_post_json(ctng_net_loop *loop, const char *url, const json_t *body,
                       uint64_t timeout_ms, ctng_net_response_fn cb, void *arg, ctng_err *err);

/* Number of outgoing requests in flight on the loop. */
size_t ctng_net_inflight(const ctng_net_loop *loop);

/* Bytes on the wire (TCP_INFO: received; sent and acknowledged) of every
 * connection this process has closed, plus the open ones of `loop` (its
 * servers' and clients'; may be NULL). TLS records and HTTP heads are
 * included. Loop thread only. */
void ctng_net_wire_bytes(const ctng_net_loop *loop, uint64_t *in, uint64_t *out);

/* Keep-alive of the loop's clients (on by default): off closes the pooled
 * connections and sends "Connection: close" with every request. */
void ctng_net_loop_set_keepalive(ctng_net_loop *loop, bool on);
/* TLS session resumption of the loop's clients (on by default): the
 * sessions (TLS 1.3 tickets) servers give are kept per peer (scheme, host,
 * port) and CA bundle, at most 256 per loop, and the next new connection
 * to that peer resumes one (no certificate sent, signed or verified: the
 * peer was verified under that bundle when the session was made). SIGHUP
 * and ctng_net_loop_set_tls_ca drop every kept session. Off drops them
 * and makes every handshake a full one. */
void ctng_net_loop_set_tls_resumption(ctng_net_loop *loop, bool on);
/* Handshakes of the loop's clients that resumed a session, so far. */
uint64_t ctng_net_loop_tls_resumed(const ctng_net_loop *loop);
/* Connections kept open for reuse now. */
size_t ctng_net_loop_idle_connections(const ctng_net_loop *loop);

/* The CA bundle (PEM file) this loop's clients verify https:// peers
 * against; NULL = the system roots (OpenSSL's default paths, which honour
 * SSL_CERT_FILE). Loaded now: an unreadable bundle is CTNG_EINVAL. */
int ctng_net_loop_set_tls_ca(ctng_net_loop *loop, const char *ca_file, ctng_err *err);
/* Thread-safe. The CA bundle used by loops that were not given one
 * (including ctng_net_fetch_sync's); NULL = the system roots. For command
 * lines (`--tls-ca FILE`); copied. */
int ctng_net_set_default_tls_ca(const char *ca_file, ctng_err *err);

/* ---------------------------------------------------- IP addresses */

/* NULL if the address (af AF_INET: 4 bytes, AF_INET6: 16, network order)
 * is on the public Internet, else what it is: "loopback", "private",
 * "private (unique local)", "shared (CGNAT)", "link-local", "multicast",
 * "broadcast", "unspecified", "documentation", "benchmarking", "reserved
 * ..." (IANA special-purpose registries; IPv4-mapped, IPv4-compatible,
 * NAT64 64:ff9b::/96 and 6to4 addresses are judged by the IPv4 address
 * they carry). Static strings. */
const char *ctng_net_ip_special(int af, const void *addr);
/* The same for a socket address (not AF_INET/AF_INET6: "not an IP address"). */
struct sockaddr;
const char *ctng_net_sockaddr_special(const struct sockaddr *sa);

/* An IPv4 or IPv6 prefix "ADDR/BITS". */
typedef struct ctng_net_prefix {
	int af;
	uint8_t addr[16];
	unsigned bits;
} ctng_net_prefix;
/* 0 or CTNG_EINVAL (no message: the caller knows what it parsed). */
int ctng_net_prefix_parse(const char *text, ctng_net_prefix *out);
bool ctng_net_prefix_contains(const ctng_net_prefix *p, int af, const void *addr);

/* The name servers this loop's requests resolve names with, instead of
 * /etc/resolv.conf and /etc/hosts: "IP" or "IP:PORT" (a test's own DNS
 * server, a daemon that must not use the host's resolver). */
int ctng_net_loop_set_nameserver(ctng_net_loop *loop, const char *ip_port, ctng_err *err);

/* ----------------------------------------------------- test TLS PKI */

/* A small PKI for TLS between the nodes of a test network (`ctng init
 * --tls`, tests): ECDSA P-256 keys, SHA-256 signatures, PEM text out
 * (malloc'd, caller frees). Times are Unix seconds. */
int ctng_net_tls_make_ca(const char *cn, int64_t not_before, int64_t not_after, char **cert_pem,
                         char **key_pem, ctng_err *err);
typedef struct ctng_net_tls_cert_opts {
	const char *cn;          /* subject CN, 1..64 bytes */
	const char *const *names; /* subjectAltName: IP literals as iPAddress, others dNSName */
	size_t n_names;
	int64_t not_before, not_after;
} ctng_net_tls_cert_opts;
/* A server/client certificate signed by the CA (ca_cert_pem, ca_key_pem). */
int ctng_net_tls_make_cert(const char *ca_cert_pem, const char *ca_key_pem,
                           const ctng_net_tls_cert_opts *o, char **cert_pem, char **key_pem,
                           ctng_err *err);

/* Blocking request for CLI commands and tests: runs a private temporary loop
 * (so it must not be called from a loop callback that expects its own loop to
 * progress meanwhile). content_type may be NULL. On an HTTP response returns
 * 0 with *status set and *out (malloc'd, NUL-terminated, caller frees; may be
 * NULL if out is NULL) / *out_len; on a transport failure returns the error
 * code (CTNG_ETIMEOUT, CTNG_EIO, ...) with err filled and *out untouched. */
int ctng_net_fetch_sync(const char *url, const char *method, const char *content_type,
                        const void *body, size_t len, uint64_t timeout_ms, int *status,
                        uint8_t **out, size_t *out_len, ctng_err *err);

#endif
