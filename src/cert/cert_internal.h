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

#endif
