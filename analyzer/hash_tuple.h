/*
 * Private to analyzer/: a conntrack tuple as the kernel hashes it, inline
 * for the model's loops.  The 40 bytes of struct nf_conntrack_tuple made
 * from a ctp_tuple, the zone id of a direction, and hash_conntrack_raw()
 * of every era under one key (hash_era()).
 *
 * hash_tuple.c builds the public functions of ctplan/hash.h on these;
 * the chain model makes and hashes every tuple it places with them
 * (hash_impl.h, hash_lanes.c) and hash_simd.c feeds the same SipHash
 * words to its vector lanes, so they live here, where every caller can
 * inline them.  Sources for the per-era functions: see analyzer/kernel.c.
 */
#ifndef CTPLAN_HASH_TUPLE_H
#define CTPLAN_HASH_TUPLE_H

#include <stdint.h>
#include <string.h>

#include "ctplan/hash.h"
#include "siphash_impl.h"

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Which protocols fill src.u / dst.u (nf_ct_get_tuple(), 6.1). */
static inline int proto_has_u(uint8_t proto)
{
	return ctp_proto_has_ports(proto) || ctp_proto_is_icmp(proto) ||
	       proto == CTP_P_GRE;
}

/* ctp_hash_tuple_bytes(), inline for the model's loops: every byte of
 * out is written. */
static inline void tuple_bytes(uint8_t family, uint8_t proto,
			       const ctp_tuple *t, uint8_t *out)
{
	memcpy(out, t->src, 16);
	memcpy(out + 20, t->dst, 16);
	/* l3num: a host-order u16, written as x86_64 holds it */
	out[18] = family;
	out[19] = 0;
	/*
	 * Ports, ICMP ids and GRE keys are network order in the kernel;
	 * ctp_tuple keeps them in host order.  ICMP keeps type in the high
	 * byte of dport and code in the low one, so big-endian puts type at
	 * byte 36 and code at 37, as dst.u.icmp { type, code } lies.
	 */
	if (proto_has_u(proto)) {
		put_be16(out + 16, t->sport);
		put_be16(out + 36, t->dport);
	} else {
		out[16] = out[17] = out[36] = out[37] = 0;
	}
	out[38] = proto;
	out[39] = 0;
}

/* ctp_hash_flow_zone(), inline for the model's loops */
static inline uint16_t flow_zone(const ctp_flow *f, const ctp_flow_extra *x,
				 int dir)
{
	unsigned bit = dir ? CTP_X_ZONE_REPLY : CTP_X_ZONE_ORIG;

	if (x && (x->present & bit))
		return dir ? x->zone_reply : x->zone_orig;
	return f->zone;
}

/* Key material of one sampled or given key. */
typedef struct hkey {
	uint64_t k0, k1;
	uint32_t seed;
} hkey;

/* jhash eras: the initval, hash_conntrack_raw() of [3.x] and [5.4v] */
static inline uint32_t jhash_initval(ctp_hash_era era, const uint8_t *t,
				     uint32_t zone, uint32_t mix,
				     uint32_t seed)
{
	/* (__force __u16)dst.u.all: the network-order bytes read as a
	 * host u16, little-endian here */
	uint32_t fold = (uint32_t)ctp_le16(t + 36) << 16 | t[38];

	if (era == CTP_ERA_JHASH_ZONE)
		return zone ^ seed ^ fold;
	if (era == CTP_ERA_JHASH_NETMIX)
		return (seed ^ mix) ^ fold;
	return seed ^ fold;
}

static inline uint32_t hash_jhash(ctp_hash_era era, const uint8_t *t,
				  uint32_t zone, uint32_t mix,
				  const hkey *k)
{
	uint32_t w[9];

	/* (u32 *)tuple: the first 36 bytes as host-order words */
	for (int i = 0; i < 9; i++)
		w[i] = ctp_le32(t + 4 * i);
	return ctp_jhash2(w, 9, jhash_initval(era, t, zone, mix, k->seed));
}

