/*
 * addr.c — which IP addresses are on the public Internet (the client's
 * public_only check, made on the resolved address before every connect,
 * and the index's webhook policy for IP literals), and "ADDR/BITS" prefix
 * matching. The tables follow the IANA special-purpose address registries
 * (RFC 6890 and updates): an address is public only if it is in none of
 * their ranges that are not globally reachable. Addresses that embed an
 * IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) are judged by the embedded address, since
 * that is where the packets go.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net_internal.h"

struct range {
	uint8_t net[16];
	unsigned bits;
	const char *what;
};

static bool in_range(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, net, whole))
		return false;
	return !rest || ((a[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* IPv4, most specific first where ranges nest. */
static const struct range v4[] = {
    {{0, 0, 0, 0}, 32, "unspecified"},
    {{0}, 8, "reserved (\"this network\")"},
    {{10}, 8, "private"},
    {{100, 64}, 10, "shared (CGNAT)"},
    {{127}, 8, "loopback"},
    {{169, 254}, 16, "link-local"},
    {{172, 16}, 12, "private"},
    {{192, 0, 0}, 24, "reserved (IETF protocol assignments)"},
    {{192, 0, 2}, 24, "documentation"},
    {{192, 88, 99}, 24, "reserved (6to4 relay anycast)"},
    {{192, 168}, 16, "private"},
    {{198, 18}, 15, "benchmarking"},
    {{198, 51, 100}, 24, "documentation"},
    {{203, 0, 113}, 24, "documentation"},
    {{224}, 4, "multicast"},
    {{255, 255, 255, 255}, 32, "broadcast"},
    {{240}, 4, "reserved"},
};

/* IPv6, most specific first where ranges nest; every address outside
 * 2000::/3 (global unicast) that is not listed is reserved. */
static const struct range v6[] = {
    {{0}, 128, "unspecified"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback"},
    {{0x01, 0x00}, 64, "reserved (discard-only)"},
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, "benchmarking"},
    {{0x20, 0x01}, 23, "reserved (IETF protocol assignments)"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
    {{0x3f, 0xff}, 20, "documentation"},
    {{0xfc}, 7, "private (unique local)"},
    {{0xfe, 0x80}, 10, "link-local"},
    {{0xfe, 0xc0}, 10, "private (site-local)"},
    {{0xff}, 8, "multicast"},
};

static const char *v4_special(const uint8_t *a)
{
	for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++)
		if (in_range(a, v4[i].net, v4[i].bits))
			return v4[i].what;
	return NULL;
}

static const char *v6_special(const uint8_t *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t zero[12] = {0};
	for (size_t i = 0; i < 2; i++) /* :: and ::1 before the compat form */
		if (in_range(a, v6[i].net, v6[i].bits))
			return v6[i].what;
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
		return v4_special(a + 12);
	if (!memcmp(a, zero, 12)) { /* IPv4-compatible (deprecated): never public */
		const char *w = v4_special(a + 12);
		return w ? w : "reserved (IPv4-compatible)";
	}
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4: the IPv4 address in bits 16..47 */
		return v4_special(a + 2);
	for (size_t i = 2; i < sizeof v6 / sizeof v6[0]; i++)
		if (in_range(a, v6[i].net, v6[i].bits))
			return v6[i].what;
	if ((a[0] & 0xe0) != 0x20) /* outside 2000::/3 (local-use NAT64 64:ff9b:1::/48 too) */
		return "reserved";
	return NULL;
}

const char *ctng_net_ip_special(int af, const void *addr)
{
	if (!addr)
		return "unspecified";
	if (af == AF_INET)
		return v4_special(addr);
	if (af == AF_INET6)
		return v6_special(addr);
	return "not an IP address";
}

const char *ctng_net_sockaddr_special(const struct sockaddr *sa)
{
	if (sa && sa->sa_family == AF_INET)
		return v4_special((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa && sa->sa_family == AF_INET6)
		return v6_special((const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return "not an IP address";
}

int ctng_net_prefix_parse(const char *text, ctng_net_prefix *out)
{
	memset(out, 0, sizeof *out);
	const char *slash = text ? strchr(text, '/') : NULL;
	if (!slash)
		return CTNG_EINVAL;
	char net[64];
	size_t nl = (size_t)(slash - text);
	uint64_t bits = 0;
	if (nl >= sizeof net || ctng_parse_u64(slash + 1, 128, &bits, NULL))
		return CTNG_EINVAL;
	memcpy(net, text, nl);
	net[nl] = 0;
	out->af = strchr(net, ':') ? AF_INET6 : AF_INET;
	if (bits > (out->af == AF_INET6 ? 128u : 32u) || inet_pton(out->af, net, out->addr) != 1)
		return CTNG_EINVAL;
	out->bits = (unsigned)bits;
	return 0;
}

bool ctng_net_prefix_contains(const ctng_net_prefix *p, int af, const void *addr)
{
	return p && addr && p->af == af && in_range(addr, p->addr, p->bits);
}
