/*
 * Representation of a snapshot.
 *
 * Flows are one growable array of fixed-size records (struct flow_rec, 48
 * bytes, half a struct ctp_flow: the table's largest allocation is what
 * the memory budget of 96 bytes per entry is spent on); the four
 * addresses of a flow that do not fit in 32 bits each sit in a side array
 * (addr6), the rarer fields in another (extras), both indexed from the
 * record, and strings (helper, secctx, labels, unknown tokens) in one pool
 * of NUL-terminated strings addressed by offset, so a 4M-entry table is a
 * handful of allocations.  Offset 0 of the pool is the empty string.
 */
#ifndef CTPLAN_SNAPSHOT_IMPL_H
#define CTPLAN_SNAPSHOT_IMPL_H

#include "ctplan/snapshot.h"

/*
 * One stored flow.  An address of a ctp_flow is 16 bytes, but an IPv4 one
 * uses only the first 4: when bytes 4-15 of all four addresses are zero,
 * the first 4 of each are kept inline (a.v4, in the order orig src, orig
 * dst, reply src, reply dst); otherwise the four go whole into addr6[a.side]
 * and REC_SIDE is set.  The choice is by content, not by family, so any
 * flow decodes to exactly the bytes it was added with.
 */
typedef struct flow_rec {
	union {
		uint8_t v4[4][4];
		uint32_t side;
	} a;
	uint16_t port[4]; /* orig sport, dport, reply sport, dport */
	uint32_t timeout;
	uint32_t mark;
	uint32_t extra;
	uint16_t flags; /* CTP_F_*, and REC_SIDE */
	uint16_t zone;
	uint16_t input;
	uint16_t use;
	uint8_t family;
	uint8_t proto;
	uint8_t state;
	uint8_t event;
} flow_rec;

_Static_assert(sizeof(flow_rec) == 48, "a stored flow is 48 bytes");

/* flow_rec.flags: the addresses are in addr6 (see CTP_F_SNAPSHOT) */
#define REC_SIDE CTP_F_SNAPSHOT

typedef struct flow_addr6 {
	uint8_t a[4][16]; /* orig src, orig dst, reply src, reply dst */
} flow_addr6;

typedef struct ctp_stat_set {
	uint64_t v[CTP_STAT_COUNT];
	uint32_t present; /* bit per ctp_stat */
	size_t rows;      /* CPU lines */
} ctp_stat_set;

typedef struct ctp_kv {
	char *key;
	char *val;
} ctp_kv;

struct ctp_snapshot {
	flow_rec *flows;
	size_t nflows, capflows;
	flow_addr6 *addr6;
	size_t naddr6, capaddr6;
	ctp_flow_extra *extras;
	size_t nextras, capextras;
	char *pool;
	size_t poollen, poolcap;

	ctp_input_info *inputs;
	ctp_stat_set *stats; /* one per input */
	size_t ninputs, capinputs;
	size_t read_errors; /* ctp_snapshot_input_failed calls */
	size_t skipped_listed; /* skipped inputs listed */
	uint64_t skipped_more; /* and those only counted */
	unsigned char *overlap; /* ninputs x ninputs, after finalize */

	ctp_kv *sysctl; /* [0, sortedsysctl) sorted by key, then new keys */
	size_t nsysctl, capsysctl, sortedsysctl;
	ctp_kv *meminfo;
	size_t nmeminfo, capmeminfo, sortedmeminfo;

	ctp_kevent *kevents; /* kernel log events, in reading order */
	size_t nkevents, capkevents;

	uint64_t count;
	int has_count;
	ctp_kernel_info kernel;
	int has_kernel;
	ctp_slab_info slab;
	int has_slab;
	ctp_kube_proxy kube_proxy;
};

#endif
