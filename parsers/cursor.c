#include <arpa/inet.h>
#include <string.h>

#include "ctplan/flow.h"
#include "cursor.h"

int ctp_cur_u64(const char **p, const char *end, uint64_t max,
		uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return CTP_NUM_NONE;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return CTP_NUM_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	*p = s;
	return CTP_NUM_OK;
}


int ctp_cur_hex(const char **p, const char *end, uint64_t max,
		uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    ctp_cur_hexval(s[2]) >= 0)
		s += 2;
	if (s >= end || ctp_cur_hexval(*s) < 0)
		return CTP_NUM_NONE;
	for (; s < end && (d = ctp_cur_hexval(*s)) >= 0; s++) {
		if (v > (max - (uint64_t)d) / 16)
			return CTP_NUM_RANGE;
		v = v * 16 + (uint64_t)d;
	}
	*out = v;
	*p = s;
	return CTP_NUM_OK;
}

void ctp_cur_blank(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

int ctp_cur_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

size_t ctp_cur_toklen(const char *p, const char *end)
{
	const char *s = p;

	while (s < end && *s != ' ' && *s != '\t')
		s++;
	return (size_t)(s - p);
}

int ctp_cur_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

int ctp_parse_addr(const char *s, size_t len, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (len == 0 || len >= sizeof(buf))
		return 0;
	if (memchr(s, ':', len) == NULL)
		return ctp_cur_v4(s, len, out) ? CTP_AF_INET : 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, out) == 1)
		return CTP_AF_INET6;
	return 0;
}
