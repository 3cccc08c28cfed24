/*
 * Private to analyzer/: the keys' passes through the table
 * (hash_lanes.c).  A worker takes its share of the keys, up to LANES of
 * them in one pass over the snapshot and the pool; hash.c starts the
 * workers on threads.
 */
#ifndef CTPLAN_HASH_LANES_H
#define CTPLAN_HASH_LANES_H

#include "hash_impl.h"

/* Keys first, first + step, ... below count of runs[] (count is the
 * model's keys); each run's err is 0, or -1 on out of memory. */
typedef struct worker {
	const model *m;
	keyrun *runs;
	unsigned first, step, count;
} worker;

/* The pthread start routine: arg is a worker; returns NULL. */
void *ctp_hash_worker_main(void *arg);

#endif
