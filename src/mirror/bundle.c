/*
 * bundle.c — the strict parser of C2SP / static-ct-api entry bundles
 * (GET /tile/data/<N>[.p/<W>]): a sequence of TileLeaf structures,
 *
 *   TimestampedEntry   u64 timestamp, u16 entry_type,
 *                      x509:    opaque cert<1..2^24-1>
 *                      precert: issuer_key_hash[32], opaque tbs<1..2^24-1>
 *                      opaque extensions<0..2^16-1>
 *   precert only:      opaque pre_certificate<1..2^24-1>
 *   opaque certificate_chain<0..2^16-1>   (32-byte fingerprints)
 *
 * as served by loggers and by peer mirrors. Zero copy: the entries point
 * into the caller's buffer. Each entry's leaf hash is computed here, since
 * nothing can be done with an entry before it is checked against its root.
 */
#include <string.h>

#include "ctng/mirror.h"

typedef struct rd {
	const uint8_t *p;
	size_t n, off;
} rd;

static bool take(rd *r, size_t k, const uint8_t **out)
{
	if (r->n - r->off < k)
		return false;
	*out = r->p + r->off;
	r->off += k;
	return true;
}

static bool uint_be(rd *r, size_t k, uint64_t *v)
{
	const uint8_t *p;
	if (!take(r, k, &p))
		return false;
	*v = 0;
	for (size_t i = 0; i < k; i++)
		*v = (*v << 8) | p[i];
	return true;
}

/* opaque<min..2^(8*lb)-1> */
static bool opaque(rd *r, size_t lb, size_t min, const uint8_t **p, size_t *len)
{
	uint64_t l;
	if (!uint_be(r, lb, &l) || l < min)
		return false;
	*len = (size_t)l;
	return take(r, (size_t)l, p);
}

/* CtExtensions: Extension { u8 type; opaque data<0..2^16-1>; } list. */
static int parse_extensions(ctng_mirror_entry *e, unsigned i, ctng_err *err)
{
	rd r = {e->extensions, e->extensions_len, 0};
	while (r.off < r.n) {
		uint64_t type;
		const uint8_t *d;
		size_t dl;
		if (!uint_be(&r, 1, &type) || !opaque(&r, 2, 0, &d, &dl))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: extensions: truncated extension", i);
		if (type != CTNG_CT_EXT_LEAF_INDEX)
			continue;
		if (e->has_leaf_index)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: extensions: leaf_index twice", i);
		if (dl != 5)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: extensions: leaf_index of %zu bytes, "
			                    "want 5",
			                    i, dl);
		e->has_leaf_index = true;
		e->leaf_index = 0;
		for (int k = 0; k < 5; k++)
			e->leaf_index = (e->leaf_index << 8) | d[k];
	}
	return 0;
}

int ctng_mirror_bundle_parse(const uint8_t *data, size_t len, uint64_t tile, unsigned width,
                             ctng_merkle_hasher *hs, ctng_mirror_entry *out, ctng_err *err)
{
	if (width == 0 || width > 256)
		return ctng_err_set(err, CTNG_EINVAL, "bundle: width %u not in 1..256", width);
	if (len > CTNG_MIRROR_BUNDLE_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "bundle: %zu bytes, more than %u", len,
		                    CTNG_MIRROR_BUNDLE_MAX);
	if (tile > (UINT64_MAX >> 8))
		return ctng_err_set(err, CTNG_EINVAL, "bundle: tile index out of range");
	rd r = {data, len, 0};
	static const uint8_t leaf_prefix[2] = {0, 0}; /* version v1, timestamped_entry */
	for (unsigned i = 0; i < width; i++) {
		ctng_mirror_entry *e = &out[i];
		memset(e, 0, sizeof(*e));
		size_t start = r.off;
		uint64_t type;
		if (r.off == r.n)
			return ctng_err_set(err, CTNG_EINVAL, "bundle: %u entries, want %u", i,
			                    width);
		if (!uint_be(&r, 8, &e->timestamp_ms) || !uint_be(&r, 2, &type))
			return ctng_err_set(err, CTNG_EINVAL, "bundle entry %u: truncated header",
			                    i);
		if (type > 1)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: entry_type %llu is neither x509 nor "
			                    "precert",
			                    i, (unsigned long long)type);
		e->entry_type = (uint16_t)type;
		if (type == 1 && !take(&r, 32, &e->issuer_key_hash))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: truncated issuer hash", i);
		if (!opaque(&r, 3, 1, &e->cert, &e->cert_len))
			return ctng_err_set(err, CTNG_EINVAL, "bundle entry %u: bad %s length", i,
			                    type ? "tbs_certificate" : "certificate");
		if (!opaque(&r, 2, 0, &e->extensions, &e->extensions_len))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: bad extensions length", i);
		e->te = data + start;
		e->te_len = r.off - start;
		if (type == 1 && !opaque(&r, 3, 1, &e->precert, &e->precert_len))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: bad pre_certificate length", i);
		const uint8_t *chain;
		size_t chain_bytes;
		if (!opaque(&r, 2, 0, &chain, &chain_bytes) || chain_bytes % 32)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "bundle entry %u: certificate_chain is not whole "
			                    "fingerprints",
			                    i);
		e->chain = chain_bytes ? chain : NULL;
		e->chain_len = chain_bytes / 32;
		e->tile_leaf = data + start;
		e->tile_leaf_len = r.off - start;
		int rc = parse_extensions(e, i, err);
		if (rc)
			return rc;
		uint64_t idx = tile * 256 + i;
		if (e->has_leaf_index && e->leaf_index != idx)
			return ctng_err_set(
			    err, CTNG_EINVAL, "bundle entry %u: leaf_index %llu, the entry is %llu",
			    i, (unsigned long long)e->leaf_index, (unsigned long long)idx);
		/* leaf hash = SHA-256(0x00 || MerkleTreeLeaf), MerkleTreeLeaf =
		 * 0x00 0x00 || TimestampedEntry: hashed without copying. */
		if (ctng_merkle_hasher_leaf_parts(hs, e->leaf_hash, leaf_prefix, 2, e->te,
		                                  e->te_len))
			return ctng_err_set(err, CTNG_ENOMEM, "bundle: hashing failed");
	}
	if (r.off != r.n)
		return ctng_err_set(err, CTNG_EINVAL, "bundle: %zu bytes after entry %u",
		                    r.n - r.off, width - 1);
	return 0;
}
