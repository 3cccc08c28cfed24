/*
 * NAT model: source-NAT remaps, their holders, and the port exhaustion
 * of every reply-tuple group (include/ctplan/nat.h).
 *
 * Representation.  One pass over the flows makes a group for every
 * source-NAT entry's reply tuple without its port (open addressing on a
 * packed 40-byte key).  A second pass records every occupant of a
 * group's port space: each entry whose reply tuple, or whose original
 * tuple, lies in an existing group (nf_conntrack_tuple_taken() finds
 * either direction).  Occupants are then sorted by group and port, so a
 * group's taken ports are one contiguous, sorted slice, and a holder is
 * found by binary search.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/nat.h"

/* ---- the port search on one range ---- */

/*
 * The exact failure probability of a round of a probes.  Probe i of a
 * start off looks at index ((off + i) mod space) mod size (space: the
 * u16 offset, 65536).  For the space - a + 1 starts that do not wrap,
 * the a indices are consecutive mod size, and the round fails exactly
 * when its first index starts a run of at least a taken indices; how
 * many starts map to each first index r is q + (r < rem).  So a sum
 * over the long runs of the range, not over 65536 starts.  The a - 1
 * starts that wrap probe l1 indices from off mod size and then a - l1
 * from 0 (the kernel's u16 wraps): checked one by one.
 *
 * Eviction (6.5+ TCP): an evictable index among the last e probes lets
 * the round succeed with CTP_NAT_EVICT_P, independently per probe and
 * round -- in the kernel the "sequence has advanced" test of a holder is
 * the same in every round, so across rounds this slightly understates
 * the failure probability when evictable holders are probed twice.
 */

typedef struct run {
	uint32_t start; /* first index */
	uint32_t len;   /* indices; the last run may pass size (cyclic) */
	size_t base;    /* position of its first index in run order */
} run;

typedef struct runs {
	run *r;
	size_t n;
	int full;     /* every index taken */
	uint32_t *ev; /* evictable prefix counts in run order, n + 1 */
} runs;

static void runs_release(runs *rs)
{
	free(rs->r);
	free(rs->ev);
}

/* Maximal runs of consecutive taken indices; a run through size - 1
 * and 0 is merged into one that starts near the end. */
static int runs_build(const ctp_nat_taken *t, runs *rs)
{
	size_t i, first_run_end = 0;

	memset(rs, 0, sizeof(*rs));
	if (!t->n)
		return 0;
	rs->r = malloc(t->n * sizeof(*rs->r));
	rs->ev = calloc(t->n + 1, sizeof(*rs->ev));
	if (!rs->r || !rs->ev) {
		runs_release(rs);
		return CTP_ENOMEM;
	}
	rs->full = t->n == t->size;
	for (i = 0; i < t->n; i++) {
		if (i && t->taken[i] == t->taken[i - 1] + 1) {
			rs->r[rs->n - 1].len++;
			continue;
		}
		rs->r[rs->n].start = t->taken[i];
		rs->r[rs->n].len = 1;
		rs->r[rs->n].base = i;
		rs->n++;
	}
	if (!rs->full && rs->n > 1 && t->taken[0] == 0 &&
	    t->taken[t->n - 1] == t->size - 1) {
		/* the first run continues the last one */
		run *last = &rs->r[rs->n - 1];

		first_run_end = rs->r[0].len;
		last->len += rs->r[0].len;
		memmove(rs->r, rs->r + 1, (rs->n - 1) * sizeof(*rs->r));
		rs->n--;
		for (i = 0; i < rs->n; i++)
			rs->r[i].base -= first_run_end;
	}
	/* run order: taken[] rotated left by first_run_end */
	for (i = 0; i < t->n; i++) {
		size_t at = (i + first_run_end) % t->n;

		rs->ev[i + 1] = rs->ev[i] + (t->evict ? t->evict[at] : 0);
	}
	return 0;
}

