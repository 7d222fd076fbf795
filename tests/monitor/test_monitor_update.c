/*
 * test_monitor_update.c — the client update format (docs/client-update.md):
 * the strict parser's rules one by one, the verifier, the consistency
 * response parser, and the size of an update with 1 STH and 1 REV carrying
 * 700 revocations (printed for the figure; never asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fixture.h"

typedef struct st {
	fx f;
	ctng_merkle_mem *tree;
	ctng_gossip_object sth1, sth2, rev1, acc, con;
	ctng_gossip_object f_sth1, f_sth2, f_rev1, f_acc, f_con, f_old;
} st;

static int setup(void **state)
{
	st *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_int_equal(fx_init(&s->f), 0);
	assert_int_equal(ctng_merkle_mem_new(&s->tree), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ctng_merkle_mem_append_data(s->tree, &i, sizeof(i), NULL, NULL),
		                 0);
	uint32_t rids[] = {2, 3, 50};
	ctng_gossip_object x = {0};
	uint8_t r[32] = {1};
	assert_int_equal(fx_sth(&s->f, "logger1", 5, s->tree, 4, NULL, NULL, &s->sth1), 0);
	assert_int_equal(fx_sth(&s->f, "logger2", 5, s->tree, 6, NULL, NULL, &s->sth2), 0);
	assert_int_equal(fx_rev(&s->f, "ca1", 5, rids, 3, &s->rev1), 0);
	assert_int_equal(ctng_acc_sign(&s->acc, "monitor1", fx_key(&s->f, "monitor1"), "ca2", 5,
	                               fx_time(5, 200), NULL),
	                 0);
	assert_int_equal(fx_sth(&s->f, "logger2", 3, s->tree, 6, r, NULL, &x), 0);
	ctng_gossip_object y = {0};
	assert_int_equal(fx_sth(&s->f, "logger2", 3, s->tree, 6, NULL, NULL, &y), 0);
	assert_int_equal(ctng_con_build(&s->con, &x, &y, fx_time(3, 300), NULL), 0);
	ctng_gossip_clear(&x);
	assert_int_equal(fx_full(&s->f, &s->sth1, 1, 2, &s->f_sth1), 0);
	assert_int_equal(fx_full(&s->f, &s->sth2, 1, 3, &s->f_sth2), 0);
	assert_int_equal(fx_full(&s->f, &s->rev1, 2, 3, &s->f_rev1), 0);
	assert_int_equal(fx_full(&s->f, &s->acc, 1, 2, &s->f_acc), 0);
	assert_int_equal(fx_full(&s->f, &s->con, 1, 2, &s->f_con), 0);
	assert_int_equal(fx_sth(&s->f, "logger1", 4, s->tree, 3, NULL, NULL, &x), 0);
	assert_int_equal(fx_full(&s->f, &x, 1, 2, &s->f_old), 0);
	ctng_gossip_clear(&x);
	ctng_gossip_clear(&y);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	st *s = *state;
	ctng_gossip_object *all[] = {&s->sth1,  &s->sth2,   &s->rev1,   &s->acc,
	                             &s->con,   &s->f_sth1, &s->f_sth2, &s->f_rev1,
	                             &s->f_acc, &s->f_con,  &s->f_old};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ctng_gossip_clear(all[i]);
	ctng_merkle_mem_free(s->tree);
	fx_free(&s->f);
	free(s);
	return 0;
}

/* Encodes an update of period 5 holding the given objects in that order
 * (the encoder does not check the order; the parser does). */
static char *make(const ctng_gossip_object *const *objs, size_t n, size_t *len)
{
	ctng_client_update u = {.period = 5};
	snprintf(u.monitor, sizeof(u.monitor), "monitor1");
	u.objects = calloc(n + 1, sizeof(*u.objects));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ctng_gossip_copy(&u.objects[i], objs[i], NULL), 0);
	u.n_objects = n;
	char *txt = NULL;
	assert_int_equal(ctng_client_update_encode(&u, &txt, len, NULL), 0);
	ctng_client_update_clear(&u);
	return txt;
}

