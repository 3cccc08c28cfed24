/*
 * The "nat" report section (analyzer/nat_report.c): the typed
 * ctp_nat_section of the lab's listing with its port remaps, and the
 * findings of groups near port exhaustion, each with its action.  The
 * model's figures are tested in test_nat.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis_fixture.h"
#include "analysis_impl.h"
#include "ctplan/nat.h"

static const char nat_act[] =
	"give the NAT rule more source ports or addresses (a wider "
	"--to-ports range, more SNAT addresses), or make clients reuse "
	"connections";

/* Append n TCP entries from 198.18.0.2:40000+ to 203.0.113.<peer>:80,
 * source NAT to 203.0.113.1 port nat_lo + i, to the listing in *buf. */
static void add_lines(char **buf, size_t *len, unsigned n, unsigned peer,
		      unsigned nat_lo)
{
	*buf = realloc(*buf, *len + (size_t)n * 200 + 1);
	assert_non_null(*buf);
	(*buf)[*len] = '\0';
	for (unsigned i = 0; i < n; i++)
		*len += (size_t)sprintf(
			*buf + *len,
			"tcp      6 431999 ESTABLISHED src=198.18.0.2 "
			"dst=203.0.113.%u sport=%u dport=80 src=203.0.113.%u "
			"dst=203.0.113.1 sport=80 dport=%u [ASSURED] mark=0 "
			"use=1\n",
			peer, 40000 + i, peer, nat_lo + i);
}

/* The NAT model alone on an analysis of s; --nat-range lo-hi unless
 * lo > hi. */
static ctp_report *nat_of(const ctp_snapshot *s, unsigned lo, unsigned hi,
			  size_t max_groups, ctp_analysis **ap)
{
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_report *rep;

	ao.hash = 0;
	ao.has_nat_range = lo <= hi;
	ao.nat_range_lo = lo;
	ao.nat_range_hi = hi;
	ao.nat_max_groups = max_groups;
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_analysis_new(s, &ao, ap, &err), 0);
	assert_int_equal(ctp_nat_report(*ap, rep, &err), 0);
	/* the section the checks read is the report's */
	assert_non_null((*ap)->nat);
	assert_ptr_equal((*ap)->nat, ctp_report_get(rep, "nat", CTP_SEC_NAT));
	return rep;
}

/* The lab's listing: three entries from port 29999 lost it to the
 * first container's entry towards the same peer. */
static void test_lab_remaps(void **state)
{
	const char *path = CTPLAN_SOURCE_DIR "/samples/lab-6.18/conntrack_-L";
	ctp_parse_opts po = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	const ctp_nat_section *n;
	const ctp_finding *f;
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;
	FILE *fp = fopen(path, "r");

	(void)state;
	if (!fp)
		fail_msg("committed sample %s is missing", path);
	fclose(fp);
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_parse_path(s, path, &po, &err), 0);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	rep = nat_of(s, 1, 0, CTP_NAT_MAX_GROUPS_DEFAULT, &a);
	n = ctp_report_get(rep, "nat", CTP_SEC_NAT);
	assert_ptr_equal(n->snap, s);
	assert_int_equal(n->max_groups, CTP_NAT_MAX_GROUPS_DEFAULT);
	assert_true(n->opts.range_lo > n->opts.range_hi); /* no range */
	/* no uname, no --kernel: the host's assumed kernel is modelled */
	{
		ctp_kver v = ctp_host_kernel(ctp_analysis_host(a), NULL);

		assert_int_equal(ctp_kver_cmp(&n->opts.kernel, &v), 0);
		assert_int_equal(ctp_kver_cmp(&n->res.kernel, &v), 0);
	}
	assert_int_equal(n->res.entries, 35);
	assert_int_equal(n->res.snat, 27);
	assert_int_equal(n->res.dnat, 2);
	assert_int_equal(n->res.remapped, 3);
	assert_int_equal(n->res.nremaps, 3);
	assert_int_equal(n->res.ngroups, 14);
	for (size_t i = 0; i < n->res.nremaps; i++) {
		const ctp_nat_remap *r = &n->res.remaps[i];
		ctp_flow fl, holder;

		assert_int_equal(r->reason, CTP_NAT_REASON_TAKEN);
		assert_true(r->holder != CTP_NAT_NONE);
		assert_true(r->group < n->res.ngroups);
		assert_true(n->res.groups[r->group].remapped >= 1);
		ctp_snapshot_flow_get(s, r->flow, &fl);
		ctp_snapshot_flow_get(s, r->holder, &holder);
		/* it wanted 29999 and got another; the holder kept it */
		assert_int_equal(fl.orig.sport, 29999);
		assert_int_not_equal(fl.reply.dport, 29999);
		assert_int_equal(holder.reply.dport, 29999);
		assert_int_equal(holder.orig.dport, fl.orig.dport);
	}
	/* the busiest group: 7 of the default 64512 ports, no risk */
	assert_true(fabs(n->max_utilization - 7.0 / 64512) < 1e-15);
	assert_true(n->max_p_fail_next == 0);
	f = has(rep, "nat.remaps", CTP_FINDING_INFO, 3, NULL);
	assert_true(isnan(f->limit));
	assert_int_equal(ctp_report_finding_count(rep), 1);
	release(rep, a, s);
}

/* ten connections to one peer through one address: every port of
 * --to-ports 20000-20009 taken */
