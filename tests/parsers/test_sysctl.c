/* sysctl dumps and saved settings files (parsers/sysctl.c) */
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
	const char *path;
	const char *line;
	size_t len;
	const char *key; /* NULL: the line is "other", nothing is set */
	const char *val;
} good_row;

static const good_row good[] = {
	/* sysctl -a (samples/lab-6.18/sysctl_-a) */
	{ "", L("net.netfilter.nf_conntrack_max = 262144"),
	  "net.netfilter.nf_conntrack_max", "262144" },
	{ "", L("net.netfilter.nf_conntrack_buckets = 262144"),
	  "net.netfilter.nf_conntrack_buckets", "262144" },
	{ "", L("net.ipv4.ip_local_port_range = 32768\t60999"),
	  "net.ipv4.ip_local_port_range", "32768\t60999" },
	{ "", L("fs.dentry-state = 39906\t38326\t45\t0\t6571\t0"),
	  "fs.dentry-state", "39906\t38326\t45\t0\t6571\t0" },
	{ "", L("kernel.panic_sys_info = "), "kernel.panic_sys_info", "" },
	{ "", L("net.netfilter.nf_log.10 = nf_log_ipv6"),
	  "net.netfilter.nf_log.10", "nf_log_ipv6" },
	{ "", L("net.nf_conntrack_max = 65536"), "net.nf_conntrack_max",
	  "65536" },
	/* a '.' in a netdev name is printed as '/' */
	{ "", L("net.ipv4.conf.eth0/100.rp_filter = 2"),
	  "net.ipv4.conf.eth0/100.rp_filter", "2" },
	{ "", L("net.ipv6.conf.kube-ipvs0.disable_ipv6 = 1"),
	  "net.ipv6.conf.kube-ipvs0.disable_ipv6", "1" },
	{ "",
	  L("kernel.core_pattern = |/usr/share/apport/apport -p%p -s%s "
	    "-c%c -d%d -P%P -u%u -g%g -- %E"),
	  "kernel.core_pattern",
	  "|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- "
	  "%E" },
	{ "", L("kernel.x = a=b c"), "kernel.x", "a=b c" },
	/* sysctl.conf forms */
	{ "", L("net.core.somaxconn=4096"), "net.core.somaxconn", "4096" },
	{ "", L("  net.ipv4.tcp_tw_reuse =  1  "), "net.ipv4.tcp_tw_reuse",
	  "1" },
	{ "", L("-net.ipv4.conf.all.rp_filter = 1"),
	  "net.ipv4.conf.all.rp_filter", "1" },
	/* stderr of sysctl -a 2>&1, comments */
	{ "", L("sysctl: permission denied on key 'fs.protected_hardlinks'"),
	  NULL, NULL },
	{ "",
	  L("sysctl: cannot stat /proc/sys/net/foo: No such file or "
	    "directory"),
	  NULL, NULL },
	{ "", L("sysctl: reading key \"net.ipv6.conf.all.stable_secret\""),
	  NULL, NULL },
	/* procps 3.2 */
	{ "", L("error: permission denied on key 'net.ipv4.route.flush'"),
	  NULL, NULL },
	{ "",
	  L("error: \"Input/output error\" reading key "
	    "\"net.ipv6.conf.all.stable_secret\""),
	  NULL, NULL },
	{ "etc/sysctl.conf", L("# Kernel sysctl configuration"), NULL,
	  NULL },
	{ "etc/sysctl.d/10-x.conf", L("  ; comment"), NULL, NULL },
	/* saved /proc/sys files: the key comes from the path */
	{ "sosreport-h/proc/sys/net/netfilter/nf_conntrack_max", L("262144"),
	  "net.netfilter.nf_conntrack_max", "262144" },
	{ "/proc/sys/net/nf_conntrack_max", L("262144"),
	  "net.nf_conntrack_max", "262144" },
	{ "proc/sys/net/ipv4/ip_local_port_range", L("32768\t60999"),
	  "net.ipv4.ip_local_port_range", "32768\t60999" },
	{ "bundle.tar.gz!proc/sys/net/ipv4/conf/eth0.100/forwarding", L("1"),
	  "net.ipv4.conf.eth0/100.forwarding", "1" },
	{ "proc/sys/kernel/osrelease", L("6.1.0-18-amd64"),
	  "kernel.osrelease", "6.1.0-18-amd64" },
	/* module parameters */
	{ "/sys/module/nf_conntrack/parameters/hashsize", L("262144"),
	  "module.nf_conntrack.hashsize", "262144" },
	{ "x/sys/module/nf_conntrack/parameters/expect_hashsize", L("4096"),
	  "module.nf_conntrack.expect_hashsize", "4096" },
	{ "samples/lab-6.18/hashsize", L("262144"),
	  "module.nf_conntrack.hashsize", "262144" },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const good_row *r = &good[i];
		const char *v;
		fixture fx;
		int rc;

		fx_open(&fx, r->path);
		if (!ctp_sysctl_sniff(&fx.ctx, r->line, r->len))
			fail_msg("row %zu: not sniffed", i);
		rc = ctp_sysctl_line(&fx.ctx, r->line, r->len);
		if (!r->key) {
			assert_int_equal(rc, CTP_LINE_OTHER);
			assert_int_equal(ctp_snapshot_sysctl_count(fx.snap), 0);
			fx_close(&fx);
			continue;
		}
		if (rc != CTP_LINE_RECORD)
			fail_msg("row %zu: %d %s", i, rc, fx.err.msg);
		assert_int_equal(ctp_snapshot_sysctl_count(fx.snap), 1);
		v = ctp_snapshot_sysctl(fx.snap, r->key);
		if (!v || strcmp(v, r->val) != 0)
			fail_msg("row %zu: %s = '%s', want '%s'", i, r->key,
				 v ? v : "(none)", r->val);
		fx_close(&fx);
	}
}

