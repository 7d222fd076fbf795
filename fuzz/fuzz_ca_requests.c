/* fuzz_ca_requests.c — libFuzzer target for the CA's request parsers: the
 * first byte picks issuance (POST /ctng/v1/certificates), revocation (POST
 * /ctng/v1/revocations), status handle, SCT or proof reply; the rest is the
 * JSON body. A CA on an in-memory database with one issued-looking state is
 * set up once. Nothing may crash; errors must carry a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ctng/ca.h"
#include "ctng/net.h"

static ctng_ca *ca;
static ctng_network net;
static ctng_sig_key *key;

static void setup(void)
{
	X509 *root = NULL;
	char *pem = NULL;
	uint64_t now = ctng_now_ms();
	ctng_log_set_level(CTNG_LOG_OFF);
	net.clock.genesis_ms = now - 100000;
	net.clock.period_ms = 1000;
	net.entities = calloc(1, sizeof(ctng_entity));
	net.n_entities = 1;
	strcpy(net.entities[0].id, "logger1");
	net.entities[0].role = CTNG_ROLE_LOGGER;
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &key, NULL) ||
	    ctng_sig_key_public_copy(key, &net.entities[0].key, NULL) ||
	    ctng_cert_make_root("fuzz", key, now - 1000, now + 86400000, &root, NULL) ||
	    ctng_cert_to_pem(root, &pem, NULL, NULL))
		abort();
	ctng_ca_opts o = {
	    .id = "ca1", .key = key, .root_pem = pem, .net = &net, .db_path = ":memory:"};
	if (ctng_ca_open(&o, &ca, NULL))
		abort();
	char *pub = NULL, h[CTNG_CA_HANDLE_LEN + 1];
	uint32_t rid;
	if (ctng_sig_public_pem(key, &pub, NULL, NULL) ||
	    ctng_ca_request(ca, "seed.example", pub, now, h, &rid, NULL))
		abort();
	free(pub);
	free(pem);
	X509_free(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ca)
		setup();
	if (size < 1)
		return 0;
	json_t *j = NULL, *reply = NULL;
	ctng_err err = {0};
	int rc = 0;
	if (data[0] % 5 == 2) {
		char *h = malloc(size);
		memcpy(h, data + 1, size - 1);
		h[size - 1] = 0;
		rc = ctng_ca_status_json(ca, h, &reply, &err);
		free(h);
	} else if (ctng_net_parse_json(data + 1, size - 1, 1u << 16, &j, NULL) == 0) {
		switch (data[0] % 5) {
		case 0:
			rc = ctng_ca_request_json(ca, j, ctng_now_ms(), &reply, &err);
			break;
		case 1:
			rc = ctng_ca_revoke_json(ca, j, ctng_now_ms(), &reply, &err);
			break;
		case 3:
			rc = ctng_ca_record_sct(ca, 0, "logger1", j, &err);
			break;
		default:
			rc = ctng_ca_record_proof(ca, 0, "logger1", 5, j, &err);
			break;
		}
	}
	if (rc && !err.msg[0])
		__builtin_trap();
	json_decref(j);
	json_decref(reply);
	return 0;
}
