/* test_index.c — the certificate index (include/ctng/index.h) on a real
 * SQLite store and a real network (ctng_init_network: CA keys and roots),
 * fed real precertificates and final certificates as the mirror's entry
 * hook would be: name normalisation and matching, query parsing, the
 * webhook policy, search semantics (exact, wildcard, subdomains; one result
 * per certificate however many logs and forms it has), pagination, RID
 * conflicts, watches with their outbox (issued and revoked), events, and
 * that all of it survives closing and reopening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <roaring/roaring.h>

#include "ctng/cert.h"
#include "ctng/config.h"
#include "ctng/index.h"
#include "testutil.h"

static ctng_err err;

#define OK(x)                                                                                      \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

typedef struct fx {
	char dir[32];
	ctng_network net;
	ctng_node_config ca[2];
	X509 *root[2];
	ctng_sig_key *subj;
	ctng_store *st;
	ctng_index *ix;
	uint64_t next_idx[2];
} fx;

static fx F;

static void open_index(fx *f)
{
	char p[256];
	snprintf(p, sizeof p, "%.31s/monitor.db", f->dir);
	assert_non_null(f->st = ctng_store_open(p, &err));
	const char *allow[] = {"127.0.0.1"};
	ctng_index_opts o = {.webhook_allow = allow, .n_webhook_allow = 1, .max_pending = 3};
	OK(ctng_index_open(f->st, &f->net, "monitor1", &o, &f->ix, &err));
}

static void close_index(fx *f)
{
	ctng_index_close(f->ix);
	ctng_store_close(f->st);
	f->ix = NULL;
	f->st = NULL;
}

static int setup(void **st)
{
	(void)st;
	fx *f = &F;
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof f->dir, "/tmp/ctng-index-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	ctng_init_opts o;
	ctng_init_opts_default(&o);
	o.loggers = 2;
	o.cas = 2;
	o.monitors = 2;
	o.port_base = 23000;
	OK(ctng_init_network(f->dir, &o, &err));
	char p[256];
	snprintf(p, sizeof p, "%.31s/network.json", f->dir);
	OK(ctng_network_load(p, &f->net, &err));
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%.31s/ca%d/config.json", f->dir, i + 1);
		OK(ctng_node_config_load(p, &f->ca[i], &err));
		const char *pem = f->ca[i].self->root_cert_pem;
		OK(ctng_cert_from_pem(pem, strlen(pem), &f->root[i], &err));
	}
	OK(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &f->subj, &err));
	open_index(f);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	fx *f = &F;
	close_index(f);
	for (int i = 0; i < 2; i++) {
		ctng_node_config_free(&f->ca[i]);
		X509_free(f->root[i]);
	}
	ctng_sig_key_free(f->subj);
	ctng_network_free(&f->net);
	ctng_test_rm_rf(f->dir);
	return 0;
}

/* A precertificate of CA ca (0/1) for dns with RID rid and more SAN
 * names? The builder makes one SAN name; names other than the CN come
 * from other certificates. */
static X509 *precert_plain(int ca, const char *dns, uint32_t rid);

/* The CA's builder refuses wildcards (it issues none), but a log may hold
 * any certificate: a wildcard one is made by editing the SAN and CN of a
 * precertificate and re-signing it with the CA key (before the poison's
 * position changes: the SAN is replaced in place). */
static X509 *precert(int ca, const char *dns, uint32_t rid)
{
	if (dns[0] != '*')
		return precert_plain(ca, dns, rid);
	X509 *x = precert_plain(ca, "placeholder.example", rid);
	int loc = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
	assert_true(loc >= 0);
	char v[300];
	snprintf(v, sizeof v, "DNS:%s", dns);
	X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, v);
	assert_non_null(san);
	X509_EXTENSION_free(X509_delete_ext(x, loc));
	assert_int_equal(X509_add_ext(x, san, loc), 1);
	X509_EXTENSION_free(san);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *)dns,
	                           -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	assert_true(X509_sign(x, ctng_sig_key_evp(F.ca[ca].key), EVP_sha256()) > 0);
	return x;
}

