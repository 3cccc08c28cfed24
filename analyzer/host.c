/*
 * Host context (include/ctplan/host.h): the facts every model shares,
 * each read once from the snapshot and the options, with its source,
 * and the peak evidence the planner sizes for.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/host.h"
#include "ctplan/plan.h"

#define MAX_EVIDENCE CTP_PEAK_KIND_COUNT

struct ctp_host {
	const ctp_snapshot *snap;
	ctp_kver kernel;
	const char *kernel_src;
	char kernel_note[200];
	ctp_kernel_id kid;         /* the build modelled */
	int has_upgrade;           /* --to-kernel */
	ctp_host_upgrade up;
	ctp_host_num count, max, buckets, mem_kb, cores;
	unsigned bits;
	uint64_t listed;
	int has_listing, has_data;
	/* namespace labels, each once, with their listed entries */
	const char **ns;
	uint64_t *ns_entries;
	size_t nns, main_ns;
	ctp_host_counters ctr;
	ctp_host_k8s k8s;
	ctp_peak_evidence ev[MAX_EVIDENCE];
	size_t nev;
	size_t winner;
};

static const char *const peak_names[CTP_PEAK_KIND_COUNT] = {
	"count", "snapshots", "--peak", "--growth", "kernel log", "counters",
};

const char *ctp_peak_kind_name(ctp_peak_kind k)
{
	return (unsigned)k < CTP_PEAK_KIND_COUNT ? peak_names[k] : NULL;
}

static void num_set(ctp_host_num *n, uint64_t v, const char *src)
{
	n->known = 1;
	n->value = v;
	n->source = src;
}

static int sysctl_num(const ctp_snapshot *snap, const char *key,
		      ctp_host_num *n, const char *src)
{
	uint64_t v;

	if (!ctp_snapshot_sysctl_u64(snap, key, &v))
		return 0;
	num_set(n, v, src);
	return 1;
}

/* 32 when uname names a 32-bit machine, else 64 */
static unsigned machine_bits(const ctp_snapshot *snap)
{
	static const char *const m32[] = { "i386", "i486", "i586", "i686",
					   "armv7l", "armv6l", "mips",
					   "ppc" };
	const ctp_kernel_info *k = ctp_snapshot_kernel(snap);

	if (!k)
		return 64;
	for (size_t i = 0; i < sizeof(m32) / sizeof(m32[0]); i++)
		if (strcmp(k->machine, m32[i]) == 0)
			return 32;
	return 64;
}

/* The input's own kernel: uname (with the upstream patch level its
 * version text may name), else sysctl -a's kernel.osrelease
 * ("5.10.215-203.850.amzn2.x86_64"); 0 if neither. */
static int input_kernel(const ctp_snapshot *snap, ctp_kernel_id *id,
			const char **src)
{
	const ctp_kernel_info *k = ctp_snapshot_kernel(snap);
	const char *r = ctp_snapshot_sysctl(snap, "kernel.osrelease");
	ctp_error err = CTP_ERROR_INIT;

	if (k && k->major >= 2 && k->minor >= 0) {
		*src = "uname";
		if (k->release[0] &&
		    ctp_kernel_identify(k->release, strlen(k->release),
					k->patch, id, &err) == 0)
			return 1;
		/* a kernel set without its release string (tests) */
		memset(id, 0, sizeof(*id));
		(void)ctp_kver_from_info(k, &id->upstream);
		id->vendor = "upstream";
		id->source = "the version as numbered upstream";
		id->exact = 1;
		return 1;
	}
	if (r && ctp_kernel_identify(r, strlen(r), -1, id, &err) == 0) {
		/* sysctl -a's kernel.version is uname -v: Debian's names the
		 * upstream version ("... Debian 6.1.76-1 (2024-02-01)") */
		const char *kv = ctp_snapshot_sysctl(snap, "kernel.version");
		const char *d = kv ? strstr(kv, "Debian ") : NULL;
		ctp_kver dv;

		if (d && ctp_kver_parse(d + 7, strlen(d + 7), &dv, &err) == 0 &&
		    dv.major == id->upstream.major &&
		    dv.minor == id->upstream.minor && dv.patch > 0)
			(void)ctp_kernel_identify(r, strlen(r), dv.patch, id,
						  &err);
		*src = "sysctl kernel.osrelease";
		return 1;
	}
	return 0;
}

