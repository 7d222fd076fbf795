/*
 * pairing.c — optimal ate pairing on BLS12-381 (x = -0xd201000000010000).
 *
 * Miller loop: the G2 point runs in Jacobian coordinates on the twist; each
 * doubling/addition step yields a line whose three non-zero Fp2 coefficients
 * are evaluated at the affine G1 point and multiplied into f sparsely
 * (fp12_mul_014). Several pairs share the squarings of f (multi-pairing).
 * Final exponentiation: easy part f^((p^6-1)(p^2+1)), then the hard part via
 * the curve parameter with cyclotomic squarings (Hayashida-Hayasaka-Teruya
 * decomposition as used by several open implementations).
 * Inputs are public (signatures, keys, hashes), but the code is straight-line.
 */
#include <pthread.h>
#include <stdlib.h>

#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/pairing.h"

typedef struct {
	fp2 x, y, z;
} g2j;

/* Doubling step in Jacobian coordinates (Costello-Lange-Naehrig 2010, alg. 26). */
static void dbl_step(fp2 c[3], g2j *r)
{
	fp2 t0, t1, t2, t3, t4, t5, t6, zz, s;
	fp2_sqr(&t0, &r->x);
	fp2_sqr(&t1, &r->y);
	fp2_sqr(&t2, &t1);
	fp2_add(&t3, &t1, &r->x);
	fp2_sqr(&t3, &t3);
	fp2_sub(&t3, &t3, &t0);
	fp2_sub(&t3, &t3, &t2);
	fp2_dbl(&t3, &t3);
	fp2_dbl(&t4, &t0);
	fp2_add(&t4, &t4, &t0);
	fp2_add(&t6, &r->x, &t4);
	fp2_sqr(&t5, &t4);
	fp2_sqr(&zz, &r->z);
	fp2_sub(&r->x, &t5, &t3);
	fp2_sub(&r->x, &r->x, &t3);
	fp2_add(&s, &r->z, &r->y);
	fp2_sqr(&s, &s);
	fp2_sub(&s, &s, &t1);
	fp2_sub(&r->z, &s, &zz);
	fp2_sub(&s, &t3, &r->x);
	fp2_mul(&r->y, &s, &t4);
	fp2_dbl(&t2, &t2);
	fp2_dbl(&t2, &t2);
	fp2_dbl(&t2, &t2);
	fp2_sub(&r->y, &r->y, &t2);
	fp2_mul(&t3, &t4, &zz);
	fp2_dbl(&t3, &t3);
	fp2_neg(&c[1], &t3);
	fp2_sqr(&t6, &t6);
	fp2_sub(&t6, &t6, &t0);
	fp2_sub(&t6, &t6, &t5);
	fp2_dbl(&t1, &t1);
	fp2_dbl(&t1, &t1);
	fp2_sub(&c[2], &t6, &t1);
	fp2_mul(&t0, &r->z, &zz);
	fp2_dbl(&c[0], &t0);
}

/* Mixed addition step R += Q (alg. 27 of the same paper). */
static void add_step(fp2 c[3], g2j *r, const g2_aff *q)
{
	fp2 zz, yy, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, s;
	fp2_sqr(&zz, &r->z);
	fp2_sqr(&yy, &q->y);
	fp2_mul(&t0, &zz, &q->x);
	fp2_add(&s, &q->y, &r->z);
	fp2_sqr(&s, &s);
	fp2_sub(&s, &s, &yy);
	fp2_sub(&s, &s, &zz);
	fp2_mul(&t1, &s, &zz);
	fp2_sub(&t2, &t0, &r->x);
	fp2_sqr(&t3, &t2);
	fp2_dbl(&t4, &t3);
	fp2_dbl(&t4, &t4);
	fp2_mul(&t5, &t4, &t2);
	fp2_sub(&t6, &t1, &r->y);
	fp2_sub(&t6, &t6, &r->y);
	fp2_mul(&t9, &t6, &q->x);
	fp2_mul(&t7, &t4, &r->x);
	fp2_sqr(&s, &t6);
	fp2_sub(&s, &s, &t5);
	fp2_sub(&s, &s, &t7);
	fp2_sub(&r->x, &s, &t7);
	fp2_add(&s, &r->z, &t2);
	fp2_sqr(&s, &s);
	fp2_sub(&s, &s, &zz);
	fp2_sub(&r->z, &s, &t3);
	fp2_add(&t10, &q->y, &r->z);
	fp2_sub(&s, &t7, &r->x);
	fp2_mul(&t8, &s, &t6);
	fp2_mul(&t0, &r->y, &t5);
	fp2_dbl(&t0, &t0);
	fp2_sub(&r->y, &t8, &t0);
	fp2_sqr(&t10, &t10);
	fp2_sub(&t10, &t10, &yy);
	fp2_sqr(&s, &r->z);
	fp2_sub(&t10, &t10, &s);
	fp2_dbl(&t9, &t9);
	fp2_sub(&c[2], &t9, &t10);
	fp2_dbl(&c[0], &r->z);
	fp2_neg(&t6, &t6);
	fp2_dbl(&c[1], &t6);
}

