/*
 * HTML report: one self-contained page that a browser shows offline.
 * No script and nothing fetched: the style is inline, the charts are
 * inline SVG, and a Content-Security-Policy of default-src 'none' makes
 * a browser refuse anything else.  Every string from the tree (paths
 * come from the user's files) is escaped.
 *
 * Sections follow the text report: Inputs, Table and headroom, Entries,
 * Hash chains, NAT, Counters, History, Findings, Recommendations (with
 * the planner's settings and checks when the report has them).  Charts carry
 * classes ("chart-hist", "bar now", ...) that tests/cli/test_html.sh
 * looks for in the browser's DOM, and fixed colours (below) it looks
 * for in a screenshot.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/render.h"
#include "actions.h"

/* chart colours; tests/cli/test_html.sh looks for them on screen */
#define C_NOW "#1f77b4"     /* chains now */
#define C_ATMAX "#ff7f0e"   /* chains at nf_conntrack_max */
#define C_RULE "#d62728"    /* the 8 line; a full table */
#define C_POISSON "#7f7f7f" /* balls-into-bins prediction */
#define C_FREE "#c7e9c0"    /* headroom */
#define C_USED "#2ca02c"    /* entries, headroom fine */
#define C_LOW "#e6a100"     /* entries, headroom under 20% */
#define C_NAT "#9467bd"
#define C_PROTO "#8c564b"
#define C_STATE "#17becf"

