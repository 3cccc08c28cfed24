/*
 * The report as the JSON tree of docs/report.md (render/tree.c): what
 * the renderers and the tests read.  Built from the typed report on
 * first use, and again after the report changed; owned by the report.
 */
#ifndef CTPLAN_REPORT_TREE_H
#define CTPLAN_REPORT_TREE_H

#include <jansson.h>

#include "ctplan/report.h"

json_t *ctp_report_root(ctp_report *rep);

#endif