/* Taken indices from x upwards, cyclically (UINT32_MAX if all are). */
static uint32_t run_from(const runs *rs, uint32_t size, uint32_t x)
{
	size_t lo = 0, hi = rs->n;

	if (rs->full)
		return UINT32_MAX;
	if (!rs->n)
		return 0;
	/* the wrap run, if any, is last and covers [0, end - size) */
	{
		const run *w = &rs->r[rs->n - 1];

		if (w->start + w->len > size && x < w->start + w->len - size)
			return w->start + w->len - size - x;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rs->r[mid].start <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	lo--;
	if (x < rs->r[lo].start + rs->r[lo].len)
		return rs->r[lo].start + rs->r[lo].len - x;
	return 0;
}

/* Is index x evictable?  Binary search of the sorted taken indices. */
static int evict_at(const ctp_nat_taken *t, uint32_t x)
{
	size_t lo = 0, hi = t->n;

	if (!t->evict)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->taken[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->taken[lo] == x && t->evict[lo];
}

/* Evictable entries among run-order positions [from, from + len),
 * cyclic over the n taken indices (the full range only wraps). */
static uint32_t ev_count(const runs *rs, size_t n, size_t from, size_t len)
{
	from %= n;
	if (from + len <= n)
		return rs->ev[from + len] - rs->ev[from];
	return rs->ev[n] - rs->ev[from] + rs->ev[from + len - n];
}

/*
 * One round of a probes: the probability, over the space start offsets,
 * that every probe finds its port taken (and no evictable holder among
 * the last e probes gives way).
 */
static double round_fail(const ctp_nat_taken *t, const runs *rs,
			 uint32_t space, uint32_t a, uint32_t e,
			 const double *keep_pow)
{
	/* offsets [0, n0) make windows of a consecutive indices mod size */
	uint32_t n0 = space - a + 1, q = n0 / t->size, rem = n0 % t->size;
	double sum = 0;

	for (size_t k = 0; k < rs->n || (rs->full && k == 0); k++) {
		uint32_t start = rs->full ? 0 : rs->r[k].start;
		uint32_t len = rs->full ? t->size : rs->r[k].len;
		uint32_t starts = rs->full ? t->size : len - a + 1;
		size_t base = rs->full ? 0 : rs->r[k].base;

		if (!rs->full && len < a)
			continue;
		for (uint32_t j = 0; j < starts; j++) {
			uint32_t r = (start + j) % t->size;
			double w = q + (r < rem);

			if (e)
				w *= keep_pow[ev_count(rs, t->n,
						       base + j + a - e, e)];
			sum += w;
		}
	}
	/* offsets [n0, space): l1 probes from off % size, then from 0 */
	for (uint32_t off = n0; off < space; off++) {
		uint32_t r1 = off % t->size, l1 = space - off, l2 = a - l1;
		uint32_t ne = 0;

		if (run_from(rs, t->size, r1) < l1 ||
		    run_from(rs, t->size, 0) < l2)
			continue;
		for (uint32_t i = a - e; i < a; i++)
			ne += evict_at(t, i < l1 ? (r1 + i) % t->size
						 : (i - l1) % t->size);
		sum += keep_pow[ne];
	}
	return sum / space;
}

double ctp_nat_p_search_fail(const ctp_nat_algo *algo,
			     const ctp_nat_taken *t, int evict_tcp)
{
	double keep_pow[129], p = 1;
	uint32_t a, e;
	runs rs;

	if (!t->n || !t->size)
		return 0;
	if (!algo->first_round) /* scan of the whole range */
		return t->n >= t->size ? 1 : 0;
	if (runs_build(t, &rs))
		return NAN;
	keep_pow[0] = 1;
	for (int i = 1; i < 129; i++)
		keep_pow[i] = keep_pow[i - 1] * (1 - CTP_NAT_EVICT_P);
	a = t->size < algo->first_round ? t->size : algo->first_round;
	for (;;) {
		e = evict_tcp && t->evict ? algo->evict_last : 0;
		if (e > a)
			e = a;
		p *= round_fail(t, &rs, algo->start_space, a, e, keep_pow);
		if (a >= t->size || a < algo->min_round || p == 0)
			break;
		a /= 2;
	}
	runs_release(&rs);
	return p;
}

static int bit(const uint8_t *b, uint32_t i)
{
	return b && (b[i >> 3] >> (i & 7)) & 1;
}

long ctp_nat_search(const ctp_nat_algo *algo, uint32_t size,
		    const uint8_t *taken, const uint8_t *evict, int evict_tcp,
		    ctp_rng *rng)
{
	uint32_t mask = algo->start_space - 1, off, a;

	if (!size)
		return -1;
	off = ctp_rng_below(rng, algo->start_space);
	if (!algo->first_round) {
		for (uint32_t i = 0; i < size; i++)
			if (!bit(taken, (off + i) % size))
				return (long)((off + i) % size);
		return -1;
	}
	a = size < algo->first_round ? size : algo->first_round;
	for (;;) {
		for (uint32_t i = 0; i < a; i++, off = (off + 1) & mask) {
			uint32_t x = off % size;

			if (!bit(taken, x))
				return x;
			/* nf_nat_used_tuple_harder(): attempts - i left */
			if (evict_tcp && a - i <= algo->evict_last &&
			    bit(evict, x) &&
			    (double)(ctp_rng_next(rng) >> 11) * 0x1.0p-53 <
				    CTP_NAT_EVICT_P)
				return x;
		}
		if (a >= size || a < algo->min_round)
			return -1;
		a /= 2;
		off = ctp_rng_below(rng, algo->start_space);
	}
}

/* ---- groups ---- */

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

/* one entry's claim on one port of a group */
typedef struct occ {
	uint32_t group;
	uint32_t flow;
	uint16_t port;
	uint8_t flags;
} occ;

typedef struct grp {
	gkey key;
	size_t occ_off, occ_n;
	ctp_nat_group pub;
} grp;

typedef struct model {
	const ctp_snapshot *snap;
	const ctp_nat_opts *opts;
	ctp_nat_algo algo;
	const ctp_flow *flows;
	size_t nflows;
	uint16_t *ns_of_input;
	grp *g;
	size_t ng, gcap;
	uint32_t *slot; /* group index + 1, 0: empty */
	size_t nslots;
	occ *o;
	size_t no, ocap;
	ctp_nat_remap *rm;
	size_t nrm, rmcap;
	ctp_rng rng;
} model;

static uint32_t key_hash(const gkey *k)
{
	return ctp_jhash(k, sizeof(*k), 0x6e6174u);
}

static int grow_slots(model *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 1024;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return CTP_ENOMEM;
	for (size_t i = 0; i < m->ng; i++) {
		size_t h = key_hash(&m->g[i].key) & (n - 1);

		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = (uint32_t)i + 1;
	}
	free(m->slot);
	m->slot = s;
	m->nslots = n;
	return 0;
}

/* Index of the group with key k, or -1; with create, made if missing
 * (-2 on out of memory). */
static long group_find(model *m, const gkey *k, int create)
{
	size_t h;

	if (create && (m->ng + 1) * 2 > m->nslots && grow_slots(m))
		return -2;
	if (!m->nslots)
		return -1;
	h = key_hash(k) & (m->nslots - 1);
	while (m->slot[h]) {
		grp *g = &m->g[m->slot[h] - 1];

		if (memcmp(&g->key, k, sizeof(*k)) == 0)
			return (long)(m->slot[h] - 1);
		h = (h + 1) & (m->nslots - 1);
	}
	if (!create)
		return -1;
	if (m->ng == m->gcap) {
		size_t n = m->gcap ? m->gcap * 2 : 256;
		grp *g = realloc(m->g, n * sizeof(*g));

		if (!g)
			return -2;
		m->g = g;
		m->gcap = n;
	}
	memset(&m->g[m->ng], 0, sizeof(m->g[m->ng]));
	m->g[m->ng].key = *k;
	m->slot[h] = (uint32_t)m->ng + 1;
	return (long)m->ng++;
}

static int occ_add(model *m, uint32_t group, size_t flow, uint16_t port,
		   uint8_t flags)
{
	if (m->no == m->ocap) {
		size_t n = m->ocap ? m->ocap * 2 : 1024;
		occ *o = realloc(m->o, n * sizeof(*o));

		if (!o)
			return CTP_ENOMEM;
		m->o = o;
		m->ocap = n;
	}
	m->o[m->no].group = group;
	m->o[m->no].flow = (uint32_t)flow;
	m->o[m->no].port = port;
	m->o[m->no].flags = flags;
	m->no++;
	return 0;
}

static int is_snat(const ctp_flow *f)
{
	return memcmp(f->reply.dst, f->orig.src, 16) != 0;
}

static int is_dnat(const ctp_flow *f)
{
	return memcmp(f->reply.src, f->orig.dst, 16) != 0;
}

/* Protocols the model groups: ports, and icmp with its id printed. */
static int modelled(const ctp_flow *f)
{
	if (ctp_proto_has_ports(f->proto))
		return 1;
	return ctp_proto_is_icmp(f->proto) && !(f->flags & CTP_F_NO_ICMP);
}

/* The key of a flow's reply tuple (dir 1) or original tuple (dir 0)
 * seen as a reply tuple of a new entry, and the port it takes. */
static void key_of(const model *m, const ctp_flow *f, int dir, gkey *k,
		   uint16_t *port)
{
	const ctp_tuple *t = dir ? &f->reply : &f->orig;
	const ctp_flow_extra *x = ctp_snapshot_extra(m->snap, f);

	memset(k, 0, sizeof(*k));
	memcpy(k->nat, t->dst, 16);
	memcpy(k->peer, t->src, 16);
	k->ns = m->ns_of_input[f->input];
	k->zone = ctp_hash_flow_zone(f, x, dir);
	k->family = f->family;
	k->proto = f->proto;
	if (ctp_proto_is_icmp(f->proto)) {
		/* the id is the key part; type and code name the peer */
		k->pport = t->dport;
		*port = t->sport;
	} else {
		k->pport = t->sport;
		*port = t->dport;
	}
}

/* The port (ICMP id) the entry came with, and the one it got. */
static uint16_t orig_port(const ctp_flow *f)
{
	return f->orig.sport;
}

static uint16_t mapped_port(const ctp_flow *f)
{
	return ctp_proto_is_icmp(f->proto) ? f->reply.sport : f->reply.dport;
}

/* TCP holders nf_nat_may_kill() accepts: state >= TIME_WAIT, source
 * NAT; the flags it also checks (FIXED_TIMEOUT, DYING) are not dumped */
static int evictable(const ctp_flow *f)
{
	return f->proto == CTP_P_TCP && is_snat(f) &&
	       (f->state == CTP_TCP_TIME_WAIT || f->state == CTP_TCP_CLOSE ||
		f->state == CTP_TCP_SYN_SENT2);
}

static int ns_ids(model *m)
{
	size_t n = ctp_snapshot_input_count(m->snap);

	m->ns_of_input = calloc(n ? n : 1, sizeof(*m->ns_of_input));
	if (!m->ns_of_input)
		return CTP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *ns = ctp_snapshot_input(m->snap, i)->ns;

		m->ns_of_input[i] = (uint16_t)i;
		for (size_t j = 0; j < i; j++)
			if (strcmp(ctp_snapshot_input(m->snap, j)->ns, ns) ==
			    0) {
				m->ns_of_input[i] = m->ns_of_input[j];
				break;
			}
	}
	return 0;
}

static int skip(const ctp_flow *f)
{
	return f->flags & (CTP_F_DUP | CTP_F_EVENT);
}

/* Pass 1: counts, groups of source-NAT entries, remaps. */
static int pass_groups(model *m, ctp_nat_result *res)
{
	for (size_t i = 0; i < m->nflows; i++) {
		const ctp_flow *f = &m->flows[i];
		gkey k;
		uint16_t port;
		long g;
		int remap;

		if (skip(f))
			continue;
		res->entries++;
		res->snat += is_snat(f);
		res->dnat += is_dnat(f);
		if (ctp_proto_is_icmp(f->proto) && (f->flags & CTP_F_NO_ICMP))
			res->no_icmp++;
		if (!is_snat(f) || !modelled(f))
			continue;
		key_of(m, f, 1, &k, &port);
		g = group_find(m, &k, 1);
		if (g < 0)
			return CTP_ENOMEM;
		m->g[g].pub.snat_entries++;
		remap = mapped_port(f) != orig_port(f);
		if (!remap)
			continue;
		res->remapped++;
		m->g[g].pub.remapped++;
		if (m->nrm == m->rmcap) {
			size_t n = m->rmcap ? m->rmcap * 2 : 64;
			ctp_nat_remap *r = realloc(m->rm, n * sizeof(*r));

			if (!r)
				return CTP_ENOMEM;
			m->rm = r;
			m->rmcap = n;
		}
		m->rm[m->nrm].flow = i;
		m->rm[m->nrm].holder = CTP_NAT_NONE;
		m->rm[m->nrm].group = (size_t)g;
		m->rm[m->nrm].reason = CTP_NAT_REASON_TAKEN;
		m->nrm++;
	}
	return 0;
}

static int occ_cmp(const void *pa, const void *pb)
{
	const occ *a = pa, *b = pb;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	/* a reply-direction holder first: it is the one that names the
	 * entry that took the port */
	if ((a->flags & OCC_REPLY) != (b->flags & OCC_REPLY))
		return (a->flags & OCC_REPLY) ? -1 : 1;
	return a->flow < b->flow ? -1 : a->flow > b->flow;
}

/* Pass 2: every entry's claim on a group's ports, either direction. */
static int pass_occupants(model *m)
{
	for (size_t i = 0; i < m->nflows; i++) {
		const ctp_flow *f = &m->flows[i];

		if (skip(f) || !modelled(f))
			continue;
		for (int dir = 1; dir >= 0; dir--) {
			gkey k;
			uint16_t port;
			uint8_t fl = 0;
			long g;

			key_of(m, f, dir, &k, &port);
			if ((g = group_find(m, &k, 0)) < 0)
				continue;
			if (dir) {
				fl = OCC_REPLY;
				if (is_snat(f))
					fl |= OCC_SNAT;
				if (is_snat(f) &&
				    mapped_port(f) != orig_port(f))
					fl |= OCC_REMAP;
				if (evictable(f))
					fl |= OCC_EVICT;
				m->g[g].pub.entries++;
			}
			if (occ_add(m, (uint32_t)g, i, port, fl))
				return CTP_ENOMEM;
		}
	}
	if (m->no) /* qsort(NULL, 0) is undefined */
		qsort(m->o, m->no, sizeof(*m->o), occ_cmp);
	for (size_t i = 0; i < m->no; i++) {
		grp *g = &m->g[m->o[i].group];

		if (!g->occ_n)
			g->occ_off = i;
		g->occ_n++;
	}
	return 0;
}

/* ---- ranges ---- */

/*
 * Infer a --to-ports range: under the kernel's default range a remapped
 * port is uniform over 1024-65535 (the search starts anywhere), so rr
 * distinct remapped ports of a group that, with every kept port of it,
 * fit in a window of w ports happen with probability below
 * rr * (w / 64512)^(rr - 1).  Below INFER_P the window is taken as the
 * rule's range.
 */
#define INFER_MIN_REMAPS 3
#define INFER_P 1e-3
/* --random(-fully) is inferred when at least this many source-NAT
 * entries of a group with the default range all changed port */
#define RANDOM_MIN_ENTRIES 8

/*
 * The range of one group: the option, else one inferred from its own
 * mapped ports, else the default.  Per group, not per NAT address: a
 * rule may give each destination port its own range.
 */
static int group_range(model *m, grp *g)
{
	const ctp_nat_opts *o = m->opts;
	int icmp = ctp_proto_is_icmp(g->key.proto);
	ctp_nat_group *p = &g->pub;
	uint16_t *all, *rem;
	size_t na = 0, nr = 0, kept = 0;

	all = malloc((g->occ_n ? g->occ_n : 1) * sizeof(*all));
	rem = malloc((g->occ_n ? g->occ_n : 1) * sizeof(*rem));
	if (!all || !rem) {
		free(all);
		free(rem);
		return CTP_ENOMEM;
	}
	for (size_t i = 0; i < g->occ_n; i++) {
		const occ *oc = &m->o[g->occ_off + i];

		if (!(oc->flags & OCC_SNAT))
			continue;
		all[na++] = oc->port;
		if (oc->flags & OCC_REMAP)
			rem[nr++] = oc->port;
		else
			kept++;
	}
	p->range_src = CTP_NAT_RANGE_DEFAULT;
	if (!icmp && o->range_lo <= o->range_hi) {
		p->range_src = CTP_NAT_RANGE_OPTION;
		p->range_lo = o->range_lo;
		p->range_hi = o->range_hi;
	} else if (!icmp && na) {
		size_t rr = 0;

		/* occupants are sorted by port already */
		for (size_t i = 0; i < nr; i++)
			rr += !i || rem[i] != rem[i - 1];
		if (rr >= INFER_MIN_REMAPS && all[0] >= 1024) {
			double w = all[na - 1] - all[0] + 1;

			if (rr * pow(w / 64512.0, (double)rr - 1) < INFER_P) {
				p->range_src = CTP_NAT_RANGE_INFERRED;
				p->range_lo = all[0];
				p->range_hi = all[na - 1];
			}
		}
	}
	if (p->range_src == CTP_NAT_RANGE_DEFAULT) {
		/* the next connection comes from a client port */
		if (!ctp_kernel_nat_default_range(g->key.proto,
						  icmp ? 0 : o->client_lo,
						  &p->range_lo, &p->range_hi)) {
			p->range_lo = 1;
			p->range_hi = 0;
		}
		p->random = na >= RANDOM_MIN_ENTRIES && kept == 0;
	}
	free(all);
	free(rem);
	return 0;
}

/* ---- probabilities ---- */

/* Client ports a new connection of g is drawn from. */
static void client_ports(const model *m, const grp *g, unsigned *lo,
			 unsigned *hi)
{
	if (ctp_proto_is_icmp(g->key.proto)) {
		*lo = 0;
		*hi = 65535;
	} else {
		*lo = m->opts->client_lo;
		*hi = m->opts->client_hi;
	}
}

/*
 * The share of client ports the next connection keeps (step 3 of
 * kernel.h): with the default range any free port; with a rule range a
 * port inside it, free unless the range is one port.  taken_in(x, n):
 * how many of the client ports in [x, x + n) are taken.
 */
typedef uint64_t (*count_fn)(const void *ud, unsigned lo, unsigned hi);

static double keep_share(int random, ctp_nat_range_src src, unsigned rlo,
			 unsigned rhi, unsigned clo, unsigned chi,
			 count_fn taken, const void *ud)
{
	double clients = (double)chi - clo + 1;
	unsigned lo, hi;

	if (random || clo > chi)
		return 0;
	if (src == CTP_NAT_RANGE_DEFAULT)
		return (clients - (double)taken(ud, clo, chi)) / clients;
	lo = rlo > clo ? rlo : clo;
	hi = rhi < chi ? rhi : chi;
	if (lo > hi)
		return 0;
	if (rlo == rhi)
		return 1 / clients;
	return ((double)hi - lo + 1 - (double)taken(ud, lo, hi)) / clients;
}

typedef struct slice {
	const occ *o;
	size_t n;
} slice;

/* distinct ports of a group's sorted occupants within [lo, hi] */
static uint64_t slice_taken(const void *ud, unsigned lo, unsigned hi)
{
	const slice *s = ud;
	uint64_t c = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->o[i].port >= lo && s->o[i].port <= hi &&
		    (!i || s->o[i].port != s->o[i - 1].port))
			c++;
	return c;
}

