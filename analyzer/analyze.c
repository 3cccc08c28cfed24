/*
 * The models, run in report order over one analysis (the host context
 * and the typed results they pass on).  Each adds to the report; a model
 * that cannot run for want of input says so in its section rather than
 * failing the run.
 */
#include <stdlib.h>
#include <string.h>

#include "analysis_impl.h"

typedef int (*model_fn)(ctp_analysis *a, ctp_report *rep, ctp_error *err);

static int kernel(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	return ctp_kernel_report(a, rep, err);
}

static int inventory(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	return ctp_inventory_report(a, rep, err);
}

/* The recommendation's figures, before any finding names a setting. */
static int plan(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	(void)rep;
	return ctp_plan_prepare(a, err);
}

/* Hash chains, unless turned off (--no-hash). */
static int hash_chains(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	if (!a->opts.hash)
		return 0;
	return ctp_hash_report(a, rep, err);
}

/* Kernel log history; after the inventory, whose headroom it cites. */
static int history(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	return ctp_history_report(a, rep, err);
}

static int nat(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	return ctp_nat_report(a, rep, err);
}

static int counters(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	if (ctp_counter_findings(a, rep))
		return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
				     "out of memory in the counters' findings");
	return 0;
}

static int planner(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	return ctp_plan_report(a, rep, err);
}

static int checks(ctp_analysis *a, ctp_report *rep, ctp_error *err)
{
	return ctp_checks_report(a, rep, err);
}

static const struct model {
	const char *name;
	model_fn run;
} models[] = {
	/* the recommendation first: every finding that names a setting
	 * names its figure */
	{ "plan", plan },
	/* the build modelled, before anything modelled on it */
	{ "kernel", kernel },
	{ "inventory", inventory },
	{ "hash", hash_chains },
	{ "history", history },
	{ "nat", nat },
	/* the counters by cause, once NAT tells a squeezed range apart */
	{ "counters", counters },
	/* the planner's sections after the inventory, checks after
	 * every figure */
	{ "planner", planner },
	{ "checks", checks },
};

int ctp_analysis_new(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		     ctp_analysis **out, ctp_error *err)
{
	static const ctp_analyze_opts def = CTP_ANALYZE_OPTS_INIT;
	static const ctp_plan_opts def_plan = CTP_PLAN_OPTS_INIT;
	ctp_analysis *a = calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (!a)
		return ctp_error_set(err, CTP_ENOMEM, NULL, 0, 0,
				     "out of memory");
	a->snap = snap;
	a->opts = opts ? *opts : def;
	a->plan_opts = a->opts.plan ? *a->opts.plan : def_plan;
	a->opts.plan = &a->plan_opts;
	rc = ctp_host_new(snap, &a->opts, &a->host, err);
	if (rc) {
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void ctp_analysis_free(ctp_analysis *a)
{
	if (!a)
		return;
	ctp_plan_release(a);
	ctp_host_free(a->host);
	free(a);
}

const ctp_host *ctp_analysis_host(const ctp_analysis *a)
{
	return a->host;
}

size_t ctp_analyze_model_count(void)
{
	return sizeof(models) / sizeof(models[0]);
}

const char *ctp_analyze_model_name(size_t i)
{
	return i < ctp_analyze_model_count() ? models[i].name : NULL;
}

int ctp_analyze_model(size_t i, ctp_analysis *a, ctp_report *rep,
		      ctp_error *err)
{
	if (i >= ctp_analyze_model_count())
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "no model %zu", i);
	return models[i].run(a, rep, err);
}

int ctp_analyze_run(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		    ctp_report *rep, ctp_error *err)
{
	ctp_analysis *a;
	int rc = ctp_analysis_new(snap, opts, &a, err);

	for (size_t i = 0; !rc && i < ctp_analyze_model_count(); i++)
		rc = ctp_analyze_model(i, a, rep, err);
	ctp_analysis_free(a);
	return rc;
}
