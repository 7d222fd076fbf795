/*
 * cmd_network.c — `ctng network assemble|show|finalize` (issue 12 item 2):
 * build network.json from the operators' public descriptors, print it with
 * the fingerprint people compare out of band, and put the group key in once
 * a DKG transcript verifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ctng/config.h"
#include "ctng/dkg.h"
#include "ctng/sig.h"

static const char usage[] =
    "usage: ctng network assemble --threshold T --period-ms MS [--genesis-ms MS]\n"
    "                             [--dkg-phase-ms MS] [--reshare OLD_NETWORK]\n"
    "                             DESCRIPTOR... --out FILE\n"
    "       ctng network show FILE\n"
    "       ctng network finalize --transcript FILE... [--out OUT] NETWORK\n\n"
    "assemble  checks the public descriptors made by `ctng keygen` (known members,\n"
    "          well-formed keys, unique ids and urls), orders them by role and id,\n"
    "          gives gossipers their share ids, completes the topology the\n"
    "          descriptors leave open (whom each monitor watches, monitor-gossiper\n"
    "          pairs, gossiper peers) and writes FILE with no group key: the\n"
    "          gossipers make it with a DKG. --genesis-ms defaults to now; offsets\n"
    "          are as `ctng init` chooses them. --reshare OLD_NETWORK makes a\n"
    "          network whose gossipers reshare OLD_NETWORK's group key (same key,\n"
    "          new members and threshold). Refuses to overwrite FILE.\n"
    "show      prints the network for a person to check, with its fingerprint:\n"
    "          every operator runs it on their copy and compares the fingerprint\n"
    "          out of band (phone, in person) before starting a daemon.\n"
    "finalize  verifies DKG transcripts (written by the gossipers, dkg-transcript.json\n"
    "          in their data folders) against NETWORK and, when every one verifies\n"
    "          and all agree, writes the group key, commitments and share keys into\n"
    "          OUT (default: NETWORK itself). The fingerprint does not change.\n"
    "See docs/config.md and docs/dkg.md.\n";

static int read_text(const char *path, char **out, size_t *len, ctng_err *e)
{
	uint8_t *d = NULL;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &d, len, e);
	*out = (char *)d;
	if (rc)
		ctng_err_wrap(e, "%s", path);
	return rc;
}

/* ------------------------------------------------------------- assemble */

static int assemble(int argc, char **argv)
{
	const char *cmd = "network assemble", *outp = NULL, *reshare = NULL;
	ctng_assemble_opts o = {0};
	const char **files = calloc((size_t)argc, sizeof *files);
	size_t nf = 0;
	uint64_t v64;
	int st = CTNG_EXIT_USAGE;
	if (!files)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "out of memory");
	bool have_t = false, have_p = false;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--out"))) {
			outp = v;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--reshare"))) {
			reshare = v;
		} else if (strncmp(argv[i], "--threshold", 11) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--threshold");
			if (ctng_cli_u64_flag(cmd, "--threshold", v, 1, CTNG_CONFIG_MAX_ENTITIES,
			                      &v64))
				goto done;
			o.threshold = (uint32_t)v64;
			have_t = true;
		} else if (strncmp(argv[i], "--period-ms", 11) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--period-ms");
			if (ctng_cli_u64_flag(cmd, "--period-ms", v, 100, (uint64_t)1 << 40,
			                      &o.period_ms))
				goto done;
			have_p = true;
		} else if (strncmp(argv[i], "--genesis-ms", 12) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--genesis-ms");
			if (ctng_cli_u64_flag(cmd, "--genesis-ms", v, 1, (uint64_t)1 << 53,
			                      &o.genesis_ms))
				goto done;
		} else if (strncmp(argv[i], "--dkg-phase-ms", 14) == 0) {
			v = ctng_cli_flag(argc, argv, &i, "--dkg-phase-ms");
			if (ctng_cli_u64_flag(cmd, "--dkg-phase-ms", v, 10, (uint64_t)1 << 32,
			                      &o.dkg_phase_ms))
				goto done;
		} else if (argv[i][0] == '-') {
			ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
			goto done;
		} else {
			files[nf++] = argv[i];
		}
	}
	if (!have_t || !have_p || !outp || nf == 0) {
		ctng_cli_usage_error(cmd, "--threshold, --period-ms, --out and descriptors are "
		                          "required");
		goto done;
	}
	if (access(outp, F_OK) == 0) {
		ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s already exists; refusing to overwrite",
		              outp);
		goto done;
	}
	char **texts = calloc(nf, sizeof *texts), *out = NULL;
	size_t *lens = calloc(nf, sizeof *lens), out_len = 0;
	ctng_network old = {0};
	ctng_err e = {0};
	int rc = texts && lens ? 0 : ctng_err_set(&e, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < nf; i++)
		rc = read_text(files[i], &texts[i], &lens[i], &e);
	if (!rc && reshare) {
		rc = ctng_network_load(reshare, &old, &e);
		o.reshare_from = &old;
	}
	if (!rc)
		rc = ctng_network_assemble((const char *const *)texts, lens, nf, &o, &out, &out_len,
		                           &e);
	if (!rc)
		rc = ctng_write_file_atomic(outp, out, out_len, 0644, &e);
	if (rc) {
		st = ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", e.msg);
	} else {
		uint8_t fp[32];
		char txt[CTNG_FINGERPRINT_TEXT_LEN];
		ctng_network_fingerprint(out, out_len, fp, NULL);
		ctng_fingerprint_text(fp, txt);
		printf("wrote %s: %zu entities, threshold %u, no group key yet; fingerprint %s\n",
		       outp, nf, o.threshold, txt);
		st = CTNG_EXIT_OK;
	}
	for (size_t i = 0; texts && i < nf; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	free(out);
	ctng_network_free(&old);
done:
	free(files);
	return st;
}

