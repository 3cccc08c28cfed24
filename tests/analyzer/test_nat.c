/*
 * NAT model (analyzer/nat*.c) and the kernel's NAT facts
 * (analyzer/kernel.c): the era of every version boundary, the default
 * ranges, the exact search-failure probability against a brute force
 * over every start offset (an implementation of the kernel loop of its
 * own), the simulated search against the exact figure, and the model
 * on small hand-made tables: remaps and holders, groups by namespace
 * and zone, ranges given, inferred and default, full ranges, random
 * port choice, skipped flows.
 */
#include <arpa/inet.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/nat.h"

/* ---- kernel facts ---- */

static const struct {
	ctp_kver v;
	ctp_nat_era era;
} eras[] = {
	{ { 3, 10, -1 }, CTP_NAT_ROVER },
	{ { 4, 9, 299 }, CTP_NAT_ROVER },
	{ { 4, 9, 300 }, CTP_NAT_BOUNDED },
	{ { 4, 10, 0 }, CTP_NAT_ROVER },
	{ { 4, 14, 264 }, CTP_NAT_ROVER },
	{ { 4, 14, 265 }, CTP_NAT_BOUNDED },
	{ { 4, 19, 227 }, CTP_NAT_ROVER },
	{ { 4, 19, 228 }, CTP_NAT_BOUNDED },
	{ { 4, 20, 17 }, CTP_NAT_ROVER },
	{ { 5, 0, -1 }, CTP_NAT_BOUNDED },
	{ { 5, 15, 103 }, CTP_NAT_BOUNDED },
	{ { 6, 1, 192 }, CTP_NAT_BOUNDED },
	{ { 6, 4, 16 }, CTP_NAT_BOUNDED },
	{ { 6, 5, -1 }, CTP_NAT_BOUNDED_EVICT },
	{ { 6, 18, 44 }, CTP_NAT_BOUNDED_EVICT },
};

static void test_eras(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		ctp_nat_algo a;

		ctp_kernel_nat_algo(&eras[i].v, &a);
		assert_int_equal(a.era, eras[i].era);
		assert_ptr_equal(ctp_kernel_nat_algo_info(a.era)->name,
				 a.name);
		assert_non_null(a.source);
		if (a.era == CTP_NAT_ROVER) {
			assert_int_equal(a.first_round, 0);
		} else {
			assert_int_equal(a.first_round, 128);
			assert_int_equal(a.min_round, 16);
			assert_int_equal(a.start_space, 65536);
		}
		assert_int_equal(a.evict_last,
				 a.era == CTP_NAT_BOUNDED_EVICT ? 32 : 0);
	}
	assert_null(ctp_kernel_nat_algo_info(CTP_NAT_ERA_COUNT));
}

/* The options' default kernel is kernel.c's newest, not a copy of it. */
static void test_default_kernel(void **state)
{
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_kver n = ctp_kernel_newest();

	(void)state;
	assert_int_equal(o.kernel.major, n.major);
	assert_int_equal(o.kernel.minor, n.minor);
	assert_int_equal(o.kernel.patch, n.patch);
}

static const struct {
	uint8_t proto;
	unsigned port;
	int ok;
	unsigned lo, hi;
} ranges[] = {
	{ CTP_P_TCP, 0, 1, 1, 511 },     { CTP_P_TCP, 511, 1, 1, 511 },
	{ CTP_P_UDP, 512, 1, 600, 1023 }, { CTP_P_SCTP, 1023, 1, 600, 1023 },
	{ CTP_P_TCP, 1024, 1, 1024, 65535 },
	{ CTP_P_UDPLITE, 65535, 1, 1024, 65535 },
	{ CTP_P_ICMP, 9, 1, 0, 65535 },  { CTP_P_ICMPV6, 0, 1, 0, 65535 },
	{ CTP_P_GRE, 5, 0, 0, 0 },       { 2, 0, 0, 0, 0 },
};

