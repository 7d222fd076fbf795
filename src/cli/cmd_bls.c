/*
 * cmd_bls.c — `ctng bls`: BLS12-381 keys, signatures and threshold dealing
 * from the command line, in the fixed forms of DESIGN §10. Hex is lower case
 * without 0x on output (either case accepted on input). Exit status: 0
 * success / valid, 1 invalid (verification failed), 2 bad usage or malformed
 * input, with a one-line error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctng/base.h"
#include "ctng/bls.h"

static const char usage[] =
    "usage:\n"
    "  ctng bls keygen IKM_HEX                       -> SK_HEX (32 bytes, big-endian)\n"
    "  ctng bls pubkey SK_HEX                        -> PK_HEX (96 bytes, compressed G2)\n"
    "  ctng bls sign [--dst DST] SK_HEX MSG_HEX      -> SIG_HEX (48 bytes, compressed G1)\n"
    "  ctng bls verify [--dst DST] PK_HEX MSG_HEX SIG_HEX\n"
    "  ctng bls hash-to-g1 [--dst DST] MSG_HEX       -> compressed G1 point\n"
    "  ctng bls pop-prove SK_HEX                     -> POP_HEX\n"
    "  ctng bls pop-verify PK_HEX POP_HEX\n"
    "  ctng bls aggregate SIG_HEX...                 -> SIG_HEX\n"
    "  ctng bls deal --threshold T --shares N [--seed HEX]\n"
    "                                  -> JSON {group_pk, commitments, shares:[{id, sk, pk}]}\n"
    "  ctng bls combine ID:SIG_HEX...                -> group SIG_HEX (Lagrange at 0)\n"
    "default DST: " CTNG_BLS_DST_POP "\n"
    "IKM is at least 32 bytes; MSG_HEX may be empty (\"\"). verify and pop-verify exit 0\n"
    "if valid, 1 if invalid, 2 if malformed.\n";

#define MAX_ARGS 4096

typedef struct {
	const char *dst;
	const char *threshold, *shares, *seed;
	int npos;
	char *pos[MAX_ARGS];
} args;

/* Splits flags from positional arguments; only the flags in `allowed`
 * (space-separated) are accepted. */
static int parse_args(const char *cmd, int argc, char **argv, const char *allowed, args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		const char *v;
		if (strncmp(argv[i], "--", 2) != 0) {
			if (a->npos == MAX_ARGS)
				return ctng_cli_usage_error(cmd, "too many arguments");
			a->pos[a->npos++] = argv[i];
			continue;
		}
		const char *names[] = {"--dst", "--threshold", "--shares", "--seed"};
		const char **slots[] = {&a->dst, &a->threshold, &a->shares, &a->seed};
		int matched = 0;
		for (int k = 0; k < 4 && !matched; k++) {
			size_t n = strlen(names[k]);
			if (strncmp(argv[i], names[k], n) != 0 ||
			    (argv[i][n] != '\0' && argv[i][n] != '='))
				continue;
			if (!strstr(allowed, names[k]))
				return ctng_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
			v = ctng_cli_flag(argc, argv, &i, names[k]);
			if (!v)
				return ctng_cli_usage_error(cmd, "option %s needs a value", names[k]);
			*slots[k] = v;
			matched = 1;
		}
		if (!matched)
			return ctng_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
	}
	return 0;
}

static int want_pos(const char *cmd, const args *a, int n)
{
	if (a->npos != n)
		return ctng_cli_usage_error(cmd, "expected %d argument%s, got %d (see 'ctng help bls')",
		                            n, n == 1 ? "" : "s", a->npos);
	return 0;
}

static int hex_fixed(const char *cmd, const char *what, const char *s, uint8_t *out, size_t n)
{
	ctng_err err = {0};
	if (ctng_hex_decode_exact(out, n, s, &err))
		return ctng_cli_usage_error(cmd, "%s: %s (need %zu bytes of hex)", what, err.msg, n);
	return 0;
}

