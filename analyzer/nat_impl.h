/*
 * Private to the NAT model (include/ctplan/nat.h): the state one model
 * run shares between its steps, and what each file of the model gives
 * the others.  One idea a file, in the order ctp_nat_model_run() takes
 * them:
 *
 *   nat_group.c      entries into groups, the kernel's uniqueness
 *                    domain (protocol, NAT address, peer, zone), and
 *                    every port each group has taken (its occupants)
 *   nat_table.c      the lookup tables of nat_group.c: group by key,
 *                    and the set of NAT addresses
 *   nat_remap.c      source-NAT entries that got a new port, and the
 *                    entry that held the port each one wanted
 *   nat_range.c      the port range of a group: the option, one inferred
 *                    from its mapped ports, or the kernel's default
 *   nat_search.c     the kernel's port search of each era: its exact
 *                    failure probability, and one search as it runs
 *   nat_risk.c       how likely the next connection of a group fails
 *                    now (p_keep, p_search_fail, p_fail_next)
 *   nat_threshold.c  the utilization at which that reaches 1% and 50%,
 *                    from ranges the kernel's port choice fills
 *   nat.c            the run in order, and the result ranked by risk
 */
#ifndef CTPLAN_NAT_IMPL_H
#define CTPLAN_NAT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctplan/flow.h"
#include "ctplan/nat.h"
#include "par.h"

/* ---- the port search (nat_search.c) ---- */

/* A maximal run of consecutive taken indices of a range. */
typedef struct run {
	uint32_t start; /* first index */
	uint32_t len;   /* indices; the last run may pass size (cyclic) */
	size_t base;    /* position of its first index in run order */
} run;

/* The runs of one range; the arrays are kept between calls (a model
 * asks for thousands of ranges: one allocation, not one per range). */
typedef struct runs {
	run *r;
	size_t n;
	int full;     /* every index taken */
	uint32_t *ev; /* evictable prefix counts in run order, n + 1 */
	uint32_t nev; /* evictable indices in all */
	size_t cap;   /* room in r and ev */
} runs;

void ctp_nat_runs_release(runs *rs);

/*
 * The runs of a bitmap of size bits in 64-bit words (no evictable
 * holders), as ctp_nat_p_search_fail() builds them from a list of
 * taken indices.  *n gets the taken count.  0 or CTP_ENOMEM.
 */
int ctp_nat_runs_from_bits(const uint64_t *w, uint32_t size, runs *rs,
			   size_t *n);

/* ctp_nat_p_search_fail() with the caller's run arrays; NAN when out of
 * memory. */
double ctp_nat_p_search_fail_rs(const ctp_nat_algo *algo,
				const ctp_nat_taken *t, int evict_tcp,
				runs *rs);

/* The rounds of the search (algo->first_round > 0) on runs already
 * built from t, which has at least one taken index. */
double ctp_nat_p_rounds(const ctp_nat_algo *algo, const ctp_nat_taken *t,
			int evict_tcp, const runs *rs);

/* Bit i of a bitmap; a NULL bitmap has no bit set. */
static inline int ctp_nat_bit(const uint8_t *b, uint32_t i)
{
	return b && (b[i >> 3] >> (i & 7)) & 1;
}

/* ---- groups and their occupants ---- */

/* MUST stay 40 bytes without padding: it is hashed and compared as
 * bytes. */
typedef struct gkey {
	uint8_t nat[16];
	uint8_t peer[16];
	uint16_t ns;
	uint16_t zone;
	uint16_t pport;
	uint8_t family;
	uint8_t proto;
} gkey;
_Static_assert(sizeof(gkey) == 40, "gkey must have no padding");

enum {
	OCC_REPLY = 1u << 0, /* the reply tuple lies in the group */
	OCC_SNAT = 1u << 1,
	OCC_REMAP = 1u << 2,
	OCC_EVICT = 1u << 3,
};

/*
 * One entry's claim on one port of a group, packed so that the order
 * of the numbers is the order a group's occupants are kept in: by port,
 * a reply-direction holder first (it names the entry that took the
 * port), then by flow.  port << 37 | (not reply) << 36 | flow << 4 |
 * OCC_* flags; the flow index is below 2^32 (checked at the start).
 */
typedef uint64_t occ;

static inline occ occ_make(uint16_t port, uint32_t flow, unsigned flags)
{
	return (uint64_t)port << 37 |
	       (uint64_t)!(flags & OCC_REPLY) << 36 |
	       (uint64_t)flow << 4 | (flags & 15u);
}

static inline uint16_t occ_port(occ o)
{
	return (uint16_t)(o >> 37);
}

static inline uint32_t occ_flow(occ o)
{
	return (uint32_t)(o >> 4);
}

static inline unsigned occ_flags(occ o)
{
	return (unsigned)(o & 15u);
}

typedef struct grp {
	gkey key;
	size_t occ_off, occ_n;
	ctp_nat_group pub;
} grp;

