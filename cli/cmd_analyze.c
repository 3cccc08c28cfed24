#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctplan/analyze.h"
#include "ctplan/csv.h"
#include "ctplan/host.h"
#include "ctplan/parse.h"
#include "ctplan/plan.h"
#include "ctplan/render.h"
#include "cli.h"

typedef struct diag_state {
	cli_progress *progress; /* erased while a message prints */
	unsigned long max_errors;
	int quiet;
	/* input the counts below belong to: a copy, the error's file name
	 * may be gone by the next call */
	ctp_error file;
	unsigned long printed, suppressed;
} diag_state;

static void flush_suppressed(diag_state *d)
{
	char buf[CTP_ERROR_TEXT_MAX];

	if (d->suppressed) {
		snprintf(d->file.msg, sizeof(d->file.msg),
			 "%lu more malformed lines not shown", d->suppressed);
		d->file.line = d->file.col = 0;
		ctp_error_format(&d->file, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	d->suppressed = 0;
}

static void on_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	diag_state *d = ud;
	char buf[CTP_ERROR_TEXT_MAX];

	if (sev == CTP_SEV_NOTE && d->quiet)
		return;
	if (strcmp(d->file.file, e->file) != 0 || !e->file[0]) {
		flush_suppressed(d);
		ctp_error_set_file(&d->file, e->file);
		d->printed = 0;
	}
	if (sev == CTP_SEV_ERROR && d->printed++ >= d->max_errors) {
		d->suppressed++;
		return;
	}
	ctp_error_format(e, buf, sizeof(buf));
	cli_progress_hold(d->progress);
	fprintf(stderr, "%s%s\n", buf,
		sev == CTP_SEV_NOTE ? "" : "");
	cli_progress_release(d->progress);
}

/* The number option NAME in [min, max] into *v: 1 when given, 0 when
 * not, -1 after a message saying it takes TAKES. */
static int uint_option(const cli_cmd *cmd, const cli_args *a,
		       const char *name, uint64_t min, uint64_t max,
		       const char *takes, uint64_t *v)
{
	const char *s = cli_get(cmd, a, name);

	if (!s)
		return 0;
	if (cli_parse_uint(s, 10, min, max, v) == 0)
		return 1;
	fprintf(stderr, "ctplan analyze: --%s takes %s, not '%s'\n"
			"Try 'ctplan analyze --help'.\n",
		name, takes, s);
	return -1;
}

/* --keys, --seed, --kernel, --no-hash into o; CTP_EXIT_INPUT after a
 * message on a bad value. */
static int hash_options(const cli_cmd *cmd, const cli_args *a,
			ctp_analyze_opts *o)
{
	uint64_t v;
	int rc;

	o->hash = cli_get(cmd, a, "no-hash") == NULL;
	/* the model's own bound (ctp_hash_model_run) */
	if ((rc = uint_option(cmd, a, "keys", 1, 65536,
			      "a number from 1 to 65536", &v)) < 0)
		return CTP_EXIT_INPUT;
	if (rc)
		o->hash_keys = (unsigned)v;
	if ((rc = uint_option(cmd, a, "seed", 0, UINT64_MAX, "a number",
			      &v)) < 0)
		return CTP_EXIT_INPUT;
	if (rc)
		o->seed = v;
	if (cli_kernel_options(cmd, a, o))
		return CTP_EXIT_INPUT;
	return 0;
}

/* --nat-range LO-HI and --max-groups into o (--csv-dir lists every
 * group unless --max-groups is given); CTP_EXIT_INPUT after a message. */
static int nat_options(const cli_cmd *cmd, const cli_args *a,
		       ctp_analyze_opts *o)
{
	const char *r = cli_get(cmd, a, "nat-range"), *dash;
	char lo[8], hi[8];
	uint64_t vl, vh;
	int rc;

	if ((rc = uint_option(cmd, a, "max-groups", 0, SIZE_MAX,
			      "a number (0: all)", &vl)) < 0)
		return CTP_EXIT_INPUT;
	if (rc)
		o->nat_max_groups = (size_t)vl;
	else if (cli_get(cmd, a, "csv-dir"))
		o->nat_max_groups = 0; /* nat_groups.csv has them all */
	if (!r)
		return 0;
	dash = strchr(r, '-');
	if (!dash || (size_t)(dash - r) >= sizeof(lo) ||
	    strlen(dash + 1) >= sizeof(hi))
		goto bad;
	memcpy(lo, r, (size_t)(dash - r));
	lo[dash - r] = '\0';
	strcpy(hi, dash + 1);
	if (cli_parse_uint(lo, 10, 1, 65535, &vl) || cli_parse_uint(hi, 10, 1, 65535, &vh) ||
	    vl > vh)
		goto bad;
	o->has_nat_range = 1;
	o->nat_range_lo = (unsigned)vl;
	o->nat_range_hi = (unsigned)vh;
	return 0;
bad:
	fprintf(stderr, "ctplan analyze: --nat-range takes LO-HI, ports "
			"from 1 to 65535 with LO <= HI, not '%s'\n"
			"Try 'ctplan analyze --help'.\n",
		r);
	return CTP_EXIT_INPUT;
}

static const struct format {
	const char *name;
	int (*render)(ctp_report *rep, FILE *out, const ctp_render_opts *o);
} formats[] = {
	/* the headline row, the columns of ctplan fleet: it takes the
	 * host's name, so it is called apart */
	{ "csv", NULL },
	{ "html", ctp_render_html },
	{ "json", ctp_render_json },
	{ "prom", ctp_render_prom },
	{ "text", ctp_render_text },
};

static const struct format *find_format(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

static int use_color(const char *when, FILE *out)
{
	if (!when || strcmp(when, "auto") == 0) {
		const char *nc = getenv("NO_COLOR");
		return (!nc || !*nc) && isatty(fileno(out));
	}
	return strcmp(when, "always") == 0;
}

/* positional arguments that are paths, not "--ns LABEL" pairs */
static int count_paths(const cli_args *a)
{
	int paths = 0;

	for (int i = 0; i < a->npos; i++) {
		if (strncmp(a->pos[i], "--ns", 4) == 0) {
			i += a->pos[i][4] != '=';
			continue;
		}
		paths++;
	}
	return paths;
}

static const char *first_path(const cli_args *a)
{
	for (int i = 0; i < a->npos; i++) {
		if (strncmp(a->pos[i], "--ns", 4) == 0) {
			i += a->pos[i][4] != '=';
			continue;
		}
		return a->pos[i];
	}
	return "";
}

int cmd_analyze(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_render_opts ropts = CTP_RENDER_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	ctp_snapshot *snap = NULL;
	ctp_report *rep = NULL;
	ctp_analysis *an = NULL;
	ctp_outfile of;
	ctp_error err = CTP_ERROR_INIT;
	int werr;
	diag_state ds = { NULL, 20, 0, CTP_ERROR_INIT, 0, 0 };
	char host[128];
	const char *fmt, *outpath, *color;
	uint64_t v;
	FILE *out = stdout;
	int rc, ret = CTP_EXIT_INPUT;
	char buf[CTP_ERROR_TEXT_MAX];

	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	fmt = cli_get(cmd, &a, "format");
	outpath = cli_get(cmd, &a, "output");
	color = cli_get(cmd, &a, "color");
	if (!fmt)
		fmt = "text";
	if (!find_format(fmt)) {
		fprintf(stderr, "ctplan analyze: unknown format '%s' "
				"(text, json, csv, html or prom)\n", fmt);
		return CTP_EXIT_INPUT;
	}
	if (color && strcmp(color, "auto") && strcmp(color, "always") &&
	    strcmp(color, "never")) {
		fprintf(stderr, "ctplan analyze: --color takes auto, always or "
				"never, not '%s'\n", color);
		return CTP_EXIT_INPUT;
	}
	if ((rc = uint_option(cmd, &a, "max-errors", 0, ULONG_MAX,
			      "a number", &v)) < 0)
		return CTP_EXIT_INPUT;
	if (rc)
		ds.max_errors = (unsigned long)v;
	ds.quiet = a.val[cli_opt_index(cmd, "quiet")] != NULL;
	if (hash_options(cmd, &a, &aopts))
		return CTP_EXIT_INPUT;
	if (nat_options(cmd, &a, &aopts))
		return CTP_EXIT_INPUT;
	/* --growth, --peak, --margin, ... (cmd_plan.c) */
	if (cli_plan_options(cmd, &a, &po, NULL))
		return CTP_EXIT_INPUT;
	aopts.plan = &po;
	if ((rc = uint_option(cmd, &a, "burst-gap", 0, 366u * 86400u,
			      "seconds from 0 to 31622400", &v)) < 0)
		return CTP_EXIT_INPUT;
	if (rc)
		aopts.burst_gap = (unsigned)v;
	if (!count_paths(&a)) {
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
	ds.progress = cli_progress_start(snap);
	popts.progress = cli_progress_bytes;
	popts.progress_ud = ds.progress;
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
			/* a path that cannot be read loses nothing else
			 * (parsers/input.c parse_any): the report covers the
			 * others, the exit status says one failed */
			if (rc == CTP_ENOMEM || popts.strict)
				goto done;
		}
	}
	flush_suppressed(&ds);
	if (ctp_snapshot_read_errors(snap)) {
		/* every path failed: no report of nothing, the errors
		 * above say why (exit 2) */
		size_t ok = 0;
		for (size_t i = 0; i < ctp_snapshot_input_count(snap); i++) {
			const ctp_input_info *in = ctp_snapshot_input(snap, i);
			ok += !in->error && !in->skipped;
		}
		if (!ok)
			goto done;
	}
	if (ctp_snapshot_finalize(snap)) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto done;
	}
	cli_progress_phase(ds.progress, "analyzing");
	if ((rc = ctp_analysis_new(snap, &aopts, &an, &err)) == 0 &&
	    !ctp_host_has_data(ctp_analysis_host(an))) {
		/* an empty folder, an empty file, an unknown archive: an
		 * empty report with exit 0 would pass a pipeline silently */
		cli_progress_stop(ds.progress);
		ds.progress = NULL;
		cli_nothing_to_analyze(snap, first_path(&a), count_paths(&a));
		goto done;
	}
	for (size_t i = 0; !rc && i < ctp_analyze_model_count(); i++)
		rc = ctp_analyze_model(i, an, rep, &err);
	cli_progress_stop(ds.progress);
	ds.progress = NULL;
	if (rc) {
		ctp_error_format(&err, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
		goto done;
	}
	cli_name_report(rep, snap, first_path(&a));
	/* -o: a temporary file renamed over outpath once whole, so a
	 * reader (node_exporter's textfile collector) never sees half a
	 * report; /dev/stdout and the like are written in place */
	if (outpath) {
		if (ctp_outfile_open(&of, outpath,
				     CTP_OUTFILE_SPECIAL_IN_PLACE, &err)) {
			fprintf(stderr, "ctplan analyze: %s\n", err.msg);
			goto done;
		}
		out = of.fp;
	}
	ropts.color = strcmp(fmt, "text") == 0 && use_color(color, out);
	if (find_format(fmt)->render)
		rc = find_format(fmt)->render(rep, out, &ropts);
	else
		rc = ctp_render_csv_summary(
			rep, out, 1,
			cli_host_name(snap, first_path(&a), host, sizeof(host)),
			ctp_snapshot_kernel(snap)
				? ctp_snapshot_kernel(snap)->release
				: "");
	werr = rc ? errno : 0;
	if (out != stdout) {
		out = stdout;
		if (ctp_outfile_close(&of, rc != 0, werr, &err)) {
			fprintf(stderr, "ctplan analyze: %s\n", err.msg);
			goto done;
		}
	} else if (rc || fflush(stdout) == EOF) {
		fprintf(stderr, "ctplan analyze: cannot write the report to "
				"stdout: %s\n",
			strerror(werr ? werr : errno));
		goto done;
	}
	if (cli_get(cmd, &a, "csv-dir") &&
	    (ctp_render_csv_dir(rep, cli_get(cmd, &a, "csv-dir"), &err) ||
	     ctp_render_csv_tables(rep, snap, cli_get(cmd, &a, "csv-dir"),
				   &err))) {
		fprintf(stderr, "ctplan analyze: %s\n", err.msg);
		goto done;
	}
	/* an input not read to its end is bad input: exit 2, after the
	 * report of everything else */
	ret = ctp_snapshot_read_errors(snap) ? CTP_EXIT_INPUT : CTP_EXIT_OK;
done:
	cli_progress_stop(ds.progress);
	if (out != stdout)
		ctp_outfile_abort(&of);
	ctp_analysis_free(an);
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
	return ret;
}
