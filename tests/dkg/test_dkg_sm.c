/*
 * test_dkg_sm.c — the DKG state machine, n participants in one process
 * (tests/dkg/dkg_fixture.h): honest runs (n = 4, t = 2 and n = 7, t = 4)
 * whose shares threshold-sign under the group key; a dealer that sends one
 * wrong share and answers the complaint correctly, then one that does not
 * answer and one that answers wrongly; silent dealers (up to n - t, and one
 * more: failure); an equivocating dealer; a false complaint; resharing 4 -> 7
 * and 7 -> 5 with the same group key (old shares no longer match); every
 * transcript verifies and finalizes; bad messages change nothing; restarts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/bls.h"
#include "dkg_fixture.h"

#define LIMIT_MS 60000

/* Runs a DKG over f; every present participant must finish. */
static void run(dfx *f, dh *h, const uint32_t *faults, const bool *absent, const uint8_t (*old)[32],
                const bool *has_old)
{
	ctng_err e = {0};
	int rc = dh_init(h, f, faults, absent, old, has_old, &e);
	if (rc)
		fprintf(stderr, "init: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(dh_run(h, LIMIT_MS), 0);
	assert_true(dh_all_finished(h));
	dh_collect(h);
}

/* Every DONE participant agrees; t shares sign under the group key; every
 * transcript verifies to the same outcome; returns the outcome of the first. */
static const ctng_dkg_outcome *agree(dh *h, size_t expect_qual)
{
	const ctng_dkg_outcome *first = NULL;
	size_t first_i = 0;
	for (size_t i = 0; i < h->f->n; i++) {
		if (h->absent[i] || !h->f->has_share[i])
			continue;
		const ctng_dkg_outcome *o = ctng_dkg_sm_outcome(h->sm[i]);
		assert_non_null(o);
		if (!first) {
			first = o;
			first_i = i;
		} else {
			assert_true(ctng_dkg_outcome_equal(first, o));
		}
		/* the share matches its share key */
		uint8_t pk[96];
		assert_int_equal(ctng_bls_sk_to_pk(pk, h->f->share[i], NULL), 0);
		assert_memory_equal(pk, o->share_pks[i], 96);
		/* the transcript verifies against the bare network */
		char *tr = NULL;
		size_t tl = 0;
		ctng_err e = {0};
		assert_int_equal(ctng_dkg_sm_transcript(h->sm[i], &tr, &tl, &e), 0);
		ctng_dkg_outcome v;
		int rc = ctng_dkg_transcript_verify(h->f->json, h->f->len, tr, tl, &v, &e);
		if (rc)
			fprintf(stderr, "transcript of %zu: %s\n", i, e.msg);
		assert_int_equal(rc, 0);
		assert_true(ctng_dkg_outcome_equal(&v, o));
		ctng_dkg_outcome_free(&v);
		free(tr);
	}
	assert_non_null(first);
	(void)first_i;
	assert_int_equal(first->n_qualified, expect_qual);
	/* any t of the shares make a group signature */
	uint32_t t = h->f->t, ids[DFX_MAX];
	uint8_t parts[DFX_MAX][48], sig[48];
	const uint8_t msg[] = "period 7 STH";
	size_t k = 0;
	for (size_t i = h->f->n; i-- > 0 && k < t;) {
		if (!h->f->has_share[i])
			continue;
		ids[k] = (uint32_t)(i + 1);
		assert_int_equal(
		    ctng_bls_sign(parts[k], h->f->share[i], msg, sizeof msg, NULL, NULL), 0);
		assert_int_equal(ctng_bls_partial_verify(first->share_pks[i], msg, sizeof msg,
		                                         parts[k], NULL, NULL),
		                 0);
		k++;
	}
	assert_int_equal(k, t);
	assert_int_equal(ctng_bls_combine(sig, ids, (const uint8_t(*)[48])parts, t, t, NULL), 0);
	assert_int_equal(ctng_bls_verify(first->group_pk, msg, sizeof msg, sig, NULL, NULL), 0);
	/* t-1 of them do not */
	if (t > 1) {
		uint8_t bad[48];
		if (ctng_bls_combine(bad, ids, (const uint8_t(*)[48])parts, t - 1, t - 1, NULL) ==
		    0)
			assert_int_not_equal(
			    ctng_bls_verify(first->group_pk, msg, sizeof msg, bad, NULL, NULL), 0);
	}
	return first;
}

static bool disq_reason(const ctng_dkg_outcome *o, const char *id, const char *part)
{
	for (size_t i = 0; i < o->n_disqualified; i++)
		if (strcmp(o->disqualified[i].id, id) == 0 &&
		    strstr(o->disqualified[i].reason, part))
			return true;
	return false;
}

static void honest(size_t n, uint32_t t)
{
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, n, t, NULL, &e), 0);
	dh h;
	run(&f, &h, NULL, NULL, NULL, NULL);
	const ctng_dkg_outcome *o = agree(&h, n);
	assert_int_equal(o->n_disqualified, 0);
	/* no complaint, so no share was revealed */
	char *tr = NULL;
	assert_int_equal(ctng_dkg_sm_transcript(h.sm[0], &tr, NULL, &e), 0);
	assert_null(strstr(tr, "\"justification\""));
	free(tr);
	/* honest and all present: no phase waited for its timeout */
	assert_true(h.now < h.start + f.net.dkg_phase_ms);
	/* finalize: the network loads with these keys and shares */
	assert_int_equal(dfx_finalize(&f, o, &e), 0);
	assert_memory_equal(f.knet.group_pk, o->group_pk, 96);
	assert_memory_equal(f.knet.fingerprint, f.net.fingerprint, 32);
	for (size_t i = 0; i < n; i++) {
		uint8_t pk[96];
		ctng_bls_sk_to_pk(pk, f.share[i], NULL);
		assert_memory_equal(pk, ctng_network_entity(&f.knet, f.p[i].id)->bls_pk, 96);
	}
	dh_free(&h);
	dfx_free(&f);
}

