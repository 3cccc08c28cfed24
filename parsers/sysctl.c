/*
 * Kernel settings: sysctl -a dumps, sysctl.conf lines, and files saved
 * from /proc/sys and /sys/module/<mod>/parameters.
 *
 * sysctl -a (procps sysctl.c ReadSetting, 3.2 - 4.0) prints
 * "key = value" per line, the value as the kernel wrote it, so multi-value
 * keys keep their tabs ("net.ipv4.ip_local_port_range = 32768\t60999"); a
 * multi-line value repeats "key = " on every line (the later line wins
 * here).  A '.' inside a path component (eth0.100) is printed as '/', so
 * keys may hold '/'.  With 2>&1, lines such as "sysctl: permission denied
 * on key '...'", "sysctl: cannot stat /proc/sys/...: ..." and "sysctl:
 * reading key \"...\"" are mixed in (procps 3.2 wrote "error: permission
 * denied on key '...'" and "error: \"...\" reading key \"...\""); they
 * count as "other".
 *
 * sysctl.conf also allows "key=value", blanks around '=', a leading '-'
 * (ignore errors) and '#' or ';' comments.
 *
 * A saved /proc/sys file (ctx->path holds a "proc/sys/" component) is one
 * value line; its key is the rest of the path with '/' and '.' swapped,
 * the way sysctl -a names it: proc/sys/net/netfilter/nf_conntrack_max is
 * net.netfilter.nf_conntrack_max.  proc/sys/.../nf_conntrack_count is
 * left to count.c.
 *
 * A module parameter file /sys/module/<mod>/parameters/<name> becomes key
 * "module.<mod>.<name>", and a file named just "hashsize" is taken as
 * /sys/module/nf_conntrack/parameters/hashsize, so the bucket count that
 * kube-proxy writes is "module.nf_conntrack.hashsize".  Both name the
 * same number; the analyzer should prefer
 * net.netfilter.nf_conntrack_buckets and fall back to the module
 * parameter.
 *
 * Every key is kept (the snapshot keeps them sorted), not only conntrack's.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "parsers.h"

#define QUOTE_MAX 64
#define KEY_MAX 256

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

/* Copy src into key[*n..] with '/' and '.' swapped. */
static int put_swapped(char *key, size_t *n, const char *src, size_t len)
{
	if (*n + len >= KEY_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		key[(*n)++] = src[i] == '/' ? '.' :
			      src[i] == '.' ? '/' : src[i];
	key[*n] = '\0';
	return 0;
}

enum { PATH_NONE, PATH_PROC_SYS, PATH_MODULE, PATH_TOO_LONG };

/*
 * Key for a saved settings file at path, into key[KEY_MAX].  PATH_NONE if
 * path is no such file (the lines are then parsed as "key = value").
 */
static int path_key(const char *path, char *key)
{
	const char *rest, *mod, *par;
	size_t n = 0;

	if (!path || !*path)
		return PATH_NONE;
	rest = ctp_path_after_dir(path, "proc/sys/");
	if (rest && *rest) {
		if (put_swapped(key, &n, rest, strlen(rest)))
			return PATH_TOO_LONG;
		return PATH_PROC_SYS;
	}
	mod = ctp_path_after_dir(path, "sys/module/");
	par = mod ? strstr(mod, "/parameters/") : NULL;
	if (par && par > mod && par[12] && !strchr(par + 12, '/')) {
		if (put_swapped(key, &n, "module/", 7) ||
		    put_swapped(key, &n, mod, (size_t)(par - mod)) ||
		    put_swapped(key, &n, "/", 1) ||
		    put_swapped(key, &n, par + 12, strlen(par + 12)))
			return PATH_TOO_LONG;
		return PATH_MODULE;
	}
	if (strcmp(ctp_path_base(path), "hashsize") == 0) {
		memcpy(key, "module.nf_conntrack.hashsize", 29);
		return PATH_MODULE;
	}
	return PATH_NONE;
}

static int is_count_file(const char *path)
{
	return strcmp(ctp_path_base(path), "nf_conntrack_count") == 0;
}

/* sysctl.conf, /etc/sysctl.d/x.conf: comments may come before any key */
static int is_conf_file(const char *path)
{
	return path && (strstr(ctp_path_base(path), "sysctl") ||
			ctp_path_after_dir(path, "sysctl.d/"));
}

static int is_key_char(char c)
{
	/* procps prints any netdev name inside keys; dev_valid_name()
	 * allows '@' and '+' there too */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	       c == '/' || c == '@' || c == '+';
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int has_prefix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

static int contains(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, lit, n) == 0)
			return 1;
	return 0;
}

