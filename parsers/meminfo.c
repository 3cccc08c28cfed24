/*
 * /proc/meminfo: "Key:  value kB", or "Key:  value" for counts
 * (HugePages_Total).  The kernel's meminfo_proc_show (fs/proc/meminfo.c,
 * 6.1) pads with spaces; key names hold letters, digits, '_' and
 * parentheses ("Active(anon)", "DirectMap4k").
 */
#include <string.h>

#include "cursor.h"
#include "parsers.h"

#define QUOTE_MAX 64

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '(' || c == ')';
}

/* Length of the key before ':', or 0 if the line does not start so. */
static size_t key_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && is_key_char(s[i]))
		i++;
	return i < len && s[i] == ':' ? i : 0;
}

int ctp_meminfo_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p, *end = s + len, *d;
	size_t k = key_len(s, len);

	(void)ctx;
	if (k == 0)
		return 0;
	p = s + k + 1;
	if (p == end || (*p != ' ' && *p != '\t'))
		return 0;
	ctp_cur_blank(&p, end);
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
		;
	if (p == d)
		return 0;
	return p == end || (end - p == 3 && memcmp(p, " kB", 3) == 0);
}

int ctp_meminfo_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p, *end = s + len, *tok;
	size_t k = key_len(s, len), n;
	uint64_t v;
	int rc;

	if (k == 0) {
		n = ctp_cur_toklen(s, end);
		return ctp_pctx_fail(ctx, 0,
				     "cannot parse '%.*s': expected "
				     "'Name:' and a number",
				     quote_len(n), s);
	}
	p = s + k + 1;
	ctp_cur_blank(&p, end);
	tok = p;
	n = ctp_cur_toklen(tok, end);
	rc = ctp_cur_u64(&p, end, UINT64_MAX, &v);
	if (rc == CTP_NUM_OK && p != tok + n)
		rc = CTP_NUM_NONE;
	if (rc != CTP_NUM_OK)
		return ctp_pctx_fail(ctx, (size_t)(tok - s),
				     "cannot parse '%.*s' of '%.*s': %s",
				     quote_len(n), tok, quote_len(k), s,
				     rc == CTP_NUM_RANGE ?
				     "number out of range" :
				     "expected a number");
	if (p != end && !(end - p == 3 && memcmp(p, " kB", 3) == 0))
		return ctp_pctx_fail(ctx, (size_t)(p - s),
				     "unexpected text after the value of "
				     "'%.*s': expected ' kB'",
				     quote_len(k), s);
	if (ctp_snapshot_set_meminfo(ctx->snap, s, k, v))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	return CTP_LINE_RECORD;
}
