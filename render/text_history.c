/*
 * Text layout of the "history" section: per message kind the lines
 * printed, the callbacks the rate limit suppressed, and the bursts, then
 * the logs read and which of them were counted.
 */
#include <string.h>

#include "text_sections.h"

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *sval(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

/* "4026532177, init" */
static void names(FILE *out, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_array_size(arr))
		fprintf(out, "-");
	json_array_foreach(arr, i, v)
		fprintf(out, "%s%s", i ? ", " : "", json_string_value(v));
}

static void kind(tctx *t, json_t *h, const char *key, const char *label,
		 const char *what)
{
	json_t *k = json_object_get(h, key), *b;
	size_t i, shown = 0;

	if (!k || !ival(k, "printed"))
		return;
	fprintf(t->out, "  %-14s %lld lines + %lld suppressed = at least "
			"%lld %s, in %lld burst(s)\n",
		label, ival(k, "printed"), ival(k, "suppressed"),
		ival(k, "at_least"), what, ival(k, "bursts"));
	json_array_foreach(json_object_get(h, "bursts"), i, b) {
		if (strcmp(sval(b, "kind"), key) != 0)
			continue;
		if (shown++ == 20) {
			fprintf(t->out, "  %14s ... %lld bursts in all\n", "",
				ival(k, "bursts"));
			break;
		}
		fprintf(t->out, "  %14s %s .. %s  %lld + %lld  netns ", "",
			sval(b, "first"), sval(b, "last"), ival(b, "count"),
			ival(b, "suppressed"));
		names(t->out, json_object_get(b, "namespaces"));
		fputc('\n', t->out);
	}
}

void ctp_text_history(tctx *t, json_t *h)
{
	json_t *l, *sizes;
	size_t i;

	ctp_text_heading(t, "History (kernel log)");
	if (!ival(json_object_get(h, "table_full"), "printed") &&
	    !ival(json_object_get(h, "expect_full"), "printed"))
		fprintf(t->out, "  no conntrack table-full messages\n");
	kind(t, h, "table_full", "table full", "packets dropped");
	kind(t, h, "expect_full", "expect full", "expectations refused");
	if (ival(h, "suppressed_unattributed"))
		fprintf(t->out, "  %-14s %lld suppressed callbacks follow no "
				"conntrack message (other networking "
				"warnings)\n",
			"other", ival(h, "suppressed_unattributed"));
	sizes = json_object_get(json_object_get(h, "notices"), "boot_sizes");
	json_array_foreach(sizes, i, l)
		fprintf(t->out, "  %-14s %lld buckets, %lld max\n",
			i ? "" : "at boot", ival(l, "buckets"), ival(l, "max"));
	fprintf(t->out, "  %-14s clock %s, bursts split at gaps over %lld "
			"s\n",
		"times", sval(h, "clock"), ival(h, "burst_gap_s"));
	l = json_object_get(h, "bursts_not_listed");
	if (ival(l, "bursts"))
		fprintf(t->out, "  %-14s the %zu largest bursts are listed; "
				"%lld more (%lld messages) are counted "
				"above, not listed\n",
			"bursts", json_array_size(json_object_get(h, "bursts")),
			ival(l, "bursts"), ival(l, "messages"));
	json_array_foreach(json_object_get(h, "logs"), i, l) {
		char sp[96];
		/* cut in the middle: the archive and the file name stay */
		fprintf(t->out, "  %-14s %s\n", i ? "" : "logs",
			ctp_text_shorten(sp, sizeof(sp), sval(l, "path"), 83));
		fprintf(t->out, "  %14s   %lld lines, %lld conntrack messages, "
				"%s clock, %s\n",
			"", ival(l, "lines"), ival(l, "messages"),
			sval(l, "clock"),
			json_is_false(json_object_get(l, "counted"))
				? "not counted:"
				: "counted");
		if (json_is_false(json_object_get(l, "counted")))
			fprintf(t->out, "  %14s     %s\n", "",
				sval(l, "not_counted_because"));
	}
}
