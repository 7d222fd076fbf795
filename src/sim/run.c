/*
 * run.c — one simulation run: makes (or loads) the network folder with
 * ctng init's generator, loads every node's keys, wraps each entity in its
 * node (node_*.c), schedules the period clock, the queries, updates, reads,
 * traffic, crashes and restarts, and runs the event loop on the virtual
 * clock, charging every node's CPU from the meter (docs/sim.md §Costs).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim_internal.h"

void ctng_sim_opts_default(ctng_sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->memo = true;
}

int ctng_sim_deterministic(uint64_t seed, ctng_err *err)
{
	return sim_detrand_install(seed, err);
}

uint64_t sim_period_start_us(const sim *s, uint64_t p)
{
	return p * s->net.clock.period_ms * 1000;
}

size_t sim_k_at(const sim *s, uint64_t t)
{
	uint64_t k = t / (s->net.clock.period_ms * 1000);
	return k < s->periods ? (size_t)k : (size_t)s->periods - 1;
}

sim_stats *sim_stats_at(sim *s, sim_node *n, uint64_t t)
{
	return &n->stats[sim_k_at(s, t)];
}

sim_node *sim_node_by_id(sim *s, const char *id)
{
	const ctng_entity *e = id ? ctng_network_entity(&s->net, id) : NULL;
	return e ? &s->nodes[e - s->net.entities] : NULL;
}

void sim_fail(sim *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ctng_buf_printf(&s->failures, "%s\n", line);
	s->n_failures++;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sim_begin(sim *s, sim_node *n, sim_mark *mark)
{
	memcpy(mark->ops, s->meter.ops, sizeof(mark->ops));
	mark->start = s->now > n->busy_until ? s->now : n->busy_until;
	mark->cpu_ns = s->opts->cpu_wall ? thread_cpu_ns() : 0;
}

uint64_t sim_end(sim *s, sim_node *n, const sim_mark *mark, size_t objects, size_t bytes)
{
	sim_stats *st = sim_stats_at(s, n, mark->start);
	double us = 0;
	for (int i = 0; i < CTNG_METER_OPS; i++) {
		uint64_t d = s->meter.ops[i] - mark->ops[i];
		st->ops[i] += d;
		us += (double)d * s->costs.op_us[i];
	}
	us += (double)objects * s->costs.object_us + (double)bytes * s->costs.byte_ns / 1000.0;
	if (s->opts->cpu_wall)
		us = (double)(thread_cpu_ns() - mark->cpu_ns) / 1000.0;
	uint64_t c = (uint64_t)(us + 0.5);
	st->cpu_us += c;
	n->busy_until = mark->start + c;
	return n->busy_until;
}

uint64_t sim_store_commit(sim *s, sim_node *n, uint64_t done)
{
	uint64_t c = (uint64_t)(s->costs.store_us + 0.5);
	if (!c)
		return done;
	sim_stats_at(s, n, done)->cpu_us += c;
	n->busy_until = done + c;
	return n->busy_until;
}

int sim_keep(sim_node *n, const ctng_gossip_object *o)
{
	char *json = NULL;
	size_t len = 0;
	if (ctng_gossip_encode(o, &json, &len, NULL))
		return CTNG_ENOMEM;
	if (n->n_kept == n->cap_kept) {
		size_t nc = n->cap_kept ? 2 * n->cap_kept : 32;
		char **v = realloc(n->kept, nc * sizeof(*v));
		if (!v) {
			free(json);
			return CTNG_ENOMEM;
		}
		n->kept = v;
		n->cap_kept = nc;
	}
	n->kept[n->n_kept++] = json;
	return 0;
}

void sim_kept_free(sim_node *n)
{
	for (size_t i = 0; i < n->n_kept; i++)
		free(n->kept[i]);
	free(n->kept);
	for (size_t i = 0; i < n->n_kept_kv; i++)
		free(n->kept_kv[i]);
	free(n->kept_kv);
}

/* ------------------------------------------------------------- network */

