#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/render.h"
#include "cli.h"

typedef struct diag_state {
	unsigned long max_errors;
	int quiet;
	const char *file; /* input the counts below belong to */
	unsigned long printed, suppressed;
} diag_state;

static void flush_suppressed(diag_state *d)
{
	if (d->suppressed)
		fprintf(stderr, "%s: %lu more malformed lines not shown\n",
			d->file, d->suppressed);
	d->suppressed = 0;
}

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	diag_state *d = ud;
	char buf[512];

	if (sev == CTP_SEV_NOTE && d->quiet)
		return;
	if (!d->file || !e->file || strcmp(d->file, e->file) != 0) {
		flush_suppressed(d);
		d->file = e->file;
		d->printed = 0;
	}
	if (sev == CTP_SEV_ERROR && d->printed++ >= d->max_errors) {
		d->suppressed++;
		return;
	}
	ctp_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s%s\n", buf,
		sev == CTP_SEV_NOTE ? "" : "");
}

static int use_color(const char *when, FILE *out)
{
	if (!when || strcmp(when, "auto") == 0) {
		const char *nc = getenv("NO_COLOR");
		return (!nc || !*nc) && isatty(fileno(out));
	}
	return strcmp(when, "always") == 0;
}

int cmd_analyze(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_render_opts ropts = CTP_RENDER_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	ctp_snapshot *snap = NULL;
	ctp_report *rep = NULL;
	ctp_error err = CTP_ERROR_INIT;
	diag_state ds = { 20, 0, NULL, 0, 0 };
	const char *fmt, *outpath, *color, *maxe;
	FILE *out = stdout;
	int rc, ret = CTP_EXIT_INPUT;
	char buf[512];

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	fmt = cli_get(cmd, &a, "format");
	outpath = cli_get(cmd, &a, "output");
	color = cli_get(cmd, &a, "color");
	maxe = cli_get(cmd, &a, "max-errors");
	if (!fmt)
		fmt = "text";
	if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "ctplan analyze: unknown format '%s' "
				"(text or json)\n", fmt);
		return CTP_EXIT_INPUT;
	}
	if (color && strcmp(color, "auto") && strcmp(color, "always") &&
	    strcmp(color, "never")) {
		fprintf(stderr, "ctplan analyze: --color takes auto, always or "
				"never, not '%s'\n", color);
		return CTP_EXIT_INPUT;
	}
	if (maxe) {
		char *end;
		ds.max_errors = strtoul(maxe, &end, 10);
		if (!*maxe || *end) {
			fprintf(stderr, "ctplan analyze: --max-errors takes a "
					"number, not '%s'\n", maxe);
			return CTP_EXIT_INPUT;
		}
	}
	ds.quiet = a.val[cli_opt_index(cmd, "quiet")] != NULL;
	if (!a.npos) {
		fprintf(stderr, "ctplan analyze: no input given\n"
				"Try 'ctplan analyze --help'.\n");
		return CTP_EXIT_INPUT;
	}
	popts.strict = a.val[cli_opt_index(cmd, "strict")] != NULL;
	popts.diag = on_diag;
	popts.diag_ud = &ds;

	if (ctp_snapshot_new(&snap) || ctp_report_new(&rep)) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto done;
	}
	for (int i = 0; i < a.npos; i++) {
		const char *p = a.pos[i];
		if (strncmp(p, "--ns", 4) == 0) {
			popts.ns = p[4] == '=' ? p + 5 : a.pos[++i];
			continue;
		}
		rc = ctp_parse_path(snap, p, &popts, &err);
		if (rc) {
			flush_suppressed(&ds);
			ctp_error_format(&err, buf, sizeof(buf));
			fprintf(stderr, "%s\n", buf);
			goto done;
		}
	}
	flush_suppressed(&ds);
	if (ctp_snapshot_finalize(snap)) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto done;
	}
	if (ctp_analyze_run(snap, &aopts, rep, &err)) {
		ctp_error_format(&err, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
		goto done;
	}
	if (outpath && !(out = fopen(outpath, "w"))) {
		perror(outpath);
		out = stdout;
		goto done;
	}
	ropts.color = strcmp(fmt, "text") == 0 && use_color(color, out);
	rc = strcmp(fmt, "json") == 0 ? ctp_render_json(rep, out, &ropts)
				      : ctp_render_text(rep, out, &ropts);
	if (rc || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "ctplan: error writing the report\n");
		out = stdout;
		goto done;
	}
	out = stdout;
	ret = CTP_EXIT_OK;
done:
	if (out != stdout)
		fclose(out);
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
	return ret;
}
