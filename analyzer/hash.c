/*
 * Hash model: tuples hashed the way the kernel hashes them, placed into
 * the table under sampled keys, with the kernel's insert process.
 *
 * Representation: nothing is kept per entry.  A tuple is made from its
 * flow, decoded from the snapshot's compact record, when it is needed
 * (struct hrec: the 40 bytes of the kernel's nf_conntrack_tuple, the
 * zone id of its direction and its namespace index); a copy of every
 * tuple cost 96 bytes an entry.  The keys go
 * through the snapshot together, up to eight in one pass of a thread:
 * each tuple is made once and hashed under all of them, in the lanes of
 * one vector where the CPU has AVX2 or AVX-512, and each key's inserts
 * (so its draws of the chain limit) come in the same order as if it
 * ran alone.  Per key there is only its array of bucket counters.
 *
 * Entries beyond the snapshot (to replace refused inserts, and to fill
 * the table to a target) are resampled from observed entries with a
 * fresh source port, ICMP id or GRE key.  They are generated lazily, in
 * one deterministic sequence shared by all keys, as 8-byte references
 * (struct pentry) to their base flow, and kept unique by a set of tuple
 * fingerprints over both directions: the kernel never holds two equal
 * tuples (NAT chooses ports so that reply tuples stay unique).  The set
 * is exact and kept at a load of 0.8 (struct fpset), 10 bytes a tuple.
 *
 * Sources for the per-era functions: see analyzer/kernel.c.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ctplan/hash.h"
#include "siphash_impl.h"

/* ---- large arrays ---- */

/*
 * The large zeroed arrays of one run (bucket counters, the fingerprint
 * set) are mapped and unmapped directly.  Through malloc, freeing one
 * raised glibc's mmap threshold, so the arrays after it came from the
 * heaps, the workers' own among them, and stayed in the process once
 * freed: 48 MiB more at the peak of 4M entries.  Under AddressSanitizer
 * they come from calloc, so overruns are still caught.
 */