static int make_network(sim *s, ctng_err *err)
{
	const ctng_sim_scenario *sc = s->sc;
	int rc;
	if (s->opts->network_dir) {
		snprintf(s->dir, sizeof s->dir, "%s", s->opts->network_dir);
	} else {
		snprintf(s->dir, sizeof s->dir, "/tmp/ctng-sim-XXXXXX");
		if (!mkdtemp(s->dir))
			return ctng_err_set(err, CTNG_EIO, "cannot create a folder under /tmp");
		s->own_dir = true;
		ctng_init_opts io;
		ctng_init_opts_default(&io);
		io.genesis_ms = SIM_GENESIS_MS;
		io.now_ms = SIM_GENESIS_MS;
		io.period_ms = sc->period_ms;
		io.query_offset_ms = sc->query_offset_ms;
		io.gossip_wait_ms = sc->gossip_wait_ms;
		io.update_offset_ms = sc->update_offset_ms;
		io.loggers = sc->loggers;
		io.cas = sc->cas;
		io.monitors = sc->monitors;
		io.threshold = sc->threshold ? sc->threshold : sc->monitors / 2 + 1;
		io.watch = sc->watch;
		io.peers = sc->peers;
		io.port_base = 20000;
		if ((rc = ctng_init_network(s->dir, &io, err)))
			return rc;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/network.json", s->dir);
	return ctng_network_load(path, &s->net, err);
}

static bool runs(const ctng_sim_scenario *sc, const char *id)
{
	if (!sc->running)
		return true;
	for (size_t i = 0; i < sc->n_running; i++)
		if (strcmp(sc->running[i], id) == 0)
			return true;
	return false;
}

static int apply_fault(ctng_node_config *cfg, const ctng_sim_fault *f)
{
	ctng_misbehaviour *m = &cfg->misbehaviour;
	m->present = true;
	m->split_view = f->split_view;
	m->silent = f->silent;
	m->answer_periods_mod = f->answer_periods_mod;
	m->hide_entry = f->hide_entry;
	m->hidden_index = f->hidden_index;
	m->wrong_data = f->wrong_data;
	if (f->n_split_targets) {
		m->split_targets = calloc(f->n_split_targets, sizeof(char *));
		if (!m->split_targets)
			return CTNG_ENOMEM;
		for (size_t i = 0; i < f->n_split_targets; i++) {
			if (!(m->split_targets[i] = strdup(f->split_targets[i])))
				return CTNG_ENOMEM;
			m->n_split_targets = i + 1;
		}
	}
	return 0;
}

static int make_nodes(sim *s, ctng_err *err)
{
	s->n_nodes = s->net.n_entities;
	s->nodes = calloc(s->n_nodes, sizeof(*s->nodes));
	s->gossipers = calloc(s->n_nodes, sizeof(*s->gossipers));
	if (!s->nodes || !s->gossipers)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n_nodes; i++) {
		sim_node *n = &s->nodes[i];
		n->index = i;
		n->e = &s->net.entities[i];
		n->partner = SIZE_MAX;
		n->up = true;
		n->running = runs(s->sc, n->e->id);
		if (!(n->stats = calloc(s->periods, sizeof(*n->stats))))
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		char path[4200];
		snprintf(path, sizeof path, "%s/%s/config.json", s->dir, n->e->id);
		int rc = ctng_node_config_load_shared(path, &s->net, &n->cfg, err);
		if (rc)
			return rc;
		for (size_t f = 0; f < s->sc->n_faults; f++)
			if (strcmp(s->sc->faults[f].id, n->e->id) == 0 &&
			    apply_fault(&n->cfg, &s->sc->faults[f]))
				return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		const char *pid = n->e->role == CTNG_ROLE_MONITOR    ? n->e->gossiper
		                  : n->e->role == CTNG_ROLE_GOSSIPER ? n->e->monitor
		                                                     : NULL;
		const ctng_entity *pe = pid ? ctng_network_entity(&s->net, pid) : NULL;
		if (pe)
			n->partner = (size_t)(pe - s->net.entities);
		if (n->e->role == CTNG_ROLE_GOSSIPER && n->running)
			s->gossipers[s->n_gossipers++] = i;
	}
	for (size_t f = 0; f < s->sc->n_faults; f++)
		if (!ctng_network_entity(&s->net, s->sc->faults[f].id))
			return ctng_err_set(err, CTNG_EINVAL, "faults: no entity \"%s\" in the network",
			                    s->sc->faults[f].id);
	return 0;
}