static X509 *precert_plain(int ca, const char *dns, uint32_t rid)
{
	static uint8_t serial = 1;
	uint64_t now = ctng_now_ms() / 1000 * 1000;
	ctng_cert_template t = {.dns_name = dns,
	                        .subject_key = ctng_sig_key_evp(F.subj),
	                        .serial = {serial++},
	                        .serial_len = 1,
	                        .not_before_ms = now - 60000,
	                        .not_after_ms = now + 86400000,
	                        .rid = rid};
	X509 *x = NULL;
	OK(ctng_cert_make_precert(&t, F.root[ca], F.ca[ca].key, &x, &err));
	return x;
}

static X509 *final_of(int ca, X509 *pre, uint32_t rid)
{
	ctng_cert_proofs ps = {.rid = rid};
	uint8_t sig[8] = {4, 3, 0, 4, 1, 2, 3, 4};
	ctng_logger_proof p = {.logger_id = "logger1", .tree_size = 1, .sth_sig = sig,
	                       .sth_sig_len = sizeof sig};
	OK(ctng_cert_proofs_add(&ps, &p, &err));
	X509 *x = NULL;
	OK(ctng_cert_make_final(pre, &ps, F.root[ca], F.ca[ca].key, &x, &err));
	ctng_cert_proofs_clear(&ps);
	return x;
}

/* Feeds x (a precertificate as a precert entry, else an x509 entry) to the
 * hook as entry `next` of logger lg, in one transaction. */
static void feed(int lg, int ca, X509 *x)
{
	const char *logger = lg == 0 ? "logger1" : "logger2";
	uint8_t *der = NULL, fp[32];
	size_t len = 0;
	OK(ctng_cert_to_der(x, &der, &len, &err));
	ctng_mirror_entry e = {0};
	ctng_ct_entry ce = {0};
	uint8_t *rootder = NULL;
	size_t rl = 0;
	OK(ctng_cert_to_der(F.root[ca], &rootder, &rl, &err));
	unsigned int fl = 0;
	EVP_Digest(rootder, rl, fp, &fl, EVP_sha256(), NULL);
	free(rootder);
	if (ctng_cert_is_precert(x)) {
		OK(ctng_ct_entry_precert_x509(x, F.root[ca], &ce, &err));
		e.entry_type = CTNG_CT_PRECERT_ENTRY;
		e.cert = ce.der;
		e.cert_len = ce.der_len;
		e.issuer_key_hash = ce.issuer_key_hash;
		e.precert = der;
		e.precert_len = len;
	} else {
		e.entry_type = CTNG_CT_X509_ENTRY;
		e.cert = der;
		e.cert_len = len;
	}
	e.chain = fp;
	e.chain_len = 1;
	OK(ctng_store_begin(F.st, &err));
	OK(ctng_index_entry_hook(F.ix, F.st, logger, F.next_idx[lg]++, &e, &err));
	OK(ctng_store_commit(F.st, &err));
	ctng_ct_entry_clear(&ce);
	free(der);
}

/* Searches and returns the names[0] of every result, comma separated. */
static char *search(const char *domain, const char *sub, uint64_t *next, json_t **res_out)
{
	ctng_index_query q;
	OK(ctng_index_query_parse(domain, sub, NULL, NULL, &q, &err));
	json_t *res = NULL;
	uint64_t nx = 0;
	OK(ctng_index_search(F.ix, &q, &res, &nx, &err));
	static char buf[1024];
	buf[0] = 0;
	size_t i;
	json_t *c;
	json_array_foreach(res, i, c)
	{
		if (i)
			strcat(buf, ",");
		strcat(buf, json_string_value(json_array_get(json_object_get(c, "names"), 0)));
	}
	if (next)
		*next = nx;
	if (res_out)
		*res_out = res;
	else
		json_decref(res);
	return buf;
}

