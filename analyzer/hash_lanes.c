/*
 * The keys' passes through the table (hash_lanes.h): the machinery that
 * feeds the kernel's insert (hash_chain.h) fast.  Apart from the kernel's
 * logic because none of it changes a result, only how soon it comes.
 *
 * Keys go through the snapshot together, up to eight in one pass of a
 * thread: each tuple is made once and hashed under all of them, in the
 * lanes of one vector where the CPU has AVX2 or AVX-512 (hash_simd.h),
 * and each key's inserts (so its draws of the chain limit) come in the
 * same order as if it ran alone.  Per key there is only its array of
 * bucket counters.  The buckets of an entry are worked out AHEAD entries
 * before its insert and their counters prefetched, in a ring; the pool's
 * entries likewise, with their base flows prefetched further ahead.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash_chain.h"
#include "hash_impl.h"
#include "hash_lanes.h"
#include "hash_pool.h"
#include "hash_simd.h"
#include "hash_tuple.h"

/*
 * Keys go through the table together, up to LANES of them in one pass:
 * each tuple is made once and hashed under every key of the pass, and
 * each key's inserts, and so its draws, come in the same order as if it
 * ran alone.
 */
#define LANES 8

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
		if (ctp_hash_inserter_init(m, &runs[keys[l]], &ls->in[l]))
			goto done;
	}
#ifdef HASH_X8
	ls->x8 = nl > 1 ? ctp_hash_x8_pick(m->era) : NULL;
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
			if (ctp_hash_advance(&ls->in[l], 0))
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
				    ctp_hash_end_replace(&ls->in[l]))
					goto done;
				if (ls->in[l].phase == PH_FILL)
					ctp_hash_uniform_fill(&ls->in[l]);
				if (ls->in[l].phase != PH_DONE &&
				    ctp_hash_advance(&ls->in[l], 1))
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
		ctp_hash_inserter_release(&ls->in[l]);
#ifdef HASH_X8
	free(ls->lk.mix);
#endif
	free(ls);
	return rc;
}

void *ctp_hash_worker_main(void *arg)
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
