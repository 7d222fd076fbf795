/*
 * fuzz_bls_point.c — libFuzzer target for BLS12-381 point decoding (keys and
 * signatures arrive from the network): ZCash compressed/uncompressed G1 and
 * G2 decoders and the public key/signature checks of ctng/bls.h. The first
 * byte picks the decoder; the rest is the encoding (padded/truncated to the
 * exact length). Invariants: no crash; an accepted point is on the curve and
 * in the subgroup, and re-encodes to exactly the input (encodings are
 * canonical); the public checks agree with the decoders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/bls12_381/curve.h"
#include "ctng/bls.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t buf[192] = {0}, out[192];
	uint8_t sel = data[0] % 4;
	size_t lens[4] = {48, 96, 96, 192};
	size_t n = lens[sel];
	memcpy(buf, data + 1, size - 1 < n ? size - 1 : n);
	ctng_err err;
	if (sel == 0 || sel == 1) {
		g1 p;
		int rc = sel == 0 ? g1_decompress(&p, buf) : g1_deserialize(&p, buf);
		if (rc == BLS_DEC_OK) {
			check(g1_is_on_curve(&p) && g1_in_subgroup(&p));
			if (sel == 0)
				g1_compress(out, &p);
			else
				g1_serialize(out, &p);
			check(memcmp(out, buf, n) == 0);
		}
		if (sel == 0) {
			int ok = ctng_bls_sig_check(buf, &err) == 0;
			check(ok == (rc == BLS_DEC_OK && !g1_is_identity(&p)));
		}
	} else {
		g2 q;
		int rc = sel == 2 ? g2_decompress(&q, buf) : g2_deserialize(&q, buf);
		if (rc == BLS_DEC_OK) {
			check(g2_is_on_curve(&q) && g2_in_subgroup(&q));
			if (sel == 2)
				g2_compress(out, &q);
			else
				g2_serialize(out, &q);
			check(memcmp(out, buf, n) == 0);
		}
		if (sel == 2) {
			int ok = ctng_bls_pk_check(buf, &err) == 0;
			check(ok == (rc == BLS_DEC_OK && !g2_is_identity(&q)));
		}
	}
	return 0;
}
