/*
 * Hash model: tuples hashed the way the kernel hashes them, placed into
 * the table under sampled keys, with the kernel's insert process.  This
 * file runs it (ctp_hash_model_run()): it reads the snapshot once for
 * what the parts need, starts the keys' workers and collects the
 * figures.  The parts, each behind its private header:
 *
 *   hash_tuple.c   the tuple bytes and hash_conntrack_raw() of each era,
 *                  the public functions of ctplan/hash.h (`ctplan
 *                  buckets`); inline forms in hash_tuple.h
 *   hash_chain.c   the kernel's insert process under one key: the chain
 *                  limit, the phases now and at max, the uniform fill,
 *                  p_next
 *   hash_lanes.c   the keys' passes: up to eight keys at once, buckets
 *                  worked out ahead in rings, counters prefetched
 *   hash_simd.c    SipHash in AVX-512 / AVX2 lanes (keys, fingerprints)
 *   hash_pool.c    the resampled entries beyond the snapshot, shared by
 *                  all keys, with the set seeded on a thread of its own
 *   fpset.c        the exact set of tuple fingerprints
 *   hash_stats.c   the figures, Poisson and chi-square
 *   bigmem.c       the large zeroed arrays; rng.c the generator
 *   hash_impl.h    what they share: tuples as hashed, the run, results
 *
 * Representation: nothing is kept per entry.  A tuple is made from its
 * flow, decoded from the snapshot's compact record, when it is needed
 * (struct hrec: the 40 bytes of the kernel's nf_conntrack_tuple, the
 * zone id of its direction and its namespace index); a copy of every
 * tuple cost 96 bytes an entry.  Per key there is only its array of
 * bucket counters.  Entries beyond the snapshot (to replace refused
 * inserts, and to fill the table to a target) are 8-byte references to
 * a base flow with fresh ports (hash_pool.c).
 *
 * Sources for the per-era functions: see analyzer/kernel.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/hash.h"
#include "hash_impl.h"
#include "hash_lanes.h"
#include "hash_pool.h"
#include "hash_stats.h"
#include "par.h"

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

/* Namespace index of every input: equal labels share one index,
 * numbered in the order of first appearance.  By a sort, not a pairwise
 * comparison: thousands of namespace labels (an sosreport's per-namespace
 * dumps) made that quadratic. */
typedef struct ns_ref {
	const char *ns;
	size_t i;
} ns_ref;

static int ns_ref_cmp(const void *pa, const void *pb)
{
	const ns_ref *a = pa, *b = pb;
	int c = strcmp(a->ns, b->ns);

	if (c)
		return c;
	return (a->i > b->i) - (a->i < b->i);
}

static int ns_indexes(const ctp_snapshot *snap, uint16_t **out,
		      unsigned *count)
{
	size_t n = ctp_snapshot_input_count(snap);
	uint16_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	ns_ref *refs = malloc((n ? n : 1) * sizeof(*refs));
	size_t *rep = malloc((n ? n : 1) * sizeof(*rep));
	unsigned distinct = 0;

	if (!idx || !refs || !rep) {
		free(idx);
		free(refs);
		free(rep);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *ns = ctp_snapshot_input(snap, i)->ns;
		refs[i].ns = ns ? ns : "";
		refs[i].i = i;
	}
	qsort(refs, n, sizeof(*refs), ns_ref_cmp);
	/* each input's representative: the first input of its label */
	for (size_t k = 0; k < n; k++)
		rep[refs[k].i] = k && !strcmp(refs[k].ns, refs[k - 1].ns)
					 ? rep[refs[k - 1].i]
					 : refs[k].i;
	for (size_t i = 0; i < n; i++)
		idx[i] = rep[i] == i ? (uint16_t)distinct++ : idx[rep[i]];
	free(refs);
	free(rep);
	*out = idx;
	*count = distinct ? distinct : 1;
	return 0;
}

