/* uname -a and uname -r (parsers/uname.c) */
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

typedef struct good_row {
	const char *line;
	size_t len;
	const char *release, *machine;
	int major, minor, patch;
} good_row;

static const good_row good[] = {
	/* Debian: the upstream patch level from the version */
	{ L("Linux host 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 "
	    "(2024-02-01) x86_64 GNU/Linux"),
	  "6.1.0-18-amd64", "x86_64", 6, 1, 76 },
	{ L("Linux deb10 4.19.0-26-cloud-amd64 #1 SMP Debian 4.19.304-1 "
	    "(2024-01-09) x86_64 GNU/Linux"),
	  "4.19.0-26-cloud-amd64", "x86_64", 4, 19, 304 },
	{ L("Linux h 6.1.0-0.deb11.17-amd64 #1 SMP PREEMPT_DYNAMIC Debian "
	    "6.1.69-1~bpo11+1 (2024-01-05) x86_64 GNU/Linux"),
	  "6.1.0-0.deb11.17-amd64", "x86_64", 6, 1, 69 },
	/* a "Debian x.y" of another major.minor is not taken */
	{ L("Linux h 6.1.0-18-amd64 #1 SMP Debian 5.10.1-1 (2024-02-01) "
	    "x86_64 GNU/Linux"),
	  "6.1.0-18-amd64", "x86_64", 6, 1, 0 },
	/* this lab (samples/lab-6.18/uname_-a) */
	{ L("Linux vm 6.18.44-fc-v657 #1 SMP PREEMPT_DYNAMIC @0 x86_64 "
	    "GNU/Linux"),
	  "6.18.44-fc-v657", "x86_64", 6, 18, 44 },
	/* RHEL prints machine, processor and platform */
	{ L("Linux rhel9 5.14.0-362.8.1.el9_3.x86_64 #1 SMP PREEMPT_DYNAMIC "
	    "Tue Oct 3 11:12:36 EDT 2023 x86_64 x86_64 x86_64 GNU/Linux"),
	  "5.14.0-362.8.1.el9_3.x86_64", "x86_64", 5, 14, 0 },
	{ L("Linux ip-10-0-0-1 5.15.0-1057-aws #63~20.04.1-Ubuntu SMP Mon "
	    "Mar 25 10:29:50 UTC 2024 aarch64 aarch64 aarch64 GNU/Linux"),
	  "5.15.0-1057-aws", "aarch64", 5, 15, 0 },
	{ L("Linux h 2.6.32-754.el6.i686 #1 SMP Tue Jun 19 21:51:20 UTC 2018 "
	    "i686 i686 i386 GNU/Linux"),
	  "2.6.32-754.el6.i686", "i686", 2, 6, 32 },
	{ L("Linux h 3.10.0 #1 SMP Tue Jan 1 x86_64 unknown unknown "
	    "GNU/Linux"),
	  "3.10.0", "x86_64", 3, 10, 0 },
	/* an architecture we do not list: the word before GNU/Linux */
	{ L("Linux h 6.6.0 #1 SMP foo64 GNU/Linux"), "6.6.0", "foo64", 6, 6,
	  0 },
	/* no machine at all (uname -srv) */
	{ L("Linux 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 "
	    "(2024-02-01)"),
	  "6.1.0-18-amd64", "", 6, 1, 76 },
	{ L("Linux h 6.1.0 #1 SMP PREEMPT_DYNAMIC Thu Jan 11 UTC 2024"),
	  "6.1.0", "", 6, 1, 0 },
	/* uname -r */
	{ L("6.1.0-18-amd64"), "6.1.0-18-amd64", "", 6, 1, 0 },
	{ L("5.15.0-1057-aws"), "5.15.0-1057-aws", "", 5, 15, 0 },
	{ L("4.19.0-26-cloud-amd64"), "4.19.0-26-cloud-amd64", "", 4, 19, 0 },
	{ L("5.14.0-362.8.1.el9_3.x86_64"), "5.14.0-362.8.1.el9_3.x86_64", "",
	  5, 14, 0 },
	{ L("6.18.44-fc-v657"), "6.18.44-fc-v657", "", 6, 18, 44 },
	{ L("6.8"), "6.8", "", 6, 8, -1 },
	{ L("6.9.0-rc1+"), "6.9.0-rc1+", "", 6, 9, 0 },
	{ L("5.4.0~x_y"), "5.4.0~x_y", "", 5, 4, 0 },
	{ L(" 6.1.0 "), "6.1.0", "", 6, 1, 0 },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const good_row *r = &good[i];
		const ctp_kernel_info *k;
		fixture fx;

		fx_open(&fx, "");
		if (!ctp_uname_sniff(&fx.ctx, r->line, r->len))
			fail_msg("row %zu: not sniffed", i);
		if (ctp_uname_line(&fx.ctx, r->line, r->len) !=
		    CTP_LINE_RECORD)
			fail_msg("row %zu: %s", i, fx.err.msg);
		k = ctp_snapshot_kernel(fx.snap);
		assert_non_null(k);
		assert_string_equal(k->release, r->release);
		if (strcmp(k->machine, r->machine) != 0)
			fail_msg("row %zu: machine '%s'", i, k->machine);
		if (k->major != r->major || k->minor != r->minor ||
		    k->patch != r->patch)
			fail_msg("row %zu: %d.%d.%d", i, k->major, k->minor,
				 k->patch);
		fx_close(&fx);
	}
}

