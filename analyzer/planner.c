/*
 * Capacity planner: the full-table early-drop model, the balls-into-bins
 * chain law, and the recommended nf_conntrack_max / nf_conntrack_buckets
 * with their memory and one sentence of reason per figure.  Kernel facts
 * come from analyzer/kernel.c.  What it reads from a host (headroom,
 * idle entries, arrivals, the peak evidence) is analyzer/plan_report.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
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

/*
 * The rules people use today (beside the kernel default).  kube-proxy,
 * kubernetes cmd/kube-proxy/app/server_linux.go (blob at commit
 * 0014930a, v1.31-era, nftables mode present) getConntrackMax(): only
 * "if config.MaxPerCore != nil && *config.MaxPerCore > 0": "scaled :=
 * MaxPerCore * detectNumCPU(); if scaled > floor return scaled, else
 * floor (conntrack.min)", otherwise 0 and setupConntrack() writes
 * nothing ("max > 0" guard): maxPerCore 0 leaves nf_conntrack_max as
 * it is.  Defaults pkg/proxy/apis/config/v1alpha1/defaults.go:
 * conntrack.maxPerCore 32768, conntrack.min 131072.
 * cmd/kube-proxy/app/conntrack.go SetMax() then writes the max and, "if
 * hashsize >= (max / 4) return nil", else max/4 to /sys/module/
 * nf_conntrack/parameters/hashsize; tcp_timeout_established (86400 s,
 * conntrack.tcpEstablishedTimeout) and tcp_timeout_close_wait (3600 s)
 * are set there too.  It runs at every start of kube-proxy, long after
 * sysctl.d ran at boot.  Whether it lowers a larger max depends on the
 * version (setIntSysCtl's test; ctp_plan_kube_write):
 *   - up to 1.21: "val != value": it sets the exact value, lowering too;
 *   - 1.22 - 1.28: kubernetes PR #103174 (merged 2021, v1.22; blob
 *     03c60748 of conntrack.go: "val != value && val < value"): it only
 *     raises (every sysctl it sets, timeouts too);
 *   - 1.29 - 1.37: PR #120448 (Sep 2023, v1.29) reverted it: "val !=
 *     value" again, so each start LOWERS a larger nf_conntrack_max to
 *     its own value (PR #137002, v1.36, caps what it computes on
 *     many-core machines; issue #141943);
 *   - PR #142035 (merged Sep 2026, so 1.38+) makes nf_conntrack_max alone
 *     raise-only again; its cherry-picks #142198 (release-1.37) and
 *     #142199 (release-1.36) reach some 1.36/1.37 patch releases: there
 *     the patch release decides, and the report says both.
 */
#define KUBE_PER_CORE 32768
#define KUBE_MIN 131072

uint64_t ctp_plan_kube_max(uint64_t per_core, uint64_t min, unsigned cores)
{
	uint64_t scaled = per_core * cores;

	if (!per_core)
		return 0;
	return scaled > min ? scaled : min;
}

ctp_kube_write ctp_plan_kube_write(unsigned major, unsigned minor)
{
	if (major != 1)
		return major ? CTP_KUBE_WRITE_RAISE /* 2.x: after #142035 */
			     : CTP_KUBE_WRITE_UNKNOWN;
	if (minor <= 21)
		return CTP_KUBE_WRITE_EXACT;
	if (minor <= 28)
		return CTP_KUBE_WRITE_RAISE; /* #103174 */
	if (minor <= 35)
		return CTP_KUBE_WRITE_EXACT; /* #120448 */
	if (minor <= 37)
		return CTP_KUBE_WRITE_PATCH; /* #142198, #142199 */
	return CTP_KUBE_WRITE_RAISE;	     /* #142035 */
}

const char *ctp_plan_kube_write_name(ctp_kube_write w)
{
	static const char *const names[] = { "unknown", "raise-only", "exact",
					     "depends-on-patch" };

	return (unsigned)w < sizeof(names) / sizeof(names[0]) ? names[w]
							       : "unknown";
}

