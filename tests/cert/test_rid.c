/* test_rid.c — the RID extension (codec, strictness, in precertificate and
 * final certificate, read by OpenSSL and by the in-place view), the fields
 * a monitor indexes from a view (names, validity, logged TBS, bare TBS
 * parse), and the RID CON (docs/protocol.md §5.2): built from two
 * certificates of one CA with one RID, verified; refused for one
 * certificate and its precertificate, for different RIDs, another CA's
 * certificate, a broken signature, non-canonical evidence, and by
 * ctng_con_verify (which cannot read X.509). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <jansson.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ctng/cert.h"

static ctng_err err;

#define OK(x)                                                                                      \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ != 0)                                                                       \
			fail_msg("%s -> %d (%s)", #x, r_, err.msg);                                \
	} while (0)

typedef struct ca {
	ctng_sig_key *key;
	X509 *root;
	char *root_pem;
	ctng_entity ent;
} ca;

static void ca_make(ca *c, const char *id, ctng_sig_alg alg)
{
	memset(c, 0, sizeof(*c));
	uint64_t now = ctng_now_ms();
	OK(ctng_sig_generate(alg, &c->key, &err));
	OK(ctng_cert_make_root(id, c->key, now - 3600000, now + 86400000ull * 365, &c->root, &err));
	OK(ctng_cert_to_pem(c->root, &c->root_pem, NULL, &err));
	snprintf(c->ent.id, sizeof c->ent.id, "%s", id);
	c->ent.role = CTNG_ROLE_CA;
	OK(ctng_sig_key_public_copy(c->key, &c->ent.key, &err));
	c->ent.root_cert_pem = c->root_pem;
}

static void ca_free(ca *c)
{
	ctng_sig_key_free(c->key);
	ctng_sig_key_free(c->ent.key);
	X509_free(c->root);
	free(c->root_pem);
}

/* A precertificate of c for name with RID rid (serial `serial`). */
static X509 *precert(ca *c, const char *name, uint32_t rid, uint8_t serial)
{
	ctng_sig_key *subj = NULL;
	OK(ctng_sig_generate(CTNG_SIG_ECDSA_P256, &subj, &err));
	uint64_t now = ctng_now_ms() / 1000 * 1000;
	ctng_cert_template t = {.dns_name = name,
	                        .subject_key = ctng_sig_key_evp(subj),
	                        .serial = {serial},
	                        .serial_len = 1,
	                        .not_before_ms = now - 60000,
	                        .not_after_ms = now + 86400000,
	                        .rid = rid};
	X509 *x = NULL;
	OK(ctng_cert_make_precert(&t, c->root, c->key, &x, &err));
	ctng_sig_key_free(subj);
	return x;
}

/* Its final certificate with one made-up proof (the RID CON does not look
 * at proofs). */
static X509 *final_of(ca *c, X509 *pre, uint32_t rid)
{
	ctng_cert_proofs ps = {.rid = rid};
	uint8_t sig[8] = {4, 3, 0, 4, 1, 2, 3, 4};
	ctng_logger_proof p = {.logger_id = "logger1", .tree_size = 1, .sth_sig = sig,
	                       .sth_sig_len = sizeof sig};
	OK(ctng_cert_proofs_add(&ps, &p, &err));
	X509 *x = NULL;
	OK(ctng_cert_make_final(pre, &ps, c->root, c->key, &x, &err));
	ctng_cert_proofs_clear(&ps);
	return x;
}

static uint8_t *der_of(X509 *x, size_t *n)
{
	uint8_t *d = NULL;
	OK(ctng_cert_to_der(x, &d, n, &err));
	return d;
}

static void test_rid_ext_codec(void **st)
{
	(void)st;
	static const struct {
		uint32_t rid;
		const char *hex;
	} v[] = {{0, "020100"},        {1, "020101"},          {127, "02017f"},
	         {128, "02020080"},    {255, "020200ff"},      {256, "02020100"},
	         {65535, "020300ffff"}, {0x7fffffff, "02047fffffff"},
	         {0x80000000u, "02050080000000"}, {0xffffffffu, "020500ffffffff"}};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t b[CTNG_RID_EXT_MAX];
		char hex[2 * CTNG_RID_EXT_MAX + 1];
		size_t n = ctng_rid_ext_encode(v[i].rid, b);
		ctng_hex_encode(hex, b, n);
		assert_string_equal(hex, v[i].hex);
		uint32_t r = 1;
		OK(ctng_rid_ext_decode(b, n, &r, &err));
		assert_int_equal(r, v[i].rid);
	}
	static const char *const bad[] = {
	    "",               /* empty */
	    "0200",           /* empty INTEGER */
	    "0201ff",         /* negative */
	    "02020001",       /* non-minimal */
	    "0206000100000000", /* above 2^32-1 */
	    "020501ffffffff", /* above 2^32-1 */
	    "04020101",       /* not an INTEGER */
	    "02010100",       /* trailing byte */
	    "020201",         /* truncated */
	    "028101 01",      /* long form */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t b[16];
		size_t n = 0;
		for (const char *p = bad[i]; p[0] && p[1]; p += 2) {
			if (*p == ' ') {
				p--;
				continue;
			}
			unsigned x;
			sscanf(p, "%2x", &x);
			b[n++] = (uint8_t)x;
		}
		uint32_t r;
		assert_int_equal(ctng_rid_ext_decode(b, n, &r, NULL), CTNG_EINVAL);
	}
}