static int group_probability(model *m, grp *g)
{
	ctp_nat_group *p = &g->pub;
	const occ *oc = m->o + g->occ_off;
	uint32_t size, *tk = NULL;
	uint8_t *ev = NULL;
	size_t n = 0;
	unsigned clo, chi;
	slice s = { oc, g->occ_n };
	ctp_nat_taken t;

	if (p->range_lo > p->range_hi) {
		p->utilization = p->p_fail_next = p->p_keep = 0;
		p->p_search_fail = 0;
		return 0;
	}
	size = p->range_hi - p->range_lo + 1;
	tk = malloc((g->occ_n ? g->occ_n : 1) * sizeof(*tk));
	ev = malloc(g->occ_n ? g->occ_n : 1);
	if (!tk || !ev) {
		free(tk);
		free(ev);
		return CTP_ENOMEM;
	}
	for (size_t i = 0; i < g->occ_n; i++) {
		unsigned port = oc[i].port;
		int e = (oc[i].flags & OCC_EVICT) != 0;

		if (oc[i].flags & OCC_EVICT)
			p->evictable++;
		if (port < p->range_lo || port > p->range_hi)
			continue;
		if (n && tk[n - 1] == port - p->range_lo) {
			/* evictable only if every holder of it is */
			ev[n - 1] &= (uint8_t)e;
			continue;
		}
		tk[n] = port - p->range_lo;
		ev[n] = (uint8_t)e;
		n++;
	}
	t.taken = tk;
	t.evict = ev;
	t.n = n;
	t.size = size;
	p->used = n;
	p->utilization = (double)n / size;
	p->p_search_fail = ctp_nat_p_search_fail(
		&m->algo, &t, g->key.proto == CTP_P_TCP);
	client_ports(m, g, &clo, &chi);
	p->p_keep = keep_share(p->random, p->range_src, p->range_lo,
			       p->range_hi, clo, chi, slice_taken, &s);
	p->p_fail_next = (1 - p->p_keep) * p->p_search_fail;
	free(tk);
	free(ev);
	return isnan(p->p_search_fail) ? CTP_ENOMEM : 0;
}

