/*
 * The pool of resampled entries (hash_pool.h): entries beyond the
 * snapshot, to replace refused inserts and to fill the table to a target.
 * Apart from the chain model, which only takes entries in order, because
 * making them is its own problem: drawing, keeping them unique, and doing
 * that fast enough, with the set seeded on a thread of its own.
 *
 * Entries are resampled from observed entries with a fresh source port,
 * ICMP id or GRE key.  They are generated lazily, in one deterministic
 * sequence shared by all keys, as 8-byte references (struct pentry) to
 * their base flow, and kept unique by a set of tuple fingerprints over
 * both directions: the kernel never holds two equal tuples (NAT chooses
 * ports so that reply tuples stay unique).  The set is exact and kept at
 * a load of 0.8 (fpset.h), 10 bytes a tuple.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/rng.h"
#include "fpset.h"
#include "hash_impl.h"
#include "hash_pool.h"
#include "hash_simd.h"

static inline uint32_t base_flow(const pool *p, uint32_t i)
{
	return p->bases ? p->bases[i] : i;
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

	if (ctp_fpset_resize(&p->set,
			     (size_t)((double)p->expect / FP_LOAD) + 1))
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
		if (ctp_fpset_room(&p->set, m))
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
			if (ctp_fpset_add(&p->set, p->fps[j]) < 0)
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
	if (ctp_fpset_room(&p->set, 2 * n))
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
		if (ctp_fpset_add(&p->set, fp[0]) < 0 ||
		    ctp_fpset_add(&p->set, fp[1]) < 0)
			return -1;
	}
	return (long)n;
}

int ctp_hash_pool_more(pool *p, uint64_t j, uint64_t *avail)
{
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
			p->fps = malloc(2 * POOL_CHUNK * sizeof(*p->fps));
		if (!p->chunk[c] || !p->fp || (!p->fps && !p->seeded)) {
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
	return j < *avail;
}

int ctp_hash_pool_init(pool *p, const tsrc *src, size_t nscan,
		       const uint32_t *bases, const uint8_t *desc,
		       size_t nbases, uint64_t cap, size_t expect,
		       uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->src = src;
	p->nscan = nscan;
	p->bases = bases;
	p->desc = desc;
	p->nbases = nbases;
	p->cap = cap;
	p->expect = expect;
	p->nchunk = (size_t)(p->cap / POOL_CHUNK) + 1;
	p->chunk = calloc(p->nchunk, sizeof(*p->chunk));
	if (!p->chunk || pthread_mutex_init(&p->lock, NULL))
		return -1;
	p->lock_made = 1;
	ctp_rng_init(&p->rng, seed, 0);
	p->fp16 = ctp_hash_fp16_pick();
	return 0;
}

int ctp_hash_pool_seed_early(pool *p)
{
	/* the buffers are made here, so ctp_hash_pool_more() finds them */
	p->fp = malloc(2 * POOL_CHUNK * sizeof(*p->fp));
	p->fps = malloc(2 * POOL_CHUNK * sizeof(*p->fps));
	if (!p->fp || !p->fps)
		return -1;
	p->seeding = !pthread_create(&p->seeder, NULL, seed_main, p);
	return 0;
}

void ctp_hash_pool_release(pool *p)
{
	if (p->seeding) /* the pool was never asked for */
		pthread_join(p->seeder, NULL);
	p->seeding = 0;
	if (p->lock_made)
		pthread_mutex_destroy(&p->lock);
	p->lock_made = 0;
	for (size_t c = 0; p->chunk && c < p->nchunk; c++)
		free(p->chunk[c]);
	free(p->chunk);
	p->chunk = NULL;
	ctp_fpset_release(&p->set);
	free(p->fp);
	free(p->fps);
	p->fp = p->fps = NULL;
}