/* The source names where the string came from; the build it names
 * (vendor, upstream version, assumption) is ctp_host_kernel_id(), said
 * in the kernel findings (analyzer/kernel_report.c).  A static string:
 * sections keep the pointer past the host. */
static void kernel_source(ctp_host *h, const char *src)
{
	h->kernel_src = src;
}

static void pick_kernel(ctp_host *h, const ctp_analyze_opts *opts)
{
	ctp_error err = CTP_ERROR_INIT;
	const char *src = NULL;
	char kv[32];

	if (opts && opts->to_kernel_release) {
		h->has_upgrade = 1;
		if (!input_kernel(h->snap, &h->up.from, &src)) {
			memset(&h->up.from, 0, sizeof(h->up.from));
			h->up.from.upstream = (ctp_kver){ 0, 0, -1 };
			h->up.from.vendor = "unknown";
			h->up.from.source = "no uname in the input";
			src = "unknown";
		}
		h->up.from_source = src;
	}
	if (opts && opts->to_kernel_release &&
	    ctp_kernel_identify(opts->to_kernel_release,
				strlen(opts->to_kernel_release), -1,
				&h->kid, &err) == 0) {
		kernel_source(h, "--to-kernel");
	} else if (opts && opts->kernel_release &&
		   ctp_kernel_identify(opts->kernel_release,
				       strlen(opts->kernel_release), -1,
				       &h->kid, &err) == 0) {
		kernel_source(h, "--kernel");
	} else if (opts && opts->has_kernel) {
		memset(&h->kid, 0, sizeof(h->kid));
		h->kid.upstream = opts->kernel;
		h->kid.vendor = "upstream";
		h->kid.source = "the version as numbered upstream";
		h->kid.exact = 1;
		h->kernel_src = "--kernel";
	} else if (input_kernel(h->snap, &h->kid, &src)) {
		kernel_source(h, src);
	} else {
		memset(&h->kid, 0, sizeof(h->kid));
		h->kid.upstream = ctp_kernel_newest();
		h->kid.vendor = "upstream";
		h->kid.source = "assumed: the newest known";
		h->kernel_src = "assumed: the newest known";
		ctp_kver_format(&h->kid.upstream, kv, sizeof(kv));
		snprintf(h->kernel_note, sizeof(h->kernel_note),
			 "no uname in the input and no --kernel: kernel %s "
			 "(the newest ctplan knows) assumed", kv);
	}
	h->kernel = h->kid.upstream;
}

/*
 * --to-kernel: a setting equal to the old kernel's default for this
 * MemTotal relies on it and takes the new kernel's default.  max = 8 x
 * buckets is a hashsize= module option with max following it
 * (CTP_HASHSIZE_MAX_FACTOR, every version): it stays.
 */
static void apply_upgrade(ctp_host *h)
{
	ctp_host_upgrade *u = &h->up;
	uint64_t pages;

	u->max_before = h->max;
	u->buckets_before = h->buckets;
	if (!h->mem_kb.known || u->from.upstream.major < 2)
		return;
	pages = h->mem_kb.value * 1024 / ctp_kernel_page_size();
	if (ctp_kernel_table_default(&u->from.upstream, pages,
				     ctp_kernel_page_size(), h->bits,
				     &u->def_from) ||
	    ctp_kernel_table_default(&h->kernel, pages,
				     ctp_kernel_page_size(), h->bits,
				     &u->def_to))
		return;
	u->has_defaults = 1;
	if (h->buckets.known && h->buckets.value == u->def_from.buckets) {
		u->buckets_moved = 1;
		num_set(&h->buckets, u->def_to.buckets,
			"the new kernel's default (today's is the old "
			"kernel's default)");
	}
	if (h->max.known && h->max.value == u->def_from.max) {
		u->max_moved = 1;
		num_set(&h->max, u->def_to.max,
			"the new kernel's default (today's is the old "
			"kernel's default)");
	}
}

