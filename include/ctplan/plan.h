/*
 * ctplan capacity planner: the table sizes the kernel would pick, the
 * headroom now and at a planned peak, what a full table does with new
 * flows, and the nf_conntrack_max / nf_conntrack_buckets to set, each
 * with its reason; plus the pass/fail checks of "ctplan check".
 *
 * The numbers come from the kernel facts of include/ctplan/kernel.h and
 * the balls-into-bins law the hash model (include/ctplan/hash.h) checks
 * the real hash against.  Nothing here prints (except the text renderer
 * at the end) or keeps global state.  Report keys: docs/report.md.
 */
#ifndef CTPLAN_PLAN_H
#define CTPLAN_PLAN_H

#include <stdint.h>
#include <stdio.h>

#include "ctplan/analyze.h"
#include "ctplan/host.h"
#include "ctplan/inventory.h"
#include "ctplan/error.h"
#include "ctplan/kernel.h"
#include "ctplan/report.h"
#include "ctplan/snapshot.h"

typedef struct ctp_plan_opts {
	double margin;       /* headroom kept at the peak, [0, 0.95] */
	unsigned max_chain;  /* chains longer than this are too long */
	double chain_share;  /* at most this share of nodes in them at max */
	double growth;       /* peak = count x growth */
	uint64_t peak;       /* planned peak entries; 0: from growth */
	double max_nat_util; /* check: utilization of the worst NAT group */
	unsigned cores;      /* CPUs, for the kube-proxy rule; 0: unknown */
	uint64_t mem_kb;     /* MemTotal override in kB; 0: the input's */
	/* share of entries a full table may evict, when no dump tells
	 * (ctplan plan); ignored when the input lists the table */
	double evictable;
	/* 1: the recommendation may go below the settings in force and
	 * the kernel's default (--allow-shrink); 0: never */
	int allow_shrink;
} ctp_plan_opts;

#define CTP_PLAN_OPTS_INIT { 0.25, 8, 0.01, 1.0, 0, 0.8, 0, 0, 0.1, 0 }

/* ---- the model ---- */

/*
 * Probability that a new flow arriving at a full namespace is dropped
 * rather than admitted by an eviction, for the early-drop rule r, a
 * table of `buckets` buckets holding `entries` entries (all tables'
 * entries: they fill the chains) of which `evictable` belong to the
 * namespace and may be evicted.  Each entry is two nodes in independent
 * uniform buckets (the hash model checks the real hash against that):
 *   8 buckets:  (1 - 8/B)^(2E)
 *   one bucket: (1 - 1/B)^(2E)
 *   8 nodes:    drop only if the whole buckets walked until 8 nodes
 *               were passed hold no evictable node (Poisson per bucket)
 * E = evictable.  Returns 1 when nothing is evictable.
 */
double ctp_plan_full_drop_p(const ctp_evict_rule *r, double buckets,
			    double entries, double evictable);

/*
 * Is a share measured on `listed` entries too thin a sample to print
 * with three digits?  1 when fewer than 100 were listed, or when they
 * are under a tenth of the `counted` entries they stand for (0: count
 * unknown): 11 entries put one entry at 9%.
 */
int ctp_plan_sample_small(uint64_t listed, uint64_t counted);

/*
 * A share p (0..1) as a percentage for text, into buf: three
 * significant digits ("0.366%"), or two from a small sample ("37%",
 * "0.37%"); a share under 0.01% is "under 0.01%" (a figure like
 * 4.82e-05% claims what no model of a full table can).  Returns buf.
 */
const char *ctp_plan_fmt_share(char *buf, size_t size, double p, int small);

/* Share of nodes in chains longer than max_chain when nodes fall into
 * buckets like balls into bins at `load` nodes per bucket: a node's
 * chain is 1 + Poisson(load), so P(Poisson(load) >= max_chain). */
double ctp_plan_long_share(double load, unsigned max_chain);

/* The largest load whose long-chain share is at most share. */
double ctp_plan_load_for_share(unsigned max_chain, double share);

