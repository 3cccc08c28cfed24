/*
 * Hostile input through the reader (issue 9): lines past the 64 KiB
 * limit anywhere in a file, through both reading paths (a buffer, and a
 * stream read in chunks with the read-ahead workers), and the inputs the
 * fuzzers found (tests/fuzz/README).  Each row is a file made of pieces
 * (a text repeated n times), the counts it must give and the first error.
 * Then the bugs found by the sanitizers in a format module, one test each.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/parse.h"
#include "fixture.h"

#define LINE                                                             \
	"tcp      6 431996 ESTABLISHED src=198.18.0.2 dst=203.0.113.2 "   \
	"sport=29999 dport=80 src=203.0.113.2 dst=203.0.113.1 sport=80 "  \
	"dport=29999 [ASSURED] mark=0 use=1\n"
#define MSG "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been " \
	    "shown.\n"
#define KIB 1024u
#define MIB (1024u * 1024u)

typedef struct piece {
	const char *text;
	size_t times;
} piece;

typedef struct row {
	const char *name;
	piece p[6];
	uint64_t lines, records, rejected, other;
	size_t err_line, err_col; /* first error; 0: none */
	const char *err_msg;      /* in the first error's message */
} row;

static const row rows[] = {
	{ "a 70 KiB line between two good ones",
	  { { LINE, 1 }, { "x", 70 * KIB }, { "\n", 1 }, { LINE, 1 } },
	  3, 2, 1, 0, 2, 1, "line longer than 65536 bytes" },
	{ "64 KiB exactly is not too long (but is no known line)",
	  { { LINE, 1 }, { "x", 64 * KIB }, { "\n", 1 }, { LINE, 1 } },
	  3, 2, 1, 0, 2, 1, "unrecognised line" },
	{ "one byte over the limit",
	  { { LINE, 1 }, { "x", 64 * KIB + 1 }, { "\n", 1 }, { LINE, 1 } },
	  3, 2, 1, 0, 2, 1, "line longer than 65536 bytes" },
	{ "a 5 MiB line spans read chunks; the next line still counts",
	  { { LINE, 2 }, { "y", 5 * MIB }, { "\n", 1 }, { LINE, 3 } },
	  6, 5, 1, 0, 3, 1, "line longer than 65536 bytes" },
	/* found by fuzz_bundle: a full read chunk whose only newline comes
	 * early sent the read-ahead worker's memchr past the chunk (a
	 * negative length); parsers/input.c pf_arm */
	{ "a short line, then 3 MiB without a newline",
	  { { LINE, 1 }, { "a", 3 * MIB } },
	  2, 1, 1, 0, 2, 1, "line longer than 65536 bytes" },
	{ "no newline at all, 3 MiB",
	  { { "a", 3 * MIB } },
	  1, 0, 1, 0, 1, 1, "line longer than 65536 bytes" },
	{ "a conntrack message inside an overlong line",
	  { { LINE, 1 }, { "tcp 6 ", 1 }, { "z", 70 * KIB }, { MSG, 1 },
	    { LINE, 1 } },
	  3, 2, 1, 0, 2, 1, "line longer than 65536 bytes" },
	/* the line holding the message counted as rejected, unreported:
	 * now "other", and the joined line is rejected once (input.c) */
	{ "an overlong line after a message split a line",
	  { { LINE, 1 }, { "tcp      6 10 CLOSE src=1.2.3.4 ", 1 },
	    { MSG, 1 }, { "w", 70 * KIB }, { "\n", 1 }, { LINE, 1 } },
	  4, 2, 1, 1, 3, 1, "line longer than 65536 bytes" },
};

typedef struct diags {
	size_t errors;
	ctp_error first;
} diags;

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	diags *d = ud;

	if (sev != CTP_SEV_ERROR)
		return;
	if (!d->errors++)
		d->first = *e;
}

static char *build(const row *r, size_t *len)
{
	size_t n = 0, at = 0;
	char *buf;

	for (int i = 0; i < 6 && r->p[i].text; i++)
		n += strlen(r->p[i].text) * r->p[i].times;
	buf = malloc(n ? n : 1);
	assert_non_null(buf);
	for (int i = 0; i < 6 && r->p[i].text; i++) {
		size_t l = strlen(r->p[i].text);
		for (size_t k = 0; k < r->p[i].times; k++, at += l)
			memcpy(buf + at, r->p[i].text, l);
	}
	*len = n;
	return buf;
}

