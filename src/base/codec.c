/* codec.c — strict hex and base64 (RFC 4648) encoders and decoders. Every
 * decoder rejects bad characters, bad padding, non-canonical trailing bits
 * and wrong lengths, because these parse outside input. */
#include <stdlib.h>
#include <string.h>

#include "ctng/base.h"

static const char hexdigits[] = "0123456789abcdef";

void ctng_hex_encode(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 15];
	}
	out[2 * n] = 0;
}

char *ctng_hex_strdup(const uint8_t *in, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (s)
		ctng_hex_encode(s, in, n);
	return s;
}

int ctng_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode_n(uint8_t *out, const char *hex, size_t n, ctng_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int hi = ctng_hex_digit(hex[2 * i]), lo = ctng_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ctng_err_set(err, CTNG_EINVAL, "bad hex character at offset %zu",
			                    hi < 0 ? 2 * i : 2 * i + 1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int ctng_hex_decode_exact(uint8_t *out, size_t out_len, const char *hex, ctng_err *err)
{
	if (!hex)
		return ctng_err_set(err, CTNG_EINVAL, "missing hex string");
	size_t len = strlen(hex);
	if (len != 2 * out_len)
		return ctng_err_set(err, CTNG_EINVAL, "hex string has %zu digits, want %zu", len,
		                    2 * out_len);
	return hex_decode_n(out, hex, out_len, err);
}

int ctng_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len, ctng_err *err)
{
	if (!hex)
		return ctng_err_set(err, CTNG_EINVAL, "missing hex string");
	size_t len = strlen(hex);
	if (len % 2)
		return ctng_err_set(err, CTNG_EINVAL, "hex string has an odd number of digits");
	uint8_t *p = malloc(len / 2 + 1);
	if (!p)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = hex_decode_n(p, hex, len / 2, err);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	*out_len = len / 2;
	return 0;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ctng_b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static void b64_encode_with(char *out, const uint8_t *in, size_t n, const char *tab, bool pad)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = 0;
}

void ctng_b64_encode(char *out, const uint8_t *in, size_t n)
{
	b64_encode_with(out, in, n, b64chars, true);
}

char *ctng_b64_strdup(const uint8_t *in, size_t n)
{
	char *s = malloc(ctng_b64_encoded_len(n) + 1);
	if (s)
		ctng_b64_encode(s, in, n);
	return s;
}

char *ctng_b64url_strdup(const uint8_t *in, size_t n)
{
	char *s = malloc(ctng_b64_encoded_len(n) + 1);
	if (s)
		b64_encode_with(s, in, n, b64url, false);
	return s;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ctng_b64_decode_alloc(const char *s, size_t slen, uint8_t **out, size_t *out_len, ctng_err *err)
{
	if (!s)
		return ctng_err_set(err, CTNG_EINVAL, "missing base64 string");
	if (slen % 4)
		return ctng_err_set(err, CTNG_EINVAL, "base64 length %zu is not a multiple of 4",
		                    slen);
	size_t pad = 0;
	if (slen >= 1 && s[slen - 1] == '=')
		pad++;
	if (slen >= 2 && s[slen - 2] == '=')
		pad++;
	size_t n = slen / 4 * 3 - pad;
	uint8_t *p = malloc(n + 1);
	if (!p)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	size_t o = 0;
	for (size_t i = 0; i < slen; i += 4) {
		int v[4];
		bool last = i + 4 == slen;
		for (int k = 0; k < 4; k++) {
			char c = s[i + k];
			if (c == '=' && last && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			v[k] = b64val(c);
			if (v[k] < 0) {
				free(p);
				return ctng_err_set(err, CTNG_EINVAL,
				                    "bad base64 character at offset %zu", i + k);
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		             (uint32_t)v[3];
		if (last && pad == 2 && (w & 0xffff)) {
			free(p);
			return ctng_err_set(err, CTNG_EINVAL, "base64 has non-zero padding bits");
		}
		if (last && pad == 1 && (w & 0xff)) {
			free(p);
			return ctng_err_set(err, CTNG_EINVAL, "base64 has non-zero padding bits");
		}
		p[o++] = (uint8_t)(w >> 16);
		if (o < n)
			p[o++] = (uint8_t)(w >> 8);
		if (o < n)
			p[o++] = (uint8_t)w;
	}
	p[n] = 0;
	*out = p;
	*out_len = n;
	return 0;
}

int ctng_b64_decode_exact(uint8_t *out, size_t out_len, const char *s, ctng_err *err)
{
	uint8_t *p;
	size_t n;
	int rc = ctng_b64_decode_alloc(s, s ? strlen(s) : 0, &p, &n, err);
	if (rc)
		return rc;
	if (n != out_len) {
		free(p);
		return ctng_err_set(err, CTNG_EINVAL, "base64 decodes to %zu bytes, want %zu", n,
		                    out_len);
	}
	memcpy(out, p, n);
	free(p);
	return 0;
}
