/*
 * The inventory's sections as JSON (docs/report.md "inputs", "entries",
 * "table", "stats"), from its typed result (include/ctplan/inventory.h).
 */
#include <math.h>

#include "ctplan/inventory.h"
#include "json_sections.h"

static json_t *u64_or_null(int have, uint64_t v)
{
	return have ? json_integer((json_int_t)v) : json_null();
}

json_t *ctp_json_inputs(const ctp_inventory *inv)
{
	const ctp_snapshot *snap = inv->snap;
	json_t *arr = json_array();
	size_t n = ctp_snapshot_input_count(snap);

	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const ctp_input_info *in = ctp_snapshot_input(snap, i);
		json_t *ov = json_array(), *o;
		char fmt[256];

		ctp_format_names(in->formats, fmt, sizeof(fmt));
		for (size_t j = 0; ov && j < n; j++)
			/* append_new steals the string */
			if (j != i && ctp_snapshot_inputs_overlap(snap, i, j) &&
			    json_array_append_new(
				    ov, json_string(ctp_snapshot_input(snap, j)
							    ->path))) {
				json_decref(ov);
				ov = NULL;
			}
		/* pack "o" steals ov (NULL fails the pack) */
		o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I,"
			      " s:o, s:b, s:o, s:o}",
			      "path", in->path, "format",
			      in->skipped ? "unknown" : fmt, "namespace",
			      in->ns, "lines", (json_int_t)in->lines,
			      "records", (json_int_t)in->records, "rejected",
			      (json_int_t)in->rejected, "other",
			      (json_int_t)in->other, "flows",
			      (json_int_t)in->flows, "duplicates",
			      (json_int_t)in->duplicates, "summary_count",
			      u64_or_null(in->has_summary, in->summary_count),
			      "skipped", in->skipped, "overlaps", ov,
			      "error", in->error ? json_string(in->error)
						 : json_null());
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *tallies(const ctp_tallies *t)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < t->n; i++)
		/* set_new steals the integer */
		if (json_object_set_new(o, t->v[i].key,
					json_integer((json_int_t)t->v[i].n))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *ctp_json_entries(const ctp_inventory *inv)
{
	/* pack "o" steals the four objects (a NULL one fails it) */
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I,"
			 " s:I, s:I}",
			 "total", (json_int_t)inv->total, "by_family",
			 tallies(&inv->family), "by_protocol",
			 tallies(&inv->protocol), "by_state",
			 tallies(&inv->state), "by_zone", tallies(&inv->zone),
			 "assured", (json_int_t)inv->assured, "unreplied",
			 (json_int_t)inv->unreplied, "offloaded",
			 (json_int_t)inv->offloaded, "duplicates_merged",
			 (json_int_t)inv->duplicates, "events",
			 (json_int_t)inv->events, "read_errors",
			 (json_int_t)ctp_snapshot_read_errors(inv->snap),
			 "skipped_not_listed",
			 (json_int_t)ctp_snapshot_skipped_more(inv->snap));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* table.namespaces (docs/report.md), or null with one namespace */
static json_t *ns_json(const ctp_inventory *inv)
{
	json_t *o, *list;

	if (!inv->nns)
		return json_null();
	list = json_array();
	for (size_t i = 0; list && i < inv->nns; i++) {
		const struct ctp_inv_ns *r = &inv->ns[i];
		/* pack "o" steals each value; append_new steals the row */
		json_t *row = json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o}", "namespace",
			r->ns ? json_string(r->ns) : json_null(), "inode",
			r->ns ? json_null() : json_integer(r->inode),
			"entries_listed",
			r->ns ? json_integer((json_int_t)r->entries)
			      : json_null(),
			"table_full_messages",
			r->ns ? json_null()
			      : json_integer((json_int_t)r->entries),
			"count",
			u64_or_null(r->count_known, r->count), "pct_of_max",
			isfinite(r->pct_of_max)
				? json_real(round(r->pct_of_max * 100) / 100)
				: json_null());
		if (!row || json_array_append_new(list, row)) {
			json_decref(list);
			return NULL;
		}
	}
	if (!list)
		return NULL;
	/* pack "o" steals list */
	o = json_pack("{s:I, s:I, s:b, s:b, s:I, s:o, s:o}", "count_min",
		      (json_int_t)inv->ns_min, "count_max",
		      (json_int_t)inv->ns_max, "own_is_root",
		      inv->own_is_root, "shared_table",
		      inv->shared_table, "entries_listed",
		      (json_int_t)inv->entries_all, "load_all",
		      isfinite(inv->load_all)
			      ? json_real(round(inv->load_all * 1e6) / 1e6)
			      : json_null(),
		      "list", list);
	return o;
}

json_t *ctp_json_table(const ctp_inventory *inv)
{
	json_t *t = json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "count",
		u64_or_null(inv->count.known, inv->count.value),
		"count_source", str_or_null(inv->count.source), "max",
		u64_or_null(inv->max.known, inv->max.value), "buckets",
		u64_or_null(inv->buckets.known, inv->buckets.value),
		"buckets_source", str_or_null(inv->buckets.source),
		"headroom",
		inv->has_headroom ? json_integer((json_int_t)inv->headroom)
				  : json_null(),
		"headroom_pct",
		inv->has_headroom ? json_real(inv->headroom_pct)
				  : json_null());

	/* --to-kernel projections (docs/report.md) */
	if (t && (json_object_set_new(t, "max_projected",
				      json_boolean(inv->max_projected)) ||
		  json_object_set_new(t, "buckets_projected",
				      json_boolean(inv->buckets_projected)))) {
		json_decref(t);
		return NULL;
	}
	/* set_new steals the value */
	if (t && json_object_set_new(t, "namespaces", ns_json(inv))) {
		json_decref(t);
		return NULL;
	}
	if (t && inv->has_full_drop_p &&
	    json_object_set_new(t, "full_drop_p",
				isfinite(inv->full_drop_p)
					? json_real(inv->full_drop_p)
					: json_null())) {
		json_decref(t);
		return NULL;
	}
	return t;
}

json_t *ctp_json_stats(const ctp_inventory *inv)
{
	json_t *s = json_object();

	for (size_t i = 0; s && i < CTP_INV_STATS; i++)
		if (json_object_set_new(s, ctp_stat_name(ctp_inventory_stats[i]),
					u64_or_null(inv->stat_have[i],
						    inv->stat[i]))) {
			json_decref(s);
			return NULL;
		}
	if (s && (json_object_set_new(s, "cpus",
				      json_integer((json_int_t)inv->cpus)) ||
		  json_object_set_new(s, "source",
				      str_or_null(inv->stats_source)))) {
		json_decref(s);
		return NULL;
	}
	return s;
}
