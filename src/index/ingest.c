/*
 * ingest.c — the mirror's entry hook (docs/monitor.md §10): every verified
 * log entry, inside the transaction that stores it, read in place with
 * ctng_cert_view (no OpenSSL object: this runs for every entry of every
 * log) and filed under its certificate. A certificate is identified by
 * SHA-256(issuer key hash || logged TBS), so its precertificate and final
 * certificate, in any number of logs, are one certificate with several
 * entries. A new certificate gets its names (SAN dNSNames and CNs,
 * normalised), RID, validity and serial indexed, its RID checked against
 * the CA's other certificates (rid.c), and a notification per matching
 * watch (outbox.c).
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index_internal.h"

static const index_ca *ca_by_key_hash(const ctng_index *ix, const uint8_t *ikh)
{
	for (size_t i = 0; ikh && i < ix->n_cas; i++)
		if (!memcmp(ix->cas[i].spki_hash, ikh, 32))
			return &ix->cas[i];
	return NULL;
}

static const index_ca *ca_by_root_fp(const ctng_index *ix, const uint8_t *fp)
{
	for (size_t i = 0; fp && i < ix->n_cas; i++)
		if (!memcmp(ix->cas[i].root_fp, fp, 32))
			return &ix->cas[i];
	return NULL;
}

static int sha256_2(ctng_index *ix, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                    uint8_t out[32], ctng_err *err)
{
	unsigned int l = 0;
	if (EVP_DigestInit_ex(ix->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ix->md, a, an) != 1 || EVP_DigestUpdate(ix->md, b, bn) != 1 ||
	    EVP_DigestFinal_ex(ix->md, out, &l) != 1)
		return ctng_err_set(err, CTNG_ENOMEM, "index: SHA-256 failed");
	return 0;
}

static int64_t ikey_of(const uint8_t h[32])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (int64_t)v;
}

/* The certificate with this hash: 0 and *id (0 when none). Found through
 * its first name's key (first_key, "=N") or, without a name, its hash. */
static int find_cert(ctng_index *ix, const uint8_t h[32], const char *first_key, uint64_t *id,
                     ctng_err *err)
{
	sqlite3_stmt *s = ix->q[first_key ? Q_FIND_BY_NAME : Q_FIND_CERT];
	if (first_key)
		sqlite3_bind_text(s, 1, first_key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, ikey_of(h));
	int r;
	*id = 0;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (sqlite3_column_bytes(s, 1) == 32 && !memcmp(sqlite3_column_blob(s, 1), h, 32)) {
			*id = (uint64_t)sqlite3_column_int64(s, 0);
			break;
		}
	sqlite3_reset(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : index_db_fail(ix, err, "finding a cert");
}

static int add_entry(ctng_index *ix, uint64_t cert, const char *logger, uint64_t index,
                     ctng_err *err)
{
	sqlite3_stmt *s = ix->q[Q_INS_ENTRY];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)cert);
	sqlite3_bind_text(s, 2, logger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)index);
	return index_step_done(ix, s, "storing an entry", err);
}

/* The certificate's names, normalised and each once, as a JSON array
 * (names of the charset need no escaping), and their keys in ix->keys. */
static int names_of(ctng_index *ix, const ctng_cert_view *v, ctng_buf *json, size_t *n_keys)
{
	ctng_der_span raw[CTNG_INDEX_MAX_NAMES];
	char (*norm)[CTNG_DNS_NAME_MAX + 1] = NULL;
	size_t n = 0, kept = 0;
	*n_keys = 0;
	if (ctng_cert_view_dns_names(v, raw, CTNG_INDEX_MAX_NAMES, &n, NULL))
		n = 0; /* a SAN that does not parse: no names */
	if (n > CTNG_INDEX_MAX_NAMES)
		n = CTNG_INDEX_MAX_NAMES;
	if (n && !(norm = malloc(n * sizeof(*norm))))
		return CTNG_ENOMEM;
	int rc = ctng_buf_append_u8(json, '[');
	for (size_t i = 0; i < n && !rc; i++) {
		if (ctng_index_name_normalize(raw[i].p, raw[i].n, norm[kept], NULL))
			continue;
		bool dup = false;
		for (size_t k = 0; k < kept && !dup; k++)
			dup = !strcmp(norm[k], norm[kept]);
		if (dup)
			continue;
		rc = (kept && ctng_buf_append_u8(json, ',')) || ctng_buf_append_u8(json, '"') ||
		     ctng_buf_append(json, norm[kept], strlen(norm[kept])) ||
		     ctng_buf_append_u8(json, '"');
		*n_keys += index_name_keys(norm[kept], ix->keys + *n_keys, INDEX_MAX_KEYS - *n_keys);
		kept++;
	}
	if (!rc)
		rc = ctng_buf_append_u8(json, ']') || ctng_buf_append_u8(json, 0);
	free(norm);
	return rc ? CTNG_ENOMEM : 0;
}

static int notify_watches(ctng_index *ix, const index_cert *c, const char *logger,
                          uint64_t index, size_t n_keys, ctng_err *err)
{
	size_t hit[64];
	size_t n = index_watch_match(ix, ix->keys, n_keys, hit, 64);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		json_t *entries = json_pack("[{s:s,s:I}]", "logger", logger, "index", (json_int_t)index);
		json_t *cj = entries ? index_cert_json(ix, c, entries) : NULL;
		rc = cj ? index_notify(ix, hit[i], "issued", cj, NULL, c->indexed_ms, err)
		        : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	return rc;
}

