/*
 * The -L line parser (list.c) in two steps, for the input reader's fast
 * path: ctp_list_parse() reads a line into a record and touches nothing
 * else (no snapshot, no per-input state), so it may run on a worker
 * thread; ctp_list_commit() then adds the record to the snapshot, in
 * input order, on the reading thread.  ctp_list_line() is the two in a
 * row.
 */
#ifndef CTPLAN_PARSERS_LIST_H
#define CTPLAN_PARSERS_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/flow.h"
#include "parsers.h"

/* room for a line's unknown tokens, joined with spaces */
#define CTP_LIST_OTHER_MAX 512

enum {
	CTP_LIST_S_HELPER,
	CTP_LIST_S_SECCTX,
	CTP_LIST_S_LABELS,
	CTP_LIST_S_OTHER,
	CTP_LIST_S_COUNT
};

typedef struct ctp_list_rec {
	ctp_flow f;
	ctp_flow_extra x; /* used when x.present */
	/* strings interned at commit (helper, secctx, labels, other):
	 * borrowed from the line or from the caller's other buffer, which
	 * must live until the commit */
	const char *str[CTP_LIST_S_COUNT];
	uint32_t str_len[CTP_LIST_S_COUNT];
	unsigned fmt; /* CTP_FMT_* variant the line is printed in */
	/* the line holds text other than numbers, addresses and known
	 * tags, where a conntrack message could hide */
	int free_text;
	/* a value read but said (ctp_pctx_warn at commit): LIST_W_*, the
	 * column and text of the token (borrowed from the line) */
	unsigned char warn;
	uint32_t warn_col, warn_len;
	const char *warn_at;
} ctp_list_rec;

enum {
	LIST_W_NONE = 0,
	LIST_W_NEG_TIMEOUT, /* "-5" where the timeout goes */
	LIST_W_REPEAT,      /* a key given twice in the entry */
};

/*
 * Parse a line into rec.  other is the caller's buffer of
 * CTP_LIST_OTHER_MAX bytes for the unknown tokens.  Returns 0, or a
 * negative code with ctx->err filled (only ctx->err, file and line are
 * used).
 */
int ctp_list_parse(ctp_pctx *ctx, const char *s, size_t len,
		   ctp_list_rec *rec, char *other);

/* Add a parsed record to ctx's snapshot and input: CTP_LINE_RECORD, or
 * a negative code with ctx->err filled (out of memory). */
int ctp_list_commit(ctp_pctx *ctx, const ctp_list_rec *rec);

#endif
