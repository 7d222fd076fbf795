/*
 * sequencer.c — the period clock of the log: at each period start, in one
 * transaction, integrate the pending entries stamped before it into the
 * merkle tiles and sign and store the STH (plus the test-only split-view
 * STH).
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "logger/logger_internal.h"

uint64_t ctng_logger_next_tick_ms(const ctng_logger *lg, uint64_t now_ms)
{
	if (now_ms < lg->clock.genesis_ms)
		return lg->clock.genesis_ms - now_ms;
	return ctng_clock_ms_until_next(&lg->clock, now_ms);
}

int ctng_logger_latest_sth(const ctng_logger *lg, ctng_sth *sth, uint64_t *period, ctng_err *err)
{
	if (!lg->has_sth)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no STH published yet");
	if (sth)
		*sth = lg->sth;
	if (period)
		*period = lg->sth_period;
	return 0;
}

static int store_sth(ctng_logger *lg, uint64_t period, int variant, const ctng_sth *sth,
                     ctng_gossip_object *obj, ctng_err *err)
{
	char *json = NULL;
	size_t jlen = 0;
	int rc = ctng_sth_sign(obj, lg->id, lg->key, sth, &lg->clock, err);
	if (!rc)
		rc = ctng_gossip_encode(obj, &json, &jlen, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = lg_q(lg, Q_STH_INS, err);
	if (!st) {
		free(json);
		return CTNG_EIO;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)sth->timestamp_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)sth->tree_size);
	sqlite3_bind_blob(st, 5, sth->root, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, json, (int)jlen, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : lg_db_err(lg, err, "store STH");
	lg_done(st);
	free(json);
	return rc;
}

static int integrate(ctng_logger *lg, uint64_t period, uint64_t start, ctng_gossip_object *obj,
                     ctng_sth *sth, ctng_err *err)
{
	/* The pending entries carry their leaf indexes since submission (in
	 * timestamp order): the STH takes those from the tree size on, in index
	 * order, up to the first stamped at or after the period start. */
	uint64_t base = ctng_merkle_tiles_size(lg->tiles);
	sqlite3_stmt *st = lg_q(lg, Q_PENDING, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)base);
	size_t n = 0, cap = 0;
	uint8_t(*hashes)[32] = NULL;
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 2) >= start)
			break;
		if ((uint64_t)sqlite3_column_int64(st, 0) != base + n) {
			rc = ctng_err_set(err, CTNG_EIO, "logger: leaf index %llu missing",
			                  (unsigned long long)(base + n));
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			uint8_t(*nh)[32] = realloc(hashes, cap * sizeof(*nh));
			if (!nh) {
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
				break;
			}
			hashes = nh;
		}
		if (sqlite3_column_bytes(st, 1) != 32) {
			rc =
			    ctng_err_set(err, CTNG_EIO, "logger: stored leaf hash is not 32 bytes");
			break;
		}
		memcpy(hashes[n], sqlite3_column_blob(st, 1), 32);
		n++;
	}
	if (!rc && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = lg_db_err(lg, err, "read pending entries");
	lg_done(st);
	if (!rc && n)
		rc = ctng_merkle_tiles_append(lg->tiles, (const uint8_t(*)[32])hashes, n, err);
	free(hashes);
	if (rc)
		return rc;
	sth->timestamp_ms = start;
	sth->tree_size = base + n;
	if ((rc = ctng_merkle_tiles_root(lg->tiles, sth->tree_size, sth->root, err)) ||
	    (rc = store_sth(lg, period, 0, sth, obj, err)))
		return rc;
	if (lg->split_view && lg->clock.period_ms > 1) {
		/* Test-only: a second, validly signed STH for the same period. */
		ctng_sth alt = *sth;
		alt.timestamp_ms = start + 1;
		ctng_gossip_object o2 = {0};
		rc = store_sth(lg, period, 1, &alt, &o2, err);
		ctng_gossip_clear(&o2);
	}
	return rc;
}

int ctng_logger_tick(ctng_logger *lg, uint64_t now_ms, bool *published, ctng_err *err)
{
	if (published)
		*published = false;
	uint64_t p;
	if (!ctng_clock_period_of(&lg->clock, now_ms, &p))
		return 0;
	if (lg->has_sth && lg->sth_period >= p)
		return 0;
	if (lg->batch_open) /* its entries may be stamped before the period start */
		return ctng_err_set(err, CTNG_ESTATE,
		                    "logger: a batch of submissions is being committed");
	uint64_t start = ctng_clock_period_start(&lg->clock, p);
	if (start > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "logger: period start out of range");
	int rc = ctng_store_begin(lg->store, err);
	if (rc)
		return rc;
	ctng_gossip_object obj = {0};
	ctng_sth sth;
	rc = integrate(lg, p, start, &obj, &sth, err);
	if (!rc)
		rc = ctng_store_commit(lg->store, err);
	if (rc) {
		if (ctng_store_tx_depth(lg->store) > 0)
			ctng_store_rollback(lg->store, NULL);
		ctng_merkle_tiles_reload(lg->tiles, NULL);
		ctng_gossip_clear(&obj);
		return rc;
	}
	ctng_gossip_clear(&lg->sth_obj);
	lg->sth_obj = obj;
	lg->sth = sth;
	lg->sth_period = p;
	lg->has_sth = true;
	if (published)
		*published = true;
	CTNG_INFO("published STH", "period=%llu tree_size=%llu", (unsigned long long)p,
	          (unsigned long long)sth.tree_size);
	return 0;
}
