/*
 * test_monitor_sm.c — the monitor state machine driven with synthetic events
 * and real signatures (no network): honest pulls, accusations on timeout /
 * wrong period / bad signature, consistency proofs (valid, invalid, forks),
 * CON_FULL stopping the queries, FULL verification, update building.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fixture.h"

typedef struct st {
	fx f;
	ctng_monitor_sm *sm;
	ctng_monitor_actions a;
	ctng_merkle_mem *tree;
} st;

static int setup(void **state)
{
	st *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_int_equal(fx_init(&s->f), 0);
	assert_int_equal(
	    ctng_monitor_sm_new(&s->f.net, "monitor1", fx_key(&s->f, "monitor1"), &s->sm, NULL), 0);
	assert_int_equal(ctng_merkle_mem_new(&s->tree), 0);
	for (int i = 0; i < 20; i++) {
		char leaf[16];
		int n = snprintf(leaf, sizeof(leaf), "leaf %d", i);
		assert_int_equal(ctng_merkle_mem_append_data(s->tree, leaf, (size_t)n, NULL, NULL),
		                 0);
	}
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	st *s = *state;
	ctng_monitor_actions_free(&s->a);
	ctng_monitor_sm_free(s->sm);
	ctng_merkle_mem_free(s->tree);
	fx_free(&s->f);
	free(s);
	return 0;
}

/* Asserts the actions hold exactly one SEND_GOSSIPER, an ACC against entity for p,
 * valid under the monitor's public key. */
static void assert_accused(st *s, const char *entity, uint64_t p)
{
	assert_int_equal(fx_count(&s->a, CTNG_MON_SEND_GOSSIPER), 1);
	int i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_ACC);
	assert_true(i >= 0);
	const ctng_gossip_object *acc = &s->a.v[i].obj;
	assert_string_equal(acc->signer, "monitor1");
	assert_string_equal(ctng_gossip_entity(acc), entity);
	assert_int_equal(acc->period, p);
	ctng_err e = {0};
	assert_int_equal(
	    ctng_gossip_verify_signed(acc, s->f.ent[fx_idx("monitor1")].key, &s->f.net.clock, &e),
	    0);
	assert_int_equal(fx_find(&s->a, CTNG_MON_STORE_OBJECT, CTNG_TYPE_NONE), -1);
	/* the gossiper is told, signed, before the ACC: OBS(failed) */
	int o = fx_find(&s->a, CTNG_MON_SEND_OBSERVATION, CTNG_TYPE_NONE);
	assert_true(o >= 0 && o < i);
	const ctng_observation *obs = &s->a.v[o].obs;
	assert_int_equal(obs->result, CTNG_OBS_FAILED);
	assert_string_equal(obs->entity, entity);
	assert_int_equal(obs->period, p);
	assert_int_equal(ctng_obs_verify(obs, s->f.ent[fx_idx("monitor1")].key, &e), 0);
}

/* Asserts the actions hold an OBS(obtained) of obj with `checks`, before
 * the SEND_GOSSIPER of obj, signed by monitor1. */
static void assert_obtained(st *s, const ctng_gossip_object *obj, uint32_t checks)
{
	int o = fx_find(&s->a, CTNG_MON_SEND_OBSERVATION, CTNG_TYPE_NONE);
	int g = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, obj->type);
	assert_true(o >= 0 && g > o);
	const ctng_observation *obs = &s->a.v[o].obs;
	uint8_t d[32];
	assert_int_equal(ctng_gossip_content_digest(obj, d, NULL), 0);
	assert_int_equal(obs->result, CTNG_OBS_OBTAINED);
	assert_memory_equal(obs->digest, d, 32);
	assert_int_equal(obs->checks, checks);
	assert_int_equal(obs->family, ctng_type_family(obj->type));
	assert_string_equal(obs->entity, obj->signer);
	assert_int_equal(obs->period, obj->period);
	assert_int_equal(ctng_obs_verify(obs, s->f.ent[fx_idx("monitor1")].key, NULL), 0);
	assert_int_equal(fx_count(&s->a, CTNG_MON_SEND_OBSERVATION), 1);
}

static void test_new_rejects_non_monitor(void **state)
{
	st *s = *state;
	ctng_monitor_sm *sm = NULL;
	ctng_err e = {0};
	assert_int_equal(
	    ctng_monitor_sm_new(&s->f.net, "logger1", fx_key(&s->f, "logger1"), &sm, &e),
	    CTNG_EINVAL);
	assert_null(sm);
	/* a public-only key cannot sign ACCs */
	assert_int_equal(
	    ctng_monitor_sm_new(&s->f.net, "monitor1", s->f.ent[fx_idx("monitor1")].key, &sm, &e),
	    CTNG_EINVAL);
}

