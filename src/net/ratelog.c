/*
 * ratelog.c — rate limiting of repeated log lines in src/net: one line per
 * kind of event per CTNG_NET_RATELOG_MS at most, carrying the count of the
 * events that were not logged, so an attack or an exhausted resource can
 * never flood the log (issue 10, defect 4: 597 MB of "Too many open files").
 */
#include "net_internal.h"

bool ctng_net_ratelog_(struct ratelog *r, uint64_t now_ms, uint64_t *suppressed)
{
	if (r->last_ms && now_ms - r->last_ms < CTNG_NET_RATELOG_MS) {
		r->suppressed++;
		return false;
	}
	*suppressed = r->suppressed;
	r->suppressed = 0;
	r->last_ms = now_ms ? now_ms : 1;
	return true;
}
