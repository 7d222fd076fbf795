/*
 * scenario.c — the scenarios of `ctng testnet` (DESIGN §9) and the check of
 * what the gossipers counted against what each scenario must produce. Pure
 * logic: no files, processes or sockets.
 *
 * Topology (ctng init's default, the seed's): monitors 1 and 3 watch loggers
 * 1, 2 and CAs 1, 3; monitors 2 and 4 watch loggers 2, 3 and CAs 2, 3.
 */
#include <string.h>

#include "ctng/testnet.h"

static void expect_honest(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = 0};
}

/* Logger 1 convicted in the first period and never queried again. */
static void expect_split_logger(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 2, .rev_full = 3, .acc_full = 0, .acc = 0};
}

static void expect_split_ca(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 2, .acc_full = 0, .acc = 0};
}

/* Logger 3 and CA 2 never answer; monitors 2 and 4 watch both and accuse. */
static void expect_silent(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 2, .rev_full = 2, .acc_full = 2, .acc = 4};
}

/* Logger 2 and CA 3 answer only in even periods; all four monitors watch
 * both, so in odd periods each accuses both. */
static void expect_flaky(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)k;
	if (p % 2 == 0)
		*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = 0};
	else
		*e = (ctng_testnet_expect){.sth_full = 2, .rev_full = 2, .acc_full = 2, .acc = 8};
}

/* The seed's sample run: only logger 1, CA 1, monitors 1 and 3 and their
 * gossipers run; logger 1 splits its view. Per period: STH_FULL 0 (logger 1
 * convicted, logger 2 silent), REV_FULL 1, ACC_FULL 2 (logger 2 and CA 3),
 * ACC 4 (both monitors accuse both), CON_FULL exactly 1 over the run. */
static void expect_seed_sample(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 0, .rev_full = 1, .acc_full = 2, .acc = 4};
}

/* Logger 1 withholds entry 0 (the first certificate, submitted in the
 * run's first period): from the second period on no monitor can mirror its
 * tree, so no gossiper signs its STH, and all four monitors accuse it
 * ("data not served"). */
static void expect_hidden_entry(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p;
	if (k == 0)
		*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = 0};
	else
		*e = (ctng_testnet_expect){.sth_full = 2, .rev_full = 3, .acc_full = 1, .acc = 4};
}

/* Logger 1 serves altered entries and signs their tile roots: in the second
 * period every monitor proves it (a data CON), the gossipers make the
 * CON_FULL, and from then on it is convicted and never queried. */
static void expect_wrong_data(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p;
	if (k == 0)
		*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = 0};
	else
		*e = (ctng_testnet_expect){.sth_full = 2, .rev_full = 3, .acc_full = 0, .acc = 0};
}

static const ctng_testnet_fault hidden_entry_faults[] = {
    {.id = "logger1", .hide_entry = true, .hidden_index = 0},
};
static const ctng_testnet_fault wrong_data_faults[] = {
    {.id = "logger1", .wrong_data = true},
};
static const ctng_testnet_fault split_logger_faults[] = {
    {.id = "logger1", .split_view = true, .split_target = "monitor3"},
};
static const ctng_testnet_fault split_ca_faults[] = {
    {.id = "ca1", .split_view = true, .split_target = "monitor3"},
};
static const ctng_testnet_fault silent_faults[] = {
    {.id = "logger3", .silent = true},
    {.id = "ca2", .silent = true},
};
static const ctng_testnet_fault flaky_faults[] = {
    {.id = "logger2", .answer_periods_mod = 2},
    {.id = "ca3", .answer_periods_mod = 2},
};
/* Monitor1 accuses every entity it watches in every period and the next,
 * posting the ACCs to every gossiper (issue 10, defect 1). Its gossiper
 * believes it, nobody else does: no ACC_FULL, every count honest but ACC
 * (its four accusations of the current period are accepted and counted;
 * those of the next period are refused). */
static void expect_malicious_monitor(uint64_t p, size_t k, ctng_testnet_expect *e)
{
	(void)p, (void)k;
	*e = (ctng_testnet_expect){.sth_full = 3, .rev_full = 3, .acc_full = 0, .acc = 4};
}
static const ctng_testnet_fault malicious_monitor_faults[] = {
    {.id = "monitor1", .false_accuse = true},
};

/* Pair 3 runs ahead and pair 4 behind by the tolerated skew: nothing
 * changes. Monitor2 alone runs 6B (3/4 of a period) ahead, far beyond it:
 * it asks before any logger or CA published and accuses everyone, but its
 * ACCs and failures are for a period that has not begun anywhere else, its
 * own gossiper included, and are refused; it harms only its own relying
 * parties (not checked). */