static void test_period_fetches_every_watched_entity(void **state)
{
	st *s = *state;
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 3, fx_time(3, 100), &s->a, NULL), 0);
	assert_int_equal(s->a.n, 4);
	assert_int_equal(fx_count(&s->a, CTNG_MON_FETCH_STH), 2);
	assert_int_equal(fx_count(&s->a, CTNG_MON_FETCH_REV), 2);
	for (size_t i = 0; i < s->a.n; i++)
		assert_int_equal(s->a.v[i].period, 3);
	assert_string_equal(s->a.v[0].entity, "logger1");
	assert_string_equal(s->a.v[2].entity, "ca1");
}

static void test_honest_objects_forwarded(void **state)
{
	st *s = *state;
	ctng_gossip_object sth = {0}, rev = {0};
	uint32_t rids[] = {1, 5, 9};
	assert_int_equal(fx_sth(&s->f, "logger1", 3, s->tree, 4, NULL, NULL, &sth), 0);
	assert_int_equal(fx_rev(&s->f, "ca1", 3, rids, 3, &rev), 0);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 3, fx_time(3, 100), &s->a, NULL), 0);
	ctng_monitor_actions_free(&s->a);

	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "logger1", 3, &sth, NULL,
	                                                 fx_time(3, 120), &s->a, NULL),
	                 0);
	int i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_STH);
	assert_true(i >= 0);
	assert_true(ctng_gossip_equal(&s->a.v[i].obj, &sth));
	assert_true(fx_find(&s->a, CTNG_MON_STORE_OBJECT, CTNG_STH) >= 0);
	assert_true(fx_find(&s->a, CTNG_MON_STORE_LAST_STH, CTNG_STH) >= 0);
	assert_int_equal(fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_ACC), -1);
	assert_non_null(ctng_monitor_sm_last_sth(s->sm, "logger1"));
	ctng_monitor_actions_free(&s->a);

	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 3, &rev, NULL,
	                                                 fx_time(3, 120), &s->a, NULL),
	                 0);
	assert_int_equal(fx_count(&s->a, CTNG_MON_SEND_GOSSIPER), 1);
	i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_REV);
	assert_true(i >= 0 && ctng_gossip_equal(&s->a.v[i].obj, &rev));
	assert_int_equal(fx_find(&s->a, CTNG_MON_STORE_LAST_STH, CTNG_TYPE_NONE), -1);
	ctng_monitor_actions_free(&s->a);

	/* a second result for the same fetch is stale */
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 3, &rev, NULL,
	                                                 fx_time(3, 130), &s->a, NULL),
	                 CTNG_ESTATE);
	assert_int_equal(s->a.n, 0);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&rev);
}

/* Runs period p for logger1 with the given STH; returns the actions in s->a. */
static void pull_sth(st *s, uint64_t p, const ctng_gossip_object *sth)
{
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, p, fx_time(p, 100), &s->a, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "logger1", p, sth, NULL,
	                                                 fx_time(p, 120), &s->a, NULL),
	                 0);
}

static void test_timeout_accuses(void **state)
{
	st *s = *state;
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 5, fx_time(5, 100), &s->a, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	/* deadline = 100 + window 250 = 350; retries every 25 ms until then */
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca2", 5, NULL, "timeout",
	                                                 fx_time(5, 340), &s->a, NULL),
	                 0);
	assert_accused(s, "ca2", 5);
}

/* A failed pull (a 404 from a logger whose clock is slow, a refused
 * connection) is asked again until the query deadline; only a failure then
 * accuses, and an answer in between is accepted as if it came at once. */
static void test_retry_until_deadline(void **state)
{
	st *s = *state;
	const ctng_clock *c = &s->f.net.clock;
	uint64_t dl = ctng_clock_query_deadline(c, 5), r = ctng_monitor_retry_ms(c);
	assert_int_equal(dl, fx_time(5, 350));
	assert_int_equal(r, 25);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 5, fx_time(5, 100), &s->a, NULL), 0);
	for (size_t i = 0; i < s->a.n; i++)
		assert_int_equal(s->a.v[i].deadline_ms, dl);
	ctng_monitor_actions_free(&s->a);
	ctng_gossip_object sth = {0};
	assert_int_equal(fx_sth(&s->f, "logger1", 5, s->tree, 4, NULL, NULL, &sth), 0);
	uint64_t now = fx_time(5, 100);
	for (int k = 0; k < 5; k++) {
		now += 30;
		assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "logger1", 5, NULL, "HTTP 404",
		                                                 now, &s->a, NULL),
		                 0);
		assert_int_equal(s->a.n, 1);
		assert_int_equal(s->a.v[0].kind, CTNG_MON_FETCH_STH);
		assert_int_equal(s->a.v[0].at_ms, now + r);
		assert_int_equal(s->a.v[0].deadline_ms, dl);
		ctng_monitor_actions_free(&s->a);
	}
	/* the logger published 250 ms late: accepted, nobody accused */
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "logger1", 5, &sth, NULL,
	                                                 fx_time(5, 260), &s->a, NULL),
	                 0);
	assert_obtained(s, &sth, 0);
	assert_int_equal(fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_ACC), -1);
	ctng_monitor_actions_free(&s->a);
	/* a failure too close to the deadline for another try accuses */
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 5, NULL, "HTTP 404",
	                                                 dl - r, &s->a, NULL),
	                 0);
	assert_accused(s, "ca1", 5);
	ctng_monitor_actions_free(&s->a);
	/* and the late answer after that is stale */
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 5, NULL, "x", dl + 1, &s->a,
	                                                 NULL),
	                 CTNG_ESTATE);
	ctng_gossip_clear(&sth);
}

