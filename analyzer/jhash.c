/*
 * Bob Jenkins' lookup3 hash as the kernel's include/linux/jhash.h has it
 * (linux-source-6.1 6.1.192): jhash2() is lookup3's hashword() with
 * JHASH_INITVAL 0xdeadbeef, jhash() is hashlittle() as a little-endian
 * host computes it.  Conntrack used jhash2() up to 5.14.
 */
#include "ctplan/hash.h"
#include "siphash_impl.h"

static inline uint32_t rol32(uint32_t x, unsigned b)
{
	return (x << b) | (x >> (32 - b));
}

/* lookup3 mix(): rotations 4, 6, 8, 16, 19, 4 */
#define JH_MIX(a, b, c)                                  \
	do {                                             \
		a -= c; a ^= rol32(c, 4); c += b;        \
		b -= a; b ^= rol32(a, 6); a += c;        \
		c -= b; c ^= rol32(b, 8); b += a;        \
		a -= c; a ^= rol32(c, 16); c += b;       \
		b -= a; b ^= rol32(a, 19); a += c;       \
		c -= b; c ^= rol32(b, 4); b += a;        \
	} while (0)

/* lookup3 final(): rotations 14, 11, 25, 16, 4, 14, 24 */
#define JH_FINAL(a, b, c)                   \
	do {                                \
		c ^= b; c -= rol32(b, 14);  \
		a ^= c; a -= rol32(c, 11);  \
		b ^= a; b -= rol32(a, 25);  \
		c ^= b; c -= rol32(b, 16);  \
		a ^= c; a -= rol32(c, 4);   \
		b ^= a; b -= rol32(a, 14);  \
		c ^= b; c -= rol32(b, 24);  \
	} while (0)

uint32_t ctp_jhash2(const uint32_t *k, size_t words, uint32_t initval)
{
	uint32_t a, b, c;

	/* the kernel takes a u32 length; (length << 2) wraps the same */
	a = b = c = CTP_JHASH_INITVAL + ((uint32_t)words << 2) + initval;
	while (words > 3) {
		a += k[0];
		b += k[1];
		c += k[2];
		JH_MIX(a, b, c);
		words -= 3;
		k += 3;
	}
	switch (words) {
	case 3:
		c += k[2];
		/* fall through */
	case 2:
		b += k[1];
		/* fall through */
	case 1:
		a += k[0];
		JH_FINAL(a, b, c);
		break;
	default: /* 0: nothing left, and no final mixing */
		break;
	}
	return c;
}

uint32_t ctp_jhash(const void *key, size_t len, uint32_t initval)
{
	const uint8_t *k = key;
	uint32_t a, b, c;

	a = b = c = CTP_JHASH_INITVAL + (uint32_t)len + initval;
	while (len > 12) {
		a += ctp_le32(k);
		b += ctp_le32(k + 4);
		c += ctp_le32(k + 8);
		JH_MIX(a, b, c);
		len -= 12;
		k += 12;
	}
	/* the last 1-12 bytes, each at its little-endian place */
	if (len == 0)
		return c;
	for (size_t i = 0; i < len; i++) {
		uint32_t v = (uint32_t)k[i] << (8 * (i & 3));

		if (i < 4)
			a += v;
		else if (i < 8)
			b += v;
		else
			c += v;
	}
	JH_FINAL(a, b, c);
	return c;
}
