/*
 * curve_impl.h — the group law shared by G1 and G2, written once and
 * instantiated by g1.c and g2.c. Before including, define:
 *   G, AFF, FE        point type, affine type, field element type
 *   F(op)             field operation name (fp_##op or fp2_##op)
 *   GF(op)            group function name (g1_##op or g2_##op)
 *   CURVE_B           b (Montgomery form)
 *   MUL_B3(r, a)      r = 3b * a
 *   GEN_X, GEN_Y      generator
 *   MSM_PARTS, MSM_BITS, msm_split(part, d), msm_endo(r, a, j)
 *                     the endomorphism split of msm_vartime: k is cut into
 *                     base-|x| digits d[4], msm_split turns them into
 *                     MSM_PARTS scalars below 2^MSM_BITS, and part j acts on
 *                     msm_endo(P, j) (affine)
 */

void GF(identity)(G *r)
{
	F(zero)(&r->x);
	F(one)(&r->y);
	F(zero)(&r->z);
}

bool GF(is_identity)(const G *a)
{
	return F(is_zero)(&a->z);
}

void GF(generator)(G *r)
{
	r->x = GEN_X;
	r->y = GEN_Y;
	F(one)(&r->z);
}

/* RCB 2015, Algorithm 7 (complete addition, a = 0). */
void GF(add)(G *r, const G *p, const G *q)
{
	FE t0, t1, t2, t3, t4, x3, y3, z3;
	F(mul)(&t0, &p->x, &q->x);
	F(mul)(&t1, &p->y, &q->y);
	F(mul)(&t2, &p->z, &q->z);
	F(add)(&t3, &p->x, &p->y);
	F(add)(&t4, &q->x, &q->y);
	F(mul)(&t3, &t3, &t4);
	F(add)(&t4, &t0, &t1);
	F(sub)(&t3, &t3, &t4);
	F(add)(&t4, &p->y, &p->z);
	F(add)(&x3, &q->y, &q->z);
	F(mul)(&t4, &t4, &x3);
	F(add)(&x3, &t1, &t2);
	F(sub)(&t4, &t4, &x3);
	F(add)(&x3, &p->x, &p->z);
	F(add)(&y3, &q->x, &q->z);
	F(mul)(&x3, &x3, &y3);
	F(add)(&y3, &t0, &t2);
	F(sub)(&y3, &x3, &y3);
	F(add)(&x3, &t0, &t0);
	F(add)(&t0, &x3, &t0);
	MUL_B3(&t2, &t2);
	F(add)(&z3, &t1, &t2);
	F(sub)(&t1, &t1, &t2);
	MUL_B3(&y3, &y3);
	F(mul)(&x3, &t4, &y3);
	F(mul)(&t2, &t3, &t1);
	F(sub)(&x3, &t2, &x3);
	F(mul)(&y3, &y3, &t0);
	F(mul)(&t1, &t1, &z3);
	F(add)(&y3, &t1, &y3);
	F(mul)(&t0, &t0, &t3);
	F(mul)(&z3, &z3, &t4);
	F(add)(&z3, &z3, &t0);
	r->x = x3;
	r->y = y3;
	r->z = z3;
}

/* RCB 2015, Algorithm 9 (doubling, a = 0). */
void GF(dbl)(G *r, const G *p)
{
	FE t0, t1, t2, x3, y3, z3;
	F(sqr)(&t0, &p->y);
	F(add)(&z3, &t0, &t0);
	F(add)(&z3, &z3, &z3);
	F(add)(&z3, &z3, &z3);
	F(mul)(&t1, &p->y, &p->z);
	F(sqr)(&t2, &p->z);
	MUL_B3(&t2, &t2);
	F(mul)(&x3, &t2, &z3);
	F(add)(&y3, &t0, &t2);
	F(mul)(&z3, &t1, &z3);
	F(add)(&t1, &t2, &t2);
	F(add)(&t2, &t1, &t2);
	F(sub)(&t0, &t0, &t2);
	F(mul)(&y3, &t0, &y3);
	F(add)(&y3, &x3, &y3);
	F(mul)(&t1, &p->x, &p->y);
	F(mul)(&x3, &t0, &t1);
	F(add)(&x3, &x3, &x3);
	r->x = x3;
	r->y = y3;
	r->z = z3;
}

