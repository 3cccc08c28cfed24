/*
 * Checks for "ctplan check": figures of the report held against limits
 * (the plan options), each with a pass or fail, in the top-level
 * "checks" array (docs/report.md).  Runs after every other model, so it
 * reads their sections rather than the snapshot.
 */
#include <math.h>
#include <string.h>

#include "ctplan/plan.h"

static double jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/*
 * Share of nodes in chains longer than max_chain from a histogram of
 * buckets by chain length (hash.at_max.histogram): a bucket holding l
 * nodes holds l of them.
 */
static double hist_long_share(json_t *hist, unsigned max_chain)
{
	double nodes = 0, longn = 0;
	size_t l;
	json_t *v;

	json_array_foreach(hist, l, v) {
		double b = json_number_value(v);
		nodes += b * (double)l;
		if (l > max_chain)
			longn += b * (double)l;
	}
	return nodes > 0 ? longn / nodes : NAN;
}

/* One check: value against limit; ok is null when value is unknown. */
static int add_check(json_t *arr, const char *name, double value,
		     double limit, int below, const char *source,
		     const char *what)
{
	json_t *ok = !isfinite(value)
			     ? json_null()
			     : json_boolean(below ? value <= limit
						  : value >= limit);
	json_t *c = json_pack("{s:s, s:o, s:f, s:o, s:s, s:s, s:s}", "name",
			      name, "value",
			      isfinite(value) ? json_real(value) : json_null(),
			      "limit", limit, "ok", ok, "op",
			      below ? "<=" : ">=", "source", source, "what",
			      what);

	/* append_new steals c */
	return !c || json_array_append_new(arr, c) ? CTP_ENOMEM : 0;
}

int ctp_checks_report(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		      ctp_report *rep, ctp_error *err)
{
	static const ctp_plan_opts def_opts = CTP_PLAN_OPTS_INIT;
	const ctp_plan_opts *o = opts && opts->plan ? opts->plan : &def_opts;
	json_t *root = ctp_report_root(rep);
	json_t *hr = json_object_get(root, "headroom");
	json_t *hash = json_object_get(root, "hash");
	json_t *nat = json_object_get(root, "nat");
	json_t *arr = json_array();
	double v = NAN, max, buckets;
	const char *src = "none";

	(void)snap;
	if (!arr)
		goto oom;
	/* set_new: the root takes arr's only reference */
	if (json_object_set_new(root, "checks", arr))
		goto oom;

	v = jnum(json_object_get(hr, "growth"), "headroom_pct_at_peak");
	if (add_check(arr, "headroom_pct_at_peak", v, 100 * o->margin, 0,
		      isfinite(v) ? "headroom.growth" : "none",
		      "percent of nf_conntrack_max still free at the planned "
		      "peak (--margin)"))
		goto oom;

	/* the hash model filled to max; else balls into bins */
	v = hist_long_share(json_object_get(json_object_get(hash, "at_max"),
					    "histogram"),
			    o->max_chain);
	src = "hash.at_max.histogram";
	max = jnum(hr, "max");
	buckets = jnum(json_object_get(root, "table"), "buckets");
	if (!isfinite(v) && isfinite(max) && isfinite(buckets) && buckets > 0) {
		v = ctp_plan_long_share(2 * max / buckets, o->max_chain);
		src = "poisson";
	} else if (!isfinite(v)) {
		src = "none";
	}
	if (add_check(arr, "long_chain_share_at_max", v, o->chain_share, 1,
		      src,
		      "share of entries in hash chains longer than "
		      "--max-chain when the table is full"))
		goto oom;

	/* over every group, listed or omitted (nat.groups stops at
	 * --max-groups, sorted by risk, not by utilization) */
	v = NAN;
	src = "none";
	if (json_is_array(json_object_get(nat, "groups"))) {
		v = json_is_number(json_object_get(nat, "max_utilization"))
			    ? jnum(nat, "max_utilization")
			    : 0;
		src = "nat.max_utilization";
	}
	if (add_check(arr, "nat_utilization", v, o->max_nat_util, 1, src,
		      "port range use of the busiest NAT group "
		      "(--max-nat-util)"))
		goto oom;
	return 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0, "out of memory");
}

size_t ctp_checks_failed(ctp_report *rep)
{
	json_t *c;
	size_t i, n = 0;

	json_array_foreach(json_object_get(ctp_report_root(rep), "checks"), i,
			   c)
		n += json_is_false(json_object_get(c, "ok"));
	return n;
}
