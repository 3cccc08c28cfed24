/*
 * The -L hot path: the inline readers of list.c (addresses, numbers,
 * the src/dst/sport/dport tokens) against their reference (inet_pton,
 * the error texts and columns of the general path), and the reader's
 * worker threads (input.c read-ahead) against reading alone: the same
 * flows, counts and diagnostics, line for line.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/parse.h"
#include "ctplan/snapshot.h"
#include "parsers.h"
#include "fixture.h"

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_open_path(f, "");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	fx_close(f);
	free(f);
	return 0;
}

static const ctp_flow *last(fixture *f)
{
	size_t n = ctp_snapshot_flow_count(f->snap);

	assert_true(n > 0);
	ctp_snapshot_flow_get(f->snap, n - 1, &f->last);
	return &f->last;
}

/*
 * Addresses: each is put in src= of a line whose other addresses share
 * its family; the parser must take it exactly when inet_pton does (for
 * IPv4, inet_pton also refuses leading zeros), with the same bytes.
 */
static const char *const addrs[] = {
	/* the forms conntrack prints, compressed and /proc's full form */
	"::", "::1", "1::", "2001:db8::1", "2001:db8:1:0:9e15:64f7:a6f1:6496",
	"2001:0db8:0000:0000:0000:0000:0000:0001", "1:2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::2:3:4:5:6:7",
	"2001:DB8::A", "fe80::abcd:ef01",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	/* embedded dotted quads: the slow path's */
	"::ffff:198.51.100.7", "64:ff9b::203.0.113.1",
	/* refused */
	"1::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::1",
	":1::2", "1:::2", "1::2::3", "1:", ":", ":::", "1:2:", "::g",
	"fe80::1%eth0", "0:0:0:0:0:0:0:0:", "::ffff:1.2.3",
	/* IPv4 */
	"0.0.0.0", "198.51.100.7", "255.255.255.255", "256.1.1.1", "1.2.3",
	"1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.4x", "1..3.4", ".1.2.3",
	"1.2.3.", "1234.1.1.1", "1.2.3.-4",
};

static void test_addresses(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		const char *a = addrs[i];
		int six = strchr(a, ':') != NULL;
		const char *peer = six ? "2001:db8::2" : "192.0.2.2";
		uint8_t want[16] = { 0 };
		int ok = inet_pton(six ? AF_INET6 : AF_INET, a, want) == 1;
		char line[256];
		size_t before = ctp_snapshot_flow_count(f->snap);
		int rc;

		snprintf(line, sizeof(line),
			 "tcp      6 10 ESTABLISHED src=%s dst=%s sport=1 "
			 "dport=2 src=%s dst=%s sport=2 dport=1 mark=0 use=1",
			 a, peer, peer, a);
		rc = ctp_list_line(&f->ctx, line, strlen(line));
		if (!ok) {
			char msg[128];
			assert_int_equal(rc, CTP_EINPUT);
			snprintf(msg, sizeof(msg), "cannot parse 'src=%s': ",
				 a);
			assert_memory_equal(f->err.msg, msg, strlen(msg));
			/* 1-based column of the token */
			assert_int_equal(f->err.col,
					 strstr(line, "src=") - line + 1);
			assert_int_equal(ctp_snapshot_flow_count(f->snap),
					 before);
			continue;
		}
		assert_int_equal(rc, CTP_LINE_RECORD);
		assert_int_equal(last(f)->family,
				 six ? CTP_AF_INET6 : CTP_AF_INET);
		assert_memory_equal(last(f)->orig.src, want, 16);
		assert_memory_equal(last(f)->reply.dst, want, 16);
	}
}