static int parse_objs(const ctng_gossip_object *const *objs, size_t n, ctng_err *e)
{
	size_t len;
	char *txt = make(objs, n, &len);
	ctng_client_update u = {0};
	int rc = ctng_client_update_parse(txt, len, &u, e);
	if (rc == 0) {
		assert_int_equal(u.n_objects, n);
		ctng_client_update_clear(&u);
	} else {
		assert_int_equal(u.n_objects, 0);
		assert_null(u.objects);
	}
	free(txt);
	return rc;
}

static void test_valid_update(void **state)
{
	st *s = *state;
	const ctng_gossip_object *o[] = {&s->f_sth1, &s->sth1,  &s->f_sth2, &s->sth2, &s->f_rev1,
	                                 &s->rev1,   &s->f_acc, &s->f_con,  &s->con};
	ctng_err e = {0};
	size_t len;
	char *txt = make(o, 9, &len);
	ctng_client_update u = {0};
	if (ctng_client_update_parse(txt, len, &u, &e))
		fail_msg("%s", e.msg);
	if (ctng_client_update_verify(&u, &s->f.net, &e))
		fail_msg("%s", e.msg);
	ctng_client_update_clear(&u);
	free(txt);
	/* FULLs without their INITs are fine; an empty update is fine */
	const ctng_gossip_object *o2[] = {&s->f_sth1, &s->f_rev1, &s->f_con};
	assert_int_equal(parse_objs(o2, 3, &e), 0);
	assert_int_equal(parse_objs(o2, 0, &e), 0);
}

static void test_rejects_bad_structure(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "[]",
	    "{\"period\":\"5\",\"monitor\":\"monitor1\"}",
	    "{\"period\":\"5\",\"monitor\":\"monitor1\",\"objects\":[],\"x\":1}",
	    "{\"period\":\"05\",\"monitor\":\"monitor1\",\"objects\":[]}",
	    "{\"period\":5,\"monitor\":\"monitor1\",\"objects\":[]}",
	    "{\"period\":\"5\",\"monitor\":\"monitor 1\",\"objects\":[]}",
	    "{\"period\":\"5\",\"monitor\":\"monitor1\",\"objects\":{}}",
	    "{\"period\":\"5\",\"monitor\":\"monitor1\",\"objects\":[1]}",
	    "{\"period\":\"5\",\"monitor\":\"monitor1\",\"objects\":[]} x",
	    "{\"period\":\"5\",\"period\":\"6\",\"monitor\":\"monitor1\",\"objects\":[]}",
	    "{\"period\":\"5\",\"monitor\":\"monitor1\",\"objects\":[{}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctng_client_update u = {0};
		ctng_err e = {0};
		int rc = ctng_client_update_parse(bad[i], strlen(bad[i]), &u, &e);
		if (rc != CTNG_EINVAL)
			fail_msg("case %zu accepted (rc %d)", i, rc);
		assert_true(e.msg[0] != 0);
	}
	ctng_client_update u = {0};
	assert_int_equal(
	    ctng_client_update_parse("{}", (size_t)CTNG_CLIENT_UPDATE_MAX + 1, &u, NULL),
	    CTNG_ERANGE);
}

