/*
 * ctng/cert.h — X.509 helpers shared by the CA, the logger and the client
 * (DESIGN §5-§7): strict PEM/DER loading, DNS name validation, the RFC 6962
 * log entry (x509_entry / precert_entry) and MerkleTreeLeaf built from a
 * (pre)certificate, the CTng certificate extension (OID, DER codec), and
 * builders for roots, precertificates and final CTng certificates.
 *
 * The CTng extension (docs/cert-extension.md) is non-critical, OID
 * CTNG_CERT_EXT_OID (provisional, private arc), DER:
 *
 *   CTngProofs ::= SEQUENCE {
 *       version   INTEGER (1),
 *       rid       INTEGER (0..4294967295),
 *       proofs    SEQUENCE SIZE (1..64) OF LoggerProof }
 *   LoggerProof ::= SEQUENCE {
 *       loggerId       UTF8String (SIZE (1..64)),  -- entity id charset
 *       period         INTEGER,                    -- period of the STH
 *       treeSize       INTEGER,
 *       sthTimestamp   INTEGER,                    -- Unix ms
 *       rootHash       OCTET STRING (SIZE (32)),
 *       sthSignature   OCTET STRING (SIZE (1..512)), -- RFC 5246 DigitallySigned
 *       leafTimestamp  INTEGER,                    -- the SCT timestamp (Unix ms)
 *       leafExtensions OCTET STRING (SIZE (0..65535)), -- the SCT CtExtensions
 *       leafIndex      INTEGER,
 *       auditPath      SEQUENCE SIZE (0..64) OF OCTET STRING (SIZE (32)) }
 *   (all INTEGERs non-negative, < 2^64; leafIndex < treeSize)
 *
 * The logged leaf is the RFC 6962 precert_entry of the precertificate: the
 * TBSCertificate without the CT poison extension, plus SHA-256 of the
 * issuer's SubjectPublicKeyInfo. The final certificate is the precertificate
 * with the poison replaced (at the same position) by the CTng extension, so a
 * verifier recomputes the leaf from the final certificate by removing the
 * CTng extension (like RFC 6962 removes the SCT list) —
 * ctng_ct_entry_from_ctng_cert does that.
 *
 * OpenSSL types appear as forward declarations (struct x509_st == X509,
 * struct evp_pkey_st == EVP_PKEY). Ownership: inputs are borrowed; outputs
 * (X509 *, malloc'd bytes, filled structs) belong to the caller: X509_free,
 * free(), or the matching *_clear function. Every function fills an optional
 * ctng_err and returns 0 or CTNG_EINVAL (malformed input; message names the
 * problem), CTNG_EVERIFY (well-formed but a check failed), CTNG_ENOTFOUND,
 * CTNG_EIO (files), CTNG_ENOMEM. Thread-safe (no global state).
 */
#ifndef CTNG_CERT_H
#define CTNG_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/config.h"
#include "ctng/proto.h"
#include "ctng/sig.h"

struct x509_st;     /* OpenSSL X509     */
struct evp_pkey_st; /* OpenSSL EVP_PKEY */

#define CTNG_CERT_EXT_OID    "1.3.6.1.4.1.55555.1.1" /* provisional */
#define CTNG_RID_EXT_OID     "1.3.6.1.4.1.55555.1.2" /* provisional */
#define CTNG_CT_POISON_OID   "1.3.6.1.4.1.11129.2.4.3"
#define CTNG_CERT_DER_MAX    (64u << 10) /* largest certificate accepted */
#define CTNG_CERT_PEM_MAX    (96u << 10)
#define CTNG_DNS_NAME_MAX    253
#define CTNG_EXT_MAX_PROOFS  64
#define CTNG_EXT_MAX_PATH    64
#define CTNG_EXT_MAX_SIG     512
#define CTNG_EXT_MAX_CT_EXTS 65535
#define CTNG_EXT_VERSION     1

/* ------------------------------------------------------------- DNS names */

