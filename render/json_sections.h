/*
 * Private to render/: the builders of the typed sections' JSON
 * (docs/report.md), one file per model; render/tree.c calls them.
 * Each returns a new reference, or NULL on out of memory.
 */
#ifndef CTPLAN_RENDER_JSON_SECTIONS_H
#define CTPLAN_RENDER_JSON_SECTIONS_H

#include <jansson.h>

#include "ctplan/hash.h"
#include "ctplan/history.h"
#include "ctplan/inventory.h"
#include "ctplan/nat.h"
#include "ctplan/plan.h"

json_t *ctp_json_inputs(const ctp_inventory *inv);
json_t *ctp_json_entries(const ctp_inventory *inv);
json_t *ctp_json_table(const ctp_inventory *inv);
json_t *ctp_json_stats(const ctp_inventory *inv);
json_t *ctp_json_hash(const ctp_hash_section *s);
json_t *ctp_json_nat(const ctp_nat_section *n);
json_t *ctp_json_history(const ctp_history_section *h);
json_t *ctp_json_headroom(const ctp_headroom_section *h);
json_t *ctp_json_recommendation(const ctp_plan_section *s);
json_t *ctp_json_defaults(const ctp_plan_section *s);

#endif
