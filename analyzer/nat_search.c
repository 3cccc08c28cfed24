/*
 * The kernel's source-NAT port search (include/ctplan/kernel.h, step 4
 * of the port choice; net/netfilter/nf_nat_core.c get_unique_tuple()
 * and nf_nat_l4proto_unique_tuple()), on one range of size ports whose
 * taken ones are given as indices (port - lo):
 *
 *   rover scan (<= 4.20): every port of the range in turn, from a
 *     per-protocol rover; fails only when every port is taken;
 *   bounded rounds (5.0+): a random 16-bit start offset off, probes of
 *     index ((off + i) mod 65536) mod size, min(size, 128) probes in
 *     the first round, then rounds of half as many from new random
 *     starts while a round had at least min_round probes and fewer
 *     than size;
 *   eviction (6.5+, TCP SYN): in the last evict_last probes of a round
 *     a taken port whose holder may be evicted is taken over, when the
 *     SYN's sequence has passed the holder's (CTP_NAT_EVICT_P).
 *
 * The numbers come from ctp_kernel_nat_algo() (analyzer/kernel.c).
 * Two ways to ask: ctp_nat_p_search_fail(), the exact probability that
 * the search finds no free port, summed over the runs of taken indices
 * instead of over every start offset; and ctp_nat_search(), one search
 * as the kernel runs it, with its random starts drawn from an rng.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nat_impl.h"

/* ---- runs of taken indices ---- */

void ctp_nat_runs_release(runs *rs)
{
	free(rs->r);
	free(rs->ev);
	rs->r = NULL;
	rs->ev = NULL;
	rs->cap = 0;
}

/* Maximal runs of consecutive taken indices; a run through size - 1
 * and 0 is merged into one that starts near the end. */
static int runs_build(const ctp_nat_taken *t, runs *rs)
{
	size_t i, first_run_end = 0;

	rs->n = 0;
	rs->full = 0;
	rs->nev = 0;
	if (!t->n)
		return 0;
	if (rs->cap < t->n + 1) {
		size_t cap = t->n + 1 > 2 * rs->cap ? t->n + 1 : 2 * rs->cap;
		run *r = realloc(rs->r, cap * sizeof(*rs->r));
		uint32_t *ev;

		if (!r)
			return CTP_ENOMEM;
		rs->r = r;
		ev = realloc(rs->ev, cap * sizeof(*rs->ev));
		if (!ev)
			return CTP_ENOMEM;
		rs->ev = ev;
		rs->cap = cap;
	}
	rs->full = t->n == t->size;
	for (i = 0; i < t->n; i++) {
		if (i && t->taken[i] == t->taken[i - 1] + 1) {
			rs->r[rs->n - 1].len++;
			continue;
		}
		rs->r[rs->n].start = t->taken[i];
		rs->r[rs->n].len = 1;
		rs->r[rs->n].base = i;
		rs->n++;
	}
	if (!rs->full && rs->n > 1 && t->taken[0] == 0 &&
	    t->taken[t->n - 1] == t->size - 1) {
		/* the first run continues the last one */
		run *last = &rs->r[rs->n - 1];

		first_run_end = rs->r[0].len;
		last->len += rs->r[0].len;
		memmove(rs->r, rs->r + 1, (rs->n - 1) * sizeof(*rs->r));
		rs->n--;
		for (i = 0; i < rs->n; i++)
			rs->r[i].base -= first_run_end;
	}
	if (!t->evict)
		return 0;
	/* run order: taken[] rotated left by first_run_end */
	rs->ev[0] = 0;
	for (i = 0; i < t->n; i++) {
		size_t at = i + first_run_end;

		if (at >= t->n)
			at -= t->n;
		rs->ev[i + 1] = rs->ev[i] + t->evict[at];
	}
	rs->nev = rs->ev[t->n];
	return 0;
}

/*
 * runs_build() from a bitmap of size bits in 64-bit words (no evictable
 * holders): the runs come from the words' 0-1 and 1-0 edges, without
 * listing every taken index.  *n gets the taken count.
 */
