/*
 * test_datacon.c — the logger's signed tile roots and the data CON
 * (docs/protocol.md §4.4, §5.1): the vectors of §8.5/§8.6 from
 * tests/vectors/ctng/datacon.json (canonical signed bytes, a valid
 * signature, the example data CON that verifies under the vector key), the
 * strict JSON codec of tile roots, and the data CON's rules: tampered
 * fields, non-canonical text, unsigned or foreign roots, a gap in the tiles,
 * a base edge that does not fold into the base's root, and honest roots (no
 * misbehaviour) are all refused; a base with its edge is accepted.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/merkle.h"
#include "ctng/proto.h"

static const ctng_clock CLOCK = {1700000000000ULL, 60000, 6000, 12000, 48000};

typedef struct vec {
	json_t *j;
	ctng_sig_key *key, *pub;
	char *roots, *con;
} vec;

static void load(vec *v)
{
	json_error_t je;
	v->j = json_load_file(CTNG_VECTORS_DIR "/ctng/datacon.json", 0, &je);
	assert_non_null(v->j);
	const char *pem = json_string_value(json_object_get(v->j, "key_pem"));
	assert_int_equal(ctng_sig_load_private_pem(pem, strlen(pem), &v->key, NULL), 0);
	assert_int_equal(
	    ctng_sig_load_public_hex(json_string_value(json_object_get(v->j, "public_key_hex")),
	                             &v->pub, NULL),
	    0);
	assert_true(ctng_sig_key_public_equal(v->key, v->pub));
	v->roots =
	    json_dumps(json_object_get(v->j, "tile_roots"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	v->con = json_dumps(json_object_get(v->j, "data_con"), JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static void unload(vec *v)
{
	free(v->roots);
	free(v->con);
	ctng_sig_key_free(v->key);
	ctng_sig_key_free(v->pub);
	json_decref(v->j);
}

static void test_tile_roots_vector(void **state)
{
	(void)state;
	vec v;
	load(&v);
	ctng_tile_roots t = {0};
	ctng_err e = {0};
	assert_int_equal(ctng_tile_roots_parse(v.roots, strlen(v.roots), &t, &e), 0);
	ctng_buf b = {0};
	assert_int_equal(ctng_tile_roots_tbs(&t, &b, &e), 0);
	char *hex = ctng_hex_strdup(b.data, b.len);
	assert_string_equal(hex, json_string_value(json_object_get(v.j, "tile_roots_tbs_hex")));
	free(hex);
	ctng_buf_free(&b);
	assert_int_equal(ctng_tile_roots_verify(&t, v.pub, &e), 0);
	/* Re-encoding gives the same text. */
	json_t *j = NULL;
	assert_int_equal(ctng_tile_roots_to_json(&t, &j, &e), 0);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, v.roots);
	free(s);
	json_decref(j);
	/* Another root, size or first tile: the signature no longer holds. */
	t.roots[1][5] ^= 1;
	assert_int_equal(ctng_tile_roots_verify(&t, v.pub, &e), CTNG_EVERIFY);
	t.roots[1][5] ^= 1;
	t.tree_size = 301;
	assert_int_equal(ctng_tile_roots_verify(&t, v.pub, &e), CTNG_EVERIFY);
	t.tree_size = 300;
	free(t.sig);
	t.sig = NULL;
	t.sig_len = 0;
	assert_int_equal(ctng_tile_roots_verify(&t, v.pub, &e), CTNG_EVERIFY);
	ctng_tile_roots_clear(&t);
	/* Strict codec. */
	static const char *const bad[] = {
	    "{}",
	    "{\"logger\":\"l\",\"tree_size\":300,\"first\":0,\"roots\":[],\"signature\":\"\"}",
	    "{\"logger\":\"l\",\"tree_size\":300,\"first\":2,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"\"}",
	    "{\"logger\":\"l\",\"tree_size\":300,\"first\":0,\"roots\":[\"ERE=\"],\"signature\":"
	    "\"\"}",
	    "{\"logger\":\"l\",\"tree_size\":-1,\"first\":0,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"\"}",
	    "{\"logger\":\"l\",\"tree_size\":300,\"first\":0,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"AAAA\"}",
	    "{\"logger\":\"l\",\"tree_size\":300,\"first\":0,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"\",\"x\":1}",
	    "{\"logger\":\"l\",\"logger\":\"m\",\"tree_size\":300,\"first\":0,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"\"}",
	    "{\"logger\":\"l\",\"tree_size\":300,\"first\":0,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"\"} x",
	    "{\"logger\":\"bad "
	    "id\",\"tree_size\":300,\"first\":0,\"roots\":["
	    "\"ERERERERERERERERERERERERERERERERERERERERERE=\"],\"signature\":\"\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_not_equal(ctng_tile_roots_parse(bad[i], strlen(bad[i]), &t, &e), 0);
	unload(&v);
}

