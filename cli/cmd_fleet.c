/*
 * ctplan fleet PATH...: the reduce step of a fleet run.  One host per
 * PATH: a bundle, a directory or a dump, analyzed here, or a report saved
 * by "ctplan analyze --format json" (the map step, run anywhere: xargs
 * -P, GNU parallel, a Kubernetes Job; docs/fleet.md).  CSV on stdout, a
 * header and one row per host (render/headline.c's columns), or with
 * --format text the hosts that need attention first (render/fleet.c).
 *
 * -j N analyzes N paths at a time in N worker processes (fork): a
 * crash on one hostile bundle costs that row, not the run, and the
 * models need no locks.  Each worker takes the next path from the
 * parent, runs it with its stderr in a file of its own, and sends back
 * the row and the messages; the parent prints both in input order, so
 * the output is the same for any N.  Each host's hash model runs on one
 * thread: -j is the run's only parallelism, like make -j.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctplan/analyze.h"
#include "ctplan/parse.h"
#include "ctplan/render.h"
#include "cli.h"

/* a worker's messages for one path are cut here */
#define MSG_MAX 16384
#define JOBS_MAX 256

/* One path's outcome, sent whole from a worker to the parent. */
typedef struct result {
	int ok;              /* row is valid */
	int read_errors;     /* an input not read to its end: listed, and
			      * the exit status is 2 */
	char from[8];        /* how the name was found: "uname", ... */
	ctp_fleet_row row;   /* row.h.kernel is not sent (a pointer) */
	size_t msglen;       /* bytes of messages after this record */
} result;

typedef struct fleet {
	ctp_parse_opts popts;
	ctp_analyze_opts aopts;
	char **paths;
	size_t n;
	result *res;
	char **msg;           /* messages per path, NULL: none */
	unsigned char *fin;   /* path i is finished */
	unsigned char *renamed; /* its row name had the path added */
	size_t done, failed, shown; /* shown: messages printed up to */
	int progress;         /* a status line on stderr (a terminal) */
	struct timespec t0;
} fleet;

