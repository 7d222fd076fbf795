/*
 * ctng/base.h — the foundation every module stands on: error values with a
 * message, growable byte buffers, strict hex/base64, leveled key=value
 * logging, and the period clock of DESIGN §2.
 *
 * Conventions used across libctng:
 *  - Functions that can fail return 0 on success and a negative CTNG_E* code
 *    on failure, and fill an optional `ctng_err *` (may be NULL) with a
 *    one-line human message. They never exit() or abort().
 *  - Pointers passed in are borrowed unless the header says "takes ownership";
 *    pointers returned are owned by the caller unless it says "borrowed".
 */
#ifndef CTNG_BASE_H
#define CTNG_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- errors */

enum {
	CTNG_OK = 0,
	CTNG_EINVAL = -1,    /* malformed input (maps to exit 2 / HTTP 400)   */
	CTNG_EVERIFY = -2,   /* well-formed but fails verification (exit 1)   */
	CTNG_ENOTFOUND = -3, /* no such object (HTTP 404)                     */
	CTNG_ECONFLICT = -4, /* contradicts something already stored          */
	CTNG_EIO = -5,       /* file, database or network failure             */
	CTNG_ENOMEM = -6,    /* allocation failed                             */
	CTNG_ERANGE = -7,    /* a number or size out of the accepted range    */
	CTNG_ETIMEOUT = -8,  /* a peer did not answer in time                 */
	CTNG_ESTATE = -9,    /* call not valid in the object's current state  */
};

typedef struct ctng_err {
	int code;      /* one of CTNG_E*, 0 when no error was recorded */
	char msg[256]; /* NUL-terminated, one line                     */
} ctng_err;

/* Records `code` and a printf-style message into err (if non-NULL) and
 * returns `code`, so callers can write `return ctng_err_set(err, ...)`. */
