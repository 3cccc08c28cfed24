/*
 * ctplan NAT model: source-NAT port remaps in a saved table, who held
 * the port a remapped entry wanted, and how close every destination is
 * to running out of ports.
 *
 * A new source-NAT entry needs a reply tuple no other entry of its
 * network namespace has (nf_nat_used_tuple()): for one protocol, NAT
 * address, peer address, peer port and zone (a "group"), every port is
 * either taken or free.  The model rebuilds each group's taken ports
 * from the table, replays the kernel's port choice of the version in
 * the input (ctp_kernel_nat_algo()) against them, and gives the
 * probability that the next new connection of the group fails.
 *
 * Nothing here prints or keeps global state.  Memory: a ctp_nat_result
 * owns its arrays; ctp_nat_result_release() frees them.  Pointers into
 * the snapshot (namespace labels) stay valid as long as the snapshot.
 */
#ifndef CTPLAN_NAT_H
#define CTPLAN_NAT_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/error.h"
#include "ctplan/kernel.h"
#include "ctplan/rng.h"
#include "ctplan/snapshot.h"

/* ---- the port choice on one range ---- */

/*
 * A range's taken ports as indices (port - lo), sorted and distinct;
 * evict[i] is 1 when the entry holding taken[i] may be evicted by a new
 * TCP SYN (6.5+: a source-NAT entry in TIME_WAIT or CLOSE), else 0;
 * evict may be NULL.
 */
typedef struct ctp_nat_taken {
	const uint32_t *taken;
	const uint8_t *evict;
	size_t n;
	uint32_t size; /* ports in the range, 1..65536 */
} ctp_nat_taken;

/* The chance that an evictable holder really is evicted: the new SYN's
 * sequence must have passed the old entry's (nf_seq_has_advanced()),
 * and initial sequence numbers of different 4-tuples are unrelated. */
#define CTP_NAT_EVICT_P 0.5

/*
 * Probability that the port search (step 4 of kernel.h) finds no free
 * port: exact over the 65536 start offsets of every round, u16 wrap
 * included.  evict_tcp: the entry is a TCP SYN, so the era's eviction
 * applies.  0 for an empty range.
 */
double ctp_nat_p_search_fail(const ctp_nat_algo *algo,
			     const ctp_nat_taken *t, int evict_tcp);

/*
 * One port search as the kernel runs it, with random starts from rng:
 * taken and evict are bitmaps of size bits (evict may be NULL; an
 * evictable port is taken over with CTP_NAT_EVICT_P).  Returns the index
 * found, or -1 when every probe found its port taken.
 */
long ctp_nat_search(const ctp_nat_algo *algo, uint32_t size,
		    const uint8_t *taken, const uint8_t *evict, int evict_tcp,
		    ctp_rng *rng);

/* ---- the model over a snapshot ---- */

typedef struct ctp_nat_opts {
	ctp_kver kernel;        /* whose port choice to model (default:
				 * ctp_kernel_newest()) */
	/* --nat-range for port protocols; range_lo > range_hi: none */
	unsigned range_lo, range_hi;
	uint64_t seed;          /* names every random draw */
	unsigned samples;       /* simulated fills per range (thresholds) */
	/* ports clients connect from (the next connection's own port) */
	unsigned client_lo, client_hi;
	size_t max_remaps;      /* remaps listed; more are only counted */
} ctp_nat_opts;

/* An initializer of automatic storage only (it calls a function). */
#define CTP_NAT_OPTS_INIT                                               \
	{ ctp_kernel_newest(), 1, 0, 1, 8, CTP_EPHEMERAL_LO,            \
	  CTP_EPHEMERAL_HI, 10000 }

#define CTP_NAT_NONE SIZE_MAX

typedef enum ctp_nat_range_src {
	CTP_NAT_RANGE_DEFAULT = 0, /* the kernel's, no --to-ports */
	CTP_NAT_RANGE_OPTION,      /* --nat-range */
	CTP_NAT_RANGE_INFERRED,    /* the mapped ports of the NAT address
				    * cluster in one narrow range */
} ctp_nat_range_src;

