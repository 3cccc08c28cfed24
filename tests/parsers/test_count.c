/* conntrack -C and nf_conntrack_count (parsers/count.c) */
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

#define fx_open fx_open_path

static const struct {
	const char *line;
	size_t len;
	uint64_t want;
} good[] = {
	{ L("35"), 35 }, /* samples/lab-6.18/conntrack_-C */
	{ L("0"), 0 },
	{ L("  1959 "), 1959 },
	{ L("\t262144"), 262144 },
	{ L("00042"), 42 },
	{ L("4294967296"), 4294967296ULL },
	{ L("9223372036854775807"), 9223372036854775807ULL },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fixture fx;
		uint64_t v = 0;

		fx_open(&fx, "");
		assert_true(ctp_count_sniff(&fx.ctx, good[i].line,
					    good[i].len));
		assert_int_equal(ctp_count_line(&fx.ctx, good[i].line,
						good[i].len),
				 CTP_LINE_RECORD);
		assert_true(ctp_snapshot_count(fx.snap, &v));
		assert_int_equal(v, good[i].want);
		fx_close(&fx);
	}
}

static const struct {
	const char *line;
	size_t len;
	const char *msg;
	size_t col; /* 1-based */
} bad[] = {
	{ L("9223372036854775808"),
	  "cannot parse '9223372036854775808': number out of range", 1 },
	{ L("184467440737095516160"),
	  "cannot parse '184467440737095516160': number out of range", 1 },
	{ L("12a"), "cannot parse '12a': expected a number", 1 },
	{ L("-1"), "cannot parse '-1': expected a number", 1 },
	{ L(" x"), "cannot parse 'x': expected a number", 2 },
	{ L(""), "cannot parse '': expected a number", 1 },
	{ L("35\0"), "cannot parse '35': expected a number", 1 },
	{ L("35 36"), "unexpected text after the count", 4 },
	{ L("35 \0"), "unexpected text after the count", 4 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture fx;
		uint64_t v;

		fx_open(&fx, "");
		assert_int_equal(ctp_count_line(&fx.ctx, bad[i].line,
						bad[i].len),
				 CTP_EINPUT);
		if (strcmp(fx.err.msg, bad[i].msg) != 0)
			fail_msg("row %zu: '%s'", i, fx.err.msg);
		if (fx.err.col != bad[i].col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 bad[i].col);
		assert_false(ctp_snapshot_count(fx.snap, &v));
		fx_close(&fx);
	}
}

static const struct {
	const char *path;
	const char *line;
	size_t len;
	int want;
} sniffs[] = {
	{ "", L("35"), 1 },
	{ "sos_commands/conntrack/conntrack_-C", L("35"), 1 },
	{ "proc/sys/net/netfilter/nf_conntrack_count", L("901"), 1 },
	{ "/proc/sys/net/netfilter/nf_conntrack_count", L("901"), 1 },
	{ "samples/lab-6.18/nf_conntrack_count", L("35"), 1 },
	/* other settings files hold numbers too: sysctl.c's */
	{ "proc/sys/net/netfilter/nf_conntrack_max", L("262144"), 0 },
	{ "a.tar!proc/sys/net/netfilter/nf_conntrack_buckets", L("1024"), 0 },
	{ "/sys/module/nf_conntrack/parameters/hashsize", L("262144"), 0 },
	{ "samples/lab-6.18/hashsize", L("262144"), 0 },
	/* not a bare number */
	{ "", L(""), 0 },
	{ "", L("  "), 0 },
	{ "", L("6.1"), 0 },
	{ "", L("0x10"), 0 },
	{ "", L("-1"), 0 },
	{ "", L("35 flows"), 0 },
	{ "", L("cpu=0"), 0 },
	{ "", L("35\0"), 0 },
};

static void test_sniff(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sniffs) / sizeof(sniffs[0]); i++) {
		fixture fx;

		fx_open(&fx, sniffs[i].path);
		if (ctp_count_sniff(&fx.ctx, sniffs[i].line, sniffs[i].len) !=
		    sniffs[i].want)
			fail_msg("sniff row %zu: want %d", i, sniffs[i].want);
		fx_close(&fx);
	}
}

/* The lab captures, through the reader. */
static void test_sample(void **state)
{
	static const char *const files[] = { "conntrack_-C",
					     "nf_conntrack_count" };
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		ctp_error err = CTP_ERROR_INIT;
		const ctp_input_info *in;
		ctp_snapshot *snap;
		char path[512];
		uint64_t v;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/samples/lab-6.18/%s",
			 CTPLAN_SOURCE_DIR, files[i]);
		fp = fopen(path, "r");
		if (!fp)
			fail_msg("committed sample %s is missing", path);
		fclose(fp);
		assert_int_equal(ctp_snapshot_new(&snap), 0);
		assert_int_equal(ctp_parse_path(snap, path, &opts, &err), 0);
		in = ctp_snapshot_input(snap, 0);
		assert_int_equal(in->lines, 1);
		assert_int_equal(in->records, 1);
		assert_int_equal(in->formats, CTP_FMT_COUNT);
		assert_true(ctp_snapshot_count(snap, &v));
		assert_true(v > 0);
		ctp_snapshot_free(snap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests_name("count", tests, NULL, NULL);
}
