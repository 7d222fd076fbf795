/*
 * ctng/proto.h — the CTng gossip object (DESIGN §3): types, the strict JSON
 * envelope codec, object ids, and the canonical signed bytes of every object
 * type with sign/verify helpers. The byte-exact specification (with test
 * vectors) is docs/protocol.md; this header is its C face.
 *
 * Memory: a ctng_gossip_object owns its heap strings (signature[], payload[],
 * signers[]). Zero-initialise ({0}) before first use; release with
 * ctng_gossip_clear(). A NULL string slot means "" everywhere. Functions that
 * fill an `out` object clear it first, and leave it cleared on failure.
 *
 * Errors: CTNG_EINVAL (malformed; the message names the field), CTNG_EVERIFY
 * (well-formed but a signature, hash or period check fails), CTNG_ENOMEM.
 * `err` may be NULL. Objects are not thread-safe; distinct objects are.
 */
#ifndef CTNG_PROTO_H
#define CTNG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/sig.h"

struct json_t;           /* jansson */
struct roaring_bitmap_s; /* CRoaring's roaring_bitmap_t */

/* ------------------------------------------------------------------ types */

enum ctng_type {
	CTNG_TYPE_NONE = 0,
	CTNG_STH = 101,
	CTNG_REV = 102,
	CTNG_ACC = 103,
	CTNG_CON = 104,
	CTNG_STH_FRAG = 201,
	CTNG_REV_FRAG = 202,
	CTNG_ACC_FRAG = 203,
	CTNG_CON_FRAG = 204,
	CTNG_STH_FULL = 301,
	CTNG_REV_FULL = 302,
	CTNG_ACC_FULL = 303,
	CTNG_CON_FULL = 304,
};
#define CTNG_TYPE_COUNT 12
/* All 12 types in the order STH, REV, ACC, CON, STH_FRAG, ..., CON_FULL. */
extern const enum ctng_type ctng_all_types[CTNG_TYPE_COUNT];

enum ctng_family {
	CTNG_FAM_NONE = 0,
	CTNG_FAM_STH = 1,
	CTNG_FAM_REV = 2,
	CTNG_FAM_ACC = 3,
	CTNG_FAM_CON = 4
};
enum ctng_kind { CTNG_KIND_NONE = 0, CTNG_KIND_INIT = 1, CTNG_KIND_FRAG = 2, CTNG_KIND_FULL = 3 };

#define CTNG_TYPE_URI_PREFIX "http://ctng.uconn.edu/"

bool ctng_type_valid(enum ctng_type t);
/* "http://ctng.uconn.edu/101" ... ; NULL for an invalid type. Constant. */
const char *ctng_type_uri(enum ctng_type t);
/* "STH", "REV", "ACC", "CON", "STH_FRAG", ..., "CON_FULL"; NULL if invalid. */
const char *ctng_type_name(enum ctng_type t);
/* Exact-match lookups; CTNG_TYPE_NONE when unknown. */
enum ctng_type ctng_type_from_uri(const char *uri);
enum ctng_type ctng_type_from_name(const char *name);
enum ctng_family ctng_type_family(enum ctng_type t); /* NONE if invalid */
enum ctng_kind ctng_type_kind(enum ctng_type t);     /* NONE if invalid */
/* The type of (family, kind); CTNG_TYPE_NONE if either is NONE/out of range. */
enum ctng_type ctng_type_make(enum ctng_family f, enum ctng_kind k);
/* "STH", "REV", "ACC", "CON"; NULL if invalid. */
const char *ctng_family_name(enum ctng_family f);

/* crypto_scheme field. The first two values equal the ctng_sig_alg values. */
enum ctng_scheme {
	CTNG_SCHEME_NONE = 0,
	CTNG_SCHEME_ECDSA_P256 = 1, /* "ecdsa-p256" */
	CTNG_SCHEME_ED25519 = 2,    /* "ed25519"    */
	CTNG_SCHEME_BLS = 3,        /* "bls12-381"  */
};
const char *ctng_scheme_name(enum ctng_scheme s); /* NULL if invalid */
enum ctng_scheme ctng_scheme_from_name(const char *s);

