/*
 * ctplan report: one tree of figures and findings, built once by the
 * analyzer models and read by every renderer (text, json, csv, ...), so
 * the formats never disagree.
 *
 * The tree is a jansson object.  Models add their section under a
 * top-level key ("inputs", "entries", "table", "stats", "hash", "nat",
 * ...); key names are documented in docs/report.md and stay stable.
 * Findings go through ctp_report_finding so they share one shape.
 */
#ifndef CTPLAN_REPORT_H
#define CTPLAN_REPORT_H

#include <jansson.h>

#define CTP_REPORT_SCHEMA "ctplan.report/1"

typedef struct ctp_report ctp_report;

typedef enum ctp_finding_sev {
	CTP_FINDING_INFO = 0,
	CTP_FINDING_WARN = 1,
	CTP_FINDING_CRIT = 2,
} ctp_finding_sev;

int ctp_report_new(ctp_report **out);
void ctp_report_free(ctp_report *rep);

/* The root object; borrowed, owned by the report. */
json_t *ctp_report_root(ctp_report *rep);

/*
 * Section key of the root, created as an empty object when missing;
 * borrowed.  NULL on out of memory.
 */
json_t *ctp_report_section(ctp_report *rep, const char *key);

/*
 * Add a finding: a severity, a stable code ("table.headroom_low"), the
 * figure measured and the limit it was held against (NAN when there is
 * none), and one sentence that explains it (its "advice").  A finding
 * made with ctp_report_finding_act also carries an action: what to do,
 * whole, as the Recommendations list it ("raise nf_conntrack_max");
 * NULL or ctp_report_finding: none (the finding only informs).
 */
int ctp_report_finding(ctp_report *rep, ctp_finding_sev sev,
		       const char *code, double figure, double limit,
		       const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int ctp_report_finding_act(ctp_report *rep, ctp_finding_sev sev,
			   const char *code, double figure, double limit,
			   const char *action, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

const char *ctp_finding_sev_name(ctp_finding_sev sev);

#endif
