/*
 * daemon_submit.c — the submission pipeline of `ctng logger`: add-chain and
 * add-pre-chain requests are validated and signed on worker threads
 * (ctng_logger_prepare_offline), handed back to the loop thread, looked up
 * for duplicates and collected for one turn of the loop, then committed in
 * one transaction (group commit); every SCT is sent only after the
 * transaction holding its entry committed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logger/daemon_internal.h"

static void flush(void *arg)
{
	ctng_logger_daemon *d = arg;
	d->flush_scheduled = false;
	size_t n = d->n_batch;
	if (!n)
		return;
	ctng_logger_sub **subs = malloc(n * sizeof(*subs));
	ctng_err e = {0};
	int rc;
	if (!subs) {
		rc = ctng_err_set(&e, CTNG_ENOMEM, "out of memory");
	} else {
		for (size_t i = 0; i < n; i++)
			subs[i] = d->batch[i].sub;
		uint64_t t0 = ctng_mono_ns();
		rc = ctng_logger_commit(d->lg, subs, n, &e);
		logger_metrics_commit(&d->mx, n, rc, t0);
	}
	free(subs);
	if (rc)
		CTNG_ERROR("cannot commit submissions", "n=%zu err=\"%s\"", n, e.msg);
	for (size_t i = 0; i < n; i++) {
		struct pend *p = &d->batch[i];
		json_t *j = NULL;
		ctng_err e2 = {0};
		if (rc || !ctng_logger_sub_durable(p->sub))
			ctng_net_reply_error(p->req, 500, "submission not stored: %s",
			                     rc ? e.msg : "commit failed");
		else if (ctng_logger_sub_sct_json(p->sub, d->lg, &j, &e2))
			ctng_net_reply_err(p->req, &e2);
		else
			ctng_net_reply_json(p->req, 200, j);
		ctng_logger_sub_free(p->sub);
	}
	d->n_batch = 0;
}

void lgd_job_free(struct job *j)
{
	if (!j)
		return;
	ctng_logger_sub_free(j->sub);
	free(j->body);
	free(j);
}

/* Loop thread: a prepared submission joins the next group commit (or is
 * answered at once when it is a duplicate or was rejected). Takes sub. */
static void accept_sub(ctng_logger_daemon *d, ctng_net_req *req, ctng_logger_sub *sub)
{
	ctng_err e = {0};
	if (ctng_logger_prepare_finish(d->lg, sub, &e)) {
		logger_metrics_sub(&d->mx, "rejected", e.code);
		ctng_logger_sub_free(sub);
		ctng_net_reply_err(req, &e);
		return;
	}
	if (ctng_logger_sub_durable(sub)) { /* a duplicate: its stored SCT */
		logger_metrics_sub(&d->mx, "duplicate", 0);
		json_t *j = NULL;
		int rc = ctng_logger_sub_sct_json(sub, d->lg, &j, &e);
		ctng_logger_sub_free(sub);
		lgd_reply_json(req, rc, j, &e);
		return;
	}
	if (d->n_batch == d->cap_batch) {
		size_t cap = d->cap_batch ? 2 * d->cap_batch : 64;
		struct pend *nb = realloc(d->batch, cap * sizeof(*nb));
		if (!nb) {
			ctng_logger_sub_free(sub);
			ctng_net_reply_error(req, 503, "out of memory");
			return;
		}
		d->batch = nb;
		d->cap_batch = cap;
	}
	d->batch[d->n_batch++] = (struct pend){req, sub};
	if (!d->flush_scheduled) {
		if (ctng_net_call_later(d->loop, 0, flush, d, &e) == 0)
			d->flush_scheduled = true;
		else
			flush(d);
	}
}

/* Loop thread: a worker finished a job. */
static void job_done(void *arg, bool cancelled)
{
	struct job *j = arg;
	if (!cancelled) {
		if (j->rc) {
			logger_metrics_sub(&j->d->mx, "rejected", j->rc);
			ctng_net_reply_err(j->req, &j->err);
		} else {
			accept_sub(j->d, j->req, j->sub);
			j->sub = NULL;
		}
	}
	lgd_job_free(j);
}

void *lgd_worker(void *arg)
{
	ctng_logger_daemon *d = arg;
	for (;;) {
		pthread_mutex_lock(&d->mu);
		while (!d->stopping && !d->qhead)
			pthread_cond_wait(&d->cv, &d->mu);
		struct job *j = d->qhead;
		if (!j) { /* stopping and nothing left */
			pthread_mutex_unlock(&d->mu);
			return NULL;
		}
		d->qhead = j->next;
		if (!d->qhead)
			d->qtail = NULL;
		pthread_mutex_unlock(&d->mu);
		j->rc = ctng_logger_prepare_offline(d->lg, j->body, j->len, j->precert, j->ts,
		                                    &j->sub, &j->err);
		if (ctng_net_loop_post(d->loop, job_done, j)) {
			/* cannot hand it back: the request gets 503 at shutdown */
			CTNG_ERROR("cannot hand a submission back to the loop", "%s", "");
			lgd_job_free(j);
		}
	}
}

static void add_chain_common(ctng_net_req *req, ctng_logger_daemon *d, bool precert)
{
	size_t len = 0;
	const uint8_t *body = ctng_net_req_body(req, &len);
	ctng_err e = {0};
	uint64_t ts = ctng_logger_sct_time(d->lg, ctng_now_ms());
	if (d->n_th) {
		struct job *j = calloc(1, sizeof(*j));
		if (j && (j->body = malloc(len ? len : 1))) {
			memcpy(j->body, body, len);
			j->len = len;
			j->d = d;
			j->req = req;
			j->precert = precert;
			j->ts = ts;
			pthread_mutex_lock(&d->mu);
			if (d->qtail)
				d->qtail->next = j;
			else
				d->qhead = j;
			d->qtail = j;
			pthread_cond_signal(&d->cv);
			pthread_mutex_unlock(&d->mu);
			return;
		}
		free(j);
		ctng_net_reply_error(req, 503, "out of memory");
		return;
	}
	ctng_logger_sub *sub = NULL;
	if (ctng_logger_prepare_offline(d->lg, body, len, precert, ts, &sub, &e)) {
		logger_metrics_sub(&d->mx, "rejected", e.code);
		ctng_net_reply_err(req, &e);
		return;
	}
	accept_sub(d, req, sub);
}

void lgd_h_add_chain(ctng_net_req *req, void *arg)
{
	add_chain_common(req, arg, false);
}

void lgd_h_add_pre_chain(ctng_net_req *req, void *arg)
{
	add_chain_common(req, arg, true);
}