/* ------------------------------------------------------------- the object */

/* Entity ids: 1..CTNG_ID_MAX characters from [A-Za-z0-9._:-]. */
#define CTNG_ID_MAX 64
/* Field limits enforced by the codec (bytes of the decoded string). */
#define CTNG_GOSSIP_SIG_MAX     512         /* each signature[] string   */
#define CTNG_GOSSIP_PAYLOAD_MAX (6u << 20)  /* each payload[] string     */
#define CTNG_REV_DELTA_B64_MAX  (4u << 20)  /* REV payload[2] (base64)   */
#define CTNG_GOSSIP_MAX_SIGNERS 1024        /* signers[] entries         */
#define CTNG_GOSSIP_JSON_MAX    (20u << 20) /* whole encoded object      */
#define CTNG_APPLICATION        "CTng"

typedef struct ctng_gossip_object {
	enum ctng_type type;
	uint64_t period;              /* decimal string on the wire        */
	char signer[CTNG_ID_MAX + 1]; /* "" for CON and *_FULL             */
	char **signers;               /* FULL only: ids, strictly ascending */
	size_t n_signers;             /*   (strcmp order); owned           */
	uint64_t timestamp_ms;        /* RFC 3339 UTC on the wire (seconds) */
	enum ctng_scheme scheme;
	char *signature[2]; /* owned; NULL == ""                 */
	char *payload[3];   /* owned; NULL == ""                 */
} ctng_gossip_object;

/* Frees the owned strings and zeroes *o (NULL is a no-op). */
void ctng_gossip_clear(ctng_gossip_object *o);
/* Deep copy; dst is cleared first. */
int ctng_gossip_copy(ctng_gossip_object *dst, const ctng_gossip_object *src, ctng_err *err);
/* Replaces an owned string slot (e.g. &o->payload[1]) with a copy of s (NULL -> ""). */
int ctng_gossip_set(char **slot, const char *s, ctng_err *err);
/* The same with the base64 / lower-case hex of n raw bytes. */
int ctng_gossip_set_b64(char **slot, const uint8_t *p, size_t n, ctng_err *err);
int ctng_gossip_set_hex(char **slot, const uint8_t *p, size_t n, ctng_err *err);
/* Replaces signers with a sorted copy of ids; CTNG_EINVAL on a bad/duplicate id. */
int ctng_gossip_set_signers(ctng_gossip_object *o, const char *const *ids, size_t n, ctng_err *err);
/* Borrowed view of a string slot: never NULL. */
static inline const char *ctng_gossip_str(const char *slot)
{
	return slot ? slot : "";
}
bool ctng_id_valid(const char *id);

/* Structural validation of a filled object (the rules per type are in
 * docs/protocol.md §3): field presence/format, scheme, payload layout,
 * embedded objects of a CON. Does not check signatures. */
int ctng_gossip_check(const ctng_gossip_object *o, ctng_err *err);

/* Strict decode of one JSON gossip object from json[0..len). Rejects:
 * invalid JSON, duplicate keys, trailing garbage, len > CTNG_GOSSIP_JSON_MAX,
 * any missing or unknown field, wrong JSON types, an unknown type URI,
 * application != "CTng", oversized fields, and anything ctng_gossip_check
 * rejects. On success *out owns the strings. */
int ctng_gossip_decode(const char *json, size_t len, ctng_gossip_object *out, ctng_err *err);
/* The same from a jansson value (borrowed). */
int ctng_gossip_from_json(const struct json_t *j, ctng_gossip_object *out, ctng_err *err);
/* Canonical compact JSON, keys in the order application, type, period, signer,
 * signers, timestamp, signature, crypto_scheme, payload. *json is malloc'd,
 * NUL-terminated, owned by the caller; *len (may be NULL) gets strlen. The
 * object must pass ctng_gossip_check. */
