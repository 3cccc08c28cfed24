/*
 * Capacity planner: kernel defaults, headroom now and at the peak,
 * idle entries a shorter timeout would free, the full-table early-drop
 * model, and the recommended nf_conntrack_max / nf_conntrack_buckets
 * with their memory and reasons.  Kernel facts come from
 * analyzer/kernel.c; key names are documented in docs/report.md.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/report_tree.h"
#include "ctplan/analyze.h"
#include "ctplan/flow.h"
#include "ctplan/inventory.h"
#include "ctplan/plan.h"

/* The hash model is checked against balls-into-bins; a recommendation
 * aims this much under the long-chain target so that the sampled real
 * hash still meets it (tests/analyzer/test_planner.c runs the model). */
#define CHAIN_SAFETY 0.8

/* max is rounded up to this: a number people can type */
#define MAX_STEP 1024

/* Timeouts the kernel starts with when the input has no sysctl
 * ([6.1] nf_conntrack_proto_tcp.c tcp_timeouts[], _udp.c udp_timeouts[],
 * nf_conntrack_proto_icmp.c, nf_conntrack_proto_generic.c). */
#define DEF_TCP_ESTABLISHED 432000
#define DEF_TCP_TIME_WAIT 120
#define DEF_UDP 30
#define DEF_UDP_STREAM 120
#define DEF_ICMP 30
#define DEF_GENERIC 600

/*
 * The rules people use today (beside the kernel default).  kube-proxy:
 * kubernetes cmd/kube-proxy/app/server_linux.go getConntrackMax():
 * "scaled := MaxPerCore * NumCPU; if scaled > floor return scaled, else
 * floor" with the defaults of pkg/proxy/apis/config/v1alpha1/defaults.go
 * (conntrack.maxPerCore 32768, conntrack.min 131072), then
 * cmd/kube-proxy/app/conntrack.go SetMax(): "if hashsize >= (max / 4)
 * return nil" else writes max/4 to /sys/module/nf_conntrack/parameters/
 * hashsize; it also sets tcp_timeout_established to 86400 (24h).
 */
#define KUBE_PER_CORE 32768
#define KUBE_MIN 131072
#define KUBE_ESTABLISHED 86400

static uint64_t round_up(uint64_t v, uint64_t step)
{
	return (v + step - 1) / step * step;
}

/* the kernel's rounding of a table size: whole pages of 8-byte heads
 * (4 KiB pages assumed; 32-bit kernels have 4-byte heads) */
static uint64_t bucket_step(unsigned bits)
{
	return bits == 32 ? 1024 : 512;
}

const char *ctp_plan_move_name(ctp_plan_move m)
{
	static const char *const names[] = { "set", "keep", "raise",
					     "lower" };

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m]
							       : NULL;
}

double ctp_plan_long_share(double load, unsigned max_chain)
{
	double term, sum = 0;

	if (max_chain == 0)
		return 1;
	if (!(load > 0))
		return 0;
	/* the tail summed from max_chain up, so tiny shares keep their
	 * precision (1 - cdf would cancel) */
	term = exp(-load + max_chain * log(load) - lgamma(max_chain + 1.0));
	for (unsigned k = max_chain; k < max_chain + 4000; k++) {
		sum += term;
		term *= load / (k + 1);
		if (term < sum * 1e-17)
			break;
	}
	return sum > 1 ? 1 : sum;
}

