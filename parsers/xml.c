/*
 * conntrack -L -o xml (and -E -o xml): one <flow> element per line.
 *
 * Printing rules: libnetfilter_conntrack src/conntrack/snprintf_xml.c
 * (1.0.6 - 1.0.9; the element set was checked against the strings of the
 * Debian 12 build of 1.0.9) and conntrack-tools src/conntrack.c (1.4.7),
 * which writes '<?xml version="1.0" encoding="utf-8"?>' and '<conntrack>'
 * on lines of their own before the first entry, and '</conntrack>' after
 * the last (nothing at all for an empty table):
 *
 *   <flow [type="new|update|destroy"]>
 *     <meta direction="original">
 *       <layer3 protonum="2" protoname="ipv4"><src/><dst/></layer3>
 *       <layer4 protonum="6" protoname="tcp">
 *         [<sport/><dport/> | <srckey>0x..</srckey><dstkey/>]</layer4>
 *       [<zone/>] [<counters><packets/><bytes/></counters>]
 *     </meta>
 *     <meta direction="reply"> ... the same ... </meta>
 *     [<meta direction="independent"> [<state/>] [<timeout/>] [<mark/>]
 *       [<labels><label/>...</labels>] [<secmark/>] [<secctx/>]
 *       [<zone/>] [<use/>] [<id/>] [<assured/>] [<unreplied/>]
 *       [<timestamp>[<start/>][<stop/>]</timestamp>] [<deltatime/>]
 *     </meta>]
 *     [<when><hour/>...<year/></when>] [<helper/>]
 *   </flow>
 *
 * Versions: 1.0.3 and older print neither <labels> nor the per-direction
 * <zone>; both are optional here.  Quirks that shape the record:
 * - ICMP type, code and id are never printed: icmp and icmpv6 flows get
 *   CTP_F_NO_ICMP and zeros there, so the snapshot can match them with
 *   other dumps of the same table on the addresses alone;
 * - <state> of an sctp or dccp flow is the TCP state name with the same
 *   index (the library looks every state up in its TCP table), so the
 *   index is mapped back to the protocol's own state: "FIN_WAIT" (TCP 4)
 *   on an sctp flow is SCTP state 4, ESTABLISHED;
 * - <id> is printed whether or not -o id was asked for;
 * - <start>/<stop> (-o xml,ktimestamp) are nanoseconds; kept as seconds;
 * - <deltatime> is printed whenever the timestamp extension is on;
 * - <when> (-E -o xml,timestamp) is the printing host's local wall time
 *   of the event, not of the flow: it is checked, not kept;
 * - text (secctx, helper, label names) is printed raw, without XML
 *   escaping, so it is taken raw and no entity is decoded;
 * - -E prints " [USERSPACE] portid=N progname=X" after "</flow>" for
 *   changes made by a program; that tail goes to the "other" string.
 * Elements not listed here are kept verbatim in the flow's "other"
 * string, as list.c does with unknown tokens, so a newer library's
 * additions are not lost and do not reject the line.
 *
 * One line is scanned once, left to right, by a small recursive-descent
 * reader that never looks past len: no XML library, no allocation.
 */
#include <string.h>

#include "ctplan/flow.h"
#include "cursor.h"
#include "parsers.h"

/* The sctp/dccp state mapping relies on three runs of ten states. */
_Static_assert(CTP_TCP_SYN_SENT2 - CTP_TCP_NONE == 9, "tcp states");
_Static_assert(CTP_SCTP_HEARTBEAT_ACKED - CTP_SCTP_NONE == 9, "sctp states");
_Static_assert(CTP_DCCP_INVALID - CTP_DCCP_NONE == 9, "dccp states");

/* where an element may appear: the kind of its parent */
enum {
	W_FLOW = 1u << 0,
	W_DIR = 1u << 1, /* <meta direction="original|reply"> */
	W_IND = 1u << 2, /* <meta direction="independent"> */
	W_L3 = 1u << 3,
	W_L4 = 1u << 4,
	W_COUNTERS = 1u << 5,
	W_LABELS = 1u << 6,
	W_TSTAMP = 1u << 7,
	W_WHEN = 1u << 8,
};

enum kind {
	K_BOX,  /* holds other elements */
	K_FLAG, /* empty: <assured/> */
	K_NUM,  /* decimal text */
	K_HEX,  /* 0x... text */
	K_ADDR, /* address text */
	K_TEXT, /* anything up to the next '<' */
};

