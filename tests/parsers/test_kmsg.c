/* kernel log lines (parsers/kmsg.c) */
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

#define L(s) s, sizeof(s) - 1
#define US 1000000LL
#define NONE INT64_MIN /* time not expected */

/* the netns of the lab capture (samples/kmsg/) */
#define LAB_NETNS 4026532177u
#define SAMPLES CTPLAN_SOURCE_DIR "/samples/kmsg/lab-6.18"
/* a kernel line of a syslog file named h */
#define H_TF "h kernel: nf_conntrack: nf_conntrack: table full, dropping packet"
/* 2026-11-26T19:34:13Z */
#define T0 1795721653LL
/* Nov 26 19:34:13 in the 366-day calendar of a date without a year */
#define NY0 28582453LL

typedef struct fixture {
	ctp_snapshot *snap;
	uint16_t in;
	ctp_error err;
	ctp_pctx ctx;
} fixture;

static void fx_open(fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(ctp_snapshot_new(&fx->snap), 0);
	assert_int_equal(ctp_snapshot_add_input(fx->snap, "t", NULL, &fx->in),
			 0);
	fx->ctx.snap = fx->snap;
	fx->ctx.input = fx->in;
	fx->ctx.file = "t";
	fx->ctx.path = "";
	fx->ctx.line = 1;
	fx->ctx.err = &fx->err;
}

static void fx_close(fixture *fx)
{
	ctp_kmsg_release(&fx->ctx); /* the compiled patterns */
	ctp_snapshot_free(fx->snap);
	fx->snap = NULL;
}

typedef struct good_row {
	const char *line;
	size_t len;
	int rc;          /* CTP_LINE_RECORD or CTP_LINE_OTHER */
	int kind;        /* event added, 0 none */
	unsigned flags;  /* its CTP_KEV_F_* */
	int64_t boot_us; /* NONE: not checked */
	int64_t wall_us;
	uint32_t netns;
	uint64_t value, value2;
	uint32_t repeat;
} good_row;