int ctng_err_set(ctng_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with "prefix: " (keeps the code). Returns code. */
int ctng_err_wrap(ctng_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Short constant name of a code ("EINVAL", ...). */
const char *ctng_err_name(int code);

/* --------------------------------------------------------------- buffers */

/* A growable byte buffer. Zero-initialise ({0}) before first use; free with
 * ctng_buf_free. `data` is always NUL-terminated past `len` once non-empty
 * allocation exists, so text can be built in it. */
typedef struct ctng_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} ctng_buf;

int ctng_buf_reserve(ctng_buf *b, size_t extra);
int ctng_buf_append(ctng_buf *b, const void *p, size_t n);
int ctng_buf_append_u8(ctng_buf *b, uint8_t v);
int ctng_buf_append_u16be(ctng_buf *b, uint16_t v);
int ctng_buf_append_u24be(ctng_buf *b, uint32_t v);
int ctng_buf_append_u32be(ctng_buf *b, uint32_t v);
int ctng_buf_append_u64be(ctng_buf *b, uint64_t v);
/* Appends a 4-byte big-endian length then the bytes (canonical encodings). */
int ctng_buf_append_lp32(ctng_buf *b, const void *p, size_t n);
int ctng_buf_printf(ctng_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctng_buf_reset(ctng_buf *b); /* len = 0, keeps memory */
void ctng_buf_free(ctng_buf *b);
/* Hands the bytes to the caller (who frees them with free()); b becomes empty. */
uint8_t *ctng_buf_detach(ctng_buf *b, size_t *len);

/* ---------------------------------------------------------- hex / base64 */

/* The value of one hex digit: 0-15 for '0'-'9', 'a'-'f' or 'A'-'F', -1 for
 * any other character (including NUL). The one hex-digit parser of the
 * project; every hex or percent-encoding decoder uses it. */
int ctng_hex_digit(char c);
/* Lower-case hex. out must hold 2*n+1 bytes; result is NUL-terminated. */
void ctng_hex_encode(char *out, const uint8_t *in, size_t n);
/* Strict decode of exactly `out_len` bytes from a string of exactly
 * 2*out_len hex digits (either case accepted on input). */
int ctng_hex_decode_exact(uint8_t *out, size_t out_len, const char *hex, ctng_err *err);
/* Decodes any even-length hex string into a fresh buffer (caller frees). */
int ctng_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len, ctng_err *err);
/* Returns a malloc'd lower-case hex string (caller frees), NULL on ENOMEM. */
char *ctng_hex_strdup(const uint8_t *in, size_t n);

/* Standard base64 (RFC 4648 §4) with padding. Decoding is strict: no
 * whitespace, correct padding only, non-zero trailing bits rejected. */
size_t ctng_b64_encoded_len(size_t n);                        /* excluding the NUL */
void ctng_b64_encode(char *out, const uint8_t *in, size_t n); /* NUL-terminated */
char *ctng_b64_strdup(const uint8_t *in, size_t n);
int ctng_b64_decode_alloc(const char *s, size_t slen, uint8_t **out, size_t *out_len,
                          ctng_err *err);
/* Decodes into a fixed-size output: fails unless it decodes to exactly out_len bytes. */
int ctng_b64_decode_exact(uint8_t *out, size_t out_len, const char *s, ctng_err *err);
/* base64url without padding (C2SP tile paths, notes use standard). */
char *ctng_b64url_strdup(const uint8_t *in, size_t n);

/* --------------------------------------------------------------- logging */

typedef enum {
	CTNG_LOG_DEBUG,
	CTNG_LOG_INFO,
	CTNG_LOG_WARN,
	CTNG_LOG_ERROR,
	CTNG_LOG_OFF
} ctng_log_level;

/* Process-wide settings; call before starting threads. Default: INFO to stderr. */
void ctng_log_set_level(ctng_log_level lvl);
ctng_log_level ctng_log_get_level(void);
/* Parses "debug|info|warn|error|off"; returns -1 if unknown. */
int ctng_log_parse_level(const char *s);
/* Name printed as `node=` on every line (e.g. "gossiper1"); copied. */
void ctng_log_set_node(const char *node);

/* One line: `ts=... level=info node=gossiper1 msg="..." k=v k=v`.
 * `fields` is a printf format for the key=value part (may be NULL). Thread-safe. */
void ctng_log(ctng_log_level lvl, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));
#define CTNG_DEBUG(msg, ...) ctng_log(CTNG_LOG_DEBUG, msg, __VA_ARGS__)
#define CTNG_INFO(msg, ...)  ctng_log(CTNG_LOG_INFO, msg, __VA_ARGS__)
#define CTNG_WARN(msg, ...)  ctng_log(CTNG_LOG_WARN, msg, __VA_ARGS__)
#define CTNG_ERROR(msg, ...) ctng_log(CTNG_LOG_ERROR, msg, __VA_ARGS__)

/* ------------------------------------------------------ time and periods */

/* Wall clock, Unix milliseconds. */
uint64_t ctng_now_ms(void);
/* Monotonic clock, milliseconds (for timeouts and benchmarks). */
uint64_t ctng_mono_ms(void);
uint64_t ctng_mono_ns(void);

/* RFC 3339 UTC with second precision: "2022-11-22T03:34:02Z" (21 bytes incl NUL). */
#define CTNG_RFC3339_LEN 21
void ctng_rfc3339(char out[CTNG_RFC3339_LEN], uint64_t unix_ms);
/* Strict parse of exactly that form (optionally with .fff fraction) to ms. */
int ctng_rfc3339_parse(const char *s, uint64_t *unix_ms, ctng_err *err);

/* The period clock of DESIGN §2. All offsets are milliseconds into a period. */
typedef struct ctng_clock {
	uint64_t genesis_ms;
	uint64_t period_ms;        /* > 0 */
	uint64_t query_offset_ms;  /* monitors pull at period start + this */
	uint64_t gossip_wait_ms;   /* gossipers wait this after first seeing an id */
	uint64_t update_offset_ms; /* monitors publish the client update */
} ctng_clock;