/*
 * A state estimated, not replayed: every node in a uniformly random
 * bucket of its table (balls into bins), per_table[t] entries in table t.
 * The Poisson figures are the figures; no chain-limit refusals are
 * modelled (the limit only bites on chains far longer than these loads
 * give), and there is no sample to test against them (chi-square 0).
 */
static int analytic_state(const model *m, const double *per_table,
			  ctp_hash_state *st)
{
	ctp_hash_figures *f = &st->fig;
	ctp_hash_poisson *ps = &st->poisson;
	double entries = 0;

	memset(st, 0, sizeof(*st));
	for (unsigned t = 0; t < m->tables; t++)
		entries += per_table[t];
	if (ctp_hash_poisson_phase(m, st, per_table))
		return -1;
	f->hist = malloc((ps->hist_len ? ps->hist_len : 1) * sizeof(*f->hist));
	if (!f->hist)
		return -1;
	memcpy(f->hist, ps->hist, ps->hist_len * sizeof(*f->hist));
	f->hist_len = ps->hist_len;
	f->entries = entries;
	f->nodes = 2 * entries;
	f->load = f->nodes / ((double)m->buckets * m->tables);
	f->mean_occupied = ps->mean_occupied;
	f->p99 = ps->p99;
	f->p999 = ps->p999;
	f->longest_min = f->longest_max = ps->longest_median;
	f->longest_median = ps->longest_median;
	f->share_over8 = ps->share_over8;
	f->p_next = ps->p_next;
	f->attempts = entries;
	f->refused = 0;
	f->target_reached = 1;
	f->uniform = entries;
	ps->chi2 = 0;
	ps->chi2_df = 0;
	ps->chi2_p = 1;
	ps->mismatch = 0;
	return 0;
}

/* What the pass over the snapshot finds of each flow */
enum { K_SKIP, K_INEXACT, K_BASE, K_OTHER };

typedef struct kinds_job {
	const tsrc *src;
	size_t nflows;
	uint8_t *kind; /* per flow */
	uint8_t *desc; /* per flow, for K_BASE */
} kinds_job;

/* The kinds of part w of the flows (one iteration of ctp_par_for()):
 * not placed, an ICMP entry without its id, a base of resampled
 * entries (with its description), or neither. */
static void flow_kinds(void *ud, size_t w, unsigned wk)
{
	const kinds_job *kj = ud;
	size_t from = kj->nflows * w / CTP_PAR_WORKERS,
	       to = kj->nflows * (w + 1) / CTP_PAR_WORKERS;

	(void)wk;
	for (size_t i = from; i < to; i++) {
		ctp_flow fl;
		const ctp_flow *f = &fl;

		if (!placed(kj->src, i)) {
			kj->kind[i] = K_SKIP;
			continue;
		}
		ctp_snapshot_flow_get(kj->src->snap, i, &fl);
		if (ctp_proto_is_icmp(f->proto) && (f->flags & CTP_F_NO_ICMP)) {
			kj->kind[i] = K_INEXACT;
		} else if (proto_has_u(f->proto)) {
			hrec o, r;

			entry_recs(kj->src, f, &o, &r);
			kj->desc[i] = base_desc(&o, &r);
			kj->kind[i] = K_BASE;
		} else {
			kj->kind[i] = K_OTHER;
		}
	}
}

/* keys whose counters are held at once: LANES per thread (hash_lanes.c) */
static uint64_t keys_at_once(unsigned keys, unsigned threads)
{
	uint64_t c = (uint64_t)threads * 8;

	return keys < c ? keys : c;
}

