/*
 * The planner on one host (include/ctplan/plan.h): the peak from the
 * host's evidence, the recommendation computed before the other models
 * name a setting, and the "headroom" section: today's use, idle entries
 * a shorter timeout would free, arrivals, and what a full table does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/analyze.h"
#include "ctplan/flow.h"
#include "ctplan/inventory.h"
#include "ctplan/plan.h"

/* kube-proxy's tcp_timeout_established (24 h), a what-if below */
#define KUBE_ESTABLISHED 86400

static double headroom_pct(uint64_t max, uint64_t peak)
{
	if (!max)
		return NAN;
	return 100.0 * ((double)max - (double)peak) / (double)max;
}


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
	uint64_t gc_evictable;     /* of those, what the gc worker may kill */
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

/*
 * What the gc worker of a nearly full table may kill (include/ctplan/
 * kernel.h ctp_kernel_gc_evict): not assured, or TCP in a closing
 * state; never offloaded.  SCTP and DCCP closing states are not counted
 * (their states are rare in dumps; the count is then a lower bound).
 */
static int gc_evictable(const ctp_flow *f)
{
	if (f->flags & (CTP_F_OFFLOAD | CTP_F_HW_OFFLOAD))
		return 0;
	if (!(f->flags & CTP_F_ASSURED))
		return 1;
	return f->proto == 6 &&
	       (f->state == CTP_TCP_FIN_WAIT || f->state == CTP_TCP_CLOSE_WAIT ||
		f->state == CTP_TCP_LAST_ACK || f->state == CTP_TCP_TIME_WAIT ||
		f->state == CTP_TCP_CLOSE);
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

		if (!ctp_snapshot_flow_counted(snap, i))
			continue;
		ctp_snapshot_flow_get(snap, i, &fl);
		x = ctp_snapshot_extra(snap, f);
		m->all++;
		if (strcmp(ctp_snapshot_input(snap, f->input)->ns, m->ns))
			continue;
		m->total++;
		m->evictable += evictable(f);
		m->gc_evictable += gc_evictable(f);
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
static void idle_of(ctp_idle_class *c, uint32_t *left, size_t n, uint64_t t,
		    int t_from_input, const uint64_t *whatif, size_t nwhat)
{
	memset(c, 0, sizeof(*c));
	c->timeout_s = t;
	c->timeout_from_sysctl = t_from_input;
	c->entries = n;
	c->idle_median_s = NAN;
	/* the median only: no full sort (1M entries took 20 ms) */
	if (n) {
		uint32_t r = kth_u32(left, n, (n - 1) / 2);
		c->idle_median_s = r <= t ? (double)(t - r) : 0;
	}
	for (size_t w = 0; w < nwhat && c->nwhat < 2; w++) {
		uint64_t freed = 0;
		if (whatif[w] >= t)
			continue;
		/* idle >= T'  <=>  left <= T - T' */
		for (size_t i = 0; i < n; i++)
			freed += left[i] <= t - whatif[w];
		c->what_if[c->nwhat].timeout_s = whatif[w];
		c->what_if[c->nwhat].freed = freed;
		c->what_if[c->nwhat].freed_pct =
			n ? round(1e4 * (double)freed / (double)n) / 100 : 0.0;
		c->nwhat++;
	}
}

/* Timeout a new entry of this kind lives to if nothing more is seen. */
static uint64_t class_timeout(const ctp_snapshot *snap,
			      const ctp_timeouts *d, const ctp_flow *f)
{
	if (f->proto == CTP_P_TCP)
		return f->state == CTP_TCP_ESTABLISHED
			       ? sysctl_or(snap,
					   "net.netfilter.nf_conntrack_tcp_"
					   "timeout_established",
					   d->tcp_established, NULL)
			       : sysctl_or(snap,
					   "net.netfilter.nf_conntrack_tcp_"
					   "timeout_time_wait",
					   d->tcp_time_wait, NULL);
	if (f->proto == CTP_P_UDP)
		return (f->flags & CTP_F_ASSURED)
			       ? sysctl_or(snap,
					   "net.netfilter.nf_conntrack_udp_"
					   "timeout_stream",
					   d->udp_stream, NULL)
			       : sysctl_or(snap,
					   "net.netfilter.nf_conntrack_udp_"
					   "timeout",
					   d->udp, NULL);
	if (ctp_proto_is_icmp(f->proto))
		return sysctl_or(snap,
				 "net.netfilter.nf_conntrack_icmp_timeout",
				 d->icmp, NULL);
	return sysctl_or(snap, "net.netfilter.nf_conntrack_generic_timeout",
			 d->generic, NULL);
}

/*
 * Arrival rate from timestamps: entries whose start (-o ktimestamp) or
 * age (delta-time=) falls in the last `window` seconds before the newest
 * start (the dump time is not in the dump), and the count Little's law
 * gives if each such flow lived to its kind's timeout.
 */
static void rate_of(const ctp_snapshot *snap, const ctp_timeouts *d,
		    const mix *m, ctp_headroom_section *hr)
{
	size_t n = ctp_snapshot_flow_count(snap);
	const double window = 60;
	ctp_flow fl;
	const ctp_flow *f = &fl;
	double arrivals = 0, steady = 0;
	const char *src;

	if (!m->has_start && !m->has_delta)
		return;
	src = m->has_start ? "start (-o ktimestamp)" : "delta-time";
	for (size_t i = 0; i < n; i++) {
		const ctp_flow_extra *x;
		int in;

		if (!ctp_snapshot_flow_counted(snap, i))
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
		steady += (double)class_timeout(snap, d, f) / window;
	}
	hr->has_rate = 1;
	hr->rate_source = src;
	hr->rate_window_s = window;
	hr->rate_new_per_s = arrivals / window;
	hr->rate_steady_state = round(steady);
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
						    in->mem_kb * 1024 / ctp_kernel_page_size(),
						    ctp_kernel_page_size(),
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
	in->kernel = ctp_host_kernel(host, &in->kernel_source);
	if (ctp_host_upgrade_get(host) &&
	    ctp_host_upgrade_get(host)->from.upstream.major >= 2) {
		in->has_from = 1;
		in->from = ctp_host_upgrade_get(host)->from.upstream;
		in->cur_max_projected = ctp_host_upgrade_get(host)->max_moved;
		in->cur_buckets_projected =
			ctp_host_upgrade_get(host)->buckets_moved;
	}
	in->bits = ctp_host_bits(host);
	in->mem_kb = ctp_host_mem_kb(host)->value;
	/* --cores, else the CPU rows of conntrack -S */
	in->cores = ctp_host_cores(host)->known
			    ? (unsigned)ctp_host_cores(host)->value
			    : 0;
	in->cores_given = ctp_host_cores(host)->known &&
			  ctp_host_cores(host)->source &&
			  !strcmp(ctp_host_cores(host)->source, "--cores");
	{
		const ctp_slab_info *sl = ctp_snapshot_slab(snap);
		if (sl) {
			in->slab_objsize = sl->objsize;
			in->slab_objperslab = sl->objperslab;
			in->slab_pages = sl->pagesperslab;
			/* the slab's pages shared by its objects: what an
			 * entry costs, the slab's unused tail included */
			in->slab_bytes = (unsigned)(
				(uint64_t)sl->pagesperslab *
				ctp_kernel_page_size() / sl->objperslab);
			if (in->slab_bytes < sl->objsize)
				in->slab_bytes = sl->objsize;
		}
	}
	{
		const ctp_host_k8s *k = ctp_host_k8s_get(host);
		const ctp_kube_proxy *kp = k->kp;
		in->k8s_level = k->level;
		snprintf(in->k8s_evidence, sizeof(in->k8s_evidence), "%s",
			 k->evidence);
		if (kp && kp->has_per_core) {
			in->kp_per_core = kp->per_core;
			in->kp_per_core_src =
				kp->per_core_from == CTP_KP_CONFIG ? "configuration"
				: kp->config_flag
					? "flag defaults in its log, which its "
					  "--config file may override"
					: "flags";
		}
		if (kp && kp->has_min) {
			in->kp_min = kp->min;
			in->kp_min_src =
				kp->min_from == CTP_KP_CONFIG ? "configuration"
				: kp->config_flag
					? "flag defaults in its log, which its "
					  "--config file may override"
					: "flags";
		}
		if (kp && kp->has_set_max) {
			in->kp_has_set_max = 1;
			in->kp_set_max = kp->set_max;
		}
		if (kp && kp->has_version) {
			snprintf(in->kp_version, sizeof(in->kp_version), "%s",
				 kp->version);
			in->kp_major = kp->ver_major;
			in->kp_minor = kp->ver_minor;
		}
		if (kp && kp->config_flag) {
			in->kp_config_flag = 1;
			snprintf(in->kp_config_path,
				 sizeof(in->kp_config_path), "%s",
				 kp->config_path);
		}
		if (kp && kp->has_tcp_established) {
			in->kp_has_tcp_est = 1;
			in->kp_tcp_est = kp->tcp_established_s;
			in->kp_tcp_est_src =
				kp->tcp_established_from == CTP_KP_CONFIG
					? "configuration"
					: "flags";
		}
	}
	in->ext_mask = m->ext;
	if (sysctl_or(snap, "net.netfilter.nf_conntrack_acct", 0, NULL))
		in->ext_mask |= CTP_EXT_ACCT;
	if (sysctl_or(snap, "net.netfilter.nf_conntrack_timestamp", 0, NULL))
		in->ext_mask |= CTP_EXT_TSTAMP;
	if (sysctl_or(snap, "net.netfilter.nf_conntrack_events", 1, NULL))
		in->ext_mask |= CTP_EXT_ECACHE;
	in->evictable = m->total ? (double)m->evictable / (double)m->total
				 : o->evictable;
	in->evict_listed = m->total;
	in->evict_counted = ctp_host_count(host)->known
				    ? ctp_host_count(host)->value
				    : 0;
	in->gc_evictable = m->total ? (double)m->gc_evictable /
					      (double)m->total
				    : NAN;
	in->cur_max = ctp_host_max(host)->value;
	in->cur_buckets = ctp_host_buckets(host)->value;
	in->namespaces = (unsigned)ctp_host_ns_count(host);
	in->peak = ctp_host_peak(host, &win);
	in->peak_source = win ? ctp_peak_kind_name(win->kind) : NULL;
	in->peak_at_least = win && win->at_least_max;
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

/* The host's peak evidence into the section, with the one that set the
 * peak. */
static void evidence_of(const ctp_host *host, ctp_plan_section *s)
{
	const ctp_peak_evidence *win;

	(void)ctp_host_peak(host, &win);
	s->has_evidence = 1;
	s->winner = -1;
	for (size_t i = 0; i < ctp_host_evidence_count(host) &&
			   s->nev < CTP_PEAK_KIND_COUNT;
	     i++) {
		const ctp_peak_evidence *e = ctp_host_evidence(host, i);

		if (e == win)
			s->winner = (int)s->nev;
		s->ev[s->nev++] = *e;
	}
}

/* The settings in force against the plan: the same figures and actions
 * as the recommendation.  0 or CTP_ENOMEM. */
static int plan_findings(const ctp_analysis *a, ctp_report *rep)
{
	const ctp_plan_opts *o = &a->plan_opts;
	const ctp_plan_result *res = &a->plan;
	const ctp_host_num *hm = ctp_host_max(a->host),
			   *hb = ctp_host_buckets(a->host);
	uint64_t max = hm->value, buckets = hb->value, peak = a->plan_in.peak;
	char abuf[80], bbuf[80];
	/* set when the recommendation raises the setting, as below */
	const char *max_act = ctp_max_action(a, abuf, sizeof(abuf));
	const char *bucket_act = ctp_bucket_action(a, bbuf, sizeof(bbuf));
	double long_share;

	if (hm->known && max && res->max > max &&
	    headroom_pct(max, peak) < 100 * o->margin &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "plan.max_low",
		    headroom_pct(max, peak), 100 * o->margin, max_act,
		    "at the planned peak of %s%llu entries (%s) "
		    "nf_conntrack_max %llu leaves %s%.1f%% free, under the "
		    "%.0f%% margin; the recommendation raises it to %llu",
		    a->plan_in.peak_at_least ? "at least " : "",
		    (unsigned long long)peak, a->plan_in.peak_source,
		    (unsigned long long)max,
		    a->plan_in.peak_at_least ? "at most " : "",
		    headroom_pct(max, peak),
		    100 * o->margin, (unsigned long long)res->max))
		return CTP_ENOMEM;
	if (!hm->known || !max || !hb->known || !buckets ||
	    res->buckets <= buckets)
		return 0;
	long_share = ctp_plan_long_share(2.0 * (double)max / (double)buckets,
					 o->max_chain);
	if (long_share > o->chain_share &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "plan.buckets_low", long_share,
		    o->chain_share, bucket_act,
		    "a full table of %llu entries in %llu buckets puts "
		    "%.2g%% of entries in chains longer than %u; the "
		    "recommendation raises the buckets to %llu",
		    (unsigned long long)max, (unsigned long long)buckets,
		    100 * long_share, o->max_chain,
		    (unsigned long long)res->buckets))
		return CTP_ENOMEM;
	return 0;
}

