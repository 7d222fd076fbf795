/*
 * tls.c — TLS contexts of src/net (OpenSSL 3): a server's context from a
 * certificate chain and key file, the client context that verifies peers
 * against a CA bundle or the system roots, TLS 1.2 as the floor, reloading
 * both from their files (SIGHUP), the process-wide default CA bundle, and
 * one-line reasons for failed handshakes. The bufferevents that use these
 * contexts are made in conn.c (server) and client.c.
 */
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

static pthread_mutex_t default_mu = PTHREAD_MUTEX_INITIALIZER;
static char *default_ca;

int ctng_net_set_default_tls_ca(const char *ca_file, ctng_err *err)
{
	char *copy = NULL;
	if (ca_file && !(copy = strdup(ca_file)))
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	pthread_mutex_lock(&default_mu);
	free(default_ca);
	default_ca = copy;
	pthread_mutex_unlock(&default_mu);
	return 0;
}

/* The default CA bundle (malloc'd copy) or NULL for the system roots. */
static char *default_ca_copy(void)
{
	pthread_mutex_lock(&default_mu);
	char *c = default_ca ? strdup(default_ca) : NULL;
	pthread_mutex_unlock(&default_mu);
	return c;
}

/* The first queued OpenSSL error as text ("" if none), queue cleared. */
static void ssl_reason(char *out, size_t cap)
{
	unsigned long e = ERR_get_error();
	if (!e) {
		snprintf(out, cap, "unknown error");
		return;
	}
	const char *r = ERR_reason_error_string(e);
	snprintf(out, cap, "%s", r ? r : "unknown error");
	ERR_clear_error();
}

