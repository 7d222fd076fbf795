/*
 * fuzz_merkle_proof.c — libFuzzer target for the merkle module's parsers of
 * outside input: the RFC 9162 inclusion and consistency verifiers (proofs
 * come from logs), the C2SP tile path parser (URLs come from clients) and the
 * leaves-file parser of `ctng merkle`. The first byte picks the target.
 * Invariants checked: no crash; a verified inclusion proof's computed root
 * equals the root given; a parsed tile path formats back to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/merkle.h"

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sizes from the fuzzer are mostly small so that proofs can line up, with
 * the full 64-bit range reachable too. */
static uint64_t pick_size(const uint8_t *p)
{
	uint64_t v = rd64(p);
	return (p[0] & 0x80) ? v : v % 4096;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 4;
	data++;
	size--;
	if (mode == 0 && size >= 16 + 64) {
		uint64_t idx = pick_size(data), n = pick_size(data + 8);
		const uint8_t *leaf = data + 16, *root = data + 48;
		size_t plen = (size - 80) / 32;
		const uint8_t(*proof)[32] = (const uint8_t(*)[32])(data + 80);
		uint8_t computed[32];
		ctng_err err = {0};
		int rc = ctng_merkle_verify_inclusion(leaf, idx, n, root, proof, plen, &err);
		int rc2 =
		    ctng_merkle_root_from_inclusion(leaf, idx, n, proof, plen, computed, NULL);
		if (rc == 0 && (rc2 != 0 || memcmp(computed, root, 32) != 0))
			__builtin_trap();
		if (rc != 0 && rc != CTNG_EVERIFY && rc != CTNG_EINVAL)
			__builtin_trap();
	} else if (mode == 1 && size >= 16 + 64) {
		uint64_t s1 = pick_size(data), s2 = pick_size(data + 8);
		size_t plen = (size - 80) / 32;
		ctng_err err = {0};
		int rc = ctng_merkle_verify_consistency(
		    s1, s2, data + 16, data + 48, (const uint8_t(*)[32])(data + 80), plen, &err);
		if (rc != 0 && rc != CTNG_EVERIFY && rc != CTNG_EINVAL)
			__builtin_trap();
	} else if (mode == 2) {
		char *s = malloc(size + 1);
		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = 0;
		unsigned level, w;
		uint64_t n;
		if (ctng_merkle_tile_path_parse(s, &level, &n, &w, NULL) == 0) {
			char back[CTNG_MERKLE_TILE_PATH_MAX];
			if (ctng_merkle_tile_path(back, sizeof(back), level, n, w) != 0 ||
			    strcmp(back, s) != 0)
				__builtin_trap();
		}
		free(s);
	} else if (mode == 3) {
		uint8_t(*leaves)[32];
		uint64_t n;
		if (ctng_merkle_leaves_parse((const char *)data, size, &leaves, &n, NULL) == 0) {
			uint8_t root[32];
			if (ctng_merkle_root((const uint8_t(*)[32])leaves, n, n, root, NULL) != 0)
				__builtin_trap();
			free(leaves);
		}
	}
	return 0;
}