/* Checks a DNS host name for a certificate: RFC 1035 / RFC 5890 LDH syntax.
 * At most 253 octets, at least two labels, no trailing dot, each label 1..63
 * octets of [A-Za-z0-9-] not starting or ending with '-', a label with '-' in
 * positions 3 and 4 must start with "xn--" (A-label), the last label not
 * all digits. Wildcards, IP addresses and non-ASCII are rejected.
 * 0 or CTNG_EINVAL with the reason. */
int ctng_dns_name_check(const char *name, ctng_err *err);
/* Checks and writes the lower-case form into out. */
int ctng_dns_name_normalize(const char *name, char out[CTNG_DNS_NAME_MAX + 1], ctng_err *err);

/* ----------------------------------------------------------- PEM and DER */

/* Strict DER certificate parse: exactly one certificate using all len bytes,
 * at most CTNG_CERT_DER_MAX, and DER (re-encoding gives the same bytes). */
int ctng_cert_from_der(const uint8_t *der, size_t len, struct x509_st **out, ctng_err *err);
/* Exactly one "CERTIFICATE" PEM block (surrounding whitespace allowed,
 * nothing else); the DER inside is checked as above. */
int ctng_cert_from_pem(const char *pem, size_t len, struct x509_st **out, ctng_err *err);
/* Reads a PEM file (at most CTNG_CERT_PEM_MAX bytes). */
int ctng_cert_load_file(const char *path, struct x509_st **out, ctng_err *err);
/* Encoders: *der / *pem malloc'd (pem NUL-terminated); *len may be NULL for pem. */
int ctng_cert_to_der(const struct x509_st *c, uint8_t **der, size_t *len, ctng_err *err);
int ctng_cert_to_pem(const struct x509_st *c, char **pem, size_t *len, ctng_err *err);
/* Writes the PEM atomically (mode e.g. 0644). */
int ctng_cert_save_file(const struct x509_st *c, const char *path, int mode, ctng_err *err);
/* SHA-256 of the certificate's DER (its fingerprint). */
int ctng_cert_sha256(const struct x509_st *c, uint8_t out[32], ctng_err *err);
/* SHA-256 of the certificate's SubjectPublicKeyInfo DER (RFC 6962
 * issuer_key_hash when c is the issuer). */
int ctng_cert_spki_hash(const struct x509_st *c, uint8_t out[32], ctng_err *err);
/* 0 if c's issuer name equals issuer's subject and c's signature verifies
 * with issuer's key; CTNG_EVERIFY otherwise. */
int ctng_cert_check_issued(const struct x509_st *c, const struct x509_st *issuer, ctng_err *err);
/* The single dNSName of c's subjectAltName (copied into out). CTNG_EINVAL if
 * there is no SAN, more than one entry, or a non-dNSName entry. */
int ctng_cert_dns_name(const struct x509_st *c, char out[CTNG_DNS_NAME_MAX + 1], ctng_err *err);
/* True if c carries the CT poison extension. */
bool ctng_cert_is_precert(const struct x509_st *c);

/* ---------------------------------------- certificates read in place */

/* A byte range inside a caller's buffer. */
typedef struct ctng_der_span {
	const uint8_t *p;
	size_t n;
} ctng_der_span;

/* A certificate parsed in place, without building an OpenSSL object (the
 * logger's submission path; src/cert/view.c). Every span points into the
 * parsed buffer, which must outlive the view. */
typedef struct ctng_cert_view {
	ctng_der_span der;                   /* the whole certificate             */
	ctng_der_span tbs;                   /* TBSCertificate TLV                */
	ctng_der_span tbs_content;           /*   its contents                    */
	ctng_der_span tbs_sig_alg, sig_alg;  /* AlgorithmIdentifier TLVs          */
	ctng_der_span issuer, subject, spki; /* Name, Name, SubjectPublicKeyInfo  */
	ctng_der_span sig;                   /* signature octets (BIT STRING value
	                                        without its unused-bits octet)    */
	ctng_der_span exts_wrap, exts_seq;   /* [3] and SEQUENCE TLVs (n=0: none) */
	ctng_der_span exts;                  /* contents of the SEQUENCE          */
	size_t n_exts;
	int n_poison;                        /* CT poison extensions              */
	ctng_der_span poison;                /* the first one's Extension TLV     */
	bool poison_critical, poison_null;   /*   critical; value is ASN.1 NULL   */
	int n_ctng;                          /* CTng extensions                   */
	ctng_der_span ctng;                  /*   the first one's Extension TLV   */
	int n_rid;                           /* RID extensions (CTNG_RID_EXT_OID) */
	bool rid_critical;                   /*   the first one is critical       */
	ctng_der_span rid_value;             /*   its extnValue contents          */
	int n_san;                           /* subjectAltName extensions         */
	ctng_der_span san_value;             /*   the first one's extnValue       */
	ctng_der_span serial;                /* serialNumber INTEGER contents     */
	ctng_der_span not_before, not_after; /* Time TLVs (UTCTime/Generalized)   */
} ctng_cert_view;