static int start_nodes(sim *s, ctng_err *err)
{
	static const ctng_role order[] = {CTNG_ROLE_LOGGER, CTNG_ROLE_CA, CTNG_ROLE_MONITOR,
	                                  CTNG_ROLE_GOSSIPER};
	for (size_t r = 0; r < 4; r++)
		for (size_t i = 0; i < s->n_nodes; i++) {
			sim_node *n = &s->nodes[i];
			if (!n->running || n->e->role != order[r])
				continue;
			int rc = order[r] == CTNG_ROLE_LOGGER  ? sim_logger_start(s, n, err)
			         : order[r] == CTNG_ROLE_CA    ? sim_ca_start(s, n, err)
			         : order[r] == CTNG_ROLE_MONITOR ? sim_monitor_start(s, n, false, err)
			                                         : sim_gossiper_start(s, n, false, err);
			if (rc)
				return rc;
		}
	return 0;
}

static uint64_t when_us(const sim *s, const ctng_sim_when *w)
{
	return sim_period_start_us(s, w->period) + w->offset_ms * 1000;
}

static int schedule(sim *s)
{
	const ctng_clock *c = &s->net.clock;
	int rc = 0;
	for (uint64_t k = 0; k < s->periods && !rc; k++) {
		uint64_t st = sim_period_start_us(s, k);
		rc = sim_queue_push(&s->q, st, EV_PERIOD, SIZE_MAX, k, NULL);
		if (s->sc->certs_per_ca || s->sc->revoke_first)
			rc = rc ? rc
			        : sim_queue_push(&s->q, st + c->query_offset_ms * 500, EV_TRAFFIC,
			                         SIZE_MAX, k, NULL);
		for (size_t i = 0; i < s->n_nodes && !rc; i++) {
			if (!s->nodes[i].running || s->nodes[i].e->role != CTNG_ROLE_MONITOR)
				continue;
			rc = sim_queue_push(&s->q, st + c->query_offset_ms * 1000, EV_QUERY, i, k,
			                    NULL);
			rc = rc ? rc
			        : sim_queue_push(&s->q, st + c->update_offset_ms * 1000, EV_UPDATE, i,
			                         k, NULL);
		}
		uint64_t read = c->update_offset_ms + (c->period_ms - c->update_offset_ms) / 2;
		rc = rc ? rc : sim_queue_push(&s->q, st + read * 1000, EV_READ, SIZE_MAX, k, NULL);
	}
	for (size_t i = 0; i < s->sc->n_crashes && !rc; i++) {
		const ctng_sim_crash *cr = &s->sc->crashes[i];
		rc = sim_queue_push(&s->q, when_us(s, &cr->at), EV_CRASH, SIZE_MAX, i, NULL);
		if (!rc && cr->restarts)
			rc = sim_queue_push(&s->q, when_us(s, &cr->restart), EV_RESTART, SIZE_MAX, i,
			                    NULL);
	}
	uint64_t read = c->update_offset_ms + (c->period_ms - c->update_offset_ms) / 2;
	s->end = sim_period_start_us(s, s->periods - 1) + read * 1000;
	return rc ? CTNG_ENOMEM : 0;
}

/* ---------------------------------------------------------------- events */

static void on_period(sim *s, uint64_t k)
{
	for (size_t i = 0; i < s->n_nodes; i++) {
		sim_node *n = &s->nodes[i];
		if (!n->running || !n->up)
			continue;
		if (n->lg)
			sim_logger_period(s, n, k);
		else if (n->ca)
			sim_ca_period(s, n, k);
		else if (n->gos)
			sim_gossiper_period(s, n, k);
	}
}

static void on_read(sim *s, uint64_t k)
{
	for (size_t g = 0; g < s->n_gossipers; g++) {
		sim_node *n = &s->nodes[s->gossipers[g]];
		size_t cell = k * s->n_gossipers + g;
		s->counted[cell] = n->up && n->gos && ctng_gossiper_sm_counts(n->gos, k, s->counts[cell]);
		if (n->up && n->gos && !s->counted[cell])
			s->counted[cell] = true; /* nothing accepted in the period: all zero */
	}
	sim_report_period(s, (size_t)k);
}

static sim_node **crash_nodes(sim *s, const ctng_sim_crash *c, size_t *n)
{
	sim_node **v = calloc(c->n_ids ? c->n_ids : 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; v && i < c->n_ids; i++) {
		sim_node *x = sim_node_by_id(s, c->ids[i]);
		if (x && x->running)
			v[(*n)++] = x;
	}
	return v;
}

