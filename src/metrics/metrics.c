/*
 * metrics.c — the registry of include/ctng/metrics.h: families of counters,
 * gauges and histograms with bounded label sets, and their rendering in the
 * Prometheus text exposition format 0.0.4. One mutex per registry makes
 * every call safe from any thread; collect hooks run unlocked.
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/metrics.h"
#include "metrics_internal.h"

const double ctng_metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1,      2.5,   5,    10,    30,   60};
const size_t ctng_metrics_latency_nbuckets =
    sizeof ctng_metrics_latency_buckets / sizeof ctng_metrics_latency_buckets[0];

const double ctng_metrics_period_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5, 5,
                                              10,   30,    60,   120, 300,  600, 1800, 3600};
const size_t ctng_metrics_period_nbuckets =
    sizeof ctng_metrics_period_buckets / sizeof ctng_metrics_period_buckets[0];

const char *ctng_metrics_reason(int code)
{
	switch (code) {
	case CTNG_EINVAL:
		return "malformed";
	case CTNG_EVERIFY:
		return "invalid";
	case CTNG_ENOTFOUND:
		return "not_found";
	case CTNG_ECONFLICT:
		return "conflict";
	case CTNG_EIO:
		return "io";
	case CTNG_ENOMEM:
		return "no_memory";
	case CTNG_ERANGE:
		return "out_of_range";
	case CTNG_ETIMEOUT:
		return "timeout";
	case CTNG_ESTATE:
		return "wrong_state";
	default:
		return "error";
	}
}

enum { T_COUNTER, T_GAUGE, T_HISTOGRAM };

struct series {
	char *values[CTNG_METRICS_MAX_LABELS]; /* sanitised copies */
	double value;                          /* counter, gauge */
	uint64_t *buckets;                     /* histogram: nb + 1 (last: +Inf), not cumulative */
	double sum;
	uint64_t count;
};

struct ctng_metric {
	ctng_metrics *reg;
	int type;
	char *name, *help;
	size_t nlabels;
	char *label_names[CTNG_METRICS_MAX_LABELS];
	double bounds[CTNG_METRICS_MAX_BUCKETS];
	size_t nb;
	struct series **series;
	size_t n, cap, limit;
	struct series *overflow;
};

struct hook {
	ctng_metrics_collect_fn fn;
	void *arg;
	void (*free_arg)(void *); /* called on arg with the registry, may be NULL */
};

#define MAX_HOOKS 16

struct ctng_metrics {
	pthread_mutex_t mu;
	ctng_metric **fams;
	size_t n, cap;
	struct hook hooks[MAX_HOOKS];
	size_t nhooks;
	ctng_metric *overflow_total;
};