int ctng_gossip_encode(const ctng_gossip_object *o, char **json, size_t *len, ctng_err *err);
/* The same as a new jansson object (caller json_decref's). */
int ctng_gossip_to_json(const ctng_gossip_object *o, struct json_t **out, ctng_err *err);
/* True if both objects have identical canonical encodings. */
bool ctng_gossip_equal(const ctng_gossip_object *a, const ctng_gossip_object *b);

/* ------------------------------------------------------------ object ids */

/* (family, entity, period). entity: STH/REV the signer (logger/CA); ACC the
 * accused entity; CON the convicted entity; FRAG/FULL the entity of the
 * object they attest (payload[0]). */
typedef struct ctng_gossip_id {
	enum ctng_family family;
	char entity[CTNG_ID_MAX + 1];
	uint64_t period;
} ctng_gossip_id;
#define CTNG_GOSSIP_ID_STR_MAX (4 + CTNG_ID_MAX + 1 + 20 + 1)

int ctng_gossip_id_of(const ctng_gossip_object *o, ctng_gossip_id *id, ctng_err *err);
/* "STH/logger1/42". */
void ctng_gossip_id_str(const ctng_gossip_id *id, char out[CTNG_GOSSIP_ID_STR_MAX]);
bool ctng_gossip_id_equal(const ctng_gossip_id *a, const ctng_gossip_id *b);
/* Borrowed: the entity of the object's id ("" if the object is malformed). */
const char *ctng_gossip_entity(const ctng_gossip_object *o);

/* ------------------------------------------------------------------- STH */

/* Logger STH = RFC 6962 tree head. Payload: [0] tree_size (decimal),
 * [1] root hash (64 lower-case hex), [2] timestamp in Unix ms (decimal).
 * signature[0] = base64 of the RFC 5246 DigitallySigned struct
 * (0x04 0x03 sha256/ecdsa, u16 length, DER ECDSA signature) over the
 * TreeHeadSignature, i.e. exactly the `tree_head_signature` of get-sth.
 * period = clock period of the timestamp. */
typedef struct ctng_sth {
	uint64_t timestamp_ms;
	uint64_t tree_size;
	uint8_t root[32];
} ctng_sth;
#define CTNG_STH_TBS_LEN 50 /* version(1) sig_type(1) timestamp(8) size(8) root(32) */

/* RFC 6962 §3.5 TreeHeadSignature bytes: 0x00 0x01 || u64 ts || u64 size || root. */
void ctng_sth_tbs(const ctng_sth *sth, uint8_t out[CTNG_STH_TBS_LEN]);
/* Extracts the tree head from an STH object's payload. */
int ctng_sth_from_object(const ctng_gossip_object *o, ctng_sth *sth, ctng_err *err);
/* Builds and signs an STH object. key: the logger's ECDSA P-256 private key.
 * clock: the network clock (period derived from sth->timestamp_ms; CTNG_ERANGE
 * if before genesis). Envelope timestamp = sth->timestamp_ms. */
int ctng_sth_sign(ctng_gossip_object *out, const char *logger_id, const ctng_sig_key *key,
                  const ctng_sth *sth, const ctng_clock *clock, ctng_err *err);
/* RFC 6962 DigitallySigned <-> raw DER signature. *der is malloc'd. */
int ctng_digitally_signed_encode(const uint8_t *sig, size_t sig_len, uint8_t **out, size_t *out_len,
                                 ctng_err *err);
int ctng_digitally_signed_decode(const uint8_t *in, size_t in_len, const uint8_t **sig,
                                 size_t *sig_len, ctng_err *err); /* *sig points into in */

/* ------------------------------------------------------------------- REV */

/* CA revocation update. Payload: [0] SHA-256 of the full CRV(p) (hex, see
 * ctng_crv_hash), [1] SHA-256 of the delta bytes (hex), [2] delta bytes =
 * CRoaring portable serialization of the RIDs revoked during p-1, base64.
 * CRV(p) = CRV(p-1) OR delta. signature[0] = base64 of the raw signature. */