enum el_id {
	E_ASSURED,
	E_BYTES,
	E_COUNTERS,
	E_DAY,
	E_DELTATIME,
	E_DPORT,
	E_DST,
	E_DSTKEY,
	E_HELPER,
	E_HOUR,
	E_ID,
	E_LABEL,
	E_LABELS,
	E_LAYER3,
	E_LAYER4,
	E_MARK,
	E_META,
	E_MIN,
	E_MONTH,
	E_PACKETS,
	E_SEC,
	E_SECCTX,
	E_SECMARK,
	E_SPORT,
	E_SRC,
	E_SRCKEY,
	E_START,
	E_STATE,
	E_STOP,
	E_TIMEOUT,
	E_TIMESTAMP,
	E_UNREPLIED,
	E_USE,
	E_WDAY,
	E_WHEN,
	E_YEAR,
	E_ZONE,
};

/* MUST be sorted by name (bsearch). */
static const struct el_def {
	const char *name;
	enum el_id id;
	enum kind kind;
	unsigned where; /* W_* of the parents it may have */
	unsigned inner; /* for a box: W_* its children see (meta: 0) */
	uint64_t max;   /* for a number */
} els[] = {
	{ "assured", E_ASSURED, K_FLAG, W_IND, 0, 0 },
	{ "bytes", E_BYTES, K_NUM, W_COUNTERS, 0, UINT64_MAX },
	{ "counters", E_COUNTERS, K_BOX, W_DIR, W_COUNTERS, 0 },
	{ "day", E_DAY, K_NUM, W_WHEN, 0, 31 },
	{ "deltatime", E_DELTATIME, K_NUM, W_IND, 0, UINT32_MAX },
	{ "dport", E_DPORT, K_NUM, W_L4, 0, UINT16_MAX },
	{ "dst", E_DST, K_ADDR, W_L3, 0, 0 },
	{ "dstkey", E_DSTKEY, K_HEX, W_L4, 0, UINT16_MAX },
	{ "helper", E_HELPER, K_TEXT, W_FLOW, 0, 0 },
	{ "hour", E_HOUR, K_NUM, W_WHEN, 0, 23 },
	{ "id", E_ID, K_NUM, W_IND, 0, UINT32_MAX },
	{ "label", E_LABEL, K_TEXT, W_LABELS, 0, 0 },
	{ "labels", E_LABELS, K_BOX, W_IND, W_LABELS, 0 },
	{ "layer3", E_LAYER3, K_BOX, W_DIR, W_L3, 0 },
	{ "layer4", E_LAYER4, K_BOX, W_DIR, W_L4, 0 },
	{ "mark", E_MARK, K_NUM, W_IND, 0, UINT32_MAX },
	{ "meta", E_META, K_BOX, W_FLOW, 0, 0 },
	{ "min", E_MIN, K_NUM, W_WHEN, 0, 59 },
	{ "month", E_MONTH, K_NUM, W_WHEN, 0, 12 },
	{ "packets", E_PACKETS, K_NUM, W_COUNTERS, 0, UINT64_MAX },
	{ "sec", E_SEC, K_NUM, W_WHEN, 0, 60 },
	{ "secctx", E_SECCTX, K_TEXT, W_IND, 0, 0 },
	{ "secmark", E_SECMARK, K_NUM, W_IND, 0, UINT32_MAX },
	{ "sport", E_SPORT, K_NUM, W_L4, 0, UINT16_MAX },
	{ "src", E_SRC, K_ADDR, W_L3, 0, 0 },
	{ "srckey", E_SRCKEY, K_HEX, W_L4, 0, UINT16_MAX },
	{ "start", E_START, K_NUM, W_TSTAMP, 0, UINT64_MAX },
	{ "state", E_STATE, K_TEXT, W_IND, 0, 0 },
	{ "stop", E_STOP, K_NUM, W_TSTAMP, 0, UINT64_MAX },
	{ "timeout", E_TIMEOUT, K_NUM, W_IND, 0, UINT32_MAX },
	{ "timestamp", E_TIMESTAMP, K_BOX, W_IND, W_TSTAMP, 0 },
	{ "unreplied", E_UNREPLIED, K_FLAG, W_IND, 0, 0 },
	{ "use", E_USE, K_NUM, W_IND, 0, UINT32_MAX },
	{ "wday", E_WDAY, K_NUM, W_WHEN, 0, 7 },
	{ "when", E_WHEN, K_BOX, W_FLOW, W_WHEN, 0 },
	{ "year", E_YEAR, K_NUM, W_WHEN, 0, 9999 },
	{ "zone", E_ZONE, K_NUM, W_DIR | W_IND, 0, UINT16_MAX },
};

