/* cert_internal.h — helpers shared by the files of the cert module (not public). */
#ifndef CTNG_CERT_INTERNAL_H
#define CTNG_CERT_INTERNAL_H

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ctng/cert.h"

/* SHA-256 of data. */
int cert_sha256(const void *data, size_t len, uint8_t out[32], ctng_err *err);
/* Index of the single extension with this OID: 0 and *loc, CTNG_ENOTFOUND if
 * absent (*loc -1), CTNG_EINVAL if it occurs twice. */
int cert_find_ext(const X509 *c, const char *oid, int *loc, ctng_err *err);

/* v's TBS without the extension whose whole TLV is `cut` (a span inside
 * v->exts), re-encoded as OpenSSL would after X509_delete_ext: *der
 * malloc'd (view.c). */
int cert_view_cut_ext(const ctng_cert_view *v, ctng_der_span cut, uint8_t **der, size_t *len,
                      ctng_err *err);
/* One TLV from the front of *p (*n bytes): definite minimal DER length
 * within the buffer (view.c's rules). Advances *p / *n past it; *val gets
 * the contents. CTNG_EINVAL when malformed. */
int cert_der_next(const uint8_t **p, size_t *n, uint8_t *tag, ctng_der_span *val, ctng_err *err);

#endif
