/*
 * Planner (analyzer/planner.c, analyzer/checks.c): the chain-share law,
 * the full-table drop model (the per-bucket formula and the <= 4.6 walk
 * against a simulation), recommendations checked independently with the
 * hash model itself, and the report sections and checks of a snapshot.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/report_tree.h"
#include "ctplan/analyze.h"
#include "ctplan/hash.h"
#include "ctplan/plan.h"

/* P(Poisson(l) >= k) the plain way, 1 - cdf */
static double tail_naive(double l, unsigned k)
{
	double term = exp(-l), cdf = 0;

	for (unsigned i = 0; i < k; i++) {
		cdf += term;
		term *= l / (i + 1);
	}
	return 1 - cdf;
}

static void test_long_share(void **state)
{
	static const struct {
		double load;
		unsigned k;
	} rows[] = { { 2, 8 }, { 8, 8 }, { 0.5, 3 }, { 3.2, 8 }, { 16, 8 } };
	double lam;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_true(fabs(ctp_plan_long_share(rows[i].load, rows[i].k) -
				 tail_naive(rows[i].load, rows[i].k)) < 1e-12);
	/* a load of 2 (the 5.15+ default at max): 0.11% in chains over 8 */
	assert_true(fabs(ctp_plan_long_share(2, 8) - 0.00109672) < 1e-8);
	assert_true(ctp_plan_long_share(0, 8) == 0);
	assert_true(ctp_plan_long_share(1e-3, 30) > 0);
	lam = ctp_plan_load_for_share(8, 0.01);
	assert_true(fabs(ctp_plan_long_share(lam, 8) - 0.01) < 1e-9);
	assert_true(fabs(lam - 2.906106) < 1e-5);
}

/*
 * The drop model against a simulation of the kernel's walk: nodes
 * thrown into buckets, the flow's bucket uniform, the rule's scan.
 */
static double simulate(const ctp_evict_rule *r, uint32_t buckets,
		       uint32_t entries, uint32_t evictable, unsigned tables,
		       unsigned trials, uint64_t seed)
{
	uint16_t *ev = calloc(buckets, sizeof(*ev));
	uint16_t *all = calloc(buckets, sizeof(*all));
	ctp_rng rng;
	unsigned drops = 0, n = 0;

	assert_non_null(ev);
	assert_non_null(all);
	ctp_rng_init(&rng, seed, 7);
	for (unsigned t = 0; t < tables; t++) {
		memset(ev, 0, buckets * sizeof(*ev));
		memset(all, 0, buckets * sizeof(*all));
		for (uint32_t e = 0; e < entries; e++)
			for (int d = 0; d < 2; d++) {
				uint32_t b = ctp_rng_below(&rng, buckets);
				all[b]++;
				ev[b] += e < evictable;
			}
		for (unsigned i = 0; i < trials; i++, n++) {
			uint32_t b = ctp_rng_below(&rng, buckets);
			unsigned passed = 0, found = 0;

			for (unsigned s = 0; s < buckets; s++) {
				uint32_t bb = (b + s) % buckets;
				if (ev[bb]) {
					found = 1;
					break;
				}
				passed += all[bb];
				if (r->era == CTP_EVICT_NODES
					    ? passed >= r->range
					    : s + 1 >= r->range)
					break;
			}
			drops += !found;
		}
	}
	free(ev);
	free(all);
	return (double)drops / n;
}

