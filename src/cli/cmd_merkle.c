/*
 * cmd_merkle.c — `ctng merkle`: RFC 6962 roots and proofs over a leaves file
 * and the RFC 9162 verifiers, in the fixed forms of DESIGN §10. Hex is lower
 * case on output. Exit status: 0 success / valid, 1 invalid, 2 bad usage or
 * malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/base.h"
#include "ctng/merkle.h"

#define LEAVES_FILE_MAX ((size_t)1 << 32)

static const char usage[] =
    "usage:\n"
    "  ctng merkle root LEAVES_FILE                     -> root hex\n"
    "  ctng merkle inclusion LEAVES_FILE INDEX [SIZE]   -> proof hashes, one per line\n"
    "  ctng merkle consistency LEAVES_FILE SIZE1 SIZE2  -> proof hashes, one per line\n"
    "  ctng merkle verify-inclusion LEAF_HASH INDEX SIZE ROOT [PROOF_HASH...]\n"
    "  ctng merkle verify-consistency SIZE1 SIZE2 ROOT1 ROOT2 [PROOF_HASH...]\n"
    "LEAVES_FILE has one leaf per line, the hex of the leaf data (hashed as\n"
    "SHA-256(0x00 || data)); an empty line is the empty leaf. SIZE defaults to the\n"
    "number of leaves. verify-* exit 0 if valid, 1 if invalid, 2 if malformed.\n";

static void print_hash(const uint8_t h[32])
{
	char hex[65];
	ctng_hex_encode(hex, h, 32);
	puts(hex);
}

static int load_leaves(const char *cmd, const char *path, uint8_t (**leaves)[32], uint64_t *n)
{
	uint8_t *text;
	size_t len;
	ctng_err err = {0};
	int rc = ctng_read_file(path, LEAVES_FILE_MAX, &text, &len, &err);
	if (rc)
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s: %s", path, err.msg);
	rc = ctng_merkle_leaves_parse((const char *)text, len, leaves, n, &err);
	free(text);
	if (rc)
		return ctng_cli_fail(rc == CTNG_EINVAL ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID, cmd,
		                     "%s: %s", path, err.msg);
	return 0;
}

static int parse_num(const char *cmd, const char *what, const char *s, uint64_t *v)
{
	ctng_err err = {0};
	if (ctng_parse_u64(s, UINT64_MAX, v, &err))
		return ctng_cli_usage_error(cmd, "%s '%s': %s", what, s, err.msg);
	return 0;
}

static int parse_hash(const char *cmd, const char *what, const char *s, uint8_t out[32])
{
	ctng_err err = {0};
	if (ctng_hex_decode_exact(out, 32, s, &err))
		return ctng_cli_usage_error(cmd, "%s: %s", what, err.msg);
	return 0;
}

static int parse_proof(const char *cmd, int argc, char **argv, uint8_t (**proof)[32])
{
	*proof = NULL;
	if (argc == 0)
		return 0;
	if (argc > CTNG_MERKLE_MAX_PROOF)
		return ctng_cli_usage_error(cmd, "too many proof hashes (%d)", argc);
	*proof = calloc((size_t)argc, 32);
	if (!*proof)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "out of memory");
	for (int i = 0; i < argc; i++) {
		if (parse_hash(cmd, "proof hash", argv[i], (*proof)[i])) {
			free(*proof);
			*proof = NULL;
			return CTNG_EXIT_USAGE;
		}
	}
	return 0;
}

static void print_proof(const uint8_t (*proof)[32], size_t len)
{
	for (size_t i = 0; i < len; i++)
		print_hash(proof[i]);
}

static int cmd_root(const char *cmd, int argc, char **argv)
{
	if (argc != 1)
		return ctng_cli_usage_error(cmd, "root takes LEAVES_FILE");
	uint8_t(*leaves)[32];
	uint64_t n;
	int st = load_leaves(cmd, argv[0], &leaves, &n);
	if (st)
		return st;
	uint8_t root[32];
	ctng_err err = {0};
	int rc = ctng_merkle_root((const uint8_t(*)[32])leaves, n, n, root, &err);
	free(leaves);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", err.msg);
	print_hash(root);
	return CTNG_EXIT_OK;
}

static int cmd_inclusion(const char *cmd, int argc, char **argv)
{
	if (argc != 2 && argc != 3)
		return ctng_cli_usage_error(cmd, "inclusion takes LEAVES_FILE INDEX [SIZE]");
	uint64_t index, size = 0;
	if (parse_num(cmd, "INDEX", argv[1], &index) ||
	    (argc == 3 && parse_num(cmd, "SIZE", argv[2], &size)))
		return CTNG_EXIT_USAGE;
	uint8_t(*leaves)[32];
	uint64_t n;
	int st = load_leaves(cmd, argv[0], &leaves, &n);
	if (st)
		return st;
	if (argc == 2)
		size = n;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t len;
	ctng_err err = {0};
	int rc = ctng_merkle_inclusion_proof((const uint8_t(*)[32])leaves, n, index, size, proof,
	                                     &len, &err);
	free(leaves);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", err.msg);
	print_proof((const uint8_t(*)[32])proof, len);
	return CTNG_EXIT_OK;
}

static int cmd_consistency(const char *cmd, int argc, char **argv)
{
	if (argc != 3)
		return ctng_cli_usage_error(cmd, "consistency takes LEAVES_FILE SIZE1 SIZE2");
	uint64_t s1, s2;
	if (parse_num(cmd, "SIZE1", argv[1], &s1) || parse_num(cmd, "SIZE2", argv[2], &s2))
		return CTNG_EXIT_USAGE;
	uint8_t(*leaves)[32];
	uint64_t n;
	int st = load_leaves(cmd, argv[0], &leaves, &n);
	if (st)
		return st;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t len;
	ctng_err err = {0};
	int rc = ctng_merkle_consistency_proof((const uint8_t(*)[32])leaves, n, s1, s2, proof, &len,
	                                       &err);
	free(leaves);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", err.msg);
	print_proof((const uint8_t(*)[32])proof, len);
	return CTNG_EXIT_OK;
}

/* A verifier's answer as an exit status: every well-formed claim that does not
 * hold (including an index or sizes out of range) is "invalid". */