SSL_CTX *ctng_net_tls_server_ctx_(const char *cert_file, const char *key_file, ctng_err *err)
{
	char why[200];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		ssl_reason(why, sizeof why);
		ctng_err_set(err, CTNG_ENOMEM, "net: TLS context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_reason(why, sizeof why);
		ctng_err_set(err, CTNG_EINVAL, "net: TLS certificate chain %s: %s", cert_file, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_reason(why, sizeof why);
		ctng_err_set(err, CTNG_EINVAL, "net: TLS key %s: %s", key_file, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		ctng_err_set(err, CTNG_EINVAL, "net: TLS key %s does not match the certificate %s",
		             key_file, cert_file);
		goto fail;
	}
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	if (leaf && X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
		CTNG_WARN("net: TLS certificate has expired; peers will refuse it", "cert=%s",
		          cert_file);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *ctng_net_tls_client_ctx_(const char *ca_file, ctng_err *err)
{
	char why[200];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_reason(why, sizeof why);
		ctng_err_set(err, CTNG_ENOMEM, "net: TLS context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
	                 : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ssl_reason(why, sizeof why);
		ctng_err_set(err, CTNG_EINVAL, "net: TLS CA bundle %s: %s",
		             ca_file ? ca_file : "(system roots)", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int ctng_net_loop_set_tls_ca(ctng_net_loop *loop, const char *ca_file, ctng_err *err)
{
	SSL_CTX *ctx = ctng_net_tls_client_ctx_(ca_file, err);
	if (!ctx)
		return err ? err->code : CTNG_EINVAL;
	char *copy = NULL;
	if (ca_file && !(copy = strdup(ca_file))) {
		SSL_CTX_free(ctx);
		return ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
	}
	SSL_CTX_free(loop->tls_client); /* connections made with it keep their reference */
	free(loop->tls_ca);
	loop->tls_client = ctx;
	loop->tls_ca = copy;
	loop->tls_ca_set = true;
	return 0;
}

SSL_CTX *ctng_net_loop_tls_client_(ctng_net_loop *loop, ctng_err *err)
{
	if (loop->tls_client)
		return loop->tls_client;
	char *ca = default_ca_copy();
	loop->tls_client = ctng_net_tls_client_ctx_(ca, err);
	free(ca);
	return loop->tls_client;
}

const char ctng_net_tls_system_roots[] = "(system roots)";

#define MAX_BUNDLES 16 /* per loop; beyond, the oldest is dropped (its connections keep it) */

SSL_CTX *ctng_net_loop_tls_for_(ctng_net_loop *loop, const char *tls_ca, ctng_err *err)
{
	if (!tls_ca)
		return ctng_net_loop_tls_client_(loop, err);
	const char *path = tls_ca == CTNG_NET_TLS_SYSTEM_ROOTS ? NULL : tls_ca;
	struct tls_bundle **pp = &loop->bundles;
	for (; *pp; pp = &(*pp)->next)
		if (path ? (*pp)->path && !strcmp((*pp)->path, path) : !(*pp)->path)
			return (*pp)->ctx;
	struct tls_bundle *b = calloc(1, sizeof *b);
	if (!b || (path && !(b->path = strdup(path)))) {
		free(b);
		ctng_err_set(err, CTNG_ENOMEM, "net: out of memory");
		return NULL;
	}
	if (!(b->ctx = ctng_net_tls_client_ctx_(path, err))) {
		free(b->path);
		free(b);
		return NULL;
	}
	if (loop->n_bundles >= MAX_BUNDLES) { /* drop the last (oldest) one */
		struct tls_bundle **last = &loop->bundles;
		while ((*last)->next)
			last = &(*last)->next;
		SSL_CTX_free((*last)->ctx);
		free((*last)->path);
		free(*last);
		*last = NULL;
		loop->n_bundles--;
	}
	b->next = loop->bundles; /* newest first */
	loop->bundles = b;
	loop->n_bundles++;
	return b->ctx;
}

void ctng_net_tls_bundles_free_(ctng_net_loop *loop)
{
	while (loop->bundles) {
		struct tls_bundle *b = loop->bundles;
		loop->bundles = b->next;
		SSL_CTX_free(b->ctx);
		free(b->path);
		free(b);
	}
	loop->n_bundles = 0;
}

/* A client context made again from its bundle (NULL: the system roots). */
static void reload_client(SSL_CTX **slot, const char *ca)
{
	ctng_err e = {0};
	SSL_CTX *ctx = ctng_net_tls_client_ctx_(ca, &e);
	if (!ctx) {
		CTNG_ERROR("net: TLS CA reload failed, keeping the old bundle", "error=\"%s\"",
		           e.msg);
		return;
	}
	SSL_CTX_free(*slot);
	*slot = ctx;
}

/* SIGHUP: new contexts from the same files; a failure keeps the old ones. */
void ctng_net_tls_reload_(ctng_net_loop *loop)
{
	for (struct ctng_net_server *s = loop->servers; s; s = s->next_on_loop) {
		if (!s->tls_cert)
			continue;
		ctng_err e = {0};
		SSL_CTX *ctx = ctng_net_tls_server_ctx_(s->tls_cert, s->tls_key, &e);
		if (!ctx) {
			CTNG_ERROR("net: TLS reload failed, keeping the old certificate",
			           "error=\"%s\"", e.msg);
			continue;
		}
		SSL_CTX_free(s->tls);
		s->tls = ctx;
		CTNG_INFO("net: TLS certificate reloaded", "cert=%s", s->tls_cert);
	}
	if (loop->tls_ca_set || loop->tls_client) {
		char *ca = loop->tls_ca_set ? (loop->tls_ca ? strdup(loop->tls_ca) : NULL)
		                            : default_ca_copy();
		reload_client(&loop->tls_client, ca);
		free(ca);
	}
	for (struct tls_bundle *b = loop->bundles; b; b = b->next)
		reload_client(&b->ctx, b->path);
}

bool ctng_net_tls_failure_(struct bufferevent *bev, int sock_err, char *out, size_t cap)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	/* libevent queues OpenSSL error codes, or the SSL_get_error() value
	 * (SSL_ERROR_SYSCALL...) when OpenSSL's queue was empty */
	const char *reason = NULL;
	for (unsigned long e; (e = bufferevent_get_openssl_error(bev));)
		if (!reason && ERR_GET_LIB(e))
			reason = ERR_reason_error_string(e);
	ERR_clear_error();
	if (v != X509_V_OK) {
		snprintf(out, cap, "certificate verify failed: %s",
		         X509_verify_cert_error_string(v));
		return true;
	}
	if (reason) {
		snprintf(out, cap, "%s", reason);
		return true;
	}
	if (sock_err && sock_err != EAGAIN) {
		snprintf(out, cap, "%s", strerror(sock_err));
		return false;
	}
	snprintf(out, cap, "connection closed during the handshake");
	return true;
}