/* A message sysctl wrote to stderr (see the top of the file). */
static int is_sysctl_message(const char *s, size_t len)
{
	return has_prefix(s, len, "sysctl: ") ||
	       (has_prefix(s, len, "error: ") && contains(s, len, " key"));
}

/* Skip blanks and the sysctl.conf '-' prefix. */
static const char *key_start(const char *s, const char *end)
{
	const char *p = s;

	ctp_cur_blank(&p, end);
	if (p < end && *p == '-' && p + 1 < end && is_letter(p[1]))
		p++;
	return p;
}

int ctp_sysctl_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	const char *p, *end = s + len, *k;
	char key[KEY_MAX];
	int dot = 0;

	switch (path_key(ctx->path, key)) {
	case PATH_PROC_SYS:
		return !is_count_file(ctx->path);
	case PATH_MODULE:
	case PATH_TOO_LONG:
		return 1;
	default:
		break;
	}
	if (is_sysctl_message(s, len))
		return 1;
	p = key_start(s, end);
	if (p < end && (*p == '#' || *p == ';'))
		return ctx->cur == CTP_FMT_SYSCTL || is_conf_file(ctx->path);
	if (p == end || !is_letter(*p))
		return 0;
	/* a first token holding a '.', then '=': not a -L line ("tcp  6
	 * ... src="), not -S ("cpu=0"), not XML or -o save */
	for (k = p; p < end && *p != ' ' && *p != '\t' && *p != '='; p++)
		if (*p == '.')
			dot = 1;
	ctp_cur_blank(&p, end);
	return dot && p < end && *p == '=' && p > k;
}

static int set(ctp_pctx *ctx, const char *key, size_t klen, const char *val,
	       size_t vlen)
{
	char k[256];
	const char *old;

	/* a conntrack setting read twice with two values (two inputs of
	 * one host, or one input): the later wins, and that is said; the
	 * count moves, it is no setting */
	if (klen < sizeof(k) && memmem(key, klen, "nf_conntrack", 12) &&
	    !memmem(key, klen, "_count", 6)) {
		memcpy(k, key, klen);
		k[klen] = '\0';
		old = ctp_snapshot_sysctl(ctx->snap, k);
		if (old && (strlen(old) != vlen || memcmp(old, val, vlen)))
			ctp_pctx_warn(ctx, SIZE_MAX,
				      "%s = %.*s here, %s in an input read "
				      "before: the value here is used",
				      k, (int)(vlen > 40 ? 40 : vlen), val,
				      old);
	}
	if (ctp_snapshot_set_sysctl(ctx->snap, key, klen, val, vlen))
		return ctp_pctx_fail(ctx, 0, "out of memory");
	return CTP_LINE_RECORD;
}

static size_t trim_end(const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n;
}

/*
 * The settings ctplan sizes with are unsigned ints in every kernel
 * (nf_conntrack_max, nf_conntrack_htable_size, nf_ct_expect_max, the
 * count, and the timeouts, in seconds): a value that is not a number
 * they can hold cannot be one the kernel showed.
 */
static int uint_key(const char *key, size_t klen)
{
	static const char *const keys[] = {
		"net.netfilter.nf_conntrack_max",
		"net.nf_conntrack_max",
		"net.netfilter.nf_conntrack_buckets",
		"net.netfilter.nf_conntrack_count",
		"net.netfilter.nf_conntrack_expect_max",
		"module.nf_conntrack.hashsize",
	};
	static const char pre[] = "net.netfilter.nf_conntrack_";

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (ctp_cur_is(key, klen, keys[i]))
			return 1;
	/* ..._tcp_timeout_established, ..._udp_timeout, ... */
	if (klen > sizeof(pre) - 1 && memcmp(key, pre, sizeof(pre) - 1) == 0)
		for (size_t i = 0; i + 8 <= klen; i++)
			if (memcmp(key + i, "_timeout", 8) == 0)
				return 1;
	return 0;
}

