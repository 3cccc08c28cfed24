/*
 * Hash chain model as a report section: which kernel hash and table size
 * apply, the chain figures now and at nf_conntrack_max beside the
 * balls-into-bins law, and the findings they call for.  The model itself
 * is analyzer/hash.c (and the parts it lists); key names are documented
 * in docs/report.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/analyze.h"
#include "ctplan/hash.h"

/* The "keep chains under 8" rule: a finding when more than 1% of the
 * entries (their tuples) sit in chains longer than 8, i.e. p99 > 8. */
#define RULE_CHAIN 8
#define RULE_SHARE 0.01
/* chaintoolong: warn from 1 refused new flow in 10000, critical from 1
 * in 100 */
#define P_NEXT_WARN 1e-4
#define P_NEXT_CRIT 1e-2

/*
 * Smallest table that keeps `entries` under the 8 rule if the hash
 * spreads like balls into bins: the share of nodes in chains over 8 is
 * P(Poisson(load) >= 8) (a node's chain is 1 + Poisson(load)), held to
 * RULE_SHARE; rounded up to the kernel's 512-bucket steps
 * (nf_ct_alloc_hashtable(), [6.1]).
 */
static uint64_t buckets_for_rule(double entries)
{
	double lo = 0, hi = 64, need;
	uint64_t b;

	for (int it = 0; it < 60; it++) {
		double lam = (lo + hi) / 2, cdf = 0, term = exp(-lam);

		for (int l = 0; l < RULE_CHAIN; l++) {
			cdf += term;
			term *= lam / (l + 1);
		}
		if (1 - cdf > RULE_SHARE)
			hi = lam;
		else
			lo = lam;
	}
	need = ceil(2 * entries / lo);
	b = (uint64_t)need;
	return (b + 511) / 512 * 512;
}

static double pct(double v)
{
	return 100 * v;
}

/*
 * What to do about long chains: the recommendation's buckets when it
 * raises them (so a finding never names another figure), else nothing
 * about the size (the planner finds the table big enough for a random
 * spread: the tuples are what clump).  Without a recommendation, the
 * fewest buckets for the rule.  Fills act (empty: no action) and why.
 */
static void bucket_action(const ctp_analysis *a, double need, char *act,
			  size_t asz, char *why, size_t wsz)
{
	const ctp_host_num *cur = ctp_host_buckets(a->host);

	act[0] = why[0] = '\0';
	if (ctp_bucket_action(a, act, asz)) {
		snprintf(why, wsz, "; the recommendation raises "
			 "nf_conntrack_buckets to %llu",
			 (unsigned long long)a->plan.buckets);
	} else if (a->has_plan) {
		snprintf(why, wsz, "; %llu buckets would hold a random "
			 "spread, so the tuples clump (see the Poisson "
			 "figures): more buckets would not help much",
			 (unsigned long long)cur->value);
	} else {
		snprintf(act, asz, "raise nf_conntrack_buckets to at least "
			 "%llu", (unsigned long long)buckets_for_rule(need));
		snprintf(why, wsz, "; %llu buckets would keep them under "
			 "1%%", (unsigned long long)buckets_for_rule(need));
	}
}

/* Findings of one state; at_max (the target, 0 for now) picks the codes
 * and wording. */
static int state_findings(const ctp_analysis *a, ctp_report *rep,
			   const ctp_hash_state *st, const char *alg,
			   uint64_t at_max)
{
	const ctp_hash_figures *f = &st->fig;
	const char *when = at_max ? "at max" : "now";
	/* size the table for the entries it must hold, even where the
	 * chain limit kept the model from placing them all */
	double need = at_max && (double)at_max > f->entries ? (double)at_max
							    : f->entries;
	char act[128], why[200], cost[120];
	ctp_kver kv = ctp_host_kernel(a->host, NULL);
	ctp_chain_limit lim;
	int rc = 0;

	/* what a long chain costs on this kernel (analyzer/checks.c
	 * long_chain_refuses: the same reading) */
	ctp_kernel_chain_limit(&kv, &lim);
	if (!lim.enabled)
		snprintf(cost, sizeof(cost), ": this kernel refuses no flow "
					     "for a long chain, each costs "
					     "lookup time on every packet");
	else
		snprintf(cost, sizeof(cost), ": this kernel refuses a new "
					     "flow once its chain holds %u "
					     "nodes",
			 lim.min + CTP_CHAIN_SLACK);
	bucket_action(a, need, act, sizeof(act), why, sizeof(why));
	if (f->share_over8 > RULE_SHARE)
		rc |= ctp_report_finding_act(
			rep, CTP_FINDING_WARN,
			at_max ? "hash.chains_over8_at_max"
			       : "hash.chains_over8",
			f->share_over8, RULE_SHARE, act[0] ? act : NULL,
			"%s %.3g%% of entries sit in chains longer than %d "
			"(load %.3g)%s%s",
			when, pct(f->share_over8), RULE_CHAIN, f->load, cost,
			why);
	if (f->p_next >= P_NEXT_WARN)
		rc |= ctp_report_finding_act(
			rep,
			f->p_next >= P_NEXT_CRIT ? CTP_FINDING_CRIT
						 : CTP_FINDING_WARN,
			at_max ? "hash.chaintoolong_at_max"
			       : "hash.chaintoolong",
			f->p_next, P_NEXT_WARN, act[0] ? act : NULL,
			"%s %.3g%% of new flows would be refused "
			"(chaintoolong)%s",
			when, pct(f->p_next), why);
	/* a table the chain limit capped is no longer Poisson: that
	 * explains a mismatch, so say so instead */
	if (f->refused > 0)
		rc |= ctp_report_finding(
			rep, CTP_FINDING_INFO,
			at_max ? "hash.chain_limit_capped_at_max"
			       : "hash.chain_limit_capped",
			f->refused, NAN,
			"%s the chain limit refused %.3g%% of the model's "
			"inserts: chains are capped",
			when, pct(f->refused));
	else if (st->poisson.mismatch)
		rc |= ctp_report_finding(
			rep, CTP_FINDING_WARN,
			at_max ? "hash.poisson_mismatch_at_max"
			       : "hash.poisson_mismatch",
			st->poisson.chi2_p, CTP_HASH_MISMATCH_P,
			"%s chains are not random-like (chi-square p %.2g): "
			"near-identical tuples under %s, or copies",
			when, st->poisson.chi2_p, alg);
	return rc ? CTP_ENOMEM : 0;
}

