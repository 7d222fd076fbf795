/* test_sim.c — the simulator in one process: the scenario parser (defaults,
 * every shipped scenario, rejections that name the member), runs of the
 * testnet's scenarios whose checks must hold, reproducibility (two runs print
 * the same bytes; the verification memo changes nothing but time), and
 * faults the processes cannot show cheaply (a partition that heals, loss). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/sim.h"
#include "ctng/testnet.h"

static ctng_sim_scenario *parse(const char *json)
{
	ctng_sim_scenario *s = NULL;
	ctng_err e = {0};
	int rc = ctng_sim_scenario_parse(json, strlen(json), &s, &e);
	if (rc)
		print_message("parse: %s\n", e.msg);
	assert_int_equal(rc, 0);
	return s;
}

static void reject(const char *json, const char *want)
{
	ctng_sim_scenario *s = NULL;
	ctng_err e = {0};
	assert_int_equal(ctng_sim_scenario_parse(json, strlen(json), &s, &e), CTNG_EINVAL);
	assert_null(s);
	if (!strstr(e.msg, want))
		print_message("message '%s' lacks '%s'\n", e.msg, want);
	assert_non_null(strstr(e.msg, want));
}

static void test_parse(void **st)
{
	(void)st;
	ctng_sim_scenario *s = parse("{}");
	assert_int_equal(s->monitors, 4);
	assert_int_equal(s->threshold, 2);
	assert_int_equal(s->periods, 4);
	assert_true(s->check);
	ctng_sim_scenario_free(s);
	s = parse("{\"name\":\"x\",\"periods\":7,\"network\":{\"monitors\":9,\"peers\":4},"
	          "\"links\":{\"latency_ms\":{\"dist\":\"lognormal\",\"median\":50,\"sigma\":0.3},"
	          "\"loss\":0.01},\"faults\":[{\"entity\":\"ca2\",\"silent\":true}],"
	          "\"partitions\":[{\"groups\":[[\"gossiper1\"],[\"gossiper2\"]],"
	          "\"from\":{\"period\":1},\"until\":{\"period\":2,\"offset_ms\":5}}],"
	          "\"crashes\":[{\"nodes\":[\"monitor2\"],\"at\":{\"period\":1}}],"
	          "\"expect\":{\"periods\":[{\"STH_FULL\":3}],\"CON_FULL_total\":0},"
	          "\"costs\":{\"bls_verify\":500,\"object\":1}}");
	assert_int_equal(s->periods, 7);
	assert_int_equal(s->monitors, 9);
	assert_int_equal(s->peers, 4);
	assert_int_equal(s->latency.kind, CTNG_SIM_LOGNORMAL);
	assert_true(s->partitions[0].heals);
	assert_false(s->crashes[0].restarts);
	assert_int_equal(s->n_expect, 1);
	assert_int_equal(s->expect[0].sth_full, 3);
	assert_int_equal(s->expect[0].acc, -1);
	assert_int_equal(s->con_full_total, 0);
	assert_true(s->costs.op_us[CTNG_METER_BLS_VERIFY] == 500);
	ctng_sim_scenario_free(s);

	reject("{\"bogus\":1}", "unknown member \"bogus\"");
	reject("{\"network\":{\"monitors\":0}}", "network.monitors");
	reject("{\"network\":{\"monitors\":3,\"threshold\":4}}", "threshold");
	reject("{\"links\":{\"latency_ms\":{\"dist\":\"zipf\"}}}", "links.latency_ms");
	reject("{\"links\":{\"latency_ms\":{\"dist\":\"uniform\",\"min\":5,\"max\":1}}}",
	       "max below");
	reject("{\"links\":{\"loss\":2}}", "links.loss");
	reject("{\"faults\":[{\"silent\":true}]}", "faults[0].entity");
	reject("{\"running\":[\"a b\"]}", "not an entity id");
	reject("{\"crashes\":[{\"nodes\":[\"m\"],\"at\":{\"period\":2},"
	       "\"restart\":{\"period\":1}}]}",
	       "after the crash");
	reject("{\"expect\":\"maybe\"}", "expect");
	reject("{\"costs\":{\"quantum\":1}}", "costs");
	reject("[1,2]", "must be an object");
	reject("{\"periods\":1,}", "line 1");
}

static void test_shipped(void **st)
{
	(void)st;
	const char *need[] = {"honest",      "split-logger", "split-ca",     "silent",    "flaky",
	                      "seed-sample", "restart",      "hidden-entry", "wrong-data"};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		ctng_sim_scenario *s = NULL;
		ctng_err e = {0};
		assert_int_equal(ctng_sim_scenario_load(need[i], &s, &e), 0);
		assert_string_equal(s->name, need[i]);
		ctng_sim_scenario_free(s);
	}
	for (size_t i = 0; i < ctng_sim_shipped_count(); i++) {
		ctng_sim_scenario *s = NULL;
		ctng_err e = {0};
		if (ctng_sim_scenario_load(ctng_sim_shipped_name(i), &s, &e))
			print_message("%s: %s\n", ctng_sim_shipped_name(i), e.msg);
		assert_non_null(s);
		ctng_sim_scenario_free(s);
	}
	ctng_sim_scenario *s = NULL;
	assert_int_equal(ctng_sim_scenario_load("no-such-scenario", &s, NULL), CTNG_ENOTFOUND);
	assert_int_equal(ctng_sim_scenario_load("/nonexistent/x.json", &s, NULL), CTNG_ENOTFOUND);
}

/* Runs s; returns the exit value and the text it printed (caller frees). */
static int run(const ctng_sim_scenario *s, bool json, bool memo, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len), *null = fopen("/dev/null", "w");
	assert_non_null(out);
	ctng_sim_opts o;
	ctng_sim_opts_default(&o);
	o.json = json;
	o.memo = memo;
	o.out = out;
	o.progress = null;
	ctng_err e = {0};
	int rc = ctng_sim_run(s, &o, NULL, &e);
	fclose(out);
	fclose(null);
	if (rc < 0)
		print_message("run: %s\n", e.msg);
	if (rc != 0)
		print_message("%s\n", buf);
	*text = buf;
	return rc;
}

