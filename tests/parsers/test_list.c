/*
 * conntrack -L line parser: real lines (conntrack-tools 1.4.7 on 6.18 in
 * samples/lab-6.18, and lines quoted in public reports) and bad lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/snapshot.h"
#include "parsers.h"
#include "fixture.h"

static int parse(fixture *f, const char *line)
{
	return ctp_list_line(&f->ctx, line, strlen(line));
}

static void addr4(const uint8_t a[16], const char *want)
{
	char buf[64];

	ctp_addr_format(CTP_AF_INET, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void addr6(const uint8_t a[16], const char *want)
{
	char buf[64];

	ctp_addr_format(CTP_AF_INET6, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* one row per accepted line: what the flow must hold */
static const struct ok_row {
	const char *line;
	uint8_t family, proto;
	const char *state;
	int timeout; /* -1: none printed */
	uint16_t sport, dport, rsport, rdport;
	uint16_t flags; /* flags that must be set */
	uint16_t zone;
} ok_rows[] = {
	/* lab capture: the Docker case, 29999 rewritten to 29656 */
	{ "tcp      6 431996 ESTABLISHED src=198.18.0.3 dst=203.0.113.2 "
	  "sport=29999 dport=80 src=203.0.113.2 dst=203.0.113.1 sport=80 "
	  "dport=29656 [ASSURED] mark=0 delta-time=4 use=1",
	  CTP_AF_INET, 6, "ESTABLISHED", 431996, 29999, 80, 80, 29656,
	  CTP_F_ASSURED | CTP_F_HAS_MARK | CTP_F_HAS_USE, 0 },
	/* lab capture: icmp in zone 7 */
	{ "icmp     1 26 src=198.18.0.4 dst=198.18.0.1 type=8 code=0 id=301 "
	  "src=198.18.0.1 dst=198.18.0.4 type=0 code=0 id=301 mark=0 zone=7 "
	  "delta-time=4 use=1",
	  CTP_AF_INET, 1, "", 26, 301, CTP_ICMP_DPORT(8, 0), 301,
	  CTP_ICMP_DPORT(0, 0), CTP_F_HAS_ZONE, 7 },
	/* UNREPLIED with accounting (netfilter mailing list) */
	{ "tcp      6 115 SYN_SENT src=192.168.11.1 dst=192.168.12.1 "
	  "sport=52476 dport=7 packets=2 bytes=104 [UNREPLIED] "
	  "src=192.168.12.1 dst=192.168.11.1 sport=7 dport=52476 packets=0 "
	  "bytes=0 mark=0 secctx=system_u:object_r:unlabeled_t:s0 use=1",
	  CTP_AF_INET, 6, "SYN_SENT", 115, 52476, 7, 7, 52476,
	  CTP_F_UNREPLIED, 0 },
	/* offloaded: no timeout, no state (VyOS docs) */
	{ "tcp      6 src=198.51.100.100 dst=192.0.2.100 sport=41676 "
	  "dport=1122 src=192.0.2.100 dst=198.51.100.100 sport=1122 "
	  "dport=41676 [OFFLOAD] mark=0 use=2",
	  CTP_AF_INET, 6, "", -1, 41676, 1122, 1122, 41676, CTP_F_OFFLOAD,
	  0 },
	/* /proc form, IPv6 in full */
	{ "ipv6     10 tcp      6 86392 ESTABLISHED "
	  "src=2001:0db8:ffff:0021:0000:0000:0000:0002 "
	  "dst=2001:0db8:ffff:0022:0000:0000:0000:0001 sport=59488 "
	  "dport=10001 src=2001:0db8:ffff:0022:0000:0000:0000:0001 "
	  "dst=2001:0db8:ffff:0021:0000:0000:0000:0002 sport=10001 "
	  "dport=59488 [ASSURED] mark=0 zone=0 use=3",
	  CTP_AF_INET6, 6, "ESTABLISHED", 86392, 59488, 10001, 10001, 59488,
	  CTP_F_ASSURED, 0 },
	/* GRE keys in hex; old kernels' extra tokens kept, not rejected */
	{ "ipv4     2 gre      47 17999 timeout=600, stream_timeout=18000 "
	  "src=192.168.188.114 dst=192.0.2.4 srckey=0xa56c dstkey=0xa9a0 "
	  "src=192.0.2.4 dst=192.168.188.114 srckey=0xa9a0 dstkey=0xa56c "
	  "[ASSURED] use=3",
	  CTP_AF_INET, 47, "", 17999, 0xa56c, 0xa9a0, 0xa9a0, 0xa56c,
	  CTP_F_ASSURED, 0 },
	/* an event line with delta-time, no timeout */
	{ "[DESTROY] tcp      6 ESTABLISHED src=192.168.6.55 "
	  "dst=192.168.10.22 sport=54941 dport=22 packets=133 bytes=13033 "
	  "src=192.168.10.22 dst=192.168.6.55 sport=22 dport=54941 "
	  "packets=95 bytes=15004 [ASSURED] mark=16777216 delta-time=1036",
	  CTP_AF_INET, 6, "ESTABLISHED", -1, 54941, 22, 22, 54941,
	  CTP_F_EVENT | CTP_F_ASSURED, 0 },
	/* a protocol conntrack does not name (lab: IGMP) */
	{ "unknown  2 599 src=198.18.0.2 dst=224.0.0.22 src=224.0.0.22 "
	  "dst=198.18.0.2 mark=0 use=1",
	  CTP_AF_INET, 2, "", 599, 0, 0, 0, 0, 0, 0 },
	/* sctp state names */
	{ "sctp     132 6 CLOSED src=10.123.123.254 dst=10.123.123.101 "
	  "sport=38211 dport=10000 src=10.42.2.37 dst=10.42.2.1 sport=9999 "
	  "dport=1387 [ASSURED] mark=0 use=1",
	  CTP_AF_INET, 132, "CLOSED", 6, 38211, 10000, 9999, 1387,
	  CTP_F_ASSURED, 0 },
};

