/*
 * srv_fixture.h — a ctng_net server on its own thread for the tests of
 * src/net that talk to it over real sockets (test_server.c, test_tls.c):
 * start it with options and routes, stop it and read its counters once
 * the thread has stopped (so no counter is read while the loop runs).
 * Static functions: include it in one test program only.
 */
#ifndef CTNG_TESTS_NET_SRV_FIXTURE_H
#define CTNG_TESTS_NET_SRV_FIXTURE_H

#include <pthread.h>
#include <string.h>

#include "ctng/net.h"

struct srv {
	ctng_net_loop *loop;
	ctng_net_server *srv;
	uint16_t port;
	pthread_t th;
	ctng_net_server_stats stats;
};

struct srv_route {
	const char *method, *path;
	ctng_net_handler fn;
};

static void *srv_thread(void *a)
{
	struct srv *s = a;
	ctng_net_loop_run(s->loop, NULL);
	return NULL;
}

/* routes: NULL-terminated by a NULL method. signals: the loop catches
 * SIGINT/SIGTERM/SIGHUP. */
static void srv_start(struct srv *s, const ctng_net_server_opts *o, const struct srv_route *routes,
                      bool signals)
{
	memset(s, 0, sizeof *s);
	ctng_err err = {0};
	assert_non_null(s->loop = ctng_net_loop_new(&err));
	if (signals)
		assert_int_equal(ctng_net_loop_catch_signals(s->loop, NULL, NULL, &err), 0);
	if (!(s->srv = ctng_net_server_new_opts(s->loop, o, &err)))
		fail_msg("server: %s", err.msg);
	assert_int_equal(ctng_net_server_bind(s->srv, "127.0.0.1", 0, &s->port, &err), 0);
	for (const struct srv_route *r = routes; r && r->method; r++)
		assert_int_equal(
		    ctng_net_server_route(s->srv, r->method, r->path, r->fn, NULL, &err), 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_thread, s), 0);
}

static void srv_stop(struct srv *s)
{
	ctng_net_loop_stop(s->loop);
	pthread_join(s->th, NULL);
	ctng_net_server_get_stats(s->srv, &s->stats);
	ctng_net_server_free(s->srv);
	ctng_net_loop_free(s->loop);
}

#endif