typedef struct ctng_rev {
	uint8_t crv_hash[32];
	uint8_t delta_hash[32];
	uint8_t *delta; /* owned by this struct; free with ctng_rev_clear */
	size_t delta_len;
} ctng_rev;
void ctng_rev_clear(ctng_rev *r);
/* Decodes the payload (does not check delta_hash; verify does). */
int ctng_rev_from_object(const ctng_gossip_object *o, ctng_rev *r, ctng_err *err);
/* Builds and signs REV(period). key: the CA's ECDSA P-256 or Ed25519 key. */
int ctng_rev_sign(ctng_gossip_object *out, const char *ca_id, const ctng_sig_key *key,
                  uint64_t period, const uint8_t crv_hash[32], const uint8_t *delta,
                  size_t delta_len, uint64_t now_ms, ctng_err *err);
/* Canonical CRV hash: SHA-256("CTng/v1/CRV\0" || u64be(cardinality) ||
 * u32be(rid) for every RID ascending). */
int ctng_crv_hash(const struct roaring_bitmap_s *crv, uint8_t out[32], ctng_err *err);
/* Portable serialization of a delta bitmap (after run optimisation); *out malloc'd. */
int ctng_crv_delta_encode(const struct roaring_bitmap_s *delta, uint8_t **out, size_t *len,
                          ctng_err *err);
/* Strict decode: the bytes must be exactly one portable bitmap. *out is a new
 * bitmap (roaring_bitmap_free). */
int ctng_crv_delta_decode(const uint8_t *in, size_t len, struct roaring_bitmap_s **out,
                          ctng_err *err);

/* ------------------------------------------------------------------- ACC */

/* Monitor's accusation. Payload: [0] accused entity id, [1] and [2] "".
 * signature[0] = base64 of the raw signature. */
int ctng_acc_sign(ctng_gossip_object *out, const char *monitor_id, const ctng_sig_key *key,
                  const char *accused_id, uint64_t period, uint64_t now_ms, ctng_err *err);

/* ------------------------------------------- OBS: a monitor's observation */

/* What a monitor tells its paired gossiper it saw of one entity in one
 * period (docs/protocol.md §9, docs/gossiper.md §Observations): either it
 * obtained and accepted the entity's STH/REV (with that object's content
 * digest and the checks it ran on it), or it failed to obtain an acceptable
 * one before the period's query deadline (the monitor then also signs an
 * ACC). Signed with the monitor's own key, so the gossiper, which knows its
 * monitor and that key from network.json, believes it whatever carried it.
 * Not a gossip object: it goes from a monitor to its own gossiper only and
 * is never forwarded. Fixed size, no heap. */
enum ctng_obs_result {
	CTNG_OBS_NONE = 0,
	CTNG_OBS_OBTAINED = 1, /* "obtained" */
	CTNG_OBS_FAILED = 2,   /* "failed"   */
};
/* Checks the monitor ran on an obtained object, a bit mask; names in JSON. */
#define CTNG_OBS_CHECK_CONSISTENT (1u << 0) /* "consistent": STH extends the last
                                               STH this monitor accepted (RFC 6962
                                               consistency or equal); not set for
                                               the first STH it sees of a logger */
#define CTNG_OBS_CHECK_DATA       (1u << 1) /* "data" (STH): OBTAINED: this monitor holds
                                               and verified every entry the STH commits
                                               to (its mirror, docs/mirror.md); FAILED:
                                               the logger did not serve them in time.
                                               Also about loggers it does not watch. */
#define CTNG_OBS_CHECKS_KNOWN     0x3u       /* every bit defined so far */
#define CTNG_OBS_JSON_MAX         4096

