/*
 * Inventory model (analyzer/inventory.c), run after the planner as in
 * ctp_analyze_run: the typed ctp_inventory of small snapshots read from
 * text, and the table and counter findings with their actions.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analysis_fixture.h"
#include "analysis_impl.h"
#include "ctplan/inventory.h"

#define TCP(sp, extra)                                                    \
	"tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=" sp \
	" dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=" sp             \
	" [ASSURED] mark=0 " extra "use=1\n"

/* first an IPv6 entry: ipv4 still comes first */
static const char *const mixed =
	"tcp      6 431999 ESTABLISHED src=2001:db8::1 dst=2001:db8::2 "
	"sport=40000 dport=443 src=2001:db8::2 dst=2001:db8::1 sport=443 "
	"dport=40000 [ASSURED] mark=0 use=1\n"
	"udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=5353 dport=53 "
	"[UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=5353 mark=0 "
	"use=1\n"
	"tcp      6 119 SYN_SENT src=10.0.0.1 dst=10.0.0.3 sport=40001 "
	"dport=443 [UNREPLIED] src=10.0.0.3 dst=10.0.0.1 sport=443 "
	"dport=40001 mark=0 zone=7 use=1\n"
	"icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=9 "
	"src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=9 mark=0 zone=7 use=1\n"
	TCP("40002", "zone=3 ")
	"sctp     132 209 ESTABLISHED src=10.0.0.1 dst=10.0.0.4 sport=3868 "
	"dport=3868 src=10.0.0.4 dst=10.0.0.1 sport=3868 dport=3868 "
	"[ASSURED] mark=0 use=1\n";

static const ctp_inventory *inv_of(const ctp_report *rep)
{
	const ctp_inventory *inv = ctp_report_get(rep, "entries",
						  CTP_SEC_ENTRIES);

	assert_non_null(inv);
	return inv;
}

/* The tallies are exactly key, n, key, n, ..., NULL, in this order. */
static void tallies_are(const ctp_tallies *t, ...)
{
	const char *key;
	size_t i = 0;
	va_list ap;

	va_start(ap, t);
	for (; (key = va_arg(ap, const char *)); i++) {
		assert_true(i < t->n);
		assert_string_equal(t->v[i].key, key);
		assert_int_equal(t->v[i].n, va_arg(ap, int));
	}
	va_end(ap);
	assert_int_equal(t->n, i);
}

/* the pipeline's order; the four sections of one result; the entries */
static void test_entries(void **state)
{
	static const char *const keys[] = { "inputs", "entries", "table",
					    "stats" };
	ctp_snapshot *s = snap_of("list", mixed, NULL);
	ctp_report *rep = run_to(s, NULL, "inventory", NULL);
	const ctp_inventory *inv = inv_of(rep);
	ctp_error err = CTP_ERROR_INIT;
	ctp_section_kind kind;
	const void *data;

	(void)state;
	assert_string_equal(ctp_analyze_model_name(0), "plan");
	assert_string_equal(ctp_analyze_model_name(1), "kernel");
	assert_string_equal(ctp_analyze_model_name(2), "inventory");
	assert_null(ctp_analyze_model_name(ctp_analyze_model_count()));
	assert_int_equal(ctp_analyze_model(ctp_analyze_model_count(), NULL,
					   NULL, &err),
			 CTP_EFAIL);
	assert_int_equal(ctp_report_section_count(rep), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(ctp_report_section_at(rep, i, &kind, &data),
				    keys[i]);
		assert_int_equal(kind, CTP_SEC_INPUTS + i);
		assert_ptr_equal(data, inv);
	}
	assert_null(ctp_report_get(rep, "entries", CTP_SEC_TABLE));
	assert_ptr_equal(inv->snap, s);
	/* the planner ran first: the table's drop figure is there */
	assert_true(inv->has_full_drop_p);

	assert_int_equal(inv->total, 6);
	assert_int_equal(inv->assured, 3);
	assert_int_equal(inv->unreplied, 2);
	assert_int_equal(inv->offloaded + inv->duplicates + inv->events, 0);
	tallies_are(&inv->family, "ipv4", 5, "ipv6", 1, NULL);
	tallies_are(&inv->protocol, "tcp", 3, "udp", 1, "icmp", 1, "sctp", 1,
		    NULL);
	/* stateless protocols have no state; others than TCP are named */
	tallies_are(&inv->state, "ESTABLISHED", 2, "SYN_SENT", 1,
		    "sctp:ESTABLISHED", 1, NULL);
	tallies_are(&inv->zone, "0", 3, "7", 2, "3", 1, NULL);
	assert_int_equal(ctp_tallies_get(&inv->zone, "9"), 0);
	release(rep, NULL, s);

	/* IPv6 alone: ipv4 is there, at 0 */
	s = snap_of("list",
		    "udp      17 29 src=2001:db8::1 dst=2001:db8::2 sport=5353 "
		    "dport=53 src=2001:db8::2 dst=2001:db8::1 sport=53 "
		    "dport=5353 mark=0 use=1\n",
		    NULL);
	rep = run_to(s, NULL, "inventory", NULL);
	tallies_are(&inv_of(rep)->family, "ipv4", 0, "ipv6", 1, NULL);
	tallies_are(&inv_of(rep)->state, NULL);
	release(rep, NULL, s);
}