static void test_ok_rows(void **state)
{
	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		fixture *f = *state;
		const struct ok_row *r = &ok_rows[i];
		const ctp_flow *fl;

		if (parse(f, r->line) != CTP_LINE_RECORD)
			fail_msg("row %zu rejected: %s", i, f->err.msg);
		fl = fx_last(f);
		assert_int_equal(fl->family, r->family);
		assert_int_equal(fl->proto, r->proto);
		assert_string_equal(ctp_state_name(fl->state), r->state);
		if (r->timeout < 0) {
			assert_false(fl->flags & CTP_F_HAS_TIMEOUT);
		} else {
			assert_true(fl->flags & CTP_F_HAS_TIMEOUT);
			assert_int_equal(fl->timeout, r->timeout);
		}
		assert_int_equal(fl->orig.sport, r->sport);
		assert_int_equal(fl->orig.dport, r->dport);
		assert_int_equal(fl->reply.sport, r->rsport);
		assert_int_equal(fl->reply.dport, r->rdport);
		assert_int_equal(fl->flags & r->flags, r->flags);
		assert_int_equal(fl->zone, r->zone);
	}
}

static void test_fields_kept(void **state)
{
	fixture *f = *state;
	const ctp_flow *fl;
	const ctp_flow_extra *x;

	assert_int_equal(
		parse(f, "tcp      6 431998 ESTABLISHED src=10.0.2.2 "
			 "dst=10.0.2.15 sport=49911 dport=22 zone-orig=7 "
			 "packets=10 bytes=2000 src=10.0.2.15 dst=10.0.2.2 "
			 "sport=22 dport=49911 zone-reply=9 packets=8 "
			 "bytes=999 [ASSURED] mark=5 secmark=3 "
			 "secctx=system_u:object_r:unlabeled_t:s0 "
			 "delta-time=12 [start=Thu Nov 26 19:00:00 2026] "
			 "helper=ftp use=2 id=2993966208 labels=a,b "
			 "nmark=256 [FASTNAT]"),
		CTP_LINE_RECORD);
	fl = fx_last(f);
	x = ctp_snapshot_extra(f->snap, fl);
	assert_non_null(x);
	addr4(fl->orig.src, "10.0.2.2");
	addr4(fl->reply.dst, "10.0.2.2");
	assert_int_equal(fl->mark, 5);
	assert_int_equal(fl->use, 2);
	assert_int_equal(x->packets[0], 10);
	assert_int_equal(x->bytes[0], 2000);
	assert_int_equal(x->packets[1], 8);
	assert_int_equal(x->bytes[1], 999);
	assert_int_equal(x->zone_orig, 7);
	assert_int_equal(x->zone_reply, 9);
	assert_int_equal(x->secmark, 3);
	assert_int_equal(x->delta_time, 12);
	assert_int_equal(x->id, 2993966208u);
	/* 2026-11-26 19:00:00 read as UTC */
	assert_int_equal(x->start, 1795719600);
	assert_string_equal(ctp_snapshot_str(f->snap, x->helper), "ftp");
	assert_string_equal(ctp_snapshot_str(f->snap, x->labels), "a,b");
	assert_string_equal(ctp_snapshot_str(f->snap, x->secctx),
			    "system_u:object_r:unlabeled_t:s0");
	/* vendor tokens are kept, not dropped */
	assert_string_equal(ctp_snapshot_str(f->snap, x->other),
			    "nmark=256 [FASTNAT]");
}

