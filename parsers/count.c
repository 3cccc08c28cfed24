/*
 * A bare number on its own line: conntrack -C, or a saved
 * /proc/sys/net/netfilter/nf_conntrack_count.
 *
 * conntrack-tools src/conntrack.c (1.4.4 - 1.4.9), CT_COUNT: prints
 * "%d\n" of CTA_STATS_GLOBAL_ENTRIES (nfct_global_stats_cb), or of the
 * nf_conntrack_count file when netlink fails.
 *
 * Other saved /proc/sys files and module parameter files hold bare
 * numbers too, but they are settings: sysctl.c names them by their path,
 * so this module leaves every such file alone except nf_conntrack_count.
 */
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "parsers.h"

#define QUOTE_MAX 64

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

int ctp_count_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *d;

	if (ctp_sysctl_owns_path(ctx->path))
		return 0;
	ctp_cur_blank(&p, end);
	d = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == d)
		return 0;
	ctp_cur_blank(&p, end);
	return p == end;
}

int ctp_count_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *tok;
	uint64_t v;
	size_t n;
	int rc;

	ctp_cur_blank(&p, end);
	tok = p;
	n = ctp_cur_toklen(tok, end);
	rc = ctp_cur_u64(&p, end, INT64_MAX, &v);
	if (rc == CTP_NUM_OK && p != tok + n)
		rc = CTP_NUM_NONE;
	if (rc == CTP_NUM_OK) {
		ctp_cur_blank(&p, end);
		if (p != end)
			return ctp_pctx_fail(ctx, (size_t)(p - s),
					     "unexpected text after the "
					     "count");
	}
	if (rc != CTP_NUM_OK)
		return ctp_pctx_fail(ctx, (size_t)(tok - s),
				     "cannot parse '%.*s': %s",
				     quote_len(n), tok,
				     rc == CTP_NUM_RANGE ?
				     "number out of range" :
				     "expected a number");
	ctp_snapshot_set_count(ctx->snap, v);
	return CTP_LINE_RECORD;
}
