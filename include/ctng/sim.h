/*
 * ctng/sim.h — `ctng sim`: the real logger, CA, monitor and gossiper logic
 * (the state machines and cryptography of the daemons) for any number of
 * nodes in one process, on a virtual clock and a simulated network, driven
 * by a scenario. A run is reproducible from its seed: the same scenario and
 * seed give the same events and the same output, byte for byte.
 * docs/sim.md describes the scenario file, the network and cost models and
 * the output.
 *
 * Memory: a scenario owns every string and array it points to; release with
 * ctng_sim_scenario_free. Errors: CTNG_EINVAL (malformed scenario, message
 * names the member), CTNG_ENOTFOUND (no such shipped scenario or file),
 * CTNG_ESTATE (the process drew randomness before the run could make it
 * reproducible), CTNG_ENOMEM, CTNG_EIO.
 */
#ifndef CTNG_SIM_H
#define CTNG_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctng/base.h"
#include "ctng/meter.h"

/* A distribution of milliseconds: fixed (a), uniform (a..b), normal (mean a,
 * deviation b, cut at 0), lognormal (median a, sigma b), exponential (mean
 * a), pareto (scale a, shape b). */
typedef enum ctng_sim_dist_kind {
	CTNG_SIM_FIXED = 0,
	CTNG_SIM_UNIFORM,
	CTNG_SIM_NORMAL,
	CTNG_SIM_LOGNORMAL,
	CTNG_SIM_EXPONENTIAL,
	CTNG_SIM_PARETO,
} ctng_sim_dist_kind;

typedef struct ctng_sim_dist {
	ctng_sim_dist_kind kind;
	double a, b;
} ctng_sim_dist;

/* A moment of the run: `offset_ms` after the start of its k-th period
 * (k = 0 is the first simulated period). */
typedef struct ctng_sim_when {
	uint64_t period;
	uint64_t offset_ms;
} ctng_sim_when;

/* Misbehaviour of one logger or CA (the faults `ctng testnet` knows). */
typedef struct ctng_sim_fault {
	char *id;
	bool split_view;
	char **split_targets; /* monitors shown the other view; none: alternate */
	size_t n_split_targets;
	bool silent;
	uint32_t answer_periods_mod; /* answers only when period % mod == 0 */
	bool hide_entry;             /* logger: never serves entry hidden_index's data */
	uint64_t hidden_index;
	bool wrong_data; /* logger: serves altered entries and signs their tile roots */
} ctng_sim_fault;

/* How monitors mirror the logs (docs/sim.md §Mirrors). */
typedef enum ctng_sim_mirror_mode {
	CTNG_SIM_MIRROR_REAL = 0, /* each monitor keeps its mirror (in-memory SQLite) */
	CTNG_SIM_MIRROR_CHARGED,  /* nothing stored; peers answer from the logger's tiles */
} ctng_sim_mirror_mode;

/* Between `from` and `until` no message passes between nodes of different
 * groups (nodes of no group reach everyone). */
typedef struct ctng_sim_partition {
	char ***groups; /* groups[g][i], n_members[g] of them */
	size_t *n_members;
	size_t n_groups;
	ctng_sim_when from, until;
	bool heals; /* false: until the end */
} ctng_sim_partition;

/* The nodes crash at `at` (state in memory lost, stored state kept) and
 * start again at `restart` (when restarts). */
typedef struct ctng_sim_crash {
	char **ids;
	size_t n_ids;
	ctng_sim_when at, restart;
	bool restarts;
} ctng_sim_crash;

/* What every running gossiper must count in one period (-1: not checked). */
typedef struct ctng_sim_expect {
	int sth_full, rev_full, acc_full, acc;
} ctng_sim_expect;

/* Charged CPU time per operation, microseconds (docs/sim.md §Costs). */
typedef struct ctng_sim_costs {
	double op_us[CTNG_METER_OPS]; /* per ctng_meter_op */
	double object_us;             /* per gossip object handled (decode, hash, state) */
	double store_us;              /* per event that writes the node's database */
	double byte_ns;               /* per body byte received or sent */
	double entry_us;              /* per log entry a mirror verifies and stores */
} ctng_sim_costs;

/* The measured defaults (this machine, Release build; docs/sim.md). */
void ctng_sim_costs_default(ctng_sim_costs *c);

/* Most revoked RIDs a scenario's CRV may have (their delta fits one REV). */
#define CTNG_SIM_CRV_MAX_REVOKED 1000000u

