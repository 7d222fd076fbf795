/*
 * report.c — what a simulation run prints (docs/sim.md §Output): per period
 * and gossiper the counts of every type (as GossipStorage.json), bytes in
 * and out, CPU charged and the time from the period start until it held its
 * last FULL (and the same for its monitor, plus the client update size);
 * the checks (ctng testnet's scenario rules, derived from the topology and
 * the faults); a summary line per run. Only the virtual clock appears in the
 * output, so a run prints the same bytes every time; the wall-clock speed
 * goes to the progress stream.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/testnet.h"
#include "sim/sim_internal.h"

static FILE *out_of(const sim *s)
{
	return s->opts->out ? s->opts->out : stdout;
}

static void print_header(FILE *f)
{
	fprintf(f, "%-7s %-12s", "period", "gossiper");
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		fprintf(f, " %8s", ctng_type_name(ctng_all_types[i]));
	fprintf(f, " %9s %9s %9s %9s\n", "bytes_in", "bytes_out", "cpu_ms", "full_ms");
}

static void json_node(FILE *f, const sim_stats *st)
{
	fprintf(f,
	        "\"bytes\": {\"in\": %" PRIu64 ", \"out\": %" PRIu64 "}, \"cpu_us\": %" PRIu64
	        ", \"fulls\": %" PRIu64 ", \"last_full_us\": %" PRIu64 ", \"bls_verify\": %" PRIu64,
	        st->bytes_in, st->bytes_out, st->cpu_us, st->fulls, st->last_full_us,
	        st->ops[CTNG_METER_BLS_VERIFY]);
}

void sim_report_period(sim *s, size_t k)
{
	FILE *f = out_of(s);
	if (s->opts->quiet)
		return;
	if (k == 0 && !s->opts->json)
		print_header(f);
	for (size_t g = 0; g < s->n_gossipers; g++) {
		sim_node *n = &s->nodes[s->gossipers[g]];
		size_t cell = k * s->n_gossipers + g;
		const uint64_t *c = s->counts[cell];
		const sim_stats *st = &n->stats[k];
		if (s->opts->json) {
			fprintf(f, "{\"period\": %zu, \"gossiper\": \"%s\", \"counts\": {", k, n->e->id);
			for (int i = 0; i < CTNG_TYPE_COUNT; i++)
				fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "",
				        ctng_type_name(ctng_all_types[i]), c[i]);
			fprintf(f, "}, ");
			json_node(f, st);
			if (n->partner != SIZE_MAX) {
				const sim_node *m = &s->nodes[n->partner];
				fprintf(f, ", \"monitor\": {\"id\": \"%s\", ", m->e->id);
				json_node(f, &m->stats[k]);
				fprintf(f,
				        ", \"update_bytes\": %" PRIu64 ", \"last_sth_full_us\": %" PRIu64
				        ", \"last_held_us\": %" PRIu64 ", \"mirror_bytes\": {\"in\": %" PRIu64
				        ", \"out\": %" PRIu64 "}}",
				        m->stats[k].update_bytes, m->stats[k].last_sth_full_us,
				        m->stats[k].last_held_us, m->stats[k].mirror_bytes_in,
				        m->stats[k].mirror_bytes_out);
			}
			fprintf(f, "%s}\n", s->counted[cell] ? "" : ", \"error\": \"down\"");
			continue;
		}
		fprintf(f, "%-7zu %-12s", k, n->e->id);
		for (int i = 0; i < CTNG_TYPE_COUNT; i++) {
			if (s->counted[cell])
				fprintf(f, " %8" PRIu64, c[i]);
			else
				fprintf(f, " %8s", "-");
		}
		fprintf(f, " %9" PRIu64 " %9" PRIu64 " %9.1f %9.1f\n", st->bytes_in, st->bytes_out,
		        (double)st->cpu_us / 1000.0, (double)st->last_full_us / 1000.0);
	}
	fflush(f);
}

/* ---------------------------------------------------------------- checks */

