/*
 * test_client_update_compat.c — the relying party's own strict update parser
 * (src/client/update.c) and the monitor module's (ctng_client_update_parse /
 * ctng_client_update_verify, docs/client-update.md) must agree: updates the
 * fixture builds like a monitor (every object type) are accepted by both, and
 * structurally broken variants are rejected by both. Also: the monitor's
 * encoder re-encodes what the client accepts to the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../client/client_fixture.h"
#include "ctng/monitor.h"

static ctng_err err;

#define OK(x)                                                                                      \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

/* Returns (client accepted) and checks the monitor parser agrees. */
static bool both(cfx *f, const char *txt, size_t len)
{
	ctng_client *c = NULL;
	OK(ctng_client_open(":memory:", f->net_json, f->net_len, &c, &err));
	ctng_err e1 = {0}, e2 = {0};
	int rc_client = ctng_client_apply_update(c, txt, len, NULL, &e1);
	ctng_client_close(c);
	ctng_client_update u = {0};
	int rc_mon = ctng_client_update_parse(txt, len, &u, &e2);
	if (rc_mon == 0)
		rc_mon = ctng_client_update_verify(&u, &f->net, &e2);
	if (rc_mon == 0) {
		char *again = NULL;
		size_t al = 0;
		OK(ctng_client_update_encode(&u, &again, &al, &err));
		assert_int_equal(al, len);
		assert_memory_equal(again, txt, len);
		free(again);
	}
	ctng_client_update_clear(&u);
	if ((rc_client == 0) != (rc_mon == 0))
		fail_msg("disagree: client %d (%s), monitor %d (%s)", rc_client, e1.msg, rc_mon,
		         e2.msg);
	return rc_client == 0;
}

static void test_agree(void **state)
{
	(void)state;
	cfx f;
	OK(cfx_setup(&f, 3, 2, 3, 2, &err));
	cfx_upd_opts variants[] = {
	    {0},
	    {.sth_alone_mask = 2},
	    {.no_sth_mask = 5, .no_rev_mask = 1},
	    {.acc_logger_mask = 3},
	    {.con_logger_mask = 4, .con_ca_mask = 2},
	    {.acc_logger_mask = 1, .con_logger_mask = 2, .con_ca_mask = 1, .sth_alone_mask = 4},
	};
	for (uint64_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		uint64_t p = 10 + v;
		cfx_revoke(&f, 0, (uint32_t)v);
		OK(cfx_close_period(&f, p, &err));
		cfx_objs *o = calloc(1, sizeof(*o));
		OK(cfx_update_objs(&f, p, &variants[v], o, &err));
		char *txt = NULL;
		size_t len = 0;
		OK(cfx_encode(&f, p, o, &txt, &len, &err));
		assert_true(both(&f, txt, len));
		free(txt);
		/* broken variants: swap two neighbours, drop the first object,
		 * duplicate the first object, wrong envelope period */
		if (o->n >= 2) {
			ctng_gossip_object t = o->v[0];
			o->v[0] = o->v[1];
			o->v[1] = t;
			OK(cfx_encode(&f, p, o, &txt, &len, &err));
			assert_false(both(&f, txt, len));
			free(txt);
			t = o->v[0];
			o->v[0] = o->v[1];
			o->v[1] = t;
		}
		if (o->n >= 1) {
			cfx_objs *o2 = calloc(1, sizeof(*o2));
			for (size_t i = 0; i < o->n; i++)
				OK(ctng_gossip_copy(&o2->v[o2->n++], &o->v[i], &err));
			OK(ctng_gossip_copy(&o2->v[o2->n++], &o->v[0], &err));
			OK(cfx_encode(&f, p, o2, &txt, &len, &err));
			assert_false(both(&f, txt, len));
			free(txt);
			cfx_objs_clear(o2);
			free(o2);
			OK(cfx_encode(&f, p + 1, o, &txt, &len, &err));
			assert_false(both(&f, txt, len));
			free(txt);
		}
		cfx_objs_clear(o);
		free(o);
	}
	cfx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_agree)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
