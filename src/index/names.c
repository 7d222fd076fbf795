/*
 * names.c — DNS names as the index sees them (docs/monitor.md §10): the
 * normalisation of names found in certificates, the index keys a name is
 * filed under, the keys a search reads, the same rule as a predicate (for
 * watches and events), and the strict parse of search queries.
 *
 * Keys (table index_name): "=N" for every name N (wildcards as written,
 * "=*.example.com"), and "~A" for every proper ancestor A of N with at
 * least two labels — for a wildcard "*.B", B and B's ancestors
 * ("www.shop.example.com" gives ~shop.example.com, ~example.com;
 * "*.example.com" gives ~example.com). A search for D reads "=D" (and "~D"
 * with subdomains) and "=*.P" for D's parent P: two or three sorted runs of
 * one B-tree, merged by certificate. (The name itself is not an ancestor
 * key: it would be a third random insert per name for nothing, since "=D"
 * is read anyway.)
 */
#include <stdio.h>
#include <string.h>

#include "index/index_internal.h"

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Checks the labels of a lower-cased name (no wildcard): 0 or -1. */
static int labels_ok(const char *s, size_t n, int *labels)
{
	*labels = 0;
	size_t start = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t l = i - start;
			if (l == 0 || l > 63 || s[start] == '-' || s[i - 1] == '-')
				return -1;
			(*labels)++;
			all_digits = true;
			for (size_t k = start; k < i; k++)
				all_digits &= s[k] >= '0' && s[k] <= '9';
			start = i + 1;
			continue;
		}
		if (!label_char(s[i]))
			return -1;
	}
	return all_digits ? -1 : 0; /* the last label: not all digits (an IP address) */
}

int ctng_index_name_normalize(const uint8_t *name, size_t len, char out[CTNG_DNS_NAME_MAX + 1],
                              ctng_err *err)
{
	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > CTNG_DNS_NAME_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "name: 1..%d octets", CTNG_DNS_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[len] = 0;
	const char *base = out;
	size_t bn = len;
	if (len >= 2 && out[0] == '*' && out[1] == '.') {
		base += 2;
		bn -= 2;
	}
	int labels = 0;
	if (labels_ok(base, bn, &labels) || labels < 2)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "name: not a DNS name of two or more labels (a wildcard only as "
		                    "the whole first label)");
	return 0;
}

/* The parent of a name (after its first label), or NULL for one label. */
static const char *parent(const char *n)
{
	const char *d = strchr(n, '.');
	return d ? d + 1 : NULL;
}

static bool has_two_labels(const char *n)
{
	return n && strchr(n, '.') != NULL;
}

size_t index_name_keys(const char *name, char (*keys)[INDEX_KEY_MAX], size_t max)
{
	size_t n = 0;
	if (n < max)
		snprintf(keys[n++], INDEX_KEY_MAX, "=%s", name);
	const char *a = name[0] == '*' ? name + 2 : parent(name);
	for (; has_two_labels(a) && n < max; a = parent(a))
		snprintf(keys[n++], INDEX_KEY_MAX, "~%s", a);
	return n;
}

size_t index_query_keys(const ctng_index_query *q, char keys[3][INDEX_KEY_MAX])
{
	const char *d = q->domain;
	size_t n = 0;
	snprintf(keys[n++], INDEX_KEY_MAX, "=%s", d);
	if (d[0] == '*')
		return n;
	if (q->subdomains)
		snprintf(keys[n++], INDEX_KEY_MAX, "~%s", d);
	const char *p = parent(d);
	if (has_two_labels(p)) /* "*.com" is never indexed */
		snprintf(keys[n++], INDEX_KEY_MAX, "=*.%s", p);
	return n;
}

/* Is name equal to d or under it (a label boundary before d)? */
static bool at_or_under(const char *name, const char *d)
{
	size_t n = strlen(name), k = strlen(d);
	return n == k ? strcmp(name, d) == 0
	              : n > k && name[n - k - 1] == '.' && strcmp(name + n - k, d) == 0;
}

bool ctng_index_name_matches(const char *name, const char *domain, bool subdomains)
{
	if (domain[0] == '*')
		return strcmp(name, domain) == 0;
	if (strcmp(name, domain) == 0)
		return true;
	const char *p = parent(domain);
	if (name[0] == '*' && has_two_labels(p) && strcmp(name + 2, p) == 0)
		return true; /* a wildcard for the domain's parent covers it */
	if (!subdomains)
		return false;
	return at_or_under(name[0] == '*' ? name + 2 : name, domain);
}

static int parse_bool(const char *v, const char *what, bool *out, ctng_err *err)
{
	if (!strcmp(v, "1") || !strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false"))
		*out = false;
	else
		return ctng_err_set(err, CTNG_EINVAL, "%s: expected 1, 0, true or false", what);
	return 0;
}

int index_domain_parse(const char *domain, char out[CTNG_DNS_NAME_MAX + 1], ctng_err *err)
{
	if (!domain || !*domain)
		return ctng_err_set(err, CTNG_EINVAL, "domain: missing");
	size_t n = strlen(domain);
	if (n > CTNG_DNS_NAME_MAX + 1)
		return ctng_err_set(err, CTNG_EINVAL, "domain: longer than %d octets",
		                    CTNG_DNS_NAME_MAX);
	if (ctng_index_name_normalize((const uint8_t *)domain, n, out, NULL))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "domain: not a DNS name of two or more labels "
		                    "(letters, digits, '-', '_'; \"*.\" only in front)");
	return 0;
}

int ctng_index_query_parse(const char *domain, const char *subdomains, const char *after,
                           const char *limit, ctng_index_query *q, ctng_err *err)
{
	memset(q, 0, sizeof(*q));
	q->limit = CTNG_INDEX_PAGE_DEFAULT;
	int rc = index_domain_parse(domain, q->domain, err);
	if (rc)
		return rc;
	if (subdomains && (rc = parse_bool(subdomains, "subdomains", &q->subdomains, err)))
		return rc;
	if (q->subdomains && q->domain[0] == '*')
		return ctng_err_set(err, CTNG_EINVAL,
		                    "subdomains: not with a wildcard domain (ask for the name after "
		                    "\"*.\" with subdomains=1)");
	if (after && ctng_parse_u64(after, INT64_MAX, &q->after, NULL))
		return ctng_err_set(err, CTNG_EINVAL, "after: not a cursor of this monitor");
	uint64_t l = 0;
	if (limit) {
		if (ctng_parse_u64(limit, CTNG_INDEX_PAGE_MAX, &l, NULL) || l == 0)
			return ctng_err_set(err, CTNG_EINVAL, "limit: 1..%d", CTNG_INDEX_PAGE_MAX);
		q->limit = (uint32_t)l;
	}
	return 0;
}
