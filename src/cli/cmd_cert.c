/*
 * cmd_cert.c — `ctng cert request|fetch|revoke`: the domain owner's side of
 * the CA API (docs/ca.md). request sends the name and the public half of
 * KEY.pem, then polls until the certificate is issued (or --timeout passes,
 * printing the handle so `fetch` can pick it up later); revoke signs the
 * revocation message with the certificate's key (or the CA operator key).
 */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "ctng/ca.h"
#include "ctng/cert.h"
#include "ctng/net.h"

static const char usage[] =
    "usage: ctng cert request --ca URL --name DNS --key KEY.pem --out CERT.pem\n"
    "                         [--timeout SECONDS] (default 120)\n"
    "       ctng cert fetch   --ca URL --handle HANDLE --out CERT.pem [--timeout SECONDS]\n"
    "       ctng cert revoke  --ca URL --cert CERT.pem --key KEY.pem\n"
    "URL is http:// or https:// (verified against the system roots, or the CA bundle\n"
    "given with --tls-ca CA.pem, accepted by every form).\n"
    "request: asks the CA for a certificate for DNS and the public key of KEY.pem\n"
    "(P-256 or Ed25519 private key PEM) and waits until it is issued (the next period\n"
    "start); on timeout prints the handle and exits 1. revoke: KEY.pem is the\n"
    "certificate's own key or the CA operator key. Exit 0 ok, 1 failed, 2 bad usage.\n";

#define HTTP_TIMEOUT_MS 10000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Calls the CA; on success *out is the parsed JSON reply (status 200). */
static int call(const char *cmd, const char *method, const char *url, const json_t *body,
                json_t **out)
{
	*out = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int status = 0;
	uint8_t *resp = NULL;
	size_t len = 0;
	ctng_err e = {0};
	int rc =
	    ctng_net_fetch_sync(url, method, text ? "application/json" : NULL, text,
	                        text ? strlen(text) : 0, HTTP_TIMEOUT_MS, &status, &resp, &len, &e);
	free(text);
	if (rc)
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s: %s", url, e.msg);
	json_t *j = NULL;
	if (ctng_net_parse_json(resp, len, 0, &j, &e)) {
		free(resp);
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s: HTTP %d, reply is not JSON", url,
		                     status);
	}
	free(resp);
	if (status != 200) {
		const char *why = json_string_value(json_object_get(j, "error"));
		int st = status >= 400 && status < 500 && status != 404 && status != 409
		             ? CTNG_EXIT_USAGE
		             : CTNG_EXIT_INVALID;
		ctng_cli_fail(st, cmd, "CA refused (HTTP %d): %s", status, why ? why : "?");
		json_decref(j);
		return st;
	}
	*out = j;
	return 0;
}

static int wait_issued(const char *cmd, const char *ca, const char *handle, uint64_t timeout_s,
                       const ctng_sig_key *key, const char *name, const char *out_path)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s/ctng/v1/certificates/%s", ca, handle);
	uint64_t deadline = ctng_mono_ms() + timeout_s * 1000;
	for (;;) {
		json_t *j = NULL;
		int rc = call(cmd, "GET", url, NULL, &j);
		if (rc)
			return rc;
		const char *st = json_string_value(json_object_get(j, "status"));
		const char *pem = json_string_value(json_object_get(j, "certificate"));
		if (st && !strcmp(st, "issued") && pem) {
			X509 *x = NULL;
			ctng_err e = {0};
			ctng_sig_key *ck = NULL;
			char dn[CTNG_DNS_NAME_MAX + 1];
			rc = ctng_cert_from_pem(pem, strlen(pem), &x, &e);
			if (!rc && key &&
			    (ctng_sig_key_from_evp(X509_get0_pubkey(x), &ck, &e) ||
			     !ctng_sig_key_public_equal(ck, key)))
				rc = ctng_err_set(&e, CTNG_EVERIFY,
				                  "certificate is not for our key");
			if (!rc && name &&
			    (ctng_cert_dns_name(x, dn, &e) || strcasecmp(dn, name) != 0))
				rc = ctng_err_set(&e, CTNG_EVERIFY, "certificate is not for %s",
				                  name);
			if (!rc)
				rc = ctng_cert_save_file(x, out_path, 0644, &e);
			ctng_sig_key_free(ck);
			X509_free(x);
			json_decref(j);
			if (rc)
				return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s", e.msg);
			fprintf(stderr, "ctng %s: certificate written to %s\n", cmd, out_path);
			return CTNG_EXIT_OK;
		}
		json_decref(j);
		if (ctng_mono_ms() >= deadline) {
			printf("%s\n", handle);
			return ctng_cli_fail(CTNG_EXIT_INVALID, cmd,
			                     "timed out waiting for issuance; handle %s (use ctng "
			                     "cert fetch)",
			                     handle);
		}
		sleep_ms(250);
	}
}

