/*
 * revoke.c — revocation (docs/ca.md "Revocation", "REV and the CRV
 * chain"): authorised revocation requests, the per-period REV over the
 * CRoaring CRV (with the split-view misbehaviour for tests), and the CRV
 * reads clients use.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/ca_internal.h"
#include "ctng/merkle.h"

/* ---------------------------------------------------------- revocation */

int ctng_ca_revoke_message(const char *ca_id, uint32_t rid, const uint8_t cert_sha256[32],
                           ctng_buf *out, ctng_err *err)
{
	if (!ctng_id_valid(ca_id))
		return ctng_err_set(err, CTNG_EINVAL, "CA id invalid");
	int r = ctng_buf_append(out, CTNG_CA_REVOKE_TAG, sizeof(CTNG_CA_REVOKE_TAG));
	r = r ? r : ctng_buf_append_lp32(out, ca_id, strlen(ca_id));
	r = r ? r : ctng_buf_append_u64be(out, rid);
	r = r ? r : ctng_buf_append(out, cert_sha256, 32);
	return r ? ctng_err_set(err, CTNG_ENOMEM, "out of memory") : 0;
}

int ctng_ca_revoke_json(ctng_ca *ca, const json_t *body, uint64_t now_ms, json_t **reply,
                        ctng_err *err)
{
	*reply = NULL;
	static const char *const keys[] = {"rid", "cert_sha256", "signature"};
	int rc = ca_exact_keys(body, keys, 3, err);
	if (rc)
		return rc;
	const json_t *jr = json_object_get(body, "rid"), *jh = json_object_get(body, "cert_sha256"),
	             *js = json_object_get(body, "signature");
	if (!json_is_integer(jr) || json_integer_value(jr) < 0 ||
	    json_integer_value(jr) >= (json_int_t)CTNG_CA_BOGUS_RID)
		return ctng_err_set(err, CTNG_EINVAL, "rid: expected an integer 0..%u",
		                    CTNG_CA_BOGUS_RID - 1);
	uint32_t rid = (uint32_t)json_integer_value(jr);
	uint8_t want[32];
	if (!json_is_string(jh) || ctng_hex_decode_exact(want, 32, json_string_value(jh), NULL))
		return ctng_err_set(err, CTNG_EINVAL, "cert_sha256: expected 64 hex digits");
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	if (!json_is_string(js) || json_string_length(js) == 0 ||
	    ctng_b64_decode_alloc(json_string_value(js), json_string_length(js), &sig, &sig_len,
	                          NULL) ||
	    sig_len > CTNG_SIG_MAX_LEN) {
		free(sig);
		return ctng_err_set(err, CTNG_EINVAL,
		                    "signature: expected base64 (at most %d bytes)",
		                    CTNG_SIG_MAX_LEN);
	}
	sqlite3_stmt *st = ca_prep(ca, "SELECT cert, cert_sha256 FROM ca_cert WHERE rid=?", err);
	X509 *x = NULL;
	ctng_sig_key *ck = NULL;
	ctng_buf msg = {0};
	if (!st) {
		free(sig);
		return CTNG_EIO;
	}
	sqlite3_bind_int64(st, 1, rid);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no certificate with RID %u", rid);
	} else if (r != SQLITE_ROW) {
		rc = ca_db_fail(ca, err, "revoke lookup");
	} else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		rc = ctng_err_set(err, CTNG_ESTATE, "RID %u is not issued yet", rid);
	} else if (sqlite3_column_bytes(st, 1) != 32 ||
	           memcmp(sqlite3_column_blob(st, 1), want, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "cert_sha256 is not the hash of RID %u's "
		                  "certificate",
		                  rid);
	} else {
		rc = ctng_cert_from_der(sqlite3_column_blob(st, 0),
		                        (size_t)sqlite3_column_bytes(st, 0), &x, err);
	}
	sqlite3_finalize(st);
	bool by_operator = false;
	if (!rc)
		rc = ctng_ca_revoke_message(ca->id, rid, want, &msg, err);
	if (!rc) {
		bool ok = false;
		if (ctng_sig_key_from_evp(X509_get0_pubkey(x), &ck, NULL) == 0)
			ok = ctng_sig_verify(ck, msg.data, msg.len, sig, sig_len, NULL) == 0;
		if (!ok && ctng_sig_verify(ca->key, msg.data, msg.len, sig, sig_len, NULL) == 0)
			ok = by_operator = true;
		if (!ok)
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "bad authorization: signature is neither the certificate "
			                  "key's nor the CA operator's");
	}
	bool inserted = false;
	if (!rc && (st = ca_prep(ca,
	                      "INSERT OR IGNORE INTO ca_revocation(rid, revoked_ms, by_operator)"
	                      " VALUES(?,?,?)",
	                      err))) {
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ms);
		sqlite3_bind_int(st, 3, by_operator);
		rc = ca_run(ca, st, err);
		inserted = sqlite3_changes(ca->db) > 0;
	} else if (!rc) {
		rc = CTNG_EIO;
	}
	if (!rc) {
		*reply = json_pack("{s:s,s:I}", "status", inserted ? "revoked" : "already revoked",
		                   "rid", (json_int_t)rid);
		if (!*reply)
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		else if (inserted)
			CTNG_INFO("certificate revoked", "rid=%u by=%s", rid,
			          by_operator ? "operator" : "subject");
	}
	free(sig);
	ctng_buf_free(&msg);
	ctng_sig_key_free(ck);
	X509_free(x);
	return rc;
}