static void test_ports_exhausted(void **state)
{
	char *l = NULL;
	size_t len = 0;
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;
	const ctp_nat_section *n;
	const ctp_finding *f;

	(void)state;
	add_lines(&l, &len, 10, 2, 20000);
	s = snap_of("list", l, "stats",
		    "cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=7 "
		    "drop=7 early_drop=0 error=0 search_restart=0\n",
		    NULL);
	rep = nat_of(s, 20000, 20009, CTP_NAT_MAX_GROUPS_DEFAULT, &a);
	n = ctp_report_get(rep, "nat", CTP_SEC_NAT);
	assert_int_equal(n->res.ngroups, 1);
	assert_int_equal(n->res.groups[0].range_src, CTP_NAT_RANGE_OPTION);
	assert_int_equal(n->res.groups[0].used, 10);
	assert_true(n->max_utilization == 1 && n->max_p_fail_next == 1);
	f = has(rep, "nat.ports_exhausted", CTP_FINDING_CRIT, 1, nat_act);
	assert_true(f->limit == 0.5);
	assert_non_null(strstr(f->advice, "tcp 203.0.113.2:80 via 203.0.113.1: "
					  "10 of 10 ports taken"));
	assert_null(finding(rep, "nat.ports_low"));
	/* the failed inserts counted may be this */
	has(rep, "nat.insert_failed_ports", CTP_FINDING_INFO, 7, NULL);
	assert_true(finding(rep, "nat.remaps")->figure == 10);
	release(rep, a, NULL);
	/* no --nat-range: the ten remapped ports in a window of ten are
	 * the rule's range, as full */
	rep = nat_of(s, 1, 0, CTP_NAT_MAX_GROUPS_DEFAULT, &a);
	n = ctp_report_get(rep, "nat", CTP_SEC_NAT);
	assert_int_equal(n->res.groups[0].range_src, CTP_NAT_RANGE_INFERRED);
	assert_non_null(finding(rep, "nat.ports_exhausted"));
	release(rep, a, s);
	free(l);
}

/* 150 of --to-ports 20000-20199: a search may miss the free ports */
static void test_ports_low(void **state)
{
	char *l = NULL;
	size_t len = 0;
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;
	const ctp_nat_section *n;
	const ctp_finding *f;

	(void)state;
	add_lines(&l, &len, 150, 2, 20000);
	s = snap_of("list", l, NULL);
	rep = nat_of(s, 20000, 20199, CTP_NAT_MAX_GROUPS_DEFAULT, &a);
	n = ctp_report_get(rep, "nat", CTP_SEC_NAT);
	assert_true(n->max_utilization == 0.75);
	assert_true(n->max_p_fail_next >= 0.01 && n->max_p_fail_next < 0.5);
	f = has(rep, "nat.ports_low", CTP_FINDING_WARN, n->max_p_fail_next,
		nat_act);
	assert_true(f->limit == 0.01);
	assert_non_null(strstr(f->advice, "150 of 200 ports taken"));
	assert_null(finding(rep, "nat.ports_exhausted"));
	/* no counters: nothing to tie it to */
	assert_null(finding(rep, "nat.insert_failed_ports"));
	release(rep, a, s);
	free(l);
}

/* seven full destinations: five named, the rest summed up; the section
 * keeps every group whatever --max-groups lists */
static void test_many_groups(void **state)
{
	char *l = NULL;
	size_t len = 0;
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;
	const ctp_nat_section *n;
	const ctp_finding *f;

	(void)state;
	for (unsigned peer = 2; peer < 9; peer++)
		add_lines(&l, &len, 10, peer, 20000);
	s = snap_of("list", l, NULL);
	rep = nat_of(s, 20000, 20009, 3, &a);
	n = ctp_report_get(rep, "nat", CTP_SEC_NAT);
	assert_int_equal(n->res.ngroups, 7);
	assert_int_equal(n->max_groups, 3);
	for (size_t i = 0; i < 5; i++) {
		f = finding_nth(rep, "nat.ports_exhausted", i);
		assert_non_null(f);
		assert_string_equal(f->action, nat_act);
	}
	assert_null(finding_nth(rep, "nat.ports_exhausted", 5));
	f = has(rep, "nat.ports_low_more", CTP_FINDING_WARN, 2, nat_act);
	assert_non_null(strstr(f->advice, "2 more NAT destinations"));
	assert_true(finding(rep, "nat.remaps")->figure == 70);
	release(rep, a, s);
	free(l);
}

/* in the whole pipeline the section sits after hash and history */
static void test_in_pipeline(void **state)
{
	char *l = NULL;
	size_t len = 0;
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *s;
	ctp_report *rep;
	size_t i;

	(void)state;
	add_lines(&l, &len, 3, 2, 40000);
	s = snap_of("list", l, NULL);
	ao.hash = 0;
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_analyze_run(s, &ao, rep, &err), 0);
	for (i = 0; strcmp(ctp_report_section_at(rep, i, NULL, NULL), "nat");
	     i++)
		assert_string_not_equal(ctp_report_section_at(rep, i, NULL,
							      NULL),
					"headroom");
	assert_string_equal(ctp_report_section_at(rep, i + 1, NULL, NULL),
			    "headroom");
	/* no port changed: no finding at all */
	assert_null(finding(rep, "nat.remaps"));
	assert_int_equal(((const ctp_nat_section *)ctp_report_get(
				  rep, "nat", CTP_SEC_NAT))
				 ->res.remapped,
			 0);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_remaps),
		cmocka_unit_test(test_ports_exhausted),
		cmocka_unit_test(test_ports_low),
		cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_in_pipeline),
	};

	return cmocka_run_group_tests_name("analyzer/nat_report", tests, NULL,
					   NULL);
}
