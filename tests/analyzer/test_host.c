/*
 * Host context (include/ctplan/host.h): each kind of peak evidence, the
 * counters read by cause on each kernel generation, and the planner's
 * no-shrink rule.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/analyze.h"
#include "ctplan/host.h"
#include "ctplan/parse.h"
#include "ctplan/plan.h"

#define LINE(sp)                                                         \
	"udp      17 25 src=198.51.100.1 dst=203.0.113.9 sport=" sp         \
	" dport=53 src=203.0.113.9 dst=198.51.100.1 sport=53 dport=" sp     \
	" mark=0 use=1\n"

/* A snapshot of the named buffers: name, text, name, text, ..., NULL. */
static ctp_snapshot *snap_of(const char *name, ...)
{
	ctp_parse_opts po = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *s;
	va_list ap;

	assert_int_equal(ctp_snapshot_new(&s), 0);
	va_start(ap, name);
	while (name) {
		const char *text = va_arg(ap, const char *);

		assert_int_equal(ctp_parse_buffer(s, name, text, strlen(text),
						  &po, &err),
				 0);
		name = va_arg(ap, const char *);
	}
	va_end(ap);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	return s;
}

static ctp_host *host_of(ctp_snapshot *s, const ctp_analyze_opts *ao)
{
	ctp_error err = CTP_ERROR_INIT;
	ctp_host *h;

	assert_int_equal(ctp_host_new(s, ao, &h, &err), 0);
	return h;
}

static const ctp_peak_evidence *find(const ctp_host *h, ctp_peak_kind k)
{
	for (size_t i = 0; i < ctp_host_evidence_count(h); i++)
		if (ctp_host_evidence(h, i)->kind == k)
			return ctp_host_evidence(h, i);
	return NULL;
}

static const char *const sysctl_max =
	"net.netfilter.nf_conntrack_max = 256\n"
	"net.netfilter.nf_conntrack_buckets = 1024\n";

/* today's count alone: the only evidence, a lower bound; no uname: the
 * kernel is an assumption that is said */
static void test_count(void **state)
{
	ctp_snapshot *s = snap_of("list", LINE("1000") LINE("1001")
				  LINE("1002"), "sysctl", sysctl_max, NULL);
	ctp_host *h = host_of(s, NULL);
	const ctp_peak_evidence *w;
	const char *src;

	(void)state;
	assert_int_equal(ctp_host_peak(h, &w), 3);
	assert_int_equal(w->kind, CTP_PEAK_COUNT);
	assert_false(w->at_least_max);
	assert_int_equal(ctp_host_evidence_count(h), 1);
	assert_true(ctp_host_max(h)->known);
	assert_int_equal(ctp_host_max(h)->value, 256);
	assert_int_equal(ctp_host_buckets(h)->value, 1024);
	(void)ctp_host_kernel(h, &src);
	assert_string_equal(src, "assumed: the newest known");
	assert_non_null(ctp_host_kernel_note(h));
	assert_true(ctp_host_has_data(h));
	ctp_host_free(h);
	ctp_snapshot_free(s);
}

/* several listings: the largest wins over a smaller count */
static void test_snapshots(void **state)
{
	ctp_snapshot *s = snap_of("a", LINE("1000") LINE("1001"), "b",
				  LINE("2000") LINE("2001") LINE("2002")
					  LINE("2003"),
				  "count", "3\n", NULL);
	ctp_host *h = host_of(s, NULL);
	const ctp_peak_evidence *w;

	(void)state;
	assert_int_equal(ctp_host_count(h)->value, 3);
	assert_int_equal(ctp_host_peak(h, &w), 4);
	assert_int_equal(w->kind, CTP_PEAK_SNAPSHOTS);
	ctp_host_free(h);
	ctp_snapshot_free(s);
}

/* --peak and --growth */
static void test_user(void **state)
{
	ctp_snapshot *s = snap_of("list", LINE("1000") LINE("1001"), NULL);
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	const ctp_peak_evidence *w;
	ctp_host *h;

	(void)state;
	ao.plan = &po;
	po.peak = 500;
	h = host_of(s, &ao);
	assert_int_equal(ctp_host_peak(h, &w), 500);
	assert_int_equal(w->kind, CTP_PEAK_USER);
	ctp_host_free(h);
	/* --peak below today's count: the count wins */
	po.peak = 1;
	h = host_of(s, &ao);
	assert_int_equal(ctp_host_peak(h, &w), 2);
	assert_int_equal(w->kind, CTP_PEAK_COUNT);
	ctp_host_free(h);
	po.peak = 0;
	po.growth = 2.5;
	h = host_of(s, &ao);
	assert_int_equal(ctp_host_peak(h, &w), 5);
	assert_int_equal(w->kind, CTP_PEAK_GROWTH);
	ctp_host_free(h);
	ctp_snapshot_free(s);
}