static void on_crash(sim *s, size_t ci, bool restart, ctng_err *err)
{
	const ctng_sim_crash *c = &s->sc->crashes[ci];
	size_t nn = 0;
	sim_node **v = crash_nodes(s, c, &nn);
	uint64_t k0 = sim_k_at(s, when_us(s, &c->at));
	uint64_t k1 = c->restarts ? sim_k_at(s, when_us(s, &c->restart)) : s->periods - 1;
	for (size_t i = 0; i < nn; i++) {
		sim_node *n = v[i];
		if (!restart) {
			if (!n->up)
				continue;
			n->up = false;
			for (uint64_t k = k0; k <= k1 && k < s->periods; k++)
				n->stats[k].down = true;
			if (n->gos)
				sim_gossiper_stop(n);
			if (n->mon)
				sim_monitor_stop(n);
			continue;
		}
		if (n->up)
			continue;
		n->up = true;
		n->epoch++;
		n->busy_until = n->up_free = n->down_free = s->now;
		int rc = 0;
		if (n->e->role == CTNG_ROLE_GOSSIPER)
			rc = sim_gossiper_start(s, n, true, err);
		else if (n->e->role == CTNG_ROLE_MONITOR)
			rc = sim_monitor_start(s, n, true, err);
		if (rc)
			sim_fail(s, "%s did not restart: %s", n->e->id, err->msg);
	}
	free(v);
}

static bool is_reply(sim_msg_kind k)
{
	return k == MSG_FETCH_REPLY || k == MSG_OBJECTS_REPLY || k == MSG_SUBMIT_REPLY ||
	       k == MSG_PROOF_REPLY || k == MSG_TILE_REPLY;
}

static void deliver(sim *s, sim_msg *m)
{
	sim_node *n = &s->nodes[m->dst];
	if (!n->running || !n->up) {
		if (!is_reply(m->kind) && m->kind != MSG_GOSSIP && m->kind != MSG_OBSERVATION) {
			/* went down while the request travelled: refused */
			sim_msg *r = sim_reply_new(m, 0, NULL);
			if (r)
				sim_send(s, r, s->now);
		}
		return;
	}
	if (is_reply(m->kind) && m->epoch != n->epoch)
		return; /* the asker restarted meanwhile */
	switch (n->e->role) {
	case CTNG_ROLE_LOGGER:
		sim_logger_deliver(s, n, m);
		break;
	case CTNG_ROLE_CA:
		sim_ca_deliver(s, n, m);
		break;
	case CTNG_ROLE_MONITOR:
		if (n->mon)
			sim_monitor_deliver(s, n, m);
		break;
	case CTNG_ROLE_GOSSIPER:
		if (n->gos)
			sim_gossiper_deliver(s, n, m);
		break;
	default:
		break;
	}
}

static void loop(sim *s, ctng_err *err)
{
	sim_event ev;
	while (sim_queue_pop(&s->q, &ev)) {
		if (ev.t > s->end) {
			if (ev.kind == EV_DELIVER)
				sim_msg_free(ev.p);
			continue;
		}
		s->now = ev.t;
		s->events++;
		sim_node *n = ev.node < s->n_nodes ? &s->nodes[ev.node] : NULL;
		switch (ev.kind) {
		case EV_DELIVER:
			deliver(s, ev.p);
			sim_msg_free(ev.p);
			break;
		case EV_NODE_TIMER:
			if (n->up && n->gos && ev.t == n->timer_at)
				sim_gossiper_timer(s, n);
			break;
		case EV_PERIOD:
			on_period(s, ev.arg);
			break;
		case EV_QUERY:
			if (n->up)
				sim_monitor_query(s, n, ev.arg);
			break;
		case EV_UPDATE:
			if (n->up)
				sim_monitor_update(s, n, ev.arg);
			break;
		case EV_READ:
			on_read(s, ev.arg);
			break;
		case EV_FETCH_TIMEOUT:
			if (n->up)
				sim_monitor_timeout(s, n, ev.arg);
			break;
		case EV_CA_ROUND:
			if (n->up)
				sim_ca_round(s, n, ev.arg);
			break;
		case EV_TRAFFIC:
			sim_traffic(s, ev.arg);
			break;
		case EV_CRASH:
		case EV_RESTART:
			on_crash(s, (size_t)ev.arg, ev.kind == EV_RESTART, err);
			break;
		case EV_MIRROR_TIMER:
			if (n->up && n->mir && ev.t == n->mir_timer_at)
				sim_mirror_timer(s, n);
			break;
		case EV_REQ_DONE:
			if (n->inflight && n->inflight[ev.arg])
				n->inflight[ev.arg]--;
			break;
		}
	}
}