typedef struct ctng_observation {
	char monitor[CTNG_ID_MAX + 1]; /* the signer */
	char entity[CTNG_ID_MAX + 1];  /* logger (STH) or CA (REV) observed */
	enum ctng_family family;       /* CTNG_FAM_STH or CTNG_FAM_REV */
	uint64_t period;
	enum ctng_obs_result result;
	uint8_t digest[32]; /* OBTAINED: ctng_gossip_content_digest of the object; FAILED: 0 */
	uint32_t checks;    /* OBTAINED: CTNG_OBS_CHECK_* bits; FAILED: 0 or CTNG_OBS_CHECK_DATA */
	enum ctng_scheme scheme; /* ecdsa-p256 or ed25519: the monitor key's */
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sig_len;
} ctng_observation;

/* Fills and signs an observation. digest: required for OBTAINED (NULL for
 * FAILED). key: the monitor's private ECDSA P-256 or Ed25519 key. */
int ctng_obs_sign(ctng_observation *out, const char *monitor_id, const ctng_sig_key *key,
                  enum ctng_family family, const char *entity, uint64_t period,
                  enum ctng_obs_result result, const uint8_t digest[32], uint32_t checks,
                  ctng_err *err);
/* Structural rules (docs/protocol.md §9): ids valid and different, family
 * STH/REV, result known, FAILED with zero digest and checks, only known
 * check bits, scheme ecdsa-p256/ed25519 with a signature of a plausible
 * length. CTNG_EINVAL naming the field. */
int ctng_obs_check(const ctng_observation *o, ctng_err *err);
/* "CTng/v1/OBS\0" || lp32(monitor) || lp32(entity) || u8(family) ||
 * u64be(period) || u8(result) || digest[32] || u32be(checks), appended. */
int ctng_obs_signed_bytes(const ctng_observation *o, ctng_buf *out, ctng_err *err);
/* Checks structure, that the key's algorithm is the scheme, and the
 * signature under monitor_key. CTNG_EINVAL / CTNG_EVERIFY. */
int ctng_obs_verify(const ctng_observation *o, const ctng_sig_key *monitor_key, ctng_err *err);
/* Canonical compact JSON {"monitor","entity","family","period","result",
 * "digest","checks","crypto_scheme","signature"} (that order; digest "" and
 * checks [] for FAILED). *json malloc'd, *len may be NULL. */
int ctng_obs_encode(const ctng_observation *o, char **json, size_t *len, ctng_err *err);
/* Strict decode (duplicate or unknown members, trailing data, over
 * CTNG_OBS_JSON_MAX bytes, checks out of order: CTNG_EINVAL). No signature
 * check: use ctng_obs_verify. *out zeroed on failure. */
int ctng_obs_decode(const char *json, size_t len, ctng_observation *out, ctng_err *err);
/* "obtained" / "failed" (NULL if invalid); name of one check bit. */
const char *ctng_obs_result_name(enum ctng_obs_result r);
const char *ctng_obs_check_name(uint32_t bit);

/* ----------------------------------------------------- signed INIT objects */

/* Canonical signed bytes of an STH, REV or ACC object (docs/protocol.md §4),
 * recomputed from its fields, appended to out. */
int ctng_gossip_signed_bytes(const ctng_gossip_object *o, ctng_buf *out, ctng_err *err);
/* Verifies an STH/REV/ACC object against its signer's public key: structure,
 * scheme == key algorithm, signature, REV delta hash, and for STH the period
 * derived with `clock` (required for STH, ignored otherwise). */
int ctng_gossip_verify_signed(const ctng_gossip_object *o, const ctng_sig_key *signer_key,
                              const ctng_clock *clock, ctng_err *err);

/* ------------------------------------------------------------------- CON */

/* True if a and b are STH/REV objects of the same type, signer and period
 * whose signed bytes differ (signatures are not checked here). */
bool ctng_gossip_conflicting(const ctng_gossip_object *a, const ctng_gossip_object *b);
/* Builds the CON proving a and b conflict (CTNG_EINVAL if they do not).
 * The two embedded objects are ordered canonically (by signed bytes), so
 * every builder produces the same payload. Does not verify signatures. */