/* 5.15 - 6.1.y: siphash over struct { src; dst_addr; zone; net_mix;
 * dport; proto } of 48 bytes ([6.1] lines 210-236) */
static inline uint32_t hash_sip48(const uint8_t *t, uint32_t zone,
				  uint32_t mix, const hkey *k)
{
	ctp_sip s;

	ctp_sip_init(&s, k->k0, k->k1);
	ctp_sip_word(&s, ctp_le64(t));
	ctp_sip_word(&s, ctp_le64(t + 8));
	ctp_sip_word(&s, ctp_le64(t + 16));
	ctp_sip_word(&s, ctp_le64(t + 24));
	ctp_sip_word(&s, ctp_le32(t + 32) | (uint64_t)zone << 32);
	ctp_sip_word(&s, mix | (uint64_t)ctp_le16(t + 36) << 32 |
				 (uint64_t)t[38] << 48);
	return (uint32_t)ctp_sip_final(&s, (uint64_t)48 << 56);
}

/* 6.2 - 6.4.4: the four words of d2c806abcf0b */
static inline void words_4u64(const uint8_t *t, uint32_t zone, uint32_t mix,
			      uint64_t w[4])
{
	uint64_t c, d;

	w[0] = (uint64_t)ctp_le32(t) << 32 | ctp_le32(t + 12);
	w[1] = (uint64_t)ctp_le32(t + 20) << 32 | ctp_le32(t + 32);
	c = (uint64_t)ctp_le16(t + 16) << 32 | (uint64_t)ctp_le16(t + 36) << 16;
	c |= t[38];
	d = (uint64_t)zone << 32 | mix;
	/* IPv4: u3.all[1,2,3] == 0 */
	c ^= (uint64_t)ctp_le32(t + 4) << 32 | ctp_le32(t + 8);
	d += (uint64_t)ctp_le32(t + 24) << 32 | ctp_le32(t + 28);
	w[2] = c;
	w[3] = d;
}

static inline uint32_t hash_4u64(const uint8_t *t, uint32_t zone,
				 uint32_t mix, const hkey *k)
{
	uint64_t w[4];
	ctp_sip s;

	words_4u64(t, zone, mix, w);
	ctp_sip_init(&s, k->k0, k->k1);
	ctp_sip_word(&s, w[0]);
	ctp_sip_word(&s, w[1]);
	ctp_sip_word(&s, w[2]);
	ctp_sip_word(&s, w[3]);
	return (uint32_t)ctp_sip_final(&s, (uint64_t)32 << 56);
}

/* 6.4.5+: siphash(tuple, offsetofend(dst.__nfct_hash_offsetend) = 39,
 * key ^ { zone, net_hash_mix }) of eaf9e7192ec9 */
static inline uint32_t hash_sip39(const uint8_t *t, uint32_t zone,
				  uint32_t mix, const hkey *k)
{
	ctp_sip s;

	ctp_sip_init(&s, k->k0 ^ zone, k->k1 ^ mix);
	ctp_sip_word(&s, ctp_le64(t));
	ctp_sip_word(&s, ctp_le64(t + 8));
	ctp_sip_word(&s, ctp_le64(t + 16));
	ctp_sip_word(&s, ctp_le64(t + 24));
	/* bytes 32-38, byte 39 (dir) left out, length 39 on top */
	return (uint32_t)ctp_sip_final(
		&s, (ctp_le64(t + 32) & 0x00ffffffffffffffULL) |
			    (uint64_t)39 << 56);
}

static inline uint32_t hash_era(ctp_hash_era era, const uint8_t *t,
				uint32_t zone, uint32_t mix, const hkey *k)
{
	switch (era) {
	case CTP_ERA_SIPHASH39:
		return hash_sip39(t, zone, mix, k);
	case CTP_ERA_SIPHASH48:
		return hash_sip48(t, zone, mix, k);
	case CTP_ERA_SIPHASH_4U64:
		return hash_4u64(t, zone, mix, k);
	default:
		return hash_jhash(era, t, zone, mix, k);
	}
}

#endif
