/*
 * fuzz_dkg_msg.c — libFuzzer target for the DKG message parser and the
 * state machine's input path (the body of POST /ctng/v1/dkg/message). A
 * network of four gossipers runs one honest DKG at start-up to get real
 * deals, responses and justifications (one dealer sends a wrong share, so
 * there is a complaint and its answer). Byte 0: 0 mod 4 = the rest is a
 * message as POSTed; 2 mod 4 = the rest is a notice body (POST
 * /ctng/v1/dkg/notice); odd = the rest is XORed over real message number
 * byte 1.
 * Invariants: no crash or leak; a parsed message re-encodes to text that
 * parses to the same message (same hash); a fresh participant accepts a
 * message only if it is one of the real ones (any change breaks the
 * signature or the checks), and every rejection carries a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/dkg/dkg_fixture.h"

static dfx g_f;
static char *g_msgs[64];
static size_t g_len[64], g_n;
static uint8_t g_hash[64][32];

static void keep(const char *json, size_t len, void *arg)
{
	(void)arg;
	if (g_n < 64 && (g_msgs[g_n] = malloc(len))) {
		memcpy(g_msgs[g_n], json, len);
		g_len[g_n] = len;
		ctng_dkg_msg m;
		if (ctng_dkg_msg_parse(json, len, &m, NULL) ||
		    ctng_dkg_msg_hash(&m, g_hash[g_n], NULL))
			abort();
		ctng_dkg_msg_clear(&m);
		g_n++;
	}
}

static void setup_once(void)
{
	if (g_n)
		return;
	if (dfx_make(&g_f, 4, 2, NULL, NULL))
		abort();
	dh h;
	uint32_t faults[4] = {0, CTNG_DKG_FAULT_BAD_SHARE, 0, 0};
	if (dh_init(&h, &g_f, faults, NULL, NULL, NULL, NULL) || dh_run(&h, 60000) ||
	    !dh_all_finished(&h))
		abort();
	ctng_dkg_sm_each(h.sm[0], keep, NULL);
	dh_free(&h);
}

static void feed(const char *data, size_t len)
{
	ctng_dkg_config c = {.net = &g_f.net,
	                     .self_id = "gossiper4",
	                     .sign_key = g_f.p[3].sig,
	                     .dkg_sk = g_f.p[3].xsk};
	ctng_dkg_sm *sm = NULL;
	if (ctng_dkg_sm_new(&c, &sm, NULL))
		abort();
	ctng_dkg_actions a = {0};
	ctng_err e = {0};
	int rc = ctng_dkg_sm_on_message(sm, data, len, "gossiper1", 1700000000000ull, &a, &e);
	if (rc < 0 && !e.msg[0])
		abort();
	if (rc == CTNG_DKG_NEW) {
		ctng_dkg_msg m;
		uint8_t h[32];
		bool known = false;
		if (ctng_dkg_msg_parse(data, len, &m, NULL) || ctng_dkg_msg_hash(&m, h, NULL))
			abort();
		for (size_t i = 0; i < g_n && !known; i++)
			known = memcmp(h, g_hash[i], 32) == 0;
		if (!known)
			abort(); /* accepted something nobody signed */
		ctng_dkg_msg_clear(&m);
	}
	ctng_dkg_actions_free(&a);
	ctng_dkg_sm_free(sm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	if (size < 1)
		return 0;
	if ((data[0] & 3) == 2) {
		uint8_t s[32], h[32];
		ctng_err e = {0};
		if (ctng_dkg_notice_parse((const char *)data + 1, size - 1, s, h, &e) && !e.msg[0])
			abort();
		return 0;
	}
	if ((data[0] & 1) == 0) {
		const char *txt = (const char *)data + 1;
		size_t len = size - 1;
		ctng_dkg_msg m;
		if (ctng_dkg_msg_parse(txt, len, &m, NULL) == 0) {
			char *re = NULL;
			size_t rl = 0;
			ctng_dkg_msg m2;
			uint8_t h1[32], h2[32];
			if (ctng_dkg_msg_encode(&m, &re, &rl, NULL) ||
			    ctng_dkg_msg_parse(re, rl, &m2, NULL) ||
			    ctng_dkg_msg_hash(&m, h1, NULL) || ctng_dkg_msg_hash(&m2, h2, NULL) ||
			    memcmp(h1, h2, 32) != 0)
				abort();
			ctng_dkg_msg_clear(&m2);
			free(re);
			ctng_dkg_msg_clear(&m);
		}
		feed(txt, len);
		return 0;
	}
	if (size < 2)
		return 0;
	size_t k = data[1] % g_n;
	char *buf = malloc(g_len[k]);
	if (!buf)
		return 0;
	memcpy(buf, g_msgs[k], g_len[k]);
	for (size_t i = 2; i < size && i - 2 < g_len[k]; i++)
		buf[i - 2] ^= (char)data[i];
	feed(buf, g_len[k]);
	free(buf);
	return 0;
}
