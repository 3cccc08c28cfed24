/*
 * NAT model, the thresholds (analyzer/nat_impl.h): the utilization of
 * a group's range at which p_fail_next (nat_risk.c) reaches 1% and 50%,
 * when the range fills from empty the way the kernel fills it.
 *
 * A fill lets new connections come from random client ports, keep the
 * port when the rule allows and it is free, and otherwise take the port
 * the kernel's search (ctp_nat_search(), nat_search.c) finds, until the
 * searches keep failing.  The order the ports were taken in is kept, so
 * p_fail_next at any k taken ports is the exact figure of the first k
 * ports of each fill, averaged over the samples fills of a range; the
 * smallest such k is found by bisection.  (The rover scan of <= 4.20
 * fails only at a full range: 1 and 1, without fills.)  One figure per
 * distinct range and port choice, and few of those in practice.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nat_impl.h"
#include "par.h"

typedef struct tcfg {
	unsigned lo, hi, clo, chi;
	ctp_nat_range_src src;
	int random;
	double p1, p50;
} tcfg;

typedef struct fill {
	uint32_t *order; /* indices in the order they were taken */
	uint32_t k;      /* how many */
} fill;

/* Taken ports of a fill: a bitmap in 64-bit words, index 0 = lo. */
typedef struct bits_ud {
	const uint64_t *w;
	unsigned lo, size;
} bits_ud;

/* Set bits of w in [from, to). */
static uint64_t popcount_range(const uint64_t *w, uint32_t from, uint32_t to)
{
	uint64_t c = 0;

	while (from < to) {
		uint32_t i = from >> 6, sh = from & 63;
		uint32_t n = 64 - sh < to - from ? 64 - sh : to - from;
		uint64_t v = w[i] >> sh;

		if (n < 64)
			v &= ((uint64_t)1 << n) - 1;
		c += (uint64_t)__builtin_popcountll(v);
		from += n;
	}
	return c;
}

static uint64_t bits_taken(const void *ud, unsigned lo, unsigned hi)
{
	const bits_ud *u = ud;
	uint64_t from = lo > u->lo ? lo : u->lo;
	uint64_t to = (uint64_t)hi + 1;

	if (to > (uint64_t)u->lo + u->size)
		to = (uint64_t)u->lo + u->size;
	if (from >= to)
		return 0;
	return popcount_range(u->w, (uint32_t)(from - u->lo),
			      (uint32_t)(to - u->lo));
}

/* Fill window: stop once FILL_FAIL_SHARE of the last FILL_WINDOW
 * attempts failed (p_fail_next is well past 50% there). */
#define FILL_WINDOW 256
#define FILL_FAIL_SHARE 0.9

static int fill_run(const model *m, const tcfg *c, ctp_rng *rng, fill *f)
{
	uint32_t size = c->hi - c->lo + 1;
	uint8_t *b = calloc(size / 8 + 1, 1);
	uint8_t ring[FILL_WINDOW] = { 0 };
	unsigned fails = 0;
	uint64_t attempts = 0, cap = (uint64_t)size * 64 + 100000;

	f->k = 0;
	f->order = malloc(size * sizeof(*f->order));
	if (!b || !f->order) {
		free(b);
		free(f->order);
		f->order = NULL;
		return CTP_ENOMEM;
	}
	while (f->k < size && attempts < cap) {
		long x = -1;
		int failed = 0;

		if (!c->random && c->clo <= c->chi) {
			unsigned sp = c->clo +
				      ctp_rng_below(rng, c->chi - c->clo + 1);
			int in = sp >= c->lo && sp <= c->hi;

			if (in &&
			    (!ctp_nat_bit(b, sp - c->lo) || c->lo == c->hi))
				x = sp - c->lo;
			else if (!in && c->src == CTP_NAT_RANGE_DEFAULT)
				x = -2; /* kept, outside the range */
		}
		if (x == -1) {
			x = ctp_nat_search(&m->algo, size, b, NULL, 0, rng);
			failed = x < 0;
		}
		if (x >= 0 && !ctp_nat_bit(b, (uint32_t)x)) {
			b[x >> 3] |= (uint8_t)(1u << (x & 7));
			f->order[f->k++] = (uint32_t)x;
		}
		fails += failed - ring[attempts % FILL_WINDOW];
		ring[attempts % FILL_WINDOW] = (uint8_t)failed;
		attempts++;
		if (attempts >= FILL_WINDOW &&
		    fails >= FILL_FAIL_SHARE * FILL_WINDOW)
			break;
	}
	free(b);
	return 0;
}