static const struct el_def *find_el(const char *s, size_t n)
{
	size_t lo = 0, hi = sizeof(els) / sizeof(els[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *k = els[mid].name;
		size_t kl = strlen(k);
		int c = memcmp(k, s, kl < n ? kl : n);
		if (c == 0)
			c = kl < n ? -1 : kl > n;
		if (c == 0)
			return &els[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Unknown elements may nest this deep (known ones: meta, layer3, src). */
#define XML_MAX_DEPTH 8

/* directions, as an index of seen[] */
enum { D_ORIG, D_REPLY, D_IND, D_FLOW };

/* what a tuple has shown so far */
enum {
	H_L3 = 1u << 0,
	H_L4 = 1u << 1,
	H_SRC = 1u << 2,
	H_DST = 1u << 3,
	H_SPORT = 1u << 4,
	H_DPORT = 1u << 5,
};

typedef struct xtag {
	const char *at;   /* its '<' */
	const char *name;
	size_t nlen;
	const char *attr; /* between the name and '>' (or '/>') */
	size_t alen;
	int close;        /* </name> */
	int empty;        /* <name/> */
} xtag;

typedef struct xml_state {
	ctp_pctx *ctx;
	const char *line, *end, *p;
	ctp_flow f;
	ctp_flow_extra x;
	int dir;              /* D_* of the elements being read */
	uint64_t seen[4];     /* el_id bits met, per direction */
	unsigned metas;       /* 1u << D_* of the <meta> met */
	unsigned have[2];     /* H_* per tuple */
	uint8_t proto[2];
	const char *state;    /* <state> text, mapped once proto is known */
	size_t state_len;
	const char *last_close; /* '<' of the end tag that closed a box */
	char labels[1024];
	size_t labels_len;
	char other[512];      /* unknown elements, as read */
	size_t other_len;
} xml_state;

static size_t col(const xml_state *st, const char *at)
{
	return (size_t)(at - st->line);
}


static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == ':';
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static int keep_other(xml_state *st, const char *s, size_t n)
{
	if (st->other_len + n + 1 >= sizeof(st->other))
		return 0; /* absurdly many unknown elements: keep the first */
	if (st->other_len)
		st->other[st->other_len++] = ' ';
	memcpy(st->other + st->other_len, s, n);
	st->other_len += n;
	return 0;
}

/* Read the tag at st->p ('<' expected) and step past its '>'. */
static int read_tag(xml_state *st, xtag *t)
{
	const char *p = st->p, *end = st->end, *gt;

	memset(t, 0, sizeof(*t));
	if (p >= end || *p != '<')
		return ctp_pctx_fail(st->ctx, col(st, p), "expected '<'");
	t->at = p++;
	if (p < end && *p == '/') {
		t->close = 1;
		p++;
	}
	t->name = p;
	while (p < end && name_char(*p))
		p++;
	t->nlen = (size_t)(p - t->name);
	if (!t->nlen)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "expected an element name after '<'");
	gt = memchr(p, '>', (size_t)(end - p));
	if (!gt)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "expected '>' after '<%s%.*s'",
				     t->close ? "/" : "", ctp_cur_clip(t->nlen),
				     t->name);
	t->attr = p;
	t->alen = (size_t)(gt - p);
	if (t->alen && gt[-1] == '/') {
		t->empty = 1;
		t->alen--;
	}
	if ((t->alen && !blank(*p)) || memchr(p, '<', t->alen) ||
	    (t->close && (t->empty || t->alen)))
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "malformed tag '%.*s'",
				     ctp_cur_clip((size_t)(gt + 1 - t->at)), t->at);
	st->p = gt + 1;
	return 0;
}

/*
 * Value of attribute name="..." of a start tag: 1 if present, 0 if not,
 * -1 if the attributes are malformed.
 */
static int attr_get(const xtag *t, const char *name, const char **v,
		    size_t *vn)
{
	const char *p = t->attr, *end = t->attr + t->alen;
	size_t nl = strlen(name);

	for (;;) {
		const char *k, *q;
		size_t kn;

		while (p < end && blank(*p))
			p++;
		if (p >= end)
			return 0;
		k = p;
		while (p < end && name_char(*p))
			p++;
		kn = (size_t)(p - k);
		if (!kn || end - p < 2 || p[0] != '=' || p[1] != '"')
			return -1;
		p += 2;
		q = memchr(p, '"', (size_t)(end - p));
		if (!q || (q + 1 < end && !blank(q[1])))
			return -1;
		if (kn == nl && memcmp(k, name, nl) == 0) {
			*v = p;
			*vn = (size_t)(q - p);
			return 1;
		}
		p = q + 1;
	}
}

static int bad_attrs(xml_state *st, const xtag *t)
{
	return ctp_pctx_fail(st->ctx, col(st, t->at),
			     "malformed attributes in '<%.*s'", ctp_cur_clip(t->nlen),
			     t->name);
}

/* A required attribute holding a number <= max. */
static int attr_num(xml_state *st, const xtag *t, const char *name,
		    uint64_t max, uint64_t *out)
{
	const char *v, *q;
	size_t vn;
	int rc = attr_get(t, name, &v, &vn);

	if (rc < 0)
		return bad_attrs(st, t);
	if (!rc)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "missing attribute '%s' in '<%.*s>'",
				     name, ctp_cur_clip(t->nlen), t->name);
	q = v;
	rc = ctp_cur_u64(&q, v + vn, max, out);
	if (rc == CTP_NUM_RANGE)
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "cannot parse '%s=\"%.*s\"': number out "
				     "of range", name, ctp_cur_clip(vn), v);
	if (rc || q != v + vn)
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "cannot parse '%s=\"%.*s\"': expected a "
				     "number", name, ctp_cur_clip(vn), v);
	return 0;
}


