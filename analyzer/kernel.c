/*
 * Kernel facts by version.  Each table row says from which version on it
 * holds and where it was read.  Sources, named as in docs/hash-model.md:
 *
 *   [6.1]     Debian linux-source-6.1 6.1.192-2,
 *             net/netfilter/nf_conntrack_core.c
 *   [5.15v]   CodeLinaro-mirror/kernel-platform-2-0-os_kernel_msm-5.15
 *             @e7f29f05, vendor 5.15.y tree, nf_conntrack_core.c
 *   [5.4v]    CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-5.4 @079d07e4
 *   [3.x]     trees with hash_conntrack_raw(tuple, u16 zone) and
 *             net->ct.htable_size (read through the code index)
 *   [mails]   netdev / netfilter-devel / stable patch mails:
 *             deedb59039f1 "add direction support for zones" (v4.3),
 *             dd6d2910c5e0 "switch to siphash" (net, 3 Sep 2021, v5.15),
 *             d7e7747ac5c2 "refuse insertion if chain has grown too
 *             large" (same pull), c9c3b6811f74 "make max chain length
 *             random" (net, 25 Sep 2021, v5.15-rc3), d2c806abcf0b "use
 *             siphash_4u64" (net-next, 15 Nov 2022, v6.2), c77737b736ce
 *             "adopt safer max chain length" (net, 7 Mar 2023, v6.3;
 *             stable 5.15.103 and 6.1.20, reviews of 15 Mar 2023),
 *             eaf9e7192ec9 "dont fold port numbers into addresses
 *             before hashing" (nf, 4 Jul 2023, v6.5; stable 6.4.5,
 *             review of 21 Jul 2023).
 */
#include <stdio.h>

#include "ctplan/kernel.h"

/* Newest version whose conntrack core these tables were checked on. */
static const ctp_kver newest = { 6, 18, -1 };

int ctp_kver_cmp(const ctp_kver *a, const ctp_kver *b)
{
	int ap = a->patch < 0 ? 0 : a->patch;
	int bp = b->patch < 0 ? 0 : b->patch;

	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (ap != bp)
		return ap < bp ? -1 : 1;
	return 0;
}

/* Digits at s[*i]; 0 and *out, or -1 if none or too many. */
static int take_num(const char *s, size_t len, size_t *i, int *out)
{
	size_t start = *i;
	int v = 0;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (*i - start >= 6)
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return -1;
	*out = v;
	return 0;
}

int ctp_kver_parse(const char *s, size_t len, ctp_kver *out, ctp_error *err)
{
	ctp_kver v = { 0, 0, -1 };
	size_t i = 0;

	if (len > 0 && (s[0] == 'v' || s[0] == 'V'))
		i = 1;
	if (take_num(s, len, &i, &v.major) || i >= len || s[i] != '.')
		goto bad;
	i++;
	if (take_num(s, len, &i, &v.minor))
		goto bad;
	if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' &&
	    s[i + 1] <= '9') {
		i++;
		if (take_num(s, len, &i, &v.patch))
			goto bad;
	}
	if (v.major < 2 || v.major > 99) {
		i = s[0] == 'v' || s[0] == 'V'; /* point at the major */
		goto bad;
	}
	*out = v;
	return 0;
bad:
	return ctp_error_set(err, CTP_EINPUT, NULL, 0, i + 1,
			     "cannot parse kernel version '%.*s': expected "
			     "MAJOR.MINOR[.PATCH]",
			     (int)(len > 64 ? 64 : len), s);
}

int ctp_kver_from_info(const ctp_kernel_info *k, ctp_kver *out)
{
	if (!k || k->major < 2 || k->minor < 0)
		return 0;
	out->major = k->major;
	out->minor = k->minor;
	out->patch = k->patch;
	return 1;
}

ctp_kver ctp_kernel_newest(void)
{
	return newest;
}

void ctp_kver_format(const ctp_kver *v, char *buf, size_t size)
{
	if (v->patch < 0)
		snprintf(buf, size, "%d.%d", v->major, v->minor);
	else
		snprintf(buf, size, "%d.%d.%d", v->major, v->minor, v->patch);
}