static void test_names_and_queries(void **st)
{
	(void)st;
	char out[CTNG_DNS_NAME_MAX + 1];
	static const struct {
		const char *in, *want;
	} good[] = {{"WWW.Example.COM", "www.example.com"},
	            {"example.com.", "example.com"},
	            {"*.Example.com", "*.example.com"},
	            {"_dmarc.example.com", "_dmarc.example.com"},
	            {"xn--bcher-kva.example", "xn--bcher-kva.example"}};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		OK(ctng_index_name_normalize((const uint8_t *)good[i].in, strlen(good[i].in), out,
		                             &err));
		assert_string_equal(out, good[i].want);
	}
	static const char *const bad[] = {"com",        "*.com",        "a..b",     "-a.com",
	                                  "a-.com",     "a.*.com",      "1.2.3.4",  "a b.com",
	                                  "*example.com", "\xc3\xa9.com", ".a.com",  "", "*.",
	                                  "a.com..",    "**.a.com"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ctng_index_name_normalize((const uint8_t *)bad[i], strlen(bad[i]),
		                                           out, NULL),
		                 CTNG_EINVAL);
	/* matching: a certificate's name against a (domain, subdomains) */
	static const struct {
		const char *name, *domain;
		bool sub, want;
	} m[] = {{"example.com", "example.com", false, true},
	         {"www.example.com", "example.com", false, false},
	         {"www.example.com", "example.com", true, true},
	         {"*.example.com", "www.example.com", false, true},
	         {"*.example.com", "a.www.example.com", false, false},
	         {"*.example.com", "a.www.example.com", true, false},
	         {"*.example.com", "example.com", false, false},
	         {"*.example.com", "example.com", true, true},
	         {"*.example.com", "*.example.com", false, true},
	         {"www.example.com", "*.example.com", false, false},
	         {"wwwexample.com", "example.com", true, false},
	         {"a.b.example.com", "b.example.com", true, true}};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (ctng_index_name_matches(m[i].name, m[i].domain, m[i].sub) != m[i].want)
			fail_msg("%s vs %s sub=%d", m[i].name, m[i].domain, m[i].sub);
	/* queries */
	ctng_index_query q;
	OK(ctng_index_query_parse("Example.COM", "1", "42", "7", &q, &err));
	assert_string_equal(q.domain, "example.com");
	assert_true(q.subdomains);
	assert_int_equal(q.after, 42);
	assert_int_equal(q.limit, 7);
	OK(ctng_index_query_parse("example.com", NULL, NULL, NULL, &q, &err));
	assert_int_equal(q.limit, CTNG_INDEX_PAGE_DEFAULT);
	static const char *const bq[][4] = {
	    {NULL, NULL, NULL, NULL},        {"", NULL, NULL, NULL},
	    {"com", NULL, NULL, NULL},       {"a b", NULL, NULL, NULL},
	    {"x.com", "2", NULL, NULL},      {"x.com", NULL, "-1", NULL},
	    {"x.com", NULL, "1x", NULL},     {"x.com", NULL, "99999999999999999999", NULL},
	    {"x.com", NULL, NULL, "0"},      {"x.com", NULL, NULL, "1001"},
	    {"*.x.com", "1", NULL, NULL}};
	for (size_t i = 0; i < sizeof bq / sizeof bq[0]; i++)
		assert_int_equal(ctng_index_query_parse(bq[i][0], bq[i][1], bq[i][2], bq[i][3], &q,
		                                        NULL),
		                 CTNG_EINVAL);
}

