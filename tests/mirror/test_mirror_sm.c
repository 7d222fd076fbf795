/*
 * test_mirror_sm.c — the mirror state machine against synthetic logs and
 * peers, with a real SQLite mirror store: an honest log followed across
 * tile boundaries (incrementally: only the new tiles' roots and bundles are
 * fetched), a restart from the store, logger-signed tile roots that do not
 * fold into the STH (a data CON that verifies, built from real signatures),
 * unsigned or lying answers (dropped, never stored), a hidden entry (the
 * prefix is stored, the logger is accused at the deadline), peers that are
 * behind (retried), and a logger that serves wrong bundles while a peer has
 * the data (no accusation: the data is available). And the kill test: a
 * child mirrors a growing log into a file database and is SIGKILLed at
 * random moments; every reopened mirror is at the end of a run (state,
 * entries and tiles agree, the root is the log's), nothing it reported is
 * lost, and the next child continues.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "mfx.h"
#include "testutil.h"

/* How a source answers. */
typedef struct behaviour {
	bool down;           /* transport failure */
	bool roots_unsigned; /* logger: roots without signature */
	int roots_flip;      /* flip this root (index in a batch), -1 none; signed by the logger */
	bool bundle_wrong;   /* entries altered */
	bool hide;           /* 404 for the tile holding hidden */
	uint64_t hidden;
	uint64_t have; /* peer: entries it holds (answers 404 beyond) */
	bool hang;     /* accepts the request and never answers (it times out) */
	bool plant;    /* peer: serves another precertificate for every precert entry */
} behaviour;

/* An answer on its way (world.latency_ms, or a hanging source's timeout). */
typedef struct pending {
	uint64_t id, due;
	int status;
	uint8_t *body;
	size_t len;
} pending;

typedef struct world {
	mfx f;
	behaviour lb[2];            /* loggers */
	behaviour pb[MFX_N_ENT][2]; /* peer monitor m about logger k */
	ctng_store *st;
	ctng_mirror_db *db;
	ctng_mirror_sm *sm;
	const char *self;
	uint64_t now;
	/* observations */
	size_t held, accused, poms, stores, fetches, roots_fetches;
	uint64_t accused_period;
	ctng_gossip_object pom;
	char accuse_reason[256];
	char last_source[CTNG_ID_MAX + 1];
	size_t from_peer_fetches, planted_fetches;
	uint64_t latency_ms; /* 0: every answer at once */
	pending pend[256];
	size_t n_pend;
	uint64_t held_at;        /* when the first HELD came */
	uint64_t not_sent_until; /* requests "not sent" (a local limit) until then */
	size_t not_sent;
	bool fail_stores; /* the store refuses every run (e.g. a full disk) */
	size_t failed_stores;
} world;

static int failing_hook(void *arg, ctng_store *st, const char *logger, uint64_t index,
                        const ctng_mirror_entry *e, ctng_err *err)
{
	(void)st;
	(void)logger;
	(void)index;
	(void)e;
	world *w = arg;
	return w->fail_stores ? ctng_err_set(err, CTNG_EIO, "disk full") : 0;
}

static void respond(world *w, const ctng_mirror_action *x, int *status, uint8_t **body, size_t *len)
{
	*status = 404;
	*body = NULL;
	*len = 0;
	int k = mfx_idx(x->logger);
	const char *path = x->path;
	bool peer = strncmp(path, "/mirror/", 8) == 0;
	const behaviour *b = peer ? &w->pb[mfx_idx(x->source)][k] : &w->lb[k];
	if (peer) {
		path = strchr(path + 8, '/');
		w->from_peer_fetches++;
	}
	if (b->down) {
		*status = 0;
		return;
	}
	if (b->hang) {
		*status = -1; /* no answer: the request times out */
		return;
	}
	uint64_t size, first, count;
	if (sscanf(path,
	           "/ctng/v1/tile-roots?tree_size=%" SCNu64 "&first=%" SCNu64 "&count=%" SCNu64,
	           &size, &first, &count) == 3) {
		w->roots_fetches++;
		if (size > w->f.log[k].n || (peer && size > b->have))
			return;
		char *s = mfx_roots_json(&w->f, k, size, first, (uint32_t)count, b->roots_flip,
		                         !peer && !b->roots_unsigned);
		assert_non_null(s);
		*status = 200;
		*body = (uint8_t *)s;
		*len = strlen(s);
		return;
	}
	assert_int_equal(strncmp(path, "/tile/data/", 11), 0);
	uint64_t t;
	unsigned width;
	assert_int_equal(ctng_merkle_tile_index_parse(path + 11, &t, &width, NULL), 0);
	if (t * 256 + width > w->f.log[k].n || (peer && t * 256 + width > b->have))
		return;
	if (b->hide && b->hidden >= t * 256 && b->hidden < t * 256 + width)
		return;
	if (b->plant)
		w->planted_fetches++;
	*body = b->plant
	            ? mfx_bundle_planted(&w->f, t, width, len)
	            : mfx_bundle(&w->f, k, t, width, b->bundle_wrong ? 3 % (int)width : -1, len);
	*status = 200;
}

