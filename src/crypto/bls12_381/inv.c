/*
 * inv.c — constant-time modular inversion in Fp and Fr by the Bernstein-Yang
 * "safegcd" algorithm (Bernstein, Yang, "Fast constant-time gcd computation
 * and modular inversion", TCHES 2019). Batch inversion of point coordinates
 * (Montgomery's trick) is batch_to_affine in curve_impl.h.
 *
 * The divstep iteration (delta, f, g) runs on f = m (the modulus) and g = x:
 *   delta > 0 and g odd:  (1 - delta, g, (g - f) / 2)
 *   otherwise:            (1 + delta, f, (g + (g mod 2) f) / 2)
 * It reaches g = 0, f = +-gcd = +-1 within floor((49 d + 57) / 17) steps for
 * d-bit inputs (the paper's Theorem 11.2): 1101 for p (d = 381), 738 for r
 * (d = 255). We always run a whole number of batches of 62 steps past that
 * bound (18 for p, 12 for r), whatever the input, so the running time does
 * not depend on it. Each batch decides its 62 steps from the low 62 bits of f
 * and g alone (the parity of g at step i depends on bits 0..i only),
 * accumulating a 2x2 transition matrix of 64-bit entries (|u| + |v| <= 2^62),
 * then applies it to the full f, g and to the Bezout coefficients d, e
 * (f = d x, g = e x mod m), dividing by 2^62 exactly (for d, e after adding
 * the multiple of m that makes the low 62 bits zero).
 *
 * Constant time: the step decisions are masks, the number of steps is fixed,
 * every loop has a public trip count, and the multiplications are
 * straight-line. Numbers are 7 signed 62-bit limbs (434 bits): limbs 0..5 in
 * [0, 2^62), the top limb carries the sign.
 *
 * Montgomery form: the input is x = a 2^k mod m (k = 384 or 256) and the
 * output must be a^-1 2^k = x^-1 2^2k. Starting from e = 2^2k mod m instead of
 * 1 scales the result by that factor, so no final multiplication is needed.
 */
#include "crypto/bls12_381/consts.h"
#include "crypto/bls12_381/field.h"

#define L62   7
#define M62   (((uint64_t)1 << 62) - 1)
#define STEPS 62

__extension__ typedef __int128 bls_i128;

typedef struct {
	int64_t v[L62];
} s62;

typedef struct {
	s62 m;                 /* the modulus */
	uint64_t m_inv;        /* m^-1 mod 2^62 */
	int batches;           /* batches of STEPS divsteps */
	int limbs;             /* 64-bit limbs of a field element */
	const uint64_t *scale; /* 2^2k mod m, raw limbs */
} modinv;

static void s62_from_limbs(s62 *r, const uint64_t *a, int n)
{
	/* bits [62 i, 62 i + 62) of the n-limb integer a */
	for (int i = 0; i < L62; i++) {
		int bit = 62 * i, w = bit / 64, sh = bit % 64;
		uint64_t lo = w < n ? a[w] >> sh : 0;
		uint64_t hi = (sh > 2 && w + 1 < n) ? a[w + 1] << (64 - sh) : 0;
		r->v[i] = (int64_t)((lo | hi) & M62);
	}
}

/* r must be in [0, 2^(64 n)) with normalized limbs */
static void s62_to_limbs(uint64_t *r, const s62 *a, int n)
{
	for (int w = 0; w < n; w++) {
		int bit = 64 * w, i = bit / 62, sh = bit % 62;
		uint64_t x = (uint64_t)a->v[i] >> sh;
		if (i + 1 < L62)
			x |= (uint64_t)a->v[i + 1] << (62 - sh);
		if (sh > 60 && i + 2 < L62) /* 64 bits can span three 62-bit limbs */
			x |= (uint64_t)a->v[i + 2] << (124 - sh);
		r[w] = x;
	}
}

/* 62 divsteps on the low bits of f and g; returns the new delta and the
 * transition matrix t = (u, v, q, r): 2^62 f' = u f + v g, 2^62 g' = q f + r g.
 * Entries are kept as uint64_t (two's complement) so that doubling negative
 * values is well defined. */
