#include <stdarg.h>
#include <stdio.h>

#include "ctplan/error.h"

int ctp_error_set(ctp_error *err, int code, const char *file, size_t line,
		  size_t col, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->file = file;
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void ctp_error_format(const ctp_error *err, char *buf, size_t size)
{
	const char *file = err->file ? err->file : "ctplan";

	if (err->line && err->col)
		snprintf(buf, size, "%s:%zu:%zu: %s", file, err->line,
			 err->col, err->msg);
	else if (err->line)
		snprintf(buf, size, "%s:%zu: %s", file, err->line, err->msg);
	else
		snprintf(buf, size, "%s: %s", file, err->msg);
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