typedef struct ctng_sim_scenario {
	char *name, *summary;
	/* network (ctng init's options) */
	uint32_t loggers, cas, monitors, threshold; /* threshold 0: floor(n/2)+1 */
	uint32_t watch, peers;                      /* 0: ctng init's defaults */
	uint64_t period_ms, query_offset_ms, gossip_wait_ms, update_offset_ms; /* 0: defaults */
	uint64_t periods;
	uint64_t seed;
	/* links */
	ctng_sim_dist latency;      /* one draw per directed link */
	ctng_sim_dist jitter;       /* one draw per message, added */
	ctng_sim_dist pair_latency; /* monitor <-> its gossiper */
	double bandwidth_mbps;      /* per node, each direction; 0 = unlimited */
	double loss;                /* probability that a request is lost */
	uint32_t overhead_bytes;    /* HTTP framing per message, for timing only */
	/* traffic: certificates requested per CA per period in the first
	 * traffic_periods periods; the first certificate of each CA is revoked
	 * once issued (as ctng testnet does) */
	uint32_t certs_per_ca, traffic_periods;
	bool revoke_first;
	/* mirrors */
	ctng_sim_mirror_mode mirror_mode;
	uint32_t entry_bytes; /* wire size of an entry in a data tile, at least (0: real) */
	/* CRV: each CA joins having issued crv_bits certificates (RIDs 0 ..
	 * crv_bits-1), crv_revoked of them revoked, drawn from the seed
	 * (ctng_ca_import_revocations); 0: none */
	uint32_t crv_bits, crv_revoked;
	/* entities */
	char **running; /* NULL: every entity */
	size_t n_running;
	ctng_sim_fault *faults;
	size_t n_faults;
	ctng_sim_partition *partitions;
	size_t n_partitions;
	ctng_sim_crash *crashes;
	size_t n_crashes;
	/* checks: derived from the topology and the faults unless given */
	bool check; /* false: no checks ("expect": "none") */
	ctng_sim_expect *expect; /* per period of the run, cycled; NULL: derive */
	size_t n_expect;
	int con_full_total; /* -1: derive */
	/* costs */
	ctng_sim_costs costs;
} ctng_sim_scenario;

/* A scenario with every default (the seed network, honest, 4 periods). */
int ctng_sim_scenario_new(ctng_sim_scenario **out, ctng_err *err);
/* Strict parse of a scenario file (docs/sim.md §Scenario); every member is
 * optional, unknown members are rejected. */
int ctng_sim_scenario_parse(const char *json, size_t len, ctng_sim_scenario **out, ctng_err *err);
/* A shipped scenario by name, or a file by path (anything with a '/' or
 * ending in ".json"). */
int ctng_sim_scenario_load(const char *name_or_path, ctng_sim_scenario **out, ctng_err *err);
void ctng_sim_scenario_free(ctng_sim_scenario *s); /* NULL is fine */
/* The shipped scenarios: name and JSON text (constant). */
size_t ctng_sim_shipped_count(void);
const char *ctng_sim_shipped_name(size_t i);
const char *ctng_sim_shipped_text(size_t i);

/* ------------------------------------------------------------------ runs */

typedef struct ctng_sim_opts {
	bool json;       /* one JSON object per period and gossiper, then the result */
	bool quiet;      /* only the summary line (text mode) */
	bool memo;       /* remember verification results (ctng/meter.h); default on */
	bool cpu_wall;   /* charge the measured thread CPU time instead of the cost
	                  * table (not reproducible) */
	FILE *out;       /* NULL = stdout */
	FILE *progress;  /* the wall-clock line; NULL = stderr */
	const char *network_dir; /* run this folder (ctng init's) instead of a new one */
	FILE *trace;     /* every message sent: "ms src -> dst what bytes"; NULL = none */
} ctng_sim_opts;

void ctng_sim_opts_default(ctng_sim_opts *o);

/* Figures of a whole run (what ctng sim sweep tabulates). */
typedef struct ctng_sim_summary {
	uint64_t gossipers, periods;
	double conv_ms_avg, conv_ms_max;  /* last FULL at a monitor, after the gossip wait */
	/* per period, the slowest monitor: its last STH_FULL and its mirror's
	 * last HELD, ms after the period start (average over periods, max) */
	double sth_full_ms_avg, sth_full_ms_max;
	double held_ms_avg, held_ms_max;
	double bytes_avg, bytes_max;      /* gossip traffic per gossiper per period, in+out */
	double cpu_ms_avg, cpu_ms_max;    /* CPU charged per gossiper per period */
	double bls_verify_avg;            /* BLS verifications per gossiper per period */
	double update_bytes_avg;          /* client update size */
	double total_bytes_per_period;    /* all gossiper traffic (in+out)/2 */
	double sim_seconds, wall_seconds; /* simulated and real time of the run */
	size_t failures;
} ctng_sim_summary;

/* Runs the scenario: prints (per o) and fills *sum (may be NULL). Returns 0
 * when every check held, 1 when some did not, or a negative CTNG_E* code. */
int ctng_sim_run(const ctng_sim_scenario *s, const ctng_sim_opts *o, ctng_sim_summary *sum,
                 ctng_err *err);

/* Makes the process's random numbers follow `seed` (docs/sim.md
 * §Determinism). Must come before anything draws randomness; a second call
 * reseeds. CTNG_ESTATE if OpenSSL's generators already existed. */
int ctng_sim_deterministic(uint64_t seed, ctng_err *err);

#endif
