/*
 * Prometheus text exposition (format 0.0.4, as node_exporter's textfile
 * collector reads it: "# HELP name text", "# TYPE name gauge|counter",
 * then "name{label="value"} number" lines; label values escape '\',
 * '"' and newline, HELP text '\' and newline).  Only the headline
 * figures: a figure the report lacks is left out, never written as 0,
 * so an alert on it does not fire on a missing input.  The metrics and
 * where each comes from are listed in docs/report.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/render.h"

static void esc_label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void head(FILE *out, const char *name, const char *type,
		 const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value(FILE *out, double v)
{
	/* 15 digits, what a double surely holds: 0.9999, not
	 * 0.9998999999999999 */
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, " %.0f\n", v);
	else
		fprintf(out, " %.15g\n", v);
}

/* One metric without labels, if v is a number. */
static void gauge(FILE *out, const char *name, const char *help, double v)
{
	if (isnan(v))
		return;
	head(out, name, "gauge", help);
	fputs(name, out);
	value(out, v);
}

/* One sample with one label. */
static void sample(FILE *out, const char *name, const char *label,
		   const char *lval, double v)
{
	fprintf(out, "%s{%s=\"", name, label);
	esc_label(out, lval);
	fputs("\"}", out);
	value(out, v);
}

/* A metric with a "when" label: now and at nf_conntrack_max. */
static void now_and_max(FILE *out, const char *name, const char *help,
			double now, double at_max)
{
	if (isnan(now) && isnan(at_max))
		return;
	head(out, name, "gauge", help);
	if (!isnan(now))
		sample(out, name, "when", "now", now);
	if (!isnan(at_max))
		sample(out, name, "when", "at_max", at_max);
}

/* Every integer member of obj as one labelled sample. */
static void by_key(FILE *out, const char *name, const char *type,
		   const char *help, const char *label, json_t *obj,
		   const char *skip)
{
	const char *k;
	json_t *v;
	int any = 0;

	json_object_foreach(obj, k, v) {
		if (!json_is_integer(v) || (skip && strcmp(k, skip) == 0))
			continue;
		if (!any++)
			head(out, name, type, help);
		sample(out, name, label, k, (double)json_integer_value(v));
	}
}

int ctp_render_prom(ctp_report *rep, FILE *out, const ctp_render_opts *o)
{
	json_t *root = ctp_report_root(rep);
	json_t *entries = json_object_get(root, "entries");
	ctp_headline h;

	(void)o;
	ctp_headline_get(rep, &h);
	head(out, "ctplan_report_info", "gauge",
	     "Report schema and the kernel version modelled; always 1.");
	fputs("ctplan_report_info{schema=\"", out);
	esc_label(out, json_string_value(json_object_get(root, "schema")));
	fputs("\",kernel=\"", out);
	esc_label(out, h.kernel ? h.kernel : "");
	fputs("\"} 1\n", out);

	gauge(out, "ctplan_conntrack_entries",
	      "Entries in the conntrack table (table.count).", h.count);
	gauge(out, "ctplan_conntrack_max",
	      "net.netfilter.nf_conntrack_max (table.max).", h.max);
	gauge(out, "ctplan_conntrack_buckets",
	      "Hash table size, nf_conntrack_buckets (table.buckets).",
	      h.buckets);
	gauge(out, "ctplan_conntrack_headroom",
	      "Entries free before the table is full, max - count "
	      "(table.headroom).",
	      h.headroom);
	gauge(out, "ctplan_conntrack_headroom_ratio",
	      "Headroom as a share of max, 0 to 1 (table.headroom_pct / "
	      "100).",
	      isnan(h.headroom_pct) ? NAN : h.headroom_pct / 100);
	/* the advice itself, so a fleet scraping textfiles sees it */
	gauge(out, "ctplan_recommended_nf_conntrack_max",
	      "The nf_conntrack_max ctplan recommends (recommendation.max).",
	      h.rec_max);
	gauge(out, "ctplan_recommended_nf_conntrack_buckets",
	      "The nf_conntrack_buckets ctplan recommends "
	      "(recommendation.buckets).",
	      h.rec_buckets);
	now_and_max(out, "ctplan_hash_chain_p99",
		    "99th percentile of the hash chain a stored entry's "
		    "lookup walks, nodes (hash.p99, hash.at_max.p99).",
		    h.p99, h.p99_at_max);
	now_and_max(out, "ctplan_hash_share_over8",
		    "Share of entries in hash chains longer than 8 "
		    "(hash.share_over8).",
		    h.over8, h.over8_at_max);
	now_and_max(out, "ctplan_hash_chaintoolong_p_next",
		    "Probability that the next new entry is refused for a "
		    "too-long chain (hash.chaintoolong_p_next).",
		    h.chaintoolong_p, h.chaintoolong_p_at_max);
	gauge(out, "ctplan_full_drop_p",
	      "Probability that a new flow is dropped for a full table "
	      "(table.full_drop_p).",
	      h.full_drop_p);
	gauge(out, "ctplan_nat_worst_group_utilization",
	      "Share of its port range the most used NAT group holds "
	      "(nat.max_utilization, over all groups).",
	      h.nat_util);
	gauge(out, "ctplan_nat_worst_group_p_fail_next",
	      "Highest probability over NAT groups that the next new "
	      "connection finds no port (nat.max_p_fail_next).",
	      h.nat_p_fail);
	gauge(out, "ctplan_checks_failed",
	      "Checks that failed (checks[] with ok false).",
	      h.checks_failed);
	head(out, "ctplan_findings", "gauge",
	     "Findings of the report by severity.");
	for (int s = CTP_FINDING_INFO; s <= CTP_FINDING_CRIT; s++)
		sample(out, "ctplan_findings", "severity",
		       ctp_finding_sev_name((ctp_finding_sev)s),
		       h.findings[s]);
	by_key(out, "ctplan_conntrack_entries_by_protocol", "gauge",
	       "Entries by protocol (entries.by_protocol).", "protocol",
	       json_object_get(entries, "by_protocol"), NULL);
	by_key(out, "ctplan_conntrack_entries_by_state", "gauge",
	       "Entries by state (entries.by_state).", "state",
	       json_object_get(entries, "by_state"), NULL);
	/* counted by the kernel since boot: counters */
	by_key(out, "ctplan_conntrack_stat_total", "counter",
	       "conntrack -S counters summed over CPUs (stats).", "counter",
	       json_object_get(root, "stats"), "cpus");
	return ferror(out) ? CTP_EFAIL : 0;
}