void sim_check(sim *s)
{
	const ctng_sim_scenario *sc = s->sc;
	/* every running monitor publishes an update in every period it was up */
	for (size_t i = 0; i < s->n_nodes; i++) {
		sim_node *n = &s->nodes[i];
		if (!n->running || n->e->role != CTNG_ROLE_MONITOR)
			continue;
		for (size_t k = 0; k < s->periods; k++)
			if (!n->stats[k].had_update && !n->stats[k].down)
				sim_fail(s, "period %zu %s: no client update published", k, n->e->id);
	}
	if (!sc->check)
		return;
	const char **running = NULL, **gids = NULL;
	ctng_testnet_fault *faults = calloc(sc->n_faults ? sc->n_faults : 1, sizeof(*faults));
	const char ***targets = calloc(sc->n_faults ? sc->n_faults : 1, sizeof(*targets));
	ctng_testnet_cell *cells = calloc(s->periods * (s->n_gossipers ? s->n_gossipers : 1),
	                                  sizeof(*cells));
	ctng_testnet_expect *table = sc->n_expect ? calloc(sc->n_expect, sizeof(*table)) : NULL;
	gids = calloc(s->n_gossipers ? s->n_gossipers : 1, sizeof(*gids));
	if (sc->running)
		running = calloc(sc->n_running + 1, sizeof(*running));
	bool ok = faults && targets && cells && gids && (!sc->running || running) &&
	          (!sc->n_expect || table);
	for (size_t i = 0; ok && i < sc->n_running; i++)
		running[i] = sc->running[i];
	for (size_t i = 0; ok && i < sc->n_faults; i++) {
		const ctng_sim_fault *x = &sc->faults[i];
		faults[i] = (ctng_testnet_fault){.id = x->id,
		                                 .split_view = x->split_view,
		                                 .silent = x->silent,
		                                 .answer_periods_mod = x->answer_periods_mod,
		                                 .hide_entry = x->hide_entry,
		                                 .hidden_index = x->hidden_index,
		                                 .wrong_data = x->wrong_data};
		targets[i] = calloc(x->n_split_targets + 1, sizeof(char *));
		ok = targets[i] != NULL;
		for (size_t t = 0; ok && t < x->n_split_targets; t++)
			targets[i][t] = x->split_targets[t];
		faults[i].split_targets = ok ? targets[i] : NULL;
	}
	for (size_t i = 0; ok && i < sc->n_expect; i++)
		table[i] = (ctng_testnet_expect){sc->expect[i].sth_full, sc->expect[i].rev_full,
		                                 sc->expect[i].acc_full, sc->expect[i].acc};
	for (size_t g = 0; ok && g < s->n_gossipers; g++) {
		sim_node *n = &s->nodes[s->gossipers[g]];
		gids[g] = n->e->id;
		for (size_t k = 0; k < s->periods; k++) {
			ctng_testnet_cell *c = &cells[k * s->n_gossipers + g];
			size_t cell = k * s->n_gossipers + g;
			c->period = k;
			c->ok = s->counted[cell];
			/* a node down during the period (or its monitor) is not checked */
			c->skip = n->stats[k].down ||
			          (n->partner != SIZE_MAX && s->nodes[n->partner].stats[k].down);
			memcpy(c->counts, s->counts[cell], sizeof(c->counts));
		}
	}
	if (ok) {
		ctng_testnet_scenario ts = {.name = sc->name,
		                            .summary = sc->summary,
		                            .running = sc->running ? running : NULL,
		                            .faults = faults,
		                            .n_faults = sc->n_faults,
		                            .con_full_total = sc->con_full_total >= 0
		                                                  ? sc->con_full_total
		                                                  : CTNG_TESTNET_DERIVE,
		                            .kill_k = SIZE_MAX,
		                            .table = table,
		                            .n_table = sc->n_expect};
		ctng_testnet_obs obs = {s->periods, s->n_gossipers, gids, cells};
		ctng_buf f = {0};
		size_t n = ctng_testnet_check_derived(&ts, &s->net, &obs, &f);
		if (n) {
			ctng_buf_append(&s->failures, f.data, f.len);
			s->n_failures += n;
		}
		ctng_buf_free(&f);
	} else {
		sim_fail(s, "out of memory while checking");
	}
	for (size_t i = 0; targets && i < sc->n_faults; i++)
		free(targets[i]);
	free(targets);
	free(faults);
	free(cells);
	free(table);
	free(gids);
	free(running);
}

/* --------------------------------------------------------------- summary */

