/*
 * test_merkle_vectors.c — the transparency-dev/merkle proof probes
 * (tests/vectors/merkle/): every happy path verifies, every mutation is
 * rejected, and our own proof generator reproduces each happy-path proof from
 * the 8-leaf reference tree. The JSON is read with a small strict parser for
 * the probes' fixed shape (the merkle module does not link jansson).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctng/merkle.h"

/* ---------------------------------------------------------- tiny JSON reader */

#define MAX_PROOF 16

typedef struct probe {
	char name[128];
	char desc[64];
	uint64_t idx, size, size1, size2;
	char leaf[64], root[64], root1[64], root2[64];
	char proof[MAX_PROOF][64];
	int nproof;
	int want_err;
} probe;

typedef struct rd {
	const char *p;
} rd;

static void ws(rd *r)
{
	while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r')
		r->p++;
}

static void expect(rd *r, char c)
{
	ws(r);
	if (*r->p != c)
		fail_msg("JSON: expected '%c' at '%.20s'", c, r->p);
	r->p++;
}

static void str(rd *r, char *out, size_t cap)
{
	expect(r, '"');
	size_t n = 0;
	while (*r->p != '"') {
		if (*r->p == '\0' || *r->p == '\\')
			fail_msg("JSON: unsupported string");
		if (n + 1 >= cap)
			fail_msg("JSON: string too long");
		out[n++] = *r->p++;
	}
	out[n] = 0;
	r->p++;
}

static uint64_t num(rd *r)
{
	ws(r);
	char *end;
	unsigned long long v = strtoull(r->p, &end, 10);
	if (end == r->p)
		fail_msg("JSON: expected number");
	r->p = end;
	return v;
}

static int lit(rd *r, const char *w)
{
	ws(r);
	size_t n = strlen(w);
	if (strncmp(r->p, w, n) == 0) {
		r->p += n;
		return 1;
	}
	return 0;
}

static int read_probes(const char *file, probe **out)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/merkle/%s", CTNG_VECTORS_DIR, file);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	rd r = {buf};
	static probe ps[512];
	memset(ps, 0, sizeof(ps));
	int n = 0;
	expect(&r, '[');
	for (;;) {
		assert_true(n < 512);
		probe *p = &ps[n++];
		expect(&r, '{');
		for (;;) {
			char key[32];
			str(&r, key, sizeof(key));
			expect(&r, ':');
			if (!strcmp(key, "leafIdx"))
				p->idx = num(&r);
			else if (!strcmp(key, "treeSize"))
				p->size = num(&r);
			else if (!strcmp(key, "size1"))
				p->size1 = num(&r);
			else if (!strcmp(key, "size2"))
				p->size2 = num(&r);
			else if (!strcmp(key, "root"))
				str(&r, p->root, sizeof(p->root));
			else if (!strcmp(key, "root1"))
				str(&r, p->root1, sizeof(p->root1));
			else if (!strcmp(key, "root2"))
				str(&r, p->root2, sizeof(p->root2));
			else if (!strcmp(key, "leafHash"))
				str(&r, p->leaf, sizeof(p->leaf));
			else if (!strcmp(key, "desc"))
				str(&r, p->desc, sizeof(p->desc));
			else if (!strcmp(key, "name"))
				str(&r, p->name, sizeof(p->name));
			else if (!strcmp(key, "wantErr")) {
				if (lit(&r, "true"))
					p->want_err = 1;
				else if (lit(&r, "false"))
					p->want_err = 0;
				else
					fail_msg("JSON: wantErr not a boolean");
			} else if (!strcmp(key, "proof")) {
				p->nproof = 0;
				if (!lit(&r, "null")) {
					expect(&r, '[');
					ws(&r);
					if (*r.p == ']') {
						r.p++;
					} else {
						for (;;) {
							assert_true(p->nproof < MAX_PROOF);
							str(&r, p->proof[p->nproof++], 64);
							ws(&r);
							if (*r.p == ',') {
								r.p++;
								continue;
							}
							expect(&r, ']');
							break;
						}
					}
				}
			} else {
				fail_msg("JSON: unknown key %s", key);
			}
			ws(&r);
			if (*r.p == ',') {
				r.p++;
				continue;
			}
			expect(&r, '}');
			break;
		}
		ws(&r);
		if (*r.p == ',') {
			r.p++;
			continue;
		}
		expect(&r, ']');
		break;
	}
	*out = ps;
	return n;
}

/* Decodes a base64 hash; returns 0 unless it is not exactly 32 bytes. */
static int hash32(const char *b64, uint8_t out[32])
{
	return ctng_b64_decode_exact(out, 32, b64, NULL) == 0 ? 0 : -1;
}

/* Parses a probe's proof; -1 if any element is not a 32-byte hash. */
static int parse_proof(const probe *p, uint8_t (*proof)[32])
{
	for (int i = 0; i < p->nproof; i++)
		if (hash32(p->proof[i], proof[i]))
			return -1;
	return 0;
}

/* The reference tree of the vectors' README. */
static const char *ref_leaves_hex[8] = {"",
                                        "00",
                                        "10",
                                        "2021",
                                        "3031",
                                        "40414243",
                                        "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"};

static void ref_tree(uint8_t leaves[8][32])
{
	for (int i = 0; i < 8; i++) {
		uint8_t data[16];
		size_t n = strlen(ref_leaves_hex[i]) / 2;
		if (n)
			assert_int_equal(ctng_hex_decode_exact(data, n, ref_leaves_hex[i], NULL),
			                 0);
		assert_int_equal(ctng_merkle_leaf_hash(leaves[i], data, n), 0);
	}
}