/* table-full messages: the table reached the max in force */
static void test_kernel_log(void **state)
{
	ctp_snapshot *s = snap_of(
		"list", LINE("1000"), "sysctl", sysctl_max, "dmesg",
		"[  100.000001] nf_conntrack: nf_conntrack: table full in "
		"netns 4026532177, dropping packet\n"
		"[  100.000002] nf_conntrack: nf_conntrack: table full in "
		"netns 4026532177, dropping packet\n",
		NULL);
	ctp_host *h = host_of(s, NULL);
	const ctp_peak_evidence *w, *c;

	(void)state;
	assert_int_equal(ctp_host_peak(h, &w), 256);
	assert_int_equal(w->kind, CTP_PEAK_KERNEL_LOG);
	assert_true(w->at_least_max);
	assert_non_null(strstr(w->detail, "4026532177"));
	c = find(h, CTP_PEAK_COUNT);
	assert_non_null(c);
	assert_int_equal(c->entries, 1);
	ctp_host_free(h);
	ctp_snapshot_free(s);
	/* without a max in force there is no figure to put on it */
	s = snap_of("list", LINE("1000"), "dmesg",
		    "[  100.000001] nf_conntrack: nf_conntrack: table full in "
		    "netns 4026532177, dropping packet\n",
		    NULL);
	h = host_of(s, NULL);
	assert_null(find(h, CTP_PEAK_KERNEL_LOG));
	ctp_host_free(h);
	ctp_snapshot_free(s);
}

/* conntrack -S of one CPU with the given counters, on kernel v */
static ctp_host *counters(const char *stats, const char *kernel,
			  ctp_snapshot **sp)
{
	static char buf[512];
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;

	snprintf(buf, sizeof(buf),
		 "cpu=0   \tfound=0 invalid=0 insert=0 %s error=0 "
		 "search_restart=0 \n",
		 stats);
	*sp = snap_of("list", LINE("1000"), "sysctl", sysctl_max, "stats",
		      buf, NULL);
	ao.has_kernel = 1;
	assert_int_equal(ctp_kver_parse(kernel, strlen(kernel), &ao.kernel,
					&err),
			 0);
	return host_of(*sp, &ao);
}

static void test_counters(void **state)
{
	ctp_snapshot *s;
	ctp_host *h;
	const ctp_host_counters *c;
	const ctp_peak_evidence *w;

	(void)state;
	/* 6.1: clashes lost count in drop and insert_failed: NAT, not a
	 * full table */
	h = counters("insert_failed=10 drop=10 early_drop=0 "
		     "clash_resolve=3 chaintoolong=0", "6.1", &s);
	c = ctp_host_counters_get(h);
	assert_true(c->read && c->split_known);
	assert_int_equal(c->clash_drops, 10);
	assert_int_equal(c->full_drops, 0);
	assert_false(c->full_seen);
	assert_null(find(h, CTP_PEAK_COUNTERS));
	ctp_host_free(h);
	ctp_snapshot_free(s);
	/* 6.1: refused long chains count in insert_failed, not in drop */
	h = counters("insert_failed=4 drop=0 early_drop=0 clash_resolve=0 "
		     "chaintoolong=4", "6.1", &s);
	c = ctp_host_counters_get(h);
	assert_int_equal(c->chain_drops, 4);
	assert_int_equal(c->clash_drops, 0);
	assert_int_equal(c->full_drops, 0);
	ctp_host_free(h);
	ctp_snapshot_free(s);
	/* 6.1: drops beyond the clashes are a full table: peak >= max */
	h = counters("insert_failed=6 drop=20 early_drop=0 clash_resolve=0 "
		     "chaintoolong=2", "6.1", &s);
	c = ctp_host_counters_get(h);
	assert_int_equal(c->clash_drops, 4);
	assert_int_equal(c->full_drops, 16);
	assert_true(c->full_seen);
	assert_int_equal(ctp_host_peak(h, &w), 256);
	assert_int_equal(w->kind, CTP_PEAK_COUNTERS);
	ctp_host_free(h);
	ctp_snapshot_free(s);
	/* early_drop alone: evictions happen only in a full table */
	h = counters("insert_failed=0 drop=0 early_drop=5 clash_resolve=0 "
		     "chaintoolong=0", "6.1", &s);
	assert_true(ctp_host_counters_get(h)->full_seen);
	assert_int_equal(ctp_host_peak(h, NULL), 256);
	ctp_host_free(h);
	ctp_snapshot_free(s);
	/* 3.10: a lost clash counts insert_failed only, so all of drop
	 * is a full table */
	h = counters("insert_failed=5 drop=7 early_drop=0", "3.10", &s);
	c = ctp_host_counters_get(h);
	assert_true(c->split_known);
	assert_int_equal(c->clash_drops, 5);
	assert_int_equal(c->full_drops, 7);
	ctp_host_free(h);
	ctp_snapshot_free(s);
	/* 4.19: resolved clashes also counted in insert_failed: the full
	 * drops are a lower bound, still proof of a full table */
	h = counters("insert_failed=10 drop=12 early_drop=0", "4.19", &s);
	c = ctp_host_counters_get(h);
	assert_false(c->split_known);
	assert_int_equal(c->clash_drops, 10);
	assert_int_equal(c->full_drops, 2);
	assert_true(c->full_seen);
	ctp_host_free(h);
	ctp_snapshot_free(s);
}

