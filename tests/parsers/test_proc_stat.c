/* /proc/net/stat/nf_conntrack (parsers/proc_stat.c) */
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

/* kernel ct_cpu_seq_show headers: 6.1 - 6.18, 4.x - 5.9, 2.6.x */
#define HDR_NEW                                                          \
	"entries  clashres found new invalid ignore delete chainlength "  \
	"insert insert_failed drop early_drop icmp_error  expect_new "    \
	"expect_create expect_delete search_restart"
#define HDR_OLD                                                          \
	"entries  searched found new invalid ignore delete delete_list "  \
	"insert insert_failed drop early_drop icmp_error  expect_new "    \
	"expect_create expect_delete search_restart"
#define HDR_26                                                           \
	"entries  searched found new invalid ignore delete delete_list "  \
	"insert insert_failed drop early_drop icmp_error  expect_new "    \
	"expect_create expect_delete"

static void fx_open(fixture *fx)
{
	fx_open_path(fx, "");
}

static long long stat_of(const fixture *fx, ctp_stat id)
{
	uint64_t v;

	return ctp_snapshot_stat(fx->snap, id, &v) ? (long long)v : -1;
}

static void feed(fixture *fx, const char *line, int want)
{
	assert_true(ctp_proc_stat_sniff(&fx->ctx, line, strlen(line)));
	assert_int_equal(ctp_proc_stat_line(&fx->ctx, line, strlen(line)),
			 want);
	fx->ctx.line++;
}

typedef struct table_case {
	const char *name;
	const char *lines[4]; /* header first */
	size_t cpus;
	struct {
		ctp_stat id;
		long long val;
	} want[10];
	int nwant;
} table_case;

static const table_case tables[] = {
	{ "6.18 (samples/lab-6.18)",
	  { HDR_NEW,
	    "00000023  00000000 00000000 00000000 00000000 00000000 "
	    "00000000 00000000 00000000 00000000 00000000 00000000 "
	    "00000000  00000000 00000000 00000000 00000000",
	    "00000023  00000000 00000003 00000000 00000000 00000000 "
	    "00000000 00000000 00000000 00000000 00000000 00000000 "
	    "00000000  00000000 00000000 00000000 00000000" },
	  2,
	  { { CTP_STAT_ENTRIES, 0x23 }, /* kept, not summed */
	    { CTP_STAT_FOUND, 3 },
	    { CTP_STAT_CLASH_RESOLVE, 0 },
	    { CTP_STAT_CHAINTOOLONG, 0 },
	    { CTP_STAT_SEARCHED, -1 },
	    { CTP_STAT_DELETE_LIST, -1 } },
	  6 },
	{ "current kernel, counters in the renamed columns",
	  { HDR_NEW,
	    "000001f4  0000000a 00000002 00000000 0000007e 00000000 "
	    "00000000 00000001 00000000 00000005 0000001b 00000000 "
	    "00000004  00000000 00000000 00000000 00000009",
	    "000001f4  00000001 00000000 00000000 00000002 00000000 "
	    "00000000 00000002 00000000 00000001 00000000 00000000 "
	    "00000000  00000000 00000000 00000000 00000001" },
	  2,
	  { { CTP_STAT_ENTRIES, 500 },
	    { CTP_STAT_CLASH_RESOLVE, 11 },
	    { CTP_STAT_FOUND, 2 },
	    { CTP_STAT_INVALID, 128 },
	    { CTP_STAT_CHAINTOOLONG, 3 },
	    { CTP_STAT_INSERT_FAILED, 6 },
	    { CTP_STAT_DROP, 27 },
	    { CTP_STAT_ERROR, 4 },
	    { CTP_STAT_SEARCH_RESTART, 10 } },
	  9 },
	{ "4.x header: the same positions are searched, delete_list",
	  { HDR_OLD,
	    "00000010  000005f3 0000000c 0000033e 00000003 00000002 "
	    "000002bc 000002ba 0000033e 00000001 00000001 00000000 "
	    "00000005  00000000 00000000 00000000 00000004" },
	  1,
	  { { CTP_STAT_ENTRIES, 16 },
	    { CTP_STAT_SEARCHED, 1523 },
	    { CTP_STAT_NEW, 830 },
	    { CTP_STAT_IGNORE, 2 },
	    { CTP_STAT_DELETE, 700 },
	    { CTP_STAT_DELETE_LIST, 698 },
	    { CTP_STAT_INSERT, 830 },
	    { CTP_STAT_CLASH_RESOLVE, -1 },
	    { CTP_STAT_CHAINTOOLONG, -1 } },
	  9 },
	{ "2.6.x: 16 columns",
	  { HDR_26,
	    "00000002  00000010 00000001 00000002 00000000 00000000 "
	    "00000001 00000000 00000002 00000000 00000000 00000000 "
	    "00000000  00000000 00000000 FFFFFFFF" },
	  1,
	  { { CTP_STAT_SEARCHED, 16 },
	    { CTP_STAT_EXPECT_DELETE, 4294967295LL },
	    { CTP_STAT_SEARCH_RESTART, -1 } },
	  3 },
	{ "unknown columns are skipped",
	  { "entries  found bogus future_thing drop",
	    "00000005 00000001 00000063 00000064 00000002" },
	  1,
	  { { CTP_STAT_ENTRIES, 5 },
	    { CTP_STAT_FOUND, 1 },
	    { CTP_STAT_DROP, 2 } },
	  3 },
};

