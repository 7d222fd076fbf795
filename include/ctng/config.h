/*
 * ctng/config.h — the network configuration (issue 2 item 6, DESIGN §9-10):
 * the public DIR/network.json shared by every node, the private
 * DIR/<id>/config.json of one node, strict loaders that reject inconsistent
 * configurations with a message naming the problem, lookup helpers, and the
 * generator behind `ctng init`. The file formats are specified in
 * docs/config.md.
 *
 * Memory: ctng_network and ctng_node_config own everything they point to;
 * release with ctng_network_free / ctng_node_config_free (both accept a
 * zeroed or partially filled struct). Entity pointers returned by lookups are
 * borrowed from the network and live as long as it does. Loaded structures
 * are read-only afterwards and may be shared between threads.
 *
 * Errors: CTNG_EINVAL (malformed or inconsistent; message names the field or
 * the problem), CTNG_EIO (file), CTNG_ENOMEM. `err` may be NULL.
 */
#ifndef CTNG_CONFIG_H
#define CTNG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/proto.h"
#include "ctng/sig.h"

typedef enum ctng_role {
	CTNG_ROLE_NONE = 0,
	CTNG_ROLE_LOGGER = 1,
	CTNG_ROLE_CA = 2,
	CTNG_ROLE_MONITOR = 3,
	CTNG_ROLE_GOSSIPER = 4,
} ctng_role;

const char *ctng_role_name(ctng_role r);      /* "logger" ...; NULL if invalid */
ctng_role ctng_role_from_name(const char *s); /* CTNG_ROLE_NONE if unknown    */

#define CTNG_URL_MAX             256
#define CTNG_HOST_MAX            128
#define CTNG_CONFIG_MAX_ENTITIES 1024
#define CTNG_CONFIG_FILE_MAX     (8u << 20)
#define CTNG_BLS_PK_HEX_LEN      192

/* One entity of network.json. */
typedef struct ctng_entity {
	char id[CTNG_ID_MAX + 1];
	ctng_role role;
	char url[CTNG_URL_MAX];   /* "http://127.0.0.1:9000" (no path) */
	char host[CTNG_HOST_MAX]; /* parsed from url */
	uint16_t port;
	/* logger, CA, monitor: the signing public key (public-only handle). */
	ctng_sig_key *key;
	/* CA: root certificate PEM text (owned, NUL-terminated). */
	char *root_cert_pem;
	/* monitor: watched loggers and CAs (ids, owned) and the paired gossiper. */
	char **loggers;
	size_t n_loggers;
	char **cas;
	size_t n_cas;
	char gossiper[CTNG_ID_MAX + 1];
	/* gossiper: peers (ids, owned), paired monitor, BLS share id and key. */
	char **peers;
	size_t n_peers;
	char monitor[CTNG_ID_MAX + 1];
	uint32_t bls_id;    /* 1..n */
	bool has_bls_pk;    /* false until BLS keys are dealt */
	uint8_t bls_pk[96]; /* share public key, compressed G2 */
} ctng_entity;

typedef struct ctng_network {
	ctng_clock clock; /* genesis, period and offsets */
	uint32_t threshold;
	ctng_entity *entities; /* in file order */
	size_t n_entities;
	bool has_bls;               /* group_pk present (non-empty) */
	uint8_t group_pk[96];       /* threshold group public key */
	uint8_t (*commitments)[96]; /* Feldman commitments, `threshold` of them */
	size_t n_commitments;
} ctng_network;

/* Parses and validates network.json text (len bytes, no NUL needed). Checks:
 * strict JSON (no duplicate keys, no unknown fields), clock (ctng_clock_check),
 * ids valid and unique, roles known, URLs "http://HOST:PORT", no two entities
 * on the same host:port, keys parse (and a CA's root certificate parses and
 * holds the CA's key), references (monitor loggers/cas/gossiper, gossiper
 * peers/monitor) name existing entities of the right role, monitor<->gossiper
 * pairing is mutual, every monitor has a gossiper, 1 <= threshold <= number
 * of gossipers, bls_id unique in 1..n, and when BLS keys are present
 * (group_pk non-empty): commitments count == threshold, commitments[0] ==
 * group_pk, every gossiper share key matches the commitments. */
int ctng_network_parse(const char *json, size_t len, ctng_network *out, ctng_err *err);
int ctng_network_load(const char *path, ctng_network *out, ctng_err *err);
void ctng_network_free(ctng_network *net);

