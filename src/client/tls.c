/*
 * tls.c — `ctng client tls`: a real TLS handshake with OpenSSL in which the
 * server certificate must pass the CTng validation of the client state; the
 * check runs in the verify callback, so a revoked or unlogged certificate
 * makes the handshake fail (include/ctng/client.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client/client_internal.h"

typedef struct tls_ctx {
	ctng_client *c;
	ctng_client_result *res;
	bool decided;
	int internal_rc;
	ctng_err *err;
} tls_ctx;

static int app_idx = -1;
static pthread_once_t app_once = PTHREAD_ONCE_INIT;

static void app_idx_init(void)
{
	app_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	tls_ctx *t = ssl ? SSL_get_ex_data(ssl, app_idx) : NULL;
	if (!t)
		return 0;
	if (!ok) {
		if (!t->decided) {
			t->decided = true;
			t->res->reason = CTNG_CLIENT_CHAIN;
			snprintf(t->res->message, sizeof(t->res->message),
			         "TLS certificate check failed at depth %d: %s",
			         X509_STORE_CTX_get_error_depth(x),
			         X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
		}
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(x) != 0)
		return 1;
	X509 *leaf = X509_STORE_CTX_get_current_cert(x);
	STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(x);
	int rc = ctng_client_validate_x509(t->c, leaf, untrusted, ctng_now_ms(), t->res, t->err);
	if (rc) {
		t->internal_rc = rc;
		return 0;
	}
	t->decided = true;
	if (t->res->reason != CTNG_CLIENT_OK) {
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static int tcp_connect(const char *addr, uint16_t port, uint64_t timeout_ms, ctng_err *err)
{
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", port);
	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	int g = getaddrinfo(addr, ps, &hints, &ai);
	if (g)
		return ctng_err_set(err, CTNG_EIO, "tls: cannot resolve %s: %s", addr,
		                    gai_strerror(g));
	int fd = -1, last_errno = 0;
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			last_errno = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return ctng_err_set(
		    err,
		    last_errno == EINPROGRESS || last_errno == EAGAIN ? CTNG_ETIMEOUT : CTNG_EIO,
		    "tls: cannot connect to %s:%u: %s", addr, port, strerror(last_errno));
	return fd;
}

static bool is_ip_literal(const char *h)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

int ctng_client_tls_check(ctng_client *c, const char *host, const char *connect_addr, uint16_t port,
                          uint64_t timeout_ms, ctng_client_result *res, ctng_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!c || !host || !*host || !port)
		return ctng_err_set(err, CTNG_EINVAL, "tls: host and port required");
	if (!timeout_ms)
		timeout_ms = 10000;
	pthread_once(&app_once, app_idx_init);
	if (app_idx < 0)
		return ctng_err_set(err, CTNG_ENOMEM, "tls: no ex_data index");
	int fd = tcp_connect(connect_addr ? connect_addr : host, port, timeout_ms, err);
	if (fd < 0)
		return fd;
	int rc = 0;
	SSL *ssl = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	tls_ctx t = {c, res, false, 0, err};
	if (!ctx || X509_STORE_up_ref(c->trust) != 1) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "tls: SSL_CTX_new failed");
		goto out;
	}
	SSL_CTX_set_cert_store(ctx, c->trust); /* takes the reference */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	if (!(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_ex_data(ssl, app_idx, &t) != 1) {
		rc = ctng_err_set(err, CTNG_ENOMEM, "tls: SSL_new failed");
		goto out;
	}
	if (is_ip_literal(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) {
			rc = ctng_err_set(err, CTNG_EINVAL, "tls: bad IP %s", host);
			goto out;
		}
	} else if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1) {
		rc = ctng_err_set(err, CTNG_EINVAL, "tls: bad host name %s", host);
		goto out;
	}
	ERR_clear_error();
	int r = SSL_connect(ssl);
	if (t.internal_rc) {
		rc = t.internal_rc;
		goto out;
	}
	if (r == 1) {
		if (!t.decided || res->reason != CTNG_CLIENT_OK ||
		    SSL_get_verify_result(ssl) != X509_V_OK) {
			rc =
			    ctng_err_set(err, CTNG_EIO, "tls: handshake completed without a check");
			goto out;
		}
		SSL_shutdown(ssl);
		goto out;
	}
	if (t.decided)
		goto out; /* refused by the verify callback: res says why */
	unsigned long e = ERR_peek_last_error();
	char buf[200] = "connection closed";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	int se = SSL_get_error(ssl, r);
	rc = ctng_err_set(err,
	                  (se == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
	                      ? CTNG_ETIMEOUT
	                      : CTNG_EIO,
	                  "tls: handshake with %s:%u failed: %s", host, port, buf);
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}
