/* fuzz_client_cert.c — libFuzzer target for offline certificate validation
 * (ctng_client_validate_der and _pem): arbitrary bytes validated against a
 * fixed small state (a network made once with ctng_init_network, one period
 * synced, one valid certificate) never crash and always give a reason with a
 * sentence; only the network's genuine certificate is ever OK. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/client/client_fixture.h"

static cfx fx;
static ctng_client *state;
static uint8_t *good;
static size_t good_len;

static void cleanup(void)
{
	ctng_client_close(state);
	free(good);
	cfx_free(&fx); /* removes the network's temporary folder */
}

static void setup(void)
{
	ctng_err err = {0};
	size_t lg[] = {0};
	cfx_pend pend;
	X509 *x = NULL;
	char *txt = NULL;
	size_t len = 0;
	if (cfx_setup(&fx, 1, 1, 2, 2, &err) ||
	    ctng_client_open(":memory:", fx.net_json, fx.net_len, &state, &err) ||
	    cfx_precert(&fx, 0, "fuzz.example.com", 1, lg, 1, 0, &pend, &err) ||
	    cfx_close_period(&fx, 0, &err) || cfx_finalize(&fx, &pend, &x, &err) ||
	    cfx_update(&fx, 0, NULL, &txt, &len, &err) ||
	    ctng_client_apply_update(state, txt, len, NULL, &err) ||
	    ctng_cert_to_der(x, &good, &good_len, &err))
		__builtin_trap();
	free(txt);
	X509_free(x);
	cfx_pend_free(&pend);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!state)
		setup();
	uint64_t now = ctng_now_ms();
	ctng_client_result r;
	if (ctng_client_validate_der(state, data, size, now, &r, NULL) ||
	    !ctng_client_reason_name(r.reason) || !r.message[0])
		__builtin_trap();
	if (r.reason == CTNG_CLIENT_OK && (size != good_len || memcmp(data, good, size) != 0))
		__builtin_trap();
	/* the same bytes as PEM text */
	if (ctng_client_validate_pem(state, (const char *)data, size, now, &r, NULL) ||
	    !ctng_client_reason_name(r.reason) || !r.message[0])
		__builtin_trap();
	/* and the genuine certificate with the input's bytes spliced in */
	if (size && good_len) {
		uint8_t *m = malloc(good_len);
		memcpy(m, good, good_len);
		size_t off = data[0] % good_len;
		size_t n = size - 1 < good_len - off ? size - 1 : good_len - off;
		memcpy(m + off, data + 1, n);
		if (ctng_client_validate_der(state, m, good_len, now, &r, NULL) ||
		    !ctng_client_reason_name(r.reason))
			__builtin_trap();
		free(m);
	}
	return 0;
}
