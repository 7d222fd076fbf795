/* fuzz_client_update.c — libFuzzer target for the relying party's client
 * update parser and verifier (ctng_client_apply_update, docs/client-update.md):
 * arbitrary bytes applied to a fresh in-memory state of a fixed small
 * network (made once with ctng_init_network) never crash, and a rejected
 * update leaves the state untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/client/client_fixture.h"

static cfx fx;
static int ready;

static void cleanup(void)
{
	cfx_free(&fx); /* removes the network's temporary folder */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		if (cfx_setup(&fx, 2, 2, 2, 2, NULL))
			__builtin_trap();
		ctng_log_set_level(CTNG_LOG_OFF);
		atexit(cleanup);
		ready = 1;
	}
	/* one state, reopened only after an update was applied */
	static ctng_client *c;
	if (!c && ctng_client_open(":memory:", fx.net_json, fx.net_len, &c, NULL))
		__builtin_trap();
	ctng_err err = {0};
	int rc = ctng_client_apply_update(c, (const char *)data, size, NULL, &err);
	uint64_t p;
	bool have = ctng_client_last_period(c, &p);
	if (rc == 0 && !have)
		__builtin_trap(); /* applied but no period recorded */
	if (rc != 0 && (have || err.msg[0] == 0))
		__builtin_trap(); /* rejected but state changed, or no reason */
	if (rc == 0) {
		ctng_client_close(c);
		c = NULL;
	}
	return 0;
}
