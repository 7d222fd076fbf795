/*
 * range.c — the compact range of a Merkle tree (its right edge: one perfect
 * subtree hash per set bit of the size), which is all a verifier keeps to
 * extend a tree it has checked and to recompute its root; and the public
 * reusable hasher. Used by the monitor's mirror (src/mirror) and by the
 * verification of the data proof of misbehaviour (src/proto/datapom.c).
 */
#include <stdlib.h>
#include <string.h>

#include "merkle/merkle_internal.h"

struct ctng_merkle_hasher {
	mk_hasher h;
};

int ctng_merkle_hasher_new(ctng_merkle_hasher **out)
{
	ctng_merkle_hasher *h = calloc(1, sizeof(*h));
	if (!h || mk_hasher_init(&h->h)) {
		free(h);
		*out = NULL;
		return CTNG_ENOMEM;
	}
	*out = h;
	return 0;
}

void ctng_merkle_hasher_free(ctng_merkle_hasher *h)
{
	if (!h)
		return;
	mk_hasher_free(&h->h);
	free(h);
}

int ctng_merkle_hasher_leaf(ctng_merkle_hasher *h, uint8_t out[32], const void *data, size_t len)
{
	return h ? mk_hash_leaf(&h->h, out, data, len) : ctng_merkle_leaf_hash(out, data, len);
}

int ctng_merkle_hasher_leaf_parts(ctng_merkle_hasher *h, uint8_t out[32], const void *a,
                                  size_t alen, const void *b, size_t blen)
{
	static const uint8_t prefix = 0x00;
	mk_hasher tmp = {0};
	mk_hasher *m = h ? &h->h : &tmp;
	if (!h && mk_hasher_init(&tmp))
		return CTNG_ENOMEM;
	int rc = 0;
	if (!EVP_DigestInit_ex2(m->ctx, mk_sha256(), NULL) ||
	    !EVP_DigestUpdate(m->ctx, &prefix, 1) || (alen && !EVP_DigestUpdate(m->ctx, a, alen)) ||
	    (blen && !EVP_DigestUpdate(m->ctx, b, blen)) || !EVP_DigestFinal_ex(m->ctx, out, NULL))
		rc = CTNG_ENOMEM;
	if (!h)
		mk_hasher_free(&tmp);
	return rc;
}

int ctng_merkle_hasher_node(ctng_merkle_hasher *h, uint8_t out[32], const uint8_t l[32],
                            const uint8_t r[32])
{
	return h ? mk_hash_node(&h->h, out, l, r) : ctng_merkle_node_hash(out, l, r);
}

static int node(ctng_merkle_hasher *hs, uint8_t out[32], const uint8_t l[32], const uint8_t r[32],
                ctng_err *err)
{
	if (ctng_merkle_hasher_node(hs, out, l, r))
		return ctng_err_set(err, CTNG_ENOMEM, "merkle: hashing failed");
	return 0;
}

void ctng_merkle_range_init(ctng_merkle_range *r)
{
	r->size = 0;
	r->n = 0;
}

int ctng_merkle_range_set(ctng_merkle_range *r, uint64_t size, const uint8_t (*hashes)[32],
                          unsigned n, ctng_err *err)
{
	if (n != (unsigned)__builtin_popcountll(size) || (n && !hashes))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "merkle range: %u hashes for size %llu, want %d", n,
		                    (unsigned long long)size, __builtin_popcountll(size));
	r->size = size;
	r->n = n;
	if (n)
		memcpy(r->h, hashes, (size_t)n * 32);
	return 0;
}

unsigned ctng_merkle_range_height(const ctng_merkle_range *r, unsigned i)
{
	/* The i-th set bit of size counted from the top. */
	uint64_t s = r->size;
	for (unsigned k = 0; k < i && s; k++)
		s &= ~((uint64_t)1 << (63 - __builtin_clzll(s)));
	return s ? 63u - (unsigned)__builtin_clzll(s) : 0;
}

int ctng_merkle_range_append_node(ctng_merkle_range *r, ctng_merkle_hasher *hs, unsigned height,
                                  const uint8_t hash[32], ctng_err *err)
{
	if (height >= 64)
		return ctng_err_set(err, CTNG_EINVAL, "merkle range: height %u too large", height);
	uint64_t unit = (uint64_t)1 << height;
	if (r->size & (unit - 1))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "merkle range: size %llu is not a multiple of 2^%u",
		                    (unsigned long long)r->size, height);
	if (r->size > UINT64_MAX - unit)
		return ctng_err_set(err, CTNG_ERANGE, "merkle range: tree full");
	uint8_t cur[32];
	memcpy(cur, hash, 32);
	uint64_t s = r->size;
	unsigned h = height;
	/* Binary carry: equal heights merge, the older (left) one first. */
	while (h < 64 && ((s >> h) & 1)) {
		int rc = node(hs, cur, r->h[r->n - 1], cur, err);
		if (rc)
			return rc;
		r->n--;
		s &= ~((uint64_t)1 << h);
		h++;
	}
	memcpy(r->h[r->n++], cur, 32);
	r->size += unit;
	return 0;
}

int ctng_merkle_range_append(ctng_merkle_range *r, ctng_merkle_hasher *hs,
                             const uint8_t leaf_hash[32], ctng_err *err)
{
	return ctng_merkle_range_append_node(r, hs, 0, leaf_hash, err);
}

/* Folds hashes [0, n) right to left onto acc. */
static int fold(const ctng_merkle_range *r, ctng_merkle_hasher *hs, unsigned n, uint8_t acc[32],
                ctng_err *err)
{
	for (unsigned i = n; i-- > 0;) {
		int rc = node(hs, acc, r->h[i], acc, err);
		if (rc)
			return rc;
	}
	return 0;
}

int ctng_merkle_range_root(const ctng_merkle_range *r, ctng_merkle_hasher *hs, uint8_t out[32],
                           ctng_err *err)
{
	if (r->n == 0) {
		ctng_merkle_empty_root(out);
		return 0;
	}
	uint8_t acc[32];
	memcpy(acc, r->h[r->n - 1], 32);
	int rc = fold(r, hs, r->n - 1, acc, err);
	if (!rc)
		memcpy(out, acc, 32);
	return rc;
}

int ctng_merkle_range_root_with(const ctng_merkle_range *r, ctng_merkle_hasher *hs,
                                const uint8_t tail[32], uint64_t tail_size, uint8_t out[32],
                                ctng_err *err)
{
	if (tail_size == 0)
		return ctng_err_set(err, CTNG_EINVAL, "merkle range: empty tail");
	if (r->n) {
		uint64_t low = r->size & (~r->size + 1); /* leaves of the smallest subtree */
		if (tail_size >= low)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "merkle range: a tail of %llu leaves after size %llu "
			                    "is not the last subtree",
			                    (unsigned long long)tail_size,
			                    (unsigned long long)r->size);
	}
	uint8_t acc[32];
	memcpy(acc, tail, 32);
	int rc = fold(r, hs, r->n, acc, err);
	if (!rc)
		memcpy(out, acc, 32);
	return rc;
}

void ctng_merkle_range_truncate(ctng_merkle_range *r, unsigned height)
{
	if (height >= 64) {
		ctng_merkle_range_init(r);
		return;
	}
	uint64_t s = r->size & ~(((uint64_t)1 << height) - 1);
	r->n = (unsigned)__builtin_popcountll(s);
	r->size = s;
}
