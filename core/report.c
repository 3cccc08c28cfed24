/*
 * The typed report (include/ctplan/report.h): findings, checks and the
 * models' sections, in order.  Renderers turn it into text, JSON, ...
 * (render/tree.c builds the JSON tree they share).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/error.h"
#include "ctplan/report.h"
#include "grow.h"

typedef struct section {
	char *key;
	ctp_section_kind kind;
	void *data;
	void (*free_fn)(void *);
} section;

struct ctp_report {
	ctp_finding *findings;
	size_t nfindings, cap_findings;
	ctp_check *checks;
	size_t nchecks, cap_checks;
	int has_checks;
	section *sections;
	size_t nsections, cap_sections;
	/* name, name_from, release, captured_at, captured_from */
	char *host[5];
	void *tree;
	void (*tree_free)(void *);
	unsigned long gen; /* changes with every addition */
};

int ctp_report_new(ctp_report **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : CTP_ENOMEM;
}

static void section_free(section *s)
{
	if (s->free_fn)
		s->free_fn(s->data);
	free(s->key);
}

void ctp_report_free(ctp_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfindings; i++) {
		free((char *)r->findings[i].code);
		free((char *)r->findings[i].advice);
		free((char *)r->findings[i].action);
	}
	free(r->findings);
	for (size_t i = 0; i < r->nchecks; i++) {
		free((char *)r->checks[i].name);
		free((char *)r->checks[i].source);
		free((char *)r->checks[i].what);
	}
	free(r->checks);
	for (size_t i = 0; i < r->nsections; i++)
		section_free(&r->sections[i]);
	free(r->sections);
	for (size_t i = 0; i < 5; i++)
		free(r->host[i]);
	if (r->tree_free)
		r->tree_free(r->tree);
	free(r);
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

/* The one order of findings (report.h): critical first, then by code;
 * a tie keeps the order added. */
static int finding_cmp(const ctp_finding *a, const ctp_finding *b)
{
	if (a->sev != b->sev)
		return a->sev > b->sev ? -1 : 1;
	return strcmp(a->code, b->code);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
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
	ctp_finding *f;

	vsnprintf(advice, sizeof(advice), fmt, ap);
	if (ctp_grow((void **)&r->findings, &r->cap_findings, r->nfindings + 1,
		     sizeof(*r->findings)))
		return CTP_ENOMEM;
	f = &r->findings[r->nfindings];
	r->gen++;
	/* f is filled at the end, then moved to its place below */
	f->sev = sev;
	f->figure = figure;
	f->limit = limit;
	f->code = strdup(code);
	f->advice = strdup(advice);
	f->action = dup_or_null(action);
	if (!f->code || !f->advice || (action && !f->action)) {
		free((char *)f->code);
		free((char *)f->advice);
		free((char *)f->action);
		return CTP_ENOMEM;
	}
	{
		/* after every finding that sorts before or with it: stable */
		ctp_finding nf = *f;
		size_t at = r->nfindings;

		while (at > 0 && finding_cmp(&nf, &r->findings[at - 1]) < 0)
			at--;
		memmove(&r->findings[at + 1], &r->findings[at],
			(r->nfindings - at) * sizeof(*r->findings));
		r->findings[at] = nf;
	}
	r->nfindings++;
	return 0;
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

size_t ctp_report_finding_count(const ctp_report *r)
{
	return r->nfindings;
}

const ctp_finding *ctp_report_finding_at(const ctp_report *r, size_t i)
{
	return i < r->nfindings ? &r->findings[i] : NULL;
}

int ctp_report_checks_begin(ctp_report *r)
{
	r->has_checks = 1;
	r->gen++;
	return 0;
}

int ctp_report_add_check(ctp_report *r, const ctp_check *c)
{
	ctp_check *d;

	r->has_checks = 1;
	r->gen++;
	if (ctp_grow((void **)&r->checks, &r->cap_checks, r->nchecks + 1,
		     sizeof(*r->checks)))
		return CTP_ENOMEM;
	d = &r->checks[r->nchecks];
	*d = *c;
	d->name = strdup(c->name);
	d->source = strdup(c->source);
	d->what = strdup(c->what);
	if (!d->name || !d->source || !d->what) {
		free((char *)d->name);
		free((char *)d->source);
		free((char *)d->what);
		return CTP_ENOMEM;
	}
	r->nchecks++;
	return 0;
}

int ctp_report_has_checks(const ctp_report *r)
{
	return r->has_checks;
}

size_t ctp_report_check_count(const ctp_report *r)
{
	return r->nchecks;
}

const ctp_check *ctp_report_check_at(const ctp_report *r, size_t i)
{
	return i < r->nchecks ? &r->checks[i] : NULL;
}

size_t ctp_report_checks_failed(const ctp_report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nchecks; i++) {
		const ctp_check *c = &r->checks[i];
		if (isfinite(c->value) && !c->warn &&
		    !(c->below ? c->value <= c->limit : c->value >= c->limit))
			n++;
	}
	return n;
}

