/*
 * view.c — a certificate read in place (ctng_cert_view): a strict DER walk
 * of the X.509 Certificate structure that records the byte ranges a log
 * needs (TBS, names, SubjectPublicKeyInfo, extensions, signature), the
 * RFC 6962 precert_entry TBS made by cutting the poison extension out of
 * those bytes, and the "issued by" check against an issuer's subject and
 * key. No OpenSSL object is built for the certificate: under OpenSSL 3.0,
 * d2i_X509 spends ~115 us decoding the subject's public key through the
 * provider decoders (and contends on their locks across threads), which a
 * log never uses.
 *
 * Strictness: every TLV has a definite, minimal length that fits its
 * parent; constructed values are consumed exactly; every field of the
 * Certificate and TBSCertificate has the tag RFC 5280 gives it; INTEGERs
 * are minimal; BOOLEANs are 0xFF (TRUE) or 0x00 and an Extension's
 * `critical` is never encoded as FALSE (DER omits DEFAULT values); BIT
 * STRINGs have at most 7 unused bits, all zero; OIDs are minimal base-128;
 * times have the RFC 5280 forms; name values have the string types OpenSSL
 * accepts, UTF8/BMP/Universal strings encode Unicode scalar values;
 * universal string types are primitive; a `version` of v1 is not encoded.
 * Contents of names and algorithm parameters are walked the same way.
 * Extension values stay opaque OCTET STRINGs (as OpenSSL's parser treats
 * them). Under these rules the cut-out TBS is byte-for-byte what OpenSSL
 * re-encodes after X509_delete_ext (tests/cert/test_cert_view.c and
 * fuzz/fuzz_cert_view.c compare the two).
 */
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"

/* DER of the OIDs the log looks for (value bytes of the OBJECT IDENTIFIER). */
static const uint8_t oid_poison[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03};
static const uint8_t oid_ctng[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x01, 0x01};
static const uint8_t oid_rid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x01, 0x02};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11}; /* 2.5.29.17 */

enum {
	T_BOOL = 0x01,
	T_INT = 0x02,
	T_BITS = 0x03,
	T_OCT = 0x04,
	T_NULL = 0x05,
	T_OID = 0x06,
	T_UTC = 0x17,
	T_GEN = 0x18,
	T_SEQ = 0x30,
	T_SET = 0x31,
	T_V = 0xa0,    /* [0] EXPLICIT version      */
	T_IUID = 0x81, /* [1] IMPLICIT issuerUID   */
	T_SUID = 0x82, /* [2] IMPLICIT subjectUID  */
	T_EXTS = 0xa3, /* [3] EXPLICIT extensions   */
};

#define MAX_DEPTH 24

typedef struct rd {
	const uint8_t *p;
	size_t n;
} rd;

static int bad(ctng_err *err, const char *what)
{
	return ctng_err_set(err, CTNG_EINVAL, "certificate: %s", what);
}

/* One TLV from the front of in: its tag, contents and whole span. */
static int next_tlv(rd *in, uint8_t *tag, rd *val, ctng_der_span *whole, ctng_err *err)
{
	if (in->n < 2)
		return bad(err, "truncated DER");
	const uint8_t *start = in->p;
	uint8_t t = in->p[0];
	if ((t & 0x1f) == 0x1f)
		return bad(err, "high tag numbers are not used in certificates");
	size_t len = in->p[1], hdr = 2;
	if (len == 0x80)
		return bad(err, "indefinite length (not DER)");
	if (len > 0x80) {
		size_t nb = len & 0x7f;
		if (nb > 3 || in->n < 2 + nb)
			return bad(err, "bad DER length");
		if (in->p[2] == 0)
			return bad(err, "non-minimal DER length");
		len = 0;
		for (size_t i = 0; i < nb; i++)
			len = len << 8 | in->p[2 + i];
		if (len < 0x80)
			return bad(err, "non-minimal DER length");
		hdr += nb;
	}
	if (len > in->n - hdr)
		return bad(err, "DER length beyond its container");
	*tag = t;
	val->p = in->p + hdr;
	val->n = len;
	if (whole) {
		whole->p = start;
		whole->n = hdr + len;
	}
	in->p += hdr + len;
	in->n -= hdr + len;
	return 0;
}

