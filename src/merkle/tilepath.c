/*
 * tilepath.c — C2SP tlog-tiles path encoding: tile indices written as
 * 3-digit groups ("x001/x234/067"), the ".p/<W>" partial-tile suffix, and a
 * strict parser for the same (outside input: URLs requested from the log).
 */
#include <stdio.h>
#include <string.h>

#include "merkle/merkle_internal.h"

int ctng_merkle_tile_index_format(char *out, size_t cap, uint64_t n, unsigned width)
{
	if (!out)
		return CTNG_EINVAL;
	if (width == 0 || width > CTNG_MERKLE_TILE_WIDTH)
		return CTNG_EINVAL;
	unsigned groups[7];
	unsigned ng = 0;
	do {
		groups[ng++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n);
	size_t pos = 0;
	for (unsigned i = ng; i-- > 0;) {
		int w = snprintf(out + pos, cap > pos ? cap - pos : 0, "%s%03u%s", i ? "x" : "",
		                 groups[i], i ? "/" : "");
		if (w < 0 || (size_t)w >= (cap > pos ? cap - pos : 0))
			return CTNG_ERANGE;
		pos += (size_t)w;
	}
	if (width < CTNG_MERKLE_TILE_WIDTH) {
		int w = snprintf(out + pos, cap - pos, ".p/%u", width);
		if (w < 0 || (size_t)w >= cap - pos)
			return CTNG_ERANGE;
	}
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int ctng_merkle_tile_index_parse(const char *s, uint64_t *n, unsigned *width, ctng_err *err)
{
	if (!s || !n || !width)
		return ctng_err_set(err, CTNG_EINVAL, "tile path: NULL argument");
	uint64_t v = 0;
	unsigned groups = 0;
	const char *p = s;
	for (;;) {
		int prefixed = (*p == 'x');
		if (prefixed)
			p++;
		if (!is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "tile path: index groups must be 3 digits");
		unsigned g = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
		p += 3;
		if (groups == 0 && prefixed && g == 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "tile path: non-canonical leading zero group");
		if (++groups > 7 || v > (UINT64_MAX - g) / 1000)
			return ctng_err_set(err, CTNG_EINVAL, "tile path: index too large");
		v = v * 1000 + g;
		if (prefixed) {
			if (*p != '/')
				return ctng_err_set(err, CTNG_EINVAL,
				                    "tile path: 'x' group must be followed by '/'");
			p++;
			continue;
		}
		break;
	}
	unsigned w = CTNG_MERKLE_TILE_WIDTH;
	if (*p == '.') {
		if (p[1] != 'p' || p[2] != '/')
			return ctng_err_set(err, CTNG_EINVAL, "tile path: bad partial suffix");
		p += 3;
		if (!is_digit(*p) || *p == '0')
			return ctng_err_set(
			    err, CTNG_EINVAL,
			    "tile path: partial width must be 1..255 without leading zeros");
		w = 0;
		unsigned digits = 0;
		while (is_digit(*p)) {
			if (++digits > 3)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "tile path: partial width too large");
			w = w * 10 + (unsigned)(*p - '0');
			p++;
		}
		if (w >= CTNG_MERKLE_TILE_WIDTH)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "tile path: partial width must be below 256");
	}
	if (*p != '\0')
		return ctng_err_set(err, CTNG_EINVAL, "tile path: trailing characters");
	*n = v;
	*width = w;
	return 0;
}

int ctng_merkle_tile_path(char *out, size_t cap, unsigned level, uint64_t n, unsigned width)
{
	if (!out || level > 63)
		return CTNG_EINVAL;
	int w = snprintf(out, cap, "tile/%u/", level);
	if (w < 0 || (size_t)w >= cap)
		return CTNG_ERANGE;
	return ctng_merkle_tile_index_format(out + w, cap - (size_t)w, n, width);
}

int ctng_merkle_tile_path_parse(const char *path, unsigned *level, uint64_t *n, unsigned *width,
                                ctng_err *err)
{
	if (!path || !level || !n || !width)
		return ctng_err_set(err, CTNG_EINVAL, "tile path: NULL argument");
	if (strncmp(path, "tile/", 5) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "tile path: must start with tile/");
	const char *p = path + 5;
	if (!is_digit(*p))
		return ctng_err_set(err, CTNG_EINVAL, "tile path: level must be a decimal number");
	unsigned l = 0, digits = 0;
	while (is_digit(*p)) {
		if (++digits > 2)
			return ctng_err_set(err, CTNG_EINVAL, "tile path: level too large");
		l = l * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (digits == 2 && path[5] == '0')
		return ctng_err_set(err, CTNG_EINVAL, "tile path: level with leading zero");
	if (l > 63)
		return ctng_err_set(err, CTNG_EINVAL, "tile path: level above 63");
	if (*p != '/')
		return ctng_err_set(err, CTNG_EINVAL, "tile path: expected '/' after level");
	int rc = ctng_merkle_tile_index_parse(p + 1, n, width, err);
	if (rc)
		return rc;
	*level = l;
	return 0;
}