static void test_reference_roots(void **state)
{
	(void)state;
	static const char *roots[9] = {
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
	uint8_t leaves[8][32];
	ref_tree(leaves);
	for (uint64_t s = 0; s <= 8; s++) {
		uint8_t root[32], want[32];
		assert_int_equal(ctng_merkle_root((const uint8_t(*)[32])leaves, 8, s, root, NULL),
		                 0);
		assert_int_equal(ctng_hex_decode_exact(want, 32, roots[s], NULL), 0);
		assert_memory_equal(root, want, 32);
	}
}

static void test_inclusion_probes(void **state)
{
	(void)state;
	probe *ps;
	int n = read_probes("inclusion.json", &ps);
	uint8_t leaves[8][32];
	ref_tree(leaves);
	int happy = 0, rejected = 0;
	for (int i = 0; i < n; i++) {
		const probe *p = &ps[i];
		uint8_t leaf[32], root[32], proof[MAX_PROOF][32];
		int rc;
		if (hash32(p->leaf, leaf) || hash32(p->root, root) || parse_proof(p, proof)) {
			rc = CTNG_EINVAL; /* malformed input: rejected by parsing */
		} else {
			ctng_err err = {0};
			rc = ctng_merkle_verify_inclusion(leaf, p->idx, p->size, root,
			                                  (const uint8_t(*)[32])proof,
			                                  (size_t)p->nproof, &err);
			if (rc)
				assert_true(rc == CTNG_EVERIFY || rc == CTNG_EINVAL);
			if (rc)
				assert_int_equal(err.code, rc);
		}
		if (p->want_err) {
			if (rc == 0)
				fail_msg("probe %s accepted", p->name);
			rejected++;
			continue;
		}
		if (rc != 0)
			fail_msg("probe %s rejected", p->name);
		happy++;
		/* Our generator reproduces the proof (trees up to 8 leaves are the reference). */
		if (p->size <= 8 && strstr(p->name, "single-entry") == NULL) {
			uint8_t got[CTNG_MERKLE_MAX_PROOF][32];
			size_t got_len;
			assert_int_equal(ctng_merkle_inclusion_proof((const uint8_t(*)[32])leaves,
			                                             8, p->idx, p->size, got,
			                                             &got_len, NULL),
			                 0);
			assert_int_equal(got_len, (size_t)p->nproof);
			assert_memory_equal(got, proof, got_len * 32);
			uint8_t r2[32];
			assert_int_equal(ctng_merkle_root_from_inclusion(
			                     leaf, p->idx, p->size, (const uint8_t(*)[32])proof,
			                     (size_t)p->nproof, r2, NULL),
			                 0);
			assert_memory_equal(r2, root, 32);
		}
	}
	assert_true(happy >= 5);
	assert_true(rejected >= 80);
	assert_int_equal(happy + rejected, n);
}

static void test_consistency_probes(void **state)
{
	(void)state;
	probe *ps;
	int n = read_probes("consistency.json", &ps);
	uint8_t leaves[8][32];
	ref_tree(leaves);
	int happy = 0, rejected = 0;
	for (int i = 0; i < n; i++) {
		const probe *p = &ps[i];
		uint8_t r1[32], r2[32], proof[MAX_PROOF][32];
		int rc;
		if (!p->want_err && p->size1 == p->size2 && p->nproof == 0 &&
		    !strcmp(p->root1, p->root2) && hash32(p->root1, r1)) {
			/* Upstream's "don't care" probe uses 12-byte placeholder roots,
			 * which ctng rejects as malformed (hashes are 32 bytes). Check
			 * the property it tests with a real 32-byte root instead. */
			memset(r1, 0x5a, 32);
			assert_int_equal(ctng_merkle_verify_consistency(p->size1, p->size2, r1, r1,
			                                                NULL, 0, NULL),
			                 0);
			assert_int_equal(hash32(p->root1, r1), -1);
			happy++;
			continue;
		}
		if (hash32(p->root1, r1) || hash32(p->root2, r2) || parse_proof(p, proof)) {
			rc = CTNG_EINVAL;
		} else {
			ctng_err err = {0};
			rc = ctng_merkle_verify_consistency(p->size1, p->size2, r1, r2,
			                                    (const uint8_t(*)[32])proof,
			                                    (size_t)p->nproof, &err);
			if (rc) {
				assert_true(rc == CTNG_EVERIFY || rc == CTNG_EINVAL);
				assert_int_equal(err.code, rc);
			}
		}
		if (p->want_err) {
			if (rc == 0)
				fail_msg("probe %s accepted", p->name);
			rejected++;
			continue;
		}
		if (rc != 0)
			fail_msg("probe %s rejected", p->name);
		happy++;
		if (p->size2 <= 8) {
			uint8_t got[CTNG_MERKLE_MAX_PROOF][32];
			size_t got_len;
			assert_int_equal(ctng_merkle_consistency_proof((const uint8_t(*)[32])leaves,
			                                               8, p->size1, p->size2, got,
			                                               &got_len, NULL),
			                 0);
			assert_int_equal(got_len, (size_t)p->nproof);
			assert_memory_equal(got, proof, got_len * 32);
		}
	}
	assert_true(happy >= 3);
	assert_true(rejected >= 80);
	assert_int_equal(happy + rejected, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_roots),
	    cmocka_unit_test(test_inclusion_probes),
	    cmocka_unit_test(test_consistency_probes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
