/*
 * ctplan diff OLD NEW (render side): two reports of one host, compared
 * by their trees (docs/report.md): table figures, entries by protocol
 * and state, the conntrack -S counters (a counter that went down means
 * the host rebooted in between), the NAT remaps NEW has and OLD had not,
 * and findings that came or went.
 *
 * The comparison is a JSON tree ("ctplan.diff/1", docs/report.md) so
 * --format json and the text agree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/render.h"

#define DIFF_SCHEMA "ctplan.diff/1"

/* {"old": a, "new": b, "delta": b - a}; null where a side lacks it */
static json_t *pair(json_t *a, json_t *b)
{
	json_t *d = json_null();
	json_int_t x = json_integer_value(a), y = json_integer_value(b), r;

	/* integers whose difference does not fit json_int_t (values near
	 * the range's ends) are compared as reals */
	if (json_is_integer(a) && json_is_integer(b) &&
	    !__builtin_sub_overflow(y, x, &r))
		d = json_integer(r);
	else if (json_is_number(a) && json_is_number(b))
		d = json_real(json_number_value(b) - json_number_value(a));
	/* json_pack "O" takes a new reference, "o" steals d's */
	return json_pack("{s:O, s:O, s:o}", "old", a ? a : json_null(), "new",
			 b ? b : json_null(), "delta", d);
}

/* Every key of either object, as pairs. */
static json_t *pairs(json_t *a, json_t *b, const char *const *only,
		     size_t nonly)
{
	json_t *o = json_object(), *v;
	const char *k;

	if (only) {
		for (size_t i = 0; i < nonly; i++)
			json_object_set_new(o, only[i],
					    pair(json_object_get(a, only[i]),
						 json_object_get(b, only[i])));
		return o;
	}
	json_object_foreach(a, k, v)
		json_object_set_new(o, k, pair(v, json_object_get(b, k)));
	json_object_foreach(b, k, v)
		if (!json_object_get(a, k))
			json_object_set_new(o, k, pair(NULL, v));
	return o;
}

/* identity of a remap: protocol, namespace, zone, tuple, NAT port */
static int remap_same(json_t *x, json_t *y)
{
	static const char *const keys[] = { "protocol", "namespace", "zone",
					    "src", "sport", "dst", "dport",
					    "nat_addr", "nat_port" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_equal(json_object_get(x, keys[i]),
				json_object_get(y, keys[i])) &&
		    (json_object_get(x, keys[i]) ||
		     json_object_get(y, keys[i])))
			return 0;
	return 1;
}

static json_t *new_remaps(json_t *a, json_t *b)
{
	json_t *out = json_array(), *r, *q;
	size_t i, j;

	json_array_foreach(b, i, r) {
		int seen = 0;
		json_array_foreach(a, j, q)
			if (remap_same(r, q)) {
				seen = 1;
				break;
			}
		if (!seen)
			json_array_append(out, r);
	}
	return out;
}

/* codes of findings in a and not in b */
static json_t *finding_codes(json_t *a, json_t *b)
{
	json_t *out = json_array(), *f, *g;
	size_t i, j;

	json_array_foreach(a, i, f) {
		int seen = 0;
		json_array_foreach(b, j, g)
			if (json_equal(json_object_get(f, "code"),
				       json_object_get(g, "code"))) {
				seen = 1;
				break;
			}
		if (!seen)
			json_array_append_new(
				out, json_pack("{s:O, s:O}", "code",
					       json_object_get(f, "code"),
					       "severity",
					       json_object_get(f, "severity")));
	}
	return out;
}

static const char *const table_keys[] = { "count", "max", "buckets",
					  "headroom", "headroom_pct" };

