/*
 * Text layout of the planner's sections: the "headroom" extras printed
 * under "Table and headroom" (no heading of their own), "Recommended
 * settings" (the "recommendation" and "defaults" sections) and "Checks".
 * Listed in text.c's sections[]; "ctplan plan" prints the second alone.
 */
#include <math.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/plan.h"
#include "ctplan/render.h"
#include "ctplan/report_tree.h"
#include "text_sections.h"

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

/* Words of s from column indent, wrapped before column 100. */
static void wrap(FILE *out, const char *s, int indent, int col)
{
	while (*s) {
		size_t w = strcspn(s, " ");
		if (col > indent && col + 1 + (int)w > 100) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)w, s);
		col += (int)w;
		s += w;
		while (*s == ' ')
			s++;
	}
	fputc('\n', out);
}

static void idle_line(tctx *t, const char *label, json_t *c)
{
	char buf[512];
	size_t len;
	json_t *w;
	size_t i;

	if (!json_integer_value(json_object_get(c, "entries")))
		return;
	len = (size_t)snprintf(
		buf, sizeof(buf),
		"%lld entries, timeout %lld s (%s), median idle %.0f s",
		(long long)json_integer_value(json_object_get(c, "entries")),
		(long long)json_integer_value(json_object_get(c, "timeout_s")),
		str(c, "timeout_source"), num(c, "idle_median_s"));
	json_array_foreach(json_object_get(c, "what_if"), i, w) {
		if (len >= sizeof(buf))
			break;
		len += (size_t)snprintf(
			buf + len, sizeof(buf) - len,
			"; a %lld s timeout would free %lld (%.1f%%)",
			(long long)json_integer_value(
				json_object_get(w, "timeout_s")),
			(long long)json_integer_value(
				json_object_get(w, "freed")),
			num(w, "freed_pct"));
	}
	w = json_object_get(c, "owner");
	if (json_is_object(w) && len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len,
			 ". On this node %s writes this timeout at every start "
			 "(%lld s, its conntrack.tcpEstablishedTimeout, %s): "
			 "change it there, not by sysctl; the %lld s above is "
			 "what was in force at capture time",
			 str(w, "name"),
			 (long long)json_integer_value(
				 json_object_get(w, "timeout_s")),
			 !strcmp(str(w, "source"), "default")
				 ? "its default"
				 : !strcmp(str(w, "source"), "flags")
					 ? "from its flags"
					 : "from its configuration",
			 (long long)json_integer_value(
				 json_object_get(c, "timeout_s")));
	fprintf(t->out, "  %-12s ", label);
	wrap(t->out, buf, 15, 15);
}

/* A shorter timeout ends live connections too (review item 10): once,
 * under the idle lines that offer one. */
static void idle_caution(tctx *t, json_t *idle)
{
	const char *k;
	json_t *c;

	json_object_foreach(idle, k, c) {
		if (!json_integer_value(json_object_get(c, "entries")) ||
		    !json_array_size(json_object_get(c, "what_if")))
			continue;
		fprintf(t->out, "  %-12s ", "");
		wrap(t->out,
		     "caution: an idle connection whose entry expires is cut "
		     "when it next sends through NAT or a stateful rule; "
		     "shorten a timeout only where keepalives run more often "
		     "than the new timeout",
		     15, 15);
		return;
	}
}

/* Under "Table and headroom": the peak, idle entries, arrivals and what
 * a full table does. */
