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
#include "ctng/net.h"
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
	char url[CTNG_URL_MAX];   /* "http://127.0.0.1:9000" or "https://..." (no path) */
	bool tls;                 /* url is https:// */
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
	size_t *peer_idx; /* entity index of each peer (set by the parser; NULL else) */
	char monitor[CTNG_ID_MAX + 1];
	uint32_t bls_id;    /* 1..n */
	bool has_bls_pk;    /* false until BLS keys are dealt */
	uint8_t bls_pk[96]; /* share public key, compressed G2 */
	/* gossiper: `key` above is its message-signing key (Ed25519) and dkg_key
	 * its X25519 DKG transport key; both come from `ctng keygen` and are
	 * needed to take part in a DKG (absent in older dealer-made networks). */
	bool has_dkg_key;
	uint8_t dkg_key[32];
	/* logger, optional: the Ed25519 C2SP note key that also signs its
	 * checkpoint (network.json "note_key", a vkey named ctng_entity_origin). */
	bool has_note_key;
	bool note_name_ok; /* its name is the origin (checked with the network) */
	uint8_t note_key[32];
} ctng_entity;

/* The entity's URL without its scheme ("127.0.0.1:9000"): a logger's
 * checkpoint origin and note key name. Points into e->url. */
const char *ctng_entity_origin(const ctng_entity *e);

/* One holder of the previous group's shares, in a network that reshares. */
typedef struct ctng_reshare_holder {
	char id[CTNG_ID_MAX + 1];
	uint32_t bls_id;    /* its share id in the previous network */
	uint8_t bls_pk[96]; /* its share public key in the previous network */
} ctng_reshare_holder;

/* network.json "reshare": this network's gossipers get new shares of the
 * previous network's group secret (docs/dkg.md §6). */
typedef struct ctng_reshare {
	bool present;
	uint8_t fingerprint[32]; /* of the previous network */
	uint32_t threshold;      /* of the previous network */
	uint8_t group_pk[96];    /* unchanged by the resharing */
	ctng_reshare_holder *holders;
	size_t n_holders;
} ctng_reshare;

typedef struct ctng_network {
	ctng_clock clock; /* genesis, period and offsets */
	uint32_t threshold;
	ctng_entity *entities; /* in file order */
	size_t n_entities;
	bool has_bls;               /* group_pk present (non-empty) */
	uint8_t group_pk[96];       /* threshold group public key */
	uint8_t (*commitments)[96]; /* Feldman commitments, `threshold` of them */
	size_t n_commitments;
	uint64_t dkg_phase_ms;   /* DKG phase timeout; 0 = CTNG_DKG_DEFAULT_PHASE_MS */
	ctng_reshare reshare;    /* present: the gossipers reshare an older group key */
	uint8_t fingerprint[32]; /* ctng_network_fingerprint of the parsed text */
	size_t *by_id; /* entity indexes sorted by id, for ctng_network_entity
	                * (made by the parser; NULL: lookups are linear) */
} ctng_network;

#define CTNG_DKG_DEFAULT_PHASE_MS 10000

/* Parses and validates network.json text (len bytes, no NUL needed). Checks:
 * strict JSON (no duplicate keys, no unknown fields), clock (ctng_clock_check),
 * ids valid and unique, roles known, URLs "http://HOST:PORT", no two entities
 * on the same host:port, keys parse (and a CA's root certificate parses and
 * holds the CA's key), references (monitor loggers/cas/gossiper, gossiper
 * peers/monitor) name existing entities of the right role, monitor<->gossiper
 * pairing is mutual, every monitor has a gossiper, 1 <= threshold <= number
 * of gossipers, bls_id unique in 1..n, and when BLS keys are present
 * (group_pk non-empty): commitments count == threshold, commitments[0] ==
 * group_pk, every gossiper share key matches the commitments. A gossiper may
 * carry public_key (its message-signing key) and dkg_key (X25519 transport
 * key, 64 hex); "reshare" (docs/dkg.md §6) must name holders with valid
 * share keys and, once keys are present, the same group_pk. Fills
 * out->fingerprint (ctng_network_fingerprint). */