int cert_der_next(const uint8_t **p, size_t *n, uint8_t *tag, ctng_der_span *val, ctng_err *err)
{
	rd in = {*p, *n}, v;
	int rc = next_tlv(&in, tag, &v, NULL, err);
	if (rc)
		return rc;
	*val = (ctng_der_span){v.p, v.n};
	*p = in.p;
	*n = in.n;
	return 0;
}

/* The next TLV must have tag `want`. */
static int expect(rd *in, uint8_t want, rd *val, ctng_der_span *whole, const char *what,
                  ctng_err *err)
{
	uint8_t t;
	if (in->n == 0 || in->p[0] != want)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: %s missing or wrong tag", what);
	return next_tlv(in, &t, val, whole, err);
}

static bool peek(const rd *in, uint8_t tag)
{
	return in->n > 0 && in->p[0] == tag;
}

static int check_int(rd v, ctng_err *err)
{
	if (v.n == 0)
		return bad(err, "empty INTEGER");
	if (v.n > 1 &&
	    ((v.p[0] == 0x00 && !(v.p[1] & 0x80)) || (v.p[0] == 0xff && (v.p[1] & 0x80))))
		return bad(err, "non-minimal INTEGER");
	return 0;
}

static int check_bits(rd v, ctng_err *err)
{
	if (v.n == 0 || v.p[0] > 7 || (v.n == 1 && v.p[0] != 0))
		return bad(err, "bad BIT STRING");
	if (v.n > 1 && (v.p[v.n - 1] & ((1u << v.p[0]) - 1)))
		return bad(err, "BIT STRING with unused bits set (not DER)");
	return 0;
}

static int check_oid(rd v, ctng_err *err)
{
	if (v.n == 0 || (v.p[v.n - 1] & 0x80))
		return bad(err, "bad OBJECT IDENTIFIER");
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] == 0x80 && (i == 0 || !(v.p[i - 1] & 0x80)))
			return bad(err, "non-minimal OBJECT IDENTIFIER");
	return 0;
}

