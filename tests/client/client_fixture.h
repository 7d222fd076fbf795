/*
 * client_fixture.h — a synthetic but fully real CTng network for the client
 * tests, benchmark and fuzz target: a network made with ctng_init_network
 * (real keys, CA roots, dealt BLS shares), in-memory logger trees, real
 * certificates from the cert module's builders, and client updates whose
 * FULLs are threshold signatures combined from the gossipers' real shares.
 * No cmocka dependency: functions return 0 / a CTNG_E* code.
 */
#ifndef CTNG_CLIENT_FIXTURE_H
#define CTNG_CLIENT_FIXTURE_H

#include <openssl/x509.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/bls.h"
#include "ctng/cert.h"
#include "ctng/client.h"
#include "ctng/config.h"
#include "ctng/merkle.h"
#include "ctng/proto.h"

#define CFX     static __attribute__((unused))
#define CFX_MAX 8

typedef struct cfx {
	char dir[256];
	char *net_json;
	size_t net_len;
	ctng_network net;
	size_t n_loggers, n_cas, n_gossipers;
	char logger_id[CFX_MAX][CTNG_ID_MAX + 1];
	char ca_id[CFX_MAX][CTNG_ID_MAX + 1];
	char gossiper_id[CFX_MAX][CTNG_ID_MAX + 1];
	char monitor_id[CTNG_ID_MAX + 1];
	ctng_sig_key *logger_key[CFX_MAX], *ca_key[CFX_MAX], *monitor_key;
	X509 *ca_root[CFX_MAX];
	uint32_t bls_id[CFX_MAX];
	uint8_t bls_sk[CFX_MAX][32];
	ctng_merkle_mem *tree[CFX_MAX];
	/* the STH closed for the current period, per logger */
	bool have_sth[CFX_MAX];
	ctng_gossip_object sth[CFX_MAX];
	ctng_sth head[CFX_MAX];
	roaring_bitmap_t *crv[CFX_MAX];     /* the CA's full CRV */
	roaring_bitmap_t *pending[CFX_MAX]; /* revoked since the last REV */
	ctng_sig_key *subject_key;
} cfx;

/* A precertificate waiting for its period's STHs. */
typedef struct cfx_pend {
	X509 *precert;
	size_t ca;
	uint32_t rid;
	size_t n_log;
	size_t logger[CFX_MAX];
	uint64_t leaf_index[CFX_MAX];
	uint64_t leaf_ts;
} cfx_pend;

CFX int cfx_load_key(cfx *f, const char *id, ctng_sig_key **key, uint8_t *bls_sk, ctng_err *err)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/config.json", f->dir, id);
	ctng_node_config cfg = {0};
	int rc = ctng_node_config_load(path, &cfg, err);
	if (rc)
		return rc;
	if (key) {
		/* a private copy that outlives cfg */
		char *pem = NULL;
		size_t len = 0;
		rc = ctng_sig_private_pem(cfg.key, &pem, &len, err);
		rc = rc ? rc : ctng_sig_load_private_pem(pem, len, key, err);
		free(pem);
	}
	if (bls_sk)
		memcpy(bls_sk, cfg.bls_sk, 32);
	ctng_node_config_free(&cfg);
	return rc;
}

/* Makes the network in a fresh temp dir: period_ms periods starting a day
 * ago (so synthetic periods never depend on the wall clock). */
