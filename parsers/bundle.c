/*
 * Support bundles: sosreport directories and archives, other tar
 * archives, and single compressed dumps (parsers/bundle.h).
 *
 * An sosreport is read by name: sos files its command outputs under
 * names made from the command line (sos/report/plugins/__init__.py,
 * _mangle_command: "[^\w\-\./]+" becomes "_"), and of its thousands of
 * files ctplan wants a handful, listed in sos_files[] below with the sos
 * plugin that writes each (sosreport/sos, sos 4.x: plugins conntrack.py,
 * kernel.py, memory.py, system.py).  Content sniffing alone would also
 * take files that look right but mean something else, such as the
 * per-namespace "sysctl -a" of the networking plugin, whose
 * nf_conntrack_count is the namespace's, not the host's.  Any other tar
 * archive is read like a directory: every regular member, by content.
 *
 * Safety: members are streamed from libarchive to the line reader and
 * never written anywhere; links, devices, sparse members and member
 * paths that are absolute or hold ".." are skipped with a warning; the
 * bytes an archive expands to are capped (CTP_BUNDLE_MIN_EXPAND,
 * CTP_BUNDLE_RATIO), and so is the number of members.
 */
#define _GNU_SOURCE /* fopencookie */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "bundle.h"
#include "grow.h"
#include "parsers.h"

/* ---- names ---- */

/*
 * sos files ctplan reads, relative to the sos root.  MUST be sorted
 * (bsearch).  Prefixes and per-namespace names are in sos_wanted_rest.
 */
static const char *const sos_files[] = {
	/* memory.py: add_copy_spec("/proc/meminfo") */
	"proc/meminfo",
	/* kernel.py: add_copy_spec("/proc/slabinfo") */
	"proc/slabinfo",
	/* system.py copies /proc/sys; the legacy alias of the max */
	"proc/sys/net/nf_conntrack_max",
	/* conntrack.py: "conntrack -L -o extended", "conntrack -S" */
	"sos_commands/conntrack/conntrack_-L_-o_extended",
	"sos_commands/conntrack/conntrack_-S",
	/* kernel.py: "dmesg" (cmd_as_tag), "sysctl -a", "uname -a" (the
	 * top-level "uname" is a symlink to it) */
	"sos_commands/kernel/dmesg",
	/* not sos's: ctplan-collect's kernel journal of the boot before and
	 * of this one (scripts/ctplan-collect) */
	"sos_commands/kernel/journalctl_-k_-b_-1",
	"sos_commands/kernel/journalctl_-k_-b_0",
	"sos_commands/kernel/sysctl_-a",
	"sos_commands/kernel/uname_-a",
	/* kernel.py: add_copy_spec("/sys/module/<mod>/parameters") */
	"sys/module/nf_conntrack/parameters/hashsize",
	/* not sos's: ctplan-collect copies kube-proxy's configuration at
	 * its path, as a copy spec would */
	"var/lib/kube-proxy/config.conf",
};
#define NSOS_FILES (sizeof(sos_files) / sizeof(sos_files[0]))

/* system.py: the conntrack settings under /proc/sys */
#define SOS_NETFILTER "proc/sys/net/netfilter/nf_conntrack_"
/* conntrack.py, per namespace: "ip netns exec <ns> conntrack ..." */
#define SOS_CONNTRACK_DIR "sos_commands/conntrack/"
#define NETNS_PREFIX "ip_netns_exec_"
/* not sos's: ctplan-collect's kube-proxy flags, one file per process */
#define COLLECT_KUBE_PROXY "sos_commands/kubernetes/kube-proxy_cmdline_"

/* per-namespace command suffixes after "ip_netns_exec_<ns>" */
static const char *const netns_suffixes[] = {
	"_conntrack_-L_-o_extended",
	"_conntrack_-S",
	"_sysctl_-a",
};

