/*
 * ctplan check: a gate for CI before a rollout.  The PATHs together are
 * one host, read as ctplan analyze reads them (the loose files of one
 * host, or its bundle); with --each every PATH is a host of its own.  Its checks
 * (docs/report.md "checks") are printed, and the exit status says
 * whether all passed: 0 all passed, 1 one failed, 2 bad input or usage
 * (also when a check has no figure to judge: a gate that cannot see
 * must not pass).
 */
#include <stdio.h>
#include <string.h>

#include "ctplan/plan.h"
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

int cmd_check(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	const char *fmt;
	size_t failed = 0, unknown = 0, u;
	int rc, json = 0, bad_input = 0, each;

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	fmt = cli_get(cmd, &a, "format");
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ctplan check: unknown format '%s' (text or "
				"json)\n",
			fmt);
		return CTP_EXIT_INPUT;
	}
	json = fmt && strcmp(fmt, "json") == 0;
	if (cli_plan_options(cmd, &a, &po, &aopts))
		return CTP_EXIT_INPUT;
	if (!a.npos) {
		fprintf(stderr, "ctplan check: no input given\n"
				"Try 'ctplan check --help'.\n");
		return CTP_EXIT_INPUT;
	}
	aopts.plan = &po;
	aopts.hash = cli_get(cmd, &a, "no-hash") == NULL;
	popts.diag = quiet_diag;
	popts.strict = cli_get(cmd, &a, "strict") != NULL;
	each = cli_get(cmd, &a, "each") != NULL;
	for (int i = 0; i < (each ? a.npos : 1); i++) {
		ctp_snapshot *snap;
		ctp_report *rep;
		char name[512];

		if (cli_analyze_paths((const char *const *)&a.pos[i],
				      each ? 1 : a.npos, &popts, &aopts, &snap,
				      &rep)) {
			bad_input = 1;
			continue;
		}
		if (each || a.npos == 1)
			snprintf(name, sizeof(name), "%s", a.pos[i]);
		else
			snprintf(name, sizeof(name), "%s (+%d more)",
				 a.pos[0], a.npos - 1);
		/* an input not read to its end is bad input (exit 2) */
		if (ctp_snapshot_read_errors(snap))
			bad_input = 1;
		failed += ctp_report_checks_failed(rep);
		u = ctp_report_checks_unknown(rep);
		unknown += u;
		if (ctp_render_check(rep, name, stdout, json)) {
			fprintf(stderr, "ctplan check: error writing the "
					"result\n");
			bad_input = 1;
		}
		ctp_report_free(rep);
		ctp_snapshot_free(snap);
	}
	if (failed)
		return CTP_EXIT_CHECK_FAILED;
	if (bad_input)
		return CTP_EXIT_INPUT;
	if (unknown) {
		fprintf(stderr, "ctplan check: %zu check(s) had no figure to "
				"judge (the input lacks nf_conntrack_max, "
				"nf_conntrack_buckets or a table listing)\n",
			unknown);
		return CTP_EXIT_INPUT;
	}
	return CTP_EXIT_OK;
}