/* Every accepted object is announced to the gossiper by a signed OBS
 * carrying its digest and the checks made: "consistent" once the STH was
 * checked against an earlier one. */
static void test_observations(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0}, rev = {0};
	uint32_t rids[] = {3};
	assert_int_equal(fx_sth(&s->f, "logger1", 1, s->tree, 4, NULL, NULL, &a), 0);
	assert_int_equal(fx_sth(&s->f, "logger1", 2, s->tree, 4, NULL, NULL, &b), 0);
	assert_int_equal(fx_rev(&s->f, "ca1", 2, rids, 1, &rev), 0);
	pull_sth(s, 1, &a);
	assert_obtained(s, &a, 0); /* the first STH: nothing to compare with */
	pull_sth(s, 2, &b);
	assert_obtained(s, &b, CTNG_OBS_CHECK_CONSISTENT);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 2, &rev, NULL,
	                                                 fx_time(2, 120), &s->a, NULL),
	                 0);
	assert_obtained(s, &rev, 0);
	/* the JSON form round-trips and still verifies */
	char *json = NULL;
	size_t len = 0;
	ctng_observation back;
	assert_int_equal(ctng_obs_encode(&s->a.v[0].obs, &json, &len, NULL), 0);
	assert_int_equal(ctng_obs_decode(json, len, &back, NULL), 0);
	assert_memory_equal(&back, &s->a.v[0].obs, sizeof(back));
	assert_int_equal(ctng_obs_verify(&back, s->f.ent[fx_idx("monitor1")].key, NULL), 0);
	/* not under another monitor's key */
	assert_int_equal(ctng_obs_verify(&back, s->f.ent[fx_idx("monitor2")].key, NULL),
	                 CTNG_EVERIFY);
	free(json);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&rev);
}

static void test_wrong_period_accuses(void **state)
{
	st *s = *state;
	ctng_gossip_object sth = {0};
	assert_int_equal(fx_sth(&s->f, "logger2", 4, s->tree, 3, NULL, NULL, &sth), 0);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 5, fx_time(5, 100), &s->a, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "logger2", 5, &sth, NULL,
	                                                 fx_time(5, 120), &s->a, NULL),
	                 0);
	assert_accused(s, "logger2", 5);
	assert_null(ctng_monitor_sm_last_sth(s->sm, "logger2"));
	ctng_gossip_clear(&sth);
}

static void test_bad_signature_accuses(void **state)
{
	st *s = *state;
	ctng_gossip_object sth = {0}, rev = {0};
	/* signed with logger2's key but claiming logger1 */
	assert_int_equal(
	    fx_sth(&s->f, "logger1", 5, s->tree, 3, NULL, fx_key(&s->f, "logger2"), &sth), 0);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 5, fx_time(5, 100), &s->a, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "logger1", 5, &sth, NULL,
	                                                 fx_time(5, 120), &s->a, NULL),
	                 0);
	assert_accused(s, "logger1", 5);
	ctng_monitor_actions_free(&s->a);

	/* a REV whose delta was swapped after signing */
	uint32_t r1[] = {1}, r2[] = {2};
	ctng_gossip_object other = {0};
	assert_int_equal(fx_rev(&s->f, "ca1", 5, r1, 1, &rev), 0);
	assert_int_equal(fx_rev(&s->f, "ca1", 5, r2, 1, &other), 0);
	assert_int_equal(ctng_gossip_set(&rev.payload[2], other.payload[2], NULL), 0);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 5, &rev, NULL,
	                                                 fx_time(5, 120), &s->a, NULL),
	                 0);
	assert_accused(s, "ca1", 5);
	ctng_monitor_actions_free(&s->a);

	/* a REV from ca2 answered for ca1's query (wrong signer) */
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 6, fx_time(6, 100), &s->a, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	ctng_gossip_clear(&other);
	assert_int_equal(fx_rev(&s->f, "ca2", 6, r1, 1, &other), 0);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "ca1", 6, &other, NULL,
	                                                 fx_time(6, 120), &s->a, NULL),
	                 0);
	assert_accused(s, "ca1", 6);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&rev);
	ctng_gossip_clear(&other);
}

