/*
 * testnet_internal.h — pieces of `ctng testnet` shared between run.c (the
 * processes and the period loop) and traffic.c (what the run sends to the
 * network and measures: certificate requests and revocations, gossiper
 * counts, client update sizes).
 */
#ifndef CTNG_TESTNET_INTERNAL_H
#define CTNG_TESTNET_INTERNAL_H

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "ctng/ca.h"
#include "ctng/dkg.h"
#include "ctng/testnet.h"

#define TESTNET_MAX_CERTS 64

typedef struct testnet_cert {
	const ctng_entity *ca;
	char name[128]; /* the DNS name requested */
	char handle[128];
	char path[4096]; /* where the issued PEM was written */
	char key_path[4096];
	bool issued, revoked, revoke_sent;
	uint64_t requested_in, revoked_in;
} testnet_cert;

typedef struct testnet_traffic {
	const ctng_network *net;
	const char *dir;
	const char *exe; /* the ctng binary (for `ctng cert revoke`) */
	const char *tls_ca; /* https network: its test CA bundle, else NULL */
	const ctng_testnet_scenario *s;
	testnet_cert certs[TESTNET_MAX_CERTS];
	size_t n_certs;
	size_t requests_failed;
	uint64_t last_period; /* of testnet_traffic_period */
	/* figures */
	uint64_t update_bytes_max, update_bytes_sum, update_samples;
	uint64_t gossip_bytes_max; /* per gossiper per period, in+out, when reported */
	uint64_t gossip_bytes_sum, gossip_samples;
	/* bytes on the wire of each running gossiper process (its
	 * ctng_net_wire_bytes_total, in+out) at its first and latest reading,
	 * less the run's own polls of it (counts, the readings themselves:
	 * wire_own, from this process's side) */
	uint64_t wire_first[16], wire_last[16], wire_k_first[16], wire_k_last[16];
	uint64_t wire_own[16], wire_pending[16];
	bool wire_seen[16];
	uint64_t last_full_ms_max, last_full_ms_sum, last_full_samples; /* from monitor logs */
	/* mirrors: entries held (all loggers) per running monitor, per period */
	size_t n_mon;
	const ctng_entity *mon[16];
	uint64_t mirrored_prev[16];
	json_t *mirrored; /* {"monitor1": [n per period], ...} */
	uint64_t mirror_from_loggers[16], mirror_from_peers[16]; /* bytes, latest */
	/* the index: certificates per running monitor, per period; the final search */
	uint64_t indexed_prev[16];
	json_t *indexed; /* {"monitor1": [n per period], ...} */
	json_t *search;  /* {"domain","monitor","unwatched_logger","certificates":[...]} */
	ctng_buf failures; /* lines found while running */
	size_t n_failures;
} testnet_traffic;

/* Extra load (load.c): precertificates made in advance, per_period of them
 * submitted to every logger in each period. */
/* The load's RIDs: TESTNET_LOAD_RID_TOP, TESTNET_LOAD_RID_TOP - 1, ... (below
 * the split-view CA's bogus RID, far above any RID a CA of a run assigns). */
#define TESTNET_LOAD_RID_TOP (CTNG_CA_BOGUS_RID - 1)

typedef struct testnet_load {
	char **bodies; /* add-pre-chain bodies */
	size_t n_bodies, next, per_period;
	size_t submitted, failed;
} testnet_load;
int testnet_load_init(testnet_load *l, const ctng_network *net, const char *dir,
                      size_t per_period, uint64_t periods, ctng_err *err);
/* Submits the next per_period precertificates to every logger (blocking). */
void testnet_load_period(testnet_load *l, const ctng_network *net);
void testnet_load_free(testnet_load *l);

/* exe: the ctng binary the run starts (borrowed, outlives t). */
void testnet_traffic_init(testnet_traffic *t, const ctng_network *net, const char *dir,
                          const char *exe, const ctng_testnet_scenario *s);
/* Called early in period p (the k-th of the run): requests, polls, revokes. */
void testnet_traffic_period(testnet_traffic *t, uint64_t p, uint64_t k);
/* Called after the update time of period p (the k-th of the run): fetches
 * every running monitor's client update (its size is a figure; a missing
 * update is a failure unless the monitor was killed in that period). */
