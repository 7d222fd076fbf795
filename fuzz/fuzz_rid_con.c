/* fuzz_rid_con.c — libFuzzer target for the RID evidence: the RID
 * extension decoder (whatever it accepts re-encodes to the same bytes) and
 * the RID CON (docs/protocol.md §5.2): bytes as a gossip object, and if it
 * is a RID CON, its structure, parts and verification against the CA of
 * the protocol vector (tests/vectors/ctng/ridcon.json). Never crashes; a
 * RID CON that verifies must name two certificates with one RID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/cert.h"

/* ca1 of tests/vectors/ctng/ridcon.json */
static const char root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBGzCBzqADAgECAhB8K47FUzWLhvKhHbW22qP2MAUGAytlcDAOMQwwCgYDVQQD\n"
    "DANjYTEwHhcNMjMxMTE0MjIxMzIwWhcNMzMxMTExMjIxMzIwWjAOMQwwCgYDVQQD\n"
    "DANjYTEwKjAFBgMrZXADIQDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdR\n"
    "GqNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYE\n"
    "FFsnqlWJF5dw5HV1sWKh3tl7i/xtMAUGAytlcANBAOZnOg4jPazlzWkCHp0TI7zO\n"
    "uIrtEc9aIFPxa20v+1WAHugLJnod4QR+PiruFYQUi4c3GPOYn8P92hre6Zur8Qc=\n"
    "-----END CERTIFICATE-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t rid;
	if (ctng_rid_ext_decode(data, size, &rid, NULL) == 0) {
		uint8_t b[CTNG_RID_EXT_MAX];
		if (ctng_rid_ext_encode(rid, b) != size || memcmp(b, data, size))
			__builtin_trap();
	}
	static ctng_entity ca;
	if (!ca.key) {
		snprintf(ca.id, sizeof ca.id, "ca1");
		ca.role = CTNG_ROLE_CA;
		ca.root_cert_pem = (char *)root_pem;
		if (ctng_sig_load_public_hex("302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0"
		                             "ee172f3daa62325af021a68f707511a",
		                             &ca.key, NULL))
			__builtin_trap();
	}
	ctng_gossip_object o = {0};
	if (ctng_gossip_decode((const char *)data, size, &o, NULL) == 0 && ctng_con_is_rid(&o)) {
		uint8_t *a = NULL, *b = NULL;
		size_t an = 0, bn = 0;
		if (ctng_rid_con_parts(&o, &rid, &a, &an, &b, &bn, NULL) != 0)
			__builtin_trap(); /* decode checked the structure already */
		if (ctng_rid_con_verify(&o, &ca, NULL) == 0) {
			ctng_cert_view va, vb;
			uint32_t ra, rb;
			if (ctng_cert_view_parse(a, an, &va, NULL) ||
			    ctng_cert_view_parse(b, bn, &vb, NULL) || ctng_cert_view_rid(&va, &ra, NULL) ||
			    ctng_cert_view_rid(&vb, &rb, NULL) || ra != rid || rb != rid)
				__builtin_trap();
		}
		free(a);
		free(b);
	}
	ctng_gossip_clear(&o);
	return 0;
}
