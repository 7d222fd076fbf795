/* test_scenario.c — the scenario table of `ctng testnet` and the check of
 * observed gossiper counts against it, fed with synthetic observations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/config.h"
#include "ctng/testnet.h"
#include "testutil.h"

static void set(ctng_testnet_cell *c, enum ctng_type t, uint64_t v)
{
	c->counts[ctng_testnet_type_index(t)] = v;
}

/* The seed's expected output: per period STH_FULL 0, REV_FULL 1, ACC_FULL 2,
 * ACC 4, and one CON_FULL over the run. */
static void fill_seed(ctng_testnet_cell *cells, size_t periods, size_t ng)
{
	for (size_t k = 0; k < periods; k++)
		for (size_t g = 0; g < ng; g++) {
			ctng_testnet_cell *c = &cells[k * ng + g];
			memset(c, 0, sizeof(*c));
			c->ok = true;
			c->period = 10 + k;
			set(c, CTNG_REV_FULL, 1);
			set(c, CTNG_ACC_FULL, 2);
			set(c, CTNG_ACC, 4);
			set(c, CTNG_CON_FULL, k == 0);
		}
}

static void test_table(void **st)
{
	(void)st;
	static const char *names[] = {"honest",      "split-logger",      "split-ca",
	                              "silent",      "flaky",             "seed-sample",
	                              "restart",     "malicious-monitor", "skewed-monitor",
	                              "hidden-entry", "wrong-data"};
	size_t nn = sizeof names / sizeof names[0];
	assert_int_equal(ctng_testnet_scenario_count(), nn);
	for (size_t i = 0; i < nn; i++) {
		const ctng_testnet_scenario *s = ctng_testnet_scenario_find(names[i]);
		assert_non_null(s);
		assert_ptr_equal(s, ctng_testnet_scenario_at(i));
	}
	assert_null(ctng_testnet_scenario_find("nope"));
	assert_null(ctng_testnet_scenario_at(nn));
	const ctng_testnet_scenario *seed = ctng_testnet_scenario_find("seed-sample");
	assert_true(ctng_testnet_runs(seed, "logger1"));
	assert_true(ctng_testnet_runs(seed, "gossiper3"));
	assert_false(ctng_testnet_runs(seed, "logger2"));
	assert_false(ctng_testnet_runs(seed, "monitor2"));
	assert_true(ctng_testnet_runs(ctng_testnet_scenario_find("honest"), "monitor4"));
}

static void test_seed_sample_passes_and_fails(void **st)
{
	(void)st;
	const ctng_testnet_scenario *s = ctng_testnet_scenario_find("seed-sample");
	const char *gs[] = {"gossiper1", "gossiper3"};
	ctng_testnet_cell cells[3 * 2];
	fill_seed(cells, 3, 2);
	ctng_testnet_obs obs = {3, 2, gs, cells};
	ctng_buf f = {0};
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 0);

	/* A single STH_FULL where the seed expects none is one failure, named. */
	set(&cells[1 * 2 + 1], CTNG_STH_FULL, 1);
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 1);
	assert_non_null(strstr((char *)f.data, "period 11 gossiper3: STH_FULL 1, want 0"));
	set(&cells[1 * 2 + 1], CTNG_STH_FULL, 0);

	/* A second CON_FULL breaks "exactly one over the run". */
	ctng_buf_reset(&f);
	set(&cells[2 * 2 + 0], CTNG_CON_FULL, 1);
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 1);
	assert_non_null(strstr((char *)f.data, "gossiper1: CON_FULL 2 in total, want 1"));
	set(&cells[2 * 2 + 0], CTNG_CON_FULL, 0);

	/* No CON_FULL at all fails too, for both gossipers. */
	ctng_buf_reset(&f);
	set(&cells[0], CTNG_CON_FULL, 0);
	set(&cells[1], CTNG_CON_FULL, 0);
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 2);

	/* A gossiper that did not answer is a failure. */
	fill_seed(cells, 3, 2);
	ctng_buf_reset(&f);
	cells[3].ok = false;
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 1);
	assert_non_null(strstr((char *)f.data, "no counts"));
	ctng_buf_free(&f);
}

static void test_flaky_alternates(void **st)
{
	(void)st;
	const ctng_testnet_scenario *s = ctng_testnet_scenario_find("flaky");
	ctng_testnet_expect even, odd;
	s->expect(4, 0, &even);
	s->expect(5, 1, &odd);
	assert_int_equal(even.sth_full, 3);
	assert_int_equal(even.acc_full, 0);
	assert_int_equal(odd.sth_full, 2);
	assert_int_equal(odd.rev_full, 2);
	assert_int_equal(odd.acc_full, 2);
	assert_int_equal(odd.acc, 8);
}

