/*
 * meter.c — the per-thread operation meter and the simulation memo of
 * ctng/meter.h: counters, and an open-addressing table of SHA-256 digests
 * of verification inputs with their outcome.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/meter.h"

static _Thread_local ctng_meter *t_meter;

struct ctng_meter_memo {
	uint8_t (*keys)[32];
	uint8_t *state; /* 0 empty, 1 valid, 2 does not verify */
	size_t cap, used;
};

static const char *const op_names[CTNG_METER_OPS] = {
    "bls_sign",   "bls_verify",     "bls_combine",   "bls_combine_share", "bls_batch_item",
    "ecdsa_sign", "ecdsa_verify",   "ed25519_sign",  "ed25519_verify",
};

const char *ctng_meter_op_name(ctng_meter_op op)
{
	return (unsigned)op < CTNG_METER_OPS ? op_names[op] : NULL;
}

ctng_meter *ctng_meter_use(ctng_meter *m)
{
	ctng_meter *old = t_meter;
	t_meter = m;
	return old;
}

ctng_meter_memo *ctng_meter_memo_new(size_t max_entries)
{
	ctng_meter_memo *m = calloc(1, sizeof(*m));
	size_t cap = 64;
	while (cap < max_entries * 2 && cap < ((size_t)1 << 30))
		cap <<= 1;
	if (!m || !(m->keys = malloc(cap * 32)) || !(m->state = calloc(cap, 1))) {
		ctng_meter_memo_free(m);
		return NULL;
	}
	m->cap = cap;
	return m;
}

void ctng_meter_memo_free(ctng_meter_memo *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->state);
	free(m);
}

void ctng_meter_count(ctng_meter_op op, uint64_t n)
{
	if (t_meter && (unsigned)op < CTNG_METER_OPS)
		t_meter->ops[op] += n;
}

int ctng_meter_memo_active(void)
{
	return t_meter && t_meter->memo;
}

/* Slot of h: its own, or the empty one where it would go. */
static size_t slot_of(const ctng_meter_memo *m, const uint8_t h[32])
{
	uint64_t x;
	memcpy(&x, h, sizeof x);
	size_t i = (size_t)x & (m->cap - 1);
	while (m->state[i] && memcmp(m->keys[i], h, 32) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

int ctng_meter_memo_lookup(ctng_meter_key *key, const void *const *parts, const size_t *lens,
                           size_t n, int *rc)
{
	key->active = 0;
	if (!t_meter || !t_meter->memo)
		return 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (size_t i = 0; ok && i < n; i++) {
		uint8_t l[8];
		for (int b = 0; b < 8; b++)
			l[b] = (uint8_t)((uint64_t)lens[i] >> (56 - 8 * b));
		ok = EVP_DigestUpdate(ctx, l, sizeof l) == 1 &&
		     (lens[i] == 0 || EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1);
	}
	unsigned int hl = 32;
	ok = ok && EVP_DigestFinal_ex(ctx, key->h, &hl) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return 0;
	key->active = 1;
	const ctng_meter_memo *m = t_meter->memo;
	size_t i = slot_of(m, key->h);
	if (!m->state[i])
		return 0;
	*rc = m->state[i] == 1 ? 0 : CTNG_EVERIFY;
	t_meter->memo_hits++;
	return 1;
}

void ctng_meter_memo_store(const ctng_meter_key *key, int rc)
{
	if (!key->active || !t_meter || !t_meter->memo || (rc != 0 && rc != CTNG_EVERIFY))
		return;
	ctng_meter_memo *m = t_meter->memo;
	if (m->used * 2 >= m->cap) { /* full: forget everything, start again */
		memset(m->state, 0, m->cap);
		m->used = 0;
	}
	size_t i = slot_of(m, key->h);
	if (!m->state[i]) {
		memcpy(m->keys[i], key->h, 32);
		m->used++;
	}
	m->state[i] = rc == 0 ? 1 : 2;
}