static int64_t divsteps(int64_t delta, uint64_t f, uint64_t g, int64_t t[4])
{
	uint64_t u = 1, v = 0, q = 0, r = 1;
	for (int i = 0; i < STEPS; i++) {
		uint64_t odd = 0 - (g & 1);                       /* g odd */
		uint64_t pos = 0 - ((uint64_t)(0 - delta) >> 63); /* delta > 0 */
		uint64_t swap = odd & pos;
		/* c = -1 (swap), +1 (odd, no swap) or 0: g += c f, (q, r) += c (u, v) */
		uint64_t cf = ((f ^ swap) - swap) & odd;
		uint64_t cu = ((u ^ swap) - swap) & odd;
		uint64_t cv = ((v ^ swap) - swap) & odd;
		g += cf;
		q += cu;
		r += cv;
		/* on a swap the new f is the old g = f + (g - f) */
		f += g & swap;
		u += q & swap;
		v += r & swap;
		/* delta = 1 + (swap ? -delta : delta) */
		delta = 1 + (int64_t)(((uint64_t)delta ^ swap) - swap);
		g >>= 1;
		u <<= 1;
		v <<= 1;
	}
	t[0] = (int64_t)u;
	t[1] = (int64_t)v;
	t[2] = (int64_t)q;
	t[3] = (int64_t)r;
	return delta;
}

/* (f, g) = (u f + v g, q f + r g) / 2^62, exact */
static void update_fg(s62 *f, s62 *g, const int64_t t[4])
{
	bls_i128 cf = (bls_i128)t[0] * f->v[0] + (bls_i128)t[1] * g->v[0];
	bls_i128 cg = (bls_i128)t[2] * f->v[0] + (bls_i128)t[3] * g->v[0];
	cf >>= 62; /* the low 62 bits are zero by construction */
	cg >>= 62;
	for (int i = 1; i < L62; i++) {
		cf += (bls_i128)t[0] * f->v[i] + (bls_i128)t[1] * g->v[i];
		cg += (bls_i128)t[2] * f->v[i] + (bls_i128)t[3] * g->v[i];
		f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
		g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
		cf >>= 62;
		cg >>= 62;
	}
	f->v[L62 - 1] = (int64_t)cf;
	g->v[L62 - 1] = (int64_t)cg;
}

/* (d, e) = (u d + v e + md m, q d + r e + me m) / 2^62 with md, me in
 * [0, 2^62) chosen to make the numerators divisible. With |u| + |v| <= 2^62
 * the bound |d|, |e| < B m becomes < (B + 1) m: after all batches they stay
 * below 20 m < 2^386, well inside 434 bits. */
static void update_de(s62 *d, s62 *e, const int64_t t[4], const modinv *mi)
{
	bls_i128 cd = (bls_i128)t[0] * d->v[0] + (bls_i128)t[1] * e->v[0];
	bls_i128 ce = (bls_i128)t[2] * d->v[0] + (bls_i128)t[3] * e->v[0];
	uint64_t md = (0 - (uint64_t)cd * mi->m_inv) & M62;
	uint64_t me = (0 - (uint64_t)ce * mi->m_inv) & M62;
	cd += (bls_i128)md * mi->m.v[0];
	ce += (bls_i128)me * mi->m.v[0];
	cd >>= 62;
	ce >>= 62;
	for (int i = 1; i < L62; i++) {
		cd +=
		    (bls_i128)t[0] * d->v[i] + (bls_i128)t[1] * e->v[i] + (bls_i128)md * mi->m.v[i];
		ce +=
		    (bls_i128)t[2] * d->v[i] + (bls_i128)t[3] * e->v[i] + (bls_i128)me * mi->m.v[i];
		d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
		e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
		cd >>= 62;
		ce >>= 62;
	}
	d->v[L62 - 1] = (int64_t)cd;
	e->v[L62 - 1] = (int64_t)ce;
}

/* r = a + (mask & b), normalized (limbs 0..5 in [0, 2^62)) */
static void s62_add_masked(s62 *r, const s62 *a, const s62 *b, uint64_t mask)
{
	int64_t c = 0;
	for (int i = 0; i < L62; i++) {
		int64_t x = a->v[i] + (int64_t)((uint64_t)b->v[i] & mask) + c;
		if (i < L62 - 1) {
			r->v[i] = (int64_t)((uint64_t)x & M62);
			c = x >> 62; /* arithmetic: limbs stay far below 2^63 */
		} else {
			r->v[i] = x;
		}
	}
}

