/*
 * cmd_monitor.c — `ctng monitor`: runs one monitor daemon (src/monitor,
 * docs/monitor.md) until SIGINT or SIGTERM, and the domain owner's two
 * commands against any monitor (docs/monitor.md §10-§11):
 *   ctng monitor search  every certificate the monitor indexed for a domain
 *   ctng monitor watch   notifications for a domain as they happen
 * Exit status 0 after a clean stop / a search (also one that found
 * nothing) / a watch that got its --count, 2 for bad usage or a
 * configuration that does not load, 1 for a runtime failure or a monitor
 * that refused or did not answer.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "ctng/config.h"
#include "ctng/monitor.h"
#include "ctng/net.h"

static const char usage[] =
    "usage:\n"
    "  ctng monitor --config DIR/<id>/config.json [--log-level debug|info|warn|error]\n"
    "      runs the monitor <id>: each period it pulls STH(p) from its loggers and REV(p)\n"
    "      from its CAs (skipping convicted entities), verifies them (signature, period,\n"
    "      append-only consistency with the last STH), sends them to its gossiper or\n"
    "      accuses (ACC) the entities that fail, keeps the FULL objects and PoMs its\n"
    "      gossiper sends back, mirrors and indexes every log, and publishes the client\n"
    "      update of the period at GET /ctng/v1/update?period=P and as\n"
    "      ClientUpdate_<P>.json in its data folder (monitor.db keeps its state)\n"
    "  ctng monitor search --monitor URL --domain D [--subdomains] [--json]\n"
    "                      [--tls-ca CA.pem]\n"
    "      every certificate and precertificate the monitor has indexed for D (and,\n"
    "      with --subdomains, every name under D): a table, or with --json one JSON\n"
    "      object per certificate per line; nothing found prints nothing (exit 0)\n"
    "  ctng monitor watch --monitor URL --domain D [--subdomains] [--json] [--count N]\n"
    "                     [--timeout-ms MS] [--tls-ca CA.pem]\n"
    "      prints each certificate for D the monitor indexes from now on, and each\n"
    "      revocation of one, as it happens (long poll); stops after N events or MS\n"
    "      milliseconds if given, else on Ctrl-C\n"
    "  URL http:// or https:// (verified against the system roots, or --tls-ca)\n";

#define CMD "monitor"

static int run_daemon(int argc, char **argv)
{
	const char *cmd = argv[0];
	ctng_node_config cfg;
	int st = ctng_cli_daemon_config(argc, argv, CTNG_ROLE_MONITOR, &cfg);
	if (st != CTNG_EXIT_OK)
		return st;
	ctng_err e = {0};
	int rc = ctng_monitor_run(&cfg, &e);
	ctng_node_config_free(&cfg);
	if (rc)
		return ctng_cli_fail(ctng_cli_exit_for(rc), cmd, "%s", e.msg);
	return CTNG_EXIT_OK;
}

/* ------------------------------------------------------------ helpers */

typedef struct target {
	const char *monitor, *domain;
	bool subdomains, json;
	uint64_t count, timeout_ms;
} target;

static int parse_args(int argc, char **argv, const char *sub, bool watch, target *t)
{
	memset(t, 0, sizeof(*t));
	const char *v, *count = NULL, *tmo = NULL;
	for (int i = 2; i < argc; i++) {
		if ((v = ctng_cli_flag(argc, argv, &i, "--monitor")))
			t->monitor = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--domain")))
			t->domain = v;
		else if (!strcmp(argv[i], "--subdomains"))
			t->subdomains = true;
		else if (!strcmp(argv[i], "--json"))
			t->json = true;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--tls-ca"))) {
			if (ctng_cli_tls_ca(CMD, v))
				return CTNG_EXIT_USAGE;
		} else if (watch && (v = ctng_cli_flag(argc, argv, &i, "--count")))
			count = v;
		else if (watch && (v = ctng_cli_flag(argc, argv, &i, "--timeout-ms")))
			tmo = v;
		else
			return ctng_cli_usage_error(CMD, "%s: unexpected argument '%s'\n%s", sub,
			                            argv[i], usage);
	}
	if (!t->monitor || !t->domain)
		return ctng_cli_usage_error(CMD, "%s needs --monitor and --domain\n%s", sub, usage);
	if ((count && ctng_cli_u64_flag(CMD, "--count", count, 1, 1000000000, &t->count)) ||
	    (tmo && ctng_cli_u64_flag(CMD, "--timeout-ms", tmo, 1, 86400000ull * 365, &t->timeout_ms)))
		return CTNG_EXIT_USAGE;
	return 0;
}

