/*
 * fuzz_mirror_sm.c — libFuzzer target for the answers a mirror job gets
 * (ctng_mirror_sm_on_response): a synthetic log of 600 entries (tests/mirror
 * fixture) and its signed STH; every FETCH the state machine asks for is
 * answered from the input: a status byte (0 transport failure, 1 200 with
 * the real answer, 2 200 with input bytes, else 404), then for 2 a length
 * byte and that many bytes. Invariants: no crash or leak; every STORE run
 * holds exactly the log's entries at their indices (nothing unverified is
 * ever stored); HELD only for the STH's tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/mirror/mfx.h"

static mfx f;
static ctng_gossip_object sth;
static int ready;

static void answer(const ctng_mirror_action *x, const uint8_t **in, size_t *left, int *status,
                   uint8_t **body, size_t *len)
{
	*body = NULL;
	*len = 0;
	if (*left == 0) {
		*status = 0;
		return;
	}
	uint8_t c = **in;
	(*in)++, (*left)--;
	if (c % 4 == 0) {
		*status = 0;
	} else if (c % 4 == 1) {
		*status = 200;
		uint64_t size, first, count, t;
		unsigned w;
		if (sscanf(x->path, "/ctng/v1/tile-roots?tree_size=%lu&first=%lu&count=%lu", &size,
		           &first, &count) == 3) {
			char *s = mfx_roots_json(&f, 0, size, first, (uint32_t)count, -1, true);
			*body = (uint8_t *)s;
			*len = s ? strlen(s) : 0;
		} else if (ctng_merkle_tile_index_parse(x->path + 11, &t, &w, NULL) == 0) {
			*body = mfx_bundle(&f, 0, t, w, -1, len);
		}
	} else if (c % 4 == 2) {
		*status = 200;
		size_t n = *left ? **in : 0;
		if (*left)
			(*in)++, (*left)--;
		if (n > *left)
			n = *left;
		*body = malloc(n ? n : 1);
		memcpy(*body, *in, n);
		*len = n;
		*in += n, *left -= n;
	} else {
		*status = 404;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		if (mfx_init(&f))
			abort();
		mfx_grow(&f, 0, 600);
		if (mfx_sth(&f, 0, 1, 600, NULL, &sth))
			abort();
		ready = 1;
	}
	ctng_mirror_sm *sm = NULL;
	if (ctng_mirror_sm_new(&f.net, "monitor1", NULL, &sm, NULL))
		abort();
	uint64_t now = mfx_time(1, 210);
	ctng_mirror_actions a = {0};
	ctng_mirror_sm_on_sth(sm, &sth, now, &a, NULL);
	uint64_t stored = 0;
	for (int rounds = 0; rounds < 64 && a.n; rounds++) {
		ctng_mirror_actions next = {0};
		for (size_t i = 0; i < a.n; i++) {
			ctng_mirror_action *x = &a.v[i];
			if (x->kind == CTNG_MIR_STORE) {
				if (x->run.first != stored)
					abort();
				for (size_t k = 0; k < x->run.n; k++)
					if (memcmp(x->run.entries[k].leaf_hash,
					           f.log[0].leaf[x->run.first + k], 32))
						abort();
				stored += x->run.n;
			} else if (x->kind == CTNG_MIR_HELD) {
				if (stored != 600)
					abort();
			} else if (x->kind == CTNG_MIR_FETCH) {
				int status;
				uint8_t *body;
				size_t len;
				answer(x, &data, &size, &status, &body, &len);
				now += 7;
				ctng_mirror_sm_on_response(
				    sm, x->id, status, body ? body : (uint8_t *)"", len,
				    status ? NULL : "down", now, &next, NULL);
				free(body);
			}
		}
		if (!next.n) {
			now += 100;
			ctng_mirror_sm_on_timer(sm, now, &next, NULL);
		}
		ctng_mirror_actions_free(&a);
		a = next;
	}
	ctng_mirror_actions_free(&a);
	ctng_mirror_sm_free(sm);
	return 0;
}
