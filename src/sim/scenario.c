/*
 * scenario.c — simulation scenarios (docs/sim.md §Scenario): the defaults,
 * the strict parser of scenario files (every member optional, unknown
 * members rejected, numbers range-checked, ids checked as ids), the shipped
 * scenarios compiled into the binary from scenarios/NAME.json, and the cost
 * table measured on this machine.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

/* scenarios/NAME.json, embedded by CMake (sim_scenarios.c, generated). */
extern const char *const ctng_sim_embedded_names[];
extern const char *const ctng_sim_embedded_texts[];
extern const size_t ctng_sim_embedded_count;

void ctng_sim_costs_default(ctng_sim_costs *c)
{
	/* `ctng bench bls` and `ctng sim --calibrate` on the development machine
	 * (2 cores, Release, minimum of several rounds; docs/sim.md §Costs). */
	memset(c, 0, sizeof(*c));
	c->op_us[CTNG_METER_BLS_SIGN] = 240;
	c->op_us[CTNG_METER_BLS_VERIFY] = 1310;
	c->op_us[CTNG_METER_BLS_COMBINE] = 150;
	c->op_us[CTNG_METER_BLS_COMBINE_SHARE] = 85;
	c->op_us[CTNG_METER_BLS_BATCH_ITEM] = 300;
	c->op_us[CTNG_METER_ECDSA_SIGN] = 30;
	c->op_us[CTNG_METER_ECDSA_VERIFY] = 80;
	c->op_us[CTNG_METER_ED25519_SIGN] = 30;
	c->op_us[CTNG_METER_ED25519_VERIFY] = 70;
	c->object_us = 30;
	c->store_us = 0;
	c->byte_ns = 3;
	/* a mirrored entry: bundle parse, leaf hash, SQLite and the index
	 * (docs/monitor.md §10: 42k entries/s ingested with the index) */
	c->entry_us = 24;
}

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

int ctng_sim_scenario_new(ctng_sim_scenario **out, ctng_err *err)
{
	ctng_sim_scenario *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = dupstr("custom")) || !(s->summary = dupstr(""))) {
		ctng_sim_scenario_free(s);
		*out = NULL;
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	s->loggers = 3;
	s->cas = 3;
	s->monitors = 4;
	s->threshold = 2;
	s->period_ms = 2000;
	s->periods = 4;
	s->seed = 1;
	s->latency = (ctng_sim_dist){CTNG_SIM_FIXED, 0.2, 0};
	s->pair_latency = (ctng_sim_dist){CTNG_SIM_FIXED, 0.1, 0};
	s->bandwidth_mbps = 1000;
	s->overhead_bytes = 200;
	s->certs_per_ca = 1;
	s->traffic_periods = 2;
	s->revoke_first = true;
	s->check = true;
	s->con_full_total = -1;
	ctng_sim_costs_default(&s->costs);
	*out = s;
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void ctng_sim_scenario_free(ctng_sim_scenario *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->summary);
	free_list(s->running, s->n_running);
	for (size_t i = 0; i < s->n_faults; i++) {
		free(s->faults[i].id);
		free_list(s->faults[i].split_targets, s->faults[i].n_split_targets);
	}
	free(s->faults);
	for (size_t i = 0; i < s->n_partitions; i++) {
		for (size_t g = 0; g < s->partitions[i].n_groups; g++)
			free_list(s->partitions[i].groups[g], s->partitions[i].n_members[g]);
		free(s->partitions[i].groups);
		free(s->partitions[i].n_members);
	}
	free(s->partitions);
	for (size_t i = 0; i < s->n_crashes; i++)
		free_list(s->crashes[i].ids, s->crashes[i].n_ids);
	free(s->crashes);
	free(s->expect);
	free(s);
}

/* ---------------------------------------------------------------- parser */

static int check_keys(const json_t *o, const char *where, const char *const *keys, ctng_err *err)
{
	if (!json_is_object(o))
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be an object", where);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		bool known = false;
		for (size_t i = 0; keys[i] && !known; i++)
			known = strcmp(keys[i], k) == 0;
		if (!known)
			return ctng_err_set(err, CTNG_EINVAL, "%s: unknown member \"%.64s\"", where, k);
	}
	return 0;
}

