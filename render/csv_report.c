/*
 * CSV tables besides render/csv.c's: histogram.csv (chain lengths, from
 * the "hash" section), findings.csv, and flows.csv (one row per entry of
 * the table, both tuples, from the snapshot: the report tree holds
 * figures, not entries).  Same writer as csv.c: libcsv's csv_fwrite,
 * every field quoted (RFC 4180), rows ended by "\n".
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>

#include "ctplan/csv.h"
#include "ctplan/render.h"

static int field(FILE *out, const char *s, int first)
{
	if (!first && fputc(',', out) == EOF)
		return CTP_EFAIL;
	return csv_fwrite(out, s, strlen(s)) ? CTP_EFAIL : 0;
}

static int endrow(FILE *out)
{
	return fputc('\n', out) == EOF ? CTP_EFAIL : 0;
}

static int header(FILE *out, const char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (field(out, cols[i], i == 0))
			return CTP_EFAIL;
	return endrow(out);
}

/* ---- histogram.csv ---- */

static const char *const hist_cols[] = {
	"length", "buckets_now", "buckets_at_max", "poisson_now",
	"poisson_at_max",
};

static void num_cell(char *buf, size_t size, json_t *v)
{
	if (json_is_number(v))
		snprintf(buf, size, "%.17g", json_number_value(v));
	else
		buf[0] = '\0';
}

static int write_histogram(FILE *out, json_t *hash)
{
	json_t *atmax = json_object_get(hash, "at_max");
	json_t *h[4] = {
		json_object_get(hash, "histogram"),
		json_object_get(atmax, "histogram"),
		json_object_get(json_object_get(hash, "poisson"), "histogram"),
		json_object_get(json_object_get(atmax, "poisson"),
				"histogram"),
	};
	size_t n = 0;

	for (int i = 0; i < 4; i++)
		if (json_array_size(h[i]) > n)
			n = json_array_size(h[i]);
	if (header(out, hist_cols, 5))
		return CTP_EFAIL;
	for (size_t l = 0; l < n; l++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%zu", l);
		if (field(out, buf, 1))
			return CTP_EFAIL;
		for (int i = 0; i < 4; i++) {
			num_cell(buf, sizeof(buf), json_array_get(h[i], l));
			if (field(out, buf, 0))
				return CTP_EFAIL;
		}
		if (endrow(out))
			return CTP_EFAIL;
	}
	return 0;
}

/* ---- findings.csv ---- */

static const char *const finding_cols[] = {
	"severity", "code", "figure", "limit", "advice",
};

/* ---- flows.csv ---- */

static const char *const flow_cols[] = {
	"namespace", "zone", "family", "protocol", "state", "timeout",
	"orig_src", "orig_dst", "orig_sport", "orig_dport", "reply_src",
	"reply_dst", "reply_sport", "reply_dport", "icmp_type", "icmp_code",
	"icmp_id", "assured", "unreplied", "mark", "input",
};
#define NFLOW_COLS (sizeof(flow_cols) / sizeof(flow_cols[0]))

