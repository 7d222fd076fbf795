/*
 * run.c — `ctng testnet`: makes (or reuses) a network folder, applies the
 * scenario's faults to the entities' private configs, starts every running
 * entity as its own `ctng <role> --config …` process on loopback, drives
 * certificate issuance and revocation through the CAs, collects every
 * gossiper's counts for each period, prints them, checks them against the
 * scenario, and stops every process it started (also on Ctrl-C).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctng/net.h"
#include "ctng/testnet.h"
#include "testnet_internal.h"

#define STARTUP_MS    4000u /* from network creation to period 0 */
#define DKG_PHASE_MS  1000u /* phase timeout of the DKG in a fresh test network */
#define STOP_GRACE_MS 5000  /* SIGTERM, then SIGKILL after this */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

void ctng_testnet_opts_default(ctng_testnet_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->scenario = "honest";
	o->periods = 4;
	o->period_ms = 2000;
	o->port_base = 9000;
	o->drive_traffic = true;
}

/* Sleeps until the wall clock reaches `when_ms`, waking early on a stop. */
static bool sleep_until(uint64_t when_ms)
{
	while (!g_stop) {
		uint64_t now = ctng_now_ms();
		if (now >= when_ms)
			return true;
		uint64_t d = when_ms - now;
		if (d > 100)
			d = 100;
		struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return false;
}

/* ------------------------------------------------------------ processes */

/* libfaketime of the faketime package (multi-threaded variant). */
static const char *faketime_lib(void)
{
	static const char *const paths[] = {
	    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
	    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
	    "/usr/lib/faketime/libfaketimeMT.so.1",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

/* The clock offset (ms, + ahead) a scenario gives entity id. */
static long skew_of(const ctng_testnet_scenario *s, const ctng_network *net, const char *id)
{
	for (size_t f = 0; f < s->n_faults; f++)
		if (strcmp(s->faults[f].id, id) == 0 && s->faults[f].skew_permille)
			return (long)ctng_clock_skew_ms(&net->clock) * s->faults[f].skew_permille / 1000;
	return 0;
}

/* Starts `exe role --config cfg` with output to logpath; with skew_ms != 0
 * under faketime(1) (libfaketime shifts the wall and monotonic clocks). */
pid_t testnet_spawn(const char *exe, const char *role, const char *cfg, const char *logpath,
                    long skew_ms, const char *const *prefix)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0)
		dup2(nul, STDIN_FILENO);
	/* The daemons catch SIGINT/SIGTERM themselves; start with defaults. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (skew_ms) {
		/* libfaketime preloaded into the daemon itself (the faketime(1)
		 * wrapper would fork, and the daemon would outlive a SIGTERM). */
		const char *lib = faketime_lib();
		if (!lib) {
			fprintf(stderr, "libfaketime not found (scripts/deps.sh installs faketime)\n");
			_exit(127);
		}
		char off[32], asan[1024];
		snprintf(off, sizeof off, "%c%ld.%03ld", skew_ms < 0 ? '-' : '+', labs(skew_ms) / 1000,
		         labs(skew_ms) % 1000);
		setenv("LD_PRELOAD", lib, 1);
		setenv("FAKETIME", off, 1);
		/* a sanitizer runtime is then not first in the library list */
		const char *a = getenv("ASAN_OPTIONS");
		snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", a ? a : "", a ? ":" : "");
		setenv("ASAN_OPTIONS", asan, 1);
	}
	if (prefix && prefix[0]) {
		/* e.g. ip netns exec NS: it execs the daemon, so the pid stays its */
		const char *argv[32];
		size_t n = 0;
		for (; prefix[n] && n < 26; n++)
			argv[n] = prefix[n];
		argv[n++] = exe;
		argv[n++] = role;
		argv[n++] = "--config";
		argv[n++] = cfg;
		argv[n] = NULL;
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	execl(exe, exe, role, "--config", cfg, (char *)NULL);
	fprintf(stderr, "cannot exec %s: %s\n", exe, strerror(errno));
	_exit(127);
}

static void stop_all(proc *ps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ps[i].pid > 0)
			kill(ps[i].pid, SIGTERM);
	uint64_t deadline = ctng_mono_ms() + STOP_GRACE_MS;
	for (size_t i = 0; i < n; i++) {
		while (ps[i].pid > 0) {
			int st;
			pid_t r = waitpid(ps[i].pid, &st, WNOHANG);
			if (r == ps[i].pid || (r < 0 && errno == ECHILD)) {
				ps[i].pid = 0;
				break;
			}
			if (ctng_mono_ms() > deadline) {
				kill(ps[i].pid, SIGKILL);
				waitpid(ps[i].pid, &st, 0);
				ps[i].pid = 0;
				break;
			}
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
}

/* Reports a child that died on its own (so a crash is visible at once). */
static void reap_dead(proc *ps, size_t n, ctng_buf *failures, size_t *fails)
{
	for (size_t i = 0; i < n; i++) {
		int st;
		if (ps[i].pid > 0 && waitpid(ps[i].pid, &st, WNOHANG) == ps[i].pid) {
			ctng_buf_printf(failures, "process %s exited early (status %d)\n",
			                ps[i].e->id,
			                WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			(*fails)++;
			ps[i].pid = 0;
		}
	}
}

bool testnet_wait_listening(const ctng_entity *e, uint64_t deadline_ms)
{
	char url[CTNG_URL_MAX + 32];
	snprintf(url, sizeof(url), "%s/ctng/v1/ping", e->url);
	while (!g_stop && ctng_mono_ms() < deadline_ms) {
		int status = 0;
		/* Any HTTP answer (404 included) means the daemon is up. */
		if (ctng_net_fetch_sync(url, "GET", NULL, NULL, 0, 300, &status, NULL, NULL,
		                        NULL) == 0)
			return true;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return false;
}

/* The crash test: SIGKILL, no chance to clean up, then a fresh start. */
static void kill_killed(const ctng_testnet_scenario *s, proc *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ps[i].pid > 0 && ctng_testnet_killed(s, ps[i].e->id)) {
			int st;
			kill(ps[i].pid, SIGKILL);
			waitpid(ps[i].pid, &st, 0);
			ps[i].pid = 0;
		}
	}
}

static int restart_killed(const ctng_testnet_scenario *s, proc *ps, size_t n, const char *exe,
                          const char *dir, ctng_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (ps[i].pid != 0 || !ctng_testnet_killed(s, ps[i].e->id))
			continue;
		char cfg[4096], logp[4096];
		testnet_pathf(cfg, sizeof(cfg), "%s/%s/config.json", dir, ps[i].e->id);
		testnet_pathf(logp, sizeof(logp), "%s/%s/daemon.log", dir, ps[i].e->id);
		ps[i].pid = testnet_spawn(exe, ctng_role_name(ps[i].e->role), cfg, logp, 0, NULL);
		if (ps[i].pid < 0)
			return ctng_err_set(err, CTNG_EIO, "cannot restart %s", ps[i].e->id);
	}
	return 0;
}

/* --------------------------------------------------------- network setup */

static int apply_faults(const ctng_testnet_scenario *s, const ctng_network *net, const char *dir,
                        ctng_err *err)
{
	for (size_t i = 0; i < net->n_entities; i++) {
		const ctng_entity *e = &net->entities[i];
		char path[4096];
		testnet_pathf(path, sizeof(path), "%s/%s/config.json", dir, e->id);
		ctng_misbehaviour m = {0};
		char *targets[64];
		for (size_t f = 0; f < s->n_faults; f++) {
			const ctng_testnet_fault *ft = &s->faults[f];
			if (strcmp(ft->id, e->id) != 0 ||
			    (!ft->split_view && !ft->silent && !ft->answer_periods_mod &&
			     !ft->false_accuse && !ft->hide_entry && !ft->wrong_data))
				continue; /* a clock offset only: honest */
			m.present = true;
			m.split_view = ft->split_view;
			m.silent = ft->silent;
			m.answer_periods_mod = ft->answer_periods_mod;
			size_t nt = 0;
			if (ft->split_target)
				targets[nt++] = (char *)ft->split_target;
			for (const char *const *t = ft->split_targets; t && *t && nt < 64; t++)
				targets[nt++] = (char *)*t;
			m.split_targets = nt ? targets : NULL;
			m.n_split_targets = nt;
			m.false_accuse = ft->false_accuse;
			m.hide_entry = ft->hide_entry;
			m.hidden_index = ft->hidden_index;
			m.wrong_data = ft->wrong_data;
		}
		int rc = ctng_node_config_set_misbehaviour(path, m.present ? &m : NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int prepare_network(const ctng_testnet_opts *o, const char *dir, ctng_network *net,
                           ctng_err *err)
{
	char path[4096];
	testnet_pathf(path, sizeof(path), "%s/network.json", dir);
	struct stat st;
	if (stat(path, &st) != 0) {
		ctng_init_opts io;
		ctng_init_opts_default(&io);
		io.period_ms = o->period_ms;
		io.port_base = o->port_base;
		io.genesis_ms = ctng_now_ms() + STARTUP_MS;
		io.dkg = !o->dealer; /* no dealer: the gossipers run the DKG */
		io.dkg_phase_ms = DKG_PHASE_MS;
		io.tls = o->tls;
		int rc = ctng_init_network(dir, &io, err);
		if (rc)
			return ctng_err_wrap(err, "creating the network in %s", dir);
	}
	return ctng_network_load(path, net, err);
}

/* ------------------------------------------------------------ the run */

static void print_header(FILE *out)
{
	fprintf(out, "%-7s %-12s", "period", "gossiper");
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		fprintf(out, " %8s", ctng_type_name(ctng_all_types[i]));
	fprintf(out, "\n");
}

static void print_cell(FILE *out, const ctng_testnet_cell *c, const char *gid, bool json)
{
	if (json) {
		fprintf(out, "{\"period\": %llu, \"gossiper\": \"%s\", \"counts\": {",
		        (unsigned long long)c->period, gid);
		for (int i = 0; i < CTNG_TYPE_COUNT; i++)
			fprintf(out, "%s\"%s\": %llu", i ? ", " : "",
			        ctng_type_name(ctng_all_types[i]),
			        (unsigned long long)c->counts[i]);
		fprintf(out, "}%s}\n", c->ok ? "" : ", \"error\": \"no answer\"");
	} else {
		fprintf(out, "%-7llu %-12s", (unsigned long long)c->period, gid);
		for (int i = 0; i < CTNG_TYPE_COUNT; i++) {
			if (c->ok)
				fprintf(out, " %8llu", (unsigned long long)c->counts[i]);
			else
				fprintf(out, " %8s", "-");
		}
		fprintf(out, "\n");
	}
	fflush(out);
}

int ctng_testnet_run(const ctng_testnet_opts *o, ctng_err *err)
{
	FILE *out = o->out ? o->out : stdout;
	const ctng_testnet_scenario *s =
	    o->scenario_def ? o->scenario_def : ctng_testnet_scenario_find(o->scenario);
	if (!s)
		return ctng_err_set(err, CTNG_EINVAL, "unknown scenario '%s'", o->scenario);
	if (o->periods == 0 || o->periods > 100000)
		return ctng_err_set(err, CTNG_EINVAL, "--periods must be between 1 and 100000");

	char dirbuf[4096];
	const char *dir = o->network ? o->network : o->dir;
	if (o->network) {
		char path[4096];
		struct stat st;
		testnet_pathf(path, sizeof(path), "%s/network.json", o->network);
		if (stat(path, &st) != 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "--network %s: no network.json there (make one with ctng "
			                    "init --dir %s --dealer ...)",
			                    o->network, o->network);
	} else if (!dir) {
		snprintf(dirbuf, sizeof(dirbuf), "/tmp/ctng-testnet-%s-XXXXXX", s->name);
		if (!mkdtemp(dirbuf))
			return ctng_err_set(err, CTNG_EIO, "cannot create a folder under /tmp");
		dir = dirbuf;
	} else if (ctng_mkdir_p(dir, 0755, err)) {
		return CTNG_EIO;
	}
	char exe[4096];
	if (o->self_exe) {
		snprintf(exe, sizeof(exe), "%s", o->self_exe);
	} else {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			return ctng_err_set(err, CTNG_EIO, "cannot find the ctng binary");
		exe[n] = 0;
	}

	ctng_network net = {0};
	int rc = prepare_network(o, dir, &net, err);
	if (rc)
		return rc;
	rc = apply_faults(s, &net, dir, err);
	/* An https network: the run's own requests trust its test CA. */
	bool tls = false;
	for (size_t i = 0; i < net.n_entities; i++)
		tls |= net.entities[i].tls;
	char tls_ca[4096] = "";
	if (!rc && tls) {
		testnet_pathf(tls_ca, sizeof tls_ca, "%s/tls/ca.pem", dir);
		rc = ctng_net_set_default_tls_ca(tls_ca, err);
	}
	if (rc) {
		ctng_network_free(&net);
		return rc;
	}

	struct sigaction sa = {0}, old_int, old_term;
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	g_stop = 0;

	if (!o->json)
		fprintf(out, "ctng testnet: scenario %s (%s), %llu periods of %llu ms, folder %s\n",
		        s->name, s->summary, (unsigned long long)o->periods,
		        (unsigned long long)net.clock.period_ms, dir);
	fflush(out);

	testnet_dkg dkg = {0};
	if (!net.has_bls) {
		if ((rc = testnet_dkg_run(exe, dir, &net, &dkg, &g_stop, err))) {
			testnet_dkg_stop_rest(&dkg);
			sigaction(SIGINT, &old_int, NULL);
			sigaction(SIGTERM, &old_term, NULL);
			ctng_network_free(&net);
			return rc;
		}
		if (!o->json)
			fprintf(out,
			        "DKG: %zu gossipers, threshold %u, %zu qualified, group key %s..., done "
			        "in %llu ms (no dealer; every transcript verified, network.json "
			        "finalized)\n",
			        dkg.n, dkg.t, dkg.qualified, dkg.group_pk, (unsigned long long)dkg.ms);
		fflush(out);
	}

	proc *ps = calloc(net.n_entities, sizeof(*ps));
	size_t nps = 0;
	const char **gossipers = calloc(net.n_entities, sizeof(*gossipers));
	size_t ng = 0;
	ctng_buf failures = {0};
	size_t fails = 0;
	ctng_testnet_cell *cells = NULL;
	testnet_traffic traffic;
	testnet_traffic_init(&traffic, &net, dir, exe, s);
	traffic.tls_ca = tls_ca[0] ? tls_ca : NULL;
	testnet_load load = {0};
	if ((rc = testnet_load_init(&load, &net, dir, o->load, o->periods, err)))
		goto out;
	if (!ps || !gossipers) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < net.n_entities; i++) {
		const ctng_entity *e = &net.entities[i];
		if (!ctng_testnet_runs(s, e->id))
			continue;
		char cfg[4096], logp[4096];
		testnet_pathf(cfg, sizeof(cfg), "%s/%s/config.json", dir, e->id);
		testnet_pathf(logp, sizeof(logp), "%s/%s/daemon.log", dir, e->id);
		long skew = skew_of(s, &net, e->id);
		/* a gossiper is running since the DKG; one that runs with a skewed
		 * clock starts again under faketime */
		pid_t pid = skew ? 0 : testnet_dkg_take(&dkg, e->id);
		if (skew)
			testnet_dkg_stop_one(&dkg, e->id);
		if (pid == 0)
			pid = testnet_spawn(exe, ctng_role_name(e->role), cfg, logp, skew,
			                    o->wrap ? o->wrap(e, o->hook_arg) : NULL);
		if (pid < 0) {
			rc = ctng_err_set(err, CTNG_EIO, "cannot start %s", e->id);
			goto out;
		}
		ps[nps++] = (proc){e, pid};
		if (e->role == CTNG_ROLE_GOSSIPER)
			gossipers[ng++] = e->id;
	}
	testnet_dkg_stop_rest(&dkg); /* gossipers this scenario does not run */
	uint64_t deadline = ctng_mono_ms() + 15000 + 500 * (uint64_t)nps; /* big networks */
	for (size_t i = 0; i < nps; i++) {
		if (!testnet_wait_listening(ps[i].e, deadline)) {
			if (!g_stop)
				rc = ctng_err_set(
				    err, CTNG_EIO,
				    "%s did not start listening on %s (see %s/%s/daemon.log)",
				    ps[i].e->id, ps[i].e->url, dir, ps[i].e->id);
			goto out;
		}
	}

	if (!o->json) { /* the monitors' web pages (docs/monitor.md §7) */
		fprintf(out, "dashboards:");
		for (size_t i = 0; i < nps; i++)
			if (ps[i].e->role == CTNG_ROLE_MONITOR)
				fprintf(out, " %s/", ps[i].e->url);
		fprintf(out, "\n");
		fflush(out);
	}
	uint64_t now = ctng_now_ms(), first = 0;
	if (ctng_clock_period_of(&net.clock, now, &first))
		first += 1; /* the first whole period from now */
	cells = calloc(o->periods * (ng ? ng : 1), sizeof(*cells));
	if (!cells) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	if (!o->json)
		print_header(out);
	const ctng_clock *c = &net.clock;
	for (uint64_t k = 0; k < o->periods && !g_stop; k++) {
		uint64_t p = first + k;
		uint64_t start = ctng_clock_period_start(c, p);
		if (!sleep_until(start + c->query_offset_ms / 2))
			break;
		if (o->on_period)
			o->on_period(k, p, o->hook_arg);
		if (o->drive_traffic)
			testnet_traffic_period(&traffic, p, k);
		testnet_load_period(&load, &net);
		bool crash = s->kill && k == s->kill_k;
		if (crash) {
			if (!sleep_until(start + c->query_offset_ms + c->gossip_wait_ms / 2))
				break;
			kill_killed(s, ps, nps);
		}
		/* Counts are read after the update time, before the next period. */
		/* ... late enough for a monitor whose clock is behind by the
		 * tolerated skew (skewed-monitor) to have published. */
		uint64_t read_at =
		    start + c->update_offset_ms + (c->period_ms - c->update_offset_ms) * 3 / 4;
		if (!sleep_until(read_at))
			break;
		reap_dead(ps, nps, &failures, &fails);
		for (size_t g = 0; g < ng; g++) {
			ctng_testnet_cell *cell = &cells[k * ng + g];
			cell->period = p;
			const ctng_entity *e = ctng_network_entity(&net, gossipers[g]);
			cell->ok = testnet_fetch_counts(&traffic, e, p, cell->counts, &cell->con_full_held) == 0;
			print_cell(out, cell, gossipers[g], o->json);
		}
		testnet_mirror_period(&traffic, p, out, o->json);
		testnet_index_period(&traffic, p, out, o->json);
		testnet_collect_figures(&traffic, p, k);
		if (crash && restart_killed(s, ps, nps, exe, dir, err) != 0) {
			rc = CTNG_EIO;
			goto out;
		}
	}
	if (g_stop) {
		rc = ctng_err_set(err, CTNG_ESTATE, "interrupted; every process stopped");
		goto out;
	}
	testnet_search_check(&traffic); /* while the network still runs */
	ctng_testnet_obs obs = {o->periods, ng, gossipers, cells};
	if (o->network && !o->scenario_def) {
		ctng_testnet_scenario ds = *s; /* any topology: derived expectations */
		ds.con_full_total = CTNG_TESTNET_DERIVE;
		fails += ctng_testnet_check_derived(&ds, &net, &obs, &failures);
	} else {
		fails += ctng_testnet_check(s, &obs, &failures);
	}
	fails += testnet_traffic_check(&traffic, &failures);
	if (s->check_clients)
		fails += testnet_check_clients(&traffic, &failures);
	testnet_read_monitor_logs(&traffic, first, first + o->periods - 1);
	rc = fails ? 1 : 0;
	if (o->figures) {
		*o->figures = testnet_figures_json(&traffic);
		json_object_set_new(*o->figures, "load_submitted",
		                    json_integer((json_int_t)load.submitted));
		json_object_set_new(*o->figures, "load_failed", json_integer((json_int_t)load.failed));
	}
	if (o->json) {
		json_t *res = json_pack("{s:s}", "result", fails ? "fail" : "pass");
		json_t *arr = json_array();
		char *save = NULL;
		for (char *line = failures.data ? strtok_r((char *)failures.data, "\n", &save)
		                                : NULL;
		     line; line = strtok_r(NULL, "\n", &save))
			json_array_append_new(arr, json_string(line));
		json_object_set_new(res, "failures", arr);
		json_object_set_new(res, "figures", testnet_figures_json(&traffic));
		if (dkg.ran)
			json_object_set_new(res, "dkg",
			                    json_pack("{s:I, s:I, s:I, s:s}", "ms", (json_int_t)dkg.ms,
			                              "gossipers", (json_int_t)dkg.n, "qualified",
			                              (json_int_t)dkg.qualified, "group_pk",
			                              dkg.group_pk));
		char *txt = json_dumps(res, JSON_COMPACT);
		fprintf(out, "%s\n", txt ? txt : "{\"result\":\"fail\"}");
		free(txt);
		json_decref(res);
	} else {
		testnet_print_figures(&traffic, out);
		if (fails)
			fprintf(out, "\nFAIL: %zu check(s) did not hold:\n%s", fails,
			        failures.data ? (char *)failures.data : "");
		else
			fprintf(out, "\nPASS: every count matched scenario %s\n", s->name);
	}
out:
	testnet_dkg_stop_rest(&dkg);
	stop_all(ps, nps);
	testnet_traffic_free(&traffic);
	testnet_load_free(&load);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(cells);
	free(gossipers);
	free(ps);
	ctng_buf_free(&failures);
	ctng_network_free(&net);
	fflush(out);
	return rc;
}
