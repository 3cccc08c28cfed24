/*
 * The chain model (ctp_hash_model_run, analyzer/hash.c and its parts): sampled
 * histograms against the balls-into-bins law, reproducibility from the
 * seed, the kernel's chain limit, filling to a target, namespaces.
 *
 * Statistical checks use a fixed seed, so they are deterministic; the
 * bounds are set where a correct uniform hash fails with probability
 * below 1e-4 (chi-square) or beyond 5 standard deviations.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/hash.h"

/* Random flow of rng: tcp/udp mostly, some icmp and gre, v4 and v6. */
static void random_flow(ctp_rng *rng, ctp_flow *f, uint16_t input)
{
	static const uint8_t protos[] = { 6, 6, 6, 17, 17, 1, 47, 58, 132 };
	uint8_t p = protos[ctp_rng_below(rng, sizeof(protos))];

	memset(f, 0, sizeof(*f));
	f->input = input;
	f->extra = CTP_NO_EXTRA;
	f->proto = p;
	f->family = (p == 58 || ctp_rng_below(rng, 4) == 0) ? 10 : 2;
	for (int i = 0; i < (f->family == 2 ? 4 : 16); i++) {
		f->orig.src[i] = (uint8_t)ctp_rng_next(rng);
		f->orig.dst[i] = (uint8_t)ctp_rng_next(rng);
	}
	if (ctp_proto_is_icmp(p)) {
		uint8_t type = p == 1 ? 8 : 128;

		f->orig.sport = (uint16_t)ctp_rng_next(rng);
		f->orig.dport = CTP_ICMP_DPORT(type, 0);
		f->reply.sport = f->orig.sport;
		f->reply.dport = CTP_ICMP_DPORT(p == 1 ? 0 : 129, 0);
	} else {
		f->orig.sport = (uint16_t)(1024 + ctp_rng_below(rng, 64512));
		f->orig.dport = (uint16_t)(1 + ctp_rng_below(rng, 1023));
		f->reply.sport = f->orig.dport;
		f->reply.dport = f->orig.sport;
	}
	memcpy(f->reply.src, f->orig.dst, 16);
	memcpy(f->reply.dst, f->orig.src, 16);
}

static ctp_snapshot *random_snapshot(uint64_t seed, size_t n, unsigned nns)
{
	ctp_snapshot *snap;
	uint16_t in[4];
	ctp_rng rng;
	ctp_flow f;

	assert_int_equal(ctp_snapshot_new(&snap), 0);
	for (unsigned i = 0; i < nns; i++) {
		char ns[8] = "ns0";

		ns[2] = (char)('0' + i);
		assert_int_equal(ctp_snapshot_add_input(snap, ns, i ? ns : "",
							&in[i]),
				 0);
	}
	ctp_rng_init(&rng, seed, 99);
	for (size_t i = 0; i < n; i++) {
		random_flow(&rng, &f, in[i % nns]);
		assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	}
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	return snap;
}

static ctp_hash_opts opts_for(ctp_hash_era era, uint32_t buckets)
{
	ctp_hash_opts o = CTP_HASH_OPTS_INIT;

	o.era = era;
	o.buckets = buckets;
	o.keys = 8;
	o.seed = 12345;
	return o;
}

static double hist_sum(const double *h, size_t n, int weighted)
{
	double s = 0;

	for (size_t l = 0; l < n; l++)
		s += weighted ? l * h[l] : h[l];
	return s;
}

/*
 * 65536 entries (131072 nodes) in 65536 buckets, load 2, every era.
 * Per key the number of empty buckets has mean B e^-L and variance about
 * B e^-L (1 - (1 + L) e^-L) (occupancy of B bins by n balls); the mean
 * over 8 keys is held to 5 standard deviations.  The chi-square of the
 * summed histogram must have p > 1e-4.
 */