/* Appends s percent-encoded (everything but unreserved characters). */
static void put_enc(ctng_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '*') {
			ctng_buf_append_u8(b, c);
		} else {
			ctng_buf_append_u8(b, '%');
			ctng_buf_append_u8(b, (uint8_t)hex[c >> 4]);
			ctng_buf_append_u8(b, (uint8_t)hex[c & 15]);
		}
	}
}

/* GET <monitor><path>?domain=..&subdomains=..&<extra>: the parsed JSON
 * object, or a message and NULL. */
static json_t *get(const target *t, const char *path, const char *extra, uint64_t timeout_ms,
                   int *status)
{
	ctng_buf url = {0};
	const char *m = t->monitor;
	size_t ml = strlen(m);
	while (ml && m[ml - 1] == '/')
		ml--;
	ctng_buf_append(&url, m, ml);
	ctng_buf_append(&url, path, strlen(path));
	ctng_buf_append(&url, "?domain=", 8);
	put_enc(&url, t->domain);
	if (t->subdomains)
		ctng_buf_append(&url, "&subdomains=1", 13);
	if (extra)
		ctng_buf_append(&url, extra, strlen(extra));
	ctng_buf_append_u8(&url, 0);
	uint8_t *body = NULL;
	size_t len = 0;
	ctng_err e = {0};
	*status = 0;
	int rc = ctng_net_fetch_sync((const char *)url.data, "GET", NULL, NULL, 0, timeout_ms, status,
	                             &body, &len, &e);
	ctng_buf_free(&url);
	if (rc) {
		fprintf(stderr, "ctng %s: %s: %s\n", CMD, t->monitor, e.msg);
		return NULL;
	}
	json_t *j = NULL;
	if (ctng_net_parse_json(body, len, 0, &j, NULL) || !json_is_object(j)) {
		fprintf(stderr, "ctng %s: %s answered %d with something that is not JSON\n", CMD,
		        t->monitor, *status);
		json_decref(j);
		j = NULL;
	} else if (*status != 200) {
		const char *why = json_string_value(json_object_get(j, "error"));
		fprintf(stderr, "ctng %s: %s answered %d: %s\n", CMD, t->monitor, *status,
		        why ? why : "(no reason)");
		json_decref(j);
		j = NULL;
	}
	free(body);
	return j;
}

static const char *str_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static void print_row(const json_t *c, const char *event)
{
	char names[512] = "";
	size_t i, used = 0;
	json_t *v;
	json_array_foreach(json_object_get(c, "names"), i, v)
	{
		int n = snprintf(names + used, sizeof names - used, "%s%s", i ? "," : "",
		                 json_string_value(v));
		if (n < 0 || (size_t)n >= sizeof names - used)
			break;
		used += (size_t)n;
	}
	json_t *rid = json_object_get(c, "rid"), *rev = json_object_get(c, "revoked");
	char ridb[16] = "-", where[96];
	if (json_is_integer(rid))
		snprintf(ridb, sizeof ridb, "%lld", (long long)json_integer_value(rid));
	size_t extra = json_array_size(json_object_get(c, "entries"));
	snprintf(where, sizeof where, "%s#%lld%s", str_or(c, "logger", "?"),
	         (long long)json_integer_value(json_object_get(c, "index")),
	         extra > 1 ? " +" : "");
	if (extra > 1)
		snprintf(where + strlen(where), sizeof where - strlen(where), "%zu", extra - 1);
	printf("%s%-8s%-20s %-10s %-8s %-7s %-20s %s\n", event ? event : "", event ? " " : "", where,
	       str_or(c, "issuer", "?"), ridb,
	       json_is_true(rev) ? "yes" : json_is_false(rev) ? "no" : "unknown",
	       str_or(c, "not_after", "?"), names);
}

