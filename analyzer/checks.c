/*
 * Checks for "ctplan check": figures of the report held against limits
 * (the plan options), each with a pass or fail, in the top-level
 * "checks" array (docs/report.md).  Runs after every other model, so it
 * reads their sections rather than the snapshot.
 */
#include <math.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/hash.h"
#include "ctplan/history.h"
#include "ctplan/nat.h"
#include "ctplan/plan.h"


/*
 * Share of nodes in chains longer than max_chain from a histogram of
 * buckets by chain length (hash.at_max.histogram): a bucket holding l
 * nodes holds l of them.
 */
static double hist_long_share(const double *hist, size_t len,
			      unsigned max_chain)
{
	double nodes = 0, longn = 0;

	for (size_t l = 0; l < len; l++) {
		nodes += hist[l] * (double)l;
		if (l > max_chain)
			longn += hist[l] * (double)l;
	}
	return nodes > 0 ? longn / nodes : NAN;
}

static int add_check(ctp_report *rep, const char *name, double value,
		     double limit, int below, const char *source,
		     const char *what, int warn)
{
	ctp_check c = { name, value, limit, below, source, what, warn };

	return ctp_report_add_check(rep, &c);
}

/*
 * Does a chain longer than max_chain cost flows on kernel v, or only
 * lookup time?  Before the chain limit (<= 5.14) no flow is ever
 * refused for a long chain: the kernel's own default then was max = 4 x
 * buckets, 8 nodes per bucket at max, and a long chain is walked on
 * every lookup.  With the limit the kernel draws its own max chain
 * length per insert, MIN_CHAINLEN and up (8 on 5.15.0 - 5.15.102, 50
 * from "adopt safer max chain length"), and refuses the insert past it:
 * when MIN_CHAINLEN is at most max_chain, the chains this check calls
 * too long are ones the kernel refuses flows in.  1: a miss fails.
 */
static int long_chain_refuses(const ctp_kver *v, unsigned max_chain)
{
	ctp_chain_limit l;

	ctp_kernel_chain_limit(v, &l);
	return l.enabled && l.min <= max_chain;
}

int ctp_checks_report(const ctp_analysis *a, ctp_report *rep,
		      ctp_error *err)
{
	const ctp_plan_opts *o = &a->plan_opts;
	const ctp_hash_section *hash = a->hash;
	const ctp_host_num *hm = ctp_host_max(a->host),
			   *hb = ctp_host_buckets(a->host);
	double v = NAN;
	const char *src = "none";
	uint64_t peak = ctp_host_peak(a->host, NULL);
	ctp_kver kv;
	int refuses;
	const ctp_history_section *hist;

	if (ctp_report_checks_begin(rep))
		goto oom;

	/* the max in force against the planned peak (the largest of the
	 * evidence); nothing to judge without a max or any evidence */
	if (hm->known && hm->value && a->plan_ran && a->plan_in.peak_source) {
		v = 100.0 * ((double)hm->value - (double)peak) /
		    (double)hm->value;
		v = round(v * 1e6) / 1e6;
		src = "recommendation.peak_evidence";
	}
	if (add_check(rep, "headroom_pct_at_peak", v, 100 * o->margin, 0,
		      src,
		      "percent of nf_conntrack_max still free at the planned "
		      "peak (--margin)", 0))
		goto oom;

	/* the hash model filled to max, when it reached max; else balls
	 * into bins at the full table's load: a partial fill is never
	 * judged */
	v = NAN;
	src = "none";
	if (hash && hash->ran && hash->res.has_at_max &&
	    hash->res.at_max.fig.target_reached) {
		const ctp_hash_figures *f = &hash->res.at_max.fig;

		v = hist_long_share(f->hist, f->hist_len, o->max_chain);
		src = "hash.at_max.histogram";
	}
	if (!isfinite(v) && hm->known && hb->known && hb->value > 0) {
		v = ctp_plan_long_share(2 * (double)hm->value /
						(double)hb->value,
					o->max_chain);
		src = "poisson";
	}
	kv = ctp_host_kernel(a->host, NULL);
	refuses = long_chain_refuses(&kv, o->max_chain);
	if (add_check(rep, "long_chain_share_at_max", v, o->chain_share, 1,
		      src,
		      refuses ? "share of entries in hash chains longer than "
				"--max-chain when the table is full: this "
				"kernel refuses new flows in such chains"
			      : "share of entries in hash chains longer than "
				"--max-chain when the table is full: this "
				"kernel refuses no flow for them, they cost "
				"lookup time (a warning)",
		      !refuses))
		goto oom;

	/* over every group, listed or omitted (nat.groups stops at
	 * --max-groups, sorted by risk, not by utilization) */
	v = NAN;
	src = "none";
	if (ctp_host_has_listing(a->host) && a->nat) {
		v = a->nat->max_utilization;
		src = "nat.max_utilization";
	}
	if (add_check(rep, "nat_utilization", v, o->max_nat_util, 1, src,
		      "port range use of the busiest NAT group "
		      "(--max-nat-util)", 0))
		goto oom;

	/* the kernel log's "table full" messages: each stands for a packet
	 * the kernel dropped because the table was full (at least; the
	 * ratelimit suppresses the rest, counted in "callbacks
	 * suppressed").  A logged overflow fails the gate on what the log
	 * proves, whatever else the input lacks (a host that saved only
	 * its kernel log).  Only with a kernel log read: without one there
	 * is nothing to judge and no reason to hold the gate shut. */
	hist = ctp_report_get(rep, "history", CTP_SEC_HISTORY);
	if (hist &&
	    add_check(rep, "table_full_logged",
		      (double)(hist->printed[CTP_HIST_TABLE] +
			       hist->suppressed[CTP_HIST_TABLE]),
		      0, 1, "history.table_full",
		      "packets the kernel log says a full table dropped "
		      "(\"table full\" messages, suppressed ones included): "
		      "any means the table overflowed",
		      0))
		goto oom;
	return 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0, "out of memory");
}

size_t ctp_checks_failed(ctp_report *rep)
{
	return ctp_report_checks_failed(rep);
}