static void test_icmp_entry_id(void **state)
{
	fixture *f = *state;
	const ctp_flow *fl;

	/* -o id on an icmp flow: the third id= is the entry's id */
	assert_int_equal(
		parse(f, "icmp     1 29 src=198.18.0.2 dst=203.0.113.2 type=8 "
			 "code=0 id=77 src=203.0.113.2 dst=203.0.113.1 "
			 "type=0 code=0 id=1024 mark=0 use=1 id=123456"),
		CTP_LINE_RECORD);
	fl = fx_last(f);
	assert_int_equal(fl->orig.sport, 77);
	assert_int_equal(fl->reply.sport, 1024);
	assert_int_equal(ctp_snapshot_extra(f->snap, fl)->id, 123456);
}

static void test_ipv6_compressed(void **state)
{
	fixture *f = *state;
	const ctp_flow *fl;

	assert_int_equal(
		parse(f, "udp      17 26 src=2001:db8:1::2 dst=2001:db8:2::2 "
			 "sport=42557 dport=53 src=2001:db8:2::2 "
			 "dst=2001:db8:2::1 sport=53 dport=42557 mark=0 use=1"),
		CTP_LINE_RECORD);
	fl = fx_last(f);
	addr6(fl->orig.src, "2001:db8:1::2");
	addr6(fl->reply.dst, "2001:db8:2::1");
}

