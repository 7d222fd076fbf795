/*
 * daemon_submit.c — the submission pipeline of `ctng logger` (docs/logger.md
 * "Sequencing"): add-chain and add-pre-chain requests are validated on
 * worker threads (ctng_logger_prepare_offline) and handed back to the loop
 * thread, which collects them for the next batch. One batch is in flight at
 * a time: the loop thread sequences it (duplicates, leaf indexes,
 * timestamps), the workers sign its SCTs, the worker that signs the last
 * one stores the batch in one transaction on the pipeline's own database
 * handle (so the loop keeps serving while the fsync runs), and the loop
 * thread answers it: every SCT only after the transaction holding its entry
 * committed, a 500 for every one of a batch that failed (its indexes are
 * used again by the next batch).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logger/daemon_internal.h"

/* ------------------------------------------------------------- answers */

/* Loop thread: the answer for one submission of a batch that ended with
 * rc (0 = stored), then frees it. */
static void answer(ctng_logger_daemon *d, struct pend *p, int rc, const ctng_err *e)
{
	json_t *j = NULL;
	ctng_err e2 = {0};
	if (rc || !ctng_logger_sub_durable(p->sub))
		ctng_net_reply_error(p->req, 500, "submission not stored: %s",
		                     rc ? e->msg : "commit failed");
	else if (ctng_logger_sub_sct_json(p->sub, d->lg, &j, &e2))
		ctng_net_reply_err(p->req, &e2);
	else
		ctng_net_reply_json(p->req, 200, j);
	ctng_logger_sub_free(p->sub);
	p->sub = NULL;
}

/* ------------------------------------------------- the batch in flight */

static void start_batch(void *arg);

static void schedule_start(ctng_logger_daemon *d)
{
	if (d->start_scheduled || d->in_flight || !d->n_pending)
		return;
	/* At the end of this turn of the loop, so that every submission the
	 * workers handed back meanwhile joins the batch. */
	if (ctng_net_call_later(d->loop, 0, start_batch, d, NULL) == 0)
		d->start_scheduled = true;
	else
		start_batch(d);
}

/* Loop thread: the batch was stored (b->rc == 0) or not; answer it. */
static void finish_batch(ctng_logger_daemon *d)
{
	struct batch *b = &d->b;
	ctng_err e = {0};
	if (ctng_logger_sequence_end(d->lg, b->subs, b->n, b->rc == 0, &e))
		CTNG_ERROR("cannot end a batch of submissions", "err=\"%s\"", e.msg);
	logger_metrics_commit(&d->mx, b->n, b->rc, b->t0);
	if (b->rc)
		CTNG_ERROR("cannot commit submissions", "n=%zu err=\"%s\"", b->n, b->err.msg);
	for (size_t i = 0; i < b->n; i++)
		answer(d, &b->v[i], b->rc, &b->err);
	b->n = 0;
	d->in_flight = false;
	if (d->tick_due)
		lgd_publish(d); /* no batch is open now */
	schedule_start(d);
}

/* Loop thread, posted by the worker that stored the batch. */
static void batch_stored(void *arg, bool cancelled)
{
	if (!cancelled) /* else the daemon is being freed, and frees the batch */
		finish_batch(arg);
}

/* Loop thread, for an in-memory database (it has no second handle): store
 * on the loop's own handle. */
static void store_on_loop(void *arg, bool cancelled)
{
	ctng_logger_daemon *d = arg;
	if (cancelled)
		return;
	if (!d->b.rc)
		d->b.rc = ctng_logger_writer_store(d->writer, d->b.subs, d->b.n, &d->b.err);
	finish_batch(d);
}

/* Worker thread: hands fn(d) to the loop, retrying while only memory is
 * short (a batch must not be held forever), unless the daemon stops. */
static void post_batch(ctng_logger_daemon *d, ctng_net_post_fn fn)
{
	while (ctng_net_loop_post(d->loop, fn, d)) {
		pthread_mutex_lock(&d->mu);
		bool stop = d->stopping;
		pthread_mutex_unlock(&d->mu);
		if (stop) /* the daemon is being freed: it frees the batch */
			return;
		usleep(1000);
	}
}