#if defined(MAP_ANONYMOUS) && !defined(__SANITIZE_ADDRESS__)
static void *big_zalloc(size_t size)
{
	/* MAP_POPULATE: every page of these arrays is written, and
	 * faulting them in one by one cost more: a page first read maps
	 * the shared zero page, and the write after it replaces that with
	 * a TLB flush across both threads (ptep_clear_flush, about 6% of a
	 * 1M analysis under perf) */
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void big_free(void *p, size_t size)
{
	if (p)
		munmap(p, size ? size : 1);
}
#else
static void *big_zalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

static void big_free(void *p, size_t size)
{
	(void)size;
	free(p);
}
#endif

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

void ctp_hash_tuple_bytes(uint8_t family, uint8_t proto, const ctp_tuple *t,
			  uint8_t out[CTP_TUPLE_BYTES])
{
	tuple_bytes(family, proto, t, out);
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

/* ---- the snapshot's tuples ---- */

/* One tuple as the model hashes it: the kernel's 40 bytes, the zone id
 * of its direction and the index of its namespace.  Made on the fly
 * from the flow, never stored per entry. */
typedef struct hrec {
	_Alignas(8) uint8_t t[CTP_TUPLE_BYTES];
	uint16_t zone;
	uint16_t ns;
} hrec;

/* How flows become tuples. */
typedef struct tsrc {
	const ctp_snapshot *snap;
	const uint16_t *nsidx; /* namespace index of each input */
	size_t ninputs;
	int zone_both;         /* <= 4.2: one zone id for both tuples */
} tsrc;

/* Both tuples of a flow, as ctp_hash_tuple_bytes() and
 * ctp_hash_flow_zone() make them. */
static inline void entry_recs(const tsrc *s, const ctp_flow *f, hrec *o,
			      hrec *r)
{
	const ctp_flow_extra *x = f->extra == CTP_NO_EXTRA
					  ? NULL
					  : ctp_snapshot_extra(s->snap, f);
	uint16_t ns = f->input < s->ninputs ? s->nsidx[f->input] : 0;

	tuple_bytes(f->family, f->proto, &f->orig, o->t);
	tuple_bytes(f->family, f->proto, &f->reply, r->t);
	o->zone = ctp_hash_flow_zone(f, x, 0);
	/* <= 4.2 had no zone direction: one id for both tuples */
	r->zone = s->zone_both ? f->zone : ctp_hash_flow_zone(f, x, 1);
	o->ns = r->ns = ns;
}

/* Both tuples of flow i, decoded from the snapshot's compact form. */
static inline void entry_recs_at(const tsrc *s, size_t i, hrec *o, hrec *r)
{
	ctp_flow f;

	ctp_snapshot_flow_get(s->snap, i, &f);
	entry_recs(s, &f, o, r);
}

/* Is flow i one the model places?  Read without decoding the flow. */
static inline int placed(const tsrc *s, size_t i)
{
	return !(ctp_snapshot_flow_flags(s->snap, i) &
		 (CTP_F_DUP | CTP_F_EVENT));
}

/* SipHash key of the fingerprints */
#define FP_K0 0x6374706c616e2d66ULL
#define FP_K1 0x696e6765727072ULL

/* A tuple's 64-bit fingerprint: SipHash-2-4 of its 40 bytes, zone and
 * namespace (44 bytes, under a fixed key). */
static uint64_t fingerprint(const hrec *r)
{
	static const ctp_siphash_key fk = { FP_K0, FP_K1 };
	uint8_t buf[CTP_TUPLE_BYTES + 4];

	memcpy(buf, r->t, CTP_TUPLE_BYTES);
	buf[40] = (uint8_t)r->zone;
	buf[41] = (uint8_t)(r->zone >> 8);
	buf[42] = (uint8_t)r->ns;
	buf[43] = (uint8_t)(r->ns >> 8);
	return ctp_siphash(buf, sizeof(buf), &fk);
}

/* fingerprint()'s last SipHash word: bytes 40-43 and the length */
static inline uint64_t fp_last(const hrec *r)
{
	return (uint64_t)r->zone | (uint64_t)r->ns << 16 |
	       (uint64_t)(CTP_TUPLE_BYTES + 4) << 56;
}

/*
 * The SipHash eras under several keys at once, one 64-bit lane a (tuple,
 * key) pair: a tuple's message is the same under every key (only the
 * key, and the namespace mix, differ), so the keys of a pass share the
 * message words, and two or four tuples go through side by side so
 * their rounds overlap.  Each lane computes exactly what hash_sip39(),
 * hash_sip48() and hash_4u64() compute.  GCC vector extensions, built
 * for AVX-512 and for AVX2 and picked at run time; other machines and
 * the jhash eras hash key by key.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(CTP_HASH_NO_SIMD)
#define HASH_X8 1

typedef uint64_t v8u __attribute__((vector_size(64)));

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

#define V_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define V_ROUND(v0, v1, v2, v3)          \
	do {                             \
		v0 += v1;                \
		v1 = V_ROTL(v1, 13);     \
		v1 ^= v0;                \
		v0 = V_ROTL(v0, 32);     \
		v2 += v3;                \
		v3 = V_ROTL(v3, 16);     \
		v3 ^= v2;                \
		v0 += v3;                \
		v3 = V_ROTL(v3, 21);     \
		v3 ^= v0;                \
		v2 += v1;                \
		v1 = V_ROTL(v1, 17);     \
		v1 ^= v2;                \
		v2 = V_ROTL(v2, 32);     \
	} while (0)

/* word w[i] into vector i of NV, SipHash-2-4 */
#define V_WORDS(NV, w)                                           \
	do {                                                     \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			v3[i] ^= (w)[i];                         \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			V_ROUND(v0[i], v1[i], v2[i], v3[i]);     \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			V_ROUND(v0[i], v1[i], v2[i], v3[i]);     \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
			v0[i] ^= (w)[i];                         \
	} while (0)

/* a value per tuple, spread over its lanes: tuples a, b of vector i */
#define V_SPREAD(LPT, x, y)                                              \
	((LPT) == 8 ? (v8u){ (x), (x), (x), (x), (x), (x), (x), (x) }      \
		    : (v8u){ (x), (x), (x), (x), (y), (y), (y), (y) })

/*
 * NV vectors of 8 lanes, LPT lanes a tuple: tuples tp[0 .. NV * 8 /
 * LPT).  Message words of tuple t per era as in hash_sip39(),
 * hash_sip48(), words_4u64().
 */
#define DEFINE_HASH_XN(name, isa, NV, LPT)                                  \
	__attribute__((target(isa))) static void name(                      \
		ctp_hash_era era, const hrec *const *tp, const lanekeys *lk, \
		uint32_t *h)                                                \
	{                                                                   \
		v8u v0[NV], v1[NV], v2[NV], v3[NV], w[NV];                  \
		v8u k0, k1;                                                 \
		const hrec *a[NV], *b[NV];                                  \
                                                                            \
		memcpy(&k0, lk->k0, sizeof(k0));                            \
		memcpy(&k1, lk->k1, sizeof(k1));                            \
		for (int i = 0; i < NV; i++) {                              \
			v8u mx, z, c0 = k0, c1 = k1;                        \
			const uint64_t *ma, *mb;                            \
                                                                            \
			a[i] = tp[(LPT) == 8 ? i : 2 * i];                  \
			b[i] = tp[(LPT) == 8 ? i : 2 * i + 1];              \
			ma = lk->mix + 8 * (size_t)a[i]->ns;                \
			mb = lk->mix + 8 * (size_t)b[i]->ns;                \
			if ((LPT) == 8)                                     \
				memcpy(&mx, ma, sizeof(mx));                \
			else                                                \
				mx = (v8u){ ma[0], ma[1], ma[2], ma[3],     \
					    mb[0], mb[1], mb[2], mb[3] };   \
			z = V_SPREAD(LPT, (uint64_t)a[i]->zone,             \
				     (uint64_t)b[i]->zone);                 \
			if (era == CTP_ERA_SIPHASH39) {                     \
				c0 ^= z;                                    \
				c1 ^= mx;                                   \
				w[i] = mx; /* unused */                     \
			} else if (era == CTP_ERA_SIPHASH48) {              \
				/* word 5: mix | dport << 32 | proto << 48 */ \
				w[i] = mx | V_SPREAD(                       \
					LPT,                                \
					(uint64_t)ctp_le16(a[i]->t + 36)    \
							<< 32 |             \
						(uint64_t)a[i]->t[38] << 48, \
					(uint64_t)ctp_le16(b[i]->t + 36)    \
							<< 32 |             \
						(uint64_t)b[i]->t[38] << 48); \
			} else {                                            \
				uint64_t wa[4], wb[4];                      \
                                                                            \
				/* word 3: (zone << 32 | mix) + ..., with   \
				 * mix 0 here */                            \
				words_4u64(a[i]->t, a[i]->zone, 0, wa);     \
				words_4u64(b[i]->t, b[i]->zone, 0, wb);     \
				w[i] = mx + V_SPREAD(LPT, wa[3], wb[3]);    \
			}                                                   \
			v0[i] = c0 ^ 0x736f6d6570736575ULL;                 \
			v1[i] = c1 ^ 0x646f72616e646f6dULL;                 \
			v2[i] = c0 ^ 0x6c7967656e657261ULL;                 \
			v3[i] = c1 ^ 0x7465646279746573ULL;                 \
		}                                                           \
		if (era == CTP_ERA_SIPHASH_4U64) {                          \
			v8u m[NV], d[NV];                                   \
                                                                            \
			for (int j = 0; j < 3; j++) {                       \
				for (int i = 0; i < NV; i++) {              \
					uint64_t wa[4], wb[4];              \
                                                                            \
					words_4u64(a[i]->t, 0, 0, wa);      \
					words_4u64(b[i]->t, 0, 0, wb);      \
					m[i] = V_SPREAD(LPT, wa[j], wb[j]); \
				}                                           \
				V_WORDS(NV, m);                             \
			}                                                   \
			for (int i = 0; i < NV; i++)                        \
				d[i] = w[i];                                \
			V_WORDS(NV, d);                                     \
			for (int i = 0; i < NV; i++)                        \
				d[i] = V_SPREAD(LPT, (uint64_t)32 << 56,    \
						(uint64_t)32 << 56);        \
			V_WORDS(NV, d);                                     \
		} else {                                                    \
			v8u m[NV];                                          \
                                                                            \
			for (int j = 0; j < 32; j += 8) {                   \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT, ctp_le64(a[i]->t + j), \
						ctp_le64(b[i]->t + j));     \
				V_WORDS(NV, m);                             \
			}                                                   \
			if (era == CTP_ERA_SIPHASH48) {                     \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT,                        \
						ctp_le32(a[i]->t + 32) |    \
							(uint64_t)a[i]->zone \
								<< 32,      \
						ctp_le32(b[i]->t + 32) |    \
							(uint64_t)b[i]->zone \
								<< 32);     \
				V_WORDS(NV, m);                             \
				V_WORDS(NV, w);                             \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT, (uint64_t)48 << 56,    \
						(uint64_t)48 << 56);        \
			} else {                                            \
				const uint64_t lo = 0x00ffffffffffffffULL;  \
                                                                            \
				for (int i = 0; i < NV; i++)                \
					m[i] = V_SPREAD(                    \
						LPT,                        \
						(ctp_le64(a[i]->t + 32) &   \
						 lo) | (uint64_t)39 << 56,  \
						(ctp_le64(b[i]->t + 32) &   \
						 lo) | (uint64_t)39 << 56); \
			}                                                   \
			V_WORDS(NV, m);                                     \
		}                                                           \
		_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++)        \
			v2[i] ^= 0xff;                                      \
		for (int r = 0; r < 4; r++)                                 \
			_Pragma("GCC unroll 4") for (int i = 0; i < NV; i++) \
				V_ROUND(v0[i], v1[i], v2[i], v3[i]);        \
		for (int i = 0; i < NV; i++) {                              \
			v8u x = v0[i] ^ v1[i] ^ v2[i] ^ v3[i];              \
                                                                            \
			for (int l = 0; l < 8; l++)                         \
				h[8 * i + l] = (uint32_t)x[l];              \
		}                                                           \
	}