/* What the planner needs to know of a host. */
typedef struct ctp_plan_input {
	ctp_kver kernel;
	uint64_t peak;        /* entries to plan for (> 0, or 0 with
			       * cur_max known) */
	const char *peak_source; /* ctp_peak_kind_name() of the evidence
				  * that set it; NULL: "count" */
	/* the evidence that set it saw a full table: demand was at least
	 * peak, and the headroom at the peak at most what is computed */
	int peak_at_least;
	/* where the kernel version came from: "uname", "--kernel", or
	 * "assumed: the newest known"; NULL: not said */
	const char *kernel_source;
	double evictable;     /* share of entries a full table may evict */
	/* the entries listed that share is measured on (0: none, the
	 * --evictable assumption) and the count they stand for (0:
	 * unknown) */
	uint64_t evict_listed, evict_counted;
	/* share of entries the gc worker of a nearly full table may kill
	 * (not assured, or TCP closing); NAN: no listing */
	double gc_evictable;
	unsigned ext_mask;    /* CTP_EXT_* the entries carry */
	/* network namespaces the input lists (0 or 1: one): the max caps
	 * each one's own count, so N of them may hold N x max */
	unsigned namespaces;
	uint64_t mem_kb;      /* MemTotal, 0 unknown */
	unsigned bits;        /* 32 or 64 */
	uint64_t cur_max;     /* current settings, 0 unknown */
	uint64_t cur_buckets;
	unsigned cores;       /* 0 unknown */
	/* the CPU count came from --cores: the kube-proxy rule was asked
	 * for, on a host that shows no Kubernetes too */
	int cores_given;
	/* /proc/slabinfo's nf_conntrack cache, when the input has it: the
	 * object size, objects per slab and pages per slab; slab_bytes is
	 * what one entry takes, the slab's pages shared by its objects
	 * (0: no slabinfo, the size by kernel version is used) */
	unsigned slab_objsize, slab_objperslab, slab_pages, slab_bytes;
	/* Kubernetes node (ctp_host_k8s): CTP_K8S_*, the evidence in
	 * words, kube-proxy's conntrack settings where the input gives
	 * them (else its defaults) and the max its log says it wrote */
	int k8s_level;
	char k8s_evidence[400];
	uint64_t kp_per_core, kp_min;
	const char *kp_per_core_src, *kp_min_src; /* "configuration",
						    * "flags", "default" */
	int kp_has_set_max;
	uint64_t kp_set_max;
	/* its version from its log (kp_version "" unknown), a --config
	 * file in effect (its path), and the TCP established timeout it
	 * sets at every start (kp_has_tcp_est: from its flags or
	 * configuration; else its default, 86400 s) */
	char kp_version[40];
	unsigned kp_major, kp_minor;
	int kp_config_flag;
	char kp_config_path[128];
	/* --to-kernel: cur_max / cur_buckets are the new kernel's default
	 * (a projection: today's followed the old kernel's default) */
	int cur_max_projected, cur_buckets_projected;
	int kp_has_tcp_est;
	uint64_t kp_tcp_est;
	const char *kp_tcp_est_src; /* "configuration", "flags" */
	/* --to-kernel: kernel is the one about to be rolled out and from
	 * the one it replaces; the reasons say what changes (defaults for
	 * mem_kb, hash, chain limit).  has_from 0: no upgrade */
	int has_from;
	ctp_kver from;
} ctp_plan_input;

/* One sizing rule (kube-proxy, max/4, ...) judged on the same host. */
typedef struct ctp_plan_rule {
	const char *name;
	int known;            /* 0: the rule needs what we lack (cores) */
	uint64_t max, buckets;
	double headroom_pct;  /* at the peak */
	double long_share;    /* share of nodes in long chains at max */
	double full_drop_p;
	char note[192];       /* where ctplan differs and why */
} ctp_plan_rule;

#define CTP_PLAN_RULES 5

/* What the recommendation does with a setting. */
typedef enum ctp_plan_move {
	CTP_PLAN_SET = 0,   /* nothing in force known: this is the value */
	CTP_PLAN_KEEP,      /* the value in force stays */
	CTP_PLAN_RAISE,
	CTP_PLAN_LOWER,     /* only with allow_shrink */
} ctp_plan_move;

