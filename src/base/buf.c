/* buf.c — growable byte buffers and big-endian / length-prefixed appends
 * used to build canonical encodings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/base.h"

int ctng_buf_reserve(ctng_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return CTNG_ENOMEM;
	size_t need = b->len + extra + 1; /* room for the trailing NUL */
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return CTNG_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int ctng_buf_append(ctng_buf *b, const void *p, size_t n)
{
	if (ctng_buf_reserve(b, n))
		return CTNG_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int ctng_buf_append_u8(ctng_buf *b, uint8_t v)
{
	return ctng_buf_append(b, &v, 1);
}

static int append_be(ctng_buf *b, uint64_t v, int bytes)
{
	uint8_t tmp[8];
	for (int i = 0; i < bytes; i++)
		tmp[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return ctng_buf_append(b, tmp, (size_t)bytes);
}

int ctng_buf_append_u16be(ctng_buf *b, uint16_t v)
{
	return append_be(b, v, 2);
}

int ctng_buf_append_u24be(ctng_buf *b, uint32_t v)
{
	return append_be(b, v, 3);
}

int ctng_buf_append_u32be(ctng_buf *b, uint32_t v)
{
	return append_be(b, v, 4);
}

int ctng_buf_append_u64be(ctng_buf *b, uint64_t v)
{
	return append_be(b, v, 8);
}

int ctng_buf_append_lp32(ctng_buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		return CTNG_ERANGE;
	int rc = ctng_buf_append_u32be(b, (uint32_t)n);
	return rc ? rc : ctng_buf_append(b, p, n);
}

int ctng_buf_printf(ctng_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return CTNG_EINVAL;
	if (ctng_buf_reserve(b, (size_t)n))
		return CTNG_ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void ctng_buf_reset(ctng_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void ctng_buf_free(ctng_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *ctng_buf_detach(ctng_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
