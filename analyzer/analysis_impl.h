/*
 * Private to analyzer/: one analysis run's shared state.  The host
 * context, the options, and the typed results that later models read
 * (today the planner's, so that every finding names the same settings
 * as the recommendation).
 */
#ifndef CTPLAN_ANALYSIS_IMPL_H
#define CTPLAN_ANALYSIS_IMPL_H

#include "ctplan/analyze.h"
#include "ctplan/host.h"
#include "ctplan/plan.h"

struct ctp_analysis {
	const ctp_snapshot *snap;
	ctp_host *host;
	ctp_analyze_opts opts;
	ctp_plan_opts plan_opts;
	/* the planner's figures (ctp_plan_prepare), once it ran */
	int plan_ran;
	int has_plan;           /* 0: skipped, plan_skipped says why */
	char plan_skipped[300];
	ctp_plan_input plan_in;
	ctp_plan_result plan;
	struct ctp_plan_mix *mix; /* the planner's pass over the entries */
	/* the table as dumped, filled to max with the namespace's mix:
	 * the share of new flows a full table drops (NAN unknown) */
	double table_full_drop_p;
	/* the hash model's section, once it ran (owned by the report) */
	const struct ctp_hash_section *hash;
	/* the NAT model's section, once it ran (owned by the report) */
	const struct ctp_nat_section *nat;
};

/* The planner's recommendation, computed before the models whose
 * findings name a setting (analyzer/planner.c).  0 or CTP_ENOMEM. */
int ctp_plan_prepare(ctp_analysis *a, ctp_error *err);
/* The action that raises nf_conntrack_max (analyzer/actions.c): the
 * recommendation's figure
 * when it raises it ("set nf_conntrack_max = N"), NULL when it keeps the
 * max, a plain "raise nf_conntrack_max" without a recommendation. */
const char *ctp_max_action(const ctp_analysis *a, char *buf, size_t size);
/* "set nf_conntrack_buckets = N" when the recommendation raises the
 * buckets, else NULL (analyzer/actions.c, as ctp_max_action). */
const char *ctp_bucket_action(const ctp_analysis *a, char *buf, size_t size);
/* The counters' findings (analyzer/counters.c), after the NAT model.
 * 0 or CTP_ENOMEM. */
int ctp_counter_findings(const ctp_analysis *a, ctp_report *rep);
void ctp_plan_release(ctp_analysis *a);

#endif