/* "set", "keep", "raise", "lower" */
const char *ctp_plan_move_name(ctp_plan_move m);

typedef struct ctp_plan_result {
	uint64_t max, buckets;
	ctp_plan_move max_move, buckets_move;
	/* max the peak and margin alone call for (before the floors) */
	uint64_t max_needed;
	/* why max is what it is: "peak", "in force" (never lowered),
	 * "kernel default" (never below it) */
	const char *max_floor;
	double load_at_max;      /* nodes per bucket at max */
	double long_share;       /* Poisson share of long chains at max */
	double headroom_pct;     /* at the peak */
	double full_drop_p;      /* at max, with the input's mix */
	uint64_t buckets_chain;  /* fewest buckets meeting the chain target */
	uint64_t buckets_aim;    /* the kernel default's average chain */
	double full_drop_p_chain; /* with buckets_chain */
	uint64_t entry_bytes;    /* slab object + extension block */
	uint64_t memory_bytes;   /* max entries + bucket heads */
	double memory_share;     /* of MemTotal; NAN unknown */
	int has_default;
	ctp_table_default def;   /* the kernel's own choice on this host */
	ctp_plan_rule rules[CTP_PLAN_RULES];
	size_t nrules;
	/*
	 * kube-proxy (in->k8s_level > 0 and cores known): what it writes
	 * on this node with its settings today, the conntrack.maxPerCore
	 * and conntrack.min to set instead of sysctl lines, what it then
	 * writes here (max, and hashsize when it raises it), and on nodes
	 * of other sizes.  The target is the recommended max, or what the
 * peak needs when the max in force is kept.  kube_leaves: maxPerCore is 0, kube-proxy leaves
	 * nf_conntrack_max as it is.
	 */
	int kube_known, kube_leaves;
	/* 0: its settings today already give what the peak needs here */
	int kube_change;
	uint64_t kube_max_now, kube_per_core, kube_min, kube_max,
		kube_hashsize;
	struct {
		unsigned cores;
		uint64_t max;
	} kube_sizes[8];
	size_t nkube_sizes;
} ctp_plan_result;

/*
 * What kube-proxy writes to nf_conntrack_max on a node of `cores` CPUs
 * with conntrack.maxPerCore per_core and conntrack.min min: 0 when
 * per_core is 0 (it leaves the max alone).  Whether it also lowers a
 * larger value in force depends on its version: ctp_plan_kube_write.
 */
uint64_t ctp_plan_kube_max(uint64_t per_core, uint64_t min,
			   unsigned cores);

/* How kube-proxy writes nf_conntrack_max at each start, by version */
typedef enum ctp_kube_write {
	CTP_KUBE_WRITE_UNKNOWN = 0, /* version unknown */
	CTP_KUBE_WRITE_RAISE,       /* only when the value is lower */
	CTP_KUBE_WRITE_EXACT,       /* whenever it differs: lowers too */
	CTP_KUBE_WRITE_PATCH,       /* 1.36, 1.37: the patch release
				     * decides (a cherry-pick) */
} ctp_kube_write;

/* major 0: unknown */
ctp_kube_write ctp_plan_kube_write(unsigned major, unsigned minor);
/* "unknown", "raise-only", "exact", "depends-on-patch" */
const char *ctp_plan_kube_write_name(ctp_kube_write w);

/*
 * Recommend.  max keeps the margin at the peak, and is never below the
 * max in force nor the kernel's default for the host unless
 * o->allow_shrink (a smaller max saves no memory until entries exist and
 * drops flows when the peak was missed); buckets meet the chain target
 * at that max, keep the kernel default's average chain, and are never
 * lowered either.  Returns 0, or CTP_EFAIL (err says why) for a peak of
 * 0 with no max in force, or options out of range.
 */
int ctp_plan_compute(const ctp_plan_input *in, const ctp_plan_opts *o,
		     ctp_plan_result *out, ctp_error *err);

