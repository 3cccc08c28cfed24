/*
 * The figures of a table state (hash_stats.h): the keys' histograms and
 * tallies averaged into ctp_hash_figures, and beside them the same
 * figures if every node fell into a uniformly random bucket (Poisson),
 * with a chi-square test of the one against the other.  Apart from the
 * model because it is statistics on histograms: nothing here knows a
 * tuple, a hash or the kernel, except p_next's chain limit
 * (ctp_hash_p_next(), hash_chain.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/hash.h"
#include "hash_chain.h"
#include "hash_impl.h"
#include "hash_stats.h"

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
int ctp_hash_merge_phase(const model *m, keyrun *runs, int ph,
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

int ctp_hash_poisson_phase(const model *m, ctp_hash_state *st,
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
	ps->p_next = ctp_hash_p_next(&m->limit, ps->hist, len);
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
