/*
 * The generator of include/ctplan/rng.h: xoshiro256** (Blackman and
 * Vigna, 2018), its state filled by splitmix64 from (seed, stream), and
 * Lemire's unbiased multiply-shift for a bounded draw.  Apart from the
 * hash model (it was part of analyzer/hash.c) because the NAT model and
 * the tests draw from it too.
 */
#include "ctplan/rng.h"

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void ctp_rng_init(ctp_rng *r, uint64_t seed, uint64_t stream)
{
	/* an odd multiplier keeps (seed, stream) pairs apart */
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t ctp_rng_next(ctp_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return out;
}

uint32_t ctp_rng_below(ctp_rng *r, uint32_t n)
{
	/* Lemire's multiply-shift, rejecting the biased low products */
	uint64_t m = (ctp_rng_next(r) >> 32) * (uint64_t)n;

	if ((uint32_t)m < n) {
		uint32_t t = (uint32_t)(-n) % n;

		while ((uint32_t)m < t)
			m = (ctp_rng_next(r) >> 32) * (uint64_t)n;
	}
	return (uint32_t)(m >> 32);
}
