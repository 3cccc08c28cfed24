/*
 * Hash model: tuples hashed the way the kernel hashes them, placed into
 * the table under sampled keys, with the kernel's insert process.
 *
 * Representation: every tuple of the snapshot is serialized once into a
 * struct hrec (the 40 bytes of the kernel's nf_conntrack_tuple, the zone
 * id of its direction and its namespace index), entry e at 2e (original)
 * and 2e + 1 (reply).  Each key then hashes that packed array in a tight
 * loop into per-thread bucket counters; nothing is allocated per tuple.
 *
 * Entries beyond the snapshot (to replace refused inserts, and to fill
 * the table to a target) are resampled from observed entries with a
 * fresh source port, ICMP id or GRE key.  They are generated lazily, in
 * one deterministic sequence shared by all keys, as 8-byte references
 * (struct pentry) to their base entry, and kept unique by a set of tuple
 * fingerprints over both directions: the kernel never holds two equal
 * tuples (NAT chooses ports so that reply tuples stay unique).
 *
 * Sources for the per-era functions: see analyzer/kernel.c.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/hash.h"
#include "siphash_impl.h"

/* ---- random numbers ---- */

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
	uint64_t out = ctp_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ctp_rotl64(s[3], 45);
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

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Which protocols fill src.u / dst.u (nf_ct_get_tuple(), 6.1). */
static int proto_has_u(uint8_t proto)
{
	return ctp_proto_has_ports(proto) || ctp_proto_is_icmp(proto) ||
	       proto == CTP_P_GRE;
}

void ctp_hash_tuple_bytes(uint8_t family, uint8_t proto, const ctp_tuple *t,
			  uint8_t out[CTP_TUPLE_BYTES])
{
	memset(out, 0, CTP_TUPLE_BYTES);
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
	}
	out[38] = proto;
}

