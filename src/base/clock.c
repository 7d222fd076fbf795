/* clock.c — wall and monotonic clocks, RFC 3339 timestamps, strict decimal
 * parsing, and the period clock of DESIGN §2: period p of a network is
 * floor((now - genesis) / period_ms), a plain unsigned integer that never
 * wraps (the seed's code used the minute of the hour and broke at 59). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctng/base.h"

uint64_t ctng_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ctng_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ctng_mono_ms(void)
{
	return ctng_mono_ns() / 1000000u;
}

void ctng_rfc3339(char out[CTNG_RFC3339_LEN], uint64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(out, CTNG_RFC3339_LEN, "9999-12-31T23:59:59Z");
		return;
	}
	strftime(out, CTNG_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int ctng_rfc3339_parse(const char *s, uint64_t *unix_ms, ctng_err *err)
{
	int Y, M, D, h, m, sec, ms = 0;
	if (!s || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
	    s[7] != '-' || digits(s + 8, 2, &D) || s[10] != 'T' || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return ctng_err_set(err, CTNG_EINVAL, "timestamp is not RFC 3339 UTC");
	const char *p = s + 19;
	if (*p == '.') {
		int nd = 0;
		p++;
		while (*p >= '0' && *p <= '9' && nd < 9) {
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
			nd++;
			p++;
		}
		if (nd == 0)
			return ctng_err_set(err, CTNG_EINVAL, "timestamp has an empty fraction");
		for (int k = nd; k < 3; k++)
			ms *= 10;
	}
	if (p[0] != 'Z' || p[1] != 0)
		return ctng_err_set(err, CTNG_EINVAL, "timestamp must end in Z (UTC)");
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 ||
	    sec > 60)
		return ctng_err_set(err, CTNG_EINVAL, "timestamp field out of range");
	/* days from civil (Howard Hinnant's algorithm) */
	int y = Y - (M <= 2);
	int era = y / 400;
	int yoe = y - era * 400;
	int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
		return ctng_err_set(err, CTNG_EINVAL, "timestamp field out of range");
	*unix_ms =
	    ((uint64_t)days * 86400u + (uint64_t)h * 3600u + (uint64_t)m * 60u + (uint64_t)sec) *
	        1000u +
	    (uint64_t)ms;
	return 0;
}

int ctng_parse_u64(const char *s, uint64_t max, uint64_t *v, ctng_err *err)
{
	if (!s || !*s)
		return ctng_err_set(err, CTNG_EINVAL, "empty number");
	size_t n = strlen(s);
	if (n > 20)
		return ctng_err_set(err, CTNG_ERANGE, "number too long");
	if (s[0] == '0' && n > 1)
		return ctng_err_set(err, CTNG_EINVAL, "number has a leading zero");
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ctng_err_set(err, CTNG_EINVAL, "'%s' is not a decimal number", s);
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return ctng_err_set(err, CTNG_ERANGE, "number too large");
		x = x * 10 + d;
	}
	if (x > max)
		return ctng_err_set(err, CTNG_ERANGE, "number %llu above maximum %llu",
		                    (unsigned long long)x, (unsigned long long)max);
	*v = x;
	return 0;
}

int ctng_parse_period(const char *s, uint64_t *p, ctng_err *err)
{
	/* 19 digits keeps every period below 10^19 < 2^64. */
	if (s && strlen(s) > 19)
		return ctng_err_set(err, CTNG_ERANGE, "period has more than 19 digits");
	return ctng_parse_u64(s, UINT64_MAX, p, err);
}

int ctng_clock_check(const ctng_clock *c, ctng_err *err)
{
	if (c->period_ms == 0)
		return ctng_err_set(err, CTNG_EINVAL, "period_ms must be positive");
	if (c->query_offset_ms >= c->period_ms)
		return ctng_err_set(err, CTNG_EINVAL, "query_offset_ms must be below period_ms");
	if (c->update_offset_ms >= c->period_ms || c->update_offset_ms < c->query_offset_ms)
		return ctng_err_set(
		    err, CTNG_EINVAL,
		    "update_offset_ms must lie between query_offset_ms and period_ms");
	if (c->query_offset_ms + c->gossip_wait_ms > c->update_offset_ms)
		return ctng_err_set(
		    err, CTNG_EINVAL,
		    "query_offset_ms + gossip_wait_ms must not pass update_offset_ms");
	return 0;
}

bool ctng_clock_period_of(const ctng_clock *c, uint64_t now_ms, uint64_t *p)
{
	if (c->period_ms == 0 || now_ms < c->genesis_ms)
		return false;
	*p = (now_ms - c->genesis_ms) / c->period_ms;
	return true;
}

uint64_t ctng_clock_period_start(const ctng_clock *c, uint64_t p)
{
	if (c->period_ms && p > (UINT64_MAX - c->genesis_ms) / c->period_ms)
		return UINT64_MAX;
	return c->genesis_ms + p * c->period_ms;
}

uint64_t ctng_clock_ms_until_next(const ctng_clock *c, uint64_t now_ms)
{
	uint64_t p;
	if (!ctng_clock_period_of(c, now_ms, &p))
		return c->genesis_ms - now_ms;
	uint64_t next = ctng_clock_period_start(c, p + 1);
	return next > now_ms ? next - now_ms : 0;
}

bool ctng_clock_period_acceptable(uint64_t cur, uint64_t obj_period)
{
	if (obj_period == cur)
		return true;
	if (cur > 0 && obj_period == cur - 1)
		return true;
	return cur < UINT64_MAX && obj_period == cur + 1;
}

uint64_t ctng_clock_query_window_ms(const ctng_clock *c)
{
	/* An ACC sent at the deadline still needs gossip_wait and the FRAG/FULL
	 * gossip before update_offset: the pull gets half of the slack. */
	uint64_t busy = c->query_offset_ms + c->gossip_wait_ms;
	uint64_t w =
	    c->update_offset_ms > busy ? (c->update_offset_ms - busy) / 2 : c->gossip_wait_ms / 2;
	return w < 50 ? 50 : w;
}

uint64_t ctng_clock_query_deadline(const ctng_clock *c, uint64_t p)
{
	uint64_t s = ctng_clock_period_start(c, p), d = c->query_offset_ms + ctng_clock_query_window_ms(c);
	return s > UINT64_MAX - d ? UINT64_MAX : s + d;
}

uint64_t ctng_clock_skew_ms(const ctng_clock *c)
{
	return ctng_clock_query_window_ms(c) / 2;
}