static void test_honest_4_2(void **state)
{
	(void)state;
	honest(4, 2);
}

static void test_honest_7_4(void **state)
{
	(void)state;
	honest(7, 4);
}

/* Does the transcript hold a response of `from` complaining about `about`? */
static bool has_complaint(const char *tr, const char *from, const char *about)
{
	json_t *j = json_loads(tr, 0, NULL), *m;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(j, "messages"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "type")), "response") != 0 ||
		    strcmp(json_string_value(json_object_get(m, "sender")), from) != 0)
			continue;
		size_t k;
		json_t *c;
		json_array_foreach(json_object_get(m, "complaints"), k, c) found |=
		    strcmp(json_string_value(c), about) == 0;
	}
	json_decref(j);
	return found;
}

/* gossiper2 seals a wrong share for gossiper1, who complains. */
static void wrong_share(uint32_t extra, size_t expect_qual, const char *reason)
{
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 2, NULL, &e), 0);
	uint32_t faults[4] = {0, CTNG_DKG_FAULT_BAD_SHARE | extra, 0, 0};
	dh h;
	run(&f, &h, faults, NULL, NULL, NULL);
	const ctng_dkg_outcome *o = agree(&h, expect_qual);
	if (reason)
		assert_true(disq_reason(o, "gossiper2", reason));
	else
		assert_int_equal(o->n_disqualified, 0);
	/* gossiper1's response complains about gossiper2 */
	char *tr = NULL;
	assert_int_equal(ctng_dkg_sm_transcript(h.sm[0], &tr, NULL, &e), 0);
	assert_true(has_complaint(tr, "gossiper1", "gossiper2"));
	free(tr);
	dh_free(&h);
	dfx_free(&f);
}

static void test_wrong_share_answered(void **state)
{
	(void)state;
	wrong_share(0, 4, NULL);
}

static void test_wrong_share_unanswered(void **state)
{
	(void)state;
	wrong_share(CTNG_DKG_FAULT_NO_JUSTIFY, 3, "did not answer the complaint of gossiper1");
	wrong_share(CTNG_DKG_FAULT_BAD_JUSTIFY, 3, "revealed a wrong share for gossiper1");
}

static void test_silent_dealers(void **state)
{
	(void)state;
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 2, NULL, &e), 0);
	/* one silent */
	bool absent[4] = {false, false, false, true};
	dh h;
	run(&f, &h, NULL, absent, NULL, NULL);
	const ctng_dkg_outcome *o = agree(&h, 3);
	assert_true(disq_reason(o, "gossiper4", "no deal"));
	/* the silent one still gets a share key; its share is simply missing */
	assert_int_equal(o->n_share_pks, 4);
	dh_free(&h);
	/* n - t silent: still a key */
	bool absent2[4] = {false, true, false, true};
	run(&f, &h, NULL, absent2, NULL, NULL);
	agree(&h, 2);
	dh_free(&h);
	/* one more: every participant fails, and says why */
	bool absent3[4] = {false, true, true, true};
	run(&f, &h, NULL, absent3, NULL, NULL);
	assert_int_equal(ctng_dkg_sm_phase(h.sm[0]), CTNG_DKG_FAILED);
	assert_non_null(strstr(ctng_dkg_sm_failure(h.sm[0]), "only 1 qualified dealers, need 2"));
	char *tr = NULL;
	size_t tl = 0;
	assert_int_equal(ctng_dkg_sm_transcript(h.sm[0], &tr, &tl, &e), 0);
	ctng_dkg_outcome v;
	assert_int_equal(ctng_dkg_transcript_verify(f.json, f.len, tr, tl, &v, &e), CTNG_EVERIFY);
	free(tr);
	dh_free(&h);
	/* a participant that merely starts late is not disqualified: messages
	 * that arrive before it started are kept */
	dfx_free(&f);
}

