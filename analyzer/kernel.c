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
#include <string.h>

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

void ctp_kernel_chain_limit_words(const ctp_kver *v, char *buf, size_t size)
{
	ctp_chain_limit l;

	ctp_kernel_chain_limit(v, &l);
	if (!l.enabled)
		snprintf(buf, size, "no chain limit (long chains cost lookup "
				    "time, no flow is refused)");
	else
		snprintf(buf, size, "refuses a new flow once its chain holds "
				    "%u nodes (always at %u)",
			 l.min + CTP_CHAIN_SLACK,
			 l.min + (l.span ? l.span - 1 : 0) + CTP_CHAIN_SLACK);
}

/*
 * Conntrack's kernel log messages: their texts per kernel generation are
 * a table of PCRE2 patterns in parsers/kmsg.c (kmsg_patterns), with the
 * versions that print each and the sources.  Here: which kernels name
 * the namespace of a full table ([6.17] "netfilter: conntrack: table
 * full detailed log", v6.17: "nf_conntrack: table full in netns %u,
 * dropping packet" outside init_net).
 */
int ctp_kernel_kmsg_netns(const ctp_kver *v)
{
	static const ctp_kver from = { 6, 17, 0 };

	return ctp_kver_cmp(v, &from) >= 0;
}

/*
 * Source NAT port choice.  Sources:
 *   [6.1]     Debian linux-source-6.1 6.1.192-2, net/netfilter/
 *             nf_nat_core.c: get_unique_tuple(),
 *             nf_nat_l4proto_unique_tuple() ("u16 off",
 *             get_random_u16(), max_attempts 128, "attempts >=
 *             range_size || attempts < 16", "attempts /= 2")
 *   [6.16t]   Kingxukai/linux @9b44fff6 (a mainline tree without DCCP
 *             NAT, 6.16 era): the same loop calling
 *             nf_nat_used_tuple_harder(tuple, ct, attempts - i),
 *             NF_NAT_HARDER_THRESH = NF_NAT_MAX_ATTEMPTS / 4
 *   [5.10t]   Rtoax/linux-5.10.13, [5.4t] HateTM/kernel-5.4.124:
 *             the 6.1 loop with prandom_u32() into the u16 offset
 *   [4.x]     4.9 - 4.19 nf_nat_proto_common.c: "off = *rover" /
 *             secure_port() / prandom_u32(), "for (i = 0; ; ++off)"
 *             until "++i != range_size"
 *   [mails]   6ed5943f8735 "remove l4 protocol port rovers" and
 *             a504b703bb1d "limit port clash resolution attempts"
 *             (upstream for 5.0, "at most 248 attempts (128 + 64 + 32
 *             + 16 + 8)"; stable 4.9.300, 4.14.265, 4.19.228 from the
 *             reviews of Feb 2022); 4589725502871e "snat: evict
 *             closing tcp entries on reply tuple collision" (net-next
 *             pull of 26 Jun 2023, v6.5)
 */
static const ctp_nat_algo nat_algos[CTP_NAT_ERA_COUNT] = {
	{ CTP_NAT_ROVER, "rover-scan",
	  "<= 4.20 (4.9.y < 4.9.300, 4.14.y < 4.14.265, 4.19.y < 4.19.228)",
	  "[4.x] nf_nat_proto_common.c: start at the protocol's rover, "
	  "try every port of the range once",
	  0, 0, 0, 65536,
	  "start at secure_port(), a keyed hash of the tuple; the original "
	  "port is not kept",
	  "start at prandom_u32(); the original port is not kept" },
	{ CTP_NAT_BOUNDED, "bounded", "5.0 - 6.4, 4.9.300+, 4.14.265+, "
	  "4.19.228+",
	  "a504b703bb1d + 6ed5943f8735; [6.1], [5.10t], [5.4t] "
	  "nf_nat_l4proto_unique_tuple(): u16 random start, rounds of "
	  "128, 64, 32, 16, 8 probes",
	  128, 16, 0, 65536,
	  "the original port is not kept (get_unique_tuple skips it for "
	  "NF_NAT_RANGE_PROTO_RANDOM_ALL); the start is random as always "
	  "(4.x backports: secure_port())",
	  "the original port is not kept; the start is random as always" },
	{ CTP_NAT_BOUNDED_EVICT, "bounded-evict", "6.5+",
	  "4589725502871e; [6.16t] nf_nat_used_tuple_harder(): the last "
	  "32 probes of a round may evict a TIME_WAIT/CLOSE source-NAT "
	  "TCP entry whose sequence the new SYN has passed",
	  128, 16, 32, 65536,
	  "the original port is not kept; the start is random as always",
	  "the original port is not kept; the start is random as always" },
};

/* From which version on each era holds; sorted.  The 4.x stable rows
 * come from the backport reviews ([mails]); 4.20 had the rover. */
static const struct {
	ctp_kver from;
	ctp_nat_era era;
} nat_from[] = {
	{ { 2, 0, 0 }, CTP_NAT_ROVER },
	{ { 4, 9, 300 }, CTP_NAT_BOUNDED },
	{ { 4, 10, 0 }, CTP_NAT_ROVER },
	{ { 4, 14, 265 }, CTP_NAT_BOUNDED },
	{ { 4, 15, 0 }, CTP_NAT_ROVER },
	{ { 4, 19, 228 }, CTP_NAT_BOUNDED },
	{ { 4, 20, 0 }, CTP_NAT_ROVER },
	{ { 5, 0, 0 }, CTP_NAT_BOUNDED },
	{ { 6, 5, 0 }, CTP_NAT_BOUNDED_EVICT },
};

