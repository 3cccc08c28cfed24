/*
 * Kernel logs: the conntrack messages in them, with their times.
 *
 * Accepted line layouts (each line is recognised by its prefix alone, so
 * one file may mix them):
 *   dmesg                 "[  786.541314] msg", with util-linux -r
 *                         ("<4>[...] msg"), -x ("kern  :warn  : [...]
 *                         msg") and a printk caller id ("[...] [ T12]")
 *   dmesg -T              "[Thu Nov 26 18:32:10 2026] msg"
 *   dmesg --time-format iso "2026-11-26T18:32:10,541314+00:00 msg"
 *   journalctl -k         "Nov 26 18:32:10 host kernel: msg", and its -o
 *                         short-precise ("18:32:10.541314"), short-iso
 *                         ("2026-11-26T18:32:10+0100 host kernel: msg"),
 *                         short-iso-precise, short-monotonic ("[
 *                         786.541314] host kernel: msg"); its "-- Boot
 *                         ... --" and "-- Logs begin ..." lines
 *   syslog files          kern.log, messages: the traditional layout as
 *                         journalctl's short, or RFC 3339 as short-iso-
 *                         precise; the kernel's own "[  786.541314] " may
 *                         follow "kernel: "; rsyslog's "message repeated N
 *                         times: [ msg]" stands for N lines
 *
 * Every line of a log is accounted: a conntrack message (matched against
 * the kernel's texts in analyzer/kernel.c) or "net_ratelimit: N callbacks
 * suppressed" is a record (a ctp_kevent); any other line, including
 * other programs' syslog lines, is "other".  Only a conntrack message
 * that is cut short or carries a bad number is rejected.
 */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/kernel.h"
#include "cursor.h"
#include "parsers.h"

#define US_PER_S 1000000LL
#define S_PER_DAY 86400LL

