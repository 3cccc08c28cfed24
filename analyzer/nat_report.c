/*
 * NAT model as a report section: the "nat" keys of docs/report.md and
 * the findings for destinations near port exhaustion.  The model itself
 * is analyzer/nat.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/nat.h"

/* p_fail_next from which a group is a finding */
#define P_WARN 0.01
#define P_CRIT 0.5
/* groups named one by one in findings; the rest are summed up */
#define FINDING_GROUPS 5

/* set_new throughout: obj takes each new value's only reference; a NULL
 * value (out of memory) makes the set fail. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) ? CTP_ENOMEM : 0;
}

static json_t *real_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *addr(uint8_t family, const uint8_t a[16])
{
	char buf[64];

	ctp_addr_format(family, a, buf, sizeof(buf));
	return json_string(buf);
}

/* A flow's original tuple and the port it got, as remaps and holders
 * show it. */
static json_t *flow_json(const ctp_snapshot *snap, size_t i)
{
	const ctp_flow *f = &ctp_snapshot_flows(snap)[i];
	int icmp = ctp_proto_is_icmp(f->proto);
	uint16_t mapped = icmp ? f->reply.sport : f->reply.dport;
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (put(o, "src", addr(f->family, f->orig.src)) ||
	    put(o, "sport", json_integer(f->orig.sport)) ||
	    put(o, "dst", addr(f->family, f->orig.dst)) ||
	    put(o, "dport", icmp ? json_null() : json_integer(f->orig.dport)) ||
	    put(o, "nat_addr", addr(f->family, f->reply.dst)) ||
	    put(o, "nat_port", json_integer(mapped)) ||
	    put(o, "snat", json_boolean(memcmp(f->reply.dst, f->orig.src,
					       16) != 0)) ||
	    put(o, "state", f->state ? json_string(ctp_state_name(f->state))
				     : json_null())) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *remap_json(const ctp_snapshot *snap, const ctp_nat_result *r,
			  const ctp_nat_remap *rm)
{
	const ctp_flow *f = &ctp_snapshot_flows(snap)[rm->flow];
	const ctp_nat_group *g = &r->groups[rm->group];
	json_t *o = flow_json(snap, rm->flow);

	if (!o)
		return NULL;
	if (put(o, "protocol", json_string(ctp_proto_name(f->proto))) ||
	    put(o, "family", json_string(ctp_family_name(f->family))) ||
	    put(o, "namespace", json_string(g->ns)) ||
	    put(o, "zone", json_integer(g->zone)) ||
	    put(o, "reason", json_string(ctp_nat_reason_name(rm->reason))) ||
	    put(o, "group", json_integer((json_int_t)rm->group)) ||
	    put(o, "holder", rm->holder == CTP_NAT_NONE
				     ? json_null()
				     : flow_json(snap, rm->holder))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *group_json(const ctp_nat_group *g)
{
	int icmp = ctp_proto_is_icmp(g->proto);
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (put(o, "protocol", json_string(ctp_proto_name(g->proto))) ||
	    put(o, "family", json_string(ctp_family_name(g->family))) ||
	    put(o, "namespace", json_string(g->ns)) ||
	    put(o, "nat_addr", addr(g->family, g->nat_addr)) ||
	    put(o, "peer_addr", addr(g->family, g->peer_addr)) ||
	    put(o, "peer_port", icmp ? json_null()
				     : json_integer(g->peer_port)) ||
	    put(o, "icmp_type", icmp ? json_integer(g->peer_port >> 8)
				     : json_null()) ||
	    put(o, "icmp_code", icmp ? json_integer(g->peer_port & 0xff)
				     : json_null()) ||
	    put(o, "zone", json_integer(g->zone)) ||
	    put(o, "entries", json_integer((json_int_t)g->entries)) ||
	    put(o, "snat_entries",
		json_integer((json_int_t)g->snat_entries)) ||
	    put(o, "remapped", json_integer((json_int_t)g->remapped)) ||
	    put(o, "evictable", json_integer((json_int_t)g->evictable)) ||
	    put(o, "range_lo", json_integer(g->range_lo)) ||
	    put(o, "range_hi", json_integer(g->range_hi)) ||
	    put(o, "range_size",
		json_integer(g->range_hi >= g->range_lo
				     ? (json_int_t)g->range_hi - g->range_lo + 1
				     : 0)) ||
	    put(o, "range_source",
		json_string(ctp_nat_range_src_name(g->range_src))) ||
	    put(o, "port_choice",
		json_string(g->random ? "random" : "keep-if-free")) ||
	    put(o, "used", json_integer((json_int_t)g->used)) ||
	    put(o, "utilization", json_real(g->utilization)) ||
	    put(o, "p_keep", json_real(g->p_keep)) ||
	    put(o, "p_search_fail", json_real(g->p_search_fail)) ||
	    put(o, "p_fail_next", json_real(g->p_fail_next)) ||
	    put(o, "utilization_p_fail_1pct", real_or_null(g->util_p1)) ||
	    put(o, "utilization_p_fail_50pct", real_or_null(g->util_p50))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *counter(const ctp_snapshot *snap, ctp_stat id)
{
	uint64_t v;

	return ctp_snapshot_stat(snap, id, &v) ? json_integer((json_int_t)v)
					       : json_null();
}

static int counters_json(const ctp_snapshot *snap, json_t *nat)
{
	json_t *c = json_object();

	if (!c || put(nat, "counters", c))
		return CTP_ENOMEM;
	if (put(c, "insert_failed", counter(snap, CTP_STAT_INSERT_FAILED)) ||
	    put(c, "drop", counter(snap, CTP_STAT_DROP)) ||
	    put(c, "clash_resolve", counter(snap, CTP_STAT_CLASH_RESOLVE)) ||
	    put(c, "found", counter(snap, CTP_STAT_FOUND)) ||
	    put(c, "cpus", json_integer((json_int_t)ctp_snapshot_stat_cpus(
				   snap, NULL))))
		return CTP_ENOMEM;
	return 0;
}

static void group_name(const ctp_nat_group *g, char *buf, size_t size)
{
	char nat[64], peer[64];

	ctp_addr_format(g->family, g->nat_addr, nat, sizeof(nat));
	ctp_addr_format(g->family, g->peer_addr, peer, sizeof(peer));
	if (ctp_proto_is_icmp(g->proto))
		snprintf(buf, size, "%s %s via %s", ctp_proto_name(g->proto),
			 peer, nat);
	else if (g->family == CTP_AF_INET6)
		snprintf(buf, size, "%s [%s]:%u via %s",
			 ctp_proto_name(g->proto), peer, g->peer_port, nat);
	else
		snprintf(buf, size, "%s %s:%u via %s",
			 ctp_proto_name(g->proto), peer, g->peer_port, nat);
}

static int findings(const ctp_snapshot *snap, const ctp_nat_result *r,
		    ctp_report *rep)
{
	size_t named = 0, more = 0;
	uint64_t failed;
	int rc = 0;

	for (size_t i = 0; i < r->ngroups && !rc; i++) {
		const ctp_nat_group *g = &r->groups[i];
		int crit = g->p_fail_next >= P_CRIT;
		char name[200];

		if (g->p_fail_next < P_WARN)
			break; /* sorted by risk */
		if (named == FINDING_GROUPS) {
			more++;
			continue;
		}
		named++;
		group_name(g, name, sizeof(name));
		rc = ctp_report_finding(
			rep, crit ? CTP_FINDING_CRIT : CTP_FINDING_WARN,
			crit ? "nat.ports_exhausted" : "nat.ports_low",
			g->p_fail_next, crit ? P_CRIT : P_WARN,
			"%s: %llu of %u ports taken, a new connection fails "
			"with p=%.3g; widen the range or add NAT addresses",
			name, (unsigned long long)g->used,
			g->range_hi - g->range_lo + 1, g->p_fail_next);
	}
	if (!rc && more)
		rc = ctp_report_finding(rep, CTP_FINDING_WARN,
					"nat.ports_low_more", (double)more,
					NAN,
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

static int section(const ctp_snapshot *snap, const ctp_nat_opts *o,
		   const ctp_nat_result *r, json_t *nat)
{
	json_t *groups, *remaps;
	char kv[32];

	ctp_kver_format(&r->kernel, kv, sizeof(kv));
	if (put(nat, "kernel", json_string(kv)) ||
	    put(nat, "algorithm", json_string(r->algo.name)) ||
	    put(nat, "algorithm_versions", json_string(r->algo.versions)) ||
	    put(nat, "algorithm_source", json_string(r->algo.source)) ||
	    put(nat, "random", json_string(r->algo.random)) ||
	    put(nat, "random_fully", json_string(r->algo.random_fully)) ||
	    put(nat, "client_ports", json_pack("[i, i]", (int)o->client_lo,
					       (int)o->client_hi)) ||
	    put(nat, "entries", json_integer((json_int_t)r->entries)) ||
	    put(nat, "snat", json_integer((json_int_t)r->snat)) ||
	    put(nat, "dnat", json_integer((json_int_t)r->dnat)) ||
	    put(nat, "port_remapped", json_integer((json_int_t)r->remapped)) ||
	    put(nat, "icmp_without_id", json_integer((json_int_t)r->no_icmp)) ||
	    put(nat, "remaps", remaps = json_array()) ||
	    put(nat, "remaps_omitted",
		json_integer((json_int_t)(r->remapped - r->nremaps))) ||
	    put(nat, "group_count", json_integer((json_int_t)r->ngroups)) ||
	    put(nat, "groups", groups = json_array()))
		return CTP_ENOMEM;
	for (size_t i = 0; i < r->nremaps; i++)
		/* append_new steals the object; NULL fails the append */
		if (json_array_append_new(remaps,
					  remap_json(snap, r, &r->remaps[i])))
			return CTP_ENOMEM;
	for (size_t i = 0; i < r->ngroups; i++)
		if (json_array_append_new(groups, group_json(&r->groups[i])))
			return CTP_ENOMEM;
	return counters_json(snap, nat);
}

int ctp_nat_report(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		   ctp_report *rep, ctp_error *err)
{
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_nat_result r;
	json_t *nat;
	int rc;

	if (opts->has_kernel)
		o.kernel = opts->kernel;
	else if (!ctp_kver_from_info(ctp_snapshot_kernel(snap), &o.kernel))
		o.kernel = ctp_kernel_newest();
	if (opts->has_nat_range) {
		o.range_lo = opts->nat_range_lo;
		o.range_hi = opts->nat_range_hi;
	}
	o.seed = opts->seed;
	if ((rc = ctp_nat_model_run(snap, &o, &r, err)))
		return rc;
	nat = ctp_report_section(rep, "nat");
	rc = nat ? section(snap, &o, &r, nat) : CTP_ENOMEM;
	if (!rc)
		rc = findings(snap, &r, rep);
	ctp_nat_result_release(&r);
	if (rc)
		return ctp_error_set(err, rc, NULL, 0, 0,
				     "out of memory in the nat report");
	return 0;
}