void ctp_kernel_nat_algo(const ctp_kver *v, ctp_nat_algo *out)
{
	ctp_nat_era era = CTP_NAT_ROVER;

	for (size_t i = 0; i < sizeof(nat_from) / sizeof(nat_from[0]); i++)
		if (ctp_kver_cmp(v, &nat_from[i].from) >= 0)
			era = nat_from[i].era;
	*out = nat_algos[era];
}

const ctp_nat_algo *ctp_kernel_nat_algo_info(ctp_nat_era era)
{
	if ((unsigned)era >= CTP_NAT_ERA_COUNT)
		return NULL;
	return &nat_algos[era];
}

/*
 * "If no range specified" in nf_nat_l4proto_unique_tuple(): a port
 * stays in its class ("Loose convention: >> 512 is credential
 * passing"); the same in [4.x], [5.4t], [5.10t], [6.1], [6.16t].
 * Sorted by orig_hi.
 */
static const struct {
	unsigned orig_hi, lo, hi;
} nat_default_ports[] = {
	{ 511, 1, 511 },
	{ 1023, 600, 1023 },
	{ 65535, 1024, 65535 },
};

int ctp_kernel_nat_default_range(uint8_t proto, unsigned orig_port,
				 unsigned *lo, unsigned *hi)
{
	switch (proto) {
	case CTP_P_ICMP:
	case CTP_P_ICMPV6:
		/* "min = 0; range_size = 65536": every id */
		*lo = 0;
		*hi = 65535;
		return 1;
	case CTP_P_TCP:
	case CTP_P_UDP:
	case CTP_P_UDPLITE:
	case CTP_P_SCTP:
	case CTP_P_DCCP:
		break;
	default:
		/* GRE keys change only for PPTP children (ct->master) */
		return 0;
	}
	for (size_t i = 0; i < sizeof(nat_default_ports) /
				      sizeof(nat_default_ports[0]);
	     i++)
		if (orig_port <= nat_default_ports[i].orig_hi) {
			*lo = nat_default_ports[i].lo;
			*hi = nat_default_ports[i].hi;
			return 1;
		}
	return 0;
}

/*
 * Default table sizes, nf_conntrack_init_start().  Sources:
 *   [3.18v]  AstroProfundis/android_kernel_oneplus_msm8996 (3.18.47):
 *            "> 1GB machines have 16384 buckets", floor 32, max_factor
 *            4, nf_conntrack_max set before the per-netns table is
 *            allocated (and rounded) in nf_conntrack_init_net(); the
 *            same in torvalds/linux @011e3c63 (3.x)
 *   [4.0v]   zhanglin496/linux-4.0.5: the "> 4GB: 65536" rung added,
 *            still max from the unrounded size
 *   [4.x]    4.7+ trees (one global table): nf_ct_alloc_hashtable()
 *            before "nf_conntrack_max = max_factor *
 *            nf_conntrack_htable_size", so max is 4 x the rounded size
 *   [6.1]    Debian linux-source-6.1: the 5.15 rules below
 *   [mails]  d532bcd0b269 "netfilter: conntrack: sanitize table size
 *            default settings" (nf, 26 Aug 2021; net pull of 3 Sep
 *            2021 with the siphash switch: v5.15): "Change the default
 *            multiplier to 1 and increase the chosen bucket sizes"
 * Rounding: nf_ct_alloc_hashtable() rounds up to PAGE_SIZE /
 * sizeof(struct hlist_nulls_head) in every tree read.  The 4 GiB rung
 * is absent in 3.18.47 and present in 4.0.5; 3.19 was not read and is
 * taken as 3.18.
 */
static const ctp_default_rule default_rules[CTP_DEFAULT_ERA_COUNT] = {
	{ CTP_DEFAULT_1G, "factor4-16k", "3.x", "[3.18v], torvalds/linux "
	  "@011e3c63: RAM/16384/sizeof(hlist_head), > 1 GiB: 16384, "
	  "floor 32, max = 4 x that (unrounded)",
	  4, 32, 16384, 0, 0, 0 },
	{ CTP_DEFAULT_4G, "factor4-64k", "4.0 - 4.6", "[4.0v]: > 4 GiB: "
	  "65536, > 1 GiB: 16384, floor 32, max = 4 x the unrounded size",
	  4, 32, 16384, 65536, 0, 0 },
	{ CTP_DEFAULT_4G_ROUNDED, "factor4-64k-rounded", "4.7 - 5.14",
	  "[4.x]: the same rungs; the global table is allocated first, "
	  "max = 4 x the rounded size",
	  4, 32, 16384, 65536, 0, 1 },
	{ CTP_DEFAULT_SANE, "factor1-256k", "5.15+", "d532bcd0b269 (v5.15), "
	  "[6.1]: 64-bit > 4 GiB: 262144, > 1 GiB: 65536, floor 1024, "
	  "max_factor 1 (\"keep the average hash chain length at 2\")",
	  1, 1024, 65536, 262144, 1, 1 },
};

static const struct {
	ctp_kver from;
	ctp_default_era era;
} default_from[] = {
	{ { 2, 0, 0 }, CTP_DEFAULT_1G },
	{ { 4, 0, 0 }, CTP_DEFAULT_4G },
	{ { 4, 7, 0 }, CTP_DEFAULT_4G_ROUNDED },
	{ { 5, 15, 0 }, CTP_DEFAULT_SANE },
};

const ctp_default_rule *ctp_kernel_default_rule(const ctp_kver *v)
{
	ctp_default_era era = CTP_DEFAULT_1G;

	for (size_t i = 0; i < sizeof(default_from) / sizeof(default_from[0]);
	     i++)
		if (ctp_kver_cmp(v, &default_from[i].from) >= 0)
			era = default_from[i].era;
	return &default_rules[era];
}