/* ---- thresholds: fills of an empty range by the kernel's choices ---- */

typedef struct tcfg {
	unsigned lo, hi, clo, chi;
	ctp_nat_range_src src;
	int random;
	double p1, p50;
} tcfg;

typedef struct fill {
	uint32_t *order; /* indices in the order they were taken */
	uint32_t k;      /* how many */
} fill;

typedef struct bits_ud {
	const uint8_t *b;
	unsigned lo, size;
} bits_ud;

static uint64_t bits_taken(const void *ud, unsigned lo, unsigned hi)
{
	const bits_ud *u = ud;
	uint64_t c = 0;

	for (unsigned x = lo; x <= hi; x++)
		if (x >= u->lo && x - u->lo < u->size && bit(u->b, x - u->lo))
			c++;
	return c;
}

/* Fill window: stop once FILL_FAIL_SHARE of the last FILL_WINDOW
 * attempts failed (p_fail_next is well past 50% there). */
#define FILL_WINDOW 256
#define FILL_FAIL_SHARE 0.9

static int fill_run(const model *m, const tcfg *c, ctp_rng *rng, fill *f)
{
	uint32_t size = c->hi - c->lo + 1;
	uint8_t *b = calloc(size / 8 + 1, 1);
	uint8_t ring[FILL_WINDOW] = { 0 };
	unsigned fails = 0;
	uint64_t attempts = 0, cap = (uint64_t)size * 64 + 100000;

	f->k = 0;
	f->order = malloc(size * sizeof(*f->order));
	if (!b || !f->order) {
		free(b);
		free(f->order);
		f->order = NULL;
		return CTP_ENOMEM;
	}
	while (f->k < size && attempts < cap) {
		long x = -1;
		int failed = 0;

		if (!c->random && c->clo <= c->chi) {
			unsigned sp = c->clo +
				      ctp_rng_below(rng, c->chi - c->clo + 1);
			int in = sp >= c->lo && sp <= c->hi;

			if (in && (!bit(b, sp - c->lo) || c->lo == c->hi))
				x = sp - c->lo;
			else if (!in && c->src == CTP_NAT_RANGE_DEFAULT)
				x = -2; /* kept, outside the range */
		}
		if (x == -1) {
			x = ctp_nat_search(&m->algo, size, b, NULL, 0, rng);
			failed = x < 0;
		}
		if (x >= 0 && !bit(b, (uint32_t)x)) {
			b[x >> 3] |= (uint8_t)(1u << (x & 7));
			f->order[f->k++] = (uint32_t)x;
		}
		fails += failed - ring[attempts % FILL_WINDOW];
		ring[attempts % FILL_WINDOW] = (uint8_t)failed;
		attempts++;
		if (attempts >= FILL_WINDOW &&
		    fails >= FILL_FAIL_SHARE * FILL_WINDOW)
			break;
	}
	free(b);
	return 0;
}

