/*
 * ctplan kernel facts: every version-dependent fact about the kernel's
 * conntrack that a model needs, in one place, each with the versions it
 * holds for and the source it was read from (see analyzer/kernel.c and
 * docs/hash-model.md).  Other modules ask here ("which hash does 5.15
 * use?") and never hard-code a version or a constant.
 *
 * Versions are upstream versions.  Distribution kernels may carry
 * backports (a vendor "5.14" with the 5.15 hash, say); the caller can
 * always name the version whose behaviour it wants.
 *
 * All returned pointers are to static tables; nothing needs freeing.
 */
#ifndef CTPLAN_KERNEL_H
#define CTPLAN_KERNEL_H

#include <stddef.h>

#include "ctplan/error.h"
#include "ctplan/snapshot.h"

/* A kernel version; patch is -1 when not given ("6.1"), read as 0. */
typedef struct ctp_kver {
	int major, minor, patch;
} ctp_kver;

/*
 * Parse "6.1", "5.15.103", "6.1.0-18-amd64", "v6.8-rc3": MAJOR.MINOR
 * and an optional .PATCH, then anything not a digit or dot ends the
 * version.  Returns 0, or CTP_EINPUT with err filled (col = offset).
 */
int ctp_kver_parse(const char *s, size_t len, ctp_kver *out, ctp_error *err);
/* <0, 0, >0 as a is older, equal, newer than b (patch -1 counts as 0) */
int ctp_kver_cmp(const ctp_kver *a, const ctp_kver *b);
/* The snapshot's uname version, if it was parsed: 1 and *out, else 0. */
int ctp_kver_from_info(const ctp_kernel_info *k, ctp_kver *out);
/* The newest version these tables describe (the default). */
ctp_kver ctp_kernel_newest(void);
/* "6.1" or "5.15.103" into buf */
void ctp_kver_format(const ctp_kver *v, char *buf, size_t size);

/*
 * Distribution kernels (docs/kernels.md).  A release string such as
 * "5.15.0-125-generic" or "5.14.0-362.8.1.el9_3.x86_64" names a vendor
 * build, not an upstream version: Ubuntu and Debian number their ABI,
 * RHEL and SUSE keep the base version and backport.  ctp_kernel_identify()
 * reads the string and gives the upstream version whose conntrack
 * behaviour (hash, chain limit, defaults, early drop, NAT port search,
 * counters) the build carries, with where that mapping comes from and,
 * when it is not exact, what was assumed.  Every version-dependent
 * question is then asked with .upstream.
 */
typedef struct ctp_kernel_id {
	char release[128];    /* the string read, as given */
	ctp_kver upstream;    /* the behaviour modelled */
	const char *vendor;   /* "Ubuntu", "RHEL 9 (and rebuilds)", ...;
			       * "upstream" for plain numbering */
	const char *source;   /* where the mapping was read */
	/* 1: the upstream patch level is read from the string or a cited
	 * table; 0: it was assumed (note says what) */
	int exact;
	char note[240];       /* the assumption in words, or "" */
} ctp_kernel_id;

/*
 * Identify a release string (uname -r, kernel.osrelease, --kernel).
 * patch_hint >= 0 is an upstream patch level the caller read elsewhere
 * (Debian's "Debian 6.1.76-1" in uname -v) and wins over the tables.
 * Returns 0, or CTP_EINPUT as ctp_kver_parse() does.
 */
int ctp_kernel_identify(const char *release, size_t len, int patch_hint,
			ctp_kernel_id *out, ctp_error *err);

/*
 * A version without a patch level ("6.1") is ambiguous where a stable
 * release changed conntrack (6.1.20 took the 50..79 chain limit).  It
 * is read as the series with every stable change these tables model:
 * the patch level of the last such change in the series (6.1 -> 6.1.20),
 * or 0 where none is modelled.  Returns that patch level.
 */
int ctp_kernel_series_patch(int major, int minor);

