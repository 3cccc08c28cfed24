/*
 * Path rules shared by the formats whose meaning depends on the file's
 * name: saved /proc/sys files and module parameters (sysctl.c), which
 * the bare-number (count.c) and bare-version (uname.c) formats must not
 * claim.  Archive members are named "bundle.tar!proc/sys/...".
 */
#include <string.h>

#include "parsers.h"

const char *ctp_path_after_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!path)
		return NULL;
	for (const char *p = path; (p = strstr(p, dir)) != NULL; p++)
		if (p == path || p[-1] == '/' || p[-1] == '!')
			return p + n;
	return NULL;
}

const char *ctp_path_base(const char *path)
{
	const char *b = path;

	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '!')
			b = p + 1;
	return b;
}

int ctp_sysctl_owns_path(const char *path)
{
	const char *rest, *base;

	if (!path || !*path)
		return 0;
	base = ctp_path_base(path);
	/* nf_conntrack_count is a count: count.c reads it */
	if (strcmp(base, "nf_conntrack_count") == 0)
		return 0;
	if (((rest = ctp_path_after_dir(path, "proc/sys/")) && *rest) ||
	    ((rest = ctp_path_after_dir(path, "sys/module/")) && *rest))
		return 1;
	return strcmp(base, "hashsize") == 0;
}
