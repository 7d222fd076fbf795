/*
 * ctng/client.h — the CTng relying party (DESIGN §1, §7): a small C library
 * that keeps a client state (one SQLite file), applies the per-period client
 * updates served by any monitor (docs/client-update.md), and validates
 * certificates OFFLINE: no function of this header except
 * ctng_client_sync talks to the network.
 *
 * Typical use:
 *
 *   ctng_client *c;
 *   ctng_client_open("state.db", net_json, net_len, &c, &err);   // first time
 *   ctng_client_sync(c, "http://127.0.0.1:9200", ctng_now_ms(), 0, &st, &err);
 *   ctng_client_result r;
 *   ctng_client_validate_pem(c, pem, pem_len, ctng_now_ms(), &r, &err);
 *   if (r.reason == CTNG_CLIENT_OK) ...  else puts(r.message);
 *   ctng_client_close(c);
 *
 * What the state holds (docs/client.md has the schema): the network.json it
 * trusts (group BLS key, CA roots, entity keys, clock), the periods synced,
 * per CA the CRV (CRoaring bitmap) and whether it is known to be complete,
 * per (logger, period) the STH attested by an STH_FULL, and the proofs of
 * misbehaviour: CON_FULL (permanent) and ACC_FULL (per period).
 *
 * Trust: nothing a monitor serves is trusted. Every FULL is checked against
 * the network's group public key (all FULLs of an update in one batched
 * multi-pairing), every STH/REV against the logger/CA key, every CON against
 * the convicted entity's key; a REV delta is applied to the stored CRV and
 * the resulting CRV hash must equal the hash the CA signed. An update with
 * any defect is rejected as a whole (one SQLite transaction per update).
 *
 * Memory: a ctng_client is opaque; ctng_client_close frees it. All pointers
 * passed in are borrowed. Result structs are plain values (no heap).
 * Errors: 0 or a negative CTNG_E* code with an optional ctng_err message:
 * CTNG_EINVAL (malformed input), CTNG_EVERIFY (a signature, hash or
 * consistency check of an update failed), CTNG_ESTATE (update already
 * applied / state has no network), CTNG_ECONFLICT (network.json differs
 * from the one recorded in the state), CTNG_EIO, CTNG_ENOMEM.
 * Threads: a ctng_client is used by one thread at a time.
 */
#ifndef CTNG_CLIENT_H
#define CTNG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"

struct x509_st;       /* OpenSSL X509 */
struct stack_st_X509; /* OpenSSL STACK_OF(X509) */
struct x509_store_st; /* OpenSSL X509_STORE */

typedef struct ctng_client ctng_client;

/* ------------------------------------------------------------- state */

/* Opens (creating if needed) the client state at `path` (":memory:" for a
 * private in-memory state). network_json (len bytes, may be NULL): the
 * network.json text to trust. A new state requires it (else CTNG_ESTATE); an
 * existing state records it, and a different text given later is
 * CTNG_ECONFLICT (start a new state for a new network). The text is parsed
 * and validated with ctng_network_parse and must carry the BLS group key.
 * *out is owned by the caller (ctng_client_close). */
int ctng_client_open(const char *path, const char *network_json, size_t len, ctng_client **out,
                     ctng_err *err);
/* Closes the state (NULL is a no-op). */
void ctng_client_close(ctng_client *c);

/* The trusted network (borrowed; lives as long as c). */
const ctng_network *ctng_client_network(const ctng_client *c);
/* The last period whose update was applied; false if none yet. */
bool ctng_client_last_period(const ctng_client *c, uint64_t *p);
/* The first period applied (the state knows nothing before it); false if none. */
bool ctng_client_first_period(const ctng_client *c, uint64_t *p);
/* The trust store with the network's CA roots (borrowed; for TLS). */
struct x509_store_st *ctng_client_trust_store(const ctng_client *c);

/* Queries on the state (for tools and tests). */
bool ctng_client_convicted(const ctng_client *c, const char *entity);          /* has a CON_FULL */
bool ctng_client_accused(ctng_client *c, const char *entity, uint64_t period); /* ACC_FULL */
/* Is `rid` set in the CRV of CA `ca`? *known (may be NULL) says whether the
 * state holds a complete CRV for it. */
bool ctng_client_revoked(const ctng_client *c, const char *ca, uint32_t rid, bool *known);

/* ------------------------------------------------------------ updates */