static int check_value(ctp_pctx *ctx, const char *s, const char *v,
		       size_t n, const char *key, size_t klen)
{
	const char *nul = memchr(v, '\0', n), *p = v;
	uint64_t x;

	if (nul)
		return ctp_pctx_fail(ctx, (size_t)(nul - s),
				     "unexpected NUL byte in the value of "
				     "'%.*s'",
				     quote_len(klen), key);
	if (uint_key(key, klen) &&
	    (ctp_cur_u64(&p, v + n, UINT32_MAX, &x) != CTP_NUM_OK ||
	     p != v + n))
		return ctp_pctx_fail(ctx, (size_t)(v - s),
				     "value '%.*s' of '%.*s' is not a number "
				     "the kernel's unsigned int holds (0 to "
				     "4294967295)",
				     ctp_cur_clip(n), v, quote_len(klen), key);
	return 0;
}

static int file_line(ctp_pctx *ctx, int kind, const char *key,
		     const char *s, size_t len)
{
	size_t n = trim_end(s, len);
	int rc;

	if (kind == PATH_TOO_LONG)
		return ctp_pctx_fail(ctx, 0,
				     "cannot name a setting after '%s': "
				     "path too long",
				     ctx->path);
	if (n == 0)
		return CTP_LINE_OTHER;
	rc = check_value(ctx, s, s, n, key, strlen(key));
	if (rc)
		return rc;
	return set(ctx, key, strlen(key), s, n);
}

static int has_empty_name(const char *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (k[i] == '.' && k[i - 1] == '.')
			return 1;
	return 0;
}

int ctp_sysctl_line(ctp_pctx *ctx, const char *s, size_t len)
{
	const char *end = s + len, *p, *k, *v;
	char key[KEY_MAX];
	size_t klen, vlen;
	int kind, dot = 0, rc;

	kind = path_key(ctx->path, key);
	if (kind != PATH_NONE)
		return file_line(ctx, kind, key, s, len);
	if (is_sysctl_message(s, len))
		return CTP_LINE_OTHER;
	p = key_start(s, end);
	if (p == end || *p == '#' || *p == ';')
		return CTP_LINE_OTHER;

	k = p;
	while (p < end && *p != ' ' && *p != '\t' && *p != '=')
		p++;
	klen = (size_t)(p - k);
	for (size_t i = 0; i < klen; i++) {
		if (is_key_char(k[i])) {
			dot |= k[i] == '.';
			continue;
		}
		if (k[i] > ' ' && k[i] < 0x7f)
			return ctp_pctx_fail(ctx, (size_t)(k + i - s),
					     "illegal character '%c' in sysctl "
					     "key '%.*s'",
					     k[i], quote_len(klen), k);
		return ctp_pctx_fail(ctx, (size_t)(k + i - s),
				     "illegal byte 0x%02x in sysctl key",
				     (unsigned char)k[i]);
	}
	if (!dot || k[0] == '.' || k[klen - 1] == '.' ||
	    has_empty_name(k, klen))
		return ctp_pctx_fail(ctx, (size_t)(k - s),
				     "cannot parse sysctl key '%.*s': "
				     "expected dotted names",
				     quote_len(klen), k);
	if (klen >= KEY_MAX)
		return ctp_pctx_fail(ctx, (size_t)(k - s),
				     "sysctl key '%.*s...' too long",
				     quote_len(klen), k);
	ctp_cur_blank(&p, end);
	if (p == end || *p != '=')
		return ctp_pctx_fail(ctx, (size_t)(p - s),
				     "expected '=' after sysctl key '%.*s'",
				     quote_len(klen), k);
	p++;
	ctp_cur_blank(&p, end);
	v = p;
	vlen = trim_end(v, (size_t)(end - v));
	rc = check_value(ctx, s, v, vlen, k, klen);
	if (rc)
		return rc;
	return set(ctx, k, klen, v, vlen);
}
