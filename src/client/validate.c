/*
 * validate.c — offline certificate validation by the relying party
 * (include/ctng/client.h, DESIGN §7): X.509 chain to a CA of the network,
 * the CTng extension, the issuer's and loggers' proofs of misbehaviour, the
 * logger proofs (STH signature, STH_FULL-attested head, inclusion proof) and
 * the revocation bit in the CA's CRV.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/client_internal.h"
#include "ctng/cert.h"
#include "ctng/merkle.h"

static const char *const reason_names[] = {
    "OK",      "MALFORMED", "CHAIN", "NO_EXTENSION", "ISSUER_CONVICTED", "NO_VALID_LOGGER",
    "REVOKED", "STALE", "RID_MISMATCH",
};

const char *ctng_client_reason_name(ctng_client_reason r)
{
	if ((unsigned)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return NULL;
	return reason_names[r];
}

static int decide(ctng_client_result *res, ctng_client_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int decide(ctng_client_result *res, ctng_client_reason r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	res->reason = r;
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return 0;
}

/* Has the state applied the update of period p? */
static bool period_synced(ctng_client *c, uint64_t p)
{
	if (!c->have_last || p > c->last || p < c->first || p > INT64_MAX)
		return false;
	sqlite3_stmt *st = c->q_period;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)p);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* 0 and the digest attested for (logger, p), CTNG_ENOTFOUND, or CTNG_EIO.
 * *same_sig: the STH object applied with it carried exactly these signature
 * bytes (sig, sig_len), already verified against the logger key then. */
