/*
 * Inventory model: counts and headroom.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"
#include "ctplan/report_tree.h"
#include "ctplan/analyze.h"
#include "ctplan/flow.h"

/* Add n to obj[key] (an integer), creating it. */
static int bump(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	if (v)
		return json_integer_set(v, json_integer_value(v) + n);
	/* set_new: obj takes the new integer's only reference */
	return json_object_set_new(obj, key, json_integer(n));
}

static json_t *u64_or_null(int have, uint64_t v)
{
	return have ? json_integer((json_int_t)v) : json_null();
}

static int inputs_section(const ctp_snapshot *snap, ctp_report *rep)
{
	json_t *arr = json_array();
	size_t n = ctp_snapshot_input_count(snap);

	if (!arr)
		return CTP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ctp_input_info *in = ctp_snapshot_input(snap, i);
		json_t *ov = json_array(), *o;
		char fmt[256];

		ctp_format_names(in->formats, fmt, sizeof(fmt));
		for (size_t j = 0; j < n; j++)
			if (j != i && ctp_snapshot_inputs_overlap(snap, i, j))
				json_array_append_new(
					ov, json_string(
						    ctp_snapshot_input(snap, j)
							    ->path));
		o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I,"
			      " s:o, s:b, s:o}",
			      "path", in->path, "format",
			      in->skipped ? "unknown" : fmt, "namespace",
			      in->ns, "lines", (json_int_t)in->lines,
			      "records", (json_int_t)in->records, "rejected",
			      (json_int_t)in->rejected, "other",
			      (json_int_t)in->other, "flows",
			      (json_int_t)in->flows, "duplicates",
			      (json_int_t)in->duplicates, "summary_count",
			      u64_or_null(in->has_summary, in->summary_count),
			      "skipped", in->skipped, "overlaps", ov);
		/* append_new steals o */
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return CTP_ENOMEM;
		}
	}
	/* the report takes arr's only reference */
	return ctp_report_set_tree(rep, "inputs", arr);
}

/* by_state key: TCP states bare ("ESTABLISHED"), others "sctp:CLOSED" */
static void state_key(const ctp_flow *f, char *buf, size_t size)
{
	if (f->proto == CTP_P_TCP)
		snprintf(buf, size, "%s", ctp_state_name(f->state));
	else
		snprintf(buf, size, "%s:%s", ctp_proto_name(f->proto),
			 ctp_state_name(f->state));
}

/*
 * Counters of one pass over the flows.  The JSON objects are built once
 * at the end: a json_object_get per flow and key was most of the time of
 * this model on a 4M-entry table.  Keys keep the order in which they were
 * first seen (jansson objects keep insertion order, and the reports show
 * it), so each counter table remembers that order beside the counts.
 */
typedef struct counts {
	uint64_t family[256], proto[256];
	uint64_t state[256][CTP_STATE_COUNT];
	uint64_t zone[65536];
	/* first-seen order: family and proto numbers, proto << 8 | state,
	 * zones */
	uint8_t family_order[256], proto_order[256];
	uint16_t state_order[256 * CTP_STATE_COUNT];
	uint16_t zone_order[65536];
	size_t nfamily, nproto, nstate, nzone;
} counts;

static void count_flow(counts *c, const ctp_flow *f)
{
	uint8_t st = f->state < CTP_STATE_COUNT ? f->state : 0;

	if (!c->family[f->family]++)
		c->family_order[c->nfamily++] = f->family;
	if (!c->proto[f->proto]++)
		c->proto_order[c->nproto++] = f->proto;
	/* a state out of range is named "" by ctp_state_name(), as state
	 * 0 is: count it in slot 0, under the same key */
	if (f->state && !c->state[f->proto][st]++)
		c->state_order[c->nstate++] =
			(uint16_t)(f->proto * CTP_STATE_COUNT + st);
	if (!c->zone[f->zone]++)
		c->zone_order[c->nzone++] = f->zone;
}

