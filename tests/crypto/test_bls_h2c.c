/*
 * test_bls_h2c.c — RFC 9380 test vectors for BLS12-381 G1: every
 * expand_message_xmd (SHA-256) vector and every hash_to_curve (RO) and
 * encode_to_curve (NU) vector, checking u, Q0/Q1 (or Q) and P.
 * Vectors: tests/vectors/hash_to_curve/ (see tests/vectors/README.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "crypto/bls12_381/hash_to_curve.h"
#include "ctng/bls.h"

/* ---- a tiny reader of the JSON files: the list of string tokens in order */

typedef struct {
	char **tok;
	size_t n;
} toks;

static char *slurp(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/hash_to_curve/%s", CTNG_VECTORS_DIR, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static toks tokenize(const char *s)
{
	toks t = {0};
	size_t cap = 0;
	for (const char *p = s; *p; p++) {
		if (*p != '"')
			continue;
		const char *e = strchr(p + 1, '"');
		assert_non_null(e);
		if (t.n == cap) {
			cap = cap ? cap * 2 : 64;
			t.tok = realloc(t.tok, cap * sizeof *t.tok);
			assert_non_null(t.tok);
		}
		t.tok[t.n++] = strndup(p + 1, (size_t)(e - p - 1));
		p = e;
	}
	return t;
}

static void toks_free(toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->tok[i]);
	free(t->tok);
}

/* index of the first token equal to key in [from, to), or to */
static size_t find(const toks *t, size_t from, size_t to, const char *key)
{
	for (size_t i = from; i < to; i++)
		if (strcmp(t->tok[i], key) == 0)
			return i;
	return to;
}

static const char *value(const toks *t, size_t from, size_t to, const char *key)
{
	size_t i = find(t, from, to, key);
	assert_true(i + 1 < to);
	return t->tok[i + 1];
}

static void unhex(uint8_t *out, size_t out_len, const char *hex)
{
	if (hex[0] == '0' && hex[1] == 'x')
		hex += 2;
	size_t n = strlen(hex);
	assert_true(n <= 2 * out_len);
	memset(out, 0, out_len);
	/* right-align (numbers) */
	for (size_t i = 0; i < n; i++) {
		char c = hex[n - 1 - i];
		int v = (c >= '0' && c <= '9') ? c - '0' : (c | 0x20) - 'a' + 10;
		assert_true(v >= 0 && v < 16);
		out[out_len - 1 - i / 2] |= (uint8_t)(v << (4 * (i % 2)));
	}
}

/* ---------------------------------------------------------------- tests */

static void run_expand(const char *file, size_t expect)
{
	char *js = slurp(file);
	toks t = tokenize(js);
	const char *dst = value(&t, 0, t.n, "DST");
	size_t count = 0;
	for (size_t i = find(&t, 0, t.n, "DST_prime"); i < t.n;) {
		size_t next = find(&t, i + 1, t.n, "DST_prime");
		const char *msg = value(&t, i, next, "msg");
		uint8_t lb[2];
		unhex(lb, 2, value(&t, i, next, "len_in_bytes"));
		size_t len = (size_t)lb[0] << 8 | lb[1];
		const char *ub = value(&t, i, next, "uniform_bytes");
		assert_int_equal(strlen(ub), 2 * len);
		uint8_t *want = malloc(len), *got = malloc(len);
		unhex(want, len, ub);
		assert_int_equal(bls_expand_message_xmd(got, len, (const uint8_t *)msg, strlen(msg),
		                                        (const uint8_t *)dst, strlen(dst)),
		                 0);
		assert_memory_equal(got, want, len);
		free(want);
		free(got);
		count++;
		i = next;
	}
	assert_int_equal(count, expect);
	toks_free(&t);
	free(js);
}

static void test_expand_38(void **state)
{
	(void)state;
	run_expand("expand_message_xmd_SHA256_38.json", 10);
}

static void test_expand_256(void **state)
{
	(void)state;
	run_expand("expand_message_xmd_SHA256_256.json", 10);
}

static void check_point(const g1 *p, const toks *t, size_t from, size_t to, const char *key)
{
	size_t k = find(t, from, to, key);
	assert_true(k < to);
	uint8_t wx[48], wy[48], gx[48], gy[48];
	unhex(wx, 48, value(t, k, to, "x"));
	unhex(wy, 48, value(t, k, to, "y"));
	g1_aff a;
	g1_to_affine(&a, p);
	assert_false(a.inf);
	fp_to_bytes(gx, &a.x);
	fp_to_bytes(gy, &a.y);
	assert_memory_equal(gx, wx, 48);
	assert_memory_equal(gy, wy, 48);
}

