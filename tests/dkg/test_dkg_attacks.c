/*
 * test_dkg_attacks.c — red-team tests of the DKG: a coalition of fewer than
 * t gossipers that plays the protocol as an attacker would, with messages it
 * builds itself (tests/dkg/dkg_fixture.h runs the honest participants).
 *
 * The rogue-key attack on joint-Feldman: with n <= 2t - 2 and t - 1
 * corrupted gossipers there are at most t - 1 honest recipients. The last
 * corrupted dealer waits for the honest deals, commits to
 * C_0 = x*G2 - (sum of the other C_0) for an x of its choice, and solves its
 * other t - 1 commitments (in the exponent) so that the shares it sends the
 * t - 1 honest recipients verify. Nobody complains, it qualifies, and the
 * group key is x*G2: the coalition knows the group secret and can sign any
 * FULL alone. A proof of knowledge of a_0 in every deal stops it.
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
#include "dkg/dkg_internal.h"
#include "dkg_fixture.h"

#define LIMIT_MS 60000

struct deals {
	ctng_dkg_msg m[DFX_MAX];
	size_t n;
};

static void collect_deal(const char *json, size_t len, void *arg)
{
	struct deals *d = arg;
	ctng_dkg_msg m;
	if (ctng_dkg_msg_parse(json, len, &m, NULL) == 0 && m.type == CTNG_DKG_DEAL &&
	    d->n < DFX_MAX)
		d->m[d->n++] = m;
	else
		ctng_dkg_msg_clear(&m);
}

static void rand_fr(fr *s)
{
	uint8_t b[64];
	assert_int_equal(ctng_random(b, sizeof b), 0);
	fr_from_bytes_wide(s, b, sizeof b);
	ctng_wipe(b, sizeof b);
}

/* x^k mod r for a small x. */
static void fr_pow_u32(fr *r, uint32_t x, uint32_t k)
{
	fr base;
	fr_from_u64(&base, x);
	fr one = BLS_FR_ONE;
	*r = one;
	for (uint32_t i = 0; i < k; i++)
		fr_mul(r, r, &base);
}

/* Solves, over Fr, the m x m system V y = b (V[j][k] = xs[j]^(k+1)) by
 * Gauss-Jordan; returns the inverse of V in inv (row major). */
static void vandermonde_inverse(fr *inv, const uint32_t *xs, size_t m)
{
	fr a[DFX_MAX][2 * DFX_MAX];
	fr zero;
	fr_from_u64(&zero, 0);
	for (size_t j = 0; j < m; j++)
		for (size_t k = 0; k < 2 * m; k++) {
			if (k < m)
				fr_pow_u32(&a[j][k], xs[j], (uint32_t)k + 1);
			else
				fr_from_u64(&a[j][k], k - m == j);
		}
	for (size_t c = 0; c < m; c++) {
		size_t p = c;
		while (fr_is_zero(&a[p][c]))
			p++;
		for (size_t k = 0; k < 2 * m; k++) {
			fr t = a[c][k];
			a[c][k] = a[p][k];
			a[p][k] = t;
		}
		fr iv;
		fr_inv(&iv, &a[c][c]);
		for (size_t k = 0; k < 2 * m; k++)
			fr_mul(&a[c][k], &a[c][k], &iv);
		for (size_t j = 0; j < m; j++) {
			if (j == c)
				continue;
			fr f = a[j][c];
			for (size_t k = 0; k < 2 * m; k++) {
				fr t;
				fr_mul(&t, &f, &a[c][k]);
				fr_sub(&a[j][k], &a[j][k], &t);
			}
		}
	}
	for (size_t j = 0; j < m; j++)
		for (size_t k = 0; k < m; k++)
			inv[j * m + k] = a[j][m + k];
}

/* The rogue deal of dealer `me` (given its signing key): group key x*G2.
 * steal >= 0: instead, it takes honest deal number `steal`'s C_0 and proof
 * of knowledge as its own (and solves the rest as before). */