void GF(neg)(G *r, const G *a)
{
	r->x = a->x;
	F(neg)(&r->y, &a->y);
	r->z = a->z;
}

bool GF(eq)(const G *a, const G *b)
{
	bool ia = GF(is_identity)(a), ib = GF(is_identity)(b);
	if (ia || ib)
		return ia && ib;
	FE s, t;
	F(mul)(&s, &a->x, &b->z);
	F(mul)(&t, &b->x, &a->z);
	if (!F(eq)(&s, &t))
		return false;
	F(mul)(&s, &a->y, &b->z);
	F(mul)(&t, &b->y, &a->z);
	return F(eq)(&s, &t);
}

/* Y^2 Z = X^3 + b Z^3 (the identity (0:1:0) satisfies it) */
bool GF(is_on_curve)(const G *a)
{
	FE l, r, t;
	F(sqr)(&l, &a->y);
	F(mul)(&l, &l, &a->z);
	F(sqr)(&r, &a->x);
	F(mul)(&r, &r, &a->x);
	F(sqr)(&t, &a->z);
	F(mul)(&t, &t, &a->z);
	F(mul)(&t, &t, &CURVE_B);
	F(add)(&r, &r, &t);
	if (F(is_zero)(&a->z) && F(is_zero)(&a->y))
		return false;
	return F(eq)(&l, &r);
}

void GF(cmov)(G *r, const G *a, uint64_t mask)
{
	F(cmov)(&r->x, &a->x, mask);
	F(cmov)(&r->y, &a->y, mask);
	F(cmov)(&r->z, &a->z, mask);
}

void GF(from_affine)(G *r, const AFF *a)
{
	if (a->inf) {
		GF(identity)(r);
		return;
	}
	r->x = a->x;
	r->y = a->y;
	F(one)(&r->z);
}

void GF(to_affine)(AFF *r, const G *a)
{
	FE zi, one;
	r->inf = GF(is_identity)(a);
	F(one)(&one);
	if (F(eq)(&a->z, &one)) {
		/* decoded points have Z = 1; for computed points this never holds
		 * except with negligible probability, so it reveals nothing */
		r->x = a->x;
		r->y = a->y;
		return;
	}
	F(inv)(&zi, &a->z); /* 0 -> 0, so identity gives (0, 0) */
	F(mul)(&r->x, &a->x, &zi);
	F(mul)(&r->y, &a->y, &zi);
}

/* Montgomery's trick over the Z coordinates: n points made affine with one
 * inversion. The prefix products are kept in out[i].x (no allocation);
 * identities (Z = 0) count as Z = 1 and come out as (0, 0, inf) like
 * to_affine. Constant time in the coordinates. out must not overlap in. */
void GF(batch_to_affine)(AFF *out, const G *in, size_t n)
{
	FE acc, inv, z, t, one, zero;
	F(one)(&one);
	F(zero)(&zero);
	acc = one;
	for (size_t i = 0; i < n; i++) {
		out[i].x = acc;
		z = in[i].z;
		F(cmov)(&z, &one, F(is_zero_mask)(&in[i].z));
		F(mul)(&acc, &acc, &z);
	}
	F(inv)(&inv, &acc);
	for (size_t i = n; i-- > 0;) {
		uint64_t id = F(is_zero_mask)(&in[i].z);
		z = in[i].z;
		F(cmov)(&z, &one, id);
		F(mul)(&t, &out[i].x, &inv); /* 1 / z_i */
		F(mul)(&inv, &inv, &z);
		F(cmov)(&t, &zero, id);
		F(mul)(&out[i].x, &in[i].x, &t);
		F(mul)(&out[i].y, &in[i].y, &t);
		out[i].inf = id != 0;
	}
}

/* Signed 5-bit windows for the endomorphism multiplications (g1.c, g2.c):
 * tab[i] = (i + 1) a for i = 0..15. */
static void GF(table_w5)(G tab[16], const G *a)
{
	tab[0] = *a;
	GF(dbl)(&tab[1], a);
	for (int i = 2; i < 16; i++)
		GF(add)(&tab[i], &tab[i - 1], a);
}

/* r = sign(d) tab[|d| - 1] (the identity for d = 0), negated once more when
 * neg is all ones. d is secret: all 16 entries are read and selected with
 * masks, and the negation is a masked move. */