uint16_t ctp_hash_flow_zone(const ctp_flow *f, const ctp_flow_extra *x,
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

static hkey hkey_of(const ctp_hash_key *key)
{
	hkey k = { ctp_le64(key->bytes), ctp_le64(key->bytes + 8),
		   ctp_le32(key->bytes) };

	return k;
}

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

/* ---- the packed array ---- */

typedef struct hrec {
	_Alignas(8) uint8_t t[CTP_TUPLE_BYTES];
	uint16_t zone;
	uint16_t ns;
	uint32_t pad;
} hrec;

/* A resampled entry: base entry, fresh orig port, fresh reply port. */
typedef struct pentry {
	uint32_t base;
	uint16_t oport, rport;
} pentry;

/* Open-addressing set of 64-bit tuple fingerprints (0 = empty). */
typedef struct fpset {
	uint64_t *slot;
	size_t mask, used;
} fpset;

/* Double the table, or make it the first time with room for at least
 * hint values (a doubling from 2^16 up to the snapshot's size copied
 * every value about twice and held the old and new table at the peak) */
static int fpset_grow_to(fpset *s, size_t hint)
{
	size_t n = s->slot ? 2 * (s->mask + 1) : 1u << 16;
	uint64_t *nt;

	while (!s->slot && n / 2 < hint && n < ((size_t)1 << 40))
		n *= 2;
	nt = calloc(n, sizeof(*nt));

	if (!nt)
		return -1;
	for (size_t i = 0; s->slot && i <= s->mask; i++) {
		uint64_t v = s->slot[i];
		size_t j = (size_t)(v >> 7) & (n - 1);

		if (!v)
			continue;
		while (nt[j])
			j = (j + 1) & (n - 1);
		nt[j] = v;
	}
	free(s->slot);
	s->slot = nt;
	s->mask = n - 1;
	return 0;
}

static int fpset_grow(fpset *s)
{
	return fpset_grow_to(s, 0);
}

static size_t fpset_slot(const fpset *s, uint64_t v)
{
	return (size_t)((v | 1) >> 7) & s->mask;
}

static int fpset_has(const fpset *s, uint64_t v)
{
	v |= 1;
	if (!s->slot)
		return 0;
	for (size_t j = fpset_slot(s, v); s->slot[j]; j = (j + 1) & s->mask)
		if (s->slot[j] == v)
			return 1;
	return 0;
}

/* 1 if added, 0 if present, -1 on out of memory */
static int fpset_add(fpset *s, uint64_t v)
{
	size_t j;

	v |= 1; /* never 0; halves nothing that matters at 2^-63 */
	if ((!s->slot || 2 * (s->used + 1) > s->mask + 1) && fpset_grow(s))
		return -1;
	for (j = fpset_slot(s, v); s->slot[j]; j = (j + 1) & s->mask)
		if (s->slot[j] == v)
			return 0;
	s->slot[j] = v;
	s->used++;
	return 1;
}

static uint64_t fingerprint(const hrec *r)
{
	static const ctp_siphash_key fk = { 0x6374706c616e2d66ULL,
					    0x696e6765727072ULL };
	uint8_t buf[CTP_TUPLE_BYTES + 4];

	memcpy(buf, r->t, CTP_TUPLE_BYTES);
	buf[40] = (uint8_t)r->zone;
	buf[41] = (uint8_t)(r->zone >> 8);
	buf[42] = (uint8_t)r->ns;
	buf[43] = (uint8_t)(r->ns >> 8);
	return ctp_siphash(buf, sizeof(buf), &fk);
}

#define POOL_CHUNK 65536u
/* a sample that finds no unused tuple in this many draws ends the pool */
#define POOL_TRIES 64

/*
 * The shared, lazily grown sequence of resampled entries.  Chunks never
 * move once made, so entries below the length a worker saw under the lock
 * can be read without it.
 */
typedef struct pool {
	pthread_mutex_t lock;
	pentry **chunk;
	size_t nchunk;
	uint64_t len, cap;
	int done, oom;
	ctp_rng rng;
	fpset set;
	int seeded;
	const hrec *recs;
	size_t nentries;
	const uint32_t *bases; /* entries that can be resampled */
	const uint8_t *desc;   /* BD_* of each base */
	size_t nbases;
	uint64_t *fp;          /* 2 fingerprints per entry being made */
} pool;

/* Base of resampled entry p with its fresh ports, into o and r. */
static void pentry_build(const hrec *recs, const pentry *p, hrec *o, hrec *r)
{
	*o = recs[2 * (size_t)p->base];
	*r = recs[2 * (size_t)p->base + 1];
	put_be16(o->t + 16, p->oport);
	/* icmp: the reply keeps the id in src.u; otherwise the reply's
	 * dst.u is the original source port, or its NAT mapping */
	put_be16(ctp_proto_is_icmp(o->t[38]) ? r->t + 16 : r->t + 36,
		 p->rport);
}

static void prefetch_base(const hrec *recs, uint32_t base)
{
	const hrec *r = &recs[2 * (size_t)base];

	__builtin_prefetch(r);
	__builtin_prefetch(r + 1);
}

/*
 * What a base entry's fresh values look like, one byte per base so the
 * draws need not touch the records: a port keeps its class (privileged
 * 1-1023, or 1024-65535); ids and keys take any value; a reply port that
 * was the original port follows it, a NAT-mapped one is drawn anew.
 */
enum {
	BD_PORTS = 1,     /* a port protocol, else icmp id or gre key */
	BD_OLOW = 2,      /* original source port < 1024 */
	BD_RSAME = 4,     /* reply port == original source port */
	BD_RLOW = 8,      /* reply port < 1024 */
};

static uint8_t base_desc(const hrec *o, const hrec *r)
{
	uint8_t proto = o->t[38];
	uint16_t op = get_be16(o->t + 16);
	uint16_t rp = get_be16(ctp_proto_is_icmp(proto) ? r->t + 16 :
							  r->t + 36);
	uint8_t d = 0;

	if (ctp_proto_has_ports(proto))
		d |= BD_PORTS;
	if (op >= 1 && op < 1024)
		d |= BD_OLOW;
	if (rp == op)
		d |= BD_RSAME;
	if (rp >= 1 && rp < 1024)
		d |= BD_RLOW;
	return d;
}

static uint16_t fresh_value(ctp_rng *rng, int ports, int low)
{
	if (!ports)
		return (uint16_t)ctp_rng_below(rng, 65536); /* id, key */
	if (low)
		return (uint16_t)(1 + ctp_rng_below(rng, 1023));
	return (uint16_t)(1024 + ctp_rng_below(rng, 65536 - 1024));
}

/* A candidate resampled entry, drawn from the pool's stream. */
static void draw_candidate(pool *p, pentry *pe)
{
	uint32_t i = ctp_rng_below(&p->rng, (uint32_t)p->nbases);
	uint8_t d = p->desc[i];
	int ports = d & BD_PORTS;

	pe->base = p->bases[i];
	pe->oport = fresh_value(&p->rng, ports, d & BD_OLOW);
	pe->rport = (d & BD_RSAME) ? pe->oport :
				     fresh_value(&p->rng, ports, d & BD_RLOW);
}

/* Fingerprints of both tuples of a candidate: the kernel holds no two
 * equal tuples in either direction (NAT picks ports to keep reply
 * tuples unique), so both must be new. */
static void candidate_fp(const pool *p, const pentry *pe, uint64_t fp[2])
{
	hrec o, r;

	pentry_build(p->recs, pe, &o, &r);
	fp[0] = fingerprint(&o);
	fp[1] = fingerprint(&r);
}

#define AHEAD 8 /* entries to prefetch ahead in the memory-bound loops */

/*
 * Fill c[0 .. n): draw all candidates, fingerprint them, then keep each
 * whose tuple is new, redrawing the rare repeat.  Batched so the random
 * reads of base records and set slots overlap.  Returns how many were
 * made (< n when no unused tuple is left), or -1 on out of memory.
 */
static long pool_fill(pool *p, pentry *c, size_t n)
{
	if (!p->seeded) {
		/* every tuple of the snapshot, and the first chunks */
		if (!p->set.slot &&
		    fpset_grow_to(&p->set, 2 * p->nentries + 4 * n))
			return -1;
		/* in batches, the slots prefetched: a set this large
		 * misses the cache on every add (p->fp has room) */
		for (size_t i = 0; i < 2 * p->nentries; i += 2 * n) {
			size_t m = 2 * p->nentries - i < 2 * n
					   ? 2 * p->nentries - i
					   : 2 * n;
			for (size_t j = 0; j < m; j++)
				p->fp[j] = fingerprint(&p->recs[i + j]);
			for (size_t j = 0; j < m; j++) {
				if (j + AHEAD < m)
					__builtin_prefetch(
						&p->set.slot[fpset_slot(
							&p->set,
							p->fp[j + AHEAD])]);
				if (fpset_add(&p->set, p->fp[j]) < 0)
					return -1;
			}
		}
		p->seeded = 1;
	}
	for (size_t i = 0; i < n; i++)
		draw_candidate(p, &c[i]);
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			prefetch_base(p->recs, c[i + AHEAD].base);
		candidate_fp(p, &c[i], &p->fp[2 * i]);
	}
	/* make room first, so the slot prefetches below stay valid */
	while (2 * (p->set.used + 2 * n) > p->set.mask + 1)
		if (fpset_grow(&p->set))
			return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t *fp = &p->fp[2 * i];
		int tries = 0;

		if (i + AHEAD < n) {
			__builtin_prefetch(&p->set.slot[fpset_slot(
				&p->set, p->fp[2 * (i + AHEAD)])]);
			__builtin_prefetch(&p->set.slot[fpset_slot(
				&p->set, p->fp[2 * (i + AHEAD) + 1])]);
		}
		while (fpset_has(&p->set, fp[0]) || fpset_has(&p->set, fp[1])) {
			if (++tries >= POOL_TRIES)
				return (long)i;
			draw_candidate(p, &c[i]);
			candidate_fp(p, &c[i], fp);
		}
		if (fpset_add(&p->set, fp[0]) < 0 ||
		    fpset_add(&p->set, fp[1]) < 0)
			return -1;
	}
	return (long)n;
}

