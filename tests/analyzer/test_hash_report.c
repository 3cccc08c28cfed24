/*
 * The "hash" report section (analyzer/hash_report.c): which kernel,
 * table size and fill target it takes from the snapshot, the JSON keys
 * docs/report.md promises, skipping without a table size, the findings,
 * --no-hash, and reproducibility from the seed.
 *
 * The model's statistics are tested in test_hash_model.c; here the
 * figures are checked for consistency (every bucket and every node in
 * the histogram) and against values that follow from the input alone.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctplan/report_tree.h"
#include "ctplan/analyze.h"
#include "ctplan/hash.h"

/* the model alone, on an analysis of snap (the host context) */
static int run_hash_report(const ctp_snapshot *snap,
			  const ctp_analyze_opts *opts, ctp_report *rep,
			  ctp_error *err)
{
	ctp_analysis *a;
	int rc = ctp_analysis_new(snap, opts, &a, err);

	if (!rc)
		rc = ctp_hash_report(a, rep, err);
	ctp_analysis_free(a);
	return rc;
}

typedef struct fixture {
	ctp_snapshot *snap;
	uint16_t in;
	ctp_rng rng;
} fixture;

static void fx_init(fixture *fx, const char *ns)
{
	assert_int_equal(ctp_snapshot_new(&fx->snap), 0);
	assert_int_equal(ctp_snapshot_add_input(fx->snap, "t", ns, &fx->in),
			 0);
	/* a table listing, so the model runs */
	ctp_snapshot_input_mut(fx->snap, fx->in)->formats |= CTP_FMT_LIST;
	ctp_rng_init(&fx->rng, 42, 0);
}

static void add_input(fixture *fx, const char *ns)
{
	assert_int_equal(ctp_snapshot_add_input(fx->snap, ns, ns, &fx->in),
			 0);
	ctp_snapshot_input_mut(fx->snap, fx->in)->formats |= CTP_FMT_LIST;
}

static void sysctl(fixture *fx, const char *key, const char *val)
{
	assert_int_equal(ctp_snapshot_set_sysctl(fx->snap, key, strlen(key),
						 val, strlen(val)),
			 0);
}

/* n random IPv4 udp flows from 198.18.0.0/15 to 203.0.113.0/24 */
static void add_flows(fixture *fx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ctp_flow f;
		uint32_t r = (uint32_t)ctp_rng_next(&fx->rng);

		memset(&f, 0, sizeof(f));
		f.extra = CTP_NO_EXTRA;
		f.input = fx->in;
		f.family = CTP_AF_INET;
		f.proto = CTP_P_UDP;
		f.orig.src[0] = 198;
		f.orig.src[1] = (uint8_t)(18 + (r & 1));
		f.orig.src[2] = (uint8_t)(r >> 8);
		f.orig.src[3] = (uint8_t)(r >> 16);
		f.orig.dst[0] = 203;
		f.orig.dst[2] = 113;
		f.orig.dst[3] = (uint8_t)(r >> 24);
		f.orig.sport =
			(uint16_t)(1024 + ctp_rng_below(&fx->rng, 64512));
		f.orig.dport = 53;
		memcpy(f.reply.src, f.orig.dst, 16);
		memcpy(f.reply.dst, f.orig.src, 16);
		f.reply.sport = f.orig.dport;
		f.reply.dport = f.orig.sport;
		assert_int_equal(ctp_snapshot_add_flow(fx->snap, &f, NULL), 0);
	}
}

/* Finalize, run the hash model alone, return the report. */
static ctp_report *run(fixture *fx, const ctp_analyze_opts *o)
{
	ctp_report *rep;
	ctp_error err = CTP_ERROR_INIT;

	assert_int_equal(ctp_snapshot_finalize(fx->snap), 0);
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(run_hash_report(fx->snap, o, rep, &err), 0);
	return rep;
}