static int get_u64(const json_t *o, const char *where, const char *key, uint64_t min,
                   uint64_t max, uint64_t *out, ctng_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return ctng_err_set(err, CTNG_EINVAL, "%s.%s: must be an integer in %llu..%llu", where,
		                    key, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_u32(const json_t *o, const char *where, const char *key, uint32_t min,
                   uint32_t max, uint32_t *out, ctng_err *err)
{
	uint64_t v = *out;
	int rc = get_u64(o, where, key, min, max, &v, err);
	*out = (uint32_t)v;
	return rc;
}

static int get_num(const json_t *v, const char *where, double min, double max, double *out,
                   ctng_err *err)
{
	if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < min ||
	    json_number_value(v) > max)
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be a number in %g..%g", where, min,
		                    max);
	*out = json_number_value(v);
	return 0;
}

static int get_bool(const json_t *o, const char *where, const char *key, bool *out, ctng_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s.%s: must be true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

static int get_str(const json_t *o, const char *where, const char *key, size_t max, char **out,
                   ctng_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max)
		return ctng_err_set(err, CTNG_EINVAL, "%s.%s: must be a string of at most %zu bytes",
		                    where, key, max);
	char *d = strdup(json_string_value(v));
	if (!d)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	free(*out);
	*out = d;
	return 0;
}

/* An array of entity ids. */
static int get_ids(const json_t *v, const char *where, char ***out, size_t *n, ctng_err *err)
{
	if (!json_is_array(v) || json_array_size(v) > CTNG_CONFIG_MAX_ENTITIES)
		return ctng_err_set(err, CTNG_EINVAL, "%s: must be an array of entity ids", where);
	size_t k = json_array_size(v);
	char **ids = calloc(k ? k : 1, sizeof(*ids));
	if (!ids)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < k; i++) {
		json_t *e = json_array_get(v, i);
		if (!json_is_string(e) || !ctng_id_valid(json_string_value(e)) ||
		    !(ids[i] = strdup(json_string_value(e)))) {
			free_list(ids, i);
			return ctng_err_set(err, json_is_string(e) ? CTNG_EINVAL : CTNG_EINVAL,
			                    "%s[%zu]: not an entity id", where, i);
		}
	}
	*out = ids;
	*n = k;
	return 0;
}

/* A latency: a number of ms (fixed) or {"dist": ..., parameters}. */
static int get_dist(const json_t *o, const char *where, const char *key, ctng_sim_dist *d,
                    ctng_err *err)
{
	json_t *v = json_object_get(o, key);
	char w[96];
	snprintf(w, sizeof w, "%s.%s", where, key);
	if (!v)
		return 0;
	if (json_is_number(v)) {
		d->kind = CTNG_SIM_FIXED;
		d->b = 0;
		return get_num(v, w, 0, 3.6e6, &d->a, err);
	}
	static const struct {
		const char *name, *p1, *p2;
		ctng_sim_dist_kind kind;
	} kinds[] = {
	    {"fixed", "value", NULL, CTNG_SIM_FIXED},
	    {"uniform", "min", "max", CTNG_SIM_UNIFORM},
	    {"normal", "mean", "sd", CTNG_SIM_NORMAL},
	    {"lognormal", "median", "sigma", CTNG_SIM_LOGNORMAL},
	    {"exponential", "mean", NULL, CTNG_SIM_EXPONENTIAL},
	    {"pareto", "scale", "shape", CTNG_SIM_PARETO},
	};
	const char *name = json_string_value(json_object_get(v, "dist"));
	for (size_t i = 0; name && i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(kinds[i].name, name) != 0)
			continue;
		const char *keys[] = {"dist", kinds[i].p1, kinds[i].p2, NULL};
		int rc = check_keys(v, w, keys, err);
		if (rc)
			return rc;
		char w1[128];
		snprintf(w1, sizeof w1, "%s.%s", w, kinds[i].p1);
		d->kind = kinds[i].kind;
		d->b = 0;
		if ((rc = get_num(json_object_get(v, kinds[i].p1), w1, 0, 3.6e6, &d->a, err)))
			return rc;
		if (kinds[i].p2) {
			snprintf(w1, sizeof w1, "%s.%s", w, kinds[i].p2);
			if ((rc = get_num(json_object_get(v, kinds[i].p2), w1, 0, 3.6e6, &d->b, err)))
				return rc;
		}
		if (d->kind == CTNG_SIM_UNIFORM && d->b < d->a)
			return ctng_err_set(err, CTNG_EINVAL, "%s: max below min", w);
		if (d->kind == CTNG_SIM_PARETO && d->b <= 0)
			return ctng_err_set(err, CTNG_EINVAL, "%s: shape must be positive", w);
		return 0;
	}
	return ctng_err_set(err, CTNG_EINVAL,
	                    "%s: a number of ms or {\"dist\": fixed|uniform|normal|lognormal|"
	                    "exponential|pareto, ...}",
	                    w);
}

