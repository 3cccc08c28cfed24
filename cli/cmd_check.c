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

#include "ctplan/report_tree.h"
#include "ctplan/plan.h"
#include "ctplan/render.h"
#include "cli.h"

static void quiet_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	char buf[512];

	(void)ud;
	if (sev == CTP_SEV_NOTE)
		return;
	ctp_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

/* "ok"/"FAIL"/"n/a" lines of one host; returns failures, and unknown
 * checks through *unknown. */
static size_t print_host(const char *path, ctp_report *rep, int json,
			 size_t *unknown)
{
	json_t *arr = json_object_get(ctp_report_root(rep), "checks"), *c;
	size_t i, failed = 0;

	*unknown = 0;
	json_array_foreach(arr, i, c) {
		json_t *ok = json_object_get(c, "ok");
		failed += json_is_false(ok);
		*unknown += json_is_null(ok);
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:O, s:I}", "path", path,
				      "checks", arr, "failed",
				      (json_int_t)failed);
		if (o) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(o);
		}
		return failed;
	}
	printf("%s: %s\n", path, failed ? "FAILED" : *unknown ? "UNKNOWN"
							     : "passed");
	json_array_foreach(arr, i, c) {
		json_t *ok = json_object_get(c, "ok");
		json_t *v = json_object_get(c, "value");
		printf("  %-4s %-26s ", json_is_null(ok) ? "n/a"
				      : json_is_true(ok) ? "ok"
							 : "FAIL",
		       json_string_value(json_object_get(c, "name")));
		if (json_is_number(v))
			printf("%-12.6g", json_number_value(v));
		else
			printf("%-12s", "-");
		printf(" %s %-10.6g %s\n",
		       json_string_value(json_object_get(c, "op")),
		       json_number_value(json_object_get(c, "limit")),
		       json_string_value(json_object_get(c, "source")));
	}
	return failed;
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
		failed += print_host(name, rep, json, &u);
		unknown += u;
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