/* two dumps of one table, one entry more in the second, an event and a
 * malformed line */
static void test_duplicates(void **state)
{
	ctp_snapshot *s = snap_of(
		"a", TCP("1000", "") TCP("1001", "") "tcp      6 zzz\n", "b",
		TCP("1000", "") TCP("1001", "") TCP("1002", ""), "events",
		"    [NEW] tcp      6 120 SYN_SENT src=10.0.0.9 dst=10.0.0.2 "
		"sport=999 dport=80 [UNREPLIED] src=10.0.0.2 dst=10.0.0.9 "
		"sport=80 dport=999\n",
		NULL);
	ctp_report *rep = run_to(s, NULL, "inventory", NULL);
	const ctp_inventory *inv = inv_of(rep);

	(void)state;
	assert_int_equal(inv->total, 3);
	assert_int_equal(inv->duplicates, 2);
	assert_int_equal(inv->events, 1);
	assert_int_equal(inv->assured, 3);
	tallies_are(&inv->protocol, "tcp", 3, NULL);
	assert_int_equal(inv->count.value, 3);
	assert_string_equal(inv->count.source, "entries listed");
	has(rep, "input.rejected_lines", CTP_FINDING_WARN, 1,
	    "check the input: the messages on stderr name each rejected line");
	release(rep, NULL, s);
}

/* /proc/net/stat/nf_conntrack of two CPUs: entries 30, found 1 + 2 */
static const char *const proc_stat = "entries  found drop\n"
				     "0000001e  00000001 00000000\n"
				     "0000001e  00000002 00000000\n";

/* conntrack -C over sysctl over /proc/net/stat over the listing */
static void test_count_source(void **state)
{
	static const struct {
		int c, sysctl, stat;
		uint64_t count;
		const char *source;
	} rows[] = {
		{ 1, 1, 1, 10, "conntrack -C" },
		{ 0, 1, 1, 20, "sysctl net.netfilter.nf_conntrack_count" },
		{ 0, 0, 1, 30, "/proc/net/stat/nf_conntrack entries" },
		{ 0, 0, 0, 2, "entries listed" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_snapshot *s = snap_of(
			"list", TCP("1000", "") TCP("1001", ""), "count",
			rows[i].c ? "10\n" : "", "sysctl",
			rows[i].sysctl
				? "net.netfilter.nf_conntrack_count = 20\n"
				: "",
			"stat", rows[i].stat ? proc_stat : "", NULL);
		ctp_report *rep = run_to(s, NULL, "inventory", NULL);
		const ctp_inventory *inv = inv_of(rep);

		assert_true(inv->count.known);
		assert_int_equal(inv->count.value, rows[i].count);
		assert_string_equal(inv->count.source, rows[i].source);
		/* no max: no headroom, no table finding */
		assert_false(inv->max.known);
		assert_false(inv->has_headroom);
		assert_null(finding(rep, "table.headroom_low"));
		assert_null(finding(rep, "table.full"));
		/* /proc/net/stat: found summed over its two rows */
		assert_int_equal(inv->cpus, rows[i].stat ? 2 : 0);
		assert_int_equal(inv->stat_have[0], rows[i].stat);
		assert_int_equal(inv->stat[0], rows[i].stat ? 3 : 0);
		release(rep, NULL, s);
	}
}

/* count and max from sysctl; the inventory run with or without the
 * planner before it (ao: its options, NULL defaults) */
static ctp_report *table(uint64_t count, uint64_t max, int plan,
			 const ctp_analyze_opts *ao, ctp_snapshot **sp,
			 ctp_analysis **ap)
{
	char buf[200];
	ctp_error err = CTP_ERROR_INIT;
	ctp_report *rep;

	snprintf(buf, sizeof(buf),
		 "net.netfilter.nf_conntrack_count = %llu\n"
		 "net.netfilter.nf_conntrack_max = %llu\n",
		 (unsigned long long)count, (unsigned long long)max);
	*sp = snap_of("sysctl", buf, NULL);
	if (plan)
		return run_to(*sp, ao, "inventory", ap);
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_analysis_new(*sp, ao, ap, &err), 0);
	assert_int_equal(ctp_inventory_report(*ap, rep, &err), 0);
	return rep;
}

