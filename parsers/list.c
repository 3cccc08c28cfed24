/*
 * conntrack -L text: the default form, -o extended (and id, ktimestamp,
 * labels), /proc/net/nf_conntrack, and -E event lines of the same shape.
 *
 * Printing rules: libnetfilter_conntrack src/conntrack/snprintf_default.c
 * (1.0.6 - 1.0.9) and the kernel's ct_seq_show (net/netfilter/
 * nf_conntrack_standalone.c, 6.1):
 *   [EVENT] [l3name l3num] l4name l4num [timeout] [state]
 *   orig-tuple [zone-orig=] [packets= bytes=] [UNREPLIED]
 *   reply-tuple [zone-reply=] [packets= bytes=]
 *   [HW_OFFLOAD|OFFLOAD|ASSURED] [mark=] [secmark=] [secctx=] [zone=]
 *   [delta-time=] [[start=ctime] [stop=ctime]] [helper=] [use=] [id=]
 *   [labels=]
 * After the header the tokens are parsed by name, so their order does not
 * matter except that the second src= starts the reply tuple.  Unknown
 * key=value and [TAG] tokens (vendor kernels print e.g. nmark=, [FASTNAT])
 * are kept verbatim in the flow's "other" string, never dropped.
 *
 * This is the hot path of a 4M-line dump: no allocation per line, no
 * regular expressions, every byte looked at about once, no library call
 * per token (numbers and IPv4 addresses are read inline here, keys are
 * found without strlen), and parsing a line touches nothing shared, so
 * the reader can run it on worker threads (list.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ctplan/flow.h"
#include "cursor.h"
#include "list.h"
#include "parsers.h"

enum key_id {
	K_BYTES,
	K_CODE,
	K_DELTA,
	K_DPORT,
	K_DST,
	K_DSTKEY,
	K_HELPER,
	K_ID,
	K_LABELS,
	K_MARK,
	K_PACKETS,
	K_SECCTX,
	K_SECMARK,
	K_SPORT,
	K_SRC,
	K_SRCKEY,
	K_TYPE,
	K_USE,
	K_ZONE,
	K_ZONE_ORIG,
	K_ZONE_REPLY,
};

/* MUST be sorted by name (bsearch).  len spares a strlen per probe. */
#define KEY(name, id) { name, sizeof(name) - 1, id }
static const struct key_def {
	const char *name;
	size_t len;
	enum key_id id;
} keys[] = {
	KEY("bytes", K_BYTES),	   KEY("code", K_CODE),
	KEY("delta-time", K_DELTA), KEY("dport", K_DPORT),
	KEY("dst", K_DST),	   KEY("dstkey", K_DSTKEY),
	KEY("helper", K_HELPER),   KEY("id", K_ID),
	KEY("labels", K_LABELS),   KEY("mark", K_MARK),
	KEY("packets", K_PACKETS), KEY("secctx", K_SECCTX),
	KEY("secmark", K_SECMARK), KEY("sport", K_SPORT),
	KEY("src", K_SRC),	   KEY("srckey", K_SRCKEY),
	KEY("type", K_TYPE),	   KEY("use", K_USE),
	KEY("zone", K_ZONE),	   KEY("zone-orig", K_ZONE_ORIG),
	KEY("zone-reply", K_ZONE_REPLY),
};
#undef KEY

/* memcmp order of two short strings, byte by byte: keys are a few bytes
 * long and most probes differ in the first, where a library call would
 * cost more than the comparison */
static int key_cmp(const char *k, size_t kl, const char *s, size_t n)
{
	size_t m = kl < n ? kl : n;

	for (size_t i = 0; i < m; i++)
		if (k[i] != s[i])
			return (unsigned char)k[i] < (unsigned char)s[i] ? -1
									 : 1;
	return kl < n ? -1 : kl > n;
}

