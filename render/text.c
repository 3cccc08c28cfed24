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
#include "actions.h"
#include "text_sections.h"

void ctp_text_heading(tctx *t, const char *title)
{
	if (t->color)
		fprintf(t->out, "\n\033[1m%s\033[0m\n", title);
	else
		fprintf(t->out, "\n%s\n", title);
}

void ctp_text_scalar(FILE *out, json_t *v)
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

const char *ctp_text_shorten(char *buf, size_t size, const char *s,
			     size_t w)
{
	size_t l = strlen(s), tl, keep, al = 0;
	const char *file = s, *bang = strrchr(s, '!'), *arch = s;

	if (w >= size)
		w = size - 1;
	if (l <= w) {
		snprintf(buf, size, "%s", s);
		return buf;
	}
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == '!')
			file = p; /* with its separator */
	tl = strlen(file);
	if (tl + 3 + 1 > w) {
		/* even the file name is too long: its tail */
		snprintf(buf, size, "...%s", s + l - (w - 3));
		return buf;
	}
	keep = w - 3 - tl;
	if (bang && bang < file) {
		/* the archive's own name, up to and with the '!' */
		for (const char *p = s; p < bang; p++)
			if (*p == '/')
				arch = p + 1;
		al = (size_t)(bang - arch) + 1;
		if (al > keep)
			al = keep;
		/* and what room is left goes to the archive path's start */
		if (keep > al && arch > s) {
			size_t head = keep - al;
			if (head > 3 + 1) {
				size_t hl = (size_t)(arch - s);
				if (hl > head - 3)
					hl = head - 3;
				snprintf(buf, size, "%.*s...%.*s...%s",
					 (int)hl, s, (int)al, arch, file);
				if (strlen(buf) <= w)
					return buf;
			}
		}
		snprintf(buf, size, "%.*s...%s", (int)al, arch, file);
		return buf;
	}
	snprintf(buf, size, "%.*s...%s", (int)keep, s, file);
	return buf;
}

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void inputs_more(tctx *t, json_t *e);

/* Length of the longest prefix, ending in '/' or '!', that every read
 * (not skipped) input's path shares. */
static size_t common_dir(json_t *arr)
{
	const char *first = NULL;
	size_t n = 0, i;
	json_t *in;

	json_array_foreach(arr, i, in) {
		const char *p = json_string_value(json_object_get(in, "path"));
		size_t k = 0;

		if (!p || json_is_true(json_object_get(in, "skipped")))
			continue;
		if (!first) {
			first = p;
			n = strlen(p);
			continue;
		}
		while (k < n && p[k] && p[k] == first[k])
			k++;
		n = k;
	}
	while (n > 0 && first[n - 1] != '/' && first[n - 1] != '!')
		n--;
	return n;
}