static char *rogue_deal(const ctng_dkg_ctx *c, const struct deals *honest, const char *me,
                        const ctng_sig_key *key, const fr *x, int steal, size_t *len)
{
	uint32_t t = c->t;
	int di = dkg_dealer_index(c, me);
	assert_true(di >= 0);
	/* C_0 = x*G - sum of the other dealers' C_0 */
	g2 gen, c0, q, com[DFX_MAX];
	g2_generator(&gen);
	g2_mul_ct(&c0, &gen, x);
	for (size_t i = 0; i < honest->n; i++) {
		assert_int_equal(g2_decompress(&q, honest->m[i].commitments[0]), BLS_DEC_OK);
		g2_neg(&q, &q);
		g2_add(&c0, &c0, &q);
	}
	if (steal >= 0)
		assert_int_equal(g2_decompress(&c0, honest->m[steal].commitments[0]), BLS_DEC_OK);
	/* the honest recipients (not the coalition's): at most t - 1 of them */
	uint32_t xs[DFX_MAX];
	size_t hr[DFX_MAX], m = 0;
	for (size_t r = 0; r < c->nr; r++) {
		bool is_honest = false;
		for (size_t i = 0; i < honest->n; i++)
			is_honest = is_honest || strcmp(honest->m[i].sender, c->recips[r].id) == 0;
		if (is_honest) {
			xs[m] = c->recips[r].index;
			hr[m++] = r;
		}
	}
	assert_true(m <= t - 1);
	/* shares s_j for them; C_1..C_{t-1} with sum_k x_j^k C_k = s_j G - C_0
	 * (the columns beyond m are left at zero) */
	fr s[DFX_MAX], inv[DFX_MAX * DFX_MAX];
	g2 d[DFX_MAX];
	for (size_t j = 0; j < m; j++) {
		rand_fr(&s[j]);
		g2_mul_ct(&d[j], &gen, &s[j]);
		g2_neg(&q, &c0);
		g2_add(&d[j], &d[j], &q);
	}
	vandermonde_inverse(inv, xs, m);
	com[0] = c0;
	for (uint32_t k = 1; k < t; k++) {
		g2_identity(&com[k]);
		if (k > m)
			continue;
		/* C_k = sum_j inv[k-1][j] D_j */
		assert_int_equal(g2_msm_vartime(&com[k], d, &inv[(k - 1) * m], m), 0);
	}
	/* the deal: commitments, shares sealed to the honest recipients (the
	 * coalition's own get zeros) */
	ctng_dkg_msg deal = {0};
	deal.type = CTNG_DKG_DEAL;
	memcpy(deal.session, c->session, 32);
	snprintf(deal.sender, sizeof deal.sender, "%s", me);
	deal.t = t;
	deal.n = (uint32_t)c->nr;
	deal.commitments = calloc(t, 96);
	deal.shares = calloc(c->nr, CTNG_DKG_SHARE_CT_LEN);
	assert_int_equal(dkg_compress_many(deal.commitments, com, t), 0);
	uint8_t esk[32];
	assert_int_equal(ctng_seal_keygen(esk, deal.ephemeral, NULL), 0);
	for (size_t r = 0; r < c->nr; r++) {
		uint8_t pt[32] = {0};
		for (size_t j = 0; j < m; j++)
			if (hr[j] == r)
				fr_to_bytes(pt, &s[j]);
		ctng_buf info = {0};
		assert_int_equal(dkg_share_info(c, (size_t)di, r, &info), 0);
		assert_int_equal(ctng_seal(deal.shares[r], esk, c->recips[r].dkg_key, c->session,
		                           32, info.data, info.len, pt, 32, NULL),
		                 0);
		ctng_buf_free(&info);
	}
	/* it cannot prove knowledge of a_0 for this C_0: it sends no proof, or
	 * the stolen one */
	if (steal >= 0) {
		memcpy(deal.pok_r, honest->m[steal].pok_r, 96);
		memcpy(deal.pok_z, honest->m[steal].pok_z, 32);
	}
	assert_int_equal(ctng_dkg_msg_sign(&deal, key, NULL), 0);
	char *json = NULL;
	assert_int_equal(ctng_dkg_msg_encode(&deal, &json, len, NULL), 0);
	ctng_dkg_msg_clear(&deal);
	return json;
}