static void check(const row *r, ctp_snapshot *snap, const diags *d)
{
	const ctp_input_info *in = ctp_snapshot_input(snap, 0);

	print_message("  %s\n", r->name);
	assert_non_null(in);
	assert_int_equal(in->lines, r->lines);
	assert_int_equal(in->records, r->records);
	assert_int_equal(in->rejected, r->rejected);
	assert_int_equal(in->other, r->other);
	assert_int_equal(in->records + in->rejected + in->other, in->lines);
	/* every rejected line was reported, with its position */
	assert_int_equal(d->errors, r->rejected);
	if (r->err_line) {
		assert_int_equal(d->first.line, r->err_line);
		assert_int_equal(d->first.col, r->err_col);
		assert_non_null(strstr(d->first.msg, r->err_msg));
	}
}

static void test_buffer(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
		ctp_error err = CTP_ERROR_INIT;
		ctp_snapshot *snap;
		diags d = { 0 };
		size_t len;
		char *buf = build(&rows[i], &len);

		o.diag = on_diag;
		o.diag_ud = &d;
		assert_int_equal(ctp_snapshot_new(&snap), 0);
		assert_int_equal(
			ctp_parse_buffer(snap, "t", buf, len, &o, &err), 0);
		check(&rows[i], snap, &d);
		ctp_snapshot_free(snap);
		free(buf);
	}
}

static void test_stream(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_parse_opts o = CTP_PARSE_OPTS_INIT;
		ctp_error err = CTP_ERROR_INIT;
		ctp_snapshot *snap;
		diags d = { 0 };
		size_t len;
		char *buf = build(&rows[i], &len);
		FILE *fp = tmpfile();

		assert_non_null(fp);
		assert_int_equal(fwrite(buf, 1, len, fp), len);
		rewind(fp);
		o.diag = on_diag;
		o.diag_ud = &d;
		assert_int_equal(ctp_snapshot_new(&snap), 0);
		assert_int_equal(ctp_parse_stream(snap, fp, "t", &o, &err), 0);
		check(&rows[i], snap, &d);
		ctp_snapshot_free(snap);
		fclose(fp);
		free(buf);
	}
}

/*
 * A syslog date going back a year adds a year (kmsg.c place_year); a log
 * whose dates wrapped 291,000 times (alternating "Dec 31" and "Jan 1"
 * lines, 51 MB) overflowed the microseconds: signed overflow, found by
 * UBSan.  Years are counted up to 1000 now.
 */
static void test_kmsg_year_wraps(void **state)
{
	static const char dec[] = "Dec 31 23:59:59 h kernel: nf_conntrack: "
				  "nf_conntrack: table full, dropping packet";
	static const char jan[] = "Jan  1 00:00:00 h kernel: nf_conntrack: "
				  "nf_conntrack: table full, dropping packet";
	static const int start[] = { 0, 291660 };
	fixture fx;

	(void)state;
	for (size_t r = 0; r < sizeof(start) / sizeof(start[0]); r++) {
		const ctp_kevent *ev;
		size_t n;

		fx_open_path(&fx, "");
		fx.ctx.kmsg_years = start[r];
		for (int i = 0; i < 2200; i++) {
			const char *s = i % 2 ? jan : dec;
			assert_true(ctp_kmsg_line(&fx.ctx, s,
						  sizeof(dec) - 1) >= 0);
			fx.ctx.line++;
		}
		assert_true(fx.ctx.kmsg_years <= (start[r] > 1000 ? start[r]
								  : 1000));
		if (!start[r])
			assert_int_equal(fx.ctx.kmsg_years, 1000);
		n = ctp_snapshot_kevent_count(fx.snap);
		assert_int_equal(n, 2200);
		ev = ctp_snapshot_kevents(fx.snap);
		/* times go forward while years are counted */
		if (!start[r])
			assert_true(ev[1].wall_us > ev[0].wall_us &&
				    ev[1999].wall_us > ev[1998].wall_us);
		fx_close(&fx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffer),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_kmsg_year_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