static void inputs(tctx *t, json_t *arr)
{
	size_t i, w = 4, skipped = 0, cut = 0, longest = 0;
	json_t *in;

	ctp_text_heading(t, "Inputs");
	json_array_foreach(arr, i, in) {
		size_t pl = strlen(json_string_value(json_object_get(in, "path")));
		if (json_is_true(json_object_get(in, "skipped")) &&
		    !json_is_string(json_object_get(in, "error")))
			skipped++;
		else if (pl > longest)
			longest = pl;
	}
	/* 100 columns: path 40, format 22, four counts.  Paths too long
	 * for that are listed under the folder or archive they share,
	 * named once above the table */
	if (longest > 40 && (cut = common_dir(arr)) > 0) {
		char sp[100], full[4096];
		const char *p0 = "";
		json_array_foreach(arr, i, in)
			if (!json_is_true(json_object_get(in, "skipped"))) {
				p0 = json_string_value(
					json_object_get(in, "path"));
				break;
			}
		snprintf(full, sizeof(full), "%.*s",
			 (int)(cut < sizeof(full) ? cut : sizeof(full) - 1),
			 p0);
		ctp_text_shorten(sp, sizeof(sp), full, 88);
		fprintf(t->out, "  under %s\n", sp);
	}
	w = longest > cut ? longest - cut : 4;
	if (w < 4)
		w = 4;
	if (w > 40)
		w = 40;
	fprintf(t->out, "  %-*s %-22s %8s %8s %6s %6s\n", (int)w, "path",
		"format", "lines", "records", "rej", "other");
	json_array_foreach(arr, i, in) {
		const char *path = json_string_value(json_object_get(in, "path"));
		json_t *ov = json_object_get(in, "overlaps");
		char sp[64];

		if (json_is_true(json_object_get(in, "skipped")) &&
		    !json_is_string(json_object_get(in, "error")))
			continue;
		/* cut in the middle: the archive and the file name stay */
		fprintf(t->out, "  %-*s %-22s %8lld %8lld %6lld %6lld\n",
			(int)w, ctp_text_shorten(sp, sizeof(sp), path + cut, w),
			json_string_value(json_object_get(in, "format")),
			ival(in, "lines"), ival(in, "records"),
			ival(in, "rejected"), ival(in, "other"));
		if (json_is_string(json_object_get(in, "error")))
			fprintf(t->out, "  %*s READ ERROR: %s\n", (int)w, "",
				json_string_value(
					json_object_get(in, "error")));
		if (ival(in, "duplicates"))
			fprintf(t->out, "  %*s %lld entries also in another "
					"input, counted once\n",
				(int)w, "", ival(in, "duplicates"));
		else if (json_array_size(ov))
			fprintf(t->out, "  %*s same table as %zu other "
					"input(s)\n",
				(int)w, "", json_array_size(ov));
	}
	if (skipped) {
		/* wrapped at 100 columns, each path cut to fit a line */
		size_t col = 0;

		fprintf(t->out, "  skipped (not a known format):");
		col = 31;
		json_array_foreach(arr, i, in) {
			char sp[100];

			if (!json_is_true(json_object_get(in, "skipped")) ||
			    json_is_string(json_object_get(in, "error")))
				continue;
			ctp_text_shorten(sp, sizeof(sp),
					 json_string_value(
						 json_object_get(in, "path")),
					 92);
			if (col + 1 + strlen(sp) > 100) {
				fprintf(t->out, "\n   ");
				col = 3;
			}
			fprintf(t->out, " %s", sp);
			col += 1 + strlen(sp);
		}
		fputc('\n', t->out);
	}
	inputs_more(t, json_object_get(t->root, "entries"));
}

/* what the inputs section cannot list: skipped files past the listed
 * ones, and the count of inputs not read to their end */
static void inputs_more(tctx *t, json_t *e)
{
	long long more = ival(e, "skipped_not_listed");
	long long errs = ival(e, "read_errors");

	if (more)
		fprintf(t->out, "  and %lld more files skipped (not a known "
				"format), not listed\n",
			more);
	if (errs)
		fprintf(t->out, "  %lld input(s) not read to their end: see "
				"READ ERROR above; the rest is used\n",
			errs);
}

/* table.namespaces: each one's entries against the one max, and the
 * load of the hash table they share */