static int entries_section(const ctp_snapshot *snap, ctp_report *rep,
			   uint64_t *total_out)
{
	size_t n = ctp_snapshot_flow_count(snap);
	json_t *fam = json_object(), *proto = json_object(),
	       *state = json_object(), *zone = json_object();
	uint64_t total = 0, assured = 0, unreplied = 0, offload = 0,
		 events = 0, dups = 0;
	counts *c = calloc(1, sizeof(*c));
	int rc = CTP_ENOMEM;

	if (!fam || !proto || !state || !zone || !c)
		goto done;
	/* both families always present, so consumers need no default */
	if (bump(fam, "ipv4", 0) || bump(fam, "ipv6", 0))
		goto done;
	for (size_t i = 0; i < n; i++) {
		ctp_flow f;

		ctp_snapshot_flow_get(snap, i, &f);
		if (f.flags & CTP_F_EVENT) {
			events++;
			continue;
		}
		if (f.flags & CTP_F_DUP) {
			dups++;
			continue;
		}
		total++;
		count_flow(c, &f);
		assured += !!(f.flags & CTP_F_ASSURED);
		unreplied += !!(f.flags & CTP_F_UNREPLIED);
		offload += !!(f.flags & (CTP_F_OFFLOAD | CTP_F_HW_OFFLOAD));
	}
	/* names may repeat ("unknown" for every unnamed protocol): bump
	 * adds them up under the first one's key, as one bump per flow did */
	for (size_t i = 0; i < c->nfamily; i++) {
		uint8_t v = c->family_order[i];
		if (bump(fam, ctp_family_name(v), (json_int_t)c->family[v]))
			goto done;
	}
	for (size_t i = 0; i < c->nproto; i++) {
		uint8_t v = c->proto_order[i];
		if (bump(proto, ctp_proto_name(v), (json_int_t)c->proto[v]))
			goto done;
	}
	for (size_t i = 0; i < c->nstate; i++) {
		ctp_flow f;
		char key[48];
		f.proto = (uint8_t)(c->state_order[i] / CTP_STATE_COUNT);
		f.state = (uint8_t)(c->state_order[i] % CTP_STATE_COUNT);
		state_key(&f, key, sizeof(key));
		if (bump(state, key, (json_int_t)c->state[f.proto][f.state]))
			goto done;
	}
	for (size_t i = 0; i < c->nzone; i++) {
		char key[8];
		uint16_t z = c->zone_order[i];
		snprintf(key, sizeof(key), "%u", z);
		if (bump(zone, key, (json_int_t)c->zone[z]))
			goto done;
	}
	/* pack "o" steals the four objects whatever happens */
	{
		json_t *e = json_pack(
			"{s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
			"total", (json_int_t)total, "by_family", fam,
			"by_protocol", proto, "by_state", state, "by_zone",
			zone, "assured", (json_int_t)assured, "unreplied",
			(json_int_t)unreplied, "offloaded",
			(json_int_t)offload, "duplicates_merged",
			(json_int_t)dups, "events", (json_int_t)events);
		fam = proto = state = zone = NULL;
		if (ctp_report_set_tree(rep, "entries", e))
			goto done;
	}
	*total_out = total;
	rc = 0;
done:
	free(c);
	json_decref(fam);
	json_decref(proto);
	json_decref(state);
	json_decref(zone);
	return rc;
}

/*
 * The action that raises nf_conntrack_max: the recommendation's figure
 * when it raises it, so every finding names the same one.
 */
static const char *max_action(const ctp_analysis *a, char *buf, size_t size)
{
	if (a->has_plan && a->plan.max > ctp_host_max(a->host)->value) {
		snprintf(buf, size, "set nf_conntrack_max = %llu",
			 (unsigned long long)a->plan.max);
		return buf;
	}
	if (a->has_plan)
		return NULL; /* the planner keeps it: nothing to raise */
	return "raise nf_conntrack_max";
}

