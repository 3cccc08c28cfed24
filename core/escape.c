/* Escaping text that came from outside before it is printed
 * (include/ctplan/escape.h). */
#include <stdlib.h>
#include <string.h>

#include "ctplan/escape.h"

/*
 * Length of the valid, printable UTF-8 character at s (at most n bytes),
 * or 0 when its first byte must be escaped.  The ranges are those of
 * RFC 3629 section 4 (UTF8-2, UTF8-3, UTF8-4): no overlong forms, no
 * surrogates, nothing past U+10FFFF.
 */
static size_t char_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	unsigned lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x20 || c == 0x7f)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		/* U+0080-U+009F are the C1 controls: escaped */
		if (c == 0xc2)
			lo = 0xa0;
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		need = 3;
	} else if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		need = 4;
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

size_t ctp_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, out = 0;
	int full = size == 0;

	while (i < len) {
		size_t n = char_len(s + i, len - i);
		size_t w = n ? n : 4;
		if (!full && out + w < size) {
			if (n) {
				memcpy(dst + out, s + i, n);
			} else {
				dst[out] = '\\';
				dst[out + 1] = 'x';
				dst[out + 2] = hex[s[i] >> 4];
				dst[out + 3] = hex[s[i] & 15];
			}
		} else if (!full) {
			/* cut here: never in the middle of a character */
			dst[out] = '\0';
			full = 1;
		}
		out += w;
		i += n ? n : 1;
	}
	if (!full)
		dst[out] = '\0';
	return out;
}

int ctp_escape_needed(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = char_len(u + i, len - i);
		if (!n)
			return 1;
		i += n;
	}
	return 0;
}

char *ctp_escape_dup(const char *s)
{
	size_t len = strlen(s), need = ctp_escape(NULL, 0, s, len);
	char *d = malloc(need + 1);

	if (d)
		ctp_escape(d, need + 1, s, len);
	return d;
}
