/*
 * bench_parse: the parse-only figure of bench/run.sh.  Reads each PATH
 * into one snapshot the way `ctplan analyze` does (ctp_parse_path, then
 * ctp_snapshot_finalize), runs no model, and prints one line:
 *
 *   bytes=N entries=N seconds=S mb_per_s=X
 *
 * Wall time is taken here, around parsing only, so process start and
 * exit do not count.  Not part of the test suite.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ctplan/parse.h"
#include "ctplan/snapshot.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *snap;
	unsigned long long bytes = 0;
	double t0, t1;
	char buf[512];

	if (argc < 2) {
		fprintf(stderr, "usage: bench_parse PATH...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0)
			bytes += (unsigned long long)st.st_size;
	}
	if (ctp_snapshot_new(&snap)) {
		fprintf(stderr, "bench_parse: out of memory\n");
		return 1;
	}
	t0 = now();
	for (int i = 1; i < argc; i++)
		if (ctp_parse_path(snap, argv[i], &opts, &err)) {
			ctp_error_format(&err, buf, sizeof(buf));
			fprintf(stderr, "bench_parse: %s\n", buf);
			ctp_snapshot_free(snap);
			return 1;
		}
	if (ctp_snapshot_finalize(snap)) {
		fprintf(stderr, "bench_parse: out of memory\n");
		ctp_snapshot_free(snap);
		return 1;
	}
	t1 = now();
	printf("bytes=%llu entries=%zu seconds=%.4f mb_per_s=%.1f\n", bytes,
	       ctp_snapshot_flow_count(snap), t1 - t0,
	       (double)bytes / 1e6 / (t1 - t0));
	ctp_snapshot_free(snap);
	return 0;
}
