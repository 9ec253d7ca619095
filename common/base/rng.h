/* rng.h -- counter-based random numbers.  Every random draw in seqlm is a
 * pure function of (seed, key...), so results do not depend on threads,
 * batch sizes or the order in which records arrive. */
#ifndef SEQLM_RNG_H
#define SEQLM_RNG_H

#include <stdint.h>

/* a strong 64-bit mix (splitmix64 finaliser) */
static inline uint64_t rng_mix(uint64_t x)
{
	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27; x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}
/* hash of a key sequence: rng_hash4(seed, a, b, c) */
static inline uint64_t rng_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = rng_mix(seed + 0x9e3779b97f4a7c15ULL);
	h = rng_mix(h ^ (a + 0x9e3779b97f4a7c15ULL));
	h = rng_mix(h ^ (b + 0x632be59bd9b4e019ULL));
	h = rng_mix(h ^ (c + 0x85157af5ULL));
	return h;
}
/* uniform in [0,1) with 53 bits */
static inline double rng_u01(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53; }
/* uniform integer in [0,n) (Lemire's multiply, bias < 2^-32 for n < 2^32) */
static inline uint32_t rng_below(uint64_t h, uint32_t n)
{
	return (uint32_t)(((h >> 32) * (uint64_t)n) >> 32);
}
/* FNV-1a 64 of bytes, for keying by names; _more continues a hash over
 * further bytes (rng_fnv1a(a b) == rng_fnv1a_more(rng_fnv1a(a), b)) */
static inline uint64_t rng_fnv1a_more(uint64_t h, const void *p, uint64_t len)
{
	const unsigned char *s = p;
	for (uint64_t i = 0; i < len; i++) { h ^= s[i]; h *= 0x100000001b3ULL; }
	return h;
}
static inline uint64_t rng_fnv1a(const void *p, uint64_t len)
{
	return rng_fnv1a_more(0xcbf29ce484222325ULL, p, len);
}

/* a sequential stream for initialisation etc.: state advanced per draw */
typedef struct { uint64_t seed, ctr; } rng_t;
static inline void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
	r->seed = rng_mix(seed ^ rng_mix(stream + 0x51afd7ed558ccd00ULL)); r->ctr = 0;
}
static inline uint64_t rng_next(rng_t *r) { return rng_mix(r->seed + 0x9e3779b97f4a7c15ULL * ++r->ctr); }
static inline double rng_uniform(rng_t *r) { return rng_u01(rng_next(r)); }
double rng_normal(rng_t *r);       /* Box-Muller, one value per call */

#endif