/* What the prefix of a line says. */
typedef struct kline {
	const char *msg, *end; /* the message */
	int64_t boot_us, wall_us;
	unsigned flags;        /* CTP_KEV_F_BOOT, _WALL, _NOYEAR */
	int kernel;            /* the message is the kernel's */
	int boot_marker;       /* journalctl "-- Boot ... --" */
	const char *host_end;  /* syslog: end of the host name */
	/* a syslog date without a year: seconds into the 366-day year,
	 * microseconds; the year is added by the caller */
	int64_t noyear_us;
} kline;

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int starts(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* Exactly n digits at *p, value <= max. */
static int fixed_num(const char **p, const char *end, size_t n, unsigned max,
		     unsigned *out)
{
	unsigned v = 0;

	if ((size_t)(end - *p) < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return 0;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	if (v > max)
		return 0;
	*p += n;
	*out = v;
	return 1;
}

/* 1 to 9 fraction digits, as microseconds. */
static int frac_us(const char **p, const char *end, int64_t *us)
{
	const char *q = *p;
	int64_t v = 0;
	int n = 0;

	while (q < end && is_digit(*q) && n < 9) {
		v = v * 10 + (*q - '0');
		q++;
		n++;
	}
	if (!n || (q < end && is_digit(*q)))
		return 0;
	for (; n < 6; n++)
		v *= 10;
	for (; n > 6; n--)
		v /= 10;
	*us = v;
	*p = q;
	return 1;
}

/* "HH:MM:SS" as seconds. */
static int hms(const char **p, const char *end, int64_t *secs)
{
	unsigned h, m, s;

	if (!fixed_num(p, end, 2, 23, &h) || !ctp_cur_lit(p, end, ":") ||
	    !fixed_num(p, end, 2, 59, &m) || !ctp_cur_lit(p, end, ":") ||
	    !fixed_num(p, end, 2, 60, &s))
		return 0;
	*secs = (int64_t)h * 3600 + m * 60 + s;
	return 1;
}

/* sorted by nothing: twelve names, searched in order */
static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* days before each month in a leap year */
static const unsigned leap_cum[12] = {
	0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335,
};

static const unsigned mdays[12] = {
	31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
};

/* Month name at *p: 0..11, or -1. */
static int month(const char **p, const char *end)
{
	if (end - *p < 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (memcmp(*p, months[i], 3) == 0) {
			*p += 3;
			return i;
		}
	return -1;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (m 0..11, d 1..31), y >= 1970. */
static int64_t epoch_days(int64_t y, int m, unsigned d)
{
	int64_t days = 0;

	/* whole 400-year cycles first, so a year 9999 stays cheap */
	while (y - 1970 >= 400) {
		days += 146097;
		y -= 400;
	}
	for (int64_t k = 1970; k < y; k++)
		days += is_leap(k) ? 366 : 365;
	days += leap_cum[m] - (m >= 2 && !is_leap(y));
	return days + d - 1;
}

/* Day of month, one or two digits, maybe padded with a space before. */
static int mday(const char **p, const char *end, int m, unsigned *d)
{
	const char *q = *p;
	unsigned v = 0;
	int n = 0;

	while (q < end && is_digit(*q) && n < 2) {
		v = v * 10 + (unsigned)(*q - '0');
		q++;
		n++;
	}
	if (!n || v < 1 || v > mdays[m] || (q < end && is_digit(*q)))
		return 0;
	*p = q;
	*d = v;
	return 1;
}

/* "[  786.541314]": seconds since boot. */
static int boot_stamp(const char **p, const char *end, int64_t *us)
{
	const char *q = *p;
	uint64_t sec;
	int64_t frac;

	if (!ctp_cur_lit(&q, end, "["))
		return 0;
	while (q < end && *q == ' ')
		q++;
	if (ctp_cur_u64(&q, end, (uint64_t)INT64_MAX / US_PER_S - 1, &sec) ||
	    !ctp_cur_lit(&q, end, ".") || !frac_us(&q, end, &frac) ||
	    !ctp_cur_lit(&q, end, "]"))
		return 0;
	*us = (int64_t)sec * US_PER_S + frac;
	*p = q;
	return 1;
}

/* printk caller id after the time: "[ T123]" or "[C1]", maybe after a
 * space (util-linux) or right after the time (the console) */
static void caller_id(const char **p, const char *end)
{
	const char *q = *p;

	if (q < end && *q == ' ')
		q++;
	if (!ctp_cur_lit(&q, end, "["))
		return;
	while (q < end && *q == ' ')
		q++;
	if (q == end || (*q != 'T' && *q != 'C'))
		return;
	q++;
	if (q == end || !is_digit(*q))
		return;
	while (q < end && is_digit(*q))
		q++;
	if (ctp_cur_lit(&q, end, "]"))
		*p = q;
}

/* "[Thu Nov 26 18:32:10 2026]" (dmesg -T, ctime layout) */
static int ctime_stamp(const char **p, const char *end, int64_t *us)
{
	const char *q = *p;
	unsigned d, y;
	int64_t secs;
	int m;

	if (!ctp_cur_lit(&q, end, "[") || end - q < 4 || !is_lower(q[1]) ||
	    !is_lower(q[2]) || q[3] != ' ')
		return 0;
	q += 4;
	if ((m = month(&q, end)) < 0 || !ctp_cur_lit(&q, end, " "))
		return 0;
	while (q < end && *q == ' ')
		q++;
	if (!mday(&q, end, m, &d) || !ctp_cur_lit(&q, end, " ") ||
	    !hms(&q, end, &secs) || !ctp_cur_lit(&q, end, " ") ||
	    !fixed_num(&q, end, 4, 9999, &y) || y < 1970 ||
	    !ctp_cur_lit(&q, end, "]"))
		return 0;
	if (m == 1 && d == 29 && !is_leap(y))
		return 0;
	*us = (epoch_days(y, m, d) * S_PER_DAY + secs) * US_PER_S;
	*p = q;
	return 1;
}

/*
 * "2026-11-26T18:32:10[.541314|,541314][Z|+01:00|+0100]": *comma is set
 * for dmesg's "," before the fraction.
 */
static int iso_stamp(const char **p, const char *end, int64_t *us,
		     int *comma)
{
	const char *q = *p;
	unsigned y, mo, d, oh = 0, om = 0;
	int64_t secs, frac = 0;
	int sign = 0;

	if (!fixed_num(&q, end, 4, 9999, &y) || y < 1970 ||
	    !ctp_cur_lit(&q, end, "-") || !fixed_num(&q, end, 2, 12, &mo) ||
	    mo < 1 || !ctp_cur_lit(&q, end, "-") ||
	    !mday(&q, end, (int)mo - 1, &d) || q - *p != 10 ||
	    !ctp_cur_lit(&q, end, "T") || !hms(&q, end, &secs))
		return 0;
	if (mo == 2 && d == 29 && !is_leap(y))
		return 0;
	*comma = 0;
	if (q < end && (*q == '.' || *q == ',')) {
		*comma = *q == ',';
		q++;
		if (!frac_us(&q, end, &frac))
			return 0;
	}
	if (q < end && *q == 'Z') {
		q++;
	} else if (q < end && (*q == '+' || *q == '-')) {
		sign = *q == '-' ? -1 : 1;
		q++;
		if (!fixed_num(&q, end, 2, 23, &oh))
			return 0;
		ctp_cur_lit(&q, end, ":");
		if (!fixed_num(&q, end, 2, 59, &om))
			return 0;
	}
	secs += epoch_days(y, (int)mo - 1, d) * S_PER_DAY;
	secs -= sign * ((int64_t)oh * 3600 + om * 60);
	*us = secs * US_PER_S + frac;
	*p = q;
	return 1;
}

/* "Nov 26 18:32:10[.541314]": microseconds into a 366-day year */
static int syslog_stamp(const char **p, const char *end, int64_t *us)
{
	const char *q = *p;
	int64_t secs, frac = 0;
	unsigned d;
	int m;

	if ((m = month(&q, end)) < 0 || !ctp_cur_lit(&q, end, " "))
		return 0;
	if (q < end && *q == ' ')
		q++;
	if (!mday(&q, end, m, &d) || !ctp_cur_lit(&q, end, " ") ||
	    !hms(&q, end, &secs))
		return 0;
	if (q < end && *q == '.') {
		q++;
		if (!frac_us(&q, end, &frac))
			return 0;
	}
	secs += (int64_t)(leap_cum[m] + d - 1) * S_PER_DAY;
	*us = secs * US_PER_S + frac;
	*p = q;
	return 1;
}

static size_t tok(const char *p, const char *end)
{
	return ctp_cur_toklen(p, end);
}

/*
 * After a syslog time: "host tag: msg".  The message is the kernel's
 * when the tag is "kernel:"; the kernel's own time may open it.
 */
static void syslog_rest(const char *q, const char *end, kline *k)
{
	size_t n;

	k->kernel = 0;
	k->msg = k->end = end;
	n = tok(q, end);
	if (!n)
		return;
	/* busybox syslogd on routers writes no host: "... kernel: msg" */
	if (n == 7 && starts(q, end, "kernel:")) {
		q += 7;
		if (q < end)
			q++;
		k->kernel = 1;
		k->msg = q;
		return;
	}
	q += n; /* the host */
	k->host_end = q;
	if (q == end || *q != ' ')
		return;
	q++;
	if (!starts(q, end, "kernel:"))
		return;
	q += 7;
	if (q < end && *q != ' ')
		return;
	if (q < end)
		q++;
	k->kernel = 1;
	if (boot_stamp(&q, end, &k->boot_us)) {
		k->flags |= CTP_KEV_F_BOOT;
		if (q < end && *q == ' ')
			q++;
	}
	k->msg = q;
}

/* journalctl's own lines */
static const char *const journal_marks[] = {
	"-- Boot ", "-- Journal begins at ", "-- Journal ends at ",
	"-- Logs begin at ", "-- No entries --", "-- Reboot --",
};

/*
 * Read the prefix of a line.  Returns 1 if it is a kernel log line (k
 * filled), else 0.  in_log: the line is inside a kernel log, so an
 * indented line (dmesg's continuation of a multi-line message) is one.
 */
static int parse_prefix(const char *s, size_t len, int in_log, kline *k)
{
	const char *p = s, *end = s + len, *q;
	int comma;

	memset(k, 0, sizeof(*k));
	/* syslog files written at a crash start lines with NUL bytes */
	while (p < end && *p == '\0')
		p++;
	k->msg = k->end = end;
	for (size_t i = 0;
	     i < sizeof(journal_marks) / sizeof(journal_marks[0]); i++)
		if (starts(p, end, journal_marks[i])) {
			k->boot_marker = i == 0 || i == 5;
			return 1;
		}
	if (p == end)
		return 0;
	if (*p == ' ' || *p == '\t')
		return in_log;

	/* dmesg -r: "<4>" */
	if (*p == '<') {
		q = p + 1;
		while (q < end && is_digit(*q) && q - p < 4)
			q++;
		if (q > p + 1 && q < end && *q == '>')
			p = q + 1;
	}
	/* dmesg -x: "kern  :warn  : " */
	if (p < end && is_lower(*p)) {
		q = p;
		while (q < end && (is_lower(*q) || is_digit(*q)))
			q++;
		while (q < end && *q == ' ')
			q++;
		if (q < end && *q == ':') {
			const char *l = ++q;
			while (q < end && is_lower(*q))
				q++;
			if (q > l) {
				while (q < end && *q == ' ')
					q++;
				if (starts(q, end, ": "))
					p = q + 2;
			}
		}
	}

	q = p;
	if (boot_stamp(&q, end, &k->boot_us)) {
		caller_id(&q, end);
		/* a tab after it is conntrack -E -o timestamp, not dmesg */
		if (q < end && *q != ' ')
			return 0;
		if (q < end)
			q++;
		k->flags = CTP_KEV_F_BOOT;
		k->kernel = 1;
		k->msg = q;
		/* journalctl -o short-monotonic: "[...] host kernel: msg" */
		{
			size_t n = tok(q, end);
			if (n && q[n - 1] != ':' &&
			    starts(q + n, end, " kernel: "))
				k->msg = q + n + 9;
		}
		return 1;
	}
	q = p;
	if (ctime_stamp(&q, end, &k->wall_us)) {
		if (q < end && *q != ' ')
			return 0;
		k->flags = CTP_KEV_F_WALL;
		k->kernel = 1;
		k->msg = q < end ? q + 1 : q;
		return 1;
	}
	q = p;
	if (iso_stamp(&q, end, &k->wall_us, &comma)) {
		if (q < end && *q != ' ')
			return 0;
		k->flags = CTP_KEV_F_WALL;
		if (q < end)
			q++;
		if (comma) { /* dmesg --time-format iso */
			k->kernel = 1;
			k->msg = q;
		} else {
			syslog_rest(q, end, k);
		}
		return 1;
	}
	q = p;
	if (syslog_stamp(&q, end, &k->noyear_us)) {
		if (q < end && *q != ' ')
			return 0;
		k->flags = CTP_KEV_F_WALL | CTP_KEV_F_NOYEAR;
		if (q < end)
			q++;
		syslog_rest(q, end, k);
		return 1;
	}
	return 0;
}

/*
 * A line whose prefix is cut or unusual (a syslog line without its date,
 * the first characters missing, dmesg -H's "[  +0.000004]", a vendor's
 * own) still holds the kernel's message: the full-table texts are found
 * wherever they are (match_pattern), such a line counts without a time.
 */
static int holds_full_message(const char *s, size_t len)
{
	return memmem(s, len, "conntrack: table full", 21) ||
	       memmem(s, len, "conntrack: expectation table full", 33);
}

int ctp_kmsg_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	kline k;

	return parse_prefix(s, len, ctx->cur == CTP_FMT_KMSG, &k) ||
	       holds_full_message(s, len);
}

/* match results */
enum { M_NO = 0, M_YES, M_CUT, M_BAD };

typedef struct match {
	uint64_t val[2];
	const char *at;   /* where it went wrong (M_CUT, M_BAD) */
	int num_status;   /* CTP_NUM_* of a bad number */
} match;

/*
 * The conntrack messages of every kernel generation, one PCRE2 pattern
 * each, with the versions that print it.  Sources (the kernel's own
 * printk texts; analyzer/kernel.c holds the fuller notes):
 *   [2.6ip]  2.6.x net/ipv4/netfilter/ip_conntrack_core.c: if
 *            (net_ratelimit()) printk(KERN_WARNING "ip_conntrack: table
 *            full, dropping packet.\n")
 *   [3.x]    torvalds/linux @011e3c63 net/netfilter/nf_conntrack_core.c
 *            __nf_conntrack_alloc(): "nf_conntrack: table full, dropping
 *            packet.\n"; nf_ct_alloc_hashtable(): "nf_conntrack: falling
 *            back to vmalloc.\n"; nf_conntrack_init_start(): KERN_INFO
 *            "nf_conntrack version %s (%u buckets, %d max)\n";
 *            nf_conntrack_expect.c: "nf_conntrack: expectation table
 *            full\n"
 *   [3.5]    e87cc4728f0e (v3.5): net_warn_ratelimited("nf_conntrack:
 *            table full, dropping packet\n"), no period
 *   [4.9v]   4.9 nf_conntrack_core.c: #define pr_fmt(fmt) KBUILD_MODNAME
 *            ": " fmt, so the text gets a second "nf_conntrack: "; [5.4v]
 *            and Debian 6.1 linux-source-6.1 the same
 *   [6.17]   "netfilter: conntrack: table full detailed log" (v6.17):
 *            "nf_conntrack: table full in netns %u, dropping packet\n"
 *            outside init_net
 *   [helper] nf_conntrack_helper.c pr_info: "automatic helper
 *            assignment is deprecated" (3.5 - 4.6), "default automatic
 *            helper assignment has been turned off" (4.7 - 5.19)
 *   [rl]     lib/ratelimit.c ___ratelimit(): "%s: %d callbacks
 *            suppressed\n" with func "net_ratelimit" (net/core/utils.c)
 * A number is captured loosely (NUM) and checked after the match, so a
 * bad one is an error with its column, not a line that silently does not
 * match.  Patterns end at the line's end (trailing blanks allowed) but for
 * those marked open; longer texts of a kind come first.
 */
#define NUM "([^\\s,()]*)"
#define END "[ \\t]*$"

static const struct kmsg_pattern {
	int kind;              /* ctp_kev_kind */
	const char *re;
	unsigned char arg[2];  /* CTP_KMSG_ARG_* of captures 1 and 2 */
	const char *versions;
	const char *source;
} kmsg_patterns[] = {
	{ CTP_KEV_TABLE_FULL,
	  "nf_conntrack: nf_conntrack: table full in netns " NUM
	  ", dropping packet" END,
	  { CTP_KMSG_ARG_NETNS, 0 }, "6.17+ (not the initial netns)",
	  "[6.17]" },
	{ CTP_KEV_TABLE_FULL,
	  "nf_conntrack: nf_conntrack: table full, dropping packet" END,
	  { 0, 0 }, "4.9 at the latest - 6.16; 6.17+ in the initial netns",
	  "[4.9v], [5.4v], 6.1" },
	{ CTP_KEV_TABLE_FULL, "nf_conntrack: table full, dropping packet\\." END,
	  { 0, 0 }, "2.6.15 - 3.4", "[3.x]" },
	{ CTP_KEV_TABLE_FULL, "nf_conntrack: table full, dropping packet" END,
	  { 0, 0 }, "3.5 - (before pr_fmt; seen on 3.10, 4.2)", "[3.5]" },
	{ CTP_KEV_TABLE_FULL, "ip_conntrack: table full, dropping packet\\." END,
	  { 0, 0 }, "2.4 - 2.6.22 (ip_conntrack)", "[2.6ip]" },
	{ CTP_KEV_TABLE_FULL, "ip_conntrack: table full, dropping packet" END,
	  { 0, 0 }, "ip_conntrack, logs without the period", "[2.6ip]" },
	{ CTP_KEV_EXPECT_FULL, "nf_conntrack: expectation table full" END,
	  { 0, 0 }, "all", "[3.x], 6.1 nf_ct_expect_insert()" },
	{ CTP_KEV_SUPPRESSED, "net_ratelimit: " NUM " callbacks suppressed" END,
	  { CTP_KMSG_ARG_VALUE, 0 }, "all", "[rl]" },
	{ CTP_KEV_CT_SIZE,
	  "nf_conntrack version 0\\.5\\.0 \\(" NUM " buckets, " NUM " max\\)"
	  END,
	  { CTP_KMSG_ARG_VALUE, CTP_KMSG_ARG_VALUE2 }, "2.6.15 - 4.9+",
	  "[3.x], [4.9v]; gone in [5.4v]" },
	{ CTP_KEV_VMALLOC, "nf_conntrack: falling back to vmalloc\\." END,
	  { 0, 0 }, "2.6.x - 3.x", "[3.x]" },
	/* open: the rest of the sentence varies */
	{ CTP_KEV_HELPER, "nf_conntrack: automatic helper assignment is "
			  "deprecated",
	  { 0, 0 }, "3.5 - 4.6", "[helper]" },
	{ CTP_KEV_HELPER, "nf_conntrack: default automatic helper assignment "
			  "has been turned off",
	  { 0, 0 }, "4.7 - 5.19", "[helper]" },
};
#define NPATTERNS (sizeof(kmsg_patterns) / sizeof(kmsg_patterns[0]))

/* The compiled table of one input (ctx->kmsg_re), made at its first
 * conntrack line. */
typedef struct kmsg_re {
	pcre2_code *code[NPATTERNS];
	pcre2_match_data *md;
} kmsg_re;

void ctp_kmsg_release(ctp_pctx *ctx)
{
	kmsg_re *k = ctx->kmsg_re;

	if (!k)
		return;
	for (size_t i = 0; i < NPATTERNS; i++)
		pcre2_code_free(k->code[i]);
	pcre2_match_data_free(k->md);
	free(k);
	ctx->kmsg_re = NULL;
}

static kmsg_re *kmsg_compile(ctp_pctx *ctx)
{
	kmsg_re *k;
	int errc;
	PCRE2_SIZE erroff;

	if (ctx->kmsg_re)
		return ctx->kmsg_re;
	if (!(k = calloc(1, sizeof(*k))))
		return NULL;
	ctx->kmsg_re = k;
	for (size_t i = 0; i < NPATTERNS; i++) {
		k->code[i] = pcre2_compile((PCRE2_SPTR)kmsg_patterns[i].re,
					   PCRE2_ZERO_TERMINATED, 0, &errc,
					   &erroff, NULL);
		if (!k->code[i]) {
			ctp_kmsg_release(ctx);
			return NULL;
		}
		/* JIT where the library has it; the interpreter else */
		(void)pcre2_jit_compile(k->code[i], PCRE2_JIT_COMPLETE |
							    PCRE2_JIT_PARTIAL_SOFT);
	}
	if (!(k->md = pcre2_match_data_create(4, NULL))) {
		ctp_kmsg_release(ctx);
		return NULL;
	}
	return k;
}

static int blank_rest(const char *m, const char *end)
{
	for (; m < end; m++)
		if (*m != ' ' && *m != '\t')
			return 0;
	return 1;
}

/*
 * Find pattern i in m[0, end): anywhere, whatever precedes it (a cut or
 * unusual prefix).  A match the end of the line cuts short is M_CUT once
 * 15 bytes of it are there (less could be another message); a captured
 * number that does not parse is M_BAD.
 */
static int match_pattern(kmsg_re *k, size_t i, const char *m,
			 const char *end, match *r)
{
	int rc = pcre2_match(k->code[i], (PCRE2_SPTR)m, (size_t)(end - m), 0,
			     PCRE2_PARTIAL_SOFT, k->md, NULL);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(k->md);

	if (rc == PCRE2_ERROR_PARTIAL) {
		if ((size_t)(end - m) - ov[0] >= 15) {
			r->at = end;
			return M_CUT;
		}
		return M_NO;
	}
	if (rc < 0)
		return M_NO;
	for (int a = 0; a < 2 && a + 1 < rc; a++) {
		const char *q = m + ov[2 * (a + 1)];
		const char *qe = m + ov[2 * (a + 1) + 1];
		uint64_t v;
		int st = ctp_cur_u64(&q, qe, UINT32_MAX, &v);
		if (st != CTP_NUM_OK || q != qe) {
			r->at = m + ov[2 * (a + 1)];
			r->num_status = st == CTP_NUM_OK ? CTP_NUM_NONE : st;
			return M_BAD;
		}
		r->val[a] = v;
	}
	r->at = m + ov[0];
	return M_YES;
}

static int add_event(ctp_pctx *ctx, const kline *k, int kind,
		     uint32_t repeat, const struct kmsg_pattern *kt,
		     const match *r)
{
	ctp_kevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.boot_us = k->boot_us;
	ev.wall_us = k->wall_us;
	ev.flags = (uint8_t)k->flags;
	ev.kind = (uint8_t)kind;
	ev.repeat = repeat ? repeat : 1;
	ev.input = ctx->input;
	ev.line = ctx->line > UINT32_MAX ? UINT32_MAX : (uint32_t)ctx->line;
	for (int i = 0; kt && i < 2; i++) {
		switch (kt->arg[i]) {
		case CTP_KMSG_ARG_NETNS:
			ev.netns = (uint32_t)r->val[i];
			ev.flags |= CTP_KEV_F_NETNS;
			break;
		case CTP_KMSG_ARG_VALUE:
			ev.value = r->val[i];
			break;
		case CTP_KMSG_ARG_VALUE2:
			ev.value2 = r->val[i];
			break;
		default:
			break;
		}
	}
	if (ctp_snapshot_add_kevent(ctx->snap, &ev))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	return 0;
}

/* new years counted in one input, at most */
#define CTP_KMSG_MAX_YEARS 1000

/* A year for a syslog date: a date well before the last one read means
 * the log went past new year. */
static void place_year(ctp_pctx *ctx, kline *k)
{
	const int64_t year = 366 * S_PER_DAY * US_PER_S;
	int64_t t = k->noyear_us + ctx->kmsg_years * year;

	/* at most CTP_KMSG_MAX_YEARS: dates that keep wrapping (a hostile
	 * log) would overflow the microseconds after 291,000 years */
	if (ctx->kmsg_prev_noyear && t < ctx->kmsg_prev_noyear - year / 2 &&
	    ctx->kmsg_years < CTP_KMSG_MAX_YEARS) {
		ctx->kmsg_years++;
		t += year;
	}
	ctx->kmsg_prev_noyear = t;
	k->wall_us = t;
}

/*
 * sysklogd's "host last message repeated N times" (N more of the line
 * before): copy the event of that line, if it gave one.
 */
static int repeated_line(ctp_pctx *ctx, const kline *k)
{
	size_t n = ctp_snapshot_kevent_count(ctx->snap);
	const ctp_kevent *prev;
	const char *q;
	uint64_t times;
	ctp_kevent ev;

	if (!n || !k->host_end)
		return CTP_LINE_OTHER;
	prev = &ctp_snapshot_kevents(ctx->snap)[n - 1];
	q = k->host_end;
	if (prev->input != ctx->input || prev->line + 1 != ctx->line ||
	    prev->kind == CTP_KEV_BOOT ||
	    !ctp_cur_lit(&q, k->end, " last message repeated ") ||
	    ctp_cur_u64(&q, k->end, UINT32_MAX, &times) != CTP_NUM_OK ||
	    !times || !ctp_cur_lit(&q, k->end, " time") ||
	    !blank_rest(q + (q < k->end && *q == 's'), k->end))
		return CTP_LINE_OTHER;
	ev = *prev;
	ev.repeat = (uint32_t)times;
	ev.line = (uint32_t)ctx->line;
	ev.wall_us = k->wall_us;
	ev.flags = (uint8_t)((prev->flags & CTP_KEV_F_NETNS) | k->flags);
	ev.boot_us = 0;
	if (ctp_snapshot_add_kevent(ctx->snap, &ev)) {
		ctp_pctx_fail(ctx, 0, "out of memory");
		return CTP_ENOMEM;
	}
	return CTP_LINE_RECORD;
}

/* a cheap filter before the patterns: none holds neither */
static int mentions_conntrack(const char *m, const char *end)
{
	size_t n = (size_t)(end - m);

	return memmem(m, n, "_conntrack", 10) ||
	       memmem(m, n, "net_ratelimit:", 14);
}

int ctp_kmsg_line(ctp_pctx *ctx, const char *s, size_t len)
{
	ctp_input_info *in = ctp_snapshot_input_mut(ctx->snap, ctx->input);
	kmsg_re *re;
	const char *m, *end;
	uint32_t repeat = 1;
	kline k;
	match best;
	int best_rc = M_NO;

	if (!parse_prefix(s, len, ctx->cur == CTP_FMT_KMSG, &k)) {
		if (!holds_full_message(s, len))
			return ctp_pctx_fail(ctx, 0, "not a kernel log line");
		/* an unknown prefix: the message counts, with no time */
		memset(&k, 0, sizeof(k));
		k.kernel = 1;
		k.msg = s;
		k.end = s + len;
	}
	/* every line of a log marks the input as one, records or not */
	if (in)
		in->formats |= CTP_FMT_KMSG;
	if (k.flags & CTP_KEV_F_NOYEAR)
		place_year(ctx, &k);
	if (k.boot_marker) {
		if (add_event(ctx, &k, CTP_KEV_BOOT, 1, NULL, NULL))
			return CTP_ENOMEM;
		return CTP_LINE_OTHER;
	}
	if (!k.kernel)
		return repeated_line(ctx, &k);
	m = k.msg;
	end = k.end;
	if (starts(m, end, "Linux version ")) {
		if (add_event(ctx, &k, CTP_KEV_BOOT, 1, NULL, NULL))
			return CTP_ENOMEM;
		return CTP_LINE_OTHER;
	}
	/* rsyslog's repeated message reduction */
	if (starts(m, end, "message repeated ")) {
		const char *q = m + 17;
		uint64_t n;
		if (ctp_cur_u64(&q, end, UINT32_MAX, &n) == CTP_NUM_OK &&
		    n > 0 && ctp_cur_lit(&q, end, " times: [") &&
		    end > q && end[-1] == ']') {
			if (q < end && *q == ' ')
				q++;
			m = q;
			end--;
			repeat = (uint32_t)n;
		}
	}
	if (!mentions_conntrack(m, end))
		return CTP_LINE_OTHER;
	if (!(re = kmsg_compile(ctx)))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	if (memchr(m, '\0', (size_t)(end - m)))
		return ctp_pctx_fail(ctx, (size_t)((const char *)memchr(
					      m, '\0', (size_t)(end - m)) - s),
				     "NUL byte in a conntrack message");
	memset(&best, 0, sizeof(best));
	for (size_t i = 0; i < NPATTERNS; i++) {
		match r;
		int rc;

		memset(&r, 0, sizeof(r));
		rc = match_pattern(re, i, m, end, &r);
		if (rc == M_YES) {
			if (add_event(ctx, &k, kmsg_patterns[i].kind, repeat,
				      &kmsg_patterns[i], &r))
				return CTP_ENOMEM;
			return CTP_LINE_RECORD;
		}
		if (rc > best_rc) {
			best_rc = rc;
			best = r;
		}
	}
	if (best_rc == M_BAD) {
		size_t n = 0;
		while (best.at + n < end && is_digit(best.at[n]))
			n++;
		if (!n)
			n = ctp_cur_toklen(best.at, end);
		return ctp_pctx_fail(ctx, (size_t)(best.at - s),
				     "cannot parse '%.*s' in a conntrack "
				     "message: %s",
				     (int)(n > 32 ? 32 : n), best.at,
				     best.num_status == CTP_NUM_RANGE
					     ? "number out of range"
					     : "expected a number");
	}
	if (best_rc == M_CUT)
		return ctp_pctx_fail(ctx, (size_t)(best.at - s),
				     "conntrack message cut short: '%.*s'",
				     (int)(end - m > 60 ? 60 : end - m), m);
	return CTP_LINE_OTHER;
}