static void test_consistency_valid_and_invalid(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0}, c = {0};
	assert_int_equal(fx_sth(&s->f, "logger1", 1, s->tree, 4, NULL, NULL, &a), 0);
	pull_sth(s, 1, &a);
	assert_true(fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_STH) >= 0);

	/* grows to 7: needs a proof */
	assert_int_equal(fx_sth(&s->f, "logger1", 2, s->tree, 7, NULL, NULL, &b), 0);
	pull_sth(s, 2, &b);
	assert_int_equal(s->a.n, 1);
	assert_int_equal(s->a.v[0].kind, CTNG_MON_FETCH_CONSISTENCY);
	assert_int_equal(s->a.v[0].first, 4);
	assert_int_equal(s->a.v[0].second, 7);
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	assert_int_equal(ctng_merkle_mem_consistency(s->tree, 4, 7, proof, &n, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_consistency_result(s->sm, "logger1", 2, true,
	                                                       (const uint8_t(*)[32])proof, n, NULL,
	                                                       fx_time(2, 150), &s->a, NULL),
	                 0);
	int i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_STH);
	assert_true(i >= 0 && ctng_gossip_equal(&s->a.v[i].obj, &b));
	assert_true(ctng_gossip_equal(ctng_monitor_sm_last_sth(s->sm, "logger1"), &b));

	/* size 9 with a root that is not the tree's: the real proof fails */
	uint8_t bogus[32];
	memset(bogus, 0xab, 32);
	assert_int_equal(fx_sth(&s->f, "logger1", 3, s->tree, 9, bogus, NULL, &c), 0);
	pull_sth(s, 3, &c);
	assert_int_equal(s->a.v[0].kind, CTNG_MON_FETCH_CONSISTENCY);
	assert_int_equal(ctng_merkle_mem_consistency(s->tree, 7, 9, proof, &n, NULL), 0);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_consistency_result(s->sm, "logger1", 3, true,
	                                                       (const uint8_t(*)[32])proof, n, NULL,
	                                                       fx_time(3, 150), &s->a, NULL),
	                 0);
	assert_accused(s, "logger1", 3);
	i = fx_find(&s->a, CTNG_MON_POM, CTNG_TYPE_NONE);
	assert_true(i >= 0);
	assert_false(s->a.v[i].transferable);
	bool tr = true;
	ctng_err e = {0};
	assert_int_equal(
	    ctng_sth_pom_verify(s->a.v[i].text, s->a.v[i].text_len, &s->f.net, &tr, &e), 0);
	assert_false(tr);
	/* the baseline did not move, and the logger is not convicted locally */
	assert_true(ctng_gossip_equal(ctng_monitor_sm_last_sth(s->sm, "logger1"), &b));
	assert_false(ctng_monitor_sm_forked(s->sm, "logger1"));

	/* a logger that does not serve a proof is accused */
	pull_sth(s, 4, &c); /* c is of period 3: wrong period */
	assert_accused(s, "logger1", 4);
	ctng_gossip_clear(&c);
	assert_int_equal(fx_sth(&s->f, "logger1", 5, s->tree, 12, NULL, NULL, &c), 0);
	pull_sth(s, 5, &c);
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_consistency_result(s->sm, "logger1", 5, false, NULL, 0,
	                                                       "HTTP 500", fx_time(5, 150), &s->a,
	                                                       NULL),
	                 0);
	/* asked again while the query window is open ... */
	assert_int_equal(s->a.n, 1);
	assert_int_equal(s->a.v[0].kind, CTNG_MON_FETCH_CONSISTENCY);
	assert_int_equal(s->a.v[0].first, 7); /* baseline b .. 12 */
	assert_int_equal(s->a.v[0].second, 12);
	ctng_monitor_actions_free(&s->a);
	/* ... and accused when it still fails at the deadline */
	assert_int_equal(ctng_monitor_sm_on_consistency_result(s->sm, "logger1", 5, false, NULL, 0,
	                                                       "HTTP 500", fx_time(5, 349), &s->a,
	                                                       NULL),
	                 0);
	assert_accused(s, "logger1", 5);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&c);
}