/* n = 4, t = 3 (t = floor(n/2) + 1, what `ctng bench dkg` uses): gossiper3
 * and gossiper4 are corrupted (2 < t). gossiper3 stays silent; gossiper4
 * deals last, with a rogue key. The honest gossipers must never end with a
 * group key whose secret the coalition knows. */
static void test_rogue_key(void **state)
{
	(void)state;
	dfx f;
	ctng_err e = {0};
	assert_int_equal(dfx_make(&f, 4, 3, NULL, &e), 0);
	bool absent[4] = {false, false, true, true};
	dh h;
	assert_int_equal(dh_init(&h, &f, NULL, absent, NULL, NULL, &e), 0);
	assert_int_equal(dh_start(&h), 0);
	/* the honest deals go out; the coalition reads them */
	while (h.qh < h.qt) {
		dh_item it = h.q[h.qh++];
		assert_int_equal(dh_deliver(&h, &it), 0);
		free(it.json);
	}
	struct deals honest = {0};
	ctng_dkg_sm_each(h.sm[0], collect_deal, &honest);
	assert_int_equal(honest.n, 2);
	ctng_dkg_ctx *c = NULL;
	assert_int_equal(ctng_dkg_ctx_new(&f.net, &c, &e), 0);
	fr x;
	rand_fr(&x);
	for (int steal = -1; steal < 2; steal++) {
		size_t len = 0;
		char *json = rogue_deal(c, &honest, "gossiper4", f.p[3].sig, &x, steal, &len);
		for (int i = 0; i < 2; i++) {
			/* refused, saying why */
			e.msg[0] = 0;
			int rc = ctng_dkg_sm_on_message(h.sm[i], json, len, "gossiper4", h.now,
			                                &h.a[i], &e);
			assert_true(rc < 0);
			assert_non_null(strstr(e.msg, "proof of knowledge"));
			assert_int_equal(dh_actions(&h, i), 0);
		}
		free(json);
	}
	assert_int_equal(dh_loop(&h, LIMIT_MS), 0);
	/* gossiper4 sent no valid deal: two qualified dealers, fewer than t = 3,
	 * so this run fails (two honest gossipers of four cannot make a t = 3
	 * key anyway) — and says so */
	for (int i = 0; i < 2; i++)
		assert_non_null(ctng_dkg_sm_failure(h.sm[i]));
	/* the group key of the coalition's choice */
	uint8_t xb[32], xpk[96];
	fr_to_bytes(xb, &x);
	assert_int_equal(ctng_bls_sk_to_pk(xpk, xb, NULL), 0);
	for (int i = 0; i < 2; i++) {
		const ctng_dkg_outcome *o = ctng_dkg_sm_outcome(h.sm[i]);
		if (!o)
			continue; /* the run failed: fine, nothing to forge with */
		assert_memory_not_equal(o->group_pk, xpk, 96);
		/* and no signature made with x verifies under it */
		static const uint8_t msg[] = "CTng/v1/attest forged";
		uint8_t sig[48];
		assert_int_equal(ctng_bls_sign(sig, xb, msg, sizeof msg, NULL, NULL), 0);
		assert_int_not_equal(ctng_bls_verify(o->group_pk, msg, sizeof msg, sig, NULL, NULL),
		                     0);
	}
	ctng_wipe(xb, sizeof xb);
	for (size_t i = 0; i < honest.n; i++)
		ctng_dkg_msg_clear(&honest.m[i]);
	ctng_dkg_ctx_free(c);
	dh_free(&h);
	dfx_free(&f);
}

int main(void)
{
	ctng_log_set_level(CTNG_LOG_OFF);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rogue_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