static int str_cmp(const void *key, const void *elt)
{
	return strcmp(key, *(const char *const *)elt);
}

static int starts(const char *s, const char *lit)
{
	return strncmp(s, lit, strlen(lit)) == 0;
}

int ctp_bundle_netns_label(const char *path, char *buf, size_t size)
{
	const char *base = ctp_path_base(path), *ns;
	size_t blen = strlen(base), plen = strlen(NETNS_PREFIX);

	if (!starts(base, NETNS_PREFIX))
		return 0;
	ns = base + plen;
	for (size_t i = 0;
	     i < sizeof(netns_suffixes) / sizeof(netns_suffixes[0]); i++) {
		size_t slen = strlen(netns_suffixes[i]);
		size_t nlen;
		if (blen < plen + slen + 1 ||
		    strcmp(base + blen - slen, netns_suffixes[i]) != 0)
			continue;
		nlen = blen - plen - slen;
		if (nlen + 1 > size)
			return 0;
		memcpy(buf, ns, nlen);
		buf[nlen] = '\0';
		return 1;
	}
	return 0;
}

int ctp_bundle_sos_wanted(const char *rel)
{
	char ns[256];

	if (bsearch(rel, sos_files, NSOS_FILES, sizeof(sos_files[0]),
		    str_cmp))
		return 1;
	if (starts(rel, SOS_NETFILTER) && !strchr(rel + strlen(SOS_NETFILTER),
						  '/'))
		return 1;
	/* the namespaces' conntrack outputs, not their sysctl -a */
	if (starts(rel, SOS_CONNTRACK_DIR NETNS_PREFIX) &&
	    !strchr(rel + strlen(SOS_CONNTRACK_DIR), '/') &&
	    ctp_bundle_netns_label(rel, ns, sizeof(ns)) &&
	    strstr(rel, "_conntrack_-"))
		return 1;
	if (starts(rel, COLLECT_KUBE_PROXY) &&
	    !strchr(rel + strlen(COLLECT_KUBE_PROXY), '/'))
		return 1;
	return 0;
}

/* Is rel a directory on the way to a wanted sos file? */
static int sos_wanted_dir(const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i < NSOS_FILES; i++)
		if (strncmp(sos_files[i], rel, n) == 0 &&
		    sos_files[i][n] == '/')
			return 1;
	return (strncmp(SOS_NETFILTER, rel, n) == 0 &&
		SOS_NETFILTER[n] == '/') ||
	       (strncmp(SOS_CONNTRACK_DIR, rel, n) == 0 &&
		SOS_CONNTRACK_DIR[n] == '/') ||
	       (strncmp(COLLECT_KUBE_PROXY, rel, n) == 0 &&
		COLLECT_KUBE_PROXY[n] == '/');
}

/* directory names only sos makes at its root */
static const char *const sos_markers[] = {
	"sos_commands", "sos_logs", "sos_reports",
};

static int is_sos_marker(const char *comp, size_t len)
{
	for (size_t i = 0; i < sizeof(sos_markers) / sizeof(sos_markers[0]);
	     i++)
		if (strlen(sos_markers[i]) == len &&
		    memcmp(sos_markers[i], comp, len) == 0)
			return 1;
	return 0;
}

int ctp_bundle_is_sos_dir(const char *dir)
{
	char p[4096];
	struct stat st;

	for (size_t i = 0; i < sizeof(sos_markers) / sizeof(sos_markers[0]);
	     i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, sos_markers[i]) >=
		    (int)sizeof(p))
			return 0;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return 1;
	}
	return 0;
}