CFX int cfx_setup_clock(cfx *f, uint32_t loggers, uint32_t cas, uint32_t monitors, uint32_t t,
                        uint64_t genesis_ms, uint64_t period_ms, ctng_err *err)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/ctng-cfx-XXXXXX");
	if (!mkdtemp(f->dir))
		return ctng_err_set(err, CTNG_EIO, "mkdtemp");
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.genesis_ms = genesis_ms;
	o.period_ms = period_ms;
	o.loggers = loggers;
	o.cas = cas;
	o.monitors = monitors;
	o.threshold = t;
	o.port_base = 40000;
	int rc = ctng_init_network(f->dir, &o, err);
	char path[512];
	snprintf(path, sizeof(path), "%s/network.json", f->dir);
	uint8_t *txt = NULL;
	rc = rc ? rc : ctng_read_file(path, CTNG_CONFIG_FILE_MAX, &txt, &f->net_len, err);
	f->net_json = (char *)txt;
	rc = rc ? rc : ctng_network_parse(f->net_json, f->net_len, &f->net, err);
	if (rc)
		return rc;
	f->n_loggers = ctng_network_count(&f->net, CTNG_ROLE_LOGGER);
	f->n_cas = ctng_network_count(&f->net, CTNG_ROLE_CA);
	f->n_gossipers = ctng_network_count(&f->net, CTNG_ROLE_GOSSIPER);
	for (size_t i = 0; i < f->n_loggers && !rc; i++) {
		strcpy(f->logger_id[i], ctng_network_nth(&f->net, CTNG_ROLE_LOGGER, i)->id);
		rc = cfx_load_key(f, f->logger_id[i], &f->logger_key[i], NULL, err);
		rc = rc ? rc : ctng_merkle_mem_new(&f->tree[i]);
		/* a few unrelated leaves first */
		for (int k = 0; k < 5 && !rc; k++) {
			uint8_t junk[3] = {(uint8_t)i, (uint8_t)k, 7};
			rc = ctng_merkle_mem_append_data(f->tree[i], junk, 3, NULL, err);
		}
	}
	for (size_t i = 0; i < f->n_cas && !rc; i++) {
		const ctng_entity *e = ctng_network_nth(&f->net, CTNG_ROLE_CA, i);
		strcpy(f->ca_id[i], e->id);
		rc = cfx_load_key(f, e->id, &f->ca_key[i], NULL, err);
		rc = rc ? rc
		        : ctng_cert_from_pem(e->root_cert_pem, strlen(e->root_cert_pem),
		                             &f->ca_root[i], err);
		f->crv[i] = roaring_bitmap_create();
		f->pending[i] = roaring_bitmap_create();
	}
	for (size_t i = 0; i < f->n_gossipers && !rc; i++) {
		const ctng_entity *e = ctng_network_nth(&f->net, CTNG_ROLE_GOSSIPER, i);
		strcpy(f->gossiper_id[i], e->id);
		f->bls_id[i] = e->bls_id;
		rc = cfx_load_key(f, e->id, NULL, f->bls_sk[i], err);
	}
	if (!rc) {
		strcpy(f->monitor_id, ctng_network_nth(&f->net, CTNG_ROLE_MONITOR, 0)->id);
		rc = cfx_load_key(f, f->monitor_id, &f->monitor_key, NULL, err);
	}
	rc = rc ? rc : ctng_sig_generate(CTNG_SIG_ECDSA_P256, &f->subject_key, err);
	return rc;
}

CFX int cfx_setup(cfx *f, uint32_t loggers, uint32_t cas, uint32_t monitors, uint32_t t,
                  ctng_err *err)
{
	return cfx_setup_clock(f, loggers, cas, monitors, t, (ctng_now_ms() / 1000 - 86400) * 1000,
	                       1000, err);
}