static ctng_sim_scenario *load(const char *name, uint64_t periods)
{
	ctng_sim_scenario *s = NULL;
	assert_int_equal(ctng_sim_scenario_load(name, &s, NULL), 0);
	s->periods = periods;
	return s;
}

/* The testnet's scenarios on the seed network, checked against the very
 * table `ctng testnet` checks the real processes against (its scenario's
 * expect function and CON_FULL total, src/testnet/scenario.c): the
 * simulator's counts equal the testnet's (docs/sim.md §10). */
static void test_testnet_scenarios(void **st)
{
	(void)st;
	const char *names[] = {"honest",      "split-logger", "split-ca",  "silent",    "flaky",
	                       "seed-sample", "restart",      "hidden-entry", "wrong-data"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const uint64_t periods = 3;
		ctng_sim_scenario *s = load(names[i], periods);
		const ctng_testnet_scenario *tn = ctng_testnet_scenario_find(names[i]);
		assert_non_null(tn);
		assert_non_null(tn->expect);
		free(s->expect);
		s->expect = calloc(periods, sizeof(*s->expect));
		assert_non_null(s->expect);
		for (size_t k = 0; k < periods; k++) {
			ctng_testnet_expect e;
			tn->expect(k, k, &e);
			s->expect[k] = (ctng_sim_expect){e.sth_full, e.rev_full, e.acc_full, e.acc};
		}
		s->n_expect = periods;
		s->con_full_total = tn->con_full_total;
		char *text = NULL;
		assert_int_equal(run(s, false, true, &text), 0);
		assert_non_null(strstr(text, "PASS: every count matched"));
		free(text);
		ctng_sim_scenario_free(s);
	}
}

/* The mirrors: in charged mode (nothing stored) the data faults still show
 * with the testnet's counts; and without the DA word of the mirrors no STH
 * is signed (a logger hiding an entry gets no STH_FULL, which the derived
 * counts of an honest network would want: the check fails). */
static void test_mirrors(void **st)
{
	(void)st;
	const char *names[] = {"hidden-entry", "wrong-data"};
	for (size_t i = 0; i < 2; i++) {
		ctng_sim_scenario *s = load(names[i], 3);
		s->mirror_mode = CTNG_SIM_MIRROR_CHARGED;
		s->entry_bytes = 2000;
		char *text = NULL;
		assert_int_equal(run(s, false, true, &text), 0);
		assert_non_null(strstr(text, "PASS: every count matched"));
		free(text);
		ctng_sim_scenario_free(s);
	}
	/* the hiding logger checked against the honest network's counts */
	ctng_sim_scenario *h = load("hidden-entry", 2);
	char *text = NULL;
	h->expect = calloc(1, sizeof(*h->expect));
	assert_non_null(h->expect);
	h->expect[0] = (ctng_sim_expect){3, 3, 0, 0};
	h->n_expect = 1;
	assert_int_equal(run(h, false, true, &text), 1);
	assert_non_null(strstr(text, "STH_FULL 2, want 3"));
	free(text);
	ctng_sim_scenario_free(h);
}