int ctng_con_build(ctng_gossip_object *out, const ctng_gossip_object *a,
                   const ctng_gossip_object *b, uint64_t now_ms, ctng_err *err);
/* Decodes the two embedded objects (caller clears both). For a data CON, a
 * is its STH and b is left empty (type CTNG_TYPE_NONE); for a RID CON
 * (§5.2) both are left empty. */
int ctng_con_parts(const ctng_gossip_object *con, ctng_gossip_object *a, ctng_gossip_object *b,
                   ctng_err *err);
/* Verifies a CON: both embedded objects verify under entity_key (the
 * convicted entity's key), same id as the CON, different signed bytes; a
 * data CON (below) is verified with ctng_data_con_verify. A RID CON needs
 * the CA's certificate: CTNG_EINVAL here, use ctng_cert_con_verify
 * (ctng/cert.h), which verifies every kind. */
int ctng_con_verify(const ctng_gossip_object *con, const ctng_sig_key *entity_key,
                    const ctng_clock *clock, ctng_err *err);

/* ------------------------------------------------------------ tile roots */

/* A logger's signed statement of the roots of its data tiles
 * (docs/protocol.md §4.4): for the tree of `tree_size` leaves, the MTH of
 * the leaves of data tiles first .. first+count-1 (C2SP tiles of 256
 * leaves; the last tile of the tree may be partial). A monitor checks the
 * roots against the STH's root (they fold into it) and each entry bundle
 * against its root; signed roots that do not fold into the signed STH are a
 * proof of misbehaviour (the data CON, §5.1). Signed bytes:
 *   "CTng/v1/tile-roots\0" || lp32(logger) || u64be(tree_size) ||
 *   u64be(first) || u32be(count) || root[32] * count
 * signed like an STH: ECDSA P-256 / SHA-256, carried as a DigitallySigned. */
#define CTNG_TILE_ROOTS_TAG "CTng/v1/tile-roots"
#define CTNG_TILE_ROOTS_MAX 1024 /* roots per statement */
#define CTNG_TILE_ROOTS_JSON_MAX (128u << 10)

typedef struct ctng_tile_roots {
	char logger[CTNG_ID_MAX + 1];
	uint64_t tree_size;
	uint64_t first;       /* first data tile index */
	uint32_t count;       /* 1 .. CTNG_TILE_ROOTS_MAX */
	uint8_t (*roots)[32]; /* owned, count entries */
	uint8_t *sig;         /* owned DigitallySigned bytes; NULL = unsigned */
	size_t sig_len;
} ctng_tile_roots;

/* Frees the owned arrays and zeroes *t (NULL is a no-op). */
void ctng_tile_roots_clear(ctng_tile_roots *t);
/* Deep copy (dst cleared first). */
int ctng_tile_roots_copy(ctng_tile_roots *dst, const ctng_tile_roots *src, ctng_err *err);
/* Range rules (roots not looked at): logger id valid, 1 <= count <= CTNG_TILE_ROOTS_MAX, every
 * tile has at least one leaf in the tree (256 * (first + count - 1) <
 * tree_size). CTNG_EINVAL naming the rule. */
int ctng_tile_roots_check(const ctng_tile_roots *t, ctng_err *err);
/* Width (leaves) of the i-th tile of the statement (256, or less for the
 * tree's last tile). */
unsigned ctng_tile_roots_width(const ctng_tile_roots *t, uint32_t i);
/* The signed bytes above, appended to out. */
int ctng_tile_roots_tbs(const ctng_tile_roots *t, ctng_buf *out, ctng_err *err);
/* Signs t in place (key: the logger's ECDSA P-256 private key). */
int ctng_tile_roots_sign(ctng_tile_roots *t, const ctng_sig_key *key, ctng_err *err);
/* Verifies the signature with the logger's public key: CTNG_EVERIFY if it
 * does not verify or t is unsigned, CTNG_EINVAL if t breaks the rules. */
