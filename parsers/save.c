/*
 * conntrack -L -o save (conntrack-tools 1.4.7 and later): each entry as
 * the conntrack options that would create it again, for conntrack -R.
 *
 * Printing rules: conntrack-tools src/conntrack.c ct_save_snprintf() and
 * the print_opts tables of extensions/libct_proto_*.c (1.4.7, 1.4.8):
 *
 *   -A|-U|-D  (an entry of -L; -E's update and destroy events, -D's
 *             deleted entries)
 *   [-t timeout] [-u STATUS,...|UNSET] [-c secmark] [-w zone]
 *   [--orig-zone N] [--reply-zone N]
 *   -s orig-src -d orig-dst
 *   -g reply-src (the flow is DNATed) | -r reply-src
 *   -n reply-dst (the flow is SNATed) | -q reply-dst
 *   -p NAME [per-protocol options] | -p NUMBER (no conntrack-tools
 *   extension for it: no further options)
 *
 * Per protocol:
 *   tcp, udp, udplite, sctp, dccp: --sport --dport --reply-port-src
 *     --reply-port-dst; tcp, sctp, dccp: --state NAME;
 *     sctp: --orig-vtag --reply-vtag; dccp: --role client|server
 *   gre: --srckey --dstkey --reply-key-src --reply-key-dst (decimal)
 *   icmp: --icmp-type --icmp-code --icmp-id (original direction only)
 *   icmpv6: --icmpv6-type --icmpv6-code --icmpv6-id
 *
 * An option is printed only when the kernel sent the attribute; a
 * value is "%u" of the host-order number.  The status list holds only
 * EXPECTED, SEEN_REPLY, ASSURED and FIXED_TIMEOUT, in bit order, or
 * UNSET.  The format has no mark, counters, use, id or labels.
 *
 * How the record is filled:
 * - -g and -r both give the reply source, -n and -q the reply
 *   destination: which letter was printed only says whether the
 *   library saw NAT.  A reply address, port or key left out is taken
 *   from the original tuple inverted, and an original one left out from
 *   the reply tuple inverted, the way conntrack -I completes a tuple;
 * - icmp: the reply type is the kernel's inverse of the original type
 *   (nf_conntrack_proto_icmp.c / _icmpv6.c invmap: echo 8 -> reply 0),
 *   code and id are the same in both directions;
 * - -u: ASSURED sets CTP_F_ASSURED, SEEN_REPLY sets CTP_F_SEEN_REPLY,
 *   and a list without SEEN_REPLY sets CTP_F_UNREPLIED, which is when
 *   -L prints [UNREPLIED] (snprintf_default.c tests IPS_SEEN_REPLY).
 *   No -u at all says nothing either way.  EXPECTED and FIXED_TIMEOUT
 *   have no flag and are dropped; OFFLOAD and HW_OFFLOAD, which
 *   conntrack accepts in -u but never prints, set their flags;
 * - the sctp state table of conntrack-tools stops at SHUTDOWN_ACK_SENT,
 *   so HEARTBEAT_SENT/ACKED print as "(null)" (glibc's "%s" of NULL):
 *   that state is unknown here and left 0;
 * - a kernel without a dccp, sctp, udplite or gre tracker (the 6.18
 *   kernel of the lab samples tracks dccp as a generic protocol) sends no
 *   ports or keys: "-p dccp" alone is a flow with zero ports.  tcp and
 *   udp are always tracked, so there the ports are required;
 * - --role, having no field, is kept in the "other" string;
 * - -U and -D are events (update, destroy; conntrack -D -o save prints
 *   the entries it deleted as -D too); -A is read as a table entry,
 *   although -E -o save also prints it for a new-flow event.
 * An unknown option rejects the line: options take a value or not, so a
 * line cannot be read on past one it does not know.
 */
#include <stdlib.h>
#include <string.h>

#include "ctplan/flow.h"
#include "cursor.h"
#include "parsers.h"

