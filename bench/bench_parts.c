/*
 * bench_parts: where the time of `ctplan analyze` goes.  Runs what the
 * analyze command runs, in its order (parse and finalize, each model of
 * ctp_analyze_run one by one, the JSON report to /dev/null, freeing), and
 * prints
 * one row per part: wall seconds, CPU seconds of the process (both
 * threads of the parse and of the hash model count), and the peak RSS
 * after it (getrusage).  Options as analyze's defaults; sizes come from
 * the inputs' sysctl lines, as in bench/run.sh.
 *
 *   bench_parts PATH...
 *
 * Not part of the test suite (docs/performance.md).
 */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/plan.h"
#include "ctplan/render.h"
#include "ctplan/report.h"
#include "ctplan/snapshot.h"

typedef struct clocks {
	double wall, cpu;
} clocks;

static clocks now(void)
{
	struct timespec w, c;

	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	return (clocks){ (double)w.tv_sec + (double)w.tv_nsec / 1e9,
			 (double)c.tv_sec + (double)c.tv_nsec / 1e9 };
}

static double peak_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static void row(const char *name, clocks *t, clocks *sum)
{
	clocks n = now();

	printf("%-22s %7.3f %7.3f %9.1f\n", name, n.wall - t->wall,
	       n.cpu - t->cpu, peak_mib());
	sum->wall += n.wall - t->wall;
	sum->cpu += n.cpu - t->cpu;
	*t = now();
}

int main(int argc, char **argv)
{
	ctp_parse_opts popts = CTP_PARSE_OPTS_INIT;
	ctp_analyze_opts aopts = CTP_ANALYZE_OPTS_INIT;
	ctp_render_opts ropts = CTP_RENDER_OPTS_INIT;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *snap;
	ctp_report *rep;
	ctp_analysis *an;
	clocks t, sum = { 0, 0 };
	char buf[512];
	FILE *null;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_parts PATH...\n");
		return 2;
	}
	aopts.plan = &po;
	if (ctp_snapshot_new(&snap) || ctp_report_new(&rep) ||
	    !(null = fopen("/dev/null", "w"))) {
		fprintf(stderr, "bench_parts: out of memory\n");
		return 1;
	}
	printf("%-22s %7s %7s %9s\n", "part", "wall s", "cpu s",
	       "peak MiB");
	t = now();
	for (int i = 1; i < argc; i++)
		if (ctp_parse_path(snap, argv[i], &popts, &err))
			goto fail;
	if (ctp_snapshot_finalize(snap)) {
		fprintf(stderr, "bench_parts: out of memory\n");
		return 1;
	}
	row("parse and finalize", &t, &sum);
	/* the host context, then each model of ctp_analyze_run, in its
	 * order */
	if (ctp_analysis_new(snap, &aopts, &an, &err))
		goto fail;
	row("host context", &t, &sum);
	for (size_t i = 0; i < ctp_analyze_model_count(); i++) {
		if (ctp_analyze_model(i, an, rep, &err))
			goto fail;
		row(ctp_analyze_model_name(i), &t, &sum);
	}
	ctp_analysis_free(an);
	if (ctp_render_json(rep, null, &ropts)) {
		fprintf(stderr, "bench_parts: cannot write the report\n");
		return 1;
	}
	row("json report", &t, &sum);
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
	row("freeing", &t, &sum);
	printf("%-22s %7.3f %7.3f\n", "total", sum.wall, sum.cpu);
	fclose(null);
	return 0;
fail:
	ctp_error_format(&err, buf, sizeof(buf));
	fprintf(stderr, "bench_parts: %s\n", buf);
	return 1;
}
