/*
 * mfx.h — fixture for the mirror tests: a small in-memory network (two
 * loggers with real ECDSA keys, three monitors), synthetic logs whose
 * entries are real static-ct-api TileLeafs (x509 and precert entries,
 * with or without the leaf_index extension), their signed STHs, signed
 * tile roots and bundles — honest or tampered — and a driver that runs a
 * mirror state machine against them and a real SQLite mirror store.
 * Header-only (static functions).
 */
#ifndef CTNG_TEST_MIRROR_FIXTURE_H
#define CTNG_TEST_MIRROR_FIXTURE_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/merkle.h"
#include "ctng/mirror.h"
#include "ctng/proto.h"
#include "ctng/sig.h"
#include "ctng/store.h"

#define MFX_GENESIS 1700000000000ull
#define MFX_PERIOD  2000ull
#define MFX_N_ENT   5 /* logger1 logger2 monitor1 monitor2 monitor3 */

typedef struct mfx_log {
	uint8_t **tl; /* TileLeaf bytes per entry */
	size_t *tl_len, *te_len;
	uint8_t (*leaf)[32];
	uint64_t n, cap;
} mfx_log;

typedef struct mfx {
	ctng_network net;
	ctng_entity ent[MFX_N_ENT];
	ctng_sig_key *priv[MFX_N_ENT];
	char *w1[1], *w2[1], *w3[2];
	mfx_log log[2];
	/* A real precertificate (by a CA of logger1's key) and its logged TBS,
	 * used by every precert entry; `planted`: another, well-formed one (of
	 * another name) a malicious peer serves instead. */
	uint8_t *pre, *pre_tbs, *planted;
	size_t pre_len, pre_tbs_len, planted_len;
} mfx;

/* A precertificate for dns_name by a CA with key ca (self-signed root). */
static inline int mfx_precert(const ctng_sig_key *ca, const ctng_sig_key *subject,
                              const char *dns_name, uint8_t **der, size_t *len)
{
	struct x509_st *root = NULL, *pc = NULL;
	ctng_cert_template t = {.dns_name = dns_name,
	                        .subject_key = ctng_sig_key_evp(subject),
	                        .serial = {0x11, 0x22},
	                        .serial_len = 2,
	                        .not_before_ms = MFX_GENESIS,
	                        .not_after_ms = MFX_GENESIS + 90ull * 86400000,
	                        .rid = 7};
	int rc = ctng_cert_make_root("mfx CA", ca, MFX_GENESIS - 86400000,
	                             MFX_GENESIS + 365ull * 86400000, &root, NULL);
	if (!rc)
		rc = ctng_cert_make_precert(&t, root, ca, &pc, NULL);
	if (!rc)
		rc = ctng_cert_to_der(pc, der, len, NULL);
	X509_free(pc);
	X509_free(root);
	return rc;
}

static inline int mfx_idx(const char *id)
{
	static const char *ids[MFX_N_ENT] = {"logger1", "logger2", "monitor1", "monitor2",
	                                     "monitor3"};
	for (int i = 0; i < MFX_N_ENT; i++)
		if (strcmp(ids[i], id) == 0)
			return i;
	return -1;
}

static inline uint64_t mfx_time(uint64_t p, uint64_t off)
{
	return MFX_GENESIS + p * MFX_PERIOD + off;
}

