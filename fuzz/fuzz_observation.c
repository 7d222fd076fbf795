/*
 * fuzz_observation.c — libFuzzer target for the monitor-observation (OBS)
 * decoder (ctng_obs_decode), which every gossiper runs on POST
 * /ctng/v1/observation. Invariants: no crash or leak; a rejection is
 * CTNG_EINVAL with a message; an accepted observation re-encodes, the
 * encoding decodes to the same bytes (idempotent), its signed bytes compute,
 * and verification under an unrelated key fails cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/proto.h"
#include "ctng/sig.h"

static ctng_sig_key *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!key && ctng_sig_generate(CTNG_SIG_ED25519, &key, NULL))
		abort();
	ctng_observation o, again;
	ctng_err err = {0};
	if (ctng_obs_decode((const char *)data, size, &o, &err) != 0) {
		if (err.code != CTNG_EINVAL || !err.msg[0])
			abort();
		return 0;
	}
	char *enc = NULL;
	size_t len = 0;
	if (ctng_obs_encode(&o, &enc, &len, &err) != 0)
		abort();
	if (ctng_obs_decode(enc, len, &again, &err) != 0 || memcmp(&o, &again, sizeof(o)) != 0)
		abort();
	ctng_buf b = {0};
	if (ctng_obs_signed_bytes(&o, &b, &err) != 0)
		abort();
	int rc = ctng_obs_verify(&o, key, &err);
	if (rc != CTNG_EVERIFY && rc != CTNG_EINVAL)
		abort(); /* nobody can forge under a fresh key */
	ctng_buf_free(&b);
	free(enc);
	return 0;
}