int ctp_bundle_is_archive(const unsigned char *h, size_t n)
{
	static const struct magic {
		size_t off, len;
		const char *bytes;
	} magics[] = {
		{ 0, 2, "\x1f\x8b" },                 /* gzip */
		{ 0, 6, "\xfd" "7zXZ\0" },            /* xz */
		{ 0, 3, "BZh" },                      /* bzip2 */
		{ 0, 4, "\x28\xb5\x2f\xfd" },         /* zstd */
		{ 0, 3, "\x5d\x00\x00" },             /* lzma alone */
		{ 257, 5, "ustar" },                  /* tar: POSIX and GNU */
	};

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (n >= magics[i].off + magics[i].len &&
		    memcmp(h + magics[i].off, magics[i].bytes,
			   magics[i].len) == 0)
			return 1;
	return 0;
}

/* ---- diagnostics ---- */

static void note(const ctp_parse_opts *o, ctp_severity sev,
		 const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void note(const ctp_parse_opts *o, ctp_severity sev,
		 const char *file, const char *fmt, ...)
{
	ctp_error e = CTP_ERROR_INIT;
	va_list ap;

	if (!o->diag)
		return;
	ctp_error_set_file(&e, file);
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	o->diag(o->diag_ud, sev, &e);
}

/* Inputs [from, now) used and skipped. */
static void count_inputs(const ctp_snapshot *snap, size_t from,
			 size_t *used, size_t *skipped)
{
	*used = *skipped = 0;
	for (size_t i = from; i < ctp_snapshot_input_count(snap); i++) {
		if (ctp_snapshot_input(snap, i)->skipped)
			(*skipped)++;
		else
			(*used)++;
	}
}

/* ---- reading one member with a namespace label from its name ---- */

static int read_member(ctp_snapshot *snap, FILE *fp, const char *name,
		       const char *path, const ctp_parse_opts *opts,
		       ctp_error *err)
{
	ctp_parse_opts o = *opts;
	char ns[256];

	/* sos names the namespace in the file name; it wins over --ns */
	if (ctp_bundle_netns_label(path, ns, sizeof(ns)))
		o.ns = ns;
	return ctp_input_member(snap, fp, name, path, &o, err);
}

/* ---- archives ---- */

typedef struct arc {
	struct archive *a;
	const char *path;
	uint64_t limit;     /* bytes the archive may expand to */
	uint64_t delivered; /* member bytes handed to the reader */
	int bomb, failed;
	char why[160];
} arc;

static uint64_t expanded(const arc *x)
{
	la_int64_t f = archive_filter_bytes(x->a, 0);
	uint64_t u = f > 0 ? (uint64_t)f : 0;

	return u > x->delivered ? u : x->delivered;
}

static ssize_t member_read(void *cookie, char *buf, size_t size)
{
	arc *x = cookie;
	la_ssize_t n;

	if (expanded(x) > x->limit) {
		x->bomb = 1;
		errno = EFBIG;
		return -1;
	}
	n = archive_read_data(x->a, buf, size);
	if (n < 0) {
		x->failed = 1;
		snprintf(x->why, sizeof(x->why), "%s",
			 archive_error_string(x->a) ? archive_error_string(x->a)
						    : "read error");
		errno = EIO;
		return -1;
	}
	x->delivered += (uint64_t)n;
	return n;
}

/* Read the rest of a member and throw it away, within the limit. */
static int drain(arc *x)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(x->a, &buf, &len, &off)) ==
	       ARCHIVE_OK) {
		if (expanded(x) > x->limit) {
			x->bomb = 1;
			return -1;
		}
	}
	if (r != ARCHIVE_EOF) {
		x->failed = 1;
		snprintf(x->why, sizeof(x->why), "%s",
			 archive_error_string(x->a) ? archive_error_string(x->a)
						    : "read error");
		return -1;
	}
	return 0;
}

static int bomb_error(const arc *x, ctp_error *err)
{
	return ctp_error_set(err, CTP_EINPUT, x->path, 0, 0,
			     "archive expands past %" PRIu64 " bytes "
			     "(%d times its size, at least 1 GiB): stopped, "
			     "a compression bomb?",
			     x->limit, CTP_BUNDLE_RATIO);
}