/* r = mask ? -a : a, normalized */
static void s62_cneg(s62 *r, const s62 *a, uint64_t mask)
{
	s62 n;
	for (int i = 0; i < L62; i++)
		n.v[i] = (int64_t)(((uint64_t)a->v[i] ^ mask) - mask);
	const s62 zero = {{0}};
	s62_add_masked(r, &n, &zero, 0);
}

static void modinv_run(uint64_t *out, const uint64_t *x, const modinv *mi)
{
	s62 f = mi->m, g, d = {{0}}, e;
	int64_t delta = 1, t[4];
	s62_from_limbs(&g, x, mi->limbs);
	s62_from_limbs(&e, mi->scale, mi->limbs);
	for (int b = 0; b < mi->batches; b++) {
		delta = divsteps(delta, (uint64_t)f.v[0], (uint64_t)g.v[0], t);
		update_fg(&f, &g, t);
		update_de(&d, &e, t, mi);
	}
	/* f = +-1 (or m when x = 0, with d = 0): d = d sign(f), then bring
	 * d from (-20 m, 20 m) into [0, m): add 32 m, then subtract 2^k m for
	 * k = 5..0 whenever the result stays non-negative */
	uint64_t neg = 0 - ((uint64_t)f.v[L62 - 1] >> 63);
	s62_cneg(&d, &d, neg);
	s62 mk[6];
	mk[0] = mi->m;
	for (int k = 1; k < 6; k++)
		s62_add_masked(&mk[k], &mk[k - 1], &mk[k - 1], ~(uint64_t)0);
	s62_add_masked(&d, &d, &mk[5], ~(uint64_t)0);
	for (int k = 5; k >= 0; k--) {
		s62 nm, t2;
		s62_cneg(&nm, &mk[k], ~(uint64_t)0);
		s62_add_masked(&t2, &d, &nm, ~(uint64_t)0);
		uint64_t keep = 0 - ((uint64_t)t2.v[L62 - 1] >> 63); /* d < 2^k m */
		for (int i = 0; i < L62; i++)
			d.v[i] = (int64_t)(((uint64_t)d.v[i] & keep) | ((uint64_t)t2.v[i] & ~keep));
	}
	s62_to_limbs(out, &d, mi->limbs);
	bls_wipe(&g, sizeof g);
	bls_wipe(&d, sizeof d);
	bls_wipe(&e, sizeof e);
	bls_wipe(&f, sizeof f);
}

static uint64_t inv_mod_2_62(uint64_t m)
{
	uint64_t y = 1; /* Newton: y = y (2 - m y), doubling the correct bits */
	for (int i = 0; i < 6; i++)
		y *= 2 - m * y;
	return y & M62;
}

static modinv mi_p, mi_r;

__attribute__((constructor)) static void modinv_init(void)
{
	static uint64_t scale_p[6], scale_r[4];
	/* 2^768 mod p = R2 of Montgomery form as raw limbs (BLS_FP_R2 holds
	 * 2^768 mod p), likewise 2^512 mod r */
	memcpy(scale_p, BLS_FP_R2.l, sizeof scale_p);
	memcpy(scale_r, BLS_FR_R2.l, sizeof scale_r);
	s62_from_limbs(&mi_p.m, BLS_P, 6);
	mi_p.m_inv = inv_mod_2_62(BLS_P[0]);
	mi_p.batches = 18; /* 18 * 62 = 1116 >= 1101 */
	mi_p.limbs = 6;
	mi_p.scale = scale_p;
	s62_from_limbs(&mi_r.m, BLS_R, 4);
	mi_r.m_inv = inv_mod_2_62(BLS_R[0]);
	mi_r.batches = 12; /* 12 * 62 = 744 >= 738 */
	mi_r.limbs = 4;
	mi_r.scale = scale_r;
}

void fp_inv(fp *r, const fp *a)
{
	modinv_run(r->l, a->l, &mi_p);
}

void fr_inv(fr *r, const fr *a)
{
	modinv_run(r->l, a->l, &mi_r);
}