static void test_poisson_every_era(void **state)
{
	const uint32_t B = 65536;
	ctp_snapshot *snap = random_snapshot(7, 65536, 1);

	(void)state;
	for (int era = 0; era < CTP_ERA_COUNT; era++) {
		ctp_hash_opts o = opts_for((ctp_hash_era)era, B);
		ctp_hash_result res;
		ctp_error err = CTP_ERROR_INIT;
		const ctp_hash_figures *f;
		const ctp_hash_poisson *p;
		double lambda = 2.0, e0, sd;

		assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
		f = &res.now.fig;
		p = &res.now.poisson;
		assert_int_equal(res.entries, 65536);
		assert_int_equal(res.tables, 1);
		assert_true(f->entries == 65536 && f->nodes == 131072);
		assert_true(fabs(f->load - 2.0) < 1e-12);
		/* every node is in the histogram, every bucket counted */
		assert_true(fabs(hist_sum(f->hist, f->hist_len, 0) - B) < 1e-6);
		assert_true(fabs(hist_sum(f->hist, f->hist_len, 1) - 131072) <
			    1e-6);
		e0 = B * exp(-lambda);
		sd = sqrt(e0 * (1 - (1 + lambda) * exp(-lambda)) / 8);
		if (fabs(f->hist[0] - e0) > 5 * sd)
			fail_msg("era %d: %.1f empty buckets, expected %.1f "
				 "+- %.1f",
				 era, f->hist[0], e0, sd);
		assert_true(fabs(p->hist[0] - e0) < 1e-6);
		if (p->chi2_p < 1e-4 || p->mismatch)
			fail_msg("era %d: chi2 %.1f, df %u, p %.3g", era,
				 p->chi2, p->chi2_df, p->chi2_p);
		/* mean over occupied: 2N / (B - empty); Poisson: L / (1 -
		 * e^-L) = 2.3130 */
		assert_true(fabs(p->mean_occupied - lambda /
						     (1 - exp(-lambda))) <
			    1e-9);
		assert_true(fabs(f->mean_occupied - p->mean_occupied) < 0.01);
		/* a stored entry's chain holds 1 + Poisson(2) nodes:
		 * P(<= 7) = 0.9955, P(<= 8) = 0.99890, P(<= 9) = 0.99976, so
		 * p99 = 7, p99.9 = 9, share in chains > 8 = 0.0011 */
		assert_int_equal(p->p99, 7);
		assert_int_equal(p->p999, 9);
		assert_int_equal(f->p99, 7);
		assert_true(f->p999 >= 8 && f->p999 <= 10);
		assert_true(fabs(p->share_over8 - 0.0011) < 0.0001);
		assert_true(fabs(f->share_over8 - p->share_over8) < 0.0006);
		/* longest of 65536 Poisson(2) buckets: P(max <= 9) =
		 * 0.999954^65536 = 0.05, P(max <= 10) = 0.59: median 10.
		 * P(max <= 7) = e^-72; P(max > 16) < 4e-6 a key */
		assert_int_equal(p->longest_median, 10);
		assert_true(f->longest_min >= 8 && f->longest_max <= 16);
		/* no limit configured: nothing refused */
		assert_true(f->p_next == 0 && f->refused == 0);
		assert_true(f->target_reached);
		ctp_hash_result_release(&res);
	}
	ctp_snapshot_free(snap);
}

static void assert_same_state(const ctp_hash_state *a,
			      const ctp_hash_state *b)
{
	assert_int_equal(a->fig.hist_len, b->fig.hist_len);
	assert_memory_equal(a->fig.hist, b->fig.hist,
			    a->fig.hist_len * sizeof(double));
	assert_int_equal(a->fig.longest_min, b->fig.longest_min);
	assert_int_equal(a->fig.longest_max, b->fig.longest_max);
	assert_true(a->fig.p_next == b->fig.p_next);
	assert_true(a->fig.refused == b->fig.refused);
	assert_true(a->fig.entries == b->fig.entries);
}