/* Strict DER walk of a Certificate (at most CTNG_CERT_DER_MAX bytes, all
 * used): definite minimal lengths, RFC 5280 tags for every field, minimal
 * INTEGERs and OIDs, DER BOOLEANs and BIT STRINGs, no encoded DEFAULT
 * values; names and algorithm parameters are walked too, extension values
 * stay opaque. CTNG_EINVAL with the reason; *v is zeroed on failure. */
int ctng_cert_view_parse(const uint8_t *der, size_t len, ctng_cert_view *v, ctng_err *err);
/* A bare TBSCertificate (e.g. the TBS of a logged precert_entry) walked
 * with the same rules: fills the TBS spans of *v (tbs, tbs_content, names,
 * spki, extensions and the fields below); der, sig_alg and sig stay empty.
 * At most CTNG_CERT_DER_MAX bytes, all used. */
int ctng_cert_view_parse_tbs(const uint8_t *tbs, size_t len, ctng_cert_view *v, ctng_err *err);
/* True if v carries the CT poison extension (once or more). */
static inline bool ctng_cert_view_is_precert(const ctng_cert_view *v)
{
	return v->n_poison > 0;
}
/* The RFC 6962 precert_entry TBS: v's TBS without its poison extension,
 * byte-for-byte what ctng_ct_entry_precert_x509 makes (the poison must
 * occur once, critical, with a NULL value, and no CTng extension; [3] is
 * dropped when no extension is left). *der malloc'd. CTNG_ENOTFOUND without
 * the poison, CTNG_EINVAL for the other violations. */
int ctng_cert_view_precert_tbs(const ctng_cert_view *v, uint8_t **der, size_t *len,
                               ctng_err *err);
/* The TBS as a CTng log holds it (docs/cert-extension.md): a
 * precertificate's without the poison (ctng_cert_view_precert_tbs), a final
 * certificate's without the CTng extension, any other TBS unchanged. The
 * same certificate logged as precert and as final certificate gives the
 * same bytes. *der malloc'd. CTNG_EINVAL when both extensions (or one
 * twice) occur, or the poison is not critical with a NULL value. */
int ctng_cert_view_logged_tbs(const ctng_cert_view *v, uint8_t **der, size_t *len, ctng_err *err);
/* Validity in Unix ms (UTCTime years 50..99 are 19xx, RFC 5280). */
int ctng_cert_view_validity(const ctng_cert_view *v, uint64_t *not_before_ms,
                            uint64_t *not_after_ms, ctng_err *err);
/* The certificate's RID (the RID extension, docs/cert-extension.md):
 * CTNG_ENOTFOUND when absent, CTNG_EINVAL when critical, present twice or
 * malformed. */
int ctng_cert_view_rid(const ctng_cert_view *v, uint32_t *rid, ctng_err *err);
/* The DNS names the certificate names, as they are encoded: every dNSName
 * of the subjectAltName (in order), then every commonName of the subject
 * whose value is a PrintableString, UTF8String or IA5String. Spans point
 * into v's buffer; at most max are stored, *n gets the total. Names are not
 * checked or normalised here. CTNG_EINVAL if the subjectAltName does not
 * parse (it is opaque to ctng_cert_view_parse). */
int ctng_cert_view_dns_names(const ctng_cert_view *v, ctng_der_span *out, size_t max, size_t *n,
                             ctng_err *err);
