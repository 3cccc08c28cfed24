/*
 * Private to analyzer/: the pool of resampled entries (hash_pool.c), the
 * chain model's supply of entries beyond the snapshot: one shared,
 * deterministic sequence that every key takes in the same order, made
 * lazily under a lock, a chunk at a time, by the first key that needs the
 * next entry.  A key's pass holds the length it last saw and reads below
 * it without the lock (pool_get(), pool_peek()).
 */
#ifndef CTPLAN_HASH_POOL_H
#define CTPLAN_HASH_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ctplan/rng.h"
#include "fpset.h"
#include "hash_impl.h"
#include "hash_simd.h"

/* A resampled entry: base flow, fresh orig port, fresh reply port. */
typedef struct pentry {
	uint32_t base;
	uint16_t oport, rport;
} pentry;

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
	int lock_made;         /* lock initialised */
} pool;

/* Base of resampled entry p with its fresh ports, into o and r. */
static inline void pentry_build(const tsrc *s, const pentry *p, hrec *o,
				hrec *r)
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
static inline void prefetch_base(const tsrc *s, uint32_t base)
{
	ctp_snapshot_flow_prefetch(s->snap, base);
}

static inline void prefetch_base_addrs(const tsrc *s, uint32_t base)
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

static inline uint8_t base_desc(const hrec *o, const hrec *r)
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

/*
 * Ready for entries: a pool of at most cap resampled entries drawn from
 * stream 0 of seed, based on the nbases flows bases[] (NULL: flows 0 ..
 * nbases - 1) with desc[] their BD_* bytes, unique against the placed
 * entries of src's flows [0, nscan), a set sized for expect fingerprints.
 * The arrays stay the caller's.  0, or -1 on out of memory; in any case
 * the pool is to be released with ctp_hash_pool_release() (a zeroed pool
 * may be too).
 */
int ctp_hash_pool_init(pool *p, const tsrc *src, size_t nscan,
		       const uint32_t *bases, const uint8_t *desc,
		       size_t nbases, uint64_t cap, size_t expect,
		       uint64_t seed);
/* Start seeding the set with the snapshot's tuples on a thread of its
 * own, while the keys go through the snapshot.  0, or -1 on out of
 * memory; without a thread, the first chunk seeds it. */
int ctp_hash_pool_seed_early(pool *p);
/* Joins the seeding thread if it still runs, frees everything. */
void ctp_hash_pool_release(pool *p);

/* pool_get() past the length seen: make entries up to j under the lock;
 * whether j is now below *avail, the new length seen. */
int ctp_hash_pool_more(pool *p, uint64_t j, uint64_t *avail);

/*
 * Entry j of the pool into *out: 1, or 0 when the pool ends before j.
 * *avail caches the length this worker has seen.
 */
static inline int pool_get(pool *p, uint64_t j, uint64_t *avail,
			   pentry *out)
{
	if (j >= *avail && !ctp_hash_pool_more(p, j, avail))
		return 0;
	*out = p->chunk[j / POOL_CHUNK][j % POOL_CHUNK];
	return 1;
}

/* Entry j if already made, without locking or making it: a hint. */
static inline const pentry *pool_peek(const pool *p, uint64_t j,
				      uint64_t avail)
{
	if (j >= avail)
		return NULL;
	return &p->chunk[j / POOL_CHUNK][j % POOL_CHUNK];
}

#endif
