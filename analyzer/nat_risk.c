/*
 * NAT model, the risk of a group now (analyzer/nat_impl.h): the next
 * new connection of a group fails when it cannot keep its own port
 * (step 3 of the port choice, include/ctplan/kernel.h) and the kernel's
 * port search (nat_search.c) then finds no free port either:
 * p_fail_next = (1 - p_keep) * p_search_fail, over the ports the table
 * has taken in the group's range.
 */
#include <math.h>

#include "nat_impl.h"

/* Client ports a new connection of g is drawn from. */
void ctp_nat_client_ports(const model *m, const grp *g, unsigned *lo,
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
 * port inside it, free unless the range is one port.  taken(ud, lo,
 * hi): how many of the client ports in [lo, hi] are taken.
 */
double ctp_nat_keep_share(int random, ctp_nat_range_src src, unsigned rlo,
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

int ctp_nat_group_probability(model *m, grp *g)
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
	p->p_search_fail = ctp_nat_p_search_fail_rs(
		&m->algo, &t, g->key.proto == CTP_P_TCP, &m->rs);
	ctp_nat_client_ports(m, g, &clo, &chi);
	p->p_keep = ctp_nat_keep_share(p->random, p->range_src, p->range_lo,
				       p->range_hi, clo, chi, slice_taken, &s);
	p->p_fail_next = (1 - p->p_keep) * p->p_search_fail;
	return isnan(p->p_search_fail) ? CTP_ENOMEM : 0;
}