/* <layer3 protonum="2" protoname="ipv4"> */
static int open_layer3(xml_state *st, const xtag *t)
{
	const char *v;
	size_t vn;
	uint64_t num;
	int rc;

	if (attr_num(st, t, "protonum", 255, &num))
		return CTP_EINPUT;
	if (num != CTP_AF_INET && num != CTP_AF_INET6)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "unsupported layer3 protocol '%u'",
				     (unsigned)num);
	rc = attr_get(t, "protoname", &v, &vn);
	if (rc < 0)
		return bad_attrs(st, t);
	if (rc && !ctp_cur_is(v, vn, ctp_family_name((uint8_t)num)))
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "layer3 name '%.*s' does not match "
				     "protonum '%u'", ctp_cur_clip(vn), v,
				     (unsigned)num);
	if (st->f.family && st->f.family != num)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "address family differs from the "
				     "original tuple");
	st->f.family = (uint8_t)num;
	st->have[st->dir] |= H_L3;
	return 0;
}

/* <layer4 protonum="6" protoname="tcp"> */
static int open_layer4(xml_state *st, const xtag *t)
{
	const char *v;
	size_t vn;
	uint64_t num;
	int rc;

	if (attr_num(st, t, "protonum", 255, &num))
		return CTP_EINPUT;
	rc = attr_get(t, "protoname", &v, &vn);
	if (rc < 0)
		return bad_attrs(st, t);
	if (rc && !ctp_cur_is(v, vn, ctp_proto_name((uint8_t)num))) {
		if (ctp_proto_lookup(v, vn) < 0 && !ctp_cur_is(v, vn, "unknown"))
			return ctp_pctx_fail(st->ctx, col(st, v),
					     "unknown protocol '%.*s'",
					     ctp_cur_clip(vn), v);
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "protocol name '%.*s' does not match "
				     "protonum '%u'", ctp_cur_clip(vn), v,
				     (unsigned)num);
	}
	if (st->dir == D_REPLY && (st->have[D_ORIG] & H_L4) &&
	    st->proto[D_ORIG] != num)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "protocol differs from the original "
				     "tuple");
	st->proto[st->dir] = (uint8_t)num;
	st->have[st->dir] |= H_L4;
	return 0;
}

/* <meta direction="..."> */
static int open_meta(xml_state *st, const xtag *t, unsigned *inner)
{
	static const char *const dirs[] = { "original", "reply",
					    "independent" };
	const char *v;
	size_t vn;
	int rc = attr_get(t, "direction", &v, &vn), d;

	if (rc < 0)
		return bad_attrs(st, t);
	if (!rc)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "missing attribute 'direction' in "
				     "'<meta>'");
	for (d = D_ORIG; d <= D_IND; d++)
		if (ctp_cur_is(v, vn, dirs[d]))
			break;
	if (d > D_IND)
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "unknown direction '%.*s'", ctp_cur_clip(vn), v);
	if (st->metas & (1u << d))
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "duplicate '<meta direction=\"%s\">'",
				     dirs[d]);
	st->metas |= 1u << d;
	st->dir = d;
	*inner = d == D_IND ? W_IND : W_DIR;
	return 0;
}

