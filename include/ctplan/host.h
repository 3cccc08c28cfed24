/*
 * ctplan host context: every fact about one host that the models and the
 * planner share, worked out once from the finalized snapshot and the
 * options, each with where it came from.
 *
 *   - the kernel to model: --kernel, the input's uname, or an assumption
 *     that is said (the newest version the kernel tables know);
 *   - the table's count, nf_conntrack_max and nf_conntrack_buckets in
 *     force; MemTotal, CPUs, word size;
 *   - the namespaces of the input and which inputs belong to each;
 *   - the conntrack -S counters read by their meaning on that kernel
 *     (drops for a full table, for insert clashes, for long chains);
 *   - the peak evidence: every reason to believe the table held, or was
 *     asked to hold, more than it does now.  The planned peak is the
 *     largest of them.
 *
 * No model re-derives any of these: a model asks the host.  Nothing here
 * prints or keeps global state; a host borrows its snapshot, which must
 * outlive it.
 */
#ifndef CTPLAN_HOST_H
#define CTPLAN_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/error.h"
#include "ctplan/kernel.h"
#include "ctplan/snapshot.h"

struct ctp_analyze_opts;

typedef struct ctp_host ctp_host;

/* A number the input may or may not give, and where it came from. */
typedef struct ctp_host_num {
	int known;
	uint64_t value;
	const char *source; /* "conntrack -C", "sysctl ...", NULL unknown */
} ctp_host_num;

/*
 * Kinds of peak evidence, in the order the report lists them.  Each
 * proves that the table held, or was asked to hold, at least `entries`.
 */
typedef enum ctp_peak_kind {
	CTP_PEAK_COUNT = 0,  /* today's count: a lower bound, nothing more */
	CTP_PEAK_SNAPSHOTS,  /* the largest of several listings given */
	CTP_PEAK_USER,       /* --peak */
	CTP_PEAK_GROWTH,     /* today's count x --growth */
	CTP_PEAK_KERNEL_LOG, /* "table full" in the kernel log */
	CTP_PEAK_COUNTERS,   /* drops or evictions of a full table */
	CTP_PEAK_KIND_COUNT
} ctp_peak_kind;

/* "count", "snapshots", "--peak", "--growth", "kernel log", "counters" */
const char *ctp_peak_kind_name(ctp_peak_kind k);

typedef struct ctp_peak_evidence {
	ctp_peak_kind kind;
	uint64_t entries;
	/* 1: the table was full, so demand was at least this and maybe
	 * more (the drops hide the rest) */
	int at_least_max;
	char detail[512];
} ctp_peak_evidence;

/*
 * conntrack -S counters read by the code paths that raise them on the
 * host's kernel (analyzer/kernel.c ctp_kernel_counter_rule).  Each
 * figure is since boot, summed over CPUs, for the namespace dumped.
 */
typedef struct ctp_host_counters {
	int read;               /* conntrack -S or /proc/net/stat was read */
	uint64_t drop, early_drop, insert_failed, chaintoolong,
		clash_resolve, invalid, error, found;
	int has_early_drop, has_insert_failed, has_chaintoolong,
		has_clash_resolve;
	/* drop split by cause (without insert_failed, all of drop is
	 * counted as full-table drops and split_known is 0) */
	uint64_t full_drops;   /* no entry could be had: the table was full */
	uint64_t clash_drops;  /* the entry clashed at insert and lost (its
				* packet dropped, in drop or not) */
	uint64_t chain_drops;  /* refused for a too-long chain (5.15+) */
	/* 1: exact; 0: on kernels where resolved clashes also count in
	 * insert_failed, clash_drops is an upper bound and full_drops a
	 * lower one */
	int split_known;
	/* the table reached nf_conntrack_max since boot (evictions or
	 * full-table drops) */
	int full_seen;
	const char *rule;      /* the reading used, e.g. "5.15+" */
	const char *rule_source;
} ctp_host_counters;

/*
 * Build the host context of a finalized snapshot.  opts may be NULL
 * (defaults).  Returns 0, or CTP_ENOMEM (err says so).
 */
int ctp_host_new(const ctp_snapshot *snap,
		 const struct ctp_analyze_opts *opts, ctp_host **out,
		 ctp_error *err);
void ctp_host_free(ctp_host *h);

const ctp_snapshot *ctp_host_snapshot(const ctp_host *h);

