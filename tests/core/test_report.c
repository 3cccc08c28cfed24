/*
 * The typed report (core/report.c): findings with and without an
 * action, checks counted failed and unknown, sections in order and
 * replaced by key, lookups by kind, and the generation that tells a
 * renderer its cache is stale; and the JSON tree render/tree.c builds
 * from it (include/ctplan/report_tree.h).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/analyze.h"
#include "ctplan/inventory.h"
#include "ctplan/parse.h"
#include "ctplan/report.h"
#include "ctplan/report_tree.h"

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

static int *boxed(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

static void test_findings(void **state)
{
	ctp_report *rep;
	const ctp_finding *f;
	char action[32] = "raise nf_conntrack_max";

	(void)state;
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_report_finding_count(rep), 0);
	assert_null(ctp_report_finding_at(rep, 0));
	assert_int_equal(ctp_report_finding(rep, CTP_FINDING_INFO, "a.info",
					    NAN, NAN, "%d entries of %s", 3,
					    "tcp"),
			 0);
	assert_int_equal(ctp_report_finding_act(rep, CTP_FINDING_CRIT,
						"table.full", 100, 100.5,
						action, "full at %.1f%%",
						99.5),
			 0);
	assert_int_equal(ctp_report_finding_act(rep, CTP_FINDING_WARN, "b",
						1, 2, NULL, "no action"),
			 0);
	/* the report keeps its own copies */
	strcpy(action, "changed");
	assert_int_equal(ctp_report_finding_count(rep), 3);
	/* kept in the one order of every format: critical, warning, info */
	f = ctp_report_finding_at(rep, 2);
	assert_int_equal(f->sev, CTP_FINDING_INFO);
	assert_string_equal(f->code, "a.info");
	assert_true(isnan(f->figure) && isnan(f->limit));
	assert_string_equal(f->advice, "3 entries of tcp");
	assert_null(f->action);
	f = ctp_report_finding_at(rep, 0);
	assert_int_equal(f->sev, CTP_FINDING_CRIT);
	assert_true(f->figure == 100 && f->limit == 100.5);
	assert_string_equal(f->advice, "full at 99.5%");
	assert_string_equal(f->action, "raise nf_conntrack_max");
	assert_string_equal(ctp_report_finding_at(rep, 1)->code, "b");
	assert_null(ctp_report_finding_at(rep, 1)->action);
	assert_null(ctp_report_finding_at(rep, 3));
	ctp_report_free(rep);

	/* same severity: by code; same code: as added */
	assert_int_equal(ctp_report_new(&rep), 0);
	static const struct {
		ctp_finding_sev sev;
		const char *code, *advice;
	} add[] = {
		{ CTP_FINDING_WARN, "z.last", "1" },
		{ CTP_FINDING_INFO, "a.first", "2" },
		{ CTP_FINDING_WARN, "m.mid", "3" },
		{ CTP_FINDING_CRIT, "zz", "4" },
		{ CTP_FINDING_WARN, "m.mid", "5" },
	};
	static const char *const want[] = { "4", "3", "5", "1", "2" };
	for (size_t i = 0; i < sizeof(add) / sizeof(add[0]); i++)
		assert_int_equal(ctp_report_finding(rep, add[i].sev,
						    add[i].code, NAN, NAN,
						    "%s", add[i].advice),
				 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(ctp_report_finding_at(rep, i)->advice,
				    want[i]);
	assert_string_equal(ctp_finding_sev_name(CTP_FINDING_INFO), "info");
	assert_string_equal(ctp_finding_sev_name(CTP_FINDING_WARN), "warning");
	assert_string_equal(ctp_finding_sev_name(CTP_FINDING_CRIT),
			    "critical");
	ctp_report_free(rep);
}

static void add(ctp_report *rep, const char *name, double value,
		double limit, int below)
{
	char src[16] = "source", what[16] = "what";
	ctp_check c = { name, value, limit, below, src, what, 0 };

	assert_int_equal(ctp_report_add_check(rep, &c), 0);
	/* copied: the caller's strings may go */
	strcpy(src, "gone");
	strcpy(what, "gone");
}

