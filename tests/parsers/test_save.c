/*
 * conntrack -L -o save line parser.  The accepted lines are real output
 * of conntrack 1.4.7 on kernel 6.18: from samples/lab-6.18
 * (tests/lab/capture.sh), or made in a throw-away network namespace with
 * "conntrack -I" (sctp vtags, gre keys, udplite, dccp on a kernel
 * without dccp tracking, -E -o save events), plus the line quoted in
 * shared/reference/formats-and-bundles.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/snapshot.h"
#include "parsers.h"
#include "fixture.h"


static int parse(fixture *f, const char *line)
{
	return ctp_save_line(&f->ctx, line, strlen(line));
}

static void addr_is(const ctp_flow *fl, const uint8_t a[16], const char *want)
{
	char buf[64];

	ctp_addr_format(fl->family, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

#define ICMP(t, c) CTP_ICMP_DPORT(t, c)

/* one row per accepted line: what the flow must hold */
static const struct ok_row {
	const char *line;
	uint8_t family, proto;
	const char *state;
	int timeout; /* -1: none printed */
	const char *osrc, *odst, *rsrc, *rdst;
	uint16_t sport, dport, rsport, rdport;
	uint16_t flags;   /* flags that must be set */
	uint16_t noflags; /* flags that must not be set */
	uint16_t zone;
	uint8_t event;
} ok_rows[] = {
	/* formats-and-bundles.md: DNAT (-g) to a pod */
	{ "-A -t 431996 -u SEEN_REPLY,ASSURED -s 71.34.64.4 -d 172.31.26.253 "
	  "-g 10.88.0.18 -q 71.34.64.4 -p tcp --sport 47202 --dport 8080 "
	  "--reply-port-src 80 --reply-port-dst 47202 --state ESTABLISHED",
	  CTP_AF_INET, 6, "ESTABLISHED", 431996, "71.34.64.4",
	  "172.31.26.253", "10.88.0.18", "71.34.64.4", 47202, 8080, 80, 47202,
	  CTP_F_ASSURED | CTP_F_SEEN_REPLY | CTP_F_HAS_TIMEOUT,
	  CTP_F_UNREPLIED | CTP_F_HAS_MARK | CTP_F_HAS_USE | CTP_F_EVENT |
		  CTP_F_NO_ICMP,
	  0, 0 },
	/* lab: MASQUERADE (-n) with the source port rewritten */
	{ "-A -t 431996 -u SEEN_REPLY,ASSURED -s 198.18.0.3 -d 203.0.113.2 "
	  "-r 203.0.113.2 -n 203.0.113.1 -p tcp --sport 29999 --dport 80 "
	  "--reply-port-src 80 --reply-port-dst 29656 --state ESTABLISHED",
	  CTP_AF_INET, 6, "ESTABLISHED", 431996, "198.18.0.3", "203.0.113.2",
	  "203.0.113.2", "203.0.113.1", 29999, 80, 80, 29656,
	  CTP_F_ASSURED | CTP_F_SEEN_REPLY, CTP_F_UNREPLIED, 0, 0 },
	/* lab: icmpv6 echo; the reply type is the echo reply, 129 */
	{ "-A -t 26 -u SEEN_REPLY -s 2001:db8:1::2 -d 2001:db8:2::2 "
	  "-r 2001:db8:2::2 -n 2001:db8:2::1 -p icmpv6 --icmpv6-type 128 "
	  "--icmpv6-code 0 --icmpv6-id 102",
	  CTP_AF_INET6, 58, "", 26, "2001:db8:1::2", "2001:db8:2::2",
	  "2001:db8:2::2", "2001:db8:2::1", 102, ICMP(128, 0), 102,
	  ICMP(129, 0), CTP_F_SEEN_REPLY,
	  CTP_F_UNREPLIED | CTP_F_ASSURED | CTP_F_NO_ICMP, 0, 0 },
	/* lab: icmp in zone 7 */
	{ "-A -t 26 -u SEEN_REPLY -w 7 -s 198.18.0.4 -d 198.18.0.1 "
	  "-r 198.18.0.1 -q 198.18.0.4 -p icmp --icmp-type 8 --icmp-code 0 "
	  "--icmp-id 301",
	  CTP_AF_INET, 1, "", 26, "198.18.0.4", "198.18.0.1", "198.18.0.1",
	  "198.18.0.4", 301, ICMP(8, 0), 301, ICMP(0, 0),
	  CTP_F_HAS_ZONE | CTP_F_SEEN_REPLY, 0, 7, 0 },
	/* lab: udp never answered */
	{ "-A -t 29 -u UNSET -s 2001:db8:1::3 -d 2001:db8:3::10 "
	  "-r 2001:db8:3::10 -n 2001:db8:2::1 -p udp --sport 45540 "
	  "--dport 514 --reply-port-src 514 --reply-port-dst 45540",
	  CTP_AF_INET6, 17, "", 29, "2001:db8:1::3", "2001:db8:3::10",
	  "2001:db8:3::10", "2001:db8:2::1", 45540, 514, 514, 45540,
	  CTP_F_UNREPLIED, CTP_F_SEEN_REPLY | CTP_F_ASSURED, 0, 0 },
	/* lab: IGMP, a protocol conntrack-tools has no extension for */
	{ "-A -t 596 -u UNSET -s 198.18.0.1 -d 224.0.0.22 -r 224.0.0.22 "
	  "-q 198.18.0.1 -p 2",
	  CTP_AF_INET, 2, "", 596, "198.18.0.1", "224.0.0.22", "224.0.0.22",
	  "198.18.0.1", 0, 0, 0, 0, CTP_F_UNREPLIED, 0, 0, 0 },
	/* netns: sctp with verification tags */
	{ "-A -t 29 -u UNSET -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 "
	  "-q 10.0.0.1 -p sctp --sport 5 --dport 6 --reply-port-src 6 "
	  "--reply-port-dst 5 --state SHUTDOWN_ACK_SENT --orig-vtag 1234 "
	  "--reply-vtag 5678",
	  CTP_AF_INET, 132, "SHUTDOWN_ACK_SENT", 29, "10.0.0.1", "10.0.0.2",
	  "10.0.0.2", "10.0.0.1", 5, 6, 6, 5, CTP_F_UNREPLIED, 0, 0, 0 },
	/* sctp HEARTBEAT_* has no name in conntrack-tools: "(null)" */
	{ "-A -t 29 -u SEEN_REPLY,ASSURED -s 10.0.0.1 -d 10.0.0.2 "
	  "-r 10.0.0.2 -q 10.0.0.1 -p sctp --sport 5 --dport 6 "
	  "--reply-port-src 6 --reply-port-dst 5 --state (null) "
	  "--orig-vtag 1 --reply-vtag 2",
	  CTP_AF_INET, 132, "", 29, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 5, 6, 6, 5, CTP_F_ASSURED, CTP_F_UNREPLIED, 0, 0 },
	/* netns: gre keys print in decimal here */
	{ "-A -t 29 -u UNSET -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 -q 10.0.0.1 "
	  "-p gre --srckey 17 --dstkey 34 --reply-key-src 34 "
	  "--reply-key-dst 17",
	  CTP_AF_INET, 47, "", 29, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 17, 34, 34, 17, CTP_F_UNREPLIED, 0, 0, 0 },
	/* netns: kernel 6.18 has no dccp tracker, so no ports at all */
	{ "-A -t 29 -u UNSET -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 "
	  "-q 10.0.0.1 -p dccp",
	  CTP_AF_INET, 33, "", 29, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 0, 0, 0, 0, CTP_F_UNREPLIED, 0, 0, 0 },
	/* netns: status in bit order, FIXED_TIMEOUT has no flag */
	{ "-A -t 29 -u SEEN_REPLY,ASSURED,FIXED_TIMEOUT -s 10.0.0.1 "
	  "-d 10.0.0.2 -r 10.0.0.2 -q 10.0.0.1 -p udplite --sport 5 "
	  "--dport 6 --reply-port-src 6 --reply-port-dst 5",
	  CTP_AF_INET, 136, "", 29, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 5, 6, 6, 5, CTP_F_ASSURED | CTP_F_SEEN_REPLY,
	  CTP_F_UNREPLIED, 0, 0 },
	/* netns: DNAT made with --dst-nat */
	{ "-A -t 99 -u UNSET -s 10.0.0.1 -d 10.0.0.2 -g 10.9.9.9 -q 10.0.0.1 "
	  "-p tcp --sport 1001 --dport 80 --reply-port-src 81 "
	  "--reply-port-dst 1001 --state TIME_WAIT",
	  CTP_AF_INET, 6, "TIME_WAIT", 99, "10.0.0.1", "10.0.0.2", "10.9.9.9",
	  "10.0.0.1", 1001, 80, 81, 1001, CTP_F_UNREPLIED, 0, 0, 0 },
	/* netns: -E -o save destroy event, no timeout */
	{ "-D -u UNSET -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 -q 10.0.0.1 -p tcp "
	  "--sport 8 --dport 6 --reply-port-src 6 --reply-port-dst 8 "
	  "--state ESTABLISHED",
	  CTP_AF_INET, 6, "ESTABLISHED", -1, "10.0.0.1", "10.0.0.2",
	  "10.0.0.2", "10.0.0.1", 8, 6, 6, 8, CTP_F_EVENT | CTP_F_UNREPLIED,
	  CTP_F_HAS_TIMEOUT, 0, 3 },
	/* -U event; a save line without -u says nothing on replies */
	{ "-U -t 120 -s 1.1.1.1 -d 2.2.2.2 -r 2.2.2.2 -q 1.1.1.1 -p tcp "
	  "--sport 10 --dport 20 --reply-port-src 20 --reply-port-dst 10 "
	  "--state SYN_SENT2",
	  CTP_AF_INET, 6, "SYN_SENT2", 120, "1.1.1.1", "2.2.2.2", "2.2.2.2",
	  "1.1.1.1", 10, 20, 20, 10, CTP_F_EVENT,
	  CTP_F_UNREPLIED | CTP_F_SEEN_REPLY, 0, 2 },
	/* conntrack -R input written by hand: reply tuple left out is the
	 * original inverted (conntrack-tools tests 09dumpopt) */
	{ "-A -w 10 -s 2001:DB8::1.1.1.1 -d 2001:DB8::2.2.2.2 -p tcp "
	  "--sport 10 --dport 20 --state LISTEN -u SEEN_REPLY -t 50",
	  CTP_AF_INET6, 6, "SYN_SENT2", 50, "2001:db8::101:101",
	  "2001:db8::202:202", "2001:db8::202:202", "2001:db8::101:101", 10,
	  20, 20, 10, CTP_F_SEEN_REPLY | CTP_F_HAS_ZONE, 0, 10, 0 },
	/* ... and an original tuple left out is the reply inverted */
	{ "-A -w 10 -r 2.2.2.2 -q 1.1.1.1 -p tcp --reply-port-src 11 "
	  "--reply-port-dst 21 --state LISTEN -u SEEN_REPLY -t 50",
	  CTP_AF_INET, 6, "SYN_SENT2", 50, "1.1.1.1", "2.2.2.2", "2.2.2.2",
	  "1.1.1.1", 21, 11, 11, 21, CTP_F_SEEN_REPLY, 0, 10, 0 },
};