static void test_data_con_vector(void **state)
{
	(void)state;
	vec v;
	load(&v);
	ctng_gossip_object con = {0};
	ctng_err e = {0};
	assert_int_equal(ctng_gossip_decode(v.con, strlen(v.con), &con, &e), 0);
	assert_true(ctng_con_is_data(&con));
	assert_int_equal(ctng_con_verify(&con, v.pub, &CLOCK, &e), 0);
	char *enc = NULL;
	assert_int_equal(ctng_gossip_encode(&con, &enc, NULL, &e), 0);
	assert_string_equal(enc, v.con);
	free(enc);
	ctng_gossip_object a = {0}, b = {0};
	assert_int_equal(ctng_con_parts(&con, &a, &b, &e), 0);
	assert_int_equal(a.type, CTNG_STH);
	assert_int_equal(b.type, CTNG_TYPE_NONE);
	/* The fold of the two roots, which the STH's root is not. */
	ctng_sth h;
	assert_int_equal(ctng_sth_from_object(&a, &h, &e), 0);
	uint8_t x[32], y[32];
	memset(x, 0x11, 32);
	memset(y, 0x22, 32);
	assert_int_equal(ctng_merkle_node_hash(x, x, y), 0);
	char *hex = ctng_hex_strdup(x, 32);
	assert_string_equal(hex, json_string_value(json_object_get(v.j, "fold_of_roots_hex")));
	free(hex);
	assert_memory_not_equal(x, h.root, 32);
	ctng_gossip_clear(&a);
	/* Another key is not the logger's. */
	ctng_sig_key *other;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &other, NULL), 0);
	assert_int_equal(ctng_con_verify(&con, other, &CLOCK, &e), CTNG_EVERIFY);
	ctng_sig_key_free(other);
	ctng_gossip_clear(&con);
	unload(&v);
}

/* Builds a data CON over a tree of n leaves with a base of bn leaves,
 * honest roots except root `flip` (-1: none); roots signed by `signer`. */