static void test_checks(void **state)
{
	ctp_report *rep;
	const ctp_check *c;

	(void)state;
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_false(ctp_report_has_checks(rep));
	assert_int_equal(ctp_report_checks_begin(rep), 0);
	assert_true(ctp_report_has_checks(rep));
	assert_int_equal(ctp_report_check_count(rep), 0);
	assert_int_equal(ctp_report_checks_failed(rep), 0);
	add(rep, "below_ok", 0.5, 0.5, 1);   /* the limit itself is ok */
	add(rep, "below_fail", 0.6, 0.5, 1);
	add(rep, "above_ok", 25, 25, 0);
	add(rep, "above_fail", 10, 25, 0);
	add(rep, "unknown", NAN, 25, 0);
	add(rep, "unknown_below", NAN, 1, 1);
	add(rep, "inf", INFINITY, 1, 1); /* no figure either */
	assert_int_equal(ctp_report_check_count(rep), 7);
	assert_int_equal(ctp_report_checks_failed(rep), 2);
	assert_int_equal(ctp_report_checks_unknown(rep), 3);
	c = ctp_report_check_at(rep, 1);
	assert_string_equal(c->name, "below_fail");
	assert_true(c->value == 0.6 && c->limit == 0.5 && c->below);
	assert_string_equal(c->source, "source");
	assert_string_equal(c->what, "what");
	assert_null(ctp_report_check_at(rep, 7));
	ctp_report_free(rep);
}

static void test_sections(void **state)
{
	ctp_report *rep;
	ctp_section_kind kind;
	const void *data;
	int fixed = 42;
	int *a = boxed(1), *b = boxed(2), *c = boxed(3);

	(void)state;
	freed = 0;
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_report_section_count(rep), 0);
	assert_null(ctp_report_get(rep, "x", CTP_SEC_HASH));
	assert_int_equal(
		ctp_report_add_section(rep, "one", CTP_SEC_HASH, a, count_free),
		0);
	assert_int_equal(ctp_report_add_section(rep, "two", CTP_SEC_NAT,
						 &fixed, NULL),
			 0);
	assert_int_equal(ctp_report_add_section(rep, "three", CTP_SEC_PLAN, b,
						 count_free),
			 0);
	assert_int_equal(ctp_report_section_count(rep), 3);
	assert_string_equal(ctp_report_section_at(rep, 0, &kind, &data),
			    "one");
	assert_int_equal(kind, CTP_SEC_HASH);
	assert_ptr_equal(data, a);
	assert_string_equal(ctp_report_section_at(rep, 1, NULL, NULL), "two");
	assert_string_equal(ctp_report_section_at(rep, 2, &kind, &data),
			    "three");
	assert_ptr_equal(data, b);
	assert_null(ctp_report_section_at(rep, 3, &kind, &data));
	/* by key, of its kind only */
	assert_ptr_equal(ctp_report_get(rep, "two", CTP_SEC_NAT), &fixed);
	assert_null(ctp_report_get(rep, "two", CTP_SEC_HASH));
	assert_null(ctp_report_get(rep, "four", CTP_SEC_NAT));
	assert_ptr_equal(ctp_report_get_mut(rep, "one", CTP_SEC_HASH), a);
	assert_null(ctp_report_get_mut(rep, "one", CTP_SEC_PLAN));
	/* the same key again: in place, the old data freed */
	assert_int_equal(ctp_report_add_section(rep, "one", CTP_SEC_HISTORY,
						 c, count_free),
			 0);
	assert_int_equal(freed, 1);
	assert_int_equal(ctp_report_section_count(rep), 3);
	assert_string_equal(ctp_report_section_at(rep, 0, &kind, &data),
			    "one");
	assert_int_equal(kind, CTP_SEC_HISTORY);
	assert_ptr_equal(data, c);
	assert_null(ctp_report_get(rep, "one", CTP_SEC_HASH));
	assert_int_equal(*(const int *)ctp_report_get(rep, "one",
						      CTP_SEC_HISTORY),
			 3);
	/* the report frees what it owns, not what it borrowed */
	ctp_report_free(rep);
	assert_int_equal(freed, 3);
	assert_int_equal(fixed, 42);
}

/* every addition changes the generation; reading does not */
static void test_generation(void **state)
{
	ctp_report *rep;
	unsigned long g, h;
	ctp_check c = { "c", 1, 2, 1, "s", "w", 0 };

	(void)state;
	assert_int_equal(ctp_report_new(&rep), 0);
	g = ctp_report_generation(rep);
#define CHANGES(call)                                        \
	do {                                                 \
		assert_int_equal(call, 0);                   \
		h = ctp_report_generation(rep);              \
		assert_true(h != g);                         \
		g = h;                                       \
	} while (0)
	CHANGES(ctp_report_finding(rep, CTP_FINDING_INFO, "f", 1, 2, "x"));
	CHANGES(ctp_report_finding_act(rep, CTP_FINDING_WARN, "g", 1, 2, "a",
				       "y"));
	CHANGES(ctp_report_checks_begin(rep));
	CHANGES(ctp_report_add_check(rep, &c));
	CHANGES(ctp_report_add_section(rep, "s", CTP_SEC_NAT, &c, NULL));
	/* a replacement is a change too */
	CHANGES(ctp_report_add_section(rep, "s", CTP_SEC_HASH, &c, NULL));
#undef CHANGES
	(void)ctp_report_finding_at(rep, 0);
	(void)ctp_report_get(rep, "s", CTP_SEC_HASH);
	(void)ctp_report_checks_failed(rep);
	assert_true(ctp_report_generation(rep) == g);
	ctp_report_free(rep);
}