static int get_when(const json_t *v, const char *where, ctng_sim_when *w, ctng_err *err)
{
	static const char *const keys[] = {"period", "offset_ms", NULL};
	int rc = check_keys(v, where, keys, err);
	if (!rc)
		rc = get_u64(v, where, "period", 0, 100000, &w->period, err);
	if (!rc)
		rc = get_u64(v, where, "offset_ms", 0, (uint64_t)1 << 40, &w->offset_ms, err);
	return rc;
}

static int parse_network(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	static const char *const keys[] = {"loggers",         "cas",          "monitors",
	                                   "threshold",       "watch",        "peers",
	                                   "period_ms",       "query_offset_ms", "gossip_wait_ms",
	                                   "update_offset_ms", NULL};
	const char *w = "network";
	int rc;
	if ((rc = check_keys(v, w, keys, err)) ||
	    (rc = get_u32(v, w, "loggers", 1, CTNG_INIT_MAX_ROLE, &s->loggers, err)) ||
	    (rc = get_u32(v, w, "cas", 1, CTNG_INIT_MAX_ROLE, &s->cas, err)) ||
	    (rc = get_u32(v, w, "monitors", 1, CTNG_INIT_MAX_ROLE, &s->monitors, err)) ||
	    (rc = get_u32(v, w, "threshold", 0, CTNG_INIT_MAX_ROLE, &s->threshold, err)) ||
	    (rc = get_u32(v, w, "watch", 0, CTNG_INIT_MAX_ROLE, &s->watch, err)) ||
	    (rc = get_u64(v, w, "period_ms", 100, (uint64_t)1 << 40, &s->period_ms, err)) ||
	    (rc = get_u64(v, w, "query_offset_ms", 0, (uint64_t)1 << 40, &s->query_offset_ms,
	                  err)) ||
	    (rc = get_u64(v, w, "gossip_wait_ms", 0, (uint64_t)1 << 40, &s->gossip_wait_ms, err)) ||
	    (rc = get_u64(v, w, "update_offset_ms", 0, (uint64_t)1 << 40, &s->update_offset_ms,
	                  err)))
		return rc;
	json_t *p = json_object_get(v, "peers");
	if (json_is_string(p) && strcmp(json_string_value(p), "all") == 0)
		s->peers = 0;
	else if (p && (rc = get_u32(v, w, "peers", 1, CTNG_INIT_MAX_ROLE, &s->peers, err)))
		return ctng_err_set(err, CTNG_EINVAL, "network.peers: \"all\" or a number 1..%u",
		                    CTNG_INIT_MAX_ROLE);
	return 0;
}

