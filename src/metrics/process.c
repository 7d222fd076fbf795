/*
 * process.c — the standard process metrics of Prometheus client libraries
 * (start time, CPU seconds, resident memory, open and maximum file
 * descriptors), read from /proc at each render, and ctng_build_info.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ctng/metrics.h"
#include "metrics_internal.h"

struct proc_metrics {
	ctng_metric *start, *cpu, *rss, *fds, *max_fds;
};

/* Boot time in seconds since the epoch, from /proc/stat's btime line. */
static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double bt = 0;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "btime ", 6) == 0) {
			bt = strtod(line + 6, NULL);
			break;
		}
	if (f)
		fclose(f);
	return bt;
}

static void collect(ctng_metrics *reg, void *arg)
{
	(void)reg;
	struct proc_metrics *pm = arg;
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	/* Fields after the command name, which is in parentheses and may hold
	 * spaces: state(3) ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24). */
	char *p = strrchr(buf, ')');
	double tick = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	if (p && tick > 0) {
		unsigned long long v[24] = {0};
		int field = 3;
		for (char *tok = strtok(p + 1, " "); tok && field <= 24; tok = strtok(NULL, " "))
			v[field++ - 1] = strtoull(tok, NULL, 10);
		ctng_metric_set_raw(pm->cpu, NULL, (double)(v[13] + v[14]) / tick);
		ctng_gauge_set(pm->rss, NULL, (double)v[23] * page);
		double bt = boot_time();
		if (bt > 0)
			ctng_gauge_set(pm->start, NULL, bt + (double)v[21] / tick);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		double nfd = 0;
		for (struct dirent *e; (e = readdir(d));)
			if (e->d_name[0] != '.')
				nfd++;
		closedir(d);
		ctng_gauge_set(pm->fds, NULL, nfd - 1); /* minus the one opendir holds */
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		ctng_gauge_set(pm->max_fds, NULL, (double)rl.rlim_cur);
}

int ctng_metrics_process(ctng_metrics *reg, const char *role, const char *node, ctng_err *err)
{
	/* The hook's argument is freed with the registry. */
	struct proc_metrics *pm = calloc(1, sizeof *pm);
	if (!pm)
		return ctng_err_set(err, CTNG_ENOMEM, "metrics: out of memory");
	ctng_metric *info;
	if (!(pm->start = ctng_metrics_gauge(reg, "process_start_time_seconds",
	                                     "Start time of the process since the Unix epoch.",
	                                     NULL, err)) ||
	    !(pm->cpu =
	          ctng_metrics_counter(reg, "process_cpu_seconds_total",
	                               "User and system CPU time spent, in seconds.", NULL, err)) ||
	    !(pm->rss = ctng_metrics_gauge(reg, "process_resident_memory_bytes",
	                                   "Resident memory size in bytes.", NULL, err)) ||
	    !(pm->fds = ctng_metrics_gauge(reg, "process_open_fds",
	                                   "Number of open file descriptors.", NULL, err)) ||
	    !(pm->max_fds = ctng_metrics_gauge(
	          reg, "process_max_fds", "Maximum number of open file descriptors.", NULL, err)) ||
	    !(info = ctng_metrics_gauge(reg, "ctng_build_info",
	                                "Always 1; labels name the version, git commit, role "
	                                "and node id of this process.",
	                                "version,commit,role,node", err))) {
		free(pm);
		return err ? err->code : CTNG_EINVAL;
	}
	ctng_gauge_set(
	    info,
	    CTNG_LABELS(ctng_version(), ctng_build_commit(), role ? role : "", node ? node : ""),
	    1);
	int rc = ctng_metrics_on_collect(reg, collect, pm, free, err);
	if (rc)
		free(pm);
	return rc;
}