static void test_equivocating_dealer(void **state)
{
	(void)state;
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 2, NULL, &e), 0);
	uint32_t faults[4] = {0, 0, CTNG_DKG_FAULT_EQUIVOCATE, 0};
	dh h;
	run(&f, &h, faults, NULL, NULL, NULL);
	/* the honest three agree; the equivocator is out (its own view, which
	 * never holds the deal it disowns, does not count) */
	f.has_share[2] = false;
	const ctng_dkg_outcome *o = agree(&h, 3);
	assert_true(disq_reason(o, "gossiper3", "equivocation"));
	dh_free(&h);
	dfx_free(&f);
}

static void test_false_complaint(void **state)
{
	(void)state;
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 2, NULL, &e), 0);
	uint32_t faults[4] = {0, 0, 0, CTNG_DKG_FAULT_FALSE_CLAIM};
	dh h;
	run(&f, &h, faults, NULL, NULL, NULL);
	/* gossiper1 answers by revealing gossiper4's share; nobody is out */
	const ctng_dkg_outcome *o = agree(&h, 4);
	assert_int_equal(o->n_disqualified, 0);
	char *tr = NULL;
	assert_int_equal(ctng_dkg_sm_transcript(h.sm[1], &tr, NULL, &e), 0);
	assert_non_null(strstr(tr, "\"justification\""));
	free(tr);
	dh_free(&h);
	dfx_free(&f);
}

/* Runs a fresh DKG on `from`, finalizes it, reshares to a network of n
 * gossipers with threshold t; returns the new fixture's outcome. */
static void reshare(size_t n0, uint32_t t0, size_t n1, uint32_t t1)
{
	dfx a, b;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&a, n0, t0, NULL, &e), 0);
	dh h;
	run(&a, &h, NULL, NULL, NULL, NULL);
	const ctng_dkg_outcome *o = agree(&h, n0);
	assert_int_equal(dfx_finalize(&a, o, &e), 0);
	dh_free(&h);
	int rc = dfx_make(&b, n1, t1, &a, &e);
	if (rc)
		fprintf(stderr, "reshare fixture: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_true(b.net.reshare.present);
	bool has_old[DFX_MAX] = {0};
	for (size_t i = 0; i < n0 && i < n1; i++)
		has_old[i] = true;
	run(&b, &h, NULL, NULL, (const uint8_t(*)[32])a.share, has_old);
	const ctng_dkg_outcome *o2 = agree(&h, n0 < n1 ? n0 : n1);
	/* same group key, new threshold and shares */
	assert_memory_equal(o2->group_pk, a.knet.group_pk, 96);
	assert_int_equal(o2->threshold, t1);
	assert_int_equal(dfx_finalize(&b, o2, &e), 0);
	/* an old share no longer matches the share key of its id */
	for (size_t i = 0; i < n0 && i < n1; i++) {
		uint8_t pk[96];
		ctng_bls_sk_to_pk(pk, a.share[i], NULL);
		assert_memory_not_equal(pk, ctng_network_entity(&b.knet, b.p[i].id)->bls_pk, 96);
	}
	dh_free(&h);
	dfx_free(&b);
	dfx_free(&a);
}

static void test_reshare_4_to_7(void **state)
{
	(void)state;
	reshare(4, 2, 7, 4);
}

static void test_reshare_7_to_5(void **state)
{
	(void)state;
	reshare(7, 4, 5, 3);
}

