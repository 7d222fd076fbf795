/*
 * update.c — applying a client update (docs/client-update.md) to the relying
 * party's state: a strict parser of the update text, the verification of
 * every signature (all FULLs of an update in one batched BLS multi-pairing),
 * and the one-transaction application (attested tree heads, CRV deltas with
 * their hash check, ACC_FULL and CON_FULL proofs of misbehaviour).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "ctng/cert.h"
#include "ctng/bls.h"

typedef struct parsed_update {
	uint64_t period;
	char monitor[CTNG_ID_MAX + 1];
	ctng_gossip_object *objs;
	size_t n;
} parsed_update;

static void parsed_clear(parsed_update *u)
{
	for (size_t i = 0; i < u->n; i++)
		ctng_gossip_clear(&u->objs[i]);
	free(u->objs);
	memset(u, 0, sizeof(*u));
}

/* Group rank of a FULL type in the canonical order. */
static int full_rank(enum ctng_type t)
{
	switch (t) {
	case CTNG_STH_FULL:
		return 1;
	case CTNG_REV_FULL:
		return 2;
	case CTNG_ACC_FULL:
		return 3;
	case CTNG_CON_FULL:
		return 4;
	default:
		return 0;
	}
}

static int check_order(const parsed_update *u, ctng_err *err)
{
	const ctng_gossip_object *prev_full = NULL;
	for (size_t i = 0; i < u->n; i++) {
		const ctng_gossip_object *o = &u->objs[i];
		const char *name = ctng_type_name(o->type);
		enum ctng_kind k = ctng_type_kind(o->type);
		if (k == CTNG_KIND_FULL) {
			int r = full_rank(o->type);
			if (!r)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "object %zu: type %s not allowed", i, name);
			if (o->type == CTNG_CON_FULL ? o->period > u->period
			                             : o->period != u->period)
				return ctng_err_set(
				    err, CTNG_EINVAL,
				    "object %zu: %s of period %llu in update of %llu", i, name,
				    (unsigned long long)o->period, (unsigned long long)u->period);
			if (prev_full) {
				int pr = full_rank(prev_full->type);
				int c =
				    strcmp(ctng_gossip_entity(prev_full), ctng_gossip_entity(o));
				if (pr > r || (pr == r && (c > 0 || (c == 0 && prev_full->period >=
				                                                   o->period))))
					return ctng_err_set(
					    err, CTNG_EINVAL,
					    "object %zu: %s out of canonical order or "
					    "duplicate id",
					    i, name);
			}
			prev_full = o;
		} else if (k == CTNG_KIND_INIT) {
			if (o->type != CTNG_STH && o->type != CTNG_REV && o->type != CTNG_CON)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "object %zu: type %s not allowed", i, name);
			const ctng_gossip_object *f = i ? &u->objs[i - 1] : NULL;
			if (!f || ctng_type_kind(f->type) != CTNG_KIND_FULL ||
			    ctng_type_family(f->type) != ctng_type_family(o->type))
				return ctng_err_set(
				    err, CTNG_EINVAL,
				    "object %zu: %s does not follow the FULL attesting it", i,
				    name);
			if (!ctng_gossip_attests(f, o))
				return ctng_err_set(
				    err, CTNG_EINVAL,
				    "object %zu: %s is not the object its FULL attests", i, name);
		} else {
			return ctng_err_set(err, CTNG_EINVAL, "object %zu: type %s not allowed", i,
			                    name ? name : "?");
		}
	}
	return 0;
}

