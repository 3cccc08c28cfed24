/*
 * ctplan fleet PATH...: one host per PATH (a bundle, a directory, a
 * dump), each analyzed on its own; CSV on stdout, a header and one row
 * per host (render/headline.c's columns), or with --format text the
 * hosts that need attention first.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/render.h"
#include "cli.h"

typedef struct host {
	char name[128];
	char kernel[128];
	ctp_headline h;
} host;

static void quiet_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	char buf[512];

	(void)ud;
	if (sev == CTP_SEV_NOTE)
		return;
	ctp_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

/* worst first: critical findings, warnings, then the least headroom */
static int host_cmp(const void *pa, const void *pb)
{
	const host *a = pa, *b = pb;
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

static void print_text(host *hs, size_t n, size_t top, size_t failed)
{
	size_t crit = 0, warn = 0;

	qsort(hs, n, sizeof(*hs), host_cmp);
	for (size_t i = 0; i < n; i++) {
		crit += hs[i].h.findings[CTP_FINDING_CRIT] > 0;
		warn += hs[i].h.findings[CTP_FINDING_CRIT] == 0 &&
			hs[i].h.findings[CTP_FINDING_WARN] > 0;
	}
	printf("ctplan fleet: %zu hosts, %zu with critical findings, %zu "
	       "with warnings only%s\n\n",
	       n, crit, warn, failed ? ", some paths failed (see stderr)" : "");
	if (top > n)
		top = n;
	printf("worst %zu hosts (critical findings, warnings, least "
	       "headroom):\n",
	       top);
	/* 100 columns */
	printf("  %-21s %-16s %9s %9s %8s %5s %5s %8s %4s %4s\n", "host",
	       "kernel", "count", "max", "headroom", "p99", "p99mx", "nat use",
	       "crit", "warn");
	for (size_t i = 0; i < top; i++) {
		const ctp_headline *h = &hs[i].h;
		char c[6][24];
		cell(c[0], sizeof(c[0]), h->count, 0, "");
		cell(c[1], sizeof(c[1]), h->max, 0, "");
		cell(c[2], sizeof(c[2]), h->headroom_pct, 1, "%");
		cell(c[3], sizeof(c[3]), h->p99, 0, "");
		cell(c[4], sizeof(c[4]), h->p99_at_max, 0, "");
		cell(c[5], sizeof(c[5]), 100 * h->nat_util, 2, "%");
		printf("  %-21.21s %-16.16s %9s %9s %8s %5s %5s %8s %4u %4u\n",
		       hs[i].name, hs[i].kernel, c[0], c[1], c[2], c[3], c[4],
		       c[5], h->findings[CTP_FINDING_CRIT],
		       h->findings[CTP_FINDING_WARN]);
	}
}

int cmd_fleet(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	const char *fmt, *top_s;
	host *hs = NULL;
	size_t n = 0, failed = 0, top = 10;
	int rc, text;

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	fmt = cli_get(cmd, &a, "format");
	if (!fmt)
		fmt = "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "text")) {
		fprintf(stderr, "ctplan fleet: unknown format '%s' (csv or "
				"text)\nTry 'ctplan fleet --help'.\n",
			fmt);
		return CTP_EXIT_INPUT;
	}
	text = strcmp(fmt, "text") == 0;
	if ((top_s = cli_get(cmd, &a, "top"))) {
		uint64_t v;
		if (cli_parse_uint(top_s, 10, 1, 100000, &v)) {
			fprintf(stderr, "ctplan fleet: --top takes a number "
					"from 1 to 100000, not '%s'\n",
				top_s);
			return CTP_EXIT_INPUT;
		}
		top = v;
	}
	if (!a.npos) {
		fprintf(stderr, "ctplan fleet: no input given\n"
				"Try 'ctplan fleet --help'.\n");
		return CTP_EXIT_INPUT;
	}
	aopts.hash = cli_get(cmd, &a, "no-hash") == NULL;
	popts.diag = quiet_diag;
	if (!(hs = calloc((size_t)a.npos, sizeof(*hs)))) {
		fprintf(stderr, "ctplan: out of memory\n");
		return CTP_EXIT_INPUT;
	}
	if (!text)
		ctp_render_csv_summary(NULL, stdout, 1, NULL, NULL);
	for (int i = 0; i < a.npos; i++) {
		ctp_snapshot *snap;
		ctp_report *rep;
		const ctp_kernel_info *k;
		host *h = &hs[n];

		if (cli_analyze_path(a.pos[i], &popts, &aopts, &snap, &rep)) {
			failed++;
			continue;
		}
		cli_host_name(snap, a.pos[i], h->name, sizeof(h->name));
		k = ctp_snapshot_kernel(snap);
		ctp_headline_get(rep, &h->h);
		/* the host's uname, not the version a model assumed */
		snprintf(h->kernel, sizeof(h->kernel), "%s",
			 k && k->release[0] ? k->release : "");
		h->h.kernel = NULL; /* borrowed from rep, freed below */
		if (!text && ctp_render_csv_summary(rep, stdout, 0, h->name,
						    h->kernel)) {
			ctp_report_free(rep);
			ctp_snapshot_free(snap);
			free(hs);
			return CTP_EXIT_INPUT;
		}
		n++;
		ctp_report_free(rep);
		ctp_snapshot_free(snap);
	}
	if (text)
		print_text(hs, n, top, failed);
	free(hs);
	return failed ? CTP_EXIT_INPUT : CTP_EXIT_OK;
}