/* What an applied update contained. */
typedef struct ctng_client_apply_stats {
	uint64_t period;
	size_t sth_full, rev_full, acc_full, con_full; /* FULLs per family      */
	size_t sth, rev, con;                          /* INIT objects          */
	size_t revoked;                                /* RIDs newly revoked    */
	size_t new_convictions;                        /* entities first convicted */
} ctng_client_apply_stats;

/* Strictly parses the client update json[0..len) (docs/client-update.md: the
 * envelope, allowed types and periods, canonical order, no duplicate id, each
 * INIT right after the FULL that attests it), verifies every signature, and
 * applies it in one transaction:
 *   - STH_FULL: the attested tree head of (logger, P) is recorded; the STH
 *     object after it, if present, must be signed by the logger;
 *   - REV_FULL: the REV after it is required (else CTNG_EVERIFY "missing
 *     REV"), signed by the CA; its delta is OR-ed into the CA's CRV and the
 *     CRV hash must equal the signed one (CTNG_EVERIFY otherwise; a state that
 *     started after genesis learns a CA's CRV when a hash first matches);
 *   - ACC_FULL: the entity is accused for P; CON_FULL: convicted for good.
 * The update's period must be greater than the last applied one
 * (CTNG_ESTATE otherwise). On any error nothing is kept. stats may be NULL. */
int ctng_client_apply_update(ctng_client *c, const char *json, size_t len,
                             ctng_client_apply_stats *stats, ctng_err *err);

/* A CA's full CRV (CRoaring portable bytes, as GET <monitor>/ctng/v1/crv
 * serves it) for `period`, the period of the last REV the state applied:
 * kept, and the CA's CRV known again (its certificates no longer STALE),
 * only if it hashes (ctng_crv_hash) to the CRV hash of that REV — which the
 * state took from an update where a REV_FULL attests it, so the monitor
 * serving the bytes need not be trusted. CTNG_EVERIFY (another CRV),
 * CTNG_ESTATE (no REV of that period applied), CTNG_EINVAL. */
int ctng_client_set_crv(ctng_client *c, const char *ca_id, uint64_t period, const uint8_t *crv,
                        size_t len, ctng_err *err);

/* Result of ctng_client_sync. */
typedef struct ctng_client_sync_stats {
	uint64_t from, to;       /* periods requested: from .. to (inclusive)      */
	size_t applied;          /* updates applied                                 */
	size_t missing;          /* 1 if the monitor lacks an already finished period */
	uint64_t missing_period; /* that period */
	bool have_last;          /* state's last period after the sync             */
	uint64_t last;
	size_t crvs;             /* full CRVs obtained (CAs whose CRV became known) */
} ctng_client_sync_stats;

/* Fetches GET <monitor_url>/ctng/v1/update?period=P for every period P from
 * the last applied period + 1 (for a state that never synced: from
 * max(0, current - 1024)) up to the current period per the network clock at
 * now_ms, applying each in order. The first 404 ends the sync (not published
 * yet), except that a state that never synced skips the 404s of periods
 * before the current one until a first update applies (the monitor started
 * later). A 404 for a period before the current one after that means the
 * monitor lacks it: stats->missing = 1 and stats->missing_period say so
 * (sync from another monitor). A forged or incomplete update is
 * CTNG_EVERIFY / CTNG_EINVAL naming the period and the defect: the updates
 * applied before it are kept, nothing of it, and the sync stops. Transport
 * failures are CTNG_EIO / CTNG_ETIMEOUT (timeout_ms per request, 0 = 10 s).
 * Then, for every CA whose CRV is not known (a state that started after the
 * CA revoked something, or missed one of its REVs), GET
 * <monitor_url>/ctng/v1/crv?ca=ID&period=P for the period P of its last REV
 * applied and ctng_client_set_crv (stats->crvs counts them); a monitor that
 * does not have it or serves another CRV only leaves the CA STALE (a
 * warning on stderr, not an error). */
int ctng_client_sync(ctng_client *c, const char *monitor_url, uint64_t now_ms, uint64_t timeout_ms,
                     ctng_client_sync_stats *stats, ctng_err *err);

/* --------------------------------------------------------- validation */

