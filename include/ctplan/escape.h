/*
 * Names are data: a file, member or namespace name, or any text read from
 * an input, may hold bytes that act on a terminal (ESC, BEL, CR, newline)
 * or that are not UTF-8.  Everything ctplan prints that came from outside
 * goes through ctp_escape() once: the stderr diagnostics
 * (ctp_error_format) and every string of the report tree (render/tree.c,
 * which the text, CSV, HTML, JSON and Prometheus outputs read).
 *
 * Escaped: C0 controls (0x00-0x1f), DEL, the C1 controls U+0080-U+009F
 * (a terminal may act on them), and each byte of a sequence that is not
 * valid UTF-8 (overlong forms, surrogates, past U+10FFFF, cut short).
 * Each such byte becomes the four characters \xNN.  Everything else,
 * valid UTF-8 included, is copied unchanged.
 */
#ifndef CTPLAN_ESCAPE_H
#define CTPLAN_ESCAPE_H

#include <stddef.h>

/* Write the escaped form of src[0, len) into dst (size bytes, always
 * NUL-terminated when size > 0; cut at a whole character or escape).
 * Returns the length the whole escaped text needs, without the NUL. */
size_t ctp_escape(char *dst, size_t size, const char *src, size_t len);

/* 1 if ctp_escape would change s[0, len), else 0. */
int ctp_escape_needed(const char *s, size_t len);

/* The escaped form of the NUL-terminated s in a new string (free()), or
 * NULL when out of memory. */
char *ctp_escape_dup(const char *s);

#endif
