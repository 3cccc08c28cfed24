/*
 * Input reading: split files, directories and stdin into lines, sniff each
 * line's format, and hand it to that format's parser.
 *
 * Lines are read through a fixed buffer, never whole files: a line longer
 * than opts->max_line is reported and skipped up to its newline, so one
 * giant "line" cannot exhaust memory.  Every physical line is accounted
 * for: records + rejected + other == lines, per input.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctplan/parse.h"
#include "bundle.h"
#include "grow.h"
#include "cursor.h"
#include "list.h"
#include "parsers.h"

int ctp_pctx_fail(ctp_pctx *ctx, size_t col, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->err)
		return CTP_EINPUT;
	ctx->err->code = CTP_EINPUT;
	ctp_error_set_file(ctx->err, ctx->file);
	ctx->err->line = ctx->line;
	ctx->err->col = col + 1;
	va_start(ap, fmt);
	vsnprintf(ctx->err->msg, sizeof(ctx->err->msg), fmt, ap);
	va_end(ap);
	return CTP_EINPUT;
}

void ctp_pctx_warn(ctp_pctx *ctx, size_t col, const char *fmt, ...)
{
	ctp_error e = CTP_ERROR_INIT;
	va_list ap;

	if (!ctx->diag)
		return;
	e.code = 0;
	ctp_error_set_file(&e, ctx->file);
	e.line = ctx->line;
	e.col = col == SIZE_MAX ? 0 : col + 1;
	memcpy(e.msg, "warning: ", 9);
	va_start(ap, fmt);
	vsnprintf(e.msg + 9, sizeof(e.msg) - 9, fmt, ap);
	va_end(ap);
	ctx->diag(ctx->diag_ud, CTP_SEV_WARN, &e);
}

/* Tried in this order; the format of the section we are in goes first. */
static const struct format {
	unsigned fmt;
	ctp_sniff_fn sniff;
	ctp_line_fn line;
} formats[] = {
	{ CTP_FMT_LIST, ctp_list_sniff, ctp_list_line },
	{ CTP_FMT_XML, ctp_xml_sniff, ctp_xml_line },
	{ CTP_FMT_SAVE, ctp_save_sniff, ctp_save_line },
	{ CTP_FMT_STATS, ctp_stats_sniff, ctp_stats_line },
	{ CTP_FMT_PROC_STAT, ctp_proc_stat_sniff, ctp_proc_stat_line },
	{ CTP_FMT_SLABINFO, ctp_slabinfo_sniff, ctp_slabinfo_line },
	/* by path or by its first line; before the kernel log, whose
	 * timestamps the container log format shares */
	{ CTP_FMT_KUBE_PROXY, ctp_kube_proxy_sniff, ctp_kube_proxy_line },
	/* before the key = value formats: a log line's message may hold
	 * one, its timestamp prefix says what it is */
	{ CTP_FMT_KMSG, ctp_kmsg_sniff, ctp_kmsg_line },
	{ CTP_FMT_MEMINFO, ctp_meminfo_sniff, ctp_meminfo_line },
	{ CTP_FMT_UNAME, ctp_uname_sniff, ctp_uname_line },
	{ CTP_FMT_SYSCTL, ctp_sysctl_sniff, ctp_sysctl_line },
	{ CTP_FMT_COUNT, ctp_count_sniff, ctp_count_line },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static const struct format *sniff(const ctp_pctx *ctx, const char *s,
				  size_t len)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].fmt == ctx->cur &&
		    formats[i].sniff(ctx, s, len))
			return &formats[i];
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].fmt != ctx->cur &&
		    formats[i].sniff(ctx, s, len))
			return &formats[i];
	return NULL;
}

