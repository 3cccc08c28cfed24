/*
 * The kernel's insert process under one key (hash_chain.h): what the
 * conntrack table looks like once the kernel has taken the snapshot's
 * entries, and once it has filled to a target.  This is the part of the
 * chain model that is the kernel's logic, kept apart from the machinery
 * that feeds it fast (hash_lanes.c: several keys in one pass, vector
 * hashes, prefetching; hash_pool.c: the resampled entries), so that it
 * reads on its own:
 *
 * - a key: the kernel's random hash seed and each namespace's hash mix,
 *   drawn from the key's own stream;
 * - insert_at() (hash_chain.h): __nf_conntrack_confirm(), max_chainlen
 *   drawn per attempt, the entry refused or both its nodes added;
 * - the phases: once the snapshot's entries are in (in dump order), each
 *   refused one is replaced by a fresh entry, as the flow the kernel
 *   refused was replaced by one that got in: the state "now"; then fresh
 *   entries up to the target: the state "at max";
 * - the fill as balls into bins once the observed tuples give no new
 *   entry;
 * - p_next, the chance that the next insert is refused, from a
 *   histogram.
 *
 * Sources: see analyzer/kernel.c and docs/hash-model.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "ctplan/rng.h"
#include "hash_chain.h"
#include "hash_impl.h"

/* Key material, namespace mixes and counters of key kr->key. */
int ctp_hash_inserter_init(const model *m, keyrun *kr, inserter *in)
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
	in->cnt = ctp_big_zalloc(n * sizeof(*in->cnt));
	in->per_table = calloc(m->tables, sizeof(*in->per_table));
	if (!in->mix || !in->cnt || !in->per_table)
		return -1;
	/* every namespace, the host's own too, has a random hash_mix */
	for (unsigned i = 0; i < m->nns; i++)
		in->mix[i] = (uint32_t)(ctp_rng_next(&in->rng) >> 32);
	return 0;
}

void ctp_hash_inserter_release(inserter *in)
{
	free(in->mix);
	ctp_big_free(in->cnt, (size_t)in->m->buckets * in->m->tables *
			     sizeof(*in->cnt));
	free(in->per_table);
}

/* The table as it stands, into st: its histogram, tallies and p_next. */
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
	st->p_next = ctp_hash_p_next(&m->limit, dh, st->hist_len);
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
int ctp_hash_end_replace(inserter *in)
{
	if (snapshot_state(in, &in->kr->st[0]))
		return -1;
	in->kr->st[0].reached = in->need == 0;
	in->phase = in->m->target ? PH_FILL : PH_DONE;
	return 0;
}

int ctp_hash_advance(inserter *in, int ended)
{
	const model *m = in->m;

	if (in->phase == PH_REPLACE && (!in->need || ended) &&
	    ctp_hash_end_replace(in))
		return -1;
	if (in->phase == PH_FILL && (in->accepted >= m->target || ended)) {
		if (snapshot_state(in, &in->kr->st[1]))
			return -1;
		in->kr->st[1].reached = in->accepted >= m->target;
		in->phase = PH_DONE;
	}
	return 0;
}

/*
 * The fill to max once the observed tuples can give no new entry (few
 * flows, every port taken): the rest of the entries go into uniformly
 * random buckets, balls into bins, through the same insert and chain
 * limit.  The hash model checks the real hash against exactly that law,
 * so the table at max stays a full one instead of a partial fill.  A
 * table the chain limit keeps refusing stops after 4 x target tries.
 */
void ctp_hash_uniform_fill(inserter *in)
{
	const model *m = in->m;
	uint64_t tries = 0, cap = 4 * m->target + 1024;

	while (in->accepted < m->target && tries++ < cap) {
		uint16_t t = 0;
		size_t base, bo, br;

		/* one table per namespace (kernels <= 4.6): the namespaces
		 * keep the mix they have so far, as the resampled fill
		 * does (a namespace drawn in proportion to its entries) */
		if (m->tables > 1 && in->accepted) {
			uint64_t r = ctp_rng_next(&in->rng) % in->accepted;

			while (t + 1u < m->tables && r >= in->per_table[t])
				r -= in->per_table[t++];
		}
		base = (size_t)t * m->buckets;
		bo = base + ctp_rng_below(&in->rng, m->buckets);
		br = base + ctp_rng_below(&in->rng, m->buckets);
		in->uniform += insert_at(in, bo, br, t);
	}
}

/* Probability the next insert is refused, from the bucket histogram. */
double ctp_hash_p_next(const ctp_chain_limit *l, const double *hist,
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