static void test_default_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		unsigned lo = 7, hi = 7;

		assert_int_equal(ctp_kernel_nat_default_range(
					 ranges[i].proto, ranges[i].port, &lo,
					 &hi),
				 ranges[i].ok);
		if (ranges[i].ok) {
			assert_int_equal(lo, ranges[i].lo);
			assert_int_equal(hi, ranges[i].hi);
		}
	}
}

/* ---- the search on one range ---- */

/*
 * The kernel's loop, brute force: every u16 start of every round; a
 * probe of an evictable port among the last evict_last gives way with
 * CTP_NAT_EVICT_P, independently.
 */
static double brute_fail(const ctp_nat_algo *al, uint32_t size,
			 const uint8_t *taken, const uint8_t *ev)
{
	uint32_t a = size < al->first_round ? size : al->first_round;
	double p = 1;

	for (;;) {
		double sum = 0;

		for (uint32_t start = 0; start < 65536; start++) {
			uint16_t off = (uint16_t)start;
			double w = 1;
			uint32_t i;

			for (i = 0; i < a; i++, off++) {
				uint32_t x = off % size;

				if (!taken[x])
					break;
				if (a - i <= al->evict_last && ev && ev[x])
					w *= 1 - CTP_NAT_EVICT_P;
			}
			if (i == a)
				sum += w;
		}
		p *= sum / 65536;
		if (a >= size || a < al->min_round)
			return p;
		a /= 2;
	}
}

/* taken ports drawn independently, dense enough that failures are
 * likely and runs cross the end of the range */
typedef struct pattern {
	uint32_t size;
	double density; /* share taken; 1: all */
	double evict;   /* share of taken ports evictable */
} pattern;

static const pattern patterns[] = {
	{ 10, 1, 0 },      { 10, 0.9, 0 },   { 100, 0.97, 0.3 },
	{ 128, 0.99, 0 },  { 129, 0.99, 0 }, { 200, 0.95, 0.2 },
	{ 256, 0.99, 0.5 }, { 1000, 0.995, 0 },
	{ 3000, 0.99, 0.1 }, { 777, 1, 0.4 },
};

/* taken/evict as flags per index and as the model's sorted arrays */
static void make_pattern(const pattern *pt, uint64_t seed, uint8_t *taken,
			 uint8_t *ev, uint32_t *idx, uint8_t *evs, size_t *n)
{
	ctp_rng rng;

	ctp_rng_init(&rng, seed, pt->size);
	memset(taken, 0, pt->size);
	memset(ev, 0, pt->size);
	for (uint32_t x = 0; x < pt->size; x++)
		taken[x] = pt->density >= 1 ||
			   ctp_rng_below(&rng, 1000000) < pt->density * 1000000;
	*n = 0;
	for (uint32_t x = 0; x < pt->size; x++) {
		if (!taken[x])
			continue;
		ev[x] = ctp_rng_below(&rng, 1000) < pt->evict * 1000;
		idx[*n] = x;
		evs[*n] = ev[x];
		(*n)++;
	}
}

static void test_exact_vs_brute(void **state)
{
	static const ctp_kver v61 = { 6, 1, -1 }, v618 = { 6, 18, -1 };
	uint8_t *taken = malloc(4096), *ev = malloc(4096);
	uint8_t *evs = malloc(4096);
	uint32_t *idx = malloc(4096 * sizeof(*idx));

	(void)state;
	assert_non_null(taken);
	assert_non_null(ev);
	assert_non_null(evs);
	assert_non_null(idx);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		for (int k = 0; k < 2; k++) {
			ctp_nat_algo al;
			ctp_nat_taken t;
			size_t n;
			double exact, brute;

			ctp_kernel_nat_algo(k ? &v618 : &v61, &al);
			make_pattern(&patterns[i], 7 + i, taken, ev, idx, evs,
				     &n);
			t.taken = idx;
			t.evict = evs;
			t.n = n;
			t.size = patterns[i].size;
			exact = ctp_nat_p_search_fail(&al, &t, 1);
			brute = brute_fail(&al, patterns[i].size, taken,
					   al.evict_last ? ev : NULL);
			assert_true(fabs(exact - brute) <=
				    1e-12 + 1e-9 * brute);
		}
	}
	free(taken);
	free(ev);
	free(evs);
	free(idx);
}