static int attested_digest(ctng_client *c, const char *logger, uint64_t p, uint8_t out[32],
                           const uint8_t *sig, size_t sig_len, bool *same_sig)
{
	sqlite3_stmt *st = c->q_sth;
	*same_sig = false;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, logger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)p);
	int s = sqlite3_step(st), rc = CTNG_EIO;
	if (s == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(out, sqlite3_column_blob(st, 0), 32);
		const void *stored = sqlite3_column_blob(st, 1);
		*same_sig = stored && sig_len && (size_t)sqlite3_column_bytes(st, 1) == sig_len &&
		            memcmp(stored, sig, sig_len) == 0;
		rc = 0;
	} else if (s == SQLITE_DONE) {
		rc = CTNG_ENOTFOUND;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

enum { LOGGER_PASS = 0, LOGGER_FAIL = 1, LOGGER_STALE = 2 };

/* The logged entry of the certificate, computed once per validation. */
typedef struct lazy_entry {
	X509 *cert, *issuer;
	const uint8_t *issuer_key_hash; /* may be NULL */
	bool done;
	int rc;
	char msg[160];
	ctng_ct_entry e;
} lazy_entry;

static int get_entry(lazy_entry *le)
{
	if (!le->done) {
		ctng_err e2 = {0};
		le->done = true;
		le->rc = client_leaf_entry(le->cert, le->issuer, le->issuer_key_hash, &le->e, &e2);
		snprintf(le->msg, sizeof(le->msg), "%.150s", e2.msg);
	}
	return le->rc;
}

/* Checks one logger proof; *why gets a sentence when it does not pass. */
static int check_logger(ctng_client *c, lazy_entry *le, const ctng_logger_proof *p, char *why,
                        size_t why_len)
{
	const ctng_entity *e = ctng_network_entity(&c->net, p->logger_id);
	const char *id = p->logger_id;
	unsigned long long per = (unsigned long long)p->period;
	if (!e || e->role != CTNG_ROLE_LOGGER || !e->key) {
		snprintf(why, why_len, "%s is not a logger of the network", id);
		return LOGGER_FAIL;
	}
	if (ctng_client_convicted(c, id)) {
		snprintf(why, why_len, "logger %s is convicted of misbehaviour (CON_FULL)", id);
		return LOGGER_FAIL;
	}
	if (!period_synced(c, p->period)) {
		snprintf(why, why_len, "the state has no update of period %llu for logger %s yet",
		         per, id);
		return LOGGER_STALE;
	}
	if (ctng_client_accused(c, id, p->period)) {
		snprintf(why, why_len, "logger %s is accused in period %llu (ACC_FULL)", id, per);
		return LOGGER_FAIL;
	}
	uint8_t want[32], have[32], tbs[CTNG_STH_TBS_LEN];
	bool same_sig = false;
	int rc = attested_digest(c, id, p->period, want, p->sth_sig, p->sth_sig_len, &same_sig);
	if (rc == CTNG_ENOTFOUND) {
		snprintf(why, why_len, "no STH_FULL attests an STH of logger %s for period %llu",
		         id, per);
		return LOGGER_FAIL;
	}
	if (rc) {
		snprintf(why, why_len, "client state read error");
		return LOGGER_FAIL;
	}
	ctng_sth sth;
	ctng_logger_proof_sth(p, &sth);
	ctng_sth_tbs(&sth, tbs);
	unsigned int hl = 0;
	if (EVP_Digest(tbs, sizeof(tbs), have, &hl, EVP_sha256(), NULL) != 1 ||
	    memcmp(have, want, 32) != 0) {
		snprintf(why, why_len,
		         "the STH of logger %s for period %llu in the certificate is not the one "
		         "its STH_FULL attests",
		         id, per);
		return LOGGER_FAIL;
	}
	ctng_err e2 = {0};
	uint8_t leaf[32];
	if (get_entry(le)) {
		snprintf(why, why_len, "cannot recompute the logged entry: %.120s", le->msg);
		return LOGGER_FAIL;
	}
	if (ctng_ct_leaf_hash(&le->e, p->leaf_timestamp_ms, p->leaf_exts, p->leaf_exts_len, leaf,
	                      &e2) ||
	    ctng_merkle_verify_inclusion(leaf, p->leaf_index, p->tree_size, p->root,
	                                 (const uint8_t(*)[32])p->audit_path, p->path_len, &e2)) {
		snprintf(why, why_len, "the inclusion proof of logger %s does not verify: %.120s",
		         id, e2.msg);
		return LOGGER_FAIL;
	}
	/* The head equals the attested one (digest above); if the signature bytes
	 * are also those of the STH object verified when the update was applied,
	 * verifying them again would give the same answer. */
	if (!same_sig && ctng_logger_proof_verify_sth(p, e->key, &c->net.clock, &e2)) {
		snprintf(why, why_len, "the STH of logger %s is not validly signed by it: %.120s",
		         id, e2.msg);
		return LOGGER_FAIL;
	}
	return LOGGER_PASS;
}

int ctng_client_validate_x509(ctng_client *c, X509 *cert, STACK_OF(X509) * chain, uint64_t now_ms,
                              ctng_client_result *res, ctng_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!c || !cert)
		return ctng_err_set(err, CTNG_EINVAL, "validate: no client or certificate");
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int rc = 0;
	ctng_cert_proofs proofs = {0};
	if (X509_STORE_CTX_init(ctx, c->trust, cert, chain) != 1) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "validate: X509_STORE_CTX_init failed");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, (time_t)(now_ms / 1000));
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		decide(res, CTNG_CLIENT_CHAIN,
		       "the certificate does not chain to a CA of the network: %s",
		       X509_verify_cert_error_string(e));
		goto out;
	}
	STACK_OF(X509) *vc = X509_STORE_CTX_get0_chain(ctx);
	int depth = sk_X509_num(vc);
	if (depth < 2) {
		decide(res, CTNG_CLIENT_CHAIN, "the certificate is a CA root, not an end-entity");
		goto out;
	}
	X509 *issuer = sk_X509_value(vc, 1), *anchor = sk_X509_value(vc, depth - 1);
	const client_ca *ca = NULL;
	for (size_t i = 0; i < c->n_cas && !ca; i++)
		if (X509_cmp(c->cas[i].root, anchor) == 0)
			ca = &c->cas[i];
	if (!ca) {
		decide(res, CTNG_CLIENT_CHAIN, "the trust anchor is not a CA of the network");
		goto out;
	}
	snprintf(res->ca, sizeof(res->ca), "%s", ca->ent->id);
	ctng_err e2 = {0};
	int prc = ctng_cert_get_proofs(cert, &proofs, &e2);
	if (prc == CTNG_ENOTFOUND) {
		decide(res, CTNG_CLIENT_NO_EXTENSION, "the certificate has no CTng extension");
		goto out;
	}
	if (prc == CTNG_ENOMEM) {
		rc = ctng_err_set(err, prc, "out of memory");
		goto out;
	}
	if (prc) {
		decide(res, CTNG_CLIENT_NO_EXTENSION, "the CTng extension is malformed: %s",
		       e2.msg);
		goto out;
	}
	uint32_t rid = 0;
	if ((prc = ctng_cert_get_rid(cert, &rid, &e2)) == CTNG_ENOMEM) {
		rc = ctng_err_set(err, prc, "out of memory");
		goto out;
	}
	if (prc) {
		decide(res, CTNG_CLIENT_NO_EXTENSION, "the RID is not logged: %s", e2.msg);
		goto out;
	}
	res->rid = rid;
	res->has_rid = true;
	if (ctng_client_convicted(c, ca->ent->id)) {
		decide(res, CTNG_CLIENT_ISSUER_CONVICTED,
		       "the issuing CA %s is convicted of misbehaviour (CON_FULL)", ca->ent->id);
		goto out;
	}
	lazy_entry le = {.cert = cert,
	                 .issuer = issuer,
	                 .issuer_key_hash = X509_cmp(issuer, ca->root) == 0 ? ca->spki_hash : NULL};
	char first_why[256] = "", stale_why[256] = "";
	bool passed = false, stale = false;
	for (size_t i = 0; i < proofs.n && !passed; i++) {
		char why[256];
		int r = check_logger(c, &le, &proofs.proofs[i], why, sizeof(why));
		if (r == LOGGER_PASS) {
			passed = true;
			snprintf(res->logger, sizeof(res->logger), "%s",
			         proofs.proofs[i].logger_id);
		} else if (r == LOGGER_STALE) {
			if (!stale)
				memcpy(stale_why, why, sizeof(why));
			stale = true;
		} else if (!first_why[0]) {
			memcpy(first_why, why, sizeof(why));
		}
	}
	ctng_ct_entry_clear(&le.e);
	if (!passed) {
		if (stale)
			decide(res, CTNG_CLIENT_STALE,
			       "no logger proof can be checked yet: %s (sync)", stale_why);
		else
			decide(res, CTNG_CLIENT_NO_VALID_LOGGER, "no valid logger proof: %s",
			       first_why);
		goto out;
	}
	/* The RID extension is in the TBS the proof above showed logged. */
	if (proofs.rid != rid) {
		decide(res, CTNG_CLIENT_RID_MISMATCH,
		       "the CTng extension names RID %u, the logged certificate RID %u", proofs.rid,
		       rid);
		goto out;
	}
	if (!ca->known) {
		decide(res, CTNG_CLIENT_STALE,
		       "the state does not hold the complete revocation vector of CA %s",
		       ca->ent->id);
		goto out;
	}
	if (roaring_bitmap_contains(ca->crv, rid)) {
		decide(res, CTNG_CLIENT_REVOKED, "the certificate (RID %u of CA %s) is revoked",
		       rid, ca->ent->id);
		goto out;
	}
	decide(res, CTNG_CLIENT_OK, "issued by %s, logged by %s, RID %u not revoked",
	       ca->ent->id, res->logger, rid);