static void test_fork_pom(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0};
	assert_int_equal(fx_sth(&s->f, "logger1", 1, s->tree, 8, NULL, NULL, &a), 0);
	pull_sth(s, 1, &a);
	/* the tree shrinks: provable from the two signed heads */
	assert_int_equal(fx_sth(&s->f, "logger1", 2, s->tree, 5, NULL, NULL, &b), 0);
	pull_sth(s, 2, &b);
	assert_accused(s, "logger1", 2);
	int i = fx_find(&s->a, CTNG_MON_POM, CTNG_TYPE_NONE);
	assert_true(i >= 0);
	assert_true(s->a.v[i].transferable);
	bool tr = false;
	ctng_err e = {0};
	assert_int_equal(
	    ctng_sth_pom_verify(s->a.v[i].text, s->a.v[i].text_len, &s->f.net, &tr, &e), 0);
	assert_true(tr);
	assert_true(ctng_monitor_sm_forked(s->sm, "logger1"));
	/* a tampered PoM does not verify */
	char *t = strdup(s->a.v[i].text);
	char *k = strstr(t, "sth-fork");
	memcpy(k, "sth-fORk", 8);
	assert_int_not_equal(ctng_sth_pom_verify(t, strlen(t), &s->f.net, NULL, &e), 0);
	free(t);

	/* next period: logger1 is not queried but accused at once */
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 3, fx_time(3, 100), &s->a, NULL), 0);
	assert_int_equal(fx_count(&s->a, CTNG_MON_FETCH_STH), 1);
	assert_string_equal(s->a.v[fx_find(&s->a, CTNG_MON_FETCH_STH, CTNG_TYPE_NONE)].entity,
	                    "logger2");
	i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_ACC);
	assert_true(i >= 0);
	assert_string_equal(ctng_gossip_entity(&s->a.v[i].obj), "logger1");
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
}

static void test_same_size_other_root_is_fork(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0};
	uint8_t other[32];
	memset(other, 0x11, 32);
	assert_int_equal(fx_sth(&s->f, "logger1", 1, s->tree, 6, NULL, NULL, &a), 0);
	pull_sth(s, 1, &a);
	assert_int_equal(fx_sth(&s->f, "logger1", 2, s->tree, 6, other, NULL, &b), 0);
	pull_sth(s, 2, &b);
	assert_accused(s, "logger1", 2);
	assert_true(fx_find(&s->a, CTNG_MON_POM, CTNG_TYPE_NONE) >= 0);
	ctng_gossip_clear(&b);
	/* same size, same root: accepted without a proof */
	ctng_monitor_sm_free(s->sm);
	assert_int_equal(
	    ctng_monitor_sm_new(&s->f.net, "monitor1", fx_key(&s->f, "monitor1"), &s->sm, NULL), 0);
	pull_sth(s, 1, &a);
	assert_int_equal(fx_sth(&s->f, "logger1", 2, s->tree, 6, NULL, NULL, &b), 0);
	pull_sth(s, 2, &b);
	assert_true(fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_STH) >= 0);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
}

/* CON_FULL against logger1 from the gossiper: kept, and logger1 is no longer queried. */
static void test_con_full_stops_queries(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0}, con = {0}, full = {0};
	uint8_t r[32];
	memset(r, 0x42, 32);
	assert_int_equal(fx_sth(&s->f, "logger1", 4, s->tree, 3, NULL, NULL, &a), 0);
	assert_int_equal(fx_sth(&s->f, "logger1", 4, s->tree, 3, r, NULL, &b), 0);
	assert_int_equal(ctng_con_build(&con, &a, &b, fx_time(4, 300), NULL), 0);
	assert_int_equal(fx_full(&s->f, &con, 1, 3, &full), 0);
	ctng_monitor_gossip_status stt;
	ctng_err e = {0};
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &full, fx_time(4, 500), &stt, &s->a, &e),
	                 0);
	assert_int_equal(stt, CTNG_MON_GOSSIP_NEW);
	assert_true(fx_find(&s->a, CTNG_MON_STORE_OBJECT, CTNG_CON_FULL) >= 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &con, fx_time(4, 500), &stt, &s->a, &e),
	                 0);
	assert_int_equal(stt, CTNG_MON_GOSSIP_NEW);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &full, fx_time(4, 510), &stt, &s->a, &e),
	                 0);
	assert_int_equal(stt, CTNG_MON_GOSSIP_DUPLICATE);
	assert_true(ctng_monitor_sm_convicted(s->sm, "logger1"));
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_period(s->sm, 5, fx_time(5, 100), &s->a, NULL), 0);
	assert_int_equal(fx_count(&s->a, CTNG_MON_FETCH_STH), 1);
	assert_string_equal(s->a.v[0].entity, "logger2");
	assert_int_equal(fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_TYPE_NONE), -1);

	/* the CON_FULL is permanent: in the update of period 5 and later */
	ctng_client_update u = {0};
	assert_int_equal(ctng_monitor_sm_build_update(s->sm, 9, &u, &e), 0);
	assert_int_equal(u.n_objects, 2);
	assert_int_equal(u.objects[0].type, CTNG_CON_FULL);
	assert_int_equal(u.objects[1].type, CTNG_CON);
	ctng_client_update_clear(&u);
	ctng_monitor_sm_prune(s->sm, 9);
	assert_int_equal(ctng_monitor_sm_build_update(s->sm, 9, &u, &e), 0);
	assert_int_equal(u.n_objects, 2);
	ctng_client_update_clear(&u);
	assert_int_equal(ctng_monitor_sm_build_update(s->sm, 3, &u, &e), 0);
	assert_int_equal(u.n_objects, 0);
	ctng_client_update_clear(&u);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&con);
	ctng_gossip_clear(&full);
}