/* Any-length hex (possibly empty) into a fresh buffer. */
static int hex_any(const char *cmd, const char *what, const char *s, uint8_t **out, size_t *n)
{
	ctng_err err = {0};
	*out = NULL;
	*n = 0;
	if (s[0] == '\0')
		return 0;
	if (ctng_hex_decode_alloc(s, out, n, &err))
		return ctng_cli_usage_error(cmd, "%s: %s", what, err.msg);
	return 0;
}

static void print_hex(const uint8_t *b, size_t n)
{
	char *h = ctng_hex_strdup(b, n);
	if (h) {
		puts(h);
		free(h);
	}
}

static int fail(const char *cmd, int rc, const ctng_err *err)
{
	return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", err->msg);
}

static int cmd_keygen(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t *ikm, sk[CTNG_BLS_SK_LEN];
	size_t n;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "", &a) || want_pos(cmd, &a, 1) ||
	    hex_any(cmd, "IKM", a.pos[0], &ikm, &n))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_keygen(sk, ikm, n, &err);
	if (ikm)
		ctng_wipe(ikm, n);
	free(ikm);
	if (rc)
		return fail(cmd, rc, &err);
	print_hex(sk, sizeof sk);
	ctng_wipe(sk, sizeof sk);
	return CTNG_EXIT_OK;
}

static int cmd_pubkey(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t sk[CTNG_BLS_SK_LEN], pk[CTNG_BLS_PK_LEN];
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "", &a) || want_pos(cmd, &a, 1) ||
	    hex_fixed(cmd, "SK", a.pos[0], sk, sizeof sk))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_sk_to_pk(pk, sk, &err);
	ctng_wipe(sk, sizeof sk);
	if (rc)
		return fail(cmd, rc, &err);
	print_hex(pk, sizeof pk);
	return CTNG_EXIT_OK;
}

static int cmd_sign(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t sk[CTNG_BLS_SK_LEN], sig[CTNG_BLS_SIG_LEN], *msg;
	size_t n;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "--dst", &a) || want_pos(cmd, &a, 2) ||
	    hex_fixed(cmd, "SK", a.pos[0], sk, sizeof sk) ||
	    hex_any(cmd, "MSG", a.pos[1], &msg, &n))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_sign(sig, sk, msg, n, a.dst, &err);
	ctng_wipe(sk, sizeof sk);
	free(msg);
	if (rc)
		return fail(cmd, rc, &err);
	print_hex(sig, sizeof sig);
	return CTNG_EXIT_OK;
}

static int cmd_verify(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t pk[CTNG_BLS_PK_LEN], sig[CTNG_BLS_SIG_LEN], *msg;
	size_t n;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "--dst", &a) || want_pos(cmd, &a, 3) ||
	    hex_fixed(cmd, "PK", a.pos[0], pk, sizeof pk) ||
	    hex_fixed(cmd, "SIG", a.pos[2], sig, sizeof sig) ||
	    hex_any(cmd, "MSG", a.pos[1], &msg, &n))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_verify(pk, msg, n, sig, a.dst, &err);
	free(msg);
	if (rc)
		return fail(cmd, rc, &err);
	puts("valid");
	return CTNG_EXIT_OK;
}

static int cmd_hash(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t out[CTNG_BLS_SIG_LEN], *msg;
	size_t n;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "--dst", &a) || want_pos(cmd, &a, 1) ||
	    hex_any(cmd, "MSG", a.pos[0], &msg, &n))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_hash_to_g1(out, msg, n, a.dst, &err);
	free(msg);
	if (rc)
		return fail(cmd, rc, &err);
	print_hex(out, sizeof out);
	return CTNG_EXIT_OK;
}

static int cmd_pop_prove(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t sk[CTNG_BLS_SK_LEN], pop[CTNG_BLS_SIG_LEN];
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "", &a) || want_pos(cmd, &a, 1) ||
	    hex_fixed(cmd, "SK", a.pos[0], sk, sizeof sk))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_pop_prove(pop, sk, &err);
	ctng_wipe(sk, sizeof sk);
	if (rc)
		return fail(cmd, rc, &err);
	print_hex(pop, sizeof pop);
	return CTNG_EXIT_OK;
}