/* Removes a folder this run made (depth 2: DIR/<id>/file). */
static void remove_dir(const char *dir)
{
	char cmd[4300];
	if (strncmp(dir, "/tmp/ctng-sim-", 14) != 0 || strchr(dir, '\''))
		return;
	snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		CTNG_WARN("cannot remove the simulation folder", "dir=%s", dir);
}

static void sim_free(sim *s)
{
	for (size_t i = 0; s->nodes && i < s->n_nodes; i++) {
		sim_node *n = &s->nodes[i];
		sim_gossiper_stop(n);
		sim_monitor_stop(n);
		sim_mirror_free(n);
		if (n->ca)
			sim_ca_stop(n);
		sim_logger_stop(n);
		free(n->calls);
		free(n->fetches);
		free(n->inflight);
		free(n->peer_node);
		free(n->stats);
		sim_kept_free(n);
		ctng_node_config_free(&n->cfg);
	}
	sim_event ev;
	while (sim_queue_pop(&s->q, &ev))
		if (ev.kind == EV_DELIVER)
			sim_msg_free(ev.p);
	sim_queue_free(&s->q);
	for (size_t i = 0; i < s->n_certs; i++)
		ctng_sig_key_free(s->certs[i].key);
	free(s->certs);
	free(s->nodes);
	free(s->gossipers);
	free(s->counts);
	free(s->counted);
	free(s->link_ms);
	ctng_meter_memo_free(s->meter.memo);
	ctng_buf_free(&s->failures);
	ctng_network_free(&s->net);
	if (s->own_dir)
		remove_dir(s->dir);
}

int ctng_sim_run(const ctng_sim_scenario *sc, const ctng_sim_opts *o, ctng_sim_summary *sum,
                 ctng_err *err)
{
	ctng_sim_opts dflt;
	if (!o) {
		ctng_sim_opts_default(&dflt);
		o = &dflt;
	}
	if (sum)
		memset(sum, 0, sizeof(*sum));
	if (sc->periods < 1 || sc->periods > 100000)
		return ctng_err_set(err, CTNG_EINVAL, "periods must be 1..100000");
	int rc = sim_detrand_install(sc->seed, err);
	if (rc)
		return rc;
	sim s;
	memset(&s, 0, sizeof(s));
	s.sc = sc;
	s.opts = o;
	s.costs = sc->costs;
	s.periods = sc->periods;
	s.wall_start_ns = ctng_mono_ns();
	sim_rng_seed(&s.link_rng, sc->seed, 1);
	sim_rng_seed(&s.loss_rng, sc->seed, 2);
	if (o->memo && !(s.meter.memo = ctng_meter_memo_new(1u << 20))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	ctng_meter *old = ctng_meter_use(&s.meter);
	bool tm = getenv("CTNG_SIM_PHASES") != NULL;
	uint64_t t0 = ctng_mono_ms();
	if (!(rc = make_network(&s, err)) && tm)
		fprintf(stderr, "phase network %llu ms\n", (unsigned long long)(ctng_mono_ms() - t0));
	if (!rc && !(rc = make_nodes(&s, err)) && tm)
		fprintf(stderr, "phase nodes %llu ms\n", (unsigned long long)(ctng_mono_ms() - t0));
	if (rc || (rc = sim_net_init(&s, err))) {
		ctng_meter_use(old);
		goto out;
	}
	s.counts = calloc(s.periods * (s.n_gossipers ? s.n_gossipers : 1), sizeof(*s.counts));
	s.counted = calloc(s.periods * (s.n_gossipers ? s.n_gossipers : 1), sizeof(*s.counted));
	if (!s.counts || !s.counted) {
		ctng_meter_use(old);
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = start_nodes(&s, err)) || (rc = schedule(&s))) {
		ctng_meter_use(old);
		goto out;
	}
	if (tm)
		fprintf(stderr, "phase start %llu ms\n", (unsigned long long)(ctng_mono_ms() - t0));
	loop(&s, err);
	if (tm)
		fprintf(stderr, "phase loop %llu ms\n", (unsigned long long)(ctng_mono_ms() - t0));
	ctng_meter_use(old);
	sim_check(&s);
	rc = sim_report_result(&s, sum);
out:
	sim_free(&s);
	return rc;
}