static void test_ok_rows(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		const struct ok_row *r = &ok_rows[i];
		const ctp_flow *fl;

		if (!ctp_save_sniff(&f->ctx, r->line, strlen(r->line)))
			fail_msg("row %zu not sniffed", i);
		if (parse(f, r->line) != CTP_LINE_RECORD)
			fail_msg("row %zu rejected: %s (column %zu)", i,
				 f->err.msg, f->err.col);
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
		addr_is(fl, fl->orig.src, r->osrc);
		addr_is(fl, fl->orig.dst, r->odst);
		addr_is(fl, fl->reply.src, r->rsrc);
		addr_is(fl, fl->reply.dst, r->rdst);
		assert_int_equal(fl->orig.sport, r->sport);
		assert_int_equal(fl->orig.dport, r->dport);
		assert_int_equal(fl->reply.sport, r->rsport);
		assert_int_equal(fl->reply.dport, r->rdport);
		if ((fl->flags & r->flags) != r->flags ||
		    (fl->flags & r->noflags))
			fail_msg("row %zu: flags %#x", i, fl->flags);
		assert_int_equal(fl->zone, r->zone);
		assert_int_equal(fl->event, r->event);
		assert_int_equal(fl->input, f->ctx.input);
	}
	assert_int_equal(ctp_snapshot_flow_count(f->snap),
			 sizeof(ok_rows) / sizeof(ok_rows[0]));
}

