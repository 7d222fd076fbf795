/* test_load.c — the extra load of `ctng bench network` (src/testnet/load.c):
 * its precertificates carry RIDs of their own, distinct from each other and
 * from any RID a CA of the run assigns, so the monitors' RID index finds no
 * reuse and convicts nobody (a bug that made the loaded bench run convict
 * ca1: every load precertificate had RID 0, like ca1's first certificate). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/x509.h>

#include "ctng/cert.h"
#include "ctng/config.h"
#include "testnet/testnet_internal.h"
#include "testutil.h"

static void test_load_rids(void **state)
{
	(void)state;
	char dir[] = "/tmp/ctng-load-XXXXXX";
	assert_non_null(mkdtemp(dir));
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.dkg = false; /* dealt: no DKG to wait for */
	ctng_err err = {0};
	if (ctng_init_network(dir, &o, &err))
		fail_msg("init: %s", err.msg);
	char path[256];
	snprintf(path, sizeof path, "%s/network.json", dir);
	ctng_network net = {0};
	assert_int_equal(ctng_network_load(path, &net, &err), 0);
	testnet_load l;
	assert_int_equal(testnet_load_init(&l, &net, dir, 6, 3, &err), 0);
	assert_int_equal(l.n_bodies, 18);
	uint32_t rids[18];
	for (size_t i = 0; i < l.n_bodies; i++) {
		json_t *j = json_loads(l.bodies[i], 0, NULL);
		assert_non_null(j);
		const char *b64 = json_string_value(json_array_get(json_object_get(j, "chain"), 0));
		uint8_t *der = NULL;
		size_t n = 0;
		assert_int_equal(ctng_b64_decode_alloc(b64, strlen(b64), &der, &n, NULL), 0);
		X509 *x = NULL;
		assert_int_equal(ctng_cert_from_der(der, n, &x, NULL), 0);
		assert_int_equal(ctng_cert_get_rid(x, &rids[i], NULL), 0);
		/* far from the RIDs a CA counts up from 0, below the bogus one */
		assert_true(rids[i] >= 0x80000000u && rids[i] < CTNG_CA_BOGUS_RID);
		for (size_t k = 0; k < i; k++)
			assert_int_not_equal(rids[k], rids[i]);
		X509_free(x);
		free(der);
		json_decref(j);
	}
	testnet_load_free(&l);
	ctng_network_free(&net);
	ctng_test_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_load_rids)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