/* Bad input: each rejected with its code, and nothing held changes. */
static void test_bad_messages(void **state)
{
	(void)state;
	dfx f, g;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 2, NULL, &e), 0);
	assert_int_equal(dfx_make(&g, 4, 2, NULL, &e), 0); /* another network */
	dh h, other;
	assert_int_equal(dh_init(&h, &f, NULL, NULL, NULL, NULL, &e), 0);
	assert_int_equal(dh_init(&other, &g, NULL, NULL, NULL, NULL, &e), 0);
	ctng_dkg_actions a = {0};
	/* gossiper2's real deal */
	assert_int_equal(ctng_dkg_sm_start(h.sm[1], h.now, &a, &e), 0);
	const char *deal = NULL;
	size_t dl = 0;
	for (size_t k = 0; k < a.n; k++)
		if (a.v[k].kind == CTNG_DKG_ACT_SEND) {
			deal = a.v[k].json;
			dl = a.v[k].len;
		}
	assert_non_null(deal);
	ctng_dkg_sm *sm = h.sm[0];
	ctng_dkg_actions b = {0};
	/* malformed */
	const char *junk[] = {"", "{", "[]", "{\"ctng_dkg\":2}", "{\"ctng_dkg\":1,\"type\":\"x\"}"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(
		    ctng_dkg_sm_on_message(sm, junk[i], strlen(junk[i]), NULL, h.now, &b, &e),
		    CTNG_EINVAL);
	/* a flipped signature byte */
	char *bad = strdup(deal);
	char *sig = strstr(bad, "\"signature\":\"") + 13;
	sig[5] = sig[5] == '0' ? '1' : '0';
	assert_int_equal(ctng_dkg_sm_on_message(sm, bad, dl, NULL, h.now, &b, &e), CTNG_EVERIFY);
	/* a changed sealed share (signature no longer covers it) */
	strcpy(bad, deal);
	char *sh = strstr(bad, "\"shares\":[\"") + 11;
	sh[0] = sh[0] == 'a' ? 'b' : 'a';
	assert_int_equal(ctng_dkg_sm_on_message(sm, bad, dl, NULL, h.now, &b, &e), CTNG_EVERIFY);
	/* upper-case hex, an unknown member */
	strcpy(bad, deal);
	char *hx = strstr(bad, "\"ephemeral\":\"") + 13;
	for (int i = 0; i < 64; i++)
		if (hx[i] >= 'a' && hx[i] <= 'f')
			hx[i] = (char)(hx[i] - 32);
	assert_int_equal(ctng_dkg_sm_on_message(sm, bad, dl, NULL, h.now, &b, &e), CTNG_EINVAL);
	free(bad);
	char *extra = malloc(dl + 32);
	snprintf(extra, dl + 32, "{\"x\":1,%s", deal + 1);
	assert_int_equal(ctng_dkg_sm_on_message(sm, extra, strlen(extra), NULL, h.now, &b, &e),
	                 CTNG_EINVAL);
	free(extra);
	/* a deal of another network's session (a replay from elsewhere) */
	ctng_dkg_actions c = {0};
	assert_int_equal(ctng_dkg_sm_start(other.sm[1], other.now, &c, &e), 0);
	for (size_t k = 0; k < c.n; k++)
		if (c.v[k].kind == CTNG_DKG_ACT_SEND)
			assert_int_equal(ctng_dkg_sm_on_message(sm, c.v[k].json, c.v[k].len, NULL,
			                                        h.now, &b, &e),
			                 CTNG_ESTATE); /* another session */
	/* nothing was held or emitted */
	assert_int_equal(b.n, 0);
	assert_int_equal(ctng_dkg_sm_phase(sm), CTNG_DKG_WAIT);
	/* the real one is new, then a duplicate */
	assert_int_equal(ctng_dkg_sm_on_message(sm, deal, dl, "gossiper2", h.now, &b, &e),
	                 CTNG_DKG_NEW);
	assert_int_equal(ctng_dkg_sm_phase(sm), CTNG_DKG_DEALING); /* it started */
	ctng_dkg_actions_reset(&b);
	assert_int_equal(ctng_dkg_sm_on_message(sm, deal, dl, "gossiper3", h.now, &b, &e),
	                 CTNG_DKG_DUPLICATE);
	assert_int_equal(b.n, 0);
	/* a deal after the deal phase closed: 409 */
	ctng_dkg_actions d = {0};
	assert_int_equal(ctng_dkg_sm_start(h.sm[2], h.now, &d, &e), 0);
	const char *late = NULL;
	size_t ll = 0;
	for (size_t k = 0; k < d.n; k++)
		if (d.v[k].kind == CTNG_DKG_ACT_SEND) {
			late = d.v[k].json;
			ll = d.v[k].len;
		}
	assert_int_equal(ctng_dkg_sm_on_timer(sm, h.now + 5 * f.net.dkg_phase_ms, &b, &e), 0);
	assert_int_not_equal(ctng_dkg_sm_phase(sm), CTNG_DKG_DEALING);
	ctng_dkg_actions_reset(&b);
	assert_int_equal(ctng_dkg_sm_on_message(sm, late, ll, NULL, h.now, &b, &e), CTNG_ESTATE);
	assert_non_null(strstr(e.msg, "closed"));
	assert_int_equal(b.n, 0);
	ctng_dkg_actions_free(&a);
	ctng_dkg_actions_free(&b);
	ctng_dkg_actions_free(&c);
	ctng_dkg_actions_free(&d);
	dh_free(&h);
	dh_free(&other);
	dfx_free(&f);
	dfx_free(&g);
}