DEFINE_HASH_XN(hx_512_1_4, "avx512f", 1, 4)
DEFINE_HASH_XN(hx_512_2_4, "avx512f", 2, 4)
DEFINE_HASH_XN(hx_512_2_8, "avx512f", 2, 8)
DEFINE_HASH_XN(hx_512_4_8, "avx512f", 4, 8)
DEFINE_HASH_XN(hx_256_1_4, "avx2", 1, 4)
DEFINE_HASH_XN(hx_256_2_4, "avx2", 2, 4)
DEFINE_HASH_XN(hx_256_2_8, "avx2", 2, 8)
DEFINE_HASH_XN(hx_256_4_8, "avx2", 4, 8)

#define DEFINE_HASH_X8(name, p)                                            \
	static void name(ctp_hash_era era, const hrec *const *tp, unsigned nt, \
			 const lanekeys *lk, uint32_t *h)                      \
	{                                                                      \
		/* nt * lpt lanes in nt * lpt / 8 vectors */                   \
		if (lk->lpt == 4) {                                            \
			if (nt == 2)                                           \
				hx_##p##_1_4(era, tp, lk, h);                  \
			else                                                   \
				hx_##p##_2_4(era, tp, lk, h);                  \
		} else {                                                       \
			if (nt == 2)                                           \
				hx_##p##_2_8(era, tp, lk, h);                  \
			else                                                   \
				hx_##p##_4_8(era, tp, lk, h);                  \
		}                                                              \
	}

DEFINE_HASH_X8(hash_x8_avx512, 512)
DEFINE_HASH_X8(hash_x8_avx2, 256)

/* The vector hash for era on this CPU, or NULL: key by key. */
static hash_x8_fn hash_x8_pick(ctp_hash_era era)
{
	if (era != CTP_ERA_SIPHASH39 && era != CTP_ERA_SIPHASH48 &&
	    era != CTP_ERA_SIPHASH_4U64)
		return NULL;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return hash_x8_avx512;
	if (__builtin_cpu_supports("avx2"))
		return hash_x8_avx2;
	return NULL;
}

/* Fingerprints of 16 tuples at once, two vectors side by side: lane l
 * computes fingerprint(r[l]), SipHash-2-4 of the 44 bytes. */
#define DEFINE_FP_X16(name, isa)                                            \
	__attribute__((target(isa))) static void name(const hrec *const *r, \
						     uint64_t *out)          \
	{                                                                   \
		/* m is set lane by lane below; zeroed first because   \
		 * gcc -O3 cannot see that every lane is written */     \
		v8u v0[2], v1[2], v2[2], v3[2], m[2] = { { 0 }, { 0 } };    \
                                                                            \
		for (int i = 0; i < 2; i++) {                               \
			v0[i] = (v8u){ 0 } + (FP_K0 ^ 0x736f6d6570736575ULL); \
			v1[i] = (v8u){ 0 } + (FP_K1 ^ 0x646f72616e646f6dULL); \
			v2[i] = (v8u){ 0 } + (FP_K0 ^ 0x6c7967656e657261ULL); \
			v3[i] = (v8u){ 0 } + (FP_K1 ^ 0x7465646279746573ULL); \
		}                                                           \
		for (int w = 0; w <= 5; w++) {                              \
			for (int i = 0; i < 2; i++)                         \
				for (int l = 0; l < 8; l++) {               \
					const hrec *x = r[8 * i + l];       \
                                                                            \
					m[i][l] = w < 5 ? ctp_le64(x->t +   \
								   8 * w)   \
							: fp_last(x);       \
				}                                           \
			V_WORDS(2, m);                                      \
		}                                                           \
		for (int i = 0; i < 2; i++)                                 \
			v2[i] ^= 0xff;                                      \
		for (int k = 0; k < 4; k++)                                 \
			for (int i = 0; i < 2; i++)                         \
				V_ROUND(v0[i], v1[i], v2[i], v3[i]);        \
		for (int i = 0; i < 2; i++) {                               \
			v8u x = v0[i] ^ v1[i] ^ v2[i] ^ v3[i];              \
                                                                            \
			for (int l = 0; l < 8; l++)                         \
				out[8 * i + l] = x[l];                      \
		}                                                           \
	}

