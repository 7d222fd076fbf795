/*
 * rp_verify.c — a relying party outside the project: compiled by
 * tests/integration/test_install.c against an installed libctng with
 * nothing but `pkg-config --cflags --libs ctng`, it validates one
 * certificate offline with the client API (ctng/client.h).
 *
 *   rp_verify STATE CERT.pem   -> "valid: ..." exit 0, "REASON: ..." exit 1,
 *                                 usage or unreadable input exit 2
 */
#include <stdio.h>
#include <stdlib.h>

#include <ctng/base.h>
#include <ctng/client.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rp_verify STATE CERT.pem\n");
		return 2;
	}
	ctng_err err = {0};
	uint8_t *pem = NULL;
	size_t len = 0;
	if (ctng_read_file(argv[2], 1 << 20, &pem, &len, &err)) {
		fprintf(stderr, "%s: %s\n", argv[2], err.msg);
		return 2;
	}
	ctng_client *c = NULL;
	if (ctng_client_open(argv[1], NULL, 0, &c, &err)) {
		fprintf(stderr, "%s: %s\n", argv[1], err.msg);
		free(pem);
		return 2;
	}
	ctng_client_result r;
	int rc = ctng_client_validate_pem(c, (const char *)pem, len, ctng_now_ms(), &r, &err);
	ctng_client_close(c);
	free(pem);
	if (rc) {
		fprintf(stderr, "error: %s\n", err.msg);
		return 2;
	}
	if (r.reason == CTNG_CLIENT_OK) {
		printf("valid: %s (libctng %s)\n", r.message, ctng_version());
		return 0;
	}
	printf("%s: %s\n", ctng_client_reason_name(r.reason), r.message);
	return 1;
}
