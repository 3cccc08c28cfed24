/*
 * libFuzzer harness: a whole input through ctp_parse_buffer, the entry
 * point every file, stdin and archive member goes through: line split,
 * format sniffing of every line, each format's line function, the
 * section state kept across lines, then finalize (the dedup of flows
 * seen in several inputs).
 *
 * Input: one byte picking the path (fuzz_common.h) and the strict flag,
 * then the text.  The text is also read as a second input, so finalize
 * has copies to match.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctp_parse_opts opts = CTP_PARSE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *snap;
	const char *path;

	opts.strict = size && (data[0] & 0x80);
	path = ctp_fuzz_path(&data, &size);
	if (!*path)
		path = "-";
	if (ctp_snapshot_new(&snap))
		return 0;
	/* libFuzzer's buffer is exactly size bytes on the heap: ASan sees
	 * any read past the end */
	ctp_parse_buffer(snap, path, (const char *)data, size, &opts, &err);
	ctp_parse_buffer(snap, "copy", (const char *)data, size, &opts, &err);
	ctp_snapshot_finalize(snap);
	for (size_t i = 0; i < ctp_snapshot_input_count(snap); i++) {
		const ctp_input_info *in = ctp_snapshot_input(snap, i);
		/* every physical line is accounted for, once */
		if (!in->skipped && !opts.strict &&
		    in->records + in->rejected + in->other != in->lines)
			abort();
	}
	ctp_snapshot_free(snap);
	return 0;
}