/* nothing to analyze */
static void test_empty(void **state)
{
	ctp_snapshot *s = snap_of("empty", "", NULL);
	ctp_host *h = host_of(s, NULL);

	(void)state;
	assert_false(ctp_host_has_data(h));
	assert_int_equal(ctp_host_evidence_count(h), 0);
	assert_int_equal(ctp_host_peak(h, NULL), 0);
	ctp_host_free(h);
	ctp_snapshot_free(s);
}

/* the planner never lowers the settings in force unless asked */
static void test_no_shrink(void **state)
{
	ctp_plan_input in;
	ctp_plan_opts o = CTP_PLAN_OPTS_INIT;
	ctp_plan_result r;
	ctp_error err = CTP_ERROR_INIT;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.kernel = (ctp_kver){ 5, 4, 0 };
	in.peak = 1500;
	in.evictable = 0.1;
	in.bits = 64;
	in.cur_max = 1000000;
	in.cur_buckets = 204800;
	assert_int_equal(ctp_plan_compute(&in, &o, &r, &err), 0);
	assert_int_equal(r.max, 1000000);
	assert_int_equal(r.max_move, CTP_PLAN_KEEP);
	assert_string_equal(r.max_floor, "in force");
	assert_int_equal(r.max_needed, 2048);
	/* buckets for the max in force: chains under 8 at 1000000 */
	assert_true(r.buckets > 204800);
	assert_int_equal(r.buckets_move, CTP_PLAN_RAISE);
	assert_true(r.long_share <= 0.01);
	/* buckets in force above what is needed stay */
	in.cur_buckets = 2000000;
	assert_int_equal(ctp_plan_compute(&in, &o, &r, &err), 0);
	assert_int_equal(r.buckets, 2000000);
	assert_int_equal(r.buckets_move, CTP_PLAN_KEEP);
	/* asked: down to what the peak needs */
	o.allow_shrink = 1;
	assert_int_equal(ctp_plan_compute(&in, &o, &r, &err), 0);
	assert_int_equal(r.max, 2048);
	assert_int_equal(r.max_move, CTP_PLAN_LOWER);
	assert_int_equal(r.buckets_move, CTP_PLAN_LOWER);
	/* the kernel default is a floor too: 5.4 on 16 GiB gives 262144 */
	o.allow_shrink = 0;
	in.cur_max = 0;
	in.cur_buckets = 0;
	in.mem_kb = 16ull * 1024 * 1024;
	assert_int_equal(ctp_plan_compute(&in, &o, &r, &err), 0);
	assert_true(r.has_default);
	assert_int_equal(r.max, r.def.max);
	assert_string_equal(r.max_floor, "kernel default");
	assert_int_equal(r.max_move, CTP_PLAN_SET);
	/* a peak above every floor raises */
	in.cur_max = 1000000;
	in.peak = 900000;
	assert_int_equal(ctp_plan_compute(&in, &o, &r, &err), 0);
	assert_int_equal(r.max, 1200128);
	assert_int_equal(r.max_move, CTP_PLAN_RAISE);
	assert_string_equal(r.max_floor, "peak");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_kernel_log),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_no_shrink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
