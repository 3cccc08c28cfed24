/*
 * ctplan fleet PATH...: one host per PATH (a bundle, a directory, a
 * dump), each analyzed on its own; CSV on stdout, a header and one row
 * per host (render/headline.c's columns), or with --format text the
 * hosts that need attention first (render/fleet.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/render.h"
#include "cli.h"

static void quiet_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	char buf[CTP_ERROR_TEXT_MAX];

	(void)ud;
	if (sev == CTP_SEV_NOTE)
		return;
	ctp_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

int cmd_fleet(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	const char *fmt, *top_s;
	ctp_fleet_row *hs = NULL;
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
		ctp_fleet_row *h = &hs[n];

		if (cli_analyze_path(a.pos[i], &popts, &aopts, &snap, &rep)) {
			failed++;
			continue;
		}
		/* a host with an input not read to its end is listed,
		 * and the exit status is 2 */
		if (ctp_snapshot_read_errors(snap))
			failed++;
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
	if (text && ctp_render_fleet_text(hs, n, top, failed, stdout)) {
		fprintf(stderr, "ctplan fleet: error writing the table\n");
		free(hs);
		return CTP_EXIT_INPUT;
	}
	free(hs);
	return failed ? CTP_EXIT_INPUT : CTP_EXIT_OK;
}
