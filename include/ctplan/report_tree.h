/*
 * The report as the JSON tree of docs/report.md (render/tree.c): what
 * the renderers and the tests read.  Built from the typed report on
 * first use, and again after the report changed; owned by the report.
 *
 * ctp_report_section() is the way of a model whose section is still
 * built as a JSON object (CTP_SEC_TREE): the object under key, created
 * empty when missing, owned by the report; NULL on out of memory.
 */
#ifndef CTPLAN_REPORT_TREE_H
#define CTPLAN_REPORT_TREE_H

#include <jansson.h>

#include "ctplan/report.h"

json_t *ctp_report_root(ctp_report *rep);
json_t *ctp_report_section(ctp_report *rep, const char *key);
/* value (steals its reference) as the section under key; 0 or
 * CTP_ENOMEM */
int ctp_report_set_tree(ctp_report *rep, const char *key, json_t *value);

#endif
