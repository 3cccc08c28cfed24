/*
 * ctplan snapshot: one host's conntrack state, as read from its dumps.
 *
 * Parsers fill it; the analyzer reads only it.  Memory rule: the snapshot
 * owns everything it returns; pointers it hands out stay valid until the
 * next call that adds to the same kind of data, or until
 * ctp_snapshot_free().
 */
#ifndef CTPLAN_SNAPSHOT_H
#define CTPLAN_SNAPSHOT_H

#include <stdint.h>
#include <stddef.h>

#include "ctplan/error.h"
#include "ctplan/flow.h"

typedef struct ctp_snapshot ctp_snapshot;

/*
 * conntrack -S counters.  X(id, name): name is the key conntrack -S
 * prints (netlink) or the /proc/net/stat/nf_conntrack column it maps to.
 * The order is stable; the JSON report uses the names.
 */
#define CTP_STAT_LIST(X)                   \
	X(FOUND, "found")                  \
	X(INVALID, "invalid")              \
	X(IGNORE, "ignore")                \
	X(INSERT, "insert")                \
	X(INSERT_FAILED, "insert_failed")  \
	X(DROP, "drop")                    \
	X(EARLY_DROP, "early_drop")        \
	X(ERROR, "error")                  \
	X(SEARCH_RESTART, "search_restart") \
	X(CLASH_RESOLVE, "clash_resolve")  \
	X(CHAINTOOLONG, "chaintoolong")    \
	X(SEARCHED, "searched")            \
	X(NEW, "new")                      \
	X(DELETE, "delete")                \
	X(DELETE_LIST, "delete_list")      \
	X(EXPECT_NEW, "expect_new")        \
	X(EXPECT_CREATE, "expect_create")  \
	X(EXPECT_DELETE, "expect_delete")  \
	X(ENTRIES, "entries")

#define CTP_STAT_ENUM(id, name) CTP_STAT_##id,
typedef enum ctp_stat {
	CTP_STAT_LIST(CTP_STAT_ENUM) CTP_STAT_COUNT
} ctp_stat;
#undef CTP_STAT_ENUM

/* "found", ...; NULL when out of range */
const char *ctp_stat_name(ctp_stat id);
/* id for a name, or -1 (also maps /proc's "icmp_error" to error,
 * "clashres" to clash_resolve, "chainlength" to chaintoolong) */
int ctp_stat_lookup(const char *name, size_t len);

/* input formats; an input may hold several (bit set) */
enum {
	CTP_FMT_LIST = 1u << 0,     /* conntrack -L, default */
	CTP_FMT_LIST_EXT = 1u << 1, /* -L -o extended */
	CTP_FMT_PROC = 1u << 2,     /* /proc/net/nf_conntrack */
	CTP_FMT_XML = 1u << 3,
	CTP_FMT_SAVE = 1u << 4,
	CTP_FMT_STATS = 1u << 5,      /* conntrack -S */
	CTP_FMT_PROC_STAT = 1u << 6,  /* /proc/net/stat/nf_conntrack */
	CTP_FMT_COUNT = 1u << 7,      /* conntrack -C, nf_conntrack_count */
	CTP_FMT_SYSCTL = 1u << 8,
	CTP_FMT_UNAME = 1u << 9,
	CTP_FMT_MEMINFO = 1u << 10,
	CTP_FMT_EVENTS = 1u << 11,    /* conntrack -E lines */
	CTP_FMT_KMSG = 1u << 12,      /* kernel log: dmesg, journal, syslog */
	CTP_FMT_SLABINFO = 1u << 13,  /* /proc/slabinfo */
	CTP_FMT_KUBE_PROXY = 1u << 14, /* kube-proxy config, flags, log */
};
/* Names joined with '+', e.g. "conntrack-S+conntrack-L", into buf. */
void ctp_format_names(unsigned fmt, char *buf, size_t size);

typedef struct ctp_input_info {
	const char *path;   /* as given, or archive!member */
	const char *ns;     /* namespace label; "" for the host's own */
	unsigned formats;   /* CTP_FMT_* seen */
	uint64_t lines;     /* physical lines read */
	uint64_t records;   /* lines that gave a record or setting */
	uint64_t rejected;  /* malformed lines */
	uint64_t other;     /* blank, header, summary, stderr lines */
	uint64_t flows;     /* flow records added */
	uint64_t duplicates; /* of those, already seen in another input */
	uint64_t summary_count; /* "N flow entries have been shown", or 0 */
	int has_summary;
	/* a file inside a directory in no known format: read, not used */
	int skipped;
	/* why reading this input stopped (a broken archive, a file that
	 * cannot be opened): what came before it is used; NULL if it was
	 * read to its end */
	const char *error;
} ctp_input_info;