double ctp_plan_load_for_share(unsigned max_chain, double share)
{
	double lo = 0, hi = 4.0 * max_chain + 64;

	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (ctp_plan_long_share(mid, max_chain) > share)
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

/* Poisson(a) probability of k */
static double pois(double a, unsigned k)
{
	if (!(a > 0))
		return k == 0;
	return exp(-a + k * log(a) - lgamma(k + 1.0));
}

/*
 * The <= 4.6 walk: whole buckets until an evictable node is seen (flow
 * admitted) or range nodes were passed (dropped).  Per bucket the
 * evictable and other nodes are independent Poisson counts (ev, ot per
 * bucket).  f[c]: probability of having passed c < range nodes, all
 * unevictable, at a bucket boundary; an empty bucket keeps the walk
 * where it is, so each state's mass is divided by 1 - P(empty).
 */
static double drop_nodes(unsigned range, double ev, double ot)
{
	double f[64] = { 0 }, drop = 0, none = exp(-ev), empty;

	if (range > 63)
		range = 63;
	empty = exp(-(ev + ot));
	if (empty >= 1)
		return 1;
	f[0] = 1;
	for (unsigned c = 0; c < range; c++) {
		double g = f[c] / (1 - empty), rest = 1;

		for (unsigned k = 1; c + k < range; k++) {
			double pk = pois(ot, k);
			f[c + k] += g * none * pk;
			rest -= pk;
		}
		/* k = 0 is the self loop; the rest passes range */
		rest -= pois(ot, 0);
		if (rest > 0)
			drop += g * none * rest;
	}
	return drop > 1 ? 1 : drop;
}

double ctp_plan_full_drop_p(const ctp_evict_rule *r, double buckets,
			    double entries, double evictable)
{
	double w;

	if (!(evictable > 0))
		return 1;
	if (!(buckets > 0))
		return NAN;
	if (r->era == CTP_EVICT_NODES) {
		double ot = 2 * (entries - evictable) / buckets;
		return drop_nodes(r->range, 2 * evictable / buckets,
				  ot > 0 ? ot : 0);
	}
	w = r->range < buckets ? r->range : buckets;
	if (w >= buckets)
		return 0;
	/* each of the 2E evictable nodes misses the w buckets */
	return exp(2 * evictable * log1p(-w / buckets));
}

static double headroom_pct(uint64_t max, uint64_t peak)
{
	if (!max)
		return NAN;
	return 100.0 * ((double)max - (double)peak) / (double)max;
}

static void judge_rule(ctp_plan_rule *r, const ctp_plan_input *in,
		       const ctp_plan_opts *o, const ctp_evict_rule *ev)
{
	double load = 2.0 * (double)r->max / (double)r->buckets;
	char *p = r->note;
	size_t left = sizeof(r->note);
	int n;

	r->headroom_pct = headroom_pct(r->max, in->peak);
	r->long_share = ctp_plan_long_share(load, o->max_chain);
	r->full_drop_p = ctp_plan_full_drop_p(ev, (double)r->buckets,
					      (double)r->max,
					      in->evictable * (double)r->max);
	p[0] = '\0';
	if (r->headroom_pct < 100 * o->margin) {
		n = snprintf(p, left, "%.1f%% headroom at the peak, under the "
			     "%.0f%% margin; ", r->headroom_pct,
			     100 * o->margin);
		if (n > 0 && (size_t)n < left) {
			p += n;
			left -= (size_t)n;
		}
	}
	if (r->long_share > o->chain_share)
		n = snprintf(p, left, "%.2g%% of entries in chains over %u "
			     "at max (target %.2g%%)", 100 * r->long_share,
			     o->max_chain, 100 * o->chain_share);
	else
		n = snprintf(p, left, "chains meet the target; a full table "
			     "drops %.3g%% of new flows", 100 * r->full_drop_p);
	(void)n;
}

int ctp_plan_compute(const ctp_plan_input *in, const ctp_plan_opts *o,
		     ctp_plan_result *out, ctp_error *err)
{
	const ctp_default_rule *dr = ctp_kernel_default_rule(&in->kernel);
	const ctp_evict_rule *ev = ctp_kernel_early_drop(&in->kernel);
	const ctp_conn_size *cs = ctp_kernel_conn_size(&in->kernel);
	uint64_t step = bucket_step(in->bits), need, table_bytes;
	double lam, aim;
	ctp_plan_rule *r;

	memset(out, 0, sizeof(*out));
	if (!in->peak && !in->cur_max)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot plan for a peak of 0 entries");
	if (!(o->margin >= 0 && o->margin <= 0.95) || o->max_chain == 0 ||
	    o->max_chain > 1000 || !(o->chain_share > 0 &&
				     o->chain_share < 1))
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "planner options out of range");
	if (in->mem_kb)
		out->has_default = ctp_kernel_table_default(
					   &in->kernel, in->mem_kb / 4, 4096,
					   in->bits ? in->bits : 64,
					   &out->def) == 0;

	/* max: the peak under the margin; then the floors: never below
	 * the max in force nor the kernel's own default for this host
	 * (entries cost memory only when used, and a max that is too
	 * small drops flows), unless asked */
	need = (uint64_t)ceil((double)in->peak / (1 - o->margin));
	out->max_needed = round_up(need < MAX_STEP ? MAX_STEP : need,
				   MAX_STEP);
	out->max = out->max_needed;
	out->max_floor = "peak";
	if (!o->allow_shrink) {
		if (out->has_default && out->def.max > out->max) {
			out->max = out->def.max;
			out->max_floor = "kernel default";
		}
		if (in->cur_max && in->cur_max >= out->max) {
			out->max = in->cur_max;
			out->max_floor = "in force";
		}
	} else if (out->has_default && out->def.max > out->max &&
		   !in->cur_max) {
		/* nothing in force to shrink: the kernel's choice stands */
		out->max = out->def.max;
		out->max_floor = "kernel default";
	}
	out->max_move = !in->cur_max		 ? CTP_PLAN_SET
			: out->max == in->cur_max ? CTP_PLAN_KEEP
			: out->max > in->cur_max  ? CTP_PLAN_RAISE
						  : CTP_PLAN_LOWER;

	/* buckets: the long-chain target at max, and the average chain
	 * the kernel's default aims at (2 x factor nodes per bucket);
	 * never fewer than in force unless asked */
	lam = ctp_plan_load_for_share(o->max_chain,
				      o->chain_share * CHAIN_SAFETY);
	out->buckets_chain = round_up((uint64_t)ceil(2.0 * (double)out->max /
						     lam),
				      step);
	aim = 2.0 * dr->factor;
	out->buckets_aim = round_up((uint64_t)ceil(2.0 * (double)out->max /
						   aim),
				    step);
	out->buckets = out->buckets_chain > out->buckets_aim
			       ? out->buckets_chain
			       : out->buckets_aim;
	if (!o->allow_shrink && in->cur_buckets > out->buckets)
		out->buckets = in->cur_buckets;
	out->buckets_move = !in->cur_buckets ? CTP_PLAN_SET
			    : out->buckets == in->cur_buckets ? CTP_PLAN_KEEP
			    : out->buckets > in->cur_buckets ? CTP_PLAN_RAISE
							     : CTP_PLAN_LOWER;
	out->load_at_max = 2.0 * (double)out->max / (double)out->buckets;
	out->long_share = ctp_plan_long_share(out->load_at_max, o->max_chain);
	out->headroom_pct = headroom_pct(out->max, in->peak);
	out->full_drop_p = ctp_plan_full_drop_p(
		ev, (double)out->buckets, (double)out->max,
		in->evictable * (double)out->max);
	out->full_drop_p_chain = ctp_plan_full_drop_p(
		ev, (double)out->buckets_chain, (double)out->max,
		in->evictable * (double)out->max);

	out->entry_bytes = cs->slab_bytes +
			   ctp_kernel_ext_bytes(&in->kernel, in->ext_mask);
	table_bytes = round_up(out->buckets * CTP_BUCKET_HEAD_BYTES, 4096);
	out->memory_bytes = out->max * out->entry_bytes + table_bytes;
	out->memory_share = in->mem_kb ? (double)out->memory_bytes /
						 ((double)in->mem_kb * 1024)
				       : NAN;

	/* the rules people use, on the same host */
	r = &out->rules[out->nrules++];
	r->name = "kernel default";
	if ((r->known = out->has_default)) {
		r->max = out->def.max;
		r->buckets = out->def.buckets;
	}
	r = &out->rules[out->nrules++];
	r->name = "kube-proxy";
	if ((r->known = in->cores > 0)) {
		uint64_t cur = in->cur_buckets ? in->cur_buckets
						 : out->def.buckets;
		r->max = (uint64_t)KUBE_PER_CORE * in->cores;
		if (r->max < KUBE_MIN)
			r->max = KUBE_MIN;
		/* hashsize only ever raised, to max / 4, then rounded by
		 * the kernel */
		r->buckets = cur >= r->max / 4 ? cur
					       : round_up(r->max / 4, step);
		r->known = r->buckets > 0;
	}
	r = &out->rules[out->nrules++];
	r->name = "buckets = max / 4";
	r->known = 1;
	r->max = out->max;
	r->buckets = round_up(out->max / 4, step);
	r = &out->rules[out->nrules++];
	r->name = "buckets = max / 8";
	r->known = 1;
	r->max = out->max;
	r->buckets = round_up(out->max / 8, step);
	for (size_t i = 0; i < out->nrules; i++)
		if (out->rules[i].known && out->rules[i].buckets)
			judge_rule(&out->rules[i], in, o, ev);
		else
			out->rules[i].known = 0;
	return 0;
}