static void test_rejects_bad_contents(void **state)
{
	st *s = *state;
	ctng_err e = {0};
	/* an INIT with no FULL before it */
	const ctng_gossip_object *a[] = {&s->sth1, &s->f_sth1};
	assert_int_equal(parse_objs(a, 2, &e), CTNG_EINVAL);
	/* an INIT the FULL does not attest */
	const ctng_gossip_object *b[] = {&s->f_sth1, &s->sth2};
	assert_int_equal(parse_objs(b, 2, &e), CTNG_EINVAL);
	/* two INITs after one FULL */
	const ctng_gossip_object *c[] = {&s->f_sth1, &s->sth1, &s->sth1};
	assert_int_equal(parse_objs(c, 3, &e), CTNG_EINVAL);
	/* out of order: REV_FULL before STH_FULL; logger2 before logger1 */
	const ctng_gossip_object *d[] = {&s->f_rev1, &s->f_sth1};
	assert_int_equal(parse_objs(d, 2, &e), CTNG_EINVAL);
	const ctng_gossip_object *d2[] = {&s->f_sth2, &s->f_sth1};
	assert_int_equal(parse_objs(d2, 2, &e), CTNG_EINVAL);
	/* duplicate id */
	const ctng_gossip_object *f[] = {&s->f_sth1, &s->f_sth1};
	assert_int_equal(parse_objs(f, 2, &e), CTNG_EINVAL);
	/* a FULL of another period; an ACC INIT; an ACC after ACC_FULL */
	const ctng_gossip_object *g[] = {&s->f_old};
	assert_int_equal(parse_objs(g, 1, &e), CTNG_EINVAL);
	const ctng_gossip_object *h[] = {&s->acc};
	assert_int_equal(parse_objs(h, 1, &e), CTNG_EINVAL);
	const ctng_gossip_object *h2[] = {&s->f_acc, &s->acc};
	assert_int_equal(parse_objs(h2, 2, &e), CTNG_EINVAL);
	/* a FRAG */
	ctng_gossip_object frag = {0};
	uint8_t z[48] = {1};
	assert_int_equal(ctng_frag_build(&frag, &s->sth1, "gossiper1", z, fx_time(5, 300), NULL),
	                 0);
	const ctng_gossip_object *k[] = {&frag};
	assert_int_equal(parse_objs(k, 1, &e), CTNG_EINVAL);
	ctng_gossip_clear(&frag);
	/* a CON_FULL of a later period than the update */
	ctng_gossip_object late = {0};
	assert_int_equal(ctng_gossip_copy(&late, &s->f_con, NULL), 0);
	late.period = 6;
	const ctng_gossip_object *l[] = {&late};
	assert_int_equal(parse_objs(l, 1, &e), CTNG_EINVAL);
	ctng_gossip_clear(&late);
}

static void test_verify_catches_forgeries(void **state)
{
	st *s = *state;
	ctng_err e = {0};
	size_t len;
	const ctng_gossip_object *o[] = {&s->f_sth1, &s->sth1, &s->f_rev1, &s->rev1};
	char *txt = make(o, 4, &len);
	ctng_client_update u = {0};
	assert_int_equal(ctng_client_update_parse(txt, len, &u, &e), 0);
	assert_int_equal(ctng_client_update_verify(&u, &s->f.net, &e), 0);
	/* swap the REV_FULL's BLS signature for the STH_FULL's */
	assert_int_equal(
	    ctng_gossip_set(&u.objects[2].signature[0], u.objects[0].signature[0], NULL), 0);
	assert_int_equal(ctng_client_update_verify(&u, &s->f.net, &e), CTNG_EVERIFY);
	ctng_client_update_clear(&u);
	/* another network (other keys) rejects everything */
	fx other;
	assert_int_equal(fx_init(&other), 0);
	uint8_t seed[32] = {3};
	assert_int_equal(ctng_bls_deal(2, 3, seed, 32, other.net.group_pk, other.commitments,
	                               other.shares, NULL),
	                 0);
	assert_int_equal(ctng_client_update_parse(txt, len, &u, &e), 0);
	assert_int_equal(ctng_client_update_verify(&u, &other.net, &e), CTNG_EVERIFY);
	ctng_client_update_clear(&u);
	fx_free(&other);
	free(txt);
}