/* The fields an option fills.  -g and -r share one, as -n and -q do. */
enum opt_id {
	O_TIMEOUT,
	O_STATUS,
	O_SECMARK,
	O_ZONE,
	O_ORIG_ZONE,
	O_REPLY_ZONE,
	O_ORIG_SRC,
	O_ORIG_DST,
	O_REPLY_SRC,
	O_REPLY_DST,
	O_PROTO,
	O_SPORT,
	O_DPORT,
	O_REPLY_SPORT,
	O_REPLY_DPORT,
	O_STATE,
	O_ORIG_VTAG,
	O_REPLY_VTAG,
	O_ROLE,
	O_ICMP_TYPE,
	O_ICMP_CODE,
	O_ICMP_ID,
	O_COUNT
};

enum val_type {
	V_NUM,    /* decimal, up to max */
	V_ADDR,
	V_STATUS, /* comma list */
	V_PROTO,  /* name or number */
	V_WORD,   /* read once the protocol is known */
};

/* which protocols an option belongs to */
enum {
	A_ANY = 0,
	A_PORTS = 1u << 0, /* tcp, udp, udplite, sctp, dccp */
	A_STATE = 1u << 1, /* tcp, sctp, dccp */
	A_SCTP = 1u << 2,
	A_DCCP = 1u << 3,
	A_GRE = 1u << 4,
	A_ICMP = 1u << 5,
	A_ICMP6 = 1u << 6,
};

/* MUST be sorted by name (bsearch, strcmp order). */
static const struct opt_def {
	const char *name;
	enum opt_id id;
	enum val_type type;
	uint64_t max;
	unsigned proto; /* A_* the option needs, A_ANY for all */
} opts[] = {
	{ "--dport", O_DPORT, V_NUM, UINT16_MAX, A_PORTS },
	{ "--dstkey", O_DPORT, V_NUM, UINT16_MAX, A_GRE },
	{ "--icmp-code", O_ICMP_CODE, V_NUM, UINT8_MAX, A_ICMP },
	{ "--icmp-id", O_ICMP_ID, V_NUM, UINT16_MAX, A_ICMP },
	{ "--icmp-type", O_ICMP_TYPE, V_NUM, UINT8_MAX, A_ICMP },
	{ "--icmpv6-code", O_ICMP_CODE, V_NUM, UINT8_MAX, A_ICMP6 },
	{ "--icmpv6-id", O_ICMP_ID, V_NUM, UINT16_MAX, A_ICMP6 },
	{ "--icmpv6-type", O_ICMP_TYPE, V_NUM, UINT8_MAX, A_ICMP6 },
	{ "--orig-vtag", O_ORIG_VTAG, V_NUM, UINT32_MAX, A_SCTP },
	{ "--orig-zone", O_ORIG_ZONE, V_NUM, UINT16_MAX, A_ANY },
	{ "--reply-key-dst", O_REPLY_DPORT, V_NUM, UINT16_MAX, A_GRE },
	{ "--reply-key-src", O_REPLY_SPORT, V_NUM, UINT16_MAX, A_GRE },
	{ "--reply-port-dst", O_REPLY_DPORT, V_NUM, UINT16_MAX, A_PORTS },
	{ "--reply-port-src", O_REPLY_SPORT, V_NUM, UINT16_MAX, A_PORTS },
	{ "--reply-vtag", O_REPLY_VTAG, V_NUM, UINT32_MAX, A_SCTP },
	{ "--reply-zone", O_REPLY_ZONE, V_NUM, UINT16_MAX, A_ANY },
	{ "--role", O_ROLE, V_WORD, 0, A_DCCP },
	{ "--sport", O_SPORT, V_NUM, UINT16_MAX, A_PORTS },
	{ "--srckey", O_SPORT, V_NUM, UINT16_MAX, A_GRE },
	{ "--state", O_STATE, V_WORD, 0, A_STATE },
	{ "-c", O_SECMARK, V_NUM, UINT32_MAX, A_ANY },
	{ "-d", O_ORIG_DST, V_ADDR, 0, A_ANY },
	{ "-g", O_REPLY_SRC, V_ADDR, 0, A_ANY },
	{ "-n", O_REPLY_DST, V_ADDR, 0, A_ANY },
	{ "-p", O_PROTO, V_PROTO, 0, A_ANY },
	{ "-q", O_REPLY_DST, V_ADDR, 0, A_ANY },
	{ "-r", O_REPLY_SRC, V_ADDR, 0, A_ANY },
	{ "-s", O_ORIG_SRC, V_ADDR, 0, A_ANY },
	{ "-t", O_TIMEOUT, V_NUM, UINT32_MAX, A_ANY },
	{ "-u", O_STATUS, V_STATUS, 0, A_ANY },
	{ "-w", O_ZONE, V_NUM, UINT16_MAX, A_ANY },
};

