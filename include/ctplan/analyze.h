/*
 * ctplan analyzer models.  Each reads the snapshot (finalized) and adds
 * its section to the report; none prints or exits.
 */
#ifndef CTPLAN_ANALYZE_H
#define CTPLAN_ANALYZE_H

#include <stdint.h>

#include "ctplan/error.h"
#include "ctplan/kernel.h"
#include "ctplan/report.h"
#include "ctplan/snapshot.h"

struct ctp_plan_opts;

/* What to analyze and how; models add their knobs here. */
typedef struct ctp_analyze_opts {
	uint64_t seed; /* every random draw comes from this seed */
	/* hash chain model ("hash" section, analyzer/hash_report.c) */
	int hash;              /* 0: skip the model (--no-hash) */
	unsigned hash_keys;    /* random keys sampled (--keys) */
	/* the kernel version whose hash and chain limit to model
	 * (--kernel); without it the input's uname, else the newest */
	int has_kernel;
	ctp_kver kernel;
	unsigned hash_threads; /* 0: the model's default (2) */
	/* history: kernel log messages further apart than this many
	 * seconds are separate bursts (--burst-gap) */
	unsigned burst_gap;
	/* nat: the rule's --to-ports for port protocols (--nat-range);
	 * has_nat_range 0: inferred from the table, else the default */
	int has_nat_range;
	unsigned nat_range_lo, nat_range_hi;
	/* planner and checks (include/ctplan/plan.h); NULL: defaults */
	const struct ctp_plan_opts *plan;
	/* nat: groups listed in the report, riskiest first (--max-groups);
	 * the rest are counted in nat.groups_omitted.  0: all */
	size_t nat_max_groups;
	/* --kernel as given ("5.15.0-125-generic"): the host identifies the
	 * build (ctp_kernel_identify) and models its upstream behaviour;
	 * NULL: kernel above, if has_kernel */
	const char *kernel_release;
	/* --to-kernel: judge the input on this kernel, the one about to be
	 * rolled out; settings that are the old kernel's defaults take the
	 * new kernel's (include/ctplan/host.h ctp_host_upgrade).  NULL:
	 * the input's own kernel */
	const char *to_kernel_release;
} ctp_analyze_opts;

#define CTP_NAT_MAX_GROUPS_DEFAULT 1000

#define CTP_ANALYZE_OPTS_INIT                                           \
	{ 1, 1, 8, 0, { 0, 0, -1 }, 0, 60, 0, 0, 0, NULL,                \
	  CTP_NAT_MAX_GROUPS_DEFAULT, NULL, NULL }

/*
 * Run every model over a finalized snapshot, in report order, adding
 * their sections and findings to rep.
 */
int ctp_analyze_run(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		    ctp_report *rep, ctp_error *err);

/*
 * One analysis run: the host context (include/ctplan/host.h) built once
 * from the snapshot and the options, and the typed results the models
 * pass each other.  The snapshot must outlive it.  opts NULL: defaults.
 */
typedef struct ctp_analysis ctp_analysis;
int ctp_analysis_new(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		     ctp_analysis **out, ctp_error *err);
void ctp_analysis_free(ctp_analysis *a);
const struct ctp_host *ctp_analysis_host(const ctp_analysis *a);

/*
 * The same models one at a time, in the same order (bench/bench_parts.c
 * times each): how many there are, the name of model i ("inventory",
 * "hash", ...; NULL past the end), and running model i alone (the
 * models before it must have run on a).
 */
size_t ctp_analyze_model_count(void);
const char *ctp_analyze_model_name(size_t i);
int ctp_analyze_model(size_t i, ctp_analysis *a, ctp_report *rep,
		      ctp_error *err);

/*
 * Inventory: "inputs", "entries", "table" and "stats" sections: what was
 * read from each input, entries by family, protocol, state and zone,
 * count, max, buckets and headroom, and the conntrack -S counters summed
 * over CPUs.
 */
int ctp_inventory_report(const ctp_analysis *a, ctp_report *rep,
			 ctp_error *err);

/*
 * Kernel findings (analyzer/kernel_report.c): the build identified and
 * what is modelled for it, settings that contradict its defaults, and
 * with --to-kernel what changes.  Returns 0 or CTP_ENOMEM.
 */
int ctp_kernel_report(const ctp_analysis *a, ctp_report *rep,
		      ctp_error *err);

/*
 * Hash chains: the "hash" section (docs/report.md) and its findings.
 * The table size comes from the input's sysctl; without it the section
 * says why it was skipped.  Returns 0 or CTP_ENOMEM.
 */
int ctp_hash_report(ctp_analysis *a, ctp_report *rep, ctp_error *err);

/*
 * History: the "history" section (docs/report.md) from the kernel logs
 * read (dmesg, journalctl -k, kern.log): table-full and expectation-full
 * messages in bursts, with the rate limit's suppressed counts, and the
 * findings that tie them to the table's headroom (so it runs after the
 * inventory).  No section without a kernel log.  Returns 0 or
 * CTP_ENOMEM.
 */
int ctp_history_report(const ctp_analysis *a, ctp_report *rep,
		       ctp_error *err);

/*
 * What the kernel logs say of the table's size, for the host context's
 * peak evidence: the "history" model's own reading (one copy of each
 * message, rate-limit suppressions counted back in), summed up.
 */
typedef struct ctp_history_sum {
	uint64_t table_full_bursts;
	uint64_t table_full_least; /* drops printed + suppressed */
	size_t netns_count;        /* distinct namespaces named (6.17+) */
	uint32_t netns;            /* the one inode when netns_count is 1 */
	int no_netns;              /* some message named no namespace */
} ctp_history_sum;

/* The summary of snap's kernel logs, bursts split at burst_gap seconds.
 * Returns 0 (all zero without a kernel log) or CTP_ENOMEM. */
int ctp_history_summary(const ctp_snapshot *snap, unsigned burst_gap,
			ctp_history_sum *out);

/*
 * NAT: the "nat" section (docs/report.md): source/destination NAT
 * counts, every port remap with the entry that held the port, and per
 * reply-tuple group the port range, its use and the probability that
 * the next new connection fails (include/ctplan/nat.h), with findings
 * for groups near exhaustion.  Returns 0 or CTP_ENOMEM.
 */
int ctp_nat_report(ctp_analysis *a, ctp_report *rep, ctp_error *err);

#endif