/* what the gc worker does once the table was full (headroom.gc_eviction) */
static void gc_line(FILE *out, json_t *gc, int small)
{
	char buf[512], pe[24];

	if (!json_is_object(gc))
		return;
	if (!strcmp(str(gc, "kernel"), "yes") && num(gc, "frees") == 0)
		snprintf(buf, sizeof(buf),
			 "the gc worker that evicts after a drop (kernel %s) "
			 "finds nothing here: no entry is unassured or TCP "
			 "closing, so a full table stays full until entries "
			 "expire",
			 str(gc, "versions"));
	else if (!strcmp(str(gc, "kernel"), "yes") &&
		 isfinite(num(gc, "frees")))
		snprintf(buf, sizeof(buf),
			 "after a drop, the gc worker's next pass evicts "
			 "%.0f entries, down to %.0f (95%% of max): those not "
			 "assured or TCP closing (FIN_WAIT, CLOSE_WAIT, "
			 "LAST_ACK, TIME_WAIT, CLOSE), %s of entries here "
			 "(kernel %s)",
			 num(gc, "frees"), num(gc, "threshold") - 1,
			 ctp_plan_fmt_share(pe, sizeof(pe),
					    num(gc, "evictable_share"), small),
			 str(gc, "versions"));
	else if (!strcmp(str(gc, "kernel"), "yes"))
		snprintf(buf, sizeof(buf),
			 "after a drop, the gc worker's next pass evicts "
			 "entries not assured or TCP closing down to 95%% of "
			 "max (kernel %s)",
			 str(gc, "versions"));
	else
		snprintf(buf, sizeof(buf),
			 "no gc eviction on this kernel (%s%s): a full table "
			 "stays full until entries expire",
			 str(gc, "versions"),
			 !strcmp(str(gc, "kernel"), "unknown") ? ", assumed"
							       : "");
	fprintf(out, "  %-12s ", "");
	wrap(out, buf, 15, 15);
}

void ctp_text_headroom(tctx *t, json_t *h)
{
	json_t *g = json_object_get(h, "growth");
	json_t *full = json_object_get(h, "full_table");
	json_t *rate = json_object_get(h, "rate");
	json_t *idle = json_object_get(h, "idle");
	double p = num(full, "full_drop_p");
	char buf[256];

	if (json_is_string(json_object_get(h, "max_source")) &&
	    strcmp(str(h, "max_source"), "sysctl") != 0)
		fprintf(t->out, "  %-12s %s (no sysctl in the input)\n",
			"max from", str(h, "max_source"));
	if (isfinite(num(g, "headroom_pct_at_peak")) &&
	    num(g, "headroom_pct_at_peak") < 0)
		/* over max (a --to-kernel projection): how full */
		fprintf(t->out, "  %-12s %lld entries (%s): %.0f%% of max, "
				"over it\n",
			"peak",
			(long long)json_integer_value(json_object_get(g,
								      "peak")),
			str(g, "peak_source"),
			100 - num(g, "headroom_pct_at_peak"));
	else if (isfinite(num(g, "headroom_pct_at_peak")))
		fprintf(t->out, "  %-12s %lld entries (%s): %.2f%% of max "
				"free\n",
			"peak",
			(long long)json_integer_value(json_object_get(g,
								      "peak")),
			str(g, "peak_source"), num(g, "headroom_pct_at_peak"));
	if (isfinite(p)) {
		/* a share from a handful of entries has two digits, and
		 * says how many (review item 7) */
		int small = json_is_true(json_object_get(full,
							 "sample_small"));
		char pd[24], pe[24], from[64] = "";

		ctp_plan_fmt_share(pd, sizeof(pd), p, small);
		ctp_plan_fmt_share(pe, sizeof(pe),
				   num(full, "evictable_share"), small);
		if (small)
			snprintf(from, sizeof(from), ", from %.0f listed",
				 num(full, "entries"));
		snprintf(buf, sizeof(buf),
			 "%s of new flows dropped, the rest admitted by "
			 "evicting (%s; %s of entries evictable%s)",
			 pd, str(full, "rule"), pe, from);
		fprintf(t->out, "  %-12s ", "when full");
		wrap(t->out, buf, 15, 15);
		gc_line(t->out, json_object_get(h, "gc_eviction"), small);
	}
	if (isfinite(num(rate, "new_per_s"))) {
		snprintf(buf, sizeof(buf),
			 "%.3g new flows/s (%s, last %.0f s); %.0f entries if "
			 "each lived to its full timeout (flows that close "
			 "sooner hold fewer)",
			 num(rate, "new_per_s"), str(rate, "source"),
			 num(rate, "window_s"), num(rate, "steady_state"));
		fprintf(t->out, "  %-12s ", "arrivals");
		wrap(t->out, buf, 15, 15);
	}
	idle_line(t, "idle tcp", json_object_get(idle, "tcp_established"));
	idle_line(t, "idle udp", json_object_get(idle, "udp_stream"));
	idle_caution(t, idle);
}

