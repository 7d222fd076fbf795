/*
 * daemon_internal.h — shared by the two files of the logger daemon: daemon.c
 * (lifecycle, read endpoints, period timer) and daemon_submit.c (the
 * submission pipeline: worker threads, group commit).
 */
#ifndef CTNG_LOGGER_DAEMON_INTERNAL_H
#define CTNG_LOGGER_DAEMON_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "ctng/net.h"
#include "logger/logger_internal.h"
#include "logger/metrics.h"

struct pend {
	ctng_net_req *req;
	ctng_logger_sub *sub;
};

#define MAX_WORKERS 16

/* Work for a worker thread: validate one submission (a job of its own), or
 * help sign the SCTs of the batch in flight (one of the daemon's sign jobs). */
enum job_kind { JOB_PREPARE, JOB_SIGN };

struct job {
	enum job_kind kind;
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

/* The batch in flight (at most one, docs/logger.md "Sequencing"): sequenced
 * on the loop thread, its SCTs signed by the workers, stored and committed
 * by the worker that signed the last one, answered on the loop thread.
 * Between sequencing and the answer only the pipeline touches its
 * submissions: the workers (each takes the next one to sign from
 * next_sign), then that last signer. */
struct batch {
	struct pend *v;
	ctng_logger_sub **subs; /* the same submissions, for ctng_logger_* */
	size_t n, cap, subs_cap;
	atomic_size_t next_sign; /* the next submission a worker signs */
	atomic_uint signers;     /* sign jobs not finished */
	int rc;           /* the first failure (signing, storing) */
	ctng_err err;
	uint64_t t0; /* when it was sequenced */
};

struct worker {
	ctng_logger_daemon *d;
	ctng_logger_signer *signer; /* this thread's */
	pthread_t th;
};

struct ctng_logger_daemon {
	/* worker pool: mu guards the queue, stopping and the batch's rc */
	struct worker w[MAX_WORKERS];
	unsigned n_th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a job or stopping */
	struct job *qhead, *qtail;
	bool stopping;
	struct job sign_jobs[MAX_WORKERS]; /* queued at the head for the batch */

	ctng_store *store;  /* the loop thread's handle */
	ctng_store *wstore; /* the pipeline's handle on the same file (NULL:
	                       batches are stored on the loop's handle) */
	ctng_logger_writer *writer; /* on wstore, else on store */
	ctng_logger *lg;
	ctng_net_loop *loop;
	ctng_net_server *srv;
	ctng_net_timer *timer;
	uint16_t port;
	/* loop thread: submissions waiting for the next batch, the batch */
	struct pend *pending;
	size_t n_pending, cap_pending;
	struct batch b;
	bool in_flight, start_scheduled;
	bool tick_due; /* the period timer fired while a batch was in flight */
	ctng_net_req *held[CTNG_LOGGER_MAX_HELD];
	size_t n_held;
	logger_metrics mx; /* GET /metrics */
};

/* daemon_submit.c: the add-chain / add-pre-chain handlers; starting the
 * pipeline's worker threads (after the log is open) and
 * stopping them with freeing what they still hold (before the server and
 * the loop are freed: their requests are then answered 503). */
void lgd_h_add_chain(ctng_net_req *req, void *arg);
void lgd_h_add_pre_chain(ctng_net_req *req, void *arg);
int lgd_pipeline_start(ctng_logger_daemon *d, const char *db_path, unsigned workers,
                       ctng_err *err);
void lgd_pipeline_stop(ctng_logger_daemon *d);
void lgd_pipeline_free(ctng_logger_daemon *d);
/* daemon.c: the period tick (publish the STH if due, arm the timer again);
 * the pipeline calls it when a batch in flight deferred it. */
void lgd_publish(ctng_logger_daemon *d);
/* daemon.c: answers the error e when rc != 0, else 200 with j (taken). */
void lgd_reply_json(ctng_net_req *req, int rc, json_t *j, const ctng_err *e);

#endif