static uint64_t round_up(uint64_t v, uint64_t step)
{
	return (v + step - 1) / step * step;
}

/*
 * On a Kubernetes node: the conntrack.maxPerCore that makes kube-proxy
 * write at least the recommended max on this node, keeping its min (a
 * min above the recommendation wins, and is said), and what the same
 * settings give on nodes of other sizes, since one kube-proxy
 * configuration serves a whole cluster.
 */
static void kube_advice(const ctp_plan_input *in, ctp_plan_result *out,
			uint64_t step)
{
	static const unsigned sizes[] = { 2, 4, 8, 16, 32, 64, 96 };
	uint64_t per_core = in->kp_per_core_src ? in->kp_per_core
						: KUBE_PER_CORE;
	uint64_t min = in->kp_min_src ? in->kp_min : KUBE_MIN;
	uint64_t cur = in->cur_buckets ? in->cur_buckets : out->def.buckets;
	/* what kube-proxy must give: the recommended max when it changes;
	 * when the max in force is kept, what the peak needs (a max set
	 * above kube-proxy's by other means is not kube-proxy's to keep) */
	uint64_t target = out->max_move == CTP_PLAN_KEEP ? out->max_needed
							 : out->max;

	if (!in->k8s_level || !in->cores)
		return;
	out->kube_known = 1;
	out->kube_leaves = per_core == 0;
	out->kube_max_now = ctp_plan_kube_max(per_core, min, in->cores);
	out->kube_min = min;
	if (!out->kube_leaves && out->kube_max_now >= target) {
		/* today's settings already give enough */
		out->kube_change = 0;
		out->kube_per_core = per_core;
	} else {
		out->kube_change = 1;
		out->kube_per_core = (target + in->cores - 1) / in->cores;
	}
	out->kube_max = ctp_plan_kube_max(out->kube_per_core, min, in->cores);
	/* it raises hashsize to max / 4 only when the size then in force
	 * (the recommended buckets once applied, else today's) is
	 * smaller; the kernel rounds it up to whole pages of heads */
	if (out->buckets)
		cur = out->buckets;
	out->kube_hashsize = cur && cur >= out->kube_max / 4
				     ? 0
				     : round_up(out->kube_max / 4, step);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		out->kube_sizes[out->nkube_sizes].cores = sizes[i];
		out->kube_sizes[out->nkube_sizes++].max =
			ctp_plan_kube_max(out->kube_per_core, min, sizes[i]);
	}
}

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

int ctp_plan_sample_small(uint64_t listed, uint64_t counted)
{
	return listed < 100 || (counted && listed < counted / 10);
}

const char *ctp_plan_fmt_share(char *buf, size_t size, double p,
			       int small)
{
	double v = 100 * p;

	if (!isfinite(v))
		snprintf(buf, size, "-");
	else if (v > 0 && v < 0.01)
		snprintf(buf, size, "under 0.01%%");
	else if (!small)
		snprintf(buf, size, "%.3g%%", v);
	else if (v >= 9.95)
		snprintf(buf, size, "%.0f%%", v);
	else if (v >= 0.995)
		snprintf(buf, size, "%.1f%%", v);
	else
		snprintf(buf, size, "%.2g%%", v);
	return buf;
}

/* The extension block of the memory reason: which extensions the
 * entries carry (the settings turn on acct, timestamp and events; the
 * listing shows NAT and helpers), the bytes they use and the block
 * kmalloc'd for them. */
static void ext_clause(const ctp_plan_input *in, char *buf, size_t size)
{
	unsigned used = ctp_kernel_ext_used(&in->kernel, in->ext_mask);
	unsigned block = ctp_kernel_ext_bytes(&in->kernel, in->ext_mask);
	size_t len;
	int n = 0;

	if (!in->ext_mask) {
		snprintf(buf, size, "; no extensions");
		return;
	}
	len = (size_t)snprintf(buf, size, "; plus a %u-byte extension "
				       "block: ", block);
	for (unsigned b = 1; b && len < size; b <<= 1) {
		const char *name;

		if (!(in->ext_mask & b) || !(name = ctp_kernel_ext_name(b)))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					n++ ? ", " : "", name);
	}
	if (len < size)
		snprintf(buf + len, size - len, " use %u bytes of it%s", used,
			 used < block ? ", the rest is the smallest block "
					"the kernel allocates"
				      : "");
}

