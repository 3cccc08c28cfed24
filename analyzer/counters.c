/*
 * The conntrack -S counters read by their meaning (include/ctplan/host.h):
 * one finding per cause with its own action.  Runs after the NAT model,
 * whose port ranges tell a lost insert clash from a squeezed NAT range
 * apart from a race.
 */
#include <math.h>
#include <stdio.h>

#include "analysis_impl.h"
#include "ctplan/nat.h"

/*
 * The conntrack -S counters that bear on sizing, each read by the code
 * path that raises it on the host's kernel (include/ctplan/host.h): a
 * full table wants a larger max (or shorter timeouts), a lost insert
 * clash wants more NAT ports or addresses, a refused long chain wants
 * more buckets.  One finding per cause, with its own action.
 */
int ctp_counter_findings(const ctp_analysis *a, ctp_report *rep)
{
	const ctp_host_counters *c = ctp_host_counters_get(a->host);
	char abuf[80], bbuf[80];
	const char *max_act = ctp_max_action(a, abuf, sizeof(abuf));
	const char *bucket_act = ctp_bucket_action(a, bbuf, sizeof(bbuf));

	if (!c->read)
		return 0;
	if (c->full_drops &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.full_drop",
		    (double)c->full_drops, NAN,
		    max_act ? max_act
			    : "shorten the timeouts of idle entries, or "
			      "raise nf_conntrack_max",
		    "the kernel dropped %s%llu packets since the counters started (boot, or the namespace's creation) because the "
		    "table was full and no unassured entry could be evicted "
		    "(drop %llu%s%s; counters read as on kernels %s)",
		    !c->has_insert_failed ? "at most "
		    : c->split_known	  ? ""
					  : "at least ",
		    (unsigned long long)c->full_drops,
		    (unsigned long long)c->drop,
		    c->drop != c->full_drops ? " less the insert clashes lost"
					     : "",
		    c->has_insert_failed ? ""
					 : "; no insert_failed to tell "
					   "clashes apart",
		    c->rule))
		return CTP_ENOMEM;
	if (c->early_drop &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.early_drop",
		    (double)c->early_drop, NAN,
		    max_act ? max_act
			    : "shorten the timeouts of idle entries, or "
			      "raise nf_conntrack_max",
		    "the kernel evicted %llu unassured entries since the counters started (boot, or the namespace's creation) to "
		    "admit new flows: early_drop runs only when the table is "
		    "full",
		    (unsigned long long)c->early_drop))
		return CTP_ENOMEM;
	if (c->clash_drops) {
		/* a NAT range near exhaustion explains lost clashes; without
		 * one they are races between flows that want the same tuple */
		int squeezed = a->nat && a->nat->max_p_fail_next >= 0.01;

		if (ctp_report_finding_act(
			    rep, CTP_FINDING_WARN, "stats.clash_drop",
			    (double)c->clash_drops, NAN,
			    squeezed
				    ? "give the NAT rule more source ports or "
				      "addresses (a wider --to-ports range, more "
				      "SNAT addresses), or make clients reuse "
				      "connections"
				    : "add --random-fully to the SNAT/MASQUERADE "
				      "rule, so that flows racing for a source "
				      "port draw different ones; compare "
				      "insert_failed in two snapshots to see "
				      "whether it still grows",
			    "%s%llu packets were dropped since the counters started (boot, or the namespace's creation) because "
			    "their new entry clashed with one already in the "
			    "table (insert_failed %llu%s): %s; a larger table "
			    "does not help",
			    c->split_known ? "" : "at most ",
			    (unsigned long long)c->clash_drops,
			    (unsigned long long)c->insert_failed,
			    c->chain_drops ? " less chaintoolong" : "",
			    squeezed ? "a NAT destination is near port "
				       "exhaustion (see NAT)"
				     : "the NAT ranges are far from full, so "
				       "these are flows racing for one tuple "
				       "(source NAT picking a port on two "
				       "CPUs at once, parallel UDP queries "
				       "from one socket)"))
			return CTP_ENOMEM;
	}
	/* the recommendation's buckets when it raises them; when it keeps
	 * them, they hold a random spread under the limit, so the refusals
	 * came from clumped tuples or an earlier, smaller table */
	if (c->chain_drops &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.chaintoolong",
		    (double)c->chain_drops, NAN,
		    bucket_act	   ? bucket_act
		    : a->has_plan ? NULL
				  : "raise nf_conntrack_buckets",
		    "the kernel refused %llu new flows since the counters "
		    "started (boot, or the namespace's creation) because a "
		    "hash chain was too long (chaintoolong, also counted in "
		    "insert_failed)%s",
		    (unsigned long long)c->chain_drops,
		    bucket_act || !a->has_plan
			    ? ": more buckets shorten the chains"
			    : "; the buckets in force hold a random spread "
			      "under the limit, so these came from clumped "
			      "tuples (see the hash chains) or an earlier, "
			      "smaller table"))
		return CTP_ENOMEM;
	return 0;
}