/* A participant killed in the middle resumes from its saved state and
 * stored messages, re-sends the same deal (same polynomial), and everyone
 * finishes with one key. Without its state it aborts instead of dealing
 * again. */
static void test_restart(void **state)
{
	(void)state;
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 2, NULL, &e), 0);
	dh h;
	assert_int_equal(dh_init(&h, &f, NULL, NULL, NULL, NULL, &e), 0);
	/* start all; deliver only until gossiper3 has dealt and received a bit */
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ctng_dkg_sm_start(h.sm[i], h.now, &h.a[i], &e), 0);
		assert_int_equal(dh_actions(&h, (int)i), 0);
	}
	for (int k = 0; k < 5 && h.qh < h.qt; k++) {
		dh_item it = h.q[h.qh++];
		assert_int_equal(dh_deliver(&h, &it), 0);
		free(it.json);
	}
	/* "kill" gossiper3 and bring it back from what it persisted */
	ctng_dkg_sm_free(h.sm[2]);
	uint8_t seed[32] = {9};
	ctng_dkg_config c = {.net = &f.net,
	                     .self_id = "gossiper3",
	                     .sign_key = f.p[2].sig,
	                     .dkg_sk = f.p[2].xsk,
	                     .test_seed = seed, /* a different seed: must not be used */
	                     .test_seed_len = sizeof seed};
	assert_int_equal(ctng_dkg_sm_new(&c, &h.sm[2], &e), 0);
	assert_int_equal(ctng_dkg_sm_restore_state(h.sm[2], h.state[2], h.state_len[2], &e), 0);
	for (size_t k = 0; k < h.n_stored[2]; k++)
		assert_int_equal(ctng_dkg_sm_restore_message(h.sm[2], h.stored[2][k],
		                                             strlen(h.stored[2][k]), &e),
		                 0);
	assert_int_equal(ctng_dkg_sm_resume(h.sm[2], h.now, &h.a[2], &e), 0);
	assert_int_equal(dh_actions(&h, 2), 0);
	assert_int_equal(dh_run(&h, LIMIT_MS), 0);
	dh_collect(&h);
	agree(&h, 4);
	dh_free(&h);

	/* lost state after dealing: the run is aborted for it, the rest go on */
	assert_int_equal(dh_init(&h, &f, NULL, NULL, NULL, NULL, &e), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ctng_dkg_sm_start(h.sm[i], h.now, &h.a[i], &e), 0);
		assert_int_equal(dh_actions(&h, (int)i), 0);
	}
	ctng_dkg_sm_free(h.sm[2]);
	assert_int_equal(ctng_dkg_sm_new(&c, &h.sm[2], &e), 0);
	for (size_t k = 0; k < h.n_stored[2]; k++)
		assert_int_equal(ctng_dkg_sm_restore_message(h.sm[2], h.stored[2][k],
		                                             strlen(h.stored[2][k]), &e),
		                 0);
	assert_int_equal(ctng_dkg_sm_resume(h.sm[2], h.now, &h.a[2], &e), 0);
	assert_int_equal(ctng_dkg_sm_phase(h.sm[2]), CTNG_DKG_FAILED);
	assert_non_null(strstr(ctng_dkg_sm_failure(h.sm[2]), "aborted"));
	/* it sent nothing new */
	for (size_t k = 0; k < h.a[2].n; k++)
		assert_int_not_equal(h.a[2].v[k].kind, CTNG_DKG_ACT_SEND);
	assert_int_equal(dh_actions(&h, 2), 0);
	assert_int_equal(dh_run(&h, LIMIT_MS), 0);
	dh_collect(&h);
	agree(&h, 4); /* its deal was out: it still counts for the others */
	dh_free(&h);
	dfx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_honest_4_2),
	    cmocka_unit_test(test_honest_7_4),
	    cmocka_unit_test(test_wrong_share_answered),
	    cmocka_unit_test(test_wrong_share_unanswered),
	    cmocka_unit_test(test_silent_dealers),
	    cmocka_unit_test(test_equivocating_dealer),
	    cmocka_unit_test(test_false_complaint),
	    cmocka_unit_test(test_reshare_4_to_7),
	    cmocka_unit_test(test_reshare_7_to_5),
	    cmocka_unit_test(test_bad_messages),
	    cmocka_unit_test(test_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
