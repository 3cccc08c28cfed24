/*
 * The input reader: line splitting, sniffing, accounting and bad input
 * (long lines, NUL bytes, CRLF, truncated last line, empty input, files
 * in no known format), through ctp_parse_buffer and ctp_parse_path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/parse.h"

#define L1                                                               \
	"tcp      6 431996 ESTABLISHED src=198.18.0.2 dst=203.0.113.2 "   \
	"sport=29999 dport=80 src=203.0.113.2 dst=203.0.113.1 sport=80 "  \
	"dport=29999 [ASSURED] mark=0 use=1"
#define L2                                                               \
	"udp      17 26 src=2001:db8:1::2 dst=2001:db8:2::2 sport=42557 " \
	"dport=53 src=2001:db8:2::2 dst=2001:db8:2::1 sport=53 "          \
	"dport=42557 mark=0 use=1"

typedef struct diags {
	int notes, errors;
	ctp_error last;
} diags;

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	diags *d = ud;

	if (sev == CTP_SEV_NOTE)
		d->notes++;
	else
		d->errors++;
	d->last = *e;
}

typedef struct run {
	ctp_snapshot *snap;
	diags d;
	ctp_error err;
	int rc;
} run;

static const ctp_input_info *parse(run *r, const char *buf, size_t len,
				   int strict)
{
	ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
	const ctp_input_info *in;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ctp_snapshot_new(&r->snap), 0);
	o.diag = on_diag;
	o.diag_ud = &r->d;
	o.strict = strict;
	o.max_line = 1024;
	r->rc = ctp_parse_buffer(r->snap, "buf", buf, len, &o, &r->err);
	in = ctp_snapshot_input(r->snap, 0);
	assert_non_null(in);
	/* nothing is lost: every physical line is accounted for */
	assert_int_equal(in->lines, in->records + in->rejected + in->other);
	return in;
}

static void done(run *r)
{
	ctp_snapshot_free(r->snap);
}

static void test_plain(void **state)
{
	static const char buf[] = L1 "\n" L2 "\n"
		"conntrack v1.4.7 (conntrack-tools): 2 flow entries have "
		"been shown.\n";
	run r;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(in->lines, 3);
	assert_int_equal(in->records, 2);
	assert_int_equal(in->other, 1);
	assert_int_equal(in->summary_count, 2);
	assert_int_equal(ctp_snapshot_flow_count(r.snap), 2);
	done(&r);
}

static void test_crlf(void **state)
{
	static const char buf[] = L1 "\r\n" L2 "\r\n";
	run r;
	ctp_flow fl;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(in->records, 2);
	assert_int_equal(in->rejected, 0);
	/* the \r is not part of the last token */
	ctp_snapshot_flow_get(r.snap, 0, &fl);
	assert_int_equal(fl.use, 1);
	done(&r);
}

static void test_summary_mid_entry(void **state)
{
	/* lab capture: stderr's summary landed inside line 25 of 36 */
	static const char buf[] =
		L1 "\n"
		"udp      17 26 src=2001:db8:1::2 dst=2001:db8:2::2 sport=42557 "
		"dport=53 src=2001:db8:2::2 dst=2001:db8:2::1 sport=53"
		"conntrack v1.4.7 (conntrack-tools): 3 flow entries have "
		"been shown.\n"
		" dport=42557 mark=0 delta-time=4 use=1\n" L1 "\n";
	run r;
	ctp_flow fl;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(in->lines, 4);
	assert_int_equal(in->records, 3);
	assert_int_equal(in->rejected, 0);
	assert_int_equal(in->summary_count, 3);
	ctp_snapshot_flow_get(r.snap, 1, &fl);
	assert_int_equal(fl.reply.dport, 42557);
	done(&r);
}

static void test_long_line(void **state)
{
	size_t n = 5000;
	char *buf = malloc(n + sizeof(L1) + 4);
	run r;
	const ctp_input_info *in;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'x', n);
	buf[n] = '\n';
	memcpy(buf + n + 1, L1 "\n", sizeof(L1));
	in = parse(&r, buf, n + 1 + sizeof(L1), 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(in->lines, 2);
	assert_int_equal(in->rejected, 1);
	assert_int_equal(in->records, 1);
	assert_int_equal(r.d.errors, 1);
	assert_string_equal(r.d.last.msg, "line longer than 1024 bytes");
	assert_int_equal(r.d.last.line, 1);
	free(buf);
	done(&r);
}

static void test_nul(void **state)
{
	static const char buf[] = L1 "\n"
		"tcp      6 1 CLOSE src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 "
		"src=1.2.3.5\0 dst=1.2.3.4 sport=2 dport=1\n" L1 "\n";
	run r;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(in->records, 2);
	assert_int_equal(in->rejected, 1);
	assert_string_equal(r.d.last.msg, "unexpected NUL byte");
	assert_int_equal(r.d.last.line, 2);
	assert_int_equal(r.d.last.col, 71);
	done(&r);
}

