/*
 * ctplan analyzer models.  Each reads the snapshot (finalized) and adds
 * its section to the report; none prints or exits.
 */
#ifndef CTPLAN_ANALYZE_H
#define CTPLAN_ANALYZE_H

#include "ctplan/error.h"
#include "ctplan/report.h"
#include "ctplan/snapshot.h"

/*
 * Inventory: "inputs", "entries", "table" and "stats" sections: what was
 * read from each input, entries by family, protocol, state and zone,
 * count, max, buckets and headroom, and the conntrack -S counters summed
 * over CPUs.
 */
int ctp_inventory_report(const ctp_snapshot *snap, ctp_report *rep,
			 ctp_error *err);

#endif
