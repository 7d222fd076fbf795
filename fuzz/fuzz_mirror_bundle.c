/*
 * fuzz_mirror_bundle.c — libFuzzer target for the entry bundles a monitor
 * receives from loggers and peer mirrors (ctng_mirror_bundle_parse). The
 * first byte is the width - 1, the second the tile index; the rest is the
 * bundle. Invariants: no crash or leak; on success every entry lies inside
 * the input, the entries are contiguous and cover it exactly, and a
 * leaf_index, when present, is the entry's index.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/mirror.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned width = (unsigned)data[0] + 1;
	uint64_t tile = data[1];
	const uint8_t *b = data + 2;
	size_t n = size - 2;
	ctng_mirror_entry e[256];
	if (ctng_mirror_bundle_parse(b, n, tile, width, NULL, e, NULL) != 0)
		return 0;
	const uint8_t *p = b;
	for (unsigned i = 0; i < width; i++) {
		if (e[i].tile_leaf != p || e[i].te != p || e[i].te_len > e[i].tile_leaf_len ||
		    e[i].cert < b || e[i].cert + e[i].cert_len > b + n || e[i].cert_len == 0)
			abort();
		if (e[i].has_leaf_index && e[i].leaf_index != tile * 256 + i)
			abort();
		p += e[i].tile_leaf_len;
	}
	if (p != b + n)
		abort();
	return 0;
}