static void test_full_drop(void **state)
{
	static const struct {
		ctp_kver v;
		uint32_t buckets, entries, evictable;
	} rows[] = {
		{ { 6, 1, -1 }, 4096, 4096, 400 },  /* factor 1 */
		{ { 6, 1, -1 }, 1024, 4096, 100 },  /* factor 4 */
		{ { 4, 8, -1 }, 4096, 8192, 1500 }, /* one bucket */
		{ { 4, 4, -1 }, 4096, 16384, 2000 }, /* 8 nodes */
		{ { 3, 10, -1 }, 8192, 8192, 300 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const ctp_evict_rule *r = ctp_kernel_early_drop(&rows[i].v);
		double p = ctp_plan_full_drop_p(r, rows[i].buckets,
						rows[i].entries,
						rows[i].evictable);
		double m = simulate(r, rows[i].buckets, rows[i].entries,
				    rows[i].evictable, 20, 4000, i + 1);
		/* 80000 trials over 20 tables: binomial sd <= 0.0018; the
		 * model is Poisson, the simulation binomial */
		if (fabs(p - m) > 0.01)
			fail_msg("row %zu (%s): model %.4f, simulated %.4f", i,
				 r->name, p, m);
	}
	/* the closed form of the 8-bucket rule */
	assert_true(fabs(ctp_plan_full_drop_p(
				 ctp_kernel_early_drop(&rows[0].v), 1024, 1000,
				 100) -
			 pow(1 - 8.0 / 1024, 200)) < 1e-12);
	/* nothing evictable: every new flow is dropped; everything
	 * evictable in the <= 4.6 walk: never */
	assert_true(ctp_plan_full_drop_p(ctp_kernel_early_drop(&rows[0].v),
					 1024, 1000, 0) == 1);
	assert_true(ctp_plan_full_drop_p(ctp_kernel_early_drop(&rows[3].v),
					 1024, 1000, 1000) < 1e-12);
}

/* a snapshot of n random TCP flows, 198.18.0.0/15 to 203.0.113.0/24 */
static ctp_snapshot *flows(size_t n, unsigned assured_pct, uint64_t seed)
{
	ctp_snapshot *snap;
	uint16_t in;
	ctp_rng rng;

	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_snapshot_add_input(snap, "t", "", &in), 0);
	ctp_rng_init(&rng, seed, 3);
	for (size_t i = 0; i < n; i++) {
		ctp_flow f;

		memset(&f, 0, sizeof(f));
		f.input = in;
		f.extra = CTP_NO_EXTRA;
		f.family = CTP_AF_INET;
		f.proto = CTP_P_TCP;
		f.state = CTP_TCP_ESTABLISHED;
		f.orig.src[0] = 198;
		f.orig.src[1] = (uint8_t)(18 + ctp_rng_below(&rng, 2));
		f.orig.src[2] = (uint8_t)ctp_rng_below(&rng, 256);
		f.orig.src[3] = (uint8_t)ctp_rng_below(&rng, 256);
		f.orig.dst[0] = 203;
		f.orig.dst[1] = 0;
		f.orig.dst[2] = 113;
		f.orig.dst[3] = (uint8_t)(1 + ctp_rng_below(&rng, 254));
		f.orig.sport = (uint16_t)(32768 + ctp_rng_below(&rng, 28232));
		f.orig.dport = 443;
		memcpy(f.reply.src, f.orig.dst, 16);
		memcpy(f.reply.dst, f.orig.src, 16);
		f.reply.sport = f.orig.dport;
		f.reply.dport = f.orig.sport;
		if (ctp_rng_below(&rng, 100) < assured_pct)
			f.flags |= CTP_F_ASSURED;
		/* idle i % 100 seconds under the 432000 s timeout */
		f.flags |= CTP_F_HAS_TIMEOUT;
		f.timeout = (uint32_t)(432000 - (i % 100) * 3000);
		assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	}
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	return snap;
}

/*
 * The done-when of the planner: at the recommended buckets and max the
 * hash model itself (the kernel's real hash, sampled keys, filled to
 * max) meets the chain target, and the margin holds at the peak.
 */