DEFINE_FP_X16(fp_x16_avx512, "avx512f")
DEFINE_FP_X16(fp_x16_avx2, "avx2")
#endif

/* fingerprint() of 16 tuples: the vector one of this CPU, or NULL */
typedef void (*fp16_fn)(const hrec *const *r, uint64_t *out);

static fp16_fn fp16_pick(void)
{
#ifdef HASH_X8
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return fp_x16_avx512;
	if (__builtin_cpu_supports("avx2"))
		return fp_x16_avx2;
#endif
	return NULL;
}

static void fingerprints16(fp16_fn f, const hrec *const *r, uint64_t *out)
{
	if (f) {
		f(r, out);
		return;
	}
	for (int i = 0; i < 16; i++)
		out[i] = fingerprint(r[i]);
}

/* A resampled entry: base flow, fresh orig port, fresh reply port. */
typedef struct pentry {
	uint32_t base;
	uint16_t oport, rport;
} pentry;

/*
 * The set of 64-bit tuple fingerprints, exact: ordered linear probing
 * (Amble and Knuth, 1974).  A value's home slot grows with the value
 * (its top 32 bits scaled to the table), and every cluster is kept
 * sorted, so the whole table is sorted: a lookup stops at the first
 * slot holding a larger value, an insert shifts the rest of its
 * cluster by one.  That keeps lookups short at a load of 0.8, where
 * a table sized by powers of two and kept at most half full took two
 * to five times the room (64 MiB at 1M entries).  0 marks an empty
 * slot; the slack at the end takes the last clusters, and its last
 * slot stays empty to end every scan.
 */
typedef struct fpset {
	uint64_t *slot; /* n + FP_SLACK */
	size_t n, used;
} fpset;

#define FP_SLACK 4096
#define FP_LOAD 0.8     /* sized for this load */
#define FP_LOAD_MAX 0.9 /* grown beyond this */

static inline size_t fp_home(const fpset *s, uint64_t v)
{
	return (size_t)(((v >> 32) * (uint64_t)s->n) >> 32);
}

static void fpset_release(fpset *s)
{
	big_free(s->slot, (s->n + FP_SLACK) * sizeof(*s->slot));
	s->slot = NULL;
}

/* Make the table n home slots (at least used / FP_LOAD_MAX), keeping
 * its values: in order, each at its home or just after the one
 * before. */
static int fpset_resize(fpset *s, size_t n)
{
	fpset t = { NULL, n, 0 };
	size_t at = 0;

	if (n < 1024)
		n = t.n = 1024;
	/* fp_home() scales by a 32-bit n: 3.4G values at most */
	if (n > UINT32_MAX - FP_SLACK)
		n = t.n = UINT32_MAX - FP_SLACK;
	if (s->used >= n)
		return -1;
	t.slot = big_zalloc((n + FP_SLACK) * sizeof(*t.slot));
	if (!t.slot)
		return -1;
	for (size_t i = 0; s->slot && i < s->n + FP_SLACK; i++) {
		size_t h;

		if (!s->slot[i])
			continue;
		h = fp_home(&t, s->slot[i]);
		at = h > at ? h : at;
		if (at + 1 >= n + FP_SLACK) { /* no room: larger */
			big_free(t.slot, (n + FP_SLACK) * sizeof(*t.slot));
			if (n >= UINT32_MAX - FP_SLACK)
				return -1;
			return fpset_resize(s, n + n / 4);
		}
		t.slot[at++] = s->slot[i];
		t.used++;
	}
	fpset_release(s);
	*s = t;
	return 0;
}

static size_t fpset_slot(const fpset *s, uint64_t v)
{
	return fp_home(s, v | 1);
}

static int fpset_has(const fpset *s, uint64_t v)
{
	const uint64_t *p;

	v |= 1;
	if (!s->slot)
		return 0;
	for (p = &s->slot[fp_home(s, v)]; *p && *p < v; p++)
		;
	return *p == v;
}

/* 1 if added, 0 if present, -1 on out of memory */
static int fpset_add(fpset *s, uint64_t v)
{
	size_t p, q;

	v |= 1; /* never 0; halves nothing that matters at 2^-63 */
	if ((!s->slot || ((double)(s->used + 1) > FP_LOAD_MAX * (double)s->n &&
			  s->n < UINT32_MAX - FP_SLACK)) &&
	    fpset_resize(s, (size_t)((double)(s->used + 1) / FP_LOAD) + 1))
		return -1;
	for (;;) {
		for (p = fp_home(s, v); s->slot[p] && s->slot[p] < v; p++)
			;
		if (s->slot[p] == v)
			return 0;
		for (q = p; s->slot[q]; q++)
			;
		if (q + 1 < s->n + FP_SLACK)
			break;
		/* the end of the slack: a larger table */
		if (fpset_resize(s, s->n + s->n / 4))
			return -1;
	}
	memmove(&s->slot[p + 1], &s->slot[p], (q - p) * sizeof(*s->slot));
	s->slot[p] = v;
	s->used++;
	return 1;
}

/* Room for add more values within FP_LOAD_MAX: 0, or -1 on out of
 * memory. */
static int fpset_room(fpset *s, size_t add)
{
	double want = (double)(s->used + add);

	if (want <= FP_LOAD_MAX * (double)s->n)
		return 0;
	return fpset_resize(s, (size_t)(want / FP_LOAD) + 1);
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
	size_t expect;         /* fingerprints the set is sized for */
	int seeded;
	const tsrc *src;
	size_t nscan;          /* the placed entries lie in flows[0, nscan) */
	const uint32_t *bases; /* flows that can be resampled; NULL: all */
	const uint8_t *desc;   /* BD_* of each base */
	size_t nbases;
	uint64_t *fp;          /* 2 fingerprints per entry being made */
	uint64_t *fps;         /* a batch of fp by home slot (pool_seed) */
	fp16_fn fp16;
	/* the set seeded by a thread of its own, while the keys go
	 * through the snapshot; joined before the first chunk */
	pthread_t seeder;
	int seeding, seed_rc;
} pool;

