/*
 * ctplan report: one typed report, built once by the analyzer models
 * and read by every renderer (render/), so the formats never disagree.
 *
 * It holds the findings, the checks, and the models' sections in the
 * order they were added.  A section is a model's typed result, handed
 * over whole (ctp_report_add_section); the renderers know each kind's
 * type (render/tree.c turns them into the JSON tree of docs/report.md,
 * which the other formats read).  Nothing here knows JSON.
 */
#ifndef CTPLAN_REPORT_H
#define CTPLAN_REPORT_H

#include <stddef.h>

#define CTP_REPORT_SCHEMA "ctplan.report/1"

typedef struct ctp_report ctp_report;

typedef enum ctp_finding_sev {
	CTP_FINDING_INFO = 0,
	CTP_FINDING_WARN = 1,
	CTP_FINDING_CRIT = 2,
} ctp_finding_sev;

/* One finding: what was seen (advice) and, when something can be done,
 * what (action, whole; NULL: the finding only informs). */
typedef struct ctp_finding {
	ctp_finding_sev sev;
	const char *code;   /* stable: "table.headroom_low" */
	double figure;      /* NAN: none */
	double limit;       /* NAN: none */
	const char *advice;
	const char *action; /* NULL: none */
} ctp_finding;

/* One check of "ctplan check": value against limit. */
typedef struct ctp_check {
	const char *name;
	double value;       /* NAN: the report lacks the figure */
	double limit;
	int below;          /* 1: ok when value <= limit; 0: >= */
	const char *source; /* where the figure came from */
	const char *what;
	/* 1: missing the limit is a warning, not a failure: the check is
	 * printed "WARN", counted in no exit status (a long chain on a
	 * kernel that refuses no flow for it costs lookup time only) */
	int warn;
} ctp_check;

/*
 * Kinds of section, each a model's typed result (the type is named in
 * the model's header).
 */
typedef enum ctp_section_kind {
	CTP_SEC_INPUTS = 0,    /* ctp_inventory (include/ctplan/inventory.h) */
	CTP_SEC_ENTRIES,   /* ctp_inventory */
	CTP_SEC_TABLE,     /* ctp_inventory */
	CTP_SEC_STATS,     /* ctp_inventory */
	CTP_SEC_HASH,      /* ctp_hash_section (include/ctplan/hash.h) */
	CTP_SEC_NAT,       /* ctp_nat_section (include/ctplan/nat.h) */
	CTP_SEC_HISTORY,   /* ctp_history_section (ctplan/history.h) */
	CTP_SEC_HEADROOM,  /* ctp_headroom_section (ctplan/plan.h) */
	CTP_SEC_PLAN,      /* ctp_plan_section: "recommendation" */
	CTP_SEC_DEFAULTS,  /* ctp_plan_section: "defaults" */
	CTP_SEC_KIND_COUNT
} ctp_section_kind;

int ctp_report_new(ctp_report **out);
void ctp_report_free(ctp_report *rep);

/*
 * Add a finding: a severity, a stable code, the figure measured and the
 * limit it was held against (NAN when there is none), and one sentence
 * that explains it (its "advice").  ctp_report_finding_act also gives an
 * action: what to do, whole, as the Recommendations list it ("raise
 * nf_conntrack_max"); NULL or ctp_report_finding: none.  0 or
 * CTP_ENOMEM.
 */
int ctp_report_finding(ctp_report *rep, ctp_finding_sev sev,
		       const char *code, double figure, double limit,
		       const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int ctp_report_finding_act(ctp_report *rep, ctp_finding_sev sev,
			   const char *code, double figure, double limit,
			   const char *action, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Findings are kept in the one order every format shows: critical,
 * warning, info, then by code, then as added; so text, JSON, CSV, HTML
 * and prom never disagree.  Index i is in that order. */
size_t ctp_report_finding_count(const ctp_report *rep);
const ctp_finding *ctp_report_finding_at(const ctp_report *rep, size_t i);

const char *ctp_finding_sev_name(ctp_finding_sev sev);

/* Add a check (the strings are copied); 0 or CTP_ENOMEM.  The checks
 * exist (possibly none) once ctp_report_checks_begin ran. */
int ctp_report_checks_begin(ctp_report *rep);
int ctp_report_add_check(ctp_report *rep, const ctp_check *c);
int ctp_report_has_checks(const ctp_report *rep);
size_t ctp_report_check_count(const ctp_report *rep);
const ctp_check *ctp_report_check_at(const ctp_report *rep, size_t i);
/* checks that failed (value known and not within the limit), and those
 * with no figure */
size_t ctp_report_checks_failed(const ctp_report *rep);
size_t ctp_report_checks_unknown(const ctp_report *rep);

/*
 * Sections, in the order added.  ctp_report_add_section hands data over
 * (free_fn frees it with the report; NULL: not owned) under key, the
 * top-level key of docs/report.md.  A key added twice replaces the
 * first's data in place.  0 or CTP_ENOMEM (then data is freed).
 */
int ctp_report_add_section(ctp_report *rep, const char *key,
			   ctp_section_kind kind, void *data,
			   void (*free_fn)(void *));
size_t ctp_report_section_count(const ctp_report *rep);
/* Section i: its key, kind and data (NULL past the end). */
const char *ctp_report_section_at(const ctp_report *rep, size_t i,
				  ctp_section_kind *kind, const void **data);
/* The data of the section under key, if it is of that kind, or NULL. */
const void *ctp_report_get(const ctp_report *rep, const char *key,
			   ctp_section_kind kind);
void *ctp_report_get_mut(ctp_report *rep, const char *key,
			 ctp_section_kind kind);

/*
 * The host the report is of (the "host" object of docs/report.md): its
 * name and what gave it ("uname", "sysctl", "path"), its uname release
 * (NULL: not read), and the time the input says it was captured with
 * what says so (NULL: it does not say; a file's mtime is no capture
 * time).  Copied; 0 or CTP_ENOMEM.
 */
int ctp_report_set_host(ctp_report *rep, const char *name,
			const char *name_from, const char *release,
			const char *captured_at, const char *captured_from);
/* The strings set, or NULL. */
const char *ctp_report_host_name(const ctp_report *rep);
const char *ctp_report_host_name_from(const ctp_report *rep);
const char *ctp_report_host_release(const ctp_report *rep);
const char *ctp_report_host_captured_at(const ctp_report *rep);
const char *ctp_report_host_captured_from(const ctp_report *rep);

/* Changes whenever something is added: a renderer's cache is stale
 * when it differs. */
unsigned long ctp_report_generation(const ctp_report *rep);

/* The JSON tree renderers read lives with the report, built once by
 * render/tree.c: an opaque slot and its destructor. */
void *ctp_report_tree_slot(ctp_report *rep, void (**free_fn)(void *));
void ctp_report_set_tree_slot(ctp_report *rep, void *tree,
			      void (*free_fn)(void *));

#endif