/* What the search for one threshold needs: the fills, scratch for a
 * fill's taken ports, and the p already worked out per k (the searches
 * for 1% and 50% start with the same steps). */
typedef struct tstate {
	const model *m;
	const tcfg *c;
	const fill *fl;
	unsigned nf;
	/* per worker of ctp_par_for(): a bitmap, (size + 63) / 64 words,
	 * and the runs read off it */
	uint64_t *w[CTP_PAR_WORKERS];
	runs rs[CTP_PAR_WORKERS];
	double *ps;   /* a fill's figure at the k asked for, per fill */
	uint32_t k;   /* the k asked for */
	struct {
		uint32_t k;
		double p;
	} memo[80];
	unsigned nmemo;
} tstate;

/* p_fail_next of fill s at its first ts->k entries, into ts->ps[s]
 * (one iteration of ctp_par_for()) */
static void fill_p(void *ud_, size_t s, unsigned worker)
{
	tstate *ts = ud_;
	const tcfg *c = ts->c;
	uint32_t size = c->hi - c->lo + 1, words = (size + 63) / 64;
	const fill *f = &ts->fl[s];
	uint32_t kk = ts->k < f->k ? ts->k : f->k;
	uint64_t *w = ts->w[worker];
	bits_ud ud = { w, c->lo, size };
	ctp_nat_taken t = { NULL, NULL, 0, size };
	double keep, ps = 0;

	memset(w, 0, words * sizeof(*w));
	for (uint32_t i = 0; i < kk; i++)
		w[f->order[i] >> 6] |= (uint64_t)1 << (f->order[i] & 63);
	/* p_search_fail() of the taken indices, the runs read off the
	 * bitmap (thresholds() runs for first_round > 0 only) */
	if (ctp_nat_runs_from_bits(w, size, &ts->rs[worker], &t.n))
		ps = NAN;
	else if (t.n)
		ps = ctp_nat_p_rounds(&ts->m->algo, &t, 0, &ts->rs[worker]);
	keep = ctp_nat_keep_share(c->random, c->src, c->lo, c->hi, c->clo,
				  c->chi, bits_taken, &ud);
	ts->ps[s] = (1 - keep) * ps;
}

/* p_fail_next averaged over the fills, each at its first k entries:
 * the fills on two threads (par.c), summed in fill order */
static double fills_p(tstate *ts, uint32_t k)
{
	double sum = 0;

	for (unsigned i = 0; i < ts->nmemo; i++)
		if (ts->memo[i].k == k)
			return ts->memo[i].p;
	ts->k = k;
	ctp_par_for(ts->nf, fill_p, ts);
	for (unsigned s = 0; s < ts->nf; s++)
		sum += ts->ps[s];
	sum /= ts->nf;
	if (ts->nmemo < sizeof(ts->memo) / sizeof(ts->memo[0])) {
		ts->memo[ts->nmemo].k = k;
		ts->memo[ts->nmemo].p = sum;
		ts->nmemo++;
	}
	return sum;
}

/* Smallest k in [0, kmax] with fills_p >= target; -1 if none, -2 out
 * of memory (fills_p is NAN then). */
