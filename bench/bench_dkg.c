/*
 * bench_dkg.c — `ctng bench dkg`: the figures of issue 12.
 *   dkg.inprocess  n = 4, 16, 64 participants (t = n/2 + 1) driven in one
 *                  process by the harness of tests/dkg/dkg_fixture.h (an
 *                  honest run): ns_per_op is the wall time of the whole DKG
 *                  (all participants, one thread), with the CPU time per
 *                  participant (max, avg; thread CPU clock around its own
 *                  state machine calls) and the bytes it sent (messages,
 *                  announcements, answers to fetches).
 *   dkg.loopback   n = 4 `ctng dkg run` processes over loopback HTTP: wall
 *                  time until the last one logged "DKG done" (from its own
 *                  start, so it includes finding the others), CPU per
 *                  process (getrusage of the child: start-up included),
 *                  bytes sent per process.
 * Each in-process size runs CTNG_BENCH_DKG_ROUNDS times (default 3; 1 for
 * n = 64) and reports the fastest round. Environment:
 * CTNG_BENCH_DKG_SIZES (comma list, default 4,16,64), CTNG_BENCH_DKG_PORT_BASE
 * (default 26600).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tests/dkg/dkg_fixture.h"
#include "bench.h"

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	uint64_t x;
	return v && ctng_parse_u64(v, UINT64_MAX, &x, NULL) == 0 ? x : dflt;
}

static int in_process(size_t n, unsigned rounds)
{
	uint32_t t = (uint32_t)(n / 2 + 1);
	dfx f;
	ctng_err e = {0};
	if (dfx_make(&f, n, t, NULL, &e)) {
		fprintf(stderr, "bench dkg: %s\n", e.msg);
		return 1;
	}
	uint64_t best_wall = UINT64_MAX, cpu_max = 0, cpu_sum = 0, b_max = 0, b_sum = 0;
	uint64_t proto_ms = 0;
	for (unsigned r = 0; r < rounds; r++) {
		dh h;
		if (dh_init(&h, &f, NULL, NULL, NULL, NULL, &e)) {
			fprintf(stderr, "bench dkg: %s\n", e.msg);
			dfx_free(&f);
			return 1;
		}
		uint64_t t0 = ctng_mono_ns();
		int rc = dh_run(&h, 600000);
		uint64_t wall = ctng_mono_ns() - t0;
		bool ok =
		    rc == 0 && dh_all_finished(&h) && ctng_dkg_sm_phase(h.sm[0]) == CTNG_DKG_DONE;
		if (!ok) {
			fprintf(stderr, "bench dkg: n=%zu did not finish\n", n);
			dh_free(&h);
			dfx_free(&f);
			return 1;
		}
		if (wall < best_wall) {
			best_wall = wall;
			cpu_max = cpu_sum = b_max = b_sum = 0;
			for (size_t i = 0; i < n; i++) {
				cpu_sum += h.cpu_ns[i];
				cpu_max = h.cpu_ns[i] > cpu_max ? h.cpu_ns[i] : cpu_max;
				b_sum += h.bytes_out[i];
				b_max = h.bytes_out[i] > b_max ? h.bytes_out[i] : b_max;
			}
			proto_ms = h.now - h.start;
		}
		dh_free(&h);
	}
	char extra[400];
	snprintf(extra, sizeof extra,
	         ",\"n\":%zu,\"t\":%u,\"rounds\":%u,\"cpu_ms_per_participant_max\":%.1f,"
	         "\"cpu_ms_per_participant_avg\":%.1f,\"bytes_sent_per_participant_avg\":%llu,"
	         "\"bytes_sent_per_participant_max\":%llu,\"protocol_ms\":%llu",
	         n, t, rounds, (double)cpu_max / 1e6, (double)cpu_sum / 1e6 / (double)n,
	         (unsigned long long)(b_sum / n), (unsigned long long)b_max,
	         (unsigned long long)proto_ms);
	ctng_bench_line_ns("dkg.inprocess", (double)best_wall, 1, extra);
	dfx_free(&f);
	return 0;
}

/* "ms=N bytes_out=M" of the "DKG done" line in a log. */
static bool done_line(const char *path, uint64_t *ms, uint64_t *bytes)
{
	uint8_t *d = NULL;
	size_t len = 0;
	if (ctng_read_file(path, 1 << 20, &d, &len, NULL))
		return false;
	const char *p = strstr((const char *)d, "msg=\"DKG done\"");
	bool ok = p && (p = strstr(p, " ms=")) &&
	          sscanf(p, " ms=%llu bytes_out=%llu", (unsigned long long *)ms,
	                 (unsigned long long *)bytes) == 2;
	free(d);
	return ok;
}