static int cmd_pop_verify(const char *cmd, int argc, char **argv)
{
	args a;
	uint8_t pk[CTNG_BLS_PK_LEN], pop[CTNG_BLS_SIG_LEN];
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "", &a) || want_pos(cmd, &a, 2) ||
	    hex_fixed(cmd, "PK", a.pos[0], pk, sizeof pk) ||
	    hex_fixed(cmd, "POP", a.pos[1], pop, sizeof pop))
		return CTNG_EXIT_USAGE;
	int rc = ctng_bls_pop_verify(pk, pop, &err);
	if (rc)
		return fail(cmd, rc, &err);
	puts("valid");
	return CTNG_EXIT_OK;
}

static int cmd_aggregate(const char *cmd, int argc, char **argv)
{
	args a;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "", &a))
		return CTNG_EXIT_USAGE;
	if (a.npos < 1)
		return ctng_cli_usage_error(cmd, "need at least one SIG_HEX");
	uint8_t(*sigs)[CTNG_BLS_SIG_LEN] = calloc((size_t)a.npos, sizeof *sigs);
	uint8_t out[CTNG_BLS_SIG_LEN];
	if (!sigs)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "out of memory");
	for (int i = 0; i < a.npos; i++)
		if (hex_fixed(cmd, "SIG", a.pos[i], sigs[i], CTNG_BLS_SIG_LEN)) {
			free(sigs);
			return CTNG_EXIT_USAGE;
		}
	int rc = ctng_bls_aggregate(out, (const uint8_t(*)[CTNG_BLS_SIG_LEN])sigs, (size_t)a.npos,
	                            &err);
	free(sigs);
	if (rc)
		return fail(cmd, rc, &err);
	print_hex(out, sizeof out);
	return CTNG_EXIT_OK;
}

static int cmd_deal(const char *cmd, int argc, char **argv)
{
	args a;
	uint64_t t, n;
	uint8_t *seed = NULL;
	size_t seed_len = 0;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "--threshold --shares --seed", &a) || want_pos(cmd, &a, 0))
		return CTNG_EXIT_USAGE;
	if (!a.threshold || !a.shares)
		return ctng_cli_usage_error(cmd, "--threshold T and --shares N are required");
	if (ctng_parse_u64(a.threshold, CTNG_BLS_MAX_SHARES, &t, &err))
		return ctng_cli_usage_error(cmd, "--threshold: %s", err.msg);
	if (ctng_parse_u64(a.shares, CTNG_BLS_MAX_SHARES, &n, &err))
		return ctng_cli_usage_error(cmd, "--shares: %s", err.msg);
	if (a.seed) {
		if (hex_any(cmd, "--seed", a.seed, &seed, &seed_len))
			return CTNG_EXIT_USAGE;
		if (seed_len < 32) {
			free(seed);
			return ctng_cli_usage_error(cmd, "--seed must be at least 32 bytes of hex");
		}
	}
	uint8_t gpk[CTNG_BLS_PK_LEN];
	uint8_t(*com)[CTNG_BLS_PK_LEN] = calloc(t ? t : 1, sizeof *com);
	ctng_bls_share *sh = calloc(n ? n : 1, sizeof *sh);
	int rc;
	if (!com || !sh) {
		rc = ctng_err_set(&err, CTNG_ENOMEM, "out of memory");
	} else {
		rc = ctng_bls_deal((uint32_t)t, (uint32_t)n, seed, seed_len, gpk, com, sh, &err);
	}
	if (seed) {
		ctng_wipe(seed, seed_len);
		free(seed);
	}
	if (rc == 0) {
		char hex[2 * CTNG_BLS_PK_LEN + 1];
		ctng_hex_encode(hex, gpk, sizeof gpk);
		printf("{\"group_pk\":\"%s\",\"commitments\":[", hex);
		for (uint64_t i = 0; i < t; i++) {
			ctng_hex_encode(hex, com[i], CTNG_BLS_PK_LEN);
			printf("%s\"%s\"", i ? "," : "", hex);
		}
		printf("],\"shares\":[");
		for (uint64_t i = 0; i < n; i++) {
			char skh[2 * CTNG_BLS_SK_LEN + 1];
			ctng_hex_encode(skh, sh[i].sk, CTNG_BLS_SK_LEN);
			ctng_hex_encode(hex, sh[i].pk, CTNG_BLS_PK_LEN);
			printf("%s{\"id\":%u,\"sk\":\"%s\",\"pk\":\"%s\"}", i ? "," : "", sh[i].id, skh,
			       hex);
			ctng_wipe(skh, sizeof skh);
		}
		printf("]}\n");
	}
	if (sh)
		ctng_wipe(sh, (n ? n : 1) * sizeof *sh);
	free(sh);
	free(com);
	if (rc)
		return fail(cmd, rc, &err);
	return CTNG_EXIT_OK;
}