static void test_forged_fulls_rejected(void **state)
{
	st *s = *state;
	ctng_gossip_object sth = {0}, full = {0}, other = {0};
	ctng_monitor_gossip_status stt;
	ctng_err e = {0};
	assert_int_equal(fx_sth(&s->f, "logger1", 4, s->tree, 3, NULL, NULL, &sth), 0);
	assert_int_equal(fx_full(&s->f, &sth, 1, 2, &full), 0);
	assert_int_equal(ctng_monitor_verify_full(&full, &s->f.net, &e), 0);

	/* signed by another group (a dealer the network does not know) */
	fx g;
	assert_int_equal(fx_init(&g), 0);
	uint8_t seed[32] = {9};
	assert_int_equal(
	    ctng_bls_deal(2, 3, seed, 32, g.net.group_pk, g.commitments, g.shares, NULL), 0);
	assert_int_equal(fx_full(&g, &sth, 1, 2, &other), 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &other, fx_time(4, 500), &stt, &s->a, &e),
	                 CTNG_EVERIFY);
	ctng_gossip_clear(&other);
	fx_free(&g);

	/* the digest changed: attests another STH */
	assert_int_equal(ctng_gossip_copy(&other, &full, NULL), 0);
	assert_int_equal(ctng_gossip_set(&other.payload[1],
	                                 "00000000000000000000000000000000"
	                                 "00000000000000000000000000000000",
	                                 NULL),
	                 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &other, fx_time(4, 500), &stt, &s->a, &e),
	                 CTNG_EVERIFY);
	/* fewer signers than the threshold */
	ctng_gossip_clear(&other);
	assert_int_equal(ctng_gossip_copy(&other, &full, NULL), 0);
	const char *one[1] = {"gossiper1"};
	assert_int_equal(ctng_gossip_set_signers(&other, one, 1, NULL), 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &other, fx_time(4, 500), &stt, &s->a, &e),
	                 CTNG_EVERIFY);
	/* a signer that is not a gossiper */
	const char *bad[2] = {"gossiper1", "monitor2"};
	assert_int_equal(ctng_gossip_set_signers(&other, bad, 2, NULL), 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &other, fx_time(4, 500), &stt, &s->a, &e),
	                 CTNG_EVERIFY);
	/* an old period (replay) */
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &full, fx_time(9, 500), &stt, &s->a, &e),
	                 CTNG_ERANGE);
	assert_int_equal(s->a.n, 0);
	assert_int_equal(ctng_monitor_sm_held(s->sm), 0);
	/* the genuine one is accepted; a FRAG is ignored */
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &full, fx_time(4, 500), &stt, &s->a, &e),
	                 0);
	assert_int_equal(stt, CTNG_MON_GOSSIP_NEW);
	ctng_gossip_object frag = {0};
	uint8_t z[48] = {0};
	assert_int_equal(ctng_frag_build(&frag, &sth, "gossiper2", z, fx_time(4, 300), NULL), 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &frag, fx_time(4, 500), &stt, &s->a, &e),
	                 0);
	assert_int_equal(stt, CTNG_MON_GOSSIP_IGNORED);
	/* a forged STH INIT (not the logger's signature) is rejected */
	ctng_gossip_clear(&other);
	assert_int_equal(
	    fx_sth(&s->f, "logger1", 4, s->tree, 3, NULL, fx_key(&s->f, "logger2"), &other), 0);
	assert_int_equal(ctng_monitor_sm_on_gossip(s->sm, &other, fx_time(4, 500), &stt, &s->a, &e),
	                 CTNG_EVERIFY);
	ctng_gossip_clear(&frag);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&full);
	ctng_gossip_clear(&other);
}

static void give(st *s, const ctng_gossip_object *o, uint64_t p)
{
	ctng_monitor_gossip_status stt;
	ctng_err e = {0};
	int rc = ctng_monitor_sm_on_gossip(s->sm, o, fx_time(p, 600), &stt, &s->a, &e);
	if (rc)
		fail_msg("on_gossip: %s", e.msg);
	assert_int_equal(stt, CTNG_MON_GOSSIP_NEW);
}

