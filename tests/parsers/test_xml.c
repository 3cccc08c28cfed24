/*
 * conntrack -L -o xml line parser.  The accepted lines are real output of
 * conntrack 1.4.7 with libnetfilter_conntrack 1.0.9 on kernel 6.18: from
 * samples/lab-6.18 (tests/lab/capture.sh), or made in a throw-away
 * network namespace with "conntrack -I" (sctp states, labels with
 * -o xml,labels, gre, -E -o xml,timestamp events), or shortened from
 * the libnetfilter_conntrack snprintf_xml.c sample.
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
	return ctp_xml_line(&f->ctx, line, strlen(line));
}

static void addr_is(const ctp_flow *fl, const uint8_t a[16], const char *want)
{
	char buf[64];

	ctp_addr_format(fl->family, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* pieces of real lines, to keep the rows readable */
#define V4(s, d) \
	"<layer3 protonum=\"2\" protoname=\"ipv4\"><src>" s "</src><dst>" d \
	"</dst></layer3>"
#define V6(s, d) \
	"<layer3 protonum=\"10\" protoname=\"ipv6\"><src>" s "</src><dst>" d \
	"</dst></layer3>"
#define L4(num, name, inner) \
	"<layer4 protonum=\"" num "\" protoname=\"" name "\">" inner \
	"</layer4>"
#define PORTS(s, d) "<sport>" s "</sport><dport>" d "</dport>"
#define ORIG "<flow><meta direction=\"original\">"
#define REPLY "</meta><meta direction=\"reply\">"
#define IND "</meta><meta direction=\"independent\">"

