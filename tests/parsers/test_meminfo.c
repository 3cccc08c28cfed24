/* /proc/meminfo (parsers/meminfo.c) */
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

static const struct {
	const char *line;
	size_t len;
	const char *key;
	uint64_t want;
} good[] = {
	/* samples/lab-6.18/meminfo */
	{ L("MemTotal:       24684092 kB"), "MemTotal", 24684092 },
	{ L("MemAvailable:   24290600 kB"), "MemAvailable", 24290600 },
	{ L("Buffers:            5876 kB"), "Buffers", 5876 },
	{ L("HugePages_Total:       0"), "HugePages_Total", 0 },
	{ L("Hugepagesize:       2048 kB"), "Hugepagesize", 2048 },
	{ L("Active(anon):      12345 kB"), "Active(anon)", 12345 },
	{ L("DirectMap4k:      123 kB"), "DirectMap4k", 123 },
	{ L("VmallocTotal:   34359738367 kB"), "VmallocTotal",
	  34359738367ULL },
	{ L("X:\t18446744073709551615"), "X", 18446744073709551615ULL },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fixture fx;
		uint64_t v = 0;

		fx_open(&fx);
		if (!ctp_meminfo_sniff(&fx.ctx, good[i].line, good[i].len))
			fail_msg("row %zu: not sniffed", i);
		assert_int_equal(ctp_meminfo_line(&fx.ctx, good[i].line,
						  good[i].len),
				 CTP_LINE_RECORD);
		assert_true(ctp_snapshot_meminfo(fx.snap, good[i].key, &v));
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
	{ L("MemTotal:       abc kB"),
	  "cannot parse 'abc' of 'MemTotal': expected a number", 17 },
	{ L("MemTotal:       12x kB"),
	  "cannot parse '12x' of 'MemTotal': expected a number", 17 },
	{ L("MemTotal: 18446744073709551616 kB"),
	  "cannot parse '18446744073709551616' of 'MemTotal': number out of "
	  "range",
	  11 },
	{ L("MemTotal:"), "cannot parse '' of 'MemTotal': expected a number",
	  10 },
	{ L("MemTotal:       5 MB"),
	  "unexpected text after the value of 'MemTotal': expected ' kB'",
	  18 },
	{ L("MemTotal:       5 kB extra"),
	  "unexpected text after the value of 'MemTotal': expected ' kB'",
	  18 },
	{ L("MemTotal:       5 kB\0"),
	  "unexpected text after the value of 'MemTotal': expected ' kB'",
	  18 },
	{ L("Mem Total: 5 kB"),
	  "cannot parse 'Mem': expected 'Name:' and a number", 1 },
	{ L("Mem\0Total: 5 kB"),
	  "cannot parse 'Mem': expected 'Name:' and a number", 1 },
	{ L(": 5 kB"), "cannot parse ':': expected 'Name:' and a number", 1 },
	{ L(""), "cannot parse '': expected 'Name:' and a number", 1 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture fx;

		fx_open(&fx);
		assert_int_equal(ctp_meminfo_line(&fx.ctx, bad[i].line,
						  bad[i].len),
				 CTP_EINPUT);
		if (strcmp(fx.err.msg, bad[i].msg) != 0)
			fail_msg("row %zu: '%s'", i, fx.err.msg);
		if (fx.err.col != bad[i].col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 bad[i].col);
		fx_close(&fx);
	}
}

static const struct {
	const char *line;
	size_t len;
	int want;
} sniffs[] = {
	{ L("MemTotal:       24684092 kB"), 1 },
	{ L("HugePages_Total:       0"), 1 },
	{ L("MemTotal:5 kB"), 0 },
	{ L("MemTotal:       5 MB"), 0 },
	{ L("MemTotal:       5 kB "), 0 },
	{ L("MemTotal:       "), 0 },
	{ L("Mem Total:  5 kB"), 0 },
	{ L("Node 0 MemTotal:  5 kB"), 0 },
	{ L(": 5"), 0 },
	{ L(""), 0 },
	{ L("conntrack v1.4.7 (conntrack-tools): 35 flow entries have been "
	    "shown."),
	  0 },
	{ L("net.core.somaxconn = 4096"), 0 },
	{ L("35"), 0 },
	{ L("cpu=0   \tfound=0 "), 0 },
};

static void test_sniff(void **state)
{
	fixture fx;

	(void)state;
	fx_open(&fx);
	for (size_t i = 0; i < sizeof(sniffs) / sizeof(sniffs[0]); i++)
		if (ctp_meminfo_sniff(&fx.ctx, sniffs[i].line, sniffs[i].len) !=
		    sniffs[i].want)
			fail_msg("sniff row %zu: want %d", i, sniffs[i].want);
	fx_close(&fx);
}

/* The lab capture, through the reader: every line is a record. */
static void test_sample(void **state)
{
	const char *path = CTPLAN_SOURCE_DIR "/samples/lab-6.18/meminfo";
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	const ctp_input_info *in;
	ctp_snapshot *snap;
	uint64_t v;
	FILE *fp;

	(void)state;
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("committed sample %s is missing", path);
	fclose(fp);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_parse_path(snap, path, &opts, &err), 0);
	in = ctp_snapshot_input(snap, 0);
	assert_true(in->lines > 20);
	assert_int_equal(in->records, in->lines);
	assert_int_equal(in->formats, CTP_FMT_MEMINFO);
	assert_true(ctp_snapshot_meminfo(snap, "MemTotal", &v));
	assert_true(v > 0);
	assert_true(ctp_snapshot_meminfo(snap, "HugePages_Total", &v));
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests_name("meminfo", tests, NULL, NULL);
}