typedef struct bad_row {
	const char *path;
	const char *line;
	size_t len;
	const char *msg;
	size_t col; /* 1-based */
} bad_row;

static const char long_key[] =
	"net.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	" = 1";

static const bad_row bad[] = {
	{ "", L("net.netfilter.nf_conntrack_max$ = 5"),
	  "illegal character '$' in sysctl key "
	  "'net.netfilter.nf_conntrack_max$'",
	  31 },
	{ "", L("net.a\001b = 1"), "illegal byte 0x01 in sysctl key", 6 },
	{ "", L("net.a\0b = 1"), "illegal byte 0x00 in sysctl key", 6 },
	{ "", L("net..max = 1"),
	  "cannot parse sysctl key 'net..max': expected dotted names", 1 },
	{ "", L(".net.max = 1"),
	  "cannot parse sysctl key '.net.max': expected dotted names", 1 },
	{ "", L("net.max. = 1"),
	  "cannot parse sysctl key 'net.max.': expected dotted names", 1 },
	{ "", L("  max = 1"),
	  "cannot parse sysctl key 'max': expected dotted names", 3 },
	{ "", L("= 1"), "cannot parse sysctl key '': expected dotted names",
	  1 },
	{ "", L("net.core.somaxconn 4096"),
	  "expected '=' after sysctl key 'net.core.somaxconn'", 20 },
	{ "", L("net.core.somaxconn"),
	  "expected '=' after sysctl key 'net.core.somaxconn'", 19 },
	{ "", L("net.netfilter.nf_conntrack_max = 26\0" "2144"),
	  "unexpected NUL byte in the value of "
	  "'net.netfilter.nf_conntrack_max'",
	  36 },
	{ "", long_key, sizeof(long_key) - 1,
	  "sysctl key 'net.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaa...' too long",
	  1 },
	{ "proc/sys/net/netfilter/nf_conntrack_max", L("2621\0" "44"),
	  "unexpected NUL byte in the value of "
	  "'net.netfilter.nf_conntrack_max'",
	  5 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const bad_row *r = &bad[i];
		fixture fx;

		fx_open(&fx, r->path);
		assert_int_equal(ctp_sysctl_line(&fx.ctx, r->line, r->len),
				 CTP_EINPUT);
		if (strcmp(fx.err.msg, r->msg) != 0)
			fail_msg("row %zu: '%s'", i, fx.err.msg);
		if (fx.err.col != r->col)
			fail_msg("row %zu: col %zu, want %zu", i, fx.err.col,
				 r->col);
		assert_int_equal(ctp_snapshot_sysctl_count(fx.snap), 0);
		fx_close(&fx);
	}
}