/* MUST be in era order: ctp_kernel_hash_era_info() indexes it. */
static const ctp_hash_era_info eras[CTP_ERA_COUNT] = {
	{ CTP_ERA_JHASH_ZONE, "jhash2-zone", "jhash2", "<= 4.2",
	  "[3.x] hash_conntrack_raw(tuple, zone): jhash2(tuple, 9, zone ^ "
	  "rnd ^ (dport << 16 | proto)), per-netns net->ct.hash",
	  36, 1, 0, 0 },
	{ CTP_ERA_JHASH, "jhash2", "jhash2", "4.3 - 4.6",
	  "deedb59039f1 (v4.3) took the zone out; per-netns table until "
	  "the single global table of v4.7",
	  36, 0, 0, 0 },
	{ CTP_ERA_JHASH_NETMIX, "jhash2-netmix", "jhash2", "4.7 - 5.14",
	  "[5.4v] seed = nf_conntrack_hash_rnd ^ net_hash_mix(net), one "
	  "global nf_conntrack_hash",
	  36, 0, 1, 1 },
	{ CTP_ERA_SIPHASH48, "siphash48", "siphash-2-4", "5.15 - 6.1.y",
	  "dd6d2910c5e0 + b16ac3c4c886 (v5.15); [6.1] and [5.15v]: "
	  "siphash(&combined, 48, &nf_conntrack_hash_rnd)",
	  48, 1, 1, 1 },
	{ CTP_ERA_SIPHASH_4U64, "siphash-4u64", "siphash-2-4",
	  "6.2 - 6.4.4",
	  "d2c806abcf0b (v6.2): siphash_4u64(a, b, c, d, "
	  "&nf_conntrack_hash_rnd)",
	  32, 1, 1, 1 },
	{ CTP_ERA_SIPHASH39, "siphash39", "siphash-2-4", "6.4.5+, 6.5+",
	  "eaf9e7192ec9 (v6.5, 6.4.5): siphash(tuple, 39, key ^ {zone, "
	  "net_hash_mix})",
	  39, 1, 1, 1 },
};

/* From which version on each era holds; sorted by version. */
static const struct {
	ctp_kver from;
	ctp_hash_era era;
} era_from[] = {
	{ { 2, 0, 0 }, CTP_ERA_JHASH_ZONE },
	{ { 4, 3, 0 }, CTP_ERA_JHASH },
	{ { 4, 7, 0 }, CTP_ERA_JHASH_NETMIX },
	/* 5.15-rc1/rc2 hashed no zone; releases have it (b16ac3c4c886) */
	{ { 5, 15, 0 }, CTP_ERA_SIPHASH48 },
	{ { 6, 2, 0 }, CTP_ERA_SIPHASH_4U64 },
	/* the 6.4.y backport comes before 6.5.0 in version order, so one
	 * row covers both */
	{ { 6, 4, 5 }, CTP_ERA_SIPHASH39 },
};

ctp_hash_era ctp_kernel_hash_era(const ctp_kver *v)
{
	ctp_hash_era era = CTP_ERA_JHASH_ZONE;

	for (size_t i = 0; i < sizeof(era_from) / sizeof(era_from[0]); i++)
		if (ctp_kver_cmp(v, &era_from[i].from) >= 0)
			era = era_from[i].era;
	return era;
}

const ctp_hash_era_info *ctp_kernel_hash_era_info(ctp_hash_era era)
{
	if ((unsigned)era >= CTP_ERA_COUNT)
		return NULL;
	return &eras[era];
}

/*
 * Chain limit by version; sorted.  5.15-rc1 alone had a fixed 64
 * (d7e7747ac5c2); releases start with the random limit.  The 50..79
 * limit reached 5.15.y and 6.1.y through stable; 5.16 - 6.0 had ended
 * their stable series by then.  The 6.2.y release that took it is
 * inferred from the same stable batch (6.2.7), not read.
 */
static const ctp_chain_limit no_limit = {
	0, 0, 0, "<= 5.14",
	"[5.4v] and 4.9 trees: __nf_conntrack_confirm() walks chains "
	"without a limit"
};
static const ctp_chain_limit limit_8 = {
	1, 8, 24, "5.15 - 5.15.102, 5.16 - 6.1.19, 6.2 - 6.2.6",
	"c9c3b6811f74: MIN_CHAINLEN 8u, MAX_CHAINLEN (32u - MIN_CHAINLEN)"
};
static const ctp_chain_limit limit_50 = {
	1, 50, 30, "5.15.103+, 6.1.20+, 6.2.7+, 6.3+",
	"c77737b736ce, [6.1], [5.15v]: MIN_CHAINLEN 50u, MAX_CHAINLEN "
	"(80u - MIN_CHAINLEN)"
};

static const struct {
	ctp_kver from;
	const ctp_chain_limit *limit;
} limit_from[] = {
	{ { 2, 0, 0 }, &no_limit },
	{ { 5, 15, 0 }, &limit_8 },
	{ { 5, 15, 103 }, &limit_50 },
	{ { 5, 16, 0 }, &limit_8 },
	{ { 6, 1, 20 }, &limit_50 },
	{ { 6, 2, 0 }, &limit_8 },
	{ { 6, 2, 7 }, &limit_50 },
};

void ctp_kernel_chain_limit(const ctp_kver *v, ctp_chain_limit *out)
{
	const ctp_chain_limit *l = &no_limit;

	for (size_t i = 0; i < sizeof(limit_from) / sizeof(limit_from[0]);
	     i++)
		if (ctp_kver_cmp(v, &limit_from[i].from) >= 0)
			l = limit_from[i].limit;
	*out = *l;
}