static const good_row good[] = {
	/* 6.18, this lab (samples/kmsg/lab-6.18): dmesg */
	{ L("[ 1437.044241] nf_conntrack: nf_conntrack: table full in netns "
	    "4026532177, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_BOOT | CTP_KEV_F_NETNS, 1437044241, NONE, LAB_NETNS, 0,
	  0, 1 },
	{ L("[ 1443.229564] net_ratelimit: 340 callbacks suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_BOOT, 1443229564,
	  NONE, 0, 340, 0, 1 },
	/* dmesg -T, --time-format iso, -x, -r */
	{ L("[Thu Nov 26 19:34:13 2026] nf_conntrack: nf_conntrack: table "
	    "full in netns 4026532177, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NETNS, NONE, T0 * US, LAB_NETNS, 0, 0,
	  1 },
	{ L("[Fri Nov  6 09:05:01 2026] net_ratelimit: 7 callbacks "
	    "suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_WALL, NONE,
	  (T0 - 20 * 86400 - 10 * 3600 - 29 * 60 - 12) * US, 0, 7, 0, 1 },
	{ L("2026-11-26T19:34:13,044241+00:00 nf_conntrack: nf_conntrack: "
	    "table full in netns 4026532177, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NETNS, NONE, T0 * US + 44241,
	  LAB_NETNS, 0, 0, 1 },
	{ L("2026-11-26T20:34:13,5+01:00 net_ratelimit: 12 callbacks "
	    "suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_WALL, NONE,
	  T0 * US + 500000, 0, 12, 0, 1 },
	{ L("kern  :warn  : [ 1437.044241] nf_conntrack: nf_conntrack: table "
	    "full in netns 4026532177, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_BOOT | CTP_KEV_F_NETNS, 1437044241, NONE, LAB_NETNS, 0,
	  0, 1 },
	{ L("<4>[ 1437.044241] nf_conntrack: nf_conntrack: table full, "
	    "dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL, CTP_KEV_F_BOOT, 1437044241,
	  NONE, 0, 0, 0, 1 },
	/* printk caller id: the console's and util-linux's */
	{ L("[   12.3][  T123] nf_conntrack: nf_conntrack: table full, "
	    "dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL, CTP_KEV_F_BOOT, 12300000,
	  NONE, 0, 0, 0, 1 },
	{ L("[   12.345678] [    C1] nf_conntrack: expectation table full"),
	  CTP_LINE_RECORD, CTP_KEV_EXPECT_FULL, CTP_KEV_F_BOOT, 12345678,
	  NONE, 0, 0, 0, 1 },
	/* journalctl -k -o short, short-precise, short-iso,
	 * short-iso-precise, short-monotonic */
	{ L("Nov 26 19:34:13 ctplan-lab kernel: nf_conntrack: nf_conntrack: "
	    "table full in netns 4026532177, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR | CTP_KEV_F_NETNS, NONE, NY0 * US,
	  LAB_NETNS, 0, 0, 1 },
	{ L("Nov 26 19:34:13.044241 ctplan-lab kernel: net_ratelimit: 340 "
	    "callbacks suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR, NONE, NY0 * US + 44241, 0, 340,
	  0, 1 },
	{ L("2026-11-26T19:34:13+0000 ctplan-lab kernel: net_ratelimit: 340 "
	    "callbacks suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_WALL, NONE, T0 * US,
	  0, 340, 0, 1 },
	{ L("2026-11-26T19:34:13.044241+0000 ctplan-lab kernel: net_ratelimit"
	    ": 340 callbacks suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_WALL, NONE,
	  T0 * US + 44241, 0, 340, 0, 1 },
	{ L("[ 1443.229564] ctplan-lab kernel: net_ratelimit: 340 callbacks "
	    "suppressed"),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_BOOT, 1443229564,
	  NONE, 0, 340, 0, 1 },
	/* Debian 12 rsyslog (RFC 3339), the kernel's time kept */
	{ L("2026-11-26T20:34:13.044241+01:00 host kernel: [ 1437.044241] "
	    "nf_conntrack: nf_conntrack: table full, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_BOOT, 1437044241, T0 * US + 44241, 0, 0,
	  0, 1 },
	/* traditional kern.log with the kernel's time (wballard/starphleet
	 * #352, 2018) */
	{ L("Feb 23 16:44:36 jobs kernel: [38775494.393661] nf_conntrack: "
	    "table full, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR | CTP_KEV_F_BOOT,
	  38775494393661LL, 4639476LL * US, 0, 0, 0, 1 },
	/* 2.6 ip_conntrack in /var/log/messages (LKML, 2004) */
	{ L("Nov  6 02:39:55 doom kernel: ip_conntrack: table full, dropping "
	    "packet."),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR, NONE, 26793595LL * US, 0, 0, 0,
	  1 },
	/* 3.x */
	{ L("[ 5000.000001] nf_conntrack: table full, dropping packet."),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL, CTP_KEV_F_BOOT, 5000000001LL,
	  NONE, 0, 0, 0, 1 },
	/* busybox syslogd on a router: no host */
	{ L("Jun 23 21:33:47 kernel: nf_conntrack: expectation table full"),
	  CTP_LINE_RECORD, CTP_KEV_EXPECT_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR, NONE, 15111227LL * US, 0, 0, 0,
	  1 },
	/* rsyslog's repeated message reduction */
	{ L("Nov 26 19:34:13 host kernel: message repeated 5 times: [ "
	    "nf_conntrack: nf_conntrack: table full, dropping packet]"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR, NONE, NY0 * US, 0, 0, 0, 5 },
	/* sizing notices */
	{ L("[    5.123456] nf_conntrack version 0.5.0 (65536 buckets, 262144 "
	    "max)"),
	  CTP_LINE_RECORD, CTP_KEV_CT_SIZE, CTP_KEV_F_BOOT, 5123456, NONE, 0,
	  65536, 262144, 1 },
	{ L("[    5.2] nf_conntrack: falling back to vmalloc."),
	  CTP_LINE_RECORD, CTP_KEV_VMALLOC, CTP_KEV_F_BOOT, 5200000, NONE, 0,
	  0, 0, 1 },
	{ L("[   28.533298] nf_conntrack: automatic helper assignment is "
	    "deprecated and it will be removed soon. Use the iptables CT "
	    "target to attach helpers instead."),
	  CTP_LINE_RECORD, CTP_KEV_HELPER, CTP_KEV_F_BOOT, 28533298, NONE, 0,
	  0, 0, 1 },
	{ L("[   37.581002] nf_conntrack: default automatic helper assignment "
	    "has been turned off for security reasons and CT-based  firewall "
	    "rule not found. Use the iptables CT target to attach helpers "
	    "instead."),
	  CTP_LINE_RECORD, CTP_KEV_HELPER, CTP_KEV_F_BOOT, 37581002, NONE, 0,
	  0, 0, 1 },
	/* boots */
	{ L("[    0.000000] Linux version 6.18.44 (root@build) #1 SMP"),
	  CTP_LINE_OTHER, CTP_KEV_BOOT, CTP_KEV_F_BOOT, 0, NONE, 0, 0, 0, 1 },
	{ L("-- Boot 3c1e4d0e7c7f4f0aa0f9e3f3b1b0f1a2 --"), CTP_LINE_OTHER,
	  CTP_KEV_BOOT, 0, NONE, NONE, 0, 0, 0, 1 },
	/* other lines of a log: no record, never rejected */
	{ L("-- No entries --"), CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0,
	  0 },
	{ L("-- Logs begin at Thu 2026-11-26 18:00:01 UTC, end at Thu "
	    "2026-11-26 19:40:00 UTC. --"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("Nov 26 19:34:13 host sshd[812]: Accepted publickey for root"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("Nov 26 19:34:13 host app: nf_conntrack: table full, dropping "
	    "packet"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("[ 1052.794616] vc2: left promiscuous mode"), CTP_LINE_OTHER, 0, 0,
	  NONE, NONE, 0, 0, 0, 0 },
	{ L("[   56.050418] verify_parent_transid: 2 callbacks suppressed"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("[   12.000000] nf_conntrack: unknown message of a future "
	    "kernel"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("[   12.000000] ip_conntrack version 2.4 (8192 buckets, 65536 max)"
	    " - 228 bytes per conntrack"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("[   12.000000] "), CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	{ L("[ 1052.794616] usb 1-1: new high-speed USB device using xhci"),
	  CTP_LINE_OTHER, 0, 0, NONE, NONE, 0, 0, 0, 0 },
	/* a NUL inside another program's message is just other */
	{ L("Nov 26 19:34:13 host app: a\0b"), CTP_LINE_OTHER, 0, 0, NONE,
	  NONE, 0, 0, 0, 0 },
	/* NUL bytes before a line (syslog after a crash) */
	{ L("\0\0\0Nov 26 19:34:13 host kernel: nf_conntrack: nf_conntrack: "
	    "table full, dropping packet"),
	  CTP_LINE_RECORD, CTP_KEV_TABLE_FULL,
	  CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR, NONE, NY0 * US, 0, 0, 0, 1 },
	/* trailing blanks */
	{ L("[ 1.000000] net_ratelimit: 3 callbacks suppressed  "),
	  CTP_LINE_RECORD, CTP_KEV_SUPPRESSED, CTP_KEV_F_BOOT, 1000000, NONE,
	  0, 3, 0, 1 },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const good_row *r = &good[i];
		fixture fx;
		size_t n;
		int rc;

		fx_open(&fx);
		if (!ctp_kmsg_sniff(&fx.ctx, r->line, r->len))
			fail_msg("row %zu not sniffed: %s", i, r->line);
		rc = ctp_kmsg_line(&fx.ctx, r->line, r->len);
		if (rc != r->rc)
			fail_msg("row %zu: rc %d, want %d (%s)", i, rc, r->rc,
				 fx.err.msg);
		assert_true(ctp_snapshot_input(fx.snap, fx.in)->formats &
			    CTP_FMT_KMSG);
		n = ctp_snapshot_kevent_count(fx.snap);
		if (!r->kind) {
			if (n)
				fail_msg("row %zu: an event, want none", i);
			fx_close(&fx);
			continue;
		}
		if (n != 1)
			fail_msg("row %zu: %zu events, want 1", i, n);
		{
			const ctp_kevent *e = ctp_snapshot_kevents(fx.snap);
			if (e->kind != r->kind || e->flags != r->flags)
				fail_msg("row %zu: kind %d flags %#x, want %d "
					 "%#x",
					 i, e->kind, e->flags, r->kind,
					 r->flags);
			if (r->boot_us != NONE)
				assert_int_equal(e->boot_us, r->boot_us);
			if (r->wall_us != NONE)
				assert_int_equal(e->wall_us, r->wall_us);
			assert_int_equal(e->netns, r->netns);
			assert_int_equal(e->value, r->value);
			assert_int_equal(e->value2, r->value2);
			assert_int_equal(e->repeat, r->repeat);
			assert_int_equal(e->input, fx.in);
			assert_int_equal(e->line, 1);
		}
		fx_close(&fx);
	}
}

typedef struct bad_row {
	const char *line;
	size_t len;
	const char *msg; /* the error, exactly */
	size_t col;      /* 1-based, as printed */
} bad_row;

static const bad_row bad[] = {
	{ L("[ 1437.044241] nf_conntrack: nf_conntrack: table full in netns "
	    "99999999999, dropping packet"),
	  "cannot parse '99999999999' in a conntrack message: number out of "
	  "range",
	  64 },
	{ L("[ 1437.044241] net_ratelimit: many callbacks suppressed"),
	  "cannot parse 'many' in a conntrack message: expected a number",
	  31 },
	{ L("[ 1437.044241] nf_conntrack: nf_conntrack: table full in netns "
	    "40265"),
	  "conntrack message cut short: 'nf_conntrack: nf_conntrack: table "
	  "full in netns 40265'",
	  69 },
	{ L("Nov 26 19:34:13 host kernel: nf_conntrack: nf_conntrack: table "
	    "full, dro"),
	  "conntrack message cut short: 'nf_conntrack: nf_conntrack: table "
	  "full, dro'",
	  73 },
	{ L("[ 1437.044241] nf_conntrack: nf_conn\0ack: table full"),
	  "NUL byte in a conntrack message", 37 },
	{ L("[ 1.0] net_ratelimit: "),
	  "conntrack message cut short: 'net_ratelimit: '", 23 },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const bad_row *r = &bad[i];
		fixture fx;
		int rc;

		fx_open(&fx);
		assert_true(ctp_kmsg_sniff(&fx.ctx, r->line, r->len));
		rc = ctp_kmsg_line(&fx.ctx, r->line, r->len);
		if (rc != CTP_EINPUT)
			fail_msg("row %zu: rc %d, want CTP_EINPUT", i, rc);
		if (strcmp(fx.err.msg, r->msg) != 0 || fx.err.col != r->col)
			fail_msg("row %zu: '%s' col %zu, want '%s' col %zu", i,
				 fx.err.msg, fx.err.col, r->msg, r->col);
		assert_int_equal(ctp_snapshot_kevent_count(fx.snap), 0);
		fx_close(&fx);
	}
}

/* Lines of other formats and broken stamps: not a kernel log's. */
static const struct {
	const char *line;
	size_t len;
} foreign[] = {
	{ L("[1700000000.123456]\t[NEW] udp      17 30 src=198.51.100.1 "
	    "dst=198.51.100.2 sport=1 dport=2 [UNREPLIED] src=198.51.100.2 "
	    "dst=198.51.100.1 sport=2 dport=1") },
	{ L("udp      17 29 src=198.51.100.1 dst=198.51.100.2 sport=1 dport=2 "
	    "[UNREPLIED] src=198.51.100.2 dst=198.51.100.1 sport=2 dport=1 "
	    "mark=0 use=1") },
	{ L("net.netfilter.nf_conntrack_max = 262144") },
	{ L("cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=350") },
	{ L("Linux host 6.18.44 #1 SMP x86_64 GNU/Linux") },
	{ L("MemTotal:       16384000 kB") },
	{ L("262144") },
	{ L("") },
	{ L("2026-02-29T00:00:00+0000 host kernel: x") },
	{ L("2026-11-26T24:00:00+0000 host kernel: x") },
	{ L("Nov 26 19:34 host kernel: x") },
	{ L("Foo 26 19:34:13 host kernel: x") },
	{ L("[ 1437.044241]x") },
	{ L("   indented, outside a log") },
};

/*
 * Issue 18: a line that holds a full-table message counts whatever
 * precedes it: a syslog line without its date or with its first
 * characters cut, dmesg -H relative stamps, vendor prefixes, a broken
 * stamp.  Counted without a time.
 */
static const struct {
	const char *line;
	size_t len;
	int kind;
} any_prefix[] = {
	{ L("nf_conntrack: nf_conntrack: table full, dropping packet"),
	  CTP_KEV_TABLE_FULL },
	{ L("6 19:34:13 host kernel: nf_conntrack: nf_conntrack: table full, "
	    "dropping packet"),
	  CTP_KEV_TABLE_FULL },
	{ L("ost kernel: [ 1437.044241] nf_conntrack: nf_conntrack: table "
	    "full, dropping packet"),
	  CTP_KEV_TABLE_FULL },
	{ L("[  +0.000004] nf_conntrack: nf_conntrack: table full, dropping "
	    "packet"),
	  CTP_KEV_TABLE_FULL },
	{ L("<4>fw-agent[12]: kern.warn: ip_conntrack: table full, dropping "
	    "packet."),
	  CTP_KEV_TABLE_FULL },
	{ L("[Thu Nov 31 19:34:13 2026] nf_conntrack: expectation table "
	    "full"),
	  CTP_KEV_EXPECT_FULL },
	{ L("[ 1437] nf_conntrack: expectation table full"),
	  CTP_KEV_EXPECT_FULL },
};

static void test_any_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(any_prefix) / sizeof(any_prefix[0]);
	     i++) {
		fixture fx;
		const ctp_kevent *e;
		int rc;

		fx_open(&fx);
		if (!ctp_kmsg_sniff(&fx.ctx, any_prefix[i].line,
				    any_prefix[i].len))
			fail_msg("row %zu not sniffed", i);
		rc = ctp_kmsg_line(&fx.ctx, any_prefix[i].line,
				   any_prefix[i].len);
		if (rc != CTP_LINE_RECORD)
			fail_msg("row %zu: rc %d (%s)", i, rc, fx.err.msg);
		assert_int_equal(ctp_snapshot_kevent_count(fx.snap), 1);
		e = ctp_snapshot_kevents(fx.snap);
		assert_int_equal(e->kind, any_prefix[i].kind);
		assert_int_equal(e->flags & (CTP_KEV_F_BOOT | CTP_KEV_F_WALL),
				 0);
		fx_close(&fx);
	}
}

static void test_foreign(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		fixture fx;
		fx_open(&fx);
		if (ctp_kmsg_sniff(&fx.ctx, foreign[i].line, foreign[i].len))
			fail_msg("row %zu sniffed: %s", i, foreign[i].line);
		fx_close(&fx);
	}
}

/* Inside a log: dmesg's indented continuation lines are the log's. */
static void test_continuation(void **state)
{
	fixture fx;

	(void)state;
	fx_open(&fx);
	fx.ctx.cur = CTP_FMT_KMSG;
	assert_true(ctp_kmsg_sniff(&fx.ctx, L("               continued")));
	assert_int_equal(ctp_kmsg_line(&fx.ctx, L("               continued")),
			 CTP_LINE_OTHER);
	assert_int_equal(ctp_snapshot_kevent_count(fx.snap), 0);
	fx_close(&fx);
}

/* A date without a year wraps at new year: one more year, 2 s later. */
static void test_new_year(void **state)
{
	fixture fx;
	const ctp_kevent *e;

	(void)state;
	fx_open(&fx);
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Dec 31 23:59:59 " H_TF)),
			 CTP_LINE_RECORD);
	fx.ctx.line++;
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Jan  1 00:00:01 " H_TF)),
			 CTP_LINE_RECORD);
	e = ctp_snapshot_kevents(fx.snap);
	assert_int_equal(e[1].wall_us - e[0].wall_us, 2 * US);
	fx_close(&fx);
}

/* sysklogd's "last message repeated N times" repeats the line before. */
static void test_last_repeated(void **state)
{
	fixture fx;
	const ctp_kevent *e;

	(void)state;
	fx_open(&fx);
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Nov 26 19:34:13 " H_TF)),
			 CTP_LINE_RECORD);
	fx.ctx.line++;
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Nov 26 19:34:43 h last message "
					 "repeated 7 times")),
			 CTP_LINE_RECORD);
	fx.ctx.line++;
	/* sysklogd repeats the count line for the same message */
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Nov 26 19:35:13 h last message "
					 "repeated 3 times")),
			 CTP_LINE_RECORD);
	fx.ctx.line++;
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Nov 26 19:35:20 h sshd[9]: x")),
			 CTP_LINE_OTHER);
	fx.ctx.line++;
	/* after another program's line: that one was repeated */
	assert_int_equal(ctp_kmsg_line(&fx.ctx,
				       L("Nov 26 19:35:43 h last message "
					 "repeated 2 times")),
			 CTP_LINE_OTHER);
	assert_int_equal(ctp_snapshot_kevent_count(fx.snap), 3);
	e = ctp_snapshot_kevents(fx.snap);
	assert_int_equal(e[1].kind, CTP_KEV_TABLE_FULL);
	assert_int_equal(e[1].repeat, 7);
	assert_int_equal(e[1].line, 2);
	assert_int_equal(e[1].wall_us - e[0].wall_us, 30 * US);
	fx_close(&fx);
}

/* ---- whole files: the lab samples ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* lines of buf holding needle */
static size_t count_lines(const char *buf, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		for (const char *q = p; q + nl <= e; q++)
			if (memcmp(q, needle, nl) == 0) {
				n++;
				break;
			}
		p = e + 1;
	}
	return n;
}

static const char *const sample_files[] = {
	"dmesg", "dmesg_-T", "dmesg_--time-format_iso", "dmesg_-x",
	"journalctl_-k_-o_short", "journalctl_-k_-o_short-precise",
	"journalctl_-k_-o_short-iso", "journalctl_-k_-o_short-iso-precise",
	"journalctl_-k_-o_short-monotonic",
};

static void test_samples(void **state)
{
	static const char *const dirs[] = { "before-flush", "after-flush" };
	size_t seen = 0;

	(void)state;
	for (size_t d = 0; d < 2; d++)
		for (size_t f = 0; f < sizeof(sample_files) /
					       sizeof(sample_files[0]);
		     f++) {
			char path[512];
			size_t len, full, sup, nev, nfull = 0, nsup = 0;
			char *buf;
			ctp_snapshot *snap;
			ctp_error err = CTP_ERROR_INIT;
			const ctp_input_info *in;
			const ctp_kevent *e;

			snprintf(path, sizeof(path),
				 SAMPLES "/%s/%s",
				 dirs[d], sample_files[f]);
			if (!(buf = slurp(path, &len)))
				continue;
			seen++;
			assert_int_equal(ctp_snapshot_new(&snap), 0);
			assert_int_equal(ctp_parse_buffer(snap, path, buf, len,
							  NULL, &err),
					 0);
			in = ctp_snapshot_input(snap, 0);
			if (in->rejected ||
			    in->lines != in->records + in->other)
				fail_msg("%s: lines %llu records %llu other "
					 "%llu rejected %llu",
					 path, (unsigned long long)in->lines,
					 (unsigned long long)in->records,
					 (unsigned long long)in->other,
					 (unsigned long long)in->rejected);
			assert_int_equal(in->formats, CTP_FMT_KMSG);
			full = count_lines(buf, len, "table full in netns");
			sup = count_lines(buf, len, "callbacks suppressed");
			assert_true(full > 10);
			nev = ctp_snapshot_kevent_count(snap);
			e = ctp_snapshot_kevents(snap);
			for (size_t i = 0; i < nev; i++) {
				nfull += e[i].kind == CTP_KEV_TABLE_FULL;
				nsup += e[i].kind == CTP_KEV_SUPPRESSED;
				if (e[i].kind == CTP_KEV_TABLE_FULL)
					assert_int_equal(e[i].netns,
							 LAB_NETNS);
			}
			assert_int_equal(nfull, full);
			assert_int_equal(nsup, sup);
			assert_int_equal(in->records, full + sup);
			ctp_snapshot_free(snap);
			free(buf);
		}
	assert_true(seen >= 8);
}

/* The other formats' samples: no line of theirs is a kernel log's. */
static void test_no_steal(void **state)
{
	ctp_snapshot *snap;
	ctp_error err = CTP_ERROR_INIT;
	ctp_parse_opts o = CTP_PARSE_OPTS_INIT;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_parse_path(snap,
					CTPLAN_SOURCE_DIR "/samples/lab-6.18",
					&o, &err),
			 0);
	for (size_t i = 0; i < ctp_snapshot_input_count(snap); i++)
		if (ctp_snapshot_input(snap, i)->formats & CTP_FMT_KMSG)
			fail_msg("%s read as a kernel log",
				 ctp_snapshot_input(snap, i)->path);
	assert_int_equal(ctp_snapshot_kevent_count(snap), 0);
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_any_prefix),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_new_year),
		cmocka_unit_test(test_last_repeated),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_no_steal),
	};

	return cmocka_run_group_tests_name("kmsg", tests, NULL, NULL);
}
