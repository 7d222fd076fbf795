/*
 * types.c — the twelve gossip object types (URI, short name, family, kind),
 * crypto schemes, entity ids and object ids (DESIGN §3, docs/protocol.md §2).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto/proto_internal.h"

const enum ctng_type ctng_all_types[CTNG_TYPE_COUNT] = {
    CTNG_STH,      CTNG_REV,      CTNG_ACC,      CTNG_CON,      CTNG_STH_FRAG, CTNG_REV_FRAG,
    CTNG_ACC_FRAG, CTNG_CON_FRAG, CTNG_STH_FULL, CTNG_REV_FULL, CTNG_ACC_FULL, CTNG_CON_FULL,
};

static const struct {
	enum ctng_type type;
	const char *uri;
	const char *name;
} type_table[CTNG_TYPE_COUNT] = {
    {CTNG_STH, CTNG_TYPE_URI_PREFIX "101", "STH"},
    {CTNG_REV, CTNG_TYPE_URI_PREFIX "102", "REV"},
    {CTNG_ACC, CTNG_TYPE_URI_PREFIX "103", "ACC"},
    {CTNG_CON, CTNG_TYPE_URI_PREFIX "104", "CON"},
    {CTNG_STH_FRAG, CTNG_TYPE_URI_PREFIX "201", "STH_FRAG"},
    {CTNG_REV_FRAG, CTNG_TYPE_URI_PREFIX "202", "REV_FRAG"},
    {CTNG_ACC_FRAG, CTNG_TYPE_URI_PREFIX "203", "ACC_FRAG"},
    {CTNG_CON_FRAG, CTNG_TYPE_URI_PREFIX "204", "CON_FRAG"},
    {CTNG_STH_FULL, CTNG_TYPE_URI_PREFIX "301", "STH_FULL"},
    {CTNG_REV_FULL, CTNG_TYPE_URI_PREFIX "302", "REV_FULL"},
    {CTNG_ACC_FULL, CTNG_TYPE_URI_PREFIX "303", "ACC_FULL"},
    {CTNG_CON_FULL, CTNG_TYPE_URI_PREFIX "304", "CON_FULL"},
};

static int type_index(enum ctng_type t)
{
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		if (type_table[i].type == t)
			return i;
	return -1;
}

bool ctng_type_valid(enum ctng_type t)
{
	return type_index(t) >= 0;
}

const char *ctng_type_uri(enum ctng_type t)
{
	int i = type_index(t);
	return i < 0 ? NULL : type_table[i].uri;
}

const char *ctng_type_name(enum ctng_type t)
{
	int i = type_index(t);
	return i < 0 ? NULL : type_table[i].name;
}

enum ctng_type ctng_type_from_uri(const char *uri)
{
	if (!uri)
		return CTNG_TYPE_NONE;
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		if (strcmp(type_table[i].uri, uri) == 0)
			return type_table[i].type;
	return CTNG_TYPE_NONE;
}

enum ctng_type ctng_type_from_name(const char *name)
{
	if (!name)
		return CTNG_TYPE_NONE;
	for (int i = 0; i < CTNG_TYPE_COUNT; i++)
		if (strcmp(type_table[i].name, name) == 0)
			return type_table[i].type;
	return CTNG_TYPE_NONE;
}

enum ctng_family ctng_type_family(enum ctng_type t)
{
	return ctng_type_valid(t) ? (enum ctng_family)(t % 100) : CTNG_FAM_NONE;
}

enum ctng_kind ctng_type_kind(enum ctng_type t)
{
	return ctng_type_valid(t) ? (enum ctng_kind)(t / 100) : CTNG_KIND_NONE;
}

enum ctng_type ctng_type_make(enum ctng_family f, enum ctng_kind k)
{
	if (f < CTNG_FAM_STH || f > CTNG_FAM_CON || k < CTNG_KIND_INIT || k > CTNG_KIND_FULL)
		return CTNG_TYPE_NONE;
	return (enum ctng_type)((int)k * 100 + (int)f);
}

const char *ctng_family_name(enum ctng_family f)
{
	static const char *names[] = {NULL, "STH", "REV", "ACC", "CON"};
	return (f >= CTNG_FAM_STH && f <= CTNG_FAM_CON) ? names[f] : NULL;
}

const char *ctng_scheme_name(enum ctng_scheme s)
{
	switch (s) {
	case CTNG_SCHEME_ECDSA_P256:
		return "ecdsa-p256";
	case CTNG_SCHEME_ED25519:
		return "ed25519";
	case CTNG_SCHEME_BLS:
		return "bls12-381";
	default:
		return NULL;
	}
}

enum ctng_scheme ctng_scheme_from_name(const char *s)
{
	if (!s)
		return CTNG_SCHEME_NONE;
	if (strcmp(s, "ecdsa-p256") == 0)
		return CTNG_SCHEME_ECDSA_P256;
	if (strcmp(s, "ed25519") == 0)
		return CTNG_SCHEME_ED25519;
	if (strcmp(s, "bls12-381") == 0)
		return CTNG_SCHEME_BLS;
	return CTNG_SCHEME_NONE;
}

bool ctng_id_valid(const char *id)
{
	if (!id)
		return false;
	size_t n = strlen(id);
	if (n == 0 || n > CTNG_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

const char *ctng_gossip_entity(const ctng_gossip_object *o)
{
	enum ctng_family f = ctng_type_family(o->type);
	enum ctng_kind k = ctng_type_kind(o->type);
	if (f == CTNG_FAM_NONE)
		return "";
	if (k == CTNG_KIND_INIT && (f == CTNG_FAM_STH || f == CTNG_FAM_REV))
		return o->signer;
	return ctng_gossip_str(o->payload[0]);
}

int ctng_gossip_id_of(const ctng_gossip_object *o, ctng_gossip_id *id, ctng_err *err)
{
	memset(id, 0, sizeof(*id));
	enum ctng_family f = ctng_type_family(o->type);
	if (f == CTNG_FAM_NONE)
		return ctng_err_set(err, CTNG_EINVAL, "object has no valid type");
	const char *e = ctng_gossip_entity(o);
	if (!ctng_id_valid(e))
		return ctng_err_set(err, CTNG_EINVAL, "object names no valid entity");
	id->family = f;
	memcpy(id->entity, e, strlen(e) + 1);
	id->period = o->period;
	return 0;
}

void ctng_gossip_id_str(const ctng_gossip_id *id, char out[CTNG_GOSSIP_ID_STR_MAX])
{
	const char *f = ctng_family_name(id->family);
	snprintf(out, CTNG_GOSSIP_ID_STR_MAX, "%s/%s/%llu", f ? f : "?", id->entity,
	         (unsigned long long)id->period);
}

bool ctng_gossip_id_equal(const ctng_gossip_id *a, const ctng_gossip_id *b)
{
	return a->family == b->family && a->period == b->period &&
	       strcmp(a->entity, b->entity) == 0;
}

int proto_sha256(const void *data, size_t len, uint8_t out[32], ctng_err *err)
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return ctng_err_set(err, CTNG_ENOMEM, "SHA-256 failed");
	return 0;
}

bool proto_is_lower_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < 2 * n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}