/* ------------------------------------------------------------- names */

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		             (colon && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* Copies a label value: printable ASCII only, at most CTNG_METRICS_LABEL_MAX bytes. */
static void sanitize_value(char *out, const char *in)
{
	size_t i = 0;
	for (; in && in[i] && i < CTNG_METRICS_LABEL_MAX; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	out[i] = 0;
}

/* ------------------------------------------------------------ registry */

ctng_metrics *ctng_metrics_new(ctng_err *err)
{
	ctng_metrics *r = calloc(1, sizeof *r);
	if (!r) {
		ctng_err_set(err, CTNG_ENOMEM, "metrics: out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	return r;
}

static void series_free(struct series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CTNG_METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free(s->buckets);
	free(s);
}

static void family_clear(ctng_metric *m)
{
	for (size_t i = 0; i < m->n; i++)
		series_free(m->series[i]);
	m->n = 0;
	series_free(m->overflow);
	m->overflow = NULL;
}

static void family_free(ctng_metric *m)
{
	if (!m)
		return;
	family_clear(m);
	free(m->series);
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->label_names[i]);
	free(m->name);
	free(m->help);
	free(m);
}

void ctng_metrics_free(ctng_metrics *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		family_free(reg->fams[i]);
	free(reg->fams);
	for (size_t i = 0; i < reg->nhooks; i++)
		if (reg->hooks[i].free_arg)
			reg->hooks[i].free_arg(reg->hooks[i].arg);
	pthread_mutex_destroy(&reg->mu);
	free(reg);
}

/* Splits "a,b,c" into label names (validated). */
static int split_labels(const char *labels, int type, char **out, size_t *n, ctng_err *err)
{
	*n = 0;
	if (!labels || !*labels)
		return 0;
	const char *p = labels;
	while (1) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (*n == CTNG_METRICS_MAX_LABELS)
			return ctng_err_set(err, CTNG_EINVAL, "metrics: more than %d labels",
			                    CTNG_METRICS_MAX_LABELS);
		char *name = strndup(p, len);
		if (!name)
			return ctng_err_set(err, CTNG_ENOMEM, "metrics: out of memory");
		out[(*n)++] = name;
		if (!name_ok(name, false) || strncmp(name, "__", 2) == 0 ||
		    (type == T_HISTOGRAM && strcmp(name, "le") == 0))
			return ctng_err_set(err, CTNG_EINVAL, "metrics: bad label name '%s'", name);
		for (size_t i = 0; i + 1 < *n; i++)
			if (strcmp(out[i], name) == 0)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "metrics: duplicate label name '%s'", name);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static bool same_shape(const ctng_metric *m, int type, char **labels, size_t nl,
                       const double *buckets, size_t nb)
{
	if (m->type != type || m->nlabels != nl || m->nb != nb)
		return false;
	for (size_t i = 0; i < nl; i++)
		if (strcmp(m->label_names[i], labels[i]) != 0)
			return false;
	for (size_t i = 0; i < nb; i++)
		if (m->bounds[i] != buckets[i])
			return false;
	return true;
}

/* Registers with reg->mu held. */
static ctng_metric *register_locked(ctng_metrics *reg, int type, const char *name, const char *help,
                                    const char *labels, const double *buckets, size_t nb,
                                    ctng_err *err)
{
	char *ln[CTNG_METRICS_MAX_LABELS] = {0};
	size_t nl = 0;
	ctng_metric *m = NULL;
	if (!name_ok(name, true)) {
		ctng_err_set(err, CTNG_EINVAL, "metrics: bad metric name '%s'", name ? name : "");
		goto fail;
	}
	if (!help || !*help || strchr(help, '\n')) {
		ctng_err_set(err, CTNG_EINVAL, "metrics: %s needs a one-line help text", name);
		goto fail;
	}
	if (type == T_HISTOGRAM) {
		if (!buckets || nb == 0 || nb > CTNG_METRICS_MAX_BUCKETS) {
			ctng_err_set(err, CTNG_EINVAL, "metrics: %s: 1..%d buckets", name,
			             CTNG_METRICS_MAX_BUCKETS);
			goto fail;
		}
		for (size_t i = 0; i < nb; i++)
			if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
				ctng_err_set(err, CTNG_EINVAL,
				             "metrics: %s: buckets must be finite and increasing",
				             name);
				goto fail;
			}
	}
	if (split_labels(labels, type, ln, &nl, err))
		goto fail;
	for (size_t i = 0; i < reg->n; i++) {
		if (strcmp(reg->fams[i]->name, name) != 0)
			continue;
		if (!same_shape(reg->fams[i], type, ln, nl, buckets, nb)) {
			ctng_err_set(err, CTNG_ECONFLICT,
			             "metrics: %s already registered with another type or labels",
			             name);
			goto fail;
		}
		for (size_t k = 0; k < nl; k++)
			free(ln[k]);
		return reg->fams[i];
	}
	if (reg->n == CTNG_METRICS_MAX_FAMILIES) {
		ctng_err_set(err, CTNG_ERANGE, "metrics: more than %d families",
		             CTNG_METRICS_MAX_FAMILIES);
		goto fail;
	}
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 32;
		ctng_metric **f = realloc(reg->fams, cap * sizeof *f);
		if (!f)
			goto oom;
		reg->fams = f;
		reg->cap = cap;
	}
	m = calloc(1, sizeof *m);
	if (!m || !(m->name = strdup(name)) || !(m->help = strdup(help)))
		goto oom;
	m->reg = reg;
	m->type = type;
	m->nlabels = nl;
	memcpy(m->label_names, ln, sizeof ln);
	m->nb = nb;
	if (nb)
		memcpy(m->bounds, buckets, nb * sizeof *buckets);
	m->limit = CTNG_METRICS_DEFAULT_SERIES;
	reg->fams[reg->n++] = m;
	return m;
oom:
	ctng_err_set(err, CTNG_ENOMEM, "metrics: out of memory");
fail:
	if (m) {
		free(m->name);
		free(m->help);
		free(m);
	}
	for (size_t k = 0; k < nl; k++)
		free(ln[k]);
	return NULL;
}

static ctng_metric *register_family(ctng_metrics *reg, int type, const char *name, const char *help,
                                    const char *labels, const double *buckets, size_t nb,
                                    ctng_err *err)
{
	if (!reg) {
		ctng_err_set(err, CTNG_EINVAL, "metrics: no registry");
		return NULL;
	}
	pthread_mutex_lock(&reg->mu);
	ctng_metric *m = register_locked(reg, type, name, help, labels, buckets, nb, err);
	pthread_mutex_unlock(&reg->mu);
	return m;
}

ctng_metric *ctng_metrics_counter(ctng_metrics *reg, const char *name, const char *help,
                                  const char *labels, ctng_err *err)
{
	return register_family(reg, T_COUNTER, name, help, labels, NULL, 0, err);
}

ctng_metric *ctng_metrics_gauge(ctng_metrics *reg, const char *name, const char *help,
                                const char *labels, ctng_err *err)
{
	return register_family(reg, T_GAUGE, name, help, labels, NULL, 0, err);
}

ctng_metric *ctng_metrics_histogram(ctng_metrics *reg, const char *name, const char *help,
                                    const char *labels, const double *buckets, size_t nbuckets,
                                    ctng_err *err)
{
	return register_family(reg, T_HISTOGRAM, name, help, labels, buckets, nbuckets, err);
}

int ctng_metrics_register(ctng_metrics *reg, const ctng_metrics_spec *specs, size_t n,
                          ctng_err *err)
{
	static const int types[] = {T_COUNTER, T_GAUGE, T_HISTOGRAM};
	for (size_t i = 0; i < n; i++) {
		const ctng_metrics_spec *s = &specs[i];
		if ((unsigned)s->type > CTNG_METRIC_HISTOGRAM)
			return ctng_err_set(err, CTNG_EINVAL, "metrics: bad type for %s", s->name);
		*s->out = register_family(reg, types[s->type], s->name, s->help, s->labels,
		                          s->buckets, s->nbuckets, err);
		if (!*s->out)
			return err && err->code ? err->code : CTNG_EINVAL;
	}
	return 0;
}

int ctng_metric_set_limit(ctng_metric *m, size_t max_series)
{
	if (!m || max_series == 0 || max_series > CTNG_METRICS_MAX_SERIES)
		return CTNG_EINVAL;
	pthread_mutex_lock(&m->reg->mu);
	m->limit = max_series;
	pthread_mutex_unlock(&m->reg->mu);
	return 0;
}

/* -------------------------------------------------------------- series */

static struct series *series_new(const ctng_metric *m, char vals[][CTNG_METRICS_LABEL_MAX + 1])
{
	struct series *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	for (size_t i = 0; i < m->nlabels; i++)
		if (!(s->values[i] = strdup(vals[i]))) {
			series_free(s);
			return NULL;
		}
	if (m->type == T_HISTOGRAM && !(s->buckets = calloc(m->nb + 1, sizeof *s->buckets))) {
		series_free(s);
		return NULL;
	}
	return s;
}

static void counter_add_locked(ctng_metric *m, const char *const *labels, double v);

/* The series for `labels` (created if new, the overflow series beyond the
 * limit); NULL only when out of memory. reg->mu held. */
static struct series *series_get(ctng_metric *m, const char *const *labels)
{
	char vals[CTNG_METRICS_MAX_LABELS][CTNG_METRICS_LABEL_MAX + 1];
	for (size_t i = 0; i < m->nlabels; i++)
		sanitize_value(vals[i], labels ? labels[i] : "");
	for (size_t k = 0; k < m->n; k++) {
		struct series *s = m->series[k];
		size_t i = 0;
		while (i < m->nlabels && strcmp(s->values[i], vals[i]) == 0)
			i++;
		if (i == m->nlabels)
			return s;
	}
	if (m->n >= m->limit) {
		ctng_metrics *reg = m->reg;
		if (m != reg->overflow_total) {
			if (!reg->overflow_total)
				reg->overflow_total = register_locked(
				    reg, T_COUNTER, "ctng_metrics_overflow_total",
				    "Updates that went to a family's _other series because it "
				    "reached its series limit.",
				    "metric", NULL, 0, NULL);
			if (reg->overflow_total) {
				reg->overflow_total->limit = CTNG_METRICS_MAX_FAMILIES;
				counter_add_locked(reg->overflow_total, CTNG_LABELS(m->name), 1);
			}
		}
		if (!m->overflow) {
			for (size_t i = 0; i < m->nlabels; i++)
				strcpy(vals[i], "_other");
			m->overflow = series_new(m, vals);
		}
		return m->overflow;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct series **v = realloc(m->series, cap * sizeof *v);
		if (!v)
			return NULL;
		m->series = v;
		m->cap = cap;
	}
	struct series *s = series_new(m, vals);
	if (s)
		m->series[m->n++] = s;
	return s;
}

static void counter_add_locked(ctng_metric *m, const char *const *labels, double v)
{
	struct series *s = series_get(m, labels);
	if (s)
		s->value += v;
}

void ctng_counter_add(ctng_metric *m, const char *const *labels, double v)
{
	if (!m || !isfinite(v) || v < 0)
		return;
	pthread_mutex_lock(&m->reg->mu);
	counter_add_locked(m, labels, v);
	pthread_mutex_unlock(&m->reg->mu);
}

void ctng_counter_inc(ctng_metric *m, const char *const *labels)
{
	ctng_counter_add(m, labels, 1);
}

void ctng_metric_set_raw(ctng_metric *m, const char *const *labels, double v)
{
	if (!m || !isfinite(v))
		return;
	pthread_mutex_lock(&m->reg->mu);
	struct series *s = series_get(m, labels);
	if (s)
		s->value = v;
	pthread_mutex_unlock(&m->reg->mu);
}

void ctng_gauge_set(ctng_metric *m, const char *const *labels, double v)
{
	if (m && m->type == T_GAUGE)
		ctng_metric_set_raw(m, labels, v);
}

void ctng_gauge_add(ctng_metric *m, const char *const *labels, double v)
{
	if (!m || m->type != T_GAUGE || !isfinite(v))
		return;
	pthread_mutex_lock(&m->reg->mu);
	struct series *s = series_get(m, labels);
	if (s)
		s->value += v;
	pthread_mutex_unlock(&m->reg->mu);
}

void ctng_histogram_observe(ctng_metric *m, const char *const *labels, double v)
{
	if (!m || m->type != T_HISTOGRAM || isnan(v))
		return;
	pthread_mutex_lock(&m->reg->mu);
	struct series *s = series_get(m, labels);
	if (s) {
		size_t b = 0;
		while (b < m->nb && v > m->bounds[b])
			b++;
		s->buckets[b]++;
		s->count++;
		s->sum += v;
	}
	pthread_mutex_unlock(&m->reg->mu);
}

void ctng_metric_clear(ctng_metric *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->reg->mu);
	family_clear(m);
	pthread_mutex_unlock(&m->reg->mu);
}