CFX void cfx_free(cfx *f)
{
	for (size_t i = 0; i < CFX_MAX; i++) {
		ctng_sig_key_free(f->logger_key[i]);
		ctng_sig_key_free(f->ca_key[i]);
		X509_free(f->ca_root[i]);
		ctng_merkle_mem_free(f->tree[i]);
		ctng_gossip_clear(&f->sth[i]);
		if (f->crv[i])
			roaring_bitmap_free(f->crv[i]);
		if (f->pending[i])
			roaring_bitmap_free(f->pending[i]);
	}
	ctng_sig_key_free(f->monitor_key);
	ctng_sig_key_free(f->subject_key);
	ctng_network_free(&f->net);
	free(f->net_json);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (strncmp(f->dir, "/tmp/ctng-cfx-", 14) == 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	memset(f, 0, sizeof(*f));
}

CFX uint64_t cfx_ts(const cfx *f, uint64_t period, uint64_t off)
{
	return f->net.clock.genesis_ms + period * f->net.clock.period_ms + off;
}

/* A precertificate from CA `ca` for `dns`, logged (leaf appended) at the
 * loggers in logger[0..n_log). */
CFX int cfx_precert(cfx *f, size_t ca, const char *dns, uint32_t rid, const size_t *logger,
                    size_t n_log, uint64_t period, cfx_pend *out, ctng_err *err)
{
	memset(out, 0, sizeof(*out));
	uint64_t now = ctng_now_ms();
	ctng_cert_template t = {.dns_name = dns,
	                        .subject_key = ctng_sig_key_evp(f->subject_key),
	                        .serial = {0x10, (uint8_t)(rid >> 24), (uint8_t)(rid >> 16),
	                                   (uint8_t)(rid >> 8), (uint8_t)rid},
	                        .serial_len = 5,
	                        .not_before_ms = now - 3600000,
	                        .not_after_ms = now + 86400000ull * 90,
	                        .rid = rid};
	int rc = ctng_cert_make_precert(&t, f->ca_root[ca], f->ca_key[ca], &out->precert, err);
	if (rc)
		return rc;
	out->ca = ca;
	out->rid = rid;
	out->leaf_ts = cfx_ts(f, period, 1);
	ctng_ct_entry e = {0};
	if ((rc = ctng_ct_entry_precert_x509(out->precert, f->ca_root[ca], &e, err)))
		return rc;
	for (size_t i = 0; i < n_log && !rc; i++) {
		uint8_t h[32];
		out->logger[i] = logger[i];
		out->leaf_index[i] = ctng_merkle_mem_size(f->tree[logger[i]]);
		rc = ctng_ct_leaf_hash(&e, out->leaf_ts, NULL, 0, h, err);
		rc = rc ? rc
		        : ctng_merkle_mem_append(f->tree[logger[i]], (const uint8_t(*)[32])h, 1,
		                                 err);
	}
	out->n_log = n_log;
	ctng_ct_entry_clear(&e);
	return rc;
}

CFX void cfx_pend_free(cfx_pend *p)
{
	X509_free(p->precert);
	memset(p, 0, sizeof(*p));
}

/* Logger i signs its STH of `period` over its current tree. */
CFX int cfx_close_sth(cfx *f, size_t i, uint64_t period, ctng_err *err)
{
	ctng_sth *h = &f->head[i];
	h->timestamp_ms = cfx_ts(f, period, 5);
	h->tree_size = ctng_merkle_mem_size(f->tree[i]);
	int rc = ctng_merkle_mem_root(f->tree[i], h->tree_size, h->root, err);
	rc = rc ? rc
	        : ctng_sth_sign(&f->sth[i], f->logger_id[i], f->logger_key[i], h, &f->net.clock,
	                        err);
	f->have_sth[i] = rc == 0;
	return rc;
}

CFX int cfx_close_period(cfx *f, uint64_t period, ctng_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < f->n_loggers && !rc; i++)
		rc = cfx_close_sth(f, i, period, err);
	return rc;
}

/* The final certificate of a pending precert, with one proof per logger
 * against the STHs closed by cfx_close_period. */
CFX int cfx_finalize(cfx *f, const cfx_pend *p, X509 **out, ctng_err *err)
{
	ctng_cert_proofs ps = {.rid = p->rid};
	int rc = 0;
	for (size_t k = 0; k < p->n_log && !rc; k++) {
		size_t i = p->logger[k];
		ctng_logger_proof lp = {0};
		uint8_t proof[CTNG_MERKLE_MAX_PROOF][32];
		snprintf(lp.logger_id, sizeof(lp.logger_id), "%s", f->logger_id[i]);
		lp.period = f->sth[i].period;
		lp.tree_size = f->head[i].tree_size;
		lp.sth_timestamp_ms = f->head[i].timestamp_ms;
		memcpy(lp.root, f->head[i].root, 32);
		rc = ctng_b64_decode_alloc(f->sth[i].signature[0], strlen(f->sth[i].signature[0]),
		                           &lp.sth_sig, &lp.sth_sig_len, err);
		lp.leaf_timestamp_ms = p->leaf_ts;
		lp.leaf_index = p->leaf_index[k];
		rc = rc ? rc
		        : ctng_merkle_mem_inclusion(f->tree[i], lp.leaf_index, lp.tree_size, proof,
		                                    &lp.path_len, err);
		if (!rc && lp.path_len) {
			lp.audit_path = malloc(lp.path_len * 32);
			memcpy(lp.audit_path, proof, lp.path_len * 32);
		}
		rc = rc ? rc : ctng_cert_proofs_add(&ps, &lp, err);
		ctng_logger_proof_clear(&lp);
	}
	rc = rc ? rc
	        : ctng_cert_make_final(p->precert, &ps, f->ca_root[p->ca], f->ca_key[p->ca], out,
	                               err);
	ctng_cert_proofs_clear(&ps);
	return rc;
}

