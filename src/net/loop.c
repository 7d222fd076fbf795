/*
 * loop.c — the event loop of src/net: creation and teardown, run/stop,
 * SIGINT/SIGTERM handling, timers, and the thread-safe post queue through
 * which worker threads hand results back to the loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "net_internal.h"

/* The loop being run by this thread, so stop() knows when it may break the
 * loop directly instead of going through the wake-up pipe. */
static _Thread_local ctng_net_loop *tl_running;

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	ctng_net_loop *loop = arg;
	char buf[256];
	while (read(fd, buf, sizeof buf) > 0) {
	}
	pthread_mutex_lock(&loop->mu);
	struct post_item *it = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	pthread_mutex_unlock(&loop->mu);
	while (it) {
		struct post_item *next = it->next;
		it->fn(it->arg, false);
		free(it);
		it = next;
	}
	if (atomic_load(&loop->stop_requested))
		event_base_loopbreak(loop->base);
}

static void wake(ctng_net_loop *loop)
{
	static const char b = 1;
	ssize_t r;
	do {
		r = write(loop->wake_wr, &b, 1);
	} while (r < 0 && errno == EINTR);
	/* EAGAIN: the pipe is full, so the loop will wake anyway. */
}

ctng_net_loop *ctng_net_loop_new(ctng_err *err)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
	ctng_net_loop *loop = calloc(1, sizeof *loop);
	if (!loop) {
		ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		return NULL;
	}
	loop->wake_rd = loop->wake_wr = -1;
	pthread_mutex_init(&loop->mu, NULL);
	atomic_init(&loop->stop_requested, false);
	loop->base = event_base_new();
	if (!loop->base) {
		ctng_err_set(err, CTNG_EIO, "net: event_base_new failed");
		goto fail;
	}
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
		ctng_err_set(err, CTNG_EIO, "net: pipe: %s", strerror(errno));
		goto fail;
	}
	loop->wake_rd = fds[0];
	loop->wake_wr = fds[1];
	loop->wake_ev = event_new(loop->base, loop->wake_rd, EV_READ | EV_PERSIST, wake_cb, loop);
	if (!loop->wake_ev || event_add(loop->wake_ev, NULL) != 0) {
		ctng_err_set(err, CTNG_EIO, "net: cannot create loop events");
		goto fail;
	}
	return loop;
fail:
	ctng_net_loop_free(loop);
	return NULL;
}

void ctng_net_loop_free(ctng_net_loop *loop)
{
	if (!loop)
		return;
	ctng_net_client_shutdown_(loop);
	struct later *l = loop->laters;
	while (l) {
		struct later *next = l->next;
		event_free(l->ev);
		free(l);
		l = next;
	}
	pthread_mutex_lock(&loop->mu);
	struct post_item *it = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	pthread_mutex_unlock(&loop->mu);
	while (it) {
		struct post_item *next = it->next;
		it->fn(it->arg, true);
		free(it);
		it = next;
	}
	if (loop->sigint_ev)
		event_free(loop->sigint_ev);
	if (loop->sigterm_ev)
		event_free(loop->sigterm_ev);
	if (loop->wake_ev)
		event_free(loop->wake_ev);
	if (loop->sighup_ev)
		event_free(loop->sighup_ev);
	SSL_CTX_free(loop->tls_client);
	free(loop->tls_ca);
	ctng_net_tls_bundles_free_(loop);
	ctng_net_tls_sessions_free_(loop);
	free(loop->nameserver);
	if (loop->wake_rd >= 0)
		close(loop->wake_rd);
	if (loop->wake_wr >= 0)
		close(loop->wake_wr);
	if (loop->base)
		event_base_free(loop->base);
	pthread_mutex_destroy(&loop->mu);
	free(loop);
}

int ctng_net_loop_run(ctng_net_loop *loop, ctng_err *err)
{
	if (atomic_exchange(&loop->stop_requested, false))
		return 0;
	ctng_net_loop *saved = tl_running;
	tl_running = loop;
	int r = event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
	tl_running = saved;
	atomic_store(&loop->stop_requested, false);
	if (r < 0)
		return ctng_err_set(err, CTNG_EIO, "net: event loop failed");
	return 0;
}

void ctng_net_loop_stop(ctng_net_loop *loop)
{
	atomic_store(&loop->stop_requested, true);
	if (tl_running == loop)
		event_base_loopbreak(loop->base);
	else
		wake(loop);
}

struct event_base *ctng_net_loop_base(ctng_net_loop *loop)
{
	return loop->base;
}

int ctng_net_loop_post(ctng_net_loop *loop, ctng_net_post_fn fn, void *arg)
{
	if (!loop || !fn)
		return CTNG_EINVAL;
	struct post_item *it = malloc(sizeof *it);
	if (!it)
		return CTNG_ENOMEM;
	it->fn = fn;
	it->arg = arg;
	it->next = NULL;
	pthread_mutex_lock(&loop->mu);
	if (loop->post_tail)
		loop->post_tail->next = it;
	else
		loop->post_head = it;
	loop->post_tail = it;
	pthread_mutex_unlock(&loop->mu);
	wake(loop);
	return 0;
}