static void test_rid_in_certificates(void **st)
{
	(void)st;
	ca c;
	ca_make(&c, "ca1", CTNG_SIG_ECDSA_P256);
	X509 *pre = precert(&c, "www.Example.com", 0x12345678, 5);
	X509 *fin = final_of(&c, pre, 0x12345678);
	uint32_t r = 0;
	OK(ctng_cert_get_rid(pre, &r, &err));
	assert_int_equal(r, 0x12345678);
	OK(ctng_cert_get_rid(fin, &r, &err));
	assert_int_equal(r, 0x12345678);
	/* the final certificate must name the precertificate's RID */
	ctng_cert_proofs ps = {.rid = 7};
	ctng_logger_proof p = {.logger_id = "logger1", .tree_size = 1};
	uint8_t sig[1] = {1};
	p.sth_sig = sig;
	p.sth_sig_len = 1;
	OK(ctng_cert_proofs_add(&ps, &p, &err));
	X509 *bad = NULL;
	assert_int_equal(ctng_cert_make_final(pre, &ps, c.root, c.key, &bad, &err), CTNG_EINVAL);
	assert_null(bad);
	ctng_cert_proofs_clear(&ps);

	/* the view sees the same, in both certificates, and the logged TBS of
	 * both is the precert entry's TBS */
	size_t pn, fn;
	uint8_t *pd = der_of(pre, &pn), *fd = der_of(fin, &fn);
	ctng_cert_view pv, fv;
	OK(ctng_cert_view_parse(pd, pn, &pv, &err));
	OK(ctng_cert_view_parse(fd, fn, &fv, &err));
	OK(ctng_cert_view_rid(&pv, &r, &err));
	assert_int_equal(r, 0x12345678);
	OK(ctng_cert_view_rid(&fv, &r, &err));
	assert_int_equal(r, 0x12345678);
	uint8_t *lp = NULL, *lf = NULL;
	size_t lpn = 0, lfn = 0;
	OK(ctng_cert_view_logged_tbs(&pv, &lp, &lpn, &err));
	OK(ctng_cert_view_logged_tbs(&fv, &lf, &lfn, &err));
	assert_int_equal(lpn, lfn);
	assert_memory_equal(lp, lf, lpn);
	ctng_ct_entry e = {0};
	OK(ctng_ct_entry_precert_x509(pre, c.root, &e, &err));
	assert_int_equal(e.der_len, lpn);
	assert_memory_equal(e.der, lp, lpn);

	/* the logged TBS alone (what a precert_entry holds) reads the same */
	ctng_cert_view tv;
	OK(ctng_cert_view_parse_tbs(lp, lpn, &tv, &err));
	OK(ctng_cert_view_rid(&tv, &r, &err));
	assert_int_equal(r, 0x12345678);
	assert_int_equal(tv.n_poison, 0);
	ctng_der_span names[4];
	size_t nn = 0;
	OK(ctng_cert_view_dns_names(&tv, names, 4, &nn, &err));
	assert_int_equal(nn, 2); /* SAN dNSName, then the CN */
	for (size_t i = 0; i < nn; i++) {
		assert_int_equal(names[i].n, strlen("www.Example.com"));
		assert_memory_equal(names[i].p, "www.Example.com", names[i].n); /* as encoded */
	}
	uint64_t nb = 0, na = 0;
	OK(ctng_cert_view_validity(&tv, &nb, &na, &err));
	assert_int_equal(na - nb, 86400000 + 60000);
	struct tm tm;
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(pre), &tm), 1);
	assert_int_equal((uint64_t)timegm(&tm) * 1000, nb);
	/* a bare TBS with trailing bytes, and a whole certificate, are refused */
	uint8_t *more = malloc(lpn + 1);
	memcpy(more, lp, lpn);
	more[lpn] = 0;
	assert_int_equal(ctng_cert_view_parse_tbs(more, lpn + 1, &tv, NULL), CTNG_EINVAL);
	free(more);

	/* a certificate without a RID extension: ENOTFOUND everywhere */
	X509 *plain = X509_dup(pre);
	ASN1_OBJECT *o = OBJ_txt2obj(CTNG_RID_EXT_OID, 1);
	X509_EXTENSION_free(X509_delete_ext(plain, X509_get_ext_by_OBJ(plain, o, -1)));
	ASN1_OBJECT_free(o);
	assert_true(X509_sign(plain, ctng_sig_key_evp(c.key), EVP_sha256()) > 0);
	assert_int_equal(ctng_cert_get_rid(plain, &r, NULL), CTNG_ENOTFOUND);
	size_t xn;
	uint8_t *xd = der_of(plain, &xn);
	ctng_cert_view xv;
	OK(ctng_cert_view_parse(xd, xn, &xv, &err));
	assert_int_equal(ctng_cert_view_rid(&xv, &r, NULL), CTNG_ENOTFOUND);
	free(xd);
	X509_free(plain);

	ctng_ct_entry_clear(&e);
	free(lp);
	free(lf);
	free(pd);
	free(fd);
	X509_free(pre);
	X509_free(fin);
	ca_free(&c);
}