/* -u names; conntrack.c parse_array[PARSE_STATUS].  MUST be sorted. */
enum {
	S_SEEN_REPLY = 1u << 0,
	S_ASSURED = 1u << 1,
	S_OFFLOAD = 1u << 2,
	S_HW_OFFLOAD = 1u << 3,
	S_OTHER = 1u << 4, /* EXPECTED, FIXED_TIMEOUT: no flag of ours */
};

static const struct status_def {
	const char *name;
	unsigned bit;
} statuses[] = {
	{ "ASSURED", S_ASSURED },   { "EXPECTED", S_OTHER },
	{ "FIXED_TIMEOUT", S_OTHER }, { "HW_OFFLOAD", S_HW_OFFLOAD },
	{ "OFFLOAD", S_OFFLOAD },   { "SEEN_REPLY", S_SEEN_REPLY },
	{ "UNSET", 0 },
};

/* bsearch key: a token that is not NUL-terminated */
typedef struct name_key {
	const char *s;
	size_t n;
} name_key;

/* Tables above start with their name, so an entry is a const char **. */
static int name_cmp(const void *key, const void *elem)
{
	const name_key *k = key;
	const char *name = *(const char *const *)elem;
	size_t nl = strlen(name);
	int c = memcmp(k->s, name, k->n < nl ? k->n : nl);

	if (c)
		return c;
	return k->n < nl ? -1 : k->n > nl;
}

static const struct opt_def *find_opt(const char *s, size_t n)
{
	name_key k = { s, n };

	return bsearch(&k, opts, sizeof(opts) / sizeof(opts[0]),
		       sizeof(opts[0]), name_cmp);
}

static const struct status_def *find_status(const char *s, size_t n)
{
	name_key k = { s, n };

	return bsearch(&k, statuses, sizeof(statuses) / sizeof(statuses[0]),
		       sizeof(statuses[0]), name_cmp);
}

/* addresses, in the order of the tuple fields they fill */
enum { A_OSRC, A_ODST, A_RSRC, A_RDST };

typedef struct save_state {
	ctp_pctx *ctx;
	const char *line, *end;
	uint64_t val[O_COUNT];
	const char *opt[O_COUNT]; /* the option's token, NULL if absent */
	size_t optlen[O_COUNT];
	const char *word[O_COUNT]; /* V_WORD values */
	size_t wordlen[O_COUNT];
	uint8_t addr[4][16];
	ctp_flow f;
	ctp_flow_extra x;
	char other[128];
	size_t other_len;
} save_state;

static size_t col(const save_state *st, const char *at)
{
	return (size_t)(at - st->line);
}



static int fail_val(save_state *st, const char *o, size_t on, const char *v,
		    size_t vn, const char *why)
{
	return ctp_pctx_fail(st->ctx, col(st, v),
			     "cannot parse '%.*s %.*s': %s", ctp_cur_clip(on), o,
			     ctp_cur_clip(vn), v, why);
}

static int keep_other(save_state *st, const char *s, size_t n)
{
	if (st->other_len + n + 1 >= sizeof(st->other))
		return 0;
	if (st->other_len)
		st->other[st->other_len++] = ' ';
	memcpy(st->other + st->other_len, s, n);
	st->other_len += n;
	return 0;
}

