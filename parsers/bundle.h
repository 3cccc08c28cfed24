/*
 * Private interface between the input reader (input.c) and support
 * bundles (bundle.c): sosreport directories, tar archives (plain, gzip,
 * xz, bzip2, zstd) and single compressed dumps.
 *
 * Archives are read with libarchive, member by member, as streams: no
 * member is ever written to disk.  Each member the bundle rules select
 * becomes one input named "ARCHIVE!path/inside" and goes through the
 * same line reader as a file, as a stdio stream (fopencookie) over the
 * archive's data.
 */
#ifndef CTPLAN_BUNDLE_H
#define CTPLAN_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctplan/error.h"
#include "ctplan/parse.h"
#include "ctplan/snapshot.h"

/*
 * Decompressed bytes one archive may expand to: the larger of this floor
 * and CTP_BUNDLE_RATIO times its compressed size.  Real bundles expand
 * about 6 to 15 times (sosreports, conntrack and sysctl text under gzip
 * and xz); gzip can reach ~1000:1 and xz far more on runs of one byte, so
 * 100 stops a compression bomb after at most 1 GiB or 100x the file
 * while leaving real input a wide margin.
 */
#define CTP_BUNDLE_MIN_EXPAND (1ull << 30)
#define CTP_BUNDLE_RATIO 100
/* members looked at in one archive (entries of any kind) */
#define CTP_BUNDLE_MAX_MEMBERS 1000000

/* Do the first n bytes of a file start an archive or compressed stream
 * (gzip, xz, bzip2, zstd, lzma magic; "ustar" at offset 257)? */
int ctp_bundle_is_archive(const unsigned char *head, size_t n);

/* Is dir an unpacked sosreport (it holds sos_commands/ or sos_reports/)? */
int ctp_bundle_is_sos_dir(const char *dir);

/*
 * The namespace label in a sos per-namespace command file name,
 * "ip_netns_exec_<ns>_conntrack_-L_-o_extended" (or "_conntrack_-S",
 * "_sysctl_-a"): copies <ns> into buf and returns 1; 0 if path's last
 * component is no such name.
 */
int ctp_bundle_netns_label(const char *path, char *buf, size_t size);

/*
 * Should a file at rel (relative to the sos root) be read?  1 if its sos
 * name is one ctplan uses, else 0.
 */
int ctp_bundle_sos_wanted(const char *rel);

/*
 * Read the archive or compressed file open at fp (at its start; size is
 * its length in bytes, 0 if unknown), named path.  Returns 0, or a
 * negative code with err set (unreadable archive, a member that fails
 * in strict mode, expansion past the limit).
 */
int ctp_bundle_read_archive(ctp_snapshot *snap, const char *path, FILE *fp,
			    uint64_t size, const ctp_parse_opts *opts,
			    ctp_error *err);

/* Read the sos files of an unpacked sosreport directory. */
int ctp_bundle_read_sos_dir(ctp_snapshot *snap, const char *dir,
			    const ctp_parse_opts *opts, ctp_error *err);

/*
 * input.c: read one stream as an input named name (path: for formats
 * keyed by path).  A stream in no known format is registered as skipped,
 * with a note, not an error.  Returns 0 or a negative code with err set.
 */
int ctp_input_member(ctp_snapshot *snap, FILE *fp, const char *name,
		     const char *path, const ctp_parse_opts *opts,
		     ctp_error *err);

#endif