static void pick_settings(ctp_host *h, const ctp_analyze_opts *opts)
{
	const ctp_snapshot *s = h->snap;
	const ctp_plan_opts *po = opts ? opts->plan : NULL;
	uint64_t v;
	int src;

	if (ctp_snapshot_count(s, &v))
		num_set(&h->count, v, "conntrack -C");
	else if (!sysctl_num(s, "net.netfilter.nf_conntrack_count", &h->count,
			     "sysctl net.netfilter.nf_conntrack_count") &&
		 ctp_snapshot_stat(s, CTP_STAT_ENTRIES, &v))
		num_set(&h->count, v, "/proc/net/stat/nf_conntrack entries");
	else if (!h->count.known && h->has_listing)
		num_set(&h->count, h->listed, "entries listed");
	if (!sysctl_num(s, "net.netfilter.nf_conntrack_max", &h->max,
			"sysctl net.netfilter.nf_conntrack_max"))
		sysctl_num(s, "net.nf_conntrack_max", &h->max,
			   "sysctl net.nf_conntrack_max");
	if (!sysctl_num(s, "net.netfilter.nf_conntrack_buckets", &h->buckets,
			"sysctl net.netfilter.nf_conntrack_buckets"))
		sysctl_num(s, "module.nf_conntrack.hashsize", &h->buckets,
			   "/sys/module/nf_conntrack/parameters/hashsize");
	if (po && po->mem_kb)
		num_set(&h->mem_kb, po->mem_kb, "--mem");
	else if (ctp_snapshot_meminfo(s, "MemTotal", &v))
		num_set(&h->mem_kb, v, "/proc/meminfo MemTotal");
	if (po && po->cores)
		num_set(&h->cores, po->cores, "--cores");
	else if ((v = ctp_snapshot_stat_cpus(s, &src)) > 0)
		num_set(&h->cores, v, "conntrack -S rows");
	h->bits = machine_bits(s);
}

/* Entries listed, per namespace label; a listing at all. */
static int scan_flows(ctp_host *h)
{
	const ctp_snapshot *s = h->snap;
	size_t ni = ctp_snapshot_input_count(s), n = ctp_snapshot_flow_count(s);
	uint64_t *per = calloc(ni ? ni : 1, sizeof(*per));
	size_t *label = malloc((ni ? ni : 1) * sizeof(*label));

	h->ns = malloc((ni ? ni : 1) * sizeof(*h->ns));
	h->ns_entries = calloc(ni ? ni : 1, sizeof(*h->ns_entries));
	if (!per || !label || !h->ns || !h->ns_entries) {
		free(per);
		free(label);
		return CTP_ENOMEM;
	}
	for (size_t i = 0; i < ni; i++) {
		const ctp_input_info *in = ctp_snapshot_input(s, i);
		size_t j = 0;

		if (in->formats & (CTP_FMT_LIST | CTP_FMT_LIST_EXT |
				   CTP_FMT_PROC | CTP_FMT_XML | CTP_FMT_SAVE))
			h->has_listing = 1;
		if (in->formats & ~(unsigned)CTP_FMT_UNAME)
			h->has_data |= in->records > 0;
		while (j < h->nns && strcmp(h->ns[j], in->ns))
			j++;
		if (j == h->nns)
			h->ns[h->nns++] = in->ns;
		label[i] = j;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t in = ctp_snapshot_flow_input(s, i);

		if (!ctp_snapshot_flow_counted(s, i))
			continue;
		h->listed++;
		if (in < ni)
			per[in]++;
	}
	/* entries added by hand (tests) carry no format: they list too */
	if (h->listed) {
		h->has_listing = 1;
		h->has_data = 1;
	}
	for (size_t i = 0; i < ni; i++)
		h->ns_entries[label[i]] += per[i];
	h->main_ns = 0;
	for (size_t j = 1; j < h->nns; j++)
		if (h->ns_entries[j] > h->ns_entries[h->main_ns])
			h->main_ns = j;
	free(per);
	free(label);
	return 0;
}