/*
 * Kernel log events (parsers/kmsg.c): the conntrack messages of a kernel
 * log and the lines that bear on them.  The message texts of each kernel
 * generation are the pattern table of parsers/kmsg.c (kmsg_patterns).
 */
typedef enum ctp_kev_kind {
	CTP_KEV_NONE = 0,
	CTP_KEV_TABLE_FULL,  /* conntrack table full: a packet was dropped */
	CTP_KEV_EXPECT_FULL, /* expectation table full */
	CTP_KEV_SUPPRESSED,  /* "net_ratelimit: N callbacks suppressed" */
	CTP_KEV_CT_SIZE,     /* "nf_conntrack version ... (B buckets, M max)" */
	CTP_KEV_VMALLOC,     /* hash table fell back to vmalloc */
	CTP_KEV_HELPER,      /* automatic helper assignment notice */
	CTP_KEV_BOOT,        /* a boot starts ("Linux version", "-- Boot") */
	CTP_KEV_KIND_COUNT
} ctp_kev_kind;

/* ctp_kevent.flags */
enum {
	CTP_KEV_F_BOOT = 1u << 0,   /* boot_us is set */
	CTP_KEV_F_WALL = 1u << 1,   /* wall_us is set */
	CTP_KEV_F_NOYEAR = 1u << 2, /* wall_us from a date without a year */
	CTP_KEV_F_NETNS = 1u << 3,  /* netns is set */
};

/*
 * One event, 48 bytes.  Times are microseconds: boot_us since boot (dmesg
 * "[  786.541314]"), wall_us since 1970-01-01 as if the printed time were
 * UTC (an ISO time with an offset is converted to UTC).  A date without a
 * year (syslog "Nov 26 18:32:10") is counted in a 366-day calendar from
 * year 0 of the input, one year added when the dates of an input wrap.
 */
typedef struct ctp_kevent {
	int64_t boot_us;
	int64_t wall_us;
	uint64_t value;  /* SUPPRESSED: N; CT_SIZE: buckets */
	uint64_t value2; /* CT_SIZE: max */
	uint32_t repeat; /* lines it stands for (syslog "message repeated N
			  * times" stands for N), at least 1 */
	uint32_t netns;  /* inode number of the namespace, with _F_NETNS */
	uint32_t line;   /* 1-based line in its input */
	uint16_t input;
	uint8_t kind;    /* ctp_kev_kind */
	uint8_t flags;   /* CTP_KEV_F_* */
} ctp_kevent;

typedef struct ctp_kernel_info {
	char release[128]; /* "6.1.0-18-amd64" */
	char machine[32];  /* "x86_64", "" if unknown */
	int major, minor, patch; /* -1 if not parsed */
	/* uname -a's nodename (the host's name), "" if not read; a later
	 * uname -r keeps it */
	char nodename[65];
} ctp_kernel_info;

/* Create an empty snapshot.  Returns 0, or CTP_ENOMEM. */
int ctp_snapshot_new(ctp_snapshot **out);
void ctp_snapshot_free(ctp_snapshot *snap);

/* ---- filling (parsers) ---- */

/* Register an input; path and ns are copied.  *out gets its index. */
int ctp_snapshot_add_input(ctp_snapshot *snap, const char *path,
			   const char *ns, uint16_t *out);
/*
 * Reading the input named path stopped: why (copied) is kept with it (the
 * last input of that name, or a new one with no lines).  The first reason
 * given for an input stays.  Returns 0, or CTP_ENOMEM, or CTP_EFAIL when
 * the inputs are full (then only the count grows).
 */
int ctp_snapshot_input_failed(ctp_snapshot *snap, const char *path,
			      const char *ns, const char *why);
/*
 * A file in no known format inside a folder or archive: listed as a
 * skipped input (path, ns copied) while fewer than CTP_SKIPPED_LISTED are,
 * then only counted (ctp_snapshot_skipped_more), so skipped files never
 * fill the inputs the flows are counted by.  Returns 0 or CTP_ENOMEM.
 */
#define CTP_SKIPPED_LISTED 256
int ctp_snapshot_add_skipped(ctp_snapshot *snap, const char *path,
			     const char *ns);
/* Skipped files counted but not listed as inputs. */
uint64_t ctp_snapshot_skipped_more(const ctp_snapshot *snap);
/* Inputs that could not be read to their end (ctp_snapshot_input_failed). */
size_t ctp_snapshot_read_errors(const ctp_snapshot *snap);
/* Mutable per-input bookkeeping for the parsers. */
ctp_input_info *ctp_snapshot_input_mut(ctp_snapshot *snap, uint16_t input);