static void test_recommendation_holds(void **state)
{
	static const struct {
		const char *kernel;
		size_t entries;
		double growth;
		unsigned max_chain;
	} rows[] = {
		{ "6.18", 30000, 1.5, 8 }, /* factor-1 aim binds */
		{ "5.10", 30000, 1.5, 8 }, /* the chain target binds */
		{ "4.19", 20000, 2, 6 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctp_plan_opts o = CTP_PLAN_OPTS_INIT;
		ctp_plan_input in;
		ctp_plan_result res;
		ctp_hash_opts ho = CTP_HASH_OPTS_INIT;
		ctp_hash_result hr;
		ctp_error err = CTP_ERROR_INIT;
		ctp_snapshot *snap = flows(rows[i].entries, 80, i + 11);
		double share, nodes = 0, longn = 0;

		memset(&in, 0, sizeof(in));
		assert_int_equal(ctp_kver_parse(rows[i].kernel,
						strlen(rows[i].kernel),
						&in.kernel, NULL),
				 0);
		o.max_chain = rows[i].max_chain;
		in.peak = (uint64_t)ceil(rows[i].entries * rows[i].growth);
		in.evictable = 0.2;
		in.bits = 64;
		in.ext_mask = CTP_EXT_ECACHE;
		assert_int_equal(ctp_plan_compute(&in, &o, &res, &err), 0);
		/* the margin at the peak */
		assert_true((double)(res.max - in.peak) / (double)res.max >=
			    o.margin);
		assert_int_equal(res.buckets % 512, 0);
		assert_int_equal(res.max % 1024, 0);

		ho.era = ctp_kernel_hash_era(&in.kernel);
		ctp_kernel_chain_limit(&in.kernel, &ho.limit);
		ho.buckets = (uint32_t)res.buckets;
		ho.keys = 4;
		ho.seed = 5;
		ho.at_max = res.max;
		assert_int_equal(ctp_hash_model_run(snap, &ho, &hr, &err), 0);
		assert_true(hr.has_at_max);
		assert_true(hr.at_max.fig.target_reached);
		for (size_t l = 0; l < hr.at_max.fig.hist_len; l++) {
			nodes += hr.at_max.fig.hist[l] * (double)l;
			if (l > rows[i].max_chain)
				longn += hr.at_max.fig.hist[l] * (double)l;
		}
		share = longn / nodes;
		if (!(share <= o.chain_share))
			fail_msg("%s: %.4f of nodes in chains over %u at %llu "
				 "entries in %llu buckets",
				 rows[i].kernel, share, rows[i].max_chain,
				 (unsigned long long)res.max,
				 (unsigned long long)res.buckets);
		if (rows[i].max_chain == 8)
			assert_true(hr.at_max.fig.share_over8 <= o.chain_share);
		ctp_hash_result_release(&hr);
		ctp_snapshot_free(snap);
	}
}

static void test_compute_rules(void **state)
{
	ctp_plan_opts o = CTP_PLAN_OPTS_INIT;
	ctp_plan_input in;
	ctp_plan_result res;
	ctp_error err = CTP_ERROR_INIT;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.kernel = (ctp_kver){ 6, 1, -1 };
	in.peak = 500000;
	in.evictable = 0.1;
	in.bits = 64;
	in.mem_kb = 16 * 1024 * 1024;
	in.cores = 4;
	in.ext_mask = CTP_EXT_ECACHE;
	assert_int_equal(ctp_plan_compute(&in, &o, &res, &err), 0);
	/* 500000 / 0.75 = 666667 -> 667648 (x 1024); load 2 -> buckets
	 * = max */
	assert_int_equal(res.max, 667648);
	assert_int_equal(res.buckets, 667648);
	assert_true(res.buckets_chain < res.buckets);
	/* more buckets per max: shorter chains, more drops when full */
	assert_true(res.full_drop_p > res.full_drop_p_chain);
	assert_int_equal(res.entry_bytes, 256 + 128);
	assert_int_equal(res.memory_bytes, 667648ull * 384 + 667648ull * 8);
	assert_true(res.has_default);
	assert_int_equal(res.def.max, 262144);
	/* kube-proxy with 4 cores: max(131072, 131072); the 262144
	 * buckets already exceed max / 4 */
	assert_string_equal(res.rules[1].name, "kube-proxy");
	assert_true(res.rules[1].known);
	assert_int_equal(res.rules[1].max, 131072);
	assert_int_equal(res.rules[1].buckets, 262144);
	assert_true(res.rules[1].headroom_pct < 0);
	/* max / 4 at ctplan's max: 8 nodes per bucket, chains too long */
	assert_int_equal(res.rules[2].buckets, 166912);
	assert_true(res.rules[2].long_share > 0.4);
	/* peak 0 and bad options */
	in.peak = 0;
	assert_int_equal(ctp_plan_compute(&in, &o, &res, &err), CTP_EFAIL);
	in.peak = 10;
	o.margin = 0.99;
	assert_int_equal(ctp_plan_compute(&in, &o, &res, &err), CTP_EFAIL);
}

static void set(ctp_snapshot *snap, const char *k, const char *v)
{
	assert_int_equal(ctp_snapshot_set_sysctl(snap, k, strlen(k), v,
						 strlen(v)),
			 0);
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* the report sections of a 1000-entry table (600 assured) and checks */
static void test_report(void **state)
{
	ctp_snapshot *snap = flows(1000, 60, 42);
	ctp_report *rep;
	ctp_analyze_opts ao = CTP_ANALYZE_OPTS_INIT;
	ctp_plan_opts po = CTP_PLAN_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	json_t *root, *hr, *w, *c;
	ctp_kver v = { 6, 1, -1 };
	double ev, p;

	(void)state;
	set(snap, "net.netfilter.nf_conntrack_max", "1200");
	set(snap, "net.netfilter.nf_conntrack_buckets", "1024");
	assert_int_equal(ctp_report_new(&rep), 0);
	ao.hash = 0;
	ao.has_kernel = 1;
	ao.kernel = v;
	po.growth = 1.1;
	ao.plan = &po;
	assert_int_equal(ctp_analyze_run(snap, &ao, rep, &err), 0);
	root = ctp_report_root(rep);

	/* table.full_drop_p: the mix at max, the 8-bucket rule */
	hr = json_object_get(root, "headroom");
	ev = num(json_object_get(hr, "full_table"), "evictable");
	p = num(json_object_get(root, "table"), "full_drop_p");
	assert_true(fabs(p - pow(1 - 8.0 / 1024, 2 * ev / 1000 * 1200)) <
		    1e-12);
	assert_true(ev > 300 && ev < 500);
	/* growth 1.1: peak 1100 of 1200: 8.33% free */
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(hr, "growth"), "peak")),
			 1100);
	/* idle: timeouts 432000 - (i % 100) * 3000: idle >= 86400 s is
	 * i % 100 >= 29 (71 of 100), >= 3600 s is i % 100 >= 2 (98) */
	w = json_object_get(json_object_get(json_object_get(hr, "idle"),
					    "tcp_established"),
			    "what_if");
	assert_int_equal(json_array_size(w), 2);
	assert_int_equal(num(json_array_get(w, 0), "timeout_s"), 86400);
	assert_int_equal(num(json_array_get(w, 0), "freed"), 710);
	assert_int_equal(num(json_array_get(w, 1), "freed"), 980);
	/* no MemTotal: no defaults */
	assert_true(json_is_null(json_object_get(
		json_object_get(root, "defaults"), "max")));
	/* recommendation: 1100 / 0.75 = 1467 -> 2048 */
	assert_int_equal(num(json_object_get(root, "recommendation"), "max"),
			 2048);
	assert_true(json_array_size(json_object_get(
			    json_object_get(root, "recommendation"),
			    "reasons")) >= 4);
	/* checks: the margin fails (8.3% < 25%), chains at 1200 entries in
	 * 1024 buckets (load 2.34) pass by Poisson, NAT passes */
	c = json_object_get(root, "checks");
	assert_int_equal(json_array_size(c), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(c, 0), "name")),
			    "headroom_pct_at_peak");
	assert_true(json_is_false(json_object_get(json_array_get(c, 0), "ok")));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(c, 1), "source")),
			    "poisson");
	assert_true(json_is_true(json_object_get(json_array_get(c, 1), "ok")));
	assert_int_equal(ctp_checks_failed(rep), 1);
	ctp_report_free(rep);
	ctp_snapshot_free(snap);
}