/* kube_block's verdicts */
enum { KUBE_NONE, KUBE_OWNS_MAX, KUBE_NOTHING };

/* what kube-proxy's write rule does to a larger max, by version
 * (analyzer/planner.c ctp_plan_kube_write, near KUBE_PER_CORE) */
static const char *kube_rule_words(const char *w)
{
	if (!strcmp(w, "raise-only"))
		return "this version only raises it, a larger value stays "
		       "(kubernetes #103174 in 1.22 - 1.28, #142035 from "
		       "1.38)";
	if (!strcmp(w, "exact"))
		return "this version sets it exactly, LOWERING a larger "
		       "value at every start (kubernetes #120448: 1.29 - "
		       "1.35, and 1.36, 1.37 without #142035's cherry-pick; "
		       "as before 1.22): a sysctl.d or sysctl -w value lasts "
		       "only until its next start";
	if (!strcmp(w, "depends-on-patch"))
		return "in 1.36 and 1.37 the patch release decides whether "
		       "it also lowers a larger value at every start: it "
		       "does unless the release carries the cherry-pick of "
		       "kubernetes #142035 (#142199, #142198)";
	return "whether it also lowers a larger value at every start "
	       "depends on its version, not in the input: 1.22 - 1.28 and "
	       "1.38+ only raise it, 1.29 - 1.37 (before #142035's "
	       "cherry-picks) and up to 1.21 set it exactly";
}

/*
 * On a Kubernetes node kube-proxy writes nf_conntrack_max at every
 * start: its configuration is the setting to change.  Returns
 * KUBE_OWNS_MAX when that replaces the sysctl.d lines (the node is one,
 * the CPUs known, maxPerCore not 0), KUBE_NOTHING when it also already
 * gives what the peak needs (nothing to write), else KUBE_NONE.
 */
