/*
 * Private interface between the input reader (input.c) and the per-format
 * line parsers.
 *
 * The reader splits input into lines (without the newline, without a
 * trailing '\r'; NUL bytes are passed through, so parsers must respect
 * len, never strlen) and for each line asks the format modules, in a
 * fixed order, whether the line is theirs (sniff), then hands it to that
 * module's line function.  A module keeps its per-input state in
 * struct ctp_pctx (no globals).
 */
#ifndef CTPLAN_PARSERS_H
#define CTPLAN_PARSERS_H

#include <stddef.h>
#include <stdint.h>

#include "ctplan/error.h"
#include "ctplan/parse.h"
#include "ctplan/snapshot.h"

/* line results (>= 0), or a negative ctp_errcode with ctx->err filled */
enum {
	CTP_LINE_RECORD = 1, /* gave a record or a setting */
	CTP_LINE_OTHER = 2,  /* header, summary, blank: counted as "other" */
};

#define CTP_PROC_STAT_MAXCOLS 32

typedef struct ctp_pctx {
	ctp_snapshot *snap;
	uint16_t input;
	const char *file;  /* name for diagnostics */
	const char *path;  /* file path, for formats keyed by path; or "" */
	size_t line;       /* 1-based line number */
	ctp_error *err;    /* filled by a line function that fails */
	unsigned cur;      /* CTP_FMT_* of the section we are in, or 0 */

	/* /proc/net/stat/nf_conntrack: stat id of each column, -1 unknown */
	int proc_stat_cols[CTP_PROC_STAT_MAXCOLS];
	int proc_stat_ncols;

	/* xml: inside <conntrack> ... </conntrack> */
	int xml_open;

	/* kmsg: the last syslog date without a year (a wrap to an earlier
	 * date starts a new year) and the years added so far */
	int64_t kmsg_prev_noyear;
	int kmsg_years;
	/* kmsg: the compiled message patterns, made at the input's first
	 * conntrack line; ctp_kmsg_release() frees them */
	void *kmsg_re;

	/* warnings (ctp_pctx_warn) go here; NULL: dropped */
	ctp_diag_fn diag;
	void *diag_ud;
	/* -S: the CPU numbers seen in this input (a repeated row is said) */
	uint64_t stats_cpus[1024];

	/* kube-proxy configuration: 1 + the indent of its "conntrack:"
	 * key while inside that block, else 0 */
	size_t kp_block;
} ctp_pctx;

/*
 * Set ctx->err for a bad line: col is the 0-based offset into the line
 * where the problem is (printed 1-based).  Returns CTP_EINPUT.
 */
int ctp_pctx_fail(ctp_pctx *ctx, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A value that is read but looks wrong (a negative timeout, a key given
 * twice in one entry, a CPU row repeated, a setting that conflicts with
 * an earlier one): a warning naming FILE:LINE(:COL), the line still
 * counts.  col as for ctp_pctx_fail; SIZE_MAX leaves the column out.
 */
void ctp_pctx_warn(ctp_pctx *ctx, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Each format: sniff(line) -> 1 if the line belongs to the format, else 0;
 * it must be cheap and must not change state.  line() parses it.
 */
typedef int (*ctp_sniff_fn)(const ctp_pctx *ctx, const char *s, size_t len);
typedef int (*ctp_line_fn)(ctp_pctx *ctx, const char *s, size_t len);

/* Path rules (paths.c).  Text after a path component dir ("proc/sys/"),
 * at the start, after '/' or after '!' (archive member), or NULL. */
const char *ctp_path_after_dir(const char *path, const char *dir);
/* Last component of path (after '/' or '!'). */
const char *ctp_path_base(const char *path);
/* Is path a saved settings file that sysctl.c reads (a /proc/sys file
 * other than nf_conntrack_count, a module parameter, "hashsize")? */
int ctp_sysctl_owns_path(const char *path);

#define CTP_DECLARE_FORMAT(name)                                          \
	int ctp_##name##_sniff(const ctp_pctx *ctx, const char *s,        \
			       size_t len);                               \
	int ctp_##name##_line(ctp_pctx *ctx, const char *s, size_t len);

CTP_DECLARE_FORMAT(list)      /* -L default/extended, /proc, events */
CTP_DECLARE_FORMAT(xml)       /* -L -o xml */
CTP_DECLARE_FORMAT(save)      /* -L -o save */
CTP_DECLARE_FORMAT(stats)     /* conntrack -S, both generations */
CTP_DECLARE_FORMAT(proc_stat) /* /proc/net/stat/nf_conntrack */
CTP_DECLARE_FORMAT(sysctl)    /* sysctl -a, key=value */
CTP_DECLARE_FORMAT(uname)     /* uname -a, uname -r */
CTP_DECLARE_FORMAT(meminfo)   /* /proc/meminfo */
CTP_DECLARE_FORMAT(count)     /* a bare number: -C, /proc/sys files */
CTP_DECLARE_FORMAT(kmsg)      /* kernel log: dmesg, journalctl, syslog */
CTP_DECLARE_FORMAT(slabinfo)  /* /proc/slabinfo */
CTP_DECLARE_FORMAT(kube_proxy) /* kube-proxy config, flags, log */

/* Free what the kmsg parser keeps in ctx (its compiled patterns): at the
 * end of every input. */
void ctp_kmsg_release(ctp_pctx *ctx);

#endif