static int write_flows(FILE *out, const ctp_snapshot *snap)
{
	size_t n = ctp_snapshot_flow_count(snap);
	ctp_flow fl;
	const ctp_flow *f = &fl;
	const ctp_tuple *t[2] = { &fl.orig, &fl.reply };

	if (header(out, flow_cols, NFLOW_COLS))
		return CTP_EFAIL;
	for (size_t i = 0; i < n; i++) {
		const ctp_input_info *in;
		char c[NFLOW_COLS][64];
		int icmp, ports;

		/* entries once: not copies seen in another input, not
		 * event lines */
		if (ctp_snapshot_flow_flags(snap, i) &
		    (CTP_F_DUP | CTP_F_EVENT))
			continue;
		ctp_snapshot_flow_get(snap, i, &fl);
		in = ctp_snapshot_input(snap, f->input);
		icmp = ctp_proto_is_icmp(f->proto);
		ports = ctp_proto_has_ports(f->proto) || f->proto == CTP_P_GRE;
		memset(c, 0, sizeof(c));
		snprintf(c[1], sizeof(c[1]), "%u", f->zone);
		snprintf(c[2], sizeof(c[2]), "%s", ctp_family_name(f->family));
		{
			/* as entries.by_protocol keys it: igmp, proto-N */
			char pb[16];

			snprintf(c[3], sizeof(c[3]), "%s",
				 ctp_proto_label(f->proto, pb, sizeof(pb)));
		}
		snprintf(c[4], sizeof(c[4]), "%s", ctp_state_name(f->state));
		if (f->flags & CTP_F_HAS_TIMEOUT)
			snprintf(c[5], sizeof(c[5]), "%" PRIu32, f->timeout);
		for (int d = 0; d < 2; d++) {
			ctp_addr_format(f->family, t[d]->src, c[6 + 4 * d],
					sizeof(c[0]));
			ctp_addr_format(f->family, t[d]->dst, c[7 + 4 * d],
					sizeof(c[0]));
			if (ports) {
				snprintf(c[8 + 4 * d], sizeof(c[0]), "%u",
					 t[d]->sport);
				snprintf(c[9 + 4 * d], sizeof(c[0]), "%u",
					 t[d]->dport);
			}
		}
		if (icmp && !(f->flags & CTP_F_NO_ICMP)) {
			snprintf(c[14], sizeof(c[0]), "%u",
				 CTP_ICMP_TYPE(&f->orig));
			snprintf(c[15], sizeof(c[0]), "%u",
				 CTP_ICMP_CODE(&f->orig));
			snprintf(c[16], sizeof(c[0]), "%u", f->orig.sport);
		}
		snprintf(c[17], sizeof(c[0]), "%s",
			 f->flags & CTP_F_ASSURED ? "true" : "false");
		snprintf(c[18], sizeof(c[0]), "%s",
			 f->flags & CTP_F_UNREPLIED ? "true" : "false");
		if (f->flags & CTP_F_HAS_MARK)
			snprintf(c[19], sizeof(c[0]), "%" PRIu32, f->mark);
		if (field(out, in ? in->ns : "", 1))
			return CTP_EFAIL;
		for (size_t k = 1; k < NFLOW_COLS - 1; k++)
			if (field(out, c[k], 0))
				return CTP_EFAIL;
		if (field(out, in ? in->path : "", 0) || endrow(out))
			return CTP_EFAIL;
	}
	return 0;
}

/* ---- the directory ---- */

/* dir/name as a temporary file renamed over the name when closed: a
 * symlink planted there is replaced, never followed */
static int open_in(const char *dir, const char *name, ctp_outfile *of,
		   ctp_error *err)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot write '%s/%s': path too long",
				     dir, name);
	errno = 0;
	return ctp_outfile_open(of, path, 0, err);
}

static int close_checked(ctp_outfile *of, int rc, ctp_error *err)
{
	return ctp_outfile_close(of, rc != 0, rc ? errno : 0, err);
}

int ctp_render_csv_tables(ctp_report *rep, const ctp_snapshot *snap,
			  const char *dir, ctp_error *err)
{
	json_t *root = ctp_report_root(rep);
	json_t *hash = json_object_get(root, "hash");
	ctp_outfile of;
	int rc;

	if (mkdir(dir, 0777) && errno != EEXIST)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot create directory '%s': %s", dir,
				     strerror(errno));
	if (json_is_array(json_object_get(hash, "histogram"))) {
		if (open_in(dir, "histogram.csv", &of, err))
			return CTP_EFAIL;
		rc = write_histogram(of.fp, hash);
		if (close_checked(&of, rc, err))
			return CTP_EFAIL;
	}
	if (open_in(dir, "findings.csv", &of, err))
		return CTP_EFAIL;
	rc = ctp_csv_write_rows(of.fp, json_object_get(root, "findings"),
				finding_cols,
				sizeof(finding_cols) / sizeof(finding_cols[0]));
	if (close_checked(&of, rc, err))
		return CTP_EFAIL;
	if (snap) {
		if (open_in(dir, "flows.csv", &of, err))
			return CTP_EFAIL;
		rc = write_flows(of.fp, snap);
		if (close_checked(&of, rc, err))
			return CTP_EFAIL;
	}
	return 0;
}
