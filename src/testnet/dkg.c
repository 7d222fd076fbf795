/*
 * dkg.c — the DKG `ctng testnet` runs before the first period when the
 * network has no group key (issue 12 item 5): every gossiper starts as its
 * own process over loopback HTTP, the run waits until each reports the DKG
 * done (GET /ctng/v1/dkg/status), verifies every gossiper's transcript,
 * requires them to agree, and finalizes network.json as `ctng network
 * finalize` does. Nothing here ever sees a secret: the group key exists
 * only as shares in the gossipers' own stores.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "ctng/net.h"
#include "testnet_internal.h"

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* "done", "failed" or NULL (not answering / still running) into phase. */
static int status_of(const ctng_entity *g, char *phase, size_t cap)
{
	char url[CTNG_URL_MAX + 32];
	snprintf(url, sizeof url, "%s/ctng/v1/dkg/status", g->url);
	int st = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	phase[0] = 0;
	if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 1000, &st, &body, &len, NULL) != 0)
		return -1;
	json_t *j = st == 200 ? json_loadb((const char *)body, len, 0, NULL) : NULL;
	const char *p = json_string_value(json_object_get(j, "phase"));
	if (p)
		snprintf(phase, cap, "%s", p);
	json_decref(j);
	free(body);
	return p ? 0 : -1;
}

static int finalize(const char *dir, ctng_network *net, testnet_dkg *d, ctng_err *err)
{
	char path[4096];
	testnet_pathf(path, sizeof path, "%s/network.json", dir);
	uint8_t *nt = NULL;
	size_t nl = 0;
	int rc = ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &nt, &nl, err);
	ctng_dkg_outcome first = {0};
	for (size_t i = 0; !rc && i < d->n; i++) {
		char tp[4096];
		uint8_t *t = NULL;
		size_t tl = 0;
		ctng_dkg_outcome o = {0};
		testnet_pathf(tp, sizeof tp, "%s/%s/dkg-transcript.json", dir, d->ids[i]);
		if (!(rc = ctng_read_file(tp, 64u << 20, &t, &tl, err)))
			rc = ctng_dkg_transcript_verify((const char *)nt, nl, (const char *)t, tl,
			                                &o, err);
		free(t);
		if (rc)
			ctng_err_wrap(err, "transcript of %s", d->ids[i]);
		else if (i == 0)
			first = o;
		else if (!ctng_dkg_outcome_equal(&first, &o))
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "the gossipers finished with different keys");
		if (i > 0)
			ctng_dkg_outcome_free(&o);
	}
	char *keyed = NULL;
	size_t kl = 0;
	if (!rc)
		rc = ctng_network_json_set_bls((const char *)nt, nl, first.group_pk,
		                               (const uint8_t(*)[96])first.commitments,
		                               first.threshold, &keyed, &kl, err);
	if (!rc)
		rc = ctng_write_file_atomic(path, keyed, kl, 0644, err);
	if (!rc) {
		d->qualified = first.n_qualified;
		d->t = first.threshold;
		ctng_hex_encode(d->group_pk, first.group_pk, 8);
		ctng_network_free(net);
		rc = ctng_network_load(path, net, err);
	}
	ctng_dkg_outcome_free(&first);
	free(keyed);
	free(nt);
	return rc;
}

int testnet_dkg_run(const char *exe, const char *dir, ctng_network *net, testnet_dkg *d,
                    volatile sig_atomic_t *stop, ctng_err *err)
{
	memset(d, 0, sizeof *d);
	size_t n = ctng_network_count(net, CTNG_ROLE_GOSSIPER);
	if (n > CTNG_DKG_MAX_PARTICIPANTS)
		return ctng_err_set(err, CTNG_EINVAL, "too many gossipers for a DKG");
	uint64_t t0 = ctng_mono_ms();
	for (size_t i = 0; i < n; i++) {
		const ctng_entity *g = ctng_network_nth(net, CTNG_ROLE_GOSSIPER, i);
		char cfg[4096], logp[4096];
		testnet_pathf(cfg, sizeof cfg, "%s/%s/config.json", dir, g->id);
		testnet_pathf(logp, sizeof logp, "%s/%s/daemon.log", dir, g->id);
		snprintf(d->ids[i], sizeof d->ids[i], "%s", g->id);
		d->pids[i] = testnet_spawn(exe, "gossiper", cfg, logp, 0, NULL);
		d->n = i + 1;
		if (d->pids[i] < 0)
			return ctng_err_set(err, CTNG_EIO, "cannot start %s", g->id);
	}
	d->ran = true;
	/* every phase may run to its timeout; beyond that the run is stuck */
	uint64_t phase = net->dkg_phase_ms ? net->dkg_phase_ms : CTNG_DKG_DEFAULT_PHASE_MS;
	uint64_t deadline = t0 + 5 * phase + 15000;
	size_t done = 0;
	bool *fin = calloc(n ? n : 1, sizeof *fin);
	if (!fin)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = 0;
	while (!rc && done < n) {
		if (*stop) {
			rc = ctng_err_set(err, CTNG_ESTATE, "interrupted during the DKG");
			break;
		}
		if (ctng_mono_ms() > deadline) {
			rc = ctng_err_set(
			    err, CTNG_ETIMEOUT,
			    "the DKG did not finish in time (see %s/gossiper*/daemon.log)", dir);
			break;
		}
		for (size_t i = 0; i < n && !rc; i++) {
			char ph[32];
			if (fin[i] || status_of(ctng_network_entity(net, d->ids[i]), ph, sizeof ph))
				continue;
			if (strcmp(ph, "failed") == 0)
				rc = ctng_err_set(err, CTNG_EVERIFY,
				                  "the DKG failed at %s (see %s/%s/daemon.log)",
				                  d->ids[i], dir, d->ids[i]);
			else if (strcmp(ph, "done") == 0) {
				fin[i] = true;
				done++;
			}
		}
		if (!rc && done < n)
			nap(20);
	}
	free(fin);
	d->ms = ctng_mono_ms() - t0;
	if (!rc)
		rc = finalize(dir, net, d, err);
	return rc;
}

pid_t testnet_dkg_take(testnet_dkg *d, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->pids[i] > 0 && strcmp(d->ids[i], id) == 0) {
			pid_t p = d->pids[i];
			d->pids[i] = 0;
			return p;
		}
	return 0;
}

void testnet_dkg_stop_one(testnet_dkg *d, const char *id)
{
	testnet_dkg one = {.n = 1};
	one.pids[0] = testnet_dkg_take(d, id);
	testnet_dkg_stop_rest(&one);
}

void testnet_dkg_stop_rest(testnet_dkg *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->pids[i] > 0)
			kill(d->pids[i], SIGTERM);
	uint64_t deadline = ctng_mono_ms() + 5000;
	for (size_t i = 0; i < d->n; i++) {
		while (d->pids[i] > 0) {
			int st;
			pid_t r = waitpid(d->pids[i], &st, WNOHANG);
			if (r == d->pids[i] || (r < 0 && errno == ECHILD)) {
				d->pids[i] = 0;
			} else if (ctng_mono_ms() > deadline) {
				kill(d->pids[i], SIGKILL);
				waitpid(d->pids[i], &st, 0);
				d->pids[i] = 0;
			} else {
				nap(20);
			}
		}
	}
}