typedef enum ctp_nat_reason {
	/* another entry holds the original port towards the same peer */
	CTP_NAT_REASON_TAKEN = 0,
	/* the original port is outside the rule's range */
	CTP_NAT_REASON_OUTSIDE,
	/* no port is kept: --random / --random-fully (inferred) */
	CTP_NAT_REASON_RANDOM,
	/* the port was taken when the entry was made; the holder has
	 * left the table since */
	CTP_NAT_REASON_GONE,
} ctp_nat_reason;

const char *ctp_nat_reason_name(ctp_nat_reason r);
const char *ctp_nat_range_src_name(ctp_nat_range_src s);

typedef struct ctp_nat_group {
	const char *ns;          /* input namespace label, "" for the host */
	uint8_t family, proto;
	uint16_t zone;           /* reply-direction zone id */
	uint8_t nat_addr[16];    /* reply destination */
	uint8_t peer_addr[16];   /* reply source */
	/* reply source port; icmp: the reply's type << 8 | code */
	uint16_t peer_port;
	uint64_t entries;        /* entries whose reply tuple is in it */
	uint64_t snat_entries;   /* of those, source NAT */
	uint64_t remapped;       /* of those, port remapped */
	uint64_t evictable;      /* holders a SYN may evict (6.5+ TCP) */
	unsigned range_lo, range_hi;
	ctp_nat_range_src range_src;
	int random;              /* no port kept: --random(-fully) inferred */
	uint64_t used;           /* distinct taken ports in the range */
	double utilization;      /* used / range size */
	double p_keep;           /* the next connection keeps its port */
	double p_search_fail;    /* ... or, searching, finds none free */
	double p_fail_next;      /* (1 - p_keep) * p_search_fail */
	/* utilization of a range the kernel filled from empty at which
	 * p_fail_next reaches 1% and 50%; NAN if never within the fill */
	double util_p1, util_p50;
} ctp_nat_group;

typedef struct ctp_nat_remap {
	size_t flow;    /* flow index (ctp_snapshot_flow_get) */
	size_t holder;  /* index of the entry holding the port, or NONE */
	size_t group;   /* index into groups */
	ctp_nat_reason reason;
} ctp_nat_remap;

typedef struct ctp_nat_result {
	ctp_nat_algo algo;
	ctp_kver kernel;
	uint64_t entries;    /* entries examined (not dup, not events) */
	uint64_t snat, dnat; /* entries with source / destination NAT */
	uint64_t remapped;   /* source NAT with a new port or ICMP id */
	uint64_t no_icmp;    /* icmp entries without id (xml): not judged */
	ctp_nat_group *groups; /* sorted by risk, riskiest first */
	size_t ngroups;
	ctp_nat_remap *remaps; /* in table order, at most max_remaps */
	size_t nremaps;
} ctp_nat_result;

/*
 * Run the model on a finalized snapshot.  Flows marked CTP_F_DUP or
 * CTP_F_EVENT are skipped.  Returns 0, CTP_ENOMEM, or CTP_EFAIL for bad
 * options (err says which).  out is filled on success and must be
 * released with ctp_nat_result_release().
 */
int ctp_nat_model_run(const ctp_snapshot *snap, const ctp_nat_opts *opts,
		      ctp_nat_result *out, ctp_error *err);
void ctp_nat_result_release(ctp_nat_result *res);

/*
 * The "nat" report section (analyzer/nat_report.c, docs/report.md): the
 * model's result with the options it ran with; render/json_nat.c
 * writes it.  snap is borrowed (remaps name its flows).
 */
typedef struct ctp_nat_section {
	const ctp_snapshot *snap;
	ctp_nat_opts opts;
	ctp_nat_result res;
	size_t max_groups;        /* groups listed (--max-groups), 0 all */
	/* over every group, listed or not; 0 without groups */
	double max_utilization, max_p_fail_next;
} ctp_nat_section;

void ctp_nat_section_free(void *sec);

#endif
