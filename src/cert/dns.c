/*
 * dns.c — DNS host name validation for certificates (RFC 1035 §2.3.1 LDH
 * syntax with the RFC 5890 rules on reserved "??--" labels): what the CA
 * accepts in an issuance request and what the client expects in a SAN.
 */
#include <string.h>

#include "ctng/cert.h"

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

int ctng_dns_name_check(const char *name, ctng_err *err)
{
	if (!name)
		return ctng_err_set(err, CTNG_EINVAL, "name: missing");
	size_t len = strlen(name);
	if (len == 0)
		return ctng_err_set(err, CTNG_EINVAL, "name: empty");
	if (len > CTNG_DNS_NAME_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "name: longer than %d octets",
		                    CTNG_DNS_NAME_MAX);
	size_t labels = 0;
	const char *p = name;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0)
			return ctng_err_set(err, CTNG_EINVAL,
			                    dot && !dot[1] ? "name: trailing dot not allowed"
			                                   : "name: empty label");
		if (l > 63)
			return ctng_err_set(err, CTNG_EINVAL, "name: label longer than 63 octets");
		bool all_digits = true;
		for (size_t i = 0; i < l; i++) {
			if (p[i] == '*')
				return ctng_err_set(err, CTNG_EINVAL,
				                    "name: wildcards not allowed");
			if (!is_ldh(p[i]))
				return ctng_err_set(err, CTNG_EINVAL,
				                    "name: character 0x%02x not allowed (letters, "
				                    "digits and '-' only)",
				                    (unsigned char)p[i]);
			if (p[i] < '0' || p[i] > '9')
				all_digits = false;
		}
		if (p[0] == '-' || p[l - 1] == '-')
			return ctng_err_set(err, CTNG_EINVAL,
			                    "name: label starts or ends with '-'");
		if (l >= 4 && p[2] == '-' && p[3] == '-' &&
		    !((p[0] == 'x' || p[0] == 'X') && (p[1] == 'n' || p[1] == 'N')))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "name: label with '--' in positions 3-4 must be an "
			                    "xn-- A-label (RFC 5890)");
		labels++;
		if (!dot) {
			if (all_digits)
				return ctng_err_set(err, CTNG_EINVAL,
				                    "name: top-level label is all digits");
			break;
		}
		p = dot + 1;
	}
	if (labels < 2)
		return ctng_err_set(err, CTNG_EINVAL, "name: needs at least two labels");
	return 0;
}

int ctng_dns_name_normalize(const char *name, char out[CTNG_DNS_NAME_MAX + 1], ctng_err *err)
{
	int rc = ctng_dns_name_check(name, err);
	if (rc)
		return rc;
	size_t i = 0;
	for (; name[i]; i++)
		out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	out[i] = 0;
	return 0;
}
