/*
 * SipHash-2-4 core, word by word, for the hashing loop of the hash model.
 *
 * Private to analyzer/: siphash.c builds the byte-string function on it,
 * hash_tuple.h feeds it the words of a conntrack tuple directly so that
 * no message buffer is assembled per tuple (hash_simd.c does the same in
 * vector lanes, with its own round macros).  Everything is static inline so
 * the compiler can unroll the fixed-length messages of each kernel era.
 *
 * Definition: Aumasson and Bernstein, "SipHash: a fast short-input PRF"
 * (2012): four 64-bit lanes initialised from the key and the constants
 * "somepseudorandomlygeneratedbytes", c = 2 rounds per 8-byte word read
 * little-endian, the last word carries the message length in its top
 * byte, then v2 ^= 0xff and d = 4 rounds.
 */
#ifndef CTPLAN_SIPHASH_IMPL_H
#define CTPLAN_SIPHASH_IMPL_H

#include <stdint.h>
#include <string.h>

typedef struct ctp_sip {
	uint64_t v0, v1, v2, v3;
} ctp_sip;

static inline uint64_t ctp_rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* Bytes in memory order as a little-endian number, on any host. */
static inline uint64_t ctp_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint32_t ctp_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint16_t ctp_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline void ctp_sip_round(ctp_sip *s)
{
	s->v0 += s->v1;
	s->v1 = ctp_rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ctp_rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ctp_rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ctp_rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ctp_rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ctp_rotl64(s->v2, 32);
}

static inline void ctp_sip_init(ctp_sip *s, uint64_t k0, uint64_t k1)
{
	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
}

/* One full 8-byte message word (SipHash-2-4: two rounds). */
static inline void ctp_sip_word(ctp_sip *s, uint64_t m)
{
	s->v3 ^= m;
	ctp_sip_round(s);
	ctp_sip_round(s);
	s->v0 ^= m;
}

/*
 * Last word: the 0-7 tail bytes little-endian with (len & 0xff) << 56,
 * then the finalisation; returns the 64-bit output.
 */
static inline uint64_t ctp_sip_final(ctp_sip *s, uint64_t last)
{
	ctp_sip_word(s, last);
	s->v2 ^= 0xff;
	ctp_sip_round(s);
	ctp_sip_round(s);
	ctp_sip_round(s);
	ctp_sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

#endif