/* at: where the meta ends, for the column of an error */
static int close_meta(xml_state *st, const char *at)
{
	unsigned h, need = H_L3 | H_L4 | H_SRC | H_DST;
	int d = st->dir;

	st->dir = D_FLOW;
	if (d == D_IND)
		return 0;
	h = st->have[d];
	if ((h & H_L4) && (ctp_proto_has_ports(st->proto[d]) ||
			   st->proto[d] == CTP_P_GRE))
		need |= H_SPORT | H_DPORT;
	if ((h & need) == need)
		return 0;
	return ctp_pctx_fail(st->ctx, col(st, at),
			     "incomplete %s tuple: missing '%s'",
			     d ? "reply" : "original",
			     !(h & H_L3)      ? "<layer3>"
			     : !(h & H_SRC)   ? "<src>"
			     : !(h & H_DST)   ? "<dst>"
			     : !(h & H_L4)    ? "<layer4>"
			     : !(h & H_SPORT) ? (st->proto[d] == CTP_P_GRE
						     ? "<srckey>"
						     : "<sport>")
					      : (st->proto[d] == CTP_P_GRE
						     ? "<dstkey>"
						     : "<dport>"));
}

static int fail_val(xml_state *st, const xtag *t, const char *v, size_t vn,
		    const char *why)
{
	return ctp_pctx_fail(st->ctx, col(st, v),
			     "cannot parse '<%.*s>%.*s': %s", ctp_cur_clip(t->nlen),
			     t->name, ctp_cur_clip(vn), v, why);
}

static int set_str(xml_state *st, uint32_t *field, unsigned bit,
		   const char *v, size_t vn)
{
	if (!vn)
		return 0;
	*field = ctp_snapshot_intern(st->ctx->snap, v, vn);
	if (!*field)
		return ctp_pctx_fail(st->ctx, 0, "out of memory");
	st->x.present |= (uint16_t)bit;
	return 0;
}

/* The text of a leaf element: store it where it belongs. */
static int leaf(xml_state *st, const struct el_def *d, const xtag *t,
		const char *v, size_t vn)
{
	ctp_tuple *tu = st->dir == D_REPLY ? &st->f.reply : &st->f.orig;
	const char *q = v;
	uint64_t x = 0;
	int rc;

	if (d->kind == K_NUM || d->kind == K_HEX) {
		rc = d->kind == K_HEX ? ctp_cur_hex(&q, v + vn, d->max, &x)
				      : ctp_cur_u64(&q, v + vn, d->max, &x);
		if (rc == CTP_NUM_RANGE)
			return fail_val(st, t, v, vn, "number out of range");
		if (rc || q != v + vn)
			return fail_val(st, t, v, vn,
					d->kind == K_HEX
						? "expected a hex number"
						: "expected a number");
	}
	switch (d->id) {
	case E_SRC:
	case E_DST: {
		uint8_t *a = d->id == E_SRC ? tu->src : tu->dst;
		int fam = ctp_parse_addr(v, vn, a);
		if (!fam)
			return fail_val(st, t, v, vn,
					"expected an IPv4 or IPv6 address");
		if (fam != st->f.family)
			return fail_val(st, t, v, vn, "address is not of "
						      "the layer3 protocol");
		st->have[st->dir] |= d->id == E_SRC ? H_SRC : H_DST;
		return 0;
	}
	case E_SPORT:
	case E_DPORT:
	case E_SRCKEY:
	case E_DSTKEY: {
		uint8_t proto = st->proto[st->dir];
		int gre = d->id == E_SRCKEY || d->id == E_DSTKEY;
		if (gre ? proto != CTP_P_GRE : !ctp_proto_has_ports(proto))
			return ctp_pctx_fail(st->ctx, col(st, t->at),
					     "unexpected '<%s>' in a '%s' "
					     "tuple", d->name,
					     ctp_proto_name(proto));
		if (d->id == E_SPORT || d->id == E_SRCKEY) {
			tu->sport = (uint16_t)x;
			st->have[st->dir] |= H_SPORT;
		} else {
			tu->dport = (uint16_t)x;
			st->have[st->dir] |= H_DPORT;
		}
		return 0;
	}
	case E_PACKETS:
		st->x.packets[st->dir] = x;
		st->x.present |= CTP_X_COUNTERS;
		return 0;
	case E_BYTES:
		st->x.bytes[st->dir] = x;
		st->x.present |= CTP_X_COUNTERS;
		return 0;
	case E_ZONE:
		if (st->dir == D_ORIG) {
			st->x.zone_orig = (uint16_t)x;
			st->x.present |= CTP_X_ZONE_ORIG;
		} else if (st->dir == D_REPLY) {
			st->x.zone_reply = (uint16_t)x;
			st->x.present |= CTP_X_ZONE_REPLY;
		} else {
			st->f.zone = (uint16_t)x;
			st->f.flags |= CTP_F_HAS_ZONE;
		}
		return 0;
	case E_STATE:
		st->state = v;
		st->state_len = vn;
		return 0;
	case E_TIMEOUT:
		st->f.timeout = (uint32_t)x;
		st->f.flags |= CTP_F_HAS_TIMEOUT;
		return 0;
	case E_MARK:
		st->f.mark = (uint32_t)x;
		st->f.flags |= CTP_F_HAS_MARK;
		return 0;
	case E_SECMARK:
		st->x.secmark = (uint32_t)x;
		st->x.present |= CTP_X_SECMARK;
		return 0;
	case E_USE:
		st->f.use = x > UINT16_MAX ? UINT16_MAX : (uint16_t)x;
		st->f.flags |= CTP_F_HAS_USE;
		return 0;
	case E_ID:
		st->x.id = (uint32_t)x;
		st->x.present |= CTP_X_ID;
		return 0;
	case E_DELTATIME:
		st->x.delta_time = (uint32_t)x;
		st->x.present |= CTP_X_DELTA;
		return 0;
	case E_START:
		st->x.start = (int64_t)(x / 1000000000u);
		st->x.present |= CTP_X_START;
		return 0;
	case E_STOP:
		st->x.stop = (int64_t)(x / 1000000000u);
		st->x.present |= CTP_X_STOP;
		return 0;
	case E_SECCTX:
		return set_str(st, &st->x.secctx, CTP_X_SECCTX, v, vn);
	case E_HELPER:
		return set_str(st, &st->x.helper, CTP_X_HELPER, v, vn);
	case E_LABEL:
		/* joined with ',' the way -o labels prints labels= */
		if (!vn)
			return 0;
		if (st->labels_len + vn + 1 >= sizeof(st->labels))
			return ctp_pctx_fail(st->ctx, col(st, t->at),
					     "labels longer than %zu bytes",
					     sizeof(st->labels) - 1);
		if (st->labels_len)
			st->labels[st->labels_len++] = ',';
		memcpy(st->labels + st->labels_len, v, vn);
		st->labels_len += vn;
		return 0;
	default:
		/* <when> parts: the printing host's clock, not kept */
		return 0;
	}
}