/* Numbers read inline: bounds, leading zeros, and what follows. */
static const struct num_row {
	const char *line;
	int ok;
	uint16_t sport;   /* ok: original sport */
	uint32_t mark;    /* ok: mark */
	uint64_t packets; /* ok: original packets */
	const char *msg;  /* !ok: the message, its quoted token's place
			   * in the line is the error's column */
} nums[] = {
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=65535 dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=65535 mark=4294967295",
	  1, 65535, 4294967295u, 0, NULL },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=0065535 dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=65535 mark=0",
	  1, 65535, 0, 0, NULL },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=65536 dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0, "cannot parse 'sport=65536': number out of range" },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1 mark=4294967296",
	  0, 0, 0, 0, "cannot parse 'mark=4294967296': number out of range" },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=12a dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0, "cannot parse 'sport=12a': expected a number" },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport= dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0, "cannot parse 'sport=': expected a number" },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=1 "
	  "packets=18446744073709551615 bytes=1 src=2.2.2.2 dst=1.1.1.1 "
	  "sport=1 dport=1",
	  1, 1, 0, UINT64_MAX, NULL },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=1 "
	  "packets=18446744073709551616 bytes=1 src=2.2.2.2 dst=1.1.1.1 "
	  "sport=1 dport=1",
	  0, 0, 0, 0,
	  "cannot parse 'packets=18446744073709551616': number out of range" },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=1 "
	  "packets=99999999999999999999999x bytes=1 src=2.2.2.2 "
	  "dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0,
	  "cannot parse 'packets=99999999999999999999999x': number out of "
	  "range" },
	/* a timeout beyond 32 bits */
	{ "tcp      6 4294967296 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 "
	  "dport=1 src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0, "cannot parse '4294967296': number out of range" },
	/* a tab between tokens, and a second dst= in the original tuple */
	{ "tcp      6 10 CLOSE src=1.1.1.1\tdst=2.2.2.2 sport=7 dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  1, 7, 0, 0, NULL },
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2.2.2.2 dst=3.3.3.3 sport=7 "
	  "dport=1 src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0, "cannot parse 'dst=3.3.3.3': repeated in one tuple" },
	/* the family changes mid-line */
	{ "tcp      6 10 CLOSE src=1.1.1.1 dst=2001:db8::1 sport=7 dport=1 "
	  "src=2.2.2.2 dst=1.1.1.1 sport=1 dport=1",
	  0, 0, 0, 0,
	  "cannot parse 'dst=2001:db8::1': address family differs from the "
	  "rest of the line" },
};

static void test_numbers(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const struct num_row *r = &nums[i];
		int rc = ctp_list_line(&f->ctx, r->line, strlen(r->line));

		if (!r->ok) {
			const char *q = strchr(r->msg, '\'') + 1;
			char tok[64];
			snprintf(tok, sizeof(tok), "%.*s",
				 (int)(strchr(q, '\'') - q), q);
			assert_int_equal(rc, CTP_EINPUT);
			assert_string_equal(f->err.msg, r->msg);
			assert_int_equal(f->err.col,
					 strstr(r->line, tok) - r->line + 1);
			continue;
		}
		assert_int_equal(rc, CTP_LINE_RECORD);
		assert_int_equal(last(f)->orig.sport, r->sport);
		assert_int_equal(last(f)->mark, r->mark);
		if (r->packets) {
			const ctp_flow_extra *x =
				ctp_snapshot_extra(f->snap, last(f));
			assert_non_null(x);
			assert_true(x->packets[0] == r->packets);
		}
	}
}

/* ---- the reader's workers against reading alone ---- */

typedef struct msgs {
	char *buf;
	size_t len, cap;
} msgs;

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	msgs *m = ud;
	char line[512];
	int n;

	ctp_error_format(e, line, sizeof(line));
	n = snprintf(NULL, 0, "%d %s\n", (int)sev, line);
	if (m->len + (size_t)n + 1 > m->cap) {
		m->cap = (m->len + (size_t)n + 1) * 2;
		m->buf = realloc(m->buf, m->cap);
		assert_non_null(m->buf);
	}
	snprintf(m->buf + m->len, (size_t)n + 1, "%d %s\n", (int)sev, line);
	m->len += (size_t)n;
}

