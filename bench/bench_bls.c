/*
 * bench_bls.c — `ctng bench bls`: BLS12-381 speed (issue 3). One JSON line
 * per operation:
 *   bls.fp_mul           one Montgomery multiplication in Fp
 *   bls.fp_sqr           one squaring in Fp
 *   bls.fp_inv           one constant-time inversion in Fp
 *   bls.fp12_mul         one multiplication in Fp12
 *   bls.fp12_sqr         one squaring in Fp12
 *   bls.fp12_cyclotomic_sqr  one Granger-Scott squaring (cyclotomic subgroup)
 *   bls.g1_mul           constant-time G1 scalar multiplication (random scalar)
 *   bls.g2_mul           constant-time G2 scalar multiplication (random scalar)
 *   bls.miller_loop      one Miller loop
 *   bls.final_exp        one final exponentiation
 *   bls.pairing          one full pairing
 *   bls.hash_to_g1       RFC 9380 hash_to_curve of a 32-byte message
 *   bls.sign             sign a 32-byte message
 *   bls.verify           verify a signature (pk and sig decoding included)
 *   bls.verify_prepared  verify under a key prepared once (ctng_bls_pk_prepare)
 *   bls.pop_verify       verify a proof of possession
 *   bls.combine          Lagrange combination of t partials ("t", "n")
 *   bls.group_verify     verify a combined signature under the group key
 *   bls.batch_verify     per-signature cost of batch verification, 16 keys ("n")
 *   bls.batch_verify_one_key  the same with one key for all (the client's case)
 * Each line also carries "cpu_ns_per_op", the thread's CPU time per operation,
 * which stays meaningful when other processes share the cores.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "crypto/bls12_381/pairing.h"
#include "ctng/base.h"
#include "ctng/bls.h"

#define TARGET_MS 400

static const uint8_t MSG[32] = "ctng bench message, 32 bytes...";

typedef struct {
	uint8_t sk[32], pk[96], sig[48], pop[48];
	fp a, b;
	g1_aff P;
	g2_aff Q;
	fp12 f, r, x, y;
	g1 g1p;
	g2 g2p;
	fr k;
	uint32_t t;
	uint32_t ids[16];
	uint8_t parts[16][48];
	uint8_t group_pk[96], gsig[48];
	ctng_bls_batch_item items[16];
	uint8_t bsk[16][32], bpk[16][96], bsig[16][48];
	ctng_bls_pk_prepared *prep;
	int failed;
} ctx;

static void b_fp_mul(void *p)
{
	ctx *c = p;
	for (int i = 0; i < 1000; i++)
		fp_mul(&c->a, &c->a, &c->b);
}
static void b_fp_sqr(void *p)
{
	ctx *c = p;
	for (int i = 0; i < 1000; i++)
		fp_sqr(&c->a, &c->a);
}
static void b_fp_inv(void *p)
{
	ctx *c = p;
	for (int i = 0; i < 100; i++)
		fp_inv(&c->a, &c->a);
}
static void b_fp12_mul(void *p)
{
	ctx *c = p;
	for (int i = 0; i < 100; i++)
		fp12_mul(&c->x, &c->x, &c->y);
}
static void b_fp12_sqr(void *p)
{
	ctx *c = p;
	for (int i = 0; i < 100; i++)
		fp12_sqr(&c->x, &c->x);
}
static void b_fp12_cyc(void *p)
{
	ctx *c = p;
	for (int i = 0; i < 100; i++)
		fp12_cyclotomic_sqr(&c->y, &c->y);
}
static void b_g1_mul(void *p)
{
	ctx *c = p;
	g1_mul_ct(&c->g1p, &c->g1p, &c->k);
}
static void b_g2_mul(void *p)
{
	ctx *c = p;
	g2_mul_ct(&c->g2p, &c->g2p, &c->k);
}
static void b_miller(void *p)
{
	ctx *c = p;
	bls_miller_loop(&c->f, &c->P, &c->Q, 1);
}
static void b_final(void *p)
{
	ctx *c = p;
	bls_final_exp(&c->r, &c->f);
}
static void b_pairing(void *p)
{
	ctx *c = p;
	bls_miller_loop(&c->f, &c->P, &c->Q, 1);
	bls_final_exp(&c->r, &c->f);
}
static void b_hash(void *p)
{
	ctx *c = p;
	uint8_t out[48];
	c->failed |= ctng_bls_hash_to_g1(out, MSG, sizeof MSG, NULL, NULL) != 0;
}
static void b_sign(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_sign(c->sig, c->sk, MSG, sizeof MSG, NULL, NULL) != 0;
}
static void b_verify(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_verify(c->pk, MSG, sizeof MSG, c->sig, NULL, NULL) != 0;
}
static void b_verify_prepared(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_verify_prepared(c->prep, MSG, sizeof MSG, c->sig, NULL, NULL) != 0;
}
static void b_pop_verify(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_pop_verify(c->pk, c->pop, NULL) != 0;
}
static void b_combine(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_combine(c->gsig, c->ids, (const uint8_t(*)[48])c->parts, c->t, c->t,
	                              NULL) != 0;
}
static void b_group_verify(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_verify(c->group_pk, MSG, sizeof MSG, c->gsig, NULL, NULL) != 0;
}
static void b_batch(void *p)
{
	ctx *c = p;
	c->failed |= ctng_bls_batch_verify(c->items, 16, NULL, NULL) != 0;
}

static int setup_threshold(ctx *c, uint32_t t, uint32_t n)
{
	uint8_t com[16][96];
	ctng_bls_share sh[16];
	ctng_err err;
	uint8_t seed[32];
	memset(seed, (int)(t * 31 + n), sizeof seed);
	if (ctng_bls_deal(t, n, seed, sizeof seed, c->group_pk, com, sh, &err))
		return -1;
	c->t = t;
	for (uint32_t i = 0; i < t; i++) {
		/* use the last t shares, so ids are not simply 1..t */
		c->ids[i] = sh[n - 1 - i].id;
		if (ctng_bls_sign(c->parts[i], sh[n - 1 - i].sk, MSG, sizeof MSG, NULL, &err))
			return -1;
	}
	ctng_wipe(sh, sizeof sh);
	return 0;
}