int ctp_nat_runs_from_bits(const uint64_t *w, uint32_t size, runs *rs,
			   size_t *n)
{
	uint32_t words = (size + 63) / 64;
	size_t taken = 0;
	int open = 0; /* a run continues from the previous word */

	rs->n = 0;
	rs->full = 0;
	rs->nev = 0;
	for (uint32_t i = 0; i < words; i++) {
		uint64_t v = w[i];
		/* starts: set bits whose lower neighbour is clear; ends:
		 * set bits whose upper neighbour is clear (bits past size
		 * are clear) */
		uint64_t up = i + 1 < words ? w[i + 1] & 1 : 0;
		uint64_t st = v & ~(v << 1 | (uint64_t)open);
		uint64_t en = v & ~(v >> 1 | up << 63);

		while (st || en) {
			uint32_t b;

			/* a start comes before the end of its run */
			if (st && (!en || __builtin_ctzll(st) <=
						   __builtin_ctzll(en))) {
				b = i * 64 + (uint32_t)__builtin_ctzll(st);
				st &= st - 1;
				if (rs->n == rs->cap) {
					size_t cap = rs->cap ? 2 * rs->cap
							     : 64;
					run *r = realloc(rs->r,
							 cap * sizeof(*r));
					uint32_t *ev;

					if (!r)
						return CTP_ENOMEM;
					rs->r = r;
					ev = realloc(rs->ev,
						     cap * sizeof(*ev));
					if (!ev)
						return CTP_ENOMEM;
					rs->ev = ev;
					rs->cap = cap;
				}
				rs->r[rs->n].start = b;
				rs->r[rs->n].base = taken;
				rs->n++;
			} else {
				run *r = &rs->r[rs->n - 1];

				b = i * 64 + (uint32_t)__builtin_ctzll(en);
				en &= en - 1;
				r->len = b - r->start + 1;
				taken += r->len;
			}
		}
		open = (int)(v >> 63);
	}
	*n = taken;
	if (!taken)
		return 0;
	rs->full = taken == size;
	if (!rs->full && rs->n > 1 && rs->r[0].start == 0 &&
	    rs->r[rs->n - 1].start + rs->r[rs->n - 1].len == size) {
		/* the first run continues the last one (as runs_build) */
		size_t first_run_end = rs->r[0].len;

		rs->r[rs->n - 1].len += rs->r[0].len;
		memmove(rs->r, rs->r + 1, (rs->n - 1) * sizeof(*rs->r));
		rs->n--;
		for (size_t i = 0; i < rs->n; i++)
			rs->r[i].base -= first_run_end;
	}
	if (rs->full) /* runs_build() keeps the one run as it is */
		rs->n = 1;
	return 0;
}

