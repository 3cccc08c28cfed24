/*
 * The typed report as the JSON tree of docs/report.md: "schema", the
 * findings, every section in the order the models added them, then the
 * checks.  Each kind of section has its builder here; the other
 * renderers read the tree.
 */
#include <math.h>
#include <stdlib.h>

#include "ctplan/error.h"
#include "ctplan/report_tree.h"
#include "json_sections.h"

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *findings_json(const ctp_report *rep)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < ctp_report_finding_count(rep); i++) {
		const ctp_finding *f = ctp_report_finding_at(rep, i);
		/* json_pack "o" steals each value's reference */
		json_t *o = json_pack(
			"{s:s, s:s, s:o, s:o, s:s, s:o}", "severity",
			ctp_finding_sev_name(f->sev), "code", f->code,
			"figure", num_or_null(f->figure), "limit",
			num_or_null(f->limit), "advice", f->advice, "action",
			f->action ? json_string(f->action) : json_null());

		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *checks_json(const ctp_report *rep)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < ctp_report_check_count(rep); i++) {
		const ctp_check *c = ctp_report_check_at(rep, i);
		int known = isfinite(c->value);
		json_t *o = json_pack(
			"{s:s, s:o, s:f, s:o, s:s, s:s, s:s, s:s}", "name",
			c->name, "value",
			known ? json_real(c->value) : json_null(), "limit",
			c->limit, "ok",
			!known ? json_null()
			       : json_boolean(c->below
						      ? c->value <= c->limit
						      : c->value >= c->limit),
			"op", c->below ? "<=" : ">=", "source", c->source,
			"what", c->what, "severity",
			c->warn ? "warn" : "fail");

		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *section_json(ctp_section_kind kind, const void *data)
{
	switch (kind) {
	case CTP_SEC_INPUTS:
		return ctp_json_inputs(data);
	case CTP_SEC_ENTRIES:
		return ctp_json_entries(data);
	case CTP_SEC_TABLE:
		return ctp_json_table(data);
	case CTP_SEC_STATS:
		return ctp_json_stats(data);
	case CTP_SEC_HASH:
		return ctp_json_hash(data);
	case CTP_SEC_NAT:
		return ctp_json_nat(data);
	case CTP_SEC_HISTORY:
		return ctp_json_history(data);
	case CTP_SEC_HEADROOM:
		return ctp_json_headroom(data);
	case CTP_SEC_PLAN:
		return ctp_json_recommendation(data);
	case CTP_SEC_DEFAULTS:
		return ctp_json_defaults(data);
	default:
		return NULL;
	}
}

/* the cache: the tree and the report generation it was built at */
typedef struct cache {
	json_t *root;
	unsigned long gen;
} cache;

static void cache_free(void *p)
{
	cache *c = p;

	if (c)
		json_decref(c->root);
	free(c);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* "host": who the report is of and when the input says it was taken */
static json_t *host_json(const ctp_report *rep)
{
	/* json_pack "o" steals each value's reference */
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "name",
			 str_or_null(ctp_report_host_name(rep)), "name_from",
			 str_or_null(ctp_report_host_name_from(rep)),
			 "kernel", str_or_null(ctp_report_host_release(rep)),
			 "captured_at",
			 str_or_null(ctp_report_host_captured_at(rep)),
			 "captured_from",
			 str_or_null(ctp_report_host_captured_from(rep)));
}

static json_t *build(const ctp_report *rep)
{
	json_t *root = json_object();
	ctp_section_kind kind;
	const void *data;
	const char *key;

	/* set_new: root takes each new value's only reference */
	if (!root ||
	    json_object_set_new(root, "schema",
				json_string(CTP_REPORT_SCHEMA)) ||
	    json_object_set_new(root, "tool",
				json_pack("{s:s, s:s}", "name", "ctplan",
					  "version", CTPLAN_VERSION)) ||
	    json_object_set_new(root, "host", host_json(rep)) ||
	    json_object_set_new(root, "findings", findings_json(rep)))
		goto oom;
	for (size_t i = 0;
	     (key = ctp_report_section_at(rep, i, &kind, &data)); i++)
		if (json_object_set_new(root, key, section_json(kind, data)))
			goto oom;
	if (ctp_report_has_checks(rep) &&
	    json_object_set_new(root, "checks", checks_json(rep)))
		goto oom;
	return root;
oom:
	json_decref(root);
	return NULL;
}

json_t *ctp_report_root(ctp_report *rep)
{
	void (*fn)(void *);
	cache *c = ctp_report_tree_slot(rep, &fn);

	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		ctp_report_set_tree_slot(rep, c, cache_free);
	}
	if (!c->root || c->gen != ctp_report_generation(rep)) {
		json_decref(c->root);
		c->root = build(rep);
		c->gen = ctp_report_generation(rep);
	}
	return c->root;
}
