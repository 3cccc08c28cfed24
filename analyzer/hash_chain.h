/*
 * Private to analyzer/: one key's table as the kernel fills it
 * (hash_chain.c).  An inserter is a key's bucket counters, its own
 * random stream, its tallies and its phase; insert_at() is the kernel's
 * insert, inline here because the passes of hash_lanes.c call it for
 * every entry under every key.  Everything else a key does (its phases,
 * the states it records, the uniform fill) is in hash_chain.c.
 */
#ifndef CTPLAN_HASH_CHAIN_H
#define CTPLAN_HASH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/kernel.h"
#include "ctplan/rng.h"
#include "hash_impl.h"
#include "hash_tuple.h"

/* A key's phase after the snapshot: replacing refused entries, filling
 * to the target, done (hash_chain.c, ctp_hash_advance()). */
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

/* Key kr->key of m: its key material and namespace mixes, drawn from
 * stream 1 + key, and zeroed counters.  0, or -1 on out of memory (then
 * release it all the same). */
int ctp_hash_inserter_init(const model *m, keyrun *kr, inserter *in);
void ctp_hash_inserter_release(inserter *in);

/* The snapshot is in: end the replacements here, record "now". */
int ctp_hash_end_replace(inserter *in);
/* Move on to the next phase when this one is over; ended: the pool has
 * no entry left for this key.  0, or -1 on out of memory. */
int ctp_hash_advance(inserter *in, int ended);
/* The rest of the fill to the target as balls into bins. */
void ctp_hash_uniform_fill(inserter *in);

/* Probability the next insert is refused, from the bucket histogram
 * hist[0 .. len) of a table under limit l. */
double ctp_hash_p_next(const ctp_chain_limit *l, const double *hist,
		       size_t len);

#endif
