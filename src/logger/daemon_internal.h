/*
 * daemon_internal.h — shared by the two files of the logger daemon: daemon.c
 * (lifecycle, read endpoints, period timer) and daemon_submit.c (the
 * submission pipeline: worker threads, group commit).
 */
#ifndef CTNG_LOGGER_DAEMON_INTERNAL_H
#define CTNG_LOGGER_DAEMON_INTERNAL_H

#include <jansson.h>
#include <pthread.h>

#include "ctng/net.h"
#include "logger/logger_internal.h"
#include "logger/metrics.h"

struct pend {
	ctng_net_req *req;
	ctng_logger_sub *sub;
};

#define MAX_WORKERS 16

/* A submission handed to a worker thread. */
struct job {
	ctng_logger_daemon *d;
	ctng_net_req *req; /* only touched on the loop thread */
	uint8_t *body;     /* a copy */
	size_t len;
	bool precert;
	uint64_t ts;
	ctng_logger_sub *sub; /* result */
	int rc;
	ctng_err err;
	struct job *next;
};

struct ctng_logger_daemon {
	/* worker pool: mu guards queue and stopping */
	pthread_t th[MAX_WORKERS];
	unsigned n_th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *qhead, *qtail;
	bool stopping;

	ctng_store *store;
	ctng_logger *lg;
	ctng_net_loop *loop;
	ctng_net_server *srv;
	ctng_net_timer *timer;
	uint16_t port;
	struct pend *batch;
	size_t n_batch, cap_batch;
	bool flush_scheduled;
	ctng_net_req *held[CTNG_LOGGER_MAX_HELD];
	size_t n_held;
	logger_metrics mx; /* GET /metrics */
};

/* daemon_submit.c: the add-chain / add-pre-chain handlers, the worker thread
 * body (arg: the daemon) and freeing a job that never ran. */
void lgd_h_add_chain(ctng_net_req *req, void *arg);
void lgd_h_add_pre_chain(ctng_net_req *req, void *arg);
void *lgd_worker(void *arg);
void lgd_job_free(struct job *j);
/* daemon.c: answers the error e when rc != 0, else 200 with j (taken). */
void lgd_reply_json(ctng_net_req *req, int rc, json_t *j, const ctng_err *e);

#endif
