/*
 * NAT model as a report section: the "nat" keys of docs/report.md and
 * the findings for destinations near port exhaustion.  The model itself
 * is analyzer/nat.c and the files analyzer/nat_impl.h lists.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/analyze.h"
#include "ctplan/nat.h"

/* p_fail_next from which a group is a finding */
#define P_WARN 0.01
#define P_CRIT 0.5
/* groups named one by one in findings; the rest are summed up */
#define FINDING_GROUPS 5

/*
 * A group is per namespace (nf_nat_used_tuple() looks in the group's own
 * namespace), so with several namespaces its finding names it: the same
 * destination exhausted in two namespaces is two findings.
 */
static void group_name(const ctp_nat_group *g, int multi_ns, char *buf,
		       size_t size)
{
	char nat[64], peer[64], where[96] = "";
	char zone[24] = "";
	size_t n;

	ctp_addr_format(g->family, g->nat_addr, nat, sizeof(nat));
	ctp_addr_format(g->family, g->peer_addr, peer, sizeof(peer));
	/* a group is also its zone: two findings of one destination in
	 * different zones must not read alike */
	if (g->zone)
		snprintf(zone, sizeof(zone), " in zone %u", (unsigned)g->zone);
	if (ctp_proto_is_icmp(g->proto))
		snprintf(buf, size, "%s %s via %s%s",
			 ctp_proto_name(g->proto), peer, nat, zone);
	else if (g->family == CTP_AF_INET6)
		snprintf(buf, size, "%s [%s]:%u via %s%s",
			 ctp_proto_name(g->proto), peer, g->peer_port, nat,
			 zone);
	else
		snprintf(buf, size, "%s %s:%u via %s%s",
			 ctp_proto_name(g->proto), peer, g->peer_port, nat,
			 zone);
	if (multi_ns)
		snprintf(where, sizeof(where), " in %s%s%s",
			 g->ns && *g->ns ? "namespace '" : "the host's own "
							    "namespace",
			 g->ns && *g->ns ? g->ns : "",
			 g->ns && *g->ns ? "'" : "");
	n = strlen(buf);
	snprintf(buf + n, size - n, "%s", where);
}

static int findings(const ctp_snapshot *snap, const ctp_nat_result *r,
		    ctp_report *rep)
{
	size_t named = 0, more = 0;
	uint64_t failed;
	int rc = 0, multi_ns = 0;

	for (size_t i = 1; i < r->ngroups && !multi_ns; i++)
		multi_ns = strcmp(r->groups[i].ns ? r->groups[i].ns : "",
				  r->groups[0].ns ? r->groups[0].ns : "") != 0;

	for (size_t i = 0; i < r->ngroups && !rc; i++) {
		const ctp_nat_group *g = &r->groups[i];
		/* a range inferred from the ports seen is full by
		 * construction when the rule hands out few ports: until
		 * the rule confirms it, the finding is a warning */
		int inferred = g->range_src == CTP_NAT_RANGE_INFERRED;
		int crit = g->p_fail_next >= P_CRIT && !inferred;
		char name[200], why[240] = "";

		if (g->p_fail_next < P_WARN)
			break; /* sorted by risk */
		if (named == FINDING_GROUPS) {
			more++;
			continue;
		}
		named++;
		group_name(g, multi_ns, name, sizeof(name));
		if (inferred && g->p_fail_next >= P_CRIT)
			snprintf(why, sizeof(why),
				 " (critical at p >= %.2g once the range "
				 "%u-%u, inferred from the ports seen, is "
				 "confirmed: iptables-save or nft list ruleset "
				 "shows the rule's --to-ports, or give it with "
				 "--nat-range)",
				 P_CRIT, (unsigned)g->range_lo,
				 (unsigned)g->range_hi);
		rc = ctp_report_finding_act(
			rep, crit ? CTP_FINDING_CRIT : CTP_FINDING_WARN,
			g->p_fail_next >= P_CRIT ? "nat.ports_exhausted"
						 : "nat.ports_low",
			g->p_fail_next,
			g->p_fail_next >= P_CRIT ? P_CRIT : P_WARN,
			"give the NAT rule more source ports or addresses "
			"(a wider --to-ports range, more SNAT addresses), or "
			"make clients reuse connections",
			"%s: %llu of %u ports taken (%.0f%%), a new connection "
			"fails with p=%.3g; the limit is on that probability, "
			"ctplan check's nat_utilization on the share taken%s",
			name, (unsigned long long)g->used,
			g->range_hi - g->range_lo + 1, 100 * g->utilization,
			g->p_fail_next, why);
	}
	if (!rc && more)
		rc = ctp_report_finding_act(rep, CTP_FINDING_WARN,
					"nat.ports_low_more", (double)more,
					NAN,
					"give the NAT rule more source ports "
					"or addresses (a wider --to-ports "
					"range, more SNAT addresses), or make "
					"clients reuse connections",
					"%zu more NAT destinations are past "
					"1%% failure (see nat.groups)",
					more);
	if (!rc && named &&
	    ctp_snapshot_stat(snap, CTP_STAT_INSERT_FAILED, &failed) &&
	    failed)
		rc = ctp_report_finding(rep, CTP_FINDING_INFO,
					"nat.insert_failed_ports",
					(double)failed, NAN,
					"port exhaustion above can explain the "
					"%llu failed inserts counted",
					(unsigned long long)failed);
	if (!rc && r->remapped)
		rc = ctp_report_finding(rep, CTP_FINDING_INFO, "nat.remaps",
					(double)r->remapped, NAN,
					"%llu source-NAT entries got another "
					"port than their own (nat.remaps)",
					(unsigned long long)r->remapped);
	return rc;
}

void ctp_nat_section_free(void *p)
{
	ctp_nat_section *n = p;

	if (!n)
		return;
	ctp_nat_result_release(&n->res);
	free(n);
}

int ctp_nat_report(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	const ctp_analyze_opts *opts = &a->opts;
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_nat_section *n;
	int rc;

	o.kernel = ctp_host_kernel(a->host, NULL);
	if (opts->has_nat_range) {
		o.range_lo = opts->nat_range_lo;
		o.range_hi = opts->nat_range_hi;
	}
	o.seed = opts->seed;
	n = calloc(1, sizeof(*n));
	if (!n)
		return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
				     "out of memory in the nat report");
	if ((rc = ctp_nat_model_run(snap, &o, &n->res, err))) {
		free(n);
		return rc;
	}
	n->snap = snap;
	n->opts = o;
	n->max_groups = opts->nat_max_groups;
	for (size_t i = 0; i < n->res.ngroups; i++) {
		if (n->res.groups[i].utilization > n->max_utilization)
			n->max_utilization = n->res.groups[i].utilization;
		if (n->res.groups[i].p_fail_next > n->max_p_fail_next)
			n->max_p_fail_next = n->res.groups[i].p_fail_next;
	}
	rc = ctp_report_add_section(rep, "nat", CTP_SEC_NAT, n,
				    ctp_nat_section_free);
	if (!rc) {
		a->nat = n;
		rc = findings(snap, &n->res, rep);
	}
	if (rc)
		return ctp_error_set(err, rc, NULL, 0, 0,
				     "out of memory in the nat report");
	return 0;
}
