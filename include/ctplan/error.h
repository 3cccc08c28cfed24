/*
 * ctplan error record.
 *
 * One record, filled by the callee and passed in explicitly; there is no
 * global "last error".  It is printed as "file:line:col: message".
 * line and col are 1-based; 0 means "not known" and is left out when
 * printing.
 */
#ifndef CTPLAN_ERROR_H
#define CTPLAN_ERROR_H

#include <stddef.h>

typedef enum ctp_errcode {
	CTP_OK = 0,
	CTP_EFAIL = -1,    /* anything not listed below */
	CTP_EINPUT = -2,   /* malformed input: a line, a file, an archive */
	CTP_ENOMEM = -3,   /* out of memory */
} ctp_errcode;

typedef struct ctp_error {
	int code;
	const char *file; /* borrowed; must outlive the record */
	size_t line, col;
	char msg[256];
} ctp_error;

#define CTP_ERROR_INIT { 0, NULL, 0, 0, { 0 } }

/* Fill err (if not NULL) and return code.  Format is printf-like. */
int ctp_error_set(ctp_error *err, int code, const char *file, size_t line,
		  size_t col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Write "file:line:col: msg" into buf (always NUL-terminated). */
void ctp_error_format(const ctp_error *err, char *buf, size_t size);

/* Text for an error code. */
const char *ctp_error_str(int code);

#endif