static int parse_elem(xml_state *st, const xtag *t, unsigned where,
		      int depth);

/* Children of the box opened by t, up to its end tag. */
static int parse_children(xml_state *st, const xtag *t, unsigned inner,
			  int depth)
{
	for (;;) {
		xtag c;

		if (st->p >= st->end)
			return ctp_pctx_fail(st->ctx, col(st, st->end),
					     "expected '</%.*s>'",
					     ctp_cur_clip(t->nlen), t->name);
		if (*st->p != '<')
			return ctp_pctx_fail(st->ctx, col(st, st->p),
					     "unexpected text in '<%.*s>'",
					     ctp_cur_clip(t->nlen), t->name);
		if (read_tag(st, &c))
			return CTP_EINPUT;
		if (c.close) {
			if (c.nlen != t->nlen ||
			    memcmp(c.name, t->name, t->nlen) != 0)
				return ctp_pctx_fail(st->ctx, col(st, c.at),
						     "expected '</%.*s>'",
						     ctp_cur_clip(t->nlen), t->name);
			st->last_close = c.at;
			return 0;
		}
		if (parse_elem(st, &c, inner, depth + 1))
			return CTP_EINPUT;
	}
}

/*
 * An element this table does not know (or not where it stands): step
 * over it, and keep its text if it is the outermost (keep).
 */
static int skip_unknown(xml_state *st, const xtag *t, int depth, int keep)
{
	if (depth > XML_MAX_DEPTH)
		return ctp_pctx_fail(st->ctx, col(st, t->at),
				     "elements nested too deeply");
	if (!t->empty) {
		for (;;) {
			const char *lt = st->p >= st->end
						 ? NULL
						 : memchr(st->p, '<',
							  (size_t)(st->end -
								   st->p));
			xtag c;
			if (!lt)
				return ctp_pctx_fail(st->ctx,
						     col(st, st->end),
						     "expected '</%.*s>'",
						     ctp_cur_clip(t->nlen), t->name);
			st->p = lt;
			if (read_tag(st, &c))
				return CTP_EINPUT;
			if (c.close) {
				if (c.nlen != t->nlen ||
				    memcmp(c.name, t->name, t->nlen) != 0)
					return ctp_pctx_fail(
						st->ctx, col(st, c.at),
						"expected '</%.*s>'",
						ctp_cur_clip(t->nlen), t->name);
				break;
			}
			if (skip_unknown(st, &c, depth + 1, 0))
				return CTP_EINPUT;
		}
	}
	if (keep)
		keep_other(st, t->at, (size_t)(st->p - t->at));
	return 0;
}

