/*
 * fuzz_gossip_object.c — libFuzzer target for the gossip object JSON decoder
 * (ctng_gossip_decode), the parser every node runs on objects from the
 * network. Invariants: no crash or leak; an accepted object re-encodes
 * canonically, the encoding decodes again to an equal object (idempotent),
 * and its id, attestation bytes and (for STH/REV/ACC) signed bytes compute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctng_gossip_object o = {0}, again = {0}, a = {0}, b = {0};
	ctng_err err = {0};
	if (ctng_gossip_decode((const char *)data, size, &o, &err) != 0) {
		if (err.code != CTNG_EINVAL || !err.msg[0])
			abort(); /* rejections are EINVAL with a message */
		return 0;
	}
	char *enc = NULL;
	size_t len = 0;
	if (ctng_gossip_encode(&o, &enc, &len, &err) != 0)
		abort();
	if (ctng_gossip_decode(enc, len, &again, &err) != 0 || !ctng_gossip_equal(&o, &again))
		abort();
	ctng_gossip_id id;
	char idstr[CTNG_GOSSIP_ID_STR_MAX];
	if (ctng_gossip_id_of(&o, &id, &err) != 0)
		abort();
	ctng_gossip_id_str(&id, idstr);
	ctng_buf buf = {0};
	if (ctng_gossip_attest_bytes(&o, &buf, &err) != 0)
		abort();
	ctng_buf_reset(&buf);
	if ((o.type == CTNG_STH || o.type == CTNG_REV || o.type == CTNG_ACC) &&
	    ctng_gossip_signed_bytes(&o, &buf, &err) != 0)
		abort();
	if (o.type == CTNG_CON && ctng_con_parts(&o, &a, &b, &err) != 0)
		abort();
	if (o.type == CTNG_REV) {
		ctng_rev r;
		if (ctng_rev_from_object(&o, &r, &err) != 0)
			abort();
		ctng_rev_clear(&r);
	}
	ctng_buf_free(&buf);
	free(enc);
	ctng_gossip_clear(&o);
	ctng_gossip_clear(&again);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	return 0;
}