static void GF(lookup_w5)(G *r, const G tab[16], int8_t d, uint64_t neg)
{
	uint64_t s = 0 - ((uint64_t)(int64_t)d >> 63);
	uint64_t abs = ((uint64_t)(int64_t)d ^ s) - s;
	FE ny;
	GF(identity)(r);
	for (uint64_t i = 0; i < 16; i++) {
		uint64_t diff = (i + 1) ^ abs;
		uint64_t mask = ((diff | (0 - diff)) >> 63) - 1; /* all ones iff i + 1 == |d| */
		GF(cmov)(r, &tab[i], mask);
	}
	F(neg)(&ny, &r->y);
	F(cmov)(&r->y, &ny, s ^ neg);
}

void GF(mul_vartime)(G *r, const G *a, const uint64_t *k, int bits)
{
	G acc, base = *a;
	GF(identity)(&acc);
	for (int i = bits - 1; i >= 0; i--) {
		GF(dbl)(&acc, &acc);
		if ((k[i / 64] >> (i % 64)) & 1)
			GF(add)(&acc, &acc, &base);
	}
	*r = acc;
}

/* Jacobian coordinates (x = X/Z^2, y = Y/Z^3, identity Z = 0) for the
 * variable-time multiplication by the public |x| (subgroup checks, cofactor
 * clearing): doubling is 2M + 5S instead of 6M + 2S. */
typedef struct {
	FE x, y, z;
} jac;

/* dbl-2009-l (a = 0) */
static void jac_dbl(jac *r, const jac *p)
{
	FE A, B, C, D, E, F, t;
	F(sqr)(&A, &p->x);
	F(sqr)(&B, &p->y);
	F(sqr)(&C, &B);
	F(add)(&t, &p->x, &B);
	F(sqr)(&t, &t);
	F(sub)(&t, &t, &A);
	F(sub)(&t, &t, &C);
	F(add)(&D, &t, &t);
	F(add)(&E, &A, &A);
	F(add)(&E, &E, &A);
	F(sqr)(&F, &E);
	F(mul)(&t, &p->y, &p->z);
	F(add)(&r->z, &t, &t);
	F(sub)(&r->x, &F, &D);
	F(sub)(&r->x, &r->x, &D);
	F(sub)(&t, &D, &r->x);
	F(mul)(&r->y, &E, &t);
	F(add)(&C, &C, &C);
	F(add)(&C, &C, &C);
	F(add)(&C, &C, &C);
	F(sub)(&r->y, &r->y, &C);
}

/* add-2007-bl with the exceptional cases handled (variable time) */
static void jac_add(jac *r, const jac *p, const jac *q)
{
	if (F(is_zero)(&p->z)) {
		*r = *q;
		return;
	}
	if (F(is_zero)(&q->z)) {
		*r = *p;
		return;
	}
	FE z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
	F(sqr)(&z1z1, &p->z);
	F(sqr)(&z2z2, &q->z);
	F(mul)(&u1, &p->x, &z2z2);
	F(mul)(&u2, &q->x, &z1z1);
	F(mul)(&s1, &p->y, &q->z);
	F(mul)(&s1, &s1, &z2z2);
	F(mul)(&s2, &q->y, &p->z);
	F(mul)(&s2, &s2, &z1z1);
	F(sub)(&h, &u2, &u1);
	F(sub)(&rr, &s2, &s1);
	if (F(is_zero)(&h)) {
		if (F(is_zero)(&rr)) {
			jac_dbl(r, p);
		} else {
			F(zero)(&r->x);
			F(one)(&r->y);
			F(zero)(&r->z);
		}
		return;
	}
	F(add)(&rr, &rr, &rr);
	F(add)(&i, &h, &h);
	F(sqr)(&i, &i);
	F(mul)(&j, &h, &i);
	F(mul)(&v, &u1, &i);
	FE x3, y3, z3;
	F(sqr)(&x3, &rr);
	F(sub)(&x3, &x3, &j);
	F(sub)(&x3, &x3, &v);
	F(sub)(&x3, &x3, &v);
	F(sub)(&t, &v, &x3);
	F(mul)(&y3, &rr, &t);
	F(mul)(&t, &s1, &j);
	F(add)(&t, &t, &t);
	F(sub)(&y3, &y3, &t);
	F(add)(&z3, &p->z, &q->z);
	F(sqr)(&z3, &z3);
	F(sub)(&z3, &z3, &z1z1);
	F(sub)(&z3, &z3, &z2z2);
	F(mul)(&z3, &z3, &h);
	r->x = x3;
	r->y = y3;
	r->z = z3;
}

