/*
 * keygen.c — `ctng keygen`: one operator makes its own entity's keys and
 * writes its private config.json (0600) and public <id>.entity.json
 * descriptor (docs/config.md §5); also the CA root certificate and the JSON
 * file writer shared with init.c.
 */
#include <arpa/inet.h>
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
#include "ctng/note.h"
#include "ctng/seal.h"

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

int cfg_make_root(const char *id, const ctng_sig_key *key, uint64_t now_ms, char **pem,
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

int cfg_write_json(const char *path, const json_t *j, int mode, ctng_err *err)
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

/* ---------------------------------------------------------------- keygen */

static json_t *str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int check_ids(const char *what, const char *const *v, size_t n, ctng_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i] || !ctng_id_valid(v[i]))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "keygen: %s: \"%.40s\" is not a valid id", what,
			                    v[i] ? v[i] : "");
	return 0;
}

/* listen address for url http[s]://HOST:PORT: HOST when it is an IPv4 literal
 * (localhost counts as 127.0.0.1), else every address. */
static int default_listen(const char *url, char *out, size_t cap, ctng_err *err)
{
	char host[CTNG_HOST_MAX];
	uint16_t port;
	bool tls;
	size_t skip = cfg_url_scheme(url, &tls);
	if (!skip || cfg_parse_hostport(url + skip, host, &port, err))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "keygen: url must be http://HOST:PORT or https://HOST:PORT");
	struct in_addr a;
	const char *h = strcmp(host, "localhost") == 0      ? "127.0.0.1"
	                : inet_pton(AF_INET, host, &a) == 1 ? host
	                                                    : "0.0.0.0";
	snprintf(out, cap, "%s:%u", h, (unsigned)port);
	return 0;
}

static int check_opts(const ctng_keygen_opts *o, ctng_err *err)
{
	if (!ctng_role_name(o->role))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "keygen: role must be logger, ca, monitor or gossiper");
	if (!o->id || !ctng_id_valid(o->id))
		return ctng_err_set(err, CTNG_EINVAL, "keygen: invalid id \"%.40s\"",
		                    o->id ? o->id : "");
	if (!o->url || strlen(o->url) >= CTNG_URL_MAX)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "keygen: url must be http://HOST:PORT or https://HOST:PORT");
	bool mon = o->role == CTNG_ROLE_MONITOR, gos = o->role == CTNG_ROLE_GOSSIPER;
	if ((!mon && (o->n_loggers || o->n_cas || o->gossiper)) ||
	    (!gos && (o->monitor || o->n_peers)))
		return ctng_err_set(err, CTNG_EINVAL,
		                    "keygen: loggers/cas/gossiper are for monitors, monitor/peers "
		                    "for gossipers");
	int rc;
	if ((rc = check_ids("loggers", o->loggers, o->n_loggers, err)) ||
	    (rc = check_ids("cas", o->cas, o->n_cas, err)) ||
	    (rc = check_ids("peers", o->peers, o->n_peers, err)) ||
	    (o->gossiper && (rc = check_ids("gossiper", &o->gossiper, 1, err))) ||
	    (o->monitor && (rc = check_ids("monitor", &o->monitor, 1, err))))
		return rc;
	return 0;
}

