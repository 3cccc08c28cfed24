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
 * regular expressions, every byte looked at about once.
 */
#include <stdlib.h>
#include <string.h>

#include "ctplan/flow.h"
#include "cursor.h"
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

/* MUST be sorted by name (bsearch). */
static const struct key_def {
	const char *name;
	enum key_id id;
} keys[] = {
	{ "bytes", K_BYTES },	    { "code", K_CODE },
	{ "delta-time", K_DELTA },  { "dport", K_DPORT },
	{ "dst", K_DST },	    { "dstkey", K_DSTKEY },
	{ "helper", K_HELPER },	    { "id", K_ID },
	{ "labels", K_LABELS },	    { "mark", K_MARK },
	{ "packets", K_PACKETS },   { "secctx", K_SECCTX },
	{ "secmark", K_SECMARK },   { "sport", K_SPORT },
	{ "src", K_SRC },	    { "srckey", K_SRCKEY },
	{ "type", K_TYPE },	    { "use", K_USE },
	{ "zone", K_ZONE },	    { "zone-orig", K_ZONE_ORIG },
	{ "zone-reply", K_ZONE_REPLY },
};

static const struct key_def *find_key(const char *s, size_t n)
{
	size_t lo = 0, hi = sizeof(keys) / sizeof(keys[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *k = keys[mid].name;
		size_t kl = strlen(k);
		int c = memcmp(k, s, kl < n ? kl : n);
		if (c == 0)
			c = kl < n ? -1 : kl > n;
		if (c == 0)
			return &keys[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
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
	ctp_cur_blank(&p, end);
	if (p < end && *p == '[' && end - p > 1 && p[1] >= '0' &&
	    p[1] <= '9') {
		const char *q = memchr(p, ']', (size_t)(end - p));
		if (q) {
			p = q + 1;
			ctp_cur_blank(&p, end);
		}
	}
	for (int i = 1; i <= 3; i++) {
		size_t n = strlen(event_tags[i]);
		if ((size_t)(end - p) >= n && memcmp(p, event_tags[i], n) == 0) {
			*event = i;
			p += n;
			ctp_cur_blank(&p, end);
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
	n = ctp_cur_toklen(p, end);
	if (!is_word(p, n))
		return 0;
	if (tok_is(p, n, "ipv4") || tok_is(p, n, "ipv6")) {
		p += n;
		ctp_cur_blank(&p, end);
		if (p >= end || *p < '0' || *p > '9')
			return 0;
		p += ctp_cur_toklen(p, end);
		ctp_cur_blank(&p, end);
		n = ctp_cur_toklen(p, end);
	}
	if (ctp_proto_lookup(p, n) < 0 && !tok_is(p, n, "unknown"))
		return 0;
	p += n;
	if (p >= end || (*p != ' ' && *p != '\t'))
		return 0;
	ctp_cur_blank(&p, end);
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
	ctp_cur_blank(&p, end);
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
	ctp_flow f;
	ctp_flow_extra x;
	unsigned have[2];
	int dir;
	int family_seen;
	int proc_hint; /* printed as only /proc/net/nf_conntrack does */
	/* unknown tokens, copied for the "other" string */
	char other[512];
	size_t other_len;
} line_state;

static int fail_tok(line_state *st, const char *tok, size_t n,
		    const char *why)
{
	return ctp_pctx_fail(st->ctx, (size_t)(tok - st->line),
			     "cannot parse '%.*s': %s", (int)(n > 60 ? 60 : n),
			     tok, why);
}

static int num(line_state *st, const char *tok, size_t n, const char *v,
	       const char *end, uint64_t max, int hex, uint64_t *out)
{
	const char *p = v;
	int rc = hex ? ctp_cur_hex(&p, end, max, out)
		     : ctp_cur_u64(&p, end, max, out);

	if (rc == CTP_NUM_RANGE)
		return fail_tok(st, tok, n, "number out of range");
	if (rc || p != end)
		return fail_tok(st, tok, n, hex ? "expected a hex number"
						: "expected a number");
	return 0;
}

static int keep_other(line_state *st, const char *tok, size_t n)
{
	if (st->other_len + n + 1 >= sizeof(st->other))
		return 0; /* absurdly many vendor tokens: keep the first */
	if (st->other_len)
		st->other[st->other_len++] = ' ';
	memcpy(st->other + st->other_len, tok, n);
	st->other_len += n;
	return 0;
}

static int set_addr(line_state *st, const char *tok, size_t n,
		    const char *v, size_t vn, uint8_t out[16], unsigned bit)
{
	int fam = ctp_parse_addr(v, vn, out);

	if (!fam)
		return fail_tok(st, tok, n, "expected an IPv4 or IPv6 address");
	if (st->f.family && st->f.family != fam)
		return fail_tok(st, tok, n, "address family differs from the "
					    "rest of the line");
	st->f.family = (uint8_t)fam;
	st->have[st->dir] |= bit;
	/* the kernel's %pI6 writes all 8 groups in full: /proc form */
	if (vn == 39)
		st->proc_hint = 1;
	return 0;
}

static int set_str(line_state *st, uint32_t *field, unsigned bit,
		   const char *v, size_t vn)
{
	*field = ctp_snapshot_intern(st->ctx->snap, v, vn);
	if (vn && !*field)
		return ctp_pctx_fail(st->ctx, 0, "out of memory");
	st->x.present |= (uint16_t)bit;
	return 0;
}

/* One key=value token after the header. */
static int kv_token(line_state *st, const char *tok, size_t n)
{
	const char *eq = memchr(tok, '=', n), *end = tok + n, *v;
	const struct key_def *k;
	ctp_tuple *t;
	uint64_t x;
	int d;

	k = find_key(tok, (size_t)(eq - tok));
	if (!k)
		return keep_other(st, tok, n);
	v = eq + 1;
	if (k->id == K_SRC && (st->have[0] & H_SRC))
		st->dir = 1;
	d = st->dir;
	t = d ? &st->f.reply : &st->f.orig;
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
		if (k->id == K_ID && !ctp_proto_is_icmp(st->f.proto)) {
			/* -o id: the entry's id, after use= */
			if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
				return CTP_EINPUT;
			st->x.id = (uint32_t)x;
			st->x.present |= CTP_X_ID;
			return 0;
		}
		if (k->id == K_ID && (st->have[d] & H_ID)) {
			/* icmp: id= after the tuples is the entry's id */
			if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
				return CTP_EINPUT;
			st->x.id = (uint32_t)x;
			st->x.present |= CTP_X_ID;
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
			st->x.packets[d] = x;
		else
			st->x.bytes[d] = x;
		st->x.present |= CTP_X_COUNTERS;
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
			st->f.zone = (uint16_t)x;
			st->f.flags |= CTP_F_HAS_ZONE;
		} else if (k->id == K_ZONE_ORIG) {
			st->x.zone_orig = (uint16_t)x;
			st->x.present |= CTP_X_ZONE_ORIG;
		} else {
			st->x.zone_reply = (uint16_t)x;
			st->x.present |= CTP_X_ZONE_REPLY;
		}
		return 0;
	case K_MARK:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->f.mark = (uint32_t)x;
		st->f.flags |= CTP_F_HAS_MARK;
		return 0;
	case K_SECMARK:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->x.secmark = (uint32_t)x;
		st->x.present |= CTP_X_SECMARK;
		return 0;
	case K_DELTA:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->x.delta_time = (uint32_t)x;
		st->x.present |= CTP_X_DELTA;
		return 0;
	case K_USE:
		if (num(st, tok, n, v, end, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->f.use = x > UINT16_MAX ? UINT16_MAX : (uint16_t)x;
		st->f.flags |= CTP_F_HAS_USE;
		return 0;
	case K_HELPER:
		return set_str(st, &st->x.helper, CTP_X_HELPER, v,
			       (size_t)(end - v));
	case K_SECCTX:
		return set_str(st, &st->x.secctx, CTP_X_SECCTX, v,
			       (size_t)(end - v));
	case K_LABELS:
		return set_str(st, &st->x.labels, CTP_X_LABELS, v,
			       (size_t)(end - v));
	}
	return keep_other(st, tok, n);
}

/* A [TAG] token. */
static int tag_token(line_state *st, const char *tok, size_t n)
{
	if (tok_is(tok, n, "[ASSURED]"))
		st->f.flags |= CTP_F_ASSURED;
	else if (tok_is(tok, n, "[UNREPLIED]"))
		st->f.flags |= CTP_F_UNREPLIED;
	else if (tok_is(tok, n, "[OFFLOAD]"))
		st->f.flags |= CTP_F_OFFLOAD;
	else if (tok_is(tok, n, "[HW_OFFLOAD]"))
		st->f.flags |= CTP_F_HW_OFFLOAD;
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
		st->x.start = t;
		st->x.present |= CTP_X_START;
	} else {
		st->x.stop = t;
		st->x.present |= CTP_X_STOP;
	}
	*pp = close + 1;
	return 0;
}

static int check_tuple(line_state *st, int d, const char *end)
{
	unsigned h = st->have[d], need = H_SRC | H_DST;
	const char *what = d ? "reply" : "original";

	if (ctp_proto_has_ports(st->f.proto) || st->f.proto == CTP_P_GRE)
		need |= H_SPORT | H_DPORT;
	else if (ctp_proto_is_icmp(st->f.proto))
		need |= H_TYPE | H_CODE;
	if ((h & need) == need)
		return 0;
	return ctp_pctx_fail(st->ctx, (size_t)(end - st->line),
			     "incomplete %s tuple: missing '%s'", what,
			     !(h & H_SRC)     ? "src="
			     : !(h & H_DST)   ? "dst="
			     : !(h & H_SPORT) ? (st->f.proto == CTP_P_GRE
						     ? "srckey="
						     : "sport=")
			     : !(h & H_DPORT) ? (st->f.proto == CTP_P_GRE
						     ? "dstkey="
						     : "dport=")
			     : !(h & H_TYPE)  ? "type="
					      : "code=");
}

static int parse_header(line_state *st, const char **pp, const char *end)
{
	const char *p = *pp, *tok;
	size_t n;
	uint64_t x;
	int proto, event;

	p = skip_prefix(p, end, &event);
	st->f.event = (uint8_t)event;
	if (event)
		st->f.flags |= CTP_F_EVENT;
	tok = p;
	n = ctp_cur_toklen(p, end);
	if (tok_is(tok, n, "ipv4") || tok_is(tok, n, "ipv6")) {
		p += n;
		ctp_cur_blank(&p, end);
		const char *nt = p;
		size_t nn = ctp_cur_toklen(p, end);
		if (num(st, nt, nn, nt, nt + nn, 255, 0, &x))
			return CTP_EINPUT;
		if (x != (tok[3] == '4' ? CTP_AF_INET : CTP_AF_INET6))
			return fail_tok(st, nt, nn, "does not match the "
						    "l3 protocol name");
		st->f.family = (uint8_t)x;
		st->family_seen = 1;
		p += nn;
		ctp_cur_blank(&p, end);
		tok = p;
		n = ctp_cur_toklen(p, end);
	}
	proto = ctp_proto_lookup(tok, n);
	if (proto < 0 && !tok_is(tok, n, "unknown"))
		return fail_tok(st, tok, n, "expected a protocol name");
	p += n;
	ctp_cur_blank(&p, end);
	{
		const char *nt = p;
		size_t nn = ctp_cur_toklen(p, end);
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
		st->f.proto = (uint8_t)x;
		p += nn;
		ctp_cur_blank(&p, end);
	}
	/* timeout: absent for offloaded flows and DESTROY events */
	if (p < end && *p >= '0' && *p <= '9') {
		const char *nt = p;
		size_t nn = ctp_cur_toklen(p, end);
		if (num(st, nt, nn, nt, nt + nn, UINT32_MAX, 0, &x))
			return CTP_EINPUT;
		st->f.timeout = (uint32_t)x;
		st->f.flags |= CTP_F_HAS_TIMEOUT;
		p += nn;
		ctp_cur_blank(&p, end);
	}
	/* state: an upper-case word (the tuple starts with "src=") */
	n = ctp_cur_toklen(p, end);
	if (n && *p >= 'A' && *p <= 'Z' && !memchr(p, '=', n)) {
		int s = ctp_state_lookup(st->f.proto, p, n);
		if (s < 0)
			return fail_tok(st, p, n, "unknown state for this "
						  "protocol");
		st->f.state = (uint8_t)s;
		p += n;
		ctp_cur_blank(&p, end);
	}
	*pp = p;
	return 0;
}

int ctp_list_line(ctp_pctx *ctx, const char *s, size_t len)
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
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.line = s;
	if ((rc = parse_header(&st, &p, end)))
		return rc;
	while (p < end) {
		const char *tok = p;
		size_t n = ctp_cur_toklen(p, end);

		if (*p == '[' && end - p > 7 &&
		    (memcmp(p, "[start=", 7) == 0 ||
		     memcmp(p, "[stop=", 6) == 0)) {
			if ((rc = stamp_token(&st, &p, end)))
				return rc;
		} else if (*p == '[') {
			if ((rc = tag_token(&st, tok, n)))
				return rc;
			p += n;
		} else if (memchr(tok, '=', n)) {
			if ((rc = kv_token(&st, tok, n)))
				return rc;
			p += n;
		} else {
			/* vendor words such as "slan"; keep them */
			keep_other(&st, tok, n);
			p += n;
		}
		ctp_cur_blank(&p, end);
	}
	if ((rc = check_tuple(&st, 0, end)) || (rc = check_tuple(&st, 1, end)))
		return rc;
	if (st.other_len) {
		st.x.other = ctp_snapshot_intern(ctx->snap, st.other,
						 st.other_len);
		st.x.present |= CTP_X_OTHER;
	}
	st.f.input = ctx->input;
	if (ctp_snapshot_add_flow(ctx->snap, &st.f, &st.x))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	{
		ctp_input_info *in = ctp_snapshot_input_mut(ctx->snap,
							    ctx->input);
		if (in)
			in->formats |= st.f.event ? CTP_FMT_EVENTS
				       : !st.family_seen ? CTP_FMT_LIST
				       : st.proc_hint	? CTP_FMT_PROC
							: CTP_FMT_LIST_EXT;
	}
	return CTP_LINE_RECORD;
}