static void read_counters(ctp_host *h)
{
	const ctp_snapshot *s = h->snap;
	ctp_host_counters *c = &h->ctr;
	/* the counters were raised by the input's kernel, also when it is
	 * judged on another (--to-kernel) */
	const ctp_counter_rule *r = ctp_kernel_counter_rule(
		h->has_upgrade && h->up.from.upstream.major >= 2
			? &h->up.from.upstream
			: &h->kernel);
	uint64_t lost;
	int src;

	memset(c, 0, sizeof(*c));
	c->rule = r->versions;
	c->rule_source = r->source;
	if (!ctp_snapshot_stat_cpus(s, &src) ||
	    !ctp_snapshot_stat(s, CTP_STAT_DROP, &c->drop))
		return;
	c->read = 1;
	c->has_early_drop =
		ctp_snapshot_stat(s, CTP_STAT_EARLY_DROP, &c->early_drop);
	c->has_insert_failed =
		ctp_snapshot_stat(s, CTP_STAT_INSERT_FAILED, &c->insert_failed);
	c->has_chaintoolong =
		ctp_snapshot_stat(s, CTP_STAT_CHAINTOOLONG, &c->chaintoolong);
	c->has_clash_resolve =
		ctp_snapshot_stat(s, CTP_STAT_CLASH_RESOLVE, &c->clash_resolve);
	(void)ctp_snapshot_stat(s, CTP_STAT_INVALID, &c->invalid);
	(void)ctp_snapshot_stat(s, CTP_STAT_ERROR, &c->error);
	(void)ctp_snapshot_stat(s, CTP_STAT_FOUND, &c->found);

	/*
	 * insert_failed = clashes lost + chains too long (+ clashes
	 * resolved, on kernels without clash_resolve); drop = full table
	 * + clashes lost.  Where resolved clashes hide in insert_failed,
	 * the clashes lost are at most insert_failed, so the full-table
	 * drops are a lower bound.
	 */
	c->chain_drops = r->has_chaintoolong ? c->chaintoolong : 0;
	lost = r->chain_in_insert_failed && c->insert_failed > c->chain_drops
		       ? c->insert_failed - c->chain_drops
		       : (r->chain_in_insert_failed ? 0 : c->insert_failed);
	/* a lost clash drops its packet whether or not drop counts it */
	c->clash_drops = r->clash_in_drop ? (lost < c->drop ? lost : c->drop)
					  : lost;
	c->full_drops = c->drop - (r->clash_in_drop ? c->clash_drops : 0);
	if (r->chain_in_drop)
		c->full_drops -= c->chain_drops < c->full_drops
					 ? c->chain_drops
					 : c->full_drops;
	c->split_known = c->has_insert_failed &&
			 (c->has_chaintoolong || !r->has_chaintoolong) &&
			 !(r->resolved_in_insert_failed && lost > 0);
	c->full_seen = c->early_drop > 0 || (c->has_insert_failed &&
					     c->full_drops > 0);
}

static ctp_peak_evidence *add_ev(ctp_host *h, ctp_peak_kind kind,
				 uint64_t entries, int at_least_max)
{
	ctp_peak_evidence *e = &h->ev[h->nev++];

	e->kind = kind;
	e->entries = entries;
	e->at_least_max = at_least_max;
	e->detail[0] = '\0';
	return e;
}

