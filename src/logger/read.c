/*
 * read.c — every read answer of the log over the published tree: RFC 6962
 * JSON (STH, consistency and inclusion proofs, entries, roots), the C2SP
 * checkpoint, hash and data tiles, and issuer certificates.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/note.h"
#include "logger/logger_internal.h"

json_t *lg_path_json(const uint8_t (*proof)[32], size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, lg_b64_json(proof[i], 32))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int lg_need_sth(const ctng_logger *lg, ctng_err *err)
{
	return lg->has_sth ? 0 : ctng_err_set(err, CTNG_ENOTFOUND, "no STH published yet");
}

int ctng_logger_get_sth(ctng_logger *lg, json_t **out, ctng_err *err)
{
	*out = NULL;
	int rc = lg_need_sth(lg, err);
	if (rc)
		return rc;
	*out = json_pack("{s:I,s:I,s:o*,s:s}", "tree_size", (json_int_t)lg->sth.tree_size,
	                 "timestamp", (json_int_t)lg->sth.timestamp_ms, "sha256_root_hash",
	                 lg_b64_json(lg->sth.root, 32), "tree_head_signature",
	                 ctng_gossip_str(lg->sth_obj.signature[0]));
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_logger_get_sth_consistency(ctng_logger *lg, uint64_t first, uint64_t second, json_t **out,
                                    ctng_err *err)
{
	*out = NULL;
	uint64_t size = ctng_logger_tree_size(lg);
	if (first > second)
		return ctng_err_set(err, CTNG_EINVAL, "first (%llu) > second (%llu)",
		                    (unsigned long long)first, (unsigned long long)second);
	if (second > size)
		return ctng_err_set(err, CTNG_ERANGE, "second (%llu) exceeds the tree size %llu",
		                    (unsigned long long)second, (unsigned long long)size);
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	int rc = ctng_merkle_tiles_consistency(lg->tiles, first, second, proof, &n, err);
	if (rc)
		return rc;
	*out = json_pack("{s:o*}", "consistency", lg_path_json((const uint8_t(*)[32])proof, n));
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

/* Index of a leaf hash in the tree of tree_size leaves. */
int lg_find_leaf(ctng_logger *lg, const uint8_t hash[32], uint64_t tree_size, uint64_t *idx,
                 ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, Q_IDX_BY_HASH, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)tree_size);
	int r = sqlite3_step(st);
	int rc = 0;
	if (r == SQLITE_ROW)
		*idx = (uint64_t)sqlite3_column_int64(st, 0);
	else if (r == SQLITE_DONE)
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no leaf with that hash in the tree of %llu",
		                  (unsigned long long)tree_size);
	else
		rc = lg_db_err(lg, err, "find leaf");
	lg_done(st);
	return rc;
}

static int check_tree_size(const ctng_logger *lg, uint64_t tree_size, ctng_err *err)
{
	uint64_t size = ctng_logger_tree_size(lg);
	if (tree_size == 0)
		return ctng_err_set(err, CTNG_EINVAL, "tree_size must be at least 1");
	if (tree_size > size)
		return ctng_err_set(err, CTNG_ERANGE, "tree_size %llu exceeds the tree size %llu",
		                    (unsigned long long)tree_size, (unsigned long long)size);
	return 0;
}

