/* cmd_sim_sweep.c — `ctng sim sweep`: one simulation per value of one
 * parameter (n, t, loggers, load, latency, loss), a table of the figures on
 * stdout and, in --out DIR, the table (sweep.dat), a gnuplot script
 * (sweep.gp) and the plot it draws (sweep.svg: convergence and bytes per
 * gossiper against the parameter). docs/sim.md §Sweep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "ctng/sim.h"

int ctng_cli_sim_sweep(int argc, char **argv);
int ctng_cli_sim_flag(const char *cmd, int argc, char **argv, int *i, ctng_sim_scenario *s,
                      bool *threshold_set);

#define MAX_VALUES 64

static const char *const params[] = {"n", "t", "loggers", "load", "latency", "loss", NULL};

static int param_index(const char *p)
{
	for (int i = 0; params[i]; i++)
		if (!strcmp(params[i], p))
			return i;
	return -1;
}

/* Applies value v of parameter p to the scenario. */
static void apply(ctng_sim_scenario *s, int p, double v, bool threshold_set)
{
	switch (p) {
	case 0:
		s->monitors = (uint32_t)v;
		if (!threshold_set)
			s->threshold = s->monitors / 2 + 1;
		break;
	case 1:
		s->threshold = (uint32_t)v;
		break;
	case 2:
		s->loggers = (uint32_t)v;
		s->cas = (uint32_t)v;
		break;
	case 3:
		s->certs_per_ca = (uint32_t)v;
		s->traffic_periods = (uint32_t)s->periods;
		break;
	case 4:
		s->latency = (ctng_sim_dist){CTNG_SIM_FIXED, v, 0};
		break;
	default:
		s->loss = v;
		break;
	}
}

static const char *axis_label(int p)
{
	static const char *const l[] = {"gossipers n",       "threshold t",
	                                "loggers (and CAs)", "certificates per CA per period",
	                                "link latency (ms)", "request loss"};
	return l[p];
}

static int write_plot(const char *dir, int p, const char *title)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/sweep.gp", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
	        "# gnuplot script written by ctng sim sweep: gnuplot sweep.gp -> sweep.svg\n"
	        "set terminal svg size 960,420 dynamic enhanced font 'sans,11'\n"
	        "set output 'sweep.svg'\n"
	        "set multiplot layout 1,2 title \"%s\"\n"
	        "set key top left\nset grid\nset xlabel '%s'\n%s"
	        "set ylabel 'ms after the gossip wait'\n"
	        "set title 'convergence (last FULL at a monitor)'\n"
	        "plot 'sweep.dat' using 1:2 with linespoints title 'average', \\\n"
	        "     '' using 1:3 with linespoints title 'slowest'\n"
	        "set ylabel 'bytes per gossiper per period (in+out)'\n"
	        "set title 'gossip traffic'\n"
	        "plot 'sweep.dat' using 1:4 with linespoints title 'average', \\\n"
	        "     '' using 1:5 with linespoints title 'most'\n"
	        "unset multiplot\n",
	        title, axis_label(p), p == 0 ? "set logscale x 2\n" : "");
	fclose(f);
	char cmd[8600];
	snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot sweep.gp", dir);
	return strchr(dir, '\'') ? -1 : system(cmd);
}

