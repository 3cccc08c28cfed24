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

/* Longest file name an error keeps; a longer one keeps "..." and its
 * tail (the member or file part, which tells most). */
#define CTP_ERROR_FILE_MAX 1024

typedef struct ctp_error {
	int code;
	/* a copy, not a borrowed pointer: the file or member an error
	 * names (a folder entry, an archive member) is often gone by the
	 * time the error prints; "" when none */
	char file[CTP_ERROR_FILE_MAX];
	size_t line, col;
	char msg[256];
} ctp_error;

#define CTP_ERROR_INIT { 0, { 0 }, 0, 0, { 0 } }

/* Fill err (if not NULL) and return code.  Format is printf-like. */
int ctp_error_set(ctp_error *err, int code, const char *file, size_t line,
		  size_t col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Room for the longest ctp_error_format() text, escapes included. */
#define CTP_ERROR_TEXT_MAX (CTP_ERROR_FILE_MAX * 4 + 256 * 4 + 64)

/* Copy file (NULL: none) into err->file, cut as said above. */
void ctp_error_set_file(ctp_error *err, const char *file);

/* Write "file:line:col: msg" into buf (always NUL-terminated), the file
 * name and message escaped (ctplan/escape.h): a name is data, never
 * terminal control. */
void ctp_error_format(const ctp_error *err, char *buf, size_t size);

/* Text for an error code. */
const char *ctp_error_str(int code);

#endif
