/* conntrack -S lines (parsers/stats.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/parse.h"
#include "parsers.h"
#include "fixture.h"

static void fx_open(fixture *fx)
{
	fx_open_path(fx, "");
}

/* value of a counter, or -1 if absent */
static long long stat_of(const fixture *fx, ctp_stat id)
{
	uint64_t v;

	return ctp_snapshot_stat(fx->snap, id, &v) ? (long long)v : -1;
}

#define NKV 8
typedef struct good_row {
	const char *line;
	size_t len;
	size_t cpus; /* CPU rows the line adds */
	struct {
		ctp_stat id;
		long long val; /* -1: absent */
	} want[NKV];
	int nwant;
} good_row;

static const good_row good[] = {
	/* 6.18 with conntrack 1.4.7 (samples/lab-6.18/conntrack_-S) */
	{ L("cpu=1   \tfound=3 invalid=0 insert=0 insert_failed=0 drop=0 "
	    "early_drop=0 error=0 search_restart=0 clash_resolve=0 "
	    "chaintoolong=0 "),
	  1,
	  { { CTP_STAT_FOUND, 3 },
	    { CTP_STAT_CHAINTOOLONG, 0 },
	    { CTP_STAT_CLASH_RESOLVE, 0 },
	    { CTP_STAT_IGNORE, -1 },
	    { CTP_STAT_SEARCHED, -1 },
	    { CTP_STAT_ENTRIES, -1 } },
	  6 },
	/* kernels up to 4.8: the old key set */
	{ L("cpu=0   \tsearched=1523 found=12 new=830 invalid=3 ignore=2 "
	    "delete=700 delete_list=698 insert=830 insert_failed=1 drop=1 "
	    "early_drop=0 error=5 search_restart=4 "),
	  1,
	  { { CTP_STAT_SEARCHED, 1523 },
	    { CTP_STAT_NEW, 830 },
	    { CTP_STAT_DELETE, 700 },
	    { CTP_STAT_DELETE_LIST, 698 },
	    { CTP_STAT_IGNORE, 2 },
	    { CTP_STAT_ERROR, 5 },
	    { CTP_STAT_SEARCH_RESTART, 4 },
	    { CTP_STAT_CLASH_RESOLVE, -1 } },
	  8 },
	/* 4.9 - 5.9 (node_exporter#1155), no trailing space */
	{ L("cpu=0   \tfound=0 invalid=0 ignore=2 insert=0 insert_failed=0 "
	    "drop=0 early_drop=0 error=0 search_restart=0"),
	  1,
	  { { CTP_STAT_IGNORE, 2 }, { CTP_STAT_SEARCH_RESTART, 0 } },
	  2 },
	/* counters newer than the conntrack binary */
	{ L("cpu=7   \tfound=0 invalid=126 insert=0 insert_failed=0 drop=27 "
	    "early_drop=0 error=0 search_restart=0 clash_resolve=9 "
	    "chaintoolong=1 unknown1=5 unknown2=7 some_future=3 "),
	  1,
	  { { CTP_STAT_INVALID, 126 },
	    { CTP_STAT_DROP, 27 },
	    { CTP_STAT_CLASH_RESOLVE, 9 },
	    { CTP_STAT_CHAINTOOLONG, 1 } },
	  4 },
	/* /proc fallback: header names as keys, values in decimal */
	{ L("cpu=0   \tentries=35 clashres=2 found=3 new=0 invalid=0 "
	    "ignore=0 delete=0 chainlength=1 insert=0 insert_failed=0 drop=0 "
	    "early_drop=0 icmp_error=4 expect_new=0 expect_create=0 "
	    "expect_delete=0 search_restart=6 "),
	  1,
	  { { CTP_STAT_ENTRIES, 35 },
	    { CTP_STAT_CLASH_RESOLVE, 2 },
	    { CTP_STAT_CHAINTOOLONG, 1 },
	    { CTP_STAT_ERROR, 4 },
	    { CTP_STAT_FOUND, 3 },
	    { CTP_STAT_EXPECT_NEW, 0 },
	    { CTP_STAT_SEARCH_RESTART, 6 } },
	  7 },
	/* conntrack -S expect: the same CPU again, no new row */
	{ L("cpu=0   \texpect_new=1 expect_create=2 expect_delete=3 "),
	  0,
	  { { CTP_STAT_EXPECT_NEW, 1 },
	    { CTP_STAT_EXPECT_CREATE, 2 },
	    { CTP_STAT_EXPECT_DELETE, 3 },
	    { CTP_STAT_FOUND, -1 } },
	  4 },
	/* largest printable values */
	{ L("cpu=65535\tfound=4294967295 "),
	  1,
	  { { CTP_STAT_FOUND, 4294967295LL } },
	  1 },
	/* a kernel that sent nothing we know: the row is kept, but the
	 * snapshot shows CPU rows only of an input with counters */
	{ L("cpu=3   \t"), 0, { { CTP_STAT_FOUND, -1 } }, 1 },
	{ L("cpu=3   \tunknown1=1 "), 0, { { CTP_STAT_FOUND, -1 } }, 1 },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const good_row *r = &good[i];
		fixture fx;

		fx_open(&fx);
		assert_true(ctp_stats_sniff(&fx.ctx, r->line, r->len));
		assert_int_equal(ctp_stats_line(&fx.ctx, r->line, r->len),
				 CTP_LINE_RECORD);
		if (ctp_snapshot_stat_cpus(fx.snap, NULL) != r->cpus)
			fail_msg("row %zu: %zu CPU rows, want %zu", i,
				 ctp_snapshot_stat_cpus(fx.snap, NULL),
				 r->cpus);
		for (int k = 0; k < r->nwant; k++) {
			if (stat_of(&fx, r->want[k].id) != r->want[k].val)
				fail_msg("row %zu: %s = %lld, want %lld", i,
					 ctp_stat_name(r->want[k].id),
					 stat_of(&fx, r->want[k].id),
					 r->want[k].val);
		}
		fx_close(&fx);
	}
}