static int gather_evidence(ctp_host *h, const ctp_analyze_opts *opts)
{
	const ctp_plan_opts *po = opts ? opts->plan : NULL;
	const ctp_snapshot *s = h->snap;
	ctp_history_sum hs;
	ctp_peak_evidence *e;
	uint64_t best = 0, max = h->max.value;

	/* today's count: a floor that proves nothing beyond itself */
	if (h->count.known) {
		e = add_ev(h, CTP_PEAK_COUNT, h->count.value, 0);
		snprintf(e->detail, sizeof(e->detail),
			 "%llu entries at capture time (%s): a lower bound; "
			 "the table may have held more at another time",
			 (unsigned long long)h->count.value,
			 h->count.source);
	}
	/* several listings of the same host: the largest wins */
	const char *best_ns = "";

	for (size_t i = 0; i < ctp_snapshot_input_count(s); i++) {
		const ctp_input_info *in = ctp_snapshot_input(s, i);
		if (in->flows > best) {
			best = in->flows;
			best_ns = in->ns;
		}
	}
	if (h->count.known && best > h->count.value) {
		size_t nl = 0;

		/* every listing given, an empty one too */
		for (size_t i = 0; i < ctp_snapshot_input_count(s); i++)
			nl += (ctp_snapshot_input(s, i)->formats &
			       (CTP_FMT_LIST | CTP_FMT_LIST_EXT |
				CTP_FMT_PROC | CTP_FMT_XML | CTP_FMT_SAVE)) ||
			      ctp_snapshot_input(s, i)->flows > 0;
		e = add_ev(h, CTP_PEAK_SNAPSHOTS, best, 0);
		snprintf(e->detail, sizeof(e->detail),
			 "the largest of %zu listings given holds %llu "
			 "entries%s%s%s, more than the %llu counted now",
			 nl, (unsigned long long)best,
			 *best_ns ? " (namespace '" : "", best_ns,
			 *best_ns ? "')" : "",
			 (unsigned long long)h->count.value);
	}
	if (po && po->peak) {
		e = add_ev(h, CTP_PEAK_USER, po->peak, 0);
		snprintf(e->detail, sizeof(e->detail),
			 "--peak %llu", (unsigned long long)po->peak);
	} else if (po && po->growth != 1 && h->count.known) {
		uint64_t p = (uint64_t)ceil((double)h->count.value *
					    po->growth);
		e = add_ev(h, CTP_PEAK_GROWTH, p, 0);
		snprintf(e->detail, sizeof(e->detail),
			 "today's %llu entries x --growth %g",
			 (unsigned long long)h->count.value, po->growth);
	}
	if (ctp_history_summary(s, opts ? opts->burst_gap : 60, &hs))
		return CTP_ENOMEM;
	if (hs.table_full_bursts && h->max.known && max) {
		char where[80] = "";

		if (hs.netns_count == 1 && !hs.no_netns)
			snprintf(where, sizeof(where),
				 " of namespace %u", hs.netns);
		else if (hs.netns_count > 1)
			snprintf(where, sizeof(where),
				 " of %zu namespaces", hs.netns_count);
		e = add_ev(h, CTP_PEAK_KERNEL_LOG, max, 1);
		snprintf(e->detail, sizeof(e->detail),
			 "the kernel log shows the table%s full %llu "
			 "time%s (at least %llu packets dropped): it "
			 "reached nf_conntrack_max, %llu if that was the "
			 "max then, and demand went past it",
			 where, (unsigned long long)hs.table_full_bursts,
			 hs.table_full_bursts == 1 ? "" : "s",
			 (unsigned long long)hs.table_full_least,
			 (unsigned long long)max);
	}
	if (h->ctr.full_seen && h->max.known && max) {
		const ctp_host_counters *c = &h->ctr;
		char what[160];

		if (c->early_drop && c->full_drops)
			snprintf(what, sizeof(what),
				 "%llu evictions (early_drop) and %llu drops "
				 "of a full table",
				 (unsigned long long)c->early_drop,
				 (unsigned long long)c->full_drops);
		else if (c->early_drop)
			snprintf(what, sizeof(what),
				 "%llu evictions (early_drop), which happen "
				 "only when the table is full",
				 (unsigned long long)c->early_drop);
		else
			snprintf(what, sizeof(what),
				 "%llu drops of a full table",
				 (unsigned long long)c->full_drops);
		e = add_ev(h, CTP_PEAK_COUNTERS, max, 1);
		snprintf(e->detail, sizeof(e->detail),
			 "conntrack -S counts %s since the counters started (boot, or the namespace's creation): the table "
			 "reached nf_conntrack_max (%llu if unchanged since)",
			 what, (unsigned long long)max);
	}
	h->winner = 0;
	for (size_t i = 1; i < h->nev; i++)
		if (h->ev[i].entries > h->ev[h->winner].entries)
			h->winner = i;
	if (hs.table_full_bursts)
		h->has_data = 1;
	return 0;
}

/* path has a component that starts with name */
static int path_component(const char *path, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = path; (p = strstr(p, name)) != NULL; p++)
		if ((p == path || p[-1] == '/' || p[-1] == '!') &&
		    (p[n] == '/' || p[n] == '.' || p[n] == '_' ||
		     p[n] == '-' || p[n] == '\0'))
			return 1;
	return 0;
}