/* ------------------------------------------------------------ updates */

typedef struct cfx_objs {
	ctng_gossip_object v[64];
	size_t n;
} cfx_objs;

CFX void cfx_objs_clear(cfx_objs *o)
{
	for (size_t i = 0; i < o->n; i++)
		ctng_gossip_clear(&o->v[i]);
	o->n = 0;
}

/* FULL attesting init, signed by the first t gossipers (skip gossiper `skip`
 * when < n). */
CFX int cfx_full(cfx *f, const ctng_gossip_object *init, ctng_gossip_object *out, ctng_err *err)
{
	ctng_buf msg = {0};
	uint32_t t = f->net.threshold;
	uint8_t partials[CFX_MAX][48], sig[48];
	uint32_t ids[CFX_MAX];
	const char *signers[CFX_MAX];
	int rc = ctng_gossip_attest_bytes(init, &msg, err);
	for (uint32_t k = 0; k < t && !rc; k++) {
		ids[k] = f->bls_id[k];
		signers[k] = f->gossiper_id[k];
		rc = ctng_bls_sign(partials[k], f->bls_sk[k], msg.data, msg.len, CTNG_BLS_DST_POP,
		                   err);
	}
	rc = rc ? rc : ctng_bls_combine(sig, ids, (const uint8_t(*)[48])partials, t, t, err);
	ctng_gossip_object frag = {0};
	rc = rc ? rc
	        : ctng_frag_build(&frag, init, signers[0], partials[0], init->timestamp_ms, err);
	rc = rc ? rc : ctng_full_build(out, &frag, signers, t, sig, init->timestamp_ms, err);
	ctng_gossip_clear(&frag);
	ctng_buf_free(&msg);
	return rc;
}

CFX int cfx_push(cfx *f, cfx_objs *o, const ctng_gossip_object *init, bool with_init, ctng_err *err)
{
	if (o->n + 2 > 64)
		return ctng_err_set(err, CTNG_ERANGE, "fixture: too many objects");
	int rc = cfx_full(f, init, &o->v[o->n], err);
	if (rc)
		return rc;
	o->n++;
	if (with_init) {
		rc = ctng_gossip_copy(&o->v[o->n], init, err);
		o->n += rc == 0;
	}
	return rc;
}

CFX int cfx_revoke(cfx *f, size_t ca, uint32_t rid)
{
	roaring_bitmap_add(f->pending[ca], rid);
	return 0;
}

/* REV(period) of CA i over its pending revocations; commits them to crv. */
CFX int cfx_rev(cfx *f, size_t i, uint64_t period, ctng_gossip_object *out, ctng_err *err)
{
	roaring_bitmap_or_inplace(f->crv[i], f->pending[i]);
	uint8_t h[32], *delta = NULL;
	size_t dlen = 0;
	int rc = ctng_crv_hash(f->crv[i], h, err);
	rc = rc ? rc : ctng_crv_delta_encode(f->pending[i], &delta, &dlen, err);
	rc = rc ? rc
	        : ctng_rev_sign(out, f->ca_id[i], f->ca_key[i], period, h, delta, dlen,
	                        cfx_ts(f, period, 7), err);
	free(delta);
	roaring_bitmap_clear(f->pending[i]);
	return rc;
}

/* Options of one synthetic update. */
typedef struct cfx_upd_opts {
	uint32_t no_sth_mask;     /* loggers without STH_FULL this period */
	uint32_t sth_alone_mask;  /* STH_FULL without its STH            */
	uint32_t no_rev_mask;     /* CAs without REV_FULL                */
	uint32_t acc_logger_mask; /* ACC_FULL against these loggers      */
	uint32_t con_logger_mask; /* CON_FULL(+CON) against these loggers */
	uint32_t con_ca_mask;     /* CON_FULL(+CON) against these CAs    */
} cfx_upd_opts;

