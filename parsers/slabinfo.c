/*
 * /proc/slabinfo: the size the kernel really gives one conntrack entry.
 *
 * Format (mm/slab_common.c, 6.1: print_slabinfo_header, cache_show):
 *   slabinfo - version: 2.1
 *   # name <active_objs> <num_objs> <objsize> <objperslab>
 *     <pagesperslab> : tunables <limit> <batchcount> <sharedfactor>
 *     : slabdata <active_slabs> <num_slabs> <sharedavail>
 *   nf_conntrack  828  828  320  12  1 : tunables 0 0 0 : slabdata ...
 * one line per cache, the name padded to 17 columns.  The conntrack
 * cache is "nf_conntrack" (net/netfilter/nf_conntrack_core.c, 6.1:
 * kmem_cache_create("nf_conntrack", sizeof(struct nf_conn), ...)); old
 * kernels made one per namespace named "nf_conntrack_<address>" (3.10:
 * kasprintf("nf_conntrack_%p", net)).  The expectation cache
 * "nf_conntrack_expect" is not an entry.  Every other cache's line is
 * read and counted as "other".
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "cursor.h"
#include "parsers.h"

#define HEADER "slabinfo - version:"

/* name, then five numbers, then " : tunables": *nums gets them */
static int data_line(const char *s, size_t len, size_t *namelen,
		     uint64_t nums[5], const char **after)
{
	const char *p = s, *end = s + len;
	size_t n = ctp_cur_toklen(s, end);

	if (n == 0 || s[0] == '#')
		return 0;
	p = s + n;
	for (int i = 0; i < 5; i++) {
		const char *q;
		ctp_cur_blank(&p, end);
		q = p;
		if (ctp_cur_u64(&p, end, UINT64_MAX, &nums[i]) != CTP_NUM_OK ||
		    (p < end && *p != ' ' && *p != '\t') || p == q)
			return 0;
	}
	ctp_cur_blank(&p, end);
	if (!ctp_cur_lit(&p, end, ": tunables"))
		return 0;
	*namelen = n;
	*after = p;
	return 1;
}

int ctp_slabinfo_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	size_t n;
	uint64_t nums[5];
	const char *after;

	(void)ctx;
	if (len >= strlen(HEADER) && memcmp(s, HEADER, strlen(HEADER)) == 0)
		return 1;
	if (len >= 7 && memcmp(s, "# name ", 7) == 0 &&
	    memmem(s, len, "<objsize>", 9))
		return 1;
	return data_line(s, len, &n, nums, &after);
}

/* "nf_conntrack" or "nf_conntrack_<hex address>" */
static int is_conntrack_cache(const char *s, size_t n)
{
	static const char base[] = "nf_conntrack";
	size_t b = sizeof(base) - 1;

	if (n < b || memcmp(s, base, b) != 0)
		return 0;
	if (n == b)
		return 1;
	if (s[b] != '_' || n == b + 1)
		return 0;
	for (size_t i = b + 1; i < n; i++)
		if (ctp_cur_hexval(s[i]) < 0)
			return 0;
	return 1;
}

int ctp_slabinfo_line(ctp_pctx *ctx, const char *s, size_t len)
{
	size_t n;
	uint64_t nums[5];
	const char *after;
	ctp_slab_info slab;

	if (!data_line(s, len, &n, nums, &after))
		return CTP_LINE_OTHER; /* the header lines */
	if (!is_conntrack_cache(s, n))
		return CTP_LINE_OTHER;
	if (nums[2] == 0 || nums[2] > UINT32_MAX || nums[3] == 0 ||
	    nums[3] > UINT32_MAX || nums[4] == 0 || nums[4] > UINT32_MAX)
		return ctp_pctx_fail(ctx, n,
				     "cannot use the slabinfo line of "
				     "'%.*s': objsize, objperslab and "
				     "pagesperslab must be positive",
				     ctp_cur_clip(n), s);
	memset(&slab, 0, sizeof(slab));
	memcpy(slab.name, s, n < sizeof(slab.name) ? n : sizeof(slab.name) - 1);
	slab.active_objs = nums[0];
	slab.num_objs = nums[1];
	slab.objsize = (uint32_t)nums[2];
	slab.objperslab = (uint32_t)nums[3];
	slab.pagesperslab = (uint32_t)nums[4];
	slab.input = ctx->input;
	ctp_snapshot_set_slab(ctx->snap, &slab);
	return CTP_LINE_RECORD;
}