static json_t *build(const char *oldp, const char *newp, json_t *ra,
		     json_t *rb)
{
	json_t *d = json_object(), *ea, *eb, *sa, *sb, *st, *v;
	const char *k;
	int reset = 0;

	ea = json_object_get(ra, "entries");
	eb = json_object_get(rb, "entries");
	sa = json_object_get(ra, "stats");
	sb = json_object_get(rb, "stats");
	json_object_set_new(d, "schema", json_string(DIFF_SCHEMA));
	json_object_set_new(d, "old", json_string(oldp));
	json_object_set_new(d, "new", json_string(newp));
	json_object_set_new(d, "table",
			    pairs(json_object_get(ra, "table"),
				  json_object_get(rb, "table"), table_keys,
				  sizeof(table_keys) / sizeof(table_keys[0])));
	json_object_set_new(d, "entries",
			    pair(json_object_get(ea, "total"),
				 json_object_get(eb, "total")));
	json_object_set_new(d, "by_protocol",
			    pairs(json_object_get(ea, "by_protocol"),
				  json_object_get(eb, "by_protocol"), NULL, 0));
	json_object_set_new(d, "by_state",
			    pairs(json_object_get(ea, "by_state"),
				  json_object_get(eb, "by_state"), NULL, 0));
	/* counters: only the ones both sides have */
	st = json_object();
	json_object_foreach(sa, k, v) {
		json_t *w = json_object_get(sb, k);
		if (!json_is_integer(v) || !json_is_integer(w) ||
		    strcmp(k, "cpus") == 0)
			continue;
		if (json_integer_value(w) < json_integer_value(v))
			reset = 1;
		json_object_set_new(st, k, pair(v, w));
	}
	json_object_set_new(d, "stats", st);
	json_object_set_new(d, "stats_reset", json_boolean(reset));
	json_object_set_new(
		d, "nat",
		json_object_get(ra, "nat") && json_object_get(rb, "nat")
			? json_pack("{s:o, s:o}", "port_remapped",
				    pair(json_object_get(json_object_get(
							 ra, "nat"),
						 "port_remapped"),
					 json_object_get(json_object_get(
							 rb, "nat"),
						 "port_remapped")),
				    "new_remaps",
				    new_remaps(json_object_get(json_object_get(
							   ra, "nat"),
						   "remaps"),
					       json_object_get(json_object_get(
							   rb, "nat"),
						   "remaps")))
			: json_null());
	json_object_set_new(d, "findings_new",
			    finding_codes(json_object_get(rb, "findings"),
					  json_object_get(ra, "findings")));
	json_object_set_new(d, "findings_gone",
			    finding_codes(json_object_get(ra, "findings"),
					  json_object_get(rb, "findings")));
	return d;
}