static int parse_update(const char *json, size_t len, parsed_update *u, ctng_err *err)
{
	memset(u, 0, sizeof(*u));
	if (!json)
		return ctng_err_set(err, CTNG_EINVAL, "update: no text");
	if (len > CLIENT_UPDATE_TEXT_MAX)
		return ctng_err_set(err, CTNG_ERANGE, "update: larger than %u bytes",
		                    CLIENT_UPDATE_TEXT_MAX);
	if (memchr(json, 0, len))
		return ctng_err_set(err, CTNG_EINVAL, "update: NUL byte in the text");
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ctng_err_set(err, CTNG_EINVAL, "update: invalid JSON: %s (line %d)", je.text,
		                    je.line);
	int rc = 0;
	json_t *jp = json_object_get(root, "period"), *jm = json_object_get(root, "monitor"),
	       *jo = json_object_get(root, "objects");
	if (!json_is_object(root) || json_object_size(root) != 3 || !json_is_string(jp) ||
	    !json_is_string(jm) || !json_is_array(jo)) {
		rc = ctng_err_set(err, CTNG_EINVAL,
		                  "update: must be {\"period\":string,\"monitor\":string,"
		                  "\"objects\":array} and nothing else");
		goto out;
	}
	if ((rc = ctng_parse_period(json_string_value(jp), &u->period, err))) {
		ctng_err_wrap(err, "update: period");
		goto out;
	}
	const char *mon = json_string_value(jm);
	if (!ctng_id_valid(mon)) {
		rc = ctng_err_set(err, CTNG_EINVAL, "update: monitor: not a valid id");
		goto out;
	}
	strcpy(u->monitor, mon);
	size_t n = json_array_size(jo);
	if (n > CLIENT_UPDATE_OBJECTS_MAX) {
		rc = ctng_err_set(err, CTNG_ERANGE, "update: more than %d objects",
		                  CLIENT_UPDATE_OBJECTS_MAX);
		goto out;
	}
	if (n && !(u->objs = calloc(n, sizeof(*u->objs)))) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = ctng_gossip_from_json(json_array_get(jo, i), &u->objs[i], err))) {
			ctng_err_wrap(err, "update: object %zu", i);
			goto out;
		}
		u->n++;
	}
	rc = check_order(u, err);
	if (rc)
		ctng_err_wrap(err, "update");
out:
	json_decref(root);
	if (rc)
		parsed_clear(u);
	return rc;
}

/* ------------------------------------------------------------ verify */

static bool role_ok(const ctng_network *net, enum ctng_family f, const char *id)
{
	const ctng_entity *e = ctng_network_entity(net, id);
	if (!e)
		return false;
	switch (f) {
	case CTNG_FAM_STH:
		return e->role == CTNG_ROLE_LOGGER;
	case CTNG_FAM_REV:
		return e->role == CTNG_ROLE_CA;
	case CTNG_FAM_ACC:
	case CTNG_FAM_CON:
		return e->role == CTNG_ROLE_LOGGER || e->role == CTNG_ROLE_CA;
	default:
		return false;
	}
}

typedef struct full_item {
	uint8_t sig[48];
	ctng_buf msg;
	size_t index;
} full_item;