static inline uint32_t base_flow(const pool *p, uint32_t i)
{
	return p->bases ? p->bases[i] : i;
}

/* Base of resampled entry p with its fresh ports, into o and r. */
static void pentry_build(const tsrc *s, const pentry *p, hrec *o, hrec *r)
{
	entry_recs_at(s, p->base, o, r);
	put_be16(o->t + 16, p->oport);
	/* icmp: the reply keeps the id in src.u; otherwise the reply's
	 * dst.u is the original source port, or its NAT mapping */
	put_be16(ctp_proto_is_icmp(o->t[38]) ? r->t + 16 : r->t + 36,
		 p->rport);
}

/* A base flow is fetched in two steps: its record, then (once that is
 * in cache) its IPv6 addresses, which the record points to. */
static void prefetch_base(const tsrc *s, uint32_t base)
{
	ctp_snapshot_flow_prefetch(s->snap, base);
}

static void prefetch_base_addrs(const tsrc *s, uint32_t base)
{
	ctp_snapshot_flow_prefetch_addrs(s->snap, base);
}

/*
 * What a base entry's fresh values look like, one byte per base so the
 * draws need not touch the flows: a port keeps its class (privileged
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

	pe->base = base_flow(p, i);
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

	pentry_build(p->src, pe, &o, &r);
	fp[0] = fingerprint(&o);
	fp[1] = fingerprint(&r);
}

#define AHEAD 8 /* entries to prefetch ahead in the memory-bound loops */

/*
 * Every tuple of the snapshot into the set, in batches of up to 2 * n
 * fingerprints (p->fp and p->fps have room), 16 at a time.  A batch goes
 * in by home slot (one counting pass over BANDS bands of the table), so
 * the adds sweep the table instead of missing the cache and the TLB on
 * every add; the set is the same in any order.
 */
#define BANDS 4096 /* 2^12 */
static int pool_seed(pool *p, size_t n)
{
	size_t i = 0;

	if (fpset_resize(&p->set, (size_t)((double)p->expect / FP_LOAD) + 1))
		return -1;
	while (i < p->nscan) {
		uint32_t cnt[BANDS + 1];
		hrec rec[16];
		const hrec *rp[16];
		size_t m = 0, nr = 0;

		for (int k = 0; k < 16; k++)
			rp[k] = &rec[k];
		for (; i < p->nscan && m + nr < 2 * n; i++) {
			if (!placed(p->src, i))
				continue;
			entry_recs_at(p->src, i, &rec[nr], &rec[nr + 1]);
			nr += 2;
			if (nr == 16) {
				fingerprints16(p->fp16, rp, &p->fp[m]);
				m += 16;
				nr = 0;
			}
		}
		for (size_t k = 0; k < nr; k++)
			p->fp[m++] = fingerprint(&rec[k]);
		/* room first: the bands are bands of this table */
		if (fpset_room(&p->set, m))
			return -1;
		/* the band of a value is its top 12 bits: the home slot
		 * grows with the value */
		memset(cnt, 0, sizeof(cnt));
		for (size_t j = 0; j < m; j++)
			cnt[(p->fp[j] >> 52) + 1]++;
		for (size_t b = 1; b <= BANDS; b++)
			cnt[b] += cnt[b - 1];
		for (size_t j = 0; j < m; j++)
			p->fps[cnt[p->fp[j] >> 52]++] = p->fp[j];
		for (size_t j = 0; j < m; j++) {
			if (j + AHEAD < m)
				__builtin_prefetch(&p->set.slot[fpset_slot(
					&p->set, p->fps[j + AHEAD])]);
			if (fpset_add(&p->set, p->fps[j]) < 0)
				return -1;
		}
	}
	return 0;
}

static void *seed_main(void *arg)
{
	pool *p = arg;

	p->seed_rc = pool_seed(p, POOL_CHUNK);
	return NULL;
}

/*
 * Fill c[0 .. n): draw all candidates, fingerprint them, then keep each
 * whose tuple is new, redrawing the rare repeat.  Batched so the random
 * reads of base flows and set slots overlap.  Returns how many were
 * made (< n when no unused tuple is left), or -1 on out of memory.
 */