/* ------------------------------------------------------------- search */

static int cmd_search(int argc, char **argv)
{
	target t;
	int st = parse_args(argc, argv, "search", false, &t);
	if (st)
		return st;
	char extra[64] = "&limit=1000";
	bool header = false;
	for (int pages = 0;; pages++) {
		int status = 0;
		json_t *j = get(&t, "/ctng/v1/search", extra, 30000, &status);
		if (!j)
			return status >= 400 && status < 500 ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID;
		json_t *res = json_object_get(j, "results"), *next = json_object_get(j, "next");
		size_t i;
		json_t *c;
		json_array_foreach(res, i, c)
		{
			if (t.json) {
				char *line = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
				if (line)
					puts(line);
				free(line);
				continue;
			}
			if (!header) {
				printf("%-20s %-10s %-8s %-7s %-20s %s\n", "ENTRY", "ISSUER", "RID",
				       "REVOKED", "NOT AFTER", "NAMES");
				header = true;
			}
			print_row(c, NULL);
		}
		const char *n = json_string_value(next);
		if (!n || strlen(n) > 20) {
			json_decref(j);
			break;
		}
		snprintf(extra, sizeof extra, "&limit=1000&after=%s", n);
		json_decref(j);
	}
	fflush(stdout);
	return CTNG_EXIT_OK;
}

/* -------------------------------------------------------------- watch */

static int cmd_watch(int argc, char **argv)
{
	target t;
	int st = parse_args(argc, argv, "watch", true, &t);
	if (st)
		return st;
	uint64_t start = ctng_mono_ms(), seen = 0;
	int status = 0;
	/* the current end: only what happens from now on is printed */
	json_t *j = get(&t, "/ctng/v1/events", NULL, 10000, &status);
	if (!j)
		return status >= 400 && status < 500 ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID;
	char cursor[64];
	snprintf(cursor, sizeof cursor, "%s", str_or(j, "next", ""));
	json_decref(j);
	fprintf(stderr, "watching %s%s at %s\n", t.domain, t.subdomains ? " and its subdomains" : "",
	        t.monitor);
	for (;;) {
		uint64_t wait = 25000;
		if (t.timeout_ms) {
			uint64_t el = ctng_mono_ms() - start;
			if (el >= t.timeout_ms)
				return CTNG_EXIT_OK;
			if (t.timeout_ms - el < wait)
				wait = t.timeout_ms - el;
		}
		char extra[160];
		snprintf(extra, sizeof extra, "&after=%s&wait_ms=%llu", cursor,
		         (unsigned long long)wait);
		j = get(&t, "/ctng/v1/events", extra, wait + 10000, &status);
		if (!j) {
			if (status == 503) { /* the monitor is busy: ask again a little later */
				nanosleep(&(struct timespec){1, 0}, NULL);
				continue;
			}
			return status >= 400 && status < 500 ? CTNG_EXIT_USAGE : CTNG_EXIT_INVALID;
		}
		size_t i;
		json_t *ev;
		json_array_foreach(json_object_get(j, "events"), i, ev)
		{
			if (t.json) {
				char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
				if (line)
					puts(line);
				free(line);
			} else {
				print_row(json_object_get(ev, "certificate"), str_or(ev, "event", "?"));
			}
			fflush(stdout);
			if (t.count && ++seen >= t.count) {
				json_decref(j);
				return CTNG_EXIT_OK;
			}
		}
		const char *n = json_string_value(json_object_get(j, "next"));
		if (n && strlen(n) < sizeof cursor)
			snprintf(cursor, sizeof cursor, "%s", n);
		json_decref(j);
	}
}

static int run(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "search"))
		return cmd_search(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "watch"))
		return cmd_watch(argc, argv);
	return run_daemon(argc, argv);
}

const ctng_cli_cmd ctng_cmd_monitor = {
    "monitor", "run a monitor daemon (--config FILE); search and watch certificates", usage, run};
