/*
 * NAT model, the groups (analyzer/nat_impl.h).  A new source-NAT entry
 * needs a reply tuple that no other entry of its network namespace has
 * (nf_nat_used_tuple(), nf_conntrack_tuple_taken()): for one protocol,
 * NAT address, peer address, peer port and zone -- a group -- each
 * port is taken or free.
 *
 * Representation.  One pass over the flows makes a group for every
 * source-NAT entry's reply tuple without its port (nat_table.c).  A
 * second pass records every occupant of a group's port space: each
 * entry whose reply tuple, or whose original tuple, lies in an existing
 * group (nf_conntrack_tuple_taken() finds either direction).  Occupants
 * are counted per group first and then written straight into their
 * group's slice of one array, 8 bytes each (occ), and each slice is
 * sorted by port, so a group's taken ports are one contiguous, sorted
 * slice, and a holder is found by binary search.  Nothing is allocated
 * per group: the per-group work uses scratch sized once for the largest
 * group.
 */
#include <stdlib.h>
#include <string.h>

#include "ctplan/hash.h"
#include "grow.h"
#include "nat_impl.h"

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

int ctp_nat_ns_ids(model *m)
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
int ctp_nat_pass_groups(model *m, ctp_nat_result *res)
{
	ctp_flow fl;
	const ctp_flow *f = &fl;
	unsigned part = 1;

	/* pass 2's parts: equal runs of flows, each starting at a
	 * multiple of 4 (a byte of its hit bits) */
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++)
		m->part_at[w] = m->nflows * w / CTP_PAR_WORKERS & ~(size_t)3;
	m->part_at[CTP_PAR_WORKERS] = m->nflows;
	for (size_t i = 0; i < m->nflows; i++) {
		gkey k;
		long g;
		int remap;

		/* where each part starts in sg */
		while (part < CTP_PAR_WORKERS && i == m->part_at[part])
			m->sg_at[part++] = m->nsg;
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
		g = ctp_nat_group_find(m, &k, 1);
		if (g < 0)
			return CTP_ENOMEM;
		if (m->g[g].pub.snat_entries == 0 && ctp_nat_addr_add(m, k.nat))
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
		if (ctp_nat_remap_add(m, i, (size_t)g))
			return CTP_ENOMEM;
	}
	while (part < CTP_PAR_WORKERS) /* parts past the last flow */
		m->sg_at[part++] = m->nsg;
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
 * group of each hit), so each key is looked up once.  Both walks run
 * on two threads (par.h), each over its part of the flows (pass 1's
 * part_at[]); a part's occupants of a group follow those of the parts
 * before it, so every slice is in flow order, as one walk makes it.
 * The lookups only read the group table.
 */
typedef struct occ_walk {
	model *m;
	uint8_t *hit;           /* 2 bits a flow: hits of dir 0 and 1 */
	uint32_t *hg[CTP_PAR_WORKERS]; /* per part: the group of each hit */
	size_t nh[CTP_PAR_WORKERS], hcap[CTP_PAR_WORKERS];
	/* per part and group: entries (reply tuples), occupants; then
	 * the next slot of the part's occupants in the group's slice */
	size_t *ent[CTP_PAR_WORKERS], *cnt[CTP_PAR_WORKERS];
	occ *tmp[CTP_PAR_WORKERS];
	int err[CTP_PAR_WORKERS];
} occ_walk;

/* Walk 1 over part w: the groups each flow's tuples lie in. */
static void walk_hits(void *ud, size_t w, unsigned worker)
{
	occ_walk *ow = ud;
	model *m = ow->m;
	size_t si = m->sg_at[w];
	ctp_flow cur;
	const ctp_flow *f = &cur;

	(void)worker;
	for (size_t i = m->part_at[w]; i < m->part_at[w + 1]; i++) {
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
				if (!ctp_nat_addr_known(m, t->dst))
					continue;
				key_of(m, f, dir, &k);
				if ((g = ctp_nat_group_find(m, &k, 0)) < 0)
					continue;
			}
			if (dir)
				ow->ent[w][g]++;
			ow->cnt[w][g]++;
			ow->hit[i >> 2] |= (uint8_t)(1u << ((i & 3) * 2 + dir));
			if (ctp_grow((void **)&ow->hg[w], &ow->hcap[w],
				     ow->nh[w] + 1, sizeof(*ow->hg[w]))) {
				ow->err[w] = CTP_ENOMEM;
				return;
			}
			ow->hg[w][ow->nh[w]++] = (uint32_t)g;
		}
	}
}

