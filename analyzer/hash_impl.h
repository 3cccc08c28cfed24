/*
 * Private to analyzer/: what the parts of the chain model share.  The
 * model is split by idea (hash.c says which file holds what); this header
 * holds the pieces every part reads:
 * - a tuple as the model hashes it (hrec), made on the fly from a flow
 *   of the snapshot (tsrc, entry_recs()), never stored per entry;
 * - fingerprint(), a tuple's 64-bit name in the resampling's set of
 *   tuples (hash_pool.c, fpset.h), which hash_simd.c also computes 16 at
 *   a time;
 * - the run (model), and each key's result per phase (keyrun, keystate),
 *   written by hash_chain.c and averaged by hash_stats.c.
 *
 * The functions are inline: they run for every tuple placed.
 */
#ifndef CTPLAN_HASH_IMPL_H
#define CTPLAN_HASH_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctplan/hash.h"
#include "hash_tuple.h"

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
	o->zone = flow_zone(f, x, 0);
	/* <= 4.2 had no zone direction: one id for both tuples */
	r->zone = s->zone_both ? f->zone : flow_zone(f, x, 1);
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
static inline uint64_t fingerprint(const hrec *r)
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

#define AHEAD 8 /* entries to prefetch ahead in the memory-bound loops */

struct pool; /* hash_pool.h */

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
	struct pool *pool;
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

#endif