int ctp_kernel_table_default(const ctp_kver *v, uint64_t ram_pages,
			     unsigned page_size, unsigned bits,
			     ctp_table_default *out)
{
	const ctp_default_rule *r = ctp_kernel_default_rule(v);
	uint64_t gib_pages, raw, step;

	if (page_size < 1024 || (page_size & (page_size - 1)) ||
	    (bits != 32 && bits != 64))
		return CTP_EFAIL;
	/* the kernel's own integer steps: "(1024 * 1024 * 1024 /
	 * PAGE_SIZE)", strictly greater than */
	gib_pages = (1024ull * 1024 * 1024) / page_size;
	raw = ram_pages * page_size / 16384 / (bits / 8);
	if (r->rung_4g && ram_pages > 4 * gib_pages &&
	    (!r->rung_4g_64bit || bits >= 64))
		raw = r->rung_4g;
	else if (ram_pages > gib_pages)
		raw = r->rung_1g;
	if (raw < r->floor)
		raw = r->floor;
	/* heads are pointers: page_size / (bits / 8) per page */
	step = page_size / (bits / 8);
	out->rule = r;
	out->raw = raw;
	out->buckets = (raw + step - 1) / step * step;
	out->max = r->factor * (r->max_of_rounded ? out->buckets : raw);
	return 0;
}

/*
 * early_drop().  Sources: [3.x] torvalds/linux @011e3c63 (per-netns
 * table, "Use oldest entry, which is roughly LRU", stop after
 * NF_CT_EVICTION_RANGE nodes); [4.0v] (first non-assured entry, nodes
 * counted); a 4.7/4.8 tree (global table, "hash = scale_hash(_hash++)"
 * eight times) and a later one with early_drop_list() and
 * "reciprocal_scale(_hash++, hsize)": the raw hash is incremented
 * before scaling, so all eight tries land in the flow's own bucket;
 * [4.9v] 0ctobot/neutrino_kernel_oneplus_sdm845 (4.9.y), the 4.14
 * CodeLinaro tree and [6.1]: "bucket = (bucket + 1) % hsize" and
 * early_drop_list() evicting every non-assured, non-dying entry of the
 * namespace in the bucket (IPS_OFFLOAD skipped from the 4.14 tree on).
 * Upstream kept the one-bucket loop after 4.9 for a while; the 4.9.y
 * tree read has the fix, so ctplan gives 4.9+ the eight buckets.
 */
static const ctp_evict_rule evict_rules[CTP_EVICT_ERA_COUNT] = {
	{ CTP_EVICT_NODES, "scan-8-nodes", "<= 4.6",
	  "[3.x], [4.0v]: whole buckets from the flow's own until a "
	  "non-assured entry is found or 8 nodes were passed; one evicted",
	  CTP_EVICTION_RANGE, 0, 0 },
	{ CTP_EVICT_ONE_BUCKET, "one-bucket", "4.7 - 4.8",
	  "scale_hash(_hash++) 8 times: the flow's own bucket only",
	  1, 0, 0 },
	{ CTP_EVICT_BUCKETS, "8-buckets", "4.9+",
	  "[4.9v], [6.1] early_drop(): the flow's bucket and the next 7, "
	  "every evictable entry of the first bucket holding one",
	  CTP_EVICTION_RANGE, 1, 1 },
};

/*
 * The gc worker's eviction of a nearly full table.  [4.9v]
 * 0ctobot/neutrino_kernel_oneplus_sdm845 (4.9.159): gc_worker() only
 * reaps expired entries ("This worker is only here to reap expired
 * entries when system went idle"), and __nf_conntrack_alloc() arms
 * nothing.  The 4.14 CodeLinaro tree (femto5g_kernel_msm-4.14) and [6.1]
 * Debian linux-source-6.1 nf_conntrack_core.c: "if (gc_work->early_drop)
 * nf_conntrack_max95 = nf_conntrack_max / 100u * 95u;", per entry "if
 * (atomic_read(&cnet->count) < nf_conntrack_max95) continue;" then "if
 * (gc_worker_can_early_drop(tmp)) nf_ct_kill(tmp)", where
 * gc_worker_can_early_drop() is "!test_bit(IPS_ASSURED_BIT)" or the
 * l4proto's can_early_drop() (nf_conntrack_proto_tcp.c
 * tcp_can_early_drop(): FIN_WAIT, LAST_ACK, TIME_WAIT, CLOSE,
 * CLOSE_WAIT); __nf_conntrack_alloc() sets conntrack_gc_work.early_drop
 * when early_drop() freed nothing; a completed pass clears it ("if
 * (next_run) gc_work->early_drop = false").  Offloaded entries are
 * skipped before.  The release that added it between 4.9 and 4.14 was
 * not read: 4.10 - 4.13 are said to be unknown and modelled without it.
 */
static const ctp_gc_evict_rule gc_rules[] = {
	{ CTP_GC_EVICT_NO, 95, "<= 4.9",
	  "[4.9v] gc_worker() only reaps expired entries" },
	{ CTP_GC_EVICT_UNKNOWN, 95, "4.10 - 4.13 (not read)",
	  "between [4.9v] (none) and the 4.14 tree (present): assumed none" },
	{ CTP_GC_EVICT_YES, 95, "4.14+",
	  "4.14 tree, [6.1] gc_worker(): after a full-table drop, evicts "
	  "entries not assured or TCP closing while count >= max / 100 * 95" },
};