static int verify_update(const ctng_network *net, const parsed_update *u, ctng_err *err)
{
	size_t nf = 0;
	for (size_t i = 0; i < u->n; i++)
		nf += ctng_type_kind(u->objs[i].type) == CTNG_KIND_FULL;
	full_item *items = nf ? calloc(nf, sizeof(*items)) : NULL;
	ctng_bls_batch_item *batch = nf ? calloc(nf, sizeof(*batch)) : NULL;
	int rc = 0;
	size_t k = 0;
	if (nf && (!items || !batch)) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < u->n && !rc; i++) {
		const ctng_gossip_object *o = &u->objs[i];
		enum ctng_family fam = ctng_type_family(o->type);
		const char *name = ctng_type_name(o->type), *ent = ctng_gossip_entity(o);
		if (ctng_type_kind(o->type) != CTNG_KIND_FULL) {
			const ctng_entity *e = ctng_network_entity(net, ent);
			if (!role_ok(net, fam, ent) || !e->key) {
				rc = ctng_err_set(err, CTNG_EVERIFY,
				                  "object %zu: %s of unknown entity %s", i, name,
				                  ent);
			} else if (o->type == CTNG_CON) {
				rc = ctng_cert_con_verify(o, e, &net->clock, err);
			} else {
				rc = ctng_gossip_verify_signed(o, e->key, &net->clock, err);
			}
			if (rc)
				ctng_err_wrap(err, "object %zu (%s of %s)", i, name, ent);
			continue;
		}
		if (!role_ok(net, fam, ent)) {
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "object %zu: %s about %s, not a %s of "
			                  "the network",
			                  i, name, ent,
			                  fam == CTNG_FAM_STH   ? "logger"
			                  : fam == CTNG_FAM_REV ? "CA"
			                                        : "logger or CA");
			break;
		}
		if (o->n_signers < net->threshold) {
			rc = ctng_err_set(err, CTNG_EVERIFY,
			                  "object %zu: %s of %s has %zu signers, "
			                  "threshold is %u",
			                  i, name, ent, o->n_signers, net->threshold);
			break;
		}
		for (size_t s = 0; s < o->n_signers && !rc; s++) {
			const ctng_entity *g = ctng_network_entity(net, o->signers[s]);
			if (!g || g->role != CTNG_ROLE_GOSSIPER)
				rc = ctng_err_set(err, CTNG_EVERIFY,
				                  "object %zu: %s signer %s is not a gossiper", i,
				                  name, o->signers[s]);
		}
		if (rc)
			break;
		if (fam == CTNG_FAM_REV && (i + 1 >= u->n || u->objs[i + 1].type != CTNG_REV)) {
			rc = ctng_err_set(
			    err, CTNG_EVERIFY,
			    "object %zu: REV_FULL of %s without its REV (the CRV delta "
			    "is missing)",
			    i, ent);
			break;
		}
		full_item *it = &items[k];
		it->index = i;
		if ((rc = ctng_gossip_bls_sig(o, it->sig, err)) ||
		    (rc = ctng_gossip_attest_bytes(o, &it->msg, err))) {
			ctng_err_wrap(err, "object %zu (%s of %s)", i, name, ent);
			break;
		}
		batch[k] = (ctng_bls_batch_item){net->group_pk, it->msg.data, it->msg.len, it->sig};
		k++;
	}
	if (rc || !k)
		goto out;
	rc = ctng_bls_batch_verify(batch, k, CTNG_BLS_DST_POP, err);
	if (rc == CTNG_EVERIFY || rc == CTNG_EINVAL) {
		/* Name the culprit. */
		for (size_t j = 0; j < k; j++) {
			const ctng_gossip_object *o = &u->objs[items[j].index];
			int r = ctng_bls_verify(net->group_pk, items[j].msg.data, items[j].msg.len,
			                        items[j].sig, CTNG_BLS_DST_POP, NULL);
			if (r) {
				rc = ctng_err_set(
				    err, CTNG_EVERIFY,
				    "object %zu: %s of %s: threshold signature does not "
				    "verify against the group key",
				    items[j].index, ctng_type_name(o->type), ctng_gossip_entity(o));
				break;
			}
		}
		if (!rc || (err && err->code != CTNG_EVERIFY))
			rc = ctng_err_set(err, CTNG_EVERIFY, "update: batched FULL check failed");
	}
out:
	for (size_t j = 0; j < nf && items; j++)
		ctng_buf_free(&items[j].msg);
	free(items);
	free(batch);
	return rc;
}

/* ------------------------------------------------------------- apply */

typedef struct pending_ca {
	roaring_bitmap_t *crv; /* NULL = unchanged */
	bool known;
	uint8_t hash[32];
} pending_ca;

static int exec_bind(sqlite3 *db, const char *sql, ctng_err *err, const char *fmt, ...)
{
	/* fmt: 't' text, 'i' int64, 'b' 32-byte blob, 'B' (ptr,len) blob, 'n' null */
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return ctng_err_set(err, CTNG_EIO, "client state: %s", sqlite3_errmsg(db));
	va_list ap;
	va_start(ap, fmt);
	int col = 1;
	for (const char *f = fmt; *f; f++, col++) {
		switch (*f) {
		case 't':
			sqlite3_bind_text(st, col, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			sqlite3_bind_int64(st, col, (sqlite3_int64)va_arg(ap, uint64_t));
			break;
		case 'b':
			sqlite3_bind_blob(st, col, va_arg(ap, const uint8_t *), 32,
			                  SQLITE_TRANSIENT);
			break;
		case 'B': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			sqlite3_bind_blob(st, col, p ? p : "", (int)n, SQLITE_TRANSIENT);
			break;
		}
		default:
			sqlite3_bind_null(st, col);
			break;
		}
	}
	va_end(ap);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return ctng_err_set(err, CTNG_EIO, "client state: %s", sqlite3_errmsg(db));
	return 0;
}

