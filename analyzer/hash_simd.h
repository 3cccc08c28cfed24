/*
 * Private to analyzer/: SipHash in vector lanes for the chain model
 * (hash_simd.c).  Two engines, each picked once per run for the CPU:
 * - hash_x8_fn: the SipHash eras' hash_conntrack_raw() of 2 or 4 tuples
 *   under up to 8 keys at once, one 64-bit lane a (tuple, key) pair; the
 *   same values hash_era() (hash_tuple.h) gives key by key;
 * - fp16_fn: fingerprint() (hash_impl.h) of 16 tuples at once.
 * A NULL engine means no vector unit to use (or a jhash era): the caller
 * goes tuple by tuple, key by key, to the same results.
 */
#ifndef CTPLAN_HASH_SIMD_H
#define CTPLAN_HASH_SIMD_H

#include <stdint.h>

#include "hash_impl.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(CTP_HASH_NO_SIMD)
#define HASH_X8 1

/* The keys of a pass, in lane order: lane l has key l % lpt, where lpt
 * (lanes per tuple) is 4 for up to 4 keys, else 8. */
typedef struct lanekeys {
	uint64_t k0[8], k1[8];
	uint64_t *mix; /* per namespace: 8 lanes, key l % lpt */
	unsigned lpt;
} lanekeys;

/* nt tuples (2 or 4) under every key: h[i * lpt + k] for tuple i and
 * key k */
typedef void (*hash_x8_fn)(ctp_hash_era era, const hrec *const *tp,
			   unsigned nt, const lanekeys *lk, uint32_t *h);

/* The vector hash for era on this CPU, or NULL: key by key. */
hash_x8_fn ctp_hash_x8_pick(ctp_hash_era era);
#endif

/* fingerprint() of 16 tuples: the vector one of this CPU, or NULL */
typedef void (*fp16_fn)(const hrec *const *r, uint64_t *out);

fp16_fn ctp_hash_fp16_pick(void);

/* fingerprint() of the 16 tuples r[] into out[], with f if not NULL */
static inline void fingerprints16(fp16_fn f, const hrec *const *r,
				  uint64_t *out)
{
	if (f) {
		f(r, out);
		return;
	}
	for (int i = 0; i < 16; i++)
		out[i] = fingerprint(r[i]);
}

#endif