static const struct {
	const char *path;
	unsigned cur;
	const char *line;
	size_t len;
	int want;
} sniffs[] = {
	{ "", 0, L("net.netfilter.nf_conntrack_max = 262144"), 1 },
	{ "", 0, L("net.core.somaxconn=4096"), 1 },
	{ "", 0, L("net.netfilter.nf_conntrack_max$ = 5"), 1 },
	{ "", 0, L("sysctl: permission denied on key 'x'"), 1 },
	{ "", 0, L("error: \"fs.x\" is an unknown key"), 1 },
	{ "", 0, L("error: something else"), 0 },
	/* other formats */
	{ "", 0,
	  L("tcp      6 431999 ESTABLISHED src=192.168.1.50 "
	    "dst=192.168.1.10 sport=52104 dport=443"),
	  0 },
	{ "", 0,
	  L("ipv4     2 tcp      6 86 TIME_WAIT src=10.16.104.60 "
	    "dst=10.0.32.107"),
	  0 },
	{ "", 0, L("    [NEW] udp      17 30 src=10.0.0.1 dst=10.0.0.2"), 0 },
	{ "", 0, L("cpu=0   \tfound=0 invalid=0 "), 0 },
	{ "", 0, L("-A -t 431996 -u SEEN_REPLY,ASSURED -s 71.34.64.4"), 0 },
	{ "", 0, L("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), 0 },
	{ "", 0, L("MemTotal:       24684092 kB"), 0 },
	{ "", 0, L("6.1.0-18-amd64"), 0 },
	{ "", 0, L("35"), 0 },
	{ "", 0, L("max = 1"), 0 },
	{ "", 0, L("1.2 = 3"), 0 },
	{ "", 0, L(""), 0 },
	/* comments: only where sysctl lines are expected */
	{ "", 0, L("# comment"), 0 },
	{ "", CTP_FMT_SYSCTL, L("# comment"), 1 },
	{ "etc/sysctl.conf", 0, L("# comment"), 1 },
	{ "etc/sysctl.d/99-k8s.conf", 0, L("; comment"), 1 },
	/* saved files: any line; nf_conntrack_count is count.c's */
	{ "proc/sys/net/netfilter/nf_conntrack_max", 0, L("262144"), 1 },
	{ "proc/sys/net/netfilter/nf_conntrack_count", 0, L("35"), 0 },
	{ "/sys/module/nf_conntrack/parameters/hashsize", 0, L("262144"), 1 },
	{ "hashsize", 0, L("262144"), 1 },
	{ "notproc/sys/net/x", 0, L("1"), 0 },
};

static void test_sniff(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sniffs) / sizeof(sniffs[0]); i++) {
		fixture fx;

		fx_open(&fx, sniffs[i].path);
		fx.ctx.cur = sniffs[i].cur;
		if (ctp_sysctl_sniff(&fx.ctx, sniffs[i].line, sniffs[i].len) !=
		    sniffs[i].want)
			fail_msg("sniff row %zu: want %d", i, sniffs[i].want);
		fx_close(&fx);
	}
}

/* keys kept sorted; a later line of the same key wins */
static void test_many(void **state)
{
	static const char *const lines[] = {
		"net.netfilter.nf_conntrack_max = 131072",
		"kernel.core_modes = file",
		"kernel.core_modes = pipe",
		"net.core.somaxconn = 4096",
		"net.netfilter.nf_conntrack_max = 262144",
	};
	const char *v;
	fixture fx;
	uint64_t n;

	(void)state;
	fx_open(&fx, "sos_commands/kernel/sysctl_-a");
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(ctp_sysctl_line(&fx.ctx, lines[i],
						 strlen(lines[i])),
				 CTP_LINE_RECORD);
	/* lookups see the last value set at once; the list is the
	 * finalized view */
	assert_string_equal(ctp_snapshot_sysctl(fx.snap,
						"net.netfilter.nf_conntrack_max"),
			    "262144");
	assert_int_equal(ctp_snapshot_finalize(fx.snap), 0);
	assert_int_equal(ctp_snapshot_sysctl_count(fx.snap), 3);
	assert_string_equal(ctp_snapshot_sysctl_at(fx.snap, 0, &v),
			    "kernel.core_modes");
	assert_string_equal(v, "pipe");
	assert_string_equal(ctp_snapshot_sysctl_at(fx.snap, 2, &v),
			    "net.netfilter.nf_conntrack_max");
	assert_true(ctp_snapshot_sysctl_u64(fx.snap,
					    "net.netfilter.nf_conntrack_max",
					    &n));
	assert_int_equal(n, 262144);
	fx_close(&fx);
}

/* The lab captures, through the reader. */
static void test_sample(void **state)
{
	const char *dir = CTPLAN_SOURCE_DIR "/samples/lab-6.18/";
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	const ctp_input_info *in;
	ctp_snapshot *snap;
	char path[512];
	uint64_t v;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%ssysctl_-a", dir);
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("committed sample %s is missing", path);
	fclose(fp);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_parse_path(snap, path, &opts, &err), 0);
	in = ctp_snapshot_input(snap, 0);
	assert_non_null(in);
	assert_true(in->lines > 1000);
	assert_int_equal(in->records, in->lines);
	assert_int_equal(in->rejected, 0);
	assert_int_equal(in->formats, CTP_FMT_SYSCTL);
	/* every key but the repeated lines of multi-line values */
	assert_true(ctp_snapshot_sysctl_count(snap) + 10 > in->lines);
	assert_true(ctp_snapshot_sysctl_u64(
		snap, "net.netfilter.nf_conntrack_max", &v));
	assert_true(v > 0);
	assert_non_null(ctp_snapshot_sysctl(snap,
					    "net.ipv4.ip_local_port_range"));
	assert_non_null(strchr(ctp_snapshot_sysctl(
				       snap, "net.ipv4.ip_local_port_range"),
			       '\t'));

	snprintf(path, sizeof(path), "%shashsize", dir);
	assert_int_equal(ctp_parse_path(snap, path, &opts, &err), 0);
	in = ctp_snapshot_input(snap, 1);
	assert_int_equal(in->records, 1);
	assert_int_equal(in->formats, CTP_FMT_SYSCTL);
	assert_true(ctp_snapshot_sysctl_u64(snap,
					    "module.nf_conntrack.hashsize",
					    &v));
	assert_true(v >= 1024);
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests_name("sysctl", tests, NULL, NULL);
}
