/*
 * cmd_dkg.c — `ctng dkg run|reshare|verify` (issue 12 items 3-4,
 * docs/dkg.md): take part in a network's DKG (or resharing) in the
 * foreground and exit when it is over, or verify transcripts. The gossiper
 * daemon does the same DKG by itself when its network has no group key;
 * these commands are for operators who want it as a separate step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "ctng/config.h"
#include "ctng/dkg.h"
#include "ctng/net.h"
#include "ctng/store.h"

static const char usage[] =
    "usage: ctng dkg run --config DIR/<id>/config.json [--log-level L]\n"
    "       ctng dkg reshare --config DIR/<id>/config.json [--log-level L]\n"
    "       ctng dkg verify --network FILE TRANSCRIPT...\n\n"
    "run      takes this gossiper's part in the DKG of its network (network.json\n"
    "         without a group key): serves the DKG endpoints on its listen address,\n"
    "         deals, checks its shares, complains, answers complaints, and exits 0\n"
    "         once the run is over with a key (1 if it failed), leaving its share in\n"
    "         DATA/gossiper.db and the transcript in DATA/dkg-transcript.json.\n"
    "         (`ctng gossiper` does the same by itself and then goes on gossiping.)\n"
    "reshare  the same for a network assembled with `ctng network assemble --reshare`:\n"
    "         a holder of the previous group's share (bls_sk in its config, or in its\n"
    "         gossiper.db) deals it anew; every gossiper of the new network receives a\n"
    "         new share of the same group key. Stop the gossiper daemon first (the\n"
    "         command listens on its address).\n"
    "verify   checks transcripts against a network.json without a group key and\n"
    "         prints the result (exit 0 all verify and agree, 1 otherwise).\n"
    "Then `ctng network finalize` puts the key into network.json.\n";

struct fg {
	ctng_net_loop *loop;
	bool ok, over, ended;
	char failure[256];
};

static void on_done(void *arg, const ctng_dkg_outcome *o, uint32_t bls_id, const uint8_t sk[32],
                    const char *failure)
{
	struct fg *f = arg;
	(void)bls_id;
	(void)sk;
	f->over = f->ended = true;
	f->ok = o != NULL;
	if (failure)
		snprintf(f->failure, sizeof f->failure, "%s", failure);
}

/* After the end, stay one phase so slower participants get what they need. */
static void on_linger(void *arg)
{
	ctng_net_loop_stop(arg);
}

static void on_tick(ctng_net_timer *t, void *arg)
{
	struct fg *f = arg;
	if (f->over) {
		ctng_net_timer_stop(t);
		f->over = false; /* once */
		ctng_net_call_later(f->loop, 1000, on_linger, f->loop, NULL);
	}
}

static int foreground(int argc, char **argv, bool reshare)
{
	const char *cmd = argv[0];
	ctng_node_config cfg;
	int st = ctng_cli_daemon_config(argc, argv, CTNG_ROLE_GOSSIPER, &cfg);
	if (st != CTNG_EXIT_OK)
		return st;
	ctng_err e = {0};
	struct fg f = {0};
	ctng_store *db = NULL;
	ctng_net_server *srv = NULL;
	ctng_net_timer *tick = NULL;
	ctng_dkg_node *node = NULL;
	uint8_t old[32];
	bool have_old = false;
	char host[CTNG_HOST_MAX], path[4200];
	uint16_t port = 0;
	int rc = 0;
	if (cfg.net.has_bls) {
		st = ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "the network already has a group key");
		goto out;
	}
	if (reshare != cfg.net.reshare.present) {
		st = ctng_cli_fail(CTNG_EXIT_USAGE, cmd,
		                   reshare
		                       ? "the network does not reshare (no \"reshare\" section; "
		                         "use ctng dkg run)"
		                       : "the network reshares an older key: use ctng dkg reshare");
		goto out;
	}
	snprintf(path, sizeof path, "%s/gossiper.db", cfg.data_dir);
	if ((rc = ctng_mkdir_p(cfg.data_dir, 0700, &e)))
		goto fail;
	if (!(db = ctng_store_open(path, &e))) {
		rc = e.code ? e.code : CTNG_EIO;
		goto fail;
	}
	chmod(path, 0600);
	if ((rc = ctng_dkg_store_migrate(db, &e)) ||
	    (rc = ctng_node_config_listen(&cfg, host, &port, &e)))
		goto fail;
	if (reshare)
		have_old = ctng_dkg_find_old_share(&cfg, db, old, NULL) == 0;
	if (!(f.loop = ctng_net_loop_new(&e)) ||
	    ctng_net_loop_catch_signals(f.loop, NULL, NULL, &e) ||
	    !(srv = ctng_net_server_new(f.loop, CTNG_DKG_MSG_MAX, &e)) ||
	    ctng_net_server_bind(srv, host, port, NULL, &e) ||
	    !(tick = ctng_net_timer_new(f.loop, on_tick, &f, &e))) {
		rc = e.code ? e.code : CTNG_EIO;
		goto fail;
	}
	if ((rc = ctng_dkg_node_start(&cfg, f.loop, srv, db, have_old ? old : NULL, on_done, &f,
	                              &node, &e)))
		goto fail;
	ctng_wipe(old, sizeof old);
	ctng_net_timer_start(tick, 50, 50, NULL);
	rc = ctng_net_loop_run(f.loop, &e);
	if (!rc && !f.ended)
		rc = ctng_err_set(&e, CTNG_ESTATE, "interrupted before the end");
	else if (!rc && !f.ok)
		rc = ctng_err_set(&e, CTNG_EVERIFY, "%s",
		                  f.failure[0] ? f.failure : "interrupted before the end");
