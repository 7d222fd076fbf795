/*
 * body.c — gossip objects and observations as HTTP bodies: the sender's
 * choice between the binary form and JSON (binary whenever it can say the
 * object), and the receiver's decoder chosen by the request's Content-Type,
 * so a node takes both forms and old senders keep working.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctng/wire.h"

#define JSON_TYPE "application/json"

bool ctng_wire_content_type_is(const char *ct)
{
	size_t n = strlen(CTNG_WIRE_CONTENT_TYPE);
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, CTNG_WIRE_CONTENT_TYPE, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Takes a finished binary encoding (rc 0) or, when it cannot say the object
 * (EINVAL), lets the caller fall back to JSON (returns 1). */
static int take(ctng_buf *b, int rc, uint8_t **body, size_t *len, const char **ctype)
{
	if (rc == 0) {
		*body = ctng_buf_detach(b, len);
		*ctype = CTNG_WIRE_CONTENT_TYPE;
		return 0;
	}
	ctng_buf_free(b);
	return rc == CTNG_EINVAL ? 1 : rc;
}

int ctng_wire_body(const ctng_network *net, const ctng_gossip_object *o, uint8_t **body,
                   size_t *len, const char **ctype, ctng_err *err)
{
	*body = NULL;
	*len = 0;
	if (net) {
		ctng_buf b = {0};
		int rc = take(&b, ctng_wire_encode(net, o, &b, NULL), body, len, ctype);
		if (rc <= 0)
			return rc ? ctng_err_set(err, rc, "out of memory") : 0;
	}
	char *json = NULL;
	int rc = ctng_gossip_encode(o, &json, len, err);
	*body = (uint8_t *)json;
	*ctype = JSON_TYPE;
	return rc;
}

int ctng_wire_body_obs(const ctng_network *net, const ctng_observation *obs, uint8_t **body,
                       size_t *len, const char **ctype, ctng_err *err)
{
	*body = NULL;
	*len = 0;
	if (net) {
		ctng_buf b = {0};
		int rc = take(&b, ctng_wire_encode_obs(net, obs, &b, NULL), body, len, ctype);
		if (rc <= 0)
			return rc ? ctng_err_set(err, rc, "out of memory") : 0;
	}
	char *json = NULL;
	int rc = ctng_obs_encode(obs, &json, len, err);
	*body = (uint8_t *)json;
	*ctype = JSON_TYPE;
	return rc;
}

int ctng_wire_read(const ctng_network *net, const char *content_type, const uint8_t *body,
                   size_t len, ctng_gossip_object *out, ctng_err *err)
{
	if (ctng_wire_content_type_is(content_type))
		return ctng_wire_decode(net, body, len, out, err);
	return ctng_gossip_decode((const char *)body, len, out, err);
}

int ctng_wire_read_obs(const ctng_network *net, const char *content_type, const uint8_t *body,
                       size_t len, ctng_observation *out, ctng_err *err)
{
	if (ctng_wire_content_type_is(content_type))
		return ctng_wire_decode_obs(net, body, len, out, err);
	return ctng_obs_decode((const char *)body, len, out, err);
}
