/*
 * fuzz_bls_combine.c — libFuzzer target for threshold combination, whose
 * inputs (share ids and partial signatures) come from other gossipers.
 * Input layout: byte 0 = threshold t (0..255), then records of a 4-byte
 * big-endian id followed by a 48-byte compressed partial. Invariants: no
 * crash; a combination succeeds only with >= t records, no id 0, no
 * duplicate among the first t ids and well-formed partials, and then yields
 * a valid, non-identity signature encoding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/bls.h"

#define REC     52
#define MAX_REC 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t t = data[0];
	size_t count = (size - 1) / REC;
	if (count > MAX_REC)
		count = MAX_REC;
	uint32_t ids[MAX_REC];
	uint8_t parts[MAX_REC][48];
	for (size_t i = 0; i < count; i++) {
		const uint8_t *r = data + 1 + i * REC;
		ids[i] = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
		memcpy(parts[i], r + 4, 48);
	}
	uint8_t sig[48];
	ctng_err err;
	int rc = ctng_bls_combine(sig, ids, (const uint8_t(*)[48])parts, count, t, &err);
	if (rc == 0) {
		if (t == 0 || count < t)
			abort();
		for (size_t i = 0; i < t; i++) {
			if (ids[i] == 0)
				abort();
			for (size_t j = 0; j < i; j++)
				if (ids[i] == ids[j])
					abort();
			if (ctng_bls_sig_check(parts[i], &err) != 0)
				abort();
		}
		if (ctng_bls_sig_check(sig, &err) != 0)
			abort();
	}
	return 0;
}