/* p_fail_next averaged over the fills, each at its first k entries */
static double fills_p(const model *m, const tcfg *c, const fill *fl,
		      unsigned nf, uint32_t k, uint8_t *b, uint32_t *tk)
{
	uint32_t size = c->hi - c->lo + 1;
	double sum = 0;

	for (unsigned s = 0; s < nf; s++) {
		uint32_t kk = k < fl[s].k ? k : fl[s].k, n = 0;
		bits_ud ud = { b, c->lo, size };
		ctp_nat_taken t;
		double keep, ps;

		memset(b, 0, size / 8 + 1);
		for (uint32_t i = 0; i < kk; i++)
			b[fl[s].order[i] >> 3] |=
				(uint8_t)(1u << (fl[s].order[i] & 7));
		for (uint32_t x = 0; x < size; x++)
			if (bit(b, x))
				tk[n++] = x;
		t.taken = tk;
		t.evict = NULL;
		t.n = n;
		t.size = size;
		ps = ctp_nat_p_search_fail(&m->algo, &t, 0);
		keep = keep_share(c->random, c->src, c->lo, c->hi, c->clo,
				  c->chi, bits_taken, &ud);
		sum += (1 - keep) * ps;
	}
	return sum / nf;
}

/* Smallest k in [0, kmax] with fills_p >= target; -1 if none, -2 out
 * of memory (fills_p is NAN then). */
