/*
 * uname -a and uname -r.
 *
 * GNU coreutils uname -a prints "kernel-name nodename release version
 * machine [processor] [hardware-platform] operating-system", leaving out
 * processor and platform when they are "unknown"; RHEL prints all three
 * ("x86_64 x86_64 x86_64 GNU/Linux").  The version (uname -v) is free
 * text of several words, so the machine is found from the end: the first
 * of the architecture names just before the operating system.
 *
 *   Linux host 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1
 *     (2024-02-01) x86_64 GNU/Linux
 *   6.1.0-18-amd64
 *
 * Debian's release names the ABI ("6.1.0-18"), not the upstream patch
 * level; its version string carries that ("Debian 6.1.76-1"), so when
 * present and of the same major.minor it gives major/minor/patch.
 * Ubuntu's version ("#118~20.04.1-Ubuntu") does not; there the release
 * is used.
 *
 * A saved /proc/sys/kernel/osrelease is a setting; sysctl.c reads it.
 */
#include <stdlib.h>
#include <string.h>

#include "ctplan/flow.h"
#include "cursor.h"
#include "parsers.h"

#define QUOTE_MAX 64
#define MAX_TOKENS 64

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

/* Architecture names uname -m prints.  MUST be sorted (bsearch). */
static const char *const arches[] = {
	"aarch64", "aarch64_be", "alpha", "arm", "armv5tel", "armv6l",
	"armv7l", "armv8l", "i386", "i486", "i586", "i686", "ia64",
	"loongarch64", "m68k", "mips", "mips64", "parisc", "parisc64", "ppc",
	"ppc64", "ppc64le", "riscv32", "riscv64", "s390", "s390x", "sh4",
	"sparc", "sparc64", "x86_64",
};

typedef struct tok {
	const char *p;
	size_t n;
} tok;

static int arch_cmp(const void *key, const void *elem)
{
	const tok *t = key;
	const char *a = *(const char *const *)elem;
	size_t an = strlen(a);
	int c = memcmp(t->p, a, t->n < an ? t->n : an);

	if (c)
		return c;
	return t->n < an ? -1 : t->n > an;
}

static int is_arch(const tok *t)
{
	return bsearch(t, arches, sizeof(arches) / sizeof(arches[0]),
		       sizeof(arches[0]), arch_cmp) != NULL;
}

static int tok_is(const tok *t, const char *lit)
{
	return t->n == strlen(lit) && memcmp(t->p, lit, t->n) == 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_release_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '-' || c == '+' || c == '.' || c == '~' ||
	       c == '_';
}

/*
 * Does s look like a kernel release, major.minor[.patch][suffix] with
 * major 2..99?  Fills the numbers (patch -1 if absent).
 */
static int parse_release(const char *s, size_t n, int *maj, int *min,
			 int *pat)
{
	const char *p = s, *end = s + n;
	uint64_t a, b, c = 0;
	int has_patch = 0;
	uint8_t addr[16];

	if (ctp_cur_u64(&p, end, 99, &a) != CTP_NUM_OK || a < 2 ||
	    !ctp_cur_lit(&p, end, ".") ||
	    ctp_cur_u64(&p, end, 9999, &b) != CTP_NUM_OK)
		return 0;
	if (end - p >= 2 && *p == '.' && is_digit(p[1])) {
		p++;
		if (ctp_cur_u64(&p, end, 99999, &c) != CTP_NUM_OK)
			return 0;
		has_patch = 1;
	}
	for (; p < end; p++)
		if (!is_release_char(*p))
			return 0;
	/* a dotted quad is an address, not 10.0.0.1 the kernel */
	if (ctp_parse_addr(s, n, addr) == CTP_AF_INET)
		return 0;
	*maj = (int)a;
	*min = (int)b;
	*pat = has_patch ? (int)c : -1;
	return 1;
}

/* Split on blanks; returns the count, or MAX_TOKENS + 1 if more. */
static size_t split(const char *s, size_t len, tok *t)
{
	const char *p = s, *end = s + len;
	size_t n = 0;

	for (;;) {
		ctp_cur_blank(&p, end);
		if (p == end)
			return n;
		if (n == MAX_TOKENS)
			return MAX_TOKENS + 1;
		t[n].p = p;
		t[n].n = ctp_cur_toklen(p, end);
		p += t[n].n;
		n++;
	}
}

/* Index of the release in a uname -a line, or 0 if it is not one: "Linux
 * host 6.1.0 #1 ...", or "Linux 6.1.0 #1 ..." (empty nodename, or -srv) */