static int parse_timeout(const char *cmd, const char *v, uint64_t *t)
{
	if (v && ctng_parse_u64(v, 86400 * 365, t, NULL))
		return ctng_cli_usage_error(cmd, "--timeout must be a number of seconds");
	return 0;
}

static int do_request(int argc, char **argv)
{
	const char *cmd = "cert request", *ca = NULL, *name = NULL, *keyp = NULL, *out = NULL,
	           *to = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--ca")))
			ca = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--name")))
			name = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--key")))
			keyp = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--out")))
			out = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--timeout")))
			to = v;
		else
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
	}
	if (!ca || !name || !keyp || !out)
		return ctng_cli_usage_error(cmd, "--ca, --name, --key and --out are required");
	uint64_t timeout = 120;
	if (parse_timeout(cmd, to, &timeout))
		return CTNG_EXIT_USAGE;
	ctng_err e = {0};
	if (ctng_dns_name_check(name, &e))
		return ctng_cli_usage_error(cmd, "%s", e.msg);
	ctng_sig_key *key = NULL;
	if (ctng_sig_load_private_file(keyp, &key, &e))
		return ctng_cli_usage_error(cmd, "%s: %s", keyp, e.msg);
	char *pub = NULL;
	if (ctng_sig_public_pem(key, &pub, NULL, &e)) {
		ctng_sig_key_free(key);
		return ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "%s", e.msg);
	}
	json_t *body = json_pack("{s:s,s:s}", "name", name, "public_key", pub), *j = NULL;
	free(pub);
	char url[1024];
	snprintf(url, sizeof(url), "%s/ctng/v1/certificates", ca);
	int rc = call(cmd, "POST", url, body, &j);
	json_decref(body);
	if (!rc) {
		const char *h = json_string_value(json_object_get(j, "handle"));
		if (!h) {
			rc = ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "CA reply has no handle");
		} else {
			char handle[CTNG_CA_HANDLE_LEN + 1];
			snprintf(handle, sizeof(handle), "%s", h);
			fprintf(stderr, "ctng %s: pending, rid %lld, handle %s\n", cmd,
			        (long long)json_integer_value(json_object_get(j, "rid")), handle);
			rc = wait_issued(cmd, ca, handle, timeout, key, name, out);
		}
	}
	json_decref(j);
	ctng_sig_key_free(key);
	return rc;
}

static int do_fetch(int argc, char **argv)
{
	const char *cmd = "cert fetch", *ca = NULL, *h = NULL, *out = NULL, *to = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--ca")))
			ca = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--handle")))
			h = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--out")))
			out = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--timeout")))
			to = v;
		else
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
	}
	if (!ca || !h || !out)
		return ctng_cli_usage_error(cmd, "--ca, --handle and --out are required");
	uint64_t timeout = 0;
	if (parse_timeout(cmd, to, &timeout))
		return CTNG_EXIT_USAGE;
	if (strlen(h) != CTNG_CA_HANDLE_LEN || strspn(h, "0123456789abcdef") != CTNG_CA_HANDLE_LEN)
		return ctng_cli_usage_error(cmd, "--handle must be %d lower-case hex digits",
		                            CTNG_CA_HANDLE_LEN);
	return wait_issued(cmd, ca, h, timeout, NULL, NULL, out);
}

