/*
 * detrand.c — a deterministic random generator for `ctng sim`: a tiny
 * OpenSSL 3 provider whose one RAND algorithm ("CTNG-SIM-DRBG") produces a
 * stream fixed by the run's seed, installed as the type of the library's
 * DRBGs before any randomness is drawn. Every key, ECDSA nonce, certificate
 * serial and BLS share of a simulation then follows from its seed, so the
 * same seed gives the same bytes on the wire and the same output.
 *
 * This is for simulations only (docs/sim.md §Determinism): the stream is
 * the simulator's xoshiro256** (rng.c, stream 0) — fast, not a
 * cryptographic generator, and its seed is on the command line. Nothing made in a simulation may protect anything real.
 */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

#define PROV_NAME "ctng-sim-rand"
#define RAND_NAME "CTNG-SIM-DRBG"

/* One stream for the whole process: DRBG instances (primary, public,
 * private, per thread) all draw from it, in the order the calls happen. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static sim_rng g_rng;
static bool g_installed;
static OSSL_PROVIDER *g_prov, *g_default; /* loaded for the life of the process */

typedef struct {
	int state;
} drbg;

static void *dr_new(void *provctx, void *parent, const OSSL_DISPATCH *pd)
{
	(void)provctx, (void)parent, (void)pd;
	drbg *d = OPENSSL_zalloc(sizeof(*d));
	if (d)
		d->state = EVP_RAND_STATE_UNINITIALISED;
	return d;
}

static void dr_free(void *v)
{
	OPENSSL_free(v);
}

static int dr_instantiate(void *v, unsigned int strength, int pr, const unsigned char *ps,
                          size_t pl, const OSSL_PARAM params[])
{
	(void)strength, (void)pr, (void)ps, (void)pl, (void)params;
	((drbg *)v)->state = EVP_RAND_STATE_READY;
	return 1;
}

static int dr_uninstantiate(void *v)
{
	((drbg *)v)->state = EVP_RAND_STATE_UNINITIALISED;
	return 1;
}

static int dr_generate(void *v, unsigned char *out, size_t n, unsigned int strength, int pr,
                       const unsigned char *ad, size_t al)
{
	(void)v, (void)strength, (void)pr, (void)ad, (void)al;
	pthread_mutex_lock(&g_mu);
	while (n > 0) {
		uint64_t r = sim_rng_u64(&g_rng);
		size_t k = n < 8 ? n : 8;
		memcpy(out, &r, k);
		out += k;
		n -= k;
	}
	pthread_mutex_unlock(&g_mu);
	return 1;
}

static int dr_reseed(void *v, int pr, const unsigned char *e, size_t el, const unsigned char *ad,
                     size_t al)
{
	(void)v, (void)pr, (void)e, (void)el, (void)ad, (void)al;
	return 1; /* the stream is its seed: nothing to mix in */
}

static int dr_enable_locking(void *v)
{
	(void)v;
	return 1; /* the stream has its own mutex */
}

static int dr_lock(void *v)
{
	(void)v;
	return 1;
}

static void dr_unlock(void *v)
{
	(void)v;
}

static int dr_get_ctx_params(void *v, OSSL_PARAM params[])
{
	OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
	if (p && !OSSL_PARAM_set_int(p, ((drbg *)v)->state))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
	if (p && !OSSL_PARAM_set_uint(p, 256))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
	if (p && !OSSL_PARAM_set_size_t(p, 1u << 16))
		return 0;
	return 1;
}

static const OSSL_PARAM *dr_gettable_ctx_params(void *v, void *provctx)
{
	(void)v, (void)provctx;
	static const OSSL_PARAM known[] = {
	    OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, NULL),
	    OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, NULL),
	    OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, NULL),
	    OSSL_PARAM_END,
	};
	return known;
}

static int dr_verify_zeroization(void *v)
{
	(void)v;
	return 1;
}