/*
 * How the sizing settings can be applied on version v, read from the
 * sysctl table of nf_conntrack_standalone.c and the hashsize module
 * parameter (module_param_call in nf_conntrack_core.c, later
 * nf_conntrack_proto.c):
 *   - nf_conntrack_max: a 0644 sysctl in every version;
 *   - nf_conntrack_buckets: read-only (0444, proc_dointvec) in 3.10,
 *     writable (0644, nf_conntrack_hash_sysctl: a resize) from the
 *     version below on, and read-only outside the initial namespace;
 *   - hashsize: the module parameter, 0600, in every version: at
 *     module load it sets the table size (and max to
 *     CTP_HASHSIZE_MAX_FACTOR x that); written at run time it resizes
 *     the table, from the initial namespace only (-EOPNOTSUPP else).
 * A sysctl.d line for net.netfilter.* is applied by systemd-sysctl
 * only if nf_conntrack is loaded by then: a modules-load.d line loads
 * it first (systemd-modules-load runs before systemd-sysctl).
 */
typedef struct ctp_apply_rule {
	const char *versions;
	const char *source;
	int buckets_sysctl;   /* nf_conntrack_buckets takes a write */
	int netns_read_only;  /* max and buckets are read-only outside
			       * the initial namespace */
} ctp_apply_rule;

const ctp_apply_rule *ctp_kernel_apply_rule(const ctp_kver *v);

/*
 * How hash_conntrack_raw() (net/netfilter/nf_conntrack_core.c) turns a
 * tuple into 32 bits, era by era.
 */
typedef enum ctp_hash_era {
	/* <= 4.2: jhash2 over 36 bytes, zone, dport and proto in the seed;
	 * one table per namespace */
	CTP_ERA_JHASH_ZONE = 0,
	/* 4.3 - 4.6: the same without the zone; one table per namespace */
	CTP_ERA_JHASH,
	/* 4.7 - 5.14: seed also ^ net_hash_mix; one global table */
	CTP_ERA_JHASH_NETMIX,
	/* 5.15 - 6.1.y: siphash over a 48-byte struct with zone, net mix */
	CTP_ERA_SIPHASH48,
	/* 6.2 - 6.4.4: siphash_4u64 over four words built from the tuple */
	CTP_ERA_SIPHASH_4U64,
	/* 6.4.5+, 6.5+: siphash over the tuple's first 39 bytes, zone and
	 * net mix folded into the key */
	CTP_ERA_SIPHASH39,
	CTP_ERA_COUNT
} ctp_hash_era;

typedef struct ctp_hash_era_info {
	ctp_hash_era era;
	const char *name;      /* stable id: "siphash48", "jhash2-netmix" */
	const char *algorithm; /* "jhash2", "siphash-2-4" */
	const char *versions;  /* "5.15 - 6.1.y" */
	const char *source;    /* where it was read */
	unsigned hashed_bytes; /* message length: 36, 48, 32 or 39 */
	int zone_hashed;       /* the zone id changes the hash */
	int netmix_hashed;     /* net_hash_mix changes the hash */
	int shared_table;      /* one table for all namespaces */
} ctp_hash_era_info;

ctp_hash_era ctp_kernel_hash_era(const ctp_kver *v);
/* NULL if era is out of range */
const ctp_hash_era_info *ctp_kernel_hash_era_info(ctp_hash_era era);

/*
 * The insert-time chain limit of __nf_conntrack_confirm() and
 * nf_conntrack_hash_check_insert(): per insert attempt the kernel draws
 * max_chainlen = min + random[0, span) (span 0: always min), walks the
 * original tuple's chain and then the reply tuple's chain, and refuses
 * the entry (chaintoolong, insert_failed) when either chain already
 * holds max_chainlen + CTP_CHAIN_SLACK nodes or more: the test is
 * "chainlen++ > max_chainlen" on every node walked.
 */
#define CTP_CHAIN_SLACK 2

typedef struct ctp_chain_limit {
	int enabled;        /* 0: no limit in this version */
	unsigned min, span; /* max_chainlen = min + random[0, span) */
	const char *versions;
	const char *source;
} ctp_chain_limit;

void ctp_kernel_chain_limit(const ctp_kver *v, ctp_chain_limit *out);
/* The limit of v in words: "no chain limit (...)" or "refuses a new
 * flow once its chain holds 52 nodes (always at 81)". */
void ctp_kernel_chain_limit_words(const ctp_kver *v, char *buf,
				  size_t size);