/*
 * Entry j of the pool into *out: 1, or 0 when the pool ends before j.
 * *avail caches the length this worker has seen.
 */
static int pool_get(pool *p, uint64_t j, uint64_t *avail, pentry *out)
{
	if (j >= *avail) {
		pthread_mutex_lock(&p->lock);
		while (j >= p->len && !p->done) {
			size_t c = (size_t)(p->len / POOL_CHUNK);
			uint64_t n = POOL_CHUNK;
			long made;

			if (p->len >= p->cap || p->nbases == 0) {
				p->done = 1;
				break;
			}
			if (n > p->cap - p->len)
				n = p->cap - p->len;
			p->chunk[c] = malloc(POOL_CHUNK * sizeof(pentry));
			if (!p->fp)
				p->fp = malloc(2 * POOL_CHUNK * sizeof(*p->fp));
			if (!p->chunk[c] || !p->fp) {
				p->oom = p->done = 1;
				break;
			}
			made = pool_fill(p, p->chunk[c], (size_t)n);
			if (made < 0)
				p->oom = 1;
			if (made < (long)n)
				p->done = 1;
			if (made > 0)
				p->len += (uint64_t)made;
		}
		*avail = p->len;
		pthread_mutex_unlock(&p->lock);
		if (j >= *avail)
			return 0;
	}
	*out = p->chunk[j / POOL_CHUNK][j % POOL_CHUNK];
	return 1;
}

/* Entry j if already made, without locking or making it: a hint. */
static const pentry *pool_peek(const pool *p, uint64_t j, uint64_t avail)
{
	if (j >= avail)
		return NULL;
	return &p->chunk[j / POOL_CHUNK][j % POOL_CHUNK];
}

/* ---- one key ---- */

/* Everything the workers share, read-only but for the pool. */
typedef struct model {
	ctp_hash_era era;
	uint32_t buckets;
	unsigned tables, nns, keys;
	uint64_t seed;
	const hrec *recs;
	size_t nentries;
	uint64_t target; /* entries at max; 0: no at-max phase */
	ctp_chain_limit limit;
	pool *pool;
} model;

/* Result of one key in one phase (now, at max). */
typedef struct keystate {
	uint64_t *hist;
	size_t hist_len;
	uint64_t accepted, attempts, refused;
	uint64_t *per_table; /* accepted by table */
	unsigned longest;
	double p_next;
	int reached;
} keystate;

typedef struct keyrun {
	const model *m;
	unsigned key;
	keystate st[2];
	int err;
} keyrun;

