/*
 * ctplan renderers: each writes the whole report tree in one format.
 * They only read the tree.  Return 0, or CTP_EFAIL on a write error.
 */
#ifndef CTPLAN_RENDER_H
#define CTPLAN_RENDER_H

#include <stdio.h>

#include "ctplan/report.h"

typedef struct ctp_render_opts {
	int color; /* ANSI colour for severities (text) */
	int width; /* text: columns available, 0 = 100 */
} ctp_render_opts;

#define CTP_RENDER_OPTS_INIT { 0, 0 }

int ctp_render_text(ctp_report *rep, FILE *out, const ctp_render_opts *o);
int ctp_render_json(ctp_report *rep, FILE *out, const ctp_render_opts *o);

#endif