/* one row per accepted line: what the flow must hold */
static const struct ok_row {
	const char *line;
	uint8_t family, proto;
	const char *state;
	int timeout; /* -1: none printed */
	const char *osrc, *odst, *rsrc, *rdst;
	uint16_t sport, dport, rsport, rdport;
	uint16_t flags; /* flags that must be set */
	uint16_t noflags; /* flags that must not be set */
	uint16_t zone;
	uint8_t event;
} ok_rows[] = {
	/* lab: MASQUERADEd tcp in TIME_WAIT */
	{ ORIG V4("198.18.0.2", "203.0.113.2") L4("6", "tcp",
	  PORTS("45926", "80")) REPLY V4("203.0.113.2", "203.0.113.1")
	  L4("6", "tcp", PORTS("80", "45926")) IND "<state>TIME_WAIT</state>"
	  "<timeout>116</timeout><mark>0</mark><use>1</use>"
	  "<id>2634191330</id><assured/><deltatime>4</deltatime></meta>"
	  "</flow>",
	  CTP_AF_INET, 6, "TIME_WAIT", 116, "198.18.0.2", "203.0.113.2",
	  "203.0.113.2", "203.0.113.1", 45926, 80, 80, 45926,
	  CTP_F_ASSURED | CTP_F_HAS_TIMEOUT | CTP_F_HAS_MARK | CTP_F_HAS_USE,
	  CTP_F_UNREPLIED | CTP_F_NO_ICMP | CTP_F_EVENT | CTP_F_HAS_ZONE,
	  0, 0 },
	/* lab: icmpv6 echo, no type/code/id printed */
	{ ORIG V6("2001:db8:1::2", "2001:db8:2::2") L4("58", "icmpv6", "")
	  REPLY V6("2001:db8:2::2", "2001:db8:2::1") L4("58", "icmpv6", "")
	  IND "<timeout>26</timeout><mark>0</mark><use>1</use>"
	  "<id>2962999641</id><deltatime>4</deltatime></meta></flow>",
	  CTP_AF_INET6, 58, "", 26, "2001:db8:1::2", "2001:db8:2::2",
	  "2001:db8:2::2", "2001:db8:2::1", 0, 0, 0, 0,
	  CTP_F_NO_ICMP, CTP_F_ASSURED | CTP_F_UNREPLIED, 0, 0 },
	/* lab: DNAT 203.0.113.1:8080 -> 198.18.0.2:80 */
	{ ORIG V4("203.0.113.2", "203.0.113.1") L4("6", "tcp",
	  PORTS("47266", "8080")) REPLY V4("198.18.0.2", "203.0.113.2")
	  L4("6", "tcp", PORTS("80", "47266")) IND
	  "<state>ESTABLISHED</state><timeout>431996</timeout><mark>0</mark>"
	  "<use>1</use><id>4091692346</id><assured/><deltatime>4</deltatime>"
	  "</meta></flow>",
	  CTP_AF_INET, 6, "ESTABLISHED", 431996, "203.0.113.2",
	  "203.0.113.1", "198.18.0.2", "203.0.113.2", 47266, 8080, 80, 47266,
	  CTP_F_ASSURED, 0, 0, 0 },
	/* lab: udp to a black hole */
	{ ORIG V6("2001:db8:1::3", "2001:db8:3::10") L4("17", "udp",
	  PORTS("45540", "514")) REPLY V6("2001:db8:3::10", "2001:db8:2::1")
	  L4("17", "udp", PORTS("514", "45540")) IND "<timeout>29</timeout>"
	  "<mark>0</mark><use>1</use><id>3832443121</id><unreplied/>"
	  "<deltatime>1</deltatime></meta></flow>",
	  CTP_AF_INET6, 17, "", 29, "2001:db8:1::3", "2001:db8:3::10",
	  "2001:db8:3::10", "2001:db8:2::1", 45540, 514, 514, 45540,
	  CTP_F_UNREPLIED, CTP_F_ASSURED, 0, 0 },
	/* lab: icmp in zone 7 */
	{ ORIG V4("198.18.0.4", "198.18.0.1") L4("1", "icmp", "") REPLY
	  V4("198.18.0.1", "198.18.0.4") L4("1", "icmp", "") IND
	  "<timeout>26</timeout><mark>0</mark><zone>7</zone><use>1</use>"
	  "<id>2990930203</id><deltatime>4</deltatime></meta></flow>",
	  CTP_AF_INET, 1, "", 26, "198.18.0.4", "198.18.0.1", "198.18.0.1",
	  "198.18.0.4", 0, 0, 0, 0, CTP_F_NO_ICMP | CTP_F_HAS_ZONE, 0, 7, 0 },
	/* lab: IGMP, a protocol the library does not name */
	{ ORIG V4("198.18.0.1", "224.0.0.22") L4("2", "unknown", "") REPLY
	  V4("224.0.0.22", "198.18.0.1") L4("2", "unknown", "") IND
	  "<timeout>596</timeout><mark>0</mark><use>1</use>"
	  "<id>4169204980</id><unreplied/><deltatime>3</deltatime></meta>"
	  "</flow>",
	  CTP_AF_INET, 2, "", 596, "198.18.0.1", "224.0.0.22", "224.0.0.22",
	  "198.18.0.1", 0, 0, 0, 0, CTP_F_UNREPLIED, CTP_F_NO_ICMP, 0, 0 },
	/* netns: sctp SHUTDOWN_ACK_SENT (7) printed as TCP 7, TIME_WAIT */
	{ ORIG V4("10.0.0.1", "10.0.0.2") L4("132", "sctp", PORTS("5", "6"))
	  "<counters><packets>0</packets><bytes>0</bytes></counters>" REPLY
	  V4("10.0.0.2", "10.0.0.1") L4("132", "sctp", PORTS("6", "5"))
	  "<counters><packets>0</packets><bytes>0</bytes></counters>" IND
	  "<state>TIME_WAIT</state><timeout>30</timeout><mark>0</mark>"
	  "<use>1</use><id>3660607241</id><unreplied/><timestamp><start>"
	  "1795719849906190982</start></timestamp><deltatime>0</deltatime>"
	  "</meta></flow>",
	  CTP_AF_INET, 132, "SHUTDOWN_ACK_SENT", 30, "10.0.0.1", "10.0.0.2",
	  "10.0.0.2", "10.0.0.1", 5, 6, 6, 5, CTP_F_UNREPLIED, 0, 0, 0 },
	/* netns: sctp CLOSED (1) printed as SYN_SENT */
	{ ORIG V4("10.0.0.1", "10.0.0.2") L4("132", "sctp", PORTS("5", "7"))
	  REPLY V4("10.0.0.2", "10.0.0.1") L4("132", "sctp", PORTS("7", "5"))
	  IND "<state>SYN_SENT</state><timeout>30</timeout><mark>0</mark>"
	  "<use>1</use><id>2236083442</id><unreplied/></meta></flow>",
	  CTP_AF_INET, 132, "CLOSED", 30, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 5, 7, 7, 5, 0, 0, 0, 0 },
	/* netns: ESTABLISHED sctp (4) printed as FIN_WAIT */
	{ ORIG V4("10.0.0.1", "10.0.0.2") L4("132", "sctp", PORTS("5", "6"))
	  REPLY V4("10.0.0.2", "10.0.0.1") L4("132", "sctp", PORTS("6", "5"))
	  IND "<state>FIN_WAIT</state><timeout>29</timeout><mark>0</mark>"
	  "<use>1</use><id>30137082</id><unreplied/></meta></flow>",
	  CTP_AF_INET, 132, "ESTABLISHED", 29, "10.0.0.1", "10.0.0.2",
	  "10.0.0.2", "10.0.0.1", 5, 6, 6, 5, 0, 0, 0, 0 },
	/* dccp: the index maps the same way (RESPOND is 2, SYN_RECV) */
	{ ORIG V4("10.0.0.1", "10.0.0.2") L4("33", "dccp", PORTS("5", "6"))
	  REPLY V4("10.0.0.2", "10.0.0.1") L4("33", "dccp", PORTS("6", "5"))
	  IND "<state>SYN_RECV</state><timeout>29</timeout></meta></flow>",
	  CTP_AF_INET, 33, "RESPOND", 29, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 5, 6, 6, 5, 0, CTP_F_HAS_MARK | CTP_F_HAS_USE, 0, 0 },
	/* netns: gre keys, printed in hex */
	{ ORIG V4("10.0.0.1", "10.0.0.2") L4("47", "gre",
	  "<srckey>0x11</srckey><dstkey>0x22</dstkey>") REPLY
	  V4("10.0.0.2", "10.0.0.1") L4("47", "gre",
	  "<srckey>0x22</srckey><dstkey>0x11</dstkey>") IND
	  "<timeout>29</timeout><mark>0</mark><use>1</use><id>477364782</id>"
	  "<unreplied/></meta></flow>",
	  CTP_AF_INET, 47, "", 29, "10.0.0.1", "10.0.0.2", "10.0.0.2",
	  "10.0.0.1", 0x11, 0x22, 0x22, 0x11, CTP_F_UNREPLIED, 0, 0, 0 },
	/* netns: -E -o xml,timestamp, a new flow made by conntrack -I */
	{ "<flow type=\"new\"><meta direction=\"original\">"
	  V4("10.0.0.1", "10.0.0.2") L4("6", "tcp", PORTS("8", "6")) REPLY
	  V4("10.0.0.2", "10.0.0.1") L4("6", "tcp", PORTS("6", "8")) IND
	  "<state>ESTABLISHED</state><timeout>30</timeout><mark>0</mark>"
	  "<id>3528956813</id><unreplied/></meta><when><hour>19</hour>"
	  "<min>04</min><sec>16</sec><wday>5</wday><day>26</day>"
	  "<month>11</month><year>2026</year></when></flow> [USERSPACE] "
	  "portid=20916 progname=conntrack",
	  CTP_AF_INET, 6, "ESTABLISHED", 30, "10.0.0.1", "10.0.0.2",
	  "10.0.0.2", "10.0.0.1", 8, 6, 6, 8, CTP_F_EVENT | CTP_F_UNREPLIED,
	  CTP_F_HAS_USE, 0, 1 },
	/* netns: its destroy event: no timeout, no mark */
	{ "<flow type=\"destroy\"><meta direction=\"original\">"
	  V4("10.0.0.1", "10.0.0.2") L4("6", "tcp", PORTS("8", "6")) REPLY
	  V4("10.0.0.2", "10.0.0.1") L4("6", "tcp", PORTS("6", "8")) IND
	  "<state>ESTABLISHED</state><id>3528956813</id><unreplied/></meta>"
	  "<when><hour>19</hour><min>05</min><sec>35</sec><wday>5</wday>"
	  "<day>26</day><month>11</month><year>2026</year></when></flow>",
	  CTP_AF_INET, 6, "ESTABLISHED", -1, "10.0.0.1", "10.0.0.2",
	  "10.0.0.2", "10.0.0.1", 8, 6, 6, 8, CTP_F_EVENT,
	  CTP_F_HAS_MARK | CTP_F_HAS_USE, 0, 3 },
	/* 1.0.3 and older: no independent meta at all is legal */
	{ ORIG V4("192.168.0.1", "192.168.0.2") L4("17", "udp",
	  PORTS("80", "56665")) REPLY V4("192.168.0.2", "192.168.0.1")
	  L4("17", "udp", PORTS("56665", "80")) "</meta></flow>",
	  CTP_AF_INET, 17, "", -1, "192.168.0.1", "192.168.0.2",
	  "192.168.0.2", "192.168.0.1", 80, 56665, 56665, 80, 0,
	  CTP_F_UNREPLIED | CTP_F_ASSURED | CTP_F_HAS_MARK, 0, 0 },
};

