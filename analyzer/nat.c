/*
 * NAT model: source-NAT remaps, their holders, and the port exhaustion
 * of every reply-tuple group (include/ctplan/nat.h).
 *
 * Representation.  One pass over the flows makes a group for every
 * source-NAT entry's reply tuple without its port (open addressing on a
 * packed 40-byte key).  A second pass records every occupant of a
 * group's port space: each entry whose reply tuple, or whose original
 * tuple, lies in an existing group (nf_conntrack_tuple_taken() finds
 * either direction).  Occupants are counted per group first and then
 * written straight into their group's slice of one array, 8 bytes each
 * (occ), and each slice is sorted by port, so a group's taken ports are
 * one contiguous, sorted slice, and a holder is found by binary search.
 * Nothing is allocated per group: the per-group work uses scratch sized
 * once for the largest group.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/hash.h" /* ctp_hash_flow_zone(): a group's zone id */
#include "ctplan/nat.h"
#include "grow.h"

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
 * from 0 (the kernel's u16 wraps): checked one by one, and only when
 * index 0 is taken, since their probes from 0 fail only then.
 *
 * Without eviction every start weighs a whole number (q or q + 1), so
 * the sum is an integer below 2^33, exact in a double whatever the
 * order of the additions: a run's starts are then counted in one step
 * rather than one by one, to the same bit.
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

static void runs_release(runs *rs)
{
	free(rs->r);
	free(rs->ev);
	rs->r = NULL;
	rs->ev = NULL;
	rs->cap = 0;
}

/* Maximal runs of consecutive taken indices; a run through size - 1
 * and 0 is merged into one that starts near the end. */
static int runs_build(const ctp_nat_taken *t, runs *rs)
{
	size_t i, first_run_end = 0;

	rs->n = 0;
	rs->full = 0;
	rs->nev = 0;
	if (!t->n)
		return 0;
	if (rs->cap < t->n + 1) {
		size_t cap = t->n + 1 > 2 * rs->cap ? t->n + 1 : 2 * rs->cap;
		run *r = realloc(rs->r, cap * sizeof(*rs->r));
		uint32_t *ev;

		if (!r)
			return CTP_ENOMEM;
		rs->r = r;
		ev = realloc(rs->ev, cap * sizeof(*rs->ev));
		if (!ev)
			return CTP_ENOMEM;
		rs->ev = ev;
		rs->cap = cap;
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
	if (!t->evict)
		return 0;
	/* run order: taken[] rotated left by first_run_end */
	rs->ev[0] = 0;
	for (i = 0; i < t->n; i++) {
		size_t at = i + first_run_end;

		if (at >= t->n)
			at -= t->n;
		rs->ev[i + 1] = rs->ev[i] + t->evict[at];
	}
	rs->nev = rs->ev[t->n];
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

/* How many of the cnt indices from start on, cyclic in size (cnt <=
 * size), lie below rem. */
static uint64_t count_below(uint32_t start, uint32_t cnt, uint32_t size,
			    uint32_t rem)
{
	uint32_t end = start + cnt, hi = end < size ? end : size;
	uint64_t c = 0;

	if (start < rem)
		c += (hi < rem ? hi : rem) - start;
	if (end > size)
		c += end - size < rem ? end - size : rem;
	return c;
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
	uint32_t r0, last;
	double sum = 0;

	if (!rs->nev)
		e = 0; /* no holder gives way: whole weights */
	for (size_t k = 0; k < rs->n || (rs->full && k == 0); k++) {
		uint32_t start = rs->full ? 0 : rs->r[k].start;
		uint32_t len = rs->full ? t->size : rs->r[k].len;
		uint32_t starts = rs->full ? t->size : len - a + 1;
		size_t base = rs->full ? 0 : rs->r[k].base;

		if (!rs->full && len < a)
			continue;
		if (!e) {
			sum += (double)((uint64_t)starts * q +
					count_below(start, starts, t->size,
						    rem));
			continue;
		}
		for (uint32_t j = 0; j < starts; j++) {
			uint32_t r = (start + j) % t->size;
			double w = q + (r < rem);

			w *= keep_pow[ev_count(rs, t->n, base + j + a - e, e)];
			sum += w;
		}
	}
	/* offsets [n0, space): l1 probes from off % size, then l2 = a - l1
	 * from 0; they can all fail only if l2 <= the run from 0 */
	r0 = run_from(rs, t->size, 0);
	if (!r0)
		return sum / space;
	last = r0 >= a ? space - 1 : space - a + r0;
	for (uint32_t off = n0; off <= last; off++) {
		uint32_t r1 = off % t->size, l1 = space - off, l2 = a - l1;
		uint32_t ne = 0;

		if (run_from(rs, t->size, r1) < l1 || r0 < l2)
			continue;
		for (uint32_t i = a - e; i < a; i++)
			ne += evict_at(t, i < l1 ? (r1 + i) % t->size
						 : (i - l1) % t->size);
		sum += keep_pow[ne];
	}
	return sum / space;
}

static double p_rounds(const ctp_nat_algo *algo, const ctp_nat_taken *t,
		       int evict_tcp, const runs *rs);

/* ctp_nat_p_search_fail() with the caller's run arrays */
static double p_search_fail(const ctp_nat_algo *algo, const ctp_nat_taken *t,
			    int evict_tcp, runs *rs)
{
	if (!t->n || !t->size)
		return 0;
	if (!algo->first_round) /* scan of the whole range */
		return t->n >= t->size ? 1 : 0;
	if (runs_build(t, rs))
		return NAN;
	return p_rounds(algo, t, evict_tcp, rs);
}

/* The rounds of p_search_fail() on runs already built from t. */
static double p_rounds(const ctp_nat_algo *algo, const ctp_nat_taken *t,
		       int evict_tcp, const runs *rs)
{
	double keep_pow[129], p = 1;
	uint32_t a, e;

	keep_pow[0] = 1;
	for (int i = 1; i < 129; i++)
		keep_pow[i] = keep_pow[i - 1] * (1 - CTP_NAT_EVICT_P);
	a = t->size < algo->first_round ? t->size : algo->first_round;
	for (;;) {
		e = evict_tcp && t->evict ? algo->evict_last : 0;
		if (e > a)
			e = a;
		p *= round_fail(t, rs, algo->start_space, a, e, keep_pow);
		if (a >= t->size || a < algo->min_round || p == 0)
			break;
		a /= 2;
	}
	return p;
}

double ctp_nat_p_search_fail(const ctp_nat_algo *algo,
			     const ctp_nat_taken *t, int evict_tcp)
{
	runs rs = { 0 };
	double p = p_search_fail(algo, t, evict_tcp, &rs);

	runs_release(&rs);
	return p;
}

static inline int bit(const uint8_t *b, uint32_t i)
{
	return b && (b[i >> 3] >> (i & 7)) & 1;
}

/* The first clear bit of b in [x, x + n), or -1; a byte at a time. */
static long first_clear(const uint8_t *b, uint32_t x, uint32_t n)
{
	uint32_t end = x + n;

	if (!b)
		return x;
	while (x < end) {
		uint32_t sh = x & 7, span = 8 - sh;
		unsigned clear = (~(unsigned)b[x >> 3] & 0xffu) >> sh;

		if (span > end - x) {
			span = end - x;
			clear &= (1u << span) - 1;
		}
		if (clear)
			return (long)(x + (uint32_t)__builtin_ctz(clear));
		x += span;
	}
	return -1;
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
		/* x = off % size, stepped along with off: no division per
		 * probe (off wraps to 0 at start_space, and so does x) */
		uint32_t x = off % size;

		if (!evict_tcp || !evict) {
			/* no eviction: the probes between two wraps (of x
			 * at size, of off at start_space) are a run of
			 * indices, searched a byte at a time */
			for (uint32_t left = a; left;) {
				uint32_t seg = left, to_off = mask + 1 - off;
				long r;

				if (seg > size - x)
					seg = size - x;
				if (seg > to_off)
					seg = to_off;
				if ((r = first_clear(taken, x, seg)) >= 0)
					return r;
				left -= seg;
				off = (off + seg) & mask;
				x = !off || x + seg == size ? 0 : x + seg;
			}
			goto next_round;
		}
		for (uint32_t i = 0; i < a; i++) {
			if (!bit(taken, x))
				return x;
			/* nf_nat_used_tuple_harder(): attempts - i left */
			if (evict_tcp && a - i <= algo->evict_last &&
			    bit(evict, x) &&
			    (double)(ctp_rng_next(rng) >> 11) * 0x1.0p-53 <
				    CTP_NAT_EVICT_P)
				return x;
			off = (off + 1) & mask;
			x = !off || x + 1 == size ? 0 : x + 1;
		}
next_round:
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

/*
 * One entry's claim on one port of a group, packed so that the order
 * of the numbers is the order a group's occupants are kept in: by port,
 * a reply-direction holder first (it names the entry that took the
 * port), then by flow.  port << 37 | (not reply) << 36 | flow << 4 |
 * OCC_* flags; the flow index is below 2^32 (checked at the start).
 */
typedef uint64_t occ;

static occ occ_make(uint16_t port, uint32_t flow, unsigned flags)
{
	return (uint64_t)port << 37 |
	       (uint64_t)!(flags & OCC_REPLY) << 36 |
	       (uint64_t)flow << 4 | (flags & 15u);
}

static uint16_t occ_port(occ o)
{
	return (uint16_t)(o >> 37);
}

static uint32_t occ_flow(occ o)
{
	return (uint32_t)(o >> 4);
}

static unsigned occ_flags(occ o)
{
	return (unsigned)(o & 15u);
}

typedef struct grp {
	gkey key;
	size_t occ_off, occ_n;
	ctp_nat_group pub;
} grp;

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
	uint8_t (*addr)[16];
	size_t naddr, acap;
	uint32_t *aslot; /* index + 1 into addr, 0: empty */
	size_t naslots;
	/* scratch of the per-group work, sized once for the largest */
	uint32_t *tk;
	uint8_t *ev;
	runs rs;
} model;

/* A 64-bit mix of the five words of a key (only the spread of the
 * table depends on it, never a result). */
static uint32_t key_hash(const gkey *k)
{
	uint64_t w[5], h = 0x6e6174u;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static int grow_slots(model *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 1024;
	uint64_t *s = calloc(n, sizeof(*s));

	if (!s)
		return CTP_ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		size_t h;

		if (!m->slot[i])
			continue;
		h = (uint32_t)(m->slot[i] >> 32) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = m->slot[i];
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
	uint32_t hash;
	size_t h;

	if (create && (m->ng + 1) * 2 > m->nslots && grow_slots(m))
		return -2;
	if (!m->nslots)
		return -1;
	hash = key_hash(k);
	h = hash & (m->nslots - 1);
	while (m->slot[h]) {
		uint64_t s = m->slot[h];
		size_t i = (size_t)(uint32_t)s - 1;

		if ((uint32_t)(s >> 32) == hash &&
		    memcmp(&m->keys[i], k, sizeof(*k)) == 0)
			return (long)i;
		h = (h + 1) & (m->nslots - 1);
	}
	if (!create)
		return -1;
	if (m->ng == m->gcap) {
		size_t n = m->gcap ? m->gcap * 2 : 256;
		grp *g = realloc(m->g, n * sizeof(*g));
		gkey *keys;

		if (!g)
			return -2;
		m->g = g;
		keys = realloc(m->keys, n * sizeof(*keys));
		if (!keys)
			return -2;
		m->keys = keys;
		m->gcap = n;
	}
	memset(&m->g[m->ng], 0, sizeof(m->g[m->ng]));
	m->g[m->ng].key = *k;
	m->keys[m->ng] = *k;
	m->slot[h] = (uint64_t)hash << 32 | (uint32_t)(m->ng + 1);
	return (long)m->ng++;
}

/*
 * The NAT addresses of the groups: a reply tuple whose destination is
 * none of them can lie in no group, which settles most lookups of pass
 * 2 without making a key.
 */
static uint32_t addr_hash(const uint8_t a[16])
{
	uint64_t w[2], h;

	memcpy(w, a, sizeof(w));
	h = (w[0] ^ 0x6e6174u) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 29) ^ w[1]) * 0xff51afd7ed558ccdULL;
	return (uint32_t)(h ^ (h >> 32));
}

static int addr_known(const model *m, const uint8_t a[16])
{
	size_t h;

	if (!m->naslots)
		return 0;
	for (h = addr_hash(a) & (m->naslots - 1); m->aslot[h];
	     h = (h + 1) & (m->naslots - 1))
		if (memcmp(m->addr[m->aslot[h] - 1], a, 16) == 0)
			return 1;
	return 0;
}

static int addr_add(model *m, const uint8_t a[16])
{
	size_t h;

	if (addr_known(m, a))
		return 0;
	if (ctp_grow((void **)&m->addr, &m->acap, m->naddr + 1,
		     sizeof(*m->addr)))
		return CTP_ENOMEM;
	memcpy(m->addr[m->naddr++], a, 16);
	if (2 * m->naddr > m->naslots) {
		size_t n = m->naslots ? 2 * m->naslots : 64;
		uint32_t *s = calloc(n, sizeof(*s));

		if (!s)
			return CTP_ENOMEM;
		free(m->aslot);
		m->aslot = s;
		m->naslots = n;
		for (size_t i = 0; i + 1 < m->naddr; i++) {
			for (h = addr_hash(m->addr[i]) & (n - 1); s[h];
			     h = (h + 1) & (n - 1))
				;
			s[h] = (uint32_t)i + 1;
		}
	}
	for (h = addr_hash(a) & (m->naslots - 1); m->aslot[h];
	     h = (h + 1) & (m->naslots - 1))
		;
	m->aslot[h] = (uint32_t)m->naddr;
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

/* The port a flow's reply tuple (dir 1) or original tuple (dir 0)
 * takes, seen as the reply tuple of a new entry. */
static uint16_t port_of(const ctp_flow *f, int dir)
{
	const ctp_tuple *t = dir ? &f->reply : &f->orig;

	return ctp_proto_is_icmp(f->proto) ? t->sport : t->dport;
}

/* The key of a flow's reply tuple (dir 1) or original tuple (dir 0)
 * seen as a reply tuple of a new entry. */
static void key_of(const model *m, const ctp_flow *f, int dir, gkey *k)
{
	const ctp_tuple *t = dir ? &f->reply : &f->orig;
	const ctp_flow_extra *x = f->extra == CTP_NO_EXTRA
					  ? NULL
					  : ctp_snapshot_extra(m->snap, f);

	memset(k, 0, sizeof(*k));
	memcpy(k->nat, t->dst, 16);
	memcpy(k->peer, t->src, 16);
	k->ns = m->ns_of_input[f->input];
	k->zone = ctp_hash_flow_zone(f, x, dir);
	k->family = f->family;
	k->proto = f->proto;
	/* icmp: the id is the key part; type and code name the peer */
	k->pport = ctp_proto_is_icmp(f->proto) ? t->dport : t->sport;
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

/* Is flow i no table entry?  Read without decoding the flow. */
static int skip(const model *m, size_t i)
{
	return ctp_snapshot_flow_flags(m->snap, i) &
	       (CTP_F_DUP | CTP_F_EVENT);
}

/* Pass 1: counts, groups of source-NAT entries, remaps. */
static int pass_groups(model *m, ctp_nat_result *res)
{
	ctp_flow fl;
	const ctp_flow *f = &fl;

	for (size_t i = 0; i < m->nflows; i++) {
		gkey k;
		long g;
		int remap;

		if (skip(m, i))
			continue;
		ctp_snapshot_flow_get(m->snap, i, &fl);
		res->entries++;
		res->snat += is_snat(f);
		res->dnat += is_dnat(f);
		if (ctp_proto_is_icmp(f->proto) && (f->flags & CTP_F_NO_ICMP))
			res->no_icmp++;
		if (!is_snat(f) || !modelled(f))
			continue;
		key_of(m, f, 1, &k);
		g = group_find(m, &k, 1);
		if (g < 0)
			return CTP_ENOMEM;
		if (m->g[g].pub.snat_entries == 0 && addr_add(m, k.nat))
			return CTP_ENOMEM;
		if (ctp_grow((void **)&m->sg, &m->sgcap, m->nsg + 1,
			     sizeof(*m->sg)))
			return CTP_ENOMEM;
		m->sg[m->nsg++] = (uint32_t)g;
		m->g[g].pub.snat_entries++;
		remap = mapped_port(f) != orig_port(f);
		if (!remap)
			continue;
		res->remapped++;
		m->g[g].pub.remapped++;
		/* only the first max_remaps are listed */
		if (m->nrm >= m->opts->max_remaps)
			continue;
		if (ctp_grow((void **)&m->rm, &m->rmcap, m->nrm + 1,
			     sizeof(*m->rm)))
			return CTP_ENOMEM;
		m->rm[m->nrm].flow = i;
		m->rm[m->nrm].holder = CTP_NAT_NONE;
		m->rm[m->nrm].group = (size_t)g;
		m->rm[m->nrm].reason = CTP_NAT_REASON_TAKEN;
		m->nrm++;
	}
	return 0;
}

/* Sort a group's occupants.  They come in flow order, so a stable sort
 * by port and direction alone (the top 17 bits of an occ) gives the
 * full order: two passes of a radix sort through tmp, or an insertion
 * sort of the few. */
static void occ_sort(occ *o, size_t n, occ *tmp)
{
	size_t c9[513], c8[257];

	if (n <= 48) {
		for (size_t i = 1; i < n; i++) {
			occ v = o[i];
			size_t j = i;

			for (; j && o[j - 1] > v; j--)
				o[j] = o[j - 1];
			o[j] = v;
		}
		return;
	}
	memset(c9, 0, sizeof(c9));
	memset(c8, 0, sizeof(c8));
	for (size_t i = 0; i < n; i++) {
		c9[((o[i] >> 36) & 511) + 1]++;
		c8[(o[i] >> 45) + 1]++;
	}
	for (size_t i = 1; i < 513; i++)
		c9[i] += c9[i - 1];
	for (size_t i = 1; i < 257; i++)
		c8[i] += c8[i - 1];
	for (size_t i = 0; i < n; i++)
		tmp[c9[(o[i] >> 36) & 511]++] = o[i];
	for (size_t i = 0; i < n; i++)
		o[c8[tmp[i] >> 45]++] = tmp[i];
}

/*
 * Pass 2: every entry's claim on a group's ports, either direction.
 * Counted first, so each group's occupants go straight to their own
 * slice of one array; which (flow, direction) found which group is
 * kept from the first walk to the second (a bit pair per flow and the
 * group of each hit), so each key is looked up once.
 */
static int pass_occupants(model *m)
{
	uint8_t *hit = calloc(m->nflows / 4 + 1, 1);
	uint32_t *hg = NULL;
	occ *tmp = NULL;
	size_t nh = 0, hcap = 0, off = 0, h = 0, si = 0;
	ctp_flow cur;
	const ctp_flow *f = &cur;
	int rc = CTP_ENOMEM;

	if (!hit)
		return CTP_ENOMEM;
	for (size_t i = 0; i < m->nflows; i++) {
		if (skip(m, i))
			continue;
		ctp_snapshot_flow_get(m->snap, i, &cur);
		if (!modelled(f))
			continue;
		for (int dir = 1; dir >= 0; dir--) {
			const ctp_tuple *t = dir ? &f->reply : &f->orig;
			gkey k;
			long g;

			if (dir && is_snat(f)) {
				/* its group, as pass 1 found it */
				g = m->sg[si++];
			} else {
				if (!addr_known(m, t->dst))
					continue;
				key_of(m, f, dir, &k);
				if ((g = group_find(m, &k, 0)) < 0)
					continue;
			}
			if (dir)
				m->g[g].pub.entries++;
			m->g[g].occ_n++;
			hit[i >> 2] |= (uint8_t)(1u << ((i & 3) * 2 + dir));
			if (ctp_grow((void **)&hg, &hcap, nh + 1,
				     sizeof(*hg)))
				goto done;
			hg[nh++] = (uint32_t)g;
		}
	}
	m->o = malloc((nh ? nh : 1) * sizeof(*m->o));
	if (!m->o)
		goto done;
	m->no = nh;
	for (size_t g = 0; g < m->ng; g++) {
		m->g[g].occ_off = off;
		off += m->g[g].occ_n;
		if (m->g[g].occ_n > m->max_occ)
			m->max_occ = m->g[g].occ_n;
		m->g[g].occ_n = 0; /* counts again as the slice fills */
	}
	for (size_t i = 0; i < m->nflows && h < nh; i++) {
		unsigned bits = (hit[i >> 2] >> ((i & 3) * 2)) & 3;

		if (bits)
			ctp_snapshot_flow_get(m->snap, i, &cur);
		for (int dir = 1; bits && dir >= 0; dir--) {
			grp *g;
			unsigned fl = 0;

			if (!(bits & (1u << dir)))
				continue;
			g = &m->g[hg[h++]];
			if (dir) {
				fl = OCC_REPLY;
				if (is_snat(f))
					fl |= OCC_SNAT;
				if (is_snat(f) &&
				    mapped_port(f) != orig_port(f))
					fl |= OCC_REMAP;
				if (evictable(f))
					fl |= OCC_EVICT;
			}
			m->o[g->occ_off + g->occ_n++] =
				occ_make(port_of(f, dir), (uint32_t)i, fl);
		}
	}
	tmp = malloc((m->max_occ ? m->max_occ : 1) * sizeof(*tmp));
	if (!tmp)
		goto done;
	for (size_t g = 0; g < m->ng; g++)
		occ_sort(m->o + m->g[g].occ_off, m->g[g].occ_n, tmp);
	rc = 0;
done:
	free(hit);
	free(hg);
	free(tmp);
	return rc;
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
static void group_range(model *m, grp *g)
{
	const ctp_nat_opts *o = m->opts;
	int icmp = ctp_proto_is_icmp(g->key.proto);
	ctp_nat_group *p = &g->pub;
	const occ *oc = m->o + g->occ_off;
	size_t na = 0, rr = 0, kept = 0;
	unsigned first = 0, last = 0, last_rem = 0;

	/* occupants are sorted by port: the source-NAT ones give the
	 * lowest and highest port, the remapped ones the distinct
	 * remapped ports */
	for (size_t i = 0; i < g->occ_n; i++) {
		unsigned fl = occ_flags(oc[i]), port = occ_port(oc[i]);

		if (!(fl & OCC_SNAT))
			continue;
		if (!na++)
			first = port;
		last = port;
		if (fl & OCC_REMAP) {
			rr += !rr || port != last_rem;
			last_rem = port;
		} else {
			kept++;
		}
	}
	p->range_src = CTP_NAT_RANGE_DEFAULT;
	if (!icmp && o->range_lo <= o->range_hi) {
		p->range_src = CTP_NAT_RANGE_OPTION;
		p->range_lo = o->range_lo;
		p->range_hi = o->range_hi;
	} else if (!icmp && na) {
		if (rr >= INFER_MIN_REMAPS && first >= 1024) {
			double w = last - first + 1;

			if (rr * pow(w / 64512.0, (double)rr - 1) < INFER_P) {
				p->range_src = CTP_NAT_RANGE_INFERRED;
				p->range_lo = first;
				p->range_hi = last;
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

	for (size_t i = 0; i < s->n; i++) {
		unsigned port = occ_port(s->o[i]);

		if (port >= lo && port <= hi &&
		    (!i || port != occ_port(s->o[i - 1])))
			c++;
	}
	return c;
}

static int group_probability(model *m, grp *g)
{
	ctp_nat_group *p = &g->pub;
	const occ *oc = m->o + g->occ_off;
	uint32_t size, *tk = m->tk;
	uint8_t *ev = m->ev;
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
	for (size_t i = 0; i < g->occ_n; i++) {
		unsigned port = occ_port(oc[i]);
		int e = (occ_flags(oc[i]) & OCC_EVICT) != 0;

		p->evictable += (unsigned)e;
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
	p->p_search_fail = p_search_fail(&m->algo, &t,
					 g->key.proto == CTP_P_TCP, &m->rs);
	client_ports(m, g, &clo, &chi);
	p->p_keep = keep_share(p->random, p->range_src, p->range_lo,
			       p->range_hi, clo, chi, slice_taken, &s);
	p->p_fail_next = (1 - p->p_keep) * p->p_search_fail;
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

/* Taken ports of a fill: a bitmap in 64-bit words, index 0 = lo. */
typedef struct bits_ud {
	const uint64_t *w;
	unsigned lo, size;
} bits_ud;

/* Set bits of w in [from, to). */
static uint64_t popcount_range(const uint64_t *w, uint32_t from, uint32_t to)
{
	uint64_t c = 0;

	while (from < to) {
		uint32_t i = from >> 6, sh = from & 63;
		uint32_t n = 64 - sh < to - from ? 64 - sh : to - from;
		uint64_t v = w[i] >> sh;

		if (n < 64)
			v &= ((uint64_t)1 << n) - 1;
		c += (uint64_t)__builtin_popcountll(v);
		from += n;
	}
	return c;
}

static uint64_t bits_taken(const void *ud, unsigned lo, unsigned hi)
{
	const bits_ud *u = ud;
	uint64_t from = lo > u->lo ? lo : u->lo;
	uint64_t to = (uint64_t)hi + 1;

	if (to > (uint64_t)u->lo + u->size)
		to = (uint64_t)u->lo + u->size;
	if (from >= to)
		return 0;
	return popcount_range(u->w, (uint32_t)(from - u->lo),
			      (uint32_t)(to - u->lo));
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

/*
 * runs_build() from a bitmap of size bits in 64-bit words (no evictable
 * holders): the runs come from the words' 0-1 and 1-0 edges, without
 * listing every taken index.  *n gets the taken count.
 */
static int runs_from_bits(const uint64_t *w, uint32_t size, runs *rs,
			  size_t *n)
{
	uint32_t words = (size + 63) / 64;
	size_t taken = 0;
	int open = 0; /* a run continues from the previous word */

	rs->n = 0;
	rs->full = 0;
	rs->nev = 0;
	for (uint32_t i = 0; i < words; i++) {
		uint64_t v = w[i];
		/* starts: set bits whose lower neighbour is clear; ends:
		 * set bits whose upper neighbour is clear (bits past size
		 * are clear) */
		uint64_t up = i + 1 < words ? w[i + 1] & 1 : 0;
		uint64_t st = v & ~(v << 1 | (uint64_t)open);
		uint64_t en = v & ~(v >> 1 | up << 63);

		while (st || en) {
			uint32_t b;

			/* a start comes before the end of its run */
			if (st && (!en || __builtin_ctzll(st) <=
						   __builtin_ctzll(en))) {
				b = i * 64 + (uint32_t)__builtin_ctzll(st);
				st &= st - 1;
				if (rs->n == rs->cap) {
					size_t cap = rs->cap ? 2 * rs->cap
							     : 64;
					run *r = realloc(rs->r,
							 cap * sizeof(*r));
					uint32_t *ev;

					if (!r)
						return CTP_ENOMEM;
					rs->r = r;
					ev = realloc(rs->ev,
						     cap * sizeof(*ev));
					if (!ev)
						return CTP_ENOMEM;
					rs->ev = ev;
					rs->cap = cap;
				}
				rs->r[rs->n].start = b;
				rs->r[rs->n].base = taken;
				rs->n++;
			} else {
				run *r = &rs->r[rs->n - 1];

				b = i * 64 + (uint32_t)__builtin_ctzll(en);
				en &= en - 1;
				r->len = b - r->start + 1;
				taken += r->len;
			}
		}
		open = (int)(v >> 63);
	}
	*n = taken;
	if (!taken)
		return 0;
	rs->full = taken == size;
	if (!rs->full && rs->n > 1 && rs->r[0].start == 0 &&
	    rs->r[rs->n - 1].start + rs->r[rs->n - 1].len == size) {
		/* the first run continues the last one (as runs_build) */
		size_t first_run_end = rs->r[0].len;

		rs->r[rs->n - 1].len += rs->r[0].len;
		memmove(rs->r, rs->r + 1, (rs->n - 1) * sizeof(*rs->r));
		rs->n--;
		for (size_t i = 0; i < rs->n; i++)
			rs->r[i].base -= first_run_end;
	}
	if (rs->full) /* runs_build() keeps the one run as it is */
		rs->n = 1;
	return 0;
}

/* What the search for one threshold needs: the fills, scratch for a
 * fill's taken ports, and the p already worked out per k (the searches
 * for 1% and 50% start with the same steps). */
typedef struct tstate {
	const model *m;
	const tcfg *c;
	const fill *fl;
	unsigned nf;
	uint64_t *w;  /* bitmap, (size + 63) / 64 words */
	runs rs;
	struct {
		uint32_t k;
		double p;
	} memo[80];
	unsigned nmemo;
} tstate;

/* p_fail_next averaged over the fills, each at its first k entries */
static double fills_p(tstate *ts, uint32_t k)
{
	const tcfg *c = ts->c;
	uint32_t size = c->hi - c->lo + 1, words = (size + 63) / 64;
	double sum = 0;

	for (unsigned i = 0; i < ts->nmemo; i++)
		if (ts->memo[i].k == k)
			return ts->memo[i].p;
	for (unsigned s = 0; s < ts->nf; s++) {
		const fill *f = &ts->fl[s];
		uint32_t kk = k < f->k ? k : f->k;
		bits_ud ud = { ts->w, c->lo, size };
		ctp_nat_taken t = { NULL, NULL, 0, size };
		double keep, ps = 0;

		memset(ts->w, 0, words * sizeof(*ts->w));
		for (uint32_t i = 0; i < kk; i++)
			ts->w[f->order[i] >> 6] |= (uint64_t)1
						   << (f->order[i] & 63);
		/* p_search_fail() of the taken indices, the runs read off
		 * the bitmap (thresholds() runs for first_round > 0 only) */
		if (runs_from_bits(ts->w, size, &ts->rs, &t.n))
			ps = NAN;
		else if (t.n)
			ps = p_rounds(&ts->m->algo, &t, 0, &ts->rs);
		keep = keep_share(c->random, c->src, c->lo, c->hi, c->clo,
				  c->chi, bits_taken, &ud);
		sum += (1 - keep) * ps;
	}
	sum /= ts->nf;
	if (ts->nmemo < sizeof(ts->memo) / sizeof(ts->memo[0])) {
		ts->memo[ts->nmemo].k = k;
		ts->memo[ts->nmemo].p = sum;
		ts->nmemo++;
	}
	return sum;
}

/* Smallest k in [0, kmax] with fills_p >= target; -1 if none, -2 out
 * of memory (fills_p is NAN then). */
static long fills_k(tstate *ts, uint32_t kmax, double target)
{
	uint32_t lo = 0, hi = kmax;
	double p = fills_p(ts, kmax);

	if (isnan(p))
		return -2;
	if (p < target)
		return -1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		p = fills_p(ts, mid);
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
	tstate ts;
	int rc = CTP_ENOMEM;
	long k;

	memset(&ts, 0, sizeof(ts));
	ts.m = m;
	ts.c = c;
	ts.fl = fl;
	ts.nf = nf;
	ts.w = calloc((size + 63) / 64, sizeof(*ts.w));
	if (!fl || !ts.w)
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
	if ((k = fills_k(&ts, kmax, 0.01)) == -2)
		goto done;
	c->p1 = k < 0 ? NAN : (double)k / size;
	if ((k = fills_k(&ts, kmax, 0.5)) == -2)
		goto done;
	c->p50 = k < 0 ? NAN : (double)k / size;
	rc = 0;
done:
	for (unsigned s = 0; fl && s < nf; s++)
		free(fl[s].order);
	free(fl);
	free(ts.w);
	runs_release(&ts.rs);
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
		const grp *g = &m->g[rm->group];
		const occ *oc = m->o + g->occ_off;
		ctp_flow f;
		uint16_t want;
		size_t lo = 0, hi = g->occ_n;

		ctp_snapshot_flow_get(m->snap, rm->flow, &f);
		want = orig_port(&f);
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (occ_port(oc[mid]) < want)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < g->occ_n && occ_port(oc[lo]) == want &&
		    occ_flow(oc[lo]) != rm->flow) {
			rm->holder = occ_flow(oc[lo]);
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
	m.nflows = ctp_snapshot_flow_count(snap);
	out->algo = m.algo;
	out->kernel = opts->kernel;
	if ((rc = ns_ids(&m)) || (rc = pass_groups(&m, out)) ||
	    (rc = pass_occupants(&m)))
		goto done;
	/* no more lookups */
	free(m.slot);
	free(m.keys);
	free(m.sg);
	free(m.addr);
	free(m.aslot);
	m.slot = NULL;
	m.keys = NULL;
	m.sg = NULL;
	m.addr = NULL;
	m.aslot = NULL;
	m.tk = malloc((m.max_occ ? m.max_occ : 1) * sizeof(*m.tk));
	m.ev = malloc(m.max_occ ? m.max_occ : 1);
	if (!m.tk || !m.ev) {
		rc = CTP_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < m.ng; i++) {
		group_range(&m, &m.g[i]);
		if ((rc = group_probability(&m, &m.g[i])))
			goto done;
	}
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
	free(m.keys);
	free(m.slot);
	free(m.sg);
	free(m.addr);
	free(m.aslot);
	free(m.o);
	free(m.rm);
	free(m.tk);
	free(m.ev);
	runs_release(&m.rs);
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