/* Where the evictable share comes from, for the eviction reason: the
 * entries listed (and the count they stand for, when a small sample of
 * it), or the --evictable assumption without a listing. */
static void evict_basis(const ctp_plan_input *in, char *buf, size_t size)
{
	if (!in->evict_listed)
		snprintf(buf, size, ", assumed (--evictable): no listing to "
				    "measure it on");
	else if (in->evict_counted &&
		 in->evict_listed < in->evict_counted / 10)
		snprintf(buf, size, ", from %llu listed entries of %llu "
				    "counted",
			 (unsigned long long)in->evict_listed,
			 (unsigned long long)in->evict_counted);
	else if (ctp_plan_sample_small(in->evict_listed, in->evict_counted))
		snprintf(buf, size, ", from %llu listed entr%s",
			 (unsigned long long)in->evict_listed,
			 in->evict_listed == 1 ? "y" : "ies");
	else
		buf[0] = '\0';
}

static double headroom_pct(uint64_t max, uint64_t peak)
{
	if (!max)
		return NAN;
	return 100.0 * ((double)max - (double)peak) / (double)max;
}

/* What the gc worker does after the first full-table drop, as the
 * end of the eviction reason (kernel.h ctp_kernel_gc_evict). */
static const char *gc_clause(const ctp_plan_input *in)
{
	if (ctp_kernel_gc_evict(&in->kernel)->known != CTP_GC_EVICT_YES)
		return "; this kernel's gc worker evicts nothing but expired "
		       "entries, so a full table drops until entries expire";
	if (in->gc_evictable == 0)
		return "; the gc worker that evicts after a drop (4.14+) "
		       "finds nothing to evict here (no entry unassured or "
		       "TCP closing), so a full table drops until entries "
		       "expire";
	if (ctp_kernel_gc_pass_max_s(&in->kernel))
		return "; after the first drop the gc worker (4.14+) also "
		       "evicts assured TCP entries in closing states, down to "
		       "95% of max, at its next pass: the drop does not bring "
		       "that pass forward, and this kernel runs it 1 to 60 s "
		       "after the last, so the drops can last up to a minute";
	return "; after the first drop the gc worker (4.14+) also evicts "
	       "assured TCP entries in closing states, down to 95% of max, "
	       "so the drops last until its next pass (the drop does not "
	       "bring it forward)";
}

