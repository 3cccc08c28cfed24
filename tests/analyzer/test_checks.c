/*
 * Checks of "ctplan check" (analyzer/checks.c) through ctp_analyze_run:
 * the three typed checks, their values, limits and sources, ok and
 * unknown; the chain check from the hash model's fill to max when it
 * reached max, else (and with --no-hash) balls into bins.
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
#include "ctplan/hash.h"
#include "ctplan/nat.h"
#include "ctplan/plan.h"

/* n TCP entries 198.18.x.y:40000+ -> 203.0.113.2:80, source NAT to
 * 203.0.113.1 keeping the port, or into nat_lo + i when nat_lo */
static char *listing(unsigned n, unsigned nat_lo)
{
	size_t size = (size_t)n * 200 + 1, len = 0;
	char *buf = malloc(size);

	assert_non_null(buf);
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(
			buf + len, size - len,
			"tcp      6 431999 ESTABLISHED src=198.18.%u.%u "
			"dst=203.0.113.2 sport=%u dport=80 src=203.0.113.2 "
			"dst=203.0.113.1 sport=80 dport=%u [ASSURED] mark=0 "
			"use=1\n",
			i / 200, 1 + i % 200, 40000 + i,
			nat_lo ? nat_lo + i : 40000 + i);
	return buf;
}

/* opts for kernel v, the hash model on (keys > 0, that many) or off */
static ctp_analyze_opts opts(const char *v, unsigned keys)
{
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;

	ao.has_kernel = 1;
	assert_int_equal(ctp_kver_parse(v, strlen(v), &ao.kernel, NULL), 0);
	ao.hash = keys > 0;
	ao.hash_keys = keys ? keys : 8;
	return ao;
}

static ctp_report *run(const ctp_snapshot *s, const ctp_analyze_opts *ao)
{
	ctp_error err = CTP_ERROR_INIT;
	ctp_report *rep;

	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_analyze_run(s, ao, rep, &err), 0);
	assert_true(ctp_report_has_checks(rep));
	/* table_full_logged only with a kernel log read */
	assert_true(ctp_report_check_count(rep) == 3 ||
		    ctp_report_check_count(rep) == 4);
	return rep;
}

/* check i is name, from source; value v (NAN: unknown) */
static const ctp_check *check(const ctp_report *rep, size_t i,
			      const char *name, const char *source, double v)
{
	const ctp_check *c = ctp_report_check_at(rep, i);

	assert_non_null(c);
	assert_string_equal(c->name, name);
	assert_string_equal(c->source, source);
	assert_true(c->what && *c->what);
	if (isnan(v))
		assert_true(isnan(c->value));
	else if (!(fabs(c->value - v) <= 1e-9 * (1 + fabs(v))))
		fail_msg("%s: %.12g, want %.12g", name, c->value, v);
	return c;
}

static const char *const sysctl_1000 =
	"net.netfilter.nf_conntrack_max = 1000\n"
	"net.netfilter.nf_conntrack_buckets = 1024\n";

