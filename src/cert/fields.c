/*
 * fields.c — what a monitor reads from a certificate it indexes, from the
 * spans ctng_cert_view recorded (view.c): the TBS as a CTng log holds it,
 * the validity as Unix ms, the RID extension, and the DNS names (SAN
 * dNSNames and subject commonNames). No OpenSSL object is built: this is the
 * hot path of the monitor's search index (docs/monitor.md §10).
 */
#include <stdlib.h>
#include <string.h>

#include "cert/cert_internal.h"

int ctng_cert_view_logged_tbs(const ctng_cert_view *v, uint8_t **der, size_t *len, ctng_err *err)
{
	*der = NULL;
	*len = 0;
	if (v->n_poison)
		return ctng_cert_view_precert_tbs(v, der, len, err);
	if (v->n_ctng > 1)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: extension %s occurs twice",
		                    CTNG_CERT_EXT_OID);
	if (v->n_ctng == 1)
		return cert_view_cut_ext(v, v->ctng, der, len, err);
	if (!(*der = malloc(v->tbs.n)))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	memcpy(*der, v->tbs.p, v->tbs.n);
	*len = v->tbs.n;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned two(const uint8_t *p)
{
	return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
}

/* A Time TLV checked by view.c (UTCTime YYMMDDHHMMSSZ or GeneralizedTime
 * YYYYMMDDHHMMSSZ) as Unix ms; 0 before 1970. */
static uint64_t time_ms(ctng_der_span t)
{
	if (t.n < 2)
		return 0;
	const uint8_t *p = t.p + 2; /* short-form header: at most 15 content bytes */
	int64_t year;
	if (t.p[0] == 0x17) {
		year = two(p);
		year += year < 50 ? 2000 : 1900;
		p += 2;
	} else {
		year = (int64_t)two(p) * 100 + two(p + 2);
		p += 4;
	}
	int64_t days = days_from_civil(year, two(p), two(p + 2));
	int64_t s = days * 86400 + (int64_t)two(p + 4) * 3600 + two(p + 6) * 60 + two(p + 8);
	return s < 0 ? 0 : (uint64_t)s * 1000;
}

int ctng_cert_view_validity(const ctng_cert_view *v, uint64_t *not_before_ms,
                            uint64_t *not_after_ms, ctng_err *err)
{
	if (!v->not_before.n || !v->not_after.n)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: no validity (view not parsed)");
	*not_before_ms = time_ms(v->not_before);
	*not_after_ms = time_ms(v->not_after);
	return 0;
}

int ctng_cert_view_rid(const ctng_cert_view *v, uint32_t *rid, ctng_err *err)
{
	if (v->n_rid == 0)
		return ctng_err_set(err, CTNG_ENOTFOUND, "certificate: no RID extension (%s)",
		                    CTNG_RID_EXT_OID);
	if (v->n_rid > 1)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: RID extension present twice");
	if (v->rid_critical)
		return ctng_err_set(err, CTNG_EINVAL, "certificate: RID extension must not be critical");
	return ctng_rid_ext_decode(v->rid_value.p, v->rid_value.n, rid, err);
}

/* The commonName attribute (2.5.4.3). */
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};

static void put_name(ctng_der_span s, ctng_der_span *out, size_t max, size_t *n)
{
	if (*n < max)
		out[*n] = s;
	(*n)++;
}

int ctng_cert_view_dns_names(const ctng_cert_view *v, ctng_der_span *out, size_t max, size_t *n,
                             ctng_err *err)
{
	*n = 0;
	uint8_t tag;
	ctng_der_span val;
	int rc;
	if (v->n_san) {
		/* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName;
		 * dNSName [2] IMPLICIT IA5String. */
		const uint8_t *p = v->san_value.p;
		size_t left = v->san_value.n;
		if ((rc = cert_der_next(&p, &left, &tag, &val, err)))
			return rc;
		if (tag != 0x30 || left)
			return ctng_err_set(err, CTNG_EINVAL,
			                    "certificate: subjectAltName is not one SEQUENCE");
		const uint8_t *q = val.p;
		size_t m = val.n;
		while (m) {
			ctng_der_span g;
			if ((rc = cert_der_next(&q, &m, &tag, &g, err)))
				return rc;
			if ((tag & 0xc0) != 0x80)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "certificate: subjectAltName entry is not a "
				                    "GeneralName");
			if (tag == 0x82)
				put_name(g, out, max, n);
		}
	}
	/* Name ::= SEQUENCE OF RDN; RDN ::= SET OF AttributeTypeAndValue
	 * (walked strictly by view.c already). */
	const uint8_t *p = v->subject.p;
	size_t left = v->subject.n;
	if (!left)
		return 0;
	if ((rc = cert_der_next(&p, &left, &tag, &val, err)))
		return rc;
	const uint8_t *r = val.p;
	size_t rn = val.n;
	while (rn) {
		ctng_der_span set;
		if ((rc = cert_der_next(&r, &rn, &tag, &set, err)))
			return rc;
		const uint8_t *a = set.p;
		size_t an = set.n;
		while (an) {
			ctng_der_span atv, oid, value;
			if ((rc = cert_der_next(&a, &an, &tag, &atv, err)))
				return rc;
			const uint8_t *b = atv.p;
			size_t bn = atv.n;
			uint8_t vt;
			if ((rc = cert_der_next(&b, &bn, &tag, &oid, err)) ||
			    (rc = cert_der_next(&b, &bn, &vt, &value, err)))
				return rc;
			if (oid.n == sizeof oid_cn && !memcmp(oid.p, oid_cn, sizeof oid_cn) &&
			    (vt == 0x13 || vt == 0x0c || vt == 0x16))
				put_name(value, out, max, n);
		}
	}
	return 0;
}