/*
 * [6.1] nf_conntrack_core.c: "#define GC_SCAN_INTERVAL_MAX (60ul * HZ)",
 * "#define GC_SCAN_INTERVAL_MIN (1ul * HZ)"; gc_worker() ends with
 * "next_run = clamp(next_run, GC_SCAN_INTERVAL_MIN, GC_SCAN_INTERVAL_MAX)"
 * and "queue_delayed_work(..., &gc_work->dwork, next_run)";
 * __nf_conntrack_alloc() only sets "conntrack_gc_work.early_drop = true"
 * and queues nothing, so the armed pass runs when it was scheduled.
 * Earlier releases tuned the interval otherwise and were not read.
 */
unsigned ctp_kernel_gc_pass_max_s(const ctp_kver *v)
{
	static const ctp_kver v61 = { 6, 1, 0 };

	return ctp_kver_cmp(v, &v61) >= 0 ? 60 : 0;
}

const ctp_gc_evict_rule *ctp_kernel_gc_evict(const ctp_kver *v)
{
	static const ctp_kver v410 = { 4, 10, 0 }, v414 = { 4, 14, 0 };

	if (ctp_kver_cmp(v, &v414) >= 0)
		return &gc_rules[2];
	if (ctp_kver_cmp(v, &v410) >= 0)
		return &gc_rules[1];
	return &gc_rules[0];
}

uint64_t ctp_kernel_gc_threshold(uint64_t max)
{
	/* unsigned int arithmetic: the division first */
	return max / 100u * 95u;
}

static const struct {
	ctp_kver from;
	ctp_evict_era era;
} evict_from[] = {
	{ { 2, 0, 0 }, CTP_EVICT_NODES },
	{ { 4, 7, 0 }, CTP_EVICT_ONE_BUCKET },
	{ { 4, 9, 0 }, CTP_EVICT_BUCKETS },
};

const ctp_evict_rule *ctp_kernel_early_drop(const ctp_kver *v)
{
	ctp_evict_era era = CTP_EVICT_NODES;

	for (size_t i = 0; i < sizeof(evict_from) / sizeof(evict_from[0]);
	     i++)
		if (ctp_kver_cmp(v, &evict_from[i].from) >= 0)
			era = evict_from[i].era;
	return &evict_rules[era];
}

/*
 * conntrack -S counters by cause.  Read in net/netfilter/
 * nf_conntrack_core.c of 3.10.108, 4.9.337, 4.19.222, 5.4.286, 5.10.198,
 * 5.15.100, [6.1] 6.1.192 (Debian linux-source-6.1) and 6.8.0; releases
 * between those were not read and take the reading of the one before.
 *  - A full table: __nf_conntrack_alloc() logs "table full" and fails;
 *    its packet-path caller nf_conntrack_in() counts drop ("too stressed
 *    to deal"), every version.  early_drop counts the entries evicted
 *    (from 4.9 every unassured entry of the bucket, so one admitted flow
 *    may add several).
 *  - An insert clash at confirm: 3.10 counts insert_failed only (the
 *    packet is dropped, drop is not raised).  4.9 - 5.4: insert_failed
 *    after every clash, resolved or not, and drop when it could not be
 *    resolved (nf_ct_resolve_clash()).  From 5.10 (clash_resolve,
 *    bc92470413f3): a resolved clash counts clash_resolve only, a lost
 *    one drop and insert_failed.  NAT port exhaustion is always a lost
 *    clash (TCP is never resolved).
 *  - A too-long chain (5.15+): chaintoolong and insert_failed, not drop.
 * Rare paths (allocation failures, extension races, a protocol handler's
 * NF_DROP) also count drop or insert_failed and are not told apart.
 */
static const ctp_counter_rule counter_rules[] = {
	{ "3.x - 4.8", "3.10.108 __nf_conntrack_confirm(): a clash counts "
	  "insert_failed only; 4.0 - 4.8 not read",
	  0, 0, 0, 0, 0 },
	{ "4.9 - 5.9", "4.9.337, 4.19.222, 5.4.286 __nf_conntrack_confirm(): "
	  "insert_failed after every clash; nf_ct_resolve_clash(): drop when "
	  "not resolved",
	  1, 1, 0, 0, 0 },
	{ "5.10 - 5.14", "5.10.198 nf_ct_resolve_clash(): drop and "
	  "insert_failed when not resolved, clash_resolve when resolved",
	  1, 0, 0, 0, 0 },
	{ "5.15+", "5.15.100, [6.1], 6.8.0: as 5.10, and "
	  "__nf_conntrack_confirm() counts chaintoolong and insert_failed "
	  "for a too-long chain",
	  1, 0, 1, 1, 0 },
};

const ctp_counter_rule *ctp_kernel_counter_rule(const ctp_kver *v)
{
	static const ctp_kver from[] = { { 4, 9, 0 }, { 5, 10, 0 },
					 { 5, 15, 0 } };
	size_t era = 0;

	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		if (ctp_kver_cmp(v, &from[i]) >= 0)
			era = i + 1;
	return &counter_rules[era];
}

/*
 * Default timeouts: nf_conntrack_proto_tcp.c tcp_timeouts[]
 * (ESTABLISHED 5 DAYS, TIME_WAIT 2 MINS), _udp.c udp_timeouts[]
 * (UNREPLIED 30*HZ, REPLIED 180*HZ in 3.10.108, 4.9.337 and 4.19.222,
 * 120*HZ in 5.4.286, 5.10.198, 5.15.100, [6.1] and 6.8.0; 4.20 - 5.3 not
 * read), _icmp.c nf_ct_icmp_timeout 30*HZ, _generic.c
 * nf_ct_generic_timeout 600*HZ.
 */