/* Lookups (borrowed results; NULL when absent). */
const ctng_entity *ctng_network_entity(const ctng_network *net, const char *id);
size_t ctng_network_count(const ctng_network *net, ctng_role role);
/* The i-th entity (0-based, file order) of a role. */
const ctng_entity *ctng_network_nth(const ctng_network *net, ctng_role role, size_t i);
/* The gossiper paired with a monitor, and the monitor paired with a gossiper. */
const ctng_entity *ctng_network_gossiper_of(const ctng_network *net, const char *monitor_id);
const ctng_entity *ctng_network_monitor_of(const ctng_network *net, const char *gossiper_id);
/* Does monitor `monitor_id` watch logger/CA `entity_id`? */
bool ctng_network_watches(const ctng_network *net, const char *monitor_id, const char *entity_id);
/* The gossiper with BLS share id `bls_id`. */
const ctng_entity *ctng_network_by_bls_id(const ctng_network *net, uint32_t bls_id);

/* Test-only fault injection (private config "misbehaviour"; absent = honest). */
typedef struct ctng_misbehaviour {
	bool present;
	bool split_view;             /* logger/CA: sign a second, different STH/REV */
	char **split_targets;        /* ids that get the alternative view (owned);  */
	size_t n_split_targets;      /*   empty = alternate between requesters      */
	bool silent;                 /* never answer queries                        */
	uint32_t answer_periods_mod; /* answer only when period % mod == 0; 0 = always */
} ctng_misbehaviour;

/* One node's private configuration plus the network it belongs to. */
typedef struct ctng_node_config {
	char *id;
	char *path;         /* the config.json it was loaded from */
	char *dir;          /* folder of config.json */
	char *network_path; /* resolved path of network.json */
	char *data_dir;     /* resolved data folder */
	char *listen;       /* "HOST:PORT" to bind */
	ctng_sig_key *key;  /* private key (logger, CA, monitor), else NULL */
	bool has_bls_sk;    /* gossiper once BLS keys are dealt */
	uint8_t bls_sk[32]; /* wiped by ctng_node_config_free */
	ctng_misbehaviour misbehaviour;
	ctng_network net;        /* the loaded network */
	const ctng_entity *self; /* borrowed from net */
} ctng_node_config;

/* Loads DIR/<id>/config.json and the network.json it names (a path relative
 * to the config file's folder), validates both, and checks that the node's
 * private keys match its public keys in the network. */
int ctng_node_config_load(const char *path, ctng_node_config *out, ctng_err *err);
/* The same from memory: `dir` is the folder relative paths resolve against.
 * If `net` is non-NULL it is used instead of loading the network file, and
 * it is moved into out (on success and on failure alike: afterwards *net is
 * zeroed and the caller must not free it). */
int ctng_node_config_parse(const char *json, size_t len, const char *dir, ctng_network *net,
                           ctng_node_config *out, ctng_err *err);
void ctng_node_config_free(ctng_node_config *cfg);
/* Splits cfg->listen ("HOST:PORT", validated when the config was loaded)
 * into host (NUL-terminated) and port, for a daemon to bind. Returns 0, or
 * CTNG_EINVAL with a message if cfg->listen is missing or not HOST:PORT
 * with port 1..65535. The one listen-address parser of the daemons. */
int ctng_node_config_listen(const ctng_node_config *cfg, char host[CTNG_HOST_MAX], uint16_t *port,
                            ctng_err *err);

/* Rewrites DIR/<id>/config.json with the given misbehaviour (NULL or
 * !present removes it). For test networks. */
int ctng_node_config_set_misbehaviour(const char *path, const ctng_misbehaviour *m, ctng_err *err);

/* ------------------------------------------------------------ ctng init */

typedef struct ctng_init_opts {
	uint64_t genesis_ms;             /* 0: now rounded down to a whole second */
	uint64_t period_ms;              /* default 60000 */
	uint64_t query_offset_ms;        /* 0: period/10 */
	uint64_t gossip_wait_ms;         /* 0: period/5 */
	uint64_t update_offset_ms;       /* 0: period*8/10 */
	uint32_t loggers, cas, monitors; /* defaults 3, 3, 4; gossipers = monitors */
	uint32_t threshold;              /* default 2 (capped by gossipers) */
	uint16_t port_base; /* default 9000: loggers +0, CAs +100, monitors +200, gossipers +300 */
	const char *host;   /* default "127.0.0.1" */
} ctng_init_opts;

/* Fills opts with the defaults above (the seed network of DESIGN §9). */
void ctng_init_opts_default(ctng_init_opts *opts);
/* Writes a fresh network into dir (created if needed; must not already hold
 * a network.json): keys, CA root certificates, BLS shares (ctng_bls_deal),
 * network.json (0644) and DIR/<id>/config.json (0600). */
int ctng_init_network(const char *dir, const ctng_init_opts *opts, ctng_err *err);

#endif