/* every figure known and within its limit */
static void test_all_known(void **state)
{
	char *l = listing(3, 0);
	ctp_snapshot *s = snap_of("list", l, "sysctl", sysctl_1000, NULL);
	ctp_analyze_opts ao = opts("6.1", 0);
	ctp_report *rep = run(s, &ao);
	const ctp_nat_section *nat = ctp_report_get(rep, "nat", CTP_SEC_NAT);
	const ctp_check *c;

	(void)state;
	/* the planned peak is today's 3 entries */
	c = check(rep, 0, "headroom_pct_at_peak",
		  "recommendation.peak_evidence", 99.7);
	assert_true(c->limit == 25 && !c->below);
	c = check(rep, 1, "long_chain_share_at_max", "poisson",
		  ctp_plan_long_share(2 * 1000.0 / 1024, 8));
	assert_true(c->limit == 0.01 && c->below);
	assert_non_null(nat);
	assert_true(nat->max_utilization > 0);
	c = check(rep, 2, "nat_utilization", "nat.max_utilization",
		  nat->max_utilization);
	assert_true(c->limit == 0.8 && c->below);
	assert_null(ctp_report_check_at(rep, 3));
	assert_int_equal(ctp_report_checks_failed(rep), 0);
	assert_int_equal(ctp_report_checks_unknown(rep), 0);
	assert_int_equal(ctp_checks_failed(rep), 0);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

/* the limits are the plan options; --peak sets the peak */
static void test_options(void **state)
{
	char *l = listing(3, 0);
	ctp_snapshot *s = snap_of("list", l, "sysctl", sysctl_1000, NULL);
	ctp_analyze_opts ao = opts("6.1", 0);
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	ctp_report *rep;

	(void)state;
	po.margin = 0.5;
	po.max_chain = 2;
	po.chain_share = 0.05;
	po.max_nat_util = 0.5;
	po.peak = 900;
	ao.plan = &po;
	rep = run(s, &ao);
	/* 10% free at 900 of 1000, against 50 */
	assert_true(check(rep, 0, "headroom_pct_at_peak",
			  "recommendation.peak_evidence", 10)
			    ->limit == 50);
	/* chains over 2 at load 1.95: 58% of nodes, against 5% */
	assert_true(check(rep, 1, "long_chain_share_at_max", "poisson",
			  ctp_plan_long_share(2 * 1000.0 / 1024, 2))
			    ->limit == 0.05);
	assert_true(ctp_report_check_at(rep, 2)->limit == 0.5);
	/* 6.1.0 draws its max chain length from 8 on: chains over 2 are
	 * not ones it refuses flows in, so the long-chain miss warns */
	assert_true(ctp_report_check_at(rep, 1)->warn);
	assert_false(ctp_report_check_at(rep, 0)->warn);
	assert_int_equal(ctp_report_checks_failed(rep), 1);
	assert_int_equal(ctp_checks_failed(rep), 1);
	assert_int_equal(ctp_report_checks_unknown(rep), 0);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

static void test_headroom_unknown_and_full(void **state)
{
	char *l = listing(3, 0);
	ctp_analyze_opts ao = opts("6.18", 0);
	ctp_snapshot *s;
	ctp_report *rep;

	(void)state;
	/* no nf_conntrack_max: no headroom, no chain figure either */
	s = snap_of("list", l, NULL);
	rep = run(s, &ao);
	check(rep, 0, "headroom_pct_at_peak", "none", NAN);
	check(rep, 1, "long_chain_share_at_max", "none", NAN);
	check(rep, 2, "nat_utilization", "nat.max_utilization",
	      3.0 / 64512);
	assert_int_equal(ctp_report_checks_unknown(rep), 2);
	assert_int_equal(ctp_report_checks_failed(rep), 0);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	/* "table full" in the kernel log: the peak is the max in force,
	 * nothing is left at it */
	s = snap_of("list", l, "sysctl", sysctl_1000, "dmesg",
		    "[  100.000001] nf_conntrack: nf_conntrack: table full in "
		    "netns 4026532177, dropping packet\n",
		    NULL);
	rep = run(s, &ao);
	check(rep, 0, "headroom_pct_at_peak", "recommendation.peak_evidence",
	      0);
	/* and the log's overflow fails on its own */
	check(rep, 3, "table_full_logged", "history.table_full", 1);
	assert_int_equal(ctp_report_checks_failed(rep), 2);
	assert_int_equal(ctp_checks_failed(rep), 2);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

/* a host that saved only its kernel log: the other checks have no
 * figure, the logged overflow (printed and suppressed messages) still
 * fails the gate; a log without "table full" passes it */
static void test_logged_overflow(void **state)
{
	ctp_analyze_opts ao = opts("6.18", 0);
	ctp_snapshot *s;
	ctp_report *rep;

	(void)state;
	s = snap_of("dmesg",
		    "[  100.000001] nf_conntrack: nf_conntrack: table full in "
		    "netns 4026532177, dropping packet\n"
		    "[  100.000002] net_ratelimit: 12 callbacks suppressed\n"
		    "[  100.000003] nf_conntrack: nf_conntrack: table full in "
		    "netns 4026532177, dropping packet\n",
		    NULL);
	rep = run(s, &ao);
	assert_int_equal(ctp_report_check_count(rep), 4);
	check(rep, 0, "headroom_pct_at_peak", "none", NAN);
	check(rep, 3, "table_full_logged", "history.table_full", 14);
	assert_int_equal(ctp_report_checks_failed(rep), 1);
	assert_int_equal(ctp_report_checks_unknown(rep), 3);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	s = snap_of("dmesg",
		    "[  100.000001] eth0: link up\n"
		    "[  100.000003] nf_conntrack: default automatic helper "
		    "assignment has been turned off for security reasons\n",
		    NULL);
	rep = run(s, &ao);
	assert_int_equal(ctp_report_check_count(rep), 4);
	check(rep, 3, "table_full_logged", "history.table_full", 0);
	assert_int_equal(ctp_report_checks_failed(rep), 0);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
}

/* share of nodes in chains over k in the histogram, as checks.c reads
 * hash.at_max.histogram */
static double hist_share(const ctp_hash_figures *f, unsigned k)
{
	double nodes = 0, longn = 0;

	for (size_t l = 0; l < f->hist_len; l++) {
		nodes += f->hist[l] * (double)l;
		if (l > k)
			longn += f->hist[l] * (double)l;
	}
	return longn / nodes;
}

static void test_chain_histogram(void **state)
{
	char *l = listing(200, 0);
	/* 5.10: no chain limit, the fill reaches 2048 at 8 nodes a bucket */
	ctp_snapshot *s = snap_of("list", l, "sysctl",
				  "net.netfilter.nf_conntrack_max = 2048\n"
				  "net.netfilter.nf_conntrack_buckets = 512\n",
				  NULL);
	ctp_analyze_opts ao = opts("5.10", 2);
	ctp_report *rep = run(s, &ao);
	const ctp_hash_section *h = ctp_report_get(rep, "hash", CTP_SEC_HASH);
	const ctp_check *c;
	double v;

	(void)state;
	assert_non_null(h);
	assert_true(h->ran && h->res.has_at_max);
	assert_true(h->res.at_max.fig.target_reached);
	v = hist_share(&h->res.at_max.fig, 8);
	c = check(rep, 1, "long_chain_share_at_max", "hash.at_max.histogram",
		  v);
	/* the real hash is near balls into bins (P(Poisson(8) >= 8) is
	 * 0.547), and far above the 1% target */
	assert_true(fabs(v - ctp_plan_long_share(8, 8)) < 0.05);
	assert_false(c->value <= c->limit);
	/* 5.10 refuses no flow for a long chain: a warning, no failure */
	assert_true(c->warn);
	assert_int_equal(ctp_report_checks_failed(rep), 0);
	ctp_report_free(rep);
	/* 5.15.0 refuses flows from 8 + 2 nodes on: the same miss fails;
	 * 6.1.20 draws from 50: it warns */
	ao = opts("5.15", 2);
	rep = run(s, &ao);
	c = ctp_report_check_at(rep, 1);
	assert_false(c->warn);
	assert_int_equal(ctp_report_checks_failed(rep), 1);
	ctp_report_free(rep);
	ao = opts("6.1.20", 2);
	rep = run(s, &ao);
	assert_true(ctp_report_check_at(rep, 1)->warn);
	assert_int_equal(ctp_report_checks_failed(rep), 0);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

/* a fill the chain limit stops short of max is never judged: Poisson */
static void test_chain_partial_fill(void **state)
{
	char *l = listing(20, 0);
	ctp_snapshot *s = snap_of("list", l, "sysctl",
				  "net.netfilter.nf_conntrack_max = 4096\n"
				  "net.netfilter.nf_conntrack_buckets = 16\n",
				  NULL);
	ctp_analyze_opts ao = opts("6.1", 2);
	ctp_report *rep = run(s, &ao);
	const ctp_hash_section *h = ctp_report_get(rep, "hash", CTP_SEC_HASH);

	(void)state;
	assert_true(h->ran && h->res.has_at_max);
	assert_false(h->res.at_max.fig.target_reached);
	check(rep, 1, "long_chain_share_at_max", "poisson",
	      ctp_plan_long_share(2 * 4096.0 / 16, 8));
	assert_true(ctp_report_check_at(rep, 1)->value > 0.99);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

static void test_nat(void **state)
{
	char *l = listing(10, 20000);
	ctp_analyze_opts ao = opts("6.18", 0);
	ctp_snapshot *s;
	ctp_report *rep;

	(void)state;
	/* no listing: no NAT figure (the section is there, empty) */
	s = snap_of("sysctl", sysctl_1000, "count", "10\n", NULL);
	rep = run(s, &ao);
	check(rep, 0, "headroom_pct_at_peak", "recommendation.peak_evidence",
	      99);
	check(rep, 2, "nat_utilization", "none", NAN);
	assert_int_equal(ctp_report_checks_unknown(rep), 1);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	/* ten connections in --to-ports 20000-20009: every port taken */
	ao.has_nat_range = 1;
	ao.nat_range_lo = 20000;
	ao.nat_range_hi = 20009;
	s = snap_of("list", l, "sysctl", sysctl_1000, NULL);
	rep = run(s, &ao);
	check(rep, 2, "nat_utilization", "nat.max_utilization", 1);
	assert_int_equal(ctp_report_checks_failed(rep), 1);
	ctp_report_free(rep);
	ctp_snapshot_free(s);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_known),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_headroom_unknown_and_full),
		cmocka_unit_test(test_logged_overflow),
		cmocka_unit_test(test_chain_histogram),
		cmocka_unit_test(test_chain_partial_fill),
		cmocka_unit_test(test_nat),
	};

	return cmocka_run_group_tests_name("analyzer/checks", tests, NULL,
					   NULL);
}
