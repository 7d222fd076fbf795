/*
 * rng.c — the simulator's own random streams (xoshiro256**, seeded with
 * splitmix64 from the run's seed and a stream number) and the latency
 * distributions of ctng/sim.h. Separate from OpenSSL's generator so that a
 * change in how many random bytes the cryptography draws never moves a
 * latency draw, and the other way round.
 */
#include <math.h>

#include "sim/sim_internal.h"

static uint64_t splitmix(uint64_t *z)
{
	uint64_t x = (*z += 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t z = seed ^ (stream * 0xd1b54a32d192ed03ull);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&z);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_u64(sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double sim_rng_unit(sim_rng *r)
{
	return (double)(sim_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal by Box-Muller (one of the pair; simple and exact enough). */
static double normal(sim_rng *r)
{
	double u = sim_rng_unit(r), v = sim_rng_unit(r);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double sim_dist_draw(const ctng_sim_dist *d, sim_rng *r)
{
	double x = 0;
	switch (d->kind) {
	case CTNG_SIM_FIXED:
		x = d->a;
		break;
	case CTNG_SIM_UNIFORM:
		x = d->a + (d->b - d->a) * sim_rng_unit(r);
		break;
	case CTNG_SIM_NORMAL:
		x = d->a + d->b * normal(r);
		break;
	case CTNG_SIM_LOGNORMAL:
		x = d->a * exp(d->b * normal(r));
		break;
	case CTNG_SIM_EXPONENTIAL:
		x = -d->a * log(1.0 - sim_rng_unit(r));
		break;
	case CTNG_SIM_PARETO:
		x = d->a / pow(1.0 - sim_rng_unit(r), 1.0 / d->b);
		break;
	}
	if (!(x >= 0)) /* also NaN */
		x = 0;
	return x > 3.6e6 ? 3.6e6 : x; /* at most an hour */
}