static void test_ok_rows(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(ok_rows) / sizeof(ok_rows[0]); i++) {
		const struct ok_row *r = &ok_rows[i];
		const ctp_flow *fl;

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

	/* lab-6.18-acct, DNAT with counters; -o xml,ktimestamp adds the
	 * timestamp block, -o xml,labels the labels (netns capture) */
	assert_int_equal(
		parse(f, ORIG V4("203.0.113.2", "203.0.113.1")
			 L4("6", "tcp", PORTS("47298", "8080"))
			 "<zone>7</zone><counters><packets>6</packets>"
			 "<bytes>326</bytes></counters>" REPLY
			 V4("198.18.0.2", "203.0.113.2")
			 L4("6", "tcp", PORTS("80", "47298"))
			 "<zone>9</zone><counters><packets>4</packets>"
			 "<bytes>222</bytes></counters>" IND
			 "<state>TIME_WAIT</state><timeout>116</timeout>"
			 "<mark>16777216</mark><labels><label>lab-udp</label>"
			 "<label>lab-spare</label></labels>"
			 "<secmark>3</secmark>"
			 "<secctx>system_u:object_r:unlabeled_t:s0</secctx>"
			 "<zone>5</zone><use>70000</use><id>2178542305</id>"
			 "<assured/><timestamp><start>1795719525032623734"
			 "</start><stop>1795719600999999999</stop></timestamp>"
			 "<deltatime>75</deltatime></meta>"
			 "<helper>ftp</helper></flow>"),
		CTP_LINE_RECORD);
	fl = fx_last(f);
	x = ctp_snapshot_extra(f->snap, fl);
	assert_non_null(x);
	assert_int_equal(fl->mark, 16777216);
	assert_int_equal(fl->use, 65535); /* saturated */
	assert_int_equal(fl->zone, 5);
	assert_true(fl->flags & CTP_F_HAS_ZONE);
	assert_int_equal(x->packets[0], 6);
	assert_int_equal(x->bytes[0], 326);
	assert_int_equal(x->packets[1], 4);
	assert_int_equal(x->bytes[1], 222);
	assert_int_equal(x->zone_orig, 7);
	assert_int_equal(x->zone_reply, 9);
	assert_int_equal(x->secmark, 3);
	assert_int_equal(x->id, 2178542305u);
	assert_int_equal(x->delta_time, 75);
	assert_int_equal(x->start, 1795719525);
	assert_int_equal(x->stop, 1795719600);
	assert_int_equal(x->present,
			 CTP_X_COUNTERS | CTP_X_ID | CTP_X_SECMARK |
				 CTP_X_DELTA | CTP_X_START | CTP_X_STOP |
				 CTP_X_ZONE_ORIG | CTP_X_ZONE_REPLY |
				 CTP_X_HELPER | CTP_X_SECCTX | CTP_X_LABELS);
	assert_string_equal(ctp_snapshot_str(f->snap, x->labels),
			    "lab-udp,lab-spare");
	assert_string_equal(ctp_snapshot_str(f->snap, x->helper), "ftp");
	assert_string_equal(ctp_snapshot_str(f->snap, x->secctx),
			    "system_u:object_r:unlabeled_t:s0");
}

