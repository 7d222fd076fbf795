/*
 * init.c — the generator behind `ctng init`: writes a fresh network (DESIGN
 * §9 seed topology by default) with new keys, self-signed CA roots, dealt BLS
 * shares, network.json and one private config.json per entity
 * (docs/config.md §4).
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "ctng/bls.h"

void ctng_init_opts_default(ctng_init_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->period_ms = 60000;
	o->loggers = 3;
	o->cas = 3;
	o->monitors = 4;
	o->threshold = 2;
	o->port_base = 9000;
	o->host = "127.0.0.1";
}

/* ----------------------------------------------------- root certificate */

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Self-signed CA root for `id`, PEM in *pem (malloc'd). Valid from an hour
 * before now_ms for ten years. */
static int make_root(const char *id, const ctng_sig_key *key, uint64_t now_ms, char **pem,
                     ctng_err *err)
{
	*pem = NULL;
	EVP_PKEY *pk = ctng_sig_key_evp(key);
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_new();
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = CTNG_ENOMEM;
	char cn[CTNG_ID_MAX + 32];
	snprintf(cn, sizeof(cn), "%s root", id);
	unsigned char serial[16];
	time_t now = (time_t)(now_ms / 1000);
	if (!x || !name || !bn || !bio || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	if (!BN_bin2bn(serial, sizeof(serial), bn) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || X509_set_version(x, 2) != 1 ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	                                (const unsigned char *)"CTng test network", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
	                                0) ||
	    X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &now) || X509_set_pubkey(x, pk) != 1)
		goto out;
	if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
	    add_ext(x, NID_subject_key_identifier, "hash") ||
	    add_ext(x, NID_authority_key_identifier, "keyid:always"))
		goto out;
	const EVP_MD *md = ctng_sig_key_alg(key) == CTNG_SIG_ED25519 ? NULL : EVP_sha256();
	if (X509_sign(x, pk, md) <= 0 || PEM_write_bio_X509(bio, x) != 1)
		goto out;
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0 || !(*pem = strndup(p, (size_t)n)))
		goto out;
	rc = 0;
out:
	X509_free(x);
	X509_NAME_free(name);
	BN_free(bn);
	BIO_free(bio);
	if (rc)
		ctng_err_set(err, rc, "cannot create the root certificate of %s", id);
	return rc;
}

/* ------------------------------------------------------------ generator */

typedef struct gen_entity {
	char id[CTNG_ID_MAX + 1];
	ctng_role role;
	uint16_t port;
	ctng_sig_key *key;
	char *root_pem;
	uint32_t index; /* 1-based within the role */
} gen_entity;

static json_t *id_array(const char *prefix, const uint32_t *idx, size_t n)
{
	json_t *a = json_array();
	char buf[CTNG_ID_MAX + 1];
	for (size_t i = 0; a && i < n; i++) {
		snprintf(buf, sizeof(buf), "%s%u", prefix, idx[i]);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

/* The loggers (or CAs) that monitor m (1-based) watches, out of `total`:
 * the DESIGN §9 table for 3 loggers/CAs, else m and m+1 modulo total. */
static size_t watched(uint32_t m, uint32_t total, bool ca, uint32_t out[2])
{
	if (total == 3) {
		bool odd = m % 2 == 1;
		if (!ca) {
			out[0] = odd ? 1 : 2;
			out[1] = odd ? 2 : 3;
		} else {
			out[0] = odd ? 1 : 2;
			out[1] = 3;
		}
		return 2;
	}
	out[0] = (m - 1) % total + 1;
	out[1] = m % total + 1;
	return out[0] == out[1] ? 1 : 2;
}

static int write_json(const char *path, json_t *j, int mode, ctng_err *err)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	int rc = ctng_write_file_atomic(path, t, n + 1, mode, err);
	ctng_wipe(t, n + 1);
	free(t);
	return rc;
}

static int check_opts(ctng_init_opts *o, ctng_err *err)
{
	if (o->period_ms == 0)
		o->period_ms = 60000;
	if (o->period_ms < 100 || o->period_ms > (uint64_t)1 << 40)
		return ctng_err_set(err, CTNG_EINVAL, "period must be between 100 ms and 2^40 ms");
	if (!o->query_offset_ms)
		o->query_offset_ms = o->period_ms / 10;
	if (!o->gossip_wait_ms)
		o->gossip_wait_ms = o->period_ms / 5;
	if (!o->update_offset_ms)
		o->update_offset_ms = o->period_ms * 8 / 10;
	if (o->loggers < 1 || o->loggers > 99 || o->cas < 1 || o->cas > 99 || o->monitors < 1 ||
	    o->monitors > 99)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "loggers, CAs and monitors must each number 1..99");
	if (o->threshold < 1 || o->threshold > o->monitors)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "threshold %u out of range: need 1..%u (number of gossipers)",
		                    o->threshold, o->monitors);
	if (!o->host)
		o->host = "127.0.0.1";
	if (o->port_base == 0 || (uint32_t)o->port_base + 399 > 65535)
		return ctng_err_set(err, CTNG_EINVAL, "port base must be 1..65136");
	ctng_clock c = {o->genesis_ms, o->period_ms, o->query_offset_ms, o->gossip_wait_ms,
	                o->update_offset_ms};
	return ctng_clock_check(&c, err);
}