/* ---- report sections ---- */

static int put(json_t *obj, const char *key, json_t *v)
{
	/* set_new: obj takes v's only reference; NULL v fails */
	return json_object_set_new(obj, key, v) ? CTP_ENOMEM : 0;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* round to 4 significant decimals for shares printed in text */
static json_t *real6(double v)
{
	return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

static int add_reason(json_t *arr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_reason(json_t *arr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* append_new steals the string */
	return json_array_append_new(arr, json_string(buf)) ? CTP_ENOMEM : 0;
}

static int defaults_json(ctp_report *rep, const ctp_plan_input *in,
			 const ctp_plan_result *res)
{
	json_t *d = ctp_report_section(rep, "defaults");
	const ctp_default_rule *dr = ctp_kernel_default_rule(&in->kernel);
	char kv[32];

	if (!d)
		return CTP_ENOMEM;
	ctp_kver_format(&in->kernel, kv, sizeof(kv));
	if (put(d, "kernel", json_string(kv)) ||
	    put(d, "rule", json_string(dr->name)) ||
	    put(d, "rule_versions", json_string(dr->versions)) ||
	    put(d, "rule_source", json_string(dr->source)) ||
	    put(d, "factor", json_integer(dr->factor)) ||
	    put(d, "mem_total_kb", in->mem_kb ? u64(in->mem_kb)
					      : json_null()) ||
	    put(d, "bits", json_integer(in->bits)) ||
	    put(d, "buckets", res->has_default ? u64(res->def.buckets)
					       : json_null()) ||
	    put(d, "max", res->has_default ? u64(res->def.max)
					   : json_null()) ||
	    put(d, "skipped", res->has_default
				      ? json_null()
				      : json_string("no MemTotal in the "
						    "input (/proc/meminfo) "
						    "and no --mem")))
		return CTP_ENOMEM;
	return 0;
}

static void fmt_bytes(char *buf, size_t size, double b)
{
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, size, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, size, "%.1f MiB", b / (1024.0 * 1024));
}

static int reasons_json(json_t *arr, const ctp_plan_input *in,
			const ctp_plan_opts *o, const ctp_plan_result *res)
{
	const char *peak_src = in->peak_source ? in->peak_source : "count";
	const ctp_evict_rule *ev = ctp_kernel_early_drop(&in->kernel);
	const ctp_conn_size *cs = ctp_kernel_conn_size(&in->kernel);
	char mem[32];

	fmt_bytes(mem, sizeof(mem), (double)res->memory_bytes);
	if (!strcmp(res->max_floor, "in force")) {
		if (add_reason(arr, "nf_conntrack_max %llu (in force, kept): "
			       "the peak of %llu entries (%s) needs %llu with "
			       "the %.0f%% margin; it leaves %.2f%% free. A max "
			       "is never lowered without --allow-shrink: a "
			       "smaller one frees no memory until entries "
			       "exist, and drops flows if the peak was missed",
			       (unsigned long long)res->max,
			       (unsigned long long)in->peak, peak_src,
			       (unsigned long long)res->max_needed,
			       100 * o->margin, res->headroom_pct))
			return CTP_ENOMEM;
	} else if (!strcmp(res->max_floor, "kernel default")) {
		if (add_reason(arr, "nf_conntrack_max %llu: the kernel's own "
			       "default on this host, which keeps %.2f%% free "
			       "at the peak of %llu entries (%s; margin "
			       "%.0f%%); ctplan never goes below it without "
			       "--allow-shrink",
			       (unsigned long long)res->max, res->headroom_pct,
			       (unsigned long long)in->peak, peak_src,
			       100 * o->margin))
			return CTP_ENOMEM;
	} else if (add_reason(arr, "nf_conntrack_max %llu: the peak of %llu "
			      "entries (%s) leaves %.2f%% free, at least the "
			      "%.0f%% margin (rounded up to a multiple of %d)%s",
			      (unsigned long long)res->max,
			      (unsigned long long)in->peak, peak_src,
			      res->headroom_pct, 100 * o->margin, MAX_STEP,
			      !res->has_default && !in->cur_max
				      ? "; the kernel's default is unknown "
					"here (no MemTotal) and no max in "
					"force was read"
				      : "")) {
		return CTP_ENOMEM;
	}
	if (res->buckets_move == CTP_PLAN_KEEP &&
	    res->buckets > res->buckets_chain &&
	    res->buckets > res->buckets_aim) {
		if (add_reason(arr, "nf_conntrack_buckets %llu (in force, "
			       "kept): %.2f nodes per bucket at max put %.3g%% "
			       "of entries in chains longer than %u (target "
			       "%.3g%%); %llu would do, but buckets are never "
			       "lowered without --allow-shrink",
			       (unsigned long long)res->buckets,
			       res->load_at_max, 100 * res->long_share,
			       o->max_chain, 100 * o->chain_share,
			       (unsigned long long)(res->buckets_chain >
							    res->buckets_aim
						    ? res->buckets_chain
						    : res->buckets_aim)))
			return CTP_ENOMEM;
	} else
	if (add_reason(arr, "nf_conntrack_buckets %llu: %.2f nodes per bucket "
		       "at max put %.3g%% of entries in chains longer than %u "
		       "(target %.3g%%; the fewest buckets meeting it are "
		       "%llu) and keep the average chain of the kernel's own "
		       "default (%llu buckets for this max)",
		       (unsigned long long)res->buckets, res->load_at_max,
		       100 * res->long_share, o->max_chain,
		       100 * o->chain_share,
		       (unsigned long long)res->buckets_chain,
		       (unsigned long long)res->buckets_aim))
		return CTP_ENOMEM;
	if (add_reason(arr, "if the table fills anyway, %.3g%% of new flows "
		       "are dropped rather than admitted by evicting an "
		       "unassured entry (%s, %.3g%% of entries evictable); "
		       "with %llu buckets it would be %.3g%%: more buckets per "
		       "max mean shorter chains but fewer entries near a new "
		       "flow to evict, and the margin is what keeps the table "
		       "from filling",
		       100 * res->full_drop_p, ev->name, 100 * in->evictable,
		       (unsigned long long)res->buckets_chain,
		       100 * res->full_drop_p_chain))
		return CTP_ENOMEM;
	if (add_reason(arr, "memory: %llu entries x %llu bytes (slab object "
		       "%u%s + extensions) + %llu bucket heads x %d bytes = "
		       "%s%s",
		       (unsigned long long)res->max,
		       (unsigned long long)res->entry_bytes, cs->slab_bytes,
		       cs->measured ? "" : ", 6.1 layout assumed",
		       (unsigned long long)res->buckets, CTP_BUCKET_HEAD_BYTES,
		       mem, isfinite(res->memory_share) ? "" : "; MemTotal "
							       "unknown"))
		return CTP_ENOMEM;
	if (isfinite(res->memory_share) &&
	    add_reason(arr, "that is %.2f%% of MemTotal, and only when the "
		       "table is full: entries are allocated as flows come",
		       100 * res->memory_share))
		return CTP_ENOMEM;
	return 0;
}

int ctp_plan_add_sections(ctp_report *rep, const ctp_plan_input *in,
			  const ctp_plan_opts *o, const ctp_plan_result *res,
			  const char *peak_source)
{
	json_t *rc = ctp_report_section(rep, "recommendation");
	json_t *reasons = json_array(), *rules = json_array(), *lines;
	char buf[128];

	if (!rc || !reasons || !rules)
		goto oom;
	if (defaults_json(rep, in, res))
		goto oom;
	if (reasons_json(reasons, in, o, res))
		goto oom;
	for (size_t i = 0; i < res->nrules; i++) {
		const ctp_plan_rule *r = &res->rules[i];
		json_t *j = r->known
			? json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:s}",
				    "name", r->name, "max", (json_int_t)r->max,
				    "buckets", (json_int_t)r->buckets,
				    "headroom_pct_at_peak",
				    real6(r->headroom_pct),
				    "long_chain_share_at_max",
				    num_or_null(r->long_share), "full_drop_p",
				    num_or_null(r->full_drop_p), "note",
				    r->note)
			: json_pack("{s:s, s:n, s:n, s:n, s:n, s:n, s:s}",
				    "name", r->name, "max", "buckets",
				    "headroom_pct_at_peak",
				    "long_chain_share_at_max", "full_drop_p",
				    "note",
				    "unknown here (needs --cores, or "
				    "MemTotal)");
		/* append_new steals j */
		if (!j || json_array_append_new(rules, j))
			goto oom;
	}
	snprintf(buf, sizeof(buf), "options nf_conntrack hashsize=%llu",
		 (unsigned long long)res->buckets);
	lines = json_pack("[s, s]", "", "");
	if (!lines)
		goto oom;
	{
		char a[96], b[96];
		snprintf(a, sizeof(a), "net.netfilter.nf_conntrack_max = %llu",
			 (unsigned long long)res->max);
		snprintf(b, sizeof(b),
			 "net.netfilter.nf_conntrack_buckets = %llu",
			 (unsigned long long)res->buckets);
		json_array_set_new(lines, 0, json_string(a));
		json_array_set_new(lines, 1, json_string(b));
	}
	if (put(rc, "kernel", json_string(json_string_value(json_object_get(
				      ctp_report_section(rep, "defaults"),
				      "kernel")))) ||
	    put(rc, "peak", u64(in->peak)) ||
	    put(rc, "peak_source", json_string(peak_source)) ||
	    put(rc, "margin", json_real(o->margin)) ||
	    put(rc, "max_chain", json_integer(o->max_chain)) ||
	    put(rc, "chain_share", json_real(o->chain_share)) ||
	    put(rc, "max", u64(res->max)) ||
	    put(rc, "buckets", u64(res->buckets)) ||
	    put(rc, "max_current", in->cur_max ? u64(in->cur_max)
					       : json_null()) ||
	    put(rc, "buckets_current", in->cur_buckets ? u64(in->cur_buckets)
						       : json_null()) ||
	    put(rc, "max_move", json_string(ctp_plan_move_name(res->max_move))) ||
	    put(rc, "buckets_move",
		json_string(ctp_plan_move_name(res->buckets_move))) ||
	    put(rc, "max_needed", u64(res->max_needed)) ||
	    put(rc, "max_floor", json_string(res->max_floor)) ||
	    put(rc, "allow_shrink", json_boolean(o->allow_shrink)) ||
	    put(rc, "change", json_boolean(res->max_move != CTP_PLAN_KEEP ||
					   res->buckets_move !=
						   CTP_PLAN_KEEP)) ||
	    put(rc, "headroom_pct_at_peak", real6(res->headroom_pct)) ||
	    put(rc, "load_at_max", real6(res->load_at_max)) ||
	    put(rc, "long_chain_share_at_max", num_or_null(res->long_share)) ||
	    put(rc, "buckets_min_chain", u64(res->buckets_chain)) ||
	    put(rc, "buckets_default_aim", u64(res->buckets_aim)) ||
	    put(rc, "evictable_share", real6(in->evictable)) ||
	    put(rc, "full_drop_p", num_or_null(res->full_drop_p)) ||
	    put(rc, "full_drop_p_min_chain",
		num_or_null(res->full_drop_p_chain)) ||
	    put(rc, "entry_bytes", u64(res->entry_bytes)) ||
	    put(rc, "memory_bytes", u64(res->memory_bytes)) ||
	    put(rc, "memory_share", num_or_null(res->memory_share)) ||
	    put(rc, "sysctl", lines) ||
	    put(rc, "modprobe", json_string(buf)) ||
	    put(rc, "reasons", reasons) || put(rc, "rules", rules))
		return CTP_ENOMEM;
	return 0;
oom:
	json_decref(reasons);
	json_decref(rules);
	return CTP_ENOMEM;
}