static int parse_status(save_state *st, const char *o, size_t on,
			const char *v, size_t vn)
{
	const char *p = v, *end = v + vn;
	unsigned bits = 0;

	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		const struct status_def *s = find_status(p, (size_t)(e - p));
		if (!s) {
			if (e == p)
				return fail_val(st, o, on, v, vn,
						"empty status name");
			return ctp_pctx_fail(st->ctx, col(st, p),
					     "unknown status '%.*s'",
					     ctp_cur_clip((size_t)(e - p)), p);
		}
		bits |= s->bit;
		if (!c)
			break;
		p = c + 1;
	}
	st->val[O_STATUS] = bits;
	return 0;
}

static int parse_proto(save_state *st, const char *o, size_t on,
		       const char *v, size_t vn)
{
	char low[16];
	const char *q = v;
	int rc, proto = -1;

	if (v[0] >= '0' && v[0] <= '9') {
		/* -p NUMBER: a protocol conntrack-tools has no name for */
		rc = ctp_cur_u64(&q, v + vn, UINT8_MAX, &st->val[O_PROTO]);
		if (rc == CTP_NUM_RANGE)
			return fail_val(st, o, on, v, vn,
					"number out of range");
		if (rc || q != v + vn)
			return fail_val(st, o, on, v, vn,
					"expected a number");
		return 0;
	}
	/* conntrack matches -p names with strcasecmp */
	if (vn < sizeof(low)) {
		for (size_t i = 0; i < vn; i++)
			low[i] = v[i] >= 'A' && v[i] <= 'Z'
					 ? (char)(v[i] - 'A' + 'a')
					 : v[i];
		proto = ctp_proto_lookup(low, vn);
	}
	if (proto < 0)
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "unknown protocol '%.*s'", ctp_cur_clip(vn), v);
	st->val[O_PROTO] = (uint64_t)proto;
	return 0;
}

static int parse_value(save_state *st, const struct opt_def *d,
		       const char *o, size_t on, const char *v, size_t vn)
{
	const char *q = v;
	int rc, fam, slot;

	switch (d->type) {
	case V_NUM:
		rc = ctp_cur_u64(&q, v + vn, d->max, &st->val[d->id]);
		if (rc == CTP_NUM_RANGE)
			return fail_val(st, o, on, v, vn,
					"number out of range");
		if (rc || q != v + vn)
			return fail_val(st, o, on, v, vn,
					"expected a number");
		return 0;
	case V_ADDR:
		slot = d->id == O_ORIG_SRC   ? A_OSRC
		       : d->id == O_ORIG_DST ? A_ODST
		       : d->id == O_REPLY_SRC ? A_RSRC
					      : A_RDST;
		fam = ctp_parse_addr(v, vn, st->addr[slot]);
		if (!fam)
			return fail_val(st, o, on, v, vn,
					"expected an IPv4 or IPv6 address");
		if (st->f.family && st->f.family != fam)
			return fail_val(st, o, on, v, vn,
					"address family differs from the "
					"rest of the line");
		st->f.family = (uint8_t)fam;
		return 0;
	case V_STATUS:
		return parse_status(st, o, on, v, vn);
	case V_PROTO:
		return parse_proto(st, o, on, v, vn);
	case V_WORD:
		st->word[d->id] = v;
		st->wordlen[d->id] = vn;
		return 0;
	}
	return 0;
}

/* A_* classes protocol proto belongs to. */
static unsigned proto_class(uint8_t proto)
{
	switch (proto) {
	case CTP_P_TCP:
		return A_PORTS | A_STATE;
	case CTP_P_UDP:
	case CTP_P_UDPLITE:
		return A_PORTS;
	case CTP_P_SCTP:
		return A_PORTS | A_STATE | A_SCTP;
	case CTP_P_DCCP:
		return A_PORTS | A_STATE | A_DCCP;
	case CTP_P_GRE:
		return A_GRE;
	case CTP_P_ICMP:
		return A_ICMP;
	case CTP_P_ICMPV6:
		return A_ICMP6;
	default:
		return 0;
	}
}