int ctng_index_entry_hook(void *arg, ctng_store *st, const char *logger, uint64_t index,
                          const ctng_mirror_entry *e, ctng_err *err)
{
	ctng_index *ix = arg;
	(void)st; /* the index's statements run on the same connection */
	ix->entries++;
	ctng_cert_view v;
	const index_ca *ca = NULL;
	static const uint8_t zero[32];
	const uint8_t *ikh = zero, *tbs = NULL;
	uint8_t *cut = NULL;
	size_t tbs_len = 0;
	bool precert = e->entry_type == CTNG_CT_PRECERT_ENTRY;
	if (precert) {
		/* the logged TBS is the entry itself (the poison already removed) */
		if (ctng_cert_view_parse_tbs(e->cert, e->cert_len, &v, NULL) || v.n_poison) {
			ix->unparsed++;
			return 0;
		}
		ikh = e->issuer_key_hash;
		ca = ca_by_key_hash(ix, ikh);
		tbs = e->cert;
		tbs_len = e->cert_len;
	} else {
		if (ctng_cert_view_parse(e->cert, e->cert_len, &v, NULL)) {
			ix->unparsed++;
			return 0;
		}
		/* the chain's first fingerprint is the issuer's (a root of the network) */
		ca = e->chain_len ? ca_by_root_fp(ix, e->chain) : NULL;
		if (ca)
			ikh = ca->spki_hash;
		if (v.n_ctng || v.n_poison) {
			if (ctng_cert_view_logged_tbs(&v, &cut, &tbs_len, NULL)) {
				ix->unparsed++;
				return 0;
			}
			tbs = cut;
		} else {
			tbs = v.tbs.p;
			tbs_len = v.tbs.n;
		}
	}
	uint8_t h[32];
	uint64_t id = 0;
	int rc = sha256_2(ix, ikh, 32, tbs, tbs_len, h, err);
	free(cut);
	ctng_buf names = {0};
	size_t n_keys = 0;
	if (!rc && names_of(ix, &v, &names, &n_keys))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	if (!rc)
		rc = find_cert(ix, h, n_keys ? ix->keys[0] : NULL, &id, err);
	if (rc || id) {
		ctng_buf_free(&names);
		return rc ? rc : add_entry(ix, id, logger, index, err);
	}

	/* a new certificate */
	index_cert c = {.ca = ca ? ca->ent->id : NULL, .precert = precert,
	                .indexed_ms = ctng_now_ms()};
	memcpy(c.ikh, ikh, 32);
	c.has_rid = ctng_cert_view_rid(&v, &c.rid, NULL) == 0;
	c.serial_len = v.serial.n > sizeof c.serial ? sizeof c.serial : v.serial.n;
	memcpy(c.serial, v.serial.p, c.serial_len);
	ctng_cert_view_validity(&v, &c.not_before_ms, &c.not_after_ms, NULL);
	c.names_json = (const char *)names.data;
	sqlite3_stmt *s = ix->q[Q_INS_CERT];
	sqlite3_bind_int64(s, 1, ikey_of(h));
	sqlite3_bind_blob(s, 2, h, 32, SQLITE_STATIC);
	if (c.ca)
		sqlite3_bind_text(s, 3, c.ca, -1, SQLITE_STATIC);
	if (!c.ca) /* a CA's is its root's: kept once, not per certificate */
		sqlite3_bind_blob(s, 4, c.ikh, 32, SQLITE_STATIC);
	if (c.has_rid)
		sqlite3_bind_int64(s, 5, c.rid);
	sqlite3_bind_blob(s, 6, c.serial, (int)c.serial_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)c.not_before_ms);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)c.not_after_ms);
	sqlite3_bind_text(s, 9, c.names_json, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 10, precert);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)c.indexed_ms);
	if (!(rc = index_step_done(ix, s, "storing a cert", err))) {
		c.id = (uint64_t)sqlite3_last_insert_rowid(ix->db);
		rc = add_entry(ix, c.id, logger, index, err);
	}
	if (!rc && !n_keys) { /* no name to find it again by: its hash */
		sqlite3_stmt *hs = ix->q[Q_INS_HASH];
		sqlite3_bind_int64(hs, 1, ikey_of(h));
		sqlite3_bind_int64(hs, 2, (sqlite3_int64)c.id);
		rc = index_step_done(ix, hs, "storing a hash", err);
	}
	sqlite3_stmt *k = ix->q[Q_INS_NAME];
	for (size_t i = 0; i < n_keys && !rc; i++) {
		sqlite3_bind_text(k, 1, ix->keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(k, 2, (sqlite3_int64)c.id);
		rc = index_step_done(ix, k, "storing a name", err);
	}
	if (!rc && c.has_rid && c.ca)
		rc = index_rid_add(ix, c.ca, c.rid, c.id, err);
	if (!rc && ix->n_watches)
		rc = notify_watches(ix, &c, logger, index, n_keys, err);
	ctng_buf_free(&names);
	return rc;
}