/* Same seed, same bytes; with and without the memo too. A wrong
 * expectation fails the run (the check can fail). */
static void test_reproducible(void **st)
{
	(void)st;
	ctng_sim_scenario *s = load("seed-sample", 2);
	char *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(run(s, true, true, &a), 0);
	assert_int_equal(run(s, true, true, &b), 0);
	assert_int_equal(run(s, true, false, &c), 0);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_non_null(strstr(a, "{\"period\": 0, \"gossiper\": \"gossiper1\", \"counts\": {"));
	assert_non_null(strstr(a, "\"CON_FULL\": 1"));
	assert_non_null(strstr(a, "{\"result\": \"pass\""));
	free(b);
	free(c);
	s->seed = 2; /* another seed: other keys, other bytes */
	assert_int_equal(run(s, true, true, &b), 0);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	s->expect[0].rev_full = 2; /* wrong on purpose */
	assert_int_equal(run(s, false, true, &a), 1);
	assert_non_null(strstr(a, "REV_FULL 1, want 2"));
	free(a);
	ctng_sim_scenario_free(s);
}

/* gossipers 1 and 2 cut off from 3 and 4 for all of period 1: with t = 2
 * each half still makes its FULLs from its own FRAGs (each half holds two
 * watchers of every entity), and the partition heals in period 2. A
 * network where a crashed majority leaves fewer than t gossipers has no
 * FULL, and the run says so. */
static void test_partition_and_crash(void **st)
{
	(void)st;
	ctng_sim_scenario *s = parse(
	    "{\"name\":\"halves\",\"periods\":3,\"traffic\":{\"certs_per_ca\":0},"
	    "\"partitions\":[{\"groups\":[[\"gossiper1\",\"gossiper2\"],"
	    "[\"gossiper3\",\"gossiper4\"]],\"from\":{\"period\":1},\"until\":{\"period\":2}}]}");
	char *text = NULL;
	assert_int_equal(run(s, false, true, &text), 0);
	free(text);
	ctng_sim_scenario_free(s);
	s = parse("{\"name\":\"majority down\",\"periods\":2,\"traffic\":{\"certs_per_ca\":0},"
	          "\"network\":{\"threshold\":3},"
	          "\"crashes\":[{\"nodes\":[\"gossiper1\",\"gossiper2\"],\"at\":{\"period\":0}}]}");
	assert_int_equal(run(s, false, true, &text), 1);
	assert_non_null(strstr(text, "STH_FULL 0, want 3"));
	free(text);
	ctng_sim_scenario_free(s);
}

/* The NDSS testbed's CRV (docs/sim.md §10) on the seed network: every CA
 * joins with 2,000 of 10^6 RIDs revoked; the counts hold (certificates get
 * RIDs after them, so none is born revoked), and the first REVs carry the
 * whole set, which the bytes show (figures, not timing). */
static void test_crv(void **st)
{
	(void)st;
	ctng_sim_scenario *s = parse("{\"periods\":2,\"crv\":{\"bits\":1000000,\"revoked\":0.002}}");
	assert_int_equal(s->crv_bits, 1000000);
	assert_int_equal(s->crv_revoked, 2000);
	ctng_sim_scenario *plain = parse("{\"periods\":2}");
	ctng_sim_summary a, b;
	ctng_sim_opts o;
	ctng_sim_opts_default(&o);
	FILE *null = fopen("/dev/null", "w");
	o.out = null;
	o.progress = null;
	assert_int_equal(ctng_sim_run(s, &o, &a, NULL), 0);
	assert_int_equal(ctng_sim_run(plain, &o, &b, NULL), 0);
	fclose(null);
	/* 3 CAs x ~4 KB of delta, each REV received and sent at least once per gossiper */
	assert_true(a.bytes_max > b.bytes_max + 4000);
	ctng_sim_scenario_free(s);
	ctng_sim_scenario_free(plain);
	reject("{\"crv\":{\"bits\":0}}", "crv.bits");
	reject("{\"crv\":{\"bits\":10,\"revoked\":2}}", "crv.revoked");
	reject("{\"crv\":{\"bits\":100000000,\"revoked\":0.5}}", "at most 1000000");
	reject("{\"crv\":{\"bits\":10,\"size\":2}}", "size");
}

int main(void)
{
	ctng_log_set_level(CTNG_LOG_OFF); /* the simulated nodes' logs */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),        cmocka_unit_test(test_shipped),
	    cmocka_unit_test(test_mirrors),      cmocka_unit_test(test_testnet_scenarios),
	    cmocka_unit_test(test_reproducible), cmocka_unit_test(test_partition_and_crash),
	    cmocka_unit_test(test_crv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