static int apply_rev(ctng_client *c, pending_ca *pc, const ctng_gossip_object *rev, size_t *revoked,
                     ctng_err *err)
{
	int i = client_ca_index(c, rev->signer);
	if (i < 0)
		return ctng_err_set(err, CTNG_EVERIFY, "REV of unknown CA %s", rev->signer);
	client_ca *ca = &c->cas[i];
	pending_ca *p = &pc[i];
	ctng_rev r = {0};
	roaring_bitmap_t *delta = NULL;
	int rc = ctng_rev_from_object(rev, &r, err);
	rc = rc ? rc : ctng_crv_delta_decode(r.delta, r.delta_len, &delta, err);
	if (rc) {
		ctng_rev_clear(&r);
		return ctng_err_wrap(err, "REV of %s", rev->signer);
	}
	roaring_bitmap_t *next = roaring_bitmap_or(ca->crv, delta);
	roaring_bitmap_free(delta);
	if (!next) {
		ctng_rev_clear(&r);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	uint8_t h[32];
	if ((rc = ctng_crv_hash(next, h, err))) {
		roaring_bitmap_free(next);
		ctng_rev_clear(&r);
		return rc;
	}
	bool match = memcmp(h, r.crv_hash, 32) == 0;
	/* Kept: the hash the CA signed (a full CRV from a monitor must match
	 * it to make an incomplete CRV known again, ctng_client_set_crv). */
	memcpy(h, r.crv_hash, 32);
	ctng_rev_clear(&r);
	*revoked += roaring_bitmap_get_cardinality(next) - roaring_bitmap_get_cardinality(ca->crv);
	/* The REV is signed by the CA and attested by a REV_FULL, so a hash that
	 * does not match means our CRV missed a delta (a period whose update
	 * lacked this CA's REV). The CRV is then incomplete: certificates of this
	 * CA are STALE, never valid, until a delta brings the hash back. */
	p->known = match;
	p->crv = next;
	memcpy(p->hash, h, 32);
	return 0;
}

int ctng_client_apply_update(ctng_client *c, const char *json, size_t len,
                             ctng_client_apply_stats *stats, ctng_err *err)
{
	return client_apply_update(c, json, len, NULL, stats, err);
}

int client_apply_update(ctng_client *c, const char *json, size_t len, const uint64_t *expect,
                        ctng_client_apply_stats *stats, ctng_err *err)
{
	ctng_client_apply_stats st = {0};
	parsed_update u;
	int rc = parse_update(json, len, &u, err);
	if (rc)
		return rc;
	if (expect && u.period != *expect) {
		parsed_clear(&u);
		return ctng_err_set(err, CTNG_EINVAL, "update: period %llu instead of %llu",
		                    (unsigned long long)u.period, (unsigned long long)*expect);
	}
	st.period = u.period;
	if (c->have_last && u.period <= c->last) {
		parsed_clear(&u);
		return ctng_err_set(err, CTNG_ESTATE,
		                    "update of period %llu: already at period %llu",
		                    (unsigned long long)u.period, (unsigned long long)c->last);
	}
	if (u.period > INT64_MAX) {
		parsed_clear(&u);
		return ctng_err_set(err, CTNG_ERANGE, "update: period too large");
	}
	if ((rc = verify_update(&c->net, &u, err))) {
		ctng_err_wrap(err, "update of period %llu from %s", (unsigned long long)u.period,
		              u.monitor);
		parsed_clear(&u);
		return rc;
	}
	pending_ca *pc = c->n_cas ? calloc(c->n_cas, sizeof(*pc)) : NULL;
	if (c->n_cas && !pc) {
		parsed_clear(&u);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->n_cas; i++)
		pc[i].known = c->cas[i].known || (!c->have_first && u.period == 0);
	char **newly = u.n ? calloc(u.n, sizeof(char *)) : NULL;
	size_t n_newly = 0;
	sqlite3 *db = ctng_store_db(c->store);
	if ((rc = ctng_store_begin(c->store, err)))
		goto out;
	rc = exec_bind(db, "INSERT INTO client_period(period, monitor, applied_ms) VALUES(?,?,?)",
	               err, "iti", u.period, u.monitor, ctng_now_ms());
	for (size_t i = 0; i < u.n && !rc; i++) {
		const ctng_gossip_object *o = &u.objs[i];
		const ctng_gossip_object *next = i + 1 < u.n ? &u.objs[i + 1] : NULL;
		const char *ent = ctng_gossip_entity(o);
		switch (o->type) {
		case CTNG_STH_FULL: {
			uint8_t digest[32];
			st.sth_full++;
			if ((rc = ctng_hex_decode_exact(digest, 32, ctng_gossip_str(o->payload[1]),
			                                err)))
				break;
			if (next && next->type == CTNG_STH) {
				ctng_sth h;
				st.sth++;
				if ((rc = ctng_sth_from_object(next, &h, err)))
					break;
				const char *sg = ctng_gossip_str(next->signature[0]);
				uint8_t *sig = NULL;
				size_t sig_len = 0;
				if ((rc = ctng_b64_decode_alloc(sg, strlen(sg), &sig, &sig_len,
				                                err)))
					break;
				rc = exec_bind(
				    db,
				    "INSERT INTO client_sth(logger, period, digest, has_head, "
				    "tree_size, timestamp_ms, root, sig) VALUES(?,?,?,1,?,?,?,?)",
				    err, "tibiibB", ent, o->period, digest, h.tree_size,
				    h.timestamp_ms, h.root, (const void *)sig, sig_len);
				free(sig);
			} else {
				rc = exec_bind(
				    db,
				    "INSERT INTO client_sth(logger, period, digest, has_head) "
				    "VALUES(?,?,?,0)",
				    err, "tib", ent, o->period, digest);
			}
			break;
		}
		case CTNG_REV_FULL:
			st.rev_full++;
			st.rev++;
			rc = apply_rev(c, pc, next, &st.revoked, err);
			break;
		case CTNG_ACC_FULL:
			st.acc_full++;
			rc = exec_bind(
			    db, "INSERT OR IGNORE INTO client_acc(entity, period) VALUES(?,?)", err,
			    "ti", ent, o->period);
			break;
		case CTNG_CON_FULL: {
			st.con_full++;
			st.con += next && next->type == CTNG_CON;
			bool known = ctng_client_convicted(c, ent);
			for (size_t j = 0; j < n_newly && !known; j++)
				known = strcmp(newly[j], ent) == 0;
			if (known)
				break;
			char *text = NULL;
			if ((rc = ctng_gossip_encode(o, &text, NULL, err)))
				break;
			rc =
			    exec_bind(db,
			              "INSERT OR IGNORE INTO client_con(entity, period, full_json) "
			              "VALUES(?,?,?)",
			              err, "tit", ent, o->period, text);
			free(text);
			if (!rc && !(newly[n_newly++] = strdup(ent)))
				rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		default:
			break;
		}
	}
	/* A CA without a REV in this update (silent CA, or a monitor that left it
	 * out): revocations made in the previous period are unknown to us, so its
	 * CRV no longer counts as complete. Before period 1 nothing can have been
	 * revoked. */
	for (size_t i = 0; i < c->n_cas && !rc; i++)
		if (!pc[i].crv && u.period > 0)
			pc[i].known = false;
	for (size_t i = 0; i < c->n_cas && !rc; i++) {
		client_ca *ca = &c->cas[i];
		const roaring_bitmap_t *bm = pc[i].crv ? pc[i].crv : ca->crv;
		if (!pc[i].crv && pc[i].known == ca->known && c->have_first)
			continue;
		size_t sz = roaring_bitmap_portable_size_in_bytes(bm);
		char *buf = malloc(sz ? sz : 1);
		if (!buf) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			break;
		}
		roaring_bitmap_portable_serialize(bm, buf);
		const uint8_t *h = pc[i].crv ? pc[i].hash : ca->hash;
		if (pc[i].crv)
			rc = exec_bind(db,
			               "INSERT OR REPLACE INTO client_crv(ca, period, known, hash, "
			               "bitmap) VALUES(?,?,?,?,?)",
			               err, "tiibB", ca->ent->id, u.period, (uint64_t)pc[i].known,
			               h, (const void *)buf, sz);
		else if (ca->have_period)
			rc = exec_bind(db,
			               "INSERT OR REPLACE INTO client_crv(ca, period, known, hash, "
			               "bitmap) VALUES(?,?,?,?,?)",
			               err, "tiibB", ca->ent->id, ca->period, (uint64_t)pc[i].known,
			               h, (const void *)buf, sz);
		else
			rc = exec_bind(db,
			               "INSERT OR REPLACE INTO client_crv(ca, period, known, hash, "
			               "bitmap) VALUES(?,?,?,?,?)",
			               err, "tnibB", ca->ent->id, (uint64_t)pc[i].known, h,
			               (const void *)buf, sz);
		free(buf);
	}
	if (!rc && !c->have_first)
		rc = ctng_store_kv_put_u64(c->store, CLIENT_KV_NS, "first", u.period, err);
	if (!rc)
		rc = ctng_store_kv_put_u64(c->store, CLIENT_KV_NS, "last", u.period, err);
	if (!rc)
		rc = ctng_store_commit(c->store, err);
	else
		ctng_store_rollback(c->store, NULL);
	if (rc)
		goto out;
	/* Committed: update the caches. */
	for (size_t i = 0; i < c->n_cas; i++) {
		client_ca *ca = &c->cas[i];
		ca->known = pc[i].known;
		if (pc[i].crv) {
			roaring_bitmap_free(ca->crv);
			ca->crv = pc[i].crv;
			pc[i].crv = NULL;
			memcpy(ca->hash, pc[i].hash, 32);
			ca->have_period = true;
			ca->period = u.period;
		}
	}
	for (size_t j = 0; j < n_newly; j++)
		if (!client_add_convicted(c, newly[j]))
			st.new_convictions++;
	if (!c->have_first) {
		c->have_first = true;
		c->first = u.period;
	}
	c->have_last = true;
	c->last = u.period;
	if (stats)
		*stats = st;
out:
	for (size_t i = 0; i < c->n_cas; i++)
		if (pc[i].crv)
			roaring_bitmap_free(pc[i].crv);
	free(pc);
	for (size_t j = 0; j < n_newly; j++)
		free(newly[j]);
	free(newly);
	if (rc)
		ctng_err_wrap(err, "update of period %llu from %s", (unsigned long long)u.period,
		              u.monitor);
	parsed_clear(&u);
	return rc;
}

int ctng_client_set_crv(ctng_client *c, const char *ca_id, uint64_t period, const uint8_t *crv,
                        size_t len, ctng_err *err)
{
	int i = c && ca_id ? client_ca_index(c, ca_id) : -1;
	if (i < 0)
		return ctng_err_set(err, CTNG_EINVAL, "CRV: %s is not a CA of the network",
		                    ca_id ? ca_id : "");
	client_ca *ca = &c->cas[i];
	if (!ca->have_period || ca->period != period)
		return ctng_err_set(err, CTNG_ESTATE,
		                    "CRV of %s: the last REV applied is not of period %llu", ca_id,
		                    (unsigned long long)period);
	roaring_bitmap_t *bm = NULL;
	uint8_t h[32];
	int rc = ctng_crv_delta_decode(crv, len, &bm, err);
	if (rc)
		return ctng_err_wrap(err, "CRV of %s", ca_id);
	if ((rc = ctng_crv_hash(bm, h, err))) {
		roaring_bitmap_free(bm);
		return rc;
	}
	if (memcmp(h, ca->hash, 32) != 0) {
		roaring_bitmap_free(bm);
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "CRV of %s for period %llu does not hash to the attested REV's",
		                    ca_id, (unsigned long long)period);
	}
	if (ca->known && roaring_bitmap_equals(bm, ca->crv)) {
		roaring_bitmap_free(bm);
		return 0;
	}
	if (!(rc = ctng_store_begin(c->store, err))) {
		rc = exec_bind(ctng_store_db(c->store),
		               "INSERT OR REPLACE INTO client_crv(ca, period, known, hash, bitmap) "
		               "VALUES(?,?,?,?,?)",
		               err, "tiibB", ca_id, period, (uint64_t)1, h, (const void *)crv, len);
		rc = rc ? rc : ctng_store_commit(c->store, err);
		if (rc)
			ctng_store_rollback(c->store, NULL);
	}
	if (rc) {
		roaring_bitmap_free(bm);
		return rc;
	}
	roaring_bitmap_free(ca->crv);
	ca->crv = bm;
	ca->known = true;
	return 0;
}