static void test_update_exact_contents(void **state)
{
	st *s = *state;
	const uint64_t p = 6;
	ctng_gossip_object sth1 = {0}, sth2 = {0}, rev1 = {0}, acc = {0}, old = {0};
	ctng_gossip_object f_sth1 = {0}, f_sth2 = {0}, f_rev1 = {0}, f_acc = {0}, f_old = {0};
	uint32_t rids[] = {3, 4};
	assert_int_equal(fx_sth(&s->f, "logger1", p, s->tree, 5, NULL, NULL, &sth1), 0);
	assert_int_equal(fx_sth(&s->f, "logger2", p, s->tree, 2, NULL, NULL, &sth2), 0);
	assert_int_equal(fx_rev(&s->f, "ca1", p, rids, 2, &rev1), 0);
	assert_int_equal(ctng_acc_sign(&acc, "monitor2", fx_key(&s->f, "monitor2"), "ca2", p,
	                               fx_time(p, 150), NULL),
	                 0);
	assert_int_equal(fx_sth(&s->f, "logger1", p - 1, s->tree, 4, NULL, NULL, &old), 0);
	assert_int_equal(fx_full(&s->f, &sth1, 1, 2, &f_sth1), 0);
	assert_int_equal(fx_full(&s->f, &sth2, 2, 3, &f_sth2), 0);
	assert_int_equal(fx_full(&s->f, &rev1, 1, 3, &f_rev1), 0);
	assert_int_equal(fx_full(&s->f, &acc, 1, 2, &f_acc), 0);
	assert_int_equal(fx_full(&s->f, &old, 1, 2, &f_old), 0);
	/* arrival order deliberately scrambled; logger2's STH INIT never arrives */
	give(s, &f_acc, p);
	give(s, &rev1, p);
	give(s, &f_sth2, p);
	give(s, &f_rev1, p);
	give(s, &f_old, p);
	give(s, &sth1, p);
	give(s, &f_sth1, p);

	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_update_time(s->sm, p, fx_time(p, 800), &s->a, NULL), 0);
	assert_int_equal(s->a.n, 1);
	assert_int_equal(s->a.v[0].kind, CTNG_MON_PUBLISH_UPDATE);
	assert_int_equal(s->a.v[0].period, p);
	ctng_client_update u = {0};
	ctng_err e = {0};
	if (ctng_client_update_parse(s->a.v[0].text, s->a.v[0].text_len, &u, &e))
		fail_msg("parse: %s", e.msg);
	assert_int_equal(u.period, p);
	assert_string_equal(u.monitor, "monitor1");
	assert_int_equal(u.n_objects, 6);
	assert_true(ctng_gossip_equal(&u.objects[0], &f_sth1));
	assert_true(ctng_gossip_equal(&u.objects[1], &sth1));
	assert_true(ctng_gossip_equal(&u.objects[2], &f_sth2));
	assert_true(ctng_gossip_equal(&u.objects[3], &f_rev1));
	assert_true(ctng_gossip_equal(&u.objects[4], &rev1));
	assert_true(ctng_gossip_equal(&u.objects[5], &f_acc));
	if (ctng_client_update_verify(&u, &s->f.net, &e))
		fail_msg("verify: %s", e.msg);
	/* re-encoding gives the same bytes */
	char *txt = NULL;
	size_t len = 0;
	assert_int_equal(ctng_client_update_encode(&u, &txt, &len, NULL), 0);
	assert_int_equal(len, s->a.v[0].text_len);
	assert_memory_equal(txt, s->a.v[0].text, len);
	free(txt);
	/* one tampered INIT breaks verification */
	assert_int_equal(
	    ctng_gossip_set(&u.objects[4].signature[0], u.objects[1].signature[0], NULL), 0);
	assert_int_not_equal(ctng_client_update_verify(&u, &s->f.net, &e), 0);
	ctng_client_update_clear(&u);

	/* after pruning period p, the update of p is empty */
	ctng_monitor_sm_prune(s->sm, p + 1);
	assert_int_equal(ctng_monitor_sm_held(s->sm), 0);
	ctng_gossip_object *all[] = {&sth1,   &sth2,   &rev1,   &acc,   &old,
	                             &f_sth1, &f_sth2, &f_rev1, &f_acc, &f_old};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ctng_gossip_clear(all[i]);
}

static void test_restore(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0}, fa = {0};
	assert_int_equal(fx_sth(&s->f, "logger1", 1, s->tree, 4, NULL, NULL, &a), 0);
	assert_int_equal(fx_full(&s->f, &a, 1, 2, &fa), 0);
	ctng_err e = {0};
	assert_int_equal(ctng_monitor_sm_restore_last_sth(s->sm, &a, &e), 0);
	/* restored objects need no period window */
	assert_int_equal(ctng_monitor_sm_restore_object(s->sm, &fa, &e), 0);
	assert_int_equal(ctng_monitor_sm_restore_object(s->sm, &a, &e), 0);
	assert_int_equal(ctng_monitor_sm_held(s->sm), 2);
	/* the restored baseline is used: the next STH needs a proof */
	assert_int_equal(fx_sth(&s->f, "logger1", 7, s->tree, 9, NULL, NULL, &b), 0);
	pull_sth(s, 7, &b);
	assert_int_equal(s->a.v[0].kind, CTNG_MON_FETCH_CONSISTENCY);
	assert_int_equal(s->a.v[0].first, 4);
	/* a forged baseline is refused */
	assert_int_equal(ctng_gossip_set(&b.payload[0], "10", NULL), 0);
	assert_int_not_equal(ctng_monitor_sm_restore_last_sth(s->sm, &b, &e), 0);
	assert_int_equal(ctng_monitor_sm_restore_fork(s->sm, "logger2", &e), 0);
	assert_true(ctng_monitor_sm_forked(s->sm, "logger2"));
	assert_int_not_equal(ctng_monitor_sm_restore_fork(s->sm, "ca1", &e), 0);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
	ctng_gossip_clear(&fa);
}