/* Walk 2 over part w: each hit's occupant into its group's slice. */
static void walk_occupants(void *ud, size_t w, unsigned worker)
{
	occ_walk *ow = ud;
	model *m = ow->m;
	size_t h = 0;
	ctp_flow cur;
	const ctp_flow *f = &cur;

	(void)worker;
	for (size_t i = m->part_at[w]; i < m->part_at[w + 1] && h < ow->nh[w];
	     i++) {
		unsigned bits = (ow->hit[i >> 2] >> ((i & 3) * 2)) & 3;

		if (bits)
			ctp_snapshot_flow_get(m->snap, i, &cur);
		for (int dir = 1; bits && dir >= 0; dir--) {
			uint32_t g;
			unsigned fl = 0;

			if (!(bits & (1u << dir)))
				continue;
			g = ow->hg[w][h++];
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
			m->o[ow->cnt[w][g]++] =
				occ_make(port_of(f, dir), (uint32_t)i, fl);
		}
	}
}

/* Sort the slices of the groups of part w (the groups in
 * CTP_PAR_WORKERS equal runs). */
static void sort_slices(void *ud, size_t w, unsigned worker)
{
	occ_walk *ow = ud;
	model *m = ow->m;
	size_t from = m->ng * w / CTP_PAR_WORKERS,
	       to = m->ng * (w + 1) / CTP_PAR_WORKERS;

	for (size_t g = from; g < to; g++)
		occ_sort(m->o + m->g[g].occ_off, m->g[g].occ_n,
			 ow->tmp[worker]);
}

int ctp_nat_pass_occupants(model *m)
{
	occ_walk ow;
	size_t off = 0, nh = 0;
	int rc = CTP_ENOMEM;

	memset(&ow, 0, sizeof(ow));
	ow.m = m;
	ow.hit = calloc(m->nflows / 4 + 1, 1);
	if (!ow.hit)
		goto done;
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++) {
		ow.ent[w] = calloc(m->ng ? m->ng : 1, sizeof(*ow.ent[w]));
		ow.cnt[w] = calloc(m->ng ? m->ng : 1, sizeof(*ow.cnt[w]));
		if (!ow.ent[w] || !ow.cnt[w])
			goto done;
	}
	ctp_par_for(CTP_PAR_WORKERS, walk_hits, &ow);
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++) {
		if (ow.err[w])
			goto done;
		nh += ow.nh[w];
	}
	m->o = malloc((nh ? nh : 1) * sizeof(*m->o));
	if (!m->o)
		goto done;
	m->no = nh;
	/* each group's slice, and each part's place in it */
	for (size_t g = 0; g < m->ng; g++) {
		size_t n = 0;

		m->g[g].occ_off = off;
		for (unsigned w = 0; w < CTP_PAR_WORKERS; w++) {
			size_t c = ow.cnt[w][g];

			m->g[g].pub.entries += ow.ent[w][g];
			ow.cnt[w][g] = off + n;
			n += c;
		}
		m->g[g].occ_n = n;
		off += n;
		if (n > m->max_occ)
			m->max_occ = n;
	}
	ctp_par_for(CTP_PAR_WORKERS, walk_occupants, &ow);
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++)
		if (!(ow.tmp[w] = malloc((m->max_occ ? m->max_occ : 1) *
					 sizeof(*ow.tmp[w]))))
			goto done;
	ctp_par_for(CTP_PAR_WORKERS, sort_slices, &ow);
	rc = 0;
done:
	free(ow.hit);
	for (unsigned w = 0; w < CTP_PAR_WORKERS; w++) {
		free(ow.hg[w]);
		free(ow.ent[w]);
		free(ow.cnt[w]);
		free(ow.tmp[w]);
	}
	return rc;
}