/* path ends with tail, after a '/' or '!' or as a whole */
static int path_ends(const char *path, const char *tail)
{
	size_t n = strlen(path), t = strlen(tail);

	return n >= t && strcmp(path + n - t, tail) == 0 &&
	       (n == t || path[n - t - 1] == '/' || path[n - t - 1] == '!');
}

static void k8s_say(ctp_host *h, const char *what, const char *path)
{
	size_t used = strlen(h->k8s.evidence);

	snprintf(h->k8s.evidence + used, sizeof(h->k8s.evidence) - used,
		 "%s%s%s%s%s", used ? "; " : "", what, path ? " (" : "",
		 path ? path : "", path ? ")" : "");
}

/*
 * Pod and service addresses of the usual defaults: kubeadm's service
 * range 10.96.0.0/12 (kubeadm --service-cidr default), flannel's and
 * kubeadm docs' pod range 10.244.0.0/16, k3s's 10.42.0.0/16 pods and
 * 10.43.0.0/16 services.  Weak evidence: nothing stops another host from
 * numbering its networks so.
 */
static int k8s_range(const uint8_t a[16])
{
	return a[0] == 10 && ((a[1] & 0xf0) == 96 || a[1] == 244 ||
			      a[1] == 42 || a[1] == 43);
}

static void detect_k8s(ctp_host *h)
{
	const ctp_snapshot *s = h->snap;
	const ctp_kube_proxy *kp = ctp_snapshot_kube_proxy(s);
	size_t ni = ctp_snapshot_input_count(s), n;
	int kubelet = 0, eks_ct = 0, eks_sysctl = 0;
	uint64_t hits = 0;

	h->k8s.kp = kp;
	/* each file once, named for what it is */
	if (kp->seen & CTP_KP_CONFIG)
		k8s_say(h, "a kube-proxy configuration",
			ctp_snapshot_input(s, kp->config_input)->path);
	if ((kp->seen & CTP_KP_LOG) && (kp->seen & CTP_KP_FLAGS) &&
	    kp->flags_input == kp->log_input)
		k8s_say(h, "a kube-proxy log with its flags",
			ctp_snapshot_input(s, kp->log_input)->path);
	else {
		if ((kp->seen & CTP_KP_FLAGS) &&
		    !((kp->seen & CTP_KP_CONFIG) &&
		      kp->flags_input == kp->config_input))
			k8s_say(h, "kube-proxy flags",
				ctp_snapshot_input(s, kp->flags_input)->path);
		if (kp->seen & CTP_KP_LOG)
			k8s_say(h, "a kube-proxy log",
				ctp_snapshot_input(s, kp->log_input)->path);
	}
	if (!(kp->seen & (CTP_KP_LOG | CTP_KP_FLAGS | CTP_KP_CONFIG)) &&
	    (kp->seen & CTP_KP_FILE))
		k8s_say(h, "kube-proxy files", NULL);
	for (size_t i = 0; i < ni; i++) {
		const char *p = ctp_snapshot_input(s, i)->path;
		size_t pl = strlen(p);
		if (!kubelet && path_component(p, "kubelet")) {
			kubelet = 1;
			k8s_say(h,
				pl > 4 && !strcmp(p + pl - 4, ".log")
					? "a kubelet log"
					: "kubelet files",
				p);
		}
		/* eks-log-collector.sh: networking/conntrack.txt and
		 * sysctls/sysctl_all.txt */
		eks_ct |= path_ends(p, "networking/conntrack.txt");
		eks_sysctl |= path_ends(p, "sysctls/sysctl_all.txt");
	}
	if (eks_ct && eks_sysctl)
		k8s_say(h, "the EKS log collector's layout (networking/"
			   "conntrack.txt, sysctls/sysctl_all.txt)", NULL);
	if (h->k8s.evidence[0]) {
		h->k8s.level = CTP_K8S_NODE;
		return;
	}
	n = ctp_snapshot_flow_count(s);
	for (size_t i = 0; i < n; i++) {
		ctp_flow f;
		if (!ctp_snapshot_flow_counted(s, i))
			continue;
		ctp_snapshot_flow_get(s, i, &f);
		if (f.family == CTP_AF_INET &&
		    (k8s_range(f.orig.src) || k8s_range(f.orig.dst)))
			hits++;
	}
	if (hits) {
		char w[160];
		snprintf(w, sizeof(w),
			 "only %llu entries with addresses in common pod or "
			 "service ranges (10.96.0.0/12, 10.244.0.0/16, "
			 "10.42.0.0/15): weak evidence",
			 (unsigned long long)hits);
		k8s_say(h, w, NULL);
		h->k8s.level = CTP_K8S_MAYBE;
	}
}

