/*
 * Output files (include/ctplan/render.h ctp_outfile): a report is
 * written to a temporary file in the same directory and renamed over its
 * name once whole, so a reader (node_exporter's textfile collector, a
 * fleet's reduce step) sees the old file or the new one, never half of
 * one.  Without CTP_OUTFILE_SPECIAL_IN_PLACE (--csv-dir's files) a
 * symlink planted under the output's name is replaced, not followed
 * (rename(2) replaces the link itself); with it (-o FILE, a name the
 * user typed) a symlink or device is written through in place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctplan/error.h"
#include "ctplan/render.h"

static int fail(ctp_error *err, const char *path, int e)
{
	return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
			     "cannot write '%s': %s", path,
			     e ? strerror(e) : "write error");
}

/* The mode a new file gets: 0666 less the umask (0644 under umask 022).
 * umask(2) can only be read by setting it; the CLI is one thread when
 * it writes. */
static mode_t new_mode(void)
{
	mode_t m = umask(022);

	umask(m);
	return 0666 & ~m;
}

int ctp_outfile_open(ctp_outfile *o, const char *path, int flags,
		     ctp_error *err)
{
	struct stat st;
	const char *slash;
	size_t dirlen;
	mode_t mode;
	int fd, existed;

	memset(o, 0, sizeof(*o));
	if (strlen(path) >= sizeof(o->path))
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot write '%.200s...': path too "
				     "long", path);
	strcpy(o->path, path);
	/* lstat: the name itself, not what a link points to */
	existed = lstat(path, &st) == 0;
	/* a symlink (/dev/stdout), a terminal, a FIFO, /dev/full: written
	 * through, in place, as a shell's redirection would; renaming over
	 * them would replace the link or the device node itself */
	if (existed && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    (flags & CTP_OUTFILE_SPECIAL_IN_PLACE)) {
		if (!(o->fp = fopen(path, "w")))
			return fail(err, path, errno);
		return 0;
	}
	slash = strrchr(path, '/');
	dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	if (snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.tmpXXXXXX", (int)dirlen,
		     path, path + dirlen) >= (int)sizeof(o->tmp))
		return ctp_error_set(err, CTP_EFAIL, NULL, 0, 0,
				     "cannot write '%s': path too long", path);
	/* mkstemp opens with O_EXCL: it never follows a link */
	if ((fd = mkstemp(o->tmp)) < 0) {
		int e = errno;
		o->tmp[0] = '\0';
		return fail(err, path, e);
	}
	/* the file replaced keeps its permissions (when it was a regular
	 * file: a planted link's target is not ours to copy) */
	mode = existed && S_ISREG(st.st_mode) ? st.st_mode & 07777
					      : new_mode();
	if (fchmod(fd, mode) || !(o->fp = fdopen(fd, "w"))) {
		int e = errno;
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return fail(err, path, e);
	}
	return 0;
}

int ctp_outfile_close(ctp_outfile *o, int failed, int werrno, ctp_error *err)
{
	int e = werrno, bad = failed;

	if (!o->fp)
		return 0;
	/* a failed write leaves errno; a flush of what is buffered tells
	 * it again when the caller had none */
	errno = 0;
	if (fflush(o->fp) == EOF || ferror(o->fp)) {
		bad = 1;
		if (!e)
			e = errno;
	}
	errno = 0;
	if (fclose(o->fp) == EOF && !bad) {
		bad = 1;
		e = errno;
	}
	o->fp = NULL;
	if (!bad && o->tmp[0] && rename(o->tmp, o->path)) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		if (o->tmp[0])
			unlink(o->tmp);
		o->tmp[0] = '\0';
		return fail(err, o->path, e);
	}
	o->tmp[0] = '\0';
	return 0;
}

void ctp_outfile_abort(ctp_outfile *o)
{
	if (o->fp)
		fclose(o->fp);
	o->fp = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}
