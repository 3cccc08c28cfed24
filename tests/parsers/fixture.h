/*
 * Shared by the parser tests: a snapshot with one input and a line
 * context pointing at it, to call a format's sniff and line functions
 * directly.  Include after <cmocka.h>.
 */
#ifndef CTPLAN_TEST_FIXTURE_H
#define CTPLAN_TEST_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "ctplan/parse.h"
#include "parsers.h"

/* a string literal as (pointer, length), NUL bytes inside included */
#define L(s) s, sizeof(s) - 1

typedef struct fixture {
	ctp_snapshot *snap;
	uint16_t in;
	ctp_error err;
	ctp_pctx ctx;
	ctp_flow last; /* fx_last's copy */
} fixture;

/* path: what ctx->path says (formats keyed by path), "" for none */
static inline void fx_open_path(fixture *fx, const char *path)
{
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(ctp_snapshot_new(&fx->snap), 0);
	assert_int_equal(ctp_snapshot_add_input(fx->snap, "t", NULL, &fx->in),
			 0);
	fx->ctx.snap = fx->snap;
	fx->ctx.input = fx->in;
	fx->ctx.file = "t";
	fx->ctx.path = path;
	fx->ctx.line = 1;
	fx->ctx.err = &fx->err;
}

static inline void fx_close(fixture *fx)
{
	ctp_kmsg_release(&fx->ctx);
	ctp_snapshot_free(fx->snap);
	fx->snap = NULL;
}

/* cmocka group setup/teardown: a heap fixture in *state, no path */
static inline int fx_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_open_path(f, "");
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	fixture *f = *state;

	fx_close(f);
	free(f);
	return 0;
}

/* The flow added last, decoded into f->last (valid until the next
 * call). */
static inline const ctp_flow *fx_last(fixture *f)
{
	size_t n = ctp_snapshot_flow_count(f->snap);

	assert_true(n > 0);
	ctp_snapshot_flow_get(f->snap, n - 1, &f->last);
	return &f->last;
}

#endif
