/*
 * rng.h - the workloads' random numbers: splitmix64 for seeding and hashing,
 * xoshiro256** for the streams.
 *
 * Every thread of a workload owns one wl_rng_t seeded from (seed, stream),
 * stream being the thread's index, so the sequence of operations of each
 * thread depends only on the seed, never on scheduling. Nothing here
 * allocates, locks or makes a system call.
 */
#ifndef WL_RNG_H
#define WL_RNG_H

#include <stdint.h>

typedef struct wl_rng {
	uint64_t s[4]; /* xoshiro256** state, never all zero */
} wl_rng_t;

/* splitmix64 step: advances *state and returns a well-mixed 64-bit value. */
static inline uint64_t wl_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stateless 64-bit mixer (splitmix64's finaliser): hash of one value. */
static inline uint64_t wl_mix64(uint64_t x)
{
	uint64_t s = x;
	return wl_splitmix64(&s);
}

/* Seed `r` for stream `stream` of `seed`: distinct streams are independent. */
static inline void wl_rng_seed(wl_rng_t *r, uint64_t seed, uint64_t stream)
{
	uint64_t st = seed ^ wl_mix64(stream + 0x6a09e667f3bcc909ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = wl_splitmix64(&st);
}

static inline uint64_t wl_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits (xoshiro256**). */
static inline uint64_t wl_rng_next(wl_rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t result = wl_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = wl_rotl(s[3], 45);
	return result;
}

/* Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32). */
static inline uint64_t wl_rng_below(wl_rng_t *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)wl_rng_next(r) * n) >> 64);
}

/* Uniform integer in [lo, hi], lo <= hi. */
static inline uint64_t wl_rng_range(wl_rng_t *r, uint64_t lo, uint64_t hi)
{
	return lo + wl_rng_below(r, hi - lo + 1);
}

/* True with probability pct/100 (pct in 0..100). */
static inline int wl_rng_pct(wl_rng_t *r, uint64_t pct)
{
	return wl_rng_below(r, 100) < pct;
}

/* Size in [lo, hi] drawn log-uniformly (each power of two about equally
 * likely), as programs' request sizes tend to be. lo >= 1. */
static inline uint64_t wl_rng_logsize(wl_rng_t *r, uint64_t lo, uint64_t hi)
{
	int lb = 63 - __builtin_clzll(lo), hb = 63 - __builtin_clzll(hi);
	int b = lb + (int)wl_rng_below(r, (uint64_t)(hb - lb + 1));
	uint64_t a = (uint64_t)1 << b, z = (a << 1) - 1;
	if (a < lo)
		a = lo;
	if (z > hi)
		z = hi;
	return wl_rng_range(r, a, z);
}

/* Checksum step: folds `v` into running hash `h`. Cheap enough for the
 * measured path; order-dependent (use wl_mix64 and addition for values
 * whose order depends on scheduling). */
static inline uint64_t wl_hash_step(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

#endif /* WL_RNG_H */