/* A CON against logger i (two different STHs of `period`). */
CFX int cfx_con_logger(cfx *f, size_t i, uint64_t period, ctng_gossip_object *out, ctng_err *err)
{
	ctng_sth a = {.timestamp_ms = cfx_ts(f, period, 11), .tree_size = 1};
	ctng_sth b = a;
	memset(a.root, 0x11, 32);
	memset(b.root, 0x22, 32);
	ctng_gossip_object oa = {0}, ob = {0};
	int rc = ctng_sth_sign(&oa, f->logger_id[i], f->logger_key[i], &a, &f->net.clock, err);
	rc =
	    rc ? rc : ctng_sth_sign(&ob, f->logger_id[i], f->logger_key[i], &b, &f->net.clock, err);
	rc = rc ? rc : ctng_con_build(out, &oa, &ob, cfx_ts(f, period, 12), err);
	ctng_gossip_clear(&oa);
	ctng_gossip_clear(&ob);
	return rc;
}

CFX int cfx_con_ca(cfx *f, size_t i, uint64_t period, ctng_gossip_object *out, ctng_err *err)
{
	uint8_t h1[32], h2[32];
	memset(h1, 1, 32);
	memset(h2, 2, 32);
	ctng_gossip_object oa = {0}, ob = {0};
	roaring_bitmap_t *empty = roaring_bitmap_create();
	uint8_t *d = NULL;
	size_t dl = 0;
	int rc = ctng_crv_delta_encode(empty, &d, &dl, err);
	roaring_bitmap_free(empty);
	rc = rc ? rc
	        : ctng_rev_sign(&oa, f->ca_id[i], f->ca_key[i], period, h1, d, dl,
	                        cfx_ts(f, period, 3), err);
	rc = rc ? rc
	        : ctng_rev_sign(&ob, f->ca_id[i], f->ca_key[i], period, h2, d, dl,
	                        cfx_ts(f, period, 3), err);
	free(d);
	rc = rc ? rc : ctng_con_build(out, &oa, &ob, cfx_ts(f, period, 12), err);
	ctng_gossip_clear(&oa);
	ctng_gossip_clear(&ob);
	return rc;
}

/* Builds the objects of the update of `period` in canonical order (ids of
 * the fixture sort like their indices: fewer than 10 of each role). Loggers
 * need a closed STH (cfx_close_period) unless masked out. */
CFX int cfx_update_objs(cfx *f, uint64_t period, const cfx_upd_opts *uo, cfx_objs *o, ctng_err *err)
{
	cfx_upd_opts none = {0};
	if (!uo)
		uo = &none;
	int rc = 0;
	o->n = 0;
	for (size_t i = 0; i < f->n_loggers && !rc; i++) {
		if (uo->no_sth_mask >> i & 1)
			continue;
		if (!f->have_sth[i] || f->sth[i].period != period)
			return ctng_err_set(err, CTNG_ESTATE,
			                    "fixture: no STH of %s for period %llu",
			                    f->logger_id[i], (unsigned long long)period);
		rc = cfx_push(f, o, &f->sth[i], !(uo->sth_alone_mask >> i & 1), err);
	}
	for (size_t i = 0; i < f->n_cas && !rc; i++) {
		if (uo->no_rev_mask >> i & 1)
			continue;
		ctng_gossip_object rev = {0};
		rc = cfx_rev(f, i, period, &rev, err);
		rc = rc ? rc : cfx_push(f, o, &rev, true, err);
		ctng_gossip_clear(&rev);
	}
	/* ACC_FULL: loggers then CAs sort by id ("ca" < "logger"): only loggers here */
	for (size_t i = 0; i < f->n_loggers && !rc; i++) {
		if (!(uo->acc_logger_mask >> i & 1))
			continue;
		ctng_gossip_object acc = {0};
		rc = ctng_acc_sign(&acc, f->monitor_id, f->monitor_key, f->logger_id[i], period,
		                   cfx_ts(f, period, 9), err);
		if (!rc) {
			rc = cfx_full(f, &acc, &o->v[o->n], err);
			o->n += rc == 0;
		}
		ctng_gossip_clear(&acc);
	}
	for (size_t i = 0; i < f->n_cas && !rc; i++) {
		if (!(uo->con_ca_mask >> i & 1))
			continue;
		ctng_gossip_object con = {0};
		rc = cfx_con_ca(f, i, period, &con, err);
		rc = rc ? rc : cfx_push(f, o, &con, true, err);
		ctng_gossip_clear(&con);
	}
	for (size_t i = 0; i < f->n_loggers && !rc; i++) {
		if (!(uo->con_logger_mask >> i & 1))
			continue;
		ctng_gossip_object con = {0};
		rc = cfx_con_logger(f, i, period, &con, err);
		rc = rc ? rc : cfx_push(f, o, &con, true, err);
		ctng_gossip_clear(&con);
	}
	return rc;
}