/* Reply type of an icmp/icmpv6 request; the type itself if none. */
static uint8_t icmp_reply_type(uint8_t proto, uint8_t type)
{
	/* kernel nf_conntrack_proto_icmp.c and _icmpv6.c, invmap[] */
	static const uint8_t v4[][2] = {
		{ 0, 8 },   { 8, 0 },	{ 13, 14 }, { 14, 13 },
		{ 15, 16 }, { 16, 15 }, { 17, 18 }, { 18, 17 },
	};
	static const uint8_t v6[][2] = {
		{ 128, 129 }, { 129, 128 }, { 139, 140 }, { 140, 139 },
	};
	const uint8_t(*map)[2] = proto == CTP_P_ICMP ? v4 : v6;
	size_t n = proto == CTP_P_ICMP ? sizeof(v4) / sizeof(v4[0])
				       : sizeof(v6) / sizeof(v6[0]);

	for (size_t i = 0; i < n; i++)
		if (map[i][0] == type)
			return map[i][1];
	return type;
}

static int has(const save_state *st, enum opt_id id)
{
	return st->opt[id] != NULL;
}

static int missing(save_state *st, const char *what)
{
	return ctp_pctx_fail(st->ctx, col(st, st->end), "missing '%s'", what);
}

/* Addresses: each side from its own options, or the other inverted. */
static int build_addrs(save_state *st)
{
	ctp_flow *f = &st->f;

	if (has(st, O_ORIG_SRC))
		memcpy(f->orig.src, st->addr[A_OSRC], 16);
	else if (has(st, O_REPLY_DST))
		memcpy(f->orig.src, st->addr[A_RDST], 16);
	else
		return missing(st, "-s");
	if (has(st, O_ORIG_DST))
		memcpy(f->orig.dst, st->addr[A_ODST], 16);
	else if (has(st, O_REPLY_SRC))
		memcpy(f->orig.dst, st->addr[A_RSRC], 16);
	else
		return missing(st, "-d");
	memcpy(f->reply.src,
	       has(st, O_REPLY_SRC) ? st->addr[A_RSRC] : f->orig.dst, 16);
	memcpy(f->reply.dst,
	       has(st, O_REPLY_DST) ? st->addr[A_RDST] : f->orig.src, 16);
	return 0;
}

/* Ports or gre keys: the four options, one pair may be left out. */
static int build_ports(save_state *st)
{
	ctp_flow *f = &st->f;
	int any = has(st, O_SPORT) || has(st, O_DPORT) ||
		  has(st, O_REPLY_SPORT) || has(st, O_REPLY_DPORT);
	int gre = f->proto == CTP_P_GRE;

	if (!any && f->proto != CTP_P_TCP && f->proto != CTP_P_UDP)
		return 0; /* no tracker for it in that kernel: no ports */
	if (!has(st, O_SPORT) && !has(st, O_REPLY_DPORT))
		return missing(st, gre ? "--srckey" : "--sport");
	if (!has(st, O_DPORT) && !has(st, O_REPLY_SPORT))
		return missing(st, gre ? "--dstkey" : "--dport");
	f->orig.sport = (uint16_t)st->val[has(st, O_SPORT) ? O_SPORT
							   : O_REPLY_DPORT];
	f->orig.dport = (uint16_t)st->val[has(st, O_DPORT) ? O_DPORT
							   : O_REPLY_SPORT];
	f->reply.sport = has(st, O_REPLY_SPORT)
				 ? (uint16_t)st->val[O_REPLY_SPORT]
				 : f->orig.dport;
	f->reply.dport = has(st, O_REPLY_DPORT)
				 ? (uint16_t)st->val[O_REPLY_DPORT]
				 : f->orig.sport;
	return 0;
}