typedef struct inserter {
	const model *m;
	hkey k;
	uint32_t *mix;  /* per namespace */
	uint32_t *cnt;  /* buckets * tables */
	uint64_t *per_table;
	ctp_rng rng;
	uint64_t accepted, attempts, refused;
} inserter;

static inline size_t bucket_of(const inserter *in, const hrec *r)
{
	const model *m = in->m;
	uint32_t h = hash_era(m->era, r->t, r->zone, in->mix[r->ns], &in->k);
	size_t b = ctp_hash_scale(h, m->buckets);

	/* eras <= 4.6: one table per namespace, laid end to end */
	if (m->tables > 1)
		b += (size_t)r->ns * m->buckets;
	return b;
}

/*
 * __nf_conntrack_confirm(): draw max_chainlen, refuse if the original or
 * the reply chain already holds max_chainlen + 2 nodes, else add both.
 */
static inline int insert_at(inserter *in, size_t bo, size_t br, uint16_t ns)
{
	uint32_t longer;

	in->attempts++;
	longer = in->cnt[bo] > in->cnt[br] ? in->cnt[bo] : in->cnt[br];
	/* below min + 2 no draw can refuse, so skip drawing */
	if (in->m->limit.enabled &&
	    longer >= in->m->limit.min + CTP_CHAIN_SLACK) {
		const ctp_chain_limit *l = &in->m->limit;
		uint32_t mx = l->min +
			      (l->span ? ctp_rng_below(&in->rng, l->span) : 0);

		if (longer >= mx + CTP_CHAIN_SLACK) {
			in->refused++;
			return 0;
		}
	}
	in->cnt[bo]++;
	in->cnt[br]++;
	in->accepted++;
	in->per_table[in->m->tables > 1 ? ns : 0]++;
	return 1;
}

static inline int insert(inserter *in, const hrec *o, const hrec *r)
{
	return insert_at(in, bucket_of(in, o), bucket_of(in, r), o->ns);
}

/*
 * The snapshot's entries in order, as insert() would take them, with the
 * buckets worked out AHEAD entries early and their counters prefetched:
 * the counter array of a large table does not fit the cache, and a miss
 * per tuple was most of this loop.  The inserts, and so the draws of the
 * chain limit, come in the same order.  Returns the entries refused.
 */
#define RING 16 /* > AHEAD, a power of two */
static uint64_t insert_snapshot(inserter *in)
{
	const model *m = in->m;
	size_t ring[RING][2];
	uint64_t refused = 0;

	for (size_t e = 0; e < m->nentries + AHEAD; e++) {
		if (e < m->nentries) {
			size_t *b = ring[e % RING];
			b[0] = bucket_of(in, &m->recs[2 * e]);
			b[1] = bucket_of(in, &m->recs[2 * e + 1]);
			__builtin_prefetch(&in->cnt[b[0]], 1);
			__builtin_prefetch(&in->cnt[b[1]], 1);
		}
		if (e >= AHEAD) {
			size_t k = e - AHEAD;
			if (!insert_at(in, ring[k % RING][0], ring[k % RING][1],
				       m->recs[2 * k].ns))
				refused++;
		}
	}
	return refused;
}

/* Probability the next insert is refused, from the bucket histogram. */
static double p_next_of(const ctp_chain_limit *l, const double *hist,
			size_t len)
{
	double total = 0, acc = 0;
	unsigned span = l->span ? l->span : 1;

	if (!l->enabled)
		return 0;
	for (size_t i = 0; i < len; i++)
		total += hist[i];
	if (total <= 0)
		return 0;
	for (unsigned j = 0; j < span; j++) {
		/* accepted iff both chains hold <= max_chainlen + 1 */
		size_t lim = (size_t)l->min + j + CTP_CHAIN_SLACK;
		double g = 0;

		for (size_t i = 0; i < len && i < lim; i++)
			g += hist[i];
		g /= total;
		acc += g * g;
	}
	return 1 - acc / span;
}