/* ---- from a snapshot ---- */

static uint64_t sysctl_or(const ctp_snapshot *snap, const char *key,
			  uint64_t def, int *from_input)
{
	uint64_t v;

	if (ctp_snapshot_sysctl_u64(snap, key, &v)) {
		if (from_input)
			*from_input = 1;
		return v;
	}
	if (from_input)
		*from_input = 0;
	return def;
}

/* What one pass over the entries tells the planner. */
typedef struct mix {
	uint64_t total, evictable; /* of the namespace planned for */
	uint64_t all;              /* every namespace's entries */
	const char *ns;
	unsigned ext;
	/* idle: TCP ESTABLISHED and assured UDP with a timeout */
	uint32_t *est_left, *udp_left;
	size_t nest, nudp;
	/* arrivals: newest start, and per class the entries started in
	 * the window (filled in a second pass) */
	int64_t newest;
	int has_start, has_delta;
} mix;

static int is_nat(const ctp_flow *f)
{
	return memcmp(f->orig.src, f->reply.dst, 16) != 0 ||
	       memcmp(f->orig.dst, f->reply.src, 16) != 0 ||
	       f->orig.sport != f->reply.dport ||
	       f->orig.dport != f->reply.sport;
}

static int evictable(const ctp_flow *f)
{
	return !(f->flags & (CTP_F_ASSURED | CTP_F_OFFLOAD |
			     CTP_F_HW_OFFLOAD));
}