/* The u16 offset wraps at 65536, where 65536 % 10 != 0: of a 10-port
 * range with one port free, the 6 starts 65530 - 65535 probe 5 - 9
 * ports twice and never reach the free one. */
static void test_wrap_anomaly(void **state)
{
	static const ctp_kver v = { 6, 1, -1 };
	uint32_t idx[9] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	ctp_nat_taken t = { idx, NULL, 9, 10 };
	ctp_nat_algo al;

	(void)state;
	ctp_kernel_nat_algo(&v, &al);
	assert_true(fabs(ctp_nat_p_search_fail(&al, &t, 0) - 6.0 / 65536) <
		    1e-15);
	/* a full range fails for sure, a free one never */
	t.n = 0;
	assert_true(ctp_nat_p_search_fail(&al, &t, 0) == 0);
	/* the rover scan fails only when every port is taken */
	ctp_kernel_nat_algo(&(ctp_kver){ 4, 4, 0 }, &al);
	t.n = 9;
	assert_true(ctp_nat_p_search_fail(&al, &t, 0) == 0);
	idx[8] = 9; /* still 9 of 10 */
	assert_true(ctp_nat_p_search_fail(&al, &t, 0) == 0);
}

/* Two free ports next to each other in 256: the rounds fail when their
 * windows miss indices 0 and 1 -- (256 - a - 1) of 256 starts, since
 * 256 divides 65536. */
static void test_rounds_formula(void **state)
{
	static const ctp_kver v = { 6, 1, -1 };
	uint32_t idx[256];
	ctp_nat_taken t = { idx, NULL, 0, 256 };
	ctp_nat_algo al;
	double want = 1;

	(void)state;
	for (uint32_t x = 2; x < 256; x++)
		idx[t.n++] = x;
	ctp_kernel_nat_algo(&v, &al);
	for (uint32_t a = 128; a >= 8; a /= 2)
		want *= (256.0 - a - 1) / 256;
	assert_true(fabs(ctp_nat_p_search_fail(&al, &t, 0) - want) < 1e-15);
}

static void test_simulated_search(void **state)
{
	static const ctp_kver v = { 6, 18, -1 };
	enum { SIZE = 256, DRAWS = 200000 };
	uint8_t bits[SIZE / 8] = { 0 }, evb[SIZE / 8] = { 0 };
	uint32_t idx[SIZE];
	uint8_t evs[SIZE];
	ctp_nat_taken t = { idx, evs, 0, SIZE };
	ctp_nat_algo al;
	ctp_rng rng;
	unsigned fails = 0;
	double p, sd;

	(void)state;
	/* free: 0, 1, 2; evictable: 200, 201 */
	for (uint32_t x = 3; x < SIZE; x++) {
		bits[x / 8] |= (uint8_t)(1u << (x % 8));
		evs[t.n] = x == 200 || x == 201;
		if (evs[t.n])
			evb[x / 8] |= (uint8_t)(1u << (x % 8));
		idx[t.n++] = x;
	}
	ctp_kernel_nat_algo(&v, &al);
	p = ctp_nat_p_search_fail(&al, &t, 1);
	assert_true(p > 0.05 && p < 0.5);
	ctp_rng_init(&rng, 42, 0);
	for (int i = 0; i < DRAWS; i++) {
		long x = ctp_nat_search(&al, SIZE, bits, evb, 1, &rng);

		fails += x < 0;
		if (x >= 0)
			assert_true(!(bits[x / 8] >> (x % 8) & 1) ||
				    (evb[x / 8] >> (x % 8) & 1));
	}
	sd = sqrt(DRAWS * p * (1 - p));
	assert_true(fabs(fails - DRAWS * p) < 5 * sd);
}