static int parse_links(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	static const char *const keys[] = {"latency_ms",     "jitter_ms", "pair_latency_ms",
	                                   "bandwidth_mbps", "loss",      "overhead_bytes", NULL};
	const char *w = "links";
	int rc;
	if ((rc = check_keys(v, w, keys, err)) ||
	    (rc = get_dist(v, w, "latency_ms", &s->latency, err)) ||
	    (rc = get_dist(v, w, "jitter_ms", &s->jitter, err)) ||
	    (rc = get_dist(v, w, "pair_latency_ms", &s->pair_latency, err)) ||
	    (rc = get_u32(v, w, "overhead_bytes", 0, 1u << 20, &s->overhead_bytes, err)))
		return rc;
	json_t *x;
	if ((x = json_object_get(v, "bandwidth_mbps")) &&
	    (rc = get_num(x, "links.bandwidth_mbps", 0, 1e9, &s->bandwidth_mbps, err)))
		return rc;
	if ((x = json_object_get(v, "loss")) && (rc = get_num(x, "links.loss", 0, 1, &s->loss, err)))
		return rc;
	return 0;
}

static int parse_traffic(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	static const char *const keys[] = {"certs_per_ca", "periods", "revoke_first", NULL};
	const char *w = "traffic";
	int rc;
	if ((rc = check_keys(v, w, keys, err)) ||
	    (rc = get_u32(v, w, "certs_per_ca", 0, 100000, &s->certs_per_ca, err)) ||
	    (rc = get_u32(v, w, "periods", 0, 100000, &s->traffic_periods, err)) ||
	    (rc = get_bool(v, w, "revoke_first", &s->revoke_first, err)))
		return rc;
	return 0;
}