static void test_honest_rejects_accusations(void **st)
{
	(void)st;
	const ctng_testnet_scenario *s = ctng_testnet_scenario_find("honest");
	const char *gs[] = {"gossiper1"};
	ctng_testnet_cell c = {.ok = true, .period = 0};
	set(&c, CTNG_STH_FULL, 3);
	set(&c, CTNG_REV_FULL, 3);
	ctng_testnet_obs obs = {1, 1, gs, &c};
	ctng_buf f = {0};
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 0);
	set(&c, CTNG_ACC_FULL, 1);
	set(&c, CTNG_CON_FULL, 1);
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 2);
	ctng_buf_free(&f);
}

/* The crash test skips the killed gossiper's cell in the kill period only. */
static void test_restart_skips_only_the_crash_period(void **st)
{
	(void)st;
	const ctng_testnet_scenario *s = ctng_testnet_scenario_find("restart");
	assert_true(ctng_testnet_killed(s, "gossiper2"));
	assert_true(ctng_testnet_killed(s, "monitor2"));
	assert_false(ctng_testnet_killed(s, "gossiper1"));
	const char *gs[] = {"gossiper1", "gossiper2"};
	ctng_testnet_cell cells[3 * 2];
	memset(cells, 0, sizeof(cells));
	for (size_t i = 0; i < 6; i++) {
		cells[i].ok = true;
		cells[i].period = i / 2;
		set(&cells[i], CTNG_STH_FULL, 3);
		set(&cells[i], CTNG_REV_FULL, 3);
	}
	ctng_testnet_obs obs = {3, 2, gs, cells};
	ctng_buf f = {0};
	cells[1 * 2 + 1].ok = false; /* gossiper2 down in period k=1: allowed */
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 0);
	cells[2 * 2 + 1].ok = false; /* but it must be back in k=2 */
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 1);
	cells[2 * 2 + 1].ok = true;
	cells[1 * 2 + 0].ok = false; /* gossiper1 was never killed */
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 1);
	cells[1 * 2 + 0].ok = true;
	set(&cells[2 * 2 + 1], CTNG_STH_FULL, 2); /* the restarted pair must catch up */
	assert_int_equal(ctng_testnet_check(s, &obs, &f), 1);
	ctng_buf_free(&f);
}

/* Makes a network with ctng init's generator (keys unused: dealer mode). */
static void make_net(const char *dir, uint32_t loggers, uint32_t monitors, uint32_t t,
                     ctng_network *net)
{
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.loggers = o.cas = loggers;
	o.monitors = monitors;
	o.threshold = t;
	o.genesis_ms = 1700000000000ull;
	ctng_err e = {0};
	assert_int_equal(ctng_init_network(dir, &o, &e), 0);
	char path[256];
	snprintf(path, sizeof path, "%s/network.json", dir);
	assert_int_equal(ctng_network_load(path, net, &e), 0);
}

/* On the seed network the derived expectations are the scenario tables. */
static void test_derived_equals_tables(void **st)
{
	(void)st;
	char dir[] = "/tmp/ctng_test_derive_XXXXXX";
	assert_non_null(mkdtemp(dir));
	ctng_network net = {0};
	make_net(dir, 3, 4, 2, &net);
	for (size_t i = 0; i < ctng_testnet_scenario_count(); i++) {
		const ctng_testnet_scenario *s = ctng_testnet_scenario_at(i);
		for (size_t k = 0; k < 4; k++) {
			ctng_testnet_expect want, got;
			s->expect(10 + k, k, &want);
			ctng_testnet_derive(s, &net, 10 + k, k, &got);
			if (memcmp(&want, &got, sizeof want))
				print_message("%s k=%zu: derived %d %d %d %d, table %d %d %d %d\n", s->name,
				              k, got.sth_full, got.rev_full, got.acc_full, got.acc,
				              want.sth_full, want.rev_full, want.acc_full, want.acc);
			assert_memory_equal(&want, &got, sizeof want);
		}
		assert_int_equal(ctng_testnet_derive_con_full(s, &net), s->con_full_total);
	}
	ctng_network_free(&net);
	ctng_test_rm_rf(dir);
}

/* 16 monitors watching 2 of 8 loggers and CAs each (monitor m: m, m+1 mod 8),
 * threshold 9: every entity has 4 watchers. logger1 splitting towards
 * monitor3 is invisible (monitor3 does not watch it); towards monitor8 it is
 * a conflict. Silent entities are accused by their 4 watchers. */