static const char long_rel[] =
	"6.1.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static const struct {
	const char *line;
	size_t len;
	const char *msg;
	size_t col; /* 1-based */
} bad[] = {
	{ L("6.1.0-18-amd64 extra"),
	  "unexpected text after kernel release '6.1.0-18-amd64'", 16 },
	{ L("Linux host 6x.1 #1 SMP x86_64 GNU/Linux"),
	  "cannot parse kernel release '6x.1'", 12 },
	{ L("Linux host 6.1.0/x #1 SMP x86_64 GNU/Linux"),
	  "cannot parse kernel release '6.1.0/x'", 12 },
	{ L("1.4.7"), "cannot parse kernel release '1.4.7'", 1 },
	{ L("100.1.0"), "cannot parse kernel release '100.1.0'", 1 },
	{ L("10.0.0.1"), "cannot parse kernel release '10.0.0.1'", 1 },
	{ L("6"), "cannot parse kernel release '6'", 1 },
	{ L("6."), "cannot parse kernel release '6.'", 1 },
	{ L("6.1.0\001"), "cannot parse kernel release '6.1.0\001'", 1 },
	{ L("6.1\0.0"), "cannot parse kernel release '6.1'", 1 },
	{ L(""), "expected a kernel release", 1 },
	{ L("  "), "expected a kernel release", 1 },
	{ long_rel, sizeof(long_rel) - 1,
	  "kernel release '6.1.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaa...' too long",
	  1 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture fx;

		fx_open(&fx, "");
		assert_int_equal(ctp_uname_line(&fx.ctx, bad[i].line,
						bad[i].len),
				 CTP_EINPUT);
		if (strcmp(fx.err.msg, bad[i].msg) != 0)
			fail_msg("row %zu: '%s'", i, fx.err.msg);
		if (fx.err.col != bad[i].col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 bad[i].col);
		assert_null(ctp_snapshot_kernel(fx.snap));
		fx_close(&fx);
	}
}

static const struct {
	const char *path;
	const char *line;
	size_t len;
	int want;
} sniffs[] = {
	{ "", L("6.1.0-18-amd64"), 1 },
	{ "", L("Linux host 6.1.0-18-amd64 #1 SMP x86_64 GNU/Linux"), 1 },
	{ "", L("Linux 6.1.0-18-amd64 #1 SMP"), 1 },
	{ "", L("Linux host 6x #1"), 1 }, /* ours, then rejected */
	/* a bare integer is count.c's; addresses and tool versions are not
	 * kernels */
	{ "", L("35"), 0 },
	{ "", L("192.168.1.1"), 0 },
	{ "", L("10.0.0.1"), 0 },
	{ "", L("1.4.7"), 0 },
	{ "", L("6.1.0 amd64"), 0 },
	{ "", L("Linux is great"), 0 },
	{ "", L("Linux"), 0 },
	{ "", L(""), 0 },
	{ "", L("net.core.somaxconn = 4096"), 0 },
	{ "", L("MemTotal:       24684092 kB"), 0 },
	{ "", L("cpu=0   \tfound=0 "), 0 },
	/* a saved osrelease is a setting (sysctl.c) */
	{ "sos/proc/sys/kernel/osrelease", L("6.1.0-18-amd64"), 0 },
	{ "sos_commands/kernel/uname_-a", L("6.1.0-18-amd64"), 1 },
};

static void test_sniff(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sniffs) / sizeof(sniffs[0]); i++) {
		fixture fx;

		fx_open(&fx, sniffs[i].path);
		if (ctp_uname_sniff(&fx.ctx, sniffs[i].line, sniffs[i].len) !=
		    sniffs[i].want)
			fail_msg("sniff row %zu: want %d", i, sniffs[i].want);
		fx_close(&fx);
	}
}

/* The lab captures, through the reader. */
static void test_sample(void **state)
{
	static const char *const files[] = { "uname_-a", "uname_-r" };
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		ctp_error err = CTP_ERROR_INIT;
		const ctp_input_info *in;
		const ctp_kernel_info *k;
		ctp_snapshot *snap;
		char path[512];
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
		assert_int_equal(in->formats, CTP_FMT_UNAME);
		k = ctp_snapshot_kernel(snap);
		assert_non_null(k);
		assert_true(k->major >= 2);
		assert_true(k->minor >= 0);
		if (i == 0)
			assert_true(k->machine[0] != '\0');
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

	return cmocka_run_group_tests_name("uname", tests, NULL, NULL);
}