/* UTF-8 without overlong forms, surrogates or values above U+10FFFF. */
static bool utf8_ok(rd v)
{
	for (size_t i = 0; i < v.n;) {
		uint8_t c = v.p[i];
		size_t k = c < 0x80             ? 0
		           : (c & 0xe0) == 0xc0 ? 1
		           : (c & 0xf0) == 0xe0 ? 2
		           : (c & 0xf8) == 0xf0 ? 3
		                                : 9;
		if (k == 9 || i + k >= v.n)
			return false;
		uint32_t u = k == 0 ? c : c & (0x3f >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((v.p[i + j] & 0xc0) != 0x80)
				return false;
			u = u << 6 | (v.p[i + j] & 0x3f);
		}
		static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
		if (u < min[k] || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* BMPString (UCS-2, w = 2) / UniversalString (UCS-4, w = 4): whole code
 * units, each a Unicode scalar value. */
static bool ucs_ok(rd v, size_t w)
{
	if (v.n % w)
		return false;
	for (size_t i = 0; i < v.n; i += w) {
		uint32_t u = 0;
		for (size_t j = 0; j < w; j++)
			u = u << 8 | v.p[i + j];
		if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff))
			return false;
	}
	return true;
}

/* Checks the primitive value v of tag t (the types DER constrains). */
static int check_prim(uint8_t t, rd v, ctng_err *err)
{
	switch (t) {
	case T_BOOL:
		return v.n == 1 && (v.p[0] == 0 || v.p[0] == 0xff) ? 0 : bad(err, "bad BOOLEAN");
	case T_INT:
	case 0x0a: /* ENUMERATED */
		return check_int(v, err);
	case T_BITS:
		return check_bits(v, err);
	case T_NULL:
		return v.n == 0 ? 0 : bad(err, "bad NULL");
	case T_OID:
		return check_oid(v, err);
	case 0x0c: /* UTF8String */
		return utf8_ok(v) ? 0 : bad(err, "invalid UTF8String");
	case 0x1c: /* UniversalString */
		return ucs_ok(v, 4) ? 0 : bad(err, "invalid UniversalString");
	case 0x1e: /* BMPString */
		return ucs_ok(v, 2) ? 0 : bad(err, "invalid BMPString");
	default:
		return 0;
	}
}

/* Any value (names, algorithm parameters): constructed ones are walked. */
static int walk(uint8_t t, rd v, int depth, ctng_err *err)
{
	if (t == 0x10 || t == 0x11)
		return bad(err, "primitive SEQUENCE or SET");
	if (!(t & 0x20))
		return check_prim(t, v, err);
	if ((t & 0xc0) == 0 && t != T_SEQ && t != T_SET)
		return bad(err, "constructed string (not DER)");
	if (depth >= MAX_DEPTH)
		return bad(err, "DER nested too deeply");
	while (v.n) {
		uint8_t ct;
		rd cv;
		int rc = next_tlv(&v, &ct, &cv, NULL, err);
		if (!rc)
			rc = walk(ct, cv, depth + 1, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
static int alg_id(rd *in, ctng_der_span *whole, const char *what, ctng_err *err)
{
	rd v, oid;
	int rc = expect(in, T_SEQ, &v, whole, what, err);
	if (!rc)
		rc = expect(&v, T_OID, &oid, NULL, what, err);
	if (!rc)
		rc = check_oid(oid, err);
	if (!rc && v.n) {
		uint8_t t;
		rd pv;
		if (!(rc = next_tlv(&v, &t, &pv, NULL, err)))
			rc = walk(t, pv, 1, err);
		if (!rc && v.n)
			rc = ctng_err_set(err, CTNG_EINVAL, "certificate: %s has extra fields",
			                  what);
	}
	return rc;
}

/* Types an attribute value of a Name may have (OpenSSL's B_ASN1_PRINTABLE
 * less "unknown"): BIT, UTF8, Numeric, Printable, T61, IA5, Universal, BMP
 * strings and SEQUENCE. */
static bool name_value_tag(uint8_t t)
{
	return t == 0x03 || t == 0x0c || t == 0x12 || t == 0x13 || t == 0x14 || t == 0x16 ||
	       t == 0x1c || t == 0x1e || t == T_SEQ;
}

/* Name ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { type OID, value ANY } */
static int name(rd *in, ctng_der_span *whole, const char *what, ctng_err *err)
{
	rd v;
	int rc = expect(in, T_SEQ, &v, whole, what, err);
	while (!rc && v.n) {
		rd set;
		if ((rc = expect(&v, T_SET, &set, NULL, what, err)))
			break;
		if (set.n == 0)
			return ctng_err_set(err, CTNG_EINVAL, "certificate: %s has an empty RDN",
			                    what);
		while (!rc && set.n) {
			rd atv, oid, val;
			uint8_t t;
			if (!(rc = expect(&set, T_SEQ, &atv, NULL, what, err)) &&
			    !(rc = expect(&atv, T_OID, &oid, NULL, what, err)) &&
			    !(rc = check_oid(oid, err)) &&
			    !(rc = next_tlv(&atv, &t, &val, NULL, err)) &&
			    !(rc = name_value_tag(t) ? walk(t, val, 3, err)
			                             : ctng_err_set(err, CTNG_EINVAL,
			                                            "certificate: %s: attribute "
			                                            "value of type 0x%02x",
			                                            what, t)) &&
			    atv.n)
				rc = ctng_err_set(err, CTNG_EINVAL,
				                  "certificate: %s attribute has extra fields",
				                  what);
		}
	}
	return rc;
}

static bool oid_is(rd oid, const uint8_t *want, size_t n)
{
	return oid.n == n && !memcmp(oid.p, want, n);
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
 *                          extnValue OCTET STRING } */
static int extensions(rd *in, ctng_cert_view *v, ctng_err *err)
{
	rd wrap, seq;
	int rc = expect(in, T_EXTS, &wrap, &v->exts_wrap, "extensions", err);
	if (!rc)
		rc = expect(&wrap, T_SEQ, &seq, &v->exts_seq, "extensions", err);
	if (rc)
		return rc;
	if (wrap.n)
		return bad(err, "extensions: extra bytes after the SEQUENCE");
	if (seq.n == 0)
		return bad(err, "extensions: empty SEQUENCE");
	v->exts.p = seq.p;
	v->exts.n = seq.n;
	while (seq.n) {
		rd e, oid, val;
		ctng_der_span whole;
		bool critical = false;
		if ((rc = expect(&seq, T_SEQ, &e, &whole, "extension", err)) ||
		    (rc = expect(&e, T_OID, &oid, NULL, "extension id", err)) ||
		    (rc = check_oid(oid, err)))
			return rc;
		if (peek(&e, T_BOOL)) {
			rd b;
			if ((rc = expect(&e, T_BOOL, &b, NULL, "critical", err)))
				return rc;
			if (b.n != 1 || b.p[0] != 0xff)
				return bad(err,
				           "extension: critical must be TRUE (0xFF) when encoded");
			critical = true;
		}
		if ((rc = expect(&e, T_OCT, &val, NULL, "extension value", err)))
			return rc;
		if (e.n)
			return bad(err, "extension: extra fields");
		v->n_exts++;
		if (oid_is(oid, oid_poison, sizeof oid_poison)) {
			if (v->n_poison++ == 0) {
				v->poison = whole;
				v->poison_critical = critical;
				v->poison_null = val.n == 2 && val.p[0] == 0x05 && val.p[1] == 0x00;
			}
		} else if (oid_is(oid, oid_ctng, sizeof oid_ctng)) {
			if (v->n_ctng++ == 0)
				v->ctng = whole;
		} else if (oid_is(oid, oid_rid, sizeof oid_rid)) {
			if (v->n_rid++ == 0) {
				v->rid_critical = critical;
				v->rid_value = (ctng_der_span){val.p, val.n};
			}
		} else if (oid_is(oid, oid_san, sizeof oid_san)) {
			if (v->n_san++ == 0)
				v->san_value = (ctng_der_span){val.p, val.n};
		}
	}
	return 0;
}

/* Days in month mon (1..12) of the Gregorian year. */
static int month_days(int year, int mon)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	return d[mon - 1] + (mon == 2 && leap);
}

/* RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY), GeneralizedTime
 * YYYYMMDDHHMMSSZ, with fields in range and a day the month has (OpenSSL's
 * d2i takes 310231..., which ASN1_TIME_check and certificate verification
 * refuse; the view's validity would have read it as March 3). */
static bool time_ok(uint8_t t, rd v)
{
	size_t y = t == T_UTC ? 2 : 4;
	if (v.n != y + 11 || v.p[v.n - 1] != 'Z')
		return false;
	for (size_t i = 0; i + 1 < v.n; i++)
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
	const uint8_t *f = v.p + y;
	int mon = (f[0] - '0') * 10 + f[1] - '0', day = (f[2] - '0') * 10 + f[3] - '0';
	int h = (f[4] - '0') * 10 + f[5] - '0', m = (f[6] - '0') * 10 + f[7] - '0';
	int sec = (f[8] - '0') * 10 + f[9] - '0';
	int year = (v.p[0] - '0') * 10 + v.p[1] - '0';
	if (y == 4)
		year = year * 100 + (v.p[2] - '0') * 10 + v.p[3] - '0';
	else
		year += year < 50 ? 2000 : 1900;
	return mon >= 1 && mon <= 12 && day >= 1 && day <= month_days(year, mon) && h < 24 &&
	       m < 60 && sec < 60;
}

static int validity(rd *in, ctng_cert_view *cv, ctng_err *err)
{
	rd v;
	int rc = expect(in, T_SEQ, &v, NULL, "validity", err);
	for (int i = 0; !rc && i < 2; i++) {
		uint8_t t;
		rd tv;
		if (!(rc = next_tlv(&v, &t, &tv, i ? &cv->not_after : &cv->not_before, err)) &&
		    ((t != T_UTC && t != T_GEN) || !time_ok(t, tv)))
			rc = bad(err, "validity: not an RFC 5280 UTCTime or GeneralizedTime");
	}
	if (!rc && v.n)
		rc = bad(err, "validity: extra fields");
	return rc;
}

static int tbs(rd in, ctng_cert_view *v, ctng_err *err)
{
	int rc = 0;
	v->tbs_content = (ctng_der_span){in.p, in.n};
	if (peek(&in, T_V)) {
		rd w, ver;
		if ((rc = expect(&in, T_V, &w, NULL, "version", err)) ||
		    (rc = expect(&w, T_INT, &ver, NULL, "version", err)) ||
		    (rc = check_int(ver, err)))
			return rc;
		if (w.n || ver.n != 1 || (ver.p[0] != 1 && ver.p[0] != 2))
			return bad(err, "version must be v2 or v3 when encoded");
	}
	rd serial, spki, alg_oid, key;
	if ((rc = expect(&in, T_INT, &serial, NULL, "serial number", err)) ||
	    (rc = check_int(serial, err)) ||
	    (rc = alg_id(&in, &v->tbs_sig_alg, "TBS signature algorithm", err)) ||
	    (rc = name(&in, &v->issuer, "issuer", err)) || (rc = validity(&in, v, err)) ||
	    (rc = name(&in, &v->subject, "subject", err)) ||
	    (rc = expect(&in, T_SEQ, &spki, &v->spki, "subjectPublicKeyInfo", err)))
		return rc;
	(void)alg_oid;
	v->serial = (ctng_der_span){serial.p, serial.n};
	if ((rc = alg_id(&spki, NULL, "public key algorithm", err)) ||
	    (rc = expect(&spki, T_BITS, &key, NULL, "public key", err)) ||
	    (rc = check_bits(key, err)))
		return rc;
	if (spki.n)
		return bad(err, "subjectPublicKeyInfo: extra fields");
	static const uint8_t uids[2] = {T_IUID, T_SUID};
	for (int i = 0; i < 2; i++)
		if (peek(&in, uids[i])) {
			rd u;
			if ((rc = expect(&in, uids[i], &u, NULL, "unique id", err)) ||
			    (rc = check_bits(u, err)))
				return rc;
		}
	if (peek(&in, T_EXTS) && (rc = extensions(&in, v, err)))
		return rc;
	if (in.n)
		return bad(err, "TBSCertificate: unexpected fields");
	return 0;
}

int ctng_cert_view_parse(const uint8_t *der, size_t len, ctng_cert_view *v, ctng_err *err)
{
	memset(v, 0, sizeof(*v));
	if (!der || len == 0)
		return bad(err, "empty");
	if (len > CTNG_CERT_DER_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: larger than %u bytes",
		                    CTNG_CERT_DER_MAX);
	rd all = {der, len}, cert, t, sig;
	int rc = expect(&all, T_SEQ, &cert, NULL, "Certificate", err);
	if (!rc && all.n)
		rc = bad(err, "trailing bytes after the DER");
	if (!rc)
		rc = expect(&cert, T_SEQ, &t, &v->tbs, "TBSCertificate", err);
	if (!rc)
		rc = tbs(t, v, err);
	if (!rc)
		rc = alg_id(&cert, &v->sig_alg, "signature algorithm", err);
	if (!rc)
		rc = expect(&cert, T_BITS, &sig, NULL, "signature", err);
	if (!rc)
		rc = check_bits(sig, err);
	if (!rc && (sig.n < 2 || sig.p[0] != 0))
		rc = bad(err, "signature is not a whole number of octets");
	if (!rc && cert.n)
		rc = bad(err, "Certificate: unexpected fields");
	if (rc) {
		memset(v, 0, sizeof(*v));
		return rc;
	}
	v->der = (ctng_der_span){der, len};
	v->sig = (ctng_der_span){sig.p + 1, sig.n - 1};
	return 0;
}

int ctng_cert_view_parse_tbs(const uint8_t *der, size_t len, ctng_cert_view *v, ctng_err *err)
{
	memset(v, 0, sizeof(*v));
	if (!der || len == 0)
		return bad(err, "empty TBSCertificate");
	if (len > CTNG_CERT_DER_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: larger than %u bytes",
		                    CTNG_CERT_DER_MAX);
	rd all = {der, len}, t;
	int rc = expect(&all, T_SEQ, &t, &v->tbs, "TBSCertificate", err);
	if (!rc && all.n)
		rc = bad(err, "trailing bytes after the TBSCertificate");
	if (!rc)
		rc = tbs(t, v, err);
	if (rc)
		memset(v, 0, sizeof(*v));
	return rc;
}

/* ---------------------------------------------------------- precert TBS */

static size_t hdr_len(size_t n)
{
	return n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : 5;
}

static uint8_t *put_hdr(uint8_t *o, uint8_t tag, size_t n)
{
	*o++ = tag;
	if (n < 0x80) {
		*o++ = (uint8_t)n;
		return o;
	}
	size_t nb = hdr_len(n) - 2;
	*o++ = (uint8_t)(0x80 | nb);
	for (size_t i = nb; i-- > 0;)
		*o++ = (uint8_t)(n >> (8 * i));
	return o;
}

/* v's TBS without the extension whose TLV is `cut` (a span inside v->exts). */
int cert_view_cut_ext(const ctng_cert_view *v, ctng_der_span cut, uint8_t **der, size_t *len,
                      ctng_err *err)
{
	/* TBS = 30 L { head, a3 L { 30 L { before, cut, after } } }: the
	 * extensions are the TBS's last field. */
	const uint8_t *c0 = v->tbs_content.p;
	size_t head = (size_t)(v->exts_wrap.p - c0);
	size_t before = (size_t)(cut.p - v->exts.p);
	size_t after = (size_t)(v->exts.p + v->exts.n - (cut.p + cut.n));
	size_t rest = before + after, seq = 0, wrap = 0;
	if (rest) { /* OpenSSL drops [3] when no extension is left */
		seq = hdr_len(rest) + rest;
		wrap = hdr_len(seq) + seq;
	}
	size_t content = head + wrap, total = hdr_len(content) + content;
	uint8_t *out = malloc(total), *o = out;
	if (!out)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	o = put_hdr(o, T_SEQ, content);
	memcpy(o, c0, head);
	o += head;
	if (rest) {
		o = put_hdr(o, T_EXTS, seq);
		o = put_hdr(o, T_SEQ, rest);
		memcpy(o, v->exts.p, before);
		o += before;
		memcpy(o, cut.p + cut.n, after);
	}
	*der = out;
	*len = total;
	return 0;
}

int ctng_cert_view_precert_tbs(const ctng_cert_view *v, uint8_t **der, size_t *len, ctng_err *err)
{
	*der = NULL;
	*len = 0;
	if (v->n_poison == 0)
		return ctng_err_set(err, CTNG_ENOTFOUND, "certificate: extension %s not found",
		                    CTNG_CT_POISON_OID);
	if (v->n_poison > 1)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: extension %s occurs twice",
		                    CTNG_CT_POISON_OID);
	if (v->n_ctng)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: has both %s and %s",
		                    CTNG_CT_POISON_OID, CTNG_CERT_EXT_OID);
	if (!v->poison_critical)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: extension %s must be critical",
		                    CTNG_CT_POISON_OID);
	if (!v->poison_null)
		return bad(err, "poison extension value must be NULL");
	return cert_view_cut_ext(v, v->poison, der, len, err);
}