static void test_derived_16(void **st)
{
	(void)st;
	char dir[] = "/tmp/ctng_test_derive_XXXXXX";
	assert_non_null(mkdtemp(dir));
	ctng_network net = {0};
	make_net(dir, 8, 16, 9, &net);
	ctng_testnet_expect e;
	ctng_testnet_derive(ctng_testnet_scenario_find("honest"), &net, 1, 0, &e);
	assert_int_equal(e.sth_full, 8);
	assert_int_equal(e.rev_full, 8);
	assert_int_equal(e.acc, 0);
	const ctng_testnet_scenario *sl = ctng_testnet_scenario_find("split-logger");
	ctng_testnet_derive(sl, &net, 1, 0, &e);
	assert_int_equal(e.sth_full, 8);
	assert_int_equal(ctng_testnet_derive_con_full(sl, &net), 0);
	static const ctng_testnet_fault f8[] = {
	    {.id = "logger1", .split_view = true, .split_target = "monitor8"}};
	ctng_testnet_scenario s8 = *sl;
	s8.faults = f8;
	ctng_testnet_derive(&s8, &net, 1, 0, &e);
	assert_int_equal(e.sth_full, 7);
	assert_int_equal(ctng_testnet_derive_con_full(&s8, &net), 1);
	ctng_testnet_derive(ctng_testnet_scenario_find("silent"), &net, 1, 0, &e);
	assert_int_equal(e.sth_full, 7);
	assert_int_equal(e.rev_full, 7);
	assert_int_equal(e.acc, 8);
	/* 4 watchers cannot make 9 partials: an ACC_FULL needs threshold
	 * monitors that themselves failed (docs/gossiper.md §Accusations) */
	assert_int_equal(e.acc_full, 0);
	/* with fewer running gossipers than the threshold, no FULL at all */
	static const char *const few[] = {"monitor1", "gossiper1", "logger1", NULL};
	ctng_testnet_scenario sf = *ctng_testnet_scenario_find("honest");
	sf.running = few;
	ctng_testnet_derive(&sf, &net, 1, 0, &e);
	assert_int_equal(e.sth_full, 0);
	ctng_network_free(&net);
	ctng_test_rm_rf(dir);
}

/* The issue-10 scenarios: an accusation by one monitor must never become
 * an ACC_FULL; a far-off pair is not checked, every other one is. */
static void test_accusation_scenarios(void **st)
{
	(void)st;
	const ctng_testnet_scenario *m = ctng_testnet_scenario_find("malicious-monitor");
	const ctng_testnet_scenario *k = ctng_testnet_scenario_find("skewed-monitor");
	assert_true(m->check_clients && k->check_clients);
	const char *gs[] = {"gossiper1", "gossiper2"};
	ctng_testnet_cell cells[2] = {{0}};
	for (int i = 0; i < 2; i++) {
		cells[i].ok = true;
		set(&cells[i], CTNG_STH_FULL, 3);
		set(&cells[i], CTNG_REV_FULL, 3);
		set(&cells[i], CTNG_ACC, 4);
	}
	ctng_testnet_obs obs = {1, 2, gs, cells};
	ctng_buf f = {0};
	assert_int_equal(ctng_testnet_check(m, &obs, &f), 0);
	set(&cells[0], CTNG_ACC_FULL, 1); /* the attack succeeded */
	assert_int_equal(ctng_testnet_check(m, &obs, &f), 1);
	/* skewed: every gossiper is checked (the far-off node is monitor2 alone,
	 * whose accusations are refused), only monitor2's relying party is not */
	set(&cells[0], CTNG_ACC_FULL, 0);
	set(&cells[0], CTNG_ACC, 0);
	set(&cells[1], CTNG_ACC, 0);
	assert_int_equal(ctng_testnet_check(k, &obs, &f), 0);
	set(&cells[1], CTNG_ACC, 1);
	assert_int_equal(ctng_testnet_check(k, &obs, &f), 1);
	assert_string_equal(k->client_skip[0], "monitor2");
	assert_null(k->unchecked);
	ctng_buf_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_seed_sample_passes_and_fails),
	    cmocka_unit_test(test_flaky_alternates),
	    cmocka_unit_test(test_honest_rejects_accusations),
	    cmocka_unit_test(test_restart_skips_only_the_crash_period),
	    cmocka_unit_test(test_derived_equals_tables),
	    cmocka_unit_test(test_derived_16),
	    cmocka_unit_test(test_accusation_scenarios),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