static void test_webhook_policy(void **st)
{
	(void)st;
	static const char *const ok[] = {"https://hooks.example.com/ctng",
	                                 "http://hooks.example.com:8080/a?b=c",
	                                 "http://127.0.0.1:9999/hook", /* allow-listed */
	                                 "https://[2001:4860:4860::8888]/x", "http://8.8.8.8"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		OK(ctng_index_webhook_check(F.ix, ok[i], &err));
	static const char *const bad[] = {
	    "ftp://example.com/",        "http://",
	    "http://user@example.com/",  "http://example.com/#frag",
	    "http://10.1.2.3/",          "http://192.168.0.1/",
	    "http://169.254.169.254/",   "http://localhost/",
	    "http://metadata/",          "http://x.internal/",
	    "http://[::1]/",             "http://[fe80::1]/",
	    "http://[::ffff:10.0.0.1]/", "http://127.0.0.2/",
	    "http://example.com:0/",     "http://example.com:99999/",
	    "http://exa mple.com/",      "javascript:alert(1)",
	    "http://[fc00::1]/",         "http://0.0.0.0/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ctng_index_webhook_check(F.ix, bad[i], NULL) != CTNG_EINVAL)
			fail_msg("accepted %s", bad[i]);
	/* an operator's allow list: a CIDR, host:port, and allow-only */
	const char *allow[] = {"10.0.0.0/8", "hooks.lan:8443"};
	ctng_index *ix = NULL;
	ctng_index_opts o = {.webhook_allow = allow, .n_webhook_allow = 2};
	OK(ctng_index_open(F.st, &F.net, "monitor1", &o, &ix, &err));
	OK(ctng_index_webhook_check(ix, "http://10.1.2.3/x", &err));
	OK(ctng_index_webhook_check(ix, "https://hooks.lan:8443/x", &err));
	assert_int_equal(ctng_index_webhook_check(ix, "https://hooks.lan/x", NULL), CTNG_EINVAL);
	assert_int_equal(ctng_index_webhook_check(ix, "http://11.0.0.1/x", NULL), 0);
	/* delivery: listed targets are the operator's; others must resolve to
	 * public addresses (the allow list's prefixes excepted); https against
	 * the system roots unless webhooks.tls_ca */
	ctng_net_client_opts co = {.timeout_ms = 7};
	ctng_index_webhook_opts(ix, "https://hooks.lan:8443/x", NULL, &co);
	assert_false(co.public_only);
	assert_ptr_equal(co.tls_ca, CTNG_NET_TLS_SYSTEM_ROOTS);
	assert_int_equal(co.timeout_ms, 7);
	ctng_index_webhook_opts(ix, "http://10.1.2.3/x", "hooks-ca.pem", &co);
	assert_false(co.public_only);
	assert_string_equal(co.tls_ca, "hooks-ca.pem");
	ctng_index_webhook_opts(ix, "https://hooks.example.com/x", NULL, &co);
	assert_true(co.public_only);
	assert_non_null(co.public_except);
	assert_string_equal(co.public_except[0], "10.0.0.0/8");
	assert_null(co.public_except[1]);
	ctng_index_webhook_opts(F.ix, "https://hooks.example.com/x", NULL, &co);
	assert_true(co.public_only);
	assert_null(co.public_except[0]); /* F's allow list has no prefix */
	ctng_index_close(ix);
	o.webhook_allow_only = true;
	OK(ctng_index_open(F.st, &F.net, "monitor1", &o, &ix, &err));
	assert_int_equal(ctng_index_webhook_check(ix, "http://11.0.0.1/x", NULL), CTNG_EINVAL);
	OK(ctng_index_webhook_check(ix, "http://10.9.9.9/x", &err));
	ctng_index_close(ix);
}

static void test_search(void **st)
{
	(void)st;
	X509 *a = precert(0, "WWW.Example.com", 0), *b = precert(0, "*.example.com", 1),
	     *c = precert(1, "shop.example.com", 0), *d = precert(1, "example.com", 1),
	     *e = precert(0, "other.org", 2);
	X509 *af = final_of(0, a, 0);
	feed(0, 0, a);
	feed(1, 0, a);  /* the same precertificate in another log */
	feed(0, 0, af); /* and its final certificate as an x509 entry */
	feed(0, 0, b);
	feed(1, 1, c);
	feed(0, 1, d);
	feed(0, 0, e);
	json_t *res = NULL;
	assert_string_equal(search("www.example.com", NULL, NULL, &res), "www.example.com,*.example.com");
	/* one certificate, three entries, its fields */
	json_t *r0 = json_array_get(res, 0);
	assert_int_equal(json_array_size(json_object_get(r0, "entries")), 3);
	assert_string_equal(json_string_value(json_object_get(r0, "issuer")), "ca1");
	assert_int_equal(json_integer_value(json_object_get(r0, "rid")), 0);
	assert_true(json_is_null(json_object_get(r0, "revoked"))); /* no CRV seen yet */
	assert_string_equal(json_string_value(json_object_get(r0, "type")), "precert");
	assert_non_null(json_string_value(json_object_get(r0, "not_after")));
	assert_string_equal(json_string_value(json_object_get(r0, "logger")), "logger1");
	json_decref(res);
	assert_string_equal(search("example.com", NULL, NULL, NULL), "example.com");
	assert_string_equal(search("example.com", "1", NULL, NULL),
	                    "www.example.com,*.example.com,shop.example.com,example.com");
	assert_string_equal(search("shop.example.com", "0", NULL, NULL),
	                    "*.example.com,shop.example.com");
	assert_string_equal(search("*.example.com", NULL, NULL, NULL), "*.example.com");
	assert_string_equal(search("nothing.example.net", "1", NULL, NULL), "");
	/* pagination: one at a time, in the same order, then no next */
	ctng_index_query q;
	OK(ctng_index_query_parse("example.com", "1", NULL, "1", &q, &err));
	char got[512] = "";
	for (int pages = 0;; pages++) {
		assert_true(pages < 10);
		json_t *r = NULL;
		uint64_t nx = 0;
		OK(ctng_index_search(F.ix, &q, &r, &nx, &err));
		assert_int_equal(json_array_size(r), 1);
		if (got[0])
			strcat(got, ",");
		strcat(got, json_string_value(
		                json_array_get(json_object_get(json_array_get(r, 0), "names"), 0)));
		json_decref(r);
		if (!nx)
			break;
		q.after = nx;
	}
	assert_string_equal(got, "www.example.com,*.example.com,shop.example.com,example.com");
	ctng_index_stats s;
	OK(ctng_index_stats_get(F.ix, &s, &err));
	assert_int_equal(s.certificates, 5);
	assert_int_equal(s.rid_conflicts, 0); /* one RID per certificate, per CA */
	/* an entry that is not a certificate is skipped, not fatal */
	uint8_t junk[16] = {0x30, 0x03, 1, 2, 3};
	ctng_mirror_entry je = {.entry_type = CTNG_CT_X509_ENTRY, .cert = junk, .cert_len = 5};
	OK(ctng_index_entry_hook(F.ix, F.st, "logger2", 99, &je, &err));
	OK(ctng_index_stats_get(F.ix, &s, &err));
	assert_int_equal(s.unparsed, 1);
	X509 *all[] = {a, b, c, d, e, af};
	for (size_t i = 0; i < 6; i++)
		X509_free(all[i]);
}

static void test_rid_conflict(void **st)
{
	(void)st;
	ctng_index_stats s0, s;
	OK(ctng_index_stats_get(F.ix, &s0, &err));
	X509 *x = precert(0, "x.rid.example", 7), *y = precert(0, "y.rid.example", 7),
	     *z = precert(1, "z.rid.example", 7);
	feed(0, 0, x);
	feed(1, 0, x); /* the same certificate again: no conflict */
	feed(0, 1, z); /* another CA's RID 7: no conflict */
	OK(ctng_index_stats_get(F.ix, &s, &err));
	assert_int_equal(s.rid_conflicts, s0.rid_conflicts);
	feed(1, 0, y); /* ca1 gave RID 7 to two certificates */
	OK(ctng_index_stats_get(F.ix, &s, &err));
	assert_int_equal(s.rid_conflicts, s0.rid_conflicts + 1);
	X509_free(x);
	X509_free(y);
	X509_free(z);
}

static size_t due(ctng_index_note *n, size_t max)
{
	size_t got = 0;
	uint64_t next = 0;
	OK(ctng_index_outbox_due(F.ix, ctng_now_ms() + 1, NULL, 0, n, max, &got, &next, &err));
	return got;
}

static void test_watches_and_outbox(void **st)
{
	(void)st;
	json_t *body = json_pack("{s:s,s:b,s:s}", "domain", "Watch.example", "subdomains", 1,
	                         "webhook", "http://127.0.0.1:9/hook");
	ctng_watch w;
	OK(ctng_index_watch_parse(F.ix, body, &w, &err));
	json_decref(body);
	assert_string_equal(w.domain, "watch.example");
	uint64_t id = 0, id2 = 0;
	bool existed = true;
	OK(ctng_index_watch_add(F.ix, &w, ctng_now_ms(), &id, &existed, &err));
	assert_false(existed);
	OK(ctng_index_watch_add(F.ix, &w, ctng_now_ms(), &id2, &existed, &err));
	assert_true(existed);
	assert_int_equal(id, id2);
	/* an exact watch met by a wildcard certificate */
	ctng_watch w2 = {.subdomains = false};
	strcpy(w2.domain, "exact.wild.example");
	strcpy(w2.webhook, "http://127.0.0.1:9/two");
	OK(ctng_index_watch_add(F.ix, &w2, ctng_now_ms(), &id2, &existed, &err));
	/* malformed watches */
	static const char *const bad[] = {
	    "[]", "{}", "{\"domain\":\"a.example\"}",
	    "{\"domain\":\"a.example\",\"webhook\":\"http://10.0.0.1/\"}",
	    "{\"domain\":\"a.example\",\"webhook\":\"http://8.8.8.8/\",\"x\":1}",
	    "{\"domain\":\"a.example\",\"webhook\":\"http://8.8.8.8/\",\"subdomains\":\"yes\"}",
	    "{\"domain\":\"*.a.example\",\"webhook\":\"http://8.8.8.8/\",\"subdomains\":true}",
	    "{\"domain\":5,\"webhook\":\"http://8.8.8.8/\"}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		assert_int_equal(ctng_index_watch_parse(F.ix, j, &w, NULL), CTNG_EINVAL);
		json_decref(j);
	}
	ctng_index_note n[8];
	size_t before = due(n, 8);
	ctng_index_notes_free(n, before);
	X509 *a = precert(0, "a.watch.example", 20), *o = precert(0, "other.example", 21),
	     *wc = precert(1, "*.wild.example", 22);
	feed(0, 0, a);
	feed(1, 0, a); /* the same certificate: told once */
	feed(0, 0, o);
	feed(0, 1, wc);
	size_t got = due(n, 8);
	assert_int_equal(got, before + 2);
	bool saw_a = false, saw_wc = false;
	for (size_t i = 0; i < got; i++) {
		json_t *j = json_loads(n[i].body, 0, NULL);
		const char *name = json_string_value(
		    json_array_get(json_object_get(json_object_get(j, "certificate"), "names"), 0));
		assert_string_equal(json_string_value(json_object_get(j, "event")), "issued");
		assert_string_equal(json_string_value(json_object_get(j, "monitor")), "monitor1");
		if (name && !strcmp(name, "a.watch.example")) {
			saw_a = true;
			assert_string_equal(n[i].url, "http://127.0.0.1:9/hook");
		}
		if (name && !strcmp(name, "*.wild.example")) {
			saw_wc = true;
			assert_string_equal(n[i].url, "http://127.0.0.1:9/two");
		}
		json_decref(j);
	}
	assert_true(saw_a && saw_wc);
	/* delivered and retried */
	uint64_t first = n[0].id;
	OK(ctng_index_outbox_done(F.ix, first, &err));
	OK(ctng_index_outbox_retry(F.ix, n[1].id, ctng_now_ms() + 3600000, &err));
	ctng_index_notes_free(n, got);
	assert_int_equal(due(n, 8), got - 2);
	ctng_index_notes_free(n, got - 2);

	/* a CRV revoking a.watch.example's RID: a "revoked" notification and
	 * the revoked state in search */
	roaring_bitmap_t *crv = roaring_bitmap_create();
	roaring_bitmap_add(crv, 20);
	OK(ctng_store_begin(F.st, &err));
	OK(ctng_index_on_crv(F.ix, "ca1", 5, crv, false, &err));
	OK(ctng_store_commit(F.st, &err));
	got = due(n, 8);
	bool revoked = false;
	for (size_t i = 0; i < got; i++)
		revoked = revoked || strstr(n[i].body, "\"event\":\"revoked\"");
	assert_true(revoked);
	ctng_index_notes_free(n, got);
	json_t *res = NULL;
	search("a.watch.example", NULL, NULL, &res);
	assert_true(json_is_true(json_object_get(json_array_get(res, 0), "revoked")));
	json_decref(res);
	search("other.example", NULL, NULL, &res);
	assert_true(json_is_false(json_object_get(json_array_get(res, 0), "revoked")));
	json_decref(res);
	/* the same CRV again, or an older one: nothing new */
	OK(ctng_index_on_crv(F.ix, "ca1", 5, crv, false, &err));
	assert_int_equal(due(n, 8), got);
	ctng_index_notes_free(n, got);
	roaring_bitmap_free(crv);

	/* bounded: max_pending (3) per watch */
	for (int i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof name, "n%d.watch.example", i);
		X509 *x = precert(0, name, 100 + (uint32_t)i);
		feed(0, 0, x);
		X509_free(x);
	}
	json_t *list = NULL;
	OK(ctng_index_watch_list(F.ix, &list, &err));
	json_t *w0 = json_array_get(json_object_get(list, "watches"), 0);
	assert_int_equal(json_integer_value(json_object_get(w0, "pending")), 3);
	assert_string_equal(json_string_value(json_object_get(w0, "source")), "api");
	json_decref(list);

	/* everything survives a restart */
	close_index(&F);
	open_index(&F);
	search("a.watch.example", NULL, NULL, &res);
	assert_true(json_is_true(json_object_get(json_array_get(res, 0), "revoked")));
	json_decref(res);
	size_t again = due(n, 8);
	assert_true(again >= 3);
	ctng_index_notes_free(n, again);

	/* deleting a watch drops its notifications; config watches are the
	 * config's */
	OK(ctng_index_watch_delete(F.ix, id, &err));
	assert_int_equal(ctng_index_watch_delete(F.ix, id, NULL), CTNG_ENOTFOUND);
	ctng_watch cw = {.subdomains = true, .from_config = true};
	strcpy(cw.domain, "cfg.example");
	strcpy(cw.webhook, "http://127.0.0.1:9/cfg");
	OK(ctng_index_watch_sync_config(F.ix, &cw, 1, ctng_now_ms(), &err));
	OK(ctng_index_watch_list(F.ix, &list, &err));
	uint64_t cid = 0;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(list, "watches"), i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, "source")), "config"))
			ctng_parse_u64(json_string_value(json_object_get(v, "id")), INT64_MAX, &cid,
			               NULL);
	}
	json_decref(list);
	assert_true(cid > 0);
	assert_int_equal(ctng_index_watch_delete(F.ix, cid, NULL), CTNG_ECONFLICT);
	OK(ctng_index_watch_sync_config(F.ix, NULL, 0, ctng_now_ms(), &err));
	assert_int_equal(ctng_index_watch_delete(F.ix, cid, NULL), CTNG_ENOTFOUND);
	/* config text */
	ctng_watch *ws = NULL;
	size_t nw = 0;
	OK(ctng_index_watches_from_config(
	    F.ix, "[{\"domain\":\"c.example\",\"webhook\":\"http://127.0.0.1:1/\"}]", &ws, &nw,
	    &err));
	assert_int_equal(nw, 1);
	assert_true(ws[0].from_config);
	free(ws);
	assert_int_equal(ctng_index_watches_from_config(F.ix, "{}", &ws, &nw, NULL), CTNG_EINVAL);
	X509_free(a);
	X509_free(o);
	X509_free(wc);
}