typedef void (*fnptr)(void);
static const OSSL_DISPATCH drbg_functions[] = {
    {OSSL_FUNC_RAND_NEWCTX, (fnptr)dr_new},
    {OSSL_FUNC_RAND_FREECTX, (fnptr)dr_free},
    {OSSL_FUNC_RAND_INSTANTIATE, (fnptr)dr_instantiate},
    {OSSL_FUNC_RAND_UNINSTANTIATE, (fnptr)dr_uninstantiate},
    {OSSL_FUNC_RAND_GENERATE, (fnptr)dr_generate},
    {OSSL_FUNC_RAND_RESEED, (fnptr)dr_reseed},
    {OSSL_FUNC_RAND_ENABLE_LOCKING, (fnptr)dr_enable_locking},
    {OSSL_FUNC_RAND_LOCK, (fnptr)dr_lock},
    {OSSL_FUNC_RAND_UNLOCK, (fnptr)dr_unlock},
    {OSSL_FUNC_RAND_GET_CTX_PARAMS, (fnptr)dr_get_ctx_params},
    {OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, (fnptr)dr_gettable_ctx_params},
    {OSSL_FUNC_RAND_VERIFY_ZEROIZATION, (fnptr)dr_verify_zeroization},
    {0, NULL},
};

static const OSSL_ALGORITHM rands[] = {
    {RAND_NAME, "provider=" PROV_NAME, drbg_functions, "ctng sim deterministic stream"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	return op == OSSL_OP_RAND ? rands : NULL;
}

static const OSSL_DISPATCH prov_functions[] = {
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (fnptr)prov_query},
    {0, NULL},
};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                     const OSSL_DISPATCH **out, void **provctx)
{
	(void)handle, (void)in;
	*out = prov_functions;
	*provctx = (void *)prov_functions;
	return 1;
}

/* ctng_random's source in a simulation: the same stream. */
static int stream_bytes(void *out, size_t n)
{
	return dr_generate(NULL, out, n, 0, 0, NULL, 0) == 1 ? 0 : CTNG_EIO;
}

/* The providers live until exit; unloading them before OpenSSL's own exit
 * handler runs (atexit is LIFO) gives their memory back, so leak checkers
 * see none. */
static void unload_providers(void)
{
	if (g_prov)
		OSSL_PROVIDER_unload(g_prov);
	if (g_default)
		OSSL_PROVIDER_unload(g_default);
	g_prov = g_default = NULL;
}

int sim_detrand_install(uint64_t seed, ctng_err *err)
{
	pthread_mutex_lock(&g_mu);
	sim_rng_seed(&g_rng, seed, 0);
	bool again = g_installed;
	g_installed = true;
	pthread_mutex_unlock(&g_mu);
	ctng_random_set_source(stream_bytes);
	if (again)
		return 0; /* reseeded; the DRBGs already draw from the stream */
	if (!OSSL_PROVIDER_add_builtin(NULL, PROV_NAME, prov_init) ||
	    !(g_prov = OSSL_PROVIDER_load(NULL, PROV_NAME)) ||
	    !(g_default = OSSL_PROVIDER_load(NULL, "default")) ||
	    !RAND_set_DRBG_type(NULL, RAND_NAME, "provider=" PROV_NAME, NULL, NULL))
		return ctng_err_set(err, CTNG_ESTATE, "cannot install the simulation's generator");
	atexit(unload_providers);
	/* Only effective if no DRBG existed yet: check that ours is the one used. */
	EVP_RAND_CTX *pub = RAND_get0_public(NULL), *priv = RAND_get0_private(NULL);
	if (!pub || !priv || strcmp(EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(pub)), RAND_NAME) ||
	    strcmp(EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(priv)), RAND_NAME))
		return ctng_err_set(err, CTNG_ESTATE,
		                    "randomness was drawn before the simulation's generator was "
		                    "installed; runs would not be reproducible");
	return 0;
}
