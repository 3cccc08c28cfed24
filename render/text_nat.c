/*
 * Text layout of the "nat" section: the counts, the observed counters
 * beside the model, the riskiest reply-tuple groups and the remaps with
 * their holders.  Reads only the report tree (docs/report.md).
 */
#include <math.h>
#include <string.h>

#include "text_sections.h"

/* rows shown; JSON and CSV have them all */
#define TEXT_GROUPS 10
#define TEXT_REMAPS 20

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *sval(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* "addr:port", "[v6]:port", or the address alone without a port */
static void endpoint(char *buf, size_t size, const char *a, json_t *port)
{
	if (!json_is_integer(port))
		snprintf(buf, size, "%s", a);
	else if (strchr(a, ':'))
		snprintf(buf, size, "[%s]:%lld", a,
			 (long long)json_integer_value(port));
	else
		snprintf(buf, size, "%s:%lld", a,
			 (long long)json_integer_value(port));
}

static void pct(FILE *out, json_t *v, int width)
{
	if (json_is_number(v))
		fprintf(out, " %*.*f%%", width - 1,
			json_number_value(v) >= 0.9995 &&
					json_number_value(v) < 1
				? 3
				: 1,
			100 * json_number_value(v));
	else
		fprintf(out, " %*s", width, "-");
}

static void counters(tctx *t, json_t *c)
{
	static const char *const keys[] = { "insert_failed", "drop",
					    "clash_resolve", "found" };

	fprintf(t->out, "  %-12s", "counters");
	if (!ival(c, "cpus")) {
		fprintf(t->out, " none read\n");
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(t->out, " %s=", keys[i]);
		ctp_text_scalar(t->out, json_object_get(c, keys[i]));
	}
	fprintf(t->out, "  (observed, summed over %lld CPUs)\n",
		ival(c, "cpus"));
}

/* the tail of s in at most w columns: addresses keep their port */
static const char *tail(const char *s, size_t w)
{
	size_t l = strlen(s);

	return l > w ? s + l - w : s;
}

#define PEER_W 22
#define NAT_W 15

static void groups(tctx *t, json_t *arr)
{
	size_t i, w = 4, zw = 0, peer_w = PEER_W, nat_w = 11, nsw = 0;
	size_t used;
	json_t *g;
	/* groups are per namespace: with several, a last column says
	 * which (the same peer can be exhausted in two) */
	int multi = 0;

	json_array_foreach(arr, i, g)
		multi |= strcmp(sval(g, "namespace"),
				sval(json_array_get(arr, 0), "namespace")) != 0;

	/* groups differ by zone too (nf_nat_used_tuple() looks a tuple up
	 * in its zone): a zone column when any listed group is not in
	 * zone 0, or two would look alike; the peer gives it the room */
	json_array_foreach(arr, i, g) {
		char z[16];
		if (i == TEXT_GROUPS)
			break;
		if (ival(g, "zone") == 0)
			continue;
		snprintf(z, sizeof(z), "%lld", ival(g, "zone"));
		if (strlen(z) > zw)
			zw = strlen(z);
	}
	if (zw) {
		zw = zw < 4 ? 4 : zw;
		peer_w -= zw + 1;
	}
	json_array_foreach(arr, i, g) {
		char peer[80];

		if (i == TEXT_GROUPS)
			break;
		endpoint(peer, sizeof(peer), sval(g, "peer_addr"),
			 json_object_get(g, "peer_port"));
		if (strlen(peer) > w)
			w = strlen(peer);
		if (strlen(sval(g, "nat_addr")) > nat_w)
			nat_w = strlen(sval(g, "nat_addr"));
		if (multi && strlen(sval(g, "namespace")) > nsw)
			nsw = strlen(sval(g, "namespace"));
	}
	if (w > peer_w)
		w = peer_w;
	if (nat_w > NAT_W)
		nat_w = NAT_W;
	/* 100 columns: the namespace gets what is left, at least 9, the
	 * peer giving up to 6 of its own (the tail, with the port, stays) */
	if (multi) {
		nsw = nsw < 6 ? 6 : nsw; /* "(host)" */
		used = 2 + 7 + (zw ? zw + 1 : 0) + w + 1 + nat_w +
		       (1 + 13 + 1 + 6 + 1 + 7 + 1 + 9 + 1 + 6 + 1 + 6) + 2;
		if (used + 9 > 100 && w > 14) {
			size_t give = used + 9 - 100;
			give = give > w - 14 ? w - 14 : give;
			w -= give;
			used -= give;
		}
		nsw = used < 100 ? (nsw < 100 - used ? nsw : 100 - used) : 1;
	}
	fprintf(t->out, "  %-6s ", "proto");
	if (zw)
		fprintf(t->out, "%*s ", (int)zw, "zone");
	fprintf(t->out, "%-*s %-*s %-13s %6s %7s %9s %6s %6s%s%.*s\n",
		(int)w, "peer", (int)nat_w, "nat address", "range", "used",
		"util", "p_fail", "1%", "50%", multi ? "  " : "", (int)nsw,
		multi ? "namespace" : "");
	json_array_foreach(arr, i, g) {
		char peer[80], range[24];
		const char *src = sval(g, "range_source");

		if (i == TEXT_GROUPS)
			break;
		endpoint(peer, sizeof(peer), sval(g, "peer_addr"),
			 json_object_get(g, "peer_port"));
		snprintf(range, sizeof(range), "%lld-%lld%s",
			 ival(g, "range_lo"), ival(g, "range_hi"),
			 strcmp(src, "default") == 0	? ""
			 : strcmp(src, "option") == 0 ? " o"
						      : " i");
		fprintf(t->out, "  %-6s ", sval(g, "protocol"));
		if (zw)
			fprintf(t->out, "%*lld ", (int)zw, ival(g, "zone"));
		fprintf(t->out, "%-*s %-*s %-13s %6lld",
			(int)w, tail(peer, w), (int)nat_w,
			tail(sval(g, "nat_addr"), nat_w), range,
			ival(g, "used"));
		pct(t->out, json_object_get(g, "utilization"), 7);
		fprintf(t->out, " %9.3g",
			json_number_value(json_object_get(g, "p_fail_next")));
		pct(t->out, json_object_get(g, "utilization_p_fail_1pct"), 6);
		pct(t->out, json_object_get(g, "utilization_p_fail_50pct"),
		    6);
		if (multi) {
			char ns[100];
			ctp_text_shorten(ns, sizeof(ns),
					 *sval(g, "namespace")
						 ? sval(g, "namespace")
						 : "(host)",
					 nsw < 8 ? 8 : nsw);
			fprintf(t->out, "  %s", ns);
		}
		fputc('\n', t->out);
	}
	if (json_array_size(arr) > TEXT_GROUPS)
		fprintf(t->out, "  ... %zu more groups (JSON, --csv-dir)\n",
			json_array_size(arr) - TEXT_GROUPS);
	fprintf(t->out, "  p_fail: the next new connection fails; 1%%, 50%%: "
			"the utilization at which it would\n"
			"  fail that often; range o: --nat-range, i: inferred "
			"from the mapped ports\n");
}

/* why an entry got a new port, into buf */
static void why(json_t *r, char *buf, size_t size)
{
	json_t *h = json_object_get(r, "holder");
	const char *reason = sval(r, "reason");
	char who[80];

	if (json_is_object(h)) {
		endpoint(who, sizeof(who), sval(h, "src"),
			 json_object_get(h, "sport"));
		if (json_is_string(json_object_get(h, "state")))
			snprintf(buf, size, "%lld held by %s (%s)",
				 ival(r, "sport"), who, sval(h, "state"));
		else
			snprintf(buf, size, "%lld held by %s",
				 ival(r, "sport"), who);
	} else if (strcmp(reason, "outside_range") == 0) {
		snprintf(buf, size, "%lld is outside the range",
			 ival(r, "sport"));
	} else if (strcmp(reason, "random") == 0) {
		snprintf(buf, size, "random port choice");
	} else {
		snprintf(buf, size, "%lld was taken; its holder has left",
			 ival(r, "sport"));
	}
}

static void remaps(tctx *t, json_t *nat)
{
	json_t *arr = json_object_get(nat, "remaps"), *r;
	size_t i;

	if (!json_array_size(arr))
		return;
	fprintf(t->out, "  remaps (entry -> peer, new port: why)\n");
	json_array_foreach(arr, i, r) {
		char src[80], dst[80], left[200], reason[160];

		if (i == TEXT_REMAPS)
			break;
		endpoint(src, sizeof(src), sval(r, "src"),
			 json_object_get(r, "sport"));
		endpoint(dst, sizeof(dst), sval(r, "dst"),
			 json_object_get(r, "dport"));
		char z[24] = "";
		/* the same tuple in another zone is another entry */
		if (ival(r, "zone"))
			snprintf(z, sizeof(z), " zone %lld", ival(r, "zone"));
		snprintf(left, sizeof(left), "  %-6s %s -> %s%s, %lld:",
			 sval(r, "protocol"), src, dst, z,
			 ival(r, "nat_port"));
		why(r, reason, sizeof(reason));
		/* 100 columns: the reason goes on a line of its own */
		if (strlen(left) + 1 + strlen(reason) > 100)
			fprintf(t->out, "%s\n%9s%s\n", left, "", reason);
		else
			fprintf(t->out, "%s %s\n", left, reason);
	}
	if (json_array_size(arr) > TEXT_REMAPS)
		fprintf(t->out, "  ... %zu more remaps (JSON)\n",
			json_array_size(arr) - TEXT_REMAPS);
}

void ctp_text_nat(tctx *t, json_t *nat)
{
	ctp_text_heading(t, "NAT ports");
	fprintf(t->out, "  %-12s %s, port search \"%s\" (%s)\n", "kernel",
		sval(nat, "kernel"), sval(nat, "algorithm"),
		sval(nat, "algorithm_versions"));
	fprintf(t->out, "  %-12s %lld: source NAT %lld, destination NAT "
			"%lld, port remapped %lld\n",
		"entries", ival(nat, "entries"), ival(nat, "snat"),
		ival(nat, "dnat"), ival(nat, "port_remapped"));
	counters(t, json_object_get(nat, "counters"));
	if (!json_array_size(json_object_get(nat, "groups"))) {
		fprintf(t->out, "  no source-NAT destinations\n");
		return;
	}
	if (ival(nat, "groups_omitted"))
		fprintf(t->out, "  %-12s %lld, riskiest first; the %lld "
				"least risky are not listed (--max-groups)\n",
			"groups", ival(nat, "group_count"),
			ival(nat, "groups_omitted"));
	else
		fprintf(t->out, "  %-12s %lld, riskiest first\n", "groups",
			ival(nat, "group_count"));
	groups(t, json_object_get(nat, "groups"));
	remaps(t, nat);
}