typedef enum ctng_client_reason {
	CTNG_CLIENT_OK = 0,               /* valid                                          */
	CTNG_CLIENT_MALFORMED = 1,        /* not a certificate (DER/PEM parse failed)       */
	CTNG_CLIENT_CHAIN = 2,            /* not issued by a CA of the network, bad CA
	                                     signature, or outside its validity period      */
	CTNG_CLIENT_NO_EXTENSION = 3,     /* no (or a malformed) CTng extension             */
	CTNG_CLIENT_ISSUER_CONVICTED = 4, /* the issuing CA has a CON_FULL                 */
	CTNG_CLIENT_NO_VALID_LOGGER = 5,  /* no logger proof passes (see below)             */
	CTNG_CLIENT_REVOKED = 6,          /* the RID is set in the CA's CRV                 */
	CTNG_CLIENT_STALE = 7,            /* the state lacks the data needed (sync first)  */
	CTNG_CLIENT_RID_MISMATCH = 8,     /* the CTng extension names another RID than the
	                                     logged RID extension                           */
} ctng_client_reason;

/* "OK", "MALFORMED", "CHAIN", "NO_EXTENSION", "ISSUER_CONVICTED",
 * "NO_VALID_LOGGER", "REVOKED", "STALE", "RID_MISMATCH"; NULL for other values. */
const char *ctng_client_reason_name(ctng_client_reason r);

typedef struct ctng_client_result {
	ctng_client_reason reason;
	char ca[CTNG_ID_MAX + 1];     /* issuing CA id, once known ("" before)         */
	char logger[CTNG_ID_MAX + 1]; /* OK: the logger whose proof passed             */
	uint32_t rid;                 /* the logged RID, once the extensions decoded  */
	bool has_rid;
	char message[512]; /* one human sentence                           */
} ctng_client_result;

/* Validates a certificate offline. The checks, in order (the first failure
 * decides the reason):
 *  1. CHAIN: the certificate verifies up to one of the network's CA roots
 *     with OpenSSL (X509_verify_cert at time now_ms; `chain` may supply
 *     untrusted intermediates, NULL if none), and the anchoring root belongs
 *     to CA entity `ca`;
 *  2. NO_EXTENSION: the CTng extension and the RID extension are present
 *     and decode strictly;
 *  3. ISSUER_CONVICTED: `ca` has no CON_FULL;
 *  4. NO_VALID_LOGGER / STALE: at least one logger proof passes — the logger
 *     is a logger of the network without CON_FULL and without ACC_FULL in
 *     the proof's period, the embedded STH is signed by the logger and its
 *     timestamp lies in that period, the STH equals the STH_FULL-attested
 *     head of (logger, period), and the audit path proves the leaf recomputed
 *     from the certificate (precert entry without the CTng extension,
 *     docs/cert-extension.md). If none passes and some failed only because
 *     the state has not synced that period yet, the reason is STALE;
 *  5. RID_MISMATCH: the RID the CTng extension names is the one the logged
 *     TBS carries (its RID extension, proven logged by step 4);
 *  6. REVOKED: the logged RID is set in the CA's CRV (STALE if the state
 *     holds no complete CRV for the CA).
 * Returns 0 when a decision was made (*res filled, whatever the reason), a
 * negative code only for internal failures (CTNG_EIO, CTNG_ENOMEM). */
int ctng_client_validate_x509(ctng_client *c, struct x509_st *cert, struct stack_st_X509 *chain,
                              uint64_t now_ms, ctng_client_result *res, ctng_err *err);
/* The same from DER bytes (exactly one certificate). */
int ctng_client_validate_der(ctng_client *c, const uint8_t *der, size_t len, uint64_t now_ms,
                             ctng_client_result *res, ctng_err *err);
/* The same from PEM text: the first CERTIFICATE block is the certificate,
 * further blocks (if any) are untrusted intermediates; nothing else allowed. */
int ctng_client_validate_pem(ctng_client *c, const char *pem, size_t len, uint64_t now_ms,
                             ctng_client_result *res, ctng_err *err);

/* ---------------------------------------------------------------- TLS */

/* Connects to connect_addr:port (connect_addr NULL = host) over TCP,
 * performs a TLS handshake (OpenSSL; trust store = the network's CA roots;
 * SNI = host unless it is an IP literal; the certificate must match host),
 * and applies ctng_client_validate_x509 to the server certificate inside the
 * verify callback, so the handshake is aborted for a certificate that is not
 * CTng-valid. Returns 0 with *res filled once a decision was made
 * (res->reason OK: the handshake completed and the certificate is valid;
 * otherwise the handshake was refused for that reason — a name mismatch or a
 * failed chain is CTNG_CLIENT_CHAIN), CTNG_EIO / CTNG_ETIMEOUT when the
 * connection or handshake failed for another reason (the message says why).
 * timeout_ms 0 = 10 s. */
int ctng_client_tls_check(ctng_client *c, const char *host, const char *connect_addr, uint16_t port,
                          uint64_t timeout_ms, ctng_client_result *res, ctng_err *err);

#endif