static int parse_elem(xml_state *st, const xtag *t, unsigned where,
		      int depth)
{
	const struct el_def *d = find_el(t->name, t->nlen);
	unsigned inner;
	const char *v;
	xtag c;

	if (!d || !(d->where & where))
		return skip_unknown(st, t, depth, 1);
	if (d->id != E_META && d->id != E_LABEL) {
		uint64_t bit = (uint64_t)1 << d->id;
		if (st->seen[st->dir] & bit)
			return ctp_pctx_fail(st->ctx, col(st, t->at),
					     "duplicate '<%s>'", d->name);
		st->seen[st->dir] |= bit;
	}
	switch (d->kind) {
	case K_FLAG:
		if (!t->empty) {
			/* <assured></assured> is the same thing */
			if (read_tag(st, &c) || !c.close ||
			    c.nlen != t->nlen ||
			    memcmp(c.name, t->name, t->nlen) != 0)
				return ctp_pctx_fail(st->ctx, col(st, t->at),
						     "expected '<%s/>'",
						     d->name);
		}
		if (d->id == E_ASSURED)
			st->f.flags |= CTP_F_ASSURED;
		else
			st->f.flags |= CTP_F_UNREPLIED;
		return 0;
	case K_BOX:
		inner = d->inner;
		if (d->id == E_META && open_meta(st, t, &inner))
			return CTP_EINPUT;
		if (d->id == E_LAYER3 && open_layer3(st, t))
			return CTP_EINPUT;
		if (d->id == E_LAYER4 && open_layer4(st, t))
			return CTP_EINPUT;
		if (!t->empty && parse_children(st, t, inner, depth))
			return CTP_EINPUT;
		if (d->id == E_META)
			return close_meta(st,
					  t->empty ? t->at : st->last_close);
		return 0;
	default:
		break;
	}
	/* a leaf: text up to its end tag */
	if (t->empty) {
		if (d->kind == K_TEXT)
			return leaf(st, d, t, st->p, 0);
		return fail_val(st, t, t->at, 0, "expected a value");
	}
	v = st->p;
	st->p = memchr(v, '<', (size_t)(st->end - v));
	if (!st->p) {
		st->p = st->end;
		return ctp_pctx_fail(st->ctx, col(st, st->end),
				     "expected '</%s>'", d->name);
	}
	if (read_tag(st, &c))
		return CTP_EINPUT;
	if (!c.close || c.nlen != t->nlen ||
	    memcmp(c.name, t->name, t->nlen) != 0)
		return ctp_pctx_fail(st->ctx, col(st, c.at),
				     "expected '</%s>'", d->name);
	return leaf(st, d, t, v, (size_t)(c.at - v));
}

/*
 * The state printed for a flow of protocol proto.  For sctp and dccp the
 * library printed the TCP name of the state's index
 * (snprintf_xml.c: states[ct->protoinfo.sctp.state]); take the index
 * back.  A name of the protocol's own that is no TCP name is taken as
 * is, should a later library print the right table.
 */
static int xml_state_of(uint8_t proto, const char *s, size_t n)
{
	int tcp = ctp_state_lookup(CTP_P_TCP, s, n);

	switch (proto) {
	case CTP_P_TCP:
		return tcp;
	case CTP_P_SCTP:
		if (tcp >= 0)
			return CTP_SCTP_NONE + (tcp - CTP_TCP_NONE);
		return ctp_state_lookup(CTP_P_SCTP, s, n);
	case CTP_P_DCCP:
		if (tcp >= 0)
			return CTP_DCCP_NONE + (tcp - CTP_TCP_NONE);
		return ctp_state_lookup(CTP_P_DCCP, s, n);
	default:
		return -1;
	}
}

static int has_prefix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