static void test_unknown_kept(void **state)
{
	fixture *f = *state;
	const ctp_flow_extra *x;

	/* elements of a later library are kept, not rejected; so is -E's
	 * [USERSPACE] tail */
	assert_int_equal(
		parse(f, ORIG V4("10.0.0.1", "10.0.0.2")
			 L4("6", "tcp", PORTS("1", "2")) REPLY
			 V4("10.0.0.2", "10.0.0.1")
			 L4("6", "tcp", PORTS("2", "1")) IND
			 "<offload/><synproxy><isn>7</isn></synproxy>"
			 "<timeout>5</timeout></meta></flow> [USERSPACE] "
			 "portid=1 progname=conntrack"),
		CTP_LINE_RECORD);
	x = ctp_snapshot_extra(f->snap, fx_last(f));
	assert_non_null(x);
	assert_true(x->present & CTP_X_OTHER);
	assert_string_equal(ctp_snapshot_str(f->snap, x->other),
			    "<offload/> <synproxy><isn>7</isn></synproxy> "
			    "[USERSPACE] portid=1 progname=conntrack");
	assert_int_equal(fx_last(f)->timeout, 5);
}

static void test_header_lines(void **state)
{
	fixture *f = *state;

	assert_int_equal(parse(f, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
			 CTP_LINE_OTHER);
	assert_int_equal(f->ctx.xml_open, 0);
	assert_int_equal(parse(f, "<conntrack>"), CTP_LINE_OTHER);
	assert_int_equal(f->ctx.xml_open, 1);
	assert_int_equal(parse(f, "</conntrack>"), CTP_LINE_OTHER);
	assert_int_equal(f->ctx.xml_open, 0);
	assert_int_equal(ctp_snapshot_flow_count(f->snap), 0);
}

/* A line of the lab sample, cut at n bytes. */
#define LAB_TCP                                                              \
	ORIG V4("198.18.0.2", "203.0.113.2")                                 \
	L4("6", "tcp", PORTS("45926", "80")) REPLY                           \
	V4("203.0.113.2", "203.0.113.1") L4("6", "tcp", PORTS("80", "45926")) \
	IND "<state>TIME_WAIT</state><timeout>116</timeout><mark>0</mark>"    \
	"<use>1</use><id>2634191330</id><assured/><deltatime>4</deltatime>"  \
	"</meta></flow>"

/* one row per rejected line: the message and its 1-based column */
static const struct bad_row {
	const char *line;
	const char *msg;
	size_t col;
} bad_rows[] = {
	/* truncated: conntrack -E cuts lines at 1024 bytes */
	{ ORIG V4("198.18.0.2", "203.0.113.2") L4("6", "tcp",
	  PORTS("45926", "80")) REPLY V4("203.0.113.2", "203.0.113.1")
	  L4("6", "tcp", PORTS("80", "45926")) IND "<state>TIME_WA",
	  "expected '</state>'", 463 },
	{ ORIG V4("198.18.0.2", "203.0.113.2") "<layer4 protonum=\"6\" prot",
	  "expected '>' after '<layer4'", 124 },
	{ ORIG V4("198.18.0.2", "203.0.113.2") L4("6", "tcp",
	  PORTS("45926", "80")) REPLY V4("203.0.113.2", "203.0.113.1")
	  L4("6", "tcp", PORTS("80", "45926")) IND "<timeout>116</timeout>"
	  "</meta>",
	  "expected '</flow>'", 478 },
	/* </flow> missing, something else there */
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", PORTS("1", "2"))
	  REPLY V4("1.2.3.5", "1.2.3.4") L4("6", "tcp", PORTS("2", "1"))
	  "</meta></conntrack>",
	  "expected '</flow>'", 394 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", PORTS("1", "2"))
	  "</layer3></meta></flow>",
	  "expected '</meta>'", 195 },
	/* unknown protocol names */
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcpx", PORTS("1", "2"))
	  "</meta></flow>",
	  "unknown protocol 'tcpx'", 149 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "udp", PORTS("1", "2"))
	  "</meta></flow>",
	  "protocol name 'udp' does not match protonum '6'", 149 },
	{ ORIG "<layer3 protonum=\"2\" protoname=\"ipv6\"><src>1.2.3.4</src>",
	  "layer3 name 'ipv6' does not match protonum '2'", 66 },
	{ ORIG "<layer3 protonum=\"7\" protoname=\"unknown\">",
	  "unsupported layer3 protocol '7'", 34 },
	/* address garbage */
	{ ORIG V4("192.168.1.999", "1.2.3.5"),
	  "cannot parse '<src>192.168.1.999': expected an IPv4 or IPv6 "
	  "address", 77 },
	{ ORIG V4("2001:db8::1", "1.2.3.5"),
	  "cannot parse '<src>2001:db8::1': address is not of the layer3 "
	  "protocol", 77 },
	/* numbers */
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", PORTS("70000", "2")),
	  "cannot parse '<sport>70000': number out of range", 161 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", PORTS("-1", "2")),
	  "cannot parse '<sport>-1': expected a number", 161 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("47", "gre",
	  "<srckey>0x10000</srckey>"),
	  "cannot parse '<srckey>0x10000': number out of range", 163 },
	{ ORIG "<layer3 protonum=\"x2\" protoname=\"ipv4\">",
	  "cannot parse 'protonum=\"x2\"': expected a number", 52 },
	/* structure */
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("1", "icmp", PORTS("1", "2")),
	  "unexpected '<sport>' in a 'icmp' tuple", 155 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", "<sport>1</sport>")
	  "</meta>",
	  "incomplete original tuple: missing '<dport>'", 179 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", PORTS("1", "2"))
	  "</meta></flow>",
	  "missing '<meta direction=\"reply\">'", 202 },
	{ "<flow><meta direction=\"sideways\">",
	  "unknown direction 'sideways'", 24 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") V4("1.2.3.4", "1.2.3.5"),
	  "duplicate '<layer3>'", 117 },
	{ LAB_TCP "<flow>",
	  "unexpected text after '</flow>'", 588 },
	{ "<flow type=\"wobble\">", "unknown flow type 'wobble'", 13 },
	{ "<flow>text</flow>", "unexpected text in '<flow>'", 7 },
	{ "<flow><meta direction=original>",
	  "malformed attributes in '<meta'", 7 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("6", "tcp", PORTS("1", "2"))
	  REPLY V4("1.2.3.5", "1.2.3.4") L4("6", "tcp", PORTS("2", "1"))
	  IND "<state>OPEN</state></meta></flow>",
	  "unknown state 'OPEN' for protocol 'tcp'", 431 },
	{ ORIG V4("1.2.3.4", "1.2.3.5") L4("17", "udp", PORTS("1", "2"))
	  REPLY V4("1.2.3.5", "1.2.3.4") L4("6", "tcp", PORTS("2", "1")),
	  "protocol differs from the original tuple", 310 },
	{ "<flow><meta direction=\"original\"><layer3 protonum=\"2\" "
	  "protoname=\"ipv4\"><src>1.2.3.4</src><dst>1.2.3.5</dst></layer3>"
	  "</meta>",
	  "incomplete original tuple: missing '<layer4>'", 117 },
	/* not a flow at all */
	{ "<flows>", "expected '<flow>'", 1 },
	{ "", "expected '<'", 1 },
	{ "<?xml version=\"1.0\"", "expected '?>'", 20 },
	{ "<conntrack><flow>", "unexpected text after '<conntrack>'", 12 },
	{ "</conntrack >x", "expected '</conntrack>'", 12 },
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