/* ---- the model on hand-made tables ---- */

typedef struct fspec {
	const char *ns;
	uint8_t proto;
	const char *osrc;
	unsigned osport;
	const char *odst;
	unsigned odport;
	const char *rsrc;
	unsigned rsport;
	const char *rdst;
	unsigned rdport;
	uint8_t state;
	uint16_t zone;
	uint16_t flags;
} fspec;

static void addr(const char *s, uint8_t out[16], uint8_t *family)
{
	memset(out, 0, 16);
	if (strchr(s, ':')) {
		assert_int_equal(inet_pton(AF_INET6, s, out), 1);
		*family = CTP_AF_INET6;
	} else {
		assert_int_equal(inet_pton(AF_INET, s, out), 1);
		*family = CTP_AF_INET;
	}
}

static ctp_snapshot *table(const fspec *fs, size_t n)
{
	ctp_snapshot *snap;

	assert_int_equal(ctp_snapshot_new(&snap), 0);
	for (size_t i = 0; i < n; i++) {
		ctp_flow f;
		uint16_t in;

		memset(&f, 0, sizeof(f));
		assert_int_equal(ctp_snapshot_add_input(snap, "t",
							fs[i].ns ? fs[i].ns
								 : "",
							&in),
				 0);
		addr(fs[i].osrc, f.orig.src, &f.family);
		addr(fs[i].odst, f.orig.dst, &f.family);
		addr(fs[i].rsrc, f.reply.src, &f.family);
		addr(fs[i].rdst, f.reply.dst, &f.family);
		f.orig.sport = (uint16_t)fs[i].osport;
		f.orig.dport = (uint16_t)fs[i].odport;
		f.reply.sport = (uint16_t)fs[i].rsport;
		f.reply.dport = (uint16_t)fs[i].rdport;
		f.proto = fs[i].proto;
		f.state = fs[i].state;
		f.zone = fs[i].zone;
		f.flags = fs[i].flags | (fs[i].zone ? CTP_F_HAS_ZONE : 0);
		f.input = in;
		assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	}
	/* finalize would mark copies across inputs; flags are set here */
	return snap;
}

#define SRV "203.0.113.2"
#define NAT "203.0.113.1"
#define ICMP_ECHO CTP_ICMP_DPORT(8, 0)
#define ICMP_REPLY CTP_ICMP_DPORT(0, 0)

/* the Docker case, an ICMP id clash, the host's own use of a port, a
 * remap whose holder left, and flows the model must not see */