int ctng_logger_get_proof_by_hash(ctng_logger *lg, const uint8_t hash[32], uint64_t tree_size,
                                  json_t **out, ctng_err *err)
{
	*out = NULL;
	uint64_t idx = 0;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	int rc;
	if ((rc = check_tree_size(lg, tree_size, err)) ||
	    (rc = lg_find_leaf(lg, hash, tree_size, &idx, err)) ||
	    (rc = ctng_merkle_tiles_inclusion(lg->tiles, idx, tree_size, proof, &n, err)))
		return rc;
	*out = json_pack("{s:I,s:o*}", "leaf_index", (json_int_t)idx, "audit_path",
	                 lg_path_json((const uint8_t(*)[32])proof, n));
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

/* Test-only hiding: entries start..end include the hidden one. */
static int hidden(const ctng_logger *lg, uint64_t start, uint64_t end, ctng_err *err)
{
	if (lg->hide_entry && lg->hidden_index >= start && lg->hidden_index <= end)
		return ctng_err_set(err, CTNG_ENOTFOUND, "entry %llu is not served",
		                    (unsigned long long)lg->hidden_index);
	return 0;
}

/* Test-only wrong data: every served entry's timestamp has its lowest bit
 * flipped (still a well-formed entry, but not the one in the tree). leaf is
 * a MerkleTreeLeaf (version, leaf_type, then the timestamp). */
static void alter(const ctng_logger *lg, uint8_t *leaf, size_t len)
{
	if (lg->wrong_data && len >= 10)
		leaf[9] ^= 1;
}

/* Calls fn for each stored (integrated) entry start..end, in order. */
static int each_entry(ctng_logger *lg, int q, uint64_t start, uint64_t end,
                      int (*fn)(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                                void *arg),
                      void *arg, ctng_err *err)
{
	sqlite3_stmt *st = lg_q(lg, q, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)end);
	int r, rc = 0;
	uint64_t count = 0;
	while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = fn(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
		        sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), arg);
		if (rc)
			rc = ctng_err_set(err, rc, "logger: cannot encode entries");
		count++;
	}
	if (!rc && r != SQLITE_DONE)
		rc = lg_db_err(lg, err, "read entries");
	lg_done(st);
	if (!rc && count != end - start + 1)
		rc = ctng_err_set(err, CTNG_EIO,
		                  "logger: entries %llu..%llu missing from the database",
		                  (unsigned long long)start, (unsigned long long)end);
	return rc;
}

struct served {
	const ctng_logger *lg;
	void *out;
	uint8_t (*hashes)[32];
	size_t n;
};

/* A copy of the stored MerkleTreeLeaf as served (altered under wrong_data). */
static uint8_t *served_leaf(const struct served *sv, const uint8_t *a, size_t alen)
{
	uint8_t *leaf = malloc(alen ? alen : 1);
	if (leaf) {
		memcpy(leaf, a, alen);
		alter(sv->lg, leaf, alen);
	}
	return leaf;
}

static int entry_json_cb(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *arg)
{
	struct served *sv = arg;
	uint8_t *leaf = served_leaf(sv, a, alen);
	if (!leaf)
		return CTNG_ENOMEM;
	json_t *o = json_pack("{s:o*,s:o*}", "leaf_input", lg_b64_json(leaf, alen), "extra_data",
	                      lg_b64_json(b, blen));
	free(leaf);
	if (!o || json_array_append_new((json_t *)sv->out, o))
		return CTNG_ENOMEM;
	return 0;
}

