/* config_internal.h — JSON and parsing helpers shared by the config module's files. */
#ifndef CTNG_CONFIG_INTERNAL_H
#define CTNG_CONFIG_INTERNAL_H

#include <jansson.h>

#include "ctng/config.h"

/* Strict load of a configuration text (duplicates rejected, size-limited). */
int cfg_load_json(const char *text, size_t len, json_t **out, ctng_err *err);
/* Rejects keys of obj that are not in the NULL-terminated list `allowed`. */
int cfg_check_keys(const json_t *obj, const char *where, const char *const *allowed, ctng_err *err);
int cfg_get_u64(const json_t *obj, const char *where, const char *key, uint64_t max, uint64_t *out,
                ctng_err *err);
int cfg_get_str(const json_t *obj, const char *where, const char *key, size_t max, const char **out,
                ctng_err *err);
/* Sets `key` to `value` (taken) in DIR/<id>/config.json, rewritten 0600. */
int cfg_config_set(const char *dir, const char *id, const char *key, json_t *value,
                   ctng_err *err);
/* ctng init --tls (init_tls.c): the test CA in DIR/tls/ (its PEM text and
 * key returned, malloc'd), and one node's certificate chain and key in
 * DIR/<id>/tls/ with "tls" set in its config.json. */
int cfg_init_tls_ca(const char *dir, uint64_t now_ms, char **ca_pem, char **ca_key,
                    ctng_err *err);
int cfg_init_tls_node(const char *dir, const char *id, const char *host, const char *ca_pem,
                      const char *ca_key, uint64_t now_ms, ctng_err *err);
/* Length of url's "http://" or "https://" prefix (0 if neither); *tls
 * says which. */
size_t cfg_url_scheme(const char *url, bool *tls);
/* "HOST:PORT" with a DNS-ish host and port 1..65535. */
int cfg_parse_hostport(const char *s, char host[CTNG_HOST_MAX], uint16_t *port, ctng_err *err);
/* PEM text or hex DER SubjectPublicKeyInfo. */
int cfg_load_public_key(const char *s, ctng_sig_key **out, ctng_err *err);

/* Fingerprint (ctng_network_fingerprint) of a parsed network.json object. */
int cfg_fingerprint(const json_t *j, uint8_t out[32], ctng_err *err);
/* Share keys of every gossiper of net from the commitments (pks[i] for
 * net->entities[i]; other rows untouched), after checking group_pk and the
 * commitments against net (threshold, reshared group key). */
int cfg_share_pks(const ctng_network *net, const uint8_t group_pk[96],
                  const uint8_t (*commitments)[96], size_t n_commitments, uint8_t (*pks)[96],
                  ctng_err *err);
/* Self-signed CA root certificate for `id` (docs/config.md §4), PEM in *pem
 * (malloc'd), valid from an hour before now_ms for ten years. */
int cfg_make_root(const char *id, const ctng_sig_key *key, uint64_t now_ms, char **pem,
                  ctng_err *err);
/* Writes j as indented JSON plus a newline, atomically, with mode. */
int cfg_write_json(const char *path, const json_t *j, int mode, ctng_err *err);

#endif
