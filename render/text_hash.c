/*
 * Text layout of the "hash" section: the chain figures now and at
 * nf_conntrack_max side by side, each beside its balls-into-bins
 * prediction, then the bucket histograms.  Fits 100 columns.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text_sections.h"

/* The "keep chains under 8" rule as analyzer/hash_report.c applies it:
 * at most 1% of entries in longer chains. */
#define RULE_SHARE 0.01

/* Histogram lengths with fewer buckets than this (mean over keys) are
 * left out of the text; the JSON has them all. */
#define HIST_MIN 0.05

/* One output line, built in pieces and printed without trailing
 * blanks (empty cells are blank). */
typedef struct line {
	char buf[256];
	size_t n;
} line;

static void lput(line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lput(line *l, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(l->buf + l->n, sizeof(l->buf) - l->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		l->n += (size_t)w < sizeof(l->buf) - l->n
				? (size_t)w
				: sizeof(l->buf) - l->n - 1;
}

static void lflush(tctx *t, line *l)
{
	while (l->n && l->buf[l->n - 1] == ' ')
		l->n--;
	fprintf(t->out, "%.*s\n", (int)l->n, l->buf);
	l->n = 0;
}

static void cell_num(char *buf, size_t size, json_t *v)
{
	double d = json_is_real(v) ? json_real_value(v) : 0;

	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v) && d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, size, "%.0f", d);
	else if (json_is_real(v))
		snprintf(buf, size, "%.4g", d);
	else if (json_is_true(v))
		snprintf(buf, size, "yes");
	else if (json_is_false(v))
		snprintf(buf, size, "no");
	else
		snprintf(buf, size, "-");
}

/* counts averaged over keys: whole numbers */
static void cell_count(char *buf, size_t size, json_t *v)
{
	if (json_is_number(v))
		snprintf(buf, size, "%.0f", json_number_value(v));
	else
		snprintf(buf, size, "-");
}

static void cell_pct(char *buf, size_t size, json_t *v)
{
	if (json_is_number(v))
		snprintf(buf, size, "%.3g%%", 100 * json_number_value(v));
	else
		snprintf(buf, size, "-");
}

typedef void (*cell_fn)(char *buf, size_t size, json_t *v);

/* Which cells of a row hold a figure. */
enum { SAMPLED = 1, POISSON = 2, BOTH = 3 };

/* One row: label, then sampled and Poisson cells of now and at max.
 * key2 (may be NULL) is a second figure shown as "a / b". */
static void row(tctx *t, const char *label, json_t *now, json_t *max,
		const char *key, const char *key2, cell_fn fn, int cols)
{
	json_t *st[2] = { now, max };
	line l = { .n = 0 };

	lput(&l, "  %-22s", label);
	for (int s = 0; s < 2 && st[s]; s++) {
		for (int p = 0; p < 2; p++) {
			json_t *o = p ? json_object_get(st[s], "poisson")
				      : st[s];
			char a[32] = "", b[32] = "", cell[72] = "";

			if (cols & (p ? POISSON : SAMPLED)) {
				fn(a, sizeof(a), json_object_get(o, key));
				if (key2)
					fn(b, sizeof(b),
					   json_object_get(o, key2));
				snprintf(cell, sizeof(cell), "%s%s%s", a,
					 key2 ? " / " : "", b);
			}
			lput(&l, " %13s", cell);
		}
		lput(&l, "%s", s == 0 ? "  " : "");
	}
	lflush(t, &l);
}

/* longest chain: min/median/max over keys; Poisson: its median */
static void longest_row(tctx *t, json_t *now, json_t *max)
{
	json_t *st[2] = { now, max };
	line l = { .n = 0 };

	lput(&l, "  %-22s", "longest min/med/max");
	for (int s = 0; s < 2 && st[s]; s++) {
		json_t *lg = json_object_get(st[s], "longest");
		json_t *pm = json_object_get(json_object_get(st[s], "poisson"),
					     "longest_median");
		char med[32], cell[72];

		cell_num(med, sizeof(med), json_object_get(lg, "median"));
		snprintf(cell, sizeof(cell), "%lld/%s/%lld",
			 (long long)json_integer_value(
				 json_object_get(lg, "min")),
			 med,
			 (long long)json_integer_value(
				 json_object_get(lg, "max")));
		lput(&l, " %13s %13lld%s", cell,
		     (long long)json_integer_value(pm), s == 0 ? "  " : "");
	}
	lflush(t, &l);
}

/* "ok" or "OVER" against the 8 rule, from the sampled share */
static void rule_row(tctx *t, json_t *now, json_t *max)
{
	json_t *st[2] = { now, max };
	line l = { .n = 0 };

	lput(&l, "  %-22s", "chains <= 8 rule");
	for (int s = 0; s < 2 && st[s]; s++) {
		double v = json_number_value(
			json_object_get(st[s], "share_over8"));

		lput(&l, " %13s %13s%s", v > RULE_SHARE ? "OVER" : "ok", "",
		     s == 0 ? "  " : "");
	}
	lflush(t, &l);
}

/* "len:buckets" pairs of a histogram, wrapped under a label */
static void hist_line(tctx *t, const char *label, json_t *hist)
{
	size_t i, col = 0, hidden = 0;
	json_t *v;

	fprintf(t->out, "    %-8s", label);
	json_array_foreach(hist, i, v) {
		char cell[48];
		double b = json_number_value(v);

		if (b < HIST_MIN) {
			hidden += b > 0;
			continue;
		}
		snprintf(cell, sizeof(cell), "%zu:%.*f", i,
			 b == floor(b) ? 0 : 1, b);
		if (col && col + strlen(cell) + 1 > 84) {
			fprintf(t->out, "\n    %-8s", "");
			col = 0;
		}
		fprintf(t->out, " %s", cell);
		col += strlen(cell) + 1;
	}
	if (hidden)
		fprintf(t->out, " (+%zu rare lengths)", hidden);
	fputc('\n', t->out);
}