/* Runs the actions (and the answers they cause) until none are left. */
static void drain(world *w, ctng_mirror_actions *a)
{
	while (a->n) {
		ctng_mirror_actions next = {0};
		for (size_t i = 0; i < a->n; i++) {
			ctng_mirror_action *x = &a->v[i];
			ctng_err e = {0};
			switch (x->kind) {
			case CTNG_MIR_FETCH: {
				if (w->now < w->not_sent_until) {
					/* as the daemon does when it cannot start it */
					w->not_sent++;
					assert_int_equal(ctng_mirror_sm_on_not_sent(
					                     w->sm, x->id, w->now, &next, &e),
					                 0);
					break;
				}
				w->fetches++;
				snprintf(w->last_source, sizeof w->last_source, "%s", x->source);
				int status;
				uint8_t *body;
				size_t len;
				respond(w, x, &status, &body, &len);
				if (w->latency_ms || status == -1) {
					assert_true(w->n_pend < 256);
					pending *q = &w->pend[w->n_pend++];
					q->id = x->id;
					q->due =
					    w->now + (status == -1 ? x->timeout_ms : w->latency_ms);
					q->status = status == -1 ? 0 : status;
					q->body = body;
					q->len = len;
					break;
				}
				int rc = ctng_mirror_sm_on_response(
				    w->sm, x->id, status, body, len,
				    status ? NULL : "connection refused", w->now, &next, &e);
				assert_int_equal(rc, 0);
				free(body);
				break;
			}
			case CTNG_MIR_STORE:
				w->stores++;
				if (ctng_mirror_db_apply(w->db, x->logger, &x->run,
				                         x->run.complete ? &x->obj : NULL, &e)) {
					/* as the daemon does (src/monitor/mirror.c store()) */
					assert_true(w->fail_stores);
					w->failed_stores++;
					ctng_mirror_actions_store_failed(a, i);
					assert_int_equal(ctng_mirror_db_restore(w->db, w->sm, &e),
					                 0);
				}
				break;
			case CTNG_MIR_HELD:
				if (!w->held++)
					w->held_at = w->now;
				break;
			case CTNG_MIR_ACCUSE:
				w->accused++;
				w->accused_period = x->period;
				snprintf(w->accuse_reason, sizeof w->accuse_reason, "%s",
				         x->reason);
				break;
			case CTNG_MIR_POM:
				w->poms++;
				ctng_gossip_clear(&w->pom);
				assert_int_equal(ctng_gossip_copy(&w->pom, &x->obj, NULL), 0);
				break;
			}
		}
		ctng_mirror_actions_free(a);
		*a = next;
	}
}

/* Lets time pass up to `until` in steps of 10 ms, running the timers. */
static void run_until(world *w, uint64_t until)
{
	while (w->now < until) {
		w->now += 10;
		ctng_mirror_actions a = {0};
		for (size_t i = 0; i < w->n_pend;) {
			pending q = w->pend[i];
			if (q.due > w->now) {
				i++;
				continue;
			}
			w->pend[i] = w->pend[--w->n_pend];
			ctng_err e = {0};
			int rc = ctng_mirror_sm_on_response(w->sm, q.id, q.status, q.body, q.len,
			                                    q.status ? NULL : "timed out", w->now,
			                                    &a, &e);
			assert_true(rc == 0 || rc == CTNG_ESTATE); /* a late answer */
			free(q.body);
			drain(w, &a);
		}
		assert_int_equal(ctng_mirror_sm_on_timer(w->sm, w->now, &a, NULL), 0);
		drain(w, &a);
		ctng_mirror_actions_free(&a);
	}
}

