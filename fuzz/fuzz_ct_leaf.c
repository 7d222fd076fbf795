/* fuzz_ct_leaf.c — libFuzzer target for the RFC 6962 MerkleTreeLeaf decoder
 * (ctng_ct_leaf_decode): never crashes; an accepted leaf re-encodes to the
 * input bytes. Also feeds the input to the strict certificate DER and PEM
 * parsers. */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctng_ct_entry e;
	uint64_t ts;
	uint8_t *ex = NULL;
	size_t exl = 0;
	if (ctng_ct_leaf_decode(data, size, &e, &ts, &ex, &exl, NULL) == 0) {
		ctng_buf b = {0};
		if (ctng_ct_leaf_encode(&e, ts, ex, exl, &b, NULL) != 0 || b.len != size ||
		    memcmp(b.data, data, size) != 0)
			__builtin_trap();
		ctng_buf_free(&b);
		free(ex);
		ctng_ct_entry_clear(&e);
	}
	X509 *x = NULL;
	if (ctng_cert_from_der(data, size, &x, NULL) == 0) {
		ctng_cert_proofs ps;
		if (ctng_cert_get_proofs(x, &ps, NULL) == 0)
			ctng_cert_proofs_clear(&ps);
		X509_free(x);
	}
	/* the strict PEM reader on the same bytes */
	if (ctng_cert_from_pem((const char *)data, size, &x, NULL) == 0)
		X509_free(x);
	return 0;
}