/* kube-proxy's write rule of nf_conntrack_max by version
 * (analyzer/planner.c, near KUBE_PER_CORE: #103174, #120448, #142035) */
static void test_kube_write(void **state)
{
	(void)state;
	assert_int_equal(ctp_plan_kube_write(0, 0), CTP_KUBE_WRITE_UNKNOWN);
	assert_int_equal(ctp_plan_kube_write(1, 12), CTP_KUBE_WRITE_EXACT);
	assert_int_equal(ctp_plan_kube_write(1, 21), CTP_KUBE_WRITE_EXACT);
	assert_int_equal(ctp_plan_kube_write(1, 22), CTP_KUBE_WRITE_RAISE);
	assert_int_equal(ctp_plan_kube_write(1, 28), CTP_KUBE_WRITE_RAISE);
	assert_int_equal(ctp_plan_kube_write(1, 29), CTP_KUBE_WRITE_EXACT);
	assert_int_equal(ctp_plan_kube_write(1, 35), CTP_KUBE_WRITE_EXACT);
	assert_int_equal(ctp_plan_kube_write(1, 36), CTP_KUBE_WRITE_PATCH);
	assert_int_equal(ctp_plan_kube_write(1, 37), CTP_KUBE_WRITE_PATCH);
	assert_int_equal(ctp_plan_kube_write(1, 38), CTP_KUBE_WRITE_RAISE);
	assert_string_equal(ctp_plan_kube_write_name(CTP_KUBE_WRITE_PATCH),
			    "depends-on-patch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_share),
		cmocka_unit_test(test_full_drop),
		cmocka_unit_test(test_recommendation_holds),
		cmocka_unit_test(test_compute_rules),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_kube_write),
	};

	return cmocka_run_group_tests_name("analyzer/planner", tests, NULL,
					   NULL);
}