typedef struct bad_row {
	const char *line;
	size_t len;
	const char *msg;
	size_t col; /* 1-based, as printed */
} bad_row;

static const bad_row bad[] = {
	{ L("cpu=x\tfound=0"), "cannot parse 'cpu=x': expected a CPU number",
	  1 },
	{ L("cpu="), "cannot parse 'cpu=': expected a CPU number", 1 },
	{ L("cpu=1found=2"),
	  "cannot parse 'cpu=1found=2': expected a CPU number", 1 },
	{ L("cpu=70000\tfound=0"),
	  "cannot parse 'cpu=70000': number out of range", 1 },
	{ L("cpu=0\tfound=x"), "cannot parse 'found=x': expected a number",
	  7 },
	{ L("cpu=0\tfound=-1"), "cannot parse 'found=-1': expected a number",
	  7 },
	{ L("cpu=0\tfound=4294967296"),
	  "cannot parse 'found=4294967296': number out of range", 7 },
	{ L("cpu=0\tfound=0 invalid=99999999999999999999999"),
	  "cannot parse 'invalid=99999999999999999999999': number out of "
	  "range", 15 },
	{ L("cpu=0   \tfound=0 inval"),
	  "cannot parse 'inval': expected 'name=value'", 18 },
	{ L("cpu=0   \tfound="), "cannot parse 'found=': expected a number",
	  10 },
	{ L("cpu=0\t=5"), "cannot parse '=5': expected 'name=value'", 7 },
	{ L("cpu=0\tfo-und=5"),
	  "cannot parse 'fo-und=5': expected 'name=value'", 7 },
	{ L("cpu=0\tfound=1\0 invalid=2"),
	  "cannot parse 'found=1': expected a number", 7 },
	{ L("cpu=\0"), "cannot parse 'cpu=': expected a CPU number", 1 },
	{ L("cpu=0\tfound=1 invalid=2 error=3x"),
	  "cannot parse 'error=3x': expected a number", 25 },
	{ L("CPU=0\tfound=1"), "expected 'cpu=' at line start", 1 },
	{ L(""), "expected 'cpu=' at line start", 1 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const bad_row *r = &bad[i];
		fixture fx;

		fx_open(&fx);
		assert_int_equal(ctp_stats_line(&fx.ctx, r->line, r->len),
				 CTP_EINPUT);
		assert_string_equal(fx.err.msg, r->msg);
		if (fx.err.col != r->col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 r->col);
		assert_int_equal(fx.err.line, 1);
		/* a rejected line adds nothing, not even its good part */
		assert_int_equal(ctp_snapshot_stat_cpus(fx.snap, NULL), 0);
		assert_int_equal(stat_of(&fx, CTP_STAT_FOUND), -1);
		fx_close(&fx);
	}
}