/* headroom and its rounding; a full table is critical, less than 20%
 * free a warning, both naming the recommendation's max */
static void test_headroom(void **state)
{
	static const struct {
		uint64_t count, max;
		int64_t headroom;
		double pct;
		const char *code; /* the finding, NULL none */
	} rows[] = {
		{ 333, 1000, 667, 66.7, NULL },
		{ 1, 7, 6, 85.71, NULL },
		{ 2, 3, 1, 33.33, NULL },
		{ 1, 3, 2, 66.67, NULL },
		{ 0, 1000, 1000, 100, NULL },
		{ 800, 1000, 200, 20, NULL }, /* exactly 20% is enough */
		{ 850, 1000, 150, 15, "table.headroom_low" },
		{ 1000, 1000, 0, 0, "table.full" },
		{ 1100, 1000, -100, -10, "table.full" },
	};
	char buf[80];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_snapshot *s;
		ctp_analysis *a;
		ctp_report *rep =
			table(rows[i].count, rows[i].max, 1, NULL, &s, &a);
		const ctp_inventory *inv = inv_of(rep);
		int full = rows[i].code && !strcmp(rows[i].code, "table.full");

		assert_true(inv->has_headroom);
		assert_string_equal(inv->max.source,
				    "sysctl net.netfilter.nf_conntrack_max");
		assert_int_equal(inv->headroom, rows[i].headroom);
		assert_true(fabs(inv->headroom_pct - rows[i].pct) < 1e-9);
		assert_int_equal(ctp_report_finding_count(rep),
				 rows[i].code != NULL);
		if (rows[i].code) {
			assert_true(a->has_plan && a->plan.max > rows[i].max);
			has(rep, rows[i].code,
			    full ? CTP_FINDING_CRIT : CTP_FINDING_WARN,
			    full ? (double)rows[i].count : rows[i].pct,
			    set_act(buf, "nf_conntrack_max", a->plan.max));
			assert_true(ctp_report_finding_at(rep, 0)->limit ==
				    (full ? (double)rows[i].max : 20));
		}
		release(rep, a, s);
	}
}

/* the action when the planner does not raise the max */
static void test_table_actions(void **state)
{
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;

	(void)state;
	/* the inventory alone: what to do, not how much */
	rep = table(850, 1000, 0, NULL, &s, &a);
	assert_false(inv_of(rep)->has_full_drop_p);
	has(rep, "table.headroom_low", CTP_FINDING_WARN, 15,
	    "raise nf_conntrack_max (the input has no nf_conntrack_max to "
	    "size it from: add sysctl -a)");
	release(rep, a, s);
	/* the planner keeps the max in force (10% margin): a warning with
	 * nothing to do */
	po.margin = 0.1;
	ao.plan = &po;
	rep = table(850, 1024, 1, &ao, &s, &a);
	assert_int_equal(a->plan.max, 1024);
	assert_int_equal(a->plan.max_move, CTP_PLAN_KEEP);
	has(rep, "table.headroom_low", CTP_FINDING_WARN, 16.9921875, NULL);
	release(rep, a, s);
}

/* one CPU of conntrack -S on kernel v, with max 256 and these buckets */
static ctp_report *counters(const char *stats, const char *v,
			    unsigned buckets, ctp_snapshot **sp,
			    ctp_analysis **ap)
{
	char buf[512], sysctl[128];
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;

	snprintf(buf, sizeof(buf),
		 "cpu=0   \tfound=0 invalid=0 insert=0 %s error=0 "
		 "search_restart=0 \n",
		 stats);
	snprintf(sysctl, sizeof(sysctl),
		 "net.netfilter.nf_conntrack_max = 256\n"
		 "net.netfilter.nf_conntrack_buckets = %u\n",
		 buckets);
	*sp = snap_of("list", TCP("1000", ""), "sysctl", sysctl, "stats", buf,
		      NULL);
	ao.has_kernel = 1;
	assert_int_equal(ctp_kver_parse(v, strlen(v), &ao.kernel, &err), 0);
	/* the counters' findings come after the NAT model */
	return run_to(*sp, &ao, "counters", ap);
}