/* Same seed: same figures, whatever the thread count; other seed: not */
static void test_seed_reproducible(void **state)
{
	ctp_snapshot *snap = random_snapshot(3, 20000, 1);
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH48, 4096);
	ctp_hash_result a, b, c;
	ctp_error err = CTP_ERROR_INIT;
	ctp_kver v = { 5, 15, 0 };

	(void)state;
	ctp_kernel_chain_limit(&v, &o.limit); /* 8..31: refusals happen */
	o.at_max = 30000;
	o.threads = 1;
	assert_int_equal(ctp_hash_model_run(snap, &o, &a, &err), 0);
	o.threads = 2;
	assert_int_equal(ctp_hash_model_run(snap, &o, &b, &err), 0);
	assert_true(a.now.fig.refused > 0);
	assert_same_state(&a.now, &b.now);
	assert_same_state(&a.at_max, &b.at_max);
	assert_int_equal(a.resampled, b.resampled);
	o.seed++;
	assert_int_equal(ctp_hash_model_run(snap, &o, &c, &err), 0);
	assert_true(c.now.fig.hist_len != a.now.fig.hist_len ||
		    memcmp(c.now.fig.hist, a.now.fig.hist,
			   a.now.fig.hist_len * sizeof(double)) != 0);
	ctp_hash_result_release(&a);
	ctp_hash_result_release(&b);
	ctp_hash_result_release(&c);
	ctp_snapshot_free(snap);
}

/*
 * Far too few buckets for the kernel's limit (6.18: max_chainlen 50..79,
 * refused at >= max_chainlen + 2 nodes): 60000 entries in 512 buckets
 * would be 234 nodes a bucket.  Chains are capped: no chain passes
 * 79 + 3 (orig and reply may join the same chain of 80), inserts are
 * refused, the next one too, and the capped table is not Poisson.
 */
static void test_chain_limit_caps(void **state)
{
	ctp_snapshot *snap = random_snapshot(11, 60000, 1);
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 512);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;
	ctp_kver v = { 6, 18, 0 };
	const ctp_hash_figures *f;

	(void)state;
	ctp_kernel_chain_limit(&v, &o.limit);
	assert_true(o.limit.enabled && o.limit.min == 50 &&
		    o.limit.span == 30);
	o.keys = 4;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	f = &res.now.fig;
	assert_true(f->longest_max <= 82);
	assert_true(f->longest_min >= 52);
	/* at most ~81 nodes in each of 512 buckets: ~20700 entries */
	assert_true(f->entries < 21000 && f->entries > 15000);
	assert_false(f->target_reached);
	assert_true(f->refused > 0.5);
	assert_true(f->p_next > 0.5 && f->p_next <= 1);
	assert_true(res.now.poisson.mismatch);
	/* Poisson at this load would put chains far past the cap */
	assert_true(res.now.poisson.longest_median > 82);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

/*
 * p_next is 1 - mean over max_chainlen m of G(m + 1)^2, G(x) the share
 * of buckets holding x nodes or fewer; with one key it follows exactly
 * from the histogram returned.
 */
static void test_p_next_formula(void **state)
{
	ctp_snapshot *snap = random_snapshot(5, 30000, 1);
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 4096);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;
	const ctp_hash_figures *f;
	double acc = 0;

	(void)state;
	o.keys = 1;
	o.limit.enabled = 1;
	o.limit.min = 20;
	o.limit.span = 6;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	f = &res.now.fig;
	for (unsigned m = 20; m < 26; m++) {
		double g = 0;

		for (size_t l = 0; l <= m + 1 && l < f->hist_len; l++)
			g += f->hist[l];
		g /= 4096;
		acc += g * g;
	}
	assert_true(fabs(f->p_next - (1 - acc / 6)) < 1e-12);
	assert_true(f->p_next > 0);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

/* Fill to a target: resampled entries, still Poisson, twice the nodes */
static void test_at_max(void **state)
{
	ctp_snapshot *snap = random_snapshot(9, 10000, 1);
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 16384);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;
	const ctp_hash_figures *f;

	(void)state;
	o.at_max = 16384;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	assert_true(res.has_at_max);
	assert_int_equal(res.at_max_target, 16384);
	f = &res.at_max.fig;
	assert_true(f->target_reached);
	assert_true(f->entries == 16384 && f->nodes == 32768);
	assert_true(fabs(f->load - 2.0) < 1e-12);
	assert_int_equal(res.resampled >= 6384, 1);
	assert_true(res.resample_bases == res.entries);
	assert_false(res.at_max.poisson.mismatch);
	assert_true(res.at_max.poisson.chi2_p > 1e-4);
	assert_true(res.now.fig.entries == 10000);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