const ctp_host_k8s *ctp_host_k8s_get(const ctp_host *h)
{
	return &h->k8s;
}

int ctp_host_new(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		 ctp_host **out, ctp_error *err)
{
	ctp_host *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		goto oom;
	h->snap = snap;
	pick_kernel(h, opts);
	if (scan_flows(h))
		goto oom;
	pick_settings(h, opts);
	if (h->has_upgrade)
		apply_upgrade(h);
	if (h->count.known || h->max.known || h->buckets.known)
		h->has_data = 1;
	read_counters(h);
	detect_k8s(h);
	if (h->ctr.read)
		h->has_data = 1;
	if (gather_evidence(h, opts))
		goto oom;
	*out = h;
	return 0;
oom:
	ctp_host_free(h);
	return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
			     "out of memory building the host context");
}

void ctp_host_free(ctp_host *h)
{
	if (!h)
		return;
	free(h->ns);
	free(h->ns_entries);
	free(h);
}

const ctp_snapshot *ctp_host_snapshot(const ctp_host *h)
{
	return h->snap;
}

ctp_kver ctp_host_kernel(const ctp_host *h, const char **source)
{
	if (source)
		*source = h->kernel_src;
	return h->kernel;
}

const char *ctp_host_kernel_note(const ctp_host *h)
{
	return h->kernel_note[0] ? h->kernel_note : NULL;
}

const ctp_kernel_id *ctp_host_kernel_id(const ctp_host *h)
{
	return &h->kid;
}

const ctp_host_upgrade *ctp_host_upgrade_get(const ctp_host *h)
{
	return h->has_upgrade ? &h->up : NULL;
}

const ctp_host_num *ctp_host_count(const ctp_host *h)
{
	return &h->count;
}

const ctp_host_num *ctp_host_max(const ctp_host *h)
{
	return &h->max;
}

const ctp_host_num *ctp_host_buckets(const ctp_host *h)
{
	return &h->buckets;
}

const ctp_host_num *ctp_host_mem_kb(const ctp_host *h)
{
	return &h->mem_kb;
}

const ctp_host_num *ctp_host_cores(const ctp_host *h)
{
	return &h->cores;
}

unsigned ctp_host_bits(const ctp_host *h)
{
	return h->bits;
}

uint64_t ctp_host_listed(const ctp_host *h)
{
	return h->listed;
}

int ctp_host_has_listing(const ctp_host *h)
{
	return h->has_listing;
}

int ctp_host_has_data(const ctp_host *h)
{
	return h->has_data;
}

size_t ctp_host_ns_count(const ctp_host *h)
{
	return h->nns;
}

const char *ctp_host_ns_label(const ctp_host *h, size_t i)
{
	return i < h->nns ? h->ns[i] : NULL;
}

uint64_t ctp_host_ns_entries(const ctp_host *h, size_t i)
{
	return i < h->nns ? h->ns_entries[i] : 0;
}

const char *ctp_host_main_ns(const ctp_host *h)
{
	return h->nns ? h->ns[h->main_ns] : "";
}

const ctp_host_counters *ctp_host_counters_get(const ctp_host *h)
{
	return &h->ctr;
}

size_t ctp_host_evidence_count(const ctp_host *h)
{
	return h->nev;
}

const ctp_peak_evidence *ctp_host_evidence(const ctp_host *h, size_t i)
{
	return i < h->nev ? &h->ev[i] : NULL;
}

uint64_t ctp_host_peak(const ctp_host *h, const ctp_peak_evidence **winner)
{
	if (winner)
		*winner = h->nev ? &h->ev[h->winner] : NULL;
	return h->nev ? h->ev[h->winner].entries : 0;
}