fail:
	st = rc ? ctng_cli_fail(rc == CTNG_EVERIFY ? CTNG_EXIT_INVALID : ctng_cli_exit_for(rc), cmd,
	                        "%s", e.msg)
	        : CTNG_EXIT_OK;
out:
	ctng_wipe(old, sizeof old);
	ctng_dkg_node_stop(node);
	ctng_net_timer_free(tick);
	ctng_net_server_free(srv);
	ctng_net_loop_free(f.loop);
	ctng_dkg_node_free(node);
	ctng_store_close(db);
	ctng_node_config_free(&cfg);
	return st;
}

static int verify(int argc, char **argv)
{
	const char *cmd = "dkg verify", *netp = NULL;
	int first = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--network")))
			netp = v;
		else if (argv[i][0] == '-')
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
		else if (!first)
			first = i;
	}
	if (!netp || !first)
		return ctng_cli_usage_error(cmd, "--network FILE and a transcript are required");
	uint8_t *nt = NULL;
	size_t nl = 0;
	ctng_err e = {0};
	if (ctng_read_file(netp, CTNG_CONFIG_FILE_MAX, &nt, &nl, &e))
		return ctng_cli_fail(CTNG_EXIT_USAGE, cmd, "%s", e.msg);
	ctng_dkg_outcome ref = {0};
	int st = CTNG_EXIT_OK;
	for (int i = first; i < argc && st == CTNG_EXIT_OK; i++) {
		if (argv[i][0] == '-') {
			i++; /* --network FILE */
			continue;
		}
		uint8_t *t = NULL;
		size_t tl = 0;
		ctng_dkg_outcome o = {0};
		int rc = ctng_read_file(argv[i], 64u << 20, &t, &tl, &e);
		if (!rc)
			rc = ctng_dkg_transcript_verify((const char *)nt, nl, (const char *)t, tl,
			                                &o, &e);
		free(t);
		if (rc) {
			st = ctng_cli_fail(rc == CTNG_EINVAL ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID,
			                   cmd, "%s: %s", argv[i], e.msg);
			break;
		}
		char *g = ctng_hex_strdup(o.group_pk, 96);
		printf("%s: verifies; group key %s; threshold %u; qualified", argv[i], g ? g : "?",
		       o.threshold);
		free(g);
		for (size_t k = 0; k < o.n_qualified; k++)
			printf(" %s", o.qualified[k]);
		for (size_t k = 0; k < o.n_disqualified; k++)
			printf("; disqualified %s (%s)", o.disqualified[k].id,
			       o.disqualified[k].reason);
		printf("\n");
		if (!ref.commitments) {
			ref = o;
			continue;
		}
		if (!ctng_dkg_outcome_equal(&ref, &o))
			st = ctng_cli_fail(CTNG_EXIT_INVALID, cmd,
			                   "%s disagrees with the first transcript", argv[i]);
		ctng_dkg_outcome_free(&o);
	}
	ctng_dkg_outcome_free(&ref);
	free(nt);
	return st;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return ctng_cli_usage_error("dkg", "run, reshare or verify? (ctng help dkg)");
	if (strcmp(argv[1], "run") == 0)
		return foreground(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "reshare") == 0)
		return foreground(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "verify") == 0)
		return verify(argc - 1, argv + 1);
	return ctng_cli_usage_error("dkg", "unknown subcommand '%s'", argv[1]);
}

const ctng_cli_cmd ctng_cmd_dkg = {
    "dkg", "take part in a DKG or resharing in the foreground; verify transcripts", usage, run};
