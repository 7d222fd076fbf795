/*
 * leaves.c — the leaves-file format of `ctng merkle` (DESIGN §10): one hex
 * leaf per line, hashed as RFC 6962 leaves. Outside input: parsed strictly.
 */
#include <stdlib.h>
#include <string.h>

#include "ctng/base.h"
#include "merkle/merkle_internal.h"

int ctng_merkle_leaves_parse(const char *text, size_t len, uint8_t (**hashes)[32], uint64_t *n,
                             ctng_err *err)
{
	if (!hashes || !n || (len && !text))
		return ctng_err_set(err, CTNG_EINVAL, "leaves: NULL argument");
	*hashes = NULL;
	*n = 0;
	mk_hasher hs;
	if (mk_hasher_init(&hs))
		return ctng_err_set(err, CTNG_ENOMEM, "leaves: out of memory");
	uint8_t(*out)[32] = NULL;
	uint64_t count = 0, cap = 0;
	uint8_t *data = NULL;
	size_t data_cap = 0;
	int rc = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t line_len = end - pos;
		if (line_len && text[pos + line_len - 1] == '\r')
			line_len--;
		uint64_t lineno = count + 1;
		if (line_len % 2) {
			rc = ctng_err_set(err, CTNG_EINVAL,
			                  "leaves: line %llu: odd number of hex digits",
			                  (unsigned long long)lineno);
			goto out;
		}
		size_t dlen = line_len / 2;
		if (dlen > data_cap) {
			uint8_t *p = realloc(data, dlen);
			if (!p) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "leaves: out of memory");
				goto out;
			}
			data = p;
			data_cap = dlen;
		}
		for (size_t i = 0; i < dlen; i++) {
			int hi = ctng_hex_digit(text[pos + 2 * i]),
			    lo = ctng_hex_digit(text[pos + 2 * i + 1]);
			if (hi < 0 || lo < 0) {
				rc = ctng_err_set(
				    err, CTNG_EINVAL,
				    "leaves: line %llu: not a hex digit at column %zu",
				    (unsigned long long)lineno, hi < 0 ? 2 * i + 1 : 2 * i + 2);
				goto out;
			}
			data[i] = (uint8_t)(hi << 4 | lo);
		}
		if (count == cap) {
			uint64_t nc = cap ? cap * 2 : 64;
			void *p = realloc(out, (size_t)nc * 32);
			if (!p) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "leaves: out of memory");
				goto out;
			}
			out = p;
			cap = nc;
		}
		if (mk_hash_leaf(&hs, out[count], data, dlen)) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "leaves: hashing failed");
			goto out;
		}
		count++;
		pos = nl ? end + 1 : len;
	}
out:
	free(data);
	mk_hasher_free(&hs);
	if (rc) {
		free(out);
		return rc;
	}
	*hashes = out;
	*n = count;
	return 0;
}