static void run_h2c(const char *file, bool ro)
{
	char *js = slurp(file);
	toks t = tokenize(js);
	const char *dst = value(&t, 0, t.n, "dst");
	size_t count = 0, start = find(&t, 0, t.n, "vectors");
	for (size_t i = find(&t, start, t.n, "P"); i < t.n;) {
		size_t next = find(&t, i + 1, t.n, "P");
		const char *msg = value(&t, i, next, "msg");
		size_t ui = find(&t, i, next, "u");
		size_t nu = ro ? 2 : 1;
		assert_true(ui + nu < next);
		fp u[2];
		assert_int_equal(bls_hash_to_fp(u, nu, (const uint8_t *)msg, strlen(msg),
		                                (const uint8_t *)dst, strlen(dst)),
		                 0);
		for (size_t j = 0; j < nu; j++) {
			uint8_t want[48], got[48];
			unhex(want, 48, t.tok[ui + 1 + j]);
			fp_to_bytes(got, &u[j]);
			assert_memory_equal(got, want, 48);
		}
		g1 q, p;
		if (ro) {
			bls_map_to_curve_g1(&q, &u[0]);
			check_point(&q, &t, i, next, "Q0");
			bls_map_to_curve_g1(&q, &u[1]);
			check_point(&q, &t, i, next, "Q1");
			assert_int_equal(bls_hash_to_g1(&p, (const uint8_t *)msg, strlen(msg),
			                                (const uint8_t *)dst, strlen(dst)),
			                 0);
		} else {
			bls_map_to_curve_g1(&q, &u[0]);
			check_point(&q, &t, i, next, "Q");
			assert_int_equal(bls_encode_to_g1(&p, (const uint8_t *)msg, strlen(msg),
			                                  (const uint8_t *)dst, strlen(dst)),
			                 0);
		}
		check_point(&p, &t, i, next, "P");
		assert_true(g1_in_subgroup(&p));
		assert_true(g1_is_on_curve(&p));
		/* the public API gives the same point, compressed */
		if (ro) {
			uint8_t c[48], c2[48];
			ctng_err err;
			assert_int_equal(
			    ctng_bls_hash_to_g1(c, (const uint8_t *)msg, strlen(msg), dst, &err),
			    0);
			g1_compress(c2, &p);
			assert_memory_equal(c, c2, 48);
		}
		count++;
		i = next;
	}
	assert_int_equal(count, 5);
	toks_free(&t);
	free(js);
}

static void test_g1_ro(void **state)
{
	(void)state;
	run_h2c("BLS12381G1_XMD-SHA-256_SSWU_RO_.json", true);
}

static void test_g1_nu(void **state)
{
	(void)state;
	run_h2c("BLS12381G1_XMD-SHA-256_SSWU_NU_.json", false);
}

static void test_expand_limits(void **state)
{
	(void)state;
	uint8_t out[64];
	const uint8_t dst[] = "D";
	/* len_in_bytes 0 and ell > 255 are errors */
	assert_int_not_equal(bls_expand_message_xmd(out, 0, dst, 1, dst, 1), 0);
	uint8_t *big = malloc(255 * 32 + 1);
	assert_int_not_equal(bls_expand_message_xmd(big, 255 * 32 + 1, dst, 1, dst, 1), 0);
	assert_int_equal(bls_expand_message_xmd(big, 255 * 32, dst, 1, dst, 1), 0);
	free(big);
}

/* Each thread has its own cached SHA-256 context: four threads expanding at
 * once give the single-threaded bytes, and the contexts are freed when the
 * threads exit (LeakSanitizer would report them otherwise). */
#define XMD_THREADS 4
static uint8_t xmd_want[200];

static void *xmd_worker(void *arg)
{
	(void)arg;
	static const uint8_t dst[] = "QUUX-V01-CS02-with-expander-SHA256-128";
	uint8_t got[200];
	for (int i = 0; i < 200; i++) {
		if (bls_expand_message_xmd(got, sizeof got, (const uint8_t *)"abc", 3, dst,
		                           sizeof dst - 1) != 0 ||
		    memcmp(got, xmd_want, sizeof got) != 0)
			return (void *)1;
	}
	return NULL;
}

static void test_expand_threads(void **state)
{
	(void)state;
	static const uint8_t dst[] = "QUUX-V01-CS02-with-expander-SHA256-128";
	assert_int_equal(bls_expand_message_xmd(xmd_want, sizeof xmd_want, (const uint8_t *)"abc",
	                                        3, dst, sizeof dst - 1),
	                 0);
	pthread_t th[XMD_THREADS];
	for (int i = 0; i < XMD_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, xmd_worker, NULL), 0);
	for (int i = 0; i < XMD_THREADS; i++) {
		void *rv = (void *)1;
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expand_38),     cmocka_unit_test(test_expand_256),
	    cmocka_unit_test(test_g1_ro),         cmocka_unit_test(test_g1_nu),
	    cmocka_unit_test(test_expand_limits), cmocka_unit_test(test_expand_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