/*
 * What a number in a kernel log message of conntrack means; the messages
 * themselves, generation by generation, are the PCRE2 pattern table of
 * parsers/kmsg.c.
 */
enum {
	CTP_KMSG_ARG_NONE = 0,
	CTP_KMSG_ARG_NETNS,  /* the namespace's inode number */
	CTP_KMSG_ARG_VALUE,  /* ctp_kevent.value */
	CTP_KMSG_ARG_VALUE2, /* ctp_kevent.value2 */
};


/*
 * Does v name the namespace of a full table when it is not the initial
 * one ("table full in netns N", 6.17+)?  Then a message without a netns
 * comes from the initial namespace; on older kernels it could be any.
 */
int ctp_kernel_kmsg_netns(const ctp_kver *v);

/*
 * net_ratelimit() (net/core/utils.c): one state for all of networking,
 * at most burst messages per interval; the misses of an interval are
 * printed as "net_ratelimit: N callbacks suppressed" by the first call
 * after it ends, just before that call's own message (lib/ratelimit.c
 * ___ratelimit).  Defaults of net.core.message_cost (seconds) and
 * net.core.message_burst.
 */
#define CTP_NET_RATELIMIT_INTERVAL_S 5
#define CTP_NET_RATELIMIT_BURST 10

/*
 * Source NAT port choice: how get_unique_tuple() and
 * nf_nat_l4proto_unique_tuple() (net/netfilter/nf_nat_core.c; before
 * the l4proto merge nf_nat_proto_common.c) give a new entry a reply
 * tuple no other entry has.  The steps, in every version read:
 *   1. (not --random / --random-fully) an existing mapping of the same
 *      original source address and port is reused when still unique;
 *   2. the NAT address is chosen (MASQUERADE: the one address);
 *   3. (not --random / --random-fully) the original port is kept if it
 *      is in the rule's range (or no range is given) and the reply
 *      tuple with it is free;
 *   4. otherwise the port is searched for in the range, era by era
 *      below.  When every probe finds its port taken the entry is still
 *      built with a taken port and dies at insert time: insert_failed
 *      and drop go up by one (nf_ct_resolve_clash()).
 * The range is the rule's --to-ports, else ctp_kernel_nat_default_range().
 */
typedef enum ctp_nat_era {
	/* <= 4.20: a linear scan of the whole range, from a per-protocol
	 * rover; fails only when every port is taken */
	CTP_NAT_ROVER = 0,
	/* 5.0 - 6.4: a random 16-bit start, min(range, 128) consecutive
	 * ports, then rounds of 64, 32, 16 and 8 from new random starts */
	CTP_NAT_BOUNDED,
	/* 6.5+: the same; in the last 32 probes of a round a new TCP SYN
	 * may evict a source-NAT entry in TIME_WAIT or CLOSE whose
	 * sequence number it has passed, and take its port */
	CTP_NAT_BOUNDED_EVICT,
	CTP_NAT_ERA_COUNT
} ctp_nat_era;

typedef struct ctp_nat_algo {
	ctp_nat_era era;
	const char *name;      /* stable id: "rover-scan", "bounded", ... */
	const char *versions;
	const char *source;
	/* probes of the first round: min(range size, first_round); 0: the
	 * whole range in one round */
	unsigned first_round;
	/* after a round of a probes: stop if a >= range or a < min_round,
	 * else the next round has a / 2 probes */
	unsigned min_round;
	/* the last evict_last probes of each round may evict (TCP); 0 */
	unsigned evict_last;
	/* the start offset is uniform in [0, start_space) and the offset
	 * counter wraps there (a u16: 65536); port = lo + off % range */
	unsigned start_space;
	const char *random;       /* what --random changes, in words */
	const char *random_fully; /* what --random-fully changes */
} ctp_nat_algo;

void ctp_kernel_nat_algo(const ctp_kver *v, ctp_nat_algo *out);
/* NULL if era is out of range */
const ctp_nat_algo *ctp_kernel_nat_algo_info(ctp_nat_era era);