/* One model run. */
typedef struct model {
	const ctp_snapshot *snap;
	const ctp_nat_opts *opts;
	ctp_nat_algo algo;
	size_t nflows;
	uint16_t *ns_of_input;
	grp *g;
	gkey *keys;     /* the groups' keys again, dense for the lookups */
	size_t ng, gcap;
	/* hash (low 32 bits) << 32 | group index + 1; 0: empty */
	uint64_t *slot;
	size_t nslots;
	occ *o;         /* every group's occupants, group after group */
	size_t no;
	size_t max_occ; /* occupants of the largest group */
	ctp_nat_remap *rm;
	size_t nrm, rmcap;
	/* pass 1 to pass 2: the group of each source-NAT entry in flow
	 * order, and the groups' NAT addresses (addr[], its own table) */
	uint32_t *sg;
	size_t nsg, sgcap;
	/* pass 2 walks the flows in CTP_PAR_WORKERS parts (par.h) that
	 * start at part_at[]; sg_at[] is nsg where each part starts */
	size_t part_at[CTP_PAR_WORKERS + 1], sg_at[CTP_PAR_WORKERS];
	uint8_t (*addr)[16];
	size_t naddr, acap;
	uint32_t *aslot; /* index + 1 into addr, 0: empty */
	size_t naslots;
	/* scratch of the per-group work, sized once for the largest */
	uint32_t *tk;
	uint8_t *ev;
	runs rs;
} model;

/* ---- an entry as the model reads it ---- */

static inline int is_snat(const ctp_flow *f)
{
	return memcmp(f->reply.dst, f->orig.src, 16) != 0;
}

static inline int is_dnat(const ctp_flow *f)
{
	return memcmp(f->reply.src, f->orig.dst, 16) != 0;
}

/* Protocols the model groups: ports, and icmp with its id printed. */
static inline int modelled(const ctp_flow *f)
{
	if (ctp_proto_has_ports(f->proto))
		return 1;
	return ctp_proto_is_icmp(f->proto) && !(f->flags & CTP_F_NO_ICMP);
}

/* The port a flow's reply tuple (dir 1) or original tuple (dir 0)
 * takes, seen as the reply tuple of a new entry. */
static inline uint16_t port_of(const ctp_flow *f, int dir)
{
	const ctp_tuple *t = dir ? &f->reply : &f->orig;

	return ctp_proto_is_icmp(f->proto) ? t->sport : t->dport;
}

/* The port (ICMP id) the entry came with, and the one it got. */
static inline uint16_t orig_port(const ctp_flow *f)
{
	return f->orig.sport;
}

static inline uint16_t mapped_port(const ctp_flow *f)
{
	return ctp_proto_is_icmp(f->proto) ? f->reply.sport : f->reply.dport;
}

/* TCP holders nf_nat_may_kill() accepts: state >= TIME_WAIT, source
 * NAT; the flags it also checks (FIXED_TIMEOUT, DYING) are not dumped */
static inline int evictable(const ctp_flow *f)
{
	return f->proto == CTP_P_TCP && is_snat(f) &&
	       (f->state == CTP_TCP_TIME_WAIT || f->state == CTP_TCP_CLOSE ||
		f->state == CTP_TCP_SYN_SENT2);
}

/* ---- the steps ---- */

/* nat_table.c: the index of the group with key k, or -1; with create,
 * made if missing (-2 on out of memory). */
long ctp_nat_group_find(model *m, const gkey *k, int create);
/* nat_table.c: is a the NAT address of some group?  Settles most
 * lookups of pass 2 without making a key. */
int ctp_nat_addr_known(const model *m, const uint8_t a[16]);
/* nat_table.c: note a group's NAT address.  0 or CTP_ENOMEM. */
int ctp_nat_addr_add(model *m, const uint8_t a[16]);

/* nat_group.c: one id per distinct namespace label of the inputs. */
int ctp_nat_ns_ids(model *m);
/* nat_group.c: pass 1, counts, groups of source-NAT entries, remaps. */
int ctp_nat_pass_groups(model *m, ctp_nat_result *res);
/* nat_group.c: pass 2, every group's occupants, sorted by port. */
int ctp_nat_pass_occupants(model *m);

/* nat_remap.c: note that flow got a new port in group g (the first
 * max_remaps are kept).  0 or CTP_ENOMEM. */
int ctp_nat_remap_add(model *m, size_t flow, size_t g);
/* nat_remap.c: the holder of the wanted port of every remap kept, or
 * the reason there is none; after every group has its range. */
void ctp_nat_find_holders(model *m);

/* nat_range.c: the port range of g and whether it is random. */
void ctp_nat_group_range(model *m, grp *g);

/* nat_risk.c: the client ports a new connection of g comes from. */
void ctp_nat_client_ports(const model *m, const grp *g, unsigned *lo,
			  unsigned *hi);

/*
 * nat_risk.c: the share of client ports the next connection keeps
 * (step 3 of kernel.h).  taken(ud, lo, hi): how many of the ports in
 * [lo, hi] are taken.
 */
typedef uint64_t (*count_fn)(const void *ud, unsigned lo, unsigned hi);

double ctp_nat_keep_share(int random, ctp_nat_range_src src, unsigned rlo,
			  unsigned rhi, unsigned clo, unsigned chi,
			  count_fn taken, const void *ud);

/* nat_risk.c: utilization, p_keep, p_search_fail and p_fail_next of g
 * (after its range).  0 or CTP_ENOMEM. */
int ctp_nat_group_probability(model *m, grp *g);

/* nat_threshold.c: util_p1 and util_p50 of every group (after the
 * ranges).  0 or CTP_ENOMEM. */
int ctp_nat_all_thresholds(model *m);

#endif
