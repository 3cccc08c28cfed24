#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include "ctplan/error.h"
#include "ctplan/report.h"

struct ctp_report {
	json_t *root;
};

int ctp_report_new(ctp_report **out)
{
	ctp_report *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return CTP_ENOMEM;
	r->root = json_object();
	/* json_object_set_new steals the new string's reference */
	if (!r->root || json_object_set_new(r->root, "schema",
					    json_string(CTP_REPORT_SCHEMA)) ||
	    json_object_set_new(r->root, "findings", json_array())) {
		json_decref(r->root);
		free(r);
		return CTP_ENOMEM;
	}
	*out = r;
	return 0;
}

void ctp_report_free(ctp_report *r)
{
	if (!r)
		return;
	json_decref(r->root);
	free(r);
}

json_t *ctp_report_root(ctp_report *r)
{
	return r->root;
}

json_t *ctp_report_section(ctp_report *r, const char *key)
{
	json_t *s = json_object_get(r->root, key);

	if (s)
		return s;
	s = json_object();
	/* the root takes the only reference; we hand out a borrowed one */
	if (!s || json_object_set_new(r->root, key, s))
		return NULL;
	return s;
}

const char *ctp_finding_sev_name(ctp_finding_sev sev)
{
	switch (sev) {
	case CTP_FINDING_CRIT:
		return "critical";
	case CTP_FINDING_WARN:
		return "warning";
	default:
		return "info";
	}
}

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static int finding(ctp_report *r, ctp_finding_sev sev, const char *code,
		   double figure, double limit, const char *action,
		   const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

static int finding(ctp_report *r, ctp_finding_sev sev, const char *code,
		   double figure, double limit, const char *action,
		   const char *fmt, va_list ap)
{
	char advice[640];
	json_t *f;

	vsnprintf(advice, sizeof(advice), fmt, ap);
	/* json_pack "o" steals each value's reference */
	f = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "severity",
		      ctp_finding_sev_name(sev), "code", code, "figure",
		      num_or_null(figure), "limit", num_or_null(limit),
		      "advice", advice, "action",
		      action ? json_string(action) : json_null());
	if (!f)
		return CTP_ENOMEM;
	return json_array_append_new(json_object_get(r->root, "findings"), f)
		       ? CTP_ENOMEM
		       : 0;
}

int ctp_report_finding(ctp_report *r, ctp_finding_sev sev, const char *code,
		       double figure, double limit, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = finding(r, sev, code, figure, limit, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int ctp_report_finding_act(ctp_report *r, ctp_finding_sev sev,
			   const char *code, double figure, double limit,
			   const char *action, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = finding(r, sev, code, figure, limit, action, fmt, ap);
	va_end(ap);
	return rc;
}
