/*
 * ctplan fleet --format text: the hosts that need attention first
 * (critical findings, then warnings, then the least headroom), one line
 * each, in 100 columns.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/render.h"
#include "text_sections.h"

/* worst first: critical findings, warnings, then the least headroom */
static int host_cmp(const void *pa, const void *pb)
{
	const ctp_fleet_row *a = pa, *b = pb;
	double ha = isnan(a->h.headroom_pct) ? 101 : a->h.headroom_pct;
	double hb = isnan(b->h.headroom_pct) ? 101 : b->h.headroom_pct;

	if (a->h.findings[CTP_FINDING_CRIT] != b->h.findings[CTP_FINDING_CRIT])
		return a->h.findings[CTP_FINDING_CRIT] >
			       b->h.findings[CTP_FINDING_CRIT]
		       ? -1
		       : 1;
	if (a->h.findings[CTP_FINDING_WARN] != b->h.findings[CTP_FINDING_WARN])
		return a->h.findings[CTP_FINDING_WARN] >
			       b->h.findings[CTP_FINDING_WARN]
		       ? -1
		       : 1;
	if (ha != hb)
		return ha < hb ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* v with prec decimals and a suffix, or "-" */
static void cell(char *buf, size_t size, double v, int prec,
		 const char *suffix)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f%s", prec, v, suffix);
}

int ctp_render_fleet_text(ctp_fleet_row *hs, size_t n, size_t top,
			  size_t failed, FILE *out)
{
	size_t crit = 0, warn = 0;

	qsort(hs, n, sizeof(*hs), host_cmp);
	for (size_t i = 0; i < n; i++) {
		crit += hs[i].h.findings[CTP_FINDING_CRIT] > 0;
		warn += hs[i].h.findings[CTP_FINDING_CRIT] == 0 &&
			hs[i].h.findings[CTP_FINDING_WARN] > 0;
	}
	fprintf(out, "ctplan fleet: %zu hosts, %zu with critical findings, %zu "
	       "with warnings only%s\n\n",
	       n, crit, warn, failed ? ", some paths failed (see stderr)" : "");
	if (top > n)
		top = n;
	fprintf(out, "worst %zu hosts (critical findings, warnings, least "
	       "headroom):\n",
	       top);
	/* 100 columns */
	fprintf(out, "  %-21s %-16s %9s %9s %8s %5s %5s %8s %4s %4s\n", "host",
	       "kernel", "count", "max", "headroom", "p99", "p99mx", "nat use",
	       "crit", "warn");
	for (size_t i = 0; i < top; i++) {
		const ctp_headline *h = &hs[i].h;
		char c[6][24], name[32];
		cell(c[0], sizeof(c[0]), h->count, 0, "");
		cell(c[1], sizeof(c[1]), h->max, 0, "");
		cell(c[2], sizeof(c[2]), h->headroom_pct, 1, "%");
		cell(c[3], sizeof(c[3]), h->p99, 0, "");
		cell(c[4], sizeof(c[4]), h->p99_at_max, 0, "");
		cell(c[5], sizeof(c[5]), 100 * h->nat_util, 2, "%");
		/* cut in the middle: "vm (bundles/a)" and "vm (bundles/b)"
		 * stay apart */
		ctp_text_shorten(name, sizeof(name), hs[i].name, 21);
		fprintf(out, "  %-21s %-16.16s %9s %9s %8s %5s %5s %8s %4u %4u\n",
		       name, hs[i].kernel, c[0], c[1], c[2], c[3], c[4],
		       c[5], h->findings[CTP_FINDING_CRIT],
		       h->findings[CTP_FINDING_WARN]);
	}
	return ferror(out) ? CTP_EFAIL : 0;
}
