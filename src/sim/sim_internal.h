/*
 * sim_internal.h — the pieces of `ctng sim` shared between its files:
 * the random streams (rng.c), the event queue (queue.c), the simulated
 * network (netsim.c), the node wrappers around the real state machines
 * (node_logger.c, node_ca.c, node_monitor.c, node_gossiper.c), the run and
 * its output (run.c, report.c) and the deterministic OpenSSL generator
 * (detrand.c).
 *
 * Time: virtual microseconds since the start of the run (t = 0 is the start
 * of the first simulated period, which is period 0 of the network). The
 * state machines get `net_ms(sim, t)`, Unix milliseconds on the network's
 * clock.
 */
#ifndef CTNG_SIM_INTERNAL_H
#define CTNG_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/ca.h"
#include "ctng/config.h"
#include "ctng/gossiper.h"
#include "ctng/logger.h"
#include "ctng/meter.h"
#include "ctng/mirror.h"
#include "ctng/monitor.h"
#include "ctng/proto.h"
#include "ctng/sim.h"
#include "ctng/store.h"

#define SIM_GENESIS_MS 1767225600000ull /* 2026-01-01T00:00:00Z */

/* --------------------------------------------------------------- random */

typedef struct sim_rng {
	uint64_t s[4];
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_u64(sim_rng *r);
double sim_rng_unit(sim_rng *r); /* [0, 1) */
double sim_dist_draw(const ctng_sim_dist *d, sim_rng *r); /* ms, >= 0 */

int sim_detrand_install(uint64_t seed, ctng_err *err);

/* ---------------------------------------------------------------- queue */

typedef enum sim_ev_kind {
	EV_DELIVER = 1, /* a message reaches its destination          */
	EV_NODE_TIMER,  /* a gossiper's state-machine timer            */
	EV_PERIOD,      /* start of a period: loggers, CAs, gossipers  */
	EV_QUERY,       /* a monitor's query time                      */
	EV_UPDATE,      /* a monitor's update time                     */
	EV_READ,        /* read every gossiper's counts of the period  */
	EV_FETCH_TIMEOUT,
	EV_CA_ROUND,    /* a CA retries fetching proofs                */
	EV_TRAFFIC,     /* certificate requests and revocations        */
	EV_CRASH,
	EV_RESTART,
	EV_REQ_DONE, /* an HTTP exchange of a push ended (in-flight accounting) */
	EV_MIRROR_TIMER, /* a monitor's mirror state-machine timer */
} sim_ev_kind;

typedef struct sim_event {
	uint64_t t, seq;
	sim_ev_kind kind;
	size_t node;
	uint64_t arg; /* period, fetch id, crash index ... */
	void *p;      /* EV_DELIVER: the message */
} sim_event;

typedef struct sim_queue {
	sim_event *v;
	size_t n, cap;
	uint64_t seq;
} sim_queue;

int sim_queue_push(sim_queue *q, uint64_t t, sim_ev_kind k, size_t node, uint64_t arg, void *p);
bool sim_queue_pop(sim_queue *q, sim_event *out);
void sim_queue_free(sim_queue *q);

/* -------------------------------------------------------------- messages */

typedef enum sim_msg_kind {
	MSG_GOSSIP = 1,  /* POST /ctng/v1/gossip (object)             */
	MSG_FETCH,       /* GET STH / REV / consistency (monitor)     */
	MSG_FETCH_REPLY, /* its answer (text, status)                 */
	MSG_OBJECTS,     /* GET /ctng/v1/objects (catch-up)           */
	MSG_OBJECTS_REPLY,
	MSG_SUBMIT, /* CA -> logger add-pre-chain (text)          */
	MSG_SUBMIT_REPLY,
	MSG_PROOF, /* CA -> logger GET /ctng/v1/proof             */
	MSG_PROOF_REPLY,
	MSG_OBSERVATION, /* monitor -> its gossiper: POST /ctng/v1/observation (text) */
	MSG_TILE,        /* mirror -> logger or peer: GET tile roots / data tile (text = path) */
	MSG_TILE_REPLY,  /* its answer (text = body, binary, text_len bytes) */
} sim_msg_kind;

/* A gossip object shared by every copy of one send (refcounted). */
typedef struct sim_blob {
	unsigned refs;
	ctng_gossip_object obj;
	size_t len; /* bytes of its HTTP body: the binary form (ctng_wire_body) */
} sim_blob;

sim_blob *sim_blob_new(const ctng_network *net, const ctng_gossip_object *o, ctng_err *err);
sim_blob *sim_blob_ref(sim_blob *b);
void sim_blob_unref(sim_blob *b);

typedef struct sim_msg {
	sim_msg_kind kind;
	size_t src, dst;
	size_t bytes;   /* body bytes */
	sim_blob *blob; /* MSG_GOSSIP */
	char *text;     /* bodies of the others (owned) */
	size_t text_len;
	int status;     /* replies: HTTP status, 0 = no answer */
	uint64_t id;    /* request id (fetch / submission / proof) */
	uint64_t epoch; /* the sender's incarnation (a reply to a crashed node is dropped) */
} sim_msg;

void sim_msg_free(sim_msg *m);
/* The answer to request req: kind + 1, back to its sender, with its id and
 * epoch; text (owned, may be NULL) is the body. NULL on ENOMEM (text freed). */
sim_msg *sim_reply_new(const sim_msg *req, int status, char *text);

/* ----------------------------------------------------------------- nodes */

/* Figures of one node in one period of the run. */
typedef struct sim_stats {
	uint64_t bytes_in, bytes_out; /* gossip bodies (the daemons' figure) */
	uint64_t cpu_us;              /* charged */
	uint64_t ops[CTNG_METER_OPS];
	uint64_t fulls;   /* FULLs of the period received/made */
	uint64_t last_full_us; /* after period start, of the last of them */
	uint64_t update_bytes; /* monitors: the client update */
	uint64_t mirror_bytes_in, mirror_bytes_out; /* tile answers received / served */
	uint64_t mirror_entries;                    /* monitors: entries verified and kept */
	uint64_t sth_fulls, last_sth_full_us; /* monitors: STH_FULLs, after period start */
	uint64_t helds, last_held_us;         /* monitors: trees its mirror held (HELD) */
	bool had_update;
	bool down; /* crashed during part of the period */
} sim_stats;

enum { SIM_FETCH_OBJECT = 0, SIM_FETCH_CONSISTENCY = 1, SIM_FETCH_MIRROR = 2 };

typedef struct sim_fetch {
	uint64_t id;
	int kind;          /* SIM_FETCH_* */
	uint64_t mid;      /* mirror: the state machine's request id */
	size_t max_bytes;  /* mirror: response limit */
	size_t target;
	char entity[CTNG_ID_MAX + 1];
	uint64_t period;
	bool pending;
} sim_fetch;

typedef struct sim_ca_call {
	uint64_t id;
	uint32_t rid;
	size_t logger;
	uint64_t period;
	bool pending;
} sim_ca_call;

typedef struct sim_cert {
	size_t ca; /* node index */
	char handle[CTNG_CA_HANDLE_LEN + 1];
	ctng_sig_key *key;
	bool issued, revoked;
} sim_cert;

typedef struct sim sim;

typedef struct sim_node {
	size_t index;
	const ctng_entity *e;
	ctng_node_config cfg; /* private keys (network borrowed) */
	bool running;         /* part of the scenario */
	bool up;              /* not crashed */
	uint64_t epoch;       /* incarnation: +1 at every restart */
	uint64_t busy_until;  /* µs: the CPU is single-threaded */
	uint64_t up_free, down_free; /* µs: when the links are free */
	double bps;           /* bandwidth, bits per µs (0 = unlimited) */
	size_t partner;       /* monitor <-> gossiper pair, SIZE_MAX if none */
	sim_stats *stats;     /* one per period of the run */
	/* logger */
	ctng_store *store;
	ctng_logger *lg;
	/* CA */
	ctng_ca *ca;
	sim_ca_call *calls;
	size_t n_calls, cap_calls;
	uint64_t ca_period;
	bool ca_have_period;
	/* monitor */
	ctng_monitor_sm *mon;
	sim_fetch *fetches;
	size_t n_fetches, cap_fetches;
	bool has_queried, has_published;
	ctng_mirror_sm *mir;     /* the mirror (node_mirror.c) */
	ctng_mirror_db *mdb;     /* its store (real mode), on mstore */
	ctng_store *mstore;      /* survives a crash, like the daemon's file */
	uint64_t mir_timer_at;   /* µs of the pending mirror timer, 0 none */
	uint64_t last_queried, last_published;
	/* gossiper */
	ctng_gossiper_sm *gos;
	uint64_t timer_at; /* µs of the pending state-machine timer, 0 none */
	size_t *inflight; /* per destination node: pushes in flight */
	size_t *peer_node; /* node index of each of the gossiper's peers */
	/* monitor and gossiper: what the daemon persists (encoded objects) */
	char **kept;
	size_t n_kept, cap_kept;
	char **kept_kv; /* monitor: last STHs (encoded), forks (ids) */
	size_t n_kept_kv, cap_kept_kv;
} sim_node;

struct sim {
	const ctng_sim_scenario *sc;
	const ctng_sim_opts *opts;
	ctng_network net;
	char dir[4096]; /* the network folder */
	bool own_dir;   /* made by this run (removed at the end) */
	sim_node *nodes;
	size_t n_nodes;
	sim_queue q;
	sim_rng link_rng, loss_rng;
	double *link_ms; /* base latency per directed link (n_nodes^2) */
	uint64_t now;    /* µs */
	uint64_t end;    /* µs: end of the last period */
	uint64_t next_id;
	ctng_meter meter;
	ctng_sim_costs costs;
	uint64_t periods;
	/* counts read per period and gossiper (k * n_gossipers + g) */
	size_t *gossipers; /* node indexes of the running gossipers */
	size_t n_gossipers;
	uint64_t (*counts)[CTNG_TYPE_COUNT];
	bool *counted;
	/* traffic */
	sim_cert *certs;
	size_t n_certs, cap_certs;
	size_t certs_issued, certs_revoked, requests_failed;
	ctng_buf failures;
	size_t n_failures;
	uint64_t wall_start_ns;
	uint64_t events;
};

/* Unix ms of the network clock at virtual time t. */
static inline uint64_t sim_net_ms(const sim *s, uint64_t t)
{
	return s->net.clock.genesis_ms + t / 1000;
}
/* Virtual µs of the start of period p. */
uint64_t sim_period_start_us(const sim *s, uint64_t p);
/* The run's period index (0-based) at virtual time t, capped at periods-1. */
size_t sim_k_at(const sim *s, uint64_t t);
sim_stats *sim_stats_at(sim *s, sim_node *n, uint64_t t);

sim_node *sim_node_by_id(sim *s, const char *id);

/* ---------------------------------------------------------------- network */

/* Sends a message: it leaves when the sender's CPU is done with the current
 * event (at `depart`), is serialized on the sender's uplink and the
 * receiver's downlink, and arrives after the link latency; lost, partitioned
 * or to a node that is down it never arrives (the sender finds out only by
 * its own timeouts, or at once for a refused connection: refused is set).
 * Takes ownership of m. */
void sim_send(sim *s, sim_msg *m, uint64_t depart);
/* True if a message from a to b at time t would pass (partitions). */
bool sim_link_open(const sim *s, size_t a, size_t b, uint64_t t);
int sim_net_init(sim *s, ctng_err *err);

/* ----------------------------------------------------------------- nodes */

/* Charges the CPU of the work done since *mark on node n (meter ops, objects
 * and bytes) and advances its busy_until; returns the time the work ends. */
typedef struct sim_mark {
	uint64_t ops[CTNG_METER_OPS];
	uint64_t cpu_ns;
	uint64_t start;
} sim_mark;
void sim_begin(sim *s, sim_node *n, sim_mark *mark);
uint64_t sim_end(sim *s, sim_node *n, const sim_mark *mark, size_t objects, size_t bytes);
/* Adds one database transaction to the node's busy time (before its
 * messages leave, as the daemons commit before they send); returns when. */
uint64_t sim_store_commit(sim *s, sim_node *n, uint64_t done);

int sim_logger_start(sim *s, sim_node *n, ctng_err *err);
void sim_logger_stop(sim_node *n);
void sim_logger_period(sim *s, sim_node *n, uint64_t p);
void sim_logger_deliver(sim *s, sim_node *n, sim_msg *m);

int sim_ca_start(sim *s, sim_node *n, ctng_err *err);
void sim_ca_stop(sim_node *n);
void sim_ca_period(sim *s, sim_node *n, uint64_t p);
void sim_ca_round(sim *s, sim_node *n, uint64_t p);
void sim_ca_deliver(sim *s, sim_node *n, sim_msg *m);
void sim_traffic(sim *s, uint64_t k);

int sim_monitor_start(sim *s, sim_node *n, bool restart, ctng_err *err);
void sim_monitor_stop(sim_node *n);
void sim_monitor_schedule(sim *s, sim_node *n);
void sim_monitor_query(sim *s, sim_node *n, uint64_t p);
void sim_monitor_update(sim *s, sim_node *n, uint64_t p);
void sim_monitor_timeout(sim *s, sim_node *n, uint64_t fetch_id);
void sim_monitor_deliver(sim *s, sim_node *n, sim_msg *m);
sim_fetch *sim_monitor_new_fetch(sim *s, sim_node *n);
/* To the monitor's gossiper: a gossip object, an observation. */
void sim_monitor_send_object(sim *s, sim_node *n, const ctng_gossip_object *o, uint64_t depart);
void sim_monitor_send_obs(sim *s, sim_node *n, const ctng_observation *obs, uint64_t depart);

/* The monitor's mirror (node_mirror.c). */
int sim_mirror_start(sim *s, sim_node *n, ctng_err *err);
void sim_mirror_stop(sim_node *n);   /* a crash: the store is kept */
void sim_mirror_free(sim_node *n);   /* the end: the store too */
void sim_mirror_on_sth(sim *s, sim_node *n, const ctng_gossip_object *sth, uint64_t depart);
void sim_mirror_held(sim *s, sim_node *n, const ctng_gossip_object *sth, uint64_t depart);
void sim_mirror_convicted(sim_node *n, const char *logger);
void sim_mirror_timer(sim *s, sim_node *n);
void sim_mirror_answer(sim *s, sim_node *n, const sim_fetch *f, const sim_msg *m);
/* A MSG_TILE at a logger or at a monitor (its mirror). */
void sim_mirror_serve(sim *s, sim_node *n, sim_msg *m);

int sim_gossiper_start(sim *s, sim_node *n, bool restart, ctng_err *err);
void sim_gossiper_stop(sim_node *n);
void sim_gossiper_period(sim *s, sim_node *n, uint64_t p);
void sim_gossiper_timer(sim *s, sim_node *n);
void sim_gossiper_deliver(sim *s, sim_node *n, sim_msg *m);

/* Keeps an encoded copy of an object in the node's simulated database. */
int sim_keep(sim_node *n, const ctng_gossip_object *o);
void sim_kept_free(sim_node *n);

/* A failure line for the result. */
void sim_fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- output */

void sim_report_period(sim *s, size_t k);
int sim_report_result(sim *s, ctng_sim_summary *sum);
void sim_check(sim *s);
void sim_summarize(sim *s, ctng_sim_summary *sum);

#endif