static const fspec docker[] = {
	/* 0: c1 keeps 29999 */
	{ NULL, CTP_P_TCP, "198.18.0.2", 29999, SRV, 80, SRV, 80, NAT, 29999,
	  CTP_TCP_ESTABLISHED, 0, 0 },
	/* 1: c2 from 29999 too: remapped, c1 holds it */
	{ NULL, CTP_P_TCP, "198.18.0.3", 29999, SRV, 80, SRV, 80, NAT, 29656,
	  CTP_TCP_ESTABLISHED, 0, 0 },
	/* 2: the host itself from 40000 to the same server port */
	{ NULL, CTP_P_TCP, NAT, 40000, SRV, 80, SRV, 80, NAT, 40000,
	  CTP_TCP_ESTABLISHED, 0, 0 },
	/* 3: c1 from 40000: remapped, held by the host's own entry */
	{ NULL, CTP_P_TCP, "198.18.0.2", 40000, SRV, 80, SRV, 80, NAT, 5000,
	  CTP_TCP_TIME_WAIT, 0, 0 },
	/* 4: remapped, nobody holds 41000 any more */
	{ NULL, CTP_P_TCP, "198.18.0.3", 41000, SRV, 80, SRV, 80, NAT, 6000,
	  CTP_TCP_CLOSE, 0, 0 },
	/* 5, 6: ping id 7 from two containers */
	{ NULL, CTP_P_ICMP, "198.18.0.2", 7, SRV, ICMP_ECHO, SRV, 7, NAT,
	  ICMP_REPLY, 0, 0, 0 },
	{ NULL, CTP_P_ICMP, "198.18.0.3", 7, SRV, ICMP_ECHO, SRV, 1234, NAT,
	  ICMP_REPLY, 0, 0, 0 },
	/* 7: inbound DNAT to c1 */
	{ NULL, CTP_P_TCP, SRV, 47266, NAT, 8080, "198.18.0.2", 80, SRV,
	  47266, CTP_TCP_ESTABLISHED, 0, 0 },
	/* 8: duplicate of 1 from another input: skipped */
	{ NULL, CTP_P_TCP, "198.18.0.3", 29999, SRV, 80, SRV, 80, NAT, 29656,
	  CTP_TCP_ESTABLISHED, 0, CTP_F_DUP },
	/* 9: a remapped event line: skipped */
	{ NULL, CTP_P_UDP, "198.18.0.3", 5353, SRV, 53, SRV, 53, NAT, 9999,
	  0, 0, CTP_F_EVENT },
	/* 10: the same tuples as 1 in another namespace, not remapped */
	{ "other", CTP_P_TCP, "198.18.0.3", 29999, SRV, 80, SRV, 80, NAT,
	  29999, CTP_TCP_ESTABLISHED, 0, 0 },
	/* 11: zone 7: its own group; same port as 0, no clash */
	{ NULL, CTP_P_TCP, "198.18.0.4", 29999, SRV, 80, SRV, 80, NAT, 29999,
	  CTP_TCP_ESTABLISHED, 7, 0 },
	/* 12: icmp without id (xml): counted apart */
	{ NULL, CTP_P_ICMP, "198.18.0.4", 0, SRV, 0, SRV, 0, NAT, 0, 0, 0,
	  CTP_F_NO_ICMP },
};

static const ctp_nat_group *find_group(const ctp_nat_result *r,
				       const char *ns, uint8_t proto,
				       uint16_t zone)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].ns, ns) == 0 &&
		    r->groups[i].proto == proto && r->groups[i].zone == zone)
			return &r->groups[i];
	return NULL;
}

static void test_docker_remaps(void **state)
{
	ctp_snapshot *snap = table(docker, sizeof(docker) / sizeof(docker[0]));
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_nat_result r;
	const ctp_nat_group *g;

	(void)state;
	o.samples = 2;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.entries, 11);
	assert_int_equal(r.snat, 9);  /* all but 2 (host) and 7 (DNAT) */
	assert_int_equal(r.dnat, 1);
	assert_int_equal(r.remapped, 4);
	assert_int_equal(r.no_icmp, 1);
	assert_int_equal(r.nremaps, 4);
	/* table order, each with its holder */
	assert_int_equal(r.remaps[0].flow, 1);
	assert_int_equal(r.remaps[0].holder, 0);
	assert_int_equal(r.remaps[0].reason, CTP_NAT_REASON_TAKEN);
	assert_int_equal(r.remaps[1].flow, 3);
	assert_int_equal(r.remaps[1].holder, 2);
	assert_int_equal(r.remaps[2].flow, 4);
	assert_int_equal(r.remaps[2].holder, CTP_NAT_NONE);
	assert_int_equal(r.remaps[2].reason, CTP_NAT_REASON_GONE);
	assert_int_equal(r.remaps[3].flow, 6);
	assert_int_equal(r.remaps[3].holder, 5);
	/* the tcp group of the host namespace, zone 0 */
	g = find_group(&r, "", CTP_P_TCP, 0);
	assert_non_null(g);
	assert_ptr_equal(&r.groups[r.remaps[0].group], g);
	assert_int_equal(g->entries, 5); /* 0 - 4 */
	assert_int_equal(g->snat_entries, 4);
	assert_int_equal(g->remapped, 3);
	assert_int_equal(g->evictable, 2); /* TIME_WAIT 3, CLOSE 4 */
	assert_int_equal(g->used, 5);
	assert_int_equal(g->range_lo, 1024);
	assert_int_equal(g->range_hi, 65535);
	assert_int_equal(g->range_src, CTP_NAT_RANGE_DEFAULT);
	assert_int_equal(g->random, 0);
	assert_true(fabs(g->utilization - 5.0 / 64512) < 1e-12);
	/* 40000 of the client ports is taken */
	assert_true(fabs(g->p_keep - (1 - 1.0 / 28232)) < 1e-12);
	assert_true(g->p_fail_next == 0);
	assert_true(g->util_p1 > 0.3 && g->util_p1 < g->util_p50);
	assert_true(g->util_p50 <= 1);
	/* the other namespace and zone 7 are groups of their own */
	g = find_group(&r, "other", CTP_P_TCP, 0);
	assert_non_null(g);
	assert_int_equal(g->entries, 1);
	assert_int_equal(g->remapped, 0);
	g = find_group(&r, "", CTP_P_TCP, 7);
	assert_non_null(g);
	assert_int_equal(g->entries, 1);
	g = find_group(&r, "", CTP_P_ICMP, 0);
	assert_non_null(g);
	assert_int_equal(g->range_lo, 0);
	assert_int_equal(g->range_hi, 65535);
	assert_int_equal(g->peer_port, ICMP_REPLY);
	assert_int_equal(g->used, 2);
	assert_int_equal(r.ngroups, 4);
	ctp_nat_result_release(&r);
	ctp_snapshot_free(snap);
}