static void test_truncated_last(void **state)
{
	static const char buf[] = L1 "\n"
		"tcp      6 431996 ESTABLISHED src=198.18.0.2 dst=203.0.1";
	run r;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(in->lines, 2);
	assert_int_equal(in->records, 1);
	assert_int_equal(in->rejected, 1);
	assert_non_null(strstr(r.d.last.msg, "truncated?"));
	done(&r);
}

static void test_partial_first(void **state)
{
	/* a tail-kept dump starts mid-line */
	static const char buf[] =
		"=203.0.113.1 sport=80 dport=29999 [ASSURED] mark=0 use=1\n" L1
		"\n" L2 "\n";
	run r;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(in->records, 2);
	assert_int_equal(in->other, 1);
	assert_int_equal(in->rejected, 0);
	assert_int_equal(r.d.notes, 1);
	done(&r);
}

static void test_empty(void **state)
{
	run r;
	const ctp_input_info *in = parse(&r, "", 0, 0);

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(in->lines, 0);
	assert_int_equal(in->skipped, 0);
	done(&r);
}

static void test_unknown_format(void **state)
{
	static const char buf[] = "hello world\nthis is not a dump\n";
	run r;

	(void)state;
	parse(&r, buf, sizeof(buf) - 1, 0);
	assert_int_equal(r.rc, CTP_EINPUT);
	assert_string_equal(r.err.file, "buf");
	assert_non_null(strstr(r.err.msg, "not a conntrack"));
	done(&r);
}

static void test_strict(void **state)
{
	static const char buf[] = L1 "\nrubbish\n" L2 "\n";
	run r;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 1);

	(void)state;
	assert_int_equal(r.rc, CTP_EINPUT);
	assert_int_equal(r.err.line, 2);
	assert_int_equal(in->records, 1);
	done(&r);
}

static void test_unrecognised_line(void **state)
{
	static const char buf[] = L1 "\nrubbish\n" L2 "\n";
	run r;
	const ctp_input_info *in = parse(&r, buf, sizeof(buf) - 1, 0);

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(in->records, 2);
	assert_int_equal(in->rejected, 1);
	assert_int_equal(r.d.last.line, 2);
	assert_int_equal(r.d.last.col, 1);
	assert_non_null(strstr(r.d.last.msg, "unrecognised line"));
	done(&r);
}

/* The same table given twice is one table. */
static void test_dedup(void **state)
{
	static const char a[] = L1 "\n" L2 "\n";
	static const char b[] = "ipv4     2 " L1 "\n";
	ctp_snapshot *s;
	ctp_error err;
	size_t counted = 0;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_parse_buffer(s, "a", a, sizeof(a) - 1, NULL,
					  &err), 0);
	assert_int_equal(ctp_parse_buffer(s, "b", b, sizeof(b) - 1, NULL,
					  &err), 0);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	for (size_t i = 0; i < ctp_snapshot_flow_count(s); i++)
		counted += !(ctp_snapshot_flow_flags(s, i) & CTP_F_DUP);
	assert_int_equal(counted, 2);
	assert_true(ctp_snapshot_inputs_overlap(s, 0, 1));
	assert_int_equal(ctp_snapshot_input(s, 1)->duplicates, 1);
	ctp_snapshot_free(s);
}

/* Different namespaces never merge, even with equal tuples. */
static void test_dedup_ns(void **state)
{
	static const char a[] = L1 "\n";
	ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
	ctp_snapshot *s;
	ctp_error err;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	o.ns = "ns1";
	assert_int_equal(ctp_parse_buffer(s, "a", a, sizeof(a) - 1, &o,
					  &err), 0);
	o.ns = "ns2";
	assert_int_equal(ctp_parse_buffer(s, "b", a, sizeof(a) - 1, &o,
					  &err), 0);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	assert_false(ctp_snapshot_flow_flags(s, 0) & CTP_F_DUP);
	assert_false(ctp_snapshot_flow_flags(s, 1) & CTP_F_DUP);
	ctp_snapshot_free(s);
}

static void test_path_missing(void **state)
{
	ctp_snapshot *s;
	ctp_error err = CTP_ERROR_INIT;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(ctp_parse_path(s, "/nonexistent/ctplan", NULL, &err),
			 CTP_EINPUT);
	assert_string_equal(err.file, "/nonexistent/ctplan");
	assert_non_null(strstr(err.msg, "No such file"));
	ctp_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_summary_mid_entry),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_truncated_last),
		cmocka_unit_test(test_partial_first),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_unknown_format),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_unrecognised_line),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_dedup_ns),
		cmocka_unit_test(test_path_missing),
	};
	return cmocka_run_group_tests_name("parsers/input", tests, NULL, NULL);
}