/*
 * Three flows sharing src, dst and dport leave 64512 source ports: the
 * fill stops there (the kernel never holds equal tuples) instead of
 * stacking copies of the same tuple in one chain.
 */
static void test_at_max_exhausts_ports(void **state)
{
	ctp_snapshot *snap;
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 65536);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;
	uint16_t in;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_snapshot_add_input(snap, "t", "", &in), 0);
	for (int i = 0; i < 3; i++) {
		ctp_flow f;

		memset(&f, 0, sizeof(f));
		f.family = 2;
		f.proto = 6;
		f.input = in;
		f.orig.src[0] = 10;
		f.orig.src[3] = 1;
		f.orig.dst[0] = 10;
		f.orig.dst[3] = 2;
		f.orig.sport = (uint16_t)(40000 + i);
		f.orig.dport = 443;
		memcpy(f.reply.src, f.orig.dst, 16);
		memcpy(f.reply.dst, f.orig.src, 16);
		f.reply.sport = 443;
		f.reply.dport = f.orig.sport;
		assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	}
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	o.keys = 2;
	o.at_max = 100000;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	/* the observed tuples give at most 64512 entries: a sample that
	 * finds no free port in 64 draws ends them (at occupancy x with
	 * probability x^64: near 90 %, before 50000 (x = 0.775) with
	 * probability below 1e-4); the rest of the fill is balls into
	 * bins, so the table at max is full */
	assert_true(res.at_max.fig.target_reached);
	assert_true(fabs(res.at_max.fig.entries - 100000) < 1e-9);
	assert_true(res.at_max.fig.entries - res.at_max.fig.uniform <= 64512);
	assert_true(res.at_max.fig.entries - res.at_max.fig.uniform > 50000);
	assert_false(res.at_max.poisson.mismatch);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

/*
 * Masqueraded flows of three hosts to one server share their reply
 * tuple's addresses and ports but the port the NAT kept: resampling must
 * keep reply tuples unique too (NAT does), or equal reply tuples pile up
 * in the same chains and the table stops looking uniform.
 */
static void test_at_max_masquerade(void **state)
{
	ctp_snapshot *snap;
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 32768);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;
	uint16_t in;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_snapshot_add_input(snap, "t", "", &in), 0);
	for (int i = 0; i < 3; i++) {
		ctp_flow f;

		memset(&f, 0, sizeof(f));
		f.family = 2;
		f.proto = 6;
		f.input = in;
		f.orig.src[0] = 198;
		f.orig.src[1] = 18;
		f.orig.src[3] = (uint8_t)(2 + i);
		f.orig.dst[0] = 203;
		f.orig.dst[2] = 113;
		f.orig.dst[3] = 2;
		f.orig.sport = (uint16_t)(45926 + i);
		f.orig.dport = 80;
		/* reply to the masquerading address 203.0.113.1 */
		memcpy(f.reply.src, f.orig.dst, 16);
		f.reply.dst[0] = 203;
		f.reply.dst[2] = 113;
		f.reply.dst[3] = 1;
		f.reply.sport = 80;
		f.reply.dport = f.orig.sport;
		assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	}
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	o.at_max = 40000;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	assert_true(res.at_max.fig.target_reached);
	if (res.at_max.poisson.chi2_p < 1e-4)
		fail_msg("chi2 %.1f, df %u, p %.3g", res.at_max.poisson.chi2,
			 res.at_max.poisson.chi2_df, res.at_max.poisson.chi2_p);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

/*
 * Two namespaces: one shared table from 4.7 on (each with its own net
 * mix), one table each before.  Events and duplicates are not placed;
 * ICMP without type/code/id is counted as inexact.
 */