static void test_extra_fields(void **state)
{
	fixture *f = *state;
	const ctp_flow *fl;
	const ctp_flow_extra *x;

	/* every generic option, vtags, and a dccp role */
	assert_int_equal(
		parse(f, "-A -t 30 -u SEEN_REPLY -c 9 -w 3 --orig-zone 4 "
			 "--reply-zone 5 -s 10.0.0.1 -d 10.0.0.2 -r 10.0.0.2 "
			 "-q 10.0.0.1 -p dccp --sport 5 --dport 6 "
			 "--reply-port-src 6 --reply-port-dst 5 --state OPEN "
			 "--role client"),
		CTP_LINE_RECORD);
	fl = fx_last(f);
	x = ctp_snapshot_extra(f->snap, fl);
	assert_non_null(x);
	assert_string_equal(ctp_state_name(fl->state), "OPEN");
	assert_int_equal(fl->state, CTP_DCCP_OPEN);
	assert_int_equal(fl->zone, 3);
	assert_int_equal(x->zone_orig, 4);
	assert_int_equal(x->zone_reply, 5);
	assert_int_equal(x->secmark, 9);
	assert_int_equal(x->present, CTP_X_ZONE_ORIG | CTP_X_ZONE_REPLY |
					     CTP_X_SECMARK | CTP_X_OTHER);
	assert_string_equal(ctp_snapshot_str(f->snap, x->other),
			    "--role client");

	assert_int_equal(
		parse(f, "-A -t 29 -u UNSET -s 10.0.0.1 -d 10.0.0.2 "
			 "-r 10.0.0.2 -q 10.0.0.1 -p sctp --sport 5 "
			 "--dport 6 --reply-port-src 6 --reply-port-dst 5 "
			 "--state ESTABLISHED --orig-vtag 4294967295 "
			 "--reply-vtag 5678"),
		CTP_LINE_RECORD);
	fl = fx_last(f);
	x = ctp_snapshot_extra(f->snap, fl);
	assert_non_null(x);
	assert_int_equal(fl->state, CTP_SCTP_ESTABLISHED);
	assert_int_equal(x->present, CTP_X_VTAG);
	assert_int_equal(x->vtag[0], 4294967295u);
	assert_int_equal(x->vtag[1], 5678);

	/* a flow with nothing extra gets no extra record */
	assert_int_equal(
		parse(f, "-A -t 26 -u SEEN_REPLY -s 198.18.0.2 "
			 "-d 203.0.113.2 -r 203.0.113.2 -n 203.0.113.1 -p udp "
			 "--sport 38568 --dport 123 --reply-port-src 123 "
			 "--reply-port-dst 38568"),
		CTP_LINE_RECORD);
	assert_null(ctp_snapshot_extra(f->snap, fx_last(f)));

	/* OFFLOAD is accepted by conntrack -u, though never printed */
	assert_int_equal(
		parse(f, "-A -u SEEN_REPLY,ASSURED,OFFLOAD -s 1.1.1.1 "
			 "-d 2.2.2.2 -p udp --sport 1 --dport 2"),
		CTP_LINE_RECORD);
	assert_int_equal(fx_last(f)->flags,
			 CTP_F_SEEN_REPLY | CTP_F_ASSURED | CTP_F_OFFLOAD);
}