void GF(mul_x_abs)(G *r, const G *a)
{
	/* homogeneous (X:Y:Z) -> Jacobian (XZ, YZ^2, Z) */
	jac base, acc;
	FE zz;
	F(sqr)(&zz, &a->z);
	F(mul)(&base.x, &a->x, &a->z);
	F(mul)(&base.y, &a->y, &zz);
	base.z = a->z;
	if (F(is_zero)(&a->z)) {
		GF(identity)(r);
		return;
	}
	acc = base;
	for (int b = 62; b >= 0; b--) { /* bit 63 of |x| is set: acc starts at a */
		jac_dbl(&acc, &acc);
		if ((BLS_X_ABS >> b) & 1)
			jac_add(&acc, &acc, &base);
	}
	if (F(is_zero)(&acc.z)) {
		GF(identity)(r);
		return;
	}
	/* Jacobian -> homogeneous (X Z : Y : Z^3) */
	F(mul)(&r->x, &acc.x, &acc.z);
	r->y = acc.y;
	F(sqr)(&zz, &acc.z);
	F(mul)(&r->z, &zz, &acc.z);
}

/* Mixed Jacobian + affine addition (madd-2007-bl), exceptional cases
 * handled by branches: variable time, for public data only. r may alias p. */
static void jac_madd(jac *r, const jac *p, const AFF *q)
{
	if (F(is_zero)(&p->z)) {
		r->x = q->x;
		r->y = q->y;
		F(one)(&r->z);
		return;
	}
	FE z1z1, u2, s2, h, hh, i, j, rr, v, x3, y3, z3;
	F(sqr)(&z1z1, &p->z);
	F(mul)(&u2, &q->x, &z1z1);
	F(mul)(&s2, &q->y, &p->z);
	F(mul)(&s2, &s2, &z1z1);
	F(sub)(&h, &u2, &p->x);
	F(sub)(&rr, &s2, &p->y);
	if (F(is_zero)(&h)) {
		if (F(is_zero)(&rr)) {
			jac_dbl(r, p);
		} else {
			F(zero)(&r->x);
			F(one)(&r->y);
			F(zero)(&r->z);
		}
		return;
	}
	F(sqr)(&hh, &h);
	F(add)(&i, &hh, &hh);
	F(add)(&i, &i, &i);
	F(mul)(&j, &h, &i);
	F(add)(&rr, &rr, &rr);
	F(mul)(&v, &p->x, &i);
	F(sqr)(&x3, &rr); /* X3 = r^2 - J - 2V */
	F(sub)(&x3, &x3, &j);
	F(sub)(&x3, &x3, &v);
	F(sub)(&x3, &x3, &v);
	F(sub)(&y3, &v, &x3); /* Y3 = r (V - X3) - 2 Y1 J */
	F(mul)(&y3, &y3, &rr);
	F(mul)(&j, &j, &p->y);
	F(sub)(&y3, &y3, &j);
	F(sub)(&y3, &y3, &j);
	F(add)(&z3, &p->z, &h); /* Z3 = (Z1 + H)^2 - Z1Z1 - HH */
	F(sqr)(&z3, &z3);
	F(sub)(&z3, &z3, &z1z1);
	F(sub)(&z3, &z3, &hh);
	r->x = x3;
	r->y = y3;
	r->z = z3;
}

/* n Jacobian points to affine with one inversion (x = X/Z^2, y = Y/Z^3);
 * Z = 0 gives inf. Prefix products are kept in out[i].x. */
static void jac_batch_to_affine(AFF *out, const jac *in, size_t n)
{
	FE acc, inv, z, t, t2;
	F(one)(&acc);
	for (size_t i = 0; i < n; i++) {
		out[i].x = acc;
		if (!F(is_zero)(&in[i].z))
			F(mul)(&acc, &acc, &in[i].z);
	}
	F(inv)(&inv, &acc);
	for (size_t i = n; i-- > 0;) {
		out[i].inf = F(is_zero)(&in[i].z);
		if (out[i].inf) {
			F(zero)(&out[i].x);
			F(zero)(&out[i].y);
			continue;
		}
		z = in[i].z;
		F(mul)(&t, &out[i].x, &inv); /* 1 / Z */
		F(mul)(&inv, &inv, &z);
		F(sqr)(&t2, &t);
		F(mul)(&out[i].x, &in[i].x, &t2);
		F(mul)(&t2, &t2, &t);
		F(mul)(&out[i].y, &in[i].y, &t2);
	}
}

