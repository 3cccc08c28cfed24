/*
 * Private to the text renderer: shared helpers for section layouts kept
 * in their own files (render/text_<section>.c) and listed in text.c's
 * sections[] table.
 */
#ifndef CTPLAN_TEXT_SECTIONS_H
#define CTPLAN_TEXT_SECTIONS_H

#include <stdio.h>

#include <jansson.h>

typedef struct tctx {
	FILE *out;
	int color;
	json_t *root; /* the whole tree, for a section that reads another */
} tctx;

/* Blank line and a bold (on a TTY) section title. */
void ctp_text_heading(tctx *t, const char *title);
/* A JSON scalar as text: integers plain, reals %.4g, null as "-". */
void ctp_text_scalar(FILE *out, json_t *v);

/*
 * s in at most w columns (w >= 8) into buf: whole when it fits, else cut
 * in the middle with "...".  A path keeps its file name (after the last
 * '/' or '!') and, inside an archive ("a/b.tar.gz!dir/file"), the
 * archive's name; the rest of the width goes to the path's start.
 * Returns buf.
 */
const char *ctp_text_shorten(char *buf, size_t size, const char *s,
			     size_t w);

/* Section layouts, one file each. */
void ctp_text_hash(tctx *t, json_t *h); /* render/text_hash.c */
void ctp_text_history(tctx *t, json_t *h); /* render/text_history.c */
void ctp_text_nat(tctx *t, json_t *nat); /* render/text_nat.c */
/* render/text_plan.c */
void ctp_text_headroom(tctx *t, json_t *h);
void ctp_text_defaults(tctx *t, json_t *d);
void ctp_text_recommendation(tctx *t, json_t *rc);
void ctp_text_checks(tctx *t, json_t *arr);

#endif
