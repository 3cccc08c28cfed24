/*
 * /proc/net/stat/nf_conntrack: a header line of column names, then one
 * row per possible CPU of 8-digit hex counters.
 *
 * Printing rules: the kernel's ct_cpu_seq_show (net/netfilter/
 * nf_conntrack_standalone.c, 4.x - 6.1; the 6.18 lab capture has the
 * same header): rows are "%08x  %08x %08x ..." (two spaces after the
 * first and the thirteenth column).  The header changed while the column
 * positions stayed:
 *   4.x - 5.9: "entries  searched found new invalid ignore delete
 *              delete_list insert insert_failed drop early_drop icmp_error
 *              expect_new expect_create expect_delete search_restart"
 *   about 5.10: "searched" renamed "clashres" (clash_resolve)
 *   5.15:      "delete_list" renamed "chainlength" (chaintoolong)
 *   2.6.x:     16 columns, without search_restart
 * Current kernels write 0 in new, ignore and delete; before the renames
 * searched and delete_list were written as 0 too, and for a while during
 * 5.9 development clash_resolve was written under "searched".  So columns
 * are mapped by the header's names, never by position, and a zero column
 * reads as a zero counter; a name ctp_stat_lookup() does not know is
 * skipped.  "entries" is the global count repeated on every row; the
 * snapshot keeps it rather than summing.
 */
#include <string.h>

#include "cursor.h"
#include "parsers.h"

#define QUOTE_MAX 64
/* a row this wide is counters even before a header is seen (2.6.x had 16
 * columns, later kernels 17) */
#define ROW_MIN_TOKENS 12

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static int is_hex8(const char *p, size_t n)
{
	if (n != 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_hex(p[i]))
			return 0;
	return 1;
}

/* Number of tokens if every token is 8 hex digits, else 0. */
static size_t hex_row_tokens(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	size_t ntok = 0;

	for (;;) {
		size_t n;

		ctp_cur_blank(&p, end);
		if (p == end)
			return ntok;
		n = ctp_cur_toklen(p, end);
		if (!is_hex8(p, n))
			return 0;
		p += n;
		ntok++;
	}
}

static int is_header(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	size_t n;

	if (!ctp_cur_lit(&p, end, "entries") || p == end ||
	    (*p != ' ' && *p != '\t'))
		return 0;
	ctp_cur_blank(&p, end);
	n = ctp_cur_toklen(p, end);
	return n > 0 && ctp_stat_lookup(p, n) >= 0;
}

int ctp_proc_stat_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	size_t ntok;

	if (is_header(s, len))
		return 1;
	ntok = hex_row_tokens(s, len);
	if (!ntok)
		return 0;
	return ctx->proc_stat_ncols > 0 || ctx->cur == CTP_FMT_PROC_STAT ||
	       ntok >= ROW_MIN_TOKENS;
}

static int header_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	int cols[CTP_PROC_STAT_MAXCOLS];
	int ncols = 0;

	for (;;) {
		size_t n;

		ctp_cur_blank(&p, end);
		if (p == end)
			break;
		n = ctp_cur_toklen(p, end);
		if (ncols == CTP_PROC_STAT_MAXCOLS)
			return ctp_pctx_fail(ctx, (size_t)(p - s),
					     "too many columns in header: "
					     "at most %d",
					     CTP_PROC_STAT_MAXCOLS);
		cols[ncols++] = ctp_stat_lookup(p, n);
		p += n;
	}
	memcpy(ctx->proc_stat_cols, cols, sizeof(cols[0]) * (size_t)ncols);
	ctx->proc_stat_ncols = ncols;
	return CTP_LINE_OTHER;
}

static int row_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	uint64_t val[CTP_PROC_STAT_MAXCOLS];
	int ncols = ctx->proc_stat_ncols, i = 0;

	if (ncols <= 0)
		return ctp_pctx_fail(ctx, 0,
				     "hex counters without a header line");
	for (;;) {
		const char *tok;
		size_t n;

		ctp_cur_blank(&p, end);
		if (p == end)
			break;
		tok = p;
		n = ctp_cur_toklen(tok, end);
		if (!is_hex8(tok, n))
			return ctp_pctx_fail(ctx, (size_t)(tok - s),
					     "cannot parse '%.*s': expected "
					     "8 hex digits",
					     quote_len(n), tok);
		if (i == ncols)
			return ctp_pctx_fail(ctx, (size_t)(tok - s),
					     "more counters than the %d "
					     "header columns",
					     ncols);
		/* 8 hex digits always fit and always parse */
		(void)ctp_cur_hex(&p, tok + n, UINT32_MAX, &val[i]);
		p = tok + n;
		i++;
	}
	if (i < ncols)
		return ctp_pctx_fail(ctx, len,
				     "expected %d counters as in the header, "
				     "found %d",
				     ncols, i);

	ctp_snapshot_stat_row(ctx->snap, ctx->input);
	for (i = 0; i < ncols; i++)
		if (ctx->proc_stat_cols[i] >= 0)
			ctp_snapshot_add_stat(ctx->snap, ctx->input,
					      (ctp_stat)ctx->proc_stat_cols[i],
					      val[i]);
	return CTP_LINE_RECORD;
}

int ctp_proc_stat_line(ctp_pctx *ctx, const char *s, size_t len)
{
	size_t n = ctp_cur_toklen(s, s + len);

	if (n == 7 && memcmp(s, "entries", 7) == 0)
		return header_line(ctx, s, len);
	return row_line(ctx, s, len);
}