static void namespaces(tctx *t, json_t *ns)
{
	json_t *r;
	size_t i;
	int w = 6;
	const char *own;
	long long nmin, nmax;

	if (!json_is_object(ns))
		return;
	json_array_foreach(json_object_get(ns, "list"), i, r) {
		const char *l = json_string_value(json_object_get(r,
								 "namespace"));
		if (l && (int)strlen(l) > w)
			w = (int)strlen(l);
	}
	if (w > 40)
		w = 40;
	own = json_is_true(json_object_get(ns, "own_is_root")) ? "(host)"
								: "(captured)";
	if ((int)strlen(own) > w)
		w = (int)strlen(own);
	/* a namespace the kernel log names may be one of those listed */
	nmin = json_integer_value(json_object_get(ns, "count_min"));
	nmax = json_integer_value(json_object_get(ns, "count_max"));
	fprintf(t->out, "  %-12s ", "namespaces");
	if (nmin == nmax)
		fprintf(t->out, "%lld; ", nmin);
	else
		fprintf(t->out, "%lld %s %lld (the kernel log's may be %s)\n"
				"  %-12s ",
			nmin, nmax == nmin + 1 ? "or" : "to", nmax,
			nmax - nmin == 1 && !strcmp(own, "(captured)")
				? "the one captured"
				: "one listed",
			"");
	if (json_is_true(json_object_get(ns, "shared_table"))) {
		fprintf(t->out, "one hash table shared by all (4.7+)");
		if (json_integer_value(json_object_get(ns, "entries_listed")))
			fprintf(t->out, ": %lld entries listed",
				(long long)json_integer_value(json_object_get(
					ns, "entries_listed")));
		if (json_is_number(json_object_get(ns, "load_all")))
			fprintf(t->out, ", %.3g nodes per bucket",
				json_number_value(json_object_get(ns,
								  "load_all")));
		fputc('\n', t->out);
	} else {
		fprintf(t->out, "one hash table each (< 4.7)\n");
	}
	json_array_foreach(json_object_get(ns, "list"), i, r) {
		json_t *pct = json_object_get(r, "pct_of_max");
		const char *l = json_string_value(json_object_get(r,
								 "namespace"));
		fprintf(t->out, "  %-12s ", "");
		if (!l) {
			fprintf(t->out, "netns inode %lld: %lld \"table full\" "
					"messages in the kernel log\n",
				(long long)json_integer_value(
					json_object_get(r, "inode")),
				(long long)json_integer_value(json_object_get(
					r, "table_full_messages")));
			continue;
		}
		fprintf(t->out, "%-*.*s %8lld listed", w, w, *l ? l : own,
			(long long)json_integer_value(
				json_object_get(r, "entries_listed")));
		if (json_is_number(json_object_get(r, "count")))
			fprintf(t->out, ", count %lld",
				(long long)json_integer_value(
					json_object_get(r, "count")));
		if (json_is_number(pct))
			fprintf(t->out, ": %.2f%% of max",
				json_number_value(pct));
		fputc('\n', t->out);
	}
}

static void table(tctx *t, json_t *tab)
{
	json_t *pct = json_object_get(tab, "headroom_pct");

	ctp_text_heading(t, "Table and headroom");
	fprintf(t->out, "  %-12s ", "count");
	ctp_text_scalar(t->out, json_object_get(tab, "count"));
	if (json_is_string(json_object_get(tab, "count_source")))
		fprintf(t->out, "  (%s)",
			json_string_value(json_object_get(tab, "count_source")));
	/* --to-kernel: a setting that follows the new kernel's default is
	 * a projection, said so on its line */
	fprintf(t->out, "\n  %-12s ", "max");
	ctp_text_scalar(t->out, json_object_get(tab, "max"));
	if (json_is_true(json_object_get(tab, "max_projected")))
		fprintf(t->out, "  projected: the new kernel's default "
				"for this MemTotal");
	fprintf(t->out, "\n  %-12s ", "buckets");
	ctp_text_scalar(t->out, json_object_get(tab, "buckets"));
	if (json_is_true(json_object_get(tab, "buckets_projected")))
		fprintf(t->out, "  projected: the new kernel's default "
				"for this MemTotal");
	fprintf(t->out, "\n  %-12s ", "headroom");
	if (json_is_number(pct) && json_number_value(pct) < 0) {
		/* over max: how full, not a negative headroom */
		fprintf(t->out, "none: %.0f%% full, %lld entries over the %smax",
			100 - json_number_value(pct),
			-(long long)json_integer_value(
				json_object_get(tab, "headroom")),
			json_is_true(json_object_get(tab, "max_projected"))
				? "projected "
				: "");
	} else {
		ctp_text_scalar(t->out, json_object_get(tab, "headroom"));
		if (json_is_number(pct))
			fprintf(t->out, " (%.2f%% of max free)",
				json_number_value(pct));
	}
	fputc('\n', t->out);
	namespaces(t, json_object_get(tab, "namespaces"));
}

