/*
 * NAT model, the remaps (analyzer/nat_impl.h): source-NAT entries that
 * did not keep their port (ICMP id), and for each the entry that held
 * the port it came with -- any occupant of its group on that port, in
 * either direction, as nf_nat_used_tuple() would have found it -- or
 * why there is none (the port lies outside the rule's range, the rule
 * keeps no port, the holder has left the table since).
 */
#include <stdlib.h>

#include "grow.h"
#include "nat_impl.h"

int ctp_nat_remap_add(model *m, size_t flow, size_t g)
{
	/* only the first max_remaps are listed */
	if (m->nrm >= m->opts->max_remaps)
		return 0;
	if (ctp_grow((void **)&m->rm, &m->rmcap, m->nrm + 1,
		     sizeof(*m->rm)))
		return CTP_ENOMEM;
	m->rm[m->nrm].flow = flow;
	m->rm[m->nrm].holder = CTP_NAT_NONE;
	m->rm[m->nrm].group = g;
	m->rm[m->nrm].reason = CTP_NAT_REASON_TAKEN;
	m->nrm++;
	return 0;
}

/* A group's occupants are sorted by port, reply-direction holders
 * first: the first occupant on the wanted port is the one to name. */
void ctp_nat_find_holders(model *m)
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