/* one row per rejected line: the message and its 1-based column */
static const struct bad_row {
	const char *line;
	const char *msg;
	size_t col;
} bad_rows[] = {
	/* truncated lines (a tail-cut file) */
	{ "-A -t 431996 -u SEEN_REPLY,ASSURED -s 198.18.0.3 -d 203.0.113.2 "
	  "-r 203.0.113.2 -n 203.0.113.1 -p tcp --sport 29999",
	  "missing '--dport'", 115 },
	{ "-A -t 431996 -u SEEN_REPLY,ASSURED -s 198.18.0.3 -d 203.0.113.2 "
	  "-r 203.0.113.2 -n 203.0.113.1 -p tcp --sport",
	  "missing value after '--sport'", 109 },
	{ "-A -t 431996 -u SEEN_REPLY,ASSURED -s 198.18.0.3 -d 203.0.113.2 "
	  "-r 203.0.113.2 -n 203.0.113.1",
	  "missing '-p'", 94 },
	{ "-A -t 431996 -u SEEN_REPLY,ASSURED -s 198.18.0.3",
	  "missing '-p'", 49 },
	{ "-A -t 26 -u SEEN_REPLY -s 198.18.0.4 -d 198.18.0.1 -p icmp "
	  "--icmp-type 8 --icmp-code 0",
	  "missing '--icmp-id'", 87 },
	{ "-A -t 26 -s 198.18.0.4 -p udp --sport 1 --dport 2",
	  "missing '-d'", 50 },
	/* the stderr summary in the middle of a line, unspliced */
	{ "-A -t 431995 -u SEEN_REPLY,ASSURED -s 198.18.0.2 -d 203.0.113.2 "
	  "-r 203.0.113.2 -n 203.0.113.1 -p tcp --sport 2999conntrack "
	  "v1.4.7 (conntrack-tools): 35 flow entries have been shown.",
	  "cannot parse '--sport 2999conntrack': expected a number", 110 },
	/* unknown protocol name */
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p tcpx --sport 1 --dport 2",
	  "unknown protocol 'tcpx'", 34 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p 256",
	  "cannot parse '-p 256': number out of range", 34 },
	/* address garbage */
	{ "-A -t 5 -s 1.1.1.999 -d 2.2.2.2 -p udp --sport 1 --dport 2",
	  "cannot parse '-s 1.1.1.999': expected an IPv4 or IPv6 address",
	  12 },
	{ "-A -t 5 -s 1.1.1.1 -d 2001:db8::1 -p udp --sport 1 --dport 2",
	  "cannot parse '-d 2001:db8::1': address family differs from the "
	  "rest of the line",
	  23 },
	/* numbers out of range or not numbers */
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p udp --sport 70000 --dport 2",
	  "cannot parse '--sport 70000': number out of range", 46 },
	{ "-A -t 4294967296 -s 1.1.1.1 -d 2.2.2.2 -p udp --sport 1 --dport 2",
	  "cannot parse '-t 4294967296': number out of range", 7 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p icmp --icmp-type 256 "
	  "--icmp-code 0 --icmp-id 1",
	  "cannot parse '--icmp-type 256': number out of range", 51 },
	{ "-A -t 5 -w -1 -s 1.1.1.1 -d 2.2.2.2 -p udp --sport 1 --dport 2",
	  "cannot parse '-w -1': expected a number", 12 },
	/* options */
	{ "-A -t 5 -m 7 -s 1.1.1.1 -d 2.2.2.2 -p udp --sport 1 --dport 2",
	  "unknown option '-m'", 9 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -s 1.1.1.1 -p udp",
	  "option '-s' repeats '-s'", 31 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -g 3.3.3.3 -r 3.3.3.3 -p udp",
	  "option '-r' repeats '-g'", 42 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p udp --sport 1 --dport 2 "
	  "--state ESTABLISHED",
	  "option '--state' does not apply to protocol 'udp'", 58 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p icmp --sport 1 --dport 2",
	  "option '--sport' does not apply to protocol 'icmp'", 39 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p tcp --sport 1 --dport 2 "
	  "--state OPEN",
	  "unknown state 'OPEN' for protocol 'tcp'", 66 },
	{ "-A -t 5 -u SEEN_REPLY,BOGUS -s 1.1.1.1 -d 2.2.2.2 -p udp",
	  "unknown status 'BOGUS'", 23 },
	{ "-A -t 5 -u SEEN_REPLY, -s 1.1.1.1 -d 2.2.2.2 -p udp",
	  "cannot parse '-u SEEN_REPLY,': empty status name", 12 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p dccp --role boss",
	  "unknown dccp role 'boss'", 46 },
	{ "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 1.2.3.4 -p udp",
	  "expected an option, not '1.2.3.4'", 31 },
	/* not a save line */
	{ "-X -t 5", "expected '-A', '-U' or '-D'", 1 },
	{ "", "expected '-A', '-U' or '-D'", 1 },
};

