/*
 * test_cli_merkle.c — `ctng merkle …` through the real binary (DESIGN §10):
 * outputs on the RFC 9162 reference tree, proofs that the verify-* commands
 * accept, and exit status 1 for invalid claims and 2 for malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctng/base.h"
#include "ctng/merkle.h"
#include "testutil.h"

#define MAXARGS 80

/* Runs CTNG_BIN with args (NULL-terminated), captures stdout into out
 * (NUL-terminated) and returns the exit status. stderr goes to /dev/null. */
static int run_ctng(char *out, size_t cap, const char *const *args)
{
	const char *argv[MAXARGS + 2];
	size_t n = 0;
	argv[n++] = CTNG_BIN;
	for (; args[n - 1] && n < MAXARGS; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	size_t len;
	int status = ctng_test_run(argv, out, cap, &len, NULL, 0, 0);
	assert_true(len < cap - 1);
	assert_true(status < 256); /* exited, not killed by a signal */
	return status;
}

static char leaves_path[256], crlf_path[256], bad_path[256], empty_path[256];
static const char *ref_lines[8] = {"",
                                   "00",
                                   "10",
                                   "2021",
                                   "3031",
                                   "40414243",
                                   "5051525354555657",
                                   "606162636465666768696a6b6c6d6e6f"};
static const char *root8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
static const char *root6 = "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef";
static uint8_t leaf_hash[8][32];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	int pid = (int)getpid();
	snprintf(leaves_path, sizeof(leaves_path), "/tmp/ctng_cli_merkle_%d.txt", pid);
	snprintf(crlf_path, sizeof(crlf_path), "/tmp/ctng_cli_merkle_%d_crlf.txt", pid);
	snprintf(bad_path, sizeof(bad_path), "/tmp/ctng_cli_merkle_%d_bad.txt", pid);
	snprintf(empty_path, sizeof(empty_path), "/tmp/ctng_cli_merkle_%d_empty.txt", pid);
	char text[512] = "", crlf[512] = "";
	for (int i = 0; i < 8; i++) {
		strcat(text, ref_lines[i]);
		strcat(text, "\n");
		strcat(crlf, ref_lines[i]);
		strcat(crlf, i == 7 ? "" : "\r\n");
		uint8_t d[16];
		size_t n = strlen(ref_lines[i]) / 2;
		if (n && ctng_hex_decode_exact(d, n, ref_lines[i], NULL))
			return -1;
		if (ctng_merkle_leaf_hash(leaf_hash[i], d, n))
			return -1;
	}
	write_text(leaves_path, text);
	write_text(crlf_path, crlf);
	write_text(bad_path, "00\n0g\n");
	write_text(empty_path, "");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(leaves_path);
	unlink(crlf_path);
	unlink(bad_path);
	unlink(empty_path);
	return 0;
}

/* Splits output lines into argv slots (modifies buf). */
static size_t split_lines(char *buf, const char **out, size_t max)
{
	size_t n = 0;
	for (char *line = strtok(buf, "\n"); line && n < max; line = strtok(NULL, "\n"))
		out[n++] = line;
	return n;
}