static int snapshot_state(const inserter *in, keystate *st)
{
	const model *m = in->m;
	size_t n = (size_t)m->buckets * m->tables;
	unsigned longest = 0;
	double *dh;

	for (size_t i = 0; i < n; i++)
		if (in->cnt[i] > longest)
			longest = in->cnt[i];
	st->hist_len = (size_t)longest + 1;
	st->hist = calloc(st->hist_len, sizeof(*st->hist));
	st->per_table = malloc(m->tables * sizeof(*st->per_table));
	dh = malloc(st->hist_len * sizeof(*dh));
	if (!st->hist || !st->per_table || !dh) {
		free(dh);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		st->hist[in->cnt[i]]++;
	for (size_t i = 0; i < st->hist_len; i++)
		dh[i] = (double)st->hist[i];
	memcpy(st->per_table, in->per_table,
	       m->tables * sizeof(*st->per_table));
	st->longest = longest;
	st->accepted = in->accepted;
	st->attempts = in->attempts;
	st->refused = in->refused;
	st->p_next = p_next_of(&m->limit, dh, st->hist_len);
	free(dh);
	return 0;
}

static int run_key(keyrun *kr)
{
	const model *m = kr->m;
	size_t n = (size_t)m->buckets * m->tables;
	uint64_t need = 0, j = 0, avail = 0;
	inserter in;
	uint8_t kb[16];
	pentry pe;
	hrec o, r;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	in.m = m;
	/* stream 0 is the pool's; key i uses stream 1 + i */
	ctp_rng_init(&in.rng, m->seed, 1 + (uint64_t)kr->key);
	for (int i = 0; i < 2; i++) {
		uint64_t v = ctp_rng_next(&in.rng);

		for (int b = 0; b < 8; b++)
			kb[8 * i + b] = (uint8_t)(v >> (8 * b));
	}
	in.k.k0 = ctp_le64(kb);
	in.k.k1 = ctp_le64(kb + 8);
	in.k.seed = ctp_le32(kb);
	in.mix = malloc(m->nns * sizeof(*in.mix));
	in.cnt = calloc(n, sizeof(*in.cnt));
	in.per_table = calloc(m->tables, sizeof(*in.per_table));
	if (!in.mix || !in.cnt || !in.per_table)
		goto done;
	/* every namespace, the host's own too, has a random hash_mix */
	for (unsigned i = 0; i < m->nns; i++)
		in.mix[i] = (uint32_t)(ctp_rng_next(&in.rng) >> 32);

	need = insert_snapshot(&in);
	/* a refused entry was replaced by another flow like it, so the
	 * table holds as many entries as the snapshot */
	while (need && pool_get(m->pool, j, &avail, &pe)) {
		const pentry *ahead = pool_peek(m->pool, j + AHEAD, avail);

		if (ahead)
			prefetch_base(m->recs, ahead->base);
		j++;
		pentry_build(m->recs, &pe, &o, &r);
		if (insert(&in, &o, &r))
			need--;
	}
	if (snapshot_state(&in, &kr->st[0]))
		goto done;
	kr->st[0].reached = need == 0;
	if (m->target) {
		while (in.accepted < m->target &&
		       pool_get(m->pool, j, &avail, &pe)) {
			const pentry *ahead =
				pool_peek(m->pool, j + AHEAD, avail);

			if (ahead)
				prefetch_base(m->recs, ahead->base);
			j++;
			pentry_build(m->recs, &pe, &o, &r);
			insert(&in, &o, &r);
		}
		if (snapshot_state(&in, &kr->st[1]))
			goto done;
		kr->st[1].reached = in.accepted >= m->target;
	}
	rc = 0;
done:
	free(in.mix);
	free(in.cnt);
	free(in.per_table);
	return rc;
}

typedef struct worker {
	keyrun *runs;
	unsigned first, step, count;
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;

	for (unsigned i = w->first; i < w->count; i += w->step)
		w->runs[i].err = run_key(&w->runs[i]);
	return NULL;
}

/* ---- Poisson and chi-square ---- */

static double pois_pmf(unsigned l, double lambda)
{
	if (lambda <= 0)
		return l == 0 ? 1 : 0;
	return exp(l * log(lambda) - lambda - lgamma(l + 1.0));
}

/* Regularized upper incomplete gamma Q(a, x): the series for P below
 * a + 1, Legendre's continued fraction (modified Lentz) above. */
static double gamma_q(double a, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double lead;

	if (x <= 0)
		return 1;
	lead = exp(-x + a * log(x) - lgamma(a));
	if (x < a + 1) {
		double ap = a, term = 1 / a, sum = term;

		for (int n = 0; n < 10000; n++) {
			ap += 1;
			term *= x / ap;
			sum += term;
			if (fabs(term) < fabs(sum) * eps)
				break;
		}
		return 1 - sum * lead;
	} else {
		double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;

		for (int i = 1; i < 10000; i++) {
			double an = -i * (i - a), del;

			b += 2;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1) < eps)
				break;
		}
		return lead * h;
	}
}

/* Node-weighted percentile q of a chain-length histogram. */
static unsigned node_percentile(const double *hist, size_t len, double q)
{
	double total = 0, acc = 0;

	for (size_t l = 1; l < len; l++)
		total += (double)l * hist[l];
	if (total <= 0)
		return 0;
	for (size_t l = 1; l < len; l++) {
		acc += (double)l * hist[l];
		if (acc >= q * total * (1 - 1e-12))
			return (unsigned)l;
	}
	return (unsigned)(len - 1);
}

