/*
 * fuzz_dkg_transcript.c — libFuzzer target for the DKG transcript verifier
 * (what `ctng network finalize` trusts). A four-gossiper DKG with one
 * complaint runs once at start-up. Byte 0: even = the rest is a transcript;
 * odd = the rest is XORed over the real transcript. Invariants: no crash or
 * leak; every rejection carries a message; whatever verifies yields exactly
 * the real outcome (a changed message or result cannot verify to another
 * key).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/dkg/dkg_fixture.h"

static dfx g_f;
static char *g_tr;
static size_t g_tl;
static ctng_dkg_outcome g_out;

static void setup_once(void)
{
	if (g_tr)
		return;
	if (dfx_make(&g_f, 4, 2, NULL, NULL))
		abort();
	dh h;
	uint32_t faults[4] = {0, 0, CTNG_DKG_FAULT_BAD_SHARE, 0};
	if (dh_init(&h, &g_f, faults, NULL, NULL, NULL, NULL) || dh_run(&h, 60000) ||
	    ctng_dkg_sm_transcript(h.sm[0], &g_tr, &g_tl, NULL) ||
	    ctng_dkg_transcript_verify_net(&g_f.net, g_tr, g_tl, &g_out, NULL))
		abort();
	dh_free(&h);
}

static void check(const char *txt, size_t len)
{
	ctng_dkg_outcome o;
	ctng_err e = {0};
	int rc = ctng_dkg_transcript_verify_net(&g_f.net, txt, len, &o, &e);
	if (rc && !e.msg[0])
		abort();
	if (rc == 0) {
		if (!ctng_dkg_outcome_equal(&o, &g_out))
			abort();
		ctng_dkg_outcome_free(&o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		check((const char *)data + 1, size - 1);
		return 0;
	}
	char *buf = malloc(g_tl);
	if (!buf)
		return 0;
	memcpy(buf, g_tr, g_tl);
	/* the mutation lands at an offset chosen by bytes 1-2 */
	size_t off = size >= 3 ? ((size_t)data[1] << 8 | data[2]) * 7 % g_tl : 0;
	for (size_t i = 3; i < size && off + i - 3 < g_tl; i++)
		buf[off + i - 3] ^= (char)data[i];
	check(buf, g_tl);
	free(buf);
	return 0;
}
