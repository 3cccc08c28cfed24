/*
 * CSV files of the report tree (include/ctplan/csv.h).  Each file is a
 * row of files[]: the section and array it lists and the columns, in
 * order.  Columns are keys of docs/report.md, so the CSV and the JSON
 * never disagree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>

#include "ctplan/csv.h"
#include "ctplan/render.h"

static const char *const nat_group_cols[] = {
	"protocol", "family", "namespace", "nat_addr", "peer_addr",
	"peer_port", "icmp_type", "icmp_code", "zone", "entries",
	"snat_entries", "remapped", "evictable", "range_lo", "range_hi",
	"range_size", "range_source", "port_choice", "used", "utilization",
	"p_keep", "p_search_fail", "p_fail_next", "utilization_p_fail_1pct",
	"utilization_p_fail_50pct",
};

#define COLS(a) a, sizeof(a) / sizeof(a[0])

static const struct csv_file {
	const char *name;    /* file in the directory */
	const char *section; /* top-level key of the report */
	const char *array;   /* key of the array in it; one row per item */
	const char *const *cols;
	size_t ncols;
} files[] = {
	{ "nat_groups.csv", "nat", "groups", COLS(nat_group_cols) },
};

static int field(FILE *out, const char *s, size_t len, int first)
{
	if (!first && fputc(',', out) == EOF)
		return CTP_EFAIL;
	return csv_fwrite(out, s, len) ? CTP_EFAIL : 0;
}

/* A JSON scalar as the text of one cell. */
static void cell(json_t *v, char *buf, size_t size, const char **s)
{
	*s = buf;
	buf[0] = '\0';
	if (json_is_string(v))
		*s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		/* 17 digits: the double read back is the one written */
		snprintf(buf, size, "%.17g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, size, "true");
	else if (json_is_false(v))
		snprintf(buf, size, "false");
}

int ctp_csv_write_rows(FILE *out, json_t *arr, const char *const *cols,
		       size_t ncols)
{
	size_t i;
	json_t *row;

	for (size_t c = 0; c < ncols; c++)
		if (field(out, cols[c], strlen(cols[c]), c == 0))
			return CTP_EFAIL;
	if (fputc('\n', out) == EOF)
		return CTP_EFAIL;
	json_array_foreach(arr, i, row) {
		for (size_t c = 0; c < ncols; c++) {
			char buf[64];
			const char *s;

			cell(json_object_get(row, cols[c]), buf, sizeof(buf),
			     &s);
			if (field(out, s, strlen(s), c == 0))
				return CTP_EFAIL;
		}
		if (fputc('\n', out) == EOF)
			return CTP_EFAIL;
	}
	return ferror(out) ? CTP_EFAIL : 0;
}

int ctp_render_csv_dir(ctp_report *rep, const char *dir, ctp_error *err)
{
	json_t *root = ctp_report_root(rep);

	if (mkdir(dir, 0777) && errno != EEXIST)
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot create directory '%s': %s", dir,
				     strerror(errno));
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		json_t *arr = json_object_get(
			json_object_get(root, files[f].section),
			files[f].array);
		char path[4096];
		ctp_outfile of;
		int rc;

		if (!json_is_array(arr))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir,
			     files[f].name) >= (int)sizeof(path))
			return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
					     "cannot write '%s/%s': path too "
					     "long",
					     dir, files[f].name);
		/* a temporary file renamed over the name: a symlink
		 * planted there is replaced, never followed */
		if (ctp_outfile_open(&of, path, 0, err))
			return CTP_EFAIL;
		errno = 0;
		rc = ctp_csv_write_rows(of.fp, arr, files[f].cols,
					files[f].ncols);
		if (ctp_outfile_close(&of, rc != 0, rc ? errno : 0, err))
			return CTP_EFAIL;
	}
	return 0;
}
