/*
 * ctng/wire.h — the compact binary form of gossip objects and monitor
 * observations between the nodes of one network (docs/protocol.md §11).
 *
 * The JSON envelope (ctng/proto.h) names everything in text: entity ids,
 * type URIs, hex digests, base64 signatures, RFC 3339 times. Inside one
 * network every node holds the same network.json, so an entity is its index
 * in that file, a FULL's signers are a bitmap of BLS share ids, a time is a
 * small offset from its period's start, and a signature is its raw bytes. The
 * binary form says exactly what the JSON says — wire_decode(wire_encode(o))
 * has the same canonical JSON as o — in about a quarter of the bytes, which
 * is what keeps a gossiper of the seed network under 5 KB per period.
 *
 * It travels as an HTTP body of Content-Type CTNG_WIRE_CONTENT_TYPE on
 * POST /ctng/v1/gossip and POST /ctng/v1/observation; a receiver takes
 * either form, chosen by the request's Content-Type (ctng_wire_read). A
 * sender falls back to JSON for the few objects the binary form does not
 * cover (an entity that is not in network.json, a non-canonical DER
 * signature, a REV whose delta hash is wrong): ctng_wire_body.
 *
 * The decoder is strict: one encoding per object. Minimal varints only,
 * nothing trailing, every index in range and of the right role, every field
 * as ctng_gossip_check / ctng_obs_check require, and the decoded object must
 * encode back to exactly the input ("wire: not canonical"). Errors are
 * CTNG_EINVAL with a message starting "wire: ", or CTNG_ENOMEM; signatures
 * are not verified here (the state machines do that).
 */
#ifndef CTNG_WIRE_H
#define CTNG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"

#define CTNG_WIRE_CONTENT_TYPE "application/vnd.ctng.wire"
#define CTNG_WIRE_MAX          CTNG_GOSSIP_JSON_MAX /* bytes of one encoded object */
#define CTNG_WIRE_OBS_CODE     0x50                 /* first byte of an observation */
#define CTNG_WIRE_OBS_MAX      128                  /* bytes of one encoded observation */

/* Appends the binary form of o (which must pass ctng_gossip_check) to out.
 * CTNG_EINVAL when o cannot be said in it (see above); out is then left as
 * it was. */
int ctng_wire_encode(const ctng_network *net, const ctng_gossip_object *o, ctng_buf *out,
                     ctng_err *err);
/* Strict decode of exactly in[0..len). *out is cleared first and on failure. */
int ctng_wire_decode(const ctng_network *net, const uint8_t *in, size_t len,
                     ctng_gossip_object *out, ctng_err *err);

/* The same for a monitor's observation (ctng_observation). */
int ctng_wire_encode_obs(const ctng_network *net, const ctng_observation *o, ctng_buf *out,
                         ctng_err *err);
int ctng_wire_decode_obs(const ctng_network *net, const uint8_t *in, size_t len,
                         ctng_observation *out, ctng_err *err);

/* True if the Content-Type header value names the binary form (parameters
 * after ';' and case are ignored). NULL is false. */
bool ctng_wire_content_type_is(const char *content_type);

/* The HTTP body to send o or obs in: the binary form, or canonical JSON when
 * net is NULL or the binary form cannot say it. *body is malloc'd (free()),
 * *ctype is a constant string. */
int ctng_wire_body(const ctng_network *net, const ctng_gossip_object *o, uint8_t **body,
                   size_t *len, const char **ctype, ctng_err *err);
int ctng_wire_body_obs(const ctng_network *net, const ctng_observation *obs, uint8_t **body,
                       size_t *len, const char **ctype, ctng_err *err);

/* Decodes a received body by its Content-Type: the binary form, or else the
 * strict JSON decoder (ctng_gossip_decode / ctng_obs_decode). */
int ctng_wire_read(const ctng_network *net, const char *content_type, const uint8_t *body,
                   size_t len, ctng_gossip_object *out, ctng_err *err);
int ctng_wire_read_obs(const ctng_network *net, const char *content_type, const uint8_t *body,
                       size_t len, ctng_observation *out, ctng_err *err);

#endif