/* ctng_cert_check_issued for a view: c's issuer name equals issuer_subject
 * (the issuer's subject Name DER; RFC 5280 comparison when the bytes
 * differ), c's outer and TBS signature algorithms are equal, and c's
 * signature verifies with issuer_key (which must outlive the call; it may be
 * shared between threads). 0, CTNG_EVERIFY, CTNG_EINVAL (no key). */
int ctng_cert_view_check_issued(const ctng_cert_view *c, const uint8_t *issuer_subject,
                                size_t subject_len, const struct evp_pkey_st *issuer_key,
                                ctng_err *err);

/* ---------------------------------------------- RFC 6962 entries, leaves */

typedef enum ctng_ct_entry_type {
	CTNG_CT_X509_ENTRY = 0,
	CTNG_CT_PRECERT_ENTRY = 1,
} ctng_ct_entry_type;

/* The signed_entry of a TimestampedEntry. x509_entry: der = the certificate
 * DER. precert_entry: der = the TBSCertificate DER without the poison (or
 * CTng) extension, issuer_key_hash = SHA-256 of the issuer's SPKI DER. */
typedef struct ctng_ct_entry {
	ctng_ct_entry_type type;
	uint8_t issuer_key_hash[32]; /* precert_entry only */
	uint8_t *der;                /* owned */
	size_t der_len;              /* 1 .. 2^24-1 */
} ctng_ct_entry;

void ctng_ct_entry_clear(ctng_ct_entry *e); /* frees der, zeroes; NULL ok */

/* x509_entry from a certificate's DER (strictly parsed; must not be a precert). */
int ctng_ct_entry_x509(const uint8_t *cert_der, size_t len, ctng_ct_entry *out, ctng_err *err);
/* precert_entry from a precertificate (DER; must hold the poison extension
 * exactly once, critical, value ASN.1 NULL) and its issuer (DER), which is the
 * CA that signed it directly (no Precertificate Signing Certificate). The
 * issuer's signature on the precertificate is NOT checked here (use
 * ctng_cert_check_issued). The TBS is re-encoded without the poison. */
int ctng_ct_entry_precert(const uint8_t *precert_der, size_t len, const uint8_t *issuer_der,
                          size_t issuer_len, ctng_ct_entry *out, ctng_err *err);
/* The same from parsed certificates. */
int ctng_ct_entry_precert_x509(const struct x509_st *precert, const struct x509_st *issuer,
                               ctng_ct_entry *out, ctng_err *err);
/* The precert_entry the CA logged for a final CTng certificate: TBS without
 * the CTng extension (which must be present exactly once; the poison must be
 * absent). Equal to ctng_ct_entry_precert of its precertificate. */
int ctng_ct_entry_from_ctng_cert(const struct x509_st *cert, const struct x509_st *issuer,
                                 ctng_ct_entry *out, ctng_err *err);

/* RFC 6962 §3.4 MerkleTreeLeaf (v1, timestamped_entry) of an entry with the
 * SCT's timestamp (ms) and CtExtensions (ct_exts may be NULL when 0 long,
 * at most 65535 bytes); appended to out. */
int ctng_ct_leaf_encode(const ctng_ct_entry *e, uint64_t timestamp_ms, const uint8_t *ct_exts,
                        size_t ct_exts_len, ctng_buf *out, ctng_err *err);
/* Merkle leaf hash SHA-256(0x00 || MerkleTreeLeaf). */
int ctng_ct_leaf_hash(const ctng_ct_entry *e, uint64_t timestamp_ms, const uint8_t *ct_exts,
                      size_t ct_exts_len, uint8_t out[32], ctng_err *err);
/* RFC 6962 §3.2 bytes an SCT signature covers (sct_version v1,
 * certificate_timestamp, timestamp, entry_type, signed_entry, extensions);
 * appended to out. */
int ctng_ct_sct_signed_bytes(const ctng_ct_entry *e, uint64_t timestamp_ms, const uint8_t *ct_exts,
                             size_t ct_exts_len, ctng_buf *out, ctng_err *err);
/* Strict decode of a MerkleTreeLeaf (every length checked, nothing
 * trailing). *out owns its der; *ct_exts (may be NULL to skip) is malloc'd
 * (NULL when empty). */