void testnet_collect_figures(testnet_traffic *t, uint64_t p, uint64_t k);
/* Appends failures about the traffic (e.g. no certificate issued); returns count. */
size_t testnet_traffic_check(const testnet_traffic *t, ctng_buf *failures);
/* A relying party per checked monitor (`ctng client sync`, state in the
 * run's folder) must find every issued, unrevoked certificate valid
 * (`ctng client verify`). Appends failures; returns their count. */
size_t testnet_check_clients(testnet_traffic *t, ctng_buf *failures);
void testnet_print_figures(const testnet_traffic *t, FILE *out);
json_t *testnet_figures_json(const testnet_traffic *t);
void testnet_traffic_free(testnet_traffic *t);

/* A process the run started. */
typedef struct proc {
	const ctng_entity *e;
	pid_t pid;
} proc;

/* fork+exec `exe ROLE --config CFG` with output appended to logpath; with
 * skew_ms != 0 with libfaketime preloaded; with prefix (NULL-terminated argv,
 * may be NULL) as `prefix... exe ROLE --config CFG`. */
pid_t testnet_spawn(const char *exe, const char *role, const char *cfg, const char *logpath,
                    long skew_ms, const char *const *prefix);
/* Polls e's /ctng/v1/ping until any HTTP answer or the (monotonic) deadline. */
bool testnet_wait_listening(const ctng_entity *e, uint64_t deadline_ms);

/* The DKG before the first period (dkg.c): every gossiper of the network
 * in dir started as a process, the run watched until each is done, their
 * transcripts verified and network.json finalized (then reloaded into
 * *net). The gossiper processes keep running (they go on gossiping). */
typedef struct testnet_dkg {
	bool ran;
	uint64_t ms; /* from starting the gossipers to every one done */
	size_t n, qualified;
	uint32_t t;
	char group_pk[17]; /* first 8 bytes, hex */
	char ids[CTNG_DKG_MAX_PARTICIPANTS][CTNG_ID_MAX + 1];
	pid_t pids[CTNG_DKG_MAX_PARTICIPANTS];
} testnet_dkg;

int testnet_dkg_run(const char *exe, const char *dir, ctng_network *net, testnet_dkg *d,
                    volatile sig_atomic_t *stop, ctng_err *err);
/* The pid of gossiper id started by the DKG (and forgets it), or 0. */
pid_t testnet_dkg_take(testnet_dkg *d, const char *id);
/* Stops (SIGTERM, then SIGKILL) every DKG process not taken. */
void testnet_dkg_stop_rest(testnet_dkg *d);
/* Stops the DKG process of gossiper id (if it runs and was not taken). */
void testnet_dkg_stop_one(testnet_dkg *d, const char *id);

/* snprintf for paths; an over-long result is cut (and reported as -1). */
int testnet_pathf(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* GET <gossiper>/ctng/v1/counts?period=p into counts[] (ctng_all_types order);
 * the gossip bytes it reports go into the figures. */
int testnet_fetch_counts(testnet_traffic *t, const ctng_entity *g, uint64_t p,
                         uint64_t counts[CTNG_TYPE_COUNT], uint64_t *con_full_held);
/* After the counts of period p: GET /ctng/v1/mirror of every running
 * monitor; prints the entries each holds (table mode) and keeps them for
 * the figures. */
void testnet_mirror_period(testnet_traffic *t, uint64_t p, FILE *out, bool json);
/* After the mirror row: GET /ctng/v1/index of every running monitor;
 * prints the certificates each has indexed (table mode). */
void testnet_index_period(testnet_traffic *t, uint64_t p, FILE *out, bool json);
/* At the end, while the network runs: searches the name of the first
 * issued certificate through a running monitor that does not watch one of
 * the loggers, keeps what it found for the figures; no answer, or nothing
 * found by a monitor whose index holds certificates, is a failure. */
void testnet_search_check(testnet_traffic *t);
/* Reads the monitors' "client update published" log lines of periods
 * first..last for the convergence figure (last FULL after period start). */
void testnet_read_monitor_logs(testnet_traffic *t, uint64_t first, uint64_t last);

#endif