static json_t *hash_of(ctp_report *rep)
{
	json_t *h = json_object_get(ctp_report_root(rep), "hash");

	assert_non_null(h);
	return h;
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		fail_msg("'%s' is not a number", key);
	return json_number_value(v);
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

/* the finding with this code, or NULL */
static json_t *finding(ctp_report *rep, const char *code)
{
	json_t *arr = json_object_get(ctp_report_root(rep), "findings"), *f;
	size_t i;

	json_array_foreach(arr, i, f)
		if (strcmp(json_string_value(json_object_get(f, "code")),
			   code) == 0)
			return f;
	return NULL;
}

/* Every figure key of docs/report.md, consistent with the table size. */
static void check_state(json_t *st, double buckets, double entries)
{
	static const char *const keys[] = {
		"entries", "nodes", "load", "histogram", "mean_chain", "p99",
		"p999", "longest", "share_over8", "chaintoolong_p_next",
		"attempts", "refused_share", "target_reached", "poisson",
	};
	static const char *const pkeys[] = {
		"histogram", "mean_chain", "p99", "p999", "longest_median",
		"share_over8", "chaintoolong_p_next", "chi2", "chi2_df",
		"chi2_p", "mismatch",
	};
	json_t *hist = json_object_get(st, "histogram"), *v;
	json_t *lg = json_object_get(st, "longest");
	double sum = 0, nodes = 0;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(st, keys[i]))
			fail_msg("figure '%s' missing", keys[i]);
	for (i = 0; i < sizeof(pkeys) / sizeof(pkeys[0]); i++)
		if (!json_object_get(json_object_get(st, "poisson"), pkeys[i]))
			fail_msg("poisson '%s' missing", pkeys[i]);
	assert_true(fabs(num(st, "entries") - entries) < 1e-9);
	assert_true(fabs(num(st, "nodes") - 2 * entries) < 1e-9);
	assert_true(fabs(num(st, "load") - 2 * entries / buckets) < 1e-9);
	/* histogram[l]: buckets holding l nodes; all buckets, all nodes */
	json_array_foreach(hist, i, v) {
		sum += json_number_value(v);
		nodes += (double)i * json_number_value(v);
	}
	assert_true(fabs(sum - buckets) < 1e-3 * json_array_size(hist));
	assert_true(fabs(nodes - 2 * entries) <
		    1e-3 * json_array_size(hist) * json_array_size(hist));
	/* the array ends at the longest chain of some key */
	assert_int_equal(json_array_size(hist) - 1,
			 (size_t)num(lg, "max"));
	assert_true(num(lg, "min") <= num(lg, "median") &&
		    num(lg, "median") <= num(lg, "max"));
	assert_true(num(st, "p99") <= num(st, "p999") &&
		    num(st, "p999") <= num(lg, "max"));
}

/* 5000 entries in 4096 buckets on 6.18, max 8000: every key present,
 * consistent, the 6.3+ chain limit, kernel the newest known. */