int ctng_network_parse(const char *json, size_t len, ctng_network *out, ctng_err *err);
int ctng_network_load(const char *path, ctng_network *out, ctng_err *err);
void ctng_network_free(ctng_network *net);

/* Puts BLS keys into a parsed network that has none (a DKG result): the
 * group key, its `threshold` Feldman commitments (commitments[0] must be
 * group_pk) and every gossiper's share key, derived from the commitments at
 * its bls_id. For a network that reshares, group_pk must equal the previous
 * group key. CTNG_ESTATE if net already has keys. */
int ctng_network_set_bls(ctng_network *net, const uint8_t group_pk[96],
                         const uint8_t (*commitments)[96], size_t n_commitments, ctng_err *err);

/* ------------------------------------------------------- fingerprint */

/* SHA-256 of a network.json text with what a DKG adds removed (group_pk,
 * commitments and every bls_pk), serialised canonically: compact, keys
 * sorted, non-ASCII as \uXXXX (docs/config.md §6). It is the same before and
 * after `ctng network finalize`, and it names the DKG session. */
int ctng_network_fingerprint(const char *json, size_t len, uint8_t out[32], ctng_err *err);

/* The short form people compare out of band: the first 12 bytes as six
 * dash-separated groups of four hex digits, "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f". */
#define CTNG_FINGERPRINT_TEXT_LEN 30
void ctng_fingerprint_text(const uint8_t fp[32], char out[CTNG_FINGERPRINT_TEXT_LEN]);

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
	bool hide_entry;             /* logger: refuse every data tile holding entry */
	uint64_t hidden_index;       /*   hidden_index ("hide_entry": N)            */
	bool wrong_data;             /* logger: serve (and sign the roots of) altered entries */
	bool false_accuse;           /* monitor: accuse every watched entity in every period
	                              * (and sign ACCs for the next period), post the ACCs to
	                              * every gossiper, tell its own gossiper it failed */
	bool reuse_rid;              /* CA: each odd RID's certificate names the RID before it */
} ctng_misbehaviour;

