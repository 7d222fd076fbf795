/* log.c — leveled logging, one line per event in key=value form:
 *   ts=2026-11-21T13:40:00.123Z level=info node=gossiper1 msg="..." k=v ...
 * Lines go to stderr with one write() each, so concurrent writers (threads or
 * processes sharing a terminal) never interleave inside a line. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctng/base.h"

static ctng_log_level g_level = CTNG_LOG_INFO;
static char g_node[64];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void ctng_log_set_level(ctng_log_level lvl)
{
	g_level = lvl;
}

ctng_log_level ctng_log_get_level(void)
{
	return g_level;
}

int ctng_log_parse_level(const char *s)
{
	static const char *names[] = {"debug", "info", "warn", "error", "off"};
	for (int i = 0; i < 5; i++)
		if (s && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void ctng_log_set_node(const char *node)
{
	pthread_mutex_lock(&g_lock);
	snprintf(g_node, sizeof(g_node), "%s", node ? node : "");
	pthread_mutex_unlock(&g_lock);
}

void ctng_log(ctng_log_level lvl, const char *msg, const char *fields, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (lvl < g_level || lvl >= CTNG_LOG_OFF)
		return;
	char line[1024];
	uint64_t now = ctng_now_ms();
	char ts[CTNG_RFC3339_LEN];
	ctng_rfc3339(ts, now);
	ts[19] = 0; /* drop the Z, add milliseconds */
	pthread_mutex_lock(&g_lock);
	int n =
	    snprintf(line, sizeof(line), "ts=%s.%03uZ level=%s%s%s msg=\"%s\"", ts,
	             (unsigned)(now % 1000), names[lvl], g_node[0] ? " node=" : "", g_node, msg);
	pthread_mutex_unlock(&g_lock);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(line) - 2 && fields && fields[0]) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fields);
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fields, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
