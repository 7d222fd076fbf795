/* fuzz_ctng_ext.c — libFuzzer target for the CTng certificate extension
 * decoder (ctng_cert_proofs_decode): never crashes, and whatever it accepts
 * re-encodes to exactly the input bytes (DER is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctng_cert_proofs ps;
	if (ctng_cert_proofs_decode(data, size, &ps, NULL) == 0) {
		uint8_t *der = NULL;
		size_t len = 0;
		if (ctng_cert_proofs_encode(&ps, &der, &len, NULL) != 0 || len != size ||
		    memcmp(der, data, size) != 0)
			__builtin_trap();
		free(der);
		ctng_cert_proofs_clear(&ps);
	}
	return 0;
}