/* the keys of root in order, NULL-terminated */
static void keys_are(json_t *root, ...)
{
	void *it = json_object_iter(root);
	const char *want;
	va_list ap;

	va_start(ap, root);
	for (; (want = va_arg(ap, const char *));
	     it = json_object_iter_next(root, it)) {
		assert_non_null(it);
		assert_string_equal(json_object_iter_key(it), want);
	}
	va_end(ap);
	assert_null(it);
}

static void test_tree(void **state)
{
	static const char list[] =
		"tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 "
		"sport=1000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 "
		"dport=1000 [ASSURED] mark=0 use=1\n";
	ctp_parse_opts po = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_check c = { "chk", NAN, 25, 0, "none", "what", 0 };
	ctp_snapshot *s;
	ctp_analysis *a;
	ctp_report *rep;
	json_t *root, *f, *e;
	size_t n;

	(void)state;
	assert_int_equal(ctp_report_new(&rep), 0);
	/* an empty report: the schema and no finding */
	root = ctp_report_root(rep);
	keys_are(root, "schema", "tool", "host", "findings", NULL);
	assert_string_equal(json_string_value(json_object_get(root, "schema")),
			    CTP_REPORT_SCHEMA);
	assert_int_equal(json_array_size(json_object_get(root, "findings")),
			 0);
	/* the program that wrote it, and the host: unnamed until set */
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(root, "tool"), "version")),
			    CTPLAN_VERSION);
	assert_true(json_is_null(
		json_object_get(json_object_get(root, "host"), "name")));
	assert_int_equal(ctp_report_set_host(rep, "db1", "uname",
					     "6.1.0-18-amd64",
					     "2026-12-07T20:38:01Z",
					     "MANIFEST"),
			 0);
	root = ctp_report_root(rep);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(root, "host"), "name")),
			    "db1");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(root, "host"), "captured_at")),
		"2026-12-07T20:38:01Z");
	/* the inventory's four sections of one listing */
	assert_int_equal(ctp_snapshot_new(&s), 0);
	assert_int_equal(
		ctp_parse_buffer(s, "list", list, strlen(list), &po, &err), 0);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	assert_int_equal(ctp_analysis_new(s, NULL, &a, &err), 0);
	assert_int_equal(ctp_inventory_report(a, rep, &err), 0);
	n = ctp_report_finding_count(rep);
	root = ctp_report_root(rep);
	keys_are(root, "schema", "tool", "host", "findings", "inputs", "entries", "table",
		 "stats", NULL);
	e = json_object_get(root, "entries");
	assert_int_equal(json_integer_value(json_object_get(e, "total")), 1);
	/* unchanged: the same tree */
	assert_ptr_equal(ctp_report_root(rep), root);
	/* a finding and checks (of which one with no figure): rebuilt,
	 * checks last */
	assert_int_equal(ctp_report_finding(rep, CTP_FINDING_WARN, "z.late",
					    NAN, 20, "late"),
			 0);
	assert_int_equal(ctp_report_checks_begin(rep), 0);
	assert_int_equal(ctp_report_add_check(rep, &c), 0);
	root = ctp_report_root(rep);
	keys_are(root, "schema", "tool", "host", "findings", "inputs", "entries", "table",
		 "stats", "checks", NULL);
	f = json_array_get(json_object_get(root, "findings"), n);
	assert_string_equal(json_string_value(json_object_get(f, "code")),
			    "z.late");
	assert_string_equal(json_string_value(json_object_get(f, "severity")),
			    "warning");
	assert_true(json_is_null(json_object_get(f, "figure")));
	assert_true(json_real_value(json_object_get(f, "limit")) == 20);
	assert_true(json_is_null(json_object_get(f, "action")));
	e = json_array_get(json_object_get(root, "checks"), 0);
	assert_true(json_is_null(json_object_get(e, "value")));
	assert_true(json_is_null(json_object_get(e, "ok")));
	assert_string_equal(json_string_value(json_object_get(e, "op")), ">=");
	/* a section added later goes before the checks */
	assert_int_equal(ctp_report_add_section(
				 rep, "again", CTP_SEC_ENTRIES,
				 (void *)ctp_report_get(rep, "entries",
							CTP_SEC_ENTRIES),
				 NULL),
			 0);
	root = ctp_report_root(rep);
	keys_are(root, "schema", "tool", "host", "findings", "inputs", "entries", "table",
		 "stats", "again", "checks", NULL);
	assert_true(json_equal(json_object_get(root, "again"),
			       json_object_get(root, "entries")));
	ctp_report_free(rep);
	ctp_analysis_free(a);
	ctp_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_tree),
	};

	return cmocka_run_group_tests_name("core/report", tests, NULL, NULL);
}
