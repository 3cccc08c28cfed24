/*
 * The inventory model's typed result (analyzer/inventory.c): what was
 * read from each input, the entries by family, protocol, state and
 * zone, the table's count, settings and headroom, and the conntrack -S
 * counters summed over CPUs.  Report sections "inputs", "entries",
 * "table" and "stats" (docs/report.md); render/json_inventory.c writes
 * them.
 */
#ifndef CTPLAN_INVENTORY_H
#define CTPLAN_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/host.h"
#include "ctplan/snapshot.h"

/* A count under a name, in the order the names were first seen. */
typedef struct ctp_tally {
	char key[48];
	uint64_t n;
} ctp_tally;

typedef struct ctp_tallies {
	ctp_tally *v;
	size_t n, cap;
} ctp_tallies;

/* Add n under key (a new key goes last); 0 or CTP_ENOMEM. */
int ctp_tallies_add(ctp_tallies *t, const char *key, uint64_t n);
/* The count under key, 0 when absent. */
uint64_t ctp_tallies_get(const ctp_tallies *t, const char *key);

/* The counters the report names, in its order (docs/report.md). */
#define CTP_INV_STATS 18
extern const ctp_stat ctp_inventory_stats[CTP_INV_STATS];

typedef struct ctp_inventory {
	/* "inputs": the snapshot's input table, read as it is */
	const ctp_snapshot *snap;
	/* "entries" */
	uint64_t total, assured, unreplied, offloaded, duplicates, events;
	ctp_tallies family, protocol, state, zone;
	/* "table" */
	ctp_host_num count, max, buckets;
	/* --to-kernel: max or buckets is the new kernel's default for this
	 * host (a projection, not a value read) */
	int max_projected, buckets_projected;
	int has_headroom;
	int64_t headroom;
	double headroom_pct;  /* rounded to 2 decimals */
	int has_full_drop_p;  /* the planner ran: full_drop_p (NAN null) */
	double full_drop_p;
	/*
	 * "table.namespaces": with more than one namespace in the input
	 * (sos's per-namespace dumps) or a kernel log that names one.
	 * nf_conntrack_max is one global value checked against each
	 * namespace's own count; the hash table is one for all of them
	 * from 4.7 on (shared_table), one per namespace before.
	 */
	struct ctp_inv_ns {
		const char *ns;     /* label; "" the host's own; NULL: a
				     * namespace the kernel log names */
		uint32_t inode;     /* with ns NULL */
		uint64_t entries;   /* listed (ns) or table-full messages */
		int count_known;    /* the host's own count (conntrack -C,
				     * sysctl) */
		uint64_t count;
		double pct_of_max;  /* NAN: max unknown */
	} *ns;
	size_t nns;
	/* 1: the unlabelled namespace ("") is the host's own (root): the
	 * input also holds dumps labelled with other namespaces, as a
	 * bundle that ran each command in every namespace (sos); else it
	 * is only the one the capture ran in, which may be any */
	int own_is_root;
	/* the namespaces the input proves, at least and at most: a
	 * namespace the kernel log names may be one of those listed (their
	 * inodes are not in the input) */
	size_t ns_min, ns_max;
	int shared_table;
	uint64_t entries_all;   /* listed, all namespaces */
	double load_all;        /* 2 x entries_all / buckets; NAN unknown */
	/* "stats" */
	int stat_have[CTP_INV_STATS];
	uint64_t stat[CTP_INV_STATS];
	size_t cpus;
	const char *stats_source; /* input path, NULL none */
} ctp_inventory;

void ctp_inventory_free(void *inv);

#endif