void ctp_text_hash(tctx *t, json_t *h)
{
	json_t *max = json_object_get(h, "at_max");
	json_t *lim = json_object_get(h, "chain_limit");
	json_t *skipped = json_object_get(h, "skipped");
	const char *ksrc;
	char n[32];

	if (!json_is_object(max))
		max = NULL;
	ctp_text_heading(t, "Hash chains");
	ksrc = json_string_value(json_object_get(h, "kernel_source"));
	/* the algorithm first; the era is ctplan's name for how the
	 * kernels of those versions feed it (hash.era in the JSON) */
	{
		char k[160], hs[160];
		int kl = snprintf(k, sizeof(k), "  kernel %s (%s%s): ",
				  json_string_value(json_object_get(h, "kernel")),
				  ksrc && strcmp(ksrc, "newest known") ? "from "
								       : "",
				  ksrc && strcmp(ksrc, "newest known")
					  ? ksrc
					  : "no uname: newest known");
		int hl = snprintf(
			hs, sizeof(hs), "hash %s (kernels %s; era %s)",
			json_string_value(json_object_get(h, "algorithm")),
			json_string_value(json_object_get(h, "era_versions")),
			json_string_value(json_object_get(h, "era")));

		/* no line over 100 columns: the hash goes below */
		if (kl + hl > 100 && kl > 0 && (size_t)kl < sizeof(k))
			k[kl - 1] = '\0';
		fprintf(t->out, "%s%s%s\n", k, kl + hl > 100 ? "\n    " : "",
			hs);
	}
	if (json_is_object(lim))
		fprintf(t->out, "  chain limit: a new flow may be refused once "
				"its chain holds %lld nodes, always at %lld\n",
			(long long)json_integer_value(
				json_object_get(lim, "refuse_from")),
			(long long)json_integer_value(
				json_object_get(lim, "refuse_all_from")));
	else
		fprintf(t->out, "  chain limit: none in this kernel\n");
	if (json_is_string(skipped)) {
		fprintf(t->out, "  not modelled: %s\n",
			json_string_value(skipped));
		return;
	}
	cell_num(n, sizeof(n), json_object_get(h, "buckets"));
	fprintf(t->out, "  %s buckets, %lld keys (seed %lld), each entry "
			"two nodes (original and reply)\n\n",
		n, (long long)json_integer_value(json_object_get(h, "keys")),
		(long long)json_integer_value(json_object_get(h, "seed")));
	if (json_is_object(json_object_get(h, "budget")))
		fprintf(t->out, "  budget: %s\n\n",
			json_string_value(json_object_get(
				json_object_get(h, "budget"), "why")));

	{
		line l = { .n = 0 };

		lput(&l, "  %-22s %27s", "", "now");
		if (max) {
			char hd[64];

			snprintf(hd, sizeof(hd), "at max (%lld entries)",
				 (long long)json_integer_value(
					 json_object_get(max, "target")));
			lput(&l, "  %27s", hd);
		}
		lflush(t, &l);
		/* a state past the model's budget is estimated (budget:
		 * the line above says why) */
		json_t *bud = json_object_get(h, "budget");
		const char *now_h =
			json_is_true(json_object_get(bud, "now_estimated"))
				? "estimated"
				: "sampled";
		const char *max_h =
			json_is_true(json_object_get(bud, "at_max_estimated"))
				? "estimated"
				: "sampled";

		lput(&l, "  %-22s %13s %13s", "", now_h, "poisson");
		if (max)
			lput(&l, "   %13s %13s", max_h, "poisson");
		lflush(t, &l);
	}
	row(t, "entries", h, max, "entries", NULL, cell_count, SAMPLED);
	row(t, "load (nodes/bucket)", h, max, "load", NULL, cell_num,
	    SAMPLED);
	row(t, "mean occupied chain", h, max, "mean_chain", NULL, cell_num,
	    BOTH);
	row(t, "p99 / p99.9 chain", h, max, "p99", "p999", cell_num, BOTH);
	longest_row(t, h, max);
	row(t, "entries in chains > 8", h, max, "share_over8", NULL, cell_pct,
	    BOTH);
	rule_row(t, h, max);
	row(t, "chaintoolong p(next)", h, max, "chaintoolong_p_next", NULL,
	    cell_pct, BOTH);
	row(t, "refused while filling", h, max, "refused_share", NULL,
	    cell_pct, SAMPLED);
	row(t, "chi-square p", h, max, "chi2_p", NULL, cell_num, POISSON);
	fprintf(t->out, "  (rule of thumb: keep chains under 8; ok while at "
			"most 1%% of entries sit in longer chains)\n");
	if (max && json_is_false(json_object_get(max, "target_reached")))
		fprintf(t->out, "  at max: the model placed only %.0f of %lld "
				"entries (chain limit, or no ports left to "
				"vary)\n",
			json_number_value(json_object_get(max, "entries")),
			(long long)json_integer_value(
				json_object_get(max, "target")));
	if (!max)
		fprintf(t->out, "  at max: not modelled, %s\n",
			json_string_value(json_object_get(h,
							  "at_max_skipped")));

	fprintf(t->out, "  buckets by chain length (mean over keys):\n");
	hist_line(t, "now", json_object_get(h, "histogram"));
	if (max)
		hist_line(t, "at max", json_object_get(max, "histogram"));
}