/* A RID CON of c's over x and y (RID rid). */
static void rid_con(ca *c, X509 *x, X509 *y, uint32_t rid, ctng_gossip_object *out)
{
	size_t xn, yn;
	uint8_t *xd = der_of(x, &xn), *yd = der_of(y, &yn);
	OK(ctng_rid_con_build(out, c->ent.id, (enum ctng_scheme)ctng_sig_key_alg(c->key), 3, rid,
	                      xd, xn, yd, yn, 1700000000000ull, &err));
	free(xd);
	free(yd);
}

static void test_rid_con(void **st)
{
	(void)st;
	ca c, other;
	ca_make(&c, "ca1", CTNG_SIG_ED25519);
	ca_make(&other, "ca2", CTNG_SIG_ED25519);
	X509 *a = precert(&c, "a.example.com", 9, 1);
	X509 *b = precert(&c, "b.example.com", 9, 2);
	X509 *bf = final_of(&c, b, 9);
	X509 *d = precert(&c, "d.example.com", 10, 3);
	X509 *o = precert(&other, "o.example.com", 9, 4);

	/* two certificates, one RID: proven, in either order, and the gossip
	 * codec keeps it */
	ctng_gossip_object con = {0}, con2 = {0}, dec = {0};
	rid_con(&c, a, bf, 9, &con);
	rid_con(&c, bf, a, 9, &con2);
	assert_true(ctng_gossip_equal(&con, &con2));
	assert_true(ctng_con_is_rid(&con));
	assert_false(ctng_con_is_data(&con));
	OK(ctng_rid_con_verify(&con, &c.ent, &err));
	OK(ctng_cert_con_verify(&con, &c.ent, NULL, &err));
	char *json = NULL;
	size_t len = 0;
	OK(ctng_gossip_encode(&con, &json, &len, &err));
	OK(ctng_gossip_decode(json, len, &dec, &err));
	OK(ctng_rid_con_verify(&dec, &c.ent, &err));
	ctng_gossip_id id;
	OK(ctng_gossip_id_of(&dec, &id, &err));
	assert_int_equal(id.family, CTNG_FAM_CON);
	assert_string_equal(id.entity, "ca1");
	ctng_gossip_object pa = {0}, pb = {0};
	OK(ctng_con_parts(&dec, &pa, &pb, &err));
	assert_int_equal(pa.type, CTNG_TYPE_NONE);
	assert_int_equal(pb.type, CTNG_TYPE_NONE);
	/* proto alone cannot check the certificates, so it refuses */
	assert_int_equal(ctng_con_verify(&con, c.ent.key, NULL, &err), CTNG_EINVAL);
	/* the wrong CA */
	assert_int_equal(ctng_rid_con_verify(&con, &other.ent, NULL), CTNG_EINVAL);
	ctng_gossip_clear(&con2);
	ctng_gossip_clear(&dec);
	free(json);

	/* a precertificate and its own final certificate: no misbehaviour */
	rid_con(&c, b, bf, 9, &con2);
	assert_int_equal(ctng_rid_con_verify(&con2, &c.ent, &err), CTNG_EVERIFY);
	assert_non_null(strstr(err.msg, "no misbehaviour"));
	ctng_gossip_clear(&con2);
	/* different RIDs */
	rid_con(&c, a, d, 9, &con2);
	assert_int_equal(ctng_rid_con_verify(&con2, &c.ent, &err), CTNG_EVERIFY);
	ctng_gossip_clear(&con2);
	/* another CA's certificate */
	rid_con(&c, a, o, 9, &con2);
	assert_int_equal(ctng_rid_con_verify(&con2, &c.ent, &err), CTNG_EVERIFY);
	ctng_gossip_clear(&con2);
	/* a broken signature */
	{
		size_t an, bn;
		uint8_t *ad = der_of(a, &an), *bd = der_of(b, &bn);
		bd[bn - 3] ^= 1;
		OK(ctng_rid_con_build(&con2, "ca1", CTNG_SCHEME_ED25519, 3, 9, ad, an, bd, bn, 0,
		                      &err));
		assert_int_equal(ctng_rid_con_verify(&con2, &c.ent, &err), CTNG_EVERIFY);
		ctng_gossip_clear(&con2);
		/* one certificate twice is not even a CON */
		assert_int_equal(ctng_rid_con_build(&con2, "ca1", CTNG_SCHEME_ED25519, 3, 9, ad,
		                                    an, ad, an, 0, NULL),
		                 CTNG_EINVAL);
		free(ad);
		free(bd);
	}
	/* evidence that is not canonical, or has extra members, is malformed */
	{
		const char *p2 = ctng_gossip_str(con.payload[2]);
		json_t *j = json_loads(p2, 0, NULL);
		json_t *certs = json_object_get(j, "certs");
		json_t *first = json_incref(json_array_get(certs, 0));
		json_array_remove(certs, 0);
		json_array_append_new(certs, first); /* descending order */
		char *swapped = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_object_set_new(j, "extra", json_true());
		char *extra = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		const char *bad[] = {swapped, extra};
		for (int i = 0; i < 2; i++) {
			OK(ctng_gossip_copy(&con2, &con, &err));
			OK(ctng_gossip_set(&con2.payload[2], bad[i], &err));
			assert_int_equal(ctng_gossip_check(&con2, NULL), CTNG_EINVAL);
			ctng_gossip_clear(&con2);
		}
		free(swapped);
		free(extra);
		/* payload[1] must be empty */
		OK(ctng_gossip_copy(&con2, &con, &err));
		OK(ctng_gossip_set(&con2.payload[1], "x", &err));
		assert_int_equal(ctng_gossip_check(&con2, NULL), CTNG_EINVAL);
		ctng_gossip_clear(&con2);
		/* the scheme must be the CA key's */
		OK(ctng_gossip_copy(&con2, &con, &err));
		con2.scheme = CTNG_SCHEME_ECDSA_P256;
		assert_int_equal(ctng_rid_con_verify(&con2, &c.ent, NULL), CTNG_EINVAL);
		ctng_gossip_clear(&con2);
	}
	ctng_gossip_clear(&con);
	X509_free(a);
	X509_free(b);
	X509_free(bf);
	X509_free(d);
	X509_free(o);
	ca_free(&c);
	ca_free(&other);
}