static const ctp_timeouts timeouts[] = {
	{ 432000, 120, 30, 180, 30, 600, "<= 4.19",
	  "3.10.108, 4.9.337, 4.19.222: udp stream 180 s" },
	{ 432000, 120, 30, 120, 30, 600, "5.4+",
	  "5.4.286 - 6.8.0, [6.1]: udp stream 120 s" },
};

const ctp_timeouts *ctp_kernel_timeouts(const ctp_kver *v)
{
	static const ctp_kver v54 = { 5, 4, 0 };

	return &timeouts[ctp_kver_cmp(v, &v54) >= 0];
}

unsigned ctp_kernel_page_size(void)
{
	return 4096;
}

/*
 * Entry size.  [6.18m]: this lab's 6.18.44 x86_64 kernel, pahole -C
 * nf_conn /sys/kernel/btf/vmlinux: "size: 248", and /proc/slabinfo
 * "nf_conntrack ... 256 16 1" (object size 256, 16 per page); struct
 * nf_ct_ext 16 bytes.  [6.1]: the same members in struct nf_conn
 * (zones, NAT, mark and secmark built in, as Debian builds them) and
 * nf_conntrack_extend.c: NF_CT_EXT_PREALLOC 128u, "newoff =
 * ALIGN(oldlen, __alignof__(struct nf_ct_ext))", krealloc().  Older
 * kernels were not measured: their struct held a timer_list before
 * 4.9, so the 6.1 figure is low for them; the report says so.
 */
static const ctp_conn_size conn_sizes[] = {
	{ 248, 256, 16, 128, 0,
	  "<= 6.0 (not measured: only 6.1's layout is known, older ones "
	  "differ)",
	  "[6.1] layout, taken for older kernels too" },
	{ 248, 256, 16, 128, 1, "6.1 - 6.18",
	  "[6.18m] BTF size 248, slab object 256; [6.1] same members" },
};

const ctp_conn_size *ctp_kernel_conn_size(const ctp_kver *v)
{
	static const ctp_kver from61 = { 6, 1, 0 };

	return &conn_sizes[ctp_kver_cmp(v, &from61) >= 0];
}

/* Extension sizes, [6.18m] pahole: nf_conn_help 56, nf_conn_nat 8,
 * nf_conn_seqadj 24, nf_conn_acct 32, nf_conntrack_ecache 32,
 * nf_conn_tstamp 16, nf_conn_timeout 8, nf_conn_labels 16,
 * nf_conn_synproxy 12; in CTP_EXT_* bit order. */
static const unsigned char ext_len[] = { 56, 8, 24, 32, 32, 16, 8, 16,
					 12 };

/* kmalloc size classes (mm/slab_common.c kmalloc_info[]) */
static unsigned kmalloc_size(unsigned n)
{
	static const unsigned sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256,
					  512, 1024 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (n <= sizes[i])
			return sizes[i];
	return n;
}

unsigned ctp_kernel_ext_used(const ctp_kver *v, unsigned ext_mask)
{
	const ctp_conn_size *c = ctp_kernel_conn_size(v);
	unsigned len = c->ext_header;

	if (!ext_mask)
		return 0;
	for (size_t i = 0; i < sizeof(ext_len); i++)
		if (ext_mask & (1u << i))
			len = (len + 7u) / 8u * 8u + ext_len[i];
	return len;
}

/* [6.1] nf_ct_ext_add(): "alloc = max(newlen, NF_CT_EXT_PREALLOC)" and
 * krealloc(), so the block is the size class of the larger */
unsigned ctp_kernel_ext_bytes(const ctp_kver *v, unsigned ext_mask)
{
	const ctp_conn_size *c = ctp_kernel_conn_size(v);
	unsigned len = ctp_kernel_ext_used(v, ext_mask);

	if (!ext_mask)
		return 0;
	return kmalloc_size(len < c->ext_prealloc ? c->ext_prealloc : len);
}

const char *ctp_kernel_ext_name(unsigned bit)
{
	/* in CTP_EXT_* bit order, as ext_len[] */
	static const char *const names[] = { "helper",	"nat",	   "seqadj",
					     "acct",	"events",  "timestamp",
					     "timeout", "labels",  "synproxy" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bit == 1u << i)
			return names[i];
	return NULL;
}

/*
 * Settings that apply, by version.  Read in net/netfilter/
 * nf_conntrack_standalone.c (nf_ct_sysctl_table[],
 * nf_conntrack_standalone_init_sysctl()) and the hashsize parameter of
 * nf_conntrack_core.c (3.10, 4.9) / nf_conntrack_proto.c (4.19+) in
 * 3.10.108, 4.9.337, 4.19.222, 5.4.286, 5.10.198, 5.15.100, [6.1] and
 * 6.8.0:
 *   3.10.108: "nf_conntrack_buckets" .mode 0444, proc_dointvec (read
 *     only); "nf_conntrack_max" 0644, hidden from other user
 *     namespaces ("table[0].procname = NULL"), writable from another
 *     network namespace of the same user namespace;
 *     module_param_call(hashsize, nf_conntrack_set_hashsize, ...,
 *     0600): "if (current->nsproxy->net_ns != &init_net) return
 *     -EOPNOTSUPP", "On boot, we can set this without any fancy
 *     locking", else a resize;
 *   4.9.337 - 6.8.0: "nf_conntrack_buckets" 0644 with
 *     nf_conntrack_hash_sysctl (3183ab8997a4 "allow increasing bucket
 *     size via sysctl too"), and outside init_net max, expect_max and
 *     buckets are 0444 (2671fa4dc010 "Make global sysctls readonly in
 *     non-init netns", v5.13, in the 4.9.y and 5.4.y stables read);
 *     hashsize as in 3.10.
 * 4.0 - 4.8 were not read and take the 3.10 reading (the buckets line is
 * then left out: the module option sets the size on every version).
 */