static void give_sth(world *w, int k, uint64_t p, uint64_t size)
{
	mfx_grow(&w->f, k, size);
	ctng_gossip_object sth = {0};
	assert_int_equal(mfx_sth(&w->f, k, p, size, NULL, &sth), 0);
	w->now = mfx_time(p, 210);
	ctng_mirror_actions a = {0};
	ctng_err e = {0};
	assert_int_equal(ctng_mirror_sm_on_sth(w->sm, &sth, w->now, &a, &e), 0);
	drain(w, &a);
	ctng_mirror_actions_free(&a);
	ctng_gossip_clear(&sth);
}

static void open_world(world *w, const char *self, bool fresh)
{
	if (fresh) {
		memset(w, 0, sizeof(*w));
		assert_int_equal(mfx_init(&w->f), 0);
		for (int k = 0; k < 2; k++) {
			w->lb[k].roots_flip = -1;
			for (int m = 0; m < MFX_N_ENT; m++)
				w->pb[m][k].roots_flip = -1;
		}
		assert_non_null(w->st = ctng_store_open(":memory:", NULL));
	}
	w->self = self;
	ctng_err e = {0};
	assert_int_equal(ctng_mirror_db_open(w->st, &w->f.net, &w->db, &e), 0);
	ctng_mirror_opts o;
	ctng_mirror_opts_default(&o, &w->f.net.clock);
	assert_int_equal(ctng_mirror_sm_new(&w->f.net, self, &o, &w->sm, &e), 0);
	assert_int_equal(ctng_mirror_db_restore(w->db, w->sm, &e), 0);
}

static void close_world(world *w, bool keep_store)
{
	ctng_mirror_sm_free(w->sm);
	ctng_mirror_db_close(w->db);
	w->sm = NULL;
	w->db = NULL;
	if (!keep_store) {
		ctng_store_close(w->st);
		ctng_gossip_clear(&w->pom);
		mfx_free(&w->f);
	}
}

static void check_mirror(world *w, int k, uint64_t size)
{
	uint64_t got;
	uint8_t root[32], want[32];
	assert_int_equal(ctng_mirror_db_size(w->db, w->f.ent[k].id, &got, root, NULL), 0);
	assert_int_equal(got, size);
	assert_int_equal(ctng_merkle_root((const uint8_t(*)[32])w->f.log[k].leaf, w->f.log[k].n,
	                                  size, want, NULL),
	                 0);
	assert_memory_equal(root, want, 32);
	/* What the mirror serves is what the log served. */
	for (uint64_t t = 0; t * 256 < size; t++) {
		unsigned wd = ctng_merkle_tile_width(0, t, size);
		uint8_t *d = NULL;
		size_t len = 0, elen = 0;
		assert_int_equal(
		    ctng_mirror_db_data_tile(w->db, w->f.ent[k].id, t, wd, &d, &len, NULL), 0);
		uint8_t *exp = mfx_bundle(&w->f, k, t, wd, -1, &elen);
		assert_int_equal(len, elen);
		assert_memory_equal(d, exp, len);
		free(d);
		free(exp);
	}
}