static int table_section(const ctp_analysis *a, ctp_report *rep)
{
	const ctp_host *host = a->host;
	char abuf[80];
	const char *max_act = max_action(a, abuf, sizeof(abuf));
	int rc = 0;
	const ctp_host_num *c = ctp_host_count(host), *m = ctp_host_max(host),
			   *b = ctp_host_buckets(host);
	uint64_t count = c->value, max = m->value, buckets = b->value;
	int has_count = c->known, has_max = m->known,
	    has_buckets = b->known;
	const char *count_src = c->source, *buckets_src = b->source;
	json_t *t;

	t = ctp_report_section(rep, "table");
	if (!t)
		return CTP_ENOMEM;
	/* set_new: t takes each new value's only reference */
	json_object_set_new(t, "count", u64_or_null(has_count, count));
	json_object_set_new(t, "count_source",
			    count_src ? json_string(count_src) : json_null());
	json_object_set_new(t, "max", u64_or_null(has_max, max));
	json_object_set_new(t, "buckets", u64_or_null(has_buckets, buckets));
	json_object_set_new(t, "buckets_source", buckets_src
							 ? json_string(buckets_src)
							 : json_null());
	if (has_count && has_max) {
		double pct = max ? 100.0 * ((double)max - (double)count) /
					   (double)max
				 : 0.0;
		json_object_set_new(t, "headroom",
				    json_integer((json_int_t)max -
						 (json_int_t)count));
		json_object_set_new(t, "headroom_pct",
				    json_real(round(pct * 100) / 100));
		if (max && count >= max)
			rc = ctp_report_finding_act(
				rep, CTP_FINDING_CRIT, "table.full",
				(double)count, (double)max, max_act,
				"the table is full: new flows are dropped "
				"unless an unassured entry can be evicted");
		else if (pct < 20)
			rc = ctp_report_finding_act(
				rep, CTP_FINDING_WARN, "table.headroom_low",
				pct, 20, max_act,
				"less than 20%% headroom to nf_conntrack_max "
				"now");
		if (rc)
			return rc;
	} else {
		json_object_set_new(t, "headroom", json_null());
		json_object_set_new(t, "headroom_pct", json_null());
	}
	return 0;
}

/* Counters named in docs/report.md: always present, null when absent. */
static const ctp_stat report_stats[] = {
	CTP_STAT_FOUND,		 CTP_STAT_INVALID,	CTP_STAT_IGNORE,
	CTP_STAT_INSERT,	 CTP_STAT_INSERT_FAILED, CTP_STAT_DROP,
	CTP_STAT_EARLY_DROP,	 CTP_STAT_ERROR,	CTP_STAT_SEARCH_RESTART,
	CTP_STAT_CLASH_RESOLVE, CTP_STAT_CHAINTOOLONG,	CTP_STAT_SEARCHED,
	CTP_STAT_NEW,		 CTP_STAT_DELETE,	CTP_STAT_DELETE_LIST,
	CTP_STAT_EXPECT_NEW,	 CTP_STAT_EXPECT_CREATE, CTP_STAT_EXPECT_DELETE,
};

static int stats_section(const ctp_snapshot *snap, ctp_report *rep)
{
	json_t *s = ctp_report_section(rep, "stats");
	int src;
	size_t cpus = ctp_snapshot_stat_cpus(snap, &src);

	if (!s)
		return CTP_ENOMEM;
	for (size_t i = 0; i < sizeof(report_stats) / sizeof(report_stats[0]);
	     i++) {
		uint64_t v;
		int have = ctp_snapshot_stat(snap, report_stats[i], &v);
		json_object_set_new(s, ctp_stat_name(report_stats[i]),
				    u64_or_null(have, v));
	}
	json_object_set_new(s, "cpus", json_integer((json_int_t)cpus));
	json_object_set_new(s, "source",
			    src >= 0 ? json_string(ctp_snapshot_input(
					       snap, (size_t)src)->path)
				     : json_null());
	return 0;
}

/*
 * The conntrack -S counters that bear on sizing, each read by the code
 * path that raises it on the host's kernel (include/ctplan/host.h): a
 * full table wants a larger max (or shorter timeouts), a lost insert
 * clash wants more NAT ports or addresses, a refused long chain wants
 * more buckets.  One finding per cause, with its own action.
 */