double ctng_metrics_since(uint64_t mono_ns_start)
{
	uint64_t now = ctng_mono_ns();
	return now > mono_ns_start ? (double)(now - mono_ns_start) / 1e9 : 0.0;
}

int ctng_metric_get(ctng_metric *m, const char *const *labels, double *value, double *sum)
{
	if (!m)
		return CTNG_EINVAL;
	char vals[CTNG_METRICS_MAX_LABELS][CTNG_METRICS_LABEL_MAX + 1];
	for (size_t i = 0; i < m->nlabels; i++)
		sanitize_value(vals[i], labels ? labels[i] : "");
	int rc = CTNG_ENOTFOUND;
	pthread_mutex_lock(&m->reg->mu);
	for (size_t k = 0; k <= m->n; k++) {
		struct series *s = k < m->n ? m->series[k] : m->overflow;
		if (!s)
			continue;
		size_t i = 0;
		while (i < m->nlabels && strcmp(s->values[i], vals[i]) == 0)
			i++;
		if (i < m->nlabels)
			continue;
		if (value)
			*value = m->type == T_HISTOGRAM ? (double)s->count : s->value;
		if (sum)
			*sum = m->type == T_HISTOGRAM ? s->sum : s->value;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&m->reg->mu);
	return rc;
}

int ctng_metrics_on_collect(ctng_metrics *reg, ctng_metrics_collect_fn fn, void *arg,
                            void (*free_arg)(void *), ctng_err *err)
{
	if (!reg || !fn)
		return ctng_err_set(err, CTNG_EINVAL, "metrics: no registry or hook");
	pthread_mutex_lock(&reg->mu);
	int rc = 0;
	if (reg->nhooks == MAX_HOOKS)
		rc = ctng_err_set(err, CTNG_ERANGE, "metrics: more than %d collect hooks",
		                  MAX_HOOKS);
	else
		reg->hooks[reg->nhooks++] = (struct hook){fn, arg, free_arg};
	pthread_mutex_unlock(&reg->mu);
	return rc;
}

