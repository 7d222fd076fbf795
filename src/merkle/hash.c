/*
 * hash.c — RFC 6962 / RFC 9162 leaf and node hashing with OpenSSL's EVP
 * SHA-256. The implementation is fetched once per process; hot paths reuse one
 * EVP_MD_CTX through mk_hasher so that no hash allocates.
 */
#include <pthread.h>
#include <string.h>

#include "merkle/merkle_internal.h"

static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha256_md = md ? md : EVP_sha256();
}

const EVP_MD *mk_sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md;
}

int mk_hasher_init(mk_hasher *h)
{
	h->ctx = EVP_MD_CTX_new();
	return h->ctx ? 0 : CTNG_ENOMEM;
}

void mk_hasher_free(mk_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int mk_hash_leaf(mk_hasher *h, uint8_t out[32], const void *data, size_t len)
{
	static const uint8_t prefix = 0x00;
	if (!EVP_DigestInit_ex2(h->ctx, mk_sha256(), NULL) ||
	    !EVP_DigestUpdate(h->ctx, &prefix, 1) ||
	    (len && !EVP_DigestUpdate(h->ctx, data, len)) || !EVP_DigestFinal_ex(h->ctx, out, NULL))
		return CTNG_ENOMEM;
	return 0;
}

int mk_hash_node(mk_hasher *h, uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
	uint8_t buf[65];
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	if (!EVP_DigestInit_ex2(h->ctx, mk_sha256(), NULL) || !EVP_DigestUpdate(h->ctx, buf, 65) ||
	    !EVP_DigestFinal_ex(h->ctx, out, NULL))
		return CTNG_ENOMEM;
	return 0;
}

int ctng_merkle_leaf_hash(uint8_t out[32], const void *data, size_t len)
{
	mk_hasher h;
	if (mk_hasher_init(&h))
		return CTNG_ENOMEM;
	int rc = mk_hash_leaf(&h, out, data, len);
	mk_hasher_free(&h);
	return rc;
}

int ctng_merkle_node_hash(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
	mk_hasher h;
	if (mk_hasher_init(&h))
		return CTNG_ENOMEM;
	int rc = mk_hash_node(&h, out, l, r);
	mk_hasher_free(&h);
	return rc;
}

void ctng_merkle_empty_root(uint8_t out[32])
{
	/* SHA-256 of the empty string. */
	static const uint8_t empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	                                  0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	                                  0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	                                  0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	memcpy(out, empty, 32);
}