int ctng_init_network(const char *dir, const ctng_init_opts *opts_in, ctng_err *err)
{
	ctng_init_opts o = *opts_in;
	int rc = check_opts(&o, err);
	if (rc)
		return rc;
	if (!o.genesis_ms)
		o.genesis_ms = ctng_now_ms() / 1000 * 1000;
	uint64_t now = ctng_now_ms();
	char path[4096];
	if ((rc = ctng_mkdir_p(dir, 0755, err)))
		return rc;
	if (strlen(dir) > 3000)
		return ctng_err_set(err, CTNG_EINVAL, "folder name too long");
	snprintf(path, sizeof(path), "%s/network.json", dir);
	if (access(path, F_OK) == 0)
		return ctng_err_set(err, CTNG_EINVAL, "%s already exists; refusing to overwrite",
		                    path);

	size_t n = o.loggers + o.cas + 2 * (size_t)o.monitors;
	gen_entity *es = calloc(n, sizeof(*es));
	ctng_bls_share *shares = calloc(o.monitors, sizeof(*shares));
	uint8_t(*com)[CTNG_BLS_PK_LEN] = calloc(o.threshold, CTNG_BLS_PK_LEN);
	uint8_t group_pk[CTNG_BLS_PK_LEN];
	json_t *net = json_object(), *ents = json_array();
	if (!es || !shares || !com || !net || !ents) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	const struct {
		ctng_role role;
		const char *prefix;
		uint32_t count;
		uint16_t off;
	} groups[4] = {{CTNG_ROLE_LOGGER, "logger", o.loggers, 0},
	               {CTNG_ROLE_CA, "ca", o.cas, 100},
	               {CTNG_ROLE_MONITOR, "monitor", o.monitors, 200},
	               {CTNG_ROLE_GOSSIPER, "gossiper", o.monitors, 300}};
	size_t k = 0;
	for (int g = 0; g < 4; g++) {
		for (uint32_t i = 1; i <= groups[g].count; i++, k++) {
			gen_entity *e = &es[k];
			snprintf(e->id, sizeof(e->id), "%s%u", groups[g].prefix, i);
			e->role = groups[g].role;
			e->index = i;
			e->port = (uint16_t)(o.port_base + groups[g].off + i - 1);
			if (e->role == CTNG_ROLE_GOSSIPER)
				continue;
			ctng_sig_alg alg =
			    e->role == CTNG_ROLE_MONITOR ? CTNG_SIG_ED25519 : CTNG_SIG_ECDSA_P256;
			if ((rc = ctng_sig_generate(alg, &e->key, err)))
				goto out;
			if (e->role == CTNG_ROLE_CA &&
			    (rc = make_root(e->id, e->key, now, &e->root_pem, err)))
				goto out;
		}
	}
	if ((rc = ctng_bls_deal(o.threshold, o.monitors, NULL, 0, group_pk, com, shares, err)))
		goto out;

	/* network.json */
	char *hex = ctng_hex_strdup(group_pk, CTNG_BLS_PK_LEN);
	json_t *coms = json_array();
	for (uint32_t i = 0; coms && i < o.threshold; i++) {
		char *h = ctng_hex_strdup(com[i], CTNG_BLS_PK_LEN);
		json_array_append_new(coms, json_string(h ? h : ""));
		free(h);
	}
	json_object_set_new(net, "version", json_integer(1));
	json_object_set_new(net, "genesis_ms", json_integer((json_int_t)o.genesis_ms));
	json_object_set_new(net, "period_ms", json_integer((json_int_t)o.period_ms));
	json_object_set_new(net, "query_offset_ms", json_integer((json_int_t)o.query_offset_ms));
	json_object_set_new(net, "gossip_wait_ms", json_integer((json_int_t)o.gossip_wait_ms));
	json_object_set_new(net, "update_offset_ms", json_integer((json_int_t)o.update_offset_ms));
	json_object_set_new(net, "threshold", json_integer(o.threshold));
	json_object_set_new(net, "group_pk", json_string(hex ? hex : ""));
	json_object_set_new(net, "commitments", coms ? coms : json_array());
	free(hex);
	for (size_t i = 0; i < n; i++) {
		gen_entity *e = &es[i];
		json_t *j = json_object();
		char url[CTNG_URL_MAX], buf[CTNG_ID_MAX + 1];
		snprintf(url, sizeof(url), "http://%s:%u", o.host, e->port);
		json_object_set_new(j, "id", json_string(e->id));
		json_object_set_new(j, "role", json_string(ctng_role_name(e->role)));
		json_object_set_new(j, "url", json_string(url));
		if (e->key) {
			char *pk = NULL;
			if ((rc = ctng_sig_public_hex(e->key, &pk, err))) {
				json_decref(j);
				goto out;
			}
			json_object_set_new(j, "public_key", json_string(pk));
			free(pk);
		}
		if (e->role == CTNG_ROLE_CA)
			json_object_set_new(j, "root_cert", json_string(e->root_pem));
		if (e->role == CTNG_ROLE_MONITOR) {
			uint32_t w[2];
			size_t c = watched(e->index, o.loggers, false, w);
			json_object_set_new(j, "loggers", id_array("logger", w, c));
			c = watched(e->index, o.cas, true, w);
			json_object_set_new(j, "cas", id_array("ca", w, c));
			snprintf(buf, sizeof(buf), "gossiper%u", e->index);
			json_object_set_new(j, "gossiper", json_string(buf));
		}
		if (e->role == CTNG_ROLE_GOSSIPER) {
			ctng_bls_share *s = &shares[e->index - 1];
			char *h = ctng_hex_strdup(s->pk, CTNG_BLS_PK_LEN);
			json_object_set_new(j, "bls_id", json_integer(s->id));
			json_object_set_new(j, "bls_pk", json_string(h ? h : ""));
			free(h);
			json_t *peers = json_array();
			for (uint32_t p = 1; p <= o.monitors; p++) {
				if (p == e->index)
					continue;
				snprintf(buf, sizeof(buf), "gossiper%u", p);
				json_array_append_new(peers, json_string(buf));
			}
			json_object_set_new(j, "peers", peers);
			snprintf(buf, sizeof(buf), "monitor%u", e->index);
			json_object_set_new(j, "monitor", json_string(buf));
		}
		json_array_append_new(ents, j);
	}
	json_object_set_new(net, "entities", ents);
	ents = NULL;
	if ((rc = write_json(path, net, 0644, err)))
		goto out;

	/* private files */
	for (size_t i = 0; i < n; i++) {
		gen_entity *e = &es[i];
		char edir[4096], listen[CTNG_URL_MAX];
		if (snprintf(edir, sizeof(edir), "%s/%s", dir, e->id) >= (int)sizeof(edir)) {
			rc = ctng_err_set(err, CTNG_EINVAL, "folder name too long");
			goto out;
		}
		if ((rc = ctng_mkdir_p(edir, 0700, err)))
			goto out;
		snprintf(listen, sizeof(listen), "%s:%u", o.host, e->port);
		json_t *j = json_object();
		json_object_set_new(j, "id", json_string(e->id));
		json_object_set_new(j, "network", json_string("../network.json"));
		json_object_set_new(j, "data_dir", json_string("."));
		json_object_set_new(j, "listen", json_string(listen));
		if (e->key) {
			char *pem = NULL;
			size_t pl = 0;
			if ((rc = ctng_sig_private_pem(e->key, &pem, &pl, err))) {
				json_decref(j);
				goto out;
			}
			json_object_set_new(j, "private_key", json_string(pem));
			ctng_wipe(pem, pl);
			free(pem);
		} else {
			char *h = ctng_hex_strdup(shares[e->index - 1].sk, CTNG_BLS_SK_LEN);
			json_object_set_new(j, "bls_sk", json_string(h ? h : ""));
			if (h) {
				ctng_wipe(h, strlen(h));
				free(h);
			}
		}
		if (snprintf(path, sizeof(path), "%s/config.json", edir) >= (int)sizeof(path)) {
			json_decref(j);
			rc = ctng_err_set(err, CTNG_EINVAL, "folder name too long");
			goto out;
		}
		rc = write_json(path, j, 0600, err);
		json_decref(j);
		if (rc)
			goto out;
		if (e->root_pem) {
			if (snprintf(path, sizeof(path), "%s/root.pem", edir) >=
			    (int)sizeof(path)) {
				rc = ctng_err_set(err, CTNG_EINVAL, "folder name too long");
				goto out;
			}
			if ((rc = ctng_write_file_atomic(path, e->root_pem, strlen(e->root_pem),
			                                 0644, err)))
				goto out;
		}
	}
out:
	for (size_t i = 0; es && i < n; i++) {
		ctng_sig_key_free(es[i].key);
		free(es[i].root_pem);
	}
	free(es);
	if (shares)
		ctng_wipe(shares, o.monitors * sizeof(*shares));
	free(shares);
	free(com);
	json_decref(net);
	json_decref(ents);
	return rc;
}
