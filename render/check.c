/*
 * ctplan check's output for one host: its checks with figure, limit and
 * source as text lines ("ok", "FAIL", "n/a"), or as one JSON object
 * {path, checks, failed} (docs/report.md "checks").
 */
#include <math.h>
#include <stdio.h>

#include "ctplan/error.h"
#include "ctplan/render.h"

int ctp_render_check(ctp_report *rep, const char *name, FILE *out, int json)
{
	size_t failed = ctp_report_checks_failed(rep),
	       unknown = ctp_report_checks_unknown(rep);

	if (json) {
		json_t *o = json_pack("{s:s, s:O, s:I}", "path", name,
				      "checks",
				      json_object_get(ctp_report_root(rep),
						      "checks"),
				      "failed", (json_int_t)failed);
		int rc = 0;

		if (!o)
			return CTP_ENOMEM;
		if (json_dumpf(o, out, JSON_INDENT(2)) || fputc('\n', out) == EOF)
			rc = CTP_EFAIL;
		json_decref(o);
		return rc;
	}
	size_t warned = 0;

	for (size_t i = 0; i < ctp_report_check_count(rep); i++) {
		const ctp_check *c = ctp_report_check_at(rep, i);

		warned += c->warn && isfinite(c->value) &&
			  !(c->below ? c->value <= c->limit
				     : c->value >= c->limit);
	}
	fprintf(out, "%s: %s", name, failed    ? "FAILED"
				     : unknown ? "UNKNOWN"
					       : "passed");
	if (warned)
		fprintf(out, " (%zu warning%s)", warned, warned == 1 ? "" : "s");
	fputc('\n', out);
	for (size_t i = 0; i < ctp_report_check_count(rep); i++) {
		const ctp_check *c = ctp_report_check_at(rep, i);
		int ok = c->below ? c->value <= c->limit : c->value >= c->limit;

		fprintf(out, "  %-4s %-26s ", !isfinite(c->value) ? "n/a"
					      : ok		  ? "ok"
					      : c->warn		  ? "WARN"
								  : "FAIL",
			c->name);
		if (isfinite(c->value))
			fprintf(out, "%-12.6g", c->value);
		else
			fprintf(out, "%-12s", "-");
		fprintf(out, " %s %-10.6g %s\n", c->below ? "<=" : ">=",
			c->limit, c->source);
	}
	return ferror(out) ? CTP_EFAIL : 0;
}