/* n connections from ephemeral ports into --to-ports lo-(lo+n-1) */
static ctp_snapshot *to_ports(unsigned lo, unsigned n)
{
	fspec *fs = calloc(n, sizeof(*fs));
	ctp_snapshot *snap;

	assert_non_null(fs);
	for (unsigned i = 0; i < n; i++) {
		fs[i] = (fspec){ NULL, CTP_P_TCP, "198.18.0.2", 40000 + i,
				 SRV,  80,	  SRV,	  80,
				 NAT,  lo + i, CTP_TCP_ESTABLISHED,
				 0,    0 };
	}
	snap = table(fs, n);
	free(fs);
	return snap;
}

static void test_full_range(void **state)
{
	ctp_snapshot *snap = to_ports(20000, 10);
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_nat_result r;

	(void)state;
	o.samples = 2;
	/* inferred: 10 remapped ports in a window of 10 */
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.ngroups, 1);
	assert_int_equal(r.groups[0].range_src, CTP_NAT_RANGE_INFERRED);
	assert_int_equal(r.groups[0].range_lo, 20000);
	assert_int_equal(r.groups[0].range_hi, 20009);
	assert_int_equal(r.groups[0].used, 10);
	assert_true(r.groups[0].utilization == 1);
	assert_true(r.groups[0].p_keep == 0); /* clients are outside */
	assert_true(r.groups[0].p_fail_next == 1);
	assert_true(r.groups[0].util_p50 <= 1);
	for (size_t i = 0; i < r.nremaps; i++)
		assert_int_equal(r.remaps[i].reason, CTP_NAT_REASON_OUTSIDE);
	assert_int_equal(r.nremaps, 10);
	ctp_nat_result_release(&r);
	/* given: a wider range is not full */
	o.range_lo = 20000;
	o.range_hi = 20019;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.groups[0].range_src, CTP_NAT_RANGE_OPTION);
	assert_true(r.groups[0].utilization == 0.5);
	assert_true(r.groups[0].p_fail_next == 0); /* 20 <= 128: a scan */
	ctp_nat_result_release(&r);
	/* and a max of remaps listed, the rest counted */
	o.max_remaps = 3;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.nremaps, 3);
	assert_int_equal(r.remapped, 10);
	ctp_nat_result_release(&r);
	ctp_snapshot_free(snap);
}