/* One node's private configuration plus the network it belongs to. */
typedef struct ctng_node_config {
	char *id;
	char *path;             /* the config.json it was loaded from */
	char *dir;              /* folder of config.json */
	char *network_path;     /* resolved path of network.json */
	char *data_dir;         /* resolved data folder */
	char *listen;           /* "HOST:PORT" to bind */
	ctng_sig_key *note_key; /* logger: Ed25519 note key ("note_private_key"), or NULL */
	ctng_sig_key *key;      /* private key (logger, CA, monitor; a gossiper's
	                         * message-signing key when it has one), else NULL */
	bool has_bls_sk;        /* gossiper with a dealt share (or, in a network that
	                         * reshares, its share of the previous network) */
	uint8_t bls_sk[32];     /* wiped by ctng_node_config_free */
	bool has_dkg_sk;        /* gossiper: X25519 DKG transport key (from keygen) */
	uint8_t dkg_sk[32];     /* wiped by ctng_node_config_free */
	ctng_misbehaviour misbehaviour;
	/* monitor: the optional "watches" array and "webhooks" object of
	 * config.json as compact JSON text (NULL when absent), checked by the
	 * monitor's index at start (docs/monitor.md §11). */
	char *watches_json, *webhooks_json;
	/* The optional "limits" and "tls" of config.json as server options
	 * (zero fields: the defaults of ctng_net_server_new_opts; max_body is
	 * the daemon's). tls_cert_file/tls_key_file: the node serves HTTPS
	 * (its url is https://); tls_ca_file: the CA bundle its clients verify
	 * peers against (NULL: the system roots). The strings below own them. */
	ctng_net_server_opts server;
	char *tls_cert, *tls_key, *tls_ca; /* resolved paths, or NULL */
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
/* Like ctng_node_config_load, but checked against `net` (borrowed, must
 * outlive cfg) instead of loading the network file the config names: cfg->net
 * stays empty and cfg->self points into *net. For programs that hold many
 * nodes of one network (ctng sim). */
int ctng_node_config_load_shared(const char *path, const ctng_network *net,
                                 ctng_node_config *out, ctng_err *err);
/* Splits cfg->listen ("HOST:PORT", validated when the config was loaded)
 * into host (NUL-terminated) and port, for a daemon to bind. Returns 0, or
 * CTNG_EINVAL with a message if cfg->listen is missing or not HOST:PORT
 * with port 1..65535. The one listen-address parser of the daemons. */
int ctng_node_config_listen(const ctng_node_config *cfg, char host[CTNG_HOST_MAX], uint16_t *port,
                            ctng_err *err);

/* Rewrites DIR/<id>/config.json with the given misbehaviour (NULL or
 * !present removes it). For test networks. */
int ctng_node_config_set_misbehaviour(const char *path, const ctng_misbehaviour *m, ctng_err *err);

/* ---------------------------------------------------------- ctng keygen */

/* One operator's entity (docs/config.md §5). Lists are borrowed. */
typedef struct ctng_keygen_opts {
	ctng_role role;
	const char *id;
	const char *url; /* http://HOST:PORT */
	const char
	    *listen; /* NULL: HOST:PORT of url if HOST is an IPv4 literal, else 0.0.0.0:PORT */
	const char *network; /* path written into config.json; NULL: "network.json" */
	/* Optional topology written into the descriptor (NULL / 0 = let
	 * `ctng network assemble` choose): */
	const char *const *loggers; /* monitor: loggers it watches */
	size_t n_loggers;
	const char *const *cas; /* monitor: CAs it watches */
	size_t n_cas;
	const char *gossiper;     /* monitor: its gossiper */
	const char *monitor;      /* gossiper: its monitor */
	const char *const *peers; /* gossiper: gossipers it pushes to */
	size_t n_peers;
	uint64_t now_ms; /* start of the CA root's validity (minus an hour); 0 = now */
} ctng_keygen_opts;

/* Makes the entity's keys (logger ECDSA P-256; CA ECDSA P-256 and a
 * self-signed root; monitor Ed25519; gossiper Ed25519 for signing and X25519
 * for the DKG) and writes, in dir (created 0700 if needed):
 *   config.json      private (0600): id, network, data_dir ".", listen, keys
 *   <id>.entity.json public descriptor: id, role, url, public keys, the CA's
 *                    root certificate, the optional topology above
 *   root.pem         CAs: the root certificate
 * Refuses to overwrite an existing config.json. Nothing secret is written
 * anywhere but config.json. */
int ctng_keygen(const char *dir, const ctng_keygen_opts *o, ctng_err *err);

/* ------------------------------------------------ ctng network assemble */

typedef struct ctng_assemble_opts {
	uint32_t threshold;  /* 1..number of gossipers */
	uint64_t period_ms;  /* >= 100 */
	uint64_t genesis_ms; /* 0: now rounded down to a whole second */
	uint64_t query_offset_ms, gossip_wait_ms, update_offset_ms; /* 0: as ctng init */
	uint64_t dkg_phase_ms; /* 0: CTNG_DKG_DEFAULT_PHASE_MS */
	/* A network with keys whose group secret this network's gossipers
	 * reshare (its holders are the gossipers of `reshare_from`); NULL for a
	 * fresh DKG. Borrowed. */
	const ctng_network *reshare_from;
} ctng_assemble_opts;

/* Builds network.json from public descriptors (the texts of <id>.entity.json
 * files): checks every descriptor strictly (known members for its role, no
 * share keys), orders entities by role then id, gives gossipers bls_id 1..n
 * in that order, completes the topology the descriptors leave open (monitor
 * m watches loggers/CAs as ctng init does; unpaired monitors and gossipers
 * are paired in order; a gossiper without peers gets every other gossiper)
 * and validates the result with ctng_network_parse. The network has no group
 * key (group_pk ""). *out (malloc'd, NUL-terminated) is the text. */
int ctng_network_assemble(const char *const *descriptors, const size_t *lens, size_t n,
                          const ctng_assemble_opts *o, char **out, size_t *out_len, ctng_err *err);

/* Returns a copy of network.json text with group_pk, commitments and every
 * gossiper's bls_pk filled in (as ctng_network_set_bls computes them), after
 * validating the result. *out malloc'd. */
int ctng_network_json_set_bls(const char *json, size_t len, const uint8_t group_pk[96],
                              const uint8_t (*commitments)[96], size_t n_commitments, char **out,
                              size_t *out_len, ctng_err *err);

/* ------------------------------------------------------------ ctng init */

typedef struct ctng_init_opts {
	uint64_t genesis_ms;             /* 0: now rounded down to a whole second */
	uint64_t period_ms;              /* default 60000 */
	uint64_t query_offset_ms;        /* 0: period/10 */
	uint64_t gossip_wait_ms;         /* 0: period/5 */
	uint64_t update_offset_ms;       /* 0: period*8/10 */
	uint32_t loggers, cas, monitors; /* defaults 3, 3, 4; gossipers = monitors */
	uint32_t threshold;              /* default 2 (capped by gossipers) */
	/* default 9000: loggers +0, CAs +100, monitors +200, gossipers +300; with
	 * more than 99 of some role the strides are 1000 instead of 100 */
	uint16_t port_base;
	const char *host; /* default "127.0.0.1" */
	/* Per-entity hosts overriding `host` (NULL-terminated "ID=HOST" strings,
	 * e.g. "monitor3=198.18.0.9"; NULL = none): each entity with one gets
	 * that HOST in its url and listen address, for nodes on different
	 * machines or network namespaces (tests/integration/test_netns.c). An
	 * id that is not one of the network's, or a bad HOST: CTNG_EINVAL. */
	const char *const *entity_hosts;
	/* Topology (docs/config.md §4). watch: loggers (and CAs) each monitor
	 * watches, consecutive from its own index; 0 = 2, which with 3 loggers
	 * and 3 CAs is the DESIGN §9 table. peers: peers of each gossiper; 0 (or
	 * >= gossipers - 1) = every other gossiper, else the circulant graph of
	 * offsets +-1, +-2, +-4, ... */
	uint32_t watch, peers;
	uint64_t now_ms; /* the time the root certificates are made; 0 = the clock */
	/* HTTPS between all nodes: URLs https://HOST:PORT, a test CA in
	 * DIR/tls/ (ca.pem, ca-key.pem 0600), each node's certificate chain
	 * and key in DIR/<id>/tls/ (cert.pem, key.pem 0600) naming HOST (and
	 * localhost for 127.0.0.1), and "tls" in every config.json. */
	bool tls;
	/* false (default of the C API): deal the BLS shares here, as a trusted
	 * dealer (test networks). true: no group key; the gossipers run a DKG
	 * (what `ctng init` does without --dealer). */
	bool dkg;
	uint64_t dkg_phase_ms; /* 0: CTNG_DKG_DEFAULT_PHASE_MS */
} ctng_init_opts;
/* Most members of one role `ctng init` makes (and at most
 * CTNG_CONFIG_MAX_ENTITIES entities in all). */
#define CTNG_INIT_MAX_ROLE 999

/* Fills opts with the defaults above (the seed network of DESIGN §9). */
void ctng_init_opts_default(ctng_init_opts *opts);
/* Writes a fresh network into dir (created if needed; must not already hold
 * a network.json): every entity's keys as ctng_keygen makes them (into
 * DIR/<id>/), network.json (0644) as ctng_network_assemble builds it, and
 * unless opts->dkg, BLS shares dealt here (ctng_bls_deal) into network.json
 * and the gossipers' config.json (0600). */
int ctng_init_network(const char *dir, const ctng_init_opts *opts, ctng_err *err);

#endif
