/*
 * NAT model as a report section: the "nat" keys of docs/report.md and
 * the findings for destinations near port exhaustion.  The model itself
 * is analyzer/nat.c and the files analyzer/nat_impl.h lists.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis_impl.h"
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

/*
 * Values made once and shared.  A large table has tens of thousands of
 * groups and up to max_remaps remaps, and most of their values repeat
 * (protocols, NAT addresses, ranges, small counts, 0.0): each is one
 * json_t held by every object that has it (jansson counts references),
 * which saved a fifth of the section's memory and of its allocations.
 * The printed report is the same.  The cache holds one reference of
 * each value; vc_release() drops them.
 */
typedef struct vcache {
	json_t **slot;
	size_t mask, used;
} vcache;

enum { VC_INT, VC_REAL, VC_STR };

static uint64_t vc_hash(int type, json_int_t i, double d, const char *str)
{
	uint64_t x = (uint64_t)i;

	if (type == VC_REAL)
		memcpy(&x, &d, sizeof(x));
	else if (type == VC_STR)
		for (x = 0xcbf29ce484222325ULL; *str; str++) /* FNV-1a */
			x = (x ^ (uint8_t)*str) * 0x100000001b3ULL;
	x = x * 3 + (uint64_t)type;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* The cache's key of a value it holds. */
static uint64_t vc_hash_of(const json_t *v)
{
	if (json_is_integer(v))
		return vc_hash(VC_INT, json_integer_value(v), 0, NULL);
	if (json_is_real(v))
		return vc_hash(VC_REAL, 0, json_real_value(v), NULL);
	return vc_hash(VC_STR, 0, 0, json_string_value(v));
}

/* Is v the value asked for?  Reals by their bits: 0.0 is not -0.0. */
static int vc_same(const json_t *v, int type, json_int_t i, double d,
		   const char *str)
{
	switch (type) {
	case VC_INT:
		return json_is_integer(v) && json_integer_value(v) == i;
	case VC_REAL:
		if (json_is_real(v)) {
			double x = json_real_value(v);

			return memcmp(&x, &d, sizeof(d)) == 0;
		}
		return 0;
	default:
		return json_is_string(v) &&
		       strcmp(json_string_value(v), str) == 0;
	}
}

static int vc_grow(vcache *c)
{
	size_t n = c->slot ? 2 * (c->mask + 1) : 1024;
	json_t **s = calloc(n, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; c->slot && i <= c->mask; i++) {
		size_t j;

		if (!c->slot[i])
			continue;
		for (j = vc_hash_of(c->slot[i]) & (n - 1); s[j];
		     j = (j + 1) & (n - 1))
			;
		s[j] = c->slot[i];
	}
	free(c->slot);
	c->slot = s;
	c->mask = n - 1;
	return 0;
}

/* A new reference to the value; NULL on out of memory. */
static json_t *vc_get(vcache *c, int type, json_int_t i, double d,
		      const char *str)
{
	uint64_t h;
	size_t j;
	json_t *v;

	if ((!c->slot || 2 * (c->used + 1) > c->mask + 1) && vc_grow(c))
		return NULL;
	h = vc_hash(type, i, d, str);
	for (j = h & c->mask; c->slot[j]; j = (j + 1) & c->mask)
		if (vc_same(c->slot[j], type, i, d, str))
			return json_incref(c->slot[j]);
	v = type == VC_INT ? json_integer(i)
	    : type == VC_REAL ? json_real(d) : json_string(str);
	if (!v)
		return NULL;
	c->slot[j] = v;
	c->used++;
	return json_incref(v);
}

static json_t *vc_int(vcache *c, json_int_t i)
{
	return vc_get(c, VC_INT, i, 0, NULL);
}

static json_t *vc_real(vcache *c, double d)
{
	return vc_get(c, VC_REAL, 0, d, NULL);
}

static json_t *vc_str(vcache *c, const char *s)
{
	return vc_get(c, VC_STR, 0, 0, s);
}

static void vc_release(vcache *c)
{
	for (size_t i = 0; c->slot && i <= c->mask; i++)
		json_decref(c->slot[i]);
	free(c->slot);
	c->slot = NULL;
	c->mask = c->used = 0;
}

static json_t *real_or_null(vcache *c, double v)
{
	return isnan(v) ? json_null() : vc_real(c, v);
}

static json_t *addr(vcache *c, uint8_t family, const uint8_t a[16])
{
	char buf[64];

	ctp_addr_format(family, a, buf, sizeof(buf));
	return vc_str(c, buf);
}

/* A flow's original tuple and the port it got, as remaps and holders
 * show it. */
static json_t *flow_json(vcache *c, const ctp_flow *f)
{
	int icmp = ctp_proto_is_icmp(f->proto);
	uint16_t mapped = icmp ? f->reply.sport : f->reply.dport;
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (put(o, "src", addr(c, f->family, f->orig.src)) ||
	    put(o, "sport", vc_int(c, f->orig.sport)) ||
	    put(o, "dst", addr(c, f->family, f->orig.dst)) ||
	    put(o, "dport", icmp ? json_null() : vc_int(c, f->orig.dport)) ||
	    put(o, "nat_addr", addr(c, f->family, f->reply.dst)) ||
	    put(o, "nat_port", vc_int(c, mapped)) ||
	    put(o, "snat", json_boolean(memcmp(f->reply.dst, f->orig.src,
					       16) != 0)) ||
	    put(o, "state", f->state ? vc_str(c, ctp_state_name(f->state))
				     : json_null())) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *remap_json(vcache *c, const ctp_snapshot *snap,
			  const ctp_nat_result *r, const ctp_nat_remap *rm,
			  size_t listed)
{
	const ctp_nat_group *g = &r->groups[rm->group];
	ctp_flow fl, hf;
	json_t *o;

	/* decoded once each: the remapped flow, and its holder if any */
	ctp_snapshot_flow_get(snap, rm->flow, &fl);
	if (rm->holder != CTP_NAT_NONE)
		ctp_snapshot_flow_get(snap, rm->holder, &hf);
	if (!(o = flow_json(c, &fl)))
		return NULL;
	if (put(o, "protocol", vc_str(c, ctp_proto_name(fl.proto))) ||
	    put(o, "family", vc_str(c, ctp_family_name(fl.family))) ||
	    put(o, "namespace", vc_str(c, g->ns)) ||
	    put(o, "zone", vc_int(c, g->zone)) ||
	    put(o, "reason", vc_str(c, ctp_nat_reason_name(rm->reason))) ||
	    /* the group's index in nat.groups, null when it is one of
	     * the groups_omitted */
	    put(o, "group", rm->group < listed
				    ? vc_int(c, (json_int_t)rm->group)
				    : json_null()) ||
	    put(o, "holder", rm->holder == CTP_NAT_NONE
				     ? json_null()
				     : flow_json(c, &hf))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *group_json(vcache *c, const ctp_nat_group *g)
{
	int icmp = ctp_proto_is_icmp(g->proto);
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (put(o, "protocol", vc_str(c, ctp_proto_name(g->proto))) ||
	    put(o, "family", vc_str(c, ctp_family_name(g->family))) ||
	    put(o, "namespace", vc_str(c, g->ns)) ||
	    put(o, "nat_addr", addr(c, g->family, g->nat_addr)) ||
	    put(o, "peer_addr", addr(c, g->family, g->peer_addr)) ||
	    put(o, "peer_port", icmp ? json_null()
				     : vc_int(c, g->peer_port)) ||
	    put(o, "icmp_type", icmp ? vc_int(c, g->peer_port >> 8)
				     : json_null()) ||
	    put(o, "icmp_code", icmp ? vc_int(c, g->peer_port & 0xff)
				     : json_null()) ||
	    put(o, "zone", vc_int(c, g->zone)) ||
	    put(o, "entries", vc_int(c, (json_int_t)g->entries)) ||
	    put(o, "snat_entries", vc_int(c, (json_int_t)g->snat_entries)) ||
	    put(o, "remapped", vc_int(c, (json_int_t)g->remapped)) ||
	    put(o, "evictable", vc_int(c, (json_int_t)g->evictable)) ||
	    put(o, "range_lo", vc_int(c, g->range_lo)) ||
	    put(o, "range_hi", vc_int(c, g->range_hi)) ||
	    put(o, "range_size",
		vc_int(c, g->range_hi >= g->range_lo
				  ? (json_int_t)g->range_hi - g->range_lo + 1
				  : 0)) ||
	    put(o, "range_source",
		vc_str(c, ctp_nat_range_src_name(g->range_src))) ||
	    put(o, "port_choice",
		vc_str(c, g->random ? "random" : "keep-if-free")) ||
	    put(o, "used", vc_int(c, (json_int_t)g->used)) ||
	    put(o, "utilization", vc_real(c, g->utilization)) ||
	    put(o, "p_keep", vc_real(c, g->p_keep)) ||
	    put(o, "p_search_fail", vc_real(c, g->p_search_fail)) ||
	    put(o, "p_fail_next", vc_real(c, g->p_fail_next)) ||
	    put(o, "utilization_p_fail_1pct", real_or_null(c, g->util_p1)) ||
	    put(o, "utilization_p_fail_50pct",
		real_or_null(c, g->util_p50))) {
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
		rc = ctp_report_finding_act(
			rep, crit ? CTP_FINDING_CRIT : CTP_FINDING_WARN,
			crit ? "nat.ports_exhausted" : "nat.ports_low",
			g->p_fail_next, crit ? P_CRIT : P_WARN,
			"give the NAT rule more source ports or addresses "
			"(a wider --to-ports range, more SNAT addresses), or "
			"make clients reuse connections",
			"%s: %llu of %u ports taken, a new connection fails "
			"with p=%.3g",
			name, (unsigned long long)g->used,
			g->range_hi - g->range_lo + 1, g->p_fail_next);
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

static int section(const ctp_snapshot *snap, const ctp_nat_opts *o,
		   const ctp_nat_result *r, size_t max_groups, json_t *nat)
{
	json_t *groups, *remaps;
	vcache vc = { NULL, 0, 0 };
	char kv[32];
	/* groups are sorted riskiest first: the listed ones are the
	 * riskiest; the maxima are over all of them */
	size_t listed = max_groups && max_groups < r->ngroups ? max_groups
							     : r->ngroups;
	double max_util = 0, max_pfail = 0;

	for (size_t i = 0; i < r->ngroups; i++) {
		if (r->groups[i].utilization > max_util)
			max_util = r->groups[i].utilization;
		if (r->groups[i].p_fail_next > max_pfail)
			max_pfail = r->groups[i].p_fail_next;
	}

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
	    put(nat, "max_utilization",
		r->ngroups ? json_real(max_util) : json_null()) ||
	    put(nat, "max_p_fail_next",
		r->ngroups ? json_real(max_pfail) : json_null()) ||
	    put(nat, "groups_omitted",
		json_integer((json_int_t)(r->ngroups - listed))) ||
	    put(nat, "groups", groups = json_array()))
		return CTP_ENOMEM;
	for (size_t i = 0; i < r->nremaps; i++)
		/* append_new steals the object; NULL fails the append */
		if (json_array_append_new(
			    remaps,
			    remap_json(&vc, snap, r, &r->remaps[i], listed)))
			goto oom;
	for (size_t i = 0; i < listed; i++)
		if (json_array_append_new(groups,
					  group_json(&vc, &r->groups[i])))
			goto oom;
	vc_release(&vc);
	return counters_json(snap, nat);
oom:
	vc_release(&vc);
	return CTP_ENOMEM;
}

int ctp_nat_report(const ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	const ctp_analyze_opts *opts = &a->opts;
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_nat_result r;
	json_t *nat;
	int rc;

	o.kernel = ctp_host_kernel(a->host, NULL);
	if (opts->has_nat_range) {
		o.range_lo = opts->nat_range_lo;
		o.range_hi = opts->nat_range_hi;
	}
	o.seed = opts->seed;
	if ((rc = ctp_nat_model_run(snap, &o, &r, err)))
		return rc;
	nat = ctp_report_section(rep, "nat");
	rc = nat ? section(snap, &o, &r, opts->nat_max_groups, nat)
		 : CTP_ENOMEM;
	if (!rc)
		rc = findings(snap, &r, rep);
	ctp_nat_result_release(&r);
	if (rc)
		return ctp_error_set(err, rc, NULL, 0, 0,
				     "out of memory in the nat report");
	return 0;
}