int ctng_keygen(const char *dir, const ctng_keygen_opts *o, ctng_err *err)
{
	int rc = check_opts(o, err);
	if (rc)
		return rc;
	char listen[CTNG_URL_MAX + 16];
	if (o->listen) {
		char host[CTNG_HOST_MAX];
		uint16_t port;
		if (cfg_parse_hostport(o->listen, host, &port, err))
			return ctng_err_wrap(err, "keygen: listen");
		snprintf(listen, sizeof listen, "%s", o->listen);
	} else if ((rc = default_listen(o->url, listen, sizeof listen, err))) {
		return rc;
	}
	char path[4096];
	if (strlen(dir) > 3000)
		return ctng_err_set(err, CTNG_EINVAL, "folder name too long");
	if ((rc = ctng_mkdir_p(dir, 0700, err)))
		return rc;
	snprintf(path, sizeof path, "%s/config.json", dir);
	if (access(path, F_OK) == 0)
		return ctng_err_set(err, CTNG_EINVAL, "%s already exists; refusing to overwrite",
		                    path);

	ctng_sig_key *key = NULL, *note = NULL;
	char *pub = NULL, *pem = NULL, *root = NULL, *dkg_pub = NULL, *dkg_priv = NULL;
	char *vkey = NULL, *note_pem = NULL;
	size_t pem_len = 0, note_pem_len = 0;
	uint8_t xsk[CTNG_SEAL_KEY_LEN], xpk[CTNG_SEAL_KEY_LEN];
	json_t *d = json_object(), *c = json_object();
	ctng_sig_alg alg = o->role == CTNG_ROLE_MONITOR || o->role == CTNG_ROLE_GOSSIPER
	                       ? CTNG_SIG_ED25519
	                       : CTNG_SIG_ECDSA_P256;
	if (!d || !c) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ctng_sig_generate(alg, &key, err)) ||
	    (rc = ctng_sig_public_hex(key, &pub, err)) ||
	    (rc = ctng_sig_private_pem(key, &pem, &pem_len, err)))
		goto out;
	if (o->role == CTNG_ROLE_CA &&
	    (rc = cfg_make_root(o->id, key, o->now_ms ? o->now_ms : ctng_now_ms(), &root, err)))
		goto out;
	if (o->role == CTNG_ROLE_LOGGER) {
		/* the Ed25519 note key of its checkpoints, named by the url's origin */
		const char *origin = strstr(o->url, "://");
		if ((rc = ctng_sig_generate(CTNG_SIG_ED25519, &note, err)) ||
		    (rc = ctng_note_vkey(origin ? origin + 3 : o->url, note, &vkey, err)) ||
		    (rc = ctng_sig_private_pem(note, &note_pem, &note_pem_len, err)))
			goto out;
	}
	if (o->role == CTNG_ROLE_GOSSIPER) {
		if ((rc = ctng_seal_keygen(xsk, xpk, err)))
			goto out;
		dkg_pub = ctng_hex_strdup(xpk, sizeof xpk);
		dkg_priv = ctng_hex_strdup(xsk, sizeof xsk);
		if (!dkg_pub || !dkg_priv) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* the public descriptor: a network.json entity without share keys */
	json_object_set_new(d, "id", json_string(o->id));
	json_object_set_new(d, "role", json_string(ctng_role_name(o->role)));
	json_object_set_new(d, "url", json_string(o->url));
	json_object_set_new(d, "public_key", json_string(pub));
	if (root)
		json_object_set_new(d, "root_cert", json_string(root));
	if (vkey)
		json_object_set_new(d, "note_key", json_string(vkey));
	if (dkg_pub)
		json_object_set_new(d, "dkg_key", json_string(dkg_pub));
	if (o->n_loggers)
		json_object_set_new(d, "loggers", str_array(o->loggers, o->n_loggers));
	if (o->n_cas)
		json_object_set_new(d, "cas", str_array(o->cas, o->n_cas));
	if (o->gossiper)
		json_object_set_new(d, "gossiper", json_string(o->gossiper));
	if (o->monitor)
		json_object_set_new(d, "monitor", json_string(o->monitor));
	if (o->n_peers)
		json_object_set_new(d, "peers", str_array(o->peers, o->n_peers));
	/* the private configuration */
	json_object_set_new(c, "id", json_string(o->id));
	json_object_set_new(c, "network", json_string(o->network ? o->network : "network.json"));
	json_object_set_new(c, "data_dir", json_string("."));
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "private_key", json_string(pem));
	if (dkg_priv)
		json_object_set_new(c, "dkg_private_key", json_string(dkg_priv));
	if (note_pem)
		json_object_set_new(c, "note_private_key", json_string(note_pem));
	bool tls;
	cfg_url_scheme(o->url, &tls);
	if (tls) /* where the operator puts the node's certificate chain and key */
		json_object_set_new(c, "tls", json_pack("{s:s,s:s}", "cert", "tls/cert.pem", "key",
		                                        "tls/key.pem"));

	if (root) {
		snprintf(path, sizeof path, "%s/root.pem", dir);
		if ((rc = ctng_write_file_atomic(path, root, strlen(root), 0644, err)))
			goto out;
	}
	snprintf(path, sizeof path, "%s/%s.entity.json", dir, o->id);
	if ((rc = cfg_write_json(path, d, 0644, err)))
		goto out;
	snprintf(path, sizeof path, "%s/config.json", dir);
	rc = cfg_write_json(path, c, 0600, err);
out:
	ctng_sig_key_free(key);
	ctng_sig_key_free(note);
	free(vkey);
	if (note_pem)
		ctng_wipe(note_pem, note_pem_len);
	free(note_pem);
	free(pub);
	if (pem)
		ctng_wipe(pem, pem_len);
	free(pem);
	if (dkg_priv)
		ctng_wipe(dkg_priv, strlen(dkg_priv));
	free(dkg_priv);
	free(dkg_pub);
	free(root);
	ctng_wipe(xsk, sizeof xsk);
	json_decref(d);
	if (c) {
		/* wipe the private strings before jansson frees them */
		const char *k;
		json_t *v;
		json_object_foreach(c, k, v)
		{
			if (json_is_string(v))
				ctng_wipe((char *)json_string_value(v), json_string_length(v));
		}
	}
	json_decref(c);
	return rc;
}