static void test_tables(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		const table_case *c = &tables[i];
		fixture fx;

		fx_open(&fx);
		feed(&fx, c->lines[0], CTP_LINE_OTHER);
		for (int k = 1; k < 4 && c->lines[k]; k++)
			feed(&fx, c->lines[k], CTP_LINE_RECORD);
		if (ctp_snapshot_stat_cpus(fx.snap, NULL) != c->cpus)
			fail_msg("%s: %zu CPU rows", c->name,
				 ctp_snapshot_stat_cpus(fx.snap, NULL));
		for (int k = 0; k < c->nwant; k++)
			if (stat_of(&fx, c->want[k].id) != c->want[k].val)
				fail_msg("%s: %s = %lld, want %lld", c->name,
					 ctp_stat_name(c->want[k].id),
					 stat_of(&fx, c->want[k].id),
					 c->want[k].val);
		fx_close(&fx);
	}
}

static void test_header_map(void **state)
{
	fixture fx;

	(void)state;
	fx_open(&fx);
	assert_int_equal(ctp_proc_stat_line(&fx.ctx, L(HDR_NEW)),
			 CTP_LINE_OTHER);
	assert_int_equal(fx.ctx.proc_stat_ncols, 17);
	assert_int_equal(fx.ctx.proc_stat_cols[0], CTP_STAT_ENTRIES);
	assert_int_equal(fx.ctx.proc_stat_cols[1], CTP_STAT_CLASH_RESOLVE);
	assert_int_equal(fx.ctx.proc_stat_cols[7], CTP_STAT_CHAINTOOLONG);
	assert_int_equal(fx.ctx.proc_stat_cols[12], CTP_STAT_ERROR);
	assert_int_equal(fx.ctx.proc_stat_cols[16], CTP_STAT_SEARCH_RESTART);
	/* a second header (another dump in the same file) replaces it */
	assert_int_equal(ctp_proc_stat_line(&fx.ctx,
					    L("entries  found xyz")),
			 CTP_LINE_OTHER);
	assert_int_equal(fx.ctx.proc_stat_ncols, 3);
	assert_int_equal(fx.ctx.proc_stat_cols[1], CTP_STAT_FOUND);
	assert_int_equal(fx.ctx.proc_stat_cols[2], -1);
	fx_close(&fx);
}

#define ROW17                                                            \
	"00000023  00000000 00000000 00000000 00000000 00000000 00000000 " \
	"00000000 00000000 00000000 00000000 00000000 00000000  00000000 " \
	"00000000 00000000 00000000"

typedef struct bad_row {
	int header; /* HDR_NEW seen first */
	const char *line;
	size_t len;
	const char *msg;
	size_t col; /* 1-based */
} bad_row;