static void test_namespaces_and_skips(void **state)
{
	ctp_snapshot *snap = random_snapshot(13, 8192, 2);
	ctp_hash_opts o = opts_for(CTP_ERA_JHASH, 4096);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;

	(void)state;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	assert_int_equal(res.namespaces, 2);
	assert_int_equal(res.tables, 2);
	assert_true(fabs(hist_sum(res.now.fig.hist, res.now.fig.hist_len, 0) -
			 8192) < 1e-6);
	assert_true(fabs(res.now.fig.load - 2.0) < 1e-12);
	assert_false(res.now.poisson.mismatch);
	ctp_hash_result_release(&res);

	o.era = CTP_ERA_SIPHASH39;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	assert_int_equal(res.tables, 1);
	assert_true(fabs(res.now.fig.load - 4.0) < 1e-12);
	assert_false(res.now.poisson.mismatch);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

static void test_skips(void **state)
{
	ctp_snapshot *snap;
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 1024);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;
	uint16_t a, b;
	ctp_rng rng;
	ctp_flow f;

	(void)state;
	ctp_rng_init(&rng, 1, 1);
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	/* same namespace twice: the second copy is a duplicate */
	assert_int_equal(ctp_snapshot_add_input(snap, "a", "", &a), 0);
	assert_int_equal(ctp_snapshot_add_input(snap, "b", "", &b), 0);
	random_flow(&rng, &f, a);
	f.proto = 6;
	assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	f.input = b;
	assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	random_flow(&rng, &f, a);
	f.flags |= CTP_F_EVENT;
	assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	random_flow(&rng, &f, a);
	f.proto = 1;
	f.orig.sport = f.orig.dport = f.reply.sport = f.reply.dport = 0;
	f.flags |= CTP_F_NO_ICMP;
	assert_int_equal(ctp_snapshot_add_flow(snap, &f, NULL), 0);
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	assert_int_equal(res.namespaces, 1);
	assert_int_equal(res.entries, 2);
	assert_int_equal(res.skipped, 2);
	assert_int_equal(res.inexact, 1);
	assert_int_equal(res.resample_bases, 1);
	ctp_hash_result_release(&res);
	ctp_snapshot_free(snap);
}

static void test_empty_and_bad(void **state)
{
	ctp_snapshot *snap;
	ctp_hash_opts o = opts_for(CTP_ERA_SIPHASH39, 1000);
	ctp_hash_result res;
	ctp_error err = CTP_ERROR_INIT;

	(void)state;
	assert_int_equal(ctp_snapshot_new(&snap), 0);
	assert_int_equal(ctp_snapshot_finalize(snap), 0);
	o.at_max = 100;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), 0);
	assert_int_equal(res.entries, 0);
	assert_true(res.now.fig.hist_len == 1 && res.now.fig.hist[0] == 1000);
	assert_true(res.now.fig.mean_occupied == 0);
	assert_int_equal(res.now.fig.p99, 0);
	/* nothing to resample from: the whole fill is balls into bins */
	assert_true(res.at_max.fig.target_reached);
	assert_true(fabs(res.at_max.fig.uniform - 100) < 1e-9);
	ctp_hash_result_release(&res);
	o.buckets = 0;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), CTP_EFAIL);
	assert_string_equal(err.msg, "cannot run the hash model: need an era, "
				     "buckets > 0 and 1 to 65536 keys");
	o.buckets = 10;
	o.keys = 0;
	assert_int_equal(ctp_hash_model_run(snap, &o, &res, &err), CTP_EFAIL);
	ctp_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poisson_every_era),
		cmocka_unit_test(test_seed_reproducible),
		cmocka_unit_test(test_chain_limit_caps),
		cmocka_unit_test(test_p_next_formula),
		cmocka_unit_test(test_at_max),
		cmocka_unit_test(test_at_max_exhausts_ports),
		cmocka_unit_test(test_at_max_masquerade),
		cmocka_unit_test(test_namespaces_and_skips),
		cmocka_unit_test(test_skips),
		cmocka_unit_test(test_empty_and_bad),
	};

	return cmocka_run_group_tests_name("hash_model", tests, NULL, NULL);
}
