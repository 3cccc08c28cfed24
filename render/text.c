/*
 * Text report: aligned sections for a terminal of 100 columns.  Known
 * sections get their own layout; any other section of the tree is
 * printed generically, so a model's figures show up before it gets a
 * layout of its own.
 */
#include <math.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/render.h"

typedef struct tctx {
	FILE *out;
	int color;
} tctx;

static void heading(tctx *t, const char *title)
{
	if (t->color)
		fprintf(t->out, "\n\033[1m%s\033[0m\n", title);
	else
		fprintf(t->out, "\n%s\n", title);
}

static void scalar(FILE *out, json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(out, "%.4g", json_real_value(v));
	else if (json_is_string(v))
		fprintf(out, "%s", json_string_value(v));
	else if (json_is_true(v))
		fprintf(out, "yes");
	else if (json_is_false(v))
		fprintf(out, "no");
	else if (json_is_null(v))
		fprintf(out, "-");
	else
		fprintf(out, "(%s)", json_is_array(v) ? "list" : "object");
}

static void inputs(tctx *t, json_t *arr)
{
	size_t i;
	json_t *in;

	heading(t, "Inputs");
	fprintf(t->out, "  %-44s %-22s %8s %8s %6s %6s\n", "path", "format",
		"lines", "records", "rej", "other");
	json_array_foreach(arr, i, in) {
		const char *path = json_string_value(json_object_get(in, "path"));
		size_t pl = strlen(path);
		json_t *ov = json_object_get(in, "overlaps");
		/* keep the tail of long paths: it names the file */
		fprintf(t->out, "  %-44s %-22s %8lld %8lld %6lld %6lld\n",
			pl > 44 ? path + pl - 44 : path,
			json_string_value(json_object_get(in, "format")),
			(long long)json_integer_value(json_object_get(in, "lines")),
			(long long)json_integer_value(
				json_object_get(in, "records")),
			(long long)json_integer_value(
				json_object_get(in, "rejected")),
			(long long)json_integer_value(json_object_get(in, "other")));
		if (json_array_size(ov))
			fprintf(t->out, "  %44s same table as %zu other "
					"input(s); %lld duplicate entries "
					"merged\n",
				"", json_array_size(ov),
				(long long)json_integer_value(
					json_object_get(in, "duplicates")));
	}
}

static void table(tctx *t, json_t *tab)
{
	json_t *pct = json_object_get(tab, "headroom_pct");

	heading(t, "Table and headroom");
	fprintf(t->out, "  %-12s ", "count");
	scalar(t->out, json_object_get(tab, "count"));
	if (json_is_string(json_object_get(tab, "count_source")))
		fprintf(t->out, "  (%s)",
			json_string_value(json_object_get(tab, "count_source")));
	fprintf(t->out, "\n  %-12s ", "max");
	scalar(t->out, json_object_get(tab, "max"));
	fprintf(t->out, "\n  %-12s ", "buckets");
	scalar(t->out, json_object_get(tab, "buckets"));
	fprintf(t->out, "\n  %-12s ", "headroom");
	scalar(t->out, json_object_get(tab, "headroom"));
	if (json_is_number(pct))
		fprintf(t->out, " (%.2f%% of max free)", json_number_value(pct));
	fputc('\n', t->out);
}

/* "key n" pairs of an object, several per line */
static void counts(tctx *t, const char *label, json_t *obj)
{
	const char *k;
	json_t *v;
	int col = 0;

	fprintf(t->out, "  %-12s", label);
	if (!json_object_size(obj))
		fprintf(t->out, " -");
	json_object_foreach(obj, k, v) {
		char cell[64];
		snprintf(cell, sizeof(cell), "%s %lld", k,
			 (long long)json_integer_value(v));
		if (col && col + strlen(cell) > 84) {
			fprintf(t->out, "\n  %-12s", "");
			col = 0;
		}
		fprintf(t->out, " %s", cell);
		col += (int)strlen(cell) + 1;
	}
	fputc('\n', t->out);
}