/*
 * The kernel to model; *source (when not NULL): "--kernel", "uname",
 * "sysctl kernel.osrelease" (sysctl -a without uname), or "assumed: the
 * newest known" (neither in the input).  ctp_host_kernel_note() says the
 * assumption in words, or NULL.
 */
ctp_kver ctp_host_kernel(const ctp_host *h, const char **source);
const char *ctp_host_kernel_note(const ctp_host *h);
/* The build the modelled kernel was identified from: vendor, release,
 * the upstream version it carries and what was assumed (ctp_kernel_id);
 * release is "" when the kernel was assumed. */
const ctp_kernel_id *ctp_host_kernel_id(const ctp_host *h);

/*
 * --to-kernel: the input judged on the kernel about to be rolled out.
 * The input's own kernel is "from"; ctp_host_kernel() is the new one.
 * A setting equal to from's default for this MemTotal is taken to rely
 * on the default (nothing in sysctl.d or modprobe.d sets it) and takes
 * the new kernel's default: ctp_host_max() and ctp_host_buckets() give
 * the values after the upgrade, *_before the values read.
 */
typedef struct ctp_host_upgrade {
	ctp_kernel_id from;
	const char *from_source;      /* "uname", "sysctl kernel.osrelease",
				       * or "unknown" */
	int has_defaults;             /* MemTotal known: both defaults */
	ctp_table_default def_from, def_to;
	ctp_host_num max_before, buckets_before;
	int max_moved, buckets_moved; /* followed the default */
} ctp_host_upgrade;

/* NULL without --to-kernel */
const ctp_host_upgrade *ctp_host_upgrade_get(const ctp_host *h);

/* Today's count (conntrack -C, nf_conntrack_count, /proc/net/stat
 * entries, else the entries listed), the settings in force, memory. */
const ctp_host_num *ctp_host_count(const ctp_host *h);
const ctp_host_num *ctp_host_max(const ctp_host *h);
const ctp_host_num *ctp_host_buckets(const ctp_host *h);
const ctp_host_num *ctp_host_mem_kb(const ctp_host *h);
/* CPUs: --cores, else the rows of conntrack -S; 0 unknown */
const ctp_host_num *ctp_host_cores(const ctp_host *h);
/* 32 or 64, from uname's machine (64 when unknown) */
unsigned ctp_host_bits(const ctp_host *h);

/* Entries listed (duplicates and event lines not counted), and whether
 * the input holds a table listing at all. */
uint64_t ctp_host_listed(const ctp_host *h);
int ctp_host_has_listing(const ctp_host *h);

/* 1 when the input gave anything to analyze: a listing, a count, a
 * setting, counters or a kernel log message of conntrack. */
int ctp_host_has_data(const ctp_host *h);

/* Namespace labels of the inputs ("" for the host's own), each once,
 * with the entries listed under it; the busiest is ctp_host_main_ns. */
size_t ctp_host_ns_count(const ctp_host *h);
const char *ctp_host_ns_label(const ctp_host *h, size_t i);
uint64_t ctp_host_ns_entries(const ctp_host *h, size_t i);
const char *ctp_host_main_ns(const ctp_host *h);

const ctp_host_counters *ctp_host_counters_get(const ctp_host *h);

/*
 * Is the host a Kubernetes node, where kube-proxy writes
 * nf_conntrack_max at every start?  CTP_K8S_NODE: a kube-proxy
 * configuration, flags or log, kubelet files, or the EKS log collector's
 * layout; CTP_K8S_MAYBE: only pod or service addresses of the common
 * defaults in the table (weak: any host may use those ranges).
 * evidence says which, in words, with the files.
 */
enum { CTP_K8S_NO = 0, CTP_K8S_MAYBE = 1, CTP_K8S_NODE = 2 };
typedef struct ctp_host_k8s {
	int level;
	char evidence[400];
	/* kube-proxy's settings and what its log says it wrote */
	const ctp_kube_proxy *kp;
} ctp_host_k8s;
const ctp_host_k8s *ctp_host_k8s_get(const ctp_host *h);

/* The peak evidence, and the planned peak: the largest entries of it
 * (ties go to the earlier kind).  *winner may be NULL. */
size_t ctp_host_evidence_count(const ctp_host *h);
const ctp_peak_evidence *ctp_host_evidence(const ctp_host *h, size_t i);
uint64_t ctp_host_peak(const ctp_host *h, const ctp_peak_evidence **winner);

#endif