static int kube_block(FILE *out, json_t *rc)
{
	json_t *k = json_object_get(rc, "kube_proxy"), *v;
	int sure = json_is_object(k) && !strcmp(str(k, "node"), "yes");
	int change = json_is_true(json_object_get(k, "change"));
	const char *w = str(k, "max_write");
	int raise = !strcmp(w, "raise-only");
	int cfile = json_is_string(json_object_get(k, "config_file"));
	char buf[1024], ver[64];
	size_t i, used;

	if (!json_is_object(k))
		return KUBE_NONE;
	snprintf(buf, sizeof(buf), "%s: %s",
		 sure ? "Kubernetes node" : "maybe a Kubernetes node",
		 str(k, "evidence"));
	fputs("  ", out);
	wrap(out, buf, 4, 2);
	if (!json_is_string(json_object_get(k, "config"))) {
		fputs("  ", out);
		wrap(out, "kube-proxy sets nf_conntrack_max from the CPU "
			  "count, unknown here: give --cores N (or a "
			  "conntrack -S dump, one row per CPU)", 4, 2);
		return KUBE_NONE;
	}
	if (json_is_string(json_object_get(k, "version")))
		snprintf(ver, sizeof(ver), "kube-proxy %s (its log)",
			 str(k, "version"));
	else
		snprintf(ver, sizeof(ver), "kube-proxy");
	if (json_is_true(json_object_get(k, "leaves_max"))) {
		snprintf(buf, sizeof(buf),
			 "kube-proxy's conntrack.maxPerCore is 0 (%s): it "
			 "leaves nf_conntrack_max as it is, so the sysctl.d "
			 "line owns it%s",
			 str(k, "max_per_core_source"),
			 json_is_true(json_object_get(rc, "change"))
				 ? "; to let kube-proxy set it instead:"
				 : "");
		fputs("  ", out);
		wrap(out, buf, 4, 2);
		if (!json_is_true(json_object_get(rc, "change")))
			return KUBE_NONE;
	} else {
		snprintf(buf, sizeof(buf),
			 "%s sets nf_conntrack_max at every start to "
			 "maxPerCore x CPUs, at least min (%s: maxPerCore "
			 "%.0f, min %.0f; here %.0f CPUs, so %.0f); %s.%s",
			 ver, str(k, "max_per_core_source"),
			 num(k, "max_per_core_current"),
			 num(k, "min_current"), num(k, "cores"),
			 num(k, "max_now"), kube_rule_words(w),
			 raise ? ""
			       : " Change the max only through kube-proxy's "
				 "conntrack settings, or set "
				 "conntrack.maxPerCore: 0 so that sysctl.d "
				 "owns it");
		fputs("  ", out);
		wrap(out, buf, 4, 2);
		if (json_is_number(json_object_get(k, "log_set_max"))) {
			snprintf(buf, sizeof(buf),
				 "(its log says it last set nf_conntrack_max "
				 "to %.0f)",
				 num(k, "log_set_max"));
			fputs("  ", out);
			wrap(out, buf, 4, 2);
		}
		if (json_is_number(json_object_get(k, "max_now")) &&
		    num(rc, "max_current") > num(k, "max_now")) {
			snprintf(buf, sizeof(buf),
				 "the max in force, %.0f, is above "
				 "kube-proxy's %.0f: %s",
				 num(rc, "max_current"), num(k, "max_now"),
				 raise ? "something else set it (sysctl -w, a "
					 "sysctl.d file with the module loaded "
					 "at boot); kube-proxy leaves it, and "
					 "it holds after a reboot only if that "
					 "runs again"
				 : !strcmp(w, "exact")
					 ? "something set it after kube-proxy's "
					   "last start (sysctl -w, another "
					   "agent); kube-proxy's next start "
					   "sets it back"
					 : "something else set it (sysctl -w, "
					   "sysctl.d); kube-proxy's next start "
					   "sets it back unless it only "
					   "raises");
			fputs("  ", out);
			wrap(out, buf, 4, 2);
		}
		if (!change) {
			snprintf(buf, sizeof(buf),
				 "nothing to write: kube-proxy's %.0f holds "
				 "the peak (it needs %.0f)",
				 num(k, "max_now"), num(rc, "max_needed"));
			fputs("  ", out);
			wrap(out, buf, 4, 2);
			return sure ? KUBE_NOTHING : KUBE_NONE;
		}
	}
	if (cfile) {
		snprintf(buf, sizeof(buf),
			 "kube-proxy reads --config=%s: set these in that "
			 "file (the kube-proxy ConfigMap's config.conf); its "
			 "values win over the flag defaults its log lists as "
			 "FLAG: lines",
			 str(k, "config_file"));
		fputs("  ", out);
		wrap(out, buf, 4, 2);
		fprintf(out, "  # KubeProxyConfiguration (--config)\n");
	} else
		fprintf(out, "  # KubeProxyConfiguration (the kube-proxy "
			     "ConfigMap's config.conf)\n");
	for (const char *p = str(k, "config"), *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			fprintf(out, "  %s\n", p);
			break;
		}
		fprintf(out, "  %.*s\n", (int)(nl - p), p);
	}
	if (!cfile)
		fprintf(out, "  # or, without a --config file, its flags\n"
			     "  %s\n",
			str(k, "flags"));
	fprintf(out, "  # on this node (%.0f CPUs) it sets nf_conntrack_max = "
		     "%.0f%s\n",
		num(k, "cores"), num(k, "max"),
		json_is_number(json_object_get(k, "hashsize"))
			? " and raises hashsize to max / 4"
			: "");
	fprintf(out, "  # and on nodes of other sizes (one ConfigMap serves "
		     "the cluster):\n  #");
	used = 3;
	json_array_foreach(json_object_get(k, "other_sizes"), i, v) {
		char one[48];
		int n = snprintf(one, sizeof(one), " %.0f CPUs %.0f%s",
				 num(v, "cores"), num(v, "max"),
				 i + 1 < json_array_size(json_object_get(
						 k, "other_sizes"))
					 ? ","
					 : "");
		if (used + (size_t)n > 100) {
			fprintf(out, "\n  #");
			used = 3;
		}
		fputs(one, out);
		used += (size_t)n;
	}
	fputc('\n', out);
	return sure && !json_is_true(json_object_get(k, "leaves_max"))
		       ? KUBE_OWNS_MAX
		       : KUBE_NONE;
}