/* Encodes an update text (malloc'd) from objects, as a monitor would. */
CFX int cfx_encode(const cfx *f, uint64_t period, const cfx_objs *o, char **out, size_t *len,
                   ctng_err *err)
{
	ctng_buf b = {0};
	int rc = ctng_buf_printf(&b, "{\"period\":\"%llu\",\"monitor\":\"%s\",\"objects\":[",
	                         (unsigned long long)period, f->monitor_id);
	for (size_t i = 0; i < o->n && !rc; i++) {
		char *js = NULL;
		size_t jl = 0;
		rc = ctng_gossip_encode(&o->v[i], &js, &jl, err);
		if (!rc && i)
			rc = ctng_buf_append(&b, ",", 1);
		rc = rc ? rc : ctng_buf_append(&b, js, jl);
		free(js);
	}
	rc = rc ? rc : ctng_buf_append(&b, "]}", 2);
	if (rc) {
		ctng_buf_free(&b);
		return rc;
	}
	*out = (char *)ctng_buf_detach(&b, len);
	return 0;
}

/* Builds and encodes the update of `period`. */
CFX int cfx_update(cfx *f, uint64_t period, const cfx_upd_opts *uo, char **out, size_t *len,
                   ctng_err *err)
{
	cfx_objs *o = calloc(1, sizeof(*o));
	if (!o)
		return CTNG_ENOMEM;
	int rc = cfx_update_objs(f, period, uo, o, err);
	rc = rc ? rc : cfx_encode(f, period, o, out, len, err);
	cfx_objs_clear(o);
	free(o);
	return rc;
}

/* Applies the update of `period` to c. */
CFX int cfx_apply(cfx *f, ctng_client *c, uint64_t period, ctng_err *err)
{
	char *txt = NULL;
	size_t len = 0;
	int rc = cfx_update(f, period, NULL, &txt, &len, err);
	rc = rc ? rc : ctng_client_apply_update(c, txt, len, NULL, err);
	free(txt);
	return rc;
}

/* A client state at `state`, synced through period 3 of f's network, and
 * two certificates for dns from CA 0 logged by logger 0 in period 2:
 * good_pem (RID 1, valid) and revoked_pem (RID 2, revoked in period 3).
 * *good (may be NULL) receives the valid certificate (X509_free). */
CFX int cfx_client_with_certs(cfx *f, const char *dns, const char *state, const char *good_pem,
                              const char *revoked_pem, X509 **good, ctng_err *err)
{
	size_t lg[] = {0};
	cfx_pend p1 = {0}, p2 = {0};
	X509 *x1 = NULL, *x2 = NULL;
	ctng_client *c = NULL;
	int rc = 0;
	(void)((rc = cfx_precert(f, 0, dns, 1, lg, 1, 2, &p1, err)) ||
	       (rc = cfx_precert(f, 0, dns, 2, lg, 1, 2, &p2, err)) ||
	       (rc = cfx_close_period(f, 2, err)) || (rc = cfx_finalize(f, &p1, &x1, err)) ||
	       (rc = cfx_finalize(f, &p2, &x2, err)) ||
	       (rc = ctng_cert_save_file(x1, good_pem, 0644, err)) ||
	       (rc = ctng_cert_save_file(x2, revoked_pem, 0644, err)) ||
	       (rc = ctng_client_open(state, f->net_json, f->net_len, &c, err)) ||
	       (rc = cfx_apply(f, c, 2, err)) || (rc = cfx_revoke(f, 0, 2)) ||
	       (rc = cfx_close_period(f, 3, err)) || (rc = cfx_apply(f, c, 3, err)));
	ctng_client_close(c);
	cfx_pend_free(&p1);
	cfx_pend_free(&p2);
	X509_free(x2);
	if (good && !rc)
		*good = x1;
	else
		X509_free(x1);
	return rc;
}

#endif
