/*
 * The models, run in report order.  Each reads the snapshot and adds to
 * the report; a model that cannot run for want of input says so in its
 * section rather than failing the run.
 */
#include "ctplan/analyze.h"
#include "ctplan/plan.h"

typedef int (*model_fn)(const ctp_snapshot *snap,
			const ctp_analyze_opts *opts, ctp_report *rep,
			ctp_error *err);

static int inventory(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		     ctp_report *rep, ctp_error *err)
{
	(void)opts;
	return ctp_inventory_report(snap, rep, err);
}

/* Hash chains, unless turned off (--no-hash). */
static int hash_chains(const ctp_snapshot *snap,
		       const ctp_analyze_opts *opts, ctp_report *rep,
		       ctp_error *err)
{
	if (!opts->hash)
		return 0;
	return ctp_hash_report(snap, opts, rep, err);
}

/* Kernel log history; after the inventory, whose headroom it cites. */
static int history(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		   ctp_report *rep, ctp_error *err)
{
	return ctp_history_report(snap, opts, rep, err);
}

static const struct model {
	const char *name;
	model_fn run;
} models[] = {
	{ "inventory", inventory },
	{ "hash", hash_chains },
	{ "history", history },
	{ "nat", ctp_nat_report },
	/* planner after the inventory, checks after every figure */
	{ "planner", ctp_plan_report },
	{ "checks", ctp_checks_report },
};

size_t ctp_analyze_model_count(void)
{
	return sizeof(models) / sizeof(models[0]);
}

const char *ctp_analyze_model_name(size_t i)
{
	return i < ctp_analyze_model_count() ? models[i].name : NULL;
}

int ctp_analyze_model(size_t i, const ctp_snapshot *snap,
		      const ctp_analyze_opts *opts, ctp_report *rep,
		      ctp_error *err)
{
	ctp_analyze_opts def = CTP_ANALYZE_OPTS_INIT;

	if (i >= ctp_analyze_model_count())
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "no model %zu", i);
	return models[i].run(snap, opts ? opts : &def, rep, err);
}

int ctp_analyze_run(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		    ctp_report *rep, ctp_error *err)
{
	for (size_t i = 0; i < ctp_analyze_model_count(); i++) {
		int rc = ctp_analyze_model(i, snap, opts, rep, err);
		if (rc)
			return rc;
	}
	return 0;
}
