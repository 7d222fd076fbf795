/*
 * ctng/note.h — C2SP signed-note Ed25519 keys and signatures
 * (https://c2sp.org/signed-note), so that a logger's checkpoint
 * (c2sp.org/tlog-checkpoint) can be verified and cosigned by witnesses
 * (c2sp.org/tlog-cosignature) with the standard tools, e.g. Go's
 * golang.org/x/mod/sumdb/note.
 *
 *   key name  : non-empty, printable ASCII/UTF-8 without spaces or '+'
 *   key ID    : SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]
 *   vkey      : "<name>+<key ID, 8 lower-case hex>+<base64(0x01 || public key)>"
 *   signature : a line "\u2014 <name> <base64(key ID || Ed25519(note text))>\n"
 *               where the note text is everything before the blank line,
 *               final newline included.
 * Errors: CTNG_EINVAL (malformed name or vkey, not an Ed25519 key),
 * CTNG_ENOMEM.
 */
#ifndef CTNG_NOTE_H
#define CTNG_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "ctng/base.h"
#include "ctng/sig.h"

#define CTNG_NOTE_NAME_MAX 256
#define CTNG_NOTE_ED25519  0x01 /* signature type of Ed25519 note keys */

/* Checks a key name (see above). */
int ctng_note_name_check(const char *name, ctng_err *err);
/* The 4-byte key ID of an Ed25519 key named `name`. */
int ctng_note_key_id(const char *name, const uint8_t pub[32], uint8_t id[4], ctng_err *err);
/* The vkey string of an Ed25519 key (public half used); *out malloc'd. */
int ctng_note_vkey(const char *name, const ctng_sig_key *k, char **out, ctng_err *err);
/* Parses a vkey: Ed25519 type, the key ID matches name and key. name gets
 * the key name (NUL-terminated), pub the raw public key. */
int ctng_note_vkey_parse(const char *vkey, char name[CTNG_NOTE_NAME_MAX + 1], uint8_t pub[32],
                         ctng_err *err);
/* The raw 32-byte public key of an Ed25519 ctng_sig_key. */
int ctng_note_ed25519_public(const ctng_sig_key *k, uint8_t pub[32], ctng_err *err);
/* Appends to out the signature line of `text` (the note text) by the
 * Ed25519 private key k under `name`. */
int ctng_note_sign_line(const char *name, const ctng_sig_key *k, const char *text, size_t len,
                        ctng_buf *out, ctng_err *err);

#endif