/* width-5 NAF of n < 2^127 + ...: digits odd in [-15, 15] or 0, at most one
 * non-zero in any 5 consecutive; len >= bits + 1 */
static void wnaf5(int8_t *dig, int len, bls_u128 n)
{
	for (int i = 0; i < len; i++) {
		int d = 0;
		if (n & 1) {
			d = (int)(n & 31);
			if (d >= 16)
				d -= 32;
			n = d >= 0 ? n - (bls_u128)d : n + (bls_u128)-d;
		}
		dig[i] = (int8_t)d;
		n >>= 1;
	}
}

/* sum k_i P_i for public scalars and points in the prime-order subgroup.
 * Each scalar is split into MSM_PARTS short ones along the endomorphism of
 * the instantiating file (k = sum_j part_j, part_j acting on MSM_ENDO_j(P)),
 * every point gets the odd multiples P, 3P, .., 15P (Jacobian, then made
 * affine together with one inversion) and their images under the
 * endomorphism, and one run of MSM_BITS + 1 doublings adds the width-5 NAF
 * digits of all parts with mixed additions (Straus). */
int GF(msm_vartime)(G *r, const G *pts, const fr *k, size_t n)
{
	enum { LEN = MSM_BITS + 1 };
	GF(identity)(r);
	if (n == 0)
		return 0;
	jac *jt = malloc(n * 8 * sizeof *jt);
	AFF *tab = malloc(n * MSM_PARTS * 8 * sizeof *tab); /* [part][point][8] */
	int8_t *dig = malloc(n * MSM_PARTS * LEN);
	if (!jt || !tab || !dig) {
		free(jt);
		free(tab);
		free(dig);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		jac *t = jt + 8 * i, d;
		FE zz;
		F(sqr)(&zz, &pts[i].z); /* homogeneous -> Jacobian (XZ, YZ^2, Z) */
		F(mul)(&t[0].x, &pts[i].x, &pts[i].z);
		F(mul)(&t[0].y, &pts[i].y, &zz);
		t[0].z = pts[i].z;
		jac_dbl(&d, &t[0]);
		for (int m = 1; m < 8; m++)
			jac_add(&t[m], &t[m - 1], &d);
		uint64_t raw[4], split[4];
		bls_u128 part[MSM_PARTS];
		fr_to_raw(raw, &k[i]);
		bls_scalar_split_x(split, raw);
		msm_split(part, split);
		for (int j = 0; j < MSM_PARTS; j++)
			wnaf5(dig + (j * n + i) * LEN, LEN, part[j]);
	}
	jac_batch_to_affine(tab, jt, 8 * n);
	for (int j = 1; j < MSM_PARTS; j++)
		for (size_t m = 0; m < 8 * n; m++)
			msm_endo(&tab[j * 8 * n + m], &tab[m], j);
	jac acc;
	F(zero)(&acc.x);
	F(one)(&acc.y);
	F(zero)(&acc.z);
	for (int b = LEN - 1; b >= 0; b--) {
		jac_dbl(&acc, &acc);
		for (int j = 0; j < MSM_PARTS; j++)
			for (size_t i = 0; i < n; i++) {
				int d = dig[(j * n + i) * LEN + b];
				if (!d)
					continue;
				AFF q = tab[(j * n + i) * 8 + (d < 0 ? -d : d) / 2];
				if (q.inf)
					continue;
				if (d < 0)
					F(neg)(&q.y, &q.y);
				jac_madd(&acc, &acc, &q);
			}
	}
	free(jt);
	free(tab);
	free(dig);
	if (F(is_zero)(&acc.z))
		return 0;
	FE zz; /* Jacobian -> homogeneous (X Z : Y : Z^3) */
	F(mul)(&r->x, &acc.x, &acc.z);
	r->y = acc.y;
	F(sqr)(&zz, &acc.z);
	F(mul)(&r->z, &zz, &acc.z);
	return 0;
}

bool GF(in_subgroup_naive)(const G *a)
{
	G t;
	GF(mul_vartime)(&t, a, BLS_R, 256);
	return GF(is_identity)(&t);
}