static int build(ctng_sig_key *k, ctng_sig_key *signer, uint64_t bn, uint64_t n, int flip, bool gap,
                 bool bad_edge, ctng_gossip_object *out)
{
	uint8_t(*leaf)[32] = malloc((size_t)n * 32);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t z = i * 7 + 1;
		ctng_merkle_leaf_hash(leaf[i], &z, sizeof z);
	}
	ctng_sth h = {.timestamp_ms = 1700000125000ULL, .tree_size = n};
	ctng_merkle_root((const uint8_t(*)[32])leaf, n, n, h.root, NULL);
	ctng_sth bh = {.timestamp_ms = 1700000065000ULL, .tree_size = bn};
	ctng_merkle_root((const uint8_t(*)[32])leaf, n, bn, bh.root, NULL);
	ctng_gossip_object sth = {0}, base = {0};
	ctng_sth_sign(&sth, "logger1", k, &h, &CLOCK, NULL);
	ctng_sth_sign(&base, "logger1", k, &bh, &CLOCK, NULL);
	ctng_merkle_range r;
	ctng_merkle_range_init(&r);
	for (uint64_t i = 0; i < bn; i++)
		ctng_merkle_range_append(&r, NULL, leaf[i], NULL);
	if (bad_edge && r.n)
		r.h[0][0] ^= 1;
	ctng_tile_roots t = {0};
	strcpy(t.logger, "logger1");
	t.tree_size = n;
	t.first = bn / 256 + (gap ? 1 : 0);
	t.count = (uint32_t)((n + 255) / 256 - t.first);
	t.roots = malloc((size_t)t.count * 32);
	for (uint32_t i = 0; i < t.count; i++) {
		uint64_t a = (t.first + i) * 256;
		unsigned w = ctng_tile_roots_width(&t, i);
		ctng_merkle_root((const uint8_t(*)[32])leaf + a, w, w, t.roots[i], NULL);
	}
	if (flip >= 0)
		t.roots[flip][3] ^= 1;
	ctng_tile_roots_sign(&t, signer, NULL);
	int rc = ctng_data_con_build(out, &sth, bn ? &base : NULL, (const uint8_t(*)[32])r.h, r.n,
	                             &t, 1, 1700000130000ULL, NULL);
	ctng_tile_roots_clear(&t);
	ctng_gossip_clear(&sth);
	ctng_gossip_clear(&base);
	free(leaf);
	return rc;
}

static void test_data_con_rules(void **state)
{
	(void)state;
	ctng_sig_key *k, *m;
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &k, NULL), 0);
	assert_int_equal(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &m, NULL), 0);
	ctng_gossip_object c = {0};
	ctng_err e = {0};
	static const uint64_t sizes[][2] = {{0, 5}, {0, 256}, {100, 300}, {256, 1000}, {700, 1300}};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		uint64_t bn = sizes[s][0], n = sizes[s][1];
		/* A wrong signed root: proven. */
		assert_int_equal(build(k, k, bn, n, 0, false, false, &c), 0);
		assert_int_equal(ctng_data_con_verify(&c, k, &CLOCK, &e), 0);
		/* Re-decoded, it still proves it (canonical text). */
		char *j = NULL;
		size_t len = 0;
		assert_int_equal(ctng_gossip_encode(&c, &j, &len, NULL), 0);
		ctng_gossip_object d = {0};
		assert_int_equal(ctng_gossip_decode(j, len, &d, &e), 0);
		assert_int_equal(ctng_con_verify(&d, k, &CLOCK, &e), 0);
		ctng_gossip_clear(&d);
		/* Non-canonical evidence is refused. */
		char *p = strstr(j, "\\\"kind\\\":");
		assert_non_null(p);
		p[2] = 'K';
		assert_int_not_equal(ctng_gossip_decode(j, len, &d, &e), 0);
		free(j);
		ctng_gossip_clear(&c);
		/* Honest roots: no misbehaviour. */
		assert_int_equal(build(k, k, bn, n, -1, false, false, &c), 0);
		assert_int_equal(ctng_data_con_verify(&c, k, &CLOCK, &e), CTNG_EVERIFY);
		ctng_gossip_clear(&c);
		/* Roots signed by someone else (a monitor making one up). */
		assert_int_equal(build(k, m, bn, n, 0, false, false, &c), 0);
		assert_int_equal(ctng_data_con_verify(&c, k, &CLOCK, &e), CTNG_EVERIFY);
		ctng_gossip_clear(&c);
		/* An edge that is not the base's. */
		if (bn) {
			assert_int_equal(build(k, k, bn, n, -1, false, true, &c), 0);
			assert_int_equal(ctng_data_con_verify(&c, k, &CLOCK, &e), CTNG_EVERIFY);
			ctng_gossip_clear(&c);
		}
		/* Tiles that do not start at the base's tile. */
		if (n > 256 * (bn / 256 + 1))
			assert_int_equal(build(k, k, bn, n, -1, true, false, &c), CTNG_EINVAL);
	}
	ctng_sig_key_free(k);
	ctng_sig_key_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tile_roots_vector),
	    cmocka_unit_test(test_data_con_vector),
	    cmocka_unit_test(test_data_con_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