int ctng_logger_get_entries(ctng_logger *lg, uint64_t start, uint64_t end, json_t **out,
                            ctng_err *err)
{
	*out = NULL;
	uint64_t size = ctng_logger_tree_size(lg);
	if (start > end)
		return ctng_err_set(err, CTNG_EINVAL, "start (%llu) > end (%llu)",
		                    (unsigned long long)start, (unsigned long long)end);
	if (start >= size)
		return ctng_err_set(err, CTNG_ERANGE, "start %llu is beyond the tree size %llu",
		                    (unsigned long long)start, (unsigned long long)size);
	if (end >= size)
		end = size - 1;
	if (end - start >= CTNG_LOGGER_MAX_GET_ENTRIES)
		end = start + CTNG_LOGGER_MAX_GET_ENTRIES - 1;
	json_t *arr = json_array();
	if (!arr)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	struct served sv = {lg, arr, NULL, 0};
	int rc = hidden(lg, start, end, err);
	if (!rc)
		rc = each_entry(lg, Q_ENTRIES, start, end, entry_json_cb, &sv, err);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = json_pack("{s:o}", "entries", arr);
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_logger_get_entry_and_proof(ctng_logger *lg, uint64_t index, uint64_t tree_size,
                                    json_t **out, ctng_err *err)
{
	*out = NULL;
	int rc = check_tree_size(lg, tree_size, err);
	if (rc)
		return rc;
	if (index >= tree_size)
		return ctng_err_set(err, CTNG_ERANGE, "leaf_index %llu is not below tree_size %llu",
		                    (unsigned long long)index, (unsigned long long)tree_size);
	json_t *arr = json_array();
	if (!arr)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	struct served sv = {lg, arr, NULL, 0};
	if ((rc = hidden(lg, index, index, err)) ||
	    (rc = each_entry(lg, Q_ENTRIES, index, index, entry_json_cb, &sv, err)) ||
	    (rc = ctng_merkle_tiles_inclusion(lg->tiles, index, tree_size, proof, &n, err))) {
		json_decref(arr);
		return rc;
	}
	json_t *e = json_array_get(arr, 0);
	json_object_set_new(e, "audit_path", lg_path_json((const uint8_t(*)[32])proof, n));
	*out = json_incref(e);
	json_decref(arr);
	return 0;
}

int ctng_logger_get_roots(ctng_logger *lg, json_t **out, ctng_err *err)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < lg->roots.n; i++)
		if (json_array_append_new(
		        a, lg_b64_json(lg->roots.v[i].der, lg->roots.v[i].der_len))) {
			json_decref(a);
			a = NULL;
		}
	*out = a ? json_pack("{s:o}", "certificates", a) : NULL;
	return *out ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

int ctng_logger_checkpoint(ctng_logger *lg, char **text, size_t *len, ctng_err *err)
{
	*text = NULL;
	int rc = lg_need_sth(lg, err);
	if (rc)
		return rc;
	/* key id = SHA-256(name || 0x0A || 0x05 || LogID)[:4] (static-ct-api) */
	ctng_buf k = {0}, sig = {0}, note = {0};
	uint8_t h[32], *ds = NULL;
	size_t ds_len = 0;
	const char *b64 = ctng_gossip_str(lg->sth_obj.signature[0]);
	char root64[64], *sig64 = NULL;
	ctng_b64_encode(root64, lg->sth.root, 32);
	if ((rc = ctng_b64_decode_alloc(b64, strlen(b64), &ds, &ds_len, err)))
		return rc;
	if (ctng_buf_append(&k, lg->origin, strlen(lg->origin)) || ctng_buf_append_u8(&k, 0x0a) ||
	    ctng_buf_append_u8(&k, 0x05) || ctng_buf_append(&k, lg->log_id, 32))
		rc = CTNG_ENOMEM;
	if (!rc) {
		lg_sha256(k.data, k.len, h);
		if (ctng_buf_append(&sig, h, 4) ||
		    ctng_buf_append_u64be(&sig, lg->sth.timestamp_ms) ||
		    ctng_buf_append(&sig, ds, ds_len))
			rc = CTNG_ENOMEM;
	}
	if (!rc && !(sig64 = ctng_b64_strdup(sig.data, sig.len)))
		rc = CTNG_ENOMEM;
	/* The note text, a blank line, then the signature lines. */
	if (!rc && ctng_buf_printf(&note, "%s\n%llu\n%s\n", lg->origin,
	                           (unsigned long long)lg->sth.tree_size, root64))
		rc = CTNG_ENOMEM;
	size_t text_len = note.len;
	if (!rc && ctng_buf_printf(&note, "\n\xe2\x80\x94 %s %s\n", lg->origin, sig64))
		rc = CTNG_ENOMEM;
	if (rc)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	/* Ed25519 over the same text (deterministic: every answer for an STH is
	 * the same bytes). */
	if (!rc && lg->note_key)
		rc = ctng_note_sign_line(lg->origin, lg->note_key, (const char *)note.data,
		                         text_len, &note, err);
	free(ds);
	free(sig64);
	ctng_buf_free(&k);
	ctng_buf_free(&sig);
	if (rc) {
		ctng_buf_free(&note);
		return rc;
	}
	*len = note.len;
	*text = (char *)ctng_buf_detach(&note, NULL);
	return 0;
}

