/*
 * Shared by the commands that analyze one host per argument (fleet,
 * diff): read a path into a fresh snapshot, run the models, and name the
 * host.
 */
#include <stdio.h>
#include <string.h>

#include "ctplan/analyze.h"
#include "ctplan/host.h"
#include "ctplan/parse.h"
#include "cli.h"

int cli_analyze_paths(const char *const *paths, int n,
		      const ctp_parse_opts *popts,
		      const ctp_analyze_opts *aopts, ctp_snapshot **snap,
		      ctp_report **rep)
{
	ctp_error err = CTP_ERROR_INIT;
	ctp_analysis *an = NULL;
	char buf[CTP_ERROR_TEXT_MAX];
	int rc = 0;

	*snap = NULL;
	*rep = NULL;
	if (ctp_snapshot_new(snap) || ctp_report_new(rep)) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		int prc = ctp_parse_path(*snap, paths[i], popts, &err);
		if (!prc)
			continue;
		if (prc == CTP_ENOMEM || popts->strict)
			goto fail_err;
		/* the others are read (parsers/input.c parse_any); the
		 * caller sees ctp_snapshot_read_errors() */
		ctp_error_format(&err, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	if (ctp_snapshot_finalize(*snap)) {
		fprintf(stderr, "ctplan: out of memory\n");
		goto fail;
	}
	if (ctp_analysis_new(*snap, aopts, &an, &err))
		goto fail_err;
	if (!ctp_host_has_data(ctp_analysis_host(an))) {
		cli_nothing_to_analyze(*snap, paths[0], n);
		goto fail;
	}
	for (size_t i = 0; !rc && i < ctp_analyze_model_count(); i++)
		rc = ctp_analyze_model(i, an, *rep, &err);
	if (!rc)
		rc = cli_name_report(*rep, *snap, paths[0]);
	if (rc)
		goto fail_err;
	ctp_analysis_free(an);
	return 0;
fail_err:
	ctp_error_format(&err, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
fail:
	ctp_analysis_free(an);
	ctp_report_free(*rep);
	ctp_snapshot_free(*snap);
	*snap = NULL;
	*rep = NULL;
	return CTP_EXIT_INPUT;
}

void cli_nothing_to_analyze(const ctp_snapshot *snap, const char *first,
			    int npaths)
{
	size_t n = ctp_snapshot_input_count(snap), skipped = 0, empty = 0;

	for (size_t i = 0; i < n; i++) {
		const ctp_input_info *in = ctp_snapshot_input(snap, i);
		if (in->skipped)
			skipped++;
		else if (!in->records)
			empty++;
	}
	fprintf(stderr,
		"%s%s: nothing to analyze: %zu file(s) found, %zu not in a "
		"known format, %zu with no record; no table listing, "
		"count, conntrack setting, counters or kernel log message of "
		"conntrack was found\n",
		first, npaths > 1 ? " (and the paths after it)" : "", n,
		skipped, empty);
}

int cli_analyze_path(const char *path, const ctp_parse_opts *popts,
		     const ctp_analyze_opts *aopts, ctp_snapshot **snap,
		     ctp_report **rep)
{
	return cli_analyze_paths(&path, 1, popts, aopts, snap, rep);
}

/* archive and compression suffixes, longest first */
static const char *const suffixes[] = {
	".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst", ".tgz", ".txz",
	".tar", ".gz", ".xz",
};

/* the name, and what gave it ("uname", "sysctl", "path") */
static const char *host_name(const ctp_snapshot *snap, const char *path,
			     char *buf, size_t size, const char **from)
{
	const char *h = ctp_snapshot_sysctl(snap, "kernel.hostname");
	const ctp_kernel_info *k = ctp_snapshot_kernel(snap);

	/* the host's own name: uname -a's nodename, else sysctl -a's */
	*from = "uname";
	if (k && k->nodename[0] && strcmp(k->nodename, "(none)") != 0) {
		snprintf(buf, size, "%s", k->nodename);
		return buf;
	}
	*from = "sysctl";
	if (h && *h && strcmp(h, "(none)") != 0) {
		snprintf(buf, size, "%s", h);
		return buf;
	}
	*from = "path";
	return cli_host_name_of_path(path, buf, size);
}

const char *cli_host_name_of_path(const char *path, char *buf, size_t size)
{
	const char *base;
	size_t n;

	/* else the bundle's name, without "sosreport-" and suffixes */
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	base = path;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			base = path + i + 1;
	n -= (size_t)(base - path);
	if (strncmp(base, "sosreport-", 10) == 0 && n > 10) {
		base += 10;
		n -= 10;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t l = strlen(suffixes[i]);
		if (n > l && strncmp(base + n - l, suffixes[i], l) == 0) {
			n -= l;
			break;
		}
	}
	snprintf(buf, size, "%.*s", (int)n, base);
	return buf;
}

const char *cli_host_name(const ctp_snapshot *snap, const char *path,
			  char *buf, size_t size)
{
	const char *from;

	return host_name(snap, path, buf, size, &from);
}

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * When the bundle says it was captured: ctplan-collect names its folder
 * "ctplan-HOST-YYYYMMDDTHHMMSSZ" (date -u when it ran), and every input
 * path read from its bundle holds that folder.  Only what a bundle
 * states counts: a file's mtime says when it was copied, not captured.
 * 1 with when ("2026-12-07T20:38:01Z") and from (the folder) filled.
 */
static int capture_time(const ctp_snapshot *snap, char *when, size_t wsize,
			char *from, size_t fsize)
{
	for (size_t i = 0; i < ctp_snapshot_input_count(snap); i++) {
		const char *p = ctp_snapshot_input(snap, i)->path;

		while (p && *p) {
			size_t n = strcspn(p, "/!");
			const char *t = p + n - 16; /* YYYYMMDDTHHMMSSZ */

			if (n > 7 + 17 && strncmp(p, "ctplan-", 7) == 0 &&
			    t[-1] == '-' && digits(t, 8) && t[8] == 'T' &&
			    digits(t + 9, 6) && t[15] == 'Z') {
				snprintf(when, wsize,
					 "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", t,
					 t + 4, t + 6, t + 9, t + 11, t + 13);
				snprintf(from, fsize, "%.*s", (int)n, p);
				return 1;
			}
			p += n;
			p += *p != '\0';
		}
	}
	return 0;
}

int cli_name_report(ctp_report *rep, const ctp_snapshot *snap,
		    const char *path)
{
	char when[40], from_dir[256];
	int has_time;
	char name[128];
	const char *from;

	const ctp_kernel_info *k = ctp_snapshot_kernel(snap);

	host_name(snap, path, name, sizeof(name), &from);
	has_time = capture_time(snap, when, sizeof(when), from_dir,
				sizeof(from_dir));
	return ctp_report_set_host(rep, name, from,
				   k && k->release[0] ? k->release : NULL,
				   has_time ? when : NULL,
				   has_time ? from_dir : NULL);
}