static int build_icmp(save_state *st)
{
	ctp_flow *f = &st->f;
	int v6 = f->proto == CTP_P_ICMPV6;
	uint8_t type, code;

	if (!has(st, O_ICMP_TYPE))
		return missing(st, v6 ? "--icmpv6-type" : "--icmp-type");
	if (!has(st, O_ICMP_CODE))
		return missing(st, v6 ? "--icmpv6-code" : "--icmp-code");
	if (!has(st, O_ICMP_ID))
		return missing(st, v6 ? "--icmpv6-id" : "--icmp-id");
	type = (uint8_t)st->val[O_ICMP_TYPE];
	code = (uint8_t)st->val[O_ICMP_CODE];
	f->orig.sport = f->reply.sport = (uint16_t)st->val[O_ICMP_ID];
	f->orig.dport = CTP_ICMP_DPORT(type, code);
	f->reply.dport =
		CTP_ICMP_DPORT(icmp_reply_type(f->proto, type), code);
	return 0;
}

static int build_state(save_state *st)
{
	const char *v = st->word[O_STATE];
	size_t vn = st->wordlen[O_STATE];
	int s;

	if (!v)
		return 0;
	if (ctp_cur_is(v, vn, "(null)"))
		return 0; /* see the top of the file */
	s = ctp_state_lookup(st->f.proto, v, vn);
	if (s < 0)
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "unknown state '%.*s' for protocol '%s'",
				     ctp_cur_clip(vn), v, ctp_proto_name(st->f.proto));
	st->f.state = (uint8_t)s;
	return 0;
}

static int build_role(save_state *st)
{
	const char *v = st->word[O_ROLE];
	size_t vn = st->wordlen[O_ROLE];

	if (!v)
		return 0;
	if (!ctp_cur_is(v, vn, "client") && !ctp_cur_is(v, vn, "server"))
		return ctp_pctx_fail(st->ctx, col(st, v),
				     "unknown dccp role '%.*s'", ctp_cur_clip(vn), v);
	keep_other(st, st->opt[O_ROLE], (size_t)(v + vn - st->opt[O_ROLE]));
	return 0;
}

/* Everything but the tuple: flags, status, zones, tags. */
static void build_meta(save_state *st)
{
	ctp_flow *f = &st->f;
	ctp_flow_extra *x = &st->x;

	if (has(st, O_TIMEOUT)) {
		f->timeout = (uint32_t)st->val[O_TIMEOUT];
		f->flags |= CTP_F_HAS_TIMEOUT;
	}
	if (has(st, O_STATUS)) {
		unsigned s = (unsigned)st->val[O_STATUS];
		f->flags |= s & S_SEEN_REPLY ? CTP_F_SEEN_REPLY
					     : CTP_F_UNREPLIED;
		if (s & S_ASSURED)
			f->flags |= CTP_F_ASSURED;
		if (s & S_OFFLOAD)
			f->flags |= CTP_F_OFFLOAD;
		if (s & S_HW_OFFLOAD)
			f->flags |= CTP_F_HW_OFFLOAD;
	}
	if (has(st, O_ZONE)) {
		f->zone = (uint16_t)st->val[O_ZONE];
		f->flags |= CTP_F_HAS_ZONE;
	}
	if (has(st, O_ORIG_ZONE)) {
		x->zone_orig = (uint16_t)st->val[O_ORIG_ZONE];
		x->present |= CTP_X_ZONE_ORIG;
	}
	if (has(st, O_REPLY_ZONE)) {
		x->zone_reply = (uint16_t)st->val[O_REPLY_ZONE];
		x->present |= CTP_X_ZONE_REPLY;
	}
	if (has(st, O_SECMARK)) {
		x->secmark = (uint32_t)st->val[O_SECMARK];
		x->present |= CTP_X_SECMARK;
	}
	if (has(st, O_ORIG_VTAG) || has(st, O_REPLY_VTAG)) {
		x->vtag[0] = (uint32_t)st->val[O_ORIG_VTAG];
		x->vtag[1] = (uint32_t)st->val[O_REPLY_VTAG];
		x->present |= CTP_X_VTAG;
	}
}

