/*
 * Representation of a snapshot.
 *
 * Flows are one growable array of fixed-size records (struct ctp_flow, 96
 * bytes); the rarer fields sit in a second array (extras) indexed from the
 * flow, and strings (helper, secctx, labels, unknown tokens) in one pool
 * of NUL-terminated strings addressed by offset, so a 4M-entry table is a
 * handful of allocations.  Offset 0 of the pool is the empty string.
 */
#ifndef CTPLAN_SNAPSHOT_IMPL_H
#define CTPLAN_SNAPSHOT_IMPL_H

#include "ctplan/snapshot.h"

typedef struct ctp_stat_set {
	uint64_t v[CTP_STAT_COUNT];
	uint32_t present; /* bit per ctp_stat */
	size_t rows;      /* CPU lines */
} ctp_stat_set;

typedef struct ctp_kv {
	char *key;
	char *val;
} ctp_kv;

struct ctp_snapshot {
	ctp_flow *flows;
	size_t nflows, capflows;
	ctp_flow_extra *extras;
	size_t nextras, capextras;
	char *pool;
	size_t poollen, poolcap;

	ctp_input_info *inputs;
	ctp_stat_set *stats; /* one per input */
	size_t ninputs, capinputs;
	unsigned char *overlap; /* ninputs x ninputs, after finalize */

	ctp_kv *sysctl; /* [0, sortedsysctl) sorted by key, then new keys */
	size_t nsysctl, capsysctl, sortedsysctl;
	ctp_kv *meminfo;
	size_t nmeminfo, capmeminfo, sortedmeminfo;

	ctp_kevent *kevents; /* kernel log events, in reading order */
	size_t nkevents, capkevents;

	uint64_t count;
	int has_count;
	ctp_kernel_info kernel;
	int has_kernel;
};

#endif