static void ell(fp12 *f, const fp2 c[3], const g1_aff *p)
{
	fp2 a, b;
	fp2_mul_fp(&a, &c[0], &p->y);
	fp2_mul_fp(&b, &c[1], &p->x);
	fp12_mul_014(f, &c[2], &b, &a);
}

void bls_g2_prepare(bls_g2_prepared *out, const g2_aff *q)
{
	memset(out, 0, sizeof *out);
	out->inf = q->inf;
	if (q->inf)
		return;
	g2j R = {q->x, q->y, {BLS_FP_ONE, {{0}}}};
	int k = 0;
	bool found = false;
	for (int b = 63; b >= 0; b--) {
		bool bit = ((BLS_X_ABS >> 1) >> b) & 1;
		if (!found) {
			found = bit;
			continue;
		}
		dbl_step(out->c[k++], &R);
		if (bit)
			add_step(out->c[k++], &R, q);
	}
	dbl_step(out->c[k++], &R);
}

static bls_g2_prepared neg_gen;
static pthread_once_t neg_gen_once = PTHREAD_ONCE_INIT;

static void init_neg_gen(void)
{
	g2_aff q;
	q.x = BLS_G2_GX;
	fp2_neg(&q.y, &BLS_G2_GY);
	q.inf = false;
	bls_g2_prepare(&neg_gen, &q);
}

const bls_g2_prepared *bls_g2_neg_generator_prepared(void)
{
	pthread_once(&neg_gen_once, init_neg_gen);
	return &neg_gen;
}