/* After a restart the monitor may re-pull a period whose STH it accepted: the
 * same STH is accepted again; a different one of the same period is a
 * same-period conflict, sent to the gossiper as a CON (plus an ACC). */
static void test_refetch_same_period(void **state)
{
	st *s = *state;
	ctng_gossip_object a = {0}, b = {0};
	uint8_t r[32];
	memset(r, 0x77, 32);
	assert_int_equal(fx_sth(&s->f, "logger1", 4, s->tree, 5, NULL, NULL, &a), 0);
	assert_int_equal(fx_sth(&s->f, "logger1", 4, s->tree, 5, r, NULL, &b), 0);
	assert_int_equal(ctng_monitor_sm_restore_last_sth(s->sm, &a, NULL), 0);
	pull_sth(s, 4, &a);
	int i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_STH);
	assert_true(i >= 0 && ctng_gossip_equal(&s->a.v[i].obj, &a));
	pull_sth(s, 4, &b);
	assert_int_equal(fx_count(&s->a, CTNG_MON_SEND_GOSSIPER), 2);
	i = fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_CON);
	assert_true(i >= 0);
	ctng_err e = {0};
	assert_int_equal(
	    ctng_con_verify(&s->a.v[i].obj, s->f.ent[fx_idx("logger1")].key, &s->f.net.clock, &e),
	    0);
	assert_true(fx_find(&s->a, CTNG_MON_SEND_GOSSIPER, CTNG_ACC) >= 0);
	assert_true(ctng_gossip_equal(ctng_monitor_sm_last_sth(s->sm, "logger1"), &a));
	/* results nobody asked for are stale */
	ctng_monitor_actions_free(&s->a);
	assert_int_equal(ctng_monitor_sm_on_consistency_result(s->sm, "logger1", 4, true, NULL, 0,
	                                                       NULL, fx_time(4, 200), &s->a, NULL),
	                 CTNG_ESTATE);
	assert_int_equal(ctng_monitor_sm_on_fetch_result(s->sm, "nobody", 4, NULL, NULL,
	                                                 fx_time(4, 200), &s->a, NULL),
	                 CTNG_ESTATE);
	assert_int_equal(s->a.n, 0);
	ctng_gossip_clear(&a);
	ctng_gossip_clear(&b);
}

static void test_fetch_timeout(void **state)
{
	(void)state;
	ctng_clock two = {0, 2000, 200, 400, 1600}, minute = {0, 60000, 6000, 12000, 48000};
	ctng_clock tight = {0, 1000, 100, 800, 850}, tiny = {0, 100, 10, 20, 40};
	assert_int_equal(ctng_monitor_fetch_timeout_ms(&two), 500);
	assert_int_equal(ctng_monitor_fetch_timeout_ms(&minute), 2000);
	assert_int_equal(ctng_monitor_fetch_timeout_ms(&tight), 400); /* no slack: gossip_wait/2 */
	assert_int_equal(ctng_monitor_fetch_timeout_ms(&tiny), 50);
	/* the window itself is not capped: P/4 with ctng init's defaults */
	assert_int_equal(ctng_clock_query_window_ms(&two), 500);
	assert_int_equal(ctng_clock_query_window_ms(&minute), 15000);
	assert_int_equal(ctng_clock_query_deadline(&minute, 2), 120000 + 6000 + 15000);
	assert_int_equal(ctng_clock_skew_ms(&two), 250);
	assert_int_equal(ctng_clock_skew_ms(&minute), 7500);
	assert_int_equal(ctng_monitor_retry_ms(&two), 50);
	assert_int_equal(ctng_monitor_retry_ms(&minute), 1000);
	assert_int_equal(ctng_monitor_retry_ms(&tiny), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_rejects_non_monitor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_period_fetches_every_watched_entity, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_honest_objects_forwarded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_accuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry_until_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_period_accuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_signature_accuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consistency_valid_and_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_pom, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_size_other_root_is_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_con_full_stops_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_fulls_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_exact_contents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refetch_same_period, setup, teardown),
	    cmocka_unit_test(test_fetch_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
