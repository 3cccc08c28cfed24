/*
 * ctplan CSV output: tables of the report tree as CSV files in one
 * directory, written with libcsv's csv_fwrite() (every field quoted,
 * RFC 4180, rows ended by "\n").  Which files exist and their columns is
 * one table in render/csv.c; a file whose section the report lacks is
 * not written.
 */
#ifndef CTPLAN_CSV_H
#define CTPLAN_CSV_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "ctplan/error.h"
#include "ctplan/report.h"
#include "ctplan/report_tree.h"

/*
 * Write every CSV file the report has data for into dir, creating dir
 * if it does not exist.  Returns 0, or CTP_EFAIL with err naming the
 * file that could not be written.
 */
int ctp_render_csv_dir(ctp_report *rep, const char *dir, ctp_error *err);

/*
 * One table to out: a header row of the column names, then one row per
 * object of arr, each cell the object's value for the column (strings
 * as they are, numbers in decimal, true/false, null and missing keys
 * as an empty field).  Returns 0, or CTP_EFAIL on a write error.
 */
int ctp_csv_write_rows(FILE *out, json_t *arr, const char *const *cols,
		       size_t ncols);

#endif