static const struct {
	const char *line;
	size_t len;
	int want;
} sniffs[] = {
	{ L("cpu=0   \tfound=0 "), 1 },
	{ L("cpu=x"), 1 }, /* ours, and rejected with a reason */
	{ L("cpu"), 0 },
	{ L(""), 0 },
	{ L("tcp      6 431999 ESTABLISHED src=192.168.1.50 "
	    "dst=192.168.1.10 sport=52104 dport=443"), 0 },
	{ L("entries  clashres found new invalid"), 0 },
	{ L("net.netfilter.nf_conntrack_max = 262144"), 0 },
	{ L(" cpu=0\tfound=0"), 0 },
};

static void test_sniff(void **state)
{
	fixture fx;

	(void)state;
	fx_open(&fx);
	for (size_t i = 0; i < sizeof(sniffs) / sizeof(sniffs[0]); i++)
		if (ctp_stats_sniff(&fx.ctx, sniffs[i].line, sniffs[i].len) !=
		    sniffs[i].want)
			fail_msg("sniff row %zu: want %d", i, sniffs[i].want);
	fx_close(&fx);
}

/* A line with no known counter still counts as a CPU row. */
static void test_empty_row(void **state)
{
	fixture fx;

	(void)state;
	fx_open(&fx);
	assert_int_equal(ctp_stats_line(&fx.ctx, L("cpu=0   \t")),
			 CTP_LINE_RECORD);
	assert_int_equal(ctp_stats_line(&fx.ctx, L("cpu=1   \tfound=2 ")),
			 CTP_LINE_RECORD);
	assert_int_equal(ctp_snapshot_stat_cpus(fx.snap, NULL), 2);
	/* and -S expect after -S adds none */
	assert_int_equal(ctp_stats_line(&fx.ctx,
					L("cpu=0   \texpect_new=1 ")),
			 CTP_LINE_RECORD);
	assert_int_equal(ctp_snapshot_stat_cpus(fx.snap, NULL), 2);
	assert_int_equal(stat_of(&fx, CTP_STAT_EXPECT_NEW), 1);
	fx_close(&fx);
}

/* counters add up over CPU lines; entries does not */
static void test_sum(void **state)
{
	static const char *const lines[] = {
		"cpu=0   \tentries=35 found=1 drop=2 ",
		"cpu=1   \tentries=35 found=3 drop=0 ",
		"cpu=2   \tentries=36 found=0 drop=5 ",
	};
	fixture fx;

	(void)state;
	fx_open(&fx);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ctp_stats_line(&fx.ctx, lines[i],
						strlen(lines[i])),
				 CTP_LINE_RECORD);
	assert_int_equal(ctp_snapshot_stat_cpus(fx.snap, NULL), 3);
	assert_int_equal(stat_of(&fx, CTP_STAT_FOUND), 4);
	assert_int_equal(stat_of(&fx, CTP_STAT_DROP), 7);
	assert_int_equal(stat_of(&fx, CTP_STAT_ENTRIES), 36);
	fx_close(&fx);
}

/* The lab capture, through the reader: every line is a -S record. */
static void test_sample(void **state)
{
	const char *path = CTPLAN_SOURCE_DIR "/samples/lab-6.18/conntrack_-S";
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	const ctp_input_info *in;
	ctp_snapshot *snap;
	FILE *fp;
	uint64_t v;

	(void)state;
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("committed sample %s is missing", path);
	fclose(fp);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_parse_path(snap, path, &opts, &err), 0);
	in = ctp_snapshot_input(snap, 0);
	assert_non_null(in);
	assert_true(in->lines > 0);
	assert_int_equal(in->records, in->lines);
	assert_int_equal(in->rejected, 0);
	assert_int_equal(in->formats, CTP_FMT_STATS);
	assert_int_equal(ctp_snapshot_stat_cpus(snap, NULL), in->lines);
	assert_true(ctp_snapshot_stat(snap, CTP_STAT_CHAINTOOLONG, &v));
	assert_false(ctp_snapshot_stat(snap, CTP_STAT_IGNORE, &v));
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_empty_row),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