/* ---- report sections ---- */

#define CTP_PLAN_REASONS 10
#define CTP_PLAN_REASON_LEN 640

/*
 * The "recommendation" and "defaults" sections (docs/report.md): what
 * was computed, from what, with one sentence of reason per figure;
 * render/json_plan.c writes them.
 */
typedef struct ctp_plan_section {
	ctp_plan_input in;
	ctp_plan_opts o;
	int has_plan;            /* 0: skipped says why */
	char skipped[320];
	ctp_plan_result res;
	char peak_source[32];
	char reasons[CTP_PLAN_REASONS][CTP_PLAN_REASON_LEN];
	size_t nreasons;
	/* analyze: the host's peak evidence (include/ctplan/host.h) */
	int has_evidence;
	ctp_peak_evidence ev[CTP_PEAK_KIND_COUNT];
	size_t nev;
	int winner;              /* index of the one that set the peak, -1 */
} ctp_plan_section;

/*
 * Add "recommendation" and "defaults" for in and res to the report;
 * peak_source names where the peak came from.  Returns 0 or
 * CTP_ENOMEM.
 */
int ctp_plan_add_sections(ctp_report *rep, const ctp_plan_input *in,
			  const ctp_plan_opts *o, const ctp_plan_result *res,
			  const char *peak_source);

/* Idle entries of one class, and what shorter timeouts would free. */
typedef struct ctp_idle_class {
	uint64_t timeout_s;
	int timeout_from_sysctl;
	uint64_t entries;
	double idle_median_s;    /* NAN without entries */
	struct {
		uint64_t timeout_s, freed;
		double freed_pct;
	} what_if[2];
	size_t nwhat;
	/* on a Kubernetes node, kube-proxy writes the TCP established
	 * timeout at every start: owner "kube-proxy" (NULL: none), the
	 * value it writes and where that comes from ("flags",
	 * "configuration", "default") */
	const char *owner, *owner_source;
	uint64_t owner_timeout_s;
} ctp_idle_class;

/* The "headroom" section (docs/report.md). */
typedef struct ctp_headroom_section {
	ctp_idle_class tcp_established, udp_stream;
	uint64_t count;
	uint64_t max;            /* 0: unknown */
	const char *max_source;  /* "sysctl", "kernel default" or NULL */
	/* the entries by kind, as shares of max (borrowed; NULL none) */
	const ctp_tallies *by_protocol, *by_state, *by_zone;
	double growth;
	uint64_t peak;
	const char *peak_source; /* NULL: no evidence */
	int has_rate;
	const char *rate_source;
	double rate_window_s, rate_new_per_s, rate_steady_state;
	const ctp_evict_rule *rule;
	const char *ns;          /* the namespace a full table is judged for */
	uint64_t ns_entries, ns_evictable;
	int has_list;
	double evictable_share;
	double full_drop_p;      /* NAN unknown */
	/* the gc worker's eviction of a nearly full table (kernel.h
	 * ctp_kernel_gc_evict): entries of the namespace it may kill, and
	 * at max: the count it evicts down to and how many it frees (0:
	 * max or the listing unknown) */
	const ctp_gc_evict_rule *gc;
	uint64_t ns_gc_evictable, gc_threshold, gc_frees;
} ctp_headroom_section;

/* ---- models of the analyze pipeline (analyzer/analyze.c) ---- */

/*
 * "headroom", "recommendation" and "defaults" from the planner's figures
 * (ctp_plan_prepare ran first).  Returns 0 or CTP_ENOMEM.
 */
int ctp_plan_report(const ctp_analysis *a, ctp_report *rep, ctp_error *err);

/*
 * "checks": the headroom at the peak against the margin, long chains at
 * max (the hash model's histogram) against the target, the worst NAT
 * group's utilization against its limit.  Runs last.  A check whose
 * figure the report lacks has no value (ok null).
 */
int ctp_checks_report(const ctp_analysis *a, ctp_report *rep,
		      ctp_error *err);

/* Checks of the report that failed. */
size_t ctp_checks_failed(ctp_report *rep);

#endif