/* The drop% cell of the rules table: as ctp_plan_fmt_share, without
 * the sign, "<0.01" for "under 0.01%" */
static const char *drop_cell(char *buf, size_t size, double p, int small)
{
	size_t n;

	ctp_plan_fmt_share(buf, size, p, small);
	if (!strncmp(buf, "under ", 6))
		snprintf(buf, size, "<0.01");
	n = strlen(buf);
	if (n && buf[n - 1] == '%')
		buf[n - 1] = '\0';
	return buf;
}

static void settings(FILE *out, json_t *rc, json_t *def)
{
	char buf[256], cell[24];
	const char *floor = "";
	json_t *v, *r;
	size_t i;
	int kmode;
	int small;

	if (json_is_string(json_object_get(rc, "skipped"))) {
		snprintf(buf, sizeof(buf), "not computed: %s",
			 str(rc, "skipped"));
		fputs("  ", out);
		wrap(out, buf, 2, 2);
		return;
	}
	json_array_foreach(json_object_get(rc, "peak_evidence"), i, v)
		if (json_is_true(json_object_get(v, "sets_peak")) &&
		    json_is_true(json_object_get(v, "table_was_full")))
			floor = "at least ";
	snprintf(buf, sizeof(buf),
		 "for a peak of %s%lld entries (%s), margin %.0f%%, chains over "
		 "%lld for at most %.3g%% of entries at max, kernel %s%s%s%s",
		 floor,
		 (long long)json_integer_value(json_object_get(rc, "peak")),
		 str(rc, "peak_source"), 100 * num(rc, "margin"),
		 (long long)json_integer_value(json_object_get(rc,
							       "max_chain")),
		 100 * num(rc, "chain_share"), str(rc, "kernel"),
		 json_is_string(json_object_get(rc, "kernel_source"))
			 ? " (" : "",
		 json_is_string(json_object_get(rc, "kernel_source"))
			 ? str(rc, "kernel_source")
			 : "",
		 json_is_string(json_object_get(rc, "kernel_source"))
			 ? ")" : "");
	fputs("  ", out);
	wrap(out, buf, 2, 2);
	/* the evidence the peak was chosen from, the one that set it
	 * first */
	json_array_foreach(json_object_get(rc, "peak_evidence"), i, v) {
		snprintf(buf, sizeof(buf), "%s%s: %s", str(v, "source"),
			 json_is_true(json_object_get(v, "sets_peak"))
				 ? " (sets the peak)"
				 : "",
			 str(v, "detail"));
		fputs("    ", out);
		wrap(out, buf, 6, 4);
	}
	fputc('\n', out);
	if (json_is_false(json_object_get(rc, "change"))) {
		snprintf(buf, sizeof(buf),
			 "no change: the settings in force, nf_conntrack_max "
			 "%.0f and nf_conntrack_buckets %.0f, already hold "
			 "this peak%s",
			 num(rc, "max"), num(rc, "buckets"),
			 json_is_object(json_object_get(rc, "kube_proxy"))
				 ? "; where the max is set:"
				 : "");
		fputs("  ", out);
		wrap(out, buf, 2, 2);
		kmode = kube_block(out, rc);
		if (kmode == KUBE_NONE) {
			/* write nothing; one line on pinning them */
			if (json_array_size(json_object_get(rc, "sysctl")) > 1)
				snprintf(buf, sizeof(buf),
					 "nothing to write. To pin today's "
					 "values anyway, the lines \"%s\" and "
					 "\"%s\" in a file under "
					 "/etc/sysctl.d/ are enough (they "
					 "apply only if nf_conntrack is "
					 "loaded by then)",
					 json_string_value(json_array_get(
						 json_object_get(rc, "sysctl"),
						 0)),
					 json_string_value(json_array_get(
						 json_object_get(rc, "sysctl"),
						 1)));
			else
				snprintf(buf, sizeof(buf),
					 "nothing to write. To pin today's "
					 "values anyway: \"%s\" in a file "
					 "under /etc/sysctl.d/ (applied only "
					 "if nf_conntrack is loaded by then) "
					 "and \"%s\" under /etc/modprobe.d/ "
					 "(this kernel's buckets sysctl is "
					 "read-only)",
					 json_string_value(json_array_get(
						 json_object_get(rc, "sysctl"),
						 0)),
					 str(rc, "modprobe"));
			fputs("  ", out);
			wrap(out, buf, 4, 2);
		}
		fputc('\n', out);
		goto reasons;
	} else if (json_is_string(json_object_get(rc, "max_move")) &&
		   strcmp(str(rc, "max_move"), "set") != 0) {
		char m[96], b[96];

		/* --to-kernel: "projected" where today's value followed the
		 * old kernel's default and the new one's is shown */
		const char *pm = json_is_true(json_object_get(
					 rc, "max_current_projected"))
					 ? " (projected)"
					 : "";
		const char *pb = json_is_true(json_object_get(
					 rc, "buckets_current_projected"))
					 ? " (projected)"
					 : "";

		if (!strcmp(str(rc, "max_move"), "keep"))
			snprintf(m, sizeof(m), "keep nf_conntrack_max %.0f%s",
				 num(rc, "max"), pm);
		else
			snprintf(m, sizeof(m),
				 "%s nf_conntrack_max %.0f%s -> %.0f",
				 str(rc, "max_move"), num(rc, "max_current"),
				 pm, num(rc, "max"));
		if (!strcmp(str(rc, "buckets_move"), "keep") ||
		    !strcmp(str(rc, "buckets_move"), "set"))
			snprintf(b, sizeof(b),
				 "%s nf_conntrack_buckets %.0f%s",
				 str(rc, "buckets_move"), num(rc, "buckets"),
				 !strcmp(str(rc, "buckets_move"), "keep") ? pb
									  : "");
		else
			snprintf(b, sizeof(b),
				 "%s nf_conntrack_buckets %.0f%s -> %.0f",
				 str(rc, "buckets_move"),
				 num(rc, "buckets_current"), pb,
				 num(rc, "buckets"));
		snprintf(buf, sizeof(buf), "change: %s; %s", m, b);
		fputs("  ", out);
		wrap(out, buf, 2, 2);
	}
	kmode = kube_block(out, rc);
	if (kmode == KUBE_OWNS_MAX) {
		/* kube-proxy owns the max; the buckets stay a module
		 * parameter (it only raises hashsize to max / 4): no
		 * sysctl.d file, so no modules-load.d line for it */
		fprintf(out, "  # /etc/modprobe.d/nf_conntrack.conf: the "
			     "table's size (kube-proxy sets the max, not "
			     "the buckets)\n  %s\n",
			str(rc, "modprobe"));
	} else {
		fprintf(out, "  # /etc/sysctl.d/90-conntrack.conf\n");
		json_array_foreach(json_object_get(rc, "sysctl"), i, v)
			fprintf(out, "  %s\n", json_string_value(v));
		fprintf(out, "  # /etc/modprobe.d/nf_conntrack.conf\n  %s\n",
			str(rc, "modprobe"));
		if (json_is_string(json_object_get(rc, "modules_load")))
			fprintf(out, "  # /etc/modules-load.d/nf_conntrack.conf: "
				     "load the module before the sysctl.d "
				     "file applies\n  %s\n",
				str(rc, "modules_load"));
	}
	if (json_array_size(json_object_get(rc, "apply_now"))) {
		fprintf(out, "  # now, as root in the host's own namespace\n");
		json_array_foreach(json_object_get(rc, "apply_now"), i, v)
			fprintf(out, "  %s\n", json_string_value(v));
	}
	fputc('\n', out);
reasons:
	json_array_foreach(json_object_get(rc, "reasons"), i, v) {
		fprintf(out, "  %2zu. ", i + 1);
		wrap(out, json_string_value(v), 6, 6);
	}
	if (def && isfinite(num(def, "max")))
		fprintf(out, "\n  kernel default for this MemTotal (%s, %s): max "
			     "%.0f, buckets %.0f\n",
			str(def, "rule"), str(def, "rule_versions"),
			num(def, "max"), num(def, "buckets"));
	small = json_is_true(json_object_get(rc, "evictable_sample_small"));
	fprintf(out, "\n  %-18s %10s %10s %9s %9s %9s\n", "rule", "max",
		"buckets", "free@pk%", "long%", "drop%");
	json_array_foreach(json_object_get(rc, "rules"), i, r) {
		/* kube-proxy's rule only where it may run: a node that
		 * shows Kubernetes, or --cores asking for it */
		if (!strcmp(str(r, "name"), "kube-proxy") &&
		    json_is_false(json_object_get(rc, "kube_proxy_rule_shown")))
			continue;
		if (!isfinite(num(r, "max"))) {
			fprintf(out, "  %-18s %s\n", str(r, "name"),
				str(r, "note"));
			continue;
		}
		fprintf(out, "  %-18s %10.0f %10.0f %9.2f %9.3g %9s\n",
			str(r, "name"), num(r, "max"), num(r, "buckets"),
			num(r, "headroom_pct_at_peak"),
			100 * num(r, "long_chain_share_at_max"),
			drop_cell(cell, sizeof(cell), num(r, "full_drop_p"),
				  small));
		fprintf(out, "  %18s ", "");
		wrap(out, str(r, "note"), 21, 21);
	}
	fprintf(out, "  %-18s %10.0f %10.0f %9.2f %9.3g %9s\n", "ctplan",
		num(rc, "max"), num(rc, "buckets"),
		num(rc, "headroom_pct_at_peak"),
		100 * num(rc, "long_chain_share_at_max"),
		drop_cell(cell, sizeof(cell), num(rc, "full_drop_p"), small));
}