static void test_no_inference(void **state)
{
	/* two remaps are too few to infer a range */
	ctp_snapshot *snap = to_ports(20000, 2);
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_nat_result r;

	(void)state;
	o.samples = 1;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.groups[0].range_src, CTP_NAT_RANGE_DEFAULT);
	assert_int_equal(r.remaps[0].reason, CTP_NAT_REASON_GONE);
	ctp_nat_result_release(&r);
	ctp_snapshot_free(snap);
	/* spread over 1024-65535, nothing kept: --random-fully */
	{
		fspec fs[8];

		for (unsigned i = 0; i < 8; i++)
			fs[i] = (fspec){ NULL, CTP_P_UDP, "198.18.0.2",
					 40000 + i, SRV, 53, SRV, 53, NAT,
					 1100 + 8000 * i, 0, 0, 0 };
		snap = table(fs, 8);
	}
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.groups[0].range_src, CTP_NAT_RANGE_DEFAULT);
	assert_int_equal(r.groups[0].random, 1);
	assert_true(r.groups[0].p_keep == 0);
	assert_int_equal(r.remaps[0].reason, CTP_NAT_REASON_RANDOM);
	ctp_nat_result_release(&r);
	ctp_snapshot_free(snap);
}

static void test_bad_options(void **state)
{
	ctp_snapshot *snap;
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_nat_result r;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	o.client_lo = 5;
	o.client_hi = 4;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), CTP_EFAIL);
	assert_string_equal(err.msg, "bad nat model options: port ranges "
				     "must lie within 0-65535");
	o = (ctp_nat_opts)CTP_NAT_OPTS_INIT;
	o.range_lo = 1;
	o.range_hi = 70000;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), CTP_EFAIL);
	/* an empty table is fine */
	o = (ctp_nat_opts)CTP_NAT_OPTS_INIT;
	assert_int_equal(ctp_nat_model_run(snap, &o, &r, &err), 0);
	assert_int_equal(r.ngroups, 0);
	assert_int_equal(r.entries, 0);
	ctp_nat_result_release(&r);
	ctp_nat_result_release(NULL);
	ctp_snapshot_free(snap);
	assert_string_equal(ctp_nat_reason_name(CTP_NAT_REASON_TAKEN),
			    "port_taken");
	assert_string_equal(ctp_nat_range_src_name(CTP_NAT_RANGE_INFERRED),
			    "inferred");
}

/* the same seed gives the same thresholds; the rover era's range fails
 * only when full */
static void test_thresholds(void **state)
{
	ctp_snapshot *snap = to_ports(20000, 2);
	ctp_nat_opts o = CTP_NAT_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_nat_result a, b;

	(void)state;
	o.samples = 2;
	o.range_lo = 20000;
	o.range_hi = 20999;
	assert_int_equal(ctp_nat_model_run(snap, &o, &a, &err), 0);
	assert_int_equal(ctp_nat_model_run(snap, &o, &b, &err), 0);
	assert_true(a.groups[0].util_p1 == b.groups[0].util_p1);
	assert_true(a.groups[0].util_p50 == b.groups[0].util_p50);
	assert_true(a.groups[0].util_p1 > 0.5 &&
		    a.groups[0].util_p1 < a.groups[0].util_p50);
	ctp_nat_result_release(&a);
	ctp_nat_result_release(&b);
	o.kernel = (ctp_kver){ 4, 4, 0 };
	assert_int_equal(ctp_nat_model_run(snap, &o, &a, &err), 0);
	assert_true(a.groups[0].util_p1 == 1 && a.groups[0].util_p50 == 1);
	ctp_nat_result_release(&a);
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eras),
		cmocka_unit_test(test_default_kernel),
		cmocka_unit_test(test_default_ranges),
		cmocka_unit_test(test_exact_vs_brute),
		cmocka_unit_test(test_wrap_anomaly),
		cmocka_unit_test(test_rounds_formula),
		cmocka_unit_test(test_simulated_search),
		cmocka_unit_test(test_docker_remaps),
		cmocka_unit_test(test_full_range),
		cmocka_unit_test(test_no_inference),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_thresholds),
	};

	return cmocka_run_group_tests_name("nat", tests, NULL, NULL);
}