static int do_revoke(int argc, char **argv)
{
	const char *cmd = "cert revoke", *ca = NULL, *certp = NULL, *keyp = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = ctng_cli_flag(argc, argv, &i, "--ca")))
			ca = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--cert")))
			certp = v;
		else if ((v = ctng_cli_flag(argc, argv, &i, "--key")))
			keyp = v;
		else
			return ctng_cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
	}
	if (!ca || !certp || !keyp)
		return ctng_cli_usage_error(cmd, "--ca, --cert and --key are required");
	ctng_err e = {0};
	X509 *x = NULL;
	ctng_sig_key *key = NULL;
	ctng_cert_proofs ps = {0};
	json_t *info = NULL, *body = NULL, *j = NULL;
	ctng_buf msg = {0};
	int rc = 0;
	uint8_t fp[32];
	char url[1024];
	if (ctng_cert_load_file(certp, &x, &e) || ctng_cert_get_proofs(x, &ps, &e) ||
	    ctng_cert_sha256(x, fp, &e)) {
		rc = ctng_cli_usage_error(cmd, "%s: %s", certp, e.msg);
		goto out;
	}
	if (ctng_sig_load_private_file(keyp, &key, &e)) {
		rc = ctng_cli_usage_error(cmd, "%s: %s", keyp, e.msg);
		goto out;
	}
	snprintf(url, sizeof(url), "%s/ctng/v1/info", ca);
	if ((rc = call(cmd, "GET", url, NULL, &info)))
		goto out;
	const char *ca_id = json_string_value(json_object_get(info, "ca"));
	uint8_t sig[CTNG_SIG_MAX_LEN];
	size_t sl = 0;
	if (!ca_id || ctng_ca_revoke_message(ca_id, ps.rid, fp, &msg, &e) ||
	    ctng_sig_sign(key, msg.data, msg.len, sig, &sl, &e)) {
		rc = ctng_cli_fail(CTNG_EXIT_INVALID, cmd, "cannot sign: %s",
		                   ca_id ? e.msg : "CA info has no id");
		goto out;
	}
	char hex[65], *b64 = ctng_b64_strdup(sig, sl);
	ctng_hex_encode(hex, fp, 32);
	body = json_pack("{s:I,s:s,s:s}", "rid", (json_int_t)ps.rid, "cert_sha256", hex,
	                 "signature", b64 ? b64 : "");
	free(b64);
	snprintf(url, sizeof(url), "%s/ctng/v1/revocations", ca);
	if ((rc = call(cmd, "POST", url, body, &j)))
		goto out;
	printf("%s rid %u\n", json_string_value(json_object_get(j, "status")), ps.rid);
out:
	json_decref(info);
	json_decref(body);
	json_decref(j);
	ctng_buf_free(&msg);
	ctng_cert_proofs_clear(&ps);
	ctng_sig_key_free(key);
	X509_free(x);
	return rc;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return ctng_cli_usage_error(argv[0], "expected request, fetch or revoke");
	/* --tls-ca FILE, shared by the three: taken out before they parse */
	int n = 0;
	for (int i = 0; i < argc; i++) {
		const char *v;
		if (i >= 2 && (v = ctng_cli_flag(argc, argv, &i, "--tls-ca"))) {
			if (ctng_cli_tls_ca("cert", v))
				return CTNG_EXIT_USAGE;
			continue;
		}
		argv[n++] = argv[i];
	}
	argc = n;
	if (!strcmp(argv[1], "request"))
		return do_request(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fetch"))
		return do_fetch(argc - 1, argv + 1);
	if (!strcmp(argv[1], "revoke"))
		return do_revoke(argc - 1, argv + 1);
	return ctng_cli_usage_error(argv[0], "unknown subcommand '%s'", argv[1]);
}

const ctng_cli_cmd ctng_cmd_cert = {"cert", "request, fetch or revoke a certificate", usage, run};