static const ctp_apply_rule apply_rules[] = {
	{ "<= 4.8 (3.10.108 read)",
	  "3.10.108 nf_conntrack_standalone.c: nf_conntrack_buckets .mode "
	  "0444, proc_dointvec; nf_conntrack_core.c "
	  "module_param_call(hashsize, ..., 0600)",
	  0, 0 },
	{ "4.9+ (4.9.337, 4.19.222, 5.4.286, 5.10.198, 5.15.100, 6.1.192, "
	  "6.8.0 read)",
	  "nf_conntrack_standalone.c: nf_conntrack_buckets .mode 0644, "
	  "nf_conntrack_hash_sysctl; 0444 outside init_net; hashsize "
	  "module_param_call 0600",
	  1, 1 },
};

const ctp_apply_rule *ctp_kernel_apply_rule(const ctp_kver *v)
{
	static const ctp_kver v49 = { 4, 9, 0 };

	return &apply_rules[ctp_kver_cmp(v, &v49) >= 0];
}

/* The "from" rows of every table above that fall inside one series:
 * the last stable change of major.minor that ctplan models. */
int ctp_kernel_series_patch(int major, int minor)
{
	const ctp_kver *rows[64];
	size_t n = 0;
	int best = 0;

	for (size_t i = 0; i < sizeof(era_from) / sizeof(era_from[0]); i++)
		rows[n++] = &era_from[i].from;
	for (size_t i = 0; i < sizeof(limit_from) / sizeof(limit_from[0]);
	     i++)
		rows[n++] = &limit_from[i].from;
	for (size_t i = 0; i < sizeof(nat_from) / sizeof(nat_from[0]); i++)
		rows[n++] = &nat_from[i].from;
	for (size_t i = 0; i < sizeof(default_from) / sizeof(default_from[0]);
	     i++)
		rows[n++] = &default_from[i].from;
	for (size_t i = 0; i < sizeof(evict_from) / sizeof(evict_from[0]);
	     i++)
		rows[n++] = &evict_from[i].from;
	for (size_t i = 0; i < n; i++)
		if (rows[i]->major == major && rows[i]->minor == minor &&
		    rows[i]->patch > best)
			best = rows[i]->patch;
	return best;
}

/*
 * Distribution kernels: ABI numbers to upstream patch levels.  Each row
 * is one release whose upstream base was read:
 *   [ubsig]  Ubuntu's /proc/version_signature ("Ubuntu 5.15.0-79.86-
 *            generic 5.15.111": ABI 79 carries upstream 5.15.111), as
 *            printed in public boot logs and bug reports
 *   [debv]   Debian's uname -v ("#1 SMP PREEMPT_DYNAMIC Debian
 *            6.1.27-1"), the package version of that ABI, as printed
 *            in public logs; 6.1.0-28 = 6.1.119 from the bookworm
 *            linux changelog
 * Between two rows the lower one is taken: the build carries at least
 * that upstream version.  Facts change inside a series only at the
 * rows of the tables above (5.15.103, 6.1.20, 4.19.228, ...).
 */
enum { V_DEBIAN, V_UBUNTU };

static const struct {
	int vendor, major, minor, abi, patch;
} abi_rows[] = {
	{ V_DEBIAN, 4, 19, 18, 208 }, { V_DEBIAN, 4, 19, 19, 232 },
	{ V_DEBIAN, 4, 19, 20, 235 }, { V_DEBIAN, 4, 19, 22, 260 },
	{ V_DEBIAN, 6, 1, 9, 27 },    { V_DEBIAN, 6, 1, 18, 76 },
	{ V_DEBIAN, 6, 1, 28, 119 },
	{ V_UBUNTU, 5, 4, 26, 30 },   { V_UBUNTU, 5, 4, 91, 151 },
	{ V_UBUNTU, 5, 4, 96, 157 },  { V_UBUNTU, 5, 4, 100, 166 },
	{ V_UBUNTU, 5, 4, 136, 218 }, { V_UBUNTU, 5, 4, 166, 252 },
	{ V_UBUNTU, 5, 15, 58, 90 },  { V_UBUNTU, 5, 15, 71, 92 },
	{ V_UBUNTU, 5, 15, 72, 98 },  { V_UBUNTU, 5, 15, 75, 99 },
	{ V_UBUNTU, 5, 15, 78, 99 },  { V_UBUNTU, 5, 15, 79, 111 },
	{ V_UBUNTU, 5, 15, 91, 131 }, { V_UBUNTU, 5, 15, 97, 136 },
	{ V_UBUNTU, 5, 15, 100, 143 }, { V_UBUNTU, 5, 15, 136, 178 },
	{ V_UBUNTU, 6, 8, 31, 1 },    { V_UBUNTU, 6, 8, 40, 12 },
};

/* The upstream patch of vendor's ABI abi in major.minor: 1 with *lo
 * (the row at or below abi) and *hi (the next row, -1 none), or 0 when
 * no row is at or below it (*hi still set). */
static int abi_patch(int vendor, int major, int minor, int abi, int *lo,
		     int *hi)
{
	int found = 0, best_abi = -1, next_abi = 1 << 30;

	*lo = *hi = -1;
	for (size_t i = 0; i < sizeof(abi_rows) / sizeof(abi_rows[0]); i++) {
		if (abi_rows[i].vendor != vendor ||
		    abi_rows[i].major != major || abi_rows[i].minor != minor)
			continue;
		if (abi_rows[i].abi <= abi && abi_rows[i].abi > best_abi) {
			best_abi = abi_rows[i].abi;
			*lo = abi_rows[i].patch;
			found = 1;
		}
		if (abi_rows[i].abi > abi && abi_rows[i].abi < next_abi) {
			next_abi = abi_rows[i].abi;
			*hi = abi_rows[i].patch;
		}
	}
	return found;
}