int bls_miller_loop_ex(fp12 *f, const g1_aff *P, const g2_aff *Q, size_t n, const g1_aff *Pp,
                       const bls_g2_prepared *const *Qp, size_t np)
{
	g2j stack[4], *R = stack;
	const g1_aff *pp[4], **ps = pp;
	const g2_aff *qq[4], **qs = qq;
	size_t m = 0;
	if (n > 4) {
		R = malloc(n * sizeof *R);
		ps = malloc(n * sizeof *ps);
		qs = malloc(n * sizeof *qs);
		if (!R || !ps || !qs) {
			free(R);
			free(ps);
			free(qs);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (P[i].inf || Q[i].inf)
			continue;
		ps[m] = &P[i];
		qs[m] = &Q[i];
		R[m].x = Q[i].x;
		R[m].y = Q[i].y;
		fp2_one(&R[m].z);
		m++;
	}
	fp2 c[3];
	fp12_one(f);
	bool found = false;
	int k = 0; /* index into the prepared lines */
	for (int b = 63; b >= 0; b--) {
		bool bit = ((BLS_X_ABS >> 1) >> b) & 1;
		if (!found) {
			found = bit;
			continue;
		}
		for (size_t i = 0; i < m; i++) {
			dbl_step(c, &R[i]);
			ell(f, c, ps[i]);
		}
		for (size_t i = 0; i < np; i++)
			if (!Pp[i].inf && !Qp[i]->inf)
				ell(f, Qp[i]->c[k], &Pp[i]);
		k++;
		if (bit) {
			for (size_t i = 0; i < m; i++) {
				add_step(c, &R[i], qs[i]);
				ell(f, c, ps[i]);
			}
			for (size_t i = 0; i < np; i++)
				if (!Pp[i].inf && !Qp[i]->inf)
					ell(f, Qp[i]->c[k], &Pp[i]);
			k++;
		}
		fp12_sqr(f, f);
	}
	for (size_t i = 0; i < m; i++) {
		dbl_step(c, &R[i]);
		ell(f, c, ps[i]);
	}
	for (size_t i = 0; i < np; i++)
		if (!Pp[i].inf && !Qp[i]->inf)
			ell(f, Qp[i]->c[k], &Pp[i]);
	fp12_conj(f, f); /* x < 0 */
	if (n > 4) {
		free(R);
		free(ps);
		free(qs);
	}
	return 0;
}

int bls_miller_loop(fp12 *f, const g1_aff *P, const g2_aff *Q, size_t n)
{
	return bls_miller_loop_ex(f, P, Q, n, NULL, NULL, 0);
}

bool bls_pairing_check_gen(const g1_aff *sig, const g1_aff *P, const g2_aff *Q, size_t n)
{
	fp12 f, r;
	const bls_g2_prepared *g = bls_g2_neg_generator_prepared();
	if (bls_miller_loop_ex(&f, P, Q, n, sig, &g, 1) != 0)
		return false;
	bls_final_exp(&r, &f);
	return fp12_is_one(&r);
}

/* f^x for f in the cyclotomic subgroup (x < 0: conjugate = inverse), by
 * Granger-Scott squarings and square-and-multiply. */
static void cyc_exp_gs(fp12 *r, const fp12 *f)
{
	fp12 t;
	fp12_one(&t);
	bool found = false;
	for (int b = 63; b >= 0; b--) {
		bool bit = (BLS_X_ABS >> b) & 1;
		if (found)
			fp12_cyclotomic_sqr(&t, &t);
		else
			found = bit;
		if (bit)
			fp12_mul(&t, &t, f);
	}
	fp12_conj(r, &t);
}

/* The same with compressed squarings: |x| = 2^63 + 2^62 + 2^60 + 2^57 +
 * 2^48 + 2^16, so the 63 squarings of f run compressed, the six powers
 * f^(2^k) are decompressed together (one inversion) and multiplied. */
static void cyc_exp(fp12 *r, const fp12 *f)
{
	static const int runs[6] = {16, 32, 9, 3, 2, 1}; /* gaps between the set bits */
	fp12c c[6], t;
	fp12 d[6];
	fp12_compress(&t, f);
	for (int i = 0; i < 6; i++) {
		for (int k = 0; k < runs[i]; k++)
			fp12c_sqr(&t, &t);
		c[i] = t;
	}
	if (!fp12c_decompress(d, c, 6)) {
		cyc_exp_gs(r, f);
		return;
	}
	for (int i = 1; i < 6; i++)
		fp12_mul(&d[0], &d[0], &d[i]);
	fp12_conj(r, &d[0]);
}

void bls_final_exp(fp12 *r, const fp12 *f)
{
	fp12 t0, t1, t2, t3, t4, t5, t6, s;
	/* easy part: f^(p^6 - 1) then ^(p^2 + 1) */
	fp12_conj(&t0, f);
	fp12_inv(&t1, f);
	fp12_mul(&t2, &t0, &t1);
	t1 = t2;
	fp12_frob(&t2, &t2);
	fp12_frob(&t2, &t2);
	fp12_mul(&t2, &t2, &t1);
	/* hard part */
	fp12_cyclotomic_sqr(&t1, &t2);
	fp12_conj(&t1, &t1);
	cyc_exp(&t3, &t2);
	fp12_cyclotomic_sqr(&t4, &t3);
	fp12_mul(&t5, &t1, &t3);
	cyc_exp(&t1, &t5);
	cyc_exp(&t0, &t1);
	cyc_exp(&t6, &t0);
	fp12_mul(&t6, &t6, &t4);
	cyc_exp(&t4, &t6);
	fp12_conj(&t5, &t5);
	fp12_mul(&s, &t5, &t2);
	fp12_mul(&t4, &t4, &s);
	fp12_conj(&t5, &t2);
	fp12_mul(&t1, &t1, &t2);
	fp12_frob(&t1, &t1);
	fp12_frob(&t1, &t1);
	fp12_frob(&t1, &t1);
	fp12_mul(&t6, &t6, &t5);
	fp12_frob(&t6, &t6);
	fp12_mul(&t3, &t3, &t0);
	fp12_frob(&t3, &t3);
	fp12_frob(&t3, &t3);
	fp12_mul(&t3, &t3, &t1);
	fp12_mul(&t3, &t3, &t6);
	fp12_mul(r, &t3, &t4);
}

void bls_pairing(fp12 *r, const g1 *P, const g2 *Q)
{
	g1_aff pa;
	g2_aff qa;
	fp12 f;
	g1_to_affine(&pa, P);
	g2_to_affine(&qa, Q);
	bls_miller_loop(&f, &pa, &qa, 1); /* n = 1 never allocates */
	bls_final_exp(r, &f);
}

bool bls_pairing_check(const g1_aff *P, const g2_aff *Q, size_t n)
{
	fp12 f, r;
	if (bls_miller_loop(&f, P, Q, n) != 0)
		return false;
	bls_final_exp(&r, &f);
	return fp12_is_one(&r);
}