static int is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static int starts(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

/*
 * Lines conntrack writes to stderr ("conntrack v1.4.7 (conntrack-tools):
 * 12 flow entries have been shown."), which bundles merge in with 2>&1,
 * and section headers such as the EKS collector's "*** Output of ... ***".
 */
/* Where a conntrack stderr message starts in the line, or NULL. */
static const char *tool_message(const char *s, size_t len)
{
	const char *p = memmem(s, len, "conntrack v", 11);

	if (p && memmem(p, len - (size_t)(p - s), " (conntrack-tools): ", 20))
		return p;
	return NULL;
}

/* stderr lines of the tools that write the dumps (2>&1 in bundles) */
static const char *const stderr_prefixes[] = {
	"nfct_labelmap_new: ", /* conntrack -o labels without connlabel.conf */
	"conntrack: ",
};

static int other_line(ctp_pctx *ctx, const char *s, size_t len)
{
	ctp_input_info *in = ctp_snapshot_input_mut(ctx->snap, ctx->input);

	if (starts(s, len, "***")) {
		ctx->cur = 0;
		return 1;
	}
	for (size_t i = 0;
	     i < sizeof(stderr_prefixes) / sizeof(stderr_prefixes[0]); i++)
		if (starts(s, len, stderr_prefixes[i]))
			return 1;
	if (starts(s, len, "conntrack v") &&
	    memmem(s, len, "(conntrack-tools)", 17)) {
		const char *p = memmem(s, len, "): ", 3);
		uint64_t n;
		if (p && memmem(s, len, "flow entries have been shown", 28)) {
			p += 3;
			if (ctp_cur_u64(&p, s + len, UINT64_MAX, &n) == 0) {
				in->summary_count += n;
				in->has_summary = 1;
			}
		}
		return 1;
	}
	return 0;
}

/*
 * Read-ahead parsing, file mode.  Most of the time of a large dump goes
 * into ctp_list_parse(), which touches nothing shared.  So when a chunk
 * is read, worker threads parse the -L lines of its later part into
 * records, while this thread works through the earlier part and then
 * takes the workers' records.  Where a worker has not got to a line yet,
 * this thread parses it itself rather than wait, and tells the workers
 * where it is so they skip ahead: the work splits itself by speed, also
 * on a loaded machine.  A record is used only for a line this thread
 * would have given to the list parser anyway (the fast path in
 * parse_lines), in input order, so the result is the same as reading
 * alone.  The chunk is not touched while a worker runs: workers are
 * joined before a refill.  Memory is bounded: CTP_READ_CHUNK of text,
 * PF_RECS records and PF_OTHER bytes of unknown tokens per worker.
 */
#define CTP_READ_CHUNK (2u << 20) /* bytes per read: few syscalls */
#define PF_MIN_REGION (256u << 10) /* less is not worth a thread */
#define PF_RECS 8192		   /* ~2 MiB of records per worker */
#define PF_OTHER (64u << 10)
#define PF_MAX_WORKERS 3

typedef struct pf_rec {
	size_t off; /* chunk offset of the line */
	ctp_list_rec rec;
} pf_rec;

typedef struct pf_worker {
	/* written by the worker, read by the reading thread: lines before
	 * pub_pos are done, records [0, pub_n) are complete (pub_n is
	 * stored first, both with release) */
	_Alignas(64) atomic_size_t pub_pos;
	atomic_size_t pub_n;
	/* the reading thread's side, on its own cache line */
	_Alignas(64) pthread_t tid;
	int running;         /* to be joined */
	int started;         /* on the chunk's current data */
	const char *base;    /* the chunk */
	size_t from, to;     /* whole lines [from, to) of the chunk */
	size_t max;          /* longest line read */
	uint16_t input;
	size_t used;         /* records taken */
	pf_rec *recs;        /* PF_RECS */
	char *other;         /* PF_OTHER */
	const atomic_size_t *reader_pos; /* the reading thread's line */
} pf_worker;

typedef struct prefetch {
	pf_worker w[PF_MAX_WORKERS];
	/* the offset of the line the reading thread parses itself; the
	 * workers skip past it */
	_Alignas(64) atomic_size_t reader_pos;
	_Alignas(64) unsigned nw; /* workers */
	unsigned cur;   /* the worker whose records come next */
	int armed;      /* workers started on the chunk's current data */
	uint16_t input; /* for the records */
} prefetch;

typedef struct reader {
	FILE *fp;
	const char *buf; /* whole input when reading a buffer */
	size_t buflen, bufpos;
	char *chunk;     /* file mode: [start, fill) holds unread bytes */
	size_t start, fill, cap;
	int eof;
	prefetch *pf;    /* file mode with spare CPUs, or NULL */
	/* the line end: '\n', or '\r' for an input with CR-only line ends
	 * (old Mac, some exports), found by parse_reader's probe */
	char eol;
} reader;

static void *pf_main(void *arg)
{
	pf_worker *w = arg;
	ctp_pctx ctx;
	size_t pos = w->from, oused = 0, n = 0;

	/* ctp_list_parse uses only these fields; errors are dropped here
	 * (none is even formatted: ctx.err is NULL), the reading thread
	 * parses a failed line again and reports it */
	memset(&ctx, 0, sizeof(ctx));
	ctx.input = w->input;
	ctx.file = "";
	ctx.err = NULL;
	while (pos < w->to && n < PF_RECS &&
	       oused + CTP_LIST_OTHER_MAX <= PF_OTHER) {
		size_t rpos = atomic_load_explicit(w->reader_pos,
						   memory_order_relaxed);
		const char *s, *nl;
		size_t len;
		pf_rec *pr = &w->recs[n];

		if (rpos >= pos) {
			/* overtaken: go on after the reader's line */
			if (rpos >= w->to)
				break;
			nl = memchr(w->base + rpos, '\n', w->to - rpos);
			pos = nl ? (size_t)(nl - w->base) + 1 : w->to;
			atomic_store_explicit(&w->pub_pos, pos,
					      memory_order_release);
			continue;
		}
		s = w->base + pos;
		nl = memchr(s, '\n', w->to - pos);
		len = nl ? (size_t)(nl - s) : w->to - pos;
		if (len <= w->max) {
			size_t l = len && s[len - 1] == '\r' ? len - 1 : len;
			if (ctp_list_parse(&ctx, s, l, &pr->rec,
					   w->other + oused) == 0) {
				pr->off = pos;
				oused += pr->rec.str_len[CTP_LIST_S_OTHER];
				atomic_store_explicit(&w->pub_n, ++n,
						      memory_order_release);
			}
		}
		pos += len + 1;
		atomic_store_explicit(&w->pub_pos, pos, memory_order_release);
	}
	/* lines left over (records full, overtaken) are the reader's */
	return NULL;
}

static void pf_join(prefetch *pf)
{
	/* send the workers to the end of the chunk first */
	atomic_store_explicit(&pf->reader_pos, SIZE_MAX, memory_order_relaxed);
	for (unsigned i = 0; i < pf->nw; i++)
		if (pf->w[i].running) {
			pthread_join(pf->w[i].tid, NULL);
			pf->w[i].running = 0;
		}
}

/* Start the workers on the whole lines of [r->start, r->fill). */
static void pf_arm(reader *r, size_t max)
{
	prefetch *pf = r->pf;
	size_t avail = r->fill - r->start, from, to;
	const char *last;

	pf->armed = 1;
	pf->cur = 0;
	for (unsigned i = 0; i < pf->nw; i++)
		pf->w[i].started = 0;
	last = memrchr(r->chunk + r->start, '\n', avail);
	if (!last || avail < PF_MIN_REGION)
		return;
	to = (size_t)(last - r->chunk) + 1;
	atomic_store_explicit(&pf->reader_pos, r->start, memory_order_relaxed);
	/* the reading thread starts alone on the first share (it also
	 * splits and commits every line); the workers share the rest */
	from = r->start + avail / (pf->nw + 2);
	if (from >= to)
		return; /* the chunk's last newline comes before their share */
	for (unsigned i = 0; i < pf->nw; i++) {
		pf_worker *w = &pf->w[i];
		size_t end = i + 1 == pf->nw
				     ? to
				     : from + (to - from) / (pf->nw - i);
		const char *nl;

		/* regions start and end at line starts */
		nl = memchr(r->chunk + from, '\n', to - from);
		if (!nl)
			break;
		w->from = (size_t)(nl - r->chunk) + 1;
		nl = end < to ? memchr(r->chunk + end, '\n', to - end) : NULL;
		w->to = nl ? (size_t)(nl - r->chunk) + 1 : to;
		if (w->from >= w->to)
			break;
		w->base = r->chunk;
		w->max = max;
		w->input = pf->input;
		w->used = 0;
		w->reader_pos = &pf->reader_pos;
		atomic_store_explicit(&w->pub_pos, w->from,
				      memory_order_relaxed);
		atomic_store_explicit(&w->pub_n, 0, memory_order_relaxed);
		if (pthread_create(&w->tid, NULL, pf_main, w))
			break; /* fine: this thread parses the lines itself */
		w->running = w->started = 1;
		from = w->to - 1; /* the newline ending w's region */
	}
}

/* The worker's record of the line at chunk offset off, or NULL (then
 * the reading thread parses the line itself). */
static const ctp_list_rec *pf_take(prefetch *pf, size_t off)
{
	while (pf->cur < pf->nw) {
		pf_worker *w = &pf->w[pf->cur];
		size_t pos, n;

		if (!w->started || off < w->from)
			return NULL; /* nor was any later worker */
		if (off >= w->to) {
			pf->cur++;
			continue;
		}
		pos = atomic_load_explicit(&w->pub_pos, memory_order_acquire);
		if (pos <= off) {
			/* not there yet: ours, and the workers skip it */
			atomic_store_explicit(&pf->reader_pos, off,
					      memory_order_relaxed);
			return NULL;
		}
		n = atomic_load_explicit(&w->pub_n, memory_order_acquire);
		while (w->used < n && w->recs[w->used].off < off)
			w->used++;
		if (w->used < n && w->recs[w->used].off == off)
			return &w->recs[w->used++].rec;
		return NULL;
	}
	return NULL;
}

static void pf_free(prefetch *pf)
{
	if (!pf)
		return;
	pf_join(pf);
	for (unsigned i = 0; i < pf->nw; i++) {
		free(pf->w[i].recs);
		free(pf->w[i].other);
	}
	free(pf);
}

/* Workers for the CPUs beyond this one, or NULL (one CPU, no memory). */
static prefetch *pf_new(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	prefetch *pf;

	if (cpus < 2)
		return NULL;
	/* aligned for the atomics' cache lines */
	pf = aligned_alloc(64, (sizeof(*pf) + 63) / 64 * 64);
	if (!pf)
		return NULL;
	memset(pf, 0, sizeof(*pf));
	pf->nw = cpus - 1 > PF_MAX_WORKERS ? PF_MAX_WORKERS
					   : (unsigned)(cpus - 1);
	for (unsigned i = 0; i < pf->nw; i++) {
		pf->w[i].recs = malloc(PF_RECS * sizeof(pf_rec));
		pf->w[i].other = malloc(PF_OTHER);
		if (!pf->w[i].recs || !pf->w[i].other) {
			pf_free(pf);
			return NULL;
		}
	}
	return pf;
}

/*
 * Next line into line and len (no newline).  *toolong is set for a line over
 * max (then *len is 0 and the rest of that line is skipped); *nonl is set
 * when the last line had no newline.  *pre gets a worker's parse of the
 * line as a -L line, or NULL.  Returns 0 at end of input.
 */
static int next_line(reader *r, size_t max, const char **line, size_t *len,
		     int *toolong, int *nonl, const ctp_list_rec **pre)
{
	*toolong = 0;
	*nonl = 0;
	*pre = NULL;
	if (r->buf) {
		const char *p = r->buf + r->bufpos, *end = r->buf + r->buflen;
		const char *nl;
		if (p >= end)
			return 0;
		nl = memchr(p, r->eol, (size_t)(end - p));
		*line = p;
		*len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		*nonl = !nl;
		r->bufpos += *len + (nl ? 1 : 0);
		if (*len > max) {
			*toolong = 1;
			*len = 0;
		}
		return 1;
	}
	for (;;) {
		char *p = r->chunk + r->start;
		size_t avail = r->fill - r->start;
		char *nl;
		if (r->pf && !r->pf->armed)
			pf_arm(r, max);
		nl = memchr(p, r->eol, avail);
		if (nl || (r->eof && avail)) {
			if (r->pf)
				*pre = pf_take(r->pf, r->start);
			*line = p;
			*len = nl ? (size_t)(nl - p) : avail;
			*nonl = !nl;
			r->start += *len + (nl ? 1 : 0);
			if (*len > max) {
				*toolong = 1;
				*len = 0;
			}
			return 1;
		}
		if (r->eof)
			return 0;
		if (r->pf) {
			/* the workers read the chunk: done with it first */
			pf_join(r->pf);
			r->pf->armed = 0;
		}
		if (avail > max) {
			/* overlong: drop what we have, then skip to '\n' */
			int c;
			while ((c = getc(r->fp)) != EOF && c != r->eol)
				;
			r->start = r->fill = 0;
			if (c == EOF)
				r->eof = 1;
			*toolong = 1;
			*len = 0;
			*line = r->chunk;
			return 1;
		}
		memmove(r->chunk, p, avail);
		r->start = 0;
		r->fill = avail;
		size_t got = fread(r->chunk + r->fill, 1, r->cap - r->fill,
				   r->fp);
		r->fill += got;
		if (got == 0)
			r->eof = 1;
	}
}

/* Skip the empty lines ('\n' bytes) at the reading position, within
 * what is buffered; returns how many.  A run of blank lines costs a byte
 * compare each, not a line's bookkeeping. */
static size_t skip_newlines(reader *r)
{
	const char *p, *end;
	size_t n;

	if (r->buf) {
		p = r->buf + r->bufpos;
		end = r->buf + r->buflen;
	} else {
		p = r->chunk + r->start;
		end = r->chunk + r->fill;
	}
	for (n = 0; p + n < end && p[n] == r->eol; n++)
		;
	if (r->buf)
		r->bufpos += n;
	else
		r->start += n;
	return n;
}

typedef struct run {
	ctp_snapshot *snap;
	const ctp_parse_opts *opts;
	ctp_error *err;
	int in_dir; /* unknown files are skipped, not errors */
} run;

static void diag(const run *rn, ctp_severity sev, const ctp_error *e)
{
	if (rn->opts->diag)
		rn->opts->diag(rn->opts->diag_ud, sev, e);
}

/*
 * Does the input look like any known format?  Looks at up to 32 lines at
 * the start; a partial first line (a tail-kept dump) is not held against
 * it.
 */
static int looks_known(ctp_pctx *ctx, reader *probe, size_t max)
{
	const char *s;
	size_t len;
	int toolong, nonl, seen = 0;
	const ctp_list_rec *pre;

	while (seen < 32 &&
	       next_line(probe, max, &s, &len, &toolong, &nonl, &pre)) {
		if (toolong)
			continue;
		if (len && s[len - 1] == '\r')
			len--;
		if (is_blank(s, len))
			continue;
		seen++;
		if (starts(s, len, "***") ||
		    (starts(s, len, "conntrack v") &&
		     memmem(s, len, "(conntrack-tools)", 17)) ||
		    sniff(ctx, s, len))
			return 1;
	}
	return seen == 0; /* an empty file is a known, empty input */
}

static int parse_lines(run *rn, reader *r, ctp_pctx *ctx)
{
	ctp_input_info *in = ctp_snapshot_input_mut(rn->snap, ctx->input);
	size_t max = rn->opts->max_line;
	const char *s;
	size_t len;
	int toolong, nonl, first = 1;
	ctp_error lerr = CTP_ERROR_INIT;
	char *join = NULL; /* a line split by a stderr message */
	size_t held = 0;
	int ret = 0;
	const ctp_list_rec *pre;
	ctp_list_rec own;
	char other[CTP_LIST_OTHER_MAX];
	uint64_t nbytes = 0; /* for opts->progress */

	ctx->err = &lerr;
	if (r->pf)
		r->pf->input = ctx->input;
	while (next_line(r, max, &s, &len, &toolong, &nonl, &pre)) {
		const struct format *f;
		const char *msg;
		int rc;

		ctx->line++;
		in->lines++;
		nbytes += len + 1;
		if ((ctx->line & 0xffff) == 0 && rn->opts->progress) {
			rn->opts->progress(rn->opts->progress_ud, nbytes);
			nbytes = 0;
		}
		if (toolong) {
			ctp_error_set(&lerr, CTP_EINPUT, ctx->file, ctx->line,
				      1, "line longer than %zu bytes", max);
			/* the line that held a message counts as "other",
			 * as below; the joined line is rejected once, with
			 * a report (a second reject went unreported) */
			if (held)
				in->other++;
			held = 0;
			rc = CTP_EINPUT;
			goto rejected;
		}
		if (len && s[len - 1] == '\r')
			len--;
		if (!len && !held) {
			/* blank, and any blank lines right after it: the
			 * cheapest way out */
			size_t more = skip_newlines(r);
			ctx->line += more;
			in->lines += more;
			in->other += more + 1;
			nbytes += more;
			continue;
		}
		if (held) {
			/* rejoin the line that conntrack's summary split; the
			 * line that held the message counts as "other" */
			in->other++;
			if (held + len > max) {
				held = 0;
				ctp_error_set(&lerr, CTP_EINPUT, ctx->file,
					      ctx->line, 1,
					      "line longer than %zu bytes",
					      max);
				rc = CTP_EINPUT;
				goto rejected;
			}
			memcpy(join + held, s, len);
			s = join;
			len += held;
			held = 0;
			pre = NULL; /* a worker saw only the tail */
		}
		/*
		 * Fast path, most lines of a large dump: inside a -L section
		 * sniff() offers the line to the list parser first.  A line
		 * that parser reads in full is neither blank nor a tool line,
		 * and unless it holds free text (unknown tokens, helper=,
		 * ...) it cannot hold a conntrack message either, so the
		 * checks below would hand it to the list parser too: do that
		 * now, with a worker's parse if there is one.  Any other
		 * line goes the long way, which also reports its error.
		 */
		if (ctx->cur == CTP_FMT_LIST && len) {
			const ctp_list_rec *rec = pre;
			int prc;
			/* a line this parse refuses goes the long way, which
			 * reports it: no message is formatted here to be
			 * thrown away (a formatted error a line made 256 MB
			 * of blank lines cost 46 s) */
			if (!rec) {
				ctx->err = NULL;
				prc = ctp_list_parse(ctx, s, len, &own, other);
				ctx->err = &lerr;
				if (prc == 0)
					rec = &own;
			}
			if (rec && (!rec->free_text || !tool_message(s, len))) {
				first = 0;
				rc = ctp_list_commit(ctx, rec);
				if (rc < 0)
					goto rejected;
				in->records++;
				continue;
			}
		}
		/*
		 * With 2>&1, conntrack's unbuffered summary on stderr lands
		 * at a 4 KiB block boundary of its stdout, often mid-entry:
		 * "...sport=53conntrack v1.4.7 (conntrack-tools): 35 flow
		 * entries have been shown." then " dport=42557 ...".  Count
		 * the message, hold the text before it for the next line.
		 */
		if ((msg = tool_message(s, len)) && msg > s &&
		    !is_blank(s, (size_t)(msg - s))) {
			if (!join && !(join = malloc(max + 1)))
				return ctp_error_set(rn->err, CTP_ENOMEM,
						     ctx->file, 0, 0,
						     "out of memory");
			held = (size_t)(msg - s);
			memmove(join, s, held);
			other_line(ctx, msg, len - (size_t)(msg - s));
			continue;
		}
		if (is_blank(s, len) || other_line(ctx, s, len)) {
			in->other++;
			continue;
		}
		f = sniff(ctx, s, len);
		if (!f) {
			if (first) {
				/* sosreport keeps the tail of long output:
				 * the first line may be cut at its start */
				first = 0;
				ctp_error_set(&lerr, 0, ctx->file, ctx->line,
					      1, "partial first line skipped "
						 "(the dump starts mid-line)");
				diag(rn, CTP_SEV_NOTE, &lerr);
				in->other++;
				continue;
			}
			ctp_error_set(&lerr, CTP_EINPUT, ctx->file, ctx->line,
				      1, "unrecognised line: expected a "
					 "conntrack, sysctl, uname or meminfo "
					 "line");
			rc = CTP_EINPUT;
			goto rejected;
		}
		first = 0;
		rc = f->line(ctx, s, len);
		if (rc >= 0) {
			ctx->cur = f->fmt;
			if (rc == CTP_LINE_RECORD) {
				in->records++;
				/* list.c records its own variant */
				if (f->fmt != CTP_FMT_LIST)
					in->formats |= f->fmt;
			} else {
				in->other++;
			}
			continue;
		}
rejected:
		first = 0;
		in->rejected++;
		if (nonl && rc == CTP_EINPUT) {
			size_t n = strlen(lerr.msg);
			snprintf(lerr.msg + n, sizeof(lerr.msg) - n,
				 " (last line has no newline: truncated?)");
		}
		if (rn->opts->strict) {
			/* the caller reports the error it is handed: once */
			*rn->err = lerr;
			ret = CTP_EINPUT;
			break;
		}
		diag(rn, CTP_SEV_ERROR, &lerr);
	}
	if (!ret && held) {
		/* the message split the very last line: parse what we have */
		ctp_error_set(&lerr, CTP_EINPUT, ctx->file, ctx->line, 1,
			      "line cut by a conntrack message at the end "
			      "of the input");
		in->rejected++;
		diag(rn, CTP_SEV_ERROR, &lerr);
	}
	free(join);
	if (rn->opts->progress)
		rn->opts->progress(rn->opts->progress_ud, nbytes);
	if (!ret && r->fp && ferror(r->fp))
		ret = ctp_error_set(rn->err, CTP_EINPUT, ctx->file, 0, 0,
				    "read error: %s", strerror(errno));
	return ret;
}

static int parse_reader(run *rn, reader *r, const char *name,
			const char *path)
{
	ctp_pctx ctx;
	uint16_t idx;
	int rc, known;

	memset(&ctx, 0, sizeof(ctx));
	ctx.file = name;
	ctx.path = path ? path : "";

	/* probe the start of the input for a known format */
	{
		reader probe = *r;
		ctp_pctx pctx = ctx;
		probe.pf = NULL; /* the workers start with parse_lines */
		const char *head;
		size_t hlen;
		if (r->fp) {
			/* fill the first chunk; the probe reads only it */
			size_t got = fread(r->chunk, 1, r->cap, r->fp);
			r->fill = got;
			r->eof = got < r->cap;
		}
		head = r->fp ? r->chunk : r->buf;
		hlen = r->fp ? r->fill : r->buflen;
		if (hlen > CTP_READ_CHUNK)
			hlen = CTP_READ_CHUNK;
		/* an archive on stdin: libarchive reads archives by path,
		 * whose size bounds what they may expand to (bundle.c) */
		if (r->fp == stdin && ctp_bundle_is_archive(
					      (const unsigned char *)head,
					      hlen))
			return ctp_error_set(
				rn->err, CTP_EINPUT, name, 0, 0,
				"an archive or compressed file on stdin: not "
				"read; give its path instead (ctplan reads "
				"archives by path, their size bounds what "
				"they may expand to)");
		/* CR-only line ends (no LF in the first 2 MiB, a CR in
		 * it): read CR as the line end, and say so */
		if (hlen && !memchr(head, '\n', hlen) &&
		    memchr(head, '\r', hlen)) {
			ctp_error e = CTP_ERROR_INIT;
			r->eol = '\r';
			/* the read-ahead workers split at LF */
			pf_free(r->pf);
			r->pf = NULL;
			ctp_error_set(&e, 0, name, 0, 0,
				      "lines end in CR only: read as line "
				      "ends");
			diag(rn, CTP_SEV_NOTE, &e);
		}
		probe = *r;
		if (r->fp)
			probe.eof = 1;
		probe.pf = NULL;
		known = looks_known(&pctx, &probe, rn->opts->max_line);
	}
	if (!known && rn->in_dir) {
		/* a skipped file takes no place among the inputs the flows
		 * are counted by: listed up to a bound, then only counted */
		ctp_error e = CTP_ERROR_INIT;
		if (ctp_snapshot_add_skipped(rn->snap, name, rn->opts->ns) ==
		    CTP_ENOMEM)
			return ctp_error_set(rn->err, CTP_ENOMEM, name, 0, 0,
					     "out of memory");
		ctp_error_set(&e, 0, name, 0, 0,
			      "skipped: not a known format");
		diag(rn, CTP_SEV_NOTE, &e);
		return 0;
	}
	rc = ctp_snapshot_add_input(rn->snap, name, rn->opts->ns, &idx);
	if (rc == CTP_EFAIL)
		return ctp_error_set(rn->err, CTP_EINPUT, name, 0, 0,
				     "not read: ctplan reads at most %u "
				     "inputs (files and archive members in a "
				     "known format)",
				     (unsigned)UINT16_MAX);
	if (rc)
		return ctp_error_set(rn->err, CTP_ENOMEM, name, 0, 0,
				     "out of memory");
	ctx.snap = rn->snap;
	ctx.input = idx;
	ctx.file = ctp_snapshot_input(rn->snap, idx)->path;
	ctx.diag = rn->opts->diag;
	ctx.diag_ud = rn->opts->diag_ud;
	if (!known) {
		ctp_snapshot_input_mut(rn->snap, idx)->skipped = 1;
		return ctp_error_set(rn->err, CTP_EINPUT, ctx.file, 0, 0,
				     "not a conntrack, sysctl, uname or "
				     "meminfo output");
	}
	rc = parse_lines(rn, r, &ctx);
	ctp_kmsg_release(&ctx);
	{
		/* an empty table's dump is just the summary line */
		ctp_input_info *in = ctp_snapshot_input_mut(rn->snap, idx);
		if (in->has_summary &&
		    !(in->formats & (CTP_FMT_LIST | CTP_FMT_LIST_EXT |
				     CTP_FMT_PROC | CTP_FMT_XML |
				     CTP_FMT_SAVE | CTP_FMT_EVENTS)))
			in->formats |= CTP_FMT_LIST;
		/* only some /proc lines show it is /proc (IPv6 in full,
		 * zone=0); the rest read like -o extended */
		if (in->formats & CTP_FMT_PROC)
			in->formats &= ~(unsigned)CTP_FMT_LIST_EXT;
	}
	return rc;
}

/* name: the input's name in reports; path: for formats keyed by path */
static int parse_file_as(run *rn, const char *name, const char *path,
			 FILE *fp);

static int parse_file(run *rn, const char *path, FILE *fp)
{
	return parse_file_as(rn, path, strcmp(path, "-") ? path : "", fp);
}

static int parse_file_as(run *rn, const char *path, const char *ppath,
			 FILE *fp)
{
	reader r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.eol = '\n';
	r.fp = fp;
	/* room for the longest line, and big reads */
	r.cap = rn->opts->max_line + 4096;
	if (r.cap < CTP_READ_CHUNK)
		r.cap = CTP_READ_CHUNK;
	r.chunk = malloc(r.cap);
	if (!r.chunk)
		return ctp_error_set(rn->err, CTP_ENOMEM, path, 0, 0,
				     "out of memory");
	r.pf = pf_new(); /* none is fine: this thread parses alone */
	rc = parse_reader(rn, &r, path, ppath);
	/* joins the workers before the chunk they read goes */
	pf_free(r.pf);
	free(r.chunk);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_any(run *rn, const char *path, int depth);

static int parse_dir(run *rn, const char *path, int depth)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d)
		return ctp_error_set(rn->err, CTP_EINPUT, path, 0, 0,
				     "cannot open directory: %s",
				     strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (ctp_grow((void **)&names, &cap, n + 1, sizeof(*names))) {
			rc = CTP_ENOMEM;
			goto done;
		}
		size_t l = strlen(path) + strlen(de->d_name) + 2;
		names[n] = malloc(l);
		if (!names[n]) {
			rc = CTP_ENOMEM;
			goto done;
		}
		snprintf(names[n], l, "%s/%s", path, de->d_name);
		n++;
	}
	/* sorted, so reports do not depend on directory order */
	if (n) /* an empty folder may have no array at all */
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && !rc; i++)
		rc = parse_any(rn, names[i], depth + 1);