/* Copy a flow (and its extra, if not NULL) in; flow->extra is ignored. */
int ctp_snapshot_add_flow(ctp_snapshot *snap, const ctp_flow *flow,
			  const ctp_flow_extra *extra);
/* Intern a string; returns its offset (> 0), or 0 on out of memory. */
uint32_t ctp_snapshot_intern(ctp_snapshot *snap, const char *s, size_t len);

/* Add one CPU's value of a counter, read from input. */
int ctp_snapshot_add_stat(ctp_snapshot *snap, uint16_t input, ctp_stat id,
			  uint64_t value);
/* Note that input holds one more CPU row of counters. */
void ctp_snapshot_stat_row(ctp_snapshot *snap, uint16_t input);
/* Set a sysctl key ("net.netfilter.nf_conntrack_max") to a value as read
 * (multi-value keys keep their tabs).  A later input wins. */
int ctp_snapshot_set_sysctl(ctp_snapshot *snap, const char *key, size_t klen,
			    const char *val, size_t vlen);
/* conntrack -C, or a saved nf_conntrack_count */
void ctp_snapshot_set_count(ctp_snapshot *snap, uint64_t count);
void ctp_snapshot_set_kernel(ctp_snapshot *snap, const ctp_kernel_info *k);
/* A /proc/meminfo line: key without ':', value in kB (or a bare count). */
int ctp_snapshot_set_meminfo(ctp_snapshot *snap, const char *key,
			     size_t klen, uint64_t value);

/* Append a kernel log event (copied). */
int ctp_snapshot_add_kevent(ctp_snapshot *snap, const ctp_kevent *ev);

/*
 * Done reading: match flows seen in several inputs of one namespace
 * (same family, protocol, zone and original tuple) and mark the copies
 * CTP_F_DUP, so each entry is counted once.
 */
int ctp_snapshot_finalize(ctp_snapshot *snap);

/* ---- reading (analyzer) ---- */

size_t ctp_snapshot_input_count(const ctp_snapshot *snap);
const ctp_input_info *ctp_snapshot_input(const ctp_snapshot *snap,
					 size_t i);
/* Do inputs a and b share flows?  (valid after finalize) */
int ctp_snapshot_inputs_overlap(const ctp_snapshot *snap, size_t a, size_t b);

/*
 * Flows, by index i < ctp_snapshot_flow_count(), in the order added.  The
 * snapshot keeps them in a compact form (see core/snapshot_impl.h), not as
 * an array of ctp_flow: _flow_get decodes flow i into *out, the fields as
 * they were added (extra is the snapshot's index of the extra fields,
 * which ctp_snapshot_extra reads).
 * Loops that read only flags or input can skip the decode with the
 * getters.
 */
size_t ctp_snapshot_flow_count(const ctp_snapshot *snap);
void ctp_snapshot_flow_get(const ctp_snapshot *snap, size_t i,
			   ctp_flow *out);
uint16_t ctp_snapshot_flow_flags(const ctp_snapshot *snap, size_t i);
/* Flow i is an entry of the table: neither a copy of one seen in an
 * earlier input (CTP_F_DUP) nor an event line (CTP_F_EVENT).  Every
 * model counts only these. */
static inline int ctp_snapshot_flow_counted(const ctp_snapshot *snap,
					    size_t i)
{
	return !(ctp_snapshot_flow_flags(snap, i) &
		 (CTP_F_DUP | CTP_F_EVENT));
}
uint16_t ctp_snapshot_flow_input(const ctp_snapshot *snap, size_t i);
/*
 * Hints for loops that jump about: flow i will be read soon.  _prefetch
 * fetches its record; _prefetch_addrs, called later when the record is
 * in cache, its IPv6 addresses, which sit elsewhere (a miss of its own).
 */
void ctp_snapshot_flow_prefetch(const ctp_snapshot *snap, size_t i);
void ctp_snapshot_flow_prefetch_addrs(const ctp_snapshot *snap, size_t i);
/* The extra fields of a flow from _flow_get, or NULL if it has none. */
const ctp_flow_extra *ctp_snapshot_extra(const ctp_snapshot *snap,
					 const ctp_flow *flow);
/* String at an interned offset; "" for 0. */
const char *ctp_snapshot_str(const ctp_snapshot *snap, uint32_t off);

/* Sum over CPUs of a counter from the first input that printed it.
 * Returns 1 and sets *out if present, 0 if no input had it. */