void ctp_hash_section_free(void *p)
{
	ctp_hash_section *h = p;

	if (!h)
		return;
	if (h->ran)
		ctp_hash_result_release(&h->res);
	free(h);
}

int ctp_hash_report(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	const ctp_analyze_opts *opts = &a->opts;
	ctp_hash_opts ho = CTP_HASH_OPTS_INIT;
	ctp_error merr = CTP_ERROR_INIT;
	ctp_hash_section *h = calloc(1, sizeof(*h));
	ctp_hash_result *res;
	uint64_t max;
	int rc;
	ctp_kver v;

	if (!h || ctp_report_add_section(rep, "hash", CTP_SEC_HASH, h,
					 ctp_hash_section_free))
		goto oom;
	res = &h->res;
	v = ctp_host_kernel(a->host, &h->kernel_source);
	ctp_kver_format(&v, h->kernel, sizeof(h->kernel));
	ho.era = ctp_kernel_hash_era(&v);
	h->info = ctp_kernel_hash_era_info(ho.era);
	ctp_kernel_chain_limit(&v, &ho.limit);
	h->limit = ho.limit;
	h->has_buckets = ctp_host_buckets(a->host)->known;
	h->buckets = ctp_host_buckets(a->host)->value;
	h->buckets_source = ctp_host_buckets(a->host)->source;
	h->has_max = ctp_host_max(a->host)->known;
	h->max = max = ctp_host_max(a->host)->value;
	h->keys = opts->hash_keys;
	h->seed = opts->seed;
	a->hash = h;

	if (!h->has_buckets || h->buckets == 0 || h->buckets > UINT32_MAX) {
		if (!h->has_buckets)
			snprintf(h->skipped, sizeof(h->skipped),
				 "no table size in the input (sysctl "
				 "nf_conntrack_buckets or the hashsize file)");
		else
			snprintf(h->skipped, sizeof(h->skipped),
				 "table size %llu out of range",
				 (unsigned long long)h->buckets);
		if (ctp_report_finding(rep, CTP_FINDING_INFO, "hash.skipped",
				       NAN, NAN,
				       "hash chains not modelled: %s",
				       h->skipped))
			goto oom;
		return 0;
	}
	if (!ctp_host_has_listing(a->host)) {
		snprintf(h->skipped, sizeof(h->skipped),
			 "no table listing in the input (conntrack -L or "
			 "/proc/net/nf_conntrack)");
		return 0;
	}

	ho.buckets = (uint32_t)h->buckets;
	ho.keys = opts->hash_keys;
	ho.seed = opts->seed;
	/*
	 * The shared table filled to nf_conntrack_max entries in all.
	 * The kernel checks the limit against each namespace's own count
	 * ([6.1] __nf_conntrack_alloc()), so several namespaces together
	 * may hold more; docs/report.md says so.
	 */
	ho.at_max = h->has_max ? max : 0;
	ho.threads = opts->hash_threads;
	rc = ctp_hash_model_run(snap, &ho, res, &merr);
	if (rc == CTP_ENOMEM)
		goto oom;
	if (rc) {
		/* bad options (keys out of range): say so, do not fail */
		snprintf(h->skipped, sizeof(h->skipped), "%s", merr.msg);
		return 0;
	}
	h->ran = 1;

	if (state_findings(a, rep, &res->now, h->info->algorithm, 0))
		goto oom;
	if (res->has_at_max) {
		if (state_findings(a, rep, &res->at_max, h->info->algorithm,
				   max))
			goto oom;
		if (res->at_max.fig.uniform > 0 &&
		    ctp_report_finding(
			    rep, CTP_FINDING_INFO, "hash.at_max_uniform",
			    res->at_max.fig.uniform, (double)max,
			    "the observed tuples gave only %.0f distinct "
			    "entries with fresh ports; the model placed the "
			    "other %.0f of the %llu at max in uniformly "
			    "random buckets (balls into bins)",
			    res->at_max.fig.entries - res->at_max.fig.uniform,
			    res->at_max.fig.uniform, (unsigned long long)max))
			goto oom;
		if (!res->at_max.fig.target_reached &&
		    ctp_report_finding(
			    rep, CTP_FINDING_INFO, "hash.at_max_short",
			    res->at_max.fig.entries, (double)max,
			    "the chain limit refused so many inserts that the "
			    "model filled the table to %.0f of %llu entries "
			    "only; the chain check uses balls into bins at "
			    "max instead",
			    res->at_max.fig.entries, (unsigned long long)max))
			goto oom;
	}
	if (res->inexact &&
	    ctp_report_finding(rep, CTP_FINDING_INFO, "hash.inexact",
			       (double)res->inexact, NAN,
			       "%llu ICMP entries lack type, code and id "
			       "(-o xml): hashed as zeros",
			       (unsigned long long)res->inexact))
		goto oom;
	return 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
			     "out of memory in the hash model");
}