static const bad_row bad[] = {
	{ 0, L(ROW17), "hex counters without a header line", 1 },
	{ 1, L("00000023  00000000"),
	  "expected 17 counters as in the header, found 2", 19 },
	{ 1, L(ROW17 " 00000001"), "more counters than the 17 header columns",
	  156 },
	{ 1, L("00000023  0000000g 00000000"),
	  "cannot parse '0000000g': expected 8 hex digits", 11 },
	{ 1, L("00000023  123 00000000"),
	  "cannot parse '123': expected 8 hex digits", 11 },
	{ 1, L("00000023  0x000001 00000000"),
	  "cannot parse '0x000001': expected 8 hex digits", 11 },
	{ 1, L("00000023  000000001"),
	  "cannot parse '000000001': expected 8 hex digits", 11 },
	{ 1, L("00000023  0000\0000 00000000"),
	  "cannot parse '0000': expected 8 hex digits", 11 },
	{ 1, L("00000023  00000000 0000"),
	  "cannot parse '0000': expected 8 hex digits", 20 },
	{ 0,
	  L("entries a b c d e f g h i j k l m n o p q r s t u v w x y z "
	    "aa bb cc dd ee ff"),
	  "too many columns in header: at most 32", 76 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const bad_row *r = &bad[i];
		fixture fx;

		fx_open(&fx);
		if (r->header)
			assert_int_equal(ctp_proc_stat_line(&fx.ctx,
							    L(HDR_NEW)),
					 CTP_LINE_OTHER);
		assert_int_equal(ctp_proc_stat_line(&fx.ctx, r->line, r->len),
				 CTP_EINPUT);
		assert_string_equal(fx.err.msg, r->msg);
		if (fx.err.col != r->col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 r->col);
		/* nothing of a rejected row is kept */
		assert_int_equal(ctp_snapshot_stat_cpus(fx.snap, NULL), 0);
		assert_int_equal(stat_of(&fx, CTP_STAT_ENTRIES), -1);
		fx_close(&fx);
	}
}

static void test_sniff(void **state)
{
	fixture fx;
	static const char row3[] = "00000023  00000000 00000000";

	(void)state;
	fx_open(&fx);
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L(HDR_NEW)));
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L(HDR_OLD)));
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L("entries\tfound")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("entries  bogus found")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("entries")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("entries=5 found=1")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("entriesfound")));
	/* a full-width row is ours even without a header (and then
	 * rejected with a reason); a short one is not */
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L(ROW17)));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L(row3)));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("12345678")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("35")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("cpu=0   \tfound=0 ")));
	fx.ctx.cur = CTP_FMT_PROC_STAT;
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L(row3)));
	fx.ctx.cur = 0;
	fx.ctx.proc_stat_ncols = 17;
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L(row3)));
	assert_true(ctp_proc_stat_sniff(&fx.ctx, L("12345678")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("1234567")));
	assert_false(ctp_proc_stat_sniff(&fx.ctx, L("0000000g")));
	fx_close(&fx);
}

/* The lab capture, through the reader: a header and one row per CPU. */
static void test_sample(void **state)
{
	const char *path = CTPLAN_SOURCE_DIR
		"/samples/lab-6.18/proc_net_stat_nf_conntrack";
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
	assert_true(in->lines >= 2);
	assert_int_equal(in->other, 1);
	assert_int_equal(in->records, in->lines - 1);
	assert_int_equal(in->rejected, 0);
	assert_int_equal(in->formats, CTP_FMT_PROC_STAT);
	assert_int_equal(ctp_snapshot_stat_cpus(snap, NULL), in->lines - 1);
	assert_true(ctp_snapshot_stat(snap, CTP_STAT_ENTRIES, &v));
	assert_true(ctp_snapshot_stat(snap, CTP_STAT_CLASH_RESOLVE, &v));
	assert_false(ctp_snapshot_stat(snap, CTP_STAT_SEARCHED, &v));
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_header_map),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests_name("proc_stat", tests, NULL, NULL);
}
