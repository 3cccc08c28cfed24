/*
 * Bounded parsing helpers over a (pointer, end) cursor.  They never read
 * past end, never rely on NUL termination, and advance *p only on
 * success.  Use these instead of atoi/strtoul/sscanf (see banned.h).
 */
#ifndef CTPLAN_CURSOR_H
#define CTPLAN_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/flow.h"

enum {
	CTP_NUM_OK = 0,
	CTP_NUM_NONE = -1,     /* no digit at *p */
	CTP_NUM_RANGE = -2,    /* more than max */
};

/* Decimal unsigned number <= max. */
int ctp_cur_u64(const char **p, const char *end, uint64_t max,
		uint64_t *out);
/* Hex number (optional 0x) <= max. */
int ctp_cur_hex(const char **p, const char *end, uint64_t max,
		uint64_t *out);
/* Skip spaces and tabs. */
void ctp_cur_blank(const char **p, const char *end);
/* If the text at *p starts with lit, skip it and return 1. */
int ctp_cur_lit(const char **p, const char *end, const char *lit);
/* Length of the token at p (up to a space, tab or end). */
size_t ctp_cur_toklen(const char *p, const char *end);

/* Value of a hex digit, or -1. */
static inline int ctp_cur_hexval(char c)
{
	if ((unsigned)(c - '0') <= 9)
		return c - '0';
	if ((unsigned)((c | 0x20) - 'a') <= 5)
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/*
 * A dotted quad of exactly len bytes (each part 0-255, at most 3 digits,
 * no leading zero) into out (IPv4 in the first 4 bytes, the rest 0):
 * CTP_AF_INET, or 0 if it is not one.  Inline: the -L parser's hot path.
 */
static inline int ctp_cur_v4(const char *s, size_t len, uint8_t out[16])
{
	const char *p = s, *end = s + len;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		const char *q = p;
		while (p < end && (unsigned)(*p - '0') <= 9 && p - q < 3)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == q || v > 255 || (p - q > 1 && *q == '0'))
			return 0;
		out[i] = (uint8_t)v;
		if (i < 3) {
			if (p >= end || *p != '.')
				return 0;
			p++;
		}
	}
	if (p != end)
		return 0;
	for (int i = 4; i < 16; i++)
		out[i] = 0;
	return CTP_AF_INET;
}

/* n bytes at s are exactly the string lit */
int ctp_cur_is(const char *s, size_t n, const char *lit);
/* n capped at 60: the most of a token an error message quotes */
static inline int ctp_cur_clip(size_t n)
{
	return (int)(n > 60 ? 60 : n);
}

/* Parse an IPv4 or IPv6 address (any textual form inet_pton accepts,
 * also the uncompressed /proc form) of exactly len bytes.
 * Returns CTP_AF_INET, CTP_AF_INET6, or 0 if invalid. */
int ctp_parse_addr(const char *s, size_t len, uint8_t out[16]);

#endif