static void test_consistency_parser(void **state)
{
	(void)state;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 99;
	const char *ok = "{\"consistency\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	                 "\"//////////////////////////////////////////8=\"]}";
	assert_int_equal(ctng_monitor_parse_consistency(ok, strlen(ok), proof, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(proof[1][0], 0xff);
	const char *empty = "{\"consistency\":[]}";
	assert_int_equal(ctng_monitor_parse_consistency(empty, strlen(empty), proof, &n, NULL), 0);
	assert_int_equal(n, 0);
	static const char *bad[] = {
	    "{}",
	    "{\"consistency\":[\"AAAA\"]}",
	    "{\"consistency\":[1]}",
	    "{\"consistency\":[],\"x\":[]}",
	    "{\"consistency\":\"\"}",
	    "{\"consistency\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    ctng_monitor_parse_consistency(bad[i], strlen(bad[i]), proof, &n, NULL),
		    CTNG_EINVAL);
	/* 67 hashes: one too many */
	ctng_buf b = {0};
	ctng_buf_printf(&b, "{\"consistency\":[");
	for (int i = 0; i < 67; i++)
		ctng_buf_printf(&b, "%s\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
		                i ? "," : "");
	ctng_buf_printf(&b, "]}");
	assert_int_equal(
	    ctng_monitor_parse_consistency((const char *)b.data, b.len, proof, &n, NULL),
	    CTNG_EINVAL);
	ctng_buf_free(&b);
}

/* The figure of the issue: update size for 1 STH and 1 REV with 700 revocations. */
static void measure(st *s, const char *label, const uint32_t *rids, size_t n)
{
	ctng_monitor_sm *sm = NULL;
	ctng_gossip_object rev = {0}, frev = {0};
	ctng_monitor_actions a = {0};
	ctng_monitor_gossip_status stt;
	assert_int_equal(
	    ctng_monitor_sm_new(&s->f.net, "monitor1", fx_key(&s->f, "monitor1"), &sm, NULL), 0);
	assert_int_equal(fx_rev(&s->f, "ca1", 5, rids, n, &rev), 0);
	assert_int_equal(fx_full(&s->f, &rev, 1, 3, &frev), 0);
	const ctng_gossip_object *o[] = {&s->f_sth1, &s->sth1, &frev, &rev};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(
		    ctng_monitor_sm_on_gossip(sm, o[i], fx_time(5, 500), &stt, &a, NULL), 0);
		assert_int_equal(stt, CTNG_MON_GOSSIP_NEW);
	}
	ctng_monitor_actions_free(&a);
	assert_int_equal(ctng_monitor_sm_on_update_time(sm, 5, fx_time(5, 800), &a, NULL), 0);
	assert_int_equal(a.n, 1);
	ctng_client_update u = {0};
	ctng_err e = {0};
	assert_int_equal(ctng_client_update_parse(a.v[0].text, a.v[0].text_len, &u, &e), 0);
	assert_int_equal(u.n_objects, 4);
	assert_int_equal(ctng_client_update_verify(&u, &s->f.net, &e), 0);
	print_message("client update size (1 STH + 1 REV, %zu revocations, %s): %zu bytes\n", n,
	              label, a.v[0].text_len);
	ctng_client_update_clear(&u);
	ctng_monitor_actions_free(&a);
	ctng_gossip_clear(&rev);
	ctng_gossip_clear(&frev);
	ctng_monitor_sm_free(sm);
}

static void test_update_size(void **state)
{
	st *s = *state;
	uint32_t rids[700];
	for (uint32_t i = 0; i < 700; i++)
		rids[i] = i;
	measure(s, "consecutive RIDs", rids, 700);
	uint32_t x = 12345;
	for (uint32_t i = 0; i < 700; i++) {
		x = x * 1103515245u + 12345u;
		rids[i] = i * 142 + (x >> 8) % 142; /* spread over 100,000 certificates */
	}
	measure(s, "random RIDs below 100000", rids, 700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_valid_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_bad_structure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_bad_contents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_catches_forgeries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consistency_parser, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_size, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