/*
 * A member path without "./" at its start, or NULL (with *why) when it
 * must not be used: absolute, or with a ".." component.
 */
static const char *safe_name(const char *p, const char **why)
{
	const char *c;

	if (!p || !*p) {
		*why = "no name";
		return NULL;
	}
	if (p[0] == '/') {
		*why = "absolute path";
		return NULL;
	}
	for (c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			*why = "'..' in the path";
			return NULL;
		}
		c += n;
		while (*c == '/')
			c++;
	}
	while (p[0] == '.' && p[1] == '/') {
		p += 2;
		while (*p == '/')
			p++;
	}
	return p;
}

/*
 * If name shows an sosreport, set the sos root (the text before its
 * sos_commands/, sos_logs/ or sos_reports/) and return 1.  sos names its
 * top directory "sosreport-<host>-..." (sos/report/__init__.py), which
 * also gives the root away in a tar sorted by name, where etc/ and proc/
 * come before sos_commands/.
 */
static int find_sos_root(const char *name, char *root, size_t size)
{
	const char *c = name;
	size_t top = strcspn(name, "/");

	if (name[top] == '/' && strncmp(name, "sosreport-", 10) == 0 &&
	    top + 2 <= size) {
		memcpy(root, name, top + 1);
		root[top + 1] = '\0';
		return 1;
	}

	for (int depth = 0; depth < 2 && *c; depth++) {
		size_t n = strcspn(c, "/");
		if (c[n] == '/' && is_sos_marker(c, n)) {
			size_t rl = (size_t)(c - name);
			if (rl + 1 > size)
				return 0;
			memcpy(root, name, rl);
			root[rl] = '\0';
			return 1;
		}
		if (!c[n])
			break;
		c += n + 1;
	}
	return 0;
}

/* "x.gz" -> "x": the name path rules see for a single compressed file */
static void strip_suffix(const char *path, char *out, size_t size)
{
	static const char *const sfx[] = { ".gz", ".xz", ".bz2", ".zst",
					   ".lzma", ".z", ".Z" };
	size_t n = strlen(path);

	snprintf(out, size, "%s", path);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i]);
		if (n > l && n < size && strcmp(path + n - l, sfx[i]) == 0) {
			out[n - l] = '\0';
			return;
		}
	}
}

/*
 * The compressions read.  A libarchive built without one's library still
 * registers it, to run an external "gzip -d", "zstd -d", ... (it returns
 * ARCHIVE_WARN; libarchive 3.6 archive_read_support_filter_*.c), and
 * ctplan never runs a program: each is tried on a reader of its own and
 * used only where libarchive decodes it itself.
 */
static int (*const filters[])(struct archive *) = {
	archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
	archive_read_support_filter_xz, archive_read_support_filter_lzma,
	archive_read_support_filter_zstd,
};

/* A reader on fp, or NULL with why (libarchive's own message: errno may
 * be stale from an unrelated call, "Inappropriate ioctl for device"). */
static struct archive *open_reader(FILE *fp, char *why, size_t size)
{
	struct archive *a = archive_read_new();

	snprintf(why, size, "out of memory");
	if (!a)
		return NULL;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		struct archive *probe = archive_read_new();
		int builtin = probe && filters[i](probe) == ARCHIVE_OK;