/* ----------------------------------------------------------------- show */

static void print_ids(const char *label, char **ids, size_t n)
{
	printf("%s", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : " ", ids[i]);
	if (n == 0)
		printf(" -");
}

static void key_summary(const ctng_sig_key *k)
{
	uint8_t id[CTNG_SIG_KEY_ID_LEN];
	char hex[17];
	if (!k || ctng_sig_key_id(k, id, NULL)) {
		printf(" key -");
		return;
	}
	ctng_hex_encode(hex, id, 8);
	printf(" %s key %s", ctng_sig_alg_name(ctng_sig_key_alg(k)), hex);
}

static int show(int argc, char **argv)
{
	const char *cmd = "network show";
	if (argc != 2 || argv[1][0] == '-')
		return ctng_cli_usage_error(cmd, "usage: ctng network show FILE");
	char *text = NULL;
	size_t len = 0;
	ctng_err e = {0};
	ctng_network net;
	if (read_text(argv[1], &text, &len, &e) || ctng_network_parse(text, len, &net, &e)) {
		free(text);
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s", e.msg);
	}
	free(text);
	char fp[65], shortfp[CTNG_FINGERPRINT_TEXT_LEN], when[CTNG_RFC3339_LEN];
	ctng_hex_encode(fp, net.fingerprint, 32);
	ctng_fingerprint_text(net.fingerprint, shortfp);
	ctng_rfc3339(when, net.clock.genesis_ms);
	printf("network %s\n", argv[1]);
	printf("fingerprint %s   (sha256 %s)\n", shortfp, fp);
	printf(
	    "genesis %s (%llu ms), period %llu ms, query +%llu, gossip wait %llu, update +%llu\n",
	    when, (unsigned long long)net.clock.genesis_ms, (unsigned long long)net.clock.period_ms,
	    (unsigned long long)net.clock.query_offset_ms,
	    (unsigned long long)net.clock.gossip_wait_ms,
	    (unsigned long long)net.clock.update_offset_ms);
	printf(
	    "threshold %u of %zu gossipers, DKG phase %llu ms\n", net.threshold,
	    ctng_network_count(&net, CTNG_ROLE_GOSSIPER),
	    (unsigned long long)(net.dkg_phase_ms ? net.dkg_phase_ms : CTNG_DKG_DEFAULT_PHASE_MS));
	if (net.has_bls) {
		char *g = ctng_hex_strdup(net.group_pk, 96);
		printf("group key %s\n", g ? g : "?");
		free(g);
	} else {
		printf("group key: none yet (the gossipers run the DKG, then `ctng network "
		       "finalize`)\n");
	}
	if (net.reshare.present) {
		char ofp[CTNG_FINGERPRINT_TEXT_LEN];
		ctng_fingerprint_text(net.reshare.fingerprint, ofp);
		printf("reshares the group key of network %s (threshold %u, %zu holders)\n", ofp,
		       net.reshare.threshold, net.reshare.n_holders);
	}
	for (size_t i = 0; i < net.n_entities; i++) {
		const ctng_entity *x = &net.entities[i];
		printf("  %-12s %-8s %s", x->id, ctng_role_name(x->role), x->url);
		key_summary(x->key);
		if (x->role == CTNG_ROLE_MONITOR) {
			print_ids("; loggers", x->loggers, x->n_loggers);
			print_ids("; cas", x->cas, x->n_cas);
			printf("; gossiper %s", x->gossiper);
		}
		if (x->role == CTNG_ROLE_GOSSIPER) {
			char dk[17] = "-";
			if (x->has_dkg_key)
				ctng_hex_encode(dk, x->dkg_key, 8);
			printf("; bls_id %u; dkg key %s; monitor %s", x->bls_id, dk, x->monitor);
			print_ids("; peers", x->peers, x->n_peers);
		}
		printf("\n");
	}
	ctng_network_free(&net);
	return CTNG_EXIT_OK;
}