static int check_width(const ctng_logger *lg, unsigned level, uint64_t index, unsigned width,
                       ctng_err *err)
{
	if (width == 0 || width > CTNG_MERKLE_TILE_WIDTH)
		return ctng_err_set(err, CTNG_EINVAL, "tile width %u out of range", width);
	unsigned have = ctng_merkle_tile_width(level, index, ctng_logger_tree_size(lg));
	if (width > have)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no such tile in the published tree");
	return 0;
}

int ctng_logger_tile(ctng_logger *lg, unsigned level, uint64_t index, unsigned width,
                     uint8_t **data, size_t *len, ctng_err *err)
{
	*data = NULL;
	int rc = check_width(lg, level, index, width, err);
	if (rc)
		return rc;
	uint8_t *buf = malloc((size_t)width * 32);
	if (!buf)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if ((rc = ctng_merkle_tiles_read_tile(lg->tiles, level, index, width, buf, err))) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = (size_t)width * 32;
	return 0;
}

static int tile_leaf_cb(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *arg)
{
	/* TileLeaf = TimestampedEntry (the MerkleTreeLeaf without version and
	 * leaf_type) || stored tail. */
	if (alen < 2)
		return CTNG_EIO;
	struct served *sv = arg;
	ctng_buf *out = sv->out;
	size_t at = out->len;
	if (ctng_buf_append(out, a + 2, alen - 2) || ctng_buf_append(out, b, blen))
		return CTNG_ENOMEM;
	if (sv->lg->wrong_data && alen >= 10)
		out->data[at + 7] ^= 1; /* as alter() on the MerkleTreeLeaf */
	return 0;
}

static int leaf_hash_cb(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *arg)
{
	(void)b, (void)blen;
	struct served *sv = arg;
	uint8_t *leaf = served_leaf(sv, a, alen);
	if (!leaf)
		return CTNG_ENOMEM;
	int rc = ctng_merkle_leaf_hash(sv->hashes[sv->n++], leaf, alen);
	free(leaf);
	return rc;
}

int lg_served_leaf_hashes(ctng_logger *lg, uint64_t index, unsigned width, uint8_t (*out)[32],
                          ctng_err *err)
{
	struct served sv = {lg, NULL, out, 0};
	uint64_t first = index * CTNG_MERKLE_TILE_WIDTH;
	return each_entry(lg, Q_TILE_ENTRIES, first, first + width - 1, leaf_hash_cb, &sv, err);
}

int ctng_logger_data_tile(ctng_logger *lg, uint64_t index, unsigned width, uint8_t **data,
                          size_t *len, ctng_err *err)
{
	*data = NULL;
	int rc = check_width(lg, 0, index, width, err);
	if (rc)
		return rc;
	ctng_buf b = {0};
	uint64_t first = index * CTNG_MERKLE_TILE_WIDTH;
	struct served sv = {lg, &b, NULL, 0};
	if ((rc = hidden(lg, first, first + width - 1, err)) ||
	    (rc = each_entry(lg, Q_TILE_ENTRIES, first, first + width - 1, tile_leaf_cb, &sv,
	                     err))) {
		ctng_buf_free(&b);
		return rc;
	}
	*data = ctng_buf_detach(&b, len);
	return 0;
}

int ctng_logger_issuer(ctng_logger *lg, const uint8_t fp[32], uint8_t **der, size_t *len,
                       ctng_err *err)
{
	*der = NULL;
	sqlite3_stmt *st = lg_q(lg, Q_ISSUER_GET, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_blob(st, 1, fp, 32, SQLITE_STATIC);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		*der = malloc(n ? n : 1);
		if (!*der)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else {
			memcpy(*der, sqlite3_column_blob(st, 0), n);
			*len = n;
		}
	} else if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no such issuer");
	} else {
		rc = lg_db_err(lg, err, "read issuer");
	}
	lg_done(st);
	return rc;
}
