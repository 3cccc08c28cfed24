/*
 * libFuzzer harness past the parsers: what a hostile dump puts in the
 * snapshot (a table size of 0, counts past the table, odd kernel
 * versions, events out of order) through every analyzer model and the
 * JSON and text renderers, as `ctplan analyze` runs them.  The hash model
 * samples one key on one thread, and table sizes in (4096, 2^32) are
 * brought down to 4096 before the models run: the model fills a table to
 * nf_conntrack_max by design, which takes seconds at real sizes, and the
 * fuzzer needs many runs a second.  0 and values past 2^32, the edges
 * the models must refuse, are kept.
 */
#define _GNU_SOURCE /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/render.h"
#include "ctplan/report.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const sizes[] = {
	"net.netfilter.nf_conntrack_max",
	"net.nf_conntrack_max",
	"net.netfilter.nf_conntrack_buckets",
	"module.nf_conntrack.hashsize",
};

static void small_tables(ctp_snapshot *snap)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v;

		if (ctp_snapshot_sysctl_u64(snap, sizes[i], &v) && v > 4096 &&
		    v <= UINT32_MAX)
			ctp_snapshot_set_sysctl(snap, sizes[i],
						strlen(sizes[i]), "4096", 4);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	ctp_render_opts ropts = CTP_RENDER_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *snap = NULL;
	ctp_report *rep = NULL;
	const char *path = ctp_fuzz_path(&data, &size);
	FILE *out;

	aopts.hash_keys = 1;
	aopts.hash_threads = 1;
	/* the NAT model's thresholds cost time in the width of the port
	 * range: a narrow one, given, as --nat-range would */
	aopts.has_nat_range = 1;
	aopts.nat_range_lo = 61000;
	aopts.nat_range_hi = 61063;
	if (ctp_snapshot_new(&snap) || ctp_report_new(&rep))
		goto done;
	ctp_parse_buffer(snap, *path ? path : "-", (const char *)data, size,
			 &popts, &err);
	small_tables(snap);
	if (ctp_snapshot_finalize(snap) ||
	    ctp_analyze_run(snap, &aopts, rep, &err))
		goto done;
	out = fopen("/dev/null", "w");
	if (out) {
		ctp_render_json(rep, out, &ropts);
		ctp_render_text(rep, out, &ropts);
		fclose(out);
	}
done:
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
	return 0;
}
