/*
 * ctplan random numbers: xoshiro256** seeded through splitmix64, the one
 * generator of every random draw (hash keys, chain limits, resampling,
 * NAT port searches).  A (seed, stream) pair names one reproducible
 * sequence; the models give every key or range its own stream so results
 * do not depend on how work is spread over threads.
 *
 * Its own header because the hash and NAT models both draw from it and
 * neither needs the other; nothing here keeps global state.
 */
#ifndef CTPLAN_RNG_H
#define CTPLAN_RNG_H

#include <stdint.h>

typedef struct ctp_rng {
	uint64_t s[4];
} ctp_rng;

void ctp_rng_init(ctp_rng *r, uint64_t seed, uint64_t stream);
uint64_t ctp_rng_next(ctp_rng *r);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint32_t ctp_rng_below(ctp_rng *r, uint32_t n);

#endif
