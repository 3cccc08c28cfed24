/*
 * The models, run in report order.  Each reads the snapshot and adds to
 * the report; a model that cannot run for want of input says so in its
 * section rather than failing the run.
 */
#include "ctplan/analyze.h"

typedef int (*model_fn)(const ctp_snapshot *snap,
			const ctp_analyze_opts *opts, ctp_report *rep,
			ctp_error *err);

static int inventory(const ctp_snapshot *snap, const ctp_analyze_opts *opts,
		     ctp_report *rep, ctp_error *err)
{
	(void)opts;
	return ctp_inventory_report(snap, rep, err);
}

static const model_fn models[] = {
	inventory,
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