int ctp_snapshot_stat(const ctp_snapshot *snap, ctp_stat id, uint64_t *out);
/* CPU rows behind the counters, 0 if none; input index of the source */
size_t ctp_snapshot_stat_cpus(const ctp_snapshot *snap, int *input);

/* Value of a sysctl key as read, or NULL. */
const char *ctp_snapshot_sysctl(const ctp_snapshot *snap, const char *key);
/* Parse a sysctl value as an unsigned number; 1 if present and valid. */
int ctp_snapshot_sysctl_u64(const ctp_snapshot *snap, const char *key,
			    uint64_t *out);
/* The sysctls one by one (after ctp_snapshot_finalize: each key once,
 * in sorted order); the i-th key, its value through *val. */
size_t ctp_snapshot_sysctl_count(const ctp_snapshot *snap);
const char *ctp_snapshot_sysctl_at(const ctp_snapshot *snap, size_t i,
				   const char **val);

int ctp_snapshot_count(const ctp_snapshot *snap, uint64_t *out);
/* NULL if no uname input */
const ctp_kernel_info *ctp_snapshot_kernel(const ctp_snapshot *snap);

/* /proc/meminfo value in kB; 1 if present */
int ctp_snapshot_meminfo(const ctp_snapshot *snap, const char *key,
			 uint64_t *out);

/*
 * The nf_conntrack slab cache of /proc/slabinfo (parsers/slabinfo.c):
 * the kernel's own size of one entry on that host, before any table of
 * sizes by version.  Kernels that made one cache per namespace
 * ("nf_conntrack_<address>") give the same size for each; the first is
 * kept.
 */
typedef struct ctp_slab_info {
	char name[48];
	uint64_t active_objs, num_objs;
	uint32_t objsize;      /* bytes per object, alignment included */
	uint32_t objperslab, pagesperslab;
	uint16_t input;
} ctp_slab_info;

/* Keep the first nf_conntrack cache seen (copied). */
void ctp_snapshot_set_slab(ctp_snapshot *snap, const ctp_slab_info *slab);
/* NULL if no slabinfo line of nf_conntrack was read */
const ctp_slab_info *ctp_snapshot_slab(const ctp_snapshot *snap);

/*
 * What a bundle says of kube-proxy (parsers/kubeproxy.c): its conntrack
 * settings from a KubeProxyConfiguration file or its command-line flags,
 * and what its log says it wrote.  seen holds the CTP_KP_* kinds read.
 */
enum {
	CTP_KP_CONFIG = 1u << 0, /* a KubeProxyConfiguration file */
	CTP_KP_FLAGS = 1u << 1,  /* --conntrack-* flags (ps, manifest, log) */
	CTP_KP_LOG = 1u << 2,    /* a kube-proxy log */
	CTP_KP_FILE = 1u << 3,   /* a file named for kube-proxy */
};
typedef struct ctp_kube_proxy {
	unsigned seen;
	/* conntrack.maxPerCore / --conntrack-max-per-core and conntrack.min
	 * / --conntrack-min; *_from: CTP_KP_CONFIG or CTP_KP_FLAGS */
	int has_per_core, has_min;
	uint64_t per_core, min;
	unsigned per_core_from, min_from;
	/* "Setting nf_conntrack_max" / "Setting conntrack hashsize" in its
	 * log: the last value written */
	int has_set_max, has_set_hashsize;
	uint64_t set_max, set_hashsize;
	/* the input of each kind, for the report (first seen) */
	uint16_t config_input, flags_input, log_input;
	/* its version from the log's startup line ("Version info"
	 * version="v1.30.0..." or "Version: v1.12.5"): has_version, the
	 * numbers, the text as logged (the last start wins) */
	int has_version;
	unsigned ver_major, ver_minor, ver_patch;
	char version[40];
	/* a non-empty --config=FILE among its flags: that file's values
	 * win over the flags (config_path, cut to fit) */
	int config_flag;
	char config_path[128];
	/* conntrack.tcpEstablishedTimeout /
	 * --conntrack-tcp-timeout-established, in seconds (0: leaves it) */
	int has_tcp_established;
	uint64_t tcp_established_s;
	unsigned tcp_established_from;
} ctp_kube_proxy;

ctp_kube_proxy *ctp_snapshot_kube_proxy_mut(ctp_snapshot *snap);
const ctp_kube_proxy *ctp_snapshot_kube_proxy(const ctp_snapshot *snap);

/* Kernel log events in the order they were read (by input, then line). */
size_t ctp_snapshot_kevent_count(const ctp_snapshot *snap);
const ctp_kevent *ctp_snapshot_kevents(const ctp_snapshot *snap);

#endif
