/*
 * ctplan analyzer models.  Each reads the snapshot (finalized) and adds
 * its section to the report; none prints or exits.
 */
#ifndef CTPLAN_ANALYZE_H
#define CTPLAN_ANALYZE_H

#include <stdint.h>

#include "ctplan/error.h"
#include "ctplan/report.h"
#include "ctplan/snapshot.h"

/* What to analyze and how; models add their knobs here. */
typedef struct ctp_analyze_opts {
	uint64_t seed; /* every random draw comes from this seed */
} ctp_analyze_opts;

#define CTP_ANALYZE_OPTS_INIT { 1 }

/*
 * Run every model over a finalized snapshot, in report order, adding
 * their sections and findings to rep.
 */
int ctp_analyze_run(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		    ctp_report *rep, ctp_error *err);

/*
 * Inventory: "inputs", "entries", "table" and "stats" sections: what was
 * read from each input, entries by family, protocol, state and zone,
 * count, max, buckets and headroom, and the conntrack -S counters summed
 * over CPUs.
 */
int ctp_inventory_report(const ctp_snapshot *snap, ctp_report *rep,
			 ctp_error *err);

#endif
