/*
 * Private to analyzer/: the figures of a table state (hash_stats.c), from
 * the keys' raw results to the ctp_hash_state of ctplan/hash.h.
 */
#ifndef CTPLAN_HASH_STATS_H
#define CTPLAN_HASH_STATS_H

#include "ctplan/hash.h"
#include "hash_impl.h"

/* The mean over m's keys of phase ph (0 now, 1 at max) of runs[], into
 * st->fig; per_table[t]: mean entries in table t.  0, or -1 on out of
 * memory. */
int ctp_hash_merge_phase(const model *m, keyrun *runs, int ph,
			 ctp_hash_state *st, double *per_table);
/* The balls-into-bins law for the same tables and entries, and the
 * chi-square of st->fig against it, into st->poisson.  0, or -1 on out
 * of memory. */
int ctp_hash_poisson_phase(const model *m, ctp_hash_state *st,
			   const double *per_table);

#endif
