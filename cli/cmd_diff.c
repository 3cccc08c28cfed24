/*
 * ctplan diff OLD NEW: two snapshots of one host, each analyzed on its
 * own, compared by render/diff.c (the comparison and its output); here
 * the options, the two analyses and the exit code.
 */
#include <stdio.h>
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

int cmd_diff(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	ctp_snapshot *sa = NULL, *sb = NULL;
	ctp_report *ra = NULL, *rb = NULL;
	const char *fmt;
	int rc, ret = CTP_EXIT_INPUT;

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	fmt = cli_get(cmd, &a, "format");
	if (!fmt)
		fmt = "text";
	if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ctplan diff: unknown format '%s' (text or "
				"json)\nTry 'ctplan diff --help'.\n",
			fmt);
		return CTP_EXIT_INPUT;
	}
	if (a.npos != 2) {
		fprintf(stderr, "ctplan diff: takes two paths, OLD and NEW\n"
				"Try 'ctplan diff --help'.\n");
		return CTP_EXIT_INPUT;
	}
	/* the hash model's figures are not compared: skip its cost */
	aopts.hash = 0;
	popts.diag = quiet_diag;
	if (cli_analyze_path(a.pos[0], &popts, &aopts, &sa, &ra) ||
	    cli_analyze_path(a.pos[1], &popts, &aopts, &sb, &rb))
		goto done;
	rc = ctp_render_diff(ra, rb, a.pos[0], a.pos[1], stdout,
			     strcmp(fmt, "json") == 0);
	if (rc) {
		fprintf(stderr, "ctplan diff: %s\n",
			rc == CTP_ENOMEM ? "out of memory"
					 : "error writing the comparison");
		goto done;
	}
	/* an input not read to its end: exit 2 after the comparison */
	ret = ctp_snapshot_read_errors(sa) || ctp_snapshot_read_errors(sb)
		      ? CTP_EXIT_INPUT
		      : CTP_EXIT_OK;
done:
	ctp_report_free(ra);
	ctp_report_free(rb);
	ctp_snapshot_free(sa);
	ctp_snapshot_free(sb);
	return ret;
}