static int parse_flow(ctp_pctx *ctx, const char *s, size_t len)
{
	static const char *const types[] = { NULL, "new", "update",
					     "destroy" };
	xml_state st;
	xtag t;
	const char *v;
	size_t vn;
	int rc;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.line = st.p = s;
	st.end = s + len;
	st.dir = D_FLOW;
	if (read_tag(&st, &t))
		return CTP_EINPUT;
	if (t.close || t.empty || !ctp_cur_is(t.name, t.nlen, "flow"))
		return ctp_pctx_fail(ctx, 0, "expected '<flow>'");
	rc = attr_get(&t, "type", &v, &vn);
	if (rc < 0)
		return bad_attrs(&st, &t);
	if (rc) {
		int e;
		for (e = 1; e <= 3; e++)
			if (ctp_cur_is(v, vn, types[e]))
				break;
		if (e > 3)
			return ctp_pctx_fail(ctx, col(&st, v),
					     "unknown flow type '%.*s'",
					     ctp_cur_clip(vn), v);
		st.f.event = (uint8_t)e;
		st.f.flags |= CTP_F_EVENT;
	}
	if (parse_children(&st, &t, W_FLOW, 0))
		return CTP_EINPUT;
	if ((st.metas & 3u) != 3u)
		return ctp_pctx_fail(ctx, col(&st, st.last_close),
				     "missing '<meta direction=\"%s\">'",
				     st.metas & 1u ? "reply" : "original");
	/* after </flow>: blanks, or -E's " [USERSPACE] portid=N ..." */
	while (st.p < st.end && blank(*st.p))
		st.p++;
	if (st.p < st.end) {
		if (!has_prefix(st.p, (size_t)(st.end - st.p), "[USERSPACE]"))
			return ctp_pctx_fail(ctx, col(&st, st.p),
					     "unexpected text after "
					     "'</flow>'");
		keep_other(&st, st.p, (size_t)(st.end - st.p));
	}
	st.f.proto = st.proto[D_ORIG];
	if (st.state) {
		int sv = xml_state_of(st.f.proto, st.state, st.state_len);
		if (sv < 0)
			return ctp_pctx_fail(ctx, col(&st, st.state),
					     "unknown state '%.*s' for "
					     "protocol '%s'",
					     ctp_cur_clip(st.state_len), st.state,
					     ctp_proto_name(st.f.proto));
		st.f.state = (uint8_t)sv;
	}
	if (ctp_proto_is_icmp(st.f.proto))
		st.f.flags |= CTP_F_NO_ICMP;
	if (st.labels_len &&
	    set_str(&st, &st.x.labels, CTP_X_LABELS, st.labels,
		    st.labels_len))
		return CTP_EINPUT;
	if (st.other_len &&
	    set_str(&st, &st.x.other, CTP_X_OTHER, st.other, st.other_len))
		return CTP_EINPUT;
	st.f.input = ctx->input;
	if (ctp_snapshot_add_flow(ctx->snap, &st.f, &st.x))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	if (st.f.event) {
		ctp_input_info *in = ctp_snapshot_input_mut(ctx->snap,
							    ctx->input);
		if (in)
			in->formats |= CTP_FMT_EVENTS;
	}
	return CTP_LINE_RECORD;
}

int ctp_xml_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	(void)ctx;
	return has_prefix(s, len, "<?xml") ||
	       has_prefix(s, len, "<conntrack") ||
	       has_prefix(s, len, "</conntrack") ||
	       has_prefix(s, len, "<flow>") || has_prefix(s, len, "<flow ");
}

/* A line that must be exactly lit, give or take trailing blanks. */
static int exact_line(ctp_pctx *ctx, const char *s, size_t len,
		      const char *lit)
{
	size_t n = strlen(lit);

	if (len < n || memcmp(s, lit, n) != 0) {
		size_t i = 0;
		while (i < len && i < n && s[i] == lit[i])
			i++;
		return ctp_pctx_fail(ctx, i, "expected '%s'", lit);
	}
	for (size_t i = n; i < len; i++)
		if (!blank(s[i]))
			return ctp_pctx_fail(ctx, i, "unexpected text after "
						     "'%s'", lit);
	return 0;
}

int ctp_xml_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);

	if (nul)
		return ctp_pctx_fail(ctx, (size_t)(nul - s),
				     "unexpected NUL byte");
	if (has_prefix(s, len, "<?xml")) {
		size_t n = len;
		while (n && blank(s[n - 1]))
			n--;
		if (n < 7 || s[n - 2] != '?' || s[n - 1] != '>')
			return ctp_pctx_fail(ctx, n, "expected '?>'");
		return CTP_LINE_OTHER;
	}
	if (has_prefix(s, len, "</conntrack")) {
		if (exact_line(ctx, s, len, "</conntrack>"))
			return CTP_EINPUT;
		ctx->xml_open = 0;
		return CTP_LINE_OTHER;
	}
	if (has_prefix(s, len, "<conntrack")) {
		if (exact_line(ctx, s, len, "<conntrack>"))
			return CTP_EINPUT;
		ctx->xml_open = 1;
		return CTP_LINE_OTHER;
	}
	return parse_flow(ctx, s, len);
}
