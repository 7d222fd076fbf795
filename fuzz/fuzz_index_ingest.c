/*
 * fuzz_index_ingest.c — libFuzzer target for the monitor's index of log
 * entries (ctng_index_entry_hook, src/index/ingest.c, rid.c, outbox.c):
 * every entry of every mirrored log reaches it, and a log holds whatever a
 * logger chose to put there, so each certificate is outside input. A
 * network made once with ctng_init_network gives a CA with its key and
 * root; a real precertificate (RID 7, fuzz.example.com) is indexed and
 * committed at start, and a watch on example.com with subdomains is set,
 * so RID conflicts and notifications are reachable. Byte 0 mod 4: 0 = the
 * rest is the DER of an x509_entry; 1 = the rest is the TBS of a
 * precert_entry of that CA (with the real precertificate); 2 and 3 = the
 * same with the real final certificate or the real TBS XORed with the rest
 * from offset byte 1 * 4. Each entry is indexed in a transaction that is
 * rolled back, after a search and an events query. Invariants: no crash or
 * leak; the hook fails only when the database does (never here); searches
 * and events on whatever was indexed succeed.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/index.h"

static ctng_network net;
static ctng_store *st;
static ctng_index *ix;
static uint8_t *pre_der, *final_der, *tbs, ikh[32], root_fp[32];
static size_t pre_len, final_len, tbs_len;
static uint64_t next_index = 1;

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void setup(void)
{
	ctng_log_set_level(CTNG_LOG_OFF);
	char dir[] = "/tmp/ctng_fuzz_index_XXXXXX", p[256];
	check(mkdtemp(dir) != NULL);
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.loggers = o.cas = o.monitors = 1;
	o.threshold = 1;
	ctng_node_config ca;
	X509 *root = NULL, *pre = NULL, *fin = NULL;
	ctng_sig_key *subj = NULL;
	snprintf(p, sizeof p, "%s/network.json", dir);
	check(ctng_init_network(dir, &o, NULL) == 0 && ctng_network_load(p, &net, NULL) == 0);
	snprintf(p, sizeof p, "%s/ca1/config.json", dir);
	check(ctng_node_config_load(p, &ca, NULL) == 0);
	const char *pem = ca.self->root_cert_pem;
	check(ctng_cert_from_pem(pem, strlen(pem), &root, NULL) == 0);
	check(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, NULL) == 0);
	uint64_t now = ctng_now_ms() / 1000 * 1000;
	ctng_cert_template t = {.dns_name = "fuzz.example.com",
	                        .subject_key = ctng_sig_key_evp(subj),
	                        .serial = {42},
	                        .serial_len = 1,
	                        .not_before_ms = now - 60000,
	                        .not_after_ms = now + 86400000,
	                        .rid = 7};
	check(ctng_cert_make_precert(&t, root, ca.key, &pre, NULL) == 0);
	ctng_cert_proofs ps = {.rid = 7};
	uint8_t sig[8] = {4, 3, 0, 4, 1, 2, 3, 4};
	ctng_logger_proof lp = {
	    .logger_id = "logger1", .tree_size = 1, .sth_sig = sig, .sth_sig_len = sizeof sig};
	check(ctng_cert_proofs_add(&ps, &lp, NULL) == 0 &&
	      ctng_cert_make_final(pre, &ps, root, ca.key, &fin, NULL) == 0);
	ctng_cert_proofs_clear(&ps);
	ctng_ct_entry ce = {0};
	check(ctng_ct_entry_precert_x509(pre, root, &ce, NULL) == 0);
	tbs = malloc(ce.der_len);
	check(tbs != NULL);
	memcpy(tbs, ce.der, ce.der_len);
	tbs_len = ce.der_len;
	memcpy(ikh, ce.issuer_key_hash, 32);
	ctng_ct_entry_clear(&ce);
	uint8_t *rd = NULL;
	size_t rl = 0;
	unsigned fl = 0;
	check(ctng_cert_to_der(pre, &pre_der, &pre_len, NULL) == 0 &&
	      ctng_cert_to_der(fin, &final_der, &final_len, NULL) == 0 &&
	      ctng_cert_to_der(root, &rd, &rl, NULL) == 0);
	EVP_Digest(rd, rl, root_fp, &fl, EVP_sha256(), NULL);
	free(rd);
	X509_free(root);
	X509_free(pre);
	X509_free(fin);
	ctng_sig_key_free(subj);
	ctng_node_config_free(&ca);
	snprintf(p, sizeof p, "rm -rf '%s'", dir);
	check(system(p) == 0);

	const char *allow[] = {"127.0.0.1"};
	ctng_index_opts io = {.webhook_allow = allow, .n_webhook_allow = 1, .max_pending = 8};
	check((st = ctng_store_open(":memory:", NULL)) != NULL &&
	      ctng_index_open(st, &net, "monitor1", &io, &ix, NULL) == 0);
	json_t *w = json_pack("{s:s, s:b, s:s}", "domain", "example.com", "subdomains", 1,
	                      "webhook", "http://127.0.0.1:9/hook");
	ctng_watch watch;
	uint64_t id;
	bool existed;
	check(w && ctng_index_watch_parse(ix, w, &watch, NULL) == 0 &&
	      ctng_index_watch_add(ix, &watch, now, &id, &existed, NULL) == 0);
	json_decref(w);
	ctng_mirror_entry e = {.entry_type = CTNG_CT_PRECERT_ENTRY,
	                       .cert = tbs,
	                       .cert_len = tbs_len,
	                       .issuer_key_hash = ikh,
	                       .precert = pre_der,
	                       .precert_len = pre_len,
	                       .chain = root_fp,
	                       .chain_len = 1,
	                       .timestamp_ms = now};
	check(ctng_store_begin(st, NULL) == 0 &&
	      ctng_index_entry_hook(ix, st, "logger1", 0, &e, NULL) == 0 &&
	      ctng_store_commit(st, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ix)
		setup();
	if (size < 2)
		return 0;
	unsigned mode = data[0] % 4;
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	uint8_t *buf = NULL;
	if (mode >= 2) {
		const uint8_t *base = mode == 2 ? final_der : tbs;
		size_t bl = mode == 2 ? final_len : tbs_len, off = (size_t)in[0] * 4;
		buf = malloc(bl);
		check(buf != NULL);
		memcpy(buf, base, bl);
		for (size_t i = 1; i < n && off + i - 1 < bl; i++)
			buf[off + i - 1] ^= in[i];
		in = buf;
		n = bl;
	}
	bool precert = mode % 2 == 1;
	ctng_mirror_entry e = {.entry_type = precert ? CTNG_CT_PRECERT_ENTRY : CTNG_CT_X509_ENTRY,
	                       .cert = in,
	                       .cert_len = n,
	                       .issuer_key_hash = precert ? ikh : NULL,
	                       .precert = precert ? pre_der : NULL,
	                       .precert_len = precert ? pre_len : 0,
	                       .chain = root_fp,
	                       .chain_len = 1,
	                       .timestamp_ms = ctng_now_ms()};
	ctng_err err = {0};
	check(ctng_store_begin(st, NULL) == 0);
	int rc = ctng_index_entry_hook(ix, st, "logger1", next_index++, &e, &err);
	check(rc == 0);
	ctng_index_query q;
	json_t *res = NULL;
	uint64_t next = 0;
	char cursor[CTNG_INDEX_CURSOR_MAX];
	check(ctng_index_query_parse("example.com", "1", NULL, NULL, &q, NULL) == 0);
	check(ctng_index_search(ix, &q, &res, &next, NULL) == 0);
	json_decref(res);
	res = NULL;
	check(ctng_index_events(ix, &q, "0.0", &res, cursor, NULL) == 0);
	json_decref(res);
	ctng_store_rollback(st, NULL);
	free(buf);
	return 0;
}