/* Flavours of "X.Y.0-ABI-flavour" (Debian's linux-image-* and Ubuntu's
 * linux-image-*-<flavour> package names). */
static const char *const debian_flavours[] = {
	"amd64", "arm64", "cloud-amd64", "cloud-arm64", "rt-amd64",
	"rt-arm64", "686", "686-pae", "armmp", "armmp-lpae", "powerpc64le",
	"s390x", "marvell", "rpi", "loong64", "riscv64",
};
static const char *const ubuntu_flavours[] = {
	"generic", "generic-64k", "generic-lpae", "lowlatency", "aws",
	"azure", "gcp", "gke", "gkeop", "kvm", "oracle", "ibm", "raspi",
	"nvidia", "realtime", "fips", "intel-iotg",
};

static int in_list(const char *s, size_t n, const char *const *list,
		   size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && memcmp(s, list[i], n) == 0)
			return 1;
	return 0;
}

static int has(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	for (size_t i = 0; i + l <= n; i++)
		if (memcmp(s + i, lit, l) == 0)
			return 1;
	return 0;
}

/* "-ABI-flavour" after "X.Y.0": 1 with *abi and the flavour. */
static int abi_flavour(const char *s, size_t n, int *abi, const char **fl,
		       size_t *fln)
{
	size_t i = 1;
	int v = 0;

	if (n < 3 || s[0] != '-' || s[1] < '0' || s[1] > '9')
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && i < 8)
		v = v * 10 + (s[i++] - '0');
	if (i >= n || s[i] != '-')
		return 0;
	*abi = v;
	*fl = s + i + 1;
	*fln = n - i - 1;
	return *fln > 0;
}

static void assume_series(ctp_kernel_id *id, const char *why)
{
	int p = ctp_kernel_series_patch(id->upstream.major,
					id->upstream.minor);
	char kv[32];

	id->exact = 0;
	if (p > 0) {
		id->upstream.patch = p;
		ctp_kver_format(&id->upstream, kv, sizeof(kv));
		snprintf(id->note, sizeof(id->note),
			 "%s: read as %d.%d.y with every stable change ctplan "
			 "models for it (%s or later)",
			 why, id->upstream.major, id->upstream.minor, kv);
	} else {
		snprintf(id->note, sizeof(id->note),
			 "%s: no stable release of %d.%d changed what ctplan "
			 "models, so the patch level does not matter",
			 why, id->upstream.major, id->upstream.minor);
	}
}