/* ---------------------------------------------------------- exposition */

/* Shortest of %.15g / %.17g that reads back as v; Prometheus spellings of
 * the non-finite values. */
static void fmt_double(char out[40], double v)
{
	if (isnan(v)) {
		strcpy(out, "NaN");
		return;
	}
	if (isinf(v)) {
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(out, 40, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, 40, "%.17g", v);
}

/* Label value escaping of the text format: backslash, double quote, newline. */
static int put_escaped(ctng_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		int rc;
		if (*s == '\\')
			rc = ctng_buf_append(b, "\\\\", 2);
		else if (*s == '\n')
			rc = ctng_buf_append(b, "\\n", 2);
		else if (quote && *s == '"')
			rc = ctng_buf_append(b, "\\\"", 2);
		else
			rc = ctng_buf_append_u8(b, (uint8_t)*s);
		if (rc)
			return rc;
	}
	return 0;
}

/* name{a="x",b="y"[,le="..."]} value\n */
static int put_sample(ctng_buf *b, const ctng_metric *m, const char *suffix, const struct series *s,
                      const char *le, double v)
{
	char num[40];
	int rc = ctng_buf_printf(b, "%s%s", m->name, suffix);
	if (!rc && (m->nlabels || le)) {
		rc = ctng_buf_append_u8(b, '{');
		for (size_t i = 0; !rc && i < m->nlabels; i++) {
			rc = ctng_buf_printf(b, "%s%s=\"", i ? "," : "", m->label_names[i]);
			if (!rc)
				rc = put_escaped(b, s->values[i], true);
			if (!rc)
				rc = ctng_buf_append_u8(b, '"');
		}
		if (!rc && le)
			rc = ctng_buf_printf(b, "%sle=\"%s\"", m->nlabels ? "," : "", le);
		if (!rc)
			rc = ctng_buf_append_u8(b, '}');
	}
	fmt_double(num, v);
	if (!rc)
		rc = ctng_buf_printf(b, " %s\n", num);
	return rc;
}

