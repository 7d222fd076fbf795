/*
 * net_internal.h — structures shared by the files of src/net (loop, client,
 * server). Not part of the public API.
 */
#ifndef CTNG_NET_INTERNAL_H
#define CTNG_NET_INTERNAL_H

#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdatomic.h>

#include "ctng/metrics.h"
#include "ctng/net.h"

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

struct client_req;
struct dead_conn {
	struct evhttp_connection *evcon;
	struct dead_conn *next;
};

struct ctng_net_loop {
	struct event_base *base;
	/* Cross-thread wake-up: a pipe whose read end is watched by the loop. */
	int wake_rd, wake_wr;
	struct event *wake_ev;
	pthread_mutex_t mu; /* protects post_head/post_tail */
	struct post_item *post_head, *post_tail;
	atomic_bool stop_requested;
	/* Signals. */
	struct event *sigint_ev, *sigterm_ev;
	ctng_net_signal_fn sig_hook;
	void *sig_arg;
	/* Fire-and-forget timers. */
	struct later *laters;
	/* Outgoing requests in flight and connections waiting to be freed. */
	struct client_req *inflight;
	size_t n_inflight;
	struct dead_conn *dead;
	struct event *reaper_ev;
};

/* client.c: fails every in-flight request (loop being freed) and frees
 * connections waiting in the reaper list. */
void ctng_net_client_shutdown_(ctng_net_loop *loop);
/* client.c: reaper event callback. */
void ctng_net_reap_(evutil_socket_t fd, short what, void *arg);

/* server.c: counts one answered request (route pattern or "none", method
 * or NULL, status, ctng_mono_ns() when it arrived) into the families set by
 * net_server_set_metrics; no-op before. */
void net_server_count(ctng_net_server *srv, const char *route, const char *method, int status,
                      uint64_t t0);
void net_server_set_metrics(ctng_net_server *srv, ctng_metric *requests, ctng_metric *duration);

#endif