/* Why a rule has no figures here: each rule lacks its own input. */
static void unknown_rule(ctp_plan_rule *r, const ctp_plan_input *in,
			 const ctp_plan_result *out)
{
	const char *why;

	r->known = 0;
	if (!strcmp(r->name, "kube-proxy") && in->cores == 0)
		why = "needs the CPU count (conntrack -S rows or --cores)";
	else if (!strcmp(r->name, "kube-proxy") && !in->mem_kb)
		why = "needs nf_conntrack_buckets in force, or MemTotal";
	else if (!in->mem_kb)
		why = "needs MemTotal (/proc/meminfo or --mem)";
	else if (!out->has_default)
		why = "no default known for this kernel";
	else
		why = "needs the settings in force (sysctl -a)";
	snprintf(r->note, sizeof(r->note), "unknown here: %s", why);
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
	if (r->headroom_pct < 0) {
		/* over max: how full, not a negative headroom */
		n = snprintf(p, left, "the peak is %.0f%% of this max, over "
			     "it; ", 100 - r->headroom_pct);
		if (n > 0 && (size_t)n < left) {
			p += n;
			left -= (size_t)n;
		}
	} else if (r->headroom_pct < 100 * o->margin) {
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
	else {
		char d[24];

		/* as the eviction reason prints it: two digits from a
		 * small sample or the --evictable assumption */
		ctp_plan_fmt_share(d, sizeof(d), r->full_drop_p,
				   !in->evict_listed ||
					   ctp_plan_sample_small(
						   in->evict_listed,
						   in->evict_counted));
		n = snprintf(p, left, "chains meet the target; a full table "
			     "drops %s of new flows", d);
	}
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
					   &in->kernel,
					   in->mem_kb * 1024 / ctp_kernel_page_size(),
					   ctp_kernel_page_size(),
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
	/* the sysctl takes an int: proc_dointvec (4.9.337), _minmax up to
	 * SYSCTL_INT_MAX ([6.1] nf_conntrack_standalone.c) */
	if (out->max > CTP_SYSCTL_INT_MAX)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "a peak of %llu entries needs "
				     "nf_conntrack_max %llu, more than the "
				     "kernel's sysctl takes (%d)",
				     (unsigned long long)in->peak,
				     (unsigned long long)out->max,
				     CTP_SYSCTL_INT_MAX);
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

	out->entry_bytes = (in->slab_bytes ? in->slab_bytes : cs->slab_bytes) +
			   ctp_kernel_ext_bytes(&in->kernel, in->ext_mask);
	table_bytes = round_up(out->buckets * CTP_BUCKET_HEAD_BYTES,
			       ctp_kernel_page_size());
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
		r->max = ctp_plan_kube_max(in->kp_per_core_src
						   ? in->kp_per_core
						   : KUBE_PER_CORE,
					   in->kp_min_src ? in->kp_min
							  : KUBE_MIN,
					   in->cores);
		if (!r->max)
			r->max = in->cur_max; /* maxPerCore 0: left alone */
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
		if (out->rules[i].known && out->rules[i].buckets &&
		    out->rules[i].max)
			judge_rule(&out->rules[i], in, o, ev);
		else
			unknown_rule(&out->rules[i], in, out);
	kube_advice(in, out, step);
	return 0;
}

/* ---- report sections ---- */

static int add_reason(ctp_plan_section *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One more sentence of reason; 0, or CTP_EFAIL when they are full. */
static int add_reason(ctp_plan_section *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nreasons == CTP_PLAN_REASONS)
		return CTP_EFAIL;
	va_start(ap, fmt);
	vsnprintf(s->reasons[s->nreasons++], CTP_PLAN_REASON_LEN, fmt, ap);
	va_end(ap);
	return 0;
}

/* What a long chain costs on this kernel, as a clause of a reason. */
static const char *chain_cost(const ctp_kver *v)
{
	ctp_chain_limit l;

	ctp_kernel_chain_limit(v, &l);
	return l.enabled ? "; this kernel refuses new flows whose chain is "
			   "too long"
			 : "; this kernel refuses no flow for a long chain: "
			   "long chains cost lookup time on every packet";
}

/*
 * plan/analyze --to-kernel: what changes from the kernel in use to the
 * one about to be rolled out, for a host that sets neither max nor
 * buckets (the defaults for its MemTotal), and the hash and chain limit.
 */