int ctng_tile_roots_verify(const ctng_tile_roots *t, const ctng_sig_key *key, ctng_err *err);
/* JSON (the answer of GET /ctng/v1/tile-roots, docs/endpoints.md):
 *   {"logger":ID,"tree_size":N,"first":N,"roots":["b64",...],"signature":"b64"|""}
 * Strict parse: exactly these members, integers in 0..2^63-1, every root
 * base64 of 32 bytes, the rules of ctng_tile_roots_check, at most
 * CTNG_TILE_ROOTS_JSON_MAX bytes; the signature, when not "", must be a
 * well-formed DigitallySigned (not verified here). */
int ctng_tile_roots_parse(const char *json, size_t len, ctng_tile_roots *out, ctng_err *err);
int ctng_tile_roots_from_json(const struct json_t *j, ctng_tile_roots *out, ctng_err *err);
/* New jansson object in the member order above (caller json_decref's). */
int ctng_tile_roots_to_json(const ctng_tile_roots *t, struct json_t **out, ctng_err *err);

/* ------------------------------------------------- data CON (PoM, §5.1) */

/* A data CON proves that a logger's signed tile roots (ctng_tile_roots) do
 * not fold into the root of its signed STH: the entries it served are not
 * the tree it signed. It is a CON (family CON, so it travels, is
 * CON_FRAG-signed and becomes a CON_FULL like a conflict) whose payload[1]
 * is the STH and payload[2] the evidence, canonical compact JSON:
 *   {"kind":"tile-roots","base":STH|null,"edge":["b64",...],
 *    "tile_roots":[TILE_ROOTS,...]}
 * base: an earlier STH of the same logger (null: the empty tree), edge its
 * compact range (popcount(base size) hashes, folding into base's root),
 * tile_roots: signed statements for the STH's tree, contiguous, from tile
 * floor(base size / 256) to the tree's last tile. */
#define CTNG_DATA_CON_KIND        "tile-roots"
#define CTNG_DATA_CON_MAX_BATCHES 64

/* True if con is a CON whose payload[2] is data-CON evidence, i.e. starts
 * with {"kind":"tile-roots" (structure not checked). */
bool ctng_con_is_data(const ctng_gossip_object *con);
/* Builds the data CON. base NULL: the empty tree (edge must be empty).
 * Signatures are not verified here (ctng_data_con_verify does). */
int ctng_data_con_build(ctng_gossip_object *out, const ctng_gossip_object *sth,
                        const ctng_gossip_object *base, const uint8_t (*edge)[32], unsigned n_edge,
                        const ctng_tile_roots *batches, size_t n_batches, uint64_t now_ms,
                        ctng_err *err);
/* Structure of a data CON (called by ctng_gossip_check for a data CON). */
int ctng_data_con_check(const ctng_gossip_object *con, ctng_err *err);
/* Verifies a data CON with the logger's key: both STHs and every tile-roots
 * statement signed by the logger (the STHs' periods per clock), the edge
 * folds into base's root, and the tile roots, appended to the edge's
 * subtrees of 256 leaves or more, do NOT give the STH's root. 0 = proven
 * misbehaviour; CTNG_EVERIFY ("... fold into the STH: no misbehaviour") or
 * CTNG_EINVAL otherwise. */
int ctng_data_con_verify(const ctng_gossip_object *con, const ctng_sig_key *logger_key,
                         const ctng_clock *clock, ctng_err *err);

/* -------------------------------------------------- RID CON (PoM, §5.2) */

/* A RID CON proves that a CA gave two different certificates one
 * revocation id (the RID extension, docs/cert-extension.md): two
 * certificates or precertificates signed by the CA, carrying the same RID,
 * whose logged TBSs differ. A CON against the CA (it travels, is
 * CON_FRAG-signed and becomes a permanent CON_FULL); payload[0] the CA,
 * payload[1] "", payload[2] the evidence, canonical compact JSON:
 *   {"kind":"rid-reuse","rid":N,"certs":["b64 DER","b64 DER"]}
 * the two DER certificates in ascending byte order. The scheme is the CA
 * key's. Only the structure is checked here (proto does not parse X.509):
 * the certificates are verified by ctng_rid_con_verify (ctng/cert.h), and
 * ctng_con_verify refuses a RID CON (CTNG_EINVAL) so that nobody takes it
 * unchecked. */