/* Taken indices from x upwards, cyclically (UINT32_MAX if all are). */
static uint32_t run_from(const runs *rs, uint32_t size, uint32_t x)
{
	size_t lo = 0, hi = rs->n;

	if (rs->full)
		return UINT32_MAX;
	if (!rs->n)
		return 0;
	/* the wrap run, if any, is last and covers [0, end - size) */
	{
		const run *w = &rs->r[rs->n - 1];

		if (w->start + w->len > size && x < w->start + w->len - size)
			return w->start + w->len - size - x;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rs->r[mid].start <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	lo--;
	if (x < rs->r[lo].start + rs->r[lo].len)
		return rs->r[lo].start + rs->r[lo].len - x;
	return 0;
}

/* Is index x evictable?  Binary search of the sorted taken indices. */
static int evict_at(const ctp_nat_taken *t, uint32_t x)
{
	size_t lo = 0, hi = t->n;

	if (!t->evict)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->taken[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->taken[lo] == x && t->evict[lo];
}

/* Evictable entries among run-order positions [from, from + len),
 * cyclic over the n taken indices (the full range only wraps). */
static uint32_t ev_count(const runs *rs, size_t n, size_t from, size_t len)
{
	from %= n;
	if (from + len <= n)
		return rs->ev[from + len] - rs->ev[from];
	return rs->ev[n] - rs->ev[from] + rs->ev[from + len - n];
}

/* ---- the exact failure probability ---- */

/*
 * The exact failure probability of a round of a probes.  Probe i of a
 * start off looks at index ((off + i) mod space) mod size (space: the
 * u16 offset, 65536).  For the space - a + 1 starts that do not wrap,
 * the a indices are consecutive mod size, and the round fails exactly
 * when its first index starts a run of at least a taken indices; how
 * many starts map to each first index r is q + (r < rem).  So a sum
 * over the long runs of the range, not over 65536 starts.  The a - 1
 * starts that wrap probe l1 indices from off mod size and then a - l1
 * from 0 (the kernel's u16 wraps): checked one by one, and only when
 * index 0 is taken, since their probes from 0 fail only then.
 *
 * Without eviction every start weighs a whole number (q or q + 1), so
 * the sum is an integer below 2^33, exact in a double whatever the
 * order of the additions: a run's starts are then counted in one step
 * rather than one by one, to the same bit.
 *
 * Eviction (6.5+ TCP): an evictable index among the last e probes lets
 * the round succeed with CTP_NAT_EVICT_P, independently per probe and
 * round -- in the kernel the "sequence has advanced" test of a holder is
 * the same in every round, so across rounds this slightly understates
 * the failure probability when evictable holders are probed twice.
 */

/* How many of the cnt indices from start on, cyclic in size (cnt <=
 * size), lie below rem. */
static uint64_t count_below(uint32_t start, uint32_t cnt, uint32_t size,
			    uint32_t rem)
{
	uint32_t end = start + cnt, hi = end < size ? end : size;
	uint64_t c = 0;

	if (start < rem)
		c += (hi < rem ? hi : rem) - start;
	if (end > size)
		c += end - size < rem ? end - size : rem;
	return c;
}

/*
 * One round of a probes: the probability, over the space start offsets,
 * that every probe finds its port taken (and no evictable holder among
 * the last e probes gives way).
 */
static double round_fail(const ctp_nat_taken *t, const runs *rs,
			 uint32_t space, uint32_t a, uint32_t e,
			 const double *keep_pow)
{
	/* offsets [0, n0) make windows of a consecutive indices mod size */
	uint32_t n0 = space - a + 1, q = n0 / t->size, rem = n0 % t->size;
	uint32_t r0, last;
	double sum = 0;

	if (!rs->nev)
		e = 0; /* no holder gives way: whole weights */
	for (size_t k = 0; k < rs->n || (rs->full && k == 0); k++) {
		uint32_t start = rs->full ? 0 : rs->r[k].start;
		uint32_t len = rs->full ? t->size : rs->r[k].len;
		uint32_t starts = rs->full ? t->size : len - a + 1;
		size_t base = rs->full ? 0 : rs->r[k].base;

		if (!rs->full && len < a)
			continue;
		if (!e) {
			sum += (double)((uint64_t)starts * q +
					count_below(start, starts, t->size,
						    rem));
			continue;
		}
		for (uint32_t j = 0; j < starts; j++) {
			uint32_t r = (start + j) % t->size;
			double w = q + (r < rem);

			w *= keep_pow[ev_count(rs, t->n, base + j + a - e, e)];
			sum += w;
		}
	}
	/* offsets [n0, space): l1 probes from off % size, then l2 = a - l1
	 * from 0; they can all fail only if l2 <= the run from 0 */
	r0 = run_from(rs, t->size, 0);
	if (!r0)
		return sum / space;
	last = r0 >= a ? space - 1 : space - a + r0;
	for (uint32_t off = n0; off <= last; off++) {
		uint32_t r1 = off % t->size, l1 = space - off, l2 = a - l1;
		uint32_t ne = 0;

		if (run_from(rs, t->size, r1) < l1 || r0 < l2)
			continue;
		for (uint32_t i = a - e; i < a; i++)
			ne += evict_at(t, i < l1 ? (r1 + i) % t->size
						 : (i - l1) % t->size);
		sum += keep_pow[ne];
	}
	return sum / space;
}

double ctp_nat_p_search_fail_rs(const ctp_nat_algo *algo,
				const ctp_nat_taken *t, int evict_tcp,
				runs *rs)
{
	if (!t->n || !t->size)
		return 0;
	if (!algo->first_round) /* scan of the whole range */
		return t->n >= t->size ? 1 : 0;
	if (runs_build(t, rs))
		return NAN;
	return ctp_nat_p_rounds(algo, t, evict_tcp, rs);
}

double ctp_nat_p_rounds(const ctp_nat_algo *algo, const ctp_nat_taken *t,
			int evict_tcp, const runs *rs)
{
	double keep_pow[129], p = 1;
	uint32_t a, e;

	keep_pow[0] = 1;
	for (int i = 1; i < 129; i++)
		keep_pow[i] = keep_pow[i - 1] * (1 - CTP_NAT_EVICT_P);
	a = t->size < algo->first_round ? t->size : algo->first_round;
	for (;;) {
		e = evict_tcp && t->evict ? algo->evict_last : 0;
		if (e > a)
			e = a;
		p *= round_fail(t, rs, algo->start_space, a, e, keep_pow);
		if (a >= t->size || a < algo->min_round || p == 0)
			break;
		a /= 2;
	}
	return p;
}

double ctp_nat_p_search_fail(const ctp_nat_algo *algo,
			     const ctp_nat_taken *t, int evict_tcp)
{
	runs rs = { 0 };
	double p = ctp_nat_p_search_fail_rs(algo, t, evict_tcp, &rs);

	ctp_nat_runs_release(&rs);
	return p;
}

/* ---- one search as the kernel runs it ---- */

/* The first clear bit of b in [x, x + n), or -1; a byte at a time. */
static long first_clear(const uint8_t *b, uint32_t x, uint32_t n)
{
	uint32_t end = x + n;

	if (!b)
		return x;
	while (x < end) {
		uint32_t sh = x & 7, span = 8 - sh;
		unsigned clear = (~(unsigned)b[x >> 3] & 0xffu) >> sh;

		if (span > end - x) {
			span = end - x;
			clear &= (1u << span) - 1;
		}
		if (clear)
			return (long)(x + (uint32_t)__builtin_ctz(clear));
		x += span;
	}
	return -1;
}

long ctp_nat_search(const ctp_nat_algo *algo, uint32_t size,
		    const uint8_t *taken, const uint8_t *evict, int evict_tcp,
		    ctp_rng *rng)
{
	uint32_t mask = algo->start_space - 1, off, a;

	if (!size)
		return -1;
	off = ctp_rng_below(rng, algo->start_space);
	if (!algo->first_round) {
		for (uint32_t i = 0; i < size; i++)
			if (!ctp_nat_bit(taken, (off + i) % size))
				return (long)((off + i) % size);
		return -1;
	}
	a = size < algo->first_round ? size : algo->first_round;
	for (;;) {
		/* x = off % size, stepped along with off: no division per
		 * probe (off wraps to 0 at start_space, and so does x) */
		uint32_t x = off % size;

		if (!evict_tcp || !evict) {
			/* no eviction: the probes between two wraps (of x
			 * at size, of off at start_space) are a run of
			 * indices, searched a byte at a time */
			for (uint32_t left = a; left;) {
				uint32_t seg = left, to_off = mask + 1 - off;
				long r;

				if (seg > size - x)
					seg = size - x;
				if (seg > to_off)
					seg = to_off;
				if ((r = first_clear(taken, x, seg)) >= 0)
					return r;
				left -= seg;
				off = (off + seg) & mask;
				x = !off || x + seg == size ? 0 : x + seg;
			}
			goto next_round;
		}
		for (uint32_t i = 0; i < a; i++) {
			if (!ctp_nat_bit(taken, x))
				return x;
			/* nf_nat_used_tuple_harder(): attempts - i left */
			if (evict_tcp && a - i <= algo->evict_last &&
			    ctp_nat_bit(evict, x) &&
			    (double)(ctp_rng_next(rng) >> 11) * 0x1.0p-53 <
				    CTP_NAT_EVICT_P)
				return x;
			off = (off + 1) & mask;
			x = !off || x + 1 == size ? 0 : x + 1;
		}
next_round:
		if (a >= size || a < algo->min_round)
			return -1;
		a /= 2;
		off = ctp_rng_below(rng, algo->start_space);
	}
}