static void test_honest_incremental(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor1", true);
	static const uint64_t sizes[] = {0, 5, 5, 300, 511, 512, 513, 1300};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t f0 = w.fetches, h0 = w.held;
		give_sth(&w, 0, i + 1, sizes[i]);
		assert_int_equal(w.held, h0 + 1);
		check_mirror(&w, 0, sizes[i]);
		assert_false(ctng_mirror_sm_busy(w.sm, "logger1"));
		/* Incremental: one roots batch, then only the tiles from the held size. */
		uint64_t prev = i ? sizes[i - 1] : 0;
		size_t want =
		    sizes[i] == prev ? 0 : 1 + (size_t)((sizes[i] + 255) / 256 - prev / 256);
		assert_int_equal(w.fetches - f0, want);
		assert_string_equal(w.last_source[0] ? w.last_source : "logger1", "logger1");
	}
	assert_int_equal(w.accused, 0);
	assert_int_equal(w.poms, 0);
	assert_int_equal(w.from_peer_fetches, 0);
	/* A restart continues from the store. */
	close_world(&w, true);
	open_world(&w, "monitor1", false);
	assert_int_equal(ctng_mirror_sm_size(w.sm, "logger1"), 1300);
	give_sth(&w, 0, 20, 1300); /* the same tree: held at once */
	assert_int_equal(w.held, 9);
	give_sth(&w, 0, 21, 2000);
	check_mirror(&w, 0, 2000);
	bool held = false;
	ctng_gossip_object old = {0};
	assert_int_equal(mfx_sth(&w.f, 0, 22, 700, NULL, &old), 0);
	assert_int_equal(ctng_mirror_db_holds(w.db, &old, &held, NULL), 0);
	assert_true(held);
	uint8_t other[32] = {1};
	ctng_gossip_clear(&old);
	assert_int_equal(mfx_sth(&w.f, 0, 22, 700, other, &old), 0);
	assert_int_equal(ctng_mirror_db_holds(w.db, &old, &held, NULL), 0);
	assert_false(held);
	ctng_gossip_clear(&old);
	/* Peer tile roots served by the store fold into the STH. */
	ctng_tile_roots t = {0};
	assert_int_equal(ctng_mirror_db_tile_roots(w.db, "logger1", 1300, 0, 6, &t, NULL), 0);
	for (uint32_t i = 0; i < 6; i++) {
		uint8_t want[32];
		mfx_tile_root(&w.f, 0, i, ctng_tile_roots_width(&t, i), want);
		assert_memory_equal(t.roots[i], want, 32);
	}
	ctng_tile_roots_clear(&t);
	assert_int_equal(ctng_mirror_db_tile_roots(w.db, "logger1", 2001, 0, 1, &t, NULL),
	                 CTNG_ENOTFOUND);
	close_world(&w, false);
}

static void test_signed_wrong_roots_make_a_data_con(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor1", true);
	give_sth(&w, 0, 1, 300);
	w.lb[0].roots_flip = 1; /* the logger signs a root that is not its tree's */
	give_sth(&w, 0, 2, 900);
	assert_int_equal(w.poms, 1);
	assert_int_equal(w.held, 1);
	check_mirror(&w, 0, 300); /* nothing of the bad tree stored */
	/* Anyone with the logger's key can check it. */
	ctng_err e = {0};
	assert_true(ctng_con_is_data(&w.pom));
	assert_int_equal(ctng_con_verify(&w.pom, w.f.ent[0].key, &w.f.net.clock, &e), 0);
	assert_int_equal(ctng_con_verify(&w.pom, w.f.ent[1].key, &w.f.net.clock, &e), CTNG_EVERIFY);
	char *json = NULL;
	size_t len = 0;
	assert_int_equal(ctng_gossip_encode(&w.pom, &json, &len, NULL), 0);
	ctng_gossip_object back = {0};
	assert_int_equal(ctng_gossip_decode(json, len, &back, &e), 0);
	assert_int_equal(ctng_data_con_verify(&back, w.f.ent[0].key, &w.f.net.clock, &e), 0);
	ctng_gossip_clear(&back);
	free(json);
	/* The same evidence with honest roots proves nothing. */
	ctng_gossip_object sth = {0}, base = {0}, honest = {0};
	assert_int_equal(mfx_sth(&w.f, 0, 2, 900, NULL, &sth), 0);
	assert_int_equal(mfx_sth(&w.f, 0, 1, 300, NULL, &base), 0);
	ctng_merkle_range r;
	ctng_merkle_range_init(&r);
	for (int i = 0; i < 300; i++)
		ctng_merkle_range_append(&r, NULL, w.f.log[0].leaf[i], NULL);
	char *rj = mfx_roots_json(&w.f, 0, 900, 1, 3, -1, true);
	ctng_tile_roots tr = {0};
	assert_int_equal(ctng_tile_roots_parse(rj, strlen(rj), &tr, &e), 0);
	assert_int_equal(ctng_data_con_build(&honest, &sth, &base, (const uint8_t(*)[32])r.h, r.n,
	                                     &tr, 1, w.now, &e),
	                 0);
	assert_int_equal(ctng_data_con_verify(&honest, w.f.ent[0].key, &w.f.net.clock, &e),
	                 CTNG_EVERIFY);
	assert_non_null(strstr(e.msg, "no misbehaviour"));
	/* A forged signature on wrong roots proves nothing either. */
	ctng_tile_roots_clear(&tr);
	free(rj);
	rj = mfx_roots_json(&w.f, 0, 900, 1, 3, 0, false);
	assert_int_equal(ctng_tile_roots_parse(rj, strlen(rj), &tr, &e), 0);
	ctng_tile_roots_sign(&tr, w.f.priv[2], NULL); /* a monitor's key */
	ctng_gossip_clear(&honest);
	assert_int_equal(ctng_data_con_build(&honest, &sth, &base, (const uint8_t(*)[32])r.h, r.n,
	                                     &tr, 1, w.now, &e),
	                 0);
	assert_int_equal(ctng_data_con_verify(&honest, w.f.ent[0].key, &w.f.net.clock, &e),
	                 CTNG_EVERIFY);
	ctng_tile_roots_clear(&tr);
	free(rj);
	ctng_gossip_clear(&honest);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&base);
	close_world(&w, false);
}

