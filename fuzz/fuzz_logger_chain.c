/*
 * fuzz_logger_chain.c — libFuzzer target for the logger's submission path:
 * the add-chain / add-pre-chain body parser (ctng_logger_chain_parse) and
 * then full validation (ctng_logger_prepare: DER parsing, chain checks
 * against a root, RFC 6962 entry building) on a logger over an in-memory
 * database with one generated root. Nothing may crash or leak; accepted
 * input must give a durable-able submission with a 32-byte leaf hash.
 * Differential: whatever the fast body reader accepts, the JSON parser
 * accepts with the same certificates, and what it refuses outright the
 * JSON parser refuses too.
 */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/logger/logger_internal.h"
#include "ctng/cert.h"
#include "ctng/logger.h"
#include "ctng/store.h"

static ctng_store *store;
static ctng_logger *lg;
static ctng_sig_key *log_key, *ca_key;

static void init(void)
{
	ctng_log_set_level(CTNG_LOG_OFF);
	if (ctng_sig_generate(CTNG_SIG_ECDSA_P256, &log_key, NULL) ||
	    ctng_sig_generate(CTNG_SIG_ECDSA_P256, &ca_key, NULL))
		abort();
	struct x509_st *root = NULL;
	char *pem = NULL;
	if (ctng_cert_make_root("Fuzz Root", ca_key, 0, 4102444800000ull, &root, NULL) ||
	    ctng_cert_to_pem(root, &pem, NULL, NULL))
		abort();
	store = ctng_store_open(":memory:", NULL);
	const char *roots[1] = {pem};
	ctng_logger_params p = {.id = "logger1",
	                        .key = log_key,
	                        .clock = {.genesis_ms = 1000, .period_ms = 1000},
	                        .root_pems = roots,
	                        .n_roots = 1};
	if (!store || ctng_logger_open(store, &p, &lg, NULL))
		abort();
	free(pem);
	X509_free(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!lg)
		init();
	ctng_logger_chain c, fast, slow;
	ctng_err e = {0};
	int f = lg_chain_parse_fast(data, size, &fast, NULL);
	if (f != 0) {
		int j = lg_chain_parse_json(data, size, &slow, NULL);
		if ((f == 1) != (j == 0))
			__builtin_trap();
		if (f == 1) {
			if (fast.n != slow.n)
				__builtin_trap();
			for (size_t i = 0; i < fast.n; i++)
				if (fast.len[i] != slow.len[i] ||
				    memcmp(fast.der[i], slow.der[i], fast.len[i]))
					__builtin_trap();
			ctng_logger_chain_clear(&fast);
			ctng_logger_chain_clear(&slow);
		}
	}
	if (ctng_logger_chain_parse(data, size, &c, &e) == 0) {
		if (c.n < 1 || c.n > CTNG_LOGGER_MAX_CHAIN)
			abort();
		ctng_logger_chain_clear(&c);
	} else if (!e.msg[0]) {
		abort(); /* every rejection has a reason */
	}
	for (int pre = 0; pre < 2; pre++) {
		ctng_logger_sub *s = NULL;
		if (ctng_logger_prepare(lg, data, size, pre, 5000, &s, NULL) == 0) {
			size_t n = 0;
			if (!ctng_logger_sub_leaf(s, &n) || n < 12)
				abort();
			ctng_logger_sub_free(s);
		}
	}
	return 0;
}
