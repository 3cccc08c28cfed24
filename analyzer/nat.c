/*
 * NAT model: source-NAT remaps, their holders, and the port exhaustion
 * of every reply-tuple group (include/ctplan/nat.h).  This file runs the
 * steps in order and hands out the result, riskiest group first; the
 * steps are the files listed in analyzer/nat_impl.h, the kernel's port
 * search among them on its own (analyzer/nat_search.c).
 */
#include <stdlib.h>
#include <string.h>

#include "nat_impl.h"

/* ---- the result ---- */

/* Riskiest first: by p_fail_next, utilization, entries, then the key,
 * so the order never depends on the order groups were found in. */
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

/* The groups into res ranked by risk, their keys spelt out, and the
 * remaps kept, their group renumbered to the rank. */
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

/* ---- the run ---- */

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
	if ((rc = ctp_nat_ns_ids(&m)) || (rc = ctp_nat_pass_groups(&m, out)) ||
	    (rc = ctp_nat_pass_occupants(&m)))
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
		ctp_nat_group_range(&m, &m.g[i]);
		if ((rc = ctp_nat_group_probability(&m, &m.g[i])))
			goto done;
	}
	if ((rc = ctp_nat_all_thresholds(&m)))
		goto done;
	ctp_nat_find_holders(&m);
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
	ctp_nat_runs_release(&m.rs);
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