static void entries(tctx *t, json_t *e)
{
	heading(t, "Entries");
	fprintf(t->out, "  %-12s %lld (assured %lld, unreplied %lld, "
			"offloaded %lld)\n",
		"total", (long long)json_integer_value(json_object_get(e, "total")),
		(long long)json_integer_value(json_object_get(e, "assured")),
		(long long)json_integer_value(json_object_get(e, "unreplied")),
		(long long)json_integer_value(json_object_get(e, "offloaded")));
	counts(t, "family", json_object_get(e, "by_family"));
	counts(t, "protocol", json_object_get(e, "by_protocol"));
	counts(t, "state", json_object_get(e, "by_state"));
	counts(t, "zone", json_object_get(e, "by_zone"));
	if (json_integer_value(json_object_get(e, "events")))
		fprintf(t->out, "  %-12s %lld event lines (not table entries)\n",
			"events",
			(long long)json_integer_value(json_object_get(e, "events")));
}

static void stats(tctx *t, json_t *s)
{
	const char *k;
	json_t *v;
	int col = 0;

	heading(t, "Counters (conntrack -S, summed over CPUs)");
	if (!json_integer_value(json_object_get(s, "cpus"))) {
		fprintf(t->out, "  none read\n");
		return;
	}
	json_object_foreach(s, k, v) {
		char cell[64];
		if (!json_is_integer(v) || strcmp(k, "cpus") == 0)
			continue;
		snprintf(cell, sizeof(cell), "%s=%lld", k,
			 (long long)json_integer_value(v));
		if (col && col + strlen(cell) > 90) {
			fputc('\n', t->out);
			col = 0;
		}
		fprintf(t->out, "  %s", cell);
		col += (int)strlen(cell) + 2;
	}
	fprintf(t->out, "\n  (%lld CPU rows from %s)\n",
		(long long)json_integer_value(json_object_get(s, "cpus")),
		json_string_value(json_object_get(s, "source")));
}

static void findings(tctx *t, json_t *arr)
{
	size_t i;
	json_t *f;

	heading(t, "Findings");
	if (!json_array_size(arr))
		fprintf(t->out, "  none\n");
	json_array_foreach(arr, i, f) {
		const char *sev = json_string_value(json_object_get(f, "severity"));
		const char *on = "", *off = "";
		if (t->color) {
			on = strcmp(sev, "critical") == 0  ? "\033[31m"
			     : strcmp(sev, "warning") == 0 ? "\033[33m"
							   : "\033[36m";
			off = "\033[0m";
		}
		fprintf(t->out, "  %s%-8s%s %s: %s\n", on, sev, off,
			json_string_value(json_object_get(f, "code")),
			json_string_value(json_object_get(f, "advice")));
	}
}

/* generic: flat "key: value" lines, nested objects indented */
static void generic(tctx *t, json_t *obj, int depth)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		fprintf(t->out, "%*s%s: ", 2 + 2 * depth, "", k);
		if (json_is_object(v) && depth < 3) {
			fputc('\n', t->out);
			generic(t, v, depth + 1);
			continue;
		}
		if (json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				if (i > 16) {
					fprintf(t->out, "...");
					break;
				}
				scalar(t->out, e);
				fputc(' ', t->out);
			}
		} else {
			scalar(t->out, v);
		}
		fputc('\n', t->out);
	}
}

int ctp_render_text(ctp_report *rep, FILE *out, const ctp_render_opts *o)
{
	json_t *root = ctp_report_root(rep), *v;
	tctx t = { out, o ? o->color : 0 };
	const char *k;

	fprintf(out, "ctplan report (%s)\n",
		json_string_value(json_object_get(root, "schema")));
	json_object_foreach(root, k, v) {
		if (strcmp(k, "schema") == 0 || strcmp(k, "findings") == 0)
			continue;
		if (strcmp(k, "inputs") == 0)
			inputs(&t, v);
		else if (strcmp(k, "table") == 0)
			table(&t, v);
		else if (strcmp(k, "entries") == 0)
			entries(&t, v);
		else if (strcmp(k, "stats") == 0)
			stats(&t, v);
		else if (json_is_object(v)) {
			char title[64];
			snprintf(title, sizeof(title), "%s", k);
			if (title[0] >= 'a' && title[0] <= 'z')
				title[0] = (char)(title[0] - 'a' + 'A');
			heading(&t, title);
			generic(&t, v, 0);
		}
	}
	findings(&t, json_object_get(root, "findings"));
	return ferror(out) ? CTP_EFAIL : 0;
}
