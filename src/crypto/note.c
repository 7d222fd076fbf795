/*
 * note.c — C2SP signed-note Ed25519 keys: key names, key IDs, the vkey
 * text format and signature lines (ctng/note.h). The Ed25519 signing is
 * ctng_sig's (OpenSSL); this file only frames it.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctng/note.h"

int ctng_note_name_check(const char *name, ctng_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > CTNG_NOTE_NAME_MAX)
		return ctng_err_set(err, CTNG_EINVAL, "note: key name must have 1..%d bytes",
		                    CTNG_NOTE_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c == 0x7f || c == '+')
			return ctng_err_set(err, CTNG_EINVAL,
			                    "note: key name must not hold spaces, controls or '+'");
	}
	return 0;
}

int ctng_note_key_id(const char *name, const uint8_t pub[32], uint8_t id[4], ctng_err *err)
{
	int rc = ctng_note_name_check(name, err);
	if (rc)
		return rc;
	size_t n = strlen(name);
	uint8_t *m = malloc(n + 2 + 32), h[32];
	if (!m)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	memcpy(m, name, n);
	m[n] = 0x0a;
	m[n + 1] = CTNG_NOTE_ED25519;
	memcpy(m + n + 2, pub, 32);
	unsigned int hl = 32;
	int ok = EVP_Digest(m, n + 2 + 32, h, &hl, EVP_sha256(), NULL);
	free(m);
	if (!ok)
		return ctng_err_set(err, CTNG_ENOMEM, "note: SHA-256 failed");
	memcpy(id, h, 4);
	return 0;
}

int ctng_note_ed25519_public(const ctng_sig_key *k, uint8_t pub[32], ctng_err *err)
{
	size_t len = 32;
	if (!k || ctng_sig_key_alg(k) != CTNG_SIG_ED25519 ||
	    EVP_PKEY_get_raw_public_key(ctng_sig_key_evp(k), pub, &len) != 1 || len != 32)
		return ctng_err_set(err, CTNG_EINVAL, "note: the key must be an Ed25519 key");
	return 0;
}

int ctng_note_vkey(const char *name, const ctng_sig_key *k, char **out, ctng_err *err)
{
	*out = NULL;
	uint8_t pub[33], id[4];
	int rc = ctng_note_ed25519_public(k, pub + 1, err);
	if (!rc)
		rc = ctng_note_key_id(name, pub + 1, id, err);
	if (rc)
		return rc;
	pub[0] = CTNG_NOTE_ED25519;
	char hex[9], b64[64];
	ctng_hex_encode(hex, id, 4);
	ctng_b64_encode(b64, pub, sizeof pub);
	if (asprintf(out, "%s+%s+%s", name, hex, b64) < 0) {
		*out = NULL;
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	}
	return 0;
}

int ctng_note_vkey_parse(const char *vkey, char name[CTNG_NOTE_NAME_MAX + 1], uint8_t pub[32],
                         ctng_err *err)
{
	const char *p1 = vkey ? strchr(vkey, '+') : NULL;
	const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (!p1 || !p2 || (size_t)(p1 - vkey) > CTNG_NOTE_NAME_MAX || p2 - p1 != 9)
		return ctng_err_set(err, CTNG_EINVAL, "note: vkey must be NAME+KEYID+KEY");
	memcpy(name, vkey, (size_t)(p1 - vkey));
	name[p1 - vkey] = 0;
	char hex[9];
	memcpy(hex, p1 + 1, 8);
	hex[8] = 0;
	uint8_t id[4], want[4], key[33];
	for (int i = 0; i < 8; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return ctng_err_set(err, CTNG_EINVAL,
			                    "note: vkey key ID must be 8 lower-case hex");
	if (ctng_hex_decode_exact(id, 4, hex, err) || ctng_b64_decode_exact(key, 33, p2 + 1, err))
		return ctng_err_set(err, CTNG_EINVAL, "note: vkey key ID or key malformed");
	if (key[0] != CTNG_NOTE_ED25519)
		return ctng_err_set(err, CTNG_EINVAL, "note: vkey is not an Ed25519 key");
	int rc = ctng_note_key_id(name, key + 1, want, err);
	if (rc)
		return rc;
	if (memcmp(id, want, 4))
		return ctng_err_set(err, CTNG_EINVAL, "note: vkey key ID does not match its key");
	memcpy(pub, key + 1, 32);
	return 0;
}

int ctng_note_sign_line(const char *name, const ctng_sig_key *k, const char *text, size_t len,
                        ctng_buf *out, ctng_err *err)
{
	uint8_t pub[32], blob[4 + CTNG_SIG_MAX_LEN];
	size_t sl = 0;
	int rc;
	if ((rc = ctng_note_ed25519_public(k, pub, err)) ||
	    (rc = ctng_note_key_id(name, pub, blob, err)) ||
	    (rc = ctng_sig_sign(k, (const uint8_t *)text, len, blob + 4, &sl, err)))
		return rc;
	if (sl != 64)
		return ctng_err_set(err, CTNG_EINVAL, "note: not an Ed25519 signature");
	char b64[96];
	ctng_b64_encode(b64, blob, 4 + 64);
	if (ctng_buf_printf(out, "\xe2\x80\x94 %s %s\n", name, b64))
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	return 0;
}