/*
 * The range a new port (ICMP id) is searched in when the rule gives
 * none: by protocol and, for ports, by the original port.  Returns 1
 * with *lo, *hi, or 0 for protocols whose key the kernel never changes
 * here (GRE outside PPTP, protocols without ports).
 */
int ctp_kernel_nat_default_range(uint8_t proto, unsigned orig_port,
				 unsigned *lo, unsigned *hi);

/*
 * The ephemeral ports Linux clients (containers) connect from: the
 * per-namespace default of net.ipv4.ip_local_port_range
 * (net/ipv4/af_inet.c inet_init_net(), [6.1]).
 */
#define CTP_EPHEMERAL_LO 32768
#define CTP_EPHEMERAL_HI 60999

/*
 * Table sizes the kernel picks when nobody sets them: what
 * nf_conntrack_init_start() (net/netfilter/nf_conntrack_core.c) does
 * with the machine's memory, generation by generation.  With P pages of
 * RAM (totalram_pages(): MemTotal / page size) of S bytes and a pointer
 * of W bytes:
 *   raw     = P * S / 16384 / W, then the generation's rungs (above
 *             1 GiB, above 4 GiB: a fixed size) and floor;
 *   buckets = raw rounded up to a multiple of S / 8
 *             (nf_ct_alloc_hashtable(): whole pages of 8-byte heads);
 *   max     = factor * (raw, or buckets where the table is allocated
 *             before max is set).
 */
typedef enum ctp_default_era {
	/* 3.x: > 1 GiB: 16384; floor 32; factor 4, times raw */
	CTP_DEFAULT_1G = 0,
	/* 4.0 - 4.6: also > 4 GiB: 65536; factor 4, times raw */
	CTP_DEFAULT_4G,
	/* 4.7 - 5.14: the same rungs; factor 4, times the rounded size */
	CTP_DEFAULT_4G_ROUNDED,
	/* 5.15+: 64-bit > 4 GiB: 262144, > 1 GiB: 65536; floor 1024;
	 * factor 1 */
	CTP_DEFAULT_SANE,
	CTP_DEFAULT_ERA_COUNT
} ctp_default_era;

typedef struct ctp_default_rule {
	ctp_default_era era;
	const char *name;     /* stable id: "factor1-256k", ... */
	const char *versions;
	const char *source;
	unsigned factor;      /* max = factor * buckets (or raw) */
	unsigned floor;       /* smallest raw size */
	unsigned rung_1g;     /* raw size above 1 GiB of RAM */
	unsigned rung_4g;     /* above 4 GiB; 0: no such rung */
	int rung_4g_64bit;    /* the 4 GiB rung needs a 64-bit kernel */
	int max_of_rounded;   /* max from the rounded size, not raw */
} ctp_default_rule;

typedef struct ctp_table_default {
	const ctp_default_rule *rule;
	uint64_t raw;         /* before rounding */
	uint64_t buckets;     /* nf_conntrack_buckets as the sysctl shows */
	uint64_t max;         /* nf_conntrack_max */
} ctp_table_default;

/* The rule of version v (never NULL). */
const ctp_default_rule *ctp_kernel_default_rule(const ctp_kver *v);
/*
 * Defaults of version v on a machine with ram_pages pages of page_size
 * bytes (4096 on x86_64) and a bits-bit kernel (32 or 64).  Returns 0,
 * or CTP_EFAIL for a page size that is not a power of two >= 1024 or
 * bits other than 32 and 64.
 */
int ctp_kernel_table_default(const ctp_kver *v, uint64_t ram_pages,
			     unsigned page_size, unsigned bits,
			     ctp_table_default *out);

/*
 * What a full table does with a new flow (__nf_conntrack_alloc() and
 * early_drop()): when the namespace's count is at nf_conntrack_max the
 * kernel looks for an entry it may evict near the new flow's own bucket
 * (the bucket of its original tuple).  Evictable: not ASSURED, not
 * offloaded (4.16+), not dying, of the same namespace; an expired entry
 * found on the way is reaped but does not count.  If one is evicted the
 * flow is admitted and early_drop counts the evictions; if none, the
 * packet is dropped, drop counts it, and "table full, dropping packet"
 * is logged (rate limited).
 */
#define CTP_EVICTION_RANGE 8 /* NF_CT_EVICTION_RANGE, every version */