/* ------------------------------------------------------------ issued by */

/* Verifies c's signature with key when the algorithm is one whose digest
 * and key type the OID fixes and whose parameters are absent (or NULL for
 * RSA PKCS #1 v1.5): 1 verified, 0 not handled here, <0 CTNG_EVERIFY. */
static int verify_simple(const ctng_cert_view *c, const EVP_PKEY *key, ctng_err *err)
{
	const unsigned char *p = c->sig_alg.p;
	X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)c->sig_alg.n);
	if (!alg)
		return 0;
	const ASN1_OBJECT *obj;
	int ptype = 0, md = NID_undef, pk = NID_undef;
	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	int ok = OBJ_find_sigid_algs(OBJ_obj2nid(obj), &md, &pk);
	X509_ALGOR_free(alg);
	if (!ok)
		return 0;
	bool params_ok = ptype == V_ASN1_UNDEF || (pk == NID_rsaEncryption && ptype == V_ASN1_NULL);
	bool simple = (pk == NID_X9_62_id_ecPublicKey || pk == NID_rsaEncryption) ? md != NID_undef
	              : (pk == NID_ED25519 || pk == NID_ED448)                    ? md == NID_undef
	                                                                          : false;
	if (!params_ok || !simple || EVP_PKEY_get_base_id(key) != pk)
		return 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	int r = EVP_DigestVerifyInit_ex(ctx, NULL, md == NID_undef ? NULL : OBJ_nid2sn(md), NULL,
	                                NULL, (EVP_PKEY *)key, NULL) == 1 &&
	        EVP_DigestVerify(ctx, c->sig.p, c->sig.n, c->tbs.p, c->tbs.n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r ? 1
	         : ctng_err_set(err, CTNG_EVERIFY,
	                        "certificate: signature does not verify with the CA key");
}

