/*
 * rid.c — the RID extension (docs/cert-extension.md "The RID extension"):
 * the certificate's revocation id as a non-critical extension of its own,
 * in the precertificate and the final certificate alike, so that the log
 * entry (the TBS without the poison or the CTng extension) carries it.
 * extnValue = DER INTEGER (0..2^32-1).
 */
#include <string.h>

#include "cert/cert_internal.h"

size_t ctng_rid_ext_encode(uint32_t rid, uint8_t out[CTNG_RID_EXT_MAX])
{
	uint8_t b[5] = {0, (uint8_t)(rid >> 24), (uint8_t)(rid >> 16), (uint8_t)(rid >> 8),
	                (uint8_t)rid};
	size_t i = 0;
	/* minimal: drop leading zero bytes unless the next byte's top bit is set */
	while (i < 4 && b[i] == 0 && !(b[i + 1] & 0x80))
		i++;
	out[0] = 0x02;
	out[1] = (uint8_t)(5 - i);
	memcpy(out + 2, b + i, 5 - i);
	return 2 + 5 - i;
}

int ctng_rid_ext_decode(const uint8_t *der, size_t len, uint32_t *rid, ctng_err *err)
{
	if (!der || len < 3 || der[0] != 0x02 || der[1] < 1 || der[1] > 5 ||
	    (size_t)der[1] + 2 != len)
		return ctng_err_set(err, CTNG_EINVAL,
		                    "RID extension: not one DER INTEGER of 1..5 bytes");
	const uint8_t *v = der + 2;
	size_t n = der[1];
	if (v[0] & 0x80)
		return ctng_err_set(err, CTNG_EINVAL, "RID extension: negative INTEGER");
	if (n > 1 && v[0] == 0 && !(v[1] & 0x80))
		return ctng_err_set(err, CTNG_EINVAL, "RID extension: non-minimal INTEGER");
	if (n == 5 && v[0] != 0)
		return ctng_err_set(err, CTNG_EINVAL, "RID extension: RID above 2^32-1");
	uint64_t r = 0;
	for (size_t i = 0; i < n; i++)
		r = r << 8 | v[i];
	*rid = (uint32_t)r;
	return 0;
}

int ctng_cert_get_rid(const X509 *c, uint32_t *rid, ctng_err *err)
{
	int loc, rc = cert_find_ext(c, CTNG_RID_EXT_OID, &loc, err);
	if (rc)
		return rc == CTNG_EINVAL
		           ? ctng_err_set(err, CTNG_EINVAL, "certificate: RID extension present twice")
		           : rc;
	X509_EXTENSION *ext = X509_get_ext(c, loc);
	if (X509_EXTENSION_get_critical(ext))
		return ctng_err_set(err, CTNG_EINVAL, "certificate: RID extension must not be critical");
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
	return ctng_rid_ext_decode(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), rid, err);
}