static int mix_scan(const ctp_snapshot *snap, const ctp_host *host, mix *m)
{
	size_t n = ctp_snapshot_flow_count(snap);
	ctp_flow fl;
	const ctp_flow *f = &fl;

	memset(m, 0, sizeof(*m));
	m->ns = ctp_host_main_ns(host);
	m->est_left = malloc((n ? n : 1) * sizeof(uint32_t));
	m->udp_left = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!m->ns || !m->est_left || !m->udp_left)
		return CTP_ENOMEM;
	m->newest = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		const ctp_flow_extra *x;

		if (ctp_snapshot_flow_flags(snap, i) &
		    (CTP_F_DUP | CTP_F_EVENT))
			continue;
		ctp_snapshot_flow_get(snap, i, &fl);
		x = ctp_snapshot_extra(snap, f);
		m->all++;
		if (strcmp(ctp_snapshot_input(snap, f->input)->ns, m->ns))
			continue;
		m->total++;
		m->evictable += evictable(f);
		if (is_nat(f))
			m->ext |= CTP_EXT_NAT;
		if (x) {
			if (x->present & CTP_X_COUNTERS)
				m->ext |= CTP_EXT_ACCT;
			if (x->present & (CTP_X_START | CTP_X_STOP))
				m->ext |= CTP_EXT_TSTAMP;
			if (x->present & CTP_X_LABELS)
				m->ext |= CTP_EXT_LABELS;
			if (x->present & CTP_X_HELPER)
				m->ext |= CTP_EXT_HELPER;
			if (x->present & CTP_X_START) {
				m->has_start = 1;
				if (x->start > m->newest)
					m->newest = x->start;
			}
			if (x->present & CTP_X_DELTA)
				m->has_delta = 1;
		}
		if (!(f->flags & CTP_F_HAS_TIMEOUT))
			continue;
		if (f->proto == CTP_P_TCP && f->state == CTP_TCP_ESTABLISHED)
			m->est_left[m->nest++] = f->timeout;
		else if (f->proto == CTP_P_UDP && (f->flags & CTP_F_ASSURED))
			m->udp_left[m->nudp++] = f->timeout;
	}
	return 0;
}