/* Every cut of a good line is rejected, never read past its end. */
static void test_every_truncation(void **state)
{
	fixture *f = *state;
	static const char line[] = LAB_TCP;
	size_t n = sizeof(line) - 1;

	for (size_t cut = 0; cut < n; cut++) {
		/* a private copy of exactly cut bytes, so that a read past
		 * the end would be caught by ASan */
		char *copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, line, cut);
		if (ctp_xml_line(&f->ctx, copy, cut) != CTP_EINPUT)
			fail_msg("cut at %zu accepted", cut);
		assert_true(f->err.col >= 1 && f->err.col <= cut + 1);
		free(copy);
	}
	assert_int_equal(ctp_snapshot_flow_count(f->snap), 0);
	assert_int_equal(ctp_xml_line(&f->ctx, line, n), CTP_LINE_RECORD);
}

static void test_nul_byte(void **state)
{
	fixture *f = *state;
	static const char line[] = ORIG "<layer3 protonum=\"2\" protoname="
				   "\"ipv4\"><src>1.2.3.4\0</src>";

	assert_int_equal(ctp_xml_line(&f->ctx, line, sizeof(line) - 1),
			 CTP_EINPUT);
	assert_string_equal(f->err.msg, "unexpected NUL byte");
	assert_int_equal(f->err.col, 84);
}

