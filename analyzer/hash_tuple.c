/*
 * The tuple layer of ctplan/hash.h: hash keys as the user gives them, a
 * ctp_tuple turned into the kernel's 40 tuple bytes, the message each era
 * hashes and hash_conntrack_raw() of the era for one key (what `ctplan
 * buckets` prints and the unit tests pin against the kernel's own
 * functions).  Apart from the chain model, which places whole snapshots,
 * because this is the answer for one tuple; both compute with the inline
 * functions of hash_tuple.h, so they cannot drift apart.
 *
 * Sources for the per-era functions: see analyzer/kernel.c.
 */
#include <stdint.h>
#include <string.h>

#include "ctplan/hash.h"
#include "hash_tuple.h"
#include "siphash_impl.h"

/* ---- keys ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ctp_hash_key_parse(const char *hex, size_t len, ctp_hash_key *out,
		       ctp_error *err)
{
	if (len != 32)
		return ctp_error_set(err, CTP_EINPUT, NULL, 0, 0,
				     "cannot parse key '%.*s': expected 32 "
				     "hex digits, got %zu",
				     (int)(len > 40 ? 40 : len), hex, len);
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ctp_error_set(err, CTP_EINPUT, NULL, 0,
					     2 * i + (hi < 0 ? 1 : 2),
					     "cannot parse key '%.32s': "
					     "not a hex digit",
					     hex);
		out->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

ctp_siphash_key ctp_hash_key_sip(const ctp_hash_key *key)
{
	ctp_siphash_key k = { ctp_le64(key->bytes), ctp_le64(key->bytes + 8) };

	return k;
}

uint32_t ctp_hash_key_seed(const ctp_hash_key *key)
{
	return ctp_le32(key->bytes);
}

/* ---- tuples ---- */

void ctp_hash_tuple_bytes(uint8_t family, uint8_t proto, const ctp_tuple *t,
			  uint8_t out[CTP_TUPLE_BYTES])
{
	tuple_bytes(family, proto, t, out);
}

uint16_t ctp_hash_flow_zone(const ctp_flow *f, const ctp_flow_extra *x,
			    int dir)
{
	return flow_zone(f, x, dir);
}

size_t ctp_hash_message(ctp_hash_era era,
			const uint8_t tuple[CTP_TUPLE_BYTES], uint16_t zone,
			uint32_t netmix, uint8_t out[CTP_HASH_MSG_MAX])
{
	memset(out, 0, CTP_HASH_MSG_MAX);
	switch (era) {
	case CTP_ERA_SIPHASH39:
		memcpy(out, tuple, 39);
		return 39;
	case CTP_ERA_SIPHASH48:
		memcpy(out, tuple, 36);
		for (int i = 0; i < 4; i++) {
			out[36 + i] = (uint8_t)(zone >> (8 * i));
			out[40 + i] = (uint8_t)(netmix >> (8 * i));
		}
		out[44] = tuple[36];
		out[45] = tuple[37];
		out[46] = tuple[38]; /* u16 proto, high byte 0 */
		return 48;
	case CTP_ERA_SIPHASH_4U64: {
		uint64_t w[4];

		words_4u64(tuple, zone, netmix, w);
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 8; j++)
				out[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
		return 32;
	}
	default:
		memcpy(out, tuple, 36);
		return 36;
	}
}

uint32_t ctp_hash_jhash_initval(ctp_hash_era era, const ctp_hash_key *key,
				const uint8_t tuple[CTP_TUPLE_BYTES],
				uint16_t zone, uint32_t netmix)
{
	return jhash_initval(era, tuple, zone, netmix, ctp_hash_key_seed(key));
}

ctp_siphash_key ctp_hash_sip_key(ctp_hash_era era, const ctp_hash_key *key,
				 uint16_t zone, uint32_t netmix)
{
	ctp_siphash_key k = ctp_hash_key_sip(key);

	if (era == CTP_ERA_SIPHASH39) {
		k.k0 ^= zone;
		k.k1 ^= netmix;
	}
	return k;
}

static hkey hkey_of(const ctp_hash_key *key)
{
	hkey k = { ctp_le64(key->bytes), ctp_le64(key->bytes + 8),
		   ctp_le32(key->bytes) };

	return k;
}

uint32_t ctp_hash_tuple(ctp_hash_era era, const ctp_hash_key *key,
			const uint8_t tuple[CTP_TUPLE_BYTES], uint16_t zone,
			uint32_t netmix)
{
	hkey k = hkey_of(key);

	return hash_era(era, tuple, zone, netmix, &k);
}

void ctp_hash_flow(ctp_hash_era era, const ctp_hash_key *key,
		   uint32_t netmix, const ctp_flow *f,
		   const ctp_flow_extra *x, uint32_t hash[2],
		   uint16_t zone[2])
{
	uint8_t t[CTP_TUPLE_BYTES];

	for (int dir = 0; dir < 2; dir++) {
		zone[dir] = ctp_hash_flow_zone(f, x, dir);
		ctp_hash_tuple_bytes(f->family, f->proto,
				     dir ? &f->reply : &f->orig, t);
		hash[dir] = ctp_hash_tuple(era, key, t, zone[dir], netmix);
	}
}
