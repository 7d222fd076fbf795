/*
 * init_tls.c — the TLS half of `ctng init --tls`: a test CA for the node
 * certificates (DIR/tls/ca.pem, and its key DIR/tls/ca-key.pem, 0600, kept
 * so an operator of the test network can issue a replacement) and, per
 * node, a certificate chain naming its host (DIR/<id>/tls/cert.pem: leaf
 * then CA) with its key (key.pem, 0600); every config.json gets "tls" with
 * those paths and the CA bundle (docs/config.md). Certificates come from
 * the test PKI of src/net (ctng_net_tls_make_ca/_cert).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "ctng/net.h"

#define VALID_DAYS 825 /* what browsers accept for a server certificate */

int cfg_init_tls_ca(const char *dir, uint64_t now_ms, char **ca_pem, char **ca_key, ctng_err *err)
{
	char path[4096];
	int64_t now = (int64_t)(now_ms / 1000);
	snprintf(path, sizeof path, "%s/tls", dir);
	int rc = ctng_mkdir_p(path, 0755, err);
	if (rc || (rc = ctng_net_tls_make_ca("CTng test network TLS CA", now - 3600,
	                                     now + 10 * 365 * 86400LL, ca_pem, ca_key, err)))
		return rc;
	snprintf(path, sizeof path, "%s/tls/ca.pem", dir);
	if (!(rc = ctng_write_file_atomic(path, *ca_pem, strlen(*ca_pem), 0644, err))) {
		snprintf(path, sizeof path, "%s/tls/ca-key.pem", dir);
		rc = ctng_write_file_atomic(path, *ca_key, strlen(*ca_key), 0600, err);
	}
	return rc;
}

int cfg_init_tls_node(const char *dir, const char *id, const char *host, const char *ca_pem,
                      const char *ca_key, uint64_t now_ms, ctng_err *err)
{
	char path[4096];
	int64_t now = (int64_t)(now_ms / 1000);
	const char *names[3] = {host, NULL, NULL};
	size_t n = 1;
	if (!strcmp(host, "127.0.0.1"))
		names[n++] = "localhost";
	else if (!strcmp(host, "localhost"))
		names[n++] = "127.0.0.1";
	ctng_net_tls_cert_opts o = {.cn = id,
	                            .names = names,
	                            .n_names = n,
	                            .not_before = now - 3600,
	                            .not_after = now + VALID_DAYS * 86400LL};
	char *cert = NULL, *key = NULL;
	int rc = ctng_net_tls_make_cert(ca_pem, ca_key, &o, &cert, &key, err);
	if (rc)
		return rc;
	ctng_buf chain = {0};
	snprintf(path, sizeof path, "%s/%s/tls", dir, id);
	if (!(rc = ctng_mkdir_p(path, 0700, err)) &&
	    !(rc = ctng_buf_printf(&chain, "%s%s", cert, ca_pem) ? CTNG_ENOMEM : 0)) {
		snprintf(path, sizeof path, "%s/%s/tls/cert.pem", dir, id);
		rc = ctng_write_file_atomic(path, chain.data, chain.len, 0644, err);
	}
	if (!rc) {
		snprintf(path, sizeof path, "%s/%s/tls/key.pem", dir, id);
		rc = ctng_write_file_atomic(path, key, strlen(key), 0600, err);
	}
	if (!rc)
		rc = cfg_config_set(dir, id, "tls",
		                    json_pack("{s:s,s:s,s:s}", "cert", "tls/cert.pem", "key",
		                              "tls/key.pem", "ca", "../tls/ca.pem"),
		                    err);
	ctng_buf_free(&chain);
	free(cert);
	ctng_wipe(key, strlen(key));
	free(key);
	return rc;
}
