/*
 * ctplan renderers: each writes the whole report tree in one format.
 * They only read the tree.  Return 0, or CTP_EFAIL on a write error.
 */
#ifndef CTPLAN_RENDER_H
#define CTPLAN_RENDER_H

#include <stdio.h>

#include "ctplan/error.h"
#include "ctplan/report.h"
#include "ctplan/report_tree.h"
#include "ctplan/snapshot.h"

typedef struct ctp_render_opts {
	int color; /* ANSI colour for severities (text) */
	int width; /* text: columns available, 0 = 100 */
} ctp_render_opts;

#define CTP_RENDER_OPTS_INIT { 0, 0 }

int ctp_render_text(ctp_report *rep, FILE *out, const ctp_render_opts *o);
int ctp_render_json(ctp_report *rep, FILE *out, const ctp_render_opts *o);
/* ctplan check: the checks of one host named name, as text lines or
 * one JSON object (render/check.c).  0, CTP_ENOMEM or CTP_EFAIL. */
int ctp_render_check(ctp_report *rep, const char *name, FILE *out, int json);
/* ctplan diff: OLD and NEW compared (render/diff.c, "ctplan.diff/1" in
 * docs/report.md), as JSON or text.  0, CTP_ENOMEM or CTP_EFAIL (a
 * write error). */
int ctp_render_diff(ctp_report *old, ctp_report *new_, const char *oldp,
		    const char *newp, FILE *out, int json);
/* The "defaults" and "recommendation" sections alone, as "ctplan plan"
 * prints them (render/text_plan.c). */
int ctp_render_plan_text(ctp_report *rep, FILE *out, int color);
/* One self-contained HTML page: no script, nothing fetched, inline SVG
 * charts (render/html.c). */
int ctp_render_html(ctp_report *rep, FILE *out, const ctp_render_opts *o);
/* Prometheus text exposition of the headline figures, for
 * node_exporter's textfile collector (render/prom.c). */
int ctp_render_prom(ctp_report *rep, FILE *out, const ctp_render_opts *o);
/* The headline figures as CSV: a header row (with header set) and one
 * row, the columns of "ctplan fleet" (render/headline.c).  host and
 * kernel label the row (NULL: empty host, the kernel modelled); with
 * rep NULL only the header is written. */
int ctp_render_csv_summary(ctp_report *rep, FILE *out, int header,
			   const char *host, const char *kernel);

/*
 * An output file written whole or not at all: _open creates a temporary
 * file next to path (mode: the replaced file's, else 0666 less the
 * umask) and _close renames it over path, so a reader never sees half a
 * report and a symlink named path is replaced, not followed.  With
 * CTP_OUTFILE_SPECIAL_IN_PLACE a path that is a symlink or no regular
 * file (/dev/stdout, /dev/full, a FIFO) is written through, in place.
 * _close(o, failed, werrno): failed (the writer's error, with its errno
 * or 0) drops the temporary file.  Both return 0, or CTP_EFAIL with err
 * "cannot write 'PATH': REASON".  _abort drops the file without a word.
 */
enum { CTP_OUTFILE_SPECIAL_IN_PLACE = 1 };
typedef struct ctp_outfile {
	FILE *fp;       /* write here */
	char path[4096];
	char tmp[4096]; /* "" when written in place */
} ctp_outfile;
int ctp_outfile_open(ctp_outfile *o, const char *path, int flags,
		     ctp_error *err);
int ctp_outfile_close(ctp_outfile *o, int failed, int werrno,
		      ctp_error *err);
void ctp_outfile_abort(ctp_outfile *o);

/*
 * --csv-dir: histogram.csv (the "hash" section's chain lengths, when it
 * ran), findings.csv, and flows.csv (one row per entry, both tuples;
 * only with snap) into dir, created if missing; render/csv.c writes the
 * others (ctp_render_csv_dir).  Returns 0, or CTP_EFAIL with err naming
 * the file (render/csv_report.c).
 */
int ctp_render_csv_tables(ctp_report *rep, const ctp_snapshot *snap,
			  const char *dir, ctp_error *err);

/*
 * The figures a dashboard or a fleet table wants from a report: NAN
 * where the report lacks one (its model did not run, or its input was
 * missing).  Read from the tree by ctp_headline_get (render/headline.c);
 * the strings are borrowed from the report.
 */
typedef struct ctp_headline {
	double count, max, buckets;
	double headroom, headroom_pct;
	double p99, p99_at_max;             /* hash.p99, hash.at_max.p99 */
	double over8, over8_at_max;         /* share_over8 */
	double chaintoolong_p, chaintoolong_p_at_max; /* *_p_next */
	double full_drop_p;                 /* table.full_drop_p */
	double nat_util, nat_p_fail;        /* the worst NAT group */
	double checks_failed;               /* checks[] not ok */
	double rec_max, rec_buckets;        /* recommendation.max, .buckets */
	unsigned findings[3];               /* by ctp_finding_sev */
	const char *kernel;                 /* the version modelled */
} ctp_headline;

void ctp_headline_get(ctp_report *rep, ctp_headline *h);
/* The same from a report's JSON tree: one built by render/tree.c or a
 * saved --format json report read back (ctplan fleet's reduce step). */
void ctp_headline_from_tree(json_t *root, ctp_headline *h);
/* One row of ctp_render_csv_summary from a headline (kernel NULL:
 * h->kernel).  0 or CTP_EFAIL. */
int ctp_render_csv_row(const ctp_headline *h, FILE *out, const char *host,
		       const char *kernel);

/* One host of ctplan fleet: its name, its uname release, its headline
 * (h.kernel unused). */
typedef struct ctp_fleet_row {
	char name[256];
	char kernel[128];
	ctp_headline h;
} ctp_fleet_row;

/* The worst top of rows[0 .. n) (sorted in place) as text, with a
 * summary naming failed paths (render/fleet.c).  0 or CTP_EFAIL. */
int ctp_render_fleet_text(ctp_fleet_row *rows, size_t n, size_t top,
			  size_t failed, FILE *out);

#endif