static int put_series(ctng_buf *b, const ctng_metric *m, const struct series *s)
{
	if (m->type != T_HISTOGRAM)
		return put_sample(b, m, "", s, NULL, s->value);
	uint64_t cum = 0;
	char le[40];
	int rc = 0;
	for (size_t i = 0; !rc && i < m->nb; i++) {
		cum += s->buckets[i];
		fmt_double(le, m->bounds[i]);
		rc = put_sample(b, m, "_bucket", s, le, (double)cum);
	}
	if (!rc)
		rc = put_sample(b, m, "_bucket", s, "+Inf", (double)s->count);
	if (!rc)
		rc = put_sample(b, m, "_sum", s, NULL, s->sum);
	if (!rc)
		rc = put_sample(b, m, "_count", s, NULL, (double)s->count);
	return rc;
}

static const char *type_name(int t)
{
	return t == T_COUNTER ? "counter" : t == T_GAUGE ? "gauge" : "histogram";
}

int ctng_metrics_render(ctng_metrics *reg, ctng_buf *out, ctng_err *err)
{
	if (!reg || !out)
		return ctng_err_set(err, CTNG_EINVAL, "metrics: no registry");
	struct hook hooks[MAX_HOOKS];
	pthread_mutex_lock(&reg->mu);
	size_t nh = reg->nhooks;
	memcpy(hooks, reg->hooks, sizeof hooks);
	pthread_mutex_unlock(&reg->mu);
	for (size_t i = 0; i < nh; i++)
		hooks[i].fn(reg, hooks[i].arg);
	int rc = 0;
	pthread_mutex_lock(&reg->mu);
	for (size_t f = 0; !rc && f < reg->n; f++) {
		const ctng_metric *m = reg->fams[f];
		rc = ctng_buf_printf(out, "# HELP %s ", m->name);
		if (!rc)
			rc = put_escaped(out, m->help, false);
		if (!rc)
			rc = ctng_buf_printf(out, "\n# TYPE %s %s\n", m->name, type_name(m->type));
		for (size_t k = 0; !rc && k < m->n; k++)
			rc = put_series(out, m, m->series[k]);
		if (!rc && m->overflow)
			rc = put_series(out, m, m->overflow);
	}
	pthread_mutex_unlock(&reg->mu);
	if (rc)
		return ctng_err_set(err, CTNG_ENOMEM, "metrics: out of memory");
	return 0;
}
