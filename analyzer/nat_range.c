/*
 * NAT model, the port range of a group (analyzer/nat_impl.h): the one
 * given with --nat-range, else a --to-ports range inferred from the
 * group's own mapped ports, else the kernel's default for the client
 * port of the next connection (analyzer/kernel.c); and whether the rule
 * keeps no port at all (--random, --random-fully).
 */
#include <math.h>

#include "nat_impl.h"

/*
 * Infer a --to-ports range: under the kernel's default range a remapped
 * client port is uniform over the range of the unprivileged ports
 * (ctp_kernel_nat_default_range() of the highest port: 1024-65535, the
 * search starts anywhere), so rr distinct remapped ports of a group
 * that, with every kept port of it, fit in a window of w of its n ports
 * happen with probability below rr * (w / n)^(rr - 1).  Below INFER_P
 * the window is taken as the rule's range.
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
void ctp_nat_group_range(model *m, grp *g)
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
		unsigned dlo, dhi;

		if (rr >= INFER_MIN_REMAPS &&
		    ctp_kernel_nat_default_range(g->key.proto, 65535, &dlo,
						 &dhi) &&
		    first >= dlo) {
			double w = last - first + 1, n = (double)dhi - dlo + 1;

			if (rr * pow(w / n, (double)rr - 1) < INFER_P) {
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