typedef enum ctp_evict_era {
	/* <= 4.6: whole buckets from the flow's own, until an evictable
	 * entry turns up or 8 nodes were passed; evicts one entry */
	CTP_EVICT_NODES = 0,
	/* 4.7 - 4.8: 8 tries of reciprocal_scale(hash++): the same bucket
	 * 8 times; evicts one (4.7) or every evictable entry there */
	CTP_EVICT_ONE_BUCKET,
	/* 4.9+: the flow's bucket and the next 7; evicts every evictable
	 * entry of the first bucket that holds one */
	CTP_EVICT_BUCKETS,
	CTP_EVICT_ERA_COUNT
} ctp_evict_era;

typedef struct ctp_evict_rule {
	ctp_evict_era era;
	const char *name;     /* "scan-8-nodes", "one-bucket", "8-buckets" */
	const char *versions;
	const char *source;
	unsigned range;       /* nodes (NODES) or buckets scanned */
	int evicts_all;       /* every evictable entry of the bucket */
	int skips_offload;    /* [OFFLOAD] entries are never evicted */
} ctp_evict_rule;

const ctp_evict_rule *ctp_kernel_early_drop(const ctp_kver *v);

/*
 * The garbage collector's eviction from a nearly full table (gc_worker,
 * nf_conntrack_core.c): once an insert found the table full and
 * early_drop() freed nothing, the next pass of the gc worker over the
 * whole hash table kills, in bucket order, every entry it may evict of
 * a namespace whose count is at least nf_conntrack_max / 100 * 95, until
 * the count falls under that: entries not ASSURED, and ASSURED ones the
 * protocol lets go (TCP in FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT or
 * CLOSE; SCTP and DCCP closing states); never offloaded ones.  The flag
 * that arms it is cleared when a pass completes.  No conntrack -S
 * counter counts these kills (tests/lab/test_gc_evict.sh on 6.18: 2000
 * ASSURED entries at max 2000, a refused insert, 14 s later 1899 left,
 * the 101 evicted all TIME_WAIT or CLOSE; drop and early_drop unchanged).
 */
typedef enum ctp_gc_evict_known {
	CTP_GC_EVICT_NO = 0,      /* the gc worker only reaps expired */
	CTP_GC_EVICT_YES = 1,
	CTP_GC_EVICT_UNKNOWN = 2, /* a version between two read: assumed no */
} ctp_gc_evict_known;

typedef struct ctp_gc_evict_rule {
	ctp_gc_evict_known known;
	unsigned pct;          /* of nf_conntrack_max: 95 */
	const char *versions;
	const char *source;
} ctp_gc_evict_rule;

const ctp_gc_evict_rule *ctp_kernel_gc_evict(const ctp_kver *v);

/*
 * The longest wait, in seconds, between two passes of the gc worker on
 * kernel v (0: not read for that version): a full table's drops last
 * until the next pass, which is not brought forward by the drop.
 */
unsigned ctp_kernel_gc_pass_max_s(const ctp_kver *v);

/* nf_conntrack_max / 100 * 95, as the kernel computes it (unsigned) */
uint64_t ctp_kernel_gc_threshold(uint64_t max);

/*
 * Which code paths raise the conntrack -S counters that bear on sizing,
 * so a reading can split drop by cause (include/ctplan/host.h):
 *   full table:  __nf_conntrack_alloc() finds count > max and
 *                early_drop() frees nothing: drop (in nf_conntrack_in,
 *                "too stressed to deal"), and the "table full" message;
 *   eviction:    early_drop() frees an unassured entry: early_drop;
 *   insert clash that is not resolved (two flows with one tuple, NAT
 *                out of ports): insert_failed, and drop where
 *                clash_in_drop;
 *   clash resolved (UDP races): clash_resolve where the kernel has it;
 *                on older kernels insert_failed as well;
 *   chain too long (5.15+): chaintoolong and insert_failed.
 */
typedef struct ctp_counter_rule {
	const char *versions;
	const char *source;
	int clash_in_drop;             /* a lost clash also raises drop */
	int resolved_in_insert_failed; /* a resolved clash raises
					* insert_failed (no clash_resolve) */
	int has_chaintoolong;          /* the counter exists */
	int chain_in_insert_failed;    /* chaintoolong raises insert_failed */
	int chain_in_drop;             /* chaintoolong raises drop */
} ctp_counter_rule;