static void test_keys_and_consistency(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	fixture fx;
	ctp_report *rep;
	json_t *h, *lim, *am;

	(void)state;
	fx_init(&fx, "");
	add_flows(&fx, 5000);
	sysctl(&fx, "net.netfilter.nf_conntrack_buckets", "4096");
	sysctl(&fx, "net.netfilter.nf_conntrack_max", "8000");
	rep = run(&fx, &o);
	h = hash_of(rep);
	assert_string_equal(str(h, "algorithm"), "siphash-2-4");
	assert_string_equal(str(h, "era"), "siphash39");
	assert_string_equal(str(h, "kernel_source"), "assumed: the newest known");
	assert_string_equal(str(h, "buckets_source"),
			    "sysctl net.netfilter.nf_conntrack_buckets");
	assert_true(num(h, "buckets") == 4096);
	assert_true(num(h, "keys") == 8 && num(h, "seed") == 1);
	assert_true(json_is_null(json_object_get(h, "skipped")));
	assert_true(num(h, "placed") == 5000 && num(h, "namespaces") == 1 &&
		    num(h, "tables") == 1 && num(h, "inexact") == 0);
	/* 50 + random[0, 30): refused from 52 nodes, always at 81 */
	lim = json_object_get(h, "chain_limit");
	assert_true(num(lim, "min") == 50 && num(lim, "span") == 30);
	assert_true(num(lim, "refuse_from") == 52 &&
		    num(lim, "refuse_all_from") == 81);
	check_state(h, 4096, 5000);
	/* load 2.44: far from the limit, nothing refused */
	assert_true(num(h, "chaintoolong_p_next") == 0);
	assert_true(num(h, "refused_share") == 0);
	assert_true(num(h, "attempts") == 5000);
	assert_true(json_is_true(json_object_get(h, "target_reached")));

	am = json_object_get(h, "at_max");
	assert_true(json_is_object(am));
	assert_true(num(am, "target") == 8000);
	check_state(am, 4096, 8000);
	assert_true(json_is_null(json_object_get(h, "at_max_skipped")));
	assert_true(num(h, "resampled") >= 3000);
	/* load 3.9 at max: about 4.6% in chains > 8 (Poisson), over the
	 * rule; without the planner the action names 2 * 8000 / 2.906 ->
	 * 5632 buckets */
	assert_true(num(am, "share_over8") > 0.01);
	{
		json_t *f = finding(rep, "hash.chains_over8_at_max");

		assert_non_null(f);
		assert_string_equal(str(f, "severity"), "warning");
		assert_string_equal(str(f, "action"),
				    "raise nf_conntrack_buckets to at least "
				    "5632");
	}
	assert_null(finding(rep, "hash.chains_over8"));
	assert_null(finding(rep, "hash.chaintoolong"));
	assert_null(finding(rep, "hash.poisson_mismatch"));
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);
}

/* No table size: skipped, same shape, figures null, an info finding. */
static void test_no_buckets(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	fixture fx;
	ctp_report *rep;
	json_t *h;

	(void)state;
	fx_init(&fx, "");
	add_flows(&fx, 10);
	sysctl(&fx, "net.netfilter.nf_conntrack_max", "8000");
	rep = run(&fx, &o);
	h = hash_of(rep);
	assert_true(json_is_null(json_object_get(h, "buckets")));
	assert_non_null(strstr(str(h, "skipped"), "no table size"));
	assert_true(json_is_null(json_object_get(h, "histogram")));
	assert_true(json_is_null(json_object_get(h, "chaintoolong_p_next")));
	assert_true(json_is_null(json_object_get(h, "at_max")));
	assert_string_equal(str(h, "algorithm"), "siphash-2-4");
	assert_non_null(finding(rep, "hash.skipped"));
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);

	/* the /sys hashsize file stands in for the sysctl */
	fx_init(&fx, "");
	add_flows(&fx, 10);
	sysctl(&fx, "module.nf_conntrack.hashsize", "1024");
	rep = run(&fx, &o);
	h = hash_of(rep);
	assert_true(num(h, "buckets") == 1024);
	assert_string_equal(str(h, "buckets_source"),
			    "/sys/module/nf_conntrack/parameters/hashsize");
	/* no nf_conntrack_max: no at-max state, and why */
	assert_true(json_is_null(json_object_get(h, "at_max")));
	assert_non_null(strstr(str(h, "at_max_skipped"), "nf_conntrack_max"));
	check_state(h, 1024, 10);
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);
}

/* The kernel: --kernel wins over uname; an old one has no chain limit. */
static void test_kernel_choice(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	ctp_kernel_info k = { "6.1.0-18-amd64", "x86_64", 6, 1, 0, "" };
	fixture fx;
	ctp_report *rep;
	json_t *h;

	(void)state;
	fx_init(&fx, "");
	add_flows(&fx, 100);
	sysctl(&fx, "net.netfilter.nf_conntrack_buckets", "1024");
	ctp_snapshot_set_kernel(fx.snap, &k);
	rep = run(&fx, &o);
	h = hash_of(rep);
	/* Debian's ABI 18 is upstream 6.1.76 (analyzer/kernel.c), after
	 * the 6.1.20 backport of the 50..79 limit */
	assert_string_equal(str(h, "kernel"), "6.1.76");
	assert_string_equal(str(h, "kernel_source"), "uname");
	assert_string_equal(str(h, "era"), "siphash48");
	assert_true(num(json_object_get(h, "chain_limit"), "refuse_from") ==
		    52);
	ctp_report_free(rep);

	o.has_kernel = 1;
	o.kernel = (ctp_kver){ 5, 4, -1 };
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(run_hash_report(fx.snap, &o, rep, NULL), 0);
	h = hash_of(rep);
	assert_string_equal(str(h, "kernel"), "5.4");
	assert_string_equal(str(h, "kernel_source"), "--kernel");
	assert_string_equal(str(h, "algorithm"), "jhash2");
	assert_string_equal(str(h, "era"), "jhash2-netmix");
	assert_true(json_is_null(json_object_get(h, "chain_limit")));
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);
}