/* Body of the "Recommendations" section (text.c prints the heading). */
void ctp_text_recommendation(tctx *t, json_t *rc)
{
	/* the kernel's defaults print under "Table and headroom" here
	 * (ctp_text_defaults) */
	settings(t->out, rc, NULL);
}

/* Under "Table and headroom": what the kernel picks on this host. */
void ctp_text_defaults(tctx *t, json_t *d)
{
	if (!isfinite(num(d, "max"))) {
		fprintf(t->out, "  %-12s not known: %s\n", "default",
			str(d, "skipped"));
		return;
	}
	fprintf(t->out, "  %-12s max %.0f, buckets %.0f (kernel %s, rule %s, "
			"%s)\n",
		"default", num(d, "max"), num(d, "buckets"), str(d, "kernel"),
		str(d, "rule"), str(d, "rule_versions"));
}

void ctp_text_checks(tctx *t, json_t *arr)
{
	json_t *c;
	size_t i;

	ctp_text_heading(t, "Checks");
	json_array_foreach(arr, i, c) {
		json_t *ok = json_object_get(c, "ok");
		fprintf(t->out, "  %-4s %-26s %12.6g %2s %-10.6g %s\n",
			json_is_null(ok)   ? "n/a"
			: json_is_true(ok) ? "ok"
			: !strcmp(str(c, "severity"), "warn") ? "WARN"
							      : "FAIL",
			str(c, "name"), num(c, "value"), str(c, "op"),
			num(c, "limit"), str(c, "source"));
	}
}

int ctp_render_plan_text(ctp_report *rep, FILE *out, int color)
{
	json_t *root = ctp_report_root(rep);
	tctx t = { out, color, NULL };

	ctp_text_heading(&t, "Recommended settings");
	settings(out, json_object_get(root, "recommendation"),
		 json_object_get(root, "defaults"));
	return ferror(out) ? CTP_EFAIL : 0;
}
