/*
 * libFuzzer harness for one format module's line function, called
 * directly with a ctp_pctx, for depth: the fuzzer's time goes into that
 * parser only, not into sniffing the nine others.  Built once per format:
 * CTP_FUZZ_FMT is the module's name (list, xml, save, ...), and
 * CTP_FUZZ_FMT_BIT its CTP_FMT_* bit.
 *
 * Input: one byte picking the path (fuzz_common.h), then lines split at
 * '\n' with a trailing '\r' removed, as the input reader hands them over
 * (NUL bytes stay).  Each line goes to sniff, then to line whatever sniff
 * said (the unit tests call line functions on any line too), and the
 * context's section state carries over from line to line as in a file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctplan/snapshot.h"
#include "parsers.h"
#include "fuzz_common.h"

#define CAT2(a, b, c) a##b##c
#define CAT(a, b, c) CAT2(a, b, c)
#define SNIFF CAT(ctp_, CTP_FUZZ_FMT, _sniff)
#define LINE CAT(ctp_, CTP_FUZZ_FMT, _line)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *snap;
	ctp_pctx ctx;
	uint16_t in;
	const char *path = ctp_fuzz_path(&data, &size);
	const char *p = (const char *)data, *end = p + size;

	if (ctp_snapshot_new(&snap))
		return 0;
	if (ctp_snapshot_add_input(snap, path, NULL, &in)) {
		ctp_snapshot_free(snap);
		return 0;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.snap = snap;
	ctx.input = in;
	ctx.file = "fuzz";
	ctx.path = path;
	ctx.err = &err;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line;
		int rc;

		if (len && p[len - 1] == '\r')
			len--;
		/* a heap copy of exactly len bytes: ASan catches a parser
		 * that reads past the line (or strlen's it) */
		line = malloc(len ? len : 1);
		if (!line)
			break;
		memcpy(line, p, len);
		ctx.line++;
		(void)SNIFF(&ctx, line, len);
		rc = LINE(&ctx, line, len);
		if (rc >= 0)
			ctx.cur = CTP_FUZZ_FMT_BIT;
		else if (rc == CTP_EINPUT &&
			 (err.line != ctx.line || err.col < 1 ||
			  err.col > len + 1 || !err.msg[0]))
			abort(); /* an error must say where, in the line */
		free(line);
		p += (nl ? (size_t)(nl - p) + 1 : (size_t)(end - p));
	}
	ctp_snapshot_finalize(snap);
	ctp_kmsg_release(&ctx); /* what the kmsg parser keeps in ctx */
	ctp_snapshot_free(snap);
	return 0;
}