static void test_events(void **st)
{
	(void)st;
	ctng_index_query q;
	OK(ctng_index_query_parse("ev.example", "1", NULL, NULL, &q, &err));
	json_t *ev = NULL;
	char next[CTNG_INDEX_CURSOR_MAX];
	OK(ctng_index_events(F.ix, &q, NULL, &ev, next, &err));
	assert_int_equal(json_array_size(ev), 0); /* the current end */
	json_decref(ev);
	X509 *x = precert(1, "a.ev.example", 300), *y = precert(1, "b.elsewhere.example", 301);
	feed(0, 1, y);
	feed(0, 1, x);
	OK(ctng_index_events(F.ix, &q, next, &ev, next, &err));
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "event")),
	                    "issued");
	json_decref(ev);
	roaring_bitmap_t *crv = roaring_bitmap_create();
	roaring_bitmap_add_range(crv, 300, 302);
	OK(ctng_store_begin(F.st, &err));
	OK(ctng_index_on_crv(F.ix, "ca2", 9, crv, false, &err));
	OK(ctng_store_commit(F.st, &err));
	roaring_bitmap_free(crv);
	OK(ctng_index_events(F.ix, &q, next, &ev, next, &err));
	assert_int_equal(json_array_size(ev), 1); /* only the watched domain's */
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "event")),
	                    "revoked");
	json_decref(ev);
	OK(ctng_index_events(F.ix, &q, next, &ev, next, &err));
	assert_int_equal(json_array_size(ev), 0);
	json_decref(ev);
	assert_int_equal(ctng_index_events(F.ix, &q, "1x.2", &ev, next, NULL), CTNG_EINVAL);
	assert_int_equal(ctng_index_events(F.ix, &q, "12", &ev, next, NULL), CTNG_EINVAL);
	X509_free(x);
	X509_free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_queries), cmocka_unit_test(test_webhook_policy),
	    cmocka_unit_test(test_search),            cmocka_unit_test(test_rid_conflict),
	    cmocka_unit_test(test_watches_and_outbox), cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
