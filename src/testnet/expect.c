/*
 * expect.c — what a network must count, derived from its topology (who
 * watches whom, who runs, the threshold) and a scenario's faults, so the
 * scenarios of `ctng testnet` check networks of any size (testnet
 * --network, ctng sim). Pure logic. On the seed network the result equals
 * the scenario tables of scenario.c (tests/testnet/test_scenario.c).
 */
#include <string.h>

#include "ctng/testnet.h"

static const ctng_testnet_fault *fault_of(const ctng_testnet_scenario *s, const char *id)
{
	for (size_t i = 0; i < s->n_faults; i++)
		if (strcmp(s->faults[i].id, id) == 0)
			return &s->faults[i];
	return NULL;
}

static bool is_target(const ctng_testnet_fault *f, const char *monitor)
{
	if (f->split_target && strcmp(f->split_target, monitor) == 0)
		return true;
	for (const char *const *t = f->split_targets; t && *t; t++)
		if (strcmp(*t, monitor) == 0)
			return true;
	return false;
}

static bool has_targets(const ctng_testnet_fault *f)
{
	return f->split_target || (f->split_targets && f->split_targets[0]);
}

/* Running monitors (with running gossipers) that watch `e`; *mixed: some of
 * them get the entity's alternative view and some do not (a conflict the
 * gossipers see). */
static size_t watchers(const ctng_testnet_scenario *s, const ctng_network *net,
                       const ctng_entity *e, const ctng_testnet_fault *f, bool *mixed)
{
	size_t n = 0, targets = 0;
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *m = &net->entities[i];
		if (m->role != CTNG_ROLE_MONITOR || !ctng_testnet_runs(s, m->id) ||
		    !ctng_testnet_runs(s, m->gossiper) || !ctng_network_watches(net, m->id, e->id))
			continue;
		n++;
		targets += f && is_target(f, m->id);
	}
	*mixed = f && f->split_view &&
	         (has_targets(f) ? targets > 0 && targets < n : n >= 2 /* alternates */);
	return n;
}

static size_t running_gossipers(const ctng_testnet_scenario *s, const ctng_network *net)
{
	size_t n = 0;
	for (size_t i = 0; i < net->n_entities; i++)
		n += net->entities[i].role == CTNG_ROLE_GOSSIPER &&
		     ctng_testnet_runs(s, net->entities[i].id);
	return n;
}

/* Running monitor-gossiper pairs: every monitor mirrors every log, so all
 * of them find out when a logger withholds its entries (docs/mirror.md). */
static size_t mirrors(const ctng_testnet_scenario *s, const ctng_network *net)
{
	size_t n = 0;
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *m = &net->entities[i];
		n += m->role == CTNG_ROLE_MONITOR && ctng_testnet_runs(s, m->id) &&
		     ctng_testnet_runs(s, m->gossiper);
	}
	return n;
}

/* Whether an accusation by w watchers becomes an ACC_FULL: a gossiper signs
 * an ACC only when its own monitor failed (docs/gossiper.md §Accusations),
 * so it needs threshold watchers (running monitor-gossiper pairs). */
static bool acc_full_forms(size_t w, uint32_t t)
{
	return w >= t;
}

/* ACCs of the current period that false accusers (misbehaviour
 * false_accuse) send: one per entity each watches; the gossipers accept and
 * count them, and sign none (their next-period ACCs are refused). */
static int false_accusations(const ctng_testnet_scenario *s, const ctng_network *net)
{
	int n = 0;
	for (size_t i = 0; i < s->n_faults; i++) {
		const ctng_entity *m = ctng_network_entity(net, s->faults[i].id);
		if (s->faults[i].false_accuse && m && m->role == CTNG_ROLE_MONITOR &&
		    ctng_testnet_runs(s, m->id))
			n += (int)(m->n_loggers + m->n_cas);
	}
	return n;
}

void ctng_testnet_derive(const ctng_testnet_scenario *s, const ctng_network *net,
                         uint64_t period, size_t k, ctng_testnet_expect *out)
{
	*out = (ctng_testnet_expect){0, 0, 0, 0};
	size_t ng = running_gossipers(s, net);
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		if (e->role != CTNG_ROLE_LOGGER && e->role != CTNG_ROLE_CA)
			continue;
		const ctng_testnet_fault *f = fault_of(s, e->id);
		bool mixed = false;
		size_t w = watchers(s, net, e, f, &mixed);
		if (w == 0 || mixed)
			continue; /* nobody asks; or convicted (CON_FULL, not queried again) */
		bool silent = !ctng_testnet_runs(s, e->id) ||
		              (f && (f->silent || (f->answer_periods_mod &&
		                                   period % f->answer_periods_mod != 0)));
		/* The run's first period has no entries yet (the traffic starts
		 * in it): a logger misbehaving with its data shows from the second. */
		bool data_fault = f && (f->hide_entry || f->wrong_data) && k >= 1;
		if (data_fault && f->wrong_data) {
			/* k = 1: every mirror proves it (data CON), nobody signs its
			 * STH; later: convicted, not queried. */
			continue;
		}
		if (data_fault) {
			/* Withheld entries: every mirror accuses, nobody signs. */
			size_t m = mirrors(s, net);
			out->acc += (int)m;
			out->acc_full += acc_full_forms(m, net->threshold);
		} else if (silent) {
			out->acc += (int)w;
			out->acc_full += acc_full_forms(w, net->threshold);
		} else if (ng >= net->threshold) {
			if (e->role == CTNG_ROLE_LOGGER)
				out->sth_full++;
			else
				out->rev_full++;
		}
	}
	out->acc += false_accusations(s, net);
	(void)k;
}

int ctng_testnet_derive_con_full(const ctng_testnet_scenario *s, const ctng_network *net)
{
	int n = 0;
	if (running_gossipers(s, net) < net->threshold)
		return 0;
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		bool mixed = false;
		const ctng_testnet_fault *f = fault_of(s, e->id);
		if (e->role == CTNG_ROLE_LOGGER || e->role == CTNG_ROLE_CA)
			watchers(s, net, e, f, &mixed);
		n += mixed || (f && f->wrong_data && e->role == CTNG_ROLE_LOGGER); /* a data CON */
	}
	return n;
}
