/*
 * ctng.c — the CTng endpoints of the log: the STH gossip object of a period
 * (with the test-only split view, remembered per monitor), the period
 * inclusion proof a CA embeds, the signed roots of its data tiles that
 * monitors check entry bundles against, and which periods a test-only
 * faulty logger answers.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "logger/logger_internal.h"

bool ctng_logger_answers(const ctng_logger *lg, uint64_t period)
{
	if (lg->silent)
		return false;
	return lg->answer_mod == 0 || period % lg->answer_mod == 0;
}

/* Which STH variant `monitor` sees (split view is test-only). */
static int variant_for(ctng_logger *lg, const char *monitor, int *variant, ctng_err *err)
{
	*variant = 0;
	if (!lg->split_view || !monitor || !*monitor)
		return 0;
	if (lg->n_split) {
		for (size_t i = 0; i < lg->n_split; i++)
			if (!strcmp(lg->split_targets[i], monitor))
				*variant = 1;
		return 0;
	}
	/* No targets: every second distinct requesting monitor, in the order of
	 * their first request, gets the alternative (remembered in the db). */
	if (!ctng_id_valid(monitor))
		return 0;
	sqlite3_stmt *st = lg_q(lg, Q_SPLIT_GET, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*variant = sqlite3_column_int(st, 0) ? 1 : 0;
		lg_done(st);
		return 0;
	}
	lg_done(st);
	if (r != SQLITE_DONE)
		return lg_db_err(lg, err, "split view lookup");
	if (!(st = lg_q(lg, Q_SPLIT_COUNT, err)))
		return CTNG_EIO;
	if (sqlite3_step(st) != SQLITE_ROW) {
		lg_done(st);
		return lg_db_err(lg, err, "split view count");
	}
	int alt = (int)(sqlite3_column_int64(st, 0) % 2);
	lg_done(st);
	if (!(st = lg_q(lg, Q_SPLIT_INS, err)))
		return CTNG_EIO;
	sqlite3_bind_text(st, 1, monitor, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, alt);
	r = sqlite3_step(st);
	lg_done(st);
	if (r != SQLITE_DONE)
		return lg_db_err(lg, err, "split view insert");
	*variant = alt;
	return 0;
}

static int load_sth_object(ctng_logger *lg, uint64_t period, int variant, ctng_gossip_object *out,
                           ctng_err *err)
{
	if (period > (uint64_t)INT64_MAX)
		return ctng_err_set(err, CTNG_ENOTFOUND, "no STH for period %llu",
		                    (unsigned long long)period);
	sqlite3_stmt *st = lg_q(lg, Q_STH_GET, err);
	if (!st)
		return CTNG_EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)period);
	sqlite3_bind_int(st, 2, variant);
	int r = sqlite3_step(st), rc;
	if (r == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(st, 0);
		rc = ctng_gossip_decode(json ? json : "", (size_t)sqlite3_column_bytes(st, 0), out,
		                        err);
	} else if (r == SQLITE_DONE) {
		uint64_t cur = 0;
		bool started = ctng_clock_period_of(&lg->clock, ctng_now_ms(), &cur);
		if (!started || period >= cur)
			rc = ctng_err_set(err, CTNG_ENOTFOUND,
			                  "STH of period %llu not yet published",
			                  (unsigned long long)period);
		else
			rc = ctng_err_set(err, CTNG_ENOTFOUND,
			                  "no STH was published for period %llu",
			                  (unsigned long long)period);
	} else {
		rc = lg_db_err(lg, err, "read STH");
	}
	lg_done(st);
	return rc;
}

int ctng_logger_sth_object(ctng_logger *lg, uint64_t period, const char *monitor,
                           ctng_gossip_object *out, ctng_err *err)
{
	ctng_gossip_clear(out);
	int variant = 0;
	int rc = variant_for(lg, monitor, &variant, err);
	if (rc)
		return rc;
	rc = load_sth_object(lg, period, variant, out, err);
	if (rc == CTNG_ENOTFOUND && variant == 1)
		rc = load_sth_object(lg, period, 0, out, err);
	return rc;
}

int ctng_logger_period_proof(ctng_logger *lg, uint64_t period, const uint8_t leaf_hash[32],
                             json_t **out, ctng_err *err)
{
	*out = NULL;
	ctng_gossip_object o = {0};
	ctng_sth sth;
	uint64_t idx = 0;
	uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	json_t *oj = NULL;
	int rc;
	if ((rc = load_sth_object(lg, period, 0, &o, err)) ||
	    (rc = ctng_sth_from_object(&o, &sth, err)))
		goto out;
	if (sth.tree_size == 0) {
		rc = ctng_err_set(err, CTNG_ENOTFOUND, "the STH of period %llu has an empty tree",
		                  (unsigned long long)period);
		goto out;
	}
	if ((rc = lg_find_leaf(lg, leaf_hash, sth.tree_size, &idx, err)) ||
	    (rc = ctng_merkle_tiles_inclusion(lg->tiles, idx, sth.tree_size, proof, &n, err)) ||
	    (rc = ctng_gossip_to_json(&o, &oj, err)))
		goto out;
	*out = json_pack("{s:o,s:I,s:o*}", "sth", oj, "leaf_index", (json_int_t)idx, "audit_path",
	                 lg_path_json((const uint8_t(*)[32])proof, n));
	if (!*out)
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
out:
	ctng_gossip_clear(&o);
	return rc;
}

int ctng_logger_tile_roots(ctng_logger *lg, uint64_t tree_size, uint64_t first, uint32_t count,
                           json_t **out, ctng_err *err)
{
	*out = NULL;
	ctng_tile_roots t = {0};
	snprintf(t.logger, sizeof t.logger, "%s", lg->id);
	t.tree_size = tree_size;
	t.first = first;
	t.count = count;
	int rc = ctng_tile_roots_check(&t, err);
	if (rc)
		return rc;
	if (tree_size > ctng_logger_tree_size(lg))
		return ctng_err_set(err, CTNG_ENOTFOUND, "tree_size %llu beyond the published tree",
		                    (unsigned long long)tree_size);
	if (!(t.roots = malloc((size_t)count * 32)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	uint8_t(*leaves)[32] = NULL;
	for (uint32_t i = 0; i < count && !rc; i++) {
		uint64_t a = (first + i) * CTNG_MERKLE_TILE_WIDTH;
		unsigned w = ctng_tile_roots_width(&t, i);
		if (!lg->wrong_data) {
			rc = ctng_merkle_tiles_range_hash(lg->tiles, a, a + w, t.roots[i], err);
			continue;
		}
		/* Test-only: the roots of the altered entries it serves. */
		if (!leaves && !(leaves = malloc(CTNG_MERKLE_TILE_WIDTH * 32))) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		if (!(rc = lg_served_leaf_hashes(lg, first + i, w, leaves, err)))
			rc = ctng_merkle_root((const uint8_t(*)[32])leaves, w, w, t.roots[i], err);
	}
	free(leaves);
	if (!rc)
		rc = ctng_tile_roots_sign(&t, lg->key, err);
	if (!rc)
		rc = ctng_tile_roots_to_json(&t, out, err);
	ctng_tile_roots_clear(&t);
	return rc;
}
