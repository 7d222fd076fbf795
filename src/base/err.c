/* err.c — the ctng_err error value: a code plus a one-line message. */
#include <stdio.h>
#include <string.h>

#include "ctng/base.h"

int ctng_err_set(ctng_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int ctng_err_wrap(ctng_err *err, const char *fmt, ...)
{
	if (!err)
		return CTNG_EINVAL;
	char prefix[128], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3, olen = strlen(old);
	if (olen > room)
		olen = room;
	memcpy(err->msg + n + 2, old, olen);
	err->msg[n + 2 + olen] = 0;
	return err->code ? err->code : CTNG_EINVAL;
}

const char *ctng_err_name(int code)
{
	switch (code) {
	case CTNG_OK:
		return "OK";
	case CTNG_EINVAL:
		return "EINVAL";
	case CTNG_EVERIFY:
		return "EVERIFY";
	case CTNG_ENOTFOUND:
		return "ENOTFOUND";
	case CTNG_ECONFLICT:
		return "ECONFLICT";
	case CTNG_EIO:
		return "EIO";
	case CTNG_ENOMEM:
		return "ENOMEM";
	case CTNG_ERANGE:
		return "ERANGE";
	case CTNG_ETIMEOUT:
		return "ETIMEOUT";
	case CTNG_ESTATE:
		return "ESTATE";
	default:
		return "EUNKNOWN";
	}
}