int ctng_ct_leaf_decode(const uint8_t *leaf, size_t len, ctng_ct_entry *out, uint64_t *timestamp_ms,
                        uint8_t **ct_exts, size_t *ct_exts_len, ctng_err *err);

/* ------------------------------------------------------ CTng extension */

typedef struct ctng_logger_proof {
	char logger_id[CTNG_ID_MAX + 1];
	uint64_t period;    /* period of the STH */
	uint64_t tree_size; /* STH fields */
	uint64_t sth_timestamp_ms;
	uint8_t root[32];
	uint8_t *sth_sig; /* owned: DigitallySigned bytes (as in get-sth) */
	size_t sth_sig_len;
	uint64_t leaf_timestamp_ms; /* SCT timestamp = MerkleTreeLeaf timestamp */
	uint8_t *leaf_exts;         /* owned: SCT CtExtensions (NULL when 0 long) */
	size_t leaf_exts_len;
	uint64_t leaf_index;
	uint8_t (*audit_path)[32]; /* owned, path_len entries (NULL when 0) */
	size_t path_len;
} ctng_logger_proof;

typedef struct ctng_cert_proofs {
	uint32_t rid;
	ctng_logger_proof *proofs; /* owned array of n */
	size_t n;
} ctng_cert_proofs;

/* Frees everything owned and zeroes; NULL ok. */
void ctng_logger_proof_clear(ctng_logger_proof *p);
void ctng_cert_proofs_clear(ctng_cert_proofs *p);
/* Appends a deep copy of *p to ps->proofs. */
int ctng_cert_proofs_add(ctng_cert_proofs *ps, const ctng_logger_proof *p, ctng_err *err);

/* DER encoding of CTngProofs (the extension's extnValue contents). Checks the
 * limits above (n >= 1, ids valid, leaf_index < tree_size). *der malloc'd. */
int ctng_cert_proofs_encode(const ctng_cert_proofs *ps, uint8_t **der, size_t *len, ctng_err *err);
/* Strict DER decode: definite minimal lengths, minimal non-negative
 * INTEGERs < 2^64 (rid < 2^32), exact sizes, version 1, no trailing bytes, all
 * limits above. *out filled (caller clears); cleared on failure. */
int ctng_cert_proofs_decode(const uint8_t *der, size_t len, ctng_cert_proofs *out, ctng_err *err);
/* Finds and decodes the CTng extension of c. CTNG_ENOTFOUND if absent;
 * CTNG_EINVAL if it is critical, present twice or malformed. */
int ctng_cert_get_proofs(const struct x509_st *c, ctng_cert_proofs *out, ctng_err *err);

/* The STH the proof embeds (timestamp, size, root). */
void ctng_logger_proof_sth(const ctng_logger_proof *p, ctng_sth *out);
/* Leaf hash of cert as logged under proof p (precert entry from
 * ctng_ct_entry_from_ctng_cert, p's leaf timestamp and extensions). */
int ctng_cert_proof_leaf_hash(const struct x509_st *cert, const struct x509_st *issuer,
                              const ctng_logger_proof *p, uint8_t out[32], ctng_err *err);
/* Checks p's audit path proves that leaf against p's root and tree size:
 * 0, or CTNG_EVERIFY. Does not check the STH signature (see
 * ctng_logger_proof_verify_sth). */
int ctng_cert_proof_verify_inclusion(const struct x509_st *cert, const struct x509_st *issuer,
                                     const ctng_logger_proof *p, ctng_err *err);
/* Checks p's STH signature (RFC 6962 TreeHeadSignature) with the logger's
 * key, and that the STH timestamp lies in p->period under clock (may be NULL
 * to skip that). 0 or CTNG_EVERIFY. */
int ctng_logger_proof_verify_sth(const ctng_logger_proof *p, const ctng_sig_key *logger_key,
                                 const ctng_clock *clock, ctng_err *err);

/* ------------------------------------------------- the RID extension */

/* The certificate's revocation id, logged: a non-critical extension
 * CTNG_RID_EXT_OID whose extnValue is the DER INTEGER (0..2^32-1), in the
 * precertificate and the final certificate alike (so it is part of the
 * logged TBS). Encoding: at most 7 bytes. */