static void test_counter_findings(void **state)
{
	/* one flow, no NAT range near exhaustion: lost clashes are races */
	static const char nat_act[] =
		"add --random-fully to the SNAT/MASQUERADE rule, so that "
		"flows racing for a source port draw different ones; compare "
		"insert_failed in two snapshots to see whether it still grows";
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;
	const ctp_finding *f[4];
	char buf[80];

	(void)state;
	/* 6.1: drop 20 less the 4 clashes lost (6 insert_failed, 2 of them
	 * chaintoolong) is a full table, so the peak is the max and the
	 * recommendation raises it */
	rep = counters("insert_failed=6 drop=20 early_drop=5 "
		       "clash_resolve=0 chaintoolong=2",
		       "6.1", 1024, &s, &a);
	assert_true(a->has_plan && a->plan.max > 256);
	set_act(buf, "nf_conntrack_max", a->plan.max);
	f[0] = has(rep, "stats.full_drop", CTP_FINDING_WARN, 16, buf);
	assert_true(isnan(f[0]->limit));
	assert_non_null(strstr(f[0]->advice, "dropped 16 packets"));
	f[1] = has(rep, "stats.early_drop", CTP_FINDING_WARN, 5, buf);
	f[2] = has(rep, "stats.clash_drop", CTP_FINDING_WARN, 4, nat_act);
	assert_null(strstr(f[2]->advice, "at most"));
	/* the planner keeps the 1024 buckets in force: no action that
	 * contradicts it, and the advice says where the refusals came from */
	assert_int_equal(a->plan.buckets, 1024);
	f[3] = has(rep, "stats.chaintoolong", CTP_FINDING_WARN, 2, NULL);
	assert_non_null(strstr(f[3]->advice, "clumped tuples"));
	/* one finding per cause, together, in the report's order (same
	 * severity: by code, chaintoolong first) */
	for (int i = 1; i < 4; i++)
		assert_ptr_equal(f[i] + 1, f[i - 1]);
	/* the stats section: one CPU, from the input "stats" */
	assert_int_equal(inv_of(rep)->cpus, 1);
	assert_string_equal(inv_of(rep)->stats_source, "stats");
	assert_true(inv_of(rep)->stat_have[5]); /* drop */
	assert_int_equal(inv_of(rep)->stat[5], 20);
	release(rep, a, s);
	/* 64 buckets: the planner raises them, and the action says so */
	rep = counters("insert_failed=2 drop=0 early_drop=0 clash_resolve=0 "
		       "chaintoolong=2",
		       "6.1", 64, &s, &a);
	assert_true(a->plan.buckets > 64);
	has(rep, "stats.chaintoolong", CTP_FINDING_WARN, 2,
	    set_act(buf, "nf_conntrack_buckets", a->plan.buckets));
	assert_null(finding(rep, "stats.clash_drop"));
	release(rep, a, s);

	/* quiet counters: no finding */
	rep = counters("insert_failed=0 drop=0 early_drop=0 clash_resolve=9 "
		       "chaintoolong=0",
		       "6.1", 1024, &s, &a);
	for (size_t i = 0; i < ctp_report_finding_count(rep); i++)
		assert_null(strstr(ctp_report_finding_at(rep, i)->code,
				   "stats."));
	release(rep, a, s);

	/* 4.19: resolved clashes count in insert_failed too, so the split
	 * is a bound either way */
	rep = counters("insert_failed=10 drop=12 early_drop=0", "4.19", 1024,
		       &s, &a);
	set_act(buf, "nf_conntrack_max", a->plan.max);
	f[0] = has(rep, "stats.full_drop", CTP_FINDING_WARN, 2, buf);
	assert_non_null(strstr(f[0]->advice, "at least 2"));
	f[2] = has(rep, "stats.clash_drop", CTP_FINDING_WARN, 10, nat_act);
	assert_non_null(strstr(f[2]->advice, "at most 10"));
	assert_null(finding(rep, "stats.early_drop"));
	assert_null(finding(rep, "stats.chaintoolong"));
	release(rep, a, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_count_source),
		cmocka_unit_test(test_headroom),
		cmocka_unit_test(test_table_actions),
		cmocka_unit_test(test_counter_findings),
	};

	return cmocka_run_group_tests_name("analyzer/inventory", tests, NULL,
					   NULL);
}