static void test_root(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(
	    run_ctng(out, sizeof(out), (const char *[]){"merkle", "root", leaves_path, NULL}), 0);
	assert_string_equal(out,
	                    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\n");
	assert_int_equal(
	    run_ctng(out, sizeof(out), (const char *[]){"merkle", "root", crlf_path, NULL}), 0);
	assert_int_equal(strncmp(out, root8, 64), 0);
	assert_int_equal(
	    run_ctng(out, sizeof(out), (const char *[]){"merkle", "root", empty_path, NULL}), 0);
	assert_string_equal(out,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
	assert_int_equal(
	    run_ctng(out, sizeof(out), (const char *[]){"merkle", "root", bad_path, NULL}), 2);
	assert_int_equal(
	    run_ctng(out, sizeof(out), (const char *[]){"merkle", "root", "/nonexistent/x", NULL}),
	    2);
	assert_int_equal(run_ctng(out, sizeof(out), (const char *[]){"merkle", "root", NULL}), 2);
	assert_int_equal(run_ctng(out, sizeof(out), (const char *[]){"merkle", "frobnicate", NULL}),
	                 2);
	assert_int_equal(run_ctng(out, sizeof(out), (const char *[]){"merkle", NULL}), 2);
}

static void test_inclusion_roundtrip(void **state)
{
	(void)state;
	char out[4096], root_hex[65];
	for (unsigned size = 1; size <= 8; size++) {
		uint8_t root[32];
		assert_int_equal(
		    ctng_merkle_root((const uint8_t(*)[32])leaf_hash, 8, size, root, NULL), 0);
		ctng_hex_encode(root_hex, root, 32);
		for (unsigned idx = 0; idx < size; idx++) {
			char idx_s[8], size_s[8], leaf_hex[65];
			snprintf(idx_s, sizeof(idx_s), "%u", idx);
			snprintf(size_s, sizeof(size_s), "%u", size);
			ctng_hex_encode(leaf_hex, leaf_hash[idx], 32);
			const char *a[] = {"merkle", "inclusion", leaves_path, idx_s, size_s, NULL};
			if (size == 8)
				a[4] = NULL; /* SIZE defaults to the number of leaves */
			assert_int_equal(run_ctng(out, sizeof(out), a), 0);
			/* Same proof as the library's, lower-case hex one per line. */
			uint8_t want[CTNG_MERKLE_MAX_PROOF][32];
			size_t wl;
			assert_int_equal(
			    ctng_merkle_inclusion_proof((const uint8_t(*)[32])leaf_hash, 8, idx,
			                                size, want, &wl, NULL),
			    0);
			assert_int_equal(strlen(out), wl * 65);
			for (size_t i = 0; i < wl; i++) {
				char h[65];
				ctng_hex_encode(h, want[i], 32);
				assert_int_equal(strncmp(out + i * 65, h, 64), 0);
				assert_int_equal(out[i * 65 + 64], '\n');
			}
			const char *v[MAXARGS] = {
			    "merkle", "verify-inclusion", leaf_hex, idx_s, size_s, root_hex};
			char proof_text[4096];
			memcpy(proof_text, out, sizeof(proof_text));
			size_t n = 6 + split_lines(proof_text, v + 6, 60);
			v[n] = NULL;
			assert_int_equal(run_ctng(out, sizeof(out), v), 0);
			/* Wrong index: invalid (1). */
			char other[8];
			snprintf(other, sizeof(other), "%u", idx ^ 1);
			v[3] = other;
			if (size > 1)
				assert_int_equal(run_ctng(out, sizeof(out), v), 1);
			v[3] = idx_s;
			/* Index not below size: invalid (1). */
			v[3] = size_s;
			assert_int_equal(run_ctng(out, sizeof(out), v), 1);
			v[3] = idx_s;
			/* A flipped proof digit: invalid (1); a truncated hash: malformed (2). */
			if (n > 6) {
				char mutated[65];
				memcpy(mutated, v[6], 65);
				mutated[10] = mutated[10] == '0' ? '1' : '0';
				v[6] = mutated;
				assert_int_equal(run_ctng(out, sizeof(out), v), 1);
				mutated[63] = 0;
				assert_int_equal(run_ctng(out, sizeof(out), v), 2);
			}
		}
	}
	const char *bad[][8] = {
	    {"merkle", "inclusion", leaves_path, "8", NULL},
	    {"merkle", "inclusion", leaves_path, "0", "9", NULL},
	    {"merkle", "inclusion", leaves_path, "-1", NULL},
	    {"merkle", "inclusion", leaves_path, "01", NULL},
	    {"merkle", "inclusion", leaves_path, NULL},
	    {"merkle", "verify-inclusion", root8, "0", "1", NULL},
	    {"merkle", "verify-inclusion", root8, "x", "1", root8, NULL},
	    {"merkle", "verify-inclusion", "zz", "0", "1", root8, NULL},
	    {"merkle", "verify-inclusion", root8, "0", "1", root8, "abc", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(run_ctng(out, sizeof(out), bad[i]), 2);
}

static void test_consistency_roundtrip(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(
	    run_ctng(out, sizeof(out),
	             (const char *[]){"merkle", "consistency", leaves_path, "6", "8", NULL}),
	    0);
	const char *v[MAXARGS] = {"merkle", "verify-consistency", "6", "8", root6, root8};
	char proof_text[4096];
	memcpy(proof_text, out, sizeof(proof_text));
	size_t n = 6 + split_lines(proof_text, v + 6, 60);
	assert_int_equal(n, 6 + 3);
	v[n] = NULL;
	assert_int_equal(run_ctng(out, sizeof(out), v), 0);
	v[4] = root8;
	v[5] = root6;
	assert_int_equal(run_ctng(out, sizeof(out), v), 1);
	v[4] = root6;
	v[5] = root8;
	v[n - 1] = NULL; /* drop the last hash */
	assert_int_equal(run_ctng(out, sizeof(out), v), 1);
	/* Every (size1, size2) pair of the reference tree round-trips. */
	for (unsigned s2 = 1; s2 <= 8; s2++) {
		for (unsigned s1 = 1; s1 <= s2; s1++) {
			char a[8], b[8], r1[65], r2[65];
			snprintf(a, sizeof(a), "%u", s1);
			snprintf(b, sizeof(b), "%u", s2);
			uint8_t h1[32], h2[32];
			assert_int_equal(
			    ctng_merkle_root((const uint8_t(*)[32])leaf_hash, 8, s1, h1, NULL), 0);
			assert_int_equal(
			    ctng_merkle_root((const uint8_t(*)[32])leaf_hash, 8, s2, h2, NULL), 0);
			ctng_hex_encode(r1, h1, 32);
			ctng_hex_encode(r2, h2, 32);
			assert_int_equal(run_ctng(out, sizeof(out),
			                          (const char *[]){"merkle", "consistency",
			                                           leaves_path, a, b, NULL}),
			                 0);
			const char *w[MAXARGS] = {"merkle", "verify-consistency", a, b, r1, r2};
			char text2[4096];
			memcpy(text2, out, sizeof(text2));
			size_t m = 6 + split_lines(text2, w + 6, 60);
			w[m] = NULL;
			assert_int_equal(run_ctng(out, sizeof(out), w), 0);
		}
	}
	const char *bad[][8] = {
	    {"merkle", "consistency", leaves_path, "7", "6", NULL},
	    {"merkle", "consistency", leaves_path, "1", "9", NULL},
	    {"merkle", "consistency", leaves_path, "1", NULL},
	    {"merkle", "verify-consistency", "1", "2", root8, NULL},
	    {"merkle", "verify-consistency", "1", "2", root8, "00", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(run_ctng(out, sizeof(out), bad[i]), 2);
	/* size1 > size2 is a false claim, not a malformed one. */
	assert_int_equal(run_ctng(out, sizeof(out),
	                          (const char *[]){"merkle", "verify-consistency", "8", "6", root8,
	                                           root6, NULL}),
	                 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root),
	    cmocka_unit_test(test_inclusion_roundtrip),
	    cmocka_unit_test(test_consistency_roundtrip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