void sim_summarize(sim *s, ctng_sim_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->gossipers = s->n_gossipers;
	sum->periods = s->periods;
	const ctng_clock *c = &s->net.clock;
	double wait_us = (double)(c->query_offset_ms + c->gossip_wait_ms) * 1000.0;
	size_t ng = 0, nm = 0, nu = 0;
	double conv_sum = 0, bytes_sum = 0, cpu_sum = 0, ver_sum = 0, upd_sum = 0, total = 0;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const sim_node *n = &s->nodes[i];
		if (!n->running)
			continue;
		for (size_t k = 0; k < s->periods; k++) {
			const sim_stats *st = &n->stats[k];
			if (n->e->role == CTNG_ROLE_GOSSIPER || n->e->role == CTNG_ROLE_MONITOR)
				total += (double)st->bytes_out;
			if (st->down)
				continue;
			if (n->e->role == CTNG_ROLE_GOSSIPER) {
				double b = (double)(st->bytes_in + st->bytes_out);
				double cpu = (double)st->cpu_us / 1000.0;
				bytes_sum += b;
				cpu_sum += cpu;
				ver_sum += (double)st->ops[CTNG_METER_BLS_VERIFY];
				if (b > sum->bytes_max)
					sum->bytes_max = b;
				if (cpu > sum->cpu_ms_max)
					sum->cpu_ms_max = cpu;
				ng++;
			} else if (n->e->role == CTNG_ROLE_MONITOR) {
				if (st->fulls) {
					double conv = ((double)st->last_full_us - wait_us) / 1000.0;
					conv_sum += conv;
					if (nm == 0 || conv > sum->conv_ms_max)
						sum->conv_ms_max = conv;
					nm++;
				}
				if (st->had_update) {
					upd_sum += (double)st->update_bytes;
					nu++;
				}
			}
		}
	}
	size_t nsf = 0, nh = 0;
	for (size_t k = 0; k < s->periods; k++) {
		uint64_t sf = 0, h = 0;
		bool any_sf = false, any_h = false;
		for (size_t i = 0; i < s->n_nodes; i++) {
			const sim_node *n = &s->nodes[i];
			const sim_stats *st = &n->stats[k];
			if (!n->running || n->e->role != CTNG_ROLE_MONITOR || st->down)
				continue;
			if (st->sth_fulls && (any_sf = true) && st->last_sth_full_us > sf)
				sf = st->last_sth_full_us;
			if (st->helds && (any_h = true) && st->last_held_us > h)
				h = st->last_held_us;
		}
		if (any_sf) {
			sum->sth_full_ms_avg += (double)sf / 1000.0;
			if ((double)sf / 1000.0 > sum->sth_full_ms_max)
				sum->sth_full_ms_max = (double)sf / 1000.0;
			nsf++;
		}
		if (any_h) {
			sum->held_ms_avg += (double)h / 1000.0;
			if ((double)h / 1000.0 > sum->held_ms_max)
				sum->held_ms_max = (double)h / 1000.0;
			nh++;
		}
	}
	sum->sth_full_ms_avg = nsf ? sum->sth_full_ms_avg / (double)nsf : 0;
	sum->held_ms_avg = nh ? sum->held_ms_avg / (double)nh : 0;
	sum->conv_ms_avg = nm ? conv_sum / (double)nm : 0;
	sum->bytes_avg = ng ? bytes_sum / (double)ng : 0;
	sum->cpu_ms_avg = ng ? cpu_sum / (double)ng : 0;
	sum->bls_verify_avg = ng ? ver_sum / (double)ng : 0;
	sum->update_bytes_avg = nu ? upd_sum / (double)nu : 0;
	sum->total_bytes_per_period = total / (double)s->periods;
	sum->sim_seconds = (double)s->end / 1e6;
	sum->wall_seconds = (double)(ctng_mono_ns() - s->wall_start_ns) / 1e9;
	sum->failures = s->n_failures;
}

