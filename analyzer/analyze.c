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

static const model_fn models[] = {
	inventory,
	hash_chains,
	history,
	ctp_nat_report,
	/* planner after the inventory, checks after every figure */
	ctp_plan_report,
	ctp_checks_report,
};

int ctp_analyze_run(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		    ctp_report *rep, ctp_error *err)
{
	ctp_analyze_opts def = CTP_ANALYZE_OPTS_INIT;

	if (!opts)
		opts = &def;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		int rc = models[i](snap, opts, rep, err);
		if (rc)
			return rc;
	}
	return 0;
}