/* Append to the dump. */
static void add(char *b, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(char *b, size_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*n += (size_t)vsprintf(b + *n, fmt, ap);
	va_end(ap);
}

/*
 * A dump of several chunks of the reader (2 MiB each), so workers run:
 * -L lines of every shape, with bad lines, free text, CRLF, blank lines,
 * a conntrack message splitting an entry, a sysctl section in the middle
 * and a line over the length limit.
 */
static char *make_dump(size_t *len)
{
	size_t cap = 12u << 20, n = 0;
	char *b = malloc(cap);

	assert_non_null(b);
	for (unsigned i = 0; n + 4096 < cap - 80000; i++) {
		unsigned a = i % 250 + 1, c = i / 250 % 250 + 1;
		unsigned sp = 1024 + i % 60000;

		switch (i % 1000) {
		case 17: /* out of range */
			add(b, &n, "tcp      6 10 CLOSE src=1.1.1.%u "
				   "dst=2.2.2.2 sport=99999 dport=1\n", a);
			continue;
		case 101: /* free text, CRLF */
			add(b, &n, "udp      17 20 src=10.0.%u.%u dst=10.1.0.1 "
				   "sport=%u dport=53 src=10.1.0.1 "
				   "dst=10.0.%u.%u sport=53 dport=%u mark=0 "
				   "helper=tftp [FASTNAT] slan use=1\r\n",
			    c, a, sp, c, a, sp);
			continue;
		case 202:
			add(b, &n, "\n   \n");
			continue;
		case 303: /* conntrack's summary inside an entry */
			add(b, &n, "tcp      6 300 ESTABLISHED src=10.0.%u.%u "
				   "dst=10.1.0.1 sport=%u dport=80 "
				   "src=10.1.0.1 dst=10.0.%u.%uconntrack "
				   "v1.4.7 (conntrack-tools): 9 flow entries "
				   "have been shown.\n sport=80 dport=%u "
				   "[ASSURED] mark=0 use=1\n",
			    c, a, sp, c, a, sp);
			continue;
		case 404:
			add(b, &n, "net.netfilter.nf_conntrack_max = 262144\n");
			continue;
		case 505: /* /proc's form */
			add(b, &n, "ipv6     10 tcp      6 50 SYN_RECV "
				   "src=2001:db8::%x dst=2001:0db8:0000:0000:"
				   "0000:0000:0000:0001 sport=%u dport=443 "
				   "src=2001:db8::1 dst=2001:db8::%x sport=443 "
				   "dport=%u mark=0 zone=0 use=2\n",
			    i, sp, i, sp);
			continue;
		case 606: /* a NUL byte */
			b[n++] = 't';
			b[n++] = '\0';
			add(b, &n, "cp 6 1 CLOSE\n");
			continue;
		default:
			break;
		}
		add(b, &n, "%s %u %s src=10.%u.%u.%u dst=203.0.113.%u "
			   "sport=%u dport=%u %ssrc=203.0.113.%u "
			   "dst=192.0.2.10 sport=%u dport=%u %smark=%u%s "
			   "use=1\n",
		    i % 3 ? "tcp      6" : "udp      17", i % 431999,
		    i % 3 ? "ESTABLISHED" : "", i % 7, c, a, a, sp,
		    443 + i % 5, i % 11 ? "" : "[UNREPLIED] ", a, 443 + i % 5,
		    i % 13 ? sp : sp + 1, i % 3 ? "[ASSURED] " : "", i % 4,
		    i % 17 ? "" : " zone=3");
		if (i == 30000) {
			/* over the 64 KiB line limit */
			memset(b + n, 'x', 70000);
			n += 70000;
			b[n++] = '\n';
		}
	}
	/* the last line without a newline */
	add(b, &n, "tcp      6 1 CLOSE src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 "
		   "src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1");
	*len = n;
	return b;
}

static void read_dump(const char *buf, size_t len, int stream,
		      ctp_snapshot **snap, msgs *m)
{
	ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;

	o.diag = on_diag;
	o.diag_ud = m;
	assert_int_equal(ctp_snapshot_new(snap), 0);
	if (stream) {
		FILE *fp = fmemopen((void *)buf, len, "r");
		assert_non_null(fp);
		assert_int_equal(ctp_parse_stream(*snap, fp, "t", &o, &err),
				 0);
		fclose(fp);
	} else {
		assert_int_equal(ctp_parse_buffer(*snap, "t", buf, len, &o,
						  &err),
				 0);
	}
}

static void test_workers_same(void **state)
{
	size_t len, n;
	char *buf = make_dump(&len);
	ctp_snapshot *a, *b;
	msgs ma = { 0 }, mb = { 0 };
	const ctp_input_info *ia, *ib;

	(void)state;
	read_dump(buf, len, 0, &a, &ma);
	read_dump(buf, len, 1, &b, &mb);
	n = ctp_snapshot_flow_count(a);
	assert_true(n > 50000);
	assert_int_equal(ctp_snapshot_flow_count(b), n);
	for (size_t i = 0; i < n; i++) {
		ctp_flow fa, fb;
		const ctp_flow_extra *xa, *xb;

		ctp_snapshot_flow_get(a, i, &fa);
		ctp_snapshot_flow_get(b, i, &fb);
		xa = ctp_snapshot_extra(a, &fa);
		xb = ctp_snapshot_extra(b, &fb);
		assert_memory_equal(&fa, &fb, sizeof(fa));
		assert_true(!xa == !xb);
		if (!xa)
			continue;
		assert_int_equal(xa->present, xb->present);
		assert_string_equal(ctp_snapshot_str(a, xa->helper),
				    ctp_snapshot_str(b, xb->helper));
		assert_string_equal(ctp_snapshot_str(a, xa->other),
				    ctp_snapshot_str(b, xb->other));
	}
	ia = ctp_snapshot_input(a, 0);
	ib = ctp_snapshot_input(b, 0);
	assert_true(ia->lines == ib->lines && ia->records == ib->records &&
		    ia->rejected == ib->rejected && ia->other == ib->other &&
		    ia->formats == ib->formats &&
		    ia->summary_count == ib->summary_count);
	assert_true(ia->rejected > 0 && ia->other > 0);
	assert_true(ia->lines == ia->records + ia->rejected + ia->other);
	assert_non_null(
		ctp_snapshot_sysctl(b, "net.netfilter.nf_conntrack_max"));
	assert_int_equal(ma.len, mb.len);
	assert_memory_equal(ma.buf, mb.buf, ma.len);
	free(ma.buf);
	free(mb.buf);
	ctp_snapshot_free(a);
	ctp_snapshot_free(b);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_addresses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test(test_workers_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