/* ---------------------------------------------------------------- signals */

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	ctng_net_loop *loop = arg;
	if (loop->sig_hook)
		loop->sig_hook(loop, (int)sig, loop->sig_arg);
	event_base_loopbreak(loop->base);
}

static void sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	CTNG_INFO("net: SIGHUP, reloading TLS files", NULL);
	ctng_net_tls_reload_(arg);
}

int ctng_net_loop_catch_signals(ctng_net_loop *loop, ctng_net_signal_fn hook, void *arg,
                                ctng_err *err)
{
	loop->sig_hook = hook;
	loop->sig_arg = arg;
	if (loop->sigint_ev)
		return 0;
	loop->sigint_ev = evsignal_new(loop->base, SIGINT, signal_cb, loop);
	loop->sigterm_ev = evsignal_new(loop->base, SIGTERM, signal_cb, loop);
	loop->sighup_ev = evsignal_new(loop->base, SIGHUP, sighup_cb, loop);
	if (!loop->sigint_ev || !loop->sigterm_ev || !loop->sighup_ev ||
	    evsignal_add(loop->sigint_ev, NULL) != 0 || evsignal_add(loop->sigterm_ev, NULL) != 0 ||
	    evsignal_add(loop->sighup_ev, NULL) != 0) {
		if (loop->sigint_ev)
			event_free(loop->sigint_ev);
		if (loop->sigterm_ev)
			event_free(loop->sigterm_ev);
		if (loop->sighup_ev)
			event_free(loop->sighup_ev);
		loop->sigint_ev = loop->sigterm_ev = loop->sighup_ev = NULL;
		return ctng_err_set(err, CTNG_EIO, "net: cannot install signal handlers");
	}
	return 0;
}

/* ----------------------------------------------------------------- timers */

struct ctng_net_timer {
	ctng_net_loop *loop;
	struct event *ev;
	ctng_net_timer_fn fn;
	void *arg;
	uint64_t interval_ms;
};

static struct timeval ms_tv(uint64_t ms)
{
	/* Clamp to about 31 years so the timeval never overflows. */
	if (ms > (uint64_t)1000 * 1000 * 1000 * 1000)
		ms = (uint64_t)1000 * 1000 * 1000 * 1000;
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ctng_net_timer *t = arg;
	if (t->interval_ms > 0) {
		struct timeval tv = ms_tv(t->interval_ms);
		event_add(t->ev, &tv);
	}
	t->fn(t, t->arg); /* may stop, re-arm or free t */
}

ctng_net_timer *ctng_net_timer_new(ctng_net_loop *loop, ctng_net_timer_fn fn, void *arg,
                                   ctng_err *err)
{
	if (!loop || !fn) {
		ctng_err_set(err, CTNG_EINVAL, "net: timer needs a loop and a callback");
		return NULL;
	}
	ctng_net_timer *t = calloc(1, sizeof *t);
	if (!t) {
		ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		return NULL;
	}
	t->loop = loop;
	t->fn = fn;
	t->arg = arg;
	t->ev = evtimer_new(loop->base, timer_cb, t);
	if (!t->ev) {
		free(t);
		ctng_err_set(err, CTNG_ENOMEM, "net: cannot create timer");
		return NULL;
	}
	return t;
}

int ctng_net_timer_start(ctng_net_timer *t, uint64_t delay_ms, uint64_t interval_ms, ctng_err *err)
{
	t->interval_ms = interval_ms;
	struct timeval tv = ms_tv(delay_ms);
	if (evtimer_add(t->ev, &tv) != 0)
		return ctng_err_set(err, CTNG_EIO, "net: cannot arm timer");
	return 0;
}

void ctng_net_timer_stop(ctng_net_timer *t)
{
	if (!t)
		return;
	t->interval_ms = 0;
	evtimer_del(t->ev);
}

bool ctng_net_timer_pending(const ctng_net_timer *t)
{
	return evtimer_pending(t->ev, NULL) != 0;
}

void ctng_net_timer_free(ctng_net_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct later *l = arg;
	ctng_net_loop *loop = l->loop;
	if (l->prev)
		l->prev->next = l->next;
	else
		loop->laters = l->next;
	if (l->next)
		l->next->prev = l->prev;
	void (*fn)(void *) = l->fn;
	void *a = l->arg;
	event_free(l->ev);
	free(l);
	fn(a);
}

int ctng_net_call_later(ctng_net_loop *loop, uint64_t delay_ms, void (*fn)(void *arg), void *arg,
                        ctng_err *err)
{
	if (!loop || !fn)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "net: call_later needs a loop and a callback");
	struct later *l = calloc(1, sizeof *l);
	if (!l)
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	l->loop = loop;
	l->fn = fn;
	l->arg = arg;
	l->ev = evtimer_new(loop->base, later_cb, l);
	struct timeval tv = ms_tv(delay_ms);
	if (!l->ev || evtimer_add(l->ev, &tv) != 0) {
		if (l->ev)
			event_free(l->ev);
		free(l);
		return ctng_err_set(err, CTNG_EIO, "net: cannot arm timer");
	}
	l->next = loop->laters;
	if (l->next)
		l->next->prev = l;
	loop->laters = l;
	return 0;
}
