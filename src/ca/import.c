/*
 * import.c — a CA that joins CTng with the revocations of certificates it
 * issued before (a migration from CRLs, or the simulator's NDSS testbed CRV
 * of 10^8 RIDs with 0.2 % revoked, docs/sim.md §10): their RIDs become
 * operator revocations published in the CA's next REV, and the CA numbers
 * its new certificates after them, so no RID it assigns can be one of them.
 */
#include <roaring/roaring.h>

#include "ca/ca_internal.h"

struct each {
	ctng_ca *ca;
	sqlite3_stmt *st;
	uint64_t now_ms;
	ctng_err *err;
	int rc;
};

static bool insert_each(uint32_t rid, void *arg)
{
	struct each *c = arg;
	sqlite3_bind_int64(c->st, 1, rid);
	sqlite3_bind_int64(c->st, 2, (sqlite3_int64)c->now_ms);
	if (sqlite3_step(c->st) != SQLITE_DONE)
		c->rc = ca_db_fail(c->ca, c->err, "import revocations");
	sqlite3_reset(c->st);
	return c->rc == 0;
}

int ctng_ca_import_revocations(ctng_ca *ca, const struct roaring_bitmap_s *rids, uint32_t next_rid,
                               uint64_t now_ms, ctng_err *err)
{
	if (next_rid >= CTNG_CA_BOGUS_RID)
		return ctng_err_set(err, CTNG_ERANGE, "next RID %u out of range", next_rid);
	if (!roaring_bitmap_is_empty(rids) && roaring_bitmap_maximum(rids) >= next_rid)
		return ctng_err_set(err, CTNG_EINVAL, "revoked RID %u is not below the next RID %u",
		                    roaring_bitmap_maximum(rids), next_rid);
	bool found;
	uint64_t cur = 0;
	int rc;
	if ((rc = ca_meta_get(ca, "next_rid", &cur, &found, err)))
		return rc;
	if (cur > next_rid)
		return ctng_err_set(
		    err, CTNG_EINVAL,
		    "next RID %u would reuse RIDs: the CA already assigned up to %llu", next_rid,
		    (unsigned long long)cur);
	if ((rc = ctng_store_begin(ca->store, err)))
		return rc;
	sqlite3_stmt *st =
	    ca_prep(ca,
	            "INSERT OR IGNORE INTO ca_revocation(rid, revoked_ms, by_operator)"
	            " VALUES(?,?,1)",
	            err);
	if (!st)
		return ca_rollback(ca, CTNG_EIO);
	struct each c = {ca, st, now_ms, err, 0};
	roaring_iterate(rids, insert_each, &c);
	rc = c.rc;
	sqlite3_finalize(st);
	if (!rc)
		rc = ca_meta_put(ca, "next_rid", next_rid, err);
	if (rc)
		return ca_rollback(ca, rc);
	if ((rc = ctng_store_commit(ca->store, err)))
		return ca_rollback(ca, rc);
	CTNG_INFO("revocations imported", "count=%llu next_rid=%u",
	          (unsigned long long)roaring_bitmap_get_cardinality(rids), next_rid);
	return 0;
}