static void quiet_diag(void *ud, ctp_severity sev, const ctp_error *e)
{
	char buf[CTP_ERROR_TEXT_MAX];

	(void)ud;
	if (sev == CTP_SEV_NOTE)
		return;
	ctp_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

/* Does path hold a saved JSON report?  Its first non-blank byte is '{':
 * no capture format ctplan reads starts so. */
static int is_json_report(const char *path)
{
	struct stat st;
	FILE *f;
	int c;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || !(f = fopen(path, "r")))
		return 0;
	while ((c = getc(f)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		;
	fclose(f);
	return c == '{';
}

/* the row of a saved report: its headline, host.name and host.kernel */
static int load_report(const char *path, result *r)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *host;
	const char *schema, *name, *kernel, *from;

	if (!root) {
		fprintf(stderr, "%s:%d:%d: cannot read the JSON report: %s\n",
			path, je.line, je.column, je.text);
		return -1;
	}
	schema = json_string_value(json_object_get(root, "schema"));
	if (!schema || strcmp(schema, CTP_REPORT_SCHEMA) != 0) {
		fprintf(stderr, "%s: not a ctplan report: schema '%s', want "
				"'%s' (ctplan analyze --format json)\n",
			path, schema ? schema : "(none)", CTP_REPORT_SCHEMA);
		json_decref(root);
		return -1;
	}
	host = json_object_get(root, "host");
	name = json_string_value(json_object_get(host, "name"));
	kernel = json_string_value(json_object_get(host, "kernel"));
	from = json_string_value(json_object_get(host, "name_from"));
	ctp_headline_from_tree(root, &r->row.h);
	r->row.h.kernel = NULL; /* borrowed from root, freed below */
	if (name) {
		snprintf(r->row.name, sizeof(r->row.name), "%s", name);
		snprintf(r->from, sizeof(r->from), "%s", from ? from : "");
	} else {
		/* a report of a ctplan before "host": the file's name */
		cli_host_name_of_path(path, r->row.name, sizeof(r->row.name));
		snprintf(r->from, sizeof(r->from), "path");
	}
	snprintf(r->row.kernel, sizeof(r->row.kernel), "%s",
		 kernel ? kernel : "");
	json_decref(root);
	return 0;
}

/* One path into r; messages go to stderr. */
static void run_one(const fleet *f, size_t i, result *r)
{
	ctp_snapshot *snap;
	ctp_report *rep;
	const ctp_kernel_info *k;
	const char *from;

	memset(r, 0, sizeof(*r));
	if (is_json_report(f->paths[i])) {
		r->ok = load_report(f->paths[i], r) == 0;
		return;
	}
	if (cli_analyze_path(f->paths[i], &f->popts, &f->aopts, &snap, &rep))
		return;
	from = ctp_report_host_name_from(rep);
	snprintf(r->row.name, sizeof(r->row.name), "%s",
		 ctp_report_host_name(rep));
	snprintf(r->from, sizeof(r->from), "%s", from ? from : "");
	k = ctp_snapshot_kernel(snap);
	ctp_headline_get(rep, &r->row.h);
	/* the host's uname, not the version a model assumed */
	snprintf(r->row.kernel, sizeof(r->row.kernel), "%s",
		 k && k->release[0] ? k->release : "");
	r->row.h.kernel = NULL; /* borrowed from rep, freed below */
	r->ok = 1;
	r->read_errors = ctp_snapshot_read_errors(snap) > 0;
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
}

/* ---- progress and messages, parent side ---- */

static void progress_erase(const fleet *f)
{
	if (f->progress)
		fputs("\r\033[K", stderr);
}

static void progress_draw(const fleet *f)
{
	struct timespec t;

	if (!f->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "\r\033[Kctplan fleet: %zu/%zu hosts, %zu failed, "
			"%.0f s",
		f->done, f->n, f->failed,
		(double)(t.tv_sec - f->t0.tv_sec) +
			(double)(t.tv_nsec - f->t0.tv_nsec) / 1e9);
	fflush(stderr);
}

/* Path i is done: print the messages of every finished path in input
 * order up to the first one still running. */
static void finished(fleet *f, size_t i)
{
	f->done++;
	f->fin[i] = 1;
	f->failed += !f->res[i].ok || f->res[i].read_errors;
	progress_erase(f);
	while (f->shown < f->n && f->fin[f->shown]) {
		if (f->msg[f->shown])
			fputs(f->msg[f->shown], stderr);
		free(f->msg[f->shown]);
		f->msg[f->shown] = NULL;
		f->shown++;
	}
	progress_draw(f);
}

/* ---- workers ---- */

typedef struct worker {
	pid_t pid;
	int task;    /* parent writes path indices here */
	int res;     /* and reads results here */
	long busy;   /* the index it works on, or -1 */
} worker;

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 read whole, 0 at end of file before any byte, -1 otherwise */
static int read_all(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 && got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

/* The worker's loop: an index in, a result and its messages out, until
 * the parent closes the task pipe.  Its stderr is a file of its own. */
static void worker_main(const fleet *f, int task, int res)
{
	FILE *errf = tmpfile();
	char *buf = malloc(MSG_MAX);
	uint32_t i;

	if (!errf || !buf || dup2(fileno(errf), STDERR_FILENO) < 0)
		_exit(3);
	while (read_all(task, &i, sizeof(i)) == 1 && i < f->n) {
		result r;
		off_t len;

		fflush(stderr);
		if (ftruncate(STDERR_FILENO, 0) ||
		    lseek(STDERR_FILENO, 0, SEEK_SET) < 0)
			_exit(3);
		run_one(f, i, &r);
		fflush(stderr);
		len = lseek(STDERR_FILENO, 0, SEEK_CUR);
		r.msglen = len > 0 ? (size_t)len : 0;
		if (r.msglen > MSG_MAX)
			r.msglen = MSG_MAX;
		if (r.msglen && pread(STDERR_FILENO, buf, r.msglen, 0) !=
					(ssize_t)r.msglen)
			r.msglen = 0;
		if (write_all(res, &r, sizeof(r)) ||
		    write_all(res, buf, r.msglen))
			_exit(3);
	}
	_exit(0);
}

static int worker_start(const fleet *f, worker *w, worker *all, size_t nw)
{
	int tp[2], rp[2];

	if (pipe(tp))
		return -1;
	if (pipe(rp)) {
		close(tp[0]);
		close(tp[1]);
		return -1;
	}
	/* nothing buffered may be written twice */
	fflush(stdout);
	fflush(stderr);
	w->pid = fork();
	if (w->pid < 0) {
		close(tp[0]);
		close(tp[1]);
		close(rp[0]);
		close(rp[1]);
		return -1;
	}
	if (w->pid == 0) {
#ifdef __linux__
		/* a worker stuck on an input (a FIFO, a hung NFS mount)
		 * must not outlive a killed parent */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(3);
#endif
		/* the other workers' pipes are not this one's */
		for (size_t k = 0; k < nw; k++)
			if (&all[k] != w && all[k].pid > 0) {
				close(all[k].task);
				close(all[k].res);
			}
		close(tp[1]);
		close(rp[0]);
		worker_main(f, tp[0], rp[1]);
	}
	close(tp[0]);
	close(rp[1]);
	w->task = tp[1];
	w->res = rp[0];
	w->busy = -1;
	return 0;
}

static void worker_stop(worker *w, int *status)
{
	close(w->task);
	close(w->res);
	while (waitpid(w->pid, status, 0) < 0 && errno == EINTR)
		;
	w->pid = -1;
}

/* A worker that ended mid-path: that path fails, and says why. */
static void worker_died(fleet *f, worker *w)
{
	size_t i = (size_t)w->busy;
	int st = 0;
	char m[512];

	worker_stop(w, &st);
	memset(&f->res[i], 0, sizeof(f->res[i]));
	if (WIFSIGNALED(st))
		snprintf(m, sizeof(m), "%s: the analysis died of signal %d "
				       "(%s); the other hosts go on\n",
			 f->paths[i], WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(m, sizeof(m), "%s: the analysis ended with status "
				       "%d; the other hosts go on\n",
			 f->paths[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	f->msg[i] = strdup(m);
	finished(f, i);
}

static int give(worker *w, size_t i)
{
	uint32_t v = (uint32_t)i;

	w->busy = (long)i;
	return write_all(w->task, &v, sizeof(v));
}

/* Paths over jobs workers; 0, or -1 when no worker could be started. */
static int run_parallel(fleet *f, size_t jobs)
{
	worker w[JOBS_MAX];
	struct pollfd pfd[JOBS_MAX];
	size_t next = 0, nw = jobs < f->n ? jobs : f->n, running = 0;

	/* a worker that dies must not kill the parent with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	for (size_t k = 0; k < nw; k++)
		w[k].pid = -1;
	for (size_t k = 0; k < nw; k++) {
		if (worker_start(f, &w[k], w, nw)) {
			fprintf(stderr, "ctplan fleet: cannot start a worker: "
					"%s\n",
				strerror(errno));
			if (!running)
				return -1;
			break;
		}
		running++;
		if (next < f->n && give(&w[k], next) == 0)
			next++;
	}
	while (f->done < f->n) {
		size_t np = 0;

		for (size_t k = 0; k < nw; k++) {
			pfd[k].fd = w[k].pid > 0 && w[k].busy >= 0 ? w[k].res
								     : -1;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
			np += pfd[k].fd >= 0;
		}
		if (!np) {
			/* every worker lost: the rest here, one by one */
			for (; next < f->n; next++) {
				progress_erase(f);
				run_one(f, next, &f->res[next]);
				finished(f, next);
			}
			break;
		}
		if (poll(pfd, nw, 250) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (size_t k = 0; k < nw; k++) {
			result r;
			size_t i;
			int rc;

			if (pfd[k].fd < 0 || !pfd[k].revents) {
				continue;
			}
			i = (size_t)w[k].busy;
			rc = read_all(w[k].res, &r, sizeof(r));
			if (rc == 1 && r.msglen <= MSG_MAX) {
				char *m = r.msglen ? malloc(r.msglen + 1)
						   : NULL;
				if (r.msglen &&
				    (!m || read_all(w[k].res, m, r.msglen) != 1)) {
					free(m);
					worker_died(f, &w[k]);
				} else {
					if (m)
						m[r.msglen] = '\0';
					f->res[i] = r;
					f->msg[i] = m;
					w[k].busy = -1;
					finished(f, i);
				}
			} else {
				worker_died(f, &w[k]);
			}
			if (w[k].pid < 0 && next < f->n &&
			    worker_start(f, &w[k], w, nw))
				continue;
			if (w[k].pid > 0 && w[k].busy < 0 && next < f->n &&
			    give(&w[k], next) == 0)
				next++;
		}
	}
	for (size_t k = 0; k < nw; k++)
		if (w[k].pid > 0) {
			int st;
			worker_stop(&w[k], &st);
		}
	return 0;
}

/* ---- names ---- */

/*
 * Two rows never share a name silently: every host whose name another
 * row also has gets its path added ("vm (bundles/a.tar.gz)"), with a
 * note on stderr; the same path given twice gets "#2", "#3".
 */
static void unique_names(fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		size_t same = 0;
		char base[256];

		if (!f->res[i].ok || f->renamed[i])
			continue;
		for (size_t j = i + 1; j < f->n; j++)
			same += f->res[j].ok &&
				strcmp(f->res[j].row.name,
				       f->res[i].row.name) == 0;
		if (!same)
			continue;
		snprintf(base, sizeof(base), "%s", f->res[i].row.name);
		progress_erase(f);
		fprintf(stderr, "ctplan fleet: %zu hosts are named '%s': "
				"their rows add the path\n",
			same + 1, base);
		for (size_t j = i; j < f->n; j++) {
			result *r = &f->res[j];
			if (!r->ok || strcmp(r->row.name, base) != 0)
				continue;
			snprintf(r->row.name, sizeof(r->row.name), "%.100s (%.150s)",
				 base, f->paths[j]);
			f->renamed[j] = 1;
		}
	}
	/* the same path twice, or a name cut short: a number */
	for (size_t i = 0; i < f->n; i++) {
		unsigned k = 1;

		if (!f->res[i].ok)
			continue;
		for (size_t j = i + 1; j < f->n; j++) {
			result *r = &f->res[j];
			char n[sizeof(r->row.name)];
			if (!r->ok || strcmp(r->row.name, f->res[i].row.name))
				continue;
			snprintf(n, sizeof(n), "%.240s #%u", r->row.name, ++k);
			memcpy(r->row.name, n, sizeof(n));
		}
	}
}

int cmd_fleet(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	fleet f;
	const char *fmt, *top_s, *jobs_s;
	ctp_fleet_row *hs = NULL;
	size_t top = 10, jobs = 1, n = 0;
	int rc, text, ret = CTP_EXIT_INPUT;

	memset(&f, 0, sizeof(f));
	f.popts = (ctp_parse_opts)CTP_PARSE_OPTS_INIT;
	f.aopts = (ctp_analyze_opts)CTP_ANALYZE_OPTS_INIT;
	rc = cli_parse(cmd, argc, argv, &a);
	if (rc)
		return rc == 1 ? CTP_EXIT_OK : rc;
	fmt = cli_get(cmd, &a, "format");
	if (!fmt)
		fmt = "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "text")) {
		fprintf(stderr, "ctplan fleet: unknown format '%s' (csv or "
				"text)\nTry 'ctplan fleet --help'.\n",
			fmt);
		return CTP_EXIT_INPUT;
	}
	text = strcmp(fmt, "text") == 0;
	if ((top_s = cli_get(cmd, &a, "top"))) {
		uint64_t v;
		if (cli_parse_uint(top_s, 10, 1, 100000, &v)) {
			fprintf(stderr, "ctplan fleet: --top takes a number "
					"from 1 to 100000, not '%s'\n",
				top_s);
			return CTP_EXIT_INPUT;
		}
		top = v;
	}
	if ((jobs_s = cli_get(cmd, &a, "jobs"))) {
		uint64_t v;
		if (cli_parse_uint(jobs_s, 10, 1, JOBS_MAX, &v)) {
			fprintf(stderr, "ctplan fleet: --jobs takes a number "
					"from 1 to %d, not '%s'\n",
				JOBS_MAX, jobs_s);
			return CTP_EXIT_INPUT;
		}
		jobs = v;
	}
	if (!a.npos) {
		fprintf(stderr, "ctplan fleet: no input given\n"
				"Try 'ctplan fleet --help'.\n");
		return CTP_EXIT_INPUT;
	}
	f.aopts.hash = cli_get(cmd, &a, "no-hash") == NULL;
	/* -j is the run's parallelism: one thread per host */
	f.aopts.hash_threads = 1;
	f.popts.diag = quiet_diag;
	f.paths = a.pos;
	f.n = (size_t)a.npos;
	f.progress = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &f.t0);
	f.res = calloc(f.n, sizeof(*f.res));
	f.msg = calloc(f.n, sizeof(*f.msg));
	f.fin = calloc(f.n, 1);
	f.renamed = calloc(f.n, 1);
	hs = calloc(f.n, sizeof(*hs));
	if (!f.res || !f.msg || !f.fin || !f.renamed || !hs) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto done;
	}
	if (jobs > 1 && f.n > 1) {
		if (run_parallel(&f, jobs))
			goto done;
	} else {
		for (size_t i = 0; i < f.n; i++) {
			progress_erase(&f);
			run_one(&f, i, &f.res[i]);
			finished(&f, i);
		}
	}
	progress_erase(&f);
	unique_names(&f);
	for (size_t i = 0; i < f.n; i++)
		if (f.res[i].ok)
			hs[n++] = f.res[i].row;
	if (text) {
		if (ctp_render_fleet_text(hs, n, top, f.failed, stdout))
			goto write_error;
	} else {
		if (ctp_render_csv_summary(NULL, stdout, 1, NULL, NULL))
			goto write_error;
		for (size_t i = 0; i < n; i++)
			if (ctp_render_csv_row(&hs[i].h, stdout, hs[i].name,
					       hs[i].kernel))
				goto write_error;
	}
	ret = f.failed ? CTP_EXIT_INPUT : CTP_EXIT_OK;
	goto done;
write_error:
	fprintf(stderr, "ctplan fleet: cannot write the table to stdout: "
			"%s\n",
		strerror(errno));
done:
	if (f.msg)
		for (size_t i = 0; i < f.n; i++)
			free(f.msg[i]);
	free(f.msg);
	free(f.res);
	free(f.fin);
	free(f.renamed);
	free(hs);
	return ret;
}