/* The RID CON vector of docs/protocol.md §8.8 (tests/vectors/ctng/ridcon.json):
 * the CA key is RFC 8032 TEST 1, so its signatures are deterministic. */
static void test_rid_con_vector(void **st)
{
	(void)st;
	char path[512];
	snprintf(path, sizeof path, "%s/ctng/ridcon.json", CTNG_VECTORS_DIR);
	json_error_t je;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		fail_msg("%s: %s", path, je.text);
	const char *root = json_string_value(json_object_get(v, "ca_root"));
	const char *pub = json_string_value(json_object_get(v, "ca_public_key"));
	json_t *cj = json_object_get(v, "con");
	assert_non_null(root);
	assert_non_null(pub);
	ctng_entity e = {.id = "ca1", .role = CTNG_ROLE_CA, .root_cert_pem = (char *)root};
	OK(ctng_sig_load_public_hex(pub, &e.key, &err));
	ctng_gossip_object con = {0};
	OK(ctng_gossip_from_json(cj, &con, &err));
	OK(ctng_rid_con_verify(&con, &e, &err));
	uint32_t rid;
	uint8_t *a, *b;
	size_t an, bn;
	OK(ctng_rid_con_parts(&con, &rid, &a, &an, &b, &bn, &err));
	assert_int_equal(rid, json_integer_value(json_object_get(v, "rid")));
	free(a);
	free(b);
	ctng_gossip_clear(&con);
	ctng_sig_key_free(e.key);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rid_ext_codec),
	    cmocka_unit_test(test_rid_in_certificates),
	    cmocka_unit_test(test_rid_con),
	    cmocka_unit_test(test_rid_con_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