int sim_report_result(sim *s, ctng_sim_summary *out)
{
	ctng_sim_summary sum;
	sim_summarize(s, &sum);
	if (out)
		*out = sum;
	FILE *f = out_of(s);
	const ctng_clock *c = &s->net.clock;
	const char *name = s->sc->name ? s->sc->name : "custom";
	if (s->opts->json) {
		fprintf(f, "{\"result\": \"%s\", \"failures\": [", s->n_failures ? "fail" : "pass");
		size_t i = 0;
		for (char *p = (char *)s->failures.data; p && *p; i++) {
			char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);
			fprintf(f, "%s\"%.*s\"", i ? ", " : "", (int)l, p);
			p += l + (nl ? 1 : 0);
		}
		fprintf(f,
		        "], \"summary\": {\"scenario\": \"%s\", \"seed\": %" PRIu64
		        ", \"periods\": %" PRIu64 ", \"gossipers\": %" PRIu64
		        ", \"threshold\": %u, \"conv_ms_avg\": %.3f, \"conv_ms_max\": %.3f, "
		        "\"bytes_avg\": %.1f, \"bytes_max\": %.0f, \"cpu_ms_avg\": %.3f, "
		        "\"cpu_ms_max\": %.3f, \"bls_verify_avg\": %.2f, \"update_bytes_avg\": %.1f, "
		        "\"total_bytes_per_period\": %.0f, \"sth_full_ms_avg\": %.3f, "
		        "\"sth_full_ms_max\": %.3f, \"held_ms_avg\": %.3f, \"held_ms_max\": %.3f, "
		        "\"sim_seconds\": %.3f}}\n",
		        name, s->sc->seed, sum.periods, sum.gossipers, s->net.threshold,
		        sum.conv_ms_avg, sum.conv_ms_max, sum.bytes_avg, sum.bytes_max, sum.cpu_ms_avg,
		        sum.cpu_ms_max, sum.bls_verify_avg, sum.update_bytes_avg,
		        sum.total_bytes_per_period, sum.sth_full_ms_avg, sum.sth_full_ms_max,
		        sum.held_ms_avg, sum.held_ms_max, sum.sim_seconds);
	} else {
		fprintf(f,
		        "\nsim %s (seed %" PRIu64 "): %" PRIu64 " periods of %" PRIu64
		        " ms, %" PRIu64 " gossipers, threshold %u, %zu certificates issued, %zu "
		        "revoked\n",
		        name, s->sc->seed, sum.periods, c->period_ms, sum.gossipers, s->net.threshold,
		        s->certs_issued, s->certs_revoked);
		fprintf(f,
		        "convergence: last FULL at a monitor %.1f ms after the gossip wait on "
		        "average, %.1f at most (query %" PRIu64 " + wait %" PRIu64 " ms)\n",
		        sum.conv_ms_avg, sum.conv_ms_max, c->query_offset_ms, c->gossip_wait_ms);
		fprintf(f,
		        "STH_FULL at the slowest monitor %.1f ms after the period start on "
		        "average, %.1f at most; its mirror held every tree by %.1f ms (%.1f at "
		        "most)\n",
		        sum.sth_full_ms_avg, sum.sth_full_ms_max, sum.held_ms_avg, sum.held_ms_max);
		fprintf(f,
		        "gossip traffic per gossiper per period (in+out): %.0f bytes on average, "
		        "%.0f at most\n",
		        sum.bytes_avg, sum.bytes_max);
		fprintf(f,
		        "CPU per gossiper per period: %.1f ms on average, %.1f at most (%.1f BLS "
		        "verifications); client update %.0f bytes; all traffic %.0f bytes per "
		        "period\n",
		        sum.cpu_ms_avg, sum.cpu_ms_max, sum.bls_verify_avg, sum.update_bytes_avg,
		        sum.total_bytes_per_period);
		if (s->n_failures)
			fprintf(f, "\nFAIL: %zu check(s) did not hold:\n%s", s->n_failures,
			        s->failures.data ? (char *)s->failures.data : "");
		else
			fprintf(f, "\nPASS: every count matched scenario %s\n", name);
	}
	fflush(f);
	FILE *pg = s->opts->progress ? s->opts->progress : stderr;
	fprintf(pg,
	        "ctng sim: %.1f simulated seconds in %.2f s wall (%.1fx real time), %" PRIu64
	        " events, %" PRIu64 " verifications remembered\n",
	        sum.sim_seconds, sum.wall_seconds,
	        sum.wall_seconds > 0 ? sum.sim_seconds / sum.wall_seconds : 0, s->events,
	        s->meter.memo_hits);
	return s->n_failures ? 1 : 0;
}