size_t ctp_report_checks_unknown(const ctp_report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nchecks; i++)
		n += !isfinite(r->checks[i].value);
	return n;
}

int ctp_report_add_section(ctp_report *r, const char *key,
			   ctp_section_kind kind, void *data,
			   void (*free_fn)(void *))
{
	section *s;

	r->gen++;
	for (size_t i = 0; i < r->nsections; i++) {
		s = &r->sections[i];
		if (strcmp(s->key, key) == 0) {
			if (s->free_fn)
				s->free_fn(s->data);
			s->kind = kind;
			s->data = data;
			s->free_fn = free_fn;
			return 0;
		}
	}
	if (ctp_grow((void **)&r->sections, &r->cap_sections,
		     r->nsections + 1, sizeof(*r->sections)))
		goto oom;
	s = &r->sections[r->nsections];
	s->key = strdup(key);
	if (!s->key)
		goto oom;
	s->kind = kind;
	s->data = data;
	s->free_fn = free_fn;
	r->nsections++;
	return 0;
oom:
	if (free_fn)
		free_fn(data);
	return CTP_ENOMEM;
}

size_t ctp_report_section_count(const ctp_report *r)
{
	return r->nsections;
}

const char *ctp_report_section_at(const ctp_report *r, size_t i,
				  ctp_section_kind *kind, const void **data)
{
	if (i >= r->nsections)
		return NULL;
	if (kind)
		*kind = r->sections[i].kind;
	if (data)
		*data = r->sections[i].data;
	return r->sections[i].key;
}

static size_t find(const ctp_report *r, const char *key)
{
	size_t i = 0;

	while (i < r->nsections && strcmp(r->sections[i].key, key) != 0)
		i++;
	return i;
}

void *ctp_report_get_mut(ctp_report *r, const char *key,
			 ctp_section_kind kind)
{
	size_t i = find(r, key);

	return i < r->nsections && r->sections[i].kind == kind
		       ? r->sections[i].data
		       : NULL;
}

const void *ctp_report_get(const ctp_report *r, const char *key,
			   ctp_section_kind kind)
{
	size_t i = find(r, key);

	return i < r->nsections && r->sections[i].kind == kind
		       ? r->sections[i].data
		       : NULL;
}

unsigned long ctp_report_generation(const ctp_report *r)
{
	return r->gen;
}

void *ctp_report_tree_slot(ctp_report *r, void (**free_fn)(void *))
{
	if (free_fn)
		*free_fn = r->tree_free;
	return r->tree;
}

void ctp_report_set_tree_slot(ctp_report *r, void *tree,
			      void (*free_fn)(void *))
{
	r->tree = tree;
	r->tree_free = free_fn;
}

int ctp_report_set_host(ctp_report *r, const char *name,
			const char *name_from, const char *release,
			const char *captured_at, const char *captured_from)
{
	const char *v[5] = { name, name_from, release, captured_at,
			     captured_from };

	r->gen++;
	for (size_t i = 0; i < 5; i++) {
		free(r->host[i]);
		r->host[i] = NULL;
		if (v[i] && !(r->host[i] = strdup(v[i])))
			return CTP_ENOMEM;
	}
	return 0;
}

const char *ctp_report_host_name(const ctp_report *r)
{
	return r->host[0];
}

const char *ctp_report_host_name_from(const ctp_report *r)
{
	return r->host[1];
}

const char *ctp_report_host_release(const ctp_report *r)
{
	return r->host[2];
}

const char *ctp_report_host_captured_at(const ctp_report *r)
{
	return r->host[3];
}

const char *ctp_report_host_captured_from(const ctp_report *r)
{
	return r->host[4];
}