#define CTNG_RID_CON_KIND     "rid-reuse"
#define CTNG_RID_CON_CERT_MAX (64u << 10) /* = CTNG_CERT_DER_MAX */

/* True if con is a CON whose payload[2] is RID-CON evidence (structure not
 * checked). */
bool ctng_con_is_rid(const ctng_gossip_object *con);
/* Builds the RID CON of period `period` against ca_id (scheme: the CA
 * key's) from two DER certificates (any order; they must differ).
 * Certificates are not checked here. */
int ctng_rid_con_build(ctng_gossip_object *out, const char *ca_id, enum ctng_scheme scheme,
                       uint64_t period, uint32_t rid, const uint8_t *a, size_t an,
                       const uint8_t *b, size_t bn, uint64_t now_ms, ctng_err *err);
/* Structure of a RID CON (called by ctng_gossip_check for one). */
int ctng_rid_con_check(const ctng_gossip_object *con, ctng_err *err);
/* The RID and the two certificates (*a, *b malloc'd, ascending) of a RID
 * CON's evidence, checked for structure and canonical form. */
int ctng_rid_con_parts(const ctng_gossip_object *con, uint32_t *rid, uint8_t **a, size_t *an,
                       uint8_t **b, size_t *bn, ctng_err *err);

/* -------------------------------------------------- FRAG / FULL (threshold) */

/* What a FRAG/FULL's BLS signature covers (docs/protocol.md §5):
 *   "CTng/v1/attest\0" || u8 family || lp32(entity) || u64be(period)
 *   [|| digest(32) for STH and REV]
 * digest = SHA-256 of the INIT object's canonical signed bytes. ACC and CON
 * attest only (family, entity, period). The BLS DST is CTNG_BLS_DST_POP. */
#define CTNG_ATTEST_TAG "CTng/v1/attest"
int ctng_attest_bytes(enum ctng_family fam, const char *entity, uint64_t period,
                      const uint8_t digest[32], ctng_buf *out, ctng_err *err);
/* SHA-256 of the canonical signed bytes of an STH or REV object. */
int ctng_gossip_content_digest(const ctng_gossip_object *o, uint8_t digest[32], ctng_err *err);
/* Attestation bytes for any object: INIT (STH/REV/ACC/CON) computes the digest
 * itself; FRAG/FULL use their payload. Appended to out. */
int ctng_gossip_attest_bytes(const ctng_gossip_object *o, ctng_buf *out, ctng_err *err);

/* FRAG/FULL layout: payload [0] entity, [1] digest hex (STH/REV; "" for
 * ACC/CON), [2] ""; signature[0] = hex of the 48-byte BLS signature;
 * crypto_scheme "bls12-381". FRAG: signer = gossiper id. FULL: signer "",
 * signers = gossiper ids whose partials were combined (sorted). */
int ctng_frag_build(ctng_gossip_object *out, const ctng_gossip_object *init,
                    const char *gossiper_id, const uint8_t sig[48], uint64_t now_ms, ctng_err *err);
/* Builds a FULL from any FRAG of the same id (used as template). ids need not
 * be sorted; duplicates are CTNG_EINVAL. */
int ctng_full_build(ctng_gossip_object *out, const ctng_gossip_object *frag,
                    const char *const *signers, size_t n, const uint8_t sig[48], uint64_t now_ms,
                    ctng_err *err);
/* Decodes signature[0] of a FRAG/FULL. */
int ctng_gossip_bls_sig(const ctng_gossip_object *o, uint8_t sig[48], ctng_err *err);
/* True if the FRAG/FULL `att` attests the INIT object `init` (same id, and same
 * digest for STH/REV). */
bool ctng_gossip_attests(const ctng_gossip_object *att, const ctng_gossip_object *init);

#endif