static void test_hidden_entry_accused(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor1", true);
	w.lb[0].hide = true;
	w.lb[0].hidden = 700;
	give_sth(&w, 0, 3, 1000);
	run_until(&w, mfx_time(3, MFX_PERIOD - 1));
	assert_int_equal(w.held, 0);
	assert_int_equal(w.accused, 1);
	assert_int_equal(w.accused_period, 3);
	assert_non_null(strstr(w.accuse_reason, "data not served"));
	/* The tiles before the hidden one were verified and kept. */
	check_mirror(&w, 0, 512);
	assert_int_equal(w.poms, 0);
	/* Next period: still hidden, accused again; then served: caught up. */
	give_sth(&w, 0, 4, 1100);
	run_until(&w, mfx_time(4, MFX_PERIOD - 1));
	assert_int_equal(w.accused, 2);
	/* the same tree signed again next period: still withheld, accused again */
	give_sth(&w, 0, 5, 1100);
	run_until(&w, mfx_time(5, MFX_PERIOD - 1));
	assert_int_equal(w.accused, 3);
	assert_int_equal(w.accused_period, 5);
	w.lb[0].hide = false;
	give_sth(&w, 0, 6, 1200);
	run_until(&w, mfx_time(6, MFX_PERIOD - 1));
	assert_int_equal(w.accused, 3);
	assert_int_equal(w.held, 1);
	check_mirror(&w, 0, 1200);
	close_world(&w, false);
}

static void test_bad_sources(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor1", true);
	/* The logger serves wrong entries, but monitor3 (which watches logger1)
	 * has the data: the monitor gets it there, and does not accuse. */
	w.lb[0].bundle_wrong = true;
	w.pb[mfx_idx("monitor3")][0].have = 5000;
	give_sth(&w, 0, 1, 600);
	run_until(&w, mfx_time(1, MFX_PERIOD - 1));
	check_mirror(&w, 0, 600);
	assert_int_equal(w.held, 1);
	assert_int_equal(w.accused, 0);
	assert_true(w.from_peer_fetches > 0);
	/* Unsigned roots from the logger are not taken; a lying peer neither. */
	w.lb[0].bundle_wrong = false;
	w.lb[0].roots_unsigned = true;
	w.pb[mfx_idx("monitor3")][0].roots_flip = 0;
	w.pb[mfx_idx("monitor2")][0].have = 5000;
	give_sth(&w, 0, 2, 1400);
	run_until(&w, mfx_time(2, MFX_PERIOD - 1));
	check_mirror(&w, 0, 1400);
	assert_int_equal(w.poms, 0); /* unsigned lies prove nothing */
	/* Everyone down: nothing stored, the logger accused. */
	w.lb[0].down = true;
	w.pb[mfx_idx("monitor2")][0].down = true;
	w.pb[mfx_idx("monitor3")][0].down = true;
	give_sth(&w, 0, 3, 1500);
	run_until(&w, mfx_time(3, MFX_PERIOD - 1));
	check_mirror(&w, 0, 1400);
	assert_int_equal(w.accused, 1);
	close_world(&w, false);
}