out:
	ctng_cert_proofs_clear(&proofs);
	X509_STORE_CTX_free(ctx);
	return rc;
}

int ctng_client_validate_der(ctng_client *c, const uint8_t *der, size_t len, uint64_t now_ms,
                             ctng_client_result *res, ctng_err *err)
{
	memset(res, 0, sizeof(*res));
	X509 *x = NULL;
	ctng_err e2 = {0};
	if (!der || ctng_cert_from_der(der, len, &x, &e2))
		return decide(res, CTNG_CLIENT_MALFORMED, "not a DER certificate: %s",
		              der ? e2.msg : "no input");
	int rc = ctng_client_validate_x509(c, x, NULL, now_ms, res, err);
	X509_free(x);
	return rc;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"

static const char *find_begin(const char *s, const char *end)
{
	size_t n = strlen(PEM_BEGIN);
	for (const char *p = s; p + n <= end; p++)
		if (memcmp(p, PEM_BEGIN, n) == 0)
			return p;
	return NULL;
}

int ctng_client_validate_pem(ctng_client *c, const char *pem, size_t len, uint64_t now_ms,
                             ctng_client_result *res, ctng_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!pem || len > 16 * (size_t)CTNG_CERT_PEM_MAX || memchr(pem, 0, len))
		return decide(res, CTNG_CLIENT_MALFORMED, "not a PEM certificate");
	const char *end = pem + len, *start = pem;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *leaf = NULL;
	int rc = 0;
	if (!chain)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	const char *first = find_begin(pem, end);
	if (!first) {
		decide(res, CTNG_CLIENT_MALFORMED, "no CERTIFICATE block in the PEM text");
		goto out;
	}
	for (int k = 0; start < end; k++) {
		const char *b = find_begin(start == pem ? first : start, end);
		const char *next = b ? find_begin(b + 1, end) : NULL;
		const char *stop = next ? next : end;
		X509 *x = NULL;
		ctng_err e2 = {0};
		if (!b || ctng_cert_from_pem(start, (size_t)(stop - start), &x, &e2)) {
			decide(res, CTNG_CLIENT_MALFORMED, "PEM block %d: %s", k,
			       b ? e2.msg : "garbage");
			goto out;
		}
		if (!leaf) {
			leaf = x;
		} else if (!sk_X509_push(chain, x)) {
			X509_free(x);
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			goto out;
		}
		start = stop;
	}
	rc = ctng_client_validate_x509(c, leaf, chain, now_ms, res, err);
out:
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
