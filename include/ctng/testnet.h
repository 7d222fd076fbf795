/*
 * ctng/testnet.h — the local test network of DESIGN §9: the scenarios (who
 * runs, who misbehaves, what the gossipers must count), the check of observed
 * counts against a scenario's expectations, and the runner behind
 * `ctng testnet` that starts every entity as its own process on loopback.
 *
 * The scenario table and ctng_testnet_check are pure (no I/O), so tests can
 * feed them any counts. ctng_testnet_run does the I/O: files, processes, HTTP.
 */
#ifndef CTNG_TESTNET_H
#define CTNG_TESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"

struct json_t;

/* A scenario's fault for one entity (ids as ctng init names them). */
typedef struct ctng_testnet_fault {
	const char *id;
	bool split_view;
	const char *split_target; /* monitor that gets the alternative view */
	const char *const *split_targets; /* more of them (NULL-terminated), or NULL */
	bool silent;
	uint32_t answer_periods_mod;
	bool false_accuse; /* monitor: the false-accusation attack (docs/config.md) */
	/* Clock offset of the process, in thousandths of the tolerated skew
	 * (ctng_clock_skew_ms): +1000 = ahead by exactly the bound. The process
	 * runs under faketime(1). 0 = the real clock. */
	int skew_permille;
	bool hide_entry; /* logger: never serve entry hidden_index's data */
	uint64_t hidden_index;
	bool wrong_data; /* logger: serve altered entries, sign their tile roots */
} ctng_testnet_fault;

/* What every running gossiper must count in one period. -1 = not checked. */
typedef struct ctng_testnet_expect {
	int sth_full, rev_full, acc_full, acc;
} ctng_testnet_expect;

typedef struct ctng_testnet_scenario {
	const char *name;
	const char *summary;
	const char *const *running; /* NULL-terminated ids; NULL = every entity */
	const ctng_testnet_fault *faults;
	size_t n_faults;
	/* Expectations for the k-th period of the run (k = 0 first). */
	void (*expect)(uint64_t period, size_t k, ctng_testnet_expect *out);
	int con_full_total; /* CON_FULLs over the whole run, per gossiper; -1 = any,
	                     * CTNG_TESTNET_DERIVE = derived (check_derived) */
	/* Crash test: these processes get SIGKILL in the middle of the run's
	 * period `kill_k` and are started again at the beginning of `kill_k + 1`.
	 * Their gossipers' counts for period kill_k are not checked; every other
	 * cell is. NULL = nothing is killed. */
	const char *const *kill;
	size_t kill_k;
	/* For ctng_testnet_check_derived: expectations per period of the run
	 * (cycled) instead of the derived ones; NULL = derive. */
	const ctng_testnet_expect *table;
	size_t n_table;
	/* Gossipers (and their monitors) whose counts and updates are not
	 * checked: nodes set to misbehave beyond what the protocol tolerates
	 * only harm themselves. NULL = check every one. */
	const char *const *unchecked;
	/* After the run, a relying party syncs from every checked monitor and
	 * must find every issued, unrevoked certificate valid. */
	bool check_clients;
	/* Monitors whose relying parties are not checked (cut off by design). */
	const char *const *client_skip;
	/* Per-gossiper expectations (period, k, gossiper id) instead of expect,
	 * for scenarios where some nodes are cut off (NULL = expect for all). */
	void (*expect_gossiper)(uint64_t period, size_t k, const char *gossiper,
	                        ctng_testnet_expect *out);
} ctng_testnet_scenario;
#define CTNG_TESTNET_DERIVE (-2)

/* The scenarios: honest, split-logger, split-ca, silent, flaky, seed-sample,
 * restart, malicious-monitor, skewed-monitor, hidden-entry, wrong-data. */
const ctng_testnet_scenario *ctng_testnet_scenario_find(const char *name);
size_t ctng_testnet_scenario_count(void);
const ctng_testnet_scenario *ctng_testnet_scenario_at(size_t i);
/* True if entity `id` runs in the scenario. */
bool ctng_testnet_runs(const ctng_testnet_scenario *s, const char *id);
/* True if entity `id` is killed during the scenario's crash test. */
bool ctng_testnet_killed(const ctng_testnet_scenario *s, const char *id);
/* True if gossiper or monitor `id` (or its pair) is in the scenario's
 * unchecked list. */
bool ctng_testnet_unchecked(const ctng_testnet_scenario *s, const ctng_network *net,
                            const char *id);

/* Counts one gossiper reported for one period, indexed like ctng_all_types. */
typedef struct ctng_testnet_cell {
	bool ok;   /* false: the gossiper did not answer */
	bool skip; /* not checked: the gossiper was down by design */
	uint64_t period;
	uint64_t counts[CTNG_TYPE_COUNT];
	/* CON_FULLs the gossiper holds, whatever their period (they are
	 * permanent; /ctng/v1/counts con_full_total), 0 = not reported: then
	 * the check sums the per-period CON_FULL counts of the run instead. A
	 * conviction made before the run's first period counts too. */
	uint64_t con_full_held;
} ctng_testnet_cell;