static int parse_faults(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	if (!json_is_array(v) || json_array_size(v) > CTNG_CONFIG_MAX_ENTITIES)
		return ctng_err_set(err, CTNG_EINVAL, "faults: must be an array");
	size_t n = json_array_size(v);
	if (!(s->faults = calloc(n ? n : 1, sizeof(*s->faults))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = {"entity",     "split_view", "split_targets",
		                                   "silent",     "answer_periods_mod",
		                                   "hide_entry", "wrong_data", NULL};
		json_t *f = json_array_get(v, i);
		ctng_sim_fault *x = &s->faults[i];
		char w[32];
		snprintf(w, sizeof w, "faults[%zu]", i);
		s->n_faults = i + 1;
		int rc;
		if ((rc = check_keys(f, w, keys, err)) ||
		    (rc = get_str(f, w, "entity", CTNG_ID_MAX, &x->id, err)) ||
		    (rc = get_bool(f, w, "split_view", &x->split_view, err)) ||
		    (rc = get_bool(f, w, "silent", &x->silent, err)) ||
		    (rc = get_u32(f, w, "answer_periods_mod", 0, 1000000, &x->answer_periods_mod,
		                  err)) ||
		    (rc = get_bool(f, w, "wrong_data", &x->wrong_data, err)))
			return rc;
		/* "hide_entry": N, the index of the entry never served (config.json's form) */
		if (json_object_get(f, "hide_entry")) {
			if ((rc = get_u64(f, w, "hide_entry", 0, (uint64_t)INT64_MAX, &x->hidden_index,
			                  err)))
				return rc;
			x->hide_entry = true;
		}
		if (!x->id || !ctng_id_valid(x->id))
			return ctng_err_set(err, CTNG_EINVAL, "%s.entity: an entity id is required", w);
		json_t *t = json_object_get(f, "split_targets");
		if (t && (rc = get_ids(t, "split_targets", &x->split_targets, &x->n_split_targets,
		                       err)))
			return rc;
	}
	return 0;
}

static int parse_partitions(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	if (!json_is_array(v) || json_array_size(v) > 1000)
		return ctng_err_set(err, CTNG_EINVAL, "partitions: must be an array");
	size_t n = json_array_size(v);
	if (!(s->partitions = calloc(n ? n : 1, sizeof(*s->partitions))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = {"groups", "from", "until", NULL};
		json_t *p = json_array_get(v, i), *g = json_object_get(p, "groups");
		ctng_sim_partition *x = &s->partitions[i];
		char w[48];
		snprintf(w, sizeof w, "partitions[%zu]", i);
		s->n_partitions = i + 1;
		int rc = check_keys(p, w, keys, err);
		if (rc)
			return rc;
		if (!json_is_array(g) || json_array_size(g) < 2 || json_array_size(g) > 1024)
			return ctng_err_set(err, CTNG_EINVAL, "%s.groups: at least two arrays of ids",
			                    w);
		size_t ng = json_array_size(g);
		x->groups = calloc(ng, sizeof(*x->groups));
		x->n_members = calloc(ng, sizeof(*x->n_members));
		if (!x->groups || !x->n_members)
			return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		for (size_t k = 0; k < ng; k++) {
			x->n_groups = k + 1;
			if ((rc = get_ids(json_array_get(g, k), "groups", &x->groups[k],
			                  &x->n_members[k], err)))
				return rc;
		}
		json_t *f = json_object_get(p, "from"), *u = json_object_get(p, "until");
		if (f && (rc = get_when(f, "from", &x->from, err)))
			return rc;
		if (u && (rc = get_when(u, "until", &x->until, err)))
			return rc;
		x->heals = u != NULL;
	}
	return 0;
}

static int parse_crashes(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	if (!json_is_array(v) || json_array_size(v) > 1000)
		return ctng_err_set(err, CTNG_EINVAL, "crashes: must be an array");
	size_t n = json_array_size(v);
	if (!(s->crashes = calloc(n ? n : 1, sizeof(*s->crashes))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		static const char *const keys[] = {"nodes", "at", "restart", NULL};
		json_t *c = json_array_get(v, i);
		ctng_sim_crash *x = &s->crashes[i];
		char w[48];
		snprintf(w, sizeof w, "crashes[%zu]", i);
		s->n_crashes = i + 1;
		int rc = check_keys(c, w, keys, err);
		json_t *nodes = json_object_get(c, "nodes"), *at = json_object_get(c, "at"),
		       *re = json_object_get(c, "restart");
		if (!rc && (!nodes || !at))
			rc = ctng_err_set(err, CTNG_EINVAL, "%s: \"nodes\" and \"at\" are required", w);
		if (rc || (rc = get_ids(nodes, "nodes", &x->ids, &x->n_ids, err)) ||
		    (rc = get_when(at, "at", &x->at, err)) ||
		    (re && (rc = get_when(re, "restart", &x->restart, err))))
			return rc;
		x->restarts = re != NULL;
		if (x->restarts && x->restart.period * 1000000000ull + x->restart.offset_ms <=
		                       x->at.period * 1000000000ull + x->at.offset_ms)
			return ctng_err_set(err, CTNG_EINVAL, "%s: restart must come after the crash", w);
	}
	return 0;
}

static int parse_expect(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	if (json_is_string(v)) {
		if (!strcmp(json_string_value(v), "derive"))
			return 0;
		if (!strcmp(json_string_value(v), "none")) {
			s->check = false;
			return 0;
		}
	}
	static const char *const keys[] = {"periods", "CON_FULL_total", NULL};
	int rc = check_keys(v, "expect", keys, err);
	if (rc)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "expect: \"derive\", \"none\" or {\"periods\": [...], "
		                    "\"CON_FULL_total\": n}");
	uint64_t con = 0;
	if (json_object_get(v, "CON_FULL_total")) {
		if ((rc = get_u64(v, "expect", "CON_FULL_total", 0, 100000, &con, err)))
			return rc;
		s->con_full_total = (int)con;
	}
	json_t *ps = json_object_get(v, "periods");
	if (!ps)
		return 0;
	if (!json_is_array(ps) || json_array_size(ps) < 1 || json_array_size(ps) > 100000)
		return ctng_err_set(err, CTNG_EINVAL, "expect.periods: a non-empty array");
	size_t n = json_array_size(ps);
	if (!(s->expect = calloc(n, sizeof(*s->expect))))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	s->n_expect = n;
	for (size_t i = 0; i < n; i++) {
		static const char *const ek[] = {"STH_FULL", "REV_FULL", "ACC_FULL", "ACC", NULL};
		json_t *e = json_array_get(ps, i);
		char w[48];
		snprintf(w, sizeof w, "expect.periods[%zu]", i);
		if ((rc = check_keys(e, w, ek, err)))
			return rc;
		int *dst[] = {&s->expect[i].sth_full, &s->expect[i].rev_full, &s->expect[i].acc_full,
		              &s->expect[i].acc};
		for (int k = 0; k < 4; k++) {
			uint64_t x = 0;
			*dst[k] = -1;
			if (json_object_get(e, ek[k])) {
				if ((rc = get_u64(e, w, ek[k], 0, 1000000, &x, err)))
					return rc;
				*dst[k] = (int)x;
			}
		}
	}
	return 0;
}

static int parse_mirror(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	static const char *const keys[] = {"mode", "entry_bytes", NULL};
	const char *w = "mirror";
	char *mode = NULL;
	int rc;
	if ((rc = check_keys(v, w, keys, err)) || (rc = get_str(v, w, "mode", 16, &mode, err)) ||
	    (rc = get_u32(v, w, "entry_bytes", 0, CTNG_TILE_LEAF_MAX, &s->entry_bytes, err))) {
		free(mode);
		return rc;
	}
	if (mode && !strcmp(mode, "charged"))
		s->mirror_mode = CTNG_SIM_MIRROR_CHARGED;
	else if (mode && strcmp(mode, "real"))
		rc = ctng_err_set(err, CTNG_EINVAL, "mirror.mode: \"real\" or \"charged\"");
	free(mode);
	return rc;
}

/* "crv": {"bits": N, "revoked": fraction} (docs/sim.md §5, §10). At most
 * CTNG_SIM_CRV_MAX_REVOKED revoked RIDs: their delta must fit one REV. */
static int parse_crv(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	static const char *const keys[] = {"bits", "revoked", NULL};
	const char *w = "crv";
	double f = 0;
	int rc;
	json_t *x;
	if ((rc = check_keys(v, w, keys, err)) ||
	    (rc = get_u32(v, w, "bits", 1, CTNG_CA_BOGUS_RID - 1, &s->crv_bits, err)))
		return rc;
	if ((x = json_object_get(v, "revoked")) && (rc = get_num(x, "crv.revoked", 0, 1, &f, err)))
		return rc;
	double n = f * (double)s->crv_bits + 0.5;
	if (n > CTNG_SIM_CRV_MAX_REVOKED)
		return ctng_err_set(err, CTNG_EINVAL, "crv: %.0f revoked RIDs, at most %u", n,
		                    CTNG_SIM_CRV_MAX_REVOKED);
	s->crv_revoked = (uint32_t)n;
	return 0;
}

static int parse_costs(const json_t *v, ctng_sim_scenario *s, ctng_err *err)
{
	if (!json_is_object(v))
		return ctng_err_set(err, CTNG_EINVAL, "costs: must be an object");
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)v, k, x)
	{
		double *dst = NULL;
		for (int i = 0; i < CTNG_METER_OPS && !dst; i++)
			if (strcmp(k, ctng_meter_op_name((ctng_meter_op)i)) == 0)
				dst = &s->costs.op_us[i];
		if (!dst && !strcmp(k, "object"))
			dst = &s->costs.object_us;
		if (!dst && !strcmp(k, "store"))
			dst = &s->costs.store_us;
		if (!dst && !strcmp(k, "byte_ns"))
			dst = &s->costs.byte_ns;
		if (!dst && !strcmp(k, "entry"))
			dst = &s->costs.entry_us;
		if (!dst)
			return ctng_err_set(err, CTNG_EINVAL, "costs: unknown member \"%.64s\"", k);
		char w[96];
		snprintf(w, sizeof w, "costs.%s", k);
		int rc = get_num(x, w, 0, 1e9, dst, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_root(const json_t *j, ctng_sim_scenario *s, ctng_err *err)
{
	static const char *const keys[] = {"name",    "summary", "seed",   "periods",
	                                   "network", "links",   "traffic", "running",
	                                   "faults",  "partitions", "crashes", "expect",
	                                   "costs",   "mirror",  "crv",     NULL};
	const char *w = "scenario";
	int rc;
	json_t *x;
	if ((rc = check_keys(j, w, keys, err)) || (rc = get_str(j, w, "name", 64, &s->name, err)) ||
	    (rc = get_str(j, w, "summary", 1000, &s->summary, err)) ||
	    (rc = get_u64(j, w, "seed", 0, (uint64_t)INT64_MAX, &s->seed, err)) ||
	    (rc = get_u64(j, w, "periods", 1, 100000, &s->periods, err)))
		return rc;
	if ((x = json_object_get(j, "network")) && (rc = parse_network(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "links")) && (rc = parse_links(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "traffic")) && (rc = parse_traffic(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "running")) &&
	    (rc = get_ids(x, "running", &s->running, &s->n_running, err)))
		return rc;
	if ((x = json_object_get(j, "faults")) && (rc = parse_faults(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "partitions")) && (rc = parse_partitions(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "crashes")) && (rc = parse_crashes(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "expect")) && (rc = parse_expect(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "costs")) && (rc = parse_costs(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "mirror")) && (rc = parse_mirror(x, s, err)))
		return rc;
	if ((x = json_object_get(j, "crv")) && (rc = parse_crv(x, s, err)))
		return rc;
	if (s->threshold > s->monitors)
		return ctng_err_set(err, CTNG_EINVAL, "network.threshold %u above %u monitors",
		                    s->threshold, s->monitors);
	return 0;
}

#define SCENARIO_MAX (1u << 20)

int ctng_sim_scenario_parse(const char *json, size_t len, ctng_sim_scenario **out, ctng_err *err)
{
	*out = NULL;
	if (len > SCENARIO_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "scenario: larger than %u bytes", SCENARIO_MAX);
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return ctng_err_set(err, CTNG_EINVAL, "scenario: line %d: %s", je.line, je.text);
	ctng_sim_scenario *s = NULL;
	int rc = ctng_sim_scenario_new(&s, err);
	if (!rc)
		rc = parse_root(j, s, err);
	json_decref(j);
	if (rc) {
		ctng_sim_scenario_free(s);
		return rc == CTNG_ENOMEM ? rc : CTNG_EINVAL;
	}
	*out = s;
	return 0;
}

size_t ctng_sim_shipped_count(void)
{
	return ctng_sim_embedded_count;
}

const char *ctng_sim_shipped_name(size_t i)
{
	return i < ctng_sim_embedded_count ? ctng_sim_embedded_names[i] : NULL;
}

const char *ctng_sim_shipped_text(size_t i)
{
	return i < ctng_sim_embedded_count ? ctng_sim_embedded_texts[i] : NULL;
}

int ctng_sim_scenario_load(const char *name, ctng_sim_scenario **out, ctng_err *err)
{
	*out = NULL;
	size_t nl = strlen(name);
	if (strchr(name, '/') || (nl > 5 && !strcmp(name + nl - 5, ".json"))) {
		uint8_t *data = NULL;
		size_t len = 0;
		int rc = ctng_read_file(name, SCENARIO_MAX, &data, &len, err);
		if (rc)
			return rc == CTNG_EIO ? ctng_err_set(err, CTNG_ENOTFOUND, "%s: cannot read", name)
			                      : rc;
		rc = ctng_sim_scenario_parse((const char *)data, len, out, err);
		free(data);
		return rc ? ctng_err_wrap(err, "%s", name) : 0;
	}
	for (size_t i = 0; i < ctng_sim_embedded_count; i++)
		if (strcmp(ctng_sim_embedded_names[i], name) == 0) {
			int rc = ctng_sim_scenario_parse(ctng_sim_embedded_texts[i],
			                                 strlen(ctng_sim_embedded_texts[i]), out, err);
			return rc ? ctng_err_wrap(err, "shipped scenario %s", name) : 0;
		}
	return ctng_err_set(err, CTNG_ENOTFOUND, "no scenario \"%s\" (see ctng help sim)", name);
}