/* ------------------------------------------------------------- finalize */

static int finalize(int argc, char **argv)
{
	const char *cmd = "network finalize", *outp = NULL, *netp = NULL;
	const char **tr = calloc((size_t)argc, sizeof *tr);
	size_t nt = 0;
	int st = CTNG_EXIT_USAGE;
	if (!tr)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--out"))) {
			outp = v;
		} else if ((v = ctng_cli_flag(argc, argv, &i, "--transcript"))) {
			tr[nt++] = v;
		} else if (argv[i][0] == '-' || netp) {
			ctng_cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
			goto done;
		} else {
			netp = argv[i];
		}
	}
	if (!netp || nt == 0) {
		ctng_cli_usage_error(cmd,
		                     "NETWORK and at least one --transcript FILE are required");
		goto done;
	}
	char *net_text = NULL, *out = NULL;
	size_t net_len = 0, out_len = 0;
	ctng_err e = {0};
	ctng_dkg_outcome res = {0};
	int rc = read_text(netp, &net_text, &net_len, &e);
	for (size_t i = 0; !rc && i < nt; i++) {
		char *t = NULL;
		size_t tl = 0;
		ctng_dkg_outcome r = {0};
		if (!(rc = read_text(tr[i], &t, &tl, &e)))
			rc = ctng_dkg_transcript_verify(net_text, net_len, t, tl, &r, &e);
		free(t);
		if (rc) {
			ctng_err_wrap(&e, "%s", tr[i]);
		} else if (i == 0) {
			res = r;
			continue;
		} else if (!ctng_dkg_outcome_equal(&res, &r)) {
			rc = ctng_err_set(
			    &e, CTNG_EVERIFY,
			    "%s and %s verify but disagree on the result: the gossipers "
			    "did not finish with the same key; run a new DKG",
			    tr[0], tr[i]);
		}
		ctng_dkg_outcome_free(&r);
	}
	if (!rc)
		rc = ctng_network_json_set_bls(net_text, net_len, res.group_pk,
		                               (const uint8_t(*)[96])res.commitments, res.threshold,
		                               &out, &out_len, &e);
	if (!rc)
		rc = ctng_write_file_atomic(outp ? outp : netp, out, out_len, 0644, &e);
	if (rc) {
		st = ctng_cli_fail(rc == CTNG_EVERIFY ? CTNG_EXIT_INVALID : ctng_cli_exit_for(rc),
		                   cmd, "%s", e.msg);
	} else {
		char *g = ctng_hex_strdup(res.group_pk, 96);
		printf("wrote %s: group key %s from %zu transcript(s), %zu qualified dealers\n",
		       outp ? outp : netp, g ? g : "?", nt, res.n_qualified);
		free(g);
		st = CTNG_EXIT_OK;
	}
	ctng_dkg_outcome_free(&res);
	free(net_text);
	free(out);
done:
	free(tr);
	return st;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return ctng_cli_usage_error("network",
		                            "assemble, show or finalize? (ctng help network)");
	if (strcmp(argv[1], "assemble") == 0)
		return assemble(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return show(argc - 1, argv + 1);
	if (strcmp(argv[1], "finalize") == 0)
		return finalize(argc - 1, argv + 1);
	return ctng_cli_usage_error("network", "unknown subcommand '%s'", argv[1]);
}

const ctng_cli_cmd ctng_cmd_network = {
    "network", "assemble network.json from keygen descriptors, show it, finalize it after the DKG",
    usage, run};
