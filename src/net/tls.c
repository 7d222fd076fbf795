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
#include <time.h>

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

/* ------------------------------------------------- session resumption */

/* A resumed handshake skips the certificate: a session is only offered to
 * the peer (scheme://host:port) it was made with and under the context
 * (CA bundle) that verified that peer's certificate, and every kept session
 * is dropped when the loop's trust is reloaded (SIGHUP). */

#define MAX_SESSIONS 256 /* per loop; beyond, the oldest goes */

static int ssl_loop_idx = -1;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

struct ssl_mark { /* what a client SSL carries: its loop and peer */
	ctng_net_loop *loop;
	char key[CTNG_NET_PEER_KEY];
};

static void mark_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void make_mark_idx(void)
{
	ssl_loop_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, mark_free);
}

static void session_entry_free(struct tls_session *t)
{
	SSL_SESSION_free(t->sess);
	SSL_CTX_free(t->ctx);
	free(t);
}

static struct tls_session **session_find(ctng_net_loop *loop, const char *key, const SSL_CTX *ctx)
{
	struct tls_session **pp = &loop->sessions;
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->ctx == ctx && !strcmp((*pp)->key, key))
			break;
	return pp;
}

/* OpenSSL: a server gave a session (after the handshake, TLS 1.3 tickets
 * as they arrive). The loop keeps a copy (returns 0: not this reference). */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	pthread_once(&idx_once, make_mark_idx); /* ordered read of ssl_loop_idx */
	struct ssl_mark *m = ssl_loop_idx >= 0 ? SSL_get_ex_data(ssl, ssl_loop_idx) : NULL;
	if (!m || m->loop->no_resumption || !SSL_SESSION_is_resumable(sess))
		return 0;
	ctng_net_loop *loop = m->loop;
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	/* a copy: SSL_free() without a close_notify marks the connection's own
	 * session object not resumable */
	SSL_SESSION *copy = SSL_SESSION_dup(sess);
	if (!copy)
		return 0;
	struct tls_session **pp = session_find(loop, m->key, ctx);
	if (*pp) { /* the newest ticket replaces the one kept */
		SSL_SESSION_free((*pp)->sess);
		(*pp)->sess = copy;
		return 0;
	}
	struct tls_session *t = calloc(1, sizeof *t);
	if (!t || !SSL_CTX_up_ref(ctx)) {
		free(t);
		SSL_SESSION_free(copy);
		return 0;
	}
	snprintf(t->key, sizeof t->key, "%s", m->key);
	t->ctx = ctx;
	t->sess = copy;
	if (loop->n_sessions >= MAX_SESSIONS) {
		struct tls_session **last = &loop->sessions;
		while ((*last)->next)
			last = &(*last)->next;
		session_entry_free(*last);
		*last = NULL;
		loop->n_sessions--;
	}
	t->next = loop->sessions;
	loop->sessions = t;
	loop->n_sessions++;
	return 0;
}

void ctng_net_tls_session_prepare_(ctng_net_loop *loop, SSL *ssl, const char *key)
{
	pthread_once(&idx_once, make_mark_idx);
	if (ssl_loop_idx < 0 || loop->no_resumption)
		return;
	struct ssl_mark *m = calloc(1, sizeof *m);
	if (!m)
		return;
	m->loop = loop;
	snprintf(m->key, sizeof m->key, "%s", key);
	if (!SSL_set_ex_data(ssl, ssl_loop_idx, m)) {
		free(m);
		return;
	}
	struct tls_session **pp = session_find(loop, key, SSL_get_SSL_CTX(ssl));
	struct tls_session *t = *pp;
	if (t && (uint64_t)time(NULL) >= (uint64_t)SSL_SESSION_get_time(t->sess) +
	                                     (uint64_t)SSL_SESSION_get_timeout(t->sess)) {
		*pp = t->next; /* past its lifetime: a full handshake, the peer verified again */
		session_entry_free(t);
		loop->n_sessions--;
		t = NULL;
	}
	if (!t)
		return;
	/* the connection gets its own copy, which OpenSSL may mark spent */
	SSL_SESSION *copy = SSL_SESSION_dup(t->sess);
	if (copy) {
		SSL_set_session(ssl, copy);
		SSL_SESSION_free(copy);
	}
}

void ctng_net_tls_sessions_free_(ctng_net_loop *loop)
{
	while (loop->sessions) {
		struct tls_session *t = loop->sessions;
		loop->sessions = t->next;
		session_entry_free(t);
	}
	loop->n_sessions = 0;
}

void ctng_net_loop_set_tls_resumption(ctng_net_loop *loop, bool on)
{
	loop->no_resumption = !on;
	if (!on)
		ctng_net_tls_sessions_free_(loop);
}

uint64_t ctng_net_loop_tls_resumed(const ctng_net_loop *loop)
{
	return loop->tls_resumed;
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
	/* Sessions the servers give (TLS 1.3 tickets) are kept by the loop of
	 * the connection, not in OpenSSL's cache (new_session). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
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
	ctng_net_tls_sessions_free_(loop);
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
	ctng_net_tls_sessions_free_(loop); /* a resumed session would skip the new trust */
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