static size_t release_index(const tok *t, size_t n)
{
	if (n < 3 || n > MAX_TOKENS || !tok_is(&t[0], "Linux"))
		return 0;
	if (is_digit(t[2].p[0]))
		return 2;
	if (is_digit(t[1].p[0]) && t[2].p[0] == '#')
		return 1;
	return 0;
}

int ctp_uname_sniff(const ctp_pctx *ctx, const char *s, size_t len)
{
	tok t[MAX_TOKENS];
	size_t n;
	int a, b, c;

	if (ctp_path_after_dir(ctx->path, "proc/sys/"))
		return 0;
	if (len < 3 || len > 4096)
		return 0;
	n = split(s, len, t);
	if (n == 1)
		return parse_release(t[0].p, t[0].n, &a, &b, &c);
	return release_index(t, n) != 0;
}

/* Copy a token into dst[size]; 0 if it does not fit. */
static int copy_tok(char *dst, size_t size, const tok *t)
{
	if (t->n >= size)
		return 0;
	memcpy(dst, t->p, t->n);
	dst[t->n] = '\0';
	return 1;
}

/*
 * Machine name of a uname -a line whose version starts at token first:
 * walk back from the end over the operating system and up to three
 * architecture names (machine, processor, platform; "unknown" allowed)
 * and take the first; if none is known, the token before "GNU/Linux".
 */
static const tok *find_machine(const tok *t, size_t n, size_t first)
{
	size_t last = n - 1, i;
	int gnu = tok_is(&t[last], "GNU/Linux");
	const tok *m = NULL;

	if (!is_arch(&t[last]))
		last--; /* the operating system */
	if (last <= first)
		return NULL;
	for (i = last; i > first && last - i < 3; i--) {
		if (is_arch(&t[i]))
			m = &t[i];
		else if (!tok_is(&t[i], "unknown"))
			break;
	}
	if (!m && gnu)
		m = &t[last];
	return m;
}

/* Debian's "Debian 6.1.76-1" in the version: the upstream patch level. */
static void debian_version(const tok *t, size_t n, size_t first,
			   ctp_kernel_info *k)
{
	int a, b, c;

	for (size_t i = first; i + 1 < n; i++) {
		if (!tok_is(&t[i], "Debian"))
			continue;
		if (parse_release(t[i + 1].p, t[i + 1].n, &a, &b, &c) &&
		    a == k->major && b == k->minor && c >= 0) {
			k->patch = c;
			return;
		}
	}
}

int ctp_uname_line(ctp_pctx *ctx, const char *s, size_t len)
{
	tok t[MAX_TOKENS];
	ctp_kernel_info k;
	const tok *rel, *m;
	size_t n, ri;

	memset(&k, 0, sizeof(k));
	n = split(s, len, t);
	if (n == 0)
		return ctp_pctx_fail(ctx, 0, "expected a kernel release");
	if (n > MAX_TOKENS)
		return ctp_pctx_fail(ctx, 0,
				     "too many words for uname output: more "
				     "than %d",
				     MAX_TOKENS);
	ri = release_index(t, n);
	if (ri == 0 && n > 1)
		return ctp_pctx_fail(ctx, (size_t)(t[1].p - s),
				     "unexpected text after kernel release "
				     "'%.*s'",
				     quote_len(t[0].n), t[0].p);
	rel = &t[ri];
	if (!parse_release(rel->p, rel->n, &k.major, &k.minor, &k.patch))
		return ctp_pctx_fail(ctx, (size_t)(rel->p - s),
				     "cannot parse kernel release '%.*s'",
				     quote_len(rel->n), rel->p);
	if (!copy_tok(k.release, sizeof(k.release), rel))
		return ctp_pctx_fail(ctx, (size_t)(rel->p - s),
				     "kernel release '%.*s...' too long",
				     quote_len(rel->n), rel->p);
	if (ri) {
		/* an unknown machine too long to keep stays "" */
		m = find_machine(t, n, ri + 1);
		if (m)
			(void)copy_tok(k.machine, sizeof(k.machine), m);
		debian_version(t, n, ri + 1, &k);
		/* "Linux NODENAME RELEASE ...": a name too long for the
		 * kernel's 64 bytes is not a nodename, left "" */
		if (ri == 2)
			(void)copy_tok(k.nodename, sizeof(k.nodename), &t[1]);
	}
	ctp_snapshot_set_kernel(ctx->snap, &k);
	return CTP_LINE_RECORD;
}