/* "key n" pairs of an object, several per line */
static void counts(tctx *t, const char *label, json_t *obj)
{
	const char *k;
	json_t *v;
	int col = 0;
	/* zones are numbers too: "zone 0: 34" reads, "0 34" does not */
	int zone = !strcmp(label, "zone");

	fprintf(t->out, "  %-12s", label);
	if (!json_object_size(obj))
		fprintf(t->out, " -");
	json_object_foreach(obj, k, v) {
		char cell[64];
		snprintf(cell, sizeof(cell), zone ? "%s: %lld%s" : "%s %lld%s",
			 k, (long long)json_integer_value(v),
			 zone && json_object_iter_next(obj,
				 json_object_key_to_iter(k)) ? "," : "");
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
	ctp_text_heading(t, "Entries");
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

	ctp_text_heading(t, "Counters (conntrack -S, summed over CPUs)");
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
	{
		char sp[100];
		const char *src =
			json_string_value(json_object_get(s, "source"));
		fprintf(t->out, "\n  (%lld CPU rows from %s)\n",
			(long long)json_integer_value(
				json_object_get(s, "cpus")),
			ctp_text_shorten(sp, sizeof(sp), src ? src : "", 75));
	}
}

/* Words of s from column indent, wrapped before column 100. */
static void wrap(tctx *t, const char *s, int indent, int first)
{
	int col = first;

	while (*s) {
		size_t w = strcspn(s, " ");
		if (col > indent && col + 1 + (int)w > 100) {
			fprintf(t->out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', t->out);
			col++;
		}
		fprintf(t->out, "%.*s", (int)w, s);
		col += (int)w;
		s += w;
		while (*s == ' ')
			s++;
	}
	fputc('\n', t->out);
}

static void figure(char *buf, size_t size, json_t *v)
{
	if (!json_is_number(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.4g", json_number_value(v));
}

/* severity, code, figure and limit on one line, the advice below it;
 * in the report's one order (critical first, then by code) */
static void findings(tctx *t, json_t *arr)
{
	size_t i;
	json_t *f;

	ctp_text_heading(t, "Findings");
	if (!json_array_size(arr)) {
		fprintf(t->out, "  none\n");
		return;
	}
	fprintf(t->out, "  %-9s %-44s %12s %12s\n", "severity", "code",
		"figure", "limit");
	json_array_foreach(arr, i, f) {
		const char *sev =
			json_string_value(json_object_get(f, "severity"));
		const char *on = "", *off = "";
		char fig[32], lim[32];

		if (!sev)
			continue;
		if (t->color) {
			on = strcmp(sev, "critical") == 0  ? "\033[31m"
			     : strcmp(sev, "warning") == 0 ? "\033[33m"
							   : "\033[36m";
			off = "\033[0m";
		}
		figure(fig, sizeof(fig), json_object_get(f, "figure"));
		figure(lim, sizeof(lim), json_object_get(f, "limit"));
		fprintf(t->out, "  %s%-9s%s %-44s %12s %12s\n%12s", on, sev,
			off, json_string_value(json_object_get(f, "code")),
			fig, lim, "");
		wrap(t, json_string_value(json_object_get(f, "advice")), 12,
		     12);
	}
}

/*
 * Last, what to do: the planner's settings (when it ran), then the
 * actions of the warning and critical findings, each once.
 */
static void recommendations(tctx *t, json_t *root)
{
	const char *act[64];
	size_t n = ctp_render_actions(root, act, 64);
	json_t *rc = json_object_get(root, "recommendation");

	ctp_text_heading(t, "Recommendations");
	if (rc)
		ctp_text_recommendation(t, rc);
	if (rc && n)
		fprintf(t->out, "\n  and from the findings:\n");
	if (!n)
		fprintf(t->out, "%s  no action needed: no warning or critical "
				"finding\n", rc ? "\n" : "");
	for (size_t i = 0; i < n; i++) {
		fprintf(t->out, "  %2zu. ", i + 1);
		wrap(t, act[i], 6, 6);
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
				ctp_text_scalar(t->out, e);
				fputc(' ', t->out);
			}
		} else {
			ctp_text_scalar(t->out, v);
		}
		fputc('\n', t->out);
	}
}

/*
 * Sections with a layout of their own, in the order a reader wants them;
 * other sections of the tree follow in tree order, printed generically.
 */
static const struct section {
	const char *key;
	void (*fn)(tctx *t, json_t *v);
} sections[] = {
	{ "inputs", inputs },
	{ "table", table },
	/* planner extras under "Table and headroom", no heading */
	{ "headroom", ctp_text_headroom },
	{ "defaults", ctp_text_defaults },
	{ "entries", entries },
	{ "hash", ctp_text_hash },
	{ "nat", ctp_text_nat },
	{ "stats", stats },
	{ "history", ctp_text_history },
	{ "checks", ctp_text_checks },
	/* under "Recommendations", after the findings */
	{ "recommendation", NULL },
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* the rest of the title line: the program, the host and, when the input
 * says, when it was captured */
static void host_line(tctx *t, json_t *root)
{
	json_t *tool = json_object_get(root, "tool");
	json_t *host = json_object_get(root, "host");
	const char *name = json_string_value(json_object_get(host, "name"));
	const char *from =
		json_string_value(json_object_get(host, "name_from"));
	const char *at =
		json_string_value(json_object_get(host, "captured_at"));

	if (json_is_string(json_object_get(tool, "version")))
		fprintf(t->out, " by ctplan %s",
			json_string_value(json_object_get(tool, "version")));
	fputc('\n', t->out);
	if (!name)
		return;
	fprintf(t->out, "host %s (%s)", name,
		!from				   ? "named by the caller"
		: strcmp(from, "uname") == 0	   ? "uname -a nodename"
		: strcmp(from, "sysctl") == 0	   ? "sysctl kernel.hostname"
						   : "named after the input");
	if (at)
		fprintf(t->out, ", captured %s (%s)", at,
			json_string_value(
				json_object_get(host, "captured_from")));
	fputc('\n', t->out);
}

int ctp_render_text(ctp_report *rep, FILE *out, const ctp_render_opts *o)
{
	json_t *root = ctp_report_root(rep), *v;
	tctx t = { out, o ? o->color : 0, root };
	const char *k;

	fprintf(out, "ctplan report (%s)",
		json_string_value(json_object_get(root, "schema")));
	host_line(&t, root);
	for (size_t i = 0; i < NSECTIONS; i++)
		if (sections[i].fn &&
		    (v = json_object_get(root, sections[i].key)))
			sections[i].fn(&t, v);
	json_object_foreach(root, k, v) {
		size_t i;
		for (i = 0; i < NSECTIONS; i++)
			if (strcmp(k, sections[i].key) == 0)
				break;
		if (i < NSECTIONS || strcmp(k, "schema") == 0 ||
		    strcmp(k, "tool") == 0 || strcmp(k, "host") == 0 ||
		    strcmp(k, "findings") == 0 || !json_is_object(v))
			continue;
		char title[64];
		snprintf(title, sizeof(title), "%s", k);
		if (title[0] >= 'a' && title[0] <= 'z')
			title[0] = (char)(title[0] - 'a' + 'A');
		ctp_text_heading(&t, title);
		generic(&t, v, 0);
	}
	findings(&t, json_object_get(root, "findings"));
	recommendations(&t, root);
	return ferror(out) ? CTP_EFAIL : 0;
}
