/* fuzz_cert_view.c — libFuzzer target for the in-place certificate reader
 * (ctng_cert_view_parse, src/cert/view.c), differential against OpenSSL:
 * whatever the view accepts, the strict OpenSSL parse (ctng_cert_from_der)
 * accepts too, the spans it records are OpenSSL's encodings, and for a
 * precertificate the cut-out TBS equals ctng_ct_entry_precert_x509's (or
 * both refuse). Never crashes. */
#include <stdint.h>

#include "../tests/cert/view_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (view_differential(data, size) < 0)
		__builtin_trap();
	return 0;
}