/* The observations of a run: cells[k * n_gossipers + g] for period k of the
 * run and the g-th running gossiper (ids in gossipers[]). */
typedef struct ctng_testnet_obs {
	size_t n_periods, n_gossipers;
	const char *const *gossipers;
	const ctng_testnet_cell *cells;
} ctng_testnet_obs;

/* Index of a type in ctng_all_types (-1 if invalid). */
int ctng_testnet_type_index(enum ctng_type t);

/* Compares the observations with the scenario. Each failure is appended to
 * `failures` as one line ("period 3 gossiper1: STH_FULL 1, want 3").
 * Returns the number of failures (0 = pass). */
size_t ctng_testnet_check(const ctng_testnet_scenario *s, const ctng_testnet_obs *obs,
                          ctng_buf *failures);

/* Expectations derived from a network's topology and the scenario's faults
 * and running entities instead of the scenario's table (docs/testnet.md
 * §Derived checks), for networks of any size: per logger (CA) watched by a
 * running monitor-gossiper pair, with at least threshold gossipers running,
 * one STH_FULL (REV_FULL) when it answers; when it is silent in the period,
 * one ACC per watcher and one ACC_FULL when the accusation can gather
 * threshold FRAGs; when it splits its view between two watchers, one CON_FULL
 * in the run's first period and nothing afterwards (convicted, not queried).
 * k is the index of the period in the run. */
void ctng_testnet_derive(const ctng_testnet_scenario *s, const ctng_network *net,
                         uint64_t period, size_t k, ctng_testnet_expect *out);
/* CON_FULLs each gossiper must count over the run (entities convicted). */
int ctng_testnet_derive_con_full(const ctng_testnet_scenario *s, const ctng_network *net);
/* ctng_testnet_check with the derived expectations (or s->table when set;
 * s->expect is not used), and s->con_full_total unless it is
 * CTNG_TESTNET_DERIVE. */
size_t ctng_testnet_check_derived(const ctng_testnet_scenario *s, const ctng_network *net,
                                  const ctng_testnet_obs *obs, ctng_buf *failures);

/* Options of ctng_testnet_run (ctng testnet's flags). */
typedef struct ctng_testnet_opts {
	const char *scenario;    /* default "honest" */
	uint64_t periods;        /* default 4 */
	uint64_t period_ms;      /* default 2000 (used when a network is made) */
	const char *dir;         /* NULL: a fresh folder under /tmp */
	/* A network folder `ctng init` wrote, of any size and topology: run as
	 * it is (its ports, its clock), checked with the expectations derived
	 * from its topology (ctng_testnet_check_derived) instead of the
	 * scenario's seed table. Overrides dir. */
	const char *network;
	bool json;               /* one JSON object per line instead of the table */
	uint16_t port_base;      /* default 9000 (the seed's ports) */
	const char *self_exe;    /* path of the ctng binary to start; NULL = /proc/self/exe */
	bool drive_traffic;      /* request and revoke certificates through the CAs */
	bool dealer;             /* a fresh network's BLS shares dealt by ctng init
	                          * instead of made by the gossipers' DKG */
	size_t load;             /* extra precertificates per period to every logger (bench) */
	bool tls;                /* a new network speaks HTTPS (ctng init --tls) */
	FILE *out;               /* where the table or JSON goes; NULL = stdout */
	/* For harnesses (tests/integration/test_netns.c): a scenario not in the
	 * table (checked with its own expectations, also with `network`); an
	 * argv prefix for starting an entity (e.g. {"ip", "netns", "exec", NS,
	 * NULL}; NULL = none; it must exec, not fork, the daemon); a call at the
	 * start of each period of the run (k = its index), before the monitors
	 * query. */
	const ctng_testnet_scenario *scenario_def;
	const char *const *(*wrap)(const ctng_entity *e, void *arg);
	void (*on_period)(uint64_t k, uint64_t period, void *arg);
	void *hook_arg;
	struct json_t **figures; /* if set and the run completes: the figures
	                          * object (caller json_decref's) */
} ctng_testnet_opts;

void ctng_testnet_opts_default(ctng_testnet_opts *o);

/* Runs the scenario end to end, printing to stdout. Returns 0 when every check
 * held, 1 when some did not, or a negative CTNG_E* code (err filled) when the
 * network could not be run at all. Stops every process it started, also on
 * SIGINT/SIGTERM (then it returns CTNG_ESTATE). */
int ctng_testnet_run(const ctng_testnet_opts *o, ctng_err *err);

#endif