/* one row per rejected line: the message and its 1-based column */
static const struct bad_row {
	const char *line;
	const char *msg;
	size_t col;
} bad_rows[] = {
	{ "tcp      6 431999 ESTABLISHED src=192.168.1.50 dst=192.168.1.10 "
	  "sport=52104 dport=70000 src=192.168.1.10 dst=192.168.1.50 "
	  "sport=443 dport=52104 [ASSURED] mark=0 use=1",
	  "cannot parse 'dport=70000': number out of range", 77 },
	{ "tcp      6 431999 ESTABLISHED src=192.168.1.50 dst=192.168.1.10 "
	  "sport=52104",
	  "incomplete original tuple: missing 'dport='", 76 },
	{ "tcp      6 431999 ESTABLISHED src=192.168.1.50 dst=192.168.1.10 "
	  "sport=1 dport=2",
	  "incomplete reply tuple: missing 'src='", 80 },
	{ "tcp      6 10 ESTABLISHED src=192.168.1.999 dst=192.168.1.10 "
	  "sport=1 dport=2 src=192.168.1.10 dst=192.168.1.50 sport=2 dport=1",
	  "cannot parse 'src=192.168.1.999': expected an IPv4 or IPv6 "
	  "address", 27 },
	{ "tcp      6 10 BOGUS src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 "
	  "src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1",
	  "cannot parse 'BOGUS': unknown state for this protocol", 15 },
	{ "tcp      17 10 src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 "
	  "src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1",
	  "cannot parse '17': does not match the protocol name", 10 },
	{ "udp      17 10 src=1.2.3.4 dst=2001:db8::1 sport=1 dport=2 "
	  "src=2001:db8::1 dst=1.2.3.4 sport=2 dport=1",
	  "cannot parse 'dst=2001:db8::1': address family differs from "
	  "the rest of the line", 28 },
	{ "udp      17 10 src=1.2.3.4 dst=1.2.3.5 sport=x dport=2 "
	  "src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1",
	  "cannot parse 'sport=x': expected a number", 40 },
	{ "icmp     1 29 src=1.2.3.4 dst=1.2.3.5 type=300 code=0 id=1 "
	  "src=1.2.3.5 dst=1.2.3.4 type=0 code=0 id=1",
	  "cannot parse 'type=300': number out of range", 39 },
	{ "ipv4     10 tcp      6 1 CLOSE src=1.2.3.4 dst=1.2.3.5 sport=1 "
	  "dport=2 src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1",
	  "cannot parse '10': does not match the l3 protocol name", 10 },
	{ "tcp      6 1 CLOSE src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 "
	  "src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1 src=1.1.1.1",
	  "cannot parse 'src=1.1.1.1': a third tuple", 100 },
};

static void test_bad_rows(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		size_t before = ctp_snapshot_flow_count(f->snap);
		int rc = parse(f, bad_rows[i].line);
		if (rc != CTP_EINPUT)
			fail_msg("row %zu accepted", i);
		assert_string_equal(f->err.msg, bad_rows[i].msg);
		if (f->err.col != bad_rows[i].col)
			fail_msg("row %zu: column %zu, want %zu", i,
				 f->err.col, bad_rows[i].col);
		assert_int_equal(ctp_snapshot_flow_count(f->snap), before);
	}
}

static void test_nul_byte(void **state)
{
	fixture *f = *state;
	static const char line[] =
		"tcp      6 1 CLOSE src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 "
		"src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1 use\0=1";

	assert_int_equal(ctp_list_line(&f->ctx, line, sizeof(line) - 1),
			 CTP_EINPUT);
	assert_string_equal(f->err.msg, "unexpected NUL byte");
}

static void test_sniff(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *line;
		int want;
	} rows[] = {
		{ "tcp      6 431999 ESTABLISHED src=1.2.3.4", 1 },
		{ "ipv4     2 udp      17 26 src=1.2.3.4", 1 },
		{ "    [NEW] tcp      6 120 SYN_SENT src=1.2.3.4", 1 },
		{ "unknown  2 599 src=1.2.3.4", 1 },
		{ "cp      6 431999 ESTABLISHED src=1.2.3.4", 0 },
		{ "6 431999 ESTABLISHED src=1.2.3.4", 0 },
		{ "cpu=0   \tfound=0 invalid=0", 0 },
		{ "net.netfilter.nf_conntrack_max = 262144", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ctp_list_sniff(&f->ctx, rows[i].line,
				   strlen(rows[i].line)) != rows[i].want)
			fail_msg("sniff row %zu", i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_rows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fields_kept, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_entry_id, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_compressed, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sniff, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests_name("parsers/list", tests, NULL, NULL);
}