done:
	if (rc == CTP_ENOMEM)
		ctp_error_set(rn->err, rc, path, 0, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/*
 * Read path, an entry of a folder at depth > 0.  A failure to read it or
 * a part of it (an entry that cannot be opened, a broken archive, folders
 * nested too deep) loses nothing else: it is kept with its input
 * (ctp_snapshot_input_failed, counted in the report) and, unless --strict,
 * reading goes on.  Inside a folder, or when the path gave something
 * before it failed, the error is reported here (diag) and 0 returned; a
 * top-level path that gave nothing returns the error for the caller to
 * print, so it is printed once either way.
 */
static int parse_one(run *rn, const char *path, int depth);

static int parse_any(run *rn, const char *path, int depth)
{
	size_t first = ctp_snapshot_input_count(rn->snap), n;
	int rc = parse_one(rn, path, depth), partial = 0;

	if (rc != CTP_EINPUT || rn->opts->strict)
		return rc;
	if (ctp_snapshot_input_failed(rn->snap,
				      rn->err->file[0] ? rn->err->file : path,
				      rn->opts->ns, rn->err->msg) ==
	    CTP_ENOMEM)
		return ctp_error_set(rn->err, CTP_ENOMEM, path, 0, 0,
				     "out of memory");
	n = ctp_snapshot_input_count(rn->snap);
	for (size_t i = first; i < n && !partial; i++) {
		const ctp_input_info *in = ctp_snapshot_input(rn->snap, i);
		partial = !in->skipped && in->lines > 0;
	}
	if (!depth && !partial)
		return rc;
	diag(rn, CTP_SEV_ERROR, rn->err);
	return 0;
}

static int parse_one(run *rn, const char *path, int depth)
{
	struct stat st;
	FILE *fp;
	int rc;

	if (strcmp(path, "-") == 0)
		return parse_file(rn, "-", stdin);
	/* lstat inside directories: links are not followed there */
	if ((depth ? lstat(path, &st) : stat(path, &st)) != 0)
		return ctp_error_set(rn->err, CTP_EINPUT, path, 0, 0,
				     "cannot read: %s", strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		int saved = rn->in_dir;
		if (depth > 32)
			return ctp_error_set(rn->err, CTP_EINPUT, path, 0, 0,
					     "directories nested too deep");
		rn->in_dir = 1;
		/* an unpacked sosreport is read by its sos names */
		if (ctp_bundle_is_sos_dir(path))
			rc = ctp_bundle_read_sos_dir(rn->snap, path,
						     rn->opts, rn->err);
		else
			rc = parse_dir(rn, path, depth);
		rn->in_dir = saved;
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		if (depth) {
			ctp_error e = CTP_ERROR_INIT;
			ctp_error_set(&e, 0, path, 0, 0,
				      "skipped: not a regular file");
			diag(rn, CTP_SEV_NOTE, &e);
			return 0;
		}
	}
	fp = fopen(path, "rb");
	if (!fp)
		return ctp_error_set(rn->err, CTP_EINPUT, path, 0, 0,
				     "cannot open: %s", strerror(errno));
	if (S_ISREG(st.st_mode)) {
		/* a tar archive or a compressed dump (parsers/bundle.c) */
		unsigned char head[512];
		size_t n = fread(head, 1, sizeof(head), fp);
		rewind(fp);
		if (ctp_bundle_is_archive(head, n)) {
			rc = ctp_bundle_read_archive(rn->snap, path, fp,
						     (uint64_t)st.st_size,
						     rn->opts, rn->err);
			fclose(fp);
			return rc;
		}
	}
	rc = parse_file(rn, path, fp);
	fclose(fp);
	return rc;
}

int ctp_input_member(ctp_snapshot *snap, FILE *fp, const char *name,
		     const char *path, const ctp_parse_opts *opts,
		     ctp_error *err)
{
	run rn = { snap, opts, err, 1 };

	return parse_file_as(&rn, name, path, fp);
}

int ctp_parse_path(ctp_snapshot *snap, const char *path,
		   const ctp_parse_opts *opts, ctp_error *err)
{
	ctp_parse_opts def = CTP_PARSE_OPTS_INIT;
	run rn = { snap, opts ? opts : &def, err, 0 };

	return parse_any(&rn, path, 0);
}

int ctp_parse_stream(ctp_snapshot *snap, FILE *fp, const char *name,
		     const ctp_parse_opts *opts, ctp_error *err)
{
	ctp_parse_opts def = CTP_PARSE_OPTS_INIT;
	run rn = { snap, opts ? opts : &def, err, 0 };

	return parse_file(&rn, name, fp);
}

int ctp_parse_buffer(ctp_snapshot *snap, const char *name, const char *buf,
		     size_t len, const ctp_parse_opts *opts, ctp_error *err)
{
	ctp_parse_opts def = CTP_PARSE_OPTS_INIT;
	run rn = { snap, opts ? opts : &def, err, 0 };
	reader r;

	memset(&r, 0, sizeof(r));
	r.eol = '\n';
	r.buf = buf;
	r.buflen = len;
	return parse_reader(&rn, &r, name, name);
}