static double thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Times fn and prints one line; `scale` operations happen per call. */
static void run(const char *name, void (*fn)(void *), ctx *c, uint64_t min_ops, double scale,
                const char *extra)
{
	uint64_t ops;
	double cpu0 = thread_cpu_ns();
	double ns = ctng_bench_time(fn, c, TARGET_MS, min_ops, &ops);
	double cpu = (thread_cpu_ns() - cpu0) / ((double)ops * scale);
	char more[160];
	snprintf(more, sizeof more, ",\"cpu_ns_per_op\":%.1f%s", cpu, extra ? extra : "");
	ctng_bench_line_ns(name, ns / scale, (uint64_t)((double)ops * scale), more);
}

int ctng_bench_bls(void)
{
	static ctx c;
	ctng_err err;
	char extra[64];
	uint8_t ikm[32];
	memset(&c, 0, sizeof c);
	memset(ikm, 0x42, sizeof ikm);
	if (ctng_bls_keygen(c.sk, ikm, sizeof ikm, &err) || ctng_bls_sk_to_pk(c.pk, c.sk, &err) ||
	    ctng_bls_sign(c.sig, c.sk, MSG, sizeof MSG, NULL, &err) ||
	    ctng_bls_pop_prove(c.pop, c.sk, &err)) {
		fprintf(stderr, "ctng bench bls: setup failed: %s\n", err.msg);
		return 1;
	}
	g1 g;
	g2 h;
	g1_generator(&g);
	g2_generator(&h);
	g1_to_affine(&c.P, &g);
	g2_to_affine(&c.Q, &h);
	c.a = c.P.x;
	c.b = c.P.y;
	c.g1p = g;
	c.g2p = h;
	fr_from_bytes_wide(&c.k, c.sk, sizeof c.sk);
	bls_miller_loop(&c.x, &c.P, &c.Q, 1);
	bls_final_exp(&c.y, &c.x); /* y is in the cyclotomic subgroup */

	run("bls.fp_mul", b_fp_mul, &c, 10, 1000.0, NULL);
	run("bls.fp_sqr", b_fp_sqr, &c, 10, 1000.0, NULL);
	run("bls.fp_inv", b_fp_inv, &c, 10, 100.0, NULL);
	run("bls.fp12_mul", b_fp12_mul, &c, 10, 100.0, NULL);
	run("bls.fp12_sqr", b_fp12_sqr, &c, 10, 100.0, NULL);
	run("bls.fp12_cyclotomic_sqr", b_fp12_cyc, &c, 10, 100.0, NULL);
	run("bls.g1_mul", b_g1_mul, &c, 10, 1.0, NULL);
	run("bls.g2_mul", b_g2_mul, &c, 10, 1.0, NULL);
	run("bls.miller_loop", b_miller, &c, 10, 1.0, NULL);
	run("bls.final_exp", b_final, &c, 10, 1.0, NULL);
	run("bls.pairing", b_pairing, &c, 10, 1.0, NULL);
	run("bls.hash_to_g1", b_hash, &c, 10, 1.0, ",\"msg_len\":32");
	run("bls.sign", b_sign, &c, 10, 1.0, ",\"msg_len\":32");
	run("bls.verify", b_verify, &c, 10, 1.0, ",\"msg_len\":32");
	if (ctng_bls_pk_prepare(&c.prep, c.pk, &err)) {
		fprintf(stderr, "ctng bench bls: prepare failed: %s\n", err.msg);
		return 1;
	}
	run("bls.verify_prepared", b_verify_prepared, &c, 10, 1.0, ",\"msg_len\":32");
	ctng_bls_pk_prepared_free(c.prep);
	c.prep = NULL;
	run("bls.pop_verify", b_pop_verify, &c, 10, 1.0, NULL);

	static const uint32_t tn[2][2] = {{3, 4}, {11, 16}};
	for (int i = 0; i < 2; i++) {
		if (setup_threshold(&c, tn[i][0], tn[i][1])) {
			fprintf(stderr, "ctng bench bls: threshold setup failed\n");
			return 1;
		}
		snprintf(extra, sizeof extra, ",\"t\":%u,\"n\":%u", tn[i][0], tn[i][1]);
		run("bls.combine", b_combine, &c, 10, 1.0, extra);
		run("bls.group_verify", b_group_verify, &c, 10, 1.0, extra);
	}

	for (int i = 0; i < 16; i++) {
		memset(ikm, i + 1, sizeof ikm);
		if (ctng_bls_keygen(c.bsk[i], ikm, sizeof ikm, &err) ||
		    ctng_bls_sk_to_pk(c.bpk[i], c.bsk[i], &err) ||
		    ctng_bls_sign(c.bsig[i], c.bsk[i], MSG, sizeof MSG - (size_t)i, NULL, &err))
			return 1;
		c.items[i] =
		    (ctng_bls_batch_item){c.bpk[i], MSG, sizeof MSG - (size_t)i, c.bsig[i]};
	}
	run("bls.batch_verify", b_batch, &c, 5, 16.0, ",\"n\":16,\"keys\":16");
	for (int i = 0; i < 16; i++) {
		if (ctng_bls_sign(c.bsig[i], c.bsk[0], MSG, sizeof MSG - (size_t)i, NULL, &err))
			return 1;
		c.items[i].pk = c.bpk[0];
	}
	run("bls.batch_verify_one_key", b_batch, &c, 5, 16.0, ",\"n\":16,\"keys\":1");
	if (c.failed) {
		fprintf(stderr, "ctng bench bls: an operation failed during timing\n");
		return 1;
	}
	return 0;
}