static void num(char *buf, size_t size, json_t *v, int sign)
{
	if (json_is_integer(v))
		snprintf(buf, size, sign ? "%+lld" : "%lld",
			 (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, sign ? "%+.4g" : "%.4g",
			 json_real_value(v));
	else
		snprintf(buf, size, "-");
}

/* rows "name old new delta (growth)" of an object of pairs */
static void table_rows(FILE *out, json_t *obj)
{
	const char *k;
	json_t *p;

	json_object_foreach(obj, k, p) {
		char o[32], n[32], dl[32], g[24] = "";
		json_t *ov = json_object_get(p, "old");
		num(o, sizeof(o), ov, 0);
		num(n, sizeof(n), json_object_get(p, "new"), 0);
		num(dl, sizeof(dl), json_object_get(p, "delta"), 1);
		if (json_is_number(ov) && json_number_value(ov) != 0 &&
		    json_is_number(json_object_get(p, "delta")))
			snprintf(g, sizeof(g), "%+.1f%%",
				 100 * json_number_value(json_object_get(
					       p, "delta")) /
					 json_number_value(ov));
		fprintf(out, "  %-24.24s %14s %14s %14s %9s\n", k, o, n, dl, g);
	}
}

static const char *sval(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* "addr:port", "[v6]:port" */
static void endpoint(char *buf, size_t size, const char *addr, long long port)
{
	if (strchr(addr, ':'))
		snprintf(buf, size, "[%s]:%lld", addr, port);
	else
		snprintf(buf, size, "%s:%lld", addr, port);
}

static void print_text(json_t *d, FILE *out)
{
	json_t *nat = json_object_get(d, "nat"), *r;
	size_t i;

	fprintf(out, "ctplan diff (%s)\n  old: %s\n  new: %s\n",
	       json_string_value(json_object_get(d, "schema")),
	       json_string_value(json_object_get(d, "old")),
	       json_string_value(json_object_get(d, "new")));
	fprintf(out, "\nTable and entries\n  %-24s %14s %14s %14s %9s\n", "",
	       "old", "new", "delta", "growth");
	table_rows(out, json_object_get(d, "table"));
	{
		json_t *e = json_object();
		/* json_object_set takes its own reference: d keeps its */
		json_object_set(e, "entries", json_object_get(d, "entries"));
		table_rows(out, e);
		json_decref(e);
	}
	fprintf(out, "\nEntries by protocol\n");
	table_rows(out, json_object_get(d, "by_protocol"));
	fprintf(out, "\nEntries by state\n");
	table_rows(out, json_object_get(d, "by_state"));
	fprintf(out, "\nCounters (conntrack -S)\n");
	if (!json_object_size(json_object_get(d, "stats")))
		fprintf(out, "  not in both snapshots\n");
	table_rows(out, json_object_get(d, "stats"));
	if (json_is_true(json_object_get(d, "stats_reset")))
		fprintf(out, "  a counter went down: the host rebooted between the "
		       "snapshots, so the deltas are not growth\n");
	fprintf(out, "\nNAT remaps new in NEW\n");
	if (!json_is_object(nat))
		fprintf(out, "  no NAT section in both reports\n");
	else if (!json_array_size(json_object_get(nat, "new_remaps")))
		fprintf(out, "  none\n");
	json_array_foreach(json_object_get(nat, "new_remaps"), i, r) {
		char a[80], b[80], c[80];
		endpoint(a, sizeof(a), sval(r, "src"), ival(r, "sport"));
		endpoint(b, sizeof(b), sval(r, "dst"), ival(r, "dport"));
		endpoint(c, sizeof(c), sval(r, "nat_addr"),
			 ival(r, "nat_port"));
		fprintf(out, "  %s %s -> %s  left as %s (%s)\n", sval(r, "protocol"),
		       a, b, c, sval(r, "reason"));
	}
	fprintf(out, "\nFindings\n");
	json_array_foreach(json_object_get(d, "findings_new"), i, r)
		fprintf(out, "  new   %-8s %s\n",
		       json_string_value(json_object_get(r, "severity")),
		       json_string_value(json_object_get(r, "code")));
	json_array_foreach(json_object_get(d, "findings_gone"), i, r)
		fprintf(out, "  gone  %-8s %s\n",
		       json_string_value(json_object_get(r, "severity")),
		       json_string_value(json_object_get(r, "code")));
	if (!json_array_size(json_object_get(d, "findings_new")) &&
	    !json_array_size(json_object_get(d, "findings_gone")))
		fprintf(out, "  unchanged\n");
}

int ctp_render_diff(ctp_report *old, ctp_report *new_, const char *oldp,
		    const char *newp, FILE *out, int json)
{
	json_t *d = build(oldp, newp, ctp_report_root(old),
			  ctp_report_root(new_));
	int rc = 0;

	if (!d)
		return CTP_ENOMEM;
	if (json) {
		if (json_dumpf(d, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
					       JSON_REAL_PRECISION(10)) ||
		    fputc('\n', out) == EOF)
			rc = CTP_EFAIL;
	} else {
		print_text(d, out);
	}
	json_decref(d);
	return rc ? rc : (ferror(out) ? CTP_EFAIL : 0);
}