static long pool_fill(pool *p, pentry *c, size_t n)
{
	if (!p->seeded) {
		if (p->seeding) {
			pthread_join(p->seeder, NULL);
			p->seeding = 0;
			if (p->seed_rc)
				return -1;
		} else if (pool_seed(p, POOL_CHUNK)) {
			return -1;
		}
		p->seeded = 1;
		free(p->fps);
		p->fps = NULL;
	}
	for (size_t i = 0; i < n; i++)
		draw_candidate(p, &c[i]);
	for (size_t i = 0; i < n; i += 8) {
		hrec rec[16];
		const hrec *rp[16];

		if (i + 8 > n) { /* the last few */
			for (size_t k = i; k < n; k++)
				candidate_fp(p, &c[k], &p->fp[2 * k]);
			break;
		}
		for (size_t k = 0; k < 8; k++) {
			if (i + k + 2 * AHEAD < n)
				prefetch_base(p->src,
					      c[i + k + 2 * AHEAD].base);
			if (i + k + AHEAD < n)
				prefetch_base_addrs(p->src,
						    c[i + k + AHEAD].base);
			pentry_build(p->src, &c[i + k], &rec[2 * k],
				     &rec[2 * k + 1]);
			rp[2 * k] = &rec[2 * k];
			rp[2 * k + 1] = &rec[2 * k + 1];
		}
		fingerprints16(p->fp16, rp, &p->fp[2 * i]);
	}
	/* make room first, so the slot prefetches below stay valid */
	if (fpset_room(&p->set, 2 * n))
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
			if (!p->fps && !p->seeded)
				p->fps = malloc(2 * POOL_CHUNK *
						sizeof(*p->fps));
			if (!p->chunk[c] || !p->fp ||
			    (!p->fps && !p->seeded)) {
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

/* ---- the keys ---- */

/* Everything the workers share, read-only but for the pool. */
typedef struct model {
	ctp_hash_era era;
	uint32_t buckets;
	unsigned tables, nns, keys;
	uint64_t seed;
	const tsrc *src;
	size_t nscan;    /* the placed entries lie in flows[0, nscan) */
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
	uint64_t uniform;
	int reached;
} keystate;

typedef struct keyrun {
	const model *m;
	unsigned key;
	keystate st[2];
	int err;
} keyrun;

/*
 * Keys go through the table together, up to LANES of them in one pass:
 * each tuple is made once and hashed under every key of the pass, and
 * each key's inserts, and so its draws, come in the same order as if it
 * ran alone.
 */
#define LANES 8

enum { PH_REPLACE, PH_FILL, PH_DONE };

typedef struct inserter {
	const model *m;
	keyrun *kr;
	hkey k;
	uint32_t *mix;  /* per namespace */
	uint32_t *cnt;  /* buckets * tables */
	uint64_t *per_table;
	ctp_rng rng;
	uint64_t accepted, attempts, refused;
	uint64_t need;  /* refused snapshot entries not yet replaced */
	uint64_t uniform; /* fill entries placed as balls into bins */
	int phase;      /* PH_* */
} inserter;

/* The keys of one pass. */
typedef struct lanes {
	inserter in[LANES];
	unsigned nl;
#ifdef HASH_X8
	hash_x8_fn x8; /* NULL: key by key */
	lanekeys lk;
#endif
} lanes;

/* Buckets of the nt tuples tp[] (2 or 4) under every key of the pass:
 * b[i][l] for tuple i and key l. */
static inline void buckets_of(const model *m, const lanes *ls,
			      const hrec *const *tp, unsigned nt,
			      size_t (*b)[LANES])
{
	uint32_t h[4 * LANES];
	unsigned lpt = LANES;

#ifdef HASH_X8
	if (ls->x8) {
		ls->x8(m->era, tp, nt, &ls->lk, h);
		lpt = ls->lk.lpt;
	} else
#endif
	{
		for (unsigned i = 0; i < nt; i++)
			for (unsigned l = 0; l < ls->nl; l++)
				h[i * lpt + l] = hash_era(
					m->era, tp[i]->t, tp[i]->zone,
					ls->in[l].mix[tp[i]->ns],
					&ls->in[l].k);
	}
	for (unsigned i = 0; i < nt; i++) {
		/* eras <= 4.6: one table per namespace, end to end */
		size_t add = m->tables > 1 ? (size_t)tp[i]->ns * m->buckets
					   : 0;

		for (unsigned l = 0; l < ls->nl; l++)
			b[i][l] = ctp_hash_scale(h[i * lpt + l], m->buckets) +
				  add;
	}
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
	st->uniform = in->uniform;
	st->attempts = in->attempts;
	st->refused = in->refused;
	st->p_next = p_next_of(&m->limit, dh, st->hist_len);
	free(dh);
	return 0;
}

/*
 * A key's phases after the snapshot (run alone, it would do): replace
 * each refused snapshot entry with a fresh one until none is owed, then
 * record the state "now"; with a target, insert fresh entries until the
 * table holds the target, then record the state "at max".  ended: the
 * pool has no entry left for it.  Returns -1 on out of memory.
 */
static int end_replace(inserter *in)
{
	if (snapshot_state(in, &in->kr->st[0]))
		return -1;
	in->kr->st[0].reached = in->need == 0;
	in->phase = in->m->target ? PH_FILL : PH_DONE;
	return 0;
}

static int advance(inserter *in, int ended)
{
	const model *m = in->m;

	if (in->phase == PH_REPLACE && (!in->need || ended) &&
	    end_replace(in))
		return -1;
	if (in->phase == PH_FILL && (in->accepted >= m->target || ended)) {
		if (snapshot_state(in, &in->kr->st[1]))
			return -1;
		in->kr->st[1].reached = in->accepted >= m->target;
		in->phase = PH_DONE;
	}
	return 0;
}

/* Key material, namespace mixes and counters of key kr->key. */
static int lane_init(const model *m, keyrun *kr, inserter *in)
{
	size_t n = (size_t)m->buckets * m->tables;
	uint8_t kb[16];

	memset(in, 0, sizeof(*in));
	in->m = m;
	in->kr = kr;
	/* stream 0 is the pool's; key i uses stream 1 + i */
	ctp_rng_init(&in->rng, m->seed, 1 + (uint64_t)kr->key);
	for (int i = 0; i < 2; i++) {
		uint64_t v = ctp_rng_next(&in->rng);

		for (int b = 0; b < 8; b++)
			kb[8 * i + b] = (uint8_t)(v >> (8 * b));
	}
	in->k.k0 = ctp_le64(kb);
	in->k.k1 = ctp_le64(kb + 8);
	in->k.seed = ctp_le32(kb);
	in->mix = malloc(m->nns * sizeof(*in->mix));
	in->cnt = big_zalloc(n * sizeof(*in->cnt));
	in->per_table = calloc(m->tables, sizeof(*in->per_table));
	if (!in->mix || !in->cnt || !in->per_table)
		return -1;
	/* every namespace, the host's own too, has a random hash_mix */
	for (unsigned i = 0; i < m->nns; i++)
		in->mix[i] = (uint32_t)(ctp_rng_next(&in->rng) >> 32);
	return 0;
}

static void lane_release(inserter *in)
{
	free(in->mix);
	big_free(in->cnt, (size_t)in->m->buckets * in->m->tables *
				  sizeof(*in->cnt));
	free(in->per_table);
}

/*
 * The snapshot's entries in order, as the kernel would take them, with
 * the buckets worked out AHEAD entries early and their counters
 * prefetched: the counter arrays of a large table do not fit the cache,
 * and a miss per tuple was most of this loop.  Each key counts the
 * entries it refused in need.
 */
#define RING 16 /* > AHEAD, a power of two */
static void insert_snapshot(const model *m, lanes *ls)
{
	size_t ring[RING][2][LANES];
	uint16_t ns[RING];
	size_t next = 0; /* the next flow to look at */
	unsigned nl = ls->nl;

	for (size_t e = 0; e < m->nentries + AHEAD; e++) {
		/* two entries at a time, so their hashes overlap */
		if (e < m->nentries && !(e & 1)) {
			hrec rec[4];
			const hrec *tp[4] = { &rec[0], &rec[1], &rec[2],
					      &rec[3] };
			size_t b[4][LANES];
			unsigned nt = e + 1 < m->nentries ? 4 : 2;

			for (unsigned i = 0; i < nt; i += 2) {
				while (!placed(m->src, next))
					next++;
				entry_recs_at(m->src, next++, &rec[i],
					      &rec[i + 1]);
			}
			buckets_of(m, ls, tp, nt, b);
			for (unsigned i = 0; i < nt; i += 2) {
				size_t at = (e + i / 2) % RING;

				ns[at] = rec[i].ns;
				for (unsigned l = 0; l < nl; l++) {
					ring[at][0][l] = b[i][l];
					ring[at][1][l] = b[i + 1][l];
					__builtin_prefetch(
						&ls->in[l].cnt[b[i][l]], 1);
					__builtin_prefetch(
						&ls->in[l].cnt[b[i + 1][l]], 1);
				}
			}
		}
		if (e >= AHEAD) {
			size_t k = (e - AHEAD) % RING;

			for (unsigned l = 0; l < nl; l++)
				if (!insert_at(&ls->in[l], ring[k][0][l],
					       ring[k][1][l], ns[k]))
					ls->in[l].need++;
		}
	}
}

/* Buckets of pool entries, worked out ahead: entry at[i % RING]. */
typedef struct pring {
	uint64_t at[RING];
	size_t b[RING][2][LANES];
	uint16_t ns[RING];
} pring;

/* Pool entry j hashed under every key of the pass (used by those that
 * still want entries), its counters prefetched. */
static void pool_buckets(const model *m, const lanes *ls, const pentry *pe,
			 uint64_t j, pring *pr)
{
	size_t (*b)[LANES] = pr->b[j % RING];
	hrec o, r;
	const hrec *tp[2] = { &o, &r };

	pentry_build(m->src, pe, &o, &r);
	buckets_of(m, ls, tp, 2, b);
	pr->ns[j % RING] = o.ns;
	pr->at[j % RING] = j;
	for (unsigned l = 0; l < ls->nl; l++) {
		if (ls->in[l].phase == PH_DONE)
			continue;
		__builtin_prefetch(&ls->in[l].cnt[b[0][l]], 1);
		__builtin_prefetch(&ls->in[l].cnt[b[1][l]], 1);
	}
}

/*
 * The fill to max once the observed tuples can give no new entry (few
 * flows, every port taken): the rest of the entries go into uniformly
 * random buckets, balls into bins, through the same insert and chain
 * limit.  The hash model checks the real hash against exactly that law,
 * so the table at max stays a full one instead of a partial fill.  A
 * table the chain limit keeps refusing stops after 4 x target tries.
 */
static void uniform_fill(inserter *in)
{
	const model *m = in->m;
	uint64_t tries = 0, cap = 4 * m->target + 1024;

	while (in->accepted < m->target && tries++ < cap) {
		size_t bo = ctp_rng_below(&in->rng, m->buckets);
		size_t br = ctp_rng_below(&in->rng, m->buckets);

		in->uniform += insert_at(in, bo, br, 0);
	}
}

/* Keys runs[keys[0 .. nl)] in one pass: the snapshot, then the pool
 * entries each still wants, in order; 0 or -1 on out of memory. */
static int run_lanes(const model *m, keyrun *runs, const unsigned *keys,
		     unsigned nl)
{
	lanes *ls = calloc(1, sizeof(*ls));
	uint64_t j = 0, avail = 0;
	pring pr;
	unsigned l;
	int rc = -1;

	if (!ls)
		return -1;
	for (l = 0; l < nl; l++) {
		ls->nl = l + 1;
		if (lane_init(m, &runs[keys[l]], &ls->in[l]))
			goto done;
	}
#ifdef HASH_X8
	ls->x8 = nl > 1 ? hash_x8_pick(m->era) : NULL;
	if (ls->x8) {
		/* lanes past nl hash as key 0 and are not read */
		ls->lk.mix = malloc((size_t)m->nns * 8 * sizeof(*ls->lk.mix));
		if (!ls->lk.mix)
			goto done;
		ls->lk.lpt = nl <= 4 ? 4 : 8;
		for (l = 0; l < 8; l++) {
			unsigned k = l % ls->lk.lpt;
			const inserter *in = &ls->in[k < nl ? k : 0];

			ls->lk.k0[l] = in->k.k0;
			ls->lk.k1[l] = in->k.k1;
			for (unsigned ns = 0; ns < m->nns; ns++)
				ls->lk.mix[8 * (size_t)ns + l] = in->mix[ns];
		}
	}
#endif
	insert_snapshot(m, ls);
	for (l = 0; l < nl; l++)
		ls->in[l].phase = PH_REPLACE;
	memset(pr.at, 0xff, sizeof(pr.at));
	for (;;) {
		size_t *bo, *br;
		unsigned nw = 0;
		const pentry *ahead;
		pentry pe;

		for (l = 0; l < nl; l++) {
			if (advance(&ls->in[l], 0))
				goto done;
			nw += ls->in[l].phase != PH_DONE;
		}
		if (!nw)
			break;
		if (!pool_get(m->pool, j, &avail, &pe)) {
			for (l = 0; l < nl; l++) {
				/* replacements owed end the "now" state
				 * first; the fill then goes on uniform */
				if (ls->in[l].phase == PH_REPLACE &&
				    end_replace(&ls->in[l]))
					goto done;
				if (ls->in[l].phase == PH_FILL)
					uniform_fill(&ls->in[l]);
				if (ls->in[l].phase != PH_DONE &&
				    advance(&ls->in[l], 1))
					goto done;
			}
			break;
		}
		/* as in insert_snapshot(): the entry AHEAD on, if made,
		 * hashed now and its counters prefetched; its base flow
		 * prefetched three times as far ahead, and the flow's IPv6
		 * addresses twice */
		if ((ahead = pool_peek(m->pool, j + 3 * AHEAD, avail)))
			prefetch_base(m->src, ahead->base);
		if ((ahead = pool_peek(m->pool, j + 2 * AHEAD, avail)))
			prefetch_base_addrs(m->src, ahead->base);
		if ((ahead = pool_peek(m->pool, j + AHEAD, avail)))
			pool_buckets(m, ls, ahead, j + AHEAD, &pr);
		if (pr.at[j % RING] != j)
			pool_buckets(m, ls, &pe, j, &pr);
		bo = pr.b[j % RING][0];
		br = pr.b[j % RING][1];
		for (l = 0; l < nl; l++) {
			inserter *in = &ls->in[l];

			if (in->phase == PH_DONE)
				continue;
			if (insert_at(in, bo[l], br[l], pr.ns[j % RING]) &&
			    in->phase == PH_REPLACE)
				in->need--;
		}
		j++;
	}
	rc = 0;
done:
	for (l = 0; l < ls->nl; l++)
		lane_release(&ls->in[l]);
#ifdef HASH_X8
	free(ls->lk.mix);
#endif
	free(ls);
	return rc;
}

typedef struct worker {
	const model *m;
	keyrun *runs;
	unsigned first, step, count;
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;
	unsigned keys[LANES], nl = 0;

	/* this worker's keys, LANES at a time */
	for (unsigned i = w->first; i < w->count; i += w->step) {
		keys[nl++] = i;
		if (nl == LANES || i + w->step >= w->count) {
			int err = run_lanes(w->m, w->runs, keys, nl);

			for (unsigned l = 0; l < nl; l++)
				w->runs[keys[l]].err = err;
			nl = 0;
		}
	}
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
		f->uniform += (double)s->uniform / m->keys;
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
	size_t nflows = ctp_snapshot_flow_count(snap);
	const ctp_hash_era_info *info = ctp_kernel_hash_era_info(opts->era);
	uint16_t *nsidx = NULL;
	uint32_t *bases = NULL;
	uint8_t *desc = NULL;
	keyrun *runs = NULL;
	double *per_table = NULL;
	unsigned nthreads, nns;
	size_t ne = 0, nb = 0, nscan = 0;
	tsrc src;
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
	src.snap = snap;
	src.nsidx = nsidx;
	src.ninputs = ctp_snapshot_input_count(snap);
	src.zone_both = opts->era == CTP_ERA_JHASH_ZONE;
	/* flows past UINT32_MAX are not placed: a base is a 32-bit index */
	if (nflows > UINT32_MAX)
		nflows = UINT32_MAX;
	bases = malloc((nflows ? nflows : 1) * sizeof(*bases));
	desc = malloc(nflows ? nflows : 1);
	if (!bases || !desc)
		goto oom;
	for (size_t i = 0; i < nflows; i++) {
		ctp_flow fl;
		const ctp_flow *f = &fl;

		if (!placed(&src, i)) {
			out->skipped++;
			continue;
		}
		if (ne >= UINT32_MAX)
			break;
		nscan = i + 1;
		ctp_snapshot_flow_get(snap, i, &fl);
		if (ctp_proto_is_icmp(f->proto) && (f->flags & CTP_F_NO_ICMP)) {
			out->inexact++;
		} else if (proto_has_u(f->proto)) {
			hrec o, r;

			entry_recs(&src, f, &o, &r);
			desc[nb] = base_desc(&o, &r);
			bases[nb++] = (uint32_t)i;
		}
		ne++;
	}
	/* every flow a base: the index is the flow (the usual case) */
	if (nb == nscan) {
		free(bases);
		bases = NULL;
	}

	memset(&m, 0, sizeof(m));
	m.era = opts->era;
	m.buckets = opts->buckets;
	m.tables = info->shared_table ? 1 : nns;
	m.nns = nns;
	m.keys = opts->keys;
	m.seed = opts->seed;
	m.src = &src;
	m.nscan = nscan;
	m.nentries = ne;
	m.limit = opts->limit;
	m.target = opts->at_max ? (opts->at_max > ne ? opts->at_max : ne) : 0;
	m.pool = &pl;

	/* the pool: the fill to the target, plus refused inserts to
	 * replace, at most twice the larger table over */
	pl.src = &src;
	pl.nscan = nscan;
	pl.bases = bases;
	pl.desc = desc;
	pl.nbases = nb;
	pl.cap = (m.target > ne ? m.target - ne : 0);
	/* the set: both tuples of the snapshot and of the fill, and of a
	 * chunk of replacements; it grows if more are made */
	pl.expect = 2 * (ne + pl.cap) + 2 * POOL_CHUNK;
	if (m.limit.enabled)
		pl.cap += 2 * (m.target > ne ? m.target : ne) + 4096;
	pl.nchunk = (size_t)(pl.cap / POOL_CHUNK) + 1;
	pl.chunk = calloc(pl.nchunk, sizeof(*pl.chunk));
	if (!pl.chunk || pthread_mutex_init(&pl.lock, NULL))
		goto oom;
	ctp_rng_init(&pl.rng, opts->seed, 0);
	pl.fp16 = fp16_pick();

	runs = calloc(m.keys, sizeof(*runs));
	per_table = calloc(m.tables, sizeof(*per_table));
	if (!runs || !per_table)
		goto oom_lock;
	for (unsigned k = 0; k < m.keys; k++) {
		runs[k].m = &m;
		runs[k].key = k;
	}
	/*
	 * A fill to the target needs the set for sure: seed it beside the
	 * keys' pass over the snapshot, which it does not depend on (the
	 * set is the same whenever it is made).  Its buffers are made here,
	 * so pool_get() finds them.
	 */
	if (m.target > ne && nb) {
		pl.fp = malloc(2 * POOL_CHUNK * sizeof(*pl.fp));
		pl.fps = malloc(2 * POOL_CHUNK * sizeof(*pl.fps));
		if (!pl.fp || !pl.fps)
			goto oom_lock;
		pl.seeding = !pthread_create(&pl.seeder, NULL, seed_main, &pl);
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
			w[t] = (worker){ &m, runs, t, nthreads, m.keys };
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
	if (pl.seeding) /* the pool was never asked for */
		pthread_join(pl.seeder, NULL);
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
	fpset_release(&pl.set);
	free(pl.fp);
	free(pl.fps);
	free(desc);
	free(runs);
	free(per_table);
	free(bases);
	free(nsidx);
	return rc;
}