static int loopback(void)
{
	char dir[] = "/tmp/ctng-bench-dkg-XXXXXX", exe[4096], path[4200];
	if (!mkdtemp(dir))
		return 1;
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (el <= 0)
		return 1;
	exe[el] = 0;
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.dkg = true;
	o.dkg_phase_ms = 2000;
	o.port_base = (uint16_t)env_u64("CTNG_BENCH_DKG_PORT_BASE", 26600);
	ctng_err e = {0};
	int st = 1;
	if (ctng_init_network(dir, &o, &e)) {
		fprintf(stderr, "bench dkg: %s\n", e.msg);
		goto out;
	}
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		char cfg[4200];
		snprintf(cfg, sizeof cfg, "%s/gossiper%d/config.json", dir, i + 1);
		snprintf(path, sizeof path, "%s/gossiper%d.log", dir, i + 1);
		pids[i] = fork();
		if (pids[i] == 0) {
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execl(exe, exe, "dkg", "run", "--config", cfg, (char *)NULL);
			_exit(127);
		}
	}
	uint64_t cpu_max = 0, cpu_sum = 0, wall = 0, b_sum = 0, b_max = 0;
	bool ok = true;
	for (int i = 0; i < 4; i++) {
		int ws;
		struct rusage ru;
		if (pids[i] <= 0 || wait4(pids[i], &ws, 0, &ru) != pids[i] || !WIFEXITED(ws) ||
		    WEXITSTATUS(ws) != 0)
			ok = false;
		uint64_t cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
		               (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
		cpu_sum += cpu;
		cpu_max = cpu > cpu_max ? cpu : cpu_max;
		uint64_t ms = 0, b = 0;
		snprintf(path, sizeof path, "%s/gossiper%d.log", dir, i + 1);
		if (!done_line(path, &ms, &b))
			ok = false;
		wall = ms > wall ? ms : wall;
		b_sum += b;
		b_max = b > b_max ? b : b_max;
	}
	if (!ok) {
		fprintf(stderr, "bench dkg: the loopback DKG failed (logs in %s)\n", dir);
		return 1;
	}
	char extra[300];
	snprintf(extra, sizeof extra,
	         ",\"n\":4,\"t\":2,\"processes\":4,\"cpu_ms_per_process_max\":%.1f,"
	         "\"cpu_ms_per_process_avg\":%.1f,\"bytes_sent_per_participant_avg\":%llu,"
	         "\"bytes_sent_per_participant_max\":%llu",
	         (double)cpu_max / 1e3, (double)cpu_sum / 4e3, (unsigned long long)(b_sum / 4),
	         (unsigned long long)b_max);
	ctng_bench_line_ns("dkg.loopback", (double)wall * 1e6, 1, extra);
	st = 0;
out:
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		st = 1;
	return st;
}

int ctng_bench_dkg(void)
{
	const char *sizes = getenv("CTNG_BENCH_DKG_SIZES");
	char buf[128];
	snprintf(buf, sizeof buf, "%s", sizes ? sizes : "4,16,64");
	int st = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t n = 0;
		if (ctng_parse_u64(tok, DFX_MAX, &n, NULL) || n < 2) {
			fprintf(stderr, "bench dkg: bad size '%s' (2..%d)\n", tok, DFX_MAX);
			return 1;
		}
		unsigned rounds = (unsigned)env_u64("CTNG_BENCH_DKG_ROUNDS", n >= 64 ? 1 : 3);
		st |= in_process((size_t)n, rounds ? rounds : 1);
	}
	return st | loopback();
}
