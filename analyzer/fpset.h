/*
 * Private to analyzer/: an exact set of 64-bit values (fpset.c), the
 * resampling's record of every tuple in the table (hash_pool.c keeps
 * fingerprint()s of hrecs in it; the set itself knows nothing of tuples).
 * The lookups are inline: the pool makes one or two per candidate entry.
 *
 * The set of 64-bit tuple fingerprints, exact: ordered linear probing
 * (Amble and Knuth, 1974).  A value's home slot grows with the value
 * (its top 32 bits scaled to the table), and every cluster is kept
 * sorted, so the whole table is sorted: a lookup stops at the first
 * slot holding a larger value, an insert shifts the rest of its
 * cluster by one.  That keeps lookups short at a load of 0.8, where
 * a table sized by powers of two and kept at most half full took two
 * to five times the room (64 MiB at 1M entries).  0 marks an empty
 * slot; the slack at the end takes the last clusters, and its last
 * slot stays empty to end every scan.
 */
#ifndef CTPLAN_FPSET_H
#define CTPLAN_FPSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct fpset {
	uint64_t *slot; /* n + FP_SLACK */
	size_t n, used;
} fpset;

#define FP_SLACK 4096
#define FP_LOAD 0.8     /* sized for this load */
#define FP_LOAD_MAX 0.9 /* grown beyond this */

static inline size_t fp_home(const fpset *s, uint64_t v)
{
	return (size_t)(((v >> 32) * (uint64_t)s->n) >> 32);
}

/* The slot a lookup of v starts at: prefetch it ahead of ctp_fpset_add()
 * or fpset_has(). */
static inline size_t fpset_slot(const fpset *s, uint64_t v)
{
	return fp_home(s, v | 1);
}

static inline int fpset_has(const fpset *s, uint64_t v)
{
	const uint64_t *p;

	v |= 1;
	if (!s->slot)
		return 0;
	for (p = &s->slot[fp_home(s, v)]; *p && *p < v; p++)
		;
	return *p == v;
}

/* An empty set is all zero: { NULL, 0, 0 }.  The table is a large array
 * (bigmem.h). */
void ctp_fpset_release(fpset *s);
/* Make the table n home slots (at least used / FP_LOAD_MAX), keeping its
 * values.  0, or -1 on out of memory. */
int ctp_fpset_resize(fpset *s, size_t n);
/* 1 if added, 0 if present, -1 on out of memory */
int ctp_fpset_add(fpset *s, uint64_t v);
/* Room for add more values within FP_LOAD_MAX: 0, or -1 on out of
 * memory. */
int ctp_fpset_room(fpset *s, size_t add);

#endif