static void test_bad_rows(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		size_t before = ctp_snapshot_flow_count(f->snap);
		int rc = parse(f, bad_rows[i].line);
		if (rc != CTP_EINPUT)
			fail_msg("row %zu accepted", i);
		if (strcmp(f->err.msg, bad_rows[i].msg) != 0)
			fail_msg("row %zu: '%s', want '%s'", i, f->err.msg,
				 bad_rows[i].msg);
		if (f->err.col != bad_rows[i].col)
			fail_msg("row %zu: column %zu, want %zu", i,
				 f->err.col, bad_rows[i].col);
		assert_int_equal(ctp_snapshot_flow_count(f->snap), before);
	}
}

/*
 * A cut of a good line is read within its bytes.  It is rejected until
 * the tuple is whole; after that a cut inside a number still reads as
 * a smaller number, which no parser can tell from a real one.
 */
static void test_every_truncation(void **state)
{
	fixture *f = *state;
	static const char line[] =
		"-A -t 431996 -u SEEN_REPLY,ASSURED -s 198.18.0.3 "
		"-d 203.0.113.2 -r 203.0.113.2 -n 203.0.113.1 -p tcp "
		"--sport 29999 --dport 80 --reply-port-src 80 "
		"--reply-port-dst 29656 --state ESTABLISHED";
	size_t n = sizeof(line) - 1, accepted = 0;
	/* the first byte of --dport's value */
	size_t whole = (size_t)(strstr(line, "--dport ") - line) + 9;

	for (size_t cut = 0; cut < n; cut++) {
		char *copy = malloc(cut ? cut : 1);
		int rc;
		assert_non_null(copy);
		memcpy(copy, line, cut);
		rc = ctp_save_line(&f->ctx, copy, cut);
		free(copy);
		if (rc == CTP_LINE_RECORD) {
			if (cut < whole)
				fail_msg("cut at %zu accepted", cut);
			accepted++;
		} else {
			assert_int_equal(rc, CTP_EINPUT);
			assert_true(f->err.col >= 1 && f->err.col <= cut + 1);
		}
	}
	assert_true(accepted > 0);
	assert_int_equal(ctp_snapshot_flow_count(f->snap), accepted);
}