static int counter_findings(const ctp_analysis *a, ctp_report *rep)
{
	const ctp_host_counters *c = ctp_host_counters_get(a->host);
	char abuf[80], bbuf[80];
	const char *max_act = max_action(a, abuf, sizeof(abuf));
	const char *bucket_act = NULL;

	if (!c->read)
		return 0;
	if (a->has_plan && a->plan.buckets > ctp_host_buckets(a->host)->value) {
		snprintf(bbuf, sizeof(bbuf), "set nf_conntrack_buckets = %llu",
			 (unsigned long long)a->plan.buckets);
		bucket_act = bbuf;
	}
	if (c->full_drops &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.full_drop",
		    (double)c->full_drops, NAN,
		    max_act ? max_act
			    : "shorten the timeouts of idle entries, or "
			      "raise nf_conntrack_max",
		    "the kernel dropped %s%llu packets since boot because the "
		    "table was full and no unassured entry could be evicted "
		    "(drop %llu%s%s; counters read as on kernels %s)",
		    c->split_known ? "" : "at least ",
		    (unsigned long long)c->full_drops,
		    (unsigned long long)c->drop,
		    c->drop != c->full_drops ? " less the insert clashes lost"
					     : "",
		    c->has_insert_failed ? ""
					 : "; no insert_failed to tell "
					   "clashes apart",
		    c->rule))
		return CTP_ENOMEM;
	if (c->early_drop &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.early_drop",
		    (double)c->early_drop, NAN,
		    max_act ? max_act
			    : "shorten the timeouts of idle entries, or "
			      "raise nf_conntrack_max",
		    "the kernel evicted %llu unassured entries since boot to "
		    "admit new flows: early_drop runs only when the table is "
		    "full",
		    (unsigned long long)c->early_drop))
		return CTP_ENOMEM;
	if (c->clash_drops &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.clash_drop",
		    (double)c->clash_drops, NAN,
		    "give the NAT rule more source ports or addresses "
		    "(a wider --to-ports range, more SNAT addresses), or "
		    "make clients reuse connections",
		    "%s%llu packets were dropped since boot because their "
		    "new entry clashed with one already in the table "
		    "(insert_failed %llu%s): two flows with the same tuple, "
		    "after source NAT a port in use or exhausted, or a race "
		    "the kernel could not resolve; a larger table does not "
		    "help",
		    c->split_known ? "" : "at most ",
		    (unsigned long long)c->clash_drops,
		    (unsigned long long)c->insert_failed,
		    c->chain_drops ? " less chaintoolong" : ""))
		return CTP_ENOMEM;
	if (c->chain_drops &&
	    ctp_report_finding_act(
		    rep, CTP_FINDING_WARN, "stats.chaintoolong",
		    (double)c->chain_drops, NAN,
		    bucket_act ? bucket_act
			       : "raise nf_conntrack_buckets",
		    "the kernel refused %llu new flows since boot because a "
		    "hash chain was too long (chaintoolong, also counted in "
		    "insert_failed): more buckets shorten the chains",
		    (unsigned long long)c->chain_drops))
		return CTP_ENOMEM;
	return 0;
}

static int rejected_findings(const ctp_snapshot *snap, ctp_report *rep)
{
	uint64_t rej = 0;

	for (size_t i = 0; i < ctp_snapshot_input_count(snap); i++)
		rej += ctp_snapshot_input(snap, i)->rejected;
	if (rej)
		return ctp_report_finding_act(rep, CTP_FINDING_WARN,
					  "input.rejected_lines", (double)rej,
					  NAN,
					  "check the input: the messages on "
					  "stderr name each rejected line",
					  "%llu input lines were rejected",
					  (unsigned long long)rej);
	return 0;
}

int ctp_inventory_report(const ctp_analysis *a, ctp_report *rep,
			 ctp_error *err)
{
	const ctp_snapshot *snap = a->snap;
	uint64_t total = 0;

	if (inputs_section(snap, rep) ||
	    entries_section(snap, rep, &total) ||
	    table_section(a, rep) || stats_section(snap, rep) ||
	    counter_findings(a, rep) ||
	    rejected_findings(snap, rep))
		return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
				     "out of memory");
	return 0;
}