#define CHART_W 900
#define LABEL_W 280 /* left column of bar charts */
#define ROW_H 22
#define NAT_ROWS 20 /* groups charted; the JSON and CSV have them all */

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static const char *sval(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* a JSON scalar as text: counts plain, reals to 4 digits, null "-" */
static void scalar(FILE *out, json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		fprintf(out, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (d == floor(d) && fabs(d) < 1e15)
			fprintf(out, "%.0f", d);
		else
			fprintf(out, "%.4g", d);
	} else if (json_is_string(v)) {
		esc(out, json_string_value(v));
	} else if (json_is_true(v)) {
		fputs("yes", out);
	} else if (json_is_false(v)) {
		fputs("no", out);
	} else {
		fputs("-", out);
	}
}

static void row(FILE *out, const char *label, json_t *v)
{
	fputs("<tr><th>", out);
	esc(out, label);
	fputs("</th><td>", out);
	scalar(out, v);
	fputs("</td></tr>\n", out);
}

/* The top of an axis: 1, 2 or 5 times a power of ten, at least v. */
static double nice_ceil(double v)
{
	double p;

	if (!(v > 0))
		return 1;
	p = pow(10, floor(log10(v)));
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

static void pct_text(char *buf, size_t size, double share)
{
	if (share >= 0.1 || share == 0)
		snprintf(buf, size, "%.1f%%", 100 * share);
	else
		snprintf(buf, size, "%.2g%%", 100 * share);
}

/* ---- horizontal bars: one labelled row per item ---- */

typedef struct hbar {
	char label[160];
	double value;
	char text[48]; /* shown after the bar */
} hbar;

static void hbars(FILE *out, const char *cls, const char *title,
		  const hbar *b, size_t n, double top, const char *color)
{
	int h = (int)n * ROW_H + 30, plot = CHART_W - LABEL_W - 90;

	fprintf(out, "<figure><figcaption>");
	esc(out, title);
	fprintf(out, "</figcaption>\n<svg class=\"chart %s\" "
		     "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		     "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
		cls, CHART_W, h, CHART_W, h);
	for (size_t i = 0; i < n; i++) {
		int y = (int)i * ROW_H + 4;
		double w = top > 0 ? plot * b[i].value / top : 0;
		if (b[i].value > 0 && w < 2)
			w = 2; /* a non-zero value stays visible */
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			LABEL_W - 8, y + 14);
		esc(out, b[i].label);
		fprintf(out, "</text><rect class=\"bar\" x=\"%d\" y=\"%d\" "
			     "width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
			     "<text x=\"%.1f\" y=\"%d\">",
			LABEL_W, y, w, ROW_H - 6, color, LABEL_W + w + 6,
			y + 14);
		esc(out, b[i].text);
		fputs("</text>\n", out);
	}
	fprintf(out, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" "
		     "stroke=\"#555\"/>\n",
		LABEL_W, LABEL_W, (int)n * ROW_H);
	fputs("</svg></figure>\n", out);
}

/* An object of counts ({"tcp": 19, ...}) as bars, largest first. */
static void count_bars(FILE *out, const char *cls, const char *title,
		       json_t *obj, const char *color)
{
	hbar b[64];
	size_t n = 0;
	double top = 0;
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		size_t i;
		if (!json_is_integer(v) || n == 64)
			continue;
		/* insertion in descending order */
		for (i = n; i > 0 && b[i - 1].value <
					     (double)json_integer_value(v);
		     i--)
			b[i] = b[i - 1];
		snprintf(b[i].label, sizeof(b[i].label), "%s", k);
		b[i].value = (double)json_integer_value(v);
		snprintf(b[i].text, sizeof(b[i].text), "%lld",
			 (long long)json_integer_value(v));
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if (b[i].value > top)
			top = b[i].value;
	if (!n) {
		fputs("<p class=\"none\">none</p>\n", out);
		return;
	}
	hbars(out, cls, title, b, n, nice_ceil(top), color);
}

/* ---- sections ---- */

static void inputs(FILE *out, json_t *arr)
{
	size_t i;
	json_t *in;

	fputs("<h2 id=\"inputs\">Inputs</h2>\n<table class=\"grid\">"
	      "<tr><th>path</th><th>format</th><th>namespace</th>"
	      "<th>lines</th><th>records</th><th>rejected</th>"
	      "<th>other</th><th>flows</th><th>duplicates</th></tr>\n",
	      out);
	json_array_foreach(arr, i, in) {
		static const char *const nums[] = { "lines", "records",
						    "rejected", "other",
						    "flows", "duplicates" };
		int skipped = json_is_true(json_object_get(in, "skipped"));
		fprintf(out, "<tr%s><td class=\"path\">",
			skipped ? " class=\"skipped\"" : "");
		esc(out, sval(in, "path"));
		fputs("</td><td>", out);
		esc(out, skipped ? "skipped: no known format"
				 : sval(in, "format"));
		fputs("</td><td>", out);
		esc(out, sval(in, "namespace"));
		fputs("</td>", out);
		for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
			fputs("<td class=\"num\">", out);
			scalar(out, json_object_get(in, nums[k]));
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void headroom_bar(FILE *out, json_t *tab)
{
	json_t *cv = json_object_get(tab, "count");
	json_t *mv = json_object_get(tab, "max");
	double count = json_number_value(cv), max = json_number_value(mv);
	double plot = CHART_W - 20, w;
	const char *color;
	char used[32];

	if (!json_is_number(cv) || !json_is_number(mv) || max <= 0) {
		fputs("<p class=\"none\">no headroom chart: the input gives "
		      "no count and nf_conntrack_max</p>\n",
		      out);
		return;
	}
	w = count >= max ? plot : plot * count / max;
	if (count > 0 && w < 2)
		w = 2;
	color = count >= max			? C_RULE
		: (max - count) / max < 0.2 ? C_LOW
					    : C_USED;
	pct_text(used, sizeof(used), count / max);
	fprintf(out, "<figure><figcaption>entries against nf_conntrack_max: "
		     "%.0f of %.0f (%s used)</figcaption>\n"
		     "<svg class=\"chart chart-headroom\" "
		     "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		     "height=\"64\" viewBox=\"0 0 %d 64\" role=\"img\">\n"
		     "<rect class=\"free\" x=\"10\" y=\"8\" width=\"%.0f\" "
		     "height=\"30\" fill=\"" C_FREE "\"/>\n"
		     "<rect class=\"used\" x=\"10\" y=\"8\" width=\"%.1f\" "
		     "height=\"30\" fill=\"%s\"/>\n"
		     "<line x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" y2=\"42\" "
		     "stroke=\"#555\" stroke-dasharray=\"3 3\"/>\n"
		     "<text x=\"10\" y=\"58\">0</text>"
		     "<text x=\"%.1f\" y=\"58\" text-anchor=\"middle\">80%%"
		     "</text>"
		     "<text x=\"%.0f\" y=\"58\" text-anchor=\"end\">max %.0f"
		     "</text>\n</svg></figure>\n",
		count, max, used, CHART_W, CHART_W, plot, w, color,
		10 + 0.8 * plot, 10 + 0.8 * plot, 10 + 0.8 * plot, 10 + plot,
		max);
}

static void table(FILE *out, json_t *tab)
{
	fputs("<h2 id=\"table\">Table and headroom</h2>\n", out);
	headroom_bar(out, tab);
	fputs("<table class=\"kv\">\n", out);
	row(out, "count", json_object_get(tab, "count"));
	row(out, "count source", json_object_get(tab, "count_source"));
	row(out, "max", json_object_get(tab, "max"));
	row(out, "buckets", json_object_get(tab, "buckets"));
	row(out, "headroom", json_object_get(tab, "headroom"));
	row(out, "headroom %", json_object_get(tab, "headroom_pct"));
	fputs("</table>\n", out);
}

static void entries(FILE *out, json_t *e)
{
	fputs("<h2 id=\"entries\">Entries</h2>\n<table class=\"kv\">\n",
	      out);
	row(out, "total", json_object_get(e, "total"));
	row(out, "assured", json_object_get(e, "assured"));
	row(out, "unreplied", json_object_get(e, "unreplied"));
	row(out, "offloaded", json_object_get(e, "offloaded"));
	fputs("</table>\n", out);
	count_bars(out, "chart-protocol", "entries by protocol",
		   json_object_get(e, "by_protocol"), C_PROTO);
	count_bars(out, "chart-state", "entries by state",
		   json_object_get(e, "by_state"), C_STATE);
}

/*
 * Share of nodes (entries' tuples) by the length of their chain:
 * histogram[l] buckets hold l nodes each, so l * histogram[l] nodes sit
 * in chains of length l.  This is what lookups see, and it puts the
 * "keep chains under 8" rule on the chart as the share right of 8.
 */
static size_t node_shares(json_t *hist, double *s, size_t max)
{
	double total = 0;
	size_t n = json_array_size(hist);

	if (n > max)
		n = max;
	for (size_t l = 0; l < n; l++) {
		s[l] = (double)l *
		       json_number_value(json_array_get(hist, l));
		total += s[l];
	}
	for (size_t l = 0; l < n; l++)
		s[l] = total > 0 ? s[l] / total : 0;
	return n;
}

#define HIST_MAX 128

static void hist_chart(FILE *out, json_t *hash)
{
	json_t *atmax = json_object_get(hash, "at_max");
	double now[HIST_MAX], amx[HIST_MAX], poi[HIST_MAX], top = 0;
	size_t nn, na = 0, np = 0, L;
	int left = 60, right = 20, plot_h = 220, y0 = 20;
	double plot_w = CHART_W - left - right, gw, bw;

	nn = node_shares(json_object_get(hash, "histogram"), now, HIST_MAX);
	if (json_is_object(atmax)) {
		na = node_shares(json_object_get(atmax, "histogram"), amx,
				 HIST_MAX);
		np = node_shares(json_object_get(json_object_get(atmax,
								 "poisson"),
						 "histogram"),
				 poi, HIST_MAX);
	}
	if (nn < 2 && na < 2)
		return;
	L = nn > na ? nn : na;
	if (L < 11)
		L = 11; /* 1..10: the 8 line always has room on its right */
	L--;        /* chain lengths 1..L */
	for (size_t l = 1; l < nn; l++)
		top = now[l] > top ? now[l] : top;
	for (size_t l = 1; l < na; l++)
		top = amx[l] > top ? amx[l] : top;
	top = nice_ceil(top);
	gw = plot_w / (double)L;
	bw = (gw - 2) / (na ? 2 : 1);
	fprintf(out, "<figure><figcaption>share of entries' tuples by the "
		     "length of their hash chain: now");
	if (na)
		fprintf(out, " and at nf_conntrack_max (%.0f entries)",
			json_number_value(json_object_get(atmax, "target")));
	fprintf(out, "; right of the red line: chains longer than 8"
		     "</figcaption>\n<svg class=\"chart chart-hist\" "
		     "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		     "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
		CHART_W, plot_h + 84, CHART_W, plot_h + 84);
	/* axes and the top of the scale */
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		     "stroke=\"#555\"/><line x1=\"%d\" y1=\"%d\" x2=\"%.0f\" "
		     "y2=\"%d\" stroke=\"#555\"/>\n"
		     "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g%%"
		     "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0"
		     "</text>\n",
		left, y0, left, y0 + plot_h, left, y0 + plot_h,
		left + plot_w, y0 + plot_h, left - 6, y0 + 10, 100 * top,
		left - 6, y0 + plot_h);
	for (size_t l = 1; l <= L; l++) {
		double x = left + (double)(l - 1) * gw + 1;
		double hn = l < nn ? plot_h * now[l] / top : 0;
		double ha = l < na ? plot_h * amx[l] / top : 0;
		if (l < nn && now[l] > 0 && hn < 1)
			hn = 1;
		if (l < na && amx[l] > 0 && ha < 1)
			ha = 1;
		fprintf(out, "<rect class=\"bar now\" x=\"%.1f\" y=\"%.1f\" "
			     "width=\"%.1f\" height=\"%.1f\" fill=\"" C_NOW
			     "\"/>",
			x, y0 + plot_h - hn, bw, hn);
		if (na)
			fprintf(out, "<rect class=\"bar atmax\" x=\"%.1f\" "
				     "y=\"%.1f\" width=\"%.1f\" "
				     "height=\"%.1f\" fill=\"" C_ATMAX "\"/>",
				x + bw, y0 + plot_h - ha, bw, ha);
		if (L <= 40 || l % 5 == 0)
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" "
				     "text-anchor=\"middle\">%zu</text>",
				x + gw / 2 - 1, y0 + plot_h + 16, l);
		fputc('\n', out);
	}
	if (np > 2) {
		fputs("<polyline class=\"poisson\" fill=\"none\" stroke=\""
		      C_POISSON "\" stroke-width=\"1.5\" points=\"",
		      out);
		for (size_t l = 1; l < np && l <= L; l++)
			fprintf(out, "%.1f,%.1f ",
				left + ((double)l - 0.5) * gw,
				y0 + plot_h -
					(poi[l] < top ? plot_h * poi[l] / top
						      : plot_h));
		fputs("\"/>\n", out);
	}
	/* the rule: chains longer than 8 lie right of length 8 */
	fprintf(out, "<line class=\"rule8\" x1=\"%.1f\" y1=\"%d\" "
		     "x2=\"%.1f\" y2=\"%d\" stroke=\"" C_RULE "\" "
		     "stroke-width=\"3\" stroke-dasharray=\"6 3\"/>"
		     "<text x=\"%.1f\" y=\"%d\" fill=\"" C_RULE "\">8</text>\n",
		left + 8 * gw, y0 - 6, left + 8 * gw, y0 + plot_h,
		left + 8 * gw + 4, y0 + 8);
	fprintf(out, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">"
		     "chain length (nodes)</text>\n",
		left + plot_w / 2, y0 + plot_h + 34);
	/* legend */
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
		     "fill=\"" C_NOW "\"/><text x=\"%d\" y=\"%d\">now</text>",
		left, y0 + plot_h + 46, left + 16, y0 + plot_h + 57);
	if (na)
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" "
			     "height=\"12\" fill=\"" C_ATMAX "\"/><text "
			     "x=\"%d\" y=\"%d\">at max</text><line x1=\"%d\" "
			     "y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\""
			     C_POISSON "\" stroke-width=\"2\"/><text x=\"%d\" "
			     "y=\"%d\">random placement (Poisson), at max"
			     "</text>",
			left + 80, y0 + plot_h + 46, left + 96,
			y0 + plot_h + 57, left + 170, y0 + plot_h + 52,
			left + 190, y0 + plot_h + 52, left + 196,
			y0 + plot_h + 57);
	fputs("\n</svg></figure>\n", out);
}