/* monitor1 watches logger1; monitor2 logger2; monitor3 both. */
static inline int mfx_init(mfx *f)
{
	memset(f, 0, sizeof(*f));
	static const char *ids[MFX_N_ENT] = {"logger1", "logger2", "monitor1", "monitor2",
	                                     "monitor3"};
	f->net.clock = (ctng_clock){MFX_GENESIS, MFX_PERIOD, 200, 400, 1600};
	f->net.threshold = 2;
	for (int i = 0; i < MFX_N_ENT; i++) {
		ctng_entity *e = &f->ent[i];
		snprintf(e->id, sizeof(e->id), "%s", ids[i]);
		e->role = i < 2 ? CTNG_ROLE_LOGGER : CTNG_ROLE_MONITOR;
		snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d", 9000 + i);
		snprintf(e->host, sizeof(e->host), "127.0.0.1");
		e->port = (uint16_t)(9000 + i);
		if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &f->priv[i], NULL) ||
		    ctng_sig_key_public_copy(f->priv[i], &e->key, NULL))
			return -1;
	}
	f->w1[0] = "logger1";
	f->w2[0] = "logger2";
	f->w3[0] = "logger1";
	f->w3[1] = "logger2";
	f->ent[2].loggers = f->w1;
	f->ent[2].n_loggers = 1;
	f->ent[3].loggers = f->w2;
	f->ent[3].n_loggers = 1;
	f->ent[4].loggers = f->w3;
	f->ent[4].n_loggers = 2;
	f->net.entities = f->ent;
	f->net.n_entities = MFX_N_ENT;
	ctng_cert_view v;
	if (mfx_precert(f->priv[0], f->priv[1], "mfx.example", &f->pre, &f->pre_len) ||
	    mfx_precert(f->priv[0], f->priv[1], "planted.example", &f->planted, &f->planted_len) ||
	    ctng_cert_view_parse(f->pre, f->pre_len, &v, NULL) ||
	    ctng_cert_view_precert_tbs(&v, &f->pre_tbs, &f->pre_tbs_len, NULL))
		return -1;
	return 0;
}

static inline void mfx_free(mfx *f)
{
	for (int i = 0; i < MFX_N_ENT; i++) {
		ctng_sig_key_free(f->priv[i]);
		ctng_sig_key_free(f->ent[i].key);
	}
	for (int k = 0; k < 2; k++) {
		for (uint64_t i = 0; i < f->log[k].n; i++)
			free(f->log[k].tl[i]);
		free(f->log[k].tl);
		free(f->log[k].tl_len);
		free(f->log[k].te_len);
		free(f->log[k].leaf);
	}
	free(f->pre);
	free(f->pre_tbs);
	free(f->planted);
}