static void test_sniff(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *line;
		int want;
	} rows[] = {
		{ "<?xml version=\"1.0\" encoding=\"utf-8\"?>", 1 },
		{ "<conntrack>", 1 },
		{ "</conntrack>", 1 },
		{ "<flow><meta direction=\"original\">", 1 },
		{ "<flow type=\"new\"><meta direction=\"original\">", 1 },
		{ "<flows>", 0 },
		{ "<expect>", 0 },
		{ " <flow>", 0 },
		{ "tcp      6 431999 ESTABLISHED src=1.2.3.4", 0 },
		{ "-A -t 1 -s 1.2.3.4", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ctp_xml_sniff(&f->ctx, rows[i].line,
				  strlen(rows[i].line)) != rows[i].want)
			fail_msg("sniff row %zu", i);
}

/* Every line of a lab capture parses; one flow per <flow> line. */
static void check_sample(fixture *f, const char *rel)
{
	char path[4096];
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, flows = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", CTPLAN_SOURCE_DIR, rel);
	fp = fopen(path, "r");
	if (!fp) {
		print_message("no %s, sample check skipped\n", path);
		return;
	}
	f->ctx.line = 0;
	while ((n = getline(&buf, &cap, fp)) > 0) {
		int rc;
		f->ctx.line++;
		if (buf[n - 1] == '\n')
			n--;
		if (!ctp_xml_sniff(&f->ctx, buf, (size_t)n))
			fail_msg("%s:%zu: not sniffed as xml", rel,
				 f->ctx.line);
		rc = ctp_xml_line(&f->ctx, buf, (size_t)n);
		if (rc < 0)
			fail_msg("%s:%zu:%zu: %s", rel, f->ctx.line,
				 f->err.col, f->err.msg);
		if (n >= 5 && memcmp(buf, "<flow", 5) == 0) {
			assert_int_equal(rc, CTP_LINE_RECORD);
			flows++;
		} else {
			assert_int_equal(rc, CTP_LINE_OTHER);
		}
	}
	free(buf);
	fclose(fp);
	assert_true(flows > 0);
	assert_int_equal(ctp_snapshot_flow_count(f->snap), flows);
	assert_int_equal(f->ctx.xml_open, 0);
}

static void test_lab_sample(void **state)
{
	check_sample(*state, "samples/lab-6.18/conntrack_-L_-o_xml");
}

static void test_lab_sample_acct(void **state)
{
	fixture *f = *state;
	ctp_flow fl;
	size_t n, counted = 0;

	check_sample(f, "samples/lab-6.18-acct/conntrack_-L_-o_xml");
	n = ctp_snapshot_flow_count(f->snap);
	for (size_t i = 0; i < n; i++) {
		const ctp_flow_extra *x;

		ctp_snapshot_flow_get(f->snap, i, &fl);
		x = ctp_snapshot_extra(f->snap, &fl);
		if (x && (x->present & CTP_X_COUNTERS) && x->packets[0])
			counted++;
	}
	/* with nf_conntrack_acct=1 every flow has counted its first packet */
	assert_int_equal(counted, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_rows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extra_fields, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_kept, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_header_lines, fx_setup,
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
	return cmocka_run_group_tests_name("parsers/xml", tests, NULL, NULL);
}