static void hash(FILE *out, json_t *h)
{
	json_t *atmax = json_object_get(h, "at_max");
	static const char *const keys[] = { "entries", "load", "mean_chain",
					    "p99", "p999", "share_over8",
					    "chaintoolong_p_next",
					    "refused_share" };

	fputs("<h2 id=\"hash\">Hash chains</h2>\n", out);
	if (json_is_string(json_object_get(h, "skipped"))) {
		fputs("<p class=\"none\">skipped: ", out);
		esc(out, sval(h, "skipped"));
		fputs("</p>\n", out);
		return;
	}
	fputs("<p>", out);
	esc(out, sval(h, "algorithm"));
	fputs(" (", out);
	esc(out, sval(h, "era"));
	fputs("), kernel ", out);
	esc(out, sval(h, "kernel"));
	fputs(", ", out);
	scalar(out, json_object_get(h, "buckets"));
	fputs(" buckets, ", out);
	scalar(out, json_object_get(h, "keys"));
	fputs(" random keys</p>\n", out);
	hist_chart(out, h);
	fputs("<table class=\"grid\"><tr><th></th><th>now</th>"
	      "<th>at max</th></tr>\n",
	      out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fputs("<tr><th>", out);
		esc(out, keys[i]);
		fputs("</th><td class=\"num\">", out);
		scalar(out, json_object_get(h, keys[i]));
		fputs("</td><td class=\"num\">", out);
		scalar(out, json_object_get(atmax, keys[i]));
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* "udp 203.0.113.1 -> 203.0.113.2:53" */
static void group_label(char *buf, size_t size, json_t *g)
{
	const char *peer = sval(g, "peer_addr");
	json_t *port = json_object_get(g, "peer_port");
	int v6 = peer && strchr(peer, ':');
	long long zone = json_integer_value(json_object_get(g, "zone"));
	const char *ns = sval(g, "namespace");
	char where[96] = "";

	/* groups of other zones or namespaces would look alike */
	if (zone && ns && *ns)
		snprintf(where, sizeof(where), " (zone %lld, %s)", zone, ns);
	else if (zone)
		snprintf(where, sizeof(where), " (zone %lld)", zone);
	else if (ns && *ns)
		snprintf(where, sizeof(where), " (%s)", ns);
	if (json_is_integer(port))
		snprintf(buf, size, "%s %s \xe2\x86\x92 %s%s%s:%lld%s",
			 sval(g, "protocol") ? sval(g, "protocol") : "",
			 sval(g, "nat_addr") ? sval(g, "nat_addr") : "",
			 v6 ? "[" : "", peer ? peer : "", v6 ? "]" : "",
			 (long long)json_integer_value(port), where);
	else
		snprintf(buf, size, "%s %s \xe2\x86\x92 %s%s",
			 sval(g, "protocol") ? sval(g, "protocol") : "",
			 sval(g, "nat_addr") ? sval(g, "nat_addr") : "",
			 peer ? peer : "", where);
}

static void nat(FILE *out, json_t *n)
{
	json_t *groups = json_object_get(n, "groups"), *g;
	hbar b[NAT_ROWS];
	size_t cnt = 0, i;
	double top = 0;

	fputs("<h2 id=\"nat\">NAT</h2>\n<table class=\"kv\">\n", out);
	row(out, "entries", json_object_get(n, "entries"));
	row(out, "source NAT", json_object_get(n, "snat"));
	row(out, "destination NAT", json_object_get(n, "dnat"));
	row(out, "port remapped", json_object_get(n, "port_remapped"));
	row(out, "port choice", json_object_get(n, "algorithm"));
	row(out, "groups", json_object_get(n, "group_count"));
	fputs("</table>\n", out);
	/* the most used groups, in descending utilization */
	json_array_foreach(groups, i, g) {
		double u = json_number_value(json_object_get(g, "utilization"));
		size_t k;
		if (!json_is_number(json_object_get(g, "utilization")))
			continue;
		if (cnt == NAT_ROWS && u <= b[cnt - 1].value)
			continue;
		k = cnt < NAT_ROWS ? cnt++ : NAT_ROWS - 1;
		for (; k > 0 && b[k - 1].value < u; k--)
			b[k] = b[k - 1];
		group_label(b[k].label, sizeof(b[k].label), g);
		b[k].value = u;
		pct_text(b[k].text, sizeof(b[k].text), u);
	}
	for (i = 0; i < cnt; i++)
		top = b[i].value > top ? b[i].value : top;
	if (cnt) {
		char t[128], tp[32];
		pct_text(tp, sizeof(tp), nice_ceil(top));
		snprintf(t, sizeof(t), "NAT groups by utilization (share of "
				       "the port range in use; axis to %s)",
			 tp);
		hbars(out, "chart-nat", t, b, cnt, nice_ceil(top), C_NAT);
	} else {
		fputs("<p class=\"none\">no NAT groups</p>\n", out);
	}
}

static void stats(FILE *out, json_t *s)
{
	const char *k;
	json_t *v;

	fputs("<h2 id=\"counters\">Counters</h2>\n", out);
	if (!json_integer_value(json_object_get(s, "cpus"))) {
		fputs("<p class=\"none\">none read</p>\n", out);
		return;
	}
	fputs("<table class=\"kv\">\n", out);
	json_object_foreach(s, k, v)
		if (json_is_integer(v) && strcmp(k, "cpus") != 0)
			row(out, k, v);
	fputs("</table>\n<p>summed over ", out);
	scalar(out, json_object_get(s, "cpus"));
	fputs(" CPU rows of ", out);
	esc(out, sval(s, "source"));
	fputs("</p>\n", out);
}

/* kernel log history: the table-full and expectation-full counts */
static void history(FILE *out, json_t *h)
{
	static const char *const kinds[] = { "table_full", "expect_full" };
	static const char *const keys[] = { "printed", "suppressed",
					    "at_least", "bursts", "first",
					    "last" };

	fputs("<h2 id=\"history\">History (kernel log)</h2>\n"
	      "<table class=\"grid\"><tr><th></th>",
	      out);
	for (size_t k = 0; k < 2; k++)
		fprintf(out, "<th>%s</th>", kinds[k]);
	fputs("</tr>\n", out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(out, "<tr><th>%s</th>", keys[i]);
		for (size_t k = 0; k < 2; k++) {
			fputs("<td class=\"num\">", out);
			scalar(out, json_object_get(json_object_get(h,
								     kinds[k]),
						    keys[i]));
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void findings(FILE *out, json_t *arr)
{
	size_t i;
	json_t *f;

	fputs("<h2 id=\"findings\">Findings</h2>\n", out);
	if (!json_array_size(arr)) {
		fputs("<p class=\"none\">none</p>\n", out);
		return;
	}
	fputs("<table class=\"grid findings\"><tr><th>severity</th>"
	      "<th>code</th><th>figure</th><th>limit</th><th>advice</th>"
	      "</tr>\n",
	      out);
	json_array_foreach(arr, i, f) {
		fputs("<tr><td class=\"sev ", out);
		esc(out, sval(f, "severity"));
		fputs("\">", out);
		esc(out, sval(f, "severity"));
		fputs("</td><td>", out);
		esc(out, sval(f, "code"));
		fputs("</td><td class=\"num\">", out);
		scalar(out, json_object_get(f, "figure"));
		fputs("</td><td class=\"num\">", out);
		scalar(out, json_object_get(f, "limit"));
		fputs("</td><td>", out);
		esc(out, sval(f, "advice"));
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* kube_proxy.max_write in words (render/text_plan.c says more) */
static const char *kube_write_words(const char *w)
{
	if (w && !strcmp(w, "raise-only"))
		return "this version only raises it";
	if (w && !strcmp(w, "exact"))
		return "this version sets it exactly, lowering a larger value";
	if (w && !strcmp(w, "depends-on-patch"))
		return "whether it lowers a larger value depends on its patch "
		       "release";
	return "whether it lowers a larger value depends on its version, "
	       "not in the input";
}

/* the planner's settings ("recommendation") and "checks", if any */
static void settings(FILE *out, json_t *root)
{
	json_t *rc = json_object_get(root, "recommendation");
	json_t *checks = json_object_get(root, "checks"), *v;
	size_t i;

	json_t *kp = json_object_get(rc, "kube_proxy");
	/* a Kubernetes node: kube-proxy writes the max at every start, so
	 * its configuration replaces the sysctl lines (as in the text) */
	int kube = json_is_object(kp) && !strcmp(sval(kp, "node"), "yes") &&
		   json_is_string(json_object_get(kp, "config")) &&
		   !json_is_true(json_object_get(kp, "leaves_max"));

	int change = json_is_true(json_object_get(rc, "change"));

	if (json_array_size(json_object_get(rc, "sysctl")) && !change) {
		/* no change: nothing to write (as in the text) */
		fputs("<p>no change: the settings in force already hold the "
		      "planned peak; nothing to write", out);
		if (kube) {
			fputs(" (Kubernetes node: kube-proxy writes "
			      "nf_conntrack_max at every start; ", out);
			esc(out, kube_write_words(sval(kp, "max_write")));
			fputs(")", out);
		}
		fputs(".</p>\n<ul>\n", out);
		json_array_foreach(json_object_get(rc, "reasons"), i, v) {
			fputs("<li>", out);
			esc(out, json_string_value(v));
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	} else if (json_array_size(json_object_get(rc, "sysctl"))) {
		int cfile = kube && json_is_string(json_object_get(
						kp, "config_file"));
		fputs("<p>settings for the planned peak:</p>\n<pre>", out);
		if (kube) {
			fputs("# Kubernetes node (", out);
			esc(out, sval(kp, "evidence"));
			fputs("): kube-proxy writes nf_conntrack_max at every "
			      "start (", out);
			esc(out, kube_write_words(sval(kp, "max_write")));
			fputs("); its KubeProxyConfiguration", out);
			if (cfile) {
				fputs(" (--config=", out);
				esc(out, sval(kp, "config_file"));
				fputs(", which wins over its flags)", out);
			}
			fputs(":\n", out);
			esc(out, sval(kp, "config"));
			if (!cfile) {
				fputs("\n# or its flags\n", out);
				esc(out, sval(kp, "flags"));
			}
			fputc('\n', out);
		}
		json_array_foreach(json_object_get(rc, "sysctl"), i, v) {
			if (kube)
				break;
			esc(out, json_string_value(v));
			fputc('\n', out);
		}
		if (json_is_string(json_object_get(rc, "modprobe"))) {
			esc(out, sval(rc, "modprobe"));
			fputc('\n', out);
		}
		fputs("</pre>\n<ul>\n", out);
		json_array_foreach(json_object_get(rc, "reasons"), i, v) {
			fputs("<li>", out);
			esc(out, json_string_value(v));
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	}
	if (!json_array_size(checks))
		return;
	fputs("<table class=\"grid\"><tr><th>check</th><th>value</th>"
	      "<th>limit</th><th></th></tr>\n",
	      out);
	json_array_foreach(checks, i, v) {
		int ok = json_is_true(json_object_get(v, "ok"));
		fputs("<tr><td>", out);
		esc(out, sval(v, "name"));
		fputs("</td><td class=\"num\">", out);
		scalar(out, json_object_get(v, "value"));
		fputs("</td><td class=\"num\">", out);
		esc(out, sval(v, "op"));
		fputc(' ', out);
		scalar(out, json_object_get(v, "limit"));
		int warn = sval(v, "severity") &&
			   !strcmp(sval(v, "severity"), "warn");
		int na = json_is_null(json_object_get(v, "ok"));
		fprintf(out, "</td><td class=\"sev %s\">%s</td></tr>\n",
			ok || na ? "info" : warn ? "warning" : "critical",
			na ? "n/a" : ok ? "ok" : warn ? "warning" : "failed");
	}
	fputs("</table>\n", out);
}

static void recommendations(FILE *out, json_t *root)
{
	const char *act[64];
	size_t n = ctp_render_actions(root, act, 64);

	fputs("<h2 id=\"recommendations\">Recommendations</h2>\n", out);
	settings(out, root);
	if (!n) {
		fputs("<p class=\"none\">no action needed: no warning or "
		      "critical finding</p>\n",
		      out);
		return;
	}
	fputs("<ol>\n", out);
	for (size_t i = 0; i < n; i++) {
		fputs("<li>", out);
		esc(out, act[i]);
		fputs("</li>\n", out);
	}
	fputs("</ol>\n", out);
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:24px auto;max-width:960px;"
	"color:#222}"
	"h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;"
	"margin-top:28px}"
	"table{border-collapse:collapse;margin:8px 0}"
	"th,td{padding:2px 8px;text-align:left;vertical-align:top}"
	".grid th,.grid td{border:1px solid #ddd}"
	".kv th{font-weight:normal;color:#555}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}"
	"td.path{word-break:break-all}"
	"tr.skipped{color:#999}"
	".sev.critical{background:#f8d0d0}.sev.warning{background:#fbe8b0}"
	".sev.info{background:#d8eaf8}"
	"figure{margin:12px 0}figcaption{color:#555;margin-bottom:4px}"
	"svg text{font:12px sans-serif;fill:#222}"
	".none{color:#777}";

int ctp_render_html(ctp_report *rep, FILE *out, const ctp_render_opts *o)
{
	json_t *root = ctp_report_root(rep), *v;
	ctp_headline h;

	(void)o;
	ctp_headline_get(rep, &h);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head>"
	      "<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<title>ctplan report</title>\n<style>",
	      out);
	fputs(style, out);
	fputs("</style></head>\n<body>\n<h1>ctplan report", out);
	if (json_is_string(json_object_get(json_object_get(root, "host"),
					   "name"))) {
		fputs(" of ", out);
		esc(out, json_string_value(json_object_get(
				 json_object_get(root, "host"), "name")));
	}
	fputs("</h1>\n<p>", out);
	esc(out, sval(root, "schema"));
	if (json_is_string(json_object_get(json_object_get(root, "host"),
					   "captured_at"))) {
		fputs(" &middot; captured ", out);
		esc(out, json_string_value(json_object_get(
				 json_object_get(root, "host"), "captured_at")));
	}
	if (h.kernel) {
		fputs(" &middot; kernel ", out);
		esc(out, h.kernel);
	}
	fprintf(out, " &middot; %u critical, %u warning, %u info "
		     "findings</p>\n",
		h.findings[CTP_FINDING_CRIT], h.findings[CTP_FINDING_WARN],
		h.findings[CTP_FINDING_INFO]);
	if ((v = json_object_get(root, "inputs")))
		inputs(out, v);
	if ((v = json_object_get(root, "table")))
		table(out, v);
	if ((v = json_object_get(root, "entries")))
		entries(out, v);
	if ((v = json_object_get(root, "hash")))
		hash(out, v);
	if ((v = json_object_get(root, "nat")))
		nat(out, v);
	if ((v = json_object_get(root, "stats")))
		stats(out, v);
	if ((v = json_object_get(root, "history")))
		history(out, v);
	findings(out, json_object_get(root, "findings"));
	recommendations(out, root);
	fputs("</body></html>\n", out);
	return ferror(out) ? CTP_EFAIL : 0;
}