static int build(save_state *st)
{
	const struct opt_def *bad = NULL;
	unsigned cls;
	int rc;

	if (!has(st, O_PROTO))
		return missing(st, "-p");
	st->f.proto = (uint8_t)st->val[O_PROTO];
	cls = proto_class(st->f.proto);
	/* report the leftmost option of another protocol */
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *o = st->opt[opts[i].id];
		if (opts[i].proto && o && !(opts[i].proto & cls) &&
		    ctp_cur_is(o, st->optlen[opts[i].id], opts[i].name) &&
		    (!bad || o < st->opt[bad->id]))
			bad = &opts[i];
	}
	if (bad)
		return ctp_pctx_fail(st->ctx, col(st, st->opt[bad->id]),
				     "option '%s' does not apply to protocol "
				     "'%s'", bad->name,
				     ctp_proto_name(st->f.proto));
	if ((rc = build_addrs(st)))
		return rc;
	if (cls & (A_PORTS | A_GRE))
		rc = build_ports(st);
	else if (cls & (A_ICMP | A_ICMP6))
		rc = build_icmp(st);
	if (rc || (rc = build_state(st)) || (rc = build_role(st)))
		return rc;
	build_meta(st);
	return 0;
}

int ctp_save_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	(void)ctx;
	if (len < 3 || s[0] != '-' || s[2] != ' ' ||
	    (s[1] != 'A' && s[1] != 'U' && s[1] != 'D'))
		return 0;
	for (size_t i = 2; i + 4 <= len; i++)
		if (s[i] == ' ' && s[i + 1] == '-' &&
		    (s[i + 2] == 's' || s[i + 2] == 'p') && s[i + 3] == ' ')
			return 1;
	return 0;
}

int ctp_save_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *nul = memchr(s, '\0', len);
	save_state st;
	int rc;

	if (nul)
		return ctp_pctx_fail(ctx, (size_t)(nul - s),
				     "unexpected NUL byte");
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.line = s;
	st.end = end;
	ctp_cur_blank(&p, end);
	if (ctp_cur_toklen(p, end) != 2 || p[0] != '-' ||
	    (p[1] != 'A' && p[1] != 'U' && p[1] != 'D'))
		return ctp_pctx_fail(ctx, col(&st, p),
				     "expected '-A', '-U' or '-D'");
	if (p[1] != 'A') {
		st.f.event = p[1] == 'U' ? 2 : 3;
		st.f.flags |= CTP_F_EVENT;
	}
	p += 2;
	ctp_cur_blank(&p, end);
	while (p < end) {
		const char *o = p, *v;
		size_t on = ctp_cur_toklen(p, end), vn;
		const struct opt_def *d = find_opt(o, on);

		if (!d) {
			if (o[0] != '-')
				return ctp_pctx_fail(ctx, col(&st, o),
						     "expected an option, "
						     "not '%.*s'", ctp_cur_clip(on), o);
			return ctp_pctx_fail(ctx, col(&st, o),
					     "unknown option '%.*s'",
					     ctp_cur_clip(on), o);
		}
		if (st.opt[d->id])
			return ctp_pctx_fail(ctx, col(&st, o),
					     "option '%.*s' repeats '%.*s'",
					     ctp_cur_clip(on), o,
					     ctp_cur_clip(st.optlen[d->id]),
					     st.opt[d->id]);
		st.opt[d->id] = o;
		st.optlen[d->id] = on;
		p += on;
		ctp_cur_blank(&p, end);
		v = p;
		vn = ctp_cur_toklen(p, end);
		if (!vn)
			return ctp_pctx_fail(ctx, col(&st, end),
					     "missing value after '%s'",
					     d->name);
		if ((rc = parse_value(&st, d, o, on, v, vn)))
			return rc;
		p += vn;
		ctp_cur_blank(&p, end);
	}
	if ((rc = build(&st)))
		return rc;
	if (st.other_len) {
		st.x.other = ctp_snapshot_intern(ctx->snap, st.other,
						 st.other_len);
		if (!st.x.other)
			return ctp_pctx_fail(ctx, 0, "out of memory");
		st.x.present |= CTP_X_OTHER;
	}
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