/* Worker thread: signs SCTs of the batch until none is left; the last
 * signer stores the batch and hands it back to the loop. */
static void sign_batch(struct worker *w, struct batch *b)
{
	ctng_logger_daemon *d = w->d;
	size_t i;
	while ((i = atomic_fetch_add(&b->next_sign, 1)) < b->n) {
		ctng_err e = {0};
		int rc = ctng_logger_sub_sign(w->signer, b->subs[i], &e);
		if (rc) {
			pthread_mutex_lock(&d->mu);
			if (!b->rc) {
				b->rc = rc;
				b->err = e;
			}
			pthread_mutex_unlock(&d->mu);
		}
	}
	/* acq_rel: the last one sees every other signer's work */
	if (atomic_fetch_sub(&b->signers, 1) != 1)
		return;
	if (!d->wstore) {
		post_batch(d, store_on_loop);
		return;
	}
	/* The last signer stores the batch on the pipeline's handle: one batch
	 * at a time, so one thread at a time uses it. The fsync blocks this
	 * worker only; the loop keeps serving and the other worker keeps
	 * validating. */
	if (!b->rc)
		b->rc = ctng_logger_writer_store(d->writer, b->subs, b->n, &b->err);
	post_batch(d, batch_stored);
}

static bool grow(void **v, size_t *cap, size_t want, size_t elem)
{
	if (want <= *cap)
		return true;
	size_t c = *cap ? *cap : 64;
	while (c < want)
		c *= 2;
	void *nv = realloc(*v, c * elem);
	if (!nv)
		return false;
	*v = nv;
	*cap = c;
	return true;
}

/* Loop thread: the pending submissions become the batch in flight. */
static void start_batch(void *arg)
{
	ctng_logger_daemon *d = arg;
	d->start_scheduled = false;
	if (d->in_flight || !d->n_pending)
		return;
	struct batch *b = &d->b;
	if (!grow((void **)&b->subs, &b->subs_cap, d->n_pending, sizeof(*b->subs))) {
		for (size_t i = 0; i < d->n_pending; i++) {
			ctng_net_reply_error(d->pending[i].req, 503, "out of memory");
			ctng_logger_sub_free(d->pending[i].sub);
		}
		d->n_pending = 0;
		return;
	}
	/* The pending ones become the batch (the two arrays swap). */
	struct pend *v = b->v;
	size_t vcap = b->cap;
	b->v = d->pending;
	b->cap = d->cap_pending;
	b->n = d->n_pending;
	d->pending = v;
	d->cap_pending = vcap;
	d->n_pending = 0;
	for (size_t i = 0; i < b->n; i++)
		b->subs[i] = b->v[i].sub;
	b->rc = 0;
	b->err = (ctng_err){0};
	b->t0 = ctng_mono_ns();
	size_t n_sign = 0;
	ctng_err e = {0};
	int rc = ctng_logger_sequence(d->lg, b->subs, b->n, &n_sign, &e);
	/* Duplicates of stored entries are answered now (their stored SCT, or
	 * 500 when sequencing failed); the rest is the batch. */
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct pend *p = &b->v[i];
		if (rc || ctng_logger_sub_durable(p->sub)) {
			if (!rc)
				logger_metrics_sub(&d->mx, "duplicate", 0);
			answer(d, p, rc, &e);
			continue;
		}
		b->v[k] = *p;
		b->subs[k++] = p->sub;
	}
	b->n = k;
	if (rc) {
		CTNG_ERROR("cannot sequence submissions", "err=\"%s\"", e.msg);
		return;
	}
	d->in_flight = true;
	if (!n_sign) { /* nothing new (cannot happen with k > 0) */
		finish_batch(d);
		return;
	}
	if (!d->n_th) {
		for (size_t i = 0; i < b->n && !b->rc; i++)
			b->rc = ctng_logger_sub_sign(d->lg->signer, b->subs[i], &b->err);
		store_on_loop(d, false);
		return;
	}
	/* Sign jobs go to the head of the queue: the batch in flight is what
	 * every client of it waits for. */
	unsigned jobs = n_sign < d->n_th ? (unsigned)n_sign : d->n_th;
	atomic_store(&b->next_sign, 0);
	atomic_store(&b->signers, jobs);
	pthread_mutex_lock(&d->mu);
	for (unsigned i = 0; i < jobs; i++) {
		struct job *j = &d->sign_jobs[i];
		j->kind = JOB_SIGN;
		j->d = d;
		j->next = d->qhead;
		d->qhead = j;
		if (!d->qtail)
			d->qtail = j;
	}
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* Loop thread: a validated submission waits for the next batch. Takes sub. */
static void accept_sub(ctng_logger_daemon *d, ctng_net_req *req, ctng_logger_sub *sub)
{
	if (!grow((void **)&d->pending, &d->cap_pending, d->n_pending + 1, sizeof(*d->pending))) {
		ctng_logger_sub_free(sub);
		ctng_net_reply_error(req, 503, "out of memory");
		return;
	}
	d->pending[d->n_pending++] = (struct pend){req, sub};
	schedule_start(d);
}