static int cmd_combine(const char *cmd, int argc, char **argv)
{
	args a;
	ctng_err err = {0};
	if (parse_args(cmd, argc, argv, "", &a))
		return CTNG_EXIT_USAGE;
	if (a.npos < 1)
		return ctng_cli_usage_error(cmd, "need at least one ID:SIG_HEX");
	if (a.npos > CTNG_BLS_MAX_SHARES)
		return ctng_cli_usage_error(cmd, "too many partials (%d)", a.npos);
	uint32_t *ids = calloc((size_t)a.npos, sizeof *ids);
	uint8_t(*parts)[CTNG_BLS_SIG_LEN] = calloc((size_t)a.npos, sizeof *parts);
	uint8_t out[CTNG_BLS_SIG_LEN];
	int st = CTNG_EXIT_OK;
	if (!ids || !parts) {
		st = ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "out of memory");
		goto out;
	}
	for (int i = 0; i < a.npos; i++) {
		char *colon = strchr(a.pos[i], ':');
		if (!colon) {
			st = ctng_cli_usage_error(cmd, "'%s': expected ID:SIG_HEX", a.pos[i]);
			goto out;
		}
		*colon = '\0';
		uint64_t id;
		if (ctng_parse_u64(a.pos[i], UINT32_MAX, &id, &err)) {
			st = ctng_cli_usage_error(cmd, "share id '%s': %s", a.pos[i], err.msg);
			goto out;
		}
		ids[i] = (uint32_t)id;
		if (hex_fixed(cmd, "SIG", colon + 1, parts[i], CTNG_BLS_SIG_LEN)) {
			st = CTNG_EXIT_USAGE;
			goto out;
		}
	}
	int rc = ctng_bls_combine(out, ids, (const uint8_t(*)[CTNG_BLS_SIG_LEN])parts,
	                          (size_t)a.npos, (uint32_t)a.npos, &err);
	if (rc) {
		st = fail(cmd, rc, &err);
		goto out;
	}
	print_hex(out, sizeof out);
out:
	free(ids);
	free(parts);
	return st;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return ctng_cli_usage_error(argv[0], "missing subcommand (see 'ctng help bls')");
	static const struct {
		const char *name, *cmd;
		int (*fn)(const char *, int, char **);
	} subs[] = {
	    {"keygen", "bls keygen", cmd_keygen},
	    {"pubkey", "bls pubkey", cmd_pubkey},
	    {"sign", "bls sign", cmd_sign},
	    {"verify", "bls verify", cmd_verify},
	    {"hash-to-g1", "bls hash-to-g1", cmd_hash},
	    {"pop-prove", "bls pop-prove", cmd_pop_prove},
	    {"pop-verify", "bls pop-verify", cmd_pop_verify},
	    {"aggregate", "bls aggregate", cmd_aggregate},
	    {"deal", "bls deal", cmd_deal},
	    {"combine", "bls combine", cmd_combine},
	};
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(subs[i].cmd, argc - 2, argv + 2);
	return ctng_cli_usage_error(argv[0], "unknown subcommand '%s'", argv[1]);
}

const ctng_cli_cmd ctng_cmd_bls = {"bls", "BLS12-381 keys, signatures and threshold dealing",
                                   usage, run};
