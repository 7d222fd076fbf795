/*
 * ridcon.c — checking a RID CON (docs/protocol.md §5.2) against the CA it
 * convicts: both certificates strictly parsed, issued by the CA (its root's
 * subject, signature by its key), both carrying the CON's RID in their RID
 * extension, and differing in the TBS a CTng log holds (so they are two
 * certificates, not a precertificate and its final certificate). Plus the
 * one CON verifier every node uses, ctng_cert_con_verify: proto verifies
 * every other kind, but cannot read X.509.
 */
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"

/* One certificate of the evidence: issued by the CA, with RID `rid`; its
 * logged TBS in *tbs (malloc'd). */
static int check_one(const uint8_t *der, size_t len, int i, const uint8_t *subj, size_t subj_len,
                     const ctng_sig_key *key, uint32_t rid, uint8_t **tbs, size_t *tbs_len,
                     ctng_err *err)
{
	ctng_cert_view v;
	uint32_t got = 0;
	int rc;
	if ((rc = ctng_cert_view_parse(der, len, &v, err)) ||
	    (rc = ctng_cert_view_check_issued(&v, subj, subj_len, ctng_sig_key_evp(key), err)) ||
	    (rc = ctng_cert_view_rid(&v, &got, err)) ||
	    (rc = ctng_cert_view_logged_tbs(&v, tbs, tbs_len, err))) {
		ctng_err_wrap(err, "RID CON certs[%d]", i);
		return rc == CTNG_ENOTFOUND ? CTNG_EVERIFY : rc;
	}
	if (got != rid) {
		free(*tbs);
		*tbs = NULL;
		return ctng_err_set(err, CTNG_EVERIFY, "RID CON certs[%d]: names RID %u, not %u", i,
		                    got, rid);
	}
	return 0;
}

int ctng_rid_con_verify(const ctng_gossip_object *con, const ctng_entity *ca, ctng_err *err)
{
	int rc = ctng_gossip_check(con, err);
	if (rc)
		return rc;
	if (!ctng_con_is_rid(con))
		return ctng_err_set(err, CTNG_EINVAL, "not a RID CON");
	if (!ca || ca->role != CTNG_ROLE_CA || !ca->key || !ca->root_cert_pem ||
	    strcmp(ca->id, ctng_gossip_str(con->payload[0])) != 0)
		return ctng_err_set(err, CTNG_EINVAL, "RID CON: payload[0] is not this CA");
	if ((int)con->scheme != (int)ctng_sig_key_alg(ca->key))
		return ctng_err_set(err, CTNG_EINVAL, "RID CON: crypto_scheme is not the CA key's");
	X509 *root = NULL;
	uint8_t *a = NULL, *b = NULL, *ta = NULL, *tb = NULL, *subj = NULL;
	size_t an = 0, bn = 0, tan = 0, tbn = 0;
	uint32_t rid = 0;
	if ((rc = ctng_cert_from_pem(ca->root_cert_pem, strlen(ca->root_cert_pem), &root, err)))
		goto out;
	int sl = i2d_X509_NAME(X509_get_subject_name(root), &subj);
	if (sl <= 0) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ctng_rid_con_parts(con, &rid, &a, &an, &b, &bn, err)) ||
	    (rc = check_one(a, an, 0, subj, (size_t)sl, ca->key, rid, &ta, &tan, err)) ||
	    (rc = check_one(b, bn, 1, subj, (size_t)sl, ca->key, rid, &tb, &tbn, err)))
		goto out;
	if (tan == tbn && memcmp(ta, tb, tan) == 0)
		rc = ctng_err_set(err, CTNG_EVERIFY,
		                  "RID CON: one certificate twice (the same logged TBS): no "
		                  "misbehaviour");
out:
	if (rc && rc != CTNG_ENOMEM)
		ctng_err_wrap(err, "RID CON against %s", ctng_gossip_str(con->payload[0]));
	OPENSSL_free(subj);
	X509_free(root);
	free(a);
	free(b);
	free(ta);
	free(tb);
	return rc;
}

int ctng_cert_con_verify(const ctng_gossip_object *con, const ctng_entity *ent,
                         const ctng_clock *clock, ctng_err *err)
{
	if (!ent || !ent->key)
		return ctng_err_set(err, CTNG_EINVAL, "CON: no key for the convicted entity");
	if (ctng_con_is_rid(con))
		return ctng_rid_con_verify(con, ent, err);
	return ctng_con_verify(con, ent->key, clock, err);
}
