/*
 * Shared by the analyzer's report tests: snapshots read from text, the
 * models of the pipeline run in order up to one of them, and lookups of
 * findings.  Include after <cmocka.h>.
 */
#ifndef CTPLAN_TEST_ANALYSIS_FIXTURE_H
#define CTPLAN_TEST_ANALYSIS_FIXTURE_H

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/report.h"

/* A finalized snapshot of the named buffers: name, text, ..., NULL. */
static inline ctp_snapshot *snap_of(const char *name, ...)
{
	ctp_parse_opts po = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *s;
	va_list ap;

	assert_int_equal(ctp_snapshot_new(&s), 0);
	va_start(ap, name);
	for (; name; name = va_arg(ap, const char *)) {
		const char *text = va_arg(ap, const char *);

		assert_int_equal(ctp_parse_buffer(s, name, text, strlen(text),
						  &po, &err),
				 0);
	}
	va_end(ap);
	assert_int_equal(ctp_snapshot_finalize(s), 0);
	return s;
}

/* A new report of the models in order up to and including the one named
 * last (ctp_analyze_model_name); *ap keeps the analysis when ap is not
 * NULL. */
static inline ctp_report *run_to(const ctp_snapshot *s,
				 const ctp_analyze_opts *ao, const char *last,
				 ctp_analysis **ap)
{
	ctp_error err = CTP_ERROR_INIT;
	ctp_analysis *a;
	ctp_report *rep;
	size_t i = 0;

	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(ctp_analysis_new(s, ao, &a, &err), 0);
	do
		assert_int_equal(ctp_analyze_model(i, a, rep, &err), 0);
	while (strcmp(ctp_analyze_model_name(i++), last));
	if (ap)
		*ap = a;
	else
		ctp_analysis_free(a);
	return rep;
}

static inline void release(ctp_report *rep, ctp_analysis *a,
			   ctp_snapshot *s)
{
	ctp_report_free(rep);
	ctp_analysis_free(a);
	ctp_snapshot_free(s);
}

/* The nth finding (from 0) with this code, or NULL. */
static inline const ctp_finding *finding_nth(const ctp_report *rep,
					     const char *code, size_t nth)
{
	for (size_t i = 0; i < ctp_report_finding_count(rep); i++)
		if (!strcmp(ctp_report_finding_at(rep, i)->code, code) &&
		    !nth--)
			return ctp_report_finding_at(rep, i);
	return NULL;
}

static inline const ctp_finding *finding(const ctp_report *rep,
					 const char *code)
{
	return finding_nth(rep, code, 0);
}

/* The finding code is there with this severity, figure and action
 * (NULL: none). */
static inline const ctp_finding *has(const ctp_report *rep,
				     const char *code, ctp_finding_sev sev,
				     double figure, const char *action)
{
	const ctp_finding *f = finding(rep, code);

	if (!f || f->sev != sev || fabs(f->figure - figure) > 1e-9)
		fail_msg("%s: want severity %d figure %g", code, sev, figure);
	if (action)
		assert_string_equal(f->action, action);
	else
		assert_null(f->action);
	return f;
}

/* The action the findings and the Recommendations name for raising a
 * setting to the planner's figure. */
static inline const char *set_act(char *buf, const char *key, uint64_t v)
{
	snprintf(buf, 80, "set %s = %llu", key, (unsigned long long)v);
	return buf;
}

#endif