static long fills_k(const model *m, const tcfg *c, const fill *fl,
		    unsigned nf, uint32_t kmax, double target, uint8_t *b,
		    uint32_t *tk)
{
	uint32_t lo = 0, hi = kmax;
	double p = fills_p(m, c, fl, nf, kmax, b, tk);

	if (isnan(p))
		return -2;
	if (p < target)
		return -1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		p = fills_p(m, c, fl, nf, mid, b, tk);
		if (isnan(p))
			return -2;
		if (p >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int thresholds(const model *m, tcfg *c)
{
	unsigned nf = m->opts->samples ? m->opts->samples : 1;
	uint32_t size = c->hi - c->lo + 1, kmax = 0;
	fill *fl = calloc(nf, sizeof(*fl));
	uint8_t *b = calloc(size / 8 + 1, 1);
	uint32_t *tk = malloc(size * sizeof(*tk));
	int rc = CTP_ENOMEM;
	long k;

	if (!fl || !b || !tk)
		goto done;
	if (!m->algo.first_round) {
		/* the rover scan fails only when every port is taken, and then
		 * no client port can be kept either: both at a full range */
		c->p1 = c->p50 = 1;
		rc = 0;
		goto done;
	}
	for (unsigned s = 0; s < nf; s++) {
		ctp_rng rng;

		/* a stream per range and sample: the figures do not depend
		 * on which groups came first */
		ctp_rng_init(&rng, m->opts->seed,
			     ((uint64_t)c->lo << 40) ^ ((uint64_t)c->hi << 20) ^
				     ((uint64_t)c->random << 19) ^
				     ((uint64_t)c->src << 17) ^ s);
		if (fill_run(m, c, &rng, &fl[s]))
			goto done;
		if (fl[s].k > kmax)
			kmax = fl[s].k;
	}
	if ((k = fills_k(m, c, fl, nf, kmax, 0.01, b, tk)) == -2)
		goto done;
	c->p1 = k < 0 ? NAN : (double)k / size;
	if ((k = fills_k(m, c, fl, nf, kmax, 0.5, b, tk)) == -2)
		goto done;
	c->p50 = k < 0 ? NAN : (double)k / size;
	rc = 0;
done:
	for (unsigned s = 0; fl && s < nf; s++)
		free(fl[s].order);
	free(fl);
	free(b);
	free(tk);
	return rc;
}

/* Thresholds per distinct range and port choice; few in practice. */
static int all_thresholds(model *m)
{
	tcfg *c = NULL;
	size_t nc = 0;
	int rc = 0;

	for (size_t i = 0; i < m->ng && !rc; i++) {
		ctp_nat_group *p = &m->g[i].pub;
		unsigned clo, chi;
		size_t j;

		p->util_p1 = p->util_p50 = NAN;
		if (p->range_lo > p->range_hi)
			continue;
		client_ports(m, &m->g[i], &clo, &chi);
		for (j = 0; j < nc; j++)
			if (c[j].lo == p->range_lo && c[j].hi == p->range_hi &&
			    c[j].clo == clo && c[j].chi == chi &&
			    c[j].src == p->range_src &&
			    c[j].random == p->random)
				break;
		if (j == nc) {
			tcfg *n = realloc(c, (nc + 1) * sizeof(*c));

			if (!n) {
				rc = CTP_ENOMEM;
				break;
			}
			c = n;
			memset(&c[nc], 0, sizeof(c[nc]));
			c[nc].lo = p->range_lo;
			c[nc].hi = p->range_hi;
			c[nc].clo = clo;
			c[nc].chi = chi;
			c[nc].src = p->range_src;
			c[nc].random = p->random;
			rc = thresholds(m, &c[nc]);
			nc++;
		}
		p->util_p1 = c[j].p1;
		p->util_p50 = c[j].p50;
	}
	free(c);
	return rc;
}

/* ---- holders and the result ---- */

static void find_holders(model *m)
{
	for (size_t r = 0; r < m->nrm; r++) {
		ctp_nat_remap *rm = &m->rm[r];
		const ctp_flow *f = &m->flows[rm->flow];
		const grp *g = &m->g[rm->group];
		const occ *oc = m->o + g->occ_off;
		uint16_t want = orig_port(f);
		size_t lo = 0, hi = g->occ_n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (oc[mid].port < want)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < g->occ_n && oc[lo].port == want &&
		    oc[lo].flow != rm->flow) {
			rm->holder = oc[lo].flow;
			rm->reason = CTP_NAT_REASON_TAKEN;
		} else if (g->pub.range_src != CTP_NAT_RANGE_DEFAULT &&
			   (want < g->pub.range_lo || want > g->pub.range_hi)) {
			rm->reason = CTP_NAT_REASON_OUTSIDE;
		} else if (g->pub.random) {
			rm->reason = CTP_NAT_REASON_RANDOM;
		} else {
			rm->reason = CTP_NAT_REASON_GONE;
		}
	}
}

static int risk_cmp(const void *pa, const void *pb)
{
	const grp *a = *(grp *const *)pa, *b = *(grp *const *)pb;

	if (a->pub.p_fail_next != b->pub.p_fail_next)
		return a->pub.p_fail_next > b->pub.p_fail_next ? -1 : 1;
	if (a->pub.utilization != b->pub.utilization)
		return a->pub.utilization > b->pub.utilization ? -1 : 1;
	if (a->pub.entries != b->pub.entries)
		return a->pub.entries > b->pub.entries ? -1 : 1;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static int publish(model *m, ctp_nat_result *res)
{
	grp **order = malloc((m->ng ? m->ng : 1) * sizeof(*order));
	size_t *rank = malloc((m->ng ? m->ng : 1) * sizeof(*rank));
	size_t keep = m->nrm < m->opts->max_remaps ? m->nrm
						     : m->opts->max_remaps;

	res->groups = calloc(m->ng ? m->ng : 1, sizeof(*res->groups));
	res->remaps = calloc(keep ? keep : 1, sizeof(*res->remaps));
	if (!order || !rank || !res->groups || !res->remaps) {
		free(order);
		free(rank);
		return CTP_ENOMEM;
	}
	for (size_t i = 0; i < m->ng; i++)
		order[i] = &m->g[i];
	qsort(order, m->ng, sizeof(*order), risk_cmp);
	for (size_t i = 0; i < m->ng; i++) {
		grp *g = order[i];
		ctp_nat_group *p = &res->groups[i];
		size_t in = 0;

		rank[g - m->g] = i;
		*p = g->pub;
		/* the label of the first input with that namespace */
		for (size_t j = 0; j < ctp_snapshot_input_count(m->snap); j++)
			if (m->ns_of_input[j] == g->key.ns) {
				in = j;
				break;
			}
		p->ns = ctp_snapshot_input(m->snap, in)->ns;
		p->family = g->key.family;
		p->proto = g->key.proto;
		p->zone = g->key.zone;
		memcpy(p->nat_addr, g->key.nat, 16);
		memcpy(p->peer_addr, g->key.peer, 16);
		p->peer_port = g->key.pport;
	}
	res->ngroups = m->ng;
	for (size_t r = 0; r < keep; r++) {
		res->remaps[r] = m->rm[r];
		res->remaps[r].group = rank[m->rm[r].group];
	}
	res->nremaps = keep;
	free(order);
	free(rank);
	return 0;
}

int ctp_nat_model_run(const ctp_snapshot *snap, const ctp_nat_opts *opts,
		      ctp_nat_result *out, ctp_error *err)
{
	ctp_nat_opts def = CTP_NAT_OPTS_INIT;
	model m;
	int rc;

	if (!opts)
		opts = &def;
	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	if (opts->client_lo > opts->client_hi || opts->client_hi > 65535 ||
	    (opts->range_lo <= opts->range_hi && opts->range_hi > 65535))
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "bad nat model options: port ranges "
				     "must lie within 0-65535");
	if (ctp_snapshot_flow_count(snap) > UINT32_MAX)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "too many flows for the nat model");
	m.snap = snap;
	m.opts = opts;
	ctp_kernel_nat_algo(&opts->kernel, &m.algo);
	m.flows = ctp_snapshot_flows(snap);
	m.nflows = ctp_snapshot_flow_count(snap);
	out->algo = m.algo;
	out->kernel = opts->kernel;
	if ((rc = ns_ids(&m)) || (rc = pass_groups(&m, out)) ||
	    (rc = pass_occupants(&m)))
		goto done;
	for (size_t i = 0; i < m.ng; i++)
		if ((rc = group_range(&m, &m.g[i])) ||
		    (rc = group_probability(&m, &m.g[i])))
			goto done;
	if ((rc = all_thresholds(&m)))
		goto done;
	find_holders(&m);
	rc = publish(&m, out);
done:
	if (rc) {
		ctp_nat_result_release(out);
		ctp_error_set(err, rc, NULL, 0, 0,
			      "out of memory in the nat model");
	}
	free(m.ns_of_input);
	free(m.g);
	free(m.slot);
	free(m.o);
	free(m.rm);
	return rc;
}

void ctp_nat_result_release(ctp_nat_result *res)
{
	if (!res)
		return;
	free(res->groups);
	free(res->remaps);
	res->groups = NULL;
	res->remaps = NULL;
	res->ngroups = res->nremaps = 0;
}

const char *ctp_nat_reason_name(ctp_nat_reason r)
{
	switch (r) {
	case CTP_NAT_REASON_TAKEN:
		return "port_taken";
	case CTP_NAT_REASON_OUTSIDE:
		return "outside_range";
	case CTP_NAT_REASON_RANDOM:
		return "random";
	case CTP_NAT_REASON_GONE:
		return "holder_gone";
	}
	return "unknown";
}

const char *ctp_nat_range_src_name(ctp_nat_range_src s)
{
	switch (s) {
	case CTP_NAT_RANGE_OPTION:
		return "option";
	case CTP_NAT_RANGE_INFERRED:
		return "inferred";
	case CTP_NAT_RANGE_DEFAULT:
		break;
	}
	return "default";
}
