/*
 * issue.c — the loggers' side of issuance (docs/ca.md "Issuance" steps 2-3):
 * which precertificates each logger still needs, the add-pre-chain body,
 * SCTs and inclusion proofs checked and stored, and the final certificates
 * made from them.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/ca_internal.h"
#include "ctng/merkle.h"

int ctng_ca_need_submit(ctng_ca *ca, const char *logger_id, uint32_t **rids, size_t *n,
                        ctng_err *err)
{
	*rids = NULL;
	*n = 0;
	sqlite3_stmt *st = ca_prep(ca,
	                        "SELECT rid FROM ca_cert c WHERE cert IS NULL AND NOT EXISTS"
	                        " (SELECT 1 FROM ca_sct s WHERE s.rid=c.rid AND s.logger=?)"
	                        " ORDER BY rid",
	                        err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, logger_id, -1, SQLITE_TRANSIENT);
	return ca_rid_list(ca, st, rids, n, err);
}

int ctng_ca_submission(ctng_ca *ca, uint32_t rid, json_t **body, ctng_err *err)
{
	*body = NULL;
	X509 *pre = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = ca_load_precert(ca, rid, &pre, err);
	if (rc || (rc = ctng_cert_to_der(pre, &der, &len, err))) {
		X509_free(pre);
		return rc;
	}
	X509_free(pre);
	char *a = ctng_b64_strdup(der, len), *b = ctng_b64_strdup(ca->root_der, ca->root_der_len);
	free(der);
	if (a && b)
		*body = json_pack("{s:[s,s]}", "chain", a, b);
	free(a);
	free(b);
	return *body ? 0 : ctng_err_set(err, CTNG_ENOMEM, "out of memory");
}

static int precert_entry(ctng_ca *ca, uint32_t rid, ctng_ct_entry *e, ctng_err *err)
{
	X509 *pre = NULL;
	int rc = ca_load_precert(ca, rid, &pre, err);
	if (!rc)
		rc = ctng_ct_entry_precert_x509(pre, ca->root, e, err);
	X509_free(pre);
	return rc;
}

static int b64_field(const json_t *o, const char *k, uint8_t **out, size_t *len, bool allow_empty,
                     ctng_err *err)
{
	*out = NULL;
	*len = 0;
	const json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		return ctng_err_set(err, CTNG_EINVAL, "%s: expected a base64 string", k);
	if (json_string_length(v) == 0) {
		if (allow_empty)
			return 0;
		return ctng_err_set(err, CTNG_EINVAL, "%s: empty", k);
	}
	return ctng_b64_decode_alloc(json_string_value(v), json_string_length(v), out, len, err);
}

int ctng_ca_record_sct(ctng_ca *ca, uint32_t rid, const char *logger_id, const json_t *sct,
                       ctng_err *err)
{
	const ctng_sig_key *lk = ca_logger_key(ca, logger_id, err);
	if (!lk)
		return CTNG_EINVAL;
	if (!json_is_object(sct))
		return ctng_err_set(err, CTNG_EINVAL, "SCT: expected a JSON object");
	const json_t *ver = json_object_get(sct, "sct_version"),
	             *ts = json_object_get(sct, "timestamp");
	if (!json_is_integer(ver) || json_integer_value(ver) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "SCT: sct_version must be 0");
	if (!json_is_integer(ts) || json_integer_value(ts) < 0)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "SCT: timestamp must be a non-negative integer");
	uint64_t t = (uint64_t)json_integer_value(ts);
	uint8_t *id = NULL, *exts = NULL, *sig = NULL;
	size_t id_len, exts_len, sig_len;
	ctng_ct_entry e = {0};
	ctng_buf tbs = {0};
	int rc;
	uint8_t want_id[32];
	const uint8_t *raw;
	size_t raw_len;
	uint64_t per = 0;
	if ((rc = b64_field(sct, "id", &id, &id_len, false, err)) ||
	    (rc = b64_field(sct, "extensions", &exts, &exts_len, true, err)) ||
	    (rc = b64_field(sct, "signature", &sig, &sig_len, false, err)))
		goto out;
	if ((rc = ctng_sig_key_id(lk, want_id, err)))
		goto out;
	if (id_len != 32 || memcmp(id, want_id, 32)) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "SCT: log id is not %s's", logger_id);
		goto out;
	}
	if (exts_len > 0xffff) {
		rc = ctng_err_set(err, CTNG_EINVAL, "SCT: extensions too long");
		goto out;
	}
	if ((rc = ctng_digitally_signed_decode(sig, sig_len, &raw, &raw_len, err)) ||
	    (rc = precert_entry(ca, rid, &e, err)) ||
	    (rc = ctng_ct_sct_signed_bytes(&e, t, exts, exts_len, &tbs, err)))
		goto out;
	if ((rc = ctng_sig_verify(lk, tbs.data, tbs.len, raw, raw_len, err))) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "SCT from %s: signature does not verify",
		                  logger_id);
		goto out;
	}
	if (!ctng_clock_period_of(&ca->net->clock, t, &per)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "SCT: timestamp before genesis");
		goto out;
	}
	sqlite3_stmt *st = ca_prep(ca,
	                        "INSERT OR IGNORE INTO ca_sct(rid, logger, ts, period, exts)"
	                        " VALUES(?,?,?,?,?)",
	                        err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, logger_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)t);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)per);
	sqlite3_bind_blob(st, 5, exts ? (const void *)exts : "", (int)exts_len, SQLITE_STATIC);
	rc = ca_run(ca, st, err);
out:
	free(id);
	free(exts);
	free(sig);
	ctng_ct_entry_clear(&e);
	ctng_buf_free(&tbs);
	return rc;
}

int ctng_ca_need_proof(ctng_ca *ca, const char *logger_id, uint64_t period, uint32_t **rids,
                       size_t *n, ctng_err *err)
{
	*rids = NULL;
	*n = 0;
	sqlite3_stmt *st = ca_prep(ca,
	                        "SELECT s.rid FROM ca_sct s JOIN ca_cert c ON c.rid=s.rid"
	                        " WHERE s.logger=? AND c.cert IS NULL AND s.period < ? AND NOT"
	                        " EXISTS (SELECT 1 FROM ca_proof p WHERE p.rid=s.rid AND"
	                        " p.logger=s.logger) ORDER BY s.rid",
	                        err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, logger_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)period);
	return ca_rid_list(ca, st, rids, n, err);
}

static int load_sct(ctng_ca *ca, uint32_t rid, const char *logger_id, uint64_t *ts, uint8_t **exts,
                    size_t *exts_len, ctng_err *err)
{
	*exts = NULL;
	*exts_len = 0;
	sqlite3_stmt *st = ca_prep(ca, "SELECT ts, exts FROM ca_sct WHERE rid=? AND logger=?", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, logger_id, -1, SQLITE_TRANSIENT);
	int r = sqlite3_step(st), rc = 0;
	if (r == SQLITE_ROW) {
		*ts = (uint64_t)sqlite3_column_int64(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (n) {
			*exts = malloc(n);
			if (!*exts)
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			else
				memcpy(*exts, sqlite3_column_blob(st, 1), n);
			*exts_len = n;
		}
	} else if (r == SQLITE_DONE) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "no SCT from %s for RID %u", logger_id, rid);
	} else {
		rc = ca_db_fail(ca, err, "SCT");
	}
	sqlite3_finalize(st);
	return rc;
}

int ctng_ca_leaf_hash(ctng_ca *ca, uint32_t rid, const char *logger_id, uint8_t out[32],
                      ctng_err *err)
{
	uint64_t ts = 0;
	uint8_t *exts = NULL;
	size_t el = 0;
	ctng_ct_entry e = {0};
	int rc = load_sct(ca, rid, logger_id, &ts, &exts, &el, err);
	if (!rc && !(rc = precert_entry(ca, rid, &e, err)))
		rc = ctng_ct_leaf_hash(&e, ts, exts, el, out, err);
	ctng_ct_entry_clear(&e);
	free(exts);
	return rc;
}

int ctng_ca_record_proof(ctng_ca *ca, uint32_t rid, const char *logger_id, uint64_t period,
                         const json_t *reply, ctng_err *err)
{
	const ctng_sig_key *lk = ca_logger_key(ca, logger_id, err);
	if (!lk)
		return CTNG_EINVAL;
	static const char *const keys[] = {"sth", "leaf_index", "audit_path"};
	int rc = ca_exact_keys(reply, keys, 3, err);
	if (rc)
		return rc;
	const json_t *li = json_object_get(reply, "leaf_index"),
	             *ap = json_object_get(reply, "audit_path");
	if (!json_is_integer(li) || json_integer_value(li) < 0)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "leaf_index: expected a non-negative integer");
	if (!json_is_array(ap) || json_array_size(ap) > CTNG_EXT_MAX_PATH)
		return ctng_err_set(err, CTNG_EINVAL, "audit_path: expected an array of hashes");
	ctng_gossip_object o = {0};
	ctng_logger_proof p = {0};
	ctng_cert_proofs ps = {.rid = rid};
	uint8_t *der = NULL;
	size_t der_len = 0;
	ctng_sth sth;
	uint8_t leaf[32];
	if ((rc = ctng_gossip_from_json(json_object_get(reply, "sth"), &o, err)))
		goto out;
	if (o.type != CTNG_STH || strcmp(o.signer, logger_id) || o.period != period) {
		rc = ctng_err_set(err, CTNG_EVERIFY, "proof: not %s's STH of period %llu",
		                  logger_id, (unsigned long long)period);
		goto out;
	}
	if ((rc = ctng_gossip_verify_signed(&o, lk, &ca->net->clock, err)) ||
	    (rc = ctng_sth_from_object(&o, &sth, err)))
		goto out;
	strcpy(p.logger_id, logger_id);
	p.period = period;
	p.tree_size = sth.tree_size;
	p.sth_timestamp_ms = sth.timestamp_ms;
	memcpy(p.root, sth.root, 32);
	p.leaf_index = (uint64_t)json_integer_value(li);
	p.path_len = json_array_size(ap);
	if (p.path_len && !(p.audit_path = malloc(p.path_len * 32))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p.path_len; i++) {
		const json_t *h = json_array_get(ap, i);
		if (!json_is_string(h) ||
		    (rc = ctng_b64_decode_exact(p.audit_path[i], 32, json_string_value(h), err))) {
			rc =
			    ctng_err_set(err, CTNG_EINVAL, "audit_path[%zu]: not a base64 hash", i);
			goto out;
		}
	}
	if ((rc = ctng_b64_decode_alloc(ctng_gossip_str(o.signature[0]),
	                                strlen(ctng_gossip_str(o.signature[0])), &p.sth_sig,
	                                &p.sth_sig_len, err)) ||
	    (rc = load_sct(ca, rid, logger_id, &p.leaf_timestamp_ms, &p.leaf_exts, &p.leaf_exts_len,
	                   err)) ||
	    (rc = ctng_ca_leaf_hash(ca, rid, logger_id, leaf, err)))
		goto out;
	if (p.leaf_index >= p.tree_size ||
	    ctng_merkle_verify_inclusion(leaf, p.leaf_index, p.tree_size, p.root,
	                                 (const uint8_t(*)[32])p.audit_path, p.path_len, NULL)) {
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "proof from %s: audit path does not prove RID %u's leaf",
		                  logger_id, rid);
		goto out;
	}
	if ((rc = ctng_cert_proofs_add(&ps, &p, err)) ||
	    (rc = ctng_cert_proofs_encode(&ps, &der, &der_len, err)))
		goto out;
	sqlite3_stmt *st = ca_prep(ca,
	                        "INSERT OR REPLACE INTO ca_proof(rid, logger, period, der)"
	                        " VALUES(?,?,?,?)",
	                        err);
	if (!st) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_text(st, 2, logger_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)period);
	sqlite3_bind_blob(st, 4, der, (int)der_len, SQLITE_STATIC);
	rc = ca_run(ca, st, err);
out:
	free(der);
	ctng_cert_proofs_clear(&ps);
	ctng_logger_proof_clear(&p);
	ctng_gossip_clear(&o);
	return rc;
}

/* Issues one certificate from its stored proofs (inside the caller's tx). */
static int issue_one(ctng_ca *ca, uint32_t rid, uint64_t period, ctng_err *err)
{
	ctng_cert_proofs ps = {.rid = ca_cert_rid(ca, rid)};
	X509 *pre = NULL, *fin = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc = 0, r;
	sqlite3_stmt *st = ca_prep(ca, "SELECT der FROM ca_proof WHERE rid=? ORDER BY logger", err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, rid);
	while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
		ctng_cert_proofs one;
		if (!(rc = ctng_cert_proofs_decode(sqlite3_column_blob(st, 0),
		                                   (size_t)sqlite3_column_bytes(st, 0), &one,
		                                   err))) {
			rc = ctng_cert_proofs_add(&ps, &one.proofs[0], err);
			ctng_cert_proofs_clear(&one);
		}
	}
	sqlite3_finalize(st);
	uint8_t fp[32];
	if (rc || (rc = ca_load_precert(ca, rid, &pre, err)) ||
	    (rc = ctng_cert_make_final(pre, &ps, ca->root, ca->key, &fin, err)) ||
	    (rc = ctng_cert_to_der(fin, &der, &der_len, err)))
		goto out;
	if (ca_sha256(der, der_len, fp)) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "SHA-256 failed");
		goto out;
	}
	if (!(st = ca_prep(ca,
	                "UPDATE ca_cert SET cert=?, cert_sha256=?, issued_period=? WHERE rid=? AND"
	                " cert IS NULL",
	                err))) {
		rc = CTNG_EIO;
		goto out;
	}
	sqlite3_bind_blob(st, 1, der, (int)der_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, fp, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)period);
	sqlite3_bind_int64(st, 4, rid);
	rc = ca_run(ca, st, err);