/* ----------------------------------------------------------------- REV */

static int store_rev(ctng_ca *ca, uint64_t period, int variant, const roaring_bitmap_t *crv,
                     const roaring_bitmap_t *delta, uint64_t now_ms, ctng_err *err)
{
	uint8_t h[32];
	uint8_t *d = NULL;
	size_t dl = 0;
	ctng_gossip_object o = {0};
	char *json = NULL;
	size_t jl = 0;
	int rc;
	if ((rc = ctng_crv_hash(crv, h, err)) ||
	    (rc = ctng_crv_delta_encode(delta, &d, &dl, err)) ||
	    (rc = ctng_rev_sign(&o, ca->id, ca->key, period, h, d, dl, now_ms, err)) ||
	    (rc = ctng_gossip_encode(&o, &json, &jl, err)))
		goto out;
	sqlite3_stmt *st = ca_prep(ca, "INSERT INTO ca_rev(period, variant, json) VALUES(?,?,?)", err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	sqlite3_bind_text(st, 3, json, (int)jl, SQLITE_STATIC);
	rc = ca_run(ca, st, err);
out:
	free(d);
	free(json);
	ctng_gossip_clear(&o);
	return rc;
}

int ctng_ca_last_rev_period(ctng_ca *ca, uint64_t *period, ctng_err *err)
{
	if (!ca->has_rev)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no REV published yet");
	*period = ca->last_rev;
	return 0;
}

int ctng_ca_publish_rev(ctng_ca *ca, uint64_t period, uint64_t now_ms, ctng_err *err)
{
	if (period >= (1ull << 62))
		return ctng_err_set(err, CTNG_ERANGE, "period out of range");
	if (ca->has_rev && period <= ca->last_rev) {
		if (period == ca->last_rev)
			return 0;
		sqlite3_stmt *st =
		    ca_prep(ca, "SELECT 1 FROM ca_rev WHERE period=? AND variant=0", err);
		if (!st)
			return CTNG_EIO;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
		int r = sqlite3_step(st);
		sqlite3_finalize(st);
		return r == SQLITE_ROW ? 0
		                       : ctng_err_set(err, CTNG_ESTATE,
		                                      "REV of period %llu can no longer be made",
		                                      (unsigned long long)period);
	}
	uint64_t first = ca->has_rev ? ca->last_rev + 1 : period;
	/* a very long outage: fill at most CTNG_CA_MAX_BACKFILL periods (clients
	 * that fall off the chain resync with GET /ctng/v1/crv) */
	if (period - first > CTNG_CA_MAX_BACKFILL)
		first = period - CTNG_CA_MAX_BACKFILL;
	roaring_bitmap_t *crv = roaring_bitmap_copy(ca->crv), *empty = roaring_bitmap_create(),
	                 *delta = roaring_bitmap_create(), *alt = NULL, *alt_delta = NULL;
	int rc = 0;
	if (!crv || !empty || !delta) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	sqlite3_stmt *st = ca_prep(ca, "SELECT rid FROM ca_revocation WHERE rev_period IS NULL", err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		roaring_bitmap_add(delta, (uint32_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		rc = ca_db_fail(ca, err, "unpublished revocations");
		goto out;
	}
	if ((rc = ctng_store_begin(ca->store, err)))
		goto out;
	for (uint64_t q = first; q <= period && !rc; q++) {
		const roaring_bitmap_t *dq = q == period ? delta : empty;
		if (q == period)
			roaring_bitmap_or_inplace(crv, delta);
		rc = store_rev(ca, q, 0, crv, dq, now_ms, err);
		if (!rc && ca->split_view) {
			/* the alternative view: the same chain plus a RID never assigned */
			alt = roaring_bitmap_copy(crv);
			alt_delta = roaring_bitmap_copy(dq);
			if (!alt || !alt_delta) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			} else {
				roaring_bitmap_add(alt, CTNG_CA_BOGUS_RID);
				roaring_bitmap_add(alt_delta, CTNG_CA_BOGUS_RID);
				rc = store_rev(ca, q, 1, alt, alt_delta, now_ms, err);
			}
			if (alt)
				roaring_bitmap_free(alt);
			if (alt_delta)
				roaring_bitmap_free(alt_delta);
			alt = alt_delta = NULL;
		}
	}
	if (!rc && (st = ca_prep(ca, "UPDATE ca_revocation SET rev_period=? WHERE rev_period IS NULL",
	                      err))) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
		rc = ca_run(ca, st, err);
	} else if (!rc) {
		rc = CTNG_EIO;
	}
	if (!rc)
		rc = ca_meta_put(ca, "last_rev", period, err);
	if (!rc)
		rc = ctng_store_commit(ca->store, err);
	if (rc) {
		ca_rollback(ca, rc);
		goto out;
	}
	roaring_bitmap_free(ca->crv);
	ca->crv = crv;
	crv = NULL;
	ca->has_rev = true;
	ca->last_rev = period;
	CTNG_INFO("REV published", "period=%llu revoked=%llu total=%llu",
	          (unsigned long long)period,
	          (unsigned long long)roaring_bitmap_get_cardinality(delta),
	          (unsigned long long)roaring_bitmap_get_cardinality(ca->crv));
out:
	if (crv)
		roaring_bitmap_free(crv);
	if (empty)
		roaring_bitmap_free(empty);
	if (delta)
		roaring_bitmap_free(delta);
	return rc;
}

static int variant_for(ctng_ca *ca, const char *monitor, int *variant, ctng_err *err)
{
	*variant = 0;
	if (!ca->split_view || !monitor || !*monitor || !ctng_id_valid(monitor))
		return 0;
	if (ca->n_split) {
		for (size_t i = 0; i < ca->n_split; i++)
			if (!strcmp(ca->split_targets[i], monitor))
				*variant = 1;
		return 0;
	}
	/* every second distinct requesting monitor, in order of first request */
	sqlite3_stmt *st = ca_prep(ca, "SELECT alt FROM ca_split WHERE monitor=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_TRANSIENT);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*variant = sqlite3_column_int(st, 0) ? 1 : 0;
	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r != SQLITE_DONE)
		return ca_db_fail(ca, err, "split lookup");
	st = ca_prep(ca,
	          "INSERT INTO ca_split(monitor, alt) VALUES(?, (SELECT count(*) % 2 FROM "
	          "ca_split))",
	          err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_TRANSIENT);
	int rc = ca_run(ca, st, err);
	return rc ? rc : variant_for(ca, monitor, variant, err);
}

int ctng_ca_get_rev(ctng_ca *ca, uint64_t period, const char *monitor, ctng_gossip_object *out,
                    ctng_err *err)
{
	ctng_gossip_clear(out);
	int variant;
	int rc = variant_for(ca, monitor, &variant, err);
	if (rc)
		return rc;
	if (period >= (1ull << 62))
		return ctng_err_set(err, CTNG_ENOTFOUND, "no REV of period %llu",
		                    (unsigned long long)period);
	sqlite3_stmt *st = ca_prep(ca,
	                        "SELECT json FROM ca_rev WHERE period=? AND variant<=? ORDER BY"
	                        " variant DESC LIMIT 1",
	                        err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = ctng_gossip_decode((const char *)sqlite3_column_text(st, 0),
		                        (size_t)sqlite3_column_bytes(st, 0), out, err);
	else if (r == SQLITE_DONE)
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no REV of period %llu",
		                  (unsigned long long)period);
	else
		rc = ca_db_fail(ca, err, "REV");
	sqlite3_finalize(st);
	return rc;
}

int ctng_ca_crv(ctng_ca *ca, uint64_t period, roaring_bitmap_t **out, ctng_err *err)
{
	*out = NULL;
	if (!ca->has_rev || period > ca->last_rev)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no REV of period %llu",
		                    (unsigned long long)period);
	return ca_load_crv(ca, (int64_t)period, out, err);
}