static const ctng_testnet_fault skewed_faults[] = {
    {.id = "monitor3", .skew_permille = 1000},  {.id = "gossiper3", .skew_permille = 1000},
    {.id = "monitor4", .skew_permille = -1000}, {.id = "gossiper4", .skew_permille = -1000},
    {.id = "monitor2", .skew_permille = 6000},
};
static const char *const skewed_client_skip[] = {"monitor2", NULL};

static const char *const seed_running[] = {"logger1",   "ca1",       "monitor1", "monitor3",
                                           "gossiper1", "gossiper3", NULL};

static const char *const restart_kill[] = {"monitor2", "gossiper2", NULL};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const ctng_testnet_scenario scenarios[] = {
    {"honest", "every entity honest", NULL, NULL, 0, expect_honest, 0, NULL, 0, NULL, 0, NULL, false, NULL, NULL},
    {"split-logger", "logger1 shows monitor3 a different STH", NULL, split_logger_faults,
     N(split_logger_faults), expect_split_logger, 1, NULL, 0, NULL, 0, NULL, false, NULL, NULL},
    {"split-ca", "ca1 shows monitor3 a different REV", NULL, split_ca_faults, N(split_ca_faults),
     expect_split_ca, 1, NULL, 0, NULL, 0, NULL, false, NULL, NULL},
    {"silent", "logger3 and ca2 never answer", NULL, silent_faults, N(silent_faults), expect_silent,
     0, NULL, 0, NULL, 0, NULL, false, NULL, NULL},
    {"flaky", "logger2 and ca3 answer only in even periods", NULL, flaky_faults, N(flaky_faults),
     expect_flaky, 0, NULL, 0, NULL, 0, NULL, false, NULL, NULL},
    {"seed-sample",
     "the seed's sample run: logger1, ca1, monitors/gossipers 1 and 3; logger1 splits",
     seed_running, split_logger_faults, N(split_logger_faults), expect_seed_sample, 1, NULL, 0, NULL, 0, NULL, false, NULL, NULL},
    {"restart", "honest, but monitor2 and gossiper2 are killed mid-period and restarted", NULL,
     NULL, 0, expect_honest, 0, restart_kill, 1, NULL, 0, NULL, false, NULL, NULL},
    {"malicious-monitor",
     "monitor1 accuses every entity it watches, now and for the next period, to every gossiper",
     NULL, malicious_monitor_faults, N(malicious_monitor_faults), expect_malicious_monitor, 0,
     NULL, 0, NULL, 0, NULL, true, NULL, NULL},
    {"skewed-monitor",
     "pairs 3 and 4 run ahead/behind by the tolerated skew, monitor2 3/4 of a period ahead", NULL,
     skewed_faults, N(skewed_faults), expect_honest, 0, NULL, 0, NULL, 0, NULL, true,
     skewed_client_skip, NULL},
    {"hidden-entry", "logger1 signs STHs over an entry it never serves", NULL, hidden_entry_faults,
     N(hidden_entry_faults), expect_hidden_entry, 0, NULL, 0, NULL, 0, NULL, true, NULL, NULL},
    {"wrong-data", "logger1 serves entries that are not its signed tree", NULL, wrong_data_faults,
     N(wrong_data_faults), expect_wrong_data, 1, NULL, 0, NULL, 0, NULL, true, NULL, NULL},
};

size_t ctng_testnet_scenario_count(void)
{
	return N(scenarios);
}

const ctng_testnet_scenario *ctng_testnet_scenario_at(size_t i)
{
	return i < N(scenarios) ? &scenarios[i] : NULL;
}

const ctng_testnet_scenario *ctng_testnet_scenario_find(const char *name)
{
	for (size_t i = 0; name && i < N(scenarios); i++)
		if (strcmp(scenarios[i].name, name) == 0)
			return &scenarios[i];
	return NULL;
}

bool ctng_testnet_runs(const ctng_testnet_scenario *s, const char *id)
{
	if (!s->running)
		return true;
	for (const char *const *r = s->running; *r; r++)
		if (strcmp(*r, id) == 0)
			return true;
	return false;
}

bool ctng_testnet_killed(const ctng_testnet_scenario *s, const char *id)
{
	for (const char *const *r = s->kill; r && *r; r++)
		if (strcmp(*r, id) == 0)
			return true;
	return false;
}

bool ctng_testnet_unchecked(const ctng_testnet_scenario *s, const ctng_network *net,
                            const char *id)
{
	const ctng_entity *e = ctng_network_entity(net, id);
	const char *pair = !e                              ? NULL
	                   : e->role == CTNG_ROLE_MONITOR  ? e->gossiper
	                   : e->role == CTNG_ROLE_GOSSIPER ? e->monitor
	                                                   : NULL;
	for (const char *const *r = s->unchecked; r && *r; r++)
		if (strcmp(*r, id) == 0 || (pair && strcmp(*r, pair) == 0))
			return true;
	return false;
}