const ctp_counter_rule *ctp_kernel_counter_rule(const ctp_kver *v);

/*
 * nf_conntrack_init_start() sets nf_conntrack_max = max_factor x the
 * table size; max_factor starts at 8 and drops to the default rule's
 * factor (4, or 1 from 5.15) only when no hashsize was given.  So a
 * hashsize= module option sets max to 8 x hashsize until the sysctl
 * applies.  Read in nf_conntrack_core.c of 3.10.108, 4.9.337, 5.4.286,
 * [6.1] and 6.8.0 ("int max_factor = 8;").
 */
#define CTP_HASHSIZE_MAX_FACTOR 8

/* The largest nf_conntrack_max the sysctl accepts: an int, every
 * version (proc_dointvec, later _minmax up to SYSCTL_INT_MAX). */
#define CTP_SYSCTL_INT_MAX 2147483647

/* Default timeouts in seconds, used where the input has no sysctl. */
typedef struct ctp_timeouts {
	unsigned tcp_established, tcp_time_wait;
	unsigned udp, udp_stream;
	unsigned icmp, generic;
	const char *versions;
	const char *source;
} ctp_timeouts;

const ctp_timeouts *ctp_kernel_timeouts(const ctp_kver *v);

/*
 * The page size the kernel sizes its table with (default buckets from
 * RAM pages, nf_ct_alloc_hashtable()'s rounding): 4 KiB, as on x86_64
 * and most arm64 builds; 64 KiB-page kernels (some arm64, ppc64) are
 * not modelled.
 */
unsigned ctp_kernel_page_size(void);

/*
 * Memory of one entry: the object of the "nf_conntrack" slab cache
 * (sizeof(struct nf_conn) rounded up to a cache line: the cache is
 * SLAB_HWCACHE_ALIGN) plus its extension area, a kmalloc'd block of at
 * least ext_prealloc bytes holding a 16-byte header and each extension
 * the entry carries.  Bucket heads are 8 bytes (struct
 * hlist_nulls_head, 64-bit).
 */
#define CTP_BUCKET_HEAD_BYTES 8

enum {
	CTP_EXT_HELPER = 1u << 0,
	CTP_EXT_NAT = 1u << 1,
	CTP_EXT_SEQADJ = 1u << 2,
	CTP_EXT_ACCT = 1u << 3,
	CTP_EXT_ECACHE = 1u << 4,
	CTP_EXT_TSTAMP = 1u << 5,
	CTP_EXT_TIMEOUT = 1u << 6,
	CTP_EXT_LABELS = 1u << 7,
	CTP_EXT_SYNPROXY = 1u << 8,
};

typedef struct ctp_conn_size {
	unsigned struct_bytes;  /* sizeof(struct nf_conn) */
	unsigned slab_bytes;    /* object size of the slab cache */
	unsigned ext_header;    /* struct nf_ct_ext */
	unsigned ext_prealloc;  /* smallest extension block */
	int measured;           /* read on a running kernel (BTF, slabinfo) */
	const char *versions;
	const char *source;
} ctp_conn_size;

const ctp_conn_size *ctp_kernel_conn_size(const ctp_kver *v);

/* Bytes the extensions of ext_mask use in their block (the header and
 * each aligned extension), before the block is rounded up to
 * ext_prealloc and a kmalloc size class; 0 for an empty mask. */
unsigned ctp_kernel_ext_used(const ctp_kver *v, unsigned ext_mask);
/* The name of one CTP_EXT_* bit: "helper", "nat", "seqadj", "acct",
 * "events", "timestamp", "timeout", "labels", "synproxy"; NULL for
 * another value. */
const char *ctp_kernel_ext_name(unsigned bit);
/* Bytes of the extension block of an entry with the extensions in
 * ext_mask (CTP_EXT_*), as kmalloc rounds it; 0 for none. */
unsigned ctp_kernel_ext_bytes(const ctp_kver *v, unsigned ext_mask);

#endif
