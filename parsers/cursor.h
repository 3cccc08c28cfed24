/*
 * Bounded parsing helpers over a (pointer, end) cursor.  They never read
 * past end, never rely on NUL termination, and advance *p only on
 * success.  Use these instead of atoi/strtoul/sscanf (see banned.h).
 */
#ifndef CTPLAN_CURSOR_H
#define CTPLAN_CURSOR_H

#include <stddef.h>
#include <stdint.h>

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

/* Parse an IPv4 or IPv6 address (any textual form inet_pton accepts,
 * also the uncompressed /proc form) of exactly len bytes.
 * Returns CTP_AF_INET, CTP_AF_INET6, or 0 if invalid. */
int ctp_parse_addr(const char *s, size_t len, uint8_t out[16]);

#endif