static void test_not_watched_prefers_peers(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor2", true); /* does not watch logger1 */
	/* Peers are behind at first: retried, then they have it. */
	give_sth(&w, 0, 1, 800);
	assert_int_equal(w.held, 0);
	w.pb[mfx_idx("monitor1")][0].have = 800;
	w.pb[mfx_idx("monitor3")][0].have = 800;
	size_t f0 = w.from_peer_fetches;
	run_until(&w, mfx_time(1, 500));
	assert_int_equal(w.held, 1);
	check_mirror(&w, 0, 800);
	assert_true(w.from_peer_fetches > f0);
	uint64_t from_logger, from_peers;
	ctng_mirror_sm_bytes(w.sm, "logger1", &from_logger, &from_peers);
	assert_int_equal(from_logger, 0);
	assert_true(from_peers > 0);
	/* No peer ever has it: the logger after the grace time. */
	give_sth(&w, 0, 2, 1000);
	run_until(&w, mfx_time(2, MFX_PERIOD - 1));
	check_mirror(&w, 0, 1000);
	ctng_mirror_sm_bytes(w.sm, "logger1", &from_logger, &from_peers);
	assert_true(from_logger > 0);
	assert_int_equal(w.accused, 0);
	close_world(&w, false);
}

static void test_kill(void **state)
{
	(void)state;
	char dir[] = "/tmp/ctng_test_mirror_kill_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/monitor.db", dir);
	world w;
	memset(&w, 0, sizeof w);
	assert_int_equal(mfx_init(&w.f), 0);
	for (int k = 0; k < 2; k++) {
		w.lb[k].roots_flip = -1;
		for (int m = 0; m < MFX_N_ENT; m++)
			w.pb[m][k].roots_flip = -1;
	}
	mfx_grow(&w.f, 0, 40 * 2500);
	srand((unsigned)time(NULL));
	uint64_t reported = 0, killed_inside = 0;
	for (int round = 0; round < 8; round++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			w.st = ctng_store_open(path, NULL);
			if (!w.st)
				_exit(3);
			open_world(&w, "monitor1", false);
			for (uint64_t p = 1; p <= 40; p++) {
				give_sth(&w, 0, p, p * 2500);
				uint64_t sz = ctng_mirror_sm_size(w.sm, "logger1");
				if (write(fds[1], &sz, sizeof sz) != sizeof sz)
					_exit(4);
			}
			_exit(0);
		}
		close(fds[1]);
		ctng_test_sleep_ms(5 + rand() % 120);
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		uint64_t sz;
		while (read(fds[0], &sz, sizeof sz) == (ssize_t)sizeof sz)
			reported = sz > reported ? sz : reported;
		close(fds[0]);
		/* Reopen: consistent, nothing reported lost. */
		assert_non_null(w.st = ctng_store_open(path, NULL));
		assert_int_equal(ctng_store_integrity_check(w.st, NULL), 0);
		open_world(&w, "monitor1", false);
		uint64_t held = ctng_mirror_sm_size(w.sm, "logger1");
		assert_true(held >= reported);
		killed_inside += held % 2500 != 0;
		check_mirror(&w, 0, held);
		close_world(&w, true);
		ctng_store_close(w.st);
	}
	/* Finish: the last child-free run reaches the end. */
	assert_non_null(w.st = ctng_store_open(path, NULL));
	open_world(&w, "monitor1", false);
	give_sth(&w, 0, 41, 40 * 2500);
	check_mirror(&w, 0, 40 * 2500);
	print_message("kill test: %" PRIu64 " of 8 kills left the mirror between two STHs\n",
	              killed_inside);
	close_world(&w, false);
	ctng_test_rm_rf(dir);
}

/* Red team (liveness of the DA gate): a peer mirror that accepts requests
 * and never answers — malicious, or a machine cut off by a partition that
 * drops packets — must not keep a monitor that does not watch the logger
 * from holding the tree by the data deadline, when an honest peer and the
 * logger serve it. monitor2 does not watch logger1; monitor1 (a watcher)
 * hangs, monitor3 has the data; every honest answer takes 30 ms. Today
 * the hanging peer is asked again after each short back-off, and every unit
 * that picks it waits a whole fetch timeout (a quarter period). */