int ctng_testnet_type_index(enum ctng_type t)
{
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		if (ctng_all_types[i] == t)
			return i;
	return -1;
}

static void check_one(ctng_buf *f, size_t *fails, const ctng_testnet_cell *c, const char *g,
                      enum ctng_type t, int want)
{
	if (want < 0)
		return;
	uint64_t got = c->counts[ctng_testnet_type_index(t)];
	if (got != (uint64_t)want) {
		ctng_buf_printf(f, "period %llu %s: %s %llu, want %d\n",
		                (unsigned long long)c->period, g, ctng_type_name(t),
		                (unsigned long long)got, want);
		(*fails)++;
	}
}

typedef void (*expect_fn)(const ctng_testnet_scenario *s, const ctng_network *net,
                          uint64_t period, size_t k, ctng_testnet_expect *out);

static void table_expect(const ctng_testnet_scenario *s, const ctng_network *net, uint64_t period,
                         size_t k, ctng_testnet_expect *out)
{
	(void)net;
	s->expect(period, k, out);
}

static size_t check(const ctng_testnet_scenario *s, const ctng_network *net, expect_fn expect,
                    int con_full_total, const ctng_testnet_obs *obs, ctng_buf *failures)
{
	size_t fails = 0;
	int con_idx = ctng_testnet_type_index(CTNG_CON_FULL);
	for (size_t g = 0; g < obs->n_gossipers; g++) {
		const char *gid = obs->gossipers[g];
		uint64_t con_total = 0, held = 0;
		bool skipped = false;
		bool skip = false;
		for (const char *const *r = s->unchecked; r && *r; r++)
			skip |= strcmp(*r, gid) == 0;
		if (skip)
			continue; /* set to misbehave beyond the protocol's tolerance */
		for (size_t k = 0; k < obs->n_periods; k++) {
			const ctng_testnet_cell *c = &obs->cells[k * obs->n_gossipers + g];
			if (c->skip || (k == s->kill_k && ctng_testnet_killed(s, gid))) {
				skipped = true;
				continue; /* down for part of this period by design */
			}
			if (!c->ok) {
				ctng_buf_printf(failures, "period %llu %s: no counts (no answer)\n",
				                (unsigned long long)c->period, gid);
				fails++;
				continue;
			}
			ctng_testnet_expect e;
			if (s->expect_gossiper)
				s->expect_gossiper(c->period, k, gid, &e);
			else
				expect(s, net, c->period, k, &e);
			check_one(failures, &fails, c, gid, CTNG_STH_FULL, e.sth_full);
			check_one(failures, &fails, c, gid, CTNG_REV_FULL, e.rev_full);
			check_one(failures, &fails, c, gid, CTNG_ACC_FULL, e.acc_full);
			check_one(failures, &fails, c, gid, CTNG_ACC, e.acc);
			con_total += c->counts[con_idx];
			if (c->con_full_held)
				held = c->con_full_held;
		}
		/* a gossiper down by design may have missed the period of a CON_FULL */
		if (held > con_total)
			con_total = held; /* convicted before the run's first period */
		if (con_full_total >= 0 && !(skipped && con_total < (uint64_t)con_full_total) &&
		    con_total != (uint64_t)con_full_total) {
			ctng_buf_printf(failures, "run %s: CON_FULL %llu in total, want %d\n", gid,
			                (unsigned long long)con_total, con_full_total);
			fails++;
		}
	}
	return fails;
}

size_t ctng_testnet_check(const ctng_testnet_scenario *s, const ctng_testnet_obs *obs,
                          ctng_buf *failures)
{
	return check(s, NULL, table_expect, s->con_full_total, obs, failures);
}

static void derived_expect(const ctng_testnet_scenario *s, const ctng_network *net,
                           uint64_t period, size_t k, ctng_testnet_expect *out)
{
	if (s->n_table)
		*out = s->table[k % s->n_table];
	else
		ctng_testnet_derive(s, net, period, k, out);
}

size_t ctng_testnet_check_derived(const ctng_testnet_scenario *s, const ctng_network *net,
                                  const ctng_testnet_obs *obs, ctng_buf *failures)
{
	int con = s->con_full_total == CTNG_TESTNET_DERIVE ? ctng_testnet_derive_con_full(s, net)
	                                                   : s->con_full_total;
	return check(s, net, derived_expect, con, obs, failures);
}