/* ----------------------------------------------------------- threads */

static void job_free(struct job *j)
{
	if (!j || j->kind != JOB_PREPARE)
		return;
	ctng_logger_sub_free(j->sub);
	free(j->body);
	free(j);
}

/* Loop thread: a worker validated a submission. */
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
	job_free(j);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	ctng_logger_daemon *d = w->d;
	pthread_setname_np(pthread_self(), "ctng-lg-worker"); /* top -H, perf */
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
		if (j->kind == JOB_SIGN) {
			sign_batch(w, &d->b);
			continue;
		}
		j->rc = ctng_logger_prepare_offline(d->lg, j->body, j->len, j->precert, j->ts,
		                                    &j->sub, &j->err);
		if (ctng_net_loop_post(d->loop, job_done, j)) {
			/* cannot hand it back: the request gets 503 at shutdown */
			CTNG_ERROR("cannot hand a submission back to the loop", "%s", "");
			job_free(j);
		}
	}
}

int lgd_pipeline_start(ctng_logger_daemon *d, const char *db_path, unsigned workers,
                       ctng_err *err)
{
	int rc = 0;
	/* A second handle on the same file for storing batches (so the loop's
	 * handle stays free for reads); an in-memory database is private to
	 * its handle, and without workers everything runs on the loop: then
	 * batches are stored on the loop's handle. */
	bool file = workers && db_path && strcmp(db_path, ":memory:") != 0;
	if (file && !(d->wstore = ctng_store_open(db_path, err)))
		return err && err->code ? err->code : CTNG_EIO;
	if ((rc = ctng_logger_writer_new(file ? d->wstore : d->store, &d->writer, err)))
		return rc;
	if (file && d->mx.net.reg && (rc = ctng_store_metrics(d->wstore, d->mx.net.reg, err)))
		return rc;
	for (unsigned i = 0; i < workers; i++) {
		d->w[i].d = d;
		if ((rc = ctng_logger_signer_new(d->lg, &d->w[i].signer, err)))
			return rc;
	}
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&d->w[i].th, NULL, worker_main, &d->w[i]))
			return ctng_err_set(err, CTNG_EIO, "cannot start a worker thread");
		d->n_th = i + 1;
	}
	return 0;
}

void lgd_pipeline_stop(ctng_logger_daemon *d)
{
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	for (unsigned i = 0; i < d->n_th; i++)
		pthread_join(d->w[i].th, NULL);
	d->n_th = 0;
	while (d->qhead) { /* never picked up: their requests get 503 */
		struct job *j = d->qhead;
		d->qhead = j->next;
		job_free(j);
	}
	d->qtail = NULL;
}

void lgd_pipeline_free(ctng_logger_daemon *d)
{
	for (size_t i = 0; i < d->n_pending; i++)
		ctng_logger_sub_free(d->pending[i].sub);
	for (size_t i = 0; i < d->b.n; i++)
		ctng_logger_sub_free(d->b.v[i].sub);
	free(d->pending);
	free(d->b.v);
	free(d->b.subs);
	ctng_logger_writer_free(d->writer);
	ctng_store_close(d->wstore);
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		ctng_logger_signer_free(d->w[i].signer);
}

/* ------------------------------------------------------------ handlers */

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
			j->kind = JOB_PREPARE;
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
