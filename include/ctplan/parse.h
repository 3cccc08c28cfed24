/*
 * ctplan input reading: files, directories, stdin; format sniffed from
 * content, line by line, so one file may switch format at a section.
 *
 * Diagnostics go to the callback (parsers never print); each is one error
 * record "file:line:col: message".  A malformed line is counted and
 * skipped unless opts->strict is set.
 */
#ifndef CTPLAN_PARSE_H
#define CTPLAN_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctplan/error.h"
#include "ctplan/snapshot.h"

typedef enum ctp_severity {
	CTP_SEV_NOTE = 0,  /* a skipped file, a partial first line */
	CTP_SEV_WARN = 1,
	CTP_SEV_ERROR = 2, /* a rejected line */
} ctp_severity;

typedef void (*ctp_diag_fn)(void *ud, ctp_severity sev, const ctp_error *e);

typedef struct ctp_parse_opts {
	int strict;          /* the first rejected line is fatal */
	const char *ns;      /* namespace label for these inputs, or NULL */
	size_t max_line;     /* longest accepted line, bytes */
	ctp_diag_fn diag;    /* may be NULL */
	void *diag_ud;
	/* called now and then while reading (every 64 Ki lines and at the
	 * end of each input) with the bytes of lines read since the last
	 * call, on the thread that called ctp_parse_*; may be NULL */
	void (*progress)(void *ud, uint64_t bytes);
	void *progress_ud;
} ctp_parse_opts;

#define CTP_MAX_LINE_DEFAULT (64u * 1024u)
#define CTP_PARSE_OPTS_INIT \
	{ 0, NULL, CTP_MAX_LINE_DEFAULT, NULL, NULL, NULL, NULL }

/*
 * Read path into snap: a file, a directory (every recognised file inside,
 * recursively; unrecognised ones are skipped with a note) or "-" for
 * stdin.  Returns 0; CTP_EINPUT if the path cannot be read, is in no
 * known format, or (strict) has a malformed line; err says which.
 */
int ctp_parse_path(ctp_snapshot *snap, const char *path,
		   const ctp_parse_opts *opts, ctp_error *err);

/* Read one stream already open, named name in diagnostics. */
int ctp_parse_stream(ctp_snapshot *snap, FILE *fp, const char *name,
		     const ctp_parse_opts *opts, ctp_error *err);

/* Read a buffer (tests, fuzzing), named name in diagnostics. */
int ctp_parse_buffer(ctp_snapshot *snap, const char *name, const char *buf,
		     size_t len, const ctp_parse_opts *opts, ctp_error *err);

#endif
