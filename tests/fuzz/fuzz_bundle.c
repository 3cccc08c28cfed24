/*
 * libFuzzer harness for the support-bundle reader (parsers/bundle.c):
 * the input is an archive or compressed file, opened as a stdio stream
 * over memory (fmemopen) and read by ctp_bundle_read_archive, which
 * takes any FILE; libarchive then sees no file descriptor, so it reads
 * the stream as a pipe.  Every member the bundle rules select goes
 * through the line reader, as for a real bundle: member names (absolute,
 * "..", links, devices), the tar headers, the decompressors and the
 * expansion limit are all fuzzed.  Nothing is written anywhere.
 */
#define _GNU_SOURCE /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/parse.h"
#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *snap;
	FILE *fp;

	/* input.c's test before it calls the reader; the result does not
	 * matter here, the reader must cope with any bytes */
	(void)ctp_bundle_is_archive(data, size);
	if (!size)
		return 0;
	/* fmemopen wants a writable buffer in some libcs: a copy */
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	fp = fmemopen(buf, size, "rb");
	if (!fp || ctp_snapshot_new(&snap)) {
		if (fp)
			fclose(fp);
		free(buf);
		return 0;
	}
	ctp_bundle_read_archive(snap, "fuzz.tar", fp, (uint64_t)size, &opts,
				&err);
	ctp_snapshot_finalize(snap);
	ctp_snapshot_free(snap);
	fclose(fp);
	free(buf);
	return 0;
}