static long fills_k(tstate *ts, uint32_t kmax, double target)
{
	uint32_t lo = 0, hi = kmax;
	double p = fills_p(ts, kmax);

	if (isnan(p))
		return -2;
	if (p < target)
		return -1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		p = fills_p(ts, mid);
		if (isnan(p))
			return -2;
		if (p >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* What the fills of one range need, and their results */
typedef struct fills_job {
	const model *m;
	const tcfg *c;
	fill *fl;
	int *rc; /* per fill */
} fills_job;

/* Fill s of a range (one iteration of ctp_par_for()) */
static void fill_one(void *ud, size_t s, unsigned worker)
{
	const fills_job *j = ud;
	const tcfg *c = j->c;
	ctp_rng rng;

	(void)worker;
	/* a stream per range and sample: the figures do not depend on
	 * which groups came first, nor on the thread that fills */
	ctp_rng_init(&rng, j->m->opts->seed,
		     ((uint64_t)c->lo << 40) ^ ((uint64_t)c->hi << 20) ^
			     ((uint64_t)c->random << 19) ^
			     ((uint64_t)c->src << 17) ^ s);
	j->rc[s] = fill_run(j->m, c, &rng, &j->fl[s]);
}

static int thresholds(const model *m, tcfg *c)
{
	unsigned nf = m->opts->samples ? m->opts->samples : 1;
	uint32_t size = c->hi - c->lo + 1, kmax = 0;
	fill *fl = calloc(nf, sizeof(*fl));
	int *frc = calloc(nf, sizeof(*frc));
	fills_job job = { m, c, fl, frc };
	tstate ts;
	int rc = CTP_ENOMEM;
	long k;

	memset(&ts, 0, sizeof(ts));
	ts.m = m;
	ts.c = c;
	ts.fl = fl;
	ts.nf = nf;
	ts.ps = calloc(nf, sizeof(*ts.ps));
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++)
		if (!(ts.w[w] = calloc((size + 63) / 64, sizeof(*ts.w[w]))))
			goto done;
	if (!fl || !frc || !ts.ps)
		goto done;
	if (!m->algo.first_round) {
		/* the rover scan fails only when every port is taken, and then
		 * no client port can be kept either: both at a full range */
		c->p1 = c->p50 = 1;
		rc = 0;
		goto done;
	}
	/* the fills on two threads (par.c) */
	ctp_par_for(nf, fill_one, &job);
	for (unsigned s = 0; s < nf; s++) {
		if (frc[s])
			goto done;
		if (fl[s].k > kmax)
			kmax = fl[s].k;
	}
	if ((k = fills_k(&ts, kmax, 0.01)) == -2)
		goto done;
	c->p1 = k < 0 ? NAN : (double)k / size;
	if ((k = fills_k(&ts, kmax, 0.5)) == -2)
		goto done;
	c->p50 = k < 0 ? NAN : (double)k / size;
	rc = 0;
done:
	for (unsigned s = 0; fl && s < nf; s++)
		free(fl[s].order);
	free(fl);
	free(frc);
	free(ts.ps);
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++) {
		free(ts.w[w]);
		ctp_nat_runs_release(&ts.rs[w]);
	}
	return rc;
}

/* Thresholds per distinct range and port choice; few in practice. */
int ctp_nat_all_thresholds(model *m)
{
	tcfg *c = NULL;
	size_t nc = 0;
	int rc = 0;

	for (size_t i = 0; i < m->ng && !rc; i++) {
		ctp_nat_group *p = &m->g[i].pub;
		unsigned clo, chi;
		size_t j;

		p->util_p1 = p->util_p50 = NAN;
		if (p->range_lo > p->range_hi)
			continue;
		ctp_nat_client_ports(m, &m->g[i], &clo, &chi);
		for (j = 0; j < nc; j++)
			if (c[j].lo == p->range_lo && c[j].hi == p->range_hi &&
			    c[j].clo == clo && c[j].chi == chi &&
			    c[j].src == p->range_src &&
			    c[j].random == p->random)
				break;
		if (j == nc) {
			tcfg *n = realloc(c, (nc + 1) * sizeof(*c));

			if (!n) {
				rc = CTP_ENOMEM;
				break;
			}
			c = n;
			memset(&c[nc], 0, sizeof(c[nc]));
			c[nc].lo = p->range_lo;
			c[nc].hi = p->range_hi;
			c[nc].clo = clo;
			c[nc].chi = chi;
			c[nc].src = p->range_src;
			c[nc].random = p->random;
			rc = thresholds(m, &c[nc]);
			nc++;
		}
		p->util_p1 = c[j].p1;
		p->util_p50 = c[j].p50;
	}
	free(c);
	return rc;
}