static int upgrade_reason(ctp_plan_section *arr, const ctp_plan_input *in)
{
	const ctp_hash_era_info *hf =
		ctp_kernel_hash_era_info(ctp_kernel_hash_era(&in->from));
	const ctp_hash_era_info *ht =
		ctp_kernel_hash_era_info(ctp_kernel_hash_era(&in->kernel));
	ctp_table_default df, dt;
	char fv[32], tv[32], lf[120], lt[120], defs[240] = "";

	ctp_kver_format(&in->from, fv, sizeof(fv));
	ctp_kver_format(&in->kernel, tv, sizeof(tv));
	ctp_kernel_chain_limit_words(&in->from, lf, sizeof(lf));
	ctp_kernel_chain_limit_words(&in->kernel, lt, sizeof(lt));
	if (in->mem_kb &&
	    !ctp_kernel_table_default(&in->from,
				      in->mem_kb * 1024 / ctp_kernel_page_size(),
				      ctp_kernel_page_size(), in->bits, &df) &&
	    !ctp_kernel_table_default(&in->kernel,
				      in->mem_kb * 1024 / ctp_kernel_page_size(),
				      ctp_kernel_page_size(), in->bits, &dt))
		snprintf(defs, sizeof(defs),
			 "; a host that sets neither goes from max %llu, "
			 "buckets %llu (%s, max = %u x buckets) to max %llu, "
			 "buckets %llu (%s, max = %u x buckets)",
			 (unsigned long long)df.max,
			 (unsigned long long)df.buckets, df.rule->name,
			 df.rule->factor, (unsigned long long)dt.max,
			 (unsigned long long)dt.buckets, dt.rule->name,
			 dt.rule->factor);
	else
		snprintf(defs, sizeof(defs),
			 "; the defaults for this host need MemTotal (--mem)");
	return add_reason(arr, "upgrade %s -> %s: hash %s -> %s; chain "
			  "limit: %s -> %s%s",
			  fv, tv, hf->name, ht->name, lf, lt, defs);
}

static void fmt_bytes(char *buf, size_t size, double b)
{
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, size, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, size, "%.1f MiB", b / (1024.0 * 1024));
}