static void hist_figures(const double *hist, size_t len, double *mean_occ,
			 unsigned *p99, unsigned *p999, double *over8)
{
	double nodes = 0, occ = 0, big = 0;

	for (size_t l = 1; l < len; l++) {
		nodes += (double)l * hist[l];
		occ += hist[l];
		if (l > 8)
			big += (double)l * hist[l];
	}
	*mean_occ = occ > 0 ? nodes / occ : 0;
	*over8 = nodes > 0 ? big / nodes : 0;
	*p99 = node_percentile(hist, len, 0.99);
	*p999 = node_percentile(hist, len, 0.999);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/* Mean over keys of phase ph, into st. */
static int merge_phase(const model *m, keyrun *runs, int ph,
		       ctp_hash_state *st, double *per_table)
{
	ctp_hash_figures *f = &st->fig;
	unsigned *longest = malloc(m->keys * sizeof(*longest));
	double att = 0, ref = 0;
	size_t len = 0;

	if (!longest)
		return -1;
	memset(f, 0, sizeof(*f));
	for (unsigned k = 0; k < m->keys; k++)
		if (runs[k].st[ph].hist_len > len)
			len = runs[k].st[ph].hist_len;
	f->hist = calloc(len, sizeof(*f->hist));
	if (!f->hist) {
		free(longest);
		return -1;
	}
	f->hist_len = len;
	f->target_reached = 1;
	for (unsigned t = 0; t < m->tables; t++)
		per_table[t] = 0;
	for (unsigned k = 0; k < m->keys; k++) {
		const keystate *s = &runs[k].st[ph];

		for (size_t l = 0; l < s->hist_len; l++)
			f->hist[l] += (double)s->hist[l] / m->keys;
		for (unsigned t = 0; t < m->tables; t++)
			per_table[t] += (double)s->per_table[t] / m->keys;
		f->entries += (double)s->accepted / m->keys;
		f->p_next += s->p_next / m->keys;
		att += (double)s->attempts;
		ref += (double)s->refused;
		longest[k] = s->longest;
		if (!s->reached)
			f->target_reached = 0;
	}
	f->attempts = att / m->keys;
	f->refused = att > 0 ? ref / att : 0;
	f->nodes = 2 * f->entries;
	f->load = f->nodes / ((double)m->buckets * m->tables);
	qsort(longest, m->keys, sizeof(*longest), cmp_unsigned);
	f->longest_min = longest[0];
	f->longest_max = longest[m->keys - 1];
	f->longest_median = m->keys % 2 ?
				    longest[m->keys / 2] :
				    (longest[m->keys / 2 - 1] +
				     longest[m->keys / 2]) / 2.0;
	free(longest);
	hist_figures(f->hist, f->hist_len, &f->mean_occupied, &f->p99,
		     &f->p999, &f->share_over8);
	return 0;
}

/* Poisson mixture over tables: P(chain = l) for a random bucket. */
static double mix_pmf(unsigned l, const double *lambda, unsigned tables)
{
	double p = 0;

	for (unsigned t = 0; t < tables; t++)
		p += pois_pmf(l, lambda[t]);
	return p / tables;
}

static int poisson_phase(const model *m, ctp_hash_state *st,
			 const double *per_table)
{
	ctp_hash_poisson *ps = &st->poisson;
	const ctp_hash_figures *f = &st->fig;
	double nb = (double)m->buckets * m->tables;
	double *lambda = malloc(m->tables * sizeof(*lambda));
	double cum = 0, occ = 0, nodes = 0;
	size_t len, bins = 0;

	if (!lambda)
		return -1;
	memset(ps, 0, sizeof(*ps));
	for (unsigned t = 0; t < m->tables; t++) {
		lambda[t] = 2 * per_table[t] / m->buckets;
		nodes += 2 * per_table[t];
		occ += m->buckets * (1 - exp(-lambda[t]));
	}
	/* long enough to hold every length expected in 1e-3 buckets or
	 * seen in the sample */
	len = f->hist_len;
	for (unsigned l = 0;; l++) {
		cum += mix_pmf(l, lambda, m->tables);
		if ((1 - cum) * nb < 1e-3 || l > 100000) {
			if (l + 1 > len)
				len = l + 1;
			break;
		}
	}
	ps->hist = calloc(len, sizeof(*ps->hist));
	if (!ps->hist) {
		free(lambda);
		return -1;
	}
	ps->hist_len = len;
	for (size_t l = 0; l < len; l++)
		ps->hist[l] = nb * mix_pmf((unsigned)l, lambda, m->tables);
	ps->mean_occupied = occ > 0 ? nodes / occ : 0;
	{
		double dummy;

		hist_figures(ps->hist, len, &dummy, &ps->p99, &ps->p999,
			     &ps->share_over8);
	}
	ps->p_next = p_next_of(&m->limit, ps->hist, len);
	/* median of the longest chain: P(max <= l) = prod F_t(l)^B, F_t
	 * the Poisson CDF of table t, kept in ft as l grows */
	{
		double *ft = calloc(m->tables, sizeof(*ft));

		if (!ft) {
			free(lambda);
			return -1;
		}
		for (unsigned l = 0;; l++) {
			double lg = 0;

			for (unsigned t = 0; t < m->tables; t++) {
				ft[t] += pois_pmf(l, lambda[t]);
				lg += m->buckets * log(ft[t] < 1 ? ft[t] : 1);
			}
			if (lg >= log(0.5) || l > 100000) {
				ps->longest_median = l;
				break;
			}
		}
		free(ft);
	}
	/*
	 * Chi-square of the histogram summed over keys against K times
	 * the expected one; bins merged left to right until each expects
	 * 5 buckets, the last bin also takes the tail beyond the table and
	 * any remainder.  A closed bin is held back until the next closes,
	 * so a remainder can join it.
	 */
	{
		double acc_e = 0, acc_o = 0, pend_e = -1, pend_o = 0;

		cum = 0;
		for (size_t l = 0; l < len; l++) {
			cum += ps->hist[l] / nb;
			acc_e += m->keys * ps->hist[l];
			acc_o += l < f->hist_len ? m->keys * f->hist[l] : 0;
			if (l + 1 == len && cum < 1)
				acc_e += m->keys * nb * (1 - cum);
			if (acc_e < 5)
				continue;
			if (pend_e > 0)
				ps->chi2 += (pend_o - pend_e) *
					    (pend_o - pend_e) / pend_e;
			pend_e = acc_e;
			pend_o = acc_o;
			acc_e = acc_o = 0;
			bins++;
		}
		if (pend_e > 0) {
			pend_e += acc_e;
			pend_o += acc_o;
			ps->chi2 += (pend_o - pend_e) * (pend_o - pend_e) /
				    pend_e;
		}
	}
	ps->chi2_df = bins > 1 ? (unsigned)bins - 1 : 0;
	ps->chi2_p = ps->chi2_df ? gamma_q(ps->chi2_df / 2.0, ps->chi2 / 2) :
				   1;
	ps->mismatch = ps->chi2_p < CTP_HASH_MISMATCH_P;
	free(lambda);
	return 0;
}

/* ---- the model ---- */

static void state_release(ctp_hash_state *st)
{
	free(st->fig.hist);
	free(st->poisson.hist);
	st->fig.hist = st->poisson.hist = NULL;
}

void ctp_hash_result_release(ctp_hash_result *res)
{
	if (!res)
		return;
	state_release(&res->now);
	state_release(&res->at_max);
}

/* Namespace index of every input: equal labels share one index. */
static int ns_indexes(const ctp_snapshot *snap, uint16_t **out,
		      unsigned *count)
{
	size_t n = ctp_snapshot_input_count(snap);
	uint16_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	unsigned distinct = 0;

	if (!idx)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *ns = ctp_snapshot_input(snap, i)->ns;

		idx[i] = (uint16_t)distinct;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(ns ? ns : "",
				    ctp_snapshot_input(snap, j)->ns ?
					    ctp_snapshot_input(snap, j)->ns :
					    "")) {
				idx[i] = idx[j];
				break;
			}
		if (idx[i] == distinct)
			distinct++;
	}
	*out = idx;
	*count = distinct ? distinct : 1;
	return 0;
}