		archive_read_free(probe);
		if (builtin)
			filters[i](a);
	}
	/* tar; raw takes a compressed file that holds no archive (it
	 * bids last) */
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_FILE(a, fp) != ARCHIVE_OK) {
		snprintf(why, size, "%s",
			 archive_error_string(a) ? archive_error_string(a)
						 : "damaged or cut short (the "
						   "decompressor stopped at "
						   "its start)");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static const char *entry_kind(mode_t type)
{
	switch (type) {
	case AE_IFLNK:
		return "a symbolic link";
	case AE_IFCHR:
	case AE_IFBLK:
		return "a device";
	case AE_IFIFO:
		return "a fifo";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "not a regular file";
	}
}

/*
 * A gzip file's trailers: libarchive reads gzip without checking each
 * member's CRC-32 and length (RFC 1952 section 2.3.1: CRC32, ISIZE), so a
 * damaged or altered .tgz passed silently.  zlib's inflate checks both
 * (windowBits 15 + 16: gzip only); members are read one after another.
 * Returns NULL when they match (or the file is cut short, which the
 * archive read reports), else what is wrong.
 */
static const char *gzip_trailer_error(FILE *fp)
{
	unsigned char in[65536], out[65536];
	z_stream z;
	const char *why = NULL;
	int rc = Z_OK;
	size_t n = 0;

	memset(&z, 0, sizeof(z));
	if (fseek(fp, 0, SEEK_SET) != 0 || inflateInit2(&z, 15 + 16) != Z_OK)
		return NULL;
	for (;;) {
		if (z.avail_in == 0) {
			n = fread(in, 1, sizeof(in), fp);
			if (n == 0)
				break;
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			/* another member may follow; trailing zeros are
			 * padding some tools leave */
			size_t i;
			for (i = 0; i < z.avail_in && z.next_in[i] == 0; i++)
				;
			if (i == z.avail_in) {
				int c;
				while ((c = getc(fp)) == 0)
					;
				if (c == EOF)
					break;
				ungetc(c, fp);
				z.avail_in = 0;
			}
			if (inflateReset(&z) != Z_OK)
				break;
			continue;
		}
		if (rc == Z_DATA_ERROR) {
			why = z.msg && (strstr(z.msg, "check") ||
					strstr(z.msg, "length"))
				      ? "the gzip trailer's CRC or length does "
					"not match the data: the file is damaged "
					"or was altered (what it held is used)"
				      : NULL;
			break;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			break;
	}
	inflateEnd(&z);
	return why;
}

int ctp_bundle_read_archive(ctp_snapshot *snap, const char *path, FILE *fp,
			    uint64_t size, const ctp_parse_opts *opts,
			    ctp_error *err)
{
	cookie_io_functions_t io = { member_read, NULL, NULL, NULL };
	size_t first = ctp_snapshot_input_count(snap), used, skipped;
	size_t members = 0, unread = 0, unsafe = 0;
	char root[1024], last[512] = "", *name = NULL;
	int sos = 0, raw = 0, rc = 0, r;
	arc x;
	struct archive_entry *e;

	memset(&x, 0, sizeof(x));
	x.path = path;
	x.limit = size > CTP_BUNDLE_MIN_EXPAND / CTP_BUNDLE_RATIO
			  ? size * CTP_BUNDLE_RATIO
			  : CTP_BUNDLE_MIN_EXPAND;
	x.a = open_reader(fp, x.why, sizeof(x.why));
	if (!x.a)
		return ctp_error_set(err, CTP_EINPUT, path, 0, 0,
				     "cannot read archive: %s", x.why);
	root[0] = '\0';
	while ((r = archive_read_next_header(x.a, &e)) != ARCHIVE_EOF) {
		const char *mname, *why = NULL;
		mode_t type;
		FILE *ms;
		size_t nl;

		if (r == ARCHIVE_WARN) {
			note(opts, CTP_SEV_WARN, path, "%s",
			     archive_error_string(x.a));
		} else if (r != ARCHIVE_OK) {
			rc = ctp_error_set(err, CTP_EINPUT, path, 0, 0,
					   "cannot read archive%s%s%s: %s "
					   "(the members before it were read)",
					   last[0] ? " after member '" : "",
					   last, last[0] ? "'" : "",
					   archive_error_string(x.a)
						   ? archive_error_string(x.a)
						   : "read error");
			goto done;
		}
		if (++members > CTP_BUNDLE_MAX_MEMBERS) {
			rc = ctp_error_set(err, CTP_EINPUT, path, 0, 0,
					   "archive holds more than %d "
					   "members: stopped",
					   CTP_BUNDLE_MAX_MEMBERS);
			goto done;
		}
		if (expanded(&x) > x.limit) {
			rc = bomb_error(&x, err);
			goto done;
		}
		raw = archive_format(x.a) == ARCHIVE_FORMAT_RAW;
		type = archive_entry_filetype(e);
		mname = archive_entry_pathname(e);
		snprintf(last, sizeof(last), "%s", mname ? mname : "");
		if (!raw && type == AE_IFDIR)
			continue;
		if (!raw && !(mname = safe_name(mname, &why))) {
			note(opts, CTP_SEV_WARN, path,
			     "member '%s' skipped: %s",
			     archive_entry_pathname(e)
				     ? archive_entry_pathname(e)
				     : "",
			     why);
			unsafe++;
			goto skip;
		}
		if (!raw && (type != AE_IFREG || archive_entry_hardlink(e) ||
			     archive_entry_sparse_count(e) > 0)) {
			/* a link is no danger to a reader that never
			 * extracts, and sos makes them by design: a note */
			int link = type == AE_IFLNK ||
				   archive_entry_hardlink(e);
			note(opts, link ? CTP_SEV_NOTE : CTP_SEV_WARN, path,
			     "member '%s' skipped: %s", mname,
			     archive_entry_hardlink(e) ? "a hard link"
			     : type != AE_IFREG	       ? entry_kind(type)
						       : "a sparse file");
			unsafe += !link;
			goto skip;
		}
		if (!raw && !sos && find_sos_root(mname, root, sizeof(root)))
			sos = 1;
		if (sos && (strncmp(mname, root, strlen(root)) != 0 ||
			    !ctp_bundle_sos_wanted(mname + strlen(root)))) {
			unread++;
			goto skip;
		}
		/* the input's name: the archive, '!', the member */
		free(name);
		nl = strlen(path) + strlen(mname) + 2;
		if (!(name = malloc(nl))) {
			rc = ctp_error_set(err, CTP_ENOMEM, path, 0, 0,
					   "out of memory");
			goto done;
		}
		if (raw)
			strip_suffix(path, name, nl);
		else
			snprintf(name, nl, "%s!%s", path, mname);
		if (!(ms = fopencookie(&x, "r", io))) {
			rc = ctp_error_set(err, CTP_ENOMEM, path, 0, 0,
					   "out of memory");
			goto done;
		}
		rc = read_member(snap, ms, raw ? path : name, name, opts, err);
		fclose(ms);
		if (x.bomb) {
			rc = bomb_error(&x, err);
			goto done;
		}
		if (x.failed) {
			/* named like the member's input, which keeps it */
			rc = ctp_error_set(err, CTP_EINPUT, raw ? path : name,
					   0, 0,
					   "archive member cut short: %s (its "
					   "lines before that were read)",
					   x.why);
			goto done;
		}
		if (rc)
			goto done;
skip:
		if (drain(&x)) {
			rc = x.bomb ? bomb_error(&x, err)
				    : ctp_error_set(err, CTP_EINPUT, path, 0,
						    0, "cannot read archive "
						       "member '%s': %s",
						    last, x.why);
			goto done;
		}
	}
	{
		/* read to the end: check the gzip trailers too */
		unsigned char mg[2] = { 0, 0 };
		const char *bad;
		if (fseek(fp, 0, SEEK_SET) == 0 &&
		    fread(mg, 1, 2, fp) == 2 && mg[0] == 0x1f && mg[1] == 0x8b &&
		    (bad = gzip_trailer_error(fp)))
			note(opts, CTP_SEV_WARN, path, "warning: %s", bad);
	}
	if (raw)
		goto done;
	count_inputs(snap, first, &used, &skipped);
	if (sos)
		note(opts, CTP_SEV_NOTE, path,
		     "sosreport: %zu files used, %zu in no known format, "
		     "%zu others not read (not a conntrack, sysctl, uname, "
		     "meminfo or kernel log output by their sos names)%s",
		     used, skipped, unread,
		     unsafe ? "; some members skipped, see above" : "");
	else
		note(opts, CTP_SEV_NOTE, path,
		     "archive: %zu files used, %zu in no known format%s",
		     used, skipped,
		     unsafe ? "; some members skipped, see above" : "");
done:
	free(name);
	archive_read_free(x.a);
	return rc;
}

/* ---- sosreport directories ---- */

typedef struct sosdir {
	ctp_snapshot *snap;
	const ctp_parse_opts *opts;
	ctp_error *err;
	size_t rootlen; /* strlen(dir) + 1: rel starts there */
} sosdir;

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file of the sosreport that cannot be read loses nothing else: kept
 * with its input, reported, and the walk goes on (unless --strict). */
static int sos_keep_going(sosdir *w, int rc)
{
	if (rc != CTP_EINPUT || w->opts->strict)
		return rc;
	if (ctp_snapshot_input_failed(w->snap, w->err->file, w->opts->ns,
				      w->err->msg) == CTP_ENOMEM)
		return CTP_ENOMEM;
	if (w->opts->diag)
		w->opts->diag(w->opts->diag_ud, CTP_SEV_ERROR, w->err);
	return 0;
}

/* Walk dir (sorted, like tar --sort=name) into the wanted files only. */
static int sos_walk(sosdir *w, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d)
		return ctp_error_set(w->err, CTP_EINPUT, dir, 0, 0,
				     "cannot open directory: %s",
				     strerror(errno));
	while ((de = readdir(d))) {
		size_t l;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (ctp_grow((void **)&names, &cap, n + 1, sizeof(*names))) {
			rc = CTP_ENOMEM;
			goto done;
		}
		l = strlen(dir) + strlen(de->d_name) + 2;
		if (!(names[n] = malloc(l))) {
			rc = CTP_ENOMEM;
			goto done;
		}
		snprintf(names[n], l, "%s/%s", dir, de->d_name);
		n++;
	}
	if (n) /* an empty folder may have no array at all */
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		const char *rel = names[i] + w->rootlen;
		struct stat st;
		FILE *fp;

		/* links are not followed: sos's own root links ("uname")
		 * point at files read under their real names */
		if (lstat(names[i], &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 16 && sos_wanted_dir(rel))
				rc = sos_keep_going(
					w, sos_walk(w, names[i], depth + 1));
			continue;
		}
		if (!S_ISREG(st.st_mode) || !ctp_bundle_sos_wanted(rel))
			continue;
		if (!(fp = fopen(names[i], "rb"))) {
			rc = sos_keep_going(
				w, ctp_error_set(w->err, CTP_EINPUT, names[i],
						 0, 0, "cannot open: %s",
						 strerror(errno)));
			continue;
		}
		rc = read_member(w->snap, fp, names[i], names[i], w->opts,
				 w->err);
		fclose(fp);
		rc = sos_keep_going(w, rc);
	}
done:
	if (rc == CTP_ENOMEM)
		ctp_error_set(w->err, rc, dir, 0, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int ctp_bundle_read_sos_dir(ctp_snapshot *snap, const char *dir,
			    const ctp_parse_opts *opts, ctp_error *err)
{
	size_t first = ctp_snapshot_input_count(snap), used, skipped;
	sosdir w = { snap, opts, err, strlen(dir) + 1 };
	int rc = sos_walk(&w, dir, 0);

	if (rc)
		return rc;
	count_inputs(snap, first, &used, &skipped);
	note(opts, CTP_SEV_NOTE, dir,
	     "sosreport: %zu files used, %zu in no known format; other "
	     "files not read (not a conntrack, sysctl, uname, meminfo or "
	     "kernel log output by their sos names)",
	     used, skipped);
	return 0;
}
