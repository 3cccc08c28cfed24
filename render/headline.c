/*
 * Headline figures of a report (include/ctplan/render.h): the few
 * numbers prom, the CSV summary, fleet and the HTML header share, read
 * from the tree by the key names of docs/report.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <csv.h>

#include "ctplan/error.h"
#include "ctplan/render.h"
#include "actions.h"

/* A number at a path of object keys, or NAN (null, missing, not a
 * number). */
static double num(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);

	if (k2)
		v = json_object_get(v, k2);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

void ctp_headline_get(ctp_report *rep, ctp_headline *h)
{
	ctp_headline_from_tree(ctp_report_root(rep), h);
}

void ctp_headline_from_tree(json_t *root, ctp_headline *h)
{
	json_t *rec = json_object_get(root, "recommendation");
	json_t *tab = json_object_get(root, "table");
	json_t *hash = json_object_get(root, "hash");
	json_t *nat = json_object_get(root, "nat");
	json_t *f;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->count = num(tab, "count", NULL);
	h->max = num(tab, "max", NULL);
	h->buckets = num(tab, "buckets", NULL);
	h->headroom = num(tab, "headroom", NULL);
	h->headroom_pct = num(tab, "headroom_pct", NULL);
	h->full_drop_p = num(tab, "full_drop_p", NULL);
	h->p99 = num(hash, "p99", NULL);
	h->p99_at_max = num(hash, "at_max", "p99");
	h->over8 = num(hash, "share_over8", NULL);
	h->over8_at_max = num(hash, "at_max", "share_over8");
	h->chaintoolong_p = num(hash, "chaintoolong_p_next", NULL);
	h->chaintoolong_p_at_max = num(hash, "at_max", "chaintoolong_p_next");
	/* null when the planner had nothing to plan from */
	h->rec_max = num(rec, "max", NULL);
	h->rec_buckets = num(rec, "buckets", NULL);
	h->checks_failed = NAN;
	if (json_is_array(json_object_get(root, "checks"))) {
		json_t *c;
		/* the planner's checks (analyzer/checks.c): "ok" false */
		h->checks_failed = 0;
		json_array_foreach(json_object_get(root, "checks"), i, c)
			h->checks_failed +=
				json_is_false(json_object_get(c, "ok")) &&
				strcmp(json_string_value(json_object_get(
					       c, "severity")) ?: "",
				       "warn") != 0;
	}
	h->kernel = json_string_value(json_object_get(hash, "kernel"));
	if (!h->kernel)
		h->kernel = json_string_value(json_object_get(nat, "kernel"));
	/* over every group, also those past --max-groups; NaN when
	 * there are none (null) */
	h->nat_util = num(nat, "max_utilization", NULL);
	h->nat_p_fail = num(nat, "max_p_fail_next", NULL);
	json_array_foreach(json_object_get(root, "findings"), i, f) {
		const char *sev =
			json_string_value(json_object_get(f, "severity"));
		for (int s = CTP_FINDING_INFO; s <= CTP_FINDING_CRIT; s++)
			if (sev && strcmp(sev, ctp_finding_sev_name(
						       (ctp_finding_sev)s)) ==
					   0)
				h->findings[s]++;
	}
}

/* columns of the summary row; "ctplan fleet" prints the same */
static const char *const summary_cols[] = {
	"host", "kernel", "count", "max", "buckets", "headroom_pct",
	"chain_p99", "chain_p99_at_max", "nat_worst_utilization",
	"failed_checks", "critical", "warnings",
};

static int field(FILE *out, const char *s, int first)
{
	if (!first && fputc(',', out) == EOF)
		return CTP_EFAIL;
	return csv_fwrite(out, s ? s : "", s ? strlen(s) : 0) ? CTP_EFAIL : 0;
}

/* whole numbers plainly, others to 10 significant digits: what a JSON
 * report keeps (JSON_REAL_PRECISION(10)), so a row from a saved report
 * and a row from its bundle are the same text */
static void fmt_num(char *buf, size_t size, double v)
{
	if (isnan(v))
		buf[0] = '\0';
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.10g", v);
}

int ctp_render_csv_summary(ctp_report *rep, FILE *out, int header,
			   const char *host, const char *kernel)
{
	ctp_headline h;
	size_t ncols = sizeof(summary_cols) / sizeof(summary_cols[0]);

	if (header) {
		for (size_t c = 0; c < ncols; c++)
			if (field(out, summary_cols[c], c == 0))
				return CTP_EFAIL;
		if (fputc('\n', out) == EOF)
			return CTP_EFAIL;
	}
	if (!rep)
		return ferror(out) ? CTP_EFAIL : 0;
	ctp_headline_get(rep, &h);
	return ctp_render_csv_row(&h, out, host, kernel);
}

int ctp_render_csv_row(const ctp_headline *hp, FILE *out, const char *host,
		       const char *kernel)
{
	ctp_headline h = *hp;
	char cells[10][64];
	double v[10];

	v[0] = h.count;
	v[1] = h.max;
	v[2] = h.buckets;
	v[3] = h.headroom_pct;
	v[4] = h.p99;
	v[5] = h.p99_at_max;
	v[6] = h.nat_util;
	/* failed checks: a "ctplan check" section when there is one */
	v[7] = h.checks_failed;
	v[8] = h.findings[CTP_FINDING_CRIT];
	v[9] = h.findings[CTP_FINDING_WARN];
	for (size_t c = 0; c < 10; c++)
		fmt_num(cells[c], sizeof(cells[c]), v[c]);
	if (field(out, host, 1) ||
	    field(out, kernel ? kernel : h.kernel, 0))
		return CTP_EFAIL;
	for (size_t c = 0; c < 10; c++)
		if (field(out, cells[c], 0))
			return CTP_EFAIL;
	if (fputc('\n', out) == EOF)
		return CTP_EFAIL;
	return ferror(out) ? CTP_EFAIL : 0;
}

size_t ctp_render_actions(json_t *root, const char **out, size_t max)
{
	json_t *arr = json_object_get(root, "findings"), *f;
	size_t n = 0, i;

	for (int want = CTP_FINDING_CRIT; want >= CTP_FINDING_WARN; want--) {
		json_array_foreach(arr, i, f) {
			const char *sev = json_string_value(
				json_object_get(f, "severity"));
			const char *act = json_string_value(
				json_object_get(f, "action"));
			size_t j;

			if (!sev || !act ||
			    strcmp(sev, ctp_finding_sev_name(
						(ctp_finding_sev)want)) != 0)
				continue;
			for (j = 0; j < n; j++)
				if (strcmp(out[j], act) == 0)
					break;
			if (j == n && n < max)
				out[n++] = act;
		}
	}
	return n;
}