int ctp_hash_model_run(const ctp_snapshot *snap, const ctp_hash_opts *opts,
		       ctp_hash_result *out, ctp_error *err)
{
	const ctp_flow *flows = ctp_snapshot_flows(snap);
	size_t nflows = ctp_snapshot_flow_count(snap);
	const ctp_hash_era_info *info = ctp_kernel_hash_era_info(opts->era);
	uint16_t *nsidx = NULL;
	uint32_t *bases = NULL;
	uint8_t *desc = NULL;
	hrec *recs = NULL;
	keyrun *runs = NULL;
	double *per_table = NULL;
	unsigned nthreads, nns;
	size_t ne = 0, nb = 0;
	pool pl;
	model m = { 0 };
	int rc = CTP_ENOMEM;

	memset(out, 0, sizeof(*out));
	memset(&pl, 0, sizeof(pl));
	if (!info || opts->buckets == 0 || opts->keys == 0 ||
	    opts->keys > 1u << 16)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot run the hash model: need an era, "
				     "buckets > 0 and 1 to 65536 keys");
	if (ns_indexes(snap, &nsidx, &nns))
		goto oom;
	recs = malloc((nflows ? 2 * nflows : 1) * sizeof(*recs));
	bases = malloc((nflows ? nflows : 1) * sizeof(*bases));
	desc = malloc(nflows ? nflows : 1);
	if (!recs || !bases || !desc)
		goto oom;
	for (size_t i = 0; i < nflows; i++) {
		const ctp_flow *f = &flows[i];
		const ctp_flow_extra *x;

		if (f->flags & (CTP_F_DUP | CTP_F_EVENT)) {
			out->skipped++;
			continue;
		}
		if (ne >= UINT32_MAX)
			break;
		x = ctp_snapshot_extra(snap, f);
		for (int dir = 0; dir < 2; dir++) {
			hrec *r = &recs[2 * ne + dir];

			memset(r, 0, sizeof(*r));
			ctp_hash_tuple_bytes(f->family, f->proto,
					     dir ? &f->reply : &f->orig, r->t);
			r->zone = ctp_hash_flow_zone(f, x, dir);
			r->ns = f->input < ctp_snapshot_input_count(snap) ?
					nsidx[f->input] :
					0;
		}
		/* <= 4.2 had no zone direction: one id for both tuples */
		if (opts->era == CTP_ERA_JHASH_ZONE)
			recs[2 * ne + 1].zone = f->zone;
		if (ctp_proto_is_icmp(f->proto) && (f->flags & CTP_F_NO_ICMP))
			out->inexact++;
		else if (proto_has_u(f->proto)) {
			desc[nb] = base_desc(&recs[2 * ne], &recs[2 * ne + 1]);
			bases[nb++] = (uint32_t)ne;
		}
		ne++;
	}

	memset(&m, 0, sizeof(m));
	m.era = opts->era;
	m.buckets = opts->buckets;
	m.tables = info->shared_table ? 1 : nns;
	m.nns = nns;
	m.keys = opts->keys;
	m.seed = opts->seed;
	m.recs = recs;
	m.nentries = ne;
	m.limit = opts->limit;
	m.target = opts->at_max ? (opts->at_max > ne ? opts->at_max : ne) : 0;
	m.pool = &pl;

	/* the pool: the fill to the target, plus refused inserts to
	 * replace, at most twice the larger table over */
	pl.recs = recs;
	pl.nentries = ne;
	pl.bases = bases;
	pl.desc = desc;
	pl.nbases = nb;
	pl.cap = (m.target > ne ? m.target - ne : 0);
	if (m.limit.enabled)
		pl.cap += 2 * (m.target > ne ? m.target : ne) + 4096;
	pl.nchunk = (size_t)(pl.cap / POOL_CHUNK) + 1;
	pl.chunk = calloc(pl.nchunk, sizeof(*pl.chunk));
	if (!pl.chunk || pthread_mutex_init(&pl.lock, NULL))
		goto oom;
	ctp_rng_init(&pl.rng, opts->seed, 0);

	runs = calloc(m.keys, sizeof(*runs));
	per_table = calloc(m.tables, sizeof(*per_table));
	if (!runs || !per_table)
		goto oom_lock;
	for (unsigned k = 0; k < m.keys; k++) {
		runs[k].m = &m;
		runs[k].key = k;
	}
	nthreads = opts->threads ? opts->threads : 2;
	if (nthreads > m.keys)
		nthreads = m.keys;
	if (nthreads > 64)
		nthreads = 64;
	{
		pthread_t tid[64];
		worker w[64];
		unsigned started = 0;

		/* worker 0 runs in this thread; keys go round-robin, and
		 * a key's result does not depend on its worker */
		for (unsigned t = 0; t < nthreads; t++)
			w[t] = (worker){ runs, t, nthreads, m.keys };
		for (unsigned t = 1; t < nthreads; t++) {
			if (pthread_create(&tid[t], NULL, worker_main, &w[t]))
				break;
			started = t;
		}
		/* keys of workers that could not start run here */
		for (unsigned t = started + 1; t < nthreads; t++)
			worker_main(&w[t]);
		worker_main(&w[0]);
		for (unsigned t = 1; t <= started; t++)
			pthread_join(tid[t], NULL);
	}
	for (unsigned k = 0; k < m.keys; k++)
		if (runs[k].err)
			goto oom_lock;
	if (pl.oom)
		goto oom_lock;

	out->era = m.era;
	out->buckets = m.buckets;
	out->tables = m.tables;
	out->keys = m.keys;
	out->seed = m.seed;
	out->namespaces = nns;
	out->entries = ne;
	out->resample_bases = nb;
	out->resampled = pl.len;
	if (merge_phase(&m, runs, 0, &out->now, per_table) ||
	    poisson_phase(&m, &out->now, per_table))
		goto oom_lock;
	if (m.target) {
		out->has_at_max = 1;
		out->at_max_target = opts->at_max;
		if (merge_phase(&m, runs, 1, &out->at_max, per_table) ||
		    poisson_phase(&m, &out->at_max, per_table))
			goto oom_lock;
	}
	rc = 0;
oom_lock:
	pthread_mutex_destroy(&pl.lock);
oom:
	if (rc) {
		ctp_hash_result_release(out);
		ctp_error_set(err, rc, NULL, 0, 0,
			      "cannot run the hash model: out of memory");
	}
	for (unsigned k = 0; runs && k < m.keys; k++)
		for (int ph = 0; ph < 2; ph++) {
			free(runs[k].st[ph].hist);
			free(runs[k].st[ph].per_table);
		}
	for (size_t c = 0; pl.chunk && c < pl.nchunk; c++)
		free(pl.chunk[c]);
	free(pl.chunk);
	free(pl.set.slot);
	free(pl.fp);
	free(desc);
	free(runs);
	free(per_table);
	free(recs);
	free(bases);
	free(nsidx);
	return rc;
}