static int verdict(const char *cmd, int rc, const ctng_err *err)
{
	if (rc == 0)
		return CTNG_EXIT_OK;
	if (rc == CTNG_EVERIFY || rc == CTNG_EINVAL)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "invalid: %s", err->msg);
	return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s", err->msg);
}

static int cmd_verify_inclusion(const char *cmd, int argc, char **argv)
{
	if (argc < 4)
		return ctng_cli_usage_error(
		    cmd, "verify-inclusion takes LEAF_HASH INDEX SIZE ROOT [PROOF_HASH...]");
	uint8_t leaf[32], root[32];
	uint64_t index, size;
	if (parse_hash(cmd, "LEAF_HASH", argv[0], leaf) ||
	    parse_num(cmd, "INDEX", argv[1], &index) || parse_num(cmd, "SIZE", argv[2], &size) ||
	    parse_hash(cmd, "ROOT", argv[3], root))
		return CTNG_EXIT_USAGE;
	uint8_t(*proof)[32];
	int st = parse_proof(cmd, argc - 4, argv + 4, &proof);
	if (st)
		return st;
	ctng_err err = {0};
	int rc = ctng_merkle_verify_inclusion(leaf, index, size, root, (const uint8_t(*)[32])proof,
	                                      (size_t)(argc - 4), &err);
	free(proof);
	return verdict(cmd, rc, &err);
}

static int cmd_verify_consistency(const char *cmd, int argc, char **argv)
{
	if (argc < 4)
		return ctng_cli_usage_error(
		    cmd, "verify-consistency takes SIZE1 SIZE2 ROOT1 ROOT2 [PROOF_HASH...]");
	uint8_t r1[32], r2[32];
	uint64_t s1, s2;
	if (parse_num(cmd, "SIZE1", argv[0], &s1) || parse_num(cmd, "SIZE2", argv[1], &s2) ||
	    parse_hash(cmd, "ROOT1", argv[2], r1) || parse_hash(cmd, "ROOT2", argv[3], r2))
		return CTNG_EXIT_USAGE;
	uint8_t(*proof)[32];
	int st = parse_proof(cmd, argc - 4, argv + 4, &proof);
	if (st)
		return st;
	ctng_err err = {0};
	int rc = ctng_merkle_verify_consistency(s1, s2, r1, r2, (const uint8_t(*)[32])proof,
	                                        (size_t)(argc - 4), &err);
	free(proof);
	return verdict(cmd, rc, &err);
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return ctng_cli_usage_error(argv[0], "missing subcommand (see 'ctng help merkle')");
	const char *sub = argv[1];
	int n = argc - 2;
	char **a = argv + 2;
	if (!strcmp(sub, "root"))
		return cmd_root("merkle root", n, a);
	if (!strcmp(sub, "inclusion"))
		return cmd_inclusion("merkle inclusion", n, a);
	if (!strcmp(sub, "consistency"))
		return cmd_consistency("merkle consistency", n, a);
	if (!strcmp(sub, "verify-inclusion"))
		return cmd_verify_inclusion("merkle verify-inclusion", n, a);
	if (!strcmp(sub, "verify-consistency"))
		return cmd_verify_consistency("merkle verify-consistency", n, a);
	return ctng_cli_usage_error(argv[0], "unknown subcommand '%s'", sub);
}

const ctng_cli_cmd ctng_cmd_merkle = {"merkle", "RFC 6962 Merkle roots, proofs and verifiers",
                                      usage, run};