int ctng_cert_view_check_issued(const ctng_cert_view *c, const uint8_t *issuer_subject,
                                size_t subject_len, const struct evp_pkey_st *issuer_key,
                                ctng_err *err)
{
	if (!issuer_key)
		return ctng_err_set(err, CTNG_EINVAL, "issuer: public key does not parse");
	/* Names: equal bytes are equal names; otherwise RFC 5280 comparison. */
	if (c->issuer.n != subject_len || memcmp(c->issuer.p, issuer_subject, subject_len)) {
		const unsigned char *a = c->issuer.p, *b = issuer_subject;
		X509_NAME *na = d2i_X509_NAME(NULL, &a, (long)c->issuer.n);
		X509_NAME *nb = d2i_X509_NAME(NULL, &b, (long)subject_len);
		int cmp = na && nb ? X509_NAME_cmp(na, nb) : 1;
		X509_NAME_free(na);
		X509_NAME_free(nb);
		ERR_clear_error();
		if (cmp != 0)
			return ctng_err_set(
			    err, CTNG_EVERIFY,
			    "certificate: issuer name does not match the CA's subject");
	}
	/* The outer algorithm must be the TBS's (as X509_verify requires). */
	if (c->sig_alg.n != c->tbs_sig_alg.n ||
	    memcmp(c->sig_alg.p, c->tbs_sig_alg.p, c->sig_alg.n))
		return ctng_err_set(err, CTNG_EVERIFY,
		                    "certificate: signature algorithm differs from the TBS's");
	int r = verify_simple(c, issuer_key, err);
	if (r)
		return r < 0 ? r : 0;
	/* Anything else (RSA-PSS, ...): OpenSSL's own verification. */
	const unsigned char *p = c->der.p;
	X509 *x = d2i_X509(NULL, &p, (long)c->der.n);
	int ok = x && X509_verify(x, (EVP_PKEY *)issuer_key) == 1;
	X509_free(x);
	ERR_clear_error();
	return ok ? 0
	          : ctng_err_set(err, CTNG_EVERIFY,
	                         "certificate: signature does not verify with the CA key");
}
