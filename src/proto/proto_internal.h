/* proto_internal.h — helpers shared by the files of the proto module (not public). */
#ifndef CTNG_PROTO_INTERNAL_H
#define CTNG_PROTO_INTERNAL_H

#include "ctng/proto.h"

/* SHA-256 of data; returns 0 or CTNG_ENOMEM. */
int proto_sha256(const void *data, size_t len, uint8_t out[32], ctng_err *err);
/* True if s is exactly 2*n lower-case hex digits. */
bool proto_is_lower_hex(const char *s, size_t n);

#endif