int ctng_crv_apply_rev(roaring_bitmap_t *crv, const ctng_gossip_object *rev, ctng_err *err)
{
	if (rev->type != CTNG_REV)
		return ctng_err_set(err, CTNG_EINVAL, "not a REV object");
	ctng_rev r = {0};
	roaring_bitmap_t *delta = NULL, *next = NULL;
	uint8_t h[32];
	int rc = ctng_rev_from_object(rev, &r, err);
	if (rc)
		return rc;
	if (ca_sha256(r.delta, r.delta_len, h) || memcmp(h, r.delta_hash, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "REV: delta hash mismatch");
		goto out;
	}
	if ((rc = ctng_crv_delta_decode(r.delta, r.delta_len, &delta, err)))
		goto out;
	if (!(next = roaring_bitmap_or(crv, delta))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ctng_crv_hash(next, h, err)))
		goto out;
	if (memcmp(h, r.crv_hash, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "REV of period %llu: CRV(p-1) + delta does not hash to CRV(p)",
		                  (unsigned long long)rev->period);
		goto out;
	}
	if (!roaring_bitmap_overwrite(crv, next))
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
out:
	if (delta)
		roaring_bitmap_free(delta);
	if (next)
		roaring_bitmap_free(next);
	ctng_rev_clear(&r);
	return rc;
}
