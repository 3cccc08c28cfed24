/*
 * conntrack -S: one line per possible CPU.
 *
 * Printing rules: conntrack-tools src/conntrack.c (1.4.4 - 1.4.9),
 * nfct_stats_cb():
 *   "cpu=%-4u\t" then "%s=%u " for each counter the kernel sent, in
 *   CTA_STATS_* order, so the line ends in a space.
 * Which names appear depends on the kernel: up to 4.8 "searched found new
 * invalid ignore delete delete_list insert insert_failed drop early_drop
 * error search_restart"; later kernels stop sending searched, new, delete
 * and delete_list, then ignore, and add clash_resolve and chaintoolong.
 * Counters newer than the conntrack binary are printed as unknown1 ..
 * unknown4; they and any other name we do not know are checked for shape
 * and otherwise ignored.
 *
 * When the netlink dump fails, display_proc_conntrack_stats() (1.4.5 and
 * later) prints the same shape from /proc/net/stat/nf_conntrack: the
 * header names become the keys (entries=, clashres=, icmp_error=, ...)
 * and the hex values are printed in decimal.  ctp_stat_lookup() maps
 * those names.  (1.4.4 and older printed only CPU 0 there, one
 * "%-10s\t\t%-8u" line per counter; that form is not read.)
 *
 * "conntrack -S expect" (nfexp_stats_cb) prints the same shape with
 * expect_new, expect_create and expect_delete only.
 *
 * conntrack -S prints no global line: CTA_STATS_GLOBAL_ENTRIES is asked
 * for only by -C, which prints a bare number (see count.c).
 */
#include <inttypes.h>
#include <string.h>

#include "cursor.h"
#include "parsers.h"

/* longest part of a bad token quoted in a message */
#define QUOTE_MAX 64

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

int ctp_stats_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	(void)ctx;
	return len >= 4 && memcmp(s, "cpu=", 4) == 0;
}

static int is_expect_stat(int id)
{
	return id == CTP_STAT_EXPECT_NEW || id == CTP_STAT_EXPECT_CREATE ||
	       id == CTP_STAT_EXPECT_DELETE;
}

int ctp_stats_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	uint64_t val[CTP_STAT_COUNT] = { 0 };
	uint32_t seen = 0;
	int cpu_row = 0;
	uint64_t cpu;
	size_t n;
	int rc;

	if (!ctp_cur_lit(&p, end, "cpu="))
		return ctp_pctx_fail(ctx, 0, "expected 'cpu=' at line start");
	rc = ctp_cur_u64(&p, end, UINT16_MAX, &cpu);
	if (rc == CTP_NUM_OK && p < end && *p != ' ' && *p != '\t')
		rc = CTP_NUM_NONE;
	if (rc != CTP_NUM_OK) {
		n = ctp_cur_toklen(s, end);
		return ctp_pctx_fail(ctx, 0, "cannot parse '%.*s': %s",
				     quote_len(n), s,
				     rc == CTP_NUM_RANGE ?
				     "number out of range" :
				     "expected a CPU number");
	}

	for (;;) {
		const char *tok, *eq, *q, *tend;
		uint64_t v;
		int id;

		ctp_cur_blank(&p, end);
		if (p == end)
			break;
		tok = p;
		n = ctp_cur_toklen(tok, end);
		tend = tok + n;
		p = tend;
		eq = memchr(tok, '=', n);
		for (q = tok; eq && q < eq; q++)
			if (!is_name_char(*q))
				break;
		if (!eq || eq == tok || q != eq)
			return ctp_pctx_fail(ctx, (size_t)(tok - s),
					     "cannot parse '%.*s': expected "
					     "'name=value'",
					     quote_len(n), tok);
		q = eq + 1;
		rc = ctp_cur_u64(&q, tend, UINT32_MAX, &v);
		if (rc == CTP_NUM_OK && q != tend)
			rc = CTP_NUM_NONE;
		if (rc != CTP_NUM_OK)
			return ctp_pctx_fail(ctx, (size_t)(tok - s),
					     "cannot parse '%.*s': %s",
					     quote_len(n), tok,
					     rc == CTP_NUM_RANGE ?
					     "number out of range" :
					     "expected a number");
		id = ctp_stat_lookup(tok, (size_t)(eq - tok));
		if (id < 0)
			continue; /* unknown1..4 or a future counter */
		val[id] += v;
		seen |= 1u << id;
		if (!is_expect_stat(id))
			cpu_row = 1;
	}

	/*
	 * A line of -S expect only (all its known keys expect_*) is the
	 * same CPU again, so it adds no CPU row; any other line, even one
	 * with no known key, is one CPU.
	 */
	if (cpu_row || !seen) {
		/* a CPU's row twice in one input (an expect-only row is the
		 * same CPU again, by design): its counters add up twice */
		uint64_t *w = NULL, bit = 1ull << (cpu % 64);
		if (cpu / 64 < sizeof(ctx->stats_cpus) /
				       sizeof(ctx->stats_cpus[0]))
			w = &ctx->stats_cpus[cpu / 64];
		if (w && (*w & bit))
			ctp_pctx_warn(ctx, 0,
				      "cpu=%" PRIu64 " again in this input: its "
				      "counters are added twice (two -S "
				      "outputs in one file?)",
				      cpu);
		if (w)
			*w |= bit;
		ctp_snapshot_stat_row(ctx->snap, ctx->input);
	}
	for (int id = 0; id < CTP_STAT_COUNT; id++)
		if (seen & (1u << id))
			ctp_snapshot_add_stat(ctx->snap, ctx->input,
					      (ctp_stat)id, val[id]);
	return CTP_LINE_RECORD;
}