/*
 * 2600 entries in 512 buckets (load 10.2) on 5.15.0 (limit 8..31): the
 * chain limit refuses inserts, chains over 8 are common, new flows are
 * refused: warnings and a critical, and no Poisson mismatch reported
 * (the limit explains it) but the capped finding.
 */
static void test_overloaded(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	fixture fx;
	ctp_report *rep;
	json_t *h, *f;

	(void)state;
	fx_init(&fx, "");
	add_flows(&fx, 2600);
	sysctl(&fx, "net.netfilter.nf_conntrack_buckets", "512");
	o.has_kernel = 1;
	o.kernel = (ctp_kver){ 5, 15, 0 };
	rep = run(&fx, &o);
	h = hash_of(rep);
	check_state(h, 512, 2600);
	assert_true(num(h, "refused_share") > 0);
	assert_true(num(h, "chaintoolong_p_next") > 0.01);
	assert_true(num(h, "share_over8") > 0.3);
	f = finding(rep, "hash.chains_over8");
	assert_non_null(f);
	/* without the planner: the fewest buckets for the rule,
	 * 2 * 2600 / 2.906 = 1790 -> 2048, as the action */
	assert_non_null(strstr(str(f, "advice"),
			       "2048 buckets would keep them under 1%"));
	assert_string_equal(str(f, "action"),
			    "raise nf_conntrack_buckets to at least 2048");
	f = finding(rep, "hash.chaintoolong");
	assert_non_null(f);
	assert_string_equal(str(f, "severity"), "critical");
	assert_non_null(finding(rep, "hash.chain_limit_capped"));
	assert_null(finding(rep, "hash.poisson_mismatch"));
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);
}

/*
 * 1000 copies of one flow on 5.4 (no chain limit): one bucket holds
 * 2000 nodes, nothing is refused, so the mismatch is reported.
 */
static void test_poisson_mismatch(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	fixture fx;
	ctp_report *rep;
	json_t *h, *lg;

	(void)state;
	fx_init(&fx, "");
	for (int i = 0; i < 1000; i++) {
		fx.rng = (ctp_rng){ { 1, 2, 3, 4 } };
		add_flows(&fx, 1);
	}
	add_flows(&fx, 1000);
	sysctl(&fx, "net.netfilter.nf_conntrack_buckets", "4096");
	o.has_kernel = 1;
	o.kernel = (ctp_kver){ 5, 4, -1 };
	rep = run(&fx, &o);
	h = hash_of(rep);
	lg = json_object_get(h, "longest");
	assert_true(num(lg, "min") >= 1000);
	assert_true(json_is_true(json_object_get(
		json_object_get(h, "poisson"), "mismatch")));
	assert_true(num(h, "refused_share") == 0);
	assert_non_null(finding(rep, "hash.poisson_mismatch"));
	assert_null(finding(rep, "hash.chain_limit_capped"));
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);
}