static int reasons_of(ctp_plan_section *arr, const ctp_plan_input *in,
		      const ctp_plan_opts *o, const ctp_plan_result *res)
{
	const char *peak_src = in->peak_source ? in->peak_source : "count";
	/* a peak a full table set is a floor: the headroom a ceiling */
	const char *least = in->peak_at_least ? "at least " : "";
	const char *most = in->peak_at_least ? "at most " : "";
	const ctp_evict_rule *ev = ctp_kernel_early_drop(&in->kernel);
	const ctp_conn_size *cs = ctp_kernel_conn_size(&in->kernel);
	char mem[32], slab[200], basis[96], now[320], p_new[24], p_ev[24],
		p_cur[24], ext[200], per_ns[320];
	int small;
	int changes = res->max_move != CTP_PLAN_KEEP ||
		      res->buckets_move != CTP_PLAN_KEEP;
	/* kube-proxy writes the max (render/text_plan.c prints no sysctl.d
	 * file then): a sure node, the CPUs known, maxPerCore not 0 */
	int kube_owns = in->k8s_level == CTP_K8S_NODE && res->kube_known &&
			!res->kube_leaves;
	char kube_back[128] = "";
	ctp_kube_write kw = ctp_plan_kube_write(in->kp_major, in->kp_minor);

	fmt_bytes(mem, sizeof(mem), (double)res->memory_bytes);
	/* a kube-proxy that may lower a larger max in force at its next
	 * start: say what it sets and whether that holds the peak */
	if (kube_owns && res->kube_max_now && res->kube_max_now < res->max &&
	    ctp_plan_kube_write(in->kp_major, in->kp_minor) !=
		    CTP_KUBE_WRITE_RAISE)
		snprintf(kube_back, sizeof(kube_back),
			 "; on this node kube-proxy's next start may set it "
			 "to %llu, which %s the peak",
			 (unsigned long long)res->kube_max_now,
			 res->kube_max_now >= res->max_needed ? "also holds"
							       : "does not hold");
	if (!strcmp(res->max_floor, "in force")) {
		if (add_reason(arr, "nf_conntrack_max %llu (in force, kept): "
			       "the peak of %s%llu entries (%s) needs %llu with "
			       "the %.0f%% margin; it leaves %s%.2f%% free. A max "
			       "is never lowered without --allow-shrink: a "
			       "smaller one frees no memory (entries are "
			       "allocated only as flows arrive), and drops "
			       "flows if the peak was missed%s",
			       (unsigned long long)res->max, least,
			       (unsigned long long)in->peak, peak_src,
			       (unsigned long long)res->max_needed,
			       100 * o->margin, most, res->headroom_pct,
			       kube_back))
			return CTP_EFAIL;
	} else if (!strcmp(res->max_floor, "kernel default")) {
		if (in->peak_at_least) {
			/* a full table hid the rest of the demand: the
			 * peak is a floor, the headroom a ceiling */
			if (add_reason(arr, "nf_conntrack_max %llu: the "
				       "kernel's own default for this "
				       "MemTotal; the peak is at least %llu "
				       "entries (%s: the table was full, so "
				       "demand went past it by an unknown "
				       "amount), which would leave at most "
				       "%.2f%% of it free (margin %.0f%%); "
				       "ctplan never goes below it without "
				       "--allow-shrink",
				       (unsigned long long)res->max,
				       (unsigned long long)in->peak, peak_src,
				       res->headroom_pct, 100 * o->margin))
				return CTP_EFAIL;
		} else if (add_reason(arr, "nf_conntrack_max %llu: the "
				      "kernel's own default for this "
				      "MemTotal, which keeps %.2f%% free at "
				      "the peak of %llu entries (%s; margin "
				      "%.0f%%); ctplan never goes below it "
				      "without --allow-shrink",
				      (unsigned long long)res->max,
				      res->headroom_pct,
				      (unsigned long long)in->peak, peak_src,
				      100 * o->margin))
			return CTP_EFAIL;
	} else if (add_reason(arr, "nf_conntrack_max %llu: the peak of %s%llu "
			      "entries (%s) leaves %s%.2f%% free, at least the "
			      "%.0f%% margin (rounded up to a multiple of %d)%s",
			      (unsigned long long)res->max, least,
			      (unsigned long long)in->peak, peak_src, most,
			      res->headroom_pct, 100 * o->margin, MAX_STEP,
			      !res->has_default && !in->cur_max
				      ? "; the kernel's default is unknown "
					"here (no MemTotal) and no max in "
					"force was read"
				      : "")) {
		return CTP_EFAIL;
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
			return CTP_EFAIL;
	} else
	if (add_reason(arr, "nf_conntrack_buckets %llu: %.2f nodes per bucket "
		       "at max put %.3g%% of entries in chains longer than %u "
		       "(target %.3g%%; the fewest buckets meeting it are "
		       "%llu); the ratio of this kernel's own defaults (max = "
		       "%u x buckets) would give %llu for this max%s",
		       (unsigned long long)res->buckets, res->load_at_max,
		       100 * res->long_share, o->max_chain,
		       100 * o->chain_share,
		       (unsigned long long)res->buckets_chain,
		       ctp_kernel_default_rule(&in->kernel)->factor,
		       (unsigned long long)res->buckets_aim,
		       chain_cost(&in->kernel)))
		return CTP_EFAIL;
	/* the drop share of a full table, set against today's settings:
	 * more buckets per max put fewer evictable entries in the buckets
	 * a new flow may evict from, so a full table drops more (item 8
	 * of the review: the comparison is with what is in force) */
	small = in->evict_listed == 0 ||
		ctp_plan_sample_small(in->evict_listed, in->evict_counted);
	evict_basis(in, basis, sizeof(basis));
	ctp_plan_fmt_share(p_new, sizeof(p_new), res->full_drop_p, small);
	ctp_plan_fmt_share(p_ev, sizeof(p_ev), in->evictable, small);
	now[0] = '\0';
	if (in->cur_max && in->cur_buckets &&
	    (in->cur_max != res->max || in->cur_buckets != res->buckets)) {
		double p_now = ctp_plan_full_drop_p(
			ev, (double)in->cur_buckets, (double)in->cur_max,
			in->evictable * (double)in->cur_max);
		ctp_plan_fmt_share(p_cur, sizeof(p_cur), p_now, small);
		snprintf(now, sizeof(now),
			 "; today, with max %llu and %llu buckets, it is %s%s",
			 (unsigned long long)in->cur_max,
			 (unsigned long long)in->cur_buckets, p_cur,
			 (double)res->buckets / (double)res->max >
					 (double)in->cur_buckets /
						 (double)in->cur_max &&
				 res->full_drop_p > p_now &&
				 strcmp(p_new, p_cur)
			 ? ": more buckets per max shorten the chains but "
			   "leave fewer entries in the buckets a new flow may "
			   "evict from, so a full table drops more of them"
			 : "");
	} else if (in->cur_max && in->cur_buckets)
		snprintf(now, sizeof(now), ", as today");
	if (add_reason(arr, "if the table fills anyway, %s of new flows "
		       "are dropped rather than admitted by evicting an "
		       "unassured entry (%s, %s of entries evictable%s)%s; "
		       "the margin is what keeps the table from filling%s",
		       p_new, ev->name, p_ev, basis, now, gc_clause(in)))
		return CTP_EFAIL;
	if (in->has_from && upgrade_reason(arr, in))
		return CTP_EFAIL;
	/* nothing changes: nothing to write, so no apply or where step */
	if (!changes)
		;
	else if (kube_owns) {
		if (add_reason(arr, "apply: the modprobe.d option sizes the "
			       "table when the module loads (hashsize=%llu) and "
			       "sets nf_conntrack_max to %d x %llu = %llu until "
			       "kube-proxy starts and writes its own%s%s",
			       (unsigned long long)res->buckets,
			       CTP_HASHSIZE_MAX_FACTOR,
			       (unsigned long long)res->buckets,
			       (unsigned long long)CTP_HASHSIZE_MAX_FACTOR *
				       res->buckets,
			       kw == CTP_KUBE_WRITE_EXACT ? ""
			       : kw == CTP_KUBE_WRITE_RAISE
				       ? "; this kube-proxy only raises the "
					 "max, so that larger one stays (its "
					 "entries take memory only as flows "
					 "come, but the table may grow past the "
					 "planned max)"
				       : " (a kube-proxy that only raises the "
					 "max keeps the larger one)",
			       res->buckets_move == CTP_PLAN_RAISE ||
					       res->buckets_move ==
						       CTP_PLAN_LOWER
				       ? "; a live resize (the hashsize "
					 "parameter) rehashes the whole table "
					 "under a lock, so do it at a quiet "
					 "time"
				       : ""))
			return CTP_EFAIL;
	} else if (add_reason(arr, "apply: hashsize=%llu at module load sets "
			      "nf_conntrack_max to %d x %llu = %llu until the "
			      "sysctl.d line applies, and that line is skipped "
			      "if the module is not loaded yet: the "
			      "modules-load.d line loads it first%s",
			      (unsigned long long)res->buckets,
			      CTP_HASHSIZE_MAX_FACTOR,
			      (unsigned long long)res->buckets,
			      (unsigned long long)CTP_HASHSIZE_MAX_FACTOR *
				      res->buckets,
			      res->buckets_move == CTP_PLAN_RAISE ||
					      res->buckets_move ==
						      CTP_PLAN_LOWER
				      ? "; a live resize (the hashsize "
					"parameter) rehashes the whole table "
					"under a lock, so do it at a quiet "
					"time"
				      : "")) {
		return CTP_EFAIL;
	}
	if (in->slab_bytes)
		snprintf(slab, sizeof(slab),
			 "%u bytes from this host's /proc/slabinfo: "
			 "%u-byte objects, %u per %u-page slab",
			 in->slab_bytes, in->slab_objsize,
			 in->slab_objperslab, in->slab_pages);
	else if (cs->measured)
		snprintf(slab, sizeof(slab), "%u bytes as measured on 6.18, "
			 "whose struct has 6.1's members; no /proc/slabinfo "
			 "in the input",
			 cs->slab_bytes);
	else
		snprintf(slab, sizeof(slab), "%u bytes: ctplan's size table "
			 "holds only the 6.1 layout, not measured on this "
			 "kernel (before 4.9 each entry also held a timer); "
			 "/proc/slabinfo in the input gives the real size",
			 cs->slab_bytes);
	ext_clause(in, ext, sizeof(ext));
	if (changes &&
	    add_reason(arr, "where: %s; write them from the host's own "
		       "network namespace (in any other, max and buckets are "
		       "read-only and hashsize fails with EOPNOTSUPP); if the "
		       "initramfs loads nf_conntrack (lsinitramfs or lsinitrd "
		       "lists it), rebuild it after writing the modprobe.d "
		       "file so the option is inside: update-initramfs -u "
		       "(Debian, Ubuntu) or dracut -f (RHEL, SUSE, Amazon "
		       "Linux)",
		       ctp_kernel_apply_rule(&in->kernel)->buckets_sysctl
			       ? "this kernel takes nf_conntrack_buckets by "
				 "sysctl (a resize) as well as the hashsize "
				 "module option"
			       : "this kernel's nf_conntrack_buckets sysctl is "
				 "read-only (0444), so the size is set by the "
				 "hashsize module option and, live, by "
				 "/sys/module/nf_conntrack/parameters/hashsize; "
				 "the sysctl.d file has no buckets line"))
		return CTP_EFAIL;
	if (add_reason(arr, "memory: %llu entries x %llu bytes (slab object "
		       "%s%s) + %llu bucket heads x %d bytes = %s%s",
		       (unsigned long long)res->max,
		       (unsigned long long)res->entry_bytes, slab, ext,
		       (unsigned long long)res->buckets, CTP_BUCKET_HEAD_BYTES,
		       mem, isfinite(res->memory_share) ? "" : "; MemTotal "
							       "unknown"))
		return CTP_EFAIL;
	/* nf_conntrack_max caps each namespace's own count
	 * (__nf_conntrack_alloc(), [6.1]: "ct_count > nf_conntrack_max"
	 * with cnet->count per namespace): the figure above is one
	 * namespace's full table */
	if (in->namespaces > 1) {
		char all[32];

		fmt_bytes(all, sizeof(all),
			  (double)res->memory_bytes +
				  (double)(in->namespaces - 1) *
					  (double)res->max *
					  (double)res->entry_bytes);
		snprintf(per_ns, sizeof(per_ns),
			 "; the max is per namespace, so the %u namespaces of "
			 "the input may hold %u x %llu entries, %s at worst, "
			 "and the shared hash table's chains grow past the "
			 "load modelled here",
			 in->namespaces, in->namespaces,
			 (unsigned long long)res->max, all);
	} else
		snprintf(per_ns, sizeof(per_ns),
			 "; this is one namespace's worst case: the max is per "
			 "namespace, so a host with N namespaces (containers, "
			 "routers) may hold N x max entries");
	if (isfinite(res->memory_share)) {
		if (add_reason(arr, "that is %.2f%% of MemTotal, and only "
			       "when the table is full: entries are allocated "
			       "as flows come%s",
			       100 * res->memory_share, per_ns))
			return CTP_EFAIL;
	} else if (add_reason(arr, "entries are allocated as flows come%s",
			      per_ns))
		return CTP_EFAIL;
	return 0;
}

int ctp_plan_add_sections(ctp_report *rep, const ctp_plan_input *in,
			  const ctp_plan_opts *o, const ctp_plan_result *res,
			  const char *peak_source)
{
	ctp_plan_section *s = calloc(1, sizeof(*s));

	if (!s)
		return CTP_ENOMEM;
	s->in = *in;
	s->o = *o;
	s->res = *res;
	s->has_plan = 1;
	s->winner = -1;
	snprintf(s->peak_source, sizeof(s->peak_source), "%s", peak_source);
	if (reasons_of(s, in, o, res)) {
		free(s);
		return CTP_EFAIL;
	}
	/* "recommendation" owns s; "defaults" shows part of it */
	if (ctp_report_add_section(rep, "recommendation", CTP_SEC_PLAN, s,
				   free) ||
	    ctp_report_add_section(rep, "defaults", CTP_SEC_DEFAULTS, s,
				   NULL))
		return CTP_ENOMEM;
	return 0;
}
