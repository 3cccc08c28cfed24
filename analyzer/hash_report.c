/*
 * Hash chain model as a report section: which kernel hash and table size
 * apply, the chain figures now and at nf_conntrack_max beside the
 * balls-into-bins law, and the findings they call for.  The model itself
 * is analyzer/hash.c (and the parts it lists); key names are documented
 * in docs/report.md.
 */
#include <math.h>
#include <stdio.h>
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

/* Reals rounded so averages over keys print short: 4 decimals. */
static json_t *real4(double v)
{
	return json_real(round(v * 1e4) / 1e4);
}

static json_t *hist_json(const double *h, size_t len)
{
	json_t *a = json_array();

	for (size_t l = 0; a && l < len; l++)
		/* append_new steals the real */
		if (json_array_append_new(a, real4(h[l]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* set_new throughout: obj takes each new value's only reference; a NULL
 * value (out of memory) makes the set fail. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) ? CTP_ENOMEM : 0;
}

static int poisson_json(json_t *obj, const ctp_hash_poisson *p)
{
	json_t *o = json_object();

	if (!o)
		return CTP_ENOMEM;
	if (put(o, "histogram", hist_json(p->hist, p->hist_len)) ||
	    put(o, "mean_chain", real4(p->mean_occupied)) ||
	    put(o, "p99", json_integer(p->p99)) ||
	    put(o, "p999", json_integer(p->p999)) ||
	    put(o, "longest_median", json_integer(p->longest_median)) ||
	    put(o, "share_over8", json_real(p->share_over8)) ||
	    put(o, "chaintoolong_p_next", json_real(p->p_next)) ||
	    put(o, "chi2", real4(p->chi2)) ||
	    put(o, "chi2_df", json_integer(p->chi2_df)) ||
	    put(o, "chi2_p", json_real(p->chi2_p)) ||
	    put(o, "mismatch", json_boolean(p->mismatch))) {
		json_decref(o);
		return CTP_ENOMEM;
	}
	return put(obj, "poisson", o);
}

/* The figures of one table state, as keys of obj. */
static int figures_json(json_t *obj, const ctp_hash_state *st)
{
	const ctp_hash_figures *f = &st->fig;
	json_t *lg = json_pack("{s:I, s:f, s:I}", "min",
			       (json_int_t)f->longest_min, "median",
			       f->longest_median, "max",
			       (json_int_t)f->longest_max);

	if (put(obj, "entries", real4(f->entries)) ||
	    put(obj, "nodes", real4(f->nodes)) ||
	    put(obj, "load", json_real(f->load)) ||
	    put(obj, "histogram", hist_json(f->hist, f->hist_len)) ||
	    put(obj, "mean_chain", real4(f->mean_occupied)) ||
	    put(obj, "p99", json_integer(f->p99)) ||
	    put(obj, "p999", json_integer(f->p999)) ||
	    put(obj, "longest", lg) ||
	    put(obj, "share_over8", json_real(f->share_over8)) ||
	    put(obj, "chaintoolong_p_next", json_real(f->p_next)) ||
	    put(obj, "attempts", real4(f->attempts)) ||
	    put(obj, "refused_share", json_real(f->refused)) ||
	    put(obj, "target_reached", json_boolean(f->target_reached)))
		return CTP_ENOMEM;
	return poisson_json(obj, &st->poisson);
}

/* Figure keys as null, so a skipped section has the same shape. */
static const char *const figure_keys[] = {
	"namespaces",	  "tables",	  "placed",
	"inexact",	  "entries",	  "nodes",
	"load",		  "histogram",	  "mean_chain",
	"p99",		  "p999",	  "longest",
	"share_over8",	  "chaintoolong_p_next",
	"attempts",	  "refused_share", "target_reached",
	"poisson",	  "resample_bases", "resampled",
};

static int null_figures(json_t *obj)
{
	for (size_t i = 0; i < sizeof(figure_keys) / sizeof(figure_keys[0]);
	     i++)
		if (put(obj, figure_keys[i], json_null()))
			return CTP_ENOMEM;
	return 0;
}

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
	if (a->has_plan && a->plan.buckets > cur->value) {
		snprintf(act, asz, "set nf_conntrack_buckets = %llu",
			 (unsigned long long)a->plan.buckets);
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
static void state_findings(const ctp_analysis *a, ctp_report *rep,
			   const ctp_hash_state *st, const char *alg,
			   uint64_t at_max)
{
	const ctp_hash_figures *f = &st->fig;
	const char *when = at_max ? "at max" : "now";
	/* size the table for the entries it must hold, even where the
	 * chain limit kept the model from placing them all */
	double need = at_max && (double)at_max > f->entries ? (double)at_max
							    : f->entries;
	char act[128], why[200];

	bucket_action(a, need, act, sizeof(act), why, sizeof(why));
	if (f->share_over8 > RULE_SHARE)
		ctp_report_finding_act(
			rep, CTP_FINDING_WARN,
			at_max ? "hash.chains_over8_at_max"
			       : "hash.chains_over8",
			f->share_over8, RULE_SHARE, act[0] ? act : NULL,
			"%s %.3g%% of entries sit in chains longer than %d "
			"(load %.3g)%s",
			when, pct(f->share_over8), RULE_CHAIN, f->load, why);
	if (f->p_next >= P_NEXT_WARN)
		ctp_report_finding_act(
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
		ctp_report_finding(
			rep, CTP_FINDING_INFO,
			at_max ? "hash.chain_limit_capped_at_max"
			       : "hash.chain_limit_capped",
			f->refused, NAN,
			"%s the chain limit refused %.3g%% of the model's "
			"inserts: chains are capped",
			when, pct(f->refused));
	else if (st->poisson.mismatch)
		ctp_report_finding(
			rep, CTP_FINDING_WARN,
			at_max ? "hash.poisson_mismatch_at_max"
			       : "hash.poisson_mismatch",
			st->poisson.chi2_p, CTP_HASH_MISMATCH_P,
			"%s chains are not random-like (chi-square p %.2g): "
			"near-identical tuples under %s, or copies",
			when, st->poisson.chi2_p, alg);
}


static int limit_json(json_t *h, const ctp_chain_limit *l)
{
	json_t *o;

	if (!l->enabled)
		return put(h, "chain_limit", json_null());
	/* refused when a chain holds max_chainlen + 2 nodes, max_chainlen
	 * drawn in [min, min + span) */
	o = json_pack("{s:I, s:I, s:I, s:I, s:s}", "min", (json_int_t)l->min,
		      "span", (json_int_t)(l->span ? l->span : 1),
		      "refuse_from",
		      (json_int_t)(l->min + CTP_CHAIN_SLACK), "refuse_all_from",
		      (json_int_t)(l->min + (l->span ? l->span - 1 : 0) +
				   CTP_CHAIN_SLACK),
		      "versions", l->versions ? l->versions : "");
	return put(h, "chain_limit", o);
}

static int skip(json_t *h, const char *why)
{
	if (put(h, "skipped", json_string(why)) || null_figures(h) ||
	    put(h, "at_max", json_null()) ||
	    put(h, "at_max_skipped", json_string("the model did not run")))
		return CTP_ENOMEM;
	return 0;
}

int ctp_hash_report(const ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	const ctp_analyze_opts *opts = &a->opts;
	ctp_hash_opts ho = CTP_HASH_OPTS_INIT;
	ctp_hash_result res;
	ctp_error merr = CTP_ERROR_INIT;
	const ctp_hash_era_info *info;
	const char *ksrc, *bsrc = NULL;
	uint64_t buckets = 0, max = 0;
	int has_b, has_max, rc;
	char kbuf[32];
	ctp_kver v;
	json_t *h;

	memset(&res, 0, sizeof(res));
	v = ctp_host_kernel(a->host, &ksrc);
	ctp_kver_format(&v, kbuf, sizeof(kbuf));
	ho.era = ctp_kernel_hash_era(&v);
	info = ctp_kernel_hash_era_info(ho.era);
	ctp_kernel_chain_limit(&v, &ho.limit);
	has_b = ctp_host_buckets(a->host)->known;
	buckets = ctp_host_buckets(a->host)->value;
	bsrc = ctp_host_buckets(a->host)->source;
	has_max = ctp_host_max(a->host)->known;
	max = ctp_host_max(a->host)->value;

	h = ctp_report_section(rep, "hash");
	if (!h)
		goto oom;
	if (put(h, "algorithm", json_string(info->algorithm)) ||
	    put(h, "era", json_string(info->name)) ||
	    put(h, "era_versions", json_string(info->versions)) ||
	    put(h, "kernel", json_string(kbuf)) ||
	    put(h, "kernel_source", json_string(ksrc)) ||
	    put(h, "buckets", has_b ? json_integer((json_int_t)buckets)
				    : json_null()) ||
	    put(h, "buckets_source", bsrc ? json_string(bsrc) : json_null()) ||
	    put(h, "keys", json_integer(opts->hash_keys)) ||
	    put(h, "seed", json_integer((json_int_t)opts->seed)) ||
	    limit_json(h, &ho.limit))
		goto oom;

	if (!has_b || buckets == 0 || buckets > UINT32_MAX) {
		char why[160];

		if (!has_b)
			snprintf(why, sizeof(why),
				 "no table size in the input (sysctl "
				 "nf_conntrack_buckets or the hashsize file)");
		else
			snprintf(why, sizeof(why),
				 "table size %llu out of range",
				 (unsigned long long)buckets);
		if (skip(h, why) ||
		    ctp_report_finding(rep, CTP_FINDING_INFO, "hash.skipped",
				       NAN, NAN,
				       "hash chains not modelled: %s", why))
			goto oom;
		return 0;
	}
	if (!ctp_host_has_listing(a->host)) {
		if (skip(h, "no table listing in the input (conntrack -L or "
			    "/proc/net/nf_conntrack)"))
			goto oom;
		return 0;
	}

	ho.buckets = (uint32_t)buckets;
	ho.keys = opts->hash_keys;
	ho.seed = opts->seed;
	/*
	 * The shared table filled to nf_conntrack_max entries in all.
	 * The kernel checks the limit against each namespace's own count
	 * ([6.1] __nf_conntrack_alloc()), so several namespaces together
	 * may hold more; docs/report.md says so.
	 */
	ho.at_max = has_max ? max : 0;
	ho.threads = opts->hash_threads;
	rc = ctp_hash_model_run(snap, &ho, &res, &merr);
	if (rc == CTP_ENOMEM)
		goto oom;
	if (rc) {
		/* bad options (keys out of range): say so, do not fail */
		if (skip(h, merr.msg))
			goto oom;
		return 0;
	}

	if (put(h, "skipped", json_null()) ||
	    put(h, "namespaces", json_integer(res.namespaces)) ||
	    put(h, "tables", json_integer(res.tables)) ||
	    put(h, "placed", json_integer((json_int_t)res.entries)) ||
	    put(h, "inexact", json_integer((json_int_t)res.inexact)) ||
	    figures_json(h, &res.now) ||
	    put(h, "resample_bases",
		json_integer((json_int_t)res.resample_bases)) ||
	    put(h, "resampled", json_integer((json_int_t)res.resampled)))
		goto oom;
	if (res.has_at_max) {
		json_t *am = json_object();

		if (!am || put(h, "at_max", am) ||
		    put(am, "target", json_integer((json_int_t)max)) ||
		    figures_json(am, &res.at_max) ||
		    put(am, "uniform_fill", real4(res.at_max.fig.uniform)) ||
		    put(am, "fill_method",
			json_string(res.at_max.fig.uniform > 0
					    ? "observed tuples with fresh "
					      "ports, then balls into bins"
					    : "observed tuples with fresh "
					      "ports")) ||
		    put(h, "at_max_skipped", json_null()))
			goto oom;
	} else if (put(h, "at_max", json_null()) ||
		   put(h, "at_max_skipped",
		       json_string(has_max ? "nf_conntrack_max is 0"
					   : "no nf_conntrack_max in the "
					     "input"))) {
		goto oom;
	}

	state_findings(a, rep, &res.now, info->algorithm, 0);
	if (res.has_at_max) {
		state_findings(a, rep, &res.at_max, info->algorithm, max);
		if (res.at_max.fig.uniform > 0)
			ctp_report_finding(
				rep, CTP_FINDING_INFO, "hash.at_max_uniform",
				res.at_max.fig.uniform, (double)max,
				"the observed tuples gave only %.0f distinct "
				"entries with fresh ports; the model placed "
				"the other %.0f of the %llu at max in "
				"uniformly random buckets (balls into bins)",
				res.at_max.fig.entries -
					res.at_max.fig.uniform,
				res.at_max.fig.uniform,
				(unsigned long long)max);
		if (!res.at_max.fig.target_reached)
			ctp_report_finding(
				rep, CTP_FINDING_INFO, "hash.at_max_short",
				res.at_max.fig.entries, (double)max,
				"the chain limit refused so many inserts that "
				"the model filled the table to %.0f of %llu "
				"entries only; the chain check uses balls "
				"into bins at max instead",
				res.at_max.fig.entries,
				(unsigned long long)max);
	}
	if (res.inexact)
		ctp_report_finding(rep, CTP_FINDING_INFO, "hash.inexact",
				   (double)res.inexact, NAN,
				   "%llu ICMP entries lack type, code and id "
				   "(-o xml): hashed as zeros",
				   (unsigned long long)res.inexact);
	ctp_hash_result_release(&res);
	return 0;
oom:
	ctp_hash_result_release(&res);
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0, "out of memory");
}