/* Same seed, same section; another seed, other keys; --no-hash, none. */
static void test_seed_and_off(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	ctp_error err = CTP_ERROR_INIT;
	ctp_report *r1, *r2, *r3;
	fixture fx;
	char *a, *b, *c;

	(void)state;
	fx_init(&fx, "");
	add_flows(&fx, 3000);
	sysctl(&fx, "net.netfilter.nf_conntrack_buckets", "1024");
	sysctl(&fx, "net.netfilter.nf_conntrack_max", "4000");
	o.seed = 7;
	o.hash_keys = 3;
	r1 = run(&fx, &o);
	assert_int_equal(ctp_report_new(&r2), 0);
	assert_int_equal(run_hash_report(fx.snap, &o, r2, &err), 0);
	o.seed = 8;
	assert_int_equal(ctp_report_new(&r3), 0);
	assert_int_equal(run_hash_report(fx.snap, &o, r3, &err), 0);
	a = json_dumps(hash_of(r1), JSON_SORT_KEYS);
	b = json_dumps(hash_of(r2), JSON_SORT_KEYS);
	c = json_dumps(json_object_get(hash_of(r3), "histogram"), 0);
	assert_string_equal(a, b);
	assert_true(num(hash_of(r1), "keys") == 3);
	free(a);
	a = json_dumps(json_object_get(hash_of(r1), "histogram"), 0);
	assert_string_not_equal(a, c);
	free(a);
	free(b);
	free(c);
	ctp_report_free(r1);
	ctp_report_free(r2);
	ctp_report_free(r3);

	/* the whole pipeline: hash on by default, off with opts.hash = 0 */
	assert_int_equal(ctp_report_new(&r1), 0);
	assert_int_equal(ctp_analyze_run(fx.snap, NULL, r1, &err), 0);
	assert_non_null(json_object_get(ctp_report_root(r1), "hash"));
	ctp_report_free(r1);
	o.hash = 0;
	assert_int_equal(ctp_report_new(&r1), 0);
	assert_int_equal(ctp_analyze_run(fx.snap, &o, r1, &err), 0);
	assert_null(json_object_get(ctp_report_root(r1), "hash"));
	ctp_report_free(r1);
	ctp_snapshot_free(fx.snap);
}

/* Two namespaces share the table; a counters-only input is no listing. */
static void test_namespaces_and_listing(void **state)
{
	ctp_analyze_opts o = CTP_ANALYZE_OPTS_INIT;
	fixture fx;
	ctp_report *rep;
	ctp_error err = CTP_ERROR_INIT;
	ctp_snapshot *s2;
	uint16_t in;
	json_t *h;

	(void)state;
	fx_init(&fx, "");
	add_flows(&fx, 300);
	add_input(&fx, "c1");
	add_flows(&fx, 200);
	sysctl(&fx, "net.netfilter.nf_conntrack_buckets", "1024");
	rep = run(&fx, &o);
	h = hash_of(rep);
	assert_true(num(h, "namespaces") == 2 && num(h, "tables") == 1);
	check_state(h, 1024, 500);
	ctp_report_free(rep);
	ctp_snapshot_free(fx.snap);

	assert_int_equal(ctp_snapshot_new(&s2), 0);
	assert_int_equal(ctp_snapshot_add_input(s2, "S", "", &in), 0);
	ctp_snapshot_input_mut(s2, in)->formats |= CTP_FMT_STATS;
	assert_int_equal(ctp_snapshot_set_sysctl(
				 s2, "net.netfilter.nf_conntrack_buckets", 34,
				 "1024", 4),
			 0);
	assert_int_equal(ctp_snapshot_finalize(s2), 0);
	assert_int_equal(ctp_report_new(&rep), 0);
	assert_int_equal(run_hash_report(s2, &o, rep, &err), 0);
	h = hash_of(rep);
	assert_non_null(strstr(str(h, "skipped"), "no table listing"));
	assert_true(num(h, "buckets") == 1024);
	ctp_report_free(rep);
	ctp_snapshot_free(s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_consistency),
		cmocka_unit_test(test_no_buckets),
		cmocka_unit_test(test_kernel_choice),
		cmocka_unit_test(test_overloaded),
		cmocka_unit_test(test_poisson_mismatch),
		cmocka_unit_test(test_seed_and_off),
		cmocka_unit_test(test_namespaces_and_listing),
	};

	return cmocka_run_group_tests_name("hash_report", tests, NULL, NULL);
}