static void test_hanging_peer(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor2", true);
	w.latency_ms = 30;
	w.pb[mfx_idx("monitor3")][0].hang = true;
	w.pb[mfx_idx("monitor1")][0].have = 8000;
	give_sth(&w, 0, 1, 8000); /* 32 data tiles */
	uint64_t deadline = mfx_time(1, 0) + ctng_mirror_deadline_offset_ms(&w.f.net.clock);
	run_until(&w, mfx_time(1, MFX_PERIOD - 1));
	assert_int_equal(w.held, 1);
	check_mirror(&w, 0, 8000);
	assert_int_equal(w.accused, 0);
	fprintf(stderr, "held %llu ms after the period start (deadline %llu)\n",
	        (unsigned long long)(w.held_at - mfx_time(1, 0)),
	        (unsigned long long)(deadline - mfx_time(1, 0)));
	assert_true(w.held_at <= deadline);
	for (size_t i = 0; i < w.n_pend; i++)
		free(w.pend[i].body);
	close_world(&w, false);
}

/* Persist before sign: a run the store could not keep (a full disk) is
 * never followed by HELD (the signed OBS(obtained, data) of the daemon);
 * once the store works again the next STH is fetched and held. */
static void test_store_failed_no_held(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor1", true);
	ctng_mirror_db_set_hook(w.db, failing_hook, &w);
	w.fail_stores = true;
	give_sth(&w, 0, 1, 200); /* one tile: its STORE and the HELD in one batch */
	run_until(&w, mfx_time(1, MFX_PERIOD - 1));
	assert_true(w.failed_stores > 0);
	assert_int_equal(w.held, 0);
	check_mirror(&w, 0, 0);
	w.fail_stores = false;
	give_sth(&w, 0, 2, 700);
	run_until(&w, mfx_time(2, MFX_PERIOD - 1));
	assert_int_equal(w.held, 1);
	check_mirror(&w, 0, 700);
	close_world(&w, false);
}

/* A request the daemon could not even start (too many in flight, no
 * descriptor) is asked again later and is not the logger's failure: no
 * accusation although the job ends after the deadline. */
static void test_not_sent_no_blame(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor1", true);
	uint64_t deadline = mfx_time(1, 0) + ctng_mirror_deadline_offset_ms(&w.f.net.clock);
	w.not_sent_until = deadline + 100;
	give_sth(&w, 0, 1, 600);
	run_until(&w, mfx_time(1, MFX_PERIOD - 1));
	assert_true(w.not_sent > 0);
	assert_int_equal(w.accused, 0);
	assert_int_equal(w.held, 1);
	assert_true(w.held_at > deadline);
	check_mirror(&w, 0, 600);
	close_world(&w, false);
}

/* Red team: a peer's bundle carries what the leaf hash does not cover. A
 * malicious watcher (monitor3) serves every precert entry with another,
 * well-formed precertificate (of another name): the bundle hashes to the
 * root, but it is refused, the peer dropped, and the data taken from the
 * honest peer — what the mirror stores and serves is the logger's bytes. */
static void test_planted_precert(void **state)
{
	(void)state;
	world w;
	open_world(&w, "monitor2", true);
	w.pb[mfx_idx("monitor3")][0].have = 5000;
	w.pb[mfx_idx("monitor3")][0].plant = true;
	w.pb[mfx_idx("monitor1")][0].have = 5000;
	give_sth(&w, 0, 1, 1100); /* 5 data tiles */
	run_until(&w, mfx_time(1, MFX_PERIOD - 1));
	assert_int_equal(w.held, 1);
	assert_int_equal(w.accused, 0);
	/* asked for the first window of tiles at once, then dropped */
	assert_true(w.planted_fetches > 0 && w.planted_fetches <= 4);
	check_mirror(&w, 0, 1100); /* the logger's precertificates */
	close_world(&w, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_honest_incremental),
	    cmocka_unit_test(test_signed_wrong_roots_make_a_data_con),
	    cmocka_unit_test(test_hidden_entry_accused),
	    cmocka_unit_test(test_bad_sources),
	    cmocka_unit_test(test_not_watched_prefers_peers),
	    cmocka_unit_test(test_hanging_peer),
	    cmocka_unit_test(test_store_failed_no_held),
	    cmocka_unit_test(test_not_sent_no_blame),
	    cmocka_unit_test(test_planted_precert),
	    cmocka_unit_test(test_kill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