out:
	free(der);
	X509_free(pre);
	X509_free(fin);
	ctng_cert_proofs_clear(&ps);
	return rc;
}

int ctng_ca_issue_ready(ctng_ca *ca, uint64_t period, size_t *issued, ctng_err *err)
{
	if (issued)
		*issued = 0;
	sqlite3_stmt *st =
	    ca_prep(ca,
	         "SELECT c.rid FROM ca_cert c WHERE c.cert IS NULL AND"
	         " (SELECT count(*) FROM ca_proof p WHERE p.rid=c.rid) > 0 AND"
	         " ((SELECT count(*) FROM ca_proof p WHERE p.rid=c.rid) ="
	         "  (SELECT count(*) FROM ca_sct s WHERE s.rid=c.rid) OR c.submit_period + ? <= ?)"
	         " ORDER BY c.rid",
	         err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, CTNG_CA_MAX_WAIT_PERIODS);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)period);
	uint32_t *rids = NULL;
	size_t n = 0;
	int rc = ca_rid_list(ca, st, &rids, &n, err);
	if (rc || n == 0) {
		free(rids);
		return rc;
	}
	if ((rc = ctng_store_begin(ca->store, err))) {
		free(rids);
		return rc;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = issue_one(ca, rids[i], period, err);
	if (!rc)
		rc = ctng_store_commit(ca->store, err);
	if (rc) {
		free(rids);
		return ca_rollback(ca, rc);
	}
	for (size_t i = 0; i < n; i++)
		CTNG_INFO("certificate issued", "rid=%u period=%llu", rids[i],
		          (unsigned long long)period);
	free(rids);
	if (issued)
		*issued = n;
	return 0;
}