int ctp_kernel_identify(const char *release, size_t len, int patch_hint,
			ctp_kernel_id *out, ctp_error *err)
{
	ctp_kver v;
	size_t i = 0, n;
	const char *rest, *fl;
	size_t fln;
	int abi, lo, hi;
	char kv[32];

	memset(out, 0, sizeof(*out));
	if (ctp_kver_parse(release, len, &v, err))
		return CTP_EINPUT;
	snprintf(out->release, sizeof(out->release), "%.*s",
		 (int)(len < sizeof(out->release) ? len
						  : sizeof(out->release) - 1),
		 release);
	/* the text after MAJOR.MINOR[.PATCH] */
	if (len && (release[0] == 'v' || release[0] == 'V'))
		i = 1;
	while (i < len && ((release[i] >= '0' && release[i] <= '9') ||
			   release[i] == '.'))
		i++;
	rest = release + i;
	n = len - i;
	out->upstream = v;
	out->vendor = "upstream";
	out->source = "the version as numbered upstream";
	out->exact = 1;

	if (has(rest, n, "uek")) {
		/* Oracle's Unbreakable Enterprise Kernel: "5.15.0-200.131.27
		 * .el9uek" follows the 5.15 stable series; the build number
		 * is not an upstream patch level */
		out->upstream.patch = -1;
		out->vendor = "Oracle UEK";
		out->source = "UEK numbering (X.Y.0-build.elNuek): based on "
			      "upstream X.Y stable";
		assume_series(out, "the UEK build number does not name the "
				   "upstream patch level");
	} else if ((has(rest, n, ".el9") && v.major == 5 && v.minor == 14) ||
		   (has(rest, n, ".el8") && v.major == 4 && v.minor == 18) ||
		   (has(rest, n, ".el7") && v.major == 3 && v.minor == 10) ||
		   (has(rest, n, ".el10") && v.major == 6 && v.minor == 12)) {
		out->exact = 0;
		if (v.minor == 14) {
			/* RHEL 9 backports the 5.15 conntrack rework */
			out->vendor = "RHEL 9 (CentOS Stream 9, Rocky, Alma, "
				      "Oracle RHCK)";
			out->upstream = (ctp_kver){ 5, 15, 103 };
			out->source = "RHEL 9 backports the v5.15 conntrack "
				      "changes (siphash dd6d2910c5e0 + "
				      "b16ac3c4c886, defaults d532bcd0b269, "
				      "chain limit)";
			snprintf(out->note, sizeof(out->note),
				 "siphash, max = buckets, the 50..79 chain "
				 "limit; which 5.14.0-N took each backport was "
				 "not verified in the RHEL sources");
		} else if (v.minor == 18) {
			out->vendor = "RHEL 8 (CentOS 8, Rocky, Alma, Oracle "
				      "RHCK)";
			out->upstream = (ctp_kver){ 4, 18, 0 };
			out->source = "RHEL 8 kernel 4.18.0-N.el8";
			snprintf(out->note, sizeof(out->note),
				 "jhash2, no chain limit, max = 4 x buckets; "
				 "RHEL 8's conntrack backports were not "
				 "verified");
		} else if (v.minor == 10) {
			out->vendor = "RHEL 7 (CentOS 7)";
			out->upstream = (ctp_kver){ 3, 10, 0 };
			out->source = "RHEL 7 kernel 3.10.0-N.el7";
			snprintf(out->note, sizeof(out->note),
				 "RHEL 7's conntrack backports were not "
				 "verified");
		} else {
			out->vendor = "RHEL 10 (CentOS Stream 10)";
			out->upstream = (ctp_kver){ 6, 12, 0 };
			out->source = "RHEL 10 kernel 6.12.0-N.el10";
			snprintf(out->note, sizeof(out->note),
				 "RHEL 10's later backports were not "
				 "verified");
		}
	} else if (has(rest, n, "amzn2")) {
		/* "5.10.215-203.850.amzn2.x86_64": upstream numbers */
		out->vendor = has(rest, n, "amzn2023") ? "Amazon Linux 2023"
						       : "Amazon Linux 2";
		out->source = "Amazon Linux numbers its kernels by the "
			      "upstream stable release they carry";
	} else if (n > 8 && rest[0] == '-' && rest[1] == '1' &&
		   rest[2] == '5' && rest[3] == '0' && (has(rest, n, "-default") ||
		   has(rest, n, "-azure") || has(rest, n, "-64kb") ||
		   has(rest, n, "-rt"))) {
		/* "5.14.21-150500.55.65-default": SLE 15 SP5 */
		out->vendor = "SUSE (SLES / openSUSE Leap 15)";
		out->source = "SLE kernel X.Y.Z-150N00.*: base X.Y.Z";
		out->exact = 0;
		snprintf(out->note, sizeof(out->note),
			 "SUSE backports, and which conntrack changes this "
			 "build carries was not verified");
	} else if (n >= 1 && rest[0] == '+') {
		out->vendor = "Container-Optimized OS";
		out->source = "COS numbers its kernels by the upstream "
			      "stable release, with a '+'";
	} else if (has(rest, n, "-flatcar")) {
		out->vendor = "Flatcar";
		out->source = "Flatcar numbers its kernels by the upstream "
			      "stable release";
	} else if (v.patch == 0 &&
		   abi_flavour(rest, n, &abi, &fl, &fln) &&
		   (in_list(fl, fln, debian_flavours,
			    sizeof(debian_flavours) /
				    sizeof(debian_flavours[0])) ||
		    in_list(fl, fln, ubuntu_flavours,
			    sizeof(ubuntu_flavours) /
				    sizeof(ubuntu_flavours[0])))) {
		int deb = in_list(fl, fln, debian_flavours,
				  sizeof(debian_flavours) /
					  sizeof(debian_flavours[0]));

		out->vendor = deb ? "Debian" : "Ubuntu";
		out->source = deb ? "Debian ABI numbers (uname -v \"Debian "
				    "X.Y.Z-N\", the bookworm changelog)"
				  : "Ubuntu ABI numbers (/proc/"
				    "version_signature)";
		if (patch_hint > 0) {
			out->upstream.patch = patch_hint;
			out->source = "uname -v or sysctl kernel.version names the upstream version";
		} else if (abi >= 1000) {
			out->upstream.patch = -1;
			assume_series(out, "an Ubuntu cloud or OEM kernel (ABI "
					   ">= 1000) numbers its own builds");
		} else if (abi_patch(deb ? V_DEBIAN : V_UBUNTU, v.major,
				     v.minor, abi, &lo, &hi)) {
			out->upstream.patch = lo;
			ctp_kver_format(&out->upstream, kv, sizeof(kv));
			if (hi >= 0 && hi != lo)
				snprintf(out->note, sizeof(out->note),
					 "ABI %d carries upstream %s or later "
					 "(before %d.%d.%d)",
					 abi, kv, v.major, v.minor, hi);
			else
				snprintf(out->note, sizeof(out->note),
					 "ABI %d carries upstream %s%s", abi,
					 kv, hi < 0 ? " or later" : "");
		} else if (hi >= 0) {
			/* below every row: at most the first one */
			out->upstream.patch = 0;
			out->exact = 0;
			snprintf(out->note, sizeof(out->note),
				 "ABI %d is older than the oldest ctplan maps "
				 "(%d.%d.%d): read as %d.%d.0",
				 abi, v.major, v.minor, hi, v.major, v.minor);
		} else {
			out->upstream.patch = -1;
			assume_series(out, "this ABI's upstream version is not "
					   "in ctplan's table");
		}
	} else if (v.patch == 0 && abi_flavour(rest, n, &abi, &fl, &fln)) {
		/* "X.Y.0-ABI-flavour" of a vendor ctplan does not know: the
		 * ABI counts the vendor's builds, usually with stable
		 * updates, so X.Y.0 would understate it */
		out->vendor = "an unknown vendor (X.Y.0-ABI-flavour)";
		out->source = "an ABI-numbered release string";
		out->upstream.patch = -1;
		assume_series(out, "the vendor is unknown, so is the upstream "
				   "patch level of its ABI");
	} else if (v.patch < 0) {
		assume_series(out, "no patch level given");
	} else if (patch_hint > 0 && patch_hint != v.patch) {
		out->upstream.patch = patch_hint;
		out->source = "uname -v or sysctl kernel.version names the upstream version";
	}
	return 0;
}