#define CTNG_RID_EXT_MAX 7
size_t ctng_rid_ext_encode(uint32_t rid, uint8_t out[CTNG_RID_EXT_MAX]);
/* Strict decode: one minimal non-negative INTEGER below 2^32, nothing after. */
int ctng_rid_ext_decode(const uint8_t *der, size_t len, uint32_t *rid, ctng_err *err);
/* The RID extension of c: CTNG_ENOTFOUND if absent, CTNG_EINVAL if critical,
 * present twice or malformed. */
int ctng_cert_get_rid(const struct x509_st *c, uint32_t *rid, ctng_err *err);

/* ------------------------------------------ RID CON (docs/protocol.md §5.2) */

/* Verifies a RID CON against the CA it names (an entity of network.json
 * with its key and root certificate): structure (ctng_rid_con_check), the
 * scheme is the CA key's, both certificates parse strictly, are issued by
 * the CA (issuer = its root's subject, signature by its key), carry the
 * CON's RID in a well-formed non-critical RID extension, and their logged
 * TBSs (ctng_cert_view_logged_tbs) differ. 0 = proven misbehaviour;
 * CTNG_EVERIFY (a check failed: no proof) or CTNG_EINVAL (malformed). An
 * honest CA never signs two such certificates, and nobody else can: fewer
 * than t monitors cannot make one. */
int ctng_rid_con_verify(const ctng_gossip_object *con, const ctng_entity *ca,
                        ctng_err *err);
/* Every kind of CON against the entity it convicts: a RID CON with
 * ctng_rid_con_verify, any other with ctng_con_verify(ent->key, clock).
 * What gossipers, monitors and clients call. */
int ctng_cert_con_verify(const ctng_gossip_object *con, const ctng_entity *ent,
                         const ctng_clock *clock, ctng_err *err);

/* ------------------------------------------------------------- builders */

/* Self-signed CA root: subject/issuer CN = cn, basicConstraints CA:TRUE
 * (critical), keyUsage keyCertSign|cRLSign (critical), subject key id,
 * validity [not_before_ms, not_after_ms], random 16-byte serial. key: the
 * CA's private key (P-256 ECDSA with SHA-256, or Ed25519). */
int ctng_cert_make_root(const char *cn, const ctng_sig_key *key, uint64_t not_before_ms,
                        uint64_t not_after_ms, struct x509_st **out, ctng_err *err);

typedef struct ctng_cert_template {
	const char *dns_name;                  /* valid DNS name: subject CN and SAN */
	const struct evp_pkey_st *subject_key; /* public key certified (any type
	                                          OpenSSL can encode) */
	uint8_t serial[20];                    /* positive: serial[0] < 0x80 */
	size_t serial_len;                     /* 1..20; leading zero byte not allowed
	                                           unless needed */
	uint64_t not_before_ms, not_after_ms;
	uint32_t rid;                          /* the RID extension's value */
} ctng_cert_template;

/* RFC 6962 precertificate: X.509 v3, the template's names/key/serial/
 * validity, issuer = issuer's subject, basicConstraints CA:FALSE (critical),
 * keyUsage digitalSignature (critical), extKeyUsage serverAuth, authority
 * and subject key ids, SAN dNSName, the RID extension (t->rid) and last
 * the critical poison extension; signed by issuer_key (which must match
 * issuer's key). */
int ctng_cert_make_precert(const ctng_cert_template *t, const struct x509_st *issuer,
                           const ctng_sig_key *issuer_key, struct x509_st **out, ctng_err *err);
/* The final certificate: the precertificate with the poison replaced at the
 * same position by the non-critical CTng extension holding proofs, signed by
 * issuer_key. proofs->rid must equal the precertificate's RID extension
 * (CTNG_EINVAL otherwise). Guarantees ctng_ct_entry_from_ctng_cert(result)
 * equals ctng_ct_entry_precert_x509(precert) (checked before returning). */
int ctng_cert_make_final(const struct x509_st *precert, const ctng_cert_proofs *proofs,
                         const struct x509_st *issuer, const ctng_sig_key *issuer_key,
                         struct x509_st **out, ctng_err *err);

#endif