/* Validates the clock: period_ms > 0, offsets ordered and < period_ms. */
int ctng_clock_check(const ctng_clock *c, ctng_err *err);
/* Period containing now_ms. Returns false (and leaves *p) when now < genesis. */
bool ctng_clock_period_of(const ctng_clock *c, uint64_t now_ms, uint64_t *p);
/* Unix ms at which period p starts; saturates at UINT64_MAX instead of wrapping. */
uint64_t ctng_clock_period_start(const ctng_clock *c, uint64_t p);
/* Milliseconds from now until period p+1 starts (0 if already past). */
uint64_t ctng_clock_ms_until_next(const ctng_clock *c, uint64_t now_ms);
/* True if an object of `obj_period` is acceptable while the clock says `cur`
 * (periods cur-1, cur, cur+1). */
bool ctng_clock_period_acceptable(uint64_t cur, uint64_t obj_period);
/* The query window of a period (docs/monitor.md §5, docs/gossiper.md §Skew):
 * monitors pull period p's STHs and REVs from start(p) + query_offset until
 * the query deadline start(p) + query_offset + window, retrying failures;
 * only then may they accuse, and only then may a gossiper sign an ACC_FRAG.
 * window = (update_offset - query_offset - gossip_wait) / 2, or
 * gossip_wait / 2 when that is not positive; at least 50 ms. With ctng
 * init's default offsets (P/10, P/5, 8P/10) it is P/4. */
uint64_t ctng_clock_query_window_ms(const ctng_clock *c);
/* start(p) + query_offset + window (saturating). */
uint64_t ctng_clock_query_deadline(const ctng_clock *c, uint64_t p);
/* The clock skew every node may have without changing any count: half the
 * query window (P/8 with the default offsets: 250 ms at 2 s periods, 7.5 s
 * at 60 s). A node off by more only harms itself (docs/gossiper.md §Skew). */
uint64_t ctng_clock_skew_ms(const ctng_clock *c);
/* Parses a period written as a decimal string (no sign, no leading zeros
 * except "0", at most 19 digits). */
int ctng_parse_period(const char *s, uint64_t *p, ctng_err *err);
/* Parses a decimal uint64 with the same strictness; max bounds the value. */
int ctng_parse_u64(const char *s, uint64_t max, uint64_t *v, ctng_err *err);

/* ------------------------------------------------------------------ misc */

/* Zeroes secrets in a way the compiler may not elide. */
void ctng_wipe(void *p, size_t n);
/* Constant-time comparison; returns 0 when equal. */
int ctng_ct_memcmp(const void *a, const void *b, size_t n);
/* Reads a whole file (at most max bytes) into a fresh NUL-terminated buffer. */
int ctng_read_file(const char *path, size_t max, uint8_t **out, size_t *len, ctng_err *err);
/* Writes atomically: temp file in the same folder, fsync, rename. */
int ctng_write_file_atomic(const char *path, const void *data, size_t len, int mode, ctng_err *err);
/* mkdir -p with the given mode. */
int ctng_mkdir_p(const char *path, int mode, ctng_err *err);
/* Cryptographically secure random bytes (OpenSSL RAND_bytes underneath). */
int ctng_random(void *out, size_t n);
/* Replaces the source of ctng_random (NULL: the kernel's getrandom). Only
 * `ctng sim` does this, to make its runs reproducible (docs/sim.md
 * §Determinism); call before other threads start. */
void ctng_random_set_source(int (*fn)(void *out, size_t n));

/* --------------------------------------------------------------- version */

/* The release version, "MAJOR.MINOR.PATCH" (CMake's project version). */
const char *ctng_version(void);
/* The git commit the library was built from (12 hex digits, "-dirty" with
 * uncommitted changes), or "unknown" when built outside a git checkout. */
const char *ctng_build_commit(void);

#endif