int ctp_plan_report(const ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	static const uint64_t est_whatif[] = { KUBE_ESTABLISHED, 3600 };
	static const uint64_t udp_whatif[] = { 60, 30 };
	const ctp_snapshot *snap = a->snap;
	const ctp_host *host = a->host;
	const ctp_plan_input *in = &a->plan_in;
	const ctp_plan_result *res = &a->plan;
	const ctp_inventory *inv =
		ctp_report_get(rep, "entries", CTP_SEC_ENTRIES);
	const ctp_host_num *hc = ctp_host_count(host);
	const ctp_timeouts *d = ctp_kernel_timeouts(&in->kernel);
	ctp_headroom_section *hr;
	ctp_plan_section *ps;
	const mix *m;
	int from_in, from_udp;
	uint64_t t_est, t_udp;
	mix *mm;

	if (!a->mix)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "the planner's sections need the plan "
				     "model first");
	m = mm = &a->mix->m;
	hr = calloc(1, sizeof(*hr));
	if (!hr || ctp_report_add_section(rep, "headroom", CTP_SEC_HEADROOM, hr,
					  free))
		goto oom;
	/* the kernel's defaults, used where the input lacks a setting */
	if (res->has_default) {
		hr->max = res->def.max;
		hr->max_source = "kernel default";
	}
	if (ctp_host_max(host)->known) {
		hr->max = ctp_host_max(host)->value;
		hr->max_source = "sysctl";
	}
	hr->count = hc->known ? hc->value : m->total;
	t_est = sysctl_or(snap,
			  "net.netfilter.nf_conntrack_tcp_timeout_established",
			  d->tcp_established, &from_in);
	idle_of(&hr->tcp_established, mm->est_left, m->nest, t_est, from_in,
		est_whatif, 2);
	/* kube-proxy sets it at every start (analyzer/planner.c, near
	 * KUBE_PER_CORE); 0 leaves it as it is.  The sysctl read is what
	 * was in force at capture time, and stays the figure. */
	if (in->k8s_level == CTP_K8S_NODE &&
	    (!in->kp_has_tcp_est || in->kp_tcp_est)) {
		hr->tcp_established.owner = "kube-proxy";
		hr->tcp_established.owner_timeout_s =
			in->kp_has_tcp_est ? in->kp_tcp_est : KUBE_ESTABLISHED;
		hr->tcp_established.owner_source =
			in->kp_has_tcp_est ? in->kp_tcp_est_src : "default";
	}
	t_udp = sysctl_or(snap, "net.netfilter.nf_conntrack_udp_timeout_stream",
			  d->udp_stream, &from_udp);
	idle_of(&hr->udp_stream, mm->udp_left, m->nudp, t_udp, from_udp,
		udp_whatif, 2);
	if (inv) {
		hr->by_protocol = &inv->protocol;
		hr->by_state = &inv->state;
		hr->by_zone = &inv->zone;
	}
	hr->growth = a->plan_opts.growth;
	hr->peak = in->peak;
	hr->peak_source = in->peak_source;
	rate_of(snap, d, m, hr);
	hr->rule = ctp_kernel_early_drop(&in->kernel);
	hr->ns = m->ns;
	hr->ns_entries = m->total;
	hr->ns_evictable = m->evictable;
	hr->has_list = m->total > 0;
	hr->evictable_share = in->evictable;
	hr->full_drop_p = a->table_full_drop_p;
	hr->gc = ctp_kernel_gc_evict(&in->kernel);
	hr->ns_gc_evictable = m->gc_evictable;
	if (hr->max && m->total) {
		/* a full table holds max entries in the mix of the dump; the
		 * gc pass kills while count >= threshold */
		double share = (double)m->gc_evictable / (double)m->total;
		uint64_t can = (uint64_t)(share * (double)hr->max);
		hr->gc_threshold = ctp_kernel_gc_threshold(hr->max);
		hr->gc_frees = hr->max - hr->gc_threshold + 1;
		if (can < hr->gc_frees)
			hr->gc_frees = can;
	}

	if (!a->has_plan) {
		ps = calloc(1, sizeof(*ps));
		if (!ps)
			goto oom;
		snprintf(ps->skipped, sizeof(ps->skipped), "%s",
			 a->plan_skipped);
		evidence_of(host, ps);
		if (ctp_report_add_section(rep, "recommendation", CTP_SEC_PLAN,
					   ps, free))
			goto oom;
		return 0;
	}
	if (ctp_plan_add_sections(rep, in, &a->plan_opts, res,
				  in->peak_source))
		goto oom;
	ps = ctp_report_get_mut(rep, "recommendation", CTP_SEC_PLAN);
	if (!ps)
		goto oom;
	evidence_of(host, ps);
	return plan_findings(a, rep) ? ctp_error_set(err, CTP_ENOMEM, NULL, 0,
						     0, "out of memory")
				     : 0;
oom:
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
			     "out of memory in the planner");
}