static const struct key_def *find_key(const char *s, size_t n)
{
	size_t lo = 0, hi = sizeof(keys) / sizeof(keys[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = key_cmp(keys[mid].name, keys[mid].len, s, n);
		if (c == 0)
			return &keys[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ctp_cur_toklen() and ctp_cur_blank(), inlined: the header of every
 * line calls them a dozen times, and a call each cost more than the
 * loop */
static inline size_t tok_len(const char *p, const char *end)
{
	const char *s = p;

	while (s < end && *s != ' ' && *s != '\t')
		s++;
	return (size_t)(s - p);
}

static inline void skip_blank(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

static const char *const event_tags[] = { NULL, "[NEW]", "[UPDATE]",
					  "[DESTROY]" };

/* Is the token at p..p+n a lowercase word? */
static int is_word(const char *p, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9')))
			return 0;
	return 1;
}

static int tok_is(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* Skip an event tag "[NEW]" and an -o timestamp "[sec.usec]" prefix. */
static const char *skip_prefix(const char *p, const char *end, int *event)
{
	*event = 0;
	skip_blank(&p, end);
	if (p < end && *p == '[' && end - p > 1 && p[1] >= '0' &&
	    p[1] <= '9') {
		const char *q = memchr(p, ']', (size_t)(end - p));
		if (q) {
			p = q + 1;
			skip_blank(&p, end);
		}
	}
	/* every tag starts with '[': most lines are spared the loop */
	for (int i = 1; i <= 3 && p < end && *p == '['; i++) {
		size_t n = strlen(event_tags[i]);
		if ((size_t)(end - p) >= n && memcmp(p, event_tags[i], n) == 0) {
			*event = i;
			p += n;
			skip_blank(&p, end);
			break;
		}
	}
	return p;
}

int ctp_list_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	const char *end = s + len, *p;
	size_t n;
	int event;

	(void)ctx;
	p = skip_prefix(s, end, &event);
	n = tok_len(p, end);
	if (!is_word(p, n))
		return 0;
	if (tok_is(p, n, "ipv4") || tok_is(p, n, "ipv6")) {
		p += n;
		skip_blank(&p, end);
		if (p >= end || *p < '0' || *p > '9')
			return 0;
		p += tok_len(p, end);
		skip_blank(&p, end);
		n = tok_len(p, end);
	}
	if (ctp_proto_lookup(p, n) < 0 && !tok_is(p, n, "unknown"))
		return 0;
	p += n;
	if (p >= end || (*p != ' ' && *p != '\t'))
		return 0;
	skip_blank(&p, end);
	return p < end && *p >= '0' && *p <= '9';
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/*
 * ctime(3) text "Thu Nov 26 18:32:10 2026" as seconds since the epoch,
 * read as UTC: the dumping host's zone is not in the dump.
 */
static int parse_ctime(const char *p, const char *end, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	uint64_t d, hh, mm, ss, y;
	unsigned mon = 0;

	if (end - p < 24)
		return -1;
	p += 4; /* weekday and space */
	for (unsigned i = 0; i < 12; i++)
		if (memcmp(p, months + 3 * i, 3) == 0)
			mon = i + 1;
	if (!mon)
		return -1;
	p += 3;
	skip_blank(&p, end);
	if (ctp_cur_u64(&p, end, 31, &d) || !ctp_cur_lit(&p, end, " ") ||
	    ctp_cur_u64(&p, end, 23, &hh) || !ctp_cur_lit(&p, end, ":") ||
	    ctp_cur_u64(&p, end, 59, &mm) || !ctp_cur_lit(&p, end, ":") ||
	    ctp_cur_u64(&p, end, 60, &ss) || !ctp_cur_lit(&p, end, " ") ||
	    ctp_cur_u64(&p, end, 9999, &y) || p != end)
		return -1;
	*out = days_from_civil((int64_t)y, mon, (unsigned)d) * 86400 +
	       (int64_t)(hh * 3600 + mm * 60 + ss);
	return 0;
}

/* what the line has shown so far, per direction */
enum {
	H_SRC = 1u << 0,
	H_DST = 1u << 1,
	H_SPORT = 1u << 2,
	H_DPORT = 1u << 3,
	H_TYPE = 1u << 4,
	H_CODE = 1u << 5,
	H_ID = 1u << 6,
};

typedef struct line_state {
	ctp_pctx *ctx;
	const char *line;
	ctp_list_rec *r; /* the result */
	unsigned have[2];
	int dir;
	int family_seen;
	int proc_hint; /* printed as only /proc/net/nf_conntrack does */
	unsigned kseen; /* the entry's keys outside the tuples, by key_id */
	/* unknown tokens, copied for the "other" string: the caller's
	 * buffer of CTP_LIST_OTHER_MAX bytes, never cleared (other_len) */
	char *other;
	size_t other_len;
} line_state;

static int fail_tok(line_state *st, const char *tok, size_t n,
		    const char *why)
{
	return ctp_pctx_fail(st->ctx, (size_t)(tok - st->line),
			     "cannot parse '%.*s': %s", (int)(n > 60 ? 60 : n),
			     tok, why);
}

/*
 * ctp_cur_u64() for the hot path: the same result (CTP_NUM_RANGE as soon
 * as the digits exceed max, whatever follows), inlined and without its
 * division per digit.  Up to 19 digits cannot overflow 64 bits; longer
 * runs are checked with the overflow builtins.
 */
static inline int dec(const char **pp, const char *end, uint64_t max,
		      uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int over = 0;

	if (p >= end || (unsigned)(*p - '0') > 9)
		return CTP_NUM_NONE;
	for (; p < end && (unsigned)(*p - '0') <= 9; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (p - *pp < 19)
			v = v * 10 + d;
		else if (__builtin_mul_overflow(v, 10, &v) ||
			 __builtin_add_overflow(v, d, &v))
			over = 1;
		if (over)
			return CTP_NUM_RANGE;
	}
	if (v > max)
		return CTP_NUM_RANGE;
	*out = v;
	*pp = p;
	return CTP_NUM_OK;
}

static int num(line_state *st, const char *tok, size_t n, const char *v,
	       const char *end, uint64_t max, int hex, uint64_t *out)
{
	const char *p = v;
	int rc = hex ? ctp_cur_hex(&p, end, max, out)
		     : dec(&p, end, max, out);

	if (rc == CTP_NUM_RANGE)
		return fail_tok(st, tok, n, "number out of range");
	if (rc || p != end)
		return fail_tok(st, tok, n, hex ? "expected a hex number"
						: "expected a number");
	return 0;
}

static int keep_other(line_state *st, const char *tok, size_t n)
{
	st->r->free_text = 1;
	if (st->other_len + n + 1 >= CTP_LIST_OTHER_MAX)
		return 0; /* absurdly many vendor tokens: keep the first */
	if (st->other_len)
		st->other[st->other_len++] = ' ';
	memcpy(st->other + st->other_len, tok, n);
	st->other_len += n;
	return 0;
}

/*
 * An IPv6 address of hex groups and colons, inlined for the hot path
 * (inet_pton costs more than the rest of a line).  It takes only forms
 * inet_pton certainly accepts, 1-4 hex digits a group, eight groups or
 * fewer around one "::", and gives the same bytes; anything else (an
 * embedded dotted quad, a stray colon, ...) returns 0 and goes to
 * ctp_parse_addr(), which has the final word.
 */
static int fast_v6(const char *s, size_t len, uint8_t out[16])
{
	unsigned g[8];
	int n = 0, gap = -1;
	size_t i = 0;

	if (len < 2 || len > 39)
		return 0;
	if (s[0] == ':') {
		if (s[1] != ':')
			return 0;
		gap = 0;
		i = 2;
	}
	while (i < len) {
		unsigned v = 0, d = 0;
		int h;
		while (i < len && d < 5 && (h = ctp_cur_hexval(s[i])) >= 0) {
			v = v * 16 + (unsigned)h;
			d++;
			i++;
		}
		if (d == 0 || d > 4 || n == 8)
			return 0;
		g[n++] = v;
		if (i == len)
			break;
		if (s[i++] != ':' || i == len)
			return 0;
		if (s[i] == ':') {
			if (gap >= 0)
				return 0;
			gap = n;
			i++;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return 0;
	memset(out, 0, 16);
	for (int k = 0; k < n; k++) {
		/* groups after the gap go to the end */
		int at = gap >= 0 && k >= gap ? 8 - (n - k) : k;
		out[2 * at] = (uint8_t)(g[k] >> 8);
		out[2 * at + 1] = (uint8_t)g[k];
	}
	return CTP_AF_INET6;
}

static int set_addr(line_state *st, const char *tok, size_t n,
		    const char *v, size_t vn, uint8_t out[16], unsigned bit)
{
	int fam = ctp_cur_v4(v, vn, out);

	if (!fam)
		fam = fast_v6(v, vn, out);
	if (!fam)
		fam = ctp_parse_addr(v, vn, out);

	if (!fam)
		return fail_tok(st, tok, n, "expected an IPv4 or IPv6 address");
	if (st->r->f.family && st->r->f.family != fam)
		return fail_tok(st, tok, n, "address family differs from the "
					    "rest of the line");
	st->r->f.family = (uint8_t)fam;
	st->have[st->dir] |= bit;
	/* the kernel's %pI6 writes all 8 groups in full: /proc form */
	if (vn == 39)
		st->proc_hint = 1;
	return 0;
}

/* A string field: kept as a piece of the line, interned at commit. */
static int set_str(line_state *st, int which, unsigned bit, const char *v,
		   size_t vn)
{
	st->r->str[which] = v;
	st->r->str_len[which] = (uint32_t)vn;
	st->r->free_text = 1;
	st->r->x.present |= (uint16_t)bit;
	return 0;
}

/* One key=value token after the header. */
static int kv_token(line_state *st, const char *tok, size_t n,
		    const char *eq)
{
	const char *end = tok + n, *v;
	const struct key_def *k;
	ctp_tuple *t;
	uint64_t x;
	int d;

	k = find_key(tok, (size_t)(eq - tok));
	if (!k)
		return keep_other(st, tok, n);
	/* a key of the entry (not of a tuple) given twice: the last value
	 * is used, and that is said at commit */
	switch (k->id) {
	case K_DELTA: case K_HELPER: case K_LABELS: case K_MARK:
	case K_SECCTX: case K_SECMARK: case K_USE: case K_ZONE:
	case K_ZONE_ORIG: case K_ZONE_REPLY:
		if ((st->kseen & (1u << k->id)) && !st->r->warn) {
			st->r->warn = LIST_W_REPEAT;
			st->r->warn_col = (uint32_t)(tok - st->line);
			st->r->warn_at = tok;
			st->r->warn_len = (uint32_t)(eq - tok);
		}
		st->kseen |= 1u << k->id;
		break;
	default:
		break;
	}
	v = eq + 1;
	if (k->id == K_SRC && (st->have[0] & H_SRC))
		st->dir = 1;
	d = st->dir;
	t = d ? &st->r->f.reply : &st->r->f.orig;
	switch (k->id) {
	case K_SRC:
		if (d && (st->have[1] & H_SRC))
			return fail_tok(st, tok, n, "a third tuple");
		return set_addr(st, tok, n, v, (size_t)(end - v), t->src,
				H_SRC);
	case K_DST:
		if (st->have[d] & H_DST)
			return fail_tok(st, tok, n, "repeated in one tuple");
		return set_addr(st, tok, n, v, (size_t)(end - v), t->dst,
				H_DST);
	case K_SPORT:
	case K_SRCKEY:
	case K_ID:
		if (k->id == K_ID && !ctp_proto_is_icmp(st->r->f.proto)) {
			/* -o id: the entry's id, after use= */
			if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
				return CTP_EINPUT;
			st->r->x.id = (uint32_t)x;
			st->r->x.present |= CTP_X_ID;
			return 0;
		}
		if (k->id == K_ID && (st->have[d] & H_ID)) {
			/* icmp: id= after the tuples is the entry's id */
			if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
				return CTP_EINPUT;
			st->r->x.id = (uint32_t)x;
			st->r->x.present |= CTP_X_ID;
			return 0;
		}
		if (num(st, tok, n, v, end, UINT16_MAX, k->id == K_SRCKEY,
			&x))
			return CTP_EINPUT;
		t->sport = (uint16_t)x;
		st->have[d] |= k->id == K_ID ? H_ID : H_SPORT;
		return 0;
	case K_DPORT:
	case K_DSTKEY:
		if (num(st, tok, n, v, end, UINT16_MAX, k->id == K_DSTKEY,
			&x))
			return CTP_EINPUT;
		t->dport = (uint16_t)x;
		st->have[d] |= H_DPORT;
		return 0;
	case K_TYPE:
	case K_CODE:
		if (num(st, tok, n, v, end, UINT8_MAX, 0, &x))
			return CTP_EINPUT;
		if (k->id == K_TYPE)
			t->dport = (uint16_t)((t->dport & 0xff) | (x << 8));
		else
			t->dport = (uint16_t)((t->dport & 0xff00) | x);
		st->have[d] |= k->id == K_TYPE ? H_TYPE : H_CODE;
		return 0;
	case K_PACKETS:
	case K_BYTES:
		if (num(st, tok, n, v, end, UINT64_MAX, 0, &x))
			return CTP_EINPUT;
		if (k->id == K_PACKETS)
			st->r->x.packets[d] = x;
		else
			st->r->x.bytes[d] = x;
		st->r->x.present |= CTP_X_COUNTERS;
		return 0;
	case K_ZONE_ORIG:
	case K_ZONE_REPLY:
	case K_ZONE:
		if (num(st, tok, n, v, end, UINT16_MAX, 0, &x))
			return CTP_EINPUT;
		if (k->id == K_ZONE) {
			/* conntrack -L leaves zone 0 out; the kernel's
			 * ct_show_zone prints it */
			if (x == 0)
				st->proc_hint = 1;
			st->r->f.zone = (uint16_t)x;
			st->r->f.flags |= CTP_F_HAS_ZONE;
		} else if (k->id == K_ZONE_ORIG) {
			st->r->x.zone_orig = (uint16_t)x;
			st->r->x.present |= CTP_X_ZONE_ORIG;
		} else {
			st->r->x.zone_reply = (uint16_t)x;
			st->r->x.present |= CTP_X_ZONE_REPLY;
		}
		return 0;
	case K_MARK:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->r->f.mark = (uint32_t)x;
		st->r->f.flags |= CTP_F_HAS_MARK;
		return 0;
	case K_SECMARK:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->r->x.secmark = (uint32_t)x;
		st->r->x.present |= CTP_X_SECMARK;
		return 0;
	case K_DELTA:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->r->x.delta_time = (uint32_t)x;
		st->r->x.present |= CTP_X_DELTA;
		return 0;
	case K_USE:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->r->f.use = x > UINT16_MAX ? UINT16_MAX : (uint16_t)x;
		st->r->f.flags |= CTP_F_HAS_USE;
		return 0;
	case K_HELPER:
		return set_str(st, CTP_LIST_S_HELPER, CTP_X_HELPER, v,
			       (size_t)(end - v));
	case K_SECCTX:
		return set_str(st, CTP_LIST_S_SECCTX, CTP_X_SECCTX, v,
			       (size_t)(end - v));
	case K_LABELS:
		return set_str(st, CTP_LIST_S_LABELS, CTP_X_LABELS, v,
			       (size_t)(end - v));
	}
	return keep_other(st, tok, n);
}

/* Is p the end of a token? */
static inline int tok_end(const char *p, const char *end)
{
	return p == end || *p == ' ' || *p == '\t';
}

/* An address up to the end of its token, as set_addr() reads the
 * common forms: its family, or 0 */
static inline int hot_addr(const char *v, const char **pp, const char *end,
			   uint8_t out[16])
{
	const char *p = v;

	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*pp = p;
	if (ctp_cur_v4(v, (size_t)(p - v), out))
		return CTP_AF_INET;
	return fast_v6(v, (size_t)(p - v), out);
}

/*
 * The tokens of nearly every line: src= and dst= with an address, sport=
 * and dport= with a port, read straight off the line.  Returns
 * the end of the token, or NULL to leave it to kv_token(), which reads
 * every other form and says what is wrong; what is set here before a
 * NULL, kv_token() sets the same way again.
 */
static const char *hot_token(line_state *st, const char *p, const char *end)
{
	ctp_tuple *t;
	const char *q;
	uint64_t x;
	int d, src, fam;

	if (end - p < 5)
		return NULL;
	if (p[0] == 's' && p[1] == 'r' && p[2] == 'c' && p[3] == '=') {
		src = 1;
	} else if (p[0] == 'd' && p[1] == 's' && p[2] == 't' && p[3] == '=') {
		src = 0;
	} else if (end - p > 6 && (p[0] == 's' || p[0] == 'd') &&
		   memcmp(p + 1, "port=", 5) == 0) {
		t = st->dir ? &st->r->f.reply : &st->r->f.orig;
		q = p + 6;
		if (dec(&q, end, UINT16_MAX, &x) || !tok_end(q, end))
			return NULL;
		if (p[0] == 's') {
			t->sport = (uint16_t)x;
			st->have[st->dir] |= H_SPORT;
		} else {
			t->dport = (uint16_t)x;
			st->have[st->dir] |= H_DPORT;
		}
		return q;
	} else {
		return NULL;
	}
	if (src && (st->have[0] & H_SRC))
		st->dir = 1;
	d = st->dir;
	if (src ? d && (st->have[1] & H_SRC) : (st->have[d] & H_DST))
		return NULL;
	t = d ? &st->r->f.reply : &st->r->f.orig;
	fam = hot_addr(p + 4, &q, end, src ? t->src : t->dst);
	if (!fam || (st->r->f.family && st->r->f.family != fam))
		return NULL;
	st->r->f.family = (uint8_t)fam;
	st->have[d] |= src ? H_SRC : H_DST;
	/* the kernel's %pI6 writes all 8 groups in full: /proc form */
	if (q - (p + 4) == 39)
		st->proc_hint = 1;
	return q;
}

/* A [TAG] token. */
static int tag_token(line_state *st, const char *tok, size_t n)
{
	if (tok_is(tok, n, "[ASSURED]"))
		st->r->f.flags |= CTP_F_ASSURED;
	else if (tok_is(tok, n, "[UNREPLIED]"))
		st->r->f.flags |= CTP_F_UNREPLIED;
	else if (tok_is(tok, n, "[OFFLOAD]"))
		st->r->f.flags |= CTP_F_OFFLOAD;
	else if (tok_is(tok, n, "[HW_OFFLOAD]"))
		st->r->f.flags |= CTP_F_HW_OFFLOAD;
	else
		return keep_other(st, tok, n);
	return 0;
}

/* -o ktimestamp: "[start=Thu Nov 26 18:32:10 2026]", spaces inside. */
static int stamp_token(line_state *st, const char **pp, const char *end)
{
	const char *p = *pp, *close = memchr(p, ']', (size_t)(end - p));
	int start = p[1] == 's' && p[2] == 't' && p[3] == 'a';
	const char *v = p + (start ? 7 : 6);
	int64_t t;

	if (!close)
		return fail_tok(st, p, (size_t)(end - p), "expected ']'");
	if (parse_ctime(v, close, &t))
		return fail_tok(st, p, (size_t)(close + 1 - p),
				"expected a ctime(3) date");
	if (start) {
		st->r->x.start = t;
		st->r->x.present |= CTP_X_START;
	} else {
		st->r->x.stop = t;
		st->r->x.present |= CTP_X_STOP;
	}
	*pp = close + 1;
	return 0;
}

static int check_tuple(line_state *st, int d, const char *end)
{
	unsigned h = st->have[d], need = H_SRC | H_DST;
	const char *what = d ? "reply" : "original";

	if (ctp_proto_has_ports(st->r->f.proto) || st->r->f.proto == CTP_P_GRE)
		need |= H_SPORT | H_DPORT;
	else if (ctp_proto_is_icmp(st->r->f.proto))
		need |= H_TYPE | H_CODE;
	if ((h & need) == need)
		return 0;
	return ctp_pctx_fail(st->ctx, (size_t)(end - st->line),
			     "incomplete %s tuple: missing '%s'", what,
			     !(h & H_SRC)     ? "src="
			     : !(h & H_DST)   ? "dst="
			     : !(h & H_SPORT) ? (st->r->f.proto == CTP_P_GRE
						     ? "srckey="
						     : "sport=")
			     : !(h & H_DPORT) ? (st->r->f.proto == CTP_P_GRE
						     ? "dstkey="
						     : "dport=")
			     : !(h & H_TYPE)  ? "type="
					      : "code=");
}

/* ctp_proto_lookup() with the two protocols of most lines first: it
 * runs once per line, and the table walk costs a strlen per row */
static int proto_lookup(const char *p, size_t n)
{
	if (n == 3 && p[1] == 'c' && p[0] == 't' && p[2] == 'p')
		return CTP_P_TCP;
	if (n == 3 && p[1] == 'd' && p[0] == 'u' && p[2] == 'p')
		return CTP_P_UDP;
	return ctp_proto_lookup(p, n);
}

/* ctp_state_lookup() with the two states of most TCP lines first */
static int state_lookup(uint8_t proto, const char *p, size_t n)
{
	if (proto == CTP_P_TCP && n == 11 && memcmp(p, "ESTABLISHED", 11) == 0)
		return CTP_TCP_ESTABLISHED;
	if (proto == CTP_P_TCP && n == 9 && memcmp(p, "TIME_WAIT", 9) == 0)
		return CTP_TCP_TIME_WAIT;
	return ctp_state_lookup(proto, p, n);
}

static int parse_header(line_state *st, const char **pp, const char *end)
{
	const char *p = *pp, *tok;
	size_t n;
	uint64_t x;
	int proto, event;

	p = skip_prefix(p, end, &event);
	st->r->f.event = (uint8_t)event;
	if (event)
		st->r->f.flags |= CTP_F_EVENT;
	tok = p;
	n = tok_len(p, end);
	if (tok_is(tok, n, "ipv4") || tok_is(tok, n, "ipv6")) {
		p += n;
		skip_blank(&p, end);
		const char *nt = p;
		size_t nn = tok_len(p, end);
		if (num(st, nt, nn, nt, nt + nn, 255, 0, &x))
			return CTP_EINPUT;
		if (x != (tok[3] == '4' ? CTP_AF_INET : CTP_AF_INET6))
			return fail_tok(st, nt, nn, "does not match the "
						    "l3 protocol name");
		st->r->f.family = (uint8_t)x;
		st->family_seen = 1;
		p += nn;
		skip_blank(&p, end);
		tok = p;
		n = tok_len(p, end);
	}
	proto = proto_lookup(tok, n);
	if (proto < 0 && !tok_is(tok, n, "unknown"))
		return fail_tok(st, tok, n, "expected a protocol name");
	p += n;
	skip_blank(&p, end);
	{
		const char *nt = p;
		size_t nn = tok_len(p, end);
		if (num(st, nt, nn, nt, nt + nn, 255, 0, &x))
			return CTP_EINPUT;
		if (proto >= 0 && x != (uint64_t)proto)
			return fail_tok(st, nt, nn, "does not match the "
						    "protocol name");
		if (proto < 0 && ctp_proto_lookup(ctp_proto_name((uint8_t)x),
						  strlen(ctp_proto_name(
							  (uint8_t)x))) >= 0)
			return fail_tok(st, nt, nn, "is a named protocol, "
						    "not 'unknown'");
		st->r->f.proto = (uint8_t)x;
		p += nn;
		skip_blank(&p, end);
	}
	/* timeout: absent for offloaded flows and DESTROY events */
	if (p < end && *p >= '0' && *p <= '9') {
		const char *nt = p;
		size_t nn = tok_len(p, end);
		if (num(st, nt, nn, nt, nt + nn, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->r->f.timeout = (uint32_t)x;
		st->r->f.flags |= CTP_F_HAS_TIMEOUT;
		p += nn;
		skip_blank(&p, end);
	} else if (end - p > 1 && *p == '-' && p[1] >= '0' && p[1] <= '9') {
		/* a negative timeout: no kernel prints one (an unsigned
		 * in ctnetlink); read as none, and said at commit */
		size_t nn = tok_len(p, end);
		st->r->warn = LIST_W_NEG_TIMEOUT;
		st->r->warn_col = (uint32_t)(p - st->line);
		st->r->warn_at = p;
		st->r->warn_len = (uint32_t)nn;
		p += nn;
		skip_blank(&p, end);
	}
	/* state: an upper-case word (the tuple starts with "src=") */
	n = tok_len(p, end);
	if (n && *p >= 'A' && *p <= 'Z' && !memchr(p, '=', n)) {
		int s = state_lookup(st->r->f.proto, p, n);
		if (s < 0)
			return fail_tok(st, p, n, "unknown state for this "
						  "protocol");
		st->r->f.state = (uint8_t)s;
		p += n;
		skip_blank(&p, end);
	}
	*pp = p;
	return 0;
}

int ctp_list_parse(ctp_pctx *ctx, const char *s, size_t len,
		   ctp_list_rec *rec, char *other)
{
	const char *p = s, *end = s + len;
	line_state st;
	int rc;

	/* a NUL inside a line is damage, not text (the reader passes it) */
	{
		const char *nul = memchr(s, '\0', len);
		if (nul)
			return ctp_pctx_fail(ctx, (size_t)(nul - s),
					     "unexpected NUL byte");
	}
	/* field by field: one memset of the whole record compiles to a
	 * "rep stos" that costs more than the fields' stores */
	memset(&rec->f, 0, sizeof(rec->f));
	memset(&rec->x, 0, sizeof(rec->x));
	memset(rec->str_len, 0, sizeof(rec->str_len));
	rec->fmt = 0;
	rec->free_text = 0;
	rec->warn = LIST_W_NONE;
	rec->f.extra = CTP_NO_EXTRA;
	rec->f.input = ctx->input;
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.line = s;
	st.r = rec;
	st.other = other;
	if ((rc = parse_header(&st, &p, end)))
		return rc;
	while (p < end) {
		const char *tok = p, *eq = NULL, *q;
		size_t n;

		if ((q = hot_token(&st, p, end))) {
			p = q;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			continue;
		}
		/* the token and its first '=' in one pass */
		while (p < end && *p != ' ' && *p != '\t') {
			if (*p == '=' && !eq)
				eq = p;
			p++;
		}
		n = (size_t)(p - tok);
		if (*tok == '[' && end - tok > 7 &&
		    (memcmp(tok, "[start=", 7) == 0 ||
		     memcmp(tok, "[stop=", 6) == 0)) {
			p = tok;
			if ((rc = stamp_token(&st, &p, end)))
				return rc;
		} else if (*tok == '[') {
			if ((rc = tag_token(&st, tok, n)))
				return rc;
		} else if (eq) {
			if ((rc = kv_token(&st, tok, n, eq)))
				return rc;
		} else {
			/* vendor words such as "slan"; keep them */
			keep_other(&st, tok, n);
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if ((rc = check_tuple(&st, 0, end)) || (rc = check_tuple(&st, 1, end)))
		return rc;
	if (st.other_len) {
		rec->str[CTP_LIST_S_OTHER] = other;
		rec->str_len[CTP_LIST_S_OTHER] = (uint32_t)st.other_len;
		rec->x.present |= CTP_X_OTHER;
	}
	rec->fmt = rec->f.event ? CTP_FMT_EVENTS
		   : !st.family_seen ? CTP_FMT_LIST
		   : st.proc_hint    ? CTP_FMT_PROC
				     : CTP_FMT_LIST_EXT;
	return 0;
}

int ctp_list_commit(ctp_pctx *ctx, const ctp_list_rec *rec)
{
	static const unsigned bits[CTP_LIST_S_COUNT] = {
		CTP_X_HELPER, CTP_X_SECCTX, CTP_X_LABELS, CTP_X_OTHER,
	};
	ctp_flow_extra x;
	const ctp_flow_extra *xp = NULL;

	if (rec->warn == LIST_W_NEG_TIMEOUT)
		ctp_pctx_warn(ctx, rec->warn_col,
			      "negative timeout '%.*s': read as none (the "
			      "kernel's timeout is unsigned)",
			      (int)(rec->warn_len > 20 ? 20 : rec->warn_len),
			      rec->warn_at);
	else if (rec->warn == LIST_W_REPEAT)
		ctp_pctx_warn(ctx, rec->warn_col,
			      "'%.*s=' given twice in one entry: the last "
			      "value is used",
			      (int)(rec->warn_len > 20 ? 20 : rec->warn_len),
			      rec->warn_at);
	if (rec->x.present) {
		uint32_t *field[CTP_LIST_S_COUNT] = { &x.helper, &x.secctx,
						      &x.labels, &x.other };
		x = rec->x;
		for (int i = 0; i < CTP_LIST_S_COUNT; i++) {
			size_t n = rec->str_len[i];
			if (!(x.present & bits[i]))
				continue;
			*field[i] = ctp_snapshot_intern(ctx->snap, rec->str[i],
							n);
			/* an unknown tokens string that found no room is
			 * dropped quietly, as it always was */
			if (n && !*field[i] && i != CTP_LIST_S_OTHER)
				return ctp_pctx_fail(ctx, 0, "out of memory");
		}
		xp = &x;
	}
	if (ctp_snapshot_add_flow(ctx->snap, &rec->f, xp))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	{
		ctp_input_info *in = ctp_snapshot_input_mut(ctx->snap,
							    ctx->input);
		if (in)
			in->formats |= rec->fmt;
	}
	return CTP_LINE_RECORD;
}

int ctp_list_line(ctp_pctx *ctx, const char *s, size_t len)
{
	ctp_list_rec rec;
	char other[CTP_LIST_OTHER_MAX];
	int rc = ctp_list_parse(ctx, s, len, &rec, other);

	if (rc)
		return rc;
	return ctp_list_commit(ctx, &rec);
}