int ctng_cli_sim_sweep(int argc, char **argv)
{
	const char *cmd = "sim sweep";
	const char *scenario = NULL, *param = NULL, *values = NULL, *out = NULL;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
			scenario = argv[i + 1];
	ctng_err e = {0};
	ctng_sim_scenario *base = NULL;
	int rc = scenario ? ctng_sim_scenario_load(scenario, &base, &e)
	                  : ctng_sim_scenario_new(&base, &e);
	if (rc)
		return ctng_cli_usage_error(cmd, "%s", e.msg);
	bool threshold_set = false;
	int status = 0;
	for (int i = 1; i < argc && !status; i++) {
		const char *v;
		int f;
		if ((v = ctng_cli_flag(argc, argv, &i, "--scenario")))
			continue;
		if ((v = ctng_cli_flag(argc, argv, &i, "--param")))
			param = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--values")))
			values = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--out")))
			out = v;
		else if ((f = ctng_cli_sim_flag(cmd, argc, argv, &i, base, &threshold_set)) > 1)
			status = f - 2;
		else if (f == 0)
			status = ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
	}
	int p = param ? param_index(param) : -1;
	if (!status && p < 0)
		status = ctng_cli_usage_error(cmd, "--param %s%s: one of n, t, loggers, load, "
		                                   "latency, loss",
		                              param ? param : "", param ? " unknown" : " is required");
	double vals[MAX_VALUES];
	size_t nv = 0;
	for (const char *c = values; !status && c && *c; nv++) {
		char *end = NULL;
		double x = strtod(c, &end);
		bool whole = p <= 3;
		if (nv == MAX_VALUES || end == c || (*end && *end != ',') || !(x >= 0) ||
		    (whole && (x != (double)(uint64_t)x || x < (p == 3 ? 0 : 1) || x > 999)) ||
		    (p == 5 && x > 1) || (p == 4 && x > 3.6e6)) {
			status = ctng_cli_usage_error(cmd, "--values: a comma-separated list of %s",
			                              whole ? "whole numbers" : "numbers");
			break;
		}
		vals[nv] = x;
		c = *end ? end + 1 : end;
	}
	if (!status && !nv)
		status = ctng_cli_usage_error(cmd, "--values V1,V2,... is required");
	if (status) {
		ctng_sim_scenario_free(base);
		return status;
	}
	if (ctng_log_get_level() < CTNG_LOG_ERROR)
		ctng_log_set_level(CTNG_LOG_OFF);
	FILE *dat = NULL, *null = fopen("/dev/null", "w");
	char path[4200];
	if (out) {
		if (mkdir(out, 0755) && errno != EEXIST) {
			ctng_sim_scenario_free(base);
			return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "cannot create %s", out);
		}
		snprintf(path, sizeof path, "%s/sweep.dat", out);
		dat = fopen(path, "w");
	}
	const char *hdr = "conv_avg_ms conv_max_ms bytes_avg bytes_max cpu_avg_ms cpu_max_ms "
	                  "verify_avg update_bytes total_bytes result sim_s wall_s";
	printf("# ctng sim sweep: scenario %s, %s = ", base->name, params[p]);
	for (size_t i = 0; i < nv; i++)
		printf("%s%g", i ? "," : "", vals[i]);
	printf("\n%-8s %s\n", params[p], hdr);
	if (dat)
		fprintf(dat, "# %s %s\n", params[p], hdr);
	int worst = CTNG_EXIT_OK;
	for (size_t i = 0; i < nv; i++) {
		ctng_sim_scenario *s = NULL;
		rc = scenario ? ctng_sim_scenario_load(scenario, &s, &e) : ctng_sim_scenario_new(&s, &e);
		if (rc)
			break;
		/* the same flags again on a fresh copy, then the value */
		bool ts = false;
		for (int a = 1; a < argc; a++)
			if (strcmp(argv[a], "--param") && strcmp(argv[a], "--values") &&
			    strcmp(argv[a], "--out") && strcmp(argv[a], "--scenario"))
				ctng_cli_sim_flag(cmd, argc, argv, &a, s, &ts);
			else if (!strchr(argv[a], '='))
				a++; /* and its value */
		if (!scenario && !ts)
			s->threshold = s->monitors / 2 + 1;
		apply(s, p, vals[i], ts);
		if (s->threshold > s->monitors)
			s->threshold = s->monitors;
		ctng_sim_opts o;
		ctng_sim_opts_default(&o);
		o.quiet = true;
		o.out = null;
		ctng_sim_summary sum;
		rc = ctng_sim_run(s, &o, &sum, &e);
		ctng_sim_scenario_free(s);
		if (rc < 0) {
			worst = ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s = %g: %s", params[p], vals[i],
			                      e.msg);
			break;
		}
		if (rc)
			worst = CTNG_EXIT_INVALID;
		char row[512];
		snprintf(row, sizeof row,
		         "%-8g %.1f %.1f %.0f %.0f %.2f %.2f %.1f %.0f %.0f %s %.1f %.2f", vals[i],
		         sum.conv_ms_avg, sum.conv_ms_max, sum.bytes_avg, sum.bytes_max, sum.cpu_ms_avg,
		         sum.cpu_ms_max, sum.bls_verify_avg, sum.update_bytes_avg,
		         sum.total_bytes_per_period, rc ? "fail" : "pass", sum.sim_seconds,
		         sum.wall_seconds);
		printf("%s\n", row);
		fflush(stdout);
		if (dat) {
			fprintf(dat, "%s\n", row);
			fflush(dat);
		}
	}
	if (null)
		fclose(null);
	if (dat) {
		fclose(dat);
		char title[256];
		snprintf(title, sizeof title, "ctng sim sweep: %s", base->name);
		if (write_plot(out, p, title) != 0)
			worst = ctng_cli_fail(CTNG_EXIT_INVALID, cmd,
			                      "gnuplot failed (scripts/deps.sh installs it); the table "
			                      "is in %s/sweep.dat",
			                      out);
		else
			printf("# plot: %s/sweep.svg (table %s/sweep.dat)\n", out, out);
	}
	ctng_sim_scenario_free(base);
	return worst;
}
