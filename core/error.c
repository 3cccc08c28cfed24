#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctplan/escape.h"

#include "ctplan/error.h"

int ctp_error_set(ctp_error *err, int code, const char *file, size_t line,
		  size_t col, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	ctp_error_set_file(err, file);
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void ctp_error_set_file(ctp_error *err, const char *file)
{
	size_t n = file ? strlen(file) : 0;
	const char *tail;

	if (n < sizeof(err->file)) {
		memcpy(err->file, file ? file : "", n + 1);
		return;
	}
	/* keep the tail, starting at a whole UTF-8 character */
	tail = file + n - (sizeof(err->file) - 4);
	while ((*tail & 0xc0) == 0x80)
		tail++;
	memcpy(err->file, "...", 3);
	memcpy(err->file + 3, tail, strlen(tail) + 1);
}

void ctp_error_format(const ctp_error *err, char *buf, size_t size)
{
	char file[CTP_ERROR_FILE_MAX * 4], msg[sizeof(err->msg) * 4];

	ctp_escape(file, sizeof(file), err->file[0] ? err->file : "ctplan",
		   err->file[0] ? strlen(err->file) : 6);
	ctp_escape(msg, sizeof(msg), err->msg, strlen(err->msg));
	if (err->line && err->col)
		snprintf(buf, size, "%s:%zu:%zu: %s", file, err->line,
			 err->col, msg);
	else if (err->line)
		snprintf(buf, size, "%s:%zu: %s", file, err->line, msg);
	else
		snprintf(buf, size, "%s: %s", file, msg);
}

const char *ctp_error_str(int code)
{
	switch (code) {
	case CTP_OK:
		return "no error";
	case CTP_EINPUT:
		return "bad input";
	case CTP_ENOMEM:
		return "out of memory";
	default:
		return "failure";
	}
}