static inline void put(uint8_t **p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		(*p)[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	*p += n;
}

/* Largest TileLeaf mfx_tile_leaf makes. */
#define MFX_TILE_LEAF_MAX 4096

/* A TileLeaf for entry idx: x509 or precert by idx (the fixture's real
 * precertificate and its TBS; with `plant`, the planted precertificate),
 * with the leaf_index extension every third entry. Returns its length;
 * *te_len = TimestampedEntry. */
static inline size_t mfx_tile_leaf(const mfx *f, uint64_t idx, bool plant, uint8_t *out,
                                   size_t *te_len)
{
	uint8_t *p = out;
	size_t cert = 60 + (size_t)(idx * 37 % 300);
	bool pre = idx % 2 == 1, ext = idx % 3 == 0;
	put(&p, MFX_GENESIS + idx, 8);
	put(&p, pre ? 1 : 0, 2);
	if (pre) {
		memset(p, (int)(idx & 0xff), 32);
		p += 32;
		put(&p, f->pre_tbs_len, 3);
		memcpy(p, f->pre_tbs, f->pre_tbs_len);
		p += f->pre_tbs_len;
	} else {
		put(&p, cert, 3);
		for (size_t i = 0; i < cert; i++)
			*p++ = (uint8_t)(idx * 131 + i);
	}
	if (ext) {
		put(&p, 8, 2);
		put(&p, CTNG_CT_EXT_LEAF_INDEX, 1);
		put(&p, 5, 2);
		put(&p, idx, 5);
	} else {
		put(&p, 0, 2);
	}
	*te_len = (size_t)(p - out);
	if (pre) {
		const uint8_t *pc = plant ? f->planted : f->pre;
		size_t pl = plant ? f->planted_len : f->pre_len;
		put(&p, pl, 3);
		memcpy(p, pc, pl);
		p += pl;
	}
	put(&p, 64, 2); /* two distinct chain fingerprints */
	memset(p, 0xab, 32);
	memset(p + 32, 0xcd, 32);
	p += 64;
	return (size_t)(p - out);
}

/* Grows log k to n entries. */
static inline void mfx_grow(mfx *f, int k, uint64_t n)
{
	mfx_log *l = &f->log[k];
	if (n > l->cap) {
		l->cap = n + 1024;
		l->tl = realloc(l->tl, l->cap * sizeof(*l->tl));
		l->tl_len = realloc(l->tl_len, l->cap * sizeof(size_t));
		l->te_len = realloc(l->te_len, l->cap * sizeof(size_t));
		l->leaf = realloc(l->leaf, l->cap * 32);
	}
	static const uint8_t pre[2] = {0, 0};
	for (; l->n < n; l->n++) {
		uint8_t buf[MFX_TILE_LEAF_MAX];
		size_t te;
		size_t len = mfx_tile_leaf(f, l->n, false, buf, &te);
		l->tl[l->n] = malloc(len);
		memcpy(l->tl[l->n], buf, len);
		l->tl_len[l->n] = len;
		l->te_len[l->n] = te;
		ctng_merkle_hasher_leaf_parts(NULL, l->leaf[l->n], pre, 2, buf, te);
	}
}

/* Signed STH of logger k over its first size entries, in period p (or with
 * the given root if root != NULL). */
static inline int mfx_sth(mfx *f, int k, uint64_t p, uint64_t size, const uint8_t *root,
                          ctng_gossip_object *out)
{
	ctng_sth h = {.timestamp_ms = mfx_time(p, 0), .tree_size = size};
	if (root)
		memcpy(h.root, root, 32);
	else if (ctng_merkle_root((const uint8_t(*)[32])f->log[k].leaf, f->log[k].n, size, h.root,
	                          NULL))
		return -1;
	return ctng_sth_sign(out, f->ent[k].id, f->priv[k], &h, &f->net.clock, NULL);
}

/* MTH of tile t (width w) of log k. */
static inline void mfx_tile_root(mfx *f, int k, uint64_t t, unsigned w, uint8_t out[32])
{
	ctng_merkle_root((const uint8_t(*)[32])f->log[k].leaf + t * 256, w, w, out, NULL);
}

/* Signed tile-roots JSON for log k, tree size, tiles [first, first+count).
 * flip >= 0: that root (index in the batch) has a byte flipped before signing. */
static inline char *mfx_roots_json(mfx *f, int k, uint64_t size, uint64_t first, uint32_t count,
                                   int flip, bool sign)
{
	ctng_tile_roots t = {0};
	snprintf(t.logger, sizeof t.logger, "%s", f->ent[k].id);
	t.tree_size = size;
	t.first = first;
	t.count = count;
	if (ctng_tile_roots_check(&t, NULL))
		return NULL;
	t.roots = malloc((size_t)count * 32);
	for (uint32_t i = 0; i < count; i++)
		mfx_tile_root(f, k, first + i, ctng_tile_roots_width(&t, i), t.roots[i]);
	if (flip >= 0 && (uint32_t)flip < count)
		t.roots[flip][0] ^= 1;
	if (sign && ctng_tile_roots_sign(&t, f->priv[k], NULL))
		return NULL;
	json_t *j = NULL;
	ctng_tile_roots_to_json(&t, &j, NULL);
	ctng_tile_roots_clear(&t);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* Bundle of tile t width w of log k; *len. flip: an entry whose byte 7
 * (timestamp) is flipped, -1 none. Caller frees. */
static inline uint8_t *mfx_bundle(mfx *f, int k, uint64_t t, unsigned w, int flip, size_t *len)
{
	mfx_log *l = &f->log[k];
	size_t n = 0;
	for (unsigned i = 0; i < w; i++)
		n += l->tl_len[t * 256 + i];
	uint8_t *b = malloc(n ? n : 1), *p = b;
	for (unsigned i = 0; i < w; i++) {
		memcpy(p, l->tl[t * 256 + i], l->tl_len[t * 256 + i]);
		if ((int)i == flip)
			p[7] ^= 1;
		p += l->tl_len[t * 256 + i];
	}
	*len = n;
	return b;
}

/* The same bundle as a malicious peer serves it: every precert entry with
 * the planted precertificate (the leaves, so the hashes, unchanged). */
static inline uint8_t *mfx_bundle_planted(const mfx *f, uint64_t t, unsigned w, size_t *len)
{
	uint8_t *b = malloc((size_t)w * MFX_TILE_LEAF_MAX), *p = b;
	for (unsigned i = 0; b && i < w; i++) {
		size_t te;
		p += mfx_tile_leaf(f, t * 256 + i, true, p, &te);
	}
	*len = (size_t)(p - b);
	return b;
}

#endif
