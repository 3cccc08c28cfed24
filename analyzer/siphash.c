/*
 * SipHash-2-4 with 64-bit output, as the kernel's siphash() and
 * siphash_4u64() compute it (lib/siphash.c, include/linux/siphash.h,
 * linux-source-6.1 6.1.192): standard SipHash-2-4, words and tail read
 * little-endian, no variation.  The kernel's users keep the low 32 bits.
 */
#include <assert.h>

#include "ctplan/hash.h"
#include "siphash_impl.h"

uint64_t ctp_siphash(const void *data, size_t len, const ctp_siphash_key *key)
{
	const uint8_t *p = data;
	const uint8_t *end = p + (len & ~(size_t)7);
	uint64_t last = (uint64_t)len << 56;
	ctp_sip s;

	assert(data || len == 0);
	ctp_sip_init(&s, key->k0, key->k1);
	for (; p != end; p += 8)
		ctp_sip_word(&s, ctp_le64(p));
	/* tail byte i goes to bits 8 * i, under the length byte */
	for (unsigned i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[i] << (8 * i);
	return ctp_sip_final(&s, last);
}

/*
 * The kernel's siphash_4u64(a, b, c, d) equals siphash() over the 32
 * bytes of a, b, c, d stored little-endian (lib/siphash.c, 6.1: the four
 * words are the message, the last word is 32 << 56).
 */
uint64_t ctp_siphash_4u64(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			  const ctp_siphash_key *key)
{
	ctp_sip s;

	ctp_sip_init(&s, key->k0, key->k1);
	ctp_sip_word(&s, a);
	ctp_sip_word(&s, b);
	ctp_sip_word(&s, c);
	ctp_sip_word(&s, d);
	return ctp_sip_final(&s, (uint64_t)32 << 56);
}