static void test_nul_byte(void **state)
{
	fixture *f = *state;
	static const char line[] = "-A -t 5 -s 1.1.1.1 -d 2.2.2.2 -p udp "
				   "--sport 1\0 --dport 2";

	assert_int_equal(ctp_save_line(&f->ctx, line, sizeof(line) - 1),
			 CTP_EINPUT);
	assert_string_equal(f->err.msg, "unexpected NUL byte");
	assert_int_equal(f->err.col, 47);
}

static void test_sniff(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *line;
		int want;
	} rows[] = {
		{ "-A -t 26 -u SEEN_REPLY -s 1.2.3.4 -d 1.2.3.5 -p udp", 1 },
		{ "-D -u UNSET -s 10.0.0.1 -d 10.0.0.2 -p tcp", 1 },
		{ "-U -t 5 -r 2.2.2.2 -q 1.1.1.1 -p tcp", 1 },
		{ "-A -t 5", 0 },
		{ "-I -s 1.2.3.4 -p tcp", 0 },
		{ "-A-s 1.2.3.4 -p tcp", 0 },
		{ "tcp      6 431999 ESTABLISHED src=1.2.3.4", 0 },
		{ "<flow>", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ctp_save_sniff(&f->ctx, rows[i].line,
				   strlen(rows[i].line)) != rows[i].want)
			fail_msg("sniff row %zu", i);
}

/*
 * Every entry of a lab capture parses; one flow per "-A" line.  The
 * capture ran with 2>&1, and conntrack's stderr summary landed in the
 * middle of a line: splicing it out is input.c's work, done here by hand.
 */
static void check_sample(fixture *f, const char *rel)
{
	static const char tag[] = "conntrack v";
	char path[4096], line[8192];
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, want = 0, held = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", CTPLAN_SOURCE_DIR, rel);
	fp = fopen(path, "r");
	if (!fp) {
		print_message("no %s, sample check skipped\n", path);
		return;
	}
	f->ctx.line = 0;
	while ((n = getline(&buf, &cap, fp)) > 0) {
		char *sum;
		f->ctx.line++;
		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (!held && n >= 3 && memcmp(buf, "-A ", 3) == 0)
			want++;
		sum = strstr(buf, tag);
		if (sum && strstr(sum, "flow entries have been shown.")) {
			/* keep the part before it for the next line */
			memcpy(line + held, buf, (size_t)(sum - buf));
			held += (size_t)(sum - buf);
			continue;
		}
		assert_true(held + (size_t)n < sizeof(line));
		memcpy(line + held, buf, (size_t)n);
		n += (ssize_t)held;
		held = 0;
		if (!ctp_save_sniff(&f->ctx, line, (size_t)n))
			fail_msg("%s:%zu: not sniffed as save", rel,
				 f->ctx.line);
		if (ctp_save_line(&f->ctx, line, (size_t)n) != CTP_LINE_RECORD)
			fail_msg("%s:%zu:%zu: %s", rel, f->ctx.line,
				 f->err.col, f->err.msg);
	}
	free(buf);
	fclose(fp);
	assert_int_equal(held, 0);
	assert_true(want > 0);
	assert_int_equal(ctp_snapshot_flow_count(f->snap), want);
}

static void test_lab_sample(void **state)
{
	check_sample(*state, "samples/lab-6.18/conntrack_-L_-o_save");
}

static void test_lab_sample_acct(void **state)
{
	check_sample(*state, "samples/lab-6.18-acct/conntrack_-L_-o_save");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_rows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extra_fields, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sniff, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lab_sample, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_lab_sample_acct, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests_name("parsers/save", tests, NULL, NULL);
}