int ctp_hash_model_run(const ctp_snapshot *snap, const ctp_hash_opts *opts,
		       ctp_hash_result *out, ctp_error *err)
{
	size_t nflows = ctp_snapshot_flow_count(snap);
	const ctp_hash_era_info *info = ctp_kernel_hash_era_info(opts->era);
	uint16_t *nsidx = NULL;
	uint32_t *bases = NULL;
	uint8_t *desc = NULL, *kind = NULL;
	keyrun *runs = NULL;
	double *per_table = NULL;
	unsigned nthreads, nns;
	size_t ne = 0, nb = 0, nscan = 0, expect;
	uint64_t cap;
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
	kind = malloc(nflows ? nflows : 1);
	if (!bases || !desc || !kind)
		goto oom;
	/* what each flow is, on two threads (par.h), then counted in
	 * flow order here */
	{
		kinds_job kj = { &src, nflows, kind, desc };

		ctp_par_for(CTP_PAR_WORKERS, flow_kinds, &kj);
	}
	for (size_t i = 0; i < nflows; i++) {
		if (kind[i] == K_SKIP) {
			out->skipped++;
			continue;
		}
		if (ne >= UINT32_MAX)
			break;
		nscan = i + 1;
		if (kind[i] == K_INEXACT) {
			out->inexact++;
		} else if (kind[i] == K_BASE) {
			desc[nb] = desc[i]; /* nb <= i: in place */
			bases[nb++] = (uint32_t)i;
		}
		ne++;
	}
	free(kind);
	kind = NULL;
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
	nthreads = opts->threads ? opts->threads : 2;
	out->keys_asked = opts->keys;

	/*
	 * The budget (CTP_HASH_MEM_BUDGET, CTP_HASH_WORK_BUDGET): a key
	 * scans its counters (tables x buckets) once a phase and inserts
	 * two nodes an entry; the keys held at once keep 4 bytes a bucket;
	 * the fill keeps a pool reference and fingerprints, about 48 bytes
	 * an entry.  Fewer keys first, then an estimate for what still
	 * does not fit.
	 */
	{
		uint64_t cells = (uint64_t)m.buckets * m.tables;
		uint64_t fill = m.target > ne ? m.target - ne : 0;
		uint64_t per_key = cells + 2 * (uint64_t)ne +
				   (m.target ? cells + 2 * fill : 0);
		uint64_t counters, fillmem = fill * 48;

		if ((uint64_t)m.keys * per_key > CTP_HASH_WORK_BUDGET) {
			uint64_t k = CTP_HASH_WORK_BUDGET / per_key;
			if (k < CTP_HASH_KEYS_FLOOR)
				k = CTP_HASH_KEYS_FLOOR;
			if (k < m.keys)
				m.keys = (unsigned)k;
		}
		counters = keys_at_once(m.keys, nthreads) * cells * 4;
		if (counters > CTP_HASH_MEM_BUDGET) {
			/* not even the table as it stands fits */
			out->now_estimated = 1;
			out->at_max_estimated = m.target != 0;
			out->need_bytes = counters + fillmem;
		} else if (m.target && counters + fillmem >
						CTP_HASH_MEM_BUDGET) {
			out->at_max_estimated = 1;
			out->need_bytes = counters + fillmem;
		}
		/* the work budget counted the fill; an estimated fill leaves
		 * the keys their replay of the table as it stands */
		if (out->now_estimated) {
			m.keys = 0;
		} else if (out->at_max_estimated) {
			uint64_t k = CTP_HASH_WORK_BUDGET /
				     (cells + 2 * (uint64_t)ne);
			if (k < CTP_HASH_KEYS_FLOOR)
				k = CTP_HASH_KEYS_FLOOR;
			m.keys = opts->keys < k ? opts->keys : (unsigned)k;
		}
	}
	if (out->now_estimated || out->at_max_estimated) {
		uint64_t target = m.target;
		double *pt_now = calloc(m.tables, sizeof(*pt_now));
		double *pt_max = calloc(m.tables, sizeof(*pt_max));
		int bad = !pt_now || !pt_max;

		/* entries of each table: the namespaces' own tables in the
		 * per-namespace eras, else one */
		for (size_t i = 0; !bad && i < nscan; i++) {
			if (!placed(&src, i))
				continue;
			pt_now[m.tables > 1 ? nsidx[ctp_snapshot_flow_input(
						     snap, i)]
					    : 0] += 1;
		}
		/* at max: each table grown in the same proportion, an empty
		 * snapshot spread evenly */
		for (unsigned t = 0; !bad && t < m.tables; t++)
			pt_max[t] = ne ? pt_now[t] * (double)target / ne
				       : (double)target / m.tables;
		m.target = 0; /* the replay below, if any, skips the fill */
		if (!bad && out->now_estimated &&
		    analytic_state(&m, pt_now, &out->now))
			bad = 1;
		if (!bad && out->at_max_estimated && target &&
		    analytic_state(&m, pt_max, &out->at_max))
			bad = 1;
		if (!bad && out->at_max_estimated && target) {
			out->has_at_max = 1;
			out->at_max_target = opts->at_max;
		}
		free(pt_now);
		free(pt_max);
		if (bad)
			goto oom;
		if (out->now_estimated) {
			out->era = m.era;
			out->buckets = m.buckets;
			out->tables = m.tables;
			out->keys = 0;
			out->seed = m.seed;
			out->namespaces = nns;
			out->entries = ne;
			out->resample_bases = nb;
			rc = 0;
			goto oom;
		}
	}

	/* the pool: the fill to the target, plus refused inserts to
	 * replace, at most twice the larger table over */
	cap = (m.target > ne ? m.target - ne : 0);
	/* the set: both tuples of the snapshot and of the fill, and of a
	 * chunk of replacements; it grows if more are made */
	expect = 2 * (ne + cap) + 2 * POOL_CHUNK;
	if (m.limit.enabled)
		cap += 2 * (m.target > ne ? m.target : ne) + 4096;
	if (ctp_hash_pool_init(&pl, &src, nscan, bases, desc, nb, cap, expect,
			       opts->seed))
		goto oom;

	runs = calloc(m.keys, sizeof(*runs));
	per_table = calloc(m.tables, sizeof(*per_table));
	if (!runs || !per_table)
		goto oom;
	for (unsigned k = 0; k < m.keys; k++) {
		runs[k].m = &m;
		runs[k].key = k;
	}
	/*
	 * A fill to the target needs the set for sure: seed it beside the
	 * keys' pass over the snapshot, which it does not depend on (the
	 * set is the same whenever it is made).
	 */
	if (m.target > ne && nb && ctp_hash_pool_seed_early(&pl))
		goto oom;
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
			if (pthread_create(&tid[t], NULL, ctp_hash_worker_main,
					   &w[t]))
				break;
			started = t;
		}
		/* keys of workers that could not start run here */
		for (unsigned t = started + 1; t < nthreads; t++)
			ctp_hash_worker_main(&w[t]);
		ctp_hash_worker_main(&w[0]);
		for (unsigned t = 1; t <= started; t++)
			pthread_join(tid[t], NULL);
	}
	for (unsigned k = 0; k < m.keys; k++)
		if (runs[k].err)
			goto oom;
	if (pl.oom)
		goto oom;

	out->era = m.era;
	out->buckets = m.buckets;
	out->tables = m.tables;
	out->keys = m.keys;
	out->seed = m.seed;
	out->namespaces = nns;
	out->entries = ne;
	out->resample_bases = nb;
	out->resampled = pl.len;
	if (ctp_hash_merge_phase(&m, runs, 0, &out->now, per_table) ||
	    ctp_hash_poisson_phase(&m, &out->now, per_table))
		goto oom;
	if (m.target) {
		/* replayed (an estimated state was filled above) */
		out->has_at_max = 1;
		out->at_max_target = opts->at_max;
		if (ctp_hash_merge_phase(&m, runs, 1, &out->at_max,
					 per_table) ||
		    ctp_hash_poisson_phase(&m, &out->at_max, per_table))
			goto oom;
	}
	rc = 0;
oom:
	/* first: the seeding thread reads the snapshot's tuples */
	ctp_hash_pool_release(&pl);
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
	free(desc);
	free(kind);
	free(runs);
	free(per_table);
	free(bases);
	free(nsidx);
	return rc;
}