static void mix_release(mix *m)
{
	free(m->est_left);
	free(m->udp_left);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The k-th smallest of v[0 .. n) (k < n), v reordered: quickselect
 * (Hoare's partition around a median of three), the same value a full
 * sort puts at k in linear time; after 64 rounds, a sort of what is
 * left, so no input makes it quadratic.
 */
static uint32_t kth_u32(uint32_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	for (int round = 0; lo < hi; round++) {
		uint32_t a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
		uint32_t piv = a < b ? (b < c ? b : (a < c ? c : a))
				     : (a < c ? a : (b < c ? c : b));
		size_t i = lo, j = hi;

		if (round == 64) {
			qsort(v + lo, hi - lo + 1, sizeof(*v), cmp_u32);
			break;
		}
		/* v[lo .. i) <= piv <= v(j .. hi] */
		while (i <= j) {
			while (v[i] < piv)
				i++;
			while (v[j] > piv)
				j--;
			if (i <= j) {
				uint32_t t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (!j--)
					break;
			}
		}
		if (k <= j && j != (size_t)-1)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break; /* j < k < i: v[k] == piv */
	}
	return v[k];
}

/*
 * Idle time of one class: the kernel re-arms the timeout to T at every
 * packet, so an entry with r seconds left was last seen T - r ago.  A
 * timeout of T' would already have freed those idle T' or longer.
 */
static json_t *idle_json(uint32_t *left, size_t n, uint64_t t,
			 int t_from_input, const uint64_t *whatif,
			 size_t nwhat)
{
	json_t *o, *arr = json_array();
	double median = NAN;

	if (!arr)
		return NULL;
	/* the median only: no full sort (1M entries took 20 ms) */
	if (n) {
		uint32_t r = kth_u32(left, n, (n - 1) / 2);
		median = r <= t ? (double)(t - r) : 0;
	}
	for (size_t w = 0; w < nwhat; w++) {
		uint64_t freed = 0;
		if (whatif[w] >= t)
			continue;
		/* idle >= T'  <=>  left <= T - T' */
		for (size_t i = 0; i < n; i++)
			freed += left[i] <= t - whatif[w];
		/* append_new steals the object */
		if (json_array_append_new(
			    arr, json_pack("{s:I, s:I, s:f}", "timeout_s",
					   (json_int_t)whatif[w], "freed",
					   (json_int_t)freed, "freed_pct",
					   n ? round(1e4 * (double)freed /
						     (double)n) / 100
					     : 0.0))) {
			json_decref(arr);
			return NULL;
		}
	}
	o = json_pack("{s:I, s:s, s:I, s:o, s:o}", "timeout_s", (json_int_t)t,
		      "timeout_source", t_from_input ? "sysctl" : "default",
		      "entries", (json_int_t)n, "idle_median_s",
		      isfinite(median) ? json_real(median) : json_null(),
		      "what_if", arr);
	return o;
}

/* Timeout a new entry of this kind lives to if nothing more is seen. */
static uint64_t class_timeout(const ctp_snapshot *snap, const ctp_flow *f)
{
	if (f->proto == CTP_P_TCP)
		return f->state == CTP_TCP_ESTABLISHED
			       ? sysctl_or(snap,
					   "net.netfilter.nf_conntrack_tcp_"
					   "timeout_established",
					   DEF_TCP_ESTABLISHED, NULL)
			       : sysctl_or(snap,
					   "net.netfilter.nf_conntrack_tcp_"
					   "timeout_time_wait",
					   DEF_TCP_TIME_WAIT, NULL);
	if (f->proto == CTP_P_UDP)
		return (f->flags & CTP_F_ASSURED)
			       ? sysctl_or(snap,
					   "net.netfilter.nf_conntrack_udp_"
					   "timeout_stream",
					   DEF_UDP_STREAM, NULL)
			       : sysctl_or(snap,
					   "net.netfilter.nf_conntrack_udp_"
					   "timeout",
					   DEF_UDP, NULL);
	if (ctp_proto_is_icmp(f->proto))
		return sysctl_or(snap,
				 "net.netfilter.nf_conntrack_icmp_timeout",
				 DEF_ICMP, NULL);
	return sysctl_or(snap, "net.netfilter.nf_conntrack_generic_timeout",
			 DEF_GENERIC, NULL);
}

/*
 * Arrival rate from timestamps: entries whose start (-o ktimestamp) or
 * age (delta-time=) falls in the last `window` seconds before the newest
 * start (the dump time is not in the dump), and the count Little's law
 * gives if each such flow lived to its kind's timeout.
 */
static json_t *rate_json(const ctp_snapshot *snap, const mix *m)
{
	size_t n = ctp_snapshot_flow_count(snap);
	const double window = 60;
	ctp_flow fl;
	const ctp_flow *f = &fl;
	double arrivals = 0, steady = 0;
	const char *src;

	if (!m->has_start && !m->has_delta)
		return json_pack("{s:n, s:n, s:n, s:n}", "source", "window_s",
				 "new_per_s", "steady_state");
	src = m->has_start ? "start (-o ktimestamp)" : "delta-time";
	for (size_t i = 0; i < n; i++) {
		const ctp_flow_extra *x;
		int in;

		if (ctp_snapshot_flow_flags(snap, i) &
		    (CTP_F_DUP | CTP_F_EVENT))
			continue;
		ctp_snapshot_flow_get(snap, i, &fl);
		x = ctp_snapshot_extra(snap, f);
		if (!x ||
		    strcmp(ctp_snapshot_input(snap, f->input)->ns, m->ns))
			continue;
		if (m->has_start)
			in = (x->present & CTP_X_START) &&
			     (double)(m->newest - x->start) < window;
		else
			in = (x->present & CTP_X_DELTA) &&
			     x->delta_time < window;
		if (!in)
			continue;
		arrivals++;
		steady += (double)class_timeout(snap, f) / window;
	}
	return json_pack("{s:s, s:f, s:f, s:f}", "source", src, "window_s",
			 window, "new_per_s", arrivals / window,
			 "steady_state", round(steady));
}

/* "by_protocol" etc. of the entries section as {key: {entries,
 * pct_of_max}} */
static json_t *share_of_max(const ctp_tallies *t, uint64_t max)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	for (size_t i = 0; t && i < t->n; i++) {
		const char *k = t->v[i].key;
		json_int_t c = (json_int_t)t->v[i].n;
		json_t *e = json_pack("{s:I, s:o}", "entries", c, "pct_of_max",
				      max ? real6(100.0 * (double)c /
						  (double)max)
					  : json_null());
		/* set_new steals e */
		if (!e || json_object_set_new(o, k, e)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

struct ctp_plan_mix {
	mix m;
};

void ctp_plan_release(ctp_analysis *a)
{
	if (a->mix) {
		mix_release(&a->mix->m);
		free(a->mix);
		a->mix = NULL;
	}
}

/*
 * The full table as dumped: the main namespace's mix scaled to max, the
 * other namespaces' entries beside it, in the buckets in force (the
 * kernel's defaults where the input has no setting).
 */
static double table_drop_p(const ctp_analysis *a, const mix *m)
{
	const ctp_plan_input *in = &a->plan_in;
	const ctp_host_num *hm = ctp_host_max(a->host),
			   *hb = ctp_host_buckets(a->host);
	uint64_t max = 0, buckets = 0;
	ctp_table_default d;

	if (in->mem_kb && !ctp_kernel_table_default(&in->kernel,
						    in->mem_kb / 4, 4096,
						    in->bits, &d)) {
		max = d.max;
		buckets = d.buckets;
	}
	if (hm->known)
		max = hm->value;
	if (hb->known)
		buckets = hb->value;
	if (!m->total || !max || !buckets)
		return NAN;
	return ctp_plan_full_drop_p(ctp_kernel_early_drop(&in->kernel),
				    (double)buckets,
				    (double)max + (double)(m->all - m->total),
				    in->evictable * (double)max);
}

int ctp_plan_prepare(ctp_analysis *a, ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	const ctp_host *host = a->host;
	const ctp_plan_opts *o = &a->plan_opts;
	const ctp_peak_evidence *win;
	ctp_plan_input *in = &a->plan_in;
	ctp_error perr = CTP_ERROR_INIT;
	mix *m;

	a->mix = calloc(1, sizeof(*a->mix));
	if (!a->mix)
		goto oom;
	m = &a->mix->m;
	if (mix_scan(snap, host, m))
		goto oom;
	memset(in, 0, sizeof(*in));
	in->kernel = ctp_host_kernel(host, NULL);
	in->bits = ctp_host_bits(host);
	in->mem_kb = ctp_host_mem_kb(host)->value;
	in->cores = ctp_host_cores(host)->known &&
				    !strcmp(ctp_host_cores(host)->source,
					    "--cores")
			    ? (unsigned)ctp_host_cores(host)->value
			    : 0;
	in->ext_mask = m->ext;
	if (sysctl_or(snap, "net.netfilter.nf_conntrack_acct", 0, NULL))
		in->ext_mask |= CTP_EXT_ACCT;
	if (sysctl_or(snap, "net.netfilter.nf_conntrack_timestamp", 0, NULL))
		in->ext_mask |= CTP_EXT_TSTAMP;
	if (sysctl_or(snap, "net.netfilter.nf_conntrack_events", 1, NULL))
		in->ext_mask |= CTP_EXT_ECACHE;
	in->evictable = m->total ? (double)m->evictable / (double)m->total
				 : o->evictable;
	in->cur_max = ctp_host_max(host)->value;
	in->cur_buckets = ctp_host_buckets(host)->value;
	in->peak = ctp_host_peak(host, &win);
	in->peak_source = win ? ctp_peak_kind_name(win->kind) : NULL;
	a->plan_ran = 1;
	a->table_full_drop_p = table_drop_p(a, m);
	if (!ctp_host_has_data(host)) {
		snprintf(a->plan_skipped, sizeof(a->plan_skipped),
			 "nothing to plan from: the input holds no table "
			 "listing, count, settings or counters");
		return 0;
	}
	if (!win) {
		snprintf(a->plan_skipped, sizeof(a->plan_skipped),
			 "no peak to plan for: the input gives no count, "
			 "listing or nf_conntrack_max%s",
			 ctp_host_counters_get(host)->full_seen
				 ? " (the counters show the table was full, "
				   "but not at which max)"
				 : "");
		return 0;
	}
	if (!in->peak && !in->cur_max) {
		snprintf(a->plan_skipped, sizeof(a->plan_skipped),
			 "nothing to plan from: the table is empty and the "
			 "input has no nf_conntrack_max");
		return 0;
	}
	if (ctp_plan_compute(in, o, &a->plan, &perr)) {
		snprintf(a->plan_skipped, sizeof(a->plan_skipped), "%s",
			 perr.msg);
		return 0;
	}
	a->has_plan = 1;
	return 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
			     "out of memory in the planner");
}

/* The peak evidence, each with whether it set the peak. */
static json_t *evidence_json(const ctp_host *host)
{
	json_t *arr = json_array();
	const ctp_peak_evidence *win;

	if (!arr)
		return NULL;
	(void)ctp_host_peak(host, &win);
	for (size_t i = 0; i < ctp_host_evidence_count(host); i++) {
		const ctp_peak_evidence *e = ctp_host_evidence(host, i);
		json_t *j = json_pack("{s:s, s:I, s:b, s:b, s:s}", "source",
				      ctp_peak_kind_name(e->kind), "entries",
				      (json_int_t)e->entries, "table_was_full",
				      e->at_least_max, "sets_peak", e == win,
				      "detail", e->detail);
		/* append_new steals j */
		if (!j || json_array_append_new(arr, j)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int ctp_plan_report(const ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	static const uint64_t est_whatif[] = { KUBE_ESTABLISHED, 3600 };
	static const uint64_t udp_whatif[] = { 60, 30 };
	const ctp_snapshot *snap = a->snap;
	const ctp_host *host = a->host;
	const ctp_plan_opts *o = &a->plan_opts;
	const ctp_plan_input *in = &a->plan_in;
	const ctp_plan_result *res = &a->plan;
	const ctp_inventory *inv =
		ctp_report_get(rep, "entries", CTP_SEC_ENTRIES);
	json_t *hr, *growth, *full, *r;
	const ctp_evict_rule *ev;
	const ctp_host_num *hc = ctp_host_count(host);
	double count = hc->known ? (double)hc->value : NAN, table_p = NAN;
	uint64_t max = 0, buckets = 0, peak = in->peak, t_est, t_udp;
	const char *max_src = NULL, *peak_src = in->peak_source;
	int from_in, rc = CTP_ENOMEM, has_list;
	const mix *m;
	char max_act[80], bucket_act[80];

	if (!a->mix)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "the planner's sections need the plan "
				     "model first");
	m = &a->mix->m;

	has_list = m->total > 0;
	/* the kernel's defaults, used where the input lacks a setting */
	if (res->has_default) {
		max = res->def.max;
		buckets = res->def.buckets;
		max_src = "kernel default";
	}
	if (ctp_host_max(host)->known) {
		max = ctp_host_max(host)->value;
		max_src = "sysctl";
	}
	if (ctp_host_buckets(host)->known)
		buckets = ctp_host_buckets(host)->value;
	if (!isfinite(count))
		count = (double)m->total;

	ev = ctp_kernel_early_drop(&in->kernel);
	table_p = a->table_full_drop_p;

	hr = ctp_report_section(rep, "headroom");
	if (!hr)
		goto done;
	t_est = sysctl_or(snap,
			  "net.netfilter.nf_conntrack_tcp_timeout_established",
			  DEF_TCP_ESTABLISHED, &from_in);
	{
		json_t *idle = json_object();
		int from_udp;
		if (!idle || put(hr, "idle", idle))
			goto done;
		if (put(idle, "tcp_established",
			idle_json(m->est_left, m->nest, t_est, from_in,
				  est_whatif, 2)))
			goto done;
		t_udp = sysctl_or(snap,
				  "net.netfilter.nf_conntrack_udp_timeout_"
				  "stream",
				  DEF_UDP_STREAM, &from_udp);
		if (put(idle, "udp_stream",
			idle_json(m->udp_left, m->nudp, t_udp, from_udp,
				  udp_whatif, 2)))
			goto done;
	}
	growth = json_pack("{s:f, s:I, s:o, s:o, s:o}", "factor", o->growth,
			   "peak", (json_int_t)peak, "peak_source",
			   peak_src ? json_string(peak_src) : json_null(),
			   "headroom_at_peak",
			   max ? json_integer((json_int_t)max -
					      (json_int_t)peak)
			       : json_null(),
			   "headroom_pct_at_peak",
			   max && peak_src ? real6(headroom_pct(max, peak))
					   : json_null());
	full = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "rule",
			 ev->name, "rule_versions", ev->versions, "namespace",
			 m->ns, "entries", (json_int_t)m->total, "evictable",
			 (json_int_t)m->evictable, "range",
			 (json_int_t)ev->range, "evictable_share",
			 has_list ? real6(in->evictable) : json_null(),
			 "full_drop_p", num_or_null(table_p));
	if (put(hr, "count", isfinite(count) ? json_integer((json_int_t)count)
					     : json_null()) ||
	    put(hr, "max", max ? u64(max) : json_null()) ||
	    put(hr, "max_source", max_src ? json_string(max_src)
					  : json_null()) ||
	    put(hr, "headroom", max ? json_integer((json_int_t)max -
						   (json_int_t)count)
				    : json_null()) ||
	    put(hr, "headroom_pct",
		max ? real6(headroom_pct(max, (uint64_t)count))
		    : json_null()) ||
	    put(hr, "by_protocol",
		share_of_max(inv ? &inv->protocol : NULL, max)) ||
	    put(hr, "by_state",
		share_of_max(inv ? &inv->state : NULL, max)) ||
	    put(hr, "by_zone",
		share_of_max(inv ? &inv->zone : NULL, max)) ||
	    put(hr, "growth", growth) || put(hr, "rate", rate_json(snap, m)) ||
	    put(hr, "full_table", full))
		goto done;

	if (!a->has_plan) {
		r = ctp_report_section(rep, "recommendation");
		if (!r || put(r, "skipped", json_string(a->plan_skipped)) ||
		    put(r, "peak_evidence", evidence_json(host)))
			goto done;
		rc = 0;
		goto done;
	}
	if (ctp_plan_add_sections(rep, in, o, res, peak_src))
		goto done;
	r = ctp_report_section(rep, "recommendation");
	if (!r || put(r, "skipped", json_null()) ||
	    put(r, "peak_evidence", evidence_json(host)))
		goto done;
	/* the settings in force against the plan: the same figures and
	 * actions as the recommendation */
	snprintf(max_act, sizeof(max_act), "set nf_conntrack_max = %llu",
		 (unsigned long long)res->max);
	snprintf(bucket_act, sizeof(bucket_act),
		 "set nf_conntrack_buckets = %llu",
		 (unsigned long long)res->buckets);
	if (max && ctp_host_max(host)->known && res->max > max &&
	    headroom_pct(max, peak) < 100 * o->margin &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "plan.max_low",
		    headroom_pct(max, peak), 100 * o->margin,
		    max_act,
		    "at the planned peak of %llu entries (%s) "
		    "nf_conntrack_max %llu leaves %.1f%% free, under the "
		    "%.0f%% margin; the recommendation raises it to %llu",
		    (unsigned long long)peak, peak_src,
		    (unsigned long long)max, headroom_pct(max, peak),
		    100 * o->margin, (unsigned long long)res->max))
		goto done;
	if (max && buckets && ctp_host_buckets(host)->known &&
	    res->buckets > buckets &&
	    ctp_plan_long_share(2.0 * (double)max / (double)buckets,
				o->max_chain) > o->chain_share &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "plan.buckets_low",
		    ctp_plan_long_share(2.0 * (double)max / (double)buckets,
					o->max_chain),
		    o->chain_share, bucket_act,
		    "a full table of %llu entries in %llu buckets puts "
		    "%.2g%% of entries in chains longer than %u; the "
		    "recommendation raises the buckets to %llu",
		    (unsigned long long)max, (unsigned long long)buckets,
		    100 * ctp_plan_long_share(2.0 * (double)max /
						      (double)buckets,
					      o->max_chain),
		    o->max_chain, (unsigned long long)res->buckets))
		goto done;
	rc = 0;
done:
	if (rc)
		return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
				     "out of memory");
	return 0;
}
