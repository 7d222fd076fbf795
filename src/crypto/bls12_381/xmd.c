/*
 * xmd.c — RFC 9380 expand_message_xmd with SHA-256 (section 5.3.1), the
 * byte source of hash_to_field.
 *
 * Hashing goes through OpenSSL's EVP (DESIGN §4). Each thread keeps one
 * EVP_MD_CTX for all its calls (freed when the thread exits) and the SHA-256
 * implementation is fetched once per process, so a call allocates no context;
 * the suffix DST' || len(DST') every block hash ends with is assembled once
 * per call. (OpenSSL 3.0 still allocates its small digest state inside each
 * EVP_DigestInit_ex2; avoiding that would need a SHA-256 of our own.)
 * Hashed data is public (messages, DSTs), except for the dealer's seed in
 * threshold.c, which only passes through SHA-256.
 */
#include <openssl/evp.h>
#include <pthread.h>

#include "crypto/bls12_381/hash_to_curve.h"

#define SHA256_LEN   32
#define SHA256_BLOCK 64

static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_ok;

static void free_ctx(void *p)
{
	EVP_MD_CTX_free(p);
}

static void init_once(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	init_ok = sha256_md && pthread_key_create(&ctx_key, free_ctx) == 0;
}

/* this thread's context, created on first use */
static EVP_MD_CTX *thread_ctx(void)
{
	static _Thread_local EVP_MD_CTX *ctx;
	if (ctx)
		return ctx;
	pthread_once(&once, init_once);
	if (!init_ok)
		return NULL;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		return NULL;
	if (pthread_setspecific(ctx_key, c) != 0) {
		EVP_MD_CTX_free(c);
		return NULL;
	}
	return ctx = c;
}

static int sha256_parts(EVP_MD_CTX *ctx, uint8_t out[SHA256_LEN], const uint8_t *const *parts,
                        const size_t *lens, size_t n)
{
	int ok = EVP_DigestInit_ex2(ctx, sha256_md, NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		if (lens[i])
			ok = EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
	unsigned int olen = 0;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == SHA256_LEN;
	return ok ? 0 : -1;
}

int bls_expand_message_xmd(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len)
{
	EVP_MD_CTX *ctx = thread_ctx();
	if (!ctx)
		return -1;
	/* DST' || I2OSP(len(DST'), 1); a DST over 255 bytes is hashed (5.3.3) */
	uint8_t suffix[256];
	size_t suffix_len;
	if (dst_len > 255) {
		static const uint8_t pre[] = "H2C-OVERSIZE-DST-";
		const uint8_t *parts[] = {pre, dst};
		size_t lens[] = {sizeof pre - 1, dst_len};
		if (sha256_parts(ctx, suffix, parts, lens, 2) != 0)
			return -1;
		dst_len = SHA256_LEN;
	} else {
		memcpy(suffix, dst, dst_len);
	}
	suffix[dst_len] = (uint8_t)dst_len;
	suffix_len = dst_len + 1;
	size_t ell = (out_len + SHA256_LEN - 1) / SHA256_LEN;
	if (ell == 0 || ell > 255 || out_len > 65535)
		return -1;
	static const uint8_t z_pad[SHA256_BLOCK] = {0};
	/* l_i_b_str || I2OSP(0, 1) */
	uint8_t lib0[3] = {(uint8_t)(out_len >> 8), (uint8_t)out_len, 0};
	uint8_t b0[SHA256_LEN], bi[SHA256_LEN];
	{
		const uint8_t *parts[] = {z_pad, msg, lib0, suffix};
		size_t lens[] = {SHA256_BLOCK, msg_len, 3, suffix_len};
		if (sha256_parts(ctx, b0, parts, lens, 4) != 0)
			return -1;
	}
	/* b_i = H((b_0 xor b_(i-1)) || I2OSP(i, 1) || suffix), b_0 xor b_0 = b_0 for i = 1 */
	uint8_t x[SHA256_LEN + 1];
	memcpy(x, b0, SHA256_LEN);
	size_t off = 0;
	for (size_t i = 1;; i++) {
		x[SHA256_LEN] = (uint8_t)i;
		const uint8_t *parts[] = {x, suffix};
		size_t lens[] = {SHA256_LEN + 1, suffix_len};
		if (sha256_parts(ctx, bi, parts, lens, 2) != 0)
			return -1;
		size_t take = out_len - off < SHA256_LEN ? out_len - off : SHA256_LEN;
		memcpy(out + off, bi, take);
		off += take;
		if (off >= out_len)
			return 0;
		for (int j = 0; j < SHA256_LEN; j++)
			x[j] = b0[j] ^ bi[j];
	}
}
